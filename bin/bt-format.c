/* bt-format — records in, batch requests out: Anthropic's request lines
 * ({"custom_id","params"}), or OpenAI's ({"custom_id","method","url",
 * "body"}) with --provider openai. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt.h"

static struct {
	struct bt_jq *prompt, *id, *params, *image, *document;
	const char *reject_path;
	char *reject_tmp;
	FILE *reject;
	unsigned long long rejected;
	jv base;                /* params from the options: model, max_tokens, ... */
	struct bt_buf prefix;   /* base as JSON, open for "messages" */
	struct bt_idset ids;
	struct bt_buf out;      /* requests not yet written */
	struct bt_buf att;      /* the attachments of a record, as JSON blocks */
	struct bt_buf file;     /* an attached file's bytes */
	const char *cache;      /* the cache_control object, as JSON */
	char **files;
	int nfiles;
	int provider;           /* BT_PROVIDER_* */
	int embed;              /* --embed: embeddings bodies */
	const char *head;       /* what follows the custom_id: up to params or body */
	const char *tail;       /* what follows the prompt: closes the line */
	jv system_msg;          /* OpenAI: the system message, or jv_null() */
	long long max_line;     /* the longest request line, its newline counted */
} form;

static void usage(FILE *f, int status)
{
	bt_usage(f, status,
"usage: bt-format [-R] [--provider anthropic|openai] [--embed] [-m MODEL] [-p EXPR]\n"
"                 [--id EXPR] [-s TEXT | --system-file FILE]\n"
"                 [--max-tokens N] [--temperature T] [--schema FILE [--tool NAME]]\n"
"                 [--image EXPR] [--document EXPR] [--cache-system] [--cache-tools]\n"
"                 [--cache-attachments] [--cache-ttl 5m|1h]\n"
"                 [--params EXPR | -f FILE] [--arg NAME VALUE] [--argjson NAME JSON]\n"
"                 [--rawfile NAME FILE] [--reject FILE] [FILE...]\n",
	"  --provider NAME            anthropic or openai (default $BT_PROVIDER, else anthropic)\n"
	"  --embed                    openai: embeddings requests, the prompt as input\n"
	"  -m, --model MODEL          the model (default $BT_MODEL)\n"
	"  -p, --prompt EXPR          jq: the user message from the record\n"
	"  --id EXPR                  jq: the custom_id from the record (default: its number)\n"
	"  -s, --system TEXT          the system prompt\n"
	"  --system-file FILE         the system prompt, read from FILE\n"
	"  --max-tokens N             max_tokens of each request (default 1024)\n"
	"  --temperature T            temperature of each request\n"
	"  --schema FILE              ask for JSON that follows the JSON Schema in FILE\n"
	"  --tool NAME                with --schema: force a tool NAME of that input instead\n"
	"  --image EXPR               jq: image file(s) or URL(s) to attach\n"
	"  --document EXPR            jq: PDF or text file(s) or URL(s) to attach\n"
	"  --cache-system             mark the system prompt for prompt caching\n"
	"  --cache-tools              mark the tool for prompt caching\n"
	"  --cache-attachments        mark the attachments for prompt caching\n"
	"  --cache-ttl 5m|1h          how long the cache entries live\n"
	"  --params EXPR              jq: the whole params object from the record\n"
	"  -f, --params-file FILE     jq: --params, read from FILE\n"
	"  --arg NAME VALUE           $NAME in the jq expressions, a string\n"
	"  --argjson NAME JSON        $NAME in the jq expressions, a JSON value\n"
	"  --rawfile NAME FILE        $NAME in the jq expressions, FILE's text\n"
	"  --reject FILE              bad records to FILE (exit 3) instead of exit 2\n"
	"  -R, --raw-input            each line is a record as a string, not JSON\n"
	"  -h, --help                 this help\n");
}

/* At every exit, bt_die's too: no temp file left, no jq state live. */
static void cleanup(void)
{
	if (form.reject_tmp)
		unlink(form.reject_tmp);
	free(form.reject_tmp);
	form.reject_tmp = NULL;
	bt_jq_free(form.prompt);
	bt_jq_free(form.id);
	bt_jq_free(form.params);
	bt_jq_free(form.image);
	bt_jq_free(form.document);
	form.prompt = form.id = form.params = form.image = form.document = NULL;
	bt_buf_free(&form.out);
	bt_buf_free(&form.att);
	bt_buf_free(&form.file);
	bt_buf_free(&form.prefix);
	bt_idset_free(&form.ids);
	jv_free(form.base);
	form.base = jv_null();
	jv_free(form.system_msg);
	form.system_msg = jv_null();
}

