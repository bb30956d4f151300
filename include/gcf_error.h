/*
 * gcf_error.h - the one error record passed upward.
 *
 * Lower layers fill the fields they know: http.c the HTTP status and
 * RequestId, a provider's reply_error the cloud code and message, the cache
 * the connection and action. Neither providers/ nor the runtime logs a
 * failure (http.c only traces requests at debug level): a failed fetch is
 * logged once by fs/status.c (status_record, which also keeps it for
 * .gpucloudfs/errors), and fs/ops.c warns of a request that timed out
 * waiting for someone else's fetch.
 *
 * All strings are owned by the record (malloc'd); gcf_error_release() frees
 * them. A record is "set" when errnum != 0.
 */
#ifndef GCF_ERROR_H
#define GCF_ERROR_H

#include <stdarg.h>

struct buf;

/* What kind of failure; decides the errno (gcf_error_errno) and, later,
 * whether a retry is allowed. */
enum gcf_class {
	GCF_OK = 0,
	GCF_AUTH,      /* bad or unknown credentials, bad signature, denied: EACCES */
	GCF_NOTFOUND,  /* no such object: ENOENT */
	GCF_THROTTLED, /* the cloud asks us to slow down: EAGAIN then EIO */
	GCF_PARAM,     /* the cloud rejected our parameters: EINVAL then EIO */
	GCF_SERVER,    /* cloud-side failure (5xx, InternalError): EIO */
	GCF_TRANSPORT, /* DNS, connect, TLS, reset: EIO */
	GCF_TIMEOUT,   /* a deadline passed: ETIMEDOUT */
	GCF_REPLY,     /* reply unusable: not JSON, wrong shape, too large: EIO */
	GCF_CONFIG,    /* bad configuration or command line: EINVAL */
	GCF_NOMEM,     /* ENOMEM */
};

struct gcf_error {
	int errnum;         /* positive errno; 0 = no error */
	enum gcf_class cls; /* failure class */
	char *conn;         /* connection (section) name, or NULL */
	char *action;       /* API action, or NULL */
	long http_status;   /* 0 when no HTTP reply was received */
	char *code;         /* the cloud's own error code, or NULL */
	char *request_id;   /* the cloud's RequestId, or NULL */
	char *message;      /* human-readable text, lowercase, no final stop */
};

#define GCF_ERROR_INIT                                                                             \
	{                                                                                          \
		0, GCF_OK, NULL, NULL, 0, NULL, NULL, NULL                                         \
	}

void gcf_error_init(struct gcf_error *e);

/* Frees every string and leaves e as gcf_error_init() does. NULL ok. */
void gcf_error_release(struct gcf_error *e);

/* The errno for a class: the one table (auth -> EACCES, missing -> ENOENT,
 * deadline -> ETIMEDOUT, config -> EINVAL, nomem -> ENOMEM, else EIO). */
int gcf_class_errno(enum gcf_class cls);

/* Sets class, errno (from the class) and message (printf). Replaces any
 * earlier message. e may be NULL. Returns -errnum, so that
 * `return gcf_error_set(err, GCF_REPLY, "...")` reads naturally. */
int gcf_error_set(struct gcf_error *e, enum gcf_class cls, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int gcf_error_vset(struct gcf_error *e, enum gcf_class cls, const char *fmt, va_list ap);

/* Replace one string field (NULL clears it). Return 0 or -ENOMEM. */
int gcf_error_set_code(struct gcf_error *e, const char *code);
int gcf_error_set_request_id(struct gcf_error *e, const char *request_id);
int gcf_error_set_context(struct gcf_error *e, const char *conn, const char *action);

/* Deep copy; dst is released first. Returns 0 or -ENOMEM. */
int gcf_error_copy(struct gcf_error *dst, const struct gcf_error *src);

/* Moves src into dst (dst released first); src is left initialised. */
void gcf_error_move(struct gcf_error *dst, struct gcf_error *src);

/* One line, no newline, for logs and error files:
 *   "tencent: DescribeTrainingTasks: HTTP 200: AuthFailure.SignatureFailure:
 *    the signature is wrong (RequestId 1f2e...)"
 * Absent fields are left out. Returns 0 or a negative errno from buf_*. */
int gcf_error_format(const struct gcf_error *e, struct buf *out);

#endif
