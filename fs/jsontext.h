/*
 * jsontext.h - JSON numbers exactly as the cloud wrote them.
 *
 * cJSON keeps a number only as a double, so 9007199254740993 would come back
 * as 9.00719925474099e+15 and 1e3 as 1000. After a reply is parsed,
 * jsontext_attach() walks the reply's text alongside the tree (both in
 * document order) and gives each Number node a copy of its source token in
 * valuestring (cJSON_Delete and cJSON_Duplicate handle valuestring on every
 * non-reference node; valuedouble stays for code that computes with it).
 * jsontext_print() then prints a tree with those tokens in place of cJSON's
 * own number formatting; every other byte is cJSON_Print's.
 *
 * A token is attached only when it is a number by the JSON grammar and
 * strtod reads it as the very double cJSON stored; a reply whose text cannot
 * be matched to its tree (text cJSON accepts but JSON does not, such as
 * "01") keeps no token at all and prints as cJSON prints it.
 */
#ifndef GCF_JSONTEXT_H
#define GCF_JSONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"

/* Gives every Number node of tree (parsed by cJSON_ParseWithLength from the
 * len bytes at text) its source token. Returns 0; -EINVAL when the text does
 * not match the tree (then no node keeps a token); -ENOMEM (likewise). NULL
 * tree: 0. */
int jsontext_attach(cJSON *tree, const char *text, size_t len);

/* The source token of a Number node, or NULL (not a number, or none kept). */
const char *jsontext_token(const cJSON *v);

/* Appends a number's text: its token, else cJSON's formatting. Returns 0,
 * -EINVAL when v is not a number, or -ENOMEM. */
int jsontext_number(const cJSON *v, struct buf *b);

/* Appends the text of a scalar: a string's value, a number's token, "true"
 * or "false". Returns 0, 1 when v is NULL, null, an array or an object
 * (nothing appended), or -ENOMEM. */
int jsontext_scalar(const cJSON *v, struct buf *b);

/* Appends the object's ID as text: the string, or the number's token, in
 * field id_field. Returns 0, 1 when there is no such string or number
 * (nothing appended), or -ENOMEM. */
int jsontext_id(const cJSON *obj, const char *id_field, struct buf *b);

/* Appends v printed by cJSON (pretty = cJSON_Print, else
 * cJSON_PrintUnformatted), every number as its token. Returns 0 or -ENOMEM. */
int jsontext_print(const cJSON *v, bool pretty, struct buf *b);

/* Appends JSON text without the whitespace between its tokens (the bytes
 * 0-32 outside strings): cJSON_Print's output becomes exactly what
 * cJSON_PrintUnformatted gives for the same tree. Returns 0 or -ENOMEM. */
int jsontext_compact(const char *json, size_t len, struct buf *b);

#endif