/* A bad record: exit 2, or into the reject file. */
static void bad(struct bt_records *r, jv rec, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void bad(struct bt_records *r, jv rec, const char *fmt, ...)
{
	struct bt_buf b = { 0 };
	char why[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);

	if (!form.reject) {
		jv_free(rec);
		bt_flush(&form.out);   /* what came before the bad record stands */
		bt_die(BT_EXIT_USAGE, "%s:%llu: %s", r->name, r->lineno, why);
	}
	form.rejected++;
	bt_buf_adds(&b, "{\"file\":");
	bt_json_write_str(&b, r->name, strlen(r->name));
	bt_buf_printf(&b, ",\"line\":%llu,\"error\":", r->lineno);
	bt_json_write_str(&b, why, strlen(why));
	if (jv_is_valid(rec)) {
		bt_buf_adds(&b, ",\"record\":");
		bt_json_write(&b, rec);
	} else {
		bt_buf_adds(&b, ",\"text\":");
		bt_json_write_str(&b, r->l.line, r->l.len);
	}
	bt_buf_adds(&b, "}\n");
	if (fwrite(b.p, 1, b.len, form.reject) != b.len)
		bt_die(BT_EXIT_FAIL, "%s: write error:", form.reject_path);
	bt_buf_free(&b);
	jv_free(rec);
}

static void badjv(struct bt_records *r, jv rec, jv err)
{
	jv m = jv_invalid_get_msg(err);

	bad(r, rec, "%s", jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "error");
	jv_free(m);
}

/* The prompt must be a non-empty string or an array of content blocks. */
static const char *prompt_problem(jv p)
{
	int i, n;
	jv x, t;

	switch (jv_get_kind(p)) {
	case JV_KIND_STRING:
		return jv_string_length_bytes(jv_copy(p)) ? NULL : "-p: the prompt is empty";
	case JV_KIND_ARRAY:
		n = jv_array_length(jv_copy(p));
		if (!n)
			return "-p: the prompt is an empty array";
		for (i = 0; i < n; i++) {
			x = jv_array_get(jv_copy(p), i);
			t = jv_get_kind(x) == JV_KIND_OBJECT ?
			    jv_object_get(jv_copy(x), jv_string("type")) : jv_invalid();
			jv_free(x);
			if (jv_get_kind(t) != JV_KIND_STRING) {
				jv_free(t);
				return "-p: an array element is not a content block (an object with a \"type\")";
			}
			jv_free(t);
		}
		return NULL;
	case JV_KIND_NULL:
		return "-p: gave null, not a string or an array of content blocks";
	case JV_KIND_NUMBER:
		return "-p: gave a number, not a string or an array of content blocks";
	case JV_KIND_OBJECT:
		return "-p: gave an object, not a string or an array of content blocks";
	default:
		return "-p: gave a boolean, not a string or an array of content blocks";
	}
}

/* What the API would refuse in params, checked before anything is sent. */
static const char *params_problem(jv p)
{
	jv v;
	const char *why = NULL;
	double d;

	if (jv_get_kind(p) != JV_KIND_OBJECT)
		return "--params: did not give an object";
	v = jv_object_get(jv_copy(p), jv_string("model"));
	if (jv_get_kind(v) != JV_KIND_STRING || !jv_string_length_bytes(jv_copy(v)))
		why = "params: no model (a non-empty string)";
	jv_free(v);
	if (why)
		return why;
	v = jv_object_get(jv_copy(p), jv_string("messages"));
	if (jv_get_kind(v) != JV_KIND_ARRAY || !jv_array_length(jv_copy(v)))
		why = "params: no messages (a non-empty array)";
	jv_free(v);
	if (why)
		return why;
	v = jv_object_get(jv_copy(p), jv_string("max_tokens"));
	d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;
	if (jv_get_kind(v) != JV_KIND_NUMBER || d < 1 || d != (double)(long long)d)
		why = "params: max_tokens must be a whole number of at least 1";
	jv_free(v);
	if (why)
		return why;
	v = jv_object_get(jv_copy(p), jv_string("stream"));
	if (jv_get_kind(v) == JV_KIND_TRUE)
		why = "params: stream is not allowed in a batch";
	jv_free(v);
	return why;
}

/* What OpenAI would refuse in a body: no model; a chat body without
 * messages, an embeddings body without input; stream. */
static const char *body_problem(jv p)
{
	jv v;
	const char *why = NULL;
	int k;

	if (jv_get_kind(p) != JV_KIND_OBJECT)
		return "--params: did not give an object";
	v = jv_object_get(jv_copy(p), jv_string("model"));
	if (jv_get_kind(v) != JV_KIND_STRING || !jv_string_length_bytes(jv_copy(v)))
		why = "body: no model (a non-empty string)";
	jv_free(v);
	if (why)
		return why;
	if (form.embed) {
		v = jv_object_get(jv_copy(p), jv_string("input"));
		k = jv_get_kind(v);
		if (!(k == JV_KIND_STRING && jv_string_length_bytes(jv_copy(v))) &&
		    !(k == JV_KIND_ARRAY && jv_array_length(jv_copy(v))))
			why = "body: no input (a non-empty string or array)";
		jv_free(v);
		return why;
	}
	v = jv_object_get(jv_copy(p), jv_string("messages"));
	if (jv_get_kind(v) != JV_KIND_ARRAY || !jv_array_length(jv_copy(v)))
		why = "body: no messages (a non-empty array)";
	jv_free(v);
	if (why)
		return why;
	v = jv_object_get(jv_copy(p), jv_string("stream"));
	if (jv_get_kind(v) == JV_KIND_TRUE)
		why = "body: stream is not allowed in a batch";
	jv_free(v);
	return why;
}

/* The custom_id of a record (borrowed): 0 with id, or -1 (reported). */
static int id_of(struct bt_records *r, jv rec, char id[BT_ID_MAX + 1])
{
	char err[128];
	jv v;

	if (!form.id) {
		size_t n;
		const char *text = bt_records_text(r, &n);

		bt_custom_id_num(r->number, text, n, id);
		return 0;
	}
	v = bt_jq_one(form.id, jv_copy(rec));
	if (!jv_is_valid(v)) {
		badjv(r, jv_copy(rec), v);
		return -1;
	}
	if (bt_custom_id(v, id, err, sizeof err) < 0) {
		jv_free(v);
		bad(r, jv_copy(rec), "--id: %s", err);
		return -1;
	}
	jv_free(v);
	return 0;
}

/* ---- attachments: --image and --document ---- */

static int opt_cache_att;       /* --cache-attachments */

static int is_url(const char *s)
{
	return !strncmp(s, "https://", 8) || !strncmp(s, "http://", 7);
}

/* Read up to want more bytes of fd into b: the bytes read, 0 at the end,
 * -1 with errno. */
static ssize_t fill(int fd, struct bt_buf *b, size_t want)
{
	size_t got = 0;
	ssize_t n;

	bt_buf_grow(b, want);
	while (got < want) {
		n = read(fd, b->p + b->len + got, want - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	b->len += got;
	return (ssize_t)got;
}

/* The file at path as a base64 source, into form.att: its start read
 * into form.file (enough to know its type and size), then encoded a
 * piece at a time; a regular file over the limit is refused unread.
 * 0, or -1 (reported).  Over 80 lines: open, sniff, size check and the
 * encoding loop share one descriptor and its errors, each reported with
 * the record's file and line. */
static int attach_file(struct bt_records *r, jv rec, const char *what,
                       const char *path, int image)
{
	enum { HEAD = 64 * 1024, PIECE = 48 * 1024 };   /* PIECE: a multiple of 3 */
	long long max = image ? BT_IMAGE_MAX_B64 : BT_PDF_MAX_B64;
	long long total, b64;
	const char *t, *why = NULL;
	struct stat st;
	size_t n3;
	ssize_t got;
	long w = 0, h = 0;
	int fd, e;

	/* O_NONBLOCK: a FIFO named by a record must not hang the job */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK)) < 0 || fstat(fd, &st) < 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		/* what the record names is wrong: a bad record; the machine
		 * failing (EIO, EMFILE, ENOMEM...) is no fault of the record's,
		 * and must not reject it for good */
		if (e != ENOENT && e != EACCES && e != ENOTDIR && e != ELOOP &&
		    e != ENAMETOOLONG && e != EISDIR && e != EPERM)
			bt_die(BT_EXIT_FAIL, "%s:%llu: %s: %s: %s", r->name, r->lineno,
			       what, path, strerror(e));
		bad(r, jv_copy(rec), "%s: %s: %s", what, path, strerror(e));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		bad(r, jv_copy(rec), "%s: %s: %s", what, path,
		    S_ISDIR(st.st_mode) ? strerror(EISDIR) : "not a regular file");
		return -1;
	}
	fcntl(fd, F_SETFL, 0);
	total = S_ISREG(st.st_mode) ? (long long)st.st_size : 0;
	form.file.len = 0;
	got = total / 3 * 4 + (total % 3 ? 4 : 0) > max ? 0 : fill(fd, &form.file, HEAD);
	t = bt_media_sniff(form.file.p, form.file.len);
	/* an image's size may lie past the head (a JPEG's EXIF): read on */
	while (got > 0 && image && t && bt_image_size(form.file.p, form.file.len, &w, &h) < 0 &&
	       (long long)form.file.len <= max)
		got = fill(fd, &form.file, HEAD);
	if (got < 0)
		bt_die(BT_EXIT_FAIL, "%s:%llu: %s: %s: read error:", r->name, r->lineno, what, path);
	else if ((b64 = total / 3 * 4 + (total % 3 ? 4 : 0)) > max) {
		close(fd);
		bad(r, jv_copy(rec), "%s: %s: %lld bytes as base64, more than the "
		    "API takes in %s (%lld)", what, path, b64,
		    image ? "an image" : "a PDF", max);
		return -1;
	} else if (image ? !bt_media_image_type(t) : !t || strcmp(t, "application/pdf")) {
		close(fd);
		bad(r, jv_copy(rec), "%s: %s: not %s (%s)", what, path,
		    image ? "a JPEG, PNG, GIF or WebP image" : "a PDF",
		    t ? t : "unknown type");
		return -1;
	} else if (image && bt_image_size(form.file.p, form.file.len, &w, &h) < 0) {
		close(fd);
		bad(r, jv_copy(rec), "%s: %s: a damaged %s: no size in its header",
		    what, path, t);
		return -1;
	} else if (image && (w > BT_IMAGE_MAX_PX || h > BT_IMAGE_MAX_PX)) {
		close(fd);
		bad(r, jv_copy(rec), "%s: %s: %ldx%ld pixels, more than the API "
		    "takes (%d a side)", what, path, w, h, BT_IMAGE_MAX_PX);
		return -1;
	}
	if (!why) {
		if (form.provider == BT_PROVIDER_OPENAI)  /* a data: URL */
			bt_buf_printf(&form.att, "\"data:%s;base64,", t);
		else
			bt_buf_printf(&form.att, "\"base64\",\"media_type\":\"%s\",\"data\":\"", t);
		total = (long long)form.file.len;
		for (;;) {
			n3 = got > 0 ? form.file.len / 3 * 3 : form.file.len;
			bt_b64_encode(&form.att, form.file.p, n3);
			memmove(form.file.p, form.file.p + n3, form.file.len - n3);
			form.file.len -= n3;
			if (got <= 0)
				break;
			if ((got = fill(fd, &form.file, PIECE)) < 0)
				bt_die(BT_EXIT_FAIL, "%s:%llu: %s: %s: read error:",
				       r->name, r->lineno, what, path);
			total += got;
			if (total / 3 * 4 + (total % 3 ? 4 : 0) > max) {
				why = image ? "more than the API takes in an image" :
				              "more than the API takes in a PDF";
				break;
			}
		}
		bt_buf_addc(&form.att, '"');
	}
	close(fd);
	if (form.file.cap > HEAD * 4)       /* a long JPEG head: keep no large buffer */
		bt_buf_free(&form.file);
	if (why) {
		bad(r, jv_copy(rec), "%s: %s: %s", what, path, why);
		return -1;
	}
	return 0;
}

