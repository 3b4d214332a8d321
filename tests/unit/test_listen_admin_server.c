/*
 * test_listen_admin_server - the admin API server against a real engine
 * and SQLite store in a temporary directory: the socket (mode, stale file
 * replaced, a non-socket or a live socket refused, removed at exit), the
 * routes' status codes and JSON, the log line and event of a change.
 * Requests are written on a unix socket while the test drives the loop.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "listen/admin.h"

struct fixture {
	char			 dir[64];
	char			*conf_path, *sock_path;
	struct cfg		*cfg;
	struct store		*st;
	struct engine		*e;
	struct event_base	*base;
	struct admin_server	*as;
	char			 log[8192];	/* info lines captured */
	int			 reloads;
};

static void
capture_log(void *ctx, enum log_level level, const char *line)
{
	struct fixture *f = ctx;
	size_t used = strlen(f->log);

	if (level <= LOG_LEVEL_INFO && used + strlen(line) + 2 < sizeof(f->log)) {
		strcat(f->log, line);
		strcat(f->log, "\n");
	}
}

static void
hook_status(void *ctx, json_t *o)
{
	(void)ctx;
	json_object_set_new(o, "listeners", json_pack("{s:{s:i}}", "policy",
	    "malformed", 7));
}

static int
hook_reload(void *ctx, char **error_r)
{
	struct fixture *f = ctx;

	if (f->reloads++ == 0) {
		*error_r = strdup("test.conf:3: dnsbl: timeout: \"2x\" is not valid");
		return -1;
	}
	return 0;
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	struct admin_hooks hooks;
	char		*error = NULL;
	FILE		*fp;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/mw-test-admin.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_true(asprintf(&f->conf_path, "%s/mailward.conf", f->dir) > 0);
	assert_true(asprintf(&f->sock_path, "%s/admin.sock", f->dir) > 0);
	assert_non_null(fp = fopen(f->conf_path, "w"));
	fprintf(fp, "[daemon]\nuser =\nstate_dir = %s\n[dnsbl]\nenabled = no\n"
	    "[lists]\ndeny = 198.51.100.0/24\n", f->dir);
	assert_int_equal(fclose(fp), 0);
	if (cfg_load(f->conf_path, &f->cfg, &error) < 0)
		fail_msg("cfg_load: %s", error);
	assert_string_equal(f->cfg->admin.socket, f->sock_path);
	assert_non_null(f->base = event_base_new());
	if (store_open(f->cfg, &f->st, &error) < 0)
		fail_msg("store_open: %s", error);
	if (engine_new(f->base, f->cfg, f->st, NULL, &f->e, &error) < 0)
		fail_msg("engine_new: %s", error);
	log_set_capture(capture_log, f);
	hooks = (struct admin_hooks){ .ctx = f, .status = hook_status,
	    .reload = hook_reload, .config_path = f->conf_path };
	if (admin_server_new(f->base, f->cfg, f->e, &hooks, &f->as, &error) < 0)
		fail_msg("admin_server_new: %s", error);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	char		 cmd[128];

	log_set_capture(NULL, NULL);
	admin_server_free(&f->as);
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

/* One HTTP request (Connection: close); returns the status code and puts
   the body in body_r (malloc'd). */
static int
http(struct fixture *f, const char *method, const char *target,
    const char *body, char **body_r)
{
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };
	char			*req, *resp = NULL, *p;
	size_t			 len = 0, cap = 0;
	time_t			 deadline = time(NULL) + 10;
	int			 fd, code = -1;
	ssize_t			 n;

	strcpy(sun.sun_path, f->sock_path);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_true(asprintf(&req, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
	    "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", method,
	    target, body != NULL ? strlen(body) : 0, body != NULL ? body : "")
	    > 0);
	/* Big bodies: the loop must read while we write. */
	for (size_t off = 0, total = strlen(req); off < total; ) {
		n = send(fd, req + off, total - off, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno != EAGAIN)
			break;	/* the server closed early (413) */
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	free(req);
	for (;;) {
		char buf[4096];

		event_base_loop(f->base, EVLOOP_NONBLOCK);
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0) {
			assert_true(time(NULL) < deadline);
			usleep(1000);
			continue;
		}
		if (len + (size_t)n + 1 > cap) {
			cap = (len + (size_t)n + 1) * 2;
			assert_non_null(resp = realloc(resp, cap));
		}
		memcpy(resp + len, buf, (size_t)n);
		len += (size_t)n;
		resp[len] = '\0';
	}
	close(fd);
	assert_non_null(resp);
	assert_int_equal(sscanf(resp, "HTTP/1.1 %d", &code), 1);
	p = strstr(resp, "\r\n\r\n");
	*body_r = strdup(p != NULL ? p + 4 : "");
	free(resp);
	return code;
}

