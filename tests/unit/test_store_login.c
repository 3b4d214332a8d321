/*
 * test_store_login - the login guard's tables in SQLite (migration 2):
 * alerts (add, open/all/one/by account, acknowledge once), login networks
 * (upsert keeps first, latest, sum), escalation state and weak-password
 * flags, each surviving a close and reopen; events by account and
 * verdict. Texts are cut at STORE_MAX_TEXT like every other record.
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
#include "store/store.h"

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct cfg	 cfg;
	struct store	*st;
	struct mw_arena	*a;
};

static struct mw_cidr
net(struct fixture *f, const char *text)
{
	struct mw_cidr	 c;
	const char	*error = NULL;

	if (mw_cidr_parse(text, &c, f->a, &error) < 0)
		fail_msg("mw_cidr_parse %s: %s", text, error);
	return c;
}

static void
reopen(struct fixture *f)
{
	char *error = NULL;

	store_close(&f->st);
	if (store_open(&f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	log_set_level(LOG_LEVEL_ERROR);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mw-storel-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/mailward.db", f->dir);
	f->cfg.store.backend = "sqlite";
	f->cfg.store.path = f->path;
	f->cfg.store.event_retention = 30 * 86400;
	f->cfg.store.event_max_rows = 1000000;
	f->a = mw_arena_new(4096);
	reopen(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[160];

	store_close(&f->st);
	mw_arena_free(&f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

struct alerts {
	size_t			 n;
	struct store_alert	 a[8];
	char			 text[8][5][600];
};

static bool
collect_alert(void *ctx, const struct store_alert *a)
{
	struct alerts *c = ctx;

	if (c->n == 8)
		return false;
	c->a[c->n] = *a;
	snprintf(c->text[c->n][0], 600, "%s", a->account);
	snprintf(c->text[c->n][1], 600, "%s", a->kind);
	snprintf(c->text[c->n][2], 600, "%s", a->reason);
	snprintf(c->text[c->n][3], 600, "%s", a->evidence);
	snprintf(c->text[c->n][4], 600, "%s", a->ack_by);
	c->n++;
	return true;
}

static void
test_alerts_round_trip(void **state)
{
	struct fixture		*f = *state;
	struct store_alert	 a = { .time = 1763900000, .account = "alice",
	    .kind = "after_failures", .reason = "login after 5 failures",
	    .evidence = "{\"address_failures\":5}" };
	struct store_alert_query q = { .all = false };
	struct alerts		 c = { 0 };
	int64_t			 id1, id2;
	char			 longtext[1000];

	assert_int_equal(mw_addr_parse("203.0.113.9", &a.addr), 0);
	assert_int_equal(store_alert_add(f->st, &a, &id1), 0);
	a.account = "bob";
	a.kind = "new_network";
	memset(longtext, 'r', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	a.reason = longtext;
	assert_int_equal(store_alert_add(f->st, &a, &id2), 0);
	assert_true(id2 > id1 && id1 > 0);
	reopen(f);

	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.a[0].id, id2);	/* newest first */
	assert_string_equal(c.text[0][0], "bob");
	assert_int_equal(strlen(c.text[0][2]), STORE_MAX_TEXT);
	assert_string_equal(c.text[1][0], "alice");
	assert_string_equal(c.text[1][1], "after_failures");
	assert_string_equal(c.text[1][3], "{\"address_failures\":5}");
	assert_string_equal(c.text[1][4], "");
	assert_int_equal(c.a[1].ack_at, 0);
	assert_int_equal(c.a[1].time, 1763900000);
	{
		char buf[MW_ADDR_STRLEN];

		assert_string_equal(mw_addr_format(&c.a[1].addr, buf,
		    sizeof(buf)), "203.0.113.9");
	}

	/* Acknowledge once; a second time finds no open alert. */
	assert_int_equal(store_alert_ack(f->st, id1, "uid 1000", 1763900500), 1);
	assert_int_equal(store_alert_ack(f->st, id1, "uid 0", 1763900600), 0);
	assert_int_equal(store_alert_ack(f->st, 999999, "uid 0", 1), 0);
	reopen(f);
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_int_equal(c.n, 1);	/* only bob's is open */
	assert_int_equal(c.a[0].id, id2);
	memset(&c, 0, sizeof(c));
	q = (struct store_alert_query){ .all = true, .id = id1 };
	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.text[0][4], "uid 1000");
	assert_int_equal(c.a[0].ack_at, 1763900500);
	memset(&c, 0, sizeof(c));
	q = (struct store_alert_query){ .all = true, .account = "alice" };
	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_int_equal(c.n, 1);
	memset(&c, 0, sizeof(c));
	q = (struct store_alert_query){ .all = true, .limit = 1 };
	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_int_equal(c.n, 1);
}

