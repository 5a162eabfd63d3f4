/* ttft_record.c — see ttft_record.h. */
#include "ttft_record.h"
#include "ttft_http.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_summary.h"

/* Stands in for a message that could not be stored (out of memory); never
 * freed. */
static char g_error_lost[] = "out of memory while recording the error";

/* The split of every record not given one. */
static const struct ttft_server_split g_split_none = {
	.queue_s = NAN, .prefill_s = NAN, .decode_s = NAN, .server_ttft_s = NAN,
	.hit_tokens = NAN, .requests = NAN,
};

void ttft_record_init(struct ttft_record *r, enum ttft_origin origin)
{
	memset(r, 0, sizeof *r);
	r->origin = origin;
	r->fd = -1;
	r->usage_tokens = -1;
	r->prompt_tokens = -1;
	r->body_bytes = -1;
	r->itl_p50_s = r->itl_p99_s = NAN;
}

void ttft_record_free(struct ttft_record *r)
{
	if (r->timecap)
		free(r->tok.heap);
	free(r->text);
	free(r->split);
	free(r->w3c);
	r->split = NULL;
	r->w3c = NULL;
	if (r->error != g_error_lost)
		free(r->error);
	r->text = NULL;
	r->error = NULL;
	r->ntok = 0;
	r->ntime = r->timecap = 0;
	r->textlen = r->textcap = 0;
}

const int64_t *ttft_record_tok_times(const struct ttft_record *r)
{
	return r->timecap ? r->tok.heap : r->tok.in.t;
}

const uint32_t *ttft_record_tok_counts(const struct ttft_record *r)
{
	return r->timecap ? (const uint32_t *)(r->tok.heap + r->timecap) : r->tok.in.n;
}

/* Room for one more distinct time: from inline to the heap, or twice the
 * heap's; -1 when out of memory (nothing changed). */
static int tok_grow(struct ttft_record *r)
{
	uint32_t cap = r->timecap ? r->timecap : TTFT_TOK_INLINE;
	if (cap >= UINT32_MAX / 2)
		return -1;
	/* past two, a stream's times are dozens at least */
	uint32_t nc = r->timecap ? cap * 2 : 32;
	size_t each = sizeof(int64_t) + sizeof(uint32_t);
	int64_t *t = r->timecap ? realloc(r->tok.heap, nc * each) : malloc(nc * each);
	if (!t)
		return -1;
	uint32_t *n = (uint32_t *)(t + nc);
	if (r->timecap) {
		/* the counts followed the old capacity's times */
		memmove(n, t + cap, cap * sizeof *n);
	} else {
		memcpy(t, r->tok.in.t, sizeof r->tok.in.t);
		memcpy(n, r->tok.in.n, sizeof r->tok.in.n);
	}
	r->tok.heap = t;
	r->timecap = nc;
	return 0;
}

int ttft_record_add_tokens(struct ttft_record *r, int64_t t_ns, uint32_t n)
{
	if (n == 0)
		return 0;
	int64_t *t = (int64_t *)ttft_record_tok_times(r);
	uint32_t *c = (uint32_t *)ttft_record_tok_counts(r);
	uint32_t i = r->ntime;
	if (i && t[i - 1] == t_ns && c[i - 1] <= UINT32_MAX - n) {
		c[i - 1] += n; /* the same instant: a run of zero gaps */
	} else {
		if (i == (r->timecap ? r->timecap : TTFT_TOK_INLINE)) {
			if (tok_grow(r) != 0)
				return -1;
			t = r->tok.heap;
			c = (uint32_t *)(t + r->timecap);
		}
		t[i] = t_ns;
		c[i] = n;
		r->ntime++;
	}
	if (__builtin_expect(r->tokens_settled, 0)) {
		/* the gaps it had are gone: none is known now */
		r->tokens_late = 1;
		r->itl_p50_s = r->itl_p99_s = NAN;
	}
	if (r->ntok == 0)
		r->t_first = t_ns;
	r->ntok += n;
	return 0;
}

int ttft_record_add_token(struct ttft_record *r, int64_t t_ns)
{
	return ttft_record_add_tokens(r, t_ns, 1);
}

