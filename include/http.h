/*
 * http.h - one HTTP(S) exchange over libcurl.
 *
 * TLS is always verified (system CAs, plus ca_file when set). Each
 * struct http owns a curl share handle, so connections, DNS answers and TLS
 * sessions are reused across requests and threads. No lock is held while a
 * request is in flight. Replies are capped at max_body bytes.
 *
 * Usage:
 *   struct http_req rq; http_req_init(&rq, "POST", endpoint, "/", NULL);
 *   buf_addstr(&rq.body, "{}"); http_req_add_header(&rq, "Content-Type", "application/json");
 *   prov->sign(conn, &rq, time(NULL), &err);
 *   struct http_resp rs; http_resp_init(&rs, max_body);
 *   rc = http_perform(h, &rq, &rs, deadline_ns, &err);
 *   ...; http_resp_release(&rs); http_req_release(&rq);
 */
#ifndef GCF_HTTP_H
#define GCF_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "gcf_error.h"

struct http_header {
	char *name;
	char *value;
};

struct http_req {
	const char *method; /* "GET" or "POST"; static string */
	char *scheme;       /* "https" or "http" */
	char *host;         /* Host header value: hostname[:port] as in the endpoint */
	char *hostname;     /* without the port */
	char *path;         /* "/" or "/v2/computeunit"; never empty */
	char *query;        /* raw query without '?', already encoded; "" when none */
	struct buf body;    /* request body (may stay empty) */
	struct http_header *headers;
	size_t nheaders;
};

/* Splits endpoint ("https://host[:port][/base]") and sets method, path
 * (endpoint's base path joined with path) and query (NULL = ""). Returns 0,
 * -EINVAL for an endpoint that is not http(s)://host..., or -ENOMEM. */
int http_req_init(struct http_req *rq, const char *method, const char *endpoint, const char *path,
		  const char *query);
/* Appends a header (copies both strings). Returns 0 or -ENOMEM. */
int http_req_add_header(struct http_req *rq, const char *name, const char *value);
/* Value of the first header whose name matches case-insensitively, or NULL. */
const char *http_req_header(const struct http_req *rq, const char *name);
/* The full URL "scheme://host/path[?query]" into out. 0 or -ENOMEM. */
int http_req_url(const struct http_req *rq, struct buf *out);
/* Frees everything; NULL ok. */
void http_req_release(struct http_req *rq);

struct http_resp {
	long status;       /* HTTP status, 0 if none was received */
	struct buf body;   /* the reply body, capped */
	char *retry_after; /* Retry-After header value, or NULL */
	char *request_id;  /* X-Request-Id / x-bce-request-id / similar header, or NULL */
	double total_s;    /* time the exchange took */
	uint64_t sent_ns;  /* clock_now_ns() when the request went on the wire (connected,
			    * TLS done), 0 if it never did */
};

void http_resp_init(struct http_resp *rs, size_t max_body);
void http_resp_release(struct http_resp *rs);

struct http_opts {
	unsigned connect_timeout_ms; /* 0 = 5000 */
	unsigned timeout_ms;         /* total per request; 0 = 10000 */
	const char *ca_file;         /* extra CA bundle, or NULL */
	size_t max_body;             /* reply cap in bytes; 0 = 32 MiB */
};

struct http;

/* libcurl's global set-up: once per process before the first http_new().
 * 0 or -EIO. */
int http_global_init(void);
void http_global_cleanup(void);
/* NULL on ENOMEM. Copies opts (and ca_file). */
struct http *http_new(const struct http_opts *opts);
void http_free(struct http *h); /* NULL ok */
/* Starts reading the CA certificates on a thread of its own, so that the
 * first request need not wait for it (else it reads them). Call after any
 * fork (daemonizing): a thread does not survive it. NULL ok. */
void http_preload(struct http *h);

/*
 * Performs rq and fills rs. The request may not outlast deadline_ns
 * (CLOCK_MONOTONIC nanoseconds; 0 = only the configured timeout).
 * Returns 0 when an HTTP reply was received (any status: the caller judges
 * it), or a negative errno with err filled: GCF_TIMEOUT, GCF_TRANSPORT
 * (connect/TLS/reset), GCF_REPLY (reply over the cap), GCF_NOMEM.
 * Thread-safe: many threads may call it on one struct http.
 */
int http_perform(struct http *h, const struct http_req *rq, struct http_resp *rs,
		 uint64_t deadline_ns, struct gcf_error *err);

#endif
