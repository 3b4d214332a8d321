/*
 * test_listen_admin_parse - the admin API's request validation
 * (admin_parse.c): bodies and query strings, malformed first, exact
 * error texts (they are what the CLI and dashboard show the admin).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "listen/admin.h"

#define EX "{\"address\":\"203.0.113.9\",\"duration\":\"1h\",\"reason\":\"spam\"}"
#define LEX "{\"network\":\"192.0.2.0/24\",\"comment\":\"office\"}"

static const struct {
	const char	*in;
	const char	*want_error;
} ban_bad[] = {
	{ "", "the request body is empty: send a JSON object such as " EX },
	{ " \r\n\t", "the request body is empty: send a JSON object such as " EX },
	{ "{", "the request body is not valid JSON (line 1, column 1: string or "
	    "'}' expected near end of file): send an object such as " EX },
	{ "[\"203.0.113.9\"]", "the request body must be a JSON object such "
	    "as " EX },
	{ "\"203.0.113.9\"", "the request body must be a JSON object such "
	    "as " EX },
	{ "{}", "\"address\" is missing: send " EX },
	{ "{\"reason\":\"x\"}", "\"address\" is missing: send " EX },
	{ "{\"adress\":\"203.0.113.9\"}", "unknown member \"adress\" in the "
	    "request body (expected address, duration, reason)" },
	{ "{\"address\":\"1.2.3.4\",\"address\":\"1.2.3.5\"}", "the request body "
	    "has a member twice (line 1, column 30): give each member once" },
	{ "{\"address\":42}", "\"address\" must be a string" },
	{ "{\"address\":\"\"}", "\"address\" is empty" },
	{ "{\"address\":\"garbage\"}", "\"address\": \"garbage\" is not an IPv4 "
	    "or IPv6 address or network" },
	{ "{\"address\":\"10.0.0.1/8\"}", "\"address\": \"10.0.0.1/8\" has host "
	    "bits set; did you mean \"10.0.0.0/8\"?" },
	{ "{\"address\":\"10.0.0.0/33\"}", "\"address\": \"10.0.0.0/33\": prefix "
	    "length must be a number from 0 to 32 for IPv4" },
	{ "{\"address\":\"1.2.3.4\",\"duration\":\"5x\"}", "\"duration\": \"5x\" "
	    "is not a duration: use a number with a unit such as \"90s\", "
	    "\"15m\", \"2h\", \"7d\", \"1w\" (at most 10 years), or "
	    "\"permanent\"" },
	{ "{\"address\":\"1.2.3.4\",\"duration\":\"0\"}", "\"duration\": \"0\" "
	    "is not a duration: use a number with a unit such as \"90s\", "
	    "\"15m\", \"2h\", \"7d\", \"1w\" (at most 10 years), or "
	    "\"permanent\"" },
	{ "{\"address\":\"1.2.3.4\",\"duration\":\"99999w\"}", "\"duration\": "
	    "\"99999w\" is not a duration: use a number with a unit such as "
	    "\"90s\", \"15m\", \"2h\", \"7d\", \"1w\" (at most 10 years), or "
	    "\"permanent\"" },
	{ "{\"address\":\"1.2.3.4\",\"duration\":0}", "\"duration\" in seconds "
	    "must be from 1 to 315360000 (10 years); use \"permanent\" for a "
	    "ban that does not expire" },
	{ "{\"address\":\"1.2.3.4\",\"duration\":-5}", "\"duration\" in seconds "
	    "must be from 1 to 315360000 (10 years); use \"permanent\" for a "
	    "ban that does not expire" },
	{ "{\"address\":\"1.2.3.4\",\"duration\":1.5}", "\"duration\" must be a "
	    "string such as \"90s\", \"15m\", \"2h\", \"7d\", \"1w\" or "
	    "\"permanent\"" },
	{ "{\"address\":\"1.2.3.4\",\"reason\":\"a\\nb\"}", "\"reason\" contains "
	    "control characters: use printable text on one line" },
	{ "{\"address\":\"1.2.3.4\",\"reason\":\"a\\u001bb\"}", "\"reason\" "
	    "contains control characters: use printable text on one line" },
	{ "{\"address\":\"1.2.3.4\",\"reason\":null}", "\"reason\" must be a "
	    "string" },
	{ "{\"a\\u0001b\":1}", "unknown member \"a?b\" in the request body "
	    "(expected address, duration, reason)" },
};

static const struct {
	const char	*in;
	const char	*want_net;
	uint64_t	 want_duration;
	bool		 want_has_duration;
	const char	*want_reason;
} ban_good[] = {
	{ "{\"address\":\"203.0.113.9\"}", "203.0.113.9", 0, false,
	    "manual" },
	{ EX, "203.0.113.9", 3600, true, "spam" },
	{ "{\"address\":\"2001:DB8:0::/32\",\"duration\":\"permanent\","
	    "\"reason\":\"\"}", "2001:db8::/32", 0, true, "manual" },
	{ "{\"address\":\"198.51.100.0/24\",\"duration\":90}",
	    "198.51.100.0/24", 90, true, "manual" },
	{ "{\"address\":\"1.2.3.4\",\"duration\":\"1h30m\",\"reason\":"
	    "\"\xe6\x97\xa5\xe6\x9c\xac\"}", "1.2.3.4", 5400, true,
	    "\xe6\x97\xa5\xe6\x9c\xac" },
};

static void
test_ban_body(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(ban_bad); i++) {
		struct mw_arena		*a = mw_arena_new(1024);
		struct admin_ban_req	 r;
		const char		*error = NULL;
		int			 ret;

		ret = admin_parse_ban_body(ban_bad[i].in, strlen(ban_bad[i].in),
		    a, &r, &error);
		if (ret != -1 || error == NULL ||
		    strcmp(error, ban_bad[i].want_error) != 0)
			fail_msg("case %zu %s: got %d \"%s\"", i, ban_bad[i].in,
			    ret, error ? error : "");
		mw_arena_free(&a);
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(ban_good); i++) {
		struct mw_arena		*a = mw_arena_new(1024);
		struct admin_ban_req	 r;
		const char		*error = NULL;
		char			 net[MW_CIDR_STRLEN];

		if (admin_parse_ban_body(ban_good[i].in, strlen(ban_good[i].in),
		    a, &r, &error) != 0)
			fail_msg("case %zu %s: %s", i, ban_good[i].in, error);
		assert_string_equal(mw_cidr_format(&r.net, net, sizeof(net)),
		    ban_good[i].want_net);
		assert_int_equal(r.has_duration, ban_good[i].want_has_duration);
		assert_int_equal(r.duration, ban_good[i].want_duration);
		assert_string_equal(r.reason, ban_good[i].want_reason);
		mw_arena_free(&a);
	}
}

static void
test_ban_body_limits(void **state)
{
	struct mw_arena		*a = mw_arena_new(1024);
	struct admin_ban_req	 r;
	const char		*error = NULL;
	char			 body[1024], reason[600];

	(void)state;
	memset(reason, 'x', 513);
	reason[513] = '\0';
	snprintf(body, sizeof(body), "{\"address\":\"1.2.3.4\",\"reason\":\"%s\"}",
	    reason);
	assert_int_equal(admin_parse_ban_body(body, strlen(body), a, &r, &error),
	    -1);
	assert_string_equal(error, "\"reason\" is longer than 512 bytes: "
	    "shorten it");
	reason[512] = '\0';	/* exactly the limit */
	snprintf(body, sizeof(body), "{\"address\":\"1.2.3.4\",\"reason\":\"%s\"}",
	    reason);
	assert_int_equal(admin_parse_ban_body(body, strlen(body), a, &r, &error),
	    0);
	assert_int_equal(strlen(r.reason), 512);
	/* not NUL-terminated input: only len bytes are read */
	assert_int_equal(admin_parse_ban_body("{\"address\":\"1.2.3.4\"}XYZ", 21,
	    a, &r, &error), 0);
	/* a NUL inside a string */
	assert_int_equal(admin_parse_ban_body("{\"address\":\"1.2.3.4\\u0000\"}",
	    27, a, &r, &error), -1);
	mw_arena_free(&a);
}

