/* ttft_export.h — what the exporter serves: per-request histograms and
 * counters, kept as requests are handed out (ttft_follow.h), written as
 * Prometheus text (0.0.4) or OpenMetrics 1.0 (with exemplars). No I/O, no
 * clock: the caller brings the requests and takes the text.
 *
 * Families (docs/fleet.md):
 *   ttftshim_{ttft,queue,prefill,server_other,decode,e2e}_seconds  histograms
 *   ttftshim_requests_total, ttftshim_output_tokens_total,
 *   ttftshim_output_tokens_from_events_total                        counters
 *     labels peer, path, status, split_source (requests: also outcome)
 *   ttftshim_desyncs_total{peer,reason}
 *   ttftshim_records_total, ttftshim_late_records_total,
 *   ttftshim_unreadable_records_total{reason}, ttftshim_dropped_records_total,
 *   ttftshim_label_overflow_total, ttftshim_requests_in_flight (gauge),
 *   ttftshim_log_up (gauge), ttftshim_log_replacements_total,
 *   ttftshim_log_rereads_total, ttftshim_log_refills_total
 *
 * Bounded cardinality: at most max_series label sets (peer, path, status,
 * split_source); a request whose set would be one more is counted under
 * peer="other", path="other", its status class ("2xx", … "none") and its
 * split_source — at most 6 × 5 more sets — and in
 * ttftshim_label_overflow_total. Paths are normalised first
 * (ttft_export_path). Desyncs keep at most TTFT_EXPORT_MAX_PEERS peers.
 */
#ifndef TTFT_EXPORT_H
#define TTFT_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_record.h"

#define TTFT_EXPORT_MAX_SERIES 100
#define TTFT_EXPORT_MAX_PEERS 64
#define TTFT_EXPORT_NBUCKETS 25 /* finite bounds; +Inf comes after */

enum ttft_export_hist {
	TTFT_XH_TTFT, TTFT_XH_QUEUE, TTFT_XH_PREFILL, TTFT_XH_OTHER, TTFT_XH_DECODE,
	TTFT_XH_E2E, TTFT_XH_DNS, TTFT_XH__N
};

/* How a request ended (the requests counter's outcome label). */
enum ttft_export_outcome {
	TTFT_XO_OK, TTFT_XO_ERROR_EVENT, TTFT_XO_TRUNCATED, TTFT_XO_CLOSED_EARLY,
	TTFT_XO_INCOMPLETE, TTFT_XO_UNSEEN, TTFT_XO_NO_ANSWER, TTFT_XO_HTTP_ERROR, TTFT_XO__N
};

struct ttft_export_exemplar {
	char trace_id[33];   /* "" none */
	double value;
	double unix_s;       /* when it was observed (the request's end) */
};

struct ttft_export_series {
	char peer[64], path[64], status[8];
	const char *source;  /* static: a TTFT_SPLIT_* or "none" */
	double sum[TTFT_XH__N];
	uint64_t count[TTFT_XH__N];
	uint64_t bucket[TTFT_XH__N][TTFT_EXPORT_NBUCKETS + 1]; /* not cumulative */
	struct ttft_export_exemplar (*ex)[TTFT_EXPORT_NBUCKETS + 1]; /* NULL until
	                                  the first exemplar; [TTFT_XH__N] */
	uint64_t requests[TTFT_XO__N];
	uint64_t tokens;
	uint64_t tokens_events; /* of tokens, counted as token events (no
	                           usage): at least that many */
};

/* A reason the follower adds to the sniffer's (TTFT_DESYNC_* 1..5, 7): a
 * TLS connection whose plaintext no library tap saw (not analysed). */
#define TTFT_EXPORT_ENCRYPTED 6
/* the sniffer's last reason (TTFT_DESYNC_BAD_LENGTH) */
#define TTFT_EXPORT_LAST_REASON 7

struct ttft_export_desync {
	char peer[64];
	uint64_t n[TTFT_EXPORT_LAST_REASON + 1]; /* by reason; 0: other */
	uint64_t connect_failed; /* connects that failed (refused, unreachable…) */
};

/* What the follower counted about the log itself. */
/* The log as the follower finds it: read; not there (yet), unreadable or
 * not a ttftshim log; cut shorter than its header says. */
enum { TTFT_EXPORT_LOG_NONE, TTFT_EXPORT_LOG_UP, TTFT_EXPORT_LOG_CUT };

struct ttft_export_log {
	uint64_t records, late, unpublished, corrupt, dropped, in_flight;
	int state;            /* TTFT_EXPORT_LOG_*: ttftshim_log_up is 1 for UP */
	uint64_t replaced;    /* times the file at the log's path was another */
	uint64_t reread;      /* times a log let go was at the path again */
	uint64_t refilled;    /* times a log cut under its writers was whole
	                         again, the same log, and read on */
};

struct ttft_export {
	struct ttft_export_series *s;
	size_t n, cap, max_series;
	size_t named;        /* sets other than the overflow's */
	uint64_t overflow;   /* requests folded into peer="other" */
	struct ttft_export_desync *d;
	size_t nd, dcap;
};

extern const double ttft_export_bounds[TTFT_EXPORT_NBUCKETS];

/* The request's W3C trace id, for its exemplars: ttft_record_trace_id (a log's
 * record: the assembler takes it from the traceparent the shim captured,
 * if W3C calls that valid (ttft_traceparent_ok); a probe's: the one it
 * sent). NULL when it has none, it is not 32 lower-case hex digits, or it
 * is all zeros (W3C's "invalid"): no exemplar rather than a link to
 * nothing. */
const char *ttft_export_trace_id(const struct ttft_record *r);

/* max_series 0: TTFT_EXPORT_MAX_SERIES. */
void ttft_export_init(struct ttft_export *x, size_t max_series);
void ttft_export_free(struct ttft_export *x);
/* Count one request handed out by the follower (complete: settled, not
 * cut off by the end of the run). peer NULL: its connect is not in the
 * log. trace_id: the W3C trace id it was sent with, NULL or "" when none
 * (an exemplar on each of its buckets). end_unix_s: the exemplars' time
 * (NAN: none, and they go without one).
 * -1 when out of memory (nothing counted). */
int ttft_export_request(struct ttft_export *x, const struct ttft_record *r, const char *peer,
			int complete, const char *trace_id, double end_unix_s);
/* Count a connection whose framing the sniffer lost. -1: out of memory. */
int ttft_export_desync(struct ttft_export *x, const char *peer, int reason);
/* A connect to peer that failed: no request could go out. 0, or -1 when
 * out of memory. */
int ttft_export_connect_failed(struct ttft_export *x, const char *peer);
/* The page: Prometheus text 0.0.4, or OpenMetrics 1.0 (exemplars, "# EOF")
 * when openmetrics. malloc'd, *len bytes; NULL when out of memory. */
char *ttft_export_render(const struct ttft_export *x, const struct ttft_export_log *log,
			 int openmetrics, size_t *len);
/* The content type of each. */
const char *ttft_export_content_type(int openmetrics);

/* A path as a label value: the query and fragment cut off; a segment of
 * digits, of 8 or more hex digits, or a UUID becomes ":id"; bytes outside
 * printable ASCII become '_'; "" becomes "/". */
void ttft_export_path(char *out, size_t outlen, const char *path);

#endif
