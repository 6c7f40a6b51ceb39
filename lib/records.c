/* records.c — the user's records, numbered by one rule for every program:
 * each non-blank line of the inputs, in order, is one record, numbered from
 * 1 across all the files (a line that is not valid JSON still takes its
 * number).  With raw set, a line is a record as a JSON string. */
#include <string.h>

#include "bt.h"

void bt_records_init(struct bt_records *r, char **files, int nfiles, int raw)
{
	static char *stdin_only[] = { "-" };

	memset(r, 0, sizeof *r);
	r->files = nfiles ? files : stdin_only;
	r->nfiles = nfiles ? nfiles : 1;
	r->raw = raw;
	r->file = -1;
}

int bt_records_next(struct bt_records *r, jv *out)
{
	char err[256];
	size_t n;
	char *s;

	for (;;) {
		if (r->file < 0 || r->l.eof_done) {
			if (r->file >= r->nfiles)
				return 0;
			if (r->file >= 0)
				bt_lines_close(&r->l);
			if (++r->file >= r->nfiles)
				return 0;
			if (bt_lines_open(&r->l, r->files[r->file]) < 0)
				bt_die(BT_EXIT_USAGE, "%s:", r->files[r->file]);
		}
		s = bt_lines_next(&r->l, &n);
		if (!s) {
			r->l.eof_done = 1;
			continue;
		}
		/* a byte order mark opens a file as jq allows: not the record's */
		if (r->l.lineno == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
			s += 3;
			n -= 3;
		}
		if (bt_blank(s, n))
			continue;
		r->number++;
		r->name = r->l.name;
		r->lineno = r->l.lineno;
		if (r->raw) {
			*out = jv_string_sized(s, (int)n);
			return 1;
		}
		*out = bt_json_parse(s, n, err, sizeof err);
		if (jv_is_valid(*out))
			return 1;
		snprintf(r->err, sizeof r->err, "invalid JSON: %s", err);
		return -1;
	}
}

const char *bt_records_text(const struct bt_records *r, size_t *len)
{
	const char *s = r->l.line;
	size_t n = r->l.len;

	if (r->lineno == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
		s += 3;
		n -= 3;
	}
	*len = n;
	return s;
}

void bt_records_close(struct bt_records *r)
{
	if (r->file >= 0 && r->file < r->nfiles)
		bt_lines_close(&r->l);
	r->file = r->nfiles;
}

void bt_records_none(const struct bt_records *r)
{
	struct bt_buf b = { 0 };
	int i;

	if (r->number)
		return;
	for (i = 0; i < r->nfiles; i++)
		bt_buf_printf(&b, "%s%s", i ? ", " : "",
		              strcmp(r->files[i], "-") ? r->files[i] : "stdin");
	bt_warn("no records in %s", bt_buf_str(&b));
	bt_buf_free(&b);
}
