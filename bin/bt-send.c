/* bt-send — requests in, results out, through the synchronous Messages API.
 *
 * Every request line is checked first, as bt-submit checks it, and the
 * custom_ids must be unique; then each request's params go to the
 * provider's synchronous endpoint (lib/provider.c) through lib's transfer
 * engine, -c at once, within the rate limits (lib/ratelimit.c), each
 * retried by the one rule.  Each
 * answer is written as the result line bt-fetch would write for it, with
 * one write(2), so bt-join, bt-retry and bt-cost read both modes alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

#define TICK 0.5        /* seconds between looks at the clock */

/* A request line: where it is. */
struct item {
	int file;
	off_t off;
	size_t len;
};

/* A request on its way. */
struct call {
	char id[BT_ID_MAX + 1];
	char *line;             /* the request line; its params are the body */
	double out_tokens;      /* max_tokens, for the progress line */
};

static struct {
	struct bt_config cfg;
	struct bt_http *http;
	struct bt_engine *engine;
	struct bt_limits limits;
	int parallel;
	double timeout, rpm, itpm, otpm;
	/* the input */
	int *fds;
	int nfds;
	struct item *items;
	size_t n, cap, next;
	/* the output */
	const char *out_path;
	int out;
	struct bt_idset answered;   /* custom_ids already in -o */
	/* how it goes */
	size_t flying, abandoned;
	unsigned long long sent, ok, errored, skipped, waits;
	unsigned long long in_tokens, out_tokens;
	double start, hold_until;
	int progress, tty, on_screen;
	int dialect;            /* BT_DIALECT_* of the input, once a line said */
} job = { .parallel = 8, .timeout = 600, .out = 1, .dialect = -1 };

static volatile sig_atomic_t interrupted;

static void usage(FILE *f, int status)
{
	bt_usage(f, status, "usage: bt-send [-v] [-c N] [-o FILE] [--rpm N] [--itpm N] [--otpm N]\n"
	        "               [--attempt-timeout DURATION] [--api-key-file FILE] [REQUESTS...]\n",
	"  -c, --concurrency N        requests in flight at once, 1 to 1024 (default 8)\n"
	"  -o, --output FILE          append the results to FILE, skipping those in it\n"
	"  --rpm N                    at most N requests a minute\n"
	"  --itpm N                   at most N input tokens a minute\n"
	"  --otpm N                   at most N output tokens a minute\n"
	"  --attempt-timeout DURATION limit of one attempt (default 10m)\n"
	"  --api-key-file FILE        the API key from FILE's first line\n"
	"  -v, --verbose              say what happens on stderr\n"
	"  -h, --help                 this help\n");
}

static void on_int(int sig)
{
	(void)sig;
	interrupted++;
	if (interrupted > 1)
		_exit(BT_EXIT_FAIL);    /* the second: abandon what is in flight */
}

/* ---- the progress line ---- */

static void clear_progress(void)
{
	if (job.on_screen) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		job.on_screen = 0;
	}
}

static void show_progress(int final)
{
	static double shown = -1;
	double now = bt_mono(), secs = now - job.start;

	if (shown < 0)
		shown = job.start;
	if (!job.progress || (!final && now - shown < (job.tty ? 0.25 : 5)))
		return;
	shown = now;
	if (bt_before_warn)
		bt_before_warn();
	fprintf(stderr, "%s%s: %llu sent, %llu answered, %llu errored, %zu in flight, "
	        "%llu waits; %.0f input and %.0f output tokens/s%s",
	        job.tty ? "\r" : "", bt_prog, job.sent, job.ok, job.errored, job.flying, job.waits,
	        secs > 0 ? job.in_tokens / secs : 0, secs > 0 ? job.out_tokens / secs : 0,
	        job.tty && !final ? "\033[K" : "\n");
	fflush(stderr);
	job.on_screen = job.tty && !final;
}

/* ---- the input: every line checked before anything is sent ---- */

