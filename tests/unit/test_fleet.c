/*
 * test_fleet.c - fs/fleet.c against a real redis-server started here on
 * 127.0.0.1 with a free port and no persistence, stopped by its PID (and
 * killed with us: PR_SET_PDEATHSIG) even when a test fails.
 *
 * Shared blobs come back whole or not at all (a missing, corrupted or
 * resized chunk, a writer that died before its metadata: a miss), every key
 * has a TTL, leases exclude, renew, release and are taken over after their
 * holder dies, the shared limiter never lets the fleet exceed rate + burst
 * in any 1 s window, a SCRIPT FLUSH is survived, and when Redis is paused
 * or killed calls time out within the command timeout, then fall back at
 * once, with one log line per change of state, and sharing resumes by
 * itself when a server comes back on the same port.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis.h>

#include "buf.h"
#include "clock.h"
#include "fleet.h"
#include "log.h"

struct server {
	pid_t pid;
	int port;
	char dir[64];
};

struct fixture {
	struct server srv;
	redisContext *raw; /* the test's own connection, to look and to break things */
	char url[64];
};

static struct fixture fx;

static bool have_redis_server(void)
{
	const char *path = getenv("PATH");
	char full[4096];

	for (const char *s = path ? path : "/usr/bin:/bin"; *s;
	     s += strcspn(s, ":"), s += *s == ':') {
		int n = (int)strcspn(s, ":");

		snprintf(full, sizeof(full), "%.*s/redis-server", n, s);
		if (access(full, X_OK) == 0)
			return true;
	}
	return false;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static redisContext *raw_connect(int port)
{
	struct timeval tv = {0, 200000};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);

	if (c && !c->err && redisSetTimeout(c, tv) == REDIS_OK)
		return c;
	if (c)
		redisFree(c);
	return NULL;
}

static bool ping(int port)
{
	redisContext *c = raw_connect(port);
	redisReply *r;
	bool ok = false;

	if (!c)
		return false;
	r = redisCommand(c, "PING");
	ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
	freeReplyObject(r);
	redisFree(c);
	return ok;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Starts redis-server on 127.0.0.1:port (0 = a free one); waits (bounded)
 * until it answers PING. 0 or -1. */
static int server_start(struct server *s, int port)
{
	char ports[16];
	pid_t parent = getpid();
	uint64_t deadline;

	if (!s->dir[0]) {
		strcpy(s->dir, "/tmp/gcf-fleet-XXXXXX");
		if (!mkdtemp(s->dir))
			return -1;
	}
	s->port = port ? port : free_port();
	if (s->port <= 0)
		return -1;
	snprintf(ports, sizeof(ports), "%d", s->port);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		if (chdir(s->dir) != 0)
			_exit(1);
		execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", ports,
		       "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", s->dir,
		       "--loglevel", "warning", (char *)NULL);
		_exit(127);
	}
	deadline = clock_now_ns() + 10000000000ull;
	while (clock_now_ns() < deadline) {
		int st;

		if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
			s->pid = 0;
			return -1;
		}
		if (ping(s->port))
			return 0;
		sleep_ms(20);
	}
	return -1;
}

static void server_stop(struct server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

static void server_cleanup(struct server *s)
{
	char cmd[128];

	server_stop(s);
	if (s->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", s->dir);
		s->dir[0] = '\0';
	}
}

static int group_setup(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	if (!have_redis_server()) {
		fprintf(stderr, "test_fleet: redis-server is not installed: run "
				"contrib/install-deps.sh (Debian package redis-server)\n");
		return -1;
	}
	if (server_start(&fx.srv, 0) != 0) {
		fprintf(stderr, "test_fleet: could not start redis-server\n");
		server_cleanup(&fx.srv);
		return -1;
	}
	fx.raw = raw_connect(fx.srv.port);
	if (!fx.raw)
		return -1;
	snprintf(fx.url, sizeof(fx.url), "redis://127.0.0.1:%d/0", fx.srv.port);
	return 0;
}

static int group_teardown(void **state)
{
	if (fx.raw)
		redisFree(fx.raw);
	server_cleanup(&fx.srv);
	return 0;
}

static int flush(void **state)
{
	redisReply *r = redisCommand(fx.raw, "FLUSHALL");

	freeReplyObject(r);
	return r ? 0 : -1;
}

static struct fleet *make_fleet(const char *url, const char *host_id)
{
	struct fleet_config cfg = {.url = url, .host_id = host_id};
	struct gcf_error err = GCF_ERROR_INIT;
	struct fleet *f = NULL;

	assert_int_equal(fleet_new(&cfg, &f, &err), 0);
	assert_non_null(f);
	gcf_error_release(&err);
	return f;
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (uint8_t)(x >> 16);
	}
}

static void make_ns(struct fleet *f, const char *kind, char ns[FLEET_NS_MAX])
{
	const char *fields[6] = {
	    "tencent", "tione.tencentcloudapi.com", "ap-guangzhou", "AKIDtest", kind, ""};

	assert_int_equal(fleet_ns(f, fields, 6, ns), 0);
}

static long long raw_int(const char *fmt, const char *arg)
{
	redisReply *r = redisCommand(fx.raw, fmt, arg);
	long long v;

	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_INTEGER);
	v = r->integer;
	freeReplyObject(r);
	return v;
}

