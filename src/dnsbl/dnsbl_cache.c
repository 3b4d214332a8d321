/*
 * dnsbl_cache - the DNSBL answer cache: (zone id, address) -> outcome.
 *
 * Owns every entry (heap, mw_malloc). Bounded: never more than max_entries
 * entries; buckets grow by doubling and never beyond max_entries (rounded
 * up to a power of two), so memory is O(max_entries). Every operation but
 * drop_zone/clear/set_max is O(1) (bounded chain walk, two expiry checks).
 * Expiry is by an explicit "now" so tests drive the clock.
 */
#include <string.h>

#include "core/mem.h"
#include "dnsbl/dnsbl_int.h"

#define DNSBL_CACHE_MIN_BUCKETS	64
#define DNSBL_CACHE_SWEEP	2	/* expired entries checked per insert */

struct dnsbl_cache_entry {
	struct mw_addr		 addr;
	uint32_t		 zone;
	uint64_t		 hash;
	struct dnsbl_cache_val	 val;
	struct dnsbl_cache_entry *hnext;	/* bucket chain */
	struct dnsbl_cache_entry *older, *newer;	/* insertion order */
};

struct dnsbl_cache {
	struct dnsbl_cache_entry **buckets;
	size_t			 nbuckets;	/* power of two */
	size_t			 count;
	uint32_t		 max_entries;
	struct dnsbl_cache_entry *oldest, *newest;
	struct dnsbl_cache_stats stats;
};

static uint64_t
dnsbl_cache_hash(uint32_t zone, const struct mw_addr *a)
{
	uint64_t h = mw_addr_hash(a) ^ ((uint64_t)zone * 0x9e3779b97f4a7c15ULL);

	/* FNV-1a's low bits are weak for 16 bytes differing late: mix. */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static size_t
dnsbl_cache_bucket_limit(uint32_t max_entries)
{
	size_t n = DNSBL_CACHE_MIN_BUCKETS;

	while (n < max_entries)
		n *= 2;
	return n;
}

struct dnsbl_cache *
dnsbl_cache_new(uint32_t max_entries)
{
	struct dnsbl_cache *c = mw_calloc(1, sizeof(*c));

	c->max_entries = max_entries;
	c->nbuckets = DNSBL_CACHE_MIN_BUCKETS;
	c->buckets = mw_calloc(c->nbuckets, sizeof(c->buckets[0]));
	return c;
}

void
dnsbl_cache_free(struct dnsbl_cache **cp)
{
	struct dnsbl_cache *c = *cp;

	if (c == NULL)
		return;
	dnsbl_cache_clear(c);
	mw_free(&c->buckets);
	mw_free(cp);
}

static void
dnsbl_cache_unlink(struct dnsbl_cache *c, struct dnsbl_cache_entry *e)
{
	struct dnsbl_cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];

	while (*pp != e) {
		MW_ASSERT(*pp != NULL);
		pp = &(*pp)->hnext;
	}
	*pp = e->hnext;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	c->count--;
	mw_free(&e);
}

static void
dnsbl_cache_grow(struct dnsbl_cache *c)
{
	size_t			  n = c->nbuckets * 2;
	struct dnsbl_cache_entry **b = mw_calloc(n, sizeof(b[0]));

	for (struct dnsbl_cache_entry *e = c->oldest; e != NULL; e = e->newer) {
		size_t i = e->hash & (n - 1);

		e->hnext = b[i];
		b[i] = e;
	}
	mw_free(&c->buckets);
	c->buckets = b;
	c->nbuckets = n;
}

static struct dnsbl_cache_entry *
dnsbl_cache_find(const struct dnsbl_cache *c, uint32_t zone,
    const struct mw_addr *a, uint64_t hash)
{
	struct dnsbl_cache_entry *e = c->buckets[hash & (c->nbuckets - 1)];

	for (; e != NULL; e = e->hnext) {
		if (e->hash == hash && e->zone == zone &&
		    memcmp(&e->addr, a, sizeof(*a)) == 0)
			return e;
	}
	return NULL;
}

