/* ttft_analyze.h — turn a ttftshim log into per-request phases.
 * Shared by ttft-analyze and ttft-run (and later the probe and ttft-cold).
 */
#ifndef TTFT_ANALYZE_H
#define TTFT_ANALYZE_H

#include <stdint.h>
#include <stdio.h>

#include "ttft_log.h"

struct ttft_req {
	int pid;
	int fd;
	uint64_t conn;
	uint32_t seq;
	char method[16];
	char path[TTFT_REC_TEXT];
	int status;            /* 0: no response headers seen */
	int new_conn;          /* the request opened its connection */
	int64_t t_start;       /* connect begin (new conn) or first byte */
	int64_t t_dns0, t_dns1;/* 0 = not attributed */
	int64_t t_conn0, t_est;
	int64_t t_req0, t_req1, t_hdr, t_end;
	int64_t t_app_first;   /* application's own first-token mark, or 0 */
	uint16_t end_flags;    /* TTFT_F_TRUNCATED / TTFT_F_EOF_BODY */
	int sse_error;         /* an SSE error event arrived */
	int done;              /* [DONE] arrived */
	int closed_early;      /* the client closed before the response end */
	uint32_t tokens;
	uint32_t ntok_cap;
	int64_t rtt_us;        /* TCP round-trip time when headers arrived */
	/* the server's split from /metrics snapshots around the request */
	double s_queue, s_prefill, s_hit, s_ttft;
	const char *s_source;  /* NULL: none (see s_note) */
	char s_note[200];
	int64_t *tok;          /* times of token events, in order */
};

struct ttft_conn_note {
	uint64_t conn;
	int pid;
	int err;              /* connect failure errno, or 0 */
	int desync;           /* TTFT_DESYNC_* reason, or 0 */
	char peer[TTFT_REC_TEXT];
};

struct ttft_analysis {
	struct ttft_req *reqs;   /* sorted by t_start */
	size_t nreqs, reqs_cap;
	struct ttft_conn_note *notes; /* failed or non-HTTP connections */
	size_t nnotes;
	uint64_t records;
	uint64_t dropped, unpublished, corrupt;
	int truncated;           /* the file holds fewer records than claimed */
	int64_t anchor_mono_ns, anchor_real_ns;
	size_t snapshots;        /* /metrics snapshots in the log */
	char metrics_warning[200];
};

struct ttft_filter {
	int pid;                 /* 0 = any */
	const char *path_prefix; /* NULL = any */
};

/* Read and analyse the log at path. Returns 0, or -1 with a message in
 * err (the file is missing, not a log, or unreadable). */
int ttft_analyze_file(const char *path, const struct ttft_filter *flt,
		      struct ttft_analysis *out, char *err, size_t errlen);
void ttft_analysis_free(struct ttft_analysis *a);
/* Print every intact record in time order (pid filter applies). */
int ttft_dump_events(FILE *f, const char *path, const struct ttft_filter *flt,
		     char *err, size_t errlen);

/* Per-request derived values in seconds; NAN where not applicable. */
struct ttft_phases {
	double start_s, start_unix_s;
	double dns_s, connect_s, send_s, wait_headers_s, ttft_s, decode_s,
		e2e_s, itl_p50_s, itl_p99_s, app_gap_s;
	double queue_s, prefill_s, server_other_s, network_s, hit_tokens, server_ttft_s;
};
void ttft_req_phases(const struct ttft_analysis *a, const struct ttft_req *r,
		     struct ttft_phases *p);

/* Percentile with linear interpolation between closest ranks (numpy's
 * default). Sorts v in place. NAN for n == 0. */
double ttft_percentile(double *v, size_t n, double q);

/* Median and p99 of the gaps between n token times (ns); NAN if n < 2. */
void ttft_itl(const int64_t *tok, size_t n, double *p50_s, double *p99_s);

/* Output. The table ends with a "where TTFT went" line for each of the
 * TTFT_WHERE_SLOWEST slowest requests. */
#define TTFT_WHERE_SLOWEST 5
void ttft_print_table(FILE *f, const struct ttft_analysis *a);
void ttft_print_warnings(FILE *f, const struct ttft_analysis *a);
/* Returns a malloc'd JSON string. */
char *ttft_analysis_json(const struct ttft_analysis *a);

#endif
