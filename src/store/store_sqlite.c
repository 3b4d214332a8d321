/*
 * store_sqlite - the SQLite backend: one database file in WAL mode.
 *
 * Two connections. The loop connection (event loop thread only) does
 * bans, lists and event queries, each write committed before returning
 * (synchronous=NORMAL in WAL: survives kill -9, power loss may lose the
 * last commits). The writer connection belongs to a thread that drains
 * the bounded event queue in batches (one transaction each, at most
 * STORE_EVENT_FLUSH_MS after the first event of a batch was queued) and
 * prunes old events in bounded chunks; it also does the WAL checkpoints,
 * so the loop thread never copies pages. WAL lets the loop read while the
 * writer writes; two writers wait for each other up to the busy timeout.
 * Statements are prepared once at open; values are bound by typed
 * helpers only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/log.h"
#include "store/store_int.h"

#define SQ_BUSY_TIMEOUT_MS	2000	/* wait for the other connection's commit */
#define SQ_BUSY_STEP_US		250	/* one wait step while it commits */
#define SQ_BATCH_WAKE		1024	/* queued events that wake the writer at once */
#define SQ_PRUNE_INTERVAL_MS	10000	/* time-based retention check */
#define SQ_PRUNE_AGAIN_MS	200	/* next chunk when more is due */
#define SQ_PRUNE_CHUNK		5000	/* rows deleted per prune transaction */
#define SQ_ERROR_LOG_MS		60000	/* writer errors logged at most this often */
#define SQ_QUERY_LIMIT		100	/* events per query when none is given */
#define SQ_KEY_LEN		17	/* 16-byte address + prefix length */
#define SQ_EVENT_TEXTS		6
#define SQ_MODE_LEN		16	/* "wal", "delete", ... */
#define SQ_ALERT_TEXT_MAX	65536	/* bytes of an alert text (evidence) kept */

/* Statements both connections prepare. */
#define SQ_BAN_TOUCH_SQL	"UPDATE bans SET hits = ?2, last_seen = ?3 " \
	"WHERE net = ?1"
#define SQ_NET_PUT_SQL	"INSERT INTO login_networks (account, net, " \
	"first_success, last_success, successes) VALUES (?1, ?2, ?3, ?4, " \
	"?5) ON CONFLICT (account, net) DO UPDATE SET " \
	"first_success = min(first_success, excluded.first_success), " \
	"last_success = max(last_success, excluded.last_success), " \
	"successes = successes + excluded.successes"

/* What the writer thread saves. */
enum sq_rec {
	SQ_REC_EVENT,		/* a row of events */
	SQ_REC_LOGIN_NET,	/* an upsert of login_networks */
	SQ_REC_BAN_TOUCH,	/* hits and last_seen of a ban */
	SQ_REC_ALERT,		/* a new row of login_alerts */
};

/* One queued record: the texts live in text[], NUL-terminated at off[i].
   A login network uses addr and bits (the network), text 0 (the
   account), first_s, last_s and count (successes); a ban touch addr and
   bits (the ban), count (hits) and last_s (last_seen); an alert first_s
   (its id), last_s (time), addr and texts 0-3 (account, kind, reason,
   evidence). */
struct sq_event {
	struct sq_event	*next;
	enum sq_rec	 rec;
	int64_t		 time_ms;
	struct mw_addr	 addr;
	uint32_t	 count;		/* >= 1 */
	uint8_t		 bits;
	int64_t		 first_s, last_s;
	size_t		 off[SQ_EVENT_TEXTS], len[SQ_EVENT_TEXTS];
	char		 text[];
};

enum sq_loop_stmt {
	SQ_BAN_PUT, SQ_BAN_DEL, SQ_BAN_LOAD, SQ_BAN_PURGE, SQ_BAN_TOUCH,
	SQ_LIST_PUT, SQ_LIST_DEL, SQ_LIST_LOAD, SQ_EV_QUERY, SQ_EV_QUERY_ADDR,
	SQ_BEGIN, SQ_COMMIT, SQ_ROLLBACK,
	SQ_LOOP_N
};

enum sq_writer_stmt {
	SQW_INSERT, SQW_PRUNE_TIME, SQW_PRUNE_ROWS, SQW_COUNT, SQW_TALLY,
	SQW_PRUNE_TALLY, SQW_NET_PUT, SQW_BAN_TOUCH, SQW_ALERT_ADD,
	SQW_BEGIN, SQW_COMMIT, SQW_ROLLBACK,
	SQW_N
};

struct sq_writer {
	sqlite3		*db;
	sqlite3_stmt	*stmt[SQW_N];
	const char	*path;
	pthread_t	 thread;
	bool		 started;

	pthread_mutex_t	 mu;
	pthread_cond_t	 work;		/* writer waits: events, sync, stop */
	pthread_cond_t	 done;		/* sync waits: seq_done moved */
	/* Under mu: */
	struct sq_event	*head, **tailp;
	size_t		 queued;
	int64_t		 first_ms;	/* monotonic; when head was queued */
	uint64_t	 seq_queued, seq_done;
	unsigned	 sync_waiters;
	bool		 stop;
	struct store_stats stats;

	/* Writer thread only: */
	int64_t		 rows;		/* rows in events, counted at start */
	int64_t		 next_prune_ms;	/* monotonic */
	int64_t		 last_log_ms;
	uint64_t	 retention_ms, max_rows;
};

/* The login guard's statements (loop connection). */
enum sq_login_stmt {
	SQL_ALERT_NEXT_ID, SQL_ALERT_QUERY, SQL_ALERT_ACK, SQL_NET_PUT,
	SQL_NET_QUERY, SQL_ESC_GET, SQL_ESC_PUT, SQL_WEAK_PUT, SQL_WEAK_DEL,
	SQL_WEAK_GET, SQL_EV_QUERY_ACCOUNT,
	SQL_N
};

/* logwatch's positions (loop connection). */
enum sq_logpos_stmt { SQP_GET, SQP_PUT, SQP_N };

struct sq_store {
	sqlite3		*db;
	char		*path;
	sqlite3_stmt	*stmt[SQ_LOOP_N];
	sqlite3_stmt	*lstmt[SQL_N];
	sqlite3_stmt	*pstmt[SQP_N];
	struct sq_writer w;
	/* Alerts are queued for the writer with ids given here (the loop
	   is the only one adding them); a read of alerts first waits until
	   the writer is past alert_seq, the last alert queued. */
	int64_t		 next_alert_id;
	uint64_t	 alert_seq;
};

static const char *const sq_loop_sql[SQ_LOOP_N] = {
	[SQ_BAN_PUT] = "INSERT OR REPLACE INTO bans (net, source, reason, "
	    "first_seen, last_seen, expires, hits, count) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[SQ_BAN_DEL] = "DELETE FROM bans WHERE net = ?1",
	[SQ_BAN_LOAD] = "SELECT net, source, reason, first_seen, last_seen, "
	    "expires, hits, count FROM bans",
	[SQ_BAN_PURGE] = "DELETE FROM bans WHERE net IN (SELECT net FROM "
	    "bans WHERE expires > 0 AND expires <= ?1 LIMIT ?2)",
	[SQ_BAN_TOUCH] = SQ_BAN_TOUCH_SQL,
	[SQ_LIST_PUT] = "INSERT OR REPLACE INTO lists (list, net, comment, "
	    "created) VALUES (?1, ?2, ?3, ?4)",
	[SQ_LIST_DEL] = "DELETE FROM lists WHERE list = ?1 AND net = ?2",
	[SQ_LIST_LOAD] = "SELECT list, net, comment, created FROM lists",
	[SQ_EV_QUERY] = "SELECT time_ms, addr, listener, verdict, reason, "
	    "account, sender, recipient, count FROM events "
	    "WHERE time_ms BETWEEN ?1 AND ?2 "
	    "ORDER BY time_ms DESC, id DESC LIMIT ?3",
	[SQ_EV_QUERY_ADDR] = "SELECT time_ms, addr, listener, verdict, "
	    "reason, account, sender, recipient, count FROM events "
	    "WHERE addr = ?4 AND time_ms BETWEEN ?1 AND ?2 "
	    "ORDER BY time_ms DESC, id DESC LIMIT ?3",
	[SQ_BEGIN] = "BEGIN IMMEDIATE",
	[SQ_COMMIT] = "COMMIT",
	[SQ_ROLLBACK] = "ROLLBACK",
};

static const char *const sq_logpos_sql[SQP_N] = {
	[SQP_GET] = "SELECT inode, offset, cursor, updated FROM log_positions "
	    "WHERE name = ?1",
	[SQP_PUT] = "INSERT OR REPLACE INTO log_positions (name, inode, offset, "
	    "cursor, updated) VALUES (?1, ?2, ?3, ?4, ?5)",
};

