/* request.c — either provider's request line, read by one function
 * (lib/request.c), and the providers by name */
#include <stdlib.h>
#include <string.h>
#include "bt.h"
#include "tap.h"

static struct bt_request req;
static char err[300];

/* bt_request_read of s: 0, or -1 with err. */
static int rd(const char *s)
{
	err[0] = 0;
	return bt_request_read(s, strlen(s), &req, err, sizeof err);
}

int main(void)
{
	const char *oa = "{\"custom_id\":\"r1\",\"method\":\"POST\",\"url\":\"/v1/embeddings\","
	                 "\"body\":{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}}";
	const char *an = "{\"custom_id\":\"a1\",\"params\":{\"max_tokens\":5,\"model\":\"m\"}}";
	char id[BT_ID_MAX + 1];

	is_int(bt_provider_from_name("anthropic"), BT_PROVIDER_ANTHROPIC, "anthropic by name");
	is_int(bt_provider_from_name("openai"), BT_PROVIDER_OPENAI, "openai by name");
	is_int(bt_provider_from_name("OpenAI"), -1, "names are exact");
	is_int(bt_provider_from_name(NULL), -1, "no name, no provider");
	is_str(bt_provider_name(BT_PROVIDER_OPENAI), "openai", "the name of openai");
	unsetenv("BT_PROVIDER");
	is_int(bt_provider_choose(NULL, "--provider"), BT_PROVIDER_ANTHROPIC, "default anthropic");
	setenv("BT_PROVIDER", "openai", 1);
	is_int(bt_provider_choose(NULL, "--provider"), BT_PROVIDER_OPENAI, "BT_PROVIDER decides");
	is_int(bt_provider_choose("anthropic", "--provider"), BT_PROVIDER_ANTHROPIC,
	       "the option wins over BT_PROVIDER");
	setenv("BT_PROVIDER", "", 1);
	is_int(bt_provider_choose(NULL, "--provider"), BT_PROVIDER_ANTHROPIC,
	       "an empty BT_PROVIDER is unset");

	is_int(rd(oa), 0, "an OpenAI line reads");
	is_int(req.provider, BT_PROVIDER_OPENAI, "as OpenAI's");
	is_str(req.id, "r1", "its custom_id");
	is_str(req.model, "text-embedding-3-small", "its body.model");
	is_str(req.url, "/v1/embeddings", "its url");
	ok(req.body && req.body_len == strlen("{\"model\":\"text-embedding-3-small\",\"input\":\"x\"}") &&
	   !memcmp(req.body, "{\"model\"", 8), "its body, within the line");

	is_int(rd(an), 0, "an Anthropic line reads");
	is_int(req.provider, BT_PROVIDER_ANTHROPIC, "as Anthropic's");
	is_str(req.model, "m", "its params.model");
	is_str(req.url, "", "and no url");
	ok(req.body_len == strlen("{\"max_tokens\":5,\"model\":\"m\"}"), "its params");

	is_int(rd("{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\","
	          "\"body\":{\"model\":\"gpt\\u002d4\",\"messages\":[]}}"), 0, "an escaped model");
	is_str(req.model, "gpt-4", "is read undone");
	is_int(rd("{\"custom_id\":\"r\",\"method\":\"P\\u004fST\",\"url\":\"/v1/embeddings\","
	          "\"body\":{\"model\":\"m\"}}"), 0, "an escaped method is POST all the same");

	is_int(rd("{\"custom_id\":\"r\",\"url\":\"/v1/embeddings\",\"body\":{\"model\":\"m\"}}"), -1,
	       "no method");
	is_str(err, "missing method", "says so");
	is_int(req.provider, BT_PROVIDER_OPENAI, "the shape is told even so");
	is_int(rd("{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":\"/v1/embeddings\","
	          "\"body\":{\"model\":\"\"}}"), -1, "an empty model");
	is_str(err, "body.model: a non-empty string of at most 256 bytes is required", "says so");
	is_int(rd("{\"custom_id\":\"r\",\"method\":\"POST\",\"url\":7,\"body\":{}}"), -1, "a url not a string");
	is_int(rd("{\"custom_id\":\"r\",\"params\":{},\"url\":\"x\"}"), -1, "params and url");
	is_str(err, "unknown member \"url\" (a request has only custom_id and params)",
	       "is an Anthropic line with a member too many");
	is_int(rd("{\"custom_id\":\"r\"}"), -1, "a custom_id alone");
	is_str(err, "missing params", "is an Anthropic line without params, as always");
	is_int(rd("[1]"), -1, "an array");
	is_int(req.provider, -1, "has no shape");

	is_int(bt_request_check(an, strlen(an), id, err, sizeof err), 0, "bt_request_check takes Anthropic's");
	is_str(id, "a1", "with its id");
	is_int(bt_request_check(oa, strlen(oa), id, err, sizeof err), -1, "not OpenAI's");
	is_str(err, "an OpenAI request (custom_id, method, url, body), where an Anthropic "
	       "one (custom_id, params) is read", "and says so");

	is_int(bt_request_peek(oa, strlen(oa), &req), 0, "a peek at an OpenAI line");
	ok(req.provider == BT_PROVIDER_OPENAI && !strcmp(req.model, "text-embedding-3-small") &&
	   !strcmp(req.url, "/v1/embeddings"), "gives its shape, model and url");
	is_int(bt_request_peek("nope", 4, &req), -1, "a peek at what is no object");

	{
		struct bt_chunk_key k = { 0 };
		struct bt_request a = { 0 }, b = { 0 };

		strcpy(a.model, "m1");
		strcpy(a.url, "/v1/embeddings");
		b = a;
		ok(bt_chunk_key_same(&k, &a), "an empty chunk takes any model");
		bt_chunk_key_set(&k, &a);
		ok(bt_chunk_key_same(&k, &b), "the same model and url join it");
		strcpy(b.model, "m2");
		ok(!bt_chunk_key_same(&k, &b), "another model does not");
		b = a;
		strcpy(b.url, "/v1/chat/completions");
		ok(!bt_chunk_key_same(&k, &b), "nor another url");
	}
	return done_testing();
}
