/* cold_charts.c — ttft-cold's pictures: the cold start of the first cycle
 * as a timeline (spawn → listening → ready → the cold request's first
 * token, the server's own phases, and what no line explains, hatched),
 * and the spread of warm TTFT per cycle beside the cold ones. */
#include "cold_charts.h"
#include "ttft_cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_svg.h"

enum { K_SPAN, K_PHASE, K_UNACC, K_COLD, K_WARM, K__N };
static const char *const cats[K__N] = {"spawn → listening / ready", "start-up phase (server's log line)",
				       "unaccounted (no line explains it)", "cold request: TTFT",
				       "warm requests: TTFT"};
static const char *const colors[K__N] = {"#BBBBBB", "#0072B2", "hatch", "#D55E00", "#009E73"};

struct iv {
	double a, z;
};

static int cmp_iv(const void *x, const void *y)
{
	double a = ((const struct iv *)x)->a, b = ((const struct iv *)y)->a;
	return a < b ? -1 : a > b;
}

/* The gaps of [0, total] that no found phase covers (what
 * cold_unaccounted() sums), at most max of them. */
static size_t gaps(const struct cold_cycle *c, double total, struct ttft_tl_seg *out, size_t max)
{
	struct iv v[COLD_MAX_PHASES];
	size_t n = 0, k = 0;
	for (size_t i = 0; i < c->dec.nphases; i++) {
		const struct cold_phase *p = &c->dec.phases[i];
		if (p->found && p->end_s > p->start_s)
			v[n++] = (struct iv){p->start_s, p->end_s};
	}
	qsort(v, n, sizeof *v, cmp_iv);
	double t = 0;
	for (size_t i = 0; i <= n && k < max; i++) {
		double a = i < n ? v[i].a : total;
		if (a > total)
			a = total;
		if (a > t)
			out[k++] = (struct ttft_tl_seg){t, a, K_UNACC};
		if (i < n && v[i].z > t)
			t = v[i].z;
	}
	return k;
}

static char *timeline(const struct cold_run *run, const struct cold_cycle *c)
{
	enum { MAXR = COLD_MAX_PHASES + 4 };
	struct ttft_tl_row rows[MAXR];
	struct ttft_tl_seg seg[MAXR], un[COLD_MAX_PHASES + 1];
	char notes[MAXR][48];
	size_t n = 0;
	seg[n] = (struct ttft_tl_seg){0, c->spawn_to_listen_s, K_SPAN};
	snprintf(notes[n], sizeof notes[n], "%.3f s", c->spawn_to_listen_s);
	rows[n] = (struct ttft_tl_row){"spawn → port listening", &seg[n], 1, notes[n]};
	n++;
	seg[n] = (struct ttft_tl_seg){0, c->spawn_to_ready_s, K_SPAN};
	snprintf(notes[n], sizeof notes[n], "%.3f s", c->spawn_to_ready_s);
	rows[n] = (struct ttft_tl_row){"spawn → ready (/health 200)", &seg[n], 1, notes[n]};
	n++;
	/* in the report's order: each top-level phase followed by the phases
	 * nested in it */
	for (size_t i = 0; i < c->dec.norder && n < MAXR - 2; i++) {
		const struct cold_phase *p = &c->dec.phases[c->dec.order[i]];
		if (!p->found)
			continue;
		seg[n] = (struct ttft_tl_seg){p->start_s, p->end_s, K_PHASE};
		snprintf(notes[n], sizeof notes[n], "%.3f s", p->duration_s);
		rows[n] = (struct ttft_tl_row){p->name, &seg[n], 1, notes[n]};
		n++;
	}
	size_t nu = gaps(c, c->spawn_to_ready_s, un, COLD_MAX_PHASES + 1);
	snprintf(notes[n], sizeof notes[n], "%.3f s in all", c->dec.unaccounted_s);
	rows[n] = (struct ttft_tl_row){"unaccounted", un, nu, notes[n]};
	n++;
	double a = (double)(c->cold.t_start - c->t_spawn) / 1e9;
	double z = c->cold.t_first ? (double)(c->cold.t_first - c->t_spawn) / 1e9 : NAN;
	seg[n] = (struct ttft_tl_seg){a, z, K_COLD};
	snprintf(notes[n], sizeof notes[n], "TTFT %.1f ms", (z - a) * 1e3);
	rows[n] = (struct ttft_tl_row){"cold request", &seg[n], 1, isfinite(z) ? notes[n] : "no first token"};
	n++;
	struct ttft_mark mk[] = {{c->spawn_to_listen_s, "listening"},
				 {c->spawn_to_ready_s, "ready"},
				 {z, "first token"}};
	char title[300], sub[300];
	/* a model given as a path is named by its file */
	const char *model = strrchr(run->model, '/') && run->model[0] == '/'
			    ? strrchr(run->model, '/') + 1 : run->model;
	snprintf(title, sizeof title, "Cold start of %s: where the %.2f s before the first token went",
		 model, isfinite(z) ? z : c->spawn_to_ready_s);
	snprintf(sub, sizeof sub, "cycle %d; seconds since spawn, from the server's own log lines "
		 "as they arrived; hatched: no line explains it", c->index);
	struct ttft_timeline tl = {
		.title = title, .subtitle = sub, .xlabel = "seconds since the server was spawned",
		.cats = cats, .colors = colors, .ncats = K__N, .rows = rows, .nrows = n,
		.marks = mk, .nmarks = sizeof mk / sizeof mk[0],
	};
	return ttft_svg_timeline(&tl);
}

