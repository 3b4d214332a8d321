/*
 * test_enforce_helper_msg - framing of the firewall helper's messages:
 * malformed datagrams first (exact error texts), then round trips of
 * every message type, limits at and past their edge, and the element
 * checks the encoder and decoder share.
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
#include "enforce/helper_msg.h"

static struct helper_msg	msg;
static uint8_t			buf[HELPER_MSG_MAX + 64];

/* A header: version, type, count, length (the real datagram length is
   what the row gives as len). */
#define H(t, c, l) 1, t, (uint8_t)((c) >> 8), (uint8_t)(c), 0, 0, \
	(uint8_t)((l) >> 8), (uint8_t)(l)
/* An element record. */
#define R(fam, bits, set, res, t3, a0, a1, a2, a3) fam, bits, set, res, \
	0, 0, 0, t3, a0, a1, a2, a3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0

struct row {
	const uint8_t	*in;
	size_t		 len;
	const char	*want_error;	/* NULL: decodes */
};

#define ROW(err, ...) { (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }), err }

static const struct row rows[] = {
	ROW("message shorter than its header", 1, 2, 0),
	ROW("unknown protocol version", 2, HELPER_MSG_END, 0, 0, 0, 0, 0, 8),
	ROW("length field does not match the message size",
	    H(HELPER_MSG_END, 0, 9)),
	ROW("length field does not match the message size",
	    H(HELPER_MSG_END, 0, 7), 0),
	ROW("unknown message type", H(0, 0, 8)),
	ROW("unknown message type", H(9, 0, 8)),
	ROW("unknown message type", H(0xff, 0, 8)),
	ROW("unexpected body", H(HELPER_MSG_END, 1, 8)),
	ROW("unexpected body", H(HELPER_MSG_END, 0, 9), 0),
	ROW("body is not 4 bytes", H(HELPER_MSG_BEGIN, 0, 8)),
	ROW("pid 0", H(HELPER_MSG_BEGIN, 0, 12), 0, 0, 0, 0),
	ROW("body is not 4 bytes", H(HELPER_MSG_FLUSH, 0, 11), 0, 0, 1),
	ROW("unknown flush mask", H(HELPER_MSG_FLUSH, 0, 12), 0, 0, 0, 0),
	ROW("unknown flush mask", H(HELPER_MSG_FLUSH, 0, 12), 0, 0, 0, 4),
	ROW("pid 0", H(HELPER_MSG_HELLO, 0, 12), 0, 0, 0, 0),
	ROW("record count out of range", H(HELPER_MSG_SET, 0, 8)),
	ROW("record count does not match the length",
	    H(HELPER_MSG_SET, 2, 32), R(4, 32, 0, 0, 60, 192, 0, 2, 1)),
	ROW("record count does not match the length",
	    H(HELPER_MSG_SET, 1, 33), R(4, 32, 0, 0, 60, 192, 0, 2, 1), 0),
	ROW("unknown address family",
	    H(HELPER_MSG_SET, 1, 32), R(5, 32, 0, 0, 60, 192, 0, 2, 1)),
	ROW("unknown address family",
	    H(HELPER_MSG_SET, 1, 32), R(0, 0, 0, 0, 0, 0, 0, 0, 0)),
	ROW("prefix length out of range",
	    H(HELPER_MSG_SET, 1, 32), R(4, 33, 0, 0, 60, 192, 0, 2, 1)),
	ROW("prefix length out of range",
	    H(HELPER_MSG_DEL, 1, 32), R(6, 129, 0, 0, 0, 0x20, 1, 0xd, 0xb8)),
	ROW("host bits set",
	    H(HELPER_MSG_SET, 1, 32), R(4, 24, 0, 0, 60, 192, 0, 2, 1)),
	ROW("host bits set",
	    H(HELPER_MSG_SET, 1, 32), R(6, 16, 0, 0, 60, 0x20, 1, 0xd, 0xb8)),
	ROW("reserved byte not zero",
	    H(HELPER_MSG_SET, 1, 32), R(4, 32, 0, 1, 60, 192, 0, 2, 1)),
	ROW("unknown set",
	    H(HELPER_MSG_SET, 1, 32), R(4, 32, 2, 0, 60, 192, 0, 2, 1)),
	ROW("allow elements have no timeout",
	    H(HELPER_MSG_LOAD, 1, 32), R(4, 32, 1, 0, 60, 192, 0, 2, 1)),
	ROW("IPv4 record with bytes after the address",
	    H(HELPER_MSG_SET, 1, 32), 4, 32, 0, 0, 0, 0, 0, 60, 192, 0, 2, 1,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
	ROW("IPv4-mapped address in an IPv6 record",
	    H(HELPER_MSG_SET, 1, 32), 6, 128, 0, 0, 0, 0, 0, 60,
	    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1),
	ROW("timeout out of range",
	    H(HELPER_MSG_SET, 1, 32), 4, 32, 0, 0, 0xff, 0xff, 0xff, 0xff,
	    192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
	/* the second record is the bad one: nothing half-decoded counts */
	ROW("host bits set", H(HELPER_MSG_LOAD, 2, 56),
	    R(4, 32, 0, 0, 60, 192, 0, 2, 1), R(4, 8, 0, 0, 60, 10, 0, 0, 1)),
	ROW("status shorter than 10 bytes", H(HELPER_MSG_STATUS, 0, 12),
	    0, 0, 0, 0),
	ROW("status result not 0 or 1", H(HELPER_MSG_STATUS, 0, 18),
	    0, 0, 0, 2, 0, 0, 0, 0, 0, 0),
	ROW("status error length out of range", H(HELPER_MSG_STATUS, 0, 19),
	    0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 'x'),
	ROW("control character in status text", H(HELPER_MSG_STATUS, 0, 19),
	    0, 0, 0, 1, 0, 0, 0, 0, 0, 1, '\n'),
	/* well-formed */
	ROW(NULL, H(HELPER_MSG_BEGIN, 0, 12), 0, 0, 0x10, 1),
	ROW(NULL, H(HELPER_MSG_FLUSH, 0, 12), 0, 0, 0, 3),
	ROW(NULL, H(HELPER_MSG_SET, 1, 32), R(4, 32, 0, 0, 60, 192, 0, 2, 1)),
	ROW(NULL, H(HELPER_MSG_LOAD, 1, 32), R(4, 0, 1, 0, 0, 0, 0, 0, 0)),
	ROW(NULL, H(HELPER_MSG_DEL, 1, 32), R(6, 32, 0, 0, 0, 0x20, 1, 0xd, 0xb8)),
	ROW(NULL, H(HELPER_MSG_STATUS, 0, 20), 0, 0, 0, 1, 0, 0, 0, 5, 0, 2,
	    'n', 'o'),
};

static void
test_helper_msg_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char	*error = NULL;
		int		 ret = helper_msg_decode(rows[i].in, rows[i].len,
		    &msg, &error);

		if (rows[i].want_error == NULL) {
			if (ret != 0)
				fail_msg("row %zu: unexpected error %s", i, error);
		} else {
			if (ret != -1)
				fail_msg("row %zu: decoded, want \"%s\"", i,
				    rows[i].want_error);
			assert_string_equal(error, rows[i].want_error);
		}
	}
}

