/*
 * config.c - inih callback -> struct config. The handler only records
 * (section, key, value, line); the records are then judged in file order, so
 * `provider =` may stand anywhere in its section and every message can name
 * file:line:key. What a key means comes from one place: the table
 * config_settings[] (parse, range, scope, default, inheritance, -o, dump),
 * and for a provider's own keys its prov->key_table.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "diskstore.h"
#include "log.h"

#define GLOBAL_SECTION "gpucloudfs"

struct record {
	char *section, *key, *value;
	int line;
};

struct reader {
	FILE *f;
	int line; /* lines handed to inih so far = line of the current record */
	struct record *v;
	size_t n, cap;
	int oom;
	char *linebuf; /* getline()'s buffer */
	size_t linecap;
	char **longs; /* values of lines too long for inih's buffer */
	size_t nlongs;
};

#define LONG_MARK '\x01' /* a value "\x01N" stands for r->longs[N] */

/* Keeps a value inih cannot hold (the system libinih reads lines into a
 * fixed 200-byte buffer; an STS token is longer) and writes in str the short
 * line "key = \x01N" that stands for it. Returns 0, or -1 when the line is
 * not "key = value" (str then gets a line inih reports as a syntax error on
 * the right line number, without echoing any of it). */
static int reader_long(struct reader *r, char *line, size_t len, char *str, int num)
{
	char *eq = strchr(line, '='), *val, *end, **v;
	size_t klen;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	val = line + strspn(line, " \t");
	if (*val == ';' || *val == '#') {
		snprintf(str, (size_t)num, ";\n");
		return 0;
	}
	klen = eq ? (size_t)(eq - line) : 0;
	if (!eq || klen + 16 >= (size_t)num) {
		snprintf(str, (size_t)num, "\x02 line too long\n");
		return -1;
	}
	val = eq + 1 + strspn(eq + 1, " \t");
	end = val + strlen(val);
	while (end > val && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	v = realloc(r->longs, (r->nlongs + 1) * sizeof(*v));
	if (!v) {
		r->oom = 1;
		snprintf(str, (size_t)num, ";\n");
		return 0;
	}
	r->longs = v;
	r->longs[r->nlongs] = strdup(val);
	if (!r->longs[r->nlongs])
		r->oom = 1;
	snprintf(str, (size_t)num, "%.*s= %c%zu\n", (int)klen, line, LONG_MARK, r->nlongs);
	r->nlongs++;
	return 0;
}

/* inih's reader: one whole line per call (getline), counted, so r->line is
 * the line of the record the handler is called for. */
static char *reader_gets(char *str, int num, void *stream)
{
	struct reader *r = stream;
	ssize_t n = getline(&r->linebuf, &r->linecap, r->f);

	if (n < 0)
		return NULL;
	r->line++;
	if (n < num) {
		memcpy(str, r->linebuf, (size_t)n + 1);
		return str;
	}
	reader_long(r, r->linebuf, (size_t)n, str, num);
	return str;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct reader *r = user;
	struct record *rec;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 32;
		struct record *v = realloc(r->v, cap * sizeof(*v));

		if (!v) {
			r->oom = 1;
			return 1;
		}
		r->v = v;
		r->cap = cap;
	}
	rec = &r->v[r->n];
	if (value[0] == LONG_MARK) {
		size_t i = strtoul(value + 1, NULL, 10);

		value = i < r->nlongs && r->longs[i] ? r->longs[i] : "";
	}
	rec->section = strdup(section);
	rec->key = strdup(key);
	rec->value = strdup(value);
	rec->line = r->line;
	if (!rec->section || !rec->key || !rec->value) {
		free(rec->section);
		free(rec->key);
		free(rec->value);
		r->oom = 1;
		return 1;
	}
	r->n++;
	return 1;
}

static void records_free(struct reader *r)
{
	for (size_t i = 0; i < r->nlongs; i++) {
		if (r->longs[i]) {
			memset(r->longs[i], 0, strlen(r->longs[i]));
			free(r->longs[i]);
		}
	}
	free(r->longs);
	if (r->linebuf) {
		memset(r->linebuf, 0, r->linecap);
		free(r->linebuf);
	}
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].section);
		free(r->v[i].key);
		if (r->v[i].value) {
			memset(r->v[i].value, 0, strlen(r->v[i].value));
			free(r->v[i].value);
		}
	}
	free(r->v);
}

