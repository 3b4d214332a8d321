/*
 * test_listen_dashboard_parse - the dashboard's pure input checks
 * (dashboard_parse.c): URL paths of static files (every escape we know
 * of, malformed escapes, limits), the Cookie header, session ids, Origin
 * against Host, login/admin/language bodies, and the stats, audit and
 * stream query strings. Malformed input first; exact error texts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "listen/dashboard.h"

/* a string literal and its length */
#define L(s)	(s), (sizeof(s) - 1)

static const struct {
	const char	*in;
	const char	*want;		/* the relative file, or NULL */
	const char	*want_error;
} paths[] = {
	/* escapes out of web_root */
	{ "/../etc/passwd", NULL, "a path segment starts with \".\" (\"..\", "
	    "\".\" and hidden files are refused)" },
	{ "/assets/../../etc/passwd", NULL, "a path segment starts with \".\" "
	    "(\"..\", \".\" and hidden files are refused)" },
	{ "/%2e%2e/etc/passwd", NULL, "a path segment starts with \".\" "
	    "(\"..\", \".\" and hidden files are refused)" },
	{ "/%2E%2e/x", NULL, "a path segment starts with \".\" (\"..\", \".\" "
	    "and hidden files are refused)" },
	{ "/.%2e/x", NULL, "a path segment starts with \".\" (\"..\", \".\" "
	    "and hidden files are refused)" },
	{ "/..%2fetc%2fpasswd", NULL, "a path segment starts with \".\" "
	    "(\"..\", \".\" and hidden files are refused)" },
	{ "/a%2f..%2fb", NULL, "the path has an encoded character that is not "
	    "allowed" },
	{ "/a%2Fb", NULL, "the path has an encoded character that is not "
	    "allowed" },
	{ "/%252e%252e/x", NULL, "the path has an encoded character that is "
	    "not allowed" },
	{ "/%25", NULL, "the path has an encoded character that is not "
	    "allowed" },
	{ "/a%5cb", NULL, "the path has an encoded character that is not "
	    "allowed" },
	{ "/a\\b", NULL, "the path has a character that is not allowed" },
	{ "/..\\etc", NULL, "a path segment starts with \".\" (\"..\", \".\" "
	    "and hidden files are refused)" },
	{ "/a\\..\\..\\etc", NULL, "the path has a character that is not "
	    "allowed" },
	{ "/index.html%00.js", NULL, "the path has an encoded character that "
	    "is not allowed" },
	{ "//etc/passwd", NULL, "the path has an empty segment (//)" },
	{ "/assets//app.js", NULL, "the path has an empty segment (//)" },
	{ "/.", NULL, "a path segment starts with \".\" (\"..\", \".\" and "
	    "hidden files are refused)" },
	{ "/.git/config", NULL, "a path segment starts with \".\" (\"..\", "
	    "\".\" and hidden files are refused)" },
	{ "/assets/.", NULL, "a path segment starts with \".\" (\"..\", \".\" "
	    "and hidden files are refused)" },
	/* malformed */
	{ "", NULL, "the path does not start with /" },
	{ "index.html", NULL, "the path does not start with /" },
	{ "/%", NULL, "the path has a truncated %-escape" },
	{ "/a%2", NULL, "the path has a truncated %-escape" },
	{ "/%zz", NULL, "the path has a malformed %-escape" },
	{ "/a b", NULL, "the path has a character that is not allowed" },
	{ "/a?b", NULL, "the path has a character that is not allowed" },
	{ "/caf\xc3\xa9", NULL, "the path has a character that is not "
	    "allowed" },
	{ "/a\x7f", NULL, "the path has a character that is not allowed" },
	{ "/a:b", NULL, "the path has a character that is not allowed" },
	/* fine */
	{ "/", "index.html", NULL },
	{ "/index.html", "index.html", NULL },
	{ "/assets/app.js", "assets/app.js", NULL },
	{ "/assets/", "assets/index.html", NULL },
	{ "/a%2db.js", "a-b.js", NULL },
	{ "/app.2f3a.min.js", "app.2f3a.min.js", NULL },
	{ "/a..b", "a..b", NULL },	/* dots inside a name are a name */
	{ "/x~y+z@1_2", "x~y+z@1_2", NULL },
};