static double ms_since(uint64_t t0)
{
	return (double)(clock_now_ns() - t0) / 1e6;
}

/* ------------------------------------------------------------------ */

static void test_fleet_off(void **state)
{
	struct fleet_config cfg = {0};
	struct gcf_error err = GCF_ERROR_INIT;
	struct fleet *f = (struct fleet *)1;
	struct fleet_lease l;
	struct buf b = BUF_INIT(BUF_NOLIMIT);
	uint64_t w = 1;
	char ns[FLEET_NS_MAX];

	assert_int_equal(fleet_new(&cfg, &f, &err), 0);
	assert_null(f);
	assert_int_equal(fleet_publish(NULL, "gcf:x", "a", 1, 1000, 0, NULL), FLEET_DOWN);
	assert_int_equal(fleet_fetch(NULL, "gcf:x", &b, NULL), FLEET_DOWN);
	assert_int_equal(fleet_lease_acquire(NULL, "gcf:x", 1000, &l), FLEET_DOWN);
	assert_int_equal(fleet_rate_acquire(NULL, "gcf:x", 20, 1, &w), FLEET_DOWN);
	assert_int_equal(w, 0);
	assert_int_equal(fleet_last_size(NULL), 1);
	assert_false(fleet_is_up(NULL));
	assert_int_equal(fleet_ns(NULL, NULL, 0, ns), 0);
	assert_int_equal(strncmp(ns, "gcf:", 4), 0);
	assert_int_equal(strlen(ns), 4 + 32);
}

static void test_fleet_config(void **state)
{
	static const char *const bad[] = {"http://x",      "redis://u:pw@h:1/0", "redis://:1",
					  "redis://h:0",   "redis://h:70000",    "redis://h:1/x",
					  "unix:relative", "redis://[::1",       NULL};
	struct gcf_error err = GCF_ERROR_INIT;
	struct fleet *f = NULL;
	char path[] = "/tmp/gcf-fleet-pw-XXXXXX";
	int fd;

	for (int i = 0; bad[i]; i++) {
		struct fleet_config cfg = {.url = bad[i]};

		assert_int_equal(fleet_new(&cfg, &f, &err), -EINVAL);
		assert_null(f);
		assert_non_null(err.message);
		gcf_error_release(&err);
	}
	{
		struct fleet_config cfg = {.url = "unix:/run/redis.sock"};

		assert_int_equal(fleet_new(&cfg, &f, &err), 0);
		fleet_free(f);
	}
	/* a password file readable by others is refused; its contents never echoed */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cr3t-pw\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, 0644), 0);
	{
		struct fleet_config cfg = {.url = "redis://app@127.0.0.1:1/2",
					   .password_file = path};

		assert_int_equal(fleet_new(&cfg, &f, &err), -EINVAL);
		assert_null(strstr(err.message, "s3cr3t"));
		gcf_error_release(&err);
		assert_int_equal(chmod(path, 0600), 0);
		assert_int_equal(fleet_new(&cfg, &f, &err), 0);
		assert_non_null(f);
		fleet_free(f);
	}
	unlink(path);
}

static void test_fleet_ns(void **state)
{
	const char *a[3] = {"tencent", "ap-guangzhou", "AKID1"};
	const char *b[3] = {"tencent", "ap-guangzhou", "AKID2"};
	const char *c[2] = {"tencentap-guangzhou", "AKID1"};
	char na[FLEET_NS_MAX], nb[FLEET_NS_MAX], nc[FLEET_NS_MAX], na2[FLEET_NS_MAX];

	assert_int_equal(fleet_ns(NULL, a, 3, na), 0);
	assert_int_equal(fleet_ns(NULL, a, 3, na2), 0);
	assert_int_equal(fleet_ns(NULL, b, 3, nb), 0);
	assert_int_equal(fleet_ns(NULL, c, 2, nc), 0);
	assert_string_equal(na, na2);
	assert_string_not_equal(na, nb);
	assert_string_not_equal(na, nc);
	assert_null(strstr(na, "AKID"));
}

static void test_fleet_meta_codec(void **state)
{
	struct fleet_meta m = {.length = 600000,
			       .chunk_size = 262144,
			       .chunks = 3,
			       .published_ms = 1700000000123ull,
			       .pub = "0123456789abcdef"};
	struct fleet_meta d;
	uint8_t enc[FLEET_META_LEN], bad[FLEET_META_LEN];

	memset(m.sha256, 0xab, sizeof(m.sha256));
	fleet_meta_encode(&m, enc);
	assert_int_equal(fleet_meta_decode(enc, sizeof(enc), 1 << 30, &d), 0);
	assert_int_equal(d.length, m.length);
	assert_int_equal(d.chunks, 3);
	assert_int_equal(d.published_ms, m.published_ms);
	assert_string_equal(d.pub, m.pub);
	assert_memory_equal(d.sha256, m.sha256, 32);
	assert_int_equal(fleet_chunk_len(&d, 0), 262144);
	assert_int_equal(fleet_chunk_len(&d, 2), 600000 - 2 * 262144);
	assert_int_equal(fleet_chunk_len(&d, 3), 0);

	assert_int_equal(fleet_meta_decode(enc, sizeof(enc) - 1, 1 << 30, &d), -EINVAL);
	assert_int_equal(fleet_meta_decode(enc, sizeof(enc), 1000, &d), -EINVAL);
	assert_int_equal(d.length, 0);
	memcpy(bad, enc, sizeof(bad));
	bad[0] = 'X';
	assert_int_equal(fleet_meta_decode(bad, sizeof(bad), 1 << 30, &d), -EINVAL);
	memcpy(bad, enc, sizeof(bad));
	bad[4] = 2; /* version */
	assert_int_equal(fleet_meta_decode(bad, sizeof(bad), 1 << 30, &d), -EINVAL);
	memcpy(bad, enc, sizeof(bad));
	bad[6] = 1; /* unknown flag */
	assert_int_equal(fleet_meta_decode(bad, sizeof(bad), 1 << 30, &d), -EINVAL);
	memcpy(bad, enc, sizeof(bad));
	bad[20] = 4; /* chunk count does not match the length */
	assert_int_equal(fleet_meta_decode(bad, sizeof(bad), 1 << 30, &d), -EINVAL);
	memcpy(bad, enc, sizeof(bad));
	memset(bad + 16, 0, 4); /* chunk size 0 */
	assert_int_equal(fleet_meta_decode(bad, sizeof(bad), 1 << 30, &d), -EINVAL);
}