int64_t ttft_record_token_at(const struct ttft_record *r, uint64_t k)
{
	const int64_t *t = ttft_record_tok_times(r);
	const uint32_t *c = ttft_record_tok_counts(r);
	for (uint32_t i = 0; i < r->ntime; k -= c[i], i++)
		if (k < c[i])
			/* settled: of the tokens past the first time's, the
			 * last one's time is kept, the others' were given back
			 * (not known: 0, never the last's in their place) */
			return r->tokens_settled && i == 1 && k + 1 < c[i] ? 0 : t[i];
	return 0;
}

int64_t ttft_record_last_token(const struct ttft_record *r)
{
	return r->ntime ? ttft_record_tok_times(r)[r->ntime - 1] : 0;
}

int ttft_record_add_text(struct ttft_record *r, const char *s, size_t n)
{
	if (r->textlen + n + 1 > r->textcap) {
		size_t nc = (r->textlen + n + 1) * 2;
		char *p = realloc(r->text, nc);
		if (!p)
			return -1;
		r->text = p;
		r->textcap = nc;
	}
	memcpy(r->text + r->textlen, s, n);
	r->textlen += n;
	r->text[r->textlen] = 0;
	return 0;
}

int ttft_record_finish(struct ttft_record *r)
{
	if (r->tokens_settled) {
		/* worked out at its end, from times since given back; a choice
		 * other than 0 may have shown itself since */
		if (r->several_choices || r->tokens_late)
			r->itl_p50_s = r->itl_p99_s = NAN;
		return 0;
	}
	r->itl_p50_s = r->itl_p99_s = NAN;
	if (r->ntok < 2 || r->several_choices)
		return 0; /* several choices' events interleave: no one's gaps */
	/* the gaps between distinct times, and a 0 for every event that came
	 * at the time of the one before it: ntok - 1 in all, the zeros only
	 * counted */
	size_t n = r->ntime - 1;
	double few[64]; /* a usual stream's: no allocation */
	double *d = n <= 64 ? few : malloc(n * sizeof *d);
	if (!d)
		return -1;
	const int64_t *t = ttft_record_tok_times(r);
	for (size_t i = 0; i < n; i++) {
		int64_t g;
		/* a damaged log's instants may be anything: a gap past 2^63
		 * is no number, nor are the percentiles of the gaps (as span) */
		if (__builtin_sub_overflow(t[i + 1], t[i], &g)) {
			if (d != few)
				free(d);
			return 0;
		}
		d[i] = (double)g / 1e9;
	}
	static const double q[2] = {0.5, 0.99};
	double pq[2];
	ttft_percentiles_select_zeros(d, n, (size_t)(r->ntok - r->ntime), q, pq, 2);
	r->itl_p50_s = pq[0];
	r->itl_p99_s = pq[1];
	if (d != few)
		free(d);
	return 0;
}

int ttft_record_settle(struct ttft_record *r)
{
	if (!r->timecap || r->tokens_settled)
		return 0;
	const int64_t *t = r->tok.heap;
	const uint32_t *c = ttft_record_tok_counts(r);
	/* the first time's count and the rest's, as two counts can hold them */
	if (r->ntok - c[0] > UINT32_MAX)
		return 0; /* kept whole (never met: 2^32 tokens) */
	if (ttft_record_finish(r) != 0)
		return -1;
	int64_t first = t[0], last = t[r->ntime - 1];
	uint32_t n0 = c[0];
	free(r->tok.heap);
	r->timecap = 0;
	r->ntime = 2;
	r->tok.in.t[0] = first;
	r->tok.in.t[1] = last;
	r->tok.in.n[0] = n0;
	r->tok.in.n[1] = (uint32_t)(r->ntok - n0);
	r->tokens_settled = 1;
	return 0;
}

const struct ttft_server_split *ttft_record_split(const struct ttft_record *r)
{
	return r->split ? r->split : &g_split_none;
}

struct ttft_server_split *ttft_record_split_rw(struct ttft_record *r)
{
	if (r->split)
		return r->split;
	struct ttft_server_split *s = malloc(sizeof *s);
	if (!s)
		return NULL;
	*s = g_split_none;
	r->split = s;
	return s;
}

