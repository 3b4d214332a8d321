/*
 * logpat - the rules (our own patterns, written from the log formats) and
 * the matcher; see logpat.h for the contract.
 *
 * A rule is: a name, a pattern set, a service, up to four anchor literals
 * (one must be in any line the rule matches) and a PCRE2 pattern with
 * named groups: host (or host2), user, session, attempts, svc, time.
 * The prefilter is Wu-Manber over all anchors (blocks of 3 bytes, window
 * of the shortest anchor): on mail logs it looks at about one byte in
 * eight, so lines without an anchor cost a few nanoseconds.
 * UNSAFE: raw memory (the prefilter's byte loop).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <stdlib.h>
#include <string.h>

#include "sources/logpat.h"

#define LOGPAT_MAX_ANCHORS	64
#define LOGPAT_RULE_ANCHORS	4
#define LOGPAT_MATCH_LIMIT	200000	/* PCRE2 backtracking steps per rule */
#define LOGPAT_DEPTH_LIMIT	10000
#define WM_HASH_BITS		13
#define WM_HASH_SIZE		(1u << WM_HASH_BITS)

/* The address as the daemon writes it: IPv4, IPv6, v4-mapped. */
#define IP		"[0-9A-Fa-f:.]{2,45}"
#define HOST		"(?<host>" IP ")"

struct logpat_rule_def {
	const char	*name;
	unsigned	 set;
	const char	*service;	/* "" = from the svc group */
	const char	*anchors[LOGPAT_RULE_ANCHORS];
	const char	*pattern;
};

