/*
 * ban-fill - writes N bans into the mailward store named by a config file,
 * through the project's own store library (so the schema is whatever
 * src/store defines), for the start-up and memory benchmark.
 *
 *   ban-fill -c mailward.conf -n 1000000 [--seed S] [--sample FILE]
 *
 * Bans: 90 % IPv4 hosts, 7 % IPv6 /128, 2 % IPv6 /64, 1 % IPv4 /24, all
 * distinct, none in 127/8, 192.0.2/24, 198.51.100/24, 203.0.113/24 or
 * 2001:db8::/32 (the policy benchmark's ranges); sources and reasons as
 * the log watcher and the DNSBL would write them; 95 % expire within 1-7
 * days, 5 % are permanent. --sample writes 500 banned and 500 unbanned
 * addresses in policy-load's pool format ("ADDR deny" / "ADDR clean").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/addr.h"
#include "core/cfg.h"
#include "store/store.h"

#define FILL_BATCH	10000	/* bans per store call (bulk API) */

static uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The i-th ban's network: distinct for distinct i. */
static void
ban_net(uint64_t i, uint64_t n, struct mw_cidr *c)
{
	struct mw_addr a;
	unsigned kind = (unsigned)(i % 100);

	memset(&a, 0, sizeof(a));
	if (kind < 91) {
		/* IPv4 hosts: i -> 11.0.0.0 + i * P mod M is a bijection on
		   [11.0.0.0, 127.0.0.0) (M = 116 * 2^24, P odd and prime to 29);
		   /24s from 1.0.0.0/24 on, below that range. */
		const uint64_t M = 116ULL << 24, P = 2654435761ULL;
		uint32_t v;
		int bits = 32;

		if (kind == 90) {
			v = (uint32_t)((i / 100 + 0x010000u) << 8);
			bits = 24;
		} else
			v = (uint32_t)(0x0B000000u + (i * P) % M);
		mw_addr_from_v4(v, &a);
		mw_cidr_from_addr(&a, (uint8_t)(96 + bits), c);
	} else {
		/* IPv6 in 2a0X::/16-ish space, away from 2001:db8::/32. */
		uint64_t h = i * 0x9E3779B97F4A7C15ULL;

		a.b[0] = 0x2a;
		a.b[1] = (uint8_t)(0x01 + kind % 8);
		for (int k = 0; k < 6; k++)
			a.b[2 + k] = (uint8_t)(h >> (8 * k));
		a.b[8] = (uint8_t)(i >> 24);
		a.b[9] = (uint8_t)(i >> 16);
		if (kind >= 98) {
			memset(a.b + 10, 0, 6);
			/* /64: the first 8 bytes must be distinct */
			a.b[6] = (uint8_t)(i >> 8);
			a.b[7] = (uint8_t)i;
			a.b[8] = a.b[9] = 0;
			mw_cidr_from_addr(&a, 64, c);
		} else {
			a.b[10] = (uint8_t)(i >> 8);
			a.b[11] = (uint8_t)i;
			a.b[15] = 1;
			mw_cidr_from_addr(&a, 128, c);
		}
	}
	(void)n;
}

static const char *const reasons[] = {
	"5 failed SASL logins in 600 s (smtp)",
	"6 failed logins in 600 s (imap)",
	"listed in zen.spamhaus.org (127.0.0.4 XBL)",
	"manual: spam run reported by a user",
	"8 failed logins in 600 s (smtp, imap)",
};

