/* bt-wait — batches in, ended batches out.
 *
 * The transfer engine of lib/ polls every batch (a few GETs in flight at
 * once, each retried by the one rule), and standard input is read as it
 * comes, so a batch is polled from the moment its line arrives and
 * printed the moment it ends.  No state is kept: run again on the same
 * input, it prints the same batches. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bt.h"

#define MAX_INFLIGHT    8       /* GETs at once */
#define EXPIRY_WARN     3600.0  /* warn this close to expires_at */
#define LAG             0.1     /* a batch is seen ended at most this part of
                                   the time waited late (and 1 s, or
                                   --interval; and at most a minute) */
#define MIN_STEP        1.0     /* no batch is polled more often, unless
                                   --interval says */
#define MAX_STEP        60.0
#define MAX_WAIT        3600.0  /* the longest sleep when nothing is due */

enum { WAITING, POLLING, ENDED, FAILED, SEEN };  /* SEEN: --once, not ended */

static const char *count_names[] = { "processing", "succeeded", "errored",
                                     "canceled", "expired" };

struct batch {
	char id[BT_BATCH_ID_MAX];
	int state;
	double due;             /* bt_mono() of the next poll */
	double seen;            /* bt_mono() when it came */
	int warned;             /* the expiry warning was given */
	int counted;            /* counts[] hold the last answer's counts */
	long long counts[5];
};

static struct {
	struct bt_config cfg;
	struct bt_http *http;
	struct bt_engine *engine;
	struct batch **b;
	size_t n, cap;
	struct bt_idset ids;
	double interval, timeout, start;
	int once, all, progress, tty;
	/* standard input, read as it comes */
	int in_open;
	char *in;
	size_t in_len, in_cap, in_scan;
	unsigned long long lineno;
	/* the outcome */
	int bad, failed;
	int summary;            /* --summary */
	/* progress */
	char shown[400];        /* the line last shown, without the time */
	int on_screen;          /* a \r line is on the terminal */
	long shown_secs;
} waiter;

static void usage(FILE *f, int status)
{
	bt_usage(f, status,
"usage: bt-wait [-v] [--progress] [--interval DURATION] [--timeout DURATION]\n"
"               [--once [--all]] [--summary] [--api-key-file FILE] [BATCH...]\n"
"       bt-wait --summary --offline [BATCH...]\n"
"       bt-wait --endpoint [--api-key-file FILE]\n",
	"  --progress                 a progress line on stderr\n"
	"  --interval DURATION        least time between polls (default 1s)\n"
	"  --timeout DURATION         give up after DURATION in all: exit 3\n"
	"  --once                     poll once, print the batches that ended\n"
	"  --all                      with --once: print every batch, ended or not\n"
	"  --summary                  print each batch in bt's terms, not the provider's\n"
	"  --offline                  with --summary: the objects given, asking nothing\n"
	"  --endpoint                 print the base URL and key fingerprint, exit\n"
	"  --api-key-file FILE        the API key from FILE's first line\n"
	"  -v, --verbose              say what happens on stderr\n"
	"  -h, --help                 this help\n");
}

/* "4m12s", "1h3m", "42s" */
static void fmt_secs(char *out, size_t n, double secs)
{
	long s = secs > 0 ? (long)secs : 0;

	if (s >= 3600)
		snprintf(out, n, "%ldh%ldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, n, "%ldm%lds", s / 60, s % 60);
	else
		snprintf(out, n, "%lds", s);
}

static void clear_progress(void)
{
	if (waiter.on_screen) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		waiter.on_screen = 0;
		waiter.shown[0] = 0;
	}
}

/* A diagnostic: the progress line makes way for it (bt_before_warn). */
#define say bt_warn

