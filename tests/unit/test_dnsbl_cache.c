/*
 * test_dnsbl_cache - the DNSBL answer cache: TTL policy (clamp, negative,
 * failures), expiry under a driven clock, replacement, per-zone keys,
 * capacity eviction (oldest first, never above the maximum), shrinking,
 * dropping one zone, many entries (table growth) against a model; and the
 * resolv.conf reader used when no resolver is configured.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dnsbl/dnsbl_int.h"

static struct mw_addr
addr_n(uint32_t n)
{
	struct mw_addr a;

	mw_addr_from_v4(0xc6120000u + n, &a);	/* 198.18.0.0/15 */
	return a;
}

static struct dnsbl_cache_val
val_answer(uint32_t answer, uint64_t expires_ms)
{
	return (struct dnsbl_cache_val){ .kind = DNSBL_CACHE_ANSWER,
	    .answers = { answer }, .nanswers = 1, .expires_ms = expires_ms };
}

static void
test_dnsbl_cache_ttl_policy(void **state)
{
	struct cfg cfg;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.dnsbl.cache_min_ttl = 60;
	cfg.dnsbl.cache_max_ttl = 3600;
	cfg.dnsbl.negative_ttl = 300;
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 0), 60);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 59), 60);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 60), 60);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 900), 900);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 3600), 3600);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 86400),
	    3600);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, UINT32_MAX),
	    3600);
	/* NXDOMAIN: negative_ttl whatever the answer said. */
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_NXDOMAIN, 5), 300);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_NXDOMAIN, 9000),
	    300);
	/* Failures: briefly, to spare a dead server. */
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_TIMEOUT, 900),
	    DNSBL_FAIL_TTL);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_FAILED, 0),
	    DNSBL_FAIL_TTL);
	/* Absurd configured values are capped. */
	cfg.dnsbl.cache_min_ttl = UINT64_MAX;
	cfg.dnsbl.cache_max_ttl = UINT64_MAX;
	cfg.dnsbl.negative_ttl = (uint64_t)1 << 40;
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 1),
	    DNSBL_MAX_TTL);
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_NXDOMAIN, 1),
	    DNSBL_MAX_TTL);
	/* min above max: max wins (never longer than the admin allows). */
	cfg.dnsbl.cache_min_ttl = 100;
	cfg.dnsbl.cache_max_ttl = 50;
	assert_int_equal(dnsbl_cache_ttl(&cfg, DNSBL_CACHE_ANSWER, 1), 50);
}

static void
test_dnsbl_cache_expiry(void **state)
{
	struct dnsbl_cache	*c = dnsbl_cache_new(100);
	struct dnsbl_cache_val	 v = val_answer(0x7f000002u, 61000), got;
	struct dnsbl_cache_stats st;
	struct mw_addr		 a = addr_n(1);

	(void)state;
	dnsbl_cache_put(c, 1, &a, &v, 1000);
	assert_int_equal(dnsbl_cache_count(c), 1);
	memset(&got, 0, sizeof(got));
	assert_true(dnsbl_cache_get(c, 1, &a, 1000, &got));
	assert_int_equal(got.kind, DNSBL_CACHE_ANSWER);
	assert_int_equal(got.nanswers, 1);
	assert_int_equal(got.answers[0], 0x7f000002u);
	assert_int_equal(got.expires_ms, 61000);
	assert_true(dnsbl_cache_get(c, 1, &a, 60999, &got));
	/* Another zone, another address: misses. */
	assert_false(dnsbl_cache_get(c, 2, &a, 1000, &got));
	a = addr_n(2);
	assert_false(dnsbl_cache_get(c, 1, &a, 1000, &got));
	a = addr_n(1);
	/* At the expiry instant the entry is gone, and removed. */
	assert_false(dnsbl_cache_get(c, 1, &a, 61000, &got));
	assert_int_equal(dnsbl_cache_count(c), 0);
	dnsbl_cache_get_stats(c, &st);
	assert_int_equal(st.expired, 1);
	/* Putting something already expired stores nothing. */
	dnsbl_cache_put(c, 1, &a, &v, 61000);
	assert_int_equal(dnsbl_cache_count(c), 0);
	dnsbl_cache_free(&c);
	assert_null(c);
	dnsbl_cache_free(&c);	/* NULL-safe */
}

