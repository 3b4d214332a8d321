/*
 * cmd_check - `mailward check ADDR`: the engine's explanation of its
 * verdict for ADDR (GET /api/v1/check), one line per step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static const char check_help[] =
"usage: mailward check ADDR [--json]\n"
"\n"
"Explains what mailwardd answers for a client at ADDR connecting to port 25\n"
"without authentication, step by step: allow list, deny list, bans, DNS\n"
"blocklists (queried now unless their answers are cached), and the verdict\n"
"with the step that decided it. Nothing is recorded or counted.\n"
"Then the login guard's history of ADDR: failed logins in the current\n"
"window and on how many accounts, the same for its network (/24 or /64),\n"
"and how often it was banned for password attacks (escalation level).\n"
"\n"
"options:\n"
"  --json   print the API's JSON (GET /api/v1/check)\n"
"\n"
"example:\n"
"  mailward check 203.0.113.9\n";

static const char usage_check[] = "mailward check ADDR [--json]";

static void
check_list_step(FILE *out, const char *label, json_t *step)
{
	const char *comment = jstr(step, "comment");

	if (!json_is_true(json_object_get(step, "matched"))) {
		fprintf(out, "%-12s no match\n", label);
		return;
	}
	fprintf(out, "%-12s match %s", label, jstr(step, "network"));
	if (comment[0] != '\0')
		fprintf(out, " (%s)", comment);
	if (strcmp(jstr(step, "origin"), "config") == 0)
		fprintf(out, ", from the configuration file");
	fprintf(out, "\n");
}

static void
check_ban_step(FILE *out, json_t *step)
{
	json_t	*ban = json_object_get(step, "ban"), *e;
	char	 exp[32];

	if (!json_is_true(json_object_get(step, "matched"))) {
		fprintf(out, "%-12s none\n", "ban");
		return;
	}
	e = json_object_get(ban, "expires");
	fprintf(out, "%-12s match %s (%s, %s%s, %lld hits): %s\n", "ban",
	    jstr(ban, "address"), jstr(ban, "source"),
	    json_is_integer(e) ? "expires " : "",
	    expiry_text(json_is_integer(e) ? (int64_t)json_integer_value(e) : 0,
	    (int64_t)time(NULL), exp, sizeof(exp)), (long long)jint(ban, "hits"),
	    jstr(ban, "reason"));
}

static void
check_dnsbl_step(FILE *out, json_t *step)
{
	json_t		*zones = json_object_get(step, "zones"), *z, *a;
	const char	*status, *klass;
	size_t		 i, k;

	if (!json_is_true(json_object_get(step, "checked"))) {
		fprintf(out, "%-12s skipped: %s\n", "dnsbl", jstr(step, "why"));
		return;
	}
	if (json_array_size(zones) == 0)
		fprintf(out, "%-12s no zone answered\n", "dnsbl");
	json_array_foreach(zones, i, z) {
		status = jstr(z, "status");
		fprintf(out, "%-12s %s: ", "dnsbl", jstr(z, "zone"));
		if (strcmp(status, "listed") == 0) {
			fprintf(out, "listed");
			json_array_foreach(json_object_get(z, "answers"), k, a)
				fprintf(out, "%s%s", k == 0 ? " " : ",",
				    json_string_value(a));
			klass = jstr(z, "class");
			if (klass[0] != '\0')
				fprintf(out, " (%s)", klass);
			fprintf(out, " weight %lld", (long long)jint(z, "weight"));
		} else if (strcmp(status, "not_listed") == 0) {
			fprintf(out, "not listed");
		} else {
			fprintf(out, "%s (counts as not listed)", status);
		}
		if (json_is_true(json_object_get(z, "cached")))
			fprintf(out, ", cached");
		fprintf(out, "\n");
	}
	fprintf(out, "%-12s score %lld, threshold %lld%s\n", "",
	    (long long)jint(step, "score"), (long long)jint(step, "threshold"),
	    json_is_true(json_object_get(step, "degraded")) ?
	    " (incomplete: a zone did not answer)" : "");
}

void
check_login_print(FILE *out, json_t *l)
{
	json_t	*esc = json_object_get(l, "escalation");
	char	 win[32], when[32];

	if (!json_is_object(l))
		return;
	duration_short(jint(l, "window"), win, sizeof(win));
	fprintf(out, "%-12s %lld failed logins in the last %s on %lld accounts",
	    "login", (long long)jint(l, "failures"), win,
	    (long long)jint(l, "accounts"));
	if (json_is_integer(json_object_get(l, "last_seen")))
		fprintf(out, " (last %s)", time_local(jint(l, "last_seen"),
		    when, sizeof(when)));
	fprintf(out, "\n%-12s network %s: %lld failed logins on %lld accounts\n",
	    "", jstr(l, "network"), (long long)jint(l, "network_failures"),
	    (long long)jint(l, "network_accounts"));
	if (json_is_object(esc))
		fprintf(out, "%-12s banned %lld times by the login guard, last "
		    "%s at escalation level %lld (a ban within escalation_period "
		    "lasts twice as long, up to ban_max)\n", "",
		    (long long)jint(esc, "bans"), time_local(jint(esc,
		    "last_ban"), when, sizeof(when)), (long long)jint(esc,
		    "level"));
	else
		fprintf(out, "%-12s never banned by the login guard\n", "");
}

static void
check_print(FILE *out, json_t *x)
{
	json_t		*steps = json_object_get(x, "steps"), *step;
	const char	*name, *status, *text;
	size_t		 i;

	fprintf(out, "%-12s %s\n", "address", jstr(x, "address"));
	if (jstr(x, "country")[0] != '\0')	/* [geoip] database is set */
		fprintf(out, "%-12s %s\n", "country", jstr(x, "country"));
	json_array_foreach(steps, i, step) {
		name = jstr(step, "step");
		if (strcmp(name, "allow") == 0)
			check_list_step(out, "allow list", step);
		else if (strcmp(name, "deny") == 0)
			check_list_step(out, "deny list", step);
		else if (strcmp(name, "ban") == 0)
			check_ban_step(out, step);
		else if (strcmp(name, "dnsbl") == 0)
			check_dnsbl_step(out, step);
	}
	status = jstr(x, "status");
	text = jstr(x, "text");
	fprintf(out, "%-12s %s%s%s%s%s (decided by %s)\n", "verdict",
	    jstr(x, "verdict"), status[0] != '\0' ? " " : "", status,
	    text[0] != '\0' ? " " : "", text, jstr(x, "decided_by"));
	fprintf(out, "%-12s %s\n", "reason", jstr(x, "reason"));
	check_login_print(out, json_object_get(x, "login"));
}