static const struct logpat_rule_def rule_defs[] = {
	/* Postfix smtpd (any instance or service name: postfix-in/,
	   submission/, smtps/) with SASL: the address in brackets is the
	   one Postfix resolved the connection to; "unknown" or a verified
	   reverse name (no brackets, no spaces) precedes it. A lost
	   connection to the auth server or an unsupported mechanism is no
	   password guess. */
	{ "postfix-sasl", LOGPAT_SET_POSTFIX, "smtp", { "uthentication fail" },
	  "postfix(?:-[\\w.-]+)?/(?:[\\w.-]+/)*smtpd\\[\\d+\\]: warning: "
	  "[^\\s\\[\\]]*\\[" HOST "\\](?::\\d+)?: SASL [\\w-]+ authentication "
	  "failed:(?! Connection lost to authentication server)"
	  "(?! Invalid authentication mechanism)"
	  "(?:.*, sasl_username=(?<user>.*))?" },
	/* Dovecot login processes: the summary when a client gives up or is
	   cut off after failures, plaintext auth refused, proxy auth failed.
	   The user name comes before rip=; the last rip= is Dovecot's. */
	{ "dovecot-login", LOGPAT_SET_DOVECOT, "",
	  { "(auth failed, ", "(tried to use ", "(proxy dest auth failed)" },
	  "\\b(?<svc>imap|pop3|submission|managesieve|lmtp)-login: "
	  "(?:Info: )?.*?\\((?:auth failed, (?<attempts>\\d{1,6}) attempts?[^)]*"
	  "|tried to use (?:disabled|disallowed) [\\w-]+ auth"
	  "|proxy dest auth failed)\\)(?: \\(\\w+\\))?: "
	  "(?:user=<(?<user>[^>]*)>, )?(?:.*\\b)?rip=" HOST "(?:,|$)"
	  "(?:.*\\bsession=<(?<session>[^>]*)>)?" },
	/* Dovecot auth process, one line per attempt (auth_verbose=yes):
	   passdb(user,rip[,<session>]): reason. The user name may hold
	   anything, so the last "(...,addr): reason" wins. */
	{ "dovecot-passdb", LOGPAT_SET_DOVECOT, "",
	  { ": unknown user", "assword mismatch", "_authenticate() failed",
	    "invalid credentials" },
	  "\\b(?:pam|passwd-file|sql|ldap|shadow|passwd|checkpassword|bsdauth"
	  "|vpopmail|lua|oauth2|static|imap|dict)\\((?<user>.*)," HOST
	  "(?:,<(?<session>[^>]*)>|,)?\\): (?:unknown user|Password mismatch"
	  "|invalid credentials|pam_authenticate\\(\\) failed: )" },
	/* Dovecot 2.4: auth(user,rip,mech)<session>: passdb: reason */
	{ "dovecot-passdb", LOGPAT_SET_DOVECOT, "",
	  { ": unknown user", "assword mismatch" },
	  "\\bauth\\((?<user>.*)," HOST ",(?:sasl:)?[\\w-]+\\)"
	  "(?:<(?<session>[^>]*)>)?: (?:Info: )?[\\w-]+: "
	  "(?:unknown user|Password mismatch)" },
	/* PAM's own line for Dovecot: ruser is the login name (client
	   text), so rhost is taken where the rest of the line fits. */
	{ "dovecot-pam", LOGPAT_SET_DOVECOT, "", { "uthentication fail" },
	  "pam_unix\\(dovecot:auth\\): authentication failure; .*? "
	  "ruser=(?<ruser>.*?) rhost=" HOST "(?:\\s+user=(?<user>.*?))?\\s*$" },
	/* Exim: "<driver> authenticator failed for [name ][(helo) ][addr]".
	   The HELO is client text (balanced parentheses only), set_id too
	   (no brackets), and the line must end after them. */
	{ "exim-auth", LOGPAT_SET_EXIM, "smtp", { "authenticator failed" },
	  "\\b[\\w-]+ authenticator failed for (?:[^\\s()\\[\\]]+ )?"
	  "(?:\\((?:[^()]|\\([^()]*\\))*\\) )?\\[" HOST "\\](?::\\d+)?"
	  "(?: I=\\[" IP "\\](?::\\d+)?)?(?: Ci=\\d+)?: 535 Incorrect "
	  "authentication data(?: \\(set_id=(?<user>[^()\\[\\]]*)\\))?"
	  "(?:: \\d+ Time\\(s\\))?\\s*$" },
	/* Courier imapd/pop3d (and -ssl, courierpop3login) */
	{ "courier-login", LOGPAT_SET_COURIER, "imap", { "LOGIN FAILED, " },
	  ": LOGIN FAILED, (?:user=(?<user>.*), |method=[\\w-]+, )?"
	  "ip=\\[" HOST "\\](?:, port=\\[\\d+\\])?\\s*$" },
	{ "courier-smtp-auth", LOGPAT_SET_COURIER, "smtp",
	  { "535 Authentication failed" },
	  "courieresmtpd(?:\\[\\d+\\])?: error,relay=" HOST "(?:,port=\\d+)?,"
	  "msg=\"535 Authentication failed\\.\",cmd: " },
	/* Cyrus imapd/pop3d/timsieved */
	{ "cyrus-badlogin", LOGPAT_SET_CYRUS, "imap", { "]: badlogin: " },
	  "badlogin: (?:[^\\s\\[\\]]+ ?)?\\[" HOST "\\] [\\w-]+ "
	  "(?:(?<user>[^\\s\\[]+) )?(?:\\[?SASL\\(-\\d+\\)|authentication failure)" },
	/* Sendmail: AUTH failures (8.16: AUTH_FAIL_LOG_USER; user= is
	   client text, so the last relay= is the host) and its own count of
	   failed AUTH commands. */
	{ "sendmail-auth", LOGPAT_SET_SENDMAIL, "smtp", { "AUTH failure (" },
	  "AUTH failure \\([\\w-]+\\): .*?(?:, user=(?<user>.*))?, relay="
	  "(?:[^\\s\\[\\]]+ )?\\[" HOST "\\](?: \\(may be forged\\))?\\s*$" },
	{ "sendmail-auth-attack", LOGPAT_SET_SENDMAIL, "smtp",
	  { "command=AUTH, count=" },
	  "\\[" HOST "\\](?: \\(may be forged\\))?: possible SMTP attack: "
	  "command=AUTH, count=\\d+" },
	/* Roundcube: userlogins and errors logs, or syslog. The IMAP answer
	   after the address may echo the user name, so the address must be
	   followed by the end, ". AUTHENTICATE|LOGIN ...", or " in session". */
	{ "roundcube", LOGPAT_SET_ROUNDCUBE, "webmail",
	  { "Login failed for ", "FAILED login for ", "Failed login for " },
	  "(?:IMAP Error: Login failed|FAILED login|Failed login) for "
	  "(?<user>.*) from " HOST "(?:\\(X-Real-IP: [^)]*\\))?"
	  "(?:\\. (?:AUTHENTICATE|LOGIN) .*| in session .*)?\\s*$" },
	{ "sogo", LOGPAT_SET_SOGO, "webmail", { "might not have worked" },
	  "SOGoRootPage Login from '" HOST "(?:, [^']*)?' for user "
	  "'(?<user>.*)' might not have worked" },
	{ "horde", LOGPAT_SET_WEBMAIL, "webmail", { "FAILED LOGIN for " },
	  "FAILED LOGIN for (?<user>.*) \\[" HOST "\\] to (?:Horde|\\{)" },
	{ "squirrelmail", LOGPAT_SET_WEBMAIL, "webmail", { "[LOGIN_ERROR] " },
	  "\\[LOGIN_ERROR\\] (?<user>.*) from " HOST
	  ": Unknown user or password incorrect" },
	{ "openwebmail", LOGPAT_SET_WEBMAIL, "webmail",
	  { " - login error -", " - userinfo error -" },
	  " - \\[\\d+\\] \\(" HOST "\\) (?<user>\\S*) - (?:login|userinfo) error -" },
	{ "groupoffice", LOGPAT_SET_WEBMAIL, "webmail", { "LOGIN FAILED for user" },
	  "LOGIN FAILED for user: \"(?<user>.*)\" from IP: " HOST "\\s*$" },
	{ "tine20", LOGPAT_SET_WEBMAIL, "webmail", { "Login with username " },
	  "(?<time>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(?:[+-]\\d\\d:?\\d\\d|Z)?)"
	  " WARN \\(\\d+\\): Tinebase_Controller::login::\\d+ Login with username "
	  "(?<user>.*) from " HOST " failed \\(-?\\d+\\)!" },
	/* UW-IMAP imapd/ipop3d: the last [addr] of the line */
	{ "uwimap", LOGPAT_SET_OTHER, "imap",
	  { "Login failed user=", "Login excessive login ", "Login disabled user=",
	    " override of user=" },
	  "(?:Login (?:failed|excessive login failures|disabled)|Failed \\w+ "
	  "override of) user=(?<user>\\S*).* host=.*\\[" HOST "\\]\\s*$" },
	{ "solid-pop3d", LOGPAT_SET_OTHER, "pop3",
	  { "uthentication fail", "root login not allowed", "find APOP secret" },
	  "solid-pop3d\\[\\d+\\]: (?:authentication failed\\b|root login not "
	  "allowed|can't find APOP secret|APOP authentication failed).* - "
	  HOST "\\s*$" },
	/* Oracle Communications Messaging Server (LOG_FORMAT=4): the client
	   address is the 4th field of tr=, written by the server */
	{ "oracleims", LOGPAT_SET_OTHER, "smtp", { "mi=\"Bad password\"" },
	  "<co ts=\"(?<time>\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d)[^\"]*\"[^>]*? "
	  "tr=\"TCP\\|[^|\"]*\\|\\d+\\|" HOST "\\|\\d+\"[^>]*? "
	  "mi=\"Bad password\"(?: us=\"(?<user>[^\"]*)\")?" },
	{ "perdition", LOGPAT_SET_OTHER, "imap",
	  { "status=\"failed", "Fatal Error reading authentication" },
	  "perdition[.\\w]*\\[\\d+\\]: (?:Auth: " HOST ":\\d+->.* status=\"failed"
	  "|Fatal Error reading authentication information from client "
	  "(?<host2>" IP "):\\d+->)" },
};

