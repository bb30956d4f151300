/*
 * fuzz_reply.h - the body of the fuzz_reply_<provider> targets.
 *
 * Each fuzz_reply_<provider>.c defines FUZZ_PROVIDER (the provider table)
 * and includes this file. One input is one HTTP reply:
 *
 *   byte 0      HTTP status (low 4 bits index fuzz_statuses[]); bit 4 = a
 *               RequestId header came with it
 *   bytes 1..   the reply body
 *
 * and it goes the way fs/fetch.c takes a page: cJSON_ParseWithLength ->
 * prov->reply_error -> kind->parse_page (every kind of the provider) ->
 * render_snapshot on the items -> snapshot_put. parse_page is also tried on
 * trees that reply_error refused: a parser must survive any tree, and it
 * reaches more code (whether the real path would have got there is printed
 * with the crash, "reachable").
 *
 * Invariants checked besides ASan/UBSan/LeakSanitizer: an error return sets
 * the gcf_error record (errno = -rc, a message); a page's items are NULL or
 * an array; the snapshot's entries are sorted, unique, safe names; every
 * entry has info.json, sorted unique safe file names, NUL-terminated data
 * and a one-line JSON ending in '\n'.
 */
#ifndef GCF_FUZZ_REPLY_H
#define GCF_FUZZ_REPLY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fuzz_common.h"
#include "gcf_error.h"
#include "http.h"
#include "provider.h"
#include "render.h"
#include "snapshot.h"

static const long fuzz_statuses[16] = {200, 200, 200, 200, 200, 200, 201, 204,
				       400, 401, 403, 404, 429, 500, 503, 0};

static inline void fuzz_check_error(int rc, const struct gcf_error *e, const char *who)
{
	struct buf line = BUF_INIT(BUF_NOLIMIT);

	FUZZ_CHECK(rc <= 0, "%s returned %d", who, rc);
	if (rc == 0)
		return;
	FUZZ_CHECK(e->errnum == -rc, "%s returned %d but err.errnum is %d", who, rc, e->errnum);
	FUZZ_CHECK(e->cls != GCF_OK, "%s failed with class GCF_OK", who);
	FUZZ_CHECK(e->message != NULL, "%s failed without a message", who);
	FUZZ_CHECK(gcf_error_format(e, &line) == 0, "gcf_error_format failed");
	buf_release(&line);
}

static inline void fuzz_check_snapshot(const struct snapshot *s, size_t nobjects, bool reachable)
{
	FUZZ_CHECK(s->nentries <= nobjects, "%zu entries from %zu objects", s->nentries, nobjects);
	{
		/* the .jsonl: one compact line per entry, each ending in a newline */
		const char *jl;
		size_t jlen, lines = 0;

		FUZZ_CHECK(snapshot_jsonl((struct snapshot *)s, &jl, &jlen) == 0,
			   "snapshot_jsonl failed");
		for (size_t k = 0; k < jlen; k++)
			lines += jl[k] == '\n';
		FUZZ_CHECK(lines == s->nentries && (!jlen || jl[jlen - 1] == '\n'),
			   "jsonl has %zu lines for %zu entries", lines, s->nentries);
	}
	FUZZ_CHECK(atomic_load(&s->refs) == 1, "a new snapshot holds %u references",
		   atomic_load(&s->refs));
	for (size_t i = 0; i < s->nentries; i++) {
		const struct entry *e = &s->entries[i];
		const char *why = fuzz_name_problem(e->name, e->name ? strlen(e->name) : 0);
		bool has_info = false;

		if (fuzz_known_skip(why, fuzz_why_long, "dedup-length"))
			why = NULL;
		if (why) {
			fuzz_dump("entry name", e->name ? e->name : "",
				  e->name ? strlen(e->name) : 0);
			fuzz_dump("its id", e->id ? e->id : "", e->id ? strlen(e->id) : 0);
		}
		if (why == fuzz_why_long)
			FUZZ_CHECK_KNOWN("dedup-length", false, "entry name %s (reachable: %d)",
					 why, reachable);
		else
			FUZZ_CHECK(!why, "entry name %s (reachable: %d)", why, reachable);
		FUZZ_CHECK(e->id != NULL, "entry without an id");
		FUZZ_CHECK(
		    i == 0 || strcmp(s->entries[i - 1].name, e->name) < 0,
		    "entries not sorted or not unique at %zu: '%s' then '%s' (reachable: %d)", i,
		    i ? s->entries[i - 1].name : "", e->name, reachable);
		FUZZ_CHECK(snapshot_find(s, e->name) == e, "snapshot_find misses '%s'", e->name);
		FUZZ_CHECK(e->nfiles == 0 || e->files, "files NULL");
		for (size_t j = 0; j < e->nfiles; j++) {
			const struct file *f = &e->files[j];
			const char *fwhy =
			    fuzz_name_problem(f->name, f->name ? strlen(f->name) : 0);

			if (fuzz_known_skip(fwhy, fuzz_why_utf8, "snake-utf8"))
				fwhy = NULL;
			if (fwhy)
				fuzz_dump("file name", f->name ? f->name : "",
					  f->name ? strlen(f->name) : 0);
			if (fwhy == fuzz_why_utf8)
				FUZZ_CHECK_KNOWN("snake-utf8", false,
						 "file name %s (reachable: %d)", fwhy, reachable);
			else
				FUZZ_CHECK(!fwhy, "file name %s (reachable: %d)", fwhy, reachable);
			FUZZ_CHECK(j == 0 || strcmp(e->files[j - 1].name, f->name) < 0,
				   "files not sorted or not unique: '%s' then '%s'",
				   j ? e->files[j - 1].name : "", f->name);
			{ /* rendered on demand: the bytes measured at render */
				const char *p;
				char *owned;
				size_t len;

				FUZZ_CHECK(snapshot_file_read((struct snapshot *)s, f, 0, f->size,
							      &owned, &p, &len) == 0 &&
					       len == f->size,
					   "file '%s' does not read back", f->name);
				free(owned);
			}
			FUZZ_CHECK(entry_file(e, f->name) == f, "entry_file misses '%s'", f->name);
			if (!strcmp(f->name, "info.json"))
				has_info = true;
		}
		FUZZ_CHECK(has_info, "entry '%s' has no info.json", e->name);
	}
}

