/*
 * test_engine_weakpw - the weak-password check: Dovecot 2.3's
 * hashed_password reproduced (the test vector of Dovecot 2.3.19.1 for
 * nonce "s3cr3t", alice@example.org: "Secret123" -> 010d, "wrong" ->
 * 0d0c at 12 bits), truncation at odd bit counts, the per-login cache,
 * matches of listed and login-derived passwords; then through the engine
 * (32-bit hashes as configured): an account flagged on a successful login
 * with a common password and cleared after a change, nothing flagged when
 * the hash length does not match the configuration, and password
 * spraying with one common password banned across accounts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "engine/engine.h"
#include "engine/weakpw.h"

static void
hex(const uint8_t *h, size_t n, char *buf)
{
	for (size_t i = 0; i < n; i++)
		(void)snprintf(buf + 2 * i, 3, "%02x", h[i]);
}

static void
test_dovecot_vector(void **state)
{
	uint8_t	 h[WEAKPW_HASH_MAX];
	char	 text[2 * WEAKPW_HASH_MAX + 1];
	size_t	 n;

	(void)state;
	n = weakpw_dovecot_hash("s3cr3t", "alice@example.org", "Secret123", 12, h);
	assert_int_equal(n, 2);
	hex(h, n, text);
	assert_string_equal(text, "010d");
	n = weakpw_dovecot_hash("s3cr3t", "alice@example.org", "wrong", 12, h);
	hex(h, n, text);
	assert_string_equal(text, "0d0c");
	/* The whole digest starts 10dbcbb6 (protocols.md 2.3)... */
	n = weakpw_dovecot_hash("s3cr3t", "alice@example.org", "Secret123", 0, h);
	assert_int_equal(n, 32);
	hex(h, 4, text);
	assert_string_equal(text, "10dbcbb6");
	/* ...so 32 bits are those bytes, and 13 bits the first 13 bits. */
	n = weakpw_dovecot_hash("s3cr3t", "alice@example.org", "Secret123", 32, h);
	assert_int_equal(n, 4);
	hex(h, n, text);
	assert_string_equal(text, "10dbcbb6");
	n = weakpw_dovecot_hash("s3cr3t", "alice@example.org", "Secret123", 13, h);
	hex(h, n, text);
	assert_string_equal(text, "021b");	/* 0x10db >> 3 */
}

static void
test_cache_and_match(void **state)
{
	struct weakpw_cache	*c = weakpw_cache_new();
	uint8_t			 h[WEAKPW_HASH_MAX];
	uint64_t		 first;

	(void)state;
	assert_true(weakpw_count() >= 100);
	assert_string_equal(weakpw_password(0), "123456");
	assert_null(weakpw_password(weakpw_count()));
	(void)weakpw_dovecot_hash("n", "bob@example.org", "password", 32, h);
	assert_int_equal(weakpw_match(c, "n", "bob@example.org", 32, h), 1);
	first = weakpw_cache_computed(c);
	assert_true(first > 100);
	/* Cached: no more hashing for the same login. */
	(void)weakpw_dovecot_hash("n", "bob@example.org", "qwerty", 32, h);
	assert_int_equal(weakpw_match(c, "n", "bob@example.org", 32, h), 5);
	assert_int_equal(weakpw_cache_computed(c), first);
	/* The login's own name, and with 123. */
	(void)weakpw_dovecot_hash("n", "bob@example.org", "bob123", 32, h);
	assert_int_equal(weakpw_match(c, "n", "bob@example.org", 32, h),
	    (int)weakpw_count() + 2);
	/* A good password does not match. */
	(void)weakpw_dovecot_hash("n", "bob@example.org", "c0rrect-h0rse", 32, h);
	assert_int_equal(weakpw_match(c, "n", "bob@example.org", 32, h), -1);
	/* Another nonce: the cache is rebuilt, the old hash no longer
	   matches. */
	(void)weakpw_dovecot_hash("n", "bob@example.org", "password", 32, h);
	assert_int_equal(weakpw_match(c, "other", "bob@example.org", 32, h), -1);
	assert_true(weakpw_cache_computed(c) > first);
	assert_int_equal(weakpw_match(c, "n", "", 32, h), -1);
	weakpw_cache_free(&c);
	assert_null(c);
}

/* --- through the engine ------------------------------------------------ */

struct fixture {
	char		 dir[64];
	struct cfg	*cfg;
	struct store	*st;
	struct engine	*e;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		*error = NULL, *path;
	FILE		*fp;

