/*
 * dashboard - the dashboard's HTTP(S) server: listener (TLS with
 * bufferevent_openssl), security headers, static files, sessions and
 * login, CSRF/Origin checks, then the admin routes through
 * admin_dispatch (one implementation for the CLI and the browser).
 * Live streams and /metrics: dashboard_stream.c, dashboard_metrics.c.
 *
 * Sessions live in memory only (a restart logs everybody out): a fixed
 * table of DASHBOARD_MAX_SESSIONS, looked up by a constant-time compare of
 * the 32-byte id; expired on idle timeout or absolute lifetime, ended by
 * logout, by deleting the admin or changing its password.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/slice.h"
#include "listen/admin_int.h"
#include "listen/dashboard_int.h"

#define DASH_BACKLOG		64
#define DASH_TIMEOUT_S		60	/* idle seconds of a connection */
#define DASH_ARENA_CHUNK	4096
#define DASH_CSP "default-src 'self'; script-src 'self'; style-src 'self'; " \
	"img-src 'self' data:; connect-src 'self'; font-src 'self'; " \
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; " \
	"form-action 'self'"

struct dash_login {
	struct dashboard	*db;
	struct evhttp_request	*req;
	struct evhttp_connection *evcon;
	struct mw_arena		*a;
	struct admin_pw_job	*pw;
	const char		*name;		/* in a */
	struct dash_client	 client;	/* texts in a */
	struct dash_login	*prev, *next;
};

static int64_t
dash_now(void)
{
	return (int64_t)time(NULL);
}

/* --- sessions ------------------------------------------------------------ */

static bool
dash_session_live(const struct dashboard *db, const struct dash_session *s,
    int64_t now)
{
	return s->used &&
	    now - s->last_used <= (int64_t)db->cfg->dashboard.session_idle_timeout &&
	    now - s->created <= (int64_t)db->cfg->dashboard.session_lifetime;
}

static void
dash_session_end(struct dashboard *db, struct dash_session *s)
{
	dash_streams_end_session(db, s);
	sodium_memzero(s, sizeof(*s));
}

struct dash_session *
dash_session_find(struct dashboard *db, const uint8_t id[DASHBOARD_SESSION_ID_LEN])
{
	struct dash_session	*found = NULL;
	int64_t			 now = dash_now();

	/* Every slot is compared, in constant time each. */
	for (size_t i = 0; i < DASHBOARD_MAX_SESSIONS; i++) {
		struct dash_session *s = &db->sessions[i];

		if (s->used && sodium_memcmp(s->id, id,
		    DASHBOARD_SESSION_ID_LEN) == 0)
			found = s;
	}
	if (found == NULL)
		return NULL;
	if (!dash_session_live(db, found, now)) {
		log_info("dashboard: session of %s expired", found->name);
		dash_session_end(db, found);
		return NULL;
	}
	return found;
}

static struct dash_session *
dash_session_new(struct dashboard *db, const char *name)
{
	struct dash_session	*slot = NULL;
	int64_t			 now = dash_now();
	uint8_t			 csrf[DASHBOARD_SESSION_ID_LEN];

	for (size_t i = 0; i < DASHBOARD_MAX_SESSIONS; i++) {
		struct dash_session *s = &db->sessions[i];

		if (s->used && !dash_session_live(db, s, now))
			dash_session_end(db, s);
		if (!s->used && slot == NULL)
			slot = s;
	}
	if (slot == NULL) {	/* full: the least recently used goes */
		slot = &db->sessions[0];
		for (size_t i = 1; i < DASHBOARD_MAX_SESSIONS; i++)
			if (db->sessions[i].last_used < slot->last_used)
				slot = &db->sessions[i];
		log_warn("dashboard: %d sessions open; the session of %s idle "
		    "since the longest ends", DASHBOARD_MAX_SESSIONS, slot->name);
		dash_session_end(db, slot);
	}
	slot->used = true;
	randombytes_buf(slot->id, sizeof(slot->id));
	randombytes_buf(csrf, sizeof(csrf));
	sodium_bin2hex(slot->csrf, sizeof(slot->csrf), csrf, sizeof(csrf));
	sodium_memzero(csrf, sizeof(csrf));
	(void)snprintf(slot->name, sizeof(slot->name), "%s", name);
	slot->created = slot->last_used = now;
	return slot;
}