static void
test_dnsbl_cache_replace_and_zones(void **state)
{
	struct dnsbl_cache	*c = dnsbl_cache_new(100);
	struct dnsbl_cache_val	 v, got;
	struct mw_addr		 a = addr_n(7), v6;

	(void)state;
	assert_int_equal(mw_addr_parse("2001:db8:bad::1", &v6), 0);
	v = val_answer(0x7f000002u, 5000);
	dnsbl_cache_put(c, 1, &a, &v, 0);
	v = (struct dnsbl_cache_val){ .kind = DNSBL_CACHE_NXDOMAIN,
	    .expires_ms = 9000 };
	dnsbl_cache_put(c, 2, &a, &v, 0);
	dnsbl_cache_put(c, 2, &v6, &v, 0);
	assert_int_equal(dnsbl_cache_count(c), 3);
	/* Replace zone 1's entry: still one entry for the key. */
	v = val_answer(0x7f000004u, 8000);
	dnsbl_cache_put(c, 1, &a, &v, 100);
	assert_int_equal(dnsbl_cache_count(c), 3);
	assert_true(dnsbl_cache_get(c, 1, &a, 6000, &got));
	assert_int_equal(got.answers[0], 0x7f000004u);
	assert_true(dnsbl_cache_get(c, 2, &a, 6000, &got));
	assert_int_equal(got.kind, DNSBL_CACHE_NXDOMAIN);
	/* Drop zone 2: zone 1 stays. */
	dnsbl_cache_drop_zone(c, 2);
	assert_int_equal(dnsbl_cache_count(c), 1);
	assert_false(dnsbl_cache_get(c, 2, &a, 6000, &got));
	assert_false(dnsbl_cache_get(c, 2, &v6, 6000, &got));
	assert_true(dnsbl_cache_get(c, 1, &a, 6000, &got));
	/* More answers than kept are cut at DNSBL_MAX_ANSWERS. */
	v = val_answer(0x7f000002u, 8000);
	v.nanswers = 99;
	dnsbl_cache_put(c, 3, &a, &v, 0);
	assert_true(dnsbl_cache_get(c, 3, &a, 0, &got));
	assert_int_equal(got.nanswers, DNSBL_MAX_ANSWERS);
	dnsbl_cache_clear(c);
	assert_int_equal(dnsbl_cache_count(c), 0);
	dnsbl_cache_free(&c);
}

static void
test_dnsbl_cache_capacity(void **state)
{
	struct dnsbl_cache	*c = dnsbl_cache_new(4);
	struct dnsbl_cache_val	 v = val_answer(0x7f000002u, 100000), got;
	struct dnsbl_cache_stats st;
	struct mw_addr		 a;

	(void)state;
	for (uint32_t i = 0; i < 10; i++) {
		a = addr_n(i);
		dnsbl_cache_put(c, 1, &a, &v, 0);
		assert_true(dnsbl_cache_count(c) <= 4);
	}
	assert_int_equal(dnsbl_cache_count(c), 4);
	/* The oldest went first: 6..9 remain. */
	for (uint32_t i = 0; i < 10; i++) {
		a = addr_n(i);
		assert_int_equal(dnsbl_cache_get(c, 1, &a, 0, &got), i >= 6);
	}
	dnsbl_cache_get_stats(c, &st);
	assert_int_equal(st.evicted_full, 6);
	assert_int_equal(st.inserts, 10);
	/* Expired entries at the old end go before live ones are evicted. */
	v.expires_ms = 50;
	a = addr_n(100);
	dnsbl_cache_clear(c);
	dnsbl_cache_put(c, 1, &a, &v, 0);	/* expires at 50 */
	v.expires_ms = 100000;
	for (uint32_t i = 0; i < 3; i++) {
		a = addr_n(i);
		dnsbl_cache_put(c, 1, &a, &v, 0);
	}
	a = addr_n(3);
	dnsbl_cache_put(c, 1, &a, &v, 60);
	dnsbl_cache_get_stats(c, &st);
	assert_int_equal(st.evicted_full, 6);	/* no live entry evicted */
	assert_int_equal(st.expired, 1);
	for (uint32_t i = 0; i < 4; i++) {
		a = addr_n(i);
		assert_true(dnsbl_cache_get(c, 1, &a, 60, &got));
	}
	/* Shrinking (SIGHUP) evicts down to the new maximum. */
	dnsbl_cache_set_max(c, 2);
	assert_int_equal(dnsbl_cache_count(c), 2);
	a = addr_n(3);
	assert_true(dnsbl_cache_get(c, 1, &a, 60, &got));
	/* 0 disables caching. */
	dnsbl_cache_set_max(c, 0);
	assert_int_equal(dnsbl_cache_count(c), 0);
	dnsbl_cache_put(c, 1, &a, &v, 0);
	assert_int_equal(dnsbl_cache_count(c), 0);
	dnsbl_cache_free(&c);
}

