/* http.c — the HTTP client over libcurl.
 *
 * The transfer engine: many requests at once on one curl multi handle (a
 * pool of kept-alive connections; HTTP/2 multiplexing where the server
 * offers it), each tagged with its state (CURLOPT_PRIVATE), bodies
 * streamed both ways, and one place (finish) that decides per transfer
 * what happens next by the one retry rule of retry.c: done, retry at T,
 * or give up.  bt_http is one transfer run to its end; bt-wait and
 * bt-send run many.  Every answer's Date header feeds the server's clock.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "bt.h"

#define ERR_BODY_CAP (64 * 1024)
#define SAID_KINDS 16           /* kinds of failure counted apart */
#define SAID_EVERY 60.0         /* seconds between lines of one kind */

struct bt_http {
	struct bt_config *cfg;          /* built from it at the first transfer */
	char *base_url;                 /* NULL until built */
	struct curl_slist *hdrs;        /* key, version, Expect, user agent */
	struct curl_slist *hdrs_json;   /* the same and content-type */
	struct curl_slist *hdrs_form;   /* the same and a multipart one */
	char boundary[40];              /* of hdrs_form's bodies */
	char *query;                    /* added to every path ("api-version=V") */
	double budget;
	uint64_t rng;
	/* the server's clock less ours lies in [clock_lo, clock_hi], from
	 * the Date headers seen (clock_n of them) */
	double clock_lo, clock_hi;
	int clock_n;
	struct bt_engine *one;          /* bt_http's own engine */
	char *hostport;                 /* the base URL's "host:port" */
	/* failures that will be retried, by kind: the first said at once,
	 * repeats counted and said about once a minute (say_retry) */
	struct said {
		int transport;          /* code is a CURLcode, else a status */
		long code;
		double at;              /* bt_mono() it was last said */
		unsigned long more;     /* how many since */
	} said[SAID_KINDS];
	int nsaid;
};

/* The headers of an answer that the engine reads itself. */
struct bt_hdrs {
	char request_id[80];
	double retry_after;     /* -1: none given */
	int should_retry;       /* x-should-retry: -1 unsaid, 0 false, 1 true */
	double date;            /* the Date header, seconds since the epoch; -1 */
};

struct bt_engine {
	struct bt_http *h;
	CURLM *multi;
	int parallel, inflight;
	struct bt_xfer *flying;         /* attempts under way */
	size_t live;                    /* added, and not done */
	struct bt_xfer *ready, **ready_tail;   /* to start, in order */
	struct bt_xfer *later;          /* waiting to retry (due) */
	double hold;                    /* no attempt starts before this */
};

/* One request, through all its attempts. */
struct bt_xfer {
	struct bt_engine *e;
	struct bt_req req;              /* the caller's, path copied */
	char *path;
	bt_done_fn *done;
	void *arg;
	CURL *easy;                     /* while an attempt is under way */
	struct bt_resp resp;
	struct bt_hdrs hdrs;            /* the last answer's */
	off_t pos;                      /* next body byte to send */
	int sent;                       /* some body byte went to libcurl */
	int got;                        /* some 2xx byte went to the sink */
	int sink_failed, ended;
	int too_big, overdue;           /* a body over the cap; past the deadline */
	double started;                 /* bt_mono() this attempt began */
	double first;                   /* bt_mono() of the first attempt */
	double waited;                  /* seconds waited on 429s */
	double due;                     /* bt_mono() the next attempt may start */
	char errbuf[CURL_ERROR_SIZE];
	struct bt_xfer *next;           /* in ready, later or flying */
};

static int curl_ready;

static void curl_start(void)
{
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			bt_die(BT_EXIT_FAIL, "libcurl failed to start");
		curl_ready = 1;
	}
}

/* "host:port" of a URL, the scheme's port when it names none. */
static char *host_port(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL, *s;

	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_HOST, &host, 0) &&
	    !curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT))
		s = bt_asprintf("%s:%s", host, port);
	else
		s = bt_strdup(url);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return s;
}

struct bt_http *bt_http_new(struct bt_config *c)
{
	struct bt_http *h = bt_calloc(1, sizeof *h);
	const char *b;

