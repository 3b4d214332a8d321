/*
 * test_cli_format - the CLI's pure helpers: argument parsing, UTF-8 table
 * widths, control characters kept off the terminal, time and duration
 * texts, --since/--until forms. (The verbs themselves run against the real
 * daemon in tests/integration/cli.sh.)
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

#include "cli/cli.h"

static void
test_text_width(void **state)
{
	(void)state;
	assert_int_equal(text_width(""), 0);
	assert_int_equal(text_width("abc"), 3);
	assert_int_equal(text_width("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"), 6);
	assert_int_equal(text_width("\xe3\x82\xaa\xe3\x83\x95\xe3\x82\xa3"
	    "\xe3\x82\xb9"), 8);				/* katakana */
	assert_int_equal(text_width("e\xcc\x81"), 1);		/* combining */
	assert_int_equal(text_width("\xc3\xa9t\xc3\xa9"), 3);	/* é t é */
	assert_int_equal(text_width("\xff"), 1);		/* invalid */
	assert_int_equal(text_width("\xe6\x97"), 2);		/* truncated */
	assert_int_equal(text_width("\x80\x80z"), 3);		/* stray */
}

static void
test_text_clean(void **state)
{
	char *s;

	(void)state;
	s = text_clean("a\x1b[31mb\r\n\x7f");
	assert_string_equal(s, "a?[31mb???");
	free(s);
	s = text_clean(NULL);
	assert_string_equal(s, "");
	free(s);
}

static void
test_table(void **state)
{
	static const char *const headers[] = { "ADDRESS", "REASON", "X" };
	const char	*row1[] = { "203.0.113.9", "\xe6\x97\xa5\xe6\x9c\xac", "1" };
	const char	*row2[] = { "2001:db8::/48", "", NULL };
	const char	*row3[] = { "1.2.3.4", "esc\x1b]0;x", "3" };
	struct table	*t = table_new(3, headers);
	char		*out = NULL;
	size_t		 len = 0;
	FILE		*f = open_memstream(&out, &len);

	(void)state;
	assert_non_null(f);
	table_add(t, row1);
	table_add(t, row2);
	table_add(t, row3);
	assert_int_equal(table_rows(t), 3);
	table_print(t, f);
	fclose(f);
	assert_string_equal(out,
	    "ADDRESS        REASON    X\n"
	    "203.0.113.9    \xe6\x97\xa5\xe6\x9c\xac      1\n"
	    "2001:db8::/48  -         -\n"
	    "1.2.3.4        esc?]0;x  3\n");
	free(out);
	table_free(&t);
	assert_null(t);
	table_free(&t);
}

static void
test_durations(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(duration_short(0, buf, sizeof(buf)), "0s");
	assert_string_equal(duration_short(-5, buf, sizeof(buf)), "0s");
	assert_string_equal(duration_short(45, buf, sizeof(buf)), "45s");
	assert_string_equal(duration_short(90, buf, sizeof(buf)), "1m30s");
	assert_string_equal(duration_short(59 * 60, buf, sizeof(buf)), "59m");
	assert_string_equal(duration_short(3600, buf, sizeof(buf)), "1h");
	assert_string_equal(duration_short(5400, buf, sizeof(buf)), "1h30m");
	assert_string_equal(duration_short(7 * 86400 - 1, buf, sizeof(buf)),
	    "6d23h");
	assert_string_equal(duration_short(400 * 86400, buf, sizeof(buf)),
	    "400d");
	assert_string_equal(expiry_text(0, 1000, buf, sizeof(buf)), "permanent");
	assert_string_equal(expiry_text(999, 1000, buf, sizeof(buf)), "expired");
	assert_string_equal(expiry_text(1000, 1000, buf, sizeof(buf)), "expired");
	assert_string_equal(expiry_text(1000 + 3540, 1000, buf, sizeof(buf)),
	    "in 59m");
}

static void
test_times(void **state)
{
	int64_t	 now = 1795430000, t;
	char	 buf[32];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(time_local(1795428902, buf, sizeof(buf)),
	    "2026-11-23 10:15:02");
	assert_string_equal(time_local(0, buf, sizeof(buf)), "-");

	/* refused */
	assert_int_equal(time_arg_parse("", now, &t), -1);
	assert_int_equal(time_arg_parse(NULL, now, &t), -1);
	assert_int_equal(time_arg_parse("5x", now, &t), -1);
	assert_int_equal(time_arg_parse("yesterday", now, &t), -1);
	assert_int_equal(time_arg_parse("2026-13-01", now, &t), -1);
	assert_int_equal(time_arg_parse("2026-11-23T10:15:00junk", now, &t), -1);
	assert_int_equal(time_arg_parse("-5", now, &t), -1);
	/* durations ago */
	assert_int_equal(time_arg_parse("2h", now, &t), 0);
	assert_int_equal(t, now - 7200);
	assert_int_equal(time_arg_parse("90", now, &t), 0);
	assert_int_equal(t, now - 90);
	assert_int_equal(time_arg_parse("1h30m", now, &t), 0);
	assert_int_equal(t, now - 5400);
	/* unix seconds */
	assert_int_equal(time_arg_parse("1763900000", now, &t), 0);
	assert_int_equal(t, 1763900000);
	/* local time (UTC here) */
	assert_int_equal(time_arg_parse("2026-11-23T10:15", now, &t), 0);
	assert_int_equal(t, 1795428900);
	assert_int_equal(time_arg_parse("2026-11-23 10:15:02", now, &t), 0);
	assert_int_equal(t, 1795428902);
	assert_int_equal(time_arg_parse("2026-11-23", now, &t), 0);
	assert_int_equal(t, 1795392000);
}