static const char *const sq_login_sql[SQL_N] = {
	[SQL_ALERT_NEXT_ID] = "SELECT coalesce(max(id), 0) + 1 FROM login_alerts",
	[SQL_ALERT_QUERY] = "SELECT id, time, account, addr, kind, reason, "
	    "evidence, ack_by, ack_at FROM login_alerts "
	    "WHERE (?1 OR ack_at = 0) AND (?2 = 0 OR id = ?2) "
	    "AND (?3 = '' OR account = ?3) ORDER BY id DESC LIMIT ?4",
	[SQL_ALERT_ACK] = "UPDATE login_alerts SET ack_by = ?2, ack_at = ?3 "
	    "WHERE id = ?1 AND ack_at = 0",
	[SQL_NET_PUT] = SQ_NET_PUT_SQL,
	[SQL_NET_QUERY] = "SELECT account, net, first_success, last_success, "
	    "successes FROM login_networks WHERE (?1 = '' OR account = ?1) "
	    "AND last_success >= ?2 ORDER BY last_success DESC",
	[SQL_ESC_GET] = "SELECT level, bans, last_ban FROM login_escalation "
	    "WHERE net = ?1",
	[SQL_ESC_PUT] = "INSERT OR REPLACE INTO login_escalation (net, level, "
	    "bans, last_ban) VALUES (?1, ?2, ?3, ?4)",
	[SQL_WEAK_PUT] = "INSERT OR REPLACE INTO login_weak (account, since) "
	    "VALUES (?1, ?2)",
	[SQL_WEAK_DEL] = "DELETE FROM login_weak WHERE account = ?1",
	[SQL_WEAK_GET] = "SELECT since FROM login_weak WHERE account = ?1",
	[SQL_EV_QUERY_ACCOUNT] = "SELECT time_ms, addr, listener, verdict, "
	    "reason, account, sender, recipient, count FROM events "
	    "WHERE account = ?4 AND (?5 = '' OR verdict = ?5) "
	    "AND time_ms BETWEEN ?1 AND ?2 "
	    "ORDER BY time_ms DESC, id DESC LIMIT ?3",
};

