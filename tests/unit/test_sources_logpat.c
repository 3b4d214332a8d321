/*
 * test_sources_logpat - the log patterns line by line (hostile lines
 * first: overlong, NUL bytes, invalid UTF-8, spoofed addresses in client
 * text, names instead of addresses), the timestamp reader, the anchor
 * prefilter over a buffer, and Dovecot attempt deduplication.
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

#include "sources/logpat.h"

#define REF_2026	1795435200	/* 2026-11-23T12:00:00Z */

struct line_case {
	const char	*line;
	size_t		 len;		/* 0: strlen */
	const char	*rule;		/* NULL: must not match */
	const char	*host;
	const char	*account;	/* NULL: not checked */
};

#define L(s)	s, sizeof(s) - 1

static const struct line_case line_cases[] = {
	/* --- hostile --- */
	/* an address in client text must never be taken */
	{ L("Nov 23 10:00:01 mx dovecot: auth: passwd-file(x,6.6.6.6): unknown "
	  "user,192.0.2.7,<abc>): unknown user"), "dovecot-passdb", "192.0.2.7",
	  NULL },
	{ L("Nov 23 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, "
	  "1 attempts in 2 secs): user=<a>, method=PLAIN, rip=6.6.6.6, lip=1.1.1.1>, "
	  "method=PLAIN, rip=192.0.2.8, lip=203.0.113.1, TLS"), "dovecot-login",
	  "192.0.2.8", NULL },
	{ L("Nov 23 10:00:01 mx auth: pam_unix(dovecot:auth): authentication "
	  "failure; logname= uid=0 euid=0 tty=dovecot ruser=rhost=6.6.6.6 "
	  "rhost=192.0.2.9"), "dovecot-pam", "192.0.2.9", "rhost=6.6.6.6" },
	{ L("Nov 23 10:00:01 mx auth: pam_unix(dovecot:auth): authentication "
	  "failure; logname= uid=0 euid=0 tty=dovecot ruser= rhost=192.0.2.10 "
	  "user=bob rhost=6.6.6.6"), "dovecot-pam", "192.0.2.10",
	  "bob rhost=6.6.6.6" },
	{ L("Nov 23 10:00:01 mx postfix/smtpd[1]: warning: unknown[192.0.2.11]: "
	  "SASL LOGIN authentication failed: (reason unavailable), sasl_username="
	  "x postfix/smtpd[1]: warning: unknown[6.6.6.6]: SASL LOGIN "
	  "authentication failed: y"), "postfix-sasl", "192.0.2.11", NULL },
	{ L("2026-11-23 10:00:01 login authenticator failed for (x) [6.6.6.6]: "
	  "535 Incorrect authentication data (set_id=y) [192.0.2.12]: 535 "
	  "Incorrect authentication data (set_id=z)"), NULL, NULL, NULL },
	{ L("2026-11-23 10:00:01 login authenticator failed for (x) [192.0.2.13]: "
	  "535 Incorrect authentication data (set_id=y) [6.6.6.6]: 535 "
	  "Incorrect authentication data"), NULL, NULL, NULL },
	{ L("Nov 23 10:00:01 mx sendmail[1]: q: AUTH failure (LOGIN): "
	  "authentication failure (-13) SASL(-13): authentication failure: "
	  "checkpass failed, user=criminal, relay=[6.6.6.6], relay=[192.0.2.14]"),
	  "sendmail-auth", "192.0.2.14", "criminal, relay=[6.6.6.6]" },
	/* names are never hosts */
	{ L("Nov 23 10:00:01 mx auth: pam_unix(dovecot:auth): authentication "
	  "failure; logname= uid=0 euid=0 tty=dovecot ruser=a rhost=evil.example"),
	  NULL, NULL, NULL },
	{ L("Nov 23 10:00:01 mx postfix/smtpd[1]: warning: unknown[example.com]: "
	  "SASL LOGIN authentication failed: x"), NULL, NULL, NULL },
	/* NUL bytes: after the address harmless, inside it fatal */
	{ L("Nov 23 10:00:01 mx postfix/smtpd[1]: warning: unknown[192.0.2.15]: "
	  "SASL LOGIN authentication failed: \0\0x"), "postfix-sasl", "192.0.2.15",
	  NULL },
	{ L("Nov 23 10:00:01 mx postfix/smtpd[1]: warning: unknown[192.0.\0.15]: "
	  "SASL LOGIN authentication failed: x"), NULL, NULL, NULL },
	/* invalid UTF-8 in the user name */
	{ L("Nov 23 10:00:01 mx dovecot: pop3-login: Aborted login (auth failed, 2 "
	  "attempts in 3 secs): user=<\xff\xfe\xc0>, method=PLAIN, rip=192.0.2.16, "
	  "lip=203.0.113.1"), "dovecot-login", "192.0.2.16", "\xff\xfe\xc0" },
	/* not password guesses */
	{ L("Nov 23 10:00:01 mx postfix/smtpd[1]: warning: unknown[192.0.2.17]: "
	  "SASL LOGIN authentication failed: Connection lost to authentication "
	  "server"), NULL, NULL, NULL },
	{ L("Nov 23 10:00:01 mx dovecot: imap-login: Disconnected (no auth "
	  "attempts in 0 secs): user=<>, rip=192.0.2.18, lip=203.0.113.1"), NULL,
	  NULL, NULL },
	{ L("Nov 23 10:00:01 mx dovecot: imap-login: Login: user=<a@example.org>, "
	  "method=PLAIN, rip=192.0.2.19, lip=203.0.113.1, mpid=1, TLS"), NULL, NULL,
	  NULL },
	{ L(""), NULL, NULL, NULL },
	{ L("auth failed"), NULL, NULL, NULL },
	/* --- IPv6 and v4-mapped --- */
	{ L("Nov 23 10:00:01 mx postfix/submission/smtpd[1]: warning: "
	  "host.example[2001:db8::1]: SASL PLAIN authentication failed: "
	  "authentication failure"), "postfix-sasl", "2001:db8::1", NULL },
	{ L("Nov 23 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, 1 "
	  "attempts in 2 secs): user=<u@example.org>, method=PLAIN, "
	  "rip=2001:db8::2, lip=2001:db8::25, TLS, session=<Qx>"), "dovecot-login",
	  "2001:db8::2", "u@example.org" },
	{ L("Nov 23 10:00:01 mx imapd: LOGIN FAILED, user=a@example.org, "
	  "ip=[::ffff:192.0.2.20]"), "courier-login", "192.0.2.20", "a@example.org" },
	/* --- one of each rule family --- */
	{ L("Nov 23 10:00:01 mx dovecot: auth-worker(9): pam(a@example.org,192.0.2.21,"
	  "<s1>): pam_authenticate() failed: Authentication failure (password "
	  "mismatch?)"), "dovecot-passdb", "192.0.2.21", "a@example.org" },
	{ L("Nov 23 10:00:01 auth(a@example.org,192.0.2.22,sasl:plain)<s2>: Info: "
	  "passwd-file: Password mismatch"), "dovecot-passdb", "192.0.2.22",
	  "a@example.org" },
	{ L("2026-11-23 10:00:01 dovecot_plain authenticator failed for (helo) "
	  "[192.0.2.23]:5555 I=[203.0.113.1]:587: 535 Incorrect authentication data "
	  "(set_id=a@example.org)"), "exim-auth", "192.0.2.23", "a@example.org" },
	{ L("Nov 23 10:00:01 mx courieresmtpd: error,relay=::ffff:192.0.2.24,"
	  "msg=\"535 Authentication failed.\",cmd: AUTH LOGIN"), "courier-smtp-auth",
	  "192.0.2.24", NULL },
	{ L("Nov 23 10:00:01 mx cyrus/imap[1]: badlogin: h [192.0.2.25] plaintext "
	  "bob SASL(-13): authentication failure: checkpass failed"),
	  "cyrus-badlogin", "192.0.2.25", "bob" },
	{ L("Nov 23 10:00:01 mx sm-mta[1]: q: [192.0.2.26]: possible SMTP attack: "
	  "command=AUTH, count=5"), "sendmail-auth-attack", "192.0.2.26", NULL },
	{ L("[23-Nov-2026 10:00:01 +0000]: <x> IMAP Error: Login failed for bob "
	  "from 192.0.2.27. AUTHENTICATE PLAIN: Authentication failed. in a.php on "
	  "line 1 (POST /?_task=login)"), "roundcube", "192.0.2.27", "bob" },
	{ L("<co ts=\"2026-11-23T10:00:01.5\" pi=\"1\" sc=\"tcp_local\" "
	  "tr=\"TCP|192.0.2.1|25|192.0.2.29|4299\" ap=\"SMTP\" mi=\"Bad password\" "
	  "us=\"bob\" di=\"535 5.7.8 x\"/>"), "oracleims", "192.0.2.29", "bob" },
	{ L("Nov 23 10:00:01 sogod [1]: SOGoRootPage Login from '192.0.2.28' for "
	  "user 'bob' might not have worked - password policy: 65535"), "sogo",
	  "192.0.2.28", "bob" },
};

