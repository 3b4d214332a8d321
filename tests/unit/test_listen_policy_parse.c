/*
 * test_listen_policy_parse - the Postfix policy request parser: malformed
 * requests first (exact error texts), then real Postfix 3.7 requests,
 * limits at and just past their edge, pipelining and byte-by-byte input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/arena.h"
#include "core/slice.h"
#include "listen/policy_parse.h"

#define ROW(in, err)	{ in, sizeof(in) - 1, err }

/* protocols.md 1.2: an authenticated submission at END-OF-MESSAGE, every
   attribute in Postfix 3.7's order. */
#define POSTFIX37_SUBMISSION \
	"request=smtpd_access_policy\n" \
	"protocol_state=END-OF-MESSAGE\n" \
	"protocol_name=ESMTP\n" \
	"client_address=127.0.0.1\n" \
	"client_name=localhost\n" \
	"client_port=52880\n" \
	"reverse_client_name=localhost\n" \
	"server_address=127.0.0.1\n" \
	"server_port=2587\n" \
	"helo_name=laptop.example\n" \
	"sender=alice@example.org\n" \
	"recipient=root@localhost\n" \
	"recipient_count=1\n" \
	"queue_id=E8109104238\n" \
	"instance=3937.6b03e9a5.e7719.0\n" \
	"size=141\n" \
	"etrn_domain=\n" \
	"stress=\n" \
	"sasl_method=PLAIN\n" \
	"sasl_username=alice@example.org\n" \
	"sasl_sender=\n" \
	"ccert_subject=\n" \
	"ccert_issuer=\n" \
	"ccert_fingerprint=\n" \
	"ccert_pubkey_fingerprint=\n" \
	"encryption_protocol=\n" \
	"encryption_cipher=\n" \
	"encryption_keysize=0\n" \
	"policy_context=submission\n" \
	"\n"

/* An inbound MX request over IPv6 at RCPT, with the 3.8+ attributes. */
#define POSTFIX_MX_V6 \
	"request=smtpd_access_policy\n" \
	"protocol_state=RCPT\n" \
	"protocol_name=ESMTP\n" \
	"client_address=2001:db8::1\n" \
	"client_name=unknown\n" \
	"client_port=40000\n" \
	"reverse_client_name=mx.example.net\n" \
	"server_address=2001:db8::25\n" \
	"server_port=25\n" \
	"helo_name=mx.example.net\n" \
	"sender=bob@example.net\n" \
	"recipient=alice@example.org\n" \
	"recipient_count=0\n" \
	"queue_id=\n" \
	"instance=3a1.6b03e9a5.e7719.0\n" \
	"size=0\n" \
	"etrn_domain=\n" \
	"stress=\n" \
	"sasl_method=\n" \
	"sasl_username=\n" \
	"sasl_sender=\n" \
	"ccert_subject=\n" \
	"ccert_issuer=\n" \
	"ccert_fingerprint=\n" \
	"ccert_pubkey_fingerprint=\n" \
	"encryption_protocol=TLSv1.3\n" \
	"encryption_cipher=TLS_AES_256_GCM_SHA384\n" \
	"encryption_keysize=256\n" \
	"policy_context=mx\n" \
	"compatibility_level=3.6\n" \
	"mail_version=3.8.6\n" \
	"tls_sni=mx.example.org\n" \
	"\n"

#define MINIMAL	"request=smtpd_access_policy\nclient_address=192.0.2.1\n\n"

