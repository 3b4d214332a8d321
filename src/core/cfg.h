/*
 * cfg - mailward.conf: INI ([section], key = value) read with inih,
 * validated against a table of keys (type, default, range), into an
 * immutable struct cfg.
 *
 * Errors name the place and suggest the fix:
 *   mailward.conf:14: dnsbl: timeout: "2x" is not valid (expected a
 *   duration such as 2s or 500ms, at most 60s)
 * Every bad line is reported (not only the first), in line order.
 * The daemon exits 78 (EX_CONFIG) on a bad config at start and keeps the
 * old one on SIGHUP; `mailward config check FILE` runs the same code.
 * A cfg is one allocation tree owned by its arena: cfg_free frees it all.
 * Relative paths (store path, admin socket) are resolved against
 * daemon.state_dir at load time.
 */
#ifndef MW_CORE_CFG_H
#define MW_CORE_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/addr.h"
#include "core/arena.h"
#include "core/mem.h"

#define CFG_MAX_ZONES		16	/* DNSBL zones; more only slows every check */
#define CFG_MAX_ZONE_CODES	32	/* return-code rules per zone */
#define CFG_MAX_LIST_ENTRIES	10000	/* static allow/deny entries in the file */
#define CFG_MAX_PORTS		8	/* submission ports */
#define CFG_MAX_FW_PORTS	32	/* [firewall] ports */
#define CFG_MAX_FW_TABLE	32	/* [firewall] table name bytes */
#define CFG_MAX_LOGFILES	32	/* [logwatch] files */

/* What a DNSBL return code means. */
enum dnsbl_class {
	DNSBL_CLASS_LISTED,	/* generic "listed" */
	DNSBL_CLASS_SBL, DNSBL_CLASS_CSS, DNSBL_CLASS_XBL, DNSBL_CLASS_DROP,
	DNSBL_CLASS_PBL,	/* end-user range: never counts on submission */
	DNSBL_CLASS_ALLOW,	/* a DNSWL listing: negative weight */
};

/* One return-code rule: answers first..last (host order, 127.x.y.z)
   get weight and class. */
struct cfg_zone_code {
	uint32_t		 first, last;
	int32_t			 weight;
	enum dnsbl_class	 klass;
};

struct cfg_zone {
	const char		*name;	/* section suffix: [dnsbl:NAME] */
	const char		*zone;	/* e.g. "zen.spamhaus.org" */
	const char		*preset;/* "spamhaus-zen", "spamcop", "barracuda", "" */
	bool			 enabled;
	bool			 ipv6;	/* query IPv6 clients (nibble format) */
	struct cfg_zone_code	 codes[CFG_MAX_ZONE_CODES];
	size_t			 ncodes;
	int32_t			 default_weight;	/* other 127.0.0.0/8 answers */
};

enum cfg_dnsbl_action { CFG_DNSBL_REJECT, CFG_DNSBL_DEFER, CFG_DNSBL_WARN };

struct cfg_list_entry {
	struct mw_cidr	 net;
	const char	*comment;	/* "mailward.conf:12" */
};

struct cfg {
	const char	*path;		/* the file read */

	struct {
		const char	*state_dir;	/* default /var/lib/mailward */
		const char	*user;		/* drop to this user when root; "" = stay */
		const char	*log_level;	/* error|warn|info|debug */
		const char	*pid_file;	/* "" = none */
	} daemon;

	struct {
		const char	*listen;	/* "host:port", "" = off; default 127.0.0.1:10045 */
		const char	*unix_socket;	/* path, "" = off */
		uint32_t	 unix_socket_mode;	/* default 0660 */
		const char	*unix_socket_group;	/* "" = daemon's group */
		uint32_t	 max_connections;	/* default 1000 */
		uint64_t	 idle_timeout;		/* seconds, default 3600 */
		/* Reject text template; "%s" is replaced by the reason. */
		const char	*reject_text;
		uint16_t	 submission_ports[CFG_MAX_PORTS];	/* default 587 465 */
		size_t		 nsubmission_ports;
	} policy;

	/* Dovecot's auth policy service (auth_policy_server_url). */
	struct {
		bool		 enabled;	/* default no */
		const char	*listen;	/* "host:port", "" = off; default 127.0.0.1:10047 */
		const char	*unix_socket;	/* path, "" = off */
		uint32_t	 unix_socket_mode;	/* default 0660 */
		const char	*unix_socket_group;	/* "" = daemon's group */
		const char	*api_key;	/* X-API-Key Dovecot must send; "" = none. Secret */
		const char	*hash_nonce;	/* auth_policy_hash_nonce; "" = unknown. Secret */
		uint32_t	 hash_truncate;	/* bits, = auth_policy_hash_truncate; default 12 */
		const char	*reject_text;	/* msg of a refusal; "%s" = the reason */
		uint32_t	 max_connections;	/* default 1000 */
		uint64_t	 timeout;	/* seconds a connection may idle; default 60 */
	} authpolicy;

	struct {
		const char	*socket;	/* default "admin.sock" in state_dir */
		uint32_t	 socket_mode;	/* default 0660 */
		const char	*group;		/* "" = daemon's group */
	} admin;

	struct {
		const char	*backend;	/* "sqlite" */
		const char	*path;		/* default "mailward.db" in state_dir */
		uint64_t	 event_retention;	/* seconds, default 30d */
		uint64_t	 event_max_rows;	/* default 1,000,000 */
	} store;