static void
test_line_cases(void **state)
{
	struct logpat *lp;
	const char *error;

	(void)state;
	assert_int_equal(logpat_new(LOGPAT_SET_ALL, &lp, &error), 0);
	for (size_t i = 0; i < MW_N_ELEMENTS(line_cases); i++) {
		const struct line_case *c = &line_cases[i];
		struct logpat_clock clk = { .ref_s = REF_2026 };
		struct logpat_match m;
		bool got = logpat_match(lp, (struct mw_slice){ c->line, c->len },
		    &clk, &m);
		char a[MW_ADDR_STRLEN];
		struct mw_addr want;

		if (got != (c->rule != NULL))
			fail_msg("case %zu: match %d, want %d (rule %s)", i, got,
			    c->rule != NULL, got ? m.rule : "-");
		if (!got)
			continue;
		assert_string_equal(m.rule, c->rule);
		assert_int_equal(mw_addr_parse(c->host, &want), 0);
		if (mw_addr_cmp(&want, &m.addr) != 0)
			fail_msg("case %zu: host %s, want %s", i,
			    mw_addr_format(&m.addr, a, sizeof(a)), c->host);
		if (c->account != NULL) {
			assert_int_equal(m.account.len, strlen(c->account));
			assert_memory_equal(m.account.ptr, c->account, m.account.len);
		}
		assert_true(m.has_time);
	}
	logpat_free(&lp);
}

