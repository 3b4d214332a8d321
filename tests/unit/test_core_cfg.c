/*
 * test_core_cfg - mailward.conf validation: each error kind with its
 * exact text (file:line: section: key: message), defaults, presets,
 * relative paths, weights; and the strict number/duration parsers the
 * config is built on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/slice.h"

static const struct {
	const char *text;
	const char *want_error;	/* NULL: must load */
} cases[] = {
	{ "[daemon]\nstate_dir = var\n",
	  "t.conf:2: daemon: state_dir: \"var\" must be an absolute path" },
	{ "[daemon]\nusr = x\n",
	  "t.conf:2: daemon: usr: unknown key; did you mean \"user\"?" },
	{ "[deamon]\nuser = x\n",
	  "t.conf:1: unknown section [deamon]; did you mean [daemon]?" },
	/* an unknown section is reported once, at its [section] line */
	{ "\n[foo]\na = 1\nb = 2\n",
	  "t.conf:2: unknown section [foo] (daemon, policy, authpolicy, admin, "
	  "store, dnsbl, dnsbl:NAME, lists, login, firewall, logwatch, "
	  "dashboard or geoip)" },
	/* [geoip] database must open as a MaxMind DB */
	{ "[geoip]\ndatabase = /nonexistent/x.mmdb\n",
	  "t.conf:2: geoip: database: \"/nonexistent/x.mmdb\" does not exist "
	  "(expected a MaxMind DB file such as GeoLite2-Country.mmdb, or empty "
	  "for no countries)" },
	{ "[geoip]\ndatabase = /etc/hostname\n",
	  "t.conf:2: geoip: database: \"/etc/hostname\" is not a MaxMind DB "
	  "(.mmdb) file (expected a MaxMind DB file such as "
	  "GeoLite2-Country.mmdb, or empty for no countries)" },
	{ "[geoip]\ndatabase =\n", NULL },
	/* [dashboard]: passwords and cookies must not cross a network in
	   clear text */
	{ "[dashboard]\nlisten = 0.0.0.0:10048\n",
	  "t.conf:2: dashboard: listen: 0.0.0.0:10048 is not a loopback "
	  "address and TLS is off: set tls_certificate and tls_key (see "
	  "docs/dashboard.md), or listen on 127.0.0.1 behind a reverse proxy" },
	{ "[dashboard]\nlisten = [2001:db8::1]:443\n",
	  "t.conf:2: dashboard: listen: [2001:db8::1]:443 is not a loopback "
	  "address and TLS is off: set tls_certificate and tls_key (see "
	  "docs/dashboard.md), or listen on 127.0.0.1 behind a reverse proxy" },
	{ "[dashboard]\nlisten = 0.0.0.0:10048\nenabled = no\n", NULL },
	{ "[dashboard]\nlisten = 127.0.0.2:10048\n", NULL },
	{ "[dashboard]\nlisten = [::1]:10048\n", NULL },
	{ "[dashboard]\nlisten = 192.0.2.1:443\ntls_certificate = /c.pem\n"
	  "tls_key = /k.pem\n", NULL },
	{ "[dashboard]\ntls_certificate = /c.pem\n",
	  "t.conf:2: dashboard: tls_key: missing: TLS needs both "
	  "tls_certificate and tls_key" },
	{ "[dashboard]\nlisten =\n",
	  "t.conf:2: dashboard: listen: is empty: set an address such as "
	  "127.0.0.1:10048, or enabled = no" },
	{ "[dashboard]\ntrusted_proxy = proxy.example\n",
	  "t.conf:2: dashboard: trusted_proxy: \"proxy.example\" is not an IP "
	  "address (expected the reverse proxy's address such as 127.0.0.1)" },
	{ "[dashboard]\nsession_idle_timeout = 2d\n",
	  "t.conf:2: dashboard: session_idle_timeout: \"2d\" is not valid "
	  "(expected a duration such as 30m, at most 1d)" },
	{ "[dashboard]\nweb_root = web/dist\n",
	  "t.conf:2: dashboard: web_root: \"web/dist\" must be an absolute path" },
	{ "[dashbord]\nlisten = 127.0.0.1:1\n",
	  "t.conf:1: unknown section [dashbord]; did you mean [dashboard]?" },
	/* [firewall]: the table name ends up in nft commands */
	{ "[firewall]\ntable = mail;flush ruleset\n",
	  "t.conf:2: firewall: table: \"mail;flush ruleset\" is not valid "
	  "(expected a name of letters, digits and _ (at most 32), starting "
	  "with a letter)" },
	{ "[firewall]\ntable = 1x\n",
	  "t.conf:2: firewall: table: \"1x\" is not valid (expected a name of "
	  "letters, digits and _ (at most 32), starting with a letter)" },
	{ "[firewall]\nports = 25 0\n",
	  "t.conf:2: firewall: ports: \"25 0\" is not valid (expected TCP port "
	  "numbers such as \"25 465 587\", or all)" },
	{ "[firewall]\nports =\n",
	  "t.conf:2: firewall: ports: \"\" is not valid (expected TCP port "
	  "numbers such as \"25 465 587\", or all)" },
	{ "[firewall]\npriority = 2000\n",
	  "t.conf:2: firewall: priority: \"2000\" is not valid (expected a "
	  "whole number from -1000 to 1000 (filter is 0))" },
	{ "[firewall]\nenabled = yes\ntable = mw_2\nports = all\n"
	  "priority = -150\n", NULL },
	/* [logwatch] */
	{ "[logwatch]\nfiles = /var/log/mail.log mail.err\n",
	  "t.conf:2: logwatch: files: \"mail.err\" is not an absolute path "
	  "(e.g. /var/log/mail.log)" },
	{ "[logwatch]\nfiles = /var/log/mail.log\nfiles = /var/log/mail.log\n",
	  "t.conf:3: logwatch: files: \"/var/log/mail.log\" is listed twice" },
	{ "[logwatch]\npoll_interval = 50ms\n",
	  "t.conf:2: logwatch: poll_interval: is shorter than 100ms" },
	{ "[logwatch]\nenabled = yes\n",
	  "t.conf:2: logwatch: enabled: nothing to watch: add files = "
	  "/var/log/mail.log (or journal = yes)" },
	{ "[logwatch]\nenabled = yes\nfiles = /var/log/mail.log /var/log/mail.err\n"
	  "files = /var/log/dovecot.log\npatterns = postfix dovecot\n", NULL },
	/* [authpolicy] */
	{ "[authpolicy]\nhash_truncate = 257\n",
	  "t.conf:2: authpolicy: hash_truncate: \"257\" is not valid (expected "
	  "Dovecot's auth_policy_hash_truncate: 0 to 256 bits)" },
	{ "[authpolicy]\nhash_truncate = -1\n",
	  "t.conf:2: authpolicy: hash_truncate: \"-1\" is not valid (expected "
	  "Dovecot's auth_policy_hash_truncate: 0 to 256 bits)" },
	{ "[authpolicy]\nenabled = yes\nlisten =\n",
	  "t.conf:2: authpolicy: enabled: yes, but listen and unix_socket are "
	  "both empty: set listen = 127.0.0.1:10047" },
	{ "[authpolicy]\n\napi_key = two words\n",
	  "t.conf:3: authpolicy: api_key: must be one word of at most 256 bytes "
	  "(e.g. from: openssl rand -hex 24)" },
	{ "[authpolicy]\nlisten = localhost:10047\n",
	  "t.conf:2: authpolicy: listen: \"localhost:10047\" is not valid "
	  "(expected 127.0.0.1:10047 or [::1]:10047, or empty)" },
	{ "[authpolicy]\ntimeout = 2h\n",
	  "t.conf:2: authpolicy: timeout: \"2h\" is not valid (expected a "
	  "duration such as 60s, at most 1h)" },
	{ "[authpolicy]\nenabled = yes\nlisten =\nunix_socket = /run/a.sock\n"
	  "hash_truncate = 0\napi_key = k3y\n", NULL },
	{ "[auth_policy]\nenabled = yes\n",
	  "t.conf:1: unknown section [auth_policy]; did you mean [authpolicy]?" },
	{ "[dnsbl.zen]\npreset = spamcop\n",
	  "t.conf:1: unknown section [dnsbl.zen]; did you mean [dnsbl:zen]?" },
	{ "user = x\n",
	  "t.conf:1: user: key outside a section; put it below its [section] "
	  "line" },
	{ "[daemon]\nuser = a\nuser = b\n",
	  "t.conf:3: daemon: user: set twice (first on line 2); keep one" },
	{ "[dnsbl:x]\nzone = a.test\nzone = b.test\nweights = 127.0.0.2=1\n",
	  "t.conf:3: dnsbl:x: zone: set twice (first on line 2); keep one" },
	{ "[policy]\nlisten = 127.0.0.1\n",
	  "t.conf:2: policy: listen: \"127.0.0.1\" is not valid (expected "
	  "127.0.0.1:10045 or [::1]:10045, or empty)" },
	{ "[policy]\nlisten = 127.0.0.1:0\n",
	  "t.conf:2: policy: listen: \"127.0.0.1:0\" is not valid (expected "
	  "127.0.0.1:10045 or [::1]:10045, or empty)" },
	{ "[policy]\nreject_text = %s and %s\n",
	  "t.conf:2: policy: reject_text: \"%s and %s\" has more than one %s "
	  "(the reason is inserted once)" },
	{ "[policy]\nreject_text = 100%\n",
	  "t.conf:2: policy: reject_text: \"100%\" has a % directive other than "
	  "%s or %%" },
	/* [login] (issue 3) */
	{ "[authpolicy]\nhash_nonce = n0nce\n[login]\nweak_password = yes\n",
	  "t.conf:4: login: weak_password: needs [authpolicy] hash_truncate of "
	  "at least 32 (now 12): set auth_policy_hash_truncate = 32 (or more) "
	  "in Dovecot and hash_truncate to the same value, or set "
	  "weak_password = no" },
	{ "[authpolicy]\nhash_truncate = 32\n[login]\nweak_password = yes\n",
	  "t.conf:4: login: weak_password: needs [authpolicy] hash_nonce: copy "
	  "Dovecot's auth_policy_hash_nonce" },
	{ "[authpolicy]\nhash_truncate = 32\nhash_nonce = n0nce\n[login]\n"
	  "weak_password = yes\n", NULL },
	{ "[authpolicy]\nhash_truncate = 0\nhash_nonce = n0nce\n[login]\n"
	  "weak_password = yes\n", NULL },
	{ "[login]\nnetwork_bits_v4 = 4\n",
	  "t.conf:2: login: network_bits_v4: 4 is too short (expected a "
	  "prefix length from 8 to 32)" },
	{ "[login]\nnetwork_bits_v6 = 129\n",
	  "t.conf:2: login: network_bits_v6: \"129\" is not valid (expected "
	  "a prefix length from 16 to 128)" },
	{ "[login]\ntarpit_after = 20\n",
	  "t.conf:2: login: tarpit_after: is larger than ban_after (a client "
	  "is tarpitted before it is banned)" },
	{ "[login]\nban_time = 2d\nban_max = 1d\n",
	  "t.conf:3: login: ban_max: is shorter than ban_time" },
	{ "[login]\ndistributed_action = block\n",
	  "t.conf:2: login: distributed_action: \"block\" is not valid "
	  "(expected tarpit or reject)" },
	{ "[login]\ndistributed_addresses = 33\n",
	  "t.conf:2: login: distributed_addresses: \"33\" is not valid "
	  "(expected a number of addresses from 2 to 32)" },
	{ "[login]\nwindow = 1h\nban_after = 20\ndistributed_action = reject\n"
	  "trust_known = no\nban_permanent = yes\n", NULL },
	{ "[policy]\nmax_connections = 0\n",
	  "t.conf:2: policy: max_connections: \"0\" is not valid (expected a "
	  "number from 1 to 100000)" },
	{ "[policy]\nsubmission_ports = 587 70000\n",
	  "t.conf:2: policy: submission_ports: \"587 70000\" is not valid "
	  "(expected port numbers such as \"587 465\")" },
	{ "[dnsbl]\ntimeout = 2x\n",
	  "t.conf:2: dnsbl: timeout: \"2x\" is not valid (expected a duration "
	  "such as 2s or 500ms, at most 60s)" },
	{ "[dnsbl]\ntimeout = 90s\n",
	  "t.conf:2: dnsbl: timeout: \"90s\" is not valid (expected a duration "
	  "such as 2s or 500ms, at most 60s)" },
	{ "[dnsbl]\naction = drop\n",
	  "t.conf:2: dnsbl: action: \"drop\" is not valid (expected reject, "
	  "defer or warn)" },
	{ "[dnsbl]\nresolver = dns.google\n",
	  "t.conf:2: dnsbl: resolver: \"dns.google\" is not valid (expected "
	  "127.0.0.1 or 127.0.0.1:53, or empty for /etc/resolv.conf)" },
	{ "[store]\nbackend = redis\n",
	  "t.conf:2: store: backend: \"redis\" is not available in this "
	  "version; use sqlite" },
	{ "[dnsbl:x]\npreset = spamhouse\n",
	  "t.conf:2: dnsbl:x: preset: unknown preset \"spamhouse\" "
	  "(spamhaus-zen, spamcop, barracuda, or empty)" },
	/* an empty preset is allowed, then weights are required */
	{ "[dnsbl:x]\npreset =\nzone = bl.test\n",
	  "t.conf:1: dnsbl:x: weights: missing: set preset = or weights = (e.g. "
	  "\"127.0.0.2=2\")" },
	/* checks made after reading still come out in line order */
	{ "[dnsbl:x]\nenabled = yes\n[daemon]\nstate_dir = rel\n",
	  "t.conf:1: dnsbl:x: zone: missing: set zone = (e.g. zen.spamhaus.org) "
	  "or a preset\n"
	  "t.conf:1: dnsbl:x: weights: missing: set preset = or weights = (e.g. "
	  "\"127.0.0.2=2\")\n"
	  "t.conf:4: daemon: state_dir: \"rel\" must be an absolute path" },
	{ "[dnsbl:x]\nzone = bl.test\nweights = 10.0.0.2=2\n",
	  "t.conf:3: dnsbl:x: weights: \"10.0.0.2\": answers must be addresses "
	  "in 127.0.0.0/8" },
	{ "[dnsbl:x]\nzone = bl..test\nweights = 127.0.0.2=1\n",
	  "t.conf:2: dnsbl:x: zone: \"bl..test\" is not a DNS zone name (e.g. "
	  "zen.spamhaus.org)" },
	{ "[dnsbl:x]\nzone = bl.test\nweights = 127.0.0.2=2:FOO\n",
	  "t.conf:3: dnsbl:x: weights: unknown class \"FOO\" (LISTED, SBL, CSS, "
	  "XBL, DROP, PBL or ALLOW)" },
	{ "[lists]\ndeny = 10.0.0.1/8\n",
	  "t.conf:2: lists: deny: \"10.0.0.1/8\" has host bits set; did you mean "
	  "\"10.0.0.0/8\"?" },
	{ "[lists]\nallow = 10.0.0.0/33\ndeny = ::ffff:1.2.3.4/200\n",
	  "t.conf:2: lists: allow: \"10.0.0.0/33\": prefix length must be a "
	  "number from 0 to 32 for IPv4\n"
	  "t.conf:3: lists: deny: \"::ffff:1.2.3.4/200\": prefix length must be "
	  "a number from 0 to 128 for IPv6" },
	{ "just words\n", "t.conf:1: syntax error (expected [section] or key = "
	  "value)" },
	/* every bad line is reported, not only the first */
	{ "junk\n[daemon]\nmore junk ; a = b\n[policy\nuser = \x1b[31m\n",
	  "t.conf:1: syntax error (expected [section] or key = value)\n"
	  "t.conf:3: syntax error (expected [section] or key = value)\n"
	  "t.conf:4: section line without a closing \"]\"\n"
	  "t.conf:5: daemon: user: \"?[31m\" must be printable text" },
	/* valid */
	{ "", NULL },
	{ "; comment\n[daemon]\nuser =\n[policy]\nlisten = [::1]:10045\n"
	  "reject_text = No: %s (100%% sure)\n[dnsbl]\ntimeout = 250ms\n"
	  "resolver = [::1]:5300\n", NULL },
	/* indented keys are keys (no continuation lines); inline comments */
	{ "[daemon]\n  user = mw ; the daemon user\n\tlog_level = debug\n"
	  "[lists]\ndefault_ban = permanent\n"
	  "[dnsbl:x]\npreset =\nzone = bl.test\nweights = 127.0.0.2=1\n", NULL },
};

