/* tcurl — the part of curl(1) the tests use to talk to bt-mock, without
 * libcurl: a process that loads libcurl and its thirty libraries costs
 * about 10 ms of CPU before main here, and the tests call bt-mock 1,500
 * times.  HTTP/1.1 on 127.0.0.1 only, one request, Connection: close.
 *
 *   tcurl [-sSf] [-X METHOD] [-H HEADER]... [-o FILE] [-D FILE]
 *         [-w '%{http_code}'] [-d DATA | --data-binary DATA] URL
 *
 * DATA is literal, @FILE or @- (stdin); with data the method is POST
 * and the content-type application/x-www-form-urlencoded unless -H says
 * otherwise, as curl does.  Exit codes are curl's: 7 no connection,
 * 18 a body cut short, 22 an HTTP error under -f, 28 no answer within a
 * minute, 52 an empty reply, 56 a read error.  Anything else (another
 * option, another host, a Transfer-Encoding of our own) runs curl itself
 * with the same arguments. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

struct buf { char *p; size_t len, cap; };

static struct {
	const char *method, *out, *dump, *wfmt, *data, *url;
	const char *hdr[32];
	int nhdr, fail, show_err, binary;
} o;

static char **all_args;

static void add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if (!(b->p = realloc(b->p, b->cap))) {
			perror("tcurl");
			exit(2);
		}
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void slurp(int fd, struct buf *b)
{
	char tmp[65536];
	ssize_t n;

	while ((n = read(fd, tmp, sizeof tmp)) > 0)
		add(b, tmp, (size_t)n);
}

/* the real curl, for whatever this one does not do */
static void real_curl(void)
{
	all_args[0] = "curl";
	execvp("curl", all_args);
	perror("tcurl: curl");
	exit(2);
}

static void die(int code, const char *msg)
{
	if (o.show_err)
		fprintf(stderr, "curl: (%d) %s\n", code, msg);
	exit(code);
}

static void options(int argc, char **argv)
{
	int i;
	const char *a, *f;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (a[0] != '-') {
			if (o.url)
				real_curl();
			o.url = a;
			continue;
		}
		if (a[1] != '-' && strspn(a + 1, "sSf") == strlen(a + 1) && a[1]) {
			for (f = a + 1; *f; f++)
				*f == 'S' ? (o.show_err = 1) : *f == 'f' ? (o.fail = 1) : 0;
			continue;
		}
		if (i + 1 >= argc)
			real_curl();
		if (!strcmp(a, "-X"))
			o.method = argv[++i];
		else if (!strcmp(a, "-H") && o.nhdr < 32 &&
		         strncasecmp(argv[i + 1], "transfer-encoding:", 18) &&
		         strchr(argv[i + 1], ':') && argv[i + 1][strlen(argv[i + 1]) - 1] != ':')
			o.hdr[o.nhdr++] = argv[++i];
		else if (!strcmp(a, "-o"))
			o.out = argv[++i];
		else if (!strcmp(a, "-D"))
			o.dump = argv[++i];
		else if (!strcmp(a, "-w"))
			o.wfmt = argv[++i];
		else if ((!strcmp(a, "-d") || !strcmp(a, "--data-binary")) && !o.data) {
			o.binary = a[1] == '-';
			o.data = argv[++i];
		} else
			real_curl();
	}
	if (!o.url || strncmp(o.url, "http://127.0.0.1:", 17))
		real_curl();
}

/* the body to send, as curl reads DATA (-d drops CR and LF of a file) */
static void body(struct buf *b)
{
	int fd;
	size_t i, j;

	if (o.data[0] != '@') {
		add(b, o.data, strlen(o.data));
		return;
	}
	fd = strcmp(o.data, "@-") ? open(o.data + 1, O_RDONLY) : 0;
	if (fd < 0) {
		fprintf(stderr, "Warning: Couldn't read data from file \"%s\", this makes an empty POST.\n", o.data + 1);
		add(b, "", 0);
		return;
	}
	slurp(fd, b);
	if (!b->p)
		add(b, "", 0);
	if (!o.binary) {
		for (i = j = 0; i < b->len; i++)
			if (b->p[i] != '\r' && b->p[i] != '\n')
				b->p[j++] = b->p[i];
		b->len = j;
	}
	if (fd)
		close(fd);
}

static int has_header(const char *name)
{
	int i;

	for (i = 0; i < o.nhdr; i++)
		if (!strncasecmp(o.hdr[i], name, strlen(name)))
			return 1;
	return 0;
}

static int connect_to(const char *hostport, int *port)
{
	struct sockaddr_in sa = { 0 };
	int fd;

	*port = atoi(hostport + 17);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)*port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		return -1;
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(55, "Failed sending data to the peer");
		p += w;
		n -= (size_t)w;
	}
}

/* everything the server says until it closes, a minute at most */
static int receive(int fd, struct buf *r)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char tmp[65536];
	ssize_t n;

	for (;;) {
		int k = poll(&p, 1, 60000);
		if (k < 0 && errno == EINTR)
			continue;
		if (k == 0)
			die(28, "Operation timed out");
		n = read(fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == ECONNRESET && r->len ? 0 : -1;
		if (n == 0)
			return 0;
		add(r, tmp, (size_t)n);
	}
}

