/* bt-mock — a local emulator of the Anthropic Message Batches API.
 *
 * One process, libmicrohttpd with a thread per connection.  All batch
 * state sits behind one mutex (mu); nothing slow runs while it is held:
 * the create body is spooled to a file and validated outside it, and a
 * batch's results are produced (once, when it is first seen ended) under
 * the batch's own mutex.  Batch state is computed lazily from the clock.
 */
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "bt.h"

#define US              1000000LL
#define DEFAULT_PORT    4080
#define MAX_FAULTS      256
#define WBUF            (1 << 20)

enum ep {
	EP_NONE, EP_CREATE, EP_GET, EP_LIST, EP_CANCEL, EP_DELETE, EP_RESULTS,
	EP_MESSAGES, EP_COUNT, EP_ANY,
	EP_MOCK_FAULTS, EP_MOCK_CLEAR, EP_MOCK_STATS
};

static const char *ep_names[] = {
	[EP_CREATE] = "create", [EP_GET] = "get", [EP_LIST] = "list",
	[EP_CANCEL] = "cancel", [EP_DELETE] = "delete", [EP_RESULTS] = "results",
	[EP_MESSAGES] = "messages", [EP_COUNT] = "count_tokens", [EP_ANY] = "any",
};

enum act { A_STATUS, A_TAKEN500, A_DROP, A_CUT, A_SLOW, A_LOST };

struct fault {
	int ep, act, status;
	double arg;
	int has_arg;
	long count;             /* left; 0: always */
};

/* Result kinds, also the order of the counts. */
enum { R_SUCCEEDED, R_ERRORED, R_CANCELED, R_EXPIRED };

struct batch {
	char id[40];
	uint64_t seq;
	long n;
	int64_t created, pt, ct, expires, archive;  /* microseconds */
	int64_t cancel;                             /* 0: not canceled */
	int deleted, finalized;
	long cnt[4];
	pthread_mutex_t fin;    /* held while its results are made */
};

struct bstate {
	int64_t ended;          /* when it ends (or ended) */
	long k;                 /* requests processed, in request order */
	int rest;               /* R_CANCELED or R_EXPIRED for the others */
};

/* A set of 64-bit hashes (prompt-cache prefixes). */
struct pset {
	uint64_t *v;
	size_t cap, n;
};

/* One HTTP request. */
struct conn {
	enum ep ep;
	char id[80];
	char method[16];
	char *url;
	char rid[32];
	struct fault fault;
	int faulted;
	int fd;                 /* create spool */
	char *spool;
	long long got;
	int over;
	struct bt_buf body;     /* other bodies */
};

/* What an endpoint answers. */
struct out {
	unsigned status;
	struct bt_buf body;
	const char *ctype;
	int fd;                 /* a file body (results) instead of body */
	uint64_t fdsize;
	char retry_after[32];
};

/* Options. */
static const char *opt_addr = "127.0.0.1";
static int opt_port = DEFAULT_PORT;
static char *opt_dir;
static const char *opt_key;
static uint64_t opt_seed;
static int64_t opt_pt = 1 * US, opt_ct = US / 5, opt_expire = 24 * 3600 * US,
	opt_archive = 29LL * 24 * 3600 * US;
static double opt_error_rate, opt_expire_rate, opt_lifetime = -1;
static long long opt_max_body = BT_MAX_BODY;
static long opt_max_requests = BT_MAX_REQUESTS;
static long long opt_queue_limit = 500000;
static int opt_ordered;
static int64_t opt_skew;        /* our clock less the machine's */

static char base_url[128];
static int tmp_state;           /* state dir is ours: remove it at exit */
static volatile int stopping;

/* State behind mu. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct batch **batches;
static size_t nbatches, capbatches;
static uint64_t batch_counter, rid_counter, msg_counter, spool_counter;
static struct fault faults[MAX_FAULTS];
static size_t nfaults;
static unsigned long long st_creates, st_http;
static struct pset msg_cache;   /* prefixes seen by POST /v1/messages */

static void
usage(FILE *f, int status)
{
	fprintf(f,
	    "usage: bt-mock [-v] [-p port] [-a addr] [--state-dir dir] [--key key]\n"
	    "               [--seed n] [--processing-time dur] [--cancel-time dur]\n"
	    "               [--expire-after dur] [--archive-after dur]\n"
	    "               [--error-rate r] [--expire-rate r] [--max-body size]\n"
	    "               [--max-requests n] [--queue-limit n] [--fault spec]...\n"
	    "               [--lifetime dur] [--ordered] [--clock-skew [-]dur]\n");
	exit(status);
}

/* ---- small helpers ------------------------------------------------------- */

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US + ts.tv_nsec / 1000 + opt_skew;
}

static int64_t
dur_us(const char *s, const char *what)
{
	double d = bt_duration(s, what);

	if (d > 1e12)
		bt_die(BT_EXIT_USAGE, "%s: %s is too long", what, s);
	return (int64_t)llround(d * US);
}

static void
fmt_time(char out[40], int64_t us)
{
	time_t s = (time_t)(us / US);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, 40, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), 20, ".%06ldZ", (long)(us % US));
}

