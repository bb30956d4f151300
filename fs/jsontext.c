/*
 * jsontext.c - JSON numbers exactly as the cloud wrote them (see jsontext.h).
 *
 * The scanner follows cJSON 1.7.15's reader where it decides what a token
 * is: whitespace is any byte 0-32, a UTF-8 BOM may open the text, a string
 * ends at the first '"' not escaped by a backslash, and the literals are
 * matched by their letters. Numbers are taken by the JSON grammar and then
 * checked against the value cJSON stored.
 */
#include "jsontext.h"

#include <errno.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

/* cJSON reads at most 63 bytes of a number (a longer one fails to parse,
 * except as a whole document, where cJSON reads its first 63 bytes). */
#define NUMBER_MAX 63
/* cJSON refuses deeper nesting (CJSON_NESTING_LIMIT); a deeper tree was not
 * made by its parser. */
#define DEPTH_MAX 1000

struct scan {
	const unsigned char *p, *end;
};

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && *s->p <= 32)
		s->p++;
}

static bool expect(struct scan *s, char c)
{
	skip_ws(s);
	if (s->p >= s->end || *s->p != (unsigned char)c)
		return false;
	s->p++;
	return true;
}

static bool literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n))
		return false;
	s->p += n;
	return true;
}

static bool skip_string(struct scan *s)
{
	if (s->p >= s->end || *s->p != '"')
		return false;
	for (s->p++; s->p < s->end && *s->p != '"'; s->p++)
		if (*s->p == '\\' && ++s->p >= s->end)
			return false;
	if (s->p >= s->end)
		return false;
	s->p++;
	return true;
}

static bool digit(const unsigned char *p, const unsigned char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* Length of the JSON number at p: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * 0 when there is none. */
static size_t number_len(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;

	if (q < end && *q == '-')
		q++;
	if (!digit(q, end))
		return 0;
	if (*q++ != '0')
		while (digit(q, end))
			q++;
	if (q < end && *q == '.') {
		if (!digit(++q, end))
			return 0;
		while (digit(q, end))
			q++;
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < end && (*q == '+' || *q == '-'))
			q++;
		if (!digit(q, end))
			return 0;
		while (digit(q, end))
			q++;
	}
	return (size_t)(q - p);
}

/* Whether strtod reads the n-byte token as d, the way cJSON reads it (the
 * locale's decimal point in place of '.'). */