static void
test_socket(void **state)
{
	struct fixture		*f = *state;
	struct admin_server	*as2 = NULL;
	struct admin_hooks	 hooks = { 0 };
	struct stat		 st;
	char			*error = NULL, *other;
	int			 fd;
	struct sockaddr_un	 sun = { .sun_family = AF_UNIX };

	assert_int_equal(lstat(f->sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);

	/* a live socket is not taken over */
	assert_int_equal(admin_server_new(f->base, f->cfg, f->e, &hooks, &as2,
	    &error), -1);
	assert_non_null(strstr(error, "is in use by a running process"));
	free(error);

	/* a regular file is never removed */
	assert_true(asprintf(&other, "%s/other.sock", f->dir) > 0);
	assert_int_equal(close(open(other, O_CREAT | O_WRONLY, 0600)), 0);
	((struct cfg *)f->cfg)->admin.socket = other;
	assert_int_equal(admin_server_new(f->base, f->cfg, f->e, &hooks, &as2,
	    &error), -1);
	assert_non_null(strstr(error, "exists and is not a socket; move it away "
	    "or set [admin] socket to another path"));
	free(error);
	assert_int_equal(lstat(other, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(unlink(other), 0);

	/* a stale socket (nobody listening) is replaced, and removed at free */
	strcpy(sun.sun_path, other);
	assert_true((fd = socket(AF_UNIX, SOCK_STREAM, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	if (admin_server_new(f->base, f->cfg, f->e, &hooks, &as2, &error) < 0)
		fail_msg("stale socket: %s", error);
	assert_non_null(strstr(f->log, "admin: removed stale socket"));
	admin_server_free(&as2);
	assert_null(as2);
	assert_int_equal(lstat(other, &st), -1);
	((struct cfg *)f->cfg)->admin.socket = f->sock_path;
	free(other);
}

static void
test_routes(void **state)
{
	struct fixture	*f = *state;
	char		*body, big[70000 + 1], want[128];

	assert_int_equal(http(f, "GET", "/api/v1/status", NULL, &body), 200);
	assert_non_null(strstr(body, "\"version\":\"" MW_VERSION "\""));
	assert_non_null(strstr(body, "\"listeners\":{\"policy\":{\"malformed\":7}}"));
	assert_non_null(strstr(body, "\"deny_entries\":1"));
	free(body);

	assert_int_equal(http(f, "GET", "/api/v1/nope", NULL, &body), 404);
	assert_non_null(strstr(body, "\"error\":\"no such API route /api/v1/nope"));
	free(body);
	assert_int_equal(http(f, "PUT", "/api/v1/bans", NULL, &body), 405);
	assert_string_equal(body, "{\"error\":\"PUT is not allowed on /api/v1/bans: "
	    "use GET, POST, DELETE\"}\n");
	free(body);
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(http(f, "POST", "/api/v1/bans", big, &body), 413);
	free(body);
	assert_int_equal(http(f, "POST", "/api/v1/bans",
	    "{\"address\":\"10.0.0.1/8\"}", &body), 400);
	assert_string_equal(body, "{\"error\":\"\\\"address\\\": \\\"10.0.0.1/8\\\" "
	    "has host bits set; did you mean \\\"10.0.0.0/8\\\"?\"}\n");
	free(body);

	/* a ban: 201, the log line with the peer's uid, the event */
	assert_int_equal(http(f, "POST", "/api/v1/bans", "{\"address\":"
	    "\"203.0.113.9\",\"duration\":\"1h\",\"reason\":\"test\"}", &body),
	    201);
	assert_non_null(strstr(body, "{\"ban\":{\"address\":\"203.0.113.9\","
	    "\"source\":\"manual\",\"reason\":\"test\""));
	free(body);
	snprintf(want, sizeof(want), "admin: ban 203.0.113.9 for 1h by uid %lu: "
	    "test\n", (unsigned long)getuid());
	assert_non_null(strstr(f->log, want));
	assert_int_equal(http(f, "GET", "/api/v1/bans?source=manual", NULL,
	    &body), 200);
	assert_non_null(strstr(body, "{\"total\":1,\"bans\":[{\"address\":"
	    "\"203.0.113.9\""));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/check?address=203.0.113.9",
	    NULL, &body), 200);
	assert_non_null(strstr(body, "\"verdict\":\"REJECT\",\"decided_by\":"
	    "\"ban\""));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/events?address=203.0.113.9",
	    NULL, &body), 200);
	assert_non_null(strstr(body, "\"listener\":\"admin\",\"verdict\":\"BAN\","
	    "\"reason\":\"203.0.113.9 for 1h by uid"));
	free(body);
	assert_int_equal(http(f, "DELETE", "/api/v1/bans?address=203.0.113.9",
	    NULL, &body), 200);
	assert_string_equal(body, "{\"deleted\":\"203.0.113.9\"}\n");
	free(body);
	assert_int_equal(http(f, "DELETE", "/api/v1/bans?address=203.0.113.9",
	    NULL, &body), 404);
	free(body);

	/* lists: a config entry is 409 naming file and line */
	assert_int_equal(http(f, "DELETE", "/api/v1/lists/deny?network="
	    "198.51.100.0%2F24", NULL, &body), 409);
	assert_non_null(strstr(body, "198.51.100.0/24 is defined in the "
	    "configuration file at "));
	assert_non_null(strstr(body, "mailward.conf:7: remove it there"));
	free(body);
	assert_int_equal(http(f, "POST", "/api/v1/lists/allow",
	    "{\"network\":\"192.0.2.0/24\",\"comment\":\"office\"}", &body), 201);
	assert_non_null(strstr(body, "{\"entry\":{\"network\":\"192.0.2.0/24\","
	    "\"comment\":\"office\""));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/lists/allow", NULL, &body), 200);
	assert_non_null(strstr(body, "\"origin\":\"store\""));
	free(body);
	assert_int_equal(http(f, "DELETE", "/api/v1/lists/allow?network="
	    "192.0.2.0%2F24", NULL, &body), 200);
	free(body);

	/* reload: the hook's errors, then success */
	assert_int_equal(http(f, "POST", "/api/v1/reload", NULL, &body), 400);
	assert_non_null(strstr(body, "test.conf:3: dnsbl: timeout"));
	free(body);
	assert_int_equal(http(f, "POST", "/api/v1/reload", "{}", &body), 200);
	assert_string_equal(body, "{\"reloaded\":true}\n");
	free(body);
}

static void
auth(struct fixture *f, const char *addr, const char *account,
    enum auth_phase phase)
{
	struct auth_observation o = { .source = "authpolicy",
	    .service = "imap", .has_addr = true, .account = account,
	    .phase = phase };

	assert_int_equal(mw_addr_parse(addr, &o.addr), 0);
	engine_auth_report(f->e, &o);
}

/* Login guard routes (issue 3): alerts, ack, accounts, check, status. */
static void
test_login_routes(void **state)
{
	struct fixture	*f = *state;
	char		*body, want[160], path[64];
	json_t		*o, *alerts;
	json_int_t	 id;

	/* grace: home network, then a success after three failures. */
	auth(f, "192.0.2.40", "grace@example.org", AUTH_PHASE_SUCCESS);
	for (int i = 0; i < 3; i++)
		auth(f, "203.0.113.44", "grace@example.org", AUTH_PHASE_FAILURE);
	auth(f, "203.0.113.44", "grace@example.org", AUTH_PHASE_SUCCESS);
	auth(f, "203.0.113.45", "bob", AUTH_PHASE_FAILURE);

	assert_int_equal(http(f, "GET", "/api/v1/alerts", NULL, &body), 200);
	assert_non_null(o = json_loads(body, 0, NULL));
	free(body);
	alerts = json_object_get(o, "alerts");
	assert_int_equal(json_array_size(alerts), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    alerts, 0), "kind")), "after_failures");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    alerts, 0), "account")), "grace@example.org");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    json_array_get(alerts, 0), "evidence"), "address_failures")), 3);
	assert_true(json_is_null(json_object_get(json_array_get(alerts, 0),
	    "acknowledged_by")));
	id = json_integer_value(json_object_get(json_array_get(alerts, 0), "id"));
	json_decref(o);

	/* Acknowledge: 200 with who, then 409; bad paths 404. */
	snprintf(path, sizeof(path), "/api/v1/alerts/%lld/ack", (long long)id);
	assert_int_equal(http(f, "POST", path, NULL, &body), 200);
	snprintf(want, sizeof(want), "\"acknowledged_by\":\"uid %lu\"",
	    (unsigned long)getuid());
	assert_non_null(strstr(body, want));
	free(body);
	snprintf(want, sizeof(want), "admin: alert %lld acknowledged by uid %lu\n",
	    (long long)id, (unsigned long)getuid());
	assert_non_null(strstr(f->log, want));
	assert_int_equal(http(f, "POST", path, NULL, &body), 409);
	assert_non_null(strstr(body, "was already acknowledged by uid"));
	free(body);
	assert_int_equal(http(f, "POST", "/api/v1/alerts/999/ack", NULL, &body),
	    404);
	assert_non_null(strstr(body, "no such alert: 999"));
	free(body);
	assert_int_equal(http(f, "POST", "/api/v1/alerts/x1/ack", NULL, &body),
	    404);
	assert_non_null(strstr(body, "alert id \\\"x1\\\" is not a number"));
	free(body);
	assert_int_equal(http(f, "POST", "/api/v1/alerts/1/nack", NULL, &body),
	    404);
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/alerts/1/ack", NULL, &body),
	    405);
	free(body);
	assert_int_equal(http(f, "POST", path, "{\"x\":1}", &body), 400);
	free(body);
	/* Open alerts only by default; all=1 shows it again. */
	assert_int_equal(http(f, "GET", "/api/v1/alerts", NULL, &body), 200);
	assert_string_equal(body, "{\"alerts\":[]}\n");
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/alerts?all=1&limit=5", NULL,
	    &body), 200);
	assert_non_null(strstr(body, "\"acknowledged_at\":"));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/alerts?all=yes", NULL, &body),
	    400);
	assert_non_null(strstr(body, "all: \\\"yes\\\" is not 0 or 1"));
	free(body);

	/* One account, percent-encoded. */
	assert_int_equal(http(f, "GET", "/api/v1/accounts/grace%40example.org",
	    NULL, &body), 200);
	assert_non_null(o = json_loads(body, 0, NULL));
	free(body);
	assert_true(json_is_true(json_object_get(o, "seen")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "failures"), "count")), 3);
	assert_int_equal(json_array_size(json_object_get(o, "networks")), 2);
	/* The three failures, merged into events of one second each (one,
	   or two when a second began between them), count 3. */
	{
		json_t	*rf = json_object_get(o, "recent_failures");
		size_t	 i;
		json_int_t sum = 0;

		assert_in_range(json_array_size(rf), 1, 2);
		for (i = 0; i < json_array_size(rf); i++)
			sum += json_integer_value(json_object_get(
			    json_array_get(rf, i), "count"));
		assert_int_equal(sum, 3);
	}
	assert_int_equal(json_array_size(json_object_get(o, "recent_successes")), 2);
	assert_int_equal(json_array_size(json_object_get(o, "alerts")), 1);
	assert_true(json_is_false(json_object_get(json_object_get(o,
	    "weak_password"), "flagged")));
	assert_true(json_is_false(json_object_get(o, "under_attack")));
	json_decref(o);
	/* Names are folded as the login guard keys them. */
	assert_int_equal(http(f, "GET", "/api/v1/accounts/Grace%40Example.ORG",
	    NULL, &body), 200);
	assert_non_null(strstr(body, "{\"account\":\"grace@example.org\","
	    "\"seen\":true,"));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/accounts/nobody", NULL, &body),
	    200);
	assert_non_null(strstr(body, "\"seen\":false"));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/accounts/a%00b", NULL, &body),
	    400);
	assert_non_null(strstr(body, "1 to 256 bytes of printable text"));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/accounts/a/b", NULL, &body),
	    400);
	free(body);

	/* The targeted accounts, most failures first. */
	assert_int_equal(http(f, "GET", "/api/v1/accounts", NULL, &body), 200);
	assert_non_null(o = json_loads(body, 0, NULL));
	free(body);
	assert_int_equal(json_integer_value(json_object_get(o, "window")), 600);
	assert_int_equal(json_array_size(json_object_get(o, "accounts")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "accounts"), 0), "account")), "grace@example.org");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "accounts"), 1), "account")), "bob");
	json_decref(o);
	assert_int_equal(http(f, "GET", "/api/v1/accounts?limit=1", NULL, &body),
	    200);
	assert_null(strstr(body, "\"bob\""));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/accounts?limit=0", NULL, &body),
	    400);
	free(body);

	/* check and status carry the login guard's view. */
	assert_int_equal(http(f, "GET", "/api/v1/check?address=203.0.113.44",
	    NULL, &body), 200);
	assert_non_null(strstr(body, "\"login\":{\"window\":600,\"failures\":3,"
	    "\"accounts\":1,"));
	assert_non_null(strstr(body, "\"network\":\"203.0.113.0/24\","
	    "\"network_failures\":4,\"network_accounts\":2,\"escalation\":null}"));
	free(body);
	assert_int_equal(http(f, "GET", "/api/v1/status", NULL, &body), 200);
	assert_non_null(strstr(body, "\"login\":{\"checks\":0,\"tarpits\":0,"
	    "\"rejects\":0,\"failures\":4,\"successes\":2,"));
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_routes, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
