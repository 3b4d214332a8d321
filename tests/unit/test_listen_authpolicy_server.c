/*
 * test_listen_authpolicy_server - the auth policy service (authpolicy.c)
 * against a real engine and SQLite store in a temporary directory, over
 * its unix socket while the test drives the loop: Dovecot's requests and
 * the answers the engine's verdicts become (allow, tarpit, refusal with
 * reject_text), the refusals (401, 405, 400 with their log lines), keep-
 * alive connections, max_connections (closed at once, then room again once
 * a connection closes, counted back to 0), no password hash in the log,
 * and the HTTP transport: pipelining, a request split over many reads,
 * keep-alive by version and Connection, broken HTTP (a JSON 400, 411,
 * 413, then the close), Expect: 100-continue.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "core/log.h"
#include "engine/engine.h"
#include "listen/authpolicy.h"
#include "unit_util.h"

struct fixture {
	char			 dir[64];
	char			*conf_path, *sock_path;
	struct cfg		*cfg;
	struct store		*st;
	struct engine		*e;
	struct event_base	*base;
	struct authpolicy_server *ap;
	char			 log[16384];	/* lines captured */
};

#define KEY	"X-API-Key: t3st-key\r\n"
#define BODYH(remote, login, hash, rest) "{\"device_id\":\"\",\"login\":\"" \
	login "\",\"protocol\":\"imap\",\"pwhash\":\"" hash "\",\"remote\":\"" \
	remote "\",\"session_id\":\"s1\"" rest ",\"tls\":false}"
#define BODY(remote, login, rest) BODYH(remote, login, "010d", rest)
/* Different wrong passwords: the same one repeated (a stale phone) is not
   counted by the login guard. */
#define FAILURE(remote, login, hash) BODYH(remote, login, hash, \
	",\"success\":false,\"policy_reject\":false")

static void
capture_log(void *ctx, enum log_level level, const char *line)
{
	struct fixture *f = ctx;
	size_t used = strlen(f->log);

	(void)level;
	if (used + strlen(line) + 2 < sizeof(f->log)) {
		memcpy(f->log + used, line, strlen(line));
		memcpy(f->log + used + strlen(line), "\n", 2);
	}
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		*error = NULL;
	FILE		*fp;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/mw-test-authpolicy.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_true(asprintf(&f->conf_path, "%s/mailward.conf", f->dir) > 0);
	assert_true(asprintf(&f->sock_path, "%s/ap.sock", f->dir) > 0);
	assert_non_null(fp = fopen(f->conf_path, "w"));
	fprintf(fp, "[daemon]\nuser =\nstate_dir = %s\nlog_level = debug\n"
	    "[dnsbl]\nenabled = no\n[lists]\ndeny = 198.51.100.0/24\n"
	    "[authpolicy]\nenabled = yes\nlisten =\nunix_socket = %s\n"
	    "unix_socket_mode = 0600\napi_key = t3st-key\nmax_connections = 2\n"
	    "timeout = 1s\n"
	    "reject_text = no: %%s\n"
	    "[login]\ntarpit_after = 2\ntarpit_delay = 3s\nban_after = 3\n"
	    "alert_new_network = no\n", f->dir, f->sock_path);
	assert_int_equal(fclose(fp), 0);
	if (cfg_load(f->conf_path, &f->cfg, &error) < 0)
		fail_msg("cfg_load: %s", error);
	assert_non_null(f->base = event_base_new());
	if (store_open(f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
	if (engine_new(f->base, f->cfg, f->st, NULL, &f->e, &error) < 0)
		fail_msg("engine_new: %s", error);
	log_open("test", LOG_TARGET_STDERR, LOG_LEVEL_DEBUG);
	log_set_capture(capture_log, f);
	if (authpolicy_server_new(f->base, f->cfg, f->e, &f->ap, &error) < 0)
		fail_msg("authpolicy_server_new: %s", error);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	struct stat	 st;
	char		 cmd[128];

	log_set_capture(NULL, NULL);
	authpolicy_server_free(&f->ap);
	assert_null(f->ap);
	/* the socket file goes with the server */
	assert_int_equal(lstat(f->sock_path, &st), -1);
	engine_free(&f->e);
	store_close(&f->st);
	cfg_free(&f->cfg);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f->conf_path);
	free(f->sock_path);
	free(f);
	return 0;
}

static int
conn_open(struct fixture *f)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	int			 fd;

	strcpy(sun.sun_path, f->sock_path);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	return fd;
}