/* The Date header, by our clock (--clock-skew moves it too). */
static void
http_date(char *out, size_t sz)
{
	time_t s = (time_t)(now_us() / US);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, sz, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

/* A value in [0, 1) from a hash. */
static double
unit(uint64_t h)
{
	return (double)(mix(h) >> 11) / 9007199254740992.0;
}

/* prefix + 24 base62 characters from h. */
static void
mkid(char *out, size_t sz, const char *prefix, uint64_t h)
{
	static const char b62[] =
	    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t i, n = strlen(prefix);

	if (sz < n + 25)
		abort();
	memcpy(out, prefix, n);
	for (i = 0; i < 24; i++) {
		h = mix(h);
		out[n + i] = b62[h % 62];
	}
	out[n + 24] = 0;
}

/* Under mu. */
static void
new_rid(char out[32])
{
	mkid(out, 32, "req_", opt_seed * 0x51ed27ULL ^ mix(0x5151 + ++rid_counter));
}

static int
pset_add(struct pset *s, uint64_t h)   /* 1 when new */
{
	size_t i, j, oc;
	uint64_t *o;

	if (!h)
		h = 1;
	if (2 * (s->n + 1) > s->cap) {
		oc = s->cap;
		o = s->v;
		s->cap = oc ? 2 * oc : 64;
		s->v = bt_calloc(s->cap, sizeof *s->v);
		for (i = 0; i < oc; i++) {
			if (!o[i])
				continue;
			for (j = o[i] % s->cap; s->v[j]; j = (j + 1) % s->cap)
				;
			s->v[j] = o[i];
		}
		free(o);
	}
	for (j = h % s->cap; s->v[j]; j = (j + 1) % s->cap)
		if (s->v[j] == h)
			return 0;
	s->v[j] = h;
	s->n++;
	return 1;
}

static void
pset_free(struct pset *s)
{
	free(s->v);
	s->v = NULL;
	s->cap = s->n = 0;
}

static void
nap(double sec)
{
	while (sec > 0 && !stopping) {
		bt_sleep(sec > 0.05 ? 0.05 : sec);
		sec -= 0.05;
	}
}

static char *
path_of(const char *id, const char *ext)
{
	return bt_asprintf("%s/%s%s", opt_dir, id, ext);
}

/* A file written whole: to a temporary name, then renamed. */
static int
write_file(const char *path, const char *p, size_t n)
{
	char *tmp = bt_asprintf("%s.tmp", path);
	int fd, rc = -1;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		bt_warn("%s:", tmp);
		free(tmp);
		return -1;
	}
	if (bt_write_all(fd, p, n) < 0)
		bt_warn("%s:", tmp);
	else if (close(fd) < 0)
		bt_warn("%s:", tmp);
	else if (rename(tmp, path) < 0)
		bt_warn("%s:", path);
	else
		rc = 0;
	if (rc < 0) {
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

/* ---- jv helpers ------------------------------------------------------------ */

/* The member k of o (borrowed), or jv_invalid(). */
static jv
jget(jv o, const char *k)
{
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(o), jv_string(k));
}

static int
jkind(jv v)
{
	return jv_get_kind(v);
}

static size_t
jslen(jv s)
{
	return (size_t)jv_string_length_bytes(jv_copy(s));
}

static int
jlen(jv a)
{
	return jv_array_length(jv_copy(a));
}

static int
jis(jv v, const char *s)
{
	return jv_get_kind(v) == JV_KIND_STRING && strcmp(jv_string_value(v), s) == 0;
}


/* ---- faults ---------------------------------------------------------------- */

static int
status_ok(int st)
{
	static const int ok[] = { 400, 401, 402, 403, 404, 408, 413, 429, 500,
	    502, 503, 504, 529 };
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (st == ok[i])
			return 1;
	return 0;
}

static int
fault_parse(const char *spec, struct fault *f, char *err, size_t errsz)
{
	char buf[256], *star, *act, *arg, *end;
	int i;

	memset(f, 0, sizeof *f);
	f->count = 1;
	if (strlen(spec) >= sizeof buf) {
		snprintf(err, errsz, "fault too long");
		return -1;
	}
	strcpy(buf, spec);
	if ((star = strrchr(buf, '*'))) {
		*star++ = 0;
		errno = 0;
		f->count = strtol(star, &end, 10);
		if (!*star || *end || f->count < 0 || errno) {
			snprintf(err, errsz, "bad count in fault '%s'", spec);
			return -1;
		}
	}
	if (!(act = strchr(buf, ':'))) {
		snprintf(err, errsz, "fault '%s' is not ENDPOINT:ACTION[:ARG][*COUNT]", spec);
		return -1;
	}
	*act++ = 0;
	if ((arg = strchr(act, ':')))
		*arg++ = 0;
	f->ep = EP_NONE;
	for (i = EP_CREATE; i <= EP_ANY; i++)
		if (strcmp(buf, ep_names[i]) == 0)
			f->ep = i;
	if (f->ep == EP_NONE) {
		snprintf(err, errsz, "unknown endpoint '%s' in fault '%s'", buf, spec);
		return -1;
	}
	if (!strcmp(act, "taken500"))
		f->act = A_TAKEN500;
	else if (!strcmp(act, "drop"))
		f->act = A_DROP;
	else if (!strcmp(act, "cut"))
		f->act = A_CUT;
	else if (!strcmp(act, "slow"))
		f->act = A_SLOW;
	else if (!strcmp(act, "lost"))
		f->act = A_LOST;
	else {
		f->act = A_STATUS;
		f->status = (int)strtol(act, &end, 10);
		if (!*act || *end || !status_ok(f->status)) {
			snprintf(err, errsz, "unknown action '%s' in fault '%s'", act, spec);
			return -1;
		}
	}
	if (arg) {
		errno = 0;
		f->arg = strtod(arg, &end);
		if (!*arg || *end || errno || !(f->arg >= 0) || f->arg > 1e9) {
			snprintf(err, errsz, "bad argument '%s' in fault '%s'", arg, spec);
			return -1;
		}
		f->has_arg = 1;
	}
	if (f->act == A_SLOW && !arg) {
		snprintf(err, errsz, "fault '%s': slow needs seconds", spec);
		return -1;
	}
	return 0;
}

/* Under mu. */
static int
fault_add(const char *spec, char *err, size_t errsz)
{
	struct fault f;

	if (fault_parse(spec, &f, err, errsz) < 0)
		return -1;
	if (nfaults == MAX_FAULTS) {
		snprintf(err, errsz, "too many faults (%d)", MAX_FAULTS);
		return -1;
	}
	faults[nfaults++] = f;
	return 0;
}

/* Under mu: the first fault for endpoint ep, consumed. */
static int
fault_take(int ep, struct fault *out)
{
	size_t i;

	for (i = 0; i < nfaults; i++) {
		if (faults[i].ep != ep && faults[i].ep != EP_ANY)
			continue;
		*out = faults[i];
		if (faults[i].count > 0 && --faults[i].count == 0) {
			memmove(faults + i, faults + i + 1,
			    (nfaults - i - 1) * sizeof *faults);
			nfaults--;
		}
		return 1;
	}
	return 0;
}

/* ---- batches --------------------------------------------------------------- */

static long
processed_by(const struct batch *b, int64_t t)
{
	double k;

	if (t >= b->created + b->pt || b->pt <= 0)
		return b->n;
	if (t <= b->created)
		return 0;
	k = floor((double)(t - b->created) * (double)b->n / (double)b->pt);
	return k >= b->n ? b->n : (long)k;
}

/* Under mu. */
static void
bstate(const struct batch *b, struct bstate *s)
{
	int64_t end, cutoff;

	if (b->cancel) {
		end = b->cancel + b->ct;
		cutoff = b->cancel;
		s->rest = R_CANCELED;
	} else {
		end = cutoff = b->created + b->pt;
		s->rest = R_EXPIRED;
	}
	if (end > b->expires) {
		end = b->expires;
		if (cutoff > b->expires)
			cutoff = b->expires;
		s->rest = R_EXPIRED;
	}
	s->ended = end;
	s->k = processed_by(b, cutoff);
}

static int
batch_ended(const struct batch *b, int64_t now)
{
	struct bstate s;

	bstate(b, &s);
	return now >= s.ended;
}

/* Under mu. */
static struct batch *
batch_find(const char *id)
{
	size_t i;

	for (i = 0; i < nbatches; i++)
		if (!batches[i]->deleted && strcmp(batches[i]->id, id) == 0)
			return batches[i];
	return NULL;
}

/* Under mu. */
static int
meta_save(const struct batch *b)
{
	char line[512], *path;
	int n, rc;

	n = snprintf(line, sizeof line,
	    "bt-mock-batch 1 %s %" PRIu64 " %ld %" PRId64 " %" PRId64 " %" PRId64
	    " %" PRId64 " %" PRId64 " %" PRId64 " %d %ld %ld %ld %ld\n",
	    b->id, b->seq, b->n, b->created, b->pt, b->ct, b->expires, b->archive,
	    b->cancel, b->finalized, b->cnt[0], b->cnt[1], b->cnt[2], b->cnt[3]);
	path = path_of(b->id, ".meta");
	rc = write_file(path, line, (size_t)n);
	free(path);
	return rc;
}

static int
counter_save(void)
{
	char line[64], *path;
	int n, rc;

	n = snprintf(line, sizeof line, "%" PRIu64 "\n", batch_counter);
	path = bt_asprintf("%s/counter", opt_dir);
	rc = write_file(path, line, (size_t)n);
	free(path);
	return rc;
}

static int
seq_cmp(const void *a, const void *b)
{
	const struct batch *x = *(struct batch *const *)a, *y = *(struct batch *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
batch_append(struct batch *b)
{
	if (nbatches == capbatches) {
		capbatches = capbatches ? 2 * capbatches : 64;
		batches = bt_realloc(batches, capbatches * sizeof *batches);
	}
	batches[nbatches++] = b;
}

static struct batch *
batch_new(void)
{
	struct batch *b = bt_calloc(1, sizeof *b);

	pthread_mutex_init(&b->fin, NULL);
	return b;
}

/* Load the batches of a --state-dir; remove leftovers of a crash. */
static void
state_load(void)
{
	DIR *d;
	struct dirent *e;
	char *path, line[512], id[64];
	FILE *f;
	struct batch *b;
	size_t n;
	uint64_t c;

	path = bt_asprintf("%s/counter", opt_dir);
	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%" SCNu64, &c) == 1)
			batch_counter = c;
		fclose(f);
	}
	free(path);
	if (!(d = opendir(opt_dir)))
		bt_die(BT_EXIT_FAIL, "%s:", opt_dir);
	while ((e = readdir(d))) {
		n = strlen(e->d_name);
		if (!strncmp(e->d_name, ".spool-", 7) ||
		    (n > 4 && !strcmp(e->d_name + n - 4, ".tmp"))) {
			path = bt_asprintf("%s/%s", opt_dir, e->d_name);
			unlink(path);
			free(path);
			continue;
		}
		if (n < 6 || strcmp(e->d_name + n - 5, ".meta"))
			continue;
		path = bt_asprintf("%s/%s", opt_dir, e->d_name);
		f = fopen(path, "r");
		if (!f || !fgets(line, sizeof line, f)) {
			bt_warn("%s: cannot read; ignored", path);
			if (f)
				fclose(f);
			free(path);
			continue;
		}
		fclose(f);
		b = batch_new();
		if (sscanf(line, "bt-mock-batch 1 %63s %" SCNu64 " %ld %" SCNd64 " %" SCNd64
		    " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %d %ld %ld %ld %ld",
		    id, &b->seq, &b->n, &b->created, &b->pt, &b->ct, &b->expires,
		    &b->archive, &b->cancel, &b->finalized, &b->cnt[0], &b->cnt[1],
		    &b->cnt[2], &b->cnt[3]) != 14 || strlen(id) >= sizeof b->id) {
			bt_warn("%s: not a bt-mock batch; ignored", path);
			pthread_mutex_destroy(&b->fin);
			free(b);
			free(path);
			continue;
		}
		free(path);
		strcpy(b->id, id);
		batch_append(b);
		if (b->seq >= batch_counter)
			batch_counter = b->seq;
	}
	closedir(d);
	if (nbatches)
		qsort(batches, nbatches, sizeof *batches, seq_cmp);
}

static void
state_remove(void)
{
	DIR *d;
	struct dirent *e;
	char *path;

	if (!(d = opendir(opt_dir)))
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path = bt_asprintf("%s/%s", opt_dir, e->d_name);
		unlink(path);
		free(path);
	}
	closedir(d);
	if (rmdir(opt_dir) < 0)
		bt_warn("%s:", opt_dir);
}

/* Under mu: the MessageBatch object as of now (its results made if ended). */
static void
batch_json(struct bt_buf *o, const struct batch *b, int64_t now)
{
	struct bstate s;
	char t[40];
	int ended;

	bstate(b, &s);
	ended = now >= s.ended && b->finalized;
	bt_buf_printf(o, "{\"id\":\"%s\",\"type\":\"message_batch\",\"processing_status\":\"%s\"",
	    b->id, ended ? "ended" : b->cancel ? "canceling" : "in_progress");
	if (ended)
		bt_buf_printf(o, ",\"request_counts\":{\"processing\":0,\"succeeded\":%ld,"
		    "\"errored\":%ld,\"canceled\":%ld,\"expired\":%ld}",
		    b->cnt[0], b->cnt[1], b->cnt[2], b->cnt[3]);
	else
		bt_buf_printf(o, ",\"request_counts\":{\"processing\":%ld,\"succeeded\":0,"
		    "\"errored\":0,\"canceled\":0,\"expired\":0}", b->n);
	if (ended) {
		fmt_time(t, s.ended);
		bt_buf_printf(o, ",\"ended_at\":\"%s\"", t);
	} else
		bt_buf_adds(o, ",\"ended_at\":null");
	fmt_time(t, b->created);
	bt_buf_printf(o, ",\"created_at\":\"%s\"", t);
	fmt_time(t, b->expires);
	bt_buf_printf(o, ",\"expires_at\":\"%s\"", t);
	if (b->cancel) {
		fmt_time(t, b->cancel);
		bt_buf_printf(o, ",\"cancel_initiated_at\":\"%s\"", t);
	} else
		bt_buf_adds(o, ",\"cancel_initiated_at\":null");
	if (ended && now >= b->archive) {
		fmt_time(t, b->archive > s.ended ? b->archive : s.ended);
		bt_buf_printf(o, ",\"archived_at\":\"%s\"", t);
	} else
		bt_buf_adds(o, ",\"archived_at\":null");
	if (ended)
		bt_buf_printf(o, ",\"results_url\":\"%s/v1/messages/batches/%s/results\"}",
		    base_url, b->id);
	else
		bt_buf_adds(o, ",\"results_url\":null}");
}

/* ---- results ------------------------------------------------------------- */

struct tokens {
	size_t total;           /* bytes of all input text */
	size_t sys;             /* bytes of the system prompt */
	int cached;             /* the system prompt has cache_control */
	uint64_t prefix;        /* hash of the system prompt */
};

/* Input bytes by the library's rule (bt-cost estimates by the same one),
 * and the cached prefix: the system prompt's text, and whether one of its
 * blocks asks to be cached. */
static void
count_tokens(jv params, struct tokens *t)
{
	jv sys, blk, v;
	int i, n;

	memset(t, 0, sizeof *t);
	t->total = bt_input_bytes(params, &t->sys);
	t->prefix = 0xcbf29ce484222325ULL;
	sys = jget(params, "system");
	if (jkind(sys) == JV_KIND_STRING)
		t->prefix = fnv(t->prefix, jv_string_value(sys), jslen(sys));
	n = jkind(sys) == JV_KIND_ARRAY ? jlen(sys) : 0;
	for (i = 0; i < n; i++) {
		blk = jv_array_get(jv_copy(sys), i);
		v = jget(blk, "type");
		if (jis(v, "text")) {
			jv_free(v);
			v = jget(blk, "text");
			if (jkind(v) == JV_KIND_STRING)
				t->prefix = fnv(fnv(t->prefix, jv_string_value(v), jslen(v)), "", 1);
		}
		jv_free(v);
		v = jget(blk, "cache_control");
		if (jv_is_valid(v) && jkind(v) != JV_KIND_NULL)
			t->cached = 1;
		jv_free(v);
		jv_free(blk);
	}
	jv_free(sys);
}

static long long
ceil4(size_t n)
{
	return (long long)((n + 3) / 4);
}

/* The text of the last user message, into r. */
static void
reply_text(jv params, struct bt_buf *r)
{
	jv msgs, m, c, blk, v;
	int i, j, n, first = 1;

	msgs = jget(params, "messages");
	if (jkind(msgs) != JV_KIND_ARRAY) {
		jv_free(msgs);
		return;
	}
	for (i = jlen(msgs) - 1; i >= 0; i--) {
		m = jv_array_get(jv_copy(msgs), i);
		v = jget(m, "role");
		if (!jis(v, "user")) {
			jv_free(v);
			jv_free(m);
			continue;
		}
		jv_free(v);
		c = jget(m, "content");
		if (jkind(c) == JV_KIND_STRING)
			bt_buf_add(r, jv_string_value(c), jslen(c));
		else if (jkind(c) == JV_KIND_ARRAY) {
			n = jlen(c);
			for (j = 0; j < n; j++) {
				blk = jv_array_get(jv_copy(c), j);
				v = jget(blk, "type");
				if (jis(v, "text")) {
					jv_free(v);
					v = jget(blk, "text");
					if (jkind(v) == JV_KIND_STRING) {
						if (!first)
							bt_buf_addc(r, '\n');
						first = 0;
						bt_buf_add(r, jv_string_value(v), jslen(v));
					}
				}
				jv_free(v);
				jv_free(blk);
			}
		}
		jv_free(c);
		jv_free(m);
		break;
	}
	jv_free(msgs);
}

/* 0 when params can make a Message; else -1 with the API's message. */
static int
check_params(jv p, int batch, char *msg, size_t sz)
{
	jv v, m, r;
	int i, n, rc = -1;

	if (jkind(p) != JV_KIND_OBJECT) {
		snprintf(msg, sz, "Input should be a valid dictionary");
		return -1;
	}
	v = jget(p, "model");
	if (!jv_is_valid(v))
		snprintf(msg, sz, "model: Field required");
	else if (jkind(v) != JV_KIND_STRING)
		snprintf(msg, sz, "model: Input should be a valid string");
	else
		rc = 0;
	jv_free(v);
	if (rc < 0)
		return -1;
	rc = -1;
	v = jget(p, "messages");
	if (!jv_is_valid(v))
		snprintf(msg, sz, "messages: Field required");
	else if (jkind(v) != JV_KIND_ARRAY)
		snprintf(msg, sz, "messages: Input should be a valid list");
	else if ((n = jlen(v)) == 0)
		snprintf(msg, sz, "messages: List should have at least 1 item after validation, not 0");
	else {
		rc = 0;
		for (i = 0; i < n && rc == 0; i++) {
			rc = -1;
			m = jv_array_get(jv_copy(v), i);
			r = jget(m, "role");
			if (jkind(m) != JV_KIND_OBJECT)
				snprintf(msg, sz, "messages.%d: Input should be a valid dictionary", i);
			else if (!jv_is_valid(r))
				snprintf(msg, sz, "messages.%d.role: Field required", i);
			else if (!jis(r, "user") && !jis(r, "assistant"))
				snprintf(msg, sz, "messages.%d.role: Input should be 'user' or 'assistant'", i);
			else {
				jv_free(r);
				r = jget(m, "content");
				if (!jv_is_valid(r))
					snprintf(msg, sz, "messages.%d.content: Field required", i);
				else if (jkind(r) != JV_KIND_STRING && jkind(r) != JV_KIND_ARRAY)
					snprintf(msg, sz, "messages.%d.content: Input should be a valid string or list", i);
				else
					rc = 0;
			}
			jv_free(r);
			jv_free(m);
		}
	}
	jv_free(v);
	if (rc < 0)
		return -1;
	rc = -1;
	v = jget(p, "max_tokens");
	if (!jv_is_valid(v))
		snprintf(msg, sz, "max_tokens: Field required");
	else if (jkind(v) != JV_KIND_NUMBER)
		snprintf(msg, sz, "max_tokens: Input should be a valid integer");
	else if (jv_number_value(v) != floor(jv_number_value(v)))
		snprintf(msg, sz, "max_tokens: Input should be a valid integer, got a number with a fractional part");
	else if (jv_number_value(v) < 1)
		snprintf(msg, sz, "max_tokens: Input should be greater than or equal to 1");
	else
		rc = 0;
	jv_free(v);
	if (rc < 0)
		return -1;
	rc = -1;
	v = jget(p, "system");
	if (jv_is_valid(v) && jkind(v) != JV_KIND_STRING && jkind(v) != JV_KIND_ARRAY &&
	    jkind(v) != JV_KIND_NULL)
		snprintf(msg, sz, "system: Input should be a valid string or list");
	else
		rc = 0;
	jv_free(v);
	if (rc < 0)
		return -1;
	rc = -1;
	v = jget(p, "tools");
	if (jv_is_valid(v) && jkind(v) != JV_KIND_ARRAY && jkind(v) != JV_KIND_NULL)
		snprintf(msg, sz, "tools: Input should be a valid list");
	else
		rc = 0;
	jv_free(v);
	if (rc < 0)
		return -1;
	v = jget(p, "stream");
	if (jkind(v) == JV_KIND_TRUE) {
		snprintf(msg, sz, batch ? "stream: Streaming is not supported in batch requests"
		    : "stream: bt-mock does not stream; leave stream unset or false");
		rc = -1;
	}
	jv_free(v);
	return rc;
}

/* The name of the tool the request forces, or jv_invalid(). */
static jv
forced_tool(jv params)
{
	jv tc, tools, t, name = jv_invalid();

	tc = jget(params, "tool_choice");
	tools = jget(params, "tools");
	if (jkind(tools) == JV_KIND_ARRAY && jlen(tools) > 0) {
		t = jget(tc, "type");
		if (jis(t, "tool")) {
			name = jget(tc, "name");
		} else if (jis(t, "any")) {
			jv_free(t);
			t = jv_array_get(jv_copy(tools), 0);
			name = jget(t, "name");
		}
		jv_free(t);
		if (jkind(name) != JV_KIND_STRING) {
			jv_free(name);
			name = jv_invalid();
		}
	}
	jv_free(tc);
	jv_free(tools);
	return name;
}

/* Append the Message for valid params.  h seeds its ids; cache is the set
 * of prompt prefixes seen so far (cache_mu, if not NULL, guards it). */
static void
message_json(struct bt_buf *o, jv params, uint64_t h, const char *tier,
    struct pset *cache, pthread_mutex_t *cache_mu)
{
	struct bt_buf r = { 0 };
	struct tokens t;
	char id[40];
	jv model, mt, tool;
	double maxb;
	size_t cut;
	const char *stop = "end_turn";
	long long in, created = 0, read = 0;
	int fresh;

	reply_text(params, &r);
	mt = jget(params, "max_tokens");
	maxb = jv_number_value(mt) * 4;
	jv_free(mt);
	if ((double)r.len > maxb) {
		cut = (size_t)maxb;
		while (cut > 0 && ((unsigned char)r.p[cut] & 0xC0) == 0x80)
			cut--;
		r.len = cut;
		stop = "max_tokens";
	}
	count_tokens(params, &t);
	if (t.cached && t.sys > 0) {
		if (cache_mu)
			pthread_mutex_lock(cache_mu);
		fresh = pset_add(cache, t.prefix);
		if (cache_mu)
			pthread_mutex_unlock(cache_mu);
		if (fresh)
			created = ceil4(t.sys);
		else
			read = ceil4(t.sys);
		in = ceil4(t.total - t.sys);
	} else {
		in = ceil4(t.total);
		if (in < 1)
			in = 1;
	}
	mkid(id, sizeof id, "msg_", h ^ 0x6d7367ULL);
	model = jget(params, "model");
	bt_buf_printf(o, "{\"id\":\"%s\",\"type\":\"message\",\"role\":\"assistant\",\"model\":", id);
	bt_json_write(o, model);
	jv_free(model);
	tool = forced_tool(params);
	if (jv_is_valid(tool)) {
		mkid(id, sizeof id, "toolu_", h ^ 0x746f6f6cULL);
		bt_buf_printf(o, ",\"content\":[{\"type\":\"tool_use\",\"id\":\"%s\",\"name\":", id);
		bt_json_write(o, tool);
		bt_buf_adds(o, ",\"input\":{\"text\":");
		bt_json_write_str(o, r.p ? r.p : "", r.len);
		bt_buf_adds(o, "}}]");
		if (strcmp(stop, "max_tokens"))
			stop = "tool_use";
	} else {
		bt_buf_adds(o, ",\"content\":[{\"type\":\"text\",\"text\":");
		bt_json_write_str(o, r.p ? r.p : "", r.len);
		bt_buf_adds(o, ",\"citations\":null}]");
	}
	jv_free(tool);
	bt_buf_printf(o, ",\"stop_reason\":\"%s\",\"stop_sequence\":null,\"stop_details\":null,"
	    "\"container\":null,\"usage\":{\"input_tokens\":%lld,\"output_tokens\":%lld,"
	    "\"cache_creation_input_tokens\":%lld,\"cache_read_input_tokens\":%lld,"
	    "\"service_tier\":\"%s\"}}", stop, in, ceil4(r.len), created, read, tier);
	bt_buf_free(&r);
}

static void
error_envelope(struct bt_buf *o, const char *type, const char *msg, const char *rid)
{
	bt_buf_printf(o, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":", type);
	bt_json_write_str(o, msg, strlen(msg));
	bt_buf_printf(o, "},\"request_id\":\"%s\"}", rid);
}

/* Append one result line for a processed request; returns its kind. */
static int
result_line(struct bt_buf *o, const char *cid, size_t cidlen, jv params,
    const char *bid, struct pset *cache)
{
	char msg[256], rid[32];
	uint64_t h;
	double u;
	int kind;

	h = fnv(fnv(mix(opt_seed) ^ 0xcbf29ce484222325ULL, bid, strlen(bid) + 1), cid, cidlen);
	h = mix(h);
	bt_buf_adds(o, "{\"custom_id\":");
	bt_json_write_str(o, cid, cidlen);
	bt_buf_adds(o, ",\"result\":{\"type\":");
	mkid(rid, sizeof rid, "req_", h ^ 0x726571ULL);
	u = unit(h ^ 0x72617465ULL);
	if (check_params(params, 1, msg, sizeof msg) < 0) {
		bt_buf_adds(o, "\"errored\",\"error\":");
		error_envelope(o, "invalid_request_error", msg, rid);
		kind = R_ERRORED;
	} else if (u < opt_error_rate) {
		bt_buf_adds(o, "\"errored\",\"error\":");
		if (mix(h ^ 0x6b696e64ULL) & 1)
			error_envelope(o, "overloaded_error", "Overloaded", rid);
		else
			error_envelope(o, "api_error", "Internal server error", rid);
		kind = R_ERRORED;
	} else if (u < opt_error_rate + opt_expire_rate) {
		bt_buf_adds(o, "\"expired\"");
		kind = R_EXPIRED;
	} else {
		bt_buf_adds(o, "\"succeeded\",\"message\":");
		message_json(o, params, h, "batch", cache, NULL);
		kind = R_SUCCEEDED;
	}
	bt_buf_adds(o, "}}\n");
	return kind;
}

static int
flush_buf(int fd, struct bt_buf *w, const char *path)
{
	if (w->len && bt_write_all(fd, w->p, w->len) < 0) {
		bt_warn("%s:", path);
		return -1;
	}
	w->len = 0;
	return 0;
}

static void *
map_file(int fd, size_t *size, const char *path)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0) {
		bt_warn("%s:", path);
		return NULL;
	}
	*size = (size_t)st.st_size;
	if (!*size)
		return (void *)"";
	p = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		bt_warn("%s:", path);
		return NULL;
	}
	return p;
}

