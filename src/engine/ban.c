/*
 * ban - the in-memory ban table; see ban.h.
 */
#include "engine/ban.h"

#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* Interned reason strings, reference counted, chained hash. */
struct intern_str {
	struct intern_str	*next;
	uint64_t		 hash;
	uint32_t		 refs;
	char			 s[];
};

struct ban_intern {
	struct intern_str	**buckets;
	size_t			  nbuckets;
	size_t			  count;
};

static uint64_t
str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static const char *
intern_get(struct ban_intern *in, const char *s)
{
	uint64_t		 h = str_hash(s);
	struct intern_str	*is;
	size_t			 len;

	for (is = in->buckets[h & (in->nbuckets - 1)]; is != NULL; is = is->next) {
		if (is->hash == h && strcmp(is->s, s) == 0) {
			is->refs++;
			return is->s;
		}
	}
	if (in->count >= in->nbuckets) {
		size_t			  n = in->nbuckets * 2;
		struct intern_str	**b = mw_calloc(n, sizeof(*b));

		for (size_t i = 0; i < in->nbuckets; i++) {
			struct intern_str *next;

			for (is = in->buckets[i]; is != NULL; is = next) {
				next = is->next;
				is->next = b[is->hash & (n - 1)];
				b[is->hash & (n - 1)] = is;
			}
		}
		free(in->buckets);
		in->buckets = b;
		in->nbuckets = n;
	}
	len = strlen(s);
	is = mw_malloc(mw_add_size(sizeof(*is), len + 1));
	is->hash = h;
	is->refs = 1;
	memcpy(is->s, s, len + 1);
	is->next = in->buckets[h & (in->nbuckets - 1)];
	in->buckets[h & (in->nbuckets - 1)] = is;
	in->count++;
	return is->s;
}

static void
intern_put(struct ban_intern *in, const char *s)
{
	uint64_t		  h;
	struct intern_str	**p, *is;

	if (s == NULL)
		return;
	h = str_hash(s);
	for (p = &in->buckets[h & (in->nbuckets - 1)]; (is = *p) != NULL;
	    p = &is->next) {
		if (is->s == s) {
			if (--is->refs == 0) {
				*p = is->next;
				free(is);
				in->count--;
			}
			return;
		}
	}
	mw_panic("ban: reason \"%s\" not interned", s);
}

static uint64_t
ban_key_hash(const struct mw_cidr *net)
{
	uint64_t h = mw_addr_hash(&net->addr) ^ ((uint64_t)net->bits * 0x9e3779b97f4a7c15ULL);

	h ^= h >> 29;
	return h;
}

static bool
ban_key_eq(const struct mw_cidr *a, const struct mw_cidr *b)
{
	return a->bits == b->bits && mw_addr_cmp(&a->addr, &b->addr) == 0;
}

void
ban_table_init(struct ban_table *t)
{
	memset(t, 0, sizeof(*t));
	t->nslots = 1024;
	t->slots = mw_calloc(t->nslots, sizeof(*t->slots));
	t->intern = mw_calloc(1, sizeof(*t->intern));
	t->intern->nbuckets = 64;
	t->intern->buckets = mw_calloc(t->intern->nbuckets,
	    sizeof(*t->intern->buckets));
}

void
ban_table_deinit(struct ban_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		intern_put(t->intern, t->entries[i].reason);
	free(t->entries);
	free(t->slots);
	if (t->intern != NULL) {
		free(t->intern->buckets);
		free(t->intern);
	}
	memset(t, 0, sizeof(*t));
}

/* Slot holding net, or the empty slot where it would go. */
static size_t
ban_find_slot(const struct ban_table *t, const struct mw_cidr *net)
{
	size_t mask = t->nslots - 1, i = (size_t)ban_key_hash(net) & mask;

	while (t->slots[i] != 0 &&
	    !ban_key_eq(&t->entries[t->slots[i] - 1].net, net))
		i = (i + 1) & mask;
	return i;
}

static void
ban_rehash(struct ban_table *t, size_t nslots)
{
	free(t->slots);
	t->nslots = nslots;
	t->slots = mw_calloc(nslots, sizeof(*t->slots));
	for (size_t k = 0; k < t->n; k++)
		t->slots[ban_find_slot(t, &t->entries[k].net)] = (uint32_t)(k + 1);
}

void
ban_table_reserve(struct ban_table *t, size_t n)
{
	size_t nslots = t->nslots;

	if (n > UINT32_MAX - 1)
		mw_panic("ban: %zu bans is more than the table supports", n);
	if (n > t->cap) {
		t->entries = mw_realloc(t->entries, mw_mul_size(n,
		    sizeof(*t->entries)));
		t->cap = n;
	}
	/* Load factor at most 3/4. */
	while (nslots / 4 * 3 < n)
		nslots *= 2;
	if (nslots != t->nslots)
		ban_rehash(t, nslots);
}