static const struct {
	const char	*in;
	const char	*want_error;
	const char	*want_net, *want_comment;
} list_cases[] = {	/* want_error NULL: accepted */
	{ "", "the request body is empty: send a JSON object such as " LEX, NULL, NULL },
	{ "{}", "\"network\" is missing: send " LEX, NULL, NULL },
	{ "{\"network\":\"192.0.2.1/24\"}", "\"network\": \"192.0.2.1/24\" has "
	    "host bits set; did you mean \"192.0.2.0/24\"?", NULL, NULL },
	{ "{\"network\":\"192.0.2.0/24\",\"comment\":7}", "\"comment\" must be "
	    "a string", NULL, NULL },
	{ "{\"network\":\"192.0.2.0/24\",\"address\":\"x\"}", "unknown member "
	    "\"address\" in the request body (expected network, comment)", NULL, NULL },
	{ LEX, NULL, "192.0.2.0/24", "office" },
	{ "{\"network\":\"::ffff:192.0.2.1\"}", NULL, "192.0.2.1", "" },
};

static void
test_list_body(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(list_cases); i++) {
		struct mw_arena		*a = mw_arena_new(1024);
		struct admin_list_req	 r;
		const char		*error = NULL;
		char			 net[MW_CIDR_STRLEN];
		int			 ret;

		ret = admin_parse_list_body(list_cases[i].in,
		    strlen(list_cases[i].in), a, &r, &error);
		if (list_cases[i].want_error != NULL) {
			assert_int_equal(ret, -1);
			assert_string_equal(error, list_cases[i].want_error);
		} else {
			assert_int_equal(ret, 0);
			assert_string_equal(mw_cidr_format(&r.net, net,
			    sizeof(net)), list_cases[i].want_net);
			assert_string_equal(r.comment, list_cases[i].want_comment);
		}
		mw_arena_free(&a);
	}
}