/* One request on fd (kept open); the status code, the body in body_r
   (malloc'd), *closed_r when the server closed after the answer. */
static int
conn_request(struct fixture *f, int fd, const char *method,
    const char *target, const char *headers, const char *body, char **body_r,
    bool *closed_r)
{
	char		*req, resp[8192], *p;
	size_t		 len = 0, want = 0;
	time_t		 deadline = time(NULL) + 10;
	int		 code = -1, n;
	ssize_t		 r;

	n = asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s"
	    "Content-Length: %zu\r\n\r\n%s", method, target, headers,
	    strlen(body), body);
	assert_true(n > 0);
	assert_int_equal(send(fd, req, (size_t)n, MSG_NOSIGNAL), n);
	free(req);
	*closed_r = false;
	for (;;) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		r = recv(fd, resp + len, sizeof(resp) - 1 - len, MSG_DONTWAIT);
		if (r == 0) {
			*closed_r = true;
			break;
		}
		if (r < 0) {
			assert_true(errno == EAGAIN);
			assert_true(time(NULL) < deadline);
			usleep(500);
			continue;
		}
		len += (size_t)r;
		resp[len] = '\0';
		if ((p = strstr(resp, "\r\n\r\n")) != NULL) {
			const char *cl = strstr(resp, "Content-Length: ");

			assert_non_null(cl);
			want = (size_t)(p + 4 - resp) + (size_t)atoi(cl + 16);
			if (len >= want)
				break;
		}
	}
	assert_int_equal(sscanf(resp, "HTTP/1.1 %d", &code), 1);
	p = strstr(resp, "\r\n\r\n");
	assert_non_null(p);
	*body_r = strndup(p + 4, want > 0 ? want - (size_t)(p + 4 - resp) : 0);
	if (!*closed_r && strstr(resp, "Connection: close") != NULL) {
		/* drive the loop until the server closes */
		for (int i = 0; i < 2000; i++) {
			char c;

			event_base_loop(f->base, EVLOOP_NONBLOCK);
			if (recv(fd, &c, 1, MSG_DONTWAIT) == 0) {
				*closed_r = true;
				break;
			}
			usleep(500);
		}
	}
	return code;
}

/* Drives the loop until the server closes fd (false after 5 s). */
static bool
conn_wait_closed(struct fixture *f, int fd)
{
	time_t	 deadline = time(NULL) + 5;
	char	 buf[512];
	ssize_t	 r;

	while (time(NULL) < deadline) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			usleep(500);
	}
	return false;
}

/* Bytes of the answers complete at the start of buf (len bytes): how
   many there are in *n_r. "100 Continue" counts as one. */
static size_t
answers_len(const char *buf, size_t len, int *n_r)
{
	size_t	 off = 0;

	*n_r = 0;
	for (;;) {
		const char	*end = memmem(buf + off, len - off, "\r\n\r\n",
				    4);
		const char	*cl;
		size_t		 head, body = 0;

		if (end == NULL)
			return off;
		head = (size_t)(end + 4 - (buf + off));
		cl = memmem(buf + off, head, "Content-Length: ", 16);
		if (cl != NULL)
			body = (size_t)atoi(cl + 16);
		if (off + head + body > len)
			return off;
		off += head + body;
		(*n_r)++;
	}
}

/* Sends data (len bytes) on fd, then reads until want answers arrived or
   the server closed (*closed_r; then a little longer for the close).
   The answers NUL-terminated in out. */
static void
conn_exchange(struct fixture *f, int fd, const char *data, size_t len,
    int want, char *out, size_t size, bool *closed_r)
{
	time_t	 deadline = time(NULL) + 10;
	size_t	 got = 0;
	int	 n = 0;
	ssize_t	 r;

	if (len > 0)
		assert_int_equal(send(fd, data, len, MSG_NOSIGNAL),
		    (ssize_t)len);
	*closed_r = false;
	while (time(NULL) < deadline) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		r = recv(fd, out + got, size - 1 - got, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno == ECONNRESET)) {
			*closed_r = true;
			break;
		}
		if (r < 0) {
			assert_true(errno == EAGAIN);
			if (n >= want)
				break;
			usleep(500);
			continue;
		}
		got += (size_t)r;
		out[got] = '\0';
		(void)answers_len(out, got, &n);
	}
	out[got] = '\0';
}

