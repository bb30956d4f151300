/*
 * fuzz_numbers.c - fs/jsontext.c: a round trip keeps every number token.
 *
 * Input: any bytes, parsed as a reply is (cJSON_ParseWithLength, then
 * jsontext_attach). Checked:
 *  - valid JSON (RFC 8259, read by an independent reader written out below;
 *    numbers of at most 63 bytes, cJSON's limit) always keeps its tokens;
 *  - when tokens are kept: pretty and compact printing give valid JSON whose
 *    number tokens are those of the input, in order, byte for byte; the
 *    compact form of the pretty one is the compact one; parsing the output
 *    again keeps the same tokens;
 *  - when they are not: no node keeps a token and printing is cJSON's own.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fuzz_common.h"
#include "jsontext.h"

/* ---- an independent strict JSON reader that lists the number tokens ---- */

struct toks {
	const uint8_t **p;
	size_t *len;
	size_t n, cap;
	bool oom;
};

static void toks_add(struct toks *t, const uint8_t *p, size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		const uint8_t **np = realloc(t->p, cap * sizeof(*np));
		size_t *nl;

		if (np)
			t->p = np;
		nl = np ? realloc(t->len, cap * sizeof(*nl)) : NULL;
		if (!nl) {
			t->oom = true;
			return;
		}
		t->len = nl;
		t->cap = cap;
	}
	t->p[t->n] = p;
	t->len[t->n++] = len;
}

static void toks_free(struct toks *t)
{
	free(t->p);
	free(t->len);
}

struct rd {
	const uint8_t *p, *end;
	struct toks *t;
	bool long_number; /* a number longer than cJSON reads */
};

static void rd_ws(struct rd *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static bool rd_digits(struct rd *r)
{
	const uint8_t *s = r->p;

	while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
		r->p++;
	return r->p > s;
}

static bool rd_hex(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool rd_value(struct rd *r, int depth);

static bool rd_string(struct rd *r)
{
	if (r->p >= r->end || *r->p != '"')
		return false;
	for (r->p++; r->p < r->end && *r->p != '"'; r->p++) {
		if (*r->p < 0x20)
			return false;
		if (*r->p != '\\')
			continue;
		if (++r->p >= r->end)
			return false;
		if (*r->p == 'u') {
			if (r->end - r->p < 5 || !rd_hex(r->p[1]) || !rd_hex(r->p[2]) ||
			    !rd_hex(r->p[3]) || !rd_hex(r->p[4]))
				return false;
			r->p += 4;
		} else if (!strchr("\"\\/bfnrt", *r->p) || !*r->p) {
			return false;
		}
	}
	if (r->p >= r->end)
		return false;
	r->p++;
	return true;
}

static bool rd_number(struct rd *r)
{
	const uint8_t *s = r->p;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0')
		r->p++;
	else if (r->p >= r->end || *r->p < '1' || *r->p > '9' || !rd_digits(r))
		return false;
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (!rd_digits(r))
			return false;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (!rd_digits(r))
			return false;
	}
	if (r->p - s > 63)
		r->long_number = true;
	toks_add(r->t, s, (size_t)(r->p - s));
	return true;
}

static bool rd_word(struct rd *r, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
		return false;
	r->p += n;
	return true;
}

static bool rd_value(struct rd *r, int depth)
{
	if (depth > 900) /* well inside cJSON's nesting limit */
		return false;
	rd_ws(r);
	if (r->p >= r->end)
		return false;
	switch (*r->p) {
	case '{':
		r->p++;
		rd_ws(r);
		if (r->p < r->end && *r->p == '}')
			return r->p++, true;
		for (;;) {
			rd_ws(r);
			if (!rd_string(r))
				return false;
			rd_ws(r);
			if (r->p >= r->end || *r->p++ != ':' || !rd_value(r, depth + 1))
				return false;
			rd_ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			return r->p < r->end && *r->p++ == '}';
		}
	case '[':
		r->p++;
		rd_ws(r);
		if (r->p < r->end && *r->p == ']')
			return r->p++, true;
		for (;;) {
			if (!rd_value(r, depth + 1))
				return false;
			rd_ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			return r->p < r->end && *r->p++ == ']';
		}
	case '"':
		return rd_string(r);
	case 't':
		return rd_word(r, "true");
	case 'f':
		return rd_word(r, "false");
	case 'n':
		return rd_word(r, "null");
	default:
		return rd_number(r);
	}
}

/* Whether the len bytes at s are one JSON text; its number tokens go to t. */
static bool read_json(const uint8_t *s, size_t len, struct toks *t, bool *long_number)
{
	struct rd r = {s, s + len, t, false};
	bool ok = rd_value(&r, 0);

	rd_ws(&r);
	*long_number = r.long_number;
	return ok && r.p == r.end;
}

/* ---- the tree's tokens, in pre-order (= document order) ----------------- */

static void tree_tokens(const cJSON *v, struct toks *t, size_t *missing)
{
	for (; v; v = v->next) {
		if (cJSON_IsNumber(v)) {
			const char *tok = jsontext_token(v);

			if (tok)
				toks_add(t, (const uint8_t *)tok, strlen(tok));
			else
				(*missing)++;
		}
		tree_tokens(v->child, t, missing);
	}
}

static bool same_tokens(const struct toks *a, const struct toks *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->len[i] != b->len[i] || memcmp(a->p[i], b->p[i], a->len[i]))
			return false;
	return true;
}

