/*
 * bruteforce - the login guard's detectors; see bruteforce.h.
 *
 * One generic open-addressing table (linear probing, backward-shift
 * deletion, a dense entry array so that a million entries are one
 * allocation) serves the four kinds of entry; each entry starts with
 * struct bf_hdr (its 32-bit hash and when it was last touched).
 * Sizes (x86-64): address/network 88 bytes, pair 56, account 80 (+ 192
 * for an account with successful logins, + 8 per failing address up to
 * BF_ACCOUNT_ADDRS), plus 4-8 bytes of slot each.
 */
#include "engine/bruteforce.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"

#define BF_SAMPLE		8	/* entries sampled to pick the eviction victim */
#define BF_SEED_ACCOUNT		0x6163636f756e74ULL	/* "account" */
#define BF_SEED_ADDR		0x61646472ULL		/* "addr" */
#define BF_SEED_PAIR		0x70616972ULL		/* "pair" */
#define BF_QUOTE_MAX		64	/* bytes of an account name in a reason */

struct bf_hdr {
	uint32_t	 hash;
	uint32_t	 last;	/* unix seconds of the last update */
};

/* An address or a network (masked address). */
struct bf_addr_e {
	struct bf_hdr		 h;
	struct mw_addr		 addr;
	struct mw_window	 fail;
	struct mw_distinct	 accounts;
};

struct bf_pair_e {
	struct bf_hdr		 h;
	uint64_t		 key;	/* hash of (account, address) */
	struct mw_window	 fail;
	uint32_t		 pwfp[BF_PWFP_MAX];
	uint8_t			 npwfp, pwpos;
};

struct bf_known_e {
	struct mw_addr	 net;	/* masked to the network length */
	uint32_t	 first, last;
};

/* One address failing on an account, exactly (a distributed attack is
   judged on a few addresses: a bitmap estimate would be too coarse). */
struct bf_seen {
	uint32_t	 h;	/* 32-bit hash of the address */
	uint32_t	 last;
};

struct bf_account_e {
	struct bf_hdr		 h;
	char			*name;
	struct mw_window	 fail;
	struct bf_seen		*seen;	/* failing addresses, NULL until one */
	uint8_t			 nseen, cseen;
	uint32_t		 attacked_since, last_failure, last_success;
	uint8_t			 nknown;
	struct bf_known_e	*known;	/* BF_KNOWN_MAX, NULL until a success */
};

struct bf_table;
typedef bool bf_eq_fn(const void *entry, const void *key);
typedef void bf_release_fn(void *entry);
typedef bool bf_empty_fn(struct bf *bf, void *entry, int64_t now);
typedef void bf_init_fn(void *entry, const void *key);	/* copies the key */

struct bf_table {
	const char	*name;
	unsigned char	*entries;
	size_t		 esize, n, cap, max;
	uint32_t	*slots;		/* 0 empty, else entry index + 1 */
	size_t		 nslots;	/* power of two */
	size_t		 cursor;	/* expiry scan position */
	bf_eq_fn	*eq;
	bf_release_fn	*release;
	bf_empty_fn	*empty;
	bf_init_fn	*init;
};

struct bf {
	struct bf_config	 c;
	uint32_t		 slot_s, gen_s;	/* window bucket lengths */
	struct bf_table		 addrs, nets, pairs, accounts;
	struct mw_distinct	*common;	/* BF_COMMON_MAX */
	uint64_t		 evicted, repeats;
	uint64_t		 rng;
};

/* --- the generic table ------------------------------------------------ */

static void *
bf_entry(const struct bf_table *t, size_t i)
{
	return t->entries + i * t->esize;
}

static struct bf_hdr *
bf_hdr(const struct bf_table *t, size_t i)
{
	return (struct bf_hdr *)bf_entry(t, i);
}

static void
bf_table_init(struct bf_table *t, const char *name, size_t esize, size_t max,
    bf_eq_fn *eq, bf_init_fn *init, bf_release_fn *release,
    bf_empty_fn *empty)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->esize = esize;
	t->max = max < 16 ? 16 : max;
	t->nslots = 64;
	t->slots = mw_calloc(t->nslots, sizeof(*t->slots));
	t->eq = eq;
	t->init = init;
	t->release = release;
	t->empty = empty;
}

