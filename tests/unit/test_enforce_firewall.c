/*
 * test_enforce_firewall - the daemon's side of the firewall with a real
 * engine, store and helper, in a network namespace of the test's own:
 * the start-up load holds the bans and the allow list, changes made in
 * one loop turn go out as one transaction, the allow sets follow the
 * allow list, and a disabled firewall says why. Skipped without
 * namespaces.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
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

#include <event2/event.h>

#include "core/log.h"
#include "enforce/firewall.h"
#include "enforce/nft.h"
#include "engine/engine.h"

static bool have_netns;

static int
write_file(const char *path, const char *text)
{
	int	fd = open(path, O_WRONLY);
	ssize_t	n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void
enter_netns(void)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (unshare(CLONE_NEWNET) == 0) {
		have_netns = true;
		return;
	}
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return;
	(void)snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return;
	(void)write_file("/proc/self/setgroups", "deny");
	(void)snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	have_netns = write_file("/proc/self/gid_map", map) == 0;
}

struct fixture {
	char			 dir[64];
	struct cfg		*cfg;
	struct store		*st;
	struct engine		*e;
	struct event_base	*base;
};

static void
fixture_open(struct fixture *f, const char *firewall)
{
	char	 text[512], *error = NULL;
	int	 n;

	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/mw-fwtest-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	n = snprintf(text, sizeof(text), "[daemon]\nuser =\nstate_dir = %s\n"
	    "[dnsbl]\nenabled = no\n[lists]\nallow = 192.0.2.0/24\n"
	    "[firewall]\ntable = mwfwtest\n%s", f->dir, firewall);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	if (cfg_load_string(text, (size_t)n, "t.conf", &f->cfg, &error) < 0)
		fail_msg("cfg: %s", error);
	f->base = event_base_new();
	if (store_open(f->cfg, &f->st, &error) < 0 ||
	    engine_new(f->base, f->cfg, f->st, NULL, &f->e, &error) < 0)
		fail_msg("setup: %s", error);
}

static void
fixture_close(struct fixture *f)
{
	char cmd[128];

	engine_free(&f->e);
	store_close(&f->st);
	cfg_free(&f->cfg);
	event_base_free(f->base);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
}

static void
ban(struct fixture *f, const char *text, uint64_t duration)
{
	struct mw_cidr	 net;
	const char	*error;

	assert_int_equal(mw_cidr_parse(text, &net, NULL, &error), 0);
	if (engine_ban_add(f->e, &net, duration, STORE_BAN_MANUAL, "test",
	    NULL, &error) < 0)
		fail_msg("ban %s: %s", text, error);
}

/* Runs the loop until the firewall has answered every transaction sent
   (and at least want_tx in all), or 10 s. */
static void
run_until(struct fixture *f, struct firewall *fw, uint64_t want_tx,
    size_t want_allow)
{
	struct firewall_status	s;
	time_t			end = time(NULL) + 10;

	for (;;) {
		(void)event_base_loop(f->base, EVLOOP_NONBLOCK);
		firewall_get_status(fw, &s);
		if (s.state == FIREWALL_RUNNING && s.transactions >= want_tx &&
		    s.queued_bytes == 0 && s.allow_elements == want_allow)
			return;
		if (time(NULL) > end)
			fail_msg("firewall: state %s, %llu transactions (want %llu), "
			    "%llu allow elements: %s", firewall_state_name(s.state),
			    (unsigned long long)s.transactions,
			    (unsigned long long)want_tx,
			    (unsigned long long)s.allow_elements, s.last_error);
		usleep(5000);
	}
}

static bool
set_has(const char *set, const char *text)
{
	struct enforce_nft_cfg	 c = { .priority = -10 };
	struct enforce_nft	*n;
	const char		*out, *error;
	char			 cmd[96];
	bool			 found;

	(void)snprintf(c.table, sizeof(c.table), "mwfwtest");
	n = enforce_nft_new(&c);
	(void)snprintf(cmd, sizeof(cmd), "list set inet mwfwtest %s", set);
	if (enforce_nft_run(n, cmd, false, &out, &error) < 0)
		fail_msg("%s: %s", cmd, error);
	found = strstr(out, text) != NULL;
	enforce_nft_free(&n);
	return found;
}