static void
test_parse_args(void **state)
{
	struct cli	 c = { 0 };
	const char	*dur = NULL, *reason = NULL, *pos[2];
	bool		 perm = false;
	struct cli_opt	 opts[] = {
		{ "--for", true, &dur, NULL },
		{ "--permanent", false, NULL, &perm },
		{ "--reason", true, &reason, NULL },
	};
	size_t		 npos = 99;
	char		*ok1[] = { "add", "203.0.113.9", "--for", "1h", "--json",
	    "--reason=a b", NULL };
	char		*ok2[] = { "add", "--permanent", "--", "-x", NULL };
	char		*help[] = { "add", "1.2.3.4", "--help", NULL };
	char		*unknown[] = { "add", "1.2.3.4", "--fro", "1h", NULL };
	char		*novalue[] = { "add", "1.2.3.4", "--for", NULL };
	char		*flagvalue[] = { "add", "1.2.3.4", "--permanent=yes", NULL };
	char		*extra[] = { "add", "1.2.3.4", "5.6.7.8", NULL };
	char		*missing[] = { "add", NULL };

	(void)state;
	assert_int_equal(cli_parse_args(&c, "u", 6, ok1, opts, 3, pos, 1, 1,
	    &npos), CLI_PARSE_OK);
	assert_int_equal(npos, 1);
	assert_string_equal(pos[0], "203.0.113.9");
	assert_string_equal(dur, "1h");
	assert_string_equal(reason, "a b");
	assert_true(c.json);
	assert_int_equal(cli_parse_args(&c, "u", 4, ok2, opts, 3, pos, 1, 1,
	    &npos), CLI_PARSE_OK);
	assert_true(perm);
	assert_string_equal(pos[0], "-x");
	assert_int_equal(cli_parse_args(&c, "u", 3, help, opts, 3, pos, 1, 1,
	    &npos), CLI_PARSE_HELP);
	/* errors print to stderr; only the result is checked here */
	assert_int_equal(cli_parse_args(&c, "u", 4, unknown, opts, 3, pos, 1, 1,
	    &npos), CLI_PARSE_ERROR);
	assert_int_equal(cli_parse_args(&c, "u", 3, novalue, opts, 3, pos, 1, 1,
	    &npos), CLI_PARSE_ERROR);
	assert_int_equal(cli_parse_args(&c, "u", 3, flagvalue, opts, 3, pos, 1,
	    1, &npos), CLI_PARSE_ERROR);
	assert_int_equal(cli_parse_args(&c, "u", 3, extra, opts, 3, pos, 1, 1,
	    &npos), CLI_PARSE_ERROR);
	assert_int_equal(cli_parse_args(&c, "u", 1, missing, opts, 3, pos, 1, 1,
	    &npos), CLI_PARSE_ERROR);
}

static void
test_check_args(void **state)
{
	char long_text[600];

	(void)state;
	assert_int_equal(cli_check_net("ban add", "10.0.0.0/8", false), 0);
	assert_int_equal(cli_check_net("ban add", "2001:db8::5", false), 0);
	assert_int_equal(cli_check_net("ban add", "10.0.0.1/8", false), 64);
	assert_int_equal(cli_check_net("ban add", "", false), 64);
	assert_int_equal(cli_check_net("check", "10.0.0.0/8", true), 64);
	assert_int_equal(cli_check_net("check", "::1", true), 0);
	assert_int_equal(cli_check_text("--reason", "spam \xe6\x97\xa5"), 0);
	assert_int_equal(cli_check_text("--reason", "two\nlines"), 64);
	memset(long_text, 'x', 513);
	long_text[513] = '\0';
	assert_int_equal(cli_check_text("--reason", long_text), 64);
	long_text[512] = '\0';
	assert_int_equal(cli_check_text("--reason", long_text), 0);
}

static char *
render(void (*fn)(FILE *, json_t *), const char *json)
{
	json_t	*o = json_loads(json, 0, NULL);
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&out, &len);

	assert_non_null(o);
	assert_non_null(f);
	fn(f, o);
	fclose(f);
	json_decref(o);
	return out;
}

static void
print_alerts_arr(FILE *f, json_t *o)
{
	alerts_print(f, json_object_get(o, "alerts"));
}

