/* fixture-server — speaks vLLM's OpenAI-compatible wire format (uvicorn's
 * headers, the completions and chat chunks, the role chunk, the usage chunk,
 * [DONE]) with injected delays, the ground truth for the shim's tests.
 *
 *   fixture-server [--port N] [--headers-ms H] [--first-ms F] [--token-ms T]
 *                  [--tokens N] [--role-lead-ms R] [--crlf] [--split N]
 *                  [--tls CERT KEY] [--prefix-cache] [--style vllm|llamacpp]
 *                  [--slots N] [--cork] [--no-usage] [--empty-from K] [--exit-at K]
 *
 * Timeline of a streamed request, from the moment its last byte is read:
 *   +H            response headers
 *   +H+F-R        chat only: the role chunk ({"role":"assistant","content":""})
 *   +H+F          first token
 *   +H+F+k*T      token k (absolute deadlines: no drift)
 * then the usage chunk (stream_options.include_usage), data: [DONE], and the
 * last chunk. A request header "X-Fixture: headers=H,first=F,token=T,role=R,
 * status=S,error_after=K,close_after=K" overrides the defaults per request
 * (usage_tokens=N: usage says N completion tokens, written as given;
 * usage=0: no usage, streamed or not, as --no-usage for every request
 * (--status S: every completion request answered with status S, as
 * status=S for each)
 * (a client that cannot send the header: ttft-cold); pad=B: the first token event B
 * bytes larger; predicted_n=N: llama.cpp style, the timings say N tokens
 * were predicted, as when some ended inside a UTF-8 character and sent
 * no event of their own; n=N: N choices, vLLM's n, their events
 * interleaved by index, the truth's "choices" N and tok_ns every token
 * event of every choice; anthropic_parts=K: Anthropic's usage events
 * around the tokens instead of the usage chunk, one of them malformed —
 * K=1 a message_start cut after two of its prompt's parts, then the API's
 * message_delta ("input_tokens":null, "cache_creation_input_tokens":null,
 * "cache_read_input_tokens":25186); K=2 a whole message_start (25 + 3 +
 * 1200), then a message_delta that says "input_tokens":9 and is cut; K=3
 * the same message_start, then a message_delta malformed before its usage
 * (",," after its type), which says 30000 after the fault; K=4 the same
 * message_start, then a message_delta that says "output_tokens" (7 more
 * than the tokens streamed) and is cut after it: no prompt count is known
 * from any of the four streams, nor K=4's output count).
 * Tokens: max_tokens from the request, else --tokens. Prints "port N" on
 * stdout once listening (port 0 picks a free one). --tls serves HTTPS with
 * that PEM certificate and key (the same bytes, inside TLS records).
 *
 * --truth FILE is the ground truth the tests compare the tools with: one
 * JSON line per event, CLOCK_MONOTONIC ns (system-wide, so comparable with
 * the shim's and the clients' stamps):
 *   {"event":"start","t_ns":T}             the process began
 *   {"event":"line","t_ns":T,"text":"…"}   a --startup line, stamped just
 *                                          before it was written
 *   {"event":"listen","t_ns":T}            accepting connections
 *   {"event":"request","n":N,"conn":C,…}   one per request (see
 *                                          write_truth), written before the
 *                                          response's last bytes, so a client
 *                                          that has read its whole response
 *                                          finds its line there
 * A write is stamped just before the send() that carries its first byte
 * (no reader can see it earlier); a read just after the recv() that
 * returned the bytes (no sender can have started later).
 *
 * With --slots N or --kv-tokens K (see "engine slots" below) a request
 * that does not fit waits for capacity; every completion's line also
 * carries "trace_id" (its traceparent's),
 * "sched_ns" (a slot took it), "prefill_end_ns", and what the server
 * reported for it: "queue_s", "prefill_s" (llama.cpp: queue_s is the
 * arrival to the slot's start, its own record; the server reports none),
 * "cache_n".
 *
 * --startup FILE replays a server's start-up log on stderr before
 * listening: lines "DELAY_S<TAB>TEXT", each written DELAY_S after the one
 * before (absolute deadlines); {port}, {pid} and {date} are filled in.
 *
 * Capacity and caches (ttft-sweep's ground truth):
 *   --slots N            N requests at once (llama.cpp's slots); the rest wait,
 *                        first come, first served, and the wait is real:
 *                        measured, added to vLLM's queue histogram; in --style
 *                        llamacpp the headers go out only when a slot starts
 *                        the request, as llama.cpp does
 *   --late-headers       --style llamacpp, streamed: the headers go out when the
 *                        prefill has ended, with the first token, as the
 *                        llama-server that tools/engine.sh builds does (its
 *                        headers then mark no queue's end)
 *   --ctx C              context of a slot (llama.cpp: /props n_ctx; a longer
 *                        request is refused with 400) or the model length (vLLM)
 *   --kv-tokens K        vLLM: a KV cache of K tokens; a request holds
 *                        ceil((prompt + max_tokens) / 16) blocks of 16 while it
 *                        runs and waits until they are free
 *   --prefix-cache       remember the last 16 prompts; a prompt's longest common
 *                        prefix with them (tokens: its characters / 4, the
 *                        prompt's last token never) is cached, llama.cpp token
 *                        by token, vLLM in whole blocks of 16: floor(shared /
 *                        16) * 16, never more than the shared prefix; only the
 *                        rest is prefilled ("cache_prompt": false: nothing is,
 *                        but the prompt is remembered, as llama.cpp's slot and
 *                        RAM prompt cache keep it); reported as cache_n /
 *                        prefix_cache_hits
 *   --prefill-per-token-ms X  prefill cost per uncached prompt token
 *   POST /tokenize       {"prompt"} → {"tokens","count"} (vLLM), {"content"} →
 *                        {"tokens"} (llama.cpp), counted as the completions are
 *   GET /props, /slots   llama.cpp's, in --style llamacpp
 * Start-up lines on stderr state the capacity the way the servers do,
 * once listening; with --capacity-at-health N, at the first GET /health
 * instead, behind N lines of vLLM's route listing ("Route: /…, Methods:
 * GET"), in one write just before the answer: lines a server wrote before
 * it answered that the reader of its output may not have taken yet (the
 * pipe holds up to 64 KiB of them when the answer arrives).
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ttft_clock.h"

struct opts {
	double headers_ms, first_ms, token_ms, role_ms;
	int tokens;
	int crlf;
	int split;
	int status;       /* respond with this HTTP error status instead */
	int error_after;  /* send an error event after K tokens (-1 = never) */
	int close_after;  /* drop the connection after K tokens (-1 = never) */
	int numbered;     /* token k's text is " t<k>" */
	double usage_tokens; /* report this completion_tokens in usage (0 = real;
	                        any number, 1e300 or -7 too, as a broken
	                        server might) */
	int malformed_at; /* token event K carries broken JSON (-1 = never) */
	double queue_ms;  /* injected engine queueing, after the headers */
	double prefill_ms;/* injected prefill, after the queue */
	int cached;       /* prompt tokens served from the prefix cache */
	double prefill_per_token_ms; /* prefill cost that grows with the prompt */
	int restart;      /* zero the metrics when this request arrives */
	int no_timings;   /* llama.cpp style: a last event without timings (an
	                     older server, a stream cut short) */
	int no_usage;     /* no usage at all, asked for or not (usage=0) */
	double pad;       /* the first token event carries this many more bytes
	                     ("pad":"xx…"): a server's oversized event */
	int predicted_n;  /* llama.cpp style: timings.predicted_n (0 = the
	                     token events') */
	int n;            /* choices (vLLM's n; 0 = 1): a stream's events of
	                     choice 0 … n-1, each step's one each in index
	                     order, as vLLM's serving_chat / serving_completion
	                     write them; usage counts all; the histograms
	                     count n requests (vLLM runs each choice as an
	                     engine request of its own) */
	int anthropic_parts; /* 1-4: Anthropic usage events, one malformed
	                        (anthropic_parts=K above) */
};