static void
test_empty_body(void **state)
{
	struct mw_arena	*a = mw_arena_new(1024);
	const char	*error = NULL;

	(void)state;
	assert_int_equal(admin_parse_empty_body("{\"force\":true}", 14, a,
	    &error), -1);
	assert_string_equal(error, "unknown member \"force\" in the request "
	    "body (expected no members)");
	assert_int_equal(admin_parse_empty_body("[]", 2, a, &error), -1);
	assert_string_equal(error, "the request body must be a JSON object "
	    "such as {}");
	assert_int_equal(admin_parse_empty_body("", 0, a, &error), 0);
	assert_int_equal(admin_parse_empty_body(" {} ", 4, a, &error), 0);
	mw_arena_free(&a);
}

static void
test_bans_query(void **state)
{
	static const struct { const char *q, *want_error; } bad[] = {
		{ "source=foo", "source: \"foo\" is not a ban source (expected "
		    "manual, dnsbl, login or logwatch)" },
		{ "limit=0", "limit: \"0\" is not a number from 1 to 100000" },
		{ "limit=100001", "limit: \"100001\" is not a number from 1 to "
		    "100000" },
		{ "limit=-1", "limit: \"-1\" is not a number from 1 to 100000" },
		{ "offset=x", "offset: \"x\" is not a number from 0 to "
		    "9223372036854775807" },
		{ "limit=1&limit=2", "query parameter \"limit\" is given twice: "
		    "give it once" },
		{ "sauce=manual", "unknown query parameter \"sauce\" (expected "
		    "source, limit, offset)" },
		{ "source", "the query string \"source\" is not name=value pairs "
		    "joined by &" },
	};
	struct mw_arena		*a = mw_arena_new(1024);
	struct admin_bans_query	 q;
	const char		*error;

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(bad); i++) {
		error = NULL;
		if (admin_parse_bans_query(bad[i].q, a, &q, &error) != -1 ||
		    error == NULL || strcmp(error, bad[i].want_error) != 0)
			fail_msg("%s: got \"%s\"", bad[i].q, error ? error : "");
	}
	assert_int_equal(admin_parse_bans_query(NULL, a, &q, &error), 0);
	assert_false(q.has_source);
	assert_int_equal(q.limit, ADMIN_BANS_LIMIT);
	assert_int_equal(q.offset, 0);
	assert_int_equal(admin_parse_bans_query("source=dnsbl&limit=5&offset=10",
	    a, &q, &error), 0);
	assert_true(q.has_source);
	assert_int_equal(q.source, STORE_BAN_DNSBL);
	assert_int_equal(q.limit, 5);
	assert_int_equal(q.offset, 10);
	mw_arena_free(&a);
}