int ttft_record_set_split(struct ttft_record *r, const struct ttft_server_split *s)
{
	if (!r->split && !s->source && !s->note[0] && isnan(s->queue_s) &&
	    isnan(s->prefill_s) && isnan(s->decode_s) && isnan(s->server_ttft_s) &&
	    isnan(s->hit_tokens) && isnan(s->requests))
		return 0; /* nothing to say: the shared one says it */
	struct ttft_server_split *o = ttft_record_split_rw(r);
	if (!o)
		return -1;
	*o = *s;
	return 0;
}

const char *ttft_record_trace_id(const struct ttft_record *r)
{
	return r->w3c ? r->w3c->trace_id : "";
}

const char *ttft_record_traceparent(const struct ttft_record *r)
{
	return r->w3c ? r->w3c->traceparent : "";
}

struct ttft_w3c *ttft_record_w3c_rw(struct ttft_record *r)
{
	if (!r->w3c)
		r->w3c = calloc(1, sizeof *r->w3c);
	return r->w3c;
}

void ttft_record_set_error(struct ttft_record *r, const char *fmt, ...)
{
	r->ok = 0;
	if (r->error)
		return; /* keep the first cause */
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&r->error, fmt, ap) < 0)
		r->error = g_error_lost;
	va_end(ap);
}

const char *ttft_record_error(const struct ttft_record *r)
{
	return r->error;
}

static double span(int64_t a, int64_t b)
{
	int64_t d;
	/* a damaged log's instants may be anything: no overflow, no number */
	if (!a || !b || __builtin_sub_overflow(b, a, &d))
		return NAN;
	return (double)d / 1e9;
}

static int disordered(const struct ttft_record *r);

/* A log record whose TTFT and e2e contradict each other or are negative
 * (its times are out of order): neither is shown. */
static int contradicts(const struct ttft_record *r)
{
	double t = span(r->t_start, r->t_first), e = span(r->t_start, r->t_end);
	return (t < 0 || e < 0 || t > e) && disordered(r);
}

/* TTFT and e2e of a record whose contradicts() is c: one rule for each,
 * whether asked alone or together (contradicts worked once). */
static double ttft_of(const struct ttft_record *r, int c)
{
	return r->fork_unsure || c ? NAN : span(r->t_start, r->t_first);
}

static double e2e_of(const struct ttft_record *r, int c)
{
	/* no answer: the close ends no response (a server dropping
	 * connections fast would make e2e look fast) */
	return r->fork_unsure || (r->end_flags & TTFT_F_NO_ANSWER) || r->head_cut || c
		       ? NAN
		       : span(r->t_start, r->t_end);
}

double ttft_record_ttft_s(const struct ttft_record *r)
{
	return ttft_of(r, contradicts(r));
}

double ttft_record_e2e_s(const struct ttft_record *r)
{
	return e2e_of(r, contradicts(r));
}

void ttft_record_ttft_e2e_s(const struct ttft_record *r, double *ttft_s, double *e2e_s)
{
	int c = contradicts(r);
	*ttft_s = ttft_of(r, c);
	*e2e_s = e2e_of(r, c);
}

int ttft_record_not_sse(const struct ttft_record *r)
{
	/* an event read means the body was an event stream (a log written
	 * by hand may leave the flag out); an empty body has no tokens */
	return r->not_sse && !r->encrypted && !r->compressed && !r->ntok && !r->done &&
	       !r->sse_error && r->usage_tokens < 0 &&
	       !(r->t_end && r->body_bytes == 0 &&
		 !(r->end_flags & (TTFT_F_TRUNCATED | TTFT_F_EOF_BODY)));
}

