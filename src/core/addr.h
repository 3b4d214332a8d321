/*
 * addr - IPv4/IPv6 addresses and CIDR networks.
 *
 * Every address is held in 16 bytes: IPv4 as the v4-mapped IPv6 address
 * ::ffff:a.b.c.d, so "1.2.3.4" and "::ffff:1.2.3.4" are one address and one
 * prefix trie serves both families. An IPv4 network a.b.c.d/n is held as
 * ::ffff:a.b.c.d/(96+n). Consequence: an IPv6 network of /80 or shorter
 * that covers ::ffff:0:0/96 (in practice only ::/0) also covers IPv4.
 * Text is parsed with inet_pton only: no names, no zone ids, no brackets.
 */
#ifndef MW_CORE_ADDR_H
#define MW_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/arena.h"
#include "core/mem.h"

#define MW_ADDR_STRLEN	46	/* INET6_ADDRSTRLEN */
#define MW_CIDR_STRLEN	(MW_ADDR_STRLEN + 4)

struct mw_addr {
	uint8_t	b[16];
};

struct mw_cidr {
	struct mw_addr	addr;	/* host bits are always zero */
	uint8_t		bits;	/* 0..128 in the 128-bit space */
};

bool	 mw_addr_is_v4(const struct mw_addr *a);
/* 0 on success; -1 if text is not an IPv4 or IPv6 address. */
int	 mw_addr_parse(const char *text, struct mw_addr *addr_r) MW_MUST_CHECK;
int	 mw_addr_parse_len(const char *text, size_t len, struct mw_addr *addr_r)
	    MW_MUST_CHECK;
void	 mw_addr_from_v4(uint32_t host_order, struct mw_addr *addr_r);
/* AF_INET or AF_INET6 only; -1 for others (unix sockets). */
int	 mw_addr_from_sockaddr(const struct sockaddr *sa,
	    struct mw_addr *addr_r) MW_MUST_CHECK;
/* Dotted quad for IPv4, RFC 5952 text for IPv6. buf >= MW_ADDR_STRLEN. */
const char *mw_addr_format(const struct mw_addr *a, char *buf, size_t size);
int	 mw_addr_cmp(const struct mw_addr *a, const struct mw_addr *b);
/* FNV-1a of the 16 bytes (for hash tables). */
uint64_t mw_addr_hash(const struct mw_addr *a);

/* "ADDR" (a host network) or "ADDR/LEN". Rejects prefix lengths out of
   range for the family and networks with host bits set, suggesting the
   masked network. *error_r (in a) names the input and the fix. */
int	 mw_cidr_parse(const char *text, struct mw_cidr *cidr_r,
	    struct mw_arena *a, const char **error_r) MW_MUST_CHECK;
/* As mw_cidr_parse but masks host bits instead of refusing them. */
int	 mw_cidr_parse_loose(const char *text, struct mw_cidr *cidr_r,
	    struct mw_arena *a, const char **error_r) MW_MUST_CHECK;
/* Host networks print without "/LEN". buf >= MW_CIDR_STRLEN. */
const char *mw_cidr_format(const struct mw_cidr *c, char *buf, size_t size);
/* The network of a of the given length (bits in the 128-bit space). */
void	 mw_cidr_from_addr(const struct mw_addr *a, uint8_t bits,
	    struct mw_cidr *cidr_r);
bool	 mw_cidr_contains(const struct mw_cidr *c, const struct mw_addr *a);
bool	 mw_cidr_is_v4(const struct mw_cidr *c);
bool	 mw_cidr_is_host(const struct mw_cidr *c);
/* Prefix length as the admin writes it: 0-32 for IPv4, 0-128 for IPv6. */
unsigned mw_cidr_family_bits(const struct mw_cidr *c);

/* Bit i (0 = most significant) of a. */
unsigned mw_addr_bit(const struct mw_addr *a, unsigned i);
/* Number of leading bits a and b share, at most max. */
unsigned mw_addr_common_bits(const struct mw_addr *a, const struct mw_addr *b,
	    unsigned max);
void	 mw_addr_mask(struct mw_addr *a, unsigned bits);

#endif