static int bad(struct gcf_error *err, const char *path, const struct record *rec, const char *fmt,
	       ...) __attribute__((format(printf, 4, 5)));

static int bad(struct gcf_error *err, const char *path, const struct record *rec, const char *fmt,
	       ...)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	va_list ap;

	va_start(ap, fmt);
	if (rec)
		buf_printf(&b, "%s:%d: [%s] %s: ", path, rec->line, rec->section, rec->key);
	else
		buf_printf(&b, "%s: ", path);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	gcf_error_set(err, GCF_CONFIG, "%s", buf_str(&b));
	buf_release(&b);
	return -EINVAL;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

/* A section name becomes a directory: keep it plain. */
static bool safe_section(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

/* ---- the table of settings ------------------------------------------- */

/* The C type of a field, from the field itself (unevaluated). */
/* clang-format off */
#define STORE_OF(e) _Generic((e), unsigned: CONFIG_STORE_UINT, size_t: CONFIG_STORE_SIZE, \
			     bool: CONFIG_STORE_BOOL, char *: CONFIG_STORE_STR)
#define SLOT(type, field) {offsetof(type, field), STORE_OF(((type *)0)->field)}
/* clang-format on */
#define IN_CFG(field)  .global = SLOT(struct config, field)
#define IN_CONN(field) .conn = SLOT(struct conn, field)
#define IN_BOTH(field) IN_CFG(field), IN_CONN(field)
#define DAYS_30        (86400u * 30)

/* Settings of the file (and of -o), in the order config_dump shows them.
 * Columns: name, type, lo, hi (range of a number), scope, default, then
 * .secret / .cli when true, then the fields that hold it: IN_CFG (struct
 * config), IN_CONN (struct conn) or IN_BOTH (same name in both). */
const struct config_setting config_settings[] = {
    {"provider", CONFIG_PROVIDER, 0, 0, CONFIG_CONN, 0, .conn = {0, CONFIG_STORE_NONE}},
    {"endpoint", CONFIG_URL, 0, 0, CONFIG_CONN, 0, IN_CONN(endpoint)},
    {"ttl", CONFIG_SECONDS, 0, DAYS_30, CONFIG_BOTH, 60, .cli = true, IN_BOTH(ttl_s)},
    {"timeout", CONFIG_SECONDS, 1, 3600, CONFIG_BOTH, 10, IN_BOTH(timeout_s)},
    {"connect_timeout", CONFIG_SECONDS, 1, 600, CONFIG_BOTH, 5, IN_BOTH(connect_timeout_s)},
    {"op_timeout", CONFIG_SECONDS, 1, 3600, CONFIG_GLOBAL, 30, IN_CFG(op_timeout_s)},
    {"concurrency", CONFIG_COUNT, 1, 16, CONFIG_BOTH, 4, IN_BOTH(concurrency)},
    {"max_rps", CONFIG_RATE, 0, 10000, CONFIG_BOTH, 0, IN_BOTH(max_rps)},
    {"retries", CONFIG_COUNT, 0, 10, CONFIG_BOTH, 3, IN_BOTH(retries)},
    {"stale_if_error", CONFIG_SECONDS, 0, DAYS_30, CONFIG_BOTH, 600, IN_BOTH(stale_if_error_s)},
    {"full_refresh", CONFIG_SECONDS, 0, DAYS_30, CONFIG_BOTH, 600, IN_BOTH(full_refresh_s)},
    {"refresh_wait", CONFIG_SECONDS, 0, 3600, CONFIG_BOTH, 2, IN_BOTH(refresh_wait_s)},
    {"prefetch", CONFIG_BOOL, 0, 1, CONFIG_BOTH, false, IN_BOTH(prefetch)},
    {"xattr", CONFIG_BOOL, 0, 1, CONFIG_GLOBAL, true, IN_CFG(xattr)},
    {"max_nodes", CONFIG_COUNT, 0, 100000000, CONFIG_GLOBAL, 131072, IN_CFG(max_nodes)},
    {"max_body", CONFIG_BYTES, 1024, 1u << 30, CONFIG_GLOBAL, 32u << 20, IN_CFG(max_body)},
    {"ca_file", CONFIG_PATH, 0, 0, CONFIG_BOTH, 0, IN_BOTH(ca_file)},
    {"redis", CONFIG_REDIS, 0, 0, CONFIG_GLOBAL, 0, IN_CFG(redis)},
    {"redis_user", CONFIG_TEXT, 0, 0, CONFIG_GLOBAL, 0, IN_CFG(redis_user)},
    {"redis_password_file", CONFIG_PATH, 0, 0, CONFIG_GLOBAL, 0, IN_CFG(redis_password_file)},
    {"redis_prefix", CONFIG_TEXT, 0, 0, CONFIG_GLOBAL, 0, IN_CFG(redis_prefix)},
    {"cache_dir", CONFIG_DIR, 0, 0, CONFIG_GLOBAL, 0, .cli = true, IN_CFG(cache_dir)},
    {NULL},
};

