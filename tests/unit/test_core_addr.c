/*
 * test_core_addr - IP/CIDR parsing and formatting (v4, v6, v4-mapped),
 * malformed input first, and the prefix trie (longest-prefix match,
 * replace, remove, walk, a randomized run against brute force), and
 * mw_addr_parse_len's IPv4 fast path against inet_pton.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/trie.h"

static const struct {
	const char *in;
	const char *want_error;	/* NULL: valid */
	const char *want_text;	/* canonical form */
} cidr_cases[] = {
	{ "10.0.0.0/33", "\"10.0.0.0/33\": prefix length must be a number "
	  "from 0 to 32 for IPv4", NULL },
	{ "::ffff:1.2.3.4/200", "\"::ffff:1.2.3.4/200\": prefix length must be "
	  "a number from 0 to 128 for IPv6", NULL },
	{ "garbage", "\"garbage\" is not an IPv4 or IPv6 address or network", NULL },
	{ "", "\"\" is not an IPv4 or IPv6 address or network", NULL },
	{ "10.0.0.1/8", "\"10.0.0.1/8\" has host bits set; did you mean "
	  "\"10.0.0.0/8\"?", NULL },
	{ "2001:db8::1/32", "\"2001:db8::1/32\" has host bits set; did you mean "
	  "\"2001:db8::/32\"?", NULL },
	{ "10.0.0.0/", "\"10.0.0.0/\": prefix length must be a number from 0 "
	  "to 32 for IPv4", NULL },
	{ "10.0.0.0/-1", "\"10.0.0.0/-1\": prefix length must be a number from "
	  "0 to 32 for IPv4", NULL },
	{ "10.0.0.0/08x", "\"10.0.0.0/08x\": prefix length must be a number "
	  "from 0 to 32 for IPv4", NULL },
	{ "1.2.3", "\"1.2.3\" is not an IPv4 or IPv6 address or network", NULL },
	{ "256.1.1.1", "\"256.1.1.1\" is not an IPv4 or IPv6 address or network",
	  NULL },
	{ "fe80::1%eth0", "\"fe80::1%eth0\" is not an IPv4 or IPv6 address or "
	  "network", NULL },
	{ "[::1]", "\"[::1]\" is not an IPv4 or IPv6 address or network", NULL },
	{ "::ffff:1.2.3.0/90", "\"::ffff:1.2.3.0/90\": an IPv4-mapped network "
	  "needs a prefix length from 96 to 128", NULL },
	/* valid */
	{ "192.0.2.1", NULL, "192.0.2.1" },
	{ "192.0.2.0/24", NULL, "192.0.2.0/24" },
	{ "0.0.0.0/0", NULL, "0.0.0.0/0" },
	{ "192.0.2.1/32", NULL, "192.0.2.1" },
	{ "::ffff:192.0.2.1", NULL, "192.0.2.1" },
	{ "::ffff:192.0.2.0/120", NULL, "192.0.2.0/24" },
	{ "2001:DB8:0:0::1", NULL, "2001:db8::1" },
	{ "2001:db8:bad::/48", NULL, "2001:db8:bad::/48" },
	{ "::/0", NULL, "::/0" },
	{ "::1", NULL, "::1" },
};

static void
test_cidr_parse_cases(void **state)
{
	struct mw_arena *a = mw_arena_new(1024);

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(cidr_cases); i++) {
		struct mw_cidr	 c;
		const char	*error = NULL;
		char		 buf[MW_CIDR_STRLEN];
		int		 ret = mw_cidr_parse(cidr_cases[i].in, &c, a, &error);

		if (cidr_cases[i].want_error != NULL) {
			if (ret != -1)
				fail_msg("case %zu \"%s\" parsed", i, cidr_cases[i].in);
			assert_string_equal(error, cidr_cases[i].want_error);
		} else {
			if (ret != 0)
				fail_msg("case %zu \"%s\": %s", i, cidr_cases[i].in,
				    error);
			assert_string_equal(mw_cidr_format(&c, buf, sizeof(buf)),
			    cidr_cases[i].want_text);
		}
	}
	mw_arena_free(&a);
}

static void
test_cidr_loose_masks(void **state)
{
	struct mw_arena	*a = mw_arena_new(1024);
	struct mw_cidr	 c;
	const char	*error;
	char		 buf[MW_CIDR_STRLEN];

	(void)state;
	assert_int_equal(mw_cidr_parse_loose("10.1.2.3/8", &c, a, &error), 0);
	assert_string_equal(mw_cidr_format(&c, buf, sizeof(buf)), "10.0.0.0/8");
	mw_arena_free(&a);
}

