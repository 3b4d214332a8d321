/*
 * test_dnsbl_answer - what DNSBL answers mean: Spamhaus ZEN codes (SBL,
 * CSS, XBL, DROP, PBL at the MX and on submission), several records in one
 * answer, the 127.255.255.x error codes alone and mixed with listings,
 * bogus answers outside 127/8, DNSWL (negative) classes, default weights,
 * SpamCop/Barracuda-style single-code zones; and the names of statuses
 * and classes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dnsbl/dnsbl.h"

#define IP(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d))

static struct cfg_zone zen, spamcop, dnswl, bare;

static void
code(struct cfg_zone *z, uint32_t first, uint32_t last, int32_t weight,
    enum dnsbl_class klass)
{
	z->codes[z->ncodes++] = (struct cfg_zone_code){ first, last, weight,
	    klass };
}

static int
setup(void **state)
{
	(void)state;
	/* As a spamhaus-zen preset would: XBL weighs more than SBL here only
	   so the tests can tell which record set the weight. */
	zen = (struct cfg_zone){ .name = "zen", .zone = "zen.spamhaus.org",
	    .enabled = true, .ipv6 = true, .default_weight = 1 };
	code(&zen, IP(127, 0, 0, 2), IP(127, 0, 0, 2), 2, DNSBL_CLASS_SBL);
	code(&zen, IP(127, 0, 0, 3), IP(127, 0, 0, 3), 2, DNSBL_CLASS_CSS);
	code(&zen, IP(127, 0, 0, 4), IP(127, 0, 0, 7), 3, DNSBL_CLASS_XBL);
	code(&zen, IP(127, 0, 0, 9), IP(127, 0, 0, 9), 4, DNSBL_CLASS_DROP);
	code(&zen, IP(127, 0, 0, 10), IP(127, 0, 0, 11), 2, DNSBL_CLASS_PBL);

	spamcop = (struct cfg_zone){ .name = "spamcop",
	    .zone = "bl.spamcop.net", .enabled = true, .default_weight = 1 };
	code(&spamcop, IP(127, 0, 0, 2), IP(127, 0, 0, 2), 1,
	    DNSBL_CLASS_LISTED);

	/* list.dnswl.org style: 127.0.<category>.<trust 0-3>; the first
	   matching rule wins, so the narrow "high trust" rule comes first. */
	dnswl = (struct cfg_zone){ .name = "dnswl", .zone = "list.dnswl.org",
	    .enabled = true, .default_weight = 0 };
	code(&dnswl, IP(127, 0, 15, 3), IP(127, 0, 15, 3), -5,
	    DNSBL_CLASS_ALLOW);
	code(&dnswl, IP(127, 0, 0, 0), IP(127, 0, 255, 3), -1,
	    DNSBL_CLASS_ALLOW);
	code(&dnswl, IP(127, 0, 0, 2), IP(127, 0, 0, 2), 7,
	    DNSBL_CLASS_LISTED);	/* shadowed by the rule above */

	/* No rules at all: any 127/8 answer gets default_weight. */
	bare = (struct cfg_zone){ .name = "bare", .zone = "b.barracudacentral.org",
	    .enabled = true, .default_weight = 2 };
	return 0;
}

struct row {
	const char		*what;
	const struct cfg_zone	*zone;
	uint32_t		 answers[12];
	size_t			 n;
	bool			 submission;
	enum dnsbl_status	 status;
	int32_t			 weight;
	enum dnsbl_class	 klass;
	uint32_t		 first;	/* answers[0] after eval */
};

static void
run_rows(const struct row *rows, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++) {
		const struct row	 *w = &rows[i];
		struct dnsbl_zone_result r;

		memset(&r, 0xa5, sizeof(r));
		dnsbl_answer_eval(w->zone, w->answers, w->n, w->submission, &r);
		print_message("row %zu: %s\n", i, w->what);
		assert_ptr_equal(r.zone, w->zone);
		assert_string_equal(dnsbl_status_name(r.status),
		    dnsbl_status_name(w->status));
		assert_int_equal(r.weight, w->weight);
		assert_string_equal(dnsbl_class_name(r.klass),
		    dnsbl_class_name(w->klass));
		assert_int_equal(r.nanswers, w->n < DNSBL_MAX_ANSWERS ? w->n :
		    DNSBL_MAX_ANSWERS);
		if (w->n > 0)
			assert_int_equal(r.answers[0], w->first);
	}
}