static void
test_path_normalize(void **state)
{
	struct mw_arena	*a = mw_arena_new(1024);
	char		 longp[DASHBOARD_MAX_PATH + 2];

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		const char *rel = NULL, *error = NULL;
		int ret = dashboard_path_normalize(paths[i].in,
		    strlen(paths[i].in), a, &rel, &error);

		if (paths[i].want != NULL) {
			if (ret != 0)
				fail_msg("%s: %s", paths[i].in, error);
			assert_string_equal(rel, paths[i].want);
		} else {
			if (ret != -1)
				fail_msg("%s: accepted as %s", paths[i].in, rel);
			assert_string_equal(error, paths[i].want_error);
		}
	}
	/* the length is checked before anything else */
	memset(longp, 'a', sizeof(longp));
	longp[0] = '/';
	{
		const char *rel, *error;

		assert_int_equal(dashboard_path_normalize(longp,
		    DASHBOARD_MAX_PATH + 1, a, &rel, &error), -1);
		assert_string_equal(error, "the path is longer than 1024 bytes");
		assert_int_equal(dashboard_path_normalize(longp,
		    DASHBOARD_MAX_PATH, a, &rel, &error), 0);
		assert_int_equal(strlen(rel), DASHBOARD_MAX_PATH - 1);
	}
	/* a NUL inside the given length is a byte like any other */
	{
		const char *rel, *error;

		assert_int_equal(dashboard_path_normalize("/a\0b", 4, a, &rel,
		    &error), -1);
		assert_string_equal(error, "the path has a character that is "
		    "not allowed");
	}
	mw_arena_free(&a);
}

