/* ttft_record.h — one HTTP request as measured: the one record type that
 * every producer fills (ttft-analyze from the shim's log, the probe's engine
 * from libcurl for ttft-probe and ttft-cold) and every output reads (the
 * table, ttft_json_record). A field means the same whoever filled it;
 * `origin` says which groups of fields a producer can know
 * (docs/phases.md, docs/server-truth.md).
 */
#ifndef TTFT_RECORD_H
#define TTFT_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_log.h"

/* Where a split came from (ttft_server_split.source). */
#define TTFT_SPLIT_VLLM_METRICS "vllm-metrics"
#define TTFT_SPLIT_LLAMACPP_TIMINGS "llamacpp-timings"
#define TTFT_SPLIT_LLAMACPP_METRICS "llamacpp-metrics"
#define TTFT_SPLIT_MODEL "model"

/* What the server says it spent: on one request in a record (a split is
 * only given when it provably belongs to that request), or over a window
 * of several (the probe's server_window). NAN where the source gives no
 * value (docs/server-truth.md). */
struct ttft_server_split {
	const char *source;   /* one of TTFT_SPLIT_* (static), NULL: none */
	double queue_s, prefill_s, decode_s, server_ttft_s, hit_tokens;
	double requests;      /* requests the server finished in the window */
	char note[200];       /* why there is none, what part is missing, or how
	                         it was estimated */
};

/* The W3C trace context a request was sent with: rare enough to live
 * apart from its record. */
struct ttft_w3c {
	char traceparent[56];   /* log: the request's traceparent, or "" */
	char trace_id[33];      /* its trace id (vLLM's spans carry it), ""
	                           unknown */
};

/* Who filled a record. */
enum ttft_origin {
	TTFT_ORIGIN_LOG = 1,    /* the shim's log: the socket's view */
	TTFT_ORIGIN_PROBE = 2,  /* the probe's engine: libcurl's view */
};

/* Distinct token times a record holds without an allocation. */
#define TTFT_TOK_INLINE 2