static void
test_dnsbl_answer_table(void **state)
{
	const struct row rows[] = {
		/* malformed / not a listing first */
		{ "nxdomain", &zen, { 0 }, 0, false,
		    DNSBL_NOT_LISTED, 0, DNSBL_CLASS_LISTED, 0 },
		{ "bogus only (wildcard zone)", &zen,
		    { IP(192, 0, 2, 1), IP(10, 0, 0, 2) }, 2, false,
		    DNSBL_NOT_LISTED, 0, DNSBL_CLASS_LISTED, IP(192, 0, 2, 1) },
		{ "public resolver refused", &zen,
		    { IP(127, 255, 255, 254) }, 1, false,
		    DNSBL_REFUSED, 0, DNSBL_CLASS_LISTED, IP(127, 255, 255, 254) },
		{ "refused wins over listings that came with it", &zen,
		    { IP(127, 0, 0, 2), IP(127, 0, 0, 9), IP(127, 255, 255, 254) },
		    3, false, DNSBL_REFUSED, 0, DNSBL_CLASS_LISTED,
		    IP(127, 255, 255, 254) },
		{ "typo code", &zen, { IP(127, 255, 255, 252) }, 1, false,
		    DNSBL_REFUSED, 0, DNSBL_CLASS_LISTED, IP(127, 255, 255, 252) },
		{ "volume code", &spamcop, { IP(127, 255, 255, 255) }, 1, false,
		    DNSBL_REFUSED, 0, DNSBL_CLASS_LISTED, IP(127, 255, 255, 255) },
		{ "127.255.254.1 is not an error code", &zen,
		    { IP(127, 255, 254, 1) }, 1, false,
		    DNSBL_LISTED, 1, DNSBL_CLASS_LISTED, IP(127, 255, 254, 1) },
		/* Spamhaus ZEN */
		{ "SBL", &zen, { IP(127, 0, 0, 2) }, 1, false,
		    DNSBL_LISTED, 2, DNSBL_CLASS_SBL, IP(127, 0, 0, 2) },
		{ "CSS", &zen, { IP(127, 0, 0, 3) }, 1, false,
		    DNSBL_LISTED, 2, DNSBL_CLASS_CSS, IP(127, 0, 0, 3) },
		{ "XBL .4", &zen, { IP(127, 0, 0, 4) }, 1, false,
		    DNSBL_LISTED, 3, DNSBL_CLASS_XBL, IP(127, 0, 0, 4) },
		{ "XBL .7 (range end)", &zen, { IP(127, 0, 0, 7) }, 1, true,
		    DNSBL_LISTED, 3, DNSBL_CLASS_XBL, IP(127, 0, 0, 7) },
		{ "PBL at the MX", &zen, { IP(127, 0, 0, 10) }, 1, false,
		    DNSBL_LISTED, 2, DNSBL_CLASS_PBL, IP(127, 0, 0, 10) },
		{ "PBL on submission weighs 0", &zen, { IP(127, 0, 0, 11) }, 1,
		    true, DNSBL_LISTED, 0, DNSBL_CLASS_PBL, IP(127, 0, 0, 11) },
		{ "XBL + PBL on submission: XBL counts", &zen,
		    { IP(127, 0, 0, 10), IP(127, 0, 0, 4) }, 2, true,
		    DNSBL_LISTED, 3, DNSBL_CLASS_XBL, IP(127, 0, 0, 4) },
		{ "SBL + DROP: the larger weight", &zen,
		    { IP(127, 0, 0, 2), IP(127, 0, 0, 9) }, 2, false,
		    DNSBL_LISTED, 4, DNSBL_CLASS_DROP, IP(127, 0, 0, 9) },
		{ "DROP + SBL, other order", &zen,
		    { IP(127, 0, 0, 9), IP(127, 0, 0, 2) }, 2, false,
		    DNSBL_LISTED, 4, DNSBL_CLASS_DROP, IP(127, 0, 0, 9) },
		{ "equal weights: the first record", &zen,
		    { IP(127, 0, 0, 3), IP(127, 0, 0, 2) }, 2, false,
		    DNSBL_LISTED, 2, DNSBL_CLASS_CSS, IP(127, 0, 0, 3) },
		{ "unknown code: default weight", &zen, { IP(127, 0, 0, 30) }, 1,
		    false, DNSBL_LISTED, 1, DNSBL_CLASS_LISTED, IP(127, 0, 0, 30) },
		{ "bogus record beside a listing is ignored", &zen,
		    { IP(8, 8, 8, 8), IP(127, 0, 0, 2) }, 2, false,
		    DNSBL_LISTED, 2, DNSBL_CLASS_SBL, IP(127, 0, 0, 2) },
		{ "error code past the 8 kept records still refuses", &zen,
		    { IP(127, 0, 0, 2), IP(127, 0, 0, 2), IP(127, 0, 0, 2),
		      IP(127, 0, 0, 2), IP(127, 0, 0, 2), IP(127, 0, 0, 2),
		      IP(127, 0, 0, 2), IP(127, 0, 0, 2), IP(127, 0, 0, 2),
		      IP(127, 255, 255, 254) }, 10, false,
		    DNSBL_REFUSED, 0, DNSBL_CLASS_LISTED, IP(127, 255, 255, 254) },
		/* SpamCop / Barracuda */
		{ "spamcop .2", &spamcop, { IP(127, 0, 0, 2) }, 1, false,
		    DNSBL_LISTED, 1, DNSBL_CLASS_LISTED, IP(127, 0, 0, 2) },
		{ "spamcop other code: default", &spamcop, { IP(127, 0, 0, 5) },
		    1, true, DNSBL_LISTED, 1, DNSBL_CLASS_LISTED,
		    IP(127, 0, 0, 5) },
		{ "barracuda without rules", &bare, { IP(127, 0, 0, 2) }, 1,
		    false, DNSBL_LISTED, 2, DNSBL_CLASS_LISTED, IP(127, 0, 0, 2) },
		/* DNSWL: negative weights */
		{ "dnswl low trust", &dnswl, { IP(127, 0, 9, 1) }, 1, false,
		    DNSBL_LISTED, -1, DNSBL_CLASS_ALLOW, IP(127, 0, 9, 1) },
		{ "dnswl high trust: most negative wins", &dnswl,
		    { IP(127, 0, 9, 1), IP(127, 0, 15, 3), IP(127, 0, 5, 0) }, 3,
		    false, DNSBL_LISTED, -5, DNSBL_CLASS_ALLOW, IP(127, 0, 15, 3) },
		{ "dnswl: first matching rule wins", &dnswl, { IP(127, 0, 0, 2) },
		    1, false, DNSBL_LISTED, -1, DNSBL_CLASS_ALLOW,
		    IP(127, 0, 0, 2) },
		{ "dnswl: outside every rule, default 0", &dnswl,
		    { IP(127, 1, 0, 9) }, 1, false, DNSBL_LISTED, 0,
		    DNSBL_CLASS_LISTED, IP(127, 1, 0, 9) },
		{ "dnswl: an allow answer beats a positive one", &dnswl,
		    { IP(127, 1, 0, 9), IP(127, 0, 9, 0) }, 2, false,
		    DNSBL_LISTED, -1, DNSBL_CLASS_ALLOW, IP(127, 0, 9, 0) },
	};

	(void)state;
	run_rows(rows, MW_N_ELEMENTS(rows));
}

