/*
 * dnsbl_query - DNSBL query names (RFC 5782 section 2.1 and 2.4).
 *
 * IPv4 (and IPv4-mapped IPv6, which mw_addr already holds as IPv4):
 * octets reversed, "5.113.0.203.zone". IPv6: all 32 nibbles, least
 * significant first, lowercase hex, dot-separated, then the zone.
 * Pure: no I/O, no allocation. The output is bounded by the caller's
 * buffer; a name that does not fit (or exceeds DNS's 253 bytes) fails.
 */
#include <stdio.h>
#include <string.h>

#include "dnsbl/dnsbl.h"

#define DNSBL_DNS_NAME_MAX	253	/* bytes of a DNS name in text, no dot */

int
dnsbl_query_name(const struct mw_addr *a, const char *zone, char *buf,
    size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char		 prefix[64 + 1];	/* 32 nibbles + 32 dots */
	size_t		 zone_len, prefix_len = 0, total;

	if (zone == NULL || size == 0)
		return -1;
	zone_len = strlen(zone);
	if (zone_len > 0 && zone[zone_len - 1] == '.')
		zone_len--;		/* "zen.spamhaus.org." is the same zone */
	if (zone_len == 0 || zone[0] == '.')
		return -1;
	if (mw_addr_is_v4(a)) {
		int n = snprintf(prefix, sizeof(prefix), "%u.%u.%u.%u.",
		    a->b[15], a->b[14], a->b[13], a->b[12]);

		if (n < 0 || (size_t)n >= sizeof(prefix))
			return -1;
		prefix_len = (size_t)n;
	} else {
		for (size_t i = 16; i-- > 0;) {
			prefix[prefix_len++] = hex[a->b[i] & 0x0f];
			prefix[prefix_len++] = '.';
			prefix[prefix_len++] = hex[a->b[i] >> 4];
			prefix[prefix_len++] = '.';
		}
		prefix[prefix_len] = '\0';
	}
	total = prefix_len + zone_len;
	if (total > DNSBL_DNS_NAME_MAX || total >= size)
		return -1;
	memcpy(buf, prefix, prefix_len);
	memcpy(buf + prefix_len, zone, zone_len);
	buf[total] = '\0';
	return 0;
}
