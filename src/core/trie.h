/*
 * trie - path-compressed binary prefix trie over 128-bit addresses.
 *
 * Maps CIDR networks to caller values and answers longest-prefix-match
 * lookups in at most 129 node visits. Keys are copied; values are the
 * caller's (the trie never frees them: use mw_trie_walk before
 * mw_trie_free to release them). Not thread-safe.
 */
#ifndef MW_CORE_TRIE_H
#define MW_CORE_TRIE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/addr.h"

struct mw_trie;

struct mw_trie	*mw_trie_new(void);
void		 mw_trie_free(struct mw_trie **t);

/* Inserts or replaces. Returns the previous value for key, or NULL. */
void	*mw_trie_insert(struct mw_trie *t, const struct mw_cidr *key, void *value);
/* Removes key; returns its value, or NULL when absent. */
void	*mw_trie_remove(struct mw_trie *t, const struct mw_cidr *key);
/* Exact match. */
void	*mw_trie_get(const struct mw_trie *t, const struct mw_cidr *key);
/* The value of the longest network containing a, or NULL. *match_r (may
   be NULL) receives that network. */
void	*mw_trie_lookup(const struct mw_trie *t, const struct mw_addr *a,
	    struct mw_cidr *match_r);
size_t	 mw_trie_count(const struct mw_trie *t);

/* Visits every entry in address order; fn returning false stops. */
typedef bool mw_trie_walk_fn(void *ctx, const struct mw_cidr *key, void *value);
void	 mw_trie_walk(const struct mw_trie *t, mw_trie_walk_fn *fn, void *ctx);

#endif
