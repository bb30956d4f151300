/*
 * config.h - the INI configuration (read with inih) as a struct config.
 *
 *   [gpucloudfs]  the global settings
 *   [NAME]        one connection: provider, endpoint, the settings it may
 *                 set for itself (else it inherits [gpucloudfs]'s), and the
 *                 provider's own keys (prov->key_table)
 *
 * Every setting is one row of config_settings[] (config.c): its name, type,
 * range, scope, default, whether it is secret and whether `-o name=value`
 * may override it. That row alone drives parsing, inheritance into the
 * connections, the -o override, config_dump and the check that the manual
 * page lists it (tests/unit/test_config.c). A new setting is one row (plus a
 * field in struct config and/or struct conn, and its paragraph in
 * docs/gpucloudfs.1).
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
	unsigned full_refresh_s;    /* longest time between full refreshes, default 600 */
	size_t max_body;            /* reply cap in bytes, default 32 MiB */
	bool xattr;                 /* user.gpucloudfs.* on collections, default true */
	unsigned max_nodes;         /* inode table cap (inodes_set_cap), 0 = none */
	bool prefetch;              /* fetch every collection at mount time, default false */
	char *ca_file;
	char *redis;               /* fleet mode: redis://host:port/db or unix:/path; NULL = off */
	char *redis_user;          /* its ACL user, or NULL */
	char *redis_password_file; /* its password's file, or NULL */
	char *redis_prefix;        /* its key prefix, or NULL (gcf) */
	struct conn **conns;       /* in file order */
	size_t nconns;
	/* snapshots for a warm restart: a directory or "none"; config_load sets
	 * the default (diskstore_default_dir); NULL = none */
	char *cache_dir;
};

/* What a value means: how it is parsed, checked, described and shown. */
enum config_type {
	CONFIG_SECONDS,  /* whole seconds in [lo, hi] */
	CONFIG_COUNT,    /* a whole number in [lo, hi] */
	CONFIG_RATE,     /* requests per second in [lo, hi]; 0 = each API's documented limit */
	CONFIG_BYTES,    /* a size in bytes in [lo, hi] */
	CONFIG_BOOL,     /* yes|no (also true|false, 1|0) */
	CONFIG_PATH,     /* an existing regular file */
	CONFIG_URL,      /* an http:// or https:// URL */
	CONFIG_PROVIDER, /* a provider's name: chooses conn->prov, stored nowhere else */
	CONFIG_REDIS,    /* a redis:// URL or unix:/path (checked in full by fleet_new) */
	CONFIG_TEXT,     /* a non-empty string (checked by its user) */
	CONFIG_DIR,      /* an absolute path of a directory (it need not exist yet), or none */
};

/* Where a setting may stand. CONFIG_BOTH: a connection that does not set it
 * inherits the value of [gpucloudfs] (its default when unset there too). */
enum config_scope { CONFIG_GLOBAL = 1, CONFIG_CONN = 2, CONFIG_BOTH = 3 };

/* The C type of a field that holds a setting; NONE = no field on that side. */
enum config_store {
	CONFIG_STORE_NONE,
	CONFIG_STORE_UINT,
	CONFIG_STORE_SIZE,
	CONFIG_STORE_BOOL,
	CONFIG_STORE_STR
};

/* A field of struct config or struct conn: offsetof and C type. */
struct config_slot {
	size_t off;
	enum config_store store;
};

/* One setting. */
struct config_setting {
	const char *name;
	enum config_type type;
	unsigned lo, hi; /* allowed range of the numeric types */
	enum config_scope scope;
	unsigned long def; /* default of the numeric and bool types; strings default to unset */
	bool secret;       /* a credential: refused in a group/other-readable file, redacted */
	bool cli;          /* `-o name=value` overrides it in [gpucloudfs] and every connection */
	struct config_slot global; /* its field in struct config (scope CONFIG_GLOBAL) */
	struct config_slot conn;   /* its field in struct conn (scope CONFIG_CONN) */
};

/* Every setting, in the order config_dump shows them; ends with { NULL }. */
extern const struct config_setting config_settings[];

/* Reads path into cfg (zeroed first). Returns 0, or -EINVAL/-ENOENT/-EACCES/
 * -ENOMEM with err's message naming file, line and key. On failure cfg holds
 * nothing (it is released). */
int config_load(const char *path, struct config *cfg, struct gcf_error *err);

/* True when opt ("name=value", one `-o` option) names a setting that the
 * command line may override. */
bool config_is_override(const char *opt);

/* Applies opt ("name=value") to [gpucloudfs] and to every connection of a
 * loaded cfg: the command line wins over the file. Returns 0, -EINVAL (err
 * says "-o name: 'value' is not ...", or that name is no such setting) or
 * -ENOMEM. */
int config_override(struct config *cfg, const char *opt, struct gcf_error *err);

/* Frees everything, wiping secrets. NULL ok. */
void config_release(struct config *cfg);

/* $XDG_CONFIG_HOME/gpucloudfs/config.ini, else ~/.config/gpucloudfs/config.ini. */
int config_default_path(struct buf *out);

/* The effective configuration as INI text: every setting, and the provider
 * keys that are set; a secret one (or one whose name log_is_secret_name()
 * calls secret) shows as "<redacted>". */
int config_dump(const struct config *cfg, struct buf *out);

/* Frees one connection (prov->release_priv wipes its secrets). NULL ok. */
void config_conn_free(struct conn *c);

#endif
