/* mock.h — bt-mock, a local emulator of the Anthropic Message Batches
 * API and of OpenAI's Batch API (files, batches, chat completions,
 * embeddings: ofiles.c, obatch.c, ochat.c), and its table of contents.
 *
 * One process, libmicrohttpd with a thread per connection; http.c is the
 * only file that sees libmicrohttpd.  All batch state sits behind one
 * mutex, mu (store.c), and nothing slow runs while it is held: a create's
 * body is spooled to a file and validated outside it, and a batch's
 * results are made (once, when it is first seen ended) under the batch's
 * own mutex.  A batch's state is computed lazily from the clock.
 *
 * Prototypes are grouped under the file that defines them.  "Under mu"
 * means the caller holds mu.  jv arguments are borrowed.
 */
#ifndef MOCK_H
#define MOCK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bt.h"

#define US              1000000LL       /* microseconds in a second */
#define DEFAULT_PORT    4080
#define MAX_FAULTS      256
#define WBUF            (1 << 20)       /* bytes gathered before a write */

/* Endpoints, as routed and as faults name them: those before EP_ANY are
 * the API's, those after it bt-mock's own /_mock paths. */
enum ep {
	EP_NONE, EP_CREATE, EP_GET, EP_LIST, EP_CANCEL, EP_DELETE, EP_RESULTS,
	EP_MESSAGES, EP_COUNT,
	/* OpenAI's */
	EP_UPLOAD, EP_FGET, EP_FLIST, EP_FDELETE, EP_FCONTENT,
	EP_OCREATE, EP_OGET, EP_OLIST, EP_OCANCEL, EP_CHAT, EP_EMBED,
	EP_ANY,
	EP_MOCK_FAULTS, EP_MOCK_CLEAR, EP_MOCK_STATS
};

/* What a fault does (bt-mock(1), FAULTS). */
enum act { A_STATUS, A_TAKEN500, A_DROP, A_CUT, A_SLOW, A_LOST, A_BADUTF8, A_TWICE };

struct fault {
	int ep, act, status;
	double arg;
	int has_arg;
	long count;             /* left; 0: always */
};

/* A batch.  Times are microseconds since the epoch, by our clock; all of
 * it is fixed at creation but cancel, deleted, finalized and cnt. */
struct batch {
	char id[40];
	uint64_t seq;           /* creation order, from 1 */
	long n;                 /* requests */
	int64_t created, pt, ct, expires, archive;  /* pt, ct: durations */
	int64_t cancel;         /* when it was canceled; 0: not canceled */
	int deleted, finalized; /* finalized: its results file is made */
	long cnt[4];            /* results by kind (BT_R_*), once finalized */
	pthread_mutex_t fin;    /* held while its results are made */
};

/* Where a batch is, as computed from its times (batch_state). */
struct bstate {
	int64_t ended;          /* when it ends (or ended) */
	long k;                 /* requests processed, in request order */
	int rest;               /* BT_R_CANCELED or BT_R_EXPIRED for the others */
};

/* A set of 64-bit hashes (prompt-cache prefixes). */
struct pset {
	uint64_t *v;
	size_t cap, n;
};

/* One HTTP request. */
struct conn {
	enum ep ep;
	char id[80];            /* the batch id in the path */
	char method[16];
	char *url;
	int azure;              /* came as Azure OpenAI's path (/openai/...) */
	char rid[32];           /* its request-id */
	struct fault fault;     /* the fault it met, if faulted */
	int faulted;
	int fd;                 /* create: the spool of its body; -1 none */
	char *spool;
	long long got;          /* body bytes so far */
	int over;               /* the body passed --max-body */
	struct bt_buf body;     /* the other endpoints' bodies */
	const char *limit, *after_id, *before_id;   /* list: the query */
	int oai;                /* an OpenAI endpoint: its auth, its errors */
	const char *purpose, *order;                /* GET /v1/files: the query */
	void *pp;               /* upload: libmicrohttpd's form reader */
	struct {                /* upload: the form's fields */
		char purpose[32], anchor[32], seconds[32], filename[128];
		int has_file, bad;
	} form;
};

