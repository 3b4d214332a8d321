/*
 * mem - allocation that never returns NULL; see mem.h.
 */
#include "core/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

void
mw_panic(const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("panic: %s", msg);
	abort();
}

static void *
mw_check_alloc(void *p, size_t size)
{
	if (p == NULL)
		mw_panic("out of memory allocating %zu bytes", size);
	return p;
}

void *
mw_malloc(size_t size)
{
	if (size == 0)
		mw_panic("mw_malloc: zero size");
	return mw_check_alloc(malloc(size), size);
}

void *
mw_calloc(size_t n, size_t size)
{
	size_t total = mw_mul_size(n, size);

	if (total == 0)
		mw_panic("mw_calloc: zero size");
	return mw_check_alloc(calloc(n, size), total);
}

void *
mw_realloc(void *p, size_t size)
{
	if (size == 0)
		mw_panic("mw_realloc: zero size");
	return mw_check_alloc(realloc(p, size), size);
}

char *
mw_strdup(const char *s)
{
	return mw_strndup(s, strlen(s));
}

char *
mw_strndup(const char *s, size_t len)
{
	char *p = mw_malloc(mw_add_size(len, 1));

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void
mw_free_ptr(void **p)
{
	if (p != NULL) {
		free(*p);
		*p = NULL;
	}
}

size_t
mw_mul_size(size_t a, size_t b)
{
	size_t r;

	if (__builtin_mul_overflow(a, b, &r))
		mw_panic("size overflow: %zu * %zu", a, b);
	return r;
}

size_t
mw_add_size(size_t a, size_t b)
{
	size_t r;

	if (__builtin_add_overflow(a, b, &r))
		mw_panic("size overflow: %zu + %zu", a, b);
	return r;
}