static void show_progress(int final)
{
	long long c[5] = { 0 };
	size_t i, ended = 0, total = 0;
	char line[sizeof waiter.shown], t[32];
	long secs = (long)(bt_mono() - waiter.start);
	int k;

	if (!waiter.progress || waiter.n == 0)
		return;
	for (i = 0; i < waiter.n; i++) {
		if (waiter.b[i]->state == FAILED)
			continue;
		if (!waiter.b[i]->counted && !final)
			return;     /* wait for the first answer of each */
		total++;
		ended += waiter.b[i]->state == ENDED;
		for (k = 0; k < 5 && waiter.b[i]->counted; k++)
			c[k] += waiter.b[i]->counts[k];
	}
	snprintf(line, sizeof line, "%s: %zu/%zu batches ended; requests: %lld %s, "
	         "%lld %s, %lld %s, %lld %s, %lld %s", bt_prog, ended, total,
	         c[0], count_names[0], c[1], count_names[1], c[2], count_names[2],
	         c[3], count_names[3], c[4], count_names[4]);
	if (!strcmp(line, waiter.shown) && (!waiter.tty || (secs == waiter.shown_secs && !final)))
		return;
	fmt_secs(t, sizeof t, secs);
	if (waiter.tty) {
		fprintf(stderr, "\r%s; %s\033[K%s", line, t, final ? "\n" : "");
		waiter.on_screen = !final;
	} else
		fprintf(stderr, "%s; %s\n", line, t);
	fflush(stderr);
	snprintf(waiter.shown, sizeof waiter.shown, "%s", line);
	waiter.shown_secs = secs;
}

/* A line of input (trimmed), or an argument: a batch to wait for.  -1
 * after saying what is wrong with it. */
static int add(const char *s, size_t n, const char *where,
               unsigned long long line)
{
	char id[BT_BATCH_ID_MAX], err[300];
	struct batch *b;
	jv obj;

	if (bt_batch_ref(s, n, id, &obj, err, sizeof err) < 0) {
		say("%s: %s", where, err);
		return -1;
	}
	jv_free(obj);   /* stale: it is fetched afresh */
	if (bt_idset_add(&waiter.ids, id, line))
		return 0;   /* already waited for */
	if (waiter.n == waiter.cap) {
		waiter.cap = waiter.cap ? waiter.cap * 2 : 16;
		waiter.b = bt_realloc(waiter.b, waiter.cap * sizeof *waiter.b);
	}
	b = bt_calloc(1, sizeof *b);
	memcpy(b->id, id, sizeof b->id);
	b->state = WAITING;
	b->due = bt_mono();
	b->seen = bt_mono();
	waiter.b[waiter.n++] = b;
	return 0;
}

/* A bad line ends the input, as in every reader of batches (bt.7): the
 * batches before it are waited for, nothing after it is read, and the
 * pipe is let go so that the writer learns it at once. */
static void end_input(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	waiter.bad = 1;
	waiter.in_open = 0;
	waiter.in_len = waiter.in_scan = 0;
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
}

static void in_line(char *s, size_t n)
{
	char where[64];

	waiter.lineno++;
	if (n && s[n - 1] == '\r')
		n--;
	if (bt_blank(s, n))
		return;
	snprintf(where, sizeof where, "stdin:%llu", waiter.lineno);
	if (add(s, n, where, waiter.lineno) < 0)
		end_input();
}

/* Standard input is readable: one read(2), so it never blocks. */
static void read_stdin(void)
{
	ssize_t r;
	char *nl;
	size_t start = 0;

	if (waiter.in_cap - waiter.in_len < 4096) {
		waiter.in_cap = waiter.in_cap ? waiter.in_cap * 2 : 65536;
		waiter.in = bt_realloc(waiter.in, waiter.in_cap);
	}
	r = read(0, waiter.in + waiter.in_len, waiter.in_cap - waiter.in_len);
	if (r < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		bt_die(BT_EXIT_FAIL, "stdin: read error:");
	}
	if (r == 0) {
		waiter.in_open = 0;
		if (waiter.in_len)   /* a last line without its newline */
			in_line(waiter.in, waiter.in_len);
		waiter.in_len = 0;
		return;
	}
	waiter.in_len += (size_t)r;
	while ((nl = memchr(waiter.in + waiter.in_scan, '\n', waiter.in_len - waiter.in_scan))) {
		in_line(waiter.in + start, (size_t)(nl - waiter.in) - start);
		if (!waiter.in_open)
			return;     /* a bad line: nothing more is read */
		start = (size_t)(nl - waiter.in) + 1;
		waiter.in_scan = start;
	}
	memmove(waiter.in, waiter.in + start, waiter.in_len - start);
	waiter.in_len -= start;
	waiter.in_scan = waiter.in_len;
	if (waiter.in_len > bt_line_max()) {     /* a bad line, held no further */
		say("stdin:%llu: line longer than %zu bytes", waiter.lineno + 1,
		    bt_line_max());
		end_input();
	}
}