static void
unmap_file(void *p, size_t size)
{
	if (size)
		munmap(p, size);
}

/* Make the results file of an ended batch, once.  Called without mu. */
static int
finalize(struct batch *b)
{
	struct bstate s;
	struct bt_buf w = { 0 };
	struct pset cache = { 0 };
	char *rpath = NULL, *opath = NULL, *tpath = NULL, *fpath = NULL, err[256];
	const char *p, *end, *nl, *q, *ord;
	size_t size = 0, osize = 0, *offs = NULL, cidlen;
	uint32_t *perm = NULL, j, t;
	uint64_t rng;
	long i, n, cnt[4] = { 0 };
	int rfd = -1, ofd = -1, ffd = -1, rc = -1, kind;
	char *map = NULL, *omap = NULL;
	jv params;

	pthread_mutex_lock(&b->fin);
	pthread_mutex_lock(&mu);
	if (b->finalized || b->deleted) {
		pthread_mutex_unlock(&mu);
		pthread_mutex_unlock(&b->fin);
		return 0;
	}
	bstate(b, &s);
	n = b->n;
	pthread_mutex_unlock(&mu);

	rpath = path_of(b->id, ".requests");
	fpath = path_of(b->id, ".results.tmp");
	opath = path_of(b->id, ".order.tmp");
	tpath = path_of(b->id, ".results");
	if ((rfd = open(rpath, O_RDONLY)) < 0) {
		bt_warn("%s:", rpath);
		goto out;
	}
	if (!(map = map_file(rfd, &size, rpath)))
		goto out;
	ord = opt_ordered ? fpath : opath;
	if ((ofd = open(ord, O_RDWR | O_CREAT | O_TRUNC, 0644)) < 0) {
		bt_warn("%s:", ord);
		goto out;
	}
	offs = bt_malloc(((size_t)n + 1) * sizeof *offs);
	p = map;
	end = map + size;
	for (i = 0; i < n; i++) {
		offs[i] = osize + w.len;
		if (p >= end || !(nl = memchr(p, '\n', (size_t)(end - p))) ||
		    (size_t)(nl - p) < 16 || strncmp(p, "{\"custom_id\":\"", 14)) {
			bt_warn("%s: line %ld: damaged", rpath, i + 1);
			goto out;
		}
		q = memchr(p + 14, '"', (size_t)(nl - p - 14));
		if (!q || nl - q < 12 || strncmp(q, "\",\"params\":", 11)) {
			bt_warn("%s: line %ld: damaged", rpath, i + 1);
			goto out;
		}
		cidlen = (size_t)(q - (p + 14));
		if (i < s.k) {
			params = bt_json_parse(q + 11, (size_t)(nl - 1 - (q + 11)), err, sizeof err);
			if (!jv_is_valid(params)) {
				jv_free(params);
				bt_warn("%s: line %ld: %s", rpath, i + 1, err);
				goto out;
			}
			kind = result_line(&w, p + 14, cidlen, params, b->id, &cache);
			jv_free(params);
		} else {
			kind = s.rest;
			bt_buf_adds(&w, "{\"custom_id\":");
			bt_json_write_str(&w, p + 14, cidlen);
			bt_buf_printf(&w, ",\"result\":{\"type\":\"%s\"}}\n",
			    kind == R_CANCELED ? "canceled" : "expired");
		}
		cnt[kind]++;
		p = nl + 1;
		if (w.len >= WBUF) {
			osize += w.len;
			if (flush_buf(ofd, &w, ord) < 0)
				goto out;
		}
	}
	offs[n] = osize + w.len;
	osize += w.len;
	if (flush_buf(ofd, &w, ord) < 0)
		goto out;
	if (!opt_ordered) {
		/* A deterministic shuffle by seed and batch id. */
		perm = bt_malloc(((size_t)n + 1) * sizeof *perm);
		for (i = 0; i < n; i++)
			perm[i] = (uint32_t)i;
		rng = mix(opt_seed ^ fnv(0xcbf29ce484222325ULL, b->id, strlen(b->id)));
		for (j = (uint32_t)n; j > 1; j--) {
			rng = mix(rng);
			t = (uint32_t)(rng % j);
			i = perm[j - 1];
			perm[j - 1] = perm[t];
			perm[t] = (uint32_t)i;
		}
		if (!(omap = map_file(ofd, &osize, opath)))
			goto out;
		if ((ffd = open(fpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
			bt_warn("%s:", fpath);
			goto out;
		}
		for (i = 0; i < n; i++) {
			bt_buf_add(&w, omap + offs[perm[i]], offs[perm[i] + 1] - offs[perm[i]]);
			if (w.len >= WBUF && flush_buf(ffd, &w, fpath) < 0)
				goto out;
		}
		if (flush_buf(ffd, &w, fpath) < 0)
			goto out;
		if (close(ffd) < 0) {
			ffd = -1;
			bt_warn("%s:", fpath);
			goto out;
		}
		ffd = -1;
	}
	if (close(ofd) < 0) {
		ofd = -1;
		bt_warn("%s:", ord);
		goto out;
	}
	ofd = -1;
	if (rename(fpath, tpath) < 0) {
		bt_warn("%s:", tpath);
		goto out;
	}
	pthread_mutex_lock(&mu);
	memcpy(b->cnt, cnt, sizeof cnt);
	b->finalized = 1;
	if (b->deleted)
		unlink(tpath);
	else
		meta_save(b);
	pthread_mutex_unlock(&mu);
	rc = 0;
out:
	if (omap)
		unmap_file(omap, osize);
	if (map)
		unmap_file(map, size);
	if (rfd >= 0)
		close(rfd);
	if (ofd >= 0)
		close(ofd);
	if (ffd >= 0)
		close(ffd);
	if (!opt_ordered)
		unlink(opath);
	if (rc < 0)
		unlink(fpath);
	bt_buf_free(&w);
	pset_free(&cache);
	free(offs);
	free(perm);
	free(rpath);
	free(opath);
	free(tpath);
	free(fpath);
	pthread_mutex_unlock(&b->fin);
	return rc;
}

/* Bring b up to date as of now: make its results if it has ended. */
static int
refresh(struct batch *b, int64_t now)
{
	int need;

	pthread_mutex_lock(&mu);
	need = !b->finalized && !b->deleted && batch_ended(b, now);
	pthread_mutex_unlock(&mu);
	return need ? finalize(b) : 0;
}

/* ---- answers --------------------------------------------------------------- */

static const char *
status_type(unsigned st)
{
	switch (st) {
	case 400: return "invalid_request_error";
	case 401: return "authentication_error";
	case 402: return "billing_error";
	case 403: return "permission_error";
	case 404: return "not_found_error";
	case 405: return "invalid_request_error";
	case 408: return "timeout_error";
	case 413: return "request_too_large";
	case 429: return "rate_limit_error";
	case 504: return "timeout_error";
	case 529: return "overloaded_error";
	default: return "api_error";
	}
}

static const char *
status_message(unsigned st)
{
	switch (st) {
	case 400: return "Invalid request";
	case 401: return "invalid x-api-key";
	case 402: return "Your credit balance is too low to access the Anthropic API";
	case 403: return "Your API key does not have permission to use the specified resource";
	case 404: return "Not found";
	case 408: return "Request timeout";
	case 413: return "Request exceeds the maximum allowed number of bytes";
	case 429: return "Number of request tokens has exceeded your per-minute rate limit";
	case 502: return "Bad gateway";
	case 503: return "Service unavailable";
	case 504: return "Request timeout";
	case 529: return "Overloaded";
	default: return "Internal server error";
	}
}

static void
out_reset(struct out *o)
{
	o->body.len = 0;
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	o->ctype = "application/json";
	o->retry_after[0] = 0;
}

static void
out_error(struct out *o, const struct conn *x, unsigned st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void
out_error(struct out *o, const struct conn *x, unsigned st, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	out_reset(o);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->status = st;
	error_envelope(&o->body, status_type(st), msg, x->rid);
}

struct cutsrc {
	int fd;
	char *p;
	uint64_t limit;
};

static ssize_t
cut_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct cutsrc *c = cls;
	size_t n;
	ssize_t r;

	if (pos >= c->limit)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	n = c->limit - pos < max ? (size_t)(c->limit - pos) : max;
	if (c->fd < 0) {
		memcpy(buf, c->p + pos, n);
		return (ssize_t)n;
	}
	r = pread(c->fd, buf, n, (off_t)pos);
	return r > 0 ? r : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void
cut_free(void *cls)
{
	struct cutsrc *c = cls;

	if (c->fd >= 0)
		close(c->fd);
	free(c->p);
	free(c);
}

static enum MHD_Result
send_out(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	char date[64];
	struct MHD_Response *r;
	struct cutsrc *c;
	uint64_t size;
	enum MHD_Result ret;

	if (x->faulted && x->fault.act == A_SLOW) {
		nap(x->fault.arg);
		x->faulted = 0;
	}
	size = o->fd >= 0 ? o->fdsize : o->body.len;
	if (x->faulted && x->fault.act == A_CUT) {
		c = bt_calloc(1, sizeof *c);
		c->fd = o->fd;
		c->limit = x->fault.has_arg ? (uint64_t)x->fault.arg : size / 2;
		if (c->limit > size)
			c->limit = size;
		if (o->fd < 0) {
			c->p = o->body.p;
			o->body.p = NULL;
			o->body.len = o->body.cap = 0;
		}
		o->fd = -1;
		r = MHD_create_response_from_callback(size, 64 * 1024, cut_read, c, cut_free);
	} else if (o->fd >= 0) {
		r = MHD_create_response_from_fd64(size, o->fd);
		o->fd = -1;     /* MHD closes it */
	} else {
		bt_buf_str(&o->body);
		r = MHD_create_response_from_buffer(o->body.len, o->body.p, MHD_RESPMEM_MUST_FREE);
		o->body.p = NULL;
		o->body.len = o->body.cap = 0;
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "request-id", x->rid);
	MHD_add_response_header(r, "content-type", o->ctype);
	http_date(date, sizeof date);
	MHD_add_response_header(r, "Date", date);
	if (o->retry_after[0])
		MHD_add_response_header(r, "retry-after", o->retry_after);
	if (bt_verbose)
		fprintf(stderr, "%s: %s %s %u\n", bt_prog, x->method, x->url ? x->url : "",
		    o->status);
	ret = MHD_queue_response(mc, o->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- endpoints ------------------------------------------------------------- */

static int
getstr(const char *p, size_t n, size_t *used, jv *out, char *err, size_t errsz)
{
	*out = bt_json_parse_prefix(p, n, used, err, errsz);
	if (!jv_is_valid(*out))
		return -1;
	if (jkind(*out) != JV_KIND_STRING) {
		snprintf(err, errsz, "expected a string");
		jv_free(*out);
		*out = jv_invalid();
		return -1;
	}
	return 0;
}

static const char *
skipws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Check one request item i (borrowed); write its line to w.  0, or -1 with
 * the message. */
static int
check_item(jv it, long i, struct bt_idset *ids, struct bt_buf *w, char *msg, size_t sz)
{
	jv cid, params, k;
	unsigned long long first;
	int iter, rc = -1;

	if (jkind(it) != JV_KIND_OBJECT) {
		snprintf(msg, sz, "requests.%ld: Input should be a valid dictionary", i);
		return -1;
	}
	cid = jget(it, "custom_id");
	params = jget(it, "params");
	if (!jv_is_valid(cid))
		snprintf(msg, sz, "requests.%ld.custom_id: Field required", i);
	else if (jkind(cid) != JV_KIND_STRING)
		snprintf(msg, sz, "requests.%ld.custom_id: Input should be a valid string", i);
	else if (!bt_custom_id_ok(jv_string_value(cid), jslen(cid)))
		snprintf(msg, sz, "requests.%ld.custom_id: String should match pattern "
		    "'^[a-zA-Z0-9_-]{1,64}$'", i);
	else if (!jv_is_valid(params))
		snprintf(msg, sz, "requests.%ld.params: Field required", i);
	else if (jkind(params) != JV_KIND_OBJECT)
		snprintf(msg, sz, "requests.%ld.params: Input should be a valid dictionary", i);
	else
		rc = 0;
	for (iter = jv_object_iter(it); rc == 0 && jv_object_iter_valid(it, iter);
	    iter = jv_object_iter_next(it, iter)) {
		k = jv_object_iter_key(it, iter);
		if (!jis(k, "custom_id") && !jis(k, "params")) {
			snprintf(msg, sz, "requests.%ld.%.100s: Extra inputs are not permitted",
			    i, jv_string_value(k));
			rc = -1;
		}
		jv_free(k);
	}
	if (rc == 0 && (first = bt_idset_add(ids, jv_string_value(cid),
	    (unsigned long long)i + 1))) {
		snprintf(msg, sz, "requests.%ld.custom_id: Duplicate custom_id: %s "
		    "(also requests.%llu)", i, jv_string_value(cid), first - 1);
		rc = -1;
	}
	if (rc == 0) {
		bt_buf_adds(w, "{\"custom_id\":\"");
		bt_buf_add(w, jv_string_value(cid), jslen(cid));
		bt_buf_adds(w, "\",\"params\":");
		bt_json_write(w, params);
		bt_buf_adds(w, "}\n");
	}
	jv_free(cid);
	jv_free(params);
	return rc;
}

/* Walk a create body; write the request lines to fd.  Returns the count of
 * requests, or -1 with msg. */
static long
validate_create(const char *body, size_t size, int fd, const char *path,
    char *msg, size_t sz)
{
	const char *p = body, *e = body + size;
	struct bt_idset ids = { 0 };
	struct bt_buf w = { 0 };
	char err[256];
	size_t used;
	long n = -1, i = 0;
	int seen = 0;
	jv key, it;

#define JSONERR(at, ...) do { \
		char m_[300]; \
		snprintf(m_, sizeof m_, __VA_ARGS__); \
		snprintf(msg, sz, "There was an error parsing the body of your request: " \
		    "invalid JSON at byte %zu: %s", (size_t)((at) - body), m_); \
		goto out; \
	} while (0)

	p = skipws(p, e);
	if (p == e)
		JSONERR(p, "empty body");
	if (*p != '{') {
		if (!bt_json_skip(p, (size_t)(e - p), err, sizeof err))
			JSONERR(p, "%s", err);
		snprintf(msg, sz, "Input should be a valid dictionary");
		goto out;
	}
	p = skipws(p + 1, e);
	if (p < e && *p == '}') {
		p++;
		goto end;
	}
	for (;;) {
		if (getstr(p, (size_t)(e - p), &used, &key, err, sizeof err) < 0)
			JSONERR(p, "%s", err);
		p = skipws(p + used, e);
		if (p == e || *p != ':') {
			jv_free(key);
			JSONERR(p, "expected ':'");
		}
		p = skipws(p + 1, e);
		if (!jis(key, "requests") || seen) {
			snprintf(msg, sz, "%.100s: %s", jv_string_value(key), seen &&
			    jis(key, "requests") ? "duplicate key" : "Extra inputs are not permitted");
			jv_free(key);
			goto out;
		}
		jv_free(key);
		seen = 1;
		if (p == e || *p != '[') {
			if (!bt_json_skip(p, (size_t)(e - p), err, sizeof err))
				JSONERR(p, "%s", err);
			snprintf(msg, sz, "requests: Input should be a valid list");
			goto out;
		}
		p = skipws(p + 1, e);
		if (p < e && *p == ']')
			p++;
		else for (;;) {
			if (i < opt_max_requests) {
				it = bt_json_parse_prefix(p, (size_t)(e - p), &used, err, sizeof err);
				if (!jv_is_valid(it)) {
					jv_free(it);
					JSONERR(p, "%s", err);
				}
				if (check_item(it, i, &ids, &w, msg, sz) < 0) {
					jv_free(it);
					goto out;
				}
				jv_free(it);
				if (w.len >= WBUF && flush_buf(fd, &w, path) < 0) {
					snprintf(msg, sz, "cannot write the batch");
					goto out;
				}
			} else if (!(used = bt_json_skip(p, (size_t)(e - p), err, sizeof err)))
				JSONERR(p, "%s", err);
			i++;
			p = skipws(p + used, e);
			if (p < e && *p == ',') {
				p = skipws(p + 1, e);
				continue;
			}
			if (p < e && *p == ']') {
				p++;
				break;
			}
			JSONERR(p, "expected ',' or ']'");
		}
		p = skipws(p, e);
		if (p < e && *p == ',') {
			p = skipws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}') {
			p++;
			break;
		}
		JSONERR(p, "expected ',' or '}'");
	}
end:
	p = skipws(p, e);
	if (p != e)
		JSONERR(p, "unexpected data after the JSON value");
	if (!seen)
		snprintf(msg, sz, "requests: Field required");
	else if (i == 0)
		snprintf(msg, sz, "requests: List should have at least 1 item after validation, not 0");
	else if (i > opt_max_requests)
		snprintf(msg, sz, "requests: List should have at most %ld items after validation, not %ld",
		    opt_max_requests, i);
	else if (flush_buf(fd, &w, path) < 0)
		snprintf(msg, sz, "cannot write the batch");
	else
		n = i;
out:
#undef JSONERR
	bt_idset_free(&ids);
	bt_buf_free(&w);
	return n;
}

/* Under mu: requests waiting in unended batches. */
static long long
queued(int64_t now)
{
	long long q = 0;
	size_t i;

	for (i = 0; i < nbatches; i++)
		if (!batches[i]->deleted && !batch_ended(batches[i], now))
			q += batches[i]->n;
	return q;
}

static void
do_create(struct conn *x, struct out *o)
{
	char msg[512], *tmp = NULL, *path;
	struct batch *b;
	const char *map = NULL;
	size_t size = 0;
	long n;
	int fd = -1;
	int64_t now;
	uint64_t c;

	if (x->over) {
		out_error(o, x, 413, "Request exceeds the maximum allowed number of bytes (%lld)",
		    opt_max_body);
		return;
	}
	if (x->fd < 0) {
		out_error(o, x, 500, "Internal server error (no spool)");
		return;
	}
	if (!(map = map_file(x->fd, &size, x->spool))) {
		out_error(o, x, 500, "Internal server error (spool)");
		return;
	}
	pthread_mutex_lock(&mu);
	c = ++spool_counter;
	pthread_mutex_unlock(&mu);
	tmp = bt_asprintf("%s/.spool-%" PRIu64 ".requests", opt_dir, c);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		bt_warn("%s:", tmp);
		out_error(o, x, 500, "Internal server error (requests file)");
		goto out;
	}
	n = validate_create(map, size, fd, tmp, msg, sizeof msg);
	if (close(fd) < 0 && n >= 0) {
		bt_warn("%s:", tmp);
		n = -1;
		snprintf(msg, sizeof msg, "cannot write the batch");
	}
	fd = -1;
	unmap_file((void *)map, size);
	map = NULL;
	if (n < 0) {
		out_error(o, x, strncmp(msg, "cannot", 6) ? 400 : 500, "%s", msg);
		goto out;
	}
	now = now_us();
	pthread_mutex_lock(&mu);
	if (queued(now) + n > opt_queue_limit) {
		pthread_mutex_unlock(&mu);
		out_error(o, x, 429, "Number of batch requests waiting (%ld more) would exceed "
		    "the queue limit of %lld", n, opt_queue_limit);
		strcpy(o->retry_after, "1");
		goto out;
	}
	b = batch_new();
	b->seq = ++batch_counter;
	mkid(b->id, sizeof b->id, "msgbatch_", mix(opt_seed * 0x9e3779b97f4a7c15ULL) ^ mix(b->seq));
	b->n = n;
	b->created = now;
	b->pt = opt_pt;
	b->ct = opt_ct;
	b->expires = now + opt_expire;
	b->archive = now + opt_archive;
	path = path_of(b->id, ".requests");
	if (rename(tmp, path) < 0 || meta_save(b) < 0 || counter_save() < 0) {
		bt_warn("%s:", path);
		pthread_mutex_unlock(&mu);
		free(path);
		pthread_mutex_destroy(&b->fin);
		free(b);
		out_error(o, x, 500, "Internal server error (state)");
		goto out;
	}
	free(path);
	batch_append(b);
	st_creates++;
	o->status = 200;
	batch_json(&o->body, b, now);
	pthread_mutex_unlock(&mu);
out:
	if (map)
		unmap_file((void *)map, size);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
}

/* Look up the batch of x->id, brought up to date as of *now; NULL with
 * the 404 in o. */
static struct batch *
lookup(struct conn *x, struct out *o, int64_t *now)
{
	struct batch *b;

	*now = now_us();
	pthread_mutex_lock(&mu);
	b = batch_find(x->id);
	pthread_mutex_unlock(&mu);
	if (!b) {
		out_error(o, x, 404, "No message batch found with id '%.80s'", x->id);
		return NULL;
	}
	if (refresh(b, *now) < 0) {
		out_error(o, x, 500, "Internal server error (results)");
		return NULL;
	}
	return b;
}

static void
do_get(struct conn *x, struct out *o)
{
	struct batch *b;
	int64_t now;

	if (!(b = lookup(x, o, &now)))
		return;
	pthread_mutex_lock(&mu);
	if (b->deleted)
		out_error(o, x, 404, "No message batch found with id '%.80s'", x->id);
	else {
		o->status = 200;
		batch_json(&o->body, b, now);
	}
	pthread_mutex_unlock(&mu);
}

static int
newest_first(const void *a, const void *b)
{
	const struct batch *x = *(struct batch *const *)a, *y = *(struct batch *const *)b;

	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

static void
do_list(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	const char *lim, *after, *before;
	struct batch **all = NULL;
	size_t i, n = 0, from, to, pos;
	long limit = 20;
	char *end;
	int64_t now = now_us();
	int more;

	lim = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "limit");
	after = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "after_id");
	before = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "before_id");
	if (lim) {
		errno = 0;
		limit = strtol(lim, &end, 10);
		if (!*lim || *end || errno) {
			out_error(o, x, 400, "limit: Input should be a valid integer, "
			    "unable to parse string as an integer");
			return;
		}
		if (limit < 1 || limit > 1000) {
			out_error(o, x, 400, "limit: Input should be %s",
			    limit < 1 ? "greater than or equal to 1" : "less than or equal to 1000");
			return;
		}
	}
	if (after && before) {
		out_error(o, x, 400, "Cannot specify both after_id and before_id");
		return;
	}
	pthread_mutex_lock(&mu);
	all = bt_malloc((nbatches + 1) * sizeof *all);
	for (i = 0; i < nbatches; i++)
		if (!batches[i]->deleted)
			all[n++] = batches[i];
	qsort(all, n, sizeof *all, newest_first);
	from = 0;
	to = n < (size_t)limit ? n : (size_t)limit;
	more = n > to;
	if (after || before) {
		for (pos = 0; pos < n; pos++)
			if (!strcmp(all[pos]->id, after ? after : before))
				break;
		if (pos == n) {
			pthread_mutex_unlock(&mu);
			out_error(o, x, 400, "%s: no message batch with id '%.80s'",
			    after ? "after_id" : "before_id", after ? after : before);
			free(all);
			return;
		}
		if (after) {
			from = pos + 1;
			to = from + (size_t)limit < n ? from + (size_t)limit : n;
			more = to < n;
		} else {
			to = pos;
			from = pos > (size_t)limit ? pos - (size_t)limit : 0;
			more = from > 0;
		}
	}
	pthread_mutex_unlock(&mu);
	/* Batches are never freed, so the pointers stay good. */
	for (i = from; i < to; i++)
		if (refresh(all[i], now) < 0) {
			out_error(o, x, 500, "Internal server error (results)");
			free(all);
			return;
		}
	pthread_mutex_lock(&mu);
	bt_buf_adds(&o->body, "{\"data\":[");
	for (i = from; i < to; i++) {
		if (i > from)
			bt_buf_addc(&o->body, ',');
		batch_json(&o->body, all[i], now);
	}
	bt_buf_printf(&o->body, "],\"has_more\":%s", more ? "true" : "false");
	if (from < to)
		bt_buf_printf(&o->body, ",\"first_id\":\"%s\",\"last_id\":\"%s\"}",
		    all[from]->id, all[to - 1]->id);
	else
		bt_buf_adds(&o->body, ",\"first_id\":null,\"last_id\":null}");
	pthread_mutex_unlock(&mu);
	o->status = 200;
	free(all);
}

