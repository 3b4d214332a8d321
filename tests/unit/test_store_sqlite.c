/*
 * test_store_sqlite - the SQLite store in a temporary directory: bans,
 * lists and events round trips, retention, persistence across reopen and
 * kill -9, schema version checks and the exact error texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/log.h"
#include "store/store.h"
#include "store/store_int.h"

#define MAX_ROWS	256

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct cfg	 cfg;
	struct store	*st;
	struct mw_arena	*a;
};

/* --- helpers --------------------------------------------------------------- */

static struct mw_cidr
net(struct fixture *f, const char *text)
{
	struct mw_cidr	 c;
	const char	*error = NULL;

	if (mw_cidr_parse(text, &c, f->a, &error) < 0)
		fail_msg("mw_cidr_parse %s: %s", text, error);
	return c;
}

static struct mw_addr
addr(const char *text)
{
	struct mw_addr a;

	if (mw_addr_parse(text, &a) < 0)
		fail_msg("mw_addr_parse %s", text);
	return a;
}

static void
fixture_cfg(struct fixture *f)
{
	memset(&f->cfg, 0, sizeof(f->cfg));
	f->cfg.store.backend = "sqlite";
	f->cfg.store.path = f->path;
	f->cfg.store.event_retention = 30 * 86400;
	f->cfg.store.event_max_rows = 1000000;
}

static void
store_reopen(struct fixture *f)
{
	char	*error = NULL;

	store_close(&f->st);
	if (store_open(&f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		*error = NULL;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mw-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/mailward.db", f->dir);
	fixture_cfg(f);
	f->a = mw_arena_new(4096);
	if (store_open(&f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
	*state = f;
	return 0;
}

/* As setup, without opening the store. */
static int
setup_dir(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/mw-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/mailward.db", f->dir);
	fixture_cfg(f);
	f->a = mw_arena_new(4096);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	store_close(&f->st);
	store_close(&f->st);	/* NULL-safe */
	mw_arena_free(&f->a);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Collected copies of loaded records. */
struct rows {
	struct store_ban	 bans[MAX_ROWS];
	char			 reasons[MAX_ROWS][STORE_MAX_TEXT + 1];
	struct store_list_entry	 lists[MAX_ROWS];
	struct store_event	 events[MAX_ROWS];
	char			 texts[MAX_ROWS][6][STORE_MAX_TEXT + 1];
	size_t			 n, stop_after;
};

static bool
collect_ban(void *ctx, const struct store_ban *b)
{
	struct rows *r = ctx;

	assert_true(r->n < MAX_ROWS);
	assert_true(strlen(b->reason) <= STORE_MAX_TEXT);
	snprintf(r->reasons[r->n], sizeof(r->reasons[r->n]), "%s", b->reason);
	r->bans[r->n] = *b;
	r->bans[r->n].reason = r->reasons[r->n];
	r->n++;
	return r->stop_after == 0 || r->n < r->stop_after;
}

static bool
collect_list(void *ctx, const struct store_list_entry *e)
{
	struct rows *r = ctx;

	assert_true(r->n < MAX_ROWS);
	snprintf(r->reasons[r->n], sizeof(r->reasons[r->n]), "%s", e->comment);
	r->lists[r->n] = *e;
	r->lists[r->n].comment = r->reasons[r->n];
	r->n++;
	return true;
}

static bool
collect_event(void *ctx, const struct store_event *ev)
{
	struct rows		*r = ctx;
	struct store_event	*c;
	const char		*in[6] = { ev->listener, ev->verdict, ev->reason,
	    ev->account, ev->sender, ev->recipient };

	assert_true(r->n < MAX_ROWS);
	for (size_t i = 0; i < 6; i++) {
		assert_true(strlen(in[i]) <= STORE_MAX_TEXT);
		snprintf(r->texts[r->n][i], sizeof(r->texts[r->n][i]), "%s",
		    in[i]);
	}
	c = &r->events[r->n];
	*c = *ev;
	c->listener = r->texts[r->n][0];
	c->verdict = r->texts[r->n][1];
	c->reason = r->texts[r->n][2];
	c->account = r->texts[r->n][3];
	c->sender = r->texts[r->n][4];
	c->recipient = r->texts[r->n][5];
	r->n++;
	return r->stop_after == 0 || r->n < r->stop_after;
}

static const struct store_ban *
find_ban(const struct rows *r, const struct mw_cidr *c)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->bans[i].net.bits == c->bits &&
		    mw_addr_cmp(&r->bans[i].net.addr, &c->addr) == 0)
			return &r->bans[i];
	}
	return NULL;
}

static struct rows *
load_bans(struct fixture *f)
{
	struct rows *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(store_ban_load(f->st, collect_ban, r), 0);
	return r;
}

static struct rows *
load_lists(struct fixture *f)
{
	struct rows *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(store_list_load(f->st, collect_list, r), 0);
	return r;
}

static struct rows *
query_events(struct fixture *f, const struct store_event_query *q)
{
	struct rows *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(store_event_query(f->st, q, collect_event, r), 0);
	return r;
}

static void
assert_ban_equal(const struct store_ban *got, const struct store_ban *want)
{
	assert_non_null(got);
	assert_int_equal(got->net.bits, want->net.bits);
	assert_memory_equal(got->net.addr.b, want->net.addr.b, 16);
	assert_int_equal(got->source, want->source);
	assert_string_equal(got->reason, want->reason);
	assert_int_equal(got->first_seen, want->first_seen);
	assert_int_equal(got->last_seen, want->last_seen);
	assert_int_equal(got->expires, want->expires);
	assert_int_equal(got->hits, want->hits);
	assert_int_equal(got->count, want->count);
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0)
		;
}

/* --- names and text cutting ------------------------------------------------ */

static void
test_source_names(void **state)
{
	static const struct { enum store_ban_source s; const char *name; }
	    names[] = {
		{ STORE_BAN_MANUAL, "manual" },
		{ STORE_BAN_DNSBL, "dnsbl" },
		{ STORE_BAN_LOGIN, "login" },
		{ STORE_BAN_LOGWATCH, "logwatch" },
	};
	enum store_ban_source s = STORE_BAN_LOGWATCH;

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(names); i++) {
		assert_string_equal(store_ban_source_name(names[i].s),
		    names[i].name);
		assert_int_equal(store_ban_source_parse(names[i].name, &s), 0);
		assert_int_equal(s, names[i].s);
	}
	assert_int_equal(store_ban_source_parse("Manual", &s), -1);
	assert_int_equal(store_ban_source_parse("", &s), -1);
	assert_string_equal(store_ban_source_name((enum store_ban_source)42),
	    "unknown");
}

