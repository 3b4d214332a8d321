/*
 * cmd_logscan - `mailward logscan FILE...`: the daemon's log patterns run
 * offline over mail logs (no daemon needed), with the bans the login
 * guard would make, like fail2ban-regex but with verdicts.
 *
 * Each file is mapped (mmap) and scanned with the pattern set's anchor
 * prefilter (logpat_next_candidate): only lines holding an anchor are
 * cut out and matched, nothing is allocated per line. Failures go to the
 * login guard's rules with the line's own time, in file order.
 *
 * The verdicts are the login guard's own rules (engine/bruteforce.h, the
 * code mailwardd runs) with [login] from the configuration file (or the
 * defaults): address, network, spraying and distributed-attack rules,
 * with their sliding windows. --simple replaces them by one exact
 * per-address window (N failures within W), fail2ban's maxretry/findtime
 * semantics, for comparisons.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/addr.h"
#include "core/cfg.h"
#include "engine/bruteforce.h"
#include "core/slice.h"
#include "sources/logpat.h"

#define LOGSCAN_MAX_FILES	256
#define LOGSCAN_TOP_DEFAULT	20
#define LOGSCAN_DEDUP_SLOTS	65536
#define LOGSCAN_RING_MAX	1000	/* largest --ban-after with --simple */
#define LOGSCAN_MAX_NETBANS	100000	/* network bans listed */
#define LOGSCAN_STREAM_CHUNK	(4u << 20)	/* bytes per read from a pipe */

static const char logscan_help[] =
"usage: mailward logscan FILE... [--since TIME] [--patterns LIST]\n"
"                        [--ban-after N] [--window DURATION] [--simple]\n"
"                        [--top N] [--bans-only] [--json]\n"
"\n"
"Runs mailwardd's log patterns over mail log files, offline (the daemon\n"
"is not needed): counts the authentication failures per rule and per\n"
"client address, and lists the bans the login guard would make: its own\n"
"rules (per address, per network, spraying) with [login] from the\n"
"configuration file (-c; the built-in defaults when there is none),\n"
"replaying every failure at the time written in its line. Lines without\n"
"a readable time are counted but cannot be placed in a window.\n"
"\n"
"Syslog times have no year: a line gets the year that puts it at most one\n"
"day after the file's modification time. Zoneless times are local (TZ).\n"
"\n"
"options:\n"
"  --since TIME       ignore failures before TIME: a duration ago (2h, 7d),\n"
"                     unix seconds, or local YYYY-MM-DD[THH:MM[:SS]]\n"
"  --patterns LIST    pattern sets, comma or space separated (default all):\n"
"                     postfix dovecot exim courier cyrus sendmail\n"
"                     roundcube sogo webmail other all\n"
"  --ban-after N      failures from one address that make a ban (overrides\n"
"                     [login] ban_after, default 10)\n"
"  --window DURATION  the rules' sliding window (overrides [login] window,\n"
"                     default 10m)\n"
"  --simple           only one exact per-address window: a ban at the\n"
"                     failure that makes N within DURATION (fail2ban's\n"
"                     maxretry/findtime), no network or spraying rules\n"
"  --top N            addresses listed by failures (default 20, 0 = all)\n"
"  --bans-only        print only the bans, one per line: \"ADDR<TAB>ban\n"
"                     time<TAB>failures then\" (networks as ADDR/LEN)\n"
"  --json             one JSON object: files, lines, rules, addresses, bans\n"
"\n"
"FILE - reads standard input (e.g. zcat mail.log.2.gz | mailward logscan -);\n"
"syslog years are then counted back from now.\n"
"\n"
"exit status: 0 scanned (bans or not), 1 a file could not be read,\n"
"64 usage error, 78 configuration file errors.\n"
"\n"
"examples:\n"
"  mailward logscan /var/log/mail.log /var/log/mail.log.1\n"
"  mailward logscan --since 1d --patterns postfix,dovecot /var/log/mail.log\n";