/* attach_one for OpenAI: an image_url part (the URL, or the file as a
 * data: URL), or a file part with the PDF as file_data (OpenAI takes no
 * URL of a file). */
static int attach_one_openai(struct bt_records *r, jv rec, const char *what,
                             const char *path, int image)
{
	const char *base = strrchr(path, '/');

	if (!image && is_url(path)) {
		bad(r, jv_copy(rec), "%s: %s: OpenAI takes a PDF as file data, not "
		    "by URL", what, path);
		return -1;
	}
	if (form.att.len)
		bt_buf_addc(&form.att, ',');
	if (image)
		bt_buf_adds(&form.att, "{\"type\":\"image_url\",\"image_url\":{\"url\":");
	else {
		bt_buf_adds(&form.att, "{\"type\":\"file\",\"file\":{\"filename\":");
		base = base ? base + 1 : path;
		bt_json_write_str(&form.att, base, strlen(base));
		bt_buf_adds(&form.att, ",\"file_data\":");
	}
	if (is_url(path))
		bt_json_write_str(&form.att, path, strlen(path));
	else if (attach_file(r, rec, what, path, image) < 0)
		return -1;
	bt_buf_adds(&form.att, "}}");
	return 0;
}

/* One attachment of kind ("image" or "document") from a path or URL,
 * appended to form.att as a content block.  0, or -1 (reported). */
static int attach_one(struct bt_records *r, jv rec, const char *kind,
                      const char *what, const char *path)
{
	int image = !strcmp(kind, "image");

	if (form.provider == BT_PROVIDER_OPENAI)
		return attach_one_openai(r, rec, what, path, image);
	if (form.att.len)
		bt_buf_addc(&form.att, ',');
	bt_buf_printf(&form.att, "{\"type\":\"%s\",\"source\":{\"type\":", kind);
	if (is_url(path)) {
		bt_buf_adds(&form.att, "\"url\",\"url\":");
		bt_json_write_str(&form.att, path, strlen(path));
	} else {
		if (attach_file(r, rec, what, path, image) < 0)
			return -1;
	}
	bt_buf_adds(&form.att, "}}");
	return 0;
}

/* The paths an --image or --document expression gave: a string, an
 * array of strings, null or "" for none.  Appends to form.att; the number
 * attached, or -1 (reported). */
