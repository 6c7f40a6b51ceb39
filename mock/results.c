/* results.c — a batch's results file: made once, when the batch is first
 * seen ended, from its requests file; then its counts are published */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock.h"

/* The work of one finalize. */
struct fin {
	struct batch *b;
	char key[40];           /* batch_key: what decides outcomes and order */
	struct bstate s;        /* as of the end */
	long n;                 /* requests */
	char *rpath;            /* ID.requests, mapped at map (size bytes) */
	char *fpath;            /* ID.results.tmp: the results file, renamed */
	char *opath;            /* ID.order.tmp: the lines in request order */
	char *tpath;            /* ID.results */
	const char *map;
	size_t size;
	int ofd;                /* the lines in request order go here: */
	const char *ord;        /* fpath with --ordered, else opath */
	size_t *offs;           /* where line i starts in it; offs[n]: its size */
	long cnt[4];            /* results by kind */
	struct bt_buf w;
	struct bt_buf part;     /* one message or error, before its line */
	struct pset cache;      /* the batch's prompt cache */
};

uint64_t request_hash(const char *cid, size_t cidlen, const char *bid)
{
	uint64_t h;

	/* a request's fate is drawn from the seed, the batch and its
	 * custom_id less the tag bt's creates put on a chunk's first request
	 * ("-bt" and 16 hex digits, bt.7): a job run again draws the same */
	if (cidlen > 19 && !memcmp(cid + cidlen - 19, "-bt", 3) &&
	    strspn(cid + cidlen - 16, "0123456789abcdef") >= 16)
		h = hash_fnv(hash_fnv(hash_mix(opt_seed) ^ FNV_START, bid, strlen(bid) + 1), cid,
		             cidlen - 19);
	else
		h = hash_fnv(hash_fnv(hash_mix(opt_seed) ^ FNV_START, bid, strlen(bid) + 1), cid, cidlen);
	return hash_mix(h);
}

/* Append one result line for a processed request; returns its kind. */
static int result_line(struct bt_buf *o, struct bt_buf *part, const char *cid,
                       size_t cidlen, jv params, const char *bid, struct pset *cache)
{
	char msg[256], rid[32];
	uint64_t h;
	double u;
	int kind;

	h = request_hash(cid, cidlen, bid);
	make_id(rid, sizeof rid, "req_", h ^ 0x726571ULL);
	u = hash_unit(h ^ 0x72617465ULL);
	part->len = 0;
	if (check_params(params, 1, msg, sizeof msg) < 0) {
		bt_error_envelope(part, "invalid_request_error", msg, rid);
		kind = BT_R_ERRORED;
	} else if (check_model_known(params, msg, sizeof msg) < 0) {
		bt_error_envelope(part, "not_found_error", msg, rid);
		kind = BT_R_ERRORED;
	} else if (u < opt_error_rate) {
		if (hash_mix(h ^ 0x6b696e64ULL) & 1)
			bt_error_envelope(part, "overloaded_error", "Overloaded", rid);
		else
			bt_error_envelope(part, "api_error", "Internal server error", rid);
		kind = BT_R_ERRORED;
	} else if (u < opt_error_rate + opt_expire_rate) {
		kind = BT_R_EXPIRED;
	} else {
		message_json(part, params, h, "batch", cache, NULL);
		kind = BT_R_SUCCEEDED;
	}
	bt_result_write(o, cid, cidlen, kind, part->p, part->len);
	return kind;
}

/* The result line of request i, whose line p[0..nl) is {"custom_id":"ID",
 * "params":{...}} as validate_create wrote it; returns its kind, or -1
 * (warned) when the line is damaged. */
static int request_result(struct fin *f, long i, const char *p, const char *nl)
{
	char err[256];
	const char *q;
	size_t cidlen;
	int kind;
	jv params;

	if ((size_t)(nl - p) < 16 || strncmp(p, "{\"custom_id\":\"", 14) ||
	    !(q = memchr(p + 14, '"', (size_t)(nl - p - 14))) ||
	    nl - q < 12 || strncmp(q, "\",\"params\":", 11)) {
		bt_warn("%s: line %ld: damaged", f->rpath, i + 1);
		return -1;
	}
	cidlen = (size_t)(q - (p + 14));
	if (i >= f->s.k) {
		/* not processed before the cancel or the expiry */
		bt_result_write(&f->w, p + 14, cidlen, f->s.rest, NULL, 0);
		return f->s.rest;
	}
	params = bt_json_parse(q + 11, (size_t)(nl - 1 - (q + 11)), err, sizeof err);
	if (!jv_is_valid(params)) {
		jv_free(params);
		bt_warn("%s: line %ld: %s", f->rpath, i + 1, err);
		return -1;
	}
	kind = result_line(&f->w, &f->part, p + 14, cidlen, params, f->key, &f->cache);
	jv_free(params);
	return kind;
}

/* Write every result line to f->ofd in request order, noting where each
 * starts. */