	h->cfg = c;
	h->budget = BT_RETRY_BUDGET;
	b = getenv("BT_RETRY_BUDGET");
	if (b && *b)
		h->budget = bt_duration(b, "BT_RETRY_BUDGET");
	h->rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(bt_now() * 1e6);
	return h;
}

/* The base URL and headers, from the configuration as it stands at the
 * first transfer: by then the input has said which provider it is
 * (bt_config_input), and the configuration cannot change after. */
static void build(struct bt_http *h)
{
	struct bt_config *c = h->cfg;
	struct curl_slist *s;

	if (h->base_url)
		return;
	curl_start();
	bt_config_need_key(c);
	c->sensed = 1;          /* as good as said: the key is that one's */
	c->http_built = 1;
	h->base_url = bt_strdup(c->base_url);
	c->provider->auth(c, &h->hdrs);
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	h->hdrs = curl_slist_append(h->hdrs, "user-agent: bt/0.1");
	snprintf(h->boundary, sizeof h->boundary, "bt-%016llx%08x",
	         (unsigned long long)(h->rng ^ (uint64_t)(bt_now() * 1e9)), (unsigned)getpid());
	for (s = h->hdrs; s; s = s->next) {
		h->hdrs_json = curl_slist_append(h->hdrs_json, s->data);
		h->hdrs_form = curl_slist_append(h->hdrs_form, s->data);
	}
	h->hdrs_json = curl_slist_append(h->hdrs_json, "content-type: application/json");
	{
		char *ct = bt_asprintf("content-type: multipart/form-data; boundary=%s",
		                       h->boundary);
		h->hdrs_form = curl_slist_append(h->hdrs_form, ct);
		free(ct);
	}
	if (!h->hdrs || !h->hdrs_json || !h->hdrs_form)
		bt_die(BT_EXIT_FAIL, "out of memory");
	h->hostport = host_port(h->base_url);
	if (c->alt && c->provider->alt_version_param && c->version)
		h->query = bt_asprintf("%s=%s", c->provider->alt_version_param, c->version);
}

const char *bt_http_boundary(struct bt_http *h)
{
	build(h);
	return h->boundary;
}

void bt_http_free(struct bt_http *h)
{
	struct curl_slist *s;

	if (!h)
		return;
	bt_engine_free(h->one);
	for (s = h->hdrs; s; s = s->next)   /* the key is in here */
		bt_explicit_bzero(s->data, strlen(s->data));
	for (s = h->hdrs_json; s; s = s->next)
		bt_explicit_bzero(s->data, strlen(s->data));
	for (s = h->hdrs_form; s; s = s->next)
		bt_explicit_bzero(s->data, strlen(s->data));
	curl_slist_free_all(h->hdrs);
	curl_slist_free_all(h->hdrs_json);
	curl_slist_free_all(h->hdrs_form);
	free(h->base_url);
	free(h->hostport);
	free(h->query);
	free(h);
}

void bt_resp_free(struct bt_resp *resp)
{
	bt_buf_free(&resp->body);
}

static double rnd(struct bt_http *h)
{
	h->rng ^= h->rng << 13;
	h->rng ^= h->rng >> 7;
	h->rng ^= h->rng << 17;
	return (double)(h->rng >> 11) / 9007199254740992.0;
}

/* ---- the server's clock ---- */

double bt_http_date(const char *s)
{
	struct tm tm;
	const char *rest;

	/* IMF-fixdate, the one form a server must send: "Sun, 06 Nov 1994
	 * 08:49:37 GMT" (the C locale's day and month names) */
	memset(&tm, 0, sizeof tm);
	rest = bt_strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!rest || *rest)
		return -1;
	return (double)bt_timegm(&tm);
}

void bt_http_clock_seen(struct bt_http *h, double date, double sent, double got)
{
	/* the server stamped the Date while we waited: at a time in
	 * [sent, got] of ours, and its second in [date, date + 1) */
	double lo = date - got, hi = date + 1 - sent;

	if (date < 0)
		return;
	if (h->clock_n && (lo > h->clock_hi || hi < h->clock_lo))
		h->clock_n = 0;     /* its clock jumped: start again */
	if (!h->clock_n || lo > h->clock_lo)
		h->clock_lo = lo;
	if (!h->clock_n || hi < h->clock_hi)
		h->clock_hi = hi;
	h->clock_n++;
}