static int attach(struct bt_records *r, jv rec, struct bt_jq *q, const char *kind,
                  const char *what)
{
	jv v = bt_jq_one(q, jv_copy(rec)), x;
	int i, n, count = 0;

	if (!jv_is_valid(v)) {
		badjv(r, jv_copy(rec), v);
		return -1;
	}
	if (jv_get_kind(v) == JV_KIND_STRING || jv_get_kind(v) == JV_KIND_NULL)
		v = JV_ARRAY(v);
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		bad(r, jv_copy(rec), "%s: gave neither a path, a URL, an array of "
		    "them nor null", what);
		return -1;
	}
	n = jv_array_length(jv_copy(v));
	for (i = 0; i < n; i++) {       /* how many there are, and all strings */
		x = jv_array_get(jv_copy(v), i);
		if (jv_get_kind(x) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(x)))
			count++;
		else if (jv_get_kind(x) != JV_KIND_NULL && jv_get_kind(x) != JV_KIND_STRING) {
			jv_free(x);
			jv_free(v);
			bad(r, jv_copy(rec), "%s: an array element is not a path or a URL", what);
			return -1;
		}
		jv_free(x);
	}
	for (i = 0; i < n; i++) {
		x = jv_array_get(jv_copy(v), i);
		if (jv_get_kind(x) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(x))) {
			if (attach_one(r, rec, kind, what, jv_string_value(x)) < 0) {
				jv_free(x);
				jv_free(v);
				return -1;
			}
		}
		jv_free(x);
	}
	jv_free(v);
	return count;
}

/* Images in content c (borrowed), at its top level. */
static int images_in(jv c)
{
	int i, n = jv_get_kind(c) == JV_KIND_ARRAY ? jv_array_length(jv_copy(c)) : 0, k = 0;
	jv b, t;

	for (i = 0; i < n; i++) {
		b = jv_array_get(jv_copy(c), i);
		t = bt_jv_get(b, "type");
		k += bt_jv_is(t, form.provider == BT_PROVIDER_OPENAI ? "image_url" : "image");
		jv_free(t);
		jv_free(b);
	}
	return k;
}

/* The content of a record with attachments: form.att, then the prompt
 * (borrowed; a string as a text block, blocks as they are), as JSON. */
static void content_with(struct bt_buf *out, jv prompt)
{
	int i, n;
	jv b;

	bt_buf_addc(out, '[');
	bt_buf_add(out, form.att.p, form.att.len);
	if (jv_get_kind(prompt) == JV_KIND_STRING) {
		bt_buf_adds(out, ",{\"type\":\"text\",\"text\":");
		bt_json_write(out, prompt);
		bt_buf_addc(out, '}');
	} else if (jv_get_kind(prompt) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(prompt));
		for (i = 0; i < n; i++) {
			b = jv_array_get(jv_copy(prompt), i);
			bt_buf_addc(out, ',');
			bt_json_write(out, b);
			jv_free(b);
		}
	}
	bt_buf_addc(out, ']');
}

/* The attachments of a record (borrowed, as prompt is) into form.att:
 * 1 when there are some, 0 when none, -1 when one is bad (reported). */
static int attachments(struct bt_records *r, jv rec, jv prompt)
{
	int nimg = 0;

	form.att.len = 0;
	if (form.document && attach(r, rec, form.document, "document", "--document") < 0)
		return -1;
	if (form.image && (nimg = attach(r, rec, form.image, "image", "--image")) < 0)
		return -1;
	if (opt_cache_att && form.att.len) {    /* the last block marks the prefix */
		form.att.len--;
		bt_buf_adds(&form.att, ",\"cache_control\":");
		bt_buf_adds(&form.att, form.cache);
		bt_buf_addc(&form.att, '}');
	}
	if (nimg + images_in(prompt) > BT_MAX_IMAGES) {
		bad(r, jv_copy(rec), "%d images, more than a request may have (%d)",
		    nimg + images_in(prompt), BT_MAX_IMAGES);
		return -1;
	}
	return form.att.len > 0;
}

/* One record to one request line, or a bad record reported.  Over 80
 * lines: the prompt's checks, the attachments and the two ways a line is
 * written (the fast prefix, or --params through jq) are one sequence that
 * each step's early return keeps readable; split, they would pass half
 * their locals back and forth. */
static int one(struct bt_records *r, jv rec, struct bt_buf *out)
{
	char id[BT_ID_MAX + 1], err[400];
	size_t start = out->len;
	unsigned long long pos, first;
	const char *why;
	int k;
	jv v, prompt = jv_invalid(), params;

	if (id_of(r, rec, id) < 0) {
		jv_free(rec);
		return 0;
	}
	if (form.prompt) {
		prompt = bt_jq_one(form.prompt, jv_copy(rec));
		if (!jv_is_valid(prompt)) {
			badjv(r, rec, prompt);
			return 0;
		}
		if (!(why = prompt_problem(prompt)) && form.embed &&
		    jv_get_kind(prompt) != JV_KIND_STRING)
			why = "-p: --embed takes the text to embed, a string";
		if (why) {
			jv_free(prompt);
			bad(r, rec, "%s", why);
			return 0;
		}
		k = 0;
		if (jv_get_kind(prompt) == JV_KIND_ARRAY &&     /* blocks: as the API checks them */
		    form.provider == BT_PROVIDER_ANTHROPIC) {
			v = JV_OBJECT(jv_string("messages"), JV_ARRAY(JV_OBJECT(jv_string("content"),
			              jv_copy(prompt))));
			k = bt_content_check(v, err, sizeof err);
			jv_free(v);
		}
		if (k < 0) {
			jv_free(prompt);
			bad(r, rec, "-p: %s", err + (strncmp(err, "messages.0.", 11) ? 0 : 11));
			return 0;
		}
	}
	if ((k = attachments(r, rec, prompt)) < 0) {
		jv_free(prompt);
		jv_free(rec);
		return 0;
	}

	bt_buf_adds(out, "{\"custom_id\":\"");
	bt_buf_adds(out, id);
	bt_buf_adds(out, form.head);
	if (!form.params) {
		bt_buf_add(out, form.prefix.p, form.prefix.len);
		if (k)
			content_with(out, prompt);
		else
			bt_json_write(out, prompt);
		bt_buf_adds(out, form.tail);
		jv_free(prompt);
	} else {
		v = jv_copy(form.base);
		if (k) {                /* the blocks as a value for $params */
			struct bt_buf c = { 0 };
			content_with(&c, prompt);
			jv_free(prompt);
			prompt = bt_json_parse(c.p, c.len, err, sizeof err);
			bt_buf_free(&c);
		}
		if (jv_is_valid(prompt) && form.embed)
			v = jv_object_set(v, jv_string("input"), prompt);
		else if (jv_is_valid(prompt))
			v = jv_object_set(v, jv_string("messages"), jv_array_append(
			        jv_get_kind(form.system_msg) == JV_KIND_OBJECT ?
			        JV_ARRAY(jv_copy(form.system_msg)) : jv_array(),
			        JV_OBJECT(jv_string("role"), jv_string("user"),
			                  jv_string("content"), prompt)));
		/* . is the record, $params what the options built */
		params = bt_jq_one(form.params, JV_ARRAY(jv_copy(rec), v));
		if (!jv_is_valid(params)) {
			out->len = start;
			badjv(r, rec, params);
			return 0;
		}
		why = form.provider == BT_PROVIDER_OPENAI ? body_problem(params) :
		      params_problem(params);
		if (why) {
			jv_free(params);
			out->len = start;
			bad(r, rec, "%s", why);
			return 0;
		}
		if (form.provider == BT_PROVIDER_ANTHROPIC &&
		    bt_content_check(params, err, sizeof err) < 0) {
			jv_free(params);
			out->len = start;
			bad(r, rec, "params: %s", err);
			return 0;
		}
		bt_json_write(out, params);
		bt_buf_adds(out, "}\n");
		jv_free(params);
	}
	if ((long long)(out->len - start) > form.max_line) {
		size_t n = out->len - start;
		out->len = start;
		bad(r, rec, "the request is %zu bytes, more than a batch can hold (%lld)",
		    n, form.max_line);
		return 0;
	}
	pos = ((unsigned long long)r->file << 40) | r->lineno;
	if ((first = bt_idset_add(&form.ids, id, pos))) {
		out->len = start;
		bad(r, rec, "duplicate custom_id \"%s\" (first at %s:%llu)", id,
		    form.files[first >> 40], first & ((1ULL << 40) - 1));
		return 0;
	}
	jv_free(rec);
	return 1;
}