static void
test_cfg_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(cases); i++) {
		struct cfg	*c = NULL;
		char		*error = NULL;
		int		 ret = cfg_load_string(cases[i].text,
				    strlen(cases[i].text), "t.conf", &c, &error);

		if (cases[i].want_error == NULL) {
			if (ret != 0)
				fail_msg("case %zu: %s", i, error);
			cfg_free(&c);
		} else {
			if (ret != -1)
				fail_msg("case %zu loaded", i);
			assert_string_equal(error, cases[i].want_error);
			assert_null(c);
		}
		free(error);
	}
}

static void
test_cfg_defaults_and_paths(void **state)
{
	struct cfg *c = cfg_defaults();

	(void)state;
	assert_string_equal(c->daemon.state_dir, "/var/lib/mailward");
	assert_string_equal(c->store.path, "/var/lib/mailward/mailward.db");
	assert_string_equal(c->admin.socket, "/var/lib/mailward/admin.sock");
	assert_string_equal(c->policy.listen, "127.0.0.1:10045");
	assert_int_equal(c->policy.unix_socket_mode, 0660);
	assert_int_equal(c->policy.nsubmission_ports, 2);
	assert_int_equal(c->policy.submission_ports[0], 587);
	assert_int_equal(c->dnsbl.timeout_ms, 2000);
	assert_int_equal(c->dnsbl.threshold, 2);
	assert_int_equal(c->dnsbl.nzones, 0);
	assert_int_equal(c->lists.default_ban, 86400);
	assert_true(c->dnsbl.enabled);
	/* the auth policy service is opt-in; Dovecot's defaults */
	assert_false(c->authpolicy.enabled);
	assert_string_equal(c->authpolicy.listen, "127.0.0.1:10047");
	assert_int_equal(c->authpolicy.hash_truncate, 12);
	assert_string_equal(c->authpolicy.api_key, "");
	assert_int_equal(c->authpolicy.max_connections, 1000);
	assert_int_equal(c->authpolicy.timeout, 60);
	/* the firewall is opt-in; the mail ports by default */
	assert_false(c->firewall.enabled);
	assert_string_equal(c->firewall.table, "mailward");
	assert_int_equal(c->firewall.priority, -10);
	assert_int_equal(c->firewall.nports, 8);
	assert_int_equal(c->firewall.ports[0], 25);
	assert_int_equal(c->firewall.ports[7], 4190);
	cfg_free(&c);
}

