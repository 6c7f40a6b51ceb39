/* http.c — the HTTP client over libcurl: one connection reused, the API's
 * headers, bodies streamed from files, the retry policy of the design, and
 * the knowledge of whether a failed request may be repeated. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "bt.h"

#define ERR_BODY_CAP (64 * 1024)

struct bt_http {
	CURL *curl;
	char *base_url;
	struct curl_slist *hdrs;        /* key, version, Expect, user agent */
	struct curl_slist *hdrs_json;   /* the same and content-type */
	double budget;
	uint64_t rng;
	/* the server's clock less ours lies in [clock_lo, clock_hi], from
	 * the Date headers seen (clock_n of them) */
	double clock_lo, clock_hi;
	int clock_n;
	char errbuf[CURL_ERROR_SIZE];
};

/* the state of one attempt */
struct xfer {
	const struct bt_req *req;
	struct bt_resp *resp;
	struct bt_http *h;
	off_t pos;              /* next body byte to send, from the start */
	int sent;               /* some body byte was handed to libcurl */
	int got;                /* some 2xx byte went to the sink */
	int sink_failed;
	int ended;              /* req->body_end was called */
	struct bt_hdrs hdrs;
};

static int curl_ready;

struct bt_http *bt_http_new(const struct bt_config *c)
{
	struct bt_http *h = bt_calloc(1, sizeof *h);
	const char *b;
	char *line;

	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT))
			bt_die(BT_EXIT_FAIL, "libcurl failed to start");
		curl_ready = 1;
	}
	h->curl = curl_easy_init();
	if (!h->curl)
		bt_die(BT_EXIT_FAIL, "libcurl failed to start");
	h->base_url = bt_strdup(c->base_url);
	if (c->key) {
		line = bt_asprintf("x-api-key: %s", c->key);
		h->hdrs = curl_slist_append(h->hdrs, line);
		memset(line, 0, strlen(line));
		free(line);
	}
	line = bt_asprintf("anthropic-version: %s", c->version);
	h->hdrs = curl_slist_append(h->hdrs, line);
	free(line);
	h->hdrs = curl_slist_append(h->hdrs, "Expect:");
	h->hdrs = curl_slist_append(h->hdrs, "user-agent: bt/0.1");
	for (struct curl_slist *s = h->hdrs; s; s = s->next)
		h->hdrs_json = curl_slist_append(h->hdrs_json, s->data);
	h->hdrs_json = curl_slist_append(h->hdrs_json, "content-type: application/json");
	if (!h->hdrs || !h->hdrs_json)
		bt_die(BT_EXIT_FAIL, "out of memory");
	h->budget = BT_RETRY_BUDGET;
	b = getenv("BT_RETRY_BUDGET");
	if (b && *b)
		h->budget = bt_duration(b, "BT_RETRY_BUDGET");
	h->rng = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(bt_now() * 1e6);
	return h;
}

void bt_http_free(struct bt_http *h)
{
	struct curl_slist *s;

	if (!h)
		return;
	curl_easy_cleanup(h->curl);
	for (s = h->hdrs; s; s = s->next)   /* the key is in here */
		memset(s->data, 0, strlen(s->data));
	for (s = h->hdrs_json; s; s = s->next)
		memset(s->data, 0, strlen(s->data));
	curl_slist_free_all(h->hdrs);
	curl_slist_free_all(h->hdrs_json);
	free(h->base_url);
	free(h);
}

double bt_http_get_budget(const struct bt_http *h)
{
	return h->budget;
}

void bt_resp_free(struct bt_resp *resp)
{
	bt_buf_free(&resp->body);
}

double bt_http_rnd(struct bt_http *h)
{
	h->rng ^= h->rng << 13;
	h->rng ^= h->rng >> 7;
	h->rng ^= h->rng << 17;
	return (double)(h->rng >> 11) / 9007199254740992.0;
}

#define CHUNK_HEAD "{\"requests\":["
#define CHUNK_HEAD_LEN 13