static void
bf_table_deinit(struct bf_table *t)
{
	if (t->release != NULL)
		for (size_t i = 0; i < t->n; i++)
			t->release(bf_entry(t, i));
	free(t->entries);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

/* Index of the entry for key, or -1. *slot_r: its slot or the empty slot
   where it would go. */
static ssize_t
bf_table_find(const struct bf_table *t, uint32_t h, const void *key,
    size_t *slot_r)
{
	size_t mask = t->nslots - 1, i = h & mask;

	for (; t->slots[i] != 0; i = (i + 1) & mask) {
		size_t idx = t->slots[i] - 1;

		if (bf_hdr(t, idx)->hash == h && t->eq(bf_entry(t, idx), key)) {
			if (slot_r != NULL)
				*slot_r = i;
			return (ssize_t)idx;
		}
	}
	if (slot_r != NULL)
		*slot_r = i;
	return -1;
}

static void
bf_table_rehash(struct bf_table *t, size_t nslots)
{
	size_t mask = nslots - 1;

	free(t->slots);
	t->nslots = nslots;
	t->slots = mw_calloc(nslots, sizeof(*t->slots));
	for (size_t k = 0; k < t->n; k++) {
		size_t i = bf_hdr(t, k)->hash & mask;

		while (t->slots[i] != 0)
			i = (i + 1) & mask;
		t->slots[i] = (uint32_t)(k + 1);
	}
}

/* The slot holding entry idx. */
static size_t
bf_table_slot_of(const struct bf_table *t, size_t idx)
{
	size_t mask = t->nslots - 1, i = bf_hdr(t, idx)->hash & mask;

	while (t->slots[i] != idx + 1) {
		MW_ASSERT(t->slots[i] != 0);
		i = (i + 1) & mask;
	}
	return i;
}

static void
bf_table_remove(struct bf_table *t, size_t idx)
{
	size_t	 mask = t->nslots - 1, i = bf_table_slot_of(t, idx), j = i;
	size_t	 last = t->n - 1;

	/* Backward-shift deletion keeps every probe chain unbroken. */
	for (;;) {
		size_t k;

		j = (j + 1) & mask;
		if (t->slots[j] == 0)
			break;
		k = bf_hdr(t, t->slots[j] - 1)->hash & mask;
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i] = 0;
	if (t->release != NULL)
		t->release(bf_entry(t, idx));
	if (idx != last) {
		/* The last entry moves into the hole. */
		t->slots[bf_table_slot_of(t, last)] = (uint32_t)(idx + 1);
		memcpy(bf_entry(t, idx), bf_entry(t, last), t->esize);
	}
	t->n--;
}

static uint64_t
bf_rand(struct bf *bf)
{
	/* xorshift64: only picks eviction samples. */
	bf->rng ^= bf->rng << 13;
	bf->rng ^= bf->rng >> 7;
	bf->rng ^= bf->rng << 17;
	return bf->rng;
}

/* Evicts the least recently touched of BF_SAMPLE random entries. */
static void
bf_table_evict(struct bf *bf, struct bf_table *t)
{
	size_t	 victim = (size_t)(bf_rand(bf) % t->n);

	for (int s = 1; s < BF_SAMPLE; s++) {
		size_t i = (size_t)(bf_rand(bf) % t->n);

		if (bf_hdr(t, i)->last < bf_hdr(t, victim)->last)
			victim = i;
	}
	bf_table_remove(t, victim);
	bf->evicted++;
}

/* The entry for key, created zeroed (but for its header) when absent.
   *created_r (may be NULL) says which. Pointers into the table are
   valid until the next insert or remove in the same table. */
static void *
bf_table_get(struct bf *bf, struct bf_table *t, uint32_t h, const void *key,
    int64_t now, bool *created_r)
{
	size_t	 slot;
	ssize_t	 idx = bf_table_find(t, h, key, &slot);
	struct bf_hdr *hdr;

	if (created_r != NULL)
		*created_r = idx < 0;
	if (idx >= 0) {
		hdr = bf_hdr(t, (size_t)idx);
		if (now > (int64_t)hdr->last)
			hdr->last = (uint32_t)now;
		return hdr;
	}
	if (t->n >= t->max) {
		bf_table_evict(bf, t);
		(void)bf_table_find(t, h, key, &slot);
	}
	if (t->n == t->cap) {
		size_t cap = t->cap == 0 ? 64 : t->cap + t->cap / 2;

		if (cap > t->max)
			cap = t->max;
		t->entries = mw_realloc(t->entries, mw_mul_size(cap, t->esize));
		t->cap = cap;
	}
	if ((t->n + 1) * 4 > t->nslots * 3) {
		bf_table_rehash(t, mw_mul_size(t->nslots, 2));
		(void)bf_table_find(t, h, key, &slot);
	}
	hdr = bf_entry(t, t->n);
	memset(hdr, 0, t->esize);
	hdr->hash = h;
	hdr->last = now < 0 ? 0 : (uint32_t)now;
	t->init(hdr, key);
	t->slots[slot] = (uint32_t)(t->n + 1);
	t->n++;
	return hdr;
}

static void *
bf_table_lookup(struct bf_table *t, uint32_t h, const void *key)
{
	ssize_t idx = bf_table_find(t, h, key, NULL);

	return idx < 0 ? NULL : bf_entry(t, (size_t)idx);
}

/* --- entry kinds -------------------------------------------------------- */

static bool
bf_addr_eq(const void *entry, const void *key)
{
	return memcmp(&((const struct bf_addr_e *)entry)->addr, key,
	    sizeof(struct mw_addr)) == 0;
}

static bool
bf_pair_eq(const void *entry, const void *key)
{
	return ((const struct bf_pair_e *)entry)->key == *(const uint64_t *)key;
}

static bool
bf_account_eq(const void *entry, const void *key)
{
	return strcmp(((const struct bf_account_e *)entry)->name, key) == 0;
}

static void
bf_addr_init(void *entry, const void *key)
{
	memcpy(&((struct bf_addr_e *)entry)->addr, key, sizeof(struct mw_addr));
}

static void
bf_pair_init(void *entry, const void *key)
{
	((struct bf_pair_e *)entry)->key = *(const uint64_t *)key;
}

static void
bf_account_init(void *entry, const void *key)
{
	((struct bf_account_e *)entry)->name = mw_strdup(key);
}

static void
bf_account_release(void *entry)
{
	struct bf_account_e *ae = entry;

	free(ae->name);
	free(ae->known);
	free(ae->seen);
}

static bool
bf_addr_empty(struct bf *bf, void *entry, int64_t now)
{
	struct bf_addr_e *e = entry;

	return mw_window_sum(&e->fail, bf->slot_s, now) == 0 &&
	    mw_distinct_empty(&e->accounts, bf->gen_s, now);
}

static bool
bf_pair_empty(struct bf *bf, void *entry, int64_t now)
{
	struct bf_pair_e *e = entry;

	return mw_window_sum(&e->fail, bf->slot_s, now) == 0;
}

static bool
bf_known_live(const struct bf *bf, const struct bf_known_e *k, int64_t now)
{
	return (int64_t)k->last + (int64_t)bf->c.known_ttl_s >= now;
}

/* Failing addresses of the account in the window ending at now. */
static uint32_t
bf_seen_count(const struct bf *bf, const struct bf_account_e *e, int64_t now)
{
	uint32_t n = 0;

	for (size_t i = 0; i < e->nseen; i++)
		if ((int64_t)e->seen[i].last + (int64_t)bf->c.window_s > now)
			n++;
	return n;
}

static void
bf_seen_add(struct bf_account_e *e, uint32_t h, int64_t now)
{
	size_t oldest = 0;

	for (size_t i = 0; i < e->nseen; i++) {
		if (e->seen[i].h == h) {
			if (now > (int64_t)e->seen[i].last)
				e->seen[i].last = (uint32_t)now;
			return;
		}
		if (e->seen[i].last < e->seen[oldest].last)
			oldest = i;
	}
	if (e->nseen == e->cseen && e->cseen < BF_ACCOUNT_ADDRS) {
		e->cseen = e->cseen == 0 ? 4 : (uint8_t)(e->cseen * 2);
		e->seen = mw_realloc(e->seen, e->cseen * sizeof(*e->seen));
	}
	if (e->nseen < e->cseen)
		oldest = e->nseen++;
	e->seen[oldest] = (struct bf_seen){ h, now < 0 ? 0 : (uint32_t)now };
}

static bool
bf_account_empty(struct bf *bf, void *entry, int64_t now)
{
	struct bf_account_e *e = entry;

	if (mw_window_sum(&e->fail, bf->slot_s, now) != 0 ||
	    bf_seen_count(bf, e, now) != 0)
		return false;
	for (size_t i = 0; i < e->nknown; i++)
		if (bf_known_live(bf, &e->known[i], now))
			return false;
	return true;
}

static uint32_t
bf_h32(uint64_t h)
{
	return (uint32_t)(h ^ (h >> 32));
}

static uint64_t
bf_addr_hash64(const struct mw_addr *a)
{
	return mw_hash_bytes(a->b, sizeof(a->b), BF_SEED_ADDR);
}

static uint64_t
bf_account_hash64(const char *account)
{
	return mw_hash_bytes(account, strlen(account), BF_SEED_ACCOUNT);
}

static uint64_t
bf_pair_key(const char *account, const struct mw_addr *a)
{
	return mw_hash_bytes(a->b, sizeof(a->b), BF_SEED_PAIR ^
	    bf_account_hash64(account));
}

/* --- life cycle ------------------------------------------------------------ */

void
bf_config_from_cfg(const struct cfg *cfg, struct bf_config *c)
{
	bf_config_defaults(c);
	c->window_s = (uint32_t)cfg->login.window;
	c->tarpit_after = cfg->login.tarpit_after;
	c->tarpit_delay_s = (uint32_t)cfg->login.tarpit_delay;
	c->ban_after = cfg->login.ban_after;
	c->account_address_ban_after = cfg->login.account_address_ban_after;
	c->network_ban_after = cfg->login.network_ban_after;
	c->network_bits_v4 = (uint8_t)cfg->login.network_bits_v4;
	c->network_bits_v6 = (uint8_t)cfg->login.network_bits_v6;
	c->spray_accounts = cfg->login.spray_accounts;
	c->spray_network_accounts = cfg->login.spray_network_accounts;
	c->spray_password_accounts = cfg->login.spray_password_accounts;
	c->distributed_addresses = cfg->login.distributed_addresses;
	c->distributed_reject = cfg->login.distributed_reject;
	c->trust_known = cfg->login.trust_known;
	c->known_ttl_s = cfg->login.known_ttl > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)cfg->login.known_ttl;
	c->alert_after_failures = cfg->login.alert_after_failures;
	c->alert_new_network = cfg->login.alert_new_network;
	c->max_addresses = cfg->login.max_addresses;
	c->max_networks = cfg->login.max_networks;
	c->max_accounts = cfg->login.max_accounts;
	c->max_pairs = cfg->login.max_pairs;
}