static int write_in_order(struct fin *f)
{
	const char *p = f->map, *end = f->map + f->size, *nl;
	size_t osize = 0;
	long i;
	int kind;

	f->offs = bt_malloc(((size_t)f->n + 1) * sizeof *f->offs);
	for (i = 0; i < f->n; i++) {
		f->offs[i] = osize + f->w.len;
		if (p >= end || !(nl = memchr(p, '\n', (size_t)(end - p)))) {
			bt_warn("%s: line %ld: damaged", f->rpath, i + 1);
			return -1;
		}
		if ((kind = request_result(f, i, p, nl)) < 0)
			return -1;
		f->cnt[kind]++;
		p = nl + 1;
		if (f->w.len >= WBUF) {
			osize += f->w.len;
			if (flush_buf(f->ofd, &f->w, f->ord) < 0)
				return -1;
		}
	}
	f->offs[f->n] = osize + f->w.len;
	return flush_buf(f->ofd, &f->w, f->ord);
}

/* Copy the lines of f->ofd to fpath in a shuffled order: deterministic by
 * the seed and the batch's number, since the API promises no order. */
static int write_shuffled(struct fin *f)
{
	uint32_t *perm, j, t;
	uint64_t rng;
	size_t osize = 0;
	char *omap;
	long i;
	int ffd, rc = -1;

	perm = bt_malloc(((size_t)f->n + 1) * sizeof *perm);
	for (i = 0; i < f->n; i++)
		perm[i] = (uint32_t)i;
	rng = hash_mix(opt_seed ^ hash_fnv(FNV_START, f->key, strlen(f->key)));
	for (j = (uint32_t)f->n; j > 1; j--) {
		rng = hash_mix(rng);
		t = (uint32_t)(rng % j);
		i = perm[j - 1];
		perm[j - 1] = perm[t];
		perm[t] = (uint32_t)i;
	}
	if (!(omap = map_file(f->ofd, &osize, f->opath))) {
		free(perm);
		return -1;
	}
	if ((ffd = open(f->fpath, O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
		bt_warn("%s:", f->fpath);
	for (i = 0; ffd >= 0 && i < f->n; i++) {
		bt_buf_add(&f->w, omap + f->offs[perm[i]], f->offs[perm[i] + 1] - f->offs[perm[i]]);
		if (f->w.len >= WBUF && flush_buf(ffd, &f->w, f->fpath) < 0)
			break;
	}
	if (ffd >= 0 && i == f->n && flush_buf(ffd, &f->w, f->fpath) == 0)
		rc = 0;
	if (ffd >= 0 && close(ffd) < 0 && rc == 0) {
		bt_warn("%s:", f->fpath);
		rc = -1;
	}
	unmap_file(omap, osize);
	free(perm);
	return rc;
}

/* Make the results file at fpath, and rename it to tpath. */
static int make_results(struct fin *f)
{
	int rfd, rc;

	if ((rfd = open(f->rpath, O_RDONLY)) < 0) {
		bt_warn("%s:", f->rpath);
		return -1;
	}
	f->map = map_file(rfd, &f->size, f->rpath);
	close(rfd);     /* the map stays */
	if (!f->map)
		return -1;
	f->ord = opt_ordered ? f->fpath : f->opath;
	if ((f->ofd = open(f->ord, O_RDWR | O_CREAT | O_TRUNC, 0644)) < 0) {
		bt_warn("%s:", f->ord);
		return -1;
	}
	rc = write_in_order(f);
	if (rc == 0 && !opt_ordered)
		rc = write_shuffled(f);
	if (close(f->ofd) < 0 && rc == 0) {
		bt_warn("%s:", f->ord);
		rc = -1;
	}
	f->ofd = -1;
	if (rc == 0 && rename(f->fpath, f->tpath) < 0) {
		bt_warn("%s:", f->tpath);
		rc = -1;
	}
	return rc;
}

int finalize(struct batch *b)
{
	struct fin f = { .b = b, .ofd = -1 };
	int rc;

	pthread_mutex_lock(&b->fin);
	pthread_mutex_lock(&mu);
	if (b->finalized || b->deleted) {
		pthread_mutex_unlock(&mu);
		pthread_mutex_unlock(&b->fin);
		return 0;
	}
	batch_state(b, &f.s);
	f.n = b->n;
	batch_key(b, f.key);
	pthread_mutex_unlock(&mu);

	f.rpath = path_of(b->id, ".requests");
	f.fpath = path_of(b->id, ".results.tmp");
	f.opath = path_of(b->id, ".order.tmp");
	f.tpath = path_of(b->id, ".results");
	rc = make_results(&f);
	if (rc == 0) {
		pthread_mutex_lock(&mu);
		memcpy(b->cnt, f.cnt, sizeof f.cnt);
		b->finalized = 1;
		if (b->deleted)
			unlink(f.tpath);
		else
			meta_save(b);
		pthread_mutex_unlock(&mu);
	}
	if (f.map)
		unmap_file((void *)f.map, f.size);
	if (f.ofd >= 0)
		close(f.ofd);
	if (!opt_ordered)
		unlink(f.opath);
	if (rc < 0)
		unlink(f.fpath);
	bt_buf_free(&f.w);
	bt_buf_free(&f.part);
	pset_free(&f.cache);
	free(f.offs);
	free(f.rpath);
	free(f.fpath);
	free(f.opath);
	free(f.tpath);
	pthread_mutex_unlock(&b->fin);
	return rc;
}

int refresh(struct batch *b, int64_t now)
{
	int need;

	pthread_mutex_lock(&mu);
	need = !b->finalized && !b->deleted && batch_ended(b, now);
	pthread_mutex_unlock(&mu);
	return need ? finalize(b) : 0;
}
