/* bt-submit — requests or chunks in, batches out, never paid for twice.
 *
 * Every create goes through a write-ahead journal in $BT_STATE_DIR/journal,
 * one file per chunk, named by the SHA-256 of the chunk's bytes:
 *
 *   before the create  {"state":"sending","since":T,...}
 *   after the answer   {"state":"created","batch":{MessageBatch},...}
 *   after a refusal    {"state":"failed","error":"...",...}
 *
 * A chunk whose record says "created" is not sent again: its batch is
 * printed (--force sends it anyway).  A record still "sending" means the
 * last create got no clear answer (a crash, a dropped connection, a 5xx
 * after the body went out): the batch list is searched for a batch made
 * since then with the same number of requests, and that batch is adopted
 * instead of paying twice.  The key is never written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "bt.h"

#define SLACK 300.0     /* seconds of clock skew allowed when reconciling */
#define APART 30.0      /* two candidates closer than this cannot be told apart */

static struct bt_config cfg;
static struct bt_http *http;
static int force, dry_run, failed;
static const char *tag;         /* --tag: a namespace in the journal */
static long long max_requests = BT_MAX_REQUESTS, max_bytes = BT_CHUNK_MAX;
static char *journal_dir, *spool_dir;
static const char *max_cost;        /* --max-cost as given */
static long long max_cost_micro;

/* a chunk to send */
struct chunk {
	const char *path;
	char sha[65];
	long long requests, bytes;  /* bytes of the file; the body has 14 more */
	jv superseded;              /* ids of batches made for it before --force */
	char key[128];              /* its journal record: [TAG.]SHA256 */
};

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: bt-submit [-v] [--dry-run] [--force] [--tag TAG] [-n N] [-b SIZE] "
	        "[--max-cost USD] [--api-key-file FILE] [CHUNK...]\n");
	exit(status);
}

static void hex(const unsigned char *md, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = digits[md[i] >> 4];
		out[2 * i + 1] = digits[md[i] & 15];
	}
	out[64] = 0;
}

/* ---- checking a chunk file ---- */

/* A chunk file must be what bt-split writes: requests, one a line, each
 * "\n"-terminated, no blank lines, ids unique, within the batch limits. */