static void
ban_fill_one(uint64_t i, uint64_t n, int64_t now, struct store_ban *b)
{
	uint64_t r = i * 0x9E3779B97F4A7C15ULL + 12345;

	memset(b, 0, sizeof(*b));
	ban_net(i, n, &b->net);
	switch (i % 10) {
	case 0: b->source = STORE_BAN_DNSBL; b->reason = reasons[2]; break;
	case 1: b->source = STORE_BAN_MANUAL; b->reason = reasons[3]; break;
	case 2: b->source = STORE_BAN_LOGIN; b->reason = reasons[1]; break;
	case 3: b->source = STORE_BAN_LOGWATCH; b->reason = reasons[4]; break;
	default: b->source = STORE_BAN_LOGWATCH; b->reason = reasons[0]; break;
	}
	rng_next(&r);
	b->first_seen = now - (int64_t)(rng_next(&r) % 86400);
	b->last_seen = b->first_seen + (int64_t)(rng_next(&r) % 600);
	b->expires = (i % 20 == 7) ? 0 :
	    now + 86400 + (int64_t)(rng_next(&r) % (6 * 86400));
	b->hits = (uint32_t)(rng_next(&r) % 50);
	b->count = 1 + (uint32_t)(rng_next(&r) % 3);
}

int
main(int argc, char **argv)
{
	const char *conf = NULL, *sample = NULL;
	uint64_t n = 1000000, seed = 1;
	struct cfg *cfg;
	struct store *st;
	char *err = NULL;
	double t0, t1;
	int64_t now = (int64_t)time(NULL);

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-c") == 0)
			conf = argv[i + 1];
		else if (strcmp(argv[i], "-n") == 0)
			n = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--sample") == 0)
			sample = argv[i + 1];
		else
			conf = NULL, i = argc;
	}
	if (conf == NULL || n == 0 || n > 100000000) {
		fputs("usage: ban-fill -c mailward.conf -n N [--sample FILE]\n",
		    stderr);
		return 2;
	}
	(void)seed;
	if (cfg_load(conf, &cfg, &err) < 0) {
		fprintf(stderr, "ban-fill: %s\n", err);
		return 1;
	}
	if (store_open(cfg, &st, &err) < 0) {
		fprintf(stderr, "ban-fill: store_open: %s\n", err);
		return 1;
	}
	t0 = now_s();
#ifdef MW_HAVE_BAN_PUT_MANY
	{
		static struct store_ban batch[FILL_BATCH];

		for (uint64_t i = 0; i < n; ) {
			size_t k = 0;

			for (; k < FILL_BATCH && i < n; k++, i++)
				ban_fill_one(i, n, now, &batch[k]);
			if (store_ban_put_many(st, batch, k) < 0) {
				fprintf(stderr, "ban-fill: store_ban_put_many: %s\n",
				    store_last_error(st));
				return 1;
			}
		}
	}
#else
	/* No bulk API in this store: one commit per ban (slow, but the
	   result is the same store). */
	for (uint64_t i = 0; i < n; i++) {
		struct store_ban b;

		ban_fill_one(i, n, now, &b);
		if (store_ban_put(st, &b) < 0) {
			fprintf(stderr, "ban-fill: store_ban_put: %s\n",
			    store_last_error(st));
			return 1;
		}
	}
#endif
	t1 = now_s();
	store_close(&st);
	fprintf(stderr, "ban-fill: %" PRIu64 " bans in %.2f s (%.0f/s)\n", n,
	    t1 - t0, (double)n / (t1 - t0));

	if (sample != NULL) {
		FILE *f = fopen(sample, "w");
		char buf[MW_CIDR_STRLEN];

		if (f == NULL) {
			fprintf(stderr, "ban-fill: %s: %s\n", sample,
			    strerror(errno));
			return 1;
		}
		/* Hosts only (IPv4 /32, IPv6 /128) and, for /24 and /64
		   bans, an address inside. */
		for (uint64_t k = 0; k < 500; k++) {
			struct mw_cidr c;
			uint64_t i = (k * (n / 500 + 1) + k % 100) % n;

			ban_net(i, n, &c);
			if (!mw_cidr_is_host(&c)) {
				c.addr.b[15] |= 0x05;
				c.bits = 128;
			}
			fprintf(f, "%s deny\n", mw_cidr_format(&c, buf,
			    sizeof(buf)));
		}
		for (uint32_t k = 0; k < 500; k++)	/* 198.18.0.0/15: never banned */
			fprintf(f, "198.18.%u.%u clean\n", k / 250, k % 250 + 1);
		fclose(f);
	}
	cfg_free(&cfg);
	free(err);
	return 0;
}
