/* config.c — configuration from the environment; the key is never printed */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bt.h"

/* The longest key file read: keys are about 100 bytes. */
#define KEY_FILE_MAX        4096
#define KEY_FILE_MAX_TEXT   "4096"

static char *env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return bt_strdup(v && *v ? v : dflt);
}

/* A key goes into a header: no control character (\r\n would add a
 * header of the key's choosing), no NUL, no DEL. */
static int key_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* The key variable (ANTHROPIC_API_KEY) held a control character: refused when the key is
 * needed (a key file given instead is used). */
static int env_key_bad;
/* The configuration in use, for bt_config_input (one a program). */
static struct bt_config *live;

/* c's key, base URL and version from provider p's variables; a key from
 * --api-key-file is kept. */
static void from_env(struct bt_config *c, const struct bt_provider *p)
{
	const char *k, *alt = p->env_alt_base ? getenv(p->env_alt_base) : NULL,
	           *base = getenv(p->env_base);
	size_t n;

	c->provider = p;
	c->alt = alt && *alt && !(base && *base);
	k = getenv(c->alt ? p->env_alt_key : p->env_key);
	if (!c->key_from_file) {
		if (c->key) {
			bt_explicit_bzero(c->key, strlen(c->key));
			free(c->key);
		}
		env_key_bad = k && *k && !key_ok(k, strlen(k));
		c->key = k && *k && !env_key_bad ? bt_strdup(k) : NULL;
	}
	free(c->base_url);
	c->base_url = env(c->alt ? p->env_alt_base : p->env_base, p->default_base);
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = 0;
	if (strncmp(c->base_url, "https://", 8) && strncmp(c->base_url, "http://", 7))
		bt_die(BT_EXIT_USAGE, "%s must start with https:// or http://",
		       c->alt ? p->env_alt_base : p->env_base);
	if (c->alt) {
		char *b = bt_asprintf("%s%s", c->base_url, p->alt_base_path);
		free(c->base_url);
		c->base_url = b;
	}
	free(c->version);
	c->version = c->alt ? env(p->env_alt_version, p->default_alt_version) :
	             p->env_version ? env(p->env_version, p->default_version) : NULL;
}

void bt_config_init(struct bt_config *c)
{
	const char *name = getenv("BT_PROVIDER");
	const struct bt_provider *p = name && *name ? bt_provider_use(name, "BT_PROVIDER") :
	                              bt_provider();

	memset(c, 0, sizeof *c);
	c->chosen = name && *name ? "BT_PROVIDER" : NULL;
	from_env(c, p);
	c->state_dir = env("BT_STATE_DIR", ".bt");
	live = c;
}

void bt_config_provider(struct bt_config *c, const char *name, const char *what)
{
	if (!name)
		return;
	from_env(c, bt_provider_use(name, what));
	c->chosen = what;
}

/* "an OpenAI batch" and the like, for messages */
static const char *title(const struct bt_provider *p)
{
	return !strcmp(p->name, "openai") ? "OpenAI" : "Anthropic";
}

int bt_config_input(int provider, const char *what, char *err, size_t errsz)
{
	const struct bt_provider *p = bt_provider_find(bt_provider_name(provider));
	struct bt_config *c = live;

	if (!c || !p || c->provider == p) {
		if (c)
			c->sensed = 1;
		return 0;
	}
	if (c->sensed)
		snprintf(err, errsz, "an %s %s, after %s ones: one provider a stream",
		         title(p), what, title(c->provider));
	else if (c->chosen)
		snprintf(err, errsz, "an %s %s, but %s says %s", title(p), what,
		         c->chosen, c->provider->name);
	else if (c->http_built)
		snprintf(err, errsz, "an %s %s, read after a request went to %s",
		         title(p), what, c->provider->name);
	else {
		from_env(c, bt_provider_use(p->name, "the input"));
		c->sensed = 1;
		return 0;
	}
	return -1;
}

void bt_endpoint_fp(const struct bt_config *c, char out[17])
{
	struct bt_buf b = { 0 };
	char hex[65];

	bt_buf_printf(&b, "bt-endpoint\n%s\n%s", c->base_url, c->key ? c->key : "");
	bt_sha256_hex(b.p, b.len, hex);
	memset(b.p, 0, b.len);
	bt_buf_free(&b);
	memcpy(out, hex, 16);
	out[16] = 0;
}

/* Read fd into buf until its first line is whole, or at most
 * KEY_FILE_MAX + 1 bytes; the count.  A pipe kept open after the key is
 * not waited on, and /dev/zero is not read for ever. */
static size_t read_key(int fd, char *buf, const char *path)
{
	size_t got = 0;
	ssize_t r;

	while (got <= KEY_FILE_MAX) {
		r = read(fd, buf + got, KEY_FILE_MAX + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			bt_explicit_bzero(buf, got);
			bt_die(BT_EXIT_FAIL, "%s: read error:", path);
		}
		if (r == 0 || memchr(buf + got, '\n', (size_t)r))
			return got + (size_t)r;     /* the first line is whole */
		got += (size_t)r;
	}
	return got;
}

void bt_config_key_file(struct bt_config *c, const char *path)
{
	char buf[KEY_FILE_MAX + 2], *s, *nl;
	const char *why = NULL;
	struct stat st;
	size_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		bt_die(BT_EXIT_USAGE, "%s: cannot open the key file:", path);
	if (fstat(fd, &st) < 0)
		bt_die(BT_EXIT_FAIL, "%s:", path);
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		bt_die(BT_EXIT_USAGE, "%s: is a directory", path);
	}
	n = read_key(fd, buf, path);
	close(fd);
	buf[n] = 0;
	s = buf;
	if (n > KEY_FILE_MAX)
		why = "longer than " KEY_FILE_MAX_TEXT " bytes: not a key file";
	else if ((nl = memchr(s, '\n', n)))
		n = (size_t)(nl - s);
	if (!why) {
		if (n && s[n - 1] == '\r')
			n--;
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		while (n && (*s == ' ' || *s == '\t'))
			s++, n--;
		if (!n)
			why = "no key on the first line of the key file";
		else if (!key_ok(s, n))
			why = "a control character or a NUL byte in the key";
	}
	if (why) {
		bt_explicit_bzero(buf, sizeof buf);
		bt_die(BT_EXIT_USAGE, "%s: %s", path, why);
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
	c->key_from_file = 1;
	env_key_bad = 0;
	bt_explicit_bzero(buf, sizeof buf);
}

void bt_config_need_key(const struct bt_config *c)
{
	const struct bt_provider *p = c->provider ? c->provider : bt_provider();
	const char *other;

	/* a stream may yet say it is the other provider's: wait for it when
	 * that one has a key (and no option or variable chose) */
	if (!c->key && !env_key_bad && !c->chosen && !c->sensed) {
		other = !strcmp(p->name, "openai") ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY";
		if (getenv(other) && *getenv(other))
			return;
	}
	if (!c->key && env_key_bad)
		bt_die(BT_EXIT_USAGE, "%s: a control character or "
		       "a NUL byte in the key", c->alt ? p->env_alt_key : p->env_key);
	if (!c->key)
		bt_die(BT_EXIT_USAGE, "no API key: set %s or use --api-key-file FILE",
		       c->alt ? p->env_alt_key : p->env_key);
}

void bt_config_free(struct bt_config *c)
{
	if (c->key) {
		memset(c->key, 0, strlen(c->key));
		free(c->key);
	}
	free(c->base_url);
	free(c->version);
	free(c->state_dir);
	if (live == c)
		live = NULL;
	memset(c, 0, sizeof *c);
}
