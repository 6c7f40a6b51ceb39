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
	bt_usage(f, status, "usage: bt-list [-v] [-n N] [--status in_progress|canceling|ended]\n"
	           "               [--page-size N] [--provider NAME] [--api-key-file FILE]\n",
	"  -n N                       at most N batches (default all)\n"
	"  --status STATUS            only in_progress, canceling or ended batches\n"
	"  --page-size N              batches asked for a page, 1 to 1000 (OpenAI: 100)\n"
	"  --provider NAME            anthropic or openai (default $BT_PROVIDER, else anthropic)\n"
	"  --api-key-file FILE        the API key from FILE's first line\n"
	"  -v, --verbose              say what happens on stderr\n"
	"  -h, --help                 this help\n");
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

/* Over 80 lines: the option table and its switch, a line an option. */
int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, 0, 's' },
		{ "page-size", required_argument, 0, 'p' },
		{ "provider", required_argument, 0, 'P' },
		{ "api-key-file", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	const char *keyfile = NULL, *provider = NULL;
	int page_given = 0;
	int status = -1;        /* --status: BT_BATCH_*, -1 none */
	long long max = -1, printed = 0, page_size = PAGE_MAX, limit;
	char err[1200];
	struct bt_pages pages;
	int c, i, r;
	jv data, b;

	bt_init(argv);
	listing.page = jv_null();
	while ((c = getopt_long(argc, argv, "hvn:", opts, NULL)) != -1)
		switch (c) {
		case 'n': max = bt_num(optarg, 1, 1000000000000LL, "-n"); break;
		case 's':
			/* bt's three states, in the words of bt.7 */
			status = !strcmp(optarg, "in_progress") ? BT_BATCH_RUNNING :
			         !strcmp(optarg, "canceling") ? BT_BATCH_CANCELING :
			         !strcmp(optarg, "ended") ? BT_BATCH_ENDED : -1;
			if (status < 0)
				bt_die(BT_EXIT_USAGE, "--status: '%s' is not in_progress, canceling or ended", optarg);
			break;
		case 'p':
			page_size = bt_num(optarg, 1, PAGE_MAX, "--page-size");
			page_given = 1;
			break;
		case 'P': provider = optarg; break;
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
	bt_config_provider(&listing.cfg, provider, "--provider");
	if (page_size > bt_provider()->list_limit_max) {
		if (page_given)
			bt_die(BT_EXIT_USAGE, "--page-size: %lld is more than %s's largest page, %lld",
			       page_size, bt_provider()->name, bt_provider()->list_limit_max);
		page_size = bt_provider()->list_limit_max;
	}
	atexit(cleanup);
	if (keyfile)
		bt_config_key_file(&listing.cfg, keyfile);
	bt_config_need_key(&listing.cfg);
	listing.http = bt_http_new(&listing.cfg);

	bt_pages_init(&pages, listing.http);
	do {
		/* without a filter, no more than will be printed */
		limit = page_size;
		if (max > 0 && status < 0 && max - printed < limit)
			limit = max - printed;
		jv_free(listing.page);
		bt_resp_free(&listing.resp);     /* bt_http forgets it otherwise */
		listing.page = jv_null();
		if ((r = bt_pages_next(&pages, limit, &data, &listing.resp, err, sizeof err)) < 0)
			bt_die(BT_EXIT_FAIL, "%s", err);
		if (r == 0)
			break;
		listing.page = data;
		for (i = 0; i < jv_array_length(jv_copy(data)) && printed != max; i++) {
			b = jv_array_get(jv_copy(data), i);
			if (status < 0 || bt_batch_state(b) == status) {
				bt_print_json(b);
				printed++;
			}
			jv_free(b);
		}
	} while (pages.more && printed != max);
	bt_pages_free(&pages);
	bt_close_stdout();
	return BT_EXIT_OK;
}