static const struct {
	const char	*in;
	size_t		 len;
	const char	*want_error;	/* NULL: a valid request */
} cases[] = {
	/* malformed */
	ROW("client_address\n\n", "line is not name=value"),
	ROW("hello world\n\n", "line is not name=value"),
	ROW("=192.0.2.1\n\n", "line is not name=value"),
	ROW("request=smtpd_access_policy\n=\n\n", "line is not name=value"),
	ROW("\n", "empty request"),
	ROW("\n" MINIMAL, "empty request"),
	ROW("request=smtpd_access_policy\nhelo_name=a\x01" "b\n"
	    "client_address=192.0.2.1\n\n", "control character in helo_name"),
	ROW("request=smtpd_access_policy\nclient_address=192.0.2.1\0\n\n",
	    "control character in client_address"),
	ROW("request=smtpd_access_policy\r\nclient_address=192.0.2.1\r\n\r\n",
	    "control character in request"),
	ROW("request=smtpd_access_policy\nsender=a\x7f" "b@example.org\n\n",
	    "control character in sender"),
	ROW("request=smtpd_access_policy\nx\x1by=1\n\n",
	    "control character in a name"),
	ROW("request=smtpd_access_policy\nx\x1b" "y=\x1b\n\n",
	    "control character in a name"),
	ROW("req\0uest=smtpd_access_policy\n\n", "control character in a name"),
	ROW("protocol_state=RCPT\nclient_address=192.0.2.1\n\n",
	    "no request attribute"),
	ROW("request=\nclient_address=192.0.2.1\n\n", "no request attribute"),
	ROW("request=junk\nclient_address=192.0.2.1\n\n",
	    "request \"junk\" is not smtpd_access_policy"),
	ROW("request=smtpd_access_policy \n\n",
	    "request \"smtpd_access_policy \" is not smtpd_access_policy"),
	ROW("request=SMTPD_ACCESS_POLICY\n\n",
	    "request \"SMTPD_ACCESS_POLICY\" is not smtpd_access_policy"),
	ROW("request=0123456789012345678901234567890123456789overlong\n\n",
	    "request \"0123456789012345678901234567890123456789...\" is not "
	    "smtpd_access_policy"),
	ROW("request=smtpd_access_policy\nclient_address=not-an-ip\n\n",
	    "client_address \"not-an-ip\" is not an IP address"),
	ROW("request=smtpd_access_policy\nclient_address=999.1.1.1\n\n",
	    "client_address \"999.1.1.1\" is not an IP address"),
	ROW("request=smtpd_access_policy\nclient_address=198.51.100.1/24\n\n",
	    "client_address \"198.51.100.1/24\" is not an IP address"),
	ROW("request=smtpd_access_policy\nclient_address=[2001:db8::1]\n\n",
	    "client_address \"[2001:db8::1]\" is not an IP address"),
	ROW("request=smtpd_access_policy\nclient_address=fe80::1%eth0\n\n",
	    "client_address \"fe80::1%eth0\" is not an IP address"),
	ROW("request=smtpd_access_policy\nclient_address= 192.0.2.1\n\n",
	    "client_address \" 192.0.2.1\" is not an IP address"),
	ROW("request=smtpd_access_policy\nserver_port=x25\n\n",
	    "server_port \"x25\" is not a port number"),
	ROW("request=smtpd_access_policy\nserver_port=65536\n\n",
	    "server_port \"65536\" is not a port number"),
	ROW("request=smtpd_access_policy\nserver_port=-1\n\n",
	    "server_port \"-1\" is not a port number"),

	/* valid */
	ROW(MINIMAL, NULL),
	ROW(POSTFIX37_SUBMISSION, NULL),
	ROW(POSTFIX_MX_V6, NULL),
	ROW("request=smtpd_access_policy\n\n", NULL),
	ROW("request=smtpd_access_policy\nclient_address=unknown\n\n", NULL),
	ROW("request=smtpd_access_policy\nclient_address=\n\n", NULL),
	ROW("request=smtpd_access_policy\nclient_address=::ffff:192.0.2.1\n\n",
	    NULL),
	ROW("request=smtpd_access_policy\nhelo_name=\xc3\xa9t\xc3\xa9.example"
	    "\nfuture_attribute=a=b=c\n\n", NULL),
	ROW("request=junk\nrequest=smtpd_access_policy\n\n", NULL),
	ROW("request=smtpd_access_policy\nserver_port=\n\n", NULL),
	ROW("request=smtpd_access_policy\nserver_port=65535\n\n", NULL),
};

struct feed_result {
	int			 ret;
	const char		*error;
	size_t			 used;
	struct policy_req	 req;
};

/* The whole input in one call, as the daemon sees a request arriving in
   one read. The arena stays alive for the caller to inspect req. */
static void
feed_all(struct mw_arena *a, const char *in, size_t len, struct feed_result *r)
{
	*r = (struct feed_result){ .ret = -2 };
	policy_req_init(&r->req);
	r->ret = policy_parse_feed(&r->req, in, len, a, &r->used, &r->error);
}

/* One byte at a time, keeping the unused tail, as the daemon does when a
   request is split over many reads. */
static void
feed_bytes(struct mw_arena *a, const char *in, size_t len,
    struct feed_result *r)
{
	char	*pending = malloc(len + 1);
	size_t	 npending = 0, used, total_used = 0;