/* The setting called name (len bytes of it), or NULL. */
static const struct config_setting *setting_find(const char *name, size_t len)
{
	for (const struct config_setting *s = config_settings; s->name; s++)
		if (strlen(s->name) == len && !memcmp(s->name, name, len))
			return s;
	return NULL;
}

/* What a good value of s is, after "'value' is not ". */
static int setting_what(const struct config_setting *s, struct buf *out)
{
	switch (s->type) {
	case CONFIG_SECONDS:
		return buf_printf(out, "a whole number of seconds (%u to %u)", s->lo, s->hi);
	case CONFIG_COUNT:
		return buf_printf(out, "a whole number from %u to %u", s->lo, s->hi);
	case CONFIG_RATE:
		return buf_addstr(out, "a whole number of requests per second");
	case CONFIG_BYTES:
		return buf_printf(out, "a size in bytes (%u to %u)", s->lo, s->hi);
	case CONFIG_BOOL:
		return buf_addstr(out, "yes or no");
	case CONFIG_PATH:
		return buf_addstr(out, "a readable file");
	case CONFIG_URL:
		return buf_addstr(out, "an http:// or https:// URL");
	case CONFIG_PROVIDER:
		return buf_addstr(out, "a provider");
	case CONFIG_REDIS:
		return buf_addstr(out, "a redis://host:port/db URL or unix:/path");
	case CONFIG_TEXT:
		return buf_addstr(out, "a non-empty value");
	case CONFIG_DIR:
		return buf_addstr(out, "an absolute path or none");
	}
	return -EINVAL;
}

/* Checks value against s; a number or bool goes to *num. 0 or -EINVAL. */
static int setting_parse(const struct config_setting *s, const char *value, unsigned *num)
{
	struct stat st;

	*num = 0;
	switch (s->type) {
	case CONFIG_SECONDS:
	case CONFIG_COUNT:
	case CONFIG_RATE:
	case CONFIG_BYTES:
		return parse_uint(value, s->lo, s->hi, num);
	case CONFIG_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") || !strcmp(value, "1")) {
			*num = 1;
			return 0;
		}
		return !strcmp(value, "no") || !strcmp(value, "false") || !strcmp(value, "0")
			   ? 0
			   : -EINVAL;
	case CONFIG_PATH:
		return !stat(value, &st) && S_ISREG(st.st_mode) ? 0 : -EINVAL;
	case CONFIG_URL:
		return strncmp(value, "https://", 8) && strncmp(value, "http://", 7) ? -EINVAL : 0;
	case CONFIG_PROVIDER:
		return 0;
	case CONFIG_REDIS:
		return strncmp(value, "redis://", 8) && strncmp(value, "unix:", 5) ? -EINVAL : 0;
	case CONFIG_TEXT:
		return *value ? 0 : -EINVAL;
	case CONFIG_DIR:
		return value[0] == '/' || !strcmp(value, "none") ? 0 : -EINVAL;
	}
	return -EINVAL;
}

static void *slot_ptr(const struct config_slot *sl, const void *base)
{
	return (char *)base + sl->off;
}

/* Stores num (numbers, bools) or str (strings) in the field. 0 or -ENOMEM. */
static int slot_put(const struct config_slot *sl, void *base, unsigned long num, const char *str)
{
	void *p = slot_ptr(sl, base);

	switch (sl->store) {
	case CONFIG_STORE_UINT:
		*(unsigned *)p = (unsigned)num;
		return 0;
	case CONFIG_STORE_SIZE:
		*(size_t *)p = num;
		return 0;
	case CONFIG_STORE_BOOL:
		*(bool *)p = num != 0;
		return 0;
	case CONFIG_STORE_STR:
		return provider_set_string(p, str);
	case CONFIG_STORE_NONE:
		return 0;
	}
	return 0;
}

