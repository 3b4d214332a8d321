/*
 * cmd_account - `mailward account ACCOUNT` (GET /api/v1/accounts/NAME):
 * what the login guard knows about one account; `mailward accounts`
 * (GET /api/v1/accounts): the accounts targeted in the current window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/slice.h"

#define ACCOUNT_MAX	256	/* bytes of an account name, as the daemon */

static const char account_help[] =
"usage: mailward account ACCOUNT [--json]\n"
"       mailward accounts [--limit N] [--json]\n"
"\n"
"account: what the login guard knows about ACCOUNT (the login name as the\n"
"mail clients give it): whether it is under attack now, failed logins in\n"
"the current window and from how many addresses, the networks it logged in\n"
"from (these keep working during an attack), possible-takeover alerts, the\n"
"weak-password flag, and its last failed and successful logins.\n"
"\n"
"accounts: the accounts with failed logins in the current window, most\n"
"failures first.\n"
"\n"
"options:\n"
"  --limit N   at most N accounts (1-10000, default 100)\n"
"  --json      print the API's JSON (GET /api/v1/accounts[/NAME])\n"
"\n"
"examples:\n"
"  mailward account alice@example.org\n"
"  mailward accounts\n";

static const char usage_account[] = "mailward account ACCOUNT [--json]";
static const char usage_accounts[] = "mailward accounts [--limit N] [--json]";

static const char *
account_time(json_t *o, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "never";
	return time_local((int64_t)json_integer_value(v), buf, size);
}

static void
account_events(FILE *out, const char *title, json_t *events)
{
	static const char *const headers[] = { "TIME", "ADDRESS", "SOURCE",
	    "DETAIL" };
	struct table	*t;
	json_t		*ev;
	size_t		 i;
	char		 when[32];

	if (json_array_size(events) == 0) {
		fprintf(out, "%s: none\n", title);
		return;
	}
	fprintf(out, "%s:\n", title);
	t = table_new(MW_N_ELEMENTS(headers), headers);
	json_array_foreach(events, i, ev) {
		const char *cells[] = { time_local(jint(ev, "time_ms") / 1000,
		    when, sizeof(when)), jstr(ev, "address"),
		    jstr(ev, "listener"), jstr(ev, "reason") };

		table_add(t, cells);
	}
	table_print(t, out);
	table_free(&t);
}

void
account_print(FILE *out, json_t *o)
{
	static const char *const net_headers[] = { "NETWORK", "FIRST LOGIN",
	    "LAST LOGIN", "LOGINS" };
	json_t		*nets = json_object_get(o, "networks"), *n;
	json_t		*weak = json_object_get(o, "weak_password");
	json_t		*fails = json_object_get(o, "failures");
	struct table	*t;
	size_t		 i;
	char		 b1[32], b2[32], win[32], count[24];

	fprintf(out, "%-14s %s\n", "account", jstr(o, "account"));
	if (!json_is_true(json_object_get(o, "seen"))) {
		fprintf(out, "%-14s never seen by the login guard\n", "status");
		return;
	}
	duration_short(jint(o, "window"), win, sizeof(win));
	if (json_is_true(json_object_get(o, "under_attack")))
		fprintf(out, "%-14s UNDER ATTACK since %s: logins from addresses "
		    "that never logged in to it are delayed or refused\n",
		    "status", account_time(o, "attacked_since", b1, sizeof(b1)));
	else
		fprintf(out, "%-14s normal\n", "status");
	fprintf(out, "%-14s %lld in the last %s from %lld addresses (last: "
	    "%s)\n", "failed logins", (long long)jint(fails, "count"), win,
	    (long long)jint(fails, "addresses"),
	    account_time(o, "last_failure", b1, sizeof(b1)));
	fprintf(out, "%-14s %s\n", "last login", account_time(o, "last_success",
	    b2, sizeof(b2)));
	if (json_is_true(json_object_get(weak, "flagged")))
		fprintf(out, "%-14s YES since %s: a successful login used one of "
		    "the most common passwords; have it changed\n",
		    "weak password", time_local(jint(weak, "since"), b1,
		    sizeof(b1)));
	else
		fprintf(out, "%-14s no\n", "weak password");
	if (json_array_size(nets) == 0) {
		fprintf(out, "networks used: none yet\n");
	} else {
		fprintf(out, "networks used (they keep working during an "
		    "attack):\n");
		t = table_new(MW_N_ELEMENTS(net_headers), net_headers);
		json_array_foreach(nets, i, n) {
			const char *cells[4];

			snprintf(count, sizeof(count), "%lld",
			    (long long)jint(n, "successes"));
			cells[0] = jstr(n, "network");
			cells[1] = time_local(jint(n, "first_success"), b1,
			    sizeof(b1));
			cells[2] = time_local(jint(n, "last_success"), b2,
			    sizeof(b2));
			cells[3] = count;
			table_add(t, cells);
		}
		table_print(t, out);
		table_free(&t);
	}
	if (json_array_size(json_object_get(o, "alerts")) == 0)
		fprintf(out, "alerts: none\n");
	else {
		fprintf(out, "alerts:\n");
		alerts_print(out, json_object_get(o, "alerts"));
	}
	account_events(out, "recent failed logins",
	    json_object_get(o, "recent_failures"));
	account_events(out, "recent logins",
	    json_object_get(o, "recent_successes"));
}

