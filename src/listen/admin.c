/*
 * admin - the admin API server: the unix socket (stale file replaced,
 * mode and group set), evhttp with its limits, the route table and the
 * request plumbing (body copy, peer identity, JSON replies). The routes
 * themselves are in admin_routes.c; validation in admin_parse.c.
 *
 * Security: the socket's mode/group are the access control; the peer's
 * uid (SO_PEERCRED) is logged with every change. A path that exists and
 * is not a socket is never removed; a socket another live daemon answers
 * on is never taken over. Limits: ADMIN_MAX_HEADERS, ADMIN_MAX_BODY (413
 * from evhttp), ADMIN_TIMEOUT_S of idle time per connection.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/slice.h"
#include "listen/admin_int.h"

#define ADMIN_TIMEOUT_S		30	/* idle seconds, plus the DNSBL timeout */
#define ADMIN_BACKLOG		64
#define ADMIN_ARENA_CHUNK	8192

enum admin_methods {
	ADMIN_GET = 1 << 0, ADMIN_POST = 1 << 1, ADMIN_DELETE = 1 << 2,
	ADMIN_PUT = 1 << 3, ADMIN_PATCH = 1 << 4,
};

struct admin_route {
	const char	*path;
	unsigned	 methods;
	void		(*fn)(struct admin_req *r);	/* a path ending in '/'
							   takes an argument */
};

/* Refused over the dashboard's TCP listener: managing admins needs
   access to the server itself. */
static const char *const admin_unix_only[] = { "/api/v1/admins" };

static void admin_route_allow(struct admin_req *r);
static void admin_route_deny(struct admin_req *r);
static void admin_route_account_name(struct admin_req *r);
static void admin_route_alert_id(struct admin_req *r);

static const struct admin_route admin_routes[] = {
	{ "/api/v1/status",	ADMIN_GET,				admin_route_status },
	{ "/api/v1/bans",	ADMIN_GET | ADMIN_POST | ADMIN_DELETE,	admin_route_bans },
	{ "/api/v1/lists/allow", ADMIN_GET | ADMIN_POST | ADMIN_DELETE,	admin_route_allow },
	{ "/api/v1/lists/deny",	ADMIN_GET | ADMIN_POST | ADMIN_DELETE,	admin_route_deny },
	{ "/api/v1/check",	ADMIN_GET,				admin_route_check },
	{ "/api/v1/events",	ADMIN_GET,				admin_route_events },
	{ "/api/v1/reload",	ADMIN_POST,				admin_route_reload },
	{ "/api/v1/alerts",	ADMIN_GET,				admin_route_alerts },
	{ "/api/v1/alerts/",	ADMIN_POST,				admin_route_alert_id },
	{ "/api/v1/accounts",	ADMIN_GET,				admin_route_accounts },
	{ "/api/v1/accounts/",	ADMIN_GET,				admin_route_account_name },
	{ "/api/v1/admins",	ADMIN_GET | ADMIN_POST | ADMIN_PUT | ADMIN_DELETE,
	    admin_route_admins },
	{ "/api/v1/audit",	ADMIN_GET,				admin_route_audit },
	{ "/api/v1/stats",	ADMIN_GET,				admin_route_stats },
};

static void
admin_errorf(char **error_r, const char *fmt, ...) MW_PRINTF(2, 3);

static void
admin_errorf(char **error_r, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[1024];

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	*error_r = mw_strdup(buf);
}

static void
admin_route_allow(struct admin_req *r)
{
	admin_route_list(r, STORE_LIST_ALLOW);
}

static void
admin_route_deny(struct admin_req *r)
{
	admin_route_list(r, STORE_LIST_DENY);
}

static void
admin_route_account_name(struct admin_req *r)
{
	admin_route_account(r, r->path + strlen("/api/v1/accounts/"));
}

static void
admin_route_alert_id(struct admin_req *r)
{
	admin_route_alert_ack(r, r->path + strlen("/api/v1/alerts/"));
}

