/*
 * test_snapfile.c - fs/snapfile.c: a snapshot encodes to bytes that decode
 * to an equal snapshot (and re-encode to the same bytes); the key is a hash
 * of the identity that tells every field apart; and decoding refuses, with
 * -EINVAL and a message, every truncation, every flipped byte, another
 * version, another key, and checksummed bytes whose records lie (bad names,
 * order, counts). Also a 100,000-entry timing (GCF_SNAPFILE_BENCH=full for
 * the ~250 MB size of issue 10).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "crypto.h"
#include "gcf_error.h"
#include "snap_helpers.h"
#include "snapfile.h"

/* Encodes s with m into a fresh buf. */
static struct buf encode(const struct snapshot *s, const struct snapfile_meta *m)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(snapfile_encode(s, m, &b), 0);
	assert_non_null(b.p);
	return b;
}

/* Recomputes the trailer, so that a test reaches the checks behind it. */
static void reseal(struct buf *b)
{
	assert_int_equal(crypto_sha256(b->p, b->len - SNAPFILE_SUM_LEN,
				       (uint8_t *)b->p + b->len - SNAPFILE_SUM_LEN),
			 0);
}

/* Decodes and expects -EINVAL with a message containing want. */
static void expect_refused(const void *p, size_t len, const struct snapfile_key *key,
			   const char *want)
{
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapfile_meta m;
	struct snapshot *s = (struct snapshot *)&err; /* must be reset to NULL */

	snapfile_meta_init(&m);
	assert_int_equal(snapfile_decode(p, len, key, &s, &m, &err), -EINVAL);
	assert_null(s);
	assert_null(m.kind);
	assert_int_equal(err.errnum, EINVAL);
	assert_non_null(err.message);
	if (want && !strstr(err.message, want))
		fail_msg("message '%s' lacks '%s'", err.message, want);
	gcf_error_release(&err);
}

static void test_snapfile_round_trip_rendered(void **state)
{
	struct snapshot *s = snap_rendered(), *d = NULL;
	struct snapfile_meta m, got;
	struct gcf_error err = GCF_ERROR_INIT;
	unsigned char extra[3] = {0, 0xff, 7};
	struct buf b, again;
	const char *jsonl;
	size_t jlen;

	snap_meta(&m, "AKIDtest");
	m.extra = extra;
	m.extra_len = sizeof(extra);
	b = encode(s, &m);
	snapfile_meta_init(&got);
	assert_int_equal(snapfile_decode(b.p, b.len, &m.key, &d, &got, &err), 0);
	assert_int_equal(err.errnum, 0);
	snap_assert_equal(s, d);
	assert_int_equal(s->nentries, 4); /* train/c and the dup are there */
	assert_non_null(snapshot_find(d, "train%2Fc"));
	assert_non_null(entry_file(snapshot_find(d, "train-b"), "framework_name"));
	assert_int_equal(d->fetched_ns, 0);
	assert_int_equal(d->gen, 0);
	/* the lazy jsonl works on a decoded snapshot */
	assert_int_equal(snapshot_jsonl(d, &jsonl, &jlen), 0);
	assert_non_null(strstr(jsonl, "\"bert\""));

	assert_memory_equal(got.key.hash, m.key.hash, SNAPFILE_KEY_LEN);
	assert_string_equal(got.kind, "tasks");
	assert_int_equal(got.wm_time_s, 1714552200);
	assert_int_equal(got.wm_count, 2);
	assert_int_equal(got.wm_total, 4);
	assert_int_equal(got.extra_len, 3);
	assert_memory_equal(got.extra, extra, 3);

	/* canonical: the decoded snapshot encodes to the very same bytes */
	again = encode(d, &got);
	assert_int_equal(again.len, b.len);
	assert_memory_equal(again.p, b.p, b.len);

	/* appending keeps what out held */
	assert_int_equal(buf_addstr(&again, ""), 0);
	assert_int_equal(snapfile_encode(s, &m, &again), 0);
	assert_int_equal(again.len, 2 * b.len);
	assert_memory_equal(again.p + b.len, b.p, b.len);

	snapfile_meta_release(&got);
	assert_null(got.kind);
	buf_release(&b);
	buf_release(&again);
	snapshot_put(s);
	snapshot_put(d);
}

