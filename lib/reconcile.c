/* reconcile.c — a chunk's create, journaled, and the reconciliation of a
 * create that got no clear answer: never paid for twice, and never
 * another job's batch taken for ours.  (Moved from bin/bt-submit.c, which
 * keeps its options and the reading of chunks; issue 19 §3.)
 *
 * Every create goes through a write-ahead journal in $BT_STATE_DIR/journal,
 * one record a chunk, named [TAG.]SHA256.ENDPOINT: the SHA-256 of the
 * chunk's bytes, and a fingerprint of where it goes (the base URL and the
 * key, hashed: never the key itself).
 *
 *   before the create            {"state":"sending","window":{"from":T},...}
 *   before its last body bytes   window.sent
 *   after the answer             {"state":"created","batch":{MessageBatch},...}
 *   after a sure refusal         {"state":"failed","error":"...",...}
 *
 * Window times are on the server's clock, learnt from its Date headers.  A
 * chunk whose record says "created" is not sent again (--force sends it
 * anyway).  A record left "sending" (a crash, a dropped connection, a 5xx
 * after the body went out) is settled against the batch list before
 * anything is sent again: see settle(), and RECONCILIATION in bt.7.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"

#define LEGACY_SLACK 300.0  /* a record from before windows: its "since" is
                               our clock, allowed this much skew */
#define BUSY_WAIT 300.0     /* seconds to wait for another create under way */

void bt_chunk_fail(const struct bt_chunk *c, const char *fmt, ...)
{
	char msg[2000];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	bt_warn("%s: %s", c->path, msg);
	c->s->failed = 1;
}

/* ---- the journal ---- */

/* The record of c in state: the chunk's facts, where it goes, and batch
 * (borrowed) when there is one; r is the caller's to free. */
static void record(const struct bt_chunk *c, const char *state, jv batch,
                   const char *error, struct bt_jrec *r)
{
	struct bt_submit *s = c->s;

	bt_jrec_init(r);
	r->has = BT_JR_RECORD;
	r->sha256 = bt_strdup(c->sha);
	r->tag = s->tag ? bt_strdup(s->tag) : NULL;
	r->chunk = bt_strdup(c->path);
	r->requests = c->requests;
	r->bytes = c->bytes + bt_provider()->envelope;
	r->endpoint = bt_strdup(s->cfg->base_url);
	r->key_fp = bt_strdup(s->key_fp);
	r->state = bt_strdup(state);
	r->since = bt_strdup(c->since);
	r->win = c->win;
	r->batch = jv_is_valid(batch) ? jv_copy(batch) : jv_null();
	r->error = error ? bt_strdup(error) : NULL;
	r->superseded = jv_copy(c->superseded);
	r->first_id = bt_strdup(c->first_id);
	r->ids_sha256 = bt_strdup(c->ids);
	r->nonces = jv_copy(c->nonces);
	r->rejected = jv_copy(c->rejected);
	if (c->file_id[0]) {
		r->has |= BT_JR_FILE_ID;
		r->file_id = bt_strdup(c->file_id);
	}
}

/* The claim that batch (borrowed) may be, or is, c's: for bt-fetch, which
 * lets out its results only when they prove it (bt.7, RECONCILIATION). */
static int claim(const struct bt_chunk *c, jv batch, const char *state)
{
	char id[BT_BATCH_ID_MAX];
	jv cl = jv_object();
	int r;

	bt_batch_field(batch, "id", id, sizeof id);
	cl = jv_object_set(cl, jv_string("state"), jv_string(state));
	cl = jv_object_set(cl, jv_string("endpoint"), jv_string(c->s->cfg->base_url));
	cl = jv_object_set(cl, jv_string("key_fp"), jv_string(c->s->key_fp));
	cl = jv_object_set(cl, jv_string("journal"), jv_string(c->s->journal_abs));
	cl = jv_object_set(cl, jv_string("record"), jv_string(c->key));
	cl = jv_object_set(cl, jv_string("chunk"), jv_string(c->path));
	cl = jv_object_set(cl, jv_string("requests"), jv_number((double)c->requests));
	cl = jv_object_set(cl, jv_string("ids_sha256"), jv_string(c->ids));
	cl = jv_object_set(cl, jv_string("first_id"), jv_string(c->first_id));
	cl = jv_object_set(cl, jv_string("nonces"), jv_copy(c->nonces));
	/* the nonce is on the batch object (OpenAI's metadata), not in its
	 * first custom_id: bt-fetch looks for no tagged line */
	if (bt_provider()->tag)
		cl = jv_object_set(cl, jv_string("tagged"), jv_string("metadata"));
	/* a batch its own create made: bt-fetch streams its results, each
	 * checked against the chunk's ids as it goes */
	if (!strcmp(state, "made"))
		bt_claim_put_ids(id, cl, &c->idl);
	r = bt_claim_put(id, cl);
	jv_free(cl);
	return r;
}

static void journal(const struct bt_chunk *c, const char *state, jv batch, const char *error)
{
	struct bt_jrec r;

	record(c, state, batch, error, &r);
	bt_jrec_write(c->s->journal_dir, c->key, &r);
	bt_jrec_free(&r);
}

