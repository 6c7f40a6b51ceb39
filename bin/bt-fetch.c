/* bt-fetch — batches in, results out */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

static struct bt_http *http;
static struct bt_config cfg;
static int failed;

/* --done FILE: the batches fetched in full before, one id a line */
static struct {
	const char *path;
	struct bt_idset ids;
	int fd;                 /* open for appending */
	int torn;               /* it ends in a line cut short */
} listed = { NULL, { 0 }, -1, 0 };

/* one batch's download */
struct fetch {
	const char *id;
	jv batch;               /* its object (borrowed) */
	struct bt_buf part;     /* a line not yet complete */
	struct bt_buf mended;   /* a line made valid UTF-8 */
	int said_utf8;          /* bad UTF-8 was said */
	struct bt_buf out;      /* lines not yet written */
	struct bt_idset seen;   /* custom_ids written, for this batch */
	unsigned long long lines, dups;
	int attempt;            /* 1 for the first download, 2... after a cut */
	char err[300];
	int hold;               /* held back in a temporary file until its
	                           custom_ids are checked; -1: written out */
	struct bt_idlist ids;   /* the custom_ids, when held */
	off_t held;             /* bytes in the hold file */
	struct bt_idset tags;   /* the tags its claims' creates sent */
	off_t tag_at;           /* the line that carries one: where, */
	size_t tag_len;         /* how long; -1 at: none */
	/* streamed, each line checked as it comes (a batch its own create
	 * made): the chunk's custom_ids, its create's tag and first id */
	struct bt_idset chunk;
	int checked, tag_seen;
	char tag[BT_ID_MAX + 1], first[BT_ID_MAX + 1];
	unsigned long long first_at;    /* the first id's line in the chunk */
	unsigned char *written;         /* a bit a chunk line: its result written */
	size_t written_n;               /* bytes of it */
};

static void usage(FILE *f, int status)
{
	bt_usage(f, status, "usage: bt-fetch [-v] [--done FILE] [--api-key-file FILE] [BATCH...]\n",
	"  --done FILE                skip the batches in FILE, add each fetched\n"
	"  --api-key-file FILE        the API key from FILE's first line\n"
	"  -v, --verbose              say what happens on stderr\n"
	"  -h, --help                 this help\n");
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
	else
		f->held += (off_t)f->out.len;
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

/* Bytes [from, to) of the hold file to stdout. */
static void copy_held(struct fetch *f, off_t from, off_t to)
{
	struct bt_buf b = { 0 };
	ssize_t r;
	size_t want;

	bt_buf_grow(&b, 1 << 20);
	while (from < to) {
		want = to - from < (1 << 20) ? (size_t)(to - from) : (1 << 20);
		r = pread(f->hold, b.p, want, from);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			bt_die(BT_EXIT_FAIL, "%s: a temporary file: read error:", f->id);
		b.len = (size_t)r;
		from += r;
		bt_flush(&b);
	}
	bt_buf_free(&b);
}

/* The held results to stdout, the line that carries tag (when not "")
 * under the custom_id first instead: the chunk's own. */
static void let_out(struct fetch *f, const char *tag, const char *first)
{
	struct bt_buf b = { 0 }, line = { 0 };
	const char *at;
	size_t n;

	out(f);
	if (!tag[0] || f->tag_at < 0) {
		copy_held(f, 0, f->held);
		return;
	}
	copy_held(f, 0, f->tag_at);
	bt_buf_grow(&line, f->tag_len + 1);
	if (pread(f->hold, line.p, f->tag_len, f->tag_at) != (ssize_t)f->tag_len)
		bt_die(BT_EXIT_FAIL, "%s: a temporary file: read error:", f->id);
	line.len = f->tag_len;
	bt_json_member_raw(line.p, line.len, "custom_id", &at, &n);
	if (!at)
		bt_die(BT_EXIT_FAIL, "%s: the tagged result has no custom_id", f->id);
	bt_buf_add(&b, line.p, (size_t)(at - line.p));
	bt_buf_printf(&b, "\"%s\"", first);
	bt_buf_add(&b, at + n, (size_t)(line.p + line.len - (at + n)));
	bt_flush(&b);
	bt_buf_free(&b);
	bt_buf_free(&line);
	copy_held(f, f->tag_at + (off_t)f->tag_len, f->held);
}

/* A held batch's results are let out only when their custom_ids are
 * exactly those of the chunk it was adopted for (bt.7, RECONCILIATION). */
static int settle(struct fetch *f, jv mark)
{
	char digest[65], want[65] = "", chunk[300] = "", why[600];

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
		return -1;
	}
	let_out(f, "", "");
	bt_adopted_confirm(f->id, mark);
	if (bt_verbose)
		bt_warn("%s: its custom_ids are those of %s: adopted for good", f->id, chunk);
	return 0;
}