void
bf_config_defaults(struct bf_config *c)
{
	*c = (struct bf_config){
		.window_s = 600, .tarpit_after = 3, .tarpit_delay_s = 2,
		.ban_after = 10, .account_address_ban_after = 6,
		.network_ban_after = 30, .network_bits_v4 = 24,
		.network_bits_v6 = 64, .spray_accounts = 8,
		.spray_network_accounts = 15, .spray_password_accounts = 5,
		.distributed_addresses = 5, .distributed_reject = false,
		.trust_known = true, .known_ttl_s = 30 * 86400,
		.alert_after_failures = 3, .alert_new_network = true,
		.max_addresses = 2000000, .max_networks = 1000000,
		.max_accounts = 200000, .max_pairs = 2000000,
	};
}

static void
bf_apply_config(struct bf *bf, const struct bf_config *c)
{
	bf->c = *c;
	if (bf->c.window_s == 0)
		bf->c.window_s = 1;
	bf->slot_s = mw_window_cover_slot(bf->c.window_s, MW_WINDOW_SLOTS);
	bf->gen_s = mw_window_cover_slot(bf->c.window_s, MW_DISTINCT_GENS);
	bf->addrs.max = c->max_addresses < 16 ? 16 : c->max_addresses;
	bf->nets.max = c->max_networks < 16 ? 16 : c->max_networks;
	bf->pairs.max = c->max_pairs < 16 ? 16 : c->max_pairs;
	bf->accounts.max = c->max_accounts < 16 ? 16 : c->max_accounts;
}

