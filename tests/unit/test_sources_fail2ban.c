/*
 * test_sources_fail2ban - fail2ban's annotated sample logs as the
 * acceptance test of the log patterns (issue 3).
 *
 * Corpus: $MW_CORPUS_DIR/fail2ban-logs, default ../shared/corpus beside
 * the source tree; absent -> a visible SKIP. The annotations ("# failJSON:
 * {...}" before the line it describes; "# filterOptions:" starting a
 * block of filter modes) are read as fail2ban's README in the corpus
 * describes them. Every mail-related file is run through the patterns:
 *   - in scope (a login guard's business: password failures): every line
 *     annotated as a match must give exactly the annotated host (and time,
 *     and user where annotated), every other line nothing;
 *   - out of scope (a mode or file about SMTP rejects, DNSBLs, protocol
 *     abuse, spam): counted and printed, never silently dropped.
 * Prints a per-file table; fails on any mismatch in scope.
 *
 * Time: fail2ban's harness reads syslog years relative to 2005-08-14
 * 12:00:00 CEST in TZ=CET-01CEST-02,M3.5.0,M10.5.0; the test does too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "sources/logpat.h"

#define F2B_NOW		1124013600	/* 2005-08-14T10:00:00Z */
#define F2B_TZ		"CET-01CEST-02,M3.5.0,M10.5.0"
#define MAX_VARIANTS	8

struct file_scope {
	const char	*file;
	/* modes in scope ("" = the filter's default, "journal" = logtype
	   journal); NULL list = whole file out of scope */
	const char	*modes[4];
	const char	*why;
};

static const struct file_scope files[] = {
	{ "postfix", { "auth" }, "SASL AUTH failures (mode auth); rejects, RBL, "
	  "ddos, errors and aggressive-only lines are SMTP abuse, not password "
	  "guesses: the connection guard's job" },
	{ "dovecot", { "", "normal" }, "login failures (normal); aggressive-only "
	  "lines are connections without any login attempt" },
	{ "exim", { "", "normal", "journal" }, "authenticator failures (normal, "
	  "journal); more/aggressive are SMTP rejects and protocol errors" },
	{ "courier-auth", { "" }, "IMAP/POP3 login failures" },
	{ "cyrus-imap", { "" }, "IMAP/POP3 badlogin" },
	{ "sieve", { "" }, "ManageSieve (timsieved) badlogin" },
	{ "sendmail-auth", { "" }, "SMTP AUTH failures" },
	{ "roundcube-auth", { "" }, "webmail login failures" },
	{ "sogo-auth", { "" }, "groupware login failures" },
	{ "horde", { "" }, "webmail login failures" },
	{ "squirrelmail", { "" }, "webmail login failures" },
	{ "openwebmail", { "" }, "webmail login failures" },
	{ "groupoffice", { "" }, "groupware login failures" },
	{ "tine20", { "" }, "groupware login failures" },
	{ "uwimap-auth", { "" }, "IMAP/POP3 login failures" },
	{ "solid-pop3d", { "" }, "POP3 login failures" },
	{ "perdition", { "" }, "IMAP/POP3 proxy auth failures" },
	{ "courier-smtp", { NULL }, "SMTP rejects (unknown users); its 535 lines "
	  "are matched by courier-smtp-auth (unit tests)" },
	{ "exim-spam", { NULL }, "spam/virus rejects: content, not logins" },
	{ "sendmail-reject", { NULL }, "SMTP rejects: connection guard" },
	{ "qmail", { NULL }, "DNSBL rejects: connection guard" },
	{ "kerio", { NULL }, "SMTP rejects and spam: connection guard" },
	{ "assp", { NULL }, "anti-spam proxy log" },
	{ "domino-smtp", { NULL }, "IBM Domino: not implemented (mixes auth "
	  "failures with reverse-DNS policy rejects)" },
	{ "oracleims", { "" }, "Oracle Messaging Server SMTP AUTH failures" },
	{ "pam-generic", { NULL }, "not mail (ssh, ftp); Dovecot's PAM lines are "
	  "checked in dovecot" },
	{ "recidive", { NULL }, "fail2ban's own log, not mail" },
};

struct file_result {
	unsigned	 pos, pos_ok, neg, neg_ok, out, out_matched;
};

static bool
in_scope(const struct file_scope *fs, char variants[][32], size_t nvariants)
{
	if (fs->modes[0] == NULL)
		return false;
	for (size_t v = 0; v < nvariants; v++)
		for (size_t i = 0; i < MW_N_ELEMENTS(fs->modes) && fs->modes[i]; i++)
			if (strcmp(variants[v], fs->modes[i]) == 0)
				return true;
	return false;
}