/* What an endpoint answers. */
#define OUT_HEADERS 12
struct out {
	unsigned status;
	struct bt_buf body;
	const char *ctype;
	int fd;                 /* a file body (results) instead of body; -1 */
	uint64_t fdsize;
	char retry_after[32];
	struct {                /* more headers (rate limits) */
		char name[64], value[48];
	} hdr[OUT_HEADERS];
	int nhdr;
};

/* ---- main.c: options, and the process from start to stop ---------------- */

extern const char *opt_addr;
extern int opt_port;
extern char *opt_dir;                   /* the state directory */
extern const char *opt_key;             /* the one key accepted; NULL: any */
extern uint64_t opt_seed;
extern int64_t opt_pt, opt_ct, opt_expire, opt_archive;    /* microseconds */
extern double opt_error_rate, opt_expire_rate, opt_lifetime;
extern long long opt_max_body;
extern long opt_max_requests;
extern long long opt_queue_limit;
extern int opt_ordered;
extern int64_t opt_skew;                /* our clock less the machine's */
extern double opt_rpm, opt_itpm, opt_otpm;  /* per minute; 0: no limit */
extern int64_t opt_latency;             /* before an answer of /v1/messages */

extern char base_url[128];              /* http://ADDR:PORT, no '/' at the end */
extern volatile int stopping;           /* set once the server is to stop */

/* ---- limits.c: the synchronous API's rate limits ----------------------- */

/* A POST /v1/messages of these tokens (input by the estimate rule,
 * output its max_tokens) arrives: 0 when it may go on (its share taken),
 * else the seconds until it could (a 429).  The anthropic-ratelimit-*
 * headers go into o either way. */
double limits_take(double input, double output, struct out *o);
/* The same for an OpenAI request of tokens (prompt and the most it may
 * write): requests by --rpm, tokens by --itpm, and the x-ratelimit-*
 * headers, resets as durations ("1s", "6m0s"). */
double limits_take_oai(double tokens, struct out *o);

/* ---- util.c: the clock, hashes and ids, files ----------------------------- */

/* Now, in microseconds, by our clock (--clock-skew moves it). */
int64_t now_us(void);
/* A duration option in microseconds; exits 2 naming what when bad. */
int64_t dur_us(const char *s, const char *what);
/* Sleep sec seconds, or less when the server is stopping. */
void nap(double sec);

/* A 64-bit mix (splitmix64's finalizer). */
uint64_t hash_mix(uint64_t x);
/* FNV-1a of p[0..n), from h. */
uint64_t hash_fnv(uint64_t h, const void *p, size_t n);
#define FNV_START 0xcbf29ce484222325ULL
/* A value in [0, 1) from a hash. */
double hash_unit(uint64_t h);
/* prefix + 24 base62 characters from h, into out (sz > strlen(prefix) + 24),
 * mixed with id_salt: ids never repeat across starts, as the API's do
 * not, while what --seed decides (outcomes, order, answers) stays. */
void make_id(char *out, size_t sz, const char *prefix, uint64_t h);
/* The same without the salt: a name the seed alone decides. */
void make_name(char *out, size_t sz, const char *prefix, uint64_t h);
/* Drawn once at start: /dev/urandom, the clock in ns and the PID. */
extern uint64_t id_salt;
void id_salt_init(void);
/* A batch's name by the seed and its number: what decides its outcomes
 * and the order of its results (out: 40 bytes). */
void batch_key(const struct batch *b, char *out);

/* OPT_DIR/ID EXT, to free. */
char *path_of(const char *id, const char *ext);
/* Write w to fd and empty it; -1 (warned, naming path) on error. */
int flush_buf(int fd, struct bt_buf *w, const char *path);
/* The whole file of fd, read-only, with its size; NULL (warned) on error.
 * An empty file maps to "".  Undo with unmap_file. */
