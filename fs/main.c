/*
 * main.c - command line, configuration, daemon context, FUSE session.
 *
 *   gpucloudfs [-c CONFIG] [-f] [-d] [-o OPT[,OPT...]] MOUNTPOINT
 *   gpucloudfs SOURCE MOUNTPOINT [-o OPT[,OPT...]]      (as run by mount.fuse3)
 *
 * gpucloudfs options given with -o are taken here: config=PATH, and
 * name=value for each setting the configuration table lets the command line
 * override (ttl=N; config_is_override() decides, config_override() applies
 * them after the file is read); the options mount(8) and fstab add that FUSE does not know
 * (_netdev, nofail, rw, ro, dev, suid, auto, noauto, user, users, nouser, owner, group, defaults,
 * x-*, comment=*) are dropped; every other -o option goes to FUSE. The mount is always read-only,
 * nodev and nosuid.
 *
 * SOURCE, the first of two positional arguments, is the configuration file
 * when it names a file (or a path) and -c is not given; any other SOURCE (a
 * label such as "gpucloudfs") is ignored. This is how an fstab line of type
 * fuse.gpucloudfs reaches us: mount(8) runs mount.fuse3, which runs
 * "gpucloudfs SOURCE MOUNTPOINT -o OPTIONS".
 *
 * Logging goes to stderr until the daemon detaches, then to syslog. SIGHUP
 * drops every snapshot (the next access refetches) instead of ending the
 * mount: it is blocked in every thread and read from a signalfd by a small
 * thread that calls daemon_invalidate_all(). SIGINT and SIGTERM unmount.
 */
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "log.h"
#include "ops.h"

struct options {
	char *config;
	char *source;     /* SOURCE of "SOURCE MOUNTPOINT" (mount.fuse3), or NULL */
	char *mountpoint; /* the last positional argument */
	int npos;         /* positional arguments seen */
	char **overrides; /* -o name=value settings, in command-line order */
	size_t noverrides;
	int debug;
	int help;
	int version;
};

enum { KEY_DEBUG, KEY_HELP, KEY_VERSION };

static const struct fuse_opt option_spec[] = {
    {"-c %s", offsetof(struct options, config), 0},
    {"--config=%s", offsetof(struct options, config), 0},
    {"config=%s", offsetof(struct options, config), 0},
    FUSE_OPT_KEY("-d", KEY_DEBUG),
    FUSE_OPT_KEY("--debug", KEY_DEBUG),
    FUSE_OPT_KEY("-h", KEY_HELP),
    FUSE_OPT_KEY("--help", KEY_HELP),
    FUSE_OPT_KEY("-V", KEY_VERSION),
    FUSE_OPT_KEY("--version", KEY_VERSION),
    FUSE_OPT_END,
};

/* Options that mount(8), fstab or mount.fuse3 pass along but that mean
 * nothing to FUSE here (or would weaken the read-only, nodev, nosuid mount).
 * fuse_session_new() refuses unknown options, so they are dropped. */
static int mount_only_option(const char *opt)
{
	static const char *const names[] = {
	    "",      "_netdev", "nofail",   "auto", "noauto", "user", "users", "nouser",
	    "owner", "group",   "defaults", "rw",   "ro",     "dev",  "suid",  NULL,
	};

	for (size_t i = 0; names[i]; i++)
		if (!strcmp(opt, names[i]))
			return 1;
	return !strncmp(opt, "x-", 2) || !strncmp(opt, "comment=", 8);
}

/* Keeps a -o name=value setting for config_override(). 0 or -1. */
static int keep_override(struct options *o, const char *arg)
{
	char **v = realloc(o->overrides, (o->noverrides + 1) * sizeof(*v));

	if (!v)
		return -1;
	o->overrides = v;
	o->overrides[o->noverrides] = strdup(arg);
	if (!o->overrides[o->noverrides])
		return -1;
	o->noverrides++;
	return 0;
}

static void options_release(struct options *o)
{
	free(o->config);
	free(o->source);
	free(o->mountpoint);
	for (size_t i = 0; i < o->noverrides; i++)
		free(o->overrides[i]);
	free(o->overrides);
}

/* Applies the kept -o settings to the loaded configuration, in order. */
static int take_overrides(const struct options *o, struct config *cfg, struct gcf_error *err)
{
	for (size_t i = 0; i < o->noverrides; i++)
		if (config_override(cfg, o->overrides[i], err))
			return -1;
	return 0;
}

static int opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *o = data;

	(void)outargs;
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
	case FUSE_OPT_KEY_OPT:
		if (config_is_override(arg))
			return keep_override(o, arg);
		return mount_only_option(arg) ? 0 : 1;
	case FUSE_OPT_KEY_NONOPT:
		if (o->npos >= 2) {
			fprintf(stderr, "gpucloudfs: unexpected argument '%s' (see --help)\n", arg);
			return -1;
		}
		free(o->source);
		o->source = o->mountpoint;
		o->mountpoint = strdup(arg);
		if (!o->mountpoint)
			return -1;
		o->npos++;
		return 0;
	}
	return 1;
}

