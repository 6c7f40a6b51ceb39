/* bt-cache — the response store: answers already bought, kept for the
 * next job that asks the same (issue 20)
 *
 *   get    requests in, the stored answers to them out, each under the
 *          asking request's custom_id and marked "bt_cached"
 *   put    REQUESTS and their results in: the successes stored
 *   stats  what the store holds; prune  remove entries by age or model
 *
 * The store is one SQLite file (WAL, mode 0600); its tables are an
 * interface (bt-cache(1)).  A request's key is lib's bt_cache_key.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "bt.h"

#define SCHEMA_VERSION 1
#define BUSY_MS (10 * 60 * 1000)        /* a writer waits up to 10 minutes */

static sqlite3 *db;
static const char *store_path;
static long long sample;
static int truncated_too, human;
static double older_than = -1;
static const char *prune_model;

static void usage(FILE *f, int status)
{
	bt_usage(f, status, "usage: bt-cache [--cache FILE] [-v] [--sample N] get [REQUESTS...]\n"
	        "       bt-cache [--cache FILE] [-v] [--sample N] [--truncated] put REQUESTS [RESULTS...]\n"
	        "       bt-cache [--cache FILE] [-H] stats\n"
	        "       bt-cache [--cache FILE] [--older-than DURATION] [--model NAME] prune\n",
	"  --cache FILE               the store (default $BT_CACHE)\n"
	"  --sample N                 the Nth sample of each request (default 0)\n"
	"  --truncated                put: store answers cut at max_tokens too\n"
	"  --older-than DURATION      prune: entries stored longer ago than DURATION\n"
	"  --model NAME               prune: entries of model NAME\n"
	"  -H                         stats: a table for people, not JSON\n"
	"  -v, --verbose              what was found or stored, on standard error\n"
	"  -h, --help                 this help\n");
}

/* ---- the store ---- */

static void die_db(const char *what)
{
	bt_die(BT_EXIT_FAIL, "%s: %s: %s", store_path, what, sqlite3_errmsg(db));
}

static void exec(const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		bt_warn("%s: %s", store_path, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		exit(BT_EXIT_FAIL);
	}
}

static sqlite3_stmt *prepare(const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die_db("cannot prepare a statement");
	return st;
}

