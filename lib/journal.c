/* journal.c — bt-submit's write-ahead journal, the registry of every
 * journal on this machine, and the marks of batches adopted on trust.
 *
 * A journal is a directory of records, one file NAME.json a chunk (one
 * JSON object, replaced whole), each with a lock file NAME.lock that is
 * held while a create for it is under way.  The registry lives in
 * $XDG_STATE_HOME/bt (default ~/.local/state/bt): "journals" lists every
 * journal directory that ever sent from this machine, one absolute path a
 * line, so that reconciliation can tell every batch a job of ours made;
 * "adopted/BATCH.json" marks a batch adopted provisionally, which
 * bt-fetch checks before it lets its results out.
 */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

static char *record_path(const char *dir, const char *name, const char *ext)
{
	return bt_asprintf("%s/%s.%s", dir, name, ext);
}

/* One JSON object from path: the value, jv_invalid() when there is no
 * such file; a damaged file exits 1 naming it. */
static jv read_object(const char *path, const char *what)
{
	struct bt_buf b = { 0 };
	char err[200];
	jv v;

	if (bt_slurp(path, &b) < 0) {
		if (errno != ENOENT)
			bt_die(BT_EXIT_FAIL, "%s:", path);
		return jv_invalid();
	}
	v = bt_json_parse(b.p ? b.p : "", b.len, err, sizeof err);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		bt_die(BT_EXIT_FAIL, "%s: a damaged %s (%s); move it away", path, what,
		       jv_is_valid(v) ? "not an object" : err);
	bt_buf_free(&b);
	return v;
}

static void write_object(const char *path, jv v)
{
	struct bt_buf b = { 0 };

	bt_json_write(&b, v);
	bt_buf_addc(&b, '\n');
	if (bt_write_file(path, b.p, b.len) < 0)
		bt_die(BT_EXIT_FAIL, "%s: cannot write:", path);
	bt_buf_free(&b);
}

jv bt_journal_read(const char *dir, const char *name)
{
	char *path = record_path(dir, name, "json");
	jv v = read_object(path, "journal record");

	free(path);
	return v;
}

void bt_journal_write(const char *dir, const char *name, jv rec)
{
	char *path = record_path(dir, name, "json");

	write_object(path, rec);
	free(path);
}

int bt_journal_lock(const char *dir, const char *name)
{
	char *path = record_path(dir, name, "lock");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);

	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", path);
	free(path);
	return fd;
}

int bt_journal_busy(const char *dir, const char *name)
{
	char *path = record_path(dir, name, "lock");
	int fd = open(path, O_RDONLY | O_CLOEXEC), busy = 0;

	if (fd >= 0) {
		busy = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
		close(fd);
	}
	free(path);
	return busy;
}

/* A temporary file NAME.tmp.PID (bt_write_file's) or .spool.PID.XXXXXX
 * whose process is gone. */
