/*
 * test_dnsbl_live - dnsbl against a real rbldnsd on 127.0.0.1 (a free
 * port, zone files written here), and against a UDP socket that never
 * answers. Checks: listings and weights over two zones in parallel, not
 * listed and excluded addresses, the 127.255.255.254 refusal (degraded,
 * logged once), IPv6 nibble queries and the ipv6 = no skip, IPv4-mapped
 * clients, cache hits answered synchronously, shared in-flight queries,
 * cancel (no callback, no use after free), the timeout bound and its brief
 * failure cache, a zone the server refuses, and SIGHUP reconfiguration.
 * Traffic stays on loopback. Without rbldnsd the tests are skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/log.h"
#include "dnsbl/dnsbl.h"
#include "dnsbl/dnsbl_int.h"

#define RBLDNSD		"/usr/sbin/rbldnsd"	/* env MW_TEST_RBLDNSD overrides */
#define IP(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d))
#define MAX_LOG_LINES	64

static struct {
	bool		 have_rbldnsd;
	const char	*rbldnsd;
	char		 dir[64];
	pid_t		 pid;
	uint16_t	 port;
	int		 silent_fd;	/* a UDP socket that never answers */
	uint16_t	 silent_port;
	struct event_base *base;
	char		*log[MAX_LOG_LINES];
	size_t		 nlog;
} g = { .pid = -1, .silent_fd = -1 };

/* --- fixtures --------------------------------------------------------- */

static const struct {
	const char *name, *text;
} zone_files[] = {
	{ "zen.ip4set",
	  "$SOA 300 ns.dnsbl.test hostmaster.dnsbl.test 0 600 300 86400 60\n"
	  "$NS 300 ns.dnsbl.test\n"
	  "$TTL 60\n"
	  ":127.0.0.2:Listed (local SBL test) $\n"
	  "127.0.0.2\n"
	  "192.0.2.9\n"
	  "198.18.7.7\n"
	  "203.0.113.0/24 :127.0.0.4:Listed (local XBL test)\n"
	  "198.51.100.7   :127.0.0.10:Listed (local PBL test)\n"
	  "!203.0.113.1\n"
	  "127.0.0.99 :127.255.255.254:public resolver\n"
	  "127.0.0.98 :127.255.255.254:public resolver\n"
	  "192.0.2.50 :127.0.0.2:sbl\n"
	  "192.0.2.51 :127.0.0.2:sbl\n"
	  "192.0.2.52 :127.0.0.2:sbl\n"
	  "192.0.2.53 :127.0.0.2:sbl\n" },
	/* A second dataset of the same zone: 192.0.2.9 answers .2 and .9. */
	{ "drop.ip4set", ":127.0.0.9:DROP\n192.0.2.9\n" },
	{ "zen.ip6trie", ":127.0.0.3:Listed (local IPv6 test)\n"
	  "2001:db8:bad::/48\n" },
	/* Lists the world (127.0.0.1 too): the health check must catch it. */
	{ "world.ip4trie", ":127.0.0.2:everything\n0.0.0.0/1\n128.0.0.0/1\n" },
	{ "xbl.ip4trie", "$TTL 900\n:127.0.0.4:Listed (local XBL trie test)\n"
	  "198.18.0.0/15\n198.18.5.5 :127.0.0.2:more specific wins\n" },
};

static void
capture(void *ctx, enum log_level level, const char *line)
{
	(void)ctx;
	(void)level;
	if (g.nlog < MAX_LOG_LINES)
		g.log[g.nlog++] = strdup(line);
}

static size_t
log_count(const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < g.nlog; i++)
		n += strstr(g.log[i], needle) != NULL;
	return n;
}

static void
log_clear(void)
{
	for (size_t i = 0; i < g.nlog; i++)
		free(g.log[i]);
	g.nlog = 0;
}

static uint16_t
udp_bind_loopback(int *fd_r)
{
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	socklen_t		 len = sizeof(sin);
	int			 fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*fd_r = fd;
	return ntohs(sin.sin_port);
}

