/*
 * fleet.c - fleet mode on Redis: shared blobs, leases, a shared rate
 * limiter and the circuit breaker that keeps Redis failing from failing a
 * caller. See fleet.h for the API and the key layout, docs/fleet.md for
 * the setup.
 *
 * Every call goes through fleet_begin() (the breaker: FLEET_DOWN at once
 * while open; one caller probes when the back-off ends; a connection from
 * the pool, or a new one) and fleet_end() (a connection with an I/O error
 * or a timeout is dropped and opens the breaker; otherwise it goes back to
 * the pool, and a successful probe closes the breaker). The pool mutex is
 * never held across network I/O.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hiredis.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "clock.h"
#include "crypto.h"
#include "fleet.h"
#include "fleet_lua.h"
#include "gcf_le.h"
#include "log.h"

#define FLEET_POOL_MAX       8    /* idle connections kept */
#define FLEET_WINDOW         16   /* chunk commands in flight per pipeline round */
#define FLEET_GRACE_MS       5000 /* chunks outlive their metadata by this much */
#define FLEET_HEARTBEAT_NS   2000000000ull
#define FLEET_HOST_TTL_MS    10000
#define FLEET_CHUNK_MIN      1024u
#define FLEET_CHUNK_MAX      (64u << 20)
#define FLEET_OLD_CHUNKS_MAX 65536u /* more than this in an old meta: let TTLs do it */

enum fleet_script {
	FS_RATE,
	FS_LEASE_ACQUIRE,
	FS_LEASE_RENEW,
	FS_LEASE_RELEASE,
	FS_HEARTBEAT,
	FS_COUNT
};

static const char *const fleet_scripts[FS_COUNT] = {
    fleet_lua_rate,          fleet_lua_lease_acquire, fleet_lua_lease_renew,
    fleet_lua_lease_release, fleet_lua_heartbeat,
};

struct fleet {
	/* configuration, immutable after fleet_new */
	char *host, *unix_path, *user, *password, *prefix, *host_id;
	char where[160]; /* "host:port" or the socket path, for logs (no secret) */
	int port, db;
	unsigned connect_ms, command_ms, bulk_ms, backoff_min_ms, backoff_max_ms;
	size_t chunk_size, max_blob;
	char sha[FS_COUNT][41];

	/* pool and breaker, under lock */
	pthread_mutex_t lock;
	redisContext *idle[FLEET_POOL_MAX];
	size_t nidle;
	bool down, probing;
	uint64_t until_ns;
	unsigned backoff_ms;

	atomic_bool up;
	atomic_uint size;
	atomic_uint_fast64_t last_heartbeat_ns;
	atomic_uint_fast64_t hits, misses, publications, lease_waits, takeovers, errors, fallbacks,
	    state_changes, rate_waits, bulk_stalls;
};

/* ---------------------------------------------------------------- meta */

static const uint8_t fleet_magic[4] = {'G', 'C', 'F', 'M'};
#define FLEET_META_VERSION 1

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void fleet_meta_encode(const struct fleet_meta *m, uint8_t out[FLEET_META_LEN])
{
	memcpy(out, fleet_magic, 4);
	gcf_put_le16(out + 4, FLEET_META_VERSION);
	gcf_put_le16(out + 6, 0); /* flags: none defined (bit 0 is kept for compression) */
	gcf_put_le64(out + 8, m->length);
	gcf_put_le32(out + 16, m->chunk_size);
	gcf_put_le32(out + 20, m->chunks);
	gcf_put_le64(out + 24, m->published_ms);
	for (int i = 0; i < FLEET_PUB_LEN / 2; i++) {
		int hi = hexval(m->pub[2 * i]), lo = hexval(m->pub[2 * i + 1]);

		out[32 + i] = (uint8_t)(((hi < 0 ? 0 : hi) << 4) | (lo < 0 ? 0 : lo));
	}
	memcpy(out + 40, m->sha256, 32);
}

int fleet_meta_decode(const void *p, size_t n, uint64_t max_blob, struct fleet_meta *m)
{
	const uint8_t *b = p;
	struct fleet_meta d;
	uint64_t want;

	memset(m, 0, sizeof(*m));
	if (!b || n != FLEET_META_LEN || memcmp(b, fleet_magic, 4) != 0)
		return -EINVAL;
	if (gcf_get_le16(b + 4) != FLEET_META_VERSION || gcf_get_le16(b + 6) != 0)
		return -EINVAL;
	memset(&d, 0, sizeof(d));
	d.length = gcf_get_le64(b + 8);
	d.chunk_size = gcf_get_le32(b + 16);
	d.chunks = gcf_get_le32(b + 20);
	d.published_ms = gcf_get_le64(b + 24);
	if (d.length > max_blob || d.chunk_size < FLEET_CHUNK_MIN || d.chunk_size > FLEET_CHUNK_MAX)
		return -EINVAL;
	want = d.length / d.chunk_size + (d.length % d.chunk_size != 0);
	if (want != d.chunks)
		return -EINVAL;
	crypto_hex(b + 32, FLEET_PUB_LEN / 2, d.pub);
	memcpy(d.sha256, b + 40, 32);
	*m = d;
	return 0;
}

size_t fleet_chunk_len(const struct fleet_meta *m, uint32_t i)
{
	uint64_t off;

	if (i >= m->chunks)
		return 0;
	off = (uint64_t)i * m->chunk_size;
	if (m->length - off < m->chunk_size)
		return (size_t)(m->length - off);
	return m->chunk_size;
}