struct ttft_record {
	enum ttft_origin origin;
	/* who */
	int run;                /* probe: 1-based run number; log: 0 */
	const char *label;      /* probe: "cold" / "warm" (static); log: NULL */
	int pid;                /* log: the process; probe: 0 */
	int fd;                 /* the connection's fd, -1 unknown */
	uint64_t conn;          /* log: connection id; probe: 0 */
	uint32_t seq;           /* request number on the connection */
	char method[16];
	char path[TTFT_REC_TEXT];
	/* outcome */
	int status;             /* HTTP status; 0: no response headers */
	char *error;            /* probe: why not (ttft_record_set_error) */
	uint16_t end_flags;     /* TTFT_F_TRUNCATED / TTFT_F_EOF_BODY */
	uint16_t interim;       /* log: the last interim (1xx) response read
	                           before its final one, a 100 not over
	                           another: its status; 0: none */
	char http_minor;        /* log: the response's status line said HTTP/1.x
	                           with this x, not 0 or 1 (TTFT_F_HTTP_MINOR) */
	uint8_t len_apart;      /* log: its Content-Length is one length to curl,
	                           to the close for CPython (TTFT_F_LEN_APART) */
	/* flags, a bit each: a log's record a request must stay small */
	unsigned ok : 1;        /* probe: the request succeeded */
	unsigned new_conn : 1;  /* the request opened its connection */
	unsigned done : 1;      /* [DONE] arrived */
	unsigned sse_error : 1; /* an SSE error event arrived */
	unsigned interrupted : 1;    /* probe: ended in flight by cfg->stop (its
	                                error says so): the client's doing, not
	                                the server's */
	unsigned closed_early : 1;   /* the client closed before the response
	                                end */
	unsigned closed_in_head : 1; /* … with the response's head partly read */
	unsigned head_cut : 1;       /* probe: the response's head began (its
	                                status line read) and never completed
	                                (over curl's limit on a head, the
	                                transfer ended in it): no answer, so no
	                                tokens and no e2e */
	unsigned fork_read : 1;      /* log: sent by a forked child, its
	                                response read by the process it was
	                                forked from (reader_pid) on the socket
	                                they share */
	unsigned forked : 1;         /* log: sent by a fork child on a
	                                connection it shares with its parent */
	unsigned after_answer : 1;   /* log: an earlier request on its
	                                connection had a response */
	unsigned fork_unsure : 1;    /* log: on a connection shared across fork
	                                where several processes' requests were
	                                due at once: which response answers it
	                                is not known (its response times are
	                                null) */
	unsigned timings_several : 1;/* log: llama.cpp's timings of several
	                                tasks in its stream (a request of
	                                several prompts): none is its own */
	unsigned timings_partial : 1;/* log: its last llama.cpp timings had
	                                predicted_n 0: a prefill's progress
	                                (return_progress), its prompt_ms the
	                                prefill so far */
	unsigned several_choices : 1;/* log: its stream carried a choice
	                                index other than 0 (n > 1, or several
	                                prompts): the server ran several
	                                requests for it, so no split is its
	                                own, its tokens are all choices'
	                                together and the gaps between its
	                                events are no one choice's (no ITL) */
	unsigned tokens_timings : 1; /* log: usage_tokens is llama.cpp's
	                                timings.predicted_n (no usage in
	                                its stream) */
	unsigned compressed : 1;     /* log: Content-Encoding on the response:
	                                its events (tokens) could not be read */
	unsigned not_sse : 1;        /* log: the response's headers did not say
	                                text/event-stream: its body is not read
	                                for events, so its tokens are not known
	                                (unless the body was empty); probe: a
	                                --no-stream answer, whose tokens only
	                                usage gives */
	unsigned sent_one_call : 1;  /* log: the whole request went in one call
	                                (t_req0, t_req1: its start and return) */
	unsigned setup_unknown : 1;  /* log: a new connection whose
	                                establishment is not known (a send
	                                found the response there before it
	                                could ask): no connect time, TTFT from
	                                the request */
	unsigned preopened : 1;      /* log: the connection sat open and idle
	                                before this request; TTFT starts at the
	                                request */
	unsigned cut_by_full_log : 1;/* log: unfinished when the log filled up */
	unsigned tunnel_lost : 1;    /* log: a CONNECT whose tunnel carried what
	                                the sniffer cannot read (TLS): its
	                                requests are not seen */
	unsigned cut_by_hole : 1;    /* log: in progress while the log lost
	                                events in its middle (a part not
	                                allocated) */
	unsigned bad_run : 1;        /* log: a token run record whose count no
	                                read can hold (a writer's fault): read
	                                as one token, the token count not
	                                known */
	unsigned aio : 1;            /* log: its connection's fd went to POSIX
	                                AIO (aio_read/aio_write/lio_listio)
	                                while it was in flight or before it:
	                                glibc's threads did that I/O, which
	                                the shim does not see: its bytes and
	                                times there are not seen (never
	                                complete; JSON "aio") */
	unsigned heir_unknown : 1;   /* live follower: its process closed its
	                                copy of the socket before the answer's
	                                end, and whether another process (one
	                                it handed the socket to) holds it on
	                                could not be asked (ttft_follow.c):
	                                not said to be the client's giving up */
	unsigned request_unseen : 1; /* log: a response whose request the shim
	                                did not see (a raw system call,
	                                wide-character stdio, a program image
	                                not traced): no method, path or TTFT */
	unsigned request_lost : 1;   /* log: of request_unseen, a response the
	                                shim saw answer a request it had seen,
	                                whose request's record is not in the
	                                log (lost: damaged, never sealed, a
	                                part of the log not allocated) */
	unsigned inherited : 1;      /* log: sent on a connection this program
	                                image found open when it began
	                                (inherited across exec): its setup was
	                                not seen, so no connect or DNS time;
	                                TTFT starts at the request */
	unsigned tokens_settled : 1; /* log: its gaps' percentiles worked out
	                                at its response's end and the times
	                                between its first and last token
	                                given back (ttft_record_settle) */
	unsigned tokens_late : 1;    /* log: of tokens_settled, a token event
	                                came after: its gaps are not all known
	                                (no ITL, itl_n null) */
	unsigned tls : 1;            /* log: the connection spoke TLS */
	unsigned encrypted : 1;      /* log: TLS with no plaintext seen — a
	                                connection, not a request: no method,
	                                path, status or tokens */
	int reader_pid;         /* log, fork_read: the process that read it */
	int io_err;             /* log: errno of a send/recv that failed while
	                           the response was still due (ECONNRESET)   */
	int desync;             /* log: TTFT_DESYNC_* that cut the response   */
	int64_t body_bytes;     /* log: the response body's bytes as its end
	                           counted them, -1 unknown (no end seen) */
	/* times: CLOCK_MONOTONIC ns, 0 = not seen */
	int64_t t_start;        /* log: connect begin (new connection) or first
	                           request byte; probe: the request's start */
	int64_t t_dns0, t_dns1; /* the resolution the connect used */
	int64_t t_conn0, t_est; /* connect called → handshake complete */
	int64_t t_req0;         /* first request byte sent */
	int64_t t_req1;         /* last request byte sent (the probe with
	                           libcurl < 8.10: when sending began) */
	int64_t t_hdr;          /* response headers read */
	int64_t t_first;        /* first token (non-streamed: the answer) */
	int64_t t_end;          /* response complete */
	int64_t t_end_arrived;  /* log: its last bytes arrived no earlier than
	                           this (TCP_INFO, less a tick: the client may
	                           read them later); 0 = not known */
	int64_t t_app_first;    /* log: the application's own first-token mark */
	int64_t t_wire_first;   /* log, TLS: the socket read that brought the
	                           first token's ciphertext */
	/* token events, run-length: ntime distinct times in order, how many
	 * events at each (one read can bring 2^20 at one instant: a gap of
	 * 0 between each); read them with ttft_record_tok_times/_counts */
	uint64_t ntok;          /* token events in all */
	uint32_t ntime, timecap;/* timecap 0: the times are inline */
	union {
		struct {
			int64_t t[TTFT_TOK_INLINE];
			uint32_t n[TTFT_TOK_INLINE];
		} in;           /* a usual short answer's: no allocation */
		int64_t *heap;  /* t[timecap], then uint32_t n[timecap] */
	} tok;
	long usage_tokens;      /* usage.completion_tokens (llama.cpp's
	                           timings.predicted_n where it gave no
	                           usage), -1 unknown */
	long prompt_tokens;     /* usage.prompt_tokens (llama.cpp's timings:
	                           prompt_n + cache_n), -1 unknown */
	struct ttft_w3c *w3c;   /* the W3C trace context it was sent with,
	                           NULL: none (ttft_record_trace_id) */
	uint32_t rtt_us;        /* TCP round-trip time (TCP_INFO), 0 unknown */
	double itl_p50_s, itl_p99_s; /* set once by ttft_record_finish */
	/* the server's split, read with ttft_record_split; NULL: none (most
	 * rows of a log: inline it would be a third of the record) */
	struct ttft_server_split *split;
	char *text;             /* probe: the generated text when kept */
	size_t textlen, textcap;
};

