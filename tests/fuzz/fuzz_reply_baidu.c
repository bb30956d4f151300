/* fuzz_reply_baidu.c - provider_baidu's replies through reply_error, parse_page
 * and render_snapshot; see fuzz_reply.h. */
#define FUZZ_PROVIDER provider_baidu
#include "fuzz_reply.h"
