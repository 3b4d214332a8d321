/*
 * fuzz_enforce_helper_msg - datagrams into the firewall helper's decoder,
 * as the helper's recv() would deliver them. Whatever decodes must encode
 * back to the very same bytes (element records, STATUS, the fixed
 * messages): the decoder accepts nothing the encoder could not have
 * written, so no two datagrams mean the same thing.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "enforce/helper_msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct helper_msg	msg;
static uint8_t			out[HELPER_MSG_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*error = NULL;
	size_t		 len = 0;

	if (helper_msg_decode(data, size, &msg, &error) < 0) {
		if (error == NULL || error[0] == '\0')
			abort();
		return 0;
	}
	switch (msg.type) {
	case HELPER_MSG_HELLO:
	case HELPER_MSG_BEGIN:
	case HELPER_MSG_END:
	case HELPER_MSG_FLUSH:
		len = helper_msg_encode(out, sizeof(out), msg.type, msg.arg);
		break;
	case HELPER_MSG_LOAD:
	case HELPER_MSG_SET:
	case HELPER_MSG_DEL:
		for (size_t i = 0; i < msg.nelems; i++)
			if (!helper_elem_is_valid(&msg.elems[i], &error))
				abort();
		len = helper_msg_encode_elems(out, sizeof(out), msg.type,
		    msg.elems, msg.nelems);
		break;
	case HELPER_MSG_STATUS:
		len = helper_msg_encode_status(out, sizeof(out), msg.ok,
		    msg.applied, msg.error);
		break;
	default:
		abort();
	}
	if (len != size || memcmp(out, data, size) != 0)
		abort();
	return 0;
}