/* The count and where it comes from (TTFT_TOKENS_*): one rule for both. */
long ttft_record_tokens_src(const struct ttft_record *r, int *src)
{
	*src = TTFT_TOKENS_UNKNOWN;
	if (r->encrypted || r->compressed || ttft_record_not_sse(r))
		return -1; /* unknown, not zero */
	/* no answer at all (no response head, or one that never completed;
	 * no event, no usage): nothing was streamed to count, not 0 events
	 * of a stream */
	if (r->head_cut ||
	    (!r->status && !r->t_hdr && !r->ntok && !r->done && !r->sse_error &&
	     r->usage_tokens < 0))
		return -1;
	/* each token event holds one token at least: a count below them is
	 * not the stream's — timings of several tasks the timings did not
	 * tell apart, one choice's usage among several (llama.cpp's n > 1:
	 * each choice's last event carries its own usage; vLLM's one usage
	 * counts them all), a usage said before the stream ended with token
	 * events after it (vLLM's continuous_usage_stats in a role chunk, a
	 * stream cut before its usage chunk); nor one task's timings among
	 * several choices */
	int events = r->usage_tokens < 0 || (uint64_t)r->usage_tokens < r->ntok ||
		     (r->tokens_timings && r->several_choices);
	if (!events) {
		*src = r->tokens_timings ? TTFT_TOKENS_TIMINGS : TTFT_TOKENS_USAGE;
		return r->usage_tokens;
	}
	/* a body seen whole and empty has no tokens for sure (not one the
	 * server's close ended: a cut one ends the same way); else an event
	 * may have carried several (a lower bound) */
	*src = !r->ntok && r->t_end && r->body_bytes == 0 &&
			       !(r->end_flags & (TTFT_F_TRUNCATED | TTFT_F_EOF_BODY))
		       ? TTFT_TOKENS_EMPTY
		       : TTFT_TOKENS_EVENTS;
	return (long)r->ntok;
}

long ttft_record_tokens(const struct ttft_record *r)
{
	int src;
	return ttft_record_tokens_src(r, &src);
}

int ttft_record_tokens_source(const struct ttft_record *r)
{
	int src;
	ttft_record_tokens_src(r, &src);
	return src;
}

const char *ttft_target_path(const char *target)
{
	size_t s = strspn(target, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				  "0123456789+-.");
	if (!s || strncmp(target + s, "://", 3) != 0)
		return target;
	const char *a = target + s + 3;
	return a + strcspn(a, "/?#");
}

const char *ttft_tokens_source_name(int src)
{
	switch (src) {
	case TTFT_TOKENS_USAGE: return "usage";
	case TTFT_TOKENS_TIMINGS: return "timings";
	case TTFT_TOKENS_EVENTS: return "events";
	case TTFT_TOKENS_EMPTY: return "empty";
	default: return NULL;
	}
}

long ttft_record_itl_n(const struct ttft_record *r)
{
	return ttft_record_itl_n_tok(r, ttft_record_tokens(r));
}

long ttft_record_itl_n_tok(const struct ttft_record *r, long tokens)
{
	/* a body that is not an event stream has tokens (its usage says how
	 * many) but no events to put gaps between, unless it was empty */
	if (r->encrypted || r->compressed || r->fork_unsure || r->several_choices ||
	    r->tokens_late ||
	    (r->not_sse && !r->ntok && tokens != 0))
		return -1;
	return r->ntok > 1 ? (long)(r->ntok - 1) : 0;
}

int ttft_record_early(const struct ttft_record *r)
{
	/* no last byte seen: early only where the framing was not lost (a
	 * desync leaves it unseen too) */
	return r->origin == TTFT_ORIGIN_LOG && !r->request_unseen && !r->encrypted &&
	       r->t_req0 && r->t_hdr &&
	       (r->t_req1 ? r->t_hdr < r->t_req1 : !r->desync);
}

/* From the last request byte: the server cannot start before it has the
 * whole request, and the time the client spends sending is the client's.
 * With llama.cpp, which reports no queue time, queueing stays in here. */
double ttft_record_server_other_s(const struct ttft_record *r)
{
	const struct ttft_server_split *s = ttft_record_split(r);
	if (!s->source || !r->t_first || !r->t_req1 || isnan(s->prefill_s) ||
	    ttft_record_early(r))
		return NAN; /* answered before it was sent: no wait to explain */
	/* span: a damaged log's two instants more than 2^63 ns apart are
	 * no number, not a wrapped (negative) wait */
	return span(r->t_req1, r->t_first) - s->prefill_s -
	       (isnan(s->queue_s) ? 0 : s->queue_s);
}

/* TCP Fast Open: the connection's setup carried the request (the shim
 * stamps both where the one call began) and ended after it began. */
static int ttft_record_fastopen(const struct ttft_record *r)
{
	return r->new_conn && r->t_req0 && r->t_req0 == r->t_conn0 &&
	       r->t_est > r->t_req0;
}