static void
do_cancel(struct conn *x, struct out *o)
{
	struct batch *b;
	int64_t now;

	if (!(b = lookup(x, o, &now)))
		return;
	pthread_mutex_lock(&mu);
	if (b->deleted)
		out_error(o, x, 404, "No message batch found with id '%.80s'", x->id);
	else if (batch_ended(b, now))
		out_error(o, x, 400, "Message batch %s has already ended and cannot be canceled",
		    b->id);
	else {
		if (!b->cancel) {
			b->cancel = now;
			meta_save(b);
		}
		o->status = 200;
		batch_json(&o->body, b, now);
	}
	pthread_mutex_unlock(&mu);
}

static void
do_delete(struct conn *x, struct out *o)
{
	struct batch *b;
	int64_t now = now_us();
	char *path;

	pthread_mutex_lock(&mu);
	b = batch_find(x->id);
	if (!b)
		out_error(o, x, 404, "No message batch found with id '%.80s'", x->id);
	else if (!batch_ended(b, now))
		out_error(o, x, 400, "Message batch %s cannot be deleted while it is still "
		    "processing; cancel it first", b->id);
	else {
		b->deleted = 1;
		path = path_of(b->id, ".meta");
		unlink(path);
		free(path);
		path = path_of(b->id, ".requests");
		unlink(path);
		free(path);
		path = path_of(b->id, ".results");
		unlink(path);
		free(path);
		o->status = 200;
		bt_buf_printf(&o->body, "{\"id\":\"%s\",\"type\":\"message_batch_deleted\"}", b->id);
	}
	pthread_mutex_unlock(&mu);
}

