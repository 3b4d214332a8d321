/*
 * mailward - the command-line client of mailwardd: global flags, verb
 * dispatch and the argument parser every verb uses.
 *
 * Everything but `config check` talks to the daemon's admin API over its
 * unix socket (client.c); arguments are validated here first, so a typo
 * never reaches the daemon and fails the same way whether it runs or not.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cli.h"
#include "core/addr.h"
#include "core/arena.h"
#include "core/slice.h"

static const char mailward_help[] =
"usage: mailward [-c FILE] [--socket PATH] [--json] COMMAND [ARGS...]\n"
"\n"
"Control mailwardd, the mail server guard, through its admin socket.\n"
"\n"
"commands:\n"
"  status                          daemon version, uptime and counters\n"
"  ban list [--source S]           active bans\n"
"  ban add ADDR [--for DURATION|--permanent] [--reason TEXT]\n"
"  ban del ADDR                    lift a ban\n"
"  allow add CIDR [--comment TEXT] | allow del CIDR | allow list\n"
"  deny add CIDR [--comment TEXT]  | deny del CIDR  | deny list\n"
"  check ADDR                      explain the verdict for ADDR, step by step\n"
"  events [--since T] [--until T] [--address ADDR] [--limit N]\n"
"  config check [FILE]             validate a configuration file (no daemon)\n"
"  reload                          re-read the configuration (as SIGHUP)\n"
"\n"
"options:\n"
"  -c, --config FILE   configuration file to find the admin socket in\n"
"                      (default $MAILWARD_CONF, else " CLI_DEFAULT_CONFIG ")\n"
"  --socket PATH       admin socket (overrides the configuration file)\n"
"  --json              print the API's JSON instead of tables\n"
"  -h, --help          this help; COMMAND --help explains a command\n"
"  -V, --version       print the version\n"
"\n"
"exit status: 0 ok, 1 refused by mailwardd, 64 usage error, 69 mailwardd\n"
"not reachable, 78 configuration errors.\n"
"\n"
"example:\n"
"  mailward ban add 203.0.113.9 --for 1h --reason \"password spraying\"\n"
"  mailward check 203.0.113.9\n";

static const char mailward_usage[] =
    "mailward [-c FILE] [--socket PATH] [--json] COMMAND [ARGS...]";

void
cli_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("mailward: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("mailward: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return CLI_EXIT_USAGE;
}

int
cli_help(const char *text)
{
	fputs(text, stdout);
	return CLI_EXIT_OK;
}

int
cli_check_net(const char *what, const char *text, bool host_only)
{
	struct mw_arena	*a = mw_arena_new(1024);
	struct mw_cidr	 net;
	struct mw_addr	 addr;
	const char	*error = NULL;
	int		 rc = CLI_EXIT_OK;

	if (host_only) {
		if (mw_addr_parse(text, &addr) < 0) {
			cli_error("%s: \"%s\" is not an IPv4 or IPv6 address", what,
			    mw_sanitize(a, mw_slice_from_cstr(text), 60));
			rc = CLI_EXIT_USAGE;
		}
	} else if (mw_cidr_parse(text, &net, a, &error) < 0) {
		cli_error("%s: %s", what, error);
		rc = CLI_EXIT_USAGE;
	}
	mw_arena_free(&a);
	return rc;
}

int
cli_check_text(const char *opt, const char *text)
{
	if (strlen(text) > CLI_MAX_TEXT) {
		cli_error("%s is longer than %u bytes: shorten it", opt,
		    CLI_MAX_TEXT);
		return CLI_EXIT_USAGE;
	}
	if (!mw_slice_is_printable(mw_slice_from_cstr(text))) {
		cli_error("%s contains control characters: use printable text "
		    "on one line", opt);
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* "--name=value" -> name length before '=' (or the whole length). */
static size_t
cli_opt_name_len(const char *arg)
{
	const char *eq = strchr(arg, '=');

	return eq != NULL ? (size_t)(eq - arg) : strlen(arg);
}

