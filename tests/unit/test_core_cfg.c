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
	  "t.conf:2: deamon: user: unknown section [deamon] (daemon, policy, "
	  "admin, store, dnsbl, dnsbl:NAME, lists)" },
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
	{ "[policy]\nmax_connections = 0\n",
	  "t.conf:2: policy: max_connections: \"0\" is not valid (expected a "
	  "number from 1 to 100000)" },
	{ "[policy]\nsubmission_ports = 587 70000\n",
	  "t.conf:2: policy: submission_ports: \"587 70000\" is not valid "
	  "(expected port numbers such as \"587 465\")" },
	{ "[dnsbl]\ntimeout = 2x\n",
	  "t.conf:2: dnsbl: timeout: \"2x\" is not valid (expected a duration "
	  "such as 2s or 500ms (at most 60s))" },
	{ "[dnsbl]\ntimeout = 90s\n",
	  "t.conf:2: dnsbl: timeout: \"90s\" is not valid (expected a duration "
	  "such as 2s or 500ms (at most 60s))" },
	{ "[dnsbl]\naction = drop\n",
	  "t.conf:2: dnsbl: action: \"drop\" is not valid (expected reject, "
	  "defer or warn)" },
	{ "[dnsbl]\nresolver = dns.google\n",
	  "t.conf:2: dnsbl: resolver: \"dns.google\" is not valid (expected "
	  "127.0.0.1 or 127.0.0.1:53, or empty for /etc/resolv.conf)" },
	{ "[store]\nbackend = redis\n",
	  "t.conf:2: store: backend: \"redis\" redis is not available in this "
	  "version; use sqlite" },
	{ "[dnsbl:x]\npreset = spamhouse\n",
	  "t.conf:2: dnsbl:x: preset: unknown preset \"spamhouse\" "
	  "(spamhaus-zen, spamcop or barracuda)\n"
	  "t.conf:2: dnsbl:x: zone: missing: set zone = (e.g. zen.spamhaus.org) "
	  "or a preset\n"
	  "t.conf:2: dnsbl:x: weights: missing: set preset = or weights = (e.g. "
	  "\"127.0.0.2=2\")" },
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
	/* valid */
	{ "", NULL },
	{ "; comment\n[daemon]\nuser =\n[policy]\nlisten = [::1]:10045\n"
	  "reject_text = No: %s (100%% sure)\n[dnsbl]\ntimeout = 250ms\n"
	  "resolver = [::1]:5300\n", NULL },
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cfg_cases),
		cmocka_unit_test(test_cfg_defaults_and_paths),
		cmocka_unit_test(test_cfg_presets_and_weights),
		cmocka_unit_test(test_cfg_missing_file),
		cmocka_unit_test(test_numbers_and_durations),
		cmocka_unit_test(test_sanitize),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