static const char *const sq_writer_sql[SQW_N] = {
	[SQW_INSERT] = "INSERT INTO events (time_ms, addr, listener, "
	    "verdict, reason, account, sender, recipient, count) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[SQW_PRUNE_TIME] = "DELETE FROM events WHERE id IN (SELECT id FROM "
	    "events WHERE time_ms < ?1 ORDER BY time_ms LIMIT ?2)",
	[SQW_PRUNE_ROWS] = "DELETE FROM events WHERE id IN (SELECT id FROM "
	    "events ORDER BY time_ms, id LIMIT ?1)",
	[SQW_COUNT] = "SELECT count(*) FROM events",
	[SQW_TALLY] = "INSERT INTO counts (minute, listener, verdict, n) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (minute, listener, verdict) "
	    "DO UPDATE SET n = n + excluded.n",
	[SQW_PRUNE_TALLY] = "DELETE FROM counts WHERE minute < ?1",
	[SQW_NET_PUT] = SQ_NET_PUT_SQL,
	[SQW_BAN_TOUCH] = SQ_BAN_TOUCH_SQL,
	[SQW_ALERT_ADD] = "INSERT INTO login_alerts (id, time, account, addr, "
	    "kind, reason, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[SQW_BEGIN] = "BEGIN IMMEDIATE",
	[SQW_COMMIT] = "COMMIT",
	[SQW_ROLLBACK] = "ROLLBACK",
};

static const char *const sq_list_names[] = {
	[STORE_LIST_ALLOW] = "allow",
	[STORE_LIST_DENY] = "deny",
};

/* --- helpers -------------------------------------------------------------- */

static struct sq_store *
sq(struct store *st)
{
	return st->impl;
}

static int64_t
sq_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
sq_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
sq_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Typed binds. Text is cut at STORE_MAX_TEXT on a UTF-8 boundary and
   copied by SQLite, as is every blob. */
static int
sq_bind_i64(sqlite3_stmt *stmt, int idx, int64_t value)
{
	return sqlite3_bind_int64(stmt, idx, value);
}

static int
sq_bind_text(sqlite3_stmt *stmt, int idx, const char *text)
{
	if (text == NULL)
		text = "";
	return sqlite3_bind_text(stmt, idx, text,
	    (int)store_text_cut(text, STORE_MAX_TEXT), SQLITE_TRANSIENT);
}

static int
sq_bind_text_len(sqlite3_stmt *stmt, int idx, const char *text, size_t len)
{
	MW_ASSERT(len <= STORE_MAX_TEXT);
	return sqlite3_bind_text(stmt, idx, text, (int)len, SQLITE_TRANSIENT);
}

static int
sq_bind_addr(sqlite3_stmt *stmt, int idx, const struct mw_addr *addr)
{
	return sqlite3_bind_blob(stmt, idx, addr->b, sizeof(addr->b),
	    SQLITE_TRANSIENT);
}

/* The network key: host bits cleared, so equal networks are equal keys. */
static int
sq_bind_net(sqlite3_stmt *stmt, int idx, const struct mw_cidr *net)
{
	struct mw_cidr	 c;
	uint8_t		 key[SQ_KEY_LEN];

	mw_cidr_from_addr(&net->addr, net->bits, &c);
	memcpy(key, c.addr.b, sizeof(c.addr.b));
	key[16] = c.bits;
	return sqlite3_bind_blob(stmt, idx, key, sizeof(key), SQLITE_TRANSIENT);
}

static bool
sq_column_net(sqlite3_stmt *stmt, int col, struct mw_cidr *net_r)
{
	const uint8_t	*key = sqlite3_column_blob(stmt, col);

	if (key == NULL || sqlite3_column_bytes(stmt, col) != SQ_KEY_LEN ||
	    key[16] > 128)
		return false;
	memcpy(net_r->addr.b, key, sizeof(net_r->addr.b));
	net_r->bits = key[16];
	return true;
}

static bool
sq_column_addr(sqlite3_stmt *stmt, int col, struct mw_addr *addr_r)
{
	const void	*p = sqlite3_column_blob(stmt, col);

	if (p == NULL || sqlite3_column_bytes(stmt, col) !=
	    (int)sizeof(addr_r->b))
		return false;
	memcpy(addr_r->b, p, sizeof(addr_r->b));
	return true;
}

static const char *
sq_column_text(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t != NULL ? (const char *)t : "";
}

static uint32_t
sq_column_u32(sqlite3_stmt *stmt, int col)
{
	int64_t	 v = sqlite3_column_int64(stmt, col);

	return v < 0 ? 0 : v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void
sq_reset(sqlite3_stmt *stmt)
{
	(void)sqlite3_reset(stmt);
	(void)sqlite3_clear_bindings(stmt);
}

/* Records the failure of action ("saving ban 192.0.2.1") on the loop
   connection; returns -1. */
static int
sq_fail(struct store *st, const char *action)
{
	struct sq_store *s = sq(st);

	store_set_error(st, "%s: %s: %s", s->path, action,
	    sqlite3_errmsg(s->db));
	pthread_mutex_lock(&s->w.mu);
	s->w.stats.write_errors++;
	pthread_mutex_unlock(&s->w.mu);
	return -1;
}

/* Steps a bound write statement to completion, then resets it. */
static int
sq_exec(sqlite3_stmt *stmt)
{
	int	 rc = sqlite3_step(stmt);

	sq_reset(stmt);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static const char *
sq_net_text(const struct mw_cidr *net, char *buf, size_t size)
{
	return mw_cidr_format(net, buf, size);
}

/* --- bans ------------------------------------------------------------------ */

static int
sq_bind_ban(sqlite3_stmt *stmt, const struct store_ban *b)
{
	int	 rc;

	if ((rc = sq_bind_net(stmt, 1, &b->net)) != SQLITE_OK ||
	    (rc = sq_bind_text(stmt, 2, store_ban_source_name(b->source))) !=
	    SQLITE_OK ||
	    (rc = sq_bind_text(stmt, 3, b->reason)) != SQLITE_OK ||
	    (rc = sq_bind_i64(stmt, 4, b->first_seen)) != SQLITE_OK ||
	    (rc = sq_bind_i64(stmt, 5, b->last_seen)) != SQLITE_OK ||
	    (rc = sq_bind_i64(stmt, 6, b->expires)) != SQLITE_OK ||
	    (rc = sq_bind_i64(stmt, 7, b->hits)) != SQLITE_OK ||
	    (rc = sq_bind_i64(stmt, 8, b->count)) != SQLITE_OK)
		sq_reset(stmt);
	return rc;
}

static int
store_sqlite_ban_put(struct store *st, const struct store_ban *b)
{
	struct sq_store	*s = sq(st);
	char		 text[MW_CIDR_STRLEN], action[MW_CIDR_STRLEN + 32];

	if (sq_bind_ban(s->stmt[SQ_BAN_PUT], b) != SQLITE_OK ||
	    sq_exec(s->stmt[SQ_BAN_PUT]) != SQLITE_OK) {
		(void)snprintf(action, sizeof(action), "saving ban %s",
		    sq_net_text(&b->net, text, sizeof(text)));
		return sq_fail(st, action);
	}
	return 0;
}

/* Runs BEGIN; the caller's statements; then sq_commit. */
static int
sq_begin(struct store *st, const char *action)
{
	if (sq_exec(sq(st)->stmt[SQ_BEGIN]) != SQLITE_OK)
		return sq_fail(st, action);
	return 0;
}

static int
sq_commit(struct store *st, bool ok, const char *action)
{
	struct sq_store *s = sq(st);

	if (ok && sq_exec(s->stmt[SQ_COMMIT]) == SQLITE_OK)
		return 0;
	/* Keep the first error text: it is the cause. */
	if (ok)
		(void)sq_fail(st, action);
	if (sqlite3_get_autocommit(s->db) == 0)
		(void)sq_exec(s->stmt[SQ_ROLLBACK]);
	return -1;
}

static int
store_sqlite_ban_put_many(struct store *st, const struct store_ban *b,
    size_t n)
{
	struct sq_store	*s = sq(st);
	bool		 ok = true;

	if (n == 0)
		return 0;
	if (sq_begin(st, "saving bans") < 0)
		return -1;
	for (size_t i = 0; i < n && ok; i++) {
		if (sq_bind_ban(s->stmt[SQ_BAN_PUT], &b[i]) != SQLITE_OK ||
		    sq_exec(s->stmt[SQ_BAN_PUT]) != SQLITE_OK)
			ok = sq_fail(st, "saving bans") == 0;
	}
	return sq_commit(st, ok, "saving bans");
}

static int
store_sqlite_ban_del(struct store *st, const struct mw_cidr *net)
{
	struct sq_store	*s = sq(st);
	char		 text[MW_CIDR_STRLEN], action[MW_CIDR_STRLEN + 32];

	if (sq_bind_net(s->stmt[SQ_BAN_DEL], 1, net) != SQLITE_OK ||
	    sq_exec(s->stmt[SQ_BAN_DEL]) != SQLITE_OK) {
		sq_reset(s->stmt[SQ_BAN_DEL]);
		(void)snprintf(action, sizeof(action), "deleting ban %s",
		    sq_net_text(net, text, sizeof(text)));
		return sq_fail(st, action);
	}
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

static int
store_sqlite_ban_load(struct store *st, store_ban_fn *fn, void *ctx)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->stmt[SQ_BAN_LOAD];
	size_t		 bad = 0;
	int		 rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_ban b = {
			.reason = sq_column_text(stmt, 2),
			.first_seen = sqlite3_column_int64(stmt, 3),
			.last_seen = sqlite3_column_int64(stmt, 4),
			.expires = sqlite3_column_int64(stmt, 5),
			.hits = sq_column_u32(stmt, 6),
			.count = sq_column_u32(stmt, 7),
		};

		if (!sq_column_net(stmt, 0, &b.net)) {
			bad++;
			continue;
		}
		if (store_ban_source_parse(sq_column_text(stmt, 1),
		    &b.source) < 0)
			b.source = STORE_BAN_MANUAL;	/* a newer build's source */
		if (!fn(ctx, &b)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sq_reset(stmt);
	if (bad > 0)
		log_warn("store: %s: %zu bans with a malformed network skipped",
		    s->path, bad);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "loading bans");
	return 0;
}

static int
store_sqlite_ban_purge(struct store *st, int64_t now, size_t limit)
{
	struct sq_store	*s = sq(st);
	int		 n;

	if (limit == 0)
		return 0;
	if (limit > INT_MAX)
		limit = INT_MAX;
	if (sq_bind_i64(s->stmt[SQ_BAN_PURGE], 1, now) != SQLITE_OK ||
	    sq_bind_i64(s->stmt[SQ_BAN_PURGE], 2, (int64_t)limit) != SQLITE_OK ||
	    sq_exec(s->stmt[SQ_BAN_PURGE]) != SQLITE_OK) {
		sq_reset(s->stmt[SQ_BAN_PURGE]);
		return sq_fail(st, "purging expired bans");
	}
	n = sqlite3_changes(s->db);
	return n < 0 ? 0 : n;
}

static int
store_sqlite_ban_touch(struct store *st, const struct mw_cidr *nets,
    const uint32_t *hits, const int64_t *last_seen, size_t n)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->stmt[SQ_BAN_TOUCH];
	bool		 ok = true;

	if (n == 0)
		return 0;
	if (sq_begin(st, "updating ban hit counts") < 0)
		return -1;
	for (size_t i = 0; i < n && ok; i++) {
		if (sq_bind_net(stmt, 1, &nets[i]) != SQLITE_OK ||
		    sq_bind_i64(stmt, 2, hits[i]) != SQLITE_OK ||
		    sq_bind_i64(stmt, 3, last_seen[i]) != SQLITE_OK ||
		    sq_exec(stmt) != SQLITE_OK) {
			sq_reset(stmt);
			ok = sq_fail(st, "updating ban hit counts") == 0;
		}
	}
	return sq_commit(st, ok, "updating ban hit counts");
}

/* --- lists ----------------------------------------------------------------- */

static const char *
sq_list_name(enum store_list list)
{
	MW_ASSERT((size_t)list < MW_N_ELEMENTS(sq_list_names));
	return sq_list_names[list];
}

static int
store_sqlite_list_put(struct store *st, const struct store_list_entry *e)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->stmt[SQ_LIST_PUT];
	char		 text[MW_CIDR_STRLEN], action[MW_CIDR_STRLEN + 32];

	if (sq_bind_text(stmt, 1, sq_list_name(e->list)) != SQLITE_OK ||
	    sq_bind_net(stmt, 2, &e->net) != SQLITE_OK ||
	    sq_bind_text(stmt, 3, e->comment) != SQLITE_OK ||
	    sq_bind_i64(stmt, 4, e->created) != SQLITE_OK ||
	    sq_exec(stmt) != SQLITE_OK) {
		sq_reset(stmt);
		(void)snprintf(action, sizeof(action), "saving %s entry %s",
		    sq_list_name(e->list), sq_net_text(&e->net, text,
		    sizeof(text)));
		return sq_fail(st, action);
	}
	return 0;
}

static int
store_sqlite_list_del(struct store *st, enum store_list list,
    const struct mw_cidr *net)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->stmt[SQ_LIST_DEL];
	char		 text[MW_CIDR_STRLEN], action[MW_CIDR_STRLEN + 32];

	if (sq_bind_text(stmt, 1, sq_list_name(list)) != SQLITE_OK ||
	    sq_bind_net(stmt, 2, net) != SQLITE_OK ||
	    sq_exec(stmt) != SQLITE_OK) {
		sq_reset(stmt);
		(void)snprintf(action, sizeof(action), "deleting %s entry %s",
		    sq_list_name(list), sq_net_text(net, text, sizeof(text)));
		return sq_fail(st, action);
	}
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

static int
store_sqlite_list_load(struct store *st, store_list_fn *fn, void *ctx)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->stmt[SQ_LIST_LOAD];
	size_t		 bad = 0;
	int		 rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char		*list = sq_column_text(stmt, 0);
		struct store_list_entry	 e = {
			.comment = sq_column_text(stmt, 2),
			.created = sqlite3_column_int64(stmt, 3),
		};

		if (strcmp(list, "allow") == 0)
			e.list = STORE_LIST_ALLOW;
		else if (strcmp(list, "deny") == 0)
			e.list = STORE_LIST_DENY;
		else {
			bad++;
			continue;
		}
		if (!sq_column_net(stmt, 1, &e.net)) {
			bad++;
			continue;
		}
		if (!fn(ctx, &e)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sq_reset(stmt);
	if (bad > 0)
		log_warn("store: %s: %zu malformed list entries skipped",
		    s->path, bad);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "loading allow/deny lists");
	return 0;
}

/* --- events: the queue (any thread) ---------------------------------------- */

