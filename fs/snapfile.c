/*
 * snapfile.c - a snapshot as bytes and back (docs/snapshot-format.md).
 *
 * Encoding sizes the output exactly first, then writes it in one pass.
 * Decoding checks the header and the SHA-256 trailer, then walks the records
 * once, checking each length against what is left before reading it, and
 * copies names, IDs, JSON texts and kept file bytes into one arena
 * allocation sized from the header's counts (which must then match
 * exactly). File names are written once, in a table the files point into. Every multi-byte integer
 * is little-endian, written and read byte by byte.
 */
#include "snapfile.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "arena.h"
#include "crypto.h"
#include "gcf_le.h"

static const unsigned char snapfile_magic[8] = {'G', 'C', 'F', 'S', 'N', 'A', 'P', 0};

/* Fixed header offsets (docs/snapshot-format.md). */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 8,
	OFF_HEADER_LEN = 12,
	OFF_TOTAL_LEN = 16,
	OFF_KEY = 24,
	OFF_FETCHED_WALL = 56,
	OFF_JSON_BYTES = 64,
	OFF_WM_TIME = 72,
	OFF_WM_COUNT = 80,
	OFF_WM_TOTAL = 88,
	OFF_NENTRIES = 96,
	OFF_NFILES = 104,
	OFF_STRING_BYTES = 112,
	OFF_KIND_LEN = 120,
	OFF_EXTRA_LEN = 124,
};

/* Name table: count u32, then per name len u32, the name, a NUL. Entry
 * record: name_len u32, id_len u32, mtime i64, nfiles u32, json_len u32
 * (0 = none); then the name, a NUL, the ID, a NUL, the JSON and a NUL when
 * there is one. File record: name index u32, how << 28 | member u32, size
 * u32, hash u64; then, for a kept (FILE_STORED) file only, the bytes and a
 * NUL. */
#define NAME_REC  4
#define ENTRY_REC 24
#define FILE_REC  20
#define KIND_MAX  255

/* ---- key ------------------------------------------------------------ */

static int key_field(EVP_MD_CTX *ctx, const char *s)
{
	unsigned char hdr[9] = {0};
	size_t n = s ? strlen(s) : 0;

	hdr[0] = s ? 1 : 0;
	for (int i = 0; i < 8; i++)
		hdr[1 + i] = (unsigned char)((uint64_t)n >> (8 * i));
	if (EVP_DigestUpdate(ctx, hdr, sizeof(hdr)) != 1)
		return -EIO;
	if (n && EVP_DigestUpdate(ctx, s, n) != 1)
		return -EIO;
	return 0;
}

int snapfile_key_init(struct snapfile_key *key, const struct snapfile_identity *id)
{
	static const char domain[] = "gpucloudfs snapshot key v1";
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	int rc = 0;

	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, domain, sizeof(domain)) != 1)
		rc = -EIO;
	if (!rc)
		rc = key_field(ctx, id->provider);
	if (!rc)
		rc = key_field(ctx, id->endpoint);
	if (!rc)
		rc = key_field(ctx, id->region);
	if (!rc)
		rc = key_field(ctx, id->access_key_id);
	if (!rc)
		rc = key_field(ctx, id->kind);
	if (!rc)
		rc = key_field(ctx, id->filter);
	if (!rc && (EVP_DigestFinal_ex(ctx, key->hash, &n) != 1 || n != SNAPFILE_KEY_LEN))
		rc = -EIO;
	EVP_MD_CTX_free(ctx);
	return rc;
}

void snapfile_key_hex(const struct snapfile_key *key, char out[2 * SNAPFILE_KEY_LEN + 1])
{
	crypto_hex(key->hash, SNAPFILE_KEY_LEN, out);
}

/* ---- meta ----------------------------------------------------------- */

void snapfile_meta_init(struct snapfile_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->wm_total = -1;
}

void snapfile_meta_release(struct snapfile_meta *m)
{
	if (!m)
		return;
	free(m->kind);
	free(m->extra);
	snapfile_meta_init(m);
}

/* ---- shared checks -------------------------------------------------- */