static bool
evidence_len(void *ctx, const struct store_alert *a)
{
	*(size_t *)ctx = strlen(a->evidence);
	return true;
}

/* Alerts are written by the writer thread: a query right after the add
   sees them, ids go on after a reopen, and an evidence longer than an
   event text is kept whole (cut, it would not be JSON any more). */
static void
test_alerts_queued(void **state)
{
	struct fixture		*f = *state;
	struct store_alert	 a = { .time = 1763900000, .account = "carol",
	    .kind = "new_network", .reason = "login from a new network" };
	struct store_alert_query q = { .all = true, .limit = 1 };
	struct alerts		 c = { 0 };
	char			 evidence[3000];
	size_t			 n = 0, len = 0;
	int64_t			 id1, id2;

	n += (size_t)snprintf(evidence, sizeof(evidence), "{\"known_networks\":[");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(evidence + n, sizeof(evidence) - n,
		    "%s\"198.51.%d.0/24\"", i > 0 ? "," : "", i);
	n += (size_t)snprintf(evidence + n, sizeof(evidence) - n, "]}");
	assert_true(n > STORE_MAX_TEXT && n < sizeof(evidence));
	a.evidence = evidence;
	assert_int_equal(mw_addr_parse("198.51.100.7", &a.addr), 0);
	assert_int_equal(store_alert_add(f->st, &a, &id1), 0);
	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.a[0].id, id1);
	assert_int_equal(store_alert_query(f->st, &q, evidence_len, &len), 0);
	assert_int_equal(len, n);
	assert_int_equal(store_alert_ack(f->st, id1, "uid 0", 1763900100), 1);
	reopen(f);
	assert_int_equal(store_alert_add(f->st, &a, &id2), 0);
	assert_int_equal(id2, id1 + 1);
}

struct nets {
	size_t			 n;
	struct store_login_net	 v[8];
	char			 account[8][64];
};

static bool
collect_net(void *ctx, const struct store_login_net *n)
{
	struct nets *c = ctx;

	c->v[c->n] = *n;
	snprintf(c->account[c->n], 64, "%s", n->account);
	c->n++;
	return c->n < 8;
}

static bool queue_nets;	/* test_login_networks through the writer */

static void
save_nets(struct fixture *f, const struct store_login_net *v, size_t n)
{
	if (!queue_nets) {
		assert_int_equal(store_login_net_put_many(f->st, v, n), 0);
		return;
	}
	store_login_net_queue(f->st, v, n);
	store_event_sync(f->st);	/* saved once the writer is done */
}

