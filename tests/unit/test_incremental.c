/*
 * test_incremental.c - the pieces of fs/incremental.c that need no cloud:
 * update times, and the choice of a full refresh without a watermark, the
 * watermark a snapshot carries in its bytes and its adoption. The
 * refresh cases themselves run against the simulator
 * (tests/mount/23-incremental.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "clock.h"
#include "incremental.h"
#include "provider.h"
#include "snap_helpers.h"

static const struct kind *tasks(void)
{
	return provider_kind(provider_find("tencent"), "tasks");
}

static void test_update_time(void **state)
{
	cJSON *o = cJSON_Parse("{\"Id\":\"t\",\"UpdateTime\":\"2024-05-01T08:30:01Z\"}");
	cJSON *n = cJSON_Parse("{\"Id\":\"t\",\"UpdateTime\":null}");
	time_t t = 0;

	(void)state;
	assert_non_null(tasks());
	assert_string_equal(tasks()->update_field, "UpdateTime");
	assert_int_equal(incr_update_time(tasks(), o, &t), 0);
	assert_int_equal(t, 1714552201);
	assert_int_equal(incr_update_time(tasks(), n, &t), -EINVAL);
	assert_int_equal(incr_update_time(tasks(), NULL, &t), -EINVAL);
	cJSON_Delete(o);
	cJSON_Delete(n);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(incr_kind_name(INCR_DELTA), "incremental");
	assert_string_equal(incr_kind_name(INCR_FULL_ASKED), "full (asked)");
	assert_string_equal(incr_kind_name(INCR_FULL_FALLBACK), "full (fallback)");
}

/* incr_commit makes the pending watermark current; a full one stamps full_ns. */
static void test_commit(void **state)
{
	struct incr_state s;
	struct snapshot snap;

	(void)state;
	memset(&s, 0, sizeof(s));
	memset(&snap, 0, sizeof(snap));
	snap.nentries = 7;
	snap.content_hash = 42;
	s.next.full = true;
	s.next.have_mark = true;
	s.next.mark = 1714552201;
	incr_commit(&s, NULL, &snap);
	assert_ptr_equal(s.base, &snap);
	assert_int_equal(s.base_n, 7);
	assert_int_equal(s.base_hash, 42);
	assert_true(s.have_mark);
	assert_int_equal(s.mark, 1714552201);
	assert_true(s.full_ns > 0);
	/* an incremental one keeps the time of the last full refresh */
	uint64_t full = s.full_ns;
	s.next.full = false;
	s.next.mark = 1714552300;
	incr_commit(&s, NULL, &snap);
	assert_int_equal(s.full_ns, full);
	assert_int_equal(s.mark, 1714552300);
}

/* A state whose watermark is that of snap, with a full listing age_s ago. */
static void state_for(struct incr_state *s, const struct snapshot *snap, time_t mark, time_t age_s)
{
	memset(s, 0, sizeof(*s));
	s->next.full = true;
	s->next.have_mark = true;
	s->next.mark = mark;
	incr_commit(s, NULL, snap);
	s->full_wall -= age_s;
}

/* snap with the watermark w, through the bytes (as the disk store and
 * Redis keep it): the decoded snapshot and its meta. */
static struct snapshot *through_bytes(const struct snapshot *snap, struct incr_wm *w,
				      struct snapfile_meta *out)
{
	struct snapfile_meta m;
	struct snapfile_key key;
	struct snapfile_identity id = {"tencent", "https://x", NULL, "AKID", "tasks", NULL};
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	struct gcf_error err = GCF_ERROR_INIT;
	struct snapshot *dec = NULL;

	assert_int_equal(snapfile_key_init(&key, &id), 0);
	snapfile_meta_init(&m);
	m.key = key;
	m.kind = "tasks";
	incr_wm_meta(w, &m);
	assert_int_equal(snapfile_encode(snap, &m, &b), 0);
	snapfile_meta_init(out);
	assert_int_equal(snapfile_decode(b.p, b.len, &key, &dec, out, &err), 0);
	buf_release(&b);
	gcf_error_release(&err);
	return dec;
}

/* The watermark travels with its snapshot and is adopted by another state
 * (a restarted daemon, another host): its next refresh may be incremental,
 * and the interval full refresh keeps the age of the last full listing. */
static void test_wm_roundtrip(void **state)
{
	struct snapshot *snap = snap_rendered(), *dec;
	struct incr_state a, b;
	struct incr_wm w;
	struct snapfile_meta m;
	const char *why = "x";
	uint64_t age;

	(void)state;
	state_for(&a, snap, 1714552201, 120);
	incr_export(&a, NULL, snap, &w);
	assert_true(w.valid);
	dec = through_bytes(snap, &w, &m);
	assert_int_equal(m.wm_time_s, 1714552201);
	assert_int_equal(m.extra_len, INCR_WM_EXTRA_LEN);
	memset(&b, 0, sizeof(b));
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), 0);
	assert_null(why);
	assert_ptr_equal(b.base, dec);
	assert_int_equal(b.base_hash, dec->content_hash);
	assert_int_equal(b.base_n, dec->nentries);
	assert_true(b.have_mark);
	assert_int_equal(b.mark, 1714552201);
	assert_true(b.have_full);
	assert_int_equal(b.full_wall, a.full_wall);
	age = clock_now_ns() - b.full_ns;
	assert_true(age >= 119000000000ull && age <= 125000000000ull);
	assert_int_equal(b.adopted, 1);
	/* what the adopter publishes next is the same */
	incr_export(&b, NULL, dec, &w);
	assert_true(w.valid);
	assert_int_equal(w.mark, 1714552201);
	snapfile_meta_release(&m);
	snapshot_put(dec);
	snapshot_put(snap);
}