static void
test_helper_msg_decoded_values(void **state)
{
	const char	*error;
	char		 text[MW_CIDR_STRLEN];

	(void)state;
	assert_int_equal(helper_msg_decode(rows[MW_N_ELEMENTS(rows) - 4].in,
	    rows[MW_N_ELEMENTS(rows) - 4].len, &msg, &error), 0);
	assert_int_equal(msg.type, HELPER_MSG_SET);
	assert_int_equal(msg.nelems, 1);
	assert_string_equal(mw_cidr_format(&msg.elems[0].net, text,
	    sizeof(text)), "192.0.2.1");
	assert_int_equal(msg.elems[0].timeout, 60);
	assert_int_equal(msg.elems[0].set, HELPER_SET_BAN);
	assert_int_equal(helper_msg_decode(rows[MW_N_ELEMENTS(rows) - 3].in,
	    rows[MW_N_ELEMENTS(rows) - 3].len, &msg, &error), 0);
	assert_string_equal(mw_cidr_format(&msg.elems[0].net, text,
	    sizeof(text)), "0.0.0.0/0");
	assert_int_equal(msg.elems[0].set, HELPER_SET_ALLOW);
	assert_int_equal(helper_msg_decode(rows[MW_N_ELEMENTS(rows) - 2].in,
	    rows[MW_N_ELEMENTS(rows) - 2].len, &msg, &error), 0);
	assert_string_equal(mw_cidr_format(&msg.elems[0].net, text,
	    sizeof(text)), "2001:db8::/32");
	assert_int_equal(helper_msg_decode(rows[MW_N_ELEMENTS(rows) - 1].in,
	    rows[MW_N_ELEMENTS(rows) - 1].len, &msg, &error), 0);
	assert_false(msg.ok);
	assert_int_equal(msg.applied, 5);
	assert_string_equal(msg.error, "no");
}

