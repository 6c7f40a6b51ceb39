/* provider.c — the seam: one table a provider, and the calls that read it
 *
 * Everything bt knows of a batch API's wire (paths, headers, the names of
 * its fields, its limits and its statuses) is in a struct bt_provider
 * here; programs and the rest of lib/ ask through the bt_batch_* and
 * bt_provider_* calls, never by a path or a field name of their own.
 * Only Anthropic's Message Batches API is built; OpenAI's Batch API has
 * its place (provider "openai"), and choosing it says "not built yet".
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

/* A string member of b (borrowed) into out; -1 when there is none.  (Not
 * api.c's bt_batch_field: the table stands below the calls that use it.) */
static int str_field(jv b, const char *field, char *out, size_t outsz)
{
	jv x = bt_jv_get(b, field);

	if (jv_get_kind(x) != JV_KIND_STRING) {
		jv_free(x);
		return -1;
	}
	snprintf(out, outsz, "%s", jv_string_value(x));
	jv_free(x);
	return 0;
}

/* ---- Anthropic: the Message Batches API ---- */

static void anthropic_auth(const struct bt_config *c, struct curl_slist **h)
{
	char *line;

	if (c->key) {
		line = bt_asprintf("x-api-key: %s", c->key);
		*h = curl_slist_append(*h, line);
		bt_explicit_bzero(line, strlen(line));
		free(line);
	}
	line = bt_asprintf("anthropic-version: %s", c->version);
	*h = curl_slist_append(*h, line);
	free(line);
}

/* processing_status: in_progress, canceling, ended (and ended how: the
 * counts say; an Anthropic batch has no failed state of its own). */
static int anthropic_state(jv b)
{
	char st[32];

	if (str_field(b, "processing_status", st, sizeof st) < 0)
		return -1;
	if (!strcmp(st, "ended"))
		return BT_BATCH_ENDED;
	if (!strcmp(st, "canceling"))
		return BT_BATCH_CANCELING;
	return BT_BATCH_RUNNING;
}

/* A whole count in [0, 2^53] of rc (borrowed): 0 when absent, -2 when bad. */
static long long count_of(jv rc, const char *name)
{
	jv x = bt_jv_get(rc, name);
	long long r = 0;
	double d;

	if (jv_get_kind(x) == JV_KIND_NUMBER) {
		d = jv_number_value(x);
		r = isfinite(d) && d >= 0 && d <= BT_COUNT_MAX && d == floor(d) ? (long long)d : -2;
	} else if (jv_get_kind(x) != JV_KIND_NULL && jv_get_kind(x) != JV_KIND_INVALID)
		r = -2;
	jv_free(x);
	return r;
}

/* request_counts has bt's five classes under bt's own names. */
static int anthropic_counts(jv b, long long c[BT_COUNTS])
{
	static const char *names[BT_COUNTS] = { "processing", "succeeded", "errored",
	                                        "canceled", "expired" };
	int i, bad = 0;
	jv rc;

	if (jv_get_kind(b) != JV_KIND_OBJECT)
		return -1;
	rc = bt_jv_get(b, "request_counts");
	if (jv_get_kind(rc) != JV_KIND_OBJECT) {
		jv_free(rc);
		return -1;
	}
	/* a count is whole, in [0, 2^53]: 1e300, NaN or -1 would make a cast
	 * to long long undefined, or a nonsense total */
	for (i = 0; i < BT_COUNTS; i++)
		bad |= (c[i] = count_of(rc, names[i])) == -2;
	jv_free(rc);
	return bad ? -2 : 0;
}

/* Times are RFC 3339 strings. */
static double anthropic_time(jv b, const char *field, char *out, size_t outsz)
{
	char at[64];

	if (out && outsz)
		out[0] = 0;
	if (str_field(b, field, at, sizeof at) < 0)
		return -1;
	if (out)
		snprintf(out, outsz, "%s", at);
	return bt_rfc3339_parse(at);
}

