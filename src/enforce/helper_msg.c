/*
 * helper_msg - framing of the firewall helper's messages; see helper_msg.h.
 * UNSAFE: raw memory. Every read is at an offset checked against the
 * datagram length first (the header's length must equal it exactly).
 *
 * Header:  0 version (1)  1 type  2-3 record count  4-7 total length
 * Record:  0 family (4|6)  1 prefix length  2 set  3 reserved (0)
 *          4-7 timeout (s)  8-23 address (IPv4: 8-11, 12-23 zero)
 * HELLO, BEGIN (both: the worker's pid) and FLUSH carry a 4-byte argument; STATUS carries ok (4 bytes),
 * applied (4), error length (2) and that many bytes of printable text.
 */
#include "enforce/helper_msg.h"

#include <string.h>

static const char *const type_names[] = { "?", "HELLO", "BEGIN", "END",
	"FLUSH", "LOAD", "SET", "DEL", "STATUS" };

const char *
helper_msg_type_name(enum helper_msg_type t)
{
	return (size_t)t < MW_N_ELEMENTS(type_names) ? type_names[t] : "?";
}

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t
get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
put_header(uint8_t *buf, enum helper_msg_type t, size_t count, size_t len)
{
	MW_ASSERT(count <= HELPER_MSG_MAX_RECORDS && len <= HELPER_MSG_MAX);
	buf[0] = HELPER_MSG_VERSION;
	buf[1] = (uint8_t)t;
	put_u16(buf + 2, (uint16_t)count);
	put_u32(buf + 4, (uint32_t)len);
}

bool
helper_elem_is_valid(const struct helper_elem *e, const char **why_r)
{
	struct mw_addr masked = e->net.addr;

	if (e->net.bits > 128)
		return *why_r = "prefix length out of range", false;
	if (mw_cidr_is_v4(&e->net) ? e->net.bits < 96 : false)
		return *why_r = "prefix length out of range", false;
	mw_addr_mask(&masked, e->net.bits);
	if (memcmp(&masked, &e->net.addr, sizeof(masked)) != 0)
		return *why_r = "host bits set", false;
	if (e->set != HELPER_SET_BAN && e->set != HELPER_SET_ALLOW)
		return *why_r = "unknown set", false;
	if (e->timeout > HELPER_MSG_MAX_TIMEOUT)
		return *why_r = "timeout out of range", false;
	if (e->set == HELPER_SET_ALLOW && e->timeout != 0)
		return *why_r = "allow elements have no timeout", false;
	return true;
}

size_t
helper_msg_encode(uint8_t *buf, size_t size, enum helper_msg_type t,
    uint32_t arg)
{
	size_t len = HELPER_MSG_HDR;

	MW_ASSERT(t == HELPER_MSG_HELLO || t == HELPER_MSG_BEGIN ||
	    t == HELPER_MSG_END || t == HELPER_MSG_FLUSH);
	if (t != HELPER_MSG_END)
		len += 4;
	MW_ASSERT(size >= len);
	put_header(buf, t, 0, len);
	if (len > HELPER_MSG_HDR)
		put_u32(buf + HELPER_MSG_HDR, arg);
	return len;
}

size_t
helper_msg_encode_elems(uint8_t *buf, size_t size, enum helper_msg_type t,
    const struct helper_elem *e, size_t n)
{
	size_t		 len = HELPER_MSG_HDR + n * HELPER_MSG_REC;
	const char	*why;

	MW_ASSERT(t == HELPER_MSG_LOAD || t == HELPER_MSG_SET ||
	    t == HELPER_MSG_DEL);
	MW_ASSERT(n >= 1 && n <= HELPER_MSG_MAX_RECORDS && size >= len);
	put_header(buf, t, n, len);
	for (size_t i = 0; i < n; i++) {
		uint8_t	*r = buf + HELPER_MSG_HDR + i * HELPER_MSG_REC;
		bool	 v4 = mw_cidr_is_v4(&e[i].net);

		if (!helper_elem_is_valid(&e[i], &why))
			mw_panic("helper_msg: element %zu: %s", i, why);
		memset(r, 0, HELPER_MSG_REC);
		r[0] = v4 ? 4 : 6;
		r[1] = (uint8_t)mw_cidr_family_bits(&e[i].net);
		r[2] = (uint8_t)e[i].set;
		put_u32(r + 4, e[i].timeout);
		if (v4)
			memcpy(r + 8, e[i].net.addr.b + 12, 4);
		else
			memcpy(r + 8, e[i].net.addr.b, 16);
	}
	return len;
}

size_t
helper_msg_encode_status(uint8_t *buf, size_t size, bool ok, uint32_t applied,
    const char *error)
{
	size_t elen = error != NULL ? strnlen(error, HELPER_MSG_MAX_ERROR) : 0;
	size_t len = HELPER_MSG_HDR + 10 + elen;

	MW_ASSERT(size >= len);
	put_header(buf, HELPER_MSG_STATUS, 0, len);
	put_u32(buf + HELPER_MSG_HDR, ok ? 0 : 1);
	put_u32(buf + HELPER_MSG_HDR + 4, applied);
	put_u16(buf + HELPER_MSG_HDR + 8, (uint16_t)elen);
	for (size_t i = 0; i < elen; i++) {
		unsigned char c = (unsigned char)error[i];

		buf[HELPER_MSG_HDR + 10 + i] = c < 0x20 || c == 0x7f ? '?' : c;
	}
	return len;
}

