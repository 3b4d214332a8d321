/*
 * test_listen_http_req - the HTTP request framing of the auth policy
 * service: Dovecot's request, split at every byte offset (each prefix is
 * "need more", the whole is the same request), pipelined requests,
 * keep-alive by version and Connection, Expect: 100-continue, and the
 * refusals with their status: oversize headers, too many header lines,
 * a bad request line, a bad Content-Length, a body over the limit,
 * chunked bodies, garbage and NUL bytes; and when parsing again is worth
 * it (a request sent a byte at a time).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/slice.h"
#include "listen/http_req.h"

#define DOVECOT_BODY "{\"device_id\":\"\",\"login\":\"alice\"," \
	"\"protocol\":\"imap\",\"pwhash\":\"010d\",\"remote\":\"192.0.2.7\"," \
	"\"session_id\":\"s1\",\"tls\":false}"
/* Dovecot 2.3's request, headers as its HTTP client sends them. */
#define DOVECOT_REQ \
	"POST /policy?command=allow HTTP/1.1\r\n" \
	"Host: 127.0.0.1\r\n" \
	"Date: Mon, 23 Nov 2026 12:00:00 GMT\r\n" \
	"User-Agent: dovecot/2.3\r\n" \
	"Connection: Keep-Alive\r\n" \
	"X-API-Key: s3cret \r\n" \
	"Content-Type: application/json\r\n" \
	"Content-Length: 117\r\n" \
	"\r\n" DOVECOT_BODY

static const struct http_req_limits limits = {
	.max_header_bytes = 512,
	.max_headers = 8,
	.max_body = 256,
	.header = "X-API-Key",
};

static void
slice_is(struct mw_slice s, const char *want)
{
	if (!mw_slice_eq_cstr(s, want))
		fail_msg("want \"%s\", got \"%.*s\"", want, (int)s.len,
		    s.ptr != NULL ? s.ptr : "");
}

static int
parse(const char *s, size_t len, struct http_req *r)
{
	return http_req_parse(s, len, &limits, r);
}

static void
refused(const char *in, size_t len, int status, const char *error)
{
	struct http_req r;

	if (parse(in, len, &r) != -1)
		fail_msg("accepted: %.*s", (int)len, in);
	if (r.status != status || strstr(r.error, error) == NULL)
		fail_msg("%.*s: want %d \"%s\", got %d \"%s\"", (int)len, in,
		    status, error, r.status, r.error);
	assert_non_null(r.phrase);
}

static void
check_dovecot(const struct http_req *r, const char *base)
{
	assert_true(r->is_post);
	assert_string_equal(r->method, "POST");
	slice_is(r->path, "/policy");
	slice_is(r->query, "command=allow");
	assert_true(r->has_header);
	slice_is(r->header, "s3cret");
	slice_is(r->body, DOVECOT_BODY);
	assert_true(r->body.ptr >= base);
	assert_true(r->keep_alive);
	assert_false(r->is_http10);
	assert_int_equal(r->used, sizeof(DOVECOT_REQ) - 1);
}

static void
test_dovecot(void **state)
{
	struct http_req	 r;

	(void)state;
	assert_int_equal(sizeof(DOVECOT_BODY) - 1, 117);
	assert_int_equal(parse(DOVECOT_REQ, sizeof(DOVECOT_REQ) - 1, &r), 1);
	check_dovecot(&r, DOVECOT_REQ);
}

/* Every prefix is "need more"; the whole, copied to a new place (the
   listener's buffer may move), is the same request. */
static void
test_split_everywhere(void **state)
{
	const size_t	 len = sizeof(DOVECOT_REQ) - 1;
	struct http_req	 r;
	char		*buf = malloc(len);

	(void)state;
	assert_non_null(buf);
	for (size_t i = 0; i < len; i++) {
		memcpy(buf, DOVECOT_REQ, i);
		if (parse(buf, i, &r) != 0)
			fail_msg("prefix of %zu bytes: not \"need more\"", i);
		memcpy(buf, DOVECOT_REQ, len);
		assert_int_equal(parse(buf, len, &r), 1);
		check_dovecot(&r, buf);
	}
	free(buf);
}

