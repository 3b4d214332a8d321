/*
 * buf - growable byte buffer with a maximum; see buf.h.
 * UNSAFE: raw memory.
 */
#include "core/buf.h"

#include <stdio.h>
#include <string.h>

void
mw_buf_init(struct mw_buf *b, struct mw_arena *a, size_t max)
{
	*b = (struct mw_buf){ .max = max == 0 ? SIZE_MAX - 1 : max, .arena = a };
}

void
mw_buf_deinit(struct mw_buf *b)
{
	if (b->arena == NULL)
		mw_free(&b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void
mw_buf_reset(struct mw_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct mw_buf *b, size_t need)
{
	size_t	 cap = b->cap < 64 ? 64 : b->cap;
	char	*p;

	while (cap < need)
		cap = mw_mul_size(cap, 2);
	if (b->arena != NULL) {
		p = mw_arena_alloc(b->arena, cap);
		if (b->len > 0)
			memcpy(p, b->data, b->len);
	} else {
		p = mw_realloc(b->data, cap);
	}
	b->data = p;
	b->cap = cap;
}

int
mw_buf_append(struct mw_buf *b, const void *p, size_t n)
{
	size_t need = mw_add_size(b->len, n);

	if (need > b->max)
		return -1;
	if (need + 1 > b->cap)
		buf_grow(b, need + 1);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len = need;
	b->data[b->len] = '\0';
	return 0;
}

int
mw_buf_puts(struct mw_buf *b, const char *s)
{
	return mw_buf_append(b, s, strlen(s));
}

int
mw_buf_printf(struct mw_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	 small[256];
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return mw_buf_append(b, small, (size_t)n);
	if (mw_add_size(b->len, (size_t)n) > b->max)
		return -1;
	if (b->len + (size_t)n + 1 > b->cap)
		buf_grow(b, b->len + (size_t)n + 1);
	va_start(ap, fmt);
	(void)vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *
mw_buf_cstr(struct mw_buf *b)
{
	if (b->data == NULL)
		return "";
	return b->data;
}
