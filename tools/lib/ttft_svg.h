/* ttft_svg.h — charts as standalone SVG documents, drawn by our own code:
 * a title and subtitle, axes with ticks and labelled units, a legend, and
 * every number a reader needs as text, so a chart reads without its report.
 * Deterministic: the same input gives the same bytes (no clock, no random
 * jitter, fixed number formats). Values are in display units (the caller
 * converts seconds to ms and says so in the axis label); NAN means "no
 * value": the point is left out and a line breaks there. Each function
 * returns a malloc'd document, or NULL when out of memory. */
#ifndef TTFT_SVG_H
#define TTFT_SVG_H

#include <stddef.h>

/* The colour the charts give each phase of a request or a start-up. */
const char *ttft_svg_phase_color(const char *phase);

/* Timeline (waterfall / Gantt): one row per item, each a run of segments
 * in categories. A category whose colour is "hatch" is drawn hatched: time
 * nothing explains (unaccounted), visible rather than blank. */
struct ttft_tl_seg {
	double t0, t1;
	int cat;               /* index into cats */
};
struct ttft_tl_row {
	const char *label;
	const struct ttft_tl_seg *segs;
	size_t nsegs;
	const char *note;      /* right of the bar (e.g. "TTFT 12.3 ms"), or NULL */
};
struct ttft_mark {
	double x;
	const char *label;
};
struct ttft_timeline {
	const char *title, *subtitle, *xlabel;
	const char *const *cats;     /* category names (the legend) */
	const char *const *colors;   /* one per category; NULL: by phase name */
	size_t ncats;
	const struct ttft_tl_row *rows;
	size_t nrows;
	const struct ttft_mark *marks;  /* vertical lines across all rows */
	size_t nmarks;
};
char *ttft_svg_timeline(const struct ttft_timeline *c);

/* Lines with markers over a numeric x; a series may use a second y axis
 * on the right (e.g. a share in %). Vertical marks label x positions
 * (e.g. "predicted knee"). */
struct ttft_series {
	const char *name;
	const double *x, *y;
	size_t n;
	int right;             /* plotted against the right axis */
	int dashed;
};
struct ttft_linechart {
	const char *title, *subtitle, *xlabel, *ylabel, *y2label;
	int logx;              /* log scale, ticks at the data's x values */
	double y2max;          /* right axis top; 0: from the data */
	const struct ttft_series *series;
	size_t nseries;
	const struct ttft_mark *marks;
	size_t nmarks;
};
char *ttft_svg_lines(const struct ttft_linechart *c);

/* Spread of repeated measurements: per group every value as a dot, a box
 * from p25 to p75, the median as a bar with its number, whiskers to min
 * and max. A group of fewer values than a p75 is given from
 * (ttft_quantile_min_n: 4) has no box, and a line under the chart says
 * why. */
struct ttft_dotgroup {
	const char *label;
	const double *v;
	size_t n;
};
struct ttft_dotchart {
	const char *title, *subtitle, *ylabel, *unit;  /* unit: after the median */
	const struct ttft_dotgroup *groups;
	size_t ngroups;
};
char *ttft_svg_dots(const struct ttft_dotchart *c);

/* Ticks for an axis over [lo, hi]: a step of 1, 2 or 5 × 10^k giving about
 * `target` intervals; *first and *last are multiples of the step covering the
 * range. Returns the step (0 when lo and hi are not finite). */
double ttft_svg_ticks(double lo, double hi, int target, double *first, double *last);

#endif
