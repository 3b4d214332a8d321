/*
 * json-parse - the cost of reading one Dovecot auth policy body with one
 * of the JSON libraries in Debian 12 a C program would pick, chosen when
 * compiled (jansson and json-c both define json_object_get, so each
 * library gets its own binary): -DWITH_JANSSON (a tree, the admin API's
 * library), -DWITH_JSONC (a tree, a reused tokener) or -DWITH_YAJL (a
 * stream of callbacks, what src/listen/authpolicy_parse.c uses). Each
 * parse must find "login", so no library is timed doing less than the
 * service needs.
 *
 *   bench/run-json-parse.sh               (builds and runs all three)
 *   bench/bin/json-parse-yajl [iterations]     (default 2,000,000)
 *
 * Prints the library and ns per parse, best of 3 rounds.
 */
#define _POSIX_C_SOURCE 200809L
#if defined(WITH_JANSSON)
#include <jansson.h>
#define LIBRARY "jansson"
#elif defined(WITH_JSONC)
#include <json-c/json.h>
#define LIBRARY "json-c"
#elif defined(WITH_YAJL)
#include <yajl/yajl_parse.h>
#define LIBRARY "yajl"
#else
#error "define WITH_JANSSON, WITH_JSONC or WITH_YAJL"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char body[] = "{\"device_id\":\"\",\"login\":\"user123@bench."
    "example\",\"protocol\":\"imap\",\"pwhash\":\"0a1b\",\"remote\":"
    "\"198.18.3.21\",\"session_id\":\"AbCdEfGhIjKlMnOp\",\"success\":true,"
    "\"policy_reject\":false,\"tls\":false}";

#if defined(WITH_YAJL)
struct login_seen {
	int	next_is_login;
	size_t	login_len;
};

static int
y_key(void *ctx, const unsigned char *k, size_t len)
{
	struct login_seen *s = ctx;

	s->next_is_login = len == 5 && memcmp(k, "login", 5) == 0;
	return 1;
}

static int
y_string(void *ctx, const unsigned char *v, size_t len)
{
	struct login_seen *s = ctx;

	(void)v;
	if (s->next_is_login)
		s->login_len = len;
	return 1;
}

static int
y_other(void *ctx)
{
	(void)ctx;
	return 1;
}

static int
y_bool(void *ctx, int b)
{
	(void)ctx;
	(void)b;
	return 1;
}

static const yajl_callbacks ycb = {
	.yajl_null = y_other, .yajl_boolean = y_bool, .yajl_string = y_string,
	.yajl_start_map = y_other, .yajl_map_key = y_key,
	.yajl_end_map = y_other,
};

static size_t
parse(void)
{
	struct login_seen	 s = { 0, 0 };
	yajl_handle		 h = yajl_alloc(&ycb, NULL, &s);

	if (yajl_parse(h, (const unsigned char *)body, sizeof(body) - 1) !=
	    yajl_status_ok || yajl_complete_parse(h) != yajl_status_ok)
		abort();
	yajl_free(h);
	return s.login_len;
}
#elif defined(WITH_JANSSON)
static size_t
parse(void)
{
	json_t	*o = json_loadb(body, sizeof(body) - 1, 0, NULL);
	size_t	 n;

	if (o == NULL)
		abort();
	n = json_string_length(json_object_get(o, "login"));
	json_decref(o);
	return n;
}

#else
static json_tokener *tok;

static size_t
parse(void)
{
	json_object	*o, *v;
	size_t		 n;

	json_tokener_reset(tok);
	o = json_tokener_parse_ex(tok, body, (int)sizeof(body) - 1);
	if (o == NULL || !json_object_object_get_ex(o, "login", &v))
		abort();
	n = (size_t)json_object_get_string_len(v);
	json_object_put(o);
	return n;
}

#endif

static double
time_ns(size_t (*fn)(void), long n)
{
	struct timespec	 t0, t1;
	double		 best = 0;

	for (int round = 0; round < 3; round++) {
		size_t sum = 0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (long i = 0; i < n; i++)
			sum += fn();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (sum != (size_t)n * strlen("user123@bench.example"))
			abort();
		double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		    (double)(t1.tv_nsec - t0.tv_nsec)) / (double)n;
		if (round == 0 || ns < best)
			best = ns;
	}
	return best;
}

int
main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;

	if (n <= 0) {
		fprintf(stderr, "usage: json-parse-%s [iterations]\n", LIBRARY);
		return 2;
	}
#if defined(WITH_JSONC)
	tok = json_tokener_new();
#endif
	printf("%-8s %6.0f ns/parse (%zu-byte body, best of 3 x %ld)\n",
	    LIBRARY, time_ns(parse, n), sizeof(body) - 1, n);
	return 0;
}
