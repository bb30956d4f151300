/*
 * http.c - one HTTP(S) exchange over libcurl (see include/http.h).
 *
 * Each struct http owns a curl share handle (connections, DNS answers and
 * TLS sessions) guarded by one pthread mutex per shared data kind, so a new
 * easy handle per request still reuses warm connections, from any thread.
 * No lock of ours is held while a request is in flight; curl takes the
 * share locks only around its own cache look-ups.
 *
 * TLS is always verified, against one X509_STORE shared by every struct
 * http with the same ca_file: the extra ca_file, curl's default CA bundle
 * and its default CA directory. It is built once, by http_preload's thread
 * after start-up (or by the first request, if that comes sooner). Every new
 * connection's SSL_CTX takes that store (CURLOPT_SSL_CTX_FUNCTION) and curl
 * loads no CA itself: left to curl, each new connection parses the
 * ~140-certificate bundle again (measured: 17 ms per handshake with OpenSSL
 * 3.0, 3 ms without), which a cold listing pays once per concurrent
 * connection.
 *
 * Replies are collected into a capped struct buf; going past the cap aborts
 * the transfer with GCF_REPLY. Retry-After and the cloud's request-id header
 * are captured from the last response's headers.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include "buf.h"
#include "clock.h"
#include "gcf_error.h"
#include "http.h"
#include "log.h"

#ifndef GCF_VERSION
#define GCF_VERSION "0"
#endif

#define HTTP_DEFAULT_CONNECT_MS 5000u
#define HTTP_DEFAULT_TIMEOUT_MS 10000u
#define HTTP_DEFAULT_MAX_BODY   ((size_t)32 << 20)
#define HTTP_MAX_CA_BYTES       ((size_t)16 << 20)

struct http {
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	unsigned connect_timeout_ms;
	unsigned timeout_ms;
	size_t max_body;
	char *ca_file;         /* as configured, for messages */
	pthread_mutex_t ca_mu; /* guards the first setting of store and ca_errnum */
	pthread_t ca_thread;   /* builds the store at start-up, beside the mount */
	bool ca_thread_started;
	X509_STORE *store; /* ca_file + curl's default CA file and directory */
	int ca_errnum;     /* errno from reading ca_file; reported per request */
};

/* ---- requests ----------------------------------------------------------- */

static char *http_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static bool http_valid_port(const char *p, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

static bool http_valid_host_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_';
}

