/*
 * policy-load - Postfix policy-delegation load generator.
 *
 * N persistent connections (TCP or unix socket), each sending one request
 * and waiting for its answer before the next, as one smtpd process does.
 * Requests are the 29 attributes Postfix 3.7 sends at RCPT (about 700
 * bytes), in Postfix's order; with --shape shuffled, those and three that
 * Postfix 3.8 adds, in a different random order in every request (a
 * parser must not depend on the order). From a pool of client addresses
 * (--ips, written by --fixtures);
 * a fraction is authenticated (sasl_username). Every answer must be
 * exactly "action=...\n\n"; with --verify MODEL each action is also
 * compared with the one MODEL expects for that client.
 *
 * Output: one line of name=value pairs on stdout (for scripts), a
 * readable summary on stderr. Loopback and unix-socket targets only; the
 * run is bounded by a request count and a time cap, each request by a
 * timeout.
 *
 * Also: --fixtures DIR writes the client pool, the rbldnsd zone data and
 * the allow/deny lists, deterministically for a given --pool/--seed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define LOAD_MAX_CONNS		4096	/* connections */
#define LOAD_MAX_POOL		100000	/* client addresses */
#define LOAD_MAX_ANSWER		4096	/* bytes of one answer */
#define LOAD_MAX_REQUEST	2048	/* bytes of one request */
#define LOAD_TABLE_SIZE		8192	/* pre-built requests */
#define LOAD_MAX_ERRORS		1000	/* connection errors before giving up */
#define LOAD_MAX_SHOWN		10	/* mismatches printed */

/* Latency histogram: ns, 64 sub-buckets per power of two (< 1.6 % error). */
#define HIST_SUB_BITS		6
#define HIST_SUB		(1u << HIST_SUB_BITS)
#define HIST_BUCKETS		(2 * HIST_SUB + 58 * HIST_SUB)

enum flag { F_ALLOW = 1, F_DENY = 2, F_LISTED = 4, F_V6 = 8 };
enum aclass { A_PASS, A_REJECT, A_DEFER, A_OTHER };
enum model { M_NONE, M_RULES, M_DNSBL };

struct client {
	char		 addr[INET6_ADDRSTRLEN];
	unsigned	 flags;
};

struct req {
	char		*text;
	size_t		 len;
	uint32_t	 client;	/* index into the pool */
	bool		 sasl;
};

struct conn {
	int		 fd;
	bool		 busy;		/* a request is outstanding */
	uint32_t	 req;		/* its index in the table */
	size_t		 sent;		/* bytes of it written */
	uint64_t	 t0;		/* ns when it was sent */
	char		 in[LOAD_MAX_ANSWER];
	size_t		 inlen;
	uint64_t	 rng;
};

struct hist {
	uint64_t	 count[HIST_BUCKETS];
	uint64_t	 n, max, min, sum;
};

struct phase_result {
	uint64_t	 done, errors, timeouts, malformed, mismatches;
	uint64_t	 cls[4];
	double		 seconds;
	bool		 capped;
};

static struct {
	const char	*target;
	int		 family;
	struct sockaddr_storage sa;
	socklen_t	 salen;
	unsigned	 nconns;
	uint64_t	 requests, warmup;
	double		 duration, timeout;
	double		 sasl_frac;
	uint64_t	 seed;
	const char	*ips;
	enum model	 model;
	bool		 nodelay;
	bool		 shuffled;	/* --shape shuffled */
} opt = {
	.nconns = 16, .requests = 100000, .warmup = 2000, .duration = 10,
	.timeout = 10, .sasl_frac = 0.2, .seed = 1, .model = M_NONE,
	.nodelay = true,
};

static struct client	*pool;
static size_t		 npool;
static struct req	 table[LOAD_TABLE_SIZE];
static struct conn	*conns;
static struct hist	 hist;
static int		 epfd = -1;
static uint64_t		 total_errors;
static unsigned		 shown;
static volatile sig_atomic_t stop_flag;

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs("policy-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: deterministic for a seed, good enough for workloads. */
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
rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) / (double)(1ULL << 53);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* ---- histogram ---- */