static void
test_cfg_presets_and_weights(void **state)
{
	static const char text[] =
		"[daemon]\nstate_dir = /srv/mw\n"
		"[store]\npath = /data/mw.db\n"
		"[dnsbl:zen]\npreset = spamhaus-zen\n"
		"[dnsbl:cop]\npreset = spamcop\nenabled = no\n"
		"[dnsbl:wl]\nzone = list.dnswl.test\n"
		"weights = 127.0.10.0-127.0.10.3=-2:ALLOW, 127.0.0.2=1\n"
		"[lists]\nallow = 192.0.2.0/24\ndeny = 2001:db8:bad::/48\n"
		"default_ban = 0\n";
	struct cfg	*c;
	char		*error = NULL;

	(void)state;
	if (cfg_load_string(text, strlen(text), "p.conf", &c, &error) < 0)
		fail_msg("%s", error);
	assert_string_equal(c->store.path, "/data/mw.db");
	assert_string_equal(c->admin.socket, "/srv/mw/admin.sock");
	assert_int_equal(c->dnsbl.nzones, 3);
	assert_string_equal(c->dnsbl.zones[0].zone, "zen.spamhaus.org");
	assert_true(c->dnsbl.zones[0].ipv6);
	assert_int_equal(c->dnsbl.zones[0].ncodes, 5);
	assert_int_equal(c->dnsbl.zones[0].codes[4].klass, DNSBL_CLASS_PBL);
	assert_int_equal(c->dnsbl.zones[0].codes[2].first, 0x7f000004u);
	assert_int_equal(c->dnsbl.zones[0].codes[2].last, 0x7f000007u);
	assert_string_equal(c->dnsbl.zones[1].zone, "bl.spamcop.net");
	assert_false(c->dnsbl.zones[1].enabled);
	assert_false(c->dnsbl.zones[1].ipv6);
	assert_int_equal(c->dnsbl.zones[2].ncodes, 2);
	assert_int_equal(c->dnsbl.zones[2].codes[0].weight, -2);
	assert_int_equal(c->dnsbl.zones[2].codes[0].klass, DNSBL_CLASS_ALLOW);
	assert_int_equal(c->lists.nallow, 1);
	assert_int_equal(c->lists.ndeny, 1);
	assert_string_equal(c->lists.deny[0].comment, "p.conf:15");
	assert_int_equal(c->lists.default_ban, 0);
	cfg_free(&c);
}