#define LOGPAT_NRULES	MW_N_ELEMENTS(rule_defs)

static const struct {
	const char	*name;
	unsigned	 set;
} set_names[] = {
	{ "postfix", LOGPAT_SET_POSTFIX }, { "dovecot", LOGPAT_SET_DOVECOT },
	{ "exim", LOGPAT_SET_EXIM }, { "courier", LOGPAT_SET_COURIER },
	{ "cyrus", LOGPAT_SET_CYRUS }, { "sendmail", LOGPAT_SET_SENDMAIL },
	{ "roundcube", LOGPAT_SET_ROUNDCUBE }, { "sogo", LOGPAT_SET_SOGO },
	{ "webmail", LOGPAT_SET_WEBMAIL }, { "other", LOGPAT_SET_OTHER },
	{ "all", LOGPAT_SET_ALL },
};

struct logpat_rule {
	const struct logpat_rule_def *def;
	pcre2_code	*code;
	bool		 jit;
	uint64_t	 anchor_mask;
	uint32_t	 g_host, g_host2, g_user, g_ruser, g_session, g_attempts,
			 g_svc, g_time;	/* group numbers, 0 = none */
};

struct logpat_anchor {
	const char	*text;
	size_t		 len;
};

struct logpat {
	struct logpat_rule	 rules[LOGPAT_NRULES];
	size_t			 nrules;
	struct logpat_anchor	 anchors[LOGPAT_MAX_ANCHORS];
	size_t			 nanchors;
	/* Wu-Manber: window m, SHIFT per hashed 2-byte block, and for
	   blocks that end a window, the anchors ending there (bit mask). */
	size_t			 wm_m;
	uint8_t			 wm_shift[WM_HASH_SIZE];
	uint64_t		 wm_tail[WM_HASH_SIZE];
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
};