static void test_fleet_roundtrip(void **state)
{
	struct fleet *a = make_fleet(fx.url, "a"), *b = make_fleet(fx.url, "b");
	size_t n = 10u * 1000 * 1000 + 17;
	uint8_t *blob = malloc(n);
	struct buf out = BUF_INIT(BUF_NOLIMIT), small = BUF_INIT(1000);
	struct fleet_meta pm, fm;
	struct fleet_stats st;
	char ns[FLEET_NS_MAX], ns0[FLEET_NS_MAX];
	uint64_t t0;
	double pub_ms, fetch_ms;

	assert_non_null(blob);
	fill(blob, n, 1);
	make_ns(a, "tasks", ns);
	assert_int_equal(fleet_fetch(b, ns, &out, &fm), FLEET_MISS);
	t0 = clock_now_ns();
	assert_int_equal(fleet_publish(a, ns, blob, n, 60000, 0, &pm), 0);
	pub_ms = ms_since(t0);
	assert_true(pm.chunks > 1);
	t0 = clock_now_ns();
	assert_int_equal(fleet_fetch(b, ns, &out, &fm), 0);
	fetch_ms = ms_since(t0);
	assert_int_equal(out.len, n);
	assert_memory_equal(out.p, blob, n);
	assert_string_equal(fm.pub, pm.pub);
	assert_int_equal(fm.published_ms, pm.published_ms);
	print_message("fleet: 10 MB blob (%u chunks): publish %.1f ms, fetch %.1f ms\n", pm.chunks,
		      pub_ms, fetch_ms);
	/* a ceiling below the length: -EFBIG, nothing kept */
	assert_int_equal(fleet_fetch(b, ns, &small, NULL), -EFBIG);
	assert_int_equal(small.len, 0);
	/* an empty blob is a blob */
	make_ns(a, "empty", ns0);
	assert_int_equal(fleet_publish(a, ns0, NULL, 0, 60000, 0, NULL), 0);
	assert_int_equal(fleet_fetch(b, ns0, &out, NULL), 0);
	assert_int_equal(out.len, 0);

	fleet_stats_get(b, &st);
	assert_int_equal(st.hits, 2);
	assert_int_equal(st.misses, 1);
	assert_true(st.up);
	fleet_stats_get(a, &st);
	assert_int_equal(st.publications, 2);
	assert_int_equal(st.errors, 0);
	buf_release(&out);
	buf_release(&small);
	free(blob);
	fleet_free(a);
	fleet_free(b);
}

static void chunk_key(const char *ns, const char *pub, unsigned i, char *out, size_t size)
{
	snprintf(out, size, "%s:c:%s:%u", ns, pub, i);
}

static void test_fleet_missing_or_bad_chunk(void **state)
{
	struct fleet *f = make_fleet(fx.url, NULL);
	size_t n = 700000;
	uint8_t *blob = malloc(n);
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	struct fleet_meta pm;
	struct fleet_stats st;
	char ns[FLEET_NS_MAX], key[160];
	redisReply *r;

	assert_non_null(blob);
	fill(blob, n, 2);
	make_ns(f, "tasks", ns);

	/* evicted chunk */
	assert_int_equal(fleet_publish(f, ns, blob, n, 60000, 0, &pm), 0);
	chunk_key(ns, pm.pub, 1, key, sizeof(key));
	assert_int_equal(raw_int("DEL %s", key), 1);
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), FLEET_MISS);
	assert_int_equal(out.len, 0);

	/* one flipped byte */
	assert_int_equal(fleet_publish(f, ns, blob, n, 60000, 0, &pm), 0);
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), 0);
	chunk_key(ns, pm.pub, 2, key, sizeof(key));
	assert_int_equal(raw_int("SETRANGE %s 5 X", key), (long long)(n - 2 * 262144));
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), FLEET_MISS);
	assert_int_equal(out.len, 0);

	/* a chunk of the wrong length */
	assert_int_equal(fleet_publish(f, ns, blob, n, 60000, 0, &pm), 0);
	chunk_key(ns, pm.pub, 0, key, sizeof(key));
	assert_true(raw_int("APPEND %s !", key) > 0);
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), FLEET_MISS);

	/* garbage metadata */
	r = redisCommand(fx.raw, "SET %s:m garbage PX 60000", ns);
	freeReplyObject(r);
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), FLEET_MISS);
	fleet_stats_get(f, &st);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.hits, 1);
	assert_true(fleet_is_up(f));
	buf_release(&out);
	free(blob);
	fleet_free(f);
}