/* ---- claims (bt.7, RECONCILIATION) ---- */

static char *my_journal;        /* this job's journal, absolute; or NULL */

static int claim_is(jv claim, const char *field, const char *want)
{
	char v[4096];

	return want && bt_batch_field(claim, field, v, sizeof v) == 0 && !strcmp(v, want);
}

/* Every tag the claims' creates sent, to find the line that carries one. */
static void claim_tags(struct fetch *f, jv claims)
{
	char first[BT_ID_MAX + 1], t[BT_ID_MAX + 1];
	int i, k;
	jv c, nonces, x;

	for (i = 0; i < jv_array_length(jv_copy(claims)); i++) {
		c = jv_array_get(jv_copy(claims), i);
		nonces = jv_object_get(jv_copy(c), jv_string("nonces"));
		if (bt_batch_field(c, "first_id", first, sizeof first) == 0 &&
		    jv_get_kind(nonces) == JV_KIND_ARRAY)
			for (k = 0; k < jv_array_length(jv_copy(nonces)); k++) {
				x = jv_array_get(jv_copy(nonces), k);
				if (jv_get_kind(x) == JV_KIND_STRING) {
					bt_tag_id(first, jv_string_value(x), t);
					bt_idset_add(&f->tags, t, 1);
				}
				jv_free(x);
			}
		jv_free(nonces);
		jv_free(c);
	}
}

/* Whether the batch was let go by this job: its claims of this journal
 * all say "rejected".  Such a batch is another's: never fetched here.
 * 0 no; 1 let go; 2 let go, and a record it was adopted for is left with
 * no batch (its chunk is to be sent again). */
static int let_go(jv claims)
{
	char d[4096], n[256], st[16];
	int i, mine = 0, gone = 0, orphan = 0;
	jv c, rec;

	for (i = 0; i < jv_array_length(jv_copy(claims)); i++) {
		c = jv_array_get(jv_copy(claims), i);
		if (claim_is(c, "journal", my_journal)) {
			mine++;
			gone += claim_is(c, "state", "rejected");
			st[0] = 0;
			if (bt_batch_field(c, "record", n, sizeof n) == 0 &&
			    bt_batch_field(c, "journal", d, sizeof d) == 0) {
				rec = bt_journal_read(d, n);
				bt_batch_field(rec, "state", st, sizeof st);
				jv_free(rec);
			}
			orphan |= strcmp(st, "created") != 0;
		}
		jv_free(c);
	}
	return !mine || mine != gone ? 0 : orphan ? 2 : 1;
}

/* The held results, checked against every claim on the batch: each claim
 * is settled in its record, and the results go out when they prove the
 * claim of this job's journal (or the only claim there is).  1 written,
 * 0 not this job's (settled), -1 a failure (reported). */