static int
request(struct fixture *f, const char *method, const char *target,
    const char *headers, const char *body, char **body_r)
{
	int	 fd = conn_open(f), code;
	bool	 closed;

	code = conn_request(f, fd, method, target, headers, body, body_r,
	    &closed);
	close(fd);
	for (int i = 0; i < 5; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	return code;
}

static void
expect(struct fixture *f, const char *target, const char *body, int want_code,
    const char *want_body)
{
	char	*got = NULL;
	int	 code = request(f, "POST", target, KEY, body, &got);

	if (code != want_code || strcmp(got, want_body) != 0)
		fail_msg("%s %s: want %d %s, got %d %s", target, body,
		    want_code, want_body, code, got);
	free(got);
}

static void
test_dovecot_requests(void **state)
{
	struct fixture		*f = *state;
	struct authpolicy_stats	 s;

	expect(f, "/?command=allow", BODY("192.0.2.7", "alice", ""), 200,
	    "{\"status\":0,\"msg\":\"\"}");
	/* any path: Dovecot appends ?command= to the URL it is given */
	expect(f, "/dovecot/policy?site=a&command=allow",
	    BODY("192.0.2.7", "alice", ""), 200, "{\"status\":0,\"msg\":\"\"}");
	/* the deny list; reject_text's %s is the reason */
	expect(f, "/?command=allow", BODY("198.51.100.5", "alice", ""), 200,
	    "{\"status\":-1,\"msg\":\"no: deny list 198.51.100.0/24\"}");
	/* two failures: tarpit (tarpit_delay 3s); the third bans */
	expect(f, "/?command=report", FAILURE("192.0.2.7", "alice", "0a01"),
	    200, "{\"status\":0,\"msg\":\"\"}");
	expect(f, "/?command=report", FAILURE("192.0.2.7", "alice", "0a02"),
	    200, "{\"status\":0,\"msg\":\"\"}");
	expect(f, "/?command=allow", BODY("192.0.2.7", "alice", ""), 200,
	    "{\"status\":3,\"msg\":\"\"}");
	/* a report of our own refusal is not a password failure */
	expect(f, "/?command=report", BODY("192.0.2.7", "alice",
	    ",\"success\":false,\"policy_reject\":true"), 200,
	    "{\"status\":0,\"msg\":\"\"}");
	expect(f, "/?command=allow", BODY("192.0.2.7", "alice", ""), 200,
	    "{\"status\":3,\"msg\":\"\"}");
	expect(f, "/?command=report", FAILURE("192.0.2.7", "alice", "0a03"),
	    200, "{\"status\":0,\"msg\":\"\"}");
	expect(f, "/?command=allow", BODY("192.0.2.7", "alice", ""), 200,
	    "{\"status\":-1,\"msg\":\"no: banned 192.0.2.7 (login): 3 failed "
	    "logins in 10m (imap)\"}");
	assert_non_null(strstr(f->log, "authpolicy[unix:1]: imap login "
	    "\"alice\" from 192.0.2.7: allowed (no objection)\n"));
	assert_non_null(strstr(f->log, "]: imap login \"alice\" from 192.0.2.7: "
	    "tarpit 3 s (2 failed logins in 10m)\n"));
	assert_non_null(strstr(f->log, "]: imap login \"alice\" from "
	    "198.51.100.5: refused (deny list 198.51.100.0/24)\n"));
	/* the hash is never logged, the body never echoed */
	assert_null(strstr(f->log, "010d"));
	assert_null(strstr(f->log, "0a01"));
	assert_null(strstr(f->log, "pwhash"));
	authpolicy_server_get_stats(f->ap, &s);
	assert_int_equal(s.requests, 10);
	assert_int_equal(s.allow_checks, 6);
	assert_int_equal(s.reports, 4);
	assert_int_equal(s.policy_rejects, 1);
	assert_int_equal(s.verdicts[AUTH_VERDICT_ALLOW], 2);
	assert_int_equal(s.verdicts[AUTH_VERDICT_TARPIT], 2);
	assert_int_equal(s.verdicts[AUTH_VERDICT_REJECT], 2);
	assert_int_equal(s.malformed + s.unauthorized + s.fail_open, 0);
	assert_int_equal(s.connections, 0);
	assert_int_equal(s.connections_total, 10);
}

static void
test_refusals(void **state)
{
	struct fixture		*f = *state;
	struct authpolicy_stats	 s;
	char			*got = NULL;

	assert_int_equal(request(f, "POST", "/?command=allow", "",
	    BODY("192.0.2.8", "bob", ""), &got), 401);
	assert_string_equal(got, "{\"error\":\"no X-API-Key header: set "
	    "auth_policy_server_api_header to [authpolicy] api_key\"}");
	free(got);
	assert_int_equal(request(f, "POST", "/?command=allow",
	    "X-API-Key: t3st-kez\r\n", BODY("192.0.2.8", "bob", ""), &got), 401);
	assert_string_equal(got, "{\"error\":\"wrong X-API-Key: set "
	    "auth_policy_server_api_header to [authpolicy] api_key\"}");
	free(got);
	assert_int_equal(request(f, "GET", "/?command=allow", KEY, "", &got),
	    405);
	free(got);
	assert_int_equal(request(f, "POST", "/?command=allow", KEY,
	    "{\"login\":\"bob\",\"remote\":\"not-an-ip\"}", &got), 400);
	assert_string_equal(got, "{\"error\":\"\\\"remote\\\": \\\"not-an-ip\\\" "
	    "is not an IPv4 or IPv6 address\"}");
	free(got);
	assert_int_equal(request(f, "POST", "/", KEY,
	    BODY("192.0.2.8", "bob", ""), &got), 400);
	free(got);
	assert_int_equal(request(f, "POST", "/?command=allow", KEY,
	    "{\"login\":\"bob\",\"remote\":\"192.0.2.8\",\"pwhash\":\"010d0d\"}",
	    &got), 400);
	free(got);
	/* one warning line each, naming the fix */
	assert_non_null(strstr(f->log, "]: refused request: no X-API-Key header: "
	    "set auth_policy_server_api_header to [authpolicy] api_key; "
	    "answered 401\n"));
	assert_non_null(strstr(f->log, "]: malformed request: \"remote\": "
	    "\"not-an-ip\" is not an IPv4 or IPv6 address; answered 400\n"));
	assert_non_null(strstr(f->log, "]: malformed request: \"pwhash\" has 6 "
	    "hex digits, but [authpolicy] hash_truncate = 12 means 4: set it to "
	    "Dovecot's auth_policy_hash_truncate; answered 400\n"));
	authpolicy_server_get_stats(f->ap, &s);
	assert_int_equal(s.unauthorized, 2);
	assert_int_equal(s.malformed, 4);
	assert_int_equal(s.requests, 0);
}

static void
test_keepalive_and_limit(void **state)
{
	struct fixture		*f = *state;
	struct authpolicy_stats	 s;
	int			 a = conn_open(f), b = conn_open(f), c;
	char			*got = NULL;
	bool			 closed;

	/* two keep-alive connections, several requests each */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(conn_request(f, a, "POST", "/?command=allow", KEY,
		    BODY("192.0.2.9", "carol", ""), &got, &closed), 200);
		assert_false(closed);
		free(got);
		assert_int_equal(conn_request(f, b, "POST", "/?command=report",
		    KEY, BODY("192.0.2.9", "carol", ",\"success\":true,"
		    "\"policy_reject\":false"), &got, &closed), 200);
		assert_false(closed);
		free(got);
	}
	authpolicy_server_get_stats(f->ap, &s);
	assert_int_equal(s.connections, 2);
	assert_int_equal(s.connections_total, 2);
	/* a third is over max_connections = 2: closed at once */
	c = conn_open(f);
	assert_true(conn_wait_closed(f, c));
	close(c);
	assert_non_null(strstr(f->log, "authpolicy: 2 connections, the limit; "
	    "refusing new ones (1 so far; raise max_connections?)\n"));
	/* one leaves: room for a new one */
	close(a);
	for (int i = 0; i < 200; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		authpolicy_server_get_stats(f->ap, &s);
		if (s.connections == 1)
			break;
		usleep(500);
	}
	assert_int_equal(s.connections, 1);
	c = conn_open(f);
	assert_int_equal(conn_request(f, c, "POST", "/?command=allow", KEY,
	    BODY("192.0.2.9", "carol", ""), &got, &closed), 200);
	free(got);
	close(b);
	close(c);
	for (int i = 0; i < 200; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		authpolicy_server_get_stats(f->ap, &s);
		if (s.connections == 0)
			break;
		usleep(500);
	}
	assert_int_equal(s.connections, 0);
	assert_int_equal(s.connections_total, 3);
	assert_int_equal(s.over_limit, 1);
}