static void
test_firewall_follows_the_engine(void **state)
{
	struct fixture		 f;
	struct firewall		*fw;
	struct firewall_status	 s;
	struct mw_cidr		 net;
	const char		*error;
	char			 addr[32];

	(void)state;
	if (!have_netns)
		skip();
	fixture_open(&f, "enabled = yes\n");
	ban(&f, "203.0.113.9", 3600);
	ban(&f, "2001:db8::bad", 0);
	ban(&f, "198.51.100.0/24", 600);
	ban(&f, "10.0.0.0/8", 600);
	ban(&f, "10.1.0.0/16", 3600);	/* inside the /8: left out */
	fw = firewall_start(f.cfg, 0, 0, LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	firewall_attach(fw, f.base, f.e);
	run_until(&f, fw, 1, 1);
	firewall_get_status(fw, &s);
	assert_int_equal(s.resyncs, 1);
	assert_int_equal(s.last_resync_elements, 5);
	assert_int_equal(s.elements, 5);
	assert_int_equal(s.transaction_errors, 0);
	assert_int_equal(s.worker_starts, 1);
	assert_true(s.helper_pid > 0 && s.worker_pid > 0);
	assert_string_equal(s.table, "inet mwfwtest");
	assert_true(set_has("ban4", "203.0.113.9 timeout"));
	assert_true(set_has("ban6", "2001:db8::bad"));
	assert_false(set_has("ban6", "2001:db8::bad timeout"));	/* permanent */
	assert_true(set_has("bannet4", "198.51.100.0/24 timeout"));
	assert_true(set_has("bannet4", "10.0.0.0/8 timeout"));
	assert_false(set_has("bannet4", "10.1.0.0/16"));
	assert_true(set_has("allow4", "192.0.2.0/24"));

	/* 100 bans and an unban in one loop turn: one transaction */
	for (int i = 0; i < 100; i++) {
		(void)snprintf(addr, sizeof(addr), "10.7.0.%d", i + 1);
		ban(&f, addr, 60);
	}
	assert_int_equal(mw_cidr_parse("203.0.113.9", &net, NULL, &error), 0);
	assert_int_equal(engine_ban_del(f.e, &net, &error), 1);
	run_until(&f, fw, 2, 1);
	firewall_get_status(fw, &s);
	assert_int_equal(s.transactions, 2);
	assert_int_equal(s.transaction_errors, 0);
	assert_int_equal(s.elements, 5 + 100 - 1);
	assert_true(set_has("ban4", "10.7.0.100 timeout"));
	assert_false(set_has("ban4", "203.0.113.9"));
	/* a refresh is no new element */
	ban(&f, "10.7.0.1", 7200);
	run_until(&f, fw, 3, 1);
	firewall_get_status(fw, &s);
	assert_int_equal(s.elements, 104);
	assert_true(set_has("ban4", "10.7.0.1 timeout 2h"));

	/* the allow sets follow the allow list (checked every second) */
	assert_int_equal(mw_cidr_parse("2001:db8:1::/48", &net, NULL, &error), 0);
	assert_int_equal(engine_list_add(f.e, STORE_LIST_ALLOW, &net, "t",
	    &error), 0);
	run_until(&f, fw, 4, 2);
	assert_true(set_has("allow6", "2001:db8:1::/48"));

	/* a network around a banned network: the sets are reloaded (a
	   plain add would make the kernel refuse the transaction) */
	ban(&f, "198.51.0.0/16", 600);
	run_until(&f, fw, 5, 2);
	firewall_get_status(fw, &s);
	assert_int_equal(s.resyncs, 2);
	assert_true(set_has("bannet4", "198.51.0.0/16"));
	assert_false(set_has("bannet4", "198.51.100.0/24"));
	/* the outer network lifted: the inner one goes in */
	assert_int_equal(mw_cidr_parse("10.0.0.0/8", &net, NULL, &error), 0);
	assert_int_equal(engine_ban_del(f.e, &net, &error), 1);
	run_until(&f, fw, 6, 2);
	firewall_get_status(fw, &s);
	assert_int_equal(s.resyncs, 3);
	assert_true(set_has("bannet4", "10.1.0.0/16 timeout"));
	assert_false(set_has("bannet4", "10.0.0.0/8"));
	assert_int_equal(s.transaction_errors, 0);
	assert_int_equal(s.elements_failed, 0);

	firewall_free(&fw);
	assert_null(fw);
	/* the helper is gone, the table stays */
	assert_true(set_has("ban4", "10.7.0.1"));
	fixture_close(&f);
}

static void
test_firewall_disabled(void **state)
{
	struct fixture		 f;
	struct firewall		*fw;
	struct firewall_status	 s;

	(void)state;
	fixture_open(&f, "enabled = no\n");
	fw = firewall_start(f.cfg, 0, 0, LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	firewall_attach(fw, f.base, f.e);
	firewall_get_status(fw, &s);
	assert_int_equal(s.state, FIREWALL_DISABLED);
	assert_non_null(strstr(s.reason, "[firewall] enabled = no; set "
	    "enabled = yes"));
	assert_int_equal(s.helper_pid, 0);
	ban(&f, "203.0.113.9", 60);	/* no hook, nothing breaks */
	firewall_free(&fw);
	fixture_close(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_firewall_follows_the_engine),
		cmocka_unit_test(test_firewall_disabled),
	};

	log_open("test_enforce_firewall", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	enter_netns();
	if (!have_netns)
		fprintf(stderr, "test_enforce_firewall: no network namespace "
		    "(%s); firewall tests skipped\n", strerror(errno));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