void *map_file(int fd, size_t *size, const char *path);
void unmap_file(void *p, size_t size);

/* ---- store.c: the batches, their state files, the counters ------------------ */

extern pthread_mutex_t mu;              /* guards everything below, and faults */
extern struct batch **batches;          /* in creation order; never freed till exit */
extern size_t nbatches;
extern uint64_t batch_counter, spool_counter, msg_counter;
extern unsigned long long st_creates, st_http;  /* for /_mock/stats */
extern struct pset msg_cache;           /* prefixes seen by POST /v1/messages */

/* A new request-id.  Under mu. */
void new_rid(char out[32]);
/* A zeroed batch with its mutex made; batch_free undoes it. */
struct batch *batch_new(void);
void batch_free(struct batch *b);
/* Add b to batches.  Under mu. */
void batch_append(struct batch *b);
/* The batch of id, deleted ones left out; NULL.  Under mu. */
struct batch *batch_find(const char *id);
/* Where b is by its times (when it ends, what is processed, what the rest
 * becomes).  Under mu. */
void batch_state(const struct batch *b, struct bstate *s);
/* Whether b has ended by now.  Under mu. */
int batch_ended(const struct batch *b, int64_t now);
/* Append b as a MessageBatch object as of now (ended only once its results
 * are made).  Under mu. */
void batch_json(struct bt_buf *o, const struct batch *b, int64_t now);
/* Requests waiting in batches not ended by now.  Under mu. */
long long queued(int64_t now);
/* Write b's ID.meta, or the batch counter, whole (bt_write_file); -1
 * (warned) on error.  Under mu, which also keeps two writes of one file
 * from sharing bt_write_file's temporary name. */
int meta_save(const struct batch *b);
int counter_save(void);
/* Load the batches of --state-dir and remove leftovers of a crash; exits
 * 1 when the directory cannot be read.  Before the server starts. */
void state_load(void);
/* Remove the state directory and all in it (a temporary one, at exit). */
void state_remove(void);
/* Free every batch and the prompt cache, at exit. */
void store_free(void);

/* ---- results.c: a batch's results file ------------------------------------ */

/* Make the results file of an ended batch (ID.results), once, and publish
 * its counts: 0, or -1 (warned).  Called without mu. */
int finalize(struct batch *b);
/* Bring b up to date as of now: finalize it if it has ended.  Without mu. */
int refresh(struct batch *b, int64_t now);

/* ---- model.c: the fake model ------------------------------------------------ */

/* Append the Message for params (valid by check_params): the text of the
 * last user message, or an answer that follows the schema of the forced
 * tool (a tool_use block) or of output_config.format (JSON in a text
 * block); cut at max_tokens x 4 bytes; with its usage; tier is
 * usage.service_tier.  h seeds its ids; cache is the set of prompt
 * prefixes seen so far (cache_mu, if not NULL, guards it). */
void message_json(struct bt_buf *o, jv params, uint64_t h, const char *tier,
                  struct pset *cache, pthread_mutex_t *cache_mu);
/* 0 when the schema the answer must follow (the forced tool's, else
 * output_config's) is one the mock can follow; else -1 with the API's
 * message in msg.  The last few schemas found followable are remembered
 * (any thread). */
int check_answer_schema(jv params, char *msg, size_t sz);
/* 1 when schema s says nothing but that the value is an object: the
 * answer {"text":REPLY} follows it. */
int schema_open(jv s);
/* What an answer must be, read from either provider's request: plain
 * text, a forced tool's input, or a value by a response format's schema
 * (shape_of in model.c reads Anthropic's params, oshape_of in ochat.c
 * OpenAI's body). */
