/*
 * test_engine_decide - the decision order (allow > deny > ban >
 * authenticated > DNSBL), reject texts, admin actions and their
 * persistence, against a real SQLite store in a temporary directory.
 * DNSBL answers are covered by the integration tests (real rbldnsd).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <event2/event.h>

#include "core/log.h"
#include "engine/engine.h"

struct fixture {
	char		 dir[64];
	char		*conf_path;
	struct cfg	*cfg;
	struct store	*st;
	struct engine	*e;
	struct mw_arena	*a;
};

static const char conf_text[] =
	"[daemon]\n"
	"user =\n"
	"[lists]\n"
	"allow = 192.0.2.0/24\n"
	"deny = 198.51.100.0/24\n"
	"[policy]\n"
	"reject_text = Denied: %s (100%% sure)\n";

static void
fixture_open(struct fixture *f)
{
	char	*error = NULL;
	FILE	*fp;

	if (asprintf(&f->conf_path, "%s/mailward.conf", f->dir) < 0)
		fail();
	assert_non_null(fp = fopen(f->conf_path, "w"));
	fprintf(fp, "%s[daemon]\nstate_dir = %s\n", conf_text, f->dir);
	assert_int_equal(fclose(fp), 0);
	if (cfg_load(f->conf_path, &f->cfg, &error) < 0)
		fail_msg("cfg_load: %s", error);
	if (store_open(f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
	if (engine_new(NULL, f->cfg, f->st, NULL, &f->e, &error) < 0)
		fail_msg("engine_new: %s", error);
	f->a = mw_arena_new(4096);
}

static void
fixture_close(struct fixture *f)
{
	engine_free(&f->e);
	store_close(&f->st);
	cfg_free(&f->cfg);
	mw_arena_free(&f->a);
	free(f->conf_path);
	f->conf_path = NULL;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	log_set_level(LOG_LEVEL_ERROR);
	strcpy(f->dir, "/tmp/mw-engine-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	fixture_open(f);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	fixture_close(f);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

struct answer {
	bool		 called;
	struct verdict	 v;
};

static void
on_verdict(void *ctx, const struct verdict *v)
{
	struct answer *ans = ctx;

	ans->called = true;
	ans->v = *v;
}

static struct verdict
decide(struct fixture *f, const char *addr, const char *sasl)
{
	struct observation	 obs = { .listener = "test", .has_addr = true,
	    .server_port = 25, .sasl_username = sasl };
	struct answer		 ans = { .called = false };

	assert_int_equal(mw_addr_parse(addr, &obs.addr), 0);
	assert_null(engine_decide(f->e, &obs, f->a, on_verdict, &ans));
	assert_true(ans.called);
	return ans.v;
}

static struct mw_cidr
net_of(struct fixture *f, const char *text)
{
	struct mw_cidr	 c;
	const char	*error;

	assert_int_equal(mw_cidr_parse(text, &c, f->a, &error), 0);
	return c;
}

static void
test_decision_order(void **state)
{
	struct fixture	*f = *state;
	struct verdict	 v;
	struct mw_cidr	 n;
	const char	*error;

	v = decide(f, "203.0.113.1", NULL);
	assert_int_equal(v.kind, VERDICT_DUNNO);
	assert_int_equal(v.by, VERDICT_BY_DEFAULT);

	v = decide(f, "198.51.100.7", NULL);
	assert_int_equal(v.kind, VERDICT_REJECT);
	assert_int_equal(v.by, VERDICT_BY_DENY);
	assert_string_equal(v.status, "5.7.1");
	assert_string_equal(v.reason, "deny list 198.51.100.0/24");
	assert_string_equal(v.text, "Denied: client 198.51.100.7 is on this "
	    "server's deny list (100% sure)");

	/* A banned address is refused even when authenticated. */
	n = net_of(f, "203.0.113.9");
	assert_int_equal(engine_ban_add(f->e, &n, 3600, STORE_BAN_MANUAL,
	    "spam run", NULL, &error), 0);
	v = decide(f, "203.0.113.9", "alice@example.org");
	assert_int_equal(v.kind, VERDICT_REJECT);
	assert_int_equal(v.by, VERDICT_BY_BAN);
	assert_string_equal(v.reason, "banned 203.0.113.9 (manual): spam run");

	/* The allow list wins over deny entries and bans. */
	n = net_of(f, "192.0.2.10");
	assert_int_equal(engine_ban_add(f->e, &n, 0, STORE_BAN_MANUAL, NULL,
	    NULL, &error), 0);
	n = net_of(f, "192.0.2.0/28");
	assert_int_equal(engine_list_add(f->e, STORE_LIST_DENY, &n, "x",
	    &error), 0);
	v = decide(f, "192.0.2.10", NULL);
	assert_int_equal(v.kind, VERDICT_DUNNO);
	assert_int_equal(v.by, VERDICT_BY_ALLOW);
	assert_string_equal(v.reason, "allow list 192.0.2.0/24");

	/* Unban: accepted again. */
	n = net_of(f, "203.0.113.9");
	assert_int_equal(engine_ban_del(f->e, &n, &error), 1);
	assert_int_equal(engine_ban_del(f->e, &n, &error), 0);
	v = decide(f, "203.0.113.9", NULL);
	assert_int_equal(v.kind, VERDICT_DUNNO);
}