static unsigned
hist_index(uint64_t v)
{
	unsigned msb, shift;

	if (v < 2 * HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return 2 * HIST_SUB + (shift - 1) * HIST_SUB +
	    (unsigned)((v >> shift) - HIST_SUB);
}

/* Midpoint of bucket i. */
static double
hist_value(unsigned i)
{
	unsigned shift;
	uint64_t lo;

	if (i < 2 * HIST_SUB)
		return i;
	shift = (i - 2 * HIST_SUB) / HIST_SUB + 1;
	lo = (uint64_t)((i - 2 * HIST_SUB) % HIST_SUB + HIST_SUB) << shift;
	return (double)lo + (double)(1ULL << shift) / 2.0;
}

static void
hist_add(struct hist *h, uint64_t v)
{
	unsigned i = hist_index(v);

	if (i >= HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	h->count[i]++;
	h->n++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	if (h->min == 0 || v < h->min)
		h->min = v;
}

/* q in [0,1]; ns. */
static double
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;

	if (h->n == 0)
		return 0;
	want = (uint64_t)((double)h->n * q);
	if (want >= h->n)
		want = h->n - 1;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen > want) {
			double v = hist_value(i);
			return v > (double)h->max ? (double)h->max : v;
		}
	}
	return (double)h->max;
}

/* ---- fixtures ---- */

static FILE *
fopen_in(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		die("path too long: %s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	return f;
}

/*
 * The pool: 1 % allow list (192.0.2.0/24, 2001:db8:a::/48; two of them
 * also DNSBL-listed, to test that allow wins), 1 % deny list
 * (198.51.100.0/24, 2001:db8:d::/48), 3 % listed in the DNSBL
 * (203.0.113.0/24, 2001:db8:bad::/48), the rest clean (198.18.0.0/15,
 * 2001:db8:1::/48); about 20 % IPv6 in every group.
 */
static void
write_fixtures(const char *dir, size_t n, uint64_t seed)
{
	FILE *ips, *v4, *v6, *allow, *deny;
	uint64_t rng = seed * 2654435761u + 1;
	size_t nallow, ndeny, nlisted;

	if (n < 100 || n > 60000)
		die("--pool: 100 to 60000 addresses");
	mkdir(dir, 0755);
	ips = fopen_in(dir, "ips.txt");
	v4 = fopen_in(dir, "dnsbl.ip4set");
	v6 = fopen_in(dir, "dnsbl.ip6trie");
	allow = fopen_in(dir, "allow.cidr");
	deny = fopen_in(dir, "deny.cidr");

	fputs("$SOA 3600 ns.dnsbl.bench.test hostmaster.dnsbl.bench.test "
	    "0 600 300 86400 3600\n$NS 3600 ns.dnsbl.bench.test\n$TTL 3600\n"
	    ":127.0.0.2:Listed by the benchmark zone: $\n"
	    "127.0.0.2\n", v4);
	fputs(":127.0.0.2:Listed by the benchmark zone\n", v6);
	fputs("192.0.2.0/24\n2001:db8:a::/48\n", allow);
	fputs("198.51.100.0/24\n2001:db8:d::/48\n", deny);

	nallow = n / 100;
	ndeny = n / 100;
	nlisted = n * 3 / 100;
	for (size_t i = 0; i < n; i++) {
		bool v6addr = (i % 5) == 4;	/* 20 % */
		const char *kind;
		unsigned a = (unsigned)(i + 1);
		char addr[INET6_ADDRSTRLEN];

		if (i < nallow) {
			kind = (i == 0 || i == 4) ? "allow,listed" : "allow";
			if (v6addr)
				snprintf(addr, sizeof(addr), "2001:db8:a::%x", a);
			else
				snprintf(addr, sizeof(addr), "192.0.2.%u", (unsigned)(i % 254) + 1);
		} else if (i < nallow + ndeny) {
			kind = "deny";
			if (v6addr)
				snprintf(addr, sizeof(addr), "2001:db8:d::%x", a);
			else
				snprintf(addr, sizeof(addr), "198.51.100.%u", (unsigned)(i % 254) + 1);
		} else if (i < nallow + ndeny + nlisted) {
			kind = "listed";
			if (v6addr)
				snprintf(addr, sizeof(addr), "2001:db8:bad::%x:%x",
				    (unsigned)(rng_next(&rng) & 0xffff), a);
			else
				snprintf(addr, sizeof(addr), "203.0.113.%u", (unsigned)(i % 254) + 1);
		} else {
			kind = "clean";
			if (v6addr)
				snprintf(addr, sizeof(addr), "2001:db8:1:%x::%x",
				    (unsigned)(rng_next(&rng) & 0xffff), a);
			else
				snprintf(addr, sizeof(addr), "198.%u.%u.%u",
				    18 + (unsigned)(a >> 16 & 1), (a >> 8) & 0xff,
				    a & 0xff);
		}
		fprintf(ips, "%s %s\n", addr, kind);
		if (strstr(kind, "listed") != NULL)
			fprintf(v6addr ? v6 : v4, "%s\n", addr);
	}
	/* rbldnsd must not list a wider range than the pool says. */
	if (fclose(ips) || fclose(v4) || fclose(v6) || fclose(allow) ||
	    fclose(deny))
		die("writing fixtures: %s", strerror(errno));
}

static unsigned
parse_flags(const char *s)
{
	unsigned f = 0;

	if (strstr(s, "allow"))
		f |= F_ALLOW;
	if (strstr(s, "deny"))
		f |= F_DENY;
	if (strstr(s, "listed"))
		f |= F_LISTED;
	return f;
}

static void
read_pool(const char *path)
{
	FILE *f;
	char line[512];

	if ((f = fopen(path, "r")) == NULL)
		die("%s: %s", path, strerror(errno));
	pool = calloc(LOAD_MAX_POOL, sizeof(*pool));
	if (pool == NULL)
		die("out of memory");
	while (fgets(line, sizeof(line), f) != NULL) {
		char addr[128], flags[128];
		struct in6_addr a6;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%127s %127s", addr, flags) != 2 ||
		    strlen(addr) >= sizeof(pool[0].addr))
			die("%s: bad line: %s", path, line);
		if (npool >= LOAD_MAX_POOL)
			die("%s: more than %d addresses", path, LOAD_MAX_POOL);
		memcpy(pool[npool].addr, addr, strlen(addr) + 1);
		pool[npool].flags = parse_flags(flags);
		if (inet_pton(AF_INET6, addr, &a6) == 1)
			pool[npool].flags |= F_V6;
		npool++;
	}
	fclose(f);
	if (npool == 0)
		die("%s: no addresses", path);
}