static void
dash_on_admin_change(void *ctx, const char *name)
{
	struct dashboard	*db = ctx;
	size_t			 n = 0;

	for (size_t i = 0; i < DASHBOARD_MAX_SESSIONS; i++) {
		struct dash_session *s = &db->sessions[i];

		if (s->used && strcmp(s->name, name) == 0) {
			dash_session_end(db, s);
			n++;
		}
	}
	if (n > 0)
		log_info("dashboard: %zu session(s) of %s ended (admin deleted "
		    "or password changed)", n, name);
}

/* --- replies -------------------------------------------------------------- */

static void
dash_headers(struct dashboard *db, struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", DASH_CSP);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Cross-Origin-Opener-Policy", "same-origin");
	if (db->tls)
		evhttp_add_header(h, "Strict-Transport-Security",
		    "max-age=31536000");
}

/* The client: the peer, or what a trusted reverse proxy says it is. */
static void
dash_client(struct dashboard *db, struct evhttp_request *req,
    struct mw_arena *a, struct dash_client *c)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct evkeyvalq	*in = evhttp_request_get_input_headers(req);
	const struct cfg	*cfg = db->cfg;
	char			*host = NULL;
	ev_uint16_t		 port = 0;
	const char		*xff, *proto, *last;

	*c = (struct dash_client){ .text = "unknown peer", .https = db->tls };
	if (evcon == NULL)
		return;
	evhttp_connection_get_peer(evcon, &host, &port);
	if (host == NULL)
		return;
	c->has_addr = mw_addr_parse(host, &c->addr) == 0;
	c->text = mw_arena_printf(a, "%s:%u", host, (unsigned)port);
	if (!c->has_addr || cfg->dashboard.trusted_proxy[0] == '\0' ||
	    mw_addr_cmp(&c->addr, &cfg->dashboard.trusted_proxy_addr) != 0)
		return;
	/* The proxy appends the address it saw: the last element. */
	if ((xff = evhttp_find_header(in, "X-Forwarded-For")) != NULL) {
		struct mw_addr	 fwd;
		struct mw_slice	 s;

		last = strrchr(xff, ',');
		s = mw_slice_trim(mw_slice_from_cstr(last != NULL ? last + 1 :
		    xff));
		if (s.len > 0 && s.len < MW_ADDR_STRLEN &&
		    mw_addr_parse_len(s.ptr, s.len, &fwd) == 0) {
			c->addr = fwd;
			c->text = mw_arena_printf(a, "%s via %s:%u",
			    mw_slice_dup(a, s), host, (unsigned)port);
		} else {
			log_warn("dashboard: X-Forwarded-For from the proxy %s is "
			    "not an address: \"%s\"; using the proxy's address",
			    host, mw_sanitize(a, mw_slice_from_cstr(xff), 80));
		}
	}
	if ((proto = evhttp_find_header(in, "X-Forwarded-Proto")) != NULL)
		c->https = strcmp(proto, "https") == 0;
}

static void
dash_reply_error(struct evhttp_request *req, int code, const char *text)
{
	admin_reply_error(req, code, text);
}

/* --- static files --------------------------------------------------------- */

