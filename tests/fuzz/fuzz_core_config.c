/*
 * fuzz_core_config - mailward.conf parsing: any bytes must give either a
 * valid cfg or an error text, never a crash, leak or hang.
 */
#include <stdint.h>
#include <stdlib.h>

#include "core/cfg.h"
#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg	*c = NULL;
	char		*error = NULL;

	log_set_level(LOG_LEVEL_ERROR);
	if (cfg_load_string((const char *)data, size, "fuzz.conf", &c,
	    &error) == 0) {
		FILE *devnull = fopen("/dev/null", "w");

		if (devnull != NULL) {
			cfg_dump(c, devnull);
			fclose(devnull);
		}
		cfg_free(&c);
	} else if (error == NULL) {
		abort();	/* a failure must say why */
	}
	free(error);
	return 0;
}
