/*
 * authpolicy - Dovecot's auth policy service; see authpolicy.h.
 *
 * evhttp parses HTTP; authpolicy_parse.c the query and the JSON; the
 * engine decides. Hot path (command=allow, allowed): evhttp's request,
 * one JSON parse, engine_auth_check, one reply body added to a reused
 * evbuffer; the arena keeps its first chunk across requests.
 * evhttp 2.1 has no hook for a connection's start and end, so connections
 * are tracked from their first request in a small hash of evcon pointers
 * whose close callback removes them; that is what max_connections counts.
 * The password hash is copied only into the observation on the stack and
 * wiped from both after the engine returns; it is never logged.
 */
#include "listen/authpolicy.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/slice.h"
#include "engine/engine.h"
#include "listen/authpolicy_parse.h"
#include "listen/listener.h"

#define AUTHPOLICY_ARENA_CHUNK	4096	/* a request with its copies fits */
#define AUTHPOLICY_CONN_BUCKETS	1024	/* hash of tracked connections */
#define AUTHPOLICY_WARN_INTERVAL 10	/* seconds between "limit reached" warnings */
#define AUTHPOLICY_HTTP_MAX_BODY (4 * AUTHPOLICY_MAX_BODY)	/* above: evhttp's 413 */
#define AUTHPOLICY_MAX_LOG_LOGIN 100	/* bytes of a login quoted in a log line */

/* A connection that has sent a request. */
struct authpolicy_conn {
	struct authpolicy_conn		*next;	/* in its bucket */
	struct evhttp_connection	*evcon;
	struct authpolicy_server	*ap;
};

struct authpolicy_server {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct engine		*engine;
	struct evhttp		*http;
	struct listener_sock	 tcp, unix_s;	/* fds owned by evhttp */
	struct mw_arena		*arena;		/* the request being answered */
	struct evbuffer		*out;		/* reply body, moved out by evhttp */
	struct authpolicy_conn	*conns[AUTHPOLICY_CONN_BUCKETS];
	struct authpolicy_stats	 stats;
	time_t			 last_limit_warn;
};

static size_t
authpolicy_bucket(const struct evhttp_connection *evcon)
{
	uint64_t h = (uint64_t)(uintptr_t)evcon * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 54) % AUTHPOLICY_CONN_BUCKETS;
}

static void
authpolicy_conn_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct authpolicy_conn	*c = arg, **pp;
	struct authpolicy_server *ap = c->ap;

	for (pp = &ap->conns[authpolicy_bucket(evcon)]; *pp != NULL;
	    pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ap->stats.connections--;
	free(c);
}

/* true: evcon is tracked (now or from an earlier request); false: it is
   new and over max_connections. */
static bool
authpolicy_conn_track(struct authpolicy_server *ap,
    struct evhttp_connection *evcon)
{
	size_t			 b = authpolicy_bucket(evcon);
	struct authpolicy_conn	*c;
	struct bufferevent	*bev;
	int			 one = 1;

	for (c = ap->conns[b]; c != NULL; c = c->next)
		if (c->evcon == evcon)
			return true;
	if (ap->stats.connections >= ap->cfg->authpolicy.max_connections)
		return false;
	c = mw_calloc(1, sizeof(*c));
	c->evcon = evcon;
	c->ap = ap;
	c->next = ap->conns[b];
	ap->conns[b] = c;
	evhttp_connection_set_closecb(evcon, authpolicy_conn_on_close, c);
	ap->stats.connections++;
	ap->stats.connections_total++;
	/* Answers are one write each: no Nagle delay behind them. Fails
	   harmlessly on a unix socket. */
	if ((bev = evhttp_connection_get_bufferevent(evcon)) != NULL)
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
	return true;
}

/* "authpolicy[127.0.0.1:41822]", "authpolicy[unix]": for log lines only. */
static const char *
authpolicy_ctx(struct authpolicy_server *ap, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char			*host = NULL;
	ev_uint16_t		 port = 0;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &host, &port);
	if (host == NULL || host[0] == '\0' || port == 0)
		return "authpolicy[unix]";
	return mw_arena_printf(ap->arena, strchr(host, ':') != NULL ?
	    "authpolicy[[%s]:%u]" : "authpolicy[%s:%u]",
	    mw_sanitize(ap->arena, mw_slice_from_cstr(host), MW_ADDR_STRLEN),
	    (unsigned)port);
}

static void
authpolicy_send(struct authpolicy_server *ap, struct evhttp_request *req,
    int code, const char *phrase, const char *body, size_t len)
{
	if (evbuffer_add(ap->out, body, len) < 0)
		mw_panic("evbuffer_add: out of memory");
	evhttp_send_reply(req, code, phrase, ap->out);
	evbuffer_drain(ap->out, evbuffer_get_length(ap->out));
}

