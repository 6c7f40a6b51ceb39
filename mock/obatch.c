/* obatch.c — OpenAI's batches: created from an uploaded file, validated
 * whole at once (a file that breaks a rule fails the batch), run by the
 * clock as the Anthropic side's are (store.c's batch_state), and made
 * into an output file and an error file when first seen ended.  In
 * memory only, behind mu, like the files (ofiles.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock.h"

#define OAI_MAX_LINES   50000
#define OAI_MAX_BYTES   (200LL * 1000 * 1000)
#define MAX_ERRORS      100     /* validation errors listed, at most */
#define META_PAIRS      16

struct obatch {
	struct batch b;         /* id, n, times, cancel, fin, finalized, cnt */
	char input[40], endpoint[32], model[128];
	char out_id[40], err_id[40];    /* "": none */
	char *metadata;         /* compact JSON object, or NULL */
	char *errors;           /* a failed validation: errors.data's items */
	int64_t failed_at;
};

static struct obatch **obs;             /* behind mu, in creation order */
static size_t nobs, capobs;
static uint64_t ob_counter;

/* The lines limit and the bytes limit: the API's, or --max-requests and
 * --max-body when they are lower. */
static long max_lines(void)
{
	return opt_max_requests < OAI_MAX_LINES ? opt_max_requests : OAI_MAX_LINES;
}

static long long max_bytes(void)
{
	return opt_max_body < OAI_MAX_BYTES ? opt_max_body : OAI_MAX_BYTES;
}

static char *requests_path(const struct obatch *ob)
{
	return bt_asprintf("%s/oai-%s.requests", opt_dir, ob->b.id);
}

/* ---- validation ---------------------------------------------------------------- */

struct verr {
	struct bt_buf data;     /* the items, comma-separated */
	long n;
};