static void polled(int rc, struct bt_resp *resp, void *arg);

static void start_poll(struct batch *b)
{
	char path[BT_PATH_MAX];
	struct bt_req req;

	bt_batch_path(path, bt_provider()->batch_path, b->id);
	memset(&req, 0, sizeof req);
	req.method = "GET";
	req.path = path;
	req.body_fd = -1;
	req.may_repeat = 1;
	req.label = b->id;
	bt_engine_add(waiter.engine, &req, polled, b);
	b->state = POLLING;
}

static void fail(struct batch *b, const char *err)
{
	say("%s: %s", b->id, err);
	b->state = FAILED;
	waiter.failed = 1;
}

static time_t parse_time(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof tm);
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
	           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return (time_t)-1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return bt_timegm(&tm);
}

static void check_expiry(struct batch *b, jv v)
{
	char at[64], when[32], stamp[32];
	time_t t;
	double left;

	if (b->warned || bt_batch_time(v, BT_TIME_EXPIRES, at, sizeof at) < 0 ||
	    (t = parse_time(at)) == (time_t)-1)
		return;
	left = (double)t - bt_now();
	if (left > EXPIRY_WARN)
		return;
	b->warned = 1;
	if (left >= 60)
		snprintf(when, sizeof when, "%ldm", (long)(left / 60));
	else
		snprintf(when, sizeof when, "%lds", left > 0 ? (long)left : 0L);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	say("%s: expires in %s (at %s), %lld requests still processing", b->id,
	    when, stamp, bt_batch_count(v, "processing"));
}

/* The wait before the next poll of a batch waited for so long: a tenth
 * of it, so that the lag stays a small part of the wait; at least a
 * second (or --interval), at most a minute (or --interval). */
static double step(double waited)
{
	double lo = waiter.interval > 0 ? waiter.interval : MIN_STEP;
	double hi = lo > MAX_STEP ? lo : MAX_STEP;

	return fmin(hi, fmax(lo, LAG * waited));
}

/* A 2xx answer: the batch now. */
/* A batch out: the provider's object, or with --summary bt's view. */
static void print_batch(jv v)
{
	jv sum;

	if (!waiter.summary) {
		bt_print_json(v);
		return;
	}
	sum = bt_batch_summary(v);
	bt_print_json(sum);
	jv_free(sum);
}

/* --summary --offline: a batch object of the input in bt's terms; a bare
 * id has nothing to summarize. */
static int summarize(const char *id, jv batch, void *arg)
{
	(void)arg;
	if (!jv_is_valid(batch)) {
		bt_warn("%s: %s: a bare id: --offline summarizes batch objects only",
		        bt_arg_where, id);
		waiter.failed = 1;
		return 0;
	}
	print_batch(batch);
	return 0;
}