/* Parses value and stores it in the field: 0, -EINVAL or -ENOMEM. */
static int setting_set(const struct config_setting *s, const struct config_slot *sl, void *base,
		       const char *value)
{
	unsigned num;

	if (setting_parse(s, value, &num))
		return -EINVAL;
	return slot_put(sl, base, num, value);
}

/* Copies the global field of s into the connection's. 0 or -ENOMEM. */
static int slot_copy(const struct config_setting *s, struct conn *to, const struct config *from)
{
	static const size_t size[] = {[CONFIG_STORE_UINT] = sizeof(unsigned),
				      [CONFIG_STORE_SIZE] = sizeof(size_t),
				      [CONFIG_STORE_BOOL] = sizeof(bool)};
	const void *src = slot_ptr(&s->global, from);

	if (s->global.store != CONFIG_STORE_STR)
		memcpy(slot_ptr(&s->conn, to), src, size[s->global.store]);
	else if (*(char *const *)src)
		return slot_put(&s->conn, to, 0, *(char *const *)src);
	return 0;
}

/* Frees (wiping) every string field of base on side `side`. */
static void slots_free(void *base, enum config_scope side)
{
	for (const struct config_setting *s = config_settings; s->name; s++) {
		const struct config_slot *sl = side == CONFIG_GLOBAL ? &s->global : &s->conn;
		char **p = slot_ptr(sl, base);

		if (sl->store == CONFIG_STORE_STR) {
			provider_free_secret(*p);
			*p = NULL;
		}
	}
}

/* "name = value\n" for the field; an unset string is left out. */
static int slot_print(struct buf *out, const struct config_setting *s, const struct config_slot *sl,
		      const void *base)
{
	const void *p = slot_ptr(sl, base);

	switch (sl->store) {
	case CONFIG_STORE_UINT:
		return buf_printf(out, "%s = %u\n", s->name, *(const unsigned *)p);
	case CONFIG_STORE_SIZE:
		return buf_printf(out, "%s = %zu\n", s->name, *(const size_t *)p);
	case CONFIG_STORE_BOOL:
		return buf_printf(out, "%s = %s\n", s->name, *(const bool *)p ? "yes" : "no");
	case CONFIG_STORE_STR:
		if (!*(char *const *)p)
			return 0;
		return buf_printf(out, "%s = %s\n", s->name,
				  s->secret ? "<redacted>" : *(char *const *)p);
	case CONFIG_STORE_NONE:
		return 0;
	}
	return 0;
}

/* ---- connections ------------------------------------------------------ */

void config_conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->priv) {
		if (c->prov && c->prov->release_priv)
			c->prov->release_priv(c->priv);
		else
			free(c->priv);
	}
	free(c->name);
	slots_free(c, CONFIG_CONN);
	free(c);
}

void config_release(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nconns; i++)
		config_conn_free(cfg->conns[i]);
	free(cfg->conns);
	free(cfg->path);
	slots_free(cfg, CONFIG_GLOBAL);
	memset(cfg, 0, sizeof(*cfg));
}

/* The provider for a section: its `provider =` record, else its name. */
static const struct record *provider_record(const struct reader *r, const char *section)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].section, section) && !strcmp(r->v[i].key, "provider"))
			return &r->v[i];
	return NULL;
}

static const struct record *first_record(const struct reader *r, const char *section)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].section, section))
			return &r->v[i];
	return NULL;
}

/* Whether section sets key in the file. */
static bool section_sets(const struct reader *r, const char *section, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].section, section) && !strcmp(r->v[i].key, key))
			return true;
	return false;
}

/* A new connection, with the defaults of the connection-only settings. */
static int new_conn(struct config *cfg, const struct provider *p, const char *name,
		    struct conn **out)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct conn **v;

	if (!c)
		return -ENOMEM;
	c->prov = p;
	c->name = strdup(name);
	c->priv = calloc(1, p->sizeof_priv ? p->sizeof_priv : 1);
	v = realloc(cfg->conns, (cfg->nconns + 1) * sizeof(*v));
	if (v)
		cfg->conns = v;
	if (!c->name || !c->priv || !v) {
		config_conn_free(c);
		return -ENOMEM;
	}
	for (const struct config_setting *s = config_settings; s->name; s++)
		if (s->scope == CONFIG_CONN && s->conn.store != CONFIG_STORE_STR)
			slot_put(&s->conn, c, s->def, NULL);
	cfg->conns[cfg->nconns++] = c;
	*out = c;
	return 0;
}

