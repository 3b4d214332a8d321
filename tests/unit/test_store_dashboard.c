/*
 * test_store_dashboard - the dashboard's tables in the SQLite store:
 * admins (put/get/list/del, survive a reopen), the audit log (newest
 * first, time and actor filters), the per-minute counts the event writer
 * keeps (DUNNO not counted, minutes folded, retention), the top lists
 * (verdict filter, /24 and /64 grouping, accounts, order, limit) and the
 * event hook.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "store/store.h"

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct cfg	 cfg;
	struct store	*st;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		*error = NULL;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mw-store-dash-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/mailward.db", f->dir);
	f->cfg.store.backend = "sqlite";
	f->cfg.store.path = f->path;
	f->cfg.store.event_retention = 30 * 86400;
	f->cfg.store.event_max_rows = 1000000;
	if (store_open(&f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 p[160];

	store_close(&f->st);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, i == 0 ? "" : i == 1 ?
		    "-wal" : "-shm");
		(void)unlink(p);
	}
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

static int64_t
now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* --- admins ------------------------------------------------------------------ */

struct admin_seen {
	char	 names[8][80];
	char	 hash[200], lang[16];
	size_t	 n;
};

static bool
admin_fn(void *ctx, const struct store_admin *a)
{
	struct admin_seen *s = ctx;

	if (s->n < 8)
		snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", a->name);
	snprintf(s->hash, sizeof(s->hash), "%s", a->pwhash);
	snprintf(s->lang, sizeof(s->lang), "%s", a->language);
	return true;
}