static void
test_pipelined(void **state)
{
	const char	 in[] = DOVECOT_REQ
	    "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
	    "POST /?command=report HTTP/1.1\r\nConnection: close\r\n"
	    "Content-Length: 2\r\n\r\n{}" "POST / HT";
	struct http_req	 r;
	size_t		 off = 0;

	(void)state;
	assert_int_equal(parse(in, sizeof(in) - 1, &r), 1);
	check_dovecot(&r, in);
	off += r.used;
	assert_int_equal(parse(in + off, sizeof(in) - 1 - off, &r), 1);
	assert_false(r.is_post);
	assert_string_equal(r.method, "GET");
	slice_is(r.path, "/x");
	assert_null(r.query.ptr);
	assert_false(r.has_header);
	assert_int_equal(r.body.len, 0);
	assert_true(r.keep_alive);
	off += r.used;
	assert_int_equal(parse(in + off, sizeof(in) - 1 - off, &r), 1);
	slice_is(r.query, "command=report");
	slice_is(r.body, "{}");
	assert_false(r.keep_alive);
	off += r.used;
	assert_int_equal(parse(in + off, sizeof(in) - 1 - off, &r), 0);
	assert_int_equal(sizeof(in) - 1 - off, 9);
}

static void
test_keepalive(void **state)
{
	static const struct {
		const char	*in;
		bool		 keep_alive, is_http10;
	} cases[] = {
		{ "POST / HTTP/1.1\r\n\r\n", true, false },
		{ "POST / HTTP/1.1\r\nConnection: close\r\n\r\n", false,
		    false },
		{ "POST / HTTP/1.1\r\nconnection: CLOSE\r\n\r\n", false,
		    false },
		{ "POST / HTTP/1.0\r\n\r\n", false, true },
		{ "POST / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true,
		    true },
	};
	struct http_req	 r;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].in, strlen(cases[i].in), &r),
		    1);
		if (r.keep_alive != cases[i].keep_alive ||
		    r.is_http10 != cases[i].is_http10)
			fail_msg("%s: keep_alive %d, is_http10 %d", cases[i].in,
			    r.keep_alive, r.is_http10);
		assert_int_equal(r.used, strlen(cases[i].in));
	}
}

static void
test_expect_continue(void **state)
{
	const char	 head[] = "POST /?command=allow HTTP/1.1\r\n"
	    "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n";
	char		 full[sizeof(head) + 2];
	struct http_req	 r;

	(void)state;
	assert_int_equal(parse(head, sizeof(head) - 1, &r), 0);
	assert_true(r.expect_continue);
	/* not before the headers are complete */
	assert_int_equal(parse(head, sizeof(head) - 3, &r), 0);
	assert_false(r.expect_continue);
	snprintf(full, sizeof(full), "%s{}", head);
	assert_int_equal(parse(full, strlen(full), &r), 1);
	assert_false(r.expect_continue);
	slice_is(r.body, "{}");
}

static void
test_limits(void **state)
{
	char		 big[1024];
	struct http_req	 r;
	int		 n;

	(void)state;
	/* headers that do not end within max_header_bytes */
	n = snprintf(big, sizeof(big), "POST / HTTP/1.1\r\nX-Pad: %0500d\r\n"
	    "\r\n", 0);
	refused(big, (size_t)n, 431, "the request line and headers are too "
	    "long");
	/* ... refused as soon as the limit is reached, not later */
	refused(big, 512, 431, "too long");
	assert_int_equal(parse(big, 511, &r), 0);
	/* just inside */
	n = snprintf(big, sizeof(big), "POST / HTTP/1.1\r\nX-Pad: %0484d\r\n"
	    "\r\n", 0);
	assert_int_equal(n, 512);
	assert_int_equal(parse(big, (size_t)n, &r), 1);
	/* header lines: 8 pass, 9 do not */
	n = snprintf(big, sizeof(big), "POST / HTTP/1.1\r\n%s\r\n",
	    "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n");
	assert_int_equal(parse(big, (size_t)n, &r), 1);
	n = snprintf(big, sizeof(big), "POST / HTTP/1.1\r\n%s\r\n",
	    "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\n"
	    "I: 9\r\n");
	refused(big, (size_t)n, 431, "too many header lines");
	/* the body: 256 bytes pass, 257 are refused from the header alone */
	n = snprintf(big, sizeof(big), "POST / HTTP/1.1\r\nContent-Length: "
	    "256\r\n\r\n%0256d", 0);
	assert_int_equal(parse(big, (size_t)n, &r), 1);
	assert_int_equal(r.body.len, 256);
	refused("POST / HTTP/1.1\r\nContent-Length: 257\r\n\r\n", 41, 413,
	    "the body is 257 bytes, more than the 256 accepted");
	refused("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n"
	    "\r\n", 58, 400, "malformed HTTP request");
}

