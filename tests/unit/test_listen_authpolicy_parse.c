/*
 * test_listen_authpolicy_parse - Dovecot auth policy requests
 * (authpolicy_parse.c): query strings and bodies, malformed first, exact
 * error texts (they are what the admin reads in the log and in Dovecot's
 * "Policy server HTTP error"), the pwhash decoding against the test vector
 * of protocols.md 2.3, the API key comparison and the answers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "listen/authpolicy_parse.h"

/* What Dovecot 2.3.19 sends with the default attributes (protocols.md
   2.2): keys sorted, values strings, then "tls". */
#define ALLOW_BODY "{\"device_id\":\"\",\"login\":\"alice@example.org\"," \
	"\"protocol\":\"imap\",\"pwhash\":\"010d\",\"remote\":\"127.0.0.1\"," \
	"\"session_id\":\"ubOCauxgzLp/AAAB\",\"tls\":false}"
#define REPORT_BODY "{\"device_id\":\"\",\"login\":\"alice@example.org\"," \
	"\"protocol\":\"imap\",\"pwhash\":\"0d0c\",\"remote\":\"2001:db8::7\"," \
	"\"session_id\":\"ubOCauxgzLp/AAAB\",\"success\":false," \
	"\"policy_reject\":false,\"tls\":true}"

static const struct {
	const char	*query;
	const char	*want_error;
} query_bad[] = {
	{ NULL, "the URL has no ?command=: auth_policy_server_url must not end "
	    "with '?' or '&' twice, Dovecot appends ?command=allow or "
	    "?command=report" },
	{ "", "the URL has no ?command=: auth_policy_server_url must not end "
	    "with '?' or '&' twice, Dovecot appends ?command=allow or "
	    "?command=report" },
	{ "cmd=allow", "the query string has no command=allow or "
	    "command=report" },
	{ "command=deny", "unknown command \"deny\" (expected allow or "
	    "report)" },
	{ "command=", "unknown command \"\" (expected allow or report)" },
	{ "command=allow&command=report", "the query string has command= "
	    "twice: remove it from auth_policy_server_url (Dovecot adds it)" },
	{ "command=ALLOW", "unknown command \"ALLOW\" (expected allow or "
	    "report)" },
	{ "command=all\001ow", "unknown command \"all?ow\" (expected allow or "
	    "report)" },
};

static const struct {
	const char		*query;
	enum authpolicy_cmd	 want;
} query_good[] = {
	{ "command=allow", AUTHPOLICY_CMD_ALLOW },
	{ "command=report", AUTHPOLICY_CMD_REPORT },
	/* auth_policy_server_url = http://h/p?site=a& keeps its own */
	{ "site=a&command=report", AUTHPOLICY_CMD_REPORT },
	{ "command=allow&&x", AUTHPOLICY_CMD_ALLOW },
};

static void
test_query(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(query_bad); i++) {
		struct mw_arena		*a = mw_arena_new(1024);
		enum authpolicy_cmd	 cmd;
		const char		*error = NULL;

		assert_int_equal(authpolicy_parse_query(query_bad[i].query, &cmd,
		    a, &error), -1);
		assert_string_equal(error, query_bad[i].want_error);
		mw_arena_free(&a);
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(query_good); i++) {
		struct mw_arena		*a = mw_arena_new(1024);
		enum authpolicy_cmd	 cmd = (enum authpolicy_cmd)99;
		const char		*error = NULL;

		assert_int_equal(authpolicy_parse_query(query_good[i].query,
		    &cmd, a, &error), 0);
		assert_int_equal(cmd, query_good[i].want);
		mw_arena_free(&a);
	}
}

static void
test_query_long(void **state)
{
	struct mw_arena		*a = mw_arena_new(1024);
	enum authpolicy_cmd	 cmd;
	const char		*error = NULL;
	char			 q[AUTHPOLICY_MAX_QUERY + 20];

	(void)state;
	memset(q, 'x', sizeof(q) - 1);
	q[sizeof(q) - 1] = '\0';
	memcpy(q, "command=allow&", 14);
	assert_int_equal(authpolicy_parse_query(q, &cmd, a, &error), -1);
	assert_string_equal(error, "the query string is longer than 512 bytes");
	mw_arena_free(&a);
}

#define R(rest)	"{\"login\":\"a\",\"remote\":\"192.0.2.1\"" rest "}"

