/* http.c — bt-mock's HTTP glue, and the only file that sees
 * libmicrohttpd: a request is routed, meets its fault, has its key
 * checked, has its body taken (a create's spooled to a file), is answered
 * by its endpoint, and the answer goes out (cut short, slowly, or not at
 * all, as its fault says) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <fcntl.h>
#include <inttypes.h>
#include <unistd.h>

#include <microhttpd.h>

#include "mock.h"

static struct MHD_Daemon *server;

/* ---- answers ------------------------------------------------------------------ */

static const char *status_type(unsigned st)
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

/* The message of a status fault. */
static const char *status_message(unsigned st, int oai)
{
	if (oai && st == 401)
		return "Incorrect API key provided.";
	if (oai && st == 402)
		return "You exceeded your current quota, please check your plan and billing details.";
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

/* Forget the answer in o. */
static void out_reset(struct out *o)
{
	o->body.len = 0;
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	o->ctype = "application/json";
	o->retry_after[0] = 0;
	o->nhdr = 0;
}

/* OpenAI's error type and code for a status. */
static const char *otype(unsigned st)
{
	return st == 429 ? "requests" : st >= 500 ? "server_error" : "invalid_request_error";
}

static const char *ocode(unsigned st)
{
	return st == 401 ? "invalid_api_key" : st == 429 ? "rate_limit_exceeded" : NULL;
}

static void oerror_v(struct out *o, unsigned st, const char *type, const char *param,
                     const char *code, const char *fmt, va_list ap)
{
	char msg[1024];
	int nhdr = o->nhdr;

	out_reset(o);
	o->nhdr = nhdr;         /* the rate limits stay */
	vsnprintf(msg, sizeof msg, fmt, ap);
	o->status = st;
	oerror_body(&o->body, msg, type ? type : otype(st), param, code);
}

void out_oerror(struct out *o, const struct conn *x, unsigned st, const char *type,
                const char *param, const char *code, const char *fmt, ...)
{
	va_list ap;

	(void)x;
	va_start(ap, fmt);
	oerror_v(o, st, type, param, code, fmt, ap);
	va_end(ap);
}

void out_error(struct out *o, const struct conn *x, unsigned st, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	if (x->oai) {
		oerror_v(o, st, NULL, NULL, ocode(st), fmt, ap);
		va_end(ap);
		return;
	}
	out_reset(o);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->status = st;
	bt_error_envelope(&o->body, status_type(st), msg, x->rid);
}

/* ---- sending ------------------------------------------------------------------ */

/* The Date header, by our clock (--clock-skew moves it too). */
static void http_date(char *out, size_t sz)
{
	time_t s = (time_t)(now_us() / US);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, sz, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* A body cut short (the cut fault): from a file or from memory. */
struct cutsrc {
	int fd;
	char *p;
	uint64_t limit;
};

static ssize_t cut_read(void *cls, uint64_t pos, char *buf, size_t max)
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

static void cut_free(void *cls)
{
	struct cutsrc *c = cls;

	if (c->fd >= 0)
		close(c->fd);
	free(c->p);
	free(c);
}

/* o's body in memory (a file's read in). */
static void body_in_memory(struct out *o)
{
	char buf[64 * 1024];
	ssize_t r;

	if (o->fd >= 0) {
		while ((r = read(o->fd, buf, sizeof buf)) > 0)
			bt_buf_add(&o->body, buf, (size_t)r);
		close(o->fd);
		o->fd = -1;
	}
	bt_buf_str(&o->body);
}

/* The badutf8 fault: the first answer text of a 2xx body starts with
 * the byte 0xFF, which UTF-8 never holds. */
static void bad_utf8(struct out *o)
{
	static const char key[] = "\"text\":\"";
	char *at;

	if (o->status < 200 || o->status > 299)
		return;
	body_in_memory(o);
	at = o->body.p ? strstr(o->body.p, key) : NULL;
	if (at && at[sizeof key - 1] != '"')
		at[sizeof key - 1] = (char)0xff;
}

/* The twice fault: the first line of a 2xx body (a results file) is
 * sent twice, as a server that repeats a result would. */
static void first_twice(struct out *o)
{
	struct bt_buf b = { 0 };
	const char *nl;

	if (o->status < 200 || o->status > 299)
		return;
	body_in_memory(o);
	if (!o->body.p || !(nl = memchr(o->body.p, '\n', o->body.len)))
		return;
	bt_buf_add(&b, o->body.p, (size_t)(nl + 1 - o->body.p));
	bt_buf_add(&b, o->body.p, o->body.len);
	bt_buf_free(&o->body);
	o->body = b;
}

/* The response of o, which takes its body or file. */
static struct MHD_Response *response(struct conn *x, struct out *o)
{
	struct MHD_Response *r;
	struct cutsrc *c;
	uint64_t size;

	if (x->faulted && x->fault.act == A_BADUTF8)
		bad_utf8(o);
	if (x->faulted && x->fault.act == A_TWICE)
		first_twice(o);
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
		/* the whole size is announced; the connection ends at limit */
		return MHD_create_response_from_callback(size, 64 * 1024, cut_read, c, cut_free);
	}
	if (o->fd >= 0) {
		r = MHD_create_response_from_fd64(size, o->fd);
		o->fd = -1;     /* MHD closes it */
		return r;
	}
	bt_buf_str(&o->body);
	r = MHD_create_response_from_buffer(o->body.len, o->body.p, MHD_RESPMEM_MUST_FREE);
	o->body.p = NULL;
	o->body.len = o->body.cap = 0;
	return r;
}

static enum MHD_Result send_out(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	char date[64];
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (x->faulted && x->fault.act == A_SLOW) {
		nap(x->fault.arg);
		x->faulted = 0;
	}
	if (!(r = response(x, o)))
		return MHD_NO;
	MHD_add_response_header(r, x->oai ? "x-request-id" : "request-id", x->rid);
	MHD_add_response_header(r, "content-type", o->ctype);
	http_date(date, sizeof date);
	MHD_add_response_header(r, "Date", date);
	if (o->retry_after[0])
		MHD_add_response_header(r, "retry-after", o->retry_after);
	for (int i = 0; i < o->nhdr; i++)
		MHD_add_response_header(r, o->hdr[i].name, o->hdr[i].value);
	if (bt_verbose)
		fprintf(stderr, "%s: %s %s %u\n", bt_prog, x->method, x->url ? x->url : "",
		        o->status);
	ret = MHD_queue_response(mc, o->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- a request, from its headers to its answer ---------------------------------- */

/* OpenAI's paths: x->ep (and x->id, x->oai); 0, or 404 or 405. */
static int route_oai(struct conn *x, int get, int post, int del)
{
	static const struct {
		const char *prefix;     /* then an id, and after it: */
		const char *tail;
		int get, post, del;
	} paths[] = {
		{ "/v1/files", NULL, EP_FLIST, EP_UPLOAD, EP_NONE },
		{ "/v1/files/", "", EP_FGET, EP_NONE, EP_FDELETE },
		{ "/v1/files/", "/content", EP_FCONTENT, EP_NONE, EP_NONE },
		{ "/v1/batches", NULL, EP_OLIST, EP_OCREATE, EP_NONE },
		{ "/v1/batches/", "", EP_OGET, EP_NONE, EP_NONE },
		{ "/v1/batches/", "/cancel", EP_NONE, EP_OCANCEL, EP_NONE },
		{ "/v1/chat/completions", NULL, EP_NONE, EP_CHAT, EP_NONE },
		{ "/v1/embeddings", NULL, EP_NONE, EP_EMBED, EP_NONE },
	};
	const char *p, *s;
	size_t i, k;

	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		k = strlen(paths[i].prefix);
		if (strncmp(x->url, paths[i].prefix, k))
			continue;
		if (!paths[i].tail) {
			if (x->url[k])
				continue;
		} else {
			p = x->url + k;
			s = strchr(p, '/');
			if (!s)
				s = p + strlen(p);
			if (s == p || (size_t)(s - p) >= sizeof x->id || strcmp(s, paths[i].tail))
				continue;
			memcpy(x->id, p, (size_t)(s - p));
			x->id[s - p] = 0;
		}
		x->oai = 1;
		x->ep = get ? paths[i].get : post ? paths[i].post : del ? paths[i].del : EP_NONE;
		return x->ep ? 0 : 405;
	}
	return 404;
}

/* Azure OpenAI's paths are OpenAI's under /openai (and a synchronous
 * request under /openai/deployments/NAME): x->url is made the /v1 one,
 * and x->azure set.  (The deployment is the model: the body names it too.) */
static void azure_path(struct conn *x)
{
	const char *p;
	char *u;

	if (strncmp(x->url, "/openai/", 8))
		return;
	p = x->url + 7;
	if (!strncmp(p, "/deployments/", 13) && (p = strchr(p + 13, '/')) == NULL)
		return;
	u = bt_asprintf("/v1%s", p);
	free(x->url);
	x->url = u;
	x->azure = 1;
}

/* Which endpoint x->url is, into x->ep (and x->id): 0, or 404 or 405. */
static int route(struct conn *x)
{
	static const struct {
		const char *path;
		int get, post, del;     /* the endpoint of each method */
	} fixed[] = {
		{ "/_mock/faults", EP_NONE, EP_MOCK_FAULTS, EP_MOCK_CLEAR },
		{ "/_mock/stats", EP_MOCK_STATS, EP_NONE, EP_NONE },
		{ "/v1/messages", EP_NONE, EP_MESSAGES, EP_NONE },
		{ "/v1/messages/count_tokens", EP_NONE, EP_COUNT, EP_NONE },
		{ "/v1/messages/batches", EP_LIST, EP_CREATE, EP_NONE },
	};
	const char *p, *s, *m = x->method;
	int get = !strcmp(m, "GET"), post = !strcmp(m, "POST"), del = !strcmp(m, "DELETE");
	size_t i;

	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!strcmp(x->url, fixed[i].path)) {
			x->ep = get ? fixed[i].get : post ? fixed[i].post : del ? fixed[i].del : EP_NONE;
			return x->ep ? 0 : 405;
		}
	if (strncmp(x->url, "/v1/messages/batches/", 21))
		return route_oai(x, get, post, del);
	p = x->url + 21;
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
static const char *req_key(struct MHD_Connection *mc)
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

/* The most bytes of a body: an upload's are OpenAI's 512 MB (or
 * --max-body when more), the others' --max-body. */
static long long body_max(const struct conn *x)
{
	return x->ep == EP_UPLOAD && opt_max_body < 512LL * 1000 * 1000 ?
	       512LL * 1000 * 1000 : opt_max_body;
}

/* An OpenAI request's key (Authorization: Bearer only) and Content-Length:
 * 0 to go on, or 1 with an answer in o. */
static int begin_oai(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	const char *k, *cl;

	if (x->azure) {
		/* Azure's: the key in api-key, and an api-version on every call */
		if (!MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "api-version")) {
			out_oerror(o, x, 404, NULL, NULL, "404", "Resource not found: no api-version");
			return 1;
		}
		k = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "api-key");
		if (!k || !*k) {
			out_oerror(o, x, 401, NULL, NULL, "401", "Access denied due to missing "
			           "subscription key. Make sure to include subscription key when "
			           "making requests to an API.");
			return 1;
		}
	} else {
		k = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "authorization");
		if (!k || strncasecmp(k, "Bearer ", 7) || !k[7 + strspn(k + 7, " ")]) {
			out_oerror(o, x, 401, NULL, NULL, NULL, "You didn't provide an API key. You "
			           "need to provide your API key in an Authorization header using "
			           "Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
			return 1;
		}
		k += 7 + strspn(k + 7, " ");
	}
	if (opt_key && strcmp(k, opt_key)) {
		out_oerror(o, x, 401, NULL, NULL, "invalid_api_key", "Incorrect API key provided.");
		return 1;
	}
	cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "content-length");
	if (cl && strtoull(cl, NULL, 10) > (unsigned long long)body_max(x)) {
		out_oerror(o, x, 413, NULL, NULL, NULL, "Request exceeds the maximum allowed "
		           "number of bytes (%lld)", body_max(x));
		return 1;
	}
	return 0;
}