/* Per-request numbers in seconds, derived from the times; NAN where not
 * applicable. The one formula for each, whoever filled the record. */
struct ttft_phases {
	double start_s;
	double dns_s, connect_s, send_s, wait_headers_s, ttft_s, decode_s, e2e_s;
	double tls_s, wire_ttft_s; /* the TLS handshake; the first token on the
	                              wire, before decryption */
	double itl_p50_s, itl_p99_s, app_gap_s;
	double pretransfer_s, starttransfer_s; /* start → t_req0, → t_hdr */
	double server_other_s, network_s;
	double preopen_idle_s;  /* log, pre-opened: established → request */
};

/* A fresh record: no times, no split (NANs), unknown counts. */
void ttft_record_init(struct ttft_record *r, enum ttft_origin origin);
void ttft_record_free(struct ttft_record *r);
/* Append a token event; -1 when out of memory (nothing changed). */
int ttft_record_add_token(struct ttft_record *r, int64_t t_ns);
/* Append n token events all at t_ns (a run one read delivered); -1 when
 * out of memory (nothing changed). */
int ttft_record_add_tokens(struct ttft_record *r, int64_t t_ns, uint32_t n);
/* The distinct times of the token events, in order (ntime of them), and
 * how many events came at each. */
const int64_t *ttft_record_tok_times(const struct ttft_record *r);
const uint32_t *ttft_record_tok_counts(const struct ttft_record *r);
/* The time of token event k (0-based; one walk over the times), of the
 * last one; 0 when there is no such event, or its time was given back
 * (ttft_record_settle). */
