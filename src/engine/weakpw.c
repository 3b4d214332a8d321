/*
 * weakpw - weak-password check; see weakpw.h (the Dovecot formula and
 * where the list comes from).
 */
#include "engine/weakpw.h"

#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/window.h"

/* The most used passwords, roughly most common first. Written for
   mailward from public knowledge of the published yearly top-password
   rankings and the leak frequency tables widely reported in the press;
   mail-server favourites (changeme, welcome1, season+year) added. */
static const char *const weakpw_list[] = {
	"123456", "password", "123456789", "12345678", "12345", "qwerty",
	"1234567", "111111", "1234567890", "123123", "abc123", "1234",
	"password1", "iloveyou", "1q2w3e4r", "000000", "qwerty123", "zaq12wsx",
	"dragon", "sunshine", "princess", "letmein", "654321", "monkey",
	"27653", "1qaz2wsx", "123321", "qwertyuiop", "superman", "asdfghjkl",
	"football", "baseball", "welcome", "admin", "master", "shadow",
	"ashley", "michael", "login", "passw0rd", "starwars", "trustno1",
	"hello", "freedom", "whatever", "qazwsx", "666666", "121212",
	"7777777", "access", "flower", "loveme", "jesus", "ninja", "mustang",
	"password123", "Password", "Password1", "Password123", "P@ssw0rd",
	"P@ssword1", "Welcome1", "welcome1", "welcome123", "changeme",
	"secret", "123qwe", "qwe123", "1q2w3e", "1qazxsw2", "q1w2e3r4",
	"a123456", "123456a", "aa123456", "987654321", "112233", "123654",
	"159753", "147258369", "11111111", "00000000", "88888888", "555555",
	"999999", "charlie", "donald", "batman", "jordan", "hunter",
	"killer", "pepper", "soccer", "hockey", "buster", "daniel",
	"jennifer", "thomas", "robert", "andrew", "summer", "winter",
	"Summer2024", "Summer2025", "Winter2024", "Winter2025", "Spring2025",
	"Autumn2025", "Summer2026", "Winter2026", "Spring2026", "Autumn2026",
	"test", "test123", "guest", "root", "toor", "administrator",
	"mail", "email", "default", "pass", "pass123", "temp", "temp123",
	"letmein1", "iloveyou1", "lovely", "love", "qwerty1", "abcd1234",
	"abcdef", "abc12345", "zxcvbnm", "asdfgh", "1234qwer", "qwer1234",
	"google", "computer", "internet", "samsung", "apple", "matrix",
	"cookie", "purple", "orange", "banana", "chocolate", "blink182",
};

#define WEAKPW_LIST_N		MW_N_ELEMENTS(weakpw_list)
#define WEAKPW_LOGIN_VARIANTS	3	/* local part, +"1", +"123" */
#define WEAKPW_CANDIDATES	(WEAKPW_LIST_N + WEAKPW_LOGIN_VARIANTS)
#define WEAKPW_LOGIN_MAX	256

struct weakpw_slot {
	char		*login;		/* NULL: empty */
	int8_t		 flagged;	/* -1 unknown, 0, 1 */
	uint64_t	 fp[WEAKPW_CANDIDATES];
};

struct weakpw_cache {
	struct weakpw_slot	*slots;		/* WEAKPW_CACHE_LOGINS */
	char			*nonce;
	uint32_t		 bits;
	uint64_t		 computed;
};

size_t
weakpw_count(void)
{
	return WEAKPW_LIST_N;
}

const char *
weakpw_password(size_t i)
{
	return i < WEAKPW_LIST_N ? weakpw_list[i] : NULL;
}

size_t
weakpw_dovecot_hash(const char *nonce, const char *login,
    const char *password, uint32_t bits, uint8_t out[WEAKPW_HASH_MAX])
{
	crypto_hash_sha256_state st;
	size_t			 n;
	unsigned		 r;

	if (bits == 0 || bits > 256)
		bits = 256;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)nonce,
	    strlen(nonce));
	/* strlen + 1: the NUL after the login is hashed too. */
	crypto_hash_sha256_update(&st, (const unsigned char *)login,
	    strlen(login) + 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)password,
	    strlen(password));
	crypto_hash_sha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
	n = (bits + 7) / 8;
	r = bits % 8;
	if (r != 0) {
		/* The first bits bits, right-aligned: shift the n bytes right
		   by 8 - r (Dovecot's buffer_truncate_rshift_bits). */
		for (size_t i = n - 1; i > 0; i--)
			out[i] = (uint8_t)((out[i] >> (8 - r)) |
			    (out[i - 1] << r));
		out[0] = (uint8_t)(out[0] >> (8 - r));
	}
	memset(out + n, 0, WEAKPW_HASH_MAX - n);
	return n;
}