static void check_chunk(struct chunk *c)
{
	struct bt_lines l;
	struct bt_idset ids = { 0 };
	char id[BT_ID_MAX + 1], err[300];
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	unsigned long long first;
	long long sum = 0;
	struct stat st;
	EVP_MD_CTX *ctx;
	size_t n;
	char *s;

	if (bt_lines_open(&l, c->path) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", c->path);
	if (fstat(l.fd, &st) < 0 || !S_ISREG(st.st_mode))
		bt_die(BT_EXIT_USAGE, "%s: not a regular file", c->path);
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		bt_die(BT_EXIT_FAIL, "SHA-256 failed");
	c->requests = 0;
	while ((s = bt_lines_next(&l, &n))) {
		if (n == 0 || bt_blank(s, n))
			bt_die(BT_EXIT_USAGE, "%s:%llu: a blank line: not a chunk file "
			       "(make chunks with bt-split, or give requests on stdin)",
			       c->path, l.lineno);
		if (bt_request_check(s, n, id, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", c->path, l.lineno, err);
		if ((first = bt_idset_add(&ids, id, l.lineno)))
			bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" "
			       "(first on line %llu)", c->path, l.lineno, id, first);
		if (++c->requests > BT_MAX_REQUESTS)
			bt_die(BT_EXIT_USAGE, "%s: more than %d requests: too many for "
			       "one batch (use bt-split)", c->path, BT_MAX_REQUESTS);
		s[n] = '\n';
		EVP_DigestUpdate(ctx, s, n + 1);
		sum += (long long)n + 1;
	}
	if (sum != (long long)st.st_size)
		bt_die(BT_EXIT_USAGE, "%s: CRLF line ends or no final newline: not a "
		       "chunk file (make chunks with bt-split)", c->path);
	if (sum > BT_CHUNK_MAX)
		bt_die(BT_EXIT_USAGE, "%s: %lld bytes: too big for one batch "
		       "(%lld at most; use bt-split)", c->path, sum, (long long)BT_CHUNK_MAX);
	if (c->requests == 0)
		bt_die(BT_EXIT_USAGE, "%s: no requests", c->path);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex(md, c->sha);
	c->bytes = sum;
	bt_idset_free(&ids);
	bt_lines_close(&l);
}

/* ---- the journal ---- */

static char *record_path(const char *key, const char *ext)
{
	return bt_asprintf("%s/%s.%s", journal_dir, key, ext);
}

static jv record_read(const char *key)
{
	char *path = record_path(key, "json"), err[200];
	struct bt_lines l;
	size_t n;
	char *s;
	jv v;

	if (bt_lines_open(&l, path) < 0) {
		if (errno != ENOENT)
			bt_die(BT_EXIT_FAIL, "%s:", path);
		free(path);
		return jv_invalid();
	}
	s = bt_lines_next(&l, &n);
	v = s ? bt_json_parse(s, n, err, sizeof err) : jv_invalid();
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		bt_die(BT_EXIT_FAIL, "%s: a damaged journal record (%s); move it "
		       "away to submit this chunk again", path, s ? err : "empty");
	bt_lines_close(&l);
	free(path);
	return v;
}

static void record_write(const struct chunk *c, const char *state,
                         const char *since, jv batch, const char *error)
{
	struct bt_buf b = { 0 };
	char *path = record_path(c->key, "json");

	bt_buf_adds(&b, "{\"sha256\":\"");
	bt_buf_adds(&b, c->sha);
	bt_buf_adds(&b, "\",\"tag\":");
	if (tag)
		bt_json_write_str(&b, tag, strlen(tag));
	else
		bt_buf_adds(&b, "null");
	bt_buf_adds(&b, ",\"chunk\":");
	bt_json_write_str(&b, c->path, strlen(c->path));
	bt_buf_printf(&b, ",\"requests\":%lld,\"bytes\":%lld,\"state\":\"%s\",\"since\":\"%s\",\"batch\":",
	              c->requests, c->bytes + BT_ENVELOPE, state, since);
	if (jv_is_valid(batch))
		bt_json_write(&b, batch);
	else
		bt_buf_adds(&b, "null");
	bt_buf_adds(&b, ",\"error\":");
	if (error)
		bt_json_write_str(&b, error, strlen(error));
	else
		bt_buf_adds(&b, "null");
	bt_buf_adds(&b, ",\"superseded\":");
	if (jv_get_kind(c->superseded) == JV_KIND_ARRAY)
		bt_json_write(&b, c->superseded);
	else
		bt_buf_adds(&b, "[]");
	bt_buf_adds(&b, "}\n");
	if (bt_write_file(path, b.p, b.len) < 0)
		bt_die(BT_EXIT_FAIL, "%s: cannot write the journal:", path);
	bt_buf_free(&b);
	free(path);
}

static int lock_chunk(const char *key)
{
	char *path = record_path(key, "lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", path);
	free(path);
	return fd;
}

static void add_superseded(jv rec, struct bt_idset *set)
{
	jv a = jv_object_get(jv_copy(rec), jv_string("superseded")), x;
	int i, n = jv_get_kind(a) == JV_KIND_ARRAY ? jv_array_length(jv_copy(a)) : 0;

	for (i = 0; i < n; i++) {
		x = jv_array_get(jv_copy(a), i);
		if (jv_get_kind(x) == JV_KIND_STRING)
			bt_idset_add(set, jv_string_value(x), 1);
		jv_free(x);
	}
	jv_free(a);
}

/* The batch ids the journal holds in every record but key's (whose own
 * superseded ones the caller adds). */
static void known_batches(const char *key, struct bt_idset *set)
{
	char name[256], id[BT_BATCH_ID_MAX];
	size_t n;
	struct dirent *e;
	DIR *d = opendir(journal_dir);
	jv r, b;

	if (!d)
		bt_die(BT_EXIT_FAIL, "%s:", journal_dir);
	while ((e = readdir(d))) {
		n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 || n >= sizeof name ||
		    strcmp(e->d_name + n - 5, ".json"))
			continue;
		memcpy(name, e->d_name, n - 5);
		name[n - 5] = 0;
		if (!strcmp(name, key))
			continue;
		r = record_read(name);
		b = jv_object_get(jv_copy(r), jv_string("batch"));
		if (jv_get_kind(b) == JV_KIND_OBJECT &&
		    bt_batch_field(b, "id", id, sizeof id) == 0)
			bt_idset_add(set, id, 1);
		jv_free(b);
		add_superseded(r, set);
		jv_free(r);
	}
	closedir(d);
}

/* Seconds since the epoch of an RFC 3339 UTC time (the API's form). */
static double rfc3339_time(const char *s)
{
	struct tm tm;
	const char *rest;
	double frac = 0;

	memset(&tm, 0, sizeof tm);
	if (!(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return 0;
	if (*rest == '.')
		frac = strtod(rest, NULL);
	return (double)timegm(&tm) + frac;
}

/* Search the batch list for the batch an unanswered create may have made:
 * created since then (less the slack), with as many requests, not in the
 * journal for another chunk; of several, the one made nearest the attempt,
 * unless another is within APART of it.  1 with *found, 0 for none, -1 on
 * error or doubt. */
static int reconcile(const struct chunk *c, const char *since, jv *found,
                     char *err, size_t errsz)
{
	struct bt_idset known = { 0 };
	struct bt_resp resp;
	char path[300], after[BT_BATCH_ID_MAX] = "", id[BT_BATCH_ID_MAX];
	char created[40], lowest[32];
	double t, at, dist, best = -1, second = -1;
	int matches = 0, i, n, more, older = 0;
	struct tm tm;
	jv page, data, b;

	memset(&tm, 0, sizeof tm);
	if (!strptime(since, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(err, errsz, "the journal's time '%s' is not understood", since);
		return -1;
	}
	at = rfc3339_time(since);
	t = at - SLACK;
	bt_rfc3339(t, lowest);
	known_batches(c->key, &known);
	if (jv_get_kind(c->superseded) == JV_KIND_ARRAY) {
		jv r = JV_OBJECT(jv_string("superseded"), jv_copy(c->superseded));
		add_superseded(r, &known);
		jv_free(r);
	}
	*found = jv_invalid();
	do {
		snprintf(path, sizeof path, "/v1/messages/batches?limit=100%s%s",
		         after[0] ? "&after_id=" : "", after);
		page = bt_http_json(http, "GET", path, &resp);
		if (!jv_is_valid(page)) {
			snprintf(err, errsz, "cannot list batches to check: %s", resp.err);
			bt_resp_free(&resp);
			goto fail;
		}
		bt_resp_free(&resp);
		data = jv_object_get(jv_copy(page), jv_string("data"));
		b = jv_object_get(jv_copy(page), jv_string("has_more"));
		more = jv_get_kind(b) == JV_KIND_TRUE;
		jv_free(b);
		n = jv_get_kind(data) == JV_KIND_ARRAY ? jv_array_length(jv_copy(data)) : 0;
		for (i = 0; i < n; i++) {
			b = jv_array_get(jv_copy(data), i);
			bt_batch_field(b, "id", id, sizeof id);
			bt_batch_field(b, "created_at", created, sizeof created);
			strcpy(after, id);
			if (strcmp(created, lowest) < 0) {
				older = 1;      /* newest first: the rest are older */
				jv_free(b);
				break;
			}
			if (bt_batch_count(b, "total") == c->requests &&
			    !bt_idset_get(&known, id)) {
				/* the nearest to the attempt is the likeliest */
				matches++;
				dist = fabs(rfc3339_time(created) - at);
				if (best < 0 || dist < best) {
					second = best;
					best = dist;
					jv_free(*found);
					*found = b;
					continue;
				}
				if (second < 0 || dist < second)
					second = dist;
			}
			jv_free(b);
		}
		jv_free(data);
		jv_free(page);
	} while (more && !older && after[0]);
	bt_idset_free(&known);
	if (matches > 1 && second - best < APART) {
		snprintf(err, errsz, "%d batches made within %.0f s of %s have %lld "
		         "requests: cannot tell which one is this chunk's; see bt-list, "
		         "and use --force to send it again", matches, APART, since,
		         c->requests);
		jv_free(*found);
		*found = jv_invalid();
		return -1;
	}
	return matches ? 1 : 0;
fail:
	bt_idset_free(&known);
	return -1;
}

static void chunk_fail(const struct chunk *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void chunk_fail(const struct chunk *c, const char *fmt, ...)
{
	char msg[1400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	bt_warn("%s: %s", c->path, msg);
	failed = 1;
}

/* One create, journaled.  Returns the batch or jv_invalid(). */
static jv create(struct chunk *c, const char *since)
{
	struct bt_req req;
	struct bt_resp resp;
	char err[200];
	jv batch;
	int fd = open(c->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		bt_die(BT_EXIT_FAIL, "%s:", c->path);
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = "/v1/messages/batches";
	req.body_fd = fd;
	req.body_size = c->bytes;
	req.body_chunk = 1;
	record_write(c, "sending", since, jv_invalid(), NULL);
	if (bt_http(http, &req, &resp) < 0) {
		close(fd);
		if (resp.ambiguous) {
			batch = jv_invalid_with_msg(jv_string(resp.err));
			bt_resp_free(&resp);
			return batch;
		}
		/* surely not taken: a refusal, or retries that ran out */
		record_write(c, "failed", since, jv_invalid(), resp.err);
		chunk_fail(c, "%s", resp.err);
		bt_resp_free(&resp);
		return jv_invalid();
	}
	close(fd);
	batch = bt_json_parse(resp.body.p ? resp.body.p : "", resp.body.len, err, sizeof err);
	if (jv_get_kind(batch) != JV_KIND_OBJECT || bt_batch_count(batch, "total") < 0) {
		/* it answered 2xx: the batch exists, but we cannot read it */
		jv_free(batch);
		bt_resp_free(&resp);
		return jv_invalid_with_msg(jv_string("the answer to the create is not a batch"));
	}
	bt_resp_free(&resp);
	record_write(c, "created", since, batch, NULL);
	return batch;
}

static void submit(struct chunk *c)
{
	char since[32], err[1200], state[16] = "", rsince[40] = "";
	jv rec, batch = jv_invalid(), x;
	int lock = -1, tries, r, k;

	snprintf(c->key, sizeof c->key, "%s%s%s", tag ? tag : "", tag ? "." : "", c->sha);
	if (dry_run) {
		rec = record_read(c->key);
		batch = jv_get_kind(rec) == JV_KIND_OBJECT ?
		        jv_object_get(jv_copy(rec), jv_string("batch")) : jv_null();
		struct bt_buf b = { 0 };
		bt_buf_adds(&b, "{\"chunk\":");
		bt_json_write_str(&b, c->path, strlen(c->path));
		bt_buf_printf(&b, ",\"requests\":%lld,\"bytes\":%lld,\"sha256\":\"%s\",\"batch\":",
		              c->requests, c->bytes + BT_ENVELOPE, c->sha);
		x = jv_get_kind(batch) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(batch), jv_string("id")) : jv_null();
		bt_json_write(&b, x);
		bt_buf_adds(&b, "}\n");
		bt_flush(&b);
		bt_buf_free(&b);
		jv_free(x);
		jv_free(batch);
		jv_free(rec);
		return;
	}

	lock = lock_chunk(c->key);
	rec = record_read(c->key);
	c->superseded = jv_array();
	if (jv_is_valid(rec)) {
		bt_batch_field(rec, "state", state, sizeof state);
		bt_batch_field(rec, "since", rsince, sizeof rsince);
		x = jv_object_get(jv_copy(rec), jv_string("superseded"));
		if (jv_get_kind(x) == JV_KIND_ARRAY) {
			jv_free(c->superseded);
			c->superseded = x;
		} else
			jv_free(x);
		if (force && !strcmp(state, "created")) {
			char old[BT_BATCH_ID_MAX];
			x = jv_object_get(jv_copy(rec), jv_string("batch"));
			if (bt_batch_field(x, "id", old, sizeof old) == 0)
				c->superseded = jv_array_append(c->superseded, jv_string(old));
			jv_free(x);
		}
	}
	if (!strcmp(state, "created") && !force) {
		batch = jv_object_get(jv_copy(rec), jv_string("batch"));
		if (bt_verbose) {
			char id[BT_BATCH_ID_MAX];
			bt_batch_field(batch, "id", id, sizeof id);
			bt_warn("%s: sent before as %s; not sending it again", c->path, id);
		}
		goto print;
	}
	if (!strcmp(state, "sending") && !force) {
		/* the last create got no answer: did it make the batch? */
		r = reconcile(c, rsince, &batch, err, sizeof err);
		if (r < 0) {
			chunk_fail(c, "an earlier create got no answer, and %s", err);
			goto out;
		}
		if (r == 1) {
			record_write(c, "created", rsince, batch, NULL);
			if (bt_verbose)
				bt_warn("%s: an earlier create that got no answer had made the batch", c->path);
			goto print;
		}
	}
	for (tries = 1; tries <= 3; tries++) {
		bt_rfc3339(bt_now(), since);
		batch = create(c, since);
		if (jv_is_valid(batch))
			goto print;
		if (!jv_invalid_has_msg(jv_copy(batch)))
			goto out;       /* failed for sure: reported */
		x = jv_invalid_get_msg(batch);
		snprintf(err, sizeof err, "%s", jv_string_value(x));
		jv_free(x);
		/* no clear answer: look before sending it again (the list may
		 * lag the create a little) */
		if (bt_verbose)
			bt_warn("%s: %s; checking whether the batch was made", c->path, err);
		for (k = 0; k < 3; k++) {
			if (k)
				bt_sleep(2.0 * k);
			if ((r = reconcile(c, since, &batch, err, sizeof err)) != 0)
				break;
		}
		if (r < 0) {
			chunk_fail(c, "%s", err);
			goto out;
		}
		if (r == 1) {
			record_write(c, "created", since, batch, NULL);
			goto print;
		}
		/* not made: it may be sent again */
	}
	chunk_fail(c, "no clear answer after 3 creates, and no batch was made; "
	           "run bt-submit again later");
	goto out;
print:
	bt_print_json(batch);
out:
	jv_free(batch);
	jv_free(rec);
	jv_free(c->superseded);
	c->superseded = jv_invalid();
	if (lock >= 0)
		close(lock);
}

/* ---- requests on stdin, spooled into chunks ---- */

struct spool {
	int fd;
	char *tmp;
	EVP_MD_CTX *ctx;
	struct bt_buf buf;
	long long requests, bytes;
};

static void spool_start(struct spool *s)
{
	s->requests = s->bytes = 0;
	s->buf.len = 0;
	if (!s->ctx && !(s->ctx = EVP_MD_CTX_new()))
		bt_die(BT_EXIT_FAIL, "SHA-256 failed");
	EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL);
	s->fd = -1;
	if (dry_run)
		return;
	free(s->tmp);
	s->tmp = bt_asprintf("%s/.spool.XXXXXX", spool_dir);
	s->fd = mkstemp(s->tmp);
	if (s->fd < 0)
		bt_die(BT_EXIT_FAIL, "%s:", s->tmp);
}

static void spool_write(struct spool *s)
{
	if (s->fd >= 0 && bt_write_all(s->fd, s->buf.p, s->buf.len) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error:", s->tmp);
	s->buf.len = 0;
}

static void spool_finish(struct spool *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	struct chunk c;
	char *path;

	memset(&c, 0, sizeof c);
	spool_write(s);
	EVP_DigestFinal_ex(s->ctx, md, &mdlen);
	hex(md, c.sha);
	c.requests = s->requests;
	c.bytes = s->bytes;
	path = bt_asprintf("%s/%s.jsonl", spool_dir, c.sha);
	if (s->fd >= 0) {
		if (fsync(s->fd) < 0 || close(s->fd) < 0)
			bt_die(BT_EXIT_FAIL, "%s: write error:", s->tmp);
		if (rename(s->tmp, path) < 0)
			bt_die(BT_EXIT_FAIL, "%s:", path);
		s->fd = -1;
	}
	c.path = dry_run ? "stdin" : path;
	submit(&c);
	free(path);
	s->requests = 0;
}

static void spool_cleanup(struct spool *s)
{
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->tmp);
	}
	free(s->tmp);
	if (s->ctx)
		EVP_MD_CTX_free(s->ctx);
	bt_buf_free(&s->buf);
}

static struct spool *live_spool;

static void at_exit(void)
{
	if (live_spool && live_spool->fd >= 0)
		unlink(live_spool->tmp);
}

/* Cut the requests into as few chunks as the limits allow, and submit
 * each as soon as it is whole. */
static void requests(struct bt_lines *l, char *first, size_t firstn)
{
	struct bt_idset ids = { 0 };
	struct spool s = { .fd = -1 };
	char id[BT_ID_MAX + 1], err[300];
	unsigned long long dup;
	size_t n = firstn;
	char *line = first;

	live_spool = &s;
	atexit(at_exit);
	if (!dry_run && bt_mkdirs(spool_dir) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", spool_dir);
	do {
		if (bt_blank(line, n))
			continue;
		if (bt_request_check(line, n, id, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l->name, l->lineno, err);
		if ((dup = bt_idset_add(&ids, id, l->lineno)))
			bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" "
			       "(first on line %llu)", l->name, l->lineno, id, dup);
		if ((long long)n + 1 > max_bytes)
			bt_die(BT_EXIT_USAGE, "%s:%llu: request is %zu bytes with its "
			       "newline, more than a batch can hold (%lld)",
			       l->name, l->lineno, n + 1, max_bytes);
		if (s.requests && (s.requests + 1 > max_requests ||
		                   s.bytes + (long long)n + 1 > max_bytes))
			spool_finish(&s);
		if (!s.requests)
			spool_start(&s);
		line[n] = '\n';
		EVP_DigestUpdate(s.ctx, line, n + 1);
		bt_buf_add(&s.buf, line, n + 1);
		if (s.buf.len >= (1 << 20))
			spool_write(&s);
		s.requests++;
		s.bytes += (long long)n + 1;
	} while ((line = bt_lines_next(l, &n)));
	if (s.requests)
		spool_finish(&s);
	live_spool = NULL;
	spool_cleanup(&s);
	bt_idset_free(&ids);
}

static void chunk_file(const char *path)
{
	struct chunk c;

	memset(&c, 0, sizeof c);
	c.path = path;
	check_chunk(&c);
	submit(&c);
}

/* ---- --max-cost: the whole input's upper bound, before anything is sent ---- */

static struct bt_cost cost;
static struct bt_prices *prices;

static void cost_line(const char *name, unsigned long long lineno, const char *s, size_t n)
{
	char err[300];

	if (!cost.prices)
		cost.prices = prices = bt_prices_load(NULL);
	if (!bt_blank(s, n) && bt_cost_add_request(&cost, s, n, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", name, lineno, err);
}

static void cost_file(const char *path)
{
	struct bt_lines l;
	size_t n;
	char *s;

	if (bt_lines_open(&l, path) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", path);
	while ((s = bt_lines_next(&l, &n)))
		cost_line(path, l.lineno, s, n);
	bt_lines_close(&l);
}

/* Estimated input and every max_tokens as output, at batch prices: over
 * the cap, nothing is sent. */
static void cost_check(void)
{
	struct bt_usd total = { 0, 0 }, b;
	char figure[32];
	size_t i;

	for (i = 0; i < cost.n; i++) {
		bt_cost_price_row(&cost.rows[i], &b, NULL, NULL);
		bt_usd_add(&total, b);
	}
	bt_usd_cents(figure, total);
	if (bt_usd_cmp_micro(total, max_cost_micro) > 0) {
		long long up = total.micro + (total.rem > 0);
		if ((total.micro + 5000) / 10000 * 10000 <= max_cost_micro)
			/* the cents would hide the excess: to the micro-dollar, up */
			snprintf(figure, sizeof figure, "$%lld.%06lld",
			         up / 1000000, up % 1000000);
		bt_die(BT_EXIT_USAGE, "the upper bound of this job is %s (batch prices), "
		       "over --max-cost %s: nothing sent", figure, max_cost);
	}
	if (bt_verbose)
		bt_warn("the upper bound of this job is %s (batch prices), within "
		        "--max-cost %s", figure, max_cost);
	bt_cost_free(&cost);
	bt_prices_free(prices);
	cost.prices = prices = NULL;
}

/* Requests on stdin with --max-cost: copy them whole to an unlinked file
 * in the spool directory, counting them, check the cost, then read them
 * from there (the same lines, the same line numbers).  *s and *n are the
 * first non-blank line, before and after. */
static void cost_spool(struct bt_lines *l, char **s, size_t *n)
{
	const char *tmpdir = getenv("TMPDIR");
	const char *dir = !dry_run ? spool_dir : tmpdir && *tmpdir ? tmpdir : "/tmp";
	struct bt_buf b = { 0 };
	unsigned long long i;
	char *tmp;
	int fd;

	if (bt_mkdirs(dir) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", dir);
	tmp = bt_asprintf("%s/.max-cost.XXXXXX", dir);
	if ((fd = mkstemp(tmp)) < 0 || unlink(tmp) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", tmp);
	for (i = 1; i < l->lineno; i++)
		bt_buf_addc(&b, '\n');
	for (; *s; *s = bt_lines_next(l, n)) {
		cost_line(l->name, l->lineno, *s, *n);
		bt_buf_add(&b, *s, *n);
		bt_buf_addc(&b, '\n');
		if (b.len >= (1 << 20)) {
			if (bt_write_all(fd, b.p, b.len) < 0)
				bt_die(BT_EXIT_FAIL, "%s: write error:", tmp);
			b.len = 0;
		}
	}
	if (bt_write_all(fd, b.p, b.len) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error:", tmp);
	bt_buf_free(&b);
	free(tmp);
	cost_check();
	if (lseek(fd, 0, SEEK_SET) < 0)
		bt_die(BT_EXIT_FAIL, "spool:");
	bt_lines_close(l);
	bt_lines_fd(l, fd, "stdin");
	l->own_fd = 1;
	while ((*s = bt_lines_next(l, n)) && bt_blank(*s, *n))
		;
}

/* A chunk list on stdin with --max-cost: read it whole, cost every chunk,
 * then submit them. */
static void cost_list(struct bt_lines *l, char *s, size_t n)
{
	char **paths = NULL;
	size_t count = 0, i;

	do {
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = 0;
		if (!n)
			continue;
		paths = bt_realloc(paths, (count + 1) * sizeof *paths);
		paths[count++] = bt_strndup(s, n);
	} while ((s = bt_lines_next(l, &n)));
	for (i = 0; i < count; i++)
		cost_file(paths[i]);
	cost_check();
	for (i = 0; i < count; i++) {
		chunk_file(paths[i]);
		free(paths[i]);
	}
	free(paths);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-key-file", required_argument, 0, 'k' },
		{ "dry-run", no_argument, 0, 'D' },
		{ "force", no_argument, 0, 'F' },
		{ "tag", required_argument, 0, 'T' },
		{ "max-cost", required_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	struct bt_lines l;
	size_t n;
	char *s;
	int c, i;

	bt_init(argv[0]);
	bt_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "hvn:b:", opts, NULL)) != -1)
		switch (c) {
		case 'k': bt_config_key_file(&cfg, optarg); break;
		case 'D': dry_run = 1; break;
		case 'F': force = 1; break;
		case 'T':
			if (!*optarg || strlen(optarg) > 32 ||
			    !bt_custom_id_ok(optarg, strlen(optarg)))
				bt_die(BT_EXIT_USAGE, "--tag: 1 to 32 of A-Z a-z 0-9 _ -: '%s'", optarg);
			tag = optarg;
			break;
		case 'M':
			if (bt_usd_parse(optarg, &max_cost_micro) < 0)
				bt_die(BT_EXIT_USAGE, "--max-cost: not an amount of dollars: '%s'", optarg);
			max_cost = optarg;
			break;
		case 'n': max_requests = bt_num(optarg, 1, BT_MAX_REQUESTS, "-n"); break;
		case 'b': max_bytes = bt_size(optarg, 1, BT_CHUNK_MAX, "-b"); break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (!dry_run) {
		bt_config_need_key(&cfg);
		http = bt_http_new(&cfg);
	}
	journal_dir = bt_asprintf("%s/journal", cfg.state_dir);
	spool_dir = bt_asprintf("%s/spool", cfg.state_dir);
	if (!dry_run && bt_mkdirs(journal_dir) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", journal_dir);

	if (argc) {
		for (i = 0; max_cost && i < argc; i++)
			cost_file(argv[i]);
		if (max_cost)
			cost_check();
		for (i = 0; i < argc; i++)
			chunk_file(argv[i]);
	} else {
		bt_lines_fd(&l, 0, "stdin");
		while ((s = bt_lines_next(&l, &n)) && bt_blank(s, n))
			;
		if (s && *s == '{' && max_cost)
			cost_spool(&l, &s, &n);
		if (s && *s == '{')
			requests(&l, s, n);
		else if (s && max_cost)
			cost_list(&l, s, n);
		else if (s) {
			do {
				while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
					s[--n] = 0;
				if (n)
					chunk_file(s);
			} while ((s = bt_lines_next(&l, &n)));
		}
		bt_lines_close(&l);
	}
	bt_http_free(http);
	bt_config_free(&cfg);
	free(journal_dir);
	free(spool_dir);
	bt_close_stdout();
	return failed ? BT_EXIT_FAIL : 0;
}