	assert_non_null(pending);
	*r = (struct feed_result){ .ret = 0 };
	policy_req_init(&r->req);
	for (size_t i = 0; i < len && r->ret == 0; i++) {
		pending[npending++] = in[i];
		r->ret = policy_parse_feed(&r->req, pending, npending, a, &used,
		    &r->error);
		assert_true(used <= npending);
		memmove(pending, pending + used, npending - used);
		npending -= used;
		total_used += used;
	}
	r->used = total_used;
	free(pending);
}

static void
test_policy_parse_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(cases); i++) {
		struct mw_arena		*a = mw_arena_new(4096);
		struct feed_result	 r1, r2;

		feed_all(a, cases[i].in, cases[i].len, &r1);
		feed_bytes(a, cases[i].in, cases[i].len, &r2);
		if (cases[i].want_error == NULL) {
			if (r1.ret != 1)
				print_error("row %zu: %s\n", i, r1.error);
			assert_int_equal(r1.ret, 1);
			assert_int_equal(r1.used, cases[i].len);
			assert_int_equal(r2.ret, 1);
			assert_int_equal(r2.used, cases[i].len);
		} else {
			if (r1.ret != -1)
				print_error("row %zu: ret %d\n", i, r1.ret);
			assert_int_equal(r1.ret, -1);
			assert_string_equal(r1.error, cases[i].want_error);
			assert_int_equal(r2.ret, -1);
			assert_string_equal(r2.error, cases[i].want_error);
		}
		mw_arena_free(&a);
	}
}

static void
test_policy_parse_postfix37(void **state)
{
	struct mw_arena		*a = mw_arena_new(4096);
	struct feed_result	 r;
	char			 buf[MW_ADDR_STRLEN];

	(void)state;
	feed_all(a, POSTFIX37_SUBMISSION, sizeof(POSTFIX37_SUBMISSION) - 1, &r);
	assert_int_equal(r.ret, 1);
	assert_int_equal(r.req.nattrs, 29);
	assert_string_equal(r.req.request, "smtpd_access_policy");
	assert_string_equal(r.req.protocol_state, "END-OF-MESSAGE");
	assert_string_equal(r.req.client_address, "127.0.0.1");
	assert_string_equal(r.req.client_name, "localhost");
	assert_string_equal(r.req.reverse_client_name, "localhost");
	assert_string_equal(r.req.helo_name, "laptop.example");
	assert_string_equal(r.req.sender, "alice@example.org");
	assert_string_equal(r.req.recipient, "root@localhost");
	assert_string_equal(r.req.recipient_count, "1");
	assert_string_equal(r.req.instance, "3937.6b03e9a5.e7719.0");
	assert_string_equal(r.req.sasl_username, "alice@example.org");
	assert_string_equal(r.req.sasl_method, "PLAIN");
	assert_string_equal(r.req.server_address, "127.0.0.1");
	assert_string_equal(r.req.server_port, "2587");
	assert_string_equal(r.req.policy_context, "submission");
	assert_string_equal(r.req.queue_id, "E8109104238");
	assert_string_equal(r.req.size, "141");
	assert_true(r.req.has_addr);
	assert_true(mw_addr_is_v4(&r.req.addr));
	assert_string_equal(mw_addr_format(&r.req.addr, buf, sizeof(buf)),
	    "127.0.0.1");
	assert_int_equal(r.req.port, 2587);
	mw_arena_free(&a);
}

static void
test_policy_parse_v6_and_unknown(void **state)
{
	struct mw_arena		*a = mw_arena_new(4096);
	struct feed_result	 r;
	char			 buf[MW_ADDR_STRLEN];
	static const char	 unknown[] = "request=smtpd_access_policy\n"
	    "client_address=unknown\nserver_port=25\n\n";
	static const char	 absent[] = "request=smtpd_access_policy\n\n";

	(void)state;
	feed_all(a, POSTFIX_MX_V6, sizeof(POSTFIX_MX_V6) - 1, &r);
	assert_int_equal(r.ret, 1);
	assert_int_equal(r.req.nattrs, 32);
	assert_true(r.req.has_addr);
	assert_false(mw_addr_is_v4(&r.req.addr));
	assert_string_equal(mw_addr_format(&r.req.addr, buf, sizeof(buf)),
	    "2001:db8::1");
	assert_string_equal(r.req.client_name, "unknown");
	assert_string_equal(r.req.reverse_client_name, "mx.example.net");
	assert_string_equal(r.req.sasl_username, "");
	assert_string_equal(r.req.queue_id, "");
	assert_int_equal(r.req.port, 25);

	feed_all(a, unknown, sizeof(unknown) - 1, &r);
	assert_int_equal(r.ret, 1);
	assert_false(r.req.has_addr);
	assert_string_equal(r.req.client_address, "unknown");
	assert_int_equal(r.req.port, 25);

	/* Absent attributes read as "". */
	feed_all(a, absent, sizeof(absent) - 1, &r);
	assert_int_equal(r.ret, 1);
	assert_false(r.req.has_addr);
	assert_int_equal(r.req.port, 0);
	assert_string_equal(r.req.client_address, "");
	assert_string_equal(r.req.helo_name, "");
	assert_string_equal(r.req.size, "");
	mw_arena_free(&a);
}