struct schema_cut;
struct shape {
	int kind;               /* SHAPE_PLAIN, SHAPE_TOOL, SHAPE_FORMAT */
	jv name;                /* TOOL: the tool's (function's) name */
	jv schema;              /* TOOL, FORMAT: its schema; invalid: none */
	int open;               /* the schema leaves the object open (or there
	                           is none): the answer is {"text":REPLY} */
	char where[64];         /* where the schema is in the request */
};
enum { SHAPE_PLAIN, SHAPE_TOOL, SHAPE_FORMAT };
void shape_free(struct shape *sh);
/* The answer for sh into a, from the reply r: r itself, {"text":r}, or a
 * value that follows the schema; cut (when not NULL) gets where the
 * root's members end.  0, or -1 with msg. */
int shape_answer(const struct shape *sh, const struct bt_buf *r, struct bt_buf *a,
                 struct schema_cut *cut, char *msg, size_t sz);
/* Add h to s: 1 when it is new. */
int pset_add(struct pset *s, uint64_t h);
void pset_free(struct pset *s);

/* ---- schema.c: answers that follow a JSON Schema ------------------------------ */

/* Where the members of an answer's root object end (offsets from its
 * start), so that a cut answer keeps the members it finished. */
struct schema_cut {
	size_t *ends;           /* to free */
	size_t n;
};

/* Append a compact JSON value valid by schema, its strings made from
 * text[0..n) (the last user message); fill cut if not NULL.  0, or -1
 * with what cannot be followed in msg, naming where (the schema's place
 * in the params, e.g. "output_config.format.schema"). */
int schema_answer(struct bt_buf *o, jv schema, const char *text, size_t n,
                  struct schema_cut *cut, const char *where, char *msg, size_t sz);

/* ---- results.c, shared with obatch.c ------------------------------------- */

/* What decides a request's fate: the seed, the batch's key and its
 * custom_id, less the tag bt's creates put on a chunk's first request. */
uint64_t request_hash(const char *cid, size_t cidlen, const char *key);

/* ---- ochat.c: OpenAI's chat completions and embeddings -------------------------- */

/* Append OpenAI's error envelope {"error":{message,type,param,code}};
 * param and code may be NULL (null). */
void oerror_body(struct bt_buf *o, const char *msg, const char *type,
                 const char *param, const char *code);
/* 0 when body is a chat completion body bt-mock can answer; else -1 with
 * the API's message in msg and the parameter at fault in *param.  batch:
 * a batch line's (stream is refused). */
int chat_check(jv body, int batch, char *msg, size_t sz, const char **param);
/* The same for an embeddings body. */
int embed_check(jv body, char *msg, size_t sz, const char **param);
/* 0 when body's model is known, else -1 with OpenAI's message. */
int omodel_known(jv body, char *msg, size_t sz);
/* Append the chat.completion for body (valid by chat_check): the echo of
 * the last user message, JSON by the schema of response_format or of a
 * forced function, cut at max_completion_tokens x 4 bytes.  h seeds its
 * ids. */
void chat_json(struct bt_buf *o, jv body, uint64_t h);
/* Append the embedding list for body (valid by embed_check): the same
 * text always gives the same vector. */
void embed_json(struct bt_buf *o, jv body);
/* The tokens a body may cost: prompt and the most it may write. */
double chat_tokens(jv body);
void do_chat(struct conn *x, struct out *o);
void do_embed(struct conn *x, struct out *o);

/* ---- ofiles.c: OpenAI's files ---------------------------------------------- */

/* OPT_DIR/oai-ID: where the file ID's bytes are, to free. */
char *ofile_path(const char *id);
/* The purpose of file id (not deleted, not expired) into out (16
 * bytes): 0, or -1 when there is no such file.  Under mu. */
int ofile_purpose(const char *id, char *out);
/* A new file of bytes bytes, whose content is to be renamed to
 * ofile_path of the id written to id (40 bytes).  Under mu. */