/* An idle keep-alive connection is closed after [authpolicy] timeout and
   no longer counted. */
static void
test_idle_timeout(void **state)
{
	struct fixture		*f = *state;
	struct authpolicy_stats	 s;
	int			 a = conn_open(f);
	char			*got = NULL, c;
	bool			 closed;
	time_t			 start = time(NULL);

	assert_int_equal(conn_request(f, a, "POST", "/?command=allow", KEY,
	    BODY("192.0.2.10", "dan", ""), &got, &closed), 200);
	free(got);
	authpolicy_server_get_stats(f->ap, &s);
	assert_int_equal(s.connections, 1);
	while (time(NULL) - start < 5) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (recv(a, &c, 1, MSG_DONTWAIT) == 0)
			break;
		usleep(2000);
	}
	assert_true(time(NULL) - start < 5);	/* closed by the server */
	authpolicy_server_get_stats(f->ap, &s);
	assert_int_equal(s.connections, 0);
	close(a);
}

#define ALLOW_BODY(remote) BODY(remote, "erin", "")

/* A POST of body to /?command=allow with the version and extra headers. */
static char *
post_allow(const char *version, const char *extra, const char *body)
{
	char	*req;

	assert_true(asprintf(&req, "POST /?command=allow %s\r\nHost: x\r\n"
	    KEY "%sContent-Length: %zu\r\n\r\n%s", version, extra,
	    strlen(body), body) > 0);
	return req;
}

