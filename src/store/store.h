/*
 * store - durable state behind a backend vtable: bans, allow/deny list
 * entries, the event history. SQLite (WAL) is the default backend; a
 * Redis backend can implement the same table later.
 *
 * Durability contract: a put/del that returned 0 has been committed, so it
 * survives kill -9 of the daemon the moment after (WAL, synchronous=NORMAL
 * survives process death; power loss may lose the last transactions).
 * Events are the exception: store_event_append only queues, a writer
 * thread commits in batches (at most STORE_EVENT_FLUSH_MS later); events
 * queued when the queue is full are dropped and counted, never blocking
 * the caller. Everything else is called from the event loop thread only.
 *
 * Records passed in are copied; records handed to callbacks are valid only
 * during the callback.
 */
#ifndef MW_STORE_STORE_H
#define MW_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/cfg.h"
#include "core/mem.h"

#define STORE_EVENT_FLUSH_MS	200	/* longest an event waits for commit */
#define STORE_EVENT_QUEUE_MAX	65536	/* queued events before dropping */
#define STORE_MAX_TEXT		512	/* bytes kept of a reason/comment */

enum store_ban_source {
	STORE_BAN_MANUAL,	/* mailward ban add, dashboard */
	STORE_BAN_DNSBL,
	STORE_BAN_LOGIN,	/* login guard (auth policy) */
	STORE_BAN_LOGWATCH,
};

struct store_ban {
	struct mw_cidr		 net;
	enum store_ban_source	 source;
	const char		*reason;
	int64_t			 first_seen;	/* unix seconds */
	int64_t			 last_seen;
	int64_t			 expires;	/* unix seconds; 0 = permanent */
	uint32_t		 hits;		/* refused requests so far */
	uint32_t		 count;		/* times banned (escalation) */
};

enum store_list { STORE_LIST_ALLOW, STORE_LIST_DENY };

struct store_list_entry {
	struct mw_cidr	 net;
	enum store_list	 list;
	const char	*comment;
	int64_t		 created;	/* unix seconds */
};

struct store_event {
	int64_t		 time_ms;	/* unix milliseconds */
	struct mw_addr	 addr;
	const char	*listener;	/* "policy", "admin", ... */
	const char	*verdict;	/* "DUNNO", "REJECT", "DEFER", "WARN", "BAN", "UNBAN", ... */
	const char	*reason;	/* "deny list 198.51.100.0/24", ... */
	const char	*account;	/* sasl_username or "" */
	const char	*sender;	/* "" when none */
	const char	*recipient;	/* "" when none */
	/* How many decisions or logins of one second this event stands for
	   (repeats are merged into one event); 0 is read as 1. */
	uint32_t	 count;
};

struct store_event_query {
	int64_t		 since_ms;	/* inclusive; 0 = no lower bound */
	int64_t		 until_ms;	/* inclusive; 0 = no upper bound */
	bool		 has_addr;
	struct mw_addr	 addr;
	size_t		 limit;		/* newest first; 0 = 100 */
	/* Only events of this account (NULL or "": any; not with has_addr),
	   and then of this verdict (NULL or "": any). */
	const char	*account;
	const char	*verdict;
};

/* --- login guard (issue 3) --- */

/* A possible account takeover. */
struct store_alert {
	int64_t		 id;		/* assigned by store_alert_add */
	int64_t		 time;		/* unix seconds */
	const char	*account;
	struct mw_addr	 addr;
	const char	*kind;		/* "after_failures", "new_network", ... */
	const char	*reason;
	const char	*evidence;	/* a JSON object (text) */
	const char	*ack_by;	/* "" while open */
	int64_t		 ack_at;	/* 0 while open */
};

struct store_alert_query {
	bool		 all;		/* false: open alerts only */
	int64_t		 id;		/* > 0: only this one */
	const char	*account;	/* NULL or "": any */
	size_t		 limit;		/* newest first; 0 = 100 */
};