static void
elem(struct helper_elem *e, const char *cidr, enum helper_set set,
    uint32_t timeout)
{
	const char *error;

	memset(e, 0, sizeof(*e));
	assert_int_equal(mw_cidr_parse(cidr, &e->net, NULL, &error), 0);
	e->set = set;
	e->timeout = timeout;
}

static void
test_helper_msg_round_trip(void **state)
{
	static struct helper_elem	 e[HELPER_MSG_MAX_RECORDS];
	const char			*error;
	size_t				 len;
	char				 text[MW_CIDR_STRLEN];

	(void)state;
	len = helper_msg_encode(buf, sizeof(buf), HELPER_MSG_HELLO, 4242);
	assert_int_equal(len, 12);
	assert_int_equal(helper_msg_decode(buf, len, &msg, &error), 0);
	assert_int_equal(msg.type, HELPER_MSG_HELLO);
	assert_int_equal(msg.arg, 4242);
	len = helper_msg_encode(buf, sizeof(buf), HELPER_MSG_END, 0);
	assert_int_equal(len, 8);
	assert_int_equal(helper_msg_decode(buf, len, &msg, &error), 0);
	assert_int_equal(msg.type, HELPER_MSG_END);

	elem(&e[0], "203.0.113.9", HELPER_SET_BAN, 3600);
	elem(&e[1], "2001:db8::bad", HELPER_SET_BAN, 0);
	elem(&e[2], "198.51.100.0/24", HELPER_SET_BAN, HELPER_MSG_MAX_TIMEOUT);
	elem(&e[3], "2001:db8:1::/48", HELPER_SET_ALLOW, 0);
	elem(&e[4], "::/0", HELPER_SET_ALLOW, 0);
	len = helper_msg_encode_elems(buf, sizeof(buf), HELPER_MSG_LOAD, e, 5);
	assert_int_equal(len, HELPER_MSG_HDR + 5 * HELPER_MSG_REC);
	assert_int_equal(helper_msg_decode(buf, len, &msg, &error), 0);
	assert_int_equal(msg.nelems, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_memory_equal(&msg.elems[i].net, &e[i].net,
		    sizeof(e[i].net));
		assert_int_equal(msg.elems[i].set, e[i].set);
		assert_int_equal(msg.elems[i].timeout, e[i].timeout);
	}
	assert_string_equal(mw_cidr_format(&msg.elems[2].net, text,
	    sizeof(text)), "198.51.100.0/24");

	/* the largest message: every record, exactly HELPER_MSG_MAX bytes */
	for (size_t i = 0; i < HELPER_MSG_MAX_RECORDS; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		mw_addr_from_v4(0x0a000000U + (uint32_t)i, &e[i].net.addr);
		e[i].net.bits = 128;
		e[i].timeout = (uint32_t)i;
	}
	len = helper_msg_encode_elems(buf, sizeof(buf), HELPER_MSG_SET, e,
	    HELPER_MSG_MAX_RECORDS);
	assert_int_equal(len, HELPER_MSG_MAX);
	assert_int_equal(helper_msg_decode(buf, len, &msg, &error), 0);
	assert_int_equal(msg.nelems, HELPER_MSG_MAX_RECORDS);
	assert_int_equal(msg.elems[HELPER_MSG_MAX_RECORDS - 1].timeout,
	    HELPER_MSG_MAX_RECORDS - 1);
	/* one byte more than the limit, whatever the header says */
	buf[len] = 0;
	assert_int_equal(helper_msg_decode(buf, len + 1, &msg, &error), -1);
	assert_string_equal(error, "message longer than the limit");
	/* a count past the limit in a header that matches its length */
	buf[2] = (uint8_t)((HELPER_MSG_MAX_RECORDS + 1) >> 8);
	buf[3] = (uint8_t)(HELPER_MSG_MAX_RECORDS + 1);
	assert_int_equal(helper_msg_decode(buf, len, &msg, &error), -1);
	assert_string_equal(error, "record count out of range");
}