static void
do_results(struct conn *x, struct out *o)
{
	struct batch *b;
	struct stat st;
	int64_t now;
	char *path;
	int fd;

	if (!(b = lookup(x, o, &now)))
		return;
	pthread_mutex_lock(&mu);
	if (b->deleted)
		out_error(o, x, 404, "No message batch found with id '%.80s'", x->id);
	else if (!b->finalized || !batch_ended(b, now))
		out_error(o, x, 400, "Message batch %s is still processing; results are "
		    "available once it has ended", b->id);
	else if (now >= b->archive)
		out_error(o, x, 404, "The results of message batch %s have been archived "
		    "and are no longer available", b->id);
	else {
		path = path_of(b->id, ".results");
		if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
			bt_warn("%s:", path);
			if (fd >= 0)
				close(fd);
			out_error(o, x, 500, "Internal server error (results file)");
		} else {
			o->status = 200;
			o->fd = fd;
			o->fdsize = (uint64_t)st.st_size;
			o->ctype = "application/x-jsonl";
		}
		free(path);
	}
	pthread_mutex_unlock(&mu);
}

static jv
parse_body(struct conn *x, struct out *o)
{
	char err[256];
	jv v;

	if (x->over) {
		out_error(o, x, 413, "Request exceeds the maximum allowed number of bytes (%lld)",
		    opt_max_body);
		return jv_invalid();
	}
	v = bt_json_parse(x->body.p ? x->body.p : "", x->body.len, err, sizeof err);
	if (!jv_is_valid(v)) {
		jv_free(v);
		out_error(o, x, 400, "There was an error parsing the body of your request: "
		    "invalid JSON: %s", err);
		return jv_invalid();
	}
	if (jkind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		out_error(o, x, 400, "Input should be a valid dictionary");
		return jv_invalid();
	}
	return v;
}