	struct {
		bool		 enabled;	/* default yes */
		const char	*resolver;	/* "ip[:port]", "" = first nameserver of resolv.conf */
		uint64_t	 timeout_ms;	/* per lookup, default 2000 */
		int32_t		 threshold;	/* default 2 */
		enum cfg_dnsbl_action action;	/* default reject */
		uint64_t	 cache_min_ttl;	/* s, default 60 */
		uint64_t	 cache_max_ttl;	/* s, default 3600 */
		uint64_t	 negative_ttl;	/* s, default 300 */
		uint32_t	 cache_max_entries;	/* default 200000 */
		struct cfg_zone	 zones[CFG_MAX_ZONES];
		size_t		 nzones;
	} dnsbl;

	struct {
		bool		 enabled;	/* default yes */
		const char	*listen;	/* "host:port"; default 127.0.0.1:10048 */
		const char	*tls_certificate;	/* PEM path; "" = plain HTTP */
		const char	*tls_key;	/* PEM path; "" = plain HTTP */
		bool		 tls;		/* both set */
		uint64_t	 session_idle_timeout;	/* seconds, default 30m */
		uint64_t	 session_lifetime;	/* seconds, default 12h */
		const char	*web_root;	/* static files; default MW_WEB_ROOT */
		const char	*trusted_proxy;	/* address whose X-Forwarded-For is believed; "" = none */
		struct mw_addr	 trusted_proxy_addr;	/* valid when trusted_proxy[0] */
		uint32_t	 max_streams;	/* live event streams, default 16 */
		bool		 metrics;	/* serve /metrics; default yes */
	} dashboard;

	struct {
		uint64_t	 default_ban;	/* seconds for `ban add` without --for; 0 = permanent; default 1d */
		struct cfg_list_entry	*allow, *deny;	/* static entries from the file */
		size_t		 nallow, ndeny;
	} lists;

	/* The login guard (engine/bruteforce.h); every window slides. */
	struct {
		bool		 enabled;		/* default yes */
		uint64_t	 window;		/* s, default 10m */
		uint32_t	 tarpit_after;		/* address failures, default 3 */
		uint64_t	 tarpit_delay;		/* s, default 2s */
		uint32_t	 ban_after;		/* address failures, default 10 */
		uint32_t	 account_address_ban_after;	/* default 6 */
		uint32_t	 network_ban_after;	/* default 30 */
		uint32_t	 network_bits_v4;	/* default 24 */
		uint32_t	 network_bits_v6;	/* default 64 */
		uint32_t	 spray_accounts;	/* default 8 */
		uint32_t	 spray_network_accounts;	/* default 15 */
		uint32_t	 spray_password_accounts;	/* default 5 */
		uint32_t	 distributed_addresses;	/* default 5 */
		bool		 distributed_reject;	/* distributed_action = reject */
		bool		 trust_known;		/* default yes */
		uint64_t	 known_ttl;		/* s, default 30d */
		uint32_t	 alert_after_failures;	/* default 3 */
		bool		 alert_new_network;	/* default yes */
		uint64_t	 alert_interval;	/* s, one alert per account, network
							   and kind; default 1h */
		uint64_t	 ban_time;		/* s, first ban, default 1h */
		uint64_t	 ban_max;		/* s, longest, default 7d */
		bool		 ban_permanent;		/* after ban_max: permanent; default no */
		uint64_t	 escalation_period;	/* s, default 30d */
		bool		 weak_password;		/* default no; needs authpolicy.hash_* */
		uint32_t	 max_addresses;		/* default 2000000 */
		uint32_t	 max_networks;		/* default 1000000 */
		uint32_t	 max_accounts;		/* default 200000 */
		uint32_t	 max_pairs;		/* default 2000000 */
	} login;

	struct {
		bool		 enabled;	/* default no */
		const char	*table;		/* "inet" table name, default mailward */
		uint16_t	 ports[CFG_MAX_FW_PORTS];	/* TCP ports dropped */
		size_t		 nports;	/* 0 = every TCP port ("all") */
		int32_t		 priority;	/* input hook priority, default -10 */
	} firewall;
	/* Log watching (sources/logwatch.h): failures in mail logs become
	   login-guard observations. */
	struct {
		bool		 enabled;		/* default no */
		const char	*files[CFG_MAX_LOGFILES];	/* absolute paths */
		size_t		 nfiles;
		bool		 journal;		/* default no */
		const char	*journal_directory;	/* "" = the system journal */
		const char	*patterns;		/* set names, default "all"; checked by logwatch */
		uint64_t	 poll_interval_ms;	/* default 1s, 100ms..60s */
	} logwatch;
	/* Countries of addresses (core/geoip.h), for the admin API. */
	struct {
		const char	*database;	/* an .mmdb file; "" = off (default) */
	} geoip;
};

/* Reads and validates path. On success *cfg_r is a new cfg; on failure
   *error_r (malloc'd, caller frees) holds every error found, one per
   line, each "file:line: section: key: message". */
int	 cfg_load(const char *path, struct cfg **cfg_r, char **error_r)
	    MW_MUST_CHECK;
/* As cfg_load, reading text (len bytes, not NUL-terminated) named name
   in messages (tests, fuzzing). */
int	 cfg_load_string(const char *text, size_t len, const char *name,
	    struct cfg **cfg_r, char **error_r) MW_MUST_CHECK;
/* The built-in defaults, as if from an empty file. */
struct cfg *cfg_defaults(void);
void	 cfg_free(struct cfg **cfg);

/* Writes the effective configuration as INI (for `config check -v`). */
void	 cfg_dump(const struct cfg *cfg, FILE *out);

#endif