static const struct {
	const char		*body;
	enum authpolicy_cmd	 cmd;
	uint32_t		 truncate;
	const char		*want_error;
} body_bad[] = {
	{ "", AUTHPOLICY_CMD_ALLOW, 12, "the request body is empty (expected "
	    "a JSON object)" },
	{ "login=alice remote=1.2.3.4", AUTHPOLICY_CMD_ALLOW, 12, "the request "
	    "body is not valid JSON (byte 1: lexical error: invalid char in "
	    "json text)" },
	{ "{\"login\":\"a\"", AUTHPOLICY_CMD_ALLOW, 12, "the request body is not "
	    "valid JSON (byte 12: parse error: premature EOF)" },
	{ R(" x"), AUTHPOLICY_CMD_ALLOW, 12, "the request body is not valid JSON "
	    "(byte 35: lexical error: invalid char in json text)" },
	{ R(","), AUTHPOLICY_CMD_ALLOW, 12, "the request body is not valid JSON "
	    "(byte 35: parse error: invalid object key (must be a string))" },
	{ "{\"login\":\"a\",\"remote\":\"192.0.2.1\"}{}", AUTHPOLICY_CMD_ALLOW,
	    12, "the request body is not valid JSON (byte 35: parse error: "
	    "trailing garbage)" },
	{ "[\"a\"]", AUTHPOLICY_CMD_ALLOW, 12, "the request body is not a JSON "
	    "object" },
	{ "\"a\"", AUTHPOLICY_CMD_ALLOW, 12, "the request body is not a JSON "
	    "object" },
	{ "17", AUTHPOLICY_CMD_ALLOW, 12, "the request body is not a JSON "
	    "object" },
	{ "{\"login\":\"a\"}", AUTHPOLICY_CMD_ALLOW, 12, "\"remote\" is missing: "
	    "add remote=%{rip} to auth_policy_request_attributes" },
	{ "{\"remote\":\"192.0.2.1\"}", AUTHPOLICY_CMD_ALLOW, 12, "\"login\" is "
	    "missing: add login=%{requested_username} to "
	    "auth_policy_request_attributes" },
	{ "{\"login\":\"a\",\"remote\":17}", AUTHPOLICY_CMD_ALLOW, 12,
	    "\"remote\" must be a string" },
	{ "{\"login\":[\"a\"],\"remote\":\"192.0.2.1\"}", AUTHPOLICY_CMD_ALLOW, 12,
	    "\"login\" must be a string" },
	{ "{\"login\":\"a\",\"remote\":\"example.org\"}", AUTHPOLICY_CMD_ALLOW,
	    12, "\"remote\": \"example.org\" is not an IPv4 or IPv6 address" },
	{ "{\"login\":\"a\",\"remote\":\"192.0.2.300\"}", AUTHPOLICY_CMD_ALLOW,
	    12, "\"remote\": \"192.0.2.300\" is not an IPv4 or IPv6 address" },
	{ "{\"login\":\"a\",\"remote\":\"192.0.2.1/24\"}", AUTHPOLICY_CMD_ALLOW,
	    12, "\"remote\": \"192.0.2.1/24\" is not an IPv4 or IPv6 address" },
	{ "{\"login\":\"a\",\"remote\":\"1.2.3.4\\u0001\"}", AUTHPOLICY_CMD_ALLOW,
	    12, "\"remote\" contains control characters" },
	{ "{\"login\":\"a\\nb\",\"remote\":\"192.0.2.1\"}", AUTHPOLICY_CMD_ALLOW,
	    12, "\"login\" contains control characters" },
	{ "{\"login\":\"a\\u0000b\",\"remote\":\"192.0.2.1\"}",
	    AUTHPOLICY_CMD_ALLOW, 12, "\"login\" contains control characters" },
	{ "{\"login\":\"a\xff\",\"remote\":\"192.0.2.1\"}", AUTHPOLICY_CMD_ALLOW,
	    12, "the request body is not valid JSON (byte 12: lexical error: "
	    "invalid bytes in UTF8 string)" },
	/* what yajl lets through: an overlong '/', a lone low surrogate */
	{ "{\"login\":\"a\xc0\xaf\",\"remote\":\"192.0.2.1\"}", AUTHPOLICY_CMD_ALLOW,
	    12, "\"login\" is not valid UTF-8" },
	{ R(",\"session_id\":\"x\\udc00\""), AUTHPOLICY_CMD_ALLOW, 12,
	    "\"session_id\" is not valid UTF-8" },
	{ R(",\"device_id\":\"\xed\xa0\x80\""), AUTHPOLICY_CMD_ALLOW, 12,
	    "\"device_id\" is not valid UTF-8" },
	/* the last of a name given twice counts */
	{ "{\"login\":\"a\",\"remote\":\"192.0.2.1\",\"remote\":7}",
	    AUTHPOLICY_CMD_ALLOW, 12, "\"remote\" must be a string" },
	{ R(",\"pwhash\":\"0d0d\",\"pwhash\":\"zz\""), AUTHPOLICY_CMD_ALLOW, 12,
	    "\"pwhash\" has 2 hex digits, but [authpolicy] hash_truncate = 12 "
	    "means 4: set it to Dovecot's auth_policy_hash_truncate" },
	{ R(",\"protocol\":true"), AUTHPOLICY_CMD_ALLOW, 12, "\"protocol\" must "
	    "be a string" },
	{ R(",\"tls\":\"no\""), AUTHPOLICY_CMD_ALLOW, 12, "\"tls\" must be true "
	    "or false" },
	{ R(",\"success\":1"), AUTHPOLICY_CMD_REPORT, 12, "\"success\" must be "
	    "true or false" },
	{ R(",\"success\":true,\"policy_reject\":null"), AUTHPOLICY_CMD_REPORT,
	    12, "\"policy_reject\" must be true or false" },
	{ R(""), AUTHPOLICY_CMD_REPORT, 12, "command=report without "
	    "\"success\"" },
	{ R(",\"pwhash\":12"), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" must be a "
	    "string" },
	{ R(",\"pwhash\":\"010\""), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" has an "
	    "odd number of hex digits" },
	{ R(",\"pwhash\":\"01zd\""), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" is not "
	    "hexadecimal" },
	{ R(",\"pwhash\":\"0x0d\""), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" is not "
	    "hexadecimal" },
	{ R(",\"pwhash\":\"01 d\""), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" is not "
	    "hexadecimal" },
	{ R(",\"pwhash\":\"010d0d\""), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" has "
	    "6 hex digits, but [authpolicy] hash_truncate = 12 means 4: set it "
	    "to Dovecot's auth_policy_hash_truncate" },
	{ R(",\"pwhash\":\"0d\""), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" has 2 "
	    "hex digits, but [authpolicy] hash_truncate = 12 means 4: set it "
	    "to Dovecot's auth_policy_hash_truncate" },
	/* 16 bits from a Dovecot with auth_policy_hash_truncate = 16 */
	{ R(",\"pwhash\":\"f10d\""), AUTHPOLICY_CMD_ALLOW, 12, "\"pwhash\" has "
	    "more than 12 bits: set [authpolicy] hash_truncate to Dovecot's "
	    "auth_policy_hash_truncate" },
	{ R(",\"pwhash\":\"" "00112233445566778899aabbccddeeff"
	    "00112233445566778899aabbccddeeff" "00\""), AUTHPOLICY_CMD_ALLOW, 0,
	    "\"pwhash\" is longer than 64 hex digits (256 bits): use "
	    "auth_policy_hash_mech = sha256 or set auth_policy_hash_truncate" },
	{ R(",\"conn\":{\"a\":{\"b\":{\"c\":{\"d\":\"e\"}}}}"),
	    AUTHPOLICY_CMD_ALLOW, 12,
	    "objects nested deeper than 3 levels" },
	{ R(",\"x\":[[[[1]]]]"), AUTHPOLICY_CMD_ALLOW, 12,
	    "objects nested deeper than 3 levels" },
	{ R(""), AUTHPOLICY_CMD_ALLOW, 257, "hash_truncate is larger than 256 "
	    "bits" },
};