static void
do_messages(struct conn *x, struct out *o)
{
	char msg[256];
	uint64_t h;
	jv p;

	p = parse_body(x, o);
	if (!jv_is_valid(p))
		return;
	if (check_params(p, 0, msg, sizeof msg) < 0) {
		out_error(o, x, 400, "%s", msg);
	} else {
		pthread_mutex_lock(&mu);
		h = mix(opt_seed ^ 0x6d657373ULL) ^ mix(++msg_counter);
		pthread_mutex_unlock(&mu);
		o->status = 200;
		message_json(&o->body, p, h, "standard", &msg_cache, &mu);
	}
	jv_free(p);
}

static void
do_count(struct conn *x, struct out *o)
{
	struct tokens t;
	long long n;
	jv p, v;

	p = parse_body(x, o);
	if (!jv_is_valid(p))
		return;
	v = jget(p, "model");
	if (jkind(v) != JV_KIND_STRING)
		out_error(o, x, 400, jv_is_valid(v) ? "model: Input should be a valid string"
		    : "model: Field required");
	jv_free(v);
	v = jget(p, "messages");
	if (o->status)
		;
	else if (!jv_is_valid(v))
		out_error(o, x, 400, "messages: Field required");
	else if (jkind(v) != JV_KIND_ARRAY)
		out_error(o, x, 400, "messages: Input should be a valid list");
	else if (jlen(v) == 0)
		out_error(o, x, 400, "messages: List should have at least 1 item after "
		    "validation, not 0");
	jv_free(v);
	if (!o->status) {
		count_tokens(p, &t);
		n = ceil4(t.total);
		o->status = 200;
		bt_buf_printf(&o->body, "{\"input_tokens\":%lld}", n < 1 ? 1 : n);
	}
	jv_free(p);
}

