/*
 * test_store_bench - how long the daemon's start spends reading bans:
 * N bans (default 1,000,000; MW_STORE_BENCH_N overrides) are written with
 * store_ban_put_many, then the store is reopened and store_ban_load walks
 * them. The times are printed, not asserted (machines differ); what is
 * asserted is that every ban comes back, with its fields.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/log.h"
#include "store/store.h"

#define BENCH_DEFAULT_N	1000000
#define BENCH_CHUNK	100000	/* bans per put_many call */

struct bench_sum {
	size_t		 n;
	uint64_t	 hits, bits, v6;
};

static double
elapsed_s(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Ban i: IPv4 hosts 10.x.y.z for even i, IPv6 /64s for odd i. */
static void
bench_ban(size_t i, struct store_ban *b)
{
	*b = (struct store_ban){ .source = STORE_BAN_LOGIN,
	    .reason = "sasl login failures: 10 in 600 s", .first_seen = 1700000000,
	    .last_seen = 1700000000 + (int64_t)i, .expires = 1900000000,
	    .hits = (uint32_t)(i % 1000), .count = 1 };
	if (i % 2 == 0) {
		mw_addr_from_v4(0x0a000000u + (uint32_t)i, &b->net.addr);
		b->net.bits = 128;
	} else {
		memset(&b->net.addr, 0, sizeof(b->net.addr));
		b->net.addr.b[0] = 0x20;
		b->net.addr.b[1] = 0x01;
		b->net.addr.b[2] = 0x0d;
		b->net.addr.b[3] = 0xb8;
		b->net.addr.b[4] = (uint8_t)(i >> 24);
		b->net.addr.b[5] = (uint8_t)(i >> 16);
		b->net.addr.b[6] = (uint8_t)(i >> 8);
		b->net.addr.b[7] = (uint8_t)i;
		b->net.bits = 64;
	}
}

static bool
bench_count(void *ctx, const struct store_ban *b)
{
	struct bench_sum *sum = ctx;

	sum->n++;
	sum->hits += b->hits;
	sum->bits += b->net.bits;
	sum->v6 += !mw_cidr_is_v4(&b->net);
	return strcmp(b->reason, "sasl login failures: 10 in 600 s") == 0 &&
	    b->source == STORE_BAN_LOGIN;
}

static void
test_load_many_bans(void **state)
{
	const char	*env = getenv("MW_STORE_BENCH_N");
	size_t		 n = env != NULL ? strtoul(env, NULL, 10) :
	    BENCH_DEFAULT_N;
	char		 dir[] = "/tmp/mw-bench-XXXXXX", path[64], cmd[96];
	struct cfg	 cfg;
	struct store	*st = NULL;
	struct store_ban *chunk;
	struct bench_sum sum = { 0 };
	uint64_t	 want_hits = 0, want_bits = 0;
	struct timespec	 t0;
	char		*error = NULL;
	double		 put_s, load_s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/mailward.db", dir);
	memset(&cfg, 0, sizeof(cfg));
	cfg.store.backend = "sqlite";
	cfg.store.path = path;
	cfg.store.event_max_rows = 1000;
	if (store_open(&cfg, &st, &error) < 0)
		fail_msg("store_open: %s", error);

	assert_non_null(chunk = calloc(BENCH_CHUNK, sizeof(*chunk)));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < n; i += BENCH_CHUNK) {
		size_t m = n - i < BENCH_CHUNK ? n - i : BENCH_CHUNK;

		for (size_t j = 0; j < m; j++) {
			bench_ban(i + j, &chunk[j]);
			want_hits += chunk[j].hits;
			want_bits += chunk[j].net.bits;
		}
		assert_int_equal(store_ban_put_many(st, chunk, m), 0);
	}
	put_s = elapsed_s(&t0);
	free(chunk);

	store_close(&st);	/* start cold, as the daemon does */
	if (store_open(&cfg, &st, &error) < 0)
		fail_msg("store_open: %s", error);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(store_ban_load(st, bench_count, &sum), 0);
	load_s = elapsed_s(&t0);
	assert_int_equal(sum.n, n);
	assert_int_equal(sum.hits, want_hits);
	assert_int_equal(sum.bits, want_bits);
	assert_int_equal(sum.v6, n / 2);
	printf("store bench: %zu bans: put_many %.3f s (%.0f/s), "
	    "load %.3f s (%.0f/s)\n", n, put_s, (double)n / put_s, load_s,
	    (double)n / load_s);
	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_many_bans),
	};

	log_open("test_store_bench", LOG_TARGET_STDERR, LOG_LEVEL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
