/* ttft_charts.h — the per-request waterfall, from the shim's analysis or
 * from any caller that knows when each phase of its requests began and
 * ended (ttft-day draws its probe's requests with it). */
#ifndef TTFT_CHARTS_H
#define TTFT_CHARTS_H

#include <stddef.h>

#include "ttft_analyze.h"

/* One request's instants in milliseconds since the chart's origin (NAN:
 * not known, e.g. no connect on a reused connection), and the server's
 * own queue and prefill (ms, NAN when the server says nothing). */
struct ttft_wf {
	char label[96];
	double t_start, t_dns0, t_dns1, t_conn0, t_est, t_req0, t_req1;
	double t_first, t_last, t_end;
	double queue_ms, prefill_ms;
	int early;      /* the response began before the request's last byte
	                   (ttft_record_early): no server part is drawn */
	int preopened;  /* a pre-opened connection (docs/phases.md): its
	                   setup, before the request, is not drawn (dns and
	                   connect NAN), and its note says so */
	char why[200];  /* "" when its TTFT is known; else why the table gives
	                   none (the row's note): no server part and no TTFT
	                   are drawn, and this is its note */
};

/* The waterfall: dns / connect / send, then the server's part (request
 * sent → first token) as queue / prefill / other when the server split
 * it, else one "wait (no server split)" segment, then decode. The split's
 * durations are the server's; their order inside the server's part is
 * drawn as queue, prefill, other (the subtitle says so). A request
 * answered before it was fully sent (early) has no server part: its send
 * and its response overlap, and its note says so. A row with a why
 * (ttft_wf_of: the table refuses its TTFT) has no server part either, and
 * its note is the why, never a TTFT. No segment is drawn outside the
 * plot: the time axis begins at 0 or at the earliest segment. Returns a
 * malloc'd SVG document, or NULL when out of memory. */
char *ttft_waterfall_svg(const char *title, const char *subtitle, const struct ttft_wf *r,
			 size_t n);

/* One record's row, in ms since t0 (CLOCK_MONOTONIC ns); the label is
 * the caller's. What the table refuses (ttft_record_phases: a TTFT or a
 * decode that is NAN) the row leaves out: a refused TTFT gives the row's
 * note as its why, a refused decode no first and last token. A row any
 * of whose instants is too far from t0 to fit (a damaged log) has every
 * time NAN and a why that says so. A pre-opened connection's dns and
 * connect are left out (preopened). */
void ttft_wf_of(const struct ttft_record *r, int64_t t0, struct ttft_wf *w);
/* The rows of an analysis (at most max, the first ones in time), in ms
 * since the first request began (a pre-opened connection's at its
 * request). Returns how many were filled. */
size_t ttft_wf_from_analysis(const struct ttft_analysis *a, struct ttft_wf *out, size_t max);

#endif
