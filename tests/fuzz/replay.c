/* replay.c — run a fuzz harness on the files named, as libFuzzer would,
 * for `make check`: built with the normal compiler, no clang needed.
 *
 *   replay-NAME [-v] FILE|DIR...
 *
 * A directory stands for the files in it.  Each input is read into a
 * buffer of exactly its size, so that a read past its end shows under
 * ASan or valgrind.  A disagreement aborts (see fuzz.h); -v names each
 * input on stderr before it runs. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int verbose;
static unsigned long inputs;

static void run_file(const char *path)
{
	struct bt_buf b = { 0 };
	char *p;

	if (bt_slurp(path, &b) < 0)
		bt_die(1, "%s:", path);
	if (verbose)
		fprintf(stderr, "%s: %s (%zu bytes)\n", bt_prog, path, b.len);
	p = bt_malloc(b.len ? b.len : 1);
	if (b.len)
		memcpy(p, b.p, b.len);
	bt_buf_free(&b);
	LLVMFuzzerTestOneInput((const uint8_t *)p, b.len);
	free(p);
	inputs++;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void run(const char *path)
{
	struct dirent **names;
	struct stat st;
	char *sub;
	int i, n;

	if (stat(path, &st) < 0)
		bt_die(1, "%s:", path);
	if (!S_ISDIR(st.st_mode)) {
		run_file(path);
		return;
	}
	if ((n = scandir(path, &names, NULL, by_name)) < 0)
		bt_die(1, "%s:", path);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			sub = bt_asprintf("%s/%s", path, names[i]->d_name);
			run(sub);
			free(sub);
		}
		free(names[i]);
	}
	free(names);
}

int main(int argc, char **argv)
{
	int i = 1;

	bt_init(argv);
	if (argc > 1 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		i++;
	}
	if (i == argc) {
		fprintf(stderr, "usage: %s [-v] FILE|DIR...\n", bt_prog);
		return 2;
	}
	for (; i < argc; i++)
		run(argv[i]);
	if (verbose)
		fprintf(stderr, "%s: %lu inputs\n", bt_prog, inputs);
	return 0;
}
