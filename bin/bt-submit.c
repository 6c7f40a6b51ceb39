/* bt-submit — requests or chunks in, batches out: never paid for twice,
 * and never another job's batch taken for ours.
 *
 * This is the program: its options, the checking of chunk files and the
 * spooling of requests on stdin into chunks.  Each chunk then goes to
 * bt_submit_chunk (lib/reconcile.c): the write-ahead journal, the create
 * through the provider, and the reconciliation of a create that got no
 * clear answer (RECONCILIATION in bt.7).
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


static struct bt_config cfg;
static struct bt_submit sub = {
	.cfg = &cfg, .grace = BT_RECONCILE_GRACE, .look_gap = BT_RECONCILE_GAP,
};
static long long max_requests = BT_MAX_REQUESTS, max_bytes = BT_CHUNK_MAX;
static char *spool_dir;
static const char *max_cost;        /* --max-cost as given */
static long long max_cost_micro;

static void usage(FILE *f, int status)
{
	bt_usage(f, status, "usage: bt-submit [-v] [--dry-run] [--force] [--adopt BATCH_ID] [--tag TAG] "
	        "[-n N] [-b SIZE] [--max-cost USD] [--api-key-file FILE] [CHUNK...]\n",
	"  --dry-run                  check and count, send nothing\n"
	"  --force                    create again a chunk the journal holds\n"
	"  --adopt BATCH_ID           take this batch for an ambiguous create\n"
	"  --tag TAG                  keep this run's chunks under TAG in the journal\n"
	"  -n N                       at most N requests a batch\n"
	"  -b SIZE                    at most SIZE bytes a batch\n"
	"  --max-cost USD             refuse a job whose upper bound costs more\n"
	"  --api-key-file FILE        the API key from FILE's first line\n"
	"  -v, --verbose              say what happens on stderr\n"
	"  -h, --help                 this help\n");
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

/* A chunk file named at where ("stdin:LINE", or NULL for an argument)
 * cannot be used: exit 2, quoting at most 80 bytes of the name. */
static void not_chunk(const char *where, const char *path, const char *why)
	__attribute__((noreturn));
static void not_chunk(const char *where, const char *path, const char *why)
{
	int e = errno;
	size_t n = strlen(path);

	if (!where)
		bt_die(BT_EXIT_USAGE, "%s: %s", path, why ? why : strerror(e));
	bt_die(BT_EXIT_USAGE, "%s: '%.80s%s': not a chunk file (a path) or a request "
	       "(a JSON object): %s", where, path, n > 80 ? "..." : "",
	       why ? why : strerror(e));
}

/* ---- the provider: the first request says which ---- */

static int stream_provider = -1;        /* BT_PROVIDER_*, once a line said */
static int user_n, user_b;              /* -n, -b given */

/* The request r (read at name:lineno) is of the stream's provider; the
 * first one decides it, and the batch limits with it. */
static void same_provider(const struct bt_request *r, const char *name,
                          unsigned long long lineno)
{
	const struct bt_provider *pv;
	char err[300];

	if (stream_provider == r->provider)
		return;
	if (stream_provider >= 0)
		bt_die(BT_EXIT_USAGE, "%s:%llu: an %s request, after %s ones: one provider "
		       "a stream", name, lineno, r->provider == BT_PROVIDER_OPENAI ?
		       "OpenAI" : "Anthropic", stream_provider == BT_PROVIDER_OPENAI ?
		       "OpenAI" : "Anthropic");
	if (bt_config_input(r->provider, "request", err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", name, lineno, err);
	stream_provider = r->provider;
	pv = bt_provider();
	if (!user_n || max_requests > pv->max_requests)
		max_requests = pv->max_requests;
	if (!user_b || max_bytes > pv->max_bytes - pv->envelope)
		max_bytes = pv->max_bytes - pv->envelope;
	if (!sub.key_fp[0])
		bt_endpoint_fp(&cfg, sub.key_fp);
}

/* One request line of a chunk or of stdin, checked: its custom_id in id,
 * its facts in r.  Exit 2 naming name:lineno when it is bad, of the
 * other provider, or (OpenAI) of another model or endpoint than the
 * chunk's (key; NULL: not checked). */
static void request_line(const char *s, size_t n, const char *name,
                         unsigned long long lineno, struct bt_request *r,
                         const struct bt_chunk_key *key)
{
	char err[300];

	if (bt_request_read(s, n, r, err, sizeof err) < 0)
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", name, lineno, err);
	same_provider(r, name, lineno);
	if (key && key->set && r->provider == BT_PROVIDER_OPENAI && !bt_chunk_key_same(key, r))
		bt_die(BT_EXIT_USAGE, "%s:%llu: model \"%s\" and url \"%s\", where the "
		       "chunk's first line has \"%s\" and \"%s\": OpenAI fails a file that "
		       "mixes them (make chunks with bt-split)", name, lineno, r->model, r->url,
		       key->model, key->url);
}

/* A chunk file must be what bt-split writes: requests, one a line, each
 * "\n"-terminated, no blank lines, ids unique, within the batch limits. */
/* The chunk's first request s[0..n), whose custom_id is id. */
static void note_first(struct bt_chunk *c, const char *s, size_t n, const char *id)
{
	const char *at;
	size_t len;

	snprintf(c->first_id, sizeof c->first_id, "%s", id);
	bt_json_member_raw(s, n, "custom_id", &at, &len);
	c->first_at = at ? (off_t)(at - s) : -1;
	c->first_len = (off_t)len;
}

/* A create tags the first request when bt-fetch will find the tag's
 * claim (there is a registry), and there is room for its bytes. */
static void set_taggable(struct bt_chunk *c)
{
	char *reg = bt_registry_dir();
	const struct bt_provider *pv = bt_provider();

	/* a provider that keeps the tag on the batch (OpenAI's metadata)
	 * needs neither */
	c->taggable = pv->tag || (reg && c->first_at > 0 &&
	                          c->bytes + BT_ID_MAX <= pv->max_bytes - pv->envelope);
	free(reg);
}

static void check_chunk(struct bt_chunk *c)
{
	struct bt_lines l;
	struct bt_idset ids = { 0 };
	struct bt_idlist all = { 0 };
	struct bt_chunk_key key = { 0 };
	struct bt_request r;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	unsigned long long first;
	long long sum = 0;
	struct stat st;
	EVP_MD_CTX *ctx;
	size_t n;
	char *s;

	if (bt_lines_open_regular(&l, c->path) < 0)
		not_chunk(c->where, c->path, bt_open_regular_why());
	if (fstat(l.fd, &st) < 0)
		not_chunk(c->where, c->path, NULL);
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		bt_die(BT_EXIT_FAIL, "SHA-256 failed");
	c->requests = 0;
	while ((s = bt_lines_next(&l, &n))) {
		if (n == 0 || bt_blank(s, n))
			bt_die(BT_EXIT_USAGE, "%s:%llu: a blank line: not a chunk file "
			       "(make chunks with bt-split, or give requests on stdin)",
			       c->path, l.lineno);
		request_line(s, n, c->path, l.lineno, &r, &key);
		if ((first = bt_idset_add(&ids, r.id, l.lineno)))
			bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" "
			       "(first on line %llu)", c->path, l.lineno, r.id, first);
		bt_idlist_add(&all, r.id, strlen(r.id));
		if (l.lineno == 1) {
			note_first(c, s, n, r.id);
			bt_chunk_key_set(&key, &r);
			snprintf(c->url, sizeof c->url, "%s", r.url);
		}
		if (++c->requests > bt_provider()->max_requests)
			bt_die(BT_EXIT_USAGE, "%s: more than %lld requests: too many for "
			       "one batch (use bt-split)", c->path, bt_provider()->max_requests);
		s[n] = '\n';
		EVP_DigestUpdate(ctx, s, n + 1);
		sum += (long long)n + 1;
	}
	if (sum != (long long)st.st_size)
		bt_die(BT_EXIT_USAGE, "%s: CRLF line ends or no final newline: not a "
		       "chunk file (make chunks with bt-split)", c->path);
	if (sum > bt_provider()->max_bytes - bt_provider()->envelope)
		bt_die(BT_EXIT_USAGE, "%s: %lld bytes: too big for one batch "
		       "(%lld at most; use bt-split)", c->path, sum,
		       bt_provider()->max_bytes - bt_provider()->envelope);
	if (c->requests == 0)
		bt_die(BT_EXIT_USAGE, "%s: no requests", c->path);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hex(md, c->sha);
	c->bytes = sum;
	bt_idlist_digest(&all, c->ids);
	c->idl = all;
	set_taggable(c);
	bt_idset_free(&ids);
	bt_lines_close(&l);
}


/* ---- requests on stdin, spooled into chunks ---- */

struct spool {
	int fd;
	char *tmp;
	EVP_MD_CTX *ctx;
	struct bt_buf buf;
	long long requests, bytes;
	struct bt_chunk first;         /* the first request's facts */
	struct bt_idlist ids;       /* the chunk's custom_ids */
};

static void spool_start(struct spool *s)
{
	s->requests = s->bytes = 0;
	s->buf.len = 0;
	if (!s->ctx && !(s->ctx = EVP_MD_CTX_new()))
		bt_die(BT_EXIT_FAIL, "SHA-256 failed");
	EVP_DigestInit_ex(s->ctx, EVP_sha256(), NULL);
	s->fd = -1;
	if (sub.dry_run)
		return;
	free(s->tmp);
	s->tmp = bt_asprintf("%s/.spool.%ld.XXXXXX", spool_dir, (long)getpid());
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
	struct bt_chunk c;
	char *path;

	memset(&c, 0, sizeof c);
	c.s = &sub;
	c.win.from = c.win.sent = c.win.to = -1;
	spool_write(s);
	EVP_DigestFinal_ex(s->ctx, md, &mdlen);
	hex(md, c.sha);
	c.requests = s->requests;
	c.bytes = s->bytes;
	memcpy(c.first_id, s->first.first_id, sizeof c.first_id);
	c.first_at = s->first.first_at;
	c.first_len = s->first.first_len;
	memcpy(c.url, s->first.url, sizeof c.url);
	bt_idlist_digest(&s->ids, c.ids);
	c.idl = s->ids;
	memset(&s->ids, 0, sizeof s->ids);
	set_taggable(&c);
	path = bt_asprintf("%s/%s.jsonl", spool_dir, c.sha);
	if (s->fd >= 0) {
		if (fsync(s->fd) < 0 || close(s->fd) < 0)
			bt_die(BT_EXIT_FAIL, "%s: write error:", s->tmp);
		if (rename(s->tmp, path) < 0)
			bt_die(BT_EXIT_FAIL, "%s:", path);
		s->fd = -1;
	}
	c.path = sub.dry_run ? "stdin" : path;
	bt_submit_chunk(&c);
	bt_idlist_free(&c.idl);
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
	struct bt_chunker cut;
	struct bt_chunk_key key = { 0 };
	struct bt_request r;
	char err[300];
	unsigned long long dup;
	size_t n = firstn;
	char *line = first;

	memset(&cut, 0, sizeof cut);
	live_spool = &s;
	atexit(at_exit);
	if (!sub.dry_run && bt_mkdirs(spool_dir) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", spool_dir);
	do {
		if (bt_blank(line, n))
			continue;
		request_line(line, n, l->name, l->lineno, &r, NULL);
		if (!cut.max_requests)  /* the first line said the provider */
			bt_chunker_init(&cut, max_requests, max_bytes);
		if ((dup = bt_idset_add(&ids, r.id, l->lineno)))
			bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" "
			       "(first on line %llu)", l->name, l->lineno, r.id, dup);
		switch (bt_chunker_place(&cut, n, err, sizeof err)) {
		case BT_CHUNK_TOO_BIG:
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l->name, l->lineno, err);
		case BT_CHUNK_NEXT:
			spool_finish(&s);
			bt_chunker_next(&cut);
			break;
		default:
			/* OpenAI: a chunk is one model and one endpoint */
			if (s.requests && r.provider == BT_PROVIDER_OPENAI &&
			    !bt_chunk_key_same(&key, &r)) {
				spool_finish(&s);
				bt_chunker_next(&cut);
			}
		}
		if (!s.requests) {
			spool_start(&s);
			note_first(&s.first, line, n, r.id);
			snprintf(s.first.url, sizeof s.first.url, "%s", r.url);
			bt_chunk_key_set(&key, &r);
		}
		bt_idlist_add(&s.ids, r.id, strlen(r.id));
		bt_chunker_add(&cut, n);
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
	bt_idlist_free(&s.ids);
	spool_cleanup(&s);
	bt_idset_free(&ids);
}

static void chunk_file(const char *path, const char *where)
{
	struct bt_chunk c;

	memset(&c, 0, sizeof c);
	c.s = &sub;
	c.path = path;
	c.where = where;
	c.win.from = c.win.sent = c.win.to = -1;
	check_chunk(&c);
	bt_submit_chunk(&c);
	bt_idlist_free(&c.idl);
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

static void cost_file(const char *path, const char *where)
{
	struct bt_lines l;
	size_t n;
	char *s;

	if (bt_lines_open_regular(&l, path) < 0)
		not_chunk(where, path, bt_open_regular_why());
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
	const char *dir = !sub.dry_run ? spool_dir : tmpdir && *tmpdir ? tmpdir : "/tmp";
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
	char **paths = NULL, **wheres = NULL;
	size_t count = 0, i;

	do {
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			s[--n] = 0;
		if (!n)
			continue;
		paths = bt_realloc(paths, (count + 1) * sizeof *paths);
		wheres = bt_realloc(wheres, (count + 1) * sizeof *wheres);
		paths[count] = bt_strndup(s, n);
		wheres[count++] = bt_asprintf("%s:%llu", l->name, l->lineno);
	} while ((s = bt_lines_next(l, &n)));
	for (i = 0; i < count; i++)
		cost_file(paths[i], wheres[i]);
	cost_check();
	for (i = 0; i < count; i++) {
		chunk_file(paths[i], wheres[i]);
		free(paths[i]);
		free(wheres[i]);
	}
	free(paths);
	free(wheres);
}

/* Standard input: requests (spooled into chunks), or a chunk list. */
static void from_stdin(void)
{
	struct bt_lines l;
	char where[40];
	size_t n;
	char *s;

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
			snprintf(where, sizeof where, "stdin:%llu", l.lineno);
			if (n)
				chunk_file(s, where);
		} while ((s = bt_lines_next(&l, &n)));
	}
	bt_lines_close(&l);
}

static void option(int c)
{
	switch (c) {
	case 'k': bt_config_key_file(&cfg, optarg); break;
	case 'D': sub.dry_run = 1; break;
	case 'F': sub.force = 1; break;
	case 'T':
		if (!*optarg || strlen(optarg) > 32 ||
		    !bt_custom_id_ok(optarg, strlen(optarg)))
			bt_die(BT_EXIT_USAGE, "--tag: 1 to 32 of A-Z a-z 0-9 _ -: '%s'", optarg);
		sub.tag = optarg;
		break;
	case 'A':
		if (!bt_custom_id_ok(optarg, strlen(optarg)))
			bt_die(BT_EXIT_USAGE, "--adopt: not a batch id: '%.80s'", optarg);
		sub.adopt_id = optarg;
		break;
	case 'M':
		if (bt_usd_parse(optarg, &max_cost_micro) < 0)
			bt_die(BT_EXIT_USAGE, "--max-cost: not an amount of dollars: '%s'", optarg);
		max_cost = optarg;
		break;
	case 'n': max_requests = bt_num(optarg, 1, BT_MAX_REQUESTS, "-n"); user_n = 1; break;
	case 'b': max_bytes = bt_size(optarg, 1, BT_CHUNK_MAX, "-b"); user_b = 1; break;
	case 'v': bt_verbose = 1; break;
	case 'h': usage(stdout, 0); break;
	default: usage(stderr, BT_EXIT_USAGE);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "api-key-file", required_argument, 0, 'k' },
		{ "dry-run", no_argument, 0, 'D' },
		{ "force", no_argument, 0, 'F' },
		{ "tag", required_argument, 0, 'T' },
		{ "adopt", required_argument, 0, 'A' },
		{ "max-cost", required_argument, 0, 'M' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	char *s;
	int c, i;

	bt_init(argv);
	bt_config_init(&cfg);
	while ((c = getopt_long(argc, argv, "hvn:b:", opts, NULL)) != -1)
		option(c);
	argc -= optind;
	argv += optind;
	if (sub.adopt_id && (sub.force || sub.dry_run))
		bt_die(BT_EXIT_USAGE, "--adopt goes with neither --force nor --dry-run");
	if (!sub.dry_run) {
		bt_config_need_key(&cfg);
		sub.http = bt_http_new(&cfg);
	}
	if ((s = getenv("BT_RECONCILE_GRACE")) && *s)
		sub.grace = bt_duration(s, "BT_RECONCILE_GRACE");
	if ((s = getenv("BT_RECONCILE_GAP")) && *s)
		sub.look_gap = bt_duration(s, "BT_RECONCILE_GAP");
	sub.journal_dir = bt_asprintf("%s/journal", cfg.state_dir);
	spool_dir = bt_asprintf("%s/spool", cfg.state_dir);
	if (!sub.dry_run) {
		if (bt_mkdirs(sub.journal_dir) < 0)
			bt_die(BT_EXIT_FAIL, "%s:", sub.journal_dir);
		if (!(sub.journal_abs = bt_realpath(sub.journal_dir)))
			bt_die(BT_EXIT_FAIL, "%s:", sub.journal_dir);
		bt_registry_add(sub.journal_dir);
		bt_journal_clean(sub.journal_dir);
		bt_journal_clean(spool_dir);
	}

	if (argc) {
		for (i = 0; max_cost && i < argc; i++)
			cost_file(argv[i], NULL);
		if (max_cost)
			cost_check();
		for (i = 0; i < argc; i++)
			chunk_file(argv[i], NULL);
	} else
		from_stdin();
	bt_http_free(sub.http);
	bt_config_free(&cfg);
	free(sub.journal_dir);
	free(sub.journal_abs);
	free(spool_dir);
	bt_close_stdout();
	return sub.failed ? BT_EXIT_FAIL : 0;
}
