/*
 * buf - growable byte buffer with a hard maximum.
 *
 * A buffer fed by a peer always has a max; reaching it is an error the
 * caller reports, and the buffer is left unchanged. A NUL is kept after
 * len as a safety net, but len is authoritative.
 * UNSAFE: raw memory.
 */
#ifndef MW_CORE_BUF_H
#define MW_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/arena.h"
#include "core/mem.h"

struct mw_buf {
	char		*data;
	size_t		 len, cap, max;
	struct mw_arena	*arena;	/* NULL: heap, freed by mw_buf_deinit */
};

/* max 0 means SIZE_MAX. */
void	 mw_buf_init(struct mw_buf *b, struct mw_arena *a, size_t max);
void	 mw_buf_deinit(struct mw_buf *b);
void	 mw_buf_reset(struct mw_buf *b);
/* -1 when the result would exceed max; b is unchanged then. */
int	 mw_buf_append(struct mw_buf *b, const void *p, size_t n) MW_MUST_CHECK;
int	 mw_buf_puts(struct mw_buf *b, const char *s) MW_MUST_CHECK;
int	 mw_buf_printf(struct mw_buf *b, const char *fmt, ...) MW_PRINTF(2, 3)
	    MW_MUST_CHECK;
const char *mw_buf_cstr(struct mw_buf *b);

#endif