int bt_http_clock(const struct bt_http *h, double *lo, double *hi)
{
	if (!h->clock_n)
		return -1;
	*lo = h->clock_lo;
	*hi = h->clock_hi;
	return 0;
}

/* ---- bodies ---- */

#define CHUNK_HEAD "{\"requests\":["
#define CHUNK_HEAD_LEN 13

/* The size of the file as sent: with its splice. */
static off_t view_size(const struct bt_req *r)
{
	return r->splice ? r->body_size - r->splice_cut + (off_t)r->splice_len : r->body_size;
}

/* The body size: a chunk file of S bytes is sent as S + BT_ENVELOPE. */
static off_t body_size(const struct bt_req *r)
{
	if (r->body_fd < 0)
		return (off_t)r->body_len;
	if (r->body_chunk)
		return view_size(r) + BT_ENVELOPE;
	return view_size(r) + (off_t)(r->body_head ? strlen(r->body_head) : 0) +
	       (off_t)(r->body_tail ? strlen(r->body_tail) : 0);
}

/* Bytes [pos, pos+want) of the file body, read at once. */
static ssize_t file_bytes(const struct bt_req *r, char *out, size_t want, off_t pos)
{
	ssize_t n;

	do
		n = pread(r->body_fd, out, want, r->body_off + pos);
	while (n < 0 && errno == EINTR);
	if (n == 0) {   /* the file shrank under us */
		errno = EIO;
		n = -1;
	}
	return n;
}

/* Bytes [pos, pos+want) of the file as sent: the file, with its splice. */
static ssize_t view_bytes(const struct bt_req *r, char *out, size_t want, off_t pos)
{
	off_t end = r->splice_at + (off_t)r->splice_len;

	if (!r->splice || pos + (off_t)want <= r->splice_at)
		return file_bytes(r, out, want, pos);
	if (pos < r->splice_at)
		return file_bytes(r, out, (size_t)(r->splice_at - pos), pos);
	if (pos < end) {
		if ((off_t)want > end - pos)
			want = (size_t)(end - pos);
		memcpy(out, r->splice + (pos - r->splice_at), want);
		return (ssize_t)want;
	}
	return file_bytes(r, out, want, pos - (off_t)r->splice_len + r->splice_cut);
}

/* A chunk file as a create body: {"requests":[ + its lines joined by
 * commas + ]}.  The file's last byte is its final newline. */
static ssize_t chunk_bytes(const struct bt_req *r, char *out, size_t want, off_t pos)
{
	off_t lines_end = CHUNK_HEAD_LEN + view_size(r) - 1;
	ssize_t n;
	char *p, *end;

	if (pos < CHUNK_HEAD_LEN) {
		n = CHUNK_HEAD_LEN - pos;
		if ((size_t)n > want)
			n = (ssize_t)want;
		memcpy(out, &CHUNK_HEAD[pos], (size_t)n);
		return n;
	}
	if (pos < lines_end) {
		if ((off_t)want > lines_end - pos)
			want = (size_t)(lines_end - pos);
		n = view_bytes(r, out, want, pos - CHUNK_HEAD_LEN);
		for (p = out, end = out + (n > 0 ? n : 0);
		     (p = memchr(p, '\n', (size_t)(end - p))); p++)
			*p = ',';
		return n;
	}
	n = lines_end + 2 - pos;
	if ((size_t)n > want)
		n = (ssize_t)want;
	memcpy(out, &"]}"[pos - lines_end], (size_t)n);
	return n;
}

/* A file between body_head and body_tail (a multipart upload). */
static ssize_t wrapped_bytes(const struct bt_req *r, char *out, size_t want, off_t pos)
{
	off_t hl = (off_t)(r->body_head ? strlen(r->body_head) : 0), fl = view_size(r);
	ssize_t n;

	if (pos < hl) {
		n = (ssize_t)(hl - pos);
		if ((size_t)n > want)
			n = (ssize_t)want;
		memcpy(out, r->body_head + pos, (size_t)n);
		return n;
	}
	if (pos < hl + fl) {
		if ((off_t)want > hl + fl - pos)
			want = (size_t)(hl + fl - pos);
		return view_bytes(r, out, want, pos - hl);
	}
	n = (ssize_t)(body_size(r) - pos);
	if ((size_t)n > want)
		n = (ssize_t)want;
	memcpy(out, r->body_tail + (pos - hl - fl), (size_t)n);
	return n;
}

