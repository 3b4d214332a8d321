/*
 * dashboard_int - shared privates of dashboard.c (server, sessions,
 * login, static files), dashboard_stream.c (live events) and
 * dashboard_metrics.c (/metrics).
 */
#ifndef MW_LISTEN_DASHBOARD_INT_H
#define MW_LISTEN_DASHBOARD_INT_H

#include <event2/http.h>
#include <openssl/ssl.h>

#include "engine/engine.h"
#include "listen/dashboard.h"

struct dash_login;
struct dash_stream;

struct dash_session {
	bool		 used;
	uint8_t		 id[DASHBOARD_SESSION_ID_LEN];
	char		 csrf[2 * DASHBOARD_SESSION_ID_LEN + 1];	/* hex */
	char		 name[STORE_ADMIN_MAX_NAME + 1];
	int64_t		 created, last_used;	/* unix seconds */
};

struct dashboard {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct engine		*e;
	struct admin_server	*as;
	struct evhttp		*http;
	SSL_CTX			*ssl;
	bool			 tls;
	bool			 demo;
	char			*listen;	/* as bound */
	struct dash_session	 sessions[DASHBOARD_MAX_SESSIONS];
	struct dash_login	*logins;	/* waiting for the password thread */
	struct dash_stream	*streams;
	size_t			 nstreams;
	struct event		*heartbeat;
	struct dashboard_stats	 stats;
};

/* The client of a request: the peer, or the address a trusted proxy
   forwarded (X-Forwarded-For), and whether it used https. */
struct dash_client {
	bool		 has_addr;
	struct mw_addr	 addr;
	const char	*text;		/* "127.0.0.1:41822", in the arena */
	bool		 https;
};

struct dash_req {
	struct evhttp_request	*req;
	struct mw_arena		*a;	/* NULL once a handler took it */
	enum evhttp_cmd_type	 method;
	const char		*method_name;
	const char		*path;	/* raw, without the query */
	const char		*query;	/* NULL: none */
	const char		*body;	/* NUL-terminated copy in a */
	size_t			 body_len;
	struct dash_client	 client;
	struct dash_session	*session;	/* NULL: not logged in */
};

struct dash_session *dash_session_find(struct dashboard *db,
	    const uint8_t id[DASHBOARD_SESSION_ID_LEN]);
/* Writes an audit record; a store failure is logged. */
void	 dash_audit(struct dashboard *db, const char *actor,
	    const char *origin, const char *action, const char *target,
	    const char *detail);
int	 dash_set_language(struct dashboard *db, const char *name,
	    const char *lang) MW_MUST_CHECK;

/* dashboard_stream.c */
int	 dash_streams_init(struct dashboard *db) MW_MUST_CHECK;
void	 dash_streams_free(struct dashboard *db);
void	 dash_stream_start(struct dashboard *db, struct dash_req *r);
/* Ends the streams opened with session s (logout, expiry). */
void	 dash_streams_end_session(struct dashboard *db,
	    const struct dash_session *s);

/* dashboard_metrics.c */
void	 dash_metrics(struct dashboard *db, struct dash_req *r);

#endif