/* The value of a one-row, one-column query; -1 when it gives none. */
static long long scalar(const char *sql)
{
	sqlite3_stmt *st = prepare(sql);
	long long v = -1;
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		die_db("cannot read it");
	sqlite3_finalize(st);
	return v;
}

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS answers (\n"
	"  key BLOB PRIMARY KEY,\n"
	"  provider TEXT NOT NULL,\n"
	"  endpoint TEXT NOT NULL,\n"
	"  model TEXT NOT NULL,\n"
	"  sample INTEGER NOT NULL,\n"
	"  request TEXT NOT NULL,\n"
	"  answer TEXT NOT NULL,\n"
	"  line_id TEXT,\n"
	"  truncated INTEGER NOT NULL,\n"
	"  custom_id TEXT NOT NULL,\n"
	"  stored_at INTEGER NOT NULL);\n"
	"CREATE TABLE IF NOT EXISTS runs (\n"
	"  at INTEGER NOT NULL,\n"
	"  command TEXT NOT NULL,\n"
	"  requests INTEGER NOT NULL,\n"
	"  hits INTEGER NOT NULL,\n"
	"  stored INTEGER NOT NULL);\n";

/* Open the store, made (mode 0600: it holds prompts and answers) with
 * its tables when new.  Another program's SQLite file, or a store of a
 * later bt-cache, is refused. */
static void store_open(void)
{
	long long v;
	int fd;

	if (!store_path || !*store_path)
		bt_die(BT_EXIT_USAGE, "no store: give --cache FILE, or set BT_CACHE");
	fd = open(store_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		bt_die(BT_EXIT_FAIL, "%s:", store_path);
	close(fd);
	if (sqlite3_open_v2(store_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		die_db("cannot open it");
	sqlite3_busy_timeout(db, BUSY_MS);
	exec("PRAGMA journal_mode=WAL");
	exec("PRAGMA synchronous=NORMAL");
	/* 32 MB of pages: a put's index pages are written to the log once,
	 * at commit, not each time the cache spills */
	exec("PRAGMA cache_size=-32768");
	/* a store made already is only read here: no write lock, and a
	 * store this user may only read is read */
	if (scalar("PRAGMA user_version") == SCHEMA_VERSION)
		return;
	exec("BEGIN IMMEDIATE");
	v = scalar("PRAGMA user_version");
	if (v > SCHEMA_VERSION)
		bt_die(BT_EXIT_FAIL, "%s: a store of a later bt-cache (version %lld; this one "
		       "knows %d)", store_path, v, SCHEMA_VERSION);
	if (v < 1) {
		if (scalar("SELECT count(*) FROM sqlite_master") > 0)
			bt_die(BT_EXIT_FAIL, "%s: an SQLite file, but not a bt-cache store: "
			       "give another --cache", store_path);
		exec(schema);
		exec("PRAGMA user_version=1");
	}
	exec("COMMIT");
}

static void store_close(void)
{
	if (sqlite3_close(db) != SQLITE_OK)
		die_db("cannot close it");
}

/* One row in runs: what a get or a put did (stats sums them).  A store
 * this user cannot write is read all the same. */
static void note_run(const char *command, long long requests, long long hits, long long stored)
{
	sqlite3_stmt *st = prepare("INSERT INTO runs VALUES (?, ?, ?, ?, ?)");

	sqlite3_bind_int64(st, 1, (long long)bt_now());
	sqlite3_bind_text(st, 2, command, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, requests);
	sqlite3_bind_int64(st, 4, hits);
	sqlite3_bind_int64(st, 5, stored);
	if (sqlite3_step(st) != SQLITE_DONE && sqlite3_errcode(db) != SQLITE_READONLY)
		die_db("cannot note the run");
	sqlite3_finalize(st);
}

/* Unix seconds as RFC 3339 UTC, to the second: 2026-12-03T23:36:05Z. */
static void when(long long t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "%lld", t);
}

/* ---- get ---- */

/* The request line s[0..n) read, and its key; bad input exits 2. */
static void request_key(const char *where, const char *s, size_t n, struct bt_request *r,
                        struct bt_buf *pre, size_t *body_at, unsigned char key[32])
{
	char err[300];

	if (bt_request_read(s, n, r, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
	if (bt_cache_key(r, sample, pre, body_at, key, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
}

/* A stored answer as a result line of r's provider, under r's custom_id,
 * marked (lib's bt_result_write_cached). */
static void write_hit(struct bt_buf *b, const struct bt_request *r, sqlite3_stmt *st,
                      const unsigned char key[32])
{
	char hex[65], at[32];

	bt_hex(key, 32, hex);
	when(sqlite3_column_int64(st, 2), at);
	bt_result_write_cached(b, r->provider, r->id, strlen(r->id),
	                       (const char *)sqlite3_column_text(st, 1),
	                       sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0),
	                       hex, at);
}

struct get {
	sqlite3_stmt *st;
	struct bt_buf pre, out;
	long long requests, hits;
};

/* One request: its stored answer, if any, out. */
static int get_line(const struct bt_lines *l, const char *where, const char *s, size_t n,
                    void *arg)
{
	struct get *g = arg;
	struct bt_request r;
	unsigned char key[32];
	size_t body_at;
	int rc;

	(void)l;
	request_key(where, s, n, &r, &g->pre, &body_at, key);
	g->requests++;
	sqlite3_bind_blob(g->st, 1, key, 32, SQLITE_STATIC);
	rc = sqlite3_step(g->st);
	if (rc == SQLITE_ROW) {
		write_hit(&g->out, &r, g->st, key);
		g->hits++;
		if (g->out.len >= 1 << 16)
			bt_flush(&g->out);
	} else if (rc != SQLITE_DONE)
		die_db("cannot look a request up");
	sqlite3_reset(g->st);
	return 0;
}

static void get(int argc, char **argv)
{
	struct get g;
	int i;

	memset(&g, 0, sizeof g);
	bt_stdout_all_or_nothing();
	/* one read transaction: one view of the store, and no lock taken
	 * again for each request */
	exec("BEGIN");
	g.st = prepare("SELECT answer, line_id, stored_at FROM answers WHERE key = ?");
	if (argc == 0)
		bt_each_line("-", get_line, &g);
	for (i = 0; i < argc; i++)
		bt_each_line(argv[i], get_line, &g);
	bt_flush(&g.out);
	bt_buf_free(&g.out);
	bt_buf_free(&g.pre);
	sqlite3_finalize(g.st);
	exec("COMMIT");
	/* the reader has all before the note is written: a put reading this
	 * get's output (get | put) holds the write lock until its input ends */
	bt_close_stdout();
	note_run("get", g.requests, g.hits, 0);
	if (bt_verbose)
		bt_warn("%lld of %lld request(s) answered by the store", g.hits, g.requests);
}

/* ---- put ---- */

/* The line of f that starts at off, into b (cleared first). */
static void line_at(int fd, const char *path, unsigned long long off, struct bt_buf *b)
{
	char *nl;
	ssize_t got;
	size_t want = 1024;     /* most lines are shorter: read little */

	b->len = 0;
	for (;;) {
		bt_buf_grow(b, want);
		got = pread(fd, b->p + b->len, want, (off_t)(off + b->len));
		if (got < 0)
			bt_die(BT_EXIT_FAIL, "%s:", path);
		nl = memchr(b->p + b->len, '\n', (size_t)got);
		if (nl) {
			b->len = (size_t)(nl - b->p);
			break;
		}
		b->len += (size_t)got;
		if (got == 0)
			break;
		if (want < 1 << 20)
			want *= 2;
		if (b->len > bt_line_max())
			bt_die(BT_EXIT_FAIL, "%s: changed while it was read", path);
	}
	if (b->len && b->p[b->len - 1] == '\r')
		b->len--;
}

struct put {
	int open;                       /* a write transaction is open */
	double began;                   /* since when (bt_mono) */
	const char *reqpath;
	int reqfd;
	struct bt_idset ids;            /* custom_id -> its line's offset + 1 */
	sqlite3_stmt *ins;
	struct bt_buf req, pre;
	long long results, stored, cut, failed, cached;
};

/* A request of REQUESTS, by custom_id: where its line is. */
static int put_request(const struct bt_lines *l, const char *where, const char *s, size_t n,
                       void *arg)
{
	struct put *p = arg;
	struct bt_request r;
	char err[300];

	if (bt_request_read(s, n, &r, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
	if (bt_idset_add(&p->ids, r.id, l->off + 1))
		bt_die(BT_EXIT_USAGE, "%s: custom_id %s is there twice: whose answer "
		       "would it be?", where, r.id);
	return 0;
}

/* One result line: a success stored under its request's key. */
static void put_result(struct put *p, const char *where, const char *s, size_t n)
{
	struct bt_result_peek pk;
	struct bt_request r;
	unsigned char key[32];
	unsigned long long off;
	size_t body_at;
	char err[300], idbuf[BT_QUOTE_MAX + 64];
	jv id;

	if (bt_result_peek(s, n, 1, &pk, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", where, err);
	p->results++;
	if (pk.kind != BT_R_SUCCEEDED) {
		p->failed++;
		return;
	}
	if (pk.cached) {                /* the store's own answer */
		p->cached++;
		return;
	}
	if (pk.truncated && !truncated_too) {
		p->cut++;
		return;
	}
	if (!(off = bt_idset_get(&p->ids, pk.id)))
		bt_die(BT_EXIT_USAGE, "%s: custom_id %s is not a request of %s: its answer "
		       "is stored only with the request it answers", where, pk.id, p->reqpath);
	if (bt_json_skip(pk.result, pk.result_len, err, sizeof err) != pk.result_len)
		bt_die(BT_EXIT_USAGE, "%s: invalid JSON: %s", where, err);
	if (!p->open) {
		exec("BEGIN IMMEDIATE");
		p->open = 1;
		p->began = bt_mono();
	}
	line_at(p->reqfd, p->reqpath, off - 1, &p->req);
	request_key(p->reqpath, p->req.p, p->req.len, &r, &p->pre, &body_at, key);
	/* the file changed under us: its line there is another request, and
	 * this answer is not its answer */
	if (strcmp(r.id, pk.id))
		bt_die(BT_EXIT_FAIL, "%s: changed while bt-cache read it (custom_id %s is no "
		       "longer where it was): %s's answer not stored", p->reqpath, pk.id, pk.id);
	if (r.provider != pk.dialect)
		bt_die(BT_EXIT_USAGE, "%s: %s's result for %s's request %s", where,
		       bt_dialect_name(pk.dialect), bt_dialect_name(r.provider), r.id);
	sqlite3_bind_blob(p->ins, 1, key, 32, SQLITE_STATIC);
	sqlite3_bind_text(p->ins, 2, bt_provider_name(r.provider), -1, SQLITE_STATIC);
	sqlite3_bind_text(p->ins, 3, bt_request_endpoint(&r), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(p->ins, 4, r.model, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(p->ins, 5, sample);
	sqlite3_bind_text(p->ins, 6, p->pre.p + body_at, (int)(p->pre.len - body_at),
	                  SQLITE_STATIC);
	sqlite3_bind_text(p->ins, 7, pk.result, (int)pk.result_len, SQLITE_STATIC);
	/* OpenAI's line id: batch_req_ (a batch's price) or sync_req_ */
	id = pk.line_id && pk.dialect == BT_DIALECT_OPENAI
	     ? bt_json_parse(pk.line_id, pk.line_id_len, NULL, 0) : jv_invalid();
	if (jv_get_kind(id) == JV_KIND_STRING)
		sqlite3_bind_text(p->ins, 8, jv_string_value(id), -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(p->ins, 8);
	jv_free(id);
	sqlite3_bind_int(p->ins, 9, pk.truncated);
	sqlite3_bind_text(p->ins, 10, pk.id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(p->ins, 11, (long long)bt_now());
	if (sqlite3_step(p->ins) != SQLITE_DONE) {
		snprintf(idbuf, sizeof idbuf, "cannot store the answer to %s", pk.id);
		die_db(idbuf);
	}
	p->stored += sqlite3_changes(db);
	sqlite3_reset(p->ins);
}

/* Commit what is stored so far, if anything. */
static void put_commit(struct put *p)
{
	if (p->open)
		exec("COMMIT");
	p->open = 0;
}

/* Whether a read of fd would wait: nothing to read yet, no end. */
static int would_wait(int fd)
{
	struct pollfd pf = { fd, POLLIN, 0 };

	return poll(&pf, 1, 0) == 0;
}

/* Store the successes of the results (argv, or stdin) of the requests
 * in reqpath.  Results in files are one transaction: a bad line stores
 * nothing.  A transaction holds the store's one write lock, so results
 * from a pipe are committed after a second, and whenever the pipe would
 * make it wait: other jobs are not held up by a slow one.  A put killed
 * loses only what it had not committed, never what was stored. */
static void put(int argc, char **argv)
{
	struct put p;
	struct bt_lines l;
	char where[300];
	size_t n;
	char *s;
	int i;

	if (argc < 1)
		bt_die(BT_EXIT_USAGE, "put: the requests file is missing (bt-cache put REQUESTS)");
	memset(&p, 0, sizeof p);
	p.reqpath = argv[0];
	/* a regular file: its lines are read again by their place */
	if ((p.reqfd = bt_open_regular(p.reqpath)) < 0)
		bt_die(BT_EXIT_USAGE, "%s: %s", p.reqpath, bt_open_regular_why());
	bt_each_line(p.reqpath, put_request, &p);
	/* an uncut answer is kept; a cut one gives way to an uncut one */
	p.ins = prepare("INSERT INTO answers (key, provider, endpoint, model, sample, "
	                "request, answer, line_id, truncated, custom_id, stored_at) "
	                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
	                "SET answer = excluded.answer, line_id = excluded.line_id, "
	                "truncated = excluded.truncated, custom_id = excluded.custom_id, "
	                "stored_at = excluded.stored_at "
	                "WHERE answers.truncated > excluded.truncated");
	for (i = argc > 1 ? 1 : 0; i < (argc > 1 ? argc : 1); i++) {
		const char *path = argc > 1 ? argv[i] : "-";

		struct stat sb;
		int piped;

		if (bt_lines_open(&l, path) < 0)
			bt_die(BT_EXIT_USAGE, "%s:", path);
		piped = fstat(l.fd, &sb) < 0 || !S_ISREG(sb.st_mode);
		for (;;) {
			if (piped && p.open && (bt_mono() - p.began > 1 ||
			                        (l.start >= l.end && !l.eof && would_wait(l.fd))))
				put_commit(&p);
			if (!(s = bt_lines_next(&l, &n)))
				break;
			if (bt_blank(s, n))
				continue;
			snprintf(where, sizeof where, "%s:%llu", l.name, l.lineno);
			put_result(&p, where, s, n);
		}
		bt_lines_close(&l);
	}
	sqlite3_finalize(p.ins);
	put_commit(&p);
	note_run("put", p.results, 0, p.stored);
	close(p.reqfd);
	if (bt_verbose)
		bt_warn("%lld result(s): %lld answer(s) stored; %lld from the store, %lld "
		        "cut at max_tokens%s, %lld not succeeded", p.results, p.stored,
		        p.cached, p.cut, truncated_too ? "" : " (stored only with --truncated)",
		        p.failed);
	bt_idset_free(&p.ids);
	bt_buf_free(&p.req);
	bt_buf_free(&p.pre);
}

/* ---- stats, prune ---- */

static void stats(void)
{
	sqlite3_stmt *st;
	struct bt_buf b = { 0 };
	struct stat sb;
	long long entries, bytes, file = 0, gets, asked, hits, puts, stored;
	char old[32] = "", new[32] = "";
	const char *wal;
	int first = 1;

	exec("BEGIN");
	entries = scalar("SELECT count(*) FROM answers");
	bytes = scalar("SELECT coalesce(sum(length(CAST(request AS BLOB)) + "
	               "length(CAST(answer AS BLOB))), 0) FROM answers");
	gets = scalar("SELECT count(*) FROM runs WHERE command = 'get'");
	asked = scalar("SELECT coalesce(sum(requests), 0) FROM runs WHERE command = 'get'");
	hits = scalar("SELECT coalesce(sum(hits), 0) FROM runs WHERE command = 'get'");
	puts = scalar("SELECT count(*) FROM runs WHERE command = 'put'");
	stored = scalar("SELECT coalesce(sum(stored), 0) FROM runs WHERE command = 'put'");
	if (entries > 0) {
		when(scalar("SELECT min(stored_at) FROM answers"), old);
		when(scalar("SELECT max(stored_at) FROM answers"), new);
	}
	if (stat(store_path, &sb) == 0)
		file += sb.st_size;
	wal = bt_asprintf("%s-wal", store_path);
	if (stat(wal, &sb) == 0)
		file += sb.st_size;
	free((void *)wal);
	st = prepare("SELECT provider, model, count(*), sum(length(CAST(request AS BLOB)) + "
	             "length(CAST(answer AS BLOB))), sum(truncated) FROM answers "
	             "GROUP BY provider, model ORDER BY provider, model");
	if (human) {
		bt_buf_printf(&b, "%s: %lld entries, %lld bytes of requests and answers "
		              "(%lld bytes on disk)\n", store_path, entries, bytes, file);
		if (entries > 0)
			bt_buf_printf(&b, "stored from %s to %s\n", old, new);
		bt_buf_printf(&b, "get: %lld run(s), %lld of %lld requests answered by "
		              "the store\nput: %lld run(s), %lld answers stored\n",
		              gets, hits, asked, puts, stored);
	} else {
		bt_buf_adds(&b, "{\"store\":");
		bt_json_write_str(&b, store_path, strlen(store_path));
		bt_buf_printf(&b, ",\"entries\":%lld,\"bytes\":%lld,\"file_bytes\":%lld,"
		              "\"oldest\":", entries, bytes, file);
		bt_buf_adds(&b, *old ? "\"" : "null");
		bt_buf_printf(&b, "%s%s,\"newest\":%s%s%s", old, *old ? "\"" : "",
		              *new ? "\"" : "", *new ? new : "null", *new ? "\"" : "");
		bt_buf_printf(&b, ",\"gets\":%lld,\"requests\":%lld,\"hits\":%lld,"
		              "\"puts\":%lld,\"stored\":%lld,\"models\":[", gets, asked, hits,
		              puts, stored);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *prov = (const char *)sqlite3_column_text(st, 0);
		const char *model = (const char *)sqlite3_column_text(st, 1);

		if (human) {
			bt_buf_printf(&b, "  %-10s %-32s %10lld entries %14lld bytes",
			              prov, model, sqlite3_column_int64(st, 2),
			              sqlite3_column_int64(st, 3));
			if (sqlite3_column_int64(st, 4))
				bt_buf_printf(&b, ", %lld cut", sqlite3_column_int64(st, 4));
			bt_buf_addc(&b, '\n');
			continue;
		}
		bt_buf_adds(&b, first ? "{\"provider\":" : ",{\"provider\":");
		first = 0;
		bt_json_write_str(&b, prov, strlen(prov));
		bt_buf_adds(&b, ",\"model\":");
		bt_json_write_str(&b, model, strlen(model));
		bt_buf_printf(&b, ",\"entries\":%lld,\"bytes\":%lld,\"truncated\":%lld}",
		              sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3),
		              sqlite3_column_int64(st, 4));
	}
	sqlite3_finalize(st);
	exec("COMMIT");
	if (!human)
		bt_buf_adds(&b, "]}\n");
	bt_flush(&b);
	bt_buf_free(&b);
}

static void prune(void)
{
	sqlite3_stmt *st;
	long long removed, left;
	char out[100];

	if (older_than < 0 && !prune_model)
		bt_die(BT_EXIT_USAGE, "prune: say what to remove: --older-than DURATION, "
		       "--model NAME, or both");
	exec("BEGIN IMMEDIATE");
	st = prepare("DELETE FROM answers WHERE (?1 IS NULL OR stored_at < ?1) "
	             "AND (?2 IS NULL OR model = ?2)");
	if (older_than >= 0)
		sqlite3_bind_int64(st, 1, (long long)(bt_now() - older_than));
	if (prune_model)
		sqlite3_bind_text(st, 2, prune_model, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		die_db("cannot remove entries");
	removed = sqlite3_changes(db);
	sqlite3_finalize(st);
	left = scalar("SELECT count(*) FROM answers");
	exec("COMMIT");
	snprintf(out, sizeof out, "{\"removed\":%lld,\"entries\":%lld}\n", removed, left);
	bt_out(out, strlen(out));
}

/* An option given that goes with command want only. */
static void only(int given, const char *option, const char *want, const char *cmd)
{
	if (given && strcmp(cmd, want))
		bt_die(BT_EXIT_USAGE, "%s goes with %s, not %s", option, want, cmd);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cache", required_argument, 0, 'C' },
		{ "sample", required_argument, 0, 's' },
		{ "truncated", no_argument, 0, 't' },
		{ "older-than", required_argument, 0, 'o' },
		{ "model", required_argument, 0, 'm' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *cmd;
	int c;

	bt_init(argv);
	store_path = getenv("BT_CACHE");
	while ((c = getopt_long(argc, argv, "hvH", opts, NULL)) != -1)
		switch (c) {
		case 'C': store_path = optarg; break;
		case 's': sample = bt_num(optarg, 0, 1000000000, "--sample"); break;
		case 't': truncated_too = 1; break;
		case 'o': older_than = bt_duration(optarg, "--older-than"); break;
		case 'm': prune_model = optarg; break;
		case 'H': human = 1; break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage(stderr, BT_EXIT_USAGE);
	cmd = argv[0];
	if (strcmp(cmd, "get") && strcmp(cmd, "put") && strcmp(cmd, "stats") &&
	    strcmp(cmd, "prune"))
		bt_die(BT_EXIT_USAGE, "unknown command \"%s\": give get, put, stats or prune", cmd);
	/* an option another command takes is not ignored here */
	only(truncated_too, "--truncated", "put", cmd);
	only(older_than >= 0, "--older-than", "prune", cmd);
	only(prune_model != NULL, "--model", "prune", cmd);
	only(human, "-H", "stats", cmd);
	if (sample && strcmp(cmd, "get") && strcmp(cmd, "put"))
		bt_die(BT_EXIT_USAGE, "--sample goes with get and put, not %s", cmd);
	if ((!strcmp(cmd, "stats") || !strcmp(cmd, "prune")) && argc > 1)
		bt_die(BT_EXIT_USAGE, "%s takes no files: %s", cmd, argv[1]);
	store_open();
	if (!strcmp(cmd, "get"))
		get(argc - 1, argv + 1);
	else if (!strcmp(cmd, "put"))
		put(argc - 1, argv + 1);
	else if (!strcmp(cmd, "stats"))
		stats();
	else
		prune();
	store_close();
	if (strcmp(cmd, "get"))         /* get closes it itself */
		bt_close_stdout();
	return 0;
}