/* Two requests in one buffer, and a third cut short: the parser stops at
   each empty line and reports how much it used. */
static void
test_policy_parse_pipelined(void **state)
{
	static const char	 in[] =
	    "request=smtpd_access_policy\nclient_address=192.0.2.1\n\n"
	    "request=smtpd_access_policy\nclient_address=2001:db8::7\n"
	    "sasl_username=bob\n\n"
	    "request=smtpd_access_policy\nclient_addr";
	struct mw_arena		*a = mw_arena_new(4096);
	struct policy_req	 req;
	const char		*error = NULL;
	size_t			 off = 0, used;
	char			 buf[MW_ADDR_STRLEN];

	(void)state;
	policy_req_init(&req);
	assert_int_equal(policy_parse_feed(&req, in, sizeof(in) - 1, a, &used,
	    &error), 1);
	assert_int_equal(used, strlen("request=smtpd_access_policy\n"
	    "client_address=192.0.2.1\n\n"));
	assert_string_equal(mw_addr_format(&req.addr, buf, sizeof(buf)),
	    "192.0.2.1");
	assert_string_equal(req.sasl_username, "");
	off += used;

	mw_arena_reset(a);
	policy_req_init(&req);
	assert_int_equal(policy_parse_feed(&req, in + off, sizeof(in) - 1 - off,
	    a, &used, &error), 1);
	assert_string_equal(mw_addr_format(&req.addr, buf, sizeof(buf)),
	    "2001:db8::7");
	assert_string_equal(req.sasl_username, "bob");
	off += used;

	mw_arena_reset(a);
	policy_req_init(&req);
	assert_int_equal(policy_parse_feed(&req, in + off, sizeof(in) - 1 - off,
	    a, &used, &error), 0);
	/* The complete first line is consumed, "client_addr" stays. */
	assert_int_equal(used, strlen("request=smtpd_access_policy\n"));
	assert_string_equal(req.request, "smtpd_access_policy");
	assert_int_equal(off + used + strlen("client_addr"), sizeof(in) - 1);
	mw_arena_free(&a);
}

/* Appends a line "x=<n bytes of a>\n" (n + 3 bytes) to buf at *off. */
static void
put_line(char *buf, size_t *off, size_t value_len)
{
	memcpy(buf + *off, "x=", 2);
	memset(buf + *off + 2, 'a', value_len);
	buf[*off + 2 + value_len] = '\n';
	*off += value_len + 3;
}

static int
feed_buf(const char *buf, size_t len, const char **error_r)
{
	struct mw_arena		*a = mw_arena_new(4096);
	struct policy_req	 req;
	size_t			 used;
	const char		*error = NULL;
	int			 ret;

	policy_req_init(&req);
	ret = policy_parse_feed(&req, buf, len, a, &used, &error);
	/* Static texts only in these cases: safe after the arena is gone. */
	*error_r = error;
	mw_arena_free(&a);
	return ret;
}