static void
test_text_cut(void **state)
{
	static const struct { const char *in; size_t max, want; } cases[] = {
		{ "", 4, 0 },
		{ "abc", 4, 3 },
		{ "abcd", 4, 4 },
		{ "abcde", 4, 4 },
		{ "a\xc3\xa9", 2, 1 },			/* é split: cut before */
		{ "a\xc3\xa9", 3, 3 },
		{ "ab\xe3\x81\x82z", 4, 2 },		/* あ split after 2 of 3 */
		{ "ab\xe3\x81\x82z", 3, 2 },
		{ "ab\xe3\x81\x82z", 5, 5 },
		{ "\xf0\x9f\x98\x80x", 3, 0 },		/* 4-byte emoji */
		{ "a\x80\x80\x80\x80\x80", 4, 4 },	/* not UTF-8: bytes */
	};

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(cases); i++) {
		size_t got = store_text_cut(cases[i].in, cases[i].max);

		if (got != cases[i].want)
			fail_msg("case %zu: got %zu want %zu", i, got,
			    cases[i].want);
	}
}

/* --- open errors ------------------------------------------------------------ */

static void
test_backend_names(void **state)
{
	struct fixture	*f = *state;
	struct store	*st = (struct store *)&st;	/* must be reset */
	char		*error = NULL;

	f->cfg.store.backend = "redis";
	assert_int_equal(store_open(&f->cfg, &st, &error), -1);
	assert_null(st);
	assert_string_equal(error, "store backend redis is not available in "
	    "this build");
	free(error);
	f->cfg.store.backend = "mysql";
	assert_int_equal(store_open(&f->cfg, &st, &error), -1);
	assert_string_equal(error, "store backend \"mysql\" is unknown; use "
	    "\"sqlite\"");
	free(error);
	f->cfg.store.backend = "sqlite";
	f->cfg.store.path = "";
	assert_int_equal(store_open(&f->cfg, &st, &error), -1);
	assert_string_equal(error, "store: no database path configured");
	free(error);
	/* "" means the default backend. */
	f->cfg.store.backend = "";
	f->cfg.store.path = f->path;
	assert_int_equal(store_open(&f->cfg, &f->st, &error), 0);
	assert_non_null(f->st);
	assert_string_equal(store_last_error(f->st), "no error");
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	char		*error = NULL, *want;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 1297564754;"
	    "PRAGMA user_version = 999; CREATE TABLE future (x)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&f->cfg, &f->st, &error), -1);
	assert_null(f->st);
	assert_true(asprintf(&want, "store: %s: schema version 999 is newer "
	    "than this build knows (%u); run a newer mailwardd or restore a "
	    "backup", f->path, store_schema_version()) > 0);
	assert_string_equal(error, want);
	free(want);
	free(error);
}