static void
test_net_query(void **state)
{
	struct mw_arena	*a = mw_arena_new(1024);
	struct mw_cidr	 net;
	const char	*error;
	char		 text[MW_CIDR_STRLEN];

	(void)state;
	assert_int_equal(admin_parse_net_query(NULL, "address", true, a, &net,
	    &error), -1);
	assert_string_equal(error, "query parameter \"address\" is missing: add "
	    "?address=203.0.113.9");
	assert_int_equal(admin_parse_net_query("network=", "network", false, a,
	    &net, &error), -1);
	assert_string_equal(error, "network is empty: give an address or "
	    "network");
	assert_int_equal(admin_parse_net_query("address=1.2.3.0/24", "address",
	    true, a, &net, &error), -1);
	assert_string_equal(error, "address: \"1.2.3.0/24\" is not an IPv4 or "
	    "IPv6 address");
	assert_int_equal(admin_parse_net_query("address=1.2.3.4&x=1", "address",
	    true, a, &net, &error), -1);
	assert_string_equal(error, "unknown query parameter \"x\" (expected "
	    "address)");
	assert_int_equal(admin_parse_net_query("network=10.0.0.1%2F8", "network",
	    false, a, &net, &error), -1);
	assert_string_equal(error, "network: \"10.0.0.1/8\" has host bits set; "
	    "did you mean \"10.0.0.0/8\"?");
	/* percent-encoded IPv6 from curl_easy_escape */
	assert_int_equal(admin_parse_net_query("address=2001%3Adb8%3A%3A5",
	    "address", true, a, &net, &error), 0);
	assert_string_equal(mw_cidr_format(&net, text, sizeof(text)),
	    "2001:db8::5");
	assert_int_equal(admin_parse_net_query("network=198.51.100.0%2F24",
	    "network", false, a, &net, &error), 0);
	assert_string_equal(mw_cidr_format(&net, text, sizeof(text)),
	    "198.51.100.0/24");
	mw_arena_free(&a);
}

