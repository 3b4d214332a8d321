/*
 * test_listen_policy_parse - the Postfix policy request parser: malformed
 * requests first (exact error texts), then real Postfix 3.7 requests,
 * limits at and just past their edge, pipelining, byte-by-byte input, a
 * request split in two at every byte (the buffer moved between the
 * calls), and attributes in any order.
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
	char			*buf;	/* the parser's buffer: req points into it */
};

static void
feed_result_free(struct feed_result *r)
{
	free(r->buf);
	r->buf = NULL;
}

/* The whole input in one call, as the daemon sees a request arriving in
   one read. The buffer and arena stay alive for the caller to inspect
   req. */
static void
feed_all(struct mw_arena *a, const char *in, size_t len, struct feed_result *r)
{
	*r = (struct feed_result){ .ret = -2, .buf = malloc(len + 1) };
	assert_non_null(r->buf);
	memcpy(r->buf, in, len);
	policy_req_init(&r->req);
	r->ret = policy_parse_request(&r->req, r->buf, len, a, &r->used,
	    &r->error);
}

/* The first cut bytes, then the rest, each call with a new buffer holding
   the bytes kept so far as the parser left them (the daemon moves them to
   the start of its buffer), then the new ones. Stops after the first
   request or an error, as feed_all. */
static void
feed_split(struct mw_arena *a, const char *in, size_t len, size_t cut,
    struct feed_result *r)
{
	char *first = malloc(cut + 1);

	assert_non_null(first);
	*r = (struct feed_result){ .ret = 0 };
	policy_req_init(&r->req);
	memcpy(first, in, cut);
	if (cut > 0)
		r->ret = policy_parse_request(&r->req, first, cut, a, &r->used,
		    &r->error);
	if (r->ret == 0) {
		r->buf = malloc(len + 1);
		assert_non_null(r->buf);
		assert_int_equal(r->used, 0);
		memcpy(r->buf, first, cut);
		memcpy(r->buf + cut, in + cut, len - cut);
		r->ret = policy_parse_request(&r->req, r->buf, len, a,
		    &r->used, &r->error);
		free(first);
	} else
		r->buf = first;
}

/* One byte at a time, keeping every byte of the unfinished request, as
   the daemon does when a request is split over many reads. */
static void
feed_bytes(struct mw_arena *a, const char *in, size_t len,
    struct feed_result *r)
{
	*r = (struct feed_result){ .ret = 0, .buf = malloc(len + 1) };
	assert_non_null(r->buf);
	policy_req_init(&r->req);
	for (size_t i = 0; i < len && r->ret == 0; i++) {
		r->buf[i] = in[i];
		r->ret = policy_parse_request(&r->req, r->buf, i + 1, a,
		    &r->used, &r->error);
		if (r->ret == 0)
			assert_int_equal(r->used, 0);
	}
}

/* Two outcomes of the same input agree: result, error, every value. */
static void
assert_same(const struct feed_result *x, const struct feed_result *y)
{
	assert_int_equal(x->ret, y->ret);
	if (x->ret < 0) {
		assert_string_equal(x->error, y->error);
		return;
	}
	if (x->ret == 0)
		return;
	assert_int_equal(x->used, y->used);
	assert_int_equal(x->req.has_addr, y->req.has_addr);
	assert_memory_equal(&x->req.addr, &y->req.addr, sizeof(x->req.addr));
	assert_int_equal(x->req.port, y->req.port);
	assert_int_equal(x->req.nattrs, y->req.nattrs);
#define SAME(f)	assert_string_equal(x->req.f, y->req.f)
	SAME(request); SAME(protocol_state); SAME(client_address);
	SAME(client_name); SAME(reverse_client_name); SAME(helo_name);
	SAME(sender); SAME(recipient); SAME(recipient_count); SAME(instance);
	SAME(sasl_username); SAME(sasl_method); SAME(server_address);
	SAME(server_port); SAME(policy_context); SAME(queue_id); SAME(size);
#undef SAME
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
		assert_same(&r1, &r2);
		feed_result_free(&r1);
		feed_result_free(&r2);
		mw_arena_free(&a);
	}
}