int http_req_init(struct http_req *rq, const char *method, const char *endpoint, const char *path,
		  const char *query)
{
	const char *p, *auth, *auth_end, *name_end;
	struct buf jp = BUF_INIT(BUF_NOLIMIT);
	size_t blen;
	int rc = -ENOMEM;

	memset(rq, 0, sizeof(*rq));
	buf_init(&rq->body, BUF_NOLIMIT);
	rq->method = method;
	if (!method || !endpoint)
		return -EINVAL;

	if (strncasecmp(endpoint, "https://", 8) == 0)
		auth = endpoint + 8;
	else if (strncasecmp(endpoint, "http://", 7) == 0)
		auth = endpoint + 7;
	else
		return -EINVAL;
	rq->scheme = http_strndup(endpoint, (size_t)(auth - endpoint - 3));
	if (!rq->scheme)
		goto fail;
	for (char *s = rq->scheme; *s; s++)
		*s = (char)tolower((unsigned char)*s);

	/* authority: host, host:port, [v6], [v6]:port; no userinfo */
	auth_end = auth + strcspn(auth, "/?#");
	if (*auth_end == '?' || *auth_end == '#')
		goto inval;
	if (*auth == '[') {
		name_end = memchr(auth, ']', (size_t)(auth_end - auth));
		if (!name_end || name_end == auth + 1)
			goto inval;
		for (p = auth + 1; p < name_end; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				goto inval;
		name_end++;
	} else {
		name_end = auth;
		while (name_end < auth_end && *name_end != ':') {
			if (!http_valid_host_char(*name_end))
				goto inval;
			name_end++;
		}
		if (name_end == auth)
			goto inval;
	}
	if (name_end < auth_end) {
		if (*name_end != ':' ||
		    !http_valid_port(name_end + 1, (size_t)(auth_end - name_end - 1)))
			goto inval;
	}
	rq->host = http_strndup(auth, (size_t)(auth_end - auth));
	rq->hostname = http_strndup(auth, (size_t)(name_end - auth));
	if (!rq->host || !rq->hostname)
		goto fail;

	/* base path (trailing '/' dropped) joined with path */
	blen = strlen(auth_end);
	if (strpbrk(auth_end, "?#"))
		goto inval;
	while (blen && auth_end[blen - 1] == '/')
		blen--;
	if (!path || !*path)
		path = "/";
	rc = buf_add(&jp, auth_end, blen);
	if (!rc && *path != '/')
		rc = buf_addch(&jp, '/');
	if (!rc)
		rc = buf_addstr(&jp, path);
	if (rc)
		goto fail;
	rq->path = buf_detach(&jp, NULL);
	rq->query = strdup(query ? query : "");
	if (!rq->path || !rq->query) {
		rc = -ENOMEM;
		goto fail;
	}
	return 0;

inval:
	rc = -EINVAL;
fail:
	buf_release(&jp);
	http_req_release(rq);
	rq->method = method;
	return rc < 0 ? rc : -ENOMEM;
}

int http_req_add_header(struct http_req *rq, const char *name, const char *value)
{
	struct http_header *h;
	char *n, *v;

	n = strdup(name);
	v = strdup(value ? value : "");
	if (!n || !v)
		goto nomem;
	h = realloc(rq->headers, (rq->nheaders + 1) * sizeof(*h));
	if (!h)
		goto nomem;
	rq->headers = h;
	h[rq->nheaders].name = n;
	h[rq->nheaders].value = v;
	rq->nheaders++;
	return 0;
nomem:
	free(n);
	free(v);
	return -ENOMEM;
}

const char *http_req_header(const struct http_req *rq, const char *name)
{
	for (size_t i = 0; i < rq->nheaders; i++)
		if (strcasecmp(rq->headers[i].name, name) == 0)
			return rq->headers[i].value;
	return NULL;
}

int http_req_url(const struct http_req *rq, struct buf *out)
{
	int rc;

	rc = buf_printf(out, "%s://%s%s", rq->scheme, rq->host, rq->path);
	if (!rc && rq->query && *rq->query)
		rc = buf_printf(out, "?%s", rq->query);
	return rc;
}

void http_req_release(struct http_req *rq)
{
	if (!rq)
		return;
	free(rq->scheme);
	free(rq->host);
	free(rq->hostname);
	free(rq->path);
	free(rq->query);
	buf_release(&rq->body);
	for (size_t i = 0; i < rq->nheaders; i++) {
		free(rq->headers[i].name);
		free(rq->headers[i].value);
	}
	free(rq->headers);
	size_t max = rq->body.max;
	memset(rq, 0, sizeof(*rq));
	buf_init(&rq->body, max);
}

/* ---- responses ---------------------------------------------------------- */

void http_resp_init(struct http_resp *rs, size_t max_body)
{
	rs->status = 0;
	buf_init(&rs->body, max_body ? max_body : HTTP_DEFAULT_MAX_BODY);
	rs->retry_after = NULL;
	rs->request_id = NULL;
	rs->total_s = 0;
	rs->sent_ns = 0;
}

void http_resp_release(struct http_resp *rs)
{
	if (!rs)
		return;
	buf_release(&rs->body);
	free(rs->retry_after);
	free(rs->request_id);
	rs->retry_after = NULL;
	rs->request_id = NULL;
	rs->status = 0;
	rs->total_s = 0;
	rs->sent_ns = 0;
}

/* ---- the client --------------------------------------------------------- */

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

static void http_lock(CURL *easy, curl_lock_data data, curl_lock_access access, void *userp)
{
	struct http *h = userp;

	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_lock(&h->locks[data]);
}

static void http_unlock(CURL *easy, curl_lock_data data, void *userp)
{
	struct http *h = userp;

	if ((int)data >= 0 && data < CURL_LOCK_DATA_LAST)
		pthread_mutex_unlock(&h->locks[data]);
}

/* Appends the whole file at path to b. 0 or a negative errno. */
static int http_read_file(const char *path, struct buf *b)
{
	char chunk[8192];
	size_t n;
	FILE *f;
	int rc = 0;

	f = fopen(path, "rb");
	if (!f)
		return -errno;
	while (!rc && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		rc = buf_add(b, chunk, n);
	if (!rc && ferror(f))
		rc = -EIO;
	fclose(f);
	return rc;
}

/* Adds the certificates of the PEM file at path to st. 0, -ENOMEM, or a
 * negative errno kept for the requests' messages (-EBADMSG: none in it). */
static int http_store_add_file(X509_STORE *st, const char *path)
{
	struct buf b = BUF_INIT(HTTP_MAX_CA_BYTES);
	STACK_OF(X509_INFO) *infos = NULL;
	BIO *bio = NULL;
	int rc, n = 0;

	rc = http_read_file(path, &b);
	if (!rc && b.len > 0 && !(bio = BIO_new_mem_buf(b.p, (int)b.len)))
		rc = -ENOMEM;
	if (!rc && bio)
		infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	for (int i = 0; infos && i < sk_X509_INFO_num(infos); i++) {
		X509_INFO *xi = sk_X509_INFO_value(infos, i);

		if (xi->x509 && X509_STORE_add_cert(st, xi->x509))
			n++;
	}
	if (!rc && !n)
		rc = -EBADMSG;
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	buf_release(&b);
	return rc;
}

/* Builds h->store: the extra CA file, then curl's built-in default bundle
 * and directory (absent or unreadable defaults are fine, as with curl). */
static int http_load_ca(struct http *h)
{
	const char *def_file = NULL, *def_dir = NULL;
	CURL *easy;
	int rc = 0;

	h->store = X509_STORE_new();
	if (!h->store)
		return -ENOMEM;
	/* What curl sets on the stores it makes itself. */
	X509_STORE_set_flags(h->store, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
	if (h->ca_file) {
		rc = http_store_add_file(h->store, h->ca_file);
		if (rc == -ENOMEM)
			return rc;
		if (rc) {
			h->ca_errnum = -rc;
			return 0;
		}
	}
	easy = curl_easy_init();
	if (!easy)
		return -ENOMEM;
	if (curl_easy_getinfo(easy, CURLINFO_CAINFO, &def_file) == CURLE_OK && def_file)
		(void)X509_STORE_load_locations(h->store, def_file, NULL);
	if (curl_easy_getinfo(easy, CURLINFO_CAPATH, &def_dir) == CURLE_OK && def_dir)
		(void)X509_STORE_load_locations(h->store, NULL, def_dir);
	ERR_clear_error();
	curl_easy_cleanup(easy);
	return 0;
}

/*
 * Connections with the same ca_file (all of them, in practice) share one
 * store: each holds ~1.3 MiB of parsed certificates. A store leaves the list
 * with its last user.
 */
struct shared_store {
	struct shared_store *next;
	char *ca_file; /* NULL: none */
	X509_STORE *store;
	int ca_errnum;
	unsigned users;
};
static pthread_mutex_t stores_mu = PTHREAD_MUTEX_INITIALIZER;
static struct shared_store *stores;

static bool same_file(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Sets h->store and h->ca_errnum from the list, building them if needed. */
static int http_take_store(struct http *h)
{
	struct shared_store *e;
	int rc = 0;

	pthread_mutex_lock(&stores_mu);
	for (e = stores; e && !same_file(e->ca_file, h->ca_file); e = e->next)
		;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || (h->ca_file && !(e->ca_file = strdup(h->ca_file))) ||
		    (rc = http_load_ca(h)) != 0) {
			X509_STORE_free(h->store);
			h->store = NULL;
			if (e)
				free(e->ca_file);
			free(e);
			pthread_mutex_unlock(&stores_mu);
			return rc ? rc : -ENOMEM;
		}
		X509_STORE_up_ref(h->store); /* the list's reference */
		e->store = h->store;
		e->ca_errnum = h->ca_errnum;
		e->next = stores;
		stores = e;
	} else {
		X509_STORE_up_ref(e->store);
		h->store = e->store;
		h->ca_errnum = e->ca_errnum;
	}
	e->users++;
	pthread_mutex_unlock(&stores_mu);
	return 0;
}

/* Drops h's use of its store (the last user frees it). */
static void http_drop_store(struct http *h)
{
	struct shared_store **pp, *e;

	if (!h->store)
		return;
	pthread_mutex_lock(&stores_mu);
	for (pp = &stores; (e = *pp) && e->store != h->store; pp = &e->next)
		;
	if (e && --e->users == 0) {
		*pp = e->next;
		X509_STORE_free(e->store); /* the list's reference */
		free(e->ca_file);
		free(e);
	}
	pthread_mutex_unlock(&stores_mu);
	X509_STORE_free(h->store); /* h's reference (the creator's, or an up_ref) */
	h->store = NULL;
}

/* Takes h's store if it has none yet. Parsing the CA bundle costs ~17 ms:
 * http_preload starts it on a thread of its own, so that neither the mount
 * (answering in ~9 ms) nor, usually, the first request waits for it; a
 * request that comes sooner waits here. 0 or -ENOMEM. */
static int http_ensure_store(struct http *h)
{
	int rc = 0;

	pthread_mutex_lock(&h->ca_mu);
	if (!h->store)
		rc = http_take_store(h);
	pthread_mutex_unlock(&h->ca_mu);
	return rc;
}

static void *http_ca_main(void *arg)
{
	(void)http_ensure_store(arg); /* a failure is met again by the first request */
	return NULL;
}

void http_preload(struct http *h)
{
	if (h && !h->ca_thread_started)
		h->ca_thread_started = !pthread_create(&h->ca_thread, NULL, http_ca_main, h);
}

/* CURLOPT_SSL_CTX_FUNCTION: the new connection verifies against h->store. */
static CURLcode http_ssl_ctx(CURL *easy, void *ssl_ctx, void *userp)
{
	struct http *h = userp;

	(void)easy;
	SSL_CTX_set1_cert_store(ssl_ctx, h->store);
	return CURLE_OK;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	if (h->share)
		curl_share_cleanup(h->share);
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_destroy(&h->locks[i]);
	if (h->ca_thread_started)
		pthread_join(h->ca_thread, NULL);
	free(h->ca_file);
	http_drop_store(h);
	pthread_mutex_destroy(&h->ca_mu);
	free(h);
}

struct http *http_new(const struct http_opts *opts)
{
	struct http *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&h->locks[i], NULL);
	pthread_mutex_init(&h->ca_mu, NULL);
	h->connect_timeout_ms =
	    opts && opts->connect_timeout_ms ? opts->connect_timeout_ms : HTTP_DEFAULT_CONNECT_MS;
	h->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
	h->max_body = opts && opts->max_body ? opts->max_body : HTTP_DEFAULT_MAX_BODY;
	if (opts && opts->ca_file && *opts->ca_file && !(h->ca_file = strdup(opts->ca_file)))
		goto fail;
	h->share = curl_share_init();
	if (!h->share)
		goto fail;
	if (curl_share_setopt(h->share, CURLSHOPT_LOCKFUNC, http_lock) ||
	    curl_share_setopt(h->share, CURLSHOPT_UNLOCKFUNC, http_unlock) ||
	    curl_share_setopt(h->share, CURLSHOPT_USERDATA, h) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) ||
	    curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION))
		goto fail;
	return h;