static void
test_events_query(void **state)
{
	struct mw_arena		*a = mw_arena_new(1024);
	struct store_event_query q;
	const char		*error;

	(void)state;
	assert_int_equal(admin_parse_events_query("since=yesterday", a, &q,
	    &error), -1);
	assert_string_equal(error, "since: \"yesterday\" is not a time in unix "
	    "seconds (such as 1763900000)");
	assert_int_equal(admin_parse_events_query("until=5&since=10", a, &q,
	    &error), -1);
	assert_string_equal(error, "until is before since: swap them");
	assert_int_equal(admin_parse_events_query("limit=10001", a, &q,
	    &error), -1);
	assert_string_equal(error, "limit: \"10001\" is not a number from 1 to "
	    "10000");
	assert_int_equal(admin_parse_events_query("address=1.2.3.0/24", a, &q,
	    &error), -1);
	assert_string_equal(error, "address: \"1.2.3.0/24\" is not an IPv4 or "
	    "IPv6 address");
	assert_int_equal(admin_parse_events_query(NULL, a, &q, &error), 0);
	assert_int_equal(q.limit, ADMIN_EVENTS_LIMIT);
	assert_int_equal(q.since_ms, 0);
	assert_int_equal(q.until_ms, 0);
	assert_false(q.has_addr);
	assert_int_equal(admin_parse_events_query("since=1763900000&until="
	    "1763900010&address=203.0.113.9&limit=7", a, &q, &error), 0);
	assert_int_equal(q.since_ms, 1763900000000LL);
	assert_int_equal(q.until_ms, 1763900010999LL);
	assert_true(q.has_addr);
	assert_int_equal(q.limit, 7);
	mw_arena_free(&a);
}

static void
test_ban_json(void **state)
{
	struct store_ban	 b = { .source = STORE_BAN_LOGIN,
	    .reason = "bad \xff bytes", .first_seen = 10, .last_seen = 20,
	    .expires = 0, .hits = 3, .count = 2 };
	struct mw_arena		*a = mw_arena_new(1024);
	const char		*error;
	json_t			*o;
	char			*text;

	(void)state;
	assert_int_equal(mw_cidr_parse("198.51.100.0/24", &b.net, a, &error), 0);
	o = admin_ban_json(&b);
	assert_non_null(o);
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(text, "{\"address\":\"198.51.100.0/24\",\"source\":"
	    "\"login\",\"reason\":\"bad ? bytes\",\"first_seen\":10,"
	    "\"last_seen\":20,\"expires\":null,\"hits\":3,\"count\":2}");
	free(text);
	json_decref(o);
	mw_arena_free(&a);
}