static int verify(struct fetch *f, jv claims)
{
	int i, n = jv_array_length(jv_copy(claims)), mine = -1, orphan = 0, made_bad = 0;
	int has_mine = 0;
	char tag[BT_ID_MAX + 1], t[BT_ID_MAX + 1], first[BT_ID_MAX + 1] = "";
	char chunk[300] = "", why[600], other[600] = "", orphan_chunk[300] = "";
	int *proved = bt_calloc((size_t)n + 1, sizeof *proved);
	jv c;

	tag[0] = 0;
	for (i = 0; i < n; i++) {
		c = jv_array_get(jv_copy(claims), i);
		proved[i] = bt_claim_proved(c, &f->ids, t, sizeof t);
		if (proved[i] && (mine < 0 || claim_is(c, "journal", my_journal)) &&
		    (n == 1 || claim_is(c, "journal", my_journal))) {
			mine = i;
			snprintf(tag, sizeof tag, "%s", t);
			bt_batch_field(c, "first_id", first, sizeof first);
		}
		if (proved[i] && !claim_is(c, "journal", my_journal))
			bt_batch_field(c, "journal", other, sizeof other);
		has_mine |= claim_is(c, "journal", my_journal);
		jv_free(c);
	}
	for (i = 0; i < n; i++) {
		c = jv_array_get(jv_copy(claims), i);
		bt_batch_field(c, "chunk", chunk, sizeof chunk);
		if (!proved[i] && claim_is(c, "state", "made")) {
			/* the batch its own create made: results that are not
			 * its chunk's are the server's fault, not settled */
			made_bad = 1;
			fail(f->id, "its results' custom_ids are not those of %s, the chunk "
			     "it was made for: none is written (is this the server it was "
			     "sent to?)", chunk);
		} else if (!claim_is(c, "state", "rejected")) {
			snprintf(why, sizeof why, "%s was adopted provisionally for %s after a "
			         "create that got no answer, but its results prove it another "
			         "create's", f->id, chunk);
			if (bt_claim_settle(f->id, c, proved[i], why) &&
			    claim_is(c, "journal", my_journal)) {
				orphan = 1;
				snprintf(orphan_chunk, sizeof orphan_chunk, "%s", chunk);
			}
			if (!proved[i] && bt_verbose)
				bt_warn("%s: not the batch of %s (its results prove it another "
				        "create's): let go", f->id, chunk);
		}
		jv_free(c);
	}
	free(proved);
	if (mine >= 0 && !made_bad) {
		let_out(f, tag, first);
		if (bt_verbose)
			bt_warn("%s: its results prove it this job's", f->id);
		return 1;
	}
	if (made_bad)
		return -1;
	if (orphan) {
		fail(f->id, "adopted provisionally for %s after a create that got no "
		     "answer, but its results prove it another create's, as did those of "
		     "any other batch adopted with it: none is written; bt-submit sends "
		     "the chunk again", orphan_chunk);
		return -1;
	}
	if (!has_mine) {
		if (other[0])
			fail(f->id, "its results prove it the batch of the journal %s, not "
			     "of this job's: fetch it there (BT_STATE_DIR)", other);
		else
			fail(f->id, "its results prove it none of the chunks it was adopted "
			     "for: none is written");
		return -1;
	}
	return 0;
}

/* A batch its own create made (claimed "made", tagged, with the chunk's
 * ids beside the claim): streamed, each line checked as it comes, the
 * tagged one written under the first id.  1 when so set up. */
static int stream_checked(struct fetch *f, jv claims)
{
	char first[BT_ID_MAX + 1];
	jv c = jv_array_get(jv_copy(claims), 0), nonces, last;
	int n, ok = 0;

	nonces = jv_object_get(jv_copy(c), jv_string("nonces"));
	n = jv_get_kind(nonces) == JV_KIND_ARRAY ? jv_array_length(jv_copy(nonces)) : 0;
	if (claim_is(c, "tagged", "metadata") && claim_is(c, "state", "made") &&
	    bt_claim_ids(f->id, c, &f->chunk) == 0) {
		/* the tag is on the batch (OpenAI's metadata): no line carries
		 * it, every line is one of the chunk's own */
		f->tag[0] = f->first[0] = 0;
		ok = f->checked = 1;
	} else if (n > 0 && claim_is(c, "state", "made") &&
	    bt_batch_field(c, "first_id", first, sizeof first) == 0 &&
	    bt_claim_ids(f->id, c, &f->chunk) == 0) {
		last = jv_array_get(jv_copy(nonces), n - 1);
		if (jv_get_kind(last) == JV_KIND_STRING) {
			bt_tag_id(first, jv_string_value(last), f->tag);
			snprintf(f->first, sizeof f->first, "%s", first);
			/* 0 when it is not there: then no line is */
			f->first_at = bt_idset_get(&f->chunk, first);
			ok = f->checked = 1;
		}
		jv_free(last);
	}
	jv_free(nonces);
	jv_free(c);
	return ok;
}