/* A network an account logged in from. */
struct store_login_net {
	const char	*account;
	struct mw_cidr	 net;
	int64_t		 first_success, last_success;	/* unix seconds */
	uint32_t	 successes;
};

/* The escalation state of a banned address (outlives the ban). */
struct store_escalation {
	struct mw_cidr	 net;
	uint32_t	 level;		/* 0: next ban lasts ban_time */
	uint32_t	 bans;		/* login-guard bans so far */
	int64_t		 last_ban;	/* unix seconds */
};

struct store_stats {
	uint64_t	 events_written;
	uint64_t	 events_dropped;	/* queue full */
	uint64_t	 events_pruned;	/* retention (age, row count) */
	uint64_t	 write_errors;	/* failed statements, both threads */
	uint64_t	 commits;	/* event batches committed */
	uint64_t	 commit_us;	/* microseconds spent committing them */
};

/* An administrator of the dashboard (`mailward admin add`). */
#define STORE_ADMIN_MAX_NAME	64	/* bytes of a name */
#define STORE_ADMIN_MAX_HASH	128	/* bytes of a crypto_pwhash_str string */

struct store_admin {
	const char	*name;
	const char	*pwhash;	/* "$argon2id$v=19$m=...": never logged */
	const char	*language;	/* "ja", "en", "" = from the browser */
	int64_t		 created;	/* unix seconds */
	int64_t		 updated;	/* password last set */
};

/* One admin action: who, what, target, when, from where. */
struct store_audit {
	int64_t		 time_ms;	/* unix milliseconds */
	const char	*actor;		/* admin name, or "uid 1000" (unix socket) */
	const char	*origin;	/* "127.0.0.1:41822", "unix uid 1000" */
	const char	*action;	/* "ban.add", "admin.del", "session.login", ... */
	const char	*target;	/* "203.0.113.9", "alice", "" */
	const char	*detail;	/* free text, "" */
};

struct store_audit_query {
	int64_t		 since_ms, until_ms;	/* inclusive; 0 = unbounded */
	const char	*actor;		/* NULL = any */
	size_t		 limit;		/* newest first; 0 = 100 */
};

/* Per-minute event counts, kept by the event writer for every event
   whose verdict is not DUNNO (stats without scanning events). */
struct store_count {
	int64_t		 minute_ms;	/* start of the minute, unix ms */
	const char	*listener;
	const char	*verdict;
	uint64_t	 n;
};

enum store_top_key { STORE_TOP_ADDR, STORE_TOP_NET, STORE_TOP_ACCOUNT };

#define STORE_TOP_MAX_VERDICTS	8
#define STORE_TOP_SAMPLE	50000	/* newest events a top list looks at */

/* Among the newest STORE_TOP_SAMPLE events in [since_ms, until_ms], those
   whose verdict is one of verdicts, grouped by address, network (/24,
   /64) or account (non-empty): exact while the range holds fewer events,
   the recent part of it otherwise (a query costs ~0.1 s at most on the
   loop thread, not seconds for a week of a busy server). */
struct store_top_query {
	int64_t		 since_ms, until_ms;
	enum store_top_key key;
	const char	*verdicts[STORE_TOP_MAX_VERDICTS];	/* NULL-ended */
	size_t		 limit;
};

struct store_top_row {
	struct mw_cidr	 net;		/* STORE_TOP_ADDR (host) and _NET */
	const char	*account;	/* STORE_TOP_ACCOUNT */
	uint64_t	 n;
};

struct store;

typedef bool store_admin_fn(void *ctx, const struct store_admin *a);
typedef bool store_audit_fn(void *ctx, const struct store_audit *a);
typedef bool store_count_fn(void *ctx, const struct store_count *c);
typedef bool store_top_fn(void *ctx, const struct store_top_row *r);
/* Sees every event passed to store_event_append, on the caller's thread
   (the event loop for every caller today), before it is queued. */
typedef void store_event_hook_fn(void *ctx, const struct store_event *ev);