static void
test_not_a_database(void **state)
{
	struct fixture	*f = *state;
	FILE		*fp;
	char		*error = NULL, *want;

	assert_non_null(fp = fopen(f->path, "w"));
	for (int i = 0; i < 200; i++)
		fputs("this is a mail log, not a database\n", fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(store_open(&f->cfg, &f->st, &error), -1);
	assert_true(asprintf(&want, "store: %s: reading schema: file is not a "
	    "database", f->path) > 0);
	assert_string_equal(error, want);
	free(want);
	free(error);
}

static void
test_foreign_database_refused(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	char		*error = NULL, *want;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE users (name TEXT)",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&f->cfg, &f->st, &error), -1);
	assert_true(asprintf(&want, "store: %s: the file is an SQLite database "
	    "of another program; configure another [store] path", f->path) > 0);
	assert_string_equal(error, want);
	free(want);
	free(error);
}

static void
test_missing_directory(void **state)
{
	struct fixture	*f = *state;
	char		*error = NULL, *want;

	snprintf(f->path, sizeof(f->path), "%s/nodir/mailward.db", f->dir);
	assert_int_equal(store_open(&f->cfg, &f->st, &error), -1);
	assert_true(asprintf(&want, "store: %s: opening: No such file or "
	    "directory", f->path) > 0);
	assert_string_equal(error, want);
	free(want);
	free(error);
}

static void
test_schema_version_set(void **state)
{
	struct fixture	*f = *state;
	sqlite3		*db;
	sqlite3_stmt	*stmt;

	store_close(&f->st);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	/* The newest migration (2: login guard, issue 3) is applied. */
	assert_int_equal(sqlite3_column_int(stmt, 0), store_schema_version());
	assert_true(store_schema_version() >= 3);
	sqlite3_finalize(stmt);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &stmt, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
	sqlite3_finalize(stmt);
	sqlite3_close(db);
	store_reopen(f);	/* an up-to-date schema opens again */
}

/* --- bans ------------------------------------------------------------------- */

static void
test_ban_round_trip(void **state)
{
	struct fixture	*f = *state;
	struct store_ban bans[] = {
		{ .net = net(f, "192.0.2.1"), .source = STORE_BAN_MANUAL,
		  .reason = "admin", .first_seen = 1700000000,
		  .last_seen = 1700000100, .expires = 1800000000, .hits = 3,
		  .count = 1 },
		{ .net = net(f, "198.51.100.0/24"), .source = STORE_BAN_DNSBL,
		  .reason = "zen.spamhaus.org 127.0.0.2", .first_seen = 1,
		  .last_seen = 2, .expires = 0, .hits = UINT32_MAX,
		  .count = 7 },
		{ .net = net(f, "198.51.100.0/25"), .source = STORE_BAN_LOGIN,
		  .reason = "", .first_seen = 5, .last_seen = 6,
		  .expires = 9, .hits = 0, .count = 2 },
		{ .net = net(f, "2001:db8::/32"), .source = STORE_BAN_LOGWATCH,
		  .reason = "sasl login failures \xe3\x81\x82",
		  .first_seen = 10, .last_seen = 11, .expires = 12,
		  .hits = 1, .count = 1 },
		{ .net = net(f, "2001:db8::1"), .source = STORE_BAN_MANUAL,
		  .reason = "v6 host", .first_seen = -1, .last_seen = 0,
		  .expires = INT64_MAX, .hits = 1, .count = 1 },
	};
	struct store_ban replaced;
	struct rows	*r;

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(bans); i++)
		assert_int_equal(store_ban_put(f->st, &bans[i]), 0);
	r = load_bans(f);
	assert_int_equal(r->n, MW_N_ELEMENTS(bans));
	for (size_t i = 0; i < MW_N_ELEMENTS(bans); i++)
		assert_ban_equal(find_ban(r, &bans[i].net), &bans[i]);
	free(r);

	/* Put again: replaced, not added. */
	replaced = bans[0];
	replaced.reason = "escalated";
	replaced.count = 2;
	replaced.expires = 0;
	assert_int_equal(store_ban_put(f->st, &replaced), 0);
	r = load_bans(f);
	assert_int_equal(r->n, MW_N_ELEMENTS(bans));
	assert_ban_equal(find_ban(r, &bans[0].net), &replaced);
	free(r);

	/* Delete by exact network: /25 goes, /24 stays. */
	assert_int_equal(store_ban_del(f->st, &bans[2].net), 1);
	assert_int_equal(store_ban_del(f->st, &bans[2].net), 0);
	{
		struct mw_cidr other = net(f, "203.0.113.0/24");

		assert_int_equal(store_ban_del(f->st, &other), 0);
	}
	r = load_bans(f);
	assert_int_equal(r->n, MW_N_ELEMENTS(bans) - 1);
	assert_null(find_ban(r, &bans[2].net));
	assert_ban_equal(find_ban(r, &bans[1].net), &bans[1]);
	free(r);

	/* The callback returning false stops the walk. */
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->stop_after = 2;
	assert_int_equal(store_ban_load(f->st, collect_ban, r), 0);
	assert_int_equal(r->n, 2);
	free(r);
	/* ... and the statement is usable again. */
	r = load_bans(f);
	assert_int_equal(r->n, MW_N_ELEMENTS(bans) - 1);
	free(r);
}

static void
test_ban_reason_cut(void **state)
{
	struct fixture	*f = *state;
	char		 reason[STORE_MAX_TEXT + 10];
	struct store_ban b = { .net = net(f, "192.0.2.7"), .reason = reason };
	struct rows	*r;

	/* 510 'x', then a 3-byte character across the 512-byte limit. */
	memset(reason, 'x', STORE_MAX_TEXT - 2);
	memcpy(reason + STORE_MAX_TEXT - 2, "\xe3\x81\x82tail", 8);
	reason[STORE_MAX_TEXT + 6] = '\0';
	assert_int_equal(store_ban_put(f->st, &b), 0);
	r = load_bans(f);
	assert_int_equal(r->n, 1);
	assert_int_equal(strlen(r->bans[0].reason), STORE_MAX_TEXT - 2);
	assert_memory_equal(r->bans[0].reason, reason, STORE_MAX_TEXT - 2);
	free(r);
}