struct bf *
bf_new(const struct bf_config *c)
{
	struct bf *bf = mw_calloc(1, sizeof(*bf));

	bf_table_init(&bf->addrs, "address", sizeof(struct bf_addr_e),
	    c->max_addresses, bf_addr_eq, bf_addr_init, NULL, bf_addr_empty);
	bf_table_init(&bf->nets, "network", sizeof(struct bf_addr_e),
	    c->max_networks, bf_addr_eq, bf_addr_init, NULL, bf_addr_empty);
	bf_table_init(&bf->pairs, "account+address", sizeof(struct bf_pair_e),
	    c->max_pairs, bf_pair_eq, bf_pair_init, NULL, bf_pair_empty);
	bf_table_init(&bf->accounts, "account", sizeof(struct bf_account_e),
	    c->max_accounts, bf_account_eq, bf_account_init,
	    bf_account_release, bf_account_empty);
	bf->common = mw_calloc(BF_COMMON_MAX, sizeof(*bf->common));
	bf->rng = 0x9e3779b97f4a7c15ULL;
	bf_apply_config(bf, c);
	return bf;
}

void
bf_free(struct bf **bfp)
{
	struct bf *bf = *bfp;

	if (bf == NULL)
		return;
	bf_table_deinit(&bf->addrs);
	bf_table_deinit(&bf->nets);
	bf_table_deinit(&bf->pairs);
	bf_table_deinit(&bf->accounts);
	free(bf->common);
	free(bf);
	*bfp = NULL;
}

void
bf_set_config(struct bf *bf, const struct bf_config *c)
{
	bf_apply_config(bf, c);
}

/* --- helpers ---------------------------------------------------------------- */

void
bf_network_of(const struct bf *bf, const struct mw_addr *addr,
    struct mw_cidr *net_r)
{
	uint8_t bits = mw_addr_is_v4(addr) ? (uint8_t)(96 + bf->c.network_bits_v4) :
	    bf->c.network_bits_v6;

	mw_cidr_from_addr(addr, bits, net_r);
}

uint32_t
bf_pwfp(const uint8_t *hash, uint32_t bits)
{
	size_t n = (bits + 7) / 8;

	if (n > 32)
		n = 32;
	return bf_h32(mw_hash_bytes(hash, n, bits));
}

const char *
bf_window_text(uint32_t secs, char *buf, size_t size)
{
	return mw_format_duration(secs, buf, size);
}

/* An account name fit for a reason: printable, cut. */
static void
bf_quote(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < size && n < BF_QUOTE_MAX; s++, n++) {
		unsigned char c = (unsigned char)*s;

		buf[n] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	buf[n] = '\0';
	if (*s != '\0' && n >= 3 && n < size)
		memcpy(buf + n - 3, "...", 3);
}

static const char *
bf_svc(const struct bf_attempt *at, char *buf, size_t size)
{
	char q[BF_QUOTE_MAX + 1];

	if (at->service == NULL || at->service[0] == '\0') {
		buf[0] = '\0';
		return buf;
	}
	bf_quote(at->service, q, 17);
	(void)snprintf(buf, size, " (%s)", q);
	return buf;
}

static bool
bf_account_knows(const struct bf *bf, const struct bf_account_e *ae,
    const struct mw_cidr *net, int64_t now)
{
	if (ae == NULL)
		return false;
	for (size_t i = 0; i < ae->nknown; i++)
		if (memcmp(&ae->known[i].net, &net->addr, sizeof(net->addr)) == 0 &&
		    bf_known_live(bf, &ae->known[i], now))
			return true;
	return false;
}

static size_t
bf_account_live_known(const struct bf *bf, const struct bf_account_e *ae,
    int64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < ae->nknown; i++)
		if (bf_known_live(bf, &ae->known[i], now))
			n++;
	return n;
}

/* Adds or refreshes net in the account's known list (oldest replaced
   when full). True when the network was not known. */