/* A writer that dies after its chunks and before its metadata: readers see
 * the previous publication, intact, or a miss when there is none. */
static void test_fleet_meta_last(void **state)
{
	struct fleet *f = make_fleet(fx.url, NULL);
	uint8_t a[300000], b[300000];
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	struct fleet_meta pm;
	char ns[FLEET_NS_MAX], key[160];
	redisReply *r;

	fill(a, sizeof(a), 3);
	fill(b, sizeof(b), 4);
	make_ns(f, "services", ns);
	for (unsigned i = 0; i < 2; i++) { /* the dying writer's chunks, no meta */
		chunk_key(ns, "00000000deadbeef", i, key, sizeof(key));
		r = redisCommand(fx.raw, "SET %s %b PX 60000", key, b + i * 262144,
				 (size_t)(i ? sizeof(b) - 262144 : 262144));
		freeReplyObject(r);
	}
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), FLEET_MISS);
	assert_int_equal(fleet_publish(f, ns, a, sizeof(a), 60000, 0, &pm), 0);
	/* the dying writer again, after a's publication: a stays readable */
	for (unsigned i = 0; i < 2; i++) {
		chunk_key(ns, "00000000feedface", i, key, sizeof(key));
		r = redisCommand(fx.raw, "SET %s %b PX 60000", key, b, (size_t)1000);
		freeReplyObject(r);
	}
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), 0);
	assert_int_equal(out.len, sizeof(a));
	assert_memory_equal(out.p, a, sizeof(a));
	/* a new publication replaces a; a's chunks only get a short grace */
	{
		struct fleet_meta pm2;
		long long ttl;

		assert_int_equal(fleet_publish(f, ns, b, sizeof(b), 60000, 0, &pm2), 0);
		assert_string_not_equal(pm.pub, pm2.pub);
		chunk_key(ns, pm.pub, 0, key, sizeof(key));
		ttl = raw_int("PTTL %s", key);
		assert_true(ttl > 0 && ttl <= 5000);
		assert_int_equal(fleet_fetch(f, ns, &out, NULL), 0);
		assert_memory_equal(out.p, b, sizeof(b));
	}
	buf_release(&out);
	fleet_free(f);
}

static void test_fleet_every_key_has_ttl(void **state)
{
	struct fleet *f = make_fleet(fx.url, "h1");
	uint8_t blob[600000];
	struct fleet_lease l;
	uint64_t w;
	char ns[FLEET_NS_MAX];
	redisReply *r;
	size_t nkeys;

	fill(blob, sizeof(blob), 5);
	make_ns(f, "tasks", ns);
	assert_int_equal(fleet_publish(f, ns, blob, sizeof(blob), 30000, 0, NULL), 0);
	assert_int_equal(fleet_publish(f, ns, blob, sizeof(blob), 30000, 0, NULL), 0);
	assert_int_equal(fleet_lease_acquire(f, ns, 30000, &l), 0);
	assert_int_equal(fleet_rate_acquire(f, ns, 20, 2, &w), 0);
	assert_int_equal(fleet_heartbeat(f), 0);
	assert_int_equal(fleet_last_size(f), 1);

	r = redisCommand(fx.raw, "KEYS *");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_ARRAY);
	nkeys = r->elements;
	/* 2 publications x (3 chunks) + meta + lease + lease:last + rate + hosts */
	assert_int_equal(nkeys, 6 + 1 + 2 + 1 + 1);
	for (size_t i = 0; i < nkeys; i++) {
		long long ttl = raw_int("PTTL %s", r->element[i]->str);

		if (ttl <= 0)
			fail_msg("key %s has PTTL %lld", r->element[i]->str, ttl);
		assert_int_equal(strncmp(r->element[i]->str, "gcf:", 4), 0);
	}
	freeReplyObject(r);
	fleet_free(f);
}