static void
test_body_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(body_bad); i++) {
		struct mw_arena		*a = mw_arena_new(1024);
		struct authpolicy_req	 req;
		const char		*error = NULL;

		print_message("row %zu: %s\n", i, body_bad[i].body);
		assert_int_equal(authpolicy_parse_body(body_bad[i].body,
		    strlen(body_bad[i].body), body_bad[i].cmd,
		    body_bad[i].truncate, a, &req, &error), -1);
		assert_string_equal(error, body_bad[i].want_error);
		/* a refused hash is never left behind */
		assert_int_equal(req.pwhash_bits, 0);
		assert_int_equal(req.pwhash[0] | req.pwhash[1], 0);
		mw_arena_free(&a);
	}
}

/* Bodies near and over the limits, built at run time. */
static void
test_body_limits(void **state)
{
	struct mw_arena		*a = mw_arena_new(1024);
	struct authpolicy_req	 req;
	const char		*error = NULL;
	char			*body = test_malloc(AUTHPOLICY_MAX_BODY + 100);
	size_t			 n;

	(void)state;
	/* a login of AUTHPOLICY_MAX_LOGIN bytes passes, one more does not */
	for (size_t extra = 0; extra < 2; extra++) {
		n = (size_t)snprintf(body, AUTHPOLICY_MAX_BODY, "{\"remote\":"
		    "\"192.0.2.1\",\"login\":\"");
		memset(body + n, 'u', AUTHPOLICY_MAX_LOGIN + extra);
		n += AUTHPOLICY_MAX_LOGIN + extra;
		memcpy(body + n, "\"}", 3);
		n += 2;
		assert_int_equal(authpolicy_parse_body(body, n,
		    AUTHPOLICY_CMD_ALLOW, 12, a, &req, &error), extra ? -1 : 0);
		if (extra)
			assert_string_equal(error, "\"login\" is longer than 320 "
			    "bytes");
		else
			assert_int_equal(strlen(req.login), AUTHPOLICY_MAX_LOGIN);
	}
	/* a session_id over AUTHPOLICY_MAX_FIELD */
	n = (size_t)snprintf(body, AUTHPOLICY_MAX_BODY, "{\"remote\":"
	    "\"192.0.2.1\",\"login\":\"a\",\"session_id\":\"");
	memset(body + n, 's', AUTHPOLICY_MAX_FIELD + 1);
	n += AUTHPOLICY_MAX_FIELD + 1;
	memcpy(body + n, "\"}", 3);
	n += 2;
	assert_int_equal(authpolicy_parse_body(body, n, AUTHPOLICY_CMD_ALLOW, 12,
	    a, &req, &error), -1);
	assert_string_equal(error, "\"session_id\" is longer than 256 bytes");
	/* the body cap is checked before JSON is parsed at all */
	memset(body, ' ', AUTHPOLICY_MAX_BODY + 1);
	assert_int_equal(authpolicy_parse_body(body, AUTHPOLICY_MAX_BODY + 1,
	    AUTHPOLICY_CMD_ALLOW, 12, a, &req, &error), -1);
	assert_string_equal(error, "the request body is larger than 8192 bytes");
	/* AUTHPOLICY_MAX_MEMBERS members pass, one more does not */
	for (size_t extra = 0; extra < 2; extra++) {
		n = (size_t)snprintf(body, AUTHPOLICY_MAX_BODY, "{\"remote\":"
		    "\"192.0.2.1\",\"login\":\"a\"");
		for (size_t i = 2; i < AUTHPOLICY_MAX_MEMBERS + extra; i++)
			n += (size_t)snprintf(body + n, AUTHPOLICY_MAX_BODY - n,
			    ",\"m%zu\":\"v\"", i);
		body[n++] = '}';
		assert_int_equal(authpolicy_parse_body(body, n,
		    AUTHPOLICY_CMD_ALLOW, 12, a, &req, &error), extra ? -1 : 0);
		if (extra)
			assert_string_equal(error, "more than 64 members");
	}
	/* nested members count too */
	n = (size_t)snprintf(body, AUTHPOLICY_MAX_BODY, "{\"remote\":"
	    "\"192.0.2.1\",\"login\":\"a\",\"conn\":{");
	for (size_t i = 0; i < AUTHPOLICY_MAX_MEMBERS; i++)
		n += (size_t)snprintf(body + n, AUTHPOLICY_MAX_BODY - n,
		    "%s\"m%zu\":\"v\"", i ? "," : "", i);
	body[n++] = '}';
	body[n++] = '}';
	assert_int_equal(authpolicy_parse_body(body, n, AUTHPOLICY_CMD_ALLOW, 12,
	    a, &req, &error), -1);
	assert_string_equal(error, "more than 64 members");
	test_free(body);
	mw_arena_free(&a);
}