/* The body's last bytes are about to go: from now on the create may be
 * taken whole.  A record without "sent" proves it was not. */
static void body_end(void *arg)
{
	struct bt_chunk *c = arg;
	double lo, hi;

	if (bt_http_clock(c->s->http, &lo, &hi) < 0)
		return;
	c->win.sent = bt_now() + hi;
	journal(c, "sending", jv_invalid(), NULL);
}

/* The chunk's file is uploaded (OpenAI): its id is journaled, for a
 * retry to reuse. */
static void uploaded(void *arg)
{
	struct bt_chunk *c = arg;

	journal(c, "sending", jv_invalid(), NULL);
}

/* ---- what every journal on this machine knows ---- */

/* A create that got no clear answer, in some journal, and the window in
 * which its batch, if any, was made. */
struct claim {
	char *where;            /* "JOURNAL/NAME" */
	char chunk[200];
	double from, to;        /* to: -1 for no end (it is under way) */
	int busy;
};

struct known {
	struct bt_idset ids;    /* every batch some record names */
	struct claim *claims;
	size_t nclaims;
	char *self;             /* our own record: "JOURNAL/NAME" */
	struct bt_submit *s;
};

static void add_list(struct bt_idset *set, jv a)
{
	int i, n = jv_get_kind(a) == JV_KIND_ARRAY ? jv_array_length(jv_copy(a)) : 0;
	jv x;

	for (i = 0; i < n; i++) {
		x = jv_array_get(jv_copy(a), i);
		if (jv_get_kind(x) == JV_KIND_STRING)
			bt_idset_add(set, jv_string_value(x), 1);
		jv_free(x);
	}
	jv_free(a);
}

/* The batches a record holds as surely its own: the batch it made or
 * proved, and those it superseded.  A batch adopted provisionally is
 * not: it may yet prove another's. */
static void add_ids(struct bt_idset *set, const struct bt_jrec *r)
{
	char id[BT_BATCH_ID_MAX];

	add_list(set, jv_copy(r->superseded));
	add_list(set, jv_copy(r->also));
	if (r->provisional)
		return;
	if (bt_jrec_batch_id(r, id) == 0)
		bt_idset_add(set, id, 1);
}

static int gather(const char *dir, const char *name, jv rec, void *arg)
{
	struct known *k = arg;
	char *where = bt_asprintf("%s/%s", dir, name);
	struct claim *cl;
	struct bt_jrec r;
	struct bt_win w;
	int has_win, busy;

	bt_jrec_from_json(&r, rec);
	/* a batch id names a batch of one server: records made against
	 * another (all but those from before endpoints were kept) say
	 * nothing of this one's batches */
	if (r.endpoint && strcmp(r.endpoint, k->s->cfg->base_url)) {
		free(where);
		bt_jrec_free(&r);
		return 0;
	}
	add_ids(&k->ids, &r);
	if (r.state && !strcmp(r.state, "sending") && strcmp(where, k->self)) {
		has_win = bt_jrec_window(&r, &w) == 0;
		busy = bt_journal_busy(dir, name);
		/* a window with no "sent": its body never went whole, so it
		 * made nothing (unless it is sending still) */
		if (busy || !has_win || w.sent >= 0) {
			k->claims = bt_realloc(k->claims, (k->nclaims + 1) * sizeof *k->claims);
			cl = &k->claims[k->nclaims++];
			cl->where = where;
			where = NULL;
			snprintf(cl->chunk, sizeof cl->chunk, "%s", r.chunk ? r.chunk : "");
			cl->busy = busy;
			cl->from = w.from;
			cl->to = busy || !has_win ? -1 : (w.to >= 0 ? w.to : w.sent) + k->s->grace;
		}
	}
	free(where);
	bt_jrec_free(&r);
	return 0;
}

static void known_load(struct known *k, const struct bt_chunk *c)
{
	char **dirs = bt_registry_journals(c->s->journal_dir), **d;
	struct bt_jrec own;

	memset(k, 0, sizeof *k);
	k->s = c->s;
	k->self = bt_asprintf("%s/%s", c->s->journal_abs, c->key);
	for (d = dirs; *d; d++)
		if (bt_journal_each(*d, gather, k) < 0 && bt_verbose)
			bt_warn("%s: cannot read this journal:", *d);
	bt_jrec_init(&own);
	own.superseded = jv_copy(c->superseded);
	add_ids(&k->ids, &own);
	bt_jrec_free(&own);
	add_list(&k->ids, jv_copy(c->rejected));
	bt_strv_free(dirs);
}

static void known_free(struct known *k)
{
	size_t i;

	for (i = 0; i < k->nclaims; i++)
		free(k->claims[i].where);
	free(k->claims);
	bt_idset_free(&k->ids);
	free(k->self);
}

/* ---- reconciliation ---- */

/* The batches of the list made since lo (on the server's clock), newest
 * first, that take(b, arg) takes, appended to cands.  0, or -1 with err. */
