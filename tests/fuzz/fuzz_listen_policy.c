/*
 * fuzz_listen_policy - bytes through the in-place policy request parser
 * (policy_parse_request), as a connection would deliver them: requests
 * are parsed one after the other from the buffer, the arena reset after
 * each, until the input ends or is malformed.
 * The input is fed twice, whole and in 13-byte reads with every byte of
 * an unfinished request kept and moved to the start of the buffer (as
 * the daemon's listener does); both must agree on every value, and the
 * parser may never ask to keep more than POLICY_MAX_PENDING bytes (the
 * daemon's input buffer is sized by it).
 * Each request's peer values are also put through the answer formatter.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/mem.h"
#include "listen/policy_parse.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
	size_t	 requests;	/* complete, valid requests */
	int	 last;		/* 0: ran out of input, -1: malformed */
	size_t	 addrs;		/* requests with has_addr */
	uint64_t values;	/* hash of every value of every request */
};

static uint64_t
fuzz_hash(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

static uint64_t
fuzz_hash_req(uint64_t h, const struct policy_req *r)
{
	const char *v[] = { r->request, r->protocol_state, r->client_address,
	    r->client_name, r->reverse_client_name, r->helo_name, r->sender,
	    r->recipient, r->recipient_count, r->instance, r->sasl_username,
	    r->sasl_method, r->server_address, r->server_port,
	    r->policy_context, r->queue_id, r->size };

	for (size_t i = 0; i < MW_N_ELEMENTS(v); i++)
		h = fuzz_hash(h, v[i]);
	return h ^ r->port;
}

/* Peer text in an answer: whatever it holds, the answer is one line plus
   the empty line, within POLICY_REPLY_MAX. */
static void
fuzz_reply(const struct policy_req *req)
{
	static const enum verdict_kind kinds[] = { VERDICT_DUNNO,
	    VERDICT_REJECT, VERDICT_DEFER, VERDICT_WARN };
	char	 out[POLICY_REPLY_MAX];

	for (size_t k = 0; k < MW_N_ELEMENTS(kinds); k++) {
		struct verdict	 v = { .kind = kinds[k], .status = req->size,
		    .text = req->helo_name, .reason = req->sender };
		size_t		 len = policy_reply_format(&v, out, sizeof(out));

		if (len < 13 || len > sizeof(out) ||
		    memcmp(out, "action=", 7) != 0 ||
		    memchr(out, '\n', len - 2) != NULL ||
		    out[len - 2] != '\n' || out[len - 1] != '\n')
			abort();
		for (size_t i = 0; i < len - 2; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				abort();
	}
}

static void
fuzz_feed(const char *data, size_t size, size_t chunk, struct outcome *o)
{
	struct mw_arena		*a = mw_arena_new(4096);
	struct policy_req	 req;
	char			*buf = malloc(size + 1);
	size_t			 have = 0, fed = 0, used;
	const char		*error;
	int			 ret = 0;

	if (buf == NULL)
		abort();
	*o = (struct outcome){ .values = 0xcbf29ce484222325ULL };
	policy_req_init(&req);
	while (fed < size || ret == 1) {
		size_t n = size - fed < chunk ? size - fed : chunk;

		memcpy(buf + have, data + fed, n);
		have += n;
		fed += n;
		error = NULL;
		ret = policy_parse_request(&req, buf, have, a, &used, &error);
		if (ret < 0) {
			if (error == NULL || strlen(error) == 0)
				abort();
			break;
		}
		if (ret == 0) {
			if (used != 0 || have > POLICY_MAX_PENDING)
				abort();	/* the cap was not enforced */
			continue;
		}
		if (used == 0 || used > have || used > POLICY_MAX_REQUEST)
			abort();
		o->requests++;
		if (req.has_addr)
			o->addrs++;
		if (strcmp(req.request, "smtpd_access_policy") != 0)
			abort();
		o->values = fuzz_hash_req(o->values, &req);
		fuzz_reply(&req);
		/* The next request moves to the start, as in the daemon. */
		memmove(buf, buf + used, have - used);
		have -= used;
		mw_arena_reset(a);
		policy_req_init(&req);
	}
	o->last = ret < 0 ? -1 : 0;
	free(buf);
	mw_arena_free(&a);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;

	fuzz_feed((const char *)data, size, size > 0 ? size : 1, &whole);
	fuzz_feed((const char *)data, size, 13, &pieces);
	if (whole.requests != pieces.requests || whole.last != pieces.last ||
	    whole.addrs != pieces.addrs || whole.values != pieces.values)
		abort();
	return 0;
}
