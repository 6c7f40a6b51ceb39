/* ofiles.c — OpenAI's files: uploads (the form read by http.c into a
 * spool), batch output and error files, each one file OPT_DIR/oai-ID.
 * They live in memory only, behind mu: a bt-mock started again knows
 * none, and removes their bytes (state_load). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mock.h"

#define FILE_LIFE       (30LL * 24 * 3600)  /* seconds a file lives unless told */

struct ofile {
	char id[40];
	char purpose[16];
	char filename[128];
	long long bytes;
	int64_t created, expires;       /* Unix seconds, by our clock */
	uint64_t seq;
	int deleted;
};

static struct ofile **files;            /* behind mu, in creation order */
static size_t nfiles, capfiles;
static uint64_t file_counter;

char *ofile_path(const char *id)
{
	return bt_asprintf("%s/oai-%s", opt_dir, id);
}

/* The live file of id: not deleted, not expired.  Under mu. */
static struct ofile *ofile_find(const char *id)
{
	int64_t now = now_us() / US;
	size_t i;

	for (i = 0; i < nfiles; i++)
		if (!files[i]->deleted && now < files[i]->expires && !strcmp(files[i]->id, id))
			return files[i];
	return NULL;
}

int ofile_purpose(const char *id, char *out)
{
	struct ofile *f = ofile_find(id);

	if (!f)
		return -1;
	strcpy(out, f->purpose);
	return 0;
}

static struct ofile *ofile_new(const char *purpose, const char *filename, long long bytes,
                               int64_t life)
{
	struct ofile *f = bt_calloc(1, sizeof *f);

	f->seq = ++file_counter;
	make_id(f->id, sizeof f->id, "file-", hash_mix(opt_seed ^ 0x66696c65ULL) ^
	        hash_mix(f->seq));
	snprintf(f->purpose, sizeof f->purpose, "%s", purpose);
	snprintf(f->filename, sizeof f->filename, "%s", filename);
	f->bytes = bytes;
	f->created = now_us() / US;
	f->expires = f->created + life;
	if (nfiles == capfiles) {
		capfiles = capfiles ? 2 * capfiles : 64;
		files = bt_realloc(files, capfiles * sizeof *files);
	}
	files[nfiles++] = f;
	return f;
}

void ofile_add(char *id, const char *purpose, const char *filename, long long bytes)
{
	strcpy(id, ofile_new(purpose, filename, bytes, FILE_LIFE)->id);
}

static void ofile_json(struct bt_buf *o, const struct ofile *f)
{
	bt_buf_printf(o, "{\"id\":\"%s\",\"object\":\"file\",\"bytes\":%lld,\"created_at\":%lld,"
	              "\"expires_at\":%lld,\"filename\":", f->id, f->bytes,
	              (long long)f->created, (long long)f->expires);
	bt_json_write_str(o, f->filename, strlen(f->filename));
	bt_buf_printf(o, ",\"purpose\":\"%s\",\"status\":\"processed\"}",
	              f->purpose);
}

static void no_file(struct out *o, const struct conn *x, const char *id)
{
	out_oerror(o, x, 404, NULL, "id", NULL, "No such File object: %.80s", id);
}

/* ---- upload ------------------------------------------------------------------ */

/* The form's expires_after: its seconds into *life; -1 with the answer. */
static int expires_after(struct conn *x, struct out *o, int64_t *life)
{
	char *end;
	long long s;

	*life = FILE_LIFE;
	if (!x->form.anchor[0] && !x->form.seconds[0])
		return 0;
	if (strcmp(x->form.anchor, "created_at")) {
		out_oerror(o, x, 400, NULL, "expires_after.anchor", NULL,
		           "Invalid 'expires_after.anchor': expected 'created_at'.");
		return -1;
	}
	errno = 0;
	s = strtoll(x->form.seconds, &end, 10);
	if (!x->form.seconds[0] || *end || errno || s < 3600 || s > 2592000) {
		out_oerror(o, x, 400, NULL, "expires_after.seconds", NULL,
		           "Invalid 'expires_after.seconds': an integer from 3600 to 2592000.");
		return -1;
	}
	*life = s;
	return 0;
}

void do_upload(struct conn *x, struct out *o)
{
	static const char *const purposes[] = { "assistants", "batch", "fine-tune", "vision",
	                                        "user_data", "evals", NULL };
	const char *const *p;
	struct ofile *f;
	struct stat st;
	int64_t life;
	char *path;

	if (x->over) {
		out_oerror(o, x, 413, NULL, "file", NULL, "File is too large.");
		return;
	}
	if (x->form.bad || x->fd < 0) {
		out_oerror(o, x, 400, NULL, NULL, NULL, "Expected a multipart/form-data body "
		           "with the fields 'file' and 'purpose'.");
		return;
	}
	if (!x->form.has_file || !x->form.purpose[0]) {
		out_oerror(o, x, 400, NULL, x->form.has_file ? "purpose" : "file",
		           "missing_required_parameter", "Missing required parameter: '%s'.",
		           x->form.has_file ? "purpose" : "file");
		return;
	}
	for (p = purposes; *p && strcmp(*p, x->form.purpose); p++)
		;
	if (!*p) {
		out_oerror(o, x, 400, NULL, "purpose", NULL, "Invalid value for 'purpose': "
		           "'%.30s'.", x->form.purpose);
		return;
	}
	if (expires_after(x, o, &life) < 0)
		return;
	if (fstat(x->fd, &st) < 0) {
		out_oerror(o, x, 500, NULL, NULL, NULL, "Internal server error (spool)");
		return;
	}
	pthread_mutex_lock(&mu);
	f = ofile_new(x->form.purpose, x->form.filename[0] ? x->form.filename : "upload",
	              (long long)st.st_size, life);
	path = ofile_path(f->id);
	if (rename(x->spool, path) < 0) {
		bt_warn("%s:", path);
		f->deleted = 1;
		out_oerror(o, x, 500, NULL, NULL, NULL, "Internal server error (file)");
	} else {
		o->status = 200;
		ofile_json(&o->body, f);
	}
	pthread_mutex_unlock(&mu);
	free(path);
}