/* filterOptions: an object or an array of objects -> variant names */
static size_t
read_variants(const char *json, char variants[][32])
{
	json_error_t err;
	json_t *j = json_loads(json, JSON_DECODE_ANY, &err);
	size_t n = 0;

	assert_non_null(j);
	for (size_t i = 0; i < (json_is_array(j) ? json_array_size(j) : 1) &&
	    n < MAX_VARIANTS; i++) {
		json_t *o = json_is_array(j) ? json_array_get(j, i) : j;
		json_t *mode = json_object_get(o, "mode");
		json_t *lt = json_object_get(o, "logtype");

		if (json_is_string(mode))
			(void)snprintf(variants[n], 32, "%s", json_string_value(mode));
		else if (json_is_string(lt))
			(void)snprintf(variants[n], 32, "%s", json_string_value(lt));
		else
			variants[n][0] = '\0';
		n++;
	}
	json_decref(j);
	return n;
}

/* "2005-03-7T02:09:33" (sic) and "2005-03-07T02:09:33.5" alike */
static bool
time_equal(const char *want, int64_t got_ms)
{
	int y, mo, d, h, mi, s;
	time_t t = (time_t)(got_ms / 1000);
	struct tm tm;

	if (sscanf(want, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &s) != 6)
		return false;
	assert_non_null(localtime_r(&t, &tm));
	return tm.tm_year + 1900 == y && tm.tm_mon + 1 == mo && tm.tm_mday == d &&
	    tm.tm_hour == h && tm.tm_min == mi && tm.tm_sec == s;
}

static bool
check_line(struct logpat *lp, const char *file, unsigned lineno,
    const char *line, json_t *want)
{
	struct logpat_clock clk = { .ref_s = F2B_NOW };
	struct logpat_match m;
	bool matched = logpat_match(lp, mw_slice_from_cstr(line), &clk, &m);
	bool want_match = json_is_true(json_object_get(want, "match"));
	const char *host = json_string_value(json_object_get(want, "host"));
	const char *tm = json_string_value(json_object_get(want, "time"));
	const char *user = json_string_value(json_object_get(want, "user"));
	char got[MW_ADDR_STRLEN];
	struct mw_addr wa;

	if (!want_match) {
		if (matched)
			printf("FAIL %s:%u: matched (rule %s, host %s) but annotated "
			    "as no match: %.160s\n", file, lineno, m.rule,
			    mw_addr_format(&m.addr, got, sizeof(got)), line);
		return !matched;
	}
	if (!matched) {
		printf("FAIL %s:%u: no match, want host %s: %.160s\n", file, lineno,
		    host ? host : "?", line);
		return false;
	}
	(void)mw_addr_format(&m.addr, got, sizeof(got));
	if (host == NULL || mw_addr_parse(host, &wa) < 0 ||
	    mw_addr_cmp(&wa, &m.addr) != 0) {
		printf("FAIL %s:%u: host %s, want %s: %.160s\n", file, lineno, got,
		    host ? host : "(none)", line);
		return false;
	}
	if (tm != NULL && (!m.has_time || !time_equal(tm, m.time_ms))) {
		printf("FAIL %s:%u: time %s, want %s: %.160s\n", file, lineno,
		    m.has_time ? "wrong" : "missing", tm, line);
		return false;
	}
	if (user != NULL && (m.account.len != strlen(user) ||
	    memcmp(m.account.ptr, user, m.account.len) != 0)) {
		printf("FAIL %s:%u: user \"%.*s\", want \"%s\"\n", file, lineno,
		    (int)m.account.len, m.account.ptr, user);
		return false;
	}
	return true;
}

static bool
directive(const char *line, const char **name_r, const char **value_r)
{
	static const char *const names[] = { "failJSON", "filterOptions",
		"fileOptions", "addFILE" };
	const char *p = line;

	if (*p != '#')
		return false;
	while (*p == '#')
		p++;
	if (*p == ' ')
		p++;
	for (size_t i = 0; i < MW_N_ELEMENTS(names); i++) {
		size_t n = strlen(names[i]);

		if (strncmp(p, names[i], n) == 0 && p[n] == ':') {
			*name_r = names[i];
			*value_r = p + n + 1;
			return true;
		}
	}
	return false;
}