fail:
	http_free(h);
	return NULL;
}

/* ---- one exchange ------------------------------------------------------- */

struct http_xfer {
	struct http_resp *rs;
	bool too_big;
	bool nomem;
};

static size_t http_on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb;
	int rc;

	rc = buf_add(&x->rs->body, data, n);
	if (rc == -EFBIG)
		x->too_big = true;
	else if (rc)
		x->nomem = true;
	return rc ? 0 : n;
}

/* Header names that carry the cloud's request id, first match wins. */
static const char *const http_request_id_headers[] = {
    "x-request-id",    "x-bce-request-id",   "x-tc-requestid",
    "x-tc-request-id", "x-ctyun-request-id", "ctyun-eop-request-id",
    "request-id",      "x-amzn-requestid",   NULL,
};

static int http_set_header_value(char **slot, const char *v, size_t n)
{
	char *s = http_strndup(v, n);

	if (!s)
		return -ENOMEM;
	free(*slot);
	*slot = s;
	return 0;
}

static size_t http_on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_xfer *x = userp;
	size_t n = size * nmemb, nlen, vlen;
	const char *colon, *v;

	/* A new status line (redirect, 100 Continue): forget earlier headers. */
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(x->rs->retry_after);
		free(x->rs->request_id);
		x->rs->retry_after = NULL;
		x->rs->request_id = NULL;
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	nlen = (size_t)(colon - data);
	v = colon + 1;
	vlen = n - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen && isspace((unsigned char)v[vlen - 1]))
		vlen--;

	if (nlen == 11 && strncasecmp(data, "retry-after", 11) == 0) {
		if (http_set_header_value(&x->rs->retry_after, v, vlen))
			x->nomem = true;
		return n;
	}
	if (x->rs->request_id)
		return n;
	for (int i = 0; http_request_id_headers[i]; i++) {
		const char *want = http_request_id_headers[i];

		if (strlen(want) == nlen && strncasecmp(data, want, nlen) == 0) {
			if (http_set_header_value(&x->rs->request_id, v, vlen))
				x->nomem = true;
			break;
		}
	}
	return n;
}