static char *slurp_text(const char *path)
{
	jv v = bt_jq_rawfile("--system-file", path);
	char *s = bt_strdup(jv_string_value(v));
	size_t n = strlen(s);

	jv_free(v);
	while (n && s[n - 1] == '\n')   /* as $(cat FILE) does */
		s[--n] = 0;
	return s;
}

/* What the options say. */
static struct {
	const char *prompt, *id, *system, *params, *model;
	const char *image, *document, *schema_file, *tool, *ttl;
	const char *provider, *temperature_text;
	char *params_text, *system_text;
	long long max_tokens;
	double temperature;
	int raw, cache, cache_tools, max_tokens_set, embed;
	jv schema;              /* --schema FILE, parsed */
	jv args;                /* --arg, --argjson, --rawfile */
} opt = { .max_tokens = 1024, .temperature = -1 };

/* --schema FILE: a JSON object with "type":"object" at the top, as
 * output_config.format.schema and a tool's input_schema both must be. */
static jv read_schema(const char *path)
{
	struct bt_buf b = { 0 };
	char err[200];
	jv v, t;

	if (bt_slurp(path, &b) < 0)
		bt_die(BT_EXIT_USAGE, "--schema: %s:", path);
	v = bt_json_parse(b.p ? b.p : "", b.len, err, sizeof err);
	bt_buf_free(&b);
	if (!jv_is_valid(v)) {
		jv_free(v);
		bt_die(BT_EXIT_USAGE, "--schema: %s: invalid JSON: %s", path, err);
	}
	t = bt_jv_get(v, "type");
	if (jv_get_kind(v) != JV_KIND_OBJECT || !bt_jv_is(t, "object")) {
		jv_free(t);
		jv_free(v);
		bt_die(BT_EXIT_USAGE, "--schema: %s: not a JSON schema of an object "
		       "(a JSON object with \"type\":\"object\" at the top)", path);
	}
	jv_free(t);
	return v;
}

/* The API's pattern of a tool name: ^[a-zA-Z0-9_-]{1,128}$ */
static int tool_name_ok(const char *s)
{
	size_t n = strlen(s), i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return n >= 1 && n <= 128;
}

static void option(int c, int argc, char **argv)
{
	const char *name;
	jv v;

	switch (c) {
	case 'p': opt.prompt = optarg; break;
	case 'i': opt.id = optarg; break;
	case 's':
		if (opt.system_text)
			bt_die(BT_EXIT_USAGE, "-s and --system-file: give one of them");
		opt.system = optarg;
		break;
	case 'S':
		if (opt.system)
			bt_die(BT_EXIT_USAGE, "-s and --system-file: give one of them");
		free(opt.system_text);
		opt.system_text = slurp_text(optarg);
		break;
	case 'C': opt.cache = 1; break;
	case 'K': opt.cache_tools = 1; break;
	case 'A': opt_cache_att = 1; break;
	case 'L':
		if (strcmp(optarg, "5m") && strcmp(optarg, "1h"))
			bt_die(BT_EXIT_USAGE, "--cache-ttl: \"%s\": give 5m or 1h", optarg);
		opt.ttl = optarg;
		break;
	case 'J': opt.schema_file = optarg; break;
	case 'N':
		if (!tool_name_ok(optarg))
			bt_die(BT_EXIT_USAGE, "--tool: \"%s\": a tool name is 1 to 128 "
			       "letters, digits, _ or -", optarg);
		opt.tool = optarg;
		break;
	case 'I': opt.image = optarg; break;
	case 'D': opt.document = optarg; break;
	case 'm': opt.model = optarg; break;
	case 'M':
		opt.max_tokens = bt_num(optarg, 1, 1000000, "--max-tokens");
		opt.max_tokens_set = 1;
		break;
	case 'T': opt.temperature_text = optarg; break;     /* its range is the provider's */
	case 'O': opt.provider = optarg; break;
	case 'E': opt.embed = 1; break;
	case 'P':
		if (opt.params_text)
			bt_die(BT_EXIT_USAGE, "--params and -f: give one of them");
		opt.params = optarg;
		break;
	case 'f':
		if (opt.params)
			bt_die(BT_EXIT_USAGE, "--params and -f: give one of them");
		v = bt_jq_rawfile("-f", optarg);
		free(opt.params_text);
		opt.params_text = bt_strdup(jv_string_value(v));
		jv_free(v);
		break;
	case 'a': case 'j': case 'r':
		name = optarg;
		if (optind >= argc)
			bt_die(BT_EXIT_USAGE, "--%s %s: a value is missing",
			       c == 'a' ? "arg" : c == 'j' ? "argjson" : "rawfile", name);
		v = c == 'a' ? jv_string(argv[optind]) :
		    c == 'j' ? bt_jq_argjson(name, argv[optind]) :
		    bt_jq_rawfile(name, argv[optind]);
		optind++;
		opt.args = jv_object_set(opt.args, jv_string(name), v);
		break;
	case 'x': form.reject_path = optarg; break;
	case 'R': opt.raw = 1; break;
	case 'h': usage(stdout, 0); break;
	default: usage(stderr, BT_EXIT_USAGE);
	}
}