static void
test_ban_host_bits_ignored(void **state)
{
	struct fixture	*f = *state;
	struct store_ban b = { .net = net(f, "10.0.0.0/8"), .reason = "r" };
	struct mw_cidr	 sloppy = b.net;
	struct rows	*r;

	/* A key with host bits set is the same network. */
	sloppy.addr.b[15] = 1;
	assert_int_equal(store_ban_put(f->st, &b), 0);
	assert_int_equal(store_ban_del(f->st, &sloppy), 1);
	r = load_bans(f);
	assert_int_equal(r->n, 0);
	free(r);
}

static void
test_ban_purge(void **state)
{
	struct fixture	*f = *state;
	static const int64_t expires[] = { 100, 200, 300, 400, 500, 0,
	    1000000 };
	struct rows	*r;

	for (size_t i = 0; i < MW_N_ELEMENTS(expires); i++) {
		struct store_ban b = { .reason = "p", .expires = expires[i] };

		mw_addr_from_v4(0xc0000200u + (uint32_t)i, &b.net.addr);
		b.net.bits = 128;
		assert_int_equal(store_ban_put(f->st, &b), 0);
	}
	assert_int_equal(store_ban_purge(f->st, 99, 10), 0);
	assert_int_equal(store_ban_purge(f->st, 100, 10), 1);	/* <= now */
	assert_int_equal(store_ban_purge(f->st, 100, 10), 0);
	assert_int_equal(store_ban_purge(f->st, 10000, 0), 0);	/* limit 0 */
	assert_int_equal(store_ban_purge(f->st, 10000, 3), 3);	/* limit */
	assert_int_equal(store_ban_purge(f->st, 10000, 3), 1);
	assert_int_equal(store_ban_purge(f->st, 10000, 3), 0);
	r = load_bans(f);
	assert_int_equal(r->n, 2);	/* permanent and the future one */
	assert_true((r->bans[0].expires == 0 && r->bans[1].expires == 1000000) ||
	    (r->bans[1].expires == 0 && r->bans[0].expires == 1000000));
	free(r);
}

static bool touch_queued;	/* test_ban_touch through the writer */

static void
test_ban_touch(void **state)
{
	struct fixture	*f = *state;
	struct store_ban bans[3] = {
		{ .net = net(f, "192.0.2.1"), .reason = "a", .hits = 1,
		  .last_seen = 10, .first_seen = 5, .count = 4,
		  .source = STORE_BAN_LOGIN },
		{ .net = net(f, "2001:db8::/64"), .reason = "b", .hits = 2,
		  .last_seen = 20 },
		{ .net = net(f, "192.0.2.3"), .reason = "c", .hits = 3,
		  .last_seen = 30 },
	};
	struct mw_cidr	 nets[3] = { bans[0].net, bans[1].net,
	    net(f, "203.0.113.9") /* not banned: ignored */ };
	uint32_t	 hits[3] = { 100, 200, 300 };
	int64_t		 seen[3] = { 1000, 2000, 3000 };
	struct store_ban want;
	struct rows	*r;

	assert_int_equal(store_ban_put_many(f->st, bans, 3), 0);
	if (touch_queued) {
		store_ban_touch_queue(f->st, nets, hits, seen, 3);
		store_ban_touch_queue(f->st, nets, hits, seen, 0);
		store_event_sync(f->st);	/* the writer has saved them */
	} else {
		assert_int_equal(store_ban_touch(f->st, nets, hits, seen, 3), 0);
		assert_int_equal(store_ban_touch(f->st, nets, hits, seen, 0), 0);
	}
	r = load_bans(f);
	assert_int_equal(r->n, 3);
	want = bans[0];
	want.hits = 100;
	want.last_seen = 1000;
	assert_ban_equal(find_ban(r, &bans[0].net), &want);
	want = bans[1];
	want.hits = 200;
	want.last_seen = 2000;
	assert_ban_equal(find_ban(r, &bans[1].net), &want);
	assert_ban_equal(find_ban(r, &bans[2].net), &bans[2]);
	free(r);
}

static void
test_ban_touch_queued(void **state)
{
	touch_queued = true;
	test_ban_touch(state);
	touch_queued = false;
}

static void
test_ban_put_many(void **state)
{
	struct fixture	*f = *state;
	struct store_ban *b = calloc(200, sizeof(*b));
	struct rows	*r;

	assert_non_null(b);
	for (uint32_t i = 0; i < 200; i++) {
		mw_addr_from_v4(0x0a000000u + (i << 8), &b[i].net.addr);
		b[i].net.bits = 96 + 24;
		b[i].reason = "bulk";
		b[i].hits = i;
	}
	assert_int_equal(store_ban_put_many(f->st, b, 200), 0);
	assert_int_equal(store_ban_put_many(f->st, b, 0), 0);
	r = load_bans(f);
	assert_int_equal(r->n, 200);
	for (uint32_t i = 0; i < 200; i++)
		assert_ban_equal(find_ban(r, &b[i].net), &b[i]);
	free(r);
	free(b);
}

