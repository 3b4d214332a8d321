/*
 * cmd_config - `mailward config check [FILE]`: the daemon's own reader
 * (cfg_load) run locally, no daemon needed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/cfg.h"
#include "sources/logwatch.h"

static const char config_help[] =
"usage: mailward config check [FILE] [--dump]\n"
"\n"
"Reads FILE (default: -c, else $MAILWARD_CONF, else\n"
CLI_DEFAULT_CONFIG ") exactly as mailwardd does and prints\n"
"\"FILE: OK\", or every error with file:line and the fix. No daemon is\n"
"needed. Exit status 0 when valid, 78 when not.\n"
"\n"
"options:\n"
"  --dump   also print the effective configuration (defaults included)\n"
"\n"
"example:\n"
"  mailward config check /etc/mailward/mailward.conf && mailward reload\n";

static const char usage_config[] = "mailward config check [FILE] [--dump]";

int
cmd_config(struct cli *c, int argc, char **argv)
{
	const char	*pos[1] = { NULL };
	bool		 dump = false;
	struct cli_opt	 opts[] = { { "--dump", false, NULL, &dump },
	    { "-v", false, NULL, &dump } };
	const char	*path;
	struct cfg	*cfg = NULL;
	char		*error = NULL;
	size_t		 npos;

	if (argc < 2)
		return cli_usage_error(usage_config, "config: missing check");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0)
		return cli_help(config_help);
	if (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "test") != 0)
		return cli_usage_error(usage_config, "config: unknown subcommand "
		    "\"%s\"", argv[1]);
	switch (cli_parse_args(c, usage_config, argc - 1, argv + 1, opts,
	    MW_N_ELEMENTS(opts), pos, 0, 1, &npos)) {
	case CLI_PARSE_HELP: return cli_help(config_help);
	case CLI_PARSE_ERROR: return CLI_EXIT_USAGE;
	case CLI_PARSE_OK: break;
	}
	path = npos == 1 ? pos[0] : c->config_path;
	if (cfg_load(path, &cfg, &error) < 0) {
		char *clean = text_clean(error != NULL ? error : "unknown error");

		for (size_t i = 0; error != NULL && error[i] != '\0'; i++)
			if (error[i] == '\n')
				clean[i] = '\n';
		fflush(stdout);
		fprintf(stderr, "%s\n", clean);
		fprintf(stderr, "mailward: %s: configuration has errors; "
		    "mailwardd would not start with it (and keeps its old "
		    "configuration on reload)\n", path);
		free(clean);
		free(error);
		return CLI_EXIT_CONFIG;
	}
	/* what cfg_load cannot check: names known to the log patterns */
	if (logwatch_check_config(cfg, &error) < 0) {
		fprintf(stderr, "%s\nmailward: %s: configuration has errors; "
		    "mailwardd would not start with it (and keeps its old "
		    "configuration on reload)\n", error, path);
		free(error);
		cfg_free(&cfg);
		return CLI_EXIT_CONFIG;
	}
	printf("%s: OK\n", path);
	if (dump)
		cfg_dump(cfg, stdout);
	cfg_free(&cfg);
	return CLI_EXIT_OK;
}
