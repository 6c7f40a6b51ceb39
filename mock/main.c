/* main.c — bt-mock's options, and the process from start to stop: the
 * state directory, the signals, the server, the wait */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "mock.h"

const char *opt_addr = "127.0.0.1";
int opt_port = DEFAULT_PORT;
char *opt_dir;
const char *opt_key;
uint64_t opt_seed;
int64_t opt_pt = 1 * US, opt_ct = US / 5, opt_expire = 24 * 3600 * US,
        opt_archive = 29LL * 24 * 3600 * US;
double opt_error_rate, opt_expire_rate, opt_lifetime = -1;
long long opt_max_body = BT_MAX_BODY;
long opt_max_requests = BT_MAX_REQUESTS;
long long opt_queue_limit = 500000;
int opt_ordered;
int64_t opt_skew;

char base_url[128];
volatile int stopping;

static int tmp_state;           /* the state directory is ours: remove it at exit */

static void usage(FILE *f, int status)
{
	bt_usage(f, status,
	        "usage: bt-mock [-v] [-p port] [-a addr] [--state-dir dir] [--key key]\n"
	        "               [--seed n] [--processing-time dur] [--cancel-time dur]\n"
	        "               [--expire-after dur] [--archive-after dur]\n"
	        "               [--error-rate r] [--expire-rate r] [--max-body size]\n"
	        "               [--max-requests n] [--queue-limit n] [--fault spec]...\n"
	        "               [--lifetime dur] [--ordered] [--clock-skew [-]dur]\n"
	        "               [--latency dur] [--rpm n] [--itpm n] [--otpm n]\n"
	        "               [--model name]...\n",
	"  -p PORT                    port to listen on (0: any free one)\n"
	"  -a ADDR                    address to listen on (default 127.0.0.1)\n"
	"  --state-dir DIR            keep the batches in DIR, across restarts\n"
	"  --key KEY                  accept only this API key\n"
	"  --seed N                   seed of outcomes, answers and order (default 0)\n"
	"  --processing-time DUR      creation to end of a batch (default 1s)\n"
	"  --cancel-time DUR          cancel to end of a batch (default 0.2s)\n"
	"  --expire-after DUR         creation to expires_at (default 24h)\n"
	"  --archive-after DUR        creation to archived_at (default 29d)\n"
	"  --error-rate R             fraction of requests errored, 0 to 1\n"
	"  --expire-rate R            fraction of requests expired, 0 to 1\n"
	"  --max-body SIZE            largest request body (default 256000000)\n"
	"  --max-requests N           most requests a batch (default 100000)\n"
	"  --queue-limit N            most requests waiting (default 500000)\n"
	"  --fault SPEC               script a fault (repeatable; see FAULTS)\n"
	"  --lifetime DUR             exit after DUR\n"
	"  --ordered                  results in request order\n"
	"  --clock-skew [-]DUR        our clock ahead (or behind) by DUR\n"
	"  --latency DUR              answer each synchronous request after DUR\n"
	"  --rpm N                    at most N requests a minute\n"
	"  --itpm N                   at most N input tokens a minute\n"
	"  --otpm N                   at most N output tokens a minute\n"
	"  --model NAME               know model NAME too (repeatable)\n"
	"  -v, --verbose              log method, path and status on stderr\n"
	"  -h, --help                 this help\n");
}

enum {
	O_STATE = 256, O_KEY, O_SEED, O_PT, O_CT, O_EXPIRE, O_ARCHIVE,
	O_ERATE, O_XRATE, O_MAXBODY, O_MAXREQ, O_QUEUE, O_FAULT,
	O_LIFETIME, O_ORDERED, O_SKEW, O_LATENCY, O_RPM, O_ITPM, O_OTPM, O_MODEL
};

