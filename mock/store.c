/* store.c — the batches: in memory behind mu, on disk as state files in
 * the state directory (ID.meta, ID.requests, ID.results, counter), and
 * what a batch is at a given time */
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock.h"

pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
struct batch **batches;
size_t nbatches;
static size_t capbatches;
uint64_t batch_counter, spool_counter, msg_counter;
static uint64_t rid_counter;
unsigned long long st_creates, st_http;
struct pset msg_cache;

void new_rid(char out[32])
{
	make_id(out, 32, "req_", opt_seed * 0x51ed27ULL ^ hash_mix(0x5151 + ++rid_counter));
}

struct batch *batch_new(void)
{
	struct batch *b = bt_calloc(1, sizeof *b);

	pthread_mutex_init(&b->fin, NULL);
	return b;
}

void batch_free(struct batch *b)
{
	pthread_mutex_destroy(&b->fin);
	free(b);
}

void batch_append(struct batch *b)
{
	if (nbatches == capbatches) {
		capbatches = capbatches ? 2 * capbatches : 64;
		batches = bt_realloc(batches, capbatches * sizeof *batches);
	}
	batches[nbatches++] = b;
}

struct batch *batch_find(const char *id)
{
	size_t i;

	for (i = 0; i < nbatches; i++)
		if (!batches[i]->deleted && strcmp(batches[i]->id, id) == 0)
			return batches[i];
	return NULL;
}

/* ---- a batch in time -------------------------------------------------------- */

/* Requests of b processed by time t: evenly over its processing time. */
static long processed_by(const struct batch *b, int64_t t)
{
	double k;

	if (t >= b->created + b->pt || b->pt <= 0)
		return b->n;
	if (t <= b->created)
		return 0;
	k = floor((double)(t - b->created) * (double)b->n / (double)b->pt);
	return k >= b->n ? b->n : (long)k;
}

void batch_state(const struct batch *b, struct bstate *s)
{
	int64_t end, cutoff;

	if (b->cancel) {
		end = b->cancel + b->ct;
		cutoff = b->cancel;
		s->rest = BT_R_CANCELED;
	} else {
		end = cutoff = b->created + b->pt;
		s->rest = BT_R_EXPIRED;
	}
	if (end > b->expires) {
		end = b->expires;
		if (cutoff > b->expires)
			cutoff = b->expires;
		s->rest = BT_R_EXPIRED;
	}
	s->ended = end;
	s->k = processed_by(b, cutoff);
}

int batch_ended(const struct batch *b, int64_t now)
{
	struct bstate s;

	batch_state(b, &s);
	return now >= s.ended;
}

/* ,"key":"TIME" when set, else ,"key":null */
static void time_member(struct bt_buf *o, const char *key, int set, int64_t us)
{
	char t[32];

	if (!set) {
		bt_buf_printf(o, ",\"%s\":null", key);
		return;
	}
	bt_rfc3339((double)us / US, t);
	bt_buf_printf(o, ",\"%s\":\"%s\"", key, t);
}

void batch_json(struct bt_buf *o, const struct batch *b, int64_t now)
{
	struct bstate s;
	int ended;

	batch_state(b, &s);
	ended = now >= s.ended && b->finalized;
	bt_buf_printf(o, "{\"id\":\"%s\",\"type\":\"message_batch\",\"processing_status\":\"%s\"",
	              b->id, ended ? "ended" : b->cancel ? "canceling" : "in_progress");
	if (ended)
		bt_buf_printf(o, ",\"request_counts\":{\"processing\":0,\"succeeded\":%ld,"
		              "\"errored\":%ld,\"canceled\":%ld,\"expired\":%ld}",
		              b->cnt[BT_R_SUCCEEDED], b->cnt[BT_R_ERRORED],
		              b->cnt[BT_R_CANCELED], b->cnt[BT_R_EXPIRED]);
	else
		bt_buf_printf(o, ",\"request_counts\":{\"processing\":%ld,\"succeeded\":0,"
		              "\"errored\":0,\"canceled\":0,\"expired\":0}", b->n);
	time_member(o, "ended_at", ended, s.ended);
	time_member(o, "created_at", 1, b->created);
	time_member(o, "expires_at", 1, b->expires);
	time_member(o, "cancel_initiated_at", b->cancel != 0, b->cancel);
	time_member(o, "archived_at", ended && now >= b->archive,
	            b->archive > s.ended ? b->archive : s.ended);
	if (ended)
		bt_buf_printf(o, ",\"results_url\":\"%s/v1/messages/batches/%s/results\"}",
		              base_url, b->id);
	else
		bt_buf_adds(o, ",\"results_url\":null}");
}

long long queued(int64_t now)
{
	long long q = 0;
	size_t i;

	for (i = 0; i < nbatches; i++)
		if (!batches[i]->deleted && !batch_ended(batches[i], now))
			q += batches[i]->n;
	return q;
}