static void
test_addr_v4_mapped_is_v4(void **state)
{
	struct mw_addr	 x, y;
	char		 buf[MW_ADDR_STRLEN];

	(void)state;
	assert_int_equal(mw_addr_parse("203.0.113.9", &x), 0);
	assert_int_equal(mw_addr_parse("::ffff:203.0.113.9", &y), 0);
	assert_int_equal(mw_addr_cmp(&x, &y), 0);
	assert_true(mw_addr_is_v4(&x));
	assert_string_equal(mw_addr_format(&y, buf, sizeof(buf)), "203.0.113.9");
	assert_int_equal(mw_addr_parse("2001:db8::1", &x), 0);
	assert_false(mw_addr_is_v4(&x));
	assert_int_equal(mw_addr_parse_len("10.0.0.1xyz", 8, &x), 0);
	assert_string_equal(mw_addr_format(&x, buf, sizeof(buf)), "10.0.0.1");
	assert_int_equal(mw_addr_parse_len("10.0\0.0.1", 9, &x), -1);
}

static struct mw_cidr
cidr(const char *text)
{
	struct mw_arena	*a = mw_arena_new(256);
	struct mw_cidr	 c;
	const char	*error;

	if (mw_cidr_parse(text, &c, a, &error) < 0)
		fail_msg("%s", error);
	mw_arena_free(&a);
	return c;
}

static const char *
lookup(struct mw_trie *t, const char *addr)
{
	struct mw_addr a;

	assert_int_equal(mw_addr_parse(addr, &a), 0);
	return mw_trie_lookup(t, &a, NULL);
}

static void
test_trie_longest_prefix(void **state)
{
	struct mw_trie	*t = mw_trie_new();
	struct mw_cidr	 c;

	(void)state;
	c = cidr("10.0.0.0/8");
	assert_null(mw_trie_insert(t, &c, "ten"));
	c = cidr("10.1.0.0/16");
	assert_null(mw_trie_insert(t, &c, "ten-one"));
	c = cidr("10.1.2.3");
	assert_null(mw_trie_insert(t, &c, "host"));
	c = cidr("2001:db8::/32");
	assert_null(mw_trie_insert(t, &c, "doc6"));
	c = cidr("0.0.0.0/0");
	assert_null(mw_trie_insert(t, &c, "all4"));
	assert_int_equal(mw_trie_count(t), 5);

	assert_string_equal(lookup(t, "10.1.2.3"), "host");
	assert_string_equal(lookup(t, "::ffff:10.1.2.3"), "host");
	assert_string_equal(lookup(t, "10.1.2.4"), "ten-one");
	assert_string_equal(lookup(t, "10.2.0.1"), "ten");
	assert_string_equal(lookup(t, "11.0.0.1"), "all4");
	assert_string_equal(lookup(t, "2001:db8:1::5"), "doc6");
	assert_null(lookup(t, "2001:db9::1"));	/* 0.0.0.0/0 is IPv4 only */

	c = cidr("10.1.0.0/16");
	assert_string_equal(mw_trie_insert(t, &c, "replaced"), "ten-one");
	assert_string_equal(lookup(t, "10.1.9.9"), "replaced");
	assert_string_equal(mw_trie_remove(t, &c), "replaced");
	assert_null(mw_trie_remove(t, &c));
	assert_string_equal(lookup(t, "10.1.9.9"), "ten");
	assert_string_equal(lookup(t, "10.1.2.3"), "host");
	c = cidr("10.1.2.3");
	assert_string_equal(mw_trie_get(t, &c), "host");
	c = cidr("10.1.2.0/24");
	assert_null(mw_trie_get(t, &c));
	assert_int_equal(mw_trie_count(t), 4);
	mw_trie_free(&t);
	assert_null(t);
}

static bool
count_walk(void *ctx, const struct mw_cidr *key, void *value)
{
	(void)key;
	(void)value;
	(*(size_t *)ctx)++;
	return true;
}

