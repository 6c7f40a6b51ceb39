/* endpoints.c — what each endpoint does with a request that has passed
 * routing, faults and the key check (http.c) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mock.h"

static void not_found(struct out *o, const struct conn *x)
{
	out_error(o, x, 404, "No message batch found with id '%.80s'", x->id);
}

static void too_large(struct out *o, const struct conn *x)
{
	out_error(o, x, 413, "Request exceeds the maximum allowed number of bytes (%lld)",
	          opt_max_body);
}

/* ---- create ------------------------------------------------------------------ */

/* Validate the spooled body into the requests file *tmp (to unlink and
 * free): the count of requests, or -1 with the answer in o. */
static long spool_requests(struct conn *x, struct out *o, char **tmp)
{
	char msg[512];
	const char *map;
	size_t size = 0;
	uint64_t c;
	long n;
	int fd;

	if (!(map = map_file(x->fd, &size, x->spool))) {
		out_error(o, x, 500, "Internal server error (spool)");
		return -1;
	}
	pthread_mutex_lock(&mu);
	c = ++spool_counter;
	pthread_mutex_unlock(&mu);
	*tmp = bt_asprintf("%s/.spool-%" PRIu64 ".requests", opt_dir, c);
	if ((fd = open(*tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0) {
		bt_warn("%s:", *tmp);
		unmap_file((void *)map, size);
		out_error(o, x, 500, "Internal server error (requests file)");
		return -1;
	}
	n = validate_create(map, size, fd, *tmp, msg, sizeof msg);
	if (close(fd) < 0 && n >= 0) {
		bt_warn("%s:", *tmp);
		n = -1;
		snprintf(msg, sizeof msg, "cannot write the batch");
	}
	unmap_file((void *)map, size);
	if (n < 0)
		out_error(o, x, strncmp(msg, "cannot", 6) ? 400 : 500, "%s", msg);
	return n;
}

/* Make the batch of the n requests in file tmp, unless the queue is full. */
static void batch_create(struct conn *x, struct out *o, const char *tmp, long n)
{
	int64_t now = now_us();
	struct batch *b;
	char *path;

	pthread_mutex_lock(&mu);
	if (queued(now) + n > opt_queue_limit) {
		pthread_mutex_unlock(&mu);
		out_error(o, x, 429, "Number of batch requests waiting (%ld more) would exceed "
		          "the queue limit of %lld", n, opt_queue_limit);
		strcpy(o->retry_after, "1");
		return;
	}
	b = batch_new();
	b->seq = ++batch_counter;
	make_id(b->id, sizeof b->id, "msgbatch_",
	        hash_mix(opt_seed * 0x9e3779b97f4a7c15ULL) ^ hash_mix(b->seq));
	/* (its outcomes follow batch_key, the seed's name for it) */
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
		batch_free(b);
		out_error(o, x, 500, "Internal server error (state)");
		return;
	}
	free(path);
	batch_append(b);
	st_creates++;
	o->status = 200;
	batch_json(&o->body, b, now);
	pthread_mutex_unlock(&mu);
}

void do_create(struct conn *x, struct out *o)
{
	char *tmp = NULL;
	long n;

	if (x->over) {
		too_large(o, x);
		return;
	}
	if (x->fd < 0) {
		out_error(o, x, 500, "Internal server error (no spool)");
		return;
	}
	if ((n = spool_requests(x, o, &tmp)) >= 0)
		batch_create(x, o, tmp, n);
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
}

/* ---- one batch ---------------------------------------------------------------- */

/* The batch of x->id, brought up to date as of *now; NULL with the answer
 * in o. */
static struct batch *lookup(struct conn *x, struct out *o, int64_t *now)
{
	struct batch *b;

	*now = now_us();
	pthread_mutex_lock(&mu);
	b = batch_find(x->id);
	pthread_mutex_unlock(&mu);
	if (!b) {
		not_found(o, x);
		return NULL;
	}
	if (refresh(b, *now) < 0) {
		out_error(o, x, 500, "Internal server error (results)");
		return NULL;
	}
	return b;
}

void do_get(struct conn *x, struct out *o)
{
	struct batch *b;
	int64_t now;

	if (!(b = lookup(x, o, &now)))
		return;
	pthread_mutex_lock(&mu);
	if (b->deleted)
		not_found(o, x);
	else {
		o->status = 200;
		batch_json(&o->body, b, now);
	}
	pthread_mutex_unlock(&mu);
}

void do_cancel(struct conn *x, struct out *o)
{
	struct batch *b;
	int64_t now;

	if (!(b = lookup(x, o, &now)))
		return;
	pthread_mutex_lock(&mu);
	if (b->deleted)
		not_found(o, x);
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

void do_delete(struct conn *x, struct out *o)
{
	static const char *const files[] = { ".meta", ".requests", ".results" };
	struct batch *b;
	int64_t now = now_us();
	char *path;
	size_t i;

	pthread_mutex_lock(&mu);
	b = batch_find(x->id);
	if (!b)
		not_found(o, x);
	else if (!batch_ended(b, now))
		out_error(o, x, 400, "Message batch %s cannot be deleted while it is still "
		          "processing; cancel it first", b->id);
	else {
		b->deleted = 1;
		for (i = 0; i < sizeof files / sizeof files[0]; i++) {
			path = path_of(b->id, files[i]);
			unlink(path);
			free(path);
		}
		o->status = 200;
		bt_buf_printf(&o->body, "{\"id\":\"%s\",\"type\":\"message_batch_deleted\"}", b->id);
	}
	pthread_mutex_unlock(&mu);
}

void do_results(struct conn *x, struct out *o)
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
		not_found(o, x);
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

/* ---- the list ------------------------------------------------------------------ */

/* The query's limit, into *limit; -1 with the answer in o. */
static int list_limit(struct conn *x, struct out *o, long *limit)
{
	char *end;

	*limit = 20;
	if (x->limit) {
		errno = 0;
		*limit = strtol(x->limit, &end, 10);
		if (!*x->limit || *end || errno) {
			out_error(o, x, 400, "limit: Input should be a valid integer, "
			          "unable to parse string as an integer");
			return -1;
		}
		if (*limit < 1 || *limit > 1000) {
			out_error(o, x, 400, "limit: Input should be %s", *limit < 1 ?
			          "greater than or equal to 1" : "less than or equal to 1000");
			return -1;
		}
	}
	if (x->after_id && x->before_id) {
		out_error(o, x, 400, "Cannot specify both after_id and before_id");
		return -1;
	}
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct batch *x = *(struct batch *const *)a, *y = *(struct batch *const *)b;

	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return x->seq > y->seq ? -1 : x->seq < y->seq;
}

/* The page of all[0..n) (newest first) that the query asks for: all[*from
 * .. *to), and whether there is more in its direction.  -1 when its
 * cursor is not a batch. */
static int list_page(const struct conn *x, struct batch **all, size_t n, long limit,
                     size_t *from, size_t *to, int *more)
{
	const char *cursor = x->after_id ? x->after_id : x->before_id;
	size_t pos, lim = (size_t)limit;

	*from = 0;
	*to = n < lim ? n : lim;
	*more = n > *to;
	if (!cursor)
		return 0;
	for (pos = 0; pos < n; pos++)
		if (!strcmp(all[pos]->id, cursor))
			break;
	if (pos == n)
		return -1;
	if (x->after_id) {
		*from = pos + 1;
		*to = *from + lim < n ? *from + lim : n;
		*more = *to < n;
	} else {
		*to = pos;
		*from = pos > lim ? pos - lim : 0;
		*more = *from > 0;
	}
	return 0;
}

void do_list(struct conn *x, struct out *o)
{
	struct batch **all;
	size_t i, n = 0, from, to;
	int64_t now = now_us();
	long limit;
	int more;

	if (list_limit(x, o, &limit) < 0)
		return;
	pthread_mutex_lock(&mu);
	all = bt_malloc((nbatches + 1) * sizeof *all);
	for (i = 0; i < nbatches; i++)
		if (!batches[i]->deleted)
			all[n++] = batches[i];
	qsort(all, n, sizeof *all, newest_first);
	if (list_page(x, all, n, limit, &from, &to, &more) < 0) {
		pthread_mutex_unlock(&mu);
		out_error(o, x, 400, "%s: no message batch with id '%.80s'",
		          x->after_id ? "after_id" : "before_id",
		          x->after_id ? x->after_id : x->before_id);
		free(all);
		return;
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

/* ---- messages ------------------------------------------------------------------ */

jv body_object(struct conn *x, struct out *o)
{
	char err[256];
	jv v;

	if (x->over) {
		too_large(o, x);
		return jv_invalid();
	}
	v = bt_json_parse(x->body.p ? x->body.p : "", x->body.len, err, sizeof err);
	if (!jv_is_valid(v)) {
		jv_free(v);
		out_error(o, x, 400, "There was an error parsing the body of your request: "
		          "invalid JSON: %s", err);
		return jv_invalid();
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		out_error(o, x, 400, "Input should be a valid dictionary");
		return jv_invalid();
	}
	return v;
}

void do_messages(struct conn *x, struct out *o)
{
	char msg[256];
	uint64_t h;
	double wait;
	jv p, m;

	p = body_object(x, o);
	if (!jv_is_valid(p))
		return;
	if (check_params(p, 0, msg, sizeof msg) < 0) {
		out_error(o, x, 400, "%s", msg);
		jv_free(p);
		return;
	}
	if (check_model_known(p, msg, sizeof msg) < 0) {
		out_error(o, x, 404, "%s", msg);
		jv_free(p);
		return;
	}
	m = bt_jv_get(p, "max_tokens");
	wait = limits_take((double)bt_cost_estimate_input(p),
	                   jv_get_kind(m) == JV_KIND_NUMBER ? jv_number_value(m) : 0, o);
	jv_free(m);
	if (wait > 0) {
		out_error(o, x, 429, "This request would exceed your organization's "
		          "rate limit; please retry after %.0f s", ceil(wait));
		snprintf(o->retry_after, sizeof o->retry_after, "%.0f", ceil(wait));
	} else {
		if (opt_latency > 0)
			nap((double)opt_latency / 1e6);
		pthread_mutex_lock(&mu);
		h = hash_mix(opt_seed ^ 0x6d657373ULL) ^ hash_mix(++msg_counter);
		pthread_mutex_unlock(&mu);
		o->status = 200;
		message_json(&o->body, p, h, "standard", &msg_cache, &mu);
	}
	jv_free(p);
}

void do_count(struct conn *x, struct out *o)
{
	char msg[256];
	jv p;

	p = body_object(x, o);
	if (!jv_is_valid(p))
		return;
	if (check_count_params(p, msg, sizeof msg) < 0)
		out_error(o, x, 400, "%s", msg);
	else if (check_model_known(p, msg, sizeof msg) < 0)
		out_error(o, x, 404, "%s", msg);
	else {
		/* the estimate rule is bt-mock's rule: ceil(bytes / 4), at least 1 */
		o->status = 200;
		bt_buf_printf(&o->body, "{\"input_tokens\":%lld}", bt_cost_estimate_input(p));
	}
	jv_free(p);
}

/* ---- /_mock -------------------------------------------------------------------- */

void do_faults(struct conn *x, struct out *o)
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

void do_faults_clear(struct conn *x, struct out *o)
{
	(void)x;
	pthread_mutex_lock(&mu);
	fault_clear();
	pthread_mutex_unlock(&mu);
	o->status = 200;
	bt_buf_adds(&o->body, "{}");
}

void do_stats(struct conn *x, struct out *o)
{
	size_t i, live = 0;
	long long reqs = 0;

	(void)x;
	pthread_mutex_lock(&mu);
	for (i = 0; i < nbatches; i++)
		if (!batches[i]->deleted) {
			live++;
			reqs += batches[i]->n;
		}
	obatch_stats(&live, &reqs);
	bt_buf_printf(&o->body, "{\"batches\":%zu,\"creates\":%llu,\"requests\":%lld,"
	              "\"http\":%llu,\"faults\":%zu,\"answered\":%llu}", live, st_creates, reqs,
	              st_http, fault_count(), (unsigned long long)msg_counter);
	pthread_mutex_unlock(&mu);
	o->status = 200;
}