int64_t ttft_record_token_at(const struct ttft_record *r, uint64_t k);
int64_t ttft_record_last_token(const struct ttft_record *r);
/* Append generated text; -1 when out of memory. */
int ttft_record_add_text(struct ttft_record *r, const char *s, size_t n);
/* Compute the numbers that cost more than arithmetic (the ITL
 * percentiles), once, after the last token. -1 when out of memory. */
int ttft_record_finish(struct ttft_record *r);
/* Its response ended: ttft_record_finish now, then the token times kept
 * on the heap given back, all but the first and the last (what a row and
 * its charts read; a trace's events need them all: not settled there).
 * Its token count is kept; ttft_record_tok_times then holds the two, and
 * ttft_record_token_at gives 0 (not known) for every token past the
 * first time's but the last (a reader of each token's time analyses with
 * TTFT_ANALYZE_ALL_TOKENS). A later token event leaves the gaps unknown
 * (tokens_late).
 * Nothing done where the times are inline (no memory to give back).
 * -1 when out of memory (nothing changed). */
int ttft_record_settle(struct ttft_record *r);
/* The server's split of the record: one all NAN, with no source and no
 * note, where none was given. */
const struct ttft_server_split *ttft_record_split(const struct ttft_record *r);
/* The record's split to fill in (made on first use); NULL when out of
 * memory. */
struct ttft_server_split *ttft_record_split_rw(struct ttft_record *r);
/* Give the record split s: 0, or -1 when out of memory (nothing changed).
 * An s with no source and no note takes no memory. */
int ttft_record_set_split(struct ttft_record *r, const struct ttft_server_split *s);
/* The trace id and (log) the traceparent a request was sent with; ""
 * when not known. */
const char *ttft_record_trace_id(const struct ttft_record *r);
const char *ttft_record_traceparent(const struct ttft_record *r);
/* The record's trace context to fill in (made on first use, all ""); NULL
 * when out of memory. */
