/* bt-join — results in, every record out once, with its outcome.
 *
 * The results are read first and indexed by custom_id: for each id, where
 * its deciding result line is, by the one precedence rule of lib/result.c
 * (an uncut success beats a cut one, which beats any failure; among
 * equals the last wins).  A seekable results file is indexed in place; a pipe is
 * spooled to an unlinked temporary file.  Memory grows with the number of
 * results, not their size.  Then the records are read in order, each one's
 * custom_id made again by the rule bt-format used, and each is written
 * once with its outcome.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

struct entry {
	unsigned long long off;     /* the deciding result line */
	size_t len;
	int kind;                   /* BT_R_* */
	int truncated;              /* succeeded, cut at max_tokens */
	int used;                   /* a record took it */
	int numbered;               /* its id is a record number's, old or new */
};

static struct {
	struct entry *e;
	size_t n, cap;
	struct bt_idset ids;        /* custom_id → entry number + 1 */
	int fd;                     /* where the result lines are */
	struct bt_buf line;         /* one result line, read back */
} found = { .fd = -1 };

/* --rejected: the records bt-format refused, by "FILE\nLINE" → why + 1 */
static struct {
	struct bt_idset at;
	jv why;                     /* an array of strings */
} rejects;

static struct {
	struct bt_jq *id, *map;
	const char *as;
	int strict, structured, flatten;
	char idkey[256];            /* the top-level key a plain --id path reads */
	unsigned long long records, by_kind[BT_R_MISSING + 1], invalid, rejected;
	unsigned long long old;     /* results with old numbered ids ("12") */
	unsigned long long as_text; /* --flatten: text answers not a JSON object */
	int said_old;
	struct { char type[64]; unsigned long long n; } types[32];
	int ntypes;
} tally;

static void usage(FILE *f, int status)
{
	bt_usage(f, status, "usage: bt-join [-R] [-v] [--id EXPR] [--as NAME] [--map EXPR] [--strict]\n"
	        "               [--structured] [--flatten] [--results FILE] [--rejected FILE]\n"
	        "               [--arg NAME VALUE] [--argjson NAME JSON] RECORDS...\n",
	"  --id EXPR                  jq: the custom_id of a record, as bt-format --id\n"
	"  --as NAME                  the answer's member (default response)\n"
	"  --map EXPR                 jq: make each line from the record and $result\n"
	"  --strict                   exit 3 unless every record succeeded\n"
	"  --structured               answers are JSON text: write the value\n"
	"  --flatten                  merge an object answer's members into the line\n"
	"  --results FILE             read the results from FILE, not stdin\n"
	"  --rejected FILE            the records bt-format rejected, with why\n"
	"  --arg NAME VALUE           $NAME in the jq expressions, a string\n"
	"  --argjson NAME JSON        $NAME in the jq expressions, a JSON value\n"
	"  -R, --raw-input            each line is a record as a string, as bt-format -R\n"
	"  -v, --verbose              the summary on stderr, always\n"
	"  -h, --help                 this help\n");
}

/* ---- the results ---- */

/* Whether id is one bt-format makes without --id: "12-3fa9c0d1", or an
 * old one, "12". */