/* The results are one download, named by the batch's id. */
static int anthropic_results(jv b, const char *id, char paths[][BT_PATH_MAX])
{
	(void)b;
	snprintf(paths[0], BT_PATH_MAX, "/v1/messages/batches/%s/results", id);
	return 1;
}

/* One POST: the chunk's lines inside {"requests":[...]}, streamed. */
static int anthropic_create(struct bt_http *h, struct bt_create *cr, struct bt_resp *resp)
{
	struct bt_req req;

	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = "/v1/messages/batches";
	req.body_fd = cr->fd;
	req.body_size = cr->size;
	req.body_chunk = 1;
	req.body_end = cr->body_end;
	req.body_end_arg = cr->arg;
	if (cr->splice) {
		req.splice = cr->splice;
		req.splice_len = strlen(cr->splice);
		req.splice_at = cr->splice_at;
		req.splice_cut = cr->splice_cut;
	}
	return bt_http(h, &req, resp);
}

static const struct bt_provider anthropic = {
	.name = "anthropic",
	.env_key = "ANTHROPIC_API_KEY",
	.env_base = "ANTHROPIC_BASE_URL",
	.default_base = "https://api.anthropic.com",
	.env_version = "ANTHROPIC_VERSION",
	.default_version = "2023-06-01",
	.auth = anthropic_auth,
	.batch_path = "/v1/messages/batches/%s",
	.cancel_path = "/v1/messages/batches/%s/cancel",
	.delete_path = "/v1/messages/batches/%s",
	.list_path = "/v1/messages/batches",
	.list_after = "after_id",
	.list_limit_max = 1000,
	.send_path = "/v1/messages",
	.count_tokens_path = "/v1/messages/count_tokens",
	.ratelimit_prefix = "anthropic-ratelimit-",
	.max_requests = BT_MAX_REQUESTS,
	.max_bytes = BT_MAX_BODY,
	.envelope = BT_ENVELOPE,
	.id_prefix = "msgbatch_",
	.object_field = "type",
	.object_type = "message_batch",
	.status_field = "processing_status",
	.counts_field = "request_counts",
	.created_field = "created_at",
	.expires_field = "expires_at",
	.archived_field = "archived_at",
	.state = anthropic_state,
	.counts = anthropic_counts,
	.time = anthropic_time,
	.results = anthropic_results,
	.create = anthropic_create,
	.built = 1,
};

/* ---- OpenAI: the Batch API (openai-batch.md) ----
 *
 * The base includes /v1 (OPENAI_BASE_URL's convention), so paths do not.
 * A create is two transfers: the chunk is uploaded as a file (free; its
 * id is journaled and a retry reuses it), then the batch is created from
 * it (paid) with metadata {"bt_nonce": NONCE}: after a create that got no
 * answer, the batch that carries the nonce is ours and no other can be. */

#define OPENAI_FILE_LIFE    604800      /* the uploaded chunk: 7 days */
#define OPENAI_OUTPUT_LIFE  2592000     /* the result files: 30 days */

static void openai_auth(const struct bt_config *c, struct curl_slist **h)
{
	char *line;

	if (c->key) {
		/* Azure OpenAI's header, or OpenAI's */
		line = c->alt ? bt_asprintf("api-key: %s", c->key) :
		       bt_asprintf("authorization: Bearer %s", c->key);
		*h = curl_slist_append(*h, line);
		bt_explicit_bzero(line, strlen(line));
		free(line);
	}
}

/* validating, in_progress, finalizing: running; cancelling; completed,
 * failed (validation), expired, cancelled: ended. */
static int openai_state(jv b)
{
	static const char *const ended[] = { "completed", "failed", "expired", "cancelled", NULL };
	char st[32];
	int i;

	if (str_field(b, "status", st, sizeof st) < 0)
		return -1;
	for (i = 0; ended[i]; i++)
		if (!strcmp(st, ended[i]))
			return BT_BATCH_ENDED;
	if (!strcmp(st, "cancelling"))
		return BT_BATCH_CANCELING;
	return BT_BATCH_RUNNING;
}