static void
dash_static(struct dashboard *db, struct evhttp_request *req,
    const char *path, size_t path_len, struct mw_arena *a)
{
	struct evkeyvalq	*out = evhttp_request_get_output_headers(req);
	const char		*rel, *error, *inm;
	char			 root[PATH_MAX], real[PATH_MAX], etag[64];
	char			 lm[64];
	struct stat		 st;
	struct tm		 tm;
	struct evbuffer		*buf;
	size_t			 rlen;
	int			 fd;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_add_header(out, "Allow", "GET");
		dash_reply_error(req, 405, "static files are read with GET");
		return;
	}
	if (dashboard_path_normalize(path, path_len, a, &rel, &error) < 0) {
		log_info("dashboard: refused path \"%s\": %s", mw_sanitize(a,
		    (struct mw_slice){ path, path_len }, 120), error);
		dash_reply_error(req, 400, error);
		return;
	}
	if (realpath(db->cfg->dashboard.web_root, root) == NULL) {
		log_error_errno("dashboard: web_root %s",
		    db->cfg->dashboard.web_root);
		dash_reply_error(req, 404, "the dashboard's files are not "
		    "installed (see [dashboard] web_root and docs/dashboard.md)");
		return;
	}
	/* Symlinks are followed only while they stay inside web_root. */
	if (realpath(mw_arena_printf(a, "%s/%s", root, rel), real) == NULL) {
		dash_reply_error(req, 404, "no such file");
		return;
	}
	rlen = strlen(root);
	if (strncmp(real, root, rlen) != 0 || real[rlen] != '/') {
		log_warn("dashboard: %s leads out of web_root %s (symlink?); "
		    "refused", rel, root);
		dash_reply_error(req, 404, "no such file");
		return;
	}
	if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
	    O_NONBLOCK)) < 0) {
		dash_reply_error(req, 404, "no such file");
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > (off_t)DASHBOARD_MAX_FILE) {
		close(fd);
		dash_reply_error(req, 404, "no such file");
		return;
	}
	(void)snprintf(etag, sizeof(etag), "\"%llx-%llx\"",
	    (unsigned long long)st.st_size,
	    (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
	    (unsigned long long)st.st_mtim.tv_nsec);
	gmtime_r(&st.st_mtim.tv_sec, &tm);
	(void)strftime(lm, sizeof(lm), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	evhttp_add_header(out, "ETag", etag);
	evhttp_add_header(out, "Last-Modified", lm);
	evhttp_add_header(out, "Cache-Control", "no-cache");
	inm = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "If-None-Match");
	if (inm != NULL && strcmp(inm, etag) == 0) {
		close(fd);
		evhttp_send_reply(req, 304, "Not Modified", NULL);
		return;
	}
	evhttp_add_header(out, "Content-Type", dashboard_content_type(rel));
	if ((buf = evbuffer_new()) == NULL)
		mw_panic("evbuffer_new: out of memory");
	if (st.st_size > 0) {
		if (evbuffer_add_file(buf, fd, 0, st.st_size) < 0) {
			evbuffer_free(buf);
			dash_reply_error(req, 500, "the file could not be read");
			return;
		}
	} else {
		close(fd);
	}
	evhttp_send_reply(req, 200, "OK", buf);
	evbuffer_free(buf);
}

/* --- session routes ------------------------------------------------------- */

static void
dash_set_cookie(struct evhttp_request *req, const char *value, bool secure,
    bool clear)
{
	char header[256];

	(void)snprintf(header, sizeof(header), "%s=%s; Path=/; HttpOnly; "
	    "SameSite=Strict%s%s", DASHBOARD_COOKIE, value,
	    secure ? "; Secure" : "", clear ? "; Max-Age=0" : "");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Set-Cookie",
	    header);
}

static bool
dash_language_fn(void *ctx, const struct store_admin *ad)
{
	char **lang = ctx;

	*lang = mw_strdup(ad->language);
	return false;
}

static json_t *
dash_session_json(struct dashboard *db, const struct dash_session *s)
{
	char	*lang = NULL;
	json_t	*o;

	if (store_admin_get(engine_store(db->e), s->name, dash_language_fn,
	    &lang) < 0)
		lang = NULL;
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o, s:b}",
	    "name", s->name, "csrf_token", s->csrf,
	    "created", (json_int_t)s->created,
	    "expires", (json_int_t)(s->created +
		(int64_t)db->cfg->dashboard.session_lifetime),
	    "idle_timeout", (json_int_t)db->cfg->dashboard.session_idle_timeout,
	    "last_used", (json_int_t)s->last_used,
	    "language", lang != NULL && lang[0] != '\0' ? json_string(lang) :
		json_null(),
	    "demo", db->demo ? 1 : 0);
	free(lang);
	return o;
}

static void
dash_login_unlink(struct dash_login *l)
{
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		l->db->logins = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	l->prev = l->next = NULL;
}

static void
dash_login_free(struct dash_login *l)
{
	dash_login_unlink(l);
	if (l->evcon != NULL)
		evhttp_connection_set_closecb(l->evcon, NULL, NULL);
	mw_arena_free(&l->a);
	free(l);
}

static void
dash_login_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct dash_login *l = arg;

	(void)evcon;
	admin_pw_cancel(&l->pw);
	if (evhttp_request_get_connection(l->req) == NULL)
		evhttp_request_free(l->req);
	l->evcon = NULL;
	dash_login_free(l);
}

