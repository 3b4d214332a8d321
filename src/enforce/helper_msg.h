/*
 * helper_msg - the messages between mailwardd and its privileged
 * firewall helper (enforce/helper.c), over a SOCK_SEQPACKET socketpair.
 *
 * One datagram is one message, so a helper that dies half-way through a
 * read cannot leave the stream out of step. Every message starts with an
 * 8-byte header (version, type, record count, total length, big-endian)
 * that must agree with the datagram's size; element records are 24 bytes
 * each and are checked field by field (family, prefix length, host bits,
 * reserved bytes, timeout range) before anything is built from them.
 * Pure: no I/O, no globals (tests/fuzz/fuzz_enforce_helper_msg.c links it
 * alone). UNSAFE: raw memory (byte offsets into the datagram).
 *
 * The helper trusts nothing here: a message that fails to decode makes it
 * exit (fail closed), and the daemon logs that the firewall is unavailable.
 */
#ifndef MW_ENFORCE_HELPER_MSG_H
#define MW_ENFORCE_HELPER_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "core/mem.h"

#define HELPER_MSG_VERSION	1
#define HELPER_MSG_HDR		8	/* bytes: version, type, count, length */
#define HELPER_MSG_REC		24	/* bytes per element record */
/* Records per message: 2048 x 24 + 8 = 48 KiB, under the 64 KiB a unix
   datagram may carry with default socket buffers. */
#define HELPER_MSG_MAX_RECORDS	2048
#define HELPER_MSG_MAX_ERROR	256	/* bytes of error text in a STATUS */
#define HELPER_MSG_MAX		(HELPER_MSG_HDR + \
	    HELPER_MSG_MAX_RECORDS * HELPER_MSG_REC)
/* Element timeout, seconds: 24855 days (68 years, < INT32_MAX s). nft
   refuses larger element timeouts; longer bans are sent as this. */
#define HELPER_MSG_MAX_TIMEOUT	2147472000U

enum helper_msg_type {
	HELPER_MSG_HELLO = 1,	/* helper -> daemon: worker pid; resync me */
	HELPER_MSG_BEGIN,	/* start a transaction for worker pid (arg) */
	HELPER_MSG_END,		/* apply it atomically; helper sends STATUS */
	HELPER_MSG_FLUSH,	/* empty the sets in mask (HELPER_FLUSH_*) */
	HELPER_MSG_LOAD,	/* add elements (sets just flushed: no refresh) */
	HELPER_MSG_SET,		/* add or refresh elements (timeout replaced) */
	HELPER_MSG_DEL,		/* remove elements; absent ones are no error */
	HELPER_MSG_STATUS,	/* helper -> daemon: outcome of a transaction */
};
#define HELPER_MSG_TYPE_MAX	HELPER_MSG_STATUS

#define HELPER_FLUSH_BANS	0x1U
#define HELPER_FLUSH_ALLOW	0x2U

enum helper_set { HELPER_SET_BAN = 0, HELPER_SET_ALLOW = 1 };

struct helper_elem {
	struct mw_cidr	 net;		/* IPv4 held v4-mapped, as in core/addr */
	enum helper_set	 set;
	uint32_t	 timeout;	/* seconds, 0 = none (permanent); allow: 0 */
};

struct helper_msg {
	enum helper_msg_type	 type;
	uint32_t		 arg;	/* HELLO, BEGIN: worker pid; FLUSH: mask */
	/* LOAD, SET, DEL */
	size_t			 nelems;
	struct helper_elem	 elems[HELPER_MSG_MAX_RECORDS];
	/* STATUS */
	bool			 ok;
	uint32_t		 applied;	/* elements in the transaction */
	char			 error[HELPER_MSG_MAX_ERROR + 1];	/* "" if ok */
};

const char *helper_msg_type_name(enum helper_msg_type t);

/* Encoders write one whole message into buf (size >= HELPER_MSG_MAX is
   always enough) and return its length. They panic on misuse (a bug in
   the daemon, not input): bad type, too many or invalid elements. */
size_t	 helper_msg_encode(uint8_t *buf, size_t size, enum helper_msg_type t,
	    uint32_t arg);
size_t	 helper_msg_encode_elems(uint8_t *buf, size_t size,
	    enum helper_msg_type t, const struct helper_elem *e, size_t n);
/* error may be NULL; it is cut to HELPER_MSG_MAX_ERROR bytes and control
   characters become '?'. */
size_t	 helper_msg_encode_status(uint8_t *buf, size_t size, bool ok,
	    uint32_t applied, const char *error);

/* Decodes one datagram of len bytes into m. 0 on success; -1 on anything
   malformed with *error_r (static text) saying what. */
int	 helper_msg_decode(const uint8_t *buf, size_t len, struct helper_msg *m,
	    const char **error_r) MW_MUST_CHECK;

/* The element check the decoder applies (and the encoder asserts). */
bool	 helper_elem_is_valid(const struct helper_elem *e, const char **why_r);

#endif