static void test_snapfile_round_trip_empty_and_no_meta(void **state)
{
	struct snapshot *s = snap_synthetic(0, 0, 0), *d = NULL;
	struct snapfile_meta m;
	struct buf b;

	snap_meta(&m, NULL);
	b = encode(s, &m);
	/* the header, the kind, an empty name table (its count), the sum */
	assert_int_equal(b.len, SNAPFILE_HEADER_LEN + strlen("tasks") + 4 + SNAPFILE_SUM_LEN);
	/* meta and error record are optional */
	assert_int_equal(snapfile_decode(b.p, b.len, NULL, &d, NULL, NULL), 0);
	assert_int_equal(d->nentries, 0);
	assert_null(snapshot_find(d, "x"));
	snapshot_put(d);
	buf_release(&b);
	snapshot_put(s);
}

static void test_snapfile_key_tells_every_field_apart(void **state)
{
	struct snapfile_identity base = {"tencent", "https://e", "ap-shanghai",
					 "AKID",    "tasks",     NULL};
	struct snapfile_identity v[8];
	struct snapfile_key k[9];
	char hex[65];

	for (int i = 0; i < 8; i++)
		v[i] = base;
	v[0].provider = "ctyun";
	v[1].endpoint = "https://f";
	v[2].region = "ap-guangzhou";
	v[3].access_key_id = "AKID2";
	v[4].kind = "services";
	v[5].filter = "Status=RUNNING";
	v[6].filter = ""; /* "" is not absent */
	v[7].provider = "tencenthttps://e";
	v[7].endpoint = ""; /* no ambiguity across field boundaries */
	assert_int_equal(snapfile_key_init(&k[8], &base), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(snapfile_key_init(&k[i], &v[i]), 0);
		assert_memory_not_equal(k[i].hash, k[8].hash, SNAPFILE_KEY_LEN);
		for (int j = 0; j < i; j++)
			assert_memory_not_equal(k[i].hash, k[j].hash, SNAPFILE_KEY_LEN);
	}
	/* stable */
	assert_int_equal(snapfile_key_init(&k[0], &base), 0);
	assert_memory_equal(k[0].hash, k[8].hash, SNAPFILE_KEY_LEN);
	snapfile_key_hex(&k[8], hex);
	assert_int_equal(strlen(hex), 64);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 64);
}

static void test_snapfile_refuses_another_key_and_version(void **state)
{
	struct snapshot *s = snap_rendered();
	struct snapfile_meta m, other;
	struct snapfile_header h;
	struct gcf_error err = GCF_ERROR_INIT;
	struct buf b;

	snap_meta(&m, "AKIDtest");
	snap_meta(&other, "AKIDother");
	b = encode(s, &m);
	expect_refused(b.p, b.len, &other.key, "another collection");
	assert_int_equal(snapfile_peek(b.p, b.len, &other.key, &h, &err), -EINVAL);
	assert_int_equal(snapfile_peek(b.p, SNAPFILE_HEADER_LEN, &m.key, &h, &err), 0);
	assert_int_equal(h.total_len, b.len);
	assert_int_equal(h.version, SNAPFILE_VERSION);
	assert_int_equal(h.nentries, 4);

	b.p[8] = SNAPFILE_VERSION + 1; /* version, little-endian */
	reseal(&b);
	expect_refused(b.p, b.len, &m.key, "version 2");
	b.p[8] = SNAPFILE_VERSION;
	b.p[0] = 'X';
	reseal(&b);
	expect_refused(b.p, b.len, &m.key, "not a gpucloudfs snapshot");
	expect_refused("", 0, NULL, "truncated");
	gcf_error_release(&err);
	buf_release(&b);
	snapshot_put(s);
}

static void test_snapfile_refuses_every_truncation_and_flip(void **state)
{
	struct snapshot *s = snap_rendered();
	struct snapfile_meta m;
	struct buf b;

	snap_meta(&m, "AKIDtest");
	b = encode(s, &m);
	for (size_t n = 0; n < b.len; n++)
		expect_refused(b.p, n, &m.key, NULL);
	for (size_t i = 0; i < b.len; i++) {
		b.p[i] ^= 0x20;
		expect_refused(b.p, b.len, &m.key, NULL);
		b.p[i] ^= 0x20;
	}
	/* bytes after the end are not ignored */
	assert_int_equal(buf_addch(&b, 0), 0);
	expect_refused(b.p, b.len, &m.key, "header says");
	buf_release(&b);
	snapshot_put(s);
}

/* Offset of the first occurrence of s in b. */
static size_t find(const struct buf *b, const char *s)
{
	const char *p = memmem(b->p, b->len, s, strlen(s));

	assert_non_null(p);
	return (size_t)(p - b->p);
}