static void
dash_auth_obs(const struct dash_client *c, const char *name,
    enum auth_phase phase, struct auth_observation *o)
{
	*o = (struct auth_observation){ .source = "dashboard",
	    .service = "dashboard", .addr = c->addr, .has_addr = c->has_addr,
	    .account = name, .phase = phase };
}

static void
dash_login_done(void *ctx, bool ok, const char *hash)
{
	struct dash_login	*l = ctx;
	struct dashboard	*db = l->db;
	struct auth_observation	 o;
	struct dash_session	*s;
	char			 id[2 * DASHBOARD_SESSION_ID_LEN + 1];
	json_t			*body;

	(void)hash;
	l->pw = NULL;
	if (l->evcon != NULL)
		evhttp_connection_set_closecb(l->evcon, NULL, NULL);
	l->evcon = NULL;
	dash_auth_obs(&l->client, l->name, ok ? AUTH_PHASE_SUCCESS :
	    AUTH_PHASE_FAILURE, &o);
	engine_auth_report(db->e, &o);
	if (!ok) {
		db->stats.login_failures++;
		log_warn("dashboard: login failed for \"%s\" from %s",
		    l->name, l->client.text);
		dash_audit(db, l->name, l->client.text, "login_failed", l->name,
		    "wrong name or password");
		dash_reply_error(l->req, 401, "wrong name or password");
		dash_login_free(l);
		return;
	}
	db->stats.logins++;
	s = dash_session_new(db, l->name);
	sodium_bin2hex(id, sizeof(id), s->id, sizeof(s->id));
	dash_set_cookie(l->req, id, l->client.https, false);
	sodium_memzero(id, sizeof(id));
	log_info("dashboard: %s logged in from %s", l->name, l->client.text);
	dash_audit(db, l->name, l->client.text, "login", l->name, "");
	body = dash_session_json(db, s);
	admin_reply(l->req, 200, body);
	json_decref(body);
	dash_login_free(l);
}

struct dash_hash_copy {
	char	hash[STORE_ADMIN_MAX_HASH + 1];
	bool	found;
};

static bool
dash_hash_fn(void *ctx, const struct store_admin *ad)
{
	struct dash_hash_copy *h = ctx;

	h->found = strlen(ad->pwhash) < sizeof(h->hash);
	if (h->found)
		memcpy(h->hash, ad->pwhash, strlen(ad->pwhash) + 1);
	return false;
}

static void
dash_login(struct dashboard *db, struct dash_req *r)
{
	struct dashboard_login_req lr;
	struct dash_hash_copy	 h = { .found = false };
	struct auth_observation	 o;
	struct auth_verdict	 v;
	struct dash_login	*l;
	const char		*error, *ctype;
	char			 retry[24];

	ctype = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Content-Type");
	/* A form of another site cannot send JSON without CORS. */
	if (ctype == NULL || strncmp(ctype, "application/json", 16) != 0) {
		dash_reply_error(r->req, 415, "send the login as JSON "
		    "(Content-Type: application/json)");
		return;
	}
	if (dashboard_parse_login(r->body, r->body_len, r->a, &lr, &error) < 0) {
		dash_reply_error(r->req, 400, error);
		return;
	}
	dash_auth_obs(&r->client, lr.name, AUTH_PHASE_BEFORE, &o);
	engine_auth_check(db->e, &o, r->a, &v);
	if (v.kind != AUTH_VERDICT_ALLOW) {
		db->stats.login_throttled++;
		sodium_memzero((char *)lr.password, lr.password_len);
		log_warn("dashboard: login of \"%s\" from %s refused by the login "
		    "guard: %s", lr.name, r->client.text,
		    v.reason != NULL ? v.reason : "?");
		dash_audit(db, lr.name, r->client.text, "login_refused", lr.name,
		    v.reason);
		if (v.kind == AUTH_VERDICT_TARPIT) {
			/* A login refused while throttled counts as a failed
			   one: retrying without waiting leads to a ban, as a
			   Dovecot client in the tarpit would get. */
			dash_auth_obs(&r->client, lr.name, AUTH_PHASE_FAILURE, &o);
			engine_auth_report(db->e, &o);
			(void)snprintf(retry, sizeof(retry), "%u",
			    v.delay_s > 0 ? v.delay_s : 1);
			evhttp_add_header(evhttp_request_get_output_headers(
			    r->req), "Retry-After", retry);
			dash_reply_error(r->req, 429, mw_arena_printf(r->a,
			    "too many failed logins: try again in %s s",
			    retry));
		} else {
			dash_reply_error(r->req, 403, "logins from your address "
			    "are refused (too many failed attempts)");
		}
		return;
	}
	if (store_admin_get(engine_store(db->e), lr.name, dash_hash_fn,
	    &h) < 0) {
		log_error("dashboard: login: %s",
		    store_last_error(engine_store(db->e)));
		sodium_memzero((char *)lr.password, lr.password_len);
		dash_reply_error(r->req, 500, "the admins could not be read (see "
		    "the daemon log)");
		return;
	}
	l = mw_calloc(1, sizeof(*l));
	l->db = db;
	l->req = r->req;
	l->pw = admin_pw_verify(db->as->pw, h.found ? h.hash : NULL,
	    lr.password, lr.password_len, dash_login_done, l);
	sodium_memzero((char *)lr.password, lr.password_len);
	sodium_memzero((char *)r->body, r->body_len);
	sodium_memzero(h.hash, sizeof(h.hash));
	if (l->pw == NULL) {
		free(l);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Retry-After", "5");
		dash_reply_error(r->req, 503, "too many logins at once: try again "
		    "in a few seconds");
		return;
	}
	l->a = r->a;	/* the login owns the arena now */
	r->a = NULL;
	l->name = lr.name;
	l->client = r->client;
	l->evcon = evhttp_request_get_connection(r->req);
	l->next = db->logins;
	if (l->next != NULL)
		l->next->prev = l;
	db->logins = l;
	if (l->evcon != NULL)
		evhttp_connection_set_closecb(l->evcon, dash_login_on_close, l);
}