static void
test_cfg_missing_file(void **state)
{
	struct cfg	*c = NULL;
	char		*error = NULL;

	(void)state;
	assert_int_equal(cfg_load("/nonexistent/mailward.conf", &c, &error), -1);
	assert_string_equal(error, "/nonexistent/mailward.conf: cannot open: "
	    "No such file or directory");
	free(error);
}

static void
test_numbers_and_durations(void **state)
{
	static const struct { const char *in; uint64_t max; int ret; uint64_t v; }
	    dur[] = {
		{ "", 1000000, -1, 0 }, { "h", 1000000, -1, 0 },
		{ "1x", 1000000, -1, 0 }, { "-5s", 1000000, -1, 0 },
		{ "1h30", 1000000, -1, 0 }, { "2d", 86400, -1, 0 },
		{ "99999999999999999999s", UINT64_MAX, -1, 0 },
		{ "90", 1000, 0, 90 }, { "90s", 1000, 0, 90 },
		{ "15m", 100000, 0, 900 }, { "1h30m", 100000, 0, 5400 },
		{ "7d", 1000000, 0, 604800 }, { "1w", 1000000, 0, 604800 },
	};
	uint64_t	 n;
	uint32_t	 n32;
	int32_t		 i32;
	char		 buf[32];

	(void)state;
	for (size_t i = 0; i < MW_N_ELEMENTS(dur); i++) {
		n = 0;
		assert_int_equal(mw_parse_duration(dur[i].in, dur[i].max, &n),
		    dur[i].ret);
		if (dur[i].ret == 0)
			assert_int_equal(n, dur[i].v);
	}
	assert_int_equal(mw_parse_u32("4294967295", UINT32_MAX, &n32), 0);
	assert_int_equal(mw_parse_u32("4294967296", UINT32_MAX, &n32), -1);
	assert_int_equal(mw_parse_u32("+1", 10, &n32), -1);
	assert_int_equal(mw_parse_u32(" 1", 10, &n32), -1);
	assert_int_equal(mw_parse_u64("18446744073709551616", UINT64_MAX, &n), -1);
	assert_int_equal(mw_parse_i32("-7", 10, &i32), 0);
	assert_int_equal(i32, -7);
	assert_int_equal(mw_parse_i32("-11", 10, &i32), -1);
	assert_string_equal(mw_format_duration(5400, buf, sizeof(buf)), "1h30m");
	assert_string_equal(mw_format_duration(0, buf, sizeof(buf)), "0s");
	assert_string_equal(mw_format_duration(90061, buf, sizeof(buf)),
	    "1d1h1m1s");
}