/* request_counts {total, completed, failed}, in bt's classes: completed
 * succeeded, failed errored, and the rest processing while it runs; once
 * ended, the rest never ran: expired, or canceled (openai-batch.md: the
 * API has no breakdown of its own). */
static int openai_counts(jv b, long long c[BT_COUNTS])
{
	long long total, done, failed, rest;
	int st = openai_state(b);
	char status[32] = "";
	jv rc;

	rc = bt_jv_get(b, "request_counts");
	if (jv_get_kind(rc) != JV_KIND_OBJECT) {
		jv_free(rc);
		return -1;
	}
	total = count_of(rc, "total");
	done = count_of(rc, "completed");
	failed = count_of(rc, "failed");
	jv_free(rc);
	memset(c, 0, sizeof(long long) * BT_COUNTS);
	if (total < 0 || done < 0 || failed < 0 || done + failed > total) {
		c[BT_COUNT_PROCESSING] = total < 0 || done + failed > total ? -2 : total;
		c[BT_COUNT_SUCCEEDED] = done;
		c[BT_COUNT_ERRORED] = failed;
		return -2;
	}
	rest = total - done - failed;
	c[BT_COUNT_SUCCEEDED] = done;
	c[BT_COUNT_ERRORED] = failed;
	str_field(b, "status", status, sizeof status);
	if (st != BT_BATCH_ENDED)
		c[BT_COUNT_PROCESSING] = rest;
	else if (!strcmp(status, "expired"))
		c[BT_COUNT_EXPIRED] = rest;
	else if (!strcmp(status, "cancelled"))
		c[BT_COUNT_CANCELED] = rest;
	else
		c[BT_COUNT_ERRORED] += rest;
	return 0;
}

/* Times are Unix seconds (null when unset); the text is RFC 3339. */
static double openai_time(jv b, const char *field, char *out, size_t outsz)
{
	jv x = bt_jv_get(b, field);
	char at[32];
	double t = -1;

	if (out && outsz)
		out[0] = 0;
	if (jv_get_kind(x) == JV_KIND_NUMBER && isfinite(jv_number_value(x)) &&
	    jv_number_value(x) >= 0 && jv_number_value(x) < 1e11) {
		t = jv_number_value(x);
		bt_rfc3339(t, at);
		if (out)
			snprintf(out, outsz, "%s", at);
	}
	jv_free(x);
	return t;
}

/* The output file (successes) and the error file (failures): either may
 * be null. */
static int openai_results(jv b, const char *id, char paths[][BT_PATH_MAX])
{
	static const char *const fields[] = { "output_file_id", "error_file_id" };
	char f[BT_BATCH_ID_MAX];
	int i, n = 0;

	(void)id;
	for (i = 0; i < 2; i++)
		if (str_field(b, fields[i], f, sizeof f) == 0 && f[0] &&
		    bt_custom_id_ok(f, strlen(f)))
			snprintf(paths[n++], BT_PATH_MAX, "/files/%s/content", f);
	return n;
}

static int openai_tag(jv b, char *out, size_t outsz)
{
	jv md = bt_jv_get(b, "metadata");
	int r = str_field(md, "bt_nonce", out, outsz);

	jv_free(md);
	return r;
}

/* Upload the chunk (multipart, streamed from its file): its file id into
 * cr->file_id, journaled by cr->uploaded.  0, or -1 as bt_http. */