/* Random /8../32 networks in 10/8 against a brute-force scan. */
static void
test_trie_random_against_brute_force(void **state)
{
	enum { N = 3000, LOOKUPS = 20000 };
	struct mw_trie	*t = mw_trie_new();
	struct mw_cidr	*nets = calloc(N, sizeof(*nets));
	bool		*live = calloc(N, sizeof(*live));
	uint64_t	 seed = 42;
	size_t		 walked = 0, nlive = 0;

	(void)state;
	for (size_t i = 0; i < N; i++) {
		struct mw_addr a;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		mw_addr_from_v4(0x0a000000u | (uint32_t)(seed >> 40), &a);
		mw_cidr_from_addr(&a, (uint8_t)(96 + 8 + (seed >> 20) % 25),
		    &nets[i]);
		if (mw_trie_get(t, &nets[i]) == NULL) {
			(void)mw_trie_insert(t, &nets[i], &nets[i]);
			live[i] = true;
		}
	}
	/* Remove a third. */
	for (size_t i = 0; i < N; i += 3)
		if (live[i]) {
			assert_ptr_equal(mw_trie_remove(t, &nets[i]), &nets[i]);
			live[i] = false;
		}
	for (size_t i = 0; i < N; i++)
		nlive += live[i];
	mw_trie_walk(t, count_walk, &walked);
	assert_int_equal(walked, nlive);
	assert_int_equal(mw_trie_count(t), nlive);
	for (size_t k = 0; k < LOOKUPS; k++) {
		struct mw_addr	 a;
		struct mw_cidr	*best = NULL, *got;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		mw_addr_from_v4(0x0a000000u | (uint32_t)(seed >> 40), &a);
		for (size_t i = 0; i < N; i++)
			if (live[i] && mw_cidr_contains(&nets[i], &a) &&
			    (best == NULL || nets[i].bits > best->bits))
				best = &nets[i];
		got = mw_trie_lookup(t, &a, NULL);
		if (best == NULL)
			assert_null(got);
		else
			assert_int_equal(got->bits, best->bits);
	}
	mw_trie_free(&t);
	free(nets);
	free(live);
}

/* What inet_pton makes of text[0, len): the reference the fast IPv4 path
   of mw_addr_parse_len must agree with, byte for byte. */
static int
ref_parse(const char *text, size_t len, struct mw_addr *a)
{
	char		 tmp[MW_ADDR_STRLEN];
	struct in_addr	 in4;

	if (len == 0 || len >= sizeof(tmp) || memchr(text, '\0', len) != NULL)
		return -1;
	memcpy(tmp, text, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, &in4) == 1) {
		mw_addr_from_v4(ntohl(in4.s_addr), a);
		return 0;
	}
	return inet_pton(AF_INET6, tmp, a->b) == 1 ? 0 : -1;
}

static void
check_parse_like_inet_pton(const char *text, size_t len)
{
	struct mw_addr	 got, want;
	int		 rg, rw;

	memset(&got, 0xa5, sizeof(got));
	memset(&want, 0xa5, sizeof(want));
	rg = mw_addr_parse_len(text, len, &got);
	rw = ref_parse(text, len, &want);
	if (rg != rw || memcmp(&got, &want, sizeof(got)) != 0)
		fail_msg("\"%.*s\": %d, inet_pton %d", (int)len, text, rg, rw);
}

static void
test_addr_parse_v4_like_inet_pton(void **state)
{
	static const char *const cases[] = {
		"0.0.0.0", "255.255.255.255", "192.0.2.1", "1.2.3.4",
		"01.2.3.4", "1.02.3.4", "1.2.3.00", "0.0.0.00", "256.1.1.1",
		"1.2.3.256", "1.2.3.999", "1.2.3.1000", "1.2.3", "1.2.3.4.",
		".1.2.3.4", "1..2.3", "1.2.3.4.5", "1.2.3.", "", ".", "....",
		"1.2.3.4 ", " 1.2.3.4", "1.2.3.4x", "::ffff:1.2.3.4", "::1",
		"1.2.3.-4", "1234", "0", "0.0.0.0000", "255.255.255.2550",
		"2001:db8::1", "unknown", "1.2.3.04", "1e1.2.3.4",
	};
	static const char alphabet[] = "0123456789.....:a \0";
	char buf[24];

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(cases); i++)
		check_parse_like_inet_pton(cases[i], strlen(cases[i]));
	check_parse_like_inet_pton("1.2.3.4\0", 8);
	check_parse_like_inet_pton("1.2.3\0.4", 9);
	/* Random strings, mostly digits and dots, some near-addresses. */
	srandom(4711);
	for (int n = 0; n < 200000; n++) {
		size_t len = (size_t)random() % 18;

		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[(size_t)random() %
			    (sizeof(alphabet) - 1)];
		check_parse_like_inet_pton(buf, len);
		len = (size_t)snprintf(buf, sizeof(buf), "%d.%d.%d.%d",
		    (int)(random() % 300), (int)(random() % 300),
		    (int)(random() % 300), (int)(random() % 300));
		check_parse_like_inet_pton(buf, len);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_parse_cases),
		cmocka_unit_test(test_cidr_loose_masks),
		cmocka_unit_test(test_addr_v4_mapped_is_v4),
		cmocka_unit_test(test_addr_parse_v4_like_inet_pton),
		cmocka_unit_test(test_trie_longest_prefix),
		cmocka_unit_test(test_trie_random_against_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
