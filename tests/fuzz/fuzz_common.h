/*
 * fuzz_common.h - checks shared by the libFuzzer targets.
 *
 * The safe-name rule is written out again here, independently of
 * fs/names.c, so that a fuzz target checks names.c against the contract in
 * names.h and docs/names.md rather than against itself.
 */
#ifndef GCF_FUZZ_COMMON_H
#define GCF_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* A failed invariant: print what and where, then abort so that libFuzzer
 * records the input as a crash (assert() would vanish under NDEBUG). */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", __FILE__,          \
				__LINE__, #cond);                                                  \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/*
 * A check for a bug already reported: it aborts like FUZZ_CHECK unless the
 * tag is listed in $GCF_FUZZ_SKIP (comma-separated), so that a long run can
 * look for other bugs while the owners fix that one. Tags in use:
 *   snake-utf8    names_snake passes invalid UTF-8 through (fs/names.c)
 *   dedup-length  names_dedup's "~N" suffix makes a name > NAMES_MAX
 *   status-cast   a reply whose "status" is a number beyond a long is not
 *                 fuzzed (providers/alaya.c casts it: UBSan would stop there)
 */
static inline bool fuzz_skipped(const char *tag)
{
	const char *s = getenv("GCF_FUZZ_SKIP");
	size_t n = strlen(tag);

	for (; s && *s; s += strcspn(s, ","), s += *s == ',')
		if (strncmp(s, tag, n) == 0 && (s[n] == ',' || s[n] == '\0'))
			return true;
	return false;
}

#define FUZZ_CHECK_KNOWN(tag, cond, ...)                                                           \
	do {                                                                                       \
		if (!(cond) && !fuzz_skipped(tag))                                                 \
			FUZZ_CHECK(cond, "[known bug: " tag "] " __VA_ARGS__);                     \
	} while (0)

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF. */
static inline bool fuzz_utf8_valid(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			n = 2;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 3;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

static const char fuzz_why_long[] = "is longer than NAMES_MAX (255) bytes";
static const char fuzz_why_utf8[] = "is not valid UTF-8";

/* NULL when name (len bytes) is a safe file name, else why not (one of the
 * fuzz_why_* strings when it is one of those, so callers can compare). */
static inline const char *fuzz_name_problem(const char *name, size_t len)
{
	if (!name)
		return "NULL";
	if (len == 0)
		return "empty";
	if (len > NAMES_MAX)
		return fuzz_why_long;
	if (memchr(name, 0, len))
		return "holds a NUL byte";
	if (name[0] == '.')
		return "starts with '.' (includes '.' and '..')";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/')
			return "holds '/'";
		if (c < 0x20 || c == 0x7f)
			return "holds a control byte";
	}
	if (!fuzz_utf8_valid((const unsigned char *)name, len))
		return fuzz_why_utf8;
	return NULL;
}

/* True when why is the known problem `known` and its tag is skipped. */
static inline bool fuzz_known_skip(const char *why, const char *known, const char *tag)
{
	return why && why == known && fuzz_skipped(tag);
}

/* Prints bytes escaped, for invariant messages. */
static inline void fuzz_dump(const char *what, const void *p, size_t len)
{
	const unsigned char *s = p;

	fprintf(stderr, "%s (%zu bytes): \"", what, len);
	for (size_t i = 0; i < len && i < 600; i++)
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\')
			fputc(s[i], stderr);
		else
			fprintf(stderr, "\\x%02x", s[i]);
	fprintf(stderr, "%s\"\n", len > 600 ? "..." : "");
}

#endif