static void sq_enqueue(struct sq_writer *w, struct sq_event *first,
    struct sq_event **last, size_t n);

/* A zeroed record of kind rec with n texts copied in (NULL is "";
   text i cut at max[i] bytes, on a UTF-8 boundary). */
static struct sq_event *
sq_record_new(enum sq_rec rec, const char *const *texts, const size_t *max,
    size_t n)
{
	size_t		 len[SQ_EVENT_TEXTS], total = 0;
	struct sq_event	*qe;

	MW_ASSERT(n <= SQ_EVENT_TEXTS);
	for (size_t i = 0; i < n; i++) {
		len[i] = store_text_cut(texts[i] != NULL ? texts[i] : "", max[i]);
		total += len[i] + 1;
	}
	qe = mw_calloc(1, sizeof(*qe) + total + 1);
	qe->rec = rec;
	total = 0;
	for (size_t i = 0; i < n; i++) {
		qe->off[i] = total;
		qe->len[i] = len[i];
		if (len[i] > 0)
			memcpy(&qe->text[total], texts[i], len[i]);
		total += len[i] + 1;	/* the NUL: calloc's */
	}
	return qe;
}

static void
store_sqlite_event_append(struct store *st, const struct store_event *ev)
{
	static const size_t max[SQ_EVENT_TEXTS] = { STORE_MAX_TEXT,
	    STORE_MAX_TEXT, STORE_MAX_TEXT, STORE_MAX_TEXT, STORE_MAX_TEXT,
	    STORE_MAX_TEXT };
	struct sq_writer *w = &sq(st)->w;
	const char	*texts[SQ_EVENT_TEXTS] = { ev->listener, ev->verdict,
	    ev->reason, ev->account, ev->sender, ev->recipient };
	struct sq_event	*qe;

	/* Copied before locking: the writer never waits for a caller. */
	qe = sq_record_new(SQ_REC_EVENT, texts, max, SQ_EVENT_TEXTS);
	qe->time_ms = ev->time_ms;
	qe->addr = ev->addr;
	qe->count = ev->count > 0 ? ev->count : 1;
	sq_enqueue(w, qe, &qe->next, 1);
}

/* Appends a chain of n records (first .. *last) in one lock. */
static void
sq_enqueue(struct sq_writer *w, struct sq_event *first, struct sq_event **last,
    size_t n)
{
	pthread_mutex_lock(&w->mu);
	if (w->queued + n > STORE_EVENT_QUEUE_MAX || w->stop) {
		w->stats.events_dropped += n;
		pthread_mutex_unlock(&w->mu);
		while (first != NULL) {
			struct sq_event *next = first->next;

			free(first);
			first = next;
		}
		return;
	}
	*w->tailp = first;
	w->tailp = last;
	w->seq_queued += n;
	if (w->queued == 0) {
		w->first_ms = sq_mono_ms();
		pthread_cond_signal(&w->work);
	} else if (w->queued < SQ_BATCH_WAKE && w->queued + n >= SQ_BATCH_WAKE)
		pthread_cond_signal(&w->work);
	w->queued += n;
	pthread_mutex_unlock(&w->mu);
}

/* Appends one record that must not be dropped: with the queue full, waits
   for the writer to take the batch. Returns its sequence number. */
static uint64_t
sq_enqueue_wait(struct sq_writer *w, struct sq_event *qe)
{
	uint64_t seq;

	pthread_mutex_lock(&w->mu);
	while (w->queued >= STORE_EVENT_QUEUE_MAX && !w->stop) {
		pthread_cond_signal(&w->work);
		pthread_cond_wait(&w->done, &w->mu);
	}
	*w->tailp = qe;
	w->tailp = &qe->next;
	seq = ++w->seq_queued;
	if (w->queued++ == 0) {
		w->first_ms = sq_mono_ms();
		pthread_cond_signal(&w->work);
	}
	pthread_mutex_unlock(&w->mu);
	return seq;
}

static void
store_sqlite_ban_touch_queue(struct store *st, const struct mw_cidr *nets,
    const uint32_t *hits, const int64_t *last_seen, size_t n)
{
	struct sq_event	*first = NULL, **last = &first;

	for (size_t i = 0; i < n; i++) {
		struct sq_event	*qe = sq_record_new(SQ_REC_BAN_TOUCH, NULL,
		    NULL, 0);

		qe->addr = nets[i].addr;
		qe->bits = nets[i].bits;
		qe->count = hits[i];
		qe->last_s = last_seen[i];
		*last = qe;
		last = &qe->next;
	}
	if (first != NULL)
		sq_enqueue(&sq(st)->w, first, last, n);
}

static void
store_sqlite_login_net_queue(struct store *st, const struct store_login_net *v,
    size_t n)
{
	struct sq_writer *w = &sq(st)->w;
	struct sq_event	*first = NULL, **last = &first;

	for (size_t i = 0; i < n; i++) {
		static const size_t max = STORE_MAX_TEXT;
		struct sq_event	*qe = sq_record_new(SQ_REC_LOGIN_NET,
		    &v[i].account, &max, 1);

		qe->addr = v[i].net.addr;
		qe->bits = v[i].net.bits;
		qe->first_s = v[i].first_success;
		qe->last_s = v[i].last_success;
		qe->count = v[i].successes;
		*last = qe;
		last = &qe->next;
	}
	if (first != NULL)
		sq_enqueue(w, first, last, n);
}

static void
store_sqlite_event_sync(struct store *st)
{
	struct sq_writer *w = &sq(st)->w;
	uint64_t	 target;

	pthread_mutex_lock(&w->mu);
	target = w->seq_queued;
	w->sync_waiters++;
	pthread_cond_signal(&w->work);
	while (w->seq_done < target && w->started)
		pthread_cond_wait(&w->done, &w->mu);
	w->sync_waiters--;
	pthread_mutex_unlock(&w->mu);
}

static void
store_sqlite_get_stats(struct store *st, struct store_stats *stats_r)
{
	struct sq_writer *w = &sq(st)->w;

	pthread_mutex_lock(&w->mu);
	*stats_r = w->stats;
	pthread_mutex_unlock(&w->mu);
}

/* --- events: the writer thread --------------------------------------------- */


static void
sq_writer_error(struct sq_writer *w, const char *action)
{
	int64_t	 now = sq_mono_ms();

	pthread_mutex_lock(&w->mu);
	w->stats.write_errors++;
	pthread_mutex_unlock(&w->mu);
	if (w->last_log_ms != 0 && now - w->last_log_ms < SQ_ERROR_LOG_MS)
		return;
	w->last_log_ms = now;
	log_warn("store: %s: %s: %s", w->path, action, sqlite3_errmsg(w->db));
}

static int
sq_writer_insert(struct sq_writer *w, const struct sq_event *qe)
{
	sqlite3_stmt *stmt = w->stmt[SQW_INSERT];

	if (sq_bind_i64(stmt, 1, qe->time_ms) != SQLITE_OK ||
	    sq_bind_addr(stmt, 2, &qe->addr) != SQLITE_OK ||
	    sq_bind_i64(stmt, 9, qe->count) != SQLITE_OK) {
		sq_reset(stmt);
		return -1;
	}
	for (int i = 0; i < SQ_EVENT_TEXTS; i++) {
		if (sq_bind_text_len(stmt, i + 3, &qe->text[qe->off[i]],
		    qe->len[i]) != SQLITE_OK) {
			sq_reset(stmt);
			return -1;
		}
	}
	return sq_exec(stmt) == SQLITE_OK ? 0 : -1;
}

#define SQ_TALLY_SLOTS	32	/* distinct (minute, listener, verdict) per flush */

/* Per-minute counts of a batch, folded in memory and added to the counts
   table in the batch's transaction (DUNNO events are not counted: they
   are most of the traffic and no statistic needs them). */
struct sq_tally {
	const struct sq_event	*ev[SQ_TALLY_SLOTS];	/* a representative */
	int64_t			 minute[SQ_TALLY_SLOTS];
	uint64_t		 n[SQ_TALLY_SLOTS];
	size_t			 used;
};

static int
sq_tally_flush(struct sq_writer *w, struct sq_tally *t)
{
	sqlite3_stmt *stmt = w->stmt[SQW_TALLY];

	for (size_t i = 0; i < t->used; i++) {
		const struct sq_event *qe = t->ev[i];

		if (sq_bind_i64(stmt, 1, t->minute[i]) != SQLITE_OK ||
		    sq_bind_text_len(stmt, 2, &qe->text[qe->off[0]],
		    qe->len[0]) != SQLITE_OK ||
		    sq_bind_text_len(stmt, 3, &qe->text[qe->off[1]],
		    qe->len[1]) != SQLITE_OK ||
		    sq_bind_i64(stmt, 4, (int64_t)t->n[i]) != SQLITE_OK ||
		    sq_exec(stmt) != SQLITE_OK) {
			sq_reset(stmt);
			return -1;
		}
	}
	t->used = 0;
	return 0;
}

