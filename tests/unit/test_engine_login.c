/*
 * test_engine_login - engine_auth_check / engine_auth_report against a
 * real SQLite store: failures tarpit, then ban through engine_ban_add
 * (source login, or logwatch for log observations) so the Postfix policy
 * answer refuses the address too; the allow list is never banned; the
 * deny list and bans refuse before the rules; events record each step
 * and never a password hash.
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

#include <event2/event.h>

#include "core/log.h"
#include "engine/engine.h"
#include "unit_util.h"

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
	"[login]\n"
	"tarpit_after = 2\n"
	"tarpit_delay = 3s\n"
	"ban_after = 4\n"
	"ban_time = 10m\n";

/* Appended to conf_text by the next fixture_open (a test's own keys). */
static const char *conf_extra = "";

static void
fixture_open(struct fixture *f)
{
	char	*error = NULL;
	FILE	*fp;

	if (asprintf(&f->conf_path, "%s/mailward.conf", f->dir) < 0)
		fail();
	assert_non_null(fp = fopen(f->conf_path, "w"));
	fprintf(fp, "%s%s[daemon]\nstate_dir = %s\n", conf_text, conf_extra,
	    f->dir);
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
	strcpy(f->dir, "/tmp/mw-login-XXXXXX");
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

static struct auth_observation
obs(const char *source, const char *addr, const char *account,
    enum auth_phase phase)
{
	struct auth_observation o = { .source = source, .service = "imap",
	    .has_addr = true, .account = account, .phase = phase };

	assert_int_equal(mw_addr_parse(addr, &o.addr), 0);
	return o;
}

static enum auth_verdict_kind
check(struct fixture *f, const char *addr, const char *account,
    struct auth_verdict *v)
{
	struct auth_observation o = obs("authpolicy", addr, account,
	    AUTH_PHASE_BEFORE);

	engine_auth_check(f->e, &o, f->a, v);
	return v->kind;
}

static void
report(struct fixture *f, const char *source, const char *addr,
    const char *account, enum auth_phase phase, uint8_t pw)
{
	struct auth_observation o = obs(source, addr, account, phase);

	o.pwhash[0] = pw;
	o.pwhash[1] = 0x0d;
	o.pwhash_bits = 12;
	engine_auth_report(f->e, &o);
}

struct ev_collect {
	char	 text[8192];
};

static bool
collect_ev(void *ctx, const struct store_event *ev)
{
	struct ev_collect *c = ctx;
	size_t used = strlen(c->text);

	(void)snprintf(c->text + used, sizeof(c->text) - used, "%s|%s|%s|%s\n",
	    ev->listener, ev->verdict, ev->account, ev->reason);
	return true;
}

static void
test_tarpit_then_ban(void **state)
{
	struct fixture		*f = *state;
	struct auth_verdict	 v;
	struct store_ban	 ban;
	struct mw_addr		 a;
	struct ev_collect	 evs = { "" };
	struct store_event_query q = { .limit = 100 };
	struct engine_login_stats ls;

	assert_int_equal(check(f, "203.0.113.9", "alice", &v), AUTH_VERDICT_ALLOW);
	report(f, "authpolicy", "203.0.113.9", "alice", AUTH_PHASE_FAILURE, 1);
	report(f, "authpolicy", "203.0.113.9", "bob", AUTH_PHASE_FAILURE, 2);
	assert_int_equal(check(f, "203.0.113.9", "alice", &v), AUTH_VERDICT_TARPIT);
	assert_int_equal(v.delay_s, 3);
	assert_string_equal(v.reason, "2 failed logins in 10m");
	report(f, "authpolicy", "203.0.113.9", "carol", AUTH_PHASE_FAILURE, 3);
	assert_false(engine_ban_find(f->e, &(struct mw_addr){ 0 }, NULL));
	report(f, "authpolicy", "203.0.113.9", "dave", AUTH_PHASE_FAILURE, 4);
	/* Banned through the engine: the SMTP policy refuses it too. */
	assert_int_equal(mw_addr_parse("203.0.113.9", &a), 0);
	assert_true(engine_ban_find(f->e, &a, &ban));
	assert_int_equal(ban.source, STORE_BAN_LOGIN);
	assert_string_equal(ban.reason, "4 failed logins in 10m (imap)");
	assert_true(ban.expires > (int64_t)time(NULL) + 590);
	assert_true(ban.expires <= (int64_t)time(NULL) + 600);
	assert_int_equal(check(f, "203.0.113.9", "alice", &v), AUTH_VERDICT_REJECT);
	assert_string_equal(v.reason, "banned 203.0.113.9 (login): 4 failed "
	    "logins in 10m (imap)");
	/* The correct password is refused as well while banned. */
	assert_int_equal(check(f, "203.0.113.9", "alice", &v), AUTH_VERDICT_REJECT);
	/* Another address is fine. */
	assert_int_equal(check(f, "203.0.113.10", "alice", &v), AUTH_VERDICT_ALLOW);
	/* After `ban del` the address logs in again at once. */
	assert_int_equal(engine_ban_del(f->e, &ban.net, &(const char *){ NULL }), 1);
	assert_int_equal(check(f, "203.0.113.9", "alice", &v), AUTH_VERDICT_ALLOW);

	engine_login_get_stats(f->e, &ls);
	assert_int_equal(ls.failures, 4);
	assert_int_equal(ls.bans, 1);
	assert_true(ls.tarpits >= 1);
	assert_true(ls.rejects >= 2);

	store_event_sync(f->st);
	assert_int_equal(store_event_query(f->st, &q, collect_ev, &evs), 0);
	assert_non_null(strstr(evs.text, "authpolicy|AUTH_FAIL|alice|imap\n"));
	assert_non_null(strstr(evs.text, "authpolicy|TARPIT|alice|3 s: 2 failed "
	    "logins in 10m\n"));
	assert_non_null(strstr(evs.text, "authpolicy|BAN|dave|203.0.113.9 for "
	    "10m: 4 failed logins in 10m (imap)\n"));
	assert_non_null(strstr(evs.text, "authpolicy|REJECT|alice|banned "));
}

static void
test_logwatch_source(void **state)
{
	struct fixture		*f = *state;
	struct store_ban	 ban;
	struct mw_addr		 a;

	for (int i = 0; i < 4; i++) {
		struct auth_observation o = obs("logwatch", "2001:db8::77",
		    i % 2 ? "x" : "y", AUTH_PHASE_FAILURE);

		o.service = "smtp";
		o.time_ms = (int64_t)time(NULL) * 1000;
		engine_auth_report(f->e, &o);
	}
	assert_int_equal(mw_addr_parse("2001:db8::77", &a), 0);
	assert_true(engine_ban_find(f->e, &a, &ban));
	assert_int_equal(ban.source, STORE_BAN_LOGWATCH);
	assert_string_equal(ban.reason, "4 failed logins in 10m (smtp)");
}

/* Attempts from a log read late: older than the window they are history
   (an event, no ban); from the future they count as now. */
static void
test_stale_and_future(void **state)
{
	struct fixture		*f = *state;
	struct engine_login_stats ls;
	struct mw_addr		 a;
	int64_t			 now = (int64_t)time(NULL);

	for (int i = 0; i < 10; i++) {
		struct auth_observation o = obs("logwatch", "203.0.113.120",
		    i % 2 ? "x" : "y", AUTH_PHASE_FAILURE);

		o.time_ms = (now - 3600) * 1000;	/* an hour ago */
		engine_auth_report(f->e, &o);
	}
	assert_int_equal(mw_addr_parse("203.0.113.120", &a), 0);
	assert_false(engine_ban_find(f->e, &a, NULL));
	engine_login_get_stats(f->e, &ls);
	assert_int_equal(ls.stale, 10);
	/* A year ahead (a wrong guess of a syslog line's year), then now:
	   both count, the present is not pushed out of the window. */
	for (int i = 0; i < 4; i++) {
		struct auth_observation o = obs("logwatch", "203.0.113.121",
		    i % 2 ? "x" : "y", AUTH_PHASE_FAILURE);

		o.time_ms = (i == 0 ? now + 365 * 86400 : now) * 1000;
		engine_auth_report(f->e, &o);
	}
	assert_int_equal(mw_addr_parse("203.0.113.121", &a), 0);
	assert_true(engine_ban_find(f->e, &a, NULL));
}

static void
test_lists_first(void **state)
{
	struct fixture		*f = *state;
	struct auth_verdict	 v;
	struct mw_addr		 a;

	/* The allow list is never banned, whatever it does. */
	for (int i = 0; i < 20; i++)
		report(f, "authpolicy", "192.0.2.5", i % 2 ? "a" : "b",
		    AUTH_PHASE_FAILURE, (uint8_t)i);
	assert_int_equal(mw_addr_parse("192.0.2.5", &a), 0);
	assert_false(engine_ban_find(f->e, &a, NULL));
	assert_int_equal(check(f, "192.0.2.5", "a", &v), AUTH_VERDICT_ALLOW);
	assert_string_equal(v.reason, "allow list 192.0.2.0/24");
	/* The deny list refuses before anything was seen. */
	assert_int_equal(check(f, "198.51.100.1", "a", &v), AUTH_VERDICT_REJECT);
	assert_string_equal(v.reason, "deny list 198.51.100.0/24");
	/* No address, no opinion. */
	{
		struct auth_observation o = { .source = "dashboard",
		    .account = "admin", .phase = AUTH_PHASE_BEFORE };

		engine_auth_check(f->e, &o, f->a, &v);
		assert_int_equal(v.kind, AUTH_VERDICT_ALLOW);
	}
}

static void
ban_and_lift(struct fixture *f, const char *addr, struct store_ban *ban_r)
{
	static uint8_t	 pw;
	struct mw_addr	 a;
	const char	*error = NULL;

	/* New wrong passwords each time: a repeated one is not counted. */
	for (int i = 0; i < 4; i++)
		report(f, "authpolicy", addr, i % 2 ? "p" : "q",
		    AUTH_PHASE_FAILURE, ++pw);
	assert_int_equal(mw_addr_parse(addr, &a), 0);
	assert_true(engine_ban_find(f->e, &a, ban_r));
	assert_int_equal(engine_ban_del(f->e, &ban_r->net, &error), 1);
}

static void
test_escalation_survives_restart(void **state)
{
	struct fixture		*f = *state;
	struct store_ban	 ban;
	struct store_escalation	 esc;
	/* Taken before the bans: one made a second later lasts one more
	   second from here (the upper bounds allow for a slow run). */
	int64_t			 now = (int64_t)time(NULL);

	ban_and_lift(f, "203.0.113.30", &ban);
	assert_in_range(ban.expires - now, 590, 605);	/* ban_time 10m */
	ban_and_lift(f, "203.0.113.30", &ban);
	assert_in_range(ban.expires - now, 1190, 1205);	/* doubled */
	/* The escalation outlives the ban and the daemon. */
	fixture_close(f);
	fixture_open(f);
	assert_int_equal(store_escalation_get(f->st, &ban.net, &esc), 1);
	assert_int_equal(esc.level, 1);
	assert_int_equal(esc.bans, 2);
	ban_and_lift(f, "203.0.113.30", &ban);
	assert_in_range(ban.expires - now, 2390, 2405);
	/* ban_max (7d) caps it: 10m * 2^10 would be 7.1 days. */
	for (int i = 0; i < 10; i++)
		ban_and_lift(f, "203.0.113.30", &ban);
	assert_in_range(ban.expires - now, 7 * 86400 - 10, 7 * 86400 + 5);
	/* Another address starts from the beginning. */
	ban_and_lift(f, "203.0.113.31", &ban);
	assert_in_range(ban.expires - now, 590, 605);
}

/* With an event loop, repeated refusals of one client within a tick
   are one event with their count. */
static void
test_refusals_merged(void **state)
{
	struct fixture		*f = *state;
	struct event_base	*base = event_base_new();
	struct engine		*e = NULL;
	struct auth_verdict	 v;
	struct ev_collect	 evs = { "" };
	struct store_event_query q = { .limit = 100 };
	struct mw_cidr		 net;
	const char		*error = NULL;
	char			*err = NULL;
	struct timeval		 tv = { 1, 200000 };

	assert_non_null(base);
	engine_free(&f->e);
	if (engine_new(base, f->cfg, f->st, NULL, &e, &err) < 0)
		fail_msg("engine_new: %s", err);
	assert_int_equal(mw_cidr_parse("203.0.113.99", &net, f->a, &error), 0);
	assert_int_equal(engine_ban_add(e, &net, 600, STORE_BAN_LOGIN, "test",
	    NULL, &error), 0);
	for (int i = 0; i < 50; i++) {
		struct auth_observation o = obs("authpolicy", "203.0.113.99",
		    "alice", AUTH_PHASE_BEFORE);

		engine_auth_check(e, &o, f->a, &v);
		assert_int_equal(v.kind, AUTH_VERDICT_REJECT);
	}
	/* One tick writes them. */
	event_base_loopexit(base, &tv);
	assert_int_equal(event_base_dispatch(base), 0);
	store_event_sync(f->st);
	assert_int_equal(store_event_query(f->st, &q, collect_ev, &evs), 0);
	assert_non_null(strstr(evs.text, "authpolicy|REJECT|alice|banned "
	    "203.0.113.99 (login): test (50 checks in 1 s)\n"));
	assert_null(strstr(strstr(evs.text, "|REJECT|") + 1, "|REJECT|"));
	engine_free(&e);
	event_base_free(base);
}

struct log_collect {
	char	 text[8192];
};

static void
collect_log(void *ctx, enum log_level level, const char *line)
{
	struct log_collect *c = ctx;
	size_t used = strlen(c->text);

	(void)level;
	(void)snprintf(c->text + used, sizeof(c->text) - used, "%s\n", line);
}

/* n checks of addr from source; the verdicts' repeat flags in repeats_r
   (how many were repeats). */
static void
refuse_n(struct engine *e, struct mw_arena *a, const char *source,
    bool merge_log, const char *addr, int n, int *repeats_r)
{
	*repeats_r = 0;
	for (int i = 0; i < n; i++) {
		struct auth_observation	 o = obs(source, addr, "alice",
					    AUTH_PHASE_BEFORE);
		struct auth_verdict	 v;

		o.merge_log = merge_log;
		engine_auth_check(e, &o, a, &v);
		assert_int_equal(v.kind, AUTH_VERDICT_REJECT);
		if (v.repeat)
			(*repeats_r)++;
		else
			assert_int_equal(*repeats_r, 0);	/* the first only */
	}
}

/* The caller logs the first refusal of a client in a tick (repeat
   false), the engine the count of the rest at the tick, for callers that
   ask for it (merge_log): per request line + "(N more in the last
   second)" = the refusals. Without an event loop nothing is a repeat. */
static void
test_refusals_logged_once(void **state)
{
	struct fixture		*f = *state;
	struct event_base	*base = event_base_new();
	struct engine		*e = NULL;
	struct log_collect	 lc = { "" };
	struct engine_login_stats ls;
	struct mw_cidr		 net;
	const char		*error = NULL;
	char			*err = NULL;
	struct timeval		 tv = { 1, 200000 };
	int			 repeats;

	/* No loop, no tick to log the repeats: each is logged. */
	refuse_n(f->e, f->a, "authpolicy", true, "198.51.100.7", 3, &repeats);
	assert_int_equal(repeats, 0);

	assert_non_null(base);
	engine_free(&f->e);
	if (engine_new(base, f->cfg, f->st, NULL, &e, &err) < 0)
		fail_msg("engine_new: %s", err);
	assert_int_equal(mw_cidr_parse("203.0.113.99", &net, f->a, &error), 0);
	assert_int_equal(engine_ban_add(e, &net, 600, STORE_BAN_LOGIN, "test",
	    NULL, &error), 0);
	log_set_level(LOG_LEVEL_INFO);
	log_set_capture(collect_log, &lc);
	refuse_n(e, f->a, "authpolicy", true, "203.0.113.99", 20, &repeats);
	assert_int_equal(repeats, 19);
	refuse_n(e, f->a, "authpolicy", true, "198.51.100.7", 3, &repeats);
	assert_int_equal(repeats, 2);
	refuse_n(e, f->a, "authpolicy", true, "198.51.100.8", 1, &repeats);
	assert_int_equal(repeats, 0);
	/* The dashboard logs every refused login itself (with its account):
	   no count from the engine. */
	refuse_n(e, f->a, "dashboard", false, "203.0.113.99", 5, &repeats);
	assert_int_equal(repeats, 4);
	/* Nothing is logged by the engine before the tick... */
	assert_null(strstr(lc.text, "more in the last second"));
	event_base_loopexit(base, &tv);
	assert_int_equal(event_base_dispatch(base), 0);
	log_set_capture(NULL, NULL);
	log_set_level(LOG_LEVEL_ERROR);
	/* ...then one line per client with repeats. */
	assert_non_null(strstr(lc.text, "login: client 203.0.113.99 "
	    "(authpolicy): REJECT: banned 203.0.113.99 (login): test (19 more "
	    "in the last second)\n"));
	assert_non_null(strstr(lc.text, "login: client 198.51.100.7 "
	    "(authpolicy): REJECT: deny list 198.51.100.0/24 (2 more in the "
	    "last second)\n"));
	assert_int_equal(count_of(lc.text, "more in the last second"), 2);
	assert_null(strstr(lc.text, "198.51.100.8"));
	assert_null(strstr(lc.text, "(dashboard)"));
	/* The events and counters are those of every refusal. */
	engine_login_get_stats(e, &ls);
	assert_int_equal(ls.rejects, 29);
	engine_free(&e);
	event_base_free(base);
}

static bool
collect_ev_count(void *ctx, const struct store_event *ev)
{
	struct ev_collect *c = ctx;
	size_t used = strlen(c->text);

	(void)snprintf(c->text + used, sizeof(c->text) - used,
	    "%s|%s|%s|%u\n", ev->verdict, ev->account, ev->reason, ev->count);
	return true;
}

/* The logins of one client and account in one second are one event with
   their count; another account, another second or another verdict is
   another event. */
static void
test_logins_merged(void **state)
{
	struct fixture		*f = *state;
	struct event_base	*base = event_base_new();
	struct engine		*e = NULL;
	struct ev_collect	 evs = { "" };
	struct store_event_query q = { .limit = 100 };
	char			*err = NULL;
	struct timeval		 tv = { 1, 200000 };
	int64_t			 t = ((int64_t)time(NULL) - 5) * 1000;
	static const struct {
		const char	*account;
		enum auth_phase	 phase;
		int64_t		 ms;
	} logins[] = {
		{ "bob", AUTH_PHASE_SUCCESS, 0 }, { "bob", AUTH_PHASE_SUCCESS, 100 },
		{ "carol", AUTH_PHASE_SUCCESS, 200 },
		{ "bob", AUTH_PHASE_SUCCESS, 300 }, { "bob", AUTH_PHASE_SUCCESS, 999 },
		{ "bob", AUTH_PHASE_FAILURE, 400 },
		{ "bob", AUTH_PHASE_SUCCESS, 1000 },
	};

	assert_non_null(base);
	engine_free(&f->e);
	if (engine_new(base, f->cfg, f->st, NULL, &e, &err) < 0)
		fail_msg("engine_new: %s", err);
	for (size_t i = 0; i < sizeof(logins) / sizeof(logins[0]); i++) {
		struct auth_observation o = obs("authpolicy", "198.18.0.5",
		    logins[i].account, logins[i].phase);

		o.time_ms = t + logins[i].ms;
		engine_auth_report(e, &o);
	}
	event_base_loopexit(base, &tv);
	assert_int_equal(event_base_dispatch(base), 0);
	store_event_sync(f->st);
	assert_int_equal(store_event_query(f->st, &q, collect_ev_count, &evs), 0);
	assert_non_null(strstr(evs.text, "AUTH_OK|bob|imap (4 logins in 1 s)|4\n"));
	assert_non_null(strstr(evs.text, "AUTH_OK|carol|imap|1\n"));
	assert_non_null(strstr(evs.text, "AUTH_FAIL|bob|imap|1\n"));
	assert_non_null(strstr(evs.text, "AUTH_OK|bob|imap|1\n"));
	engine_free(&e);
	event_base_free(base);
}

static int
setup_permanent(void **state)
{
	conf_extra = "ban_max = 20m\nban_permanent = yes\n";
	return setup(state);
}

static void
test_escalation_to_permanent(void **state)
{
	struct fixture		*f = *state;
	struct store_ban	 ban;
	int64_t			 now = (int64_t)time(NULL);

	conf_extra = "";
	ban_and_lift(f, "203.0.113.70", &ban);
	assert_in_range(ban.expires - now, 590, 605);
	ban_and_lift(f, "203.0.113.70", &ban);
	assert_in_range(ban.expires - now, 1190, 1205);	/* ban_max */
	ban_and_lift(f, "203.0.113.70", &ban);
	assert_int_equal(ban.expires, 0);	/* then permanent */
}

static bool
collect_alert(void *ctx, const struct store_alert *al)
{
	struct ev_collect *c = ctx;
	size_t used = strlen(c->text);

	(void)snprintf(c->text + used, sizeof(c->text) - used, "%s|%s|%s|%s\n",
	    al->account, al->kind, al->reason, al->evidence);
	return true;
}

static void
test_alerts_and_history(void **state)
{
	struct fixture		*f = *state;
	struct ev_collect	 c = { "" };
	struct store_alert_query q = { .all = true };
	struct auth_verdict	 v;
	char			 addr[32];

	/* grace logs in from home: remembered across a restart. */
	report(f, "authpolicy", "192.0.2.40", "grace", AUTH_PHASE_SUCCESS, 1);
	fixture_close(f);
	fixture_open(f);
	/* Three wrong passwords, then the right one: possible takeover. */
	report(f, "authpolicy", "203.0.113.44", "grace", AUTH_PHASE_FAILURE, 1);
	report(f, "authpolicy", "203.0.113.44", "grace", AUTH_PHASE_FAILURE, 2);
	report(f, "authpolicy", "203.0.113.44", "grace", AUTH_PHASE_FAILURE, 3);
	report(f, "authpolicy", "203.0.113.44", "grace", AUTH_PHASE_SUCCESS, 4);
	/* A success from a network never used by heidi, who used another. */
	report(f, "authpolicy", "198.18.0.1", "heidi", AUTH_PHASE_SUCCESS, 1);
	report(f, "authpolicy", "198.18.7.1", "heidi", AUTH_PHASE_SUCCESS, 1);
	/* A distributed attack on ivan; his known network keeps working. */
	report(f, "authpolicy", "198.19.0.1", "ivan", AUTH_PHASE_SUCCESS, 1);
	for (int i = 0; i < 5; i++) {
		(void)snprintf(addr, sizeof(addr), "203.0.%d.1", 100 + i);
		report(f, "authpolicy", addr, "ivan", AUTH_PHASE_FAILURE, 9);
	}
	assert_int_equal(check(f, "203.0.200.1", "ivan", &v), AUTH_VERDICT_TARPIT);
	assert_int_equal(check(f, "198.19.0.77", "ivan", &v), AUTH_VERDICT_ALLOW);

	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_non_null(strstr(c.text, "grace|after_failures|login from "
	    "203.0.113.44 after 3 failed attempts in 10m (3 for this account)|"
	    "{\"source\":\"authpolicy\",\"service\":\"imap\",\"window\":600,"
	    "\"address_failures\":3,\"account_failures\":3,"
	    "\"account_address_failures\":3,\"address_accounts\":1,"
	    "\"account_addresses\":1,\"network\":\"203.0.113.0/24\","
	    "\"known_networks\":[\"192.0.2.0/24\",\"203.0.113.0/24\"]}\n"));
	assert_non_null(strstr(c.text, "heidi|new_network|login from 198.18.7.1, "
	    "a network this account never used (198.18.7.0/24)|"));
	assert_non_null(strstr(c.text, "ivan|distributed_attack|failed logins "
	    "from 5 addresses in 10m; attempts from addresses that never "
	    "logged in to it are delayed|"));
	/* No hash anywhere: the fingerprints stay in memory. */
	assert_null(strstr(c.text, "pwhash"));
}

static int
count_lines_starting(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p != NULL && *p != '\0';
	    p = strchr(p, '\n') != NULL ? strchr(p, '\n') + 1 : NULL)
		n += strncmp(p, prefix, strlen(prefix)) == 0;
	return n;
}