/* Still open: nothing to read, no close, after the loop ran a while. */
static bool
conn_is_open(struct fixture *f, int fd)
{
	char	 c;

	for (int i = 0; i < 20; i++) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (recv(fd, &c, 1, MSG_DONTWAIT) >= 0 || errno != EAGAIN)
			return false;
		usleep(500);
	}
	return true;
}

/* Three requests in one send are answered in order; the last says
   Connection: close, so the server closes after it. */
static void
test_pipelining(void **state)
{
	struct fixture		*f = *state;
	char			*a = post_allow("HTTP/1.1", "",
				    ALLOW_BODY("192.0.2.20"));
	char			*b = post_allow("HTTP/1.1", "",
				    ALLOW_BODY("198.51.100.9"));
	char			*c = post_allow("HTTP/1.1",
				    "Connection: close\r\n",
				    ALLOW_BODY("192.0.2.21"));
	char			*all, out[8192];
	const char		*p1, *p2, *p3;
	int			 fd = conn_open(f), n;
	bool			 closed;

	assert_true(asprintf(&all, "%s%s%s", a, b, c) > 0);
	conn_exchange(f, fd, all, strlen(all), 3, out, sizeof(out), &closed);
	(void)answers_len(out, strlen(out), &n);
	assert_int_equal(n, 3);
	p1 = strstr(out, "{\"status\":0,");
	p2 = strstr(out, "{\"status\":-1,\"msg\":\"no: deny list");
	assert_non_null(p1);
	assert_non_null(p2);
	assert_true(p1 < p2);
	p3 = strstr(p2, "Connection: close\r\n");
	assert_non_null(p3);
	assert_non_null(strstr(p3, "{\"status\":0,"));
	/* only the last answer says close */
	assert_true(strstr(out, "Connection: close") == p3);
	assert_true(closed || conn_wait_closed(f, fd));
	close(fd);
	free(a);
	free(b);
	free(c);
	free(all);
}

/* A client refused again and again within a second is logged once with
   the request, then once with the count of the rest when the engine
   ticks (engine_flush_pending here, as the admin API does); each client
   on its own; a single refusal has no count line. */