static void
test_policy_parse_limits(void **state)
{
	static const char	 head[] = "request=smtpd_access_policy\n";
	char			*buf = malloc(2 * POLICY_MAX_REQUEST);
	const char		*error;
	size_t			 off;

	(void)state;
	assert_non_null(buf);

	/* A line of exactly POLICY_MAX_LINE bytes is fine; one more is not. */
	off = 0;
	memcpy(buf, head, sizeof(head) - 1);
	off = sizeof(head) - 1;
	put_line(buf, &off, POLICY_MAX_LINE - 2);
	buf[off++] = '\n';
	assert_int_equal(feed_buf(buf, off, &error), 1);
	off = sizeof(head) - 1;
	put_line(buf, &off, POLICY_MAX_LINE - 1);
	buf[off++] = '\n';
	assert_int_equal(feed_buf(buf, off, &error), -1);
	assert_string_equal(error, "line longer than 4096 bytes");

	/* Without a LF: POLICY_MAX_LINE bytes may still become a line, one
	   more byte cannot. */
	memset(buf, 'a', POLICY_MAX_LINE + 1);
	assert_int_equal(feed_buf(buf, POLICY_MAX_LINE, &error), 0);
	assert_int_equal(feed_buf(buf, POLICY_MAX_LINE + 1, &error), -1);
	assert_string_equal(error, "line longer than 4096 bytes");
	/* 1 MiB without a LF ("binary garbage" from malformed_policy.sh) */
	{
		size_t	 big = 1 << 20;
		char	*junk = malloc(big);

		assert_non_null(junk);
		memset(junk, 'A', big);
		assert_int_equal(feed_buf(junk, big, &error), -1);
		assert_string_equal(error, "line longer than 4096 bytes");
		free(junk);
	}

	/* POLICY_MAX_ATTRS lines are fine; one more is not. */
	off = 0;
	memcpy(buf, head, sizeof(head) - 1);
	off = sizeof(head) - 1;
	for (size_t i = 1; i < POLICY_MAX_ATTRS; i++)
		put_line(buf, &off, 1);
	buf[off++] = '\n';
	assert_int_equal(feed_buf(buf, off, &error), 1);
	off--;
	put_line(buf, &off, 1);
	buf[off++] = '\n';
	assert_int_equal(feed_buf(buf, off, &error), -1);
	assert_string_equal(error, "more than 64 attributes");

	/* A request of exactly POLICY_MAX_REQUEST bytes (final LF included)
	   is fine; one more byte is not. */
	for (size_t extra = 0; extra < 2; extra++) {
		size_t left;

		memcpy(buf, head, sizeof(head) - 1);
		off = sizeof(head) - 1;
		left = POLICY_MAX_REQUEST + extra - off - 1;
		while (left > 0) {
			size_t n = left > POLICY_MAX_LINE + 1 ?
			    POLICY_MAX_LINE + 1 : left;

			if (left - n < 3 && left - n > 0)
				n -= 3;
			put_line(buf, &off, n - 3);
			left -= n;
		}
		buf[off++] = '\n';
		assert_int_equal(off, POLICY_MAX_REQUEST + extra);
		if (extra == 0)
			assert_int_equal(feed_buf(buf, off, &error), 1);
		else {
			assert_int_equal(feed_buf(buf, off, &error), -1);
			assert_string_equal(error,
			    "request larger than 32768 bytes");
		}
	}

	/* 2000 short lines: the attribute limit comes first. */
	off = 0;
	memcpy(buf, head, sizeof(head) - 1);
	off = sizeof(head) - 1;
	for (size_t i = 0; i < 2000; i++)
		put_line(buf, &off, 10);
	buf[off++] = '\n';
	assert_int_equal(feed_buf(buf, off, &error), -1);
	assert_string_equal(error, "more than 64 attributes");
	free(buf);
}

/* The request line by line through policy_parse_line: values are copies,
   the caller's line buffer may change afterwards. */
static void
test_policy_parse_line_copies(void **state)
{
	struct mw_arena		*a = mw_arena_new(256);
	struct policy_req	 req;
	const char		*error = NULL;
	char			 line[64];

	(void)state;
	policy_req_init(&req);
	snprintf(line, sizeof(line), "%s", "request=smtpd_access_policy");
	assert_int_equal(policy_parse_line(&req, mw_slice_from_cstr(line), a,
	    &error), 0);
	snprintf(line, sizeof(line), "%s", "helo_name=first.example");
	assert_int_equal(policy_parse_line(&req, mw_slice_from_cstr(line), a,
	    &error), 0);
	memset(line, 'Z', sizeof(line) - 1);
	assert_string_equal(req.helo_name, "first.example");
	assert_int_equal(policy_parse_line(&req, (struct mw_slice){ "", 0 },
	    a, &error), 1);
	assert_int_equal(req.nattrs, 2);
	assert_int_equal(req.total_len, strlen("request=smtpd_access_policy") +
	    strlen("helo_name=first.example") + 3);
	mw_arena_free(&a);
}

