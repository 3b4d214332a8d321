/*
 * login-fill - the login guard's memory and speed with N distinct
 * attacking addresses tracked in their windows, through the project's
 * own detectors (src/engine/bruteforce.c, the same code as the daemon).
 *
 *   login-fill [-n ADDRESSES] [-k FAILURES_PER_ADDRESS] [-a ACCOUNTS]
 *              [-6 PERCENT_IPV6] [--seed S]
 *
 * Every address fails k times (different wrong passwords) on one account
 * drawn from a pool of ACCOUNTS names, all within one 10-minute window
 * with the default [login] settings and table bounds. Addresses are
 * distinct random IPv4 hosts (and PERCENT_IPV6 % IPv6 hosts in distinct
 * /64s). Prints the time per attempt, the resident memory the tables
 * added (VmRSS from /proc/self/status), the tables' own byte count, the
 * entries per table, bans decided, and how long expiry takes to drain
 * everything once the window has passed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/bruteforce.h"

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

static long
rss_kb(void)
{
	FILE	*f = fopen("/proc/self/status", "r");
	char	 line[256];
	long	 kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* The i-th address: distinct for distinct i. */
static void
addr_of(uint64_t i, unsigned pct6, struct mw_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (i % 100 < pct6) {
		/* 2a00::/12-ish documentation-free range, one /64 each. */
		a->b[0] = 0x2a;
		a->b[1] = 0x01;
		for (int k = 0; k < 6; k++)
			a->b[2 + k] = (uint8_t)(i >> (8 * (5 - k)));
		a->b[15] = 1;
		return;
	}
	/* IPv4: i * P mod 2^32 is a bijection; spread over the space. */
	mw_addr_from_v4((uint32_t)(i * 2654435761u), a);
}

int
main(int argc, char **argv)
{
	uint64_t	 n = 1000000, k = 3, accounts = 10000, seed = 42;
	unsigned	 pct6 = 10;
	struct bf_config c;
	struct bf	*bf;
	struct bf_result r;
	struct bf_stats	 s;
	char		 (*names)[48];
	long		 rss0, rss1;
	double		 t0, t1, t2;
	uint64_t	 bans = 0, nets = 0, removed = 0;
	int64_t		 base = 1763900000;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "-n") == 0)
			n = strtoull(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "-k") == 0)
			k = strtoull(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "-a") == 0)
			accounts = strtoull(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "-6") == 0)
			pct6 = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--seed") == 0)
			seed = strtoull(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: login-fill [-n ADDRESSES] [-k "
			    "FAILURES] [-a ACCOUNTS] [-6 PERCENT] [--seed S]\n");
			return 64;
		}
	}
	if (accounts == 0 || k == 0 || pct6 > 100)
		return 64;
	names = calloc(accounts, sizeof(*names));
	for (uint64_t i = 0; i < accounts; i++)
		snprintf(names[i], sizeof(names[i]), "user%" PRIu64 "@example.org",
		    i);
	bf_config_defaults(&c);
	rss0 = rss_kb();
	bf = bf_new(&c);
	t0 = now_s();
	for (uint64_t i = 0; i < n; i++) {
		struct bf_attempt at = { .service = "imap",
		    .phase = BF_FAILURE, .has_pwfp = true, .common_pw = -1 };

		addr_of(i, pct6, &at.addr);
		at.account = names[rng_next(&seed) % accounts];
		for (uint64_t j = 0; j < k; j++) {
			at.pwfp = (uint32_t)rng_next(&seed);
			/* spread over 9 minutes: all inside one window */
			at.now = base + (int64_t)((i * 540) / n);
			bf_report(bf, &at, &r);
			bans += r.ban_address;
			nets += r.ban_network;
		}
	}
	t1 = now_s();
	rss1 = rss_kb();
	bf_get_stats(bf, &s);
	printf("addresses %" PRIu64 " (%u%% IPv6), %" PRIu64 " failures each, "
	    "%" PRIu64 " accounts\n", n, pct6, k, accounts);
	printf("time      %.2f s for %" PRIu64 " attempts: %.0f ns per attempt\n",
	    t1 - t0, n * k, (t1 - t0) * 1e9 / (double)(n * k));
	printf("rss       %.1f MB added (%ld kB -> %ld kB); tables %.1f MB; "
	    "%.0f bytes per address\n", (double)(rss1 - rss0) / 1024.0, rss0,
	    rss1, (double)s.bytes / 1048576.0,
	    (double)(rss1 - rss0) * 1024.0 / (double)n);
	printf("entries   addresses %zu, networks %zu, accounts %zu, "
	    "account+address %zu, evicted %" PRIu64 "\n", s.addresses,
	    s.networks, s.accounts, s.pairs, s.evicted);
	printf("rules     %" PRIu64 " address bans, %" PRIu64 " network bans "
	    "decided\n", bans, nets);
	/* The check before each login (engine_auth_check's rules part). */
	{
		struct bf_verdict	v;
		uint64_t		tarpits = 0;
		double			c0 = now_s();

		for (uint64_t i = 0; i < n; i++) {
			struct mw_addr a;

			addr_of(i, pct6, &a);
			bf_check(bf, &a, names[i % accounts], base + 540, &v);
			tarpits += v.kind != BF_ALLOW;
		}
		printf("check     %.0f ns per bf_check over the %" PRIu64
		    " addresses (%" PRIu64 " not allowed)\n",
		    (now_s() - c0) * 1e9 / (double)n, n, tarpits);
	}
	/* After the window every entry is empty: drain in bounded steps. */
	t1 = now_s();
	for (;;) {
		size_t got = bf_expire(bf, base + 2000, 20000);

		removed += got;
		if (got == 0)
			break;
	}
	t2 = now_s();
	bf_get_stats(bf, &s);
	printf("expiry    %" PRIu64 " entries removed in %.2f s (20000 per "
	    "table per step); left %zu\n", removed, t2 - t1,
	    s.addresses + s.networks + s.accounts + s.pairs);
	bf_free(&bf);
	free(names);
	return 0;
}