/* Every row split in two at every byte: the same outcome as in one read,
   although the second call sees the kept bytes at another address. */
static void
test_policy_parse_split_everywhere(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(cases); i++) {
		struct mw_arena		*a = mw_arena_new(4096);
		struct feed_result	 whole, split;

		feed_all(a, cases[i].in, cases[i].len, &whole);
		for (size_t cut = 0; cut <= cases[i].len; cut++) {
			feed_split(a, cases[i].in, cases[i].len, cut, &split);
			if (split.ret != whole.ret)
				print_error("row %zu cut %zu: ret %d\n", i, cut,
				    split.ret);
			assert_same(&whole, &split);
			feed_result_free(&split);
		}
		feed_result_free(&whole);
		mw_arena_free(&a);
	}
}

/* Postfix's order is not relied upon: the 3.7 request with its lines
   reversed, and rotated, gives the same request. */
static void
test_policy_parse_any_order(void **state)
{
	static const char	 in[] = POSTFIX37_SUBMISSION;
	const char		*lines[64];
	size_t			 lens[64], n = 0, off = 0;
	struct mw_arena		*a = mw_arena_new(4096);
	struct feed_result	 want, got;
	char			 buf[sizeof(in)];

	(void)state;
	while (in[off] != '\n') {
		const char *nl = strchr(in + off, '\n');

		lines[n] = in + off;
		lens[n] = (size_t)(nl - (in + off)) + 1;
		off += lens[n++];
	}
	assert_int_equal(n, 29);
	feed_all(a, in, sizeof(in) - 1, &want);
	assert_int_equal(want.ret, 1);
	for (size_t rot = 0; rot <= n; rot++) {
		/* rot < n: rotated by rot lines; rot == n: reversed */
		off = 0;
		for (size_t k = 0; k < n; k++) {
			size_t j = rot < n ? (k + rot) % n : n - 1 - k;

			memcpy(buf + off, lines[j], lens[j]);
			off += lens[j];
		}
		buf[off++] = '\n';
		assert_int_equal(off, sizeof(in) - 1);
		feed_all(a, buf, off, &got);
		assert_same(&want, &got);
		feed_result_free(&got);
	}
	feed_result_free(&want);
	mw_arena_free(&a);
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
	/* In place: the values are inside the parser's buffer. */
	assert_true(r.req.sender > r.buf &&
	    r.req.sender < r.buf + sizeof(POSTFIX37_SUBMISSION));
	feed_result_free(&r);
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
	feed_result_free(&r);

	feed_all(a, unknown, sizeof(unknown) - 1, &r);
	assert_int_equal(r.ret, 1);
	assert_false(r.req.has_addr);
	assert_string_equal(r.req.client_address, "unknown");
	assert_int_equal(r.req.port, 25);
	feed_result_free(&r);

	/* Absent attributes read as "". */
	feed_all(a, absent, sizeof(absent) - 1, &r);
	assert_int_equal(r.ret, 1);
	assert_false(r.req.has_addr);
	assert_int_equal(r.req.port, 0);
	assert_string_equal(r.req.client_address, "");
	assert_string_equal(r.req.helo_name, "");
	assert_string_equal(r.req.size, "");
	feed_result_free(&r);
	mw_arena_free(&a);
}

