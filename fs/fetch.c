/*
 * fetch.c - the generic pager (see fetch.h). Knows paging styles, not clouds.
 */
#include "fetch.h"
#include "gcf_hash.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "snapshot.h"

#define FETCH_MAX_PAGES         100000 /* a total promising more is a broken reply */
#define FETCH_MAX_WORKERS       16
#define FETCH_ATTEMPTS          3 /* listings retried when the total moves while paging */
#define FETCH_DEFAULT_BODY      (32u << 20)
#define FETCH_BACKOFF_NS        200000000ull  /* first retry after up to 0.2 s */
#define FETCH_BACKOFF_MAX_NS    5000000000ull /* never more than 5 s apart */
#define FETCH_RETRY_AFTER_MAX_S 60            /* a longer Retry-After is not waited for */

struct page_result {
	cJSON *tree;
	const cJSON *items;
	long total, pages;
	size_t bytes;
	int rc;
	struct gcf_error err;
};

struct job {
	const struct fetch_io *io;
	const struct conn *c;
	const struct kind *k;
	const char *fname, *fval;
	struct ratelimit *rl;
	uint64_t deadline_ns;
	unsigned size;
	bool by_update; /* pages most recently updated first (page_query) */
	struct fetch_stats *st;
	struct page_result *pages;
	unsigned npages;
	atomic_uint next;
	atomic_bool failed;
	bool last_attempt; /* accept a listing whose total moved (de-duplicated) */
};

static void stat_add(unsigned long *field, unsigned long n)
{
	if (field)
		__atomic_fetch_add(field, n, __ATOMIC_RELAXED);
}

void listing_release(struct listing *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->ntrees; i++)
		cJSON_Delete(l->trees[i]);
	free(l->trees);
	free(l->items);
	free(l->reuse);
	snapshot_put(l->reuse_snap);
	memset(l, 0, sizeof(*l));
}

void fetch_latency_init(struct fetch_latency *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->mu, NULL);
}

static void latency_add(struct fetch_latency *l, uint64_t ns)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->mu);
	l->us[l->next] = ns / 1000 > UINT32_MAX ? UINT32_MAX : (uint32_t)(ns / 1000);
	l->next = (l->next + 1) % FETCH_LAT_SAMPLES;
	if (l->n < FETCH_LAT_SAMPLES)
		l->n++;
	pthread_mutex_unlock(&l->mu);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t fetch_latency_pct(struct fetch_latency *l, unsigned p)
{
	uint32_t v[FETCH_LAT_SAMPLES];
	size_t n;

	pthread_mutex_lock(&l->mu);
	n = l->n;
	memcpy(v, l->us, n * sizeof(*v));
	pthread_mutex_unlock(&l->mu);
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u32);
	return v[(n - 1) * (p > 100 ? 100 : p) / 100];
}

/* The deadline of the listing now: the progress record's when there is
 * one (each page pushes it), else the fixed one. 0 = none. */
static uint64_t deadline(const struct job *j)
{
	return j->io->progress ? progress_deadline(j->io->progress) : j->deadline_ns;
}

/* The clock deadlines are compared with. */
static uint64_t job_now(const struct job *j)
{
	return j->io->progress ? progress_now(j->io->progress) : clock_now_ns();
}