static const char usage_logscan[] = "mailward logscan FILE... [--since TIME] "
    "[--patterns LIST] [--ban-after N] [--window DURATION] [--simple] "
    "[--top N] [--bans-only] [--json]";

/* One address's failures (failures in file order). */
struct ls_host {
	struct mw_addr	 addr;
	bool		 used;
	bool		 banned;
	uint32_t	 failures;
	uint32_t	 ring_next;
	int64_t		*ring;		/* times (ms) of the last ban_after failures */
	int64_t		 first_ms, last_ms, ban_ms;
	uint32_t	 failures_at_ban;
	char		*ban_reason;	/* the rule's sentence (malloc'd) */
};

struct ls_netban {
	struct mw_cidr	 net;
	int64_t		 ban_ms;
	char		*reason;
};

struct ls_rule_count {
	const char	*rule;
	uint64_t	 n;
};

struct ls {
	struct logpat		*lp;
	struct logpat_dedup	*dedup;
	struct bf		*bf;		/* NULL: --simple */
	uint32_t		 ban_after;
	int64_t			 window_ms;
	struct ls_netban	*netbans;
	size_t			 nnetbans, netbans_cap;
	uint64_t		 accounts_attacked;
	int64_t			 since_ms;
	struct ls_host		*hosts;
	size_t			 nhosts, cap;
	struct ls_rule_count	 rules[64];
	size_t			 nrules;
	uint64_t		 lines, bytes, failures, attempts, no_time,
				 overlong, before_since, repeats;
	size_t			 nbans;
};

static struct ls_host *
ls_host_get(struct ls *ls, const struct mw_addr *a)
{
	size_t mask, i;

	if ((ls->nhosts + 1) * 2 > ls->cap) {
		struct ls_host *old = ls->hosts;
		size_t oldcap = ls->cap;

		ls->cap = ls->cap == 0 ? 1024 : ls->cap * 2;
		ls->hosts = mw_calloc(ls->cap, sizeof(*ls->hosts));
		for (size_t j = 0; j < oldcap; j++) {
			if (!old[j].used)
				continue;
			i = mw_addr_hash(&old[j].addr) & (ls->cap - 1);
			while (ls->hosts[i].used)
				i = (i + 1) & (ls->cap - 1);
			ls->hosts[i] = old[j];
		}
		free(old);
	}
	mask = ls->cap - 1;
	i = mw_addr_hash(a) & mask;
	while (ls->hosts[i].used) {
		if (mw_addr_cmp(&ls->hosts[i].addr, a) == 0)
			return &ls->hosts[i];
		i = (i + 1) & mask;
	}
	ls->hosts[i].used = true;
	ls->hosts[i].addr = *a;
	if (ls->bf == NULL)
		ls->hosts[i].ring = mw_calloc(ls->ban_after, sizeof(int64_t));
	ls->nhosts++;
	return &ls->hosts[i];
}

static void
ls_ban_host(struct ls *ls, struct ls_host *h, int64_t t_ms, const char *why)
{
	h->banned = true;
	h->ban_ms = t_ms;
	h->failures_at_ban = h->failures;
	h->ban_reason = mw_strdup(why);
	ls->nbans++;
}

static void
ls_ban_net(struct ls *ls, const struct mw_cidr *net, int64_t t_ms,
    const char *why)
{
	for (size_t i = 0; i < ls->nnetbans; i++)
		if (mw_addr_cmp(&ls->netbans[i].net.addr, &net->addr) == 0 &&
		    ls->netbans[i].net.bits == net->bits)
			return;	/* the first ban of a network is the one listed */
	if (ls->nnetbans == LOGSCAN_MAX_NETBANS)
		return;
	if (ls->nnetbans == ls->netbans_cap) {
		ls->netbans_cap = ls->netbans_cap == 0 ? 16 : ls->netbans_cap * 2;
		ls->netbans = mw_realloc(ls->netbans, mw_mul_size(ls->netbans_cap,
		    sizeof(*ls->netbans)));
	}
	ls->netbans[ls->nnetbans++] = (struct ls_netban){ *net, t_ms,
	    mw_strdup(why) };
}