/* Requests back to back in one buffer, the last cut short: the parser
   stops at each empty line, says how much it used, and keeps nothing of
   the unfinished one (used 0: the caller keeps all of it). */
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
	char			 buf[MW_ADDR_STRLEN], data[sizeof(in)];

	(void)state;
	memcpy(data, in, sizeof(in));
	policy_req_init(&req);
	assert_int_equal(policy_parse_request(&req, data, sizeof(in) - 1, a,
	    &used, &error), 1);
	assert_int_equal(used, strlen("request=smtpd_access_policy\n"
	    "client_address=192.0.2.1\n\n"));
	assert_string_equal(mw_addr_format(&req.addr, buf, sizeof(buf)),
	    "192.0.2.1");
	assert_string_equal(req.client_address, "192.0.2.1");
	assert_string_equal(req.sasl_username, "");
	off += used;

	policy_req_init(&req);
	assert_int_equal(policy_parse_request(&req, data + off,
	    sizeof(in) - 1 - off, a, &used, &error), 1);
	assert_string_equal(mw_addr_format(&req.addr, buf, sizeof(buf)),
	    "2001:db8::7");
	assert_string_equal(req.sasl_username, "bob");
	off += used;

	policy_req_init(&req);
	assert_int_equal(policy_parse_request(&req, data + off,
	    sizeof(in) - 1 - off, a, &used, &error), 0);
	assert_int_equal(used, 0);
	/* The complete first line is parsed; the next call resumes after
	   it. */
	assert_int_equal(req.nattrs, 1);
	assert_int_equal(req.total_len, strlen("request=smtpd_access_policy\n"));
	mw_arena_free(&a);
}

/* 500 requests back to back, each answered from the same buffer. */
static void
test_policy_parse_many(void **state)
{
	struct mw_arena		*a = mw_arena_new(4096);
	size_t			 cap = 500 * 128, len = 0, off = 0, used;
	char			*data = malloc(cap), want[64];
	struct policy_req	 req;
	const char		*error;

	(void)state;
	assert_non_null(data);
	for (unsigned i = 0; i < 500; i++) {
		int n = snprintf(data + len, cap - len,
		    "request=smtpd_access_policy\nclient_address=10.0.%u.%u\n"
		    "sender=s%u@example.org\n\n", i / 256, i % 256, i);

		assert_true(n > 0 && (size_t)n < cap - len);
		len += (size_t)n;
	}
	for (unsigned i = 0; i < 500; i++) {
		policy_req_init(&req);
		assert_int_equal(policy_parse_request(&req, data + off, len - off,
		    a, &used, &error), 1);
		snprintf(want, sizeof(want), "s%u@example.org", i);
		assert_string_equal(req.sender, want);
		snprintf(want, sizeof(want), "10.0.%u.%u", i / 256, i % 256);
		assert_string_equal(req.client_address, want);
		off += used;
	}
	assert_int_equal(off, len);
	free(data);
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
	char			*copy = malloc(len + 1);
	int			 ret;

	assert_non_null(copy);
	memcpy(copy, buf, len);
	policy_req_init(&req);
	ret = policy_parse_request(&req, copy, len, a, &used, &error);
	/* Static texts only in these cases: safe after the arena is gone. */
	*error_r = error;
	free(copy);
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

/* Each kept name is recognised exactly: the name itself is stored, and
   the same name with any one byte changed (same length, so the same
   hash slot and comparison path) is ignored. */
static void
test_policy_parse_names(void **state)
{
	static const char *const names[] = { "request", "protocol_state",
	    "client_address", "client_name", "reverse_client_name",
	    "helo_name", "sender", "recipient", "recipient_count", "instance",
	    "sasl_username", "sasl_method", "server_address", "server_port",
	    "policy_context", "queue_id", "size" };
	struct mw_arena		*a = mw_arena_new(4096);
	struct feed_result	 r;
	char			 in[256], name[32];

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(names); i++) {
		size_t len = strlen(names[i]);

		/* a value every attribute accepts */
		const char *val = strcmp(names[i], "client_address") == 0 ?
		    "192.0.2.9" : "9";

		for (size_t pos = 0; pos <= len; pos++) {
			size_t nset = 0;
			int n;

			/* pos == len: the name unchanged */
			memcpy(name, names[i], len + 1);
			if (pos < len)
				name[pos] = name[pos] == 'x' ? 'y' : 'x';
			n = snprintf(in, sizeof(in), "request=smtpd_access_policy\n"
			    "%s=%s\n\n", name, val);
			assert_true(n > 0 && (size_t)n < sizeof(in));
			if (strcmp(names[i], "request") == 0 && pos == len)
				n = snprintf(in, sizeof(in), "request=9\n"
				    "request=smtpd_access_policy\n\n");
			feed_all(a, in, (size_t)n, &r);
			assert_int_equal(r.ret, 1);
#define SET(f)	nset += strcmp(r.req.f, val) == 0
			SET(protocol_state); SET(client_address);
			SET(client_name); SET(reverse_client_name); SET(helo_name);
			SET(sender); SET(recipient); SET(recipient_count);
			SET(instance); SET(sasl_username); SET(sasl_method);
			SET(server_address); SET(policy_context); SET(queue_id);
			SET(size);
#undef SET
			/* server_port "9" is also parsed into port */
			if (strcmp(names[i], "server_port") == 0) {
				assert_int_equal(r.req.port, pos == len ? 9 : 0);
				nset += strcmp(r.req.server_port, val) == 0;
			}
			if (strcmp(names[i], "client_address") == 0)
				assert_int_equal(r.req.has_addr, pos == len);
			if (strcmp(names[i], "request") == 0)
				assert_int_equal(nset, 0);
			else
				assert_int_equal(nset, pos == len ? 1 : 0);
			feed_result_free(&r);
		}
	}
	mw_arena_free(&a);
}