/* A log record whose times contradict each other (a writer's fault, or
 * a damaged record its seal did not catch): a send that ends before it
 * began, a token or headers after the response's end, a first token
 * before the headers… Its row is not complete, says so, and shows none of
 * the phases that would come out negative. */
static int disordered(const struct ttft_record *r)
{
	if (r->origin != TTFT_ORIGIN_LOG)
		return 0;
#define BEFORE(a, b) ((a) && (b) && (a) > (b))
	int64_t last = r->ntok ? ttft_record_last_token(r) : 0;
	return BEFORE(r->t_dns0, r->t_dns1) || BEFORE(r->t_conn0, r->t_est) ||
	       (BEFORE(r->t_est, r->t_req0) && !ttft_record_fastopen(r)) ||
	       /* TCP Fast Open's sending counts from the setup's end: an
	        * end after the request was sent (a shape the shim never
	        * writes) is a send that ends before it began */
	       (ttft_record_fastopen(r) && BEFORE(r->t_est, r->t_req1)) ||
	       BEFORE(r->t_start, r->t_req0) || BEFORE(r->t_req0, r->t_req1) ||
	       BEFORE(r->t_start, r->t_hdr) || BEFORE(r->t_hdr, r->t_first) ||
	       BEFORE(r->t_start, r->t_first) || BEFORE(r->t_hdr, r->t_end) ||
	       BEFORE(r->t_first, r->t_end) || BEFORE(last, r->t_end);
#undef BEFORE
}

int64_t ttft_record_send_start(const struct ttft_record *r)
{
	return ttft_record_fastopen(r) ? r->t_est : r->t_req0;
}

static void no_negative(double *v)
{
	if (*v < 0)
		*v = NAN;
}

void ttft_record_phases(const struct ttft_record *r, struct ttft_phases *p)
{
	p->start_s = r->t_start ? (double)r->t_start / 1e9 : NAN;
	p->dns_s = r->new_conn ? span(r->t_dns0, r->t_dns1) : NAN;
	p->connect_s = r->new_conn ? span(r->t_conn0, r->t_est) : NAN;
	/* TLS: connected → the first request byte handed to the TLS library */
	p->tls_s = r->tls && r->new_conn && !r->encrypted ? span(r->t_est, r->t_req0)
							    : NAN;
	p->wire_ttft_s = span(r->t_start, r->t_wire_first);
	/* from the connection's setup on, when the request began before it
	 * (TCP Fast Open: the request rides the handshake, within connect) */
	p->send_s = span(ttft_record_send_start(r), r->t_req1);
	p->wait_headers_s = span(r->t_req1, r->t_hdr);
	ttft_record_ttft_e2e_s(r, &p->ttft_s, &p->e2e_s);
	p->decode_s = r->ntok ? span(ttft_record_tok_times(r)[0], ttft_record_last_token(r))
			      : NAN;
	p->itl_p50_s = r->itl_p50_s;
	p->itl_p99_s = r->itl_p99_s;
	p->app_gap_s = span(r->t_first, r->t_app_first);
	p->pretransfer_s = span(r->t_start, r->t_req0);
	p->starttransfer_s = span(r->t_start, r->t_hdr);
	p->server_other_s = ttft_record_server_other_s(r);
	p->network_s = r->rtt_us ? (double)r->rtt_us / 1e6 : NAN;
	p->preopen_idle_s = r->preopened ? span(r->t_est, r->t_req0) : NAN;
	if (ttft_record_early(r)) /* answered before sent: not a wait */
		p->wait_headers_s = NAN;
	if (r->fork_unsure) /* its response is not known to be its own */
		p->wait_headers_s = p->decode_s = p->itl_p50_s = p->itl_p99_s =
			p->app_gap_s = p->starttransfer_s = p->server_other_s =
			p->wire_ttft_s = p->network_s = NAN;
	if (disordered(r)) {
		double *v[] = {&p->dns_s, &p->connect_s, &p->tls_s, &p->wire_ttft_s,
			       &p->send_s, &p->wait_headers_s, &p->ttft_s, &p->decode_s,
			       &p->e2e_s, &p->pretransfer_s, &p->starttransfer_s,
			       &p->server_other_s};
		for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
			no_negative(v[i]);
		/* a token after the end: the decode runs past the e2e */
		if (p->ttft_s + p->decode_s > p->e2e_s)
			p->decode_s = NAN;
	}
}