/* Overlong lines never match, whatever they hold. */
static void
test_overlong(void **state)
{
	static const char head[] = "Nov 23 10:00:01 mx dovecot: imap-login: "
	    "Disconnected (auth failed, 1 attempts): user=<";
	static const char tail[] = ">, method=PLAIN, rip=192.0.2.30, lip=1.1.1.1";
	size_t n = LOGPAT_MAX_LINE + 100;
	char *line = malloc(n);
	struct logpat *lp;
	struct logpat_clock clk = { .ref_s = REF_2026 };
	struct logpat_match m;
	const char *error;

	(void)state;
	assert_non_null(line);
	memset(line, 'a', n);
	memcpy(line, head, sizeof(head) - 1);
	memcpy(line + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1);
	assert_int_equal(logpat_new(LOGPAT_SET_ALL, &lp, &error), 0);
	assert_false(logpat_match(lp, (struct mw_slice){ line, n }, &clk, &m));
	/* the same line within the limit matches */
	memmove(line + 200, line + n - (sizeof(tail) - 1), sizeof(tail) - 1);
	assert_true(logpat_match(lp, (struct mw_slice){ line,
	    200 + sizeof(tail) - 1 }, &clk, &m));
	assert_string_equal(m.rule, "dovecot-login");
	logpat_free(&lp);
	free(line);
}

/* Pattern sets select rules; unknown names are refused. */
static void
test_sets(void **state)
{
	struct logpat *lp;
	struct logpat_clock clk = { .ref_s = REF_2026 };
	struct logpat_match m;
	const char *error;
	struct mw_slice pf = MW_SLICE_LIT("Nov 23 10:00:01 mx postfix/smtpd[1]: "
	    "warning: unknown[192.0.2.31]: SASL LOGIN authentication failed: x");

	(void)state;
	assert_int_equal(logpat_set_parse(MW_SLICE_LIT("postfix")),
	    LOGPAT_SET_POSTFIX);
	assert_int_equal(logpat_set_parse(MW_SLICE_LIT("all")), LOGPAT_SET_ALL);
	assert_int_equal(logpat_set_parse(MW_SLICE_LIT("postfi")), 0);
	assert_int_equal(logpat_new(0, &lp, &error), -1);
	assert_string_equal(error, "logpat: no pattern set selected");
	assert_int_equal(logpat_new(LOGPAT_SET_DOVECOT, &lp, &error), 0);
	assert_false(logpat_match(lp, pf, &clk, &m));
	logpat_free(&lp);
	assert_int_equal(logpat_new(LOGPAT_SET_POSTFIX, &lp, &error), 0);
	assert_true(logpat_match(lp, pf, &clk, &m));
	assert_string_equal(m.service, "smtp");
	logpat_free(&lp);
}

