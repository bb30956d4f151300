/*
 * fuzz_fetch.c - fs/fetch.c (the pager: page counts from hostile totals,
 * de-duplication across pages) with a fake cloud, then render_snapshot.
 *
 * Input: byte 0 picks the connection (tencent, ctyun, baidu, alaya, from a
 * fixed config) and its kind; byte 1 the HTTP status of every reply (as in
 * fuzz_reply.h); the rest is the reply bodies of pages 0, 1, 2... separated
 * by "@@@" (the last one repeats). One worker (concurrency = 1) keeps a run
 * deterministic; retries = 0 and a deadline 0.2 s ahead keep it fast; after
 * FAKE_MAX_CALLS requests the fake cloud fails, so a total promising 10^15
 * objects ends quickly.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "clock.h"
#include "fetch.h"
#include "fuzz_reply.h"
#include "ratelimit.h"

#define FAKE_MAX_CALLS 40

static struct config fuzz_cfg;

static const char fuzz_cfg_text[] =
    "[gpucloudfs]\nretries = 0\n"
    "[tencent]\nsecret_id = fuzz-id\nsecret_key = fuzz-key\nregion = ap-guangzhou\n"
    "concurrency = 1\n"
    "[ctyun]\naccess_key = fuzz-ak\nsecret_key = fuzz-sk\nregion_id = 200000001852\n"
    "concurrency = 1\n"
    "[baidu]\naccess_key = fuzz-ak\nsecret_key = fuzz-sk\nconcurrency = 1\n"
    "[alaya]\napi_key = fuzz-key\nconcurrency = 1\n";

struct fake {
	const uint8_t *data;
	size_t size;
	long status;
	unsigned calls;
};

static time_t fake_now(void)
{
	return 1714552200;
}

static int fake_perform(void *ctx, const struct http_req *rq, struct http_resp *rs,
			uint64_t deadline_ns, struct gcf_error *err)
{
	struct fake *f = ctx;
	const uint8_t *p = f->data, *end = f->data + f->size, *sep;
	unsigned idx = f->calls++;

	if (idx >= FAKE_MAX_CALLS)
		return gcf_error_set(err, GCF_TRANSPORT, "fake cloud: too many requests");
	/* body idx, or the last one */
	for (unsigned i = 0;; i++) {
		sep = memmem(p, (size_t)(end - p), "@@@", 3);
		if (i == idx || !sep)
			break;
		p = sep + 3;
	}
	rs->status = f->status;
	if (buf_add(&rs->body, p, (size_t)((sep ? sep : end) - p)))
		return gcf_error_set(err, GCF_REPLY, "fake cloud: reply over the cap");
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char path[] = "/tmp/gcf-fuzz-fetch.XXXXXX";
	struct gcf_error err = GCF_ERROR_INIT;
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, fuzz_cfg_text, sizeof(fuzz_cfg_text) - 1) < 0) {
		perror("fuzz_fetch: config");
		exit(1);
	}
	close(fd);
	if (config_load(path, &fuzz_cfg, &err)) {
		fprintf(stderr, "fuzz_fetch: config: %s\n", err.message ? err.message : "?");
		unlink(path);
		exit(1);
	}
	unlink(path);
	gcf_error_release(&err);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fake f = {0};
	struct fetch_io io = {0};
	struct ratelimit rl;
	struct listing l = {0};
	struct fetch_stats st = {0};
	struct gcf_error err = GCF_ERROR_INIT;
	const struct conn *c;
	const struct kind *k;
	size_t nk = 0;
	int rc;

	if (size < 2 || fuzz_cfg.nconns == 0)
		return 0;
	c = fuzz_cfg.conns[(data[0] & 0x0f) % fuzz_cfg.nconns];
	for (k = c->prov->kinds; k->dir; k++)
		nk++;
	k = &c->prov->kinds[(data[0] >> 4) % nk];
	f.status = fuzz_statuses[data[1] & 15];
	f.data = data + 2;
	f.size = size - 2;
	if (fuzz_skipped("status-cast") && memmem(f.data, f.size, "\"status\"", 8))
		return 0; /* cannot tell a huge status cheaply here: skip them all */
	io.perform = fake_perform;
	io.ctx = &f;
	io.wall_now = fake_now;
	io.max_body = 1u << 20;
	if (ratelimit_init(&rl, 0))
		return 0;
	/* a close deadline bounds any wait (Retry-After, throttling) */
	rc =
	    fetch_listing(&io, c, k, NULL, NULL, &rl, clock_now_ns() + 200000000ull, &l, &st, &err);
	fuzz_check_error(rc, &err, "fetch_listing");
	if (!rc) {
		struct snapshot *snap = NULL;
		size_t nobj = 0;

		FUZZ_CHECK(l.nitems == 0 || l.items, "listing items NULL");
		for (size_t i = 0; i < l.nitems; i++)
			nobj += cJSON_IsObject(l.items[i]);
		gcf_error_release(&err);
		rc = render_snapshot(k, l.items, l.nitems, 1714552200, &snap, &err);
		fuzz_check_error(rc, &err, "render_snapshot");
		if (!rc)
			fuzz_check_snapshot(snap, nobj, true);
		snapshot_put(snap);
	}
	listing_release(&l);
	gcf_error_release(&err);
	ratelimit_release(&rl);
	return 0;
}