/* ---- one file ----------------------------------------------------------------- */

void do_fget(struct conn *x, struct out *o)
{
	struct ofile *f;

	pthread_mutex_lock(&mu);
	if (!(f = ofile_find(x->id)))
		no_file(o, x, x->id);
	else {
		o->status = 200;
		ofile_json(&o->body, f);
	}
	pthread_mutex_unlock(&mu);
}

void do_fdelete(struct conn *x, struct out *o)
{
	struct ofile *f;
	char *path;

	pthread_mutex_lock(&mu);
	if (!(f = ofile_find(x->id)))
		no_file(o, x, x->id);
	else {
		f->deleted = 1;
		path = ofile_path(f->id);
		unlink(path);
		free(path);
		o->status = 200;
		bt_buf_printf(&o->body, "{\"id\":\"%s\",\"object\":\"file\",\"deleted\":true}", f->id);
	}
	pthread_mutex_unlock(&mu);
}

void do_fcontent(struct conn *x, struct out *o)
{
	struct ofile *f;
	struct stat st;
	char *path;
	int fd;

	pthread_mutex_lock(&mu);
	if (!(f = ofile_find(x->id)))
		no_file(o, x, x->id);
	else {
		path = ofile_path(f->id);
		if ((fd = open(path, O_RDONLY)) < 0 || fstat(fd, &st) < 0) {
			bt_warn("%s:", path);
			if (fd >= 0)
				close(fd);
			out_oerror(o, x, 500, NULL, NULL, NULL, "Internal server error (file)");
		} else {
			o->status = 200;
			o->fd = fd;
			o->fdsize = (uint64_t)st.st_size;
			o->ctype = "application/octet-stream";
		}
		free(path);
	}
	pthread_mutex_unlock(&mu);
}

/* ---- the list ------------------------------------------------------------------ */

void do_flist(struct conn *x, struct out *o)
{
	struct ofile **all;
	size_t i, n = 0, from = 0, to;
	long limit = 10000;
	char *end;
	int asc = x->order && !strcmp(x->order, "asc");

	if (x->limit) {
		errno = 0;
		limit = strtol(x->limit, &end, 10);
		if (!*x->limit || *end || errno || limit < 1 || limit > 10000) {
			out_oerror(o, x, 400, NULL, "limit", NULL,
			           "Invalid 'limit': an integer from 1 to 10000.");
			return;
		}
	}
	if (x->order && !asc && strcmp(x->order, "desc")) {
		out_oerror(o, x, 400, NULL, "order", NULL, "Invalid 'order': 'asc' or 'desc'.");
		return;
	}
	pthread_mutex_lock(&mu);
	all = bt_malloc((nfiles + 1) * sizeof *all);
	for (i = 0; i < nfiles; i++) {
		/* creation order is files' order; desc walks it backwards */
		struct ofile *f = files[asc ? i : nfiles - 1 - i];

		if (!f->deleted && now_us() / US < f->expires &&
		    (!x->purpose || !strcmp(x->purpose, f->purpose)))
			all[n++] = f;
	}
	if (x->after_id) {
		for (from = 0; from < n && strcmp(all[from]->id, x->after_id); from++)
			;
		if (from == n) {
			pthread_mutex_unlock(&mu);
			free(all);
			out_oerror(o, x, 400, NULL, "after", NULL, "No such File object: %.80s",
			           x->after_id);
			return;
		}
		from++;
	}
	to = n - from > (size_t)limit ? from + (size_t)limit : n;
	bt_buf_adds(&o->body, "{\"object\":\"list\",\"data\":[");
	for (i = from; i < to; i++) {
		if (i > from)
			bt_buf_addc(&o->body, ',');
		ofile_json(&o->body, all[i]);
	}
	if (from < to)
		bt_buf_printf(&o->body, "],\"first_id\":\"%s\",\"last_id\":\"%s\"", all[from]->id,
		              all[to - 1]->id);
	else
		bt_buf_adds(&o->body, "],\"first_id\":null,\"last_id\":null");
	bt_buf_printf(&o->body, ",\"has_more\":%s}", to < n ? "true" : "false");
	pthread_mutex_unlock(&mu);
	free(all);
	o->status = 200;
}

void ofiles_free(void)
{
	size_t i;

	for (i = 0; i < nfiles; i++)
		free(files[i]);
	free(files);
	files = NULL;
	nfiles = capfiles = 0;
}