typedef bool store_ban_fn(void *ctx, const struct store_ban *b);
typedef bool store_list_fn(void *ctx, const struct store_list_entry *e);
typedef bool store_event_fn(void *ctx, const struct store_event *ev);
typedef bool store_alert_fn(void *ctx, const struct store_alert *a);
typedef bool store_login_net_fn(void *ctx, const struct store_login_net *n);

/* Opens (creating and migrating the schema) the backend named by
   cfg->store.backend. *error_r is malloc'd; the caller frees it. */
int	 store_open(const struct cfg *cfg, struct store **store_r,
	    char **error_r) MW_MUST_CHECK;
/* Flushes queued events, stops the writer thread, closes. NULL-safe. */
void	 store_close(struct store **store);

/* Insert or replace by b->net. */
int	 store_ban_put(struct store *st, const struct store_ban *b) MW_MUST_CHECK;
/* Inserts or replaces n bans in one transaction: all or none (bulk
   import, tests, benchmarks). */
int	 store_ban_put_many(struct store *st, const struct store_ban *b,
	    size_t n) MW_MUST_CHECK;
/* 1 deleted, 0 there was none, -1 error. */
int	 store_ban_del(struct store *st, const struct mw_cidr *net) MW_MUST_CHECK;
/* Every ban, including expired ones not yet purged; fn false stops. */
int	 store_ban_load(struct store *st, store_ban_fn *fn, void *ctx)
	    MW_MUST_CHECK;
/* Removes bans whose expiry is before now (0 < expires <= now). Returns
   the number removed, -1 on error. At most limit rows per call. */
int	 store_ban_purge(struct store *st, int64_t now, size_t limit);
/* Updates hits and last_seen of bans in one transaction (batched by the
   engine, not per request). */
int	 store_ban_touch(struct store *st, const struct mw_cidr *nets,
	    const uint32_t *hits, const int64_t *last_seen, size_t n)
	    MW_MUST_CHECK;
/* The same, queued for the event writer like store_login_net_queue:
   saved within STORE_EVENT_FLUSH_MS, the caller never waits for it. */
void	 store_ban_touch_queue(struct store *st, const struct mw_cidr *nets,
	    const uint32_t *hits, const int64_t *last_seen, size_t n);

int	 store_list_put(struct store *st, const struct store_list_entry *e)
	    MW_MUST_CHECK;
/* 1 deleted, 0 none, -1 error. */
int	 store_list_del(struct store *st, enum store_list list,
	    const struct mw_cidr *net) MW_MUST_CHECK;
int	 store_list_load(struct store *st, store_list_fn *fn, void *ctx)
	    MW_MUST_CHECK;

/* Queues ev (copied, texts cut at STORE_MAX_TEXT). Thread-safe, never
   blocks on disk. */
void	 store_event_append(struct store *st, const struct store_event *ev);
/* Waits until every event queued before the call is committed, and
   retention applied to it (tests, shutdown, and the admin API before it
   reads events). May wait up to the backend's busy timeout (2 s). */
void	 store_event_sync(struct store *st);
int	 store_event_query(struct store *st, const struct store_event_query *q,
	    store_event_fn *fn, void *ctx) MW_MUST_CHECK;

/* Login guard. Alerts and escalation are written when they happen (rare
   and worth keeping); networks in batches by the engine's tick. */
int	 store_alert_add(struct store *st, const struct store_alert *a,
	    int64_t *id_r) MW_MUST_CHECK;
int	 store_alert_query(struct store *st, const struct store_alert_query *q,
	    store_alert_fn *fn, void *ctx) MW_MUST_CHECK;
/* 1 acknowledged, 0 no such open alert, -1 error. */
int	 store_alert_ack(struct store *st, int64_t id, const char *by,
	    int64_t at) MW_MUST_CHECK;
/* Upserts in one transaction: first_success keeps the earliest,
   last_success the latest, successes adds up. */
int	 store_login_net_put_many(struct store *st,
	    const struct store_login_net *v, size_t n) MW_MUST_CHECK;