static int list_since(struct bt_http *h, double lo, int (*take)(jv b, double t, void *arg),
                      void *arg, jv *cands, char *err, size_t errsz)
{
	struct bt_pages pg;
	struct bt_resp resp;
	char why[700];
	int i, len, older = 0, r;
	double t;
	jv data, b;

	bt_pages_init(&pg, h);
	while (!older && (r = bt_pages_next(&pg, bt_provider()->list_limit_max < 100 ?
	                                    bt_provider()->list_limit_max : 100,
	                                    &data, &resp, why, sizeof why)) > 0) {
		bt_resp_free(&resp);
		len = jv_array_length(jv_copy(data));
		for (i = 0; i < len && !older; i++) {
			b = jv_array_get(jv_copy(data), i);
			t = bt_batch_time(b, BT_TIME_CREATED, NULL, 0);
			if (t >= 0 && t < lo)
				older = 1;      /* newest first: the rest are older */
			else if (take(b, t, arg)) {
				*cands = jv_array_append(*cands, b);
				continue;
			}
			jv_free(b);
		}
		jv_free(data);
	}
	bt_pages_free(&pg);
	if (r < 0) {
		bt_resp_free(&resp);
		snprintf(err, errsz, "cannot list batches to check: %s", why);
		return -1;
	}
	return 0;
}

/* A candidate of an untagged window: made by hi (< 0: no end), with n
 * requests, known to no journal. */
struct window_take {
	double hi;
	long long n;
	const struct known *k;
};

static int in_window(jv b, double t, void *arg)
{
	const struct window_take *w = arg;
	char id[BT_BATCH_ID_MAX];

	bt_batch_field(b, "id", id, sizeof id);
	return t >= 0 && (w->hi < 0 || t <= w->hi) && bt_batch_count(b, "total") == w->n &&
	       !bt_idset_get(&w->k->ids, id);
}

/* A batch that carries one of c's nonces on itself (bt_provider()->tag):
 * one c's creates made, and no other's. */
static int carries_tag(jv b, double t, void *arg)
{
	const struct bt_chunk *c = arg;
	char tag[BT_NONCE_LEN + 8];
	int k, mine = 0;
	jv x;

	(void)t;
	if (bt_provider()->tag(b, tag, sizeof tag) < 0)
		return 0;
	for (k = 0; k < jv_array_length(jv_copy(c->nonces)) && !mine; k++) {
		x = jv_array_get(jv_copy(c->nonces), k);
		mine = bt_jv_is(x, tag);
		jv_free(x);
	}
	return mine;
}

/* Whether a candidate (borrowed) lies in the window of another
 * unanswered create: 0 no; -2 one under way (wait); -1 one that died
 * (refuse).  err says which. */
static int contested(const struct bt_chunk *c, jv cand, const struct known *k,
                     char *err, size_t errsz)
{
	char id[BT_BATCH_ID_MAX], at[40];
	double t;
	size_t j;

	bt_batch_field(cand, "id", id, sizeof id);
	t = bt_batch_time(cand, BT_TIME_CREATED, at, sizeof at);
	for (j = 0; j < k->nclaims; j++) {
		const struct claim *cl = &k->claims[j];
		if (t < cl->from || (cl->to >= 0 && t > cl->to))
			continue;
		if (cl->busy) {
			snprintf(err, errsz, "batch %s (created %s) may be that of a "
			         "create under way for %s (%s)", id, at, cl->chunk, cl->where);
			return -2;
		}
		/* no --adopt advice: an untagged create's results cannot
		 * prove whose the batch is */
		snprintf(err, errsz, "batch %s (created %s, %lld requests) may be "
		         "this chunk's, or that of an unanswered create for %s (%s); "
		         "run bt-submit for that one first, or send this one again "
		         "with --force", id, at, c->requests, cl->chunk, cl->where);
		return -1;
	}
	return 0;
}

/* Whether c's creates are tagged (bt_tag_id): its candidates are then
 * proved or refused by their results. */
static int tagged(const struct bt_chunk *c)
{
	return jv_get_kind(c->nonces) == JV_KIND_ARRAY && jv_array_length(jv_copy(c->nonces)) > 0;
}

/* The batches that an unanswered create of c in window w may have made:
 * created inside the window (on the server's clock), with as many
 * requests, named by no journal on this machine.  Their number, with
 * them in *cands; -1 with err when it cannot be told (the list failed, or
 * a candidate is also in the window of another unanswered create); -2
 * when such a create is still under way (wait, and look again). */
static int reconcile(const struct bt_chunk *c, const struct bt_win *w, jv *cands,
                     char *err, size_t errsz)
{
	struct known k;
	double hi = w->to >= 0 ? w->to + c->s->grace : w->sent >= 0 ? w->sent + c->s->grace : -1;
	int i, n, r;
	jv b;

	*cands = jv_array();
	if (bt_provider()->tag) {
		/* the batch says whose it is: no window of another create, no
		 * count, can make it another's */
		if (list_since(c->s->http, w->from - c->s->grace, carries_tag, (void *)c, cands,
		               err, errsz) < 0) {
			jv_free(*cands);
			*cands = jv_invalid();
			return -1;
		}
		return jv_array_length(jv_copy(*cands));
	}
	known_load(&k, c);
	{
		struct window_take wt = { hi, c->requests, &k };
		r = list_since(c->s->http, w->from, in_window, &wt, cands, err, errsz);
	}
	n = r < 0 ? 0 : jv_array_length(jv_copy(*cands));
	/* a tagged create's batch proves itself at fetch: another create's
	 * window says nothing then */
	for (i = 0; i < n && r == 0 && !tagged(c); i++) {
		b = jv_array_get(jv_copy(*cands), i);
		r = contested(c, b, &k, err, errsz);
		jv_free(b);
	}
	known_free(&k);
	if (r < 0) {
		jv_free(*cands);
		*cands = jv_invalid();
		return r;
	}
	return n;
}

