/*
 * admin - the admin HTTP API (docs/admin-api.md) served with evhttp on
 * the admin unix socket; the `mailward` CLI and the dashboard use it.
 *
 * Every action goes through the engine (one implementation for the CLI
 * and the dashboard); a state change is committed by the engine before
 * the reply, logged as one info line naming the peer ("by uid 1000") and
 * recorded as an event (listener "admin").
 * Limits: 8 KiB of headers, 64 KiB of body, an idle/IO timeout; request
 * bodies and query strings are checked by the pure functions below
 * (admin_parse.c: no I/O, no globals; unit-tested and fuzzed alone).
 * Trust: anyone who can connect to the socket is an administrator; the
 * socket's mode and group (cfg->admin) are the access control.
 */
#ifndef MW_LISTEN_ADMIN_H
#define MW_LISTEN_ADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/arena.h"
#include "core/cfg.h"
#include "core/mem.h"
#include "store/store.h"

struct event_base;
struct evconnlistener;
struct engine;

#define ADMIN_MAX_BODY		65536	/* bytes of a request body */
#define ADMIN_MAX_HEADERS	8192	/* bytes of the request headers */
#define ADMIN_MAX_TEXT		512	/* bytes of a reason or comment */
#define ADMIN_MAX_BAN_SECS	(3650ULL * 86400)	/* 10 years; longer: permanent */
#define ADMIN_BANS_LIMIT	1000	/* GET /bans default limit */
#define ADMIN_BANS_LIMIT_MAX	100000
#define ADMIN_EVENTS_LIMIT	100	/* GET /events default limit */
#define ADMIN_EVENTS_LIMIT_MAX	10000
#define ADMIN_LOGIN_LIMIT	100	/* GET /alerts, /accounts default limit */
#define ADMIN_LOGIN_LIMIT_MAX	10000
#define ADMIN_ACCOUNT_MAX	256	/* bytes of an account name */

/* What the daemon adds to the server. */
struct admin_hooks {
	void		*ctx;
	/* Adds daemon-level members ("listeners", ...) to GET /status. */
	void		(*status)(void *ctx, json_t *status_obj);
	/* As SIGHUP: 0, or -1 with *error_r (malloc'd, every config error,
	   one per line; the server frees it). */
	int		(*reload)(void *ctx, char **error_r);
	const char	*config_path;	/* copied */
};

struct admin_server;

/* Binds cfg->admin.socket (a stale socket file is removed first; any
   other kind of file there is refused), sets its mode and group, and
   serves the API on base. cfg must stay valid until the next
   admin_server_reload; e must outlive the server. 0, or -1 with *error_r
   (malloc'd, the caller frees it). */
int	 admin_server_new(struct event_base *base, const struct cfg *cfg,
	    struct engine *e, const struct admin_hooks *hooks,
	    struct admin_server **as_r, char **error_r) MW_MUST_CHECK;
/* Serves the same routes on another listener (a TCP port for the
   dashboard later); the server owns l from now on, also on failure. */
int	 admin_server_add_listener(struct admin_server *as,
	    struct evconnlistener *l, char **error_r) MW_MUST_CHECK;
/* Swaps in a new configuration (the caller frees the old one after this
   returns). A changed socket path, mode or group needs a restart; it is
   logged. */
void	 admin_server_reload(struct admin_server *as, const struct cfg *cfg);
/* Cancels pending requests, closes the listeners and removes the socket
   file. NULL-safe; clears *as. */
void	 admin_server_free(struct admin_server **as);

/* --- pure request validation (admin_parse.c) --------------------------

   Each returns 0, or -1 with *error_r set to one sentence saying what is
   wrong and how to fix it (static text or allocated in a). Strings placed
   in the results are allocated in a. body need not be NUL-terminated. */

struct admin_ban_req {
	struct mw_cidr	 net;
	bool		 has_duration;	/* false: use [lists] default_ban */
	uint64_t	 duration;	/* seconds; 0 = permanent */
	const char	*reason;	/* "manual" when absent */
};

