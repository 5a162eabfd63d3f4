/* ttft_trace.h — an analysis as Chrome trace-event JSON (the format
 * chrome://tracing and ui.perfetto.dev open): one process per client pid,
 * one track per connection (and one per lane of its pipelined requests:
 * no two slices of a track overlap), each request a slice holding its phases as
 * nested slices, every token an instant event. */
#ifndef TTFT_TRACE_H
#define TTFT_TRACE_H

#include "ttft_analyze.h"
#include "ttft_json.h"

/* Writes the document into j. Times are microseconds since the earliest
 * instant of the analysis; otherData names that origin on CLOCK_MONOTONIC
 * and the wall clock. -1 when out of memory (j's own errors stay in j). */
int ttft_trace_json(struct ttft_json *j, const struct ttft_analysis *a);

#endif