struct time_case {
	const char	*in;
	int64_t		 ref;
	int64_t		 want_ms;	/* -1: must not parse */
};

static const struct time_case time_cases[] = {
	/* malformed first */
	{ "", REF_2026, -1 },
	{ "Foo 23 10:00:00 x", REF_2026, -1 },
	{ "Nov 32 10:00:00 x", REF_2026, -1 },
	{ "Feb 30 10:00:00 x", REF_2026, -1 },
	{ "Nov 23 24:00:00 x", REF_2026, -1 },
	{ "Nov 23 10:0", REF_2026, -1 },
	{ "2026-13-01T00:00:00Z", REF_2026, -1 },
	{ "2026-11-23T10:00:00+99:00", REF_2026, -1 },
	{ "1969-12-31T23:59:59Z", REF_2026, -1 },
	{ "@4000000zz", REF_2026, -1 },
	{ "@3fffffff00000000000000000", REF_2026, -1 },
	{ "[23-Foo-2026 10:00:00 +0000]", REF_2026, -1 },
	{ "12345", REF_2026, -1 },
	/* syslog: the year puts the line at most a day after ref */
	{ "Nov 23 10:00:00 mx", REF_2026, 1795428000000 },
	{ "Nov  3 10:00:00 mx", REF_2026, 1793700000000 },
	{ "Nov 24 10:00:00 mx", REF_2026, 1795514400000 },
	{ "Nov 25 10:00:00 mx", REF_2026, 1764064800000 },	/* 2025 */
	{ "Dec 31 23:59:59 mx", 1798763400, 1798761599000 },	/* ref 2027-01-01T00:30Z */
	{ "Mar 7 02:09:33 mx", REF_2026, 1772849373000 },
	/* ISO 8601 / RFC 3339 / journald short-iso */
	{ "2026-11-23T10:00:00Z x", REF_2026, 1795428000000 },
	{ "2026-11-23T10:00:00.123+01:00 x", REF_2026, 1795424400123 },
	{ "2026-11-23T10:00:00+0100 x", REF_2026, 1795424400000 },
	{ "2026-11-23 10:00:00 x", REF_2026, 1795428000000 },	/* TZ=UTC */
	{ "2026-11-23 10:00:00,5 x", REF_2026, 1795428000500 },
	/* others */
	{ "@4000000069230a2000000000 x", REF_2026, 1763904032000 },
	{ "[22-Jan-2013 22:28:21 +0200]: x", REF_2026, 1358886501000 },
	{ "[17/Jun/2011 17:00:45] x", REF_2026, 1308330045000 },
	{ "[2014-01-06 10:59:38]LOGIN", REF_2026, 1389005978000 },
	{ "10/06/2013 15:50:41 [x]", REF_2026, 1381074641000 },
	{ "Sat Dec 28 19:03:53 2013 - x", REF_2026, 1388257433000 },
	{ "03-07-2005 23:07:20   SMTP", REF_2026, 1120432040000 },
	{ "[28325:00010-3735542592] 22-06-2014 09:56:12   smtp", REF_2026,
	  1403430972000 },
};

static void
test_time_cases(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < MW_N_ELEMENTS(time_cases); i++) {
		const struct time_case *c = &time_cases[i];
		struct logpat_clock clk = { .ref_s = c->ref };
		int64_t ms = 0;
		bool ok = logpat_time_parse(mw_slice_from_cstr(c->in), &clk, &ms);

		if (ok != (c->want_ms >= 0) || (ok && ms != c->want_ms))
			fail_msg("case %zu \"%s\": ok %d ms %lld, want %lld", i,
			    c->in, ok, (long long)ms, (long long)c->want_ms);
	}
}

