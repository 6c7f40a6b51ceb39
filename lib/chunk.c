/* chunk.c — cutting a stream of requests into batches: the one rule
 * (design.md, "Lifecycle rules"), for bt-split and bt-submit alike.  A
 * chunk takes requests in order until the next would pass the request or
 * the byte limit; a request bigger than the byte limit fits in none. */
#include <stdio.h>
#include <string.h>

#include "bt.h"

/* The smallest request line there can be, with its newline: a chunk
 * with less room than this is full. */
#define MIN_REQUEST 30

void bt_chunker_init(struct bt_chunker *c, long long max_requests, long long max_bytes)
{
	c->max_requests = max_requests;
	c->max_bytes = max_bytes;
	c->requests = c->bytes = 0;
}

int bt_chunker_place(struct bt_chunker *c, size_t n, char *err, size_t errsz)
{
	long long size = (long long)n + 1;

	if (size > c->max_bytes) {
		snprintf(err, errsz, "request is %zu bytes with its newline, more than "
		         "the chunk limit of %lld bytes", n + 1, c->max_bytes);
		return BT_CHUNK_TOO_BIG;
	}
	if (c->requests && (c->requests + 1 > c->max_requests ||
	                    c->bytes + size > c->max_bytes))
		return BT_CHUNK_NEXT;
	return BT_CHUNK_SAME;
}

void bt_chunker_add(struct bt_chunker *c, size_t n)
{
	c->requests++;
	c->bytes += (long long)n + 1;
}

int bt_chunker_full(const struct bt_chunker *c)
{
	return c->requests >= c->max_requests || c->bytes + MIN_REQUEST > c->max_bytes;
}

void bt_chunker_next(struct bt_chunker *c)
{
	c->requests = c->bytes = 0;
}

int bt_chunk_key_same(const struct bt_chunk_key *k, const struct bt_request *r)
{
	return !k->set || (!strcmp(k->model, r->model) && !strcmp(k->url, r->url));
}

void bt_chunk_key_set(struct bt_chunk_key *k, const struct bt_request *r)
{
	k->set = 1;
	memcpy(k->model, r->model, sizeof k->model);
	memcpy(k->url, r->url, sizeof k->url);
}