/* Whether the result for the chunk's line AT was written before, marking
 * it written.  A checked stream's ids are all its chunk's, found there
 * anyway: a bit a line serves where a second set of ids would cost a
 * hash lookup (mostly cache misses) a line. */
static int written_before(struct fetch *f, unsigned long long at)
{
	size_t i = (size_t)(at / 8), n;
	unsigned char bit = (unsigned char)(1u << (at % 8));

	if (i >= f->written_n) {
		n = f->written_n ? f->written_n : 1024;
		while (n <= i)
			n *= 2;
		f->written = bt_realloc(f->written, n);
		memset(f->written + f->written_n, 0, n - f->written_n);
		f->written_n = n;
	}
	if (f->written[i] & bit)
		return 1;
	f->written[i] |= bit;
	return 0;
}

/* A complete result line: check it, write it unless it was written by an
 * earlier try.  Nonzero stops the download. */
static int line(struct fetch *f, char *s, size_t n)
{
	struct bt_result_peek p;
	char err[200];
	unsigned long long at = 0;
	int mend;

	if (n && s[n - 1] == '\r')
		n--;
	if (bt_blank(s, n))
		return 0;
	/* every stream is UTF-8: a bad byte in an answer becomes U+FFFD
	 * (bt.7, STREAMS), said once */
	mend = bt_json_mend_utf8(s, n, &f->mended);
	if (mend > 0) {
		s = f->mended.p;
		n = f->mended.len;
	}
	/* the API's own lines: their shape is checked (lib/result.c), not
	 * every number */
	if (bt_result_peek(s, n, 0, &p, err, sizeof err) < 0) {
		snprintf(f->err, sizeof f->err, "result line %llu: %s", f->lines + 1, err);
		return -1;
	}
	if (mend > 0 && !f->said_utf8++)
		bt_warn("%s: custom_id \"%s\": invalid UTF-8 in the answer, replaced "
		        "by U+FFFD", f->id, f->checked && !strcmp(p.id, f->tag) ?
		        f->first : p.id);
	if (f->checked && !strcmp(p.id, f->tag)) {
		/* written under the chunk's own first custom_id */
		const char *at;
		size_t an;

		bt_json_member_raw(s, n, "custom_id", &at, &an);
		if (!at) {
			snprintf(f->err, sizeof f->err, "result line %llu: no custom_id", f->lines + 1);
			return -1;
		}
		if (!written_before(f, f->first_at)) {
			f->lines++;
			f->tag_seen = 1;
			bt_buf_add(&f->out, s, (size_t)(at - s));
			bt_buf_printf(&f->out, "\"%s\"", f->first);
			bt_buf_add(&f->out, at + an, (size_t)(s + n - (at + an)));
			bt_buf_addc(&f->out, '\n');
		} else if (f->attempt == 1)
			f->dups++;
		return 0;
	}
	if (f->checked && (!(at = bt_idset_get(&f->chunk, p.id)) || at == f->first_at)) {
		snprintf(f->err, sizeof f->err, "result line %llu: custom_id \"%s\" is not one "
		         "of its chunk's (is this the server it was sent to?): none after it is "
		         "written", f->lines + 1, p.id);
		return -1;
	}
	if (f->checked ? written_before(f, at) : bt_idset_add(&f->seen, p.id, f->lines + 1) != 0) {
		if (f->attempt == 1)    /* the API sent one id twice */
			f->dups++;
		return 0;               /* written already */
	}
	f->lines++;
	if (f->hold >= 0)
		bt_idlist_add(&f->ids, p.id, strlen(p.id));
	if (f->hold >= 0 && bt_idset_get(&f->tags, p.id)) {
		f->tag_at = f->held + (off_t)f->out.len;
		f->tag_len = n;
	}
	bt_buf_add(&f->out, s, n);
	bt_buf_addc(&f->out, '\n');
	if (f->out.len >= (1 << 16))
		out(f);
	return 0;
}