/* ---- requests ---- */

/* --shape shuffled: adds the attributes Postfix 3.8 sends after 3.7's,
   then puts the lines of the request in buf (len bytes, ending with the
   empty line) in a random order. Returns the new length. */
static size_t
shuffle_request(char *buf, size_t len, size_t size, uint64_t *rng)
{
	static const char extra[] = "compatibility_level=3.6\n"
	    "mail_version=3.8.6\ntls_sni=mail.example.org\n";
	char	 copy[LOAD_MAX_REQUEST], *lines[64];
	size_t	 n = 0, off = 0;

	if (len + sizeof(extra) > sizeof(copy) || len + sizeof(extra) > size)
		die("request template too long");
	memcpy(copy, buf, len - 1);	/* without the final empty line */
	memcpy(copy + len - 1, extra, sizeof(extra) - 1);
	len = len - 1 + sizeof(extra) - 1;
	copy[len] = '\0';
	for (char *p = copy, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		if (n == 64)
			die("request template: too many lines");
		lines[n++] = p;
	}
	for (size_t k = n - 1; k > 0; k--) {
		size_t j = (size_t)(rng_next(rng) % (k + 1));
		char *t = lines[k];

		lines[k] = lines[j];
		lines[j] = t;
	}
	for (size_t k = 0; k < n; k++) {
		size_t l = strlen(lines[k]);

		memcpy(buf + off, lines[k], l);
		buf[off + l] = '\n';
		off += l + 1;
	}
	buf[off++] = '\n';
	buf[off] = '\0';
	return off;
}