/* The params the options make, in a fixed order, and the text every
 * request starts with. */
static void base_params(void)
{
	const char *model = opt.model, *system = opt.system;
	jv cc = JV_OBJECT(jv_string("type"), jv_string("ephemeral")), tool;
	struct bt_buf ccj = { 0 };
	static char cache_json[64];

	if (opt.ttl && !strcmp(opt.ttl, "1h"))   /* 5m is the API's default: unsaid */
		cc = jv_object_set(cc, jv_string("ttl"), jv_string("1h"));
	bt_json_write(&ccj, cc);
	snprintf(cache_json, sizeof cache_json, "%s", bt_buf_str(&ccj));
	bt_buf_free(&ccj);
	form.cache = cache_json;

	form.base = jv_object();
	if (model && *model)
		form.base = jv_object_set(form.base, jv_string("model"), jv_string(model));
	form.base = jv_object_set(form.base, jv_string("max_tokens"), jv_number((double)opt.max_tokens));
	if (opt.temperature >= 0)
		form.base = jv_object_set(form.base, jv_string("temperature"), jv_number(opt.temperature));
	if (system)
		form.base = jv_object_set(form.base, jv_string("system"), !opt.cache ? jv_string(system) :
		        JV_ARRAY(JV_OBJECT(jv_string("type"), jv_string("text"),
		                           jv_string("text"), jv_string(system),
		                           jv_string("cache_control"), jv_copy(cc))));
	if (opt.tool) {
		tool = JV_OBJECT(jv_string("name"), jv_string(opt.tool),
		                 jv_string("description"),
		                 jv_string("Record the answer: its input is the answer, "
		                           "as the schema says."),
		                 jv_string("input_schema"), jv_copy(opt.schema));
		if (opt.cache_tools)
			tool = jv_object_set(tool, jv_string("cache_control"), jv_copy(cc));
		form.base = jv_object_set(form.base, jv_string("tools"), JV_ARRAY(tool));
		form.base = jv_object_set(form.base, jv_string("tool_choice"),
		        JV_OBJECT(jv_string("type"), jv_string("tool"),
		                  jv_string("name"), jv_string(opt.tool)));
	} else if (jv_is_valid(opt.schema))
		form.base = jv_object_set(form.base, jv_string("output_config"),
		        JV_OBJECT(jv_string("format"),
		                  JV_OBJECT(jv_string("type"), jv_string("json_schema"),
		                            jv_string("schema"), jv_copy(opt.schema))));
	jv_free(cc);
	bt_json_write(&form.prefix, form.base);
	form.prefix.len--;     /* reopen the object */
	bt_buf_adds(&form.prefix, ",\"messages\":[{\"role\":\"user\",\"content\":");
}

/* Options that mean nothing to the provider, or to an embeddings
 * request, are refused; --temperature gets the provider's range. */
static void provider_options(void)
{
	static const char *const cache_opts[] = { "--cache-system", "--cache-tools",
		"--cache-attachments", "--cache-ttl" };
	const int cache_set[] = { opt.cache, opt.cache_tools, opt_cache_att, opt.ttl != NULL };
	const char *embed_no = NULL;
	size_t i;

	if (opt.temperature_text)
		opt.temperature = bt_real(opt.temperature_text, 0,
		        form.provider == BT_PROVIDER_OPENAI ? 2 : 1, "--temperature");
	if (form.provider == BT_PROVIDER_ANTHROPIC) {
		if (opt.embed)
			bt_die(BT_EXIT_USAGE, "--embed: Anthropic has no embeddings "
			       "(give --provider openai)");
		form.head = "\",\"params\":";
		form.tail = "}]}}\n";
		form.max_line = BT_CHUNK_MAX;
		return;
	}
	for (i = 0; i < sizeof cache_opts / sizeof *cache_opts; i++)
		if (cache_set[i])
			bt_die(BT_EXIT_USAGE, "%s: OpenAI has no cache marks (it caches "
			       "a repeated prompt prefix by itself)", cache_opts[i]);
	form.max_line = BT_OPENAI_MAX_BYTES;
	form.head = opt.embed ?
	        "\",\"method\":\"POST\",\"url\":\"" BT_OPENAI_EMBEDDINGS "\",\"body\":" :
	        "\",\"method\":\"POST\",\"url\":\"" BT_OPENAI_CHAT "\",\"body\":";
	form.tail = opt.embed ? "}}\n" : "}]}}\n";
	if (!opt.embed)
		return;
	if (opt.system)
		embed_no = opt.system_text ? "--system-file" : "-s";
	else if (opt.max_tokens_set)
		embed_no = "--max-tokens";
	else if (opt.temperature_text)
		embed_no = "--temperature";
	else if (opt.schema_file)
		embed_no = "--schema";
	else if (opt.tool)
		embed_no = "--tool";
	else if (opt.image)
		embed_no = "--image";
	else if (opt.document)
		embed_no = "--document";
	if (embed_no)
		bt_die(BT_EXIT_USAGE, "%s: an embeddings request (--embed) has only "
		       "a model and input", embed_no);
}

/* Whether the object schema s (borrowed) at path is fit for strict mode
 * itself: additionalProperties false, each property required.  1, or 0
 * with why in at. */
static int strict_object(jv s, const char *path, char *at, size_t atsz)
{
	jv props = bt_jv_get(s, "properties"), req = bt_jv_get(s, "required");
	jv ap = bt_jv_get(s, "additionalProperties");
	int ok = 1, found;

	if (!*path)
		path = "the top object";
	if (jv_get_kind(ap) != JV_KIND_FALSE) {
		snprintf(at, atsz, "%s has no \"additionalProperties\": false", path);
		ok = 0;
	}
	if (jv_get_kind(props) != JV_KIND_OBJECT) {
		jv_free(props);
		props = jv_object();
	}
	if (jv_get_kind(req) != JV_KIND_ARRAY) {
		jv_free(req);
		req = jv_array();
	}
	jv_object_foreach(props, key, val) {
		found = 0;
		jv_array_foreach(req, j, r) {
			found |= jv_equal(r, jv_copy(key));
			(void)j;
		}
		if (ok && !found) {
			snprintf(at, atsz, "%s does not require \"%s\"", path,
			         jv_string_value(key));
			ok = 0;
		}
		jv_free(key);
		jv_free(val);
	}
	jv_free(ap);
	jv_free(req);
	jv_free(props);
	return ok;
}

