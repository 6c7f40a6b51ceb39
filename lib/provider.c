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

/* request_counts has bt's five classes under bt's own names. */
static int anthropic_counts(jv b, long long c[BT_COUNTS])
{
	static const char *names[BT_COUNTS] = { "processing", "succeeded", "errored",
	                                        "canceled", "expired" };
	int i, bad = 0;
	double d;
	jv rc, x;

	if (jv_get_kind(b) != JV_KIND_OBJECT)
		return -1;
	rc = jv_object_get(jv_copy(b), jv_string("request_counts"));
	if (jv_get_kind(rc) != JV_KIND_OBJECT) {
		jv_free(rc);
		return -1;
	}
	for (i = 0; i < BT_COUNTS; i++) {
		c[i] = 0;
		x = jv_object_get(jv_copy(rc), jv_string(names[i]));
		if (jv_get_kind(x) == JV_KIND_NUMBER) {
			/* a count is whole, in [0, 2^53]: 1e300, NaN or -1 would
			 * make a cast to long long undefined, or a nonsense total */
			d = jv_number_value(x);
			if (isfinite(d) && d >= 0 && d <= BT_COUNT_MAX && d == floor(d))
				c[i] = (long long)d;
			else
				c[i] = -2, bad = 1;
		} else if (jv_get_kind(x) != JV_KIND_NULL && jv_get_kind(x) != JV_KIND_INVALID)
			c[i] = -2, bad = 1;
		jv_free(x);
	}
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

/* ---- OpenAI: the Batch API (not built yet) ----
 *
 * What its table will say (openai-batch.md): Authorization: Bearer
 * $OPENAI_API_KEY; OPENAI_BASE_URL, default https://api.openai.com/v1
 * (the base includes /v1, so its paths do not); create uploads the chunk
 * (POST /files, purpose=batch; the file id goes to the journal through
 * bt_create.uploaded, and a retry reuses it), then POST /batches with
 * metadata {"bt_nonce": NONCE}; GET /batches/%s; POST /batches/%s/cancel;
 * GET /batches?limit=&after=; statuses validating, in_progress,
 * finalizing (running), cancelling (canceling), completed, failed,
 * expired, cancelled (ended); request_counts {total, completed, failed};
 * results: GET /files/ID/content of output_file_id and error_file_id;
 * send: /chat/completions or /embeddings; x-ratelimit-*; 50,000 lines and
 * 200 MB a file; ids "batch_"; times in Unix seconds. */
static const struct bt_provider openai = {
	.name = "openai",
	.env_key = "OPENAI_API_KEY",
	.env_base = "OPENAI_BASE_URL",
	.default_base = "https://api.openai.com/v1",
	.id_prefix = "batch_",
	.object_type = "batch",
	.max_requests = 50000,
	.max_bytes = 200LL * 1000 * 1000,
	.built = 0,
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

int bt_batch_create(struct bt_http *h, struct bt_create *cr, struct bt_resp *resp)
{
	return current->create(h, cr, resp);
}