static void
test_malformed(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		int		 status;
		const char	*error;
	} cases[] = {
#define BAD(in, status, error)	{ in, sizeof(in) - 1, status, error }
		BAD("GARBAGE\r\n\r\n", 400, "malformed HTTP request: "),
		BAD("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400,
		    "malformed HTTP request: "),
		BAD("POST\r\n\r\n", 400, "malformed HTTP request: "),
		BAD("POST / HTTP/9.9\r\n\r\n", 505, "HTTP/9.9 is not served"),
		BAD("POST / FTP/1.1\r\n\r\n", 400, "malformed HTTP request: "),
		BAD("POST /a b HTTP/1.1\r\n\r\n", 400,
		    "malformed HTTP request: "),
		BAD("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n", 400,
		    "invalid character in content-length header"),
		BAD("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: "
		    "2\r\n\r\n", 400, "malformed HTTP request: "),
		BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "2\r\n{}\r\n0\r\n\r\n", 411, "chunked request bodies are "
		    "not accepted: send Content-Length"),
		BAD("POST / HTTP/1.1\r\nA\x00: b\r\n\r\n", 400,
		    "malformed HTTP request: "),
		BAD("POST / HTTP/1.1\r\nA: b\x00\r\n\r\n", 400,
		    "malformed HTTP request: "),
		BAD("POST /\x00 HTTP/1.1\r\n\r\n", 400,
		    "malformed HTTP request: "),
		BAD("\x00", 400, "malformed HTTP request: "),
#undef BAD
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		refused(cases[i].in, cases[i].len, cases[i].status,
		    cases[i].error);
}

/* NUL bytes in a body are the body's business (the JSON parser refuses
   them); the framing only counts them. */
static void
test_nul_in_body(void **state)
{
	const char	 in[] = "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n"
	    "a\0b";
	struct http_req	 r;

	(void)state;
	assert_int_equal(parse(in, sizeof(in) - 1, &r), 1);
	assert_int_equal(r.body.len, 3);
	assert_memory_equal(r.body.ptr, "a\0b", 3);
}

/* The kept header: any case, the first one, trimmed; absent is not
   empty. */
static void
test_header(void **state)
{
	const char	 in[] = "POST / HTTP/1.1\r\nx-api-key:  k1\t\r\n"
	    "X-API-Key: k2\r\n\r\n";
	const char	 empty[] = "POST / HTTP/1.1\r\nX-API-Key:\r\n\r\n";
	struct http_req	 r;

	(void)state;
	assert_int_equal(parse(in, sizeof(in) - 1, &r), 1);
	assert_true(r.has_header);
	slice_is(r.header, "k1");
	assert_int_equal(parse(empty, sizeof(empty) - 1, &r), 1);
	assert_true(r.has_header);
	assert_int_equal(r.header.len, 0);
}

/* The absolute form of the target. */
static void
test_target(void **state)
{
	const char	 in[] = "POST http://127.0.0.1:8080/p?command=report "
	    "HTTP/1.1\r\n\r\n";
	struct http_req	 r;

	(void)state;
	assert_int_equal(parse(in, sizeof(in) - 1, &r), 1);
	slice_is(r.path, "/p");
	slice_is(r.query, "command=report");
}

/* A byte at a time, parsing only when http_req_worth_parsing says so:
   the same request, after one parse per header line and one for the
   body. */
static void
test_worth_parsing(void **state)
{
	const size_t	 len = sizeof(DOVECOT_REQ) - 1;
	const char	*body = strstr(DOVECOT_REQ, "\r\n\r\n") + 4;
	struct http_req	 r;
	size_t		 parsed = 0, need = 0, parses = 0;
	int		 ret = 0;

	(void)state;
	/* the headers complete: the whole length is known */
	assert_int_equal(parse(DOVECOT_REQ, (size_t)(body - DOVECOT_REQ) + 10,
	    &r), 0);
	assert_int_equal(r.need, len);
	assert_int_equal(parse(DOVECOT_REQ, 20, &r), 0);
	assert_int_equal(r.need, 0);
	assert_false(http_req_worth_parsing("POST / HT", 9, 5, 0, &limits));
	assert_true(http_req_worth_parsing("POST / HT\n", 10, 5, 0, &limits));
	assert_false(http_req_worth_parsing("POST / HT\n", 10, 10, 0,
	    &limits));
	assert_false(http_req_worth_parsing(DOVECOT_REQ, len - 1, len - 2, len,
	    &limits));
	assert_true(http_req_worth_parsing(DOVECOT_REQ, len, len - 1, len,
	    &limits));
	for (size_t i = 1; i <= len; i++) {
		if (parsed > 0 && !http_req_worth_parsing(DOVECOT_REQ, i,
		    parsed, need, &limits))
			continue;
		parses++;
		ret = parse(DOVECOT_REQ, i, &r);
		if (ret != 0)
			break;
		parsed = i;
		need = r.need;
	}
	assert_int_equal(ret, 1);
	check_dovecot(&r, DOVECOT_REQ);
	/* the first byte, 9 line ends (the empty line's included) and the
	   last body byte */
	assert_int_equal(parses, 11);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dovecot),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_keepalive),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_in_body),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_worth_parsing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
