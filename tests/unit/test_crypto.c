/*
 * test_crypto.c - providers/runtime/crypto.c against published vectors:
 * RFC 4231 HMAC-SHA256, FIPS 180-2 SHA-256, RFC 3986 percent-encoding,
 * base64 (RFC 4648 §10) and the UUID v4 layout; gcf_hash.h's FNV-1a against
 * the FNV authors' 64-bit vectors.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "gcf_hash.h"

static void hex_of_hmac(const void *key, size_t keylen, const void *msg, size_t msglen,
			char out[65])
{
	uint8_t md[SHA256_LEN];

	assert_int_equal(crypto_hmac_sha256(key, keylen, msg, msglen, md), 0);
	crypto_hex(md, sizeof(md), out);
}

static void test_crypto_hmac_rfc4231(void **state)
{
	uint8_t key[131];
	char hex[65];

	/* Test case 1 */
	memset(key, 0x0b, 20);
	hex_of_hmac(key, 20, "Hi There", 8, hex);
	assert_string_equal(hex,
			    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* Test case 2 */
	hex_of_hmac("Jefe", 4, "what do ya want for nothing?", 28, hex);
	assert_string_equal(hex,
			    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* Test case 3 */
	uint8_t data[50];
	memset(key, 0xaa, 20);
	memset(data, 0xdd, sizeof(data));
	hex_of_hmac(key, 20, data, sizeof(data), hex);
	assert_string_equal(hex,
			    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	/* Test case 6: key longer than the block size */
	memset(key, 0xaa, 131);
	const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
	hex_of_hmac(key, 131, m6, strlen(m6), hex);
	assert_string_equal(hex,
			    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	/* Test case 7 */
	const char *m7 = "This is a test using a larger than block-size key and a larger than "
			 "block-size data. The key needs to be hashed before being used by the "
			 "HMAC algorithm.";
	hex_of_hmac(key, 131, m7, strlen(m7), hex);
	assert_string_equal(hex,
			    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

static void test_crypto_sha256_vectors(void **state)
{
	char hex[65];

	assert_int_equal(crypto_sha256_hex("", 0, hex), 0);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(crypto_sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* NULL with length 0 is the empty message */
	assert_int_equal(crypto_sha256_hex(NULL, 0, hex), 0);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_crypto_hex(void **state)
{
	const uint8_t in[] = {0x00, 0x0f, 0xa5, 0xff};
	char out[9];

	crypto_hex(in, sizeof(in), out);
	assert_string_equal(out, "000fa5ff");
	crypto_hex(in, 0, out);
	assert_string_equal(out, "");
}

static void check_uri(const char *in, int keep_slash, const char *want)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(crypto_uri_encode(in, keep_slash, &b), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_crypto_uri_encode(void **state)
{
	check_uri("", 0, "");
	check_uri("AZaz09-_.~", 0, "AZaz09-_.~");
	check_uri("application/json", 0, "application%2Fjson");
	check_uri("/v2/computeunit", 1, "/v2/computeunit");
	check_uri("/v2/computeunit", 0, "%2Fv2%2Fcomputeunit");
	check_uri("2024-12-12T12:29:08Z", 0, "2024-12-12T12%3A29%3A08Z");
	check_uri("127.0.0.1:18765", 0, "127.0.0.1%3A18765");
	check_uri("a b+c*d%e=f&g", 0, "a%20b%2Bc%2Ad%25e%3Df%26g");
	/* UTF-8: 中 is E4 B8 AD; uppercase hex digits */
	check_uri("\xe4\xb8\xad", 0, "%E4%B8%AD");
	check_uri("caf\xc3\xa9/x", 1, "caf%C3%A9/x");
}

static void test_crypto_uri_encode_cap(void **state)
{
	struct buf b = BUF_INIT(5);

	assert_int_equal(crypto_uri_encode("ab/", 0, &b), 0); /* "ab%2F" fits exactly */
	assert_string_equal(buf_str(&b), "ab%2F");
	assert_int_equal(crypto_uri_encode("c", 0, &b), -EFBIG);
	assert_string_equal(buf_str(&b), "ab%2F"); /* unchanged by the failed add */
	buf_release(&b);
}

static void check_b64(const char *in, const char *want)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(crypto_base64((const uint8_t *)in, strlen(in), &b), 0);
	assert_string_equal(buf_str(&b), want);
	buf_release(&b);
}

static void test_crypto_base64(void **state)
{
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");

	/* an HMAC is 44 characters of base64, as the CTyun signature */
	uint8_t md[SHA256_LEN] = {0};
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	assert_int_equal(buf_addstr(&b, "x"), 0);
	assert_int_equal(crypto_base64(md, sizeof(md), &b), 0); /* appends */
	assert_int_equal(b.len, 45);
	assert_string_equal(buf_str(&b), "xAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
	buf_release(&b);
}

static void test_crypto_uuid4(void **state)
{
	char a[37], b[37];

	assert_int_equal(crypto_uuid4(a), 0);
	assert_int_equal(crypto_uuid4(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(a[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef", a[i]));
	}
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
}

static void test_crypto_wipe(void **state)
{
	char s[] = "sim-secret";

	crypto_wipe(s, sizeof(s));
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(s[i], 0);
	crypto_wipe(NULL, 4); /* harmless */
}

#define FNV_PUBLISHED_BASIS 0xcbf29ce484222325ull

static void test_crypto_fnv1a(void **state)
{
	/* from the published offset basis: the FNV authors' 64-bit FNV-1a vectors */
	assert_true(gcf_fnv1a(FNV_PUBLISHED_BASIS, "", 0) == 0xcbf29ce484222325ull);
	assert_true(gcf_fnv1a(FNV_PUBLISHED_BASIS, "a", 1) == 0xaf63dc4c8601ec8cull);
	assert_true(gcf_fnv1a(FNV_PUBLISHED_BASIS, "foobar", 6) == 0x85944171f73967e8ull);
	/* the string form is the same hash; a hash continues over more bytes */
	assert_true(gcf_fnv1a_str(FNV_PUBLISHED_BASIS, "foobar") == 0x85944171f73967e8ull);
	assert_true(gcf_fnv1a(gcf_fnv1a(FNV_PUBLISHED_BASIS, "foo", 3), "bar", 3) ==
		    0x85944171f73967e8ull);
	/* bytes above 0x7f count as unsigned */
	assert_true(gcf_fnv1a_str(FNV_PUBLISHED_BASIS, "\xe9") ==
		    gcf_fnv1a(FNV_PUBLISHED_BASIS, (const unsigned char[]){0xe9}, 1));
	/* the project's start, as fs/inode.c hashes file contents (test_inode pins these) */
	assert_true(gcf_fnv1a(GCF_FNV1A_BASIS, "", 0) == 1469598103934665603ull);
	assert_true(gcf_fnv1a(GCF_FNV1A_BASIS, "hello world", 11) == 0xe1d7a701437f78f9ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crypto_hmac_rfc4231),
	    cmocka_unit_test(test_crypto_sha256_vectors),
	    cmocka_unit_test(test_crypto_hex),
	    cmocka_unit_test(test_crypto_uri_encode),
	    cmocka_unit_test(test_crypto_uri_encode_cap),
	    cmocka_unit_test(test_crypto_base64),
	    cmocka_unit_test(test_crypto_uuid4),
	    cmocka_unit_test(test_crypto_wipe),
	    cmocka_unit_test(test_crypto_fnv1a),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