static int openai_upload(struct bt_http *h, struct bt_create *cr, struct bt_resp *resp)
{
	const char *bd = bt_http_boundary(h);
	char *head, *tail, err[200];
	struct bt_req req;
	jv f;
	int r;

	head = bt_asprintf("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n"
	                   "batch\r\n--%s\r\nContent-Disposition: form-data; "
	                   "name=\"expires_after[anchor]\"\r\n\r\ncreated_at\r\n--%s\r\n"
	                   "Content-Disposition: form-data; name=\"expires_after[seconds]\""
	                   "\r\n\r\n%d\r\n--%s\r\nContent-Disposition: form-data; "
	                   "name=\"file\"; filename=\"%s%s\"\r\nContent-Type: "
	                   "application/jsonl\r\n\r\n", bd, bd, bd, OPENAI_FILE_LIFE, bd,
	                   cr->sha, ".jsonl");
	tail = bt_asprintf("\r\n--%s--\r\n", bd);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = "/files";
	req.body_fd = cr->fd;
	req.body_size = cr->size;
	req.body_head = head;
	req.body_tail = tail;
	req.form = 1;
	req.may_repeat = 1;     /* a file uploaded twice costs nothing */
	req.label = cr->path;
	r = bt_http(h, &req, resp);
	free(head);
	free(tail);
	if (r < 0)
		return -1;
	f = bt_json_parse(resp->body.p ? resp->body.p : "", resp->body.len, err, sizeof err);
	if (str_field(f, "id", cr->file_id, BT_BATCH_ID_MAX) < 0 ||
	    !bt_custom_id_ok(cr->file_id, strlen(cr->file_id))) {
		cr->file_id[0] = 0;
		snprintf(resp->err, sizeof resp->err, "POST /files: bad answer: no file id%s%s",
		         resp->request_id[0] ? " request-id " : "", resp->request_id);
		jv_free(f);
		return -1;
	}
	jv_free(f);
	bt_resp_free(resp);
	if (cr->uploaded)
		cr->uploaded(cr->arg);
	return 0;
}

/* Upload (unless a file is kept from an earlier attempt), then create
 * the batch, tagged.  A create from a kept file that the server no longer
 * has (404, or a 400 naming input_file_id) uploads it again, once. */
static int openai_create(struct bt_http *h, struct bt_create *cr, struct bt_resp *resp)
{
	struct bt_buf body = { 0 };
	struct bt_req req;
	int r, kept = cr->file_id[0] != 0;

	if (!kept && openai_upload(h, cr, resp) < 0)
		return -1;
	bt_buf_printf(&body, "{\"input_file_id\":\"%s\",\"endpoint\":\"%s\","
	              "\"completion_window\":\"24h\"", cr->file_id, cr->endpoint);
	if (cr->nonce)
		bt_buf_printf(&body, ",\"metadata\":{\"bt_nonce\":\"%s\"}", cr->nonce);
	bt_buf_printf(&body, ",\"output_expires_after\":{\"anchor\":\"created_at\","
	              "\"seconds\":%d}}", OPENAI_OUTPUT_LIFE);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = "/batches";
	req.body = body.p;
	req.body_len = body.len;
	req.body_fd = -1;
	req.body_end = cr->body_end;
	req.body_end_arg = cr->arg;
	req.label = cr->path;
	r = bt_http(h, &req, resp);
	if (r < 0 && kept && !resp->ambiguous &&
	    (resp->status == 404 || (resp->status == 400 && resp->body.p &&
	                             strstr(resp->body.p, "input_file_id")))) {
		bt_resp_free(resp);
		cr->file_id[0] = 0;
		r = openai_upload(h, cr, resp) < 0 ? -1 : bt_http(h, &req, resp);
	}
	bt_buf_free(&body);
	return r;
}

/* The custom_id on line ln of chunk (NULL: not known): 0, or -1. */
static int id_on_line(const char *chunk, long long ln, char id[BT_ID_MAX + 1])
{
	struct bt_lines l;
	struct bt_request r;
	char err[200];
	size_t n;
	char *s;
	int found = -1;

	if (!chunk || ln < 1 || bt_lines_open_regular(&l, chunk) < 0)
		return -1;
	while ((s = bt_lines_next(&l, &n)))
		if ((long long)l.lineno == ln) {
			if (bt_request_read(s, n, &r, err, sizeof err) == 0) {
				memcpy(id, r.id, BT_ID_MAX + 1);
				found = 0;
			}
			break;
		}
	bt_lines_close(&l);
	return found;
}

