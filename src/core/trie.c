/*
 * trie - path-compressed binary prefix trie; see trie.h.
 *
 * Each node holds a full prefix (key). A node's children extend its key
 * by at least one bit; child[b] holds keys whose bit at key.bits is b.
 * Nodes without a value exist only where two subtrees branch, so the
 * trie has fewer than 2n nodes for n keys.
 */
#include "core/trie.h"

#include <stdlib.h>
#include <string.h>

struct trie_node {
	struct trie_node	*child[2];
	struct mw_cidr		 key;
	bool			 has_value;
	void			*value;
};

struct mw_trie {
	struct trie_node	*root;
	size_t			 count;
};

struct mw_trie *
mw_trie_new(void)
{
	return mw_calloc(1, sizeof(struct mw_trie));
}

static void
trie_node_free(struct trie_node *n)
{
	/* Depth is at most 129: recursion is bounded. */
	if (n == NULL)
		return;
	trie_node_free(n->child[0]);
	trie_node_free(n->child[1]);
	free(n);
}

void
mw_trie_free(struct mw_trie **tp)
{
	if (*tp == NULL)
		return;
	trie_node_free((*tp)->root);
	mw_free(tp);
}

static struct trie_node *
trie_node_new(const struct mw_cidr *key)
{
	struct trie_node *n = mw_calloc(1, sizeof(*n));

	n->key = *key;
	return n;
}

void *
mw_trie_insert(struct mw_trie *t, const struct mw_cidr *key, void *value)
{
	struct trie_node	**p = &t->root, *n, *fresh, *split;
	unsigned		 common;

	while ((n = *p) != NULL) {
		unsigned max = n->key.bits < key->bits ? n->key.bits : key->bits;

		common = mw_addr_common_bits(&n->key.addr, &key->addr, max);
		if (common < n->key.bits) {
			/* key diverges inside n's prefix, or is shorter. */
			fresh = trie_node_new(key);
			fresh->has_value = true;
			fresh->value = value;
			t->count++;
			if (common == key->bits) {
				/* key is a prefix of n: n hangs below key. */
				fresh->child[mw_addr_bit(&n->key.addr, common)] = n;
				*p = fresh;
				return NULL;
			}
			split = mw_calloc(1, sizeof(*split));
			mw_cidr_from_addr(&key->addr, (uint8_t)common, &split->key);
			split->child[mw_addr_bit(&key->addr, common)] = fresh;
			split->child[mw_addr_bit(&n->key.addr, common)] = n;
			*p = split;
			return NULL;
		}
		if (n->key.bits == key->bits) {
			void *old = n->has_value ? n->value : NULL;

			if (!n->has_value)
				t->count++;
			n->has_value = true;
			n->value = value;
			return old;
		}
		p = &n->child[mw_addr_bit(&key->addr, n->key.bits)];
	}
	fresh = trie_node_new(key);
	fresh->has_value = true;
	fresh->value = value;
	*p = fresh;
	t->count++;
	return NULL;
}

static struct trie_node *
trie_find(const struct mw_trie *t, const struct mw_cidr *key)
{
	struct trie_node *n = t->root;

	while (n != NULL && n->key.bits <= key->bits) {
		if (mw_addr_common_bits(&n->key.addr, &key->addr, n->key.bits) !=
		    n->key.bits)
			return NULL;
		if (n->key.bits == key->bits)
			return n;
		n = n->child[mw_addr_bit(&key->addr, n->key.bits)];
	}
	return NULL;
}

void *
mw_trie_get(const struct mw_trie *t, const struct mw_cidr *key)
{
	struct trie_node *n = trie_find(t, key);

	return n != NULL && n->has_value ? n->value : NULL;
}

/* Removes *p's value; *p may be replaced or freed. Returns the value. */
static void *
trie_remove_at(struct mw_trie *t, struct trie_node **p,
    const struct mw_cidr *key)
{
	struct trie_node	*n = *p;
	void			*value;

	if (n == NULL || n->key.bits > key->bits ||
	    mw_addr_common_bits(&n->key.addr, &key->addr, n->key.bits) !=
	    n->key.bits)
		return NULL;
	if (n->key.bits < key->bits) {
		value = trie_remove_at(t, &n->child[mw_addr_bit(&key->addr,
		    n->key.bits)], key);
		/* A valueless node left with one child is no longer a branch. */
		if (value != NULL && !n->has_value &&
		    (n->child[0] == NULL || n->child[1] == NULL)) {
			*p = n->child[0] != NULL ? n->child[0] : n->child[1];
			free(n);
		}
		return value;
	}
	if (!n->has_value)
		return NULL;
	value = n->value;
	t->count--;
	if (n->child[0] != NULL && n->child[1] != NULL) {
		n->has_value = false;
		n->value = NULL;
	} else {
		*p = n->child[0] != NULL ? n->child[0] : n->child[1];
		free(n);
	}
	/* Callers store non-NULL values; a NULL value still counts as found. */
	return value;
}

void *
mw_trie_remove(struct mw_trie *t, const struct mw_cidr *key)
{
	return trie_remove_at(t, &t->root, key);
}

void *
mw_trie_lookup(const struct mw_trie *t, const struct mw_addr *a,
    struct mw_cidr *match_r)
{
	const struct trie_node *n = t->root, *best = NULL;

	while (n != NULL) {
		if (mw_addr_common_bits(&n->key.addr, a, n->key.bits) !=
		    n->key.bits)
			break;
		if (n->has_value)
			best = n;
		if (n->key.bits == 128)
			break;
		n = n->child[mw_addr_bit(a, n->key.bits)];
	}
	if (best == NULL)
		return NULL;
	if (match_r != NULL)
		*match_r = best->key;
	return best->value;
}

size_t
mw_trie_count(const struct mw_trie *t)
{
	return t->count;
}

static bool
trie_walk_node(const struct trie_node *n, mw_trie_walk_fn *fn, void *ctx)
{
	if (n == NULL)
		return true;
	if (n->has_value && !fn(ctx, &n->key, n->value))
		return false;
	return trie_walk_node(n->child[0], fn, ctx) &&
	    trie_walk_node(n->child[1], fn, ctx);
}

void
mw_trie_walk(const struct mw_trie *t, mw_trie_walk_fn *fn, void *ctx)
{
	(void)trie_walk_node(t->root, fn, ctx);
}
