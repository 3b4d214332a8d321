/*
 * arena - bump allocator; see arena.h.
 * UNSAFE: raw memory (chunk headers, alignment arithmetic).
 */
#include "core/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef MW_ASAN
#include <sanitizer/asan_interface.h>
#define ARENA_POISON(p, n)	ASAN_POISON_MEMORY_REGION(p, n)
#define ARENA_UNPOISON(p, n)	ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define ARENA_POISON(p, n)	((void)(p), (void)(n))
#define ARENA_UNPOISON(p, n)	((void)(p), (void)(n))
#endif

#define ARENA_ALIGN		16
#define ARENA_MAX_CLEANUPS	64	/* hooks per reset cycle; more is a bug */

struct arena_chunk {
	struct arena_chunk	*next;
	size_t			 size;	/* usable bytes after the header */
	size_t			 used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	mw_arena_cleanup_fn	*fn;
	void			*p;
};

struct mw_arena {
	struct arena_chunk	*head;	/* current chunk; ->next are older */
	size_t			 chunk_size;
	size_t			 used;
	struct arena_cleanup	 cleanups[ARENA_MAX_CLEANUPS];
	size_t			 ncleanups;
};

static struct arena_chunk *
arena_chunk_new(size_t size)
{
	struct arena_chunk *c;

	c = mw_malloc(mw_add_size(sizeof(*c), size));
	c->next = NULL;
	c->size = size;
	c->used = 0;
	ARENA_POISON(c->data, size);
	return c;
}

struct mw_arena *
mw_arena_new(size_t chunk_size)
{
	struct mw_arena *a = mw_calloc(1, sizeof(*a));

	if (chunk_size < 256)
		chunk_size = 256;
	a->chunk_size = chunk_size;
	a->head = arena_chunk_new(chunk_size);
	return a;
}

static void
arena_run_cleanups(struct mw_arena *a)
{
	while (a->ncleanups > 0) {
		struct arena_cleanup *c = &a->cleanups[--a->ncleanups];

		c->fn(c->p);
	}
}

void
mw_arena_reset(struct mw_arena *a)
{
	struct arena_chunk *c, *next;

	arena_run_cleanups(a);
	/* Keep the oldest chunk of the regular size; free the rest. */
	c = a->head;
	while (c->next != NULL) {
		next = c->next;
		free(c);
		c = next;
	}
	if (c->size != a->chunk_size) {
		free(c);
		c = arena_chunk_new(a->chunk_size);
	}
	c->used = 0;
	ARENA_POISON(c->data, c->size);
	a->head = c;
	a->used = 0;
}

void
mw_arena_free(struct mw_arena **ap)
{
	struct mw_arena		*a = *ap;
	struct arena_chunk	*c, *next;

	if (a == NULL)
		return;
	arena_run_cleanups(a);
	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(a);
	*ap = NULL;
}

void *
mw_arena_alloc(struct mw_arena *a, size_t size)
{
	struct arena_chunk	*c = a->head;
	size_t			 need = (mw_add_size(size, ARENA_ALIGN - 1)) &
			    ~(size_t)(ARENA_ALIGN - 1);
	void			*p;

	if (need == 0)
		need = ARENA_ALIGN;
	if (c->size - c->used < need) {
		if (need > a->chunk_size / 4) {
			/* Big: own chunk, linked behind the head. */
			struct arena_chunk *big = arena_chunk_new(need);

			big->used = need;
			big->next = c->next;
			c->next = big;
			a->used += need;
			ARENA_UNPOISON(big->data, size);
			return big->data;
		}
		c = arena_chunk_new(a->chunk_size);
		c->next = a->head;
		a->head = c;
	}
	p = c->data + c->used;
	c->used += need;
	a->used += need;
	ARENA_UNPOISON(p, size == 0 ? 1 : size);
	return p;
}

void *
mw_arena_calloc(struct mw_arena *a, size_t n, size_t size)
{
	size_t	 total = mw_mul_size(n, size);
	void	*p = mw_arena_alloc(a, total);

	memset(p, 0, total);
	return p;
}

char *
mw_arena_strndup(struct mw_arena *a, const char *s, size_t len)
{
	char *p = mw_arena_alloc(a, mw_add_size(len, 1));

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
mw_arena_strdup(struct mw_arena *a, const char *s)
{
	return mw_arena_strndup(a, s, strlen(s));
}

char *
mw_arena_vprintf(struct mw_arena *a, const char *fmt, va_list ap)
{
	va_list	 ap2;
	char	*p;
	int	 n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		mw_panic("mw_arena_vprintf: bad format \"%s\"", fmt);
	p = mw_arena_alloc(a, (size_t)n + 1);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
mw_arena_printf(struct mw_arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	p = mw_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void
mw_arena_on_reset(struct mw_arena *a, mw_arena_cleanup_fn *fn, void *p)
{
	if (a->ncleanups == ARENA_MAX_CLEANUPS)
		mw_panic("mw_arena_on_reset: more than %d hooks",
		    ARENA_MAX_CLEANUPS);
	a->cleanups[a->ncleanups++] = (struct arena_cleanup){ fn, p };
}

size_t
mw_arena_used(const struct mw_arena *a)
{
	return a->used;
}