static void
do_faults(struct conn *x, struct out *o)
{
	char err[512], *s, *line, *save = NULL;
	size_t k;

	s = bt_strndup(x->body.p ? x->body.p : "", x->body.len);
	pthread_mutex_lock(&mu);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		while (*line == ' ' || *line == '\t')
			line++;
		k = strlen(line);
		while (k && (line[k - 1] == ' ' || line[k - 1] == '\t' || line[k - 1] == '\r'))
			line[--k] = 0;
		if (!k)
			continue;
		if (fault_add(line, err, sizeof err) < 0) {
			out_error(o, x, 400, "%s", err);
			break;
		}
	}
	pthread_mutex_unlock(&mu);
	free(s);
	if (!o->status) {
		o->status = 200;
		bt_buf_adds(&o->body, "{}");
	}
}

/* ---- the HTTP handler ------------------------------------------------------ */

/* Which endpoint: 0, or 404 or 405. */
static int
route(const char *url, const char *m, struct conn *x)
{
	const char *p, *s;
	int get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE");

	if (!strcmp(url, "/_mock/faults")) {
		x->ep = post ? EP_MOCK_FAULTS : del ? EP_MOCK_CLEAR : EP_NONE;
		return x->ep ? 0 : 405;
	}
	if (!strcmp(url, "/_mock/stats")) {
		x->ep = get ? EP_MOCK_STATS : EP_NONE;
		return x->ep ? 0 : 405;
	}
	if (!strcmp(url, "/v1/messages")) {
		x->ep = post ? EP_MESSAGES : EP_NONE;
		return x->ep ? 0 : 405;
	}
	if (!strcmp(url, "/v1/messages/count_tokens")) {
		x->ep = post ? EP_COUNT : EP_NONE;
		return x->ep ? 0 : 405;
	}
	if (!strcmp(url, "/v1/messages/batches")) {
		x->ep = post ? EP_CREATE : get ? EP_LIST : EP_NONE;
		return x->ep ? 0 : 405;
	}
	if (strncmp(url, "/v1/messages/batches/", 21))
		return 404;
	p = url + 21;
	s = strchr(p, '/');
	if (!s)
		s = p + strlen(p);
	if (s == p || (size_t)(s - p) >= sizeof x->id)
		return 404;
	memcpy(x->id, p, (size_t)(s - p));
	x->id[s - p] = 0;
	if (!*s)
		x->ep = get ? EP_GET : del ? EP_DELETE : EP_NONE;
	else if (!strcmp(s, "/cancel"))
		x->ep = post ? EP_CANCEL : EP_NONE;
	else if (!strcmp(s, "/results"))
		x->ep = get ? EP_RESULTS : EP_NONE;
	else
		return 404;
	return x->ep ? 0 : 405;
}

/* The key of a request: x-api-key, or Authorization: Bearer. */
static const char *
req_key(struct MHD_Connection *mc)
{
	const char *k;

	k = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "x-api-key");
	if (k && *k)
		return k;
	k = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "authorization");
	if (k && !strncasecmp(k, "Bearer ", 7)) {
		k += 7;
		while (*k == ' ')
			k++;
		if (*k)
			return k;
	}
	return NULL;
}

/* The first call for a request: route, fault, auth.  0 to go on (reading
 * a body), or 1 with an answer in o. */
static int
begin(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	const char *k, *cl;
	unsigned long long len;
	int st;
	int v1;

	if ((st = route(x->url, x->method, x))) {
		if (st == 404)
			out_error(o, x, 404, "Not found");
		else
			out_error(o, x, 405, "Method %s is not allowed on %s", x->method, x->url);
		return 1;
	}
	v1 = x->ep < EP_ANY;
	if (!v1)
		return 0;
	pthread_mutex_lock(&mu);
	st_http++;
	x->faulted = fault_take(x->ep, &x->fault);
	pthread_mutex_unlock(&mu);
	if (x->faulted && (x->fault.act == A_STATUS || x->fault.act == A_DROP ||
	    x->fault.act == A_LOST))
		return 0;
	if (!(k = req_key(mc))) {
		out_error(o, x, 401, "x-api-key header is required");
		return 1;
	}
	if (opt_key && strcmp(k, opt_key)) {
		out_error(o, x, 401, "invalid x-api-key");
		return 1;
	}
	k = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "anthropic-version");
	if (!k || !*k) {
		out_error(o, x, 400, "anthropic-version: header is required");
		return 1;
	}
	cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "content-length");
	if (cl && (x->ep == EP_CREATE || x->ep == EP_MESSAGES || x->ep == EP_COUNT)) {
		len = strtoull(cl, NULL, 10);
		if (len > (unsigned long long)opt_max_body) {
			out_error(o, x, 413, "Request exceeds the maximum allowed number of "
			    "bytes (%lld)", opt_max_body);
			return 1;
		}
	}
	return 0;
}

static void
take_body(struct conn *x, const char *data, size_t n)
{
	if (x->over)
		return;
	if (x->got + (long long)n > opt_max_body) {
		x->over = 1;
		bt_buf_free(&x->body);
		if (x->fd >= 0) {
			close(x->fd);
			x->fd = -1;
			unlink(x->spool);
		}
		return;
	}
	x->got += (long long)n;
	if (x->ep == EP_CREATE) {
		/* No spool when a status fault throws the body away. */
		if (x->fd >= 0 && bt_write_all(x->fd, data, n) < 0) {
			bt_warn("%s:", x->spool);
			close(x->fd);
			x->fd = -1;
		}
	} else if (x->ep == EP_MESSAGES || x->ep == EP_COUNT || x->ep == EP_MOCK_FAULTS)
		bt_buf_add(&x->body, data, n);
}

