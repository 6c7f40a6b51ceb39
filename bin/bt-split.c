/* bt-split — requests in, chunk files out.
 *
 * Reads requests (JSONL), checks each one without building values, and
 * cuts them into chunk files that each fit one batch: at most -n requests
 * and -b bytes.  A chunk is written to a temporary file in its directory
 * and renamed into place when whole; its path is then printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

#define OUTBUF (1024 * 1024)    /* bytes buffered per chunk write */
/* The shortest request line: {"custom_id":"a","params":{}} and "\n". */
#define MIN_REQUEST 30

/* The chunk being written.  The signal handler reads C.tmp and tmplive:
 * C.tmp's storage never moves, and tmplive is set before the file is
 * created and cleared only after it is renamed. */
static struct {
	char *path, *tmp;       /* final name, temporary name */
	char *pathnum;          /* where the number goes in path */
	char *tmpnum;           /* and in tmp */
	int width;              /* digits of the number */
	unsigned long long num, max;
	int fd;
	char *buf;
	size_t len;             /* bytes in buf */
	unsigned long long count, bytes;   /* requests and bytes in the chunk */
} C = { .fd = -1 };
static volatile sig_atomic_t tmplive;
static int syncing;             /* -s: chunks reach the disk before their rename */
static int dirfd_ = -1;         /* the chunks' directory, for -s */

static struct bt_idset ids;
static unsigned long long maxreq = BT_MAX_REQUESTS, maxbytes = BT_CHUNK_MAX;
static unsigned long long total_requests, total_bytes, total_chunks;

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: %s [-sv] [-n N] [-b SIZE] [-d DIR] [-a SUFFIXLEN] "
	        "[FILE [PREFIX]]\n", bt_prog);
	exit(status);
}

static void remove_tmp(void)
{
	if (tmplive) {
		unlink(C.tmp);
		tmplive = 0;
	}
}

static void on_signal(int sig)
{
	if (tmplive)
		unlink(C.tmp);
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
	                   d && strcmp(d, "/") ? "/" : "", prefix, C.width, 0);
	slash = strrchr(path, '/');
	dlen = slash ? (size_t)(slash - path) + 1 : 0;
	C.tmp = bt_asprintf("%.*s.%s.tmp.%ld", (int)dlen, path, path + dlen,
	                    (long)getpid());
	C.path = path;
	n = strlen(path) - strlen(".jsonl") - (size_t)C.width;
	C.pathnum = path + n;
	C.tmpnum = C.tmp + n + 1;
	if (syncing) {
		free(d);
		d = dlen ? bt_strndup(path, dlen) : bt_strdup(".");
		dirfd_ = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd_ < 0)
			bt_die(BT_EXIT_FAIL, "%s:", d);
	}
	free(d);
}