/* The body size: a chunk file of S bytes is sent as S + BT_ENVELOPE. */
static off_t body_size(const struct bt_req *r)
{
	if (r->body_fd < 0)
		return (off_t)r->body_len;
	return r->body_chunk ? r->body_size + BT_ENVELOPE : r->body_size;
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

/* A chunk file as a create body: {"requests":[ + its lines joined by
 * commas + ]}.  The file's last byte is its final newline. */
static ssize_t chunk_bytes(const struct bt_req *r, char *out, size_t want, off_t pos)
{
	off_t lines_end = CHUNK_HEAD_LEN + r->body_size - 1;
	ssize_t n;
	char *p, *end;

	if (pos < CHUNK_HEAD_LEN) {
		n = CHUNK_HEAD_LEN - pos;
		if ((size_t)n > want)
			n = (ssize_t)want;
		memcpy(out, CHUNK_HEAD + pos, (size_t)n);
		return n;
	}
	if (pos < lines_end) {
		if ((off_t)want > lines_end - pos)
			want = (size_t)(lines_end - pos);
		n = file_bytes(r, out, want, pos - CHUNK_HEAD_LEN);
		for (p = out, end = out + (n > 0 ? n : 0);
		     (p = memchr(p, '\n', (size_t)(end - p))); p++)
			*p = ',';
		return n;
	}
	n = lines_end + 2 - pos;
	if ((size_t)n > want)
		n = (ssize_t)want;
	memcpy(out, "]}" + (pos - lines_end), (size_t)n);
	return n;
}

static size_t read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	const struct bt_req *r = x->req;
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
	else
		n = file_bytes(r, out, want, x->pos);
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
	struct xfer *x = arg;

	if (origin != SEEK_SET || off < 0)
		return CURL_SEEKFUNC_CANTSEEK;
	/* libcurl rewinds to send a body again on its own, e.g. when a reused
	 * connection died under it: a body that may have been taken must
	 * not go twice behind our back.  The failure comes to bt_http, which
	 * knows it is ambiguous. */
	if (x->sent && !x->req->may_repeat)
		return CURL_SEEKFUNC_FAIL;
	x->pos = (off_t)off;
	return CURL_SEEKFUNC_OK;
}

static size_t header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct bt_hdrs *x = arg;
	size_t n = size * nmemb, k, v;
	char val[100];
	const char *colon = memchr(p, ':', n);

	if (!colon)
		return n;
	k = (size_t)(colon - p);
	v = k + 1;
	while (v < n && (p[v] == ' ' || p[v] == '\t'))
		v++;
	while (n > v && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	if (n - v >= sizeof val)
		return size * nmemb;
	memcpy(val, p + v, n - v);
	val[n - v] = 0;
	if (k == 10 && !strncasecmp(p, "request-id", k))
		snprintf(x->request_id, sizeof x->request_id, "%.79s", val);
	else if (k == 11 && !strncasecmp(p, "retry-after", k) && x->retry_after < 0) {
		char *end;
		double d = strtod(val, &end);
		if (end != val && !*end && d >= 0)
			x->retry_after = d;
		/* an HTTP date is not honoured: the backoff applies */
	} else if (k == 14 && !strncasecmp(p, "retry-after-ms", k)) {
		char *end;
		double d = strtod(val, &end);
		if (end != val && !*end && d >= 0)
			x->retry_after = d / 1000;
	} else if (k == 14 && !strncasecmp(p, "x-should-retry", k))
		x->should_retry = !strcasecmp(val, "true");
	else if (k == 4 && !strncasecmp(p, "date", k))
		x->date = bt_http_date(val);
	return size * nmemb;
}

static size_t write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	long status = 0;

	curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status < 300) {
		if (x->req->sink) {
			x->got = 1;
			if (x->req->sink(p, n, x->req->sink_arg)) {
				x->sink_failed = 1;
				return 0;
			}
		} else
			bt_buf_add(&x->resp->body, p, n);
	} else if (x->resp->body.len < ERR_BODY_CAP) {
		size_t room = ERR_BODY_CAP - x->resp->body.len;
		bt_buf_add(&x->resp->body, p, n < room ? n : room);
	}
	return n;
}

/* What every transfer has: the URL, the API's headers, sane timeouts. */
static void setup(struct bt_http *h, CURL *c, const char *url, int has_body,
                  struct bt_hdrs *hdrs)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a transfer that stalls for two minutes is dead */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, has_body ? h->hdrs_json : h->hdrs);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, hdrs);
}

static size_t keep_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct bt_buf *b = arg;
	size_t n = size * nmemb;

	if (b->len < (1 << 20))
		bt_buf_add(b, p, n);
	return n;
}

CURL *bt_http_get_handle(struct bt_http *h, const char *path,
                         struct bt_hdrs *hdrs, struct bt_buf *body)
{
	CURL *c = curl_easy_init();
	char *url;

	if (!c)
		bt_die(BT_EXIT_FAIL, "libcurl failed to start");
	memset(hdrs, 0, sizeof *hdrs);
	hdrs->retry_after = -1;
	hdrs->should_retry = -1;
	hdrs->date = -1;
	url = bt_asprintf("%s%s", h->base_url, path);
	setup(h, c, url, 0, hdrs);
	free(url);      /* libcurl copies it */
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, keep_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	return c;
}