static int
decode_fail(const char **error_r, const char *why)
{
	*error_r = why;
	return -1;
}

static int
decode_record(const uint8_t *r, struct helper_elem *e, const char **error_r)
{
	const char	*why;
	unsigned	 bits = r[1];

	memset(e, 0, sizeof(*e));
	if (r[3] != 0)
		return decode_fail(error_r, "reserved byte not zero");
	if (r[0] == 4) {
		for (size_t i = 12; i < 24; i++)
			if (r[i] != 0)
				return decode_fail(error_r, "IPv4 record with "
				    "bytes after the address");
		if (bits > 32)
			return decode_fail(error_r, "prefix length out of range");
		mw_addr_from_v4(get_u32(r + 8), &e->net.addr);
		e->net.bits = (uint8_t)(96 + bits);
	} else if (r[0] == 6) {
		if (bits > 128)
			return decode_fail(error_r, "prefix length out of range");
		memcpy(e->net.addr.b, r + 8, 16);
		e->net.bits = (uint8_t)bits;
		if (mw_addr_is_v4(&e->net.addr))
			return decode_fail(error_r, "IPv4-mapped address in an "
			    "IPv6 record");
	} else {
		return decode_fail(error_r, "unknown address family");
	}
	if (r[2] > HELPER_SET_ALLOW)
		return decode_fail(error_r, "unknown set");
	e->set = (enum helper_set)r[2];
	e->timeout = get_u32(r + 4);
	if (!helper_elem_is_valid(e, &why))
		return decode_fail(error_r, why);
	return 0;
}

int
helper_msg_decode(const uint8_t *buf, size_t len, struct helper_msg *m,
    const char **error_r)
{
	size_t		 count, body;
	uint8_t		 type;

	if (len < HELPER_MSG_HDR)
		return decode_fail(error_r, "message shorter than its header");
	if (len > HELPER_MSG_MAX)
		return decode_fail(error_r, "message longer than the limit");
	if (buf[0] != HELPER_MSG_VERSION)
		return decode_fail(error_r, "unknown protocol version");
	type = buf[1];
	count = get_u16(buf + 2);
	if (get_u32(buf + 4) != len)
		return decode_fail(error_r, "length field does not match the "
		    "message size");
	body = len - HELPER_MSG_HDR;
	m->type = (enum helper_msg_type)type;
	m->arg = 0;
	m->nelems = 0;
	m->ok = false;
	m->applied = 0;
	m->error[0] = '\0';
	switch (type) {
	case HELPER_MSG_END:
		if (count != 0 || body != 0)
			return decode_fail(error_r, "unexpected body");
		return 0;
	case HELPER_MSG_HELLO:
	case HELPER_MSG_BEGIN:
	case HELPER_MSG_FLUSH:
		if (count != 0 || body != 4)
			return decode_fail(error_r, "body is not 4 bytes");
		m->arg = get_u32(buf + HELPER_MSG_HDR);
		if (type == HELPER_MSG_FLUSH && (m->arg == 0 || (m->arg &
		    ~(HELPER_FLUSH_BANS | HELPER_FLUSH_ALLOW)) != 0))
			return decode_fail(error_r, "unknown flush mask");
		if (type != HELPER_MSG_FLUSH && m->arg == 0)
			return decode_fail(error_r, "pid 0");
		return 0;
	case HELPER_MSG_LOAD:
	case HELPER_MSG_SET:
	case HELPER_MSG_DEL:
		if (count == 0 || count > HELPER_MSG_MAX_RECORDS)
			return decode_fail(error_r, "record count out of range");
		if (body != count * HELPER_MSG_REC)
			return decode_fail(error_r, "record count does not match "
			    "the length");
		for (size_t i = 0; i < count; i++)
			if (decode_record(buf + HELPER_MSG_HDR +
			    i * HELPER_MSG_REC, &m->elems[i], error_r) < 0)
				return -1;
		m->nelems = count;
		return 0;
	case HELPER_MSG_STATUS: {
		size_t elen;

		if (count != 0 || body < 10)
			return decode_fail(error_r, "status shorter than 10 bytes");
		if (get_u32(buf + HELPER_MSG_HDR) > 1)
			return decode_fail(error_r, "status result not 0 or 1");
		elen = get_u16(buf + HELPER_MSG_HDR + 8);
		if (elen > HELPER_MSG_MAX_ERROR || body != 10 + elen)
			return decode_fail(error_r, "status error length out of "
			    "range");
		for (size_t i = 0; i < elen; i++) {
			uint8_t c = buf[HELPER_MSG_HDR + 10 + i];

			if (c < 0x20 || c == 0x7f)
				return decode_fail(error_r, "control character "
				    "in status text");
			m->error[i] = (char)c;
		}
		m->error[elen] = '\0';
		m->ok = get_u32(buf + HELPER_MSG_HDR) == 0;
		m->applied = get_u32(buf + HELPER_MSG_HDR + 4);
		return 0;
	}
	default:
		return decode_fail(error_r, "unknown message type");
	}
}