/* Whether schema s (borrowed) is fit for OpenAI's strict mode: every
 * object in it (by type or properties; under properties, $defs,
 * definitions, items, anyOf, oneOf, allOf, prefixItems) passes
 * strict_object.  1, or 0 with where it is not in at ("" at the top,
 * "properties.a.items" below). */
static int strict_ok(jv s, const char *path, char *at, size_t atsz)
{
	static const char *const subs[] = { "properties", "$defs", "definitions" };
	static const char *const lists[] = { "anyOf", "oneOf", "allOf", "prefixItems" };
	const char *dot = *path ? "." : "";
	char sub[256];
	int ok = 1, i, n;
	size_t k;
	jv x, props;

	if (jv_get_kind(s) != JV_KIND_OBJECT)
		return 1;
	props = bt_jv_get(s, "properties");
	x = bt_jv_get(s, "type");
	if (bt_jv_is(x, "object") || jv_get_kind(props) == JV_KIND_OBJECT)
		ok = strict_object(s, path, at, atsz);
	jv_free(x);
	jv_free(props);
	for (k = 0; ok && k < sizeof subs / sizeof *subs; k++) {
		x = bt_jv_get(s, subs[k]);
		if (jv_get_kind(x) == JV_KIND_OBJECT)
			jv_object_foreach(x, key, val) {
				snprintf(sub, sizeof sub, "%.100s%s%s.%.100s", path, dot,
				         subs[k], jv_string_value(key));
				if (ok)
					ok = strict_ok(val, sub, at, atsz);
				jv_free(key);
				jv_free(val);
			}
		jv_free(x);
	}
	for (k = 0; ok && k < sizeof lists / sizeof *lists; k++) {
		x = bt_jv_get(s, lists[k]);
		n = jv_get_kind(x) == JV_KIND_ARRAY ? jv_array_length(jv_copy(x)) : 0;
		for (i = 0; ok && i < n; i++) {
			jv e = jv_array_get(jv_copy(x), i);
			snprintf(sub, sizeof sub, "%.200s%s%s.%d", path, dot, lists[k], i);
			ok = strict_ok(e, sub, at, atsz);
			jv_free(e);
		}
		jv_free(x);
	}
	x = bt_jv_get(s, "items");
	if (ok) {
		snprintf(sub, sizeof sub, "%.200s%sitems", path, dot);
		ok = strict_ok(x, sub, at, atsz);
	}
	jv_free(x);
	return ok;
}

/* The name of the json_schema: the schema file's name without its
 * extension when it fits OpenAI's pattern (^[a-zA-Z0-9_-]{1,64}$), else
 * "answer". */
static jv schema_name(const char *path)
{
	const char *b = strrchr(path, '/'), *dot;
	char name[65];
	size_t n;

	b = b ? b + 1 : path;
	dot = strchr(b, '.');
	n = dot ? (size_t)(dot - b) : strlen(b);
	if (n < 1 || n > 64)
		return jv_string("answer");
	memcpy(name, b, n);
	name[n] = 0;
	return tool_name_ok(name) ? jv_string(name) : jv_string("answer");
}

/* The body the options make for OpenAI, in a fixed order, and the text
 * every line starts with (the Anthropic params' counterpart: see
 * base_params).  A schema unfit for strict mode is sent with strict
 * false, and said once. */
static void base_body(void)
{
	char at[300];
	jv strict = jv_true(), fn;

	form.base = jv_object();
	if (opt.model && *opt.model)
		form.base = jv_object_set(form.base, jv_string("model"), jv_string(opt.model));
	if (opt.embed) {
		bt_json_write(&form.prefix, form.base);
		form.prefix.len--;
		bt_buf_adds(&form.prefix, jv_object_length(jv_copy(form.base)) ?
		            ",\"input\":" : "\"input\":");
		return;
	}
	if (opt.max_tokens_set)
		form.base = jv_object_set(form.base, jv_string("max_completion_tokens"),
		                          jv_number((double)opt.max_tokens));
	if (opt.temperature >= 0)
		form.base = jv_object_set(form.base, jv_string("temperature"),
		                          jv_number(opt.temperature));
	if (jv_is_valid(opt.schema) && !strict_ok(opt.schema, "", at, sizeof at)) {
		bt_warn("--schema: %s: not fit for strict mode (%s): sent with "
		        "strict false, so answers may not follow it", opt.schema_file, at);
		strict = jv_false();
	}
	if (opt.tool) {
		fn = JV_OBJECT(jv_string("name"), jv_string(opt.tool),
		               jv_string("description"),
		               jv_string("Record the answer: its input is the answer, "
		                         "as the schema says."),
		               jv_string("parameters"), jv_copy(opt.schema),
		               jv_string("strict"), jv_copy(strict));
		form.base = jv_object_set(form.base, jv_string("tools"),
		        JV_ARRAY(JV_OBJECT(jv_string("type"), jv_string("function"),
		                           jv_string("function"), fn)));
		form.base = jv_object_set(form.base, jv_string("tool_choice"),
		        JV_OBJECT(jv_string("type"), jv_string("function"),
		                  jv_string("function"),
		                  JV_OBJECT(jv_string("name"), jv_string(opt.tool))));
	} else if (jv_is_valid(opt.schema))
		form.base = jv_object_set(form.base, jv_string("response_format"),
		        JV_OBJECT(jv_string("type"), jv_string("json_schema"),
		                  jv_string("json_schema"),
		                  JV_OBJECT(jv_string("name"), schema_name(opt.schema_file),
		                            jv_string("schema"), jv_copy(opt.schema),
		                            jv_string("strict"), jv_copy(strict))));
	jv_free(strict);
	bt_json_write(&form.prefix, form.base);
	form.prefix.len--;     /* reopen the object */
	bt_buf_adds(&form.prefix, jv_object_length(jv_copy(form.base)) ?
	            ",\"messages\":[" : "\"messages\":[");
	if (opt.system) {
		form.system_msg = JV_OBJECT(jv_string("role"), jv_string("system"),
		                            jv_string("content"), jv_string(opt.system));
		bt_json_write(&form.prefix, form.system_msg);
		bt_buf_addc(&form.prefix, ',');
	}
	bt_buf_adds(&form.prefix, "{\"role\":\"user\",\"content\":");
}

