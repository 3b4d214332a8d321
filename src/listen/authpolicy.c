/*
 * authpolicy - Dovecot's auth policy service; see authpolicy.h.
 *
 * listener.c carries the connections (accept, max_connections, idle
 * timeout, one recv per readiness into the connection's input, the
 * answers of one read in one send, linger after an error); http_req.c
 * frames each request in place with libhttp-parser; authpolicy_parse.c
 * reads the query and the JSON; the engine decides. Requests are answered
 * synchronously, so pipelined ones are simply answered in order by the
 * loop over the input, and one arena serves them all (reset after each
 * answer).
 * Hot path (command=allow, allowed): one recv, the framing (callbacks
 * that record slices), one JSON parse, engine_auth_check, the answer
 * formatted on the stack and queued, one send; the arena keeps its first
 * chunk across requests, so nothing is allocated per request.
 * The password hash is copied only into the observation on the stack and
 * wiped from both after the engine returns; it is never logged.
 */
#include "listen/authpolicy.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/slice.h"
#include "engine/engine.h"
#include "listen/authpolicy_parse.h"
#include "listen/http_req.h"
#include "listen/listener.h"

#define AUTHPOLICY_ARENA_CHUNK	4096	/* a request with its copies fits */
#define AUTHPOLICY_MAX_LOG_LOGIN 100	/* bytes of a login quoted in a log line */
#define AUTHPOLICY_HEAD_MAX	256	/* bytes of an answer's head */
#define AUTHPOLICY_CONTINUE	"HTTP/1.1 100 Continue\r\n\r\n"

struct authpolicy_server {
	struct event_base	*base;
	const struct cfg	*cfg;
	struct engine		*engine;
	struct listener		*tcp, *unix_l;
	struct mw_arena		*arena;		/* the request being answered */
	struct authpolicy_stats	 stats;
};

struct authpolicy_conn {
	struct authpolicy_server *ap;
	struct listener_conn	*c;
	/* The request waiting in the input (incomplete): */
	bool			 continued;	/* "100 Continue" sent */
	size_t			 parsed_len;	/* input bytes, last parse */
	size_t			 need;		/* its http_req need */
};

static const struct http_req_limits authpolicy_http_limits = {
	.max_header_bytes = AUTHPOLICY_MAX_HEADERS,
	.max_headers = AUTHPOLICY_MAX_HEADER_LINES,
	.max_body = AUTHPOLICY_MAX_BODY,
	.header = AUTHPOLICY_API_HEADER,
};

/* The Connection header the answer to r needs: r NULL is a request whose
   framing was lost (the connection closes after the answer). */
static const char *
authpolicy_conn_header(const struct http_req *r)
{
	if (r == NULL || !r->keep_alive)
		return "Connection: close\r\n";
	/* HTTP/1.0 closes unless the answer says otherwise. */
	return r->is_http10 ? "Connection: keep-alive\r\n" : "";
}

/* The status line, the headers (extra: "" or complete lines) and body in
   one write. */
static void
authpolicy_send(struct authpolicy_conn *ac, const struct http_req *r,
    int code, const char *phrase, const char *extra, const char *body,
    size_t len)
{
	char	 buf[AUTHPOLICY_HEAD_MAX + AUTHPOLICY_REPLY_MAX];
	int	 n;

	n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n%s%s\r\n",
	    code, phrase, len, extra, authpolicy_conn_header(r));
	MW_ASSERT(n > 0 && (size_t)n < AUTHPOLICY_HEAD_MAX &&
	    len <= AUTHPOLICY_REPLY_MAX);
	memcpy(buf + n, body, len);
	listener_conn_write(ac->c, buf, (size_t)n + len);
}