/* The requests of fd (named so in messages). */
static void read_input(int file, int fd, const char *name, struct bt_idset *ids)
{
	struct bt_lines l;
	struct bt_request r;
	char err[300];
	unsigned long long first;
	size_t n;
	char *s;

	bt_lines_fd(&l, fd, name);
	job.fds[file] = fd;   /* read again when sending */
	while ((s = bt_lines_next(&l, &n))) {
		if (bt_blank(s, n))
			continue;
		if (bt_request_read(s, n, &r, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l.name, l.lineno, err);
		/* the first request says the provider: one a stream */
		if (job.dialect < 0 && bt_config_input(r.provider, "request", err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l.name, l.lineno, err);
		if (job.dialect >= 0 && r.provider != job.dialect)
			bt_die(BT_EXIT_USAGE, "%s:%llu: an %s request, after %s ones: one provider "
			       "a stream", l.name, l.lineno, bt_dialect_name(r.provider),
			       bt_dialect_name(job.dialect));
		job.dialect = r.provider;
		if ((first = bt_idset_add(ids, r.id, l.lineno)))
			bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" "
			       "(first on line %llu)", l.name, l.lineno, r.id, first);
		if (job.n == job.cap) {
			job.cap = job.cap ? 2 * job.cap : 1024;
			job.items = bt_realloc(job.items, job.cap * sizeof *job.items);
		}
		job.items[job.n].file = file;
		job.items[job.n].off = (off_t)l.off;
		job.items[job.n++].len = n;
	}
	bt_lines_close(&l);
}

/* Standard input is read once: it is kept in an unlinked file to be read
 * again when sending. */
static int spool_stdin(void)
{
	const char *dir = getenv("TMPDIR");
	char *tmp = bt_asprintf("%s/bt-send.XXXXXX", dir && *dir ? dir : "/tmp");
	char buf[1 << 16], *p, *nl;
	unsigned long long lineno = 1;
	size_t len = 0;     /* of the line being copied */
	ssize_t r;
	int fd = mkstemp(tmp);

	if (fd < 0 || unlink(tmp) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", tmp);
	while ((r = read(0, buf, sizeof buf)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			bt_die(BT_EXIT_FAIL, "stdin: read error:");
		/* no line is longer than any reader holds: the spool is not
		 * filled past one (bt_line_max) */
		for (p = buf; (nl = memchr(p, '\n', (size_t)(buf + r - p))); p = nl + 1) {
			len = 0;
			lineno++;
		}
		len += (size_t)(buf + r - p);
		if (len > bt_line_max() + 1)    /* a "\r" before the "\n" */
			bt_die(BT_EXIT_USAGE, "stdin:%llu: line longer than %zu bytes",
			       lineno, bt_line_max());
		if (bt_write_all(fd, buf, (size_t)r) < 0)
			bt_die(BT_EXIT_FAIL, "%s: write error:", tmp);
	}
	free(tmp);
	if (lseek(fd, 0, SEEK_SET) < 0)
		bt_die(BT_EXIT_FAIL, "stdin: spool:");
	return fd;
}

/* -o FILE: the custom_ids it answers already are not sent again. */
static void read_answered(void)
{
	struct stat st;
	struct bt_result_peek p;
	struct bt_lines l;
	char err[300];
	size_t n;
	char *s;

	if (stat(job.out_path, &st) < 0 || !S_ISREG(st.st_mode))
		return;     /* none yet, or a device or pipe: nothing answered */
	if (bt_lines_open(&l, job.out_path) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", job.out_path);
	while ((s = bt_lines_next(&l, &n))) {
		if (bt_blank(s, n))
			continue;
		if (bt_result_peek(s, n, 0, &p, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l.name, l.lineno, err);
		bt_idset_add(&job.answered, p.id, l.lineno);
	}
	bt_lines_close(&l);
}

/* ---- answers ---- */

static void out_line(struct bt_buf *b)
{
	if (bt_write_all(job.out, b->p, b->len) < 0) {
		if (errno == EPIPE)
			bt_epipe();
		bt_die(BT_EXIT_FAIL, "%s: write error:", job.out_path ? job.out_path : "stdout");
	}
}

/* A 2xx body as one line: the API writes compact JSON; anything else is
 * written again by our writer. */
static void message_line(struct bt_buf *out, const char *id, const struct bt_resp *resp)
{
	const struct bt_buf *body = &resp->body;
	char err[200];
	size_t n = body->len;
	jv v;

	static int mended;
	int valid;

	while (n && (body->p[n - 1] == '\n' || body->p[n - 1] == '\r' ||
	             body->p[n - 1] == ' '))
		n--;
	/* every stream is UTF-8: the parse below mends it (bt.7, STREAMS) */
	valid = bt_utf8_valid(body->p ? body->p : "", n) == n;
	if (!valid && !mended++)
		bt_warn("%s: invalid UTF-8 in the answer, replaced by U+FFFD", id);
	if (valid && n && body->p[0] == '{' && !memchr(body->p, '\n', n) &&
	    bt_json_skip(body->p, n, NULL, 0) == n) {
		bt_answer_write(out, job.dialect, id, strlen(id), BT_R_SUCCEEDED, resp->status,
		                resp->request_id, body->p, n);
		return;
	}
	v = bt_json_parse(body->p ? body->p : "", body->len, err, sizeof err);
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		struct bt_buf m = { 0 };
		bt_json_write(&m, v);
		bt_answer_write(out, job.dialect, id, strlen(id), BT_R_SUCCEEDED, resp->status,
		                resp->request_id, m.p, m.len);
		bt_buf_free(&m);
	} else {
		struct bt_buf e = { 0 };
		bt_error_envelope_of(&e, job.dialect, 0, "api_error",
		                     "the answer is not a JSON object", NULL);
		bt_answer_write(out, job.dialect, id, strlen(id), BT_R_ERRORED, 0,
		                resp->request_id, e.p, e.len);
		bt_buf_free(&e);
		job.errored++;
		job.ok--;
	}
	jv_free(v);
}

/* The tokens an answer used, for the progress line. */
static int usage_of(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	double *t = arg;

	if (bt_json_key_is(k, kn, "input_tokens"))
		t[0] = strtod(v, NULL);
	else if (bt_json_key_is(k, kn, "output_tokens"))
		t[1] = strtod(v, NULL);
	(void)vn;
	return 0;
}

static int find_usage(const char *k, size_t kn, const char *v, size_t vn, void *arg)
{
	if (bt_json_key_is(k, kn, "usage") && *v == '{')
		bt_json_members_quick(v, vn, usage_of, arg, NULL, 0);
	return 0;
}

/* An error as the API's envelope: the body when it is one, else one made
 * from the status (or the transport error). */
static void error_line(struct bt_buf *out, const char *id, const struct bt_resp *resp)
{
	struct bt_buf e = { 0 };
	char err[200];
	size_t n = resp->body.len;
	jv v = n ? bt_json_parse(resp->body.p, n, err, sizeof err) : jv_invalid();
	jv t = jv_get_kind(v) == JV_KIND_OBJECT ?
	       jv_object_get(jv_copy(v), jv_string("error")) : jv_invalid();

	if (jv_get_kind(t) == JV_KIND_OBJECT && resp->status)
		bt_json_write(&e, v);
	else
		bt_error_envelope_of(&e, job.dialect, resp->status > 0,
		                     resp->status ? bt_error_type_of(resp->status) :
		                     resp->curl_code == CURLE_OPERATION_TIMEDOUT ? "timeout_error" :
		                     "api_error", resp->err, resp->request_id);
	jv_free(t);
	jv_free(v);
	bt_answer_write(out, job.dialect, id, strlen(id), BT_R_ERRORED, resp->status,
	                resp->request_id, e.p, e.len);
	bt_buf_free(&e);
}

static void done(int rc, struct bt_resp *resp, void *arg)
{
	struct call *c = arg;
	struct bt_buf out = { 0 };
	double t[2] = { 0, 0 };

	job.flying--;
	if (rc == BT_ABANDONED) {
		/* stopped while it waited for a retry: no line, so that -o
		 * sends it again */
		job.abandoned++;
	} else if (rc == 0) {
		job.ok++;
		message_line(&out, c->id, resp);
		if (job.progress && resp->body.len)
			bt_json_members_quick(resp->body.p, resp->body.len, find_usage, t, NULL, 0);
		job.in_tokens += (unsigned long long)t[0];
		job.out_tokens += (unsigned long long)t[1];
	} else {
		job.errored++;
		error_line(&out, c->id, resp);
		if (bt_verbose)
			bt_warn("%s: %s", c->id, resp->err);
	}
	if (out.len)
		out_line(&out);
	bt_buf_free(&out);
	free(c->line);
	free(c);
}

/* ---- sending ---- */

static void header(const char *name, size_t nlen, const char *val, size_t vlen, void *arg)
{
	char v[32], *end;
	double ra;

	(void)arg;
	bt_limits_header(&job.limits, name, nlen, val, vlen);
	if (nlen == 11 && !strncasecmp(name, "retry-after", 11) && vlen < sizeof v) {
		/* a 429 or 529: everyone waits, not just this one */
		memcpy(v, val, vlen);
		v[vlen] = 0;
		ra = strtod(v, &end);
		if (end != v && ra >= 0) {
			job.waits++;
			bt_limits_backoff(&job.limits, ra);
			bt_engine_hold(job.engine, bt_mono() + fmin(ra, BT_RETRY_AFTER_MAX));
		}
	}
}

/* The line of item i, read again. */
static char *line_of(const struct item *it)
{
	char *s = bt_malloc(it->len + 1);
	size_t got = 0;
	ssize_t r;

	while (got < it->len) {
		r = pread(job.fds[it->file], s + got, it->len - got, it->off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			bt_die(BT_EXIT_FAIL, "the requests changed while being sent");
		got += (size_t)r;
	}
	s[it->len] = 0;
	return s;
}

/* What a request takes from the buckets: itself, its input by the
 * estimate rule, its max_tokens. */
static void need_of(const char *params, size_t n, double need[3])
{
	char err[100];
	jv p = bt_json_parse(params, n, err, sizeof err), m;

	need[0] = 1;
	need[1] = jv_get_kind(p) == JV_KIND_OBJECT ? (double)bt_cost_estimate_input(p) : 1;
	m = bt_jv_get(p, "max_tokens");
	if (job.dialect == BT_DIALECT_OPENAI && !jv_is_valid(m)) {
		jv_free(m);
		m = bt_jv_get(p, "max_completion_tokens");
	}
	need[2] = jv_get_kind(m) == JV_KIND_NUMBER ? jv_number_value(m) : 0;
	if (job.dialect == BT_DIALECT_OPENAI) {
		/* OpenAI counts input and output in one bucket */
		need[1] += need[2];
		need[2] = 0;
	}
	jv_free(m);
	jv_free(p);
}

/* Start requests while there is room, in the pool and in the buckets.
 * Returns the seconds to wait before the next may start (0: none due). */
static double admit(void)
{
	struct bt_req req;
	struct bt_request r;
	const char *params, *path;
	size_t plen;
	struct call *c;
	char err[300];
	double need[3], wait;

	while (!interrupted && job.next < job.n && job.flying < (size_t)job.parallel) {
		c = bt_calloc(1, sizeof *c);
		c->line = line_of(&job.items[job.next]);
		if (bt_request_read(c->line, job.items[job.next].len, &r, err, sizeof err) < 0)
			bt_die(BT_EXIT_FAIL, "the requests changed while being sent");
		memcpy(c->id, r.id, sizeof c->id);
		if (bt_idset_get(&job.answered, c->id)) {
			job.skipped++;
			job.next++;
			free(c->line);
			free(c);
			continue;
		}
		params = r.body;        /* params, or an OpenAI line's body */
		plen = r.body_len;
		path = bt_send_path(&job.cfg, &r);
		need_of(params, plen, need);
		if ((wait = bt_limits_wait(&job.limits, need)) > 0) {
			free(c->line);
			free(c);
			return wait;
		}
		bt_limits_take(&job.limits, need);
		c->out_tokens = need[2];
		memset(&req, 0, sizeof req);
		req.method = "POST";
		req.path = path;
		req.body = params;
		req.body_len = plen;
		req.body_fd = -1;
		req.may_repeat = 1;     /* it has no idempotency key: see CAVEATS */
		req.patient = 1;
		req.timeout = job.timeout;
		req.header = header;
		req.label = c->id;
		bt_engine_add(job.engine, &req, done, c);
		job.flying++;
		job.sent++;
		job.next++;
	}
	return 0;
}

static void run(void)
{
	double wait;

	job.start = bt_mono();
	for (;;) {
		wait = admit();
		if (interrupted)        /* a retry may be minutes away */
			bt_engine_abandon_waiting(job.engine);
		if (job.flying == 0 && (job.next >= job.n || interrupted))
			break;
		bt_engine_run(job.engine, wait > 0 ? fmin(wait, TICK) : TICK, NULL, 0);
		show_progress(0);
	}
	show_progress(1);
	clear_progress();
}

/* Every request of the files named, or of standard input, checked. */
static void read_all(int argc, char **argv)
{
	struct bt_idset ids = { 0 };
	int i, fd;

	job.nfds = argc ? argc : 1;
	job.fds = bt_calloc((size_t)job.nfds, sizeof *job.fds);
	for (i = 0; i < argc; i++) {
		if ((fd = bt_open_regular(argv[i])) < 0)
			bt_die(BT_EXIT_USAGE, "%s: %s", argv[i], bt_open_regular_why());
		read_input(i, fd, argv[i], &ids);
	}
	if (!argc)
		read_input(0, spool_stdin(), "stdin", &ids);
	bt_idset_free(&ids);
}

static double per_minute(const char *s, const char *what)
{
	return (double)bt_num(s, 1, 1000000000LL, what);
}

/* Over 80 lines: the option table and its switch, a line an option. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "concurrency", required_argument, 0, 'c' },
		{ "output", required_argument, 0, 'o' },
		{ "rpm", required_argument, 0, 'R' },
		{ "itpm", required_argument, 0, 'I' },
		{ "otpm", required_argument, 0, 'O' },
		{ "attempt-timeout", required_argument, 0, 'T' },
		{ "timeout", required_argument, 0, 't' },  /* refused: see bt(7) */
		{ "api-key-file", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	struct sigaction sa;
	int c, i;

	bt_init(argv);
	bt_config_init(&job.cfg);
	while ((c = getopt_long(argc, argv, "hvc:o:", opts, NULL)) != -1)
		switch (c) {
		case 'c': job.parallel = (int)bt_num(optarg, 1, 1024, "-c"); break;
		case 'o': job.out_path = optarg; break;
		case 'R': job.rpm = per_minute(optarg, "--rpm"); break;
		case 'I': job.itpm = per_minute(optarg, "--itpm"); break;
		case 'O': job.otpm = per_minute(optarg, "--otpm"); break;
		case 'T':
			job.timeout = bt_duration(optarg, "--attempt-timeout");
			if (job.timeout <= 0)
				bt_die(BT_EXIT_USAGE, "--attempt-timeout: must be more than 0");
			break;
		case 't':
			/* once the limit of one attempt; elsewhere the whole run's */
			bt_die(BT_EXIT_USAGE, "--timeout: the limit of one attempt is now "
			       "--attempt-timeout (--timeout is a whole run's limit, as in "
			       "bt-wait; see bt(7))");
		case 'k': bt_config_key_file(&job.cfg, optarg); break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	bt_config_need_key(&job.cfg);

	read_all(argc, argv);
	if (job.out_path) {
		read_answered();
		job.out = open(job.out_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
		if (job.out < 0)
			bt_die(BT_EXIT_FAIL, "%s:", job.out_path);
	}

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	job.tty = isatty(2);
	job.progress = job.tty || bt_verbose;
	bt_before_warn = clear_progress;
	bt_limits_init(&job.limits, job.rpm, job.itpm, job.otpm);
	job.http = bt_http_new(&job.cfg);
	job.engine = bt_engine_new(job.http, job.parallel);
	run();
	bt_engine_free(job.engine);
	bt_http_free(job.http);
	if (job.skipped && bt_verbose)
		bt_warn("%llu already answered in %s: not sent again", job.skipped, job.out_path);
	if (interrupted) {
		bt_warn("interrupted: %zu of %zu requests not sent",
		        job.n - job.next + job.abandoned, job.n);
		return BT_EXIT_FAIL;
	}
	for (i = 0; i < job.nfds; i++)
		close(job.fds[i]);
	free(job.fds);
	free(job.items);
	bt_idset_free(&job.answered);
	bt_config_free(&job.cfg);
	if (job.out_path && close(job.out) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error:", job.out_path);
	return BT_EXIT_OK;
}
