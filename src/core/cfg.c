/*
 * cfg - mailward.conf reader; see cfg.h.
 *
 * inih does the INI syntax; a key table (section, key, type, range,
 * default) does the rest, so every key is validated the same way and the
 * defaults live in one place. All errors are collected (an admin fixes a
 * file once, not once per error). Line numbers come from the reader
 * callback, which sees every physical line.
 */
#include "core/cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/geoip.h"
#include "core/slice.h"

#define CFG_MAX_LINE	4096	/* bytes per line of the file, without LF */
#define CFG_MAX_QUOTE	80	/* bytes of a bad value quoted in an error */
#define CFG_MAX_ERRORS	50	/* reported errors; the rest are counted */

struct cfg_owned {
	struct cfg	 cfg;
	struct mw_arena	*arena;
};

enum cfg_type {
	CT_STR, CT_PATH, CT_BOOL, CT_U32, CT_U64, CT_I32, CT_DURATION,
	CT_DURATION_MS, CT_MODE, CT_PORTS, CT_ACTION, CT_LOGLEVEL, CT_BACKEND,
	CT_ENDPOINT, CT_RESOLVER, CT_REJECT_TEXT, CT_BITS, CT_LOGIN_ACTION,
	CT_FW_TABLE, CT_FW_PORTS,
};

struct cfg_key {
	const char	*section;
	const char	*key;
	enum cfg_type	 type;
	size_t		 offset;
	uint64_t	 max;		/* numbers: upper bound */
	const char	*def;		/* default, as it would be written */
	const char	*help;		/* example or hint for errors */
};

#define K(sec, name, type, field, max, def, help) \
	{ sec, name, type, offsetof(struct cfg, field), max, def, help }

static const struct cfg_key cfg_keys[] = {
	K("daemon", "state_dir", CT_PATH, daemon.state_dir, 0, "/var/lib/mailward", "an absolute path"),
	K("daemon", "user", CT_STR, daemon.user, 0, "mailward", "a user name, or empty"),
	K("daemon", "log_level", CT_LOGLEVEL, daemon.log_level, 0, "info", "error, warn, info or debug"),
	K("daemon", "pid_file", CT_STR, daemon.pid_file, 0, "", "a path, or empty"),
	K("policy", "listen", CT_ENDPOINT, policy.listen, 0, "127.0.0.1:10045", "127.0.0.1:10045 or [::1]:10045, or empty"),
	K("policy", "unix_socket", CT_STR, policy.unix_socket, 0, "", "/var/spool/postfix/private/mailward"),
	K("policy", "unix_socket_mode", CT_MODE, policy.unix_socket_mode, 0777, "0660", "an octal mode such as 0660"),
	K("policy", "unix_socket_group", CT_STR, policy.unix_socket_group, 0, "", "a group name, e.g. postfix"),
	K("policy", "max_connections", CT_U32, policy.max_connections, 100000, "1000", "a number from 1 to 100000"),
	K("policy", "idle_timeout", CT_DURATION, policy.idle_timeout, 86400, "1h", "a duration such as 1h, at most 1d"),
	K("policy", "reject_text", CT_REJECT_TEXT, policy.reject_text, 0,
	  "Access denied: %s. If you believe this is a mistake, contact your mail administrator.",
	  "one line of text with at most one %s"),
	K("policy", "submission_ports", CT_PORTS, policy.submission_ports, 0, "587 465", "port numbers such as \"587 465\""),
	K("authpolicy", "enabled", CT_BOOL, authpolicy.enabled, 0, "no", "yes or no"),
	K("authpolicy", "listen", CT_ENDPOINT, authpolicy.listen, 0, "127.0.0.1:10047", "127.0.0.1:10047 or [::1]:10047, or empty"),
	K("authpolicy", "unix_socket", CT_STR, authpolicy.unix_socket, 0, "", "a path such as /run/mailward/authpolicy.sock"),
	K("authpolicy", "unix_socket_mode", CT_MODE, authpolicy.unix_socket_mode, 0777, "0660", "an octal mode such as 0660"),
	K("authpolicy", "unix_socket_group", CT_STR, authpolicy.unix_socket_group, 0, "", "a group name, e.g. dovecot"),
	K("authpolicy", "api_key", CT_STR, authpolicy.api_key, 0, "", "the value of Dovecot's auth_policy_server_api_header"),
	K("authpolicy", "hash_nonce", CT_STR, authpolicy.hash_nonce, 0, "", "Dovecot's auth_policy_hash_nonce"),
	K("authpolicy", "hash_truncate", CT_BITS, authpolicy.hash_truncate, 256, "12", "Dovecot's auth_policy_hash_truncate: 0 to 256 bits"),
	K("authpolicy", "reject_text", CT_REJECT_TEXT, authpolicy.reject_text, 0,
	  "Login refused. If you believe this is a mistake, contact your mail administrator.",
	  "one line of text with at most one %s"),
	K("authpolicy", "max_connections", CT_U32, authpolicy.max_connections, 100000, "1000", "a number from 1 to 100000"),
	K("authpolicy", "timeout", CT_DURATION, authpolicy.timeout, 3600, "60s", "a duration such as 60s, at most 1h"),
	K("admin", "socket", CT_STR, admin.socket, 0, "admin.sock", "a path (relative: in state_dir)"),
	K("admin", "socket_mode", CT_MODE, admin.socket_mode, 0777, "0660", "an octal mode such as 0660"),
	K("admin", "group", CT_STR, admin.group, 0, "", "a group name, or empty"),
	K("store", "backend", CT_BACKEND, store.backend, 0, "sqlite", "sqlite"),
	K("store", "path", CT_STR, store.path, 0, "mailward.db", "a path (relative: in state_dir)"),
	K("store", "event_retention", CT_DURATION, store.event_retention, 3650ULL * 86400, "30d", "a duration such as 30d"),
	K("store", "event_max_rows", CT_U64, store.event_max_rows, 1000000000, "1000000", "a number of rows"),
	K("dnsbl", "enabled", CT_BOOL, dnsbl.enabled, 0, "yes", "yes or no"),
	K("dnsbl", "resolver", CT_RESOLVER, dnsbl.resolver, 0, "", "127.0.0.1 or 127.0.0.1:53, or empty for /etc/resolv.conf"),
	K("dnsbl", "timeout", CT_DURATION_MS, dnsbl.timeout_ms, 60000, "2s", "a duration such as 2s or 500ms, at most 60s"),
	K("dnsbl", "threshold", CT_I32, dnsbl.threshold, 1000, "2", "a whole number"),
	K("dnsbl", "action", CT_ACTION, dnsbl.action, 0, "reject", "reject, defer or warn"),
	K("dnsbl", "cache_min_ttl", CT_DURATION, dnsbl.cache_min_ttl, 86400, "60s", "a duration such as 60s"),
	K("dnsbl", "cache_max_ttl", CT_DURATION, dnsbl.cache_max_ttl, 7 * 86400, "1h", "a duration such as 1h"),
	K("dnsbl", "negative_ttl", CT_DURATION, dnsbl.negative_ttl, 86400, "5m", "a duration such as 5m"),
	K("dnsbl", "cache_max_entries", CT_U32, dnsbl.cache_max_entries, 10000000, "200000", "a number of entries"),
	K("dashboard", "enabled", CT_BOOL, dashboard.enabled, 0, "yes", "yes or no"),
	K("dashboard", "listen", CT_ENDPOINT, dashboard.listen, 0, "127.0.0.1:10048", "127.0.0.1:10048 or [::1]:10048"),
	K("dashboard", "tls_certificate", CT_STR, dashboard.tls_certificate, 0, "", "a PEM file (relative: in state_dir), or empty"),
	K("dashboard", "tls_key", CT_STR, dashboard.tls_key, 0, "", "a PEM file (relative: in state_dir), or empty"),
	K("dashboard", "session_idle_timeout", CT_DURATION, dashboard.session_idle_timeout, 86400, "30m", "a duration such as 30m, at most 1d"),
	K("dashboard", "session_lifetime", CT_DURATION, dashboard.session_lifetime, 30 * 86400, "12h", "a duration such as 12h, at most 30d"),
	K("dashboard", "web_root", CT_PATH, dashboard.web_root, 0, MW_WEB_ROOT, "an absolute path"),
	K("dashboard", "trusted_proxy", CT_STR, dashboard.trusted_proxy, 0, "", "the reverse proxy's address such as 127.0.0.1, or empty"),
	K("dashboard", "max_streams", CT_U32, dashboard.max_streams, 1000, "16", "a number from 1 to 1000"),
	K("dashboard", "metrics", CT_BOOL, dashboard.metrics, 0, "yes", "yes or no"),
	K("lists", "default_ban", CT_DURATION, lists.default_ban, 3650ULL * 86400, "1d", "a duration such as 1d, or 0 or permanent"),
	K("login", "enabled", CT_BOOL, login.enabled, 0, "yes", "yes or no"),
	K("login", "window", CT_DURATION, login.window, 86400, "10m", "a duration such as 10m, at most 1d"),
	K("login", "tarpit_after", CT_U32, login.tarpit_after, 100000, "3", "a number of failed logins"),
	K("login", "tarpit_delay", CT_DURATION, login.tarpit_delay, 60, "2s", "a duration such as 2s, at most 60s"),
	K("login", "ban_after", CT_U32, login.ban_after, 100000, "10", "a number of failed logins"),
	K("login", "account_address_ban_after", CT_U32, login.account_address_ban_after, 100000, "6", "a number of failed logins"),
	K("login", "network_ban_after", CT_U32, login.network_ban_after, 1000000, "30", "a number of failed logins"),
	K("login", "network_bits_v4", CT_U32, login.network_bits_v4, 32, "24", "a prefix length from 8 to 32"),
	K("login", "network_bits_v6", CT_U32, login.network_bits_v6, 128, "64", "a prefix length from 16 to 128"),
	K("login", "spray_accounts", CT_U32, login.spray_accounts, 200, "8", "a number of accounts from 2 to 200"),
	K("login", "spray_network_accounts", CT_U32, login.spray_network_accounts, 200, "15", "a number of accounts from 2 to 200"),
	K("login", "spray_password_accounts", CT_U32, login.spray_password_accounts, 200, "5", "a number of accounts from 2 to 200"),
	K("login", "distributed_addresses", CT_U32, login.distributed_addresses, 32, "5", "a number of addresses from 2 to 32"),
	K("login", "distributed_action", CT_LOGIN_ACTION, login.distributed_reject, 0, "tarpit", "tarpit or reject"),
	K("login", "trust_known", CT_BOOL, login.trust_known, 0, "yes", "yes or no"),
	K("login", "known_ttl", CT_DURATION, login.known_ttl, 3650ULL * 86400, "30d", "a duration such as 30d"),
	K("login", "alert_after_failures", CT_U32, login.alert_after_failures, 100000, "3", "a number of failed logins"),
	K("login", "alert_new_network", CT_BOOL, login.alert_new_network, 0, "yes", "yes or no"),
	K("login", "alert_interval", CT_DURATION, login.alert_interval, 3650ULL * 86400, "1h", "a duration such as 1h (0: every time)"),
	K("login", "ban_time", CT_DURATION, login.ban_time, 3650ULL * 86400, "1h", "a duration such as 1h"),
	K("login", "ban_max", CT_DURATION, login.ban_max, 3650ULL * 86400, "7d", "a duration such as 7d"),
	K("login", "ban_permanent", CT_BOOL, login.ban_permanent, 0, "no", "yes or no"),
	K("login", "escalation_period", CT_DURATION, login.escalation_period, 3650ULL * 86400, "30d", "a duration such as 30d"),
	K("login", "weak_password", CT_BOOL, login.weak_password, 0, "no", "yes or no"),
	K("login", "max_addresses", CT_U32, login.max_addresses, 100000000, "2000000", "a number of entries"),
	K("login", "max_networks", CT_U32, login.max_networks, 100000000, "1000000", "a number of entries"),
	K("login", "max_accounts", CT_U32, login.max_accounts, 100000000, "200000", "a number of entries"),
	K("login", "max_pairs", CT_U32, login.max_pairs, 100000000, "2000000", "a number of entries"),
	K("firewall", "enabled", CT_BOOL, firewall.enabled, 0, "no", "yes or no"),
	K("firewall", "table", CT_FW_TABLE, firewall.table, 0, "mailward", "a name of letters, digits and _ (at most 32), starting with a letter"),
	K("firewall", "ports", CT_FW_PORTS, firewall.ports, 0, "25 465 587 110 143 993 995 4190", "TCP port numbers such as \"25 465 587\", or all"),
	K("firewall", "priority", CT_I32, firewall.priority, 1000, "-10", "a whole number from -1000 to 1000 (filter is 0)"),
	K("logwatch", "enabled", CT_BOOL, logwatch.enabled, 0, "no", "yes or no"),
	K("logwatch", "journal", CT_BOOL, logwatch.journal, 0, "no", "yes or no"),
	K("logwatch", "journal_directory", CT_STR, logwatch.journal_directory, 0, "", "a directory of journal files, or empty for the system journal"),
	K("logwatch", "patterns", CT_STR, logwatch.patterns, 0, "all", "pattern sets such as \"postfix dovecot\" or all"),
	K("logwatch", "poll_interval", CT_DURATION_MS, logwatch.poll_interval_ms, 60000, "1s", "a duration from 100ms to 60s"),
	K("geoip", "database", CT_STR, geoip.database, 0, "", "a MaxMind DB file such as /var/lib/GeoIP/GeoLite2-Country.mmdb (relative: in state_dir), or empty"),
};

