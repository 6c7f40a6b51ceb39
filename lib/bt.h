/* bt.h — the shared library of bt, and its table of contents.
 *
 * Prototypes are grouped under the file that defines them.  jv ownership
 * follows jq's rule (a jv argument is consumed) unless a comment says the
 * value is only borrowed.
 */
#ifndef BT_H
#define BT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <jv.h>
#include <curl/curl.h>

/* Exit statuses of every program (design.md, "Conventions"). */
#define BT_EXIT_OK          0   /* success */
#define BT_EXIT_FAIL        1   /* runtime failure: API, network, I/O */
#define BT_EXIT_USAGE       2   /* usage error or invalid input */
#define BT_EXIT_INCOMPLETE  3   /* finished but incomplete */

/* Batch limits of the API. */
#define BT_MAX_REQUESTS     100000
#define BT_MAX_BODY         (256LL * 1000 * 1000)   /* bytes of create body */
#define BT_ID_MAX           64                      /* custom_id length */
/* A chunk file of S bytes (requests, one per line) makes a create body of
 * S + 14 bytes: {"requests":[ + the lines joined by commas + ]}. */
#define BT_ENVELOPE         14
#define BT_CHUNK_MAX        (BT_MAX_BODY - BT_ENVELOPE)

/* ---- util.c: diagnostics, memory, strict numbers ---------------------- */

struct bt_buf;

extern const char *bt_prog;     /* "bt-NAME", set by bt_init */
extern int bt_verbose;          /* -v given */
/* Called before every diagnostic (to clear a progress line, say). */
extern void (*bt_before_warn)(void);

/* Set the program name (basename of argv[0]), and argv[0] to it, so that
 * getopt's own messages say "bt-NAME:" too; SIGPIPE's default; a closed
 * stdin, stdout or stderr is opened on /dev/null, so that no socket or
 * file takes its number. */
void bt_init(char **argv);
/* "bt-NAME: message\n" on stderr; a format ending in ':' appends
 * ": strerror(errno)". */
void bt_warn(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void bt_die(int status, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 2, 3)));
void bt_vwarn(const char *fmt, va_list ap);
/* The usage, then exit(status): the synopsis always; with -h (f is
 * stdout) the options too, one line an option, as the man page names
 * them. */
void bt_usage(FILE *f, int status, const char *synopsis, const char *options)
	__attribute__((noreturn));

void *bt_malloc(size_t n);              /* die on exhaustion */
void *bt_calloc(size_t n, size_t m);
void *bt_realloc(void *p, size_t n);
char *bt_strdup(const char *s);
char *bt_strndup(const char *s, size_t n);
char *bt_asprintf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Strict parsers for command-line values: the whole string must be used,
 * the value in range; otherwise exit 2 naming WHAT and the bad text. */
long long bt_num(const char *s, long long min, long long max, const char *what);
double bt_real(const char *s, double min, double max, const char *what);
/* Bytes with an optional K, M, G suffix (powers of 1000; KiB, MiB, GiB
 * for powers of 1024). */
long long bt_size(const char *s, long long min, long long max, const char *what);
/* Seconds from "90", "90s", "1.5s", "500ms", "5m", "2h", "1d". */
double bt_duration(const char *s, const char *what);
/* Wall-clock and monotonic seconds. */
double bt_now(void);
double bt_mono(void);
void bt_sleep(double seconds);

/* t as RFC 3339 with microseconds and Z, as the API writes times. */
void bt_rfc3339(double t, char out[32]);
/* Seconds since the epoch of an RFC 3339 UTC time ("Z" or "+00:00",
 * fraction optional), or -1. */
double bt_rfc3339_parse(const char *s);
/* mkdir -p; -1 with errno. */
int bt_mkdirs(const char *path);
/* Append the whole of file path to b; -1 with errno (EFBIG past
 * bt_line_max(): what is read whole goes into a line, or is bt's own
 * small file). */
int bt_slurp(const char *path, struct bt_buf *b);
/* Replace path with p[0..n): a temp file beside it, fsync, rename, and
 * fsync its directory, so that the rename survives a power cut. */
int bt_write_file(const char *path, const void *p, size_t n);
/* The directory that holds path, opened to be synced; -1 with errno. */
int bt_dir_open(const char *path);
/* fsync a directory (a rename in it is then durable); a file system that
 * cannot sync a directory (EINVAL) counts as done.  -1 with errno. */
int bt_dir_sync(int dirfd);
/* Write all of p to fd, retrying short writes; -1 with errno on error. */
int bt_write_all(int fd, const void *p, size_t n);
/* Flush and close stdout; a failed write exits 1, a closed pipe ends the
 * program quietly (by SIGPIPE, as cat(1) does).  Call before exit(0). */
void bt_close_stdout(void);
/* fwrite to stdout with the same rules (a closed pipe ends quietly). */
void bt_out(const void *p, size_t n);
/* Write b to stdout (fd 1, unbuffered by stdio) and empty it; same rules. */
void bt_flush(struct bt_buf *b);
/* Called when a write met EPIPE: end quietly by SIGPIPE. */
void bt_epipe(void) __attribute__((noreturn));

/* ---- compat.c: what differs between systems -------------------------- */

/* bt is C99 on POSIX.1-2008; `make check-build` proves it (README,
 * "Building elsewhere").  Call these, never the GNU or BSD extension. */
struct tm;
/* timegm (not POSIX): a broken-down UTC time to seconds since the epoch;
 * months out of range carry into the year. */
time_t bt_timegm(const struct tm *tm);
/* strptime (X/Open), in the C locale bt runs in. */
char *bt_strptime(const char *s, const char *fmt, struct tm *tm);
/* realpath(path, NULL) (X/Open): malloc'd, or NULL with errno. */
char *bt_realpath(const char *path);
/* memmem (GNU, BSD): the first m bytes of needle in hay[0..n), or NULL. */
void *bt_memmem(const void *hay, size_t n, const void *needle, size_t m);
/* fdatasync where there is one, F_FULLFSYNC on macOS, else fsync. */
int bt_fdatasync(int fd);
/* explicit_bzero (not POSIX): zero p[0..n) in a way no compiler drops. */
void bt_explicit_bzero(void *p, size_t n);

/* ---- utf8.c: UTF-8, strictly, and bad input quoted for messages ------ */

/* The length of the UTF-8 character that starts s[0..n): 1 to 4, or 0
 * when it is not well-formed (an overlong form, a surrogate, past
 * U+10FFFF, cut short, a stray continuation byte) or n is 0. */
size_t bt_utf8_char(const char *s, size_t n);
/* The length of the longest well-formed UTF-8 prefix of s[0..n): n when
 * all of it is, else the offset of the first bad byte.  ASCII is skipped
 * 128 bytes at a time, the rest checked 32 at a time (Keiser and Lemire's
 * lookup) where the CPU has AVX2. */
size_t bt_utf8_valid(const char *s, size_t n);

/* s[0..n), bad input, made fit to quote in a message: at most
 * BT_QUOTE_MAX bytes, cut at a character and then "..."; every byte that
 * is not printable (a control, NUL, bad UTF-8) as \xHH.  Returns out. */
#define BT_QUOTE_MAX    40
#define BT_QUOTE_SIZE   (BT_QUOTE_MAX + 4)
const char *bt_quote(char out[BT_QUOTE_SIZE], const char *s, size_t n);

/* ---- buf.c: growable byte buffer ------------------------------------- */