static struct conn *find_conn(struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nconns; i++)
		if (!strcmp(cfg->conns[i]->name, name))
			return cfg->conns[i];
	return NULL;
}

/* ---- judging the records ----------------------------------------------- */

/* What every judgement needs. */
struct judge {
	const struct reader *r;
	const char *path;
	bool group_readable;
	struct gcf_error *err;
};

static int nomem(struct gcf_error *err)
{
	return gcf_error_set(err, GCF_NOMEM, "out of memory");
}

/* A record that stands where no record may: twice in its section, or
 * outside any section. 0 or -EINVAL. */
static int misplaced(const struct judge *j, size_t i)
{
	const struct record *rec = &j->r->v[i];

	for (size_t k = 0; k < i; k++)
		if (!strcmp(j->r->v[k].section, rec->section) && !strcmp(j->r->v[k].key, rec->key))
			return bad(j->err, j->path, rec, "set twice (first on line %d)",
				   j->r->v[k].line);
	if (!*rec->section)
		return bad(j->err, j->path, rec, "key outside any section");
	return 0;
}

/* A group/other-readable file may hold no secret. */
static int secret_refused(const struct judge *j, const struct record *rec)
{
	return bad(j->err, j->path, rec,
		   "the file holds a secret but is readable by group or others; run: chmod 600 %s",
		   j->path);
}

/* Stores the record's value in the setting's field of base. */
static int take_setting(const struct judge *j, const struct config_setting *s,
			const struct config_slot *sl, void *base, const struct record *rec)
{
	struct buf what = BUF_INIT(BUF_NOLIMIT);
	int rc;

	if (s->secret && j->group_readable)
		return secret_refused(j, rec);
	rc = setting_set(s, sl, base, rec->value);
	if (rc == -ENOMEM)
		return nomem(j->err);
	if (rc) {
		if (setting_what(s, &what))
			rc = nomem(j->err);
		else
			rc =
			    bad(j->err, j->path, rec, "'%s' is not %s", rec->value, buf_str(&what));
	}
	buf_release(&what);
	return rc;
}

static int take_global(const struct judge *j, struct config *cfg, const struct record *rec)
{
	const struct config_setting *s = setting_find(rec->key, strlen(rec->key));

	if (!s || !(s->scope & CONFIG_GLOBAL))
		return bad(j->err, j->path, rec, "unknown key");
	return take_setting(j, s, &s->global, cfg, rec);
}

/* The connection of the record's section, made on its first record once
 * the section name and provider are judged good. */
static int conn_of(const struct judge *j, struct config *cfg, const struct record *rec,
		   struct conn **out)
{
	const struct record *pr;
	const struct provider *p;

	*out = find_conn(cfg, rec->section);
	if (*out)
		return 0;
	if (!safe_section(rec->section))
		return bad(j->err, j->path, rec,
			   "section name must be 1-64 letters, digits, '-', '_' or '.', "
			   "not starting with '.' or '-'");
	pr = provider_record(j->r, rec->section);
	p = provider_find(pr ? pr->value : rec->section);
	if (!p) {
		if (pr)
			return bad(j->err, j->path, pr, "unknown provider '%s'", pr->value);
		return bad(j->err, j->path, first_record(j->r, rec->section),
			   "section '%s' needs a 'provider =' line", rec->section);
	}
	return new_conn(cfg, p, rec->section, out) ? nomem(j->err) : 0;
}