static void usage(const char *prog)
{
	printf(
	    "usage: %s [-c CONFIG] [-f] [-d] [-o OPT[,OPT...]] MOUNTPOINT\n"
	    "       %s CONFIG MOUNTPOINT [-o OPT[,OPT...]]   (fstab type fuse.gpucloudfs)\n"
	    "\n"
	    "Mounts the control planes of AI/GPU clouds as a read-only tree of files.\n"
	    "\n"
	    "  -c CONFIG     configuration file (default $XDG_CONFIG_HOME/gpucloudfs/config.ini,\n"
	    "                then ~/.config/gpucloudfs/config.ini); also -o config=CONFIG\n"
	    "  -f            stay in the foreground, log to stderr (else: syslog)\n"
	    "  -d            debug logging (secrets are never logged)\n"
	    "  -o ttl=N      seconds an API answer stays fresh (overrides the config)\n"
	    "  -o OPT        FUSE mount options: allow_other, ...; fstab-only options\n"
	    "                (_netdev, nofail, x-*, ...) are ignored\n"
	    "  -h, --help    this text\n"
	    "  -V, --version the version\n"
	    "\n"
	    "kill -HUP PID drops every cached answer; the next access asks the clouds.\n"
	    "Unmount with: fusermount3 -u MOUNTPOINT\n",
	    prog, prog);
}

/* libfuse's own messages, once stderr is gone: into our log (syslog). */
static void fuse_log_bridge(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char *msg = NULL;
	size_t n;
	enum log_level lvl = level <= FUSE_LOG_ERR       ? LOG_LEVEL_ERR
			     : level == FUSE_LOG_WARNING ? LOG_LEVEL_WARN
			     : level <= FUSE_LOG_INFO    ? LOG_LEVEL_INFO
							 : LOG_LEVEL_DEBUG;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	log_msg(lvl, "libfuse: %s", msg);
	free(msg);
}

/* ---- SIGHUP: drop every snapshot ------------------------------------- */

struct hup {
	struct daemon *d;
	int sfd; /* signalfd for SIGHUP */
	int efd; /* eventfd: written once to stop the thread */
	pthread_t thread;
	int running;
};

static void *hup_main(void *arg)
{
	struct hup *h = arg;
	struct pollfd p[2] = {{.fd = h->sfd, .events = POLLIN}, {.fd = h->efd, .events = POLLIN}};

	for (;;) {
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_err("SIGHUP watcher: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		if (!(p[0].revents & POLLIN))
			continue;
		if (read(h->sfd, &si, sizeof(si)) != (ssize_t)sizeof(si))
			continue;
		daemon_invalidate_all(h->d);
		log_info("SIGHUP (from pid %u): every snapshot dropped; the next access refetches",
			 si.ssi_pid);
	}
}

/* Blocks SIGHUP in this thread and so in every thread started later; must
 * run before any thread exists. */
static int hup_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	return pthread_sigmask(SIG_BLOCK, set, NULL) ? -1 : 0;
}

/* Starts the watcher; after fuse_daemonize(), since fork() keeps no thread. */
static int hup_start(struct hup *h, struct daemon *d, const sigset_t *set)
{
	int rc;

	h->d = d;
	h->sfd = signalfd(-1, set, SFD_CLOEXEC);
	h->efd = eventfd(0, EFD_CLOEXEC);
	if (h->sfd < 0 || h->efd < 0) {
		log_err("SIGHUP watcher: %s", strerror(errno));
		return -1;
	}
	rc = pthread_create(&h->thread, NULL, hup_main, h);
	if (rc) {
		log_err("SIGHUP watcher: pthread_create: %s", strerror(rc));
		return -1;
	}
	h->running = 1;
	return 0;
}

static void hup_stop(struct hup *h)
{
	uint64_t one = 1;

	if (h->running) {
		if (write(h->efd, &one, sizeof(one)) == (ssize_t)sizeof(one))
			pthread_join(h->thread, NULL);
		else
			pthread_detach(h->thread);
		h->running = 0;
	}
	if (h->sfd >= 0)
		close(h->sfd);
	if (h->efd >= 0)
		close(h->efd);
	h->sfd = h->efd = -1;
}

/* ---- main ------------------------------------------------------------- */

/* mount.fuse3 passes the fstab SOURCE first: it is the configuration file
 * when it names a file or a path and -c was not given; else it is a label. */
static void take_source(struct options *o)
{
	struct stat st;

	if (!o->source)
		return;
	if (o->config) {
		log_debug("SOURCE '%s' ignored: the configuration is '%s'", o->source, o->config);
		return;
	}
	if ((!stat(o->source, &st) && S_ISREG(st.st_mode)) || strchr(o->source, '/')) {
		o->config = o->source;
		o->source = NULL;
	}
}

/* The command line: -1 to exit with failure, 1 to exit with success (--help,
 * --version), 0 to go on with o and fo filled. */