static void
build_table(void)
{
	uint64_t rng = opt.seed * 0x9E3779B97F4A7C15ULL + 7;

	for (size_t i = 0; i < LOAD_TABLE_SIZE; i++) {
		char buf[LOAD_MAX_REQUEST];
		/* First the whole pool in order (warm-up covers it), then random. */
		uint32_t c = i < npool ? (uint32_t)i :
		    (uint32_t)(rng_next(&rng) % npool);
		const struct client *cl = &pool[c];
		bool sasl = rng_unit(&rng) < opt.sasl_frac;
		bool second_rcpt = rng_next(&rng) & 1;
		bool tls = sasl || (rng_next(&rng) % 10) < 7;
		bool named = (rng_next(&rng) % 4) != 0;
		unsigned u = (unsigned)(rng_next(&rng) % 5000);
		unsigned d = (unsigned)(rng_next(&rng) % 400);
		char qid[16] = "", name[80];
		int len;

		if (second_rcpt)
			snprintf(qid, sizeof(qid), "4X%05X%04X",
			    (unsigned)(rng_next(&rng) & 0xfffff),
			    (unsigned)(rng_next(&rng) & 0xffff));
		if (named)
			snprintf(name, sizeof(name), "mail%u.relay%u.example.net",
			    c, d);
		else
			snprintf(name, sizeof(name), "unknown");
		len = snprintf(buf, sizeof(buf),
		    "request=smtpd_access_policy\n"
		    "protocol_state=RCPT\n"
		    "protocol_name=ESMTP\n"
		    "client_address=%s\n"
		    "client_name=%s\n"
		    "client_port=%u\n"
		    "reverse_client_name=%s\n"
		    "server_address=%s\n"
		    "server_port=%u\n"
		    "helo_name=%s\n"
		    "sender=%s%u@example%u.com\n"
		    "recipient=user%u@mail.example.org\n"
		    "recipient_count=0\n"
		    "queue_id=%s\n"
		    "instance=%x.%08x.%x.0\n"
		    "size=%u\n"
		    "etrn_domain=\n"
		    "stress=\n"
		    "sasl_method=%s\n"
		    "sasl_username=%s%s\n"
		    "sasl_sender=\n"
		    "ccert_subject=\n"
		    "ccert_issuer=\n"
		    "ccert_fingerprint=\n"
		    "ccert_pubkey_fingerprint=\n"
		    "encryption_protocol=%s\n"
		    "encryption_cipher=%s\n"
		    "encryption_keysize=%s\n"
		    "policy_context=%s\n"
		    "\n",
		    cl->addr, name,
		    (unsigned)(1024 + rng_next(&rng) % 64000),
		    named ? name : "unknown",
		    (cl->flags & F_V6) ? "2001:db8:25::25" : "192.0.2.25",
		    sasl ? 587u : 25u,
		    named ? name : "[unknown-host.example]",
		    sasl ? "alice.user" : "newsletter-bounce", u, d,
		    (unsigned)(rng_next(&rng) % 2000),
		    qid,
		    (unsigned)(rng_next(&rng) & 0xffff),
		    (unsigned)(rng_next(&rng) & 0xffffffffu),
		    (unsigned)(rng_next(&rng) & 0xfffff),
		    (unsigned)(rng_next(&rng) % 200000),
		    sasl ? "PLAIN" : "",
		    sasl ? "alice.user" : "", sasl ? "@example.org" : "",
		    tls ? "TLSv1.3" : "",
		    tls ? "TLS_AES_256_GCM_SHA384" : "",
		    tls ? "256" : "0",
		    sasl ? "submission" : "");
		if (len < 0 || (size_t)len >= sizeof(buf))
			die("request template too long");
		if (opt.shuffled)
			len = (int)shuffle_request(buf, (size_t)len, sizeof(buf),
			    &rng);
		table[i].text = strdup(buf);
		if (table[i].text == NULL)
			die("out of memory");
		table[i].len = (size_t)len;
		table[i].client = c;
		table[i].sasl = sasl;
	}
}

/* What MODEL expects for request r. */
static enum aclass
expected(const struct req *r)
{
	unsigned f = pool[r->client].flags;

	switch (opt.model) {
	case M_RULES:
		if (f & F_ALLOW)
			return A_PASS;
		if (f & F_DENY)
			return A_REJECT;
		if (r->sasl)
			return A_PASS;
		return (f & F_LISTED) ? A_REJECT : A_PASS;
	case M_DNSBL:
		return (f & F_LISTED) ? A_REJECT : A_PASS;
	case M_NONE:
		break;
	}
	return A_OTHER;
}

static const char *
aclass_name(enum aclass c)
{
	static const char *names[] = { "pass", "reject", "defer", "other" };

	return names[c];
}

static bool
word_is(const char *w, size_t n, const char *s)
{
	return strlen(s) == n && strncasecmp(w, s, n) == 0;
}