/* One attempt at one page. *retry_after_ns gets the reply's Retry-After. */
static int fetch_page_once(struct job *j, unsigned index, struct page_result *pr,
			   uint64_t *retry_after_ns)
{
	const struct conn *c = j->c;
	struct page_query q = {index, j->size, j->fname, j->fval, j->by_update};
	struct http_req rq;
	struct http_resp rs;
	struct page page = {NULL, -1, -1};
	struct gcf_error *err = &pr->err;
	cJSON *tree = NULL;
	unsigned slot = 0;
	bool limited = false;
	int rc;

	memset(&rq, 0, sizeof(rq));
	gcf_error_init(err);
	http_resp_init(&rs, j->io->max_body ? j->io->max_body : FETCH_DEFAULT_BODY);
	rc = j->k->build_page(c, j->k, &q, &rq, err);
	if (!rc) {
		uint64_t dl = deadline(j);

		/* With a progress record, only a stall (no page for its idle
		 * time) ends the listing: a wait for the rate limit is not one. */
		if (j->io->progress && dl && job_now(j) >= dl)
			rc = gcf_error_set(err, GCF_TIMEOUT,
					   "listing abandoned: no page arrived for %.0f s",
					   (double)j->io->progress->idle_ns / 1e9);
		else if (!ratelimit_acquire(j->rl, j->io->progress ? 0 : dl, &slot))
			limited = true;
		else
			rc = gcf_error_set(err, GCF_TIMEOUT,
					   "operation deadline passed while waiting for the rate "
					   "limit");
	}
	if (!rc && j->io->admit)
		rc = j->io->admit(j->io->admit_ctx, j->deadline_ns, err);
	if (!rc)
		rc = c->prov->sign(c, &rq, j->io->wall_now ? j->io->wall_now() : time(NULL), err);
	if (!rc) {
		uint64_t t0 = clock_now_ns();

		stat_add(j->st ? &j->st->requests : NULL, 1);
		stat_add(j->st ? &j->st->in_flight : NULL, 1);
		rc = j->io->perform(j->io->ctx, &rq, &rs, deadline(j), err);
		__atomic_fetch_sub(j->st ? &j->st->in_flight : &(unsigned long){0}, 1,
				   __ATOMIC_RELAXED);
		latency_add(j->st ? j->st->lat : NULL, clock_now_ns() - t0);
		if (rs.retry_after) {
			char *end;
			unsigned long s = strtoul(rs.retry_after, &end, 10);

			if (end != rs.retry_after && !*end && s <= FETCH_RETRY_AFTER_MAX_S)
				*retry_after_ns = s * 1000000000ull;
		}
	}
	if (limited)
		ratelimit_done(j->rl, slot, rs.sent_ns);
	if (!rc) {
		pr->bytes = rs.body.len;
		stat_add(j->st ? &j->st->bytes : NULL, rs.body.len);
		tree = cJSON_ParseWithLength(buf_str(&rs.body), rs.body.len);
		/* Numbers keep their text; a reply JSON would refuse keeps none. */
		if (jsontext_attach(tree, buf_str(&rs.body), rs.body.len) == -ENOMEM)
			rc = gcf_error_set(err, GCF_NOMEM, "out of memory");
		else
			rc = c->prov->reply_error(&rs, tree, err);
		if (rc) {
			err->http_status = rs.status;
			if (!err->request_id && rs.request_id)
				gcf_error_set_request_id(err, rs.request_id);
		} else if (!tree) {
			rc = gcf_error_set(err, GCF_REPLY, "reply is not valid JSON");
			err->http_status = rs.status;
		}
	}
	if (!rc) {
		rc = j->k->parse_page(tree, &page, err);
		if (!rc && page.items && !cJSON_IsArray(page.items))
			rc = gcf_error_set(err, GCF_REPLY,
					   "reply's list of objects is not an array");
		if (rc)
			err->http_status = rs.status;
	}
	if (!rc) {
		pr->tree = tree;
		pr->items = page.items;
		pr->total = page.total;
		pr->pages = page.pages;
		stat_add(j->st ? &j->st->pages : NULL, 1);
		tree = NULL;
	}
	cJSON_Delete(tree);
	http_resp_release(&rs);
	http_req_release(&rq);
	pr->rc = rc;
	return rc;
}

static unsigned count_items(const struct page_result *pr)
{
	return pr->items ? (unsigned)cJSON_GetArraySize(pr->items) : 0;
}

static bool transient(enum gcf_class cls)
{
	return cls == GCF_TRANSPORT || cls == GCF_SERVER || cls == GCF_THROTTLED ||
	       cls == GCF_TIMEOUT || cls == GCF_REPLY;
}

static uint64_t jitter(uint64_t max_ns)
{
	static _Thread_local unsigned seed;

	if (!seed)
		seed = (unsigned)clock_now_ns() ^ (unsigned)(uintptr_t)&seed;
	return max_ns ? (uint64_t)rand_r(&seed) * max_ns / RAND_MAX : 0;
}