static bool
bf_account_learn(struct bf_account_e *ae, const struct mw_cidr *net,
    int64_t first, int64_t last)
{
	size_t	 oldest = 0;

	if (ae->known == NULL)
		ae->known = mw_calloc(BF_KNOWN_MAX, sizeof(*ae->known));
	for (size_t i = 0; i < ae->nknown; i++) {
		struct bf_known_e *k = &ae->known[i];

		if (memcmp(&k->net, &net->addr, sizeof(net->addr)) == 0) {
			if (last > (int64_t)k->last)
				k->last = (uint32_t)last;
			if (first < (int64_t)k->first)
				k->first = (uint32_t)first;
			return false;
		}
		if (k->last < ae->known[oldest].last)
			oldest = i;
	}
	if (ae->nknown < BF_KNOWN_MAX)
		oldest = ae->nknown++;
	ae->known[oldest] = (struct bf_known_e){ .net = net->addr,
	    .first = first < 0 ? 0 : (uint32_t)first,
	    .last = last < 0 ? 0 : (uint32_t)last };
	return true;
}

static struct bf_account_e *
bf_account_get(struct bf *bf, const char *account, int64_t now)
{
	char			 name[BF_ACCOUNT_MAX + 1];
	size_t			 len = strnlen(account, BF_ACCOUNT_MAX);

	memcpy(name, account, len);
	name[len] = '\0';
	return bf_table_get(bf, &bf->accounts, bf_h32(bf_account_hash64(name)),
	    name, now, NULL);
}

static struct bf_account_e *
bf_account_find(struct bf *bf, const char *account)
{
	char	 name[BF_ACCOUNT_MAX + 1];
	size_t	 len = strnlen(account, BF_ACCOUNT_MAX);

	memcpy(name, account, len);
	name[len] = '\0';
	return bf_table_lookup(&bf->accounts, bf_h32(bf_account_hash64(name)),
	    name);
}

static bool
bf_pair_has_pwfp(struct bf_pair_e *pe, uint32_t fp)
{
	for (size_t i = 0; i < pe->npwfp; i++)
		if (pe->pwfp[i] == fp)
			return true;
	return false;
}

static void
bf_pair_add_pwfp(struct bf_pair_e *pe, uint32_t fp)
{
	pe->pwfp[pe->pwpos] = fp;
	pe->pwpos = (uint8_t)((pe->pwpos + 1) % BF_PWFP_MAX);
	if (pe->npwfp < BF_PWFP_MAX)
		pe->npwfp++;
}

/* --- the rules -------------------------------------------------------------- */

static void
bf_report_failure(struct bf *bf, const struct bf_attempt *at,
    struct bf_result *r)
{
	const struct bf_config	*c = &bf->c;
	int64_t			 now = at->now;
	bool			 has_account = at->account != NULL &&
				    at->account[0] != '\0';
	struct bf_addr_e	*ae, *ne;
	struct bf_account_e	*acct = NULL;
	struct bf_pair_e	*pe = NULL;
	struct mw_cidr		 net;
	uint64_t		 ah = 0;
	uint32_t		 common_accounts = 0;
	char			 win[32], svc[BF_QUOTE_MAX + 8], q[BF_QUOTE_MAX + 1],
				 ntext[MW_CIDR_STRLEN];

	bf_network_of(bf, &at->addr, &net);
	if (has_account) {
		uint64_t key = bf_pair_key(at->account, &at->addr);

		acct = bf_account_get(bf, at->account, now);
		r->known = bf_account_knows(bf, acct, &net, now);
		ah = bf_account_hash64(acct->name);
		pe = bf_table_get(bf, &bf->pairs, bf_h32(key), &key, now, NULL);
		if (at->has_pwfp) {
			if (bf_pair_has_pwfp(pe, at->pwfp)) {
				r->counted = false;
				bf->repeats++;
			} else {
				bf_pair_add_pwfp(pe, at->pwfp);
			}
		}
	}
	ae = bf_table_get(bf, &bf->addrs, bf_h32(bf_addr_hash64(&at->addr)),
	    &at->addr, now, NULL);
	ne = bf_table_get(bf, &bf->nets, bf_h32(bf_addr_hash64(&net.addr)),
	    &net.addr, now, NULL);
	if (r->counted) {
		(void)mw_window_add(&ae->fail, bf->slot_s, now, 1);
		(void)mw_window_add(&ne->fail, bf->slot_s, now, 1);
		if (acct != NULL) {
			(void)mw_window_add(&acct->fail, bf->slot_s, now, 1);
			(void)mw_window_add(&pe->fail, bf->slot_s, now, 1);
		}
	}
	if (acct != NULL) {
		(void)mw_distinct_add(&ae->accounts, bf->gen_s, now, ah);
		(void)mw_distinct_add(&ne->accounts, bf->gen_s, now, ah);
		bf_seen_add(acct, bf_h32(bf_addr_hash64(&at->addr)), now);
		if (now > (int64_t)acct->last_failure)
			acct->last_failure = (uint32_t)now;
		if (at->common_pw >= 0 && at->common_pw < BF_COMMON_MAX) {
			struct mw_distinct *d = &bf->common[at->common_pw];

			(void)mw_distinct_add(d, bf->gen_s, now, ah);
			common_accounts = mw_distinct_count(d, bf->gen_s, now);
		}
		r->account_failures = mw_window_sum(&acct->fail, bf->slot_s, now);
		r->pair_failures = mw_window_sum(&pe->fail, bf->slot_s, now);
		r->account_addresses = bf_seen_count(bf, acct, now);
	}
	r->addr_failures = mw_window_sum(&ae->fail, bf->slot_s, now);
	r->net_failures = mw_window_sum(&ne->fail, bf->slot_s, now);
	r->addr_accounts = mw_distinct_count(&ae->accounts, bf->gen_s, now);
	r->net_accounts = mw_distinct_count(&ne->accounts, bf->gen_s, now);