static void verr_add(struct verr *e, const char *code, long line, const char *param,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void verr_add(struct verr *e, const char *code, long line, const char *param,
                     const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (e->n++ >= MAX_ERRORS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (e->data.len)
		bt_buf_addc(&e->data, ',');
	bt_buf_printf(&e->data, "{\"code\":\"%s\",\"message\":", code);
	bt_json_write_str(&e->data, msg, strlen(msg));
	bt_buf_adds(&e->data, ",\"param\":");
	if (param)
		bt_json_write_str(&e->data, param, strlen(param));
	else
		bt_buf_adds(&e->data, "null");
	if (line > 0)
		bt_buf_printf(&e->data, ",\"line\":%ld}", line);
	else
		bt_buf_adds(&e->data, ",\"line\":null}");
}

/* Check one line (number ln) against the batch's rules; model holds the
 * first line's model ("" before it). */
static void check_line(const char *p, size_t n, long ln, const char *endpoint,
                       char *model, size_t msz, struct pset *ids, struct verr *e)
{
	char err[256];
	jv v, cid, method, url, body, m;

	v = bt_json_parse(p, n, err, sizeof err);
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
		verr_add(e, "invalid_json_line", ln, NULL, "This line is not parseable as "
		         "valid JSON%s%s.", jv_is_valid(v) ? "" : ": ", jv_is_valid(v) ? "" : err);
		jv_free(v);
		return;
	}
	cid = bt_jv_get(v, "custom_id");
	method = bt_jv_get(v, "method");
	url = bt_jv_get(v, "url");
	body = bt_jv_get(v, "body");
	m = bt_jv_get(body, "model");
	if (jv_get_kind(cid) != JV_KIND_STRING || !jv_string_length_bytes(jv_copy(cid)))
		verr_add(e, "missing_required_parameter", ln, "custom_id",
		         "Missing required parameter: 'custom_id'.");
	else if (!bt_jv_is(method, "POST"))
		verr_add(e, "invalid_method", ln, "method", "The method of a request must be POST.");
	else if (jv_get_kind(url) != JV_KIND_STRING)
		verr_add(e, "missing_required_parameter", ln, "url",
		         "Missing required parameter: 'url'.");
	else if (strcmp(jv_string_value(url), endpoint))
		verr_add(e, "invalid_url", ln, "url", "The url '%.100s' does not match the "
		         "batch's endpoint '%s'.", jv_string_value(url), endpoint);
	else if (jv_get_kind(body) != JV_KIND_OBJECT)
		verr_add(e, "missing_required_parameter", ln, "body",
		         "Missing required parameter: 'body'.");
	else if (jv_get_kind(m) != JV_KIND_STRING)
		verr_add(e, "missing_required_parameter", ln, "body.model",
		         "Missing required parameter: 'body.model'.");
	else if (*model && strcmp(model, jv_string_value(m)))
		verr_add(e, "mismatched_model", ln, "body.model", "The model '%.100s' differs "
		         "from the batch's '%s': a batch file has one model.",
		         jv_string_value(m), model);
	else if (!pset_add(ids, hash_fnv(FNV_START, jv_string_value(cid),
	                                 (size_t)jv_string_length_bytes(jv_copy(cid)))))
		verr_add(e, "duplicate_custom_id", ln, "custom_id", "The custom_id '%.100s' "
		         "is a duplicate of an earlier line's.", jv_string_value(cid));
	if (jv_get_kind(m) == JV_KIND_STRING && !*model)
		snprintf(model, msz, "%s", jv_string_value(m));
	jv_free(m);
	jv_free(body);
	jv_free(url);
	jv_free(method);
	jv_free(cid);
	jv_free(v);
}

/* Validate the input file map[0..size): its requests (blank lines are
 * skipped), its model into model, its errors into e. */
static long validate_file(const char *map, size_t size, const char *endpoint,
                          char *model, size_t msz, struct verr *e)
{
	const char *p = map, *end = map + size, *nl;
	struct pset ids = { 0 };
	long ln = 0, n = 0;

	*model = 0;
	if ((long long)size > max_bytes()) {
		verr_add(e, "file_too_large", 0, NULL, "The input file has %zu bytes; a batch "
		         "takes at most %lld.", size, max_bytes());
		return 0;
	}
	for (; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		ln++;
		if (strspn(p, " \t\r") >= (size_t)(nl - p))
			continue;
		if (++n > max_lines()) {
			verr_add(e, "too_many_requests", ln, NULL, "The input file has more than "
			         "%ld requests.", max_lines());
			break;
		}
		check_line(p, (size_t)(nl - p), ln, endpoint, model, msz, &ids, e);
	}
	if (n == 0 && !e->n)
		verr_add(e, "empty_file", 0, NULL, "The input file has no request.");
	pset_free(&ids);
	return n;
}

/* ---- create -------------------------------------------------------------------- */

/* The create body's checks; the body's members into ob.  -1 with the answer. */
static int create_args(struct conn *x, struct out *o, jv p, struct obatch *ob)
{
	static const char *const eps[] = { "/v1/chat/completions", "/v1/embeddings", NULL };
	const char *const *e;
	jv v, md, k;
	int i, n, ok = 1;

	v = bt_jv_get(p, "input_file_id");
	if (jv_get_kind(v) == JV_KIND_STRING)
		snprintf(ob->input, sizeof ob->input, "%s", jv_string_value(v));
	jv_free(v);
	v = bt_jv_get(p, "endpoint");
	for (e = eps; jv_get_kind(v) == JV_KIND_STRING && *e; e++)
		if (!strcmp(*e, jv_string_value(v)))
			snprintf(ob->endpoint, sizeof ob->endpoint, "%s", *e);
	jv_free(v);
	v = bt_jv_get(p, "completion_window");
	if (!ob->input[0]) {
		out_oerror(o, x, 400, NULL, "input_file_id", "missing_required_parameter",
		           "Missing required parameter: 'input_file_id'.");
		ok = 0;
	} else if (!ob->endpoint[0]) {
		out_oerror(o, x, 400, NULL, "endpoint", NULL, "Invalid 'endpoint': bt-mock "
		           "serves '/v1/chat/completions' and '/v1/embeddings'.");
		ok = 0;
	} else if (!bt_jv_is(v, "24h")) {
		out_oerror(o, x, 400, NULL, "completion_window", NULL,
		           "Invalid 'completion_window': expected '24h'.");
		ok = 0;
	}
	jv_free(v);
	md = bt_jv_get(p, "metadata");
	if (ok && jv_is_valid(md) && jv_get_kind(md) != JV_KIND_NULL) {
		n = jv_get_kind(md) == JV_KIND_OBJECT ? jv_object_length(jv_copy(md)) : -1;
		ok = n >= 0 && n <= META_PAIRS;
		k = ok ? jv_keys(jv_copy(md)) : jv_array();
		for (i = 0; ok && i < n; i++) {
			jv key = jv_array_get(jv_copy(k), i), val = jv_object_get(jv_copy(md), jv_copy(key));

			ok = jv_string_length_bytes(jv_copy(key)) <= 64 &&
			     jv_get_kind(val) == JV_KIND_STRING &&
			     jv_string_length_bytes(jv_copy(val)) <= 512;
			jv_free(key);
			jv_free(val);
		}
		jv_free(k);
		if (!ok)
			out_oerror(o, x, 400, NULL, "metadata", NULL, "Invalid 'metadata': at most %d "
			           "pairs of strings, keys of at most 64 characters, values of at "
			           "most 512.", META_PAIRS);
		else {
			struct bt_buf b = { 0 };

			bt_json_write(&b, md);
			ob->metadata = bt_strndup(b.p, b.len);
			bt_buf_free(&b);
		}
	}
	jv_free(md);
	return ok ? 0 : -1;
}

/* Link the input file to the batch's own name (it outlives a delete of
 * the file) and validate it.  -1 with the answer in o. */
static int create_input(struct conn *x, struct out *o, struct obatch *ob)
{
	struct verr e = { { 0 }, 0 };
	char *in = ofile_path(ob->input), *rp = requests_path(ob);
	size_t size = 0;
	void *map = NULL;
	int fd = -1, rc = -1;

	if (link(in, rp) < 0 || (fd = open(rp, O_RDONLY)) < 0 ||
	    !(map = map_file(fd, &size, rp)))
		bt_warn("%s:", rp);
	else {
		ob->b.n = validate_file(map, size, ob->endpoint, ob->model, sizeof ob->model, &e);
		if (e.n) {
			bt_buf_str(&e.data);
			ob->errors = bt_strndup(e.data.p, e.data.len);
			ob->b.n = 0;
		}
		rc = 0;
	}
	if (map)
		unmap_file(map, size);
	if (fd >= 0)
		close(fd);
	if (rc < 0 || ob->errors)
		unlink(rp);
	if (rc < 0)
		out_oerror(o, x, 500, NULL, NULL, NULL, "Internal server error (input file)");
	bt_buf_free(&e.data);
	free(in);
	free(rp);
	return rc;
}

static void obatch_json(struct bt_buf *o, const struct obatch *ob, int64_t now);

static void obatch_free(struct obatch *ob)
{
	pthread_mutex_destroy(&ob->b.fin);
	free(ob->metadata);
	free(ob->errors);
	free(ob);
}

void do_ocreate(struct conn *x, struct out *o)
{
	struct obatch *ob;
	char purpose[16];
	int64_t now;
	jv p;

	if (!jv_is_valid(p = body_object(x, o)))
		return;
	ob = bt_calloc(1, sizeof *ob);
	pthread_mutex_init(&ob->b.fin, NULL);
	if (create_args(x, o, p, ob) < 0) {
		jv_free(p);
		obatch_free(ob);
		return;
	}
	jv_free(p);
	pthread_mutex_lock(&mu);
	if (ofile_purpose(ob->input, purpose) < 0) {
		pthread_mutex_unlock(&mu);
		out_oerror(o, x, 404, NULL, "input_file_id", NULL, "No such File object: %s",
		           ob->input);
		obatch_free(ob);
		return;
	}
	ob->b.seq = ++ob_counter;
	make_id(ob->b.id, sizeof ob->b.id, "batch_",
	        hash_mix(opt_seed * 0x6f61ULL) ^ hash_mix(ob->b.seq));
	pthread_mutex_unlock(&mu);
	if (strcmp(purpose, "batch")) {
		out_oerror(o, x, 400, NULL, "input_file_id", NULL, "The file %s has purpose "
		           "'%s', not 'batch'.", ob->input, purpose);
		obatch_free(ob);
		return;
	}
	if (create_input(x, o, ob) < 0) {
		obatch_free(ob);
		return;
	}
	now = now_us();
	ob->b.created = now;
	ob->b.pt = opt_pt;
	ob->b.ct = opt_ct;
	ob->b.expires = now + opt_expire;
	if (ob->errors) {
		ob->b.finalized = 1;
		ob->failed_at = now;
	}
	pthread_mutex_lock(&mu);
	if (nobs == capobs) {
		capobs = capobs ? 2 * capobs : 64;
		obs = bt_realloc(obs, capobs * sizeof *obs);
	}
	obs[nobs++] = ob;
	st_creates++;
	o->status = 200;
	obatch_json(&o->body, ob, now - 1);   /* as created: validating */
	pthread_mutex_unlock(&mu);
}

/* ---- results ---------------------------------------------------------------------- */

/* Lines gathered for a file: their bytes and where each starts. */
struct lines {
	struct bt_buf b;
	size_t *offs, n, cap;
};

static void lines_end(struct lines *l, size_t start)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->offs = bt_realloc(l->offs, l->cap * sizeof *l->offs);
	}
	l->offs[l->n++] = start;
}

