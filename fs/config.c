/*
 * config.c - inih callback -> struct config. The handler only records
 * (section, key, value, line); the records are then judged in file order, so
 * `provider =` may stand anywhere in its section and every message can name
 * file:line:key.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

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

/* Keys shared by every section (global defaults or per-connection). */
struct common {
	unsigned *ttl, *timeout, *connect_timeout, *op_timeout, *concurrency, *max_rps;
	unsigned *retries, *stale_if_error, *refresh_wait;
	char **ca_file;
	size_t *max_body;
};

/* 1 = not a common key; 0 = taken; <0 = bad value (err set). */
static int common_key(const struct common *c, const char *path, const struct record *rec,
		      struct gcf_error *err)
{
	unsigned u;

	struct {
		const char *key;
		unsigned *slot, lo, hi;
		const char *what;
	} nums[] = {
	    {"ttl", c->ttl, 0, 86400 * 30, "a whole number of seconds (0 to 2592000)"},
	    {"timeout", c->timeout, 1, 3600, "a whole number of seconds (1 to 3600)"},
	    {"connect_timeout", c->connect_timeout, 1, 600, "a whole number of seconds (1 to 600)"},
	    {"op_timeout", c->op_timeout, 1, 3600, "a whole number of seconds (1 to 3600)"},
	    {"concurrency", c->concurrency, 1, 16, "a whole number from 1 to 16"},
	    {"max_rps", c->max_rps, 0, 10000, "a whole number of requests per second"},
	    {"retries", c->retries, 0, 10, "a whole number from 0 to 10"},
	    {"stale_if_error", c->stale_if_error, 0, 86400 * 30,
	     "a whole number of seconds (0 to 2592000)"},
	    {"refresh_wait", c->refresh_wait, 0, 3600, "a whole number of seconds (0 to 3600)"},
	};

	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		if (strcmp(rec->key, nums[i].key))
			continue;
		if (!nums[i].slot)
			return 1;
		if (parse_uint(rec->value, nums[i].lo, nums[i].hi, &u))
			return bad(err, path, rec, "'%s' is not %s", rec->value, nums[i].what);
		*nums[i].slot = u;
		return 0;
	}
	if (!strcmp(rec->key, "max_body") && c->max_body) {
		if (parse_uint(rec->value, 1024, 1u << 30, &u))
			return bad(err, path, rec,
				   "'%s' is not a size in bytes (1024 to 1073741824)", rec->value);
		*c->max_body = u;
		return 0;
	}
	if (!strcmp(rec->key, "ca_file") && c->ca_file) {
		struct stat st;

		if (stat(rec->value, &st) || !S_ISREG(st.st_mode))
			return bad(err, path, rec, "'%s' is not a readable file", rec->value);
		free(*c->ca_file);
		*c->ca_file = strdup(rec->value);
		return *c->ca_file ? 0 : -ENOMEM;
	}
	return 1;
}

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
	free(c->endpoint);
	free(c->ca_file);
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
	free(cfg->ca_file);
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

/* Judges every record, in file order. */
static int apply(struct config *cfg, const struct reader *r, const char *path, bool group_readable,
		 struct gcf_error *err)
{
	struct common g = {.ttl = &cfg->ttl_s,
			   .timeout = &cfg->timeout_s,
			   .connect_timeout = &cfg->connect_timeout_s,
			   .op_timeout = &cfg->op_timeout_s,
			   .concurrency = &cfg->concurrency,
			   .max_rps = &cfg->max_rps,
			   .retries = &cfg->retries,
			   .stale_if_error = &cfg->stale_if_error_s,
			   .refresh_wait = &cfg->refresh_wait_s,
			   .ca_file = &cfg->ca_file,
			   .max_body = &cfg->max_body};
	int rc = 0;

