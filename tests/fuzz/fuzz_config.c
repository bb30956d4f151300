/*
 * fuzz_config.c - fs/config.c (inih, every provider's configure/finish).
 *
 * The input is written to a temporary file of mode 0600 (so secrets are
 * accepted) and loaded with config_load. It must return 0 or a negative
 * errno with a message, never crash or leak; on success the configuration
 * is dumped (config_dump: secrets redacted), given -o ttl=7 (which must
 * reach every connection) and released. Credentials in the environment are
 * removed first, so an input decides everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "fuzz_common.h"
#include "gcf_error.h"

static char fuzz_path[4096];

static void remove_file(void)
{
	if (fuzz_path[0])
		unlink(fuzz_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const vars[] = {
	    "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY", "TENCENTCLOUD_REGION",
	    "CTYUN_ACCESS_KEY",       "CTYUN_SECRET_KEY",        "CTYUN_REGION_ID",
	    "QIANFAN_ACCESS_KEY",     "QIANFAN_SECRET_KEY",      "ALAYA_API_KEY",
	};
	const char *tmp = getenv("TMPDIR");
	int fd;

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	snprintf(fuzz_path, sizeof(fuzz_path), "%s/gcf-fuzz-config.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(fuzz_path); /* mode 0600 */
	if (fd < 0) {
		perror("fuzz_config: mkstemp");
		exit(1);
	}
	close(fd);
	atexit(remove_file);
	return 0;
}

static int write_all(const uint8_t *data, size_t size)
{
	int fd = open(fuzz_path, O_WRONLY | O_TRUNC);

	if (fd < 0)
		return -1;
	while (size > 0) {
		ssize_t n = write(fd, data, size);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		data += n;
		size -= (size_t)n;
	}
	return close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct gcf_error err = GCF_ERROR_INIT;
	int rc;

	if (write_all(data, size)) {
		perror("fuzz_config: write");
		abort();
	}
	rc = config_load(fuzz_path, &cfg, &err);
	FUZZ_CHECK(rc <= 0, "config_load returned %d", rc);
	if (rc) {
		FUZZ_CHECK(err.errnum == -rc, "config_load returned %d, err.errnum %d", rc,
			   err.errnum);
		FUZZ_CHECK(err.message != NULL, "config_load failed without a message");
		FUZZ_CHECK(cfg.nconns == 0 && cfg.conns == NULL && cfg.path == NULL,
			   "config_load failed but cfg holds something");
	} else {
		struct buf dump = BUF_INIT(BUF_NOLIMIT);

		FUZZ_CHECK(cfg.nconns > 0, "config_load accepted a file without connections");
		for (size_t i = 0; i < cfg.nconns; i++) {
			const struct conn *c = cfg.conns[i];

			FUZZ_CHECK(c && c->prov && c->name && c->endpoint && c->priv,
				   "connection %zu incomplete", i);
		}
		FUZZ_CHECK(config_dump(&cfg, &dump) == 0, "config_dump failed");
		FUZZ_CHECK(config_override(&cfg, "ttl=7", &err) == 0, "-o ttl=7 refused");
		for (size_t i = 0; i < cfg.nconns; i++)
			FUZZ_CHECK(cfg.conns[i]->ttl_s == 7, "-o ttl=7 missed connection %zu", i);
		buf_release(&dump);
		config_release(&cfg);
	}
	gcf_error_release(&err);
	return 0;
}
