/*
 * config.h - the INI configuration (read with inih) as a struct config.
 *
 *   [gpucloudfs]  ttl, timeout, connect_timeout, op_timeout, ca_file,
 *                 max_body, concurrency, max_rps, retries, stale_if_error,
 *                 refresh_wait, xattr
 *   [NAME]        provider, endpoint, ttl, timeout, connect_timeout, ca_file,
 *                 max_rps, concurrency, retries, stale_if_error, refresh_wait,
 *                 + the provider's own keys
 *
 * Errors name the file, the line and the key ("config.ini:7: [tencent] ttl:
 * 'x' is not a whole number of seconds"). A file that holds a secret and is
 * readable by group or others is refused.
 */
#ifndef GCF_CONFIG_H
#define GCF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "gcf_error.h"
#include "provider.h"

struct config {
	char *path;
	unsigned ttl_s;             /* default 60 */
	unsigned timeout_s;         /* one HTTP request, default 10 */
	unsigned connect_timeout_s; /* default 5 */
	unsigned op_timeout_s;      /* one filesystem operation, default 30 */
	unsigned concurrency;       /* pages fetched at once, default 4 */
	unsigned max_rps;           /* 0 = each API's documented limit */
	unsigned retries;           /* extra attempts for transient failures, default 3 */
	unsigned stale_if_error_s;  /* default 600 */
	unsigned refresh_wait_s;    /* default 2 */
	size_t max_body;            /* reply cap in bytes, default 32 MiB */
	bool xattr;                 /* user.gpucloudfs.* on collections, default true */
	char *ca_file;
	struct conn **conns; /* in file order */
	size_t nconns;
};

/* Reads path into cfg (zeroed first). Returns 0, or -EINVAL/-ENOENT/-EACCES/
 * -ENOMEM with err's message naming file, line and key. On failure cfg holds
 * nothing (it is released). */
int config_load(const char *path, struct config *cfg, struct gcf_error *err);

/* Frees everything, wiping secrets. NULL ok. */
void config_release(struct config *cfg);

/* $XDG_CONFIG_HOME/gpucloudfs/config.ini, else ~/.config/gpucloudfs/config.ini. */
int config_default_path(struct buf *out);

/* The effective configuration as INI text with every secret redacted. */
int config_dump(const struct config *cfg, struct buf *out);

/* Frees one connection (prov->release_priv wipes its secrets). NULL ok. */
void config_conn_free(struct conn *c);

#endif