static void
test_cookie(void **state)
{
	struct mw_arena	*a = mw_arena_new(1024);
	const char	*v;
	char		 huge[5000];

	(void)state;
	assert_int_equal(dashboard_cookie_get(NULL, "mw_session", a, &v), 0);
	assert_null(v);
	assert_int_equal(dashboard_cookie_get("", "mw_session", a, &v), 0);
	assert_int_equal(dashboard_cookie_get("a=1; b=2", "mw_session", a, &v),
	    0);
	assert_int_equal(dashboard_cookie_get("mw_session=abc", "mw_session",
	    a, &v), 1);
	assert_string_equal(v, "abc");
	assert_int_equal(dashboard_cookie_get("theme=dark;  mw_session=abc ;x=y",
	    "mw_session", a, &v), 1);
	assert_string_equal(v, "abc");
	/* a prefix of the name is another cookie */
	assert_int_equal(dashboard_cookie_get("xmw_session=abc; mw_sessionx=d",
	    "mw_session", a, &v), 0);
	/* twice: refused (which one would be the real one?) */
	assert_int_equal(dashboard_cookie_get("mw_session=a; mw_session=b",
	    "mw_session", a, &v), -1);
	assert_int_equal(dashboard_cookie_get("mw_session", "mw_session", a,
	    &v), -1);
	assert_int_equal(dashboard_cookie_get("=abc", "mw_session", a, &v), -1);
	assert_int_equal(dashboard_cookie_get("mw_session=a\x01", "mw_session",
	    a, &v), -1);
	memset(huge, 'x', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	memcpy(huge, "mw_session=", 11);
	assert_int_equal(dashboard_cookie_get(huge, "mw_session", a, &v), -1);
	mw_arena_free(&a);
}

static void
test_session_id(void **state)
{
	uint8_t	 id[DASHBOARD_SESSION_ID_LEN];
	char	 hex[2 * DASHBOARD_SESSION_ID_LEN + 2];

	(void)state;
	memset(hex, 'a', sizeof(hex));
	hex[2 * DASHBOARD_SESSION_ID_LEN] = '\0';
	assert_int_equal(dashboard_session_id_parse(hex, id), 0);
	assert_int_equal(id[0], 0xaa);
	memcpy(hex, "0f", 2);
	assert_int_equal(dashboard_session_id_parse(hex, id), 0);
	assert_int_equal(id[0], 0x0f);
	hex[2 * DASHBOARD_SESSION_ID_LEN - 1] = '\0';	/* 63 digits */
	assert_int_equal(dashboard_session_id_parse(hex, id), -1);
	hex[2 * DASHBOARD_SESSION_ID_LEN - 1] = 'a';
	hex[2 * DASHBOARD_SESSION_ID_LEN] = 'a';	/* 65 digits */
	hex[2 * DASHBOARD_SESSION_ID_LEN + 1] = '\0';
	assert_int_equal(dashboard_session_id_parse(hex, id), -1);
	hex[2 * DASHBOARD_SESSION_ID_LEN] = '\0';
	hex[10] = 'A';	/* upper case: not what we issue */
	assert_int_equal(dashboard_session_id_parse(hex, id), -1);
	hex[10] = 'g';
	assert_int_equal(dashboard_session_id_parse(hex, id), -1);
	assert_int_equal(dashboard_session_id_parse("", id), -1);
}

static void
test_origin(void **state)
{
	(void)state;
	assert_true(dashboard_origin_ok(NULL, "127.0.0.1:10048", false));
	assert_true(dashboard_origin_ok("http://127.0.0.1:10048",
	    "127.0.0.1:10048", false));
	assert_true(dashboard_origin_ok("https://mail.example.com",
	    "mail.example.com", true));
	assert_false(dashboard_origin_ok("https://127.0.0.1:10048",
	    "127.0.0.1:10048", false));
	assert_false(dashboard_origin_ok("http://mail.example.com",
	    "mail.example.com", true));
	assert_false(dashboard_origin_ok("http://evil.example",
	    "127.0.0.1:10048", false));
	assert_false(dashboard_origin_ok("http://127.0.0.1:10048.evil.example",
	    "127.0.0.1:10048", false));
	assert_false(dashboard_origin_ok("http://127.0.0.1",
	    "127.0.0.1:10048", false));
	assert_false(dashboard_origin_ok("null", "127.0.0.1:10048", false));
	assert_false(dashboard_origin_ok("http://127.0.0.1:10048", NULL, false));
	assert_false(dashboard_origin_ok("http://", "", false));
}

static void
test_login_body(void **state)
{
	struct mw_arena			*a = mw_arena_new(1024);
	struct dashboard_login_req	 lr;
	struct dashboard_admin_req	 ar;
	const char			*error, *lang;
	char				 big[1100 + 40];

	(void)state;
	assert_int_equal(dashboard_parse_login(L(""), a, &lr, &error), -1);
	assert_string_equal(error, "the request body is empty: send a JSON "
	    "object such as {\"name\":\"alice\",\"password\":\"...\"}");
	assert_int_equal(dashboard_parse_login(L("{\"name\":\"alice\"}"), a,
	    &lr, &error), -1);
	assert_string_equal(error, "\"password\" is missing: send "
	    "{\"name\":\"alice\",\"password\":\"...\"}");
	assert_int_equal(dashboard_parse_login(L("{\"name\":\"al ice\","
	    "\"password\":\"x\"}"), a, &lr, &error), -1);
	assert_string_equal(error, "\"name\" must be 1 to 64 letters, digits, "
	    "'.', '_', '@' or '-', starting with a letter or digit");
	assert_int_equal(dashboard_parse_login(L("{\"name\":\"alice\","
	    "\"password\":\"x\",\"remember\":true}"), a, &lr, &error), -1);
	assert_string_equal(error, "unknown member \"remember\" in the request "
	    "body (expected name, password)");
	assert_int_equal(dashboard_parse_login(L("{\"name\":\"alice\","
	    "\"password\":5}"), a, &lr, &error), -1);
	assert_string_equal(error, "\"password\" must be a string");
	assert_int_equal(dashboard_parse_login(L("{\"name\":\"alice\","
	    "\"password\":\"a\\u0007b\"}"), a, &lr, &error), -1);
	assert_string_equal(error, "\"password\" contains control characters");
	(void)snprintf(big, sizeof(big), "{\"name\":\"a\",\"password\":\"%01100d\"}",
	    0);
	assert_int_equal(dashboard_parse_login(big, strlen(big), a, &lr,
	    &error), -1);
	assert_string_equal(error, "\"password\" is longer than 1024 bytes");
	assert_int_equal(dashboard_parse_login(L("{\"name\":\"alice\","
	    "\"password\":\"x\"}"), a, &lr, &error), 0);
	assert_string_equal(lr.name, "alice");
	assert_int_equal(lr.password_len, 1);
	/* new passwords: at least 10 bytes */
	assert_int_equal(dashboard_parse_admin(L("{\"name\":\"bob\","
	    "\"password\":\"short\"}"), a, &ar, &error), -1);
	assert_string_equal(error, "\"password\" is shorter than 10 bytes: "
	    "choose a longer one");
	assert_int_equal(dashboard_parse_admin(L("{\"name\":\"bob@example.com\","
	    "\"password\":\"long enough\"}"), a, &ar, &error), 0);
	assert_string_equal(ar.name, "bob@example.com");
	/* language */
	assert_int_equal(dashboard_parse_language(L("{\"language\":\"fr\"}"),
	    a, &lang, &error), -1);
	assert_string_equal(error, "\"language\" must be \"ja\", \"en\" or \"\" "
	    "(follow the browser)");
	assert_int_equal(dashboard_parse_language(L("{}"), a, &lang, &error),
	    -1);
	assert_int_equal(dashboard_parse_language(L("{\"language\":\"ja\"}"),
	    a, &lang, &error), 0);
	assert_string_equal(lang, "ja");
	assert_int_equal(dashboard_parse_language(L("{\"language\":\"\"}"), a,
	    &lang, &error), 0);
	assert_string_equal(lang, "");
	mw_arena_free(&a);
}

static void
test_admin_name(void **state)
{
	char	 n65[66];

	(void)state;
	assert_true(dashboard_admin_name_ok("a"));
	assert_true(dashboard_admin_name_ok("ops-team_1.x@example.com"));
	assert_false(dashboard_admin_name_ok(""));
	assert_false(dashboard_admin_name_ok("-rf"));
	assert_false(dashboard_admin_name_ok(".hidden"));
	assert_false(dashboard_admin_name_ok("a b"));
	assert_false(dashboard_admin_name_ok("a/b"));
	assert_false(dashboard_admin_name_ok("caf\xc3\xa9"));
	memset(n65, 'a', 65);
	n65[65] = '\0';
	assert_false(dashboard_admin_name_ok(n65));
	n65[64] = '\0';
	assert_true(dashboard_admin_name_ok(n65));
}

static void
test_queries(void **state)
{
	struct mw_arena			*a = mw_arena_new(1024);
	struct dashboard_stats_query	 sq;
	struct store_audit_query	 aq;
	struct dashboard_stream_filter	 f;
	struct store_event		 ev = { .listener = "policy",
	    .verdict = "REJECT" };
	const char			*error;

	(void)state;
	assert_int_equal(dashboard_parse_stats_query(NULL, a, &sq, &error), 0);
	assert_int_equal(sq.range, DASHBOARD_RANGE_1H);
	assert_int_equal(sq.span_ms / sq.bucket_ms, 60);
	assert_int_equal(sq.top, 10);
	assert_int_equal(dashboard_parse_stats_query("range=24h&top=5", a, &sq,
	    &error), 0);
	assert_int_equal(sq.span_ms / sq.bucket_ms, 96);
	assert_int_equal(sq.top, 5);
	assert_int_equal(dashboard_parse_stats_query("top=3&range=7d", a, &sq,
	    &error), 0);
	assert_int_equal(sq.span_ms / sq.bucket_ms, 168);
	assert_int_equal(sq.top, 3);
	assert_int_equal(dashboard_parse_stats_query("range=2d", a, &sq,
	    &error), -1);
	assert_string_equal(error, "range: \"2d\" is not a range (expected 1h, "
	    "24h or 7d)");
	assert_int_equal(dashboard_parse_stats_query("top=0", a, &sq, &error),
	    -1);
	assert_string_equal(error, "top: expected a number from 1 to 100");
	assert_int_equal(dashboard_parse_stats_query("top=101", a, &sq,
	    &error), -1);
	assert_int_equal(dashboard_parse_stats_query("range=1h&range=1h", a,
	    &sq, &error), -1);
	assert_string_equal(error, "query parameter \"range\" is given twice: "
	    "give it once");
	assert_int_equal(dashboard_parse_stats_query("since=1", a, &sq,
	    &error), -1);
	assert_string_equal(error, "unknown query parameter \"since\" "
	    "(expected range, top)");

	assert_int_equal(dashboard_parse_audit_query(NULL, a, &aq, &error), 0);
	assert_int_equal(aq.limit, 100);
	assert_null(aq.actor);
	assert_int_equal(dashboard_parse_audit_query("since=10&until=20&"
	    "actor=uid%200&limit=5", a, &aq, &error), 0);
	assert_int_equal(aq.since_ms, 10000);
	assert_int_equal(aq.until_ms, 20999);
	assert_string_equal(aq.actor, "uid 0");
	assert_int_equal(aq.limit, 5);
	assert_int_equal(dashboard_parse_audit_query("since=20&until=10", a,
	    &aq, &error), -1);
	assert_string_equal(error, "until is before since: swap them");
	assert_int_equal(dashboard_parse_audit_query("limit=0", a, &aq,
	    &error), -1);
	assert_string_equal(error, "limit: expected a number from 1 to 10000");
	assert_int_equal(dashboard_parse_audit_query("since=-1", a, &aq,
	    &error), -1);
	assert_string_equal(error, "since: \"-1\" is not a time in unix seconds "
	    "(such as 1763900000)");
	assert_int_equal(dashboard_parse_audit_query("actor=", a, &aq,
	    &error), -1);

	assert_int_equal(dashboard_parse_stream_query(NULL, a, &f, &error), 0);
	assert_true(dashboard_stream_match(&f, &ev));
	assert_int_equal(dashboard_parse_stream_query("verdict=BAN", a, &f,
	    &error), 0);
	assert_false(dashboard_stream_match(&f, &ev));
	assert_int_equal(dashboard_parse_stream_query("verdict=REJECT&"
	    "listener=policy&address=203.0.113.9", a, &f, &error), 0);
	assert_false(dashboard_stream_match(&f, &ev));	/* address differs */
	assert_int_equal(mw_addr_parse("203.0.113.9", &ev.addr), 0);
	assert_true(dashboard_stream_match(&f, &ev));
	assert_int_equal(dashboard_parse_stream_query("address=x", a, &f,
	    &error), -1);
	assert_string_equal(error, "address: \"x\" is not an IPv4 or IPv6 "
	    "address");
	assert_int_equal(dashboard_parse_stream_query("verdict=a%0Ab", a, &f,
	    &error), -1);
	assert_string_equal(error, "verdict: expected a name such as REJECT");
	assert_int_equal(dashboard_parse_stream_query("listener=", a, &f,
	    &error), -1);
	mw_arena_free(&a);
}

static void
test_content_type(void **state)
{
	(void)state;
	assert_string_equal(dashboard_content_type("index.html"),
	    "text/html; charset=utf-8");
	assert_string_equal(dashboard_content_type("assets/app.js"),
	    "text/javascript; charset=utf-8");
	assert_string_equal(dashboard_content_type("a.css"),
	    "text/css; charset=utf-8");
	assert_string_equal(dashboard_content_type("f.svg"), "image/svg+xml");
	assert_string_equal(dashboard_content_type("f.woff2"), "font/woff2");
	assert_string_equal(dashboard_content_type("js"),
	    "application/octet-stream");
	assert_string_equal(dashboard_content_type("a.html.bak"),
	    "application/octet-stream");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_normalize),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_session_id),
		cmocka_unit_test(test_origin),
		cmocka_unit_test(test_login_body),
		cmocka_unit_test(test_admin_name),
		cmocka_unit_test(test_queries),
		cmocka_unit_test(test_content_type),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