static void check_output(const struct buf *out, const struct toks *want)
{
	struct toks got = {0};
	bool long_number;
	bool ok = read_json((const uint8_t *)buf_str(out), out->len, &got, &long_number);

	if (!got.oom) {
		FUZZ_CHECK(ok, "the output is not JSON: %s", buf_str(out));
		FUZZ_CHECK(same_tokens(&got, want),
			   "the output's %zu number tokens are not the "
			   "input's %zu: %s",
			   got.n, want->n, buf_str(out));
	}
	toks_free(&got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *tree = cJSON_ParseWithLength((const char *)data, size);
	struct toks in = {0}, kept = {0};
	struct buf pretty = BUF_INIT(BUF_NOLIMIT), flat = BUF_INIT(BUF_NOLIMIT),
		   compact = BUF_INIT(BUF_NOLIMIT);
	size_t missing = 0;
	bool valid, long_number;
	int rc;

	if (!tree)
		return 0;
	valid = read_json(data, size, &in, &long_number);
	rc = jsontext_attach(tree, (const char *)data, size);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "attach returned %d", rc);
	if (valid && !long_number && !in.oom)
		FUZZ_CHECK(rc == 0, "valid JSON kept no tokens (attach %d)", rc);
	tree_tokens(tree, &kept, &missing);
	if (rc == 0) {
		FUZZ_CHECK(missing == 0, "%zu numbers without their token", missing);
		if (valid && !in.oom && !kept.oom)
			FUZZ_CHECK(same_tokens(&in, &kept), "kept tokens are not the input's");
	} else {
		FUZZ_CHECK(kept.n == 0, "a failed attach left %zu tokens", kept.n);
	}
	if (!jsontext_print(tree, true, &pretty) && !jsontext_print(tree, false, &flat)) {
		if (rc == 0 && !kept.oom) {
			cJSON *again = cJSON_ParseWithLength(pretty.p, pretty.len);
			struct toks back = {0};
			size_t m = 0;

			check_output(&pretty, &kept);
			check_output(&flat, &kept);
			if (again) {
				FUZZ_CHECK(jsontext_attach(again, pretty.p, pretty.len) == 0,
					   "our own output kept no tokens");
				tree_tokens(again, &back, &m);
				if (!back.oom)
					FUZZ_CHECK(same_tokens(&back, &kept),
						   "parsing the output again changed a token");
				toks_free(&back);
				cJSON_Delete(again);
			}
		} else if (rc != 0) {
			char *c = cJSON_Print(tree);

			if (c)
				FUZZ_CHECK(!strcmp(c, buf_str(&pretty)),
					   "without tokens the output is not cJSON's");
			cJSON_free(c);
		}
		if (!jsontext_compact(pretty.p, pretty.len, &compact))
			FUZZ_CHECK(compact.len == flat.len && !memcmp(compact.p, flat.p, flat.len),
				   "compact(pretty) != unformatted:\n%s\n%s", buf_str(&compact),
				   buf_str(&flat));
	}
	buf_release(&pretty);
	buf_release(&flat);
	buf_release(&compact);
	toks_free(&in);
	toks_free(&kept);
	cJSON_Delete(tree);
	return 0;
}