/* A refusal: {"error": text}, one warning line. */
static void
authpolicy_refuse(struct authpolicy_server *ap, struct evhttp_request *req,
    int code, const char *phrase, const char *what, const char *text)
{
	char	 body[AUTHPOLICY_REPLY_MAX];
	size_t	 len = authpolicy_error_format(text, body, sizeof(body));

	log_warn("%s: %s: %s; answered %d", authpolicy_ctx(ap, req), what,
	    text, code);
	authpolicy_send(ap, req, code, phrase, body, len);
}

/* reject_text with its "%s" replaced by the reason ("%%" is "%"). */
static const char *
authpolicy_reject_text(struct authpolicy_server *ap, const char *reason)
{
	const char	*t = ap->cfg->authpolicy.reject_text;
	size_t		 rlen = reason != NULL ? strlen(reason) : 0, n = 0;
	char		*out;

	out = mw_arena_alloc(ap->arena, mw_add_size(strlen(t), rlen + 1));
	for (; *t != '\0'; t++) {
		if (t[0] == '%' && t[1] == '%') {
			out[n++] = '%';
			t++;
		} else if (t[0] == '%' && t[1] == 's') {
			memcpy(out + n, reason != NULL ? reason : "", rlen);
			n += rlen;
			t++;
		} else
			out[n++] = *t;
	}
	out[n] = '\0';
	return out;
}

static void
authpolicy_log_verdict(struct authpolicy_server *ap,
    struct evhttp_request *req, const struct authpolicy_req *r,
    const struct auth_verdict *v)
{
	const char *what;

	if (v->kind == AUTH_VERDICT_ALLOW && !log_is_debug())
		return;
	what = v->kind == AUTH_VERDICT_REJECT ? "refused" :
	    v->kind == AUTH_VERDICT_TARPIT ? mw_arena_printf(ap->arena,
	    "tarpit %u s", (unsigned)v->delay_s) : "allowed";
	log_msg(v->kind == AUTH_VERDICT_ALLOW ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
	    "%s: %s login \"%s\" from %s: %s (%s)", authpolicy_ctx(ap, req),
	    r->protocol[0] != '\0' ? r->protocol : "?",
	    mw_sanitize(ap->arena, mw_slice_from_cstr(r->login),
	    AUTHPOLICY_MAX_LOG_LOGIN), r->has_addr ? r->remote : "unknown",
	    what, v->reason != NULL ? v->reason : "-");
}

