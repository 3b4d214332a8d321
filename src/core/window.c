/*
 * window - sliding time windows; see window.h.
 *
 * Buckets are indexed by (now / slot_s); bucket i lives at n[i % SLOTS].
 * Moving the head forward clears the buckets it passes, so a structure
 * never holds more than its fixed array, however long it lives.
 */
#include "core/window.h"

#include <math.h>

static uint32_t
window_index(int64_t now, uint32_t slot_s)
{
	if (now < 0)
		now = 0;
	return (uint32_t)((uint64_t)now / slot_s);
}

uint32_t
mw_window_slot(uint32_t window_s, unsigned parts)
{
	uint32_t s = (window_s + parts - 1) / parts;

	return s == 0 ? 1 : s;
}

uint32_t
mw_window_cover_slot(uint32_t window_s, unsigned parts)
{
	/* The newest bucket is partly in the future, so only parts - 1
	   whole buckets are guaranteed to lie in the past. */
	return mw_window_slot(window_s, parts > 1 ? parts - 1 : 1);
}

/* Moves the head to idx, clearing the buckets in between. */
static void
window_advance(struct mw_window *w, uint32_t idx)
{
	uint32_t steps = idx - w->head;

	if (steps >= MW_WINDOW_SLOTS) {
		for (unsigned i = 0; i < MW_WINDOW_SLOTS; i++)
			w->n[i] = 0;
	} else {
		for (uint32_t k = 1; k <= steps; k++)
			w->n[(w->head + k) % MW_WINDOW_SLOTS] = 0;
	}
	w->head = idx;
}

bool
mw_window_add(struct mw_window *w, uint32_t slot_s, int64_t now, uint32_t k)
{
	uint32_t	 idx = window_index(now, slot_s);
	uint16_t	*c;

	if (idx > w->head)
		window_advance(w, idx);
	else if (w->head - idx >= MW_WINDOW_SLOTS)
		return false;	/* older than the window */
	c = &w->n[idx % MW_WINDOW_SLOTS];
	*c = k >= (uint32_t)(UINT16_MAX - *c) ? UINT16_MAX : (uint16_t)(*c + k);
	return true;
}

uint32_t
mw_window_sum(const struct mw_window *w, uint32_t slot_s, int64_t now)
{
	uint32_t idx = window_index(now, slot_s), sum = 0, first;

	if (idx < w->head)
		idx = w->head;	/* asked about the past: count what is there */
	if (idx - w->head >= MW_WINDOW_SLOTS)
		return 0;
	/* Buckets idx-SLOTS+1 .. head are in the window. */
	first = idx - (MW_WINDOW_SLOTS - 1);
	if (idx < MW_WINDOW_SLOTS - 1)
		first = 0;
	for (uint32_t i = first; i <= w->head; i++)
		sum += w->n[i % MW_WINDOW_SLOTS];
	return sum;
}

void
mw_window_clear(struct mw_window *w)
{
	for (unsigned i = 0; i < MW_WINDOW_SLOTS; i++)
		w->n[i] = 0;
}

static void
distinct_advance(struct mw_distinct *d, uint32_t idx)
{
	uint32_t steps = idx - d->head;

	if (steps >= MW_DISTINCT_GENS) {
		for (unsigned i = 0; i < MW_DISTINCT_GENS; i++)
			d->bits[i] = 0;
	} else {
		for (uint32_t k = 1; k <= steps; k++)
			d->bits[(d->head + k) % MW_DISTINCT_GENS] = 0;
	}
	d->head = idx;
}

/* The union of the generations inside the window ending at idx. */
static uint64_t
distinct_union(const struct mw_distinct *d, uint32_t idx)
{
	uint64_t u = 0;
	uint32_t first;

	if (idx < d->head)
		idx = d->head;
	if (idx - d->head >= MW_DISTINCT_GENS)
		return 0;
	first = idx < MW_DISTINCT_GENS - 1 ? 0 : idx - (MW_DISTINCT_GENS - 1);
	for (uint32_t i = first; i <= d->head; i++)
		u |= d->bits[i % MW_DISTINCT_GENS];
	return u;
}

bool
mw_distinct_add(struct mw_distinct *d, uint32_t slot_s, int64_t now,
    uint64_t h)
{
	uint32_t idx = window_index(now, slot_s);
	uint64_t bit = (uint64_t)1 << (h % 64), seen;

	if (idx > d->head)
		distinct_advance(d, idx);
	else if (d->head - idx >= MW_DISTINCT_GENS)
		return false;
	seen = distinct_union(d, d->head) & bit;
	d->bits[idx % MW_DISTINCT_GENS] |= bit;
	return seen == 0;
}

uint32_t
mw_distinct_count(const struct mw_distinct *d, uint32_t slot_s, int64_t now)
{
	uint64_t u = distinct_union(d, window_index(now, slot_s));
	int	 ones = __builtin_popcountll(u);
	double	 est;

	/* A few items: the bits set (a lower bound, exact unless two items
	   share a bit). More: the maximum-likelihood count for ones bits of
	   64 set, n = ln(1 - ones/64) / ln(1 - 1/64) (linear counting). */
	if (ones <= MW_DISTINCT_EXACT)
		return (uint32_t)ones;
	if (ones == 64)
		return MW_DISTINCT_MAX;
	est = log(1.0 - (double)ones / 64.0) / log(1.0 - 1.0 / 64.0);
	return (uint32_t)est;
}

bool
mw_distinct_empty(const struct mw_distinct *d, uint32_t slot_s, int64_t now)
{
	return distinct_union(d, window_index(now, slot_s)) == 0;
}

uint64_t
mw_hash_bytes(const void *p, size_t len, uint64_t seed)
{
	const unsigned char	*s = p;
	uint64_t		 h = 1469598103934665603ULL ^ seed;

	for (size_t i = 0; i < len; i++) {
		h ^= s[i];
		h *= 1099511628211ULL;
	}
	/* splitmix64 finalizer: FNV's low bits are weak for small inputs. */
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}