static const char *const zone_keys[] = { "zone", "preset", "enabled", "ipv6",
	"weights", "default_weight" };

struct zone_preset {
	const char		*name;
	const char		*zone;
	bool			 ipv6;
	int32_t			 default_weight;
	struct cfg_zone_code	 codes[8];
	size_t			 ncodes;
};

#define IP127(c, d)	(0x7f000000u | ((uint32_t)(c) << 8) | (uint32_t)(d))

static const struct zone_preset zone_presets[] = {
	{ "spamhaus-zen", "zen.spamhaus.org", true, 1, {
		{ IP127(0, 2), IP127(0, 2), 2, DNSBL_CLASS_SBL },
		{ IP127(0, 3), IP127(0, 3), 2, DNSBL_CLASS_CSS },
		{ IP127(0, 4), IP127(0, 7), 2, DNSBL_CLASS_XBL },
		{ IP127(0, 9), IP127(0, 9), 2, DNSBL_CLASS_DROP },
		{ IP127(0, 10), IP127(0, 11), 2, DNSBL_CLASS_PBL },
	}, 5 },
	{ "spamcop", "bl.spamcop.net", false, 1, {
		{ IP127(0, 2), IP127(0, 2), 1, DNSBL_CLASS_LISTED },
	}, 1 },
	{ "barracuda", "b.barracudacentral.org", false, 1, {
		{ IP127(0, 2), IP127(0, 2), 1, DNSBL_CLASS_LISTED },
	}, 1 },
};

static const char *const class_names[] = { "LISTED", "SBL", "CSS", "XBL",
	"DROP", "PBL", "ALLOW" };

struct cfg_error {
	unsigned	 line;
	const char	*text;	/* in the loader's arena */
};

struct cfg_loader {
	struct cfg		*cfg;
	struct mw_arena		*a;
	const char		*file;
	FILE			*fp;
	unsigned		 line;
	struct cfg_error	 errors[CFG_MAX_ERRORS];
	size_t			 nerrors;	/* may exceed CFG_MAX_ERRORS */
	unsigned		 section_line;	/* of the last [section] */
	bool			 zone_has_weights[CFG_MAX_ZONES];
	bool			 zone_has_ipv6[CFG_MAX_ZONES];
	bool			 zone_has_dw[CFG_MAX_ZONES];
	unsigned		 zone_line[CFG_MAX_ZONES];
	/* line where each key was set (0: not yet), to refuse duplicates */
	unsigned		 key_line[MW_N_ELEMENTS(cfg_keys)];
	unsigned		 zone_key_line[CFG_MAX_ZONES][MW_N_ELEMENTS(zone_keys)];
	const char		*bad_section;	/* reported once, not per key */
	bool			 zone_has_zone[CFG_MAX_ZONES];
	bool			 zone_bad_preset[CFG_MAX_ZONES];
	struct cfg_list_entry	*allow, *deny;
	size_t			 nallow, ndeny, allow_cap, deny_cap;
};

/* A value as quoted in an error: control bytes replaced, cut at
   CFG_MAX_QUOTE bytes (the file may hold anything). */
static const char *
cfg_quote(struct cfg_loader *l, const char *v)
{
	return mw_sanitize(l->a, mw_slice_from_cstr(v), CFG_MAX_QUOTE);
}

static void cfg_error(struct cfg_loader *l, const char *section,
    const char *key, const char *fmt, ...) MW_PRINTF(4, 5);

static void
cfg_error(struct cfg_loader *l, const char *section, const char *key,
    const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[1024];

	if (l->nerrors++ >= CFG_MAX_ERRORS)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	section = cfg_quote(l, section);
	key = cfg_quote(l, key);
	l->errors[l->nerrors - 1] = (struct cfg_error){ l->line,
	    mw_arena_printf(l->a, "%s:%u: %s%s%s%s%s", l->file, l->line,
	    section, section[0] != '\0' ? ": " : "", key,
	    key[0] != '\0' ? ": " : "", msg) };
}

/* Edit distance for "did you mean" (short strings only). */
static size_t
cfg_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;

			cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static const char *