/* ---- state files --------------------------------------------------------------- */

/* ID.meta is one line: "bt-mock-batch 1" and the fields of struct batch
 * in order. */
int meta_save(const struct batch *b)
{
	char line[512], *path;
	int n, rc;

	n = snprintf(line, sizeof line,
	             "bt-mock-batch 1 %s %" PRIu64 " %ld %" PRId64 " %" PRId64 " %" PRId64
	             " %" PRId64 " %" PRId64 " %" PRId64 " %d %ld %ld %ld %ld\n",
	             b->id, b->seq, b->n, b->created, b->pt, b->ct, b->expires, b->archive,
	             b->cancel, b->finalized, b->cnt[0], b->cnt[1], b->cnt[2], b->cnt[3]);
	path = path_of(b->id, ".meta");
	/* bt_write_file closes its descriptor exactly once, even when close or
	 * rename fails: with a thread per connection, a second close could
	 * close a file another thread has just opened under the same number */
	if ((rc = bt_write_file(path, line, (size_t)n)) < 0)
		bt_warn("%s:", path);
	free(path);
	return rc;
}

int counter_save(void)
{
	char line[64], *path;
	int n, rc;

	n = snprintf(line, sizeof line, "%" PRIu64 "\n", batch_counter);
	path = bt_asprintf("%s/counter", opt_dir);
	if ((rc = bt_write_file(path, line, (size_t)n)) < 0)
		bt_warn("%s:", path);
	free(path);
	return rc;
}

static int seq_cmp(const void *a, const void *b)
{
	const struct batch *x = *(struct batch *const *)a, *y = *(struct batch *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* A file a crash may leave: a spool (.spool-N), a temporary file of
 * results (ID.results.tmp, ID.order.tmp) or of bt_write_file (NAME.tmp.PID);
 * and the OpenAI side's files (oai-*), whose state was in memory only. */
static int leftover(const char *name)
{
	size_t n = strlen(name);
	const char *t = strstr(name, ".tmp.");

	return !strncmp(name, ".spool-", 7) || !strncmp(name, "oai-", 4) ||
	       (n > 4 && !strcmp(name + n - 4, ".tmp")) ||
	       (t && t[5] && strspn(t + 5, "0123456789") == strlen(t + 5));
}

/* The batch of a .meta file, or NULL (warned). */
static struct batch *meta_load(const char *path)
{
	char line[512], id[64];
	struct batch *b;
	FILE *f;

	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof line, f)) {
		bt_warn("%s: cannot read; ignored", path);
		if (f)
			fclose(f);
		return NULL;
	}
	fclose(f);
	b = batch_new();
	if (sscanf(line, "bt-mock-batch 1 %63s %" SCNu64 " %ld %" SCNd64 " %" SCNd64
	           " %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64 " %d %ld %ld %ld %ld",
	           id, &b->seq, &b->n, &b->created, &b->pt, &b->ct, &b->expires,
	           &b->archive, &b->cancel, &b->finalized, &b->cnt[0], &b->cnt[1],
	           &b->cnt[2], &b->cnt[3]) != 14 || strlen(id) >= sizeof b->id) {
		bt_warn("%s: not a bt-mock batch; ignored", path);
		batch_free(b);
		return NULL;
	}
	strcpy(b->id, id);
	return b;
}

static void counter_load(void)
{
	char *path = bt_asprintf("%s/counter", opt_dir);
	FILE *f;
	uint64_t c;

	if ((f = fopen(path, "r"))) {
		if (fscanf(f, "%" SCNu64, &c) == 1)
			batch_counter = c;
		fclose(f);
	}
	free(path);
}

void state_load(void)
{
	DIR *d;
	struct dirent *e;
	struct batch *b;
	char *path;
	size_t n;

	counter_load();
	if (!(d = opendir(opt_dir)))
		bt_die(BT_EXIT_FAIL, "%s:", opt_dir);
	while ((e = readdir(d))) {
		n = strlen(e->d_name);
		path = bt_asprintf("%s/%s", opt_dir, e->d_name);
		if (leftover(e->d_name))
			unlink(path);
		else if (n >= 6 && !strcmp(e->d_name + n - 5, ".meta") &&
		         (b = meta_load(path))) {
			batch_append(b);
			if (b->seq >= batch_counter)
				batch_counter = b->seq;
		}
		free(path);
	}
	closedir(d);
	if (nbatches)
		qsort(batches, nbatches, sizeof *batches, seq_cmp);
}

void state_remove(void)
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

void store_free(void)
{
	size_t i;

	for (i = 0; i < nbatches; i++)
		batch_free(batches[i]);
	free(batches);
	batches = NULL;
	nbatches = capbatches = 0;
	pset_free(&msg_cache);
	ofiles_free();
	obatches_free();
}