/* Three typos and a success, twice: with alert_interval one alert and a
   counted repeat; with 0 two alerts. */
static void
test_alert_repeats(void **state)
{
	struct fixture		*f = *state;
	struct store_alert_query q = { .all = true };
	struct engine_login_stats ls;
	struct ev_collect	 c = { "" };

	for (int round = 0; round < 2; round++) {
		const char *who = round == 0 ? "kate" : "liam";

		conf_extra = round == 0 ? "" : "alert_interval = 0\n";
		fixture_close(f);
		fixture_open(f);
		for (int i = 0; i < 2; i++) {
			for (uint8_t k = 1; k <= 3; k++)
				report(f, "authpolicy", "203.0.113.90", who,
				    AUTH_PHASE_FAILURE, (uint8_t)(10 * i + k));
			report(f, "authpolicy", "203.0.113.90", who,
			    AUTH_PHASE_SUCCESS, 9);
		}
		engine_login_get_stats(f->e, &ls);
		assert_int_equal(ls.alerts, round == 0 ? 1 : 2);
		assert_int_equal(ls.alerts_repeated, round == 0 ? 1 : 0);
	}
	conf_extra = "";
	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_int_equal(count_lines_starting(c.text, "kate|after_failures|"), 1);
	assert_int_equal(count_lines_starting(c.text, "liam|after_failures|"), 2);
}