void ofile_add(char *id, const char *purpose, const char *filename, long long bytes);
void do_upload(struct conn *x, struct out *o);
void do_fget(struct conn *x, struct out *o);
void do_flist(struct conn *x, struct out *o);
void do_fdelete(struct conn *x, struct out *o);
void do_fcontent(struct conn *x, struct out *o);
void ofiles_free(void);

/* ---- obatch.c: OpenAI's batches ------------------------------------------- */

void do_ocreate(struct conn *x, struct out *o);
void do_oget(struct conn *x, struct out *o);
void do_olist(struct conn *x, struct out *o);
void do_ocancel(struct conn *x, struct out *o);
/* OpenAI batches and their requests, for /_mock/stats (failed ones count
 * no request).  Under mu. */
void obatch_stats(size_t *live, long long *requests);
void obatches_free(void);

/* ---- validate.c: create bodies and params ----------------------------------- */

/* Walk a create body; write its requests to fd (path for messages), one
 * line {"custom_id":ID,"params":{...}} each.  The count of requests, or -1
 * with the API's message in msg ("cannot ..." when the fault is ours). */
long validate_create(const char *body, size_t size, int fd, const char *path,
                     char *msg, size_t sz);
/* 0 when params p can make a Message; else -1 with the API's message.
 * batch: p is a batch request's (stream is refused in other words). */
int check_params(jv p, int batch, char *msg, size_t sz);
/* 0 when a count_tokens body p has a model and messages (a list of one
 * or more); else -1 with the API's message. */
int check_count_params(jv p, char *msg, size_t sz);
/* The models bt-mock knows: those bt-cost has prices for (lib's table and
 * $BT_PRICES), and each --model NAME.  Loaded once, before serving. */
void models_load(void);
void model_add(const char *name);
/* 0 when p's model (p valid by check_params) is known; else -1 with the
 * API's message for its not_found_error ("model: NAME"). */
int check_model_known(jv p, char *msg, size_t sz);

/* ---- faults.c: scripted faults ------------------------------------------------ */

/* Parse spec (ENDPOINT:ACTION[:ARG][*COUNT]) and add it; -1 with err.
 * Under mu, or before the server starts. */
int fault_add(const char *spec, char *err, size_t errsz);
/* The first fault for endpoint ep, used up by one: 1 with it in out, or 0.
 * Under mu. */
int fault_take(int ep, struct fault *out);
/* Remove every fault.  Under mu. */
void fault_clear(void);
/* The number of faults pending.  Under mu. */
size_t fault_count(void);

/* ---- http.c: libmicrohttpd, routing, answers ------------------------------------ */

/* Listen on sa with a thread per connection: the port bound, or -1. */
int http_start(const struct sockaddr *sa);
/* Stop listening; every connection's thread has ended when it returns. */
void http_stop(void);
/* Replace o's answer with the error envelope of status st. */
void out_error(struct out *o, const struct conn *x, unsigned st, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The same with OpenAI's envelope, its type, param and code given (NULL:
 * by the status). */
void out_oerror(struct out *o, const struct conn *x, unsigned st, const char *type,
                const char *param, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* ---- endpoints.c: one function an endpoint ------------------------------------ */

/* Each answers x in o: a status, and a body or an error envelope. */
void do_create(struct conn *x, struct out *o);
void do_get(struct conn *x, struct out *o);
void do_list(struct conn *x, struct out *o);
void do_cancel(struct conn *x, struct out *o);
void do_delete(struct conn *x, struct out *o);
void do_results(struct conn *x, struct out *o);
void do_messages(struct conn *x, struct out *o);
void do_count(struct conn *x, struct out *o);
/* The body of x as a JSON object, or jv_invalid() with the answer in o. */
jv body_object(struct conn *x, struct out *o);
void do_faults(struct conn *x, struct out *o);
void do_faults_clear(struct conn *x, struct out *o);
void do_stats(struct conn *x, struct out *o);

#endif