/* A key of a connection: one of its settings, else one of its provider's. */
static int take_conn(const struct judge *j, struct conn *c, const struct record *rec)
{
	const struct config_setting *s = setting_find(rec->key, strlen(rec->key));
	const struct provider_key *pk;
	struct gcf_error perr = GCF_ERROR_INIT;
	int rc;

	if (s && (s->scope & CONFIG_CONN))
		return s->type == CONFIG_PROVIDER ? 0 : take_setting(j, s, &s->conn, c, rec);
	pk = provider_key_find(c->prov, rec->key);
	if (!pk)
		return bad(j->err, j->path, rec, "unknown key for provider '%s'", c->prov->name);
	if (pk->secret && j->group_readable)
		return secret_refused(j, rec);
	rc = c->prov->configure(c, rec->key, rec->value, &perr);
	if (rc == -ENOMEM)
		gcf_error_move(j->err, &perr);
	else if (rc)
		rc = bad(j->err, j->path, rec, "%s", perr.message ? perr.message : "bad value");
	gcf_error_release(&perr);
	return rc;
}

/* Judges every record, in file order. */
static int apply(const struct judge *j, struct config *cfg)
{
	int rc = 0;

	for (size_t i = 0; i < j->r->n && !rc; i++) {
		const struct record *rec = &j->r->v[i];
		struct conn *c;

		rc = misplaced(j, i);
		if (!rc && !strcmp(rec->section, GLOBAL_SECTION))
			rc = take_global(j, cfg, rec);
		else if (!rc && !(rc = conn_of(j, cfg, rec, &c)))
			rc = take_conn(j, c, rec);
	}
	return rc;
}

/* Gives each connection the global value of every setting it did not set,
 * then its provider's endpoint if none, then lets the provider take
 * credentials from the environment and check itself. */
static int finish(const struct judge *j, struct config *cfg)
{
	for (size_t i = 0; i < cfg->nconns; i++) {
		struct conn *c = cfg->conns[i];
		struct gcf_error perr = GCF_ERROR_INIT;
		const struct record *first;
		int rc = 0;

		for (const struct config_setting *s = config_settings; s->name && !rc; s++)
			if (s->scope == CONFIG_BOTH && !section_sets(j->r, c->name, s->name))
				rc = slot_copy(s, c, cfg);
		if (!rc && !c->endpoint)
			rc = provider_set_string(&c->endpoint, c->prov->default_endpoint);
		if (rc)
			return nomem(j->err);
		if (!c->prov->finish || !c->prov->finish(c, &perr))
			continue;
		first = first_record(j->r, c->name);
		rc = bad(j->err, j->path, NULL, "line %d: [%s]: %s", first ? first->line : 0,
			 c->name, perr.message ? perr.message : "incomplete section");
		gcf_error_release(&perr);
		return rc;
	}
	return 0;
}

/* Opens path, checks it is a regular file and hands its lines to inih.
 * 0, or a negative errno with err set. */
static int read_records(const char *path, struct reader *r, bool *group_readable,
			struct gcf_error *err)
{
	struct stat st;
	int line, rc;

	r->f = fopen(path, "r");
	if (!r->f) {
		rc = -errno;
		gcf_error_set(err, GCF_CONFIG, "%s: cannot open: %s", path, strerror(errno));
		err->errnum = -rc;
		return rc;
	}
	if (fstat(fileno(r->f), &st) || !S_ISREG(st.st_mode)) {
		fclose(r->f);
		return gcf_error_set(err, GCF_CONFIG, "%s: not a regular file", path);
	}
	*group_readable = (st.st_mode & 044) != 0;
	line = ini_parse_stream(reader_gets, r, handler, r);
	fclose(r->f);
	if (r->oom)
		return nomem(err);
	if (line > 0)
		return gcf_error_set(err, GCF_CONFIG,
				     "%s:%d: syntax error: expected [section], key = value, or a "
				     "comment",
				     path, line);
	return 0;
}

/* cache_dir when the file does not set it: the default directory, or none
 * when neither XDG_CACHE_HOME nor HOME is an absolute path. */
static int default_cache_dir(struct config *cfg, struct gcf_error *err)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int rc = diskstore_default_dir(&b);

	if (rc == -ENOENT) {
		log_warn("disk cache: off: neither XDG_CACHE_HOME nor HOME is an absolute path");
		rc = provider_set_string(&cfg->cache_dir, "none");
	} else if (!rc) {
		rc = provider_set_string(&cfg->cache_dir, buf_str(&b));
	}
	buf_release(&b);
	return rc ? nomem(err) : 0;
}