static void
test_sanitize(void **state)
{
	struct mw_arena *a = mw_arena_new(256);

	(void)state;
	assert_string_equal(mw_sanitize(a, MW_SLICE_LIT("ab\x01\n\x7f" "c"), 40),
	    "ab???c");
	assert_string_equal(mw_sanitize(a, MW_SLICE_LIT("abcdef"), 3), "abc...");
	mw_arena_free(&a);
}

/* Bytes a table of C strings cannot hold: NUL, and lines past the limit
   (4096 bytes). Both are reported at their line, and reading goes on. */
static void
test_cfg_nul_and_long_lines(void **state)
{
	static const char nul[] = "[daemon]\nuser = a\0b\npid_file = rel\n";
	char		*text, *error = NULL;
	struct cfg	*c = NULL;
	size_t		 len;

	(void)state;
	assert_int_equal(cfg_load_string(nul, sizeof(nul) - 1, "t.conf", &c,
	    &error), -1);
	assert_string_equal(error, "t.conf:2: NUL byte in line");
	assert_null(c);
	free(error);

	/* "[daemon]\nuser = <4090 x>\nlog_level = loud\n": 4097 bytes */
	len = 9 + 7 + 4090 + 1 + 17;
	text = malloc(len + 1);
	assert_non_null(text);
	memcpy(text, "[daemon]\nuser = ", 16);
	memset(text + 16, 'x', 4090);
	memcpy(text + 16 + 4090, "\nlog_level = loud\n", 18);
	assert_int_equal(cfg_load_string(text, len, "t.conf", &c, &error), -1);
	assert_string_equal(error, "t.conf:2: line longer than 4096 bytes\n"
	    "t.conf:3: daemon: log_level: \"loud\" is not valid (expected "
	    "error, warn, info or debug)");
	free(error);

	/* one byte shorter: 4096 bytes is allowed */
	memcpy(text + 16 + 4089, "\nlog_level = info\n", 18);
	assert_int_equal(cfg_load_string(text, len - 1, "t.conf", &c, &error),
	    0);
	assert_int_equal(strlen(c->daemon.user), 4089);
	cfg_free(&c);
	assert_null(c);
	free(text);
}