/* 1 when s[0..n) is W3C's hex: lower-case only. */
static int w3c_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* A trace or parent id: hex, and not all zeros (invalid for both). */
static int w3c_id(const char *s, size_t n)
{
	if (!w3c_hex(s, n))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] != '0')
			return 1;
	return 0;
}

int ttft_trace_id_ok(const char *t)
{
	return strnlen(t, 33) == 32 && w3c_id(t, 32);
}

int ttft_traceparent_ok(const char *tp, int more)
{
	/* "vv-<trace id>-<parent id>-ff"; "-…" after it only from a later
	 * version (version 00 is exactly the four fields) */
	return strnlen(tp, 55) == 55 && tp[2] == '-' && tp[35] == '-' && tp[52] == '-' &&
	       w3c_hex(tp, 2) && strncmp(tp, "ff", 2) && !(more && !strncmp(tp, "00", 2)) &&
	       w3c_id(tp + 3, 32) && w3c_id(tp + 36, 16) && w3c_hex(tp + 53, 2);
}

const char *ttft_desync_text(int d, int tls)
{
	if (d == TTFT_DESYNC_NOT_HTTP && tls)
		return "HTTP/2 or another protocol inside TLS (HTTP/1.1 only: "
		       "e.g. curl --http1.1)";
	switch (d) {
	case TTFT_DESYNC_NOT_HTTP: return "not HTTP/1.x (HTTP/2?)";
	case TTFT_DESYNC_BAD_STATUS: return "response is not HTTP/1.x";
	case TTFT_DESYNC_BAD_CHUNK: return "malformed chunked encoding";
	case TTFT_DESYNC_LOST_BYTES: return "bytes passed unseen (MSG_TRUNC, "
					    "sendfile, splice, stdio)";
	case TTFT_DESYNC_UPGRADE: return "protocol upgrade (101): what followed is "
					  "not HTTP/1.x";
	case TTFT_DESYNC_BAD_LENGTH: return "a Content-Length the clients read "
					    "differently (values that differ, one "
					    "folded onto the next line, or one past "
					    "the 40 bytes kept of a header line)";
	default: return "unknown";
	}
}

int ttft_record_complete(const struct ttft_record *r)
{
	return r->t_end && !r->request_unseen && !r->fork_unsure && !r->aio &&
	       !(r->end_flags & TTFT_F_TRUNCATED) &&
	       !r->closed_early &&
	       !r->sse_error && !r->io_err && !r->desync && !r->cut_by_full_log &&
	       !r->cut_by_hole && !r->tunnel_lost &&
	       !r->compressed && !r->bad_run && !disordered(r);
}

/* A note's part that varies, formatted into b (cut to n - 1 bytes). The
 * fixed parts are literals, not formatted for every row; each is shorter
 * than the buffer a formatted one of its kind gets. */