/* The same upserts, queued for the event writer instead of committed
   before returning: the loop never waits for a commit for them. Saved
   within STORE_EVENT_FLUSH_MS (store_event_sync waits for them as for
   events); a crash loses at most that, and a full queue drops them
   (counted in events_dropped). For what is learned again by the next
   login: the networks of successful logins. */
void	 store_login_net_queue(struct store *st,
	    const struct store_login_net *v, size_t n);
/* Networks with last_success >= since; of one account (NULL: all),
   newest first. */
int	 store_login_net_query(struct store *st, const char *account,
	    int64_t since, store_login_net_fn *fn, void *ctx) MW_MUST_CHECK;
/* 1 found, 0 none, -1 error. */
int	 store_escalation_get(struct store *st, const struct mw_cidr *net,
	    struct store_escalation *e_r) MW_MUST_CHECK;
int	 store_escalation_put(struct store *st, const struct store_escalation *e)
	    MW_MUST_CHECK;
/* since 0 clears the flag. */
int	 store_weak_put(struct store *st, const char *account, int64_t since)
	    MW_MUST_CHECK;
/* 1 flagged (*since_r set), 0 not, -1 error. */
int	 store_weak_get(struct store *st, const char *account, int64_t *since_r)
	    MW_MUST_CHECK;

/* Log positions (logwatch): where reading a followed log stopped, by
   name (the file's path, or "journal"). Written before the lines read
   are handed on: a restart resumes after them, never before. */
#define STORE_CURSOR_MAX	512	/* bytes of a journal cursor */

struct store_logpos {
	uint64_t	 inode;		/* files: the inode read */
	uint64_t	 offset;	/* files: bytes of whole lines read */
	char		 cursor[STORE_CURSOR_MAX];	/* journal; "" for files */
	int64_t		 updated;	/* unix s */
};

/* 1 found (*pos_r filled), 0 none, -1 error. */
int	 store_logpos_get(struct store *st, const char *name,
	    struct store_logpos *pos_r) MW_MUST_CHECK;
/* Insert or replace; durable when it returns 0. */
int	 store_logpos_put(struct store *st, const char *name,
	    const struct store_logpos *pos) MW_MUST_CHECK;
/* One hook (the dashboard's live stream); fn NULL removes it. */
void	 store_set_event_hook(struct store *st, store_event_hook_fn *fn,
	    void *ctx);

/* --- admins and the audit log (loop thread; writes committed) --- */

/* Insert or replace by a->name. */
int	 store_admin_put(struct store *st, const struct store_admin *a)
	    MW_MUST_CHECK;
/* 1 found (fn called once), 0 no such admin, -1 error. */
int	 store_admin_get(struct store *st, const char *name, store_admin_fn *fn,
	    void *ctx) MW_MUST_CHECK;
/* 1 deleted, 0 none, -1 error. */
int	 store_admin_del(struct store *st, const char *name) MW_MUST_CHECK;
/* In name order. */
int	 store_admin_list(struct store *st, store_admin_fn *fn, void *ctx)
	    MW_MUST_CHECK;
int	 store_audit_append(struct store *st, const struct store_audit *a)
	    MW_MUST_CHECK;
int	 store_audit_query(struct store *st, const struct store_audit_query *q,
	    store_audit_fn *fn, void *ctx) MW_MUST_CHECK;

/* --- statistics (loop thread; what the writer committed) --- */

/* Per-minute counts with minute_ms in [since_ms, until_ms], in time order. */
int	 store_count_query(struct store *st, int64_t since_ms, int64_t until_ms,
	    store_count_fn *fn, void *ctx) MW_MUST_CHECK;
/* The q->limit largest groups, largest first. */
int	 store_event_top(struct store *st, const struct store_top_query *q,
	    store_top_fn *fn, void *ctx) MW_MUST_CHECK;

void	 store_get_stats(struct store *st, struct store_stats *stats_r);
/* The last error text of the backend (for log lines). */
const char *store_last_error(struct store *st);

const char *store_ban_source_name(enum store_ban_source s);
int	 store_ban_source_parse(const char *name, enum store_ban_source *s_r)
	    MW_MUST_CHECK;

#endif
