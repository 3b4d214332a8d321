/*
 * test_core_slice - the word-at-a-time control-character scanner
 * (mw_slice_find_ctl) and the 64-byte classifier (mw_slice_classify64,
 * SSE2 here, and its portable version) against byte-by-byte references:
 * every length up to 40 (64) at every start alignment, every hit
 * position, the bytes next to each class edge (0x1f/0x20, 0x7e/0x7f/0x80,
 * '<' '=' '>'), several hits in one word, and random bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/slice.h"

static size_t
ref_find(const char *p, size_t len, char c)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch < 0x20 || ch == 0x7f || ch == (unsigned char)c)
			return i;
	}
	return len;
}

static void
ref_classify(const char *p, size_t n, char c, uint64_t *lf_r, uint64_t *c_r,
    uint64_t *ctl_r)
{
	*lf_r = *c_r = *ctl_r = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\n')
			*lf_r |= 1ULL << i;
		else if (ch < 0x20 || ch == 0x7f)
			*ctl_r |= 1ULL << i;
		else if (ch == (unsigned char)c)
			*c_r |= 1ULL << i;
	}
}

static void
check_classify(const char *p, size_t n)
{
	uint64_t lf, c, ctl, wlf, wc, wctl;

	ref_classify(p, n, '=', &wlf, &wc, &wctl);
	mw_slice_classify64(p, n, '=', &lf, &c, &ctl);
	assert_int_equal(lf, wlf);
	assert_int_equal(c, wc);
	assert_int_equal(ctl, wctl);
	if (n == 64) {
		mw_slice_classify64_portable(p, '=', &lf, &c, &ctl);
		assert_int_equal(lf, wlf);
		assert_int_equal(c, wc);
		assert_int_equal(ctl, wctl);
	}
}

static void
check(const char *p, size_t len)
{
	struct mw_slice s = { p, len };

	assert_int_equal(mw_slice_find_ctl(s), ref_find(p, len, '\0'));
	assert_int_equal(mw_slice_is_printable(s),
	    ref_find(p, len, '\0') == len);
}

/* Bytes that are not hits but sit right beside one in value. */
static const unsigned char fillers[] = { 0x20, 0x21, 0x3c, 0x3e, 0x41,
	0x7e, 0x80, 0x9f, 0xa0, 0xff };
static const unsigned char hits[] = { 0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1f,
	0x7f, '=' };

static void
test_slice_find_ctl_positions(void **state)
{
	char	 buf[64];

	(void)state;
	for (size_t align = 0; align < 8; align++) {
		char *p = buf + align;

		for (size_t len = 0; len <= 40; len++) {
			for (size_t f = 0; f < sizeof(fillers); f++) {
				memset(p, fillers[f], len);
				check(p, len);
				for (size_t pos = 0; pos < len; pos++) {
					for (size_t h = 0; h < sizeof(hits); h++) {
						p[pos] = (char)hits[h];
						check(p, len);
						/* a second hit after the first */
						if (pos + 1 < len) {
							p[len - 1] = '\n';
							check(p, len);
							p[len - 1] = (char)fillers[f];
						}
					}
					p[pos] = (char)fillers[f];
				}
			}
		}
	}
}

static void
test_slice_find_ctl_random(void **state)
{
	char		 buf[80];
	uint64_t	 x = 0x9E3779B97F4A7C15ULL;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t len = (size_t)(x % 72);

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly printable, some hits */
			buf[i] = (char)((x & 0xf0) == 0 ? x >> 8 :
			    0x20 + (x >> 8) % 0xe0);
		}
		check(buf, len);
		check_classify(buf + len % 8, len % 65);
	}
}

/* Each class at each of the 64 positions, alone and with neighbours. */
static void
test_slice_classify_positions(void **state)
{
	char	 buf[80];

	(void)state;
	for (size_t align = 0; align < 8; align++) {
		char *p = buf + align;

		for (size_t f = 0; f < sizeof(fillers); f++) {
			memset(p, fillers[f], 64);
			for (size_t n = 0; n <= 64; n++)
				check_classify(p, n);
			for (size_t pos = 0; pos < 64; pos++) {
				for (size_t h = 0; h < sizeof(hits); h++) {
					p[pos] = (char)hits[h];
					check_classify(p, 64);
					check_classify(p, pos + 1);
					check_classify(p, pos);
					p[63 - pos] = '\n';
					check_classify(p, 64);
					p[63 - pos] = (char)fillers[f];
				}
				p[pos] = (char)fillers[f];
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slice_find_ctl_positions),
		cmocka_unit_test(test_slice_find_ctl_random),
		cmocka_unit_test(test_slice_classify_positions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
