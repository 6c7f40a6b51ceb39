/* jsonl-echo — read JSONL with the library, write it back compact: the
 * tests compare its output with jq -c.  Bad lines go to stderr, exit 2. */
#include <stdlib.h>
#include "bt.h"

int main(int argc, char **argv)
{
	struct bt_lines l;
	struct bt_buf b = { 0 };
	int i, status = 0;
	jv v;

	bt_init(argv);
	for (i = 1; i < argc || i == 1; i++) {
		if (bt_lines_open(&l, i < argc ? argv[i] : "-") < 0)
			bt_die(2, "%s:", argv[i]);
		for (;;) {
			v = bt_jsonl_next(&l);
			if (!jv_is_valid(v)) {
				if (jv_invalid_has_msg(jv_copy(v))) {
					jv m = jv_invalid_get_msg(v);
					bt_warn("%s", jv_string_value(m));
					jv_free(m);
					status = 2;
					continue;
				}
				jv_free(v);
				break;
			}
			b.len = 0;
			bt_json_write(&b, v);
			bt_buf_addc(&b, '\n');
			bt_out(b.p, b.len);
			jv_free(v);
		}
		bt_lines_close(&l);
	}
	bt_buf_free(&b);
	bt_close_stdout();
	return status;
}