/* "Alice", "ALICE" and "alice" are one account: changing the case of
   the login does not dodge the distributed-attack count. */
static void
test_account_case_folded(void **state)
{
	struct fixture		*f = *state;
	struct engine_account	 acc;
	struct store_alert_query q = { .all = true };
	struct ev_collect	 c = { "" };
	static const char *const names[] = { "Ivy@Example.org",
	    "IVY@EXAMPLE.ORG", "ivy@example.org", "iVy@example.ORG",
	    "Ivy@example.org" };
	char			 addr[32], buf[8];

	for (int i = 0; i < 5; i++) {
		(void)snprintf(addr, sizeof(addr), "203.0.%d.7", 110 + i);
		report(f, "authpolicy", addr, names[i], AUTH_PHASE_FAILURE,
		    (uint8_t)i);
	}
	assert_true(engine_account_get(f->e, "IVY@example.org", &acc));
	assert_string_equal(acc.account, "IVY@example.org");
	assert_int_equal(acc.addresses, 5);
	assert_true(acc.under_attack);
	assert_int_equal(store_alert_query(f->st, &q, collect_alert, &c), 0);
	assert_non_null(strstr(c.text, "ivy@example.org|distributed_attack|"));
	/* Only ASCII folds; the cut keeps the buffer terminated. */
	assert_string_equal(engine_account_fold("\xc3\x89VA", buf,
	    sizeof(buf)), "\xc3\x89va");
	assert_string_equal(engine_account_fold("ABCDEFGHIJ", buf,
	    sizeof(buf)), "abcdefg");
	assert_string_equal(engine_account_fold(NULL, buf, sizeof(buf)), "");
}

