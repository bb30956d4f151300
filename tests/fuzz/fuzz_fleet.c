/*
 * fuzz_fleet.c - fs/fleet.c's decoders against hostile bytes: what a Redis
 * shared by other hosts (or anyone with access to it) hands back as a
 * blob's metadata record and chunks.
 *
 * Input: byte 0 chooses the mode, then FLEET_META_LEN bytes of metadata
 * (fewer when the input is short), then the blob.
 *   bit 0: "reseal": rewrite the metadata as the header of exactly this
 *          blob (magic, version, length, chunk size from byte 1, chunk
 *          count, SHA-256) so that the fuzzer reaches the verifier's
 *          accepting path, then flip blob bytes per bit 1;
 *   bit 1: with bit 0, corrupt one blob byte after resealing;
 *   bit 2: decode the whole input after byte 0 as metadata (any length).
 * Checked:
 *   - fleet_meta_decode returns 0 or -EINVAL, zeroes the record on failure
 *     and never reads past the input (ASan);
 *   - a decoded record is consistent: chunk size in range, length within
 *     the ceiling, chunks == ceil(length / chunk size), the chunk lengths
 *     add up to the length and none exceeds the chunk size;
 *   - canonical: encoding a decoded record gives the input bytes back;
 *   - fleet_blob_verify accepts exactly a blob of the recorded length whose
 *     SHA-256 (computed here independently) matches.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fleet.h"
#include "fuzz_common.h"

#define MAX_BLOB (1u << 20)

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void check_meta(const uint8_t *p, size_t n)
{
	struct fleet_meta m;
	uint8_t again[FLEET_META_LEN];
	uint64_t sum = 0;
	int rc;

	memset(&m, 0x5a, sizeof(m));
	rc = fleet_meta_decode(p, n, MAX_BLOB, &m);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "fleet_meta_decode returned %d", rc);
	if (rc) {
		struct fleet_meta zero;

		memset(&zero, 0, sizeof(zero));
		FUZZ_CHECK(!memcmp(&m, &zero, sizeof(m)),
			   "a failed decode left data in the record");
		return;
	}
	FUZZ_CHECK(n == FLEET_META_LEN, "decoded %zu bytes", n);
	FUZZ_CHECK(m.length <= MAX_BLOB, "length %llu over the ceiling",
		   (unsigned long long)m.length);
	FUZZ_CHECK(m.chunk_size >= 1024 && m.chunk_size <= (64u << 20), "chunk size %u",
		   m.chunk_size);
	FUZZ_CHECK((uint64_t)m.chunks == (m.length + m.chunk_size - 1) / m.chunk_size,
		   "chunks %u for length %llu", m.chunks, (unsigned long long)m.length);
	for (uint32_t i = 0; i < m.chunks; i++) {
		size_t cl = fleet_chunk_len(&m, i);

		FUZZ_CHECK(cl > 0 && cl <= m.chunk_size, "chunk %u has length %zu", i, cl);
		sum += cl;
	}
	FUZZ_CHECK(fleet_chunk_len(&m, m.chunks) == 0, "a chunk past the end");
	FUZZ_CHECK(sum == m.length, "chunk lengths add up to %llu, not %llu",
		   (unsigned long long)sum, (unsigned long long)m.length);
	FUZZ_CHECK(strlen(m.pub) == FLEET_PUB_LEN, "publication id '%s'", m.pub);
	fleet_meta_encode(&m, again);
	if (memcmp(again, p, FLEET_META_LEN)) {
		fuzz_dump("input", p, n);
		fuzz_dump("again", again, FLEET_META_LEN);
	}
	FUZZ_CHECK(!memcmp(again, p, FLEET_META_LEN), "decode then encode differs");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t meta[FLEET_META_LEN], sum[SHA256_LEN];
	struct fleet_meta m;
	const uint8_t *blob;
	uint8_t *copy = NULL;
	size_t bloblen, mlen;
	unsigned mode;
	int rc;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (mode & 4) {
		check_meta(data, size);
		return 0;
	}
	mlen = size < FLEET_META_LEN ? size : FLEET_META_LEN;
	memset(meta, 0, sizeof(meta));
	memcpy(meta, data, mlen);
	blob = data + mlen;
	bloblen = size - mlen;
	if (mode & 1) {
		uint32_t cs = 1024u << (meta[0] % 8);

		memcpy(meta, "GCFM\1\0\0\0", 8);
		put64(meta + 8, bloblen);
		put32(meta + 16, cs);
		put32(meta + 20, (uint32_t)((bloblen + cs - 1) / cs));
		if (crypto_sha256(bloblen ? blob : (const uint8_t *)"", bloblen, meta + 40))
			return 0;
		mlen = FLEET_META_LEN;
	}
	check_meta(meta, mlen);
	if (fleet_meta_decode(meta, mlen, MAX_BLOB, &m))
		return 0;
	if ((mode & 3) == 3 && bloblen) {
		copy = malloc(bloblen);
		if (!copy)
			return 0;
		memcpy(copy, blob, bloblen);
		copy[meta[1] % bloblen] ^= (uint8_t)(1u << (meta[2] % 8));
		blob = copy;
	}
	rc = fleet_blob_verify(&m, bloblen ? blob : NULL, bloblen);
	FUZZ_CHECK(rc == 0 || rc == FLEET_MISS, "fleet_blob_verify returned %d", rc);
	if (bloblen == m.length &&
	    !crypto_sha256(bloblen ? blob : (const uint8_t *)"", bloblen, sum))
		FUZZ_CHECK((rc == 0) == !memcmp(sum, m.sha256, SHA256_LEN),
			   "verify says %d, the checksum says otherwise", rc);
	else
		FUZZ_CHECK(rc == FLEET_MISS, "a blob of %zu bytes for a length of %llu accepted",
			   bloblen, (unsigned long long)m.length);
	if ((mode & 3) == 3 && bloblen)
		FUZZ_CHECK(rc == FLEET_MISS, "a corrupted blob passed the checksum");
	if ((mode & 3) == 1)
		FUZZ_CHECK(rc == 0, "a resealed blob failed verification");
	free(copy);
	return 0;
}