static int
sq_tally_add(struct sq_writer *w, struct sq_tally *t, const struct sq_event *qe)
{
	const char	*l = &qe->text[qe->off[0]], *v = &qe->text[qe->off[1]];
	int64_t		 minute = qe->time_ms - ((qe->time_ms % 60000) + 60000) %
			    60000;

	if (strcmp(v, "DUNNO") == 0)
		return 0;
	for (size_t i = 0; i < t->used; i++) {
		if (t->minute[i] == minute &&
		    strcmp(&t->ev[i]->text[t->ev[i]->off[0]], l) == 0 &&
		    strcmp(&t->ev[i]->text[t->ev[i]->off[1]], v) == 0) {
			t->n[i] += qe->count;
			return 0;
		}
	}
	if (t->used == SQ_TALLY_SLOTS && sq_tally_flush(w, t) < 0)
		return -1;
	t->ev[t->used] = qe;
	t->minute[t->used] = minute;
	t->n[t->used++] = qe->count;
	return 0;
}

static int
sq_writer_net_put(struct sq_writer *w, const struct sq_event *qe)
{
	sqlite3_stmt	*stmt = w->stmt[SQW_NET_PUT];
	struct mw_cidr	 net = { .addr = qe->addr, .bits = qe->bits };

	if (sq_bind_text_len(stmt, 1, qe->text, qe->len[0]) != SQLITE_OK ||
	    sq_bind_net(stmt, 2, &net) != SQLITE_OK ||
	    sq_bind_i64(stmt, 3, qe->first_s) != SQLITE_OK ||
	    sq_bind_i64(stmt, 4, qe->last_s) != SQLITE_OK ||
	    sq_bind_i64(stmt, 5, qe->count) != SQLITE_OK) {
		sq_reset(stmt);
		return -1;
	}
	return sq_exec(stmt) == SQLITE_OK ? 0 : -1;
}

static int
sq_writer_ban_touch(struct sq_writer *w, const struct sq_event *qe)
{
	sqlite3_stmt	*stmt = w->stmt[SQW_BAN_TOUCH];
	struct mw_cidr	 net = { .addr = qe->addr, .bits = qe->bits };

	if (sq_bind_net(stmt, 1, &net) != SQLITE_OK ||
	    sq_bind_i64(stmt, 2, qe->count) != SQLITE_OK ||
	    sq_bind_i64(stmt, 3, qe->last_s) != SQLITE_OK) {
		sq_reset(stmt);
		return -1;
	}
	return sq_exec(stmt) == SQLITE_OK ? 0 : -1;
}

static int
sq_writer_alert_add(struct sq_writer *w, const struct sq_event *qe)
{
	sqlite3_stmt	*stmt = w->stmt[SQW_ALERT_ADD];

	if (sq_bind_i64(stmt, 1, qe->first_s) != SQLITE_OK ||
	    sq_bind_i64(stmt, 2, qe->last_s) != SQLITE_OK ||
	    sq_bind_addr(stmt, 4, &qe->addr) != SQLITE_OK) {
		sq_reset(stmt);
		return -1;
	}
	for (int i = 0; i < 4; i++) {
		if (sqlite3_bind_text(stmt, i == 0 ? 3 : i + 4,
		    &qe->text[qe->off[i]], (int)qe->len[i], SQLITE_TRANSIENT) !=
		    SQLITE_OK) {
			sq_reset(stmt);
			return -1;
		}
	}
	return sq_exec(stmt) == SQLITE_OK ? 0 : -1;
}

/* A record other than an event; logs what failed. */
static int
sq_writer_other(struct sq_writer *w, const struct sq_event *qe)
{
	switch (qe->rec) {
	case SQ_REC_LOGIN_NET:
		if (sq_writer_net_put(w, qe) == 0)
			return 0;
		sq_writer_error(w, "saving login networks");
		return -1;
	case SQ_REC_BAN_TOUCH:
		if (sq_writer_ban_touch(w, qe) == 0)
			return 0;
		sq_writer_error(w, "updating ban hit counts");
		return -1;
	case SQ_REC_ALERT:
		if (sq_writer_alert_add(w, qe) == 0)
			return 0;
		sq_writer_error(w, "saving a login alert");
		return -1;
	case SQ_REC_EVENT:
		break;
	}
	mw_panic("sq_writer_other: an event (record kind %d)", (int)qe->rec);
}

/* Commits the batch in one transaction. Returns the events written. */
static size_t
sq_writer_commit(struct sq_writer *w, const struct sq_event *batch)
{
	struct sq_tally	 tally = { .used = 0 };
	size_t		 n = 0;

	if (sq_exec(w->stmt[SQW_BEGIN]) != SQLITE_OK) {
		sq_writer_error(w, "writing events");
		return 0;
	}
	for (const struct sq_event *qe = batch; qe != NULL; qe = qe->next) {
		if (qe->rec != SQ_REC_EVENT) {
			if (sq_writer_other(w, qe) < 0) {
				(void)sq_exec(w->stmt[SQW_ROLLBACK]);
				return 0;
			}
			continue;
		}
		if (sq_writer_insert(w, qe) < 0 ||
		    sq_tally_add(w, &tally, qe) < 0) {
			sq_writer_error(w, "writing events");
			(void)sq_exec(w->stmt[SQW_ROLLBACK]);
			return 0;
		}
		n++;
	}
	if (sq_tally_flush(w, &tally) < 0) {
		sq_writer_error(w, "writing event counts");
		(void)sq_exec(w->stmt[SQW_ROLLBACK]);
		return 0;
	}
	if (sq_exec(w->stmt[SQW_COMMIT]) != SQLITE_OK) {
		sq_writer_error(w, "writing events");
		if (sqlite3_get_autocommit(w->db) == 0)
			(void)sq_exec(w->stmt[SQW_ROLLBACK]);
		return 0;
	}
	return n;
}

/* Deletes at most SQ_PRUNE_CHUNK rows with one statement (autocommit). */
static int64_t
sq_writer_delete(struct sq_writer *w, sqlite3_stmt *stmt)
{
	if (sq_exec(stmt) != SQLITE_OK) {
		sq_writer_error(w, "pruning events");
		return -1;
	}
	return sqlite3_changes(w->db);
}

/* Retention: events older than retention, then the oldest beyond
   max_rows. One chunk of each per call; returns the rows deleted and
   schedules the next call sooner when more is due. */
static uint64_t
sq_writer_prune(struct sq_writer *w, int64_t now)
{
	uint64_t pruned = 0;
	bool	 more = false;
	int64_t	 n;

	if (w->retention_ms > 0) {
		int64_t cutoff = sq_wall_ms() - (int64_t)w->retention_ms;

		if (sq_bind_i64(w->stmt[SQW_PRUNE_TIME], 1, cutoff) == SQLITE_OK &&
		    sq_bind_i64(w->stmt[SQW_PRUNE_TIME], 2, SQ_PRUNE_CHUNK) == SQLITE_OK &&
		    (n = sq_writer_delete(w, w->stmt[SQW_PRUNE_TIME])) > 0) {
			pruned += (uint64_t)n;
			w->rows -= n;
			more = n == SQ_PRUNE_CHUNK;
		}
		sq_reset(w->stmt[SQW_PRUNE_TIME]);
		/* one row per minute and kind: small, one statement */
		if (sq_bind_i64(w->stmt[SQW_PRUNE_TALLY], 1, cutoff) == SQLITE_OK)
			(void)sq_writer_delete(w, w->stmt[SQW_PRUNE_TALLY]);
		sq_reset(w->stmt[SQW_PRUNE_TALLY]);
	}
	if (w->max_rows > 0 && w->rows > (int64_t)w->max_rows) {
		int64_t excess = w->rows - (int64_t)w->max_rows;

		if (excess > SQ_PRUNE_CHUNK)
			excess = SQ_PRUNE_CHUNK;
		if (sq_bind_i64(w->stmt[SQW_PRUNE_ROWS], 1, excess) == SQLITE_OK &&
		    (n = sq_writer_delete(w, w->stmt[SQW_PRUNE_ROWS])) > 0) {
			pruned += (uint64_t)n;
			w->rows -= n;
		}
		sq_reset(w->stmt[SQW_PRUNE_ROWS]);
		more = more || w->rows > (int64_t)w->max_rows;
	}
	/* The loop connection never checkpoints (wal_autocheckpoint = 0):
	   copying WAL pages into the database is this thread's work. */
	if (sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL) != SQLITE_OK && sqlite3_errcode(w->db) != SQLITE_BUSY)
		sq_writer_error(w, "checkpointing the WAL");
	w->next_prune_ms = now + (more ? SQ_PRUNE_AGAIN_MS :
	    SQ_PRUNE_INTERVAL_MS);
	return pruned;
}