static const char *say(char *b, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *say(char *b, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(b, n, fmt, ap);
	va_end(ap);
	return b;
}

/* Appends s (n bytes) to the note in buf; 0 when it had to be cut there
 * (at is then len - 1: the buffer is full). */
static int note_add(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	size_t fit = n < len - *at ? n : len - *at - 1;
	memcpy(buf + *at, s, fit);
	*at += fit;
	buf[*at] = 0;
	return fit == n;
}

/* An event stream whose body ended at the server's close (HTTP/1.0, or
 * "Connection: close" with no length and no chunks) with no [DONE]: a
 * server that stopped mid-stream ends it the same way, so its end and
 * token count may be short; the framing cannot tell (an Anthropic or
 * llama.cpp /completion stream sends no [DONE]: the note holds for them
 * too). Not where the row already says why it ended. */
static int closed_without_done(const struct ttft_record *r)
{
	return (r->end_flags & TTFT_F_EOF_BODY) && !(r->end_flags & TTFT_F_TRUNCATED) &&
	       r->t_end && !r->done && !r->sse_error && !r->encrypted &&
	       !r->compressed && !r->closed_early && (!r->not_sse || r->ntok);
}

const char *ttft_record_note(const struct ttft_record *r, char *buf, size_t len)
{
	char whyb[256], preb[160], earlyb[160]; /* whyb: a reason whole */
	const char *why = "", *pre = "", *tok = "", *cut = "", *early = "";
	if (r->encrypted)
		why = "encrypted: not visible";
	else if (r->aio)
		why = "its connection's I/O went through POSIX AIO (aio_read, "
		      "aio_write, lio_listio), which glibc's own threads do where "
		      "the shim cannot see: its bytes there and their times are "
		      "not seen, and what the row shows is not timed whole";
	else if (r->fork_unsure)
		why = "on a connection shared across fork, several "
			 "processes' requests were due at once: which response answers "
			 "this one is not known";
	else if (disordered(r))
		why = "its times are out of order in the log (a "
			 "writer's fault, or a damaged record): the phases that would "
			 "be negative are not shown";
	else if (r->request_lost)
		why = "its request's record is not in the log "
			 "(lost with the records the log counts as damaged, unsealed "
			 "or not allocated): no TTFT";
	else if (r->request_unseen && r->desync)
		why = say(whyb, sizeof whyb, "its request could not be read: the sniffer "
			 "lost the framing earlier on this connection (%s): no TTFT",
			 ttft_desync_text(r->desync, r->tls));
	else if (r->request_unseen)
		why = "its request was not seen (sent by a raw system "
			 "call, wide-character stdio, or a program the shim did not "
			 "trace): no TTFT";
	else if (r->io_err == ECONNRESET)
		why = "the server reset the connection (ECONNRESET)";
	else if (r->io_err)
		why = say(whyb, sizeof whyb, "a send or receive failed: %s",
			  strerror(r->io_err));
	else if (r->desync)
		why = say(whyb, sizeof whyb, "the sniffer lost the framing: %s",
			 ttft_desync_text(r->desync, r->tls));
	else if (r->tunnel_lost)
		why = "what went through its tunnel is not HTTP/1.x the shim can read "
			 "(TLS no tapped library opened, or another protocol): those "
			 "requests are not seen";
	else if (r->cut_by_hole)
		why = "the log lost events while this request "
			 "was in progress (a part of it could not be allocated: its "
			 "filesystem near full): its numbers may be short";
	else if (r->cut_by_full_log)
		why = "the log filled up: later events were dropped "
			 "(rerun with a larger TTFT_LOG_MB)";
	else if (!r->t_end && r->forked && !r->t_hdr)
		why = "no response read: a forked process's request "
			 "on a connection it shares with its parent, which read no "
			 "response for it either";
	else if ((r->end_flags & TTFT_F_NO_ANSWER) && r->interim && !r->t_hdr)
		why = say(whyb, sizeof whyb, "the server closed the connection after "
			 "only an interim %d response, before the final one", r->interim);
	else if (r->end_flags & TTFT_F_NO_ANSWER)
		why = say(whyb, sizeof whyb, "the server closed the connection without "
			 "answering%s", r->new_conn ? "" : " (not the connection's first "
			 "request: clients retry those on a new one)");
	else if (r->heir_unknown)
		why = "its process closed its copy of the socket before the "
		      "response's end; a process it handed the socket to "
		      "(posix_spawn, exec) may read on, which the live follower "
		      "could not ask: not known to be the client's giving up";
	else if (r->closed_in_head)
		why = "client closed early, in the response's "
			 "head (it had begun to arrive)";
	else if (!r->t_end && !r->new_conn && !r->t_hdr && !r->interim &&
		 r->after_answer)
		why = "no response on a reused connection: the "
			 "client retries";
	else if (!r->t_end && !r->t_hdr && r->closed_early && r->interim)
		why = say(whyb, sizeof whyb, "the client closed after only an interim "
			 "%d response was read, before the final one", r->interim);
	else if (!r->t_end && !r->t_hdr && r->closed_early)
		why = "the client closed before any of the response "
			 "was seen (it read none, or read it where the shim cannot see: "
			 "stdio input, a raw system call)";
	else if (r->end_flags & TTFT_F_TRUNCATED)
		why = "server closed mid-response";
	else if (r->sse_error)
		why = "error event in stream";
	else if (r->compressed)
		why = "compressed body: tokens not visible";
	else if (r->bad_run)
		why = "a token record's count or times were impossible "
			 "(a writer's fault): the token count is not known";
	else if (r->closed_early && r->done)
		why = "the client closed after [DONE], before the response's own "
		      "end (its last chunk, or the server's close): every event "
		      "came; its end, so e2e, not seen";
	else if (r->closed_early)
		why = "client closed early";
	else if (!r->t_end && !r->t_hdr && r->interim)
		why = say(whyb, sizeof whyb, "incomplete: only an interim %d response "
			 "was read", r->interim);
	else if (!r->t_end)
		why = "incomplete";
	if (r->preopened)
		pre = say(preb, sizeof preb, "connection opened %.1f ms before the request",
			 span(r->t_est, r->t_req0) * 1e3);
	else if (r->inherited)
		pre = "connection inherited across exec: its setup "
			 "was not seen";
	else if (r->setup_unknown)
		pre = "the connection's setup end was not seen: "
			 "no connect time, TTFT from the request";
	else if (ttft_record_fastopen(r))
		pre = "the request went out with the connection's "
			 "setup (TCP Fast Open): its sending is within connect";
	else if (r->fork_read)
		pre = say(preb, sizeof preb, "sent by pid %d, its response read by pid %d "
			 "(a connection shared across fork)", r->pid, r->reader_pid);
	if (ttft_record_not_sse(r))
		tok = "not an event stream: its tokens are not read";
	else if (r->several_choices)
		tok = "several choices in one stream (n > 1): its tokens are all "
		      "choices' together, its inter-token gaps no one choice's (no ITL)";
	else if (r->tokens_late)
		tok = "a token event came after its response's end (two readers of "
		      "one connection, or a damaged log): its inter-token gaps are not "
		      "all known (no ITL)";
	/* its own part: a stream of several choices is cut the same way */
	if (closed_without_done(r))
		cut = "the server's close ended its event stream (no length, not "
		      "chunked) before any [DONE]: a stream cut short ends the same way";
	if (!ttft_record_early(r))
		;
	else if (r->sent_one_call)
		early = "its response's head was read before the "
			 "call that sent the whole request returned (another thread "
			 "reads): no wait to measure";
	else if (r->t_req1)
		early = say(earlyb, sizeof earlyb, "the server answered before the request was "
			 "fully sent (its headers %.1f ms before the request's last byte)",
			 span(r->t_hdr, r->t_req1) * 1e3);
	else
		early = "the server answered before the request was "
			 "fully sent (its last byte was never seen sent)";
	char verb[200];
	const char *ver = "";
	if (r->http_minor)
		ver = say(verb, sizeof verb, "the response's status line said HTTP/1.%c: "
			  "read as HTTP/1.1 (RFC 9112), which some clients refuse "
			  "(curl, cpp-httplib): the client may not have taken it",
			  r->http_minor);
	/* a 1xx but 100 before the final response: curl, httpx and Node
	 * skip it, Python's http.client returns it (status 103, no body) */
	char itmb[160];
	const char *itm = "";
	if (r->interim && r->interim != 100 && r->t_hdr)
		itm = say(itmb, sizeof itmb, "an interim %d response came before it, "
			  "which Python's http.client (urllib3, requests) takes as the "
			  "whole answer: such a client read only that", r->interim);
	/* "158, 158", "158abc": the sniffer framed it as curl does */
	const char *apart = "";
	if (r->len_apart && r->t_hdr)
		apart = "its Content-Length is one length to curl, but Python's "
			"http.client reads such a body to the close: such a client's "
			"read may have ended later";
	/* the parts that apply, in this order, "; " between them */
	const char *part[8] = {why, ver, apart, itm, tok, cut, early, pre};
	/* the one part most rows have, a literal whole in buf: itself, not
	 * a copy (a part formatted here lives in this frame) */
	if ((why[0] | ver[0] | apart[0] | itm[0] | cut[0] | early[0] | pre[0]) == 0 &&
	    tok[0] && strlen(tok) < len)
		return tok;
	size_t at = 0;
	if (len)
		buf[0] = 0;
	for (int i = 0; i < 8 && len; i++) {
		if (!part[i][0])
			continue;
		if (at && !note_add(buf, len, &at, "; ", 2))
			break;
		if (!note_add(buf, len, &at, part[i], strlen(part[i])))
			break;
	}
	return at ? buf : NULL;
}
