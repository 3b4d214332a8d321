/*
 * test_core_arena - the bump allocator (alignment, big allocations, reset,
 * cleanup hooks in reverse order, usage count) and mw_buf on top of it
 * (hard maximum leaves the buffer unchanged, printf past the small-buffer
 * path, arena and heap storage).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/arena.h"
#include "core/buf.h"

#ifdef MW_ASAN
#include <sanitizer/asan_interface.h>
#endif

static void
test_arena_alignment_and_sizes(void **state)
{
	static const size_t sizes[] = { 0, 1, 7, 15, 16, 17, 63, 64, 100,
		255, 256, 1000, 5000, 70000 };
	struct mw_arena	*a = mw_arena_new(1024);
	char		*prev[MW_N_ELEMENTS(sizes)];

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(sizes); i++) {
		char *p = mw_arena_alloc(a, sizes[i]);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, (int)i, sizes[i]);	/* ASan: all of it writable */
		prev[i] = p;
	}
	/* nothing was overwritten by a later allocation */
	for (size_t i = 0; i < MW_N_ELEMENTS(sizes); i++)
		for (size_t k = 0; k < sizes[i]; k++)
			assert_int_equal((unsigned char)prev[i][k], i);
	/* size 0 gives distinct pointers */
	assert_ptr_not_equal(mw_arena_alloc(a, 0), mw_arena_alloc(a, 0));
	mw_arena_free(&a);
	assert_null(a);
	mw_arena_free(&a);	/* NULL-safe */
}

static void
test_arena_used_and_reset(void **state)
{
	struct mw_arena	*a = mw_arena_new(0);	/* raised to the minimum */
	char		*s;

	(void)state;
	assert_int_equal(mw_arena_used(a), 0);
	(void)mw_arena_alloc(a, 1);
	assert_int_equal(mw_arena_used(a), 16);	/* rounded to alignment */
	(void)mw_arena_alloc(a, 17);
	assert_int_equal(mw_arena_used(a), 48);
	(void)mw_arena_alloc(a, 10000);	/* a big one gets its own chunk */
	assert_int_equal(mw_arena_used(a), 48 + 10000);
	mw_arena_reset(a);
	assert_int_equal(mw_arena_used(a), 0);
	/* the arena works after reset, many times over */
	for (int round = 0; round < 50; round++) {
		for (int i = 0; i < 100; i++)
			(void)mw_arena_alloc(a, (size_t)(i * 13 % 700));
		s = mw_arena_printf(a, "round %d", round);
		assert_non_null(s);
		mw_arena_reset(a);
	}
	s = mw_arena_strdup(a, "kept");
	assert_string_equal(s, "kept");
	mw_arena_free(&a);
}

static void
test_arena_strings(void **state)
{
	struct mw_arena	*a = mw_arena_new(256);
	char		 big[3000];
	char		*s;

	(void)state;
	assert_string_equal(mw_arena_strndup(a, "abcdef", 3), "abc");
	assert_string_equal(mw_arena_strndup(a, "", 0), "");
	assert_string_equal(mw_arena_strdup(a, "x y"), "x y");
	assert_string_equal(mw_arena_printf(a, "%s:%u: %s", "f", 14u, "k"),
	    "f:14: k");
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	s = mw_arena_printf(a, "<%s>", big);	/* larger than a chunk */
	assert_int_equal(strlen(s), sizeof(big) + 1);
	assert_int_equal(s[0], '<');
	assert_int_equal(s[sizeof(big)], '>');
	s = mw_arena_calloc(a, 100, 8);
	for (size_t i = 0; i < 800; i++)
		assert_int_equal(s[i], 0);
	mw_arena_free(&a);
}

struct cleanup_log {
	char	order[16];
	size_t	n;
};

static struct cleanup_log	 cleanup_log;

static void
cleanup_note(void *p)
{
	cleanup_log.order[cleanup_log.n++] = *(const char *)p;
}

