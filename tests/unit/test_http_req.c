/*
 * test_http_req.c - providers/runtime/http.c without the Internet: endpoint
 * parsing, URL and header helpers, the deadline check, a refused connection,
 * and one exchange with a loopback server thread that checks what is sent
 * (Host with port, headers, body) and what is captured (status, body cap,
 * Retry-After, request id).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "gcf_error.h"
#include "clock.h"
#include "http.h"
#include "log.h"

static void check_endpoint(const char *ep, const char *path, const char *query, const char *scheme,
			   const char *host, const char *hostname, const char *want_path,
			   const char *url)
{
	struct http_req rq;
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	assert_int_equal(http_req_init(&rq, "POST", ep, path, query), 0);
	assert_string_equal(rq.method, "POST");
	assert_string_equal(rq.scheme, scheme);
	assert_string_equal(rq.host, host);
	assert_string_equal(rq.hostname, hostname);
	assert_string_equal(rq.path, want_path);
	assert_string_equal(rq.query, query ? query : "");
	assert_int_equal(rq.nheaders, 0);
	assert_int_equal(rq.body.len, 0);
	assert_int_equal(http_req_url(&rq, &b), 0);
	assert_string_equal(buf_str(&b), url);
	buf_release(&b);
	http_req_release(&rq);
	assert_null(rq.host);
}

static void test_http_req_endpoints(void **state)
{
	check_endpoint("https://tione.tencentcloudapi.com", "/", NULL, "https",
		       "tione.tencentcloudapi.com", "tione.tencentcloudapi.com", "/",
		       "https://tione.tencentcloudapi.com/");
	check_endpoint("https://127.0.0.1:8443", "/v2/computeunit", "Action=DescribeComputeUnits",
		       "https", "127.0.0.1:8443", "127.0.0.1", "/v2/computeunit",
		       "https://127.0.0.1:8443/v2/computeunit?Action=DescribeComputeUnits");
	check_endpoint("http://[::1]:80/base", "/", NULL, "http", "[::1]:80", "[::1]", "/base/",
		       "http://[::1]:80/base/");
	check_endpoint("http://[::1]", "/x", NULL, "http", "[::1]", "[::1]", "/x",
		       "http://[::1]/x");
	check_endpoint("HTTPS://Host.Example/base/", "/v1/list", "", "https", "Host.Example",
		       "Host.Example", "/base/v1/list", "https://Host.Example/base/v1/list");
	check_endpoint("https://h/", "/", NULL, "https", "h", "h", "/", "https://h/");
	check_endpoint("https://h", "", NULL, "https", "h", "h", "/", "https://h/");
	check_endpoint("https://h", "v1", NULL, "https", "h", "h", "/v1", "https://h/v1");
}

static void test_http_req_bad_endpoints(void **state)
{
	const char *bad[] = {
	    "",
	    "tione.tencentcloudapi.com",
	    "ftp://host",
	    "https://",
	    "https:///path",
	    "https://host:",
	    "https://host:0",
	    "https://host:65536",
	    "https://host:12a",
	    "https://user@host",
	    "https://[::1",
	    "https://[]",
	    "https://[zz]:80",
	    "https://host?x=1",
	    "https://host/p?x=1",
	    "https://host#frag",
	    "https://ho st",
	    NULL,
	};
	struct http_req rq;

	for (int i = 0; bad[i]; i++) {
		int rc = http_req_init(&rq, "GET", bad[i], "/", NULL);

		if (rc != -EINVAL)
			fail_msg("endpoint \"%s\" gave %d, not -EINVAL", bad[i], rc);
		http_req_release(&rq); /* safe after a failed init */
	}
	assert_int_equal(http_req_init(&rq, "GET", NULL, "/", NULL), -EINVAL);
	http_req_release(&rq);
	http_req_release(NULL);
}

static void test_http_req_headers(void **state)
{
	struct http_req rq;

	assert_int_equal(http_req_init(&rq, "GET", "https://h", "/", NULL), 0);
	assert_null(http_req_header(&rq, "Content-Type"));
	assert_int_equal(http_req_add_header(&rq, "Content-Type", "application/json"), 0);
	assert_int_equal(http_req_add_header(&rq, "X-TC-Action", "DescribeTrainingTasks"), 0);
	assert_int_equal(http_req_add_header(&rq, "content-type", "text/plain"), 0);
	assert_int_equal(rq.nheaders, 3);
	assert_string_equal(http_req_header(&rq, "CONTENT-TYPE"), "application/json");
	assert_string_equal(http_req_header(&rq, "x-tc-action"), "DescribeTrainingTasks");
	assert_null(http_req_header(&rq, "X-TC"));
	assert_int_equal(buf_addstr(&rq.body, "{}"), 0);
	http_req_release(&rq);
	assert_int_equal(rq.nheaders, 0);
	assert_null(rq.headers);
}