/* One A query for 2.0.0.127.zen.dnsbl.test; true on a NOERROR answer. */
static bool
rbldnsd_answers(uint16_t port)
{
	static const char	 qname[] = "\0012\0010\0010\003127\003zen"
				    "\005dnsbl\004test";
	unsigned char		 pkt[512], reply[512];
	struct sockaddr_in	 sin = { .sin_family = AF_INET };
	struct pollfd		 pfd;
	size_t			 len = 12;
	ssize_t			 n;
	bool			 ok = false;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x4d; pkt[1] = 0x57;		/* id */
	pkt[2] = 0x01;				/* RD */
	pkt[5] = 1;				/* QDCOUNT */
	memcpy(pkt + len, qname, sizeof(qname));	/* with the root NUL */
	len += sizeof(qname);
	pkt[len++] = 0; pkt[len++] = 1;		/* A */
	pkt[len++] = 0; pkt[len++] = 1;		/* IN */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(port);
	pfd.fd = socket(AF_INET, SOCK_DGRAM, 0);
	pfd.events = POLLIN;
	assert_true(pfd.fd >= 0);
	if (sendto(pfd.fd, pkt, len, 0, (struct sockaddr *)&sin,
	    sizeof(sin)) == (ssize_t)len && poll(&pfd, 1, 200) == 1 &&
	    (n = recv(pfd.fd, reply, sizeof(reply), 0)) >= 12)
		ok = reply[0] == 0x4d && reply[1] == 0x57 &&
		    (reply[3] & 0x0f) == 0 && reply[7] >= 1;
	close(pfd.fd);
	return ok;
}

static bool
rbldnsd_start(void)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		char	 bind_arg[32];
		int	 fd;

		g.port = udp_bind_loopback(&fd);
		close(fd);
		(void)snprintf(bind_arg, sizeof(bind_arg), "127.0.0.1/%u",
		    g.port);
		if ((g.pid = fork()) == 0) {
			int null = open("/dev/null", O_RDWR);

			if (null >= 0) {
				dup2(null, 1);
				dup2(null, 2);
			}
			execl(g.rbldnsd, "rbldnsd", "-n", "-u", "rbldns", "-b",
			    bind_arg, "-w", g.dir, "-t", "60",
			    "zen.dnsbl.test:ip4set:zen.ip4set",
			    "zen.dnsbl.test:ip4set:drop.ip4set",
			    "zen.dnsbl.test:ip6trie:zen.ip6trie",
			    "xbl.dnsbl.test:ip4trie:xbl.ip4trie",
			    "world.dnsbl.test:ip4trie:world.ip4trie",
			    (char *)NULL);
			_exit(127);
		}
		assert_true(g.pid > 0);
		for (int i = 0; i < 25; i++) {
			if (rbldnsd_answers(g.port))
				return true;
			if (waitpid(g.pid, NULL, WNOHANG) == g.pid)
				break;	/* port taken? try another */
		}
		kill(g.pid, SIGTERM);
		waitpid(g.pid, NULL, 0);
		g.pid = -1;
	}
	return false;
}