	/* Distributed attack on one account: protect it (bf_check) from
	   addresses it never logged in from. */
	if (acct != NULL) {
		if (r->account_addresses >= c->distributed_addresses) {
			if (acct->attacked_since == 0) {
				acct->attacked_since = (uint32_t)now;
				r->account_attacked = true;
			}
		} else {
			acct->attacked_since = 0;
		}
	}
	if (r->known && c->trust_known)
		return;	/* the user's own network: never banned */
	/* Reasons are formatted only when a rule fires: this runs for every
	   failure (logscan replays millions). */
	if (r->addr_failures < c->ban_after &&
	    (acct == NULL || r->pair_failures < c->account_address_ban_after) &&
	    common_accounts < c->spray_password_accounts &&
	    r->addr_accounts < c->spray_accounts &&
	    r->net_failures < c->network_ban_after &&
	    r->net_accounts < c->spray_network_accounts)
		return;
	bf_window_text(c->window_s, win, sizeof(win));
	bf_svc(at, svc, sizeof(svc));

	/* Address rules, most telling reason last. */
	if (r->addr_failures >= c->ban_after) {
		r->ban_address = true;
		(void)snprintf(r->address_reason, sizeof(r->address_reason),
		    "%u failed logins in %s%s", r->addr_failures, win, svc);
	}
	if (acct != NULL && r->pair_failures >= c->account_address_ban_after) {
		bf_quote(acct->name, q, sizeof(q));
		r->ban_address = true;
		(void)snprintf(r->address_reason, sizeof(r->address_reason),
		    "%u wrong passwords for %s in %s%s", r->pair_failures, q,
		    win, svc);
	}
	if (common_accounts >= c->spray_password_accounts) {
		r->ban_address = true;
		(void)snprintf(r->address_reason, sizeof(r->address_reason),
		    "password spraying: one common password tried on %u "
		    "accounts in %s", common_accounts, win);
	}
	if (r->addr_accounts >= c->spray_accounts) {
		r->ban_address = true;
		(void)snprintf(r->address_reason, sizeof(r->address_reason),
		    "password spraying: %u accounts in %s", r->addr_accounts,
		    win);
	}
	/* Network rules: one attacker rotating through a /24 or /64. */
	mw_cidr_format(&net, ntext, sizeof(ntext));
	if (r->net_failures >= c->network_ban_after) {
		r->ban_network = true;
		(void)snprintf(r->network_reason, sizeof(r->network_reason),
		    "%u failed logins from %s in %s", r->net_failures, ntext,
		    win);
	}
	if (r->net_accounts >= c->spray_network_accounts) {
		r->ban_network = true;
		(void)snprintf(r->network_reason, sizeof(r->network_reason),
		    "password spraying from %s: %u accounts in %s", ntext,
		    r->net_accounts, win);
	}
	if (r->ban_network)
		r->network = net;
}

static void
bf_report_success(struct bf *bf, const struct bf_attempt *at,
    struct bf_result *r)
{
	const struct bf_config	*c = &bf->c;
	int64_t			 now = at->now;
	struct bf_addr_e	*ae;
	struct bf_account_e	*acct;
	struct bf_pair_e	*pe;
	struct mw_cidr		 net;
	uint64_t		 key;
	uint32_t		 failures;
	char			 win[32], addr[MW_ADDR_STRLEN],
				 ntext[MW_CIDR_STRLEN];

	if (at->account == NULL || at->account[0] == '\0')
		return;
	bf_network_of(bf, &at->addr, &net);
	key = bf_pair_key(at->account, &at->addr);
	pe = bf_table_lookup(&bf->pairs, bf_h32(key), &key);
	ae = bf_table_lookup(&bf->addrs, bf_h32(bf_addr_hash64(&at->addr)),
	    &at->addr);
	r->pair_failures = pe != NULL ? mw_window_sum(&pe->fail, bf->slot_s,
	    now) : 0;
	r->addr_failures = ae != NULL ? mw_window_sum(&ae->fail, bf->slot_s,
	    now) : 0;
	r->addr_accounts = ae != NULL ? mw_distinct_count(&ae->accounts,
	    bf->gen_s, now) : 0;
	acct = bf_account_get(bf, at->account, now);
	r->known = bf_account_knows(bf, acct, &net, now);
	r->account_failures = mw_window_sum(&acct->fail, bf->slot_s, now);
	r->account_addresses = bf_seen_count(bf, acct, now);
	/* From a network the account uses, only its own failures count:
	   other users' typos behind the same NAT (an office, a school) are
	   not a sign that this account was taken over. From elsewhere, an
	   address that failed on other accounts and then gets in is what a
	   successful spraying run looks like. */
	failures = r->pair_failures;
	if (!r->known && r->addr_failures > failures)
		failures = r->addr_failures;
	/* Texts are formatted only for an alert: this runs for every
	   successful login. */
	if (failures >= c->alert_after_failures) {
		bf_window_text(c->window_s, win, sizeof(win));
		mw_addr_format(&at->addr, addr, sizeof(addr));
		r->alert = BF_ALERT_AFTER_FAILURES;
		(void)snprintf(r->alert_reason, sizeof(r->alert_reason),
		    "login from %s after %u failed attempts in %s (%u for this "
		    "account)", addr, failures, win, r->pair_failures);
	} else if (c->alert_new_network && !r->known &&
	    bf_account_live_known(bf, acct, now) > 0) {
		mw_addr_format(&at->addr, addr, sizeof(addr));
		mw_cidr_format(&net, ntext, sizeof(ntext));
		r->alert = BF_ALERT_NEW_NETWORK;
		(void)snprintf(r->alert_reason, sizeof(r->alert_reason),
		    "login from %s, a network this account never used (%s)",
		    addr, ntext);
	}
	r->learned = bf_account_learn(acct, &net, now, now);
	if (now > (int64_t)acct->last_success)
		acct->last_success = (uint32_t)now;
	/* The user is in: their own earlier typos stop counting. */
	if (pe != NULL) {
		mw_window_clear(&pe->fail);
		pe->npwfp = 0;
	}
}

