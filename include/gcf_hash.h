/*
 * gcf_hash.h - FNV-1a, 64 bits: the one hash of bytes the layers share.
 *
 * The FNV-1a step with the FNV prime over a start value (see GCF_FNV1A_BASIS).
 * Not for secrets or for tables an attacker fills at will; for telling an
 * unchanged file across snapshots (a file's hash, its mtime nanoseconds)
 * and for spreading names and IDs over hash buckets.
 *
 *   uint64_t h = gcf_fnv1a(GCF_FNV1A_BASIS, data, len);
 *   uint64_t h = gcf_fnv1a_str(GCF_FNV1A_BASIS ^ parent, name);  // seeded
 */
#ifndef GCF_HASH_H
#define GCF_HASH_H

#include <stddef.h>
#include <stdint.h>

/* The start (the hash of no bytes). NOT the published FNV-1a 64 offset basis
 * 14695981039346656037 (0xcbf29ce484222325): fs/ has always started from
 * this 19-digit number (the published one without its last digit), file
 * hashes are mtime nanoseconds and test_inode pins them, so it stays.
 * gcf_fnv1a(0xcbf29ce484222325ull, ...) is the textbook FNV-1a. */
#define GCF_FNV1A_BASIS 1469598103934665603ull
#define GCF_FNV1A_PRIME 1099511628211ull

/* h continued over the n bytes at p (h = GCF_FNV1A_BASIS to start). */
static inline uint64_t gcf_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * GCF_FNV1A_PRIME;
	return h;
}

/* h continued over the bytes of the C string s, without its NUL. */
static inline uint64_t gcf_fnv1a_str(uint64_t h, const char *s)
{
	while (*s)
		h = (h ^ (unsigned char)*s++) * GCF_FNV1A_PRIME;
	return h;
}

#endif
