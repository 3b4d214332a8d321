/*
 * store_sqlite_dash - the dashboard's tables in the SQLite backend:
 * admins (argon2id strings, never logged), the audit log, and the
 * statistics read from the per-minute counts and the events table.
 *
 * Loop connection of store_sqlite.c only. Calls come at human rate (an
 * admin action, a page load), so each prepares its statement; nothing is
 * kept between calls. Writes are committed before returning (autocommit).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store/store_int.h"

#define SQD_QUERY_LIMIT		100	/* audit rows when none is given */

static int
sqd_fail(struct store *st, const char *action)
{
	store_set_error(st, "%s: %s: %s", store_sqlite_path(st), action,
	    sqlite3_errmsg(store_sqlite_loop_db(st)));
	return -1;
}

static sqlite3_stmt *
sqd_prepare(struct store *st, const char *sql, const char *action)
{
	sqlite3_stmt *stmt = NULL;

	if (sqlite3_prepare_v2(store_sqlite_loop_db(st), sql, -1, &stmt,
	    NULL) != SQLITE_OK) {
		(void)sqd_fail(st, action);
		sqlite3_finalize(stmt);
		return NULL;
	}
	return stmt;
}

static int
sqd_text(sqlite3_stmt *stmt, int idx, const char *text)
{
	if (text == NULL)
		text = "";
	return sqlite3_bind_text(stmt, idx, text,
	    (int)store_text_cut(text, STORE_MAX_TEXT), SQLITE_TRANSIENT);
}

static const char *
sqd_col(sqlite3_stmt *stmt, int col)
{
	const unsigned char *t = sqlite3_column_text(stmt, col);

	return t != NULL ? (const char *)t : "";
}