static void test_fleet_lease(void **state)
{
	struct fleet *a = make_fleet(fx.url, "a"), *b = make_fleet(fx.url, "b");
	struct fleet_lease la, lb, stale;
	struct fleet_stats st;
	char ns[FLEET_NS_MAX];
	uint64_t deadline;
	long long ttl;
	int rc;

	make_ns(a, "tasks", ns);
	assert_int_equal(fleet_lease_acquire(a, ns, 10000, &la), 0);
	assert_false(la.takeover);
	assert_int_equal(fleet_lease_acquire(b, ns, 10000, &lb), FLEET_HELD);
	/* renew extends only the holder's */
	assert_int_equal(fleet_lease_renew(a, &la, 20000), 0);
	ttl = raw_int("PTTL %s", la.key);
	assert_true(ttl > 10000 && ttl <= 20000);
	stale = la;
	stale.token[0] = stale.token[0] == 'a' ? 'b' : 'a';
	assert_int_equal(fleet_lease_renew(b, &stale, 20000), FLEET_MISS);
	assert_int_equal(fleet_lease_release(b, &stale), FLEET_MISS);
	assert_int_equal(fleet_lease_release(a, &la), 0);
	assert_int_equal(fleet_lease_release(a, &la), FLEET_MISS);
	/* released, so the next holder is no takeover */
	assert_int_equal(fleet_lease_acquire(b, ns, 10000, &lb), 0);
	assert_false(lb.takeover);
	assert_int_equal(fleet_lease_release(b, &lb), 0);

	/* a holder that dies: its lease expires and another host takes over */
	assert_int_equal(fleet_lease_acquire(a, ns, 150, &la), 0);
	assert_int_equal(fleet_lease_acquire(b, ns, 10000, &lb), FLEET_HELD);
	deadline = clock_now_ns() + 3000000000ull;
	while ((rc = fleet_lease_acquire(b, ns, 10000, &lb)) == FLEET_HELD &&
	       clock_now_ns() < deadline)
		sleep_ms(20);
	assert_int_equal(rc, 0);
	assert_true(lb.takeover);
	assert_int_equal(fleet_lease_renew(a, &la, 1000), FLEET_MISS);
	fleet_stats_get(b, &st);
	assert_int_equal(st.takeovers, 1);
	assert_true(st.lease_waits >= 2);

	/* a waiter sees the holder's publication, or the lease go */
	{
		struct buf out = BUF_INIT(BUF_NOLIMIT);
		struct fleet_meta m;

		assert_int_equal(fleet_wait_publication(a, ns, NULL, clock_now_ns() + 200000000ull,
							20, &out, &m),
				 FLEET_DEADLINE);
		assert_int_equal(fleet_publish(b, ns, "listing", 7, 10000, 0, NULL), 0);
		assert_int_equal(fleet_wait_publication(a, ns, NULL, clock_now_ns() + 1000000000ull,
							20, &out, &m),
				 0);
		assert_int_equal(out.len, 7);
		assert_int_equal(fleet_wait_publication(a, ns, m.pub, clock_now_ns() + 150000000ull,
							20, &out, &m),
				 FLEET_DEADLINE);
		assert_int_equal(fleet_lease_release(b, &lb), 0);
		assert_int_equal(fleet_wait_publication(
				     a, ns, m.pub, clock_now_ns() + 1000000000ull, 20, &out, &m),
				 -EAGAIN);
		buf_release(&out);
	}
	fleet_free(a);
	fleet_free(b);
}

/* An ACL user confined to its prefix, its password from a file: it works
 * under its prefix, is refused elsewhere (an error reply, not an outage),
 * and a wrong password is an outage of that fleet only. */
static void test_fleet_acl(void **state)
{
	char pwpath[] = "/tmp/gcf-fleet-pw-XXXXXX", badpath[] = "/tmp/gcf-fleet-pw-XXXXXX";
	struct gcf_error err = GCF_ERROR_INIT;
	struct fleet *ok = NULL, *wrong = NULL, *bad = NULL;
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	struct fleet_lease l;
	char ns[FLEET_NS_MAX];
	uint64_t w;
	redisReply *r;
	int fd;

	r = redisCommand(
	    fx.raw, "ACL SETUSER t1 on >pw-t1-0123 ~team1:* resetchannels -@all +get +set +del "
		    "+exists +pexpire +pttl +zadd +zremrangebyscore +zcard +time +evalsha "
		    "+eval +ping +select +auth");
	assert_non_null(r);
	assert_int_equal(r->type, REDIS_REPLY_STATUS);
	freeReplyObject(r);
	fd = mkstemp(pwpath);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "pw-t1-0123\n", 11), 11);
	close(fd);
	fd = mkstemp(badpath);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "nope\n", 5), 5);
	close(fd);
	{
		struct fleet_config c1 = {
		    .url = fx.url, .user = "t1", .password_file = pwpath, .prefix = "team1"};
		struct fleet_config c2 = {.url = fx.url, .user = "t1", .password_file = pwpath};
		struct fleet_config c3 = {
		    .url = fx.url, .user = "t1", .password_file = badpath, .prefix = "team1"};

		assert_int_equal(fleet_new(&c1, &ok, &err), 0);
		assert_int_equal(fleet_new(&c2, &wrong, &err), 0);
		assert_int_equal(fleet_new(&c3, &bad, &err), 0);
	}
	make_ns(ok, "tasks", ns);
	assert_int_equal(strncmp(ns, "team1:", 6), 0);
	assert_int_equal(fleet_publish(ok, ns, "abc", 3, 10000, 0, NULL), 0);
	assert_int_equal(fleet_fetch(ok, ns, &out, NULL), 0);
	assert_int_equal(fleet_lease_acquire(ok, ns, 10000, &l), 0);
	assert_int_equal(fleet_lease_release(ok, &l), 0);
	assert_int_equal(fleet_rate_acquire(ok, ns, 10, 1, &w), 0);
	assert_int_equal(fleet_last_size(ok), 1);

	make_ns(wrong, "tasks", ns);
	assert_int_equal(fleet_publish(wrong, ns, "abc", 3, 10000, 0, NULL), -EIO);
	assert_true(fleet_is_up(wrong));

	assert_int_equal(fleet_fetch(bad, ns, &out, NULL), -EACCES);
	assert_false(fleet_is_up(bad));
	assert_int_equal(fleet_fetch(bad, ns, &out, NULL), FLEET_DOWN);

	r = redisCommand(fx.raw, "ACL DELUSER t1");
	freeReplyObject(r);
	unlink(pwpath);
	unlink(badpath);
	buf_release(&out);
	fleet_free(ok);
	fleet_free(wrong);
	fleet_free(bad);
}