static void
authpolicy_handle(struct authpolicy_server *ap, struct evhttp_request *req)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	const struct cfg	*cfg = ap->cfg;
	struct authpolicy_req	 r;
	struct auth_observation	 o;
	struct auth_verdict	 v = { .kind = AUTH_VERDICT_ALLOW };
	enum authpolicy_cmd	 cmd;
	const char		*error = NULL, *body, *key;
	char			 reply[AUTHPOLICY_REPLY_MAX];
	size_t			 len;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "POST");
		ap->stats.malformed++;
		authpolicy_refuse(ap, req, 405, "Method Not Allowed",
		    "refused request", "only POST is served: this is Dovecot's "
		    "auth_policy_server_url");
		return;
	}
	if (cfg->authpolicy.api_key[0] != '\0') {
		key = evhttp_find_header(evhttp_request_get_input_headers(req),
		    AUTHPOLICY_API_HEADER);
		if (!authpolicy_key_eq(key, key != NULL ? strlen(key) : 0,
		    cfg->authpolicy.api_key, strlen(cfg->authpolicy.api_key))) {
			ap->stats.unauthorized++;
			authpolicy_refuse(ap, req, 401, "Unauthorized",
			    "refused request", key == NULL ? "no X-API-Key "
			    "header: set auth_policy_server_api_header to "
			    "[authpolicy] api_key" : "wrong X-API-Key: set "
			    "auth_policy_server_api_header to [authpolicy] "
			    "api_key");
			return;
		}
	}
	if (authpolicy_parse_query(uri != NULL ? evhttp_uri_get_query(uri) :
	    NULL, &cmd, ap->arena, &error) < 0)
		goto malformed;
	len = evbuffer_get_length(in);
	if (len > AUTHPOLICY_MAX_BODY)	/* before the pullup copies it */
		body = "";
	else if ((body = (const char *)evbuffer_pullup(in, -1)) == NULL)
		body = "";	/* empty buffer */
	if (authpolicy_parse_body(body, len, cmd, cfg->authpolicy.hash_truncate,
	    ap->arena, &r, &error) < 0)
		goto malformed;

	ap->stats.requests++;
	o = (struct auth_observation){
		.source = "authpolicy",
		.service = r.protocol,
		.addr = r.addr,
		.has_addr = r.has_addr,
		.account = r.login,
		.pwhash_bits = r.pwhash_bits,
	};
	memcpy(o.pwhash, r.pwhash, sizeof(o.pwhash));
	if (cmd == AUTHPOLICY_CMD_ALLOW) {
		ap->stats.allow_checks++;
		o.phase = AUTH_PHASE_BEFORE;
		engine_auth_check(ap->engine, &o, ap->arena, &v);
		if (v.kind != AUTH_VERDICT_ALLOW && v.kind != AUTH_VERDICT_TARPIT &&
		    v.kind != AUTH_VERDICT_REJECT) {
			log_error("%s: the engine answered an unknown verdict "
			    "%d; allowing (fail open)", authpolicy_ctx(ap, req),
			    (int)v.kind);
			ap->stats.fail_open++;
			v = (struct auth_verdict){ .kind = AUTH_VERDICT_ALLOW };
		}
	} else {
		ap->stats.reports++;
		if (r.policy_reject) {
			/* We refused it before the password was checked. */
			ap->stats.policy_rejects++;
		} else {
			o.phase = r.success ? AUTH_PHASE_SUCCESS :
			    AUTH_PHASE_FAILURE;
			engine_auth_report(ap->engine, &o);
		}
		if (log_is_debug())
			log_debug("%s: report: %s login \"%s\" from %s: %s%s",
			    authpolicy_ctx(ap, req), r.protocol[0] != '\0' ?
			    r.protocol : "?", mw_sanitize(ap->arena,
			    mw_slice_from_cstr(r.login),
			    AUTHPOLICY_MAX_LOG_LOGIN), r.has_addr ? r.remote :
			    "unknown", r.success ? "success" : "failure",
			    r.policy_reject ? " (refused by us)" : "");
	}
	explicit_bzero(o.pwhash, sizeof(o.pwhash));
	explicit_bzero(r.pwhash, sizeof(r.pwhash));
	if (cmd == AUTHPOLICY_CMD_ALLOW) {
		ap->stats.verdicts[v.kind]++;
		authpolicy_log_verdict(ap, req, &r, &v);
	}
	len = authpolicy_reply_format(&v, v.kind == AUTH_VERDICT_REJECT ?
	    authpolicy_reject_text(ap, v.reason) : NULL, reply, sizeof(reply));
	authpolicy_send(ap, req, 200, "OK", reply, len);
	return;
malformed:
	ap->stats.malformed++;
	authpolicy_refuse(ap, req, 400, "Bad Request", "malformed request",
	    error);
}

static void
authpolicy_on_request(struct evhttp_request *req, void *arg)
{
	struct authpolicy_server *ap = arg;
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	if (evcon != NULL && !authpolicy_conn_track(ap, evcon)) {
		time_t now = time(NULL);

		ap->stats.over_limit++;
		if (now - ap->last_limit_warn >= AUTHPOLICY_WARN_INTERVAL) {
			ap->last_limit_warn = now;
			log_warn("authpolicy: %llu connections, the limit; "
			    "refusing new ones with 503 (%llu so far; raise "
			    "[authpolicy] max_connections?)",
			    (unsigned long long)ap->stats.connections,
			    (unsigned long long)ap->stats.over_limit);
		}
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		authpolicy_send(ap, req, 503, "Service Unavailable",
		    "{\"error\":\"too many connections\"}", 32);
		mw_arena_reset(ap->arena);
		return;
	}
	authpolicy_handle(ap, req);
	mw_arena_reset(ap->arena);
}

static void
authpolicy_on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: evconnlistener retries on the next event. */
	log_warn_errno("authpolicy: accept");
}