static void
test_ipv6_and_networks(void **state)
{
	struct fixture	*f = *state;
	struct mw_cidr	 n = net_of(f, "2001:db8:bad::/64");
	const char	*error;

	assert_int_equal(engine_ban_add(f->e, &n, 60, STORE_BAN_DNSBL,
	    "listed", NULL, &error), 0);
	assert_int_equal(decide(f, "2001:db8:bad::77", NULL).kind,
	    VERDICT_REJECT);
	assert_int_equal(decide(f, "2001:db8:bad:1::77", NULL).kind,
	    VERDICT_DUNNO);
}

static void
test_config_entries_are_not_deletable(void **state)
{
	struct fixture	*f = *state;
	struct mw_cidr	 n = net_of(f, "198.51.100.0/24");
	const char	*error = NULL;

	assert_int_equal(engine_list_del(f->e, STORE_LIST_DENY, &n, &error), -1);
	assert_non_null(strstr(error, "configuration file"));
	n = net_of(f, "198.51.99.0/24");
	assert_int_equal(engine_list_del(f->e, STORE_LIST_DENY, &n, &error), 0);
}

static void
test_rejects_bad_reason(void **state)
{
	struct fixture	*f = *state;
	struct mw_cidr	 n = net_of(f, "203.0.113.50");
	const char	*error = NULL;

	assert_int_equal(engine_ban_add(f->e, &n, 60, STORE_BAN_MANUAL,
	    "line\nbreak", NULL, &error), -1);
	assert_string_equal(error, "the reason must be printable text of at "
	    "most 512 bytes");
}

static bool
count_ban(void *ctx, const struct store_ban *b)
{
	(void)b;
	(*(size_t *)ctx)++;
	return true;
}

static void
test_state_survives_reopen(void **state)
{
	struct fixture		*f = *state;
	struct mw_cidr		 n = net_of(f, "203.0.113.77");
	struct store_ban	 b;
	struct mw_addr		 a;
	const char		*error;
	size_t			 nbans = 0;

	assert_int_equal(engine_ban_add(f->e, &n, 0, STORE_BAN_MANUAL, "keep",
	    NULL, &error), 0);
	/* Re-banning counts, keeps first_seen. */
	assert_int_equal(engine_ban_add(f->e, &n, 0, STORE_BAN_MANUAL, "keep",
	    &b, &error), 0);
	assert_int_equal(b.count, 2);
	n = net_of(f, "10.9.0.0/16");
	assert_int_equal(engine_list_add(f->e, STORE_LIST_ALLOW, &n, "branch",
	    &error), 0);
	(void)decide(f, "203.0.113.77", NULL);	/* one hit */
	fixture_close(f);
	fixture_open(f);
	assert_int_equal(decide(f, "203.0.113.77", NULL).by, VERDICT_BY_BAN);
	assert_int_equal(decide(f, "10.9.8.7", NULL).by, VERDICT_BY_ALLOW);
	assert_int_equal(mw_addr_parse("203.0.113.77", &a), 0);
	assert_true(engine_ban_find(f->e, &a, &b));
	assert_string_equal(b.reason, "keep");
	assert_true(b.hits >= 1);
	engine_ban_walk(f->e, count_ban, &nbans);
	assert_int_equal(nbans, 1);
}