/* A write lock held by someone else: the put fails after the busy
   timeout, and the error names the file, the action and SQLite's text. */
static void
test_ban_put_error_text(void **state)
{
	struct fixture	*f = *state;
	struct store_ban b = { .net = net(f, "192.0.2.1"), .reason = "x" };
	struct store_stats stats;
	sqlite3		*db;
	char		*want;
	struct rows	*r;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(store_ban_put(f->st, &b), -1);
	assert_true(asprintf(&want, "%s: saving ban 192.0.2.1: database is "
	    "locked", f->path) > 0);
	assert_string_equal(store_last_error(f->st), want);
	free(want);
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.write_errors, 1);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_ban_put(f->st, &b), 0);
	r = load_bans(f);
	assert_int_equal(r->n, 1);
	free(r);
}

struct capture {
	char	 line[512];
	int	 n;
};

static void
capture_log(void *ctx, enum log_level level, const char *line)
{
	struct capture *c = ctx;

	if (level == LOG_LEVEL_WARN) {
		snprintf(c->line, sizeof(c->line), "%s", line);
		c->n++;
	}
}

/* Rows written by hand (another tool, a bad restore): a malformed
   network is skipped with one warning, an unknown source reads as
   manual, the rest load. */
static void
test_ban_load_malformed_rows(void **state)
{
	struct fixture	*f = *state;
	struct capture	 cap = { .n = 0 };
	sqlite3		*db;
	struct rows	*r;
	char		*want;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO bans VALUES (x'0102', 'manual', 'short', 0, 0, 0, 0, 0);"
	    "INSERT INTO bans VALUES (x'00000000000000000000ffffc000020181', "
	    "'manual', 'bits 129', 0, 0, 0, 0, 0);"
	    "INSERT INTO bans VALUES (x'00000000000000000000ffffc000020180', "
	    "'future-source', 'ok', 1, 2, 3, -5, 99999999999);"
	    "INSERT INTO lists VALUES ('maybe', "
	    "x'00000000000000000000ffffc000020180', 'c', 0);",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	log_set_capture(capture_log, &cap);
	r = load_bans(f);
	log_set_capture(NULL, NULL);
	assert_int_equal(r->n, 1);
	assert_memory_equal(r->bans[0].net.addr.b, addr("192.0.2.1").b, 16);
	assert_int_equal(r->bans[0].net.bits, 128);
	assert_int_equal(r->bans[0].source, STORE_BAN_MANUAL);
	assert_string_equal(r->bans[0].reason, "ok");
	assert_int_equal(r->bans[0].hits, 0);		/* -5 clamped */
	assert_int_equal(r->bans[0].count, UINT32_MAX);	/* clamped */
	free(r);
	assert_int_equal(cap.n, 1);
	assert_true(asprintf(&want, "store: %s: 2 bans with a malformed network "
	    "skipped", f->path) > 0);
	assert_non_null(strstr(cap.line, want));
	free(want);

	cap.n = 0;
	log_set_capture(capture_log, &cap);
	r = load_lists(f);
	log_set_capture(NULL, NULL);
	assert_int_equal(r->n, 0);
	free(r);
	assert_int_equal(cap.n, 1);
	assert_true(asprintf(&want, "store: %s: 1 malformed list entries "
	    "skipped", f->path) > 0);
	assert_non_null(strstr(cap.line, want));
	free(want);
}

/* --- lists ------------------------------------------------------------------ */

static void
test_lists(void **state)
{
	struct fixture	*f = *state;
	struct store_list_entry allow = { .net = net(f, "192.0.2.0/24"),
	    .list = STORE_LIST_ALLOW, .comment = "office", .created = 1234 };
	struct store_list_entry deny = { .net = net(f, "192.0.2.0/24"),
	    .list = STORE_LIST_DENY, .comment = "also denied", .created = 5678 };
	struct store_list_entry v6 = { .net = net(f, "2001:db8:1::/48"),
	    .list = STORE_LIST_DENY, .comment = NULL, .created = 9 };
	struct rows	*r;
	bool		 seen_allow = false, seen_deny = false, seen_v6 = false;

	assert_int_equal(store_list_put(f->st, &allow), 0);
	assert_int_equal(store_list_put(f->st, &deny), 0);
	assert_int_equal(store_list_put(f->st, &v6), 0);
	r = load_lists(f);
	assert_int_equal(r->n, 3);
	for (size_t i = 0; i < r->n; i++) {
		const struct store_list_entry *e = &r->lists[i];

		if (e->list == STORE_LIST_ALLOW) {
			assert_memory_equal(&e->net, &allow.net, sizeof(e->net));
			assert_string_equal(e->comment, "office");
			assert_int_equal(e->created, 1234);
			seen_allow = true;
		} else if (e->net.bits == deny.net.bits) {
			assert_memory_equal(&e->net, &deny.net, sizeof(e->net));
			assert_string_equal(e->comment, "also denied");
			assert_int_equal(e->created, 5678);
			seen_deny = true;
		} else {
			assert_int_equal(e->list, STORE_LIST_DENY);
			assert_memory_equal(&e->net, &v6.net, sizeof(e->net));
			assert_string_equal(e->comment, "");
			assert_int_equal(e->created, 9);
			seen_v6 = true;
		}
	}
	assert_true(seen_allow && seen_deny && seen_v6);
	free(r);

	/* Replace by (list, net). */
	allow.comment = "office v2";
	assert_int_equal(store_list_put(f->st, &allow), 0);
	r = load_lists(f);
	assert_int_equal(r->n, 3);
	free(r);

	assert_int_equal(store_list_del(f->st, STORE_LIST_ALLOW, &allow.net), 1);
	assert_int_equal(store_list_del(f->st, STORE_LIST_ALLOW, &allow.net), 0);
	assert_int_equal(store_list_del(f->st, STORE_LIST_ALLOW, &v6.net), 0);
	r = load_lists(f);
	assert_int_equal(r->n, 2);
	for (size_t i = 0; i < r->n; i++)
		assert_int_equal(r->lists[i].list, STORE_LIST_DENY);
	free(r);
}