static void
dash_route_session(struct dashboard *db, struct dash_req *r)
{
	const char	*error, *lang;
	json_t		*o;

	switch (r->method) {
	case EVHTTP_REQ_POST:
		dash_login(db, r);
		return;
	case EVHTTP_REQ_GET:
		o = dash_session_json(db, r->session);
		admin_reply(r->req, 200, o);
		json_decref(o);
		return;
	case EVHTTP_REQ_DELETE:
		log_info("dashboard: %s logged out from %s", r->session->name,
		    r->client.text);
		dash_audit(db, r->session->name, r->client.text, "logout",
		    r->session->name, "");
		dash_session_end(db, r->session);
		r->session = NULL;
		dash_set_cookie(r->req, "", r->client.https, true);
		o = json_pack("{s:b}", "logged_out", 1);
		admin_reply(r->req, 200, o);
		json_decref(o);
		return;
	case EVHTTP_REQ_PATCH:
		if (dashboard_parse_language(r->body, r->body_len, r->a, &lang,
		    &error) < 0) {
			dash_reply_error(r->req, 400, error);
			return;
		}
		if (dash_set_language(db, r->session->name, lang) < 0) {
			dash_reply_error(r->req, 500, "the language could not be "
			    "saved (see the daemon log)");
			return;
		}
		o = dash_session_json(db, r->session);
		admin_reply(r->req, 200, o);
		json_decref(o);
		return;
	default:
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Allow", "GET, POST, PATCH, DELETE");
		dash_reply_error(r->req, 405, "use POST (log in), GET (who am "
		    "I), PATCH (language) or DELETE (log out)");
		return;
	}
}

struct dash_admin_copy {
	struct store_admin	 ad;
	char			*name, *hash;
};

static bool
dash_admin_copy_fn(void *ctx, const struct store_admin *ad)
{
	struct dash_admin_copy *c = ctx;

	c->ad = *ad;
	c->name = mw_strdup(ad->name);
	c->hash = mw_strdup(ad->pwhash);
	c->ad.name = c->name;
	c->ad.pwhash = c->hash;
	return false;
}

int
dash_set_language(struct dashboard *db, const char *name, const char *lang)
{
	struct store		*st = engine_store(db->e);
	struct dash_admin_copy	 c = { .name = NULL };
	int			 ret;

	if ((ret = store_admin_get(st, name, dash_admin_copy_fn, &c)) == 1) {
		c.ad.language = lang;
		ret = store_admin_put(st, &c.ad) == 0 ? 1 : -1;
	}
	if (c.hash != NULL)
		sodium_memzero(c.hash, strlen(c.hash));
	free(c.name);
	free(c.hash);
	if (ret < 0)
		log_error("dashboard: language of %s: %s", name,
		    store_last_error(st));
	return ret < 0 ? -1 : 0;
}