/* status "failed": the file did not validate; errors.data[] says why,
 * with line numbers (mapped back to custom_ids through the chunk). */
static int openai_failure(jv b, const char *chunk, char *out, size_t outsz)
{
	struct bt_buf m = { 0 };
	char st[32], code[64], id[BT_ID_MAX + 1];
	jv errs, data, e, x;
	int i, n;

	if (str_field(b, "status", st, sizeof st) < 0 || strcmp(st, "failed"))
		return 0;
	errs = bt_jv_get(b, "errors");
	data = bt_jv_get(errs, "data");
	n = jv_get_kind(data) == JV_KIND_ARRAY ? jv_array_length(jv_copy(data)) : 0;
	for (i = 0; i < n && m.len < 600; i++) {
		e = jv_array_get(jv_copy(data), i);
		x = bt_jv_get(e, "line");
		bt_buf_adds(&m, i ? "; " : "");
		if (jv_get_kind(x) == JV_KIND_NUMBER) {
			bt_buf_printf(&m, "line %lld", (long long)jv_number_value(x));
			if (id_on_line(chunk, (long long)jv_number_value(x), id) == 0)
				bt_buf_printf(&m, " (custom_id \"%s\")", id);
			bt_buf_adds(&m, ": ");
		}
		jv_free(x);
		if (str_field(e, "code", code, sizeof code) == 0)
			bt_buf_printf(&m, "%s: ", code);
		x = bt_jv_get(e, "message");
		bt_buf_printf(&m, "%s", jv_get_kind(x) == JV_KIND_STRING ?
		              jv_string_value(x) : "(no message)");
		jv_free(x);
		jv_free(e);
	}
	if (i < n)
		bt_buf_printf(&m, "; and %d more", n - i);
	if (!n)
		bt_buf_adds(&m, "no errors given");
	snprintf(out, outsz, "%s", bt_buf_str(&m));
	bt_buf_free(&m);
	jv_free(data);
	jv_free(errs);
	return 1;
}

static const struct bt_provider openai = {
	.name = "openai",
	.env_key = "OPENAI_API_KEY",
	.env_base = "OPENAI_BASE_URL",
	.default_base = "https://api.openai.com/v1",
	.env_alt_base = "AZURE_OPENAI_ENDPOINT",
	.alt_base_path = "/openai",
	.env_alt_key = "AZURE_OPENAI_API_KEY",
	.env_alt_version = "OPENAI_API_VERSION",
	.default_alt_version = "2024-10-21",
	.alt_version_param = "api-version",
	.auth = openai_auth,
	.batch_path = "/batches/%s",
	.cancel_path = "/batches/%s/cancel",
	.delete_path = NULL,    /* a batch is not deleted; its files expire */
	.list_path = "/batches",
	.list_after = "after",
	.list_limit_max = 100,
	.send_path = "/chat/completions",
	.line_url_base = "/v1",
	.ratelimit_prefix = "x-ratelimit-",
	.max_requests = BT_OPENAI_MAX_REQUESTS,
	.max_bytes = BT_OPENAI_MAX_BYTES,
	.envelope = 0,
	.id_prefix = "batch_",
	.object_field = "object",
	.object_type = "batch",
	.status_field = "status",
	.counts_field = "request_counts",
	.created_field = "created_at",
	.expires_field = "expires_at",
	.archived_field = NULL,
	.state = openai_state,
	.counts = openai_counts,
	.time = openai_time,
	.results = openai_results,
	.create = openai_create,
	.tag = openai_tag,
	.failure = openai_failure,
	.built = 1,
};

/* by BT_PROVIDER_* */
static const struct bt_provider *const providers[] = {
	[BT_PROVIDER_ANTHROPIC] = &anthropic, [BT_PROVIDER_OPENAI] = &openai
};
static const struct bt_provider *current = &anthropic;