/* ---------------------------------------------------------- the limiter */

#define RATE       20
#define BURST      5
#define THREADS    6
#define RUN_NS     3000000000ull
#define MAX_GRANTS 1000

struct hammer {
	struct fleet *f;
	const char *key;
	uint64_t start_ns;
	uint64_t grants[MAX_GRANTS];
	size_t n;
	int errors;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;

	while (clock_now_ns() - h->start_ns < RUN_NS) {
		uint64_t w = 0;
		int rc = fleet_rate_acquire(h->f, h->key, RATE, BURST, &w);

		if (rc) {
			h->errors++;
			continue;
		}
		if (w == 0) {
			if (h->n < MAX_GRANTS)
				h->grants[h->n++] = clock_now_ns();
			continue;
		}
		if (w > 100000000ull)
			w = 100000000ull;
		sleep_ms((unsigned)(w / 1000000) + 1);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_fleet_rate_never_over(void **state)
{
	struct fleet *fl[2] = {make_fleet(fx.url, "h1"), make_fleet(fx.url, "h2")};
	struct hammer *h = calloc(THREADS, sizeof(*h));
	pthread_t tid[THREADS];
	const char *fields[4] = {"tencent", "ap-guangzhou", "AKIDtest", "DescribeTrainingTasks"};
	char key[FLEET_NS_MAX];
	uint64_t *all, start = clock_now_ns();
	size_t total = 0, worst = 0;

	assert_non_null(h);
	assert_int_equal(fleet_ns(fl[0], fields, 4, key), 0);
	for (int i = 0; i < THREADS; i++) {
		h[i].f = fl[i % 2];
		h[i].key = key;
		h[i].start_ns = start;
		assert_int_equal(pthread_create(&tid[i], NULL, hammer_run, &h[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		assert_int_equal(h[i].errors, 0);
		total += h[i].n;
	}
	all = calloc(total ? total : 1, sizeof(*all));
	assert_non_null(all);
	total = 0;
	for (int i = 0; i < THREADS; i++) {
		memcpy(all + total, h[i].grants, h[i].n * sizeof(*all));
		total += h[i].n;
	}
	qsort(all, total, sizeof(*all), cmp_u64);
	for (size_t i = 0, j = 0; i < total; i++) { /* grants in [all[i], all[i] + 1 s) */
		while (j < total && all[j] < all[i] + 1000000000ull)
			j++;
		if (j - i > worst)
			worst = j - i;
	}
	print_message("fleet: limiter %d/s burst %d, %d threads on 2 hosts for 3 s: %zu grants, "
		      "at most %zu in any 1 s window (bound %d)\n",
		      RATE, BURST, THREADS, total, worst, RATE + BURST);
	assert_true(worst <= RATE + BURST);
	/* and the budget is used: burst + 3 s at the rate, give or take a slot */
	assert_true(total >= 3 * RATE);
	assert_true(total <= BURST + 3 * RATE + 1);
	assert_int_equal(fleet_last_size(fl[0]) + fleet_last_size(fl[1]) >= 3, 1);
	free(all);
	free(h);
	fleet_free(fl[0]);
	fleet_free(fl[1]);
}

static void test_fleet_noscript_recovers(void **state)
{
	struct fleet *f = make_fleet(fx.url, NULL);
	struct fleet_lease l;
	struct fleet_stats st;
	char ns[FLEET_NS_MAX];
	uint64_t w;
	redisReply *r;

	make_ns(f, "tasks", ns);
	assert_int_equal(fleet_rate_acquire(f, ns, 100, 10, &w), 0);
	assert_int_equal(w, 0);
	r = redisCommand(fx.raw, "SCRIPT FLUSH");
	freeReplyObject(r);
	assert_int_equal(fleet_rate_acquire(f, ns, 100, 10, &w), 0);
	assert_int_equal(w, 0);
	assert_int_equal(fleet_lease_acquire(f, ns, 1000, &l), 0);
	r = redisCommand(fx.raw, "SCRIPT FLUSH");
	freeReplyObject(r);
	assert_int_equal(fleet_lease_release(f, &l), 0);
	fleet_stats_get(f, &st);
	assert_int_equal(st.errors, 0);
	assert_true(st.up);
	fleet_free(f);
}

/* ---------------------------------------------------------- the breaker */

static struct server bsrv;
static int saved_stderr = -1;

static int breaker_teardown(void **state)
{
	if (saved_stderr >= 0) { /* a failed assertion left stderr in the log file */
		fflush(stderr);
		dup2(saved_stderr, 2);
		close(saved_stderr);
		saved_stderr = -1;
	}
	server_cleanup(&bsrv);
	return 0;
}

static int count_lines(const char *path, const char *needle)
{
	char line[1024];
	FILE *fp = fopen(path, "r");
	int n = 0;

	if (!fp)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, needle))
			n++;
	fclose(fp);
	return n;
}

static void test_fleet_breaker(void **state)
{
	struct fleet_config cfg = {.command_timeout_ms = 200,
				   .connect_timeout_ms = 200,
				   .backoff_min_ms = 300,
				   .backoff_max_ms = 1200};
	struct gcf_error err = GCF_ERROR_INIT;
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	struct fleet_stats st;
	struct fleet *f = NULL;
	char url[64], ns[FLEET_NS_MAX], logpath[] = "/tmp/gcf-fleet-log-XXXXXX";
	uint64_t t0, deadline, w;
	double ms, worst = 0;
	int rc, logfd, port;

	assert_int_equal(server_start(&bsrv, 0), 0);
	port = bsrv.port;
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
	cfg.url = url;
	assert_int_equal(fleet_new(&cfg, &f, &err), 0);
	make_ns(f, "tasks", ns);
	assert_int_equal(fleet_publish(f, ns, "hello", 5, 60000, 0, NULL), 0);

	logfd = mkstemp(logpath);
	assert_true(logfd >= 0);
	fflush(stderr);
	saved_stderr = dup(2);
	assert_int_equal(dup2(logfd, 2), 2);

	/* paused: the call is bounded by the command timeout */
	kill(bsrv.pid, SIGSTOP);
	t0 = clock_now_ns();
	rc = fleet_fetch(f, ns, &out, NULL);
	ms = ms_since(t0);
	assert_int_equal(rc, -ETIMEDOUT);
	assert_true(ms < 600);
	assert_false(fleet_is_up(f));
	/* then every call falls back at once */
	t0 = clock_now_ns();
	for (int i = 0; i < 1000; i++)
		assert_int_equal(fleet_fetch(f, ns, &out, NULL), FLEET_DOWN);
	assert_true(ms_since(t0) < 50);
	assert_int_equal(fleet_rate_acquire(f, ns, 20, 1, &w), FLEET_DOWN);
	print_message("fleet: paused redis: first call %.0f ms (command timeout 200), then "
		      "1000 fallbacks in %.2f ms\n",
		      ms, ms_since(t0));

	/* killed: probes fail (refused), calls still fall back, no new log line */
	server_stop(&bsrv);
	deadline = clock_now_ns() + 2500000000ull;
	while (clock_now_ns() < deadline) {
		t0 = clock_now_ns();
		rc = fleet_fetch(f, ns, &out, NULL);
		ms = ms_since(t0);
		if (ms > worst)
			worst = ms;
		assert_true(rc == FLEET_DOWN || rc == -ECONNREFUSED || rc == -ETIMEDOUT);
		sleep_ms(10);
	}
	assert_true(worst < 300);
	assert_false(fleet_is_up(f));

	/* a server on the same port: sharing resumes by itself */
	assert_int_equal(server_start(&bsrv, port), 0);
	deadline = clock_now_ns() + 5000000000ull;
	do {
		rc = fleet_publish(f, ns, "again", 5, 60000, 0, NULL);
		if (rc)
			sleep_ms(20);
	} while (rc && clock_now_ns() < deadline);
	assert_int_equal(rc, 0);
	assert_true(fleet_is_up(f));
	assert_int_equal(fleet_fetch(f, ns, &out, NULL), 0);
	assert_memory_equal(out.p, "again", 5);

	fflush(stderr);
	dup2(saved_stderr, 2);
	close(saved_stderr);
	saved_stderr = -1;
	close(logfd);
	fleet_stats_get(f, &st);
	print_message("fleet: breaker stats: errors %llu, fallbacks %llu, state changes %llu\n",
		      (unsigned long long)st.errors, (unsigned long long)st.fallbacks,
		      (unsigned long long)st.state_changes);
	assert_int_equal(count_lines(logpath, "fleet:"), 2);
	assert_int_equal(count_lines(logpath, "unreachable"), 1);
	assert_int_equal(count_lines(logpath, "sharing resumes"), 1);
	assert_int_equal(st.state_changes, 2);
	assert_true(st.fallbacks >= 1000);
	assert_true(st.errors >= 2);
	unlink(logpath);
	buf_release(&out);
	gcf_error_release(&err);
	fleet_free(f);
}

/* ---- a server that answers the metadata, then stalls on the chunks ---- */

struct staller {
	int lfd, pipefd[2]; /* pipefd[0] readable: stop */
	int answer_first;   /* 1: answer the first command (GET meta), 0: none */
	uint8_t meta[FLEET_META_LEN];
	pthread_t th;
};

/* Reads one RESP command array from fd (blocking); 0 or -1 at EOF/stop. */
static int staller_read_cmd(struct staller *st, int fd)
{
	char c;
	int nl = 0, want = -1;

	/* count CRLFs: "*N\r\n" then N x ("$len\r\n" "arg\r\n") */
	for (;;) {
		struct timeval tv = {0, 50000};
		fd_set rs;

		FD_ZERO(&rs);
		FD_SET(fd, &rs);
		FD_SET(st->pipefd[0], &rs);
		if (select((fd > st->pipefd[0] ? fd : st->pipefd[0]) + 1, &rs, NULL, NULL, &tv) < 0)
			return -1;
		if (FD_ISSET(st->pipefd[0], &rs))
			return -1;
		if (!FD_ISSET(fd, &rs))
			continue;
		if (read(fd, &c, 1) != 1)
			return -1;
		if (nl == 0 && want < 0 && c >= '0' && c <= '9')
			want = (want < 0 ? 0 : want) * 10 + (c - '0');
		else if (nl == 0 && want >= 0 && c >= '0' && c <= '9')
			want = want * 10 + (c - '0');
		if (c == '\n' && ++nl == 1 + 2 * want)
			return 0;
	}
}

static void *staller_main(void *arg)
{
	struct staller *st = arg;
	int fd = accept(st->lfd, NULL, NULL);
	char hdr[32];

	if (fd < 0)
		return NULL;
	if (st->answer_first && staller_read_cmd(st, fd) == 0) {
		int n = snprintf(hdr, sizeof(hdr), "$%d\r\n", FLEET_META_LEN);

		if (write(fd, hdr, (size_t)n) != n || write(fd, st->meta, FLEET_META_LEN) < 0 ||
		    write(fd, "\r\n", 2) != 2)
			fprintf(stderr, "staller: write failed\n");
	}
	/* then silence until told to stop */
	while (staller_read_cmd(st, fd) == 0)
		;
	close(fd);
	return NULL;
}

static int staller_start(struct staller *st, int answer_first)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	struct fleet_meta m = {.length = 4096, .chunk_size = 1024, .chunks = 4, .published_ms = 1};

	memcpy(m.pub, "0123456789abcdef", FLEET_PUB_LEN + 1);
	fleet_meta_encode(&m, st->meta);
	st->answer_first = answer_first;
	st->lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (st->lfd < 0 || bind(st->lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(st->lfd, (struct sockaddr *)&a, &len) || listen(st->lfd, 4) ||
	    pipe(st->pipefd))
		return -1;
	if (pthread_create(&st->th, NULL, staller_main, st))
		return -1;
	return ntohs(a.sin_port);
}

static void staller_stop(struct staller *st)
{
	if (write(st->pipefd[1], "x", 1) != 1)
		fprintf(stderr, "staller: stop failed\n");
	shutdown(st->lfd, SHUT_RDWR);
	pthread_join(st->th, NULL);
	close(st->lfd);
	close(st->pipefd[0]);
	close(st->pipefd[1]);
}

/* The chunks of a snapshot stall past the bulk timeout after Redis answered
 * its metadata: -ETIMEDOUT after the bulk timeout (not the command
 * timeout), the breaker stays closed (slow is not down), one bulk stall
 * counted. The same stall on the metadata (a small command) opens it. */
static void test_fleet_bulk_stall(void **state)
{
	struct staller st;
	struct fleet_config cfg = {.command_timeout_ms = 100,
				   .connect_timeout_ms = 200,
				   .bulk_timeout_ms = 500,
				   .backoff_min_ms = 60000};
	struct gcf_error err = GCF_ERROR_INIT;
	struct buf out = BUF_INIT(BUF_NOLIMIT);
	struct fleet_stats fs;
	struct fleet *f = NULL;
	char url[64], ns[FLEET_NS_MAX];
	uint64_t t0;
	double ms;
	int port;

	(void)state;
	for (int answer = 1; answer >= 0; answer--) {
		memset(&st, 0, sizeof(st));
		port = staller_start(&st, answer);
		assert_true(port > 0);
		snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
		cfg.url = url;
		assert_int_equal(fleet_new(&cfg, &f, &err), 0);
		make_ns(f, "tasks", ns);
		t0 = clock_now_ns();
		assert_int_equal(fleet_fetch(f, ns, &out, NULL), -ETIMEDOUT);
		ms = ms_since(t0);
		assert_int_equal(out.len, 0);
		fleet_stats_get(f, &fs);
		if (answer) {
			print_message("fleet: chunks stalled: -ETIMEDOUT after %.0f ms (bulk "
				      "timeout 500, command timeout 100), breaker closed\n",
				      ms);
			assert_true(ms >= 450 && ms < 2000);
			assert_true(fleet_is_up(f));
			assert_int_equal(fs.bulk_stalls, 1);
			assert_int_equal(fs.state_changes, 0);
		} else {
			assert_true(ms < 450);
			assert_false(fleet_is_up(f));
			assert_int_equal(fs.bulk_stalls, 0);
			assert_int_equal(fs.state_changes, 1);
		}
		fleet_free(f);
		f = NULL;
		staller_stop(&st);
	}
	buf_release(&out);
	gcf_error_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fleet_off),
	    cmocka_unit_test(test_fleet_config),
	    cmocka_unit_test(test_fleet_ns),
	    cmocka_unit_test(test_fleet_meta_codec),
	    cmocka_unit_test_setup(test_fleet_roundtrip, flush),
	    cmocka_unit_test_setup(test_fleet_missing_or_bad_chunk, flush),
	    cmocka_unit_test_setup(test_fleet_meta_last, flush),
	    cmocka_unit_test_setup(test_fleet_every_key_has_ttl, flush),
	    cmocka_unit_test_setup(test_fleet_lease, flush),
	    cmocka_unit_test_setup(test_fleet_acl, flush),
	    cmocka_unit_test_setup(test_fleet_rate_never_over, flush),
	    cmocka_unit_test_setup(test_fleet_noscript_recovers, flush),
	    cmocka_unit_test_teardown(test_fleet_breaker, breaker_teardown),
	    cmocka_unit_test(test_fleet_bulk_stall),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