static int
group_setup(void **state)
{
	(void)state;
	log_open("test_dnsbl_live", LOG_TARGET_STDERR, LOG_LEVEL_INFO);
	log_set_capture(capture, NULL);
	g.base = event_base_new();
	assert_non_null(g.base);
	g.silent_port = udp_bind_loopback(&g.silent_fd);
	if ((g.rbldnsd = getenv("MW_TEST_RBLDNSD")) == NULL)
		g.rbldnsd = RBLDNSD;
	g.have_rbldnsd = access(g.rbldnsd, X_OK) == 0;
	if (!g.have_rbldnsd)
		return 0;
	(void)snprintf(g.dir, sizeof(g.dir), "/tmp/mw-dnsbl-XXXXXX");
	assert_non_null(mkdtemp(g.dir));
	/* rbldnsd drops to the rbldns user before reading the files. */
	assert_int_equal(chmod(g.dir, 0755), 0);
	for (size_t i = 0; i < MW_N_ELEMENTS(zone_files); i++) {
		char	 path[128];
		FILE	*f;

		(void)snprintf(path, sizeof(path), "%s/%s", g.dir,
		    zone_files[i].name);
		assert_non_null(f = fopen(path, "w"));
		assert_int_equal(fputs(zone_files[i].text, f) >= 0, 1);
		assert_int_equal(fclose(f), 0);
		assert_int_equal(chmod(path, 0644), 0);
	}
	if (!rbldnsd_start()) {
		fprintf(stderr, "rbldnsd did not start on 127.0.0.1\n");
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	if (g.pid > 0) {
		kill(g.pid, SIGTERM);
		waitpid(g.pid, NULL, 0);
	}
	if (g.have_rbldnsd) {
		for (size_t i = 0; i < MW_N_ELEMENTS(zone_files); i++) {
			char path[128];

			(void)snprintf(path, sizeof(path), "%s/%s", g.dir,
			    zone_files[i].name);
			unlink(path);
		}
		rmdir(g.dir);
	}
	if (g.silent_fd >= 0)
		close(g.silent_fd);
	event_base_free(g.base);
	log_set_capture(NULL, NULL);
	log_clear();
	return 0;
}

static void
need_rbldnsd(void)
{
	if (!g.have_rbldnsd) {
		print_message("SKIP: rbldnsd not installed\n");
		skip();
	}
}

/* --- config ----------------------------------------------------------- */

static void
code(struct cfg_zone *z, uint32_t first, uint32_t last, int32_t weight,
    enum dnsbl_class klass)
{
	z->codes[z->ncodes++] = (struct cfg_zone_code){ first, last, weight,
	    klass };
}

static char resolver_text[64];

static struct cfg *
test_cfg(uint16_t port, uint64_t timeout_ms)
{
	struct cfg	*cfg = calloc(1, sizeof(*cfg));
	struct cfg_zone	*z;

	assert_non_null(cfg);
	(void)snprintf(resolver_text, sizeof(resolver_text), "127.0.0.1:%u",
	    port);
	cfg->dnsbl.enabled = true;
	cfg->dnsbl.resolver = resolver_text;
	cfg->dnsbl.timeout_ms = timeout_ms;
	cfg->dnsbl.threshold = 2;
	cfg->dnsbl.cache_min_ttl = 120;
	cfg->dnsbl.cache_max_ttl = 600;
	cfg->dnsbl.negative_ttl = 300;
	cfg->dnsbl.cache_max_entries = 1000;

	z = &cfg->dnsbl.zones[0];
	z->name = "zen";
	z->zone = "zen.dnsbl.test";
	z->enabled = true;
	z->ipv6 = true;
	z->default_weight = 1;
	code(z, IP(127, 0, 0, 2), IP(127, 0, 0, 2), 2, DNSBL_CLASS_SBL);
	code(z, IP(127, 0, 0, 3), IP(127, 0, 0, 3), 2, DNSBL_CLASS_CSS);
	code(z, IP(127, 0, 0, 4), IP(127, 0, 0, 7), 3, DNSBL_CLASS_XBL);
	code(z, IP(127, 0, 0, 9), IP(127, 0, 0, 9), 4, DNSBL_CLASS_DROP);
	code(z, IP(127, 0, 0, 10), IP(127, 0, 0, 11), 2, DNSBL_CLASS_PBL);

	z = &cfg->dnsbl.zones[1];
	z->name = "xbl";
	z->zone = "xbl.dnsbl.test";
	z->enabled = true;
	z->ipv6 = false;
	z->default_weight = 1;

	z = &cfg->dnsbl.zones[2];
	z->name = "off";
	z->zone = "off.dnsbl.test";
	z->enabled = false;
	z->default_weight = 5;
	cfg->dnsbl.nzones = 3;
	return cfg;
}

/* --- running checks --------------------------------------------------- */

struct done {
	int			 calls;
	struct dnsbl_lookup	**cancel;	/* cancelled by the callback */
	struct dnsbl_result	 r;
	struct timespec		 at;
};

static void
on_done(void *ctx, const struct dnsbl_result *r)
{
	struct done *dn = ctx;

	dn->calls++;
	dn->r = *r;
	if (dn->cancel != NULL)
		dnsbl_cancel(dn->cancel);
	clock_gettime(CLOCK_MONOTONIC, &dn->at);
}

static void
on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Runs the loop until every done has been called or ms passed. */
static void
run_loop(struct done **dns, size_t n, unsigned ms)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct event	*guard = evtimer_new(g.base, on_guard, g.base);
		struct timeval	 tv = { 0, 20000 };
		bool		 all = true;
		long		 el;

		for (size_t i = 0; i < n; i++)
			all = all && dns[i]->calls > 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		el = (now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
		if ((all && n > 0) || el >= (long)ms) {
			event_free(guard);
			return;
		}
		evtimer_add(guard, &tv);
		event_base_loop(g.base, EVLOOP_ONCE);
		event_free(guard);
	}
}

static long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

static struct mw_addr
addr_of(const char *text)
{
	struct mw_addr a;

	assert_int_equal(mw_addr_parse(text, &a), 0);
	return a;
}

/* Waits for the health-check queries of d (RFC 5782 test points). */
static void
wait_health(struct dnsbl *d)
{
	for (int i = 0; i < 300 && dnsbl_health_pending(d) > 0; i++)
		run_loop(NULL, 0, 10);
	assert_int_equal(dnsbl_health_pending(d), 0);
}