unsigned
logpat_set_parse(struct mw_slice name)
{
	for (size_t i = 0; i < MW_N_ELEMENTS(set_names); i++)
		if (mw_slice_eq_cstr(name, set_names[i].name))
			return set_names[i].set;
	return 0;
}

const char *
logpat_set_names(void)
{
	return "postfix dovecot exim courier cyrus sendmail roundcube sogo "
	    "webmail other all";
}

/* Blocks of 3 bytes: pairs such as "in" or "er" are everywhere in mail
   logs, triples much less, so the scan moves on by more. v holds the
   three bytes, the first in the low bits. */
static inline unsigned
wm_hash(uint32_t v)
{
	return (unsigned)((v * 2654435761u) >> (32 - WM_HASH_BITS));
}

static inline uint32_t
wm_block(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

/* The block ending at t[i] (i >= 3): one unaligned load where the byte
   order allows. */
static inline uint32_t
wm_block_at(const unsigned char *t, size_t i)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint32_t w;

	memcpy(&w, t + i - 3, sizeof(w));
	return w >> 8;
#else
	return wm_block(t + i - 2);
#endif
}

static size_t
anchor_add(struct logpat *lp, const char *text)
{
	for (size_t i = 0; i < lp->nanchors; i++)
		if (strcmp(lp->anchors[i].text, text) == 0)
			return i;
	MW_ASSERT(lp->nanchors < LOGPAT_MAX_ANCHORS);
	lp->anchors[lp->nanchors] = (struct logpat_anchor){ text, strlen(text) };
	return lp->nanchors++;
}

static void
wm_build(struct logpat *lp)
{
	size_t m = SIZE_MAX;

	for (size_t i = 0; i < lp->nanchors; i++)
		if (lp->anchors[i].len < m)
			m = lp->anchors[i].len;
	MW_ASSERT(m >= 4 && m < 255);	/* wm_block_at reads t[i - 3] */
	lp->wm_m = m;
	memset(lp->wm_shift, (int)(m - 2), sizeof(lp->wm_shift));
	memset(lp->wm_tail, 0, sizeof(lp->wm_tail));
	for (size_t i = 0; i < lp->nanchors; i++) {
		const unsigned char *p = (const unsigned char *)lp->anchors[i].text;

		for (size_t j = 2; j < m; j++) {
			unsigned h = wm_hash(wm_block(p + j - 2));
			size_t shift = m - 1 - j;

			if (shift < lp->wm_shift[h])
				lp->wm_shift[h] = (uint8_t)shift;
		}
		lp->wm_tail[wm_hash(wm_block(p + m - 3))] |= 1ull << i;
	}
}

/* Scans buf[from..len) for anchors. Returns the offset where the first
   found anchor starts (len: none); *mask_r gets the anchors that start
   there (all anchors of the line when want_all). */
static size_t
wm_scan(const struct logpat *lp, const char *buf, size_t len, size_t from,
    bool want_all, uint64_t *mask_r)
{
	const unsigned char *t = (const unsigned char *)buf;
	size_t m = lp->wm_m, i = from + m - 1, first = len;
	uint64_t found = 0;

	while (i < len) {
		unsigned h = wm_hash(wm_block_at(t, i));
		size_t s = lp->wm_shift[h];

		if (s != 0) {
			i += s;
			continue;
		}
		for (uint64_t cand = lp->wm_tail[h]; cand != 0; cand &= cand - 1) {
			unsigned k = (unsigned)__builtin_ctzll(cand);
			const struct logpat_anchor *an = &lp->anchors[k];
			size_t start = i + 1 - m;

			/* the first byte rules most candidates out, no call */
			if (buf[start] == an->text[0] && start + an->len <= len &&
			    memcmp(buf + start, an->text, an->len) == 0) {
				found |= 1ull << k;
				if (start < first)
					first = start;
			}
		}
		if (found != 0 && !want_all)
			break;
		i++;
	}
	*mask_r = found;
	return first;
}