static void test_http_resp_init_release(void **state)
{
	struct http_resp rs;

	http_resp_init(&rs, 4);
	assert_int_equal(rs.status, 0);
	assert_int_equal(rs.body.max, 4);
	assert_null(rs.retry_after);
	assert_null(rs.request_id);
	assert_int_equal(buf_addstr(&rs.body, "12345"), -EFBIG);
	http_resp_release(&rs);
	http_resp_release(NULL);
	http_resp_init(&rs, 0);
	assert_true(rs.body.max >= 1024 * 1024);
	http_resp_release(&rs);
}

static void test_http_deadline_passed(void **state)
{
	struct http *h = http_new(NULL);
	struct http_req rq;
	struct http_resp rs;
	struct gcf_error err = GCF_ERROR_INIT;

	assert_non_null(h);
	/* would fail to connect if it were sent: port 1 on loopback */
	assert_int_equal(http_req_init(&rq, "GET", "http://127.0.0.1:1", "/", NULL), 0);
	http_resp_init(&rs, 0);
	assert_int_equal(http_perform(h, &rq, &rs, clock_now_ns() - 1, &err), -ETIMEDOUT);
	assert_int_equal(err.cls, GCF_TIMEOUT);
	assert_int_equal(rs.status, 0);
	gcf_error_release(&err);
	http_resp_release(&rs);
	http_req_release(&rq);
	http_free(h);
}