/* NULL when n bytes at s may be an entry or file name, else why not. */
static const char *name_problem(const char *s, size_t n)
{
	if (n == 0)
		return "an empty name";
	if (n > SNAPFILE_NAME_MAX)
		return "a name longer than 4096 bytes";
	if (memchr(s, '\0', n))
		return "a NUL byte in a name";
	if (memchr(s, '/', n))
		return "'/' in a name";
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return "'.' or '..' as a name";
	return NULL;
}

/* ---- encode --------------------------------------------------------- */

/* Adds b to *acc; false on overflow. */
static bool add_size(size_t *acc, size_t b)
{
	return !__builtin_add_overflow(*acc, b, acc);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct file names of s, sorted (malloc'd array, *n of them). */
static int name_table(const struct snapshot *s, const char ***out, size_t *n)
{
	size_t total = 0, k = 0;
	const char **v;

	for (size_t i = 0; i < s->nentries; i++)
		total += s->entries[i].nfiles;
	v = malloc((total ? total : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	/* a rendered snapshot has one copy per name: skip repeats cheaply */
	for (size_t i = 0; i < s->nentries; i++)
		for (size_t j = 0; j < s->entries[i].nfiles; j++) {
			const char *nm = s->entries[i].files[j].name;
			const struct entry *pe = i ? &s->entries[i - 1] : NULL;

			if (!nm) {
				free(v);
				return -EINVAL;
			}
			if (pe && j < pe->nfiles && pe->files[j].name == nm)
				continue;
			v[k++] = nm;
		}
	qsort(v, k, sizeof(*v), cmp_str);
	*n = 0;
	for (size_t i = 0; i < k; i++)
		if (!*n || strcmp(v[*n - 1], v[i]))
			v[(*n)++] = v[i];
	*out = v;
	return 0;
}

static size_t name_index(const char *const *names, size_t n, const char *name)
{
	const char *const *at = bsearch(&name, names, n, sizeof(*names), cmp_str);

	return (size_t)(at - names);
}

/* Checks s and m and computes the byte count and the header's counts. */
static int encode_size(const struct snapshot *s, const struct snapfile_meta *m,
		       const char *const *names, size_t nnames, size_t *total, uint64_t *nfiles,
		       uint64_t *strings)
{
	size_t kind_len = m->kind ? strlen(m->kind) : 0;
	size_t n = SNAPFILE_HEADER_LEN + SNAPFILE_SUM_LEN + 4, str = 0;
	uint64_t nf = 0;
	bool ok = true;

	if (kind_len == 0 || kind_len > KIND_MAX || name_problem(m->kind, kind_len))
		return -EINVAL;
	if (m->extra_len > SNAPFILE_EXTRA_MAX || (m->extra_len && !m->extra))
		return -EINVAL;
	if (nnames > UINT32_MAX)
		return -EINVAL;
	ok = add_size(&n, kind_len) && add_size(&n, m->extra_len);
	for (size_t i = 0; ok && i < nnames; i++) {
		size_t fl = strlen(names[i]);

		if (name_problem(names[i], fl))
			return -EINVAL;
		ok = add_size(&n, NAME_REC + 1 + fl) && add_size(&str, fl + 1);
	}
	for (size_t i = 0; ok && i < s->nentries; i++) {
		const struct entry *e = &s->entries[i];
		size_t nl, il;

		if (!e->name || !e->id || (e->nfiles && !e->files) || e->nfiles > UINT32_MAX)
			return -EINVAL;
		if ((e->json && (!e->json_len || e->json_len > UINT32_MAX)) ||
		    (!e->json && e->json_len))
			return -EINVAL;
		nl = strlen(e->name);
		il = strlen(e->id);
		if (name_problem(e->name, nl) || il > SNAPFILE_ID_MAX)
			return -EINVAL;
		if (i && strcmp(s->entries[i - 1].name, e->name) >= 0)
			return -EINVAL;
		ok = add_size(&n, ENTRY_REC + 2) && add_size(&n, nl) && add_size(&n, il) &&
		     add_size(&str, nl + 1) && add_size(&str, il + 1);
		if (ok && e->json)
			ok = add_size(&n, e->json_len + 1) && add_size(&str, e->json_len + 1);
		for (size_t j = 0; ok && j < e->nfiles; j++) {
			const struct file *f = &e->files[j];

			if (j && strcmp(e->files[j - 1].name, f->name) >= 0)
				return -EINVAL;
			if (f->how > FILE_HOW_MAX || (f->how == FILE_STORED && !f->data) ||
			    (f->how == FILE_SOURCE &&
			     (f->data != e->json || f->size != e->json_len)) ||
			    (f->how != FILE_STORED && !e->json))
				return -EINVAL;
			ok = add_size(&n, FILE_REC);
			if (ok && f->how == FILE_STORED)
				ok = add_size(&n, (size_t)f->size + 1) &&
				     add_size(&str, (size_t)f->size + 1);
		}
		nf += e->nfiles;
	}
	if (!ok)
		return -EFBIG;
	*total = n;
	*nfiles = nf;
	*strings = str;
	return 0;
}

/* Makes room for n more bytes (plus the NUL) in b in one allocation, keeping
 * buf.h's invariants (cap = bytes allocated, len <= max). */
static int reserve(struct buf *b, size_t n)
{
	size_t need;
	char *p;

	if (n > b->max - b->len)
		return -EFBIG;
	need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	p = realloc(b->p, need);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = need;
	return 0;
}

/* Copies n bytes and a NUL to *p. */
static void put_text(unsigned char **p, const void *s, size_t n)
{
	if (n)
		memcpy(*p, s, n);
	(*p)[n] = 0;
	*p += n + 1;
}

int snapfile_encode(const struct snapshot *s, const struct snapfile_meta *m, struct buf *out)
{
	size_t total, kind_len, nnames = 0;
	uint64_t nfiles, strings;
	unsigned char *base, *p;
	const char **names = NULL;
	int rc;

	rc = name_table(s, &names, &nnames);
	if (!rc)
		rc = encode_size(s, m, names, nnames, &total, &nfiles, &strings);
	if (!rc)
		rc = reserve(out, total);
	if (rc) {
		free(names);
		return rc;
	}
	kind_len = strlen(m->kind);
	base = (unsigned char *)out->p + out->len;
	memset(base, 0, SNAPFILE_HEADER_LEN);
	memcpy(base + OFF_MAGIC, snapfile_magic, sizeof(snapfile_magic));
	gcf_put_le32(base + OFF_VERSION, SNAPFILE_VERSION);
	gcf_put_le32(base + OFF_HEADER_LEN, SNAPFILE_HEADER_LEN);
	gcf_put_le64(base + OFF_TOTAL_LEN, total);
	memcpy(base + OFF_KEY, m->key.hash, SNAPFILE_KEY_LEN);
	gcf_put_le64(base + OFF_FETCHED_WALL, (uint64_t)(int64_t)s->fetched_wall);
	gcf_put_le64(base + OFF_JSON_BYTES, s->json_bytes);
	gcf_put_le64(base + OFF_WM_TIME, (uint64_t)m->wm_time_s);
	gcf_put_le64(base + OFF_WM_COUNT, m->wm_count);
	gcf_put_le64(base + OFF_WM_TOTAL, (uint64_t)m->wm_total);
	gcf_put_le64(base + OFF_NENTRIES, s->nentries);
	gcf_put_le64(base + OFF_NFILES, nfiles);
	gcf_put_le64(base + OFF_STRING_BYTES, strings);
	gcf_put_le32(base + OFF_KIND_LEN, (uint32_t)kind_len);
	gcf_put_le32(base + OFF_EXTRA_LEN, (uint32_t)m->extra_len);
	p = base + SNAPFILE_HEADER_LEN;
	memcpy(p, m->kind, kind_len);
	p += kind_len;
	if (m->extra_len)
		memcpy(p, m->extra, m->extra_len);
	p += m->extra_len;
	gcf_put_le32(p, (uint32_t)nnames);
	p += 4;
	for (size_t i = 0; i < nnames; i++) {
		size_t fl = strlen(names[i]);

		gcf_put_le32(p, (uint32_t)fl);
		p += NAME_REC;
		put_text(&p, names[i], fl);
	}
	for (size_t i = 0; i < s->nentries; i++) {
		const struct entry *e = &s->entries[i];
		size_t nl = strlen(e->name), il = strlen(e->id);

		gcf_put_le32(p, (uint32_t)nl);
		gcf_put_le32(p + 4, (uint32_t)il);
		gcf_put_le64(p + 8, (uint64_t)(int64_t)e->mtime);
		gcf_put_le32(p + 16, (uint32_t)e->nfiles);
		gcf_put_le32(p + 20, e->json ? (uint32_t)e->json_len : 0);
		p += ENTRY_REC;
		put_text(&p, e->name, nl);
		put_text(&p, e->id, il);
		if (e->json)
			put_text(&p, e->json, e->json_len);
		for (size_t j = 0; j < e->nfiles; j++) {
			const struct file *f = &e->files[j];

			gcf_put_le32(p, (uint32_t)name_index(names, nnames, f->name));
			gcf_put_le32(p + 4, (uint32_t)f->how << 28 | f->member);
			gcf_put_le32(p + 8, f->size);
			gcf_put_le64(p + 12, f->hash);
			p += FILE_REC;
			if (f->how == FILE_STORED)
				put_text(&p, f->data, f->size);
		}
	}
	free(names);
	rc = crypto_sha256(base, total - SNAPFILE_SUM_LEN, p);
	if (rc)
		return rc; /* out->len unchanged: the bytes written are ignored */
	out->len += total;
	out->p[out->len] = '\0';
	return 0;
}

/* ---- decode --------------------------------------------------------- */

/* Sets err (class GCF_REPLY, errno EINVAL) and returns -EINVAL. */
static int bad(struct gcf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct gcf_error *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gcf_error_vset(err, GCF_REPLY, fmt, ap);
	va_end(ap);
	if (err)
		err->errnum = EINVAL;
	return -EINVAL;
}

int snapfile_peek(const void *data, size_t len, const struct snapfile_key *expect,
		  struct snapfile_header *h, struct gcf_error *err)
{
	const unsigned char *p = data;
	uint32_t version, hlen;
	uint64_t total;

	if (len < SNAPFILE_HEADER_LEN)
		return bad(err, "snapshot truncated: %zu bytes, its header alone has %d", len,
			   SNAPFILE_HEADER_LEN);
	if (memcmp(p + OFF_MAGIC, snapfile_magic, sizeof(snapfile_magic)))
		return bad(err, "not a gpucloudfs snapshot (bad magic)");
	version = gcf_get_le32(p + OFF_VERSION);
	if (version != SNAPFILE_VERSION)
		return bad(err, "snapshot format version %" PRIu32 ", this build reads version %d",
			   version, SNAPFILE_VERSION);
	hlen = gcf_get_le32(p + OFF_HEADER_LEN);
	if (hlen != SNAPFILE_HEADER_LEN)
		return bad(err, "snapshot header length %" PRIu32 ", version %d has %d", hlen,
			   SNAPFILE_VERSION, SNAPFILE_HEADER_LEN);
	if (expect && memcmp(p + OFF_KEY, expect->hash, SNAPFILE_KEY_LEN))
		return bad(err, "snapshot belongs to another collection (key mismatch)");
	total = gcf_get_le64(p + OFF_TOTAL_LEN);
	if (total < SNAPFILE_HEADER_LEN + SNAPFILE_SUM_LEN)
		return bad(err, "snapshot total length %" PRIu64 " is below the minimum %d", total,
			   SNAPFILE_HEADER_LEN + SNAPFILE_SUM_LEN);
	if (h) {
		h->version = version;
		h->total_len = total;
		memcpy(h->key.hash, p + OFF_KEY, SNAPFILE_KEY_LEN);
		h->nentries = gcf_get_le64(p + OFF_NENTRIES);
	}
	return 0;
}

/* A read cursor over the body (header to checksum). */
struct cursor {
	const unsigned char *p;
	size_t left;
};

/* Where the arena copies go: [next, end). */
struct strings {
	char *next, *end;
};

/* Takes n bytes and their NUL terminator from the cursor (the caller
 * checked that n + 1 bytes are left) into the string area. NULL when the
 * terminator is not 0 or the area (the header's count) is too small. */
static const char *take_string(struct cursor *c, struct strings *st, size_t n)
{
	char *d = st->next;

	if (c->p[n] != 0 || !d || n >= (size_t)(st->end - d))
		return NULL;
	memcpy(d, c->p, n + 1);
	st->next += n + 1;
	c->p += n + 1;
	c->left -= n + 1;
	return d;
}

/* The decoder's state, so that the entry loop stays readable. */
struct decoder {
	struct cursor c;
	struct strings st;
	struct file *files;
	uint64_t nfiles, files_used;
	const char **names; /* the name table */
	bool *used;         /* which of its names a file has */
	uint32_t nnames;
	struct gcf_error *err;
};

/* The name table: strictly increasing names, each used by a file (checked
 * at the end), so that the bytes stay canonical. */
static int decode_names(struct decoder *d, uint64_t body)
{
	struct cursor *c = &d->c;
	uint32_t n;

	if (c->left < 4)
		return bad(d->err, "snapshot name table cut short");
	n = gcf_get_le32(c->p);
	c->p += 4;
	c->left -= 4;
	if (n > body / (NAME_REC + 2))
		return bad(d->err, "snapshot name table of %" PRIu32 " names in %" PRIu64 " bytes",
			   n, body);
	d->names = calloc(n ? n : 1, sizeof(*d->names));
	d->used = calloc(n ? n : 1, sizeof(*d->used));
	if (!d->names || !d->used)
		return gcf_error_set(d->err, GCF_NOMEM, "out of memory while reading a snapshot");
	d->nnames = n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t fl;
		const char *why;

		if (c->left < NAME_REC)
			return bad(d->err, "snapshot file name %" PRIu32 ": cut short", i);
		fl = gcf_get_le32(c->p);
		c->p += NAME_REC;
		c->left -= NAME_REC;
		if ((uint64_t)fl + 1 > c->left)
			return bad(d->err, "snapshot file name %" PRIu32 ": runs past the end", i);
		why = name_problem((const char *)c->p, fl);
		if (why)
			return bad(d->err, "snapshot file name %" PRIu32 ": %s", i, why);
		d->names[i] = take_string(c, &d->st, fl);
		if (!d->names[i])
			return bad(d->err,
				   "snapshot file name %" PRIu32 ": no NUL after it, or more "
				   "text than the header counts",
				   i);
		if (i && strcmp(d->names[i - 1], d->names[i]) >= 0)
			return bad(d->err, "snapshot file names not in strictly increasing order");
	}
	return 0;
}

static int decode_file(struct decoder *d, size_t i, uint32_t j, const struct entry *e,
		       struct file *f, uint32_t *prev_name)
{
	struct cursor *c = &d->c;
	uint32_t ni, src;

	if (c->left < FILE_REC)
		return bad(d->err, "snapshot entry %zu file %" PRIu32 ": record cut short", i, j);
	ni = gcf_get_le32(c->p);
	src = gcf_get_le32(c->p + 4);
	f->size = gcf_get_le32(c->p + 8);
	f->hash = gcf_get_le64(c->p + 12);
	c->p += FILE_REC;
	c->left -= FILE_REC;
	if (ni >= d->nnames)
		return bad(d->err, "snapshot entry %zu file %" PRIu32 ": no such name", i, j);
	if (j && ni <= *prev_name)
		return bad(d->err,
			   "snapshot entry %zu: file names not in strictly increasing order", i);
	*prev_name = ni;
	d->used[ni] = true;
	f->name = d->names[ni];
	f->how = src >> 28;
	f->member = src & FILE_MEMBER_MAX;
	f->data = NULL;
	if (f->how > FILE_HOW_MAX || (f->how != FILE_STORED && !e->json))
		return bad(d->err, "snapshot entry %zu file %" PRIu32 ": made in no known way", i,
			   j);
	if (f->how == FILE_SOURCE) {
		if (f->size != e->json_len)
			return bad(d->err,
				   "snapshot entry %zu file %" PRIu32 ": not its JSON's size", i,
				   j);
		f->data = e->json;
	} else if (f->how == FILE_STORED) {
		if ((uint64_t)f->size + 1 > c->left)
			return bad(d->err, "snapshot entry %zu file %" PRIu32 ": runs past the end",
				   i, j);
		f->data = take_string(c, &d->st, f->size);
		if (!f->data)
			return bad(d->err,
				   "snapshot entry %zu: no NUL after a string, or more text than "
				   "the header counts",
				   i);
	}
	return 0;
}

static int decode_entry(struct decoder *d, size_t i, struct entry *e, const struct entry *prev)
{
	struct cursor *c = &d->c;
	uint32_t nl, il, nf, jl, prev_name = 0;
	const char *why;
	int rc;

	if (c->left < ENTRY_REC)
		return bad(d->err, "snapshot entry %zu: record cut short", i);
	nl = gcf_get_le32(c->p);
	il = gcf_get_le32(c->p + 4);
	e->mtime = (time_t)(int64_t)gcf_get_le64(c->p + 8);
	nf = gcf_get_le32(c->p + 16);
	jl = gcf_get_le32(c->p + 20);
	c->p += ENTRY_REC;
	c->left -= ENTRY_REC;
	if (il > SNAPFILE_ID_MAX)
		return bad(d->err, "snapshot entry %zu: ID of %" PRIu32 " bytes", i, il);
	if ((uint64_t)nl + il + 2 + (jl ? (uint64_t)jl + 1 : 0) > c->left)
		return bad(d->err, "snapshot entry %zu: name, ID and JSON run past the end", i);
	why = name_problem((const char *)c->p, nl);
	if (why)
		return bad(d->err, "snapshot entry %zu: %s", i, why);
	if (memchr(c->p + nl + 1, '\0', il))
		return bad(d->err, "snapshot entry %zu: a NUL byte in its ID", i);
	if (nf > d->nfiles - d->files_used)
		return bad(d->err, "snapshot entry %zu: more files than the header counts", i);
	e->name = take_string(c, &d->st, nl);
	e->id = e->name ? take_string(c, &d->st, il) : NULL;
	e->json = e->id && jl ? take_string(c, &d->st, jl) : NULL;
	e->json_len = jl;
	if (!e->id || (jl && !e->json))
		return bad(d->err,
			   "snapshot entry %zu: no NUL after a string, or more text than the "
			   "header counts",
			   i);
	if (prev && strcmp(prev->name, e->name) >= 0)
		return bad(d->err, "snapshot entry %zu: names not in strictly increasing order", i);
	e->files = d->files ? d->files + d->files_used : NULL;
	e->nfiles = nf;
	d->files_used += nf;
	for (uint32_t j = 0; j < nf; j++) {
		rc = decode_file(d, i, j, e, &e->files[j], &prev_name);
		if (rc)
			return rc;
	}
	return 0;
}

int snapfile_decode(const void *data, size_t len, const struct snapfile_key *expect,
		    struct snapshot **out, struct snapfile_meta *m, struct gcf_error *err)
{
	const unsigned char *p = data;
	struct snapfile_header h;
	struct snapshot *s = NULL;
	struct decoder d = {.err = err};
	uint8_t sum[SNAPFILE_SUM_LEN];
	uint64_t ne, nf, strings;
	uint32_t kind_len, extra_len;
	size_t body, files_bytes, arena_bytes;
	struct snapfile_meta meta;
	int rc;

	*out = NULL;
	snapfile_meta_init(&meta);
	rc = snapfile_peek(data, len, expect, &h, err);
	if (rc)
		return rc;
	if (h.total_len != len)
		return bad(err,
			   len < h.total_len ? "snapshot truncated: %zu of %" PRIu64 " bytes"
					     : "snapshot has %zu bytes, its header says %" PRIu64,
			   len, h.total_len);
	body = len - SNAPFILE_HEADER_LEN - SNAPFILE_SUM_LEN;
	rc = crypto_sha256(p, len - SNAPFILE_SUM_LEN, sum);
	if (rc)
		return gcf_error_set(err, GCF_NOMEM, "sha-256 failed while reading a snapshot");
	if (memcmp(sum, p + len - SNAPFILE_SUM_LEN, SNAPFILE_SUM_LEN))
		return bad(err, "snapshot checksum mismatch (corrupted)");

	ne = gcf_get_le64(p + OFF_NENTRIES);
	nf = gcf_get_le64(p + OFF_NFILES);
	strings = gcf_get_le64(p + OFF_STRING_BYTES);
	kind_len = gcf_get_le32(p + OFF_KIND_LEN);
	extra_len = gcf_get_le32(p + OFF_EXTRA_LEN);
	if (kind_len == 0 || kind_len > KIND_MAX || extra_len > SNAPFILE_EXTRA_MAX ||
	    (uint64_t)kind_len + extra_len > body)
		return bad(err,
			   "snapshot kind (%" PRIu32 " bytes) or watermark (%" PRIu32
			   " bytes) too long",
			   kind_len, extra_len);
	body -= kind_len + extra_len;
	/* Every entry takes at least its record, a 1-byte name and two NULs,
	 * every file its record; the strings are copied with their NULs, so
	 * fit in the body. */
	if (ne > body / (ENTRY_REC + 3) || nf > body / FILE_REC || strings > body)
		return bad(err,
			   "snapshot counts impossible for its size: %" PRIu64 " entries, %" PRIu64
			   " files, %" PRIu64 " text bytes in %zu bytes",
			   ne, nf, strings, body);
	if (name_problem((const char *)p + SNAPFILE_HEADER_LEN, kind_len))
		return bad(err, "snapshot kind name is not a name");

	meta.key = h.key;
	meta.wm_time_s = (int64_t)gcf_get_le64(p + OFF_WM_TIME);
	meta.wm_count = gcf_get_le64(p + OFF_WM_COUNT);
	meta.wm_total = (int64_t)gcf_get_le64(p + OFF_WM_TOTAL);
	meta.kind = m ? strndup((const char *)p + SNAPFILE_HEADER_LEN, kind_len) : NULL;
	meta.extra_len = extra_len;
	if (m && extra_len) {
		meta.extra = malloc(extra_len);
		if (meta.extra)
			memcpy(meta.extra, p + SNAPFILE_HEADER_LEN + kind_len, extra_len);
	}
	s = calloc(1, sizeof(*s));
	if (!s || (m && (!meta.kind || (extra_len && !meta.extra))))
		goto nomem;
	s->entries = calloc(ne ? ne : 1, sizeof(*s->entries));
	if (!s->entries)
		goto nomem;
	files_bytes = (size_t)nf * sizeof(struct file);
	arena_bytes = files_bytes + (size_t)strings;
	if (arena_bytes) {
		char *a = arena_alloc(&s->arena, arena_bytes);

		if (!a)
			goto nomem;
		d.files = (struct file *)a;
		d.st.next = a + files_bytes;
		d.st.end = a + arena_bytes;
	}
	d.nfiles = nf;
	d.c.p = p + SNAPFILE_HEADER_LEN + kind_len + extra_len;
	d.c.left = body;
	rc = decode_names(&d, body);
	for (size_t i = 0; i < ne && !rc; i++)
		rc = decode_entry(&d, i, &s->entries[i], i ? &s->entries[i - 1] : NULL);
	if (!rc && (d.c.left || d.files_used != nf || d.st.next != d.st.end))
		rc = bad(err,
			 "snapshot records do not match its header (%zu bytes left, %" PRIu64
			 " of %" PRIu64 " files)",
			 d.c.left, d.files_used, nf);
	for (uint32_t i = 0; !rc && i < d.nnames; i++)
		if (!d.used[i])
			rc = bad(err, "snapshot file name %" PRIu32 " is no file's", i);
	free(d.names);
	free(d.used);
	if (rc)
		goto fail;
	s->nentries = ne;
	s->fetched_wall = (time_t)(int64_t)gcf_get_le64(p + OFF_FETCHED_WALL);
	s->json_bytes = (size_t)gcf_get_le64(p + OFF_JSON_BYTES);
	pthread_mutex_init(&s->jsonl_mu, NULL);
	snapshot_seal(s);
	atomic_init(&s->refs, 1);
	*out = s;
	if (m) {
		snapfile_meta_release(m);
		*m = meta;
	}
	return 0;

nomem:
	rc = gcf_error_set(err, GCF_NOMEM, "out of memory while reading a snapshot");
fail:
	if (s) {
		arena_free(s->arena);
		free(s->entries);
		free(s);
	}
	snapfile_meta_release(&meta);
	return rc;
}