static void
sq_writer_count(struct sq_writer *w)
{
	if (sqlite3_step(w->stmt[SQW_COUNT]) == SQLITE_ROW)
		w->rows = sqlite3_column_int64(w->stmt[SQW_COUNT], 0);
	else
		sq_writer_error(w, "counting events");
	sq_reset(w->stmt[SQW_COUNT]);
}

static void
sq_timedwait(pthread_cond_t *cond, pthread_mutex_t *mu, int64_t until_ms)
{
	struct timespec ts = {
		.tv_sec = (time_t)(until_ms / 1000),
		.tv_nsec = (long)(until_ms % 1000) * 1000000,
	};

	(void)pthread_cond_timedwait(cond, mu, &ts);
}

static void *
sq_writer_main(void *arg)
{
	struct sq_writer *w = arg;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		int64_t		 now = sq_mono_ms();
		struct sq_event	*batch;
		uint64_t	 seq, pruned = 0;
		int64_t		 t0;
		size_t		 written;
		bool		 synced;

		if (w->head == NULL) {
			if (w->stop)
				break;
			if (now < w->next_prune_ms) {
				sq_timedwait(&w->work, &w->mu, w->next_prune_ms);
				continue;
			}
			pthread_mutex_unlock(&w->mu);
			pruned = sq_writer_prune(w, now);
			pthread_mutex_lock(&w->mu);
			w->stats.events_pruned += pruned;
			continue;
		}
		/* Let a batch gather unless someone waits for it. */
		if (!w->stop && w->sync_waiters == 0 &&
		    w->queued < SQ_BATCH_WAKE &&
		    now < w->first_ms + STORE_EVENT_FLUSH_MS / 2) {
			sq_timedwait(&w->work, &w->mu,
			    w->first_ms + STORE_EVENT_FLUSH_MS / 2);
			continue;
		}
		batch = w->head;
		seq = w->seq_queued;
		synced = w->sync_waiters > 0;
		w->head = NULL;
		w->tailp = &w->head;
		w->queued = 0;
		pthread_mutex_unlock(&w->mu);

		t0 = sq_mono_us();
		written = sq_writer_commit(w, batch);
		t0 = sq_mono_us() - t0;
		w->rows += (int64_t)written;
		while (batch != NULL) {
			struct sq_event *next = batch->next;

			free(batch);
			batch = next;
		}
		/* A sync also applies retention, so that what a query sees
		   after it is what the configuration promises. */
		if (synced || now >= w->next_prune_ms ||
		    (w->max_rows > 0 && w->rows > (int64_t)w->max_rows))
			pruned = sq_writer_prune(w, now);

		pthread_mutex_lock(&w->mu);
		w->stats.commits++;
		w->stats.commit_us += (uint64_t)t0;
		w->stats.events_written += written;
		w->stats.events_pruned += pruned;
		w->seq_done = seq;
		pthread_cond_broadcast(&w->done);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* --- events: queries (loop thread) ----------------------------------------- */

static int
store_sqlite_event_query(struct store *st, const struct store_event_query *q,
    store_event_fn *fn, void *ctx)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = q->has_addr ? s->stmt[SQ_EV_QUERY_ADDR] : s->stmt[SQ_EV_QUERY];
	size_t		 limit = q->limit == 0 ? SQ_QUERY_LIMIT : q->limit;
	bool		 by_account = !q->has_addr && q->account != NULL &&
			    q->account[0] != '\0';
	int		 rc;

	if (limit > INT64_MAX)
		limit = INT64_MAX;
	if (sq_bind_i64(stmt, 1, q->since_ms != 0 ? q->since_ms : INT64_MIN) !=
	    SQLITE_OK ||
	    sq_bind_i64(stmt, 2, q->until_ms != 0 ? q->until_ms : INT64_MAX) !=
	    SQLITE_OK ||
	    sq_bind_i64(stmt, 3, (int64_t)limit) != SQLITE_OK ||
	    (q->has_addr && sq_bind_addr(stmt, 4, &q->addr) != SQLITE_OK)) {
		sq_reset(stmt);
		return sq_fail(st, "reading events");
	}
	if (by_account) {
		sq_reset(stmt);
		stmt = s->lstmt[SQL_EV_QUERY_ACCOUNT];
		if (sq_bind_i64(stmt, 1, q->since_ms != 0 ? q->since_ms :
		    INT64_MIN) != SQLITE_OK ||
		    sq_bind_i64(stmt, 2, q->until_ms != 0 ? q->until_ms :
		    INT64_MAX) != SQLITE_OK ||
		    sq_bind_i64(stmt, 3, (int64_t)limit) != SQLITE_OK ||
		    sq_bind_text(stmt, 4, q->account) != SQLITE_OK ||
		    sq_bind_text(stmt, 5, q->verdict) != SQLITE_OK) {
			sq_reset(stmt);
			return sq_fail(st, "reading events");
		}
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_event ev = {
			.time_ms = sqlite3_column_int64(stmt, 0),
			.listener = sq_column_text(stmt, 2),
			.verdict = sq_column_text(stmt, 3),
			.reason = sq_column_text(stmt, 4),
			.account = sq_column_text(stmt, 5),
			.sender = sq_column_text(stmt, 6),
			.recipient = sq_column_text(stmt, 7),
			.count = (uint32_t)sqlite3_column_int64(stmt, 8),
		};

		if (!sq_column_addr(stmt, 1, &ev.addr))
			continue;
		if (!fn(ctx, &ev)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sq_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "reading events");
	return 0;
}

/* --- login guard ----------------------------------------------------------- */

/* Queues the alert for the writer thread: the loop does not wait for a
   commit. The id is ours to give; the record is never dropped (a full
   queue waits for the writer instead). */
static int
store_sqlite_alert_add(struct store *st, const struct store_alert *a,
    int64_t *id_r)
{
	/* the evidence is a JSON object: whole, or it is no JSON */
	static const size_t max[4] = { STORE_MAX_TEXT, STORE_MAX_TEXT,
	    STORE_MAX_TEXT, SQ_ALERT_TEXT_MAX };
	struct sq_store	*s = sq(st);
	const char	*texts[4] = { a->account, a->kind, a->reason,
	    a->evidence };
	struct sq_event	*qe = sq_record_new(SQ_REC_ALERT, texts, max, 4);

	qe->first_s = s->next_alert_id++;
	qe->last_s = a->time;
	qe->addr = a->addr;
	if (id_r != NULL)
		*id_r = qe->first_s;
	s->alert_seq = sq_enqueue_wait(&s->w, qe);
	return 0;
}

/* Alerts queued so far are in the database. */
static void
sq_alerts_settle(struct store *st)
{
	struct sq_store	*s = sq(st);
	bool		 behind;

	pthread_mutex_lock(&s->w.mu);
	behind = s->w.seq_done < s->alert_seq;
	pthread_mutex_unlock(&s->w.mu);
	if (behind)
		store_sqlite_event_sync(st);
}

static int
store_sqlite_alert_query(struct store *st, const struct store_alert_query *q,
    store_alert_fn *fn, void *ctx)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[SQL_ALERT_QUERY];
	size_t		 limit = q->limit == 0 ? SQ_QUERY_LIMIT : q->limit;
	int		 rc;

	sq_alerts_settle(st);
	if (limit > INT64_MAX)
		limit = INT64_MAX;
	if (sq_bind_i64(stmt, 1, q->all ? 1 : 0) != SQLITE_OK ||
	    sq_bind_i64(stmt, 2, q->id > 0 ? q->id : 0) != SQLITE_OK ||
	    sq_bind_text(stmt, 3, q->account) != SQLITE_OK ||
	    sq_bind_i64(stmt, 4, (int64_t)limit) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "reading login alerts");
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_alert a = {
			.id = sqlite3_column_int64(stmt, 0),
			.time = sqlite3_column_int64(stmt, 1),
			.account = sq_column_text(stmt, 2),
			.kind = sq_column_text(stmt, 4),
			.reason = sq_column_text(stmt, 5),
			.evidence = sq_column_text(stmt, 6),
			.ack_by = sq_column_text(stmt, 7),
			.ack_at = sqlite3_column_int64(stmt, 8),
		};

		if (!sq_column_addr(stmt, 3, &a.addr))
			continue;
		if (!fn(ctx, &a)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sq_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "reading login alerts");
	return 0;
}

