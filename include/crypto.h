/*
 * crypto.h - the hashing helpers the signers share (OpenSSL EVP/HMAC).
 */
#ifndef GCF_CRYPTO_H
#define GCF_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define SHA256_LEN 32

/* out = SHA-256(data). Returns 0 or -EIO. */
int crypto_sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);
/* out = HMAC-SHA256(key, msg). Returns 0 or -EIO. */
int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		       uint8_t out[SHA256_LEN]);
/* Lowercase hex of n bytes into out (2n+1 bytes, NUL-terminated). */
void crypto_hex(const uint8_t *in, size_t n, char *out);
/* hex(SHA-256(data)) into out[65]. Returns 0 or -EIO. */
int crypto_sha256_hex(const void *data, size_t n, char out[65]);
/* Standard base64 with padding, appended to out. 0 or -ENOMEM. */
int crypto_base64(const uint8_t *in, size_t n, struct buf *out);
/* RFC 3986 percent-encoding (only A-Z a-z 0-9 - _ . ~ stay literal; keep
 * '/' literal too when keep_slash), uppercase hex, appended to out. */
int crypto_uri_encode(const char *s, int keep_slash, struct buf *out);
/* A random UUID v4 string into out[37]. Returns 0 or -EIO. */
int crypto_uuid4(char out[37]);
/* Overwrites n bytes so the compiler cannot elide it (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t n);

#endif