struct event_list {
	size_t	 n;
	char	 reasons[8][600];
	char	 verdicts[8][16];
};

static bool
collect_event(void *ctx, const struct store_event *ev)
{
	struct event_list *l = ctx;

	if (l->n < 8) {
		(void)snprintf(l->reasons[l->n], sizeof(l->reasons[0]), "%s",
		    ev->reason);
		(void)snprintf(l->verdicts[l->n], sizeof(l->verdicts[0]), "%s",
		    ev->verdict);
	}
	l->n++;
	return true;
}

/* Repeated decisions of one client (DUNNO, REJECT alike) merge into one
   event with a count; another verdict is another event. */
static void
test_dunno_events_coalesce(void **state)
{
	struct fixture		*f = *state;
	struct event_base	*base = event_base_new();
	struct store_event_query q = { .limit = 100 };
	struct event_list	 l = { .n = 0 };
	char			*error = NULL;
	const char		*berror;
	const char		*long_reason = "a reason long enough not to "
	    "fit in a coalescing slot's own text";
	struct mw_cidr		 n;

	engine_free(&f->e);
	if (engine_new(base, f->cfg, f->st, NULL, &f->e, &error) < 0)
		fail_msg("%s", error);
	for (int i = 0; i < 5; i++)
		assert_int_equal(decide(f, "203.0.113.1", NULL).kind,
		    VERDICT_DUNNO);
	for (int i = 0; i < 2; i++)
		assert_int_equal(decide(f, "198.51.100.7", NULL).kind,
		    VERDICT_REJECT);
	/* A reason too long for the slot's own text: kept on the heap. */
	n = net_of(f, "100.64.0.99/32");
	assert_int_equal(engine_ban_add(f->e, &n, 0, STORE_BAN_MANUAL,
	    long_reason, NULL, &berror), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(decide(f, "100.64.0.99", NULL).by,
		    VERDICT_BY_BAN);
	engine_free(&f->e);	/* flushes the merged event */
	store_event_sync(f->st);
	assert_int_equal(store_event_query(f->st, &q, collect_event, &l), 0);
	assert_int_equal(l.n, 3);
	{
		size_t dunno = 0, deny = 0, ban = 0;

		for (size_t i = 0; i < l.n; i++) {
			if (strcmp(l.verdicts[i], "DUNNO") == 0) {
				dunno++;
				assert_string_equal(l.reasons[i],
				    "no listing (5 decisions in 1 s)");
			} else if (strstr(l.reasons[i], long_reason) != NULL) {
				ban++;
				assert_string_equal(l.reasons[i] +
				    strlen(l.reasons[i]) -
				    strlen(" (3 decisions in 1 s)"),
				    " (3 decisions in 1 s)");
			} else {
				deny++;
				assert_string_equal(l.reasons[i],
				    "deny list 198.51.100.0/24 (2 decisions "
				    "in 1 s)");
			}
		}
		assert_int_equal(dunno, 1);
		assert_int_equal(deny, 1);
		assert_int_equal(ban, 1);
	}
	if (engine_new(NULL, f->cfg, f->st, NULL, &f->e, &error) < 0)
		fail_msg("%s", error);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_decision_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_and_networks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_config_entries_are_not_deletable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_bad_reason, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_state_survives_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dunno_events_coalesce, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