/* Take the batches of cands (borrowed, an array) as c's candidates on
 * trust: journaled as created, provisionally, each with a claim that
 * makes bt-fetch check its results before it lets one out; the first
 * whose results prove it c's is c's batch, the others are let go.
 * 0, or -1 (reported). */
static int adopt(struct bt_chunk *c, jv cands, const char *why)
{
	char id[BT_BATCH_ID_MAX], at[40];
	struct bt_buf msg = { 0 };
	int i, n = jv_array_length(jv_copy(cands));
	struct bt_jrec rec;
	jv b;

	for (i = 0; i < n; i++) {
		b = jv_array_get(jv_copy(cands), i);
		bt_batch_field(b, "id", id, sizeof id);
		bt_batch_time(b, BT_TIME_CREATED, at, sizeof at);
		if (claim(c, b, "provisional") < 0) {
			jv_free(b);
			bt_buf_free(&msg);
			bt_chunk_fail(c, "%s, but %s cannot be adopted provisionally with no place "
			           "to mark it: set HOME or XDG_STATE_HOME", why, id);
			return -1;
		}
		bt_buf_printf(&msg, "%s%s (created %s, %lld requests)", i ? ", " : "", id, at,
		              bt_batch_count(b, "total"));
		jv_free(b);
	}
	b = jv_array_get(jv_copy(cands), 0);
	record(c, "created", b, NULL, &rec);     /* borrows b */
	jv_free(b);
	rec.has |= BT_JR_PROVISIONAL | BT_JR_CANDIDATES;
	rec.provisional = 1;
	rec.candidates = jv_copy(cands);
	bt_jrec_write(c->s->journal_dir, c->key, &rec);
	bt_jrec_free(&rec);
	if (n == 1)
		bt_warn("%s: %s; adopted %s provisionally: bt-fetch lets out its results "
		        "only if they prove it this chunk's", c->path, why, bt_buf_str(&msg));
	else
		bt_warn("%s: %s; %d batches could be its, all adopted provisionally: %s; "
		        "bt-fetch lets out the results of the one they prove this chunk's, "
		        "and lets the others go", c->path, why, n, bt_buf_str(&msg));
	bt_buf_free(&msg);
	return 0;
}

/* The batch of cands (borrowed; each carries a nonce of c's creates on
 * itself) that is c's: the oldest, journaled as made; any other one was
 * made by another of c's creates, and is said (it is paid for, but its
 * results are the same requests' and are not fetched). */
static jv ours(struct bt_chunk *c, jv cands, const char *why)
{
	int i, n = jv_array_length(jv_copy(cands));
	char id[BT_BATCH_ID_MAX];
	jv b = jv_array_get(jv_copy(cands), n - 1), x;

	journal(c, "created", b, NULL);
	claim(c, b, "made");
	bt_batch_field(b, "id", id, sizeof id);
	bt_warn("%s: %s, but the batch was made: %s (it carries this chunk's tag)",
	        c->path, why, id);
	for (i = 0; i < n - 1; i++) {
		x = jv_array_get(jv_copy(cands), i);
		bt_batch_field(x, "id", id, sizeof id);
		bt_warn("%s: %s was made by another create of this chunk that got no "
		        "answer: it is paid for, and its results are not fetched; cancel it "
		        "with bt-cancel %s", c->path, id, id);
		jv_free(x);
	}
	return b;
}

/* After a create that got no clear answer, now or in a run that died:
 * look (twice: the list may lag a create) for the batch it may have made.
 * 1 with *batch (an array of candidates) adopted; 0 when none was made
 * and c may be sent again; -1 when it cannot be told (reported). */
