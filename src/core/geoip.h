/*
 * geoip - the country of an address, from a MaxMind DB file (GeoLite2-
 * Country, GeoIP2-Country or -City, DB-IP's country lite: any MMDB whose
 * records hold {"country":{"iso_code":"JP"}}), read with libmaxminddb.
 *
 * The file is mapped read-only (MMDB_MODE_MMAP); a lookup is a walk of the
 * search tree, no allocation, a few microseconds. IPv4 addresses (stored
 * v4-mapped in struct mw_addr) are looked up as IPv4, so that IPv4-only
 * databases answer them too.
 */
#ifndef MW_CORE_GEOIP_H
#define MW_CORE_GEOIP_H

#include <stdbool.h>

#include "core/addr.h"
#include "core/mem.h"

#define MW_GEOIP_CC_LEN	3	/* "JP" and its NUL */

struct mw_geoip;

/* Opens path as an MMDB. On failure *error_r (malloc'd, caller frees)
   says why, e.g. "/x.mmdb: not a MaxMind DB file (Invalid metadata)". */
int	 mw_geoip_open(const char *path, struct mw_geoip **g_r,
	    char **error_r) MW_MUST_CHECK;
/* The ISO 3166 code of a's country into cc (upper case, 2 letters), or
   "" when the database does not know a (or g is NULL). True when known. */
bool	 mw_geoip_country(const struct mw_geoip *g, const struct mw_addr *a,
	    char cc[MW_GEOIP_CC_LEN]);
/* The file opened. */
const char *mw_geoip_path(const struct mw_geoip *g);
/* Unmaps and frees; NULL-safe, clears *gp. */
void	 mw_geoip_close(struct mw_geoip **gp);

#endif
