/*
 * test_engine_bruteforce - the login guard's pure detectors, one
 * scenario each: failures per address (tarpit, then ban), per (account,
 * address), per network (IPv4 /24, IPv6 /64 rotation); password spraying
 * by address, by network and with one common password; a distributed
 * attack on one account with lockout avoidance for the user's own
 * network; the stale phone (one wrong password repeated is not
 * guessing); success after failures and from a new network; sliding,
 * expiry and eviction. Time is passed in: no sleeping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/bruteforce.h"

#define T0	1763900000

static struct mw_addr
ip(const char *text)
{
	struct mw_addr a;

	assert_int_equal(mw_addr_parse(text, &a), 0);
	return a;
}

static void
fail_once(struct bf *bf, const char *addr, const char *account, int64_t now,
    struct bf_result *r)
{
	struct bf_attempt at = { .addr = ip(addr), .account = account,
	    .service = "imap", .phase = BF_FAILURE, .common_pw = -1,
	    .now = now };

	bf_report(bf, &at, r);
}

static void
fail_pw(struct bf *bf, const char *addr, const char *account, uint32_t fp,
    int64_t now, struct bf_result *r)
{
	struct bf_attempt at = { .addr = ip(addr), .account = account,
	    .service = "imap", .phase = BF_FAILURE, .has_pwfp = true,
	    .pwfp = fp, .common_pw = -1, .now = now };

	bf_report(bf, &at, r);
}

static void
succeed(struct bf *bf, const char *addr, const char *account, int64_t now,
    struct bf_result *r)
{
	struct bf_attempt at = { .addr = ip(addr), .account = account,
	    .service = "imap", .phase = BF_SUCCESS, .common_pw = -1,
	    .now = now };

	bf_report(bf, &at, r);
}

static enum bf_verdict_kind
check(struct bf *bf, const char *addr, const char *account, int64_t now,
    struct bf_verdict *v)
{
	struct mw_addr a = ip(addr);

	bf_check(bf, &a, account, now, v);
	return v->kind;
}

static struct bf *
new_bf(void (*tune)(struct bf_config *))
{
	struct bf_config c;

	bf_config_defaults(&c);
	if (tune != NULL)
		tune(&c);
	return bf_new(&c);
}

static void
test_address_tarpit_then_ban(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	struct bf_verdict	 v;
	char			 account[32];

	(void)state;
	assert_int_equal(check(bf, "203.0.113.9", "alice", T0, &v), BF_ALLOW);
	/* Different accounts, one each: below every spraying threshold. */
	for (int i = 0; i < 2; i++) {
		(void)snprintf(account, sizeof(account), "u%d", i % 2);
		fail_once(bf, "203.0.113.9", account, T0 + i, &r);
		assert_false(r.ban_address);
	}
	assert_int_equal(check(bf, "203.0.113.9", "alice", T0 + 2, &v), BF_ALLOW);
	fail_once(bf, "203.0.113.9", "u0", T0 + 2, &r);
	assert_int_equal(r.addr_failures, 3);
	assert_int_equal(check(bf, "203.0.113.9", "alice", T0 + 3, &v), BF_TARPIT);
	assert_int_equal(v.delay_s, 2);
	assert_string_equal(v.reason, "3 failed logins in 10m");
	/* Another address is not affected. */
	assert_int_equal(check(bf, "203.0.113.10", "alice", T0 + 3, &v), BF_ALLOW);
	for (int i = 3; i < 9; i++) {
		fail_once(bf, "203.0.113.9", i % 2 ? "u0" : "u1", T0 + i, &r);
		assert_false(r.ban_address);
	}
	fail_once(bf, "203.0.113.9", "u1", T0 + 9, &r);
	assert_true(r.ban_address);
	assert_string_equal(r.address_reason, "10 failed logins in 10m (imap)");
	assert_false(r.ban_network);	/* one address is not a network */
	assert_int_equal(check(bf, "203.0.113.9", "", T0 + 10, &v), BF_REJECT);
	bf_free(&bf);
}