static void
test_body_dovecot(void **state)
{
	struct mw_arena		*a = mw_arena_new(1024);
	struct authpolicy_req	 req;
	const char		*error = NULL;
	char			 text[MW_ADDR_STRLEN];

	(void)state;
	assert_int_equal(authpolicy_parse_body(ALLOW_BODY, strlen(ALLOW_BODY),
	    AUTHPOLICY_CMD_ALLOW, 12, a, &req, &error), 0);
	assert_int_equal(req.cmd, AUTHPOLICY_CMD_ALLOW);
	assert_string_equal(req.login, "alice@example.org");
	assert_string_equal(req.remote, "127.0.0.1");
	assert_true(req.has_addr);
	assert_string_equal(mw_addr_format(&req.addr, text, sizeof(text)),
	    "127.0.0.1");
	assert_string_equal(req.protocol, "imap");
	assert_string_equal(req.session_id, "ubOCauxgzLp/AAAB");
	assert_string_equal(req.device_id, "");
	assert_false(req.has_success);
	assert_false(req.tls);
	/* protocols.md 2.3: nonce s3cr3t, alice@example.org, Secret123 */
	assert_int_equal(req.pwhash_bits, 12);
	assert_int_equal(req.pwhash[0], 0x01);
	assert_int_equal(req.pwhash[1], 0x0d);
	assert_int_equal(req.pwhash[2], 0);
	assert_int_equal(req.nmembers, 7);

	assert_int_equal(authpolicy_parse_body(REPORT_BODY, strlen(REPORT_BODY),
	    AUTHPOLICY_CMD_REPORT, 12, a, &req, &error), 0);
	assert_int_equal(req.cmd, AUTHPOLICY_CMD_REPORT);
	assert_true(req.has_success);
	assert_false(req.success);
	assert_false(req.policy_reject);
	assert_true(req.tls);
	assert_false(mw_addr_is_v4(&req.addr));
	assert_string_equal(mw_addr_format(&req.addr, text, sizeof(text)),
	    "2001:db8::7");
	assert_int_equal(req.pwhash[0], 0x0d);
	assert_int_equal(req.pwhash[1], 0x0c);
	mw_arena_free(&a);
}