/* The line of request i (custom_id cid, body) into out or err; its kind. */
static int result_line(struct obatch *ob, const char *key, jv cid, jv body, long i,
                       const struct bstate *s, struct lines *out, struct lines *err)
{
	const char *c = jv_string_value(cid), *param;
	size_t clen = (size_t)jv_string_length_bytes(jv_copy(cid));
	uint64_t h = request_hash(c, clen, key);
	char id[48], rid[32], msg[512];
	struct lines *l = err;
	size_t start;
	double u = hash_unit(h ^ 0x72617465ULL);
	int kind = BT_R_ERRORED, chat = !strcmp(ob->endpoint, "/v1/chat/completions");
	unsigned st = 0;

	make_id(id, sizeof id, "batch_req_", h ^ 0x6c696e65ULL);
	make_id(rid, sizeof rid, "req_", h ^ 0x726571ULL);
	if (i >= s->k)
		kind = s->rest;
	else if ((chat ? chat_check(body, 1, msg, sizeof msg, &param) :
	                 embed_check(body, msg, sizeof msg, &param)) < 0)
		st = 400;
	else if (omodel_known(body, msg, sizeof msg) < 0)
		st = 404;
	else if (u < opt_error_rate)
		st = hash_mix(h ^ 0x6b696e64ULL) & 1 ? 429 : 500;
	else if (u < opt_error_rate + opt_expire_rate)
		kind = BT_R_EXPIRED;
	else {
		st = 200;
		kind = BT_R_SUCCEEDED;
		l = out;
	}
	start = l->b.len;
	bt_buf_printf(&l->b, "{\"id\":\"%s\",\"custom_id\":", id);
	bt_json_write_str(&l->b, c, clen);
	if (!st)
		bt_buf_printf(&l->b, ",\"response\":null,\"error\":{\"code\":\"%s\",\"message\":"
		              "\"%s\"}}\n", kind == BT_R_CANCELED ? "batch_cancelled" :
		              "batch_expired", kind == BT_R_CANCELED ?
		              "This request was not run: the batch was cancelled." :
		              "This request could not be executed before the completion window expired.");
	else {
		bt_buf_printf(&l->b, ",\"response\":{\"status_code\":%u,\"request_id\":\"%s\","
		              "\"body\":", st, rid);
		if (st == 200 && chat)
			chat_json(&l->b, body, h);
		else if (st == 200)
			embed_json(&l->b, body);
		else if (st == 400)
			oerror_body(&l->b, msg, "invalid_request_error", param, NULL);
		else if (st == 404)
			oerror_body(&l->b, msg, "invalid_request_error", "model", "model_not_found");
		else if (st == 429)
			oerror_body(&l->b, "Rate limit reached; please try again.", "requests",
			            NULL, "rate_limit_exceeded");
		else
			oerror_body(&l->b, "The server had an error while processing your request.",
			            "server_error", NULL, NULL);
		bt_buf_adds(&l->b, "},\"error\":null}\n");
	}
	lines_end(l, start);
	return kind;
}

