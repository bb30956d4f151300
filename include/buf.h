/*
 * buf.h - growable, NUL-terminated byte buffer with a size ceiling.
 *
 * In the spirit of curl's dynbuf and git's strbuf. Every byte that comes
 * from the network lives in a struct buf, never in a fixed array.
 *
 * Invariants: after any successful call, b->p is either NULL (nothing added
 * yet) or points to b->len bytes followed by a NUL. b->len never exceeds
 * b->max. Use buf_str() to read it as a C string (never NULL).
 */
#ifndef GCF_BUF_H
#define GCF_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *p;    /* contents, NUL-terminated; NULL while empty */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* ceiling on len; adding past it fails with -EFBIG */
};

#define BUF_NOLIMIT ((size_t)-1 / 2)
#define BUF_INIT(max_)                                                                             \
	{                                                                                          \
		NULL, 0, 0, (max_)                                                                 \
	}

/* Sets b empty with the given ceiling. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Appends n bytes. Returns 0, -ENOMEM, or -EFBIG when len would exceed max;
 * on failure b is unchanged. */
int buf_add(struct buf *b, const void *data, size_t n);
int buf_addstr(struct buf *b, const char *s);
int buf_addch(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* The contents as a C string; "" when empty. Borrowed. */
const char *buf_str(const struct buf *b);

/* Empties b but keeps its allocation. */
void buf_reset(struct buf *b);

/* Frees the contents and leaves b as buf_init(b, b->max) would. NULL ok. */
void buf_release(struct buf *b);

/* Hands the contents to the caller, who must free() them; b is left empty.
 * Returns a malloc'd "" when b is empty, or NULL on ENOMEM. *len may be NULL. */
char *buf_detach(struct buf *b, size_t *len);

#endif
