/* tap.h — TAP for the C unit tests.
 *
 *   ok(cond, "name %d", i);
 *   is_str(got, want, "name");
 *   is_int(got, want, "name");
 *   return done_testing();
 */
#ifndef TAP_H
#define TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failed;

static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5), unused));
static int tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   failed at %s line %d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static void tap_show(const char *what, const char *s, size_t n)
{
	size_t i;

	printf("#   %s: \"", what);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == '"')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	printf("\"\n");
}

static int tap_is_mem(const char *got, size_t gn, const char *want, size_t wn,
                      const char *file, int line, const char *name)
{
	int pass = got && gn == wn && memcmp(got, want, wn) == 0;

	tap_ok(pass, file, line, "%s", name);
	if (!pass) {
		if (got)
			tap_show("got", got, gn);
		else
			printf("#   got: NULL\n");
		tap_show("want", want, wn);
	}
	return pass;
}

static int tap_is_str(const char *got, const char *want, const char *file,
                      int line, const char *name) __attribute__((unused));
static int tap_is_str(const char *got, const char *want, const char *file,
                      int line, const char *name)
{
	return tap_is_mem(got, got ? strlen(got) : 0, want, strlen(want),
	                  file, line, name);
}

static int tap_is_int(long long got, long long want, const char *file,
                      int line, const char *name)
{
	int pass = got == want;

	tap_ok(pass, file, line, "%s", name);
	if (!pass)
		printf("#   got: %lld\n#   want: %lld\n", got, want);
	return pass;
}

#define ok(c, ...) tap_ok(!!(c), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(g, w, name) tap_is_str((g), (w), __FILE__, __LINE__, (name))
#define is_mem(g, gn, w, wn, name) tap_is_mem((g), (gn), (w), (wn), \
                                              __FILE__, __LINE__, (name))
#define is_int(g, w, name) tap_is_int((g), (w), __FILE__, __LINE__, (name))

static int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failed ? 1 : 0;
}

#endif
