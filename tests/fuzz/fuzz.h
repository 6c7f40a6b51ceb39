/* fuzz.h — what the fuzz harnesses share.
 *
 * Each harness (tests/fuzz/NAME.c) defines LLVMFuzzerTestOneInput and is
 * built twice: with clang's libFuzzer for `make fuzz`, and with replay.c
 * and the normal compiler for `make check`, which runs the seed corpus
 * (tests/fuzz/corpus/NAME/) through it.  A disagreement between two
 * things that must agree is reported by MUST, which aborts, so that the
 * fuzzer keeps the input and the replay fails.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *file, int line, const char *cond,
                      const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5), unused));
static void fuzz_fail(const char *file, int line, const char *cond,
                      const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: MUST (%s) failed: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* MUST(cond, "what, printf style", ...) */
#define MUST(cond, ...) \
	((cond) ? (void)0 : fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__))

/* v (borrowed) as bt_json_write writes it, in b (emptied first). */
static const char *fuzz_json(struct bt_buf *b, jv v) __attribute__((unused));
static const char *fuzz_json(struct bt_buf *b, jv v)
{
	b->len = 0;
	bt_json_write(b, v);
	return bt_buf_str(b);
}

/* Two buffers with the same bytes. */
static int fuzz_same_bytes(const struct bt_buf *a, const struct bt_buf *b)
	__attribute__((unused));
static int fuzz_same_bytes(const struct bt_buf *a, const struct bt_buf *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len));
}

#endif