void
dash_audit(struct dashboard *db, const char *actor, const char *origin,
    const char *action, const char *target, const char *detail)
{
	struct timeval		 tv;
	struct store_audit	 au;

	gettimeofday(&tv, NULL);
	au = (struct store_audit){
		.time_ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000,
		.actor = actor, .origin = origin, .action = action,
		.target = target != NULL ? target : "",
		.detail = detail != NULL ? detail : "" };
	if (store_audit_append(engine_store(db->e), &au) < 0)
		log_error("dashboard: audit: %s of %s not recorded: %s", action,
		    actor, store_last_error(engine_store(db->e)));
}

/* --- the API -------------------------------------------------------------- */

static bool
dash_is_state_change(enum evhttp_cmd_type m)
{
	return m == EVHTTP_REQ_POST || m == EVHTTP_REQ_PUT ||
	    m == EVHTTP_REQ_PATCH || m == EVHTTP_REQ_DELETE;
}

static struct dash_session *
dash_request_session(struct dashboard *db, struct dash_req *r)
{
	const char	*cookie;
	uint8_t		 id[DASHBOARD_SESSION_ID_LEN];
	int		 ret;

	ret = dashboard_cookie_get(evhttp_find_header(
	    evhttp_request_get_input_headers(r->req), "Cookie"),
	    DASHBOARD_COOKIE, r->a, &cookie);
	if (ret != 1 || dashboard_session_id_parse(cookie, id) < 0)
		return NULL;
	return dash_session_find(db, id);
}

static void
dash_api(struct dashboard *db, struct dash_req *r)
{
	struct evkeyvalq	*in = evhttp_request_get_input_headers(r->req);
	const char		*token, *origin;
	struct admin_caller	 caller;
	bool			 is_session = strcmp(r->path, "/api/v1/session") == 0;

	if (dash_is_state_change(r->method) &&
	    !dashboard_origin_ok((origin = evhttp_find_header(in, "Origin")),
	    evhttp_find_header(in, "Host"), r->client.https)) {
		db->stats.csrf_refused++;
		log_warn("dashboard: %s %s from %s: Origin \"%s\" is not this "
		    "server; refused", r->method_name, r->path, r->client.text,
		    mw_sanitize(r->a, mw_slice_from_cstr(origin), 80));
		dash_reply_error(r->req, 403, "the request comes from another "
		    "site (Origin does not match Host)");
		return;
	}
	r->session = dash_request_session(db, r);
	if (is_session && r->method == EVHTTP_REQ_POST) {
		dash_route_session(db, r);
		return;
	}
	if (r->session == NULL) {
		db->stats.unauthenticated++;
		dash_reply_error(r->req, 401, "log in first (POST "
		    "/api/v1/session with your admin name and password)");
		return;
	}
	r->session->last_used = dash_now();
	if (dash_is_state_change(r->method)) {
		token = evhttp_find_header(in, "X-CSRF-Token");
		if (token == NULL || strlen(token) != sizeof(r->session->csrf) - 1 ||
		    sodium_memcmp(token, r->session->csrf,
		    sizeof(r->session->csrf) - 1) != 0) {
			db->stats.csrf_refused++;
			log_warn("dashboard: %s %s by %s from %s: %s CSRF token; "
			    "refused", r->method_name, r->path, r->session->name,
			    r->client.text, token == NULL ? "no" : "wrong");
			dash_reply_error(r->req, 403, token == NULL ? "the "
			    "X-CSRF-Token header is missing (GET /api/v1/session "
			    "gives the token)" : "the X-CSRF-Token header is "
			    "wrong (GET /api/v1/session gives the token)");
			return;
		}
	}
	if (is_session) {
		dash_route_session(db, r);
		return;
	}
	if (strcmp(r->path, "/api/v1/events/stream") == 0) {
		dash_stream_start(db, r);
		return;
	}
	caller = (struct admin_caller){ .tcp = true, .actor = r->session->name,
	    .origin = r->client.text };
	admin_dispatch(db->as, r->req, &caller);
}

static const char *
dash_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_PATCH: return "PATCH";
	default: return "OTHER";
	}
}