/* Checks text and waits for the answer; returns whether it was async. */
static bool
check(struct dnsbl *d, const char *text, bool submission, struct done *dn)
{
	struct mw_addr		 a = addr_of(text);
	struct dnsbl_lookup	*l;
	struct done		*p = dn;

	memset(dn, 0, sizeof(*dn));
	l = dnsbl_check(d, &a, submission, on_done, dn);
	if (l == NULL) {
		assert_int_equal(dn->calls, 1);
		return false;
	}
	assert_int_equal(dn->calls, 0);
	run_loop(&p, 1, 3000);
	assert_int_equal(dn->calls, 1);
	return true;
}

static void
assert_zone(const struct dnsbl_zone_result *z, enum dnsbl_status status,
    int32_t weight, enum dnsbl_class klass, uint32_t answer0)
{
	assert_string_equal(dnsbl_status_name(z->status),
	    dnsbl_status_name(status));
	assert_int_equal(z->weight, weight);
	if (status == DNSBL_LISTED || status == DNSBL_REFUSED) {
		assert_string_equal(dnsbl_class_name(z->klass),
		    dnsbl_class_name(klass));
		assert_true(z->nanswers >= 1);
		assert_int_equal(z->answers[0], answer0);
	}
}

/* --- tests ------------------------------------------------------------ */