static void compile(void)
{
	char *wrapped;

	if (opt.prompt)
		form.prompt = bt_jq_compile("-p", opt.prompt, jv_copy(opt.args));
	if (opt.id)
		form.id = bt_jq_compile("--id", opt.id, jv_copy(opt.args));
	if (opt.image)
		form.image = bt_jq_compile("--image", opt.image, jv_copy(opt.args));
	if (opt.document)
		form.document = bt_jq_compile("--document", opt.document, jv_copy(opt.args));
	if (opt.params) {
		/* run on [record, params]: $params changes with every record */
		wrapped = bt_asprintf(".[1] as $params | .[0] | (%s\n)", opt.params);
		form.params = bt_jq_compile("--params", wrapped, jv_copy(opt.args));
		free(wrapped);
	}
}

/* --reject FILE: written aside, renamed into place at the end. */
static void reject_open(void)
{
	const char *slash = strrchr(form.reject_path, '/');
	int fd;

	form.reject_tmp = bt_asprintf("%.*s.%s.tmp.XXXXXX",
	        slash ? (int)(slash - form.reject_path + 1) : 0, form.reject_path,
	        slash ? slash + 1 : form.reject_path);
	fd = mkstemp(form.reject_tmp);
	if (fd < 0 || !(form.reject = fdopen(fd, "w")))
		bt_die(BT_EXIT_FAIL, "%s:", form.reject_tmp);
}

static void reject_close(void)
{
	if (fclose(form.reject) == EOF)
		bt_die(BT_EXIT_FAIL, "%s: write error:", form.reject_tmp);
	if (rename(form.reject_tmp, form.reject_path) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", form.reject_path);
	free(form.reject_tmp);
	form.reject_tmp = NULL;
}

/* A model bt-cost has no price for is likely a typo (the API would answer
 * each request not_found_error): said once, not refused, since prices
 * lag new models.  A model that --params sets is not looked at. */
static void check_model(const char *model)
{
	struct bt_prices *p;
	long long in, out;

	if (!model || !*model)
		return;
	p = bt_prices_load(NULL);
	if (bt_price(p, model, &in, &out) < 0)
		bt_warn("unknown model %s: a typo? (bt-cost has no price for it)", model);
	bt_prices_free(p);
}

static void format(char **files, int nfiles)
{
	struct bt_records r;
	int n;
	jv v;

	form.files = nfiles ? files : (char *[]){ "stdin" };
	form.nfiles = nfiles;
	bt_records_init(&r, files, nfiles, opt.raw);
	while ((n = bt_records_next(&r, &v)) != 0) {
		if (n < 0) {
			bad(&r, jv_invalid(), "%s", r.err);
			continue;
		}
		one(&r, v, &form.out);
		if (form.out.len >= 1 << 20)
			bt_flush(&form.out);
	}
	bt_flush(&form.out);
	bt_records_none(&r);
	bt_records_close(&r);
}

/* Over 80 lines: the option table and its switch, a line an option. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, 0, 'i' },
		{ "prompt", required_argument, 0, 'p' },
		{ "system", required_argument, 0, 's' },
		{ "system-file", required_argument, 0, 'S' },
		{ "cache-system", no_argument, 0, 'C' },
		{ "cache-tools", no_argument, 0, 'K' },
		{ "cache-attachments", no_argument, 0, 'A' },
		{ "cache-ttl", required_argument, 0, 'L' },
		{ "schema", required_argument, 0, 'J' },
		{ "tool", required_argument, 0, 'N' },
		{ "image", required_argument, 0, 'I' },
		{ "document", required_argument, 0, 'D' },
		{ "model", required_argument, 0, 'm' },
		{ "max-tokens", required_argument, 0, 'M' },
		{ "temperature", required_argument, 0, 'T' },
		{ "params", required_argument, 0, 'P' },
		{ "params-file", required_argument, 0, 'f' },
		{ "arg", required_argument, 0, 'a' },
		{ "argjson", required_argument, 0, 'j' },
		{ "rawfile", required_argument, 0, 'r' },
		{ "reject", required_argument, 0, 'x' },
		{ "raw-input", no_argument, 0, 'R' },
		{ "provider", required_argument, 0, 'O' },
		{ "embed", no_argument, 0, 'E' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 }
	};
	int c;

	bt_init(argv);
	opt.model = getenv("BT_MODEL");
	opt.args = jv_object();
	opt.schema = jv_invalid();
	while ((c = getopt_long(argc, argv, "hRm:p:s:f:", opts, NULL)) != -1)
		option(c, argc, argv);
	argc -= optind;
	argv += optind;
	if (opt.params_text)
		opt.params = opt.params_text;
	if (opt.system_text)
		opt.system = opt.system_text;
	form.provider = bt_provider_choose(opt.provider, "--provider");
	form.embed = opt.embed;
	provider_options();
	if (!opt.prompt && !opt.params)
		bt_die(BT_EXIT_USAGE, "no prompt: give -p EXPR (or --params EXPR)");
	if (!opt.params && (!opt.model || !*opt.model))
		bt_die(BT_EXIT_USAGE, "no model: give -m MODEL or set BT_MODEL");
	if (opt.cache && !opt.system)
		bt_die(BT_EXIT_USAGE, "--cache-system: there is no system prompt (-s or --system-file)");
	if (opt.tool && !opt.schema_file)
		bt_die(BT_EXIT_USAGE, "--tool: give the tool's input schema with --schema FILE");
	if (opt.cache_tools && !opt.tool)
		bt_die(BT_EXIT_USAGE, "--cache-tools: there is no tool (--tool NAME)");
	if (opt_cache_att && !opt.image && !opt.document)
		bt_die(BT_EXIT_USAGE, "--cache-attachments: there are no attachments "
		       "(--image or --document)");
	if (opt.ttl && !opt.cache && !opt.cache_tools && !opt_cache_att)
		bt_die(BT_EXIT_USAGE, "--cache-ttl: nothing is cached (--cache-system, "
		       "--cache-tools or --cache-attachments)");
	if (opt.schema_file)
		opt.schema = read_schema(opt.schema_file);

	check_model(opt.model);
	atexit(cleanup);
	bt_stdout_all_or_nothing();
	form.system_msg = jv_null();
	if (form.provider == BT_PROVIDER_OPENAI)
		base_body();
	else
		base_params();
	jv_free(opt.schema);
	compile();
	jv_free(opt.args);
	if (form.reject_path)
		reject_open();
	format(argv, argc);
	if (form.reject)
		reject_close();
	free(opt.params_text);
	free(opt.system_text);
	bt_close_stdout();
	if (form.rejected) {
		bt_warn("%llu record%s rejected: see %s", form.rejected,
		        form.rejected == 1 ? "" : "s", form.reject_path);
		return BT_EXIT_INCOMPLETE;
	}
	return 0;
}