static void
test_refusals_log_merged(void **state)
{
	struct fixture		*f = *state;
	const char		*remotes[] = { "198.51.100.5", "198.51.100.5",
				    "198.51.100.5", "198.51.100.5",
				    "198.51.100.5", "198.51.100.6",
				    "198.51.100.6", "198.51.100.9", "192.0.2.30",
				    "192.0.2.30", "192.0.2.30" };
	char			 all[4096], out[16384], body[256], *req;
	size_t			 len = 0;
	int			 fd, n;
	bool			 closed;

	/* two failures: 192.0.2.30 is in the tarpit */
	expect(f, "/?command=report", FAILURE("192.0.2.30", "dave", "0a01"),
	    200, "{\"status\":0,\"msg\":\"\"}");
	expect(f, "/?command=report", FAILURE("192.0.2.30", "dave", "0a02"),
	    200, "{\"status\":0,\"msg\":\"\"}");
	/* One send the server reads at once (its first input buffer is
	   4096 bytes) and answers in one go: no tick in between. */
	for (size_t i = 0; i < MW_N_ELEMENTS(remotes); i++) {
		/* the login first in the body: then the address */
		(void)snprintf(body, sizeof(body), BODY("%s", "u%zu", ""), i,
		    remotes[i]);
		req = post_allow("HTTP/1.1", "", body);
		assert_true(len + strlen(req) < sizeof(all));
		memcpy(all + len, req, strlen(req) + 1);
		len += strlen(req);
		free(req);
	}
	fd = conn_open(f);
	conn_exchange(f, fd, all, len, (int)MW_N_ELEMENTS(remotes), out,
	    sizeof(out), &closed);
	(void)answers_len(out, strlen(out), &n);
	assert_int_equal(n, (int)MW_N_ELEMENTS(remotes));
	close(fd);
	/* the first of each client at once, with its request */
	assert_int_equal(count_of(f->log, "\" from 198.51.100.5: refused "
	    "(deny list 198.51.100.0/24)\n"), 1);
	assert_non_null(strstr(f->log, "]: imap login \"u0\" from "
	    "198.51.100.5: refused (deny list 198.51.100.0/24)\n"));
	assert_int_equal(count_of(f->log, "\" from 198.51.100.6: refused "), 1);
	assert_int_equal(count_of(f->log, "\" from 198.51.100.9: refused "), 1);
	assert_int_equal(count_of(f->log, "\" from 192.0.2.30: tarpit 3 s (2 "
	    "failed logins in 10m)\n"), 1);
	assert_null(strstr(f->log, "more in the last second"));
	/* the rest in one line each when the tick flushes */
	engine_flush_pending(f->e);
	assert_non_null(strstr(f->log, "login: client 198.51.100.5 "
	    "(authpolicy): REJECT: deny list 198.51.100.0/24 (4 more in the "
	    "last second)\n"));
	assert_non_null(strstr(f->log, "login: client 198.51.100.6 "
	    "(authpolicy): REJECT: deny list 198.51.100.0/24 (1 more in the "
	    "last second)\n"));
	assert_non_null(strstr(f->log, "login: client 192.0.2.30 "
	    "(authpolicy): TARPIT: 3 s: 2 failed logins in 10m (2 more in the "
	    "last second)\n"));
	assert_int_equal(count_of(f->log, "more in the last second"), 3);
	assert_null(strstr(f->log, "login: client 198.51.100.9"));
}

/* A request sent one byte at a time, the loop running between them. */
static void
test_split_reads(void **state)
{
	struct fixture	*f = *state;
	char		*req = post_allow("HTTP/1.1", "",
			    ALLOW_BODY("192.0.2.22"));
	char		 out[4096];
	int		 fd = conn_open(f), n;
	bool		 closed;

	for (size_t i = 0; i + 1 < strlen(req); i++) {
		assert_int_equal(send(fd, req + i, 1, MSG_NOSIGNAL), 1);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	conn_exchange(f, fd, req + strlen(req) - 1, 1, 1, out, sizeof(out),
	    &closed);
	(void)answers_len(out, strlen(out), &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, "\r\n\r\n{\"status\":0,\"msg\":\"\"}"));
	assert_false(closed);
	assert_true(conn_is_open(f, fd));
	close(fd);
	free(req);
}

/* HTTP/1.0 closes unless keep-alive was asked (and then says so);
   HTTP/1.1 keeps the connection unless Connection: close. */
