/*
 * cmd_alerts - `mailward alerts [--all]` (GET /api/v1/alerts) and
 * `mailward alerts ack ID` (POST /api/v1/alerts/ID/ack): the login
 * guard's possible account takeovers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/slice.h"

static const char alerts_help[] =
"usage: mailward alerts [--all] [--limit N] [--json]\n"
"       mailward alerts ack ID\n"
"\n"
"Lists possible account takeovers found by the login guard, newest first:\n"
"  after_failures      a login succeeded from an address right after a run\n"
"                      of failed ones\n"
"  new_network         a login from a network the account never used\n"
"  distributed_attack  many addresses failing on one account (its unknown\n"
"                      addresses are delayed or refused meanwhile)\n"
"Check with the user, then acknowledge the alert with `alerts ack ID`.\n"
"\n"
"options:\n"
"  --all       acknowledged alerts too (default: open ones only)\n"
"  --limit N   at most N alerts (1-10000, default 100)\n"
"  --json      print the API's JSON (GET /api/v1/alerts)\n"
"\n"
"examples:\n"
"  mailward alerts\n"
"  mailward alerts ack 12\n";

static const char usage_alerts[] =
    "mailward alerts [--all] [--limit N] [--json] | mailward alerts ack ID";
static const char usage_ack[] = "mailward alerts ack ID";

void
alerts_print(FILE *out, json_t *alerts)
{
	static const char *const headers[] = { "ID", "TIME", "ACCOUNT",
	    "ADDRESS", "KIND", "STATUS", "REASON" };
	struct table	*t;
	json_t		*al;
	size_t		 i;
	char		 id[24], when[32], status[96], at[32];

	t = table_new(MW_N_ELEMENTS(headers), headers);
	json_array_foreach(alerts, i, al) {
		const char *cells[MW_N_ELEMENTS(headers)];

		snprintf(id, sizeof(id), "%lld", (long long)jint(al, "id"));
		if (json_is_integer(json_object_get(al, "acknowledged_at")))
			snprintf(status, sizeof(status), "acknowledged by %s %s",
			    jstr(al, "acknowledged_by"), time_local(jint(al,
			    "acknowledged_at"), at, sizeof(at)));
		else
			snprintf(status, sizeof(status), "open");
		cells[0] = id;
		cells[1] = time_local(jint(al, "time"), when, sizeof(when));
		cells[2] = jstr(al, "account");
		cells[3] = jstr(al, "address");
		cells[4] = jstr(al, "kind");
		cells[5] = status;
		cells[6] = jstr(al, "reason");
		table_add(t, cells);
	}
	table_print(t, out);
	table_free(&t);
}

static int
alerts_ack(struct cli *c, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	uint64_t	 id;
	char		 path[64];
	json_t		*reply, *al;
	int		 rc;

	switch (cli_parse_args(c, usage_ack, argc, argv, NULL, 0, pos, 1, 1,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(alerts_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (mw_parse_u64(pos[0], INT64_MAX, &id) < 0 || id == 0)
		return cli_usage_error(usage_ack, "ID: \"%s\" is not an alert id "
		    "(mailward alerts --all lists them)", pos[0]);
	snprintf(path, sizeof(path), "/api/v1/alerts/%llu/ack",
	    (unsigned long long)id);
	if ((rc = cli_call(c, "POST", path, NULL, &reply)) != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
	} else {
		char *acct;

		al = json_object_get(reply, "alert");
		acct = text_clean(jstr(al, "account"));
		printf("alert %llu acknowledged (%s, %s)\n",
		    (unsigned long long)id, acct, jstr(al, "kind"));
		free(acct);
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}

int
cmd_alerts(struct cli *c, int argc, char **argv)
{
	const char	*limit = NULL, *pos[1];
	bool		 all = false;
	struct cli_opt	 opts[] = {
		{ "--all", false, NULL, &all },
		{ "--limit", true, &limit, NULL },
	};
	size_t		 npos;
	uint64_t	 n;
	char		 path[64];
	json_t		*reply, *alerts;
	int		 rc;

	if (argc > 1 && strcmp(argv[1], "ack") == 0)
		return alerts_ack(c, argc - 1, argv + 1);
	switch (cli_parse_args(c, usage_alerts, argc, argv, opts,
	    MW_N_ELEMENTS(opts), pos, 0, 0, &npos)) {
	case CLI_PARSE_HELP: return cli_help(alerts_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if (limit != NULL && (mw_parse_u64(limit, 10000, &n) < 0 || n == 0))
		return cli_usage_error(usage_alerts, "--limit: \"%s\" is not a "
		    "number from 1 to 10000", limit);
	snprintf(path, sizeof(path), "/api/v1/alerts?limit=%s%s",
	    limit != NULL ? limit : "100", all ? "&all=1" : "");
	if ((rc = cli_call(c, "GET", path, NULL, &reply)) != 0)
		return rc;
	alerts = json_object_get(reply, "alerts");
	if (c->json) {
		cli_print_json(reply);
	} else if (json_array_size(alerts) == 0) {
		printf("no %salerts\n", all ? "" : "open ");
	} else {
		/* table_add keeps control characters off the terminal */
		alerts_print(stdout, alerts);
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}
