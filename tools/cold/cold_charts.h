/* cold_charts.h — ttft-cold's charts beside its report. */
#ifndef TTFT_COLD_CHARTS_H
#define TTFT_COLD_CHARTS_H

#include <stddef.h>

#include "cold.h"

/* Writes REPORT-cold-start.svg (the first cycle's timeline, when it
 * became ready) and REPORT-warm-variance.svg beside report_path (its
 * .md stripped); their names, relative to the report, go into the links
 * ("" for a chart not drawn). 0, or -1 with err set. */
int cold_write_charts(const struct cold_run *run, const char *report_path, char *timeline_link,
		      char *variance_link, size_t linklen, char *err, size_t errlen);

#endif