static const char *
admin_status_phrase(int code)
{
	switch (code) {
	case 200: return "OK";
	case 201: return "Created";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 429: return "Too Many Requests";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void
admin_reply(struct evhttp_request *req, int code, json_t *obj)
{
	struct evbuffer	*out = evbuffer_new();
	char		*text = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);

	if (out == NULL)
		mw_panic("evbuffer_new: out of memory");
	if (text == NULL) {	/* cannot happen with valid objects */
		log_error("admin: cannot render a reply as JSON");
		code = 500;
		text = mw_strdup("{\"error\":\"the daemon could not render the "
		    "reply (see its log)\"}");
	}
	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Cache-Control", "no-store");
	evhttp_send_reply(req, code, admin_status_phrase(code), out);
	evbuffer_free(out);
}

void
admin_reply_error(struct evhttp_request *req, int code, const char *text)
{
	json_t *o = json_object();

	json_object_set_new(o, "error", admin_json_text(text));
	admin_reply(req, code, o);
	json_decref(o);
}

static const char *
admin_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

static unsigned
admin_method_bit(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return ADMIN_GET;
	case EVHTTP_REQ_POST: return ADMIN_POST;
	case EVHTTP_REQ_DELETE: return ADMIN_DELETE;
	case EVHTTP_REQ_PUT: return ADMIN_PUT;
	case EVHTTP_REQ_PATCH: return ADMIN_PATCH;
	default: return 0;
	}
}

/* "uid 1000" on the unix socket (SO_PEERCRED), "ADDR:PORT" on TCP. */
static const char *
admin_peer(struct evhttp_request *req, struct mw_arena *a, bool *unix_r)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct bufferevent	*bev;
	struct sockaddr_storage	 ss;
	socklen_t		 sl = sizeof(ss);
	struct ucred		 uc;
	socklen_t		 ul = sizeof(uc);
	evutil_socket_t		 fd;
	char			*host = NULL;
	ev_uint16_t		 port = 0;

	if (evcon == NULL)
		return "unknown peer";
	bev = evhttp_connection_get_bufferevent(evcon);
	fd = bev != NULL ? bufferevent_getfd(bev) : -1;
	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 &&
	    ss.ss_family == AF_UNIX) {
		*unix_r = true;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == 0)
			return mw_arena_printf(a, "uid %lu", (unsigned long)uc.uid);
		return "unknown uid";
	}
	evhttp_connection_get_peer(evcon, &host, &port);
	return mw_arena_printf(a, "%s:%u", host != NULL ? host : "?",
	    (unsigned)port);
}

/* Lists the methods of a route for an Allow header. */
static const char *
admin_allow_text(unsigned methods, struct mw_arena *a)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ ADMIN_GET, "GET" }, { ADMIN_POST, "POST" },
		{ ADMIN_PUT, "PUT" }, { ADMIN_PATCH, "PATCH" },
		{ ADMIN_DELETE, "DELETE" },
	};
	const char *text = "";

	for (size_t i = 0; i < MW_N_ELEMENTS(names); i++)
		if (methods & names[i].bit)
			text = mw_arena_printf(a, "%s%s%s", text,
			    text[0] != '\0' ? ", " : "", names[i].name);
	return text;
}

static void
admin_on_request(struct evhttp_request *req, void *arg)
{
	admin_dispatch(arg, req, NULL);
}

void
admin_dispatch(struct admin_server *as, struct evhttp_request *req,
    const struct admin_caller *caller)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const struct admin_route *route = NULL;
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct admin_req	 r = { .as = as, .req = req };
	char			*body;

	r.a = mw_arena_new(ADMIN_ARENA_CHUNK);
	r.method = evhttp_request_get_command(req);
	r.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	r.query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (r.path == NULL || r.path[0] == '\0') {
		admin_reply_error(req, 400, "the request has no path: use "
		    "/api/v1/... (see docs/admin-api.md)");
		goto out;
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(admin_routes); i++) {
		const struct admin_route *rt = &admin_routes[i];
		size_t len = strlen(rt->path);

		if (rt->path[len - 1] == '/' ? strncmp(rt->path, r.path, len) == 0 &&
		    r.path[len] != '\0' : strcmp(rt->path, r.path) == 0)
			route = rt;
	}
	if (route == NULL) {
		admin_reply_error(req, 404, mw_arena_printf(r.a, "no such API "
		    "route %s: see docs/admin-api.md for the routes",
		    mw_sanitize(r.a, mw_slice_from_cstr(r.path), 80)));
		goto out;
	}
	for (size_t i = 0; caller != NULL && caller->tcp &&
	    i < MW_N_ELEMENTS(admin_unix_only); i++) {
		if (strcmp(route->path, admin_unix_only[i]) != 0)
			continue;
		admin_reply_error(req, 403, "admin accounts are managed on the "
		    "server only, over the admin socket: mailward admin "
		    "add|list|del|passwd");
		goto out;
	}
	if ((route->methods & admin_method_bit(r.method)) == 0) {
		const char *allow = admin_allow_text(route->methods, r.a);

		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", allow);
		admin_reply_error(req, 405, mw_arena_printf(r.a, "%s is not "
		    "allowed on %s: use %s", admin_method_name(r.method),
		    route->path, allow));
		goto out;
	}
	r.body_len = evbuffer_get_length(in);
	if (r.body_len > ADMIN_MAX_BODY) {	/* evhttp caps it already */
		admin_reply_error(req, 413, "the request body is larger than "
		    "64 KiB");
		goto out;
	}
	body = mw_arena_alloc(r.a, r.body_len + 1);
	if (evbuffer_copyout(in, body, r.body_len) != (ev_ssize_t)r.body_len)
		mw_panic("evbuffer_copyout: short copy");
	body[r.body_len] = '\0';
	r.body = body;
	if (caller != NULL) {
		r.who = *caller;
		r.peer = mw_arena_printf(r.a, "%s from %s", caller->actor,
		    caller->origin);
	} else {
		bool is_unix = false;

		r.peer = admin_peer(req, r.a, &is_unix);
		r.who = (struct admin_caller){ .tcp = !is_unix, .actor = r.peer,
		    .origin = is_unix ? mw_arena_printf(r.a, "unix %s", r.peer) :
		    r.peer };
	}
	log_debug("admin: %s %s%s%s by %s", admin_method_name(r.method),
	    route->path, r.query != NULL ? "?" : "", r.query != NULL ?
	    mw_sanitize(r.a, mw_slice_from_cstr(r.query), 200) : "", r.peer);
	route->fn(&r);