static void
test_keepalive_versions(void **state)
{
	struct fixture	*f = *state;
	struct {
		const char	*version, *extra, *answer_has;
		bool		 stays_open;
	} cases[] = {
		{ "HTTP/1.0", "", "Connection: close\r\n", false },
		{ "HTTP/1.0", "Connection: keep-alive\r\n",
		    "Connection: keep-alive\r\n", true },
		{ "HTTP/1.1", "Connection: close\r\n", "Connection: close\r\n",
		    false },
		{ "HTTP/1.1", "", "Content-Length: 21\r\n\r\n", true },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char	*req = post_allow(cases[i].version, cases[i].extra,
			    ALLOW_BODY("192.0.2.23"));
		char	 out[4096];
		int	 fd = conn_open(f);
		bool	 closed;

		conn_exchange(f, fd, req, strlen(req), 1, out, sizeof(out),
		    &closed);
		assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
		assert_non_null(strstr(out, cases[i].answer_has));
		if (cases[i].stays_open)
			assert_true(conn_is_open(f, fd));
		else
			assert_true(closed || conn_wait_closed(f, fd));
		close(fd);
		free(req);
	}
}

/* Broken HTTP gets a JSON error, Connection: close, and the close; so
   does a method other than POST. */
static void
test_malformed_http(void **state)
{
	struct fixture		*f = *state;
	struct authpolicy_stats	 s;
	struct {
		const char	*req;
		const char	*status, *error;
	} cases[] = {
		{ "GARBAGE\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n",
		    "{\"error\":\"malformed HTTP request: " },
		{ "POST /?command=allow HTTP/1.1\r\nContent-Length: x\r\n\r\n",
		    "HTTP/1.1 400 Bad Request\r\n",
		    "{\"error\":\"malformed HTTP request: invalid character in "
		    "content-length header\"}" },
		{ "POST /?command=allow HTTP/1.1\r\nContent-Length: 100000\r\n"
		    "\r\n", "HTTP/1.1 413 Payload Too Large\r\n",
		    "{\"error\":\"the body is 100000 bytes, more than the 8192 "
		    "accepted\"}" },
		{ "POST /?command=allow HTTP/1.1\r\nTransfer-Encoding: "
		    "chunked\r\n\r\n", "HTTP/1.1 411 Length Required\r\n",
		    "{\"error\":\"chunked request bodies are not accepted: send "
		    "Content-Length\"}" },
		/* not framing, but not Dovecot either */
		{ "HEAD /?command=allow HTTP/1.1\r\n\r\n",
		    "HTTP/1.1 405 Method Not Allowed\r\n",
		    "Allow: POST\r\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char	 out[4096];
		int	 fd = conn_open(f);
		bool	 closed;

		conn_exchange(f, fd, cases[i].req, strlen(cases[i].req), 1, out,
		    sizeof(out), &closed);
		if (strstr(out, cases[i].status) != out)
			fail_msg("%s: got %s", cases[i].req, out);
		assert_non_null(strstr(out,
		    "Content-Type: application/json\r\n"));
		assert_non_null(strstr(out, "Connection: close\r\n"));
		assert_non_null(strstr(out, cases[i].error));
		assert_true(closed || conn_wait_closed(f, fd));
		close(fd);
	}
	assert_non_null(strstr(f->log, "]: malformed request: malformed HTTP "
	    "request: "));
	assert_non_null(strstr(f->log, "]: malformed request: the body is "
	    "100000 bytes, more than the 8192 accepted; answered 413\n"));
	authpolicy_server_get_stats(f->ap, &s);
	assert_int_equal(s.malformed, 5);
	assert_int_equal(s.requests, 0);
}

/* Expect: 100-continue: "100 Continue" once the headers are in, then the
   answer once the body is. */
static void
test_expect_continue(void **state)
{
	struct fixture	*f = *state;
	const char	*body = ALLOW_BODY("192.0.2.24");
	char		*head, out[4096];
	int		 fd = conn_open(f), n;
	bool		 closed;

	assert_true(asprintf(&head, "POST /?command=allow HTTP/1.1\r\nHost: x"
	    "\r\n" KEY "Expect: 100-continue\r\nContent-Length: %zu\r\n\r\n",
	    strlen(body)) > 0);
	conn_exchange(f, fd, head, strlen(head), 1, out, sizeof(out), &closed);
	assert_string_equal(out, "HTTP/1.1 100 Continue\r\n\r\n");
	conn_exchange(f, fd, body, strlen(body), 1, out, sizeof(out), &closed);
	(void)answers_len(out, strlen(out), &n);
	assert_int_equal(n, 1);
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_false(closed);
	close(fd);
	free(head);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dovecot_requests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_and_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_idle_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_pipelining, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusals_log_merged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_split_reads, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_versions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed_http, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_expect_continue, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