/* The table of a provider's name (the names are bt_provider_from_name's,
 * which orders the table), or NULL. */
const struct bt_provider *bt_provider_find(const char *name)
{
	int id = bt_provider_from_name(name);

	return id < 0 ? NULL : providers[id];
}

const struct bt_provider *bt_provider_use(const char *name, const char *what)
{
	const struct bt_provider *p = providers[bt_provider_choose(name, what)];

	if (!p->built)
		bt_die(BT_EXIT_USAGE, "provider %s: not built yet", p->name);
	current = p;
	return p;
}

const struct bt_provider *bt_provider(void)
{
	return current;
}

/* ---- the calls ---- */

int bt_batch_state(jv b)
{
	return current->state(b);
}

int bt_batch_counts(jv b, long long c[BT_COUNTS])
{
	return current->counts(b, c);
}

double bt_batch_time(jv b, int which, char *out, size_t outsz)
{
	const char *f = which == BT_TIME_CREATED ? current->created_field :
	                which == BT_TIME_EXPIRES ? current->expires_field :
	                current->archived_field;

	if (!f) {
		if (out && outsz)
			out[0] = 0;
		return -1;
	}
	return current->time(b, f, out, outsz);
}

void bt_batch_path(char out[BT_PATH_MAX], const char *fmt, const char *id)
{
	snprintf(out, BT_PATH_MAX, fmt, id);
}

int bt_batch_results(jv b, const char *id, char paths[][BT_PATH_MAX])
{
	return current->results(b, id, paths);
}

int bt_batch_failure(jv b, const char *chunk, char *out, size_t outsz)
{
	return current->failure ? current->failure(b, chunk, out, outsz) : 0;
}

int bt_batch_create(struct bt_http *h, struct bt_create *cr, struct bt_resp *resp)
{
	return current->create(h, cr, resp);
}

const char *bt_send_path(const struct bt_config *c, const struct bt_request *r)
{
	static char path[BT_MODEL_MAX + BT_URL_MAX + 32];
	size_t n = current->line_url_base ? strlen(current->line_url_base) : 0;
	const char *p = r->url[0] ? r->url : current->send_path;

	/* a line's url is under the API's root; the base URL ends there */
	if (r->url[0] && n && !strncmp(r->url, current->line_url_base, n))
		p = r->url + n;
	if (!c->alt)
		return p;
	/* Azure OpenAI: under the deployment, which the model names */
	snprintf(path, sizeof path, "/deployments/%s%s", r->model, p);
	return path;
}

jv bt_batch_summary(jv b)
{
	static const char *const states[] = { "in_progress", "canceling", "ended" };
	static const char *const names[BT_COUNTS] = { "processing", "succeeded", "errored",
	                                              "canceled", "expired" };
	long long c[BT_COUNTS];
	char id[BT_BATCH_ID_MAX], at[64];
	int st = bt_batch_state(b), i, r = bt_batch_counts(b, c);
	jv o = jv_object(), counts = jv_object();

	bt_batch_field(b, "id", id, sizeof id);
	o = jv_object_set(o, jv_string("id"), jv_string(id));
	o = jv_object_set(o, jv_string("provider"), jv_string(current->name));
	o = jv_object_set(o, jv_string("state"), st < 0 ? jv_null() : jv_string(states[st]));
	for (i = 0; i < BT_COUNTS; i++)
		counts = jv_object_set(counts, jv_string(names[i]),
		                       r == -1 || c[i] < 0 ? jv_null() : jv_number((double)c[i]));
	o = jv_object_set(o, jv_string("counts"), counts);
	bt_batch_time(b, BT_TIME_CREATED, at, sizeof at);
	o = jv_object_set(o, jv_string("created_at"), at[0] ? jv_string(at) : jv_null());
	bt_batch_time(b, BT_TIME_EXPIRES, at, sizeof at);
	o = jv_object_set(o, jv_string("expires_at"), at[0] ? jv_string(at) : jv_null());
	return o;
}