static size_t read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct bt_xfer *x = arg;
	const struct bt_req *r = &x->req;
	size_t want = size * nmemb;
	off_t left = body_size(r) - x->pos;
	ssize_t n;

	if (left <= 0)
		return 0;
	if ((off_t)want > left)
		want = (size_t)left;
	if (r->body_fd < 0) {
		memcpy(out, r->body + x->pos, want);
		n = (ssize_t)want;
	} else if (r->body_chunk)
		n = chunk_bytes(r, out, want, x->pos);
	else if (r->body_head || r->body_tail)
		n = wrapped_bytes(r, out, want, x->pos);
	else
		n = view_bytes(r, out, want, x->pos);
	if (n < 0)
		return CURL_READFUNC_ABORT;
	/* the last bytes: whoever must know that the body may now be taken
	 * whole hears it before they go */
	if (x->pos + n == body_size(r) && r->body_end && !x->ended) {
		x->ended = 1;
		r->body_end(r->body_end_arg);
	}
	x->pos += n;
	x->sent = 1;
	return (size_t)n;
}

static int seek_cb(void *arg, curl_off_t off, int origin)
{
	struct bt_xfer *x = arg;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	/* libcurl rewinds to send a body again on its own, e.g. when a reused
	 * connection died under it: a body that may have been taken must
	 * not go twice behind our back.  The failure comes to finish(),
	 * which knows it is ambiguous. */
	if (x->sent && !x->req.may_repeat)
		return CURL_SEEKFUNC_FAIL;
	x->pos = (off_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct bt_xfer *x = arg;
	struct bt_hdrs *hd = &x->hdrs;
	size_t n = size * nmemb, k, v;
	char val[100];
	const char *colon = memchr(p, ':', n);

	if (!colon)
		return size * nmemb;
	k = (size_t)(colon - p);
	v = k + 1;
	while (v < n && (p[v] == ' ' || p[v] == '\t'))
		v++;
	while (n > v && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	if (x->req.header)
		x->req.header(p, k, p + v, n - v, x->req.header_arg);
	if (n - v >= sizeof val)
		return size * nmemb;
	memcpy(val, p + v, n - v);
	val[n - v] = 0;
	if ((k == 10 && !strncasecmp(p, "request-id", k)) ||
	    (k == 12 && !strncasecmp(p, "x-request-id", k)))    /* OpenAI's */
		snprintf(hd->request_id, sizeof hd->request_id, "%.79s", val);
	else if (k == 11 && !strncasecmp(p, "retry-after", k) && hd->retry_after < 0) {
		char *end;
		double d = strtod(val, &end);
		if (end != val && !*end && d >= 0)
			hd->retry_after = d;
		/* an HTTP date is not honoured: the backoff applies */
	} else if (k == 14 && !strncasecmp(p, "retry-after-ms", k)) {
		char *end;
		double d = strtod(val, &end);
		if (end != val && !*end && d >= 0)
			hd->retry_after = d / 1000;
	} else if (k == 14 && !strncasecmp(p, "x-should-retry", k))
		hd->should_retry = !strcasecmp(val, "true");
	else if (k == 4 && !strncasecmp(p, "date", k))
		hd->date = bt_http_date(val);
	return size * nmemb;
}

double bt_transfer_deadline(double expected_bytes)
{
	static double lower = -1;
	const char *s;
	double d = 300 + (expected_bytes > 0 ? expected_bytes / 10000 : 0);

	if (lower < 0) {
		s = getenv("BT_TRANSFER_DEADLINE");
		lower = s && *s ? bt_duration(s, "BT_TRANSFER_DEADLINE") : 0;
	}
	return lower > 0 && lower < d ? lower : d;
}

/* Slowloris: a server that drips a byte now and then keeps the low-speed
 * check happy for ever, so each attempt has a deadline that scales with
 * the larger of the bodies (sent, and announced by Content-Length). */
static int progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
	struct bt_xfer *x = arg;
	double size = dltotal > ultotal ? (double)dltotal : (double)ultotal;

	(void)dlnow;
	(void)ulnow;
	if (bt_mono() - x->started <= bt_transfer_deadline(size))
		return 0;
	x->overdue = 1;
	return 1;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct bt_xfer *x = arg;
	struct bt_buf *body = &x->resp.body;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		if (x->req.sink) {
			x->got = 1;
			if (x->req.sink(p, n, x->req.sink_arg)) {
				x->sink_failed = 1;
				return 0;
			}
		} else if (n > bt_line_max() - body->len) {
			x->too_big = 1;     /* held no further: a clean failure */
			return 0;
		} else
			bt_buf_add(body, p, n);
	} else if (body->len < ERR_BODY_CAP) {
		size_t room = ERR_BODY_CAP - body->len;
		bt_buf_add(body, p, n < room ? n : room);
	}
	return n;
}