/* Values are NUL-terminated in place; the parser keeps offsets, so the
   unfinished request may move between calls (the daemon compacts its
   buffer). */
static void
test_policy_parse_in_place(void **state)
{
	static const char	 part1[] = "request=smtpd_access_policy\n"
	    "helo_name=first.example\nsen";
	static const char	 part2[] = "der=a@example.org\n\nnext";
	struct mw_arena		*a = mw_arena_new(256);
	struct policy_req	 req;
	const char		*error = NULL;
	char			 one[128], two[128];
	size_t			 used;

	(void)state;
	policy_req_init(&req);
	memcpy(one, part1, sizeof(part1) - 1);
	assert_int_equal(policy_parse_request(&req, one, sizeof(part1) - 1, a,
	    &used, &error), 0);
	assert_int_equal(req.nattrs, 2);
	/* Moved: what the parser left, then the new bytes. */
	memcpy(two, one, sizeof(part1) - 1);
	memset(one, 'Z', sizeof(one));
	memcpy(two + sizeof(part1) - 1, part2, sizeof(part2) - 1);
	assert_int_equal(policy_parse_request(&req, two,
	    sizeof(part1) - 1 + sizeof(part2) - 1, a, &used, &error), 1);
	assert_int_equal(used, sizeof(part1) - 1 + sizeof(part2) - 1 - 4);
	assert_string_equal(req.helo_name, "first.example");
	assert_string_equal(req.sender, "a@example.org");
	assert_ptr_equal(req.helo_name, two + strlen("request="
	    "smtpd_access_policy\nhelo_name="));
	assert_int_equal(req.nattrs, 3);
	assert_int_equal(req.total_len, used);
	/* The next request's bytes are untouched. */
	assert_memory_equal(two + used, "next", 4);
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
		cmocka_unit_test(test_policy_parse_split_everywhere),
		cmocka_unit_test(test_policy_parse_any_order),
		cmocka_unit_test(test_policy_parse_postfix37),
		cmocka_unit_test(test_policy_parse_v6_and_unknown),
		cmocka_unit_test(test_policy_parse_pipelined),
		cmocka_unit_test(test_policy_parse_many),
		cmocka_unit_test(test_policy_parse_limits),
		cmocka_unit_test(test_policy_parse_in_place),
		cmocka_unit_test(test_policy_parse_names),
		cmocka_unit_test(test_policy_reply_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