/* The login guard's verbs (issue 3): account, accounts, alerts, check. */
static void
test_login_output(void **state)
{
	char *out;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	out = render(account_print, "{\"account\":\"alice@example.org\","
	    "\"seen\":true,\"window\":600,\"under_attack\":true,"
	    "\"attacked_since\":1795428902,\"failures\":{\"count\":12,"
	    "\"addresses\":7},\"last_failure\":1795428962,\"last_success\":null,"
	    "\"networks\":[{\"network\":\"192.0.2.0/24\",\"first_success\":"
	    "1795000000,\"last_success\":1795400000,\"successes\":41}],"
	    "\"recent_failures\":[{\"time_ms\":1795428962000,\"address\":"
	    "\"203.0.113.9\",\"listener\":\"authpolicy\",\"verdict\":"
	    "\"AUTH_FAIL\",\"reason\":\"imap\"}],\"recent_successes\":[],"
	    "\"alerts\":[],\"weak_password\":{\"flagged\":true,\"since\":"
	    "1795400000}}");
	assert_string_equal(out,
	    "account        alice@example.org\n"
	    "status         UNDER ATTACK since 2026-11-23 10:15:02: logins from "
	    "addresses that never logged in to it are delayed or refused\n"
	    "failed logins  12 in the last 10m from 7 addresses (last: "
	    "2026-11-23 10:16:02)\n"
	    "last login     never\n"
	    "weak password  YES since 2026-11-23 02:13:20: a successful login used "
	    "one of the most common passwords; have it changed\n"
	    "networks used (they keep working during an attack):\n"
	    "NETWORK       FIRST LOGIN          LAST LOGIN           LOGINS\n"
	    "192.0.2.0/24  2026-11-18 11:06:40  2026-11-23 02:13:20  41\n"
	    "alerts: none\n"
	    "recent failed logins:\n"
	    "TIME                 ADDRESS      SOURCE      DETAIL\n"
	    "2026-11-23 10:16:02  203.0.113.9  authpolicy  imap\n"
	    "recent logins: none\n");
	free(out);
	out = render(account_print, "{\"account\":\"nobody\",\"seen\":false}");
	assert_string_equal(out, "account        nobody\n"
	    "status         never seen by the login guard\n");
	free(out);

	out = render(print_alerts_arr, "{\"alerts\":[{\"id\":12,\"time\":"
	    "1795428902,\"account\":\"bob\",\"address\":\"2001:db8::1\","
	    "\"kind\":\"new_network\",\"reason\":\"login from 2001:db8::1\","
	    "\"evidence\":{},\"acknowledged_by\":\"uid 0\",\"acknowledged_at\":"
	    "1795428962},{\"id\":11,\"time\":1795428900,\"account\":\"e\\u001b[2J\","
	    "\"address\":\"192.0.2.1\",\"kind\":\"after_failures\",\"reason\":"
	    "\"r\",\"evidence\":{},\"acknowledged_by\":null,"
	    "\"acknowledged_at\":null}]}");
	assert_string_equal(out,
	    "ID  TIME                 ACCOUNT  ADDRESS      KIND            "
	    "STATUS                                     REASON\n"
	    "12  2026-11-23 10:15:02  bob      2001:db8::1  new_network     "
	    "acknowledged by uid 0 2026-11-23 10:16:02  login from 2001:db8::1\n"
	    "11  2026-11-23 10:15:00  e?[2J    192.0.2.1    after_failures  "
	    "open                                       r\n");
	free(out);

	out = render(accounts_print, "{\"window\":600,\"accounts\":[]}");
	assert_string_equal(out, "no failed logins in the last 10m\n");
	free(out);
	out = render(accounts_print, "{\"window\":600,\"accounts\":[{"
	    "\"account\":\"alice\",\"failures\":12,\"addresses\":7,"
	    "\"under_attack\":true,\"attacked_since\":1795428902,"
	    "\"last_failure\":1795428962,\"last_success\":null,"
	    "\"weak_password\":false,\"open_alerts\":1}]}");
	assert_string_equal(out,
	    "ACCOUNT  FAILURES  ADDRESSES  STATUS        LAST FAILURE         "
	    "LAST LOGIN  WEAK PW  OPEN ALERTS\n"
	    "alice    12        7          under attack  2026-11-23 10:16:02  "
	    "never       no       1\n"
	    "(failures and addresses in the last 10m)\n");
	free(out);

	out = render(check_login_print, "{\"window\":600,\"failures\":4,"
	    "\"accounts\":3,\"last_seen\":1795428962,\"network\":"
	    "\"203.0.113.0/24\",\"network_failures\":9,\"network_accounts\":5,"
	    "\"escalation\":{\"level\":1,\"bans\":2,\"last_ban\":1795428902}}");
	assert_string_equal(out,
	    "login        4 failed logins in the last 10m on 3 accounts (last "
	    "2026-11-23 10:16:02)\n"
	    "             network 203.0.113.0/24: 9 failed logins on 5 accounts\n"
	    "             banned 2 times by the login guard, last 2026-11-23 "
	    "10:15:02 at escalation level 1 (a ban within escalation_period "
	    "lasts twice as long, up to ban_max)\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_width),
		cmocka_unit_test(test_text_clean),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_parse_args),
		cmocka_unit_test(test_check_args),
		cmocka_unit_test(test_login_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
