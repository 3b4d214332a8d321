/*
 * acl - the allow and deny lists (private to the engine).
 *
 * Each list is two prefix tries: entries added at run time (CLI,
 * dashboard; persisted in the store) and entries from the config file
 * (replaced as a whole on reload, never written to the store). A lookup
 * answers the longest match across both.
 */
#ifndef MW_ENGINE_ACL_H
#define MW_ENGINE_ACL_H

#include <stdbool.h>

#include "core/cfg.h"
#include "core/trie.h"
#include "engine/engine.h"

struct acl {
	struct mw_trie	*dynamic;	/* values: struct acl_item * */
	struct mw_trie	*config;
};

void	 acl_init(struct acl *acl);
void	 acl_deinit(struct acl *acl);
/* Replaces the config entries. */
void	 acl_set_config(struct acl *acl, enum store_list list,
	    const struct cfg_list_entry *entries, size_t n);
void	 acl_put(struct acl *acl, const struct store_list_entry *e);
bool	 acl_del(struct acl *acl, const struct mw_cidr *net);
bool	 acl_has_config(struct acl *acl, const struct mw_cidr *net,
	    const char **comment_r);
bool	 acl_match(struct acl *acl, const struct mw_addr *a,
	    struct engine_list_entry *le_r);
/* Every entry, config ones first, each trie in address order. */
void	 acl_walk(struct acl *acl, engine_list_fn *fn, void *ctx);
size_t	 acl_count(struct acl *acl);

#endif
