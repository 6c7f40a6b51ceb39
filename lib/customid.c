/* customid.c — the custom_id rule of the design, in one place */
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <openssl/evp.h>

#include "bt.h"

#define ID_KEEP 47  /* bytes of readable text kept before "-" and the hash */

static int id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

int bt_custom_id_ok(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > BT_ID_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!id_char((unsigned char)s[i]))
			return 0;
	return 1;
}

/* OpenSSL 3 looks EVP_sha256() up again on every call (0.4 us, a third
 * of hashing an 850-byte record): fetch it once. */
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	return sha256_md ? sha256_md : EVP_sha256();
}
#else
#define sha256 EVP_sha256
#endif

void bt_sha256(const void *p, size_t n, unsigned char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_Digest(p, n, md, &len, sha256(), NULL) || len != 32)
		bt_die(BT_EXIT_FAIL, "SHA-256 failed");
	memcpy(out, md, 32);
}

void bt_hex(const unsigned char *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = 0;
}

void bt_sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];

	bt_sha256(p, n, md);
	bt_hex(md, 32, out);
}

static void make_id(const char *s, size_t n, char out[BT_ID_MAX + 1])
{
	char hash[65];
	size_t i, keep;

	if (bt_custom_id_ok(s, n)) {
		memcpy(out, s, n);
		out[n] = 0;
		return;
	}
	keep = n < ID_KEEP ? n : ID_KEEP;
	for (i = 0; i < keep; i++)
		out[i] = id_char((unsigned char)s[i]) ? s[i] : '_';
	bt_sha256_hex(s, n, hash);
	out[keep] = '-';
	memcpy(out + keep + 1, hash, 16);
	out[keep + 17] = 0;
}

int bt_custom_id(jv v, char out[BT_ID_MAX + 1], char *err, size_t errsz)
{
	struct bt_buf b = { 0 };
	const char *what;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		if (jv_string_length_bytes(jv_copy(v)) == 0) {
			what = "the id is an empty string";
			break;
		}
		make_id(jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v)), out);
		return 0;
	case JV_KIND_NUMBER:
		bt_json_write_num(&b, jv_number_value(v));
		make_id(b.p, b.len, out);
		bt_buf_free(&b);
		return 0;
	case JV_KIND_NULL:
		what = "the id is null";
		break;
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		what = "the id is a boolean, not a string or number";
		break;
	case JV_KIND_OBJECT:
		what = "the id is an object, not a string or number";
		break;
	case JV_KIND_ARRAY:
		what = "the id is an array, not a string or number";
		break;
	default:
		what = "there is no id";
		break;
	}
	if (err && errsz)
		snprintf(err, errsz, "%s", what);
	return -1;
}

void bt_custom_id_num(unsigned long long n, const char *rec, size_t len,
                      char out[BT_ID_MAX + 1])
{
	char hash[65];

	bt_sha256_hex(rec, len, hash);
	/* at most 20 digits, '-', 8: 29 bytes */
	snprintf(out, BT_ID_MAX + 1, "%llu-%.8s", n, hash);
}

unsigned long long bt_custom_id_old(const char *id)
{
	unsigned long long n = 0;
	const char *s = id;

	if (*s < '1' || *s > '9')
		return 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (~0ULL - 9) / 10)
			return 0;
		n = n * 10 + (unsigned long long)(*s - '0');
	}
	return *s ? 0 : n;
}

/* ---- the id set ----
 *
 * Open addressing over FNV-1a.  The table probed on every add holds only
 * 8 bytes a slot (32 bits of the hash and where the entry is), so that
 * it stays in cache as long as it can.  An entry is one record, its line
 * and then its text, 8-byte aligned, in one block that grows: a lookup
 * that finds its id costs two cache misses (the slot, the record), not
 * three.  The slot is the low bits of the hash, so that growing walks
 * the old table in order and fills the new one nearly in order too,
 * without hashing again. */

struct bt_idset_slot {
	uint32_t hash;
	uint32_t entry;         /* the record's offset / 8, + 1; 0: empty */
};

