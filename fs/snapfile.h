/*
 * snapfile.h - a snapshot as bytes and back: the on-disk (and Redis) format.
 *
 * snapfile_encode() writes one snapshot, its collection's key and the data an
 * incremental refresh needs later (struct snapfile_meta) as one
 * self-describing byte string; snapfile_decode() checks every byte of such a
 * string (magic, version, key, lengths, counts, names, sorted order and a
 * SHA-256 over everything) and rebuilds the snapshot in one arena
 * allocation. docs/snapshot-format.md documents the layout.
 *
 * The key names a collection without holding anything secret: it is a
 * SHA-256 of the identity strings the caller gives (provider, endpoint,
 * region, access-key ID, kind, filter). Never pass a secret, a token or a
 * signature in struct snapfile_identity: only its hash is written anyway.
 *
 * The bytes hold no pointer and no offset that depends on where they are
 * stored, so any byte range of them can be stored and read back on its own
 * (the Redis chunks of the fleet issue are plain ranges).
 */
#ifndef GCF_SNAPFILE_H
#define GCF_SNAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "gcf_error.h"
#include "snapshot.h"

#define SNAPFILE_VERSION    2
#define SNAPFILE_HEADER_LEN 128 /* fixed header; snapfile_peek needs this many bytes */
#define SNAPFILE_SUM_LEN    32  /* SHA-256 trailer */
#define SNAPFILE_KEY_LEN    32
#define SNAPFILE_NAME_MAX   4096    /* longest entry or file name accepted */
#define SNAPFILE_ID_MAX     65536   /* longest object ID accepted */
#define SNAPFILE_EXTRA_MAX  1048576 /* largest opaque watermark blob */

/* Who a collection belongs to. Every field may be NULL (absent, hashed
 * differently from ""). Public identifiers only: no secret, token or
 * signature. With kind and filter NULL it names the connection (the Redis
 * key prefix of the fleet issue). */
struct snapfile_identity {
	const char *provider;      /* "tencent" */
	const char *endpoint;      /* "https://tione.tencentcloudapi.com" */
	const char *region;        /* "ap-shanghai", or NULL */
	const char *access_key_id; /* the public half of the credential, or NULL */
	const char *kind;          /* "tasks" */
	const char *filter;        /* a server-side filter, e.g. "Status=RUNNING", or NULL */
};

/* SHA-256 of an identity (see docs/snapshot-format.md for the exact input). */
struct snapfile_key {
	uint8_t hash[SNAPFILE_KEY_LEN];
};

/* Computes the key of an identity. Returns 0 or -EIO (OpenSSL) / -ENOMEM. */
int snapfile_key_init(struct snapfile_key *key, const struct snapfile_identity *id);
/* Lowercase hex of the key into out[65] (the disk file name, the Redis key). */
void snapfile_key_hex(const struct snapfile_key *key, char out[2 * SNAPFILE_KEY_LEN + 1]);

/*
 * What is stored next to a snapshot for its collection.
 *
 * For snapfile_encode() every field is only read (the pointers may be
 * borrowed). snapfile_decode() fills it with malloc'd copies: release them
 * with snapfile_meta_release(). The watermark is opaque to this module: the
 * incremental refresh decides what the numbers mean.
 */
struct snapfile_meta {
	struct snapfile_key key; /* the collection the snapshot belongs to */
	char *kind;              /* the kind's directory name ("tasks"): 1..255 bytes, no '/' */
	int64_t wm_time_s;       /* e.g. newest update time seen (wall seconds) */
	uint64_t wm_count;       /* e.g. objects seen with exactly that update time */
	int64_t wm_total;        /* e.g. the cloud's total count; -1 = unknown */
	unsigned char *extra;    /* anything else the refresh needs, or NULL */
	size_t extra_len;        /* <= SNAPFILE_EXTRA_MAX */
};

/* Sets m empty (every pointer NULL, wm_total -1). */
void snapfile_meta_init(struct snapfile_meta *m);
/* Frees what snapfile_decode() allocated and re-inits m. NULL ok. */
void snapfile_meta_release(struct snapfile_meta *m);

/*
 * Appends the bytes of snapshot s with meta m to out. The snapshot is only
 * read (the caller holds a reference). Returns 0, -EINVAL when s holds
 * something the decoder would refuse (an empty name, '/', NUL, unsorted or
 * repeated names, an over-long field: nothing is appended), -EFBIG when out's
 * ceiling is too low, or -ENOMEM. On failure out is unchanged.
 */
int snapfile_encode(const struct snapshot *s, const struct snapfile_meta *m, struct buf *out);

/*
 * Rebuilds a snapshot from len bytes at data (only read; the result does not
 * point into them). When expect is not NULL the bytes must carry that key.
 * Returns 0 with *out holding one reference (gen 0, fetched_ns 0: the caller
 * sets what its cache needs) and m filled (m may be NULL); or -EINVAL with a
 * message in err for anything wrong (not a snapshot, another version,
 * another key, truncated, checksum, a bad length, count, name or order), or
 * -ENOMEM. Never trusts a length before checking it against len.
 */
int snapfile_decode(const void *data, size_t len, const struct snapfile_key *expect,
		    struct snapshot **out, struct snapfile_meta *m, struct gcf_error *err);

/* What the fixed header says. */
struct snapfile_header {
	uint32_t version;
	uint64_t total_len; /* bytes of the whole string, checksum included */
	struct snapfile_key key;
	uint64_t nentries;
};

/*
 * Checks the first SNAPFILE_HEADER_LEN bytes only (magic, version, header
 * length, key when expect is not NULL, total length plausible) and fills h:
 * enough to refuse a file or a first Redis chunk before reading the rest.
 * Returns 0, or -EINVAL with err set (as snapfile_decode words it).
 */
int snapfile_peek(const void *data, size_t len, const struct snapfile_key *expect,
		  struct snapfile_header *h, struct gcf_error *err);

#endif
