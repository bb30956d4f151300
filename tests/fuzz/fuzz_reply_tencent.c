/* fuzz_reply_tencent.c - provider_tencent's replies through reply_error, parse_page
 * and render_snapshot; see fuzz_reply.h. */
#define FUZZ_PROVIDER provider_tencent
#include "fuzz_reply.h"