/* A refusal: {"error": text}, one warning line. */
static void
authpolicy_refuse(struct authpolicy_conn *ac, const struct http_req *r,
    int code, const char *phrase, const char *extra, const char *what,
    const char *text)
{
	char	 body[AUTHPOLICY_REPLY_MAX];
	size_t	 len = authpolicy_error_format(text, body, sizeof(body));

	log_warn("%s: %s: %s; answered %d", listener_conn_ctx(ac->c), what,
	    text, code);
	authpolicy_send(ac, r, code, phrase, extra, body, len);
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
authpolicy_log_verdict(struct authpolicy_conn *ac,
    const struct authpolicy_req *r, const struct auth_verdict *v)
{
	struct authpolicy_server *ap = ac->ap;
	const char		 *what;

	/* A repeat of a refusal already logged this tick: the engine logs
	   one line for all of them at the tick ("(N more in the last
	   second)"), not one per request of a client hammering us. */
	if ((v->kind == AUTH_VERDICT_ALLOW && !log_is_debug()) || v->repeat)
		return;
	what = v->kind == AUTH_VERDICT_REJECT ? "refused" :
	    v->kind == AUTH_VERDICT_TARPIT ? mw_arena_printf(ap->arena,
	    "tarpit %u s", (unsigned)v->delay_s) : "allowed";
	log_msg(v->kind == AUTH_VERDICT_ALLOW ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
	    "%s: %s login \"%s\" from %s: %s (%s)", listener_conn_ctx(ac->c),
	    r->protocol[0] != '\0' ? r->protocol : "?",
	    mw_sanitize(ap->arena, mw_slice_from_cstr(r->login),
	    AUTHPOLICY_MAX_LOG_LOGIN), r->has_addr ? r->remote : "unknown",
	    what, v->reason != NULL ? v->reason : "-");
}

/* The query string NUL-terminated in buf (size > AUTHPOLICY_MAX_QUERY +
   1); a longer one is cut one byte over the limit, which the parser
   refuses. NULL when the target had none. */
static const char *
authpolicy_query(const struct http_req *hr, char *buf, size_t size)
{
	size_t len = hr->query.len < size - 1 ? hr->query.len : size - 1;

	if (hr->query.ptr == NULL)
		return NULL;
	memcpy(buf, hr->query.ptr, len);
	buf[len] = '\0';
	return buf;
}

/* Method and API key: false when refused (answered). *close_r: the
   connection is to close after the answer. */
static bool
authpolicy_admit(struct authpolicy_conn *ac, const struct http_req *hr,
    bool *close_r)
{
	struct authpolicy_server *ap = ac->ap;
	const char		 *want = ap->cfg->authpolicy.api_key;

	if (!hr->is_post) {
		/* Not Dovecot (a browser, a scanner): the connection closes,
		   which also spares a HEAD the question of a body. */
		ap->stats.malformed++;
		*close_r = true;
		authpolicy_refuse(ac, NULL, 405, "Method Not Allowed",
		    "Allow: POST\r\n", "refused request", "only POST is "
		    "served: this is Dovecot's auth_policy_server_url");
		return false;
	}
	if (want[0] == '\0' || authpolicy_key_eq(hr->has_header ?
	    hr->header.ptr : NULL, hr->header.len, want, strlen(want)))
		return true;
	ap->stats.unauthorized++;
	authpolicy_refuse(ac, hr, 401, "Unauthorized", "", "refused request",
	    !hr->has_header ? "no X-API-Key header: set "
	    "auth_policy_server_api_header to [authpolicy] api_key" :
	    "wrong X-API-Key: set auth_policy_server_api_header to "
	    "[authpolicy] api_key");
	return false;
}

/* Answers hr; true: the connection may carry another request. */
static bool
authpolicy_handle(struct authpolicy_conn *ac, const struct http_req *hr)
{
	struct authpolicy_server *ap = ac->ap;
	const struct cfg	*cfg = ap->cfg;
	struct authpolicy_req	 r;
	struct auth_observation	 o;
	struct auth_verdict	 v = { .kind = AUTH_VERDICT_ALLOW };
	enum authpolicy_cmd	 cmd;
	const char		*error = NULL, *body;
	char			 reply[AUTHPOLICY_REPLY_MAX];
	char			 query[AUTHPOLICY_MAX_QUERY + 2];
	size_t			 len;
	bool			 close = false;

	if (!authpolicy_admit(ac, hr, &close))
		return !close && hr->keep_alive;
	if (authpolicy_parse_query(authpolicy_query(hr, query, sizeof(query)),
	    &cmd, ap->arena, &error) < 0)
		goto malformed;
	body = hr->body.ptr != NULL ? hr->body.ptr : "";
	if (authpolicy_parse_body(body, hr->body.len, cmd,
	    cfg->authpolicy.hash_truncate, ap->arena, &r, &error) < 0)
		goto malformed;

	ap->stats.requests++;
	o = (struct auth_observation){
		.source = "authpolicy",
		.service = r.protocol,
		.addr = r.addr,
		.has_addr = r.has_addr,
		.account = r.login,
		.pwhash_bits = r.pwhash_bits,
		.merge_log = true,	/* authpolicy_log_verdict skips repeats */
	};
	memcpy(o.pwhash, r.pwhash, sizeof(o.pwhash));
	if (cmd == AUTHPOLICY_CMD_ALLOW) {
		ap->stats.allow_checks++;
		o.phase = AUTH_PHASE_BEFORE;
		engine_auth_check(ap->engine, &o, ap->arena, &v);
		if (v.kind != AUTH_VERDICT_ALLOW && v.kind != AUTH_VERDICT_TARPIT &&
		    v.kind != AUTH_VERDICT_REJECT) {
			log_error("%s: the engine answered an unknown verdict "
			    "%d; allowing (fail open)", listener_conn_ctx(ac->c),
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
			    listener_conn_ctx(ac->c), r.protocol[0] != '\0' ?
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
		authpolicy_log_verdict(ac, &r, &v);
	}
	len = authpolicy_reply_format(&v, v.kind == AUTH_VERDICT_REJECT ?
	    authpolicy_reject_text(ap, v.reason) : NULL, reply, sizeof(reply));
	authpolicy_send(ac, hr, 200, "OK", "", reply, len);
	return hr->keep_alive;
malformed:
	ap->stats.malformed++;
	authpolicy_refuse(ac, hr, 400, "Bad Request", "", "malformed request",
	    error);
	return hr->keep_alive;
}

/* The request's framing is lost: a JSON 400 (411, 413, 431) and close. */
static void
authpolicy_conn_bad_http(struct authpolicy_conn *ac, const struct http_req *hr)
{
	ac->ap->stats.malformed++;
	authpolicy_refuse(ac, NULL, hr->status, hr->phrase, "",
	    "malformed request", hr->error);
	/* Runs authpolicy_conn_on_close: ac is gone after this. */
	listener_conn_close_after_write(ac->c);
}

/* The request at the start of the input is incomplete at len bytes. */
static void
authpolicy_conn_wait(struct authpolicy_conn *ac, const struct http_req *hr,
    size_t len)
{
	ac->parsed_len = len;
	ac->need = hr->need;
	if (hr->expect_continue && !ac->continued) {
		listener_conn_write(ac->c, AUTHPOLICY_CONTINUE,
		    sizeof(AUTHPOLICY_CONTINUE) - 1);
		ac->continued = true;
	}
}

/* Every complete request in the input, in order, until the peer stops
   reading its answers or the connection is to close. An incomplete one
   stays in the input and is parsed again from its start once that can
   tell more (http_req_worth_parsing). */
static void
authpolicy_conn_on_read(struct listener_conn *c, void *ctx)
{
	struct authpolicy_conn	*ac = ctx;
	struct http_req		 hr;

	while (!listener_conn_write_blocked(c)) {
		size_t	 len;
		char	*data = listener_conn_input(c, &len);
		int	 ret;
		bool	 keep;

		if (len == 0 || (ac->parsed_len > 0 &&
		    !http_req_worth_parsing(data, len, ac->parsed_len,
		    ac->need, &authpolicy_http_limits)))
			break;
		ret = http_req_parse(data, len, &authpolicy_http_limits, &hr);
		if (ret < 0) {
			authpolicy_conn_bad_http(ac, &hr);
			return;
		}
		if (ret == 0) {
			authpolicy_conn_wait(ac, &hr, len);
			break;
		}
		ac->continued = false;
		ac->parsed_len = ac->need = 0;
		keep = authpolicy_handle(ac, &hr);
		mw_arena_reset(ac->ap->arena);
		listener_conn_consume(c, hr.used);
		if (!keep) {
			/* Runs authpolicy_conn_on_close. */
			listener_conn_close_after_write(c);
			return;
		}
	}
}

static void
authpolicy_conn_on_close(struct listener_conn *c, void *ctx)
{
	struct authpolicy_conn *ac = ctx;

	(void)c;
	ac->ap->stats.connections--;
	free(ac);
}

static void
authpolicy_on_accept(void *ctx, struct listener_conn *c)
{
	struct authpolicy_server *ap = ctx;
	struct authpolicy_conn	 *ac = mw_calloc(1, sizeof(*ac));

	ac->ap = ap;
	ac->c = c;
	ap->stats.connections++;
	ap->stats.connections_total++;
	listener_conn_set_cb(c, authpolicy_conn_on_read,
	    authpolicy_conn_on_close, ac);
}

static void
authpolicy_limits(const struct cfg *cfg, struct listener_limits *lim)
{
	*lim = (struct listener_limits){
		.max_connections = cfg->authpolicy.max_connections,
		.idle_timeout = cfg->authpolicy.timeout,
		/* Any request http_req_parse may still accept. */
		.max_input = AUTHPOLICY_MAX_HEADERS + AUTHPOLICY_MAX_BODY,
	};
}

int
authpolicy_server_new(struct event_base *base, const struct cfg *cfg,
    struct engine *e, struct authpolicy_server **ap_r, char **error_r)
{
	struct authpolicy_server *ap = mw_calloc(1, sizeof(*ap));
	const char		*listen = cfg->authpolicy.listen;
	const char		*path = cfg->authpolicy.unix_socket;
	struct listener_limits	 lim;

	*ap_r = NULL;
	*error_r = NULL;
	ap->base = base;
	ap->cfg = cfg;
	ap->engine = e;
	ap->arena = mw_arena_new(AUTHPOLICY_ARENA_CHUNK);
	authpolicy_limits(cfg, &lim);
	if (listen[0] != '\0') {
		if (listener_new_tcp(base, "authpolicy", listen, &lim,
		    authpolicy_on_accept, ap, &ap->tcp, error_r) < 0)
			goto fail;
		log_info("authpolicy: listening on %s", listen);
	}
	if (path[0] != '\0') {
		if (listener_new_unix(base, "authpolicy", path,
		    cfg->authpolicy.unix_socket_mode,
		    cfg->authpolicy.unix_socket_group, &lim,
		    authpolicy_on_accept, ap, &ap->unix_l, error_r) < 0)
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
	const struct cfg	*old = ap->cfg;
	struct listener_limits	 lim;

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
	authpolicy_limits(cfg, &lim);
	if (ap->tcp != NULL)
		listener_set_limits(ap->tcp, &lim);
	if (ap->unix_l != NULL)
		listener_set_limits(ap->unix_l, &lim);
}

void
authpolicy_server_free(struct authpolicy_server **app)
{
	struct authpolicy_server *ap = *app;

	if (ap == NULL)
		return;
	*app = NULL;
	/* Closes every connection (their on_close runs) and removes the
	   unix socket file. */
	listener_free(&ap->tcp);
	listener_free(&ap->unix_l);
	mw_arena_free(&ap->arena);
	free(ap);
}

void
authpolicy_server_get_stats(const struct authpolicy_server *ap,
    struct authpolicy_stats *s_r)
{
	*s_r = ap->stats;
	if (ap->tcp != NULL)
		s_r->over_limit += listener_refused(ap->tcp);
	if (ap->unix_l != NULL)
		s_r->over_limit += listener_refused(ap->unix_l);
}

uint16_t
authpolicy_server_port(const struct authpolicy_server *ap)
{
	return ap->tcp != NULL ? listener_port(ap->tcp) : 0;
}