enum cli_parse_result
cli_parse_args(struct cli *c, const char *usage, int argc, char **argv,
    const struct cli_opt *opts, size_t nopts, const char **pos,
    size_t min_pos, size_t max_pos, size_t *npos_r)
{
	size_t	 npos = 0;
	bool	 options_done = false;

	for (int i = 1; i < argc; i++) {
		const char		*arg = argv[i];
		const struct cli_opt	*o = NULL;
		size_t			 nlen;

		if (options_done || arg[0] != '-' || arg[1] == '\0') {
			if (npos == max_pos) {
				(void)cli_usage_error(usage, "unexpected argument "
				    "\"%s\"", arg);
				return CLI_PARSE_ERROR;
			}
			pos[npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_done = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return CLI_PARSE_HELP;
		if (strcmp(arg, "--json") == 0) {
			c->json = true;
			continue;
		}
		nlen = cli_opt_name_len(arg);
		for (size_t k = 0; k < nopts; k++)
			if (strlen(opts[k].name) == nlen &&
			    strncmp(opts[k].name, arg, nlen) == 0)
				o = &opts[k];
		if (o == NULL) {
			(void)cli_usage_error(usage, "unknown option \"%.*s\"",
			    (int)nlen, arg);
			return CLI_PARSE_ERROR;
		}
		if (!o->has_arg) {
			if (arg[nlen] == '=') {
				(void)cli_usage_error(usage, "%s takes no value",
				    o->name);
				return CLI_PARSE_ERROR;
			}
			*o->flag_r = true;
		} else if (arg[nlen] == '=') {
			*o->value_r = arg + nlen + 1;
		} else if (i + 1 < argc) {
			*o->value_r = argv[++i];
		} else {
			(void)cli_usage_error(usage, "%s needs a value", o->name);
			return CLI_PARSE_ERROR;
		}
	}
	if (npos < min_pos) {
		(void)cli_usage_error(usage, "missing argument");
		return CLI_PARSE_ERROR;
	}
	*npos_r = npos;
	return CLI_PARSE_OK;
}

static int
cli_run(struct cli *c, int argc, char **argv)
{
	const char *verb = argv[0];

	if (strcmp(verb, "status") == 0)
		return cmd_status(c, argc, argv);
	if (strcmp(verb, "ban") == 0 || strcmp(verb, "bans") == 0)
		return cmd_ban(c, argc, argv);
	if (strcmp(verb, "allow") == 0 || strcmp(verb, "deny") == 0)
		return cmd_list(c, argc, argv);
	if (strcmp(verb, "check") == 0 || strcmp(verb, "explain") == 0)
		return cmd_check(c, argc, argv);
	if (strcmp(verb, "events") == 0)
		return cmd_events(c, argc, argv);
	if (strcmp(verb, "config") == 0)
		return cmd_config(c, argc, argv);
	if (strcmp(verb, "reload") == 0)
		return cmd_reload(c, argc, argv);
	if (strcmp(verb, "help") == 0)
		return cli_help(mailward_help);
	return cli_usage_error(mailward_usage, "unknown command \"%s\" (see "
	    "mailward --help)", verb);
}

int
main(int argc, char **argv)
{
	struct cli	 c = { .config_path = CLI_DEFAULT_CONFIG };
	const char	*env = getenv("MAILWARD_CONF");
	int		 i, rc;

	if (env != NULL && env[0] != '\0') {
		c.config_path = env;
		c.config_given = true;
	}
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0)
			return cli_help(mailward_help);
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			printf("mailward %s\n", MW_VERSION);
			return CLI_EXIT_OK;
		}
		if (strcmp(arg, "--json") == 0) {
			c.json = true;
		} else if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0 ||
		    strcmp(arg, "--socket") == 0) {
			if (i + 1 >= argc)
				return cli_usage_error(mailward_usage, "%s needs "
				    "a value", arg);
			if (strcmp(arg, "--socket") == 0) {
				c.socket = argv[++i];
			} else {
				c.config_path = argv[++i];
				c.config_given = true;
			}
		} else if (strncmp(arg, "--config=", 9) == 0) {
			c.config_path = arg + 9;
			c.config_given = true;
		} else if (strncmp(arg, "-c", 2) == 0) {
			c.config_path = arg + 2;
			c.config_given = true;
		} else if (strncmp(arg, "--socket=", 9) == 0) {
			c.socket = arg + 9;
		} else {
			return cli_usage_error(mailward_usage, "unknown option "
			    "\"%s\" (see mailward --help)", arg);
		}
	}
	if (c.socket != NULL && c.socket[0] == '\0')
		return cli_usage_error(mailward_usage, "--socket is empty");
	if (i == argc)
		return cli_usage_error(mailward_usage, "missing COMMAND (see "
		    "mailward --help)");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_error("cannot initialize libcurl");
		return CLI_EXIT_FAIL;
	}
	rc = cli_run(&c, argc - i, argv + i);
	curl_global_cleanup();
	free(c.socket_owned);
	free(c.config_note);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_error("cannot write the output");
		return rc != 0 ? rc : CLI_EXIT_FAIL;
	}
	return rc;
}