static void
test_arena_cleanups(void **state)
{
	static const char	 ids[] = "abc";
	struct mw_arena		*a = mw_arena_new(256);

	(void)state;
	cleanup_log.n = 0;
	for (size_t i = 0; i < 3; i++)
		mw_arena_on_reset(a, cleanup_note, (void *)(uintptr_t)&ids[i]);
	assert_int_equal(cleanup_log.n, 0);
	mw_arena_reset(a);	/* last registered runs first */
	assert_int_equal(cleanup_log.n, 3);
	assert_memory_equal(cleanup_log.order, "cba", 3);
	mw_arena_reset(a);	/* hooks run once */
	assert_int_equal(cleanup_log.n, 3);
	mw_arena_on_reset(a, cleanup_note, (void *)(uintptr_t)&ids[0]);
	mw_arena_free(&a);	/* free runs them too */
	assert_int_equal(cleanup_log.n, 4);
	assert_int_equal(cleanup_log.order[3], 'a');
}

static void
test_arena_poison(void **state)
{
#ifdef MW_ASAN
	struct mw_arena	*a = mw_arena_new(1024);
	char		*p = mw_arena_alloc(a, 32);

	(void)state;
	assert_int_equal(__asan_address_is_poisoned(p + 31), 0);
	/* the rest of the chunk is not handed out yet */
	assert_int_not_equal(__asan_address_is_poisoned(p + 64), 0);
	mw_arena_reset(a);
	/* a pointer that outlives its request is caught */
	assert_int_not_equal(__asan_address_is_poisoned(p), 0);
	mw_arena_free(&a);
#else
	(void)state;
	skip();
#endif
}

/* mw_buf: malformed use first (past max), then growth. */
static void
test_buf_max_and_growth(void **state)
{
	struct mw_buf	 b;
	char		 chunk[300];

	(void)state;
	mw_buf_init(&b, NULL, 10);
	assert_string_equal(mw_buf_cstr(&b), "");	/* before any append */
	assert_int_equal(mw_buf_puts(&b, "0123456789"), 0);
	assert_int_equal(mw_buf_puts(&b, "x"), -1);	/* one past max */
	assert_int_equal(b.len, 10);
	assert_string_equal(mw_buf_cstr(&b), "0123456789");	/* unchanged */
	assert_int_equal(mw_buf_printf(&b, "%d", 1), -1);
	assert_int_equal(b.len, 10);
	mw_buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(mw_buf_cstr(&b), "");
	assert_int_equal(mw_buf_append(&b, "a\0b", 3), 0);	/* len rules */
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b", 4);
	mw_buf_deinit(&b);
	assert_null(b.data);

	/* printf longer than its 256-byte stack buffer, heap and arena */
	memset(chunk, 'q', sizeof(chunk) - 1);
	chunk[sizeof(chunk) - 1] = '\0';
	for (int arena = 0; arena < 2; arena++) {
		struct mw_arena *a = arena ? mw_arena_new(512) : NULL;

		mw_buf_init(&b, a, 0);
		assert_int_equal(mw_buf_puts(&b, "<"), 0);
		for (int i = 0; i < 10; i++)
			assert_int_equal(mw_buf_printf(&b, "%s|%d", chunk, i), 0);
		assert_int_equal(b.len, 1 + 10 * (299 + 2));
		assert_int_equal(strlen(mw_buf_cstr(&b)), b.len);
		assert_memory_equal(b.data + 1 + 299, "|0", 2);
		assert_memory_equal(b.data + b.len - 2, "|9", 2);
		mw_buf_deinit(&b);
		mw_arena_free(&a);
	}

	/* a printf result that does not fit the max is refused whole */
	mw_buf_init(&b, NULL, 299);
	assert_int_equal(mw_buf_printf(&b, "%s", chunk), 0);	/* 299 fits */
	mw_buf_reset(&b);
	assert_int_equal(mw_buf_printf(&b, "%s!", chunk), -1);
	assert_int_equal(b.len, 0);
	mw_buf_deinit(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_alignment_and_sizes),
		cmocka_unit_test(test_arena_used_and_reset),
		cmocka_unit_test(test_arena_strings),
		cmocka_unit_test(test_arena_cleanups),
		cmocka_unit_test(test_arena_poison),
		cmocka_unit_test(test_buf_max_and_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