/* Write l to path, in order or shuffled by rng; 0, or -1 (warned). */
static int lines_write(struct lines *l, const char *path, uint64_t rng)
{
	size_t i, j, t, *perm = bt_malloc((l->n + 1) * sizeof *perm);
	struct bt_buf w = { 0 };
	int fd, rc = 0;

	for (i = 0; i < l->n; i++)
		perm[i] = i;
	for (j = l->n; !opt_ordered && j > 1; j--) {
		rng = hash_mix(rng);
		t = (size_t)(rng % j);
		i = perm[j - 1];
		perm[j - 1] = perm[t];
		perm[t] = i;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		bt_warn("%s:", path);
		free(perm);
		return -1;
	}
	for (i = 0; i < l->n && rc == 0; i++) {
		t = perm[i];
		bt_buf_add(&w, l->b.p + l->offs[t], (t + 1 < l->n ? l->offs[t + 1] : l->b.len) -
		           l->offs[t]);
		if (w.len >= WBUF)
			rc = flush_buf(fd, &w, path);
	}
	if (rc == 0)
		rc = flush_buf(fd, &w, path);
	if (close(fd) < 0 && rc == 0) {
		bt_warn("%s:", path);
		rc = -1;
	}
	bt_buf_free(&w);
	free(perm);
	return rc;
}