void
bf_report(struct bf *bf, const struct bf_attempt *at, struct bf_result *r_r)
{
	memset(r_r, 0, sizeof(*r_r));
	r_r->counted = true;
	if (at->phase == BF_FAILURE)
		bf_report_failure(bf, at, r_r);
	else
		bf_report_success(bf, at, r_r);
}

void
bf_check(struct bf *bf, const struct mw_addr *addr, const char *account,
    int64_t now, struct bf_verdict *v)
{
	const struct bf_config	*c = &bf->c;
	struct bf_account_e	*acct = NULL;
	struct bf_addr_e	*ae;
	struct mw_cidr		 net;
	uint32_t		 f = 0, addresses = 0;
	char			 win[32], q[BF_QUOTE_MAX + 1];

	static const char known[] = "known network of this account";

	/* Every login attempt passes here: the reason is formatted only
	   when a rule objects. */
	v->kind = BF_ALLOW;
	v->delay_s = 0;
	v->reason[0] = '\0';
	bf_network_of(bf, addr, &net);
	if (account != NULL && account[0] != '\0')
		acct = bf_account_find(bf, account);
	if (bf_account_knows(bf, acct, &net, now)) {
		/* Lockout avoidance: the user's own networks keep working. */
		_Static_assert(sizeof(known) <= BF_REASON_MAX, "reason");
		memcpy(v->reason, known, sizeof(known));
		return;
	}
	ae = bf_table_lookup(&bf->addrs, bf_h32(bf_addr_hash64(addr)), addr);
	if (ae != NULL)
		f = mw_window_sum(&ae->fail, bf->slot_s, now);
	if (f >= c->ban_after) {
		v->kind = BF_REJECT;
		(void)snprintf(v->reason, sizeof(v->reason), "%u failed logins "
		    "in %s", f, bf_window_text(c->window_s, win, sizeof(win)));
		return;
	}
	if (acct != NULL)
		addresses = bf_seen_count(bf, acct, now);
	if (acct != NULL && addresses >= c->distributed_addresses) {
		bf_window_text(c->window_s, win, sizeof(win));
		bf_quote(acct->name, q, sizeof(q));
		v->kind = c->distributed_reject ? BF_REJECT : BF_TARPIT;
		v->delay_s = c->distributed_reject ? 0 : c->tarpit_delay_s;
		(void)snprintf(v->reason, sizeof(v->reason), "account %s under "
		    "attack from %u addresses in %s; this address never logged "
		    "in to it", q, addresses, win);
		return;
	}
	if (f >= c->tarpit_after) {
		v->kind = BF_TARPIT;
		v->delay_s = c->tarpit_delay_s;
		(void)snprintf(v->reason, sizeof(v->reason), "%u failed logins "
		    "in %s", f, bf_window_text(c->window_s, win, sizeof(win)));
	}
}

void
bf_known_add(struct bf *bf, const char *account, const struct mw_addr *addr,
    int64_t first, int64_t last)
{
	struct bf_account_e	*acct;
	struct mw_cidr		 net;

	if (account == NULL || account[0] == '\0')
		return;
	bf_network_of(bf, addr, &net);
	acct = bf_account_get(bf, account, last);
	(void)bf_account_learn(acct, &net, first, last);
	if (last > (int64_t)acct->last_success)
		acct->last_success = (uint32_t)last;
}

void
bf_forget(struct bf *bf, const struct mw_cidr *net)
{
	struct mw_cidr	 n;
	ssize_t		 idx;

	if (net->bits == 128) {
		idx = bf_table_find(&bf->addrs, bf_h32(bf_addr_hash64(
		    &net->addr)), &net->addr, NULL);
		if (idx >= 0)
			bf_table_remove(&bf->addrs, (size_t)idx);
		return;
	}
	bf_network_of(bf, &net->addr, &n);
	if (n.bits != net->bits)
		return;
	idx = bf_table_find(&bf->nets, bf_h32(bf_addr_hash64(&n.addr)),
	    &n.addr, NULL);
	if (idx >= 0)
		bf_table_remove(&bf->nets, (size_t)idx);
}

