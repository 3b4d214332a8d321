/*
 * test_core_geoip - country lookups in a MaxMind DB built at test time by
 * tests/data/make-test-mmdb.pl (127.0.0.0/24 JP, 127.0.1.0/24 US, ::1 DE).
 * Skipped, visibly, without Perl's MaxMind::DB::Writer
 * (libmaxmind-db-writer-perl).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/geoip.h"

#define MAKE_MMDB	MW_TEST_DATA "/../../data/make-test-mmdb.pl"

static char	 dir[] = "/tmp/mw-geoip-XXXXXX";
static char	 db[sizeof(dir) + 16];
static bool	 have_db;

static int
setup(void **state)
{
	char	 cmd[512];
	int	 rc;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(db, sizeof(db), "%s/t.mmdb", dir);
	snprintf(cmd, sizeof(cmd), "perl '%s' '%s'", MAKE_MMDB, db);
	rc = system(cmd);
	if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0)
		have_db = true;
	else if (rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
		fprintf(stderr, "test_core_geoip: SKIPPED: no MaxMind::DB::Writer "
		    "(apt-get install libmaxmind-db-writer-perl)\n");
	else
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (have_db)
		(void)unlink(db);
	(void)rmdir(dir);
	return 0;
}

static const char *
country(const struct mw_geoip *g, const char *text)
{
	static char	 cc[MW_GEOIP_CC_LEN];
	struct mw_addr	 a;

	assert_int_equal(mw_addr_parse(text, &a), 0);
	(void)mw_geoip_country(g, &a, cc);
	return cc;
}

static void
test_lookup(void **state)
{
	struct mw_geoip	*g;
	char		*error = NULL;

	(void)state;
	if (!have_db)
		skip();
	assert_int_equal(mw_geoip_open(db, &g, &error), 0);
	assert_null(error);
	assert_string_equal(mw_geoip_path(g), db);
	assert_string_equal(country(g, "127.0.0.1"), "JP");
	assert_string_equal(country(g, "127.0.0.255"), "JP");
	assert_string_equal(country(g, "127.0.1.9"), "US");
	assert_string_equal(country(g, "::ffff:127.0.1.9"), "US");	/* v4 */
	assert_string_equal(country(g, "::1"), "DE");
	assert_string_equal(country(g, "127.0.2.1"), "");	/* unknown */
	assert_string_equal(country(g, "2001:db8::1"), "");
	mw_geoip_close(&g);
	assert_null(g);
	mw_geoip_close(&g);	/* NULL-safe */
}

static void
test_no_database(void **state)
{
	struct mw_geoip	*g = NULL;
	char		*error = NULL;

	(void)state;
	assert_string_equal(country(NULL, "127.0.0.1"), "");
	assert_int_equal(mw_geoip_open("/nonexistent.mmdb", &g, &error), -1);
	assert_null(g);
	assert_string_equal(error, "does not exist");
	free(error);
	assert_int_equal(mw_geoip_open("/etc/hostname", &g, &error), -1);
	assert_string_equal(error, "is not a MaxMind DB (.mmdb) file");
	free(error);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_no_database),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