static void
ban_len_add(struct ban_table *t, uint8_t bits)
{
	size_t i;

	if (t->len_count[bits]++ > 0)
		return;
	for (i = 0; i < t->nlens && t->lens[i] > bits; i++)
		;
	memmove(&t->lens[i + 1], &t->lens[i], t->nlens - i);
	t->lens[i] = bits;
	t->nlens++;
}

static void
ban_len_del(struct ban_table *t, uint8_t bits)
{
	size_t i;

	if (--t->len_count[bits] > 0)
		return;
	for (i = 0; i < t->nlens && t->lens[i] != bits; i++)
		;
	MW_ASSERT(i < t->nlens);
	memmove(&t->lens[i], &t->lens[i + 1], t->nlens - i - 1);
	t->nlens--;
}

static uint32_t
clamp_time(int64_t t)
{
	if (t <= 0)
		return 0;
	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

struct ban_entry *
ban_table_put(struct ban_table *t, const struct store_ban *b)
{
	size_t			 slot;
	struct ban_entry	*e;

	if (t->n + 1 > t->cap || (t->n + 1) > t->nslots / 4 * 3)
		ban_table_reserve(t, t->n + 1 > t->cap ?
		    (t->cap < 1024 ? 1024 : t->cap + t->cap / 2) : t->n + 1);
	slot = ban_find_slot(t, &b->net);
	if (t->slots[slot] != 0) {
		e = &t->entries[t->slots[slot] - 1];
		intern_put(t->intern, e->reason);
	} else {
		e = &t->entries[t->n];
		t->slots[slot] = (uint32_t)(++t->n);
		ban_len_add(t, b->net.bits);
	}
	e->net = b->net;
	e->source = (uint8_t)b->source;
	e->dirty = 0;
	e->hits = b->hits;
	e->count = b->count;
	e->first_seen = clamp_time(b->first_seen);
	e->last_seen = clamp_time(b->last_seen);
	e->expires = clamp_time(b->expires);
	e->reason = intern_get(t->intern, b->reason != NULL ? b->reason : "");
	return e;
}

struct ban_entry *
ban_table_get(struct ban_table *t, const struct mw_cidr *net)
{
	size_t slot = ban_find_slot(t, net);

	return t->slots[slot] != 0 ? &t->entries[t->slots[slot] - 1] : NULL;
}

bool
ban_entry_is_active(const struct ban_entry *e, int64_t now)
{
	return e->expires == 0 || (int64_t)e->expires > now;
}

struct ban_entry *
ban_table_match(struct ban_table *t, const struct mw_addr *a, int64_t now)
{
	for (size_t i = 0; i < t->nlens; i++) {
		struct mw_cidr		 net;
		struct ban_entry	*e;

		mw_cidr_from_addr(a, t->lens[i], &net);
		e = ban_table_get(t, &net);
		if (e != NULL && ban_entry_is_active(e, now))
			return e;
	}
	return NULL;
}

bool
ban_table_remove(struct ban_table *t, const struct mw_cidr *net)
{
	size_t		 mask = t->nslots - 1, i = ban_find_slot(t, net), j;
	uint32_t	 idx, last;

	if (t->slots[i] == 0)
		return false;
	idx = t->slots[i] - 1;
	/* Backward-shift deletion keeps probe chains intact without tombstones. */
	j = i;
	for (;;) {
		size_t home;

		t->slots[i] = 0;
		for (;;) {
			j = (j + 1) & mask;
			if (t->slots[j] == 0)
				goto shifted;
			home = (size_t)ban_key_hash(&t->entries[t->slots[j] - 1].net) &
			    mask;
			/* Move j back to i unless its home lies cyclically in (i, j]. */
			if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
				continue;
			break;
		}
		t->slots[i] = t->slots[j];
		i = j;
	}
shifted:
	ban_len_del(t, t->entries[idx].net.bits);
	intern_put(t->intern, t->entries[idx].reason);
	last = (uint32_t)(t->n - 1);
	if (idx != last) {
		t->entries[idx] = t->entries[last];
		t->slots[ban_find_slot(t, &t->entries[idx].net)] = idx + 1;
	}
	t->n--;
	return true;
}

void
ban_entry_to_store(const struct ban_entry *e, struct store_ban *b_r)
{
	*b_r = (struct store_ban){
		.net = e->net,
		.source = (enum store_ban_source)e->source,
		.reason = e->reason,
		.first_seen = e->first_seen,
		.last_seen = e->last_seen,
		.expires = e->expires,
		.hits = e->hits,
		.count = e->count,
	};
}