/* cfg_dump writes a file that loads back to the same configuration. */
static void
test_cfg_dump_round_trip(void **state)
{
	static const char text[] =
	    "[daemon]\nstate_dir = /srv/mw\n[store]\npath = db/x.db\n"
	    "[dnsbl]\ntimeout = 500ms\ncache_min_ttl = 90s\n"
	    "[dnsbl:zen]\npreset = spamhaus-zen\n"
	    "[dnsbl:wl]\nzone = list.dnswl.org\ndefault_weight = 0\n"
	    "weights = 127.0.10.1-127.0.10.255=-2:ALLOW\n"
	    "[lists]\ndefault_ban = 0\nallow = 2001:db8::/32\n"
	    "deny = 198.51.100.7\n"
	    "[authpolicy]\nenabled = yes\nhash_truncate = 0\n"
	    "[login]\nwindow = 1h\ndistributed_action = reject\n"
	    "ban_permanent = yes\nknown_ttl = 90d\nalert_interval = 0\n";
	struct cfg	*c = NULL, *c2 = NULL;
	char		*error = NULL, *d1 = NULL, *d2 = NULL;
	size_t		 n1 = 0, n2 = 0;
	FILE		*f;

	(void)state;
	assert_int_equal(cfg_load_string(text, sizeof(text) - 1, "t.conf",
	    &c, &error), 0);
	assert_non_null(f = open_memstream(&d1, &n1));
	cfg_dump(c, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cfg_load_string(d1, n1, "dump", &c2, &error), 0);
	assert_non_null(f = open_memstream(&d2, &n2));
	cfg_dump(c2, f);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(d1, d2);
	assert_non_null(strstr(d1, "\npath = /srv/mw/db/x.db\n"));
	assert_non_null(strstr(d1, "\ntimeout = 500ms\n"));
	assert_non_null(strstr(d1, "\ncache_min_ttl = 1m30s\n"));
	assert_non_null(strstr(d1, "\n[dnsbl:zen]\npreset = spamhaus-zen\n"
	    "zone = zen.spamhaus.org\nenabled = yes\nipv6 = yes\n"
	    "default_weight = 1\nweights = 127.0.0.2=2:SBL 127.0.0.3=2:CSS "
	    "127.0.0.4-127.0.0.7=2:XBL 127.0.0.9=2:DROP "
	    "127.0.0.10-127.0.0.11=2:PBL\n"));
	assert_non_null(strstr(d1, "\nweights = 127.0.10.1-127.0.10.255="
	    "-2:ALLOW\n"));
	assert_non_null(strstr(d1, "\ndefault_ban = permanent\n"
	    "allow = 2001:db8::/32\ndeny = 198.51.100.7\n"));
	assert_int_equal(c2->lists.default_ban, 0);
	assert_non_null(strstr(d1, "\n[authpolicy]\nenabled = yes\n"));
	assert_non_null(strstr(d1, "\nhash_truncate = 0\n"));
	assert_non_null(strstr(d1, "\n[login]\nenabled = yes\nwindow = 1h\n"));
	assert_non_null(strstr(d1, "\ndistributed_action = reject\n"));
	assert_non_null(strstr(d1, "\nknown_ttl = 90d\n"));
	assert_non_null(strstr(d1, "\nban_permanent = yes\n"));
	assert_true(c2->login.distributed_reject);
	assert_int_equal(c2->login.window, 3600);
	assert_int_equal(c2->login.alert_interval, 0);	/* 0: every alert */
	free(d1);
	free(d2);
	cfg_free(&c);
	cfg_free(&c2);
}

