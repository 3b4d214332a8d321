/*
 * geoip - MaxMind DB country lookups (see geoip.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/geoip.h"

struct mw_geoip {
	MMDB_s	 db;
	char	*path;
};

int
mw_geoip_open(const char *path, struct mw_geoip **g_r, char **error_r)
{
	struct mw_geoip	*g = mw_calloc(1, sizeof(*g));
	int		 rc;

	*g_r = NULL;
	*error_r = NULL;
	errno = 0;
	if ((rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db)) != MMDB_SUCCESS) {
		int	 e = errno;
		char	 why[128];

		if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && e != 0) {
			snprintf(why, sizeof(why), "cannot be read (%s)",
			    strerror(e));
			*error_r = mw_strdup(e == ENOENT ? "does not exist" : why);
		} else
			*error_r = mw_strdup(rc == MMDB_FILE_OPEN_ERROR ||
			    rc == MMDB_IO_ERROR ? "cannot be read" :
		    rc == MMDB_INVALID_METADATA_ERROR ||
		    rc == MMDB_UNKNOWN_DATABASE_FORMAT_ERROR ?
		    "is not a MaxMind DB (.mmdb) file" : MMDB_strerror(rc));
		free(g);
		return -1;
	}
	g->path = mw_strdup(path);
	*g_r = g;
	return 0;
}

bool
mw_geoip_country(const struct mw_geoip *g, const struct mw_addr *a,
    char cc[MW_GEOIP_CC_LEN])
{
	struct sockaddr_in	 sin;
	struct sockaddr_in6	 sin6;
	const struct sockaddr	*sa;
	MMDB_lookup_result_s	 res;
	MMDB_entry_data_s	 d;
	int			 err;

	cc[0] = '\0';
	if (g == NULL)
		return false;
	if (mw_addr_is_v4(a)) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a->b + 12, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a->b, 16);
		sa = (const struct sockaddr *)&sin6;
	}
	/* MMDB_lookup_sockaddr does not write the database: the cast only
	   drops a const its prototype lacks. */
	res = MMDB_lookup_sockaddr((MMDB_s *)&g->db, sa, &err);
	if (err != MMDB_SUCCESS || !res.found_entry)
		return false;
	if (MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) !=
	    MMDB_SUCCESS || !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING ||
	    d.data_size != 2)
		return false;
	for (size_t i = 0; i < 2; i++) {
		char c = d.utf8_string[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			return false;
		cc[i] = c;
	}
	cc[2] = '\0';
	return true;
}

const char *
mw_geoip_path(const struct mw_geoip *g)
{
	return g->path;
}

void
mw_geoip_close(struct mw_geoip **gp)
{
	struct mw_geoip *g = *gp;

	if (g == NULL)
		return;
	MMDB_close(&g->db);
	free(g->path);
	free(g);
	*gp = NULL;
}