/* Builds the curl header list; Host is sent as in the endpoint (signed). */
static int http_build_headers(const struct http_req *rq, struct curl_slist **out)
{
	struct buf line = BUF_INIT(BUF_NOLIMIT);
	struct curl_slist *list = NULL, *t;
	int rc = 0;
	bool debug = log_get_level() >= LOG_LEVEL_DEBUG;

	for (size_t i = 0; i <= rq->nheaders && !rc; i++) {
		const char *name, *value;

		if (i < rq->nheaders) {
			name = rq->headers[i].name;
			value = rq->headers[i].value;
		} else if (!http_req_header(rq, "Host")) {
			name = "Host";
			value = rq->host;
		} else {
			break;
		}
		if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
			rc = -EINVAL;
			break;
		}
		buf_reset(&line);
		/* "Name;" is curl's way to send a header with an empty value */
		rc = *value ? buf_printf(&line, "%s: %s", name, value)
			    : buf_printf(&line, "%s;", name);
		if (rc)
			break;
		t = curl_slist_append(list, buf_str(&line));
		if (!t) {
			rc = -ENOMEM;
			break;
		}
		list = t;
		if (debug)
			log_debug("http: > %s: %s", name, log_redact(name, value));
	}
	/* No "Expect: 100-continue" round trip for larger bodies. */
	if (!rc) {
		t = curl_slist_append(list, "Expect:");
		if (!t)
			rc = -ENOMEM;
		else
			list = t;
	}
	buf_release(&line);
	if (rc) {
		curl_slist_free_all(list);
		return rc;
	}
	*out = list;
	return 0;
}

