/*
 * names.c - object IDs and field names to safe, unique, stable file names.
 * See names.h for the rules; docs/names.md for users.
 */
#include "names.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static bool byte_needs_escape(unsigned char c)
{
	return c == '/' || c == '%' || c < 0x20 || c == 0x7f;
}

/* True when s (len bytes) ends in "~" and 16 lowercase hex digits: the shape
 * of a name cut to NAMES_MAX, which an ID used as is must never have. */
static bool ends_like_cut(const char *s, size_t len)
{
	if (len < 17 || s[len - 17] != '~')
		return false;
	for (size_t i = len - 16; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool names_id_is_safe(const char *id, size_t len)
{
	const unsigned char *s = (const unsigned char *)id;

	if (len == 0 || len > NAMES_MAX || s[0] == '.' || ends_like_cut(id, len))
		return false;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(s + i, len - i);

		if (n == 0 || (n == 1 && byte_needs_escape(s[i])))
			return false;
		i += n;
	}
	return true;
}

int names_from_id(const char *id, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)id;
	size_t start = out->len;
	int rc = 0;

	if (names_id_is_safe(id, len))
		return buf_add(out, id, len);
	if (len == 0)
		return buf_addstr(out, "%");
	for (size_t i = 0; i < len && !rc;) {
		size_t n = utf8_seq_len(s + i, len - i);

		if (n == 0 || (n == 1 && (byte_needs_escape(s[i]) || (i == 0 && s[i] == '.') ||
					  (i == len - 17 && ends_like_cut(id, len))))) {
			rc = buf_printf(out, "%%%02X", s[i]);
			i++;
		} else {
			rc = buf_add(out, s + i, n);
			i += n;
		}
	}
	if (rc)
		return rc;
	if (out->len - start > NAMES_MAX) {
		uint8_t md[SHA256_LEN];
		char hex[2 * SHA256_LEN + 1];
		size_t keep = NAMES_MAX - 17;

		/* Cut on a UTF-8 boundary so the name stays valid text. */
		while (keep > 0 && ((unsigned char)out->p[start + keep] & 0xc0) == 0x80)
			keep--;
		if (crypto_sha256(id, len, md))
			return -EIO;
		crypto_hex(md, 8, hex);
		out->len = start + keep;
		out->p[out->len] = '\0';
		rc = buf_printf(out, "~%s", hex);
	}
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int names_decode(const char *name, struct buf *out)
{
	size_t n = strlen(name);
	int rc = 0;

	if (ends_like_cut(name, n)) /* cut to NAMES_MAX: the ID is not all there */
		return -EINVAL;
	if (!strcmp(name, "%"))
		return 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (name[i] == '%' && i + 2 < n + 1 && hexval(name[i + 1]) >= 0 &&
		    hexval(name[i + 2]) >= 0) {
			rc = buf_addch(out, (char)(hexval(name[i + 1]) * 16 + hexval(name[i + 2])));
			i += 2;
		} else {
			rc = buf_addch(out, name[i]);
		}
	}
	return rc;
}

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool is_lower_or_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int names_snake(const char *field, struct buf *out)
{
	size_t start = out->len;
	size_t n = strlen(field);
	int rc = 0;

	for (size_t i = 0, k; i < n; i += k) /* a file name must be valid UTF-8 */
		if (!(k = utf8_seq_len((const unsigned char *)field + i, n - i)))
			return -EINVAL;

	for (size_t i = 0; i < n && !rc; i++) {
		char c = field[i];

		if (byte_needs_escape((unsigned char)c))
			return -EINVAL;
		if (is_upper(c)) {
			bool prev_low = i > 0 && is_lower_or_digit(field[i - 1]);
			bool acronym_end = i > 0 && is_upper(field[i - 1]) && i + 1 < n &&
					   is_lower_or_digit(field[i + 1]) &&
					   !(field[i + 1] >= '0' && field[i + 1] <= '9');

			if ((prev_low || acronym_end) && out->len > start &&
			    out->p[out->len - 1] != '_')
				rc = buf_addch(out, '_');
			if (!rc)
				rc = buf_addch(out, (char)(c - 'A' + 'a'));
		} else if (c == '-' || c == ' ' || c == '.') {
			rc = buf_addch(out, '_');
		} else {
			rc = buf_addch(out, c);
		}
	}
	if (rc)
		return rc;
	if (out->len == start || out->p[start] == '.' || out->len - start > NAMES_MAX - 5)
		return -EINVAL;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool sorted_has(char **sorted, size_t n, const char *s)
{
	return bsearch(&s, sorted, n, sizeof(*sorted), cmp_str) != NULL;
}

int names_dedup(char **names, size_t n)
{
	char **sorted, **old;
	int rc = 0;
	bool any = false;

	if (n < 2)
		return 0;
	sorted = malloc(n * sizeof(*sorted));
	old = calloc(n, sizeof(*old));
	if (!sorted || !old) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(sorted, names, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_str);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(sorted[i - 1], sorted[i]))
			any = true;

	/* Replaced names are freed only at the end: sorted[] still points at
	 * them. Quadratic only in the number of repeats, which is small. */
	for (size_t i = 1; any && i < n && !rc; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(names[j], names[i]);
		if (!seen)
			continue;
		for (unsigned k = 2; !rc; k++) {
			struct buf b = BUF_INIT(BUF_NOLIMIT);
			bool taken;

			char sfx[16];
			size_t keep = strlen(names[i]), sl;

			sl = (size_t)snprintf(sfx, sizeof(sfx), "~%u", k);
			/* Keep within NAMES_MAX: shorten the name, on a UTF-8 boundary. */
			if (keep + sl > NAMES_MAX) {
				keep = NAMES_MAX - sl;
				while (keep > 0 && ((unsigned char)names[i][keep] & 0xc0) == 0x80)
					keep--;
			}
			rc = buf_add(&b, names[i], keep);
			if (!rc)
				rc = buf_addstr(&b, sfx);
			if (rc)
				break;
			taken = sorted_has(sorted, n, b.p);
			for (size_t j = 0; j < i && !taken; j++)
				taken = !strcmp(names[j], b.p);
			if (taken) {
				buf_release(&b);
				continue;
			}
			old[i] = names[i];
			names[i] = buf_detach(&b, NULL);
			if (!names[i]) {
				names[i] = old[i];
				old[i] = NULL;
				rc = -ENOMEM;
			}
			break;
		}
	}
out:
	if (old)
		for (size_t i = 0; i < n; i++)
			free(old[i]);
	free(old);
	free(sorted);
	return rc;
}