/* The headers of a request: route, fault, key, version, Content-Length.
 * 0 to go on (reading a body), or 1 with an answer in o. */
static int begin(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	const char *k, *cl;
	int st;

	azure_path(x);
	if ((st = route(x))) {
		if (st == 404)
			out_error(o, x, 404, "Not found");
		else
			out_error(o, x, 405, "Method %s is not allowed on %s", x->method, x->url);
		return 1;
	}
	if (x->ep >= EP_ANY)
		return 0;       /* /_mock: no fault, no key */
	pthread_mutex_lock(&mu);
	st_http++;
	x->faulted = fault_take(x->ep, &x->fault);
	pthread_mutex_unlock(&mu);
	if (x->faulted && (x->fault.act == A_STATUS || x->fault.act == A_DROP ||
	                   x->fault.act == A_LOST))
		return 0;
	if (x->oai)
		return begin_oai(mc, x, o);
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
	if (cl && (x->ep == EP_CREATE || x->ep == EP_MESSAGES || x->ep == EP_COUNT) &&
	    strtoull(cl, NULL, 10) > (unsigned long long)opt_max_body) {
		out_error(o, x, 413, "Request exceeds the maximum allowed number of "
		          "bytes (%lld)", opt_max_body);
		return 1;
	}
	return 0;
}