static int listen_loopback(int *port)
{
	struct sockaddr_in sa = {0};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

static void test_http_refused(void **state)
{
	struct http *h = http_new(NULL);
	struct http_req rq;
	struct http_resp rs;
	struct gcf_error err = GCF_ERROR_INIT;
	struct buf ep = BUF_INIT(BUF_NOLIMIT);
	int port, fd;

	/* a port that was just free: bind, learn it, close */
	fd = listen_loopback(&port);
	close(fd);
	assert_int_equal(buf_printf(&ep, "http://127.0.0.1:%d", port), 0);
	assert_int_equal(http_req_init(&rq, "GET", buf_str(&ep), "/", NULL), 0);
	http_resp_init(&rs, 0);
	assert_int_equal(http_perform(h, &rq, &rs, 0, &err), -EIO);
	assert_int_equal(err.cls, GCF_TRANSPORT);
	assert_non_null(strstr(err.message, "curl error"));
	gcf_error_release(&err);
	http_resp_release(&rs);
	http_req_release(&rq);
	buf_release(&ep);
	http_free(h);
}

/* One-shot loopback server: reads one request, sends a canned reply. */
struct server {
	int fd;
	const char *reply;
	struct buf request;
};

static void *server_main(void *arg)
{
	struct server *s = arg;
	char chunk[4096];
	ssize_t n;
	int c = accept(s->fd, NULL, NULL);

	if (c < 0)
		return NULL;
	/* read until the headers end and Content-Length bytes of body arrived */
	for (;;) {
		const char *end, *cl;
		size_t want;

		n = read(c, chunk, sizeof(chunk));
		if (n <= 0)
			break;
		if (buf_add(&s->request, chunk, (size_t)n))
			break;
		end = strstr(buf_str(&s->request), "\r\n\r\n");
		if (!end)
			continue;
		want = (size_t)(end + 4 - s->request.p);
		cl = strcasestr(buf_str(&s->request), "\r\nContent-Length:");
		if (cl && cl < end)
			want += strtoul(cl + 17, NULL, 10);
		if (s->request.len >= want)
			break;
	}
	if (write(c, s->reply, strlen(s->reply)) < 0)
		perror("write");
	close(c);
	return NULL;
}

static int exchange(const char *reply, size_t max_body, struct buf *request, struct http_resp *rs,
		    struct gcf_error *err)
{
	struct server s = {-1, reply, BUF_INIT(1 << 20)};
	struct http_opts o = {0, 5000, NULL, 0};
	struct buf ep = BUF_INIT(BUF_NOLIMIT);
	struct http_req rq;
	struct http *h;
	pthread_t t;
	int port, rc;

	s.fd = listen_loopback(&port);
	assert_int_equal(pthread_create(&t, NULL, server_main, &s), 0);
	h = http_new(&o);
	assert_non_null(h);
	assert_int_equal(buf_printf(&ep, "http://127.0.0.1:%d", port), 0);
	assert_int_equal(http_req_init(&rq, "POST", buf_str(&ep), "/v1/x", "a=b"), 0);
	assert_int_equal(http_req_add_header(&rq, "Content-Type", "application/json"), 0);
	assert_int_equal(http_req_add_header(&rq, "Authorization", "sim-secret-value"), 0);
	assert_int_equal(buf_addstr(&rq.body, "{\"Offset\":0}"), 0);
	http_resp_init(rs, max_body);
	rc = http_perform(h, &rq, rs, clock_now_ns() + 5000000000ull, err);
	pthread_join(t, NULL);
	close(s.fd);
	*request = s.request;
	http_req_release(&rq);
	buf_release(&ep);
	http_free(h);
	return rc;
}

static void test_http_exchange(void **state)
{
	const char *reply = "HTTP/1.1 429 Too Many Requests\r\n"
			    "Content-Type: application/json\r\n"
			    "Retry-After: 3\r\n"
			    "X-TC-RequestId: req-42\r\n"
			    "Content-Length: 11\r\n"
			    "Connection: close\r\n\r\n"
			    "{\"ok\":true}";
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_resp rs;
	struct buf req;

	assert_int_equal(exchange(reply, 0, &req, &rs, &err), 0);
	assert_int_equal(err.errnum, 0);
	assert_int_equal(rs.status, 429);
	assert_string_equal(buf_str(&rs.body), "{\"ok\":true}");
	assert_string_equal(rs.retry_after, "3");
	assert_string_equal(rs.request_id, "req-42");
	/* what went on the wire */
	assert_non_null(strstr(buf_str(&req), "POST /v1/x?a=b HTTP/1.1\r\n"));
	assert_non_null(strstr(buf_str(&req), "\r\nHost: 127.0.0.1:"));
	assert_non_null(strstr(buf_str(&req), "\r\nContent-Type: application/json\r\n"));
	assert_non_null(strstr(buf_str(&req), "\r\nContent-Length: 12\r\n"));
	assert_non_null(strstr(buf_str(&req), "\r\n\r\n{\"Offset\":0}"));
	assert_null(strstr(buf_str(&req), "Expect:"));
	buf_release(&req);
	http_resp_release(&rs);
}

static void test_http_body_cap(void **state)
{
	const char *reply = "HTTP/1.1 200 OK\r\n"
			    "x-bce-request-id: bce-7\r\n"
			    "Connection: close\r\n\r\n"
			    "0123456789abcdefghij";
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_resp rs;
	struct buf req;

	assert_int_equal(exchange(reply, 8, &req, &rs, &err), -EIO);
	assert_int_equal(err.cls, GCF_REPLY);
	assert_string_equal(err.message, "reply larger than 8 bytes");
	assert_int_equal(err.http_status, 200);
	assert_string_equal(err.request_id, "bce-7");
	gcf_error_release(&err);
	buf_release(&req);
	http_resp_release(&rs);
}

static void test_http_debug_log_redacts(void **state)
{
	const char *reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
	struct gcf_error err = GCF_ERROR_INIT;
	struct http_resp rs;
	struct buf req, logged = BUF_INIT(1 << 20);
	char path[] = "/tmp/test_http_req.XXXXXX", chunk[4096];
	int fd, saved;
	ssize_t n;

	fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	fflush(stderr);
	saved = dup(2);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, 2), 2);
	log_set_level(LOG_LEVEL_DEBUG);
	assert_int_equal(exchange(reply, 0, &req, &rs, &err), 0);
	log_set_level(LOG_LEVEL_INFO);
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_add(&logged, chunk, (size_t)n), 0);
	close(fd);
	/* the secret went on the wire but not into the log */
	assert_non_null(strstr(buf_str(&req), "Authorization: sim-secret-value"));
	assert_null(strstr(buf_str(&logged), "sim-secret-value"));
	assert_non_null(strstr(buf_str(&logged), "Authorization: <redacted>"));
	assert_non_null(strstr(buf_str(&logged), "Content-Type: application/json"));
	assert_non_null(strstr(buf_str(&logged), "POST http://127.0.0.1:"));
	buf_release(&logged);
	buf_release(&req);
	http_resp_release(&rs);
}

static void test_http_bad_ca_file(void **state)
{
	struct http_opts o = {0, 0, "/nonexistent/gcf-ca.pem", 0};
	struct http *h = http_new(&o);
	struct http_req rq;
	struct http_resp rs;
	struct gcf_error err = GCF_ERROR_INIT;

	assert_non_null(h);
	assert_int_equal(http_req_init(&rq, "GET", "https://127.0.0.1:1", "/", NULL), 0);
	http_resp_init(&rs, 0);
	assert_int_equal(http_perform(h, &rq, &rs, 0, &err), -EINVAL);
	assert_int_equal(err.cls, GCF_CONFIG);
	assert_non_null(strstr(err.message, "/nonexistent/gcf-ca.pem"));
	gcf_error_release(&err);
	http_resp_release(&rs);
	http_req_release(&rq);
	http_free(h);
}

/* Keep-alive server: a thread per connection, counts connections and
 * requests; stops when the listening socket is shut down. */
struct ka_server {
	int fd;
	pthread_mutex_t mu;
	int conns, requests;
	pthread_t threads[64];
	int nthreads;
};