static int numbered(const char *id)
{
	const char *s = id;
	int i;

	if (bt_custom_id_old(id))
		return 1;
	if (*s < '1' || *s > '9')
		return 0;
	while (*s >= '0' && *s <= '9')
		s++;
	if (*s++ != '-')
		return 0;
	for (i = 0; i < 8; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return !s[8];
}

static void index_results(const char *path)
{
	struct bt_lines l;
	struct bt_result_peek p;
	struct stat st;
	char err[256];
	unsigned long long off, spooled = 0, have;
	struct entry *e;
	int spool = -1;
	size_t n;
	char *s;

	if (bt_lines_open(&l, path) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", path);
	if (fstat(l.fd, &st) == 0 && S_ISREG(st.st_mode))
		found.fd = l.own_fd ? dup(l.fd) : dup(0);   /* read the lines back from it */
	else {
		/* a pipe: keep the lines in a file nobody else can see */
		char tmpl[] = "/tmp/bt-join.XXXXXX";
		const char *dir = getenv("TMPDIR");
		char *t = dir && *dir ? bt_asprintf("%s/bt-join.XXXXXX", dir) : bt_strdup(tmpl);
		spool = mkstemp(t);
		if (spool < 0)
			bt_die(BT_EXIT_FAIL, "%s:", t);
		unlink(t);
		free(t);
		found.fd = spool;
	}
	if (found.fd < 0)
		bt_die(BT_EXIT_FAIL, "%s:", path);

	while ((s = bt_lines_next(&l, &n))) {
		if (bt_blank(s, n))
			continue;
		/* by shape only: a line a record takes is parsed in full later */
		if (bt_result_peek(s, n, 1, &p, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "%s:%llu: %s", l.name, l.lineno, err);
		if (spool >= 0) {
			off = spooled;
			s[n] = '\n';
			if (bt_write_all(spool, s, n + 1) < 0)
				bt_die(BT_EXIT_FAIL, "cannot spool the results:");
			spooled += n + 1;
		} else
			off = l.off;
		if ((have = bt_idset_get(&found.ids, p.id))) {
			e = &found.e[have - 1];
			if (!bt_result_wins(p.kind, p.truncated, e->kind, e->truncated))
				continue;
		} else {
			if (found.n == found.cap) {
				found.cap = found.cap ? 2 * found.cap : 1024;
				found.e = bt_realloc(found.e, found.cap * sizeof *found.e);
			}
			e = &found.e[found.n++];
			bt_idset_add(&found.ids, p.id, found.n);
			if (bt_custom_id_old(p.id))
				tally.old++;
			e->numbered = numbered(p.id);
		}
		e->off = off;
		e->len = n;
		e->kind = p.kind;
		e->truncated = p.truncated;
		e->used = 0;
	}
	bt_lines_close(&l);
}

/* The result line of entry e, read as one (r), and parsed. */
static jv result_of(struct entry *e, struct bt_result *res)
{
	char err[256];
	ssize_t r;
	size_t got = 0;
	jv v;

	found.line.len = 0;
	bt_buf_grow(&found.line, e->len);
	while (got < e->len) {
		r = pread(found.fd, found.line.p + got, e->len - got, (off_t)(e->off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			bt_die(BT_EXIT_FAIL, "cannot read the results back:");
		got += (size_t)r;
	}
	if (bt_result_read(found.line.p, e->len, res, &v, err, sizeof err) < 0)
		bt_die(BT_EXIT_FAIL, "the results changed while being read: %s", err);
	return v;
}

/* ---- the records ---- */

/* errors by type: few kinds, in the order first seen */
#define TYPES 32

static void count_type(const char *type)
{
	int i;

	for (i = 0; i < tally.ntypes; i++)
		if (!strcmp(tally.types[i].type, type))
			break;
	if (i == tally.ntypes) {
		if (tally.ntypes == TYPES)
			i = TYPES - 1;      /* the last one takes the rest */
		else
			snprintf(tally.types[tally.ntypes++].type, sizeof tally.types[0].type, "%s", type);
	}
	tally.types[i].n++;
}

/* The answer of a succeeded result line (borrowed), read as r.  A
 * structured answer (the input of a tool_use block or a forced
 * function's arguments; with --structured, the text too) is data: one
 * that is not whole gives null, and bad says why, kind (for the summary)
 * what.  An embedding's vector is data as it is. */
static jv answer(jv res, const struct bt_result *r, char *bad, size_t badsz,
                 const char **kind)
{
	char perr[300];
	int ntools, cut = r->truncated;
	const char *limit = bt_result_limit(r->dialect);
	jv v = bt_result_response(res, &ntools), data;

	bad[0] = 0;
	if (!ntools && (!tally.structured || jv_get_kind(v) == JV_KIND_ARRAY))
		return v;               /* text, as it is; a vector */
	if (ntools) {
		data = v;
		perr[0] = 0;
		if (!jv_is_valid(data) && jv_invalid_has_msg(jv_copy(data))) {
			/* a function's arguments that do not parse */
			jv m = jv_invalid_get_msg(jv_copy(data));
			snprintf(perr, sizeof perr, "%s", jv_string_value(m));
			jv_free(m);
		}
	} else if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		snprintf(bad, badsz, "structured answer is not JSON: the answer has no text");
		*kind = "not_json";
		return jv_null();
	} else {
		data = bt_json_parse(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)),
		                     perr, sizeof perr);
		jv_free(v);
	}
	if (!jv_is_valid(data)) {
		jv_free(data);
		if (cut)
			snprintf(bad, badsz, "structured answer is not JSON (cut at %s)", limit);
		else
			snprintf(bad, badsz, "structured answer is not JSON: %s", perr);
		*kind = "not_json";
		return jv_null();
	}
	if (cut) {
		jv_free(data);
		snprintf(bad, badsz, "structured answer cut at %s: %s", limit, ntools ?
		         "the tool's input may be incomplete" : "it may be incomplete");
		*kind = "truncated";
		return jv_null();
	}
	return data;
}

/* --flatten without --structured: a text answer (consumed) that is a JSON
 * object is that object, to flatten as --structured would; any other text
 * stays as it is, counted, for the one line said at the end. */
static jv text_object(jv ans)
{
	char perr[300];
	jv data;

	if (jv_get_kind(ans) != JV_KIND_STRING)
		return ans;
	data = bt_json_parse(jv_string_value(ans), (size_t)jv_string_length_bytes(jv_copy(ans)),
	                     perr, sizeof perr);
	if (jv_get_kind(data) == JV_KIND_OBJECT) {
		jv_free(ans);
		return data;
	}
	jv_free(data);
	tally.as_text++;
	return ans;
}

/* --flatten: the members of the answer (consumed) into v; a member of the
 * record, or one bt-join writes itself, of the same name is said once. */
static jv flatten(jv v, jv ans, struct bt_records *rs)
{
	static int said, said_id;
	const char *k;
	int it;
	jv key, kept = jv_invalid();

	for (it = jv_object_iter(ans); jv_object_iter_valid(ans, it);
	     it = jv_object_iter_next(ans, it)) {
		key = jv_object_iter_key(ans, it);
		k = jv_string_value(key);
		if (tally.idkey[0] && !strcmp(k, tally.idkey) &&
		    jv_object_has(jv_copy(v), jv_copy(key))) {
			/* what --id reads is the line's identity: never replaced
			 * by an answer (an invoice's "id", say), which goes into
			 * response instead, whole */
			if (!said_id) {
				bt_warn("%s:%llu: --flatten: the answer's \"%s\" is what --id reads: "
				        "it goes into \"%s\" instead (said once)", rs->name, rs->lineno,
				        k, tally.as);
				said_id = 1;
			}
			if (!jv_is_valid(kept))
				kept = jv_object();
			kept = jv_object_set(kept, key, jv_object_iter_value(ans, it));
			continue;
		}
		if (!said && (!strcmp(k, "stop_reason") || !strcmp(k, "status") ||
		              !strcmp(k, "error"))) {
			bt_warn("%s:%llu: --flatten: the answer's \"%s\" is replaced by "
			        "bt-join's own (said once)", rs->name, rs->lineno, k);
			said = 1;
		} else if (!said && jv_object_has(jv_copy(v), jv_copy(key))) {
			bt_warn("%s:%llu: --flatten: the record and the answer both have "
			        "\"%s\": the answer's is kept (said once)", rs->name, rs->lineno, k);
			said = 1;
		}
		v = jv_object_set(v, key, jv_object_iter_value(ans, it));
	}
	jv_free(ans);
	if (jv_is_valid(kept))
		v = jv_object_set(v, jv_string(tally.as), kept);
	return v;
}

/* The output line of record rec (consumed) and its result line res
 * (borrowed).  A structured answer that is not whole data turns r into
 * an error of its own kind. */
static jv outcome(jv rec, jv res, struct bt_result *r, const char *why,
                  struct bt_records *rs)
{
	char err[700], bad[400] = "";
	const char *kind = NULL;
	jv v, response = jv_null(), stop = jv_invalid();

	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		rec = JV_OBJECT(jv_string("record"), rec);
	if (r->kind == BT_R_SUCCEEDED) {
		stop = bt_result_stop(res);
		response = answer(res, r, bad, sizeof bad, &kind);
		if (bad[0]) {
			r->kind = BT_R_ERRORED;
			snprintf(r->type, sizeof r->type, "%s", kind);
		}
	}
	if (tally.flatten && !tally.structured && r->kind == BT_R_SUCCEEDED)
		response = text_object(response);
	if (tally.flatten && jv_get_kind(response) == JV_KIND_OBJECT)
		v = flatten(rec, response, rs);
	else
		v = jv_object_set(rec, jv_string(tally.as), response);
	if (jv_is_valid(stop))
		v = jv_object_set(v, jv_string("stop_reason"), stop);
	else if (jv_object_has(jv_copy(v), jv_string("stop_reason")))
		v = jv_object_set(v, jv_string("stop_reason"), jv_null());  /* not the record's */
	v = jv_object_set(v, jv_string("status"),
	                  jv_string(why ? "invalid" : bt_result_kind_name(r->kind)));
	if (why)
		v = jv_object_set(v, jv_string("error"), jv_string(why));
	else if (bad[0])
		v = jv_object_set(v, jv_string("error"), jv_string(bad));
	else if (r->kind == BT_R_ERRORED) {
		snprintf(err, sizeof err, "%s: %s", r->type, r->message);
		v = jv_object_set(v, jv_string("error"), jv_string(err));
	} else if (r->kind == BT_R_CANCELED)
		v = jv_object_set(v, jv_string("error"),
		                  jv_string("canceled: the batch was canceled before this request was done"));
	else if (r->kind == BT_R_EXPIRED)
		v = jv_object_set(v, jv_string("error"),
		                  jv_string("expired: the batch expired before this request was done"));
	else if (r->kind == BT_R_MISSING)
		v = jv_object_set(v, jv_string("error"),
		                  jv_string("missing: no result came back for this record"));
	return v;
}

/* --rejected FILE: bt-format --reject's lines, {"file","line","error",...} */
static void load_rejected(const char *path)
{
	struct bt_lines l;
	char *s, err[300], *key;
	size_t n;
	jv v, f, ln, why;

	rejects.why = jv_array();
	if (bt_lines_open(&l, path) < 0)
		bt_die(BT_EXIT_USAGE, "%s:", path);
	while ((s = bt_lines_next(&l, &n))) {
		if (!n)
			continue;
		v = bt_json_parse(s, n, err, sizeof err);
		f = bt_jv_get(v, "file");
		ln = bt_jv_get(v, "line");
		why = bt_jv_get(v, "error");
		if (jv_get_kind(f) != JV_KIND_STRING || jv_get_kind(ln) != JV_KIND_NUMBER ||
		    jv_get_kind(why) != JV_KIND_STRING || jv_number_value(ln) < 1)
			bt_die(BT_EXIT_USAGE, "%s:%llu: not a line of bt-format --reject "
			       "(an object with file, line and error)", path, l.lineno);
		key = bt_asprintf("%s\n%.0f", jv_string_value(f), jv_number_value(ln));
		if (!bt_idset_add(&rejects.at, key, (unsigned long long)jv_array_length(jv_copy(rejects.why)) + 1))
			rejects.why = jv_array_append(rejects.why, jv_copy(why));
		free(key);
		jv_free(f);
		jv_free(ln);
		jv_free(why);
		jv_free(v);
	}
	bt_lines_close(&l);
}

/* The record at rs's place, if bt-format rejected it: its line, else
 * jv_invalid(). */
static jv rejected(struct bt_records *rs, int n, jv rec)
{
	char *key;
	unsigned long long at;
	jv v;

	if (!jv_is_valid(rejects.why))
		return jv_invalid();
	key = bt_asprintf("%s\n%llu", rs->name, rs->lineno);
	at = bt_idset_get(&rejects.at, key);
	free(key);
	if (!at)
		return jv_invalid();
	if (n < 0)
		rec = jv_string_sized(rs->l.line, (int)rs->l.len);
	else
		rec = jv_copy(rec);
	if (jv_get_kind(rec) != JV_KIND_OBJECT)
		rec = JV_OBJECT(jv_string("record"), rec);
	v = jv_object_set(rec, jv_string(tally.as), jv_null());
	v = jv_object_set(v, jv_string("status"), jv_string("rejected"));
	return jv_object_set(v, jv_string("error"),
	                     jv_array_get(jv_copy(rejects.why), (int)at - 1));
}

/* A result under record number n's old id (the bare number, as bt-format
 * made it before ids had a fingerprint): its entry number + 1, or 0.
 * Said once: such a join cannot tell an edited records file. */
static unsigned long long by_number(unsigned long long n)
{
	char id[24];
	unsigned long long have;

	snprintf(id, sizeof id, "%llu", n);
	if (!(have = bt_idset_get(&found.ids, id)))
		return 0;
	if (!tally.said_old) {
		bt_warn("results with old numbered ids (\"%s\", made before ids had a "
		        "fingerprint of the record): they are joined by record number, which "
		        "cannot tell a records file edited since bt-format (said once)", id);
		tally.said_old = 1;
	}
	return have;
}

/* The custom_id of record rec (borrowed), made again by bt-format's rule:
 * 0, or -1 with why it cannot be made. */
static int record_id(struct bt_records *rs, jv rec, char id[BT_ID_MAX + 1],
                     char *why, size_t whysz)
{
	char err[256];
	const char *text;
	size_t len;
	jv v, m;

	if (!tally.id) {
		text = bt_records_text(rs, &len);
		bt_custom_id_num(rs->number, text, len, id);
		return 0;
	}
	v = bt_jq_one(tally.id, jv_copy(rec));
	if (!jv_is_valid(v)) {
		m = jv_invalid_get_msg(v);
		snprintf(why, whysz, "%s", jv_get_kind(m) == JV_KIND_STRING ?
		         jv_string_value(m) : "--id: error");
		jv_free(m);
		return -1;
	}
	if (bt_custom_id(v, id, err, sizeof err) < 0) {
		snprintf(why, whysz, "--id: %s", err);
		jv_free(v);
		return -1;
	}
	jv_free(v);
	return 0;
}

static void join(struct bt_records *rs, struct bt_buf *out)
{
	char id[BT_ID_MAX + 1], why[400];
	struct bt_idset seen = { 0 };
	struct bt_result r;
	unsigned long long have, pos, first;
	jv rec, res, v;
	int n;

	while ((n = bt_records_next(rs, &rec)) != 0) {
		tally.records++;
		v = rejected(rs, n, rec);
		if (jv_is_valid(v)) {
			/* never sent: no custom_id, no result */
			tally.rejected++;
			if (n > 0)
				jv_free(rec);
			goto write;
		}
		why[0] = 0;
		res = jv_null();
		memset(&r, 0, sizeof r);
		r.kind = BT_R_MISSING;
		if (n < 0) {
			rec = jv_string_sized(rs->l.line, (int)rs->l.len);
			snprintf(why, sizeof why, "%s", rs->err);
			goto out;
		}
		if (record_id(rs, rec, id, why, sizeof why) < 0)
			goto out;
		pos = ((unsigned long long)rs->file << 40) | rs->lineno;
		if ((first = bt_idset_add(&seen, id, pos)))
			bt_die(BT_EXIT_USAGE, "%s:%llu: duplicate custom_id \"%s\" (first at %s:%llu)",
			       rs->name, rs->lineno, id, rs->files[first >> 40],
			       first & ((1ULL << 40) - 1));
		have = bt_idset_get(&found.ids, id);
		if (!have && !tally.id && tally.old)
			have = by_number(rs->number);
		if (have) {
			found.e[have - 1].used = 1;
			res = result_of(&found.e[have - 1], &r);
		}
out:
		if (tally.map && !why[0]) {
			v = bt_jq_one(tally.map, JV_ARRAY(rec, jv_copy(res)));
			if (!jv_is_valid(v)) {
				jv m = jv_invalid_get_msg(v);
				bt_flush(out);
				bt_die(BT_EXIT_USAGE, "%s:%llu: %s", rs->name, rs->lineno,
				       jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "--map: error");
			}
		} else
			v = outcome(rec, res, &r, why[0] ? why : NULL, rs);
		if (why[0])
			tally.invalid++;
		else {
			tally.by_kind[r.kind]++;
			if (r.kind == BT_R_ERRORED)
				count_type(r.type);
		}
		jv_free(res);
write:
		bt_json_write(out, v);
		bt_buf_addc(out, '\n');
		jv_free(v);
		if (out->len >= (1 << 20))
			bt_flush(out);
	}
	bt_flush(out);
	bt_idset_free(&seen);
}

/* The counts, on stderr, when there is anything to say.  When most
 * results match no record (beyond those records whose id could not be
 * made), the records are likely not the ones the results were made
 * from: say what is likely wrong, and return 1. */
static int summary(void)
{
	unsigned long long unmatched = 0, numbered_un = 0, failed;
	struct bt_buf b = { 0 };
	size_t i;

	for (i = 0; i < found.n; i++)
		if (!found.e[i].used) {
			unmatched++;
			numbered_un += found.e[i].numbered;
		}
	failed = tally.records - tally.by_kind[BT_R_SUCCEEDED];
	if (!failed && !unmatched && !bt_verbose && !isatty(2))
		return 0;
	bt_buf_printf(&b, "%llu record%s: %llu succeeded", tally.records,
	              tally.records == 1 ? "" : "s", tally.by_kind[BT_R_SUCCEEDED]);
	if (tally.by_kind[BT_R_ERRORED]) {
		bt_buf_printf(&b, ", %llu errored (", tally.by_kind[BT_R_ERRORED]);
		for (i = 0; i < (size_t)tally.ntypes; i++)
			bt_buf_printf(&b, "%s%llu %s", i ? ", " : "", tally.types[i].n,
			              tally.types[i].type);
		bt_buf_addc(&b, ')');
	}
	if (tally.by_kind[BT_R_CANCELED])
		bt_buf_printf(&b, ", %llu canceled", tally.by_kind[BT_R_CANCELED]);
	if (tally.by_kind[BT_R_EXPIRED])
		bt_buf_printf(&b, ", %llu expired", tally.by_kind[BT_R_EXPIRED]);
	if (tally.by_kind[BT_R_MISSING])
		bt_buf_printf(&b, ", %llu missing", tally.by_kind[BT_R_MISSING]);
	if (tally.invalid)
		bt_buf_printf(&b, ", %llu invalid", tally.invalid);
	if (tally.rejected)
		bt_buf_printf(&b, ", %llu rejected", tally.rejected);
	if (unmatched)
		bt_buf_printf(&b, "; %llu result%s matched no record", unmatched,
		              unmatched == 1 ? "" : "s");
	bt_warn("%s", bt_buf_str(&b));
	bt_buf_free(&b);
	/* a record whose id could not be made may be what a result was for */
	if (unmatched <= tally.invalid || (unmatched - tally.invalid) * 2 <= found.n)
		return 0;
	if (!tally.id && numbered_un * 2 <= unmatched)
		bt_warn("%llu of %zu results match no record: their custom_ids are not "
		        "record numbers: is --id missing (the one bt-format was given)?",
		        unmatched, found.n);
	else if (tally.id && numbered_un * 2 > unmatched)
		bt_warn("%llu of %zu results match no record: their custom_ids are record "
		        "numbers, made by bt-format without --id: drop --id?", unmatched, found.n);
	else
		bt_warn("%llu of %zu results match no record: is it the right records file, "
		        "with the options bt-format had (--id, -R), and unchanged since?",
		        unmatched, found.n);
	return 1;
}

/* The record member --id reads, when it is a path that starts with one
 * (.id, .meta.id, .id[0]): --flatten never replaces it.  Other
 * expressions protect nothing (bt-join(1) says so). */
static void id_key(const char *e)
{
	size_t n = 0;

	if (e[0] != '.')
		return;
	for (e++; (e[n] >= 'a' && e[n] <= 'z') || (e[n] >= 'A' && e[n] <= 'Z') || e[n] == '_' ||
	          (n && e[n] >= '0' && e[n] <= '9'); n++)
		;
	if (n && n < sizeof tally.idkey && (!e[n] || e[n] == '.' || e[n] == '['))
		snprintf(tally.idkey, sizeof tally.idkey, "%.*s", (int)n, e);
}

/* Over 80 lines: the option table and its switch, a line an option. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, 0, 'i' },
		{ "as", required_argument, 0, 'a' },
		{ "map", required_argument, 0, 'm' },
		{ "strict", no_argument, 0, 'S' },
		{ "structured", no_argument, 0, 's' },
		{ "flatten", no_argument, 0, 'F' },
		{ "results", required_argument, 0, 'r' },
		{ "rejected", required_argument, 0, 'j' },
		{ "arg", required_argument, 0, 'A' },
		{ "argjson", required_argument, 0, 'J' },
		{ "raw-input", no_argument, 0, 'R' },
		{ "verbose", no_argument, 0, 'v' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	const char *idexpr = NULL, *mapexpr = NULL, *results = "-", *name, *rejfile = NULL;
	struct bt_records rs;
	struct bt_buf out = { 0 };
	jv args = jv_object(), v;
	int c, raw = 0, i, mismatch;

	bt_init(argv);
	tally.as = "response";
	while ((c = getopt_long(argc, argv, "hvR", opts, NULL)) != -1)
		switch (c) {
		case 'i': idexpr = optarg; break;
		case 'a':
			if (!*optarg)
				bt_die(BT_EXIT_USAGE, "--as: an empty name");
			tally.as = optarg;
			break;
		case 'm': mapexpr = optarg; break;
		case 'S': tally.strict = 1; break;
		case 's': tally.structured = 1; break;
		case 'F': tally.flatten = 1; break;
		case 'r': results = optarg; break;
		case 'j': rejfile = optarg; break;
		case 'A': case 'J':
			name = optarg;
			if (optind >= argc)
				bt_die(BT_EXIT_USAGE, "--%s %s: a value is missing",
				       c == 'A' ? "arg" : "argjson", name);
			v = c == 'A' ? jv_string(argv[optind]) : bt_jq_argjson(name, argv[optind]);
			optind++;
			args = jv_object_set(args, jv_string(name), v);
			break;
		case 'R': raw = 1; break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		bt_die(BT_EXIT_USAGE, "no records: name the files bt-format read");
	for (i = 0; i < argc; i++)
		if (!strcmp(argv[i], "-") && !strcmp(results, "-"))
			bt_die(BT_EXIT_USAGE, "the results are on stdin: records cannot be "
			       "(use --results FILE)");
	if (mapexpr && (tally.structured || tally.flatten))
		bt_die(BT_EXIT_USAGE, "--map makes each line itself: --%s does not apply",
		       tally.structured ? "structured" : "flatten");
	if (idexpr) {
		tally.id = bt_jq_compile("--id", idexpr, jv_copy(args));
		id_key(idexpr);
	}
	if (mapexpr) {
		char *w = bt_asprintf(".[1] as $result | .[0] | (%s\n)", mapexpr);
		tally.map = bt_jq_compile("--map", w, jv_copy(args));
		free(w);
	}
	jv_free(args);

	rejects.why = jv_invalid();
	if (rejfile)
		load_rejected(rejfile);
	index_results(results);
	bt_records_init(&rs, argv, argc, raw);
	join(&rs, &out);
	bt_records_none(&rs);
	if (tally.as_text)
		bt_warn("--flatten: %llu answer%s not a JSON object: kept as text in \"%s\" "
		        "(--structured makes %s an error)", tally.as_text,
		        tally.as_text == 1 ? " is" : "s are", tally.as, tally.as_text == 1 ? "it" : "each");
	bt_records_close(&rs);
	mismatch = summary();

	bt_buf_free(&out);
	bt_buf_free(&found.line);
	bt_idset_free(&found.ids);
	bt_idset_free(&rejects.at);
	jv_free(rejects.why);
	free(found.e);
	close(found.fd);
	bt_jq_free(tally.id);
	bt_jq_free(tally.map);
	bt_close_stdout();
	if (mismatch || (tally.strict && tally.by_kind[BT_R_SUCCEEDED] != tally.records))
		return BT_EXIT_INCOMPLETE;
	return 0;
}
