/*
 * fuzz_names.c - fs/names.c against the contract in names.h.
 *
 * Input: bytes 0-1 choose where to cut the rest in two IDs (a, b); byte 2
 * how many times the pair is repeated for names_dedup. Checked:
 *   - names_from_id(a), (b): a safe name (no '/', no control byte, not ""
 *     '.' '..' or leading '.', at most NAMES_MAX bytes, valid UTF-8);
 *     stable (same result twice, and when appended after other text);
 *     a safe ID is its own name; an encoded one decodes back to the ID (or,
 *     when cut to fit, to a prefix of it);
 *   - injective on the pair: a != b gives different names;
 *   - names_snake(a): 0 gives a safe name, anything else is -EINVAL/-ENOMEM;
 *   - names_dedup of the listing a, b, a, b, ...: all names unique and safe,
 *     the first occurrence of each keeps its name.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz_common.h"
#include "names.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s (n bytes) into out; a trailing partial escape (cut in
 * the middle) is dropped when partial_ok. -1 on a malformed escape. */
static int decode(const char *s, size_t n, struct buf *out, bool partial_ok)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			if (buf_addch(out, s[i]))
				return -1;
			continue;
		}
		if (i + 2 >= n) {
			if (partial_ok)
				return 0;
			return -1;
		}
		if (hexval(s[i + 1]) < 0 || hexval(s[i + 2]) < 0)
			return -1;
		if (buf_addch(out, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]))))
			return -1;
		i += 2;
	}
	return 0;
}

static bool is_hex_tail(const char *s, size_t n)
{
	if (n < 17 || s[n - 17] != '~')
		return false;
	for (size_t i = n - 16; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* The name of one ID, with every per-ID check. Returns it malloc'd. */
static char *check_id(const char *id, size_t len)
{
	struct buf a = BUF_INIT(BUF_NOLIMIT), b = BUF_INIT(BUF_NOLIMIT), d = BUF_INIT(BUF_NOLIMIT);
	const char *why;
	char *name;

	if (names_from_id(id, len, &a))
		return NULL; /* ENOMEM */
	why = fuzz_name_problem(a.p, a.len);
	if (why) {
		fuzz_dump("id", id, len);
		fuzz_dump("name", a.p ? a.p : "", a.len);
	}
	FUZZ_CHECK(!why, "names_from_id gave a name that %s", why);

	/* stable, and appending after other text gives the same bytes */
	FUZZ_CHECK(!buf_addstr(&b, "prefix/"), "oom");
	FUZZ_CHECK(!names_from_id(id, len, &b), "names_from_id failed the second time");
	FUZZ_CHECK(b.len == 7 + a.len && !memcmp(b.p + 7, a.p, a.len),
		   "names_from_id appended after other text gives another name");

	if (names_id_is_safe(id, len)) {
		FUZZ_CHECK(a.len == len && !memcmp(a.p, id, len), "a safe ID is not its own name");
		why = fuzz_name_problem(id, len);
		FUZZ_CHECK(!why, "names_id_is_safe accepts an ID that %s", why);
	} else if (len == 0) {
		FUZZ_CHECK(a.len == 1 && a.p[0] == '%', "the empty ID is not \"%%\"");
	} else {
		/* an encoded name decodes back to the ID, or to a prefix of it
		 * when it was cut to NAMES_MAX and ends in ~<16 hex> */
		int rc = decode(a.p, a.len, &d, false);

		if (!rc && d.len == len && !memcmp(d.p, id, len)) {
			/* round trip */
		} else {
			FUZZ_CHECK(is_hex_tail(a.p, a.len),
				   "an encoded name neither decodes to its ID nor ends in ~hash");
			buf_reset(&d);
			rc = decode(a.p, a.len - 17, &d, true);
			FUZZ_CHECK(!rc && d.len <= len && !memcmp(d.p ? d.p : "", id, d.len),
				   "a cut name does not start with its ID's encoding");
		}
	}
	buf_release(&b);
	buf_release(&d);
	name = buf_detach(&a, NULL);
	return name;
}

static void check_snake(const char *field)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = names_snake(field, &b);
	const char *why;

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "names_snake returned %d", rc);
	if (rc == 0) {
		why = fuzz_name_problem(b.p, b.len);
		if (fuzz_known_skip(why, fuzz_why_utf8, "snake-utf8"))
			why = NULL;
		if (why) {
			fuzz_dump("field", field, strlen(field));
			fuzz_dump("name", b.p ? b.p : "", b.len);
		}
		if (why == fuzz_why_utf8)
			FUZZ_CHECK_KNOWN("snake-utf8", false, "names_snake gave a name that %s",
					 why);
		else
			FUZZ_CHECK(!why, "names_snake gave a name that %s", why);
	}
	buf_release(&b);
}

static void check_dedup(const char *na, const char *nb, bool same, unsigned reps)
{
	size_t n = 2 * (size_t)reps;
	char **v = calloc(n, sizeof(*v));
	int rc;

	if (!v)
		return;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(i % 2 ? nb : na);
		if (!v[i])
			goto out;
	}
	rc = names_dedup(v, n);
	FUZZ_CHECK(rc == 0 || rc == -ENOMEM, "names_dedup returned %d", rc);
	if (rc)
		goto out;
	FUZZ_CHECK(!strcmp(v[0], na), "names_dedup renamed the first name");
	if (!same)
		FUZZ_CHECK(!strcmp(v[1], nb), "names_dedup renamed a first occurrence");
	for (size_t i = 0; i < n; i++) {
		const char *why = fuzz_name_problem(v[i], strlen(v[i]));

		if (fuzz_known_skip(why, fuzz_why_long, "dedup-length"))
			why = NULL;
		if (why)
			fuzz_dump("deduplicated name", v[i], strlen(v[i]));
		if (why == fuzz_why_long)
			FUZZ_CHECK_KNOWN("dedup-length", false, "names_dedup gave name %zu that %s",
					 i, why);
		else
			FUZZ_CHECK(!why, "names_dedup gave name %zu that %s", i, why);
		for (size_t j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(v[i], v[j]), "names_dedup left '%s' twice", v[i]);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *a, *b;
	size_t alen, blen, rest;
	char *na = NULL, *nb = NULL, *field;
	unsigned reps;

	if (size < 3)
		return 0;
	rest = size - 3;
	alen = ((size_t)data[0] | (size_t)data[1] << 8) % (rest + 1);
	reps = 1 + data[2] % 4;
	a = (const char *)data + 3;
	b = a + alen;
	blen = rest - alen;

	na = check_id(a, alen);
	nb = check_id(b, blen);
	if (na && nb) {
		bool same_id = alen == blen && !memcmp(a, b, alen);

		if (!same_id && !strcmp(na, nb)) {
			fuzz_dump("id a", a, alen);
			fuzz_dump("id b", b, blen);
			fuzz_dump("name", na, strlen(na));
		}
		FUZZ_CHECK(same_id || strcmp(na, nb), "two different IDs have one name");
		check_dedup(na, nb, same_id, reps);
	}

	field = malloc(alen + 1);
	if (field) {
		memcpy(field, a, alen);
		field[alen] = '\0';
		check_snake(field);
		free(field);
	}
	free(na);
	free(nb);
	return 0;
}
