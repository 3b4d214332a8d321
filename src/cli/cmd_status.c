/*
 * cmd_status - `mailward status` and `mailward reload`.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char status_help[] =
"usage: mailward status [--json]\n"
"\n"
"Shows the daemon's version, uptime, configuration file and counters:\n"
"decisions by verdict and by deciding step, active bans, list sizes, DNSBL\n"
"queries and cache, the store, each listener, and the kernel firewall\n"
"(nftables): its state (or why it is disabled), the helper's pids, the\n"
"elements mirrored into the sets, the last load at start and the last error.\n"
"\n"
"options:\n"
"  --json   print the API's JSON (GET /api/v1/status)\n"
"\n"
"example:\n"
"  mailward status\n";

static const char reload_help[] =
"usage: mailward reload\n"
"\n"
"Makes mailwardd re-read its configuration file, as SIGHUP does. When the\n"
"file has errors they are printed with file:line, the running configuration\n"
"stays in force, and the exit status is 1.\n"
"\n"
"example:\n"
"  mailward config check && mailward reload\n";

static void
status_counts(const char *label, json_t *o)
{
	const char	*key;
	json_t		*v;
	bool		 first = true;

	printf("%-12s ", label);
	json_object_foreach(o, key, v) {
		printf("%s%s %lld", first ? "" : ", ", key,
		    (long long)json_integer_value(v));
		first = false;
	}
	printf("%s\n", first ? "-" : "");
}

static void
status_firewall(json_t *fw)
{
	const char	*state = jstr(fw, "state");
	char		 t[32];

	if (fw == NULL)
		return;
	if (strcmp(state, "disabled") == 0 || strcmp(state, "unavailable") == 0) {
		printf("firewall     %s: %s\n", state, jstr(fw, "reason"));
		if (strcmp(state, "disabled") == 0)
			return;
	} else {
		printf("firewall     %s: table %s, helper pid %lld (worker %lld)\n",
		    state, jstr(fw, "table"), (long long)jint(fw, "helper_pid"),
		    (long long)jint(fw, "worker_pid"));
	}
	printf("             %lld ban elements, %lld allow entries (as mirrored; "
	    "nft list table %s)\n", (long long)jint(fw, "elements"),
	    (long long)jint(fw, "allow_elements"), jstr(fw, "table"));
	printf("             %lld transactions, %lld failed, %lld elements "
	    "refused; %lld worker start(s)\n", (long long)jint(fw, "transactions"),
	    (long long)jint(fw, "transaction_errors"),
	    (long long)jint(fw, "elements_failed"),
	    (long long)jint(fw, "worker_starts"));
	if (jint(fw, "resyncs") > 0)
		printf("             last full load: %lld elements in %.2f s\n",
		    (long long)jint(fw, "last_resync_elements"),
		    json_number_value(json_object_get(fw, "last_resync_seconds")));
	if (jstr(fw, "last_error")[0] != '\0')
		printf("             last error: %s (%s)\n", jstr(fw, "last_error"),
		    time_local(jint(fw, "last_error_time"), t, sizeof(t)));
}

static void
status_print(json_t *s)
{
	json_t		*engine = json_object_get(s, "engine");
	json_t		*dnsbl = json_object_get(s, "dnsbl");
	json_t		*store = json_object_get(s, "store");
	json_t		*listeners = json_object_get(s, "listeners");
	json_t		*zones, *v, *z;
	const char	*key;
	size_t		 i;
	char		 t[32], d[32];

	printf("mailwardd    %s, pid %lld\n", jstr(s, "version"),
	    (long long)jint(s, "pid"));
	printf("uptime       %s (since %s)\n", duration_short(jint(s, "uptime"),
	    d, sizeof(d)), time_local(jint(s, "started"), t, sizeof(t)));
	printf("config       %s\n", jstr(s, "config"));
	if (engine != NULL) {
		printf("decisions    %lld\n", (long long)jint(engine, "decisions"));
		status_counts("verdicts", json_object_get(engine, "verdicts"));
		status_counts("decided by", json_object_get(engine, "by"));
		printf("bans         %lld active\n",
		    (long long)jint(engine, "bans_active"));
		printf("lists        allow %lld, deny %lld entries\n",
		    (long long)jint(engine, "allow_entries"),
		    (long long)jint(engine, "deny_entries"));
		printf("fail-open    %lld decisions without a full DNSBL answer\n",
		    (long long)jint(engine, "dnsbl_fail_open"));
	}
	if (dnsbl != NULL) {
		printf("dnsbl        %s", json_is_true(json_object_get(dnsbl,
		    "enabled")) ? "enabled" : "disabled");
		zones = json_object_get(dnsbl, "zones");
		json_array_foreach(zones, i, z)
			printf("%s%s", i == 0 ? ": " : ", ", json_string_value(z));
		printf("\n");
		if (json_object_get(dnsbl, "queries") != NULL) {
			printf("             %lld queries: %lld listed, %lld not "
			    "listed, %lld timeouts, %lld failures, %lld refusals\n",
			    (long long)jint(dnsbl, "queries"),
			    (long long)jint(dnsbl, "listed"),
			    (long long)jint(dnsbl, "not_listed"),
			    (long long)jint(dnsbl, "timeouts"),
			    (long long)jint(dnsbl, "failures"),
			    (long long)jint(dnsbl, "refusals"));
			printf("             cache %lld hits, %lld misses, %lld "
			    "entries\n", (long long)jint(dnsbl, "cache_hits"),
			    (long long)jint(dnsbl, "cache_misses"),
			    (long long)jint(dnsbl, "cache_entries"));
		}
	}
	if (store != NULL)
		printf("store        %s: %lld events written, %lld dropped, %lld "
		    "write errors\n", jstr(store, "backend"),
		    (long long)jint(store, "events_written"),
		    (long long)jint(store, "events_dropped"),
		    (long long)jint(store, "write_errors"));
	if (json_is_object(json_object_get(s, "login"))) {
		json_t *l = json_object_get(s, "login");

		printf("login guard  %lld failed and %lld successful logins, %lld "
		    "repeats of a wrong password not counted; %lld tarpitted, "
		    "%lld refused; %lld bans, %lld alerts\n",
		    (long long)jint(l, "failures"), (long long)jint(l, "successes"),
		    (long long)jint(l, "repeats"), (long long)jint(l, "tarpits"),
		    (long long)jint(l, "rejects"), (long long)jint(l, "bans"),
		    (long long)jint(l, "alerts"));
		printf("             tracking %lld addresses, %lld networks, %lld "
		    "accounts, %lld account+address pairs (%.1f MB; %lld dropped "
		    "when full)\n", (long long)jint(l, "addresses"),
		    (long long)jint(l, "networks"), (long long)jint(l, "accounts"),
		    (long long)jint(l, "pairs"), (double)jint(l, "bytes") /
		    1048576.0, (long long)jint(l, "evicted"));
	}
	json_object_foreach(listeners, key, v) {
		char label[64];

		snprintf(label, sizeof(label), "%s", key);
		status_counts(label, v);
	}
	status_firewall(json_object_get(s, "firewall"));
}

int
cmd_status(struct cli *c, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	json_t		*reply;
	int		 rc;

	switch (cli_parse_args(c, "mailward status [--json]", argc, argv, NULL,
	    0, pos, 0, 0, &npos)) {
	case CLI_PARSE_HELP: return cli_help(status_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if ((rc = cli_call(c, "GET", "/api/v1/status", NULL, &reply)) != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		status_print(reply);
	json_decref(reply);
	return CLI_EXIT_OK;
}

int
cmd_reload(struct cli *c, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	json_t		*reply;
	int		 rc;

	switch (cli_parse_args(c, "mailward reload", argc, argv, NULL, 0, pos,
	    0, 0, &npos)) {
	case CLI_PARSE_HELP: return cli_help(reload_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if ((rc = cli_call(c, "POST", "/api/v1/reload", NULL, &reply)) != 0)
		return rc;
	if (c->json)
		cli_print_json(reply);
	else
		printf("configuration reloaded\n");
	json_decref(reply);
	return CLI_EXIT_OK;
}