static int
store_sqlite_alert_ack(struct store *st, int64_t id, const char *by,
    int64_t at)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[SQL_ALERT_ACK];

	sq_alerts_settle(st);
	if (sq_bind_i64(stmt, 1, id) != SQLITE_OK ||
	    sq_bind_text(stmt, 2, by) != SQLITE_OK ||
	    sq_bind_i64(stmt, 3, at) != SQLITE_OK ||
	    sq_exec(stmt) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "acknowledging a login alert");
	}
	return sqlite3_changes(s->db) > 0 ? 1 : 0;
}

static int
store_sqlite_login_net_put_many(struct store *st,
    const struct store_login_net *v, size_t n)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[SQL_NET_PUT];
	bool		 ok = true;

	if (n == 0)
		return 0;
	if (sq_begin(st, "saving login networks") < 0)
		return -1;
	for (size_t i = 0; i < n && ok; i++) {
		if (sq_bind_text(stmt, 1, v[i].account) != SQLITE_OK ||
		    sq_bind_net(stmt, 2, &v[i].net) != SQLITE_OK ||
		    sq_bind_i64(stmt, 3, v[i].first_success) != SQLITE_OK ||
		    sq_bind_i64(stmt, 4, v[i].last_success) != SQLITE_OK ||
		    sq_bind_i64(stmt, 5, v[i].successes) != SQLITE_OK ||
		    sq_exec(stmt) != SQLITE_OK) {
			sq_reset(stmt);
			ok = sq_fail(st, "saving login networks") == 0;
		}
	}
	return sq_commit(st, ok, "saving login networks");
}

static int
store_sqlite_login_net_query(struct store *st, const char *account,
    int64_t since, store_login_net_fn *fn, void *ctx)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[SQL_NET_QUERY];
	int		 rc;

	if (sq_bind_text(stmt, 1, account) != SQLITE_OK ||
	    sq_bind_i64(stmt, 2, since) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "reading login networks");
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_login_net n = {
			.account = sq_column_text(stmt, 0),
			.first_success = sqlite3_column_int64(stmt, 2),
			.last_success = sqlite3_column_int64(stmt, 3),
			.successes = sq_column_u32(stmt, 4),
		};

		if (!sq_column_net(stmt, 1, &n.net))
			continue;
		if (!fn(ctx, &n)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sq_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "reading login networks");
	return 0;
}

static int
store_sqlite_escalation_get(struct store *st, const struct mw_cidr *net,
    struct store_escalation *e_r)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[SQL_ESC_GET];
	int		 rc, found = 0;

	if (sq_bind_net(stmt, 1, net) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "reading escalation state");
	}
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*e_r = (struct store_escalation){ .net = *net,
		    .level = sq_column_u32(stmt, 0),
		    .bans = sq_column_u32(stmt, 1),
		    .last_ban = sqlite3_column_int64(stmt, 2) };
		found = 1;
		rc = SQLITE_DONE;
	}
	sq_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "reading escalation state");
	return found;
}

static int
store_sqlite_escalation_put(struct store *st, const struct store_escalation *e)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[SQL_ESC_PUT];

	if (sq_bind_net(stmt, 1, &e->net) != SQLITE_OK ||
	    sq_bind_i64(stmt, 2, e->level) != SQLITE_OK ||
	    sq_bind_i64(stmt, 3, e->bans) != SQLITE_OK ||
	    sq_bind_i64(stmt, 4, e->last_ban) != SQLITE_OK ||
	    sq_exec(stmt) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "saving escalation state");
	}
	return 0;
}

static int
store_sqlite_weak_put(struct store *st, const char *account, int64_t since)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[since != 0 ? SQL_WEAK_PUT : SQL_WEAK_DEL];

	if (sq_bind_text(stmt, 1, account) != SQLITE_OK ||
	    (since != 0 && sq_bind_i64(stmt, 2, since) != SQLITE_OK) ||
	    sq_exec(stmt) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "saving a weak-password flag");
	}
	return 0;
}

static int
store_sqlite_weak_get(struct store *st, const char *account, int64_t *since_r)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->lstmt[SQL_WEAK_GET];
	int		 rc, found = 0;

	if (sq_bind_text(stmt, 1, account) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "reading a weak-password flag");
	}
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		*since_r = sqlite3_column_int64(stmt, 0);
		found = 1;
		rc = SQLITE_DONE;
	}
	sq_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "reading a weak-password flag");
	return found;
}

struct sqlite3 *
store_sqlite_loop_db(struct store *st)
{
	return sq(st)->db;
}

const char *
store_sqlite_path(struct store *st)
{
	return sq(st)->path;
}

/* --- open and close -------------------------------------------------------- */

static int
sq_open_fail(char **error_r, const char *path, const char *action,
    sqlite3 *db)
{
	if (asprintf(error_r, "store: %s: %s: %s", path, action,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory") < 0)
		mw_panic("asprintf: out of memory");
	return -1;
}

static int
sq_journal_row(void *ctx, int ncols, char **values, char **names)
{
	(void)names;
	if (ncols > 0 && values[0] != NULL)
		(void)snprintf(ctx, SQ_MODE_LEN, "%s", values[0]);
	return 0;
}

/* While the other connection commits: short steps, so that the loop
   thread goes on as soon as the writer's transaction ends. SQLite's own
   busy timeout sleeps 1, 2, 5, 10, 15, 20, 25 ms ... and, under load,
   made a Dovecot answer wait ~20 ms for a commit of ~3 ms. */
static int
sq_busy(void *ctx, int count)
{
	(void)ctx;
	if ((int64_t)count * SQ_BUSY_STEP_US >= (int64_t)SQ_BUSY_TIMEOUT_MS * 1000)
		return 0;
	(void)usleep(SQ_BUSY_STEP_US);
	return 1;
}

/* Opens one connection with the pragmas every connection needs. */
static int
sq_connect(const char *path, sqlite3 **db_r, char **error_r)
{
	sqlite3	*db = NULL;
	char	 mode[SQ_MODE_LEN] = "";

	*db_r = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		sq_open_fail(error_r, path, "opening", db);
		sqlite3_close(db);
		return -1;
	}
	sqlite3_busy_handler(db, sq_busy, NULL);
	/* The first read: "file is not a database" shows here. */
	if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL,
	    NULL) != SQLITE_OK) {
		sq_open_fail(error_r, path, "reading schema", db);
		sqlite3_close(db);
		return -1;
	}
	if (sqlite3_exec(db, "PRAGMA journal_mode = WAL", sq_journal_row, mode,
	    NULL) != SQLITE_OK) {
		sq_open_fail(error_r, path, "setting WAL journal mode", db);
		sqlite3_close(db);
		return -1;
	}
	if (strcmp(mode, "wal") != 0) {
		if (asprintf(error_r, "store: %s: the filesystem does not support "
		    "WAL journal mode (got \"%s\"); put the database on a local "
		    "filesystem", path, mode) < 0)
			mw_panic("asprintf: out of memory");
		sqlite3_close(db);
		return -1;
	}
	/* No mmap: the pages it maps count in the daemon's resident memory
	   (1,000,000 bans: 192 MB instead of 65 MB) for a saving measured
	   within the noise once the loop stopped writing. */
	if (sqlite3_exec(db, "PRAGMA synchronous = NORMAL; "
	    "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK) {
		sq_open_fail(error_r, path, "setting pragmas", db);
		sqlite3_close(db);
		return -1;
	}
	*db_r = db;
	return 0;
}

static int
sq_prepare(sqlite3 *db, const char *path, sqlite3_stmt **stmts,
    const char *const *sql, size_t n, char **error_r)
{
	for (size_t i = 0; i < n; i++) {
		if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		    &stmts[i], NULL) != SQLITE_OK)
			return sq_open_fail(error_r, path, "preparing statements",
			    db);
	}
	return 0;
}

static void
sq_finalize(sqlite3_stmt **stmts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
}

/* Creates the file owner-only readable by the group: events hold account
   names and addresses. SQLite gives -wal and -shm the same mode. */
static int
sq_create_file(const char *path, char **error_r)
{
	int	 fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) < 0) {
		if (asprintf(error_r, "store: %s: opening: %s", path,
		    strerror(errno)) < 0)
			mw_panic("asprintf: out of memory");
		return -1;
	}
	(void)close(fd);
	return 0;
}