static struct opts g_def = {0, 0, 0, 0, 16, 0, 0, 0, -1, -1, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
static int g_llamacpp;            /* --style llamacpp */
static int g_cork;                /* --cork: a streamed response leaves whole
                                     at its end (TCP_CORK), one segment:
                                     bench_shim's burst row, whose reads
                                     must split the same way in every run;
                                     its truth stamps are then earlier than
                                     the bytes leave */
static int g_ipv6;                /* --ipv6: listen on [::1] */
static int g_empty_from;          /* --empty-from K: the K-th completion and
                                     later stream no token event (the role
                                     chunk, usage, [DONE] only), answered 200 */
static int g_slow_request;        /* --slow-request K: the K-th completion … */
static int g_exit_at;             /* --exit-at K: the K-th completion ends the
                                     server (exit 3) before it is answered: a
                                     server that dies mid-run; its listening
                                     socket and that connection are shut
                                     200 ms before the exit */
static int g_listen_fd = -1, g_dying;
static double g_slow_ms;          /* … gets --slow-ms more before its first token */
static int g_completions;         /* completions served so far (under g_mu) */
static const char *g_metrics_mode = "vllm"; /* or garbage, truncated, missing */
static int g_slots;               /* --slots: requests at once (0: no limit) */
static int g_ctx = 4096;          /* --ctx */
static double g_kv_tokens;        /* --kv-tokens (vLLM admission) */
static int g_capacity_at_health;  /* --capacity-at-health: route lines before it */
static pthread_once_t g_capacity_once = PTHREAD_ONCE_INIT;
static void say_capacity_at_health(void);
static double g_prefill_tok_ms;   /* --prefill-per-token-ms */
static int g_prefix_cache;        /* --prefix-cache */
static int g_late_headers;        /* --late-headers */
static pthread_cond_t g_free_cv = PTHREAD_COND_INITIALIZER;
static double g_busy, g_waiting, g_kv_used; /* under g_mu */
#define CACHE_N 16
static char *g_cache[CACHE_N];    /* prompts served, newest at g_cache_next - 1 */
static int g_cache_next;
static int g_truth_fd = -1;       /* --truth FILE */
static int g_requests;            /* requests read so far (under g_mu) */
static SSL_CTX *g_tls;            /* --tls */
/* The connection's TLS session: one thread serves one connection. */
static __thread SSL *t_ssl;

/* vLLM's metrics, observed when a request finishes (as vLLM does). */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static const double req_buckets[] = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0,
				     20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0,
				     960.0, 1920.0, 7680.0};
static const double ttft_buckets[] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
				      0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0,
				      40.0, 80.0, 160.0, 640.0, 2560.0};
enum { H_QUEUE, H_PREFILL, H_DECODE, H_TTFT, H_E2E, H__N };
static const char *const h_name[H__N] = {
	"vllm:request_queue_time_seconds", "vllm:request_prefill_time_seconds",
	"vllm:request_decode_time_seconds", "vllm:time_to_first_token_seconds",
	"vllm:e2e_request_latency_seconds"};
static struct { double sum, count, b[32]; } g_h[H__N];
static double g_pc_queries, g_pc_hits, g_prompt_tok, g_gen_tok;
static double g_lc_prompt_s, g_lc_pred_s, g_lc_prompt_tok, g_lc_cached_tok, g_lc_pred_tok;

static void observe(int h, double v)
{
	const double *bk = h == H_TTFT ? ttft_buckets : req_buckets;
	size_t nb = h == H_TTFT ? sizeof ttft_buckets / sizeof *bk : sizeof req_buckets / sizeof *bk;
	g_h[h].sum += v;
	g_h[h].count += 1;
	for (size_t i = 0; i < nb; i++)
		if (v <= bk[i])
			g_h[h].b[i] += 1;
}
static const char *g_model = "Qwen/Qwen2.5-1.5B-Instruct";

static const char *const words[] = {
	" the", " first", " token", " arrives", " after", " prefill", ",",
	" then", " decode", " streams", " the", " rest", " one", " by",
	" one", ".",
};

static void sleep_until(int64_t t)
{
	struct timespec ts = {t / 1000000000, t % 1000000000};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* What the fixture did for one request, in the order it did it: the
 * ground truth of --truth. Times are 0 where the step did not happen. */
struct rec {
	int n, conn;
	char method[16], path[256];
	int status;
	int prompt_tokens;
	int closed;                /* the fixture dropped the connection */
	int64_t accept_ns;         /* accept() returned this connection */
	int64_t recv_first_ns;     /* the read that brought the first byte */
	int64_t recv_ns;           /* the read that completed the request */
	int64_t hdr_ns;            /* response headers (a whole non-streamed
				      response: its only write) */
	int64_t role_ns, error_ns, usage_ns, done_ns;
	int64_t fin_ns;            /* the response's last bytes */
	int64_t *tok;              /* each token event */
	int ntok, tokcap;
	int written;               /* its --truth line is out */
	/* the engine's side (engine_start): planned instants, and the
	 * values the server reports for the request */
	int64_t sched_ns;          /* the engine took it (a slot, with --slots) */
	int64_t prefill_end_ns, first_plan_ns, last_plan_ns;
	double queue_s, prefill_s;
	int cache_n;
	int held;                  /* holds engine capacity (slot_take) */
	double kv_need;            /* the KV tokens it holds (--kv-tokens) */
	char trace_id[33];         /* from its traceparent, "" if none */
	int choices;               /* vLLM's n: token events of each choice */
};

static void rec_tok(struct rec *r, int64_t t)
{
	if (r->ntok == r->tokcap) {
		r->tokcap = r->tokcap ? 2 * r->tokcap : 64;
		r->tok = realloc(r->tok, (size_t)r->tokcap * sizeof *r->tok);
	}
	r->tok[r->ntok++] = t;
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
		b->p = realloc(b->p, b->cap);
	}
}

static void sb_time(struct sbuf *b, const char *k, int64_t t)
{
	if (t)
		sb_printf(b, ",\"%s\":%" PRId64, k, t);
	else
		sb_printf(b, ",\"%s\":null", k);
}

/* One JSON string, escaped for the few characters a log line or path may
 * hold. */
static void sb_str(struct sbuf *b, const char *k, const char *v)
{
	sb_printf(b, ",\"%s\":\"", k);
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '"' || c == '\\')
			sb_printf(b, "\\%c", c);
		else if (c < 0x20)
			sb_printf(b, "\\u%04x", c);
		else
			sb_printf(b, "%c", c);
	}
	sb_printf(b, "\"");
}

/* One line into --truth: a single write() under the lock, so the lines of
 * concurrent connections never interleave. */