static int sleep_ns(uint64_t ns)
{
	struct timespec ts = {.tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
	return 0;
}

/* One page, retrying transient failures within the deadline. */
static int fetch_page(struct job *j, unsigned index, struct page_result *pr)
{
	unsigned attempts = 1 + j->c->retries;
	int rc = 0;

	for (unsigned a = 0; a < attempts; a++) {
		uint64_t retry_after = 0, wait, now;

		if (a) {
			gcf_error_release(&pr->err);
			stat_add(j->st ? &j->st->retries : NULL, 1);
		}
		rc = fetch_page_once(j, index, pr, &retry_after);
		if (!rc && j->io->progress)
			progress_page(j->io->progress, count_items(pr));
		if (!rc || !transient(pr->err.cls))
			break;
		if (pr->err.cls == GCF_THROTTLED) {
			stat_add(j->st ? &j->st->throttles : NULL, 1);
			ratelimit_throttled(j->rl, retry_after);
		}
		if (a + 1 == attempts)
			break;
		/* Full jitter: a random wait up to base * 2^a, capped. */
		wait = FETCH_BACKOFF_NS << (a < 10 ? a : 10);
		if (wait > FETCH_BACKOFF_MAX_NS)
			wait = FETCH_BACKOFF_MAX_NS;
		wait = wait / 2 + jitter(wait / 2);
		if (retry_after > wait)
			wait = retry_after;
		now = job_now(j);
		if (deadline(j) && now + wait >= deadline(j))
			break;
		if (j->io->on_retry) {
			gcf_error_set_context(&pr->err, j->c->name, j->k->action);
			j->io->on_retry(j->io->ctx, &pr->err, a + 2, attempts, wait);
		}
		sleep_ns(wait);
	}
	return rc;
}

static void *worker(void *arg)
{
	struct job *j = arg;

	for (;;) {
		unsigned i;

		if (atomic_load(&j->failed))
			break;
		i = atomic_fetch_add(&j->next, 1);
		if (i >= j->npages)
			break;
		if (fetch_page(j, i, &j->pages[i]))
			atomic_store(&j->failed, true);
	}
	return NULL;
}

/* Fetches pages 1..npages-1 with up to conn->concurrency threads (the
 * calling thread is one of them). */
static void fetch_rest(struct job *j)
{
	unsigned want = j->c->concurrency ? j->c->concurrency : 4;
	pthread_t tids[FETCH_MAX_WORKERS];
	unsigned nt = 0;

	if (want > FETCH_MAX_WORKERS)
		want = FETCH_MAX_WORKERS;
	if (want > j->npages - 1)
		want = j->npages - 1;
	atomic_store(&j->next, 1);
	for (unsigned i = 1; i < want; i++)
		if (!pthread_create(&tids[nt], NULL, worker, j))
			nt++;
	worker(j);
	for (unsigned i = 0; i < nt; i++)
		pthread_join(tids[i], NULL);
}

/* ---- de-duplication across pages ----------------------------------- */

struct idset {
	struct {
		char *id;
		unsigned page;
	} * v;
	size_t cap, n;
};

static size_t hash_str(const char *s)
{
	return (size_t)gcf_fnv1a_str(GCF_FNV1A_BASIS, s);
}

static void idset_release(struct idset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i].id);
	free(s->v);
}

/* Returns 1 when id was seen on another page (drop it), 0 when new or seen
 * on this page (keep it), -ENOMEM. */
static int idset_check(struct idset *s, const char *id, unsigned page)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct idset ns = {calloc(cap, sizeof(*s->v)), cap, 0};

		if (!ns.v)
			return -ENOMEM;
		for (size_t k = 0; k < s->cap; k++) {
			if (!s->v[k].id)
				continue;
			for (i = hash_str(s->v[k].id) % cap; ns.v[i].id; i = (i + 1) % cap)
				;
			ns.v[i] = s->v[k];
			ns.n++;
		}
		free(s->v);
		*s = ns;
	}
	for (i = hash_str(id) % s->cap; s->v[i].id; i = (i + 1) % s->cap)
		if (!strcmp(s->v[i].id, id))
			return s->v[i].page != page;
	s->v[i].id = strdup(id);
	if (!s->v[i].id)
		return -ENOMEM;
	s->v[i].page = page;
	s->n++;
	return 0;
}