int config_load(const char *path, struct config *cfg, struct gcf_error *err)
{
	struct reader r = {0};
	struct judge j = {&r, path, false, err};
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	for (const struct config_setting *s = config_settings; s->name; s++)
		if (s->scope & CONFIG_GLOBAL && s->global.store != CONFIG_STORE_STR)
			slot_put(&s->global, cfg, s->def, NULL);
	cfg->path = strdup(path);
	if (!cfg->path)
		return nomem(err);
	rc = read_records(path, &r, &j.group_readable, err);
	if (!rc)
		rc = apply(&j, cfg);
	if (!rc && cfg->nconns == 0)
		rc = bad(err, path, NULL,
			 "no connection configured: add a section such as [tencent] with its "
			 "credentials");
	if (!rc)
		rc = finish(&j, cfg);
	if (!rc && !cfg->cache_dir)
		rc = default_cache_dir(cfg, err);
	records_free(&r);
	if (rc)
		config_release(cfg);
	return rc;
}

/* ---- the command line --------------------------------------------------- */

static const struct config_setting *cli_setting(const char *opt)
{
	const char *eq = strchr(opt, '=');
	const struct config_setting *s = eq ? setting_find(opt, (size_t)(eq - opt)) : NULL;

	return s && s->cli && !s->secret ? s : NULL;
}

bool config_is_override(const char *opt)
{
	return cli_setting(opt) != NULL;
}

int config_override(struct config *cfg, const char *opt, struct gcf_error *err)
{
	const struct config_setting *s = cli_setting(opt);
	const char *value = s ? strchr(opt, '=') + 1 : NULL;
	struct buf what = BUF_INIT(BUF_NOLIMIT);
	int rc = 0;

	if (!s)
		return gcf_error_set(err, GCF_CONFIG, "-o %.*s: not a setting -o may override",
				     (int)strcspn(opt, "="), opt);
	if (s->scope & CONFIG_GLOBAL)
		rc = setting_set(s, &s->global, cfg, value);
	for (size_t i = 0; i < cfg->nconns && !rc && (s->scope & CONFIG_CONN); i++)
		rc = setting_set(s, &s->conn, cfg->conns[i], value);
	if (rc == -ENOMEM || (rc && setting_what(s, &what)))
		rc = nomem(err);
	else if (rc)
		rc = gcf_error_set(err, GCF_CONFIG, "-o %s: '%s' is not %s", s->name, value,
				   buf_str(&what));
	buf_release(&what);
	return rc;
}

/* ---- showing it -------------------------------------------------------- */

int config_default_path(struct buf *out)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		return buf_printf(out, "%s/gpucloudfs/config.ini", xdg);
	return buf_printf(out, "%s/.config/gpucloudfs/config.ini", home && *home ? home : ".");
}

/* The provider keys of c that are set, read through prov->key_table (each
 * one a char * at k->offset of the private block); secrets redacted. */
static int dump_provider_keys(const struct conn *c, struct buf *out)
{
	int rc = 0;

	for (const struct provider_key *k = c->prov->key_table; !rc && k && k->key; k++) {
		const char *v;

		if (!c->priv || k->offset + sizeof(char *) > c->prov->sizeof_priv)
			continue;
		v = *(char *const *)((const char *)c->priv + k->offset);
		if (!v || !*v)
			continue;
		if (k->secret || log_is_secret_name(k->key))
			v = "<redacted>";
		rc = buf_printf(out, "%s = %s\n", k->key, v);
	}
	return rc;
}

int config_dump(const struct config *cfg, struct buf *out)
{
	int rc =
	    buf_printf(out, "; %s (secrets are never shown)\n[%s]\n", cfg->path, GLOBAL_SECTION);

	for (const struct config_setting *s = config_settings; !rc && s->name; s++)
		if (s->scope & CONFIG_GLOBAL)
			rc = slot_print(out, s, &s->global, cfg);
	for (size_t i = 0; i < cfg->nconns && !rc; i++) {
		const struct conn *c = cfg->conns[i];

		rc = buf_printf(out, "\n[%s]\n", c->name);
		for (const struct config_setting *s = config_settings; !rc && s->name; s++) {
			if (s->type == CONFIG_PROVIDER)
				rc = buf_printf(out, "%s = %s\n", s->name, c->prov->name);
			else if (s->scope & CONFIG_CONN)
				rc = slot_print(out, s, &s->conn, c);
		}
		if (!rc)
			rc = dump_provider_keys(c, out);
	}
	return rc;
}
