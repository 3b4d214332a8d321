/*
 * admin_int - shared privates of admin.c (server, sockets, dispatch) and
 * admin_routes.c (one handler per route of docs/admin-api.md).
 */
#ifndef MW_LISTEN_ADMIN_INT_H
#define MW_LISTEN_ADMIN_INT_H

#include <event2/http.h>
#include <jansson.h>
#include <sys/types.h>

#include "engine/engine.h"
#include "listen/admin.h"

struct admin_check;

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
	const char		*peer;		/* "uid 1000", "127.0.0.1:41822" */
};

/* Sends code with obj (a reference is taken) as the body. */
void	 admin_reply(struct evhttp_request *req, int code, json_t *obj);
/* Sends {"error": text}. */
void	 admin_reply_error(struct evhttp_request *req, int code,
	    const char *text);

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

#endif