/* Zoneless times are local: the same text in two zones, one hour apart. */
static void
test_time_local_zone(void **state)
{
	struct logpat_clock clk = { .ref_s = REF_2026 };
	int64_t utc, cet;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_true(logpat_time_parse(MW_SLICE_LIT("2026-11-23 10:00:00"), &clk,
	    &utc));
	setenv("TZ", "CET-01CEST-02,M3.5.0,M10.5.0", 1);
	tzset();
	clk = (struct logpat_clock){ .ref_s = REF_2026 };
	assert_true(logpat_time_parse(MW_SLICE_LIT("2026-11-23 10:00:00"), &clk,
	    &cet));
	assert_int_equal(utc - cet, 3600 * 1000);
	setenv("TZ", "UTC", 1);
	tzset();
}

/* The buffer prefilter lands in the line holding an anchor, and says
   "none" past the last one. */
static void
test_next_candidate(void **state)
{
	static const char buf[] =
	    "Nov 23 10:00:00 mx postfix/qmgr[2]: 4AB: removed\n"
	    "Nov 23 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, 1 "
	    "attempts): user=<a>, method=PLAIN, rip=192.0.2.40, lip=1.1.1.1\n"
	    "Nov 23 10:00:02 mx postfix/smtpd[3]: connect from unknown[192.0.2.41]\n";
	size_t len = sizeof(buf) - 1, first_nl = (size_t)(strchr(buf, '\n') - buf);
	size_t second_nl = (size_t)(strchr(buf + first_nl + 1, '\n') - buf);
	struct logpat *lp;
	const char *error;
	size_t c;

	(void)state;
	assert_int_equal(logpat_new(LOGPAT_SET_ALL, &lp, &error), 0);
	c = logpat_next_candidate(lp, buf, len, 0);
	assert_true(c > first_nl && c < second_nl);
	assert_int_equal(logpat_next_candidate(lp, buf, len, second_nl + 1), len);
	assert_int_equal(logpat_next_candidate(lp, buf, len, len), len);
	assert_int_equal(logpat_next_candidate(lp, buf, 3, 0), 3);
	logpat_free(&lp);
}

/* With auth_verbose, Dovecot's summary repeats the attempts its auth
   process logged (same session id): it adds nothing. Without them, it
   adds its N. */
static void
test_dedup(void **state)
{
	struct logpat *lp;
	struct logpat_dedup *d = logpat_dedup_new(1024);
	struct logpat_clock clk = { .ref_s = REF_2026 };
	struct logpat_match m;
	const char *error;

	(void)state;
	assert_int_equal(logpat_new(LOGPAT_SET_DOVECOT, &lp, &error), 0);
	assert_true(logpat_match(lp, MW_SLICE_LIT("Nov 23 10:00:01 mx dovecot: "
	    "auth: passwd-file(a,192.0.2.50,<S1>): Password mismatch"), &clk, &m));
	assert_int_equal(logpat_dedup_attempts(d, &m), 1);
	assert_true(logpat_match(lp, MW_SLICE_LIT("Nov 23 10:00:02 mx dovecot: "
	    "imap-login: Disconnected (auth failed, 3 attempts in 9 secs): "
	    "user=<a>, method=PLAIN, rip=192.0.2.50, lip=1.1.1.1, TLS, "
	    "session=<S1>"), &clk, &m));
	assert_true(m.summary);
	assert_int_equal(m.attempts, 3);
	assert_int_equal(logpat_dedup_attempts(d, &m), 0);
	assert_true(logpat_match(lp, MW_SLICE_LIT("Nov 23 10:00:03 mx dovecot: "
	    "imap-login: Disconnected (auth failed, 3 attempts in 9 secs): "
	    "user=<a>, method=PLAIN, rip=192.0.2.51, lip=1.1.1.1, TLS, "
	    "session=<S2>"), &clk, &m));
	assert_int_equal(logpat_dedup_attempts(d, &m), 3);
	logpat_dedup_free(&d);
	logpat_dedup_free(&d);	/* NULL-safe */
	logpat_free(&lp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_cases),
		cmocka_unit_test(test_overlong),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_time_cases),
		cmocka_unit_test(test_time_local_zone),
		cmocka_unit_test(test_next_candidate),
		cmocka_unit_test(test_dedup),
	};

	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