static const struct option longopts[] = {
	{ "state-dir", required_argument, NULL, O_STATE },
	{ "key", required_argument, NULL, O_KEY },
	{ "seed", required_argument, NULL, O_SEED },
	{ "processing-time", required_argument, NULL, O_PT },
	{ "cancel-time", required_argument, NULL, O_CT },
	{ "expire-after", required_argument, NULL, O_EXPIRE },
	{ "archive-after", required_argument, NULL, O_ARCHIVE },
	{ "error-rate", required_argument, NULL, O_ERATE },
	{ "expire-rate", required_argument, NULL, O_XRATE },
	{ "max-body", required_argument, NULL, O_MAXBODY },
	{ "max-requests", required_argument, NULL, O_MAXREQ },
	{ "queue-limit", required_argument, NULL, O_QUEUE },
	{ "fault", required_argument, NULL, O_FAULT },
	{ "lifetime", required_argument, NULL, O_LIFETIME },
	{ "ordered", no_argument, NULL, O_ORDERED },
	{ "clock-skew", required_argument, NULL, O_SKEW },
	{ "latency", required_argument, NULL, O_LATENCY },
	{ "rpm", required_argument, NULL, O_RPM },
	{ "itpm", required_argument, NULL, O_ITPM },
	{ "otpm", required_argument, NULL, O_OTPM },
	{ "model", required_argument, NULL, O_MODEL },
	{ "help", no_argument, NULL, 'h' },
	{ "verbose", no_argument, NULL, 'v' },
	{ NULL, 0, NULL, 0 }
};

/* One option of those that take a value. */
static void option(int ch, char *arg)
{
	char err[512];

	switch (ch) {
	case 'a': opt_addr = arg; break;
	case 'p': opt_port = (int)bt_num(arg, 0, 65535, "-p"); break;
	case O_STATE: opt_dir = arg; break;
	case O_KEY:
		if (!*arg)
			bt_die(BT_EXIT_USAGE, "--key: empty key");
		opt_key = arg;
		break;
	case O_SEED: opt_seed = (uint64_t)bt_num(arg, 0, INT64_MAX, "--seed"); break;
	case O_PT: opt_pt = dur_us(arg, "--processing-time"); break;
	case O_CT: opt_ct = dur_us(arg, "--cancel-time"); break;
	case O_EXPIRE: opt_expire = dur_us(arg, "--expire-after"); break;
	case O_ARCHIVE: opt_archive = dur_us(arg, "--archive-after"); break;
	case O_ERATE: opt_error_rate = bt_real(arg, 0, 1, "--error-rate"); break;
	case O_XRATE: opt_expire_rate = bt_real(arg, 0, 1, "--expire-rate"); break;
	case O_MAXBODY: opt_max_body = bt_size(arg, 1, 1LL << 40, "--max-body"); break;
	case O_MAXREQ:
		opt_max_requests = (long)bt_num(arg, 1, 100000000, "--max-requests");
		break;
	case O_QUEUE: opt_queue_limit = bt_num(arg, 1, INT64_MAX / 2, "--queue-limit"); break;
	case O_FAULT:
		if (fault_add(arg, err, sizeof err) < 0)
			bt_die(BT_EXIT_USAGE, "--fault: %s", err);
		break;
	case O_LIFETIME: opt_lifetime = bt_duration(arg, "--lifetime"); break;
	case O_LATENCY: opt_latency = dur_us(arg, "--latency"); break;
	case O_RPM: opt_rpm = (double)bt_num(arg, 1, 1000000000LL, "--rpm"); break;
	case O_ITPM: opt_itpm = (double)bt_num(arg, 1, 1000000000LL, "--itpm"); break;
	case O_OTPM: opt_otpm = (double)bt_num(arg, 1, 1000000000LL, "--otpm"); break;
	case O_MODEL:
		if (!*arg)
			bt_die(BT_EXIT_USAGE, "--model: an empty name");
		model_add(arg);
		break;
	case O_SKEW:
		opt_skew = *arg == '-' ? -dur_us(arg + 1, "--clock-skew") :
		           dur_us(arg + (*arg == '+'), "--clock-skew");
		break;
	default:
		usage(stderr, BT_EXIT_USAGE);
	}
}