static void
test_login_networks(void **state)
{
	struct fixture		*f = *state;
	struct store_login_net	 v[3] = {
		{ .account = "alice", .net = net(f, "192.0.2.0/24"),
		  .first_success = 100, .last_success = 200, .successes = 2 },
		{ .account = "alice", .net = net(f, "2001:db8:1:2::/64"),
		  .first_success = 300, .last_success = 300, .successes = 1 },
		{ .account = "bob", .net = net(f, "192.0.2.0/24"),
		  .first_success = 50, .last_success = 60, .successes = 1 },
	};
	struct nets		 c = { 0 };
	char			 buf[MW_CIDR_STRLEN];

	save_nets(f, v, 3);
	/* The same network again: earliest first, latest last, sum. */
	v[0].first_success = 150;
	v[0].last_success = 400;
	v[0].successes = 3;
	save_nets(f, v, 1);
	if (!queue_nets)
		reopen(f);
	assert_int_equal(store_login_net_query(f->st, "alice", 0, collect_net,
	    &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(mw_cidr_format(&c.v[0].net, buf, sizeof(buf)),
	    "192.0.2.0/24");
	assert_int_equal(c.v[0].first_success, 100);
	assert_int_equal(c.v[0].last_success, 400);
	assert_int_equal(c.v[0].successes, 5);
	assert_string_equal(mw_cidr_format(&c.v[1].net, buf, sizeof(buf)),
	    "2001:db8:1:2::/64");
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_login_net_query(f->st, NULL, 250, collect_net,
	    &c), 0);
	assert_int_equal(c.n, 2);	/* bob's is older than 250 */
	memset(&c, 0, sizeof(c));
	assert_int_equal(store_login_net_query(f->st, "", 0, collect_net, &c), 0);
	assert_int_equal(c.n, 3);
	save_nets(f, v, 0);
}

/* The same through the event writer's queue: visible after a sync. */
static void
test_login_networks_queued(void **state)
{
	queue_nets = true;
	test_login_networks(state);
	queue_nets = false;
}

static void
test_escalation_and_weak(void **state)
{
	struct fixture		*f = *state;
	struct store_escalation	 e = { .net = net(f, "203.0.113.9"),
	    .level = 2, .bans = 3, .last_ban = 1763900000 }, got;
	struct mw_cidr		 other = net(f, "203.0.113.10");
	int64_t			 since;

	assert_int_equal(store_escalation_get(f->st, &e.net, &got), 0);
	assert_int_equal(store_escalation_put(f->st, &e), 0);
	reopen(f);
	assert_int_equal(store_escalation_get(f->st, &e.net, &got), 1);
	assert_int_equal(got.level, 2);
	assert_int_equal(got.bans, 3);
	assert_int_equal(got.last_ban, 1763900000);
	assert_int_equal(store_escalation_get(f->st, &other, &got), 0);
	e.level = 3;
	assert_int_equal(store_escalation_put(f->st, &e), 0);
	assert_int_equal(store_escalation_get(f->st, &e.net, &got), 1);
	assert_int_equal(got.level, 3);

	assert_int_equal(store_weak_get(f->st, "carol", &since), 0);
	assert_int_equal(store_weak_put(f->st, "carol", 1763900000), 0);
	reopen(f);
	assert_int_equal(store_weak_get(f->st, "carol", &since), 1);
	assert_int_equal(since, 1763900000);
	assert_int_equal(store_weak_put(f->st, "carol", 0), 0);	/* cleared */
	assert_int_equal(store_weak_get(f->st, "carol", &since), 0);
}

static bool
count_ev(void *ctx, const struct store_event *ev)
{
	(void)ev;
	(*(size_t *)ctx)++;
	return true;
}

static void
test_events_by_account(void **state)
{
	struct fixture		*f = *state;
	struct store_event	 ev = { .time_ms = (int64_t)time(NULL) * 1000, .listener =
	    "authpolicy", .verdict = "AUTH_FAIL", .reason = "imap",
	    .account = "alice", .sender = "", .recipient = "" };
	struct store_event_query q = { .account = "alice" };
	size_t			 n = 0;

	assert_int_equal(mw_addr_parse("203.0.113.9", &ev.addr), 0);
	store_event_append(f->st, &ev);
	store_event_append(f->st, &ev);
	ev.verdict = "AUTH_OK";
	store_event_append(f->st, &ev);
	ev.account = "bob";
	store_event_append(f->st, &ev);
	store_event_sync(f->st);
	assert_int_equal(store_event_query(f->st, &q, count_ev, &n), 0);
	assert_int_equal(n, 3);
	n = 0;
	q.verdict = "AUTH_FAIL";
	assert_int_equal(store_event_query(f->st, &q, count_ev, &n), 0);
	assert_int_equal(n, 2);
	n = 0;
	q.limit = 1;
	assert_int_equal(store_event_query(f->st, &q, count_ev, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	q = (struct store_event_query){ .account = "nobody" };
	assert_int_equal(store_event_query(f->st, &q, count_ev, &n), 0);
	assert_int_equal(n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alerts_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_alerts_queued, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_login_networks_queued,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_networks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_escalation_and_weak, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_events_by_account, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