static const struct {
	const char	*body;
	uint32_t	 truncate;
	uint32_t	 want_bits;
	uint8_t		 want[4];
	bool		 has_addr;
} body_good[] = {
	/* no hash: no nonce in Dovecot, or pwhash not in the attributes */
	{ R(",\"pwhash\":\"\""), 12, 0, { 0 }, true },
	{ R(""), 12, 0, { 0 }, true },
	/* upper-case hex, whole bytes */
	{ R(",\"pwhash\":\"ABCDEF01\""), 32, 32, { 0xab, 0xcd, 0xef, 0x01 }, true },
	{ R(",\"pwhash\":\"7f\""), 7, 7, { 0x7f }, true },
	{ R(",\"pwhash\":\"01\""), 1, 1, { 0x01 }, true },
	/* truncate 0: the whole digest, any whole number of bytes */
	{ R(",\"pwhash\":\"a1b2c3\""), 0, 24, { 0xa1, 0xb2, 0xc3 }, true },
	/* remote "" (no address known) is allowed */
	{ "{\"login\":\"a\",\"remote\":\"\"}", 12, 0, { 0 }, false },
	/* unknown members and Dovecot's nested attributes are ignored */
	{ R(",\"conn\":{\"mech\":\"PLAIN\",\"secured\":\"secured\"},\"x\":[1,2]"),
	    12, 0, { 0 }, true },
	/* a duplicated member: the last one wins (Dovecot appends "tls") */
	{ R(",\"tls\":\"x\",\"tls\":true"), 12, 0, { 0 }, true },
	{ R(",\"pwhash\":\"zz\",\"pwhash\":\"010d\""), 12, 12, { 0x01, 0x0d },
	    true },
	/* UTF-8 logins, and a character from a surrogate pair */
	{ "{\"login\":\"\xe3\x81\x82@\xe4\xbe\x8b.jp\",\"remote\":\"192.0.2.1\"}",
	    12, 0, { 0 }, true },
	{ R(",\"device_id\":\"\\ud83d\\ude00\\u00e9\""), 12, 0, { 0 }, true },
	/* numbers of members nobody reads: no overflow to refuse */
	{ R(",\"n\":123456789012345678901234567890,\"f\":-1.5e300"), 12, 0,
	    { 0 }, true },
	/* IPv4-mapped IPv6 is the same address */
	{ "{\"login\":\"a\",\"remote\":\"::ffff:192.0.2.1\"}", 12, 0, { 0 },
	    true },
};

static void
test_body_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(body_good); i++) {
		struct mw_arena		*a = mw_arena_new(1024);
		struct authpolicy_req	 req;
		const char		*error = NULL;

		print_message("row %zu: %s\n", i, body_good[i].body);
		assert_int_equal(authpolicy_parse_body(body_good[i].body,
		    strlen(body_good[i].body), AUTHPOLICY_CMD_ALLOW,
		    body_good[i].truncate, a, &req, &error), 0);
		assert_int_equal(req.pwhash_bits, body_good[i].want_bits);
		assert_memory_equal(req.pwhash, body_good[i].want, 4);
		assert_int_equal(req.has_addr, body_good[i].has_addr);
		mw_arena_free(&a);
	}
}