static int stale(const char *name)
{
	const char *p = strstr(name, ".tmp.");
	char *end;
	long pid;

	if (p)
		p += 5;
	else if (!strncmp(name, ".spool.", 7))
		p = name + 7;
	else
		return 0;
	pid = strtol(p, &end, 10);
	if (end == p || pid <= 0 || (*end && *end != '.'))
		return 0;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

void bt_journal_clean(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char *path;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (stale(e->d_name)) {
			path = bt_asprintf("%s/%s", dir, e->d_name);
			if (unlink(path) == 0 && bt_verbose)
				bt_warn("%s: removed, left by a process that died", path);
			free(path);
		}
	closedir(d);
}

int bt_journal_each(const char *dir, int (*fn)(const char *dir, const char *name,
                                                jv rec, void *arg), void *arg)
{
	char name[NAME_MAX + 1];
	struct dirent *e;
	DIR *d = opendir(dir);
	size_t n;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while (!r && (e = readdir(d))) {
		n = strlen(e->d_name);
		if (e->d_name[0] == '.' || n < 6 || strcmp(e->d_name + n - 5, ".json"))
			continue;
		memcpy(name, e->d_name, n - 5);
		name[n - 5] = 0;
		r = fn(dir, name, bt_journal_read(dir, name), arg);
	}
	closedir(d);
	return r;
}

/* ---- the registry ---- */

char *bt_registry_dir(void)
{
	const char *x = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (x && *x == '/')
		return bt_asprintf("%s/bt", x);
	if (home && *home == '/')
		return bt_asprintf("%s/.local/state/bt", home);
	return NULL;
}

/* REGISTRY[/SUB]/LEAF, its directory made; NULL with no registry. */
static char *registry_file(const char *sub, const char *leaf)
{
	char *top = bt_registry_dir(), *dir, *path;

	if (!top)
		return NULL;
	dir = sub ? bt_asprintf("%s/%s", top, sub) : bt_strdup(top);
	if (bt_mkdirs(dir) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", dir);
	path = bt_asprintf("%s/%s", dir, leaf);
	free(dir);
	free(top);
	return path;
}

/* Whether b holds line as a whole line. */
static int has_line(const struct bt_buf *b, const char *line)
{
	size_t n = strlen(line);
	const char *p = b->p, *end = b->p + b->len, *nl;

	for (; p && p < end; p = nl + 1) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		if ((size_t)(nl - p) == n && !memcmp(p, line, n))
			return 1;
	}
	return 0;
}

void bt_registry_add(const char *journal_dir)
{
	char *path = registry_file(NULL, "journals"), *abs, *line;
	struct bt_buf b = { 0 };
	int fd;

	if (!path)
		return;
	if (!(abs = bt_realpath(journal_dir)))
		bt_die(BT_EXIT_FAIL, "%s:", journal_dir);
	fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || bt_slurp(path, &b) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", path);
	if (!has_line(&b, abs)) {
		line = bt_asprintf("%s\n", abs);
		if (bt_write_all(fd, line, strlen(line)) < 0)
			bt_die(BT_EXIT_FAIL, "%s: write error:", path);
		free(line);
	}
	close(fd);
	bt_buf_free(&b);
	free(abs);
	free(path);
}

char **bt_registry_journals(const char *extra)
{
	char *path = registry_file(NULL, "journals"), **v = NULL, *abs;
	size_t n = 0, i;
	struct bt_lines l;
	char *s;
	size_t len;

	abs = extra ? bt_realpath(extra) : NULL;
	if (abs) {
		v = bt_realloc(v, (n + 1) * sizeof *v);
		v[n++] = abs;
	}
	if (path && bt_lines_open(&l, path) == 0) {
		while ((s = bt_lines_next(&l, &len))) {
			if (!len || *s != '/')
				continue;
			for (i = 0; i < n && strcmp(v[i], s); i++)
				;
			if (i < n)
				continue;
			v = bt_realloc(v, (n + 1) * sizeof *v);
			v[n++] = bt_strndup(s, len);
		}
		bt_lines_close(&l);
	}
	free(path);
	v = bt_realloc(v, (n + 1) * sizeof *v);
	v[n] = NULL;
	return v;
}

void bt_strv_free(char **v)
{
	char **p;

	for (p = v; p && *p; p++)
		free(*p);
	free(v);
}

/* ---- adoption marks ---- */

static char *mark_path(const char *batch_id)
{
	char *leaf = bt_asprintf("%s.json", batch_id), *path;

	path = registry_file("adopted", leaf);
	free(leaf);
	return path;
}

jv bt_adopted_get(const char *batch_id)
{
	char *path = mark_path(batch_id);
	jv v = path ? read_object(path, "adoption mark") : jv_invalid();

	free(path);
	return v;
}

int bt_adopted_put(const char *batch_id, jv mark)
{
	char *path = mark_path(batch_id);

	if (!path)
		return -1;
	write_object(path, mark);
	free(path);
	return 0;
}

void bt_adopted_drop(const char *batch_id)
{
	char *path = mark_path(batch_id);

	if (path && unlink(path) < 0 && errno != ENOENT)
		bt_die(BT_EXIT_FAIL, "%s:", path);
	free(path);
}

/* ---- a set of custom_ids, as one digest ---- */

void bt_idlist_add(struct bt_idlist *l, const char *id, size_t n)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = bt_realloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = bt_strndup(id, n);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void bt_idlist_digest(struct bt_idlist *l, char out[65])
{
	struct bt_buf b = { 0 };
	size_t i;

	qsort(l->v, l->n, sizeof *l->v, cmp);
	for (i = 0; i < l->n; i++) {
		bt_buf_adds(&b, l->v[i]);
		bt_buf_addc(&b, '\n');
	}
	bt_sha256_hex(b.p ? b.p : "", b.len, out);
	bt_buf_free(&b);
}

void bt_idlist_free(struct bt_idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* ---- settling a provisional adoption ---- */

/* The record a mark names, locked: its lock descriptor, with *dir, *name
 * and *rec set, or -1 when the mark names none. */
static int mark_record(jv mark, char **dir, char **name, jv *rec)
{
	char d[PATH_MAX], n[256];
	int fd;

	if (bt_batch_field(mark, "journal", d, sizeof d) < 0 ||
	    bt_batch_field(mark, "record", n, sizeof n) < 0)
		return -1;
	*dir = bt_strdup(d);
	*name = bt_strdup(n);
	fd = bt_journal_lock(d, n);
	*rec = bt_journal_read(d, n);
	return fd;
}

/* Whether rec (borrowed) holds batch_id as its batch. */
static int holds(jv rec, const char *batch_id)
{
	char id[BT_BATCH_ID_MAX];
	jv b = jv_get_kind(rec) == JV_KIND_OBJECT ?
	       jv_object_get(jv_copy(rec), jv_string("batch")) : jv_invalid();
	int r = bt_batch_field(b, "id", id, sizeof id) == 0 && !strcmp(id, batch_id);

	jv_free(b);
	return r;
}

void bt_adopted_confirm(const char *batch_id, jv mark)
{
	char *dir = NULL, *name = NULL, at[32];
	jv rec;
	int fd = mark_record(mark, &dir, &name, &rec);

	if (fd >= 0) {
		if (holds(rec, batch_id)) {
			bt_rfc3339(bt_now(), at);
			rec = jv_object_set(rec, jv_string("provisional"), jv_false());
			rec = jv_object_set(rec, jv_string("verified"), jv_string(at));
			bt_journal_write(dir, name, rec);
		}
		jv_free(rec);
		close(fd);
	}
	bt_adopted_drop(batch_id);
	free(dir);
	free(name);
}

void bt_adopted_disown(const char *batch_id, jv mark, const char *why)
{
	char *dir = NULL, *name = NULL;
	jv rec, sup;
	int fd = mark_record(mark, &dir, &name, &rec);

	if (fd >= 0) {
		if (holds(rec, batch_id)) {
			sup = jv_object_get(jv_copy(rec), jv_string("superseded"));
			if (jv_get_kind(sup) != JV_KIND_ARRAY) {
				jv_free(sup);
				sup = jv_array();
			}
			sup = jv_array_append(sup, jv_string(batch_id));
			rec = jv_object_set(rec, jv_string("state"), jv_string("failed"));
			rec = jv_object_set(rec, jv_string("error"), jv_string(why));
			rec = jv_object_set(rec, jv_string("batch"), jv_null());
			rec = jv_object_set(rec, jv_string("provisional"), jv_false());
			rec = jv_object_set(rec, jv_string("superseded"), sup);
			bt_journal_write(dir, name, rec);
		}
		jv_free(rec);
		close(fd);
	}
	mark = jv_object_set(jv_copy(mark), jv_string("state"), jv_string("disowned"));
	mark = jv_object_set(mark, jv_string("why"), jv_string(why));
	bt_adopted_put(batch_id, mark);
	jv_free(mark);
	free(dir);
	free(name);
}

/* ---- the record, typed: read and written here only ---- */

/* The members, in the order a record is written; kinds that do not match
 * stay in rest as they were (a damaged member is not made good, nor lost). */
enum { M_STR, M_NUM, M_JV, M_BOOL, M_WIN };
static const struct member {
	const char *name;
	int kind;
	size_t off;
	unsigned bit;
} members[] = {
#define M(n, k, f, b) { n, k, offsetof(struct bt_jrec, f), b }
	M("sha256", M_STR, sha256, BT_JR_SHA256),
	M("tag", M_STR, tag, BT_JR_TAG),
	M("chunk", M_STR, chunk, BT_JR_CHUNK),
	M("requests", M_NUM, requests, BT_JR_REQUESTS),
	M("bytes", M_NUM, bytes, BT_JR_BYTES),
	M("endpoint", M_STR, endpoint, BT_JR_ENDPOINT),
	M("key_fp", M_STR, key_fp, BT_JR_KEY_FP),
	M("state", M_STR, state, BT_JR_STATE),
	M("since", M_STR, since, BT_JR_SINCE),
	M("window", M_WIN, win, BT_JR_WINDOW),
	M("batch", M_JV, batch, BT_JR_BATCH),
	M("error", M_STR, error, BT_JR_ERROR),
	M("superseded", M_JV, superseded, BT_JR_SUPERSEDED),
	M("first_id", M_STR, first_id, BT_JR_FIRST_ID),
	M("ids_sha256", M_STR, ids_sha256, BT_JR_IDS_SHA256),
	M("nonces", M_JV, nonces, BT_JR_NONCES),
	M("rejected", M_JV, rejected, BT_JR_REJECTED),
	M("provisional", M_BOOL, provisional, BT_JR_PROVISIONAL),
	M("candidates", M_JV, candidates, BT_JR_CANDIDATES),
	M("verified", M_STR, verified, BT_JR_VERIFIED),
	M("also", M_JV, also, BT_JR_ALSO),
	M("file_id", M_STR, file_id, BT_JR_FILE_ID),
#undef M
};
#define NMEMBERS (sizeof members / sizeof members[0])

static void win_time(jv *o, const char *k, double t)
{
	char at[32];

	bt_rfc3339(t, at);
	*o = jv_object_set(*o, jv_string(k), t >= 0 ? jv_string(at) : jv_null());
}

static double rec_time(jv o, const char *k)
{
	char at[64];

	return bt_batch_field(o, k, at, sizeof at) < 0 ? -1 : bt_rfc3339_parse(at);
}

void bt_jrec_init(struct bt_jrec *r)
{
	size_t i;

	memset(r, 0, sizeof *r);
	for (i = 0; i < NMEMBERS; i++)
		if (members[i].kind == M_JV)
			*(jv *)((char *)r + members[i].off) = jv_invalid();
	r->requests = r->bytes = -1;
	r->win.from = r->win.sent = r->win.to = -1;
	r->rest = jv_object();
}

/* Take member m of value x (consumed) into r: 0, or -1 when its kind
 * does not fit. */
static int take(struct bt_jrec *r, const struct member *m, jv x)
{
	void *p = (char *)r + m->off;
	jv_kind k = jv_get_kind(x);

	switch (m->kind) {
	case M_STR:
		if (k != JV_KIND_STRING && k != JV_KIND_NULL)
			goto misfit;
		*(char **)p = k == JV_KIND_STRING ? bt_strdup(jv_string_value(x)) : NULL;
		break;
	case M_NUM:
		if (k != JV_KIND_NUMBER)
			goto misfit;
		*(long long *)p = (long long)jv_number_value(x);
		break;
	case M_BOOL:
		if (k != JV_KIND_TRUE && k != JV_KIND_FALSE)
			goto misfit;
		*(int *)p = k == JV_KIND_TRUE;
		break;
	case M_WIN:
		if (k != JV_KIND_OBJECT)
			goto misfit;
		r->win.from = rec_time(x, "from");
		r->win.sent = rec_time(x, "sent");
		r->win.to = rec_time(x, "to");
		break;
	case M_JV:
		*(jv *)p = x;
		r->has |= m->bit;
		return 0;
	}
	jv_free(x);
	r->has |= m->bit;
	return 0;
misfit:
	jv_free(x);
	return -1;
}

void bt_jrec_from_json(struct bt_jrec *r, jv rec)
{
	size_t i;

	bt_jrec_init(r);
	if (jv_get_kind(rec) != JV_KIND_OBJECT) {
		jv_free(rec);
		return;
	}
	jv_object_foreach(rec, key, x) {
		for (i = 0; i < NMEMBERS && strcmp(members[i].name, jv_string_value(key)); i++)
			;
		if (i == NMEMBERS || take(r, &members[i], jv_copy(x)) < 0)
			r->rest = jv_object_set(r->rest, jv_copy(key), jv_copy(x));
		jv_free(key);
		jv_free(x);
	}
	jv_free(rec);
}

jv bt_jrec_json(const struct bt_jrec *r)
{
	const void *p;
	size_t i;
	jv o = jv_object(), w, x;
	char *s;

	for (i = 0; i < NMEMBERS; i++) {
		if (!(r->has & members[i].bit))
			continue;
		p = (const char *)r + members[i].off;
		switch (members[i].kind) {
		case M_STR:
			s = *(char *const *)p;
			x = s ? jv_string(s) : jv_null();
			break;
		case M_NUM:
			x = jv_number((double)*(const long long *)p);
			break;
		case M_BOOL:
			x = *(const int *)p ? jv_true() : jv_false();
			break;
		case M_WIN:
			w = jv_object();
			win_time(&w, "from", r->win.from);
			win_time(&w, "sent", r->win.sent);
			win_time(&w, "to", r->win.to);
			x = w;
			break;
		default:
			x = jv_is_valid(*(const jv *)p) ? jv_copy(*(const jv *)p) : jv_null();
		}
		o = jv_object_set(o, jv_string(members[i].name), x);
	}
	jv_object_foreach(r->rest, rkey, rval)
		o = jv_object_set(o, rkey, rval);
	return o;
}

int bt_jrec_read(const char *dir, const char *name, struct bt_jrec *r)
{
	jv rec = bt_journal_read(dir, name);
	int found = jv_is_valid(rec);

	bt_jrec_from_json(r, rec);
	return found;
}

void bt_jrec_write(const char *dir, const char *name, const struct bt_jrec *r)
{
	jv rec = bt_jrec_json(r);

	bt_journal_write(dir, name, rec);
	jv_free(rec);
}

void bt_jrec_set(char **field, const char *s)
{
	free(*field);
	*field = s ? bt_strdup(s) : NULL;
}

void bt_jrec_setjv(jv *field, jv v)
{
	jv_free(*field);
	*field = v;
}

int bt_jrec_window(const struct bt_jrec *r, struct bt_win *w)
{
	int ok = (r->has & BT_JR_WINDOW) && r->win.from >= 0;

	*w = r->win;
	if (!ok) {
		w->from = r->since ? bt_rfc3339_parse(r->since) : -1;
		if (w->from >= 0)
			w->from -= BT_LEGACY_SLACK;
		w->sent = w->to = -1;
	}
	return ok ? 0 : -1;
}

int bt_jrec_batch_id(const struct bt_jrec *r, char id[BT_BATCH_ID_MAX])
{
	return bt_batch_field(r->batch, "id", id, BT_BATCH_ID_MAX);
}

void bt_jrec_free(struct bt_jrec *r)
{
	size_t i;

	for (i = 0; i < NMEMBERS; i++)
		if (members[i].kind == M_STR)
			free(*(char **)((char *)r + members[i].off));
		else if (members[i].kind == M_JV)
			jv_free(*(jv *)((char *)r + members[i].off));
	jv_free(r->rest);
	memset(r, 0, sizeof *r);
}