/* Login guard (issue 3): malformed first. */
static void
test_login_parse(void **state)
{
	struct mw_arena		*a = mw_arena_new(1024);
	struct store_alert_query aq;
	const char		*error = NULL, *account;
	size_t			 limit;
	int64_t			 id;
	char			 longname[300 * 3 + 1];
	static const struct { const char *tail; const char *want; } bad[] = {
		{ "", "the account name is missing: use /api/v1/accounts/NAME "
		  "(percent-encoded)" },
		{ "a/b", "the account name contains \"/\": percent-encode it as "
		  "%2F" },
		{ "a%00b", "the account name must be 1 to 256 bytes of printable "
		  "text" },
		{ "%1b[31m", "the account name must be 1 to 256 bytes of "
		  "printable text" },
	};

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(bad); i++) {
		assert_int_equal(admin_parse_account_path(bad[i].tail, a,
		    &account, &error), -1);
		assert_string_equal(error, bad[i].want);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(admin_parse_account_path(longname, a, &account,
	    &error), -1);
	longname[257] = '\0';
	assert_int_equal(admin_parse_account_path(longname, a, &account,
	    &error), -1);
	longname[256] = '\0';
	assert_int_equal(admin_parse_account_path(longname, a, &account,
	    &error), 0);
	assert_int_equal(admin_parse_account_path("alice%40example.org", a,
	    &account, &error), 0);
	assert_string_equal(account, "alice@example.org");
	/* A stray % stays literal (evhttp_uridecode). */
	assert_int_equal(admin_parse_account_path("100%zz", a, &account,
	    &error), 0);
	assert_string_equal(account, "100%zz");

	assert_int_equal(admin_parse_alert_ack_path("12", a, &id, &error), -1);
	assert_string_equal(error, "use POST /api/v1/alerts/ID/ack to "
	    "acknowledge an alert");
	assert_int_equal(admin_parse_alert_ack_path("12/ack/x", a, &id, &error),
	    -1);
	assert_int_equal(admin_parse_alert_ack_path("0/ack", a, &id, &error), -1);
	assert_int_equal(admin_parse_alert_ack_path("-1/ack", a, &id, &error), -1);
	assert_int_equal(admin_parse_alert_ack_path("99999999999999999999/ack",
	    a, &id, &error), -1);
	assert_string_equal(error, "alert id \"99999999999999999999\" is not a "
	    "number from 1 (mailward alerts --all lists the ids)");
	assert_int_equal(admin_parse_alert_ack_path("/ack", a, &id, &error), -1);
	assert_int_equal(admin_parse_alert_ack_path("42/ack", a, &id, &error), 0);
	assert_int_equal(id, 42);

	assert_int_equal(admin_parse_alerts_query("all=2", a, &aq, &error), -1);
	assert_string_equal(error, "all: \"2\" is not 0 or 1");
	assert_int_equal(admin_parse_alerts_query("all=1&all=1", a, &aq, &error),
	    -1);
	assert_int_equal(admin_parse_alerts_query("limit=0", a, &aq, &error), -1);
	assert_int_equal(admin_parse_alerts_query("since=1", a, &aq, &error), -1);
	assert_string_equal(error, "unknown query parameter \"since\" (expected "
	    "all, limit)");
	assert_int_equal(admin_parse_alerts_query(NULL, a, &aq, &error), 0);
	assert_false(aq.all);
	assert_int_equal(aq.limit, 100);
	assert_int_equal(admin_parse_alerts_query("all=1&limit=7", a, &aq,
	    &error), 0);
	assert_true(aq.all);
	assert_int_equal(aq.limit, 7);

	assert_int_equal(admin_parse_accounts_query("limit=10001", a, &limit,
	    &error), -1);
	assert_string_equal(error, "limit: \"10001\" is not a number from 1 to "
	    "10000");
	assert_int_equal(admin_parse_accounts_query("all=1", a, &limit, &error),
	    -1);
	assert_int_equal(admin_parse_accounts_query("", a, &limit, &error), 0);
	assert_int_equal(limit, 100);
	mw_arena_free(&a);
}

static void
test_alert_json(void **state)
{
	struct store_alert	 al = { .id = 3, .time = 100, .account = "bob",
	    .kind = "new_network", .reason = "r",
	    .evidence = "{\"window\":600}", .ack_by = "", .ack_at = 0 };
	json_t			*o;
	char			*text;

	(void)state;
	assert_int_equal(mw_addr_parse("2001:db8::1", &al.addr), 0);
	o = admin_alert_json(&al);
	text = json_dumps(o, JSON_COMPACT);
	assert_string_equal(text, "{\"id\":3,\"time\":100,\"account\":\"bob\","
	    "\"address\":\"2001:db8::1\",\"kind\":\"new_network\",\"reason\":"
	    "\"r\",\"evidence\":{\"window\":600},\"acknowledged_by\":null,"
	    "\"acknowledged_at\":null}");
	free(text);
	json_decref(o);
	/* A store edited by hand: the evidence is an empty object. */
	al.evidence = "not json";
	al.ack_by = "uid 0";
	al.ack_at = 200;
	o = admin_alert_json(&al);
	text = json_dumps(o, JSON_COMPACT);
	assert_non_null(strstr(text, "\"evidence\":{},\"acknowledged_by\":"
	    "\"uid 0\",\"acknowledged_at\":200}"));
	free(text);
	json_decref(o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ban_body),
		cmocka_unit_test(test_ban_body_limits),
		cmocka_unit_test(test_list_body),
		cmocka_unit_test(test_empty_body),
		cmocka_unit_test(test_bans_query),
		cmocka_unit_test(test_net_query),
		cmocka_unit_test(test_events_query),
		cmocka_unit_test(test_ban_json),
		cmocka_unit_test(test_login_parse),
		cmocka_unit_test(test_alert_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