static void take_body(struct conn *x, const char *data, size_t n)
{
	if (x->over)
		return;
	if (x->got + (long long)n > body_max(x)) {
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
	if (x->ep == EP_UPLOAD) {
		if (x->pp && MHD_post_process(x->pp, data, n) != MHD_YES)
			x->form.bad = 1;
	} else if (x->ep == EP_CREATE) {
		/* No spool when a status fault throws the body away. */
		if (x->fd >= 0 && bt_write_all(x->fd, data, n) < 0) {
			bt_warn("%s:", x->spool);
			close(x->fd);
			x->fd = -1;
		}
	} else if (x->ep == EP_MESSAGES || x->ep == EP_COUNT || x->ep == EP_MOCK_FAULTS ||
	           x->ep == EP_OCREATE || x->ep == EP_CHAT || x->ep == EP_EMBED)
		bt_buf_add(&x->body, data, n);
}

static void dispatch(struct MHD_Connection *mc, struct conn *x, struct out *o)
{
	switch (x->ep) {
	case EP_CREATE: do_create(x, o); break;
	case EP_GET: do_get(x, o); break;
	case EP_LIST:
		x->limit = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "limit");
		x->after_id = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "after_id");
		x->before_id = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "before_id");
		do_list(x, o);
		break;
	case EP_CANCEL: do_cancel(x, o); break;
	case EP_DELETE: do_delete(x, o); break;
	case EP_RESULTS: do_results(x, o); break;
	case EP_MESSAGES: do_messages(x, o); break;
	case EP_COUNT: do_count(x, o); break;
	case EP_UPLOAD: do_upload(x, o); break;
	case EP_FGET: do_fget(x, o); break;
	case EP_FLIST:
		x->limit = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "limit");
		x->after_id = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "after");
		x->purpose = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "purpose");
		x->order = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "order");
		do_flist(x, o);
		break;
	case EP_FDELETE: do_fdelete(x, o); break;
	case EP_FCONTENT: do_fcontent(x, o); break;
	case EP_OCREATE: do_ocreate(x, o); break;
	case EP_OGET: do_oget(x, o); break;
	case EP_OLIST:
		x->limit = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "limit");
		x->after_id = MHD_lookup_connection_value(mc, MHD_GET_ARGUMENT_KIND, "after");
		do_olist(x, o);
		break;
	case EP_OCANCEL: do_ocancel(x, o); break;
	case EP_CHAT: do_chat(x, o); break;
	case EP_EMBED: do_embed(x, o); break;
	case EP_MOCK_FAULTS: do_faults(x, o); break;
	case EP_MOCK_CLEAR: do_faults_clear(x, o); break;
	case EP_MOCK_STATS: do_stats(x, o); break;
	default: out_error(o, x, 404, "Not found");
	}
}