static void
test_helper_msg_status(void **state)
{
	const char	*error;
	char		 longer[HELPER_MSG_MAX_ERROR + 50];
	size_t		 len;

	(void)state;
	len = helper_msg_encode_status(buf, sizeof(buf), true, 1000000, NULL);
	assert_int_equal(helper_msg_decode(buf, len, &msg, &error), 0);
	assert_true(msg.ok);
	assert_int_equal(msg.applied, 1000000);
	assert_string_equal(msg.error, "");
	/* nft's text may hold anything: cut and made printable */
	memset(longer, 'e', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	longer[3] = '\n';
	len = helper_msg_encode_status(buf, sizeof(buf), false, 0, longer);
	assert_int_equal(len, HELPER_MSG_HDR + 10 + HELPER_MSG_MAX_ERROR);
	assert_int_equal(helper_msg_decode(buf, len, &msg, &error), 0);
	assert_false(msg.ok);
	assert_int_equal(strlen(msg.error), HELPER_MSG_MAX_ERROR);
	assert_int_equal(msg.error[3], '?');
}

static void
test_helper_elem_checks(void **state)
{
	struct helper_elem	 e;
	const char		*why = NULL;

	(void)state;
	elem(&e, "192.0.2.0/24", HELPER_SET_BAN, 10);
	assert_true(helper_elem_is_valid(&e, &why));
	e.net.addr.b[15] = 1;
	assert_false(helper_elem_is_valid(&e, &why));
	assert_string_equal(why, "host bits set");
	elem(&e, "192.0.2.1", HELPER_SET_ALLOW, 10);
	assert_false(helper_elem_is_valid(&e, &why));
	assert_string_equal(why, "allow elements have no timeout");
	elem(&e, "192.0.2.1", HELPER_SET_BAN, HELPER_MSG_MAX_TIMEOUT + 1);
	assert_false(helper_elem_is_valid(&e, &why));
	assert_string_equal(why, "timeout out of range");
	e.net.bits = 129;
	assert_false(helper_elem_is_valid(&e, &why));
	assert_string_equal(why, "prefix length out of range");
	assert_string_equal(helper_msg_type_name(HELPER_MSG_STATUS), "STATUS");
	assert_string_equal(helper_msg_type_name((enum helper_msg_type)77), "?");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helper_msg_rows),
		cmocka_unit_test(test_helper_msg_decoded_values),
		cmocka_unit_test(test_helper_msg_round_trip),
		cmocka_unit_test(test_helper_msg_status),
		cmocka_unit_test(test_helper_elem_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
