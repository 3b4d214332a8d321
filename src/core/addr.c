/*
 * addr - IPv4/IPv6 addresses and CIDR networks; see addr.h.
 */
#include "core/addr.h"
#include "core/slice.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const uint8_t v4_mapped_prefix[12] =
	{ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool
mw_addr_is_v4(const struct mw_addr *a)
{
	return memcmp(a->b, v4_mapped_prefix, sizeof(v4_mapped_prefix)) == 0;
}

void
mw_addr_from_v4(uint32_t host_order, struct mw_addr *addr_r)
{
	memcpy(addr_r->b, v4_mapped_prefix, 12);
	addr_r->b[12] = (uint8_t)(host_order >> 24);
	addr_r->b[13] = (uint8_t)(host_order >> 16);
	addr_r->b[14] = (uint8_t)(host_order >> 8);
	addr_r->b[15] = (uint8_t)host_order;
}

/*
 * Dotted-quad IPv4 of digits and dots only, as inet_pton(AF_INET) reads
 * it: four parts of 1 to 3 digits, none above 255, no leading zero.
 * 1: parsed; 0: not an address; -1: a byte other than a digit or a dot,
 * so inet_pton must decide. Every policy request carries an address:
 * this spares the copy, the NUL scan and inet_pton (about 25 ns).
 */
static int
mw_addr_parse_v4_fast(const char *text, size_t len, uint8_t out_r[4])
{
	uint8_t		 out[4];
	unsigned	 part = 0, val = 0, ndig = 0;
	bool		 bad = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (ch >= '0' && ch <= '9') {
			if (ndig == 1 && val == 0)
				bad = true;	/* leading zero */
			val = val * 10 + (ch - '0');
			if (++ndig > 3 || val > 255)
				bad = true;
		} else if (ch == '.') {
			if (ndig == 0 || part == 3)
				bad = true;
			else
				out[part++] = (uint8_t)val;
			val = ndig = 0;
		} else
			return -1;
		if (bad) {
			/* Still only digits and dots? Then it is no address. */
			for (i++; i < len; i++)
				if ((text[i] < '0' || text[i] > '9') &&
				    text[i] != '.')
					return -1;
			return 0;
		}
	}
	if (part != 3 || ndig == 0)
		return 0;
	out[3] = (uint8_t)val;
	memcpy(out_r, out, 4);	/* untouched unless parsed, as inet_pton */
	return 1;
}

int
mw_addr_parse_len(const char *text, size_t len, struct mw_addr *addr_r)
{
	char		 tmp[MW_ADDR_STRLEN];
	struct in_addr	 in4;
	int		 fast;

	if (len == 0 || len >= sizeof(tmp))
		return -1;
	/* Digits and dots only can never be IPv6 either. */
	if ((fast = mw_addr_parse_v4_fast(text, len, addr_r->b + 12)) >= 0) {
		if (fast == 0)
			return -1;
		memcpy(addr_r->b, v4_mapped_prefix, 12);
		return 0;
	}
	memcpy(tmp, text, len);
	tmp[len] = '\0';
	if (memchr(tmp, '\0', len) != NULL)
		return -1;
	if (inet_pton(AF_INET, tmp, &in4) == 1) {
		memcpy(addr_r->b, v4_mapped_prefix, 12);
		memcpy(addr_r->b + 12, &in4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, addr_r->b) == 1)
		return 0;
	return -1;
}

int
mw_addr_parse(const char *text, struct mw_addr *addr_r)
{
	return mw_addr_parse_len(text, strlen(text), addr_r);
}

int
mw_addr_from_sockaddr(const struct sockaddr *sa, struct mw_addr *addr_r)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		memcpy(addr_r->b, v4_mapped_prefix, 12);
		memcpy(addr_r->b + 12, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		memcpy(addr_r->b, &sin6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

const char *
mw_addr_format(const struct mw_addr *a, char *buf, size_t size)
{
	const char *r;

	if (mw_addr_is_v4(a))
		r = inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)size);
	else
		r = inet_ntop(AF_INET6, a->b, buf, (socklen_t)size);
	if (r == NULL && size > 0)
		buf[0] = '\0';
	return buf;
}

int
mw_addr_cmp(const struct mw_addr *a, const struct mw_addr *b)
{
	return memcmp(a->b, b->b, sizeof(a->b));
}

