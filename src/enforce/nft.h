/*
 * nft - the mailward nftables table, through libnftables (the kernel's
 * own API; no nft binary is run).
 *
 * The table (default "inet mailward") holds six sets and one chain:
 *   allow4/allow6     ipv4_addr/ipv6_addr, interval, auto-merge: the allow
 *                     list; matched first with "accept", so an allowed
 *                     address is never dropped by this table
 *   ban4/ban6         single addresses, per-element timeouts (hash sets:
 *                     1,000,000 elements load in seconds)
 *   bannet4/bannet6   prefixes, interval + timeout (interval sets cost
 *                     four times as much to load: kept for the few prefix
 *                     bans)
 *   chain input       filter hook input at the configured priority, policy
 *                     accept, "tcp dport { ports } ip saddr @ban4 drop"...
 * Elements are built only from validated struct helper_elem values printed
 * with inet_ntop (never from text: nft resolves host names).
 * A transaction is text collected by enforce_nft_begin/..._commit and run
 * by one nft_run_cmd_from_buffer call: the kernel applies it atomically.
 * Needs CAP_NET_ADMIN. Not thread-safe (one context per process).
 */
#ifndef MW_ENFORCE_NFT_H
#define MW_ENFORCE_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"
#include "enforce/helper_msg.h"

#define ENFORCE_NFT_MAX_NAME	32	/* table name bytes (nft's own limit is 256) */
#define ENFORCE_NFT_MAX_PORTS	32	/* TCP ports in the drop rules */
/* Bytes of one transaction's text: 1,000,000 IPv6 elements with
   timeouts take about 60 MB. */
#define ENFORCE_NFT_MAX_BATCH	(512UL * 1024 * 1024)
#define ENFORCE_NFT_MAX_LOGGED	10	/* failed elements logged per commit */

struct enforce_nft_cfg {
	char		 table[ENFORCE_NFT_MAX_NAME + 1];
	int32_t		 priority;	/* hook priority: filter = 0 */
	uint16_t	 ports[ENFORCE_NFT_MAX_PORTS];
	size_t		 nports;	/* 0 = every TCP port */
};

enum enforce_nft_op {
	ENFORCE_NFT_LOAD,	/* add (set just flushed) */
	ENFORCE_NFT_SET,	/* add or refresh the timeout */
	ENFORCE_NFT_DEL,	/* remove if present */
};

struct enforce_nft;

/* True when name can be a table name: [A-Za-z][A-Za-z0-9_]{0,31}. */
bool	 enforce_nft_name_is_valid(const char *name);

/* A libnftables context for cfg (copied). Never fails but for OOM. */
struct enforce_nft *enforce_nft_new(const struct enforce_nft_cfg *cfg);
void	 enforce_nft_free(struct enforce_nft **n);

/* Creates the table, sets and chain, keeping the sets' elements when
   they exist with the same definitions (a restart does not open a gap);
   otherwise deletes and recreates the table in the same transaction.
   -1 with *error_r (valid until the next call) on failure. */
int	 enforce_nft_setup(struct enforce_nft *n, const char **error_r)
	    MW_MUST_CHECK;
/* Deletes the table (tests, and `enabled = no` is documented to leave it). */
int	 enforce_nft_teardown(struct enforce_nft *n, const char **error_r)
	    MW_MUST_CHECK;

/* 1 when the table exists, 0 when it does not (someone ran "nft flush
   ruleset"), -1 when nft cannot tell. Cheap: lists chains, no elements. */
int	 enforce_nft_table_exists(struct enforce_nft *n);

/* Transaction: begin, any number of flush/elem, commit. Elements must be
   valid (helper_elem_is_valid); the text grows up to
   ENFORCE_NFT_MAX_BATCH, past which -1 is returned: the transaction is
   then incomplete and must be abandoned (enforce_nft_begin). */
void	 enforce_nft_begin(struct enforce_nft *n);
int	 enforce_nft_flush(struct enforce_nft *n, uint32_t mask) MW_MUST_CHECK;
int	 enforce_nft_elem(struct enforce_nft *n, enum enforce_nft_op op,
	    const struct helper_elem *e) MW_MUST_CHECK;
/* Runs the transaction. When the kernel refuses it as a whole (e.g. two
   overlapping prefix bans), each command and then each element of a
   failed command is applied on its own, so one bad element costs only
   itself. Returns 0 when everything applied, -1 otherwise with *error_r
   (the first error) and *failed_r elements not applied. *applied_r
   counts the elements in the transaction that were applied. */
int	 enforce_nft_commit(struct enforce_nft *n, size_t *applied_r,
	    size_t *failed_r, const char **error_r) MW_MUST_CHECK;

/* Runs one command and returns its output (JSON with json true) in
   *out_r (valid until the next call): for tests and diagnostics. */
int	 enforce_nft_run(struct enforce_nft *n, const char *cmd, bool json,
	    const char **out_r, const char **error_r) MW_MUST_CHECK;

#endif