static int settle(struct bt_chunk *c, const struct bt_win *w, const char *why, jv *batch)
{
	struct bt_buf msg = { 0 };
	char err[1500], id[BT_BATCH_ID_MAX], at[40];
	double waited = 0;
	int r = 0, look, i;
	jv cands = jv_invalid(), b;

	*batch = jv_invalid();
	for (look = 0; look < 2; look++) {
		if (look)
			bt_sleep(c->s->look_gap);
		jv_free(cands);
		while ((r = reconcile(c, w, &cands, err, sizeof err)) == -2 &&
		       waited < BUSY_WAIT) {
			if (bt_verbose)
				bt_warn("%s: %s; waiting for it", c->path, err);
			bt_sleep(2);
			waited += 2;
		}
		if (r < 0) {
			bt_chunk_fail(c, "%s, and %s", why, err);
			return -1;
		}
	}
	if (r >= 1 && bt_provider()->tag) {
		*batch = ours(c, cands, why);
		jv_free(cands);
		return 1;
	}
	/* tagged, any number is settled by their results; untagged (a
	 * create from before tags, or with no registry), one only */
	if (r == 1 || (r > 1 && tagged(c))) {
		if (adopt(c, cands, why) < 0) {
			jv_free(cands);
			return -1;
		}
		*batch = cands;
		return 1;
	}
	if (r > 1) {
		for (i = 0; i < r; i++) {
			b = jv_array_get(jv_copy(cands), i);
			bt_batch_field(b, "id", id, sizeof id);
			bt_batch_time(b, BT_TIME_CREATED, at, sizeof at);
			bt_buf_printf(&msg, "%s%s (created %s, %lld requests)", i ? ", " : "",
			              id, at, bt_batch_count(b, "total"));
			jv_free(b);
		}
		/* no --adopt advice: equal chunks of two jobs cannot be told
		 * apart by their results without a tag */
		bt_chunk_fail(c, "%s, and %d batches could be its: %s; its create carried "
		           "no tag (made before tags, or with no registry), so their "
		           "results cannot prove which; send it again with --force",
		           why, r, bt_buf_str(&msg));
		bt_buf_free(&msg);
	}
	jv_free(cands);
	return r > 1 ? -1 : 0;
}
/* ---- sending ---- */

/* The server's clock must be known before a create, to bound its
 * window: the first call of a run asks for it (and so proves the key
 * before a large body goes).  0, or -1 (reported). */
static int clock_known(const struct bt_chunk *c)
{
	char path[BT_PATH_MAX];
	struct bt_resp resp;
	double lo, hi;
	jv v;

	if (bt_http_clock(c->s->http, &lo, &hi) == 0)
		return 0;
	snprintf(path, sizeof path, "%s?limit=1", bt_provider()->list_path);
	v = bt_http_json(c->s->http, "GET", path, &resp);
	if (!jv_is_valid(v)) {
		bt_chunk_fail(c, "%s", resp.err);
		bt_resp_free(&resp);
		return -1;
	}
	jv_free(v);
	bt_resp_free(&resp);
	if (bt_http_clock(c->s->http, &lo, &hi) < 0) {
		bt_chunk_fail(c, "the API's answers carry no Date header: the time of a "
		           "create cannot be bounded, so nothing is sent");
		return -1;
	}
	return 0;
}

/* One create, journaled.  The batch; or jv_invalid() when it surely
 * failed (reported; prior, a record from before --force, is put back);
 * or jv_invalid_with_msg(why) when it got no clear answer. */
static jv create(struct bt_chunk *c, const struct bt_jrec *prior)
{
	struct bt_create cr;
	struct bt_resp resp;
	char err[200], tagged_id[BT_ID_MAX + 1], splice[BT_ID_MAX + 3];
	double lo, hi;
	jv batch;
	int fd, on_batch;

	if (clock_known(c) < 0)
		return jv_invalid();
	c->nonce[0] = 0;
	if (c->taggable) {
		/* journaled before the body goes: a batch this create made
		 * carries it */
		bt_nonce(c->nonce);
		c->nonces = jv_array_append(c->nonces, jv_string(c->nonce));
		bt_tag_id(c->first_id, c->nonce, tagged_id);
		snprintf(splice, sizeof splice, "\"%s\"", tagged_id);
	}
	on_batch = bt_provider()->tag != NULL;
	if ((fd = bt_open_regular(c->path)) < 0)
		bt_die(BT_EXIT_FAIL, "%s: %s", c->path, bt_open_regular_why());
	memset(&cr, 0, sizeof cr);
	cr.path = c->path;
	cr.sha = c->sha;
	cr.endpoint = c->url;
	cr.fd = fd;
	cr.size = c->bytes;
	cr.body_end = body_end;
	cr.file_id = c->file_id;
	cr.uploaded = uploaded;
	cr.arg = c;
	if (c->nonce[0] && on_batch)
		cr.nonce = c->nonce;
	else if (c->nonce[0]) {
		cr.nonce = c->nonce;
		cr.splice = splice;
		cr.splice_at = c->first_at;
		cr.splice_cut = c->first_len;
	}
	bt_http_clock(c->s->http, &lo, &hi);
	bt_rfc3339(bt_now(), c->since);
	c->win.from = bt_now() + lo;
	c->win.sent = c->win.to = -1;
	journal(c, "sending", jv_invalid(), NULL);
	if (bt_batch_create(c->s->http, &cr, &resp) < 0) {
		close(fd);
		bt_http_clock(c->s->http, &lo, &hi);
		c->win.to = resp.t_end + hi;
		if (resp.ambiguous) {
			journal(c, "sending", jv_invalid(), NULL);
			batch = jv_invalid_with_msg(jv_string(resp.err));
			bt_resp_free(&resp);
			return batch;
		}
		/* surely not taken: a refusal, or retries that ran out; a
		 * batch made before (--force) stays the chunk's */
		if (prior)
			bt_jrec_write(c->s->journal_dir, c->key, prior);
		else
			journal(c, "failed", jv_invalid(), resp.err);
		bt_chunk_fail(c, "%s", resp.err);
		bt_resp_free(&resp);
		return jv_invalid();
	}
	close(fd);
	bt_http_clock(c->s->http, &lo, &hi);
	c->win.to = resp.t_end + hi;
	batch = bt_json_parse(resp.body.p ? resp.body.p : "", resp.body.len, err, sizeof err);
	bt_resp_free(&resp);
	if (jv_get_kind(batch) != JV_KIND_OBJECT || bt_batch_count(batch, "total") < 0) {
		/* it answered 2xx: the batch exists, but we cannot read it */
		jv_free(batch);
		return jv_invalid_with_msg(jv_string("the answer to the create is not a batch"));
	}
	journal(c, "created", batch, NULL);
	/* bt-fetch checks its results against the chunk, and reads the tag
	 * back as the first custom_id */
	if (c->nonce[0] && claim(c, batch, "made") < 0 && !on_batch)
		bt_die(BT_EXIT_FAIL, "%s: the registry is gone: set HOME or XDG_STATE_HOME", c->path);
	return batch;
}

