/* bt-list — the workspace's batches, newest first */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bt.h"

#define PAGE_MAX 1000   /* the API's largest page */

static struct {
	struct bt_config cfg;
	struct bt_http *http;
	struct bt_resp resp;
	jv page;
} listing;

static void usage(FILE *f, int status)
{
	fprintf(f, "usage: bt-list [-v] [-n N] [--status in_progress|canceling|ended]\n"
	           "               [--page-size N] [--api-key-file FILE]\n");
	exit(status);
}

static void cleanup(void)
{
	jv_free(listing.page);
	listing.page = jv_null();
	bt_resp_free(&listing.resp);
	bt_http_free(listing.http);
	listing.http = NULL;
	bt_config_free(&listing.cfg);
}

/* The page's data, checked: an array, has_more a boolean, and last_id a
 * string when there is more.  Dies with exit 1 otherwise. */
static jv check_page(jv page, const char *path, int *more, char *last, size_t lastsz)
{
	jv data = jv_object_get(jv_copy(page), jv_string("data"));
	jv hm = jv_object_get(jv_copy(page), jv_string("has_more"));
	const char *why = NULL;

	if (jv_get_kind(data) != JV_KIND_ARRAY)
		why = "no \"data\" array";
	else if (jv_get_kind(hm) != JV_KIND_TRUE && jv_get_kind(hm) != JV_KIND_FALSE)
		why = "no \"has_more\" boolean";
	else if ((*more = jv_get_kind(hm) == JV_KIND_TRUE) &&
	         (bt_batch_field(page, "last_id", last, lastsz) < 0 || !*last))
		why = "\"has_more\" without a \"last_id\"";
	jv_free(hm);
	if (why) {
		jv_free(data);
		bt_die(BT_EXIT_FAIL, "GET %s: bad answer: %s%s%s", path, why,
		       listing.resp.request_id[0] ? " request-id " : "", listing.resp.request_id);
	}
	return data;
}

/* Over 80 lines: the option table and its switch, a line an option. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, 0, 's' },
		{ "page-size", required_argument, 0, 'p' },
		{ "api-key-file", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	const char *keyfile = NULL, *status = NULL;
	long long max = -1, printed = 0, page_size = PAGE_MAX, limit;
	char last[BT_BATCH_ID_MAX] = "", prev[BT_BATCH_ID_MAX], path[256], st[32];
	int c, more, i, n;
	jv data, b;

	bt_init(argv);
	listing.page = jv_null();
	while ((c = getopt_long(argc, argv, "hvn:", opts, NULL)) != -1)
		switch (c) {
		case 'n': max = bt_num(optarg, 1, 1000000000000LL, "-n"); break;
		case 's':
			if (strcmp(optarg, "in_progress") && strcmp(optarg, "canceling") &&
			    strcmp(optarg, "ended"))
				bt_die(BT_EXIT_USAGE, "--status: '%s' is not in_progress, canceling or ended", optarg);
			status = optarg;
			break;
		case 'p': page_size = bt_num(optarg, 1, PAGE_MAX, "--page-size"); break;
		case 'k': keyfile = optarg; break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;
	if (argc > 0)
		usage(stderr, BT_EXIT_USAGE);

	bt_config_init(&listing.cfg);
	atexit(cleanup);
	if (keyfile)
		bt_config_key_file(&listing.cfg, keyfile);
	bt_config_need_key(&listing.cfg);
	listing.http = bt_http_new(&listing.cfg);

	do {
		/* without a filter, no more than will be printed */
		limit = page_size;
		if (max > 0 && !status && max - printed < limit)
			limit = max - printed;
		n = snprintf(path, sizeof path, "/v1/messages/batches?limit=%lld", limit);
		if (last[0])
			snprintf(path + n, sizeof path - (size_t)n, "&after_id=%s", last);
		jv_free(listing.page);
		bt_resp_free(&listing.resp);     /* bt_http forgets it otherwise */
		listing.page = bt_http_json(listing.http, "GET", path, &listing.resp);
		if (!jv_is_valid(listing.page))
			bt_die(BT_EXIT_FAIL, "%s", listing.resp.err);
		memcpy(prev, last, sizeof prev);
		data = check_page(listing.page, path, &more, last, sizeof last);
		if (more && !strcmp(prev, last)) {
			jv_free(data);
			bt_die(BT_EXIT_FAIL, "GET %s: bad answer: the cursor did not move", path);
		}
		for (i = 0; i < jv_array_length(jv_copy(data)) && printed != max; i++) {
			b = jv_array_get(jv_copy(data), i);
			if (jv_get_kind(b) != JV_KIND_OBJECT) {
				jv_free(b);
				jv_free(data);
				bt_die(BT_EXIT_FAIL, "GET %s: bad answer: data[%d] is not a batch", path, i);
			}
			if (!status || (bt_batch_field(b, "processing_status", st, sizeof st) == 0 &&
			                !strcmp(st, status))) {
				bt_print_json(b);
				printed++;
			}
			jv_free(b);
		}
		jv_free(data);
	} while (more && printed != max);
	bt_close_stdout();
	return BT_EXIT_OK;
}