	for (size_t i = 0; i < r->n && !rc; i++) {
		const struct record *rec = &r->v[i];
		const struct record *pr;
		const struct provider *p;
		const struct provider_key *pk;
		struct conn *c;

		for (size_t j = 0; j < i; j++)
			if (!strcmp(r->v[j].section, rec->section) &&
			    !strcmp(r->v[j].key, rec->key))
				return bad(err, path, rec, "set twice (first on line %d)",
					   r->v[j].line);
		if (!*rec->section)
			return bad(err, path, rec, "key outside any section");
		if (!strcmp(rec->section, GLOBAL_SECTION) && !strcmp(rec->key, "xattr")) {
			if (!strcmp(rec->value, "yes") || !strcmp(rec->value, "true") ||
			    !strcmp(rec->value, "1"))
				cfg->xattr = true;
			else if (!strcmp(rec->value, "no") || !strcmp(rec->value, "false") ||
				 !strcmp(rec->value, "0"))
				cfg->xattr = false;
			else
				return bad(err, path, rec, "'%s' is not yes or no", rec->value);
			continue;
		}
		if (!strcmp(rec->section, GLOBAL_SECTION)) {
			rc = common_key(&g, path, rec, err);
			if (rc == 1)
				return bad(err, path, rec, "unknown key");
			continue;
		}
		if (!safe_section(rec->section))
			return bad(err, path, rec,
				   "section name must be 1-64 letters, digits, '-', '_' or '.', "
				   "not starting with '.' or '-'");
		pr = provider_record(r, rec->section);
		p = provider_find(pr ? pr->value : rec->section);
		if (!p) {
			if (pr)
				return bad(err, path, pr, "unknown provider '%s'", pr->value);
			return bad(err, path, first_record(r, rec->section),
				   "section '%s' needs a 'provider =' line", rec->section);
		}
		c = find_conn(cfg, rec->section);
		if (!c) {
			rc = new_conn(cfg, p, rec->section, &c);
			if (rc)
				break;
		}
		if (!strcmp(rec->key, "provider"))
			continue;
		if (!strcmp(rec->key, "endpoint")) {
			if (strncmp(rec->value, "https://", 8) && strncmp(rec->value, "http://", 7))
				return bad(err, path, rec, "'%s' is not an http:// or https:// URL",
					   rec->value);
			rc = provider_set_string(&c->endpoint, rec->value);
			continue;
		}
		{
			struct common cc = {.ttl = &c->ttl_s,
					    .timeout = &c->timeout_s,
					    .connect_timeout = &c->connect_timeout_s,
					    .concurrency = &c->concurrency,
					    .max_rps = &c->max_rps,
					    .retries = &c->retries,
					    .stale_if_error = &c->stale_if_error_s,
					    .refresh_wait = &c->refresh_wait_s,
					    .ca_file = &c->ca_file};

			rc = common_key(&cc, path, rec, err);
			if (rc != 1)
				continue;
		}
		pk = provider_key_find(p, rec->key);
		if (!pk)
			return bad(err, path, rec, "unknown key for provider '%s'", p->name);
		if (pk->secret && group_readable)
			return bad(err, path, rec,
				   "the file holds a secret but is readable by group or others; "
				   "run: chmod 600 %s",
				   path);
		{
			struct gcf_error perr = GCF_ERROR_INIT;

			rc = p->configure(c, rec->key, rec->value, &perr);
			if (rc == -ENOMEM)
				gcf_error_move(err, &perr);
			else if (rc)
				rc = bad(err, path, rec, "%s",
					 perr.message ? perr.message : "bad value");
			gcf_error_release(&perr);
		}
	}
	return rc;
}

/* Fills what a connection left unset from the globals, then lets the
 * provider take credentials from the environment and check itself. */
static int finish(struct config *cfg, const struct reader *r, const char *path,
		  struct gcf_error *err)
{
	for (size_t i = 0; i < cfg->nconns; i++) {
		struct conn *c = cfg->conns[i];
		struct gcf_error perr = GCF_ERROR_INIT;
		bool ttl_set = false, retries_set = false, stale_set = false, wait_set = false;
		int rc = 0;

		for (size_t j = 0; j < r->n; j++) {
			if (strcmp(r->v[j].section, c->name))
				continue;
			ttl_set |= !strcmp(r->v[j].key, "ttl");
			retries_set |= !strcmp(r->v[j].key, "retries");
			stale_set |= !strcmp(r->v[j].key, "stale_if_error");
			wait_set |= !strcmp(r->v[j].key, "refresh_wait");
		}
		if (!ttl_set)
			c->ttl_s = cfg->ttl_s;
		if (!retries_set)
			c->retries = cfg->retries;
		if (!stale_set)
			c->stale_if_error_s = cfg->stale_if_error_s;
		if (!wait_set)
			c->refresh_wait_s = cfg->refresh_wait_s;
		if (!c->timeout_s)
			c->timeout_s = cfg->timeout_s;
		if (!c->connect_timeout_s)
			c->connect_timeout_s = cfg->connect_timeout_s;
		if (!c->concurrency)
			c->concurrency = cfg->concurrency;
		if (!c->max_rps)
			c->max_rps = cfg->max_rps;
		if (!c->ca_file && cfg->ca_file)
			rc = provider_set_string(&c->ca_file, cfg->ca_file);
		if (!rc && !c->endpoint)
			rc = provider_set_string(&c->endpoint, c->prov->default_endpoint);
		if (rc)
			return gcf_error_set(err, GCF_NOMEM, "out of memory");
		if (c->prov->finish && c->prov->finish(c, &perr)) {
			const struct record *first = first_record(r, c->name);

			rc = bad(err, path, NULL, "line %d: [%s]: %s", first ? first->line : 0,
				 c->name, perr.message ? perr.message : "incomplete section");
			gcf_error_release(&perr);
			return rc;
		}
		gcf_error_release(&perr);
	}
	return 0;
}

