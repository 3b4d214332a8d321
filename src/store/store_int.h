/*
 * store_int - what store.c (the dispatch) shares with its backends.
 *
 * struct store is the handle every caller holds: the backend's const
 * vtable, the backend's own state, and the last error text. Backends set
 * the error with store_set_error; it is read by store_last_error from the
 * event loop thread only (the event writer thread logs its own errors).
 */
#ifndef MW_STORE_STORE_INT_H
#define MW_STORE_STORE_INT_H

#include "store/store.h"

#define STORE_ERROR_MAX		512	/* bytes of the last error text */

struct store_backend {
	const char	*name;
	/* Fills st->impl. *error_r is malloc'd on failure. */
	int	(*open)(struct store *st, const struct cfg *cfg, char **error_r);
	/* Flushes queued events, stops threads, frees st->impl. */
	void	(*close)(struct store *st);
	/* Every write below returns 0 only once it is committed: an
	   acknowledged ban survives kill -9. Records are copied (texts cut at
	   STORE_MAX_TEXT); the caller keeps ownership. */
	int	(*ban_put)(struct store *st, const struct store_ban *b);
	int	(*ban_put_many)(struct store *st, const struct store_ban *b,
		    size_t n);
	int	(*ban_del)(struct store *st, const struct mw_cidr *net);
	int	(*ban_load)(struct store *st, store_ban_fn *fn, void *ctx);
	int	(*ban_purge)(struct store *st, int64_t now, size_t limit);
	int	(*ban_touch)(struct store *st, const struct mw_cidr *nets,
		    const uint32_t *hits, const int64_t *last_seen, size_t n);
	int	(*list_put)(struct store *st, const struct store_list_entry *e);
	int	(*list_del)(struct store *st, enum store_list list,
		    const struct mw_cidr *net);
	int	(*list_load)(struct store *st, store_list_fn *fn, void *ctx);
	/* Thread-safe; never blocks on disk. */
	void	(*event_append)(struct store *st, const struct store_event *ev);
	void	(*event_sync)(struct store *st);
	int	(*event_query)(struct store *st, const struct store_event_query *q,
		    store_event_fn *fn, void *ctx);
	void	(*get_stats)(struct store *st, struct store_stats *stats_r);
	/* login guard (store.h) */
	int	(*alert_add)(struct store *st, const struct store_alert *a,
		    int64_t *id_r);
	int	(*alert_query)(struct store *st,
		    const struct store_alert_query *q, store_alert_fn *fn,
		    void *ctx);
	int	(*alert_ack)(struct store *st, int64_t id, const char *by,
		    int64_t at);
	int	(*login_net_put_many)(struct store *st,
		    const struct store_login_net *v, size_t n);
	/* NULL: store_ban_touch_queue calls ban_touch. */
	void	(*ban_touch_queue)(struct store *st, const struct mw_cidr *nets,
		    const uint32_t *hits, const int64_t *last_seen, size_t n);
	/* NULL: store_login_net_queue calls login_net_put_many. */
	void	(*login_net_queue)(struct store *st,
		    const struct store_login_net *v, size_t n);
	int	(*login_net_query)(struct store *st, const char *account,
		    int64_t since, store_login_net_fn *fn, void *ctx);
	int	(*escalation_get)(struct store *st, const struct mw_cidr *net,
		    struct store_escalation *e_r);
	int	(*escalation_put)(struct store *st,
		    const struct store_escalation *e);
	int	(*weak_put)(struct store *st, const char *account, int64_t since);
	int	(*weak_get)(struct store *st, const char *account,
		    int64_t *since_r);
	/* logwatch positions (store.h) */
	int	(*logpos_get)(struct store *st, const char *name,
		    struct store_logpos *pos_r);
	int	(*logpos_put)(struct store *st, const char *name,
		    const struct store_logpos *pos);
	/* Admins, audit log, statistics (the dashboard). */
	int	(*admin_put)(struct store *st, const struct store_admin *a);
	int	(*admin_get)(struct store *st, const char *name,
		    store_admin_fn *fn, void *ctx);
	int	(*admin_del)(struct store *st, const char *name);
	int	(*admin_list)(struct store *st, store_admin_fn *fn, void *ctx);
	int	(*audit_append)(struct store *st, const struct store_audit *a);
	int	(*audit_query)(struct store *st,
		    const struct store_audit_query *q, store_audit_fn *fn,
		    void *ctx);
	int	(*count_query)(struct store *st, int64_t since_ms,
		    int64_t until_ms, store_count_fn *fn, void *ctx);
	int	(*event_top)(struct store *st, const struct store_top_query *q,
		    store_top_fn *fn, void *ctx);
};

struct store {
	const struct store_backend	*backend;
	void				*impl;
	store_event_hook_fn		*event_hook;
	void				*event_hook_ctx;
	char				 error[STORE_ERROR_MAX];
};

extern const struct store_backend store_backend_sqlite;

/* store_sqlite_dash.c: admins, audit, statistics on the loop connection
   of store_sqlite.c (statements prepared per call: human-rate calls). */
struct sqlite3	*store_sqlite_loop_db(struct store *st);
const char	*store_sqlite_path(struct store *st);
int	store_sqlite_admin_put(struct store *st, const struct store_admin *a);
int	store_sqlite_admin_get(struct store *st, const char *name,
	    store_admin_fn *fn, void *ctx);
int	store_sqlite_admin_del(struct store *st, const char *name);
int	store_sqlite_admin_list(struct store *st, store_admin_fn *fn,
	    void *ctx);
int	store_sqlite_audit_append(struct store *st,
	    const struct store_audit *a);
int	store_sqlite_audit_query(struct store *st,
	    const struct store_audit_query *q, store_audit_fn *fn, void *ctx);
int	store_sqlite_count_query(struct store *st, int64_t since_ms,
	    int64_t until_ms, store_count_fn *fn, void *ctx);
int	store_sqlite_event_top(struct store *st,
	    const struct store_top_query *q, store_top_fn *fn, void *ctx);

/* Sets the text store_last_error returns (cut at STORE_ERROR_MAX). */
void	store_set_error(struct store *st, const char *fmt, ...) MW_PRINTF(2, 3);

/* The length of s cut to at most max bytes, backing off so that a UTF-8
   sequence is not split. */
size_t	store_text_cut(const char *s, size_t max);

/* --- SQLite schema (store_schema.c) --- */

struct sqlite3;

/* The schema version this build creates and understands. */
unsigned	store_schema_version(void);
/* Checks that db (named path in messages) is empty or a mailward
   database no newer than this build, then applies the missing numbered
   migrations, each in its own transaction. *error_r is malloc'd. */
int	store_schema_migrate(struct sqlite3 *db, const char *path,
	    char **error_r) MW_MUST_CHECK;

#endif