/* An upload's form, field by field: the file's bytes to the spool, the
 * others (short) to x->form. */
static enum MHD_Result form_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *ctype,
                                  const char *enc, const char *data, uint64_t off,
                                  size_t size)
{
	struct conn *x = cls;
	char *f = NULL;
	size_t cap = 0, len;

	(void)kind;
	(void)ctype;
	(void)enc;
	if (!strcmp(key, "file")) {
		x->form.has_file = 1;
		if (filename && !x->form.filename[0])
			snprintf(x->form.filename, sizeof x->form.filename, "%s", filename);
		if (size && x->fd >= 0 && bt_write_all(x->fd, data, size) < 0) {
			bt_warn("%s:", x->spool);
			return MHD_NO;
		}
		return MHD_YES;
	}
	if (!strcmp(key, "purpose"))
		f = x->form.purpose, cap = sizeof x->form.purpose;
	else if (!strcmp(key, "expires_after[anchor]"))
		f = x->form.anchor, cap = sizeof x->form.anchor;
	else if (!strcmp(key, "expires_after[seconds]"))
		f = x->form.seconds, cap = sizeof x->form.seconds;
	if (f && off < cap - 1) {
		len = size < cap - 1 - off ? size : cap - 1 - (size_t)off;
		memcpy(f + off, data, len);
		f[off + len] = 0;
	}
	return MHD_YES;
}

