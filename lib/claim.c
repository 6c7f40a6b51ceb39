/* claim.c — what a batch is claimed to be, and the tag that proves it.
 *
 * A create attempt draws a nonce, written to its journal record before
 * the body goes.  The chunk's first request is sent under a tagged
 * custom_id that carries the nonce (bt_tag_id); every other request goes
 * as it is.  So a batch's results prove which create made it: the one
 * whose nonce is among them.  Equal chunks of two jobs sent in the same
 * second, with equal custom_ids, make batches that can be told apart.
 *
 * A claim says "batch B may be (or is) the batch of record R of journal
 * J": the chunk's request count, the digest of its custom_ids, its first
 * custom_id and the nonces of every create of it.  Claims live in the
 * registry, one file each, registry/claims/BATCH/HASH.json (HASH names
 * the record), so that several jobs can claim one batch at once without
 * a lock: each bt-submit writes its own file, whole.  bt-fetch reads a
 * batch's claims, checks its results against each, and settles them
 * (bt_claim_settle): the record whose claim they prove takes the batch;
 * every other record drops it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"

#define TAG_KEEP 44     /* bytes of the custom_id kept before "-bt" and the nonce */

void bt_nonce(char out[BT_NONCE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[BT_NONCE_LEN / 2];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC), i;
	size_t got = 0;
	ssize_t k;

	while (fd >= 0 && got < sizeof r &&
	       ((k = read(fd, r + got, sizeof r - got)) > 0 || (k < 0 && errno == EINTR)))
		got += k > 0 ? (size_t)k : 0;
	if (fd < 0 || got < sizeof r)
		bt_die(BT_EXIT_FAIL, "/dev/urandom: cannot read:");
	close(fd);
	for (i = 0; i < (int)sizeof r; i++) {
		out[2 * i] = hex[r[i] >> 4];
		out[2 * i + 1] = hex[r[i] & 15];
	}
	out[BT_NONCE_LEN] = 0;
}

void bt_tag_id(const char *id, const char *nonce, char out[BT_ID_MAX + 1])
{
	size_t n = strlen(id);

	if (n > TAG_KEEP)
		n = TAG_KEEP;
	snprintf(out, BT_ID_MAX + 1, "%.*s-bt%s", (int)n, id, nonce);
}

/* ---- claims in the registry ---- */

static char *claims_dir(const char *batch_id)
{
	char *top = bt_registry_dir(), *dir;

	if (!top)
		return NULL;
	dir = bt_asprintf("%s/claims/%s", top, batch_id);
	free(top);
	return dir;
}

static void claim_name(jv claim, char out[17])
{
	char j[PATH_MAX] = "", r[256] = "", hex[65];
	char *s;

	bt_batch_field(claim, "journal", j, sizeof j);
	bt_batch_field(claim, "record", r, sizeof r);
	s = bt_asprintf("%s\n%s", j, r);
	bt_sha256_hex(s, strlen(s), hex);
	free(s);
	memcpy(out, hex, 16);
	out[16] = 0;
}