static void
run_file(struct logpat *lp, const char *dir, const struct file_scope *fs,
    struct file_result *res)
{
	char path[1200], line[LOGPAT_MAX_LINE + 2];
	char variants[MAX_VARIANTS][32] = { "" };
	size_t nvariants = 1;
	json_t *pending = NULL;
	unsigned lineno = 0;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%.1024s/%.64s", dir, fs->file);
	f = fopen(path, "r");
	if (f == NULL) {
		printf("FAIL %s: cannot open %s\n", fs->file, path);
		res->pos = 1;	/* counted as a failure */
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *name, *value;
		size_t len = strlen(line);
		bool scoped, ok;
		json_t *want;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (pending == NULL && directive(line, &name, &value)) {
			json_error_t err;

			if (strcmp(name, "failJSON") == 0) {
				pending = json_loads(value, 0, &err);
				assert_non_null(pending);
			} else if (strcmp(name, "filterOptions") == 0)
				nvariants = read_variants(value, variants);
			continue;
		}
		if (pending == NULL && (len == 0 || line[0] == '#'))
			continue;
		want = pending != NULL ? pending : json_object();
		pending = NULL;
		scoped = in_scope(fs, variants, nvariants);
		if (!scoped) {
			struct logpat_clock clk = { .ref_s = F2B_NOW };
			struct logpat_match m;

			res->out++;
			res->out_matched += logpat_match(lp,
			    mw_slice_from_cstr(line), &clk, &m);
		} else {
			ok = check_line(lp, fs->file, lineno, line, want);
			if (json_is_true(json_object_get(want, "match"))) {
				res->pos++;
				res->pos_ok += ok;
			} else {
				res->neg++;
				res->neg_ok += ok;
			}
		}
		json_decref(want);
	}
	json_decref(pending);
	(void)fclose(f);
}

static char corpus_dir[1024];

/* false: no corpus (the test is skipped, visibly) */
static bool
corpus_find(void)
{
	const char *env = getenv("MW_CORPUS_DIR");
	char readme[1100];
	FILE *probe;

	if (env != NULL && env[0] != '\0')
		(void)snprintf(corpus_dir, sizeof(corpus_dir), "%.1000s/"
		    "fail2ban-logs", env);
	else
		(void)snprintf(corpus_dir, sizeof(corpus_dir), "%.900s/../../../"
		    "shared/corpus/fail2ban-logs", MW_TEST_DATA);
	(void)snprintf(readme, sizeof(readme), "%.1024s/README.md", corpus_dir);
	if ((probe = fopen(readme, "r")) == NULL)
		return false;
	(void)fclose(probe);
	return true;
}

static void
test_fail2ban_corpus(void **state)
{
	const char *dir = corpus_dir;
	struct logpat *lp;
	const char *error;
	unsigned bad = 0, total_in = 0, total_out = 0;

	(void)state;
	setenv("TZ", F2B_TZ, 1);
	tzset();
	assert_int_equal(logpat_new(LOGPAT_SET_ALL, &lp, &error), 0);
	printf("fail2ban sample logs: %s\n", dir);
	printf("%-16s %-6s %9s %9s %13s  %s\n", "file", "result", "match ok",
	    "nomatch ok", "out of scope", "scope");
	for (size_t i = 0; i < MW_N_ELEMENTS(files); i++) {
		struct file_result r = { 0 };
		const char *verdict;

		run_file(lp, dir, &files[i], &r);
		if (files[i].modes[0] == NULL)
			verdict = "OUT";
		else if (r.pos_ok == r.pos && r.neg_ok == r.neg)
			verdict = "PASS";
		else {
			verdict = "FAIL";
			bad++;
		}
		total_in += r.pos + r.neg;
		total_out += r.out;
		printf("%-16s %-6s %4u/%-4u %4u/%-5u %4u (%u hit)  %s\n",
		    files[i].file, verdict, r.pos_ok, r.pos, r.neg_ok, r.neg, r.out,
		    r.out_matched, files[i].why);
	}
	printf("lines checked in scope: %u; out of scope (counted, not "
	    "checked): %u; files failing: %u\n", total_in, total_out, bad);
	logpat_free(&lp);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail2ban_corpus),
	};

	if (!corpus_find()) {
		printf("SKIP: fail2ban corpus not found at %s (set MW_CORPUS_DIR "
		    "to the directory holding fail2ban-logs/)\n", corpus_dir);
		return 77;
	}

	return cmocka_run_group_tests(tests, NULL, NULL);
}