/* Every line of the requests file into out and err, counted in cnt. */
static int make_lines(struct obatch *ob, const char *key, const struct bstate *s,
                      struct lines *out, struct lines *err, long *cnt)
{
	char *rp = requests_path(ob), e[256];
	const char *p, *end, *nl;
	size_t size = 0;
	void *map = NULL;
	long i = 0;
	int fd, rc = -1;
	jv v, cid, body;

	if ((fd = open(rp, O_RDONLY)) < 0 || !(map = map_file(fd, &size, rp))) {
		bt_warn("%s:", rp);
		goto done;
	}
	for (p = map, end = p + size; p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		if (strspn(p, " \t\r") >= (size_t)(nl - p))
			continue;
		v = bt_json_parse(p, (size_t)(nl - p), e, sizeof e);
		cid = bt_jv_get(v, "custom_id");
		body = bt_jv_get(v, "body");
		if (jv_get_kind(cid) == JV_KIND_STRING)
			cnt[result_line(ob, key, cid, body, i++, s, out, err)]++;
		jv_free(body);
		jv_free(cid);
		jv_free(v);
	}
	rc = i == ob->b.n ? 0 : -1;
	if (rc < 0)
		bt_warn("%s: %ld requests, not %ld", rp, i, ob->b.n);
done:
	if (map)
		unmap_file(map, size);
	if (fd >= 0)
		close(fd);
	free(rp);
	return rc;
}

/* Make the output and error files of an ended batch, once. */
static int ofinalize(struct obatch *ob)
{
	struct lines out = { { 0 }, NULL, 0, 0 }, err = { { 0 }, NULL, 0, 0 };
	char key[40], *op = NULL, *ep = NULL, *path;
	struct bstate s;
	long cnt[4] = { 0 };
	uint64_t rng;
	int rc;

	pthread_mutex_lock(&ob->b.fin);
	pthread_mutex_lock(&mu);
	if (ob->b.finalized) {
		pthread_mutex_unlock(&mu);
		pthread_mutex_unlock(&ob->b.fin);
		return 0;
	}
	batch_state(&ob->b, &s);
	make_name(key, sizeof key, "obatch_", hash_mix(opt_seed * 0x6f61ULL) ^
	          hash_mix(ob->b.seq));
	pthread_mutex_unlock(&mu);
	rng = hash_mix(opt_seed ^ hash_fnv(FNV_START, key, strlen(key)));
	rc = make_lines(ob, key, &s, &out, &err, cnt);
	if (rc == 0 && out.n) {
		op = bt_asprintf("%s/oai-%s.out", opt_dir, ob->b.id);
		rc = lines_write(&out, op, rng);
	}
	if (rc == 0 && err.n) {
		ep = bt_asprintf("%s/oai-%s.err", opt_dir, ob->b.id);
		rc = lines_write(&err, ep, rng ^ 1);
	}
	if (rc == 0) {
		pthread_mutex_lock(&mu);
		if (op) {
			ofile_add(ob->out_id, "batch_output", "batch_output.jsonl", (long long)out.b.len);
			path = ofile_path(ob->out_id);
			rename(op, path);
			free(path);
		}
		if (ep) {
			ofile_add(ob->err_id, "batch_output", "batch_errors.jsonl", (long long)err.b.len);
			path = ofile_path(ob->err_id);
			rename(ep, path);
			free(path);
		}
		memcpy(ob->b.cnt, cnt, sizeof cnt);
		ob->b.finalized = 1;
		pthread_mutex_unlock(&mu);
	} else {
		if (op)
			unlink(op);
		if (ep)
			unlink(ep);
	}
	free(op);
	free(ep);
	bt_buf_free(&out.b);
	bt_buf_free(&err.b);
	free(out.offs);
	free(err.offs);
	pthread_mutex_unlock(&ob->b.fin);
	return rc;
}

/* ---- what a batch shows ---------------------------------------------------------- */