static void options(int argc, char *argv[])
{
	int ch;

	while ((ch = getopt_long(argc, argv, "a:hp:v", longopts, NULL)) != -1) {
		if (ch == 'h')
			usage(stdout, BT_EXIT_OK);
		else if (ch == 'v')
			bt_verbose = 1;
		else if (ch == O_ORDERED)
			opt_ordered = 1;
		else
			option(ch, optarg);
	}
	if (argc > optind)
		usage(stderr, BT_EXIT_USAGE);
	if (opt_error_rate + opt_expire_rate > 1)
		bt_die(BT_EXIT_USAGE, "--error-rate and --expire-rate add up to more than 1");
	models_load();      /* bad $BT_PRICES exits 2 here, before serving */
}

/* -a and -p as a socket address; exits 2 when -a is not an IP address. */
static const struct sockaddr *listen_address(void)
{
	static struct sockaddr_in sin;
	static struct sockaddr_in6 sin6;

	if (inet_pton(AF_INET, opt_addr, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		sin.sin_port = htons((uint16_t)opt_port);
		return (struct sockaddr *)&sin;
	}
	if (inet_pton(AF_INET6, opt_addr, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons((uint16_t)opt_port);
		return (struct sockaddr *)&sin6;
	}
	bt_die(BT_EXIT_USAGE, "-a: not an IP address: '%s'", opt_addr);
}

/* The state directory: --state-dir (made if need be, and loaded), or a
 * new one under $TMPDIR, removed at exit. */
static void state_open(void)
{
	char tmpl[4096];
	const char *tmpdir;

	if (opt_dir) {
		if (mkdir(opt_dir, 0755) < 0 && errno != EEXIST)
			bt_die(BT_EXIT_FAIL, "%s:", opt_dir);
		opt_dir = bt_strdup(opt_dir);
		state_load();
		return;
	}
	tmpdir = getenv("TMPDIR");
	snprintf(tmpl, sizeof tmpl, "%s/bt-mock.XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmpl))
		bt_die(BT_EXIT_FAIL, "%s:", tmpl);
	opt_dir = bt_strdup(tmpl);
	tmp_state = 1;
}

static void on_signal(int sig)
{
	(void)sig;      /* never runs: the signals are blocked and waited for */
}

/* Signals go to the main thread only: block them before the server's
 * threads start (they inherit the mask), then wait for them in main. */
static void block_signals(sigset_t *sigs)
{
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_signal);      /* even where sh(1) set it ignored */
	signal(SIGTERM, on_signal);
	if (signal(SIGHUP, on_signal) == SIG_IGN)
		signal(SIGHUP, SIG_IGN);
	sigemptyset(sigs);
	sigaddset(sigs, SIGINT);
	sigaddset(sigs, SIGTERM);
	sigaddset(sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, sigs, NULL);
}

/* Until a signal comes, or --lifetime has passed. */
static void wait_for_end(const sigset_t *sigs)
{
	struct timespec ts;
	double left, t0 = bt_mono();
	int sig;

	for (;;) {
		if (opt_lifetime >= 0) {
			left = opt_lifetime - (bt_mono() - t0);
			if (left <= 0)
				break;
			ts.tv_sec = (time_t)left;
			ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
			sig = sigtimedwait(sigs, NULL, &ts);
		} else
			sig = sigwaitinfo(sigs, NULL);
		if (sig > 0)
			break;
	}
}

int main(int argc, char *argv[])
{
	const struct sockaddr *sa;
	sigset_t sigs;
	int port;

	bt_init(argv);
	id_salt_init();
	options(argc, argv);
	sa = listen_address();
	state_open();
	block_signals(&sigs);
	if ((port = http_start(sa)) < 0) {
		if (tmp_state)
			state_remove();
		bt_die(BT_EXIT_FAIL, "cannot listen on %s port %d", opt_addr, opt_port);
	}
	snprintf(base_url, sizeof base_url, sa->sa_family == AF_INET6 ?
	         "http://[%s]:%u" : "http://%s:%u", opt_addr, (unsigned)port);
	printf("%s\n", base_url);
	if (fflush(stdout) == EOF)
		bt_die(BT_EXIT_FAIL, "write error on standard output:");
	wait_for_end(&sigs);
	stopping = 1;
	http_stop();
	store_free();
	if (tmp_state)
		state_remove();
	free(opt_dir);
	bt_close_stdout();
	return BT_EXIT_OK;
}