/* --- events ------------------------------------------------------------------ */

static struct store_event
event(int64_t t, const char *a, const char *verdict)
{
	return (struct store_event){
		.time_ms = t, .addr = addr(a), .listener = "policy",
		.verdict = verdict, .reason = "deny list 198.51.100.0/24",
		.account = "", .sender = "a@example.com",
		.recipient = "b@example.org",
	};
}

static void
test_events_query(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t0 = now_ms() - 10000;
	struct store_event evs[] = {
		event(t0 + 1, "192.0.2.1", "DUNNO"),
		event(t0 + 2, "192.0.2.2", "REJECT"),
		event(t0 + 3, "192.0.2.1", "DEFER"),
		event(t0 + 4, "2001:db8::1", "BAN"),
		event(t0 + 5, "192.0.2.1", "UNBAN"),
	};
	struct store_event_query q = { 0 };
	struct store_stats stats;
	struct rows	*r;

	evs[3].account = "alice";
	evs[3].listener = "admin";
	evs[3].sender = NULL;	/* NULL is stored as "" */
	for (size_t i = 0; i < MW_N_ELEMENTS(evs); i++)
		store_event_append(f->st, &evs[i]);
	store_event_sync(f->st);
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.events_written, 5);
	assert_int_equal(stats.events_dropped, 0);

	/* All, newest first, every field. */
	r = query_events(f, &q);
	assert_int_equal(r->n, 5);
	for (size_t i = 0; i < 5; i++) {
		const struct store_event *got = &r->events[i];
		const struct store_event *want = &evs[4 - i];

		assert_int_equal(got->time_ms, want->time_ms);
		assert_memory_equal(got->addr.b, want->addr.b, 16);
		assert_string_equal(got->listener, want->listener);
		assert_string_equal(got->verdict, want->verdict);
		assert_string_equal(got->reason, want->reason);
		assert_string_equal(got->account, want->account);
		assert_string_equal(got->sender,
		    want->sender != NULL ? want->sender : "");
		assert_string_equal(got->recipient, want->recipient);
	}
	free(r);

	/* since/until are inclusive. */
	q.since_ms = t0 + 2;
	q.until_ms = t0 + 4;
	r = query_events(f, &q);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->events[0].verdict, "BAN");
	assert_string_equal(r->events[1].verdict, "DEFER");
	assert_string_equal(r->events[2].verdict, "REJECT");
	free(r);

	/* By address (v4), within bounds, then limit. */
	q = (struct store_event_query){ .has_addr = true,
	    .addr = addr("192.0.2.1") };
	r = query_events(f, &q);
	assert_int_equal(r->n, 3);
	assert_string_equal(r->events[0].verdict, "UNBAN");
	assert_string_equal(r->events[1].verdict, "DEFER");
	assert_string_equal(r->events[2].verdict, "DUNNO");
	free(r);
	q.until_ms = t0 + 4;
	r = query_events(f, &q);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->events[0].verdict, "DEFER");
	free(r);
	q = (struct store_event_query){ .has_addr = true,
	    .addr = addr("2001:db8::1") };
	r = query_events(f, &q);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->events[0].account, "alice");
	assert_string_equal(r->events[0].listener, "admin");
	free(r);
	q = (struct store_event_query){ .has_addr = true,
	    .addr = addr("203.0.113.1") };
	r = query_events(f, &q);
	assert_int_equal(r->n, 0);
	free(r);
	q = (struct store_event_query){ .limit = 2 };
	r = query_events(f, &q);
	assert_int_equal(r->n, 2);
	assert_string_equal(r->events[0].verdict, "UNBAN");
	assert_string_equal(r->events[1].verdict, "BAN");
	free(r);

	/* The callback returning false stops. */
	r = calloc(1, sizeof(*r));
	assert_non_null(r);
	r->stop_after = 1;
	q = (struct store_event_query){ 0 };
	assert_int_equal(store_event_query(f->st, &q, collect_event, r), 0);
	assert_int_equal(r->n, 1);
	free(r);
}