struct bt_buf {
	char *p;
	size_t len, cap;
};
void bt_buf_grow(struct bt_buf *b, size_t extra);   /* room for extra more; exit 1 if none */
void bt_buf_add(struct bt_buf *b, const void *p, size_t n);
void bt_buf_addc(struct bt_buf *b, int c);
void bt_buf_adds(struct bt_buf *b, const char *s);
void bt_buf_printf(struct bt_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *bt_buf_str(struct bt_buf *b);   /* NUL-terminated view */
void bt_buf_free(struct bt_buf *b);

/* ---- lines.c: lines of any length ------------------------------------ */

struct bt_lines {
	const char *name;       /* file name for messages; "-" is "stdin" */
	int fd, own_fd;
	char *buf;
	size_t cap, start, end; /* unread bytes are buf[start..end) */
	int eof, eof_done;
	unsigned long long lineno;  /* number of the line last returned */
	char *line;             /* the line last returned, NUL-terminated */
	size_t len;             /* its length, without "\n" or "\r\n" */
	unsigned long long off; /* where it starts in the input */
	unsigned long long base;    /* the input offset of buf[0] */
	void (*on_error)(void);     /* called before a read error or a line
	                             * longer than bt_line_max() exits */
};
/* Open PATH ("-" or NULL: stdin); -1 with errno when it cannot be opened. */
int bt_lines_open(struct bt_lines *l, const char *path);
void bt_lines_fd(struct bt_lines *l, int fd, const char *name);
/* Next line, without its "\n" (and a "\r" before it); a last line with no
 * final newline counts.  NULL at end of input; a read error exits 1
 * naming the file, a line longer than bt_line_max() exits 2 naming file
 * and line.  The text stays valid until the next call. */
char *bt_lines_next(struct bt_lines *l, size_t *len);
void bt_lines_close(struct bt_lines *l);
/* Every blank (empty or white space) line. */
int bt_blank(const char *s, size_t n);
/* Call fn on each non-blank line of path ("-": stdin), with where its
 * "NAME:LINE" for messages (l for more: its offset, say); a file that
 * cannot be opened exits 2 naming it.  Stops at fn's first nonzero
 * result and returns it. */
int bt_each_line(const char *path,
                 int (*fn)(const struct bt_lines *l, const char *where, const char *s,
                           size_t n, void *arg),
                 void *arg);

/* ---- bounds on hostile input (lines.c, config.c, http.c) -------------- */

/* The longest line any reader holds, and the largest answer body held in
 * memory: a line can be no longer than the API's largest legal input,
 * one create body of 256 MB (BT_MAX_BODY).  The environment's
 * BT_LINE_MAX may only lower it (tests use a small cap). */
#define BT_LINE_MAX         BT_MAX_BODY
/* BT_LINE_MAX, or the environment's lower BT_LINE_MAX (a bad one exits 2). */
size_t bt_line_max(void);
/* Open PATH for reading only when it is a regular file, without blocking
 * on a FIFO: the descriptor, or -1 with errno (EINVAL when it is there
 * but not a regular file). */
int bt_open_regular(const char *path);
/* The message for the last failed bt_open_regular: "not a regular file",
 * else strerror(errno). */
const char *bt_open_regular_why(void);
/* bt_lines_open of a regular file only, through bt_open_regular. */
int bt_lines_open_regular(struct bt_lines *l, const char *path);
/* The longest one transfer may take before it is given up (and retried
 * by the retry rule): 300 s, plus 1 s per 10 kB of the larger of the
 * body sent and the body announced (Content-Length); the environment's
 * BT_TRANSFER_DEADLINE (seconds) may only lower it. */
double bt_transfer_deadline(double expected_bytes);
/* (util.c) From now on, when standard output is a regular file, an exit
 * 2 through bt_die (bad input) takes back what this run wrote to it
 * (ftruncate to where it began): a bad line leaves no half output. */
void bt_stdout_all_or_nothing(void);
/* (jsonw.c) An answer's JSON line s[0..n) made valid UTF-8: 0 when it is
 * already (out untouched); 1 when it was not, with the line written again
 * into out (cleared first), every bad byte U+FFFD as jq does; -1 when it
 * is not JSON at all. */
int bt_json_mend_utf8(const char *s, size_t n, struct bt_buf *out);

/* ---- json.c: JSON text to jv, quickly --------------------------------- */

/* Nonzero when strings are scanned, and UTF-8 checked, with AVX2 (set at
 * start-up from the CPU); the tests clear it to run the SSE2 path too. */
extern int bt_json_avx2;

/* Parse exactly one JSON value in s[0..n) (white space around it allowed).
 * On error returns jv_invalid() and writes "what is wrong at column N" to
 * err.  Strings are UTF-8; bad UTF-8 is replaced by U+FFFD as jq does. */
jv bt_json_parse(const char *s, size_t n, char *err, size_t errsz);
/* Parse the one value that starts s (after white space); *used is set to
 * the bytes consumed.  For walking a stream of values in one buffer. */
jv bt_json_parse_prefix(const char *s, size_t n, size_t *used,
                        char *err, size_t errsz);
/* Skip one JSON value without building it: bytes used, or 0 when it is
 * not valid JSON (with err filled as above). */
size_t bt_json_skip(const char *s, size_t n, char *err, size_t errsz);

/* Walk the members of the object in s[0..n) without building values: fn
 * gets each key (as written, without its quotes) and the text of its value.
 * Validates the whole text (trailing data is an error).  Returns 0; -1 with
 * err filled when it is not a valid object; or fn's nonzero result. */
int bt_json_members(const char *s, size_t n,
                    int (*fn)(const char *key, size_t klen, const char *val,
                              size_t vlen, void *arg),
                    void *arg, char *err, size_t errsz);
/* The same, and text the API would refuse is an error too: bad UTF-8
 * (see bt_utf8_char), "invalid UTF-8 at column N", or the JSON's error
 * when that comes first; fn is not called on such text.  For request
 * lines, which go to the API as they are. */
int bt_json_members_utf8(const char *s, size_t n,
                         int (*fn)(const char *key, size_t klen, const char *val,
                                   size_t vlen, void *arg),
                         void *arg, char *err, size_t errsz);
/* As bt_json_members, but the members' values are only skipped by their
 * shape (strings whole, brackets balanced and matched; numbers and
 * literals not checked): for a line whose full check comes later, or from
 * a trusted source.  Several times faster on large values. */
int bt_json_members_quick(const char *s, size_t n,
                          int (*fn)(const char *key, size_t klen, const char *val,
                                    size_t vlen, void *arg),
                          void *arg, char *err, size_t errsz);

/* Whether a member's key, as written (without its quotes, escapes and
 * all), is want: "custom_id" and "custom\u005fid" both are "custom_id".
 * For short plain keys; every program compares keys this way. */
int bt_json_key_is(const char *k, size_t n, const char *want);
/* The text of the top-level member key of the object in s[0..n), found as
 * bt_json_members_quick walks it: *at and *len, or *at NULL when the text
 * has no such member or is not an object.  The last one when repeated. */
void bt_json_member_raw(const char *s, size_t n, const char *key,
                        const char **at, size_t *len);
/* The member key of o (borrowed), or jv_invalid() when o is not an
 * object or has no such member. */
jv bt_jv_get(jv o, const char *key);
/* 1 when v (borrowed) is the string s. */
int bt_jv_is(jv v, const char *s);

/* Next JSON value from a JSONL stream.  Blank lines are skipped.
 * Returns the value; at end of input jv_invalid() without a message; for
 * a bad line jv_invalid_with_msg("FILE:LINE: invalid JSON: ...").
 * l->line and l->lineno keep the raw line for messages and reject files. */
jv bt_jsonl_next(struct bt_lines *l);

/* ---- jsonw.c: jv to compact JSON, the bytes of `jq -c` ---------------- */

/* Append v (borrowed) to b as compact JSON, byte for byte what jq 1.6
 * -c prints for the same value. */
void bt_json_write(struct bt_buf *b, jv v);
/* Append the JSON string for s[0..n) (bad UTF-8 becomes U+FFFD). */
void bt_json_write_str(struct bt_buf *b, const char *s, size_t n);
/* Append the JSON string for the C string s, or null when s is NULL. */
void bt_json_write_cstr(struct bt_buf *b, const char *s);
/* Append a number as jq prints it. */
void bt_json_write_num(struct bt_buf *b, double d);
/* bt_json_write with every object's keys in byte order: canonical text. */
void bt_json_write_sorted(struct bt_buf *b, jv v);
/* (json.c) Append to out the canonical text of the JSON value s[0..n):
 * what bt_json_write_sorted writes of bt_json_parse's value, byte for
 * byte, made without building the value.  0, or -1 with err as
 * bt_json_parse says it. */
int bt_json_canon(const char *s, size_t n, struct bt_buf *out, char *err, size_t errsz);

/* ---- customid.c: the custom_id rule (design.md) ----------------------- */

/* 1 when s[0..n) matches ^[A-Za-z0-9_-]{1,64}$. */
int bt_custom_id_ok(const char *s, size_t n);
/* Make the custom_id for the value an --id expression gave (borrowed):
 * a string or number.  Returns 0 and fills out (NUL-terminated), or -1
 * with the reason in err (null, empty, boolean, object, array). */
int bt_custom_id(jv v, char out[BT_ID_MAX + 1], char *err, size_t errsz);
/* The id of record number n (1-based) when there is no --id: the number,
 * '-', and the first 8 hex digits of the SHA-256 of the record's bytes
 * rec[0..len) as read (no line end, no byte order mark): "12-3fa9c0d1".
 * A record edited or moved gets another id. */
void bt_custom_id_num(unsigned long long n, const char *rec, size_t len,
                      char out[BT_ID_MAX + 1]);
/* The record number of an id made before ids had a fingerprint (the
 * bare number, "12"), or 0 when id is not one. */
unsigned long long bt_custom_id_old(const char *id);
/* Lower-case hex SHA-256 of p[0..n). */
void bt_sha256_hex(const void *p, size_t n, char out[65]);
/* The SHA-256 of p[0..n), its 32 bytes. */
void bt_sha256(const void *p, size_t n, unsigned char out[32]);
/* p[0..n) as lower-case hex into out (2n + 1 bytes, NUL-terminated). */
void bt_hex(const unsigned char *p, size_t n, char *out);

/* A set of ids, each with the input line that brought it. */
struct bt_idset {
	struct bt_idset_slot *slots;
	size_t cap, count;
	char *recs;             /* the entries: each its line, then its text */
	size_t used, room;      /* bytes of recs */
};
/* Add id; returns 0 when new, or the line recorded for it before. */
unsigned long long bt_idset_add(struct bt_idset *s, const char *id,
                                unsigned long long line);
/* Make room for n more ids at once: a set that grows an id at a time
 * builds its table again at each doubling, on new memory. */
void bt_idset_reserve(struct bt_idset *s, size_t n);
/* Start loading the slot where id goes, for an add a little later: an
 * add is mostly a cache miss, and the miss can overlap other work. */
void bt_idset_prefetch(const struct bt_idset *s, const char *id);
/* The line recorded for id, or 0. */
unsigned long long bt_idset_get(const struct bt_idset *s, const char *id);
void bt_idset_free(struct bt_idset *s);

/* ---- request.c: one line of the requests stream ---------------------- */

/* Check an Anthropic request line without building it (an OpenAI one is
 * an error that says so: read either with bt_request_read, below): a JSON object with exactly
 * custom_id (matching the API's pattern) and params (an object), valid
 * JSON throughout; params with a "source" (as image and document blocks
 * have) are built and their blocks checked by bt_content_check.  0 with the id copied
 * out, or -1 with what is wrong. */
int bt_request_check(const char *s, size_t n, char id[BT_ID_MAX + 1],
                     char *err, size_t errsz);

/* What the API would refuse in the content blocks of params (borrowed):
 * an image or document source of a media type outside the API's list
 * (image/jpeg, image/png, image/gif, image/webp; application/pdf, and
 * text/plain for a text source), base64 data that does not decode or
 * whose bytes are not of the type it names, an image over
 * BT_IMAGE_MAX_B64 bytes of base64 or BT_IMAGE_MAX_PX pixels a side, a
 * PDF over BT_PDF_MAX_B64, more than BT_MAX_IMAGES images.  Walks
 * system, every message's content and tool_result contents.  0, or -1
 * with "messages.0.content.1.source.media_type: ..." in err. */
int bt_content_check(jv params, char *err, size_t errsz);

/* ---- request.c, issue 19 (the request side): providers, and either
 * provider's request line ---- */

/* The providers bt speaks to. */
enum bt_provider_id { BT_PROVIDER_ANTHROPIC, BT_PROVIDER_OPENAI };
/* "anthropic" or "openai" to its BT_PROVIDER_*; -1 for any other name. */
int bt_provider_from_name(const char *name);
/* "anthropic" or "openai". */
const char *bt_provider_name(int provider);
/* The provider where the input cannot say: option (the value of what,
 * "--provider") when not NULL, else $BT_PROVIDER when set and not empty,
 * else anthropic.  An unknown name exits 2 naming where it came from. */
int bt_provider_choose(const char *option, const char *what);

/* OpenAI's batch limits (openai-batch.md): lines and bytes of one input
 * file.  200 MB is read as 200,000,000 bytes, the smaller reading. */
#define BT_OPENAI_MAX_REQUESTS  50000
#define BT_OPENAI_MAX_BYTES     (200LL * 1000 * 1000)
/* The OpenAI endpoints bt-format writes lines for (a line's url). */
#define BT_OPENAI_CHAT          "/v1/chat/completions"
#define BT_OPENAI_EMBEDDINGS    "/v1/embeddings"
#define BT_MODEL_MAX            256     /* bytes of a model name */
#define BT_URL_MAX              32      /* bytes of an OpenAI line's url */

/* A request line, read: either provider's shape, told by its members
 * (params: Anthropic; else method, url or body: OpenAI). */
struct bt_request {
	int provider;                   /* BT_PROVIDER_*; -1 when unknown */
	char id[BT_ID_MAX + 1];         /* custom_id */
	char model[BT_MODEL_MAX + 1];   /* params.model or body.model; "" when
	                                   an Anthropic line names none */
	char url[BT_URL_MAX];           /* OpenAI: the endpoint; else "" */
	const char *body;               /* params or body: its JSON text, */
	size_t body_len;                /* within the line read */
};
/* Read and check the request line s[0..n) of either provider, as
 * bt_request_check checks an Anthropic one; an OpenAI line has exactly
 * custom_id (bt's pattern), method "POST", url (one of the Batch API's
 * endpoints: /v1/chat/completions, /v1/embeddings, /v1/responses,
 * /v1/completions, /v1/moderations) and body (an object with a model,
 * a non-empty string of at most BT_MODEL_MAX bytes).  0 with r filled,
 * or -1 with what is wrong in err (r->provider says the shape when it
 * could be told, else -1).  Every reader of request lines reads them
 * here or through bt_request_check. */
int bt_request_read(const char *s, size_t n, struct bt_request *r, char *err,
                    size_t errsz);
/* The shape of s[0..n) only, quickly (values skipped by their shape, not
 * checked): r->provider, and for an OpenAI line r->url and r->model
 * ("" when absent or bad).  0, or -1 when it is not a JSON object.  For
 * a program that routes lines before their full check. */
int bt_request_peek(const char *s, size_t n, struct bt_request *r);

/* ---- cachekey.c: the response store's key (issue 20) ---- */

/* The endpoint a request line asks (r read by bt_request_read):
 * "/v1/messages" for Anthropic's, the line's url for OpenAI's. */
const char *bt_request_endpoint(const struct bt_request *r);
/* The key of request r (read by bt_request_read) in the response store:
 * the SHA-256 of "bt-cache-key 1\n", the provider's name, the endpoint
 * and sample (each followed by "\n") and the canonical body (params, or
 * body: keys sorted, compact, custom_id not in it).  The text hashed is
 * left in pre (cleared first), the canonical body from *body_at on.  0,
 * or -1 with err when the body is not JSON. */
int bt_cache_key(const struct bt_request *r, long long sample, struct bt_buf *pre,
                 size_t *body_at, unsigned char key[32], char *err, size_t errsz);

/* (chunk.c) The model and endpoint of the OpenAI chunk being filled: a chunk is
 * one model and one url, or OpenAI fails the file whole. */
struct bt_chunk_key {
	int set;
	char model[BT_MODEL_MAX + 1], url[BT_URL_MAX];
};
/* 1 when r (read or peeked) may join the chunk: the key is not set, or
 * holds r's model and url. */
int bt_chunk_key_same(const struct bt_chunk_key *k, const struct bt_request *r);
/* The chunk now holds r's model and url. */
void bt_chunk_key_set(struct bt_chunk_key *k, const struct bt_request *r);

/* ---- media.c: images and PDFs ---------------------------------------- */

/* Limits of the API on media (anthropic-batches.md; the image count and
 * the PDF page count are the real API's documented limits). */
#define BT_IMAGE_MAX_B64    (5LL * 1024 * 1024)  /* bytes of base64 an image */
#define BT_IMAGE_MAX_PX     8000                 /* pixels a side */
#define BT_MAX_IMAGES       100                  /* images a request */
#define BT_PDF_MAX_B64      (32LL * 1000 * 1000) /* the synchronous body limit */
#define BT_PDF_MAX_PAGES    100                  /* pages a request */
/* The estimate's rule for media (bt-cost, --max-cost, bt-mock's usage):
 * an image is ceil(w×h/750) tokens after scaling to fit BT_IMAGE_PX on
 * the long edge, at most BT_IMAGE_TOKENS (both per model in the price
 * table: image_px, image_tokens); an image of unknown size (a URL), the
 * most.  A PDF page is BT_PDF_PAGE_TEXT_TOKENS of text plus one image at
 * the most; a PDF whose pages cannot be counted, or given by URL, counts
 * BT_PDF_MAX_PAGES pages. */
#define BT_IMAGE_PX         1568
#define BT_IMAGE_TOKENS     1600
#define BT_PDF_PAGE_TEXT_TOKENS 3000

/* The media type of p[0..n) by its magic bytes: image/jpeg, image/png,
 * image/gif, image/webp, application/pdf; NULL for anything else. */
const char *bt_media_sniff(const void *p, size_t n);
/* 1 when t is one of the API's image media types. */
int bt_media_image_type(const char *t);
/* Width and height of a PNG, JPEG, GIF or WebP image from its header
 * (p holds the file, or enough of its start); 0, or -1 when unknown. */
int bt_image_size(const void *p, size_t n, long *w, long *h);
/* Append p[0..n) to b as base64 (standard alphabet, padded).  Call it on
 * pieces of a multiple of 3 bytes to encode a stream. */
void bt_b64_encode(struct bt_buf *b, const void *p, size_t n);
/* Check s[0..n) is base64 as the API takes it (standard alphabet, padded,
 * no white space) and append the bytes to out (when not NULL): the
 * number of bytes, or -1. */
long long bt_b64_decode(const char *s, size_t n, struct bt_buf *out);
/* The tokens of a w×h image by the rule above (w or h 0: unknown). */
long long bt_image_tokens(long w, long h, long max_px, long long cap);
/* Pages of a PDF: the more of its /Type /Page objects and its page trees'
 * largest /Count (0 when none can be seen, or objects are compressed in
 * object streams /ObjStm, where they cannot). */
long long bt_pdf_pages(const void *p, size_t n);
/* The tokens of a PDF of pages pages (0: unknown) by the rule above. */
long long bt_pdf_tokens(long long pages, long long image_cap);

/* ---- chunk.c: cutting requests into batches, the one rule ----------- */

struct bt_chunker {
	long long max_requests, max_bytes;  /* per chunk: -n, -b */
	long long requests, bytes;          /* in the chunk being filled */
};
enum { BT_CHUNK_SAME, BT_CHUNK_NEXT, BT_CHUNK_TOO_BIG };
void bt_chunker_init(struct bt_chunker *c, long long max_requests, long long max_bytes);
/* Where a request line of n bytes (without its newline) goes: into the
 * chunk being filled (BT_CHUNK_SAME); into a new one, the current being
 * complete (BT_CHUNK_NEXT: call bt_chunker_next first); or nowhere, being
 * over the byte limit (BT_CHUNK_TOO_BIG, with the message in err). */
int bt_chunker_place(struct bt_chunker *c, size_t n, char *err, size_t errsz);
/* Count the request in, once placed. */
void bt_chunker_add(struct bt_chunker *c, size_t n);
/* Whether no request could join the chunk any more. */
int bt_chunker_full(const struct bt_chunker *c);
/* A new chunk begins. */
void bt_chunker_next(struct bt_chunker *c);

/* ---- result.c: one line of the results stream ----------------------- */

enum { BT_R_SUCCEEDED, BT_R_ERRORED, BT_R_CANCELED, BT_R_EXPIRED, BT_R_MISSING };

struct bt_result {
	char id[BT_ID_MAX + 1];
	int kind;               /* BT_R_* */
	char type[64];          /* errored: the error's type (.result.error.error.type) */
	char message[512];      /* and its message */
	int truncated;          /* succeeded, but cut at max_tokens */
	int dialect;            /* BT_DIALECT_*: whose line it is */
	int retryable;          /* errored, and another try may help */
	int cached;             /* from the response store (bt_result_peek) */
};
/* Read the result line s[0..n): bt_result_peek's verdict (deep), and it
 * parsed in full (*line, unless NULL: the caller's), with an errored
 * one's type and message.  0, or -1 with what is wrong in err.  Every
 * program reads result lines by this rule or by bt_result_peek, so that
 * none accepts a line another refuses. */
int bt_result_read(const char *s, size_t n, struct bt_result *r, jv *line,
                   char *err, size_t errsz);
/* "succeeded", "errored", "canceled", "expired", "missing". */
const char *bt_result_kind_name(int kind);
/* The answer of a succeeded result line (borrowed): the input of its one
 * tool_use block when it has exactly one (with an input); the array of
 * the inputs of its tool_use blocks, in order (null for a block without
 * one), when it has several; else its text blocks joined (without a
 * separator); null when it has neither.  *ntools (unless NULL) gets the
 * number of tool_use blocks. */
jv bt_result_response(jv line, int *ntools);
/* A result line checked by its shape, as bt-fetch, bt-join and bt-cost
 * all check it: a JSON object with whole strings and matched brackets,
 * a valid custom_id, and a result object of a known type.  (The values
 * inside are the API's own and are not parsed one by one.)  Keys and the
 * strings compared (custom_id, result.type, stop_reason) are taken as a
 * JSON reader takes them: escapes undone ("a\u0062" is "ab"), the last of
 * a repeated key. */
struct bt_result_peek {
	char id[BT_ID_MAX + 1];
	int kind;               /* BT_R_* */
	const char *result;     /* the text of the result object (OpenAI's:
	                           of response, or of error when it is null) */
	size_t result_len;
	int truncated;          /* with deep: succeeded, cut at max_tokens */
	int dialect;            /* BT_DIALECT_*: whose line it is */
	int status;             /* OpenAI: response.status_code; else 0 */
	int cached;             /* the line says "bt_cached": an answer the
	                           response store gave (bt-cache get) */
	const char *line_id;    /* OpenAI: the line's own id, a JSON string
	                           (quotes and all); else NULL */
	size_t line_id_len;
};
/* 0, or -1 with what is wrong in err.  deep: also look into a
 * succeeded message for its stop_reason (OpenAI's: choices[0].
 * finish_reason).  Either provider's line (see the dialect, below). */
int bt_result_peek(const char *s, size_t n, int deep, struct bt_result_peek *p,
                   char *err, size_t errsz);
/* The one precedence rule when a custom_id has several results: an
 * uncut success beats a success cut at max_tokens, which beats any
 * failure; among equals the later wins.  1 when the newer (kind,
 * truncated) replaces the older. */
int bt_result_wins(int kind, int truncated, int old_kind, int old_truncated);
/* Append a result line (with its newline) for id[0..idlen): kind
 * succeeded with json the Message, errored with json the error envelope,
 * canceled or expired with no json.  json must be one line of compact
 * JSON.  bt-send and bt-mock write result lines with it. */
void bt_result_write(struct bt_buf *b, const char *id, size_t idlen, int kind,
                     const char *json, size_t n);
/* ---- result.c, issue 19 (the result side): the dialect ---- */

/* Whose result line it is, told by the line itself: Anthropic's
 * {"custom_id","result":{"type",...}}, OpenAI's BatchRequestOutput
 * {"id","custom_id","response":{"status_code","request_id","body"}|null,
 * "error":{"code","message"}|null}.  OpenAI's outcome: status_code 2xx
 * succeeded (cut when choices[0].finish_reason is "length"); another
 * status errored, body.error's code (else its type, else "http_STATUS")
 * and message; response null: error.code batch_expired is expired,
 * batch_cancelled canceled, any other errored.  A retry can help an
 * Anthropic error by bt_error_retryable, an OpenAI one when its status
 * is 408, 409, 429 or 500 and over. */
/* the same numbers as BT_PROVIDER_* */
enum { BT_DIALECT_ANTHROPIC = BT_PROVIDER_ANTHROPIC, BT_DIALECT_OPENAI = BT_PROVIDER_OPENAI };
/* "Anthropic" or "OpenAI", for messages. */
const char *bt_dialect_name(int dialect);
/* Whether an OpenAI status_code is worth another try. */
int bt_status_retryable(long status);
/* The stop reason of a succeeded result line (borrowed): Anthropic's
 * message.stop_reason, OpenAI's choices[0].finish_reason; a string, or
 * null (an embedding has none). */
jv bt_result_stop(jv line);
/* The name of the limit a cut answer hit, for messages: "max_tokens",
 * or OpenAI's "max_completion_tokens". */
const char *bt_result_limit(int dialect);
/* What bt-cost prices of an OpenAI succeeded line (borrowed): *model
 * (body.model, a string), t[] (input: prompt_tokens less its
 * prompt_tokens_details.cached_tokens, which are cache reads; output:
 * completion_tokens, 0 for an embedding), *tier (BT_TIER_BATCH for a
 * batch's line, whose id begins "batch_req_"; else BT_TIER_STANDARD, as
 * the synchronous API's, bt-send's), *answer_id (body.id, else the line's
 * id; NULL when neither: the caller frees the rest).  0, or -1 with what
 * is wrong in err (a field named by its path). */
/* usage.key (usage borrowed) as a whole number >= 0 into *out; absent or
 * null is 0 unless required.  0, or -1 with err ("PATH.KEY: missing", or
 * "...: not a whole number 0 or more"). */
int bt_usage_count(jv usage, const char *path, const char *key, int required,
                   long long *out, char *err, size_t errsz);
int bt_result_usage_openai(jv line, jv *model, long long t[5], int *tier,
                           jv *answer_id, char *err, size_t errsz);
/* A request line of either shape read by bt_request_read: its
 * BT_DIALECT_* with id filled, or -1 with err. */
int bt_request_dialect(const char *s, size_t n, char id[BT_ID_MAX + 1],
                       char *err, size_t errsz);

/* A synchronous answer as a result line of dialect's (bt-send): for
 * Anthropic bt_result_write; for OpenAI a BatchRequestOutput whose id is
 * "sync_req_..." (the standard price), with response {status_code
 * status, request_id, body json} when there was an answer (status > 0),
 * else response null and error json ({code, message}). */
void bt_answer_write(struct bt_buf *b, int dialect, const char *id, size_t idlen,
                     int kind, long status, const char *request_id,
                     const char *json, size_t n);
/* An answer the response store holds, as a result line of dialect's
 * under the asking request's id[0..idlen), marked "bt_cached" with the
 * store's key_hex and stored_at: Anthropic's {"custom_id","result":
 * ANSWER,...}, OpenAI's {"id":line_id|null,"custom_id","response":ANSWER,
 * "error":null,...}.  answer[0..n) is the result (OpenAI's: response)
 * object's text, as bt_result_peek found it when it was stored. */
void bt_result_write_cached(struct bt_buf *b, int dialect, const char *id, size_t idlen,
                            const char *line_id, const char *answer, size_t n,
                            const char *key_hex, const char *stored_at);
/* An error in dialect's words: Anthropic's envelope (bt_error_envelope);
 * OpenAI's {"error":{message,type,param,code}} when with_status, else a
 * line's error {code: type, message}. */
void bt_error_envelope_of(struct bt_buf *b, int dialect, int with_status, const char *type,
                          const char *message, const char *request_id);
/* Append the API's error envelope: {"type":"error","error":{"type":T,
 * "message":M},"request_id":R|null}. */
void bt_error_envelope(struct bt_buf *b, const char *type, const char *message,
                       const char *request_id);
/* The error type the API gives with an HTTP status (api_error for
 * another, or none). */
const char *bt_error_type_of(long status);
/* Errors worth another try as they are: api_error, overloaded_error,
 * rate_limit_error, timeout_error. */
int bt_error_retryable(const char *type);

/* ---- records.c: the user's records, numbered by one rule ------------- */

/* Each non-blank line of the inputs is one record, numbered from 1 across
 * all the files; a line that is not valid JSON still takes its number.
 * With raw, a line is a record as a JSON string.  bt-format and bt-join
 * both count this way, so record numbers (the default custom_id) agree. */
struct bt_records {
	char **files;
	int nfiles, file, raw;
	struct bt_lines l;
	unsigned long long number;  /* the current record's number */
	const char *name;           /* and where it came from */
	unsigned long long lineno;
	char err[300];              /* why the current record is bad */
};
void bt_records_init(struct bt_records *r, char **files, int nfiles, int raw);
/* 1 with *v set; 0 at the end; -1 for a line that is not valid JSON (the
 * reason in r->err, the text in r->l.line).  A file that cannot be opened
 * exits 2. */
int bt_records_next(struct bt_records *r, jv *v);
/* The current record's line as read: without its line end, and without
 * a UTF-8 byte order mark at the start of a file.  The bytes the default
 * custom_id's fingerprint is taken of (bt_custom_id_num). */
const char *bt_records_text(const struct bt_records *r, size_t *len);
void bt_records_close(struct bt_records *r);
/* At the end: warn "no records in FILE[, FILE...]" when there were none
 * (an empty input is no error, but must not pass for a job done). */
void bt_records_none(const struct bt_records *r);

/* ---- jqprog.c: user jq programs (1.6 syntax) ------------------------- */

struct bt_jq;
/* Compile program with named arguments (an object: name → value); exits 2
 * with jq's message, prefixed by what (the option), if it does not
 * compile.  A plain path (.a.b) runs without the interpreter. */
struct bt_jq *bt_jq_compile(const char *what, const char *program, jv args);
/* Run on in (consumed); exactly one output is expected.  Returns it, or
 * jv_invalid_with_msg("WHAT: message") for an error, no value, or more
 * than one. */
jv bt_jq_one(struct bt_jq *q, jv in);
void bt_jq_free(struct bt_jq *q);
/* Values for --argjson (exits 2 on bad JSON) and --rawfile. */
jv bt_jq_argjson(const char *name, const char *text);
jv bt_jq_rawfile(const char *name, const char *path);

/* ---- args.c: the "arguments, else stdin lines" loop ------------------- */

/* Call fn on each argument, or when there are none on each non-blank line
 * of stdin (trimmed; its length given, for a line may hold a NUL).  Stops
 * at the first nonzero fn result and returns it. */
int bt_each_arg(int argc, char **argv,
                int (*fn)(const char *item, size_t len, void *arg), void *arg);
/* Where the item given to fn came from: "stdin:LINE" or "argument N". */
extern char bt_arg_where[64];

/* The batches stream of bt-wait, bt-fetch and bt-cancel, from the
 * arguments, else from stdin: fn gets each batch's id and its object
 * (borrowed; jv_invalid() for a bare id), with bt_arg_where set.  One
 * rule for a bad line (bt_batch_ref), in every program: every argument is
 * checked before fn sees any (bt_batch_args); a bad stdin line ends the
 * input there, said as "stdin:LINE: what is wrong": the lines before it
 * were handled, none after it is read, and BT_EXIT_USAGE is returned.
 * Otherwise fn's first nonzero result, which stops the loop, or 0. */
int bt_each_batch(int argc, char **argv,
                  int (*fn)(const char *id, jv batch, void *arg), void *arg);
/* Check every argument as a batch; exit 2 naming the first bad one
 * ("argument N: ...").  For bt-wait, which reads stdin its own way. */
void bt_batch_args(int argc, char **argv);

/* ---- config.c: configuration from the environment --------------------- */

struct bt_config {
	char *key;          /* ANTHROPIC_API_KEY or --api-key-file; never printed */
	char *base_url;     /* ANTHROPIC_BASE_URL, no trailing '/' */
	char *version;      /* ANTHROPIC_VERSION */
	const struct bt_provider *provider;     /* bt_provider() */
	char *state_dir;    /* BT_STATE_DIR, default ".bt" */
	const char *chosen; /* what chose the provider ("--provider",
	                       "BT_PROVIDER"); NULL: the default */
	int sensed;         /* the input said which provider */
	int key_from_file;  /* --api-key-file: kept for either provider */
	int http_built;     /* a transfer has used it: it cannot change */
	int alt;            /* the provider's other address (Azure OpenAI):
	                       base from its env_alt_base, key from env_alt_key,
	                       version a query parameter of every request */
};
void bt_config_init(struct bt_config *c);
/* --provider NAME (what: the option, for messages): that provider's
 * variables; NULL: nothing changes. */
void bt_config_provider(struct bt_config *c, const char *name, const char *what);
/* The input is provider's (what: "batch", "request"): the configuration
 * in use follows it (0), unless an option or BT_PROVIDER chose the other,
 * or an earlier line said the other (one provider a stream): -1 with err. */
int bt_config_input(int provider, const char *what, char *err, size_t errsz);
/* A fingerprint of where requests go: the first 16 hex digits of the
 * SHA-256 of "bt-endpoint\n", the base URL, "\n" and the key ("" when
 * there is none).  Journal records (bt-submit) and work directories
 * (bt-run, through bt-wait --endpoint) are tied to it, so that what was
 * made against one server or account is never taken for another's. */
void bt_endpoint_fp(const struct bt_config *c, char out[17]);
/* --api-key-file: the first line of FILE, white space trimmed; exits 2
 * naming the file when it cannot be read or is empty. */
void bt_config_key_file(struct bt_config *c, const char *path);
/* Exit 2 with a clear message when there is no key (for the default
 * provider, chosen by nothing, when the other has a key: later, at the
 * first transfer, once the input has said which it is). */
void bt_config_need_key(const struct bt_config *c);
void bt_config_free(struct bt_config *c);

/* ---- retry.c: the retry policy of the design (pure) ------------------- */

/* Whether an HTTP status may be retried: 408 429 500 502 503 504 529. */
int bt_retryable_status(long status);
/* Whether a status proves the API did not take a create's body: 429, 529
 * (and 408, 413 never); a 5xx after the body was sent is ambiguous. */
int bt_status_not_taken(long status);
/* Seconds to wait before retry number attempt (1, 2, ...).  Without a
 * server hint: base * 2^(attempt-1), capped at max, with jitter: the
 * result is in [d/2, d] by rnd in [0, 1).  With retry_after >= 0 (the
 * server's retry-after): that, clamped to [0, max_hint]. */
double bt_backoff(int attempt, double retry_after, double rnd);
#define BT_BACKOFF_BASE     0.5     /* seconds */
#define BT_BACKOFF_MAX      60.0
#define BT_RETRY_AFTER_MAX  600.0   /* retry-after is clamped to this */
#define BT_RETRY_BUDGET     900.0   /* default total time for one call */

/* What one failed attempt came to, for the one retry rule. */
struct bt_attempt {
	int transport;          /* no HTTP answer at all */
	int before_send;        /* and the error proves nothing was sent */
	long status;            /* the answer's status, when there was one */
	int sent;               /* some body byte went out */
	int may_repeat;         /* the request may go again even if taken */
	int should_retry;       /* x-should-retry: -1 unsaid, 0, 1 */
};
enum { BT_RETRY, BT_GIVE_UP, BT_AMBIGUOUS };
/* The one retry rule: a transport error or a retryable status is tried
 * again (x-should-retry overrides the status), unless the request must
 * not be repeated and its body may have been taken: then the failure is
 * BT_AMBIGUOUS (the caller must find out).  When to retry is
 * bt_backoff's. */
int bt_retry_decide(const struct bt_attempt *a);

/* Turn an API error body into "TYPE: message (request-id req_...)"; a body
 * that is not the error envelope gives "HTTP STATUS: first line".  */
void bt_api_error(long status, const char *body, size_t n,
                  const char *request_id, char *out, size_t outsz);

/* ---- http.c: the HTTP client over libcurl, and the transfer engine ---- */

struct bt_http;     /* where requests go, with which headers; the server's clock */

struct bt_req {
	const char *method;     /* "GET", "POST", "DELETE" */
	const char *path;       /* "/v1/messages/batches/ID", query included */
	const char *body;       /* a body in memory, or */
	size_t body_len;
	int body_fd;            /* a body streamed from a seekable file; -1 none */
	off_t body_off, body_size;
	int body_chunk;         /* the file is a chunk (requests, one a line,
	                           with a final newline): send it as a create
	                           body, body_size + BT_ENVELOPE bytes */
	/* The file's bytes [splice_at, splice_at + splice_cut) are sent as
	 * splice[0..splice_len) instead (a tagged custom_id); splice NULL:
	 * the file as it is. */
	const char *splice;
	size_t splice_len;
	off_t splice_at, splice_cut;
	/* A file body (not body_chunk) goes between body_head and body_tail
	 * (NULL: nothing); form: as multipart/form-data, bt_http_boundary's. */
	const char *body_head, *body_tail;
	int form;
	/* The 2xx body goes to sink (NULL: kept in resp->body).  A nonzero
	 * return aborts the transfer (a closed pipe, say). */
	int (*sink)(const char *p, size_t n, void *arg);
	/* Before a retry: the sink must forget what it got (return nonzero to
	 * give up). */
	int (*sink_restart)(void *arg);
	void *sink_arg;
	int may_repeat;         /* the request may be sent again even when the
	                           body may have been taken (GET, DELETE, cancel) */
	/* Called once an attempt, just before the body's last bytes go to
	 * the server: until then it cannot have taken the body whole. */
	void (*body_end)(void *arg);
	void *body_end_arg;
	double timeout;         /* seconds an attempt may take; 0: no limit */
	int patient;            /* time waited on 429s is not charged to the
	                           retry budget: a rate limit is waited out */
	const char *label;      /* retry messages say "LABEL: error" */
	/* Every header line of every answer, name and value trimmed. */
	void (*header)(const char *name, size_t nlen, const char *val,
	               size_t vlen, void *arg);
	void *header_arg;
};

struct bt_resp {
	long status;            /* last HTTP status; 0 when none came */
	char request_id[80];
	struct bt_buf body;     /* the body when no sink, or the error body
	                           (capped at 64 KiB) */
	char err[1024];         /* why it failed, for the user */
	int ambiguous;          /* body sent, no clear answer: may have been taken */
	int curl_code;          /* the last attempt's CURLcode: CURLE_OK (0) when
	                           an answer came, CURLE_OPERATION_TIMEDOUT ... */
	int attempts;
	double t_start, t_end;  /* our clock: when the last attempt began, ended */
};

/* A handle on c's server: c's provider, base URL and key are read at
 * the first transfer (bt_config_input may change them until then), and
 * the key checked then (bt_config_need_key). */
struct bt_http *bt_http_new(struct bt_config *c);
/* The boundary of multipart bodies (bt_req.form). */
const char *bt_http_boundary(struct bt_http *h);
void bt_http_free(struct bt_http *h);
/* One call with the retry rule, run to its end.  Returns 0 on a 2xx; -1
 * otherwise with resp->err set.  resp is overwritten, not freed: free the
 * body of an earlier call with bt_resp_free before reusing it.  Retries
 * stop when the next would pass the budget: $BT_RETRY_BUDGET, or
 * BT_RETRY_BUDGET seconds from the first attempt. */
int bt_http(struct bt_http *h, const struct bt_req *req, struct bt_resp *resp);
void bt_resp_free(struct bt_resp *resp);
/* GET/POST returning a parsed JSON object, or jv_invalid() with resp->err */
jv bt_http_json(struct bt_http *h, const char *method, const char *path,
                struct bt_resp *resp);
/* The server's clock, learnt from the Date headers of its answers (a
 * second's resolution): its time less ours lies in [*lo, *hi].  -1 when
 * no answer has said yet.  Every transfer feeds it. */
int bt_http_clock(const struct bt_http *h, double *lo, double *hi);
/* A Date seen, with our times just before the request and just after
 * the answer (a date of -1 is ignored). */
void bt_http_clock_seen(struct bt_http *h, double date, double sent, double got);
/* An HTTP date (IMF-fixdate) as seconds since the epoch, or -1. */
double bt_http_date(const char *s);

/* The engine: many transfers at once, at most parallel attempts in
 * flight, over kept-alive connections (HTTP/2 multiplexed where the
 * server offers it), each retried by the one rule.  A program adds
 * transfers and turns bt_engine_run; each transfer's done is called once,
 * from bt_engine_run, when it succeeded (rc 0: a 2xx) or failed for good
 * (rc -1, resp->err says why).  resp belongs to the engine: take its body
 * by moving it out (and zeroing resp->body). */
struct bt_engine;
struct bt_xfer;
typedef void bt_done_fn(int rc, struct bt_resp *resp, void *arg);
struct bt_engine *bt_engine_new(struct bt_http *h, int parallel);
void bt_engine_free(struct bt_engine *e);
/* Queue a transfer; req is copied (its path too), but its body, file,
 * label and the callbacks' args must live until done. */
struct bt_xfer *bt_engine_add(struct bt_engine *e, const struct bt_req *req,
                              bt_done_fn *done, void *arg);
/* Start no attempt before bt_mono() reaches until (a rate limit). */
void bt_engine_hold(struct bt_engine *e, double until);
/* Start what is due, wait for progress (at most wait seconds, less when
 * a retry falls due; extra descriptors wake it too), move it on, and call
 * done for what ended.  Returns how many transfers are added and not
 * yet done.  With nothing in flight it sleeps until wait has passed (or
 * a retry or the hold falls due, an extra descriptor is ready, a signal
 * comes): it never returns early only to be called again. */
size_t bt_engine_run(struct bt_engine *e, double wait, struct curl_waitfd *extra,
                     unsigned nextra);
/* Give up the transfers that wait for a retry, or to start: each one's
 * done is called now with rc BT_ABANDONED.  Attempts in flight go on.
 * For a program stopping on a signal: a retry may be minutes away. */
#define BT_ABANDONED (-2)
size_t bt_engine_abandon_waiting(struct bt_engine *e);

/* ---- ratelimit.c: the synchronous API's rate limits, on our side ----- */

enum { BT_LIM_REQUESTS, BT_LIM_INPUT, BT_LIM_OUTPUT };
struct bt_bucket {
	double user;            /* the user's ceiling per minute; 0: none */
	double server;          /* the server's, from its -limit headers; 0 */
	double limit;           /* the tighter of the two; 0: no bucket */
	double level;           /* what may be taken now */
	double remaining;       /* the server's last -remaining; -1 */
	double untracked;       /* taken while no limit was known */
};
struct bt_limits {
	struct bt_bucket b[3];  /* requests, input tokens, output tokens */
	double at;              /* bt_mono() the levels were brought to */
};
/* Buckets with the user's ceilings per minute (0: none until the server
 * says), full, refilled continuously at limit/60 a second. */
void bt_limits_init(struct bt_limits *l, double rpm, double itpm, double otpm);
/* Seconds until a request needing need[] (1, input tokens, max_tokens)
 * may start; 0 now. */
double bt_limits_wait(struct bt_limits *l, const double need[3]);
/* It starts: take what it needs. */
void bt_limits_take(struct bt_limits *l, const double need[3]);
/* An answer's header (any; the anthropic-ratelimit-* ones count): a
 * -limit sets the server's ceiling, a -remaining brings the level down. */
void bt_limits_header(struct bt_limits *l, const char *name, size_t nlen,
                      const char *val, size_t vlen);
/* A 429: the server's buckets are empty, whatever ours thought. */
void bt_limits_backoff(struct bt_limits *l, double seconds);

/* ---- api.c: the Message Batches API, call by call --------------------- */

#define BT_BATCH_ID_MAX 128

/* 1 when s[0..n) is a batch id: "msgbatch_" and then letters, digits, '_'
 * or '-', at most BT_BATCH_ID_MAX - 1 bytes in all.  The API's ids are
 * msgbatch_ and letters and digits; the rest is room for it to change. */
int bt_batch_id_ok(const char *s, size_t n);
/* A line of a batches stream: a bare batch id, or a MessageBatch object
 * (a JSON object, UTF-8, with a batch id as "id" and, if it has a "type",
 * "message_batch").  Fills id; *batch is the object when the line was one
 * (else jv_invalid()).  -1 with err when the line is neither (the line
 * quoted by bt_quote). */
int bt_batch_ref(const char *s, size_t n, char id[BT_BATCH_ID_MAX], jv *batch,
                 char *err, size_t errsz);
/* GET, cancel, DELETE one batch: the answer, or jv_invalid() with resp->err. */
jv bt_batch_get(struct bt_http *h, const char *id, struct bt_resp *resp);
jv bt_batch_cancel(struct bt_http *h, const char *id, struct bt_resp *resp);
jv bt_batch_delete(struct bt_http *h, const char *id, struct bt_resp *resp);
/* A string field of b (borrowed) copied to out; -1 when absent. */
int bt_batch_field(jv b, const char *field, char *out, size_t outsz);
/* request_counts.WHICH of b (borrowed), or "total": all five summed (an
 * absent or null count is 0).  -1: no request_counts; -2: a count that is
 * not a whole number in [0, BT_COUNT_MAX] (1e300, NaN, -1, "7"): a bad
 * answer. */
long long bt_batch_count(jv b, const char *which);
#define BT_COUNT_MAX 9007199254740992.0     /* 2^53: exact in a double */
/* v (borrowed) as one compact line on stdout, written at once. */
void bt_print_json(jv v);

/* The batch list, a page at a time, newest first: one reader for bt-list
 * and reconciliation, that fails loudly on a page it cannot trust (no
 * data array, no has_more, an empty page or no last_id with more, a
 * cursor that comes back) and stops after BT_PAGES_MAX pages. */
#define BT_PAGES_MAX 10000      /* 10,000 pages: 10 million batches at 1,000 */
#define BT_STR_(x) #x
#define BT_STR(x) BT_STR_(x)
struct bt_pages {
	struct bt_http *http;
	char after[BT_BATCH_ID_MAX];
	int more;
	long pages;
	struct bt_idset seen;   /* last_ids given */
};
void bt_pages_init(struct bt_pages *p, struct bt_http *h);
/* The next page's batches (*data, an array of objects, the caller's):
 * 1; 0 when there are no more; -1 with err (resp says more). */
int bt_pages_next(struct bt_pages *p, long long limit, jv *data, struct bt_resp *resp,
                  char *err, size_t errsz);
void bt_pages_free(struct bt_pages *p);

/* ---- provider.c: the provider seam (issue 19 §1, part "seam") ------- */

/* A provider is one table: everything bt knows of one batch API's wire.
 * Programs ask through the calls below and name none of its paths or
 * fields.  Only "anthropic" is built; "openai" is in the table, and
 * choosing it exits 2 "provider openai: not built yet". */
#define BT_PATH_MAX     (BT_BATCH_ID_MAX + 128)
/* bt's view of a batch: running, being canceled, or ended (and then its
 * counts say how: succeeded, errored, canceled, expired). */
enum { BT_BATCH_RUNNING, BT_BATCH_CANCELING, BT_BATCH_ENDED };
/* bt's classes of requests in a batch, in this order. */
enum { BT_COUNT_PROCESSING, BT_COUNT_SUCCEEDED, BT_COUNT_ERRORED,
       BT_COUNT_CANCELED, BT_COUNT_EXPIRED, BT_COUNTS };
enum { BT_TIME_CREATED, BT_TIME_EXPIRES, BT_TIME_ARCHIVED };

/* One create of a batch from a chunk file: the provider may take several
 * transfers for it (OpenAI: upload, then create). */
struct bt_create {
	const char *path;       /* the chunk file, for messages */
	const char *sha;        /* its SHA-256 (an upload's file name) */
	const char *endpoint;   /* OpenAI: its requests' url */
	int fd;                 /* open on it, seekable */
	off_t size;             /* its bytes */
	const char *nonce;      /* this attempt's tag; NULL: untagged */
	/* Anthropic tags the first custom_id: the file's bytes [splice_at,
	 * splice_at + splice_cut) go as splice (NULL: as they are). */
	const char *splice;
	off_t splice_at, splice_cut;
	/* Called just before the last bytes of the paid create go: until
	 * then no batch can have been made. */
	void (*body_end)(void *arg);
	/* A file uploaded for the create (OpenAI): its id, to be journaled
	 * and reused by a retry; "" when none.  uploaded() is called when
	 * it is set. */
	char *file_id;          /* the caller's, BT_BATCH_ID_MAX bytes */
	void (*uploaded)(void *arg);
	void *arg;
};

struct bt_config;
struct bt_provider {
	const char *name;               /* "anthropic", "openai" */
	int built;                      /* 0: "not built yet" */
	const char *env_key, *env_base, *default_base;  /* base without a '/' */
	const char *env_version, *default_version;      /* NULL: none */
	/* Another address of the same API (Azure OpenAI): when env_alt_base
	 * is set (and env_base is not), the base is it + alt_base_path, the key
	 * env_alt_key's, and every request carries alt_version_param=VERSION
	 * (env_alt_version, else default_alt_version).  NULL: none. */
	const char *env_alt_base, *alt_base_path, *env_alt_key;
	const char *env_alt_version, *default_alt_version, *alt_version_param;
	/* The header lines that carry the key (and the API version). */
	void (*auth)(const struct bt_config *c, struct curl_slist **h);
	/* Paths under the base; %s is a batch id. */
	const char *batch_path, *cancel_path, *delete_path;
	const char *list_path, *list_after;     /* list: ?limit=N&AFTER=ID */
	long long list_limit_max;
	const char *send_path;                  /* one request, synchronously */
	const char *line_url_base;              /* a request line's url is under
	                                           this, the base URL's own path */
	const char *count_tokens_path;          /* NULL: none */
	const char *ratelimit_prefix;           /* rate-limit headers */
	long long max_requests, max_bytes;      /* a batch's limits */
	long long envelope;                     /* create body = chunk + this */
	const char *id_prefix;                  /* the batch-id rule */
	const char *object_field, *object_type; /* a batch object's "type":
	                                           "message_batch", "object": "batch" */
	/* The names of its batch object's fields, for messages. */
	const char *status_field, *counts_field;
	const char *created_field, *expires_field, *archived_field; /* NULL: none */
	int (*state)(jv b);                     /* BT_BATCH_*, -1: no status */
	int (*counts)(jv b, long long c[BT_COUNTS]);
	double (*time)(jv b, const char *field, char *out, size_t outsz);
	/* The downloads that hold a batch's results (at most 2). */
	int (*results)(jv b, const char *id, char paths[][BT_PATH_MAX]);
	/* Create a batch: 0 with the batch object's text in resp->body, or
	 * -1 as bt_http (resp->ambiguous: it may have been made). */
	int (*create)(struct bt_http *h, struct bt_create *cr, struct bt_resp *resp);
	/* The tag (nonce) a create put on the batch object itself (OpenAI's
	 * metadata): 0 with it, -1 with none.  NULL: creates tag the first
	 * custom_id instead (bt_tag_id), proved by the results. */
	int (*tag)(jv b, char *out, size_t outsz);
	/* Whether the batch failed as a whole (OpenAI: "failed" validation),
	 * and why in out, lines named by custom_id when chunk (NULL: not
	 * known) is the file it was made from.  NULL: it never does. */
	int (*failure)(jv b, const char *chunk, char *out, size_t outsz);
};
/* The provider named, or NULL. */
const struct bt_provider *bt_provider_find(const char *name);
/* Use the provider named (what: the option or variable, for messages);
 * exit 2 when there is none, or it is not built. */
const struct bt_provider *bt_provider_use(const char *name, const char *what);
/* The provider in use: BT_PROVIDER (read by bt_config_init), else
 * anthropic. */
const struct bt_provider *bt_provider(void);
/* b (borrowed) in bt's terms: BT_BATCH_* (-1: no status). */
int bt_batch_state(jv b);
/* Its counts in bt's classes: 0; -1 with none; -2 when a count is not a
 * whole number in [0, BT_COUNT_MAX] (that c[i] is -2, the others good). */
int bt_batch_counts(jv b, long long c[BT_COUNTS]);
/* A time of b (BT_TIME_*): seconds since the epoch, and the text the API
 * gave in out (when not NULL); -1 when b has none. */
double bt_batch_time(jv b, int which, char *out, size_t outsz);
/* A path of the provider's (bt_provider()->batch_path ...) for batch id. */
void bt_batch_path(char out[BT_PATH_MAX], const char *fmt, const char *id);
/* The paths of b's result downloads (b borrowed; id its id): how many. */
int bt_batch_results(jv b, const char *id, char paths[][BT_PATH_MAX]);
/* b (borrowed) in bt's terms, whatever its provider: {"id", "provider",
 * "state": "in_progress"|"canceling"|"ended", "counts": {processing,
 * succeeded, errored, canceled, expired}, "created_at", "expires_at"
 * (RFC 3339, or null)}.  bt-wait --summary prints it. */
jv bt_batch_summary(jv b);
/* Where the request r (read by bt_request_read) goes synchronously: the
 * provider's send_path, or an OpenAI line's url under the base URL (for
 * Azure OpenAI, c->alt, under /deployments/MODEL; static storage). */
const char *bt_send_path(const struct bt_config *c, const struct bt_request *r);
/* Whether b failed as a whole: 1 with why in out (see ->failure). */
int bt_batch_failure(jv b, const char *chunk, char *out, size_t outsz);
/* Create a batch from a chunk, as the provider does. */
int bt_batch_create(struct bt_http *h, struct bt_create *cr, struct bt_resp *resp);

/* ---- journal.c: the journal, the registry of journals, adoptions ---- */

/* A journal is a directory of records NAME.json (one JSON object each,
 * replaced whole) with lock files NAME.lock. */
/* The record, or jv_invalid() when there is none; a damaged one exits 1. */
jv bt_journal_read(const char *dir, const char *name);
/* Replace the record with rec (borrowed); exits 1 when it cannot. */
void bt_journal_write(const char *dir, const char *name, jv rec);
/* Take the record's lock, waiting for it; the descriptor to close. */
int bt_journal_lock(const char *dir, const char *name);
/* 1 when another process holds the record's lock now. */
int bt_journal_busy(const char *dir, const char *name);
/* Remove temporary files (NAME.tmp.PID, .spool.PID.*) of dead processes. */
void bt_journal_clean(const char *dir);
/* fn on each record of dir (rec is fn's to free); stops at fn's nonzero
 * result and returns it.  A missing dir has no records. */
int bt_journal_each(const char *dir, int (*fn)(const char *dir, const char *name,
                                                jv rec, void *arg), void *arg);

/* The registry: $XDG_STATE_HOME/bt, default ~/.local/state/bt; NULL
 * when neither is set (then there is no registry, and nothing is noted). */
char *bt_registry_dir(void);
/* Note a journal directory (made absolute) as one of this machine's. */
void bt_registry_add(const char *journal_dir);
/* Every journal directory noted, extra (when not NULL) first; a
 * NULL-terminated list to free with bt_strv_free. */
char **bt_registry_journals(const char *extra);
void bt_strv_free(char **v);
/* Marks of batches adopted provisionally (registry/adopted/BATCH.json):
 * the mark, or jv_invalid(); put returns -1 when there is no registry. */
jv bt_adopted_get(const char *batch_id);
int bt_adopted_put(const char *batch_id, jv mark);
void bt_adopted_drop(const char *batch_id);
/* The batch of a provisional mark (borrowed) proved its chunk's: its
 * journal record says so, and the mark goes. */
void bt_adopted_confirm(const char *batch_id, jv mark);
/* It proved another's: the record goes back to "failed" (the next
 * bt-submit sends the chunk again), the batch is kept among its
 * superseded (no journal here takes it again), and the mark says
 * "disowned", for good. */
void bt_adopted_disown(const char *batch_id, jv mark, const char *why);

/* A list of custom_ids and its digest: the SHA-256 of the ids sorted,
 * each followed by a newline.  Two batches with the same digest have the
 * same set of custom_ids. */
struct bt_idlist {
	char **v;
	size_t n, cap;
};
void bt_idlist_add(struct bt_idlist *l, const char *id, size_t n);
void bt_idlist_digest(struct bt_idlist *l, char out[65]);
void bt_idlist_free(struct bt_idlist *l);

/* ---- journal.c: bt-submit's record, typed (issue 19 §3, part "seam") */

/* A create's window, on the server's clock; -1: unknown. */
struct bt_win {
	double from;            /* the create began after this */
	double sent;            /* its body's last bytes went before this */
	double to;              /* its answer (or failure) came before this */
};
/* A record from before windows were kept: its "since" is our clock,
 * allowed this much skew. */
#define BT_LEGACY_SLACK 300.0

/* The members of a record a chunk: one struct, read and written by
 * journal.c alone (the JSON member names are there).  has says which
 * members the record holds: one absent is not written; a string NULL is
 * written null.  Members bt does not know stay in rest. */
enum {
	BT_JR_SHA256 = 1 << 0, BT_JR_TAG = 1 << 1, BT_JR_CHUNK = 1 << 2,
	BT_JR_REQUESTS = 1 << 3, BT_JR_BYTES = 1 << 4, BT_JR_ENDPOINT = 1 << 5,
	BT_JR_KEY_FP = 1 << 6, BT_JR_STATE = 1 << 7, BT_JR_SINCE = 1 << 8,
	BT_JR_WINDOW = 1 << 9, BT_JR_BATCH = 1 << 10, BT_JR_ERROR = 1 << 11,
	BT_JR_SUPERSEDED = 1 << 12, BT_JR_FIRST_ID = 1 << 13,
	BT_JR_IDS_SHA256 = 1 << 14, BT_JR_NONCES = 1 << 15,
	BT_JR_REJECTED = 1 << 16, BT_JR_PROVISIONAL = 1 << 17,
	BT_JR_CANDIDATES = 1 << 18, BT_JR_VERIFIED = 1 << 19, BT_JR_ALSO = 1 << 20,
	BT_JR_FILE_ID = 1 << 21,
	/* what every record bt-submit writes holds */
	BT_JR_RECORD = (1 << 17) - 1,
};
struct bt_jrec {
	unsigned has;           /* BT_JR_* */
	char *sha256, *tag, *chunk, *endpoint, *key_fp;
	long long requests, bytes;      /* bytes: of the create body */
	char *state;            /* "sending", "created", "failed" */
	char *since;            /* our clock: when the last create began */
	struct bt_win win;
	jv batch;               /* the batch object (jv_null(): none) */
	char *error;
	jv superseded;          /* ids of batches made before --force */
	char *first_id, *ids_sha256;
	jv nonces, rejected;    /* arrays of strings */
	int provisional;        /* adopted on trust: bt-fetch checks it */
	jv candidates;          /* the batches adopted so, objects */
	char *verified;         /* when its results proved it */
	jv also;                /* other batches proved its own (paid twice) */
	char *file_id;          /* the file uploaded for its create (OpenAI) */
	jv rest;                /* members bt does not know, as they were */
};
/* An empty record (nothing in has); jv members jv_invalid(). */
void bt_jrec_init(struct bt_jrec *r);
/* From its JSON object (consumed; anything else gives an empty record). */
void bt_jrec_from_json(struct bt_jrec *r, jv rec);
/* To its JSON object: the members in has, in the order bt writes them,
 * then rest. */
jv bt_jrec_json(const struct bt_jrec *r);
/* Read record name of dir: 1; 0 when there is none (r is then empty). */
int bt_jrec_read(const char *dir, const char *name, struct bt_jrec *r);
/* Replace it (exits 1 when it cannot). */
void bt_jrec_write(const char *dir, const char *name, const struct bt_jrec *r);
/* Set a string member to a copy of s (NULL: null); a jv member to v. */
void bt_jrec_set(char **field, const char *s);
void bt_jrec_setjv(jv *field, jv v);
/* Its window: 0; -1 for a record from before windows (w->from is then
 * its "since" less BT_LEGACY_SLACK, or -1). */
int bt_jrec_window(const struct bt_jrec *r, struct bt_win *w);
/* Its batch's id: 0, or -1 when it holds none. */
int bt_jrec_batch_id(const struct bt_jrec *r, char id[BT_BATCH_ID_MAX]);
void bt_jrec_free(struct bt_jrec *r);

/* ---- claim.c: the tag of a create, and claims on batches ------------- */

/* Each create of a chunk draws a nonce; its first request goes under a
 * tagged custom_id that carries it, so that the batch's results prove
 * which create made it (bt.7, RECONCILIATION). */
#define BT_NONCE_LEN 16
/* 16 random hex digits. */
void bt_nonce(char out[BT_NONCE_LEN + 1]);
/* The custom_id id is sent under by the create with nonce: at most 44
 * bytes of id, "-bt", the nonce (63 bytes at most, the API's pattern). */
void bt_tag_id(const char *id, const char *nonce, char out[BT_ID_MAX + 1]);
/* A claim (an object: endpoint, journal, record, chunk, requests,
 * ids_sha256, first_id, nonces, state "made" or "provisional") that
 * batch_id may be the batch of a journal record, in the registry's
 * claims/BATCH/; -1 when there is no registry. */
int bt_claim_put(const char *batch_id, jv claim);        /* claim borrowed */
void bt_claim_drop(const char *batch_id, jv claim);      /* claim borrowed */
/* The chunk's custom_ids beside a claim (CLAIM.ids, one a line), so that
 * bt-fetch checks each result as it streams it; load returns -1 when
 * there are none. */
int bt_claim_put_ids(const char *batch_id, jv claim, const struct bt_idlist *ids);
int bt_claim_ids(const char *batch_id, jv claim, struct bt_idset *set);
/* Every claim on batch_id made against endpoint: an array. */
jv bt_claims_get(const char *batch_id, const char *endpoint);
/* Whether results whose custom_ids are ids prove claim (borrowed) theirs:
 * a tagged claim needs one of its tags among them, in place of its first
 * id; then the set, with the tag read as the first id, must be the
 * chunk's.  When proved by a tag, tagged gets it (to be written back as
 * the first id); else "".  ids keeps its ids (sorted). */
int bt_claim_proved(jv claim, struct bt_idlist *ids, char *tagged, size_t tagsz);
/* Settle the claim in its record (locked): proved, the record takes the
 * batch for good; not, the record lets it go, and when no candidate is
 * left it goes back to "failed" with why (returns 1: the chunk must be
 * sent again); else 0.  The claim is kept, its state "proved" or
 * "rejected". */
int bt_claim_settle(const char *batch_id, jv claim, int proved, const char *why);

/* ---- reconcile.c: a chunk's journaled create, and reconciliation ---- */
/* (issue 19 §3, part "seam": moved here from bin/bt-submit.c) */

#define BT_RECONCILE_GRACE  60.0    /* a batch is made at most this long
                                       after its body went (seconds;
                                       $BT_RECONCILE_GRACE overrides) */
#define BT_RECONCILE_GAP    2.0     /* between the two looks at the list */

/* One bt-submit run: where it sends, and how. */
struct bt_submit {
	const struct bt_config *cfg;
	struct bt_http *http;   /* NULL with dry_run */
	int force, dry_run;     /* --force, --dry-run */
	const char *tag;        /* --tag: a namespace in the journal */
	const char *adopt_id;   /* --adopt */
	int adopted;            /* chunks --adopt was used for */
	char *journal_dir, *journal_abs;
	char key_fp[17];        /* where we send: bt_endpoint_fp */
	double grace, look_gap; /* BT_RECONCILE_GRACE, BT_RECONCILE_GAP */
	int failed;             /* a chunk failed (said on stderr) */
};

/* A chunk to send. */
struct bt_chunk {
	struct bt_submit *s;
	const char *path;
	const char *where;          /* "stdin:LINE" or NULL, for messages */
	char sha[65];
	long long requests, bytes;  /* bytes of the file; the body has 14 more */
	jv superseded;              /* ids of batches made for it before --force */
	jv nonces;                  /* of every create of it, oldest first */
	jv rejected;                /* batches its results proved not its own */
	char first_id[BT_ID_MAX + 1];  /* the first request's custom_id, */
	off_t first_at, first_len;  /* its value's bytes in the file ("..."), */
	int taggable;               /* and whether creates tag it */
	char url[BT_URL_MAX];       /* OpenAI: its requests' endpoint */
	char file_id[BT_BATCH_ID_MAX];  /* OpenAI: the file uploaded for it */
	char ids[65];               /* the digest of its custom_ids */
	struct bt_idlist idl;       /* and the ids themselves (sorted) */
	char nonce[BT_NONCE_LEN + 1];  /* this create's; "" when untagged */
	char key[160];              /* its journal record: [TAG.]SHA256.ENDPOINT */
	char since[32];             /* our clock: when the last create began */
	struct bt_win win;
};
/* Submit c (checked, its facts filled, win all -1): its batch printed
 * (made now, or before and journaled, or found by reconciliation, or the
 * candidates adopted provisionally), or a failure said and c->s->failed
 * set.  Input it cannot use exits 2. */
void bt_submit_chunk(struct bt_chunk *c);
/* "PATH: message" on stderr, and c->s->failed set. */
void bt_chunk_fail(const struct bt_chunk *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- cost.c: prices, the estimate rule, and what a job costs ---------- */

/* Money, exact: micro-dollars plus rem/BT_USD_DEN of one (0 <= rem <
 * BT_USD_DEN).  Tokens × a price in whole micro-dollars per million
 * tokens × the batch and cache factors (multiples of 1/40) land on it
 * exactly; rounding happens only when a figure is printed. */
#define BT_USD_DEN 40000000LL
struct bt_usd {
	long long micro, rem;
};
void bt_usd_add(struct bt_usd *a, struct bt_usd b);
struct bt_usd bt_usd_sub(struct bt_usd a, struct bt_usd b);    /* a >= b */
/* Micro-dollars, rounded half up. */
long long bt_usd_micro(struct bt_usd a);
/* -1, 0, 1 as a is below, at or above micro micro-dollars (exactly). */
int bt_usd_cmp_micro(struct bt_usd a, long long micro);
/* Append "12.345679": dollars with 6 decimals, half up (a JSON number). */
void bt_usd_json(struct bt_buf *b, struct bt_usd a);
/* "$12.35": rounded half up to the cent, for people. */
void bt_usd_cents(char out[32], struct bt_usd a);
/* Parse dollars ("10", "10.5", "$0.000001": at most 6 decimals) into
 * micro-dollars; -1 when s is not that. */
int bt_usd_parse(const char *s, long long *micro);

/* Prices per million tokens of the standard (synchronous) API; batch is
 * half, a cache write 1.25× input, a cache read 0.1× input. */
#define BT_PRICE_MAX 1000   /* dollars per million tokens, at most */
/* Token counts: input, output, cache write (5 minutes), cache read,
 * cache write (1 hour). */
enum { BT_TOK_IN, BT_TOK_OUT, BT_TOK_WRITE, BT_TOK_READ, BT_TOK_WRITE_1H, BT_TOKENS };
struct bt_prices;
/* The built-in table plus user entries, which add to or replace it: those
 * of file (--prices) if not NULL, else of $BT_PRICES (JSON text when it
 * starts with '{', else a file name).  The format is a JSON object
 * {"MODEL":{"input":USD,"output":USD},...}; an entry may also say
 * "image_px" and "image_tokens" (see BT_IMAGE_PX), and "cached", its
 * price of a cached input token (else 0.1× input).  Bad prices exit 2. */
struct bt_prices *bt_prices_load(const char *file);
void bt_prices_free(struct bt_prices *p);
/* The prices of model (micro-dollars per million tokens): the entry named
 * exactly so, else the one named so without a dated suffix (-YYYYMMDD) or
 * -latest.  0, or -1 when there is none. */
int bt_price(const struct bt_prices *p, const char *model,
             long long *input, long long *output);
/* (issue 19, the result side) A model's own rate for cached input (OpenAI's
 * table, or "cached" in a prices file): 0, or -1 when it has none (cache
 * reads are then 0.1× input).  A model named with OpenAI's -YYYY-MM-DD
 * suffix is found by its name without it, as with -YYYYMMDD. */
int bt_price_cached(const struct bt_prices *p, const char *model, long long *cached);

/* The estimate rule, bt-mock's count_tokens rule: ceil(bytes / 4) over the
 * system text (a string or text blocks), each message's text (string
 * content or text blocks; tool_use input and tool_result content as
 * compact JSON; a document's plain text) and the compact JSON of tools,
 * plus images and PDFs by media.c's rule; at least 1.  params is
 * borrowed. */
long long bt_cost_estimate_input(jv params);
/* The estimate of params (borrowed) for the price table p (NULL: the
 * built-in image rule), into t[BT_TOK_IN], t[BT_TOK_WRITE] and
 * t[BT_TOK_WRITE_1H]: the input up to and with the last block marked
 * cache_control (tools, system, messages, in that order) counts as a
 * cache write, an hour's when any mark says "ttl":"1h"; text by the
 * bytes / 4 rule, images and PDFs by media.c's rule. */
void bt_cost_estimate(const struct bt_prices *p, jv params, long long t[BT_TOKENS]);
/* The image and PDF tokens of params (borrowed) by the built-in rule. */
long long bt_media_tokens(jv params);
/* The image rule of model: the long edge images are scaled to fit, and
 * the most tokens an image counts (BT_IMAGE_PX, BT_IMAGE_TOKENS unless
 * the table says image_px, image_tokens). */
void bt_price_image(const struct bt_prices *p, const char *model, long *px,
                    long long *cap);
/* The bytes that rule counts in params (borrowed): the text of system and
 * of every message's content (text blocks; tool_use input and tool_result
 * content as compact JSON) and the compact JSON of tools.  *system, when
 * given, gets the system prompt's share.  bt-mock counts tokens by it. */
size_t bt_input_bytes(jv params, size_t *system);
/* A request line: checked as bt_request_check does, with params.model a
 * string and params.max_tokens a whole number >= 1.  0 with *params (the
 * caller frees it) and *max_tokens, or -1 with err. */
int bt_cost_request(const char *s, size_t n, jv *params, long long *max_tokens,
                    char *err, size_t errsz);

/* A job's tokens, model by model.  tokens[]: input, output, cache write
 * (5 minutes), cache read, cache write (1 hour). */
/* usage.service_tier; BT_TIER_CACHED: an answer the response store gave
 * (bt-cache get), not billed */
enum { BT_TIER_BATCH, BT_TIER_STANDARD, BT_TIER_CACHED };
struct bt_cost_row {
	char *model;                /* as the request or result names it */
	int tier;                   /* BT_TIER_*: which prices were paid */
	long long in_price, out_price;  /* standard, micro-dollars per million */
	long long requests, tokens[BT_TOKENS];
	long long read_price;       /* cache reads at their own rate; -1: 0.1× in_price */
};
struct bt_cost {
	const struct bt_prices *prices;     /* set before the first add */
	struct bt_cost_row *rows;
	size_t n, cap;
};
/* Count one request of model, answered at tier, with these tokens: its
 * row (one a model and tier), or NULL when no price is known for model. */
struct bt_cost_row *bt_cost_add(struct bt_cost *c, const char *model, int tier,
                                const long long tokens[BT_TOKENS]);
/* Count a request line as an estimate: the estimate rule for input,
 * max_tokens for output.  0, or -1 with err (a bad line, an unknown
 * model). */
int bt_cost_add_request(struct bt_cost *c, const char *s, size_t n,
                        char *err, size_t errsz);
/* Rows in order of model name, then tier. */
void bt_cost_sort(struct bt_cost *c);
/* A row's cost at batch and at standard prices, and the batch cost of its
 * input side alone (input and cache tokens); any may be NULL. */
void bt_cost_price_row(const struct bt_cost_row *r, struct bt_usd *batch,
                       struct bt_usd *standard, struct bt_usd *input_only);
void bt_cost_free(struct bt_cost *c);

#endif
