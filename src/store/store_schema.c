/*
 * store_schema - the SQLite schema as numbered migrations.
 *
 * PRAGMA user_version holds the number of the last migration applied;
 * PRAGMA application_id marks the file as mailward's. A database newer
 * than this build is refused (an old daemon must not write into a schema
 * it does not know), as is a file holding another program's tables.
 * Migrations are append-only: never edit one that has shipped, add the
 * next number.
 *
 * Networks are stored as a 17-byte key: the 16-byte address (IPv4 as
 * ::ffff:a.b.c.d, host bits zero) followed by the prefix length in the
 * 128-bit space, so a lookup by network is one exact key comparison.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define STORE_APPLICATION_ID	0x4d574452	/* "MWDR" */

struct store_migration {
	unsigned	 version;
	const char	*name;
	const char	*sql;
};

static const struct store_migration store_migrations[] = {
	{ 1, "initial tables",
	"PRAGMA application_id = 1297564754;\n"	/* STORE_APPLICATION_ID */
	"CREATE TABLE bans (\n"
	"	net		BLOB NOT NULL PRIMARY KEY,	-- 16 + 1 bytes\n"
	"	source		TEXT NOT NULL,	-- manual|dnsbl|login|logwatch\n"
	"	reason		TEXT NOT NULL,\n"
	"	first_seen	INTEGER NOT NULL,	-- unix s\n"
	"	last_seen	INTEGER NOT NULL,\n"
	"	expires		INTEGER NOT NULL,	-- 0 = permanent\n"
	"	hits		INTEGER NOT NULL,\n"
	"	count		INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX bans_expires ON bans(expires) WHERE expires > 0;\n"
	"CREATE TABLE lists (\n"
	"	list		TEXT NOT NULL,	-- allow|deny\n"
	"	net		BLOB NOT NULL,\n"
	"	comment		TEXT NOT NULL,\n"
	"	created		INTEGER NOT NULL,\n"
	"	PRIMARY KEY (list, net)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE events (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	time_ms		INTEGER NOT NULL,	-- unix ms\n"
	"	addr		BLOB NOT NULL,	-- 16 bytes\n"
	"	listener	TEXT NOT NULL,\n"
	"	verdict		TEXT NOT NULL,\n"
	"	reason		TEXT NOT NULL,\n"
	"	account		TEXT NOT NULL,\n"
	"	sender		TEXT NOT NULL,\n"
	"	recipient	TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX events_time ON events(time_ms);\n"
	"CREATE INDEX events_addr ON events(addr, time_ms);\n" },
	{ 2, "login guard",
	/* Possible takeovers, kept until acknowledged. evidence is a JSON
	   object of numbers and networks: never a password or a hash. */
	"CREATE TABLE login_alerts (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	time		INTEGER NOT NULL,	-- unix s\n"
	"	account		TEXT NOT NULL,\n"
	"	addr		BLOB NOT NULL,	-- 16 bytes\n"
	"	kind		TEXT NOT NULL,	-- after_failures|new_network|distributed_attack\n"
	"	reason		TEXT NOT NULL,\n"
	"	evidence	TEXT NOT NULL,	-- JSON object\n"
	"	ack_by		TEXT NOT NULL DEFAULT '',\n"
	"	ack_at		INTEGER NOT NULL DEFAULT 0	-- 0 = open\n"
	");\n"
	"CREATE INDEX login_alerts_open ON login_alerts(ack_at, id);\n"
	"CREATE INDEX login_alerts_account ON login_alerts(account, id);\n"
	/* Networks each account logged in from (known-good). */
	"CREATE TABLE login_networks (\n"
	"	account		TEXT NOT NULL,\n"
	"	net		BLOB NOT NULL,	-- 16 + 1 bytes\n"
	"	first_success	INTEGER NOT NULL,\n"
	"	last_success	INTEGER NOT NULL,\n"
	"	successes	INTEGER NOT NULL,\n"
	"	PRIMARY KEY (account, net)\n"
	") WITHOUT ROWID;\n"
	/* Escalation outlives the ban it escalated. */
	"CREATE TABLE login_escalation (\n"
	"	net		BLOB NOT NULL PRIMARY KEY,\n"
	"	level		INTEGER NOT NULL,\n"
	"	bans		INTEGER NOT NULL,\n"
	"	last_ban	INTEGER NOT NULL	-- unix s\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE login_weak (\n"
	"	account		TEXT NOT NULL PRIMARY KEY,\n"
	"	since		INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE INDEX events_account ON events(account, time_ms);\n" },
	{ 3, "log positions",
	/* Where logwatch stopped reading each followed log: a file by path
	   (inode, offset), the systemd journal by its cursor (name
	   "journal"). Written before the lines are handed on, so a restart
	   never counts a line twice. */
	"CREATE TABLE log_positions (\n"
	"	name		TEXT NOT NULL PRIMARY KEY,	-- path, or journal\n"
	"	inode		INTEGER NOT NULL,\n"
	"	offset		INTEGER NOT NULL,	-- bytes of whole lines read\n"
	"	cursor		TEXT NOT NULL,	-- journal cursor, '' for files\n"
	"	updated		INTEGER NOT NULL	-- unix s\n"
	") WITHOUT ROWID;\n" },
	{ 4, "dashboard admins, audit log, per-minute event counts",
	"CREATE TABLE admins (\n"
	"	name		TEXT NOT NULL PRIMARY KEY,\n"
	"	pwhash		TEXT NOT NULL,	-- crypto_pwhash_str (argon2id)\n"
	"	language	TEXT NOT NULL,	-- '' = from the browser\n"
	"	created		INTEGER NOT NULL,	-- unix s\n"
	"	updated		INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE audit (\n"
	"	id		INTEGER PRIMARY KEY,\n"
	"	time_ms		INTEGER NOT NULL,	-- unix ms\n"
	"	actor		TEXT NOT NULL,	-- admin name or 'uid N'\n"
	"	origin		TEXT NOT NULL,	-- address:port or 'unix uid N'\n"
	"	action		TEXT NOT NULL,\n"
	"	target		TEXT NOT NULL,\n"
	"	detail		TEXT NOT NULL\n"
	");\n"
	"CREATE INDEX audit_time ON audit(time_ms);\n"
	"CREATE TABLE counts (\n"
	"	minute		INTEGER NOT NULL,	-- unix ms of the minute\n"
	"	listener	TEXT NOT NULL,\n"
	"	verdict		TEXT NOT NULL,\n"
	"	n		INTEGER NOT NULL,\n"
	"	PRIMARY KEY (minute, listener, verdict)\n"
	") WITHOUT ROWID;\n"
	"INSERT INTO counts SELECT time_ms / 60000 * 60000, listener, verdict,\n"
	"	count(*) FROM events WHERE verdict <> 'DUNNO' GROUP BY 1, 2, 3;\n" },
	{ 5, "event counts",
	/* Repeats of one second merged into one event: how many it is. */
	"ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 1;\n" },
};