static void
test_window_slides_out(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	struct bf_verdict	 v;

	(void)state;
	/* One failure every 140 s: at most 5 in any 10 minutes (and in the
	   window's longest cover, 8 x 86 s), below every ban threshold. */
	for (int i = 0; i < 30; i++) {
		fail_once(bf, "198.51.100.7", "bob", T0 + i * 140, &r);
		assert_false(r.ban_address);
		assert_true(r.addr_failures <= 5);
		if (i >= 4)	/* an exact 10-minute window holds 5 of them */
			assert_int_equal(r.addr_failures, 5);
	}
	assert_int_equal(check(bf, "198.51.100.7", "bob", T0 + 29 * 140, &v),
	    BF_TARPIT);
	/* An hour later the address is forgotten... */
	assert_int_equal(check(bf, "198.51.100.7", "bob", T0 + 7200, &v),
	    BF_ALLOW);
	/* ...and expiry removes its entries. */
	assert_true(bf_expire(bf, T0 + 7200, 1000) >= 3);
	{
		struct bf_stats s;

		bf_get_stats(bf, &s);
		assert_int_equal(s.addresses, 0);
		assert_int_equal(s.networks, 0);
		assert_int_equal(s.pairs, 0);
		assert_int_equal(s.accounts, 0);
	}
	bf_free(&bf);
}

static void
test_stale_phone_not_guessing(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	struct bf_verdict	 v;
	struct bf_stats		 s;

	(void)state;
	/* A forgotten phone retries the old password every 30 s. */
	for (int i = 0; i < 40; i++) {
		fail_pw(bf, "192.0.2.55", "carol", 0x1234, T0 + i * 30, &r);
		assert_false(r.ban_address);
		assert_int_equal(r.counted, i == 0);
		/* counted once; after the window (10m, sliding by 75 s
		   buckets) not at all */
		assert_true(r.addr_failures <= 1);
		if (i * 30 < 525)
			assert_int_equal(r.addr_failures, 1);
		if (i * 30 >= 675)
			assert_int_equal(r.addr_failures, 0);
	}
	assert_int_equal(check(bf, "192.0.2.55", "carol", T0 + 1200, &v),
	    BF_ALLOW);
	bf_get_stats(bf, &s);
	assert_int_equal(s.repeats, 39);
	bf_free(&bf);
}

static void
test_guessing_one_account(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;

	(void)state;
	/* Different passwords for one account: guessing. */
	for (uint32_t i = 0; i < 5; i++) {
		fail_pw(bf, "192.0.2.66", "carol", 100 + i, T0 + i, &r);
		assert_true(r.counted);
		assert_false(r.ban_address);
	}
	fail_pw(bf, "192.0.2.66", "carol", 200, T0 + 5, &r);
	assert_true(r.ban_address);
	assert_int_equal(r.pair_failures, 6);
	assert_string_equal(r.address_reason,
	    "6 wrong passwords for carol in 10m (imap)");
	bf_free(&bf);
}

static void
no_pair_ban(struct bf_config *c)
{
	c->account_address_ban_after = 1000;
	c->ban_after = 1000;
	c->tarpit_after = 1000;
}

static void
test_spraying_by_address(void **state)
{
	struct bf		*bf = new_bf(no_pair_ban);
	struct bf_result	 r;
	char			 account[32];

	(void)state;
	for (int i = 0; i < 7; i++) {
		(void)snprintf(account, sizeof(account), "user%d@example.org", i);
		fail_once(bf, "203.0.113.77", account, T0 + i, &r);
		assert_false(r.ban_address);
		assert_int_equal(r.addr_accounts, (uint32_t)(i + 1));
	}
	fail_once(bf, "203.0.113.77", "user7@example.org", T0 + 7, &r);
	assert_true(r.ban_address);
	assert_string_equal(r.address_reason, "password spraying: 8 accounts "
	    "in 10m");
	bf_free(&bf);
}

static void
test_spraying_by_network(void **state)
{
	struct bf		*bf = new_bf(no_pair_ban);
	struct bf_result	 r;
	char			 addr[32], account[32];
	char			 net[MW_CIDR_STRLEN];

	(void)state;
	/* 15 addresses of one /24, one account each: no address stands
	   out, the network does. */
	for (int i = 0; i < 15; i++) {
		(void)snprintf(addr, sizeof(addr), "198.51.100.%d", 10 + i);
		(void)snprintf(account, sizeof(account), "user%d@example.org", i);
		fail_once(bf, addr, account, T0 + i, &r);
		assert_false(r.ban_address);
		assert_int_equal(r.ban_network, i == 14);
	}
	assert_int_equal(r.net_accounts, 15);
	assert_string_equal(mw_cidr_format(&r.network, net, sizeof(net)),
	    "198.51.100.0/24");
	assert_string_equal(r.network_reason, "password spraying from "
	    "198.51.100.0/24: 15 accounts in 10m");
	bf_free(&bf);
}