int config_load(const char *path, struct config *cfg, struct gcf_error *err)
{
	struct reader r = {0};
	struct stat st;
	int rc, line;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ttl_s = 60;
	cfg->timeout_s = 10;
	cfg->connect_timeout_s = 5;
	cfg->op_timeout_s = 30;
	cfg->concurrency = 4;
	cfg->retries = 3;
	cfg->xattr = true;
	cfg->stale_if_error_s = 600;
	cfg->refresh_wait_s = 2;
	cfg->max_body = 32u << 20;
	cfg->path = strdup(path);
	if (!cfg->path)
		return gcf_error_set(err, GCF_NOMEM, "out of memory");

	r.f = fopen(path, "r");
	if (!r.f) {
		rc = -errno;
		gcf_error_set(err, GCF_CONFIG, "%s: cannot open: %s", path, strerror(errno));
		err->errnum = -rc;
		config_release(cfg);
		return rc;
	}
	if (fstat(fileno(r.f), &st) || !S_ISREG(st.st_mode)) {
		fclose(r.f);
		config_release(cfg);
		return gcf_error_set(err, GCF_CONFIG, "%s: not a regular file", path);
	}
	line = ini_parse_stream(reader_gets, &r, handler, &r);
	fclose(r.f);
	if (r.oom)
		rc = gcf_error_set(err, GCF_NOMEM, "out of memory");
	else if (line > 0)
		rc = gcf_error_set(err, GCF_CONFIG,
				   "%s:%d: syntax error: expected [section], key = value, or a "
				   "comment",
				   path, line);
	else
		rc = apply(cfg, &r, path, (st.st_mode & 044) != 0, err);
	if (!rc && cfg->nconns == 0)
		rc = bad(err, path, NULL,
			 "no connection configured: add a section such as [tencent] with its "
			 "credentials");
	if (!rc)
		rc = finish(cfg, &r, path, err);
	records_free(&r);
	if (rc)
		config_release(cfg);
	return rc;
}

int config_default_path(struct buf *out)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && *xdg)
		return buf_printf(out, "%s/gpucloudfs/config.ini", xdg);
	return buf_printf(out, "%s/.config/gpucloudfs/config.ini", home && *home ? home : ".");
}

int config_dump(const struct config *cfg, struct buf *out)
{
	int rc = buf_printf(
	    out,
	    "; %s (secrets are never shown)\n[gpucloudfs]\nttl = %u\ntimeout = "
	    "%u\nconnect_timeout = %u\nop_timeout = %u\nconcurrency = %u\n"
	    "max_rps = %u\nretries = %u\nstale_if_error = %u\nrefresh_wait = %u\nxattr = %s\n"
	    "max_body = %zu\n",
	    cfg->path, cfg->ttl_s, cfg->timeout_s, cfg->connect_timeout_s, cfg->op_timeout_s,
	    cfg->concurrency, cfg->max_rps, cfg->retries, cfg->stale_if_error_s,
	    cfg->refresh_wait_s, cfg->xattr ? "yes" : "no", cfg->max_body);

	if (!rc && cfg->ca_file)
		rc = buf_printf(out, "ca_file = %s\n", cfg->ca_file);
	for (size_t i = 0; i < cfg->nconns && !rc; i++) {
		const struct conn *c = cfg->conns[i];

		rc = buf_printf(
		    out,
		    "\n[%s]\nprovider = %s\nendpoint = %s\nttl = %u\ntimeout = %u\n"
		    "connect_timeout = %u\nconcurrency = %u\nmax_rps = %u\nretries = %u\n"
		    "stale_if_error = %u\nrefresh_wait = %u\n",
		    c->name, c->prov->name, c->endpoint, c->ttl_s, c->timeout_s,
		    c->connect_timeout_s, c->concurrency, c->max_rps, c->retries,
		    c->stale_if_error_s, c->refresh_wait_s);
		for (const struct provider_key *k = c->prov->key_table; !rc && k && k->key; k++)
			if (k->secret)
				rc = buf_printf(out, "%s = %s\n", k->key, log_redact(k->key, "x"));
	}
	return rc;
}