static void
test_dnsbl_live_listings(void **state)
{
	struct cfg		*cfg;
	struct dnsbl		*d;
	struct dnsbl_stats	 st;
	struct done		 dn;
	char			*error = NULL;

	(void)state;
	need_rbldnsd();
	cfg = test_cfg(g.port, 2000);
	log_clear();
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	/* Health check: zen lists 127.0.0.2, the test xbl zone does not. */
	wait_health(d);
	assert_int_equal(log_count("dnsbl: xbl.dnsbl.test: health check: "
	    "test point 127.0.0.2 is not listed (RFC 5782)"), 1);
	assert_int_equal(log_count("zen.dnsbl.test: health check"), 0);
	assert_int_equal(log_count("off.dnsbl.test"), 0);

	/* SBL on zen, nothing on xbl, "off" skipped. */
	assert_true(check(d, "127.0.0.2", false, &dn));
	assert_int_equal(dn.r.nzones, 3);
	assert_ptr_equal(dn.r.zones[0].zone, &cfg->dnsbl.zones[0]);
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 2, DNSBL_CLASS_SBL,
	    IP(127, 0, 0, 2));
	assert_false(dn.r.zones[0].cached);
	assert_int_equal(dn.r.zones[0].ttl, 120);	/* 60 raised to min */
	assert_zone(&dn.r.zones[1], DNSBL_NOT_LISTED, 0, 0, 0);
	assert_int_equal(dn.r.zones[1].ttl, 300);	/* negative_ttl */
	assert_zone(&dn.r.zones[2], DNSBL_SKIPPED, 0, 0, 0);
	assert_int_equal(dn.r.score, 2);
	assert_false(dn.r.degraded);

	/* Listed on both zones: weights add up. */
	assert_true(check(d, "198.18.7.7", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 2, DNSBL_CLASS_SBL,
	    IP(127, 0, 0, 2));
	assert_zone(&dn.r.zones[1], DNSBL_LISTED, 1, DNSBL_CLASS_LISTED,
	    IP(127, 0, 0, 4));
	assert_int_equal(dn.r.zones[1].ttl, 600);	/* 900 cut to max */
	assert_int_equal(dn.r.score, 3);

	/* Two records (SBL .2 + DROP .9): the larger weight. */
	assert_true(check(d, "192.0.2.9", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 4, DNSBL_CLASS_DROP,
	    IP(127, 0, 0, 9));
	assert_int_equal(dn.r.zones[0].nanswers, 2);
	assert_int_equal(dn.r.score, 4);

	/* XBL range; excluded address; not listed. */
	assert_true(check(d, "203.0.113.5", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 3, DNSBL_CLASS_XBL,
	    IP(127, 0, 0, 4));
	assert_int_equal(dn.r.score, 3);
	assert_true(check(d, "203.0.113.1", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_NOT_LISTED, 0, 0, 0);
	assert_int_equal(dn.r.score, 0);
	assert_true(check(d, "127.0.0.1", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_NOT_LISTED, 0, 0, 0);
	assert_zone(&dn.r.zones[1], DNSBL_NOT_LISTED, 0, 0, 0);
	assert_int_equal(dn.r.score, 0);
	assert_false(dn.r.degraded);

	/* PBL: counts at the MX, not on submission (the second from the
	   cache, judged again for this client). */
	assert_true(check(d, "198.51.100.7", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 2, DNSBL_CLASS_PBL,
	    IP(127, 0, 0, 10));
	assert_false(check(d, "198.51.100.7", true, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 0, DNSBL_CLASS_PBL,
	    IP(127, 0, 0, 10));
	assert_true(dn.r.zones[0].cached);
	assert_int_equal(dn.r.score, 0);

	dnsbl_get_stats(d, &st);
	/* 7 addresses x 2 zones sent; 1 check from the cache (2 hits). */
	assert_int_equal(st.queries, 14);
	assert_int_equal(st.cache_misses, 14);
	assert_int_equal(st.cache_hits, 2);
	assert_int_equal(st.cache_entries, 14);
	assert_int_equal(st.listed, 7);
	assert_int_equal(st.not_listed, 9);
	assert_int_equal(st.timeouts + st.failures + st.refusals, 0);
	assert_int_equal(st.listed + st.not_listed, st.cache_hits +
	    st.cache_misses);

	/* The allocation-free hot path agrees with the full one, and leaves
	   no trace when something is not cached. */
	{
		struct dnsbl_result	 r;
		struct mw_addr		 a;

		assert_int_equal(mw_addr_parse("192.0.2.9", &a), 0);
		assert_true(dnsbl_check_cached(d, &a, false, &r));
		assert_int_equal(r.score, 4);
		assert_zone(&r.zones[0], DNSBL_LISTED, 4, DNSBL_CLASS_DROP,
		    IP(127, 0, 0, 9));
		assert_true(r.zones[0].cached);
		assert_int_equal(mw_addr_parse("198.51.100.7", &a), 0);
		assert_true(dnsbl_check_cached(d, &a, true, &r));
		assert_int_equal(r.score, 0);	/* PBL on submission */
		assert_int_equal(mw_addr_parse("203.0.113.77", &a), 0);
		assert_false(dnsbl_check_cached(d, &a, false, &r));
		dnsbl_get_stats(d, &st);
		assert_int_equal(st.cache_hits, 6);	/* 2 + 2 + 2, not the miss */
		assert_int_equal(st.cache_misses, 14);
		assert_int_equal(st.queries, 14);
	}
	dnsbl_free(&d);
	assert_null(d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
}

static void
test_dnsbl_live_refused(void **state)
{
	struct cfg		*cfg;
	struct dnsbl		*d;
	struct dnsbl_stats	 st;
	struct done		 dn;
	char			*error = NULL;

	(void)state;
	need_rbldnsd();
	cfg = test_cfg(g.port, 2000);
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	log_clear();
	assert_true(check(d, "127.0.0.99", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_REFUSED, 0, DNSBL_CLASS_LISTED,
	    IP(127, 255, 255, 254));
	assert_int_equal(dn.r.score, 0);
	assert_true(dn.r.degraded);
	/* From the cache: still refused, still degraded. */
	assert_false(check(d, "127.0.0.99", false, &dn));
	assert_int_equal(dn.r.zones[0].status, DNSBL_REFUSED);
	assert_true(dn.r.degraded);
	/* Another address with the same error: not logged again. */
	assert_true(check(d, "127.0.0.98", false, &dn));
	assert_int_equal(dn.r.zones[0].status, DNSBL_REFUSED);
	assert_int_equal(log_count("refuses queries from public resolvers; "
	    "configure [dnsbl] resolver to a local recursive resolver such "
	    "as unbound on 127.0.0.1, or use a Spamhaus DQS key"), 1);
	assert_int_equal(log_count("dnsbl: zen.dnsbl.test: answer "
	    "127.255.255.254"), 1);
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.refusals, 3);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
}

static void
test_dnsbl_live_ipv6(void **state)
{
	struct cfg		*cfg;
	struct dnsbl		*d;
	struct dnsbl_stats	 st;
	struct done		 dn;
	char			*error = NULL;

	(void)state;
	need_rbldnsd();
	cfg = test_cfg(g.port, 2000);
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	/* Nibble query on zen; xbl has ipv6 = no. */
	assert_true(check(d, "2001:db8:bad::1", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 2, DNSBL_CLASS_CSS,
	    IP(127, 0, 0, 3));
	assert_zone(&dn.r.zones[1], DNSBL_SKIPPED, 0, 0, 0);
	assert_int_equal(dn.r.score, 2);
	assert_true(check(d, "2001:db8:beef::1", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_NOT_LISTED, 0, 0, 0);
	/* An IPv4-mapped client is an IPv4 client: both zones, and then the
	   same cache entries as 127.0.0.2. */
	assert_true(check(d, "::ffff:127.0.0.2", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 2, DNSBL_CLASS_SBL,
	    IP(127, 0, 0, 2));
	assert_zone(&dn.r.zones[1], DNSBL_NOT_LISTED, 0, 0, 0);
	assert_false(check(d, "127.0.0.2", false, &dn));
	assert_true(dn.r.zones[0].cached);
	assert_true(dn.r.zones[1].cached);
	assert_int_equal(dn.r.score, 2);
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.queries, 4);
	assert_int_equal(st.cache_hits, 2);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
}

static void
test_dnsbl_live_dedup_and_cancel(void **state)
{
	struct cfg		*cfg;
	struct dnsbl		*d;
	struct dnsbl_stats	 st;
	struct done		 a, b, c, x;
	struct done		*both[] = { &a, &b, &c };
	struct dnsbl_lookup	*la, *lb, *lc, *lx;
	struct mw_addr		 ip = addr_of("192.0.2.50");
	char			*error = NULL;

	(void)state;
	need_rbldnsd();
	cfg = test_cfg(g.port, 2000);
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&c, 0, sizeof(c));
	memset(&x, 0, sizeof(x));
	/* Three checks of one client at once: one query per zone; the
	   middle one is cancelled and never called back. */
	assert_non_null(la = dnsbl_check(d, &ip, false, on_done, &a));
	assert_non_null(lx = dnsbl_check(d, &ip, false, on_done, &x));
	assert_non_null(lb = dnsbl_check(d, &ip, true, on_done, &b));
	dnsbl_cancel(&lx);
	assert_null(lx);
	dnsbl_cancel(&lx);	/* NULL-safe */
	assert_non_null(lc = dnsbl_check(d, &ip, false, on_done, &c));
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.queries, 2);
	assert_int_equal(st.cache_misses, 8);
	run_loop(both, 3, 3000);
	assert_int_equal(a.calls, 1);
	assert_int_equal(b.calls, 1);
	assert_int_equal(c.calls, 1);
	assert_int_equal(x.calls, 0);
	assert_int_equal(a.r.score, 2);
	assert_int_equal(b.r.score, 2);
	assert_int_equal(c.r.score, 2);
	assert_int_equal(a.r.zones[0].status, DNSBL_LISTED);

	/* Cancel the only check of a client: the query is cancelled in
	   evdns, its late DNS_ERR_CANCEL callback must find no lookup. */
	ip = addr_of("192.0.2.51");
	assert_non_null(lx = dnsbl_check(d, &ip, false, on_done, &x));
	dnsbl_cancel(&lx);
	run_loop(NULL, 0, 300);
	assert_int_equal(x.calls, 0);
	/* Nothing was cached for it: asked again, it is a fresh query. */
	assert_true(check(d, "192.0.2.51", false, &x));
	assert_false(x.r.zones[0].cached);
	assert_int_equal(x.r.score, 2);

	/* A callback cancels another check waiting on the same queries:
	   x registered first, so a is delivered first and cancels x. */
	ip = addr_of("192.0.2.52");
	memset(&a, 0, sizeof(a));
	memset(&x, 0, sizeof(x));
	assert_non_null(lx = dnsbl_check(d, &ip, false, on_done, &x));
	a.cancel = &lx;
	assert_non_null(la = dnsbl_check(d, &ip, false, on_done, &a));
	run_loop(both, 1, 3000);
	assert_int_equal(a.calls, 1);
	assert_null(lx);
	run_loop(NULL, 0, 100);
	assert_int_equal(x.calls, 0);
	assert_int_equal(a.r.score, 2);

	/* Freed with a check in flight: no callback, no leak (the orphaned
	   query frees itself when evdns reports the shutdown). */
	ip = addr_of("192.0.2.53");
	memset(&x, 0, sizeof(x));
	assert_non_null(lx = dnsbl_check(d, &ip, false, on_done, &x));
	log_clear();
	dnsbl_free(&d);
	assert_int_equal(log_count("freed with checks in flight"), 1);
	run_loop(NULL, 0, 200);
	assert_int_equal(x.calls, 0);
	free(cfg);
}

static void
test_dnsbl_live_timeout(void **state)
{
	struct cfg		*cfg;
	struct dnsbl		*d;
	struct dnsbl_stats	 st;
	struct done		 dn;
	struct timespec		 start;
	struct mw_addr		 ip = addr_of("192.0.2.77");
	struct dnsbl_lookup	*l;
	struct done		*p = &dn;
	char			*error = NULL;
	long			 el;

	(void)state;
	/* Needs no rbldnsd: the resolver is a socket that never answers. */
	cfg = test_cfg(g.silent_port, 400);
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	memset(&dn, 0, sizeof(dn));
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_non_null(l = dnsbl_check(d, &ip, false, on_done, &dn));
	run_loop(&p, 1, 5000);
	assert_int_equal(dn.calls, 1);
	el = ms_between(&start, &dn.at);
	print_message("timeout delivered after %ld ms (timeout 400 ms)\n", el);
	assert_true(el >= 350);
	assert_true(el < 400 + 500);
	assert_int_equal(dn.r.zones[0].status, DNSBL_TIMEOUT);
	assert_int_equal(dn.r.zones[1].status, DNSBL_TIMEOUT);
	assert_int_equal(dn.r.zones[2].status, DNSBL_SKIPPED);
	assert_int_equal(dn.r.score, 0);
	assert_true(dn.r.degraded);
	/* Called exactly once, even with the cancelled queries' callbacks
	   still to come. */
	run_loop(NULL, 0, 300);
	assert_int_equal(dn.calls, 1);
	/* The timeout is remembered briefly: the next check of this client
	   does not wait again. */
	assert_false(check(d, "192.0.2.77", false, &dn));
	assert_int_equal(dn.r.zones[0].status, DNSBL_TIMEOUT);
	assert_true(dn.r.zones[0].cached);
	assert_true(dn.r.zones[0].ttl <= DNSBL_FAIL_TTL);
	assert_true(dn.r.degraded);
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.queries, 2);
	assert_int_equal(st.timeouts, 4);
	assert_int_equal(st.cache_hits, 2);
	assert_int_equal(st.cache_misses, 2);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
}

static void
test_dnsbl_live_failed_zone(void **state)
{
	struct cfg		*cfg;
	struct dnsbl		*d;
	struct done		 dn;
	char			*error = NULL;

	(void)state;
	need_rbldnsd();
	cfg = test_cfg(g.port, 2000);
	/* rbldnsd answers REFUSED (rcode 5) for a zone it does not serve. */
	cfg->dnsbl.zones[1].zone = "nothere.test";
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	assert_true(check(d, "127.0.0.2", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 2, DNSBL_CLASS_SBL,
	    IP(127, 0, 0, 2));
	assert_int_equal(dn.r.zones[1].status, DNSBL_FAILED);
	assert_int_equal(dn.r.score, 2);
	assert_true(dn.r.degraded);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
}

static void
test_dnsbl_live_reconfigure(void **state)
{
	struct cfg		*cfg, *cfg2, *cfg3, *bad;
	struct dnsbl		*d;
	struct dnsbl_stats	 st;
	struct done		 dn;
	char			*error = NULL;

	(void)state;
	need_rbldnsd();
	cfg = test_cfg(g.port, 2000);
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	assert_true(check(d, "127.0.0.2", false, &dn));
	assert_true(check(d, "198.18.7.7", false, &dn));
	assert_int_equal(dn.r.score, 3);
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.cache_entries, 4);

	/* A bad resolver is refused and changes nothing. */
	bad = test_cfg(g.port, 2000);
	bad->dnsbl.resolver = "dns.example:53";
	assert_int_equal(dnsbl_reconfigure(d, bad, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, "resolver: \"dns.example:53\" (from "
	    "[dnsbl] resolver) is not an address; write ip, ip:port or "
	    "[ipv6]:port, e.g. 127.0.0.1:53");
	free(error);
	error = NULL;
	free(bad);

	/* New weights apply to cached answers; a removed zone's entries
	   go; the same resolver keeps the cache. */
	cfg2 = test_cfg(g.port, 2000);
	cfg2->dnsbl.zones[0].codes[0].weight = 7;
	cfg2->dnsbl.zones[1] = cfg2->dnsbl.zones[2];	/* xbl removed */
	cfg2->dnsbl.nzones = 2;
	assert_int_equal(dnsbl_reconfigure(d, cfg2, &error), 0);
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.cache_entries, 2);
	assert_false(check(d, "127.0.0.2", false, &dn));
	assert_int_equal(dn.r.nzones, 2);
	assert_ptr_equal(dn.r.zones[0].zone, &cfg2->dnsbl.zones[0]);
	assert_zone(&dn.r.zones[0], DNSBL_LISTED, 7, DNSBL_CLASS_SBL,
	    IP(127, 0, 0, 2));
	assert_true(dn.r.zones[0].cached);
	assert_int_equal(dn.r.zones[1].status, DNSBL_SKIPPED);
	assert_int_equal(dn.r.score, 7);
	free(cfg);

	/* Another resolver (the silent socket: the health check queries
	   it): the cache is cleared, its answers may differ. */
	cfg = test_cfg(g.silent_port, 2000);
	assert_int_equal(dnsbl_reconfigure(d, cfg, &error), 0);
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.cache_entries, 0);
	/* And back: queries go to rbldnsd again, weights of cfg3. */
	cfg3 = test_cfg(g.port, 2000);
	assert_int_equal(dnsbl_reconfigure(d, cfg3, &error), 0);
	assert_true(check(d, "127.0.0.2", false, &dn));
	assert_false(dn.r.zones[0].cached);
	assert_int_equal(dn.r.score, 2);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
	free(cfg2);
	free(cfg3);
}

static void
test_dnsbl_live_health_world(void **state)
{
	struct cfg		*cfg;
	struct dnsbl		*d;
	struct dnsbl_stats	 st;
	struct done		 dn;
	char			*error = NULL;

	(void)state;
	need_rbldnsd();
	cfg = test_cfg(g.port, 2000);
	cfg->dnsbl.zones[1].zone = "world.dnsbl.test";
	log_clear();
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	/* Before the health answers arrive the zone counts... */
	assert_true(check(d, "192.0.2.200", false, &dn));
	assert_zone(&dn.r.zones[1], DNSBL_LISTED, 1, DNSBL_CLASS_LISTED,
	    IP(127, 0, 0, 2));
	/* ...after them it is ignored, loudly, until a reload. */
	wait_health(d);
	assert_int_equal(log_count("dnsbl: world.dnsbl.test: health check: "
	    "lists 127.0.0.1, which no DNSBL may list (RFC 5782)"), 1);
	assert_int_equal(log_count("zen.dnsbl.test: health check"), 0);
	assert_true(check(d, "192.0.2.201", false, &dn));
	assert_zone(&dn.r.zones[0], DNSBL_NOT_LISTED, 0, 0, 0);
	assert_int_equal(dn.r.zones[1].status, DNSBL_SKIPPED);
	assert_int_equal(dn.r.zones[2].status, DNSBL_SKIPPED);
	assert_int_equal(dn.r.score, 0);
	/* Health-check queries are not in the statistics: 2 + 1. */
	dnsbl_get_stats(d, &st);
	assert_int_equal(st.queries, 3);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
}

static void
test_dnsbl_live_bad_resolver(void **state)
{
	struct cfg	*cfg = test_cfg(g.silent_port, 2000);
	struct dnsbl	*d = NULL;
	char		*error = NULL;

	(void)state;
	cfg->dnsbl.enabled = false;	/* no health-check traffic */
	cfg->dnsbl.resolver = "127.0.0.1:99999";
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), -1);
	assert_null(d);
	assert_non_null(error);
	assert_non_null(strstr(error, "\"127.0.0.1:99999\""));
	free(error);
	/* Accepted spellings: v4 with and without port, bracketed v6. */
	cfg->dnsbl.resolver = "[::1]:5353";
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);	/* orphans go */
	cfg->dnsbl.resolver = "127.0.0.1";
	assert_int_equal(dnsbl_new(g.base, cfg, &d, &error), 0);
	dnsbl_free(&d);
	event_base_loop(g.base, EVLOOP_NONBLOCK);
	free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dnsbl_live_listings),
		cmocka_unit_test(test_dnsbl_live_refused),
		cmocka_unit_test(test_dnsbl_live_ipv6),
		cmocka_unit_test(test_dnsbl_live_dedup_and_cancel),
		cmocka_unit_test(test_dnsbl_live_timeout),
		cmocka_unit_test(test_dnsbl_live_failed_zone),
		cmocka_unit_test(test_dnsbl_live_reconfigure),
		cmocka_unit_test(test_dnsbl_live_health_world),
		cmocka_unit_test(test_dnsbl_live_bad_resolver),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