/* The class of the action text (after "action="). */
static enum aclass
classify(const char *a, size_t len)
{
	size_t n = 0;

	while (n < len && a[n] != ' ' && a[n] != '\t')
		n++;
	if (n == 3 && isdigit((unsigned char)a[0]) &&
	    isdigit((unsigned char)a[1]) && isdigit((unsigned char)a[2])) {
		if (a[0] == '5')
			return A_REJECT;
		if (a[0] == '4')
			return A_DEFER;
		return A_OTHER;
	}
	if (word_is(a, n, "REJECT"))
		return A_REJECT;
	if (word_is(a, n, "DEFER") || word_is(a, n, "DEFER_IF_PERMIT") ||
	    word_is(a, n, "DEFER_IF_REJECT"))
		return A_DEFER;
	if (word_is(a, n, "DUNNO") || word_is(a, n, "OK") ||
	    word_is(a, n, "PREPEND") || word_is(a, n, "WARN") ||
	    word_is(a, n, "INFO"))
		return A_PASS;
	return A_OTHER;
}

/* ---- connections ---- */

static bool
is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		const uint8_t *b = s6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return true;
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && b[12] == 127;
	}
	return ss->ss_family == AF_UNIX;
}

static void
parse_target(const char *spec)
{
	memset(&opt.sa, 0, sizeof(opt.sa));
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *su = (struct sockaddr_un *)&opt.sa;

		if (strlen(spec + 5) >= sizeof(su->sun_path))
			die("unix socket path too long: %s", spec + 5);
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, spec + 5);
		opt.salen = sizeof(*su);
	} else if (strncmp(spec, "tcp:", 4) == 0) {
		char host[256];
		const char *h = spec + 4, *colon;
		unsigned long port;
		char *end;

		if (*h == '[') {
			const char *rb = strchr(h, ']');
			if (rb == NULL || rb[1] != ':')
				die("bad target %s (tcp:[::1]:PORT)", spec);
			snprintf(host, sizeof(host), "%.*s", (int)(rb - h - 1), h + 1);
			colon = rb + 1;
		} else {
			colon = strrchr(h, ':');
			if (colon == NULL)
				die("bad target %s (tcp:127.0.0.1:PORT)", spec);
			snprintf(host, sizeof(host), "%.*s", (int)(colon - h), h);
		}
		if (strcmp(host, "localhost") == 0)
			snprintf(host, sizeof(host), "127.0.0.1");
		port = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || port == 0 || port > 65535)
			die("bad port in %s", spec);
		if (strchr(host, ':') != NULL) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&opt.sa;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)port);
			if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
				die("bad address in %s", spec);
			opt.salen = sizeof(*s6);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&opt.sa;
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)port);
			if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
				die("bad address in %s (numeric only)", spec);
			opt.salen = sizeof(*s4);
		}
	} else
		die("target must be tcp:HOST:PORT or unix:PATH, not %s", spec);
	if (!is_loopback(&opt.sa))
		die("refusing non-loopback target %s", spec);
	opt.family = opt.sa.ss_family;
}