/* Hands s's fd to evhttp (which closes it when freed). */
static int
authpolicy_serve(struct authpolicy_server *ap, struct listener_sock *s,
    const char *what, char **error_r)
{
	struct evconnlistener *l;

	l = evconnlistener_new(ap->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, LISTENER_BACKLOG, s->fd);
	if (l == NULL) {
		if (asprintf(error_r, "authpolicy: listen on %s failed", what) < 0)
			mw_panic("asprintf: out of memory");
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	evconnlistener_set_error_cb(l, authpolicy_on_accept_error);
	if (evhttp_bind_listener(ap->http, l) == NULL) {
		evconnlistener_free(l);
		s->fd = -1;
		if (asprintf(error_r, "authpolicy: cannot serve HTTP on %s",
		    what) < 0)
			mw_panic("asprintf: out of memory");
		return -1;
	}
	return 0;
}

static void
authpolicy_apply(struct authpolicy_server *ap)
{
	evhttp_set_timeout(ap->http, (int)ap->cfg->authpolicy.timeout);
}

int
authpolicy_server_new(struct event_base *base, const struct cfg *cfg,
    struct engine *e, struct authpolicy_server **ap_r, char **error_r)
{
	struct authpolicy_server *ap = mw_calloc(1, sizeof(*ap));
	const char		*listen = cfg->authpolicy.listen;
	const char		*path = cfg->authpolicy.unix_socket;

	*ap_r = NULL;
	*error_r = NULL;
	ap->base = base;
	ap->cfg = cfg;
	ap->engine = e;
	ap->tcp.fd = ap->unix_s.fd = -1;
	ap->arena = mw_arena_new(AUTHPOLICY_ARENA_CHUNK);
	if ((ap->out = evbuffer_new()) == NULL ||
	    (ap->http = evhttp_new(base)) == NULL)
		mw_panic("evhttp_new: out of memory");
	evhttp_set_max_headers_size(ap->http, AUTHPOLICY_MAX_HEADERS);
	evhttp_set_max_body_size(ap->http, AUTHPOLICY_HTTP_MAX_BODY);
	/* Every method reaches us, so a wrong one gets a JSON answer. */
	evhttp_set_allowed_methods(ap->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(ap->http, "application/json");
	evhttp_set_gencb(ap->http, authpolicy_on_request, ap);
	authpolicy_apply(ap);
	if (listen[0] != '\0') {
		if (listener_bind_tcp("authpolicy", listen, &ap->tcp,
		    error_r) < 0 ||
		    authpolicy_serve(ap, &ap->tcp, listen, error_r) < 0)
			goto fail;
		log_info("authpolicy: listening on %s", listen);
	}
	if (path[0] != '\0') {
		if (listener_bind_unix("authpolicy", path,
		    cfg->authpolicy.unix_socket_mode,
		    cfg->authpolicy.unix_socket_group, &ap->unix_s,
		    error_r) < 0 ||
		    authpolicy_serve(ap, &ap->unix_s, path, error_r) < 0)
			goto fail;
		log_info("authpolicy: listening on %s", path);
	}
	if (listen[0] == '\0' && path[0] == '\0') {
		*error_r = mw_strdup("authpolicy: neither listen nor "
		    "unix_socket is set; nothing to serve (set [authpolicy] "
		    "listen)");
		goto fail;
	}
	if (cfg->authpolicy.api_key[0] == '\0' && listen[0] != '\0')
		log_warn("authpolicy: no api_key: any local process that can "
		    "connect to %s can report logins; set [authpolicy] api_key "
		    "and auth_policy_server_api_header", listen);
	*ap_r = ap;
	return 0;
fail:
	authpolicy_server_free(&ap);
	return -1;
}

void
authpolicy_server_reload(struct authpolicy_server *ap, const struct cfg *cfg)
{
	const struct cfg *old = ap->cfg;

	if (strcmp(old->authpolicy.listen, cfg->authpolicy.listen) != 0 ||
	    strcmp(old->authpolicy.unix_socket,
	    cfg->authpolicy.unix_socket) != 0 ||
	    strcmp(old->authpolicy.unix_socket_group,
	    cfg->authpolicy.unix_socket_group) != 0 ||
	    old->authpolicy.unix_socket_mode != cfg->authpolicy.unix_socket_mode)
		log_warn("authpolicy: listen, unix_socket, unix_socket_mode or "
		    "unix_socket_group changed; keeping the current sockets "
		    "until a restart");
	ap->cfg = cfg;
	authpolicy_apply(ap);
}

void
authpolicy_server_free(struct authpolicy_server **app)
{
	struct authpolicy_server *ap = *app;

	if (ap == NULL)
		return;
	*app = NULL;
	/* Frees every connection (their close callbacks run) and the
	   listeners with their fds. */
	if (ap->http != NULL)
		evhttp_free(ap->http);
	for (size_t i = 0; i < AUTHPOLICY_CONN_BUCKETS; i++) {
		while (ap->conns[i] != NULL) {
			struct authpolicy_conn *c = ap->conns[i];

			ap->conns[i] = c->next;
			free(c);
		}
	}
	listener_sock_release(&ap->tcp);
	listener_sock_release(&ap->unix_s);
	if (ap->out != NULL)
		evbuffer_free(ap->out);
	mw_arena_free(&ap->arena);
	free(ap);
}

void
authpolicy_server_get_stats(const struct authpolicy_server *ap,
    struct authpolicy_stats *s_r)
{
	*s_r = ap->stats;
}

uint16_t
authpolicy_server_port(const struct authpolicy_server *ap)
{
	return ap->tcp.port;
}
