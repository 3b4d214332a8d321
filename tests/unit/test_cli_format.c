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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