/* Steps a write to completion; 0, or -1 with the error set. */
static int
sqd_write(struct store *st, sqlite3_stmt *stmt, int bind_rc,
    const char *action)
{
	int rc = bind_rc == SQLITE_OK ? sqlite3_step(stmt) : bind_rc;

	if (rc != SQLITE_DONE) {
		(void)sqd_fail(st, action);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* --- admins ---------------------------------------------------------------- */

int
store_sqlite_admin_put(struct store *st, const struct store_admin *a)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((stmt = sqd_prepare(st, "INSERT OR REPLACE INTO admins (name, "
	    "pwhash, language, created, updated) VALUES (?1, ?2, ?3, ?4, ?5)",
	    "saving an admin")) == NULL)
		return -1;
	if ((rc = sqd_text(stmt, 1, a->name)) == SQLITE_OK &&
	    (rc = sqd_text(stmt, 2, a->pwhash)) == SQLITE_OK &&
	    (rc = sqd_text(stmt, 3, a->language)) == SQLITE_OK &&
	    (rc = sqlite3_bind_int64(stmt, 4, a->created)) == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 5, a->updated);
	return sqd_write(st, stmt, rc, "saving an admin");
}

static int
sqd_admin_rows(struct store *st, sqlite3_stmt *stmt, store_admin_fn *fn,
    void *ctx, const char *action)
{
	int	 rc, found = 0;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_admin a = {
			.name = sqd_col(stmt, 0), .pwhash = sqd_col(stmt, 1),
			.language = sqd_col(stmt, 2),
			.created = sqlite3_column_int64(stmt, 3),
			.updated = sqlite3_column_int64(stmt, 4),
		};

		found = 1;
		if (!fn(ctx, &a)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		(void)sqd_fail(st, action);
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return found;
}

int
store_sqlite_admin_get(struct store *st, const char *name, store_admin_fn *fn,
    void *ctx)
{
	sqlite3_stmt *stmt;

	if ((stmt = sqd_prepare(st, "SELECT name, pwhash, language, created, "
	    "updated FROM admins WHERE name = ?1", "reading an admin")) == NULL)
		return -1;
	if (sqd_text(stmt, 1, name) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqd_fail(st, "reading an admin");
	}
	return sqd_admin_rows(st, stmt, fn, ctx, "reading an admin");
}

int
store_sqlite_admin_list(struct store *st, store_admin_fn *fn, void *ctx)
{
	sqlite3_stmt *stmt;

	if ((stmt = sqd_prepare(st, "SELECT name, pwhash, language, created, "
	    "updated FROM admins ORDER BY name", "listing admins")) == NULL)
		return -1;
	return sqd_admin_rows(st, stmt, fn, ctx, "listing admins") < 0 ? -1 : 0;
}

int
store_sqlite_admin_del(struct store *st, const char *name)
{
	sqlite3_stmt *stmt;

	if ((stmt = sqd_prepare(st, "DELETE FROM admins WHERE name = ?1",
	    "deleting an admin")) == NULL)
		return -1;
	if (sqd_write(st, stmt, sqd_text(stmt, 1, name), "deleting an admin") < 0)
		return -1;
	return sqlite3_changes(store_sqlite_loop_db(st)) > 0 ? 1 : 0;
}

/* --- audit ----------------------------------------------------------------- */

int
store_sqlite_audit_append(struct store *st, const struct store_audit *a)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((stmt = sqd_prepare(st, "INSERT INTO audit (time_ms, actor, origin, "
	    "action, target, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    "writing the audit log")) == NULL)
		return -1;
	if ((rc = sqlite3_bind_int64(stmt, 1, a->time_ms)) == SQLITE_OK &&
	    (rc = sqd_text(stmt, 2, a->actor)) == SQLITE_OK &&
	    (rc = sqd_text(stmt, 3, a->origin)) == SQLITE_OK &&
	    (rc = sqd_text(stmt, 4, a->action)) == SQLITE_OK &&
	    (rc = sqd_text(stmt, 5, a->target)) == SQLITE_OK)
		rc = sqd_text(stmt, 6, a->detail);
	return sqd_write(st, stmt, rc, "writing the audit log");
}

int
store_sqlite_audit_query(struct store *st, const struct store_audit_query *q,
    store_audit_fn *fn, void *ctx)
{
	sqlite3_stmt	*stmt;
	size_t		 limit = q->limit == 0 ? SQD_QUERY_LIMIT : q->limit;
	int		 rc;

	if ((stmt = sqd_prepare(st, "SELECT time_ms, actor, origin, action, "
	    "target, detail FROM audit WHERE time_ms BETWEEN ?1 AND ?2 "
	    "AND (?4 IS NULL OR actor = ?4) ORDER BY time_ms DESC, id DESC "
	    "LIMIT ?3", "reading the audit log")) == NULL)
		return -1;
	if (limit > INT_MAX)
		limit = INT_MAX;
	if ((rc = sqlite3_bind_int64(stmt, 1, q->since_ms != 0 ? q->since_ms :
	    INT64_MIN)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(stmt, 2, q->until_ms != 0 ? q->until_ms :
	    INT64_MAX)) != SQLITE_OK ||
	    (rc = sqlite3_bind_int64(stmt, 3, (int64_t)limit)) != SQLITE_OK ||
	    (q->actor != NULL && (rc = sqd_text(stmt, 4, q->actor)) !=
	    SQLITE_OK)) {
		sqlite3_finalize(stmt);
		return sqd_fail(st, "reading the audit log");
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_audit a = {
			.time_ms = sqlite3_column_int64(stmt, 0),
			.actor = sqd_col(stmt, 1), .origin = sqd_col(stmt, 2),
			.action = sqd_col(stmt, 3), .target = sqd_col(stmt, 4),
			.detail = sqd_col(stmt, 5),
		};

		if (!fn(ctx, &a)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		(void)sqd_fail(st, "reading the audit log");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* --- statistics ------------------------------------------------------------ */

int
store_sqlite_count_query(struct store *st, int64_t since_ms, int64_t until_ms,
    store_count_fn *fn, void *ctx)
{
	sqlite3_stmt	*stmt;
	int		 rc;

	if ((stmt = sqd_prepare(st, "SELECT minute, listener, verdict, n FROM "
	    "counts WHERE minute BETWEEN ?1 AND ?2 ORDER BY minute",
	    "reading event counts")) == NULL)
		return -1;
	if (sqlite3_bind_int64(stmt, 1, since_ms) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 2, until_ms) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqd_fail(st, "reading event counts");
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(stmt, 3);
		struct store_count c = {
			.minute_ms = sqlite3_column_int64(stmt, 0),
			.listener = sqd_col(stmt, 1), .verdict = sqd_col(stmt, 2),
			.n = n > 0 ? (uint64_t)n : 0,
		};

		if (!fn(ctx, &c)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		(void)sqd_fail(st, "reading event counts");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}

/* The group key of each top list: the address, its /24 (IPv4, stored as
   ::ffff:a.b.c.d, so 15 bytes) or /64 (IPv6, 8 bytes), the account. */
static const char *const sqd_top_key[] = {
	[STORE_TOP_ADDR] = "addr",
	[STORE_TOP_NET] = "CASE WHEN substr(addr, 1, 12) = "
	    "x'00000000000000000000ffff' THEN substr(addr, 1, 15) "
	    "ELSE substr(addr, 1, 8) END",
	[STORE_TOP_ACCOUNT] = "account",
};

int
store_sqlite_event_top(struct store *st, const struct store_top_query *q,
    store_top_fn *fn, void *ctx)
{
	sqlite3_stmt	*stmt;
	char		 sql[640];
	size_t		 nv = 0;
	int		 rc, len;

	while (nv < STORE_TOP_MAX_VERDICTS && q->verdicts[nv] != NULL)
		nv++;
	MW_ASSERT(nv > 0 && (size_t)q->key < MW_N_ELEMENTS(sqd_top_key));
	/* The newest STORE_TOP_SAMPLE events of the range (the time index,
	   backwards: bounded work on the loop thread whatever the range
	   holds), then the groups among those with one of the verdicts
	   (IN (?4, ...): bound, never pasted). */
	len = snprintf(sql, sizeof(sql), "SELECT %s AS k, sum(count) AS n FROM "
	    "(SELECT addr, account, verdict, count FROM events WHERE time_ms BETWEEN "
	    "?1 AND ?2 ORDER BY time_ms DESC LIMIT %d) WHERE verdict IN (",
	    sqd_top_key[q->key], STORE_TOP_SAMPLE);
	for (size_t i = 0; i < nv; i++)
		len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s?%zu",
		    i > 0 ? ", " : "", i + 4);
	len += snprintf(sql + len, sizeof(sql) - (size_t)len,
	    ")%s GROUP BY k ORDER BY n DESC, k LIMIT ?3",
	    q->key == STORE_TOP_ACCOUNT ? " AND account <> ''" : "");
	MW_ASSERT(len > 0 && (size_t)len < sizeof(sql));
	if ((stmt = sqd_prepare(st, sql, "reading top attackers")) == NULL)
		return -1;
	rc = sqlite3_bind_int64(stmt, 1, q->since_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 2, q->until_ms);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_int64(stmt, 3, (int64_t)(q->limit > 1000 ?
		    1000 : q->limit));
	for (size_t i = 0; i < nv && rc == SQLITE_OK; i++)
		rc = sqd_text(stmt, (int)i + 4, q->verdicts[i]);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqd_fail(st, "reading top attackers");
	}
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct store_top_row	 r = { .account = "" };
		const uint8_t		*k = sqlite3_column_blob(stmt, 0);
		int			 klen = sqlite3_column_bytes(stmt, 0);
		int64_t			 n = sqlite3_column_int64(stmt, 1);

		r.n = n > 0 ? (uint64_t)n : 0;
		if (q->key == STORE_TOP_ACCOUNT) {
			r.account = sqd_col(stmt, 0);
		} else {
			if (k == NULL || klen < 8 || klen > 16)
				continue;
			memcpy(r.net.addr.b, k, (size_t)klen);
			r.net.bits = klen == 16 ? 128 : klen == 15 ? 120 : 64;
		}
		if (!fn(ctx, &r)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE) {
		(void)sqd_fail(st, "reading top attackers");
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	return 0;
}
