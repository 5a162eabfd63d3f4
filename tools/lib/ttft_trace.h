/* ttft_trace.h — an analysis as Chrome trace-event JSON (the format
 * chrome://tracing and ui.perfetto.dev open): one process per client pid,
 * one track per connection, each request a slice holding its phases as
 * nested slices, every token an instant event. */
#ifndef TTFT_TRACE_H
#define TTFT_TRACE_H

#include "ttft_analyze.h"

/* The document (malloc'd), or NULL when out of memory. Times are
 * microseconds since the earliest instant of the analysis; otherData names
 * that origin on CLOCK_MONOTONIC and the wall clock. */
char *ttft_trace_json(const struct ttft_analysis *a);

#endif