	log_set_level(LOG_LEVEL_ERROR);
	strcpy(f->dir, "/tmp/mw-weakpw-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_true(asprintf(&path, "%s/mailward.conf", f->dir) > 0);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "[daemon]\nuser =\nstate_dir = %s\n[authpolicy]\n"
	    "hash_nonce = n0nce\nhash_truncate = 32\n[login]\n"
	    "weak_password = yes\nspray_accounts = 50\n", f->dir);
	assert_int_equal(fclose(fp), 0);
	if (cfg_load(path, &f->cfg, &error) < 0)
		fail_msg("cfg_load: %s", error);
	free(path);
	if (store_open(f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
	if (engine_new(NULL, f->cfg, f->st, NULL, &f->e, &error) < 0)
		fail_msg("engine_new: %s", error);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	engine_free(&f->e);
	store_close(&f->st);
	cfg_free(&f->cfg);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
login(struct fixture *f, const char *addr, const char *account,
    const char *password, uint32_t bits, enum auth_phase phase)
{
	struct auth_observation o = { .source = "authpolicy", .service = "imap",
	    .has_addr = true, .account = account, .phase = phase };

	assert_int_equal(mw_addr_parse(addr, &o.addr), 0);
	(void)weakpw_dovecot_hash("n0nce", account, password, bits, o.pwhash);
	o.pwhash_bits = bits;
	engine_auth_report(f->e, &o);
}

static void
test_engine_flags_weak(void **state)
{
	struct fixture	*f = *state;
	int64_t		 since;

	login(f, "192.0.2.1", "carol@example.org", "letmein", 32,
	    AUTH_PHASE_SUCCESS);
	assert_int_equal(store_weak_get(f->st, "carol@example.org", &since), 1);
	assert_true(since > 0);
	/* A failed login with a common password flags nothing. */
	login(f, "192.0.2.1", "dave@example.org", "letmein", 32,
	    AUTH_PHASE_FAILURE);
	assert_int_equal(store_weak_get(f->st, "dave@example.org", &since), 0);
	/* carol changed her password. */
	login(f, "192.0.2.1", "carol@example.org", "Tr0ub4dor&3-staple", 32,
	    AUTH_PHASE_SUCCESS);
	assert_int_equal(store_weak_get(f->st, "carol@example.org", &since), 0);
	/* A hash of another length than configured is not compared: it
	   neither flags nor clears. */
	login(f, "192.0.2.1", "erin@example.org", "123456", 12,
	    AUTH_PHASE_SUCCESS);
	assert_int_equal(store_weak_get(f->st, "erin@example.org", &since), 0);
	login(f, "192.0.2.1", "erin@example.org", "123456", 32,
	    AUTH_PHASE_SUCCESS);
	assert_int_equal(store_weak_get(f->st, "erin@example.org", &since), 1);
	login(f, "192.0.2.1", "erin@example.org", "Tr0ub4dor&3-staple", 12,
	    AUTH_PHASE_SUCCESS);
	assert_int_equal(store_weak_get(f->st, "erin@example.org", &since), 1);
	/* The flag is cached per login and follows the store across a
	   restart: a change after the restart still clears it. */
	engine_free(&f->e);
	{
		char *error = NULL;

		if (engine_new(NULL, f->cfg, f->st, NULL, &f->e, &error) < 0)
			fail_msg("engine_new: %s", error);
	}
	login(f, "192.0.2.1", "erin@example.org", "Tr0ub4dor&3-staple", 32,
	    AUTH_PHASE_SUCCESS);
	assert_int_equal(store_weak_get(f->st, "erin@example.org", &since), 0);
}

static void
test_engine_common_password_spray(void **state)
{
	struct fixture		*f = *state;
	struct store_ban	 ban;
	struct mw_addr		 a;
	char			 account[32];

	/* One address tries "Summer2025" on five accounts. */
	for (int i = 0; i < 5; i++) {
		(void)snprintf(account, sizeof(account), "user%d@example.org", i);
		login(f, "203.0.113.66", account, "Summer2025", 32,
		    AUTH_PHASE_FAILURE);
	}
	assert_int_equal(mw_addr_parse("203.0.113.66", &a), 0);
	assert_true(engine_ban_find(f->e, &a, &ban));
	assert_string_equal(ban.reason, "password spraying: one common password "
	    "tried on 5 accounts in 10m");
	/* Five different uncommon passwords on five accounts: not this rule. */
	for (int i = 0; i < 5; i++) {
		char pw[32];

		(void)snprintf(account, sizeof(account), "user%d@example.org", i);
		(void)snprintf(pw, sizeof(pw), "x-%d-unlisted", i);
		login(f, "203.0.113.67", account, pw, 32, AUTH_PHASE_FAILURE);
	}
	assert_int_equal(mw_addr_parse("203.0.113.67", &a), 0);
	assert_false(engine_ban_find(f->e, &a, &ban));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot_vector),
		cmocka_unit_test(test_cache_and_match),
		cmocka_unit_test_setup_teardown(test_engine_flags_weak, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_engine_common_password_spray,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
