/*
 * test_core_window - sliding windows and distinct counts: sums slide
 * bucket by bucket, old events fall out, late events land in their
 * bucket or are refused, counts saturate, distinct estimates are exact
 * for a few items and close for many.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/window.h"

#define T0	1763900000	/* a multiple of 8 and of 75 is not needed */

static void
test_window_slides(void **state)
{
	struct mw_window w = { 0 };
	uint32_t	 slot = mw_window_slot(600, MW_WINDOW_SLOTS);	/* 75 s */

	(void)state;
	assert_int_equal(slot, 75);
	assert_int_equal(mw_window_sum(&w, slot, T0), 0);
	assert_true(mw_window_add(&w, slot, T0, 1));
	assert_true(mw_window_add(&w, slot, T0 + 10, 2));
	assert_int_equal(mw_window_sum(&w, slot, T0 + 10), 3);
	assert_true(mw_window_add(&w, slot, T0 + 300, 1));
	assert_int_equal(mw_window_sum(&w, slot, T0 + 300), 4);
	/* 600 s + one bucket later the first events are gone... */
	assert_int_equal(mw_window_sum(&w, slot, T0 + 700), 1);
	/* ...and after the last one's window, everything. */
	assert_int_equal(mw_window_sum(&w, slot, T0 + 300 + 700), 0);
	/* Adding far in the future clears the old buckets. */
	assert_true(mw_window_add(&w, slot, T0 + 5000, 1));
	assert_int_equal(mw_window_sum(&w, slot, T0 + 5000), 1);
}

static void
test_window_each_bucket(void **state)
{
	struct mw_window w = { 0 };
	uint32_t	 slot = 10;
	int64_t		 base = 1000000;	/* bucket boundary */

	(void)state;
	for (int i = 0; i < MW_WINDOW_SLOTS; i++)
		assert_true(mw_window_add(&w, slot, base + i * 10, 1));
	assert_int_equal(mw_window_sum(&w, slot, base + 79), 8);
	/* Each further bucket drops exactly one event. */
	for (int i = 1; i <= MW_WINDOW_SLOTS; i++)
		assert_int_equal(mw_window_sum(&w, slot, base + 79 + i * 10),
		    (uint32_t)(8 - i));
}

static void
test_window_late_and_saturation(void **state)
{
	struct mw_window w = { 0 };
	uint32_t	 slot = 10;

	(void)state;
	assert_true(mw_window_add(&w, slot, 1000, 1));
	/* A late line (log files are not strictly ordered) in the window. */
	assert_true(mw_window_add(&w, slot, 975, 1));
	assert_int_equal(mw_window_sum(&w, slot, 1000), 2);
	/* Older than every bucket: refused, not counted. */
	assert_false(mw_window_add(&w, slot, 900, 1));
	assert_int_equal(mw_window_sum(&w, slot, 1000), 2);
	/* Asking about the past counts what is there. */
	assert_int_equal(mw_window_sum(&w, slot, 500), 2);
	assert_true(mw_window_add(&w, slot, 1000, 70000));
	assert_int_equal(mw_window_sum(&w, slot, 1000), 65535 + 1);
	mw_window_clear(&w);
	assert_int_equal(mw_window_sum(&w, slot, 1000), 0);
}

static void
test_distinct_small_exact(void **state)
{
	struct mw_distinct d = { 0 };
	uint32_t	 gen = mw_window_slot(600, MW_DISTINCT_GENS);
	char		 name[32];

	(void)state;
	assert_true(mw_distinct_empty(&d, gen, T0));
	assert_int_equal(mw_distinct_count(&d, gen, T0), 0);
	assert_true(mw_distinct_add(&d, gen, T0, mw_hash_bytes("alice", 5, 0)));
	/* The same item again is not new and does not count twice. */
	assert_false(mw_distinct_add(&d, gen, T0 + 1, mw_hash_bytes("alice", 5, 0)));
	assert_int_equal(mw_distinct_count(&d, gen, T0 + 1), 1);
	for (int i = 0; i < 4; i++) {
		int n = snprintf(name, sizeof(name), "user%d", i);

		(void)mw_distinct_add(&d, gen, T0 + 2, mw_hash_bytes(name,
		    (size_t)n, 0));
	}
	assert_int_equal(mw_distinct_count(&d, gen, T0 + 2), 5);
	/* The whole window later they are gone. */
	assert_int_equal(mw_distinct_count(&d, gen, T0 + 2 + 600 + gen), 0);
	assert_true(mw_distinct_empty(&d, gen, T0 + 2 + 600 + gen));
}

static void
test_distinct_many(void **state)
{
	char	 name[32];

	(void)state;
	/* Estimates stay near the truth up to the thresholds in use. */
	for (int n = 10; n <= 100; n += 15) {
		struct mw_distinct d = { 0 };
		uint32_t est;

		for (int i = 0; i < n; i++) {
			int k = snprintf(name, sizeof(name), "acct%d@example.org", i);

			(void)mw_distinct_add(&d, 150, T0, mw_hash_bytes(name,
			    (size_t)k, 7));
		}
		est = mw_distinct_count(&d, 150, T0);
		assert_in_range(est, (uint32_t)(n * 8 / 10), (uint32_t)(n * 12 / 10));
	}
}

static void
test_hash_seeds(void **state)
{
	(void)state;
	assert_int_equal(mw_hash_bytes("a", 1, 1), mw_hash_bytes("a", 1, 1));
	assert_true(mw_hash_bytes("a", 1, 1) != mw_hash_bytes("a", 1, 2));
	assert_true(mw_hash_bytes("a", 1, 1) != mw_hash_bytes("b", 1, 1));
	assert_int_equal(mw_window_slot(0, 8), 1);
	assert_int_equal(mw_window_slot(7, 8), 1);
	assert_int_equal(mw_window_slot(601, 8), 76);
}

/* The detectors' slot: an event at most window_s old is always in the
   sum, one more than window_s + slot old never is, for every phase of
   the buckets and several window lengths (an evenly spread "5 failures
   in 10 minutes" must not be missed). */
static void
test_window_cover_slot(void **state)
{
	static const uint32_t windows[] = { 1, 7, 60, 599, 600, 601, 3600 };

	(void)state;
	assert_int_equal(mw_window_cover_slot(600, MW_WINDOW_SLOTS), 86);
	assert_int_equal(mw_window_cover_slot(0, MW_WINDOW_SLOTS), 1);
	for (size_t k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		uint32_t win = windows[k];
		uint32_t slot = mw_window_cover_slot(win, MW_WINDOW_SLOTS);

		for (int64_t t = T0; t < T0 + 2 * (int64_t)slot + 3; t++) {
			struct mw_window w = { 0 };

			assert_true(mw_window_add(&w, slot, t, 1));
			/* age 0 .. win: counted */
			assert_int_equal(mw_window_sum(&w, slot, t), 1);
			assert_int_equal(mw_window_sum(&w, slot, t + win), 1);
			/* MW_WINDOW_SLOTS buckets old (< win + slot + 8
			   s): gone */
			assert_true(MW_WINDOW_SLOTS * slot < win + slot + 8);
			assert_int_equal(mw_window_sum(&w, slot,
			    t + MW_WINDOW_SLOTS * slot), 0);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_slides),
		cmocka_unit_test(test_window_each_bucket),
		cmocka_unit_test(test_window_cover_slot),
		cmocka_unit_test(test_window_late_and_saturation),
		cmocka_unit_test(test_distinct_small_exact),
		cmocka_unit_test(test_distinct_many),
		cmocka_unit_test(test_hash_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