bool
dnsbl_cache_get(struct dnsbl_cache *c, uint32_t zone, const struct mw_addr *a,
    uint64_t now_ms, struct dnsbl_cache_val *val_r)
{
	uint64_t		  hash = dnsbl_cache_hash(zone, a);
	struct dnsbl_cache_entry *e = dnsbl_cache_find(c, zone, a, hash);

	if (e == NULL)
		return false;
	if (e->val.expires_ms <= now_ms) {
		c->stats.expired++;
		dnsbl_cache_unlink(c, e);
		return false;
	}
	*val_r = e->val;
	return true;
}

void
dnsbl_cache_put(struct dnsbl_cache *c, uint32_t zone, const struct mw_addr *a,
    const struct dnsbl_cache_val *val, uint64_t now_ms)
{
	uint64_t		  hash = dnsbl_cache_hash(zone, a);
	struct dnsbl_cache_entry *e;
	size_t			  i;

	if (c->max_entries == 0 || val->expires_ms <= now_ms)
		return;
	if ((e = dnsbl_cache_find(c, zone, a, hash)) != NULL) {
		c->stats.replaced++;
		dnsbl_cache_unlink(c, e);
	}
	for (i = 0; i < DNSBL_CACHE_SWEEP && c->oldest != NULL; i++) {
		if (c->oldest->val.expires_ms > now_ms)
			break;
		c->stats.expired++;
		dnsbl_cache_unlink(c, c->oldest);
	}
	while (c->count >= c->max_entries) {
		c->stats.evicted_full++;
		dnsbl_cache_unlink(c, c->oldest);
	}
	if (c->count >= c->nbuckets &&
	    c->nbuckets < dnsbl_cache_bucket_limit(c->max_entries))
		dnsbl_cache_grow(c);
	e = mw_calloc(1, sizeof(*e));
	e->addr = *a;
	e->zone = zone;
	e->hash = hash;
	e->val = *val;
	if (e->val.nanswers > DNSBL_MAX_ANSWERS)
		e->val.nanswers = DNSBL_MAX_ANSWERS;
	i = hash & (c->nbuckets - 1);
	e->hnext = c->buckets[i];
	c->buckets[i] = e;
	e->older = c->newest;
	if (c->newest != NULL)
		c->newest->newer = e;
	else
		c->oldest = e;
	c->newest = e;
	c->count++;
	c->stats.inserts++;
}

void
dnsbl_cache_set_max(struct dnsbl_cache *c, uint32_t max_entries)
{
	c->max_entries = max_entries;
	while (c->count > max_entries) {
		c->stats.evicted_full++;
		dnsbl_cache_unlink(c, c->oldest);
	}
}

void
dnsbl_cache_drop_zone(struct dnsbl_cache *c, uint32_t zone)
{
	struct dnsbl_cache_entry *e = c->oldest, *next;

	for (; e != NULL; e = next) {
		next = e->newer;
		if (e->zone == zone)
			dnsbl_cache_unlink(c, e);
	}
}

void
dnsbl_cache_clear(struct dnsbl_cache *c)
{
	while (c->oldest != NULL)
		dnsbl_cache_unlink(c, c->oldest);
}

size_t
dnsbl_cache_count(const struct dnsbl_cache *c)
{
	return c->count;
}

void
dnsbl_cache_get_stats(const struct dnsbl_cache *c,
    struct dnsbl_cache_stats *stats_r)
{
	*stats_r = c->stats;
}

static uint32_t
dnsbl_cache_cap(uint64_t s)
{
	return s > DNSBL_MAX_TTL ? DNSBL_MAX_TTL : (uint32_t)s;
}

uint32_t
dnsbl_cache_ttl(const struct cfg *cfg, enum dnsbl_cache_kind kind,
    uint32_t answer_ttl)
{
	uint64_t ttl;

	switch (kind) {
	case DNSBL_CACHE_ANSWER:
		ttl = answer_ttl;
		if (ttl < cfg->dnsbl.cache_min_ttl)
			ttl = cfg->dnsbl.cache_min_ttl;
		if (ttl > cfg->dnsbl.cache_max_ttl)
			ttl = cfg->dnsbl.cache_max_ttl;
		return dnsbl_cache_cap(ttl);
	case DNSBL_CACHE_NXDOMAIN:
		return dnsbl_cache_cap(cfg->dnsbl.negative_ttl);
	case DNSBL_CACHE_TIMEOUT:
	case DNSBL_CACHE_FAILED:
		break;
	}
	return DNSBL_FAIL_TTL;
}