static void
test_admins(void **state)
{
	struct fixture		*f = *state;
	struct admin_seen	 s = { .n = 0 };
	struct store_admin	 bob = { .name = "bob", .pwhash = "$argon2id$bob",
	    .language = "", .created = 10, .updated = 10 };
	struct store_admin	 alice = { .name = "alice",
	    .pwhash = "$argon2id$alice", .language = "ja", .created = 20,
	    .updated = 20 };
	char			*error = NULL;

	assert_int_equal(store_admin_get(f->st, "alice", admin_fn, &s), 0);
	assert_int_equal(store_admin_put(f->st, &bob), 0);
	assert_int_equal(store_admin_put(f->st, &alice), 0);
	assert_int_equal(store_admin_list(f->st, admin_fn, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "alice");	/* name order */
	assert_string_equal(s.names[1], "bob");
	/* replace: a new password */
	alice.pwhash = "$argon2id$new";
	assert_int_equal(store_admin_put(f->st, &alice), 0);
	/* committed: a reopened store has them */
	store_close(&f->st);
	assert_int_equal(store_open(&f->cfg, &f->st, &error), 0);
	s.n = 0;
	assert_int_equal(store_admin_get(f->st, "alice", admin_fn, &s), 1);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.hash, "$argon2id$new");
	assert_string_equal(s.lang, "ja");
	assert_int_equal(store_admin_del(f->st, "alice"), 1);
	assert_int_equal(store_admin_del(f->st, "alice"), 0);
	s.n = 0;
	assert_int_equal(store_admin_list(f->st, admin_fn, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "bob");
	/* names are compared exactly (no LIKE, no case folding) */
	assert_int_equal(store_admin_get(f->st, "BOB", admin_fn, &s), 0);
	assert_int_equal(store_admin_get(f->st, "b%", admin_fn, &s), 0);
}

/* --- audit ------------------------------------------------------------------- */

struct audit_seen {
	char	 actions[16][32];
	size_t	 n;
};

static bool
audit_fn(void *ctx, const struct store_audit *a)
{
	struct audit_seen *s = ctx;

	if (s->n < 16)
		snprintf(s->actions[s->n++], sizeof(s->actions[0]), "%s",
		    a->action);
	return true;
}

static void
test_audit(void **state)
{
	struct fixture			*f = *state;
	struct audit_seen		 s = { .n = 0 };
	struct store_audit_query	 q = { .limit = 0 };
	static const char *const	 actions[] = { "ban", "unban", "login",
	    "admin_add" };

	for (size_t i = 0; i < 4; i++) {
		struct store_audit a = { .time_ms = 1000 * (int64_t)(i + 1),
		    .actor = i == 3 ? "uid 0" : "alice",
		    .origin = i == 3 ? "unix uid 0" : "127.0.0.1:4000",
		    .action = actions[i], .target = "203.0.113.9",
		    .detail = "" };

		assert_int_equal(store_audit_append(f->st, &a), 0);
	}
	assert_int_equal(store_audit_query(f->st, &q, audit_fn, &s), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.actions[0], "admin_add");	/* newest first */
	assert_string_equal(s.actions[3], "ban");
	s.n = 0;
	q = (struct store_audit_query){ .since_ms = 2000, .until_ms = 3000 };
	assert_int_equal(store_audit_query(f->st, &q, audit_fn, &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.actions[0], "login");
	s.n = 0;
	q = (struct store_audit_query){ .actor = "uid 0" };
	assert_int_equal(store_audit_query(f->st, &q, audit_fn, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.actions[0], "admin_add");
	s.n = 0;
	q = (struct store_audit_query){ .limit = 1 };
	assert_int_equal(store_audit_query(f->st, &q, audit_fn, &s), 0);
	assert_int_equal(s.n, 1);
}

/* --- counts, top, hook --------------------------------------------------------- */

struct count_sum {
	uint64_t	 reject, auth_fail, dunno;
	size_t		 rows;
	int64_t		 minutes[8];
};

static bool
count_fn(void *ctx, const struct store_count *c)
{
	struct count_sum *s = ctx;

	if (s->rows < 8)
		s->minutes[s->rows] = c->minute_ms;
	s->rows++;
	if (strcmp(c->verdict, "REJECT") == 0)
		s->reject += c->n;
	else if (strcmp(c->verdict, "AUTH_FAIL") == 0)
		s->auth_fail += c->n;
	else if (strcmp(c->verdict, "DUNNO") == 0)
		s->dunno += c->n;
	return true;
}

static void
append(struct fixture *f, int64_t t, const char *addr, const char *listener,
    const char *verdict, const char *account)
{
	struct store_event ev = { .time_ms = t, .listener = listener,
	    .verdict = verdict, .reason = "test", .account = account,
	    .sender = "", .recipient = "" };

	assert_int_equal(mw_addr_parse(addr, &ev.addr), 0);
	store_event_append(f->st, &ev);
}

struct top_seen {
	char	 keys[8][64];
	uint64_t n[8];
	size_t	 count;
};

static bool
top_fn(void *ctx, const struct store_top_row *r)
{
	struct top_seen *s = ctx;

	if (s->count < 8) {
		if (r->account[0] != '\0')
			snprintf(s->keys[s->count], sizeof(s->keys[0]), "%s",
			    r->account);
		else
			mw_cidr_format(&r->net, s->keys[s->count],
			    sizeof(s->keys[0]));
		s->n[s->count++] = r->n;
	}
	return true;
}

static size_t hook_calls;

static void
hook_fn(void *ctx, const struct store_event *ev)
{
	(void)ctx;
	if (strcmp(ev->verdict, "REJECT") == 0)
		hook_calls++;
}

static void
test_counts_and_top(void **state)
{
	struct fixture		*f = *state;
	struct count_sum	 s = { .rows = 0 };
	struct top_seen		 t = { .count = 0 };
	struct store_top_query	 q;
	int64_t			 m0 = (now_ms() / 60000 - 10) * 60000;

	store_set_event_hook(f->st, hook_fn, NULL);
	/* minute 0: 3 REJECT from 203.0.113.9, 1 from .10, 5 DUNNO */
	for (int i = 0; i < 3; i++)
		append(f, m0 + 1000 * i, "203.0.113.9", "policy", "REJECT", "");
	append(f, m0 + 59999, "203.0.113.10", "policy", "REJECT", "");
	for (int i = 0; i < 5; i++)
		append(f, m0 + 5, "192.0.2.1", "policy", "DUNNO", "");
	/* minute 1: login failures from an IPv6 /64 on one account */
	append(f, m0 + 60000, "2001:db8:1:2::5", "authpolicy", "AUTH_FAIL",
	    "bob@example.com");
	append(f, m0 + 60001, "2001:db8:1:2::6", "authpolicy", "AUTH_FAIL",
	    "bob@example.com");
	append(f, m0 + 60002, "2001:db8:1:3::6", "authpolicy", "AUTH_FAIL",
	    "carol@example.com");
	{
		/* one event standing for 4 failures of one second */
		struct store_event ev = { .time_ms = m0 + 60004,
		    .listener = "authpolicy", .verdict = "AUTH_FAIL",
		    .reason = "imap (4 logins in 1 s)", .account = "dan",
		    .sender = "", .recipient = "", .count = 4 };

		assert_int_equal(mw_addr_parse("198.51.100.77", &ev.addr), 0);
		store_event_append(f->st, &ev);
	}
	store_event_sync(f->st);
	store_set_event_hook(f->st, NULL, NULL);
	append(f, m0 + 60003, "203.0.113.11", "policy", "REJECT", "");
	store_event_sync(f->st);
	assert_int_equal(hook_calls, 4);	/* not after its removal */

	assert_int_equal(store_count_query(f->st, m0, m0 + 120000 - 1, count_fn,
	    &s), 0);
	assert_int_equal(s.reject, 5);
	assert_int_equal(s.auth_fail, 7);	/* 3 events, and one of count 4 */
	assert_int_equal(s.dunno, 0);		/* DUNNO is not counted */
	assert_int_equal(s.rows, 3);		/* one row per minute and kind */
	assert_int_equal(s.minutes[0], m0);
	assert_int_equal(s.minutes[2] % 60000, 0);
	/* only the asked minutes */
	s = (struct count_sum){ .rows = 0 };
	assert_int_equal(store_count_query(f->st, m0 + 60000, m0 + 120000,
	    count_fn, &s), 0);
	assert_int_equal(s.reject, 1);
	assert_int_equal(s.auth_fail, 7);

	q = (struct store_top_query){ .since_ms = m0, .until_ms = m0 + 120000,
	    .key = STORE_TOP_ADDR, .verdicts = { "REJECT", "AUTH_FAIL" },
	    .limit = 2 };
	/* sums of the events' counts, not numbers of rows */
	assert_int_equal(store_event_top(f->st, &q, top_fn, &t), 0);
	assert_int_equal(t.count, 2);
	assert_string_equal(t.keys[0], "198.51.100.77");
	assert_int_equal(t.n[0], 4);
	assert_string_equal(t.keys[1], "203.0.113.9");
	assert_int_equal(t.n[1], 3);
	t.count = 0;
	q.key = STORE_TOP_NET;
	q.limit = 10;
	assert_int_equal(store_event_top(f->st, &q, top_fn, &t), 0);
	assert_int_equal(t.count, 4);
	assert_string_equal(t.keys[0], "203.0.113.0/24");
	assert_int_equal(t.n[0], 5);
	assert_string_equal(t.keys[1], "198.51.100.0/24");
	assert_int_equal(t.n[1], 4);
	assert_string_equal(t.keys[2], "2001:db8:1:2::/64");
	assert_int_equal(t.n[2], 2);
	t.count = 0;
	q.key = STORE_TOP_ACCOUNT;
	assert_int_equal(store_event_top(f->st, &q, top_fn, &t), 0);
	assert_int_equal(t.count, 3);
	assert_string_equal(t.keys[0], "dan");
	assert_int_equal(t.n[0], 4);
	assert_string_equal(t.keys[1], "bob@example.com");
	assert_int_equal(t.n[1], 2);
	/* the verdict filter: DUNNO only */
	t.count = 0;
	q = (struct store_top_query){ .since_ms = m0, .until_ms = m0 + 120000,
	    .key = STORE_TOP_ADDR, .verdicts = { "DUNNO" }, .limit = 10 };
	assert_int_equal(store_event_top(f->st, &q, top_fn, &t), 0);
	assert_int_equal(t.count, 1);
	assert_string_equal(t.keys[0], "192.0.2.1");
	assert_int_equal(t.n[0], 5);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_admins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counts_and_top, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