/* The auth policy secrets never appear in a dump. */
static void
test_cfg_dump_secrets(void **state)
{
	static const char text[] = "[authpolicy]\napi_key = s3cret-key\n"
	    "hash_nonce = n0nce\n";
	struct cfg	*c = NULL;
	char		*error = NULL, *d = NULL;
	size_t		 n = 0;
	FILE		*f;

	(void)state;
	assert_int_equal(cfg_load_string(text, sizeof(text) - 1, "t.conf",
	    &c, &error), 0);
	assert_string_equal(c->authpolicy.api_key, "s3cret-key");
	assert_string_equal(c->authpolicy.hash_nonce, "n0nce");
	assert_non_null(f = open_memstream(&d, &n));
	cfg_dump(c, f);
	assert_int_equal(fclose(f), 0);
	assert_null(strstr(d, "s3cret-key"));
	assert_null(strstr(d, "n0nce"));
	assert_non_null(strstr(d, "\n# api_key = (set, not shown)\n"
	    "# hash_nonce = (set, not shown)\n"));
	free(d);
	cfg_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_cases),
		cmocka_unit_test(test_cfg_defaults_and_paths),
		cmocka_unit_test(test_cfg_presets_and_weights),
		cmocka_unit_test(test_cfg_missing_file),
		cmocka_unit_test(test_cfg_nul_and_long_lines),
		cmocka_unit_test(test_cfg_dump_round_trip),
		cmocka_unit_test(test_cfg_dump_secrets),
		cmocka_unit_test(test_numbers_and_durations),
		cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
