/*
 * fuzz_listen_http_req - bytes through the HTTP request framing
 * (http_req_parse) as a connection delivers them: requests are taken one
 * after the other from the buffer until the input ends or is refused.
 * The input is fed twice, whole and growing 13 bytes a read (an
 * unfinished request is parsed again from its start when
 * http_req_worth_parsing says so, as the auth policy service does; the
 * last read always); both must see the same requests and the same end (the
 * refusal's status may differ: a header line counted at the end of a
 * read may be over the limit before a later byte of it is invalid).
 * Every slice must lie inside its request, the body within the limit, a
 * refusal must carry a status and a text, and a request still "need
 * more" may never be longer than the limits allow (the service's input
 * buffer is sized by them).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/slice.h"
#include "listen/http_req.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_READ	13	/* bytes a read, in the second feeding */

static const struct http_req_limits limits = {
	.max_header_bytes = 1024,
	.max_headers = 16,
	.max_body = 2048,
	.header = "X-API-Key",
};

struct outcome {
	size_t	 requests;	/* complete */
	int	 last;		/* 0: ran out of input, -1: refused */
	int	 status;	/* of the refusal */
	uint64_t hash;		/* of every request's framing */
};

static uint64_t
fuzz_hash(uint64_t h, struct mw_slice s)
{
	for (size_t i = 0; i < s.len; i++)
		h = (h ^ (unsigned char)s.ptr[i]) * 0x100000001b3ULL;
	return (h ^ (s.ptr != NULL ? 0xff : 0xfe)) * 0x100000001b3ULL;
}

static void
fuzz_inside(struct mw_slice s, const char *start, size_t used)
{
	if (s.ptr == NULL)
		return;
	if (s.ptr < start || s.len > used ||
	    (size_t)(s.ptr - start) > used - s.len)
		abort();
}

static uint64_t
fuzz_check(uint64_t h, const struct http_req *r, const char *start)
{
	/* a target without a path ("http://h") gets a static "/" */
	if (!(r->path.len == 1 && r->path.ptr != NULL && r->path.ptr[0] == '/'))
		fuzz_inside(r->path, start, r->used);
	fuzz_inside(r->query, start, r->used);
	fuzz_inside(r->header, start, r->used);
	fuzz_inside(r->body, start, r->used);
	if (r->body.len > limits.max_body || r->method == NULL ||
	    r->path.ptr == NULL || (r->has_header && r->header.ptr == NULL))
		abort();
	h = fuzz_hash(h, r->path);
	h = fuzz_hash(h, r->query);
	h = fuzz_hash(h, r->header);
	h = fuzz_hash(h, r->body);
	return h * 31 + (uint64_t)r->used * 7 + r->keep_alive * 2 +
	    r->is_post + r->is_http10 * 4;
}

/* Where the request at *off_r was left incomplete: its length then and
   its need (0 when there is none). */
struct fuzz_wait {
	size_t	 len;
	size_t	 need;
};

/* Requests from buf[0..len); *off_r where the first unfinished one
   starts. With w, an unfinished request is parsed again only when
   http_req_worth_parsing says so (as the service does). */
static int
fuzz_run(const char *buf, size_t len, struct outcome *o, size_t *off_r,
    struct fuzz_wait *w)
{
	size_t		 off = *off_r;
	struct http_req	 r;
	int		 ret;

	for (;;) {
		if (w != NULL && w->len > 0 && !http_req_worth_parsing(buf +
		    off, len - off, w->len, w->need, &limits)) {
			ret = 0;
			break;
		}
		ret = http_req_parse(buf + off, len - off, &limits, &r);
		if (w != NULL)
			*w = (struct fuzz_wait){ ret == 0 ? len - off : 0,
			    ret == 0 ? r.need : 0 };
		if (ret < 0) {
			if (r.status < 400 || r.status > 599 ||
			    r.phrase == NULL || r.error[0] == '\0')
				abort();
			o->status = r.status;
			break;
		}
		if (ret == 0) {
			size_t max = limits.max_header_bytes + limits.max_body;

			if (len - off > max || r.need > max ||
			    (r.need > 0 && r.need <= len - off))
				abort();
			break;
		}
		if (r.used == 0 || r.used > len - off)
			abort();
		o->hash = fuzz_check(o->hash, &r, buf + off);
		o->requests++;
		off += r.used;
	}
	*off_r = off;
	o->last = ret;
	return ret;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome	 whole = { 0 }, pieces = { 0 };
	struct fuzz_wait w = { 0, 0 };
	char		*buf = malloc(size > 0 ? size : 1);
	size_t		 off = 0, len;

	if (buf == NULL)
		abort();
	memcpy(buf, data, size);
	(void)fuzz_run(buf, size, &whole, &off, NULL);
	off = 0;
	for (len = 0; len < size;) {
		len = len + FUZZ_READ < size ? len + FUZZ_READ : size;
		/* the last read parses in any case: a refusal the gate put
		   off (until a line ends) must be the same refusal */
		if (fuzz_run(buf, len, &pieces, &off, len < size ? &w : NULL) <
		    0)
			break;
	}
	if (size == 0)
		pieces.last = 0;
	if (whole.requests != pieces.requests || whole.last != pieces.last ||
	    whole.hash != pieces.hash)
		abort();
	free(buf);
	return 0;
}