bool
bf_addr_info(struct bf *bf, const struct mw_addr *addr, int64_t now,
    struct bf_addr_info *i)
{
	struct bf_addr_e *ae, *ne;

	memset(i, 0, sizeof(*i));
	bf_network_of(bf, addr, &i->network);
	ae = bf_table_lookup(&bf->addrs, bf_h32(bf_addr_hash64(addr)), addr);
	ne = bf_table_lookup(&bf->nets, bf_h32(bf_addr_hash64(
	    &i->network.addr)), &i->network.addr);
	if (ae != NULL) {
		i->failures = mw_window_sum(&ae->fail, bf->slot_s, now);
		i->accounts = mw_distinct_count(&ae->accounts, bf->gen_s, now);
		i->last_seen = ae->h.last;
	}
	if (ne != NULL) {
		i->net_failures = mw_window_sum(&ne->fail, bf->slot_s, now);
		i->net_accounts = mw_distinct_count(&ne->accounts, bf->gen_s,
		    now);
	}
	return ae != NULL || ne != NULL;
}

static void
bf_account_fill(struct bf *bf, const struct bf_account_e *acct, int64_t now,
    struct bf_account_info *i)
{
	memset(i, 0, sizeof(*i));
	i->failures = mw_window_sum(&acct->fail, bf->slot_s, now);
	i->addresses = bf_seen_count(bf, acct, now);
	i->under_attack = i->addresses >= bf->c.distributed_addresses;
	i->attacked_since = i->under_attack ? acct->attacked_since : 0;
	i->last_failure = acct->last_failure;
	i->last_success = acct->last_success;
	for (size_t k = 0; k < acct->nknown; k++) {
		const struct bf_known_e *ke = &acct->known[k];

		if (!bf_known_live(bf, ke, now))
			continue;
		i->known[i->nknown].net.addr = ke->net;
		i->known[i->nknown].net.bits = mw_addr_is_v4(&ke->net) ?
		    (uint8_t)(96 + bf->c.network_bits_v4) : bf->c.network_bits_v6;
		i->known[i->nknown].first = ke->first;
		i->known[i->nknown].last = ke->last;
		i->nknown++;
	}
}

bool
bf_account_info(struct bf *bf, const char *account, int64_t now,
    struct bf_account_info *i)
{
	struct bf_account_e *acct = bf_account_find(bf, account);

	if (acct == NULL) {
		memset(i, 0, sizeof(*i));
		return false;
	}
	bf_account_fill(bf, acct, now, i);
	return true;
}

void
bf_account_walk(struct bf *bf, int64_t now, bf_account_fn *fn, void *ctx)
{
	for (size_t k = 0; k < bf->accounts.n; k++) {
		struct bf_account_e	*acct = bf_entry(&bf->accounts, k);
		struct bf_account_info	 i;

		if (mw_window_sum(&acct->fail, bf->slot_s, now) == 0 &&
		    bf_seen_count(bf, acct, now) == 0)
			continue;
		bf_account_fill(bf, acct, now, &i);
		if (!fn(ctx, acct->name, &i))
			return;
	}
}

static size_t
bf_table_expire(struct bf *bf, struct bf_table *t, int64_t now,
    size_t max_scan)
{
	size_t removed = 0;

	for (size_t scanned = 0; scanned < max_scan && t->n > 0; scanned++) {
		if (t->cursor >= t->n)
			t->cursor = 0;
		if (t->empty(bf, bf_entry(t, t->cursor), now)) {
			/* The last entry moves here: look at it next. */
			bf_table_remove(t, t->cursor);
			removed++;
			continue;
		}
		t->cursor++;
	}
	return removed;
}

size_t
bf_expire(struct bf *bf, int64_t now, size_t max_scan)
{
	return bf_table_expire(bf, &bf->addrs, now, max_scan) +
	    bf_table_expire(bf, &bf->nets, now, max_scan) +
	    bf_table_expire(bf, &bf->pairs, now, max_scan) +
	    bf_table_expire(bf, &bf->accounts, now, max_scan);
}

static size_t
bf_table_bytes(const struct bf_table *t)
{
	return t->cap * t->esize + t->nslots * sizeof(*t->slots);
}

void
bf_get_stats(struct bf *bf, struct bf_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->addresses = bf->addrs.n;
	s->networks = bf->nets.n;
	s->accounts = bf->accounts.n;
	s->pairs = bf->pairs.n;
	s->evicted = bf->evicted;
	s->repeats = bf->repeats;
	s->bytes = bf_table_bytes(&bf->addrs) + bf_table_bytes(&bf->nets) +
	    bf_table_bytes(&bf->pairs) + bf_table_bytes(&bf->accounts) +
	    BF_COMMON_MAX * sizeof(*bf->common);
	for (size_t k = 0; k < bf->accounts.n; k++) {
		const struct bf_account_e *acct = bf_entry(&bf->accounts, k);

		s->bytes += strlen(acct->name) + 1;
		if (acct->known != NULL)
			s->bytes += BF_KNOWN_MAX * sizeof(*acct->known);
		s->bytes += acct->cseen * sizeof(*acct->seen);
	}
}