struct ttft_w3c *ttft_record_w3c_rw(struct ttft_record *r);
/* Record the first cause of failure (later ones are dropped); ok = 0. */
void ttft_record_set_error(struct ttft_record *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The error message; NULL when there is none. */
const char *ttft_record_error(const struct ttft_record *r);

void ttft_record_phases(const struct ttft_record *r, struct ttft_phases *p);
/* A log record: 1 when the response ended normally, else 0 and
 * ttft_record_note says why. */
int ttft_record_complete(const struct ttft_record *r);
/* A log record: why its row is not a whole, normal exchange, and whether
 * its connection was pre-opened, as the table and --json show it; NULL
 * when there is nothing to say. The note is in buf, or (one fixed part
 * that fits, the common case) a string constant of the program's own. */
const char *ttft_record_note(const struct ttft_record *r, char *buf, size_t len);
/* What a TTFT_DESYNC_* reason means, for people (tls: on a TLS
 * connection's plaintext). */
const char *ttft_desync_text(int desync, int tls);

/* 1 when t is a W3C trace-context trace id: 32 lower-case hex digits,
 * not all zero (the all-zero id is invalid there); rows carry no other. */
int ttft_trace_id_ok(const char *t);
/* 1 when tp (a traceparent's first 55 characters, NUL-ended; more: the
 * value went on after them with a '-' and more, TTFT_F_TP_MORE) is one
 * W3C calls valid: "vv-<trace id>-<parent id>-ff", lower-case hex only,
 * the version not ff, neither id all zeros, and nothing after the 55
 * characters for version 00 (a later version may add "-…" fields). A
 * receiver given any other starts a new trace, so its trace id would link
 * to no span. */
int ttft_traceparent_ok(const char *tp, int more);
/* A log record: 1 when its response began (its headers were read) before
 * the request's last byte was sent, or with that byte never seen sent:
 * the server answered before it had the whole request (an early 401 or
 * 413, a stream that starts at once while the client still uploads).
 * Then nothing between the last request byte and the response is a wait:
 * wait_headers_s and server_other_s are null, no breakdown splits the
 * TTFT into send and server, and the note says so; TTFT and e2e, from
 * the request's start, stay. */
int ttft_record_early(const struct ttft_record *r);
/* Where the send phase begins: the request's first byte, or, where the
 * request rode the connection's setup (TCP Fast Open: its first byte
 * stamped where the connect began), the setup's end. 0: not seen. */
int64_t ttft_record_send_start(const struct ttft_record *r);
double ttft_record_ttft_s(const struct ttft_record *r);
double ttft_record_e2e_s(const struct ttft_record *r);
/* Both at once (what they share worked once). */
void ttft_record_ttft_e2e_s(const struct ttft_record *r, double *ttft_s, double *e2e_s);
/* Output tokens: the server's usage when it gave one, else token events;
 * -1 when they are not known (never a made-up 0): an encrypted or
 * compressed response, or a log row whose response is not an event
 * stream (Ollama's NDJSON, a non-streamed JSON answer) and whose body was
 * not seen to be empty, or a probe's --no-stream answer without a usable
 * usage. */
long ttft_record_tokens(const struct ttft_record *r);
/* Where ttft_record_tokens' count comes from. Only usage, timings and
 * empty are exact: token events are a lower bound, since one event can
 * carry several tokens (vLLM's speculative decoding or stream_interval,
 * a detokenizer holding back a partial UTF-8 character or a stop
 * string's prefix, a usage inside a token event left unread). */
enum {
	TTFT_TOKENS_UNKNOWN, /* ttft_record_tokens is -1 */
	TTFT_TOKENS_USAGE,   /* the server's usage.completion_tokens */
	TTFT_TOKENS_TIMINGS, /* llama.cpp's timings.predicted_n (no usage) */
	TTFT_TOKENS_EVENTS,  /* token events counted: at least that many */
	TTFT_TOKENS_EMPTY,   /* a body seen whole and empty: 0 for sure */
};
int ttft_record_tokens_source(const struct ttft_record *r);
/* Both at once: the count, its source in *src (one rule, worked once). */
long ttft_record_tokens_src(const struct ttft_record *r, int *src);
/* Said once under a table that shows a count of events as "≥N". */
#define TTFT_TOKENS_AT_LEAST_RULE                                                  \
	"tokens '≥N': token events counted, the stream carried no usage the "    \
	"count could take (docs/phases.md), and one event can carry several "    \
	"tokens; vLLM gives its count with stream_options.include_usage"
/* "usage", "timings", "events", "empty"; NULL for TTFT_TOKENS_UNKNOWN
 * (the --json rows' tokens_source) */
const char *ttft_tokens_source_name(int src);
/* A request target's origin form: an absolute-form target (a request
 * through a plain HTTP proxy, "http://vllm:8000/v1/completions") from the
 * first '/', '?' or '#' after its authority ("" when it has none: its
 * path is "/"); any other target as it is. */
const char *ttft_target_path(const char *target);
/* The gaps between token events that itl_p50_s and itl_p99_s are taken
 * from (ntok - 1; 0 for fewer than 2 events): what says why an itl_p99_s
 * is null (100 needed, ttft_quantile_min_n). -1 when they are not known,
 * never a made-up 0: the events were not visible (an encrypted or
 * compressed response, a body not read for events, a non-streamed
 * answer; an empty body has none) or the response is not known to be the
 * row's own (fork_unsure). */
long ttft_record_itl_n(const struct ttft_record *r);
/* The same, given tokens: ttft_record_tokens(r), which the caller has. */
long ttft_record_itl_n_tok(const struct ttft_record *r, long tokens);
/* A log record whose tokens are not known because its response is not an
 * event stream (ttft_record_tokens is -1 for it; its note says why). */
int ttft_record_not_sse(const struct ttft_record *r);
/* (first token − request sent) − queue − prefill, only when the server
 * gave a split with a prefill: what the server does not explain
 * (docs/server-truth.md). */
double ttft_record_server_other_s(const struct ttft_record *r);

#endif
