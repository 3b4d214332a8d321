/*
 * dashboard - the web dashboard's HTTP(S) listener ([dashboard] listen,
 * default 127.0.0.1:10048): static files from web_root, the same admin
 * API as the unix socket behind a session login, live events
 * (text/event-stream) and /metrics (docs/dashboard.md, docs/admin-api.md).
 *
 * Trust: anyone may connect. Every /api/ request but the login needs a
 * session cookie (random 256-bit id, HttpOnly, SameSite=Strict, Secure
 * over TLS; idle timeout and absolute lifetime); every state change also
 * needs the session's CSRF token in X-CSRF-Token, and a present Origin
 * must name this server. Login attempts go through the login guard
 * (engine_auth_check/_report, source "dashboard"), so a password guesser
 * is slowed, then banned, like any attacker. Admin accounts are managed
 * over the unix socket only. Static paths are normalised by a pure
 * function that refuses anything but plain names below web_root, and the
 * opened file's real path must still be inside web_root.
 * Limits: 8 KiB of headers, 64 KiB of body, an idle timeout per
 * connection, [dashboard] max_streams, DASHBOARD_MAX_SESSIONS,
 * DASHBOARD_MAX_FILE, ADMIN_PW_QUEUE password checks waiting.
 * BUGS: no limit on the number of connections (libevent 2.1's evhttp has
 * no hook to see one close; a filter bufferevent stalls its writes):
 * keep the listener on loopback or behind a proxy that limits them.
 */
#ifndef MW_LISTEN_DASHBOARD_H
#define MW_LISTEN_DASHBOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/arena.h"
#include "core/cfg.h"
#include "core/mem.h"
#include "store/store.h"

struct event_base;
struct admin_server;
struct engine;

#define DASHBOARD_MAX_SESSIONS	256	/* live sessions; the oldest goes first */
#define DASHBOARD_MAX_PATH	1024	/* bytes of a URL path */
#define DASHBOARD_MAX_FILE	(32u << 20)	/* bytes of a served file */
#define DASHBOARD_SESSION_ID_LEN 32	/* random bytes; 64 hex digits in the cookie */
#define DASHBOARD_COOKIE	"mw_session"
#define DASHBOARD_HEARTBEAT_S	15	/* seconds between stream keep-alives */

struct dashboard;

/* Binds cfg->dashboard.listen (with TLS when configured) and serves on
   base; API calls go to as (which must outlive the dashboard). 0, or -1
   with *error_r (malloc'd). */
int	 dashboard_new(struct event_base *base, const struct cfg *cfg,
	    struct engine *e, struct admin_server *as, bool demo,
	    struct dashboard **db_r, char **error_r) MW_MUST_CHECK;
/* A changed listen address or TLS file needs a restart (logged); the
   timeouts, web_root, limits and proxy apply at once. */
void	 dashboard_reload(struct dashboard *db, const struct cfg *cfg);
/* Ends the streams and sessions, closes the listener. NULL-safe. */
void	 dashboard_free(struct dashboard **db);

struct dashboard_stats {
	uint64_t	 requests;
	uint64_t	 logins, login_failures, login_throttled;
	uint64_t	 csrf_refused, unauthenticated;
	size_t		 sessions, streams;
};

void	 dashboard_get_stats(struct dashboard *db, struct dashboard_stats *s_r);

/* --- pure parts (dashboard_parse.c: no I/O, no globals) --------------

   Each returns 0, or -1 with *error_r set to one sentence (static or in
   a). */

/* Maps a raw URL path (as in the request line, query and fragment
   already cut off, not decoded) to a file name relative to web_root:
   "/" -> "index.html", "/a/" -> "a/index.html", "/assets/app.js" ->
   "assets/app.js". Percent-escapes are decoded once; refused: a path not
   starting with "/", longer than DASHBOARD_MAX_PATH, an empty segment
   ("//"), a segment starting with "." (so "..", ".", hidden files), any
   byte other than A-Z a-z 0-9 - _ . ~ + @ after decoding (so "\\", NUL,
   "%", encoded "/" and double-encoding are refused). *rel_r is in a. */