static void
test_ipv6_rotation_is_one_attacker(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	char			 addr[64];
	char			 net[MW_CIDR_STRLEN];

	(void)state;
	/* A new address of the /64 for every try, always "admin". */
	for (int i = 0; i < 30; i++) {
		(void)snprintf(addr, sizeof(addr), "2001:db8:1:2::%x", 0x100 + i);
		fail_once(bf, addr, "admin", T0 + i, &r);
		assert_false(r.ban_address);
	}
	assert_true(r.ban_network);
	assert_string_equal(mw_cidr_format(&r.network, net, sizeof(net)),
	    "2001:db8:1:2::/64");
	assert_string_equal(r.network_reason, "30 failed logins from "
	    "2001:db8:1:2::/64 in 10m");
	bf_free(&bf);
}

static void
test_common_password_spraying(void **state)
{
	struct bf		*bf = new_bf(no_pair_ban);
	struct bf_result	 r;
	char			 account[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		struct bf_attempt at = { .addr = ip("203.0.113.200"),
		    .account = account, .service = "pop3",
		    .phase = BF_FAILURE, .common_pw = 3, .now = T0 + i };

		(void)snprintf(account, sizeof(account), "user%d@example.org", i);
		bf_report(bf, &at, &r);
		assert_int_equal(r.ban_address, i == 4);
	}
	assert_string_equal(r.address_reason, "password spraying: one common "
	    "password tried on 5 accounts in 10m");
	bf_free(&bf);
}

static void
test_distributed_attack_lockout_avoidance(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	struct bf_verdict	 v;
	struct bf_account_info	 info;
	char			 addr[32];

	(void)state;
	/* dave logs in from his office. */
	succeed(bf, "192.0.2.20", "dave", T0, &r);
	assert_true(r.learned);
	assert_int_equal(r.alert, BF_ALERT_NONE);	/* first login: nothing to compare */
	/* A botnet: every address tries dave once. */
	for (int i = 0; i < 5; i++) {
		(void)snprintf(addr, sizeof(addr), "203.0.%d.9", 100 + i);
		fail_once(bf, addr, "dave", T0 + 10 + i, &r);
		assert_false(r.ban_address);
		assert_int_equal(r.account_attacked, i == 4);
	}
	assert_true(bf_account_info(bf, "dave", T0 + 20, &info));
	assert_true(info.under_attack);
	assert_int_equal(info.addresses, 5);
	assert_int_equal(info.nknown, 1);
	/* A sixth bot address is tarpitted before it even tries... */
	assert_int_equal(check(bf, "203.0.200.9", "dave", T0 + 20, &v),
	    BF_TARPIT);
	assert_string_equal(v.reason, "account dave under attack from 5 "
	    "addresses in 10m; this address never logged in to it");
	/* ...while dave's own network keeps working, even its other
	   addresses (a DHCP renewal). */
	assert_int_equal(check(bf, "192.0.2.20", "dave", T0 + 20, &v), BF_ALLOW);
	assert_string_equal(v.reason, "known network of this account");
	assert_int_equal(check(bf, "192.0.2.99", "dave", T0 + 20, &v), BF_ALLOW);
	/* Other accounts are not affected. */
	assert_int_equal(check(bf, "203.0.200.9", "erin", T0 + 20, &v), BF_ALLOW);
	/* dave mistyping many times from home is never banned. */
	for (uint32_t i = 0; i < 20; i++) {
		fail_pw(bf, "192.0.2.20", "dave", 1000 + i, T0 + 30 + i, &r);
		assert_true(r.known);
		assert_false(r.ban_address);
		assert_false(r.ban_network);
	}
	bf_free(&bf);
}

static void
reject_distributed(struct bf_config *c)
{
	c->distributed_reject = true;
}

static void
test_distributed_reject(void **state)
{
	struct bf		*bf = new_bf(reject_distributed);
	struct bf_result	 r;
	struct bf_verdict	 v;
	char			 addr[32];

	(void)state;
	for (int i = 0; i < 5; i++) {
		(void)snprintf(addr, sizeof(addr), "203.0.%d.9", 100 + i);
		fail_once(bf, addr, "frank", T0 + i, &r);
	}
	assert_int_equal(check(bf, "203.0.200.9", "frank", T0 + 6, &v),
	    BF_REJECT);
	assert_int_equal(v.delay_s, 0);
	/* The window slides: the protection ends with the attack. */
	assert_int_equal(check(bf, "203.0.200.9", "frank", T0 + 1300, &v),
	    BF_ALLOW);
	bf_free(&bf);
}