/* The first call for a request: its headers.  A create that is to be
 * done gets a spool for its body. */
static enum MHD_Result request_begin(struct MHD_Connection *mc, const char *url,
                                     const char *method, void **ptr)
{
	struct conn *x = bt_calloc(1, sizeof *x);
	struct out o = { .fd = -1, .ctype = "application/json" };
	uint64_t c;

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
	if (x->faulted && x->fault.act == A_DROP && x->ep != EP_CREATE && x->ep != EP_OCREATE &&
	    x->ep != EP_UPLOAD)
		return MHD_NO;
	if ((x->ep == EP_CREATE || x->ep == EP_UPLOAD) && !(x->faulted &&
	                            (x->fault.act == A_STATUS || x->fault.act == A_LOST))) {
		x->spool = bt_asprintf("%s/.spool-%" PRIu64, opt_dir, c);
		x->fd = open(x->spool, O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (x->fd < 0)
			bt_warn("%s:", x->spool);
		if (x->ep == EP_UPLOAD && !(x->pp = MHD_create_post_processor(mc, 64 * 1024,
		                                                               form_field, x)))
			x->form.bad = 1;
	}
	return MHD_YES;
}

/* The last call for a request, its body all taken: the answer, as its
 * fault says. */
static enum MHD_Result request_end(struct MHD_Connection *mc, struct conn *x)
{
	struct out o = { .fd = -1, .ctype = "application/json" };
	enum MHD_Result ret;

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
		          status_message((unsigned)x->fault.status, x->oai));
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

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url,
                               const char *method, const char *version,
                               const char *data, size_t *size, void **ptr)
{
	(void)cls;
	(void)version;
	if (!*ptr)
		return request_begin(mc, url, method, ptr);
	if (*size) {
		take_body(*ptr, data, *size);
		*size = 0;
		return MHD_YES;
	}
	return request_end(mc, *ptr);
}

static void completed(void *cls, struct MHD_Connection *mc, void **ptr,
                      enum MHD_RequestTerminationCode toe)
{
	struct conn *x = *ptr;

	(void)cls;
	(void)mc;
	(void)toe;
	if (!x)
		return;
	if (x->pp)
		MHD_destroy_post_processor(x->pp);
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

/* ---- the server ------------------------------------------------------------------ */

int http_start(const struct sockaddr *sa)
{
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	const union MHD_DaemonInfo *info;

	if (sa->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	server = MHD_start_daemon(flags, (uint16_t)opt_port, NULL, NULL, handler, NULL,
	                           MHD_OPTION_SOCK_ADDR, sa,
	                           MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
	                           MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
	                           MHD_OPTION_END);
	if (!server)
		return -1;
	info = MHD_get_daemon_info(server, MHD_DAEMON_INFO_BIND_PORT);
	return info ? (int)info->port : opt_port;
}

void http_stop(void)
{
	MHD_stop_daemon(server);
	server = NULL;
}