static void
dash_on_request(struct evhttp_request *req, void *arg)
{
	struct dashboard	*db = arg;
	struct dash_req		 r = { .req = req };
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	const char		*uri = evhttp_request_get_uri(req), *q;
	size_t			 plen;
	char			*body;

	db->stats.requests++;
	r.a = mw_arena_new(DASH_ARENA_CHUNK);
	r.method = evhttp_request_get_command(req);
	r.method_name = dash_method_name(r.method);
	dash_headers(db, req);
	dash_client(db, req, r.a, &r.client);
	if (uri == NULL || uri[0] != '/') {
		dash_reply_error(req, 400, "the request target must be a path");
		goto out;
	}
	plen = strcspn(uri, "?#");
	r.path = mw_arena_strndup(r.a, uri, plen);
	q = uri[plen] == '?' ? uri + plen + 1 : NULL;
	r.query = q != NULL ? mw_arena_strndup(r.a, q, strcspn(q, "#")) : NULL;
	if (strncmp(r.path, "/api/", 5) == 0) {
		r.body_len = evbuffer_get_length(in);
		if (r.body_len > ADMIN_MAX_BODY) {
			dash_reply_error(req, 413, "the request body is larger "
			    "than 64 KiB");
			goto out;
		}
		body = mw_arena_alloc(r.a, r.body_len + 1);
		if (evbuffer_copyout(in, body, r.body_len) !=
		    (ev_ssize_t)r.body_len)
			mw_panic("evbuffer_copyout: short copy");
		body[r.body_len] = '\0';
		r.body = body;
		dash_api(db, &r);
	} else if (strcmp(r.path, "/metrics") == 0 &&
	    db->cfg->dashboard.metrics) {
		dash_metrics(db, &r);
	} else {
		dash_static(db, req, r.path, plen, r.a);
	}
out:
	if (r.a != NULL) {
		if (r.body != NULL)	/* passwords pass through bodies */
			sodium_memzero((char *)r.body, r.body_len);
		mw_arena_free(&r.a);
	}
}

/* --- TLS and the listener ------------------------------------------------- */