static void
test_key_eq(void **state)
{
	(void)state;
	assert_true(authpolicy_key_eq("s3cret", 6, "s3cret", 6));
	assert_false(authpolicy_key_eq("s3creT", 6, "s3cret", 6));
	assert_false(authpolicy_key_eq("s3cre", 5, "s3cret", 6));
	assert_false(authpolicy_key_eq("s3cret!", 7, "s3cret", 6));
	assert_false(authpolicy_key_eq("", 0, "s3cret", 6));
	assert_false(authpolicy_key_eq(NULL, 0, "s3cret", 6));
	/* a prefix padded with NULs is not the key */
	assert_false(authpolicy_key_eq("s3cr\0\0", 6, "s3cr", 4));
	assert_true(authpolicy_key_eq(NULL, 0, "", 0));
}

static const struct {
	enum auth_verdict_kind	 kind;
	uint32_t		 delay;
	const char		*text;
	const char		*want;
} replies[] = {
	{ AUTH_VERDICT_ALLOW, 0, "ignored", "{\"status\":0,\"msg\":\"\"}" },
	{ AUTH_VERDICT_TARPIT, 3, NULL, "{\"status\":3,\"msg\":\"\"}" },
	{ AUTH_VERDICT_TARPIT, 0, NULL, "{\"status\":1,\"msg\":\"\"}" },
	{ AUTH_VERDICT_REJECT, 0, "Login refused", "{\"status\":-1,\"msg\":"
	    "\"Login refused\"}" },
	{ AUTH_VERDICT_REJECT, 0, "say \"no\"\\\n", "{\"status\":-1,\"msg\":"
	    "\"say \\\"no\\\"\\\\?\"}" },
	{ AUTH_VERDICT_REJECT, 0, NULL, "{\"status\":-1,\"msg\":\"\"}" },
	/* UTF-8 kept, invalid bytes replaced */
	{ AUTH_VERDICT_REJECT, 0, "\xe6\x8b\x92\xe5\x90\xa6 \xff\xc0\xaf \xed\xa0\x80",
	    "{\"status\":-1,\"msg\":\"\xe6\x8b\x92\xe5\x90\xa6 ??? ???\"}" },
};

static void
test_reply(void **state)
{
	char	 out[AUTHPOLICY_REPLY_MAX], text[AUTHPOLICY_MAX_TEXT + 50];
	size_t	 n;

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(replies); i++) {
		struct auth_verdict v = { .kind = replies[i].kind,
		    .delay_s = replies[i].delay, .reason = "r" };

		n = authpolicy_reply_format(&v, replies[i].text, out,
		    sizeof(out));
		print_message("reply %zu: %s\n", i, out);
		assert_int_equal(n, strlen(replies[i].want));
		assert_string_equal(out, replies[i].want);
	}
	/* cut at AUTHPOLICY_MAX_TEXT bytes, never inside a character: 199
	   ASCII bytes, then a 3-byte character that does not fit */
	memset(text, 'x', AUTHPOLICY_MAX_TEXT - 1);
	memcpy(text + AUTHPOLICY_MAX_TEXT - 1, "\xe6\x8b\x92yz", 6);
	{
		struct auth_verdict v = { .kind = AUTH_VERDICT_REJECT };

		n = authpolicy_reply_format(&v, text, out, sizeof(out));
		assert_int_equal(n, strlen("{\"status\":-1,\"msg\":\"\"}") +
		    AUTHPOLICY_MAX_TEXT - 1);
	}
	/* every byte escaped still fits */
	memset(text, '"', AUTHPOLICY_MAX_TEXT + 10);
	text[AUTHPOLICY_MAX_TEXT + 10] = '\0';
	n = authpolicy_error_format(text, out, sizeof(out));
	assert_int_equal(n, strlen("{\"error\":\"\"}") + 2 * AUTHPOLICY_MAX_TEXT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_long),
		cmocka_unit_test(test_body_bad),
		cmocka_unit_test(test_body_limits),
		cmocka_unit_test(test_body_dovecot),
		cmocka_unit_test(test_body_good),
		cmocka_unit_test(test_key_eq),
		cmocka_unit_test(test_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