#define REC_ALIGN 8

static uint32_t fnv(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return (uint32_t)(h ^ (h >> 32));
}

/* The record of a full slot: its line, and its text after it. */
static inline unsigned long long *rec(const struct bt_idset *s, uint32_t entry)
{
	return (unsigned long long *)(void *)(s->recs + (size_t)(entry - 1) * REC_ALIGN);
}

/* A record for id at line: its slot entry. */
static uint32_t keep(struct bt_idset *s, const char *id, unsigned long long line)
{
	size_t n = strlen(id) + 1, size = sizeof line + (n + REC_ALIGN - 1) / REC_ALIGN * REC_ALIGN;
	unsigned long long *r;
	size_t at = s->used;

	if (at + size > s->room) {
		s->room = s->room ? s->room * 2 : 64 * 1024;
		while (at + size > s->room)
			s->room *= 2;
		if (s->room / REC_ALIGN > UINT32_MAX)
			bt_die(BT_EXIT_FAIL, "ids of more than %zu bytes",
			       (size_t)UINT32_MAX * REC_ALIGN);
		s->recs = bt_realloc(s->recs, s->room);
	}
	r = (unsigned long long *)(void *)(s->recs + at);
	*r = line;
	memcpy(r + 1, id, n);
	s->used = at + size;
	return (uint32_t)(at / REC_ALIGN + 1);
}

static struct bt_idset_slot *find(const struct bt_idset *s, const char *id,
                                  uint32_t h)
{
	size_t i = h & (s->cap - 1);

	while (s->slots[i].entry) {
		if (s->slots[i].hash == h &&
		    !strcmp((const char *)(rec(s, s->slots[i].entry) + 1), id))
			return &s->slots[i];
		i = (i + 1) & (s->cap - 1);
	}
	return &s->slots[i];
}

/* Make room for want ids (cap a power of 2, at most 3/4 full): a new
 * table, the old one's slots moved over. */
static void grow_to(struct bt_idset *s, size_t want)
{
	struct bt_idset_slot *old = s->slots;
	size_t i, j, oldcap = s->cap, cap = oldcap ? oldcap : 1024;

	while (want * 4 > cap * 3) {
		if (cap > (size_t)UINT32_MAX)
			bt_die(BT_EXIT_FAIL, "more than %zu ids", cap / 4 * 3);
		cap *= 2;
	}
	if (cap == oldcap)
		return;
	s->cap = cap;
	s->slots = bt_calloc(s->cap, sizeof *s->slots);
	for (j = 0; j < oldcap; j++) {
		if (!old[j].entry)
			continue;
		i = old[j].hash & (s->cap - 1);
		while (s->slots[i].entry)
			i = (i + 1) & (s->cap - 1);
		s->slots[i] = old[j];
	}
	free(old);
}

void bt_idset_reserve(struct bt_idset *s, size_t n)
{
	grow_to(s, s->count + n);
}

unsigned long long bt_idset_add(struct bt_idset *s, const char *id,
                                unsigned long long line)
{
	struct bt_idset_slot *slot;
	uint32_t h = fnv(id);

	if (!s->cap || (s->count + 1) * 4 > s->cap * 3)
		grow_to(s, s->count + 1);
	slot = find(s, id, h);
	if (slot->entry)
		return *rec(s, slot->entry);
	slot->entry = keep(s, id, line);
	slot->hash = h;
	s->count++;
	return 0;
}

void bt_idset_prefetch(const struct bt_idset *s, const char *id)
{
	if (s->cap)
		__builtin_prefetch(&s->slots[fnv(id) & (s->cap - 1)]);
}

unsigned long long bt_idset_get(const struct bt_idset *s, const char *id)
{
	struct bt_idset_slot *slot;

	if (!s->cap)
		return 0;
	slot = find(s, id, fnv(id));
	return slot->entry ? *rec(s, slot->entry) : 0;
}

void bt_idset_free(struct bt_idset *s)
{
	free(s->slots);
	free(s->recs);
	memset(s, 0, sizeof *s);
}