/* POST /api/v1/bans: {"address":..., "duration":..., "reason":...} */
int	 admin_parse_ban_body(const char *body, size_t len, struct mw_arena *a,
	    struct admin_ban_req *r, const char **error_r) MW_MUST_CHECK;

struct admin_list_req {
	struct mw_cidr	 net;
	const char	*comment;	/* "" when absent */
};

/* POST /api/v1/lists/LIST: {"network":..., "comment":...} */
int	 admin_parse_list_body(const char *body, size_t len, struct mw_arena *a,
	    struct admin_list_req *r, const char **error_r) MW_MUST_CHECK;

/* POST /api/v1/reload: an empty body or {}. */
int	 admin_parse_empty_body(const char *body, size_t len,
	    struct mw_arena *a, const char **error_r) MW_MUST_CHECK;

struct admin_bans_query {
	bool			 has_source;
	enum store_ban_source	 source;
	size_t			 limit, offset;
};

/* GET /api/v1/bans?source=&limit=&offset= (query may be NULL). */
int	 admin_parse_bans_query(const char *query, struct mw_arena *a,
	    struct admin_bans_query *q, const char **error_r) MW_MUST_CHECK;

/* The one parameter name=VALUE of a query string (DELETE /bans?address=,
   DELETE /lists/LIST?network=, GET /check?address=) as a network
   (host_only: a single address). No other parameter is allowed. */
int	 admin_parse_net_query(const char *query, const char *name,
	    bool host_only, struct mw_arena *a, struct mw_cidr *net_r,
	    const char **error_r) MW_MUST_CHECK;

/* GET /api/v1/events?since=&until=&address=&limit= */
/* GET /api/v1/alerts[?all=1][&limit=N]. */
int	 admin_parse_alerts_query(const char *query, struct mw_arena *a,
	    struct store_alert_query *q, const char **error_r) MW_MUST_CHECK;
/* GET /api/v1/accounts[?limit=N]. */
int	 admin_parse_accounts_query(const char *query, struct mw_arena *a,
	    size_t *limit_r, const char **error_r) MW_MUST_CHECK;
/* The account name of /api/v1/accounts/NAME from the path after the
   prefix (percent-encoded): decoded into a, printable, 1 to
   ADMIN_ACCOUNT_MAX bytes. */
int	 admin_parse_account_path(const char *tail, struct mw_arena *a,
	    const char **account_r, const char **error_r) MW_MUST_CHECK;
/* The id of /api/v1/alerts/ID/ack from the path after the prefix. */
int	 admin_parse_alert_ack_path(const char *tail, struct mw_arena *a,
	    int64_t *id_r, const char **error_r) MW_MUST_CHECK;
int	 admin_parse_events_query(const char *query, struct mw_arena *a,
	    struct store_event_query *q, const char **error_r) MW_MUST_CHECK;

/* Building blocks for other parsers (dashboard_parse.c). */
struct evkeyvalq;
/* The body as a JSON object (empty_ok: an empty body is an empty
   object); NULL with *error_r naming example. Caller decrefs. */
json_t	*admin_parse_object(const char *body, size_t len, bool empty_ok,
	    const char *example, struct mw_arena *a, const char **error_r);
/* A member that must be a string of printable text, at most max bytes;
   *text_r is a copy in a. */
int	 admin_member_text(json_t *v, const char *name, size_t max,
	    bool allow_empty, struct mw_arena *a, const char **text_r,
	    const char **error_r) MW_MUST_CHECK;
/* Splits query into q (the caller runs evhttp_clear_headers on it after
   a success), refusing duplicates and names not in the NULL-terminated
   list known (expected: the same list as text, for the error). */
int	 admin_query_split(const char *query, const char *const *known,
	    const char *expected, struct evkeyvalq *q, struct mw_arena *a,
	    const char **error_r) MW_MUST_CHECK;

/* A JSON string of s (NULL: ""); bytes of invalid UTF-8 become '?'. */
json_t	*admin_json_text(const char *s);
/* BAN as the API prints it (docs/admin-api.md). */
json_t	*admin_ban_json(const struct store_ban *b);
/* ALERT of docs/admin-api.md (evidence parsed back into an object). */
json_t	*admin_alert_json(const struct store_alert *al);

#endif
