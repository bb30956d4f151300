/* fuzz_reply_alaya.c - provider_alaya's replies through reply_error, parse_page
 * and render_snapshot; see fuzz_reply.h. */
#define FUZZ_PROVIDER provider_alaya
#include "fuzz_reply.h"