/* A record of this chunk made against the same server under another key
 * (or by a bt-submit that kept no endpoint): its batch is reused only
 * when this key sees it (the same workspace under a new key, say).  The
 * batch, or jv_invalid(). */
struct elsewhere {
	const struct bt_chunk *c;
	size_t plen;        /* [TAG.]SHA256 */
	jv batch;
};

static int look_elsewhere(const char *dir, const char *name, jv rec, void *arg)
{
	struct elsewhere *e = arg;
	struct bt_submit *s = e->c->s;
	struct bt_resp resp;
	char id[BT_BATCH_ID_MAX];
	struct bt_jrec r;
	int created;
	jv fresh;

	(void)dir;
	bt_jrec_from_json(&r, rec);
	if (strncmp(name, e->c->key, e->plen) || (name[e->plen] && name[e->plen] != '.') ||
	    !strcmp(name, e->c->key) ||
	    /* another server's batch ids say nothing of this one's */
	    (r.endpoint && strcmp(r.endpoint, s->cfg->base_url))) {
		bt_jrec_free(&r);
		return 0;
	}
	created = r.state && !strcmp(r.state, "created");
	if (!created || bt_jrec_batch_id(&r, id) < 0 || s->dry_run) {
		if (s->dry_run && created)
			e->batch = jv_copy(r.batch);
		bt_jrec_free(&r);
		return s->dry_run && jv_is_valid(e->batch);
	}
	bt_jrec_free(&r);
	fresh = bt_batch_get(s->http, id, &resp);
	bt_resp_free(&resp);
	if (jv_is_valid(fresh) && bt_batch_count(fresh, "total") == e->c->requests) {
		e->batch = fresh;
		return 1;
	}
	jv_free(fresh);
	return 0;
}

static jv elsewhere(const struct bt_chunk *c)
{
	struct elsewhere e = { c, strlen(c->sha) + (c->s->tag ? strlen(c->s->tag) + 1 : 0), jv_invalid() };

	bt_journal_each(c->s->journal_dir, look_elsewhere, &e);
	return e.batch;
}

/* Whether c's results proved batch id not its own. */
static int rejected(const struct bt_chunk *c, const char *id)
{
	int i, r = 0;
	jv x;

	for (i = 0; !r && i < jv_array_length(jv_copy(c->rejected)); i++) {
		x = jv_array_get(jv_copy(c->rejected), i);
		r = jv_get_kind(x) == JV_KIND_STRING && !strcmp(jv_string_value(x), id);
		jv_free(x);
	}
	return r;
}

/* --adopt: take the named batch as this chunk's, on trust checked at
 * fetch.  The batch, or jv_invalid() (reported). */
static jv adopt_named(struct bt_chunk *c)
{
	struct bt_resp resp;
	struct known k;
	jv batch;

	if (c->s->adopted++)
		bt_die(BT_EXIT_USAGE, "--adopt names one batch: give one chunk");
	batch = bt_batch_get(c->s->http, c->s->adopt_id, &resp);
	if (!jv_is_valid(batch)) {
		bt_chunk_fail(c, "--adopt %s: %s", c->s->adopt_id, resp.err);
		bt_resp_free(&resp);
		return jv_invalid();
	}
	bt_resp_free(&resp);
	if (bt_batch_count(batch, "total") != c->requests) {
		bt_chunk_fail(c, "--adopt %s: it has %lld requests, this chunk %lld: not its batch",
		           c->s->adopt_id, bt_batch_count(batch, "total"), c->requests);
		jv_free(batch);
		return jv_invalid();
	}
	known_load(&k, c);
	if (rejected(c, c->s->adopt_id)) {
		bt_chunk_fail(c, "--adopt %s: its results proved it not this chunk's "
		           "(bt-fetch let it go)", c->s->adopt_id);
		jv_free(batch);
		batch = jv_invalid();
	} else if (bt_idset_get(&k.ids, c->s->adopt_id)) {
		bt_chunk_fail(c, "--adopt %s: a journal on this machine holds it for "
		           "another chunk or job", c->s->adopt_id);
		jv_free(batch);
		batch = jv_invalid();
	}
	known_free(&k);
	if (jv_is_valid(batch)) {
		batch = JV_ARRAY(batch);
		if (adopt(c, batch, "--adopt") < 0) {
			jv_free(batch);
			batch = jv_invalid();
		}
	}
	return batch;
}