#define HTTP_SETOPT(opt, val)                                                                      \
	do {                                                                                       \
		if (!cc)                                                                           \
			cc = curl_easy_setopt(easy, opt, val);                                     \
	} while (0)

int http_perform(struct http *h, const struct http_req *rq, struct http_resp *rs,
		 uint64_t deadline_ns, struct gcf_error *err)
{
	char errbuf[CURL_ERROR_SIZE];
	struct buf url = BUF_INIT(BUF_NOLIMIT);
	struct curl_slist *headers = NULL;
	struct http_xfer x = {rs, false, false};
	uint64_t timeout_ms = h->timeout_ms, connect_ms = h->connect_timeout_ms, t0;
	curl_off_t pre_us = 0;
	CURLcode cc = CURLE_OK;
	CURL *easy = NULL;
	int rc;

	if (http_ensure_store(h))
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	if (h->ca_errnum)
		return gcf_error_set(err, GCF_CONFIG, "cannot read ca_file '%s': %s", h->ca_file,
				     h->ca_errnum == EBADMSG ? "no PEM certificate in it"
							     : strerror(h->ca_errnum));
	if (deadline_ns) {
		uint64_t now = clock_now_ns();

		if (now >= deadline_ns)
			return gcf_error_set(err, GCF_TIMEOUT,
					     "deadline passed before the request was sent");
		if ((deadline_ns - now) / 1000000u < timeout_ms)
			timeout_ms = (deadline_ns - now) / 1000000u;
		if (timeout_ms == 0)
			timeout_ms = 1;
	}
	if (connect_ms > timeout_ms)
		connect_ms = timeout_ms;
	if (rs->body.max > h->max_body)
		rs->body.max = h->max_body;

	rc = http_req_url(rq, &url);
	if (!rc)
		rc = http_build_headers(rq, &headers);
	if (rc == -EINVAL) {
		rc = gcf_error_set(err, GCF_CONFIG, "a request header holds a line break");
		goto out;
	}
	if (rc)
		goto nomem;
	easy = curl_easy_init();
	if (!easy)
		goto nomem;
	log_debug("http: %s %s", rq->method, buf_str(&url));

	errbuf[0] = '\0';
	HTTP_SETOPT(CURLOPT_SHARE, h->share);
	HTTP_SETOPT(CURLOPT_URL, buf_str(&url));
	HTTP_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	HTTP_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SETOPT(CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	HTTP_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	HTTP_SETOPT(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	HTTP_SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	HTTP_SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	HTTP_SETOPT(CURLOPT_USERAGENT, "gpucloudfs/" GCF_VERSION);
	HTTP_SETOPT(CURLOPT_HTTPHEADER, headers);
	HTTP_SETOPT(CURLOPT_WRITEFUNCTION, http_on_body);
	HTTP_SETOPT(CURLOPT_WRITEDATA, &x);
	HTTP_SETOPT(CURLOPT_HEADERFUNCTION, http_on_header);
	HTTP_SETOPT(CURLOPT_HEADERDATA, &x);
	HTTP_SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rs->body.max);
	/* curl loads no CA of its own; the callback hands over h->store. */
	HTTP_SETOPT(CURLOPT_CAINFO, NULL);
	HTTP_SETOPT(CURLOPT_CAPATH, NULL);
	HTTP_SETOPT(CURLOPT_SSL_CTX_FUNCTION, http_ssl_ctx);
	HTTP_SETOPT(CURLOPT_SSL_CTX_DATA, h);
	if (strcmp(rq->method, "GET") == 0) {
		HTTP_SETOPT(CURLOPT_HTTPGET, 1L);
	} else {
		if (strcmp(rq->method, "POST") != 0)
			HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, rq->method);
		HTTP_SETOPT(CURLOPT_POST, 1L);
		HTTP_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body.len);
		HTTP_SETOPT(CURLOPT_POSTFIELDS, buf_str(&rq->body));
	}
	if (cc) {
		rc = gcf_error_set(err, GCF_TRANSPORT, "cannot set up the request: %s",
				   curl_easy_strerror(cc));
		goto out;
	}

	t0 = clock_now_ns();
	cc = curl_easy_perform(easy);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &rs->status);
	curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &rs->total_s);
	/* Connecting (TCP, TLS) ends before this: what the rate limiter keys on. */
	if (curl_easy_getinfo(easy, CURLINFO_PRETRANSFER_TIME_T, &pre_us) == CURLE_OK && pre_us > 0)
		rs->sent_ns = t0 + (uint64_t)pre_us * 1000u;

	if (x.nomem || cc == CURLE_OUT_OF_MEMORY)
		goto nomem;
	if (x.too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		rc = gcf_error_set(err, GCF_REPLY, "reply larger than %zu bytes", rs->body.max);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		rc = gcf_error_set(err, GCF_TIMEOUT, "%s %s: %s", rq->method, buf_str(&url),
				   *errbuf ? errbuf : curl_easy_strerror(cc));
	} else if (cc != CURLE_OK) {
		rc = gcf_error_set(err, GCF_TRANSPORT, "%s %s: %s (curl error %d)", rq->method,
				   buf_str(&url), *errbuf ? errbuf : curl_easy_strerror(cc),
				   (int)cc);
	} else {
		rc = 0;
	}
	if (rc && err) {
		err->http_status = rs->status;
		if (rs->request_id && gcf_error_set_request_id(err, rs->request_id))
			goto nomem;
	}
	log_debug("http: < %ld, %zu bytes in %.3f s%s%s%s", rs->status, rs->body.len, rs->total_s,
		  rs->request_id ? " (request id " : "", rs->request_id ? rs->request_id : "",
		  rs->request_id ? ")" : "");
	goto out;

nomem:
	rc = gcf_error_set(err, GCF_NOMEM, "out of memory");
out:
	if (easy)
		curl_easy_cleanup(easy);
	curl_slist_free_all(headers);
	buf_release(&url);
	return rc;
}