size_t
logpat_next_candidate(const struct logpat *lp, const char *buf, size_t len,
    size_t from)
{
	uint64_t mask;

	if (from >= len)
		return len;
	return wm_scan(lp, buf, len, from, false, &mask);
}

static uint32_t
group_number(pcre2_code *code, const char *name)
{
	int n = pcre2_substring_number_from_name(code, (PCRE2_SPTR)name);

	return n > 0 ? (uint32_t)n : 0;
}

int
logpat_new(unsigned sets, struct logpat **lp_r, const char **error_r)
{
	struct logpat *lp = mw_calloc(1, sizeof(*lp));
	uint32_t max_groups = 0;

	for (size_t i = 0; i < LOGPAT_NRULES; i++) {
		const struct logpat_rule_def *d = &rule_defs[i];
		struct logpat_rule *r;
		int err;
		PCRE2_SIZE erroff;
		uint32_t ng;

		if ((d->set & sets) == 0)
			continue;
		r = &lp->rules[lp->nrules++];
		r->def = d;
		r->code = pcre2_compile((PCRE2_SPTR)d->pattern, PCRE2_ZERO_TERMINATED,
		    PCRE2_DUPNAMES, &err, &erroff, NULL);
		if (r->code == NULL) {
			*error_r = "logpat: a built-in pattern does not compile";
			lp->nrules--;
			logpat_free(&lp);
			return -1;
		}
		r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
		for (size_t j = 0; j < LOGPAT_RULE_ANCHORS && d->anchors[j]; j++)
			r->anchor_mask |= 1ull << anchor_add(lp, d->anchors[j]);
		r->g_host = group_number(r->code, "host");
		r->g_host2 = group_number(r->code, "host2");
		r->g_user = group_number(r->code, "user");
		r->g_ruser = group_number(r->code, "ruser");
		r->g_session = group_number(r->code, "session");
		r->g_attempts = group_number(r->code, "attempts");
		r->g_svc = group_number(r->code, "svc");
		r->g_time = group_number(r->code, "time");
		MW_ASSERT(r->g_host != 0);
		MW_ASSERT(pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT,
		    &ng) == 0);
		if (ng > max_groups)
			max_groups = ng;
	}
	if (lp->nrules == 0) {
		*error_r = "logpat: no pattern set selected";
		logpat_free(&lp);
		return -1;
	}
	wm_build(lp);
	lp->md = pcre2_match_data_create(max_groups + 1, NULL);
	lp->mctx = pcre2_match_context_create(NULL);
	if (lp->md == NULL || lp->mctx == NULL)
		mw_panic("pcre2: out of memory");
	(void)pcre2_set_match_limit(lp->mctx, LOGPAT_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(lp->mctx, LOGPAT_DEPTH_LIMIT);
	*lp_r = lp;
	return 0;
}

void
logpat_free(struct logpat **lpp)
{
	struct logpat *lp = *lpp;

	if (lp == NULL)
		return;
	for (size_t i = 0; i < lp->nrules; i++)
		pcre2_code_free(lp->rules[i].code);
	pcre2_match_data_free(lp->md);
	pcre2_match_context_free(lp->mctx);
	mw_free(lpp);
}

size_t
logpat_rule_count(const struct logpat *lp)
{
	return lp->nrules;
}

const char *
logpat_rule_name(const struct logpat *lp, size_t i)
{
	return i < lp->nrules ? lp->rules[i].def->name : NULL;
}

static struct mw_slice
group_slice(const PCRE2_SIZE *ov, uint32_t g, struct mw_slice line)
{
	if (g == 0 || ov[2 * g] == PCRE2_UNSET)
		return (struct mw_slice){ line.ptr, 0 };
	return (struct mw_slice){ line.ptr + ov[2 * g], ov[2 * g + 1] - ov[2 * g] };
}

static const char *
service_name(struct mw_slice svc)
{
	static const char *const names[] = { "imap", "pop3", "submission",
		"managesieve", "lmtp" };

	for (size_t i = 0; i < MW_N_ELEMENTS(names); i++)
		if (mw_slice_eq_cstr(svc, names[i]))
			return names[i];
	return "";
}

static bool
rule_match(struct logpat *lp, const struct logpat_rule *r,
    struct mw_slice line, struct logpat_clock *clk, struct logpat_match *m)
{
	PCRE2_SIZE *ov;
	struct mw_slice host, user;
	int rc;