/* A last full listing older than this boot (a restart after a reboot, a
 * host up for less time than the interval): the age is kept all the same. */
static void test_wm_old_full(void **state)
{
	struct snapshot *snap = snap_rendered(), *dec;
	struct incr_state a, b;
	struct incr_wm w;
	struct snapfile_meta m;
	uint64_t now, age_s = 30ull * 86400 + clock_now_ns() / 1000000000ull;

	(void)state;
	state_for(&a, snap, 1714552201, (time_t)age_s);
	incr_export(&a, NULL, snap, &w);
	dec = through_bytes(snap, &w, &m);
	memset(&b, 0, sizeof(b));
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, NULL), 0);
	now = clock_now_ns();
	assert_true(now - b.full_ns >= age_s * 1000000000ull);
	assert_true(now - b.full_ns <= (age_s + 5) * 1000000000ull);
	snapfile_meta_release(&m);
	snapshot_put(dec);
	snapshot_put(snap);
}

/* Only the watermark of exactly that snapshot is exported or adopted. */
static void test_wm_foreign(void **state)
{
	struct snapshot *snap = snap_rendered(), *other = snap_rendered(), *dec;
	struct incr_state a, b;
	struct incr_wm w;
	struct snapfile_meta m;
	const char *why = NULL;

	(void)state;
	/* another snapshot (a later fetch moved on): nothing to export */
	state_for(&a, snap, 1714552201, 0);
	incr_export(&a, NULL, other, &w);
	assert_false(w.valid);
	/* no watermark behind it (a first listing, undated) */
	a.have_mark = false;
	incr_export(&a, NULL, snap, &w);
	assert_false(w.valid);
	dec = through_bytes(snap, &w, &m);
	assert_int_equal(m.extra_len, 0);
	b = (struct incr_state){0};
	b.have_mark = true;
	b.base = snap;
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), -EINVAL);
	assert_string_equal(why, "no watermark");
	assert_null(b.base);
	assert_false(b.have_mark);
	assert_int_equal(b.adopted, 0);
	snapfile_meta_release(&m);
	snapshot_put(dec);

	/* a watermark of another content: one entry's file differs */
	a.have_mark = true;
	incr_export(&a, NULL, snap, &w);
	assert_true(w.valid);
	w.content_hash ^= 1;
	dec = through_bytes(snap, &w, &m);
	b = (struct incr_state){0};
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), -EINVAL);
	assert_string_equal(why, "a watermark of another content");
	assert_false(b.have_mark);
	snapfile_meta_release(&m);
	snapshot_put(dec);

	/* another count */
	incr_export(&a, NULL, snap, &w);
	w.nentries++;
	dec = through_bytes(snap, &w, &m);
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), -EINVAL);
	assert_string_equal(why, "a watermark of another content");
	snapfile_meta_release(&m);
	snapshot_put(dec);

	/* an unknown layout (another magic, layout or length) */
	incr_export(&a, NULL, snap, &w);
	dec = through_bytes(snap, &w, &m);
	m.extra[8] = 2;
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), -EINVAL);
	assert_string_equal(why, "a watermark of another layout");
	m.extra[8] = 1;
	m.extra[0] ^= 0x20;
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), -EINVAL);
	m.extra[0] ^= 0x20;
	m.extra_len--;
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), -EINVAL);
	m.extra_len++;
	/* and the same bytes, untouched, are adopted */
	assert_int_equal(incr_adopt(&b, NULL, dec, &m, &why), 0);
	assert_true(b.have_mark);
	snapfile_meta_release(&m);
	snapshot_put(dec);
	snapshot_put(other);
	snapshot_put(snap);
}

/* A shared copy without a watermark but of the same content as the
 * snapshot our own watermark belongs to: ours is kept. */
static void test_wm_same_content_kept(void **state)
{
	struct snapshot *snap = snap_rendered(), *dec;
	struct incr_state a;
	struct incr_wm none = {0};
	struct snapfile_meta m;

	(void)state;
	state_for(&a, snap, 1714552201, 0);
	dec = through_bytes(snap, &none, &m);
	assert_int_equal(incr_adopt(&a, NULL, dec, &m, NULL), -EINVAL);
	assert_ptr_equal(a.base, dec);
	assert_true(a.have_mark);
	assert_int_equal(a.mark, 1714552201);
	snapfile_meta_release(&m);
	snapshot_put(dec);
	snapshot_put(snap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_update_time),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_commit),
	    cmocka_unit_test(test_wm_roundtrip),
	    cmocka_unit_test(test_wm_old_full),
	    cmocka_unit_test(test_wm_foreign),
	    cmocka_unit_test(test_wm_same_content_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
