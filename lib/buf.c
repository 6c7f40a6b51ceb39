/* buf.c — growable byte buffer */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

void bt_buf_grow(struct bt_buf *b, size_t extra)
{
	size_t need, cap = b->cap ? b->cap : 256;

	/* len + extra + 1 must not wrap past SIZE_MAX into a small "need" */
	if (extra > SIZE_MAX - 1 - b->len)
		bt_die(BT_EXIT_FAIL, "out of memory: a buffer of more than SIZE_MAX bytes asked for");
	need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	while (cap < need)      /* doubling past SIZE_MAX / 2 would wrap to 0 */
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->p = bt_realloc(b->p, cap);
	b->cap = cap;
}

void bt_buf_add(struct bt_buf *b, const void *p, size_t n)
{
	bt_buf_grow(b, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
}

void bt_buf_addc(struct bt_buf *b, int c)
{
	if (b->len + 1 >= b->cap)
		bt_buf_grow(b, 1);
	b->p[b->len++] = (char)c;
}

void bt_buf_adds(struct bt_buf *b, const char *s)
{
	bt_buf_add(b, s, strlen(s));
}

void bt_buf_printf(struct bt_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	bt_buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

const char *bt_buf_str(struct bt_buf *b)
{
	bt_buf_grow(b, 0);
	b->p[b->len] = 0;
	return b->p;
}

void bt_buf_free(struct bt_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
