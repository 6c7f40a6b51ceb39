/* bt-cancel — cancel batches, or delete ended ones */
#include <getopt.h>
#include <stdlib.h>

#include "bt.h"

static struct {
	struct bt_config cfg;
	struct bt_http *http;
	struct bt_resp resp;
	int delete;
	int failed;
} job;

static void usage(FILE *f, int status)
{
	bt_usage(f, status, "usage: bt-cancel [-v] [--delete] [--api-key-file FILE] [BATCH...]\n",
	"  --delete                   delete the batches (once ended) instead\n"
	"  --api-key-file FILE        the API key from FILE's first line\n"
	"  -v, --verbose              say what happens on stderr\n"
	"  -h, --help                 this help\n");
}

static void cleanup(void)
{
	bt_resp_free(&job.resp);
	bt_http_free(job.http);
	job.http = NULL;
	bt_config_free(&job.cfg);
}

/* Cancel or delete one batch. */
static int each(const char *id, jv stale, void *arg)
{
	jv v;

	(void)stale;
	(void)arg;
	v = job.delete ? bt_batch_delete(job.http, id, &job.resp) :
	               bt_batch_cancel(job.http, id, &job.resp);
	bt_resp_free(&job.resp);
	if (!jv_is_valid(v)) {
		bt_warn("%s: %s", id, job.resp.err);
		job.failed = 1;
		return 0;
	}
	bt_print_json(v);
	jv_free(v);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delete", no_argument, 0, 'd' },
		{ "api-key-file", required_argument, 0, 'k' },
		{ "help", no_argument, 0, 'h' },
		{ "verbose", no_argument, 0, 'v' },
		{ 0, 0, 0, 0 }
	};
	const char *keyfile = NULL;
	int c, bad;

	bt_init(argv);
	while ((c = getopt_long(argc, argv, "hv", opts, NULL)) != -1)
		switch (c) {
		case 'd': job.delete = 1; break;
		case 'k': keyfile = optarg; break;
		case 'v': bt_verbose = 1; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, BT_EXIT_USAGE);
		}
	argc -= optind;
	argv += optind;

	bt_config_init(&job.cfg);
	atexit(cleanup);
	if (keyfile)
		bt_config_key_file(&job.cfg, keyfile);
	bt_config_need_key(&job.cfg);     /* before any input is read */
	job.http = bt_http_new(&job.cfg);
	bad = bt_each_batch(argc, argv, each, NULL);
	bt_close_stdout();
	return bad ? bad : job.failed ? BT_EXIT_FAIL : BT_EXIT_OK;
}