/* Encodes a synthetic 3-entry snapshot, applies one patch at the unique
 * first occurrence of what, reseals and expects refusal with want. */
static void lie(const char *what, const char *patch, size_t plen, const char *want)
{
	struct snapshot *s = snap_synthetic(3, 5, 2);
	struct snapfile_meta m;
	struct buf b;

	snap_meta(&m, "AKIDtest");
	b = encode(s, &m);
	memcpy(b.p + find(&b, what), patch, plen);
	reseal(&b);
	expect_refused(b.p, b.len, &m.key, want);
	buf_release(&b);
	snapshot_put(s);
}

static void test_snapfile_refuses_lying_records(void **state)
{
	struct snapshot *s = snap_synthetic(3, 5, 2);
	struct snapfile_meta m;
	struct buf b;
	size_t off;

	lie("task-0000001", "task/", 5, "'/' in a name");
	lie("task-0000001", "task-0000000", 12, "strictly increasing");
	lie("task-0000002", "task-0000001", 12, "strictly increasing");
	lie("task-0000001", "t\000", 2, "NUL byte in a name");
	lie("ID-0000001", "ID\000", 3, "NUL byte in its ID");
	lie("f01", "f00", 3, "file names not in strictly increasing order");
	lie("f01", "/", 1, "'/' in a name");

	snap_meta(&m, "AKIDtest");
	b = encode(s, &m);
	/* the header's counts */
	for (int field = 96; field <= 112; field += 8) {
		for (int delta = -1; delta <= 1; delta += 2) {
			b.p[field] = (char)(b.p[field] + delta);
			reseal(&b);
			expect_refused(b.p, b.len, &m.key, NULL);
			b.p[field] = (char)(b.p[field] - delta);
		}
		b.p[field + 7] = 0x7f; /* absurdly large */
		reseal(&b);
		expect_refused(b.p, b.len, &m.key, "impossible");
		b.p[field + 7] = 0;
	}
	/* an entry's name length of 0: rec is 24 bytes before the name */
	off = find(&b, "task-0000001") - 24;
	memset(b.p + off, 0, 4);
	reseal(&b);
	expect_refused(b.p, b.len, &m.key, NULL);
	buf_release(&b);
	snapshot_put(s);
}

/* Field files are stored as size and hash, and rendered from the entry's
 * JSON when read: checksummed bytes whose JSON does not give them (or that
 * say they are made in no known way) read as -EIO or are refused; the
 * files' names are stored once. */
static void test_snapfile_files_render_from_json(void **state)
{
	struct snapshot *s = snap_rendered(), *d = NULL;
	const struct file *f;
	struct snapfile_meta m;
	struct buf b;
	const char *p;
	char *owned;
	size_t len, off;

	snap_meta(&m, "AKIDtest");
	b = encode(s, &m);
	/* "status" is written once, in the name table, for three entries */
	off = find(&b, "status");
	assert_null(memmem(b.p + off + 1, b.len - off - 1, "status", 6));
	/* the JSON text is the one place a value is: change it */
	off = find(&b, "RUNNING");
	b.p[off] = 'X';
	reseal(&b);
	assert_int_equal(snapfile_decode(b.p, b.len, &m.key, &d, NULL, NULL), 0);
	f = entry_file(snapshot_find(d, "train-b"), "status");
	assert_non_null(f);
	assert_null(f->data);
	assert_int_equal(snapshot_file_read(d, f, 0, 100, &owned, &p, &len), -EIO);
	assert_null(owned);
	assert_int_equal(len, 0);
	/* the other entries still read */
	f = entry_file(snapshot_find(d, "train-a"), "status");
	assert_string_equal(file_bytes(d, f), "STOPPED\n");
	snapshot_put(d);
	b.p[off] = 'R';
	/* a file's way of being made (how, the top 4 bits) unknown */
	f = entry_file(snapshot_find(s, "train-a"), "status");
	off = find(&b, "STOPPED"); /* train-a's JSON; its files follow */
	off = (size_t)((char *)memmem(b.p + off, b.len - off, &f->hash, 8) - b.p) - 12;
	assert_int_equal((unsigned char)b.p[off + 7] >> 4, FILE_SCALAR);
	b.p[off + 7] = (char)0xf0;
	reseal(&b);
	expect_refused(b.p, b.len, &m.key, "no known way");
	buf_release(&b);
	snapshot_put(s);
}