double bt_http_date(const char *s)
{
	struct tm tm;
	const char *rest;

	/* IMF-fixdate, the one form a server must send: "Sun, 06 Nov 1994
	 * 08:49:37 GMT" (the C locale's day and month names) */
	memset(&tm, 0, sizeof tm);
	rest = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!rest || *rest)
		return -1;
	return (double)timegm(&tm);
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

/* Transport errors that prove nothing was sent. */
static int before_send(CURLcode rc)
{
	return rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT ||
	       rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_SSL_CONNECT_ERROR ||
	       rc == CURLE_UNSUPPORTED_PROTOCOL || rc == CURLE_URL_MALFORMAT;
}

static CURLcode attempt(struct bt_http *h, const struct bt_req *req,
                        struct bt_resp *resp, struct xfer *x)
{
	CURL *c = h->curl;
	char *url;
	int has_body = req->body_fd >= 0 || req->body;
	CURLcode rc;

	memset(x, 0, sizeof *x);
	x->req = req;
	x->resp = resp;
	x->h = h;
	x->hdrs.retry_after = -1;
	x->hdrs.should_retry = -1;
	x->hdrs.date = -1;
	resp->body.len = 0;
	resp->request_id[0] = 0;
	resp->status = 0;
	h->errbuf[0] = 0;

	curl_easy_reset(c);
	url = bt_asprintf("%s%s", h->base_url, req->path);
	setup(h, c, url, has_body, &x->hdrs);
	/* a request that must not be repeated goes on a new connection: a
	 * reused one may be closed by the server just as we send */
	if (!req->may_repeat)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	if (!strcmp(req->method, "GET")) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	} else if (!strcmp(req->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, x);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, x);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)body_size(req));
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
	}
	resp->t_start = bt_now();
	rc = curl_easy_perform(c);
	resp->t_end = bt_now();
	bt_http_clock_seen(h, x->hdrs.date, resp->t_start, resp->t_end);
	free(url);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	memcpy(resp->request_id, x->hdrs.request_id, sizeof resp->request_id);
	return rc;
}

int bt_http(struct bt_http *h, const struct bt_req *req, struct bt_resp *resp)
{
	double start = bt_mono(), delay;
	struct xfer x;
	CURLcode rc;
	int retry, n;

	memset(resp, 0, sizeof *resp);
	for (n = 1;; n++) {
		resp->attempts = n;
		resp->ambiguous = 0;
		rc = attempt(h, req, resp, &x);
		if (rc == CURLE_OK && resp->status >= 200 && resp->status < 300)
			return 0;
		if (x.sink_failed) {
			snprintf(resp->err, sizeof resp->err, "%s %s: output failed",
			         req->method, req->path);
			return -1;
		}
		if (rc != CURLE_OK) {
			snprintf(resp->err, sizeof resp->err, "%s %s: %s", req->method,
			         req->path, h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
			resp->status = 0;
			/* a body that may have been taken cannot simply go again */
			if (req->may_repeat || before_send(rc) || !x.sent)
				retry = 1;
			else {
				retry = 0;
				resp->ambiguous = 1;
			}
		} else {
			bt_api_error(resp->status, resp->body.p, resp->body.len,
			             resp->request_id, resp->err, sizeof resp->err);
			retry = bt_retryable_status(resp->status);
			if (x.hdrs.should_retry == 1)
				retry = 1;
			if (x.hdrs.should_retry == 0)
				retry = 0;
			if (retry && !req->may_repeat && x.sent &&
			    !bt_status_not_taken(resp->status)) {
				retry = 0;
				resp->ambiguous = 1;
			}
		}
		if (!retry)
			return -1;
		delay = bt_backoff(n, x.hdrs.retry_after, bt_http_rnd(h));
		if (bt_mono() - start + delay > h->budget) {
			size_t k = strlen(resp->err);
			snprintf(resp->err + k, sizeof resp->err - k,
			         " (gave up after %d attempt%s in %.0fs)", n,
			         n == 1 ? "" : "s", bt_mono() - start);
			return -1;
		}
		if (bt_verbose)
			bt_warn("%s; retrying in %.1fs", resp->err, delay);
		if (x.got && req->sink_restart && req->sink_restart(req->sink_arg)) {
			snprintf(resp->err + strlen(resp->err),
			         sizeof resp->err - strlen(resp->err), " (cannot restart)");
			return -1;
		}
		bt_sleep(delay);
	}
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