cfg_suggest(const char *section, const char *key)
{
	const char	*best = NULL;
	size_t		 best_d = 3;
	bool		 zone = strncmp(section, "dnsbl:", 6) == 0;

	if (zone) {
		for (size_t i = 0; i < MW_N_ELEMENTS(zone_keys); i++) {
			size_t d = cfg_distance(key, zone_keys[i]);

			if (d < best_d) {
				best_d = d;
				best = zone_keys[i];
			}
		}
		return best;
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(cfg_keys); i++) {
		size_t d;

		if (strcmp(cfg_keys[i].section, section) != 0)
			continue;
		if ((d = cfg_distance(key, cfg_keys[i].key)) < best_d) {
			best_d = d;
			best = cfg_keys[i].key;
		}
	}
	if (strcmp(section, "lists") == 0) {
		if (cfg_distance(key, "allow") < best_d)
			best = "allow";
		else if (cfg_distance(key, "deny") < best_d)
			best = "deny";
	}
	return best;
}

static int
cfg_parse_bool(const char *v, bool *b_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < MW_N_ELEMENTS(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*b_r = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*b_r = false;
			return 0;
		}
	}
	return -1;
}

/* "host:port" with an IPv4 or bracketed IPv6 literal; empty allowed. */
static int
cfg_check_endpoint(const char *v, bool port_optional)
{
	const char	*colon;
	struct mw_addr	 a;
	uint32_t	 port;

	if (v[0] == '[') {
		const char *end = strchr(v, ']');

		if (end == NULL || mw_addr_parse_len(v + 1, (size_t)(end - v - 1),
		    &a) < 0)
			return -1;
		if (end[1] == '\0')
			return port_optional ? 0 : -1;
		if (end[1] != ':')
			return -1;
		colon = end + 1;
	} else {
		colon = strrchr(v, ':');
		if (colon == NULL)
			return port_optional && mw_addr_parse(v, &a) == 0 ? 0 : -1;
		if (strchr(v, ':') != colon)	/* bare IPv6 without brackets */
			return port_optional && mw_addr_parse(v, &a) == 0 ? 0 : -1;
		if (mw_addr_parse_len(v, (size_t)(colon - v), &a) < 0)
			return -1;
	}
	if (mw_parse_u32(colon + 1, 65535, &port) < 0 || port == 0)
		return -1;
	return 0;
}

static int
cfg_check_reject_text(const char *v, const char **why_r)
{
	size_t nargs = 0;

	if (!mw_slice_is_printable(mw_slice_from_cstr(v))) {
		*why_r = "must be one line of printable text";
		return -1;
	}
	if (strlen(v) > 400) {
		*why_r = "is longer than 400 bytes (SMTP replies should stay short)";
		return -1;
	}
	for (const char *p = v; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == '%') {
			p++;
		} else if (p[1] == 's') {
			if (++nargs > 1) {
				*why_r = "has more than one %s (the reason is inserted once)";
				return -1;
			}
			p++;
		} else {
			*why_r = "has a % directive other than %s or %%";
			return -1;
		}
	}
	return 0;
}

static int
cfg_set_key(struct cfg_loader *l, const struct cfg_key *k, const char *v)
{
	char		*field = (char *)l->cfg + k->offset;
	uint64_t	 u;
	const char	*why = NULL;

	switch (k->type) {
	case CT_STR:
	case CT_PATH:
		if (!mw_slice_is_printable(mw_slice_from_cstr(v))) {
			why = "must be printable text";
			break;
		}
		if (k->type == CT_PATH && v[0] != '/') {
			why = "must be an absolute path";
			break;
		}
		*(const char **)(void *)field = mw_arena_strdup(l->a, v);
		return 0;
	case CT_BOOL:
		if (cfg_parse_bool(v, (bool *)(void *)field) == 0)
			return 0;
		why = "is not yes or no";
		break;
	case CT_U32:
		if (mw_parse_u64(v, k->max, &u) == 0 && u > 0) {
			*(uint32_t *)(void *)field = (uint32_t)u;
			return 0;
		}
		break;
	case CT_LOGIN_ACTION:
		if (strcmp(v, "tarpit") == 0 || strcmp(v, "reject") == 0) {
			*(bool *)(void *)field = v[0] == 'r';
			return 0;
		}
		break;
	case CT_U64:
		if (mw_parse_u64(v, k->max, &u) == 0 && u > 0) {
			*(uint64_t *)(void *)field = u;
			return 0;
		}
		break;
	case CT_I32: {
		int32_t i;

		if (mw_parse_i32(v, (int32_t)k->max, &i) == 0) {
			*(int32_t *)(void *)field = i;
			return 0;
		}
		break;
	}
	case CT_DURATION:
		/* 0 means "never expires" for default_ban, "no limit" for
		   alert_interval; elsewhere a duration must be positive. */
		if ((strcmp(v, "0") == 0 || strcmp(v, "permanent") == 0) &&
		    strcmp(k->key, "default_ban") == 0) {
			*(uint64_t *)(void *)field = 0;
			return 0;
		}
		if (mw_parse_duration(v, k->max, &u) == 0 && (u > 0 ||
		    strcmp(k->key, "alert_interval") == 0)) {
			*(uint64_t *)(void *)field = u;
			return 0;
		}
		break;
	case CT_DURATION_MS: {
		size_t n = strlen(v);

		if (n > 2 && strcmp(v + n - 2, "ms") == 0) {
			char tmp[32];

			if (n - 2 < sizeof(tmp)) {
				memcpy(tmp, v, n - 2);
				tmp[n - 2] = '\0';
				if (mw_parse_u64(tmp, k->max, &u) == 0 && u >= 10) {
					*(uint64_t *)(void *)field = u;
					return 0;
				}
			}
		} else if (mw_parse_duration(v, k->max / 1000, &u) == 0 && u > 0) {
			*(uint64_t *)(void *)field = u * 1000;
			return 0;
		}
		break;
	}
	case CT_MODE: {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(v, &end, 8);
		if (errno == 0 && *end == '\0' && v[0] >= '0' && v[0] <= '7' &&
		    m <= k->max) {
			*(uint32_t *)(void *)field = (uint32_t)m;
			return 0;
		}
		break;
	}
	case CT_PORTS: {
		char	*copy = mw_arena_strdup(l->a, v), *save = NULL, *tok;
		size_t	 n = 0;

		for (tok = strtok_r(copy, " ,\t", &save); tok != NULL;
		    tok = strtok_r(NULL, " ,\t", &save)) {
			uint32_t port;

			if (n == CFG_MAX_PORTS) {
				why = "lists more than 8 ports";
				break;
			}
			if (mw_parse_u32(tok, 65535, &port) < 0 || port == 0) {
				why = NULL;
				goto bad;
			}
			l->cfg->policy.submission_ports[n++] = (uint16_t)port;
		}
		if (why != NULL)
			break;
		l->cfg->policy.nsubmission_ports = n;
		return 0;
	}
	case CT_ACTION:
		if (strcmp(v, "reject") == 0)
			l->cfg->dnsbl.action = CFG_DNSBL_REJECT;
		else if (strcmp(v, "defer") == 0)
			l->cfg->dnsbl.action = CFG_DNSBL_DEFER;
		else if (strcmp(v, "warn") == 0)
			l->cfg->dnsbl.action = CFG_DNSBL_WARN;
		else
			break;
		return 0;
	case CT_LOGLEVEL: {
		static const char *const levels[] = { "error", "warn", "warning",
			"info", "debug" };

		for (size_t i = 0; i < MW_N_ELEMENTS(levels); i++) {
			if (strcmp(v, levels[i]) == 0) {
				*(const char **)(void *)field = levels[i];
				return 0;
			}
		}
		break;
	}
	case CT_BACKEND:
		if (strcmp(v, "sqlite") == 0) {
			l->cfg->store.backend = "sqlite";
			return 0;
		}
		if (strcmp(v, "redis") == 0) {
			why = "is not available in this version; use sqlite";
			break;
		}
		break;
	case CT_ENDPOINT:
	case CT_RESOLVER:
		if (v[0] == '\0' || cfg_check_endpoint(v, k->type == CT_RESOLVER) == 0) {
			*(const char **)(void *)field = mw_arena_strdup(l->a, v);
			return 0;
		}
		break;
	case CT_BITS:	/* 0 has a meaning here (whole digest) */
		if (mw_parse_u64(v, k->max, &u) == 0) {
			*(uint32_t *)(void *)field = (uint32_t)u;
			return 0;
		}
		break;
	case CT_FW_TABLE: {
		size_t n = strlen(v);
		bool good = n > 0 && n <= CFG_MAX_FW_TABLE && isalpha((unsigned char)v[0]);

		for (size_t i = 1; good && i < n; i++)
			good = isalnum((unsigned char)v[i]) || v[i] == '_';
		if (!good)
			break;
		l->cfg->firewall.table = mw_arena_strdup(l->a, v);
		return 0;
	}
	case CT_FW_PORTS: {
		char	*copy = mw_arena_strdup(l->a, v), *save = NULL, *tok;
		size_t	 n = 0;

		if (strcmp(v, "all") == 0) {
			l->cfg->firewall.nports = 0;
			return 0;
		}
		for (tok = strtok_r(copy, " ,\t", &save); tok != NULL;
		    tok = strtok_r(NULL, " ,\t", &save)) {
			uint32_t port;

			if (n == CFG_MAX_FW_PORTS) {
				why = "lists more than 32 ports (use all)";
				goto bad;
			}
			if (mw_parse_u32(tok, 65535, &port) < 0 || port == 0)
				goto bad;
			l->cfg->firewall.ports[n++] = (uint16_t)port;
		}
		if (n == 0)
			break;
		l->cfg->firewall.nports = n;
		return 0;
	}
	case CT_REJECT_TEXT:
		if (cfg_check_reject_text(v, &why) == 0) {
			*(const char **)(void *)field = mw_arena_strdup(l->a, v);
			return 0;
		}
		break;
	}
bad:
	if (why != NULL)
		cfg_error(l, k->section, k->key, "\"%s\" %s", cfg_quote(l, v), why);
	else
		cfg_error(l, k->section, k->key, "\"%s\" is not valid (expected %s)",
		    cfg_quote(l, v), k->help);
	return -1;
}

