/*
 * weakpw - the login guard's weak-password check: Dovecot's hash of the
 * password compared with the same hash of each of the most common
 * passwords, computed once per login name and cached.
 *
 * Dovecot 2.3 (src/auth/auth-policy.c, auth_policy_create_json) sends
 *   hashed_password = truncate(H(nonce || login || '\0' || password), N)
 * with H = auth_policy_hash_mech (SHA-256 by default; the only one
 * supported here), login = the requested login user if set, else the
 * auth user (after auth_username_format, e.g. lowercased by %Lu), and
 * truncate keeping the first N = auth_policy_hash_truncate bits of the
 * digest, right-aligned in ceil(N/8) big-endian bytes
 * (buffer_truncate_rshift_bits); N = 0 keeps the whole digest.
 *
 * The list (weakpw.c) was written for mailward from public knowledge of
 * the most used passwords (the yearly published top-password rankings and
 * the frequency tables of well-known leaks as widely reported), not copied
 * from any file. Matching needs N >= 32: with fewer bits a random wrong
 * password matches a listed one too often (cfg refuses to enable it).
 * Hashes never leave this module except as a list index. Loop thread only.
 */
#ifndef MW_ENGINE_WEAKPW_H
#define MW_ENGINE_WEAKPW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/mem.h"

#define WEAKPW_HASH_MAX		32	/* bytes of a SHA-256 digest */
#define WEAKPW_CACHE_LOGINS	4096	/* logins whose list hashes are kept */

/* Number of passwords in the shipped list, and one of them (tests). */
size_t		 weakpw_count(void);
const char	*weakpw_password(size_t i);

/* Dovecot's hashed_password for (nonce, login, password) truncated to
   bits (0 = all 256) into out; returns the number of bytes written
   (ceil(bits / 8), 32 for 0). */
size_t		 weakpw_dovecot_hash(const char *nonce, const char *login,
		    const char *password, uint32_t bits,
		    uint8_t out[WEAKPW_HASH_MAX]);

struct weakpw_cache;

struct weakpw_cache *weakpw_cache_new(void);
void		 weakpw_cache_free(struct weakpw_cache **c);
/* The index of the listed password whose hash for login (with nonce,
   bits) equals hash (ceil(bits/8) bytes as Dovecot sends them), or -1.
   The candidates also include the login's local part alone and with 1
   and 123 appended. A changed nonce or bits flushes the cache. */
int		 weakpw_match(struct weakpw_cache *c, const char *nonce,
		    const char *login, uint32_t bits, const uint8_t *hash);
/* The weak-password flag last seen for login (a copy of the store's, so
   that a success does not read the store): 1 flagged, 0 not, -1 unknown
   (login not cached, or evicted). weakpw_flag_set remembers it for a
   login weakpw_match cached. */
int		 weakpw_flag_get(struct weakpw_cache *c, const char *login);
void		 weakpw_flag_set(struct weakpw_cache *c, const char *login,
		    int flagged);
/* Hash computations so far (tests: the cache works). */
uint64_t	 weakpw_cache_computed(const struct weakpw_cache *c);

#endif