static uint64_t
weakpw_fp(const uint8_t *h, size_t n)
{
	uint64_t fp = 0;

	/* The first 8 bytes decide (at least 32 bits are compared). */
	for (size_t i = 0; i < n && i < 8; i++)
		fp = fp << 8 | h[i];
	return fp;
}

struct weakpw_cache *
weakpw_cache_new(void)
{
	struct weakpw_cache *c = mw_calloc(1, sizeof(*c));

	c->slots = mw_calloc(WEAKPW_CACHE_LOGINS, sizeof(*c->slots));
	c->nonce = mw_strdup("");
	return c;
}

static void
weakpw_cache_flush(struct weakpw_cache *c)
{
	for (size_t i = 0; i < WEAKPW_CACHE_LOGINS; i++) {
		free(c->slots[i].login);
		c->slots[i].login = NULL;
	}
}

void
weakpw_cache_free(struct weakpw_cache **cp)
{
	struct weakpw_cache *c = *cp;

	if (c == NULL)
		return;
	weakpw_cache_flush(c);
	free(c->slots);
	free(c->nonce);
	free(c);
	*cp = NULL;
}

/* The login's local part with suffix: "alice123" for alice@example.org. */
static void
weakpw_login_variant(const char *login, const char *suffix, char *buf,
    size_t size)
{
	int n = (int)strcspn(login, "@");

	if (n > (int)size - 8)
		n = (int)size - 8;
	(void)snprintf(buf, size, "%.*s%s", n, login, suffix);
}

static void
weakpw_fill(struct weakpw_cache *c, struct weakpw_slot *s, const char *login)
{
	static const char *const suffix[WEAKPW_LOGIN_VARIANTS] = { "", "1",
	    "123" };
	uint8_t	 h[WEAKPW_HASH_MAX];
	char	 variant[WEAKPW_LOGIN_MAX + 8];
	size_t	 n;

	for (size_t i = 0; i < WEAKPW_LIST_N; i++) {
		n = weakpw_dovecot_hash(c->nonce, login, weakpw_list[i],
		    c->bits, h);
		s->fp[i] = weakpw_fp(h, n);
	}
	for (size_t i = 0; i < WEAKPW_LOGIN_VARIANTS; i++) {
		weakpw_login_variant(login, suffix[i], variant, sizeof(variant));
		n = weakpw_dovecot_hash(c->nonce, login, variant, c->bits, h);
		s->fp[WEAKPW_LIST_N + i] = weakpw_fp(h, n);
	}
	sodium_memzero(h, sizeof(h));
	c->computed += WEAKPW_CANDIDATES;
}

int
weakpw_match(struct weakpw_cache *c, const char *nonce, const char *login,
    uint32_t bits, const uint8_t *hash)
{
	struct weakpw_slot	*s;
	uint64_t		 fp;
	size_t			 n = bits == 0 || bits > 256 ? 32 : (bits + 7) / 8;

	if (login == NULL || login[0] == '\0' ||
	    strlen(login) > WEAKPW_LOGIN_MAX)
		return -1;
	if (strcmp(nonce, c->nonce) != 0 || bits != c->bits) {
		weakpw_cache_flush(c);
		free(c->nonce);
		c->nonce = mw_strdup(nonce);
		c->bits = bits;
	}
	s = &c->slots[mw_hash_bytes(login, strlen(login), 0x77) %
	    WEAKPW_CACHE_LOGINS];
	if (s->login == NULL || strcmp(s->login, login) != 0) {
		free(s->login);
		s->login = mw_strdup(login);
		s->flagged = -1;
		weakpw_fill(c, s, login);
	}
	fp = weakpw_fp(hash, n);
	for (size_t i = 0; i < WEAKPW_CANDIDATES; i++)
		if (s->fp[i] == fp)
			return (int)i;
	return -1;
}

static struct weakpw_slot *
weakpw_slot_of(struct weakpw_cache *c, const char *login)
{
	struct weakpw_slot *s = &c->slots[mw_hash_bytes(login, strlen(login),
	    0x77) % WEAKPW_CACHE_LOGINS];

	return s->login != NULL && strcmp(s->login, login) == 0 ? s : NULL;
}

int
weakpw_flag_get(struct weakpw_cache *c, const char *login)
{
	struct weakpw_slot *s = weakpw_slot_of(c, login);

	return s != NULL ? s->flagged : -1;
}

void
weakpw_flag_set(struct weakpw_cache *c, const char *login, int flagged)
{
	struct weakpw_slot *s = weakpw_slot_of(c, login);

	if (s != NULL)
		s->flagged = (int8_t)(flagged > 0 ? 1 : 0);
}

uint64_t
weakpw_cache_computed(const struct weakpw_cache *c)
{
	return c->computed;
}