/* ,"key":SECONDS when set, else ,"key":null */
static void ts(struct bt_buf *o, const char *key, int set, int64_t us)
{
	if (set)
		bt_buf_printf(o, ",\"%s\":%lld", key, (long long)(us / US));
	else
		bt_buf_printf(o, ",\"%s\":null", key);
}

/* ,"key":"ID" or ,"key":null */
static void idm(struct bt_buf *o, const char *key, const char *id)
{
	if (*id)
		bt_buf_printf(o, ",\"%s\":\"%s\"", key, id);
	else
		bt_buf_printf(o, ",\"%s\":null", key);
}

/* Under mu.  now before created: as the create answers (validating).
 * Its phases over its processing time: validating the first tenth,
 * in_progress to nine tenths, finalizing the last tenth. */
static void obatch_json(struct bt_buf *o, const struct obatch *ob, int64_t now)
{
	const struct batch *b = &ob->b;
	struct bstate s;
	int64_t inprog = b->created + b->pt / 10, fin = b->created + b->pt * 9 / 10;
	const char *st;
	int ended, cancelled = 0, expired = 0;

	batch_state(b, &s);
	ended = !ob->errors && b->finalized && now >= s.ended;
	if (ended) {
		cancelled = b->cancel && s.rest == BT_R_CANCELED;
		expired = !cancelled && b->cnt[BT_R_EXPIRED] > 0;
	}
	if (ob->errors)
		st = now < b->created ? "validating" : "failed";
	else if (ended)
		st = cancelled ? "cancelled" : expired ? "expired" : "completed";
	else if (b->cancel)
		st = "cancelling";
	else if (now < inprog)
		st = "validating";
	else if (now < fin || s.ended < b->created + b->pt)
		st = "in_progress";     /* one that expires never finalizes */
	else
		st = "finalizing";
	bt_buf_printf(o, "{\"id\":\"%s\",\"object\":\"batch\",\"endpoint\":\"%s\"", b->id,
	              ob->endpoint);
	if (ob->model[0]) {
		bt_buf_adds(o, ",\"model\":");
		bt_json_write_str(o, ob->model, strlen(ob->model));
	}
	if (ob->errors && now >= b->created)
		bt_buf_printf(o, ",\"errors\":{\"object\":\"list\",\"data\":[%s]}", ob->errors);
	else
		bt_buf_adds(o, ",\"errors\":null");
	bt_buf_printf(o, ",\"input_file_id\":\"%s\",\"completion_window\":\"24h\","
	              "\"status\":\"%s\"", ob->input, st);
	idm(o, "output_file_id", ended ? ob->out_id : "");
	idm(o, "error_file_id", ended ? ob->err_id : "");
	ts(o, "created_at", 1, b->created);
	ts(o, "in_progress_at", !ob->errors && now >= inprog && (!b->cancel || b->cancel >= inprog),
	   inprog);
	ts(o, "expires_at", 1, b->expires);
	ts(o, "finalizing_at", !ob->errors && !b->cancel && now >= fin && !expired &&
	   s.ended >= b->created + b->pt, fin);
	ts(o, "completed_at", ended && !cancelled && !expired, s.ended);
	ts(o, "failed_at", ob->errors && now >= b->created, ob->failed_at);
	ts(o, "expired_at", expired, s.ended);
	ts(o, "cancelling_at", b->cancel != 0, b->cancel);
	ts(o, "cancelled_at", cancelled, s.ended);
	bt_buf_printf(o, ",\"request_counts\":{\"total\":%ld,\"completed\":%ld,\"failed\":%ld}",
	              b->n, ended ? b->cnt[BT_R_SUCCEEDED] : 0,
	              ended ? b->n - b->cnt[BT_R_SUCCEEDED] : 0);
	bt_buf_adds(o, ",\"metadata\":");
	bt_buf_adds(o, ob->metadata ? ob->metadata : "null");
	bt_buf_addc(o, '}');
}

/* ---- get, cancel, list ------------------------------------------------------------- */

static struct obatch *ofind(const char *id)
{
	size_t i;

	for (i = 0; i < nobs; i++)
		if (!strcmp(obs[i]->b.id, id))
			return obs[i];
	return NULL;
}