static void dry(struct bt_chunk *c)
{
	struct bt_buf b = { 0 };
	struct bt_jrec r;
	jv batch, x;

	batch = bt_jrec_read(c->s->journal_dir, c->key, &r) ? jv_copy(r.batch) : elsewhere(c);
	bt_buf_adds(&b, "{\"chunk\":");
	bt_json_write_str(&b, c->path, strlen(c->path));
	bt_buf_printf(&b, ",\"requests\":%lld,\"bytes\":%lld,\"sha256\":\"%s\",\"batch\":",
	              c->requests, c->bytes + bt_provider()->envelope, c->sha);
	x = jv_get_kind(batch) == JV_KIND_OBJECT ?
	    jv_object_get(jv_copy(batch), jv_string("id")) : jv_null();
	bt_json_write(&b, x);
	bt_buf_adds(&b, "}\n");
	bt_flush(&b);
	bt_buf_free(&b);
	jv_free(x);
	jv_free(batch);
	bt_jrec_free(&r);
}

/* An array member of a record, else an empty array. */
static jv array_of(jv a)
{
	return jv_get_kind(a) == JV_KIND_ARRAY ? jv_copy(a) : jv_array();
}

/* The record of c, in r, when there is one: for this endpoint, else one
 * made against the same server under another key whose batch this key
 * sees, else an old one left "sending" (from before endpoints were kept).
 * c->superseded, c->nonces, c->rejected and c->since are taken from it.
 * Its state, "" when there is none. */
static const char *load_record(struct bt_chunk *c, struct bt_jrec *r)
{
	struct bt_submit *s = c->s;
	int found = bt_jrec_read(s->journal_dir, c->key, r);
	char *legacy;
	jv batch;

	if (!found && !s->adopt_id) {
		batch = elsewhere(c);
		if (jv_is_valid(batch)) {
			c->superseded = jv_array();
			c->nonces = jv_array();
			c->rejected = jv_array();
			journal(c, "created", batch, NULL);
			jv_free(c->superseded);
			jv_free(c->nonces);
			jv_free(c->rejected);
			bt_jrec_free(r);
			found = bt_jrec_read(s->journal_dir, c->key, r);
			jv_free(batch);
		} else {
			legacy = bt_asprintf("%s%s%s", s->tag ? s->tag : "", s->tag ? "." : "", c->sha);
			bt_jrec_free(r);
			found = bt_jrec_read(s->journal_dir, legacy, r);
			if (found && (!r->state || strcmp(r->state, "sending") || r->endpoint)) {
				bt_jrec_free(r);
				bt_jrec_init(r);
				found = 0;
			}
			free(legacy);
		}
	}
	c->superseded = array_of(r->superseded);
	c->nonces = array_of(r->nonces);
	c->rejected = array_of(r->rejected);
	snprintf(c->since, sizeof c->since, "%s", found && r->since ? r->since : "");
	/* a file uploaded for an earlier create is used again */
	if (found && r->file_id && bt_custom_id_ok(r->file_id, strlen(r->file_id)))
		snprintf(c->file_id, sizeof c->file_id, "%s", r->file_id);
	return found && r->state ? r->state : "";
}

/* The same chunk (same tag, bytes, server and key) sent from another
 * journal on this machine: its batch is there.  1 (reported) when one
 * holds a batch, else 0. */
static int sent_elsewhere(struct bt_chunk *c)
{
	char **dirs = bt_registry_journals(NULL), **d, id[BT_BATCH_ID_MAX], *top;
	struct bt_jrec rec;
	int r = 0;

	for (d = dirs; *d; d++) {
		if (!strcmp(*d, c->s->journal_abs))
			continue;
		bt_jrec_read(*d, c->key, &rec);
		if (rec.state && !strcmp(rec.state, "created") && bt_jrec_batch_id(&rec, id) == 0) {
			top = bt_strdup(*d);
			if (strlen(top) > 8 && !strcmp(top + strlen(top) - 8, "/journal"))
				top[strlen(top) - 8] = 0;
			if (c->s->tag)    /* a job's round (bt-run, bt.mk): a job of its own */
				bt_warn("%s: sent before from another directory under --tag %s, "
				        "as %s (journal %s); sent again for this job",
				        c->path, c->s->tag, id, *d);
			else {
				bt_chunk_fail(c, "sent before from another directory, as %s (journal "
				           "%s): the same chunk, to the same server and key; fetch "
				           "it there (BT_STATE_DIR=%s bt-fetch %s), or give --force "
				           "to pay for it again", id, *d, top, id);
				r = 1;
			}
			free(top);
			bt_jrec_free(&rec);
			break;
		}
		bt_jrec_free(&rec);
	}
	bt_strv_free(dirs);
	return r;
}

