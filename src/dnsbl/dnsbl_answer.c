/*
 * dnsbl_answer - what the A records of one DNSBL answer mean.
 *
 * Each answer is judged alone, then the zone's verdict is taken over all
 * of them (an address can sit in several sublists: SBL .2 with DROP .9,
 * XBL .4 with PBL .10). Rules, in order:
 *   127.255.255.0/24  the zone refused to answer (Spamhaus error codes):
 *                     the whole answer is DNSBL_REFUSED, never a listing;
 *   outside 127/8     bogus (wildcarded or hijacked zone): ignored;
 *   other 127/8       the first cfg_zone_code rule whose range holds it,
 *                     else default_weight with class LISTED.
 * Weight: the most negative of the ALLOW (DNSWL) answers if there is one,
 * else the largest of the others. PBL answers weigh 0 for submission.
 * Pure: no I/O, no allocation, no globals.
 */
#include <string.h>

#include "dnsbl/dnsbl.h"

#define DNSBL_ERROR_NET		0x7fffff00u	/* 127.255.255.0/24 */
#define DNSBL_LOOPBACK_NET	0x7f000000u	/* 127.0.0.0/8 */

static void
dnsbl_answer_code(const struct cfg_zone *zone, uint32_t a, bool submission,
    int32_t *weight_r, enum dnsbl_class *klass_r)
{
	*weight_r = zone->default_weight;
	*klass_r = DNSBL_CLASS_LISTED;
	for (size_t i = 0; i < zone->ncodes && i < CFG_MAX_ZONE_CODES; i++) {
		const struct cfg_zone_code *c = &zone->codes[i];

		if (a >= c->first && a <= c->last) {
			*weight_r = c->weight;
			*klass_r = c->klass;
			break;
		}
	}
	/* End-user ranges: home users log in and submit from there. */
	if (*klass_r == DNSBL_CLASS_PBL && submission)
		*weight_r = 0;
}

void
dnsbl_answer_eval(const struct cfg_zone *zone, const uint32_t *answers,
    size_t nanswers, bool submission, struct dnsbl_zone_result *r)
{
	size_t		 n = nanswers < DNSBL_MAX_ANSWERS ? nanswers :
			    DNSBL_MAX_ANSWERS;
	size_t		 pick = 0, refused_at = 0;
	bool		 listed = false, allow = false, refused = false;
	int32_t		 weight = 0;
	enum dnsbl_class klass = DNSBL_CLASS_LISTED;

	r->zone = zone;
	r->nanswers = n;
	if (n > 0)
		memcpy(r->answers, answers, n * sizeof(answers[0]));
	/* Records past DNSBL_MAX_ANSWERS are still judged (an error code
	   must never hide behind eight listings). */
	for (size_t i = 0; i < nanswers; i++) {
		uint32_t	 a = answers[i];
		int32_t		 w;
		enum dnsbl_class c;

		if ((a & 0xffffff00u) == DNSBL_ERROR_NET) {
			if (!refused)
				refused_at = i;
			refused = true;
			continue;
		}
		if ((a & 0xff000000u) != DNSBL_LOOPBACK_NET)
			continue;
		dnsbl_answer_code(zone, a, submission, &w, &c);
		if (c == DNSBL_CLASS_ALLOW) {
			if (!allow || w < weight) {
				weight = w;
				klass = c;
				pick = i;
			}
			allow = true;
		} else if (!allow && (!listed || w > weight)) {
			weight = w;
			klass = c;
			pick = i;
		}
		listed = true;
	}
	if (refused) {
		r->status = DNSBL_REFUSED;
		r->weight = 0;
		r->klass = DNSBL_CLASS_LISTED;
		pick = refused_at;
	} else if (!listed) {
		r->status = DNSBL_NOT_LISTED;
		r->weight = 0;
		r->klass = DNSBL_CLASS_LISTED;
		pick = 0;
	} else {
		r->status = DNSBL_LISTED;
		r->weight = weight;
		r->klass = klass;
	}
	/* The record that decided goes first: callers print answers[0]. */
	if (pick > 0) {
		if (pick < n) {
			uint32_t t = r->answers[0];

			r->answers[0] = r->answers[pick];
			r->answers[pick] = t;
		} else
			r->answers[0] = answers[pick];
	}
}

const char *
dnsbl_status_name(enum dnsbl_status s)
{
	switch (s) {
	case DNSBL_NOT_LISTED:	return "not_listed";
	case DNSBL_LISTED:	return "listed";
	case DNSBL_REFUSED:	return "refused";
	case DNSBL_TIMEOUT:	return "timeout";
	case DNSBL_FAILED:	return "failed";
	case DNSBL_SKIPPED:	return "skipped";
	}
	return "unknown";
}

const char *
dnsbl_class_name(enum dnsbl_class c)
{
	switch (c) {
	case DNSBL_CLASS_LISTED:	return "LISTED";
	case DNSBL_CLASS_SBL:		return "SBL";
	case DNSBL_CLASS_CSS:		return "CSS";
	case DNSBL_CLASS_XBL:		return "XBL";
	case DNSBL_CLASS_DROP:		return "DROP";
	case DNSBL_CLASS_PBL:		return "PBL";
	case DNSBL_CLASS_ALLOW:		return "ALLOW";
	}
	return "unknown";
}
