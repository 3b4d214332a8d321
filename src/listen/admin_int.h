/*
 * admin_int - shared privates of admin.c (server, sockets, dispatch) and
 * admin_routes.c (one handler per route of docs/admin-api.md).
 */
#ifndef MW_LISTEN_ADMIN_INT_H
#define MW_LISTEN_ADMIN_INT_H

#include <event2/http.h>
#include <jansson.h>
#include <sys/types.h>

#include "core/geoip.h"
#include "engine/engine.h"
#include "listen/admin.h"

struct admin_check;
struct admin_pw;
struct admin_job;

struct admin_server {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct engine		*e;
	struct admin_hooks	 hooks;		/* config_path copied */
	struct evhttp		*http;
	char			*socket_path;	/* bound by us; NULL: none */
	dev_t			 socket_dev;	/* to unlink only our socket */
	ino_t			 socket_ino;
	struct admin_check	*checks;	/* /check requests waiting for DNS */
	int64_t			 started;	/* unix seconds */
	struct admin_pw		*pw;		/* password hashing thread */
	struct admin_job	*jobs;		/* requests waiting for it */
	struct mw_geoip		*geo;		/* [geoip] database; NULL: off */
	/* An admin was deleted or got a new password: the dashboard ends
	   the admin's sessions. */
	void			(*on_admin_change)(void *ctx, const char *name);
	void			*on_admin_change_ctx;
};

/* Who sends a request. The unix socket: actor "uid N", origin "unix uid
   N"; the dashboard: actor the admin's name, origin "ADDR:PORT". */
struct admin_caller {
	bool		 tcp;		/* the dashboard listener */
	const char	*actor;
	const char	*origin;
};

/* One request being handled. The arena lives until the reply is sent
   (a handler that answers later takes it: sets a to NULL). */
struct admin_req {
	struct admin_server	*as;
	struct evhttp_request	*req;
	struct mw_arena		*a;
	enum evhttp_cmd_type	 method;
	const char		*path;		/* decoded path, no query */
	const char		*query;		/* NULL when none */
	const char		*body;		/* NUL-terminated copy in a */
	size_t			 body_len;
	const char		*peer;		/* "uid 1000", "alice from 127.0.0.1:41822" */
	struct admin_caller	 who;
};

/* Serves one request on the admin routes for caller (NULL: the unix
   socket's peer, found with SO_PEERCRED). The dashboard calls this after
   it checked the session and the CSRF token. */
void	 admin_dispatch(struct admin_server *as, struct evhttp_request *req,
	    const struct admin_caller *caller);

/* Sends code with obj (a reference is taken) as the body. */
void	 admin_reply(struct evhttp_request *req, int code, json_t *obj);
/* Sends {"error": text}. */
void	 admin_reply_error(struct evhttp_request *req, int code,
	    const char *text);

/* (Re)opens cfg->geoip.database; on failure keeps the open one and
   logs why. [geoip] database = "" closes it. */
void	 admin_geoip_open(struct admin_server *as, const struct cfg *cfg);
/* BAN object of docs/admin-api.md with "country" when known (a network
   ban: the country of its first address). */
json_t	*admin_ban_json_geo(struct admin_server *as, const struct store_ban *b);

/* Route handlers (admin_routes.c). */
void	 admin_route_status(struct admin_req *r);
void	 admin_route_bans(struct admin_req *r);
void	 admin_route_list(struct admin_req *r, enum store_list list);
void	 admin_route_check(struct admin_req *r);
void	 admin_route_events(struct admin_req *r);
void	 admin_route_reload(struct admin_req *r);
/* Login guard; tail: the path after "/api/v1/accounts/" or
   "/api/v1/alerts/". */
void	 admin_route_alerts(struct admin_req *r);
void	 admin_route_alert_ack(struct admin_req *r, const char *tail);
void	 admin_route_accounts(struct admin_req *r);
void	 admin_route_account(struct admin_req *r, const char *tail);

/* Cancels every /check still waiting (server shutdown). */
void	 admin_checks_cancel_all(struct admin_server *as);

/* The document GET /status returns (caller decrefs). */
json_t	*admin_status_json(struct admin_server *as);

/* Writes one audit record (who, what, target, from where) for r; a store
   failure is logged, the action stands. */
void	 admin_audit(struct admin_req *r, const char *action,
	    const char *target, const char *detail);

/* admin_users.c: admins, audit log, statistics. */
void	 admin_route_admins(struct admin_req *r);
void	 admin_route_audit(struct admin_req *r);
void	 admin_route_stats(struct admin_req *r);
void	 admin_jobs_cancel_all(struct admin_server *as);

/* --- admin_pw.c: argon2id off the loop thread -------------------------

   crypto_pwhash_str with the MODERATE limits takes about a second and
   256 MiB: one worker thread does them in turn, at most ADMIN_PW_QUEUE
   waiting. done runs on the loop thread; the password copy is wiped
   before that. */
#define ADMIN_PW_QUEUE		8	/* jobs waiting; more: busy (503) */
#define ADMIN_PW_MAX		1024	/* bytes of a password */
#define ADMIN_PW_MIN		10	/* bytes of a new password */

/* ok: hash: *hash valid (crypto_pwhash_str string); verify: matches. */
typedef void admin_pw_done_fn(void *ctx, bool ok, const char *hash);

struct admin_pw_job;

int	 admin_pw_new(struct event_base *base, struct admin_pw **pw_r,
	    char **error_r) MW_MUST_CHECK;
void	 admin_pw_free(struct admin_pw **pw);
/* Hashes password; NULL when ADMIN_PW_QUEUE jobs wait already. */
struct admin_pw_job *admin_pw_hash(struct admin_pw *pw, const char *password,
	    size_t len, admin_pw_done_fn *fn, void *ctx);
/* Verifies password against hash (NULL: an unknown name; a dummy hash is
   verified so that the answer takes as long, and is false). */
struct admin_pw_job *admin_pw_verify(struct admin_pw *pw, const char *hash,
	    const char *password, size_t len, admin_pw_done_fn *fn, void *ctx);
/* fn will not run; NULL-safe; clears *job. */
void	 admin_pw_cancel(struct admin_pw_job **job);
/* Microseconds the last hash or verify took (for the log and metrics). */
uint64_t admin_pw_last_us(struct admin_pw *pw);

#endif
