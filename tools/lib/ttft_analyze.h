/* ttft_analyze.h — turn a ttftshim log into request records
 * (ttft_record.h), one pass in time order, linear in the log's size.
 * Shared by ttft-analyze and ttft-run.
 */
#ifndef TTFT_ANALYZE_H
#define TTFT_ANALYZE_H

#include <stdint.h>
#include <stdio.h>

#include "ttft_json.h"
#include "ttft_log.h"
#include "ttft_logread.h"
#include "ttft_record.h"
#include "ttft_summary.h"

struct ttft_conn_note {
	uint64_t conn;
	int pid;
	int err;              /* connect failure errno, or 0 */
	int desync;           /* TTFT_DESYNC_* reason, or 0 */
	int untraced;         /* not traced: the process's table was full */
	int tls;              /* the connection spoke TLS */
	uint32_t idle_408;    /* unsolicited "408 Request Timeout"s read on it
	                         while every request it carried was answered:
	                         the server closing it idle, not requests */
	int gave_up;          /* closed with its connect under way: no
	                         answer to its SYN before the client's own
	                         timeout */
	char peer[TTFT_REC_TEXT];
};

/* A new connection whose first request began this long after it was
 * established was opened ahead of the request (undici, eventsource): its
 * TTFT starts at the request, and the idle time is reported apart. */
#define TTFT_PREOPEN_IDLE_NS 10000000
/* The kernel's coarsest tick (HZ=100): the error of an establishment
 * time the kernel gave (a connect whose end no call showed) */
#define TTFT_TICK_NS 10000000

/* The log's clock when it was created (the header's clock fields). */
struct ttft_log_clock {
	uint32_t flags;          /* TTFT_CLOCK_*; 0: unknown (an older log) */
	int64_t anchor_err_ns;   /* the anchor pair was read within ± this */
	int64_t maxerror_us, esterror_us; /* the kernel's NTP error bounds */
	char host[65];           /* "" unknown */
	char boot_id[41];        /* "" unknown */
	int64_t timens_mono_ns;  /* its time namespace's CLOCK_MONOTONIC
	                            offset, when flags has TTFT_CLOCK_TIMENS */
};

struct ttft_analysis {
	struct ttft_record *reqs; /* sorted by t_start */
	size_t nreqs, reqs_cap;
	size_t nencrypted;       /* of which encrypted connection rows */
	size_t idle_408;         /* idle connections the server closed with an
	                            unsolicited 408 (notes; no rows): of the
	                            process asked for (--pid), none with a
	                            path filter (a connection has no path) */
	struct ttft_conn_note *notes; /* failed or non-HTTP connections */
	size_t nnotes;
	uint64_t records;
	uint64_t dropped, unpublished, corrupt;
	uint64_t unwritable;     /* of dropped: the filesystem had no room    */
	int bad_next_conn;       /* the header's next_conn did not cover the
	                            records' connection ids (damaged header)  */
	uint64_t bad_conn_ids;   /* records whose connection id no log of its
	                            size can hold (damaged, their seal passed):
	                            left out, counted in corrupt             */
	int truncated;           /* the file holds fewer records than claimed */
	uint64_t slots_claimed, slots_read; /* by the header; in the file */
	int64_t anchor_mono_ns, anchor_real_ns;
	int32_t creator_pid;     /* the header's: with its anchor pair and boot
	                            id, which log this is (a copy has them too) */
	struct ttft_log_clock clock;
	struct ttft_summary ttft, e2e; /* over the requests kept */
	size_t snapshots;        /* /metrics snapshots in the log */
	char metrics_warning[200];
};

struct ttft_filter {
	int pid;                 /* 0 = any */
	const char *path_prefix; /* NULL = any */
};

/* Read and analyse the log at path. Returns 0, or -1 with a message in
 * err (the file is missing, not a log, unreadable, or too large for the
 * memory). */
int ttft_analyze_file(const char *path, const struct ttft_filter *flt,
		      struct ttft_analysis *out, char *err, size_t errlen);
/* The same; opts TTFT_ANALYZE_ALL_TOKENS keeps every token event's time in
 * the requests (a trace's events: ttft_trace_json). Without it, each
 * request's times between its first and its last token are given back
 * as its response ends (ttft_record_settle): what a row, a table, a
 * summary and a chart read is all there, in half the memory for a log
 * of streams. */
#define TTFT_ANALYZE_ALL_TOKENS 1u
int ttft_analyze_file_opt(const char *path, const struct ttft_filter *flt, unsigned opts,
			  struct ttft_analysis *out, char *err, size_t errlen);
void ttft_analysis_free(struct ttft_analysis *a);
/* Print every intact record in time order (pid filter applies); sorts
 * the whole log in memory. */
int ttft_dump_events(FILE *f, const char *path, const struct ttft_filter *flt,
		     char *err, size_t errlen);

/* Wall-clock seconds of a CLOCK_MONOTONIC instant, through the log's
 * anchor pair; NAN when t_ns is not known (0) or the sum does not fit
 * (ttft_clock_to_real_ns: a damaged header or record): no time, never a
 * wrapped one. */
double ttft_analysis_unix_s(const struct ttft_analysis *a, int64_t t_ns);

/* Output. The table ends with a "where TTFT went" line for each of the
 * TTFT_WHERE_SLOWEST slowest requests. */
#define TTFT_WHERE_SLOWEST 5
void ttft_print_table(FILE *f, const struct ttft_analysis *a);
void ttft_print_warnings(FILE *f, const struct ttft_analysis *a);
/* {"requests":[…],"summary":{…},"dropped":N,"dropped_no_room":N,
 * "log_complete":B,"damaged_records":N,"log_truncated":B,
 * "unsealed_records":N} and a newline. */
void ttft_analysis_json(struct ttft_json *j, const struct ttft_analysis *a);

#endif
