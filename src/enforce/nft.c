/*
 * nft - the mailward nftables table through libnftables; see nft.h.
 */
#include "enforce/nft.h"

#include <arpa/inet.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/log.h"

#define NFT_MAX_ERROR	400	/* bytes of an nft error kept for the daemon */
#define NFT_MAX_PER_CMD	2048	/* elements per "add element" command */
#define NFT_KEEP_BATCH	(1024 * 1024)	/* bytes of text buffer kept between transactions */

struct enforce_nft {
	struct enforce_nft_cfg	 cfg;
	struct nft_ctx		*ctx;
	struct mw_buf		 batch;
	const char		*open_set;	/* LOAD command being extended */
	size_t			 open_count;	/* its elements */
	size_t			 nelems;	/* elements in the batch */
	char			 error[NFT_MAX_ERROR + 1];
};

static const char *const set_names[2][3] = {
	/* v4, v6 */
	{ "ban4", "bannet4", "allow4" },
	{ "ban6", "bannet6", "allow6" },
};

bool
enforce_nft_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > ENFORCE_NFT_MAX_NAME ||
	    !((name[0] >= 'a' && name[0] <= 'z') ||
	    (name[0] >= 'A' && name[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

struct enforce_nft *
enforce_nft_new(const struct enforce_nft_cfg *cfg)
{
	struct enforce_nft *n = mw_calloc(1, sizeof(*n));

	MW_ASSERT(enforce_nft_name_is_valid(cfg->table));
	MW_ASSERT(cfg->nports <= ENFORCE_NFT_MAX_PORTS);
	n->cfg = *cfg;
	if ((n->ctx = nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
		mw_panic("nft: nft_ctx_new: out of memory");
	/* Capture output and errors instead of letting nft print them. */
	MW_ASSERT(nft_ctx_buffer_output(n->ctx) == 0);
	MW_ASSERT(nft_ctx_buffer_error(n->ctx) == 0);
	mw_buf_init(&n->batch, NULL, ENFORCE_NFT_MAX_BATCH);
	return n;
}

void
enforce_nft_free(struct enforce_nft **np)
{
	struct enforce_nft *n = *np;

	if (n == NULL)
		return;
	nft_ctx_free(n->ctx);
	mw_buf_deinit(&n->batch);
	free(n);
	*np = NULL;
}

/* The first line of nft's error text (the rest repeats the command and
   points at it with carets), cut to NFT_MAX_ERROR bytes. */
static const char *
nft_take_error(struct enforce_nft *n)
{
	const char	*e = nft_ctx_get_error_buffer(n->ctx);
	size_t		 len;

	if (e == NULL || e[0] == '\0')
		e = "nft: unknown error";
	len = strcspn(e, "\n");
	if (len > NFT_MAX_ERROR)
		len = NFT_MAX_ERROR;
	memcpy(n->error, e, len);
	n->error[len] = '\0';
	return n->error;
}

/* Runs text (NUL-terminated); 0 or -1 with the error kept in n->error. */
static int
nft_run(struct enforce_nft *n, const char *text)
{
	int rc = nft_run_cmd_from_buffer(n->ctx, text);

	(void)nft_ctx_get_output_buffer(n->ctx);	/* discard, reset */
	if (rc != 0) {
		(void)nft_take_error(n);
		return -1;
	}
	(void)nft_ctx_get_error_buffer(n->ctx);		/* warnings: reset */
	return 0;
}

static void
nft_put_definitions(struct enforce_nft *n, struct mw_buf *b)
{
	const char	*t = n->cfg.table;
	char		 ports[ENFORCE_NFT_MAX_PORTS * 7 + 16];
	size_t		 off = 0;

	ports[0] = '\0';
	if (n->cfg.nports > 0) {
		off += (size_t)snprintf(ports, sizeof(ports), "tcp dport { ");
		for (size_t i = 0; i < n->cfg.nports; i++)
			off += (size_t)snprintf(ports + off, sizeof(ports) - off,
			    "%s%u", i > 0 ? ", " : "", n->cfg.ports[i]);
		(void)snprintf(ports + off, sizeof(ports) - off, " } ");
	} else {
		(void)snprintf(ports, sizeof(ports), "meta l4proto tcp ");
	}
	MW_ASSERT(mw_buf_printf(b,
	    "add table inet %s\n"
	    "add set inet %s allow4 { type ipv4_addr; flags interval; auto-merge; }\n"
	    "add set inet %s allow6 { type ipv6_addr; flags interval; auto-merge; }\n"
	    "add set inet %s ban4 { type ipv4_addr; flags timeout; }\n"
	    "add set inet %s ban6 { type ipv6_addr; flags timeout; }\n"
	    "add set inet %s bannet4 { type ipv4_addr; flags interval, timeout; }\n"
	    "add set inet %s bannet6 { type ipv6_addr; flags interval, timeout; }\n"
	    "add chain inet %s input { type filter hook input priority %d; "
	    "policy accept; }\n"
	    "flush chain inet %s input\n"
	    "add rule inet %s input ip saddr @allow4 accept\n"
	    "add rule inet %s input ip6 saddr @allow6 accept\n"
	    "add rule inet %s input %sip saddr @ban4 counter drop\n"
	    "add rule inet %s input %sip saddr @bannet4 counter drop\n"
	    "add rule inet %s input %sip6 saddr @ban6 counter drop\n"
	    "add rule inet %s input %sip6 saddr @bannet6 counter drop\n",
	    t, t, t, t, t, t, t, t, n->cfg.priority, t, t, t, t, ports, t, ports,
	    t, ports, t, ports) == 0);
}

int
enforce_nft_setup(struct enforce_nft *n, const char **error_r)
{
	struct mw_buf	 b;
	int		 rc;

	mw_buf_init(&b, NULL, 0);
	nft_put_definitions(n, &b);
	if ((rc = nft_run(n, mw_buf_cstr(&b))) < 0) {
		/* Different definitions (older version, other priority):
		   replace the table in one transaction. */
		log_info("nft: table inet %s: %s; recreating it", n->cfg.table,
		    n->error);
		mw_buf_reset(&b);
		MW_ASSERT(mw_buf_printf(&b, "add table inet %s\n"
		    "delete table inet %s\n", n->cfg.table, n->cfg.table) == 0);
		nft_put_definitions(n, &b);
		rc = nft_run(n, mw_buf_cstr(&b));
	}
	mw_buf_deinit(&b);
	if (rc < 0)
		*error_r = n->error;
	return rc;
}

int
enforce_nft_teardown(struct enforce_nft *n, const char **error_r)
{
	char cmd[128];

	(void)snprintf(cmd, sizeof(cmd), "delete table inet %s", n->cfg.table);
	if (nft_run(n, cmd) < 0) {
		*error_r = n->error;
		return -1;
	}
	return 0;
}

int
enforce_nft_table_exists(struct enforce_nft *n)
{
	const char	*out, *error;
	char		 want[ENFORCE_NFT_MAX_NAME + 16];
	size_t		 len;

	/* "list chains", not "list tables": nft 1.0.6 fetches every set
	   element for the latter (45 s with 1,000,000 elements, measured),
	   not for the former (30 ms). */
	if (enforce_nft_run(n, "list chains", false, &out, &error) < 0)
		return -1;
	len = (size_t)snprintf(want, sizeof(want), "table inet %s {\n",
	    n->cfg.table);
	for (const char *p = out; p != NULL && *p != '\0'; ) {
		if (strncmp(p, want, len) == 0)
			return 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return 0;
}

void
enforce_nft_begin(struct enforce_nft *n)
{
	/* A full load leaves tens of MB of text: give them back. */
	if (n->batch.cap > NFT_KEEP_BATCH) {
		mw_buf_deinit(&n->batch);
		mw_buf_init(&n->batch, NULL, ENFORCE_NFT_MAX_BATCH);
	}
	mw_buf_reset(&n->batch);
	n->open_set = NULL;
	n->nelems = 0;
}

static int
nft_close_open(struct enforce_nft *n)
{
	if (n->open_set == NULL)
		return 0;
	n->open_set = NULL;
	return mw_buf_puts(&n->batch, " }\n");
}

int
enforce_nft_flush(struct enforce_nft *n, uint32_t mask)
{
	const char *t = n->cfg.table;

	if (nft_close_open(n) < 0)
		return -1;
	if ((mask & HELPER_FLUSH_BANS) != 0 && mw_buf_printf(&n->batch,
	    "flush set inet %s ban4; flush set inet %s ban6; "
	    "flush set inet %s bannet4; flush set inet %s bannet6\n",
	    t, t, t, t) < 0)
		return -1;
	if ((mask & HELPER_FLUSH_ALLOW) != 0 && mw_buf_printf(&n->batch,
	    "flush set inet %s allow4; flush set inet %s allow6\n", t, t) < 0)
		return -1;
	return 0;
}

/* "203.0.113.9", "2001:db8::/32", with " timeout 1d2h3m4s" when asked. */
static void
nft_elem_text(const struct helper_elem *e, bool with_timeout, char *buf,
    size_t size)
{
	char		 addr[INET6_ADDRSTRLEN];
	size_t		 off;
	bool		 v4 = mw_cidr_is_v4(&e->net);
	uint32_t	 t = e->timeout;

	if (v4)
		MW_ASSERT(inet_ntop(AF_INET, e->net.addr.b + 12, addr,
		    sizeof(addr)) != NULL);
	else
		MW_ASSERT(inet_ntop(AF_INET6, e->net.addr.b, addr,
		    sizeof(addr)) != NULL);
	if (mw_cidr_is_host(&e->net))
		off = (size_t)snprintf(buf, size, "%s", addr);
	else
		off = (size_t)snprintf(buf, size, "%s/%u", addr,
		    mw_cidr_family_bits(&e->net));
	if (!with_timeout || t == 0)
		return;
	/* nft refuses large plain numbers ("315360000s"), not units. */
	off += (size_t)snprintf(buf + off, size - off, " timeout ");
	if (t >= 86400)
		off += (size_t)snprintf(buf + off, size - off, "%ud", t / 86400);
	if (t % 86400 >= 3600)
		off += (size_t)snprintf(buf + off, size - off, "%uh",
		    t % 86400 / 3600);
	if (t % 3600 >= 60)
		off += (size_t)snprintf(buf + off, size - off, "%um",
		    t % 3600 / 60);
	if (t % 60 > 0)
		(void)snprintf(buf + off, size - off, "%us", t % 60);
}

static const char *
nft_set_name(const struct helper_elem *e)
{
	bool v4 = mw_cidr_is_v4(&e->net);

	if (e->set == HELPER_SET_ALLOW)
		return set_names[v4 ? 0 : 1][2];
	return set_names[v4 ? 0 : 1][mw_cidr_is_host(&e->net) ? 0 : 1];
}

int
enforce_nft_elem(struct enforce_nft *n, enum enforce_nft_op op,
    const struct helper_elem *e)
{
	const char	*t = n->cfg.table, *set = nft_set_name(e), *why;
	char		 bare[MW_CIDR_STRLEN + 8], full[MW_CIDR_STRLEN + 40];
	int		 rc;

	MW_ASSERT(helper_elem_is_valid(e, &why));
	nft_elem_text(e, false, bare, sizeof(bare));
	nft_elem_text(e, true, full, sizeof(full));
	switch (op) {
	case ENFORCE_NFT_LOAD:
		/* Commands of NFT_MAX_PER_CMD elements: measured 7-10 %
		   faster for nft than one command of a million. */
		if (n->open_set == set && n->open_count < NFT_MAX_PER_CMD) {
			rc = mw_buf_printf(&n->batch, ", %s", full);
			n->open_count++;
			break;
		}
		if ((rc = nft_close_open(n)) < 0)
			break;
		rc = mw_buf_printf(&n->batch, "add element inet %s %s { %s",
		    t, set, full);
		n->open_set = set;
		n->open_count = 1;
		break;
	case ENFORCE_NFT_SET:
		/* add/delete/add: the new timeout holds whether or not the
		   element was there (re-adding alone keeps the old expiry on
		   kernels before 6.x). */
		if ((rc = nft_close_open(n)) < 0)
			break;
		rc = mw_buf_printf(&n->batch, "add element inet %s %s { %s }; "
		    "delete element inet %s %s { %s }; "
		    "add element inet %s %s { %s }\n", t, set, bare, t, set, bare,
		    t, set, full);
		break;
	case ENFORCE_NFT_DEL:
		/* Deleting an absent element fails the whole transaction:
		   add it first, so an element the kernel already expired
		   is no error. */
		if ((rc = nft_close_open(n)) < 0)
			break;
		rc = mw_buf_printf(&n->batch, "add element inet %s %s { %s }; "
		    "delete element inet %s %s { %s }\n", t, set, bare, t, set,
		    bare);
		break;
	default:
		mw_panic("nft: unknown op %d", (int)op);
	}
	if (rc < 0)
		return -1;	/* the caller abandons the transaction */
	n->nelems++;
	return 0;
}

/* Applies line (one command, or "add element ... { a, b, c }") element
   by element. Returns the number of elements that failed. */
static size_t
nft_apply_elements(struct enforce_nft *n, char *line, size_t *applied,
    size_t *logged, char *first_error, size_t first_size)
{
	char	*open = strstr(line, " { "), *p, *end;
	size_t	 failed = 0;
	bool	 single = strstr(line, "; ") != NULL || open == NULL;

	if (single) {
		if (nft_run(n, line) == 0) {
			(*applied)++;
			return 0;
		}
		if (first_error[0] == '\0')
			(void)snprintf(first_error, first_size, "%s", n->error);
		if ((*logged)++ < ENFORCE_NFT_MAX_LOGGED)
			log_warn("nft: not applied: %s: %s", line, n->error);
		return 1;
	}
	/* "PREFIX { e1, e2, ... }": run "PREFIX { ei }" for each. */
	open[0] = '\0';
	p = open + 3;
	if ((end = strrchr(p, '}')) != NULL)
		*end = '\0';
	for (size_t len = strlen(p); len > 0 && p[len - 1] == ' '; len--)
		p[len - 1] = '\0';
	while (*p != '\0') {
		char	*next = strstr(p, ", "), cmd[512];

		if (next != NULL)
			*next = '\0';
		while (*p == ' ')
			p++;
		(void)snprintf(cmd, sizeof(cmd), "%s { %s }", line, p);
		if (*p != '\0' && nft_run(n, cmd) == 0) {
			(*applied)++;
		} else if (*p != '\0') {
			failed++;
			if (first_error[0] == '\0')
				(void)snprintf(first_error, first_size, "%s",
				    n->error);
			if ((*logged)++ < ENFORCE_NFT_MAX_LOGGED)
				log_warn("nft: not applied: %s: %s", cmd, n->error);
		}
		if (next == NULL)
			break;
		p = next + 2;
	}
	return failed;
}

int
enforce_nft_commit(struct enforce_nft *n, size_t *applied_r, size_t *failed_r,
    const char **error_r)
{
	char	*text, *line, *save = NULL;
	char	 first_error[NFT_MAX_ERROR + 1] = "";
	size_t	 applied = 0, failed = 0, logged = 0;

	*applied_r = *failed_r = 0;
	if (nft_close_open(n) < 0) {
		*error_r = "transaction larger than the limit";
		return -1;
	}
	if (n->batch.len == 0)
		return 0;
	if (nft_run(n, mw_buf_cstr(&n->batch)) == 0) {
		*applied_r = n->nelems;
		enforce_nft_begin(n);
		return 0;
	}
	log_warn("nft: transaction of %zu elements refused: %s; applying its "
	    "commands one by one", n->nelems, n->error);
	text = mw_strndup(n->batch.data, n->batch.len);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "flush ", 6) == 0) {
			if (nft_run(n, line) < 0 && first_error[0] == '\0')
				(void)snprintf(first_error, sizeof(first_error),
				    "%s", n->error);
			continue;
		}
		if (nft_run(n, line) == 0) {
			/* count the elements of the line */
			size_t k = 1;

			if (strstr(line, "; ") == NULL)
				for (const char *c = line; (c = strstr(c, ", "))
				    != NULL; c += 2)
					k++;
			applied += k;
			continue;
		}
		failed += nft_apply_elements(n, line, &applied, &logged,
		    first_error, sizeof(first_error));
	}
	free(text);
	enforce_nft_begin(n);
	*applied_r = applied;
	*failed_r = failed;
	if (failed == 0 && first_error[0] == '\0')
		return 0;
	(void)snprintf(n->error, sizeof(n->error), "%s", first_error[0] != '\0' ?
	    first_error : "some elements were not applied");
	*error_r = n->error;
	return -1;
}

int
enforce_nft_run(struct enforce_nft *n, const char *cmd, bool json,
    const char **out_r, const char **error_r)
{
	unsigned	 flags = nft_ctx_output_get_flags(n->ctx);
	int		 rc;

	nft_ctx_output_set_flags(n->ctx, json ? flags | NFT_CTX_OUTPUT_JSON :
	    flags & ~(unsigned)NFT_CTX_OUTPUT_JSON);
	rc = nft_run_cmd_from_buffer(n->ctx, cmd);
	nft_ctx_output_set_flags(n->ctx, flags);
	*out_r = nft_ctx_get_output_buffer(n->ctx);
	if (rc != 0) {
		*error_r = nft_take_error(n);
		return -1;
	}
	(void)nft_ctx_get_error_buffer(n->ctx);
	return 0;
}