static void set_num(char *at, unsigned long long v)
{
	int i;

	for (i = C.width - 1; i >= 0; i--) {
		at[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

static void chunk_start(void)
{
	if (C.num == C.max)
		bt_die(BT_EXIT_USAGE, "chunk %llu does not fit in %d digits: "
		       "use a larger -a", C.num + 1, C.width);
	C.num++;
	set_num(C.pathnum, C.num);
	set_num(C.tmpnum, C.num);
	tmplive = 1;
	C.fd = open(C.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (C.fd < 0 && errno == EEXIST) {
		/* left by a dead process that had our pid */
		unlink(C.tmp);
		C.fd = open(C.tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	}
	if (C.fd < 0) {
		tmplive = 0;
		bt_die(BT_EXIT_FAIL, "cannot create a temporary file for %s:",
		       C.path);
	}
	C.len = 0;
	C.count = C.bytes = 0;
}

static void chunk_write(const void *p, size_t n)
{
	if (bt_write_all(C.fd, p, n) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error:", C.path);
}

static void chunk_add(const char *s, size_t n)
{
	if (C.len + n + 1 > OUTBUF) {
		chunk_write(C.buf, C.len);
		C.len = 0;
	}
	if (n + 1 > OUTBUF)
		chunk_write(s, n);
	else {
		memcpy(C.buf + C.len, s, n);
		C.len += n;
	}
	C.buf[C.len++] = '\n';
	C.count++;
	C.bytes += n + 1;
}

static void chunk_finish(void)
{
	chunk_write(C.buf, C.len);
	C.len = 0;
	if (syncing && fdatasync(C.fd) < 0)
		bt_die(BT_EXIT_FAIL, "%s: write error:", C.path);
	if (close(C.fd) < 0) {
		C.fd = -1;
		bt_die(BT_EXIT_FAIL, "%s: write error:", C.path);
	}
	C.fd = -1;
	if (rename(C.tmp, C.path) < 0)
		bt_die(BT_EXIT_FAIL, "cannot rename %s to %s:", C.tmp, C.path);
	tmplive = 0;
	if (syncing && fsync(dirfd_) < 0 && errno != EINVAL)
		bt_die(BT_EXIT_FAIL, "%s: cannot sync its directory:", C.path);
	total_chunks++;
	total_requests += C.count;
	total_bytes += C.bytes;
	bt_out(C.path, strlen(C.path));
	bt_out("\n", 1);
	if (fflush(stdout) == EOF) {
		if (errno == EPIPE)
			bt_epipe();
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	}
}

/* Check one request; exit 2 naming the line when it is bad. */
static void check(struct bt_lines *l, const char *s, size_t n)
{
	char err[300], id[BT_ID_MAX + 1];
	unsigned long long first;

	if (bt_request_check(s, n, id, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l->name, l->lineno, err);
	if (n + 1 > maxbytes)
		bt_die(BT_EXIT_USAGE, "%s:%llu: request is %zu bytes with its "
		       "newline, more than the chunk limit of %llu bytes",
		       l->name, l->lineno, n + 1, maxbytes);
	if ((first = bt_idset_add(&ids, id, l->lineno)) != 0)
		bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" "
		       "(first on line %llu)", l->name, l->lineno, id, first);
}

/* Make the directory and the names; clean up after any way out. */
static void setup(const char *dir, const char *prefix)
{
	int i;

	if (dir)
		make_dir(dir);
	for (C.max = 1, i = 0; i < C.width; i++)
		C.max *= 10;
	C.max--;
	names(dir, prefix);
	C.buf = bt_malloc(OUTBUF);
	atexit(remove_tmp);
	catch(SIGHUP);
	catch(SIGINT);
	catch(SIGTERM);
}

/* Fill each chunk until the next request would pass -n or -b. */
static void add(struct bt_lines *in, char *s, size_t n)
{
	if (bt_blank(s, n))
		return;
	check(in, s, n);
	if (C.fd >= 0 && (C.count + 1 > maxreq || C.bytes + n + 1 > maxbytes))
		chunk_finish();
	if (C.fd < 0)
		chunk_start();
	chunk_add(s, n);
	if (C.count == maxreq || C.bytes + MIN_REQUEST > maxbytes)
		chunk_finish();     /* full: no request could join it */
}

static void split(struct bt_lines *in)
{
	size_t n;
	char *s;

	while ((s = bt_lines_next(in, &n)))
		add(in, s, n);
	if (C.fd >= 0)
		chunk_finish();
}

int main(int argc, char **argv)
{
	const char *dir = NULL, *file = "-", *prefix = "chunk.";
	struct bt_lines in;
	int c;

	bt_init(argv[0]);
	C.width = 4;
	if (argc > 1 && !strcmp(argv[1], "--help"))
		usage(stdout, 0);
	while ((c = getopt(argc, argv, ":a:b:d:hn:sv")) != -1) {
		switch (c) {
		case 'a': C.width = (int)bt_num(optarg, 1, 18, "-a"); break;
		case 'b': maxbytes = (unsigned long long)bt_size(optarg, 1,
		                                  BT_CHUNK_MAX, "-b"); break;
		case 'd': dir = optarg; break;
		case 'h': usage(stdout, 0); break;
		case 'n': maxreq = (unsigned long long)bt_num(optarg, 1,
		                                  BT_MAX_REQUESTS, "-n"); break;
		case 's': syncing = 1; break;
		case 'v': bt_verbose = 1; break;
		case ':':
			bt_warn("option requires an argument -- '%c'", optopt);
			usage(stderr, BT_EXIT_USAGE);
			break;
		default:
			bt_warn("invalid option -- '%c'", optopt);
			usage(stderr, BT_EXIT_USAGE);
		}
	}
	argc -= optind;
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
	setup(dir, prefix);
	split(&in);
	if (bt_verbose)
		bt_warn("%llu chunks, %llu requests, %llu bytes", total_chunks,
		        total_requests, total_bytes);

	bt_lines_close(&in);
	bt_idset_free(&ids);
	free(C.buf);
	free(C.path);
	free(C.tmp);
	if (dirfd_ >= 0)
		close(dirfd_);
	bt_close_stdout();
	return 0;
}