int
cmd_check(struct cli *c, int argc, char **argv)
{
	const char	*pos[1];
	size_t		 npos;
	char		*esc, *path, *clean;
	json_t		*reply;
	int		 rc;

	switch (cli_parse_args(c, usage_check, argc, argv, NULL, 0, pos, 1, 1,
	    &npos)) {
	case CLI_PARSE_HELP: return cli_help(check_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	if ((rc = cli_check_net("check", pos[0], true)) != 0)
		return rc;
	esc = cli_escape(pos[0]);
	path = mw_malloc(strlen(esc) + 32);
	sprintf(path, "/api/v1/check?address=%s", esc);
	rc = cli_call(c, "GET", path, NULL, &reply);
	free(esc);
	free(path);
	if (rc != 0)
		return rc;
	if (c->json) {
		cli_print_json(reply);
	} else {
		/* Texts come from the daemon's config and DNS: print them clean. */
		char *out = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&out, &len);

		if (mem == NULL)
			mw_panic("open_memstream: out of memory");
		check_print(mem, reply);
		fclose(mem);
		clean = text_clean(out);
		for (size_t i = 0; i < len; i++)
			if (out[i] == '\n')
				clean[i] = '\n';
		fputs(clean, stdout);
		free(clean);
		free(out);
	}
	json_decref(reply);
	return CLI_EXIT_OK;
}