/* A batch made before, for --force or --adopt: superseded unless the
 * new one fails, when its record (rec, as loaded) is put back. */
static void supersede(struct bt_chunk *c, const struct bt_jrec *rec)
{
	char id[BT_BATCH_ID_MAX];

	if (bt_jrec_batch_id(rec, id) == 0 &&
	    !(c->s->adopt_id && !strcmp(id, c->s->adopt_id)))
		c->superseded = jv_array_append(c->superseded, jv_string(id));
}

/* The batch a record "created" holds, said on stderr when it is on trust. */
static jv recorded(const struct bt_chunk *c, const struct bt_jrec *rec)
{
	const char *tag = c->s->tag;
	char id[BT_BATCH_ID_MAX];
	int n = jv_get_kind(rec->candidates) == JV_KIND_ARRAY ?
	        jv_array_length(jv_copy(rec->candidates)) : 0;

	if (rec->provisional && n > 0) {
		bt_warn("%s: %d batch(es) adopted provisionally; bt-fetch checks them",
		        c->path, n);
		return jv_copy(rec->candidates);
	}
	if (bt_jrec_batch_id(rec, id) < 0)
		id[0] = 0;
	if (rec->provisional)
		bt_warn("%s: %s was adopted provisionally; bt-fetch checks it", c->path, id);
	else    /* always said: a retry round that sends nothing must not be silent */
		bt_warn("%s: sent before as %s%s%s: printing that batch instead of sending "
		        "it again (to send it anew, give %s --tag)", c->path, id,
		        tag ? " under --tag " : "", tag ? tag : "", tag ? "another" : "a new");
	return jv_copy(rec->batch);
}

/* Send c: at most three creates, each that gets no clear answer settled
 * before the next.  The batch, or jv_invalid() (reported). */
static jv send_chunk(struct bt_chunk *c, const struct bt_jrec *prior)
{
	char why[1200];
	int tries, r;
	jv batch, x;

	for (tries = 1; tries <= 3; tries++) {
		batch = create(c, prior);
		if (jv_is_valid(batch) || !jv_invalid_has_msg(jv_copy(batch)))
			return batch;   /* made, or failed for sure (reported) */
		x = jv_invalid_get_msg(batch);
		snprintf(why, sizeof why, "the create got no clear answer (%s)", jv_string_value(x));
		jv_free(x);
		if (bt_verbose)
			bt_warn("%s: %s; checking whether the batch was made", c->path, why);
		r = settle(c, &c->win, why, &batch);
		if (r != 0)
			return batch;   /* adopted, or refused (reported) */
		/* not made: it may be sent again */
	}
	bt_chunk_fail(c, "no clear answer after 3 creates, and no batch was made; "
	           "run bt-submit again later");
	return jv_invalid();
}

void bt_submit_chunk(struct bt_chunk *c)
{
	struct bt_submit *s = c->s;
	const struct bt_jrec *prior = NULL;
	const char *state;
	struct bt_jrec rec;
	jv batch = jv_invalid();
	struct bt_win w;
	int lock, r = 0;

	snprintf(c->key, sizeof c->key, "%s%s%s%s%s", s->tag ? s->tag : "", s->tag ? "." : "",
	         c->sha, s->dry_run && !s->cfg->key ? "" : ".",
	         s->dry_run && !s->cfg->key ? "" : s->key_fp);
	if (s->dry_run) {
		dry(c);
		return;
	}
	lock = bt_journal_lock(s->journal_dir, c->key);
	state = load_record(c, &rec);
	if (!strcmp(state, "created") && (s->force || s->adopt_id)) {
		supersede(c, &rec);
		prior = &rec;
	}
	if (s->adopt_id)
		batch = adopt_named(c);
	else if (!state[0] && !s->force && sent_elsewhere(c))
		;       /* reported */
	else if (!strcmp(state, "created") && !s->force)
		batch = recorded(c, &rec);
	else {
		if (!strcmp(state, "sending") && !s->force) {
			/* the last create got no clear answer: did it make the batch? */
			if (bt_jrec_window(&rec, &w) == 0)
				c->win = w;
			if (c->win.from >= 0 && w.sent < 0) {
				if (bt_verbose)
					bt_warn("%s: an earlier create died before its body went "
					        "whole: it made nothing", c->path);
			} else
				r = settle(c, &w, "an earlier create got no answer", &batch);
		}
		if (r == 0)
			batch = send_chunk(c, prior);
	}
	if (jv_get_kind(batch) == JV_KIND_ARRAY) {
		int i;
		for (i = 0; i < jv_array_length(jv_copy(batch)); i++) {
			jv b = jv_array_get(jv_copy(batch), i);
			bt_print_json(b);
			jv_free(b);
		}
	} else if (jv_is_valid(batch))
		bt_print_json(batch);
	jv_free(batch);
	bt_jrec_free(&rec);
	jv_free(c->superseded);
	jv_free(c->nonces);
	jv_free(c->rejected);
	c->superseded = c->nonces = c->rejected = jv_invalid();
	close(lock);
}
