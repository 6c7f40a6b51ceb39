/* jsonl.c — fuzz harness: the JSONL reader (bt_lines_next in lib/lines.c,
 * bt_jsonl_next in lib/json.c), fed through a temporary file.
 *
 * The input is read twice: with the reader's usual buffer, and with one
 * of 1 to 32 bytes (from the input's last byte), so that even a small
 * input makes it move and grow its buffer.  Both must give, line by line,
 * what is computed here from the bytes: lines cut at "\n" (a "\r" before
 * it dropped, a last line without a newline counted), blank lines skipped
 * but numbered, each line's value or error "FILE:LINE: invalid JSON: ...",
 * its text, number and offset.
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"

static void note(struct bt_buf *b, unsigned long long lineno, unsigned long long off,
                 const char *s, size_t n, jv v)
{
	bt_buf_printf(b, "%llu@%llu:%zu:", lineno, off, n);
	bt_buf_add(b, s, n);
	bt_buf_addc(b, '=');
	if (jv_is_valid(v))
		bt_json_write(b, v);
	else if (jv_invalid_has_msg(jv_copy(v))) {
		jv m = jv_invalid_get_msg(jv_copy(v));
		bt_buf_printf(b, "ERR %s", jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
		jv_free(m);
	} else
		bt_buf_adds(b, "END");
	bt_buf_addc(b, '\n');
}

/* The lines of s[0..n), by the rule, noted in b. */
static void by_rule(const char *s, size_t n, struct bt_buf *b)
{
	size_t start = 0, end, len;
	unsigned long long lineno = 0;
	char err[256];
	jv v;

	while (start < n) {
		const char *nl = memchr(s + start, '\n', n - start);

		end = nl ? (size_t)(nl - s) : n;
		len = end - start;
		if (len && s[start + len - 1] == '\r')
			len--;
		lineno++;
		if (!bt_blank(s + start, len)) {
			v = bt_json_parse(s + start, len, err, sizeof err);
			if (!jv_is_valid(v))
				v = jv_invalid_with_msg(jv_string_fmt("%s:%llu: invalid JSON: %s",
				                                      "fuzz", lineno, err));
			note(b, lineno, start, s + start, len, v);
			jv_free(v);
		}
		start = end + 1;
	}
	note(b, lineno, 0, "", 0, jv_invalid());
}

/* The lines as the reader gives them, from fd, with a buffer of cap
 * bytes (0: its own). */
static void by_reader(int fd, size_t cap, struct bt_buf *b)
{
	struct bt_lines l;
	jv v;

	MUST(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	bt_lines_fd(&l, fd, "fuzz");
	if (cap) {
		free(l.buf);
		l.cap = cap;
		l.buf = bt_malloc(cap + 1);
	}
	for (;;) {
		v = bt_jsonl_next(&l);
		if (!jv_is_valid(v) && !jv_invalid_has_msg(jv_copy(v))) {
			note(b, l.lineno, 0, "", 0, v);
			jv_free(v);
			break;
		}
		MUST(strlen(l.line) <= l.len && l.line[l.len] == 0, "the line is not terminated");
		note(b, l.lineno, l.off, l.line, l.len, v);
		jv_free(v);
	}
	MUST(!bt_lines_next(&l, NULL), "a line after the end");
	bt_lines_close(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *tmp;       /* an unnamed file, as POSIX makes one */
	static int fd = -1;
	struct bt_buf want = { 0 }, got = { 0 }, small = { 0 };

	if (!tmp && (!(tmp = tmpfile()) || (fd = fileno(tmp)) < 0))
		bt_die(1, "tmpfile:");
	if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) != 0 ||
	    bt_write_all(fd, data, size) < 0)
		bt_die(1, "tmpfile:");

	by_rule((const char *)data, size, &want);
	by_reader(fd, 0, &got);
	by_reader(fd, size ? 1 + data[size - 1] % 32 : 1, &small);
	MUST(fuzz_same_bytes(&want, &got), "the reader, by the rule:\n%s\nby the reader:\n%s",
	     bt_buf_str(&want), bt_buf_str(&got));
	MUST(fuzz_same_bytes(&got, &small), "a small buffer:\n%s\nthe usual:\n%s",
	     bt_buf_str(&small), bt_buf_str(&got));
	bt_buf_free(&want);
	bt_buf_free(&got);
	bt_buf_free(&small);
	return 0;
}
