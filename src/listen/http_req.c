/*
 * http_req - one HTTP/1.x request with libhttp-parser; see http_req.h.
 *
 * The parser runs in two steps: first over at most max_header_bytes, so
 * headers that do not end within the limit are refused (431) without
 * looking further, then over the rest for the body. Its callbacks record
 * slices (a field or value split between the two steps is extended, as
 * both halves lie in the same input) and refuse at the end of the headers
 * what should not be waited for. on_message_complete pauses the parser,
 * so it stops right after the request and pipelined bytes stay unparsed.
 * UNSAFE: raw memory (slices extended by pointer arithmetic).
 */
#include "listen/http_req.h"

#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct http_req_ctx {
	const struct http_req_limits *limits;
	struct http_req		*r;
	struct mw_slice		 url;
	struct mw_slice		 field, value;	/* the current header */
	bool			 in_value;	/* value seen after field */
	bool			 expect;	/* Expect: 100-continue */
	size_t			 nheaders;
	bool			 headers_done;
	bool			 done;
	bool			 body_gap;	/* body not contiguous */
};

/* Appends at..at+len to s: either its first piece or the one right
   after the previous (the parser's pieces of one element follow each
   other in the input). */
static void
http_req_extend(struct mw_slice *s, const char *at, size_t len)
{
	if (s->ptr == NULL)
		*s = (struct mw_slice){ at, len };
	else
		s->len = (size_t)(at + len - s->ptr);
}

static void
http_req_refuse(struct http_req *r, int status, const char *phrase,
    const char *text)
{
	r->status = status;
	r->phrase = phrase;
	(void)snprintf(r->error, sizeof(r->error), "%s", text);
}

/* The header just finished (field and value complete). */
static void
http_req_header_end(struct http_req_ctx *x)
{
	struct mw_slice	 v = mw_slice_trim(x->value);

	if (x->field.ptr == NULL)
		return;
	if (!x->r->has_header &&
	    mw_slice_case_eq_cstr(x->field, x->limits->header)) {
		x->r->header = v;
		x->r->has_header = true;
	} else if (mw_slice_case_eq_cstr(x->field, "Expect") &&
	    mw_slice_case_eq_cstr(v, "100-continue"))
		x->expect = true;
	x->field = x->value = (struct mw_slice){ NULL, 0 };
	x->in_value = false;
}

static int
http_req_on_url(http_parser *p, const char *at, size_t len)
{
	struct http_req_ctx *x = p->data;

	http_req_extend(&x->url, at, len);
	return 0;
}

static int
http_req_on_field(http_parser *p, const char *at, size_t len)
{
	struct http_req_ctx *x = p->data;

	if (x->in_value || x->field.ptr == NULL) {
		http_req_header_end(x);
		if (++x->nheaders > x->limits->max_headers) {
			http_req_refuse(x->r, 431, "Request Header Fields Too "
			    "Large", "too many header lines");
			return -1;
		}
	}
	http_req_extend(&x->field, at, len);
	return 0;
}

static int
http_req_on_value(http_parser *p, const char *at, size_t len)
{
	struct http_req_ctx *x = p->data;

	x->in_value = true;
	http_req_extend(&x->value, at, len);
	return 0;
}

static int
http_req_on_headers_complete(http_parser *p)
{
	struct http_req_ctx	*x = p->data;
	struct http_req		*r = x->r;

	http_req_header_end(x);
	x->headers_done = true;
	r->expect_continue = x->expect;
	if (p->http_major != 1) {
		(void)snprintf(r->error, sizeof(r->error), "HTTP/%u.%u is not "
		    "served (HTTP/1.1 is)", p->http_major, p->http_minor);
		r->status = 505;
		r->phrase = "HTTP Version Not Supported";
		return -1;
	}
	if (p->flags & F_CHUNKED) {
		http_req_refuse(r, 411, "Length Required", "chunked request "
		    "bodies are not accepted: send Content-Length");
		return -1;
	}
	if ((p->flags & F_CONTENTLENGTH) &&
	    p->content_length > x->limits->max_body) {
		(void)snprintf(r->error, sizeof(r->error), "the body is %llu "
		    "bytes, more than the %zu accepted",
		    (unsigned long long)p->content_length, x->limits->max_body);
		r->status = 413;
		r->phrase = "Payload Too Large";
		return -1;
	}
	return 0;
}

