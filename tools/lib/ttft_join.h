/* ttft_join.h — which of the server's numbers belong to which request, also
 * when requests overlap. Pure functions: no I/O, no clock, no allocation
 * beyond the scratch arrays of ttft_join(). Used by ttft-analyze (the shim's
 * log + ttft-run --metrics snapshots) and ttft-probe (its own scrapes).
 *
 * The servers count at different moments, and the join follows each one:
 *   vLLM  queue / prefill / decode histograms  when the request FINISHES
 *         time_to_first_token histogram        at its FIRST token
 *         prefix_cache_* counters              when it is SCHEDULED
 *   llama.cpp prompt_seconds_total,
 *         prompt_tokens_cached_total           when its PREFILL ends
 *         tokens_predicted_seconds_total       when it FINISHES
 * For each request and each of those moments the client's own times give an
 * interval the server's moment must lie in (widened by a skew: the server
 * counts a little before or after the client reads the bytes). A window
 * between two /metrics snapshots belongs to one request only when
 *   - the snapshot before was certainly rendered before that interval and the
 *     one after certainly after it (a scrape is rendered between its GET's
 *     send and its answer's arrival),
 *   - no other request's interval for the same moment can reach into the
 *     window (one that never ended may reach into any later one, except
 *     for vLLM's histograms, whose count would show it), and
 *   - for vLLM, the histogram's _count grew by exactly one in it.
 * A request of several choices (n > 1) is several requests to the server,
 * whose moments fall anywhere while it is open: it is never joined, and
 * its intervals for the counters (no count to show it) span its life.
 * Otherwise the value stays null and the note says why. A split whose parts
 * do not fit in what the client itself waited (queue + prefill > request sent
 * → first token) is refused, never printed. docs/server-truth.md.
 */
#ifndef TTFT_JOIN_H
#define TTFT_JOIN_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_prom.h"
#include "ttft_record.h"

/* The server's moment may precede or follow the client's read by the time
 * the bytes spend in flight and in the client's buffers: this much plus the
 * connection's round-trip time (docs/server-truth.md says why 5 ms). */
#define TTFT_JOIN_SKEW_NS 5000000LL

/* The kernel's tick, at its coarsest (HZ 100): TCP_INFO's times since an
 * event are whole ticks (ttft_analyze.h has the same for its own use). */
#ifndef TTFT_TICK_NS
#define TTFT_TICK_NS 10000000
#endif

/* How the note of a split whose server TTFT did not fit begins (the split
 * stays; only that number is withheld). */
#define TTFT_JOIN_NOTE_SERVER_TTFT "server TTFT"

/* The note of a request of several choices (ttft_join_req.several). */
#define TTFT_JOIN_NOTE_CHOICES "several choices in one stream (n > 1): the server " \
	"runs and counts each as a request of its own (its queue, prefill, " \
	"finish): no split is this request's"

/* The note of a request whose response did not end in the log (its client
 * closed it early, or the log ended first). */
#define TTFT_JOIN_NOTE_UNENDED "the response did not end (cut short, or still " \
	"under way when the log ended): the server may count it at any time " \
	"after, so no window between snapshots is provably its own"

/* One request, in CLOCK_MONOTONIC ns; 0 = did not happen or unknown. */
struct ttft_join_req {
	int64_t t_sent;     /* last byte of the request sent */
	int64_t t_hdr;      /* response headers read */
	int64_t t_first;    /* first token read */
	int64_t t_end_lo;   /* the response's last byte arrived no earlier than */
	int64_t t_end_hi;   /* … and was read no later than this (= t_end_lo
	                       when exact: a client that reads as bytes come) */
	int64_t skew_ns;    /* allowance between the server's moment and ours */
	int generate;       /* may reach the engine (a POST): others are ignored */
	int complete;       /* 2xx and the whole body: the server finished it */
	int reads_late;     /* the client's reads may lag the bytes' arrival
	                       (any program under the shim): its first token's
	                       read bounds the server's first token only from
	                       above */
	long prompt_tokens; /* the request's prompt tokens when known, else 0:
	                       vLLM's prefix-cache queries must have grown by
	                       exactly these for its hits to be its own */
	int elsewhere;      /* it went to another server than the one whose
	                       /metrics were scraped: never joined (still in
	                       the others' way) */
	int several;        /* its stream carried a choice other than 0 (n >
	                       1): the server ran a request for each choice,
	                       each counted on its own, at any time while this
	                       one was open. Never joined; in the others' way
	                       for its whole life where no count shows them */
};


/* snaps: the usable snapshots (ttft_truth_page succeeded) in time order;
 * each rendered between its t0_ns and t_ns. out[i] for reqs[i]: a source
 * (TTFT_SPLIT_*) when the queue/prefill (vLLM) or prefill (llama.cpp) are
 * this request's own, else NULL with why in note; other values are NAN
 * where their own window was not clean. 0, or -1 when out of memory (every
 * out then says so). */
int ttft_join(const struct ttft_truth *snaps, size_t nsnaps,
	      const struct ttft_join_req *reqs, size_t nreqs,
	      struct ttft_server_split *out);

/* The same for one request at a time against a fixed set of snapshots
 * and requests (the analyzer's assembler): init once, ask per request.
 * The snapshots and requests must outlive the joiner. */
struct ttft_join_spans {
	int64_t *lo, *hi;   /* sorted apart: one moment's intervals */
	size_t n;
};
struct ttft_joiner {
	const struct ttft_truth *sn;
	size_t nsn;
	int kind, vllm;          /* the page has request metrics; vLLM's */
	struct ttft_join_spans sp[4];
};
/* -1 when out of memory (nothing to free then). */
int ttft_joiner_init(struct ttft_joiner *j, const struct ttft_truth *snaps, size_t nsnaps,
		     const struct ttft_join_req *reqs, size_t nreqs);
/* 1 when out says the verdict, 0 when it may still change: no snapshot
 * after r's moment yet (a log still being written). */
int ttft_joiner_one(const struct ttft_joiner *j, const struct ttft_join_req *r,
		    struct ttft_server_split *out);
void ttft_joiner_free(struct ttft_joiner *j);

/* The latest instant any of r's intervals reaches (INT64_MAX: one is
 * open). A request whose reach ends before a window's start is never
 * among those that reach into it: a follower may forget it once every
 * window still to be asked about starts later (ttft_follow.c). */
int64_t ttft_join_reach(const struct ttft_join_req *r);

/* One request the caller knows was alone between snapshots a and b (the
 * probe's sequential runs scrape right before and right after each). */
void ttft_join_pair(const struct ttft_truth *a, const struct ttft_truth *b,
		    const struct ttft_join_req *r, struct ttft_server_split *out);

/* llama.cpp's own timings from the stream's last event (prompt_ms,
 * predicted_ms, cache_n; NAN where absent). prefill and decode are the
 * server's; queue is request sent → headers read, because llama.cpp sends
 * the headers when a slot takes the request — known only when that gap and
 * the one from the headers to the first token hold the prefill, else null
 * with the reason in note. */
void ttft_join_timings(const struct ttft_join_req *r, double prompt_ms,
		       double predicted_ms, double cache_n,
		       struct ttft_server_split *out);

#endif
