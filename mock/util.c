/* util.c — bt-mock's small helpers: the clock, hashes and ids, files */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mock.h"

int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * US + ts.tv_nsec / 1000 + opt_skew;
}

int64_t dur_us(const char *s, const char *what)
{
	double d = bt_duration(s, what);

	if (d > 1e12)
		bt_die(BT_EXIT_USAGE, "%s: %s is too long", what, s);
	return (int64_t)llround(d * US);
}

void nap(double sec)
{
	while (sec > 0 && !stopping) {
		bt_sleep(sec > 0.05 ? 0.05 : sec);
		sec -= 0.05;
	}
}

uint64_t hash_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

uint64_t hash_fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n--)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

double hash_unit(uint64_t h)
{
	return (double)(hash_mix(h) >> 11) / 9007199254740992.0;
}

uint64_t id_salt;

void id_salt_init(void)
{
	struct timespec ts;
	uint64_t r = 0;
	FILE *f = fopen("/dev/urandom", "rb");

	if (f) {
		if (fread(&r, sizeof r, 1, f) != 1)
			r = 0;
		fclose(f);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	id_salt = hash_mix(r ^ hash_mix((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
	                   hash_mix(0x706964ULL + (uint64_t)getpid()));
}

void make_id(char *out, size_t sz, const char *prefix, uint64_t h)
{
	make_name(out, sz, prefix, h ^ id_salt);
}

void batch_key(const struct batch *b, char *out)
{
	make_name(out, 40, "msgbatch_", hash_mix(opt_seed * 0x9e3779b97f4a7c15ULL) ^
	          hash_mix(b->seq));
}

void make_name(char *out, size_t sz, const char *prefix, uint64_t h)
{
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t i, n = strlen(prefix);

	if (sz < n + 25)
		abort();
	memcpy(out, prefix, n);
	for (i = 0; i < 24; i++) {
		h = hash_mix(h);
		out[n + i] = b62[h % 62];
	}
	out[n + 24] = 0;
}

char *path_of(const char *id, const char *ext)
{
	return bt_asprintf("%s/%s%s", opt_dir, id, ext);
}

int flush_buf(int fd, struct bt_buf *w, const char *path)
{
	if (w->len && bt_write_all(fd, w->p, w->len) < 0) {
		bt_warn("%s:", path);
		return -1;
	}
	w->len = 0;
	return 0;
}

void *map_file(int fd, size_t *size, const char *path)
{
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0) {
		bt_warn("%s:", path);
		return NULL;
	}
	*size = (size_t)st.st_size;
	if (!*size)
		return (void *)"";
	p = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		bt_warn("%s:", path);
		return NULL;
	}
	return p;
}

void unmap_file(void *p, size_t size)
{
	if (size)
		munmap(p, size);
}