int	 dashboard_path_normalize(const char *path, size_t len,
	    struct mw_arena *a, const char **rel_r, const char **error_r)
	    MW_MUST_CHECK;

/* The value of cookie name in a Cookie header (NULL: no header); 1 found
   (*value_r in a), 0 absent, -1 malformed header. At most 4 KiB. */
int	 dashboard_cookie_get(const char *header, const char *name,
	    struct mw_arena *a, const char **value_r) MW_MUST_CHECK;

/* A session id as the cookie carries it: exactly 64 lower-case hex
   digits. */
int	 dashboard_session_id_parse(const char *text,
	    uint8_t id_r[DASHBOARD_SESSION_ID_LEN]) MW_MUST_CHECK;

/* Origin (NULL: none, accepted) must be "http://HOST" or "https://HOST"
   (scheme as the listener speaks, tls) where HOST equals the Host header
   exactly (port included). true when acceptable. */
bool	 dashboard_origin_ok(const char *origin, const char *host, bool tls);

struct dashboard_login_req {
	const char	*name;
	const char	*password;	/* in a: wipe after use */
	size_t		 password_len;
};

/* POST /api/v1/session: {"name": ..., "password": ...}. */
int	 dashboard_parse_login(const char *body, size_t len, struct mw_arena *a,
	    struct dashboard_login_req *r, const char **error_r) MW_MUST_CHECK;

/* PATCH /api/v1/session: {"language": "ja"|"en"|""}. */
int	 dashboard_parse_language(const char *body, size_t len,
	    struct mw_arena *a, const char **language_r, const char **error_r)
	    MW_MUST_CHECK;

/* An admin name: 1 to STORE_ADMIN_MAX_NAME bytes of A-Z a-z 0-9 . _ @ -,
   starting with a letter or digit. */
bool	 dashboard_admin_name_ok(const char *name);

struct dashboard_admin_req {
	const char	*name;
	const char	*password;	/* in a: wipe after use */
	size_t		 password_len;
};

/* POST and PUT /api/v1/admins: {"name": ..., "password": ...}; the
   password ADMIN_PW_MIN to ADMIN_PW_MAX bytes. */
int	 dashboard_parse_admin(const char *body, size_t len, struct mw_arena *a,
	    struct dashboard_admin_req *r, const char **error_r) MW_MUST_CHECK;

enum dashboard_range { DASHBOARD_RANGE_1H, DASHBOARD_RANGE_24H,
	DASHBOARD_RANGE_7D };

struct dashboard_stats_query {
	enum dashboard_range	 range;
	int64_t			 span_ms;	/* the whole range */
	int64_t			 bucket_ms;	/* one point of a series */
	size_t			 top;		/* rows per top list */
};

/* GET /api/v1/stats?range=1h|24h|7d&top=N (default 1h, 10). */
int	 dashboard_parse_stats_query(const char *query, struct mw_arena *a,
	    struct dashboard_stats_query *q, const char **error_r)
	    MW_MUST_CHECK;

/* GET /api/v1/audit?since=&until=&actor=&limit= */
int	 dashboard_parse_audit_query(const char *query, struct mw_arena *a,
	    struct store_audit_query *q, const char **error_r) MW_MUST_CHECK;

struct dashboard_stream_filter {
	bool		 has_addr;
	struct mw_addr	 addr;
	const char	*verdict;	/* NULL: any; exact, e.g. "REJECT" */
	const char	*listener;	/* NULL: any */
};

/* GET /api/v1/events/stream?address=&verdict=&listener= */
int	 dashboard_parse_stream_query(const char *query, struct mw_arena *a,
	    struct dashboard_stream_filter *f, const char **error_r)
	    MW_MUST_CHECK;
bool	 dashboard_stream_match(const struct dashboard_stream_filter *f,
	    const struct store_event *ev);

/* The Content-Type of a file name by its extension
   ("application/octet-stream" when unknown). */
const char *dashboard_content_type(const char *name);

#endif