/* A result line longer than any reader holds: the download stops. */
static int too_long(struct fetch *f)
{
	snprintf(f->err, sizeof f->err, "result line %llu: longer than %zu bytes",
	         f->lines + 1, bt_line_max());
	return -1;
}

static int sink(const char *p, size_t n, void *arg)
{
	struct fetch *f = arg;
	const char *nl, *end = p + n;

	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (f->part.len + (size_t)(nl - p) > bt_line_max() + 1)    /* and "\r" */
			return too_long(f);
		if (f->part.len) {
			bt_buf_add(&f->part, p, (size_t)(nl - p));
			if (line(f, f->part.p, f->part.len))
				return -1;
			f->part.len = 0;
		} else if (line(f, (char *)p, (size_t)(nl - p)))
			return -1;
		p = nl + 1;
	}
	if (p < end && f->part.len + (size_t)(end - p) > bt_line_max() + 1)
		return too_long(f);
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

/* The chunk a batch was made from, by its claims on this server; NULL
 * when none says (the string is static). */
static const char *failed_chunk(const char *id)
{
	static char chunk[BT_PATH_MAX + 256];
	jv claims = bt_claims_get(id, cfg.base_url), c;
	int i, n = jv_array_length(jv_copy(claims)), got = 0;

	for (i = 0; i < n && !got; i++) {
		c = jv_array_get(jv_copy(claims), i);
		got = bt_batch_field(c, "chunk", chunk, sizeof chunk) == 0 && chunk[0];
		jv_free(c);
	}
	jv_free(claims);
	return got ? chunk : NULL;
}

/* Whether the batch (borrowed) has results to fetch: its request count,
 * or -1 (reported). */
