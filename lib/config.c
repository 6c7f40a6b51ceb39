/* config.c — configuration from the environment; the key is never printed */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bt.h"

static char *env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return bt_strdup(v && *v ? v : dflt);
}

void bt_config_init(struct bt_config *c)
{
	const char *k = getenv("ANTHROPIC_API_KEY");
	size_t n;

	memset(c, 0, sizeof *c);
	c->key = k && *k ? bt_strdup(k) : NULL;
	c->base_url = env("ANTHROPIC_BASE_URL", "https://api.anthropic.com");
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = 0;
	if (strncmp(c->base_url, "https://", 8) && strncmp(c->base_url, "http://", 7))
		bt_die(BT_EXIT_USAGE, "ANTHROPIC_BASE_URL must start with https:// or http://");
	c->version = env("ANTHROPIC_VERSION", "2023-06-01");
	c->state_dir = env("BT_STATE_DIR", ".bt");
}

void bt_endpoint_fp(const struct bt_config *c, char out[17])
{
	struct bt_buf b = { 0 };
	char hex[65];

	bt_buf_printf(&b, "bt-endpoint\n%s\n%s", c->base_url, c->key ? c->key : "");
	bt_sha256_hex(b.p, b.len, hex);
	bt_explicit_bzero(b.p, b.len);
	bt_buf_free(&b);
	memcpy(out, hex, 16);
	out[16] = 0;
}

void bt_config_key_file(struct bt_config *c, const char *path)
{
	struct bt_lines l;
	struct stat st;
	size_t n, i;
	char *s;

	if (bt_lines_open(&l, path) < 0)
		bt_die(BT_EXIT_USAGE, "%s: cannot open the key file:", path);
	if (fstat(l.fd, &st) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", path);
	if (S_ISDIR(st.st_mode)) {
		bt_lines_close(&l);
		bt_die(BT_EXIT_USAGE, "%s: is a directory", path);
	}
	s = bt_lines_next(&l, &n);
	while (s && n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	while (s && (*s == ' ' || *s == '\t'))
		s++, n--;
	if (!s || !*s) {
		bt_lines_close(&l);
		bt_die(BT_EXIT_USAGE, "%s: no key on the first line of the key file", path);
	}
	for (i = 0; i < n; i++)     /* it goes into a header: no \r, no NUL */
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			bt_explicit_bzero(l.buf, l.cap);
			bt_lines_close(&l);
			bt_die(BT_EXIT_USAGE, "%s: a control character or a NUL byte in the key", path);
		}
	/* as ssh does for keys; a pipe (<(pass show key)) has no mode to say */
	if (S_ISREG(st.st_mode) && (st.st_mode & 044))
		bt_warn("%s: the key file is readable by others (mode %04o); chmod 600 %s",
		        path, (unsigned)(st.st_mode & 07777), path);
	if (c->key) {
		bt_explicit_bzero(c->key, strlen(c->key));
		free(c->key);
	}
	c->key = bt_strndup(s, n);
	bt_explicit_bzero(l.buf, l.cap);
	bt_lines_close(&l);
}

void bt_config_need_key(const struct bt_config *c)
{
	if (!c->key)
		bt_die(BT_EXIT_USAGE, "no API key: set ANTHROPIC_API_KEY or use --api-key-file FILE");
}

void bt_config_free(struct bt_config *c)
{
	if (c->key) {
		bt_explicit_bzero(c->key, strlen(c->key));
		free(c->key);
	}
	free(c->base_url);
	free(c->version);
	free(c->state_dir);
	memset(c, 0, sizeof *c);
}
