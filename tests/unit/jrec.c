/* jrec.c — the journal record, typed (lib/journal.c): a record read and
 * written again is the same text, members bt does not know included; a
 * member of the wrong kind is kept as it was, not lost (nor leaked); an OpenAI record's
 * uploaded file survives the round trip. */
#include <stdlib.h>
#include <unistd.h>

#include "../../lib/bt.h"
#include "../tap.h"

static char *text(jv v)
{
	struct bt_buf b = { 0 };
	char *s;

	bt_json_write(&b, v);
	jv_free(v);
	s = bt_strndup(b.p ? b.p : "", b.len);
	bt_buf_free(&b);
	return s;
}

int main(void)
{
	static const char rec[] =
		"{\"sha256\":\"ab\",\"tag\":\"r01\",\"chunk\":\"c/chunk.0001.jsonl\","
		"\"requests\":3,\"bytes\":420,\"endpoint\":\"http://127.0.0.1:1/v1\","
		"\"key_fp\":\"0123456789abcdef\",\"state\":\"created\","
		"\"since\":\"2026-12-03T10:00:00.000000Z\","
		"\"window\":{\"from\":\"2026-12-03T10:00:00.000000Z\","
		"\"sent\":\"2026-12-03T10:00:01.500000Z\",\"to\":null},"
		"\"batch\":{\"id\":\"batch_1\",\"object\":\"batch\"},\"error\":null,"
		"\"superseded\":[],\"first_id\":\"a\",\"ids_sha256\":\"cd\","
		"\"nonces\":[\"0011223344556677\"],\"rejected\":[],"
		"\"file_id\":\"file-xyz\",\"future\":{\"kept\":true}}";
	char err[200], *again, *out, dir[] = "/tmp/jrec.XXXXXX";
	struct bt_jrec r, back;
	struct bt_win w;

	bt_init((char *[]){ "jrec", NULL });
	bt_jrec_from_json(&r, bt_json_parse(rec, sizeof rec - 1, err, sizeof err));
	is_str(r.file_id, "file-xyz", "file_id read");
	is_str(r.state, "created", "state read");
	is_int(r.requests, 3, "requests read");
	is_int(r.bytes, 420, "bytes read");
	ok(bt_jrec_window(&r, &w) == 0 && w.sent > w.from && w.to < 0, "window read");
	again = text(bt_jrec_json(&r));
	is_str(again, rec, "written again: the same text, an unknown member kept last");
	free(again);

	ok(mkdtemp(dir) != NULL, "a directory for the journal");
	bt_jrec_write(dir, "rec", &r);
	ok(bt_jrec_read(dir, "rec", &back) == 1, "read back from the journal");
	out = text(bt_jrec_json(&back));
	is_str(out, rec, "the journal's record is the same");
	free(out);
	bt_jrec_free(&back);
	bt_jrec_free(&r);

	/* a member of the wrong kind: kept in rest, as it was */
	{
		static const char bad[] = "{\"requests\":\"three\",\"file_id\":7}";
		bt_jrec_from_json(&r, bt_json_parse(bad, sizeof bad - 1, err, sizeof err));
	}
	ok(!(r.has & BT_JR_REQUESTS) && !(r.has & BT_JR_FILE_ID), "wrong kinds are not taken");
	out = text(bt_jrec_json(&r));
	is_str(out, "{\"requests\":\"three\",\"file_id\":7}", "and kept as they were");
	free(out);
	bt_jrec_free(&r);
	{
		char *p = bt_asprintf("%s/rec.json", dir), *l = bt_asprintf("%s/rec.lock", dir);
		unlink(p);
		unlink(l);
		rmdir(dir);
		free(p);
		free(l);
	}
	return done_testing();
}