/* ---- the engine ---- */

struct bt_engine *bt_engine_new(struct bt_http *h, int parallel)
{
	struct bt_engine *e = bt_calloc(1, sizeof *e);

	curl_start();
	e->h = h;
	e->parallel = parallel > 0 ? parallel : 1;
	e->ready_tail = &e->ready;
	if (!(e->multi = curl_multi_init()))
		bt_die(BT_EXIT_FAIL, "libcurl failed to start");
	curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)e->parallel);
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS, (long)e->parallel);
	return e;
}

static void xfer_free(struct bt_xfer *x)
{
	if (x->easy) {
		curl_multi_remove_handle(x->e->multi, x->easy);
		curl_easy_cleanup(x->easy);
	}
	bt_resp_free(&x->resp);
	free(x->path);
	free(x);
}

void bt_engine_free(struct bt_engine *e)
{
	struct bt_xfer *x, *next;

	if (!e)
		return;
	for (x = e->ready; x; x = next) {
		next = x->next;
		xfer_free(x);
	}
	for (x = e->later; x; x = next) {
		next = x->next;
		xfer_free(x);
	}
	for (x = e->flying; x; x = next) {
		next = x->next;
		xfer_free(x);
	}
	curl_multi_cleanup(e->multi);
	free(e);
}

struct bt_xfer *bt_engine_add(struct bt_engine *e, const struct bt_req *req,
                              bt_done_fn *done, void *arg)
{
	struct bt_xfer *x = bt_calloc(1, sizeof *x);

	x->e = e;
	x->req = *req;
	x->path = bt_strdup(req->path);
	x->req.path = x->path;
	x->done = done;
	x->arg = arg;
	x->first = -1;
	*e->ready_tail = x;
	e->ready_tail = &x->next;
	e->live++;
	return x;
}

void bt_engine_hold(struct bt_engine *e, double until)
{
	if (until > e->hold)
		e->hold = until;
}

/* The method of x's request, its body, and the buffers its size wants. */
static void method(CURL *c, struct bt_xfer *x)
{
	const struct bt_req *r = &x->req;

	if (!strcmp(r->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_size(r));
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
	}
	/* a streamed body is a results file, tens of megabytes: read in
	 * 256 kB, not libcurl's 16 kB (a sixth of the reads, polls and
	 * calls; curl(1) itself reads downloads in 100 kB).  Only these:
	 * the buffer is per transfer, and bt-send keeps many at once */
	if (r->sink)
		curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
#if LIBCURL_VERSION_NUM >= 0x073e00     /* 7.62 */
	/* and a chunk's upload, up to 256 MB, is sent 512 kB a read, not 64 kB */
	if (r->body_fd >= 0)
		curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
#endif
}