static int
conn_open(struct conn *c, unsigned idx)
{
	int fd, one = 1;
	struct epoll_event ev;

	fd = socket(opt.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	/* Blocking connect: loopback, done before timing starts. */
	for (int tries = 0; connect(fd, (struct sockaddr *)&opt.sa,
	    opt.salen) < 0; tries++) {
		if ((errno != EAGAIN && errno != ECONNREFUSED &&
		    errno != EINTR) || tries >= 50) {
			fprintf(stderr, "policy-load: connect %s: %s\n",
			    opt.target, strerror(errno));
			close(fd);
			return -1;
		}
		usleep(20000);
	}
	if (opt.family != AF_UNIX && opt.nodelay)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	c->fd = fd;
	c->busy = false;
	c->inlen = 0;
	ev.events = EPOLLIN;
	ev.data.u32 = idx;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	return 0;
}

static void
conn_reset(struct conn *c, unsigned idx, uint64_t *counter,
    const char *why)
{
	(*counter)++;
	if (++total_errors > LOAD_MAX_ERRORS)
		die("more than %d connection errors (last: %s)",
		    LOAD_MAX_ERRORS, why);
	if (total_errors <= 5)
		fprintf(stderr, "policy-load: connection %u: %s; reconnecting\n",
		    idx, why);
	close(c->fd);
	c->fd = -1;
	c->busy = false;
	if (conn_open(c, idx) < 0)
		die("cannot reconnect to %s", opt.target);
}

static void
conn_set_out(struct conn *c, unsigned idx, bool want)
{
	struct epoll_event ev;

	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	ev.data.u32 = idx;
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* 0 ok (sent or waiting for EPOLLOUT), -1 error. */
static int
conn_write(struct conn *c, unsigned idx)
{
	const struct req *r = &table[c->req];

	while (c->sent < r->len) {
		ssize_t n = send(c->fd, r->text + c->sent, r->len - c->sent,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				conn_set_out(c, idx, true);
				return 0;
			}
			return -1;
		}
		c->sent += (size_t)n;
	}
	return 0;
}

static int
conn_send(struct conn *c, unsigned idx, uint32_t req)
{
	c->req = req;
	c->sent = 0;
	c->busy = true;
	c->inlen = 0;
	c->t0 = now_ns();
	return conn_write(c, idx);
}

/* Checks the answer in c->in (complete: ends with "\n\n"). */
static void
check_answer(struct conn *c, struct phase_result *pr)
{
	const struct req *r = &table[c->req];
	const char *nl;
	enum aclass got, want;

	nl = memchr(c->in, '\n', c->inlen);
	if (c->inlen < 9 || strncmp(c->in, "action=", 7) != 0 ||
	    nl == NULL || (size_t)(nl - c->in) + 2 != c->inlen) {
		pr->malformed++;
		if (shown++ < LOAD_MAX_SHOWN)
			fprintf(stderr, "policy-load: malformed answer for %s: "
			    "\"%.*s\"\n", pool[r->client].addr,
			    (int)(c->inlen > 200 ? 200 : c->inlen), c->in);
		return;
	}
	got = classify(c->in + 7, (size_t)(nl - c->in) - 7);
	pr->cls[got]++;
	if (opt.model == M_NONE)
		return;
	want = expected(r);
	if (got != want) {
		pr->mismatches++;
		if (shown++ < LOAD_MAX_SHOWN)
			fprintf(stderr, "policy-load: mismatch: client %s%s: "
			    "expected %s, got \"%.*s\"\n", pool[r->client].addr,
			    r->sasl ? " (sasl)" : "", aclass_name(want),
			    (int)(nl - c->in > 160 ? 160 : nl - c->in), c->in);
	}
}

/*
 * Sends count requests over all connections (stopping early at the time
 * cap), recording latencies when rec. Table indices: sequential from
 * *next when seq, else random per connection.
 */
static void
run_phase(uint64_t count, double cap_s, bool rec, bool seq,
    struct phase_result *pr)
{
	struct epoll_event evs[256];
	uint64_t issued = 0, done = 0, t_start, t_end, deadline;
	uint64_t timeout_ns = (uint64_t)(opt.timeout * 1e9);
	static uint32_t next_seq;

	memset(pr, 0, sizeof(*pr));
	t_start = now_ns();
	deadline = t_start + (uint64_t)(cap_s * 1e9);
	for (unsigned i = 0; i < opt.nconns && issued < count; i++) {
		uint32_t q = seq ? next_seq++ % LOAD_TABLE_SIZE :
		    (uint32_t)(rng_next(&conns[i].rng) % LOAD_TABLE_SIZE);
		issued++;
		if (conn_send(&conns[i], i, q) < 0)
			conn_reset(&conns[i], i, &pr->errors, "send failed");
	}
	while (done + pr->errors + pr->timeouts < issued) {
		int n = epoll_wait(epfd, evs, 256, 100);
		uint64_t t;

		if (n < 0 && errno != EINTR)
			die("epoll_wait: %s", strerror(errno));
		t = now_ns();
		for (int k = 0; k < n; k++) {
			unsigned idx = evs[k].data.u32;
			struct conn *c = &conns[idx];
			bool more;

			if (evs[k].events & EPOLLOUT) {
				conn_set_out(c, idx, false);
				if (conn_write(c, idx) < 0) {
					conn_reset(c, idx, &pr->errors, "send failed");
					continue;
				}
			}
			if (!(evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
				continue;
			ssize_t r = recv(c->fd, c->in + c->inlen,
			    sizeof(c->in) - c->inlen, 0);
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (r <= 0) {
				conn_reset(c, idx, &pr->errors, r == 0 ?
				    "closed by server" : strerror(errno));
				continue;
			}
			if (!c->busy) {
				conn_reset(c, idx, &pr->errors, "unsolicited data");
				continue;
			}
			c->inlen += (size_t)r;
			if (c->inlen < 2 || c->in[c->inlen - 1] != '\n' ||
			    c->in[c->inlen - 2] != '\n') {
				if (c->inlen == sizeof(c->in))
					conn_reset(c, idx, &pr->errors, "answer too long");
				continue;
			}
			t = now_ns();
			if (rec)
				hist_add(&hist, t - c->t0);
			check_answer(c, pr);
			c->busy = false;
			done++;
			more = issued < count && t < deadline && !stop_flag;
			if (!more)
				continue;
			issued++;
			if (conn_send(c, idx, seq ? next_seq++ % LOAD_TABLE_SIZE :
			    (uint32_t)(rng_next(&c->rng) % LOAD_TABLE_SIZE)) < 0)
				conn_reset(c, idx, &pr->errors, "send failed");
		}
		/* Requests that got no answer in time; idle connections
		   start again while the phase still needs requests. */
		for (unsigned i = 0; i < opt.nconns; i++) {
			struct conn *c = &conns[i];

			if (c->busy && t > c->t0 && t - c->t0 > timeout_ns) {
				conn_reset(c, i, &pr->timeouts, "answer timeout");
			}
			if (!c->busy && issued < count && t < deadline &&
			    !stop_flag) {
				issued++;
				if (conn_send(c, i, seq ?
				    next_seq++ % LOAD_TABLE_SIZE :
				    (uint32_t)(rng_next(&c->rng) %
				    LOAD_TABLE_SIZE)) < 0)
					conn_reset(c, i, &pr->errors, "send failed");
			}
		}
	}
	t_end = now_ns();
	pr->done = done;
	pr->seconds = (double)(t_end - t_start) / 1e9;
	pr->capped = issued < count;
}

static void
usage(void)
{
	fputs("usage: policy-load -t tcp:127.0.0.1:PORT|unix:PATH --ips FILE\n"
	    "         [-c CONNS] [-n REQUESTS] [-w WARMUP] [-d SECONDS]\n"
	    "         [--timeout SECONDS] [--sasl-frac F] [--seed N]\n"
	    "         [--verify rules|dnsbl] [--no-nodelay]\n"
	    "         [--shape postfix|shuffled]\n"
	    "       policy-load --fixtures DIR [--pool N] [--seed N]\n"
	    "  -n is the total over all connections; -d caps the timed phase;\n"
	    "  --verify rules: allow > deny > sasl_username > DNSBL > DUNNO;\n"
	    "  --verify dnsbl: DNSBL-listed -> reject, else pass;\n"
	    "  --shape shuffled: 32 attributes in a random order per request.\n",
	    stderr);
	exit(2);
}

static double
num_arg(const char *s, const char *name)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || v < 0)
		die("%s: not a number: %s", name, s);
	return v;
}

int
main(int argc, char **argv)
{
	const char *fixtures = NULL;
	size_t pool_size = 1000;
	struct phase_result warm, pr;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define NEED_ARG() do { if (v == NULL) usage(); i++; } while (0)
		if (strcmp(a, "-t") == 0) {
			NEED_ARG(); opt.target = v;
		} else if (strcmp(a, "-c") == 0) {
			NEED_ARG(); opt.nconns = (unsigned)num_arg(v, a);
		} else if (strcmp(a, "-n") == 0) {
			NEED_ARG(); opt.requests = (uint64_t)num_arg(v, a);
		} else if (strcmp(a, "-w") == 0) {
			NEED_ARG(); opt.warmup = (uint64_t)num_arg(v, a);
		} else if (strcmp(a, "-d") == 0) {
			NEED_ARG(); opt.duration = num_arg(v, a);
		} else if (strcmp(a, "--timeout") == 0) {
			NEED_ARG(); opt.timeout = num_arg(v, a);
		} else if (strcmp(a, "--sasl-frac") == 0) {
			NEED_ARG(); opt.sasl_frac = num_arg(v, a);
		} else if (strcmp(a, "--seed") == 0) {
			NEED_ARG(); opt.seed = (uint64_t)num_arg(v, a);
		} else if (strcmp(a, "--ips") == 0) {
			NEED_ARG(); opt.ips = v;
		} else if (strcmp(a, "--pool") == 0) {
			NEED_ARG(); pool_size = (size_t)num_arg(v, a);
		} else if (strcmp(a, "--fixtures") == 0) {
			NEED_ARG(); fixtures = v;
		} else if (strcmp(a, "--verify") == 0) {
			NEED_ARG();
			if (strcmp(v, "rules") == 0)
				opt.model = M_RULES;
			else if (strcmp(v, "dnsbl") == 0)
				opt.model = M_DNSBL;
			else if (strcmp(v, "none") == 0)
				opt.model = M_NONE;
			else
				die("--verify: rules, dnsbl or none");
		} else if (strcmp(a, "--shape") == 0) {
			NEED_ARG();
			if (strcmp(v, "postfix") == 0)
				opt.shuffled = false;
			else if (strcmp(v, "shuffled") == 0)
				opt.shuffled = true;
			else
				die("--shape: postfix or shuffled");
		} else if (strcmp(a, "--no-nodelay") == 0) {
			opt.nodelay = false;
		} else
			usage();
#undef NEED_ARG
	}
	if (fixtures != NULL) {
		write_fixtures(fixtures, pool_size, opt.seed);
		return 0;
	}
	if (opt.target == NULL || opt.ips == NULL)
		usage();
	if (opt.nconns < 1 || opt.nconns > LOAD_MAX_CONNS)
		die("-c: 1 to %d connections", LOAD_MAX_CONNS);
	if (opt.duration <= 0 || opt.duration > 3600)
		die("-d: 0 to 3600 seconds");
	if (opt.requests < 1 || opt.requests > 1000000000)
		die("-n: 1 to 1e9 requests");
	parse_target(opt.target);
	read_pool(opt.ips);
	build_table();

	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
	conns = calloc(opt.nconns, sizeof(*conns));
	if (conns == NULL)
		die("out of memory");
	for (unsigned i = 0; i < opt.nconns; i++) {
		conns[i].rng = opt.seed * 1000003u + i * 7919u + 1;
		if (conn_open(&conns[i], i) < 0)
			die("cannot connect to %s", opt.target);
	}

	memset(&warm, 0, sizeof(warm));
	if (opt.warmup > 0)
		run_phase(opt.warmup, 3 * opt.duration + 30, false, true, &warm);
	run_phase(opt.requests, opt.duration, true, false, &pr);

	double rps = pr.seconds > 0 ? (double)pr.done / pr.seconds : 0;
	uint64_t mism = warm.mismatches + pr.mismatches;
	uint64_t malf = warm.malformed + pr.malformed;

	printf("target=%s conns=%u requests=%" PRIu64 " seconds=%.3f rps=%.1f "
	    "p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
	    "mean_us=%.1f errors=%" PRIu64 " timeouts=%" PRIu64
	    " malformed=%" PRIu64 " mismatches=%" PRIu64 " verified=%" PRIu64
	    " pass=%" PRIu64 " reject=%" PRIu64 " defer=%" PRIu64
	    " other=%" PRIu64 " capped=%d warmup=%" PRIu64 "\n",
	    opt.target, opt.nconns, pr.done, pr.seconds, rps,
	    hist_quantile(&hist, 0.50) / 1e3, hist_quantile(&hist, 0.90) / 1e3,
	    hist_quantile(&hist, 0.99) / 1e3, hist_quantile(&hist, 0.999) / 1e3,
	    (double)hist.max / 1e3,
	    hist.n ? (double)hist.sum / (double)hist.n / 1e3 : 0.0,
	    warm.errors + pr.errors, warm.timeouts + pr.timeouts, malf, mism,
	    opt.model == M_NONE ? 0 : warm.done + pr.done,
	    warm.cls[A_PASS] + pr.cls[A_PASS],
	    warm.cls[A_REJECT] + pr.cls[A_REJECT],
	    warm.cls[A_DEFER] + pr.cls[A_DEFER],
	    warm.cls[A_OTHER] + pr.cls[A_OTHER], pr.capped ? 1 : 0, warm.done);
	fprintf(stderr, "policy-load: %s, %u conns: %" PRIu64 " requests in "
	    "%.2f s = %.0f req/s; p50 %.1f us, p99 %.1f us, p99.9 %.1f us, "
	    "max %.1f us%s\n", opt.target, opt.nconns, pr.done, pr.seconds, rps,
	    hist_quantile(&hist, 0.50) / 1e3, hist_quantile(&hist, 0.99) / 1e3,
	    hist_quantile(&hist, 0.999) / 1e3, (double)hist.max / 1e3,
	    pr.capped ? " (time-capped)" : "");
	return (malf > 0 || pr.done == 0) ? 1 : 0;
}