/* The login guard's verdict on one failure at t_ms: the engine's rules,
   or with --simple one exact window per address. */
static void
logscan_guard_report(struct ls *ls, struct ls_host *h, int64_t t_ms,
    bool has_time, const char *account, const char *service)
{
	int64_t oldest;

	h->failures++;
	if (h->first_ms == 0 || (has_time && t_ms < h->first_ms))
		h->first_ms = t_ms;
	if (has_time && t_ms > h->last_ms)
		h->last_ms = t_ms;
	if (!has_time)
		return;
	if (ls->bf != NULL) {
		struct bf_attempt at = { .addr = h->addr, .account = account,
		    .service = service, .phase = BF_FAILURE, .common_pw = -1,
		    .now = t_ms / 1000 };
		struct bf_result r;

		bf_report(ls->bf, &at, &r);
		if (r.ban_address && !h->banned)
			ls_ban_host(ls, h, t_ms, r.address_reason);
		if (r.ban_network)
			ls_ban_net(ls, &r.network, t_ms, r.network_reason);
		ls->accounts_attacked += r.account_attacked;
		return;
	}
	if (h->banned)
		return;
	h->ring[h->ring_next] = t_ms;
	h->ring_next = (h->ring_next + 1) % ls->ban_after;
	if (h->failures < ls->ban_after)
		return;
	/* the slot written next holds the ban_after-th newest failure */
	oldest = h->ring[h->ring_next];
	if (oldest != 0 && t_ms - oldest <= ls->window_ms)
		ls_ban_host(ls, h, t_ms, "failures within the window");
}

static void
ls_count_rule(struct ls *ls, const char *rule)
{
	for (size_t i = 0; i < ls->nrules; i++)
		if (ls->rules[i].rule == rule) {
			ls->rules[i].n++;
			return;
		}
	if (ls->nrules < MW_N_ELEMENTS(ls->rules))
		ls->rules[ls->nrules++] = (struct ls_rule_count){ rule, 1 };
}

static void
ls_line(struct ls *ls, struct mw_slice line, struct logpat_clock *clk)
{
	struct logpat_match m;
	struct ls_host *h;
	char account[LOGPAT_MAX_ACCOUNT + 1] = "";
	uint32_t n;

	if (line.len > LOGPAT_MAX_LINE) {
		ls->overlong++;
		return;
	}
	if (!logpat_match(ls->lp, line, clk, &m))
		return;
	if (m.has_time && m.time_ms < ls->since_ms) {
		ls->before_since++;
		return;
	}
	ls->failures++;
	ls_count_rule(ls, m.rule);
	if (!m.has_time)
		ls->no_time++;
	n = logpat_dedup_attempts(ls->dedup, &m);
	if (n == 0)
		ls->repeats++;
	h = ls_host_get(ls, &m.addr);
	memcpy(account, m.account.ptr, m.account.len);	/* <= LOGPAT_MAX_ACCOUNT */
	account[m.account.len] = '\0';
	for (uint32_t i = 0; i < n; i++) {
		ls->attempts++;
		logscan_guard_report(ls, h, m.has_time ? m.time_ms : 0, m.has_time,
		    account, m.service);
	}
}