/* Finalize ob if it has ended by now.  Without mu. */
static int orefresh(struct obatch *ob, int64_t now)
{
	int need;

	pthread_mutex_lock(&mu);
	need = !ob->b.finalized && batch_ended(&ob->b, now);
	pthread_mutex_unlock(&mu);
	return need ? ofinalize(ob) : 0;
}

/* The batch of x->id, brought up to date; NULL with the answer in o. */
static struct obatch *olookup(struct conn *x, struct out *o, int64_t *now)
{
	struct obatch *ob;

	*now = now_us();
	pthread_mutex_lock(&mu);
	ob = ofind(x->id);
	pthread_mutex_unlock(&mu);
	if (!ob)
		out_oerror(o, x, 404, NULL, NULL, NULL, "No batch found with id '%.80s'.", x->id);
	else if (orefresh(ob, *now) < 0) {
		out_oerror(o, x, 500, NULL, NULL, NULL, "Internal server error (results)");
		ob = NULL;
	}
	return ob;
}

void do_oget(struct conn *x, struct out *o)
{
	struct obatch *ob;
	int64_t now;

	if (!(ob = olookup(x, o, &now)))
		return;
	pthread_mutex_lock(&mu);
	o->status = 200;
	obatch_json(&o->body, ob, now);
	pthread_mutex_unlock(&mu);
}

void do_ocancel(struct conn *x, struct out *o)
{
	struct obatch *ob;
	int64_t now;

	if (!(ob = olookup(x, o, &now)))
		return;
	pthread_mutex_lock(&mu);
	if (ob->errors || batch_ended(&ob->b, now))
		out_oerror(o, x, 400, NULL, NULL, NULL, "Cannot cancel a batch that has ended "
		           "(%s).", ob->b.id);
	else {
		if (!ob->b.cancel)
			ob->b.cancel = now;
		o->status = 200;
		obatch_json(&o->body, ob, now);
	}
	pthread_mutex_unlock(&mu);
}

void do_olist(struct conn *x, struct out *o)
{
	size_t i, from = 0, to, n;
	int64_t now = now_us();
	long limit = 20;
	char *end;

	if (x->limit) {
		errno = 0;
		limit = strtol(x->limit, &end, 10);
		if (!*x->limit || *end || errno || limit < 1 || limit > 100) {
			out_oerror(o, x, 400, NULL, "limit", NULL,
			           "Invalid 'limit': an integer from 1 to 100.");
			return;
		}
	}
	pthread_mutex_lock(&mu);
	n = nobs;
	/* newest first: position j of the list is obs[n - 1 - j] */
	if (x->after_id) {
		for (from = 0; from < n && strcmp(obs[n - 1 - from]->b.id, x->after_id); from++)
			;
		if (from == n) {
			pthread_mutex_unlock(&mu);
			out_oerror(o, x, 400, NULL, "after", NULL, "No batch found with id '%.80s'.",
			           x->after_id);
			return;
		}
		from++;
	}
	to = n - from > (size_t)limit ? from + (size_t)limit : n;
	pthread_mutex_unlock(&mu);
	/* batches are never freed: the pointers stay good without mu */
	for (i = from; i < to; i++)
		if (orefresh(obs[n - 1 - i], now) < 0) {
			out_oerror(o, x, 500, NULL, NULL, NULL, "Internal server error (results)");
			return;
		}
	pthread_mutex_lock(&mu);
	bt_buf_adds(&o->body, "{\"object\":\"list\",\"data\":[");
	for (i = from; i < to; i++) {
		if (i > from)
			bt_buf_addc(&o->body, ',');
		obatch_json(&o->body, obs[n - 1 - i], now);
	}
	if (from < to)
		bt_buf_printf(&o->body, "],\"first_id\":\"%s\",\"last_id\":\"%s\"",
		              obs[n - 1 - from]->b.id, obs[n - to]->b.id);
	else
		bt_buf_adds(&o->body, "],\"first_id\":null,\"last_id\":null");
	bt_buf_printf(&o->body, ",\"has_more\":%s}", to < n ? "true" : "false");
	pthread_mutex_unlock(&mu);
	o->status = 200;
}

void obatch_stats(size_t *live, long long *requests)
{
	size_t i;

	for (i = 0; i < nobs; i++) {
		++*live;
		*requests += obs[i]->b.n;
	}
}

void obatches_free(void)
{
	size_t i;

	for (i = 0; i < nobs; i++)
		obatch_free(obs[i]);
	free(obs);
	obs = NULL;
	nobs = capobs = 0;
}
