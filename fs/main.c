/*
 * main.c - command line, configuration, daemon context, FUSE session.
 *
 *   gpucloudfs [-c CONFIG] [-f] [-d] [-o OPT[,OPT...]] MOUNTPOINT
 *
 * gpucloudfs options given with -o (ttl=N) are taken here; every other -o
 * option goes to FUSE. The mount is always read-only.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "ops.h"

struct options {
	char *config;
	unsigned ttl;
	int ttl_set;
	int debug;
	int help;
	int version;
};

enum { KEY_DEBUG, KEY_HELP, KEY_VERSION };

static const struct fuse_opt option_spec[] = {
	{"-c %s", offsetof(struct options, config), 0},
	{"--config=%s", offsetof(struct options, config), 0},
	{"ttl=%u", offsetof(struct options, ttl), 0},
	{"ttl=", offsetof(struct options, ttl_set), 1},
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("--debug", KEY_DEBUG),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END,
};

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)arg, (void)outargs;
	switch (key) {
	case KEY_DEBUG:
		o->debug = 1;
		return 0;
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	}
	return 1;
}

static void usage(const char *prog)
{
	printf("usage: %s [-c CONFIG] [-f] [-d] [-o OPT[,OPT...]] MOUNTPOINT\n"
	       "\n"
	       "Mounts the control planes of AI/GPU clouds as a read-only tree of files.\n"
	       "\n"
	       "  -c CONFIG     configuration file (default $XDG_CONFIG_HOME/gpucloudfs/config.ini,\n"
	       "                then ~/.config/gpucloudfs/config.ini)\n"
	       "  -f            stay in the foreground, log to stderr\n"
	       "  -d            debug logging (secrets are never logged)\n"
	       "  -o ttl=N      seconds an API answer stays fresh (overrides the config)\n"
	       "  -o OPT        FUSE mount options: allow_other, ...\n"
	       "  -h, --help    this text\n"
	       "  -V, --version the version\n"
	       "\n"
	       "Unmount with: fusermount3 -u MOUNTPOINT\n",
	       prog);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct options o = {0};
	struct fuse_cmdline_opts fo = {0};
	struct config cfg;
	struct daemon d;
	struct gcf_error err = GCF_ERROR_INIT;
	struct fuse_session *se = NULL;
	struct buf path = BUF_INIT(BUF_NOLIMIT);
	int rc = 1, mounted = 0, have_daemon = 0;

	memset(&d, 0, sizeof(d));
	if (fuse_opt_parse(&args, &o, option_spec, opt_proc) == -1)
		goto out;
	if (o.help) {
		usage(argv[0]);
		rc = 0;
		goto out;
	}
	if (o.version) {
		printf("gpucloudfs %s (libfuse %s)\n", GCF_VERSION, fuse_pkgversion());
		rc = 0;
		goto out;
	}
	if (o.debug)
		log_set_level(LOG_LEVEL_DEBUG);
	if (fuse_parse_cmdline(&args, &fo) != 0)
		goto out;
	if (!fo.mountpoint) {
		fprintf(stderr, "gpucloudfs: no mount point given (see --help)\n");
		goto out;
	}
	if (!o.config) {
		if (config_default_path(&path))
			goto out;
		o.config = strdup(buf_str(&path));
		if (!o.config)
			goto out;
	}
	if (config_load(o.config, &cfg, &err)) {
		fprintf(stderr, "gpucloudfs: %s\n", err.message ? err.message : "bad configuration");
		goto out;
	}
	if (o.ttl_set) {
		cfg.ttl_s = o.ttl;
		for (size_t i = 0; i < cfg.nconns; i++)
			cfg.conns[i]->ttl_s = o.ttl;
	}
	if (http_global_init()) {
		fprintf(stderr, "gpucloudfs: cannot initialise libcurl\n");
		config_release(&cfg);
		goto out;
	}
	have_daemon = 1;
	if (daemon_init(&d, &cfg, &err)) {
		fprintf(stderr, "gpucloudfs: %s\n", err.message ? err.message : "cannot start");
		goto out;
	}
	if (fuse_opt_add_arg(&args, "-oro,default_permissions,fsname=gpucloudfs,subtype=gpucloudfs"))
		goto out;
	se = fuse_session_new(&args, &ops_table, sizeof(ops_table), &d);
	if (!se)
		goto out;
	if (fuse_set_signal_handlers(se))
		goto out;
	if (fuse_session_mount(se, fo.mountpoint)) {
		fprintf(stderr, "gpucloudfs: cannot mount on '%s'\n", fo.mountpoint);
		goto out;
	}
	mounted = 1;
	if (!fo.foreground)
		log_use_syslog(true);
	if (fuse_daemonize(fo.foreground))
		goto out;
	log_info("mounted %zu connection(s) from '%s' on '%s'", d.nconns, d.cfg.path,
		 fo.mountpoint);
	{
		struct fuse_loop_config lc = {.clone_fd = 0, .max_idle_threads = 16};

		rc = fuse_session_loop_mt(se, &lc) ? 1 : 0;
	}
out:
	if (se) {
		if (mounted)
			fuse_session_unmount(se);
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	if (have_daemon) {
		daemon_release(&d);
		http_global_cleanup();
	}
	gcf_error_release(&err);
	buf_release(&path);
	free(fo.mountpoint);
	free(o.config);
	fuse_opt_free_args(&args);
	return rc;
}
