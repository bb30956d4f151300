/*
 * fuzz_snapfile.c - fs/snapfile.c's decoder against hostile bytes (a cache
 * file or Redis chunks anyone may have written).
 *
 * Input: byte 0 chooses the mode, the rest are the bytes to decode.
 *   bit 0: "reseal": set the header's total length to the size and
 *          recompute the SHA-256 trailer first, so that the fuzzer gets past
 *          the checksum and reaches the record parser;
 *   bit 1: pass the header's own key as the expected one (else NULL);
 *   bit 2: pass an error record and a meta (else NULL for both).
 * Checked:
 *   - snapfile_decode returns 0, -EINVAL (error record set, errno EINVAL,
 *     a message) or -ENOMEM, and never reads outside the input (ASan);
 *   - when it returns 0 the snapshot keeps snapshot.h's rules: entries and
 *     each entry's files in strictly increasing strcmp order, names
 *     non-empty without '/', every string NUL-terminated at its size, and
 *     snapshot_find finds every entry; a file's bytes are kept exactly when
 *     it says so (FILE_STORED, or FILE_SOURCE: the entry's JSON);
 *   - reading every file (rendered from the entry's JSON, which is not
 *     checked at decode) gives 0 with exactly its size in bytes, or -EIO;
 *   - canonical: the decoded snapshot and meta encode to exactly the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crypto.h"
#include "fuzz_common.h"
#include "gcf_error.h"
#include "snapfile.h"
#include "snapshot.h"

static void check_name(const char *what, const char *name)
{
	size_t n = strlen(name);

	FUZZ_CHECK(n > 0, "%s: an empty name", what);
	FUZZ_CHECK(!memchr(name, '/', n), "%s: '/' in a name", what);
	FUZZ_CHECK(strcmp(name, ".") && strcmp(name, ".."), "%s: '.' or '..'", what);
}

static void check_snapshot(struct snapshot *s)
{
	for (size_t i = 0; i < s->nentries; i++) {
		const struct entry *e = &s->entries[i];

		check_name("entry", e->name);
		FUZZ_CHECK(e->id != NULL, "entry %zu has no id", i);
		FUZZ_CHECK(i == 0 || strcmp(s->entries[i - 1].name, e->name) < 0,
			   "entries out of order at %zu", i);
		FUZZ_CHECK(snapshot_find(s, e->name) == e, "snapshot_find misses entry %zu", i);
		for (size_t j = 0; j < e->nfiles; j++) {
			const struct file *f = &e->files[j];
			const char *p;
			char *owned;
			size_t len;
			int rc;

			check_name("file", f->name);
			FUZZ_CHECK(j == 0 || strcmp(e->files[j - 1].name, f->name) < 0,
				   "files out of order in entry %zu", i);
			FUZZ_CHECK(f->how <= FILE_HOW_MAX, "file made in no known way");
			FUZZ_CHECK(!f->data == (f->how != FILE_STORED && f->how != FILE_SOURCE),
				   "file kept or not against its how");
			FUZZ_CHECK(!f->data || f->data[f->size] == '\0',
				   "file data not NUL-terminated");
			FUZZ_CHECK(f->how != FILE_SOURCE || f->data == e->json, "source not json");
			FUZZ_CHECK(entry_file(e, f->name) == f, "entry_file misses a file");
			FUZZ_CHECK(snapshot_file_entry(s, f) == e, "snapshot_file_entry misses");
			rc = snapshot_file_read(s, f, 0, f->size, &owned, &p, &len);
			FUZZ_CHECK(rc == 0 || rc == -EIO || rc == -ENOMEM, "read: %d", rc);
			FUZZ_CHECK(rc || len == f->size, "read %zu of %u bytes", len,
				   (unsigned)f->size);
			free(owned);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapfile_meta m;
	struct snapfile_key key;
	struct snapshot *s = NULL;
	struct buf again = BUF_INIT(BUF_NOLIMIT);
	unsigned mode;
	uint8_t *p;
	size_t n;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0];
	n = size - 1;
	p = malloc(n ? n : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, n);
	if ((mode & 1) && n >= SNAPFILE_HEADER_LEN + SNAPFILE_SUM_LEN) {
		for (int i = 0; i < 8; i++)
			p[16 + i] = (uint8_t)((uint64_t)n >> (8 * i));
		crypto_sha256(p, n - SNAPFILE_SUM_LEN, p + n - SNAPFILE_SUM_LEN);
	}
	if (n >= 24 + SNAPFILE_KEY_LEN)
		memcpy(key.hash, p + 24, SNAPFILE_KEY_LEN);
	else
		memset(key.hash, 0, SNAPFILE_KEY_LEN);
	snapfile_meta_init(&m);
	if (mode & 4)
		rc = snapfile_decode(p, n, (mode & 2) ? &key : NULL, &s, &m, &err);
	else
		rc = snapfile_decode(p, n, (mode & 2) ? &key : NULL, &s, NULL, NULL);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "snapfile_decode returned %d", rc);
	if (rc) {
		FUZZ_CHECK(s == NULL, "a failed decode left a snapshot");
		if ((mode & 4) && rc == -EINVAL)
			FUZZ_CHECK(err.errnum == EINVAL && err.message, "no error record");
		FUZZ_CHECK(m.kind == NULL && m.extra == NULL, "a failed decode filled the meta");
		goto out;
	}
	check_snapshot(s);
	if (mode & 4) {
		FUZZ_CHECK(m.kind != NULL, "no kind in the meta");
		rc = snapfile_encode(s, &m, &again);
		FUZZ_CHECK(rc == 0 || rc == -ENOMEM, "re-encoding a decoded snapshot: %d", rc);
		if (!rc) {
			if (again.len != n || memcmp(again.p, p, n)) {
				fuzz_dump("input", p, n);
				fuzz_dump("again", again.p, again.len);
			}
			FUZZ_CHECK(again.len == n && !memcmp(again.p, p, n),
				   "decode then encode does not give the same bytes");
		}
	}
out:
	snapshot_put(s);
	snapfile_meta_release(&m);
	gcf_error_release(&err);
	buf_release(&again);
	free(p);
	return 0;
}
