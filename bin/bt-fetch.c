/* bt-fetch — batches in, results out */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"

static struct bt_http *http;
static struct bt_config cfg;
static int failed;

/* one batch's download */
struct fetch {
	const char *id;
	struct bt_buf part;     /* a line not yet complete */
	struct bt_buf out;      /* lines not yet written */
	struct bt_idset seen;   /* custom_ids written, for this batch */
	unsigned long long lines, dups;
	int attempt;            /* 1 for the first download, 2... after a cut */
	char err[300];
	int hold;               /* held back in a temporary file until its
	                           custom_ids are checked; -1: written out */
	struct bt_idlist ids;   /* the custom_ids, when held */
};

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: bt-fetch [-v] [--api-key-file FILE] [BATCH...]\n");
	exit(status);
}

static void fail(const char *id, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fail(const char *id, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	bt_warn("%s: %s", id, msg);
	failed = 1;
}

/* Lines go to stdout, or to the hold file. */
static void out(struct fetch *f)
{
	if (f->hold < 0)
		bt_flush(&f->out);
	else if (bt_write_all(f->hold, f->out.p, f->out.len) < 0)
		bt_die(BT_EXIT_FAIL, "%s: a temporary file: write error:", f->id);
	f->out.len = 0;
}

static int hold_file(void)
{
	const char *dir = getenv("TMPDIR");
	char *tmp = bt_asprintf("%s/bt-fetch.XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(tmp);

	if (fd < 0 || unlink(tmp) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", tmp);
	free(tmp);
	return fd;
}

/* A held batch's results are let out only when their custom_ids are
 * exactly those of the chunk it was adopted for (bt.7, RECONCILIATION). */
static void settle(struct fetch *f, jv mark)
{
	char digest[65], want[65] = "", chunk[300] = "", why[600];
	struct bt_buf b = { 0 };
	ssize_t r;

	out(f);
	bt_idlist_digest(&f->ids, digest);
	bt_batch_field(mark, "ids_sha256", want, sizeof want);
	bt_batch_field(mark, "chunk", chunk, sizeof chunk);
	if (strcmp(digest, want)) {
		snprintf(why, sizeof why, "%s was adopted provisionally for %s after a "
		         "create that got no answer, but its results' custom_ids are not "
		         "that chunk's: it is another job's batch", f->id, chunk);
		bt_adopted_disown(f->id, mark, why);
		fail(f->id, "adopted provisionally for %s, but its custom_ids are not that "
		     "chunk's: another job's batch, disowned; none of its results is "
		     "written; bt-submit sends the chunk again", chunk);
		return;
	}
	if (lseek(f->hold, 0, SEEK_SET) < 0)
		bt_die(BT_EXIT_FAIL, "%s: a temporary file:", f->id);
	bt_buf_grow(&b, 1 << 20);
	while ((r = read(f->hold, b.p, 1 << 20)) > 0) {
		b.len = (size_t)r;
		bt_flush(&b);
	}
	if (r < 0)
		bt_die(BT_EXIT_FAIL, "%s: a temporary file: read error:", f->id);
	bt_buf_free(&b);
	bt_adopted_confirm(f->id, mark);
	if (bt_verbose)
		bt_warn("%s: its custom_ids are those of %s: adopted for good", f->id, chunk);
}

/* A complete result line: check it, write it unless it was written by an
 * earlier try.  Nonzero stops the download. */
static int line(struct fetch *f, char *s, size_t n)
{
	struct bt_result_peek p;
	char err[200];

	if (n && s[n - 1] == '\r')
		n--;
	if (bt_blank(s, n))
		return 0;
	/* the API's own lines: their shape is checked (lib/result.c), not
	 * every number */
	if (bt_result_peek(s, n, 0, &p, err, sizeof err) < 0) {
		snprintf(f->err, sizeof f->err, "result line %llu: %s", f->lines + 1, err);
		return -1;
	}
	if (bt_idset_add(&f->seen, p.id, f->lines + 1)) {
		if (f->attempt == 1)    /* the API sent one id twice */
			f->dups++;
		return 0;               /* written already */
	}
	f->lines++;
	if (f->hold >= 0)
		bt_idlist_add(&f->ids, p.id, strlen(p.id));
	bt_buf_add(&f->out, s, n);
	bt_buf_addc(&f->out, '\n');
	if (f->out.len >= (1 << 20))
		out(f);
	return 0;
}

static int sink(const char *p, size_t n, void *arg)
{
	struct fetch *f = arg;
	const char *nl, *end = p + n;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (f->part.len) {
			bt_buf_add(&f->part, p, (size_t)(nl - p));
			if (line(f, f->part.p, f->part.len))
				return -1;
			f->part.len = 0;
		} else if (line(f, (char *)p, (size_t)(nl - p)))
			return -1;
		p = nl + 1;
	}
	if (p < end)
		bt_buf_add(&f->part, p, (size_t)(end - p));
	return 0;
}

/* A cut-off download starts again: lines already written are skipped. */
static int restart(void *arg)
{
	struct fetch *f = arg;

	f->part.len = 0;
	f->attempt++;
	return 0;
}

/* Whether the batch (borrowed) has results to fetch: its request count,
 * or -1 (reported). */
static long long ready(const char *id, jv batch)
{
	char status[32], archived[64];
	long long total;

	bt_batch_field(batch, "processing_status", status, sizeof status);
	if (strcmp(status, "ended")) {
		fail(id, "not ended (%s): its results are not ready; pipe it through bt-wait first",
		     status[0] ? status : "no status");
		return -1;
	}
	if (bt_batch_field(batch, "archived_at", archived, sizeof archived) == 0) {
		fail(id, "archived at %s: its results are gone (they are kept 29 days)",
		     archived);
		return -1;
	}
	total = bt_batch_count(batch, "total");
	if (total < 0)
		fail(id, "the batch has no request_counts");
	return total;
}

/* The state of the batch's adoption mark, for this server: "", or
 * "provisional", or "disowned" (*mark is the mark; the caller frees it). */
static void mark_state(const char *id, jv *mark, char state[16])
{
	char endpoint[512];

	state[0] = 0;
	*mark = bt_adopted_get(id);
	/* a mark is for a batch of one server */
	if (bt_batch_field(*mark, "endpoint", endpoint, sizeof endpoint) == 0 &&
	    !strcmp(endpoint, cfg.base_url))
		bt_batch_field(*mark, "state", state, 16);
}

/* Download until every result is there (three tries: a download that
 * ends early without an error is tried again too).  0, or -1 (reported). */
static int download(struct fetch *f, long long total)
{
	char path[BT_BATCH_ID_MAX + 64];
	struct bt_req req;
	struct bt_resp resp;
	int tries, r = 0;

	memset(&req, 0, sizeof req);
	snprintf(path, sizeof path, "/v1/messages/batches/%s/results", f->id);
	req.method = "GET";
	req.path = path;
	req.body_fd = -1;
	req.may_repeat = 1;
	req.sink = sink;
	req.sink_restart = restart;
	req.sink_arg = f;
	for (tries = 1; tries <= 3 && r == 0; tries++) {
		f->attempt = tries == 1 ? 1 : f->attempt + 1;
		f->part.len = 0;
		f->err[0] = 0;
		if (bt_http(http, &req, &resp) < 0) {
			if (f->err[0])
				fail(f->id, "%s", f->err);
			else
				fail(f->id, "%s%s", resp.err, resp.status == 404 ?
				     " (archived, or deleted?)" : "");
			r = -1;
		} else if (f->part.len && line(f, f->part.p, f->part.len)) {
			fail(f->id, "%s", f->err);
			r = -1;
		}
		bt_resp_free(&resp);
		f->part.len = 0;
		if (r < 0 || (long long)f->lines >= total)
			break;
		if (bt_verbose)
			bt_warn("%s: got %llu of %lld results; downloading again",
			        f->id, f->lines, total);
	}
	return r;
}

static void fetch(const char *id, jv batch)
{
	char state[16];
	struct fetch f;
	long long total;
	jv mark;

	if ((total = ready(id, batch)) < 0)
		return;
	mark_state(id, &mark, state);
	if (!strcmp(state, "disowned")) {
		fail(id, "not this job's batch: adopted provisionally, its custom_ids "
		     "proved it another's; run bt-submit again to send its chunk");
		jv_free(mark);
		return;
	}
	memset(&f, 0, sizeof f);
	f.id = id;
	f.hold = !strcmp(state, "provisional") ? hold_file() : -1;
	if (download(&f, total) == 0) {
		if (f.hold < 0)
			out(&f);
		if ((long long)f.lines != total)
			fail(id, "got %llu results, the batch has %lld requests", f.lines, total);
		else if (f.dups)
			fail(id, "the results repeat %llu custom_id%s (each was written once)",
			     f.dups, f.dups == 1 ? "" : "s");
		else if (f.hold >= 0)
			settle(&f, mark);
		else if (bt_verbose)
			bt_warn("%s: %llu results", id, f.lines);
	}
	if (f.hold < 0)
		out(&f);
	else
		close(f.hold);
	jv_free(mark);
	bt_idlist_free(&f.ids);
	bt_buf_free(&f.out);
	bt_buf_free(&f.part);
	bt_idset_free(&f.seen);
}

static struct bt_idset done;   /* batches fetched: each once */

static int each(const char *id, jv stale, void *arg)
{
	struct bt_resp resp;
	jv batch;

	(void)stale;
	(void)arg;
	if (bt_idset_add(&done, id, 1))
		return 0;   /* its results are out already */
	/* always the fresh object: the one on the input may be stale */
	batch = bt_batch_get(http, id, &resp);
	if (!jv_is_valid(batch))
		fail(id, "%s", resp.err);
	else
		fetch(id, batch);
	jv_free(batch);
	bt_resp_free(&resp);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-key-file", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	int c, bad;

	bt_init(argv);
	bt_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1)
		switch (c) {
		case 'k': bt_config_key_file(&cfg, optarg); break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	bt_config_need_key(&cfg);
	http = bt_http_new(&cfg);
	bad = bt_each_batch(argc, argv, each, NULL);
	bt_idset_free(&done);
	bt_http_free(http);
	bt_config_free(&cfg);
	bt_close_stdout();
	return bad ? bad : failed ? BT_EXIT_FAIL : 0;
}