static size_t
count_lf(const char *p, size_t len)
{
	size_t n = 0;
	const char *end = p + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* Scans buf[0..len), whole lines (the last may lack its LF). */
static void
ls_scan(struct ls *ls, const char *buf, size_t len, struct logpat_clock *clk)
{
	size_t pos = 0;

	while (pos < len) {
		size_t c = logpat_next_candidate(ls->lp, buf, len, pos);
		size_t start = c, end;
		const char *nl;

		if (c >= len) {
			ls->lines += count_lf(buf + pos, len - pos);
			if (buf[len - 1] != '\n')
				ls->lines++;
			break;
		}
		while (start > pos && buf[start - 1] != '\n')
			start--;
		nl = memchr(buf + c, '\n', len - c);
		end = nl != NULL ? (size_t)(nl - buf) : len;
		ls->lines += count_lf(buf + pos, start - pos) + 1;
		ls_line(ls, (struct mw_slice){ buf + start, end - start }, clk);
		pos = end + 1;
	}
}

/* "-", a pipe (zcat mail.log.2.gz | mailward logscan -): read in chunks
   of whole lines; a line longer than LOGPAT_MAX_LINE is skipped. */
static int
ls_stream(struct ls *ls, int fd, const char *name)
{
	struct logpat_clock	 clk = { .ref_s = (int64_t)time(NULL) };
	size_t			 cap = LOGSCAN_STREAM_CHUNK + LOGPAT_MAX_LINE + 1;
	char			*buf = mw_malloc(cap);
	size_t			 have = 0;
	bool			 skipping = false;
	ssize_t			 n;

	for (;;) {
		char *last;

		n = read(fd, buf + have, cap - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cli_error("logscan: %s: %s", name, strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		ls->bytes += (uint64_t)n;
		have += (size_t)n;
		if ((last = memrchr(buf, '\n', have)) == NULL) {
			if (have > LOGPAT_MAX_LINE) {	/* inside an overlong line */
				if (!skipping)
					ls->overlong++;
				skipping = true;
				have = 0;
			}
			continue;
		}
		{
			size_t whole = (size_t)(last + 1 - buf), from = 0;

			if (skipping) {	/* the end of the overlong line */
				from = (size_t)((char *)memchr(buf, '\n', whole) -
				    buf) + 1;
				ls->lines++;
				skipping = false;
			}
			ls_scan(ls, buf + from, whole - from, &clk);
			memmove(buf, buf + whole, have - whole);
			have -= whole;
		}
	}
	if (have > 0 && !skipping)
		ls_scan(ls, buf, have, &clk);
	free(buf);
	return 0;
}

static int
ls_file(struct ls *ls, const char *path)
{
	struct logpat_clock clk = { 0 };
	struct stat st;
	const char *buf;
	size_t len;
	int fd, r;

	if (strcmp(path, "-") == 0)
		return ls_stream(ls, STDIN_FILENO, "standard input");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		cli_error("logscan: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		cli_error("logscan: %s: %s", path, strerror(errno));
		(void)close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		r = ls_stream(ls, fd, path);
		(void)close(fd);
		return r;
	}
	clk.ref_s = (int64_t)st.st_mtime;
	len = (size_t)st.st_size;
	if (len == 0) {
		(void)close(fd);
		return 0;
	}
	buf = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
	(void)close(fd);
	if (buf == MAP_FAILED) {
		cli_error("logscan: %s: mmap: %s", path, strerror(errno));
		return -1;
	}
	(void)madvise((void *)buf, len, MADV_SEQUENTIAL);
	ls->bytes += len;
	ls_scan(ls, buf, len, &clk);
	(void)munmap((void *)buf, len);
	return 0;
}

static int
ls_host_cmp_failures(const void *a, const void *b)
{
	const struct ls_host *x = *(const struct ls_host *const *)a;
	const struct ls_host *y = *(const struct ls_host *const *)b;

	if (x->failures != y->failures)
		return x->failures > y->failures ? -1 : 1;
	return mw_addr_cmp(&x->addr, &y->addr);
}

static int
ls_host_cmp_ban(const void *a, const void *b)
{
	const struct ls_host *x = *(const struct ls_host *const *)a;
	const struct ls_host *y = *(const struct ls_host *const *)b;

	if (x->ban_ms != y->ban_ms)
		return x->ban_ms < y->ban_ms ? -1 : 1;
	return mw_addr_cmp(&x->addr, &y->addr);
}

static const char *
ms_local(int64_t ms, char *buf, size_t size)
{
	return time_local(ms / 1000, buf, size);
}

static void
ls_print_json(struct ls *ls, struct ls_host **by_fail, struct ls_host **bans,
    size_t top, double secs, size_t nfiles, const char *cfg_from, bool simple)
{
	json_t *o = json_object(), *rules = json_object(), *hosts = json_array(),
	    *jb = json_array();
	char a[MW_ADDR_STRLEN];

	json_object_set_new(o, "files", json_integer((json_int_t)nfiles));
	json_object_set_new(o, "lines", json_integer((json_int_t)ls->lines));
	json_object_set_new(o, "bytes", json_integer((json_int_t)ls->bytes));
	json_object_set_new(o, "seconds", json_real(secs));
	json_object_set_new(o, "failures", json_integer((json_int_t)ls->failures));
	json_object_set_new(o, "attempts", json_integer((json_int_t)ls->attempts));
	json_object_set_new(o, "repeated_summaries",
	    json_integer((json_int_t)ls->repeats));
	json_object_set_new(o, "without_time", json_integer((json_int_t)ls->no_time));
	json_object_set_new(o, "overlong_lines",
	    json_integer((json_int_t)ls->overlong));
	json_object_set_new(o, "rules", json_string(simple ? "simple" : "login"));
	json_object_set_new(o, "rules_from", json_string(cfg_from));
	json_object_set_new(o, "ban_after", json_integer(ls->ban_after));
	json_object_set_new(o, "window_s", json_integer(ls->window_ms / 1000));
	json_object_set_new(o, "accounts_attacked",
	    json_integer((json_int_t)ls->accounts_attacked));
	for (size_t i = 0; i < ls->nrules; i++)
		json_object_set_new(rules, ls->rules[i].rule,
		    json_integer((json_int_t)ls->rules[i].n));
	json_object_set_new(o, "matches_per_rule", rules);
	for (size_t i = 0; i < top; i++) {
		json_t *h = json_object();

		json_object_set_new(h, "address", json_string(mw_addr_format(
		    &by_fail[i]->addr, a, sizeof(a))));
		json_object_set_new(h, "failures", json_integer(by_fail[i]->failures));
		json_object_set_new(h, "first_ms", json_integer(by_fail[i]->first_ms));
		json_object_set_new(h, "last_ms", json_integer(by_fail[i]->last_ms));
		json_object_set_new(h, "banned", json_boolean(by_fail[i]->banned));
		json_array_append_new(hosts, h);
	}
	json_object_set_new(o, "addresses", hosts);
	for (size_t i = 0; i < ls->nbans; i++) {
		json_t *b = json_object();

		json_object_set_new(b, "address", json_string(mw_addr_format(
		    &bans[i]->addr, a, sizeof(a))));
		json_object_set_new(b, "ban_ms", json_integer(bans[i]->ban_ms));
		json_object_set_new(b, "failures_at_ban",
		    json_integer(bans[i]->failures_at_ban));
		json_object_set_new(b, "failures", json_integer(bans[i]->failures));
		json_object_set_new(b, "reason", json_string(bans[i]->ban_reason));
		json_array_append_new(jb, b);
	}
	json_object_set_new(o, "bans", jb);
	jb = json_array();
	for (size_t i = 0; i < ls->nnetbans; i++) {
		char net[MW_CIDR_STRLEN];

		json_array_append_new(jb, json_pack("{s:s, s:I, s:s}", "network",
		    mw_cidr_format(&ls->netbans[i].net, net, sizeof(net)),
		    "ban_ms", (json_int_t)ls->netbans[i].ban_ms, "reason",
		    ls->netbans[i].reason));
	}
	json_object_set_new(o, "network_bans", jb);
	cli_print_json(o);
	json_decref(o);
}

static void
ls_print_human(struct ls *ls, struct ls_host **by_fail, struct ls_host **bans,
    size_t top, double secs, size_t nfiles, const char *cfg_from, bool simple)
{
	static const char *const rh[] = { "RULE", "MATCHES" };
	static const char *const hh[] = { "ADDRESS", "FAILURES", "FIRST", "LAST",
	    "VERDICT" };
	static const char *const bh[] = { "ADDRESS", "BANNED AT",
	    "FAILURES THEN", "FAILURES IN ALL", "REASON" };
	static const char *const nh[] = { "NETWORK", "BANNED AT", "REASON" };
	struct table *t;
	char a[MW_ADDR_STRLEN], n[32], n2[32], t1[32], t2[32], win[32];

	printf("%llu lines (%.1f MB) in %zu file%s, %.2f s (%.0f lines/s)\n",
	    (unsigned long long)ls->lines, (double)ls->bytes / 1e6, nfiles,
	    nfiles == 1 ? "" : "s", secs, secs > 0 ? (double)ls->lines / secs : 0);
	printf("%llu failure lines, %llu attempts, from %zu addresses",
	    (unsigned long long)ls->failures, (unsigned long long)ls->attempts,
	    ls->nhosts);
	if (ls->repeats > 0)
		printf(" (%llu Dovecot summaries repeated attempts already "
		    "counted)", (unsigned long long)ls->repeats);
	printf("\n");
	if (ls->no_time > 0)
		printf("warning: %llu failure lines without a readable time (not "
		    "in any window)\n", (unsigned long long)ls->no_time);
	if (ls->overlong > 0)
		printf("warning: %llu lines longer than %d bytes skipped\n",
		    (unsigned long long)ls->overlong, LOGPAT_MAX_LINE);
	if (ls->before_since > 0)
		printf("%llu failures before --since ignored\n",
		    (unsigned long long)ls->before_since);
	printf("\nmatches per rule:\n");
	t = table_new(2, rh);
	for (size_t i = 0; i < ls->nrules; i++) {
		const char *cells[2] = { ls->rules[i].rule, n };

		(void)snprintf(n, sizeof(n), "%llu",
		    (unsigned long long)ls->rules[i].n);
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(&t);
	printf("\naddresses by failures (%zu of %zu):\n", top, ls->nhosts);
	t = table_new(5, hh);
	for (size_t i = 0; i < top; i++) {
		struct ls_host *h = by_fail[i];
		const char *cells[5] = { mw_addr_format(&h->addr, a, sizeof(a)), n,
		    ms_local(h->first_ms, t1, sizeof(t1)),
		    ms_local(h->last_ms, t2, sizeof(t2)),
		    h->banned ? "BAN" : "below threshold" };

		(void)snprintf(n, sizeof(n), "%u", h->failures);
		table_add(t, cells);
	}
	table_print(t, stdout);
	table_free(&t);
	(void)mw_format_duration((uint64_t)(ls->window_ms / 1000), win,
	    sizeof(win));
	if (simple)
		printf("\nbans of one exact window per address (%u failures within "
		    "%s): %zu\n", ls->ban_after, win, ls->nbans);
	else
		printf("\nbans the login guard would make (its rules, [login] from "
		    "%s; ban_after %u, window %s): %zu addresses, %zu networks\n",
		    cfg_from, ls->ban_after, win, ls->nbans, ls->nnetbans);
	if (ls->accounts_attacked > 0)
		printf("accounts under a distributed attack (their logins from new "
		    "addresses would be tarpitted or refused): %llu\n",
		    (unsigned long long)ls->accounts_attacked);
	if (ls->nbans > 0) {
		t = table_new(5, bh);
		for (size_t i = 0; i < ls->nbans; i++) {
			struct ls_host *h = bans[i];
			const char *cells[5] = { mw_addr_format(&h->addr, a,
			    sizeof(a)), ms_local(h->ban_ms, t1, sizeof(t1)), n, n2,
			    h->ban_reason };

			(void)snprintf(n, sizeof(n), "%u", h->failures_at_ban);
			(void)snprintf(n2, sizeof(n2), "%u", h->failures);
			table_add(t, cells);
		}
		table_print(t, stdout);
		table_free(&t);
	}
	if (ls->nnetbans > 0) {
		char net[MW_CIDR_STRLEN];

		printf("\n");
		t = table_new(3, nh);
		for (size_t i = 0; i < ls->nnetbans; i++) {
			const char *cells[3] = { mw_cidr_format(&ls->netbans[i].net,
			    net, sizeof(net)), ms_local(ls->netbans[i].ban_ms, t1,
			    sizeof(t1)), ls->netbans[i].reason };

			table_add(t, cells);
		}
		table_print(t, stdout);
		table_free(&t);
	}
}

static unsigned
ls_parse_sets(const char *list)
{
	unsigned sets = 0;
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ", ");
		unsigned s;

		if (n > 0) {
			if ((s = logpat_set_parse((struct mw_slice){ p, n })) == 0)
				return 0;
			sets |= s;
		}
		p += n;
		p += strspn(p, ", ");
	}
	return sets;
}

/* [login] from the configuration file: -c or MAILWARD_CONF must load; the
   default path is used when it exists, else the built-in defaults. */
static int
ls_load_cfg(struct cli *c, struct cfg **cfg_r, const char **from_r)
{
	char *error = NULL;

	if (!c->config_given && access(c->config_path, F_OK) < 0) {
		*cfg_r = cfg_defaults();
		*from_r = "built-in defaults";
		return 0;
	}
	if (cfg_load(c->config_path, cfg_r, &error) < 0) {
		fprintf(stderr, "%s\n", error != NULL ? error : "");
		cli_error("logscan: %s has errors (its [login] rules are used; "
		    "fix it, or pass another with -c)", c->config_path);
		free(error);
		return -1;
	}
	*from_r = c->config_path;
	return 0;
}

int
cmd_logscan(struct cli *c, int argc, char **argv)
{
	const char	*since = NULL, *patterns = NULL, *ban_after = NULL,
			*window = NULL, *top_s = NULL, *pos[LOGSCAN_MAX_FILES];
	bool		 bans_only = false, simple = false;
	struct cli_opt	 opts[] = {
		{ "--since", true, &since, NULL },
		{ "--patterns", true, &patterns, NULL },
		{ "--ban-after", true, &ban_after, NULL },
		{ "--window", true, &window, NULL },
		{ "--top", true, &top_s, NULL },
		{ "--bans-only", false, NULL, &bans_only },
		{ "--simple", false, NULL, &simple },
	};
	struct ls	 ls = { 0 };
	struct ls_host	**by_fail, **bans;
	struct cfg	*cfg = NULL;
	struct bf_config bfc;
	struct timespec	 t0, t1;
	unsigned	 sets = LOGPAT_SET_ALL;
	uint64_t	 num;
	uint32_t	 top = LOGSCAN_TOP_DEFAULT, n32;
	size_t		 npos, nb = 0, ntop;
	const char	*error, *cfg_from;
	double		 secs;
	int		 rc = CLI_EXIT_OK;

	switch (cli_parse_args(c, usage_logscan, argc, argv, opts,
	    MW_N_ELEMENTS(opts), pos, 1, LOGSCAN_MAX_FILES, &npos)) {
	case CLI_PARSE_HELP: return cli_help(logscan_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (since != NULL) {
		int64_t s;

		if (time_arg_parse(since, (int64_t)time(NULL), &s) < 0)
			return cli_usage_error(usage_logscan, "--since \"%s\": "
			    "expected a duration (2h), unix seconds or "
			    "YYYY-MM-DD[THH:MM[:SS]]", since);
		ls.since_ms = s * 1000;
	}
	if (patterns != NULL && (sets = ls_parse_sets(patterns)) == 0)
		return cli_usage_error(usage_logscan, "--patterns \"%s\": expected "
		    "names from: %s", patterns, logpat_set_names());
	if (ban_after != NULL && (mw_parse_u32(ban_after, simple ?
	    LOGSCAN_RING_MAX : 100000, &n32) < 0 || n32 == 0))
		return cli_usage_error(usage_logscan, "--ban-after \"%s\": "
		    "expected a number from 1 to %d", ban_after, simple ?
		    LOGSCAN_RING_MAX : 100000);
	if (window != NULL && (mw_parse_duration(window, 86400, &num) < 0 ||
	    num == 0))
		return cli_usage_error(usage_logscan, "--window \"%s\": expected "
		    "a duration such as 10m (at most 1d)", window);
	if (top_s != NULL && mw_parse_u32(top_s, 1000000, &top) < 0)
		return cli_usage_error(usage_logscan, "--top \"%s\": expected a "
		    "number", top_s);
	if (ls_load_cfg(c, &cfg, &cfg_from) < 0)
		return CLI_EXIT_CONFIG;
	bf_config_from_cfg(cfg, &bfc);
	if (ban_after != NULL)
		bfc.ban_after = n32;
	if (window != NULL)
		bfc.window_s = (uint32_t)num;
	if (simple && bfc.ban_after > LOGSCAN_RING_MAX)
		bfc.ban_after = LOGSCAN_RING_MAX;
	ls.ban_after = bfc.ban_after;
	ls.window_ms = (int64_t)bfc.window_s * 1000;
	if (!simple) {
		bfc.trust_known = false;	/* no successes are replayed */
		ls.bf = bf_new(&bfc);
	}
	cfg_free(&cfg);
	if (logpat_new(sets, &ls.lp, &error) < 0) {
		cli_error("logscan: %s", error);
		bf_free(&ls.bf);
		return CLI_EXIT_FAIL;
	}
	ls.dedup = logpat_dedup_new(LOGSCAN_DEDUP_SLOTS);
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	for (size_t i = 0; i < npos; i++)
		if (ls_file(&ls, pos[i]) < 0)
			rc = CLI_EXIT_FAIL;
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	by_fail = mw_calloc(ls.nhosts + 1, sizeof(*by_fail));
	bans = mw_calloc(ls.nbans + 1, sizeof(*bans));
	for (size_t i = 0, j = 0; i < ls.cap; i++) {
		if (!ls.hosts[i].used)
			continue;
		by_fail[j++] = &ls.hosts[i];
		if (ls.hosts[i].banned)
			bans[nb++] = &ls.hosts[i];
	}
	qsort(by_fail, ls.nhosts, sizeof(*by_fail), ls_host_cmp_failures);
	qsort(bans, nb, sizeof(*bans), ls_host_cmp_ban);
	ntop = top == 0 || top > ls.nhosts ? ls.nhosts : top;
	if (bans_only) {
		char a[MW_CIDR_STRLEN], tm[32];

		for (size_t i = 0; i < nb; i++)
			printf("%s\t%s\t%u\n", mw_addr_format(&bans[i]->addr, a,
			    sizeof(a)), ms_local(bans[i]->ban_ms, tm, sizeof(tm)),
			    bans[i]->failures_at_ban);
		for (size_t i = 0; i < ls.nnetbans; i++)
			printf("%s\t%s\t-\n", mw_cidr_format(&ls.netbans[i].net, a,
			    sizeof(a)), ms_local(ls.netbans[i].ban_ms, tm,
			    sizeof(tm)));
	} else if (c->json)
		ls_print_json(&ls, by_fail, bans, ntop, secs, npos, cfg_from,
		    simple);
	else
		ls_print_human(&ls, by_fail, bans, ntop, secs, npos, cfg_from,
		    simple);
	for (size_t i = 0; i < ls.cap; i++) {
		free(ls.hosts[i].ring);
		free(ls.hosts[i].ban_reason);
	}
	for (size_t i = 0; i < ls.nnetbans; i++)
		free(ls.netbans[i].reason);
	free(ls.netbans);
	free(ls.hosts);
	free(by_fail);
	free(bans);
	bf_free(&ls.bf);
	logpat_dedup_free(&ls.dedup);
	logpat_free(&ls.lp);
	return rc;
}