static void
test_success_after_failures(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	struct bf_verdict	 v;

	(void)state;
	fail_pw(bf, "203.0.113.50", "grace", 1, T0, &r);
	fail_pw(bf, "203.0.113.50", "grace", 2, T0 + 1, &r);
	fail_pw(bf, "203.0.113.50", "grace", 3, T0 + 2, &r);
	succeed(bf, "203.0.113.50", "grace", T0 + 3, &r);
	assert_int_equal(r.alert, BF_ALERT_AFTER_FAILURES);
	assert_string_equal(r.alert_reason, "login from 203.0.113.50 after 3 "
	    "failed attempts in 10m (3 for this account)");
	assert_true(r.learned);
	/* Two failures are a typo, not an alert. */
	fail_pw(bf, "203.0.113.60", "heidi", 1, T0, &r);
	fail_pw(bf, "203.0.113.60", "heidi", 2, T0 + 1, &r);
	succeed(bf, "203.0.113.60", "heidi", T0 + 2, &r);
	assert_int_equal(r.alert, BF_ALERT_NONE);
	/* The success clears heidi's own typos from that address. */
	fail_pw(bf, "203.0.113.60", "heidi", 3, T0 + 3, &r);
	assert_int_equal(r.pair_failures, 1);
	(void)v;
	bf_free(&bf);
}

/* An office or a school behind one NAT address: other users' typos do
   not make an alert of a success by an account that uses that network;
   the same failures followed by a success on an account that never used
   it (a spraying run that found a password) do. */
static void
test_success_after_failures_nat(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;

	(void)state;
	succeed(bf, "198.51.100.7", "ivan", T0, &r);
	assert_int_equal(r.alert, BF_ALERT_NONE);
	fail_pw(bf, "198.51.100.7", "judy", 1, T0 + 10, &r);
	fail_pw(bf, "198.51.100.7", "ken", 2, T0 + 11, &r);
	fail_pw(bf, "198.51.100.7", "lee", 3, T0 + 12, &r);
	fail_pw(bf, "198.51.100.7", "mia", 4, T0 + 13, &r);
	succeed(bf, "198.51.100.7", "ivan", T0 + 20, &r);
	assert_true(r.known);
	assert_int_equal(r.addr_failures, 4);
	assert_int_equal(r.alert, BF_ALERT_NONE);
	/* ivan's own failures from there still count. */
	fail_pw(bf, "198.51.100.7", "ivan", 5, T0 + 30, &r);
	fail_pw(bf, "198.51.100.7", "ivan", 6, T0 + 31, &r);
	fail_pw(bf, "198.51.100.7", "ivan", 7, T0 + 32, &r);
	succeed(bf, "198.51.100.7", "ivan", T0 + 33, &r);
	assert_int_equal(r.alert, BF_ALERT_AFTER_FAILURES);
	/* An account new to the address: the sprayer got in. */
	succeed(bf, "198.51.100.7", "nora", T0 + 40, &r);
	assert_false(r.known);
	assert_int_equal(r.alert, BF_ALERT_AFTER_FAILURES);
	assert_string_equal(r.alert_reason, "login from 198.51.100.7 after 7 "
	    "failed attempts in 10m (0 for this account)");
	bf_free(&bf);
}

static void
test_success_new_network(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	struct mw_addr		 home = ip("192.0.2.30");
	struct bf_account_info	 info;

	(void)state;
	/* History restored from the store: ivan uses 192.0.2.0/24. */
	bf_known_add(bf, "ivan", &home, T0 - 86400, T0 - 3600);
	succeed(bf, "192.0.2.31", "ivan", T0, &r);
	assert_int_equal(r.alert, BF_ALERT_NONE);
	assert_false(r.learned);
	succeed(bf, "203.0.113.80", "ivan", T0 + 60, &r);
	assert_int_equal(r.alert, BF_ALERT_NEW_NETWORK);
	assert_string_equal(r.alert_reason, "login from 203.0.113.80, a network "
	    "this account never used (203.0.113.0/24)");
	assert_true(r.learned);
	/* Known from now on. */
	succeed(bf, "203.0.113.81", "ivan", T0 + 120, &r);
	assert_int_equal(r.alert, BF_ALERT_NONE);
	assert_true(bf_account_info(bf, "ivan", T0 + 120, &info));
	assert_int_equal(info.nknown, 2);
	assert_int_equal(info.last_success, T0 + 120);
	/* A known network is forgotten after known_ttl (30 days). */
	assert_true(bf_account_info(bf, "ivan", T0 + 31 * 86400, &info));
	assert_int_equal(info.nknown, 0);
	bf_free(&bf);
}

