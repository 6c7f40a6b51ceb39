/* http-call — drive the library's HTTP client for the tests.
 *
 *   http-call [-v] [-r] [-s] [-w] [-k KEYFILE] [-b BODYFILE] METHOD PATH
 *
 * -r: the request may be repeated; -s: receive through a sink that keeps
 * the bytes in memory (restarted on a retry); -b: stream the body from a
 * file; -w: a GET on the same connection first, so that the call goes on a
 * reused connection.  Prints the body on stdout, and "status=N attempts=N ambiguous=N"
 * on stderr; exit 0 on a 2xx, 1 otherwise (with "error: ..." first). */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bt.h"

static struct bt_buf got;
static int restarts;

static int sink(const char *p, size_t n, void *arg)
{
	(void)arg;
	bt_buf_add(&got, p, n);
	return 0;
}

static int restart(void *arg)
{
	(void)arg;
	got.len = 0;
	restarts++;
	return 0;
}

int main(int argc, char **argv)
{
	struct bt_config cfg;
	struct bt_http *h;
	struct bt_req req;
	struct bt_resp resp;
	struct stat st;
	int c, use_sink = 0, rc, warm = 0;

	bt_init(argv);
	bt_config_init(&cfg);
	memset(&req, 0, sizeof req);
	req.body_fd = -1;
	while ((c = getopt(argc, argv, "vrswk:b:")) != -1)
		switch (c) {
		case 'v': bt_verbose = 1; break;
		case 'r': req.may_repeat = 1; break;
		case 's': use_sink = 1; break;
		case 'w': warm = 1; break;
		case 'k': bt_config_key_file(&cfg, optarg); break;
		case 'b':
			req.body_fd = open(optarg, O_RDONLY);
			if (req.body_fd < 0 || fstat(req.body_fd, &st) < 0)
				bt_die(2, "%s:", optarg);
			req.body_size = st.st_size;
			break;
		default: return 2;
		}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		bt_die(2, "usage: http-call [-vrs] [-k KEYFILE] [-b BODYFILE] METHOD PATH");
	bt_config_need_key(&cfg);
	req.method = argv[0];
	req.path = argv[1];
	if (!strcmp(req.method, "POST") && req.body_fd < 0)
		req.body = "";
	if (use_sink) {
		req.sink = sink;
		req.sink_restart = restart;
	}
	h = bt_http_new(&cfg);
	if (warm) {
		jv v = bt_http_json(h, "GET", "/v1/messages/batches?limit=1", &resp);
		if (!jv_is_valid(v))
			bt_die(1, "warm-up: %s", resp.err);
		jv_free(v);
		bt_resp_free(&resp);
	}
	rc = bt_http(h, &req, &resp);
	if (rc < 0)
		fprintf(stderr, "error: %s\n", resp.err);
	fprintf(stderr, "status=%ld attempts=%d ambiguous=%d", resp.status,
	        resp.attempts, resp.ambiguous);
	if (use_sink)
		fprintf(stderr, " restarts=%d", restarts);
	fprintf(stderr, "\n");
	if (rc == 0)
		bt_out(use_sink ? got.p : resp.body.p, use_sink ? got.len : resp.body.len);
	bt_resp_free(&resp);
	bt_buf_free(&got);
	bt_http_free(h);
	bt_config_free(&cfg);
	if (req.body_fd >= 0)
		close(req.body_fd);
	bt_close_stdout();
	return rc < 0 ? 1 : 0;
}