static void
test_dnsbl_answer_names(void **state)
{
	(void)state;
	assert_string_equal(dnsbl_status_name(DNSBL_LISTED), "listed");
	assert_string_equal(dnsbl_status_name(DNSBL_NOT_LISTED), "not_listed");
	assert_string_equal(dnsbl_status_name(DNSBL_REFUSED), "refused");
	assert_string_equal(dnsbl_status_name(DNSBL_TIMEOUT), "timeout");
	assert_string_equal(dnsbl_status_name(DNSBL_FAILED), "failed");
	assert_string_equal(dnsbl_status_name(DNSBL_SKIPPED), "skipped");
	assert_string_equal(dnsbl_status_name((enum dnsbl_status)99), "unknown");
	assert_string_equal(dnsbl_class_name(DNSBL_CLASS_LISTED), "LISTED");
	assert_string_equal(dnsbl_class_name(DNSBL_CLASS_SBL), "SBL");
	assert_string_equal(dnsbl_class_name(DNSBL_CLASS_CSS), "CSS");
	assert_string_equal(dnsbl_class_name(DNSBL_CLASS_XBL), "XBL");
	assert_string_equal(dnsbl_class_name(DNSBL_CLASS_DROP), "DROP");
	assert_string_equal(dnsbl_class_name(DNSBL_CLASS_PBL), "PBL");
	assert_string_equal(dnsbl_class_name(DNSBL_CLASS_ALLOW), "ALLOW");
	assert_string_equal(dnsbl_class_name((enum dnsbl_class)99), "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsbl_answer_table),
		cmocka_unit_test(test_dnsbl_answer_names),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