struct net_collect {
	int		 rows;
	uint32_t	 successes;
};

static bool
collect_net(void *ctx, const struct store_login_net *n)
{
	struct net_collect *c = ctx;

	c->rows++;
	c->successes += n->successes;
	return true;
}

/* Successes from known networks are batched (indexed by account and
   network) and saved at the tick or at exit: every one is counted, on
   the right account and network, for many accounts at once. */
static void
test_known_network_refreshes_counted(void **state)
{
	struct fixture	*f = *state;
	char		 acct[32], addr[32];

	for (int k = 0; k < 300; k++) {
		(void)snprintf(acct, sizeof(acct), "user%03d", k);
		(void)snprintf(addr, sizeof(addr), "198.18.%d.1", k % 200);
		report(f, "authpolicy", addr, acct, AUTH_PHASE_SUCCESS, 1);
	}
	for (int round = 0; round < 7; round++)
		for (int k = 0; k < 300; k++) {
			(void)snprintf(acct, sizeof(acct), "user%03d", k);
			(void)snprintf(addr, sizeof(addr), "198.18.%d.%d",
			    k % 200, 2 + round);	/* same /24 */
			report(f, "authpolicy", addr, acct,
			    AUTH_PHASE_SUCCESS, 1);
		}
	fixture_close(f);	/* engine_free saves the batch */
	fixture_open(f);
	for (int k = 0; k < 300; k += 37) {
		struct net_collect c = { 0 };

		(void)snprintf(acct, sizeof(acct), "user%03d", k);
		assert_int_equal(store_login_net_query(f->st, acct, 0,
		    collect_net, &c), 0);
		assert_int_equal(c.rows, 1);
		assert_int_equal(c.successes, 8);
	}
}