static void
small_tables(struct bf_config *c)
{
	c->max_addresses = 16;
	c->max_networks = 16;
	c->max_pairs = 16;
	c->max_accounts = 16;
}

static void
test_tables_bounded(void **state)
{
	struct bf		*bf = new_bf(small_tables);
	struct bf_result	 r;
	struct bf_stats		 s;
	struct bf_addr_info	 ai;
	struct mw_addr		 a;
	char			 addr[32], account[32];

	(void)state;
	for (int i = 0; i < 200; i++) {
		(void)snprintf(addr, sizeof(addr), "10.%d.%d.1", i / 200, i % 200);
		(void)snprintf(account, sizeof(account), "acct%d", i);
		fail_once(bf, addr, account, T0 + i, &r);
	}
	bf_get_stats(bf, &s);
	assert_true(s.addresses <= 16);
	assert_true(s.networks <= 16);
	assert_true(s.pairs <= 16);
	assert_true(s.accounts <= 16);
	assert_true(s.evicted >= 4 * (200 - 16));
	/* The newest entry is there; the oldest one is not. */
	a = ip("10.0.199.1");
	assert_true(bf_addr_info(bf, &a, T0 + 200, &ai));
	assert_int_equal(ai.failures, 1);
	a = ip("10.0.0.1");
	assert_false(bf_addr_info(bf, &a, T0 + 200, &ai));
	bf_free(&bf);
}

static void
test_many_entries_consistent(void **state)
{
	struct bf		*bf = new_bf(NULL);
	struct bf_result	 r;
	struct bf_addr_info	 ai;
	struct mw_addr		 a;
	char			 addr[32];

	(void)state;
	/* Growth, rehashing and removal keep every entry findable. */
	for (int i = 0; i < 5000; i++) {
		(void)snprintf(addr, sizeof(addr), "10.%d.%d.%d", i / 65536,
		    (i / 256) % 256, i % 256);
		fail_once(bf, addr, "", T0 + (i < 2500 ? 0 : 1000), &r);
	}
	/* At T0 + 1000 + 1: the first half's windows are empty. */
	while (bf_expire(bf, T0 + 1001, 100) > 0)
		;
	for (int i = 0; i < 5000; i++) {
		(void)snprintf(addr, sizeof(addr), "10.%d.%d.%d", i / 65536,
		    (i / 256) % 256, i % 256);
		a = ip(addr);
		if (i < 2500)
			assert_false(bf_addr_info(bf, &a, T0 + 1001, &ai) &&
			    ai.failures > 0);
		else {
			assert_true(bf_addr_info(bf, &a, T0 + 1001, &ai));
			assert_int_equal(ai.failures, 1);
		}
	}
	bf_free(&bf);
}

static void
test_pwfp_and_names(void **state)
{
	const uint8_t h1[2] = { 0x01, 0x0d }, h2[2] = { 0x0d, 0x0c };
	struct bf	*bf = new_bf(NULL);
	struct bf_result r;
	char		 longname[600];

	(void)state;
	assert_int_equal(bf_pwfp(h1, 12), bf_pwfp(h1, 12));
	assert_true(bf_pwfp(h1, 12) != bf_pwfp(h2, 12));
	/* Hostile account names end up printable and cut in reasons. */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	longname[0] = '\x1b';
	for (uint32_t i = 0; i < 6; i++)
		fail_pw(bf, "192.0.2.77", longname, i, T0 + i, &r);
	assert_true(r.ban_address);
	assert_non_null(strstr(r.address_reason, "for ?xxx"));
	assert_non_null(strstr(r.address_reason, "... in 10m"));
	assert_null(strchr(r.address_reason, '\x1b'));
	bf_free(&bf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_address_tarpit_then_ban),
		cmocka_unit_test(test_window_slides_out),
		cmocka_unit_test(test_stale_phone_not_guessing),
		cmocka_unit_test(test_guessing_one_account),
		cmocka_unit_test(test_spraying_by_address),
		cmocka_unit_test(test_spraying_by_network),
		cmocka_unit_test(test_ipv6_rotation_is_one_attacker),
		cmocka_unit_test(test_common_password_spraying),
		cmocka_unit_test(test_distributed_attack_lockout_avoidance),
		cmocka_unit_test(test_distributed_reject),
		cmocka_unit_test(test_success_after_failures),
		cmocka_unit_test(test_success_after_failures_nat),
		cmocka_unit_test(test_success_new_network),
		cmocka_unit_test(test_tables_bounded),
		cmocka_unit_test(test_many_entries_consistent),
		cmocka_unit_test(test_pwfp_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