void
accounts_print(FILE *out, json_t *reply)
{
	static const char *const headers[] = { "ACCOUNT", "FAILURES",
	    "ADDRESSES", "STATUS", "LAST FAILURE", "LAST LOGIN", "WEAK PW",
	    "OPEN ALERTS" };
	json_t		*list = json_object_get(reply, "accounts"), *a;
	struct table	*t;
	size_t		 i;
	char		 f[24], n[24], al[24], b1[32], b2[32], win[32];

	duration_short(jint(reply, "window"), win, sizeof(win));
	if (json_array_size(list) == 0) {
		fprintf(out, "no failed logins in the last %s\n", win);
		return;
	}
	t = table_new(MW_N_ELEMENTS(headers), headers);
	json_array_foreach(list, i, a) {
		const char *cells[MW_N_ELEMENTS(headers)];

		snprintf(f, sizeof(f), "%lld", (long long)jint(a, "failures"));
		snprintf(n, sizeof(n), "%lld", (long long)jint(a, "addresses"));
		snprintf(al, sizeof(al), "%lld", (long long)jint(a,
		    "open_alerts"));
		cells[0] = jstr(a, "account");
		cells[1] = f;
		cells[2] = n;
		cells[3] = json_is_true(json_object_get(a, "under_attack")) ?
		    "under attack" : "targeted";
		cells[4] = account_time(a, "last_failure", b1, sizeof(b1));
		cells[5] = account_time(a, "last_success", b2, sizeof(b2));
		cells[6] = json_is_true(json_object_get(a, "weak_password")) ?
		    "yes" : "no";
		cells[7] = al;
		table_add(t, cells);
	}
	table_print(t, out);
	table_free(&t);
	fprintf(out, "(failures and addresses in the last %s)\n", win);
}

/* Prints what fn formats with control characters kept off the terminal
   (account names and reasons come from the network). */
static void
account_print_clean(void (*fn)(FILE *, json_t *), json_t *o)
{
	char	*out = NULL, *clean;
	size_t	 len = 0;
	FILE	*mem = open_memstream(&out, &len);

	if (mem == NULL)
		mw_panic("open_memstream: out of memory");
	fn(mem, o);
	fclose(mem);
	clean = text_clean(out);
	for (size_t i = 0; i < len; i++)
		if (out[i] == '\n')
			clean[i] = '\n';
	fputs(clean, stdout);
	free(clean);
	free(out);
}

int
cmd_account(struct cli *c, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	char		*esc, *path;
	json_t		*reply;
	int		 rc;

	switch (cli_parse_args(c, usage_account, argc, argv, NULL, 0, pos, 1, 1,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(account_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (pos[0][0] == '\0' || strlen(pos[0]) > ACCOUNT_MAX ||
	    !mw_slice_is_printable(mw_slice_from_cstr(pos[0])))
		return cli_usage_error(usage_account, "ACCOUNT must be 1 to 256 "
		    "bytes of printable text");
	esc = cli_escape(pos[0]);
	if (asprintf(&path, "/api/v1/accounts/%s", esc) < 0)
		mw_panic("asprintf: out of memory");
	rc = cli_call(c, "GET", path, NULL, &reply);
	free(esc);
	free(path);
	if (rc != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		account_print_clean(account_print, reply);
	json_decref(reply);
	return CLI_EXIT_OK;
}

int
cmd_accounts(struct cli *c, int argc, char **argv)
{
	const char	*limit = NULL, *pos[1];
	struct cli_opt	 opts[] = { { "--limit", true, &limit, NULL } };
	size_t		 npos;
	uint64_t	 n;
	char		 path[64];
	json_t		*reply;
	int		 rc;

	switch (cli_parse_args(c, usage_accounts, argc, argv, opts,
	    MW_N_ELEMENTS(opts), pos, 0, 0, &npos)) {
	case CLI_PARSE_HELP: return cli_help(account_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (limit != NULL && (mw_parse_u64(limit, 10000, &n) < 0 || n == 0))
		return cli_usage_error(usage_accounts, "--limit: \"%s\" is not a "
		    "number from 1 to 10000", limit);
	snprintf(path, sizeof(path), "/api/v1/accounts?limit=%s",
	    limit != NULL ? limit : "100");
	if ((rc = cli_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		account_print_clean(accounts_print, reply);
	json_decref(reply);
	return CLI_EXIT_OK;
}
