/*
 * test_engine_ban_hook - the ban-change hook the firewall helper follows:
 * one call per change (added, refreshed, lifted, expired by the tick),
 * none for a no-op, nothing after the hook is removed. Real SQLite store
 * in a temporary directory; the expiry runs the engine's own tick.
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

struct call {
	enum engine_ban_change	 what;
	char			 net[MW_CIDR_STRLEN];
	int64_t			 expires;
	uint32_t		 count;
	char			 reason[64];
};

struct calls {
	struct call	 v[16];
	size_t		 n;
};

static void
on_ban(void *ctx, enum engine_ban_change what, const struct store_ban *b)
{
	struct calls	*c = ctx;
	struct call	*k;

	assert_true(c->n < MW_N_ELEMENTS(c->v));
	k = &c->v[c->n++];
	k->what = what;
	mw_cidr_format(&b->net, k->net, sizeof(k->net));
	k->expires = b->expires;
	k->count = b->count;
	(void)snprintf(k->reason, sizeof(k->reason), "%s", b->reason);
}

static struct mw_cidr
net_of(const char *text)
{
	struct mw_cidr	 c;
	const char	*error;

	assert_int_equal(mw_cidr_parse(text, &c, NULL, &error), 0);
	return c;
}

static void
test_engine_ban_hook(void **state)
{
	char			 dir[] = "/tmp/mw-banhook-XXXXXX", *path, *error = NULL;
	char			 conf[256], cmd[128];
	struct cfg		*cfg;
	struct store		*st;
	struct engine		*e;
	struct event_base	*base = event_base_new();
	struct calls		 c = { .n = 0 };
	struct mw_cidr		 n1 = net_of("203.0.113.9"), n2 = net_of("2001:db8::/32");
	struct timeval		 run = { 2, 600000 };
	const char		*why;
	int64_t			 now = (int64_t)time(NULL);
	FILE			*fp;

	(void)state;
	log_set_level(LOG_LEVEL_ERROR);
	assert_non_null(mkdtemp(dir));
	(void)snprintf(conf, sizeof(conf), "[daemon]\nuser =\nstate_dir = %s\n",
	    dir);
	assert_true(asprintf(&path, "%s/mailward.conf", dir) > 0);
	assert_non_null(fp = fopen(path, "w"));
	fputs(conf, fp);
	assert_int_equal(fclose(fp), 0);
	if (cfg_load(path, &cfg, &error) < 0 || store_open(cfg, &st, &error) < 0 ||
	    engine_new(base, cfg, st, NULL, &e, &error) < 0)
		fail_msg("setup: %s", error);

	engine_set_ban_hook(e, on_ban, &c);
	assert_int_equal(engine_ban_add(e, &n1, 3600, STORE_BAN_MANUAL, "first",
	    NULL, &why), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.v[0].what, ENGINE_BAN_ADDED);
	assert_string_equal(c.v[0].net, "203.0.113.9");
	assert_string_equal(c.v[0].reason, "first");
	assert_true(c.v[0].expires >= now + 3600 && c.v[0].expires <= now + 3602);
	/* a refresh is an ADDED with the new expiry */
	assert_int_equal(engine_ban_add(e, &n1, 0, STORE_BAN_MANUAL, "again",
	    NULL, &why), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.v[1].what, ENGINE_BAN_ADDED);
	assert_int_equal(c.v[1].expires, 0);
	assert_int_equal(c.v[1].count, 2);
	/* lifted; lifting again changes nothing and says nothing */
	assert_int_equal(engine_ban_del(e, &n1, &why), 1);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.v[2].what, ENGINE_BAN_REMOVED);
	assert_string_equal(c.v[2].net, "203.0.113.9");
	assert_int_equal(engine_ban_del(e, &n1, &why), 0);
	assert_int_equal(c.n, 3);
	/* expiry, seen by the engine's tick */
	assert_int_equal(engine_ban_add(e, &n2, 1, STORE_BAN_MANUAL, "short",
	    NULL, &why), 0);
	assert_int_equal(c.n, 4);
	assert_int_equal(event_base_loopexit(base, &run), 0);
	assert_int_equal(event_base_dispatch(base), 0);
	assert_int_equal(c.n, 5);
	assert_int_equal(c.v[4].what, ENGINE_BAN_REMOVED);
	assert_string_equal(c.v[4].net, "2001:db8::/32");
	/* no hook, no calls */
	engine_set_ban_hook(e, NULL, NULL);
	assert_int_equal(engine_ban_add(e, &n1, 60, STORE_BAN_MANUAL, "x", NULL,
	    &why), 0);
	assert_int_equal(c.n, 5);

	engine_free(&e);
	store_close(&st);
	cfg_free(&cfg);
	event_base_free(base);
	free(path);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_ban_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