static void answer(struct batch *b, const struct bt_resp *resp)
{
	const struct bt_provider *pv = bt_provider();
	char err[400], path[BT_PATH_MAX];
	double now = bt_mono();
	int k, st = -1;
	jv v;

	v = bt_json_parse(resp->body.p ? resp->body.p : "", resp->body.len, err, sizeof err);
	if (jv_get_kind(v) != JV_KIND_OBJECT || (st = bt_batch_state(v)) < 0 ||
	    bt_batch_count(v, "total") == -2) {
		char msg[800];
		if (jv_is_valid(v) && st >= 0)
			snprintf(err, sizeof err, "%s: a count that is not a whole number "
			         "from 0 to 2^53", pv->counts_field);
		else if (jv_is_valid(v))
			snprintf(err, sizeof err, "not a batch object");
		bt_batch_path(path, pv->batch_path, b->id);
		snprintf(msg, sizeof msg, "GET %s: bad answer: %s%s%s", path, err,
		         resp->request_id[0] ? " request-id " : "", resp->request_id);
		jv_free(v);
		fail(b, msg);
		return;
	}
	b->counted = 1;
	for (k = 0; k < 5; k++) {
		b->counts[k] = bt_batch_count(v, count_names[k]);
		if (b->counts[k] < 0)
			b->counts[k] = 0;
	}
	if (st == BT_BATCH_ENDED) {
		clear_progress();
		print_batch(v);
		b->state = ENDED;
	} else {
		check_expiry(b, v);
		if (waiter.all) {       /* --once --all: as it is now */
			clear_progress();
			print_batch(v);
		}
		b->state = waiter.once ? SEEN : WAITING;
		b->due = now + step(now - b->seen);
	}
	jv_free(v);
}

/* A poll is over: the batch, or an error the engine gave up on. */
static void polled(int rc, struct bt_resp *resp, void *arg)
{
	struct batch *b = arg;

	b->state = WAITING;
	if (rc == 0)
		answer(b, resp);
	else
		fail(b, resp->err);
}

/* Batches in this state. */
static size_t count(int state)
{
	size_t i, c = 0;

	for (i = 0; i < waiter.n; i++)
		c += waiter.b[i]->state == state;
	return c;
}

/* Batches still to be waited for. */
static size_t pending(void)
{
	return count(WAITING) + count(POLLING);
}

/* Name the batches not ended (WAITING, POLLING or SEEN) on stderr. */
static void not_ended(const char *what)
{
	struct bt_buf m = { 0 };
	size_t i, c = 0;

	for (i = 0; i < waiter.n; i++) {
		int s = waiter.b[i]->state;
		if (s == WAITING || s == POLLING || s == SEEN) {
			bt_buf_addc(&m, ' ');
			bt_buf_adds(&m, waiter.b[i]->id);
			c++;
		}
	}
	if (c)
		say("%s: %zu batch%s not ended:%s", what, c, c == 1 ? "" : "es",
		    bt_buf_str(&m));
	else
		say("%s: the input did not end", what);
	bt_buf_free(&m);
}

/* Poll until every batch has ended (or failed), the input is over, or the
 * time is up.  Returns 1 when the time ran out. */
