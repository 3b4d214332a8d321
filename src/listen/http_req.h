/*
 * http_req - the framing of one HTTP/1.x request (the auth policy
 * service's transport): bytes in, and out either one complete request
 * (method, target, one named header, the body, keep-alive, bytes used),
 * "need more", or a refusal with its status code.
 *
 * libhttp-parser does the HTTP grammar; its callbacks here only record
 * slices of the input, so a request is parsed in place and nothing is
 * allocated. Every call starts a fresh parser at the start of the input:
 * an incomplete request is simply parsed again once more bytes arrived
 * (requests are small; no parser state has to survive the input buffer
 * moving between reads), and http_req_worth_parsing tells when that can
 * change the outcome. Limits are checked before the body is waited
 * for: header bytes, header lines, the declared body length. Chunked
 * bodies are refused (411): they would not lie contiguous in the input,
 * and Dovecot sends Content-Length.
 * Pure: no I/O, no globals (tests/unit/test_listen_http_req.c and
 * tests/fuzz/fuzz_listen_http_req.c link it alone).
 */
#ifndef MW_LISTEN_HTTP_REQ_H
#define MW_LISTEN_HTTP_REQ_H

#include <stdbool.h>
#include <stddef.h>

#include "core/mem.h"
#include "core/slice.h"

#define HTTP_REQ_ERROR_LEN	128	/* bytes of a refusal's text */

struct http_req_limits {
	size_t		 max_header_bytes;	/* request line and headers */
	size_t		 max_headers;		/* header lines */
	size_t		 max_body;		/* bytes of Content-Length */
	const char	*header;		/* the one header value kept
						   ("X-API-Key"), any case */
};

struct http_req {
	/* A complete request; slices point into the input. */
	bool		 is_post;
	const char	*method;	/* "GET", ...: static text */
	struct mw_slice	 path;		/* "/" when the target had none */
	struct mw_slice	 query;		/* after '?'; ptr NULL: none */
	struct mw_slice	 header;	/* limits->header's value, trimmed */
	bool		 has_header;	/* false: not sent */
	struct mw_slice	 body;		/* len 0 when there is none */
	bool		 keep_alive;	/* the connection may carry another */
	bool		 is_http10;	/* HTTP/1.0: keep-alive must be said */
	size_t		 used;		/* bytes of this request */
	/* Need more: the headers are complete and asked for
	   "Expect: 100-continue" (the body is still to come). */
	bool		 expect_continue;
	/* Need more: the length of the whole request once the headers are
	   complete (the body's length is known), else 0. */
	size_t		 need;
	/* A refusal: the status, its phrase and one sentence. */
	int		 status;
	const char	*phrase;
	char		 error[HTTP_REQ_ERROR_LEN];
};

/* Parses the request at the start of data (len bytes). 1: complete, *r
   filled, r->used bytes belong to it (pipelined bytes may follow); 0:
   incomplete, call again with more (the same bytes and what followed);
   -1: not a request we take, r->status (400, 411, 413, 431, 505), r->phrase
   and r->error set: answer it and close, the framing is lost. */
int	 http_req_parse(const char *data, size_t len,
	    const struct http_req_limits *limits, struct http_req *r)
	    MW_MUST_CHECK;

/* Whether parsing again can tell more than "need more", for a request
   that was incomplete at len_before bytes (its need: r->need from that
   call) and now has len: in the headers only once a line ended (or the
   header limit is reached), in the body only once it is all there. A
   peer sending a byte at a time then costs a parse per header line, not
   one per byte (each parse starts over). */
bool	 http_req_worth_parsing(const char *data, size_t len,
	    size_t len_before, size_t need,
	    const struct http_req_limits *limits);

#endif