static bool reads_as(const unsigned char *tok, size_t n, double d)
{
	char tmp[NUMBER_MAX + 1], *end;
	const char *dp = localeconv()->decimal_point;
	double v;

	if (n > NUMBER_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		tmp[i] = tok[i] == '.' && dp && *dp ? *dp : (char)tok[i];
	tmp[n] = '\0';
	v = strtod(tmp, &end);
	return end == tmp + n && v == d;
}

static int set_token(cJSON *v, const unsigned char *tok, size_t n)
{
	char *t = cJSON_malloc(n + 1);

	if (!t)
		return -ENOMEM;
	memcpy(t, tok, n);
	t[n] = '\0';
	cJSON_free(v->valuestring);
	v->valuestring = t;
	return 0;
}

static int walk(struct scan *s, cJSON *v, unsigned depth)
{
	cJSON *c;
	size_t n;
	int rc;

	if (depth > DEPTH_MAX)
		return -EINVAL;
	skip_ws(s);
	switch (v->type & 0xff) {
	case cJSON_False:
		return literal(s, "false") ? 0 : -EINVAL;
	case cJSON_True:
		return literal(s, "true") ? 0 : -EINVAL;
	case cJSON_NULL:
		return literal(s, "null") ? 0 : -EINVAL;
	case cJSON_String:
		return skip_string(s) ? 0 : -EINVAL;
	case cJSON_Number:
		n = number_len(s->p, s->end);
		if (!n || !reads_as(s->p, n, v->valuedouble))
			return -EINVAL;
		rc = set_token(v, s->p, n);
		s->p += n;
		return rc;
	case cJSON_Array:
	case cJSON_Object:
		if (!expect(s, (v->type & 0xff) == cJSON_Array ? '[' : '{'))
			return -EINVAL;
		for (c = v->child; c; c = c->next) {
			if (c != v->child && !expect(s, ','))
				return -EINVAL;
			if ((v->type & 0xff) == cJSON_Object) {
				skip_ws(s);
				if (!skip_string(s) || !expect(s, ':'))
					return -EINVAL;
			}
			rc = walk(s, c, depth + 1);
			if (rc)
				return rc;
		}
		return expect(s, (v->type & 0xff) == cJSON_Array ? ']' : '}') ? 0 : -EINVAL;
	default: /* Raw, Invalid: not from the parser */
		return -EINVAL;
	}
}

/* Drops every kept token (iterative over siblings, recursive over depth). */
static void strip(cJSON *v)
{
	for (; v; v = v->next) {
		if (cJSON_IsNumber(v) && !(v->type & cJSON_IsReference)) {
			cJSON_free(v->valuestring);
			v->valuestring = NULL;
		}
		strip(v->child);
	}
}

int jsontext_attach(cJSON *tree, const char *text, size_t len)
{
	struct scan s;
	int rc = -EINVAL;

	if (!tree)
		return 0;
	if (text) {
		s.p = (const unsigned char *)text;
		s.end = s.p + len;
		if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
			s.p += 3;
		rc = walk(&s, tree, 0);
	}
	if (rc) {
		cJSON *next = tree->next;

		tree->next = NULL; /* only this tree, not its siblings */
		strip(tree);
		tree->next = next;
	}
	return rc;
}

const char *jsontext_token(const cJSON *v)
{
	return cJSON_IsNumber(v) ? v->valuestring : NULL;
}

int jsontext_number(const cJSON *v, struct buf *b)
{
	const char *t = jsontext_token(v);
	char *s;
	int rc;

	if (t)
		return buf_addstr(b, t);
	if (!cJSON_IsNumber(v))
		return -EINVAL;
	s = cJSON_PrintUnformatted(v);
	if (!s)
		return -ENOMEM;
	rc = buf_addstr(b, s);
	cJSON_free(s);
	return rc;
}

int jsontext_scalar(const cJSON *v, struct buf *b)
{
	if (cJSON_IsString(v))
		return buf_addstr(b, v->valuestring ? v->valuestring : "");
	if (cJSON_IsBool(v))
		return buf_addstr(b, cJSON_IsTrue(v) ? "true" : "false");
	if (cJSON_IsNumber(v))
		return jsontext_number(v, b);
	return 1;
}

int jsontext_id(const cJSON *obj, const char *id_field, struct buf *b)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, id_field);

	if (cJSON_IsString(id) && id->valuestring)
		return buf_addstr(b, id->valuestring);
	if (cJSON_IsNumber(id))
		return jsontext_number(id, b);
	return 1;
}

static bool has_token(const cJSON *v)
{
	for (; v; v = v->next)
		if (jsontext_token(v) || has_token(v->child))
			return true;
	return false;
}

/* In a private copy: numbers with a token become raw JSON (the token). */
static void tokens_to_raw(cJSON *v)
{
	for (; v; v = v->next) {
		if (jsontext_token(v))
			v->type = (v->type & ~0xff) | cJSON_Raw;
		tokens_to_raw(v->child);
	}
}

int jsontext_print(const cJSON *v, bool pretty, struct buf *b)
{
	cJSON *copy = NULL;
	char *s;
	int rc;

	if (jsontext_token(v) || (v && has_token(v->child))) {
		copy = cJSON_Duplicate(v, 1);
		if (!copy)
			return -ENOMEM;
		tokens_to_raw(copy);
		v = copy;
	}
	s = pretty ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
	rc = s ? buf_addstr(b, s) : -ENOMEM;
	cJSON_free(s);
	cJSON_Delete(copy);
	return rc;
}

int jsontext_compact(const char *json, size_t len, struct buf *b)
{
	size_t i = 0, start;
	bool in_string = false;
	int rc = 0;

	while (i < len && !rc) {
		start = i;
		for (; i < len; i++) {
			unsigned char c = (unsigned char)json[i];

			if (in_string) {
				if (c == '\\' && i + 1 < len)
					i++;
				else if (c == '"')
					in_string = false;
			} else if (c == '"') {
				in_string = true;
			} else if (c <= 32) {
				break;
			}
		}
		rc = buf_add(b, json + start, i - start);
		while (i < len && (unsigned char)json[i] <= 32)
			i++;
	}
	return rc;
}
