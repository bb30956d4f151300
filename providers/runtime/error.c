/*
 * error.c - the gcf_error record: setting, copying, formatting.
 *
 * See include/gcf_error.h. The class -> errno table lives here and nowhere
 * else.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "gcf_error.h"

void gcf_error_init(struct gcf_error *e)
{
	e->errnum = 0;
	e->cls = GCF_OK;
	e->conn = NULL;
	e->action = NULL;
	e->http_status = 0;
	e->code = NULL;
	e->request_id = NULL;
	e->message = NULL;
}

void gcf_error_release(struct gcf_error *e)
{
	if (!e)
		return;
	free(e->conn);
	free(e->action);
	free(e->code);
	free(e->request_id);
	free(e->message);
	gcf_error_init(e);
}

int gcf_class_errno(enum gcf_class cls)
{
	switch (cls) {
	case GCF_OK:
		return 0;
	case GCF_AUTH:
		return EACCES;
	case GCF_NOTFOUND:
		return ENOENT;
	case GCF_TIMEOUT:
		return ETIMEDOUT;
	case GCF_CONFIG:
		return EINVAL;
	case GCF_NOMEM:
		return ENOMEM;
	case GCF_THROTTLED:
	case GCF_PARAM:
	case GCF_SERVER:
	case GCF_TRANSPORT:
	case GCF_REPLY:
	default:
		return EIO;
	}
}

int gcf_error_vset(struct gcf_error *e, enum gcf_class cls, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	int errnum = gcf_class_errno(cls);

	if (!e)
		return -errnum;
	e->cls = cls;
	e->errnum = errnum;
	free(e->message);
	e->message = NULL;
	/* On ENOMEM the class and errno still stand; only the text is lost. */
	if (buf_vprintf(&b, fmt, ap) == 0)
		e->message = buf_detach(&b, NULL);
	buf_release(&b);
	return -errnum;
}

int gcf_error_set(struct gcf_error *e, enum gcf_class cls, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = gcf_error_vset(e, cls, fmt, ap);
	va_end(ap);
	return rc;
}

static int error_set_field(char **slot, const char *val)
{
	char *copy = NULL;

	if (val) {
		copy = strdup(val);
		if (!copy)
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

int gcf_error_set_code(struct gcf_error *e, const char *code)
{
	return e ? error_set_field(&e->code, code) : 0;
}

int gcf_error_set_request_id(struct gcf_error *e, const char *request_id)
{
	return e ? error_set_field(&e->request_id, request_id) : 0;
}

int gcf_error_set_context(struct gcf_error *e, const char *conn, const char *action)
{
	int rc;

	if (!e)
		return 0;
	rc = error_set_field(&e->conn, conn);
	if (!rc)
		rc = error_set_field(&e->action, action);
	return rc;
}

int gcf_error_copy(struct gcf_error *dst, const struct gcf_error *src)
{
	struct gcf_error t = GCF_ERROR_INIT;
	int rc = 0;

	t.errnum = src->errnum;
	t.cls = src->cls;
	t.http_status = src->http_status;
	if (!rc)
		rc = error_set_field(&t.conn, src->conn);
	if (!rc)
		rc = error_set_field(&t.action, src->action);
	if (!rc)
		rc = error_set_field(&t.code, src->code);
	if (!rc)
		rc = error_set_field(&t.request_id, src->request_id);
	if (!rc)
		rc = error_set_field(&t.message, src->message);
	if (rc) {
		gcf_error_release(&t);
		return rc;
	}
	gcf_error_release(dst);
	*dst = t;
	return 0;
}

void gcf_error_move(struct gcf_error *dst, struct gcf_error *src)
{
	if (dst == src)
		return;
	gcf_error_release(dst);
	*dst = *src;
	gcf_error_init(src);
}

/* Appends "sep" then s, skipping the separator before the first part. */
static int error_part(struct buf *out, int *first, const char *s)
{
	int rc = 0;

	if (!*first)
		rc = buf_addstr(out, ": ");
	if (!rc)
		rc = buf_addstr(out, s);
	*first = 0;
	return rc;
}

int gcf_error_format(const struct gcf_error *e, struct buf *out)
{
	int first = 1, rc = 0;

	if (e->conn && !rc)
		rc = error_part(out, &first, e->conn);
	if (e->action && !rc)
		rc = error_part(out, &first, e->action);
	if (e->http_status && !rc) {
		if (!first)
			rc = buf_addstr(out, ": ");
		if (!rc)
			rc = buf_printf(out, "HTTP %ld", e->http_status);
		first = 0;
	}
	if (e->code && !rc)
		rc = error_part(out, &first, e->code);
	if (!rc) {
		const char *msg = e->message;

		if (!msg)
			msg = e->errnum ? strerror(e->errnum) : "no error";
		rc = error_part(out, &first, msg);
	}
	if (e->request_id && !rc)
		rc = buf_printf(out, " (RequestId %s)", e->request_id);
	return rc;
}
