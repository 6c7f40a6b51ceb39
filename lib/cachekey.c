/* cachekey.c — the response store's key (issue 20): one rule, one place.
 *
 * A request is known by what it asks, not by its name: the SHA-256 of
 * the provider, the endpoint, the sample number and the canonical body
 * (keys sorted, no insignificant white space, numbers and strings as
 * bt_json_write prints them), custom_id left out.  The same question
 * under another id, in another job or another file, has the same key;
 * another model, max_tokens, temperature, system prompt, schema,
 * attachment or provider has another.
 */
#include <stdio.h>
#include <string.h>

#include "bt.h"

const char *bt_request_endpoint(const struct bt_request *r)
{
	return r->provider == BT_PROVIDER_OPENAI ? r->url : "/v1/messages";
}

int bt_cache_key(const struct bt_request *r, long long sample, struct bt_buf *pre,
                 size_t *body_at, unsigned char key[32], char *err, size_t errsz)
{
	pre->len = 0;
	bt_buf_printf(pre, "bt-cache-key 1\n%s\n%s\n%lld\n", bt_provider_name(r->provider),
	              bt_request_endpoint(r), sample);
	*body_at = pre->len;
	if (bt_json_canon(r->body, r->body_len, pre, err, errsz) < 0)
		return -1;
	bt_sha256(pre->p, pre->len, key);
	return 0;
}