static void
test_events_default_limit_and_cut(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t0 = now_ms() - 100000;
	char		 long_reason[STORE_MAX_TEXT * 2];
	struct store_event_query q = { 0 };
	struct rows	*r;

	memset(long_reason, 'r', sizeof(long_reason) - 1);
	long_reason[sizeof(long_reason) - 1] = '\0';
	/* "é" (2 bytes) straddles the limit at 511-512. */
	memcpy(long_reason + STORE_MAX_TEXT - 1, "\xc3\xa9", 2);
	for (int i = 0; i < 150; i++) {
		struct store_event ev = event(t0 + i, "192.0.2.9", "DUNNO");

		ev.reason = long_reason;
		store_event_append(f->st, &ev);
	}
	store_event_sync(f->st);
	r = query_events(f, &q);
	assert_int_equal(r->n, 100);
	assert_int_equal(r->events[0].time_ms, t0 + 149);
	assert_int_equal(r->events[99].time_ms, t0 + 50);
	assert_int_equal(strlen(r->events[0].reason), STORE_MAX_TEXT - 1);
	assert_memory_equal(r->events[0].reason, long_reason,
	    STORE_MAX_TEXT - 1);
	free(r);
}

/* Without a sync the writer still commits within STORE_EVENT_FLUSH_MS. */
static void
test_events_flush_without_sync(void **state)
{
	struct fixture	*f = *state;
	struct store_event ev = event(now_ms(), "192.0.2.1", "REJECT");
	struct store_event_query q = { 0 };
	struct rows	*r;

	store_event_append(f->st, &ev);
	sleep_ms(STORE_EVENT_FLUSH_MS * 5);
	r = query_events(f, &q);
	assert_int_equal(r->n, 1);
	free(r);
}

static void
test_events_retention_rows(void **state)
{
	struct fixture	*f = *state;
	int64_t		 t0 = now_ms() - 100000;
	struct store_event_query q = { .limit = 1000 };
	struct store_stats stats;
	struct rows	*r;

	f->cfg.store.event_max_rows = 10;
	store_reopen(f);
	for (int i = 0; i < 25; i++) {
		/* Appended out of time order: pruning goes by time. */
		int64_t t = t0 + (i % 2 == 0 ? i : 100 - i);

		store_event_append(f->st, &(struct store_event){
		    .time_ms = t, .addr = addr("192.0.2.1"), .verdict = "X" });
	}
	store_event_sync(f->st);
	r = query_events(f, &q);
	assert_int_equal(r->n, 10);
	/* The 10 newest times: the odd i give 99..77, the even 24..0. */
	assert_int_equal(r->events[0].time_ms, t0 + 99);
	assert_int_equal(r->events[9].time_ms, t0 + 81);
	free(r);
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.events_written, 25);
	assert_int_equal(stats.events_pruned, 15);

	/* The row count survives a reopen: 5 more prune 5 more. */
	store_reopen(f);
	for (int i = 0; i < 5; i++)
		store_event_append(f->st, &(struct store_event){
		    .time_ms = t0 + 200 + i, .addr = addr("192.0.2.1") });
	store_event_sync(f->st);
	r = query_events(f, &q);
	assert_int_equal(r->n, 10);
	assert_int_equal(r->events[0].time_ms, t0 + 204);
	assert_int_equal(r->events[9].time_ms, t0 + 91);
	free(r);
}

static void
test_events_retention_time(void **state)
{
	struct fixture	*f = *state;
	int64_t		 now = now_ms();
	struct store_event_query q = { 0 };
	struct store_stats stats;
	struct rows	*r;

	f->cfg.store.event_retention = 3600;
	store_reopen(f);
	store_event_append(f->st, &(struct store_event){
	    .time_ms = now - 7200 * 1000, .addr = addr("192.0.2.1") });
	store_event_append(f->st, &(struct store_event){
	    .time_ms = now - 3700 * 1000, .addr = addr("192.0.2.2") });
	store_event_append(f->st, &(struct store_event){
	    .time_ms = now - 3500 * 1000, .addr = addr("192.0.2.3") });
	store_event_append(f->st, &(struct store_event){
	    .time_ms = now, .addr = addr("192.0.2.4") });
	store_event_sync(f->st);
	r = query_events(f, &q);
	assert_int_equal(r->n, 2);
	assert_memory_equal(r->events[0].addr.b, addr("192.0.2.4").b, 16);
	assert_memory_equal(r->events[1].addr.b, addr("192.0.2.3").b, 16);
	free(r);
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.events_pruned, 2);
}

/* A writer blocked by another connection's lock: the queue fills and
   further events are dropped and counted, never blocking the caller. */
static void
test_events_queue_full_drops(void **state)
{
	struct fixture	*f = *state;
	struct store_event ev = event(now_ms(), "192.0.2.1", "DUNNO");
	struct store_stats stats;
	sqlite3		*db;

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	store_event_append(f->st, &ev);
	/* The writer takes it within STORE_EVENT_FLUSH_MS / 2 and then waits
	   for the lock (busy timeout 2 s) while the queue fills. */
	sleep_ms(500);
	for (int i = 0; i < STORE_EVENT_QUEUE_MAX + 10; i++)
		store_event_append(f->st, &ev);
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.events_dropped, 10);
	assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	store_event_sync(f->st);
	store_get_stats(f->st, &stats);
	assert_int_equal(stats.events_written + stats.write_errors,
	    STORE_EVENT_QUEUE_MAX + 1);
	assert_int_equal(stats.events_dropped, 10);
}

