/*
 * file_bytes.h - a snapshot file's bytes for tests: read through
 * snapshot_file_read() (rendered from the entry's JSON when not kept).
 * Include after <cmocka.h>.
 */
#ifndef GCF_TEST_FILE_BYTES_H
#define GCF_TEST_FILE_BYTES_H

#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

/* All of f's bytes, NUL-ended, asserting that the read works and gives
 * f->size bytes. Valid until the eighth call after this one. */
static inline const char *file_bytes(const struct snapshot *s, const struct file *f)
{
	static char *ring[8];
	static unsigned at;
	const char *p = NULL;
	char *owned = NULL, *copy;
	size_t len = 0;

	assert_non_null(f);
	assert_int_equal(
	    snapshot_file_read((struct snapshot *)s, f, 0, f->size + 1, &owned, &p, &len), 0);
	assert_int_equal(len, f->size);
	copy = malloc(len + 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, p, len);
	copy[len] = '\0';
	free(owned);
	free(ring[at % 8]);
	ring[at++ % 8] = copy;
	return copy;
}

#endif