static void test_snapfile_encode_refuses_what_decode_would(void **state)
{
	struct snapshot *s = snap_synthetic(3, 5, 2);
	struct snapfile_meta m;
	struct buf b = BUF_INIT(BUF_NOLIMIT), small = BUF_INIT(100);
	const char *name;

	snap_meta(&m, "AKIDtest");
	name = s->entries[1].name;
	s->entries[1].name = "a/b";
	assert_int_equal(snapfile_encode(s, &m, &b), -EINVAL);
	s->entries[1].name = "";
	assert_int_equal(snapfile_encode(s, &m, &b), -EINVAL);
	s->entries[1].name = "zzz"; /* out of order */
	assert_int_equal(snapfile_encode(s, &m, &b), -EINVAL);
	s->entries[1].name = name;
	s->entries[1].files[0].name = "zzz"; /* files out of order */
	assert_int_equal(snapfile_encode(s, &m, &b), -EINVAL);
	s->entries[1].files[0].name = "f00";
	m.kind = (char *)"a/b";
	assert_int_equal(snapfile_encode(s, &m, &b), -EINVAL);
	m.kind = (char *)"tasks";
	assert_int_equal(b.len, 0);
	assert_int_equal(snapfile_encode(s, &m, &small), -EFBIG);
	assert_int_equal(small.len, 0);
	assert_int_equal(snapfile_encode(s, &m, &b), 0);
	buf_release(&b);
	snapshot_put(s);
}

/* Milliseconds of clock since t0 (CPU time of this thread: the machine's
 * other load does not count). */
static double ms_since(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * 100,000 entries. Default: small files (~25 MB), so it stays quick under
 * the sanitizers. GCF_SNAPFILE_BENCH=full: 30 files and a 2 KB info.json
 * per entry (~250 MB of rendered bytes, the size issue 10 measures).
 */
static void test_snapfile_100k_entries(void **state)
{
	const char *mode = getenv("GCF_SNAPFILE_BENCH");
	bool full = mode && !strcmp(mode, "full");
	size_t n = 100000, info = full ? 2000 : 100, nscalar = full ? 29 : 5, bytes = 0;
	struct snapshot *s = snap_synthetic(n, info, nscalar), *d = NULL;
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapfile_meta m, got;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct timespec t0, c0;
	double enc_ms, dec_ms, enc_cpu, dec_cpu;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < s->entries[i].nfiles; j++)
			bytes += s->entries[i].files[j].size;
	snap_meta(&m, "AKIDtest");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	assert_int_equal(snapfile_encode(s, &m, &b), 0);
	enc_ms = ms_since(CLOCK_MONOTONIC, &t0);
	enc_cpu = ms_since(CLOCK_THREAD_CPUTIME_ID, &c0);
	snapfile_meta_init(&got);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	assert_int_equal(snapfile_decode(b.p, b.len, &m.key, &d, &got, &err), 0);
	dec_ms = ms_since(CLOCK_MONOTONIC, &t0);
	dec_cpu = ms_since(CLOCK_THREAD_CPUTIME_ID, &c0);
	print_message("bench: %zu entries, %zu files, %.1f MB rendered -> %.1f MB encoded; "
		      "encode %.0f ms (%.0f ms CPU), decode %.0f ms (%.0f ms CPU)\n",
		      n, n * (nscalar + 1), bytes / 1e6, b.len / 1e6, enc_ms, enc_cpu, dec_ms,
		      dec_cpu);
	assert_int_equal(d->nentries, n);
	assert_string_equal(d->entries[n - 1].name, "task-0099999");
	assert_non_null(entry_file(snapshot_find(d, "task-0054321"), "info.json"));
	snap_assert_equal(s, d);
	snapfile_meta_release(&got);
	buf_release(&b);
	snapshot_put(s);
	snapshot_put(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_snapfile_round_trip_rendered),
	    cmocka_unit_test(test_snapfile_round_trip_empty_and_no_meta),
	    cmocka_unit_test(test_snapfile_key_tells_every_field_apart),
	    cmocka_unit_test(test_snapfile_refuses_another_key_and_version),
	    cmocka_unit_test(test_snapfile_refuses_every_truncation_and_flip),
	    cmocka_unit_test(test_snapfile_refuses_lying_records),
	    cmocka_unit_test(test_snapfile_files_render_from_json),
	    cmocka_unit_test(test_snapfile_encode_refuses_what_decode_would),
	    cmocka_unit_test(test_snapfile_100k_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
