/*
 * test_dnsbl_query - DNSBL query names: IPv4 reversed octets, IPv4-mapped
 * IPv6 as IPv4, IPv6 as 32 reversed lowercase nibbles, the zone's trailing
 * dot, and names that do not fit (buffer or DNS's 253 bytes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dnsbl/dnsbl.h"

static struct mw_addr
addr_of(const char *text)
{
	struct mw_addr a;

	assert_int_equal(mw_addr_parse(text, &a), 0);
	return a;
}

static const struct {
	const char	*addr, *zone, *want;
} cases[] = {
	{ "203.0.113.5", "zen.spamhaus.org", "5.113.0.203.zen.spamhaus.org" },
	{ "127.0.0.2", "zen.dnsbl.test", "2.0.0.127.zen.dnsbl.test" },
	{ "0.0.0.0", "z", "0.0.0.0.z" },
	{ "255.254.253.252", "bl.spamcop.net.", "252.253.254.255.bl.spamcop.net" },
	{ "::ffff:203.0.113.5", "zen.spamhaus.org",
	    "5.113.0.203.zen.spamhaus.org" },
	{ "::FFFF:7f00:2", "zen.dnsbl.test", "2.0.0.127.zen.dnsbl.test" },
	{ "2001:db8:bad::1", "zen.spamhaus.org",
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.a.b.0.8.b.d.0.1.0.0.2"
	    ".zen.spamhaus.org" },
	{ "2001:DB8:ABCD:EF01:2345:6789:ABCD:EF01", "x.test",
	    "1.0.f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0.f.e.d.c.b.a.8.b.d.0.1.0.0.2"
	    ".x.test" },
	{ "::1", "v6.test",
	    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	    ".v6.test" },
};

static void
test_dnsbl_query_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(cases); i++) {
		struct mw_addr	a = addr_of(cases[i].addr);
		char		buf[DNSBL_MAX_NAME];

		memset(buf, 'X', sizeof(buf));
		assert_int_equal(dnsbl_query_name(&a, cases[i].zone, buf,
		    sizeof(buf)), 0);
		assert_string_equal(buf, cases[i].want);
	}
}

static void
test_dnsbl_query_bounds(void **state)
{
	struct mw_addr	v4 = addr_of("203.0.113.5"), v6 = addr_of("2001:db8::1");
	char		buf[DNSBL_MAX_NAME], zone[300];
	char		small[sizeof("5.113.0.203.zen")];

	(void)state;
	/* Exactly fits: strlen 15 + NUL. */
	assert_int_equal(dnsbl_query_name(&v4, "zen", small, sizeof(small)), 0);
	assert_string_equal(small, "5.113.0.203.zen");
	/* One byte short: fails, and writes nothing past the buffer. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(dnsbl_query_name(&v4, "zen", buf, sizeof(small) - 1),
	    -1);
	assert_int_equal(buf[sizeof(small) - 1], 'X');
	assert_int_equal(dnsbl_query_name(&v4, "zen", buf, 0), -1);
	/* Empty and dot-only zones are not zones. */
	assert_int_equal(dnsbl_query_name(&v4, "", buf, sizeof(buf)), -1);
	assert_int_equal(dnsbl_query_name(&v4, ".", buf, sizeof(buf)), -1);
	assert_int_equal(dnsbl_query_name(&v4, NULL, buf, sizeof(buf)), -1);
	/* IPv6 prefix is 64 bytes: a 189-byte zone makes 253, the DNS
	   maximum; 190 is one too many even though the buffer holds it. */
	memset(zone, 'a', sizeof(zone));
	for (size_t i = 50; i < 189; i += 50)
		zone[i] = '.';
	zone[189] = '\0';
	assert_int_equal(dnsbl_query_name(&v6, zone, buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 253);
	zone[189] = 'a';
	zone[190] = '\0';
	assert_int_equal(dnsbl_query_name(&v6, zone, buf, sizeof(buf)), -1);
	/* A 299-byte zone: never overflows. */
	zone[190] = 'a';
	zone[299] = '\0';
	assert_int_equal(strlen(zone), 299);
	assert_int_equal(dnsbl_query_name(&v4, zone, buf, sizeof(buf)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsbl_query_cases),
		cmocka_unit_test(test_dnsbl_query_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