/* --- persistence ------------------------------------------------------------- */

static void
test_reopen_persistence(void **state)
{
	struct fixture	*f = *state;
	struct store_ban b = { .net = net(f, "2001:db8::/48"),
	    .source = STORE_BAN_LOGIN, .reason = "spray", .first_seen = 1,
	    .last_seen = 2, .expires = 3, .hits = 4, .count = 5 };
	struct store_list_entry le = { .net = net(f, "192.0.2.0/24"),
	    .list = STORE_LIST_DENY, .comment = "c", .created = 6 };
	struct store_event ev = event(now_ms(), "192.0.2.5", "REJECT");
	struct store_event_query q = { 0 };
	struct rows	*r;

	assert_int_equal(store_ban_put(f->st, &b), 0);
	assert_int_equal(store_list_put(f->st, &le), 0);
	store_event_append(f->st, &ev);
	store_reopen(f);	/* close flushes the queued event */
	r = load_bans(f);
	assert_int_equal(r->n, 1);
	assert_ban_equal(&r->bans[0], &b);
	free(r);
	r = load_lists(f);
	assert_int_equal(r->n, 1);
	assert_string_equal(r->lists[0].comment, "c");
	assert_int_equal(r->lists[0].list, STORE_LIST_DENY);
	free(r);
	r = query_events(f, &q);
	assert_int_equal(r->n, 1);
	assert_int_equal(r->events[0].time_ms, ev.time_ms);
	free(r);
}

/* logwatch positions: absent, put, replaced, 64-bit inode bits, journal
   cursor, all surviving a reopen. */
static void
test_logpos_round_trip(void **state)
{
	struct fixture		*f = *state;
	struct store_logpos	 p = { .inode = 0xfedcba9876543210ull,
	    .offset = 123456789012ull, .updated = 1795435200 }, got;
	struct store_logpos	 j = { .updated = 7 };

	assert_int_equal(store_logpos_get(f->st, "/var/log/mail.log", &got), 0);
	assert_int_equal(store_logpos_put(f->st, "/var/log/mail.log", &p), 0);
	(void)snprintf(j.cursor, sizeof(j.cursor), "s=0123;i=4a;b=89ab;m=1;t=5;x=6");
	assert_int_equal(store_logpos_put(f->st, "journal", &j), 0);
	store_reopen(f);
	assert_int_equal(store_logpos_get(f->st, "/var/log/mail.log", &got), 1);
	assert_true(got.inode == p.inode);
	assert_true(got.offset == p.offset);
	assert_int_equal(got.updated, p.updated);
	assert_string_equal(got.cursor, "");
	p.offset = 42;
	p.inode = 7;
	assert_int_equal(store_logpos_put(f->st, "/var/log/mail.log", &p), 0);
	assert_int_equal(store_logpos_get(f->st, "/var/log/mail.log", &got), 1);
	assert_true(got.offset == 42 && got.inode == 7);
	assert_int_equal(store_logpos_get(f->st, "journal", &got), 1);
	assert_string_equal(got.cursor, "s=0123;i=4a;b=89ab;m=1;t=5;x=6");
	assert_int_equal(store_logpos_get(f->st, "/var/log/other.log", &got), 0);
}

/* kill -9 right after an acknowledged put: the ban is there. */
static void
test_durable_after_sigkill(void **state)
{
	struct fixture	*f = *state;
	struct store_ban b = { .net = net(f, "203.0.113.66"),
	    .source = STORE_BAN_MANUAL, .reason = "kill -9", .expires = 0 };
	struct store_list_entry le = { .net = net(f, "198.51.100.0/24"),
	    .list = STORE_LIST_ALLOW, .comment = "k" };
	struct rows	*r;
	pid_t		 pid;
	int		 status;

	store_close(&f->st);	/* the child has the only connection */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store	*st = NULL;
		char		*error = NULL;

		if (store_open(&f->cfg, &st, &error) < 0 ||
		    store_ban_put(st, &b) < 0 || store_list_put(st, &le) < 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	store_reopen(f);
	r = load_bans(f);
	assert_int_equal(r->n, 1);
	assert_ban_equal(&r->bans[0], &b);
	free(r);
	r = load_lists(f);
	assert_int_equal(r->n, 1);
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_names),
		cmocka_unit_test(test_text_cut),
		cmocka_unit_test_setup_teardown(test_backend_names, setup_dir,
		    teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup_dir,
		    teardown),
		cmocka_unit_test_setup_teardown(test_foreign_database_refused,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory,
		    setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_schema_version_set, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ban_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ban_reason_cut, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ban_host_bits_ignored,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_purge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_touch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ban_touch_queued, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ban_put_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ban_put_error_text, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ban_load_malformed_rows,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_query, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_events_default_limit_and_cut,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_flush_without_sync,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_retention_rows,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_retention_time,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_queue_full_drops,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_logpos_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reopen_persistence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_durable_after_sigkill,
		    setup, teardown),
	};

	log_open("test_store_sqlite", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
