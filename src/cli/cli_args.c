/*
 * cli_args - argument parsing and local validation shared by the verbs,
 * and the error/usage/help printers. Pure apart from stdout/stderr
 * (tests/unit/test_cli_format.c drives it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/addr.h"
#include "core/arena.h"
#include "core/slice.h"

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

/* The name of positional argument n in a usage line: its n-th word in
   capitals outside brackets ("ADDR" of "mailward ban del ADDR"). */
static const char *
cli_usage_arg(const char *usage, size_t n)
{
	static char	 word[32];
	size_t		 depth = 0, len;
	const char	*p = usage;

	while (*p != '\0') {
		if (*p == '[')
			depth++;
		else if (*p == ']' && depth > 0)
			depth--;
		for (len = 0; p[len] >= 'A' && p[len] <= 'Z'; len++)
			;
		if (len > 0 && depth == 0 && (p == usage || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\0')) {
			if (n-- == 0 && len < sizeof(word)) {
				memcpy(word, p, len);
				word[len] = '\0';
				return word;
			}
		}
		p += len > 0 ? len : 1;
	}
	return "argument";
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
		(void)cli_usage_error(usage, "missing %s", cli_usage_arg(usage,
		    npos));
		return CLI_PARSE_ERROR;
	}
	*npos_r = npos;
	return CLI_PARSE_OK;
}