static uint32_t
net_successes(struct fixture *f, const char *account)
{
	struct net_collect c = { 0 };

	store_event_sync(f->st);
	assert_int_equal(store_login_net_query(f->st, account, 0, collect_net,
	    &c), 0);
	return c.rows == 0 ? 0 : c.successes;
}

/* With an event loop: a new network is saved by the next tick, a known
   one's refresh waits (LOGIN_NET_REFRESH_S) unless something asks for
   the store to be current (engine_flush_pending, the admin API). */
static void
test_network_refresh_waits(void **state)
{
	struct fixture		*f = *state;
	struct event_base	*base = event_base_new();
	struct engine		*e = NULL;
	char			*err = NULL;
	struct timeval		 tv = { 1, 200000 };
	struct auth_observation	 o = obs("authpolicy", "198.18.5.1", "olga",
	    AUTH_PHASE_SUCCESS);

	assert_non_null(base);
	engine_free(&f->e);
	if (engine_new(base, f->cfg, f->st, NULL, &e, &err) < 0)
		fail_msg("engine_new: %s", err);
	engine_auth_report(e, &o);
	event_base_loopexit(base, &tv);
	assert_int_equal(event_base_dispatch(base), 0);
	assert_int_equal(net_successes(f, "olga"), 1);
	engine_auth_report(e, &o);
	event_base_loopexit(base, &tv);
	assert_int_equal(event_base_dispatch(base), 0);
	assert_int_equal(net_successes(f, "olga"), 1);	/* not yet */
	engine_flush_pending(e);
	assert_int_equal(net_successes(f, "olga"), 2);
	engine_free(&e);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tarpit_then_ban, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_logwatch_source, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lists_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_future, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_account_case_folded, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_escalation_survives_restart,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_repeats, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_alerts_and_history, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_known_network_refreshes_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_escalation_to_permanent,
		    setup_permanent, teardown),
		cmocka_unit_test_setup_teardown(test_refusals_merged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals_logged_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_logins_merged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_network_refresh_waits,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