static int
http_req_on_body(http_parser *p, const char *at, size_t len)
{
	struct http_req_ctx *x = p->data;

	if (x->r->body.ptr != NULL &&
	    at != x->r->body.ptr + x->r->body.len)
		x->body_gap = true;
	http_req_extend(&x->r->body, at, len);
	return 0;
}

static int
http_req_on_message_complete(http_parser *p)
{
	struct http_req_ctx *x = p->data;

	x->done = true;
	x->r->keep_alive = http_should_keep_alive(p) != 0;
	/* Stop right after this request: what follows is the next one. */
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings http_req_settings = {
	.on_url = http_req_on_url,
	.on_header_field = http_req_on_field,
	.on_header_value = http_req_on_value,
	.on_headers_complete = http_req_on_headers_complete,
	.on_body = http_req_on_body,
	.on_message_complete = http_req_on_message_complete,
};

/* The path and query of the request-target ("/p?q", or absolute form). */
static int
http_req_target(struct http_req_ctx *x)
{
	struct http_parser_url	 u;
	struct http_req		*r = x->r;

	http_parser_url_init(&u);
	if (x->url.ptr == NULL ||
	    http_parser_parse_url(x->url.ptr, x->url.len, 0, &u) != 0) {
		http_req_refuse(r, 400, "Bad Request", "malformed HTTP "
		    "request: invalid request target");
		return -1;
	}
	r->path = MW_SLICE_LIT("/");
	if (u.field_set & (1 << UF_PATH))
		r->path = (struct mw_slice){ x->url.ptr +
		    u.field_data[UF_PATH].off, u.field_data[UF_PATH].len };
	if (u.field_set & (1 << UF_QUERY))
		r->query = (struct mw_slice){ x->url.ptr +
		    u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len };
	return 0;
}

/* After http_parser_execute stopped with err: -1 and a refusal, or 0
   (paused at the end of the request, or no error). */
static int
http_req_check(struct http_req_ctx *x, enum http_errno err)
{
	if (err == HPE_OK || err == HPE_PAUSED)
		return 0;
	if (x->r->status != 0)
		return -1;	/* a callback refused */
	(void)snprintf(x->r->error, sizeof(x->r->error), "malformed HTTP "
	    "request: %s", http_errno_description(err));
	x->r->status = 400;
	x->r->phrase = "Bad Request";
	return -1;
}

static int
http_req_finish(struct http_req_ctx *x, const http_parser *p, size_t used)
{
	struct http_req *r = x->r;

	if (x->body_gap) {
		http_req_refuse(r, 400, "Bad Request", "malformed HTTP "
		    "request: the body is not contiguous");
		return -1;
	}
	if (http_req_target(x) < 0)
		return -1;
	r->is_post = p->method == HTTP_POST;
	r->method = http_method_str((enum http_method)p->method);
	r->is_http10 = p->http_major == 1 && p->http_minor == 0;
	r->expect_continue = false;
	r->used = used;
	return 1;
}

int
http_req_parse(const char *data, size_t len,
    const struct http_req_limits *limits, struct http_req *r)
{
	struct http_req_ctx	 x = { .limits = limits, .r = r };
	http_parser		 p;
	size_t			 first, n;

	memset(r, 0, sizeof(*r));
	http_parser_init(&p, HTTP_REQUEST);
	p.data = &x;
	first = len < limits->max_header_bytes ? len : limits->max_header_bytes;
	n = http_parser_execute(&p, &http_req_settings, data, first);
	if (http_req_check(&x, HTTP_PARSER_ERRNO(&p)) < 0)
		return -1;
	if (!x.headers_done) {
		if (len < limits->max_header_bytes)
			return 0;
		http_req_refuse(r, 431, "Request Header Fields Too Large",
		    "the request line and headers are too long");
		return -1;
	}
	if (!x.done && n == first && len > first) {
		n += http_parser_execute(&p, &http_req_settings, data + first,
		    len - first);
		if (http_req_check(&x, HTTP_PARSER_ERRNO(&p)) < 0)
			return -1;
	}
	if (!x.done) {
		/* The parser counts the body down as it reads it. */
		if (x.headers_done)
			r->need = n + (size_t)p.content_length;
		return 0;	/* expect_continue tells whether to say so */
	}
	return http_req_finish(&x, &p, n);
}

bool
http_req_worth_parsing(const char *data, size_t len, size_t len_before,
    size_t need, const struct http_req_limits *limits)
{
	if (len <= len_before)
		return false;
	if (need > 0)
		return len >= need;
	return len >= limits->max_header_bytes ||
	    memchr(data + len_before, '\n', len - len_before) != NULL;
}
