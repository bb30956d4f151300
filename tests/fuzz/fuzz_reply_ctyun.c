/* fuzz_reply_ctyun.c - provider_ctyun's replies through reply_error, parse_page
 * and render_snapshot; see fuzz_reply.h. */
#define FUZZ_PROVIDER provider_ctyun
#include "fuzz_reply.h"