static long long ready(const char *id, jv batch)
{
	const struct bt_provider *pv = bt_provider();
	char status[32], archived[64], why[1000];
	long long total;

	bt_batch_field(batch, pv->status_field, status, sizeof status);
	if (bt_batch_state(batch) != BT_BATCH_ENDED) {
		fail(id, "not ended (%s): its results are not ready; pipe it through bt-wait first",
		     status[0] ? status : "no status");
		return -1;
	}
	if (pv->archived_field &&
	    bt_batch_field(batch, pv->archived_field, archived, sizeof archived) == 0) {
		fail(id, "archived at %s: its results are gone (they are kept 29 days)",
		     archived);
		return -1;
	}
	if (bt_batch_failure(batch, failed_chunk(id), why, sizeof why)) {
		fail(id, "the batch failed as a whole, and none of its requests ran: %s", why);
		return -1;
	}
	total = bt_batch_count(batch, "total");
	if (total == -2)
		fail(id, "bad answer: %s: a count that is not a whole number from 0 to 2^53",
		     pv->counts_field);
	else if (total < 0)
		fail(id, "the batch has no %s", pv->counts_field);
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

/* ---- --done FILE ---- */

/* Read the list: every whole line a batch id.  A last line without its
 * newline is a write cut short by a crash: not a batch fetched.  A line
 * that could be such a cut (a word of id characters) is let be; anything
 * else means FILE is not a list of batches. */
static void done_load(void)
{
	struct bt_buf b = { 0 };
	char tmp[1 << 16];
	unsigned long long lineno = 0;
	const char *p, *nl, *end;
	ssize_t r;
	size_t i;
	int fd;

	/* opened for appending first: a list that cannot be written fails
	 * before anything is fetched */
	listed.fd = open(listed.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
	if (listed.fd < 0 || (fd = open(listed.path, O_RDONLY | O_CLOEXEC)) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", listed.path);
	while ((r = read(fd, tmp, sizeof tmp)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			bt_die(BT_EXIT_FAIL, "%s: read error:", listed.path);
		bt_buf_add(&b, tmp, (size_t)r);
	}
	close(fd);
	for (p = b.p, end = b.p + b.len; p < end && (nl = memchr(p, '\n', (size_t)(end - p)));
	     p = nl + 1) {
		size_t n = (size_t)(nl - p);
		lineno++;
		if (n && p[n - 1] == '\r')
			n--;
		if (!n)
			continue;
		if (n < BT_BATCH_ID_MAX && bt_batch_id_ok(p, n)) {
			char id[BT_BATCH_ID_MAX];
			memcpy(id, p, n);
			id[n] = 0;
			bt_idset_add(&listed.ids, id, lineno);
			continue;
		}
		for (i = 0; i < n; i++)
			if (!(p[i] == '_' || p[i] == '-' || (p[i] >= '0' && p[i] <= '9') ||
			      (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
				bt_die(BT_EXIT_USAGE, "%s:%llu: not a batch id: --done names a "
				       "file of batch ids, one a line", listed.path, lineno);
	}
	listed.torn = b.len && b.p[b.len - 1] != '\n';
	bt_buf_free(&b);
}

/* Batch id is fetched in full: its results are written (and on disk, when
 * stdout is a file); add it to the list, on disk too.  One write of one
 * line, after a newline when the file ends in a line cut short. */
static void done_add(const char *id)
{
	struct stat st;
	char *line;
	int r;

	if (fstat(1, &st) == 0 && S_ISREG(st.st_mode) && fsync(1) < 0)
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	line = bt_asprintf("%s%s\n", listed.torn ? "\n" : "", id);
	r = bt_write_all(listed.fd, line, strlen(line));
	free(line);
	if (r < 0 || fsync(listed.fd) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error (%s is fetched but not listed: "
		       "fetching it again repeats its lines):", listed.path, id);
	listed.torn = 0;
}

/* One download of the batch's results (path), into the sink.  0, or -1
 * (reported). */
static int download_one(struct fetch *f, const char *path)
{
	struct bt_req req;
	struct bt_resp resp;
	int r = 0;

	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.path = path;
	req.body_fd = -1;
	req.may_repeat = 1;
	req.sink = sink;
	req.sink_restart = restart;
	req.sink_arg = f;
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
	return r;
}

/* Download until every result is there (three tries: a download that
 * ends early without an error is tried again too; lines written by an
 * earlier try are not written again).  The results may be in two files
 * (OpenAI's output and error files): each is read in turn.  0, or -1
 * (reported). */
static int download(struct fetch *f, long long total)
{
	char path[2][BT_PATH_MAX];
	int tries, i, n, r = 0;

	n = bt_batch_results(f->batch, f->id, path);
	for (tries = 1; tries <= 3 && r == 0; tries++) {
		f->attempt = tries == 1 ? 1 : f->attempt + 1;
		for (i = 0; i < n && r == 0; i++)
			r = download_one(f, path[i]);
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
	int whole = 0, nclaims, gone;
	jv mark, claims;

	if ((total = ready(id, batch)) < 0)
		return;
	mark_state(id, &mark, state);
	if (!strcmp(state, "disowned")) {
		fail(id, "not this job's batch: adopted provisionally, its custom_ids "
		     "proved it another's; run bt-submit again to send its chunk");
		jv_free(mark);
		return;
	}
	claims = bt_claims_get(id, cfg.base_url);
	if ((gone = let_go(claims))) {
		/* settled before: another's batch, adopted for a while */
		if (gone == 2)
			fail(id, "not this job's batch: adopted provisionally, its results "
			     "proved it another's; run bt-submit again to send its chunk");
		else if (bt_verbose)
			bt_warn("%s: another's batch (its results proved it): skipped", id);
		if (gone == 1 && listed.path)
			done_add(id);
		jv_free(claims);
		jv_free(mark);
		return;
	}
	memset(&f, 0, sizeof f);
	f.id = id;
	f.batch = batch;
	f.tag_at = -1;
	nclaims = jv_array_length(jv_copy(claims));
	if (nclaims == 1 && stream_checked(&f, claims))
		nclaims = 0;    /* checked line by line, as it streams */
	f.hold = !strcmp(state, "provisional") || nclaims ? hold_file() : -1;
	claim_tags(&f, claims);
	if (download(&f, total) == 0) {
		if (f.hold < 0)
			out(&f);
		if ((long long)f.lines != total)
			fail(id, "got %llu results, the batch has %lld requests", f.lines, total);
		else if (f.dups)
			fail(id, "the results repeat %llu custom_id%s (each was written once)",
			     f.dups, f.dups == 1 ? "" : "s");
		else if (f.checked && f.tag[0] && !f.tag_seen)
			fail(id, "the tag its create sent is not among its results: they may "
			     "not be its chunk's (is this the server it was sent to?)");
		else if (f.hold >= 0 && nclaims)
			whole = verify(&f, claims) >= 0;
		else if (f.hold >= 0)
			whole = settle(&f, mark) == 0;
		else {
			whole = 1;
			if (bt_verbose)
				bt_warn("%s: %llu results", id, f.lines);
		}
	}
	if (f.hold < 0)
		out(&f);
	if (whole && listed.path)
		done_add(id);
	if (f.hold >= 0)
		close(f.hold);
	jv_free(mark);
	jv_free(claims);
	bt_idset_free(&f.tags);
	bt_idset_free(&f.chunk);
	bt_idlist_free(&f.ids);
	bt_buf_free(&f.out);
	bt_buf_free(&f.part);
	bt_buf_free(&f.mended);
	bt_idset_free(&f.seen);
	free(f.written);
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
	if (bt_idset_get(&listed.ids, id)) {
		if (bt_verbose)
			bt_warn("%s: fetched before (listed in %s): skipped", id, listed.path);
		return 0;
	}
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

/* Results appended to a file (>>results.jsonl) whose last line was cut
 * short, by a crash or a full disk in an earlier run: end that line first,
 * so that it stays one bad line of its own and the first result of this
 * run is whole. */
static void mend_stdout(void)
{
	struct stat st;
	char last = '\n';
	int fl = fcntl(1, F_GETFL), fd;

	if (fl < 0 || !(fl & O_APPEND) || fstat(1, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size == 0)
		return;
	/* ">>" opens it write-only: read its last byte through another open
	 * file description (Linux's /proc; elsewhere nothing is mended) */
	if ((fd = open("/proc/self/fd/1", O_RDONLY)) < 0)
		return;
	if (pread(fd, &last, 1, st.st_size - 1) != 1)
		last = '\n';
	close(fd);
	if (last == '\n')
		return;
	bt_warn("stdout: its last line was cut short (by a crash in an earlier write?): "
	        "ended with a newline, so that what comes after is whole");
	if (write(1, "\n", 1) != 1)
		bt_die(BT_EXIT_FAIL, "stdout: write error:");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-key-file", required_argument, 0, 'k' },
		{ "done", required_argument, 0, 'd' },
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
		case 'd': listed.path = optarg; break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	bt_config_need_key(&cfg);
	if (listed.path)
		done_load();
	mend_stdout();
	http = bt_http_new(&cfg);
	{
		char *j = bt_asprintf("%s/journal", cfg.state_dir);
		my_journal = bt_realpath(j);
		free(j);
	}
	bad = bt_each_batch(argc, argv, each, NULL);
	free(my_journal);
	bt_idset_free(&done);
	bt_idset_free(&listed.ids);
	if (listed.fd >= 0 && close(listed.fd) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error:", listed.path);
	bt_http_free(http);
	bt_config_free(&cfg);
	bt_close_stdout();
	return bad ? bad : failed ? BT_EXIT_FAIL : 0;
}