/* What every attempt has: the URL, the API's headers, sane timeouts. */
static void start(struct bt_xfer *x)
{
	struct bt_http *h = x->e->h;
	const struct bt_req *r = &x->req;
	int has_body = r->body_fd >= 0 || r->body;
	char *url;
	CURL *c;

	build(h);
	url = h->query ? bt_asprintf("%s%s%c%s", h->base_url, r->path,
	                             strchr(r->path, '?') ? '&' : '?', h->query) :
	      bt_asprintf("%s%s", h->base_url, r->path);
	c = curl_easy_init();

	if (!c)
		bt_die(BT_EXIT_FAIL, "libcurl failed to start");
	x->easy = c;
	x->pos = 0;
	x->sent = x->got = x->sink_failed = x->ended = 0;
	x->too_big = x->overdue = 0;
	x->started = bt_mono();
	x->errbuf[0] = 0;
	x->resp.body.len = 0;
	x->resp.status = 0;
	memset(&x->hdrs, 0, sizeof x->hdrs);
	x->hdrs.retry_after = -1;
	x->hdrs.should_retry = -1;
	x->hdrs.date = -1;
	if (x->first < 0)
		x->first = bt_mono();
	x->resp.attempts++;
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url);      /* libcurl copies it */
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
#if LIBCURL_VERSION_NUM >= 0x075500     /* 7.85: the bit mask is deprecated */
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* over TLS, wait to share a connection that may multiplex (HTTP/2)
	 * rather than open another; plain http is HTTP/1.1, one at a time */
	if (!strncmp(h->base_url, "https:", 6))
		curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a transfer that stalls for two minutes is dead */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
	if (r->timeout > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->form ? h->hdrs_form :
	                 has_body ? h->hdrs_json : h->hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	/* a request that must not be repeated goes on a new connection: a
	 * reused one may be closed by the server just as we send */
	if (!r->may_repeat)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	method(c, x);
	x->resp.t_start = bt_now();
	if (curl_multi_add_handle(x->e->multi, c) != CURLM_OK)
		bt_die(BT_EXIT_FAIL, "libcurl: cannot add a transfer");
	x->next = x->e->flying;
	x->e->flying = x;
	x->e->inflight++;
}

/* Start what is due, as far as the pool allows. */
static void start_due(struct bt_engine *e, double now)
{
	struct bt_xfer **p, *x;

	if (now < e->hold)
		return;
	for (p = &e->later; *p && e->inflight < e->parallel;) {
		x = *p;
		if (x->due > now) {
			p = &x->next;
			continue;
		}
		*p = x->next;
		start(x);
	}
	while (e->ready && e->inflight < e->parallel) {
		x = e->ready;
		e->ready = x->next;
		if (!e->ready)
			e->ready_tail = &e->ready;
		start(x);
	}
}

/* The transfer is over: tell its owner, and forget it. */
static void complete(struct bt_xfer *x, int rc)
{
	struct bt_engine *e = x->e;

	e->live--;
	if (x->done)
		x->done(rc, &x->resp, x->arg);
	xfer_free(x);
}

/* Seconds between lines of one kind: SAID_EVERY, or the environment's
 * lower BT_SAY_EVERY (the tests see a repeat said without a minute's
 * wait). */
static double said_every(void)
{
	static double every = -1;
	const char *s;

	if (every < 0) {
		s = getenv("BT_SAY_EVERY");
		every = s && *s ? bt_duration(s, "BT_SAY_EVERY") : SAID_EVERY;
		if (every > SAID_EVERY)
			every = SAID_EVERY;
	}
	return every;
}

/* A failure that will be retried, said on stderr: the first of its kind
 * (a transport error's CURLcode, or a status) at once, with when it will
 * be tried again; the repeats counted, and said with their number about
 * once a minute.  (-v says every retry instead.) */
static void say_retry(struct bt_xfer *x, CURLcode rc, long oserr, double delay)
{
	struct bt_http *h = x->e->h;
	const struct bt_resp *resp = &x->resp;
	long code = rc != CURLE_OK ? (long)rc : resp->status;
	struct said *s = NULL;
	char what[1200], times[80] = "";
	double now = bt_mono();
	int i;

	for (i = 0; i < h->nsaid && !s; i++)
		if (h->said[i].transport == (rc != CURLE_OK) && h->said[i].code == code)
			s = &h->said[i];
	if (s && ++s->more && now - s->at < said_every())
		return;
	if (s)
		snprintf(times, sizeof times, " (%lu time%s in the last %.0f s)", s->more,
		         s->more == 1 ? "" : "s", now - s->at);
	else {
		if (h->nsaid < SAID_KINDS)
			s = &h->said[h->nsaid++];
		else    /* the table is full: the kind said longest ago goes */
			for (s = &h->said[0], i = 1; i < SAID_KINDS; i++)
				if (h->said[i].at < s->at)
					s = &h->said[i];
		s->transport = rc != CURLE_OK;
		s->code = code;
	}
	s->at = now;
	s->more = 0;
	if (rc == CURLE_COULDNT_CONNECT && oserr)
		snprintf(what, sizeof what, "connect to %s failed (%s)", h->hostport,
		         strerror((int)oserr));
	else if (rc != CURLE_OK)        /* "METHOD PATH: curl's words" */
		snprintf(what, sizeof what, "%s", resp->err);
	else if (!strncmp(resp->err, "HTTP ", 5))
		snprintf(what, sizeof what, "%s %s: %s", x->req.method, x->req.path, resp->err);
	else
		snprintf(what, sizeof what, "%s %s: HTTP %ld %s", x->req.method, x->req.path,
		         resp->status, resp->err);
	bt_warn("%s%s; retrying in %.*f s", what, times, delay < 10 ? 1 : 0, delay);
}