/* Many entries over two zones, with a time running forward, against the
   simplest model: the expiry of everything put. Without evictions (max
   above the key count) a lookup hits exactly when the model says the
   entry lives; with evictions, hits must still be right and the count
   bounded. */
enum { MODEL_KEYS = 5000 };
static uint64_t model_expires[2][MODEL_KEYS];	/* 0: never put */

static void
run_model(uint32_t max, bool exact, size_t min_hits)
{
	struct dnsbl_cache	*c = dnsbl_cache_new(max);
	uint64_t		 now = 0, rng = 12345;
	size_t			 hits = 0, misses = 0;

	memset(model_expires, 0, sizeof(model_expires));
	for (int step = 0; step < 40000; step++) {
		uint32_t	 z, i;
		struct mw_addr	 a;
		struct dnsbl_cache_val got;

		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		z = (uint32_t)(rng >> 63);
		i = (uint32_t)((rng >> 20) % MODEL_KEYS);
		a = addr_n(i);
		now += (rng >> 40) % 3;
		if ((rng >> 8) % 3 == 0) {
			struct dnsbl_cache_val v = val_answer(i, now + 1 +
			    (rng >> 12) % 5000);

			dnsbl_cache_put(c, z + 1, &a, &v, now);
			model_expires[z][i] = v.expires_ms;
		} else if (dnsbl_cache_get(c, z + 1, &a, now, &got)) {
			hits++;
			assert_int_equal(got.answers[0], i);
			assert_int_equal(got.expires_ms, model_expires[z][i]);
			assert_true(got.expires_ms > now);
		} else {
			misses++;
			if (exact)
				assert_true(model_expires[z][i] <= now);
			model_expires[z][i] = 0;
		}
		assert_true(dnsbl_cache_count(c) <= max);
	}
	/* The run exercised both outcomes. */
	assert_true(hits >= min_hits);
	assert_true(misses > 1000);
	dnsbl_cache_free(&c);
}

static void
test_dnsbl_cache_model(void **state)
{
	(void)state;
	run_model(2 * MODEL_KEYS, true, 1000);
	run_model(3000, false, 1000);
	run_model(10, false, 0);
}

static void
test_dnsbl_resolv_conf(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(dnsbl_resolv_conf_first(MW_TEST_DATA
	    "/dnsbl/resolv.conf", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192.0.2.53");
	assert_int_equal(dnsbl_resolv_conf_first(MW_TEST_DATA
	    "/dnsbl/resolv-v6.conf", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2001:db8::53");
	/* Too small a buffer: that nameserver is skipped, not cut. */
	assert_int_equal(dnsbl_resolv_conf_first(MW_TEST_DATA
	    "/dnsbl/resolv-v6.conf", buf, 8), -1);
	assert_int_equal(dnsbl_resolv_conf_first(MW_TEST_DATA
	    "/dnsbl/resolv-none.conf", buf, sizeof(buf)), -1);
	assert_int_equal(dnsbl_resolv_conf_first(MW_TEST_DATA
	    "/dnsbl/does-not-exist", buf, sizeof(buf)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsbl_cache_ttl_policy),
		cmocka_unit_test(test_dnsbl_cache_expiry),
		cmocka_unit_test(test_dnsbl_cache_replace_and_zones),
		cmocka_unit_test(test_dnsbl_cache_capacity),
		cmocka_unit_test(test_dnsbl_cache_model),
		cmocka_unit_test(test_dnsbl_resolv_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
