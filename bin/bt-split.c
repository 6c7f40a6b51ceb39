/* bt-split — requests in, chunk files out.
 *
 * Reads requests (JSONL), checks each one without building values, and
 * cuts them into chunk files that each fit one batch: at most -n requests
 * and -b bytes, within its provider's limits (an OpenAI chunk is also one
 * model and one url: a line of another starts the next).  A chunk is
 * written to a temporary file in its directory and renamed into place
 * when whole; its path is then printed.
 *
 * Two threads share the work.  The main thread reads lines, packs them
 * into blocks and writes the blocks to the chunk files; a checker thread
 * takes each block after it and checks its requests, in input order.  A
 * chunk is renamed only when the checker has passed every line in it, so
 * a bad request still leaves no chunk behind it, and the first bad line
 * is the one reported.  Reading and writing are copies in the kernel,
 * checking is work in user space: overlapped, they take the time of the
 * longer rather than of both.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

#define BLOCK (1024 * 1024)     /* bytes of lines per block, per write */
#define NBLOCK 4                /* blocks in flight */
/* The shortest request line: {"custom_id":"a","params":{}} and "\n". */

/* The chunk being written.  The signal handler reads chunk.tmp and tmplive:
 * chunk.tmp's storage never moves, and tmplive is set before the file is
 * created and cleared only after it is renamed. */
static struct {
	char *path, *tmp;       /* final name, temporary name */
	char *pathnum;          /* where the number goes in path */
	char *tmpnum;           /* and in tmp */
	int width;              /* digits of the number */
	unsigned long long num, max;
	int fd;
} chunk = { .fd = -1 };
static volatile sig_atomic_t tmplive;
static int syncing;             /* -s: chunks reach the disk before their rename */
static int dirfd_ = -1;         /* the chunks' directory, for -s */

static struct bt_idset ids;
static unsigned long long maxreq = BT_MAX_REQUESTS, maxbytes = BT_CHUNK_MAX;
static struct bt_chunker cut;   /* the chunk's requests and bytes */
/* The stream's provider, told by its first line (set by the main thread
 * before the checker sees any line), and that line's number; an OpenAI
 * chunk's model and url. */
static int stream = -1;
static unsigned long long stream_line;
static struct bt_chunk_key key;
static unsigned long long total_requests, total_bytes, total_chunks;
static const char *input;       /* the input's name, for messages */

/* A block: whole lines, each ended by "\n", and where each came from. */
struct span {
	unsigned long long lineno;
	size_t len;             /* without its "\n" */
};
struct block {
	char *buf;
	size_t len;
	struct span *lines;
	size_t nlines, cap;
	int skip;               /* the first line was checked already */
	int noid;               /* check the line, but do not add its id */
};
static struct block blocks[NBLOCK], *cur;   /* cur: being filled */
static struct block big;        /* one line checked where it lies */

/* The line being added, while it is: what settle() must check too. */
static struct {
	const char *s;
	size_t n;
	unsigned long long lineno;
	int handed;             /* handed to the checker already */
} pending;

/* The checker: a queue of blocks in input order.  Everything here is
 * under mu; why and line are written by the checker before it sets
 * failed. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t work;    /* to the checker: a block, or quit */
	pthread_cond_t done;    /* to the main thread: a block checked */
	struct block *queue[NBLOCK + 1];
	size_t head, count;
	struct block *free[NBLOCK];
	size_t nfree;
	int busy;               /* the checker holds a block */
	int quit, failed;
	char why[BT_ID_MAX + 400];  /* the first bad line: what is wrong */
	unsigned long long line;
	pthread_t thread;
} verifier = { .mu = PTHREAD_MUTEX_INITIALIZER, .work = PTHREAD_COND_INITIALIZER,
        .done = PTHREAD_COND_INITIALIZER };

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: %s [-v] [--fsync] [-n N] [-b SIZE] [-d DIR] [-a SUFFIXLEN] "
	        "[FILE [PREFIX]]\n", bt_prog);
	bt_usage(f, status, "",
	"  -n, --requests N           at most N requests a chunk (default 100000)\n"
	"  -b, --bytes SIZE           at most SIZE bytes a chunk (default 255999986)\n"
	"  -d, --directory DIR        write the chunks in DIR\n"
	"  -a, --suffix-length N      digits in a chunk's number (default 4)\n"
	"  --fsync                    sync each chunk to disk before its rename\n"
	"  -v, --verbose              sum up chunks, requests and bytes on stderr\n"
	"  -h, --help                 this help\n");
}