static int
store_schema_fail(char **error_r, const char *fmt, ...) MW_PRINTF(2, 3);

static int
store_schema_fail(char **error_r, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	if (vasprintf(error_r, fmt, ap) < 0)
		mw_panic("vasprintf: out of memory");
	va_end(ap);
	return -1;
}

unsigned
store_schema_version(void)
{
	return store_migrations[MW_N_ELEMENTS(store_migrations) - 1].version;
}

/* The single integer a query returns, or -1 with *error_r set. */
static int
store_schema_int(sqlite3 *db, const char *path, const char *sql,
    const char *action, int64_t *value_r, char **error_r)
{
	sqlite3_stmt	*stmt = NULL;
	int		 rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL)) == SQLITE_OK) {
		if ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
			*value_r = sqlite3_column_int64(stmt, 0);
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK) {
		store_schema_fail(error_r, "store: %s: %s: %s", path, action,
		    sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

static int
store_schema_exec(sqlite3 *db, const char *path, const char *sql,
    const char *action, char **error_r)
{
	char	*msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		store_schema_fail(error_r, "store: %s: %s: %s", path, action,
		    msg != NULL ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Refuses files that are not ours or are newer than this build. */
static int
store_schema_check(sqlite3 *db, const char *path, int64_t version,
    char **error_r)
{
	int64_t	 app_id = 0, ntables = 0;

	if (store_schema_int(db, path, "PRAGMA application_id",
	    "reading schema", &app_id, error_r) < 0 ||
	    store_schema_int(db, path, "SELECT count(*) FROM sqlite_master",
	    "reading schema", &ntables, error_r) < 0)
		return -1;
	if ((app_id != 0 && app_id != STORE_APPLICATION_ID) ||
	    (version == 0 && ntables > 0))
		return store_schema_fail(error_r, "store: %s: the file is an "
		    "SQLite database of another program; configure another "
		    "[store] path", path);
	if (version < 0 || version > (int64_t)store_schema_version())
		return store_schema_fail(error_r, "store: %s: schema version "
		    "%lld is newer than this build knows (%u); run a newer "
		    "mailwardd or restore a backup", path, (long long)version,
		    store_schema_version());
	return 0;
}

int
store_schema_migrate(sqlite3 *db, const char *path, char **error_r)
{
	int64_t	 version;

	if (store_schema_int(db, path, "PRAGMA user_version", "reading schema",
	    &version, error_r) < 0 ||
	    store_schema_check(db, path, version, error_r) < 0)
		return -1;
	for (size_t i = 0; i < MW_N_ELEMENTS(store_migrations); i++) {
		const struct store_migration *m = &store_migrations[i];
		char	 action[128], set_version[64];

		if (m->version <= version)
			continue;
		(void)snprintf(action, sizeof(action), "migration %u (%s)",
		    m->version, m->name);
		(void)snprintf(set_version, sizeof(set_version),
		    "PRAGMA user_version = %u", m->version);
		if (store_schema_exec(db, path, "BEGIN IMMEDIATE", action,
		    error_r) < 0)
			return -1;
		/* Another process may have migrated while we waited. */
		if (store_schema_int(db, path, "PRAGMA user_version", action,
		    &version, error_r) < 0 ||
		    store_schema_check(db, path, version, error_r) < 0) {
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (m->version <= version) {
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			continue;
		}
		if (store_schema_exec(db, path, m->sql, action, error_r) < 0 ||
		    store_schema_exec(db, path, set_version, action,
		    error_r) < 0 ||
		    store_schema_exec(db, path, "COMMIT", action, error_r) < 0) {
			(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		version = m->version;
	}
	return 0;
}