static int parse_command_line(struct fuse_args *args, const char *argv0, struct options *o,
			      struct fuse_cmdline_opts *fo)
{
	if (fuse_opt_parse(args, o, option_spec, opt_proc) == -1)
		return -1;
	if (o->help) {
		usage(argv0);
		return 1;
	}
	if (o->version) {
		printf("gpucloudfs %s (libfuse %s)\n", GCF_VERSION, fuse_pkgversion());
		return 1;
	}
	if (o->debug)
		log_set_level(LOG_LEVEL_DEBUG);
	if (!o->mountpoint) {
		fprintf(stderr, "gpucloudfs: no mount point given (see --help)\n");
		return -1;
	}
	take_source(o);
	/* fuse_parse_cmdline() checks the mount point (realpath, /dev/fd/N). */
	if (fuse_opt_add_arg(args, o->mountpoint) || fuse_parse_cmdline(args, fo) != 0)
		return -1;
	if (!fo->mountpoint) {
		fprintf(stderr, "gpucloudfs: no mount point given (see --help)\n");
		return -1;
	}
	return 0;
}

/* The configuration file (o->config or the default path) with the -o
 * overrides applied. 0, or -1 after saying why on stderr. */
static int load_config(struct options *o, struct config *cfg, struct gcf_error *err)
{
	struct buf path = BUF_INIT(BUF_NOLIMIT);
	int rc = 0;

	if (!o->config) {
		rc = config_default_path(&path);
		if (!rc && !(o->config = strdup(buf_str(&path))))
			rc = -ENOMEM;
		buf_release(&path);
		if (rc) {
			fprintf(stderr, "gpucloudfs: cannot find the default configuration path\n");
			return -1;
		}
	}
	if (config_load(o->config, cfg, err)) {
		fprintf(stderr, "gpucloudfs: %s\n",
			err->message ? err->message : "bad configuration");
		return -1;
	}
	if (take_overrides(o, cfg, err)) {
		fprintf(stderr, "gpucloudfs: %s\n", err->message ? err->message : "bad option");
		config_release(cfg);
		return -1;
	}
	return 0;
}

/* Mounted: daemonize, start the threads, answer the kernel until unmounted.
 * Returns the exit status. */
static int serve(struct daemon *d, struct fuse_session *se, const struct fuse_cmdline_opts *fo,
		 struct hup *hup, sigset_t *hupset)
{
	struct fuse_loop_config lc = {.clone_fd = 0, .max_idle_threads = 16};
	int rc;

	if (!fo->foreground) {
		log_use_syslog(true);
		fuse_set_log_func(fuse_log_bridge);
	}
	if (fuse_daemonize(fo->foreground) || hup_start(hup, d, hupset))
		return 1;
	/* After fuse_daemonize() too: the notifier is a thread. */
	if (daemon_start_notifier(d, se))
		return 1;
	log_info("mounted %zu connection(s) from '%s' on '%s' (pid %ld)", d->nconns, d->cfg.path,
		 fo->mountpoint, (long)getpid());
	rc = fuse_session_loop_mt(se, &lc) ? 1 : 0;
	log_info("unmounting '%s'", fo->mountpoint);
	return rc;
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
	struct hup hup = {.sfd = -1, .efd = -1};
	sigset_t hupset;
	int rc = 1, mounted = 0, have_daemon = 0;

	memset(&d, 0, sizeof(d));
	/* The process will hold credentials: no core dump of it, and no
	 * ptrace attach by other processes of the same user. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Snapshots are built by whichever thread fetched and freed by whichever
	 * dropped the last reference: fixed mmap threshold (large snapshot
	 * blocks are mapped and unmapped whole) and few heaps, so that memory
	 * freed with a snapshot goes back to the system. */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_ARENA_MAX, 2);
	if (hup_block(&hupset)) {
		fprintf(stderr, "gpucloudfs: cannot block SIGHUP\n");
		goto out;
	}
	rc = parse_command_line(&args, argv[0], &o, &fo);
	if (rc) {
		rc = rc > 0 ? 0 : 1;
		goto out;
	}
	rc = 1;
	if (load_config(&o, &cfg, &err))
		goto out;
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
	if (fuse_opt_add_arg(&args,
			     "-oro,default_permissions,fsname=gpucloudfs,subtype=gpucloudfs"))
		goto out;
	se = fuse_session_new(&args, &ops_table, sizeof(ops_table), &d);
	/* SIGINT/SIGTERM end the session; SIGHUP stays blocked for the watcher. */
	if (!se || fuse_set_signal_handlers(se))
		goto out;
	if (fuse_session_mount(se, fo.mountpoint)) {
		fprintf(stderr, "gpucloudfs: cannot mount on '%s'\n", fo.mountpoint);
		goto out;
	}
	mounted = 1;
	rc = serve(&d, se, &fo, &hup, &hupset);
out:
	hup_stop(&hup);
	/* The notifier writes to the session's fd: stop it before the session
	 * closes it (ThreadSanitizer caught the race at unmount). */
	notify_stop(&d.notifier);
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
	free(fo.mountpoint);
	options_release(&o);
	fuse_opt_free_args(&args);
	return rc;
}