static struct bufferevent *
dash_on_bev(struct event_base *base, void *arg)
{
	struct dashboard	*db = arg;
	SSL			*ssl;

	if (!db->tls)
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	if ((ssl = SSL_new(db->ssl)) == NULL) {
		log_error("dashboard: SSL_new failed");
		return NULL;
	}
	return bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static void
dash_errorf(char **error_r, const char *fmt, ...) MW_PRINTF(2, 3);

static void
dash_errorf(char **error_r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (vasprintf(error_r, fmt, ap) < 0)
		mw_panic("vasprintf: out of memory");
	va_end(ap);
}

static int
dash_tls_setup(struct dashboard *db, const struct cfg *cfg, char **error_r)
{
	unsigned long	 e;
	char		 why[256];

	if ((db->ssl = SSL_CTX_new(TLS_server_method())) == NULL)
		mw_panic("SSL_CTX_new: out of memory");
	SSL_CTX_set_min_proto_version(db->ssl, TLS1_2_VERSION);
	SSL_CTX_set_options(db->ssl, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(db->ssl,
	    cfg->dashboard.tls_certificate) != 1) {
		e = ERR_get_error();
		ERR_error_string_n(e, why, sizeof(why));
		dash_errorf(error_r, "[dashboard] tls_certificate %s cannot be "
		    "used: %s", cfg->dashboard.tls_certificate, why);
		return -1;
	}
	if (SSL_CTX_use_PrivateKey_file(db->ssl, cfg->dashboard.tls_key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(db->ssl) != 1) {
		e = ERR_get_error();
		ERR_error_string_n(e, why, sizeof(why));
		dash_errorf(error_r, "[dashboard] tls_key %s cannot be used with "
		    "the certificate: %s", cfg->dashboard.tls_key, why);
		return -1;
	}
	db->tls = true;
	return 0;
}

static void
dash_on_accept_error(struct evconnlistener *l, void *arg)
{
	(void)l;
	(void)arg;
	log_warn_errno("dashboard: accept failed");
}

int
dashboard_new(struct event_base *base, const struct cfg *cfg,
    struct engine *e, struct admin_server *as, bool demo,
    struct dashboard **db_r, char **error_r)
{
	struct dashboard	*db = mw_calloc(1, sizeof(*db));
	struct sockaddr_storage	 ss;
	int			 sslen = sizeof(ss);
	struct evconnlistener	*l;

	*error_r = NULL;
	db->base = base;
	db->cfg = cfg;
	db->e = e;
	db->as = as;
	db->demo = demo;
	if (sodium_init() < 0) {
		*error_r = mw_strdup("libsodium cannot be initialized");
		goto fail;
	}
	if (cfg->dashboard.tls && dash_tls_setup(db, cfg, error_r) < 0)
		goto fail;
	if (evutil_parse_sockaddr_port(cfg->dashboard.listen,
	    (struct sockaddr *)&ss, &sslen) < 0) {
		dash_errorf(error_r, "[dashboard] listen %s is not ADDRESS:PORT",
		    cfg->dashboard.listen);
		goto fail;
	}
	l = evconnlistener_new_bind(base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE, DASH_BACKLOG,
	    (struct sockaddr *)&ss, sslen);
	if (l == NULL) {
		dash_errorf(error_r, "cannot listen on %s: %s (another "
		    "program on that port? set [dashboard] listen)",
		    cfg->dashboard.listen, strerror(errno));
		goto fail;
	}
	evconnlistener_set_error_cb(l, dash_on_accept_error);
	if ((db->http = evhttp_new(base)) == NULL)
		mw_panic("evhttp_new: out of memory");
	evhttp_set_max_headers_size(db->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(db->http, ADMIN_MAX_BODY);
	evhttp_set_allowed_methods(db->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
	evhttp_set_timeout(db->http, DASH_TIMEOUT_S);
	evhttp_set_bevcb(db->http, dash_on_bev, db);
	evhttp_set_gencb(db->http, dash_on_request, db);
	if (evhttp_bind_listener(db->http, l) == NULL) {
		evconnlistener_free(l);
		dash_errorf(error_r, "cannot serve HTTP on %s",
		    cfg->dashboard.listen);
		goto fail;
	}
	if (dash_streams_init(db) < 0) {
		dash_errorf(error_r, "cannot start the stream timer");
		goto fail;
	}
	as->on_admin_change = dash_on_admin_change;
	as->on_admin_change_ctx = db;
	db->listen = mw_strdup(cfg->dashboard.listen);
	log_info("dashboard: listening on %s://%s/ (web_root %s)%s",
	    db->tls ? "https" : "http", cfg->dashboard.listen,
	    cfg->dashboard.web_root, db->demo ? " [demo]" : "");
	*db_r = db;
	return 0;
fail:
	dashboard_free(&db);
	return -1;
}

void
dashboard_reload(struct dashboard *db, const struct cfg *cfg)
{
	if (strcmp(db->listen, cfg->dashboard.listen) != 0 ||
	    strcmp(db->cfg->dashboard.tls_certificate,
	    cfg->dashboard.tls_certificate) != 0 ||
	    strcmp(db->cfg->dashboard.tls_key, cfg->dashboard.tls_key) != 0 ||
	    !cfg->dashboard.enabled)
		log_warn("dashboard: [dashboard] enabled, listen or TLS files "
		    "changed; still serving %s until mailwardd restarts",
		    db->listen);
	db->cfg = cfg;
}

void
dashboard_free(struct dashboard **dbp)
{
	struct dashboard *db = *dbp;

	if (db == NULL)
		return;
	if (db->as != NULL && db->as->on_admin_change_ctx == db) {
		db->as->on_admin_change = NULL;
		db->as->on_admin_change_ctx = NULL;
	}
	dash_streams_free(db);
	while (db->logins != NULL) {
		struct dash_login *l = db->logins;

		admin_pw_cancel(&l->pw);
		dash_login_free(l);
	}
	if (db->http != NULL)
		evhttp_free(db->http);
	if (db->ssl != NULL)
		SSL_CTX_free(db->ssl);
	sodium_memzero(db->sessions, sizeof(db->sessions));
	free(db->listen);
	free(db);
	*dbp = NULL;
}

void
dashboard_get_stats(struct dashboard *db, struct dashboard_stats *s_r)
{
	int64_t now = dash_now();

	*s_r = db->stats;
	s_r->sessions = 0;
	for (size_t i = 0; i < DASHBOARD_MAX_SESSIONS; i++)
		if (dash_session_live(db, &db->sessions[i], now))
			s_r->sessions++;
	s_r->streams = db->nstreams;
}