int fleet_blob_verify(const struct fleet_meta *m, const void *p, size_t n)
{
	uint8_t sum[SHA256_LEN];

	if (n != m->length || (n && !p))
		return FLEET_MISS;
	if (crypto_sha256(p ? p : "", n, sum))
		return FLEET_MISS;
	if (memcmp(sum, m->sha256, SHA256_LEN) != 0)
		return FLEET_MISS;
	return 0;
}

/* ---------------------------------------------------------------- config */

static int fleet_sha1_hex(const char *s, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
		return -EIO;
	crypto_hex(md, 20, out);
	return 0;
}

static bool fleet_prefix_ok(const char *p)
{
	size_t n = strlen(p);

	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
		      (p[i] >= '0' && p[i] <= '9') || p[i] == '_' || p[i] == '.' || p[i] == '-'))
			return false;
	return true;
}

/* Parses "redis://[user@]host[:port][/db]" or "unix:/path" into f. */
static int fleet_parse_url(struct fleet *f, const char *url, struct gcf_error *err)
{
	const char *s, *at, *end, *hend, *colon;
	char *tail;
	long v;

	if (strncmp(url, "unix:", 5) == 0) {
		if (url[5] != '/')
			return gcf_error_set(err, GCF_CONFIG,
					     "redis: 'unix:' needs an absolute path");
		f->unix_path = strdup(url + 5);
		if (!f->unix_path)
			return -ENOMEM;
		snprintf(f->where, sizeof(f->where), "%s", f->unix_path);
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return gcf_error_set(err, GCF_CONFIG,
				     "redis: expected redis://host:port/db or unix:/path");
	s = url + 8;
	end = s + strcspn(s, "/");
	at = memchr(s, '@', (size_t)(end - s));
	if (at) {
		if (memchr(s, ':', (size_t)(at - s)))
			return gcf_error_set(
			    err, GCF_CONFIG,
			    "redis: no password in the URL: use redis_password_file");
		if (at > s) {
			f->user = strndup(s, (size_t)(at - s));
			if (!f->user)
				return -ENOMEM;
		}
		s = at + 1;
	}
	if (*s == '[') {
		hend = memchr(s, ']', (size_t)(end - s));
		if (!hend)
			return gcf_error_set(err, GCF_CONFIG,
					     "redis: unterminated '[' in the host");
		f->host = strndup(s + 1, (size_t)(hend - s - 1));
		colon = hend + 1 < end && hend[1] == ':' ? hend + 1 : NULL;
		if (hend + 1 < end && !colon)
			return gcf_error_set(err, GCF_CONFIG, "redis: garbage after ']'");
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		f->host = strndup(s, (size_t)((colon ? colon : end) - s));
	}
	if (!f->host)
		return -ENOMEM;
	if (!f->host[0])
		return gcf_error_set(err, GCF_CONFIG, "redis: no host in the URL");
	f->port = 6379;
	if (colon) {
		errno = 0;
		v = strtol(colon + 1, &tail, 10);
		if (errno || tail != end || v < 1 || v > 65535)
			return gcf_error_set(err, GCF_CONFIG, "redis: bad port in the URL");
		f->port = (int)v;
	}
	if (*end == '/' && end[1]) {
		errno = 0;
		v = strtol(end + 1, &tail, 10);
		if (errno || *tail || v < 0 || v > 1000000)
			return gcf_error_set(err, GCF_CONFIG,
					     "redis: bad database number in the URL");
		f->db = (int)v;
	}
	snprintf(f->where, sizeof(f->where), "%s:%d", f->host, f->port);
	return 0;
}

static int fleet_read_password(struct fleet *f, const char *path, struct gcf_error *err)
{
	struct buf pw = BUF_INIT(4096);
	struct stat st;
	char chunk[256];
	size_t n;
	FILE *fp;
	int rc = 0;

	fp = fopen(path, "re");
	if (!fp)
		return gcf_error_set(err, GCF_CONFIG, "redis_password_file '%s': %s", path,
				     strerror(errno));
	if (fstat(fileno(fp), &st) == 0 && (st.st_mode & 0044)) {
		rc = gcf_error_set(err, GCF_CONFIG,
				   "redis_password_file '%s' is readable by others: chmod 600",
				   path);
		goto out;
	}
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		rc = buf_add(&pw, chunk, n);
	crypto_wipe(chunk, sizeof(chunk));
	if (rc) {
		rc = gcf_error_set(err, GCF_CONFIG, "redis_password_file '%s' is too large", path);
		goto out;
	}
	pw.len = strcspn(buf_str(&pw), "\r\n");
	if (pw.len == 0) {
		rc = gcf_error_set(err, GCF_CONFIG, "redis_password_file '%s' is empty", path);
		goto out;
	}
	f->password = strndup(pw.p, pw.len);
	if (!f->password)
		rc = -ENOMEM;
out:
	if (pw.p)
		crypto_wipe(pw.p, pw.cap);
	buf_release(&pw);
	fclose(fp);
	return rc;
}

void fleet_free(struct fleet *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nidle; i++)
		redisFree(f->idle[i]);
	if (f->password) {
		crypto_wipe(f->password, strlen(f->password));
		free(f->password);
	}
	free(f->host);
	free(f->unix_path);
	free(f->user);
	free(f->prefix);
	free(f->host_id);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

int fleet_new(const struct fleet_config *cfg, struct fleet **out, struct gcf_error *err)
{
	struct fleet *f;
	char hostname[256];
	int rc;

	*out = NULL;
	if (!cfg || !cfg->url || !cfg->url[0])
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	if (pthread_mutex_init(&f->lock, NULL)) {
		free(f);
		return -ENOMEM;
	}
	f->connect_ms = cfg->connect_timeout_ms ? cfg->connect_timeout_ms : 200;
	f->command_ms = cfg->command_timeout_ms ? cfg->command_timeout_ms : 200;
	f->bulk_ms = cfg->bulk_timeout_ms ? cfg->bulk_timeout_ms : 2000;
	if (f->bulk_ms < f->command_ms)
		f->bulk_ms = f->command_ms;
	f->backoff_min_ms = cfg->backoff_min_ms ? cfg->backoff_min_ms : 1000;
	f->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
	if (f->backoff_max_ms < f->backoff_min_ms)
		f->backoff_max_ms = f->backoff_min_ms;
	f->backoff_ms = f->backoff_min_ms;
	f->chunk_size = cfg->chunk_size ? cfg->chunk_size : 256 * 1024;
	f->max_blob = cfg->max_blob ? cfg->max_blob : (size_t)1 << 30;
	atomic_init(&f->up, true);
	atomic_init(&f->size, 1);
	if (f->chunk_size < FLEET_CHUNK_MIN || f->chunk_size > FLEET_CHUNK_MAX) {
		rc = gcf_error_set(err, GCF_CONFIG, "redis: chunk size out of range");
		goto fail;
	}
	rc = fleet_parse_url(f, cfg->url, err);
	if (rc)
		goto fail;
	if (cfg->user && cfg->user[0]) {
		free(f->user);
		f->user = strdup(cfg->user);
		if (!f->user) {
			rc = -ENOMEM;
			goto fail;
		}
	}
	if (cfg->password_file && cfg->password_file[0]) {
		rc = fleet_read_password(f, cfg->password_file, err);
		if (rc)
			goto fail;
	}
	if (cfg->prefix && !fleet_prefix_ok(cfg->prefix)) {
		rc = gcf_error_set(err, GCF_CONFIG,
				   "redis: key prefix must be 1-32 of [A-Za-z0-9_.-]");
		goto fail;
	}
	f->prefix = strdup(cfg->prefix ? cfg->prefix : "gcf");
	if (cfg->host_id && cfg->host_id[0]) {
		f->host_id = strdup(cfg->host_id);
	} else {
		if (gethostname(hostname, sizeof(hostname)) != 0)
			strcpy(hostname, "host");
		hostname[sizeof(hostname) - 1] = '\0';
		f->host_id = malloc(strlen(hostname) + 24);
		if (f->host_id)
			sprintf(f->host_id, "%s:%ld", hostname, (long)getpid());
	}
	if (!f->prefix || !f->host_id) {
		rc = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < FS_COUNT; i++) {
		rc = fleet_sha1_hex(fleet_scripts[i], f->sha[i]);
		if (rc)
			goto fail;
	}
	*out = f;
	return 0;
fail:
	fleet_free(f);
	return rc;
}

int fleet_ns(const struct fleet *f, const char *const *fields, size_t n, char out[FLEET_NS_MAX])
{
	uint8_t sum[SHA256_LEN], len[8];
	char hex[33];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	int ok;

	if (!ctx)
		return -EIO;
	ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	ok = ok && EVP_DigestUpdate(ctx, "gcf-fleet-ns-1", 14);
	for (size_t i = 0; ok && i < n; i++) {
		const char *s = fields[i] ? fields[i] : "";

		gcf_put_le64(len, strlen(s));
		ok = EVP_DigestUpdate(ctx, len, 8) && EVP_DigestUpdate(ctx, s, strlen(s));
	}
	ok = ok && EVP_DigestFinal_ex(ctx, sum, &mdlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -EIO;
	crypto_hex(sum, 16, hex);
	snprintf(out, FLEET_NS_MAX, "%s:%s", f ? f->prefix : "gcf", hex);
	return 0;
}

/* ---------------------------------------------------------------- breaker */

static int fleet_ctx_errno(const redisContext *c)
{
	if (!c)
		return -ENOMEM;
	switch (c->err) {
	case REDIS_ERR_IO:
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == ETIMEDOUT ||
			       errno == EINPROGRESS
			   ? -ETIMEDOUT
			   : -ECONNRESET;
	case REDIS_ERR_EOF:
		return -ECONNRESET;
	case REDIS_ERR_OOM:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

/* Drops every idle connection (after Redis failed they are suspect). */
static void fleet_flush_pool(struct fleet *f)
{
	redisContext *old[FLEET_POOL_MAX];
	size_t n;

	pthread_mutex_lock(&f->lock);
	n = f->nidle;
	memcpy(old, f->idle, n * sizeof(old[0]));
	f->nidle = 0;
	pthread_mutex_unlock(&f->lock);
	for (size_t i = 0; i < n; i++)
		redisFree(old[i]);
}

/* An I/O failure or timeout: open the breaker (one log line when it was
 * closed), or lengthen the back-off when the probe failed. */
static void fleet_failed(struct fleet *f, bool probe, const char *why)
{
	bool opened = false;
	unsigned ms;

	atomic_fetch_add(&f->errors, 1);
	pthread_mutex_lock(&f->lock);
	if (!f->down) {
		f->down = true;
		f->probing = false;
		f->backoff_ms = f->backoff_min_ms;
		f->until_ns = clock_now_ns() + (uint64_t)f->backoff_ms * 1000000ull;
		atomic_store(&f->up, false);
		opened = true;
	} else if (probe) {
		f->probing = false;
		f->backoff_ms =
		    f->backoff_ms * 2 > f->backoff_max_ms ? f->backoff_max_ms : f->backoff_ms * 2;
		f->until_ns = clock_now_ns() + (uint64_t)f->backoff_ms * 1000000ull;
	}
	ms = f->backoff_ms;
	pthread_mutex_unlock(&f->lock);
	if (opened) {
		atomic_fetch_add(&f->state_changes, 1);
		log_warn("fleet: redis '%s' unreachable (%s): local fallback, retrying in %u ms "
			 "then up to every %u ms",
			 f->where, why, ms, f->backoff_max_ms);
	}
	fleet_flush_pool(f);
}

static void fleet_succeeded(struct fleet *f, bool probe)
{
	bool closed = false;

	if (!probe)
		return;
	pthread_mutex_lock(&f->lock);
	if (f->down) {
		f->down = false;
		f->probing = false;
		f->backoff_ms = f->backoff_min_ms;
		atomic_store(&f->up, true);
		closed = true;
	}
	pthread_mutex_unlock(&f->lock);
	if (closed) {
		atomic_fetch_add(&f->state_changes, 1);
		log_info("fleet: redis '%s' reachable again: sharing resumes", f->where);
	}
}

/* Runs one command on a fresh connection during set-up (AUTH, SELECT). */
static int fleet_setup_cmd(redisContext *c, int argc, const char **argv, const char **why)
{
	redisReply *r = redisCommandArgv(c, argc, argv, NULL);
	int rc = 0;

	if (!r) {
		*why = c->errstr;
		return fleet_ctx_errno(c);
	}
	if (r->type == REDIS_REPLY_ERROR) {
		*why = strncmp(r->str, "WRONGPASS", 9) == 0 ? "authentication failed"
							    : "AUTH or SELECT refused";
		rc = -EACCES;
	}
	freeReplyObject(r);
	return rc;
}

static int fleet_connect(struct fleet *f, redisContext **out, const char **why)
{
	struct timeval ct = {f->connect_ms / 1000, (f->connect_ms % 1000) * 1000};
	struct timeval cmd = {f->command_ms / 1000, (f->command_ms % 1000) * 1000};
	redisContext *c;
	char dbs[16];
	int rc;

	*out = NULL;
	c = f->unix_path ? redisConnectUnixWithTimeout(f->unix_path, ct)
			 : redisConnectWithTimeout(f->host, f->port, ct);
	if (!c) {
		*why = "out of memory";
		return -ENOMEM;
	}
	if (c->err) {
		*why = c->errstr;
		rc = fleet_ctx_errno(c);
		if (rc == -ECONNRESET)
			rc = -ECONNREFUSED;
		/* hiredis's message outlives c only as a static string: use ours */
		*why = rc == -ETIMEDOUT ? "connect timed out" : "connect failed";
		redisFree(c);
		return rc;
	}
	if (redisSetTimeout(c, cmd) != REDIS_OK) {
		*why = "cannot set the command timeout";
		redisFree(c);
		return -EIO;
	}
	rc = 0;
	if (f->password) {
		const char *argv[3] = {"AUTH", f->user ? f->user : f->password, f->password};

		rc = fleet_setup_cmd(c, f->user ? 3 : 2, argv, why);
	}
	if (!rc && f->db) {
		const char *argv[2] = {"SELECT", dbs};

		snprintf(dbs, sizeof(dbs), "%d", f->db);
		rc = fleet_setup_cmd(c, 2, argv, why);
	}
	if (rc) {
		if (rc == -ETIMEDOUT)
			*why = "timed out";
		else if (rc != -EACCES)
			*why = "connection lost";
		redisFree(c);
		return rc;
	}
	*out = c;
	return 0;
}

/* The breaker, then a connection. *probe tells fleet_end this call probes. */
static int fleet_begin(struct fleet *f, redisContext **out, bool *probe)
{
	const char *why = "?";
	redisContext *c = NULL;
	int rc;

	*out = NULL;
	*probe = false;
	if (!f)
		return FLEET_DOWN;
	pthread_mutex_lock(&f->lock);
	if (f->down) {
		if (f->probing || clock_now_ns() < f->until_ns) {
			pthread_mutex_unlock(&f->lock);
			atomic_fetch_add(&f->fallbacks, 1);
			return FLEET_DOWN;
		}
		f->probing = true;
		*probe = true;
	}
	if (f->nidle)
		c = f->idle[--f->nidle];
	pthread_mutex_unlock(&f->lock);
	if (!c) {
		rc = fleet_connect(f, &c, &why);
		if (rc) {
			fleet_failed(f, *probe, why);
			return rc;
		}
	}
	*out = c;
	return 0;
}

/* The per-read/write timeout of c: f->command_ms for small commands,
 * f->bulk_ms while chunks move. A failure sets c->err. */
static void fleet_set_timeout(redisContext *c, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (!c->err)
		(void)redisSetTimeout(c, tv);
}

/* A connection whose chunk transfer stalled past the bulk timeout after
 * Redis had answered this call's first command: Redis is slow, not down.
 * The connection is dropped (replies may be in flight), the error counted,
 * and the breaker left closed (a probe that got this far closes it). */
static void fleet_end_stalled(struct fleet *f, redisContext *c, bool probe)
{
	atomic_fetch_add(&f->errors, 1);
	atomic_fetch_add(&f->bulk_stalls, 1);
	log_debug("fleet: redis '%s': a chunk transfer stalled over %u ms: connection dropped, "
		  "sharing goes on",
		  f->where, f->bulk_ms);
	redisFree(c);
	fleet_succeeded(f, probe);
}

/* rc is the call's result: a broken connection (c->err) is dropped and
 * opens the breaker; otherwise c goes back to the pool. */
static void fleet_end(struct fleet *f, redisContext *c, bool probe)
{
	const char *why;

	if (c->err) {
		why = fleet_ctx_errno(c) == -ETIMEDOUT ? "timed out" : "connection lost";
		redisFree(c);
		fleet_failed(f, probe, why);
		return;
	}
	pthread_mutex_lock(&f->lock);
	if (f->nidle < FLEET_POOL_MAX) {
		f->idle[f->nidle++] = c;
		c = NULL;
	}
	pthread_mutex_unlock(&f->lock);
	if (c)
		redisFree(c);
	fleet_succeeded(f, probe);
}

/* A reply or NULL; NULL means c->err is set. */
static redisReply *fleet_argv(redisContext *c, int argc, const char **argv, const size_t *lens)
{
	return redisCommandArgv(c, argc, argv, lens);
}

static int fleet_reply_error(struct fleet *f, redisContext *c, redisReply *r)
{
	if (!r)
		return fleet_ctx_errno(c);
	atomic_fetch_add(&f->errors, 1);
	log_debug("fleet: redis answered an error: %.*s", (int)(r->len > 200 ? 200 : r->len),
		  r->str ? r->str : "");
	return -EIO;
}

/* EVALSHA, and EVAL when the script cache was flushed (NOSCRIPT). */
static redisReply *fleet_script(struct fleet *f, redisContext *c, enum fleet_script s, int nkeys,
				const char *const *keys, int nargs, const char *const *args)
{
	const char *argv[16];
	char nk[8];
	int argc = 0;
	redisReply *r;

	snprintf(nk, sizeof(nk), "%d", nkeys);
	argv[argc++] = "EVALSHA";
	argv[argc++] = f->sha[s];
	argv[argc++] = nk;
	for (int i = 0; i < nkeys; i++)
		argv[argc++] = keys[i];
	for (int i = 0; i < nargs; i++)
		argv[argc++] = args[i];
	r = fleet_argv(c, argc, argv, NULL);
	if (r && r->type == REDIS_REPLY_ERROR && r->str && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		freeReplyObject(r);
		argv[0] = "EVAL";
		argv[1] = fleet_scripts[s];
		r = fleet_argv(c, argc, argv, NULL);
	}
	return r;
}

/* A script that answers an integer: 0 and *val, or an error. */
static int fleet_script_int(struct fleet *f, enum fleet_script s, int nkeys,
			    const char *const *keys, int nargs, const char *const *args,
			    long long *val)
{
	redisContext *c;
	redisReply *r;
	bool probe;
	int rc;

	rc = fleet_begin(f, &c, &probe);
	if (rc)
		return rc;
	r = fleet_script(f, c, s, nkeys, keys, nargs, args);
	if (r && r->type == REDIS_REPLY_INTEGER) {
		*val = r->integer;
		rc = 0;
	} else {
		rc = fleet_reply_error(f, c, r);
	}
	freeReplyObject(r);
	fleet_end(f, c, probe);
	return rc;
}

/* ---------------------------------------------------------------- blobs */

static int fleet_random_hex(size_t nbytes, char *out)
{
	uint8_t b[32];

	if (nbytes > sizeof(b) || RAND_bytes(b, (int)nbytes) != 1)
		return -EIO;
	crypto_hex(b, nbytes, out);
	return 0;
}

static void fleet_chunk_key(char *out, size_t size, const char *ns, const char *pub, uint32_t i)
{
	snprintf(out, size, "%s:c:%s:%" PRIu32, ns, pub, i);
}

/* Sends SET chunk PX in windows of FLEET_WINDOW and checks every reply. */
static int fleet_put_chunks(struct fleet *f, redisContext *c, const char *ns,
			    const struct fleet_meta *m, const uint8_t *data, uint64_t ttl_ms)
{
	char key[FLEET_NS_MAX + 48], px[24];
	int rc = 0;

	snprintf(px, sizeof(px), "%" PRIu64, ttl_ms + FLEET_GRACE_MS);
	for (uint32_t base = 0; base < m->chunks && !rc; base += FLEET_WINDOW) {
		uint32_t end = m->chunks - base > FLEET_WINDOW ? base + FLEET_WINDOW : m->chunks;

		for (uint32_t i = base; i < end; i++) {
			const char *argv[5] = {
			    "SET", key, (const char *)data + (size_t)i * m->chunk_size, "PX", px};
			size_t lens[5] = {3, 0, fleet_chunk_len(m, i), 2, strlen(px)};

			fleet_chunk_key(key, sizeof(key), ns, m->pub, i);
			lens[1] = strlen(key);
			if (redisAppendCommandArgv(c, 5, argv, lens) != REDIS_OK)
				return fleet_ctx_errno(c);
		}
		for (uint32_t i = base; i < end; i++) {
			redisReply *r = NULL;

			if (redisGetReply(c, (void **)&r) != REDIS_OK)
				return fleet_ctx_errno(c);
			if (!rc && r->type != REDIS_REPLY_STATUS)
				rc = fleet_reply_error(f, c, r);
			freeReplyObject(r);
		}
	}
	return rc;
}

/* Shortens the life of an older publication's chunks to the grace period. */
static void fleet_expire_old(redisContext *c, const char *ns, const struct fleet_meta *old)
{
	char key[FLEET_NS_MAX + 48], grace[16];

	if (old->chunks > FLEET_OLD_CHUNKS_MAX)
		return;
	snprintf(grace, sizeof(grace), "%d", FLEET_GRACE_MS);
	for (uint32_t base = 0; base < old->chunks && !c->err; base += FLEET_WINDOW) {
		uint32_t end =
		    old->chunks - base > FLEET_WINDOW ? base + FLEET_WINDOW : old->chunks;

		for (uint32_t i = base; i < end; i++) {
			const char *argv[3] = {"PEXPIRE", key, grace};

			fleet_chunk_key(key, sizeof(key), ns, old->pub, i);
			if (redisAppendCommandArgv(c, 3, argv, NULL) != REDIS_OK)
				return;
		}
		for (uint32_t i = base; i < end; i++) {
			redisReply *r = NULL;

			if (redisGetReply(c, (void **)&r) != REDIS_OK)
				return;
			freeReplyObject(r);
		}
	}
}

int fleet_publish(struct fleet *f, const char *ns, const void *data, size_t len, uint64_t ttl_ms,
		  uint64_t published_ms, struct fleet_meta *meta_out)
{
	struct fleet_meta m, old;
	uint8_t enc[FLEET_META_LEN];
	char key[FLEET_NS_MAX + 8], px[24];
	struct timespec ts;
	redisContext *c;
	redisReply *r;
	bool probe, bulk = false;
	int rc;

	if (!f)
		return FLEET_DOWN;
	if (!ttl_ms || len > f->max_blob || (len && !data))
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.length = len;
	m.chunk_size = (uint32_t)f->chunk_size;
	m.chunks = (uint32_t)(len / f->chunk_size + (len % f->chunk_size != 0));
	if (!published_ms) {
		clock_gettime(CLOCK_REALTIME, &ts);
		published_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	}
	m.published_ms = published_ms;
	rc = crypto_sha256(len ? data : "", len, m.sha256);
	if (!rc)
		rc = fleet_random_hex(FLEET_PUB_LEN / 2, m.pub);
	if (rc)
		return rc;
	fleet_meta_encode(&m, enc);

	rc = fleet_begin(f, &c, &probe);
	if (rc)
		return rc;
	/* Redis answers a small command at the command timeout (or the breaker
	 * opens), then the chunks move at the bulk timeout. */
	{
		const char *argv[1] = {"PING"};

		r = fleet_argv(c, 1, argv, NULL);
		rc = r && r->type == REDIS_REPLY_STATUS ? 0 : fleet_reply_error(f, c, r);
		freeReplyObject(r);
	}
	if (!rc) {
		bulk = true;
		fleet_set_timeout(c, f->bulk_ms);
		rc = fleet_put_chunks(f, c, ns, &m, data, ttl_ms);
		fleet_set_timeout(c, f->command_ms);
	}
	if (!rc) {
		const char *argv[6] = {"SET", key, (const char *)enc, "PX", px, "GET"};
		size_t lens[6] = {3, 0, FLEET_META_LEN, 2, 0, 3};

		snprintf(key, sizeof(key), "%s:m", ns);
		snprintf(px, sizeof(px), "%" PRIu64, ttl_ms);
		lens[1] = strlen(key);
		lens[4] = strlen(px);
		r = fleet_argv(c, 6, argv, lens);
		if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_NIL)) {
			if (r->type == REDIS_REPLY_STRING &&
			    fleet_meta_decode(r->str, r->len, UINT64_MAX, &old) == 0 &&
			    strcmp(old.pub, m.pub) != 0)
				fleet_expire_old(c, ns, &old);
		} else {
			rc = fleet_reply_error(f, c, r);
		}
		freeReplyObject(r);
	}
	if (c->err && bulk && fleet_ctx_errno(c) == -ETIMEDOUT)
		fleet_end_stalled(f, c, probe);
	else
		fleet_end(f, c, probe);
	if (rc)
		return rc;
	atomic_fetch_add(&f->publications, 1);
	if (meta_out)
		*meta_out = m;
	return 0;
}

/* GET meta, then the chunks (pipelined GETs, with the bulk timeout: *bulk
 * set from then on); verifies. On a miss, out is empty. Returns 0,
 * FLEET_MISS, -EFBIG or an I/O error. */
static int fleet_fetch_on(struct fleet *f, redisContext *c, const char *ns, struct buf *out,
			  struct fleet_meta *m, bool *bulk)
{
	char key[FLEET_NS_MAX + 48];
	redisReply *r;
	int rc = 0;

	snprintf(key, sizeof(key), "%s:m", ns);
	{
		const char *argv[2] = {"GET", key};

		r = fleet_argv(c, 2, argv, NULL);
	}
	if (!r || r->type == REDIS_REPLY_ERROR) {
		rc = fleet_reply_error(f, c, r);
		freeReplyObject(r);
		return rc;
	}
	rc = r->type == REDIS_REPLY_STRING ? fleet_meta_decode(r->str, r->len, f->max_blob, m)
					   : FLEET_MISS;
	freeReplyObject(r);
	if (rc)
		return FLEET_MISS;
	if (m->length > out->max)
		return -EFBIG;
	*bulk = true;
	fleet_set_timeout(c, f->bulk_ms);
	for (uint32_t base = 0; base < m->chunks && !rc; base += FLEET_WINDOW) {
		uint32_t end = m->chunks - base > FLEET_WINDOW ? base + FLEET_WINDOW : m->chunks;

		for (uint32_t i = base; i < end; i++) {
			const char *argv[2] = {"GET", key};

			fleet_chunk_key(key, sizeof(key), ns, m->pub, i);
			if (redisAppendCommandArgv(c, 2, argv, NULL) != REDIS_OK)
				return fleet_ctx_errno(c);
		}
		for (uint32_t i = base; i < end; i++) {
			r = NULL;
			if (redisGetReply(c, (void **)&r) != REDIS_OK)
				return fleet_ctx_errno(c);
			if (!rc && r->type == REDIS_REPLY_ERROR)
				rc = fleet_reply_error(f, c, r);
			else if (!rc &&
				 (r->type != REDIS_REPLY_STRING || r->len != fleet_chunk_len(m, i)))
				rc = FLEET_MISS;
			else if (!rc)
				rc = buf_add(out, r->str, r->len);
			freeReplyObject(r);
		}
	}
	fleet_set_timeout(c, f->command_ms);
	if (!rc)
		rc = fleet_blob_verify(m, out->p, out->len);
	return rc;
}

int fleet_fetch(struct fleet *f, const char *ns, struct buf *out, struct fleet_meta *meta)
{
	struct fleet_meta m;
	redisContext *c;
	bool probe, bulk = false;
	int rc;

	buf_reset(out);
	if (meta)
		memset(meta, 0, sizeof(*meta));
	rc = fleet_begin(f, &c, &probe);
	if (rc)
		return rc;
	memset(&m, 0, sizeof(m));
	rc = fleet_fetch_on(f, c, ns, out, &m, &bulk);
	if (c->err && bulk && fleet_ctx_errno(c) == -ETIMEDOUT)
		fleet_end_stalled(f, c, probe);
	else
		fleet_end(f, c, probe);
	if (rc) {
		buf_reset(out);
		if (rc == FLEET_MISS)
			atomic_fetch_add(&f->misses, 1);
		return rc;
	}
	atomic_fetch_add(&f->hits, 1);
	if (meta)
		*meta = m;
	return 0;
}

/* The publication id in the meta key, or "" when there is none. */
static int fleet_current_pub(struct fleet *f, const char *ns, char pub[FLEET_PUB_LEN + 1],
			     bool *leased)
{
	char mkey[FLEET_NS_MAX + 8], lkey[FLEET_NS_MAX + 8];
	const char *a1[2] = {"GET", mkey}, *a2[2] = {"EXISTS", lkey};
	struct fleet_meta m;
	redisContext *c;
	redisReply *r = NULL;
	bool probe;
	int rc;

	pub[0] = '\0';
	*leased = false;
	rc = fleet_begin(f, &c, &probe);
	if (rc)
		return rc;
	snprintf(mkey, sizeof(mkey), "%s:m", ns);
	snprintf(lkey, sizeof(lkey), "%s:lease", ns);
	if (redisAppendCommandArgv(c, 2, a1, NULL) != REDIS_OK ||
	    redisAppendCommandArgv(c, 2, a2, NULL) != REDIS_OK ||
	    redisGetReply(c, (void **)&r) != REDIS_OK) {
		rc = fleet_ctx_errno(c);
		goto out;
	}
	if (r->type == REDIS_REPLY_STRING &&
	    fleet_meta_decode(r->str, r->len, f->max_blob, &m) == 0)
		memcpy(pub, m.pub, FLEET_PUB_LEN + 1);
	freeReplyObject(r);
	r = NULL;
	if (redisGetReply(c, (void **)&r) != REDIS_OK) {
		rc = fleet_ctx_errno(c);
		goto out;
	}
	if (r->type == REDIS_REPLY_INTEGER)
		*leased = r->integer > 0;
	else
		rc = fleet_reply_error(f, c, r);
	freeReplyObject(r);
out:
	fleet_end(f, c, probe);
	return rc;
}

int fleet_wait_publication(struct fleet *f, const char *ns, const char *since_pub,
			   uint64_t deadline_ns, unsigned poll_ms, struct buf *out,
			   struct fleet_meta *meta)
{
	char pub[FLEET_PUB_LEN + 1];
	bool leased;
	uint64_t now;
	int rc;

	if (!f)
		return FLEET_DOWN;
	atomic_fetch_add(&f->lease_waits, 1);
	if (!poll_ms)
		poll_ms = 50;
	for (;;) {
		rc = fleet_current_pub(f, ns, pub, &leased);
		if (rc)
			return rc;
		if (pub[0] && (!since_pub || strcmp(pub, since_pub) != 0)) {
			rc = fleet_fetch(f, ns, out, meta);
			if (rc != FLEET_MISS)
				return rc;
		}
		if (!leased)
			return -EAGAIN;
		now = clock_now_ns();
		if (now >= deadline_ns)
			return FLEET_DEADLINE;
		{
			uint64_t left = deadline_ns - now, step = (uint64_t)poll_ms * 1000000ull;
			struct timespec ts;

			if (step > left)
				step = left;
			ts.tv_sec = (time_t)(step / 1000000000ull);
			ts.tv_nsec = (long)(step % 1000000000ull);
			nanosleep(&ts, NULL);
		}
	}
}

/* ---------------------------------------------------------------- leases */

static void fleet_lease_keys(const struct fleet_lease *l, char last[FLEET_NS_MAX + 16])
{
	snprintf(last, FLEET_NS_MAX + 16, "%s:last", l->key);
}

static void fleet_lease_ttls(uint64_t ttl_ms, char a[24], char b[24])
{
	uint64_t last = ttl_ms * 4 > 60000 ? ttl_ms * 4 : 60000;

	snprintf(a, 24, "%" PRIu64, ttl_ms);
	snprintf(b, 24, "%" PRIu64, last);
}

int fleet_lease_acquire(struct fleet *f, const char *ns, uint64_t ttl_ms, struct fleet_lease *l)
{
	char last[FLEET_NS_MAX + 16], a[24], b[24];
	long long v = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	if (!f)
		return FLEET_DOWN;
	if (!ttl_ms)
		return -EINVAL;
	snprintf(l->key, sizeof(l->key), "%s:lease", ns);
	rc = fleet_random_hex(16, l->token);
	if (rc)
		return rc;
	fleet_lease_keys(l, last);
	fleet_lease_ttls(ttl_ms, a, b);
	{
		const char *keys[2] = {l->key, last}, *args[3] = {l->token, a, b};

		rc = fleet_script_int(f, FS_LEASE_ACQUIRE, 2, keys, 3, args, &v);
	}
	if (rc)
		return rc;
	if (v == 0) {
		atomic_fetch_add(&f->lease_waits, 1);
		return FLEET_HELD;
	}
	if (v == 2) {
		l->takeover = true;
		atomic_fetch_add(&f->takeovers, 1);
	}
	return 0;
}

static int fleet_lease_run(struct fleet *f, enum fleet_script s, const struct fleet_lease *l,
			   uint64_t ttl_ms)
{
	char last[FLEET_NS_MAX + 16], a[24], b[24];
	const char *keys[2] = {l->key, last}, *args[3] = {l->token, a, b};
	long long v = 0;
	int rc;

	if (!f)
		return FLEET_DOWN;
	fleet_lease_keys(l, last);
	fleet_lease_ttls(ttl_ms ? ttl_ms : 1, a, b);
	rc = fleet_script_int(f, s, 2, keys, 3, args, &v);
	if (rc)
		return rc;
	return v > 0 ? 0 : FLEET_MISS;
}

int fleet_lease_renew(struct fleet *f, const struct fleet_lease *l, uint64_t ttl_ms)
{
	if (!ttl_ms)
		return -EINVAL;
	return fleet_lease_run(f, FS_LEASE_RENEW, l, ttl_ms);
}

int fleet_lease_release(struct fleet *f, const struct fleet_lease *l)
{
	return fleet_lease_run(f, FS_LEASE_RELEASE, l, 0);
}

/* ---------------------------------------------------------------- rate */

int fleet_heartbeat(struct fleet *f)
{
	char key[64], ttl[16];
	const char *keys[1] = {key}, *args[2];
	long long v = 0;
	int rc;

	if (!f)
		return FLEET_DOWN;
	snprintf(key, sizeof(key), "%s:hosts", f->prefix);
	snprintf(ttl, sizeof(ttl), "%d", FLEET_HOST_TTL_MS);
	args[0] = f->host_id;
	args[1] = ttl;
	atomic_store(&f->last_heartbeat_ns, clock_now_ns());
	rc = fleet_script_int(f, FS_HEARTBEAT, 1, keys, 2, args, &v);
	if (rc)
		return rc;
	if (v >= 1 && v <= 1000000)
		atomic_store(&f->size, (unsigned)v);
	return 0;
}

unsigned fleet_last_size(const struct fleet *f)
{
	return f ? atomic_load(&f->size) : 1;
}

int fleet_rate_acquire(struct fleet *f, const char *key, double rate_per_s, unsigned burst,
		       uint64_t *wait_ns)
{
	char rkey[FLEET_NS_MAX + 8], a[32], b[32];
	const char *keys[1] = {rkey}, *args[2] = {a, b};
	uint64_t last, now, interval_us;
	long long v = 0;
	int rc;

	*wait_ns = 0;
	if (!f)
		return FLEET_DOWN;
	if (!(rate_per_s > 0) || rate_per_s > 1e6)
		return -EINVAL;
	if (burst < 1)
		burst = 1;
	now = clock_now_ns();
	last = atomic_load(&f->last_heartbeat_ns);
	if ((last == 0 || now - last >= FLEET_HEARTBEAT_NS) &&
	    atomic_compare_exchange_strong(&f->last_heartbeat_ns, &last, now))
		(void)fleet_heartbeat(f);
	interval_us = (uint64_t)(1e6 / rate_per_s + 0.5);
	if (!interval_us)
		interval_us = 1;
	snprintf(rkey, sizeof(rkey), "%s:rate", key);
	snprintf(a, sizeof(a), "%" PRIu64, interval_us);
	snprintf(b, sizeof(b), "%" PRIu64, interval_us * (burst - 1));
	rc = fleet_script_int(f, FS_RATE, 1, keys, 2, args, &v);
	if (rc)
		return rc;
	if (v > 0) {
		atomic_fetch_add(&f->rate_waits, 1);
		*wait_ns = (uint64_t)v * 1000ull;
	}
	return 0;
}

/* ---------------------------------------------------------------- state */

bool fleet_is_up(const struct fleet *f)
{
	return f && atomic_load(&f->up);
}

void fleet_stats_get(const struct fleet *f, struct fleet_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!f)
		return;
	out->hits = atomic_load(&f->hits);
	out->misses = atomic_load(&f->misses);
	out->publications = atomic_load(&f->publications);
	out->lease_waits = atomic_load(&f->lease_waits);
	out->takeovers = atomic_load(&f->takeovers);
	out->errors = atomic_load(&f->errors);
	out->fallbacks = atomic_load(&f->fallbacks);
	out->state_changes = atomic_load(&f->state_changes);
	out->rate_waits = atomic_load(&f->rate_waits);
	out->bulk_stalls = atomic_load(&f->bulk_stalls);
	out->fleet_size = atomic_load(&f->size);
	out->up = atomic_load(&f->up);
}