static int run(void)
{
	struct curl_waitfd in = { .fd = 0, .events = POLLIN };
	double now, next, deadline = waiter.timeout > 0 ? waiter.start + waiter.timeout : INFINITY;
	struct batch *b;
	size_t i;

	for (;;) {
		now = bt_mono();
		if (now >= deadline)
			return 1;
		next = deadline;
		for (i = 0; i < waiter.n; i++) {
			b = waiter.b[i];
			if (b->state != WAITING)
				continue;
			if (b->due <= now)
				start_poll(b);
			else if (b->due < next)
				next = b->due;
		}
		if (!waiter.in_open && pending() == 0)
			return 0;
		if (waiter.progress && waiter.tty)    /* the clock on the line */
			next = fmin(next, now + 1 - fmod(now - waiter.start, 1.0));
		in.revents = 0;
		bt_engine_run(waiter.engine, fmin(next - now, MAX_WAIT), waiter.in_open ? &in : NULL,
		              waiter.in_open ? 1 : 0);
		if (waiter.in_open && (in.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
			read_stdin();
		show_progress(0);
	}
}

static void cleanup(void)
{
	size_t i;

	bt_engine_free(waiter.engine);   /* first: its transfers point at batches */
	waiter.engine = NULL;
	for (i = 0; i < waiter.n; i++)
		free(waiter.b[i]);
	free(waiter.b);
	waiter.b = NULL;
	waiter.n = 0;
	free(waiter.in);
	waiter.in = NULL;
	bt_idset_free(&waiter.ids);
	bt_http_free(waiter.http);
	waiter.http = NULL;
	bt_config_free(&waiter.cfg);
}

/* --endpoint: where this program would ask, as one line of JSON. */
static void print_endpoint(int argc)
{
	struct bt_buf b = { 0 };
	char fp[17];

	if (argc)
		bt_die(BT_EXIT_USAGE, "--endpoint takes no batches");
	bt_endpoint_fp(&waiter.cfg, fp);
	bt_buf_adds(&b, "{\"base_url\":");
	bt_json_write_str(&b, waiter.cfg.base_url, strlen(waiter.cfg.base_url));
	if (waiter.cfg.key)
		bt_buf_printf(&b, ",\"key_fp\":\"%s\"}\n", fp);
	else
		bt_buf_adds(&b, ",\"key_fp\":null}\n");
	bt_flush(&b);
	bt_buf_free(&b);
	bt_close_stdout();
}

/* Over 80 lines: the option table and its switch, a line an option. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "progress", no_argument, 0, 'P' },
		{ "interval", required_argument, 0, 'i' },
		{ "timeout", required_argument, 0, 't' },
		{ "once", no_argument, 0, 'o' },
		{ "all", no_argument, 0, 'a' },
		{ "api-key-file", required_argument, 0, 'k' },
		{ "endpoint", no_argument, 0, 'E' },
		{ "summary", no_argument, 0, 'S' },
		{ "offline", no_argument, 0, 'O' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	const char *keyfile = NULL;
	char where[32];
	int c, i, r, timed_out, endpoint = 0, offline = 0;
	size_t unseen;

	bt_init(argv);
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1)
		switch (c) {
		case 'P': waiter.progress = 1; break;
		case 'i':
			waiter.interval = bt_duration(optarg, "--interval");
			if (waiter.interval < 0.1)
				bt_die(BT_EXIT_USAGE, "--interval: %s is too short (at least 100ms)", optarg);
			break;
		case 't':
			waiter.timeout = bt_duration(optarg, "--timeout");
			if (waiter.timeout <= 0)
				bt_die(BT_EXIT_USAGE, "--timeout: must be more than 0");
			break;
		case 'o': waiter.once = 1; break;
		case 'a': waiter.all = 1; break;
		case 'k': keyfile = optarg; break;
		case 'E': endpoint = 1; break;
		case 'S': waiter.summary = 1; break;
		case 'O': offline = 1; break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (waiter.all && !waiter.once)
		bt_die(BT_EXIT_USAGE, "--all goes with --once");
	if (offline && !waiter.summary)
		bt_die(BT_EXIT_USAGE, "--offline goes with --summary");

	bt_config_init(&waiter.cfg);
	atexit(cleanup);
	if (keyfile)
		bt_config_key_file(&waiter.cfg, keyfile);
	if (endpoint) {
		print_endpoint(argc);
		return 0;
	}
	if (offline) {
		r = bt_each_batch(argc, argv, summarize, NULL);
		bt_close_stdout();
		return r ? r : waiter.failed ? BT_EXIT_FAIL : BT_EXIT_OK;
	}
	bt_config_need_key(&waiter.cfg);     /* before any input is read */
	waiter.tty = isatty(2);
	waiter.progress |= waiter.tty;
	bt_before_warn = clear_progress;
	bt_batch_args(argc, argv);      /* every one checked first */
	for (i = 0; i < argc; i++) {
		snprintf(where, sizeof where, "argument %d", i + 1);
		add(argv[i], strlen(argv[i]), where, (unsigned long long)i + 1);
	}
	waiter.in_open = argc == 0;

	waiter.http = bt_http_new(&waiter.cfg);
	waiter.engine = bt_engine_new(waiter.http, MAX_INFLIGHT);
	waiter.start = bt_mono();
	timed_out = run();
	show_progress(1);
	clear_progress();
	unseen = count(SEEN);
	if (timed_out)
		not_ended("timed out");
	else if (unseen && bt_verbose)
		not_ended("--once");
	bt_close_stdout();
	if (waiter.bad)
		return BT_EXIT_USAGE;
	if (waiter.failed)
		return BT_EXIT_FAIL;
	return timed_out || unseen ? BT_EXIT_INCOMPLETE : BT_EXIT_OK;
}