static inline void fuzz_one_kind(const struct kind *k, const cJSON *tree, bool reachable)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct page page = {(const cJSON *)0x1, -2, -2}; /* parse_page must set all */
	const cJSON **items = NULL;
	const cJSON *it;
	struct snapshot *snap = NULL;
	size_t n = 0, nobj = 0;
	int rc;

	rc = k->parse_page(tree, &page, &err);
	fuzz_check_error(rc, &err, "parse_page");
	gcf_error_release(&err);
	if (rc)
		return;
	FUZZ_CHECK(page.items == NULL || cJSON_IsArray(page.items),
		   "parse_page gave items that are not an array");
	FUZZ_CHECK(page.total >= -1 && page.pages >= -1, "total %ld pages %ld", page.total,
		   page.pages);
	if (page.items) {
		n = (size_t)cJSON_GetArraySize(page.items);
		items = calloc(n ? n : 1, sizeof(*items));
		if (!items)
			return;
		n = 0;
		cJSON_ArrayForEach(it, page.items)
		{
			items[n++] = it;
			nobj += cJSON_IsObject(it);
		}
	}
	rc = render_snapshot(k, items, n, 1714552200, &snap, &err);
	fuzz_check_error(rc, &err, "render_snapshot");
	if (!rc) {
		FUZZ_CHECK(snap != NULL, "render_snapshot returned 0 and no snapshot");
		fuzz_check_snapshot(snap, nobj, reachable);
	} else {
		FUZZ_CHECK(snap == NULL, "render_snapshot failed but gave a snapshot");
	}
	snapshot_put(snap);
	gcf_error_release(&err);
	free(items);
}

/* A top-level "status" number no long can hold: the known bug tagged
 * status-cast (alaya_reply_error casts it to long; UBSan stops there). */
static inline bool fuzz_huge_status(const cJSON *tree)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(tree, "status");

	return cJSON_IsNumber(st) && !(st->valuedouble > -9.2e18 && st->valuedouble < 9.2e18);
}

#ifdef FUZZ_PROVIDER /* fuzz_fetch.c includes only the checks */
extern const struct provider FUZZ_PROVIDER;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct provider *p = &FUZZ_PROVIDER;
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_resp rs;
	cJSON *tree;
	int rc;

	if (size < 1)
		return 0;
	http_resp_init(&rs, 1u << 20);
	rs.status = fuzz_statuses[data[0] & 15];
	if (data[0] & 0x10) {
		rs.request_id = strdup("fuzz-request-id");
		if (!rs.request_id)
			return 0;
	}
	if (buf_add(&rs.body, data + 1, size - 1)) {
		http_resp_release(&rs);
		return 0;
	}
	/* exactly as fs/fetch.c: the capped, NUL-terminated body */
	tree = cJSON_ParseWithLength(buf_str(&rs.body), rs.body.len);
	if (fuzz_skipped("status-cast") && fuzz_huge_status(tree))
		goto out;
	rc = p->reply_error(&rs, tree, &err);
	fuzz_check_error(rc, &err, "reply_error");
	gcf_error_release(&err);
	if (tree)
		for (const struct kind *k = p->kinds; k->dir; k++)
			fuzz_one_kind(k, tree, rc == 0);
out:
	cJSON_Delete(tree);
	http_resp_release(&rs);
	return 0;
}

#endif /* FUZZ_PROVIDER */

#endif