	if (r->jit)
		rc = pcre2_jit_match(r->code, (PCRE2_SPTR)line.ptr, line.len, 0, 0,
		    lp->md, lp->mctx);
	else
		rc = pcre2_match(r->code, (PCRE2_SPTR)line.ptr, line.len, 0, 0,
		    lp->md, lp->mctx);
	if (rc <= 0)
		return false;	/* no match, or a limit hit: no match either */
	ov = pcre2_get_ovector_pointer(lp->md);
	host = group_slice(ov, r->g_host, line);
	if (host.len == 0)
		host = group_slice(ov, r->g_host2, line);
	if (host.len == 0 ||
	    mw_addr_parse_len(host.ptr, host.len, &m->addr) < 0)
		return false;
	m->rule = r->def->name;
	m->service = r->def->service[0] != '\0' ? r->def->service :
	    service_name(group_slice(ov, r->g_svc, line));
	user = group_slice(ov, r->g_user, line);
	if (user.len == 0)
		user = group_slice(ov, r->g_ruser, line);
	if (user.len > LOGPAT_MAX_ACCOUNT)
		user.len = LOGPAT_MAX_ACCOUNT;
	m->account = user;
	m->session = group_slice(ov, r->g_session, line);
	m->attempts = 1;
	m->summary = false;
	if (r->g_attempts != 0 && ov[2 * r->g_attempts] != PCRE2_UNSET) {
		uint32_t n;

		if (mw_slice_to_u32(group_slice(ov, r->g_attempts, line), 999999,
		    &n) == 0 && n > 0)
			m->attempts = n;
		m->summary = true;
	}
	m->has_time = false;
	if (r->g_time != 0 && ov[2 * r->g_time] != PCRE2_UNSET)
		m->has_time = logpat_time_parse(group_slice(ov, r->g_time, line),
		    clk, &m->time_ms);
	if (!m->has_time)
		m->has_time = logpat_time_parse(line, clk, &m->time_ms);
	return true;
}

bool
logpat_match(struct logpat *lp, struct mw_slice line,
    struct logpat_clock *clk, struct logpat_match *m_r)
{
	uint64_t mask;

	while (line.len > 0 && (line.ptr[line.len - 1] == '\n' ||
	    line.ptr[line.len - 1] == '\r'))
		line.len--;
	if (line.len > LOGPAT_MAX_LINE || line.len < lp->wm_m)
		return false;
	(void)wm_scan(lp, line.ptr, line.len, 0, true, &mask);
	if (mask == 0)
		return false;
	for (size_t i = 0; i < lp->nrules; i++) {
		const struct logpat_rule *r = &lp->rules[i];

		if ((r->anchor_mask & mask) != 0 && rule_match(lp, r, line, clk, m_r))
			return true;
	}
	return false;
}

/* --- attempt accounting -------------------------------------------- */

struct logpat_dedup {
	size_t		 nslots;	/* a power of two */
	uint64_t	*slots;		/* FNV-1a of session ids; 0 = empty */
};

/* Direct-mapped: a newer session may evict an older one sharing its
   slot, which then counts its summary again (never fewer failures). */
struct logpat_dedup *
logpat_dedup_new(size_t slots)
{
	struct logpat_dedup *d = mw_calloc(1, sizeof(*d));

	d->nslots = 1;
	while (d->nslots < slots && d->nslots < (1u << 24))
		d->nslots <<= 1;
	d->slots = mw_calloc(d->nslots, sizeof(*d->slots));
	return d;
}

void
logpat_dedup_free(struct logpat_dedup **dp)
{
	if (*dp == NULL)
		return;
	mw_free(&(*dp)->slots);
	mw_free(dp);
}

static uint64_t
session_hash(struct mw_slice s)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < s.len; i++) {
		h ^= (unsigned char)s.ptr[i];
		h *= 1099511628211ull;
	}
	return h != 0 ? h : 1;
}

uint32_t
logpat_dedup_attempts(struct logpat_dedup *d, const struct logpat_match *m)
{
	uint64_t h;
	size_t slot;

	if (m->session.len == 0)
		return m->attempts;
	h = session_hash(m->session);
	slot = (size_t)(h >> 40) & (d->nslots - 1);
	if (m->summary)
		return d->slots[slot] == h ? 0 : m->attempts;
	d->slots[slot] = h;
	return m->attempts;
}