uint64_t
mw_addr_hash(const struct mw_addr *a)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < sizeof(a->b); i++) {
		h ^= a->b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

unsigned
mw_addr_bit(const struct mw_addr *a, unsigned i)
{
	return (unsigned)(a->b[i / 8] >> (7 - i % 8)) & 1u;
}

unsigned
mw_addr_common_bits(const struct mw_addr *a, const struct mw_addr *b,
    unsigned max)
{
	unsigned n = 0;

	for (size_t i = 0; i < 16 && n < max; i++) {
		unsigned x = (unsigned)(a->b[i] ^ b->b[i]);

		if (x == 0) {
			n += 8;
			continue;
		}
		n += (unsigned)__builtin_clz(x) - (unsigned)(8 * (sizeof(unsigned) - 1));
		break;
	}
	return n < max ? n : max;
}

void
mw_addr_mask(struct mw_addr *a, unsigned bits)
{
	for (unsigned i = 0; i < 16; i++) {
		if (bits >= 8 * (i + 1))
			continue;
		if (bits <= 8 * i)
			a->b[i] = 0;
		else
			a->b[i] &= (uint8_t)(0xff << (8 - (bits - 8 * i)));
	}
}

void
mw_cidr_from_addr(const struct mw_addr *a, uint8_t bits, struct mw_cidr *cidr_r)
{
	cidr_r->addr = *a;
	cidr_r->bits = bits > 128 ? 128 : bits;
	mw_addr_mask(&cidr_r->addr, cidr_r->bits);
}

bool
mw_cidr_contains(const struct mw_cidr *c, const struct mw_addr *a)
{
	return mw_addr_common_bits(&c->addr, a, c->bits) == c->bits;
}

bool
mw_cidr_is_v4(const struct mw_cidr *c)
{
	return c->bits >= 96 && mw_addr_is_v4(&c->addr);
}

bool
mw_cidr_is_host(const struct mw_cidr *c)
{
	return c->bits == 128;
}

unsigned
mw_cidr_family_bits(const struct mw_cidr *c)
{
	return mw_cidr_is_v4(c) ? (unsigned)c->bits - 96 : c->bits;
}

static int
cidr_parse(const char *text, struct mw_cidr *cidr_r, bool strict,
    struct mw_arena *a, const char **error_r)
{
	const char	*slash = strchr(text, '/');
	size_t		 addr_len = slash != NULL ? (size_t)(slash - text) :
			    strlen(text);
	struct mw_addr	 addr;
	uint32_t	 len, max;
	bool		 v4, v4_text;

	if (mw_addr_parse_len(text, addr_len, &addr) < 0) {
		*error_r = mw_arena_printf(a,
		    "\"%s\" is not an IPv4 or IPv6 address or network",
		    mw_sanitize(a, (struct mw_slice){ text, strlen(text) }, 60));
		return -1;
	}
	v4 = mw_addr_is_v4(&addr);
	v4_text = memchr(text, ':', addr_len) == NULL;
	max = v4_text ? 32 : 128;
	if (slash == NULL) {
		len = max;
	} else if (mw_parse_u32(slash + 1, max, &len) < 0) {
		*error_r = mw_arena_printf(a, "\"%s\": prefix length must be "
		    "a number from 0 to %u for %s", mw_sanitize(a,
		    (struct mw_slice){ text, strlen(text) }, 60), max,
		    v4_text ? "IPv4" : "IPv6");
		return -1;
	}
	if (v4_text)
		len += 96;
	if (v4 && !v4_text && len < 96) {
		*error_r = mw_arena_printf(a, "\"%s\": an IPv4-mapped network "
		    "needs a prefix length from 96 to 128", text);
		return -1;
	}
	mw_cidr_from_addr(&addr, (uint8_t)len, cidr_r);
	if (strict && mw_addr_cmp(&cidr_r->addr, &addr) != 0) {
		char fixed[MW_CIDR_STRLEN];

		*error_r = mw_arena_printf(a, "\"%s\" has host bits set; did you "
		    "mean \"%s\"?", text, mw_cidr_format(cidr_r, fixed,
		    sizeof(fixed)));
		return -1;
	}
	return 0;
}

int
mw_cidr_parse(const char *text, struct mw_cidr *cidr_r, struct mw_arena *a,
    const char **error_r)
{
	return cidr_parse(text, cidr_r, true, a, error_r);
}

int
mw_cidr_parse_loose(const char *text, struct mw_cidr *cidr_r,
    struct mw_arena *a, const char **error_r)
{
	return cidr_parse(text, cidr_r, false, a, error_r);
}

const char *
mw_cidr_format(const struct mw_cidr *c, char *buf, size_t size)
{
	char	 addr[MW_ADDR_STRLEN];
	int	 n;

	mw_addr_format(&c->addr, addr, sizeof(addr));
	if (mw_cidr_is_host(c))
		n = snprintf(buf, size, "%s", addr);
	else
		n = snprintf(buf, size, "%s/%u", addr, mw_cidr_family_bits(c));
	if (n < 0 || (size_t)n >= size)
		mw_panic("mw_cidr_format: buffer of %zu bytes too small", size);
	return buf;
}