struct ka_conn {
	struct ka_server *s;
	int fd;
};

static void *ka_conn_main(void *arg)
{
	struct ka_conn *kc = arg;
	const char *reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
	struct buf in = BUF_INIT(1 << 20);
	char chunk[4096];
	ssize_t n;

	while ((n = read(kc->fd, chunk, sizeof(chunk))) > 0) {
		const char *end;

		if (buf_add(&in, chunk, (size_t)n))
			break;
		/* GET requests only: each ends with an empty line */
		while ((end = strstr(buf_str(&in), "\r\n\r\n")) != NULL) {
			size_t used = (size_t)(end + 4 - in.p);

			memmove(in.p, in.p + used, in.len - used + 1);
			in.len -= used;
			pthread_mutex_lock(&kc->s->mu);
			kc->s->requests++;
			pthread_mutex_unlock(&kc->s->mu);
			if (write(kc->fd, reply, strlen(reply)) < 0)
				break;
		}
	}
	close(kc->fd);
	buf_release(&in);
	free(kc);
	return NULL;
}

static void *ka_server_main(void *arg)
{
	struct ka_server *s = arg;

	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		struct ka_conn *kc;

		if (c < 0)
			break;
		kc = malloc(sizeof(*kc));
		if (!kc || s->nthreads == 64) {
			free(kc);
			close(c);
			continue;
		}
		kc->s = s;
		kc->fd = c;
		pthread_mutex_lock(&s->mu);
		s->conns++;
		pthread_mutex_unlock(&s->mu);
		if (pthread_create(&s->threads[s->nthreads], NULL, ka_conn_main, kc)) {
			close(c);
			free(kc);
			continue;
		}
		s->nthreads++;
	}
	return NULL;
}

struct client {
	struct http *h;
	const char *endpoint;
	int ok;
};

#define CLIENT_REQUESTS 5

static void *client_main(void *arg)
{
	struct client *cl = arg;

	for (int i = 0; i < CLIENT_REQUESTS; i++) {
		struct gcf_error err = GCF_ERROR_INIT;
		struct http_req rq;
		struct http_resp rs;

		if (http_req_init(&rq, "GET", cl->endpoint, "/", NULL))
			continue;
		http_resp_init(&rs, 0);
		if (http_perform(cl->h, &rq, &rs, 0, &err) == 0 && rs.status == 200)
			cl->ok++;
		gcf_error_release(&err);
		http_resp_release(&rs);
		http_req_release(&rq);
	}
	return NULL;
}

static void test_http_threads_share_connections(void **state)
{
	struct ka_server s = {.fd = -1};
	struct http_opts o = {0, 5000, NULL, 0};
	struct buf ep = BUF_INIT(BUF_NOLIMIT);
	struct client cl[4];
	pthread_t srv, t[4];
	struct http *h;
	int port, ok = 0;

	pthread_mutex_init(&s.mu, NULL);
	s.fd = listen_loopback(&port);
	assert_int_equal(pthread_create(&srv, NULL, ka_server_main, &s), 0);
	h = http_new(&o);
	assert_non_null(h);
	assert_int_equal(buf_printf(&ep, "http://127.0.0.1:%d", port), 0);
	for (int i = 0; i < 4; i++) {
		cl[i] = (struct client){h, buf_str(&ep), 0};
		assert_int_equal(pthread_create(&t[i], NULL, client_main, &cl[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ok += cl[i].ok;
	}
	http_free(h); /* closes the pooled connections: server threads see EOF */
	shutdown(s.fd, SHUT_RDWR);
	pthread_join(srv, NULL);
	for (int i = 0; i < s.nthreads; i++)
		pthread_join(s.threads[i], NULL);
	close(s.fd);
	assert_int_equal(ok, 4 * CLIENT_REQUESTS);
	assert_int_equal(s.requests, 4 * CLIENT_REQUESTS);
	/* connections were reused: at most one per client thread */
	assert_true(s.conns >= 1);
	assert_true(s.conns <= 4);
	pthread_mutex_destroy(&s.mu);
	buf_release(&ep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_req_endpoints),
	    cmocka_unit_test(test_http_req_bad_endpoints),
	    cmocka_unit_test(test_http_req_headers),
	    cmocka_unit_test(test_http_resp_init_release),
	    cmocka_unit_test(test_http_deadline_passed),
	    cmocka_unit_test(test_http_refused),
	    cmocka_unit_test(test_http_exchange),
	    cmocka_unit_test(test_http_body_cap),
	    cmocka_unit_test(test_http_debug_log_redacts),
	    cmocka_unit_test(test_http_bad_ca_file),
	    cmocka_unit_test(test_http_threads_share_connections),
	};
	int rc;

	if (http_global_init())
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return rc;
}
