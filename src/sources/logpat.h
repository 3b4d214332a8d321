/*
 * logpat - mail log lines to authentication failures.
 *
 * One log line in, at most one failure out: which rule matched, the
 * service, the client address, the account tried and the line's time.
 * Pure: no I/O, no globals; the compiled patterns (PCRE2, JIT) and their
 * match data live in a struct logpat owned by one thread.
 *
 * Speed: every rule names literals (anchors) one of which must occur in
 * a line it can match. A Wu-Manber multi-literal scan finds the anchors,
 * over a whole buffer (logpat_next_candidate) or one line; PCRE2 runs
 * only on lines with an anchor, and only the rules that anchor belongs to.
 * Nothing is allocated per line.
 *
 * SECURITY: the account name, the HELO name, a reverse DNS name and
 * webmail X-Forwarded-For values are chosen by the client. Each pattern
 * takes the address from the field the daemon itself writes (e.g. the
 * last "rip=" of a Dovecot line, the "[addr]" right before Postfix's
 * "SASL ... authentication failed", the last "relay=" of a Sendmail line),
 * anchored so that text injected into a user name cannot supply it.
 * Only literal IPv4/IPv6 addresses are accepted as hosts, never names.
 * Lines longer than LOGPAT_MAX_LINE are not matched (counted by callers).
 *
 * BUGS: Roundcube echoes the user name both before and after the address
 * in some versions; a user name built to look like the trailing part of
 * that message can still shift the address (see tests/unit). SOGo takes
 * the first X-Forwarded-For entry, as SOGo logs it.
 */
#ifndef MW_SOURCES_LOGPAT_H
#define MW_SOURCES_LOGPAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/mem.h"
#include "core/slice.h"

#define LOGPAT_MAX_LINE		16384	/* bytes; longer lines are never matched */
#define LOGPAT_MAX_ACCOUNT	256	/* bytes of an account name reported */

/* Pattern sets, selectable in [logwatch] patterns. */
enum logpat_set {
	LOGPAT_SET_POSTFIX	= 1u << 0,	/* SMTP AUTH (SASL) failures */
	LOGPAT_SET_DOVECOT	= 1u << 1,	/* *-login, auth, auth-worker, pam_unix */
	LOGPAT_SET_EXIM		= 1u << 2,
	LOGPAT_SET_COURIER	= 1u << 3,	/* imapd/pop3d LOGIN FAILED, esmtpd 535 */
	LOGPAT_SET_CYRUS	= 1u << 4,	/* imapd/pop3d/timsieved badlogin */
	LOGPAT_SET_SENDMAIL	= 1u << 5,	/* AUTH failure, "possible SMTP attack" */
	LOGPAT_SET_ROUNDCUBE	= 1u << 6,
	LOGPAT_SET_SOGO		= 1u << 7,
	LOGPAT_SET_WEBMAIL	= 1u << 8,	/* Horde, SquirrelMail, OpenWebMail, Group-Office, Tine 2.0 */
	LOGPAT_SET_OTHER	= 1u << 9,	/* UW-IMAP, solid-pop3d, perdition, Oracle IMS */
	LOGPAT_SET_ALL		= (1u << 10) - 1,
};

/* "postfix" -> LOGPAT_SET_POSTFIX, "all" -> LOGPAT_SET_ALL; 0 unknown. */
unsigned logpat_set_parse(struct mw_slice name);
/* Space-separated names of the sets, for --help and docs. */
const char *logpat_set_names(void);

struct logpat;

/* Compiles the rules of the sets in mask (JIT when available). Returns 0
   or -1 with *error_r (static text) when PCRE2 refuses a pattern. */
int	 logpat_new(unsigned sets, struct logpat **lp_r, const char **error_r)
	    MW_MUST_CHECK;
void	 logpat_free(struct logpat **lp);

/* How zoneless timestamps are read. Syslog's "Nov 23 10:00:00" has no
   year: it gets the year that puts it at most one day after ref_s (the
   time now, or a file's modification time). Times without a zone are
   local time (TZ). */
struct logpat_clock {
	int64_t	 ref_s;		/* unix seconds; set by the caller */
	/* private: local-time conversion cache (zeroed by the caller) */
	int64_t	 ref_for, ref_year;
	int64_t	 hour_key, hour_base;
};

struct logpat_match {
	const char	*rule;		/* static: "postfix-sasl", "dovecot-login", ... */
	const char	*service;	/* static: "smtp", "imap", "pop3", "sieve", "webmail", ... or "" */
	struct mw_addr	 addr;
	struct mw_slice	 account;	/* into the line; len 0 = unknown */
	struct mw_slice	 session;	/* Dovecot session id, into the line; len 0 = none */
	uint32_t	 attempts;	/* failures the line reports (1, or Dovecot's N) */
	/* A Dovecot login process summary ("auth failed, N attempts"): with
	   auth_verbose the auth process logged each attempt already, with
	   the same session id. */
	bool		 summary;
	bool		 has_time;
	int64_t		 time_ms;	/* unix ms; valid when has_time */
};

/* Matches one line (no trailing LF needed; a CR/LF at the end is
   ignored). Returns true and fills *m on a failure. The slices in *m
   point into line. */
bool	 logpat_match(struct logpat *lp, struct mw_slice line,
	    struct logpat_clock *clk, struct logpat_match *m_r);

/* Offset of the first byte at or after from of an anchor literal in
   buf[0..len), or len when none: the line holding it is the next line
   that can match. Lets a scanner skip non-matching lines in bulk. */
size_t	 logpat_next_candidate(const struct logpat *lp, const char *buf,
	    size_t len, size_t from);

/* The timestamp at the start of line (or, for the formats that carry it
   inside, where it is): syslog "Nov 23 10:00:00", RFC 3339 / ISO 8601
   with or without zone and fraction, journald short-iso, TAI64N
   "@4000...", "[22-Jan-2013 22:28:21 +0200]", "[2014-01-06 10:59:38]",
   "MM/DD/YYYY hh:mm:ss", ctime "Sat Dec 28 19:03:53 2013",
   "DD-MM-YYYY hh:mm:ss". Returns true and *time_ms_r. */
bool	 logpat_time_parse(struct mw_slice line, struct logpat_clock *clk,
	    int64_t *time_ms_r);

/* Number of rules compiled and their names (tests, --help). */
size_t	 logpat_rule_count(const struct logpat *lp);
const char *logpat_rule_name(const struct logpat *lp, size_t i);

/* --- attempt accounting ---------------------------------------------
   Dovecot logs each wrong password from its auth process (auth_verbose)
   and then a summary from the login process with the same session id.
   A logpat_dedup remembers recent session ids seen on per-attempt lines
   (fixed size ring, no allocation after new) so that a summary whose
   attempts were already counted adds nothing, and one without (no
   auth_verbose) adds its N attempts. */
struct logpat_dedup;

struct logpat_dedup *logpat_dedup_new(size_t slots);
void	 logpat_dedup_free(struct logpat_dedup **d);
/* Failures that m stands for after deduplication (0, 1 or N). */
uint32_t logpat_dedup_attempts(struct logpat_dedup *d,
	    const struct logpat_match *m);

#endif
