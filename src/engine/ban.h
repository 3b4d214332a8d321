/*
 * ban - the in-memory ban table (private to the engine).
 *
 * Bans are host addresses or networks. Entries live in one dense array
 * (48 bytes each) indexed by an open-addressing hash on (network, prefix
 * length); a lookup for an address probes once per prefix length in use,
 * longest first, so the common case (host bans only) is one probe.
 * Reasons are interned: a million bans share a handful of strings.
 * Sized for millions of entries: 1,000,000 bans take about 60 MB.
 */
#ifndef MW_ENGINE_BAN_H
#define MW_ENGINE_BAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "store/store.h"

struct ban_entry {
	struct mw_cidr	 net;
	uint8_t		 source;	/* enum store_ban_source */
	uint8_t		 dirty;		/* hits/last_seen not yet stored */
	uint32_t	 hits;
	uint32_t	 count;
	uint32_t	 first_seen;	/* unix seconds (fits until 2106) */
	uint32_t	 last_seen;
	uint32_t	 expires;	/* 0 = permanent */
	const char	*reason;	/* interned */
};

struct ban_intern;

struct ban_table {
	struct ban_entry	*entries;
	size_t			 n, cap;
	uint32_t		*slots;		/* 0 empty, else entry index + 1 */
	size_t			 nslots;	/* power of two */
	uint32_t		 len_count[129];
	uint8_t			 lens[129];	/* prefix lengths in use, longest first */
	size_t			 nlens;
	struct ban_intern	*intern;
};

void	 ban_table_init(struct ban_table *t);
void	 ban_table_deinit(struct ban_table *t);
void	 ban_table_reserve(struct ban_table *t, size_t n);

/* Inserts or overwrites the entry for b->net; the reason is interned.
   Returns the stored entry (valid until the next insert or remove). */
struct ban_entry *ban_table_put(struct ban_table *t, const struct store_ban *b);
struct ban_entry *ban_table_get(struct ban_table *t, const struct mw_cidr *net);
/* The most specific entry covering a that is active at now, or NULL. */
struct ban_entry *ban_table_match(struct ban_table *t, const struct mw_addr *a,
	    int64_t now);
bool	 ban_table_remove(struct ban_table *t, const struct mw_cidr *net);
bool	 ban_entry_is_active(const struct ban_entry *e, int64_t now);
void	 ban_entry_to_store(const struct ban_entry *e, struct store_ban *b_r);

#endif