int bt_claim_put(const char *batch_id, jv claim)
{
	char *dir = claims_dir(batch_id), *path, name[17];
	struct bt_buf b = { 0 };

	if (!dir)
		return -1;
	if (bt_mkdirs(dir) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", dir);
	claim_name(claim, name);
	path = bt_asprintf("%s/%s.json", dir, name);
	bt_json_write(&b, claim);
	bt_buf_addc(&b, '\n');
	if (bt_write_file(path, b.p, b.len) < 0)
		bt_die(BT_EXIT_FAIL, "%s: cannot write:", path);
	bt_buf_free(&b);
	free(path);
	free(dir);
	return 0;
}

int bt_claim_put_ids(const char *batch_id, jv claim, const struct bt_idlist *ids)
{
	char *dir = claims_dir(batch_id), *path, name[17];
	struct bt_buf b = { 0 };
	size_t i;

	if (!dir)
		return -1;
	if (bt_mkdirs(dir) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", dir);
	claim_name(claim, name);
	path = bt_asprintf("%s/%s.ids", dir, name);
	for (i = 0; i < ids->n; i++) {
		bt_buf_adds(&b, ids->v[i]);
		bt_buf_addc(&b, '\n');
	}
	if (bt_write_file(path, b.p ? b.p : "", b.len) < 0)
		bt_die(BT_EXIT_FAIL, "%s: cannot write:", path);
	bt_buf_free(&b);
	free(path);
	free(dir);
	return 0;
}

int bt_claim_ids(const char *batch_id, jv claim, struct bt_idset *set)
{
	char *dir = claims_dir(batch_id), *path, name[17], *s;
	struct bt_lines l;
	size_t n;
	jv req;
	int r = -1;

	if (!dir)
		return -1;
	claim_name(claim, name);
	path = bt_asprintf("%s/%s.ids", dir, name);
	/* the set made once at the chunk's size, which the claim says (up to
	 * 100,000 ids; growing is most of the cost of adding them) */
	req = bt_jv_get(claim, "requests");
	if (jv_get_kind(req) == JV_KIND_NUMBER && jv_number_value(req) >= 1 &&
	    jv_number_value(req) <= 1000000)
		bt_idset_reserve(set, (size_t)jv_number_value(req));
	jv_free(req);
	if (bt_lines_open(&l, path) == 0) {
		while ((s = bt_lines_next(&l, &n)))
			if (n && n <= BT_ID_MAX) {
				s[n] = 0;
				bt_idset_add(set, s, l.lineno);
			}
		bt_lines_close(&l);
		r = 0;
	}
	free(path);
	free(dir);
	return r;
}

void bt_claim_drop(const char *batch_id, jv claim)
{
	char *dir = claims_dir(batch_id), *path, name[17];

	if (!dir)
		return;
	claim_name(claim, name);
	path = bt_asprintf("%s/%s.json", dir, name);
	if (unlink(path) < 0 && errno != ENOENT)
		bt_die(BT_EXIT_FAIL, "%s:", path);
	rmdir(dir);         /* when it was the last */
	free(path);
	free(dir);
}

jv bt_claims_get(const char *batch_id, const char *endpoint)
{
	char *dir = claims_dir(batch_id), *path, ep[512], err[200];
	struct bt_buf b = { 0 };
	struct dirent *e;
	DIR *d;
	size_t n;
	jv all = jv_array(), c;

	if (!dir || !(d = opendir(dir))) {
		free(dir);
		return all;
	}
	while ((e = readdir(d))) {
		n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		path = bt_asprintf("%s/%s", dir, e->d_name);
		b.len = 0;
		if (bt_slurp(path, &b) < 0) {
			if (errno != ENOENT)
				bt_die(BT_EXIT_FAIL, "%s:", path);
			free(path);
			continue;
		}
		c = bt_json_parse(b.p ? b.p : "", b.len, err, sizeof err);
		if (jv_get_kind(c) != JV_KIND_OBJECT)
			bt_die(BT_EXIT_FAIL, "%s: a damaged claim (%s); move it away", path,
			       jv_is_valid(c) ? "not an object" : err);
		free(path);
		/* a batch id names a batch of one server */
		if (bt_batch_field(c, "endpoint", ep, sizeof ep) == 0 && !strcmp(ep, endpoint))
			all = jv_array_append(all, c);
		else
			jv_free(c);
	}
	closedir(d);
	bt_buf_free(&b);
	free(dir);
	return all;
}

/* ---- what results prove ---- */

int bt_claim_proved(jv claim, struct bt_idlist *ids, char *tagged, size_t tagsz)
{
	char first[BT_ID_MAX + 1] = "", want[65] = "", digest[65], t[BT_ID_MAX + 1];
	jv nonces = jv_object_get(jv_copy(claim), jv_string("nonces")), x;
	size_t i, at = (size_t)-1;
	int k, n, r;
	char *keep = NULL;

	bt_batch_field(claim, "first_id", first, sizeof first);
	bt_batch_field(claim, "ids_sha256", want, sizeof want);
	tagged[0] = 0;
	n = jv_get_kind(nonces) == JV_KIND_ARRAY ? jv_array_length(jv_copy(nonces)) : 0;
	/* the tag of one of its creates, once, in place of the first id */
	for (k = 0; k < n && at == (size_t)-1; k++) {
		x = jv_array_get(jv_copy(nonces), k);
		if (jv_get_kind(x) == JV_KIND_STRING && first[0]) {
			bt_tag_id(first, jv_string_value(x), t);
			for (i = 0; i < ids->n; i++)
				if (!strcmp(ids->v[i], t)) {
					at = i;
					break;
				}
		}
		jv_free(x);
	}
	jv_free(nonces);
	if (n > 0 && at == (size_t)-1)
		return 0;       /* tagged creates, and none of their tags */
	if (at != (size_t)-1) {
		keep = ids->v[at];
		ids->v[at] = bt_strdup(first);
	}
	bt_idlist_digest(ids, digest);
	r = !strcmp(digest, want);
	if (keep) {
		/* the list is sorted now: find the first id again, put the tag back */
		for (i = 0; i < ids->n; i++)
			if (!strcmp(ids->v[i], first)) {
				free(ids->v[i]);
				ids->v[i] = keep;
				keep = NULL;
				break;
			}
		free(keep);
		if (r)
			snprintf(tagged, tagsz, "%s", t);
	}
	return r;
}

/* ---- settling a claim in its record ---- */

/* The claim's record, locked: the lock, with *dir and *name set; -1
 * when the claim names none (its journal is gone). */
static int claim_record(jv claim, char **dir, char **name)
{
	char d[PATH_MAX], n[256];

	if (bt_batch_field(claim, "journal", d, sizeof d) < 0 ||
	    bt_batch_field(claim, "record", n, sizeof n) < 0 || access(d, F_OK) < 0)
		return -1;
	*dir = bt_strdup(d);
	*name = bt_strdup(n);
	return bt_journal_lock(d, n);
}

static int batch_is(jv b, const char *id)
{
	char x[BT_BATCH_ID_MAX];

	return bt_batch_field(b, "id", x, sizeof x) == 0 && !strcmp(x, id);
}

/* rec's candidates (an array of batch objects) without id; *had is set
 * when id was among them, and *which to its object. */
static jv without(jv rec, const char *id, int *had, jv *which)
{
	jv c = jv_object_get(jv_copy(rec), jv_string("candidates")), out = jv_array(), x;
	int i, n = jv_get_kind(c) == JV_KIND_ARRAY ? jv_array_length(jv_copy(c)) : 0;

	*had = 0;
	for (i = 0; i < n; i++) {
		x = jv_array_get(jv_copy(c), i);
		if (batch_is(x, id)) {
			*had = 1;
			jv_free(*which);
			*which = x;
		} else
			out = jv_array_append(out, x);
	}
	jv_free(c);
	return out;
}

static jv add_id(jv rec, const char *key, const char *id)
{
	jv a = jv_object_get(jv_copy(rec), jv_string(key));

	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		jv_free(a);
		a = jv_array();
	}
	return jv_object_set(rec, jv_string(key), jv_array_append(a, jv_string(id)));
}

/* The record takes batch id (its results proved it its own). */
static jv confirm(jv rec, const char *id)
{
	char at[32];
	jv batch = jv_object_get(jv_copy(rec), jv_string("batch")), rest;
	int had, prov = jv_get_kind(bt_jv_get(rec, "provisional")) == JV_KIND_TRUE;

	rest = without(rec, id, &had, &batch);
	if (!had && !batch_is(batch, id)) {
		/* proved its own, but settled already with another batch:
		 * a second batch of its own (paid); its results are written too */
		jv_free(rest);
		jv_free(batch);
		return add_id(rec, "also", id);
	}
	if (!prov && !had) {            /* made, and proved so */
		jv_free(rest);
		jv_free(batch);
		return rec;
	}
	bt_rfc3339(bt_now(), at);
	rec = jv_object_set(rec, jv_string("state"), jv_string("created"));
	rec = jv_object_set(rec, jv_string("batch"), batch);
	rec = jv_object_set(rec, jv_string("provisional"), jv_false());
	rec = jv_object_set(rec, jv_string("verified"), jv_string(at));
	rec = jv_object_set(rec, jv_string("error"), jv_null());
	/* the other candidates are someone else's: dropped when fetched */
	return jv_object_set(rec, jv_string("candidates"), rest);
}

/* The record drops batch id (its results proved it not its own). */
static jv reject(jv rec, const char *id, const char *why, int *orphan)
{
	jv batch = jv_object_get(jv_copy(rec), jv_string("batch")), rest, dummy = jv_null();
	int had, prov = jv_get_kind(bt_jv_get(rec, "provisional")) == JV_KIND_TRUE;

	*orphan = 0;
	rest = without(rec, id, &had, &dummy);
	jv_free(dummy);
	if (!prov) {                    /* made or settled: another is its own */
		jv_free(batch);
		return jv_object_set(rec, jv_string("candidates"), rest);
	}
	rec = add_id(rec, "rejected", id);
	if (jv_array_length(jv_copy(rest)) > 0) {
		/* others are still to be looked at */
		if (batch_is(batch, id)) {
			jv_free(batch);
			batch = jv_array_get(jv_copy(rest), 0);
		}
		rec = jv_object_set(rec, jv_string("batch"), batch);
		return jv_object_set(rec, jv_string("candidates"), rest);
	}
	jv_free(batch);
	jv_free(rest);
	*orphan = 1;
	rec = jv_object_set(rec, jv_string("state"), jv_string("failed"));
	rec = jv_object_set(rec, jv_string("error"), jv_string(why));
	rec = jv_object_set(rec, jv_string("batch"), jv_null());
	rec = jv_object_set(rec, jv_string("provisional"), jv_false());
	return jv_object_set(rec, jv_string("candidates"), jv_array());
}

int bt_claim_settle(const char *batch_id, jv claim, int proved, const char *why)
{
	char *dir = NULL, *name = NULL, state[16] = "";
	int fd = claim_record(claim, &dir, &name), orphan = 0;
	jv rec;

	if (fd < 0)
		return 0;       /* its journal is gone */
	rec = bt_journal_read(dir, name);
	bt_batch_field(rec, "state", state, sizeof state);
	if (jv_is_valid(rec) && !strcmp(state, "created")) {
		rec = proved ? confirm(rec, batch_id) : reject(rec, batch_id, why, &orphan);
		bt_journal_write(dir, name, rec);
	}
	jv_free(rec);
	close(fd);
	free(dir);
	free(name);
	/* kept, with what its results proved: a batch a record let go is
	 * never fetched as if nobody claimed it */
	claim = jv_object_set(jv_copy(claim), jv_string("state"),
	                      jv_string(proved ? "proved" : "rejected"));
	bt_claim_put(batch_id, claim);
	jv_free(claim);
	return orphan;
}
