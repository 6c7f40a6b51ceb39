/* faults.c — scripted faults: parsed from --fault and /_mock/faults, taken
 * by the requests they match, in the order given */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock.h"

static const char *ep_names[] = {
	[EP_CREATE] = "create", [EP_GET] = "get", [EP_LIST] = "list",
	[EP_CANCEL] = "cancel", [EP_DELETE] = "delete", [EP_RESULTS] = "results",
	[EP_MESSAGES] = "messages", [EP_COUNT] = "count_tokens",
	[EP_UPLOAD] = "upload", [EP_FGET] = "ofile", [EP_FLIST] = "ofiles",
	[EP_FDELETE] = "odelete", [EP_FCONTENT] = "ocontent", [EP_OCREATE] = "ocreate",
	[EP_OGET] = "oget", [EP_OLIST] = "olist", [EP_OCANCEL] = "ocancel",
	[EP_CHAT] = "chat", [EP_EMBED] = "embed", [EP_ANY] = "any",
};

static const struct {
	const char *name;
	int act;
} acts[] = {
	{ "taken500", A_TAKEN500 }, { "drop", A_DROP }, { "cut", A_CUT },
	{ "slow", A_SLOW }, { "lost", A_LOST }, { "badutf8", A_BADUTF8 },
	{ "twice", A_TWICE },
};

static struct fault faults[MAX_FAULTS];     /* behind mu */
static size_t nfaults;

/* A status a fault may answer with. */
static int status_ok(int st)
{
	static const int ok[] = { 400, 401, 402, 403, 404, 408, 413, 429, 500,
	                          502, 503, 504, 529 };
	size_t i;

	for (i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (st == ok[i])
			return 1;
	return 0;
}

/* ACTION: a name, or a status. */
static int parse_act(const char *act, struct fault *f, const char *spec,
                     char *err, size_t errsz)
{
	char *end;
	size_t i;

	for (i = 0; i < sizeof acts / sizeof acts[0]; i++)
		if (!strcmp(act, acts[i].name)) {
			f->act = acts[i].act;
			return 0;
		}
	f->act = A_STATUS;
	f->status = (int)strtol(act, &end, 10);
	if (!*act || *end || !status_ok(f->status)) {
		snprintf(err, errsz, "unknown action '%s' in fault '%s'", act, spec);
		return -1;
	}
	return 0;
}

static int parse_arg(const char *arg, struct fault *f, const char *spec,
                     char *err, size_t errsz)
{
	char *end;

	errno = 0;
	f->arg = strtod(arg, &end);
	if (!*arg || *end || errno || !(f->arg >= 0) || f->arg > 1e9) {
		snprintf(err, errsz, "bad argument '%s' in fault '%s'", arg, spec);
		return -1;
	}
	f->has_arg = 1;
	return 0;
}

/* ENDPOINT:ACTION[:ARG][*COUNT] into f; -1 with err. */
static int fault_parse(const char *spec, struct fault *f, char *err, size_t errsz)
{
	char buf[256], *star, *act, *arg, *end;
	int i;

	memset(f, 0, sizeof *f);
	f->count = 1;
	if (strlen(spec) >= sizeof buf) {
		snprintf(err, errsz, "fault too long");
		return -1;
	}
	strcpy(buf, spec);
	if ((star = strrchr(buf, '*'))) {
		*star++ = 0;
		errno = 0;
		f->count = strtol(star, &end, 10);
		if (!*star || *end || f->count < 0 || errno) {
			snprintf(err, errsz, "bad count in fault '%s'", spec);
			return -1;
		}
	}
	if (!(act = strchr(buf, ':'))) {
		snprintf(err, errsz, "fault '%s' is not ENDPOINT:ACTION[:ARG][*COUNT]", spec);
		return -1;
	}
	*act++ = 0;
	if ((arg = strchr(act, ':')))
		*arg++ = 0;
	f->ep = EP_NONE;
	for (i = EP_CREATE; i <= EP_ANY; i++)
		if (strcmp(buf, ep_names[i]) == 0)
			f->ep = i;
	if (f->ep == EP_NONE) {
		snprintf(err, errsz, "unknown endpoint '%s' in fault '%s'", buf, spec);
		return -1;
	}
	if (parse_act(act, f, spec, err, errsz) < 0 ||
	    (arg && parse_arg(arg, f, spec, err, errsz) < 0))
		return -1;
	if (f->act == A_SLOW && !arg) {
		snprintf(err, errsz, "fault '%s': slow needs seconds", spec);
		return -1;
	}
	return 0;
}

int fault_add(const char *spec, char *err, size_t errsz)
{
	struct fault f;

	if (fault_parse(spec, &f, err, errsz) < 0)
		return -1;
	if (nfaults == MAX_FAULTS) {
		snprintf(err, errsz, "too many faults (%d)", MAX_FAULTS);
		return -1;
	}
	faults[nfaults++] = f;
	return 0;
}

int fault_take(int ep, struct fault *out)
{
	size_t i;

	for (i = 0; i < nfaults; i++) {
		if (faults[i].ep != ep && faults[i].ep != EP_ANY)
			continue;
		*out = faults[i];
		if (faults[i].count > 0 && --faults[i].count == 0) {
			memmove(faults + i, faults + i + 1,
			        (nfaults - i - 1) * sizeof *faults);
			nfaults--;
		}
		return 1;
	}
	return 0;
}

void fault_clear(void)
{
	nfaults = 0;
}

size_t fault_count(void)
{
	return nfaults;
}
