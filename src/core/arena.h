/*
 * arena - bump allocator for per-request and per-connection memory.
 *
 * Everything allocated from an arena is freed at once by mw_arena_reset or
 * mw_arena_free. Nothing long-lived may point into an arena: modules that
 * keep data copy it to their own heap memory. In ASan builds the freed
 * chunks are poisoned so a pointer outliving its request fails in tests.
 * UNSAFE: raw memory.
 */
#ifndef MW_CORE_ARENA_H
#define MW_CORE_ARENA_H

#include <stdarg.h>
#include <stddef.h>

#include "core/mem.h"

struct mw_arena;

/* chunk_size: bytes per chunk (larger allocations get their own chunk). */
struct mw_arena	*mw_arena_new(size_t chunk_size);
void		 mw_arena_free(struct mw_arena **a);
/* Frees everything but the first chunk, runs cleanup hooks (last first). */
void		 mw_arena_reset(struct mw_arena *a);

/* 16-byte aligned; size 0 returns a valid unique pointer. */
void	*mw_arena_alloc(struct mw_arena *a, size_t size);
void	*mw_arena_calloc(struct mw_arena *a, size_t n, size_t size);
char	*mw_arena_strdup(struct mw_arena *a, const char *s);
char	*mw_arena_strndup(struct mw_arena *a, const char *s, size_t len);
char	*mw_arena_printf(struct mw_arena *a, const char *fmt, ...) MW_PRINTF(2, 3);
char	*mw_arena_vprintf(struct mw_arena *a, const char *fmt, va_list ap)
	    MW_PRINTF(2, 0);

/* fn(p) runs at the next reset or free (e.g. to close an fd). */
typedef void mw_arena_cleanup_fn(void *p);
void	 mw_arena_on_reset(struct mw_arena *a, mw_arena_cleanup_fn *fn, void *p);

/* Bytes handed out since the last reset (for limits and tests). */
size_t	 mw_arena_used(const struct mw_arena *a);

#endif