static void
cfg_list_add(struct cfg_loader *l, bool allow, const char *v)
{
	struct cfg_list_entry	**list = allow ? &l->allow : &l->deny;
	size_t			 *n = allow ? &l->nallow : &l->ndeny;
	size_t			 *cap = allow ? &l->allow_cap : &l->deny_cap;
	struct mw_cidr		  net;
	const char		 *error;

	if (mw_cidr_parse(v, &net, l->a, &error) < 0) {
		cfg_error(l, "lists", allow ? "allow" : "deny", "%s", error);
		return;
	}
	if (*n == CFG_MAX_LIST_ENTRIES) {
		cfg_error(l, "lists", allow ? "allow" : "deny", "more than %d "
		    "entries: use `mailward %s add` for large lists",
		    CFG_MAX_LIST_ENTRIES, allow ? "allow" : "deny");
		return;
	}
	if (*n == *cap) {
		*cap = *cap == 0 ? 16 : *cap * 2;
		*list = mw_realloc(*list, mw_mul_size(*cap, sizeof(**list)));
	}
	(*list)[(*n)++] = (struct cfg_list_entry){ .net = net, .comment =
	    mw_arena_printf(l->a, "%s:%u", l->file, l->line) };
}

/* [logwatch] files: absolute paths separated by spaces; the key may be
   repeated, each line adds. */
static void
cfg_logwatch_files(struct cfg_loader *l, const char *v)
{
	struct cfg	*c = l->cfg;
	const char	*p = v;

	if (!mw_slice_is_printable(mw_slice_from_cstr(v))) {
		cfg_error(l, "logwatch", "files", "must be printable text");
		return;
	}
	while (*p != '\0') {
		size_t n = strcspn(p, " \t");

		if (n > 0) {
			char *path = mw_arena_strndup(l->a, p, n);

			if (path[0] != '/') {
				cfg_error(l, "logwatch", "files", "\"%s\" is not an "
				    "absolute path (e.g. /var/log/mail.log)",
				    cfg_quote(l, path));
				return;
			}
			if (c->logwatch.nfiles == CFG_MAX_LOGFILES) {
				cfg_error(l, "logwatch", "files", "more than %d files",
				    CFG_MAX_LOGFILES);
				return;
			}
			for (size_t i = 0; i < c->logwatch.nfiles; i++)
				if (strcmp(c->logwatch.files[i], path) == 0) {
					cfg_error(l, "logwatch", "files", "\"%s\" is "
					    "listed twice", cfg_quote(l, path));
					return;
				}
			c->logwatch.files[c->logwatch.nfiles++] = path;
		}
		p += n;
		p += strspn(p, " \t");
	}
}

static struct cfg_zone *
cfg_zone_get(struct cfg_loader *l, const char *section, size_t *idx_r)
{
	const char	*name = section + 6;
	struct cfg	*c = l->cfg;

	for (size_t i = 0; i < c->dnsbl.nzones; i++) {
		if (strcmp(c->dnsbl.zones[i].name, name) == 0) {
			*idx_r = i;
			return &c->dnsbl.zones[i];
		}
	}
	if (l->bad_section != NULL && strcmp(l->bad_section, section) == 0)
		return NULL;	/* reported for its first key */
	if (c->dnsbl.nzones == CFG_MAX_ZONES || name[0] == '\0' ||
	    !mw_slice_is_printable(mw_slice_from_cstr(name))) {
		unsigned line = l->line;

		l->bad_section = mw_arena_strdup(l->a, section);
		l->line = l->section_line;
		if (c->dnsbl.nzones == CFG_MAX_ZONES)
			cfg_error(l, section, "", "more than %d DNSBL zones",
			    CFG_MAX_ZONES);
		else
			cfg_error(l, section, "", "a zone section needs a name, "
			    "e.g. [dnsbl:zen]");
		l->line = line;
		return NULL;
	}
	*idx_r = c->dnsbl.nzones;
	l->zone_line[c->dnsbl.nzones] = l->section_line;
	c->dnsbl.zones[c->dnsbl.nzones] = (struct cfg_zone){
		.name = mw_arena_strdup(l->a, name), .zone = "", .preset = "",
		.enabled = true, .ipv6 = true, .default_weight = 1,
	};
	return &c->dnsbl.zones[c->dnsbl.nzones++];
}

static int
cfg_parse_ip127(const char *s, size_t len, uint32_t *ip_r)
{
	struct mw_addr a;

	if (mw_addr_parse_len(s, len, &a) < 0 || !mw_addr_is_v4(&a) ||
	    a.b[12] != 127)
		return -1;
	*ip_r = (uint32_t)a.b[12] << 24 | (uint32_t)a.b[13] << 16 |
	    (uint32_t)a.b[14] << 8 | a.b[15];
	return 0;
}