/* A failed attempt as the retry rule sees it, and resp->err for the user. */
static void attempt_of(struct bt_xfer *x, CURLcode rc, struct bt_attempt *a)
{
	struct bt_resp *resp = &x->resp;

	memset(a, 0, sizeof *a);
	a->transport = rc != CURLE_OK;
	a->before_send = rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
	                 rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR ||
	                 rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
	a->status = a->transport ? 0 : resp->status;
	a->sent = x->sent;
	a->may_repeat = x->req.may_repeat;
	a->should_retry = x->hdrs.should_retry;
	if (a->transport) {
		snprintf(resp->err, sizeof resp->err, "%s %s: %s", x->req.method,
		         x->req.path, x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
		resp->status = 0;
	} else
		bt_api_error(resp->status, resp->body.p, resp->body.len,
		             resp->request_id, resp->err, sizeof resp->err);
}

/* The bounds on one attempt (issue 18): a body over the cap is given up
 * (1: done with); a transfer past its deadline is a transport error,
 * said as such, and retried by the rule. */
static int bounded(struct bt_xfer *x)
{
	if (x->too_big) {
		snprintf(x->resp.err, sizeof x->resp.err, "%s %s%s: an answer longer "
		         "than %zu bytes", x->req.method, x->e->h->base_url,
		         x->req.path, bt_line_max());
		complete(x, -1);
		return 1;
	}
	if (x->overdue)
		snprintf(x->errbuf, sizeof x->errbuf, "no whole answer within %.0fs "
		         "(the transfer's deadline)", bt_mono() - x->started);
	return 0;
}

/* An attempt is over: done, retry at some time, or give up. */
static void finish(struct bt_xfer *x, CURLcode rc)
{
	struct bt_engine *e = x->e;
	struct bt_resp *resp = &x->resp;
	struct bt_xfer **p;
	struct bt_attempt a;
	double now, delay;
	long oserr = 0;
	size_t k;
	int what;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
	resp->curl_code = (int)rc;
	resp->t_end = bt_now();
	bt_http_clock_seen(e->h, x->hdrs.date, resp->t_start, resp->t_end);
	memcpy(resp->request_id, x->hdrs.request_id, sizeof resp->request_id);
	curl_multi_remove_handle(e->multi, x->easy);
	curl_easy_cleanup(x->easy);
	x->easy = NULL;
	for (p = &e->flying; *p != x; p = &(*p)->next)
		;
	*p = x->next;
	x->next = NULL;
	e->inflight--;
	resp->ambiguous = 0;
	if (rc == CURLE_OK && resp->status >= 200 && resp->status < 300) {
		complete(x, 0);
		return;
	}
	if (x->sink_failed) {
		snprintf(resp->err, sizeof resp->err, "%s %s: output failed",
		         x->req.method, x->req.path);
		complete(x, -1);
		return;
	}
	if (bounded(x))
		return;
	attempt_of(x, rc, &a);
	what = bt_retry_decide(&a);
	if (what == BT_AMBIGUOUS)
		resp->ambiguous = 1;
	if (what != BT_RETRY) {
		complete(x, -1);
		return;
	}
	now = bt_mono();
	delay = bt_backoff(resp->attempts, x->hdrs.retry_after, rnd(e->h));
	if (x->req.patient && a.status == 429)
		x->waited += delay;     /* a rate limit is waited out, not counted */
	if (now - x->first - x->waited + delay > e->h->budget) {
		k = strlen(resp->err);
		snprintf(resp->err + k, sizeof resp->err - k,
		         " (gave up after %d attempt%s in %.0fs)", resp->attempts,
		         resp->attempts == 1 ? "" : "s", now - x->first);
		complete(x, -1);
		return;
	}
	if (bt_verbose)
		bt_warn("%s%s%s; retrying in %.1fs", x->req.label ? x->req.label : "",
		        x->req.label ? ": " : "", resp->err, delay);
	else if (!(x->req.patient && a.status == 429))  /* a rate limit is no failure */
		say_retry(x, rc, oserr, delay);
	if (x->got && x->req.sink_restart && x->req.sink_restart(x->req.sink_arg)) {
		k = strlen(resp->err);
		snprintf(resp->err + k, sizeof resp->err - k, " (cannot restart)");
		complete(x, -1);
		return;
	}
	x->due = now + delay;
	x->next = e->later;
	e->later = x;
}

size_t bt_engine_run(struct bt_engine *e, double wait, struct curl_waitfd *extra,
                     unsigned nextra)
{
	struct bt_xfer *x;
	double now = bt_mono(), next = now + (wait > 0 ? wait : 0);
	CURLMsg *m;
	int running, left, ms;

	start_due(e, now);
	if (e->inflight < e->parallel)
		for (x = e->later; x; x = x->next)
			next = fmin(next, fmax(x->due, e->hold));
	if (e->ready && e->inflight < e->parallel)
		next = fmin(next, e->hold);
	/* Nothing may be returned at once when nothing is in flight: the
	 * caller loops, and a loop that does not sleep burns a core for the
	 * whole of a wait (issue 18).  With no descriptor of its own and
	 * none extra, curl_multi_poll sleeps the whole timeout (a signal
	 * ends it early). */
	ms = next <= now ? 0 : next - now > 3600 ? 3600000 : (int)ceil((next - now) * 1000);
	if (curl_multi_poll(e->multi, extra, nextra, ms, NULL) != CURLM_OK)
		bt_die(BT_EXIT_FAIL, "libcurl: poll failed");
	if (curl_multi_perform(e->multi, &running) != CURLM_OK)
		bt_die(BT_EXIT_FAIL, "libcurl: transfer failed");
	while ((m = curl_multi_info_read(e->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		finish(x, m->data.result);
	}
	start_due(e, bt_mono());
	return e->live;
}

size_t bt_engine_abandon_waiting(struct bt_engine *e)
{
	struct bt_xfer *x;
	size_t n = 0;

	while ((x = e->later) || (x = e->ready)) {
		if (x == e->later)
			e->later = x->next;
		else if (!(e->ready = x->next))
			e->ready_tail = &e->ready;
		snprintf(x->resp.err, sizeof x->resp.err, "%s %s: abandoned",
		         x->req.method, x->req.path);
		complete(x, BT_ABANDONED);
		n++;
	}
	return n;
}

/* ---- one call ---- */

struct one {
	struct bt_resp *resp;
	int rc, over;
};

static void one_done(int rc, struct bt_resp *resp, void *arg)
{
	struct one *o = arg;

	*o->resp = *resp;
	memset(&resp->body, 0, sizeof resp->body);     /* it is the caller's now */
	o->rc = rc;
	o->over = 1;
}

int bt_http(struct bt_http *h, const struct bt_req *req, struct bt_resp *resp)
{
	struct one o = { resp, -1, 0 };

	memset(resp, 0, sizeof *resp);
	if (!h->one)
		h->one = bt_engine_new(h, 1);
	bt_engine_add(h->one, req, one_done, &o);
	while (!o.over)
		bt_engine_run(h->one, 60, NULL, 0);
	return o.rc;
}

jv bt_http_json(struct bt_http *h, const char *method, const char *path,
                struct bt_resp *resp)
{
	struct bt_req req;
	char err[200];
	jv v;

	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = path;
	req.body_fd = -1;
	req.may_repeat = 1;
	if (!strcmp(method, "POST"))
		req.body = "";
	if (bt_http(h, &req, resp) < 0)
		return jv_invalid();
	v = bt_json_parse(resp->body.p ? resp->body.p : "", resp->body.len,
	                  err, sizeof err);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		if (jv_is_valid(v))
			snprintf(err, sizeof err, "not a JSON object");
		jv_free(v);
		snprintf(resp->err, sizeof resp->err, "%s %s: bad answer: %s%s%s",
		         method, path, err, resp->request_id[0] ? " request-id " : "",
		         resp->request_id);
		return jv_invalid();
	}
	return v;
}