/* An object's ID as a string for de-duplication; NULL = no usable ID (or
 * no memory: the object is then kept). */
static char *item_id(const struct kind *k, const cJSON *o)
{
	struct buf b = BUF_INIT(BUF_NOLIMIT);

	if (jsontext_id(o, k->id_field, &b)) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* Moves the pages into out, in order, dropping cross-page repeats. */
static int collect(struct job *j, struct listing *out, struct gcf_error *err)
{
	struct idset seen = {0};
	size_t total = 0;
	int rc = 0;

	for (unsigned p = 0; p < j->npages; p++)
		total += count_items(&j->pages[p]);
	out->trees = calloc(j->npages, sizeof(*out->trees));
	out->items = calloc(total ? total : 1, sizeof(*out->items));
	if (!out->trees || !out->items)
		rc = -ENOMEM;
	for (unsigned p = 0; p < j->npages && !rc; p++) {
		const cJSON *o;

		out->trees[out->ntrees++] = j->pages[p].tree;
		out->json_bytes += j->pages[p].bytes;
		j->pages[p].tree = NULL;
		cJSON_ArrayForEach(o, j->pages[p].items)
		{
			char *id = item_id(j->k, o);
			int dup = 0;

			if (id && j->npages > 1)
				dup = idset_check(&seen, id, p);
			free(id);
			if (dup < 0) {
				rc = dup;
				break;
			}
			if (!dup)
				out->items[out->nitems++] = o;
		}
	}
	idset_release(&seen);
	if (rc)
		gcf_error_set(err, GCF_NOMEM, "out of memory while collecting pages");
	return rc;
}

static void pages_release(struct page_result *pages, unsigned n)
{
	for (unsigned i = 0; pages && i < n; i++) {
		cJSON_Delete(pages[i].tree);
		gcf_error_release(&pages[i].err);
	}
	free(pages);
}

/* One attempt at a complete listing. Returns 0, a negative errno, or 1 when
 * the total moved while paging (try again). */
static int fetch_once(struct job *j, struct listing *out, struct gcf_error *err)
{
	struct page_result first;
	unsigned npages = 1;
	bool known = true;
	int rc;

	memset(&first, 0, sizeof(first));
	rc = fetch_page(j, 0, &first);
	if (rc) {
		gcf_error_move(err, &first.err);
		return rc;
	}
	if (j->k->paging != PAGING_NONE) {
		long pages = -1;

		if (j->k->paging == PAGING_PAGENO && first.pages >= 0)
			pages = first.pages;
		else if (first.total >= 0)
			pages = (first.total + j->size - 1) / j->size;
		if (pages < 0)
			known = false;
		else if (pages > FETCH_MAX_PAGES) {
			cJSON_Delete(first.tree);
			return gcf_error_set(err, GCF_REPLY, "reply claims %ld pages, more than %d",
					     pages, FETCH_MAX_PAGES);
		}
		npages = pages > 1 ? (unsigned)pages : 1;
		if (!known)
			npages = count_items(&first) >= j->size ? 2 : 1;
	}
	if (j->io->progress)
		progress_total(j->io->progress, known ? npages : 0, count_items(&first));
	j->pages = calloc(npages, sizeof(*j->pages));
	if (!j->pages) {
		cJSON_Delete(first.tree);
		return gcf_error_set(err, GCF_NOMEM, "out of memory");
	}
	j->pages[0] = first;
	j->npages = npages;
	atomic_store(&j->failed, false);
	if (known && npages > 1) {
		fetch_rest(j);
	} else if (!known) {
		/* No total: page after page until one comes back short. */
		for (unsigned p = 1; p < j->npages; p++) {
			if (fetch_page(j, p, &j->pages[p])) {
				atomic_store(&j->failed, true);
				break;
			}
			if (count_items(&j->pages[p]) >= j->size && j->npages < FETCH_MAX_PAGES) {
				struct page_result *np =
				    realloc(j->pages, (j->npages + 1) * sizeof(*np));

				if (!np) {
					rc = gcf_error_set(err, GCF_NOMEM, "out of memory");
					break;
				}
				j->pages = np;
				memset(&j->pages[j->npages], 0, sizeof(*np));
				j->npages++;
			}
		}
	}
	if (!rc && atomic_load(&j->failed)) {
		for (unsigned p = 0; p < j->npages; p++)
			if (j->pages[p].rc) {
				rc = j->pages[p].rc;
				gcf_error_move(err, &j->pages[p].err);
				break;
			}
	}
	if (!rc && known && j->k->paging == PAGING_OFFSET && !j->last_attempt) {
		for (unsigned p = 1; p < j->npages; p++)
			if (j->pages[p].total != first.total)
				rc = 1;
	}
	if (!rc)
		rc = collect(j, out, err);
	pages_release(j->pages, j->npages);
	j->pages = NULL;
	return rc;
}

/* A job over every page of (c, k), no filter, in the stable order. */
static void job_init(struct job *j, const struct fetch_io *io, const struct conn *c,
		     const struct kind *k, struct ratelimit *rl, uint64_t deadline_ns,
		     struct fetch_stats *st)
{
	memset(j, 0, sizeof(*j));
	j->io = io;
	j->c = c;
	j->k = k;
	j->rl = rl;
	j->deadline_ns = deadline_ns;
	j->size = k->page_max ? k->page_max : 100;
	j->st = st;
}

int fetch_listing(const struct fetch_io *io, const struct conn *c, const struct kind *k,
		  const char *filter_name, const char *filter_value, struct ratelimit *rl,
		  uint64_t deadline_ns, struct listing *out, struct fetch_stats *st,
		  struct gcf_error *err)
{
	struct job j;
	int rc = 1;

	memset(out, 0, sizeof(*out));
	job_init(&j, io, c, k, rl, deadline_ns, st);
	j.fname = filter_name;
	j.fval = filter_value;
	for (int attempt = 0; attempt < FETCH_ATTEMPTS && rc == 1; attempt++) {
		j.last_attempt = attempt == FETCH_ATTEMPTS - 1;
		rc = fetch_once(&j, out, err);
	}
	if (!rc)
		stat_add(st ? &st->objects : NULL, out->nitems);
	if (rc)
		gcf_error_set_context(err, c->name, k->action);
	return rc;
}

/* ---- for the incremental refresh (incremental.h) ------------------- */

int fetch_pages_while(const struct fetch_io *io, const struct conn *c, const struct kind *k,
		      bool (*more)(void *arg, const cJSON *items), void *arg, struct ratelimit *rl,
		      uint64_t deadline_ns, struct listing *out, long *total,
		      struct fetch_stats *st, struct gcf_error *err)
{
	struct job j;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	*total = -1;
	job_init(&j, io, c, k, rl, deadline_ns, st);
	j.by_update = true; /* newest first: the caller stops at what it has */
	for (unsigned p = 0; p < FETCH_MAX_PAGES; p++) {
		struct page_result *np = realloc(j.pages, (p + 1) * sizeof(*np));
		struct page_result *pr;

		if (!np) {
			rc = gcf_error_set(err, GCF_NOMEM, "out of memory");
			break;
		}
		j.pages = np;
		pr = &j.pages[p];
		memset(pr, 0, sizeof(*pr));
		j.npages = p + 1;
		rc = fetch_page(&j, p, pr);
		if (rc) {
			gcf_error_move(err, &pr->err);
			break;
		}
		if (!p)
			*total = pr->total;
		if (k->paging == PAGING_NONE || count_items(pr) < j.size)
			break; /* the end of the listing */
		if (*total >= 0 && (unsigned long)(p + 1) * j.size >= (unsigned long)*total)
			break;
		if (!more(arg, pr->items))
			break;
	}
	if (!rc)
		rc = collect(&j, out, err);
	pages_release(j.pages, j.npages);
	if (!rc)
		stat_add(st ? &st->objects : NULL, out->nitems);
	if (rc)
		gcf_error_set_context(err, c->name, k->action);
	return rc;
}