static int
sq_no_autocheckpoint(sqlite3 *db, const char *path, char **error_r)
{
	if (sqlite3_exec(db, "PRAGMA wal_autocheckpoint = 0", NULL, NULL,
	    NULL) != SQLITE_OK)
		return sq_open_fail(error_r, path, "setting pragmas", db);
	return 0;
}

static int
sq_writer_start(struct sq_writer *w, const struct cfg *cfg, char **error_r)
{
	sigset_t	 all, old;
	int			 err;

	w->path = cfg->store.path;
	w->retention_ms = cfg->store.event_retention > UINT64_MAX / 1000 ?
	    UINT64_MAX / 1000 : cfg->store.event_retention * 1000;
	if (w->retention_ms > INT64_MAX / 2)
		w->retention_ms = INT64_MAX / 2;
	w->max_rows = cfg->store.event_max_rows > INT64_MAX ?
	    (uint64_t)INT64_MAX : cfg->store.event_max_rows;
	if (sq_connect(cfg->store.path, &w->db, error_r) < 0 ||
	    sq_prepare(w->db, cfg->store.path, w->stmt, sq_writer_sql,
	    SQW_N, error_r) < 0)
		return -1;
	/* Count and prune once before the thread starts, so that a store
	   just opened has no writer activity pending (bounded: one chunk). */
	sq_writer_count(w);
	w->stats.events_pruned += sq_writer_prune(w, sq_mono_ms());
	/* The signals are the loop's: the writer blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&w->thread, NULL, sq_writer_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		if (asprintf(error_r, "store: starting the event writer: %s",
		    strerror(err)) < 0)
			mw_panic("asprintf: out of memory");
		return -1;
	}
	w->started = true;
	return 0;
}

static void
sq_writer_init(struct sq_writer *w)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->work, &ca);
	pthread_cond_init(&w->done, &ca);
	pthread_condattr_destroy(&ca);
	w->tailp = &w->head;
}

static void
sq_writer_stop(struct sq_writer *w)
{
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->stop = true;
		pthread_cond_signal(&w->work);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
		w->started = false;
	}
	while (w->head != NULL) {	/* only if the thread never ran */
		struct sq_event *next = w->head->next;

		free(w->head);
		w->head = next;
	}
	sq_finalize(w->stmt, SQW_N);
	sqlite3_close(w->db);
	w->db = NULL;
	pthread_cond_destroy(&w->work);
	pthread_cond_destroy(&w->done);
	pthread_mutex_destroy(&w->mu);
}

static int
store_sqlite_logpos_get(struct store *st, const char *name,
    struct store_logpos *pos_r)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->pstmt[SQP_GET];
	int		 rc, found = 0;

	if (sq_bind_text(stmt, 1, name) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "reading a log position");
	}
	if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t inode = sqlite3_column_int64(stmt, 0);
		int64_t offset = sqlite3_column_int64(stmt, 1);

		memset(pos_r, 0, sizeof(*pos_r));
		pos_r->inode = (uint64_t)inode;
		pos_r->offset = offset > 0 ? (uint64_t)offset : 0;
		(void)snprintf(pos_r->cursor, sizeof(pos_r->cursor), "%s",
		    sq_column_text(stmt, 2));
		pos_r->updated = sqlite3_column_int64(stmt, 3);
		found = 1;
		rc = SQLITE_DONE;
	}
	sq_reset(stmt);
	if (rc != SQLITE_DONE)
		return sq_fail(st, "reading a log position");
	return found;
}

static int
store_sqlite_logpos_put(struct store *st, const char *name,
    const struct store_logpos *pos)
{
	struct sq_store	*s = sq(st);
	sqlite3_stmt	*stmt = s->pstmt[SQP_PUT];

	if (pos->offset > INT64_MAX || strlen(pos->cursor) >= STORE_CURSOR_MAX) {
		store_set_error(st, "saving a log position: value out of range");
		return -1;
	}
	/* inode bits are kept as they are (a 64-bit inode may read back
	   negative in SQLite; the cast back restores it) */
	if (sq_bind_text(stmt, 1, name) != SQLITE_OK ||
	    sq_bind_i64(stmt, 2, (int64_t)pos->inode) != SQLITE_OK ||
	    sq_bind_i64(stmt, 3, (int64_t)pos->offset) != SQLITE_OK ||
	    sq_bind_text(stmt, 4, pos->cursor) != SQLITE_OK ||
	    sq_bind_i64(stmt, 5, pos->updated) != SQLITE_OK ||
	    sq_exec(stmt) != SQLITE_OK) {
		sq_reset(stmt);
		return sq_fail(st, "saving a log position");
	}
	return 0;
}

static void
store_sqlite_close(struct store *st)
{
	struct sq_store *s = sq(st);

	if (s == NULL)
		return;
	sq_writer_stop(&s->w);
	sq_finalize(s->stmt, SQ_LOOP_N);
	sq_finalize(s->lstmt, SQL_N);
	sq_finalize(s->pstmt, SQP_N);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
	st->impl = NULL;
}

static int
sq_alert_next_id(struct sq_store *s, char **error_r)
{
	sqlite3_stmt *stmt = s->lstmt[SQL_ALERT_NEXT_ID];

	if (sqlite3_step(stmt) != SQLITE_ROW) {
		sq_reset(stmt);
		return sq_open_fail(error_r, s->path, "reading alert ids", s->db);
	}
	s->next_alert_id = sqlite3_column_int64(stmt, 0);
	sq_reset(stmt);
	return 0;
}

static int
store_sqlite_open(struct store *st, const struct cfg *cfg, char **error_r)
{
	struct sq_store	*s = mw_calloc(1, sizeof(*s));

	s->path = mw_strdup(cfg->store.path);
	sq_writer_init(&s->w);
	st->impl = s;
	if (sq_create_file(s->path, error_r) < 0 ||
	    sq_connect(s->path, &s->db, error_r) < 0 ||
	    sq_no_autocheckpoint(s->db, s->path, error_r) < 0 ||
	    store_schema_migrate(s->db, s->path, error_r) < 0 ||
	    sq_prepare(s->db, s->path, s->stmt, sq_loop_sql,
	    SQ_LOOP_N, error_r) < 0 ||
	    sq_prepare(s->db, s->path, s->lstmt, sq_login_sql,
	    SQL_N, error_r) < 0 ||
	    sq_prepare(s->db, s->path, s->pstmt, sq_logpos_sql,
	    SQP_N, error_r) < 0 ||
	    sq_alert_next_id(s, error_r) < 0 ||
	    sq_writer_start(&s->w, cfg, error_r) < 0) {
		store_sqlite_close(st);
		return -1;
	}
	return 0;
}

const struct store_backend store_backend_sqlite = {
	.name = "sqlite",
	.open = store_sqlite_open,
	.close = store_sqlite_close,
	.ban_put = store_sqlite_ban_put,
	.ban_put_many = store_sqlite_ban_put_many,
	.ban_del = store_sqlite_ban_del,
	.ban_load = store_sqlite_ban_load,
	.ban_purge = store_sqlite_ban_purge,
	.ban_touch = store_sqlite_ban_touch,
	.list_put = store_sqlite_list_put,
	.list_del = store_sqlite_list_del,
	.list_load = store_sqlite_list_load,
	.event_append = store_sqlite_event_append,
	.event_sync = store_sqlite_event_sync,
	.event_query = store_sqlite_event_query,
	.get_stats = store_sqlite_get_stats,
	.alert_add = store_sqlite_alert_add,
	.alert_query = store_sqlite_alert_query,
	.alert_ack = store_sqlite_alert_ack,
	.login_net_put_many = store_sqlite_login_net_put_many,
	.login_net_queue = store_sqlite_login_net_queue,
	.ban_touch_queue = store_sqlite_ban_touch_queue,
	.login_net_query = store_sqlite_login_net_query,
	.escalation_get = store_sqlite_escalation_get,
	.escalation_put = store_sqlite_escalation_put,
	.logpos_get = store_sqlite_logpos_get,
	.logpos_put = store_sqlite_logpos_put,
	.weak_put = store_sqlite_weak_put,
	.weak_get = store_sqlite_weak_get,
	.admin_put = store_sqlite_admin_put,
	.admin_get = store_sqlite_admin_get,
	.admin_del = store_sqlite_admin_del,
	.admin_list = store_sqlite_admin_list,
	.audit_append = store_sqlite_audit_append,
	.audit_query = store_sqlite_audit_query,
	.count_query = store_sqlite_count_query,
	.event_top = store_sqlite_event_top,
};