static char *variance(const struct cold_run *run)
{
	size_t ng = (size_t)run->ncycles + 1;
	struct ttft_dotgroup *g = calloc(ng, sizeof *g);
	double *cold = calloc(ng, sizeof *cold);
	double **warm = calloc(ng, sizeof *warm);
	char (*labels)[48] = calloc(ng, sizeof *labels);
	char *svg = NULL;
	if (!g || !cold || !warm || !labels)
		goto out;
	size_t k = 0, nc = 0;
	double wmax = 0;
	for (int i = 0; i < run->ncycles; i++) {
		const struct cold_cycle *c = &run->cycles[i];
		if (c->cold.t_first)
			cold[nc++] = ttft_record_ttft_s(&c->cold) * 1e3;
		for (int j = 0; j < c->nwarm; j++)
			if (ttft_record_ttft_s(&c->warm[j]) * 1e3 > wmax)
				wmax = ttft_record_ttft_s(&c->warm[j]) * 1e3;
		if (!c->nwarm)
			continue;
		warm[k] = calloc((size_t)c->nwarm, sizeof **warm);
		if (!warm[k])
			goto out;
		for (int j = 0; j < c->nwarm; j++)
			warm[k][j] = ttft_record_ttft_s(&c->warm[j]) * 1e3;
		snprintf(labels[k], sizeof labels[k], run->ncycles > 1 ? "warm, cycle %d" : "warm",
			 c->index);
		g[k] = (struct ttft_dotgroup){labels[k], warm[k], (size_t)c->nwarm};
		k++;
	}
	/* cold requests far above the warm ones would flatten the spread this
	 * chart is for: then they are named, not drawn */
	double cmax = 0;
	for (size_t i = 0; i < nc; i++)
		cmax = cold[i] > cmax ? cold[i] : cmax;
	int apart = nc && wmax > 0 && cmax > 3 * wmax;
	if (!apart)
		g[k++] = (struct ttft_dotgroup){run->ncycles > 1 ? "cold, every cycle" : "cold",
						cold, nc};
	char sub[400], coldtxt[96] = "";
	if (apart)
		snprintf(coldtxt, sizeof coldtxt, "; the cold request%s (up to %.1f ms) not drawn",
			 nc > 1 ? "s" : "", cmax);
	snprintf(sub, sizeof sub, "%s served by %s; every request a dot; box p25–p75, bar at the "
		 "median, whiskers min–max%s", run->model, run->kind ? run->kind : "unknown", coldtxt);
	struct ttft_dotchart dc = {
		.title = "Warm-run variance: TTFT of each request", .subtitle = sub,
		.ylabel = "TTFT (ms)", .unit = "ms", .groups = g, .ngroups = k,
	};
	svg = ttft_svg_dots(&dc);
out:
	for (size_t i = 0; warm && i < ng; i++)
		free(warm[i]);
	free(g), free(cold), free(warm), free(labels);
	return svg;
}

/* Replaced whole, as the report is: never half a chart over a whole one. */
static int put(const char *path, char *svg, char *err, size_t errlen)
{
	int rc = 0;
	if (!svg) {
		snprintf(err, errlen, "out of memory drawing %s", path);
		rc = -1;
	} else {
		rc = ttft_write_atomic(path, svg, strlen(svg), err, errlen);
	}
	free(svg);
	return rc;
}

int cold_write_charts(const struct cold_run *run, const char *report_path, char *timeline_link,
		      char *variance_link, size_t linklen, char *err, size_t errlen)
{
	char base[4096], path[4200];
	snprintf(base, sizeof base, "%s", report_path);
	size_t bl = strlen(base);
	if (bl > 3 && !strcmp(base + bl - 3, ".md"))
		base[bl - 3] = 0;
	const char *name = strrchr(base, '/');
	name = name ? name + 1 : base;
	timeline_link[0] = variance_link[0] = 0;
	const struct cold_cycle *c = &run->cycles[0];
	if (c->ok) {
		snprintf(path, sizeof path, "%s-cold-start.svg", base);
		if (put(path, timeline(run, c), err, errlen) != 0)
			return -1;
		snprintf(timeline_link, linklen, "%s-cold-start.svg", name);
	}
	snprintf(path, sizeof path, "%s-warm-variance.svg", base);
	if (put(path, variance(run), err, errlen) != 0)
		return -1;
	snprintf(variance_link, linklen, "%s-warm-variance.svg", name);
	return 0;
}