static const char *header_value(const char *h, const char *end, const char *name)
{
	size_t nl = strlen(name);
	const char *p;

	for (p = h; p && p < end; p = strstr(p, "\r\n"), p = p ? p + 2 : p)
		if (!strncasecmp(p, name, nl) && p[nl] == ':')
			return p + nl + 1;
	return NULL;
}

/* a chunked body decoded into out: 0, or -1 when it was cut short */
static int unchunk(const char *p, const char *end, struct buf *out)
{
	char *e;
	const char *line;
	unsigned long n;

	for (;;) {
		if (!memchr(p, '\n', (size_t)(end - p)))
			return -1;
		n = strtoul(line = p, &e, 16);
		p = strstr(p, "\r\n");
		if (!p || e == line)
			return -1;
		p += 2;
		if (n == 0)
			return 0;
		if ((size_t)(end - p) < n + 2) {
			add(out, p, (size_t)(end - p));
			return -1;
		}
		add(out, p, n);
		p += n + 2;
	}
}

static void write_file(const char *path, const char *p, size_t n)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;

	if (!f || fwrite(p, 1, n, f) != n || (f != stdout && fclose(f))) {
		fprintf(stderr, "curl: (23) Failure writing output to destination\n");
		exit(23);
	}
}

static void write_out(int code)
{
	const char *f;

	for (f = o.wfmt; f && *f; f++) {
		if (!strncmp(f, "%{http_code}", 12)) {
			printf("%03d", code);
			f += 11;
		} else if (f[0] == '\\' && f[1] == 'n') {
			putchar('\n');
			f++;
		} else
			putchar(*f);
	}
}

/* the request line and headers */
static void head(struct buf *req, size_t len)
{
	const char *path = strchr(o.url + 7, '/');
	int i;

	add(req, o.method, strlen(o.method));
	add(req, " ", 1);
	add(req, path ? path : "/", path ? strlen(path) : 1);
	add(req, " HTTP/1.1\r\nHost: ", 17);
	add(req, o.url + 7, (size_t)((path ? path : o.url + strlen(o.url)) - o.url - 7));
	add(req, "\r\nUser-Agent: tcurl\r\nAccept: */*\r\nConnection: close\r\n", 53);
	for (i = 0; i < o.nhdr; i++) {
		add(req, o.hdr[i], strlen(o.hdr[i]));
		add(req, "\r\n", 2);
	}
	if (o.data) {
		char cl[64];
		if (!has_header("content-type:"))
			add(req, "Content-Type: application/x-www-form-urlencoded\r\n", 49);
		snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", len);
		add(req, cl, strlen(cl));
	}
	add(req, "\r\n", 2);
}

/* the request, its body, the answer and its body: static, so that what
 * they hold at exit, by any path, is still theirs (no leak to report) */
static struct buf req, data, resp, out;

int main(int argc, char **argv)
{
	const char *hend, *v, *start;
	int fd, port, code = 0, cut = 0;

	all_args = argv;
	options(argc, argv);
	if (o.data)
		body(&data);
	if (!o.method)
		o.method = o.data ? "POST" : "GET";
	fd = connect_to(o.url, &port);
	if (fd < 0) {
		char msg[100];
		snprintf(msg, sizeof msg, "Failed to connect to 127.0.0.1 port %d: %s", port, strerror(errno));
		die(7, msg);
	}
	head(&req, data.len);
	send_all(fd, req.p, req.len);
	if (data.len)
		send_all(fd, data.p, data.len);
	if (receive(fd, &resp) < 0 && !resp.len)
		die(56, "Recv failure: Connection reset by peer");
	if (!resp.len)
		die(52, "Empty reply from server");
	/* skip 1xx answers */
	for (start = resp.p;;) {
		hend = strstr(start, "\r\n\r\n");
		if (!hend || sscanf(start, "HTTP/1.%*d %d", &code) != 1)
			die(56, "Recv failure: bad answer");
		if (code >= 200 || code < 100)
			break;
		start = hend + 4;
	}
	if (o.dump)
		write_file(o.dump, start, (size_t)(hend + 4 - start));
	if (o.fail && code >= 400) {
		char msg[80];
		snprintf(msg, sizeof msg, "The requested URL returned error: %d", code);
		die(22, msg);
	}
	hend += 4;
	add(&out, "", 0);
	out.len = 0;
	if (!strcmp(o.method, "HEAD") || code == 204 || code == 304)
		;
	else if ((v = header_value(start, hend, "transfer-encoding")) && strstr(v, "chunked"))
		cut = unchunk(hend, resp.p + resp.len, &out) < 0;
	else if ((v = header_value(start, hend, "content-length"))) {
		size_t want = (size_t)strtoull(v, NULL, 10), have = (size_t)(resp.p + resp.len - hend);
		add(&out, hend, have < want ? have : want);
		cut = have < want;
	} else
		add(&out, hend, (size_t)(resp.p + resp.len - hend));
	write_file(o.out ? o.out : "-", out.p, out.len);
	if (cut) {
		fflush(stdout);
		die(18, "transfer closed with outstanding read data remaining");
	}
	write_out(code);
	return fflush(stdout) ? 23 : 0;
}