static void
dispatch(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	switch (x->ep) {
	case EP_CREATE: do_create(x, o); break;
	case EP_GET: do_get(x, o); break;
	case EP_LIST: do_list(mc, x, o); break;
	case EP_CANCEL: do_cancel(x, o); break;
	case EP_DELETE: do_delete(x, o); break;
	case EP_RESULTS: do_results(x, o); break;
	case EP_MESSAGES: do_messages(x, o); break;
	case EP_COUNT: do_count(x, o); break;
	case EP_MOCK_FAULTS: do_faults(x, o); break;
	case EP_MOCK_CLEAR:
		pthread_mutex_lock(&mu);
		nfaults = 0;
		pthread_mutex_unlock(&mu);
		o->status = 200;
		bt_buf_adds(&o->body, "{}");
		break;
	case EP_MOCK_STATS: {
		size_t i, live = 0;
		long long reqs = 0;

		pthread_mutex_lock(&mu);
		for (i = 0; i < nbatches; i++)
			if (!batches[i]->deleted) {
				live++;
				reqs += batches[i]->n;
			}
		bt_buf_printf(&o->body, "{\"batches\":%zu,\"creates\":%llu,\"requests\":%lld,"
		    "\"http\":%llu,\"faults\":%zu}", live, st_creates, reqs, st_http, nfaults);
		pthread_mutex_unlock(&mu);
		o->status = 200;
		break;
	}
	default:
		out_error(o, x, 404, "Not found");
	}
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **ptr)
{
	struct conn *x = *ptr;
	struct out o = { 0 };
	enum MHD_Result ret;
	uint64_t c;

	(void)cls;
	(void)version;
	o.fd = -1;
	o.ctype = "application/json";
	if (!x) {
		x = bt_calloc(1, sizeof *x);
		x->fd = -1;
		*ptr = x;
		snprintf(x->method, sizeof x->method, "%s", method);
		x->url = bt_strdup(url);
		pthread_mutex_lock(&mu);
		new_rid(x->rid);
		c = ++spool_counter;
		pthread_mutex_unlock(&mu);
		if (begin(mc, x, &o))
			return send_out(mc, x, &o);
		if (x->faulted && x->fault.act == A_DROP && x->ep != EP_CREATE)
			return MHD_NO;
		if (x->ep == EP_CREATE && !(x->faulted &&
		    (x->fault.act == A_STATUS || x->fault.act == A_LOST))) {
			x->spool = bt_asprintf("%s/.spool-%" PRIu64, opt_dir, c);
			x->fd = open(x->spool, O_RDWR | O_CREAT | O_TRUNC, 0600);
			if (x->fd < 0)
				bt_warn("%s:", x->spool);
		}
		return MHD_YES;
	}
	if (*size) {
		take_body(x, data, *size);
		*size = 0;
		return MHD_YES;
	}
	if (x->faulted && x->fault.act == A_LOST) {
		/* the whole request came, and is lost: nothing is done, and
		 * no answer ever comes */
		if (x->fault.has_arg)
			nap(x->fault.arg);
		if (bt_verbose)
			fprintf(stderr, "%s: %s %s lost\n", bt_prog, x->method, x->url);
		return MHD_NO;
	}
	if (x->faulted && x->fault.act == A_STATUS) {
		out_error(&o, x, (unsigned)x->fault.status, "%s",
		    status_message((unsigned)x->fault.status));
		if (x->fault.status == 429)
			snprintf(o.retry_after, sizeof o.retry_after, "%g",
			    x->fault.has_arg ? x->fault.arg : 1.0);
		return send_out(mc, x, &o);
	}
	dispatch(mc, x, &o);
	if (x->faulted && x->fault.act == A_DROP) {
		bt_buf_free(&o.body);
		if (o.fd >= 0)
			close(o.fd);
		if (bt_verbose)
			fprintf(stderr, "%s: %s %s dropped\n", bt_prog, x->method, x->url);
		return MHD_NO;
	}
	if (x->faulted && x->fault.act == A_TAKEN500)
		out_error(&o, x, 500, "Internal server error");
	ret = send_out(mc, x, &o);
	bt_buf_free(&o.body);
	if (o.fd >= 0)
		close(o.fd);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *mc, void **ptr,
    enum MHD_RequestTerminationCode toe)
{
	struct conn *x = *ptr;

	(void)cls;
	(void)mc;
	(void)toe;
	if (!x)
		return;
	if (x->fd >= 0)
		close(x->fd);
	if (x->spool) {
		unlink(x->spool);
		free(x->spool);
	}
	bt_buf_free(&x->body);
	free(x->url);
	free(x);
	*ptr = NULL;
}

static void
on_signal(int sig)
{
	(void)sig;      /* never runs: the signals are blocked and waited for */
}

/* ---- main ------------------------------------------------------------------ */

int
main(int argc, char *argv[])
{
	enum {
		O_STATE = 256, O_KEY, O_SEED, O_PT, O_CT, O_EXPIRE, O_ARCHIVE,
		O_ERATE, O_XRATE, O_MAXBODY, O_MAXREQ, O_QUEUE, O_FAULT,
		O_LIFETIME, O_ORDERED, O_SKEW
	};
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, O_STATE },
		{ "key", required_argument, NULL, O_KEY },
		{ "seed", required_argument, NULL, O_SEED },
		{ "processing-time", required_argument, NULL, O_PT },
		{ "cancel-time", required_argument, NULL, O_CT },
		{ "expire-after", required_argument, NULL, O_EXPIRE },
		{ "archive-after", required_argument, NULL, O_ARCHIVE },
		{ "error-rate", required_argument, NULL, O_ERATE },
		{ "expire-rate", required_argument, NULL, O_XRATE },
		{ "max-body", required_argument, NULL, O_MAXBODY },
		{ "max-requests", required_argument, NULL, O_MAXREQ },
		{ "queue-limit", required_argument, NULL, O_QUEUE },
		{ "fault", required_argument, NULL, O_FAULT },
		{ "lifetime", required_argument, NULL, O_LIFETIME },
		{ "ordered", no_argument, NULL, O_ORDERED },
		{ "clock-skew", required_argument, NULL, O_SKEW },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr *sa;
	struct MHD_Daemon *d;
	const union MHD_DaemonInfo *info;
	char err[512], tmpl[4096];
	const char *tmpdir;
	unsigned int flags;
	sigset_t sigs;
	struct timespec ts;
	double left = 0, t0;
	size_t i;
	int ch, sig;

	bt_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "a:hp:v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': opt_addr = optarg; break;
		case 'p': opt_port = (int)bt_num(optarg, 0, 65535, "-p"); break;
		case 'v': bt_verbose = 1; break;
		case O_STATE: opt_dir = optarg; break;
		case O_KEY:
			if (!*optarg)
				bt_die(BT_EXIT_USAGE, "--key: empty key");
			opt_key = optarg;
			break;
		case O_SEED:
			opt_seed = (uint64_t)bt_num(optarg, 0, INT64_MAX, "--seed");
			break;
		case O_PT: opt_pt = dur_us(optarg, "--processing-time"); break;
		case O_CT: opt_ct = dur_us(optarg, "--cancel-time"); break;
		case O_EXPIRE: opt_expire = dur_us(optarg, "--expire-after"); break;
		case O_ARCHIVE: opt_archive = dur_us(optarg, "--archive-after"); break;
		case O_ERATE: opt_error_rate = bt_real(optarg, 0, 1, "--error-rate"); break;
		case O_XRATE: opt_expire_rate = bt_real(optarg, 0, 1, "--expire-rate"); break;
		case O_MAXBODY:
			opt_max_body = bt_size(optarg, 1, 1LL << 40, "--max-body");
			break;
		case O_MAXREQ:
			opt_max_requests = (long)bt_num(optarg, 1, 100000000, "--max-requests");
			break;
		case O_QUEUE:
			opt_queue_limit = bt_num(optarg, 1, INT64_MAX / 2, "--queue-limit");
			break;
		case O_FAULT:
			if (fault_add(optarg, err, sizeof err) < 0)
				bt_die(BT_EXIT_USAGE, "--fault: %s", err);
			break;
		case O_LIFETIME:
			opt_lifetime = bt_duration(optarg, "--lifetime");
			break;
		case O_ORDERED: opt_ordered = 1; break;
		case O_SKEW:
			opt_skew = *optarg == '-' ? -dur_us(optarg + 1, "--clock-skew") :
			    dur_us(optarg + (*optarg == '+'), "--clock-skew");
			break;
		case 'h':
			usage(stdout, BT_EXIT_OK);
			break;
		default:
			usage(stderr, BT_EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc)
		usage(stderr, BT_EXIT_USAGE);
	if (opt_error_rate + opt_expire_rate > 1)
		bt_die(BT_EXIT_USAGE, "--error-rate and --expire-rate add up to more than 1");

	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	if (inet_pton(AF_INET, opt_addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)opt_port);
		sa = (struct sockaddr *)&sin;
	} else if (inet_pton(AF_INET6, opt_addr, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)opt_port);
		sa = (struct sockaddr *)&sin6;
		flags |= MHD_USE_IPv6;
	} else
		bt_die(BT_EXIT_USAGE, "-a: not an IP address: '%s'", opt_addr);

	if (opt_dir) {
		if (mkdir(opt_dir, 0755) < 0 && errno != EEXIST)
			bt_die(BT_EXIT_FAIL, "%s:", opt_dir);
		opt_dir = bt_strdup(opt_dir);
		state_load();
	} else {
		tmpdir = getenv("TMPDIR");
		snprintf(tmpl, sizeof tmpl, "%s/bt-mock.XXXXXX",
		    tmpdir && *tmpdir ? tmpdir : "/tmp");
		if (!mkdtemp(tmpl))
			bt_die(BT_EXIT_FAIL, "%s:", tmpl);
		opt_dir = bt_strdup(tmpl);
		tmp_state = 1;
	}

	/* Signals go to the main thread only: block them before MHD's
	 * threads start, then wait for them here. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);      /* even where sh(1) set it ignored */
	signal(SIGTERM, on_signal);
	if (signal(SIGHUP, on_signal) == SIG_IGN)
		signal(SIGHUP, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	d = MHD_start_daemon(flags, (uint16_t)opt_port, NULL, NULL, handler, NULL,
	    MHD_OPTION_SOCK_ADDR, sa,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	    MHD_OPTION_END);
	if (!d) {
		if (tmp_state)
			state_remove();
		bt_die(BT_EXIT_FAIL, "cannot listen on %s port %d", opt_addr, opt_port);
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	snprintf(base_url, sizeof base_url, sa->sa_family == AF_INET6 ?
	    "http://[%s]:%u" : "http://%s:%u", opt_addr,
	    info ? (unsigned)info->port : (unsigned)opt_port);
	printf("%s\n", base_url);
	if (fflush(stdout) == EOF)
		bt_die(BT_EXIT_FAIL, "write error on standard output:");

	t0 = bt_mono();
	for (;;) {
		if (opt_lifetime >= 0) {
			left = opt_lifetime - (bt_mono() - t0);
			if (left <= 0)
				break;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			sig = sigtimedwait(&sigs, NULL, &ts);
		} else
			sig = sigwaitinfo(&sigs, NULL);
		if (sig > 0)
			break;
	}
	stopping = 1;
	MHD_stop_daemon(d);

	for (i = 0; i < nbatches; i++) {
		pthread_mutex_destroy(&batches[i]->fin);
		free(batches[i]);
	}
	free(batches);
	pset_free(&msg_cache);
	if (tmp_state)
		state_remove();
	free(opt_dir);
	bt_close_stdout();
	return BT_EXIT_OK;
}
