/*
 * crypto.c - the hashing and encoding helpers the signers share.
 *
 * Thin wrappers over OpenSSL: SHA-256 through EVP_Digest, HMAC-SHA256
 * through HMAC(), base64 through EVP_EncodeBlock, UUID v4 from RAND_bytes
 * and wiping through OPENSSL_cleanse. See include/crypto.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "crypto.h"

int crypto_sha256(const void *data, size_t n, uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (!EVP_Digest(n ? data : "", n, out, &len, EVP_sha256(), NULL) || len != SHA256_LEN)
		return -EIO;
	return 0;
}

int crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		       uint8_t out[SHA256_LEN])
{
	unsigned int len = 0;

	if (keylen > INT_MAX)
		return -EIO;
	if (!HMAC(EVP_sha256(), keylen ? key : "", (int)keylen, msglen ? msg : (const void *)"",
		  msglen, out, &len) ||
	    len != SHA256_LEN)
		return -EIO;
	return 0;
}

void crypto_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

int crypto_sha256_hex(const void *data, size_t n, char out[65])
{
	uint8_t md[SHA256_LEN];
	int rc;

	rc = crypto_sha256(data, n, md);
	if (rc)
		return rc;
	crypto_hex(md, sizeof(md), out);
	return 0;
}

int crypto_base64(const uint8_t *in, size_t n, struct buf *out)
{
	size_t outlen;
	unsigned char *tmp;
	int rc, len;

	if (n > (size_t)INT_MAX / 4 * 3 - 3)
		return -ENOMEM;
	outlen = 4 * ((n + 2) / 3) + 1;
	tmp = malloc(outlen);
	if (!tmp)
		return -ENOMEM;
	len = EVP_EncodeBlock(tmp, in, (int)n);
	rc = len < 0 ? -EIO : buf_add(out, tmp, (size_t)len);
	free(tmp);
	return rc;
}

static int crypto_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.' || c == '~';
}

int crypto_uri_encode(const char *s, int keep_slash, struct buf *out)
{
	static const char digits[] = "0123456789ABCDEF";
	int rc = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
		if (crypto_unreserved(*p) || (keep_slash && *p == '/')) {
			rc = buf_addch(out, (char)*p);
		} else {
			char esc[3] = {'%', digits[*p >> 4], digits[*p & 0xf]};

			rc = buf_add(out, esc, sizeof(esc));
		}
	}
	return rc;
}

int crypto_uuid4(char out[37])
{
	uint8_t r[16];
	char hex[33];

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -EIO;
	r[6] = (uint8_t)((r[6] & 0x0f) | 0x40); /* version 4 */
	r[8] = (uint8_t)((r[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	crypto_hex(r, sizeof(r), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
	return 0;
}

void crypto_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}