out:
	mw_arena_free(&r.a);	/* NULL when a handler answers later */
}

/* --- sockets ------------------------------------------------------------ */

/* Removes a socket file nobody answers on; refuses anything else. */
static int
admin_clear_path(const char *path, const struct sockaddr_un *sun,
    char **error_r)
{
	struct stat	 st;
	int		 fd, ret;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		admin_errorf(error_r, "cannot check %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		admin_errorf(error_r, "%s exists and is not a socket; move it "
		    "away or set [admin] socket to another path", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		admin_errorf(error_r, "socket: %s", strerror(errno));
		return -1;
	}
	ret = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (ret == 0) {
		admin_errorf(error_r, "%s is in use by a running process (another "
		    "mailwardd?); stop it or set [admin] socket to another path",
		    path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		admin_errorf(error_r, "cannot remove the stale socket %s: %s",
		    path, strerror(errno));
		return -1;
	}
	log_info("admin: removed stale socket %s", path);
	return 0;
}

static int
admin_bind_unix(struct admin_server *as, const struct cfg *cfg,
    evutil_socket_t *fd_r, char **error_r)
{
	const char		*path = cfg->admin.socket;
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	struct stat		 st;
	struct group		*gr;
	mode_t			 old_mask;
	int			 fd, ret;

	if (path == NULL || path[0] == '\0') {
		admin_errorf(error_r, "[admin] socket is empty: set a path");
		return -1;
	}
	if (strlen(path) >= sizeof(sun.sun_path)) {
		admin_errorf(error_r, "[admin] socket %s is longer than %zu "
		    "bytes: choose a shorter path", path, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if (admin_clear_path(path, &sun, error_r) < 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) < 0) {
		admin_errorf(error_r, "socket: %s", strerror(errno));
		return -1;
	}
	/* Nobody may connect between bind and chmod. */
	old_mask = umask(0177);
	ret = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (ret < 0) {
		admin_errorf(error_r, "cannot bind %s: %s", path, strerror(errno));
		goto fail;
	}
	if (cfg->admin.group != NULL && cfg->admin.group[0] != '\0') {
		if ((gr = getgrnam(cfg->admin.group)) == NULL) {
			admin_errorf(error_r, "[admin] group %s does not exist: "
			    "create it (groupadd --system %s) or leave group empty",
			    cfg->admin.group, cfg->admin.group);
			goto fail_unlink;
		}
		if (chown(path, (uid_t)-1, gr->gr_gid) < 0) {
			admin_errorf(error_r, "cannot give %s to group %s: %s",
			    path, cfg->admin.group, strerror(errno));
			goto fail_unlink;
		}
	}
	if (chmod(path, (mode_t)(cfg->admin.socket_mode & 07777)) < 0) {
		admin_errorf(error_r, "cannot chmod %s to %04o: %s", path,
		    (unsigned)cfg->admin.socket_mode, strerror(errno));
		goto fail_unlink;
	}
	if (stat(path, &st) < 0) {
		admin_errorf(error_r, "cannot stat %s: %s", path, strerror(errno));
		goto fail_unlink;
	}
	as->socket_path = mw_strdup(path);
	as->socket_dev = st.st_dev;
	as->socket_ino = st.st_ino;
	*fd_r = fd;
	return 0;
fail_unlink:
	(void)unlink(path);
fail:
	close(fd);
	return -1;
}

static void
admin_on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	/* EMFILE and friends: evconnlistener retries on the next event. */
	log_warn_errno("admin: accept failed");
}

int
admin_server_add_listener(struct admin_server *as, struct evconnlistener *l,
    char **error_r)
{
	evconnlistener_set_error_cb(l, admin_on_accept_error);
	if (evhttp_bind_listener(as->http, l) == NULL) {
		evconnlistener_free(l);
		admin_errorf(error_r, "cannot serve HTTP on the listener");
		return -1;
	}
	return 0;
}

static void
admin_apply_timeout(struct admin_server *as)
{
	uint64_t dns_s = as->cfg->dnsbl.timeout_ms / 1000 + 1;

	evhttp_set_timeout(as->http, (int)(ADMIN_TIMEOUT_S +
	    (dns_s < 120 ? dns_s : 120)));
}

int
admin_server_new(struct event_base *base, const struct cfg *cfg,
    struct engine *e, const struct admin_hooks *hooks,
    struct admin_server **as_r, char **error_r)
{
	struct admin_server	*as = mw_calloc(1, sizeof(*as));
	struct evconnlistener	*l;
	evutil_socket_t		 fd = -1;

	*error_r = NULL;
	as->base = base;
	as->cfg = cfg;
	as->e = e;
	if (hooks != NULL)
		as->hooks = *hooks;
	as->hooks.config_path = mw_strdup(hooks != NULL &&
	    hooks->config_path != NULL ? hooks->config_path : cfg->path);
	as->started = (int64_t)time(NULL);
	if ((as->http = evhttp_new(base)) == NULL)
		mw_panic("evhttp_new: out of memory");
	evhttp_set_max_headers_size(as->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(as->http, ADMIN_MAX_BODY);
	evhttp_set_allowed_methods(as->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(as->http, "application/json");
	admin_apply_timeout(as);
	evhttp_set_gencb(as->http, admin_on_request, as);
	if (admin_pw_new(base, &as->pw, error_r) < 0)
		goto fail;
	admin_geoip_open(as, cfg);

	if (admin_bind_unix(as, cfg, &fd, error_r) < 0)
		goto fail;
	l = evconnlistener_new(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC, ADMIN_BACKLOG, fd);
	if (l == NULL) {
		close(fd);
		admin_errorf(error_r, "cannot listen on %s: %s", cfg->admin.socket,
		    strerror(errno));
		goto fail;
	}
	if (admin_server_add_listener(as, l, error_r) < 0)
		goto fail;
	log_info("admin: listening on %s (mode %04o%s%s)", cfg->admin.socket,
	    (unsigned)cfg->admin.socket_mode, cfg->admin.group[0] != '\0' ?
	    ", group " : "", cfg->admin.group);
	*as_r = as;
	return 0;
fail:
	admin_server_free(&as);
	return -1;
}

void
admin_server_reload(struct admin_server *as, const struct cfg *cfg)
{
	const struct cfg *old = as->cfg;

	if (strcmp(old->admin.socket, cfg->admin.socket) != 0 ||
	    old->admin.socket_mode != cfg->admin.socket_mode ||
	    strcmp(old->admin.group, cfg->admin.group) != 0)
		log_warn("admin: [admin] socket, socket_mode or group changed; "
		    "still serving %s until mailwardd restarts",
		    as->socket_path != NULL ? as->socket_path : old->admin.socket);
	as->cfg = cfg;
	admin_apply_timeout(as);
	admin_geoip_open(as, cfg);	/* a newer download of the file, too */
}

void
admin_server_free(struct admin_server **asp)
{
	struct admin_server	*as = *asp;
	struct stat		 st;

	if (as == NULL)
		return;
	admin_checks_cancel_all(as);
	admin_jobs_cancel_all(as);
	admin_pw_free(&as->pw);
	mw_geoip_close(&as->geo);
	if (as->http != NULL)
		evhttp_free(as->http);
	/* Only our socket: a newer daemon may own the path by now. */
	if (as->socket_path != NULL && lstat(as->socket_path, &st) == 0 &&
	    st.st_dev == as->socket_dev && st.st_ino == as->socket_ino &&
	    unlink(as->socket_path) < 0)
		log_debug("admin: cannot remove %s: %s", as->socket_path,
		    strerror(errno));
	free(as->socket_path);
	free((char *)as->hooks.config_path);
	free(as);
	*asp = NULL;
}
