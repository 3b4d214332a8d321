/*
 * mem - allocation that never returns NULL, checked size math, panics.
 *
 * Out of memory aborts inside the allocator (as Postfix's mymalloc and
 * Redis's zmalloc do), so callers carry no untested NULL branches.
 * Size arithmetic goes through mw_mul_size/mw_add_size, which panic on
 * overflow instead of wrapping into a short allocation.
 */
#ifndef MW_CORE_MEM_H
#define MW_CORE_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MW_PRINTF(f, a)		__attribute__((format(printf, f, a)))
#define MW_MUST_CHECK		__attribute__((warn_unused_result))
#define MW_NORETURN		__attribute__((noreturn))
#define MW_N_ELEMENTS(a)	(sizeof(a) / sizeof((a)[0]))

/* Logs "panic: ..." and aborts (core dump). For broken invariants only,
   never for peer input. */
MW_NORETURN void	mw_panic(const char *fmt, ...) MW_PRINTF(1, 2);

#define MW_ASSERT(cond) do { \
	if (!(cond)) \
		mw_panic("%s:%d: assertion failed: %s", __FILE__, __LINE__, #cond); \
} while (0)

/* size 0 panics: it is always a bug here. */
void	*mw_malloc(size_t size);
void	*mw_calloc(size_t n, size_t size);
void	*mw_realloc(void *p, size_t size);
char	*mw_strdup(const char *s);
char	*mw_strndup(const char *s, size_t len);
/* Frees *p and clears it; NULL-safe. */
void	 mw_free_ptr(void **p);
#define mw_free(pp)	mw_free_ptr((void **)(pp))

size_t	 mw_mul_size(size_t a, size_t b);
size_t	 mw_add_size(size_t a, size_t b);

#endif
