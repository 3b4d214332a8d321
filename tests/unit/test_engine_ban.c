/*
 * test_engine_ban - the in-memory ban table: exact and network matches,
 * expiry, removal with backward-shift deletion, interned reasons, and a
 * randomized run against a brute-force model (fixed seed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/ban.h"

static struct mw_cidr
net_of(const char *text)
{
	struct mw_arena	*a = mw_arena_new(256);
	struct mw_cidr	 c;
	const char	*error;

	assert_int_equal(mw_cidr_parse(text, &c, a, &error), 0);
	mw_arena_free(&a);
	return c;
}

static struct mw_addr
addr_of(const char *text)
{
	struct mw_addr a;

	assert_int_equal(mw_addr_parse(text, &a), 0);
	return a;
}

static void
test_ban_match_exact_and_network(void **state)
{
	struct ban_table t;
	struct store_ban b = { .reason = "r1", .first_seen = 1, .last_seen = 1 };
	struct mw_addr	 a;
	struct ban_entry *e;

	(void)state;
	ban_table_init(&t);
	b.net = net_of("203.0.113.9");
	ban_table_put(&t, &b);
	b.net = net_of("198.51.100.0/24");
	b.reason = "net";
	ban_table_put(&t, &b);
	b.net = net_of("2001:db8:bad::/64");
	ban_table_put(&t, &b);

	a = addr_of("203.0.113.9");
	assert_non_null(e = ban_table_match(&t, &a, 100));
	assert_string_equal(e->reason, "r1");
	a = addr_of("::ffff:203.0.113.9");	/* v4-mapped is the same client */
	assert_non_null(ban_table_match(&t, &a, 100));
	a = addr_of("203.0.113.10");
	assert_null(ban_table_match(&t, &a, 100));
	a = addr_of("198.51.100.77");
	assert_non_null(e = ban_table_match(&t, &a, 100));
	assert_int_equal(e->net.bits, 96 + 24);
	a = addr_of("2001:db8:bad::1234");
	assert_non_null(ban_table_match(&t, &a, 100));
	a = addr_of("2001:db8:bad:1::1");
	assert_null(ban_table_match(&t, &a, 100));
	assert_int_equal(t.nlens, 3);
	ban_table_deinit(&t);
}

static void
test_ban_expiry_and_replace(void **state)
{
	struct ban_table t;
	struct store_ban b = { .reason = "x", .expires = 50 };
	struct mw_addr	 a = addr_of("192.0.2.1");

	(void)state;
	ban_table_init(&t);
	b.net = net_of("192.0.2.1");
	ban_table_put(&t, &b);
	assert_non_null(ban_table_match(&t, &a, 49));
	assert_null(ban_table_match(&t, &a, 50));	/* expiry is exclusive */
	b.expires = 0;					/* permanent now */
	b.reason = "y";
	ban_table_put(&t, &b);
	assert_int_equal(t.n, 1);
	assert_non_null(ban_table_match(&t, &a, 1000000));
	assert_true(ban_table_remove(&t, &b.net));
	assert_false(ban_table_remove(&t, &b.net));
	assert_null(ban_table_match(&t, &a, 0));
	assert_int_equal(t.nlens, 0);
	ban_table_deinit(&t);
}

/* Random host and /24 bans against a flat array model. */
static void
test_ban_random_against_model(void **state)
{
	enum { N = 20000, OPS = 200000 };
	struct ban_table  t;
	struct mw_cidr	 *model = calloc(N, sizeof(*model));
	bool		 *present = calloc(N, sizeof(*present));
	uint64_t	  seed = 20261123;
	size_t		  count = 0;

	(void)state;
	ban_table_init(&t);
	for (size_t i = 0; i < N; i++) {
		struct mw_addr a;

		mw_addr_from_v4(0x0a000000u + (uint32_t)i * 7919u, &a);
		mw_cidr_from_addr(&a, i % 5 == 0 ? 96 + 24 : 128, &model[i]);
	}
	for (size_t op = 0; op < OPS; op++) {
		size_t i;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		i = (size_t)(seed >> 33) % N;
		if ((seed >> 20) % 3 == 0) {
			assert_int_equal(ban_table_remove(&t, &model[i]), present[i]);
			if (present[i])
				count--;
			present[i] = false;
		} else {
			struct store_ban b = { .net = model[i], .reason =
			    (seed >> 40) % 2 ? "even" : "odd" };

			ban_table_put(&t, &b);
			if (!present[i])
				count++;
			present[i] = true;
		}
		assert_int_equal(t.n, count);
	}
	for (size_t i = 0; i < N; i++) {
		struct ban_entry *e = ban_table_get(&t, &model[i]);

		assert_int_equal(e != NULL, present[i]);
	}
	ban_table_deinit(&t);
	free(model);
	free(present);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ban_match_exact_and_network),
		cmocka_unit_test(test_ban_expiry_and_replace),
		cmocka_unit_test(test_ban_random_against_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