static void
test_policy_reply_format(void **state)
{
	char			 ctl[] = "line one\r\nline\ttwo\x7f";
	char			 long_text[POLICY_MAX_TEXT + 50];
	char			 want_long[POLICY_MAX_TEXT + 100];
	static const struct {
		struct verdict	 v;
		const char	*want;
	} rows[] = {
		{ { .kind = VERDICT_DUNNO }, "action=DUNNO\n\n" },
		{ { .kind = VERDICT_DUNNO, .status = "5.7.1", .text = "x" },
		  "action=DUNNO\n\n" },
		{ { .kind = VERDICT_REJECT, .status = "5.7.1",
		    .text = "Access denied: client 192.0.2.1 is on this server's "
		    "deny list", .reason = "deny list 192.0.2.0/24" },
		  "action=REJECT 5.7.1 Access denied: client 192.0.2.1 is on "
		  "this server's deny list\n\n" },
		{ { .kind = VERDICT_REJECT, .status = "5.7.25", .text = "t" },
		  "action=REJECT 5.7.25 t\n\n" },
		{ { .kind = VERDICT_REJECT, .status = NULL, .text = "t" },
		  "action=REJECT 5.7.1 t\n\n" },
		/* a status of the wrong class or shape is not passed on */
		{ { .kind = VERDICT_REJECT, .status = "4.7.1", .text = "t" },
		  "action=REJECT 5.7.1 t\n\n" },
		{ { .kind = VERDICT_REJECT, .status = "5.7", .text = "t" },
		  "action=REJECT 5.7.1 t\n\n" },
		{ { .kind = VERDICT_REJECT, .status = "5.7.1 x", .text = "t" },
		  "action=REJECT 5.7.1 t\n\n" },
		{ { .kind = VERDICT_REJECT, .status = "5.1234.1", .text = "t" },
		  "action=REJECT 5.7.1 t\n\n" },
		{ { .kind = VERDICT_REJECT, .status = "5.7.1", .text = NULL },
		  "action=REJECT 5.7.1\n\n" },
		{ { .kind = VERDICT_REJECT, .status = "5.7.1", .text = "" },
		  "action=REJECT 5.7.1\n\n" },
		{ { .kind = VERDICT_DEFER, .status = "4.7.0",
		    .text = "DNSBL zen: listed" },
		  "action=DEFER_IF_PERMIT 4.7.0 DNSBL zen: listed\n\n" },
		{ { .kind = VERDICT_DEFER, .status = "5.7.1", .text = "t" },
		  "action=DEFER_IF_PERMIT 4.7.1 t\n\n" },
		{ { .kind = VERDICT_WARN, .status = "5.7.1", .text = "for client",
		    .reason = "dnsbl score 3 >= 2" },
		  "action=WARN dnsbl score 3 >= 2\n\n" },
		{ { .kind = VERDICT_WARN, .reason = NULL }, "action=WARN\n\n" },
		{ { .kind = VERDICT_WARN, .reason = "" }, "action=WARN\n\n" },
	};
	char	 out[POLICY_REPLY_MAX];
	size_t	 len;

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(rows); i++) {
		len = policy_reply_format(&rows[i].v, out, sizeof(out));
		assert_int_equal(len, strlen(rows[i].want));
		out[len] = '\0';
		assert_string_equal(out, rows[i].want);
	}

	/* Control characters, CR and LF included, cannot split the answer. */
	len = policy_reply_format(&(struct verdict){ .kind = VERDICT_REJECT,
	    .status = "5.7.1", .text = ctl }, out, sizeof(out));
	out[len] = '\0';
	assert_string_equal(out,
	    "action=REJECT 5.7.1 line one??line?two?\n\n");

	/* Over-long text is cut at POLICY_MAX_TEXT bytes. */
	memset(long_text, 'x', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	snprintf(want_long, sizeof(want_long), "action=DEFER_IF_PERMIT 4.7.1 "
	    "%.*s\n\n", POLICY_MAX_TEXT, long_text);
	len = policy_reply_format(&(struct verdict){ .kind = VERDICT_DEFER,
	    .status = "4.7.1", .text = long_text }, out, sizeof(out));
	assert_true(len <= POLICY_REPLY_MAX);
	out[len < sizeof(out) ? len : sizeof(out) - 1] = '\0';
	assert_int_equal(len, strlen(want_long));
	assert_memory_equal(out, want_long, len);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_parse_cases),
		cmocka_unit_test(test_policy_parse_postfix37),
		cmocka_unit_test(test_policy_parse_v6_and_unknown),
		cmocka_unit_test(test_policy_parse_pipelined),
		cmocka_unit_test(test_policy_parse_limits),
		cmocka_unit_test(test_policy_parse_line_copies),
		cmocka_unit_test(test_policy_reply_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