static void remove_tmp(void)
{
	if (tmplive) {
		unlink(chunk.tmp);
		tmplive = 0;
	}
}

static void on_signal(int sig)
{
	if (tmplive)
		unlink(chunk.tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void catch(int sig)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
		return;     /* ignored by our parent (a background job): keep it */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* mkdir -p */
static void make_dir(const char *dir)
{
	char *p = bt_strdup(dir), *s = p;
	struct stat st;
	char c;

	for (;;) {
		while (*s == '/')
			s++;
		while (*s && *s != '/')
			s++;
		c = *s;
		*s = 0;
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			bt_die(BT_EXIT_FAIL, "cannot create directory %s:", p);
		*s = c;
		if (!c)
			break;
	}
	if (stat(p, &st) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", p);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		bt_die(BT_EXIT_FAIL, "%s:", p);
	}
	free(p);
}

/* Lay out "DIR/PREFIX0000.jsonl" and "DIR/.PREFIX0000.jsonl.tmp.PID". */
static void names(const char *dir, const char *prefix)
{
	char *d = NULL, *path, *slash;
	size_t n, dlen;

	if (dir) {
		d = bt_strdup(dir);
		n = strlen(d);
		while (n > 1 && d[n - 1] == '/')
			d[--n] = 0;
	}
	path = bt_asprintf("%s%s%s%0*d.jsonl", d ? d : "",
	                   d && strcmp(d, "/") ? "/" : "", prefix, chunk.width, 0);
	slash = strrchr(path, '/');
	dlen = slash ? (size_t)(slash - path) + 1 : 0;
	chunk.tmp = bt_asprintf("%.*s.%s.tmp.%ld", (int)dlen, path, path + dlen,
	                    (long)getpid());
	chunk.path = path;
	n = strlen(path) - strlen(".jsonl") - (size_t)chunk.width;
	chunk.pathnum = path + n;
	chunk.tmpnum = chunk.tmp + n + 1;
	if (syncing && (dirfd_ = bt_dir_open(path)) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", d ? d : ".");
	free(d);
}

static void set_num(char *at, unsigned long long v)
{
	int i;

	for (i = chunk.width - 1; i >= 0; i--) {
		at[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void settle(int id_too);

static void chunk_start(void)
{
	chunk.num++;
	set_num(chunk.pathnum, chunk.num);
	set_num(chunk.tmpnum, chunk.num);
	tmplive = 1;
	chunk.fd = open(chunk.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (chunk.fd < 0 && errno == EEXIST) {
		/* left by a dead process that had our pid */
		unlink(chunk.tmp);
		chunk.fd = open(chunk.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	}
	if (chunk.fd < 0) {
		int e = errno;

		tmplive = 0;
		settle(1);
		errno = e;
		bt_die(BT_EXIT_FAIL, "cannot create a temporary file for %s:",
		       chunk.path);
	}
	bt_chunker_next(&cut);
	key.set = 0;
}

static void chunk_write(const void *p, size_t n)
{
	if (bt_write_all(chunk.fd, p, n) < 0) {
		int e = errno;

		settle(1);
		errno = e;
		bt_die(BT_EXIT_FAIL, "%s: write error:", chunk.path);
	}
}

/* Check one request line, of the stream's provider: 0 with its id, or
 * -1 with what is wrong in why. */
static int check_line(const char *p, size_t n, char id[BT_ID_MAX + 1], char *why,
                      size_t whysz)
{
	struct bt_request r;
	int rc;

	if (stream == BT_PROVIDER_OPENAI)
		rc = bt_request_read(p, n, &r, why, whysz);
	else if ((rc = bt_request_check(p, n, id, why, whysz)) == 0)
		return 0;
	else
		bt_request_read(p, n, &r, why, whysz);     /* which shape it is */
	if (r.provider >= 0 && stream >= 0 && r.provider != stream) {
		snprintf(why, whysz, "an %s request in a stream of %s requests (line "
		         "%llu): a stream is one provider's",
		         r.provider == BT_PROVIDER_OPENAI ? "OpenAI" : "Anthropic",
		         stream == BT_PROVIDER_OPENAI ? "OpenAI" : "Anthropic", stream_line);
		return -1;
	}
	if (rc == 0)
		memcpy(id, r.id, sizeof r.id);
	return rc;
}

/* Check one block's requests in order; 0, or -1 with the first bad line
 * in verifier.why and verifier.line.  Each id is added to the set one line late, after
 * the next line is parsed, so that the cache miss of its slot overlaps
 * the parse. */
static int check_block(const struct block *b)
{
	char id[2][BT_ID_MAX + 1];
	unsigned long long first, pline = 0;
	const char *p = b->buf;
	size_t i = 0, n = 0;
	int bad, cur = 0, pending = 0;

	if (b->skip)
		p += b->lines[i++].len + 1;
	for (; i < b->nlines; i++, p += n + 1) {
		n = b->lines[i].len;
		bad = check_line(p, n, id[cur], verifier.why, sizeof verifier.why) < 0;
		if (pending && (first = bt_idset_add(&ids, id[!cur], pline)))
			goto dup;
		if (bad) {
			verifier.line = b->lines[i].lineno;
			return -1;
		}
		bt_idset_prefetch(&ids, id[cur]);
		pending = 1;
		pline = b->lines[i].lineno;
		cur = !cur;
	}
	if (!pending || b->noid || !(first = bt_idset_add(&ids, id[!cur], pline)))
		return 0;
dup:
	snprintf(verifier.why, sizeof verifier.why, "duplicate custom_id \"%s\" "
	         "(first on line %llu)", id[!cur], first);
	verifier.line = pline;
	return -1;
}

static void *checker(void *arg)
{
	struct block *b;
	int bad;

	(void)arg;
	pthread_mutex_lock(&verifier.mu);
	for (;;) {
		while (!verifier.count && !verifier.quit)
			pthread_cond_wait(&verifier.work, &verifier.mu);
		if (!verifier.count)
			break;
		b = verifier.queue[verifier.head];
		verifier.head = (verifier.head + 1) % (NBLOCK + 1);
		verifier.count--;
		verifier.busy = 1;
		bad = verifier.failed;     /* after a failure, only hand blocks back */
		pthread_mutex_unlock(&verifier.mu);
		if (!bad)
			bad = check_block(b) < 0;
		pthread_mutex_lock(&verifier.mu);
		if (bad)
			verifier.failed = 1;
		verifier.busy = 0;
		if (b != &big)
			verifier.free[verifier.nfree++] = b;
		pthread_cond_signal(&verifier.done);
	}
	pthread_mutex_unlock(&verifier.mu);
	return NULL;
}

/* Wait until every block handed over is checked; exit 2 with the first
 * bad line if one was bad. */
static void drain(void)
{
	int failed;

	pthread_mutex_lock(&verifier.mu);
	while (verifier.count || verifier.busy)
		pthread_cond_wait(&verifier.done, &verifier.mu);
	failed = verifier.failed;
	pthread_mutex_unlock(&verifier.mu);
	if (failed)
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", input, verifier.line, verifier.why);
}

static void hand_over(struct block *b)
{
	pthread_mutex_lock(&verifier.mu);
	verifier.queue[(verifier.head + verifier.count) % (NBLOCK + 1)] = b;
	verifier.count++;
	pthread_cond_signal(&verifier.work);
	pthread_mutex_unlock(&verifier.mu);
}

/* Hand over the line being added where it lies, in the reader's buffer:
 * the caller must drain before it reads on.  noid: check it, but leave
 * its id out of the set. */
static void hand_over_line(int noid)
{
	big.buf = (char *)pending.s;
	big.lines[0].lineno = pending.lineno;
	big.lines[0].len = pending.n;
	big.nlines = 1;
	big.noid = noid;
	hand_over(&big);
	pending.handed = 1;
}

/* Before the main thread exits with an error of its own: the checker's
 * verdict on every line read so far, and on the line being added, comes
 * first, as in one pass that checks each line as it reads it.  Returns
 * when all of them were good.  id_too: whether that pass would have
 * looked for the line's id before the error. */
static void settle(int id_too)
{
	if (cur && cur->nlines) {
		hand_over(cur);
		cur = NULL;
	}
	if (pending.s && !pending.handed)
		hand_over_line(!id_too);
	drain();
}

static void settle_reading(void)
{
	settle(1);
}

/* An empty block to fill; when the checker has failed, its message. */
static struct block *take_block(void)
{
	struct block *b;

	pthread_mutex_lock(&verifier.mu);
	while (!verifier.nfree && !verifier.failed)
		pthread_cond_wait(&verifier.done, &verifier.mu);
	if (verifier.failed) {
		pthread_mutex_unlock(&verifier.mu);
		drain();
	}
	b = verifier.free[--verifier.nfree];
	pthread_mutex_unlock(&verifier.mu);
	b->len = b->nlines = 0;
	b->skip = 0;
	return b;
}

static void start_checker(void)
{
	sigset_t all, old;
	int i, e;

	for (i = 0; i < NBLOCK; i++) {
		blocks[i].buf = bt_malloc(BLOCK);
		verifier.free[verifier.nfree++] = &blocks[i];
	}
	big.cap = 1;
	big.lines = bt_malloc(sizeof *big.lines);
	/* signals go to the main thread, which owns the temporary file */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&verifier.thread, NULL, checker, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e) {
		errno = e;
		bt_die(BT_EXIT_FAIL, "cannot start a thread:");
	}
	cur = take_block();
}

static void stop_checker(void)
{
	int i;

	pthread_mutex_lock(&verifier.mu);
	verifier.quit = 1;
	pthread_cond_signal(&verifier.work);
	pthread_mutex_unlock(&verifier.mu);
	pthread_join(verifier.thread, NULL);
	for (i = 0; i < NBLOCK; i++) {
		free(blocks[i].buf);
		free(blocks[i].lines);
	}
	free(big.lines);
}

/* Hand the block being filled to the checker and write it out. */
static void flush_block(void)
{
	struct block *b = cur;

	if (!b->nlines)
		return;
	cur = NULL;
	hand_over(b);
	chunk_write(b->buf, b->len);
	cur = take_block();
}

/* Add the line L to the chunk. */
static void chunk_add(void)
{
	struct block *b = cur;
	const char *s = pending.s;
	size_t n = pending.n;

	if (b->len + n + 1 > BLOCK)
		flush_block();
	b = cur;
	if (n + 1 > BLOCK) {
		/* checked where it lies: the reader keeps it till we are done */
		if (!pending.handed)
			hand_over_line(0);
		chunk_write(s, n);
		chunk_write("\n", 1);
		drain();
	} else {
		if (b->nlines == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 4096;
			b->lines = bt_realloc(b->lines, b->cap * sizeof *b->lines);
		}
		if (pending.handed)   /* before its chunk began: the block's first */
			b->skip = 1;
		b->lines[b->nlines].lineno = pending.lineno;
		b->lines[b->nlines++].len = n;
		memcpy(b->buf + b->len, s, n);
		b->len += n;
		b->buf[b->len++] = '\n';
	}
	bt_chunker_add(&cut, n);
}

static void chunk_finish(void)
{
	flush_block();
	drain();            /* every line in the chunk is good */
	if (syncing && bt_fdatasync(chunk.fd) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error:", chunk.path);
	if (close(chunk.fd) < 0) {
		chunk.fd = -1;
		bt_die(BT_EXIT_FAIL, "%s: write error:", chunk.path);
	}
	chunk.fd = -1;
	if (rename(chunk.tmp, chunk.path) < 0)
		bt_die(BT_EXIT_FAIL, "cannot rename %s to %s:", chunk.tmp, chunk.path);
	tmplive = 0;
	if (syncing && bt_dir_sync(dirfd_) < 0)
		bt_die(BT_EXIT_FAIL, "%s: cannot sync its directory:", chunk.path);
	total_chunks++;
	total_requests += (unsigned long long)cut.requests;
	total_bytes += (unsigned long long)cut.bytes;
	bt_out(chunk.path, strlen(chunk.path));
	bt_out("\n", 1);
	if (fflush(stdout) == EOF) {
		if (errno == EPIPE)
			bt_epipe();
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	}
}

/* Make the directory and the names; clean up after any way out. */
static void setup(const char *dir, const char *prefix)
{
	int i;

	if (dir)
		make_dir(dir);
	for (chunk.max = 1, i = 0; i < chunk.width; i++)
		chunk.max *= 10;
	chunk.max--;
	names(dir, prefix);
	atexit(remove_tmp);
	catch(SIGHUP);
	catch(SIGINT);
	catch(SIGTERM);
	start_checker();
}

/* The first line tells the stream's provider, and so its limits: -n
 * and -b only lower them. */
static void first_line(const char *s, size_t n, unsigned long long lineno)
{
	struct bt_request r;

	stream_line = lineno;
	if (bt_request_peek(s, n, &r) < 0)
		return;     /* the checker says what is wrong with it */
	stream = r.provider;
	if (stream == BT_PROVIDER_OPENAI)
		bt_chunker_init(&cut, maxreq < BT_OPENAI_MAX_REQUESTS ?
		                (long long)maxreq : BT_OPENAI_MAX_REQUESTS,
		                maxbytes < BT_OPENAI_MAX_BYTES ?
		                (long long)maxbytes : BT_OPENAI_MAX_BYTES);
}

/* Fill each chunk until the next request would pass -n or -b.  Errors
 * come in the order of one pass that checks each line as it reads it:
 * the line is good, then small enough, then its id is new; and a chunk is
 * complete only once the next line, that does not fit in it, is good. */
static void add(struct bt_lines *in, char *s, size_t n)
{
	struct bt_request route;
	char err[200];
	int place, other = 0;

	if (bt_blank(s, n))
		return;
	if (!stream_line)
		first_line(s, n, in->lineno);
	if (stream == BT_PROVIDER_OPENAI) {
		bt_request_peek(s, n, &route);
		other = !bt_chunk_key_same(&key, &route);
	}
	pending.s = s;
	pending.n = n;
	pending.lineno = in->lineno;
	pending.handed = 0;
	place = bt_chunker_place(&cut, n, err, sizeof err);
	if (place == BT_CHUNK_SAME && other && cut.requests)
		place = BT_CHUNK_NEXT;      /* another model or url */
	if (place == BT_CHUNK_TOO_BIG) {
		settle(0);
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", in->name, in->lineno, err);
	}
	if (chunk.fd >= 0 && place == BT_CHUNK_NEXT) {
		flush_block();
		hand_over_line(0);
		chunk_finish();
	}
	if (chunk.fd < 0) {
		if (chunk.num == chunk.max) {
			settle(1);
			bt_die(BT_EXIT_USAGE, "chunk %llu does not fit in %d "
			       "digits: use a larger -a", chunk.num + 1, chunk.width);
		}
		chunk_start();
	}
	chunk_add();
	if (stream == BT_PROVIDER_OPENAI)
		bt_chunk_key_set(&key, &route);
	pending.s = NULL;
	if (bt_chunker_full(&cut))
		chunk_finish();     /* full: no request could join it */
}

static void split(struct bt_lines *in)
{
	size_t n;
	char *s;

	while ((s = bt_lines_next(in, &n)))
		add(in, s, n);
	if (chunk.fd >= 0)
		chunk_finish();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "requests", required_argument, 0, 'n' },
		{ "bytes", required_argument, 0, 'b' },
		{ "directory", required_argument, 0, 'd' },
		{ "suffix-length", required_argument, 0, 'a' },
		{ "fsync", no_argument, 0, 's' },
		{ "sync", no_argument, 0, 's' },   /* the old name (and -s): bt(7) */
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *dir = NULL, *file = "-", *prefix = "chunk.";
	struct bt_lines in;
	int c;

	bt_init(argv);
	chunk.width = 4;
	while ((c = getopt_long(argc, argv, "a:b:d:hn:sv", opts, NULL)) != -1) {
		switch (c) {
		case 'a': chunk.width = (int)bt_num(optarg, 1, 18, "-a"); break;
		case 'b': maxbytes = (unsigned long long)bt_size(optarg, 1,
		                                  BT_CHUNK_MAX, "-b"); break;
		case 'd': dir = optarg; break;
		case 'h': usage(stdout, 0); break;
		case 'n': maxreq = (unsigned long long)bt_num(optarg, 1,
		                                  BT_MAX_REQUESTS, "-n"); break;
		case 's': syncing = 1; break;
		case 'v': bt_verbose = 1; break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	}
	argc -= optind;
	bt_chunker_init(&cut, (long long)maxreq, (long long)maxbytes);
	argv += optind;
	if (argc > 2)
		usage(stderr, BT_EXIT_USAGE);
	if (argc > 0)
		file = argv[0];
	if (argc > 1)
		prefix = argv[1];
	if (dir && !*dir)
		bt_die(BT_EXIT_USAGE, "-d: an empty directory name");

	if (bt_lines_open(&in, file) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", file);
	input = in.name;
	setup(dir, prefix);
	in.on_error = settle_reading;
	split(&in);
	stop_checker();
	if (!total_requests)
		bt_warn("no requests in %s", in.name);
	if (bt_verbose)
		bt_warn("%llu chunks, %llu requests, %llu bytes", total_chunks,
		        total_requests, total_bytes);

	bt_lines_close(&in);
	bt_idset_free(&ids);
	free(chunk.path);
	free(chunk.tmp);
	if (dirfd_ >= 0)
		close(dirfd_);
	bt_close_stdout();
	return 0;
}