/* "127.0.0.2=3 127.0.0.4-127.0.0.7=3:XBL 127.0.10.1=-2:ALLOW" */
static void
cfg_zone_weights(struct cfg_loader *l, const char *section, struct cfg_zone *z,
    const char *v)
{
	char	*copy = mw_arena_strdup(l->a, v), *save = NULL, *tok;

	z->ncodes = 0;
	for (tok = strtok_r(copy, " ,\t", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,\t", &save)) {
		struct cfg_zone_code	 c = { .klass = DNSBL_CLASS_LISTED };
		char			*eq = strchr(tok, '='), *dash, *colon;

		if (eq == NULL)
			goto bad;
		*eq = '\0';
		if ((colon = strchr(eq + 1, ':')) != NULL) {
			size_t i;

			*colon = '\0';
			for (i = 0; i < MW_N_ELEMENTS(class_names); i++)
				if (strcasecmp(colon + 1, class_names[i]) == 0)
					break;
			if (i == MW_N_ELEMENTS(class_names)) {
				cfg_error(l, section, "weights", "unknown class \"%s\" "
				    "(LISTED, SBL, CSS, XBL, DROP, PBL or ALLOW)",
				    cfg_quote(l, colon + 1));
				return;
			}
			c.klass = (enum dnsbl_class)i;
		}
		if (mw_parse_i32(eq + 1, 100, &c.weight) < 0)
			goto bad;
		dash = strchr(tok, '-');
		if (cfg_parse_ip127(tok, dash != NULL ? (size_t)(dash - tok) :
		    strlen(tok), &c.first) < 0 ||
		    (dash != NULL && cfg_parse_ip127(dash + 1, strlen(dash + 1),
		    &c.last) < 0)) {
			cfg_error(l, section, "weights", "\"%s\": answers must be "
			    "addresses in 127.0.0.0/8", cfg_quote(l, tok));
			return;
		}
		if (dash == NULL)
			c.last = c.first;
		if (c.last < c.first)
			goto bad;
		if (z->ncodes == CFG_MAX_ZONE_CODES) {
			cfg_error(l, section, "weights", "more than %d entries",
			    CFG_MAX_ZONE_CODES);
			return;
		}
		z->codes[z->ncodes++] = c;
	}
	return;
bad:
	cfg_error(l, section, "weights", "\"%s\" is not valid (expected e.g. "
	    "\"127.0.0.2=2 127.0.0.4-127.0.0.7=2:XBL\")", cfg_quote(l, v));
}

static void
cfg_zone_key(struct cfg_loader *l, const char *section, const char *key,
    const char *v)
{
	size_t		 idx, ki;
	struct cfg_zone	*z;
	int32_t		 w;

	for (ki = 0; ki < MW_N_ELEMENTS(zone_keys); ki++)
		if (strcmp(key, zone_keys[ki]) == 0)
			break;
	if (ki == MW_N_ELEMENTS(zone_keys)) {
		const char *s = cfg_suggest(section, key);

		cfg_error(l, section, key, "unknown key%s%s%s", s != NULL ?
		    "; did you mean \"" : "", s != NULL ? s : "",
		    s != NULL ? "\"?" : "");
		return;
	}
	if ((z = cfg_zone_get(l, section, &idx)) == NULL)
		return;
	if (l->zone_key_line[idx][ki] != 0) {
		cfg_error(l, section, key, "set twice (first on line %u); "
		    "keep one", l->zone_key_line[idx][ki]);
		return;
	}
	l->zone_key_line[idx][ki] = l->line;
	if (strcmp(key, "zone") == 0) {
		size_t n = strlen(v);
		bool ok = n > 0 && n < 200 && v[0] != '.' && v[n - 1] != '.';

		l->zone_has_zone[idx] = true;	/* invalid is not also "missing" */

		for (size_t i = 0; ok && i < n; i++)
			ok = (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' &&
			    v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') ||
			    v[i] == '-' || v[i] == '.' || v[i] == '_';
		if (!ok || strstr(v, "..") != NULL)
			cfg_error(l, section, key, "\"%s\" is not a DNS zone name "
			    "(e.g. zen.spamhaus.org)", cfg_quote(l, v));
		else
			z->zone = mw_arena_strdup(l->a, v);
	} else if (strcmp(key, "preset") == 0) {
		size_t i;

		for (i = 0; i < MW_N_ELEMENTS(zone_presets); i++)
			if (strcmp(v, zone_presets[i].name) == 0)
				break;
		if (v[0] == '\0')
			z->preset = "";	/* no preset: zone and weights are needed */
		else if (i == MW_N_ELEMENTS(zone_presets)) {
			cfg_error(l, section, key, "unknown preset \"%s\" "
			    "(spamhaus-zen, spamcop, barracuda, or empty)",
			    cfg_quote(l, v));
			l->zone_bad_preset[idx] = true;	/* not also "missing" */
		}
		else
			z->preset = zone_presets[i].name;
	} else if (strcmp(key, "enabled") == 0 || strcmp(key, "ipv6") == 0) {
		bool b;

		if (cfg_parse_bool(v, &b) < 0) {
			cfg_error(l, section, key, "\"%s\" is not yes or no",
			    cfg_quote(l, v));
			return;
		}
		if (key[0] == 'e') {
			z->enabled = b;
		} else {
			z->ipv6 = b;
			l->zone_has_ipv6[idx] = true;
		}
	} else if (strcmp(key, "default_weight") == 0) {
		if (mw_parse_i32(v, 100, &w) < 0)
			cfg_error(l, section, key, "\"%s\" is not a whole number "
			    "from -100 to 100", cfg_quote(l, v));
		else {
			z->default_weight = w;
			l->zone_has_dw[idx] = true;
		}
	} else {	/* weights */
		cfg_zone_weights(l, section, z, v);
		l->zone_has_weights[idx] = true;
	}
}

static const char *const section_names[] = { "daemon", "policy", "admin",
	"store", "dnsbl", "lists", "authpolicy", "login",
	"firewall", "logwatch", "dashboard", "geoip" };

/* An unknown section, reported once for all its keys. */
static void
cfg_bad_section(struct cfg_loader *l, const char *section, const char *key)
{
	const char	*best = NULL;
	size_t		 best_d = 3;

	unsigned	 line = l->line;

	if (l->bad_section != NULL && strcmp(l->bad_section, section) == 0)
		return;
	l->bad_section = mw_arena_strdup(l->a, section);
	if (section[0] != '\0')
		l->line = l->section_line;
	if (section[0] == '\0') {
		cfg_error(l, "", key, "key outside a section; put it below "
		    "its [section] line");
		return;
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(section_names); i++) {
		size_t d = cfg_distance(section, section_names[i]);

		if (d < best_d) {
			best_d = d;
			best = section_names[i];
		}
	}
	if (best == NULL && strncmp(section, "dnsbl", 5) == 0 &&
	    strchr(" ._-/", section[5]) != NULL && section[5] != '\0') {
		cfg_error(l, "", "", "unknown section [%s]; did you mean "
		    "[dnsbl:%s]?", cfg_quote(l, section), cfg_quote(l,
		    section + 6));
		l->line = line;
		return;
	}
	if (best != NULL)
		cfg_error(l, "", "", "unknown section [%s]; did you mean [%s]?",
		    cfg_quote(l, section), best);
	else
		cfg_error(l, "", "", "unknown section [%s] (daemon, policy, "
		    "authpolicy, admin, store, dnsbl, dnsbl:NAME, lists, login, "
		    "firewall, logwatch, dashboard or geoip)",
		    cfg_quote(l, section));
	l->line = line;
}

static int
cfg_handler(void *user, const char *section, const char *key, const char *v)
{
	struct cfg_loader	*l = user;
	bool			 known = false;

	if (strncmp(section, "dnsbl:", 6) == 0) {
		cfg_zone_key(l, section, key, v);
		return 1;
	}
	if (strcmp(section, "lists") == 0 &&
	    (strcmp(key, "allow") == 0 || strcmp(key, "deny") == 0)) {
		cfg_list_add(l, key[0] == 'a', v);
		return 1;
	}
	if (strcmp(section, "logwatch") == 0 && strcmp(key, "files") == 0) {
		cfg_logwatch_files(l, v);
		return 1;
	}
	for (size_t i = 0; i < MW_N_ELEMENTS(cfg_keys); i++) {
		if (strcmp(cfg_keys[i].section, section) != 0)
			continue;
		known = true;
		if (strcmp(cfg_keys[i].key, key) != 0)
			continue;
		if (l->key_line[i] != 0) {
			cfg_error(l, section, key, "set twice (first on line "
			    "%u); keep one", l->key_line[i]);
			return 1;
		}
		l->key_line[i] = l->line;
		(void)cfg_set_key(l, &cfg_keys[i], v);
		return 1;
	}
	if (!known) {
		cfg_bad_section(l, section, key);
	} else {
		const char *s = cfg_suggest(section, key);

		cfg_error(l, section, cfg_quote(l, key), "unknown key%s%s%s",
		    s != NULL ? "; did you mean \"" : "", s != NULL ? s : "",
		    s != NULL ? "\"?" : "");
	}
	return 1;
}

/* Where inih would fail on a line, in inih's own terms (comment prefixes
   ';' and '#' at the start, inline ';' after whitespace, "key = value" or
   "key: value", "[section]"), so that every bad line is reported rather
   than only the first. NULL when the line is fine. */
static const char *
cfg_line_syntax(const char *s)
{
	const char	*want;
	bool		 was_space = false;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' ||
	    *s == '\f' || *s == '\v')
		s++;
	if (*s == '\0' || *s == ';' || *s == '#')
		return NULL;
	want = *s == '[' ? "]" : "=:";
	for (const char *p = *s == '[' ? s + 1 : s; *p != '\0'; p++) {
		if (strchr(want, *p) != NULL)
			return NULL;
		if (was_space && *p == ';')
			break;
		was_space = isspace((unsigned char)*p) != 0;
	}
	return *s == '[' ? "section line without a closing \"]\"" :
	    "syntax error (expected [section] or key = value)";
}

/* inih calls this for each line: it counts lines, and reports long
   lines, NUL bytes and syntax errors itself (handing inih an empty line
   instead), so that all of them are reported with their line numbers. */
static char *
cfg_reader(char *str, int num, void *stream)
{
	struct cfg_loader	*l = stream;
	size_t			 n = 0, max = CFG_MAX_LINE;
	bool			 nul = false, too_long = false;
	const char		*why, *p = str;
	int			 c = EOF;

	MW_ASSERT(num > 2);
	if ((size_t)num - 2 < max)
		max = (size_t)num - 2;
	while ((c = getc(l->fp)) != EOF && c != '\n') {
		if (c == '\0')
			nul = true;
		if (n < max)
			str[n++] = (char)c;
		else
			too_long = true;
	}
	if (c == EOF && n == 0 && !nul)
		return NULL;
	str[n] = '\0';
	l->line++;
	if (l->line == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;	/* UTF-8 BOM: inih skips it too */
	if (too_long)
		cfg_error(l, "", "", "line longer than %zu bytes", max);
	else if (nul)
		cfg_error(l, "", "", "NUL byte in line");
	else if ((why = cfg_line_syntax(p)) != NULL)
		cfg_error(l, "", "", "%s", why);
	else {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[')
			l->section_line = l->line;
		str[n] = '\n';
		str[n + 1] = '\0';
		return str;
	}
	str[0] = '\0';
	return str;
}

static void
cfg_set_defaults(struct cfg_loader *l)
{
	struct cfg *c = l->cfg;

	c->dnsbl.enabled = true;
	c->dashboard.enabled = true;
	c->dashboard.metrics = true;
	for (size_t i = 0; i < MW_N_ELEMENTS(cfg_keys); i++)
		if (cfg_set_key(l, &cfg_keys[i], cfg_keys[i].def) < 0)
			mw_panic("cfg: default of %s.%s is invalid",
			    cfg_keys[i].section, cfg_keys[i].key);
}

static unsigned
cfg_key_line(const struct cfg_loader *l, const char *section, const char *key)
{
	for (size_t i = 0; i < MW_N_ELEMENTS(cfg_keys); i++)
		if (strcmp(cfg_keys[i].section, section) == 0 &&
		    strcmp(cfg_keys[i].key, key) == 0)
			return l->key_line[i];
	return 0;
}

static const char *
cfg_in_state_dir(struct cfg_loader *l, const char *p)
{
	if (p[0] == '/' || p[0] == '\0')
		return p;
	return mw_arena_printf(l->a, "%s/%s", l->cfg->daemon.state_dir, p);
}

/* [geoip] database: opened once here, so that a missing or wrong file
   is a config error (exit 78 at start; the old config kept on SIGHUP). */
static void
cfg_check_geoip(struct cfg_loader *l)
{
	struct cfg	*c = l->cfg;
	struct mw_geoip	*g;
	char		*why = NULL;
	unsigned	 line = l->line;

	c->geoip.database = cfg_in_state_dir(l, c->geoip.database);
	if (c->geoip.database[0] == '\0')
		return;
	if (mw_geoip_open(c->geoip.database, &g, &why) < 0) {
		l->line = cfg_key_line(l, "geoip", "database");
		cfg_error(l, "geoip", "database", "\"%s\" %s (expected a MaxMind DB "
		    "file such as GeoLite2-Country.mmdb, or empty for no "
		    "countries)", cfg_quote(l, c->geoip.database), why);
		free(why);
		l->line = line;
		return;
	}
	mw_geoip_close(&g);
}

/* Cross-key checks of [login], each reported at the line of its key. */
static void
cfg_check_login(struct cfg_loader *l)
{
	struct cfg	*c = l->cfg;
	unsigned	 line = l->line;

	if (c->login.network_bits_v4 < 8) {
		l->line = cfg_key_line(l, "login", "network_bits_v4");
		cfg_error(l, "login", "network_bits_v4", "%u is too short "
		    "(expected a prefix length from 8 to 32)",
		    c->login.network_bits_v4);
	}
	if (c->login.network_bits_v6 < 16) {
		l->line = cfg_key_line(l, "login", "network_bits_v6");
		cfg_error(l, "login", "network_bits_v6", "%u is too short "
		    "(expected a prefix length from 16 to 128)",
		    c->login.network_bits_v6);
	}
	if (c->login.ban_max < c->login.ban_time) {
		l->line = cfg_key_line(l, "login", "ban_max");
		if (l->line == 0)
			l->line = cfg_key_line(l, "login", "ban_time");
		cfg_error(l, "login", "ban_max", "is shorter than ban_time");
	}
	if (c->login.tarpit_after > c->login.ban_after) {
		l->line = cfg_key_line(l, "login", "tarpit_after");
		if (l->line == 0)
			l->line = cfg_key_line(l, "login", "ban_after");
		cfg_error(l, "login", "tarpit_after", "is larger than ban_after "
		    "(a client is tarpitted before it is banned)");
	}
	if (c->login.weak_password) {
		l->line = cfg_key_line(l, "login", "weak_password");
		/* With Dovecot's default of 12 bits, 1 wrong password in
		   4096 would "match" a common one: the flag would be noise. */
		if (c->authpolicy.hash_truncate != 0 &&
		    c->authpolicy.hash_truncate < 32)
			cfg_error(l, "login", "weak_password", "needs "
			    "[authpolicy] hash_truncate of at least 32 (now %u): "
			    "set auth_policy_hash_truncate = 32 (or more) in "
			    "Dovecot and hash_truncate to the same value, or set "
			    "weak_password = no", c->authpolicy.hash_truncate);
		if (c->authpolicy.hash_nonce[0] == '\0')
			cfg_error(l, "login", "weak_password", "needs "
			    "[authpolicy] hash_nonce: copy Dovecot's "
			    "auth_policy_hash_nonce");
	}
	l->line = line;
}

/* "host:port" -> is host a loopback address (127.0.0.0/8, ::1)? */
static bool
cfg_endpoint_is_loopback(const char *v)
{
	struct mw_addr	 a;
	const char	*end;

	if (v[0] == '[') {
		if ((end = strchr(v, ']')) == NULL ||
		    mw_addr_parse_len(v + 1, (size_t)(end - v - 1), &a) < 0)
			return false;
	} else if ((end = strrchr(v, ':')) == NULL ||
	    mw_addr_parse_len(v, (size_t)(end - v), &a) < 0)
		return false;
	if (mw_addr_is_v4(&a))
		return a.b[12] == 127;
	for (size_t i = 0; i < 15; i++)
		if (a.b[i] != 0)
			return false;
	return a.b[15] == 1;
}

/* [dashboard]: TLS files come in pairs, and a listener reachable from
   other hosts must use TLS (passwords and session cookies cross it). */
static void
cfg_finish_dashboard(struct cfg_loader *l)
{
	struct cfg	*c = l->cfg;
	bool		 cert = c->dashboard.tls_certificate[0] != '\0';
	bool		 key = c->dashboard.tls_key[0] != '\0';

	c->dashboard.tls_certificate = cfg_in_state_dir(l,
	    c->dashboard.tls_certificate);
	c->dashboard.tls_key = cfg_in_state_dir(l, c->dashboard.tls_key);
	c->dashboard.tls = cert && key;
	if (cert != key) {
		l->line = cfg_key_line(l, "dashboard", cert ? "tls_certificate" :
		    "tls_key");
		cfg_error(l, "dashboard", cert ? "tls_key" : "tls_certificate",
		    "missing: TLS needs both tls_certificate and tls_key");
	}
	if (c->dashboard.trusted_proxy[0] != '\0' &&
	    mw_addr_parse(c->dashboard.trusted_proxy,
	    &c->dashboard.trusted_proxy_addr) < 0) {
		l->line = cfg_key_line(l, "dashboard", "trusted_proxy");
		cfg_error(l, "dashboard", "trusted_proxy", "\"%s\" is not an IP "
		    "address (expected the reverse proxy's address such as "
		    "127.0.0.1)", cfg_quote(l, c->dashboard.trusted_proxy));
	}
	if (c->dashboard.enabled && c->dashboard.listen[0] == '\0') {
		l->line = cfg_key_line(l, "dashboard", "listen");
		cfg_error(l, "dashboard", "listen", "is empty: set an address "
		    "such as 127.0.0.1:10048, or enabled = no");
	} else if (c->dashboard.enabled && !c->dashboard.tls &&
	    !cfg_endpoint_is_loopback(c->dashboard.listen)) {
		l->line = cfg_key_line(l, "dashboard", "listen");
		cfg_error(l, "dashboard", "listen", "%s is not a loopback "
		    "address and TLS is off: set tls_certificate and tls_key "
		    "(see docs/dashboard.md), or listen on 127.0.0.1 behind a "
		    "reverse proxy", cfg_quote(l, c->dashboard.listen));
	}
}

static void
cfg_finish(struct cfg_loader *l)
{
	struct cfg *c = l->cfg;

	c->store.path = cfg_in_state_dir(l, c->store.path);
	c->admin.socket = cfg_in_state_dir(l, c->admin.socket);
	cfg_finish_dashboard(l);
	if (c->dnsbl.cache_min_ttl > c->dnsbl.cache_max_ttl) {
		l->line = cfg_key_line(l, "dnsbl", "cache_min_ttl");
		if (l->line == 0)
			l->line = cfg_key_line(l, "dnsbl", "cache_max_ttl");
		cfg_error(l, "dnsbl", "cache_min_ttl", "is larger than "
		    "cache_max_ttl");
	}
	if (c->authpolicy.enabled && c->authpolicy.listen[0] == '\0' &&
	    c->authpolicy.unix_socket[0] == '\0') {
		l->line = cfg_key_line(l, "authpolicy", "enabled");
		cfg_error(l, "authpolicy", "enabled", "yes, but listen and "
		    "unix_socket are both empty: set listen = 127.0.0.1:10047");
	}
	if (strlen(c->authpolicy.api_key) > 256 ||
	    strchr(c->authpolicy.api_key, ' ') != NULL) {
		l->line = cfg_key_line(l, "authpolicy", "api_key");
		cfg_error(l, "authpolicy", "api_key", "must be one word of at "
		    "most 256 bytes (e.g. from: openssl rand -hex 24)");
	}
	cfg_check_login(l);
	cfg_check_geoip(l);
	if (c->logwatch.poll_interval_ms < 100) {
		l->line = cfg_key_line(l, "logwatch", "poll_interval");
		cfg_error(l, "logwatch", "poll_interval", "is shorter than 100ms");
	}
	if (c->logwatch.enabled && c->logwatch.nfiles == 0 &&
	    !c->logwatch.journal) {
		l->line = cfg_key_line(l, "logwatch", "enabled");
		cfg_error(l, "logwatch", "enabled", "nothing to watch: add files "
		    "= /var/log/mail.log (or journal = yes)");
	}
	for (size_t i = 0; i < c->dnsbl.nzones; i++) {
		struct cfg_zone		*z = &c->dnsbl.zones[i];
		const struct zone_preset *p = NULL;
		const char		*sec = mw_arena_printf(l->a, "dnsbl:%s",
		    z->name);

		for (size_t k = 0; k < MW_N_ELEMENTS(zone_presets); k++)
			if (strcmp(z->preset, zone_presets[k].name) == 0)
				p = &zone_presets[k];
		if (p != NULL) {
			if (z->zone[0] == '\0')
				z->zone = p->zone;
			if (!l->zone_has_weights[i]) {
				memcpy(z->codes, p->codes, sizeof(p->codes));
				z->ncodes = p->ncodes;
			}
			if (!l->zone_has_ipv6[i])
				z->ipv6 = p->ipv6;
			if (!l->zone_has_dw[i])
				z->default_weight = p->default_weight;
		}
		l->line = l->zone_line[i];
		if (l->zone_bad_preset[i])
			continue;
		if (z->zone[0] == '\0' && !l->zone_has_zone[i])
			cfg_error(l, sec, "zone", "missing: set zone = (e.g. "
			    "zen.spamhaus.org) or a preset");
		if (z->ncodes == 0 && !l->zone_has_weights[i])
			cfg_error(l, sec, "weights", "missing: set preset = or "
			    "weights = (e.g. \"127.0.0.2=2\")");
	}
	if (l->nallow > 0) {
		c->lists.allow = mw_arena_alloc(l->a, mw_mul_size(l->nallow,
		    sizeof(*c->lists.allow)));
		memcpy(c->lists.allow, l->allow, l->nallow * sizeof(*l->allow));
	}
	if (l->ndeny > 0) {
		c->lists.deny = mw_arena_alloc(l->a, mw_mul_size(l->ndeny,
		    sizeof(*c->lists.deny)));
		memcpy(c->lists.deny, l->deny, l->ndeny * sizeof(*l->deny));
	}
	c->lists.nallow = l->nallow;
	c->lists.ndeny = l->ndeny;
}

/* All errors, one per line, in line order (checks made after reading,
   such as a zone without a zone name, are found last); malloc'd. */
static char *
cfg_errors_text(struct cfg_loader *l)
{
	size_t		 n = l->nerrors < CFG_MAX_ERRORS ? l->nerrors :
			    CFG_MAX_ERRORS;
	struct mw_buf	 b;
	char		*text;

	for (size_t i = 1; i < n; i++) {	/* stable insertion sort */
		struct cfg_error e = l->errors[i];
		size_t j = i;

		for (; j > 0 && l->errors[j - 1].line > e.line; j--)
			l->errors[j] = l->errors[j - 1];
		l->errors[j] = e;
	}
	mw_buf_init(&b, NULL, 0);
	for (size_t i = 0; i < n; i++)
		MW_ASSERT(mw_buf_printf(&b, "%s%s", i > 0 ? "\n" : "",
		    l->errors[i].text) == 0);
	if (l->nerrors > CFG_MAX_ERRORS)
		MW_ASSERT(mw_buf_printf(&b, "\n(%zu more errors)",
		    l->nerrors - CFG_MAX_ERRORS) == 0);
	text = mw_strdup(mw_buf_cstr(&b));
	mw_buf_deinit(&b);
	return text;
}

static struct cfg_owned *
cfg_owned_new(void)
{
	struct mw_arena	 *a = mw_arena_new(16384);
	struct cfg_owned *o = mw_arena_calloc(a, 1, sizeof(*o));

	o->arena = a;
	return o;
}

static int
cfg_load_fp(FILE *fp, const char *name, struct cfg **cfg_r, char **error_r)
{
	struct cfg_owned	*o = cfg_owned_new();
	struct cfg_loader	 l = { .cfg = &o->cfg, .a = o->arena,
	    .file = name, .fp = fp };
	int			 rc;

	o->cfg.path = mw_arena_strdup(o->arena, name);
	cfg_set_defaults(&l);
	/* Debian's inih takes its options at run time: a heap line buffer
	   of our size (the stack default is 200 bytes), and no continuation
	   lines, so an indented "key = value" is a key, not a surprise. */
	ini_use_stack = false;
	ini_allow_realloc = false;
	ini_max_line = CFG_MAX_LINE + 3;	/* + CR, LF, NUL */
	ini_initial_alloc = CFG_MAX_LINE + 3;
	ini_allow_multiline = false;
	ini_allow_no_value = false;
	ini_stop_on_first_error = false;
	rc = ini_parse_stream(cfg_reader, &l, cfg_handler, &l);
	if (rc > 0) {	/* cfg_reader should have caught it */
		l.line = (unsigned)rc;
		cfg_error(&l, "", "", "syntax error (expected [section] or "
		    "key = value)");
	} else if (rc < 0) {
		cfg_error(&l, "", "", "cannot be parsed (out of memory)");
	}
	cfg_finish(&l);
	free(l.allow);
	free(l.deny);
	if (l.nerrors > 0) {
		struct mw_arena *a = o->arena;	/* o lives in a */

		*error_r = cfg_errors_text(&l);
		mw_arena_free(&a);
		return -1;
	}
	*cfg_r = &o->cfg;
	return 0;
}

int
cfg_load(const char *path, struct cfg **cfg_r, char **error_r)
{
	FILE	*fp = fopen(path, "r");
	int	 rc;

	if (fp == NULL) {
		if (asprintf(error_r, "%s: cannot open: %s", path,
		    strerror(errno)) < 0)
			*error_r = NULL;
		return -1;
	}
	rc = cfg_load_fp(fp, path, cfg_r, error_r);
	(void)fclose(fp);
	return rc;
}

int
cfg_load_string(const char *text, size_t len, const char *name,
    struct cfg **cfg_r, char **error_r)
{
	FILE	*fp;
	int	 rc;

	if (len == 0)	/* fmemopen refuses size 0 */
		fp = fmemopen((void *)(uintptr_t)"\n", 1, "r");
	else
		fp = fmemopen((void *)(uintptr_t)text, len, "r");
	if (fp == NULL)
		mw_panic("cfg: fmemopen: %s", strerror(errno));
	rc = cfg_load_fp(fp, name, cfg_r, error_r);
	(void)fclose(fp);
	return rc;
}

struct cfg *
cfg_defaults(void)
{
	struct cfg	*c;
	char		*error = NULL;

	if (cfg_load_string("", 0, "(defaults)", &c, &error) < 0)
		mw_panic("cfg: defaults invalid: %s", error);
	return c;
}

void
cfg_free(struct cfg **cp)
{
	struct cfg_owned *o;
	struct mw_arena	 *a;

	if (*cp == NULL)
		return;
	o = (struct cfg_owned *)(void *)((char *)*cp -
	    offsetof(struct cfg_owned, cfg));
	a = o->arena;	/* o lives in a */
	mw_arena_free(&a);
	*cp = NULL;
}

/* Durations as an admin writes them ("1h30m"), so the dump reads back. */
static const char *
cfg_dur(uint64_t secs, char *buf, size_t size)
{
	return mw_format_duration(secs, buf, size);
}

static void
cfg_dump_login(const struct cfg *c, FILE *out)
{
	char	 d[6][32];

	fprintf(out, "\n[login]\nenabled = %s\nwindow = %s\ntarpit_after = %u\n"
	    "tarpit_delay = %s\nban_after = %u\naccount_address_ban_after = %u\n"
	    "network_ban_after = %u\nnetwork_bits_v4 = %u\n"
	    "network_bits_v6 = %u\nspray_accounts = %u\n"
	    "spray_network_accounts = %u\nspray_password_accounts = %u\n"
	    "distributed_addresses = %u\ndistributed_action = %s\n"
	    "trust_known = %s\nknown_ttl = %s\nalert_after_failures = %u\n"
	    "alert_new_network = %s\nalert_interval = %s\n",
	    c->login.enabled ? "yes" : "no",
	    cfg_dur(c->login.window, d[0], sizeof(d[0])),
	    c->login.tarpit_after,
	    cfg_dur(c->login.tarpit_delay, d[1], sizeof(d[1])),
	    c->login.ban_after, c->login.account_address_ban_after,
	    c->login.network_ban_after, c->login.network_bits_v4,
	    c->login.network_bits_v6, c->login.spray_accounts,
	    c->login.spray_network_accounts, c->login.spray_password_accounts,
	    c->login.distributed_addresses,
	    c->login.distributed_reject ? "reject" : "tarpit",
	    c->login.trust_known ? "yes" : "no",
	    cfg_dur(c->login.known_ttl, d[2], sizeof(d[2])),
	    c->login.alert_after_failures,
	    c->login.alert_new_network ? "yes" : "no",
	    cfg_dur(c->login.alert_interval, d[3], sizeof(d[3])));
	fprintf(out, "ban_time = %s\nban_max = %s\nban_permanent = %s\n"
	    "escalation_period = %s\nweak_password = %s\n"
	    "max_addresses = %u\nmax_networks = %u\nmax_accounts = %u\n"
	    "max_pairs = %u\n",
	    cfg_dur(c->login.ban_time, d[3], sizeof(d[3])),
	    cfg_dur(c->login.ban_max, d[4], sizeof(d[4])),
	    c->login.ban_permanent ? "yes" : "no",
	    cfg_dur(c->login.escalation_period, d[5], sizeof(d[5])),
	    c->login.weak_password ? "yes" : "no", c->login.max_addresses,
	    c->login.max_networks, c->login.max_accounts, c->login.max_pairs);
}

void
cfg_dump(const struct cfg *c, FILE *out)
{
	char	 buf[MW_CIDR_STRLEN], d1[32], d2[32], d3[32];

	fprintf(out, "[daemon]\nstate_dir = %s\nuser = %s\nlog_level = %s\n"
	    "pid_file = %s\n\n", c->daemon.state_dir, c->daemon.user,
	    c->daemon.log_level, c->daemon.pid_file);
	fprintf(out, "[policy]\nlisten = %s\nunix_socket = %s\n"
	    "unix_socket_mode = %04o\nunix_socket_group = %s\n"
	    "max_connections = %u\nidle_timeout = %s\nreject_text = %s\n"
	    "submission_ports =", c->policy.listen, c->policy.unix_socket,
	    c->policy.unix_socket_mode, c->policy.unix_socket_group,
	    c->policy.max_connections,
	    cfg_dur(c->policy.idle_timeout, d1, sizeof(d1)),
	    c->policy.reject_text);
	for (size_t i = 0; i < c->policy.nsubmission_ports; i++)
		fprintf(out, " %u", c->policy.submission_ports[i]);
	fprintf(out, "\n\n[authpolicy]\nenabled = %s\nlisten = %s\n"
	    "unix_socket = %s\nunix_socket_mode = %04o\n"
	    "unix_socket_group = %s\n%sapi_key =%s\n%shash_nonce =%s\n"
	    "hash_truncate = %u\nreject_text = %s\nmax_connections = %u\n"
	    "timeout = %s", c->authpolicy.enabled ? "yes" : "no",
	    c->authpolicy.listen, c->authpolicy.unix_socket,
	    c->authpolicy.unix_socket_mode, c->authpolicy.unix_socket_group,
	    /* secrets: never printed */
	    c->authpolicy.api_key[0] != '\0' ? "# " : "",
	    c->authpolicy.api_key[0] != '\0' ? " (set, not shown)" : "",
	    c->authpolicy.hash_nonce[0] != '\0' ? "# " : "",
	    c->authpolicy.hash_nonce[0] != '\0' ? " (set, not shown)" : "",
	    c->authpolicy.hash_truncate, c->authpolicy.reject_text,
	    c->authpolicy.max_connections,
	    cfg_dur(c->authpolicy.timeout, d1, sizeof(d1)));
	fprintf(out, "\n\n[admin]\nsocket = %s\nsocket_mode = %04o\n"
	    "group = %s\n\n", c->admin.socket, c->admin.socket_mode,
	    c->admin.group);
	fprintf(out, "[store]\nbackend = %s\npath = %s\nevent_retention = %s\n"
	    "event_max_rows = %llu\n\n", c->store.backend, c->store.path,
	    cfg_dur(c->store.event_retention, d1, sizeof(d1)),
	    (unsigned long long)c->store.event_max_rows);
	fprintf(out, "[dnsbl]\nenabled = %s\nresolver = %s\ntimeout = %llums\n"
	    "threshold = %d\naction = %s\ncache_min_ttl = %s\n"
	    "cache_max_ttl = %s\nnegative_ttl = %s\ncache_max_entries = %u\n",
	    c->dnsbl.enabled ? "yes" : "no", c->dnsbl.resolver,
	    (unsigned long long)c->dnsbl.timeout_ms, c->dnsbl.threshold,
	    c->dnsbl.action == CFG_DNSBL_REJECT ? "reject" :
	    c->dnsbl.action == CFG_DNSBL_DEFER ? "defer" : "warn",
	    cfg_dur(c->dnsbl.cache_min_ttl, d1, sizeof(d1)),
	    cfg_dur(c->dnsbl.cache_max_ttl, d2, sizeof(d2)),
	    cfg_dur(c->dnsbl.negative_ttl, d3, sizeof(d3)),
	    c->dnsbl.cache_max_entries);
	for (size_t i = 0; i < c->dnsbl.nzones; i++) {
		const struct cfg_zone *z = &c->dnsbl.zones[i];

		fprintf(out, "\n[dnsbl:%s]\n", z->name);
		if (z->preset[0] != '\0')
			fprintf(out, "preset = %s\n", z->preset);
		fprintf(out, "zone = %s\nenabled = %s\nipv6 = %s\n"
		    "default_weight = %d\nweights =", z->zone,
		    z->enabled ? "yes" : "no", z->ipv6 ? "yes" : "no",
		    z->default_weight);
		for (size_t k = 0; k < z->ncodes; k++) {
			const struct cfg_zone_code *cc = &z->codes[k];

			fprintf(out, " 127.%u.%u.%u", (cc->first >> 16) & 0xff,
			    (cc->first >> 8) & 0xff, cc->first & 0xff);
			if (cc->last != cc->first)
				fprintf(out, "-127.%u.%u.%u", (cc->last >> 16) & 0xff,
				    (cc->last >> 8) & 0xff, cc->last & 0xff);
			fprintf(out, "=%d:%s", cc->weight, class_names[cc->klass]);
		}
		fprintf(out, "\n");
	}
	fprintf(out, "\n[dashboard]\nenabled = %s\nlisten = %s\n"
	    "tls_certificate = %s\ntls_key = %s\nsession_idle_timeout = %s\n"
	    "session_lifetime = %s\nweb_root = %s\ntrusted_proxy = %s\n"
	    "max_streams = %u\nmetrics = %s\n",
	    c->dashboard.enabled ? "yes" : "no", c->dashboard.listen,
	    c->dashboard.tls_certificate, c->dashboard.tls_key,
	    cfg_dur(c->dashboard.session_idle_timeout, d1, sizeof(d1)),
	    cfg_dur(c->dashboard.session_lifetime, d2, sizeof(d2)),
	    c->dashboard.web_root, c->dashboard.trusted_proxy,
	    c->dashboard.max_streams,
	    c->dashboard.metrics ? "yes" : "no");
	fprintf(out, "\n[lists]\ndefault_ban = %s\n", c->lists.default_ban == 0 ?
	    "permanent" : cfg_dur(c->lists.default_ban, d1, sizeof(d1)));
	for (size_t i = 0; i < c->lists.nallow; i++)
		fprintf(out, "allow = %s\n", mw_cidr_format(&c->lists.allow[i].net,
		    buf, sizeof(buf)));
	for (size_t i = 0; i < c->lists.ndeny; i++)
		fprintf(out, "deny = %s\n", mw_cidr_format(&c->lists.deny[i].net,
		    buf, sizeof(buf)));
	cfg_dump_login(c, out);
	fprintf(out, "\n[firewall]\nenabled = %s\ntable = %s\npriority = %d\n"
	    "ports =%s", c->firewall.enabled ? "yes" : "no", c->firewall.table,
	    c->firewall.priority, c->firewall.nports == 0 ? " all" : "");
	for (size_t i = 0; i < c->firewall.nports; i++)
		fprintf(out, " %u", c->firewall.ports[i]);
	fprintf(out, "\n");
	fprintf(out, "\n[logwatch]\nenabled = %s\n", c->logwatch.enabled ?
	    "yes" : "no");
	for (size_t i = 0; i < c->logwatch.nfiles; i++)
		fprintf(out, "files = %s\n", c->logwatch.files[i]);
	fprintf(out, "journal = %s\njournal_directory = %s\npatterns = %s\n"
	    "poll_interval = %llums\n", c->logwatch.journal ? "yes" : "no",
	    c->logwatch.journal_directory, c->logwatch.patterns,
	    (unsigned long long)c->logwatch.poll_interval_ms);
	fprintf(out, "\n[geoip]\ndatabase = %s\n", c->geoip.database);
}
