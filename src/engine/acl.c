/*
 * acl - allow and deny lists as prefix tries; see acl.h.
 */
#include "engine/acl.h"

#include <stdlib.h>

#include "core/mem.h"

struct acl_item {
	struct store_list_entry	 e;	/* e.comment owned by the item */
	enum engine_list_origin	 origin;
};

static struct acl_item *
acl_item_new(const struct store_list_entry *e, enum engine_list_origin origin)
{
	struct acl_item *it = mw_calloc(1, sizeof(*it));

	it->e = *e;
	it->e.comment = mw_strdup(e->comment != NULL ? e->comment : "");
	it->origin = origin;
	return it;
}

static void
acl_item_free(struct acl_item *it)
{
	if (it != NULL) {
		free((char *)it->e.comment);
		free(it);
	}
}

static bool
acl_free_cb(void *ctx, const struct mw_cidr *key, void *value)
{
	(void)ctx;
	(void)key;
	acl_item_free(value);
	return true;
}

static void
acl_trie_clear(struct mw_trie **t)
{
	if (*t != NULL)
		mw_trie_walk(*t, acl_free_cb, NULL);
	mw_trie_free(t);
}

void
acl_init(struct acl *acl)
{
	acl->dynamic = mw_trie_new();
	acl->config = mw_trie_new();
}

void
acl_deinit(struct acl *acl)
{
	acl_trie_clear(&acl->dynamic);
	acl_trie_clear(&acl->config);
}

void
acl_set_config(struct acl *acl, enum store_list list,
    const struct cfg_list_entry *entries, size_t n)
{
	acl_trie_clear(&acl->config);
	acl->config = mw_trie_new();
	for (size_t i = 0; i < n; i++) {
		struct store_list_entry e = {
			.net = entries[i].net, .list = list,
			.comment = entries[i].comment, .created = 0,
		};

		acl_item_free(mw_trie_insert(acl->config, &e.net,
		    acl_item_new(&e, ENGINE_LIST_CONFIG)));
	}
}

void
acl_put(struct acl *acl, const struct store_list_entry *e)
{
	acl_item_free(mw_trie_insert(acl->dynamic, &e->net,
	    acl_item_new(e, ENGINE_LIST_STORE)));
}

bool
acl_del(struct acl *acl, const struct mw_cidr *net)
{
	struct acl_item *it = mw_trie_remove(acl->dynamic, net);

	acl_item_free(it);
	return it != NULL;
}

bool
acl_has_config(struct acl *acl, const struct mw_cidr *net,
    const char **comment_r)
{
	struct acl_item *it = mw_trie_get(acl->config, net);

	if (it != NULL && comment_r != NULL)
		*comment_r = it->e.comment;
	return it != NULL;
}

bool
acl_match(struct acl *acl, const struct mw_addr *a,
    struct engine_list_entry *le_r)
{
	struct mw_cidr	 m1, m2;
	struct acl_item	*d = mw_trie_lookup(acl->dynamic, a, &m1);
	struct acl_item	*c = mw_trie_lookup(acl->config, a, &m2);
	struct acl_item	*best;

	if (d == NULL && c == NULL)
		return false;
	if (d == NULL)
		best = c;
	else if (c == NULL)
		best = d;
	else
		best = m2.bits >= m1.bits ? c : d;
	if (le_r != NULL) {
		le_r->e = best->e;
		le_r->origin = best->origin;
	}
	return true;
}

struct acl_walk_ctx {
	engine_list_fn	*fn;
	void		*ctx;
};

static bool
acl_walk_cb(void *ctx, const struct mw_cidr *key, void *value)
{
	struct acl_walk_ctx	*w = ctx;
	struct acl_item		*it = value;
	struct engine_list_entry le = { .e = it->e, .origin = it->origin };

	(void)key;
	return w->fn(w->ctx, &le);
}

void
acl_walk(struct acl *acl, engine_list_fn *fn, void *ctx)
{
	struct acl_walk_ctx w = { fn, ctx };

	mw_trie_walk(acl->config, acl_walk_cb, &w);
	mw_trie_walk(acl->dynamic, acl_walk_cb, &w);
}

size_t
acl_count(struct acl *acl)
{
	return mw_trie_count(acl->dynamic) + mw_trie_count(acl->config);
}