static void truth_line(struct sbuf *b)
{
	sb_printf(b, "}\n");
	if (g_truth_fd >= 0) {
		pthread_mutex_lock(&g_mu);
		size_t off = 0;
		while (off < b->len) {
			ssize_t w = write(g_truth_fd, b->p + off, b->len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		pthread_mutex_unlock(&g_mu);
	}
	free(b->p);
}

static void truth_event(const char *event, int64_t t, const char *text)
{
	if (g_truth_fd < 0)
		return;
	struct sbuf b = {0};
	sb_printf(&b, "{\"event\":\"%s\"", event);
	sb_time(&b, "t_ns", t);
	if (text)
		sb_str(&b, "text", text);
	truth_line(&b);
}

/* The request's line; called just before its last bytes are written (or
 * the connection dropped), so it is there when the client is done. */
static void write_truth(struct rec *r)
{
	r->written = 1;
	if (g_truth_fd < 0)
		return;
	struct sbuf b = {0};
	sb_printf(&b, "{\"event\":\"request\",\"n\":%d,\"conn\":%d", r->n, r->conn);
	sb_str(&b, "method", r->method);
	sb_str(&b, "path", r->path);
	sb_printf(&b, ",\"status\":%d,\"prompt_tokens\":%d,\"closed\":%s",
		  r->status, r->prompt_tokens, r->closed ? "true" : "false");
	sb_printf(&b, ",\"choices\":%d", r->choices > 1 ? r->choices : 1);
	sb_time(&b, "accept_ns", r->accept_ns);
	sb_time(&b, "recv_first_ns", r->recv_first_ns);
	sb_time(&b, "recv_ns", r->recv_ns);
	sb_time(&b, "hdr_ns", r->hdr_ns);
	sb_time(&b, "role_ns", r->role_ns);
	sb_printf(&b, ",\"tok_ns\":[");
	for (int i = 0; i < r->ntok; i++)
		sb_printf(&b, "%s%" PRId64, i ? "," : "", r->tok[i]);
	sb_printf(&b, "]");
	sb_time(&b, "error_ns", r->error_ns);
	sb_time(&b, "usage_ns", r->usage_ns);
	sb_time(&b, "done_ns", r->done_ns);
	sb_time(&b, "fin_ns", r->fin_ns);
	if (r->sched_ns) { /* the engine's side (engine_start) */
		if (r->trace_id[0])
			sb_str(&b, "trace_id", r->trace_id);
		sb_time(&b, "sched_ns", r->sched_ns);
		sb_time(&b, "prefill_end_ns", r->prefill_end_ns);
		sb_printf(&b, ",\"queue_s\":%.9f,\"prefill_s\":%.9f,\"cache_n\":%d",
			  r->queue_s, r->prefill_s, r->cache_n);
	}
	truth_line(&b);
}

static ssize_t conn_recv(int fd, char *p, size_t n)
{
	if (t_ssl) {
		size_t got = 0;
		return SSL_read_ex(t_ssl, p, n, &got) == 1 ? (ssize_t)got : -1;
	}
	return recv(fd, p, n, 0);
}

static int write_all(int fd, const char *p, size_t n)
{
	if (t_ssl) {
		size_t put = 0;
		return n == 0 || (SSL_write_ex(t_ssl, p, n, &put) == 1 && put == n) ? 0 : -1;
	}
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One HTTP chunk holding one SSE event, written as uvicorn does (one
 * chunk per event); --split N writes it in N-byte pieces. */
static int send_event(int fd, const struct opts *o, const char *json)
{
	const char *eol = o->crlf ? "\r\n" : "\n";
	size_t jl = strlen(json);
	size_t cap = jl + 64;
	char *buf = malloc(cap);
	int body = snprintf(buf + 32, cap - 40, "data: %s%s%s", json, eol, eol);
	char hex[24];
	int hl = snprintf(hex, sizeof hex, "%x\r\n", body);
	char *start = buf + 32 - hl;
	memcpy(start, hex, (size_t)hl);
	memcpy(buf + 32 + body, "\r\n", 2);
	size_t total = (size_t)hl + (size_t)body + 2;
	int rc = 0;
	if (o->split > 0) {
		for (size_t off = 0; off < total && rc == 0; off += (size_t)o->split) {
			size_t n = total - off < (size_t)o->split ? total - off
								  : (size_t)o->split;
			rc = write_all(fd, start + off, n);
		}
	} else {
		rc = write_all(fd, start, total);
	}
	free(buf);
	return rc;
}

static void http_date(char *out, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* A whole response at once: its truth line first (see write_truth). */
static int send_whole(int fd, struct rec *r, int status, const char *reason,
		      const char *type, const char *body)
{
	char date[64], head[512];
	http_date(date, sizeof date);
	int n = snprintf(head, sizeof head,
			 "HTTP/1.1 %d %s\r\ndate: %s\r\nserver: uvicorn\r\n"
			 "content-length: %zu\r\ncontent-type: %s\r\n\r\n",
			 status, reason, date, strlen(body), type);
	r->status = status;
	r->hdr_ns = r->fin_ns = ttft_now_ns();
	write_truth(r);
	if (write_all(fd, head, (size_t)n) != 0)
		return -1;
	return write_all(fd, body, strlen(body));
}

static int send_json(int fd, struct rec *r, int status, const char *reason,
		     const char *body)
{
	return send_whole(fd, r, status, reason, "application/json", body);
}

static int send_error(int fd, struct rec *r, int status, const char *msg)
{
	char body[512];
	/* vLLM's ErrorResponse. */
	snprintf(body, sizeof body,
		 "{\"object\":\"error\",\"message\":\"%s\",\"type\":\"%s\","
		 "\"param\":null,\"code\":%d}", msg,
		 status == 404 ? "NotFoundError" : status >= 500
		 ? "InternalServerError" : "BadRequestError", status);
	const char *reason = status == 400 ? "Bad Request" : status == 404
			     ? "Not Found" : status == 503 ? "Service Unavailable"
			     : "Internal Server Error";
	return send_json(fd, r, status, reason, body);
}

static void parse_overrides(const char *v, struct opts *o)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", v);
	char *save = NULL; /* strtok is not thread-safe: one thread a connection */
	for (char *tok = strtok_r(buf, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = 0;
		double x = atof(eq + 1);
		if (!strcmp(tok, "headers")) o->headers_ms = x;
		else if (!strcmp(tok, "first")) o->first_ms = x;
		else if (!strcmp(tok, "token")) o->token_ms = x;
		else if (!strcmp(tok, "role")) o->role_ms = x;
		else if (!strcmp(tok, "status")) o->status = (int)x;
		else if (!strcmp(tok, "error_after")) o->error_after = (int)x;
		else if (!strcmp(tok, "close_after")) o->close_after = (int)x;
		else if (!strcmp(tok, "tokens")) o->tokens = (int)x;
		else if (!strcmp(tok, "numbered")) o->numbered = (int)x;
		else if (!strcmp(tok, "usage_tokens")) o->usage_tokens = x;
		else if (!strcmp(tok, "usage")) o->no_usage = x == 0;
		else if (!strcmp(tok, "malformed_at")) o->malformed_at = (int)x;
		else if (!strcmp(tok, "pad")) o->pad = x;
		else if (!strcmp(tok, "queue")) o->queue_ms = x;
		else if (!strcmp(tok, "prefill")) o->prefill_ms = x;
		else if (!strcmp(tok, "cached")) o->cached = (int)x;
		else if (!strcmp(tok, "prefill_per_token")) o->prefill_per_token_ms = x;
		else if (!strcmp(tok, "restart")) o->restart = (int)x;
		else if (!strcmp(tok, "timings")) o->no_timings = x == 0;
		else if (!strcmp(tok, "predicted_n")) o->predicted_n = (int)x;
		else if (!strcmp(tok, "n")) o->n = x >= 1 && x <= 64 ? (int)x : 1;
		else if (!strcmp(tok, "anthropic_parts")) o->anthropic_parts = (int)x;
	}
}

/* A server restart, as far as /metrics can tell: every counter from 0. */
static void reset_metrics(void)
{
	pthread_mutex_lock(&g_mu);
	memset(g_h, 0, sizeof g_h);
	g_pc_queries = g_pc_hits = g_prompt_tok = g_gen_tok = 0;
	g_lc_prompt_s = g_lc_pred_s = g_lc_prompt_tok = g_lc_cached_tok = 0;
	g_lc_pred_tok = 0;
	pthread_mutex_unlock(&g_mu);
}

static int64_t ms_ns(double ms)
{
	return (int64_t)(ms * 1e6);
}

static void finish_request(const struct opts *o, int prompt_tokens, int ntok,
			   int64_t t_recv, int64_t t_hdr, int64_t t_first, int64_t t_last)
{
	pthread_mutex_lock(&g_mu);
	observe(H_QUEUE, o->queue_ms / 1e3);
	observe(H_PREFILL, o->prefill_ms / 1e3);
	observe(H_DECODE, (double)(t_last - t_first) / 1e9);
	observe(H_TTFT, (double)(t_first - t_recv) / 1e9);
	observe(H_E2E, (double)(t_last - t_recv) / 1e9);
	(void)t_hdr;
	g_pc_queries += prompt_tokens;
	g_pc_hits += o->cached;
	g_prompt_tok += prompt_tokens;
	g_gen_tok += ntok;
	g_lc_pred_s += (double)(t_last - t_first) / 1e9;
	g_lc_pred_tok += ntok;
	pthread_mutex_unlock(&g_mu);
}

/* ---- engine slots (--slots N) and the moments the server counts at ----
 * With --slots N the fixture is an engine with N slots (and with
 * --kv-tokens K, vLLM's KV blocks): a request that does not fit waits,
 * first come first served (admit), for capacity to free; the wait is real
 * and measured. vLLM style: headers at once, then the wait; the histograms are
 * observed as vLLM does — queue, prefill, decode at the finish, TTFT at the
 * first token, the prefix-cache counters when the request is scheduled.
 * llama.cpp style (with or without slots): prompt_tokens_cached_total moves
 * when the engine takes the request, prompt_seconds_total and
 * prompt_tokens_total when its prefill ends, tokens_predicted_* at the
 * finish, as llama-server's do; with slots the headers go out when a slot
 * takes the request (llama-server's "begin" result); the last event carries
 * the timings (X-Fixture: timings=0 leaves them out). Each request's line
 * in --truth says what was reported. */
static void admit(double need);
static void release(double need);

/* Capacity is limited (--slots, or vLLM's --kv-tokens): requests queue
 * for it, and what the server reports is what was measured. */
static int limited(void)
{
	return g_slots || g_kv_tokens > 0;
}

/* The engine takes the request once it fits (admit: first come, first
 * served, a slot and its KV blocks). */
static void slot_take(struct rec *r, double need)
{
	admit(need);
	r->held = 1;
	r->kv_need = need;
	r->sched_ns = ttft_now_ns();
}

/* The request's capacity back, once, however it ended. */
static void slot_give(struct rec *r)
{
	if (!r->held)
		return;
	release(r->kv_need);
	r->held = 0;
}

/* The engine takes the request: vLLM's scheduler queries the prefix cache
 * (with slots), llama.cpp counts the cached prompt tokens. */
static void on_scheduled(const struct opts *o, int prompt_tokens)
{
	pthread_mutex_lock(&g_mu);
	if (g_llamacpp) {
		g_lc_cached_tok += o->cached;
	} else if (limited()) {
		g_pc_queries += prompt_tokens;
		g_pc_hits += o->cached;
	}
	pthread_mutex_unlock(&g_mu);
}

/* The prefill ends: llama.cpp's prompt counters move. */
static void on_prefilled(const struct opts *o, const struct rec *r, int prompt_tokens)
{
	if (!g_llamacpp)
		return;
	pthread_mutex_lock(&g_mu);
	g_lc_prompt_s += r->prefill_s;
	g_lc_prompt_tok += prompt_tokens - o->cached;
	pthread_mutex_unlock(&g_mu);
}

/* The first token: vLLM observes TTFT in that iteration (with slots). */
static void on_first_token(const struct rec *r, int prompt_tokens)
{
	if (g_llamacpp || !limited())
		return;
	pthread_mutex_lock(&g_mu);
	observe(H_TTFT, (double)(r->first_plan_ns - r->recv_ns) / 1e9);
	g_prompt_tok += prompt_tokens;
	pthread_mutex_unlock(&g_mu);
}

/* The finish: the slot is free, and the histograms and counters that move
 * then move. */
static void on_finished(const struct opts *o, struct rec *r, int prompt_tokens, int ntok)
{
	slot_give(r);
	if (!limited()) {
		finish_request(o, prompt_tokens, ntok, r->recv_ns, r->hdr_ns, r->first_plan_ns,
			       r->last_plan_ns);
		return;
	}
	double decode = (double)(r->last_plan_ns - r->first_plan_ns) / 1e9;
	pthread_mutex_lock(&g_mu);
	if (!g_llamacpp) {
		observe(H_QUEUE, r->queue_s);
		observe(H_PREFILL, r->prefill_s);
		observe(H_DECODE, decode);
		observe(H_E2E, (double)(r->last_plan_ns - r->recv_ns) / 1e9);
		g_gen_tok += ntok;
	} else {
		g_lc_pred_s += decode;
		g_lc_pred_tok += ntok;
	}
	pthread_mutex_unlock(&g_mu);
}

/* prometheus_client's float format: "3.0", "0.25", "+Inf" */
static void pfloat(char *out, size_t n, double v)
{
	if (v == (double)(long long)v && fabs(v) < 1e15)
		snprintf(out, n, "%lld.0", (long long)v);
	else
		snprintf(out, n, "%.17g", v);
}

static char *metrics_page(void)
{
	size_t cap = 65536, len = 0;
	char *b = malloc(cap), v[64];
#define P(...) (len += (size_t)snprintf(b + len, cap - len, __VA_ARGS__))
	const char *lb = "engine=\"0\",model_name=\"";
	pthread_mutex_lock(&g_mu);
	if (g_llamacpp) {
		P("# HELP llamacpp:prompt_tokens_total Number of prompt tokens processed.\n"
		  "# TYPE llamacpp:prompt_tokens_total counter\nllamacpp:prompt_tokens_total %g\n",
		  g_lc_prompt_tok);
		P("# TYPE llamacpp:prompt_tokens_cached_total counter\n"
		  "llamacpp:prompt_tokens_cached_total %g\n", g_lc_cached_tok);
		P("# TYPE llamacpp:prompt_seconds_total counter\n"
		  "llamacpp:prompt_seconds_total %g\n", g_lc_prompt_s);
		P("# TYPE llamacpp:tokens_predicted_total counter\n"
		  "llamacpp:tokens_predicted_total %g\n", g_lc_pred_tok);
		P("# TYPE llamacpp:tokens_predicted_seconds_total counter\n"
		  "llamacpp:tokens_predicted_seconds_total %g\n", g_lc_pred_s);
		P("# TYPE llamacpp:requests_processing gauge\nllamacpp:requests_processing %g\n",
		  g_busy);
		P("# TYPE llamacpp:requests_deferred gauge\nllamacpp:requests_deferred %g\n",
		  g_waiting);
	} else {
		for (int h = 0; h < H__N; h++) {
			const double *bk = h == H_TTFT ? ttft_buckets : req_buckets;
			size_t nb = h == H_TTFT ? sizeof ttft_buckets / sizeof *bk
						: sizeof req_buckets / sizeof *bk;
			P("# HELP %s Histogram of %s.\n# TYPE %s histogram\n", h_name[h],
			  h_name[h] + 5, h_name[h]);
			pfloat(v, sizeof v, g_h[h].sum);
			P("%s_sum{%s%s\"} %s\n", h_name[h], lb, g_model, v);
			for (size_t i = 0; i < nb; i++) {
				char le[32], c[32];
				pfloat(le, sizeof le, bk[i]);
				pfloat(c, sizeof c, g_h[h].b[i]);
				P("%s_bucket{engine=\"0\",le=\"%s\",model_name=\"%s\"} %s\n",
				  h_name[h], le, g_model, c);
			}
			pfloat(v, sizeof v, g_h[h].count);
			P("%s_bucket{engine=\"0\",le=\"+Inf\",model_name=\"%s\"} %s\n", h_name[h],
			  g_model, v);
			P("%s_count{%s%s\"} %s\n", h_name[h], lb, g_model, v);
		}
		pfloat(v, sizeof v, g_pc_queries);
		P("# HELP vllm:prefix_cache_queries_total Prefix cache queries.\n"
		  "# TYPE vllm:prefix_cache_queries_total counter\n"
		  "vllm:prefix_cache_queries_total{%s%s\"} %s\n", lb, g_model, v);
		pfloat(v, sizeof v, g_pc_hits);
		P("# TYPE vllm:prefix_cache_hits_total counter\n"
		  "vllm:prefix_cache_hits_total{%s%s\"} %s\n", lb, g_model, v);
		pfloat(v, sizeof v, g_prompt_tok);
		P("# TYPE vllm:prompt_tokens_total counter\nvllm:prompt_tokens_total{%s%s\"} %s\n",
		  lb, g_model, v);
		P("# TYPE vllm:num_requests_running gauge\nvllm:num_requests_running{%s%s\"} %g\n"
		  "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{%s%s\"} %g\n"
		  "# TYPE vllm:kv_cache_usage_perc gauge\nvllm:kv_cache_usage_perc{%s%s\"} %g\n",
		  lb, g_model, g_busy, lb, g_model, g_waiting, lb, g_model,
		  g_kv_tokens > 0 ? g_kv_used / g_kv_tokens : 0.0);
	}
	pthread_mutex_unlock(&g_mu);
	if (!strcmp(g_metrics_mode, "garbage"))
		snprintf(b, cap, "<html><body>502 Bad Gateway</body></html>\n\x01\x02{{{{ nonsense\n");
	else if (!strcmp(g_metrics_mode, "missing"))
		snprintf(b, cap, "# HELP process_cpu_seconds_total CPU\n"
				 "# TYPE process_cpu_seconds_total counter\n"
				 "process_cpu_seconds_total 12.5\n");
	else if (!strcmp(g_metrics_mode, "truncated")) {
		size_t cut = len / 2; /* mid-line, as a connection cut short would */
		while (cut + 1 < len && b[cut - 1] == '\n')
			cut++;
		b[cut] = 0;
	}
#undef P
	return b;
}

static int engine_start(int fd, const struct opts *o, struct rec *r, int stream,
			int prompt_tokens, int ntok);
static int stream_body(int fd, const struct opts *o, struct rec *rec, int chat,
		       int usage, int prompt_tokens, int ntok);
static int whole_answer(int fd, const struct opts *o, struct rec *r, int chat,
			int prompt_tokens, int ntok);

/* Returns 0 to keep the connection, -1 to close it. */
/* Tokens the way the completions count them: a quarter of the prompt's
 * JSON text, plus one. */
static int count_tokens(cJSON *prompt)
{
	char *ps = prompt ? cJSON_PrintUnformatted(prompt) : NULL;
	int n = ps ? (int)(strlen(ps) / 4) + 1 : 0;
	free(ps);
	return n;
}

/* The prompt's cached tokens (its longest common prefix with a remembered
 * prompt), then remember it. Under g_mu. */
static int prefix_cached(const char *ps, int prompt_tokens, int use)
{
	size_t best = 0;
	for (int i = 0; use && i < CACHE_N; i++) {
		const char *c = g_cache[i];
		size_t k = 0;
		while (c && c[k] && c[k] == ps[k])
			k++;
		best = k > best ? k : best;
	}
	int n = (int)(best / 4); /* the shared prefix, in tokens */
	if (n >= prompt_tokens)
		n = prompt_tokens - 1; /* the last token is always computed */
	/* vLLM caches whole blocks of 16: the shared prefix rounded down,
	 * never more (after the cap above: a whole block still) */
	if (!g_llamacpp)
		n -= n % 16;
	free(g_cache[g_cache_next]);
	g_cache[g_cache_next] = strdup(ps);
	g_cache_next = (g_cache_next + 1) % CACHE_N;
	return n < 0 ? 0 : n;
}

/* Wait until the request fits (a slot, or its KV blocks) and take it, in
 * the order requests arrived (both servers queue first come, first
 * served), so that who waits is known exactly. */
static void admit(double need)
{
	static unsigned long next, serving;
	pthread_mutex_lock(&g_mu);
	unsigned long me = next++;
	g_waiting++;
	for (;;) {
		int slot_ok = !g_slots || g_busy < g_slots;
		int kv_ok = g_kv_tokens <= 0 || g_kv_used + need <= g_kv_tokens || g_busy == 0;
		if (me == serving && slot_ok && kv_ok)
			break;
		pthread_cond_wait(&g_free_cv, &g_mu);
	}
	serving++;
	pthread_cond_broadcast(&g_free_cv); /* the next in line may fit too */
	g_waiting--;
	g_busy++;
	g_kv_used += need;
	pthread_mutex_unlock(&g_mu);
}

static void release(double need)
{
	pthread_mutex_lock(&g_mu);
	g_busy--;
	g_kv_used -= need;
	pthread_cond_broadcast(&g_free_cv);
	pthread_mutex_unlock(&g_mu);
}

/* Returns 0 to keep the connection, -1 to close it. A request that was
 * admitted gives its capacity back however it ends. */
static int serve_generate(int fd, const struct opts *o, int chat,
			  const char *body, struct rec *rec)
{
	cJSON *req = cJSON_Parse(body);
	if (!req || !cJSON_IsObject(req)) {
		cJSON_Delete(req);
		return send_error(fd, rec, 400, "Invalid JSON body");
	}
	cJSON *mt = cJSON_GetObjectItem(req, "max_tokens");
	int ntok = cJSON_IsNumber(mt) ? mt->valueint : o->tokens;
	int stream = cJSON_IsTrue(cJSON_GetObjectItem(req, "stream"));
	cJSON *so = cJSON_GetObjectItem(req, "stream_options");
	int usage = !o->no_usage && so && cJSON_IsTrue(cJSON_GetObjectItem(so, "include_usage"));
	cJSON *pr = cJSON_GetObjectItem(req, chat ? "messages" : "prompt");
	int prompt_tokens = count_tokens(pr);
	char *ps = pr ? cJSON_PrintUnformatted(pr) : NULL;
	int use_cache = !cJSON_IsFalse(cJSON_GetObjectItem(req, "cache_prompt"));
	cJSON_Delete(req);
	rec->prompt_tokens = prompt_tokens;
	int status = 0;
	const char *why = NULL;
	if (ntok < 1 || ntok > 100000)
		status = 400, why = "max_tokens must be at least 1";
	else if (o->status)
		status = o->status, why = "injected failure";
	else if (g_llamacpp && g_slots && prompt_tokens + ntok > g_ctx)
		status = 400, why = "the request exceeds the available context size";
	if (why) {
		free(ps);
		return send_error(fd, rec, status, why);
	}
	struct opts eff = *o; /* prefill that grows with the prompt */
	if (g_prefix_cache && ps) {
		pthread_mutex_lock(&g_mu);
		eff.cached = prefix_cached(ps, prompt_tokens, use_cache);
		pthread_mutex_unlock(&g_mu);
	}
	free(ps);
	eff.prefill_ms += (o->prefill_per_token_ms + g_prefill_tok_ms) *
			  (prompt_tokens - (g_prefix_cache ? eff.cached : 0));
	pthread_mutex_lock(&g_mu);
	int nth = ++g_completions;
	pthread_mutex_unlock(&g_mu);
	if (nth == g_slow_request) {
		eff.first_ms += g_slow_ms; /* an outlier, with a line to show for it */
		fprintf(stderr, "fixture: request %d is slow (+%g ms)\n", nth, g_slow_ms);
	}
	if (g_exit_at && nth == g_exit_at) {
		/* its connection closed first, the exit 1.5 s later: a
		 * client sees the close well before the process is gone, as
		 * from a server whose exit takes a while (vLLM freeing its
		 * GPU; any server slowed down, as under ThreadSanitizer) */
		fprintf(stderr, "fixture: request %d: exiting (--exit-at)\n", nth);
		__atomic_store_n(&g_dying, 1, __ATOMIC_SEQ_CST); /* before accept fails */
		shutdown(g_listen_fd, SHUT_RDWR); /* connects refused from now */
		shutdown(fd, SHUT_RDWR);
		usleep(1500000);
		_exit(3);
	}
	if (g_empty_from && nth >= g_empty_from)
		ntok = 0; /* a server that generates nothing, and says 200 */
	o = &eff;
	rec->cache_n = o->cached;
	int cork = g_cork && stream && !t_ssl;
	if (cork)
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &cork, sizeof cork);
	int rc = engine_start(fd, o, rec, stream, prompt_tokens, ntok);
	if (rc == 0 && stream)
		rc = stream_body(fd, o, rec, chat, usage, prompt_tokens, ntok);
	else if (rc == 0)
		rc = whole_answer(fd, o, rec, chat, prompt_tokens, ntok);
	if (cork) { /* out now, whole */
		int off = 0;
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
	}
	slot_give(rec); /* the client went away mid-stream */
	return rc;
}

static int send_stream_headers(int fd, struct rec *r)
{
	char date[64], hdrs[256];
	http_date(date, sizeof date);
	int hn = snprintf(hdrs, sizeof hdrs,
			  "HTTP/1.1 200 OK\r\ndate: %s\r\nserver: uvicorn\r\n"
			  "content-type: text/event-stream; charset=utf-8\r\n"
			  "transfer-encoding: chunked\r\n\r\n", date);
	r->status = 200;
	r->hdr_ns = ttft_now_ns();
	return write_all(fd, hdrs, (size_t)hn);
}

/* From arrival to the end of the prefill: the headers (streamed: vLLM's
 * before the queue, llama.cpp's with slots when a slot takes the request),
 * the queue (injected, then waiting for a slot and, vLLM, for the request's
 * KV blocks: ceil((prompt + max_tokens) / 16) of 16 tokens), the prefill.
 * -1 when the client is gone. */
static int engine_start(int fd, const struct opts *o, struct rec *r, int stream,
			int prompt_tokens, int ntok)
{
	int64_t hdr = r->recv_ns + ms_ns(o->headers_ms);
	int hdr_late = stream && g_llamacpp && g_late_headers;
	int hdr_at_slot = stream && limited() && g_llamacpp && !hdr_late;
	if (stream && !hdr_at_slot && !hdr_late) {
		sleep_until(hdr);
		if (send_stream_headers(fd, r) != 0)
			return -1;
	}
	if (limited()) {
		sleep_until(hdr + ms_ns(o->queue_ms));
		slot_take(r, g_kv_tokens > 0 ? ceil((prompt_tokens + ntok) / 16.0) * 16 : 0);
	} else {
		r->sched_ns = hdr + ms_ns(o->queue_ms);
		sleep_until(r->sched_ns);
	}
	on_scheduled(o, prompt_tokens);
	if (hdr_at_slot && send_stream_headers(fd, r) != 0)
		return -1;
	r->prefill_end_ns = r->sched_ns + ms_ns(o->prefill_ms);
	r->first_plan_ns = r->prefill_end_ns + ms_ns(o->first_ms);
	/* what the server reports: without slots the injected values, as
	 * before; with them what was measured; llama.cpp's queue is the
	 * fixture's own record (the server reports none) */
	r->queue_s = g_llamacpp ? (double)(r->sched_ns - r->recv_ns) / 1e9
		   : limited() ? (double)(r->sched_ns - hdr) / 1e9 : o->queue_ms / 1e3;
	r->prefill_s = g_llamacpp || limited() ? (double)(r->prefill_end_ns - r->sched_ns) / 1e9
		     : o->prefill_ms / 1e3;
	sleep_until(r->prefill_end_ns);
	if (hdr_late && send_stream_headers(fd, r) != 0)
		return -1;
	on_prefilled(o, r, prompt_tokens);
	return 0;
}

/* A request's id as vLLM makes one: "cmpl-" or "chatcmpl-" and 32 hex
 * digits (a random UUID's, one a request: here the request's number
 * mixed, so that each response's differs as vLLM's do), the same in
 * every event of its response. */
static void request_id(char *id, size_t n, const struct rec *r, int chat)
{
	uint64_t x = ((uint64_t)r->n << 32) ^ 0x7f3a1c0e5b2d4e6full, h[2];
	for (int i = 0; i < 2; i++) { /* splitmix64 */
		uint64_t z = (x += 0x9E3779B97F4A7C15ull);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
		h[i] = z ^ (z >> 31);
	}
	snprintf(id, n, "%s%016llx%016llx", chat ? "chatcmpl-" : "cmpl-",
		 (unsigned long long)h[0], (unsigned long long)h[1]);
}

static void chunk_head(char *head, size_t n, const struct rec *r, int chat)
{
	char id[64];
	request_id(id, sizeof id, r, chat);
	const char *obj = chat ? "chat.completion.chunk" : "text_completion";
	snprintf(head, n, "{\"id\":\"%s\",\"object\":\"%s\",\"created\":%ld,\"model\":\"%s\"",
		 id, obj, (long)time(NULL), g_model);
}

/* The "usage" member of an answer or chunk: completion_tokens as
 * usage_tokens says (%.17g: written as given), or none with usage=0. */
static void usage_member(char *buf, size_t n, const struct opts *o, int prompt_tokens,
			 int ntok)
{
	if (o->no_usage) {
		buf[0] = 0;
		return;
	}
	char ct[64];
	if (o->usage_tokens != 0)
		snprintf(ct, sizeof ct, "%.17g", o->usage_tokens);
	else
		snprintf(ct, sizeof ct, "%d", ntok);
	snprintf(buf, n, ",\"usage\":{\"prompt_tokens\":%d,\"total_tokens\":%d,"
		 "\"completion_tokens\":%s,\"prompt_tokens_details\":null}",
		 prompt_tokens, prompt_tokens + ntok, ct);
}

static int whole_answer(int fd, const struct opts *o, struct rec *r, int chat,
			int prompt_tokens, int ntok)
{
	char id[64];
	request_id(id, sizeof id, r, chat);
	long created = (long)time(NULL);
	r->last_plan_ns = r->first_plan_ns + ms_ns(o->token_ms) * (ntok - 1);
	sleep_until(r->last_plan_ns);
	on_first_token(r, prompt_tokens);
	on_finished(o, r, prompt_tokens, ntok);
	char text[4096] = "";
	for (int i = 0; i < ntok && strlen(text) < sizeof text - 16; i++)
		strcat(text, words[i % 16]);
	char *out = malloc(8192), us[256];
	usage_member(us, sizeof us, o, prompt_tokens, ntok);
	if (chat)
		snprintf(out, 8192,
			 "{\"id\":\"%s\",\"object\":\"chat.completion\",\"created\":%ld,"
			 "\"model\":\"%s\",\"choices\":[{\"index\":0,\"message\":"
			 "{\"role\":\"assistant\",\"content\":\"%s\",\"tool_calls\":[]},"
			 "\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null}]"
			 "%s,\"prompt_logprobs\":null}", id, created, g_model, text, us);
	else
		snprintf(out, 8192,
			 "{\"id\":\"%s\",\"object\":\"text_completion\",\"created\":%ld,"
			 "\"model\":\"%s\",\"choices\":[{\"index\":0,\"text\":\"%s\","
			 "\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null,"
			 "\"prompt_logprobs\":null}]%s}", id, created, g_model, text, us);
	int rc = send_json(fd, r, 200, "OK", out);
	free(out);
	return rc;
}

/* llama-server's last event: an empty text with the finish reason, usage
 * when asked for, and the timings (unless X-Fixture: timings=0). */
static int llamacpp_last_event(int fd, const struct opts *o, const struct rec *r,
			       const char *head, int chat, int usage, int prompt_tokens,
			       int ntok)
{
	char ev[1024], us[256] = "", tm[256] = "";
	if (!o->no_timings)
		snprintf(tm, sizeof tm, ",\"timings\":{\"cache_n\":%d,\"prompt_n\":%d,"
			 "\"prompt_ms\":%.3f,\"predicted_n\":%d,\"predicted_ms\":%.3f}",
			 o->cached, prompt_tokens - o->cached, r->prefill_s * 1e3,
			 o->predicted_n ? o->predicted_n : ntok,
			 (double)(r->last_plan_ns - r->first_plan_ns) / 1e6);
	if (usage)
		snprintf(us, sizeof us, ",\"usage\":{\"completion_tokens\":%d,"
			 "\"prompt_tokens\":%d,\"total_tokens\":%d,\"prompt_tokens_details\":"
			 "{\"cached_tokens\":%d}}", ntok, prompt_tokens, prompt_tokens + ntok,
			 o->cached);
	snprintf(ev, sizeof ev,
		 "%s,\"choices\":[{%s,\"index\":0,\"logprobs\":null,\"finish_reason\":"
		 "\"length\"}]%s%s}", head, chat ? "\"delta\":{}" : "\"text\":\"\"", us, tm);
	return send_event(fd, o, ev);
}

static int stream_body(int fd, const struct opts *o, struct rec *rec, int chat,
		       int usage, int prompt_tokens, int ntok)
{
	char head[160], ev[1024];
	chunk_head(head, sizeof head, rec, chat);
	int64_t t_first = rec->first_plan_ns;
	const char *usage_null = usage ? ",\"usage\":null" : "";
	int nc = o->n > 1 ? o->n : 1; /* vLLM's n: each choice a request */
	rec->choices = nc;
	if (o->anthropic_parts &&
	    send_event(fd, o, o->anthropic_parts == 1
		       ? "{\"type\":\"message_start\",\"message\":{\"usage\":{"
			 "\"input_tokens\":25,\"cache_creation_input_tokens\":3,,"
			 "\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}"
		       : "{\"type\":\"message_start\",\"message\":{\"usage\":{"
			 "\"input_tokens\":25,\"cache_creation_input_tokens\":3,"
			 "\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}") != 0)
		return -1;
	if (chat) {
		sleep_until(t_first - ms_ns(o->role_ms));
		rec->role_ns = ttft_now_ns();
		for (int c = 0; c < nc; c++) { /* vLLM: one for each choice */
			snprintf(ev, sizeof ev,
				 "%s,\"choices\":[{\"index\":%d,\"delta\":{\"role\":"
				 "\"assistant\",\"content\":\"\"},\"logprobs\":null,"
				 "\"finish_reason\":null}]%s}", head, c, usage_null);
			if (send_event(fd, o, ev) != 0)
				return -1;
		}
	}
	for (int i = 0; i < ntok; i++) {
		sleep_until(t_first + ms_ns(o->token_ms) * i);
		for (int c = 0; c < nc && i == 0; c++)
			on_first_token(rec, prompt_tokens);
		if (i == o->close_after) {
			rec->closed = 1;
			return -1;
		}
		if (i == o->error_after) {
			/* vLLM's mid-stream error: an error object after a 200. */
			snprintf(ev, sizeof ev,
				 "{\"error\":{\"object\":\"error\",\"message\":"
				 "\"injected engine failure\",\"type\":"
				 "\"InternalServerError\",\"param\":null,\"code\":500}}");
			rec->error_ns = ttft_now_ns();
			if (send_event(fd, o, ev) != 0)
				return -1;
			break;
		}
		if (i == o->malformed_at) {
			if (send_event(fd, o, "{\"choices\":[{\"text\":\"oops") != 0)
				return -1;
			continue;
		}
		char word[32];
		if (o->numbered)
			snprintf(word, sizeof word, " t%d", i);
		else
			snprintf(word, sizeof word, "%s", words[i % 16]);
		const char *fin = i == ntok - 1 && !g_llamacpp ? "\"length\"" : "null";
		if (chat)
			snprintf(ev, sizeof ev,
				 "%s,\"choices\":[{\"index\":0,\"delta\":{\"content\":\"%s\"},"
				 "\"logprobs\":null,\"finish_reason\":%s%s}]%s}", head,
				 word, fin, i == ntok - 1 ? ",\"stop_reason\":null" : "",
				 usage_null);
		else
			snprintf(ev, sizeof ev,
				 "%s,\"choices\":[{\"index\":0,\"text\":\"%s\",\"logprobs\":null,"
				 "\"finish_reason\":%s,\"stop_reason\":null}]%s}", head,
				 word, fin, usage_null);
		rec_tok(rec, ttft_now_ns());
		if (i == 0 && o->pad > 0) {
			size_t pad = (size_t)o->pad, el = strlen(ev);
			char *big = malloc(el + pad + 16);
			if (!big)
				return -1;
			memcpy(big, ev, el - 1); /* without its closing brace */
			memcpy(big + el - 1, ",\"pad\":\"", 8);
			memset(big + el + 7, 'x', pad);
			memcpy(big + el + 7 + pad, "\"}", 3);
			int rc = send_event(fd, o, big);
			free(big);
			if (rc != 0)
				return -1;
			continue;
		}
		if (send_event(fd, o, ev) != 0)
			return -1;
		for (int c = 1; c < nc; c++) { /* the step's other choices, by index */
			if (chat)
				snprintf(ev, sizeof ev,
					 "%s,\"choices\":[{\"index\":%d,\"delta\":{\"content\":"
					 "\"%s\"},\"logprobs\":null,\"finish_reason\":%s%s}]%s}",
					 head, c, word, fin,
					 i == ntok - 1 ? ",\"stop_reason\":null" : "", usage_null);
			else
				snprintf(ev, sizeof ev,
					 "%s,\"choices\":[{\"index\":%d,\"text\":\"%s\","
					 "\"logprobs\":null,\"finish_reason\":%s,\"stop_reason\":"
					 "null}]%s}", head, c, word, fin, usage_null);
			rec_tok(rec, ttft_now_ns());
			if (send_event(fd, o, ev) != 0)
				return -1;
		}
	}
	rec->last_plan_ns = t_first + ms_ns(o->token_ms) * (ntok - 1);
	for (int c = 0; c < nc; c++) /* vLLM counts each choice's finish */
		on_finished(o, rec, prompt_tokens, ntok);
	if (g_llamacpp && o->error_after < 0) {
		rec->usage_ns = ttft_now_ns();
		if (llamacpp_last_event(fd, o, rec, head, chat, usage, prompt_tokens, ntok) != 0)
			return -1;
	} else if (o->anthropic_parts) {
		snprintf(ev, sizeof ev, o->anthropic_parts == 1
			 ? "{\"type\":\"message_delta\",\"usage\":{\"input_tokens\":null,"
			   "\"cache_creation_input_tokens\":null,"
			   "\"cache_read_input_tokens\":25186,\"output_tokens\":%d}}"
			 : o->anthropic_parts == 2
			 ? "{\"type\":\"message_delta\",\"usage\":{\"input_tokens\":9,,"
			   "\"output_tokens\":%d}}"
			 : o->anthropic_parts == 4
			 ? "{\"type\":\"message_delta\",\"usage\":{\"output_tokens\":%d,,"
			   "\"input_tokens\":30000}}"
			 : "{\"type\":\"message_delta\",,\"usage\":{\"input_tokens\":30000,"
			   "\"cache_creation_input_tokens\":3,\"cache_read_input_tokens\":1200,"
			   "\"output_tokens\":%d}}", ntok * nc + (o->anthropic_parts == 4 ? 7 : 0));
		rec->usage_ns = ttft_now_ns();
		if (send_event(fd, o, ev) != 0)
			return -1;
	} else if (usage && o->error_after < 0) {
		char us[256];
		usage_member(us, sizeof us, o, prompt_tokens, ntok * nc);
		snprintf(ev, sizeof ev, "%s,\"choices\":[]%s}", head, us);
		rec->usage_ns = ttft_now_ns();
		if (send_event(fd, o, ev) != 0)
			return -1;
	}
	rec->done_ns = ttft_now_ns();
	if (send_event(fd, o, "[DONE]") != 0)
		return -1;
	rec->fin_ns = ttft_now_ns();
	write_truth(rec);
	return write_all(fd, "0\r\n\r\n", 5);
}

/* vLLM: {"model","prompt"} → {"tokens","count","max_model_len"};
 * llama.cpp: {"content"} → {"tokens"}; each form answers the other with
 * an empty list, as the servers do. */
static int serve_tokenize(int fd, struct rec *rec, const char *body)
{
	cJSON *req = cJSON_Parse(body);
	cJSON *t = cJSON_GetObjectItem(req, g_llamacpp ? "content" : "prompt");
	int n = cJSON_IsString(t) ? count_tokens(t) : 0;
	cJSON_Delete(req);
	size_t cap = (size_t)n * 8 + 128;
	char *out = malloc(cap);
	size_t o = (size_t)snprintf(out, cap, "{\"tokens\":[");
	for (int i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%d", i ? "," : "", 1000 + i % 5000);
	if (g_llamacpp)
		snprintf(out + o, cap - o, "]}");
	else
		snprintf(out + o, cap - o, "],\"count\":%d,\"max_model_len\":%d}", n, g_ctx);
	int rc = send_json(fd, rec, 200, "OK", out);
	free(out);
	return rc;
}

static int serve_slots(int fd, struct rec *rec)
{
	int n = g_slots ? g_slots : 1;
	char *out = malloc((size_t)n * 96 + 8);
	size_t o = 0;
	pthread_mutex_lock(&g_mu);
	int busy = (int)g_busy;
	pthread_mutex_unlock(&g_mu);
	o += (size_t)sprintf(out, "[");
	for (int i = 0; i < n; i++)
		o += (size_t)sprintf(out + o, "%s{\"id\":%d,\"n_ctx\":%d,\"is_processing\":%s}",
				     i ? "," : "", i, g_ctx, i < busy ? "true" : "false");
	sprintf(out + o, "]");
	int rc = send_json(fd, rec, 200, "OK", out);
	free(out);
	return rc;
}

static int header_value(const char *hdrs, const char *name, char *out, size_t n)
{
	size_t nl = strlen(name);
	for (const char *p = hdrs; (p = strchr(p, '\n')) != NULL;) {
		p++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			size_t k = strcspn(v, "\r\n");
			if (k >= n)
				k = n - 1;
			memcpy(out, v, k);
			out[k] = 0;
			return 1;
		}
	}
	return 0;
}

struct conn_arg {
	int fd, conn;
	int64_t accept_ns;
};

static void *serve_conn(void *arg)
{
	struct conn_arg ca = *(struct conn_arg *)arg;
	free(arg);
	int fd = ca.fd;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap + 1);
	int64_t t_read = 0; /* when the latest recv() returned */
	if (g_tls && (!(t_ssl = SSL_new(g_tls)) || !SSL_set_fd(t_ssl, fd) ||
		      SSL_accept(t_ssl) != 1))
		goto out; /* a client that gave up, or spoke plaintext */
	for (;;) {
		char *end;
		/* bytes already here (pipelined) arrived with the last read */
		int64_t t_first = len ? t_read : 0;
		while (!(buf[len] = 0, end = strstr(buf, "\r\n\r\n"))) {
			if (len == cap)
				goto out;
			ssize_t r = conn_recv(fd, buf + len, cap - len);
			t_read = ttft_now_ns();
			if (r <= 0)
				goto out;
			if (!t_first)
				t_first = t_read;
			len += (size_t)r;
		}
		size_t hlen = (size_t)(end - buf) + 4;
		char v[256];
		size_t clen = 0;
		if (header_value(buf, "content-length", v, sizeof v))
			clen = strtoul(v, NULL, 10);
		if (hlen + clen > cap)
			goto out;
		while (len < hlen + clen) {
			ssize_t r = conn_recv(fd, buf + len, cap - len);
			t_read = ttft_now_ns();
			if (r <= 0)
				goto out;
			len += (size_t)r;
		}
		struct rec rec = {.conn = ca.conn, .accept_ns = ca.accept_ns,
				  .recv_first_ns = t_first, .recv_ns = t_read};
		struct opts o = g_def;
		if (header_value(buf, "x-fixture", v, sizeof v))
			parse_overrides(v, &o);
		if (o.restart)
			reset_metrics();
		pthread_mutex_lock(&g_mu);
		rec.n = ++g_requests;
		pthread_mutex_unlock(&g_mu);
		sscanf(buf, "%15s %255s", rec.method, rec.path);
		/* W3C traceparent: 00-<trace id>-<parent id>-<flags> */
		if (header_value(buf, "traceparent", v, sizeof v) && strlen(v) >= 35 && v[2] == '-')
			snprintf(rec.trace_id, sizeof rec.trace_id, "%.32s", v + 3);
		const char *path = rec.path, *method = rec.method;
		char save = buf[hlen + clen];
		buf[hlen + clen] = 0;
		const char *body = buf + hlen;
		int rc;
		if (!strcmp(path, "/metrics")) {
			char *m = metrics_page();
			rc = send_whole(fd, &rec, 200, "OK",
					"text/plain; version=0.0.4; charset=utf-8", m);
			free(m);
		} else if (!strcmp(path, "/fixture/restart")) {
			reset_metrics();
			rc = send_json(fd, &rec, 200, "OK", "{}");
		} else if (!strcmp(method, "POST") && !strcmp(path, "/tokenize")) {
			rc = serve_tokenize(fd, &rec, body);
		} else if (g_llamacpp && !strcmp(path, "/props")) {
			char p[256];
			snprintf(p, sizeof p, "{\"default_generation_settings\":{\"n_ctx\":%d},"
				 "\"total_slots\":%d,\"build_info\":\"fixture\"}", g_ctx,
				 g_slots ? g_slots : 1);
			rc = send_json(fd, &rec, 200, "OK", p);
		} else if (g_llamacpp && !strcmp(path, "/slots")) {
			rc = serve_slots(fd, &rec);
		} else if (!strcmp(path, "/health")) {
			/* every answer after the lines are written (pthread_once
			 * holds a second caller until the first is done) */
			if (g_capacity_at_health)
				pthread_once(&g_capacity_once, say_capacity_at_health);
			rc = send_json(fd, &rec, 200, "OK", "");
		}
		else if (!strcmp(path, "/version"))
			rc = send_json(fd, &rec, 200, "OK", "{\"version\":\"0.6.3.fixture\"}");
		else if (!strcmp(path, "/v1/models")) {
			char m[512];
			snprintf(m, sizeof m,
				 "{\"object\":\"list\",\"data\":[{\"id\":\"%s\",\"object\":"
				 "\"model\",\"created\":%ld,\"owned_by\":\"vllm\",\"root\":"
				 "\"%s\",\"parent\":null,\"max_model_len\":4096}]}",
				 g_model, (long)time(NULL), g_model);
			rc = send_json(fd, &rec, 200, "OK", m);
		} else if (!strcmp(method, "POST") && !strcmp(path, "/v1/completions"))
			rc = serve_generate(fd, &o, 0, body, &rec);
		else if (!strcmp(method, "POST") && !strcmp(path, "/v1/chat/completions"))
			rc = serve_generate(fd, &o, 1, body, &rec);
		else
			rc = send_error(fd, &rec, 404, "Not Found");
		/* a response cut short (the client left, or close_after) */
		if (!rec.written)
			write_truth(&rec);
		free(rec.tok);
		buf[hlen + clen] = save;
		if (rc != 0)
			break;
		memmove(buf, buf + hlen + clen, len - hlen - clen);
		len -= hlen + clen;
	}
out:
	free(buf);
	if (t_ssl) {
		SSL_shutdown(t_ssl);
		SSL_free(t_ssl);
		t_ssl = NULL;
	}
	ERR_clear_error();
	close(fd);
	return NULL;
}

/* --startup FILE: a server's start-up log, replayed on stderr with the
 * delays it states, each line stamped into --truth. */
static int replay_startup(const char *path, int port)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "fixture-server: cannot read --startup %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	char line[2048];
	int64_t t = ttft_now_ns();
	while (fgets(line, sizeof line, f)) {
		char *tab = strchr(line, '\t');
		if (!tab || line[0] == '#')
			continue;
		t += ms_ns(atof(line) * 1e3);
		line[strcspn(line, "\n")] = 0;
		sleep_until(t);
		char out[4096], date[32];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(date, sizeof date, "%m-%d %H:%M:%S", &tm);
		size_t o = 0;
		for (const char *p = tab + 1; *p && o < sizeof out - 64; p++) {
			if (!strncmp(p, "{port}", 6))
				o += (size_t)snprintf(out + o, sizeof out - o, "%d", port), p += 5;
			else if (!strncmp(p, "{pid}", 5))
				o += (size_t)snprintf(out + o, sizeof out - o, "%d", (int)getpid()), p += 4;
			else if (!strncmp(p, "{date}", 6))
				o += (size_t)snprintf(out + o, sizeof out - o, "%s", date), p += 5;
			else
				out[o++] = *p;
		}
		out[o] = 0;
		int64_t tw = ttft_now_ns();
		fprintf(stderr, "%s\n", out);
		fflush(stderr);
		truth_event("line", tw, out);
	}
	fclose(f);
	return 0;
}

/* The capacity, stated as each server states it at start-up, after
 * `routes` lines of vLLM's route listing, in one write. */
static void say_capacity(int routes)
{
	size_t cap = (size_t)routes * 64 + 1024, o = 0;
	char *b = malloc(cap);
	if (!b)
		return;
	for (int i = 0; i < routes; i++)
		o += (size_t)snprintf(b + o, cap - o, "INFO [launcher.py:36] Route: /r%d, Methods: "
				      "GET\n", i);
	if (g_llamacpp && g_slots)
		o += (size_t)snprintf(b + o, cap - o, "llama_kv_cache: size =   %.2f MiB (%6d cells,"
				      "   2 layers, %2d/%d seqs), K (f16): 1.00 MiB, V (f16): 1.00 "
				      "MiB\nsrv    load_model: initializing, n_slots = %d, n_ctx_slot "
				      "= %d, kv_unified = 'false'\n", g_ctx * g_slots / 1024.0, g_ctx,
				      g_slots, g_slots, g_slots, g_ctx);
	if (!g_llamacpp && g_kv_tokens > 0)
		o += (size_t)snprintf(b + o, cap - o, "INFO [kv_cache_utils.py:634] GPU KV cache "
				      "size: %.0f tokens\nINFO [kv_cache_utils.py:637] Maximum "
				      "concurrency for %d tokens per request: %.2fx\n", g_kv_tokens,
				      g_ctx, g_kv_tokens / g_ctx);
	for (size_t w = 0; w < o;) {
		ssize_t r = write(2, b + w, o - w);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		w += (size_t)r;
	}
	free(b);
}

static void say_capacity_at_health(void)
{
	say_capacity(g_capacity_at_health);
}

int main(int argc, char **argv)
{
	int64_t t_start = ttft_now_ns();
	int port = 0;
	const char *truth = NULL, *startup = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			printf("usage: fixture-server [--port N] [--headers-ms H] [--first-ms F] "
			       "[--token-ms T]\n"
			       "         [--tokens N] [--role-lead-ms R] [--crlf] [--split N] "
			       "[--cork]\n"
			       "         [--tls CERT KEY] [--prefix-cache] [--style vllm|llamacpp]\n"
			       "         [--late-headers]\n"
			       "         [--slots N] [--ctx C] [--kv-tokens K] "
			       "[--prefill-per-token-ms X] [--capacity-at-health N]\n"
			       "         [--truth FILE] [--startup FILE] [--model NAME] "
			       "[--ipv6] [--metrics-mode M] [--no-usage] [--status S]\n"
			       "         [--slow-request N --slow-ms MS] [--empty-from K]\n"
			       "         [--exit-at K]\n"
			       "The tests' stand-in for vLLM (or llama.cpp with --style "
			       "llamacpp): its wire format,\n"
			       "/metrics and start-up lines, with injected delays and a ground "
			       "truth (--truth).\n"
			       "Prints \"port N\" once listening. Every option is described at "
			       "the top of\n"
			       "tests/support/fixture_server.c.\n");
			return 0;
		}
		if (!strcmp(a, "--crlf")) { g_def.crlf = 1; continue; }
		if (!strcmp(a, "--no-usage")) { g_def.no_usage = 1; continue; }
		if (!strcmp(a, "--ipv6")) { g_ipv6 = 1; continue; }
		if (!strcmp(a, "--prefix-cache")) { g_prefix_cache = 1; continue; }
		if (!strcmp(a, "--late-headers")) { g_late_headers = 1; continue; }
		if (!strcmp(a, "--cork")) { g_cork = 1; continue; }
		if (!strcmp(a, "--tls")) {
			if (i + 2 >= argc) {
				fprintf(stderr, "fixture-server: --tls needs CERT KEY\n");
				return 2;
			}
			g_tls = SSL_CTX_new(TLS_server_method());
			if (!g_tls || SSL_CTX_use_certificate_chain_file(g_tls, argv[i + 1]) != 1 ||
			    SSL_CTX_use_PrivateKey_file(g_tls, argv[i + 2], SSL_FILETYPE_PEM) != 1) {
				fprintf(stderr, "fixture-server: cannot use certificate %s and key "
					"%s (PEM files, e.g. from openssl req -x509)\n",
					argv[i + 1], argv[i + 2]);
				return 2;
			}
			i += 2;
			continue;
		}
		if (!v) {
			fprintf(stderr, "fixture-server: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--port")) port = atoi(v);
		else if (!strcmp(a, "--headers-ms")) g_def.headers_ms = atof(v);
		else if (!strcmp(a, "--first-ms")) g_def.first_ms = atof(v);
		else if (!strcmp(a, "--token-ms")) g_def.token_ms = atof(v);
		else if (!strcmp(a, "--role-lead-ms")) g_def.role_ms = atof(v);
		else if (!strcmp(a, "--tokens")) g_def.tokens = atoi(v);
		else if (!strcmp(a, "--split")) g_def.split = atoi(v);
		else if (!strcmp(a, "--model")) g_model = v;
		else if (!strcmp(a, "--style")) g_llamacpp = !strcmp(v, "llamacpp");
		else if (!strcmp(a, "--status")) g_def.status = atoi(v);
		else if (!strcmp(a, "--slow-request")) g_slow_request = atoi(v);
		else if (!strcmp(a, "--empty-from")) g_empty_from = atoi(v);
		else if (!strcmp(a, "--exit-at")) g_exit_at = atoi(v);
		else if (!strcmp(a, "--slow-ms")) g_slow_ms = atof(v);
		else if (!strcmp(a, "--metrics-mode")) g_metrics_mode = v;
		else if (!strcmp(a, "--slots")) g_slots = atoi(v);
		else if (!strcmp(a, "--ctx")) g_ctx = atoi(v);
		else if (!strcmp(a, "--kv-tokens")) g_kv_tokens = atof(v);
		else if (!strcmp(a, "--prefill-per-token-ms")) g_prefill_tok_ms = atof(v);
		else if (!strcmp(a, "--truth")) truth = v;
		else if (!strcmp(a, "--startup")) startup = v;
		else if (!strcmp(a, "--capacity-at-health")) g_capacity_at_health = atoi(v);
		else {
			fprintf(stderr, "fixture-server: unknown option %s\n", a);
			return 2;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	if (truth) {
		g_truth_fd = open(truth, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		if (g_truth_fd < 0) {
			fprintf(stderr, "fixture-server: cannot write --truth %s: %s\n", truth,
				strerror(errno));
			return 2;
		}
	}
	truth_event("start", t_start, NULL);
	if (startup && replay_startup(startup, port) != 0)
		return 2;
	int ls = socket(g_ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	if (g_ipv6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		s6->sin6_addr = in6addr_loopback;
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *s4;
	}
	g_listen_fd = ls;
	if (bind(ls, (struct sockaddr *)&ss, sl) != 0 || listen(ls, 1024) != 0) {
		fprintf(stderr, "fixture-server: cannot listen on %s port %d: %s\n",
			g_ipv6 ? "::1" : "127.0.0.1", port, strerror(errno));
		return 1;
	}
	if (!g_capacity_at_health)
		say_capacity(0);
	truth_event("listen", ttft_now_ns(), NULL);
	getsockname(ls, (struct sockaddr *)&ss, &sl);
	printf("port %d\n", ntohs(g_ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					 : ((struct sockaddr_in *)&ss)->sin_port));
	fflush(stdout);
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 << 10);
	for (int conn = 1;; conn++) {
		int fd = accept(ls, NULL, NULL);
		int64_t t = ttft_now_ns();
		if (fd < 0 && __atomic_load_n(&g_dying, __ATOMIC_SEQ_CST))
			pause(); /* --exit-at shut the socket: its _exit ends this */
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			return 1;
		}
		struct conn_arg *ca = malloc(sizeof *ca);
		*ca = (struct conn_arg){fd, conn, t};
		pthread_t th;
		if (pthread_create(&th, &at, serve_conn, ca) != 0) {
			free(ca);
			close(fd);
		}
	}
}
