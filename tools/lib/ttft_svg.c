/* ttft_svg.c — see ttft_svg.h. Layout in pixels of a 760-wide document;
 * text widths are estimated (7 px a character at 12 px), which is all the
 * layout needs: labels get room, they are never measured exactly. */
#include "ttft_svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_str.h"
#include "ttft_summary.h"

#define W 760
#define CHAR_W 7.0
#define SUB_CHARS 108  /* a subtitle line: 12 px text across 728 px */
#define SUB_LINES 2

/* Okabe-Ito: distinguishable with the common colour-vision deficiencies. */
static const char *const palette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
				      "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
#define NPAL (sizeof palette / sizeof palette[0])

const char *ttft_svg_phase_color(const char *phase)
{
	static const char *const map[][2] = {
		{"dns", "#CC79A7"},     {"connect", "#56B4E9"}, {"send", "#0072B2"},
		{"queue", "#D55E00"},   {"prefill", "#E69F00"}, {"other", "#999999"},
		{"wait", "#BBBBBB"},    {"decode", "#009E73"},  {"unaccounted", "hatch"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (phase && !strncmp(phase, map[i][0], strlen(map[i][0])))
			return map[i][1];
	return NULL;
}

double ttft_svg_ticks(double lo, double hi, int target, double *first, double *last)
{
	if (!isfinite(lo) || !isfinite(hi) || target < 1)
		return 0;
	if (hi <= lo)
		hi = lo + (lo ? fabs(lo) : 1);
	double raw = (hi - lo) / target, mag = pow(10, floor(log10(raw)));
	double f = raw / mag;
	double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
	*first = floor(lo / step + 1e-9) * step;
	*last = ceil(hi / step - 1e-9) * step;
	return step;
}

/* Decimals that show a step exactly (0.25 → 2, 5 → 0). */
static int decimals(double step)
{
	int d = 0;
	while (d < 6 && fabs(step * pow(10, d) - round(step * pow(10, d))) > 1e-6)
		d++;
	return d;
}

static void num(char *out, size_t n, double v, int dec)
{
	if (fabs(v) < 0.5 * pow(10, -dec))
		v = 0; /* never "-0" */
	snprintf(out, n, "%.*f", dec, v);
}

/* A value for a label: 3 significant digits, no exponent. */
static void sig3(char *out, size_t n, double v)
{
	double a = fabs(v);
	int dec = a >= 100 || a == 0 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
	if (a > 0 && a < 0.001)
		dec = 4;
	num(out, n, v, dec);
}

/* An id for the chart's defs, from its title: inline SVGs on one page
 * must not share ids, and the same chart must give the same bytes. */
static unsigned long hash(const char *s)
{
	unsigned long h = 5381;
	for (; s && *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h % 1000000;
}

static void text(struct ttft_str *b, double x, double y, const char *anchor,
		 const char *cls, const char *s)
{
	ttft_str_printf(b, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
	if (anchor)
		ttft_str_printf(b, " text-anchor=\"%s\"", anchor);
	if (cls)
		ttft_str_printf(b, " class=\"%s\"", cls);
	ttft_str_printf(b, ">");
	ttft_str_xml(b, s);
	ttft_str_printf(b, "</text>\n");
}

/* A row's note at x: one that would run past the right edge is cut
 * (at a character's start, with an ellipsis) and kept whole as its
 * tooltip, so that a long reason is still in the picture. */
static void note(struct ttft_str *b, double x, double y, const char *s)
{
	size_t n = strlen(s), room = x < W - 8 ? (size_t)((W - 8 - x) / CHAR_W) : 0;
	if (n <= room) {
		text(b, x, y, NULL, "sm", s);
		return;
	}
	size_t k = room > 1 ? room - 1 : 0;
	while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	char *cut = malloc(k + 4);
	if (!cut) {
		text(b, x, y, NULL, "sm", s);
		return;
	}
	memcpy(cut, s, k);
	memcpy(cut + k, "\xe2\x80\xa6", 4); /* … */
	ttft_str_printf(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"sm\"><title>", x, y);
	ttft_str_xml(b, s);
	ttft_str_printf(b, "</title>");
	ttft_str_xml(b, cut);
	ttft_str_printf(b, "</text>\n");
	free(cut);
}

static void open_doc(struct ttft_str *b, int h, const char *title, const char *subtitle,
		     unsigned long id)
{
	ttft_str_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
			   "height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
			   "aria-labelledby=\"t%lu\">\n<title id=\"t%lu\">",
			W, h, W, h, id, id);
	ttft_str_xml(b, title);
	if (subtitle) {
		ttft_str_printf(b, " — ");
		ttft_str_xml(b, subtitle);
	}
	ttft_str_printf(b, "</title>\n<style>text{font-family:'DejaVu Sans',Arial,"
			   "sans-serif;font-size:12px;fill:#222}.tt{font-size:15px;"
			   "font-weight:bold}.st{fill:#555}.sm{font-size:10px;fill:#333}"
			   ".ax{stroke:#333;stroke-width:1}.gr{stroke:#e4e4e4;stroke-width:1}"
			   "</style>\n<defs><pattern id=\"h%lu\" width=\"6\" height=\"6\" "
			   "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">"
			   "<rect width=\"6\" height=\"6\" fill=\"#f2f2f2\"/><line x1=\"0\" "
			   "y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#888\" stroke-width=\"2\"/>"
			   "</pattern></defs>\n<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
			id, W, h);
	/* a long title is set smaller rather than run off the edge (15 px
	 * bold is about 9 px a character across 728 px) */
	size_t tl = strlen(title ? title : "");
	if (tl > 80) {
		ttft_str_printf(b, "<text x=\"16\" y=\"24\" class=\"tt\" style=\"font-size:%.1fpx\">",
				15.0 * 80 / (double)tl < 9 ? 9 : 15.0 * 80 / (double)tl);
		ttft_str_xml(b, title);
		ttft_str_printf(b, "</text>\n");
	} else {
		text(b, 16, 24, NULL, "tt", title);
	}
	/* a long subtitle wraps at a space rather than run off the edge */
	const char *p = subtitle;
	for (int line = 0; p && *p && line < SUB_LINES; line++) {
		size_t n = strlen(p);
		if (n > SUB_CHARS && line + 1 < SUB_LINES) {
			n = SUB_CHARS;
			while (n > SUB_CHARS / 2 && p[n] != ' ')
				n--;
			/* no space near: between two characters, never inside one */
			while (n > 1 && ((unsigned char)p[n] & 0xc0) == 0x80)
				n--;
		}
		char *t = strndup(p, n);
		text(b, 16, 42 + 16 * line, NULL, "st", t ? t : "");
		free(t);
		p += n;
		while (*p == ' ')
			p++;
	}
}

/* Where the content below the title and subtitle starts. */
static double header_h(const char *subtitle)
{
	size_t n = subtitle ? strlen(subtitle) : 0;
	return n ? n > SUB_CHARS ? 68 : 52 : 36;
}

static char *close_doc(struct ttft_str *b)
{
	ttft_str_printf(b, "</svg>\n");
	return ttft_str_take(b);
}

static void fill_attr(struct ttft_str *b, const char *color, unsigned long id)
{
	if (!strcmp(color, "hatch"))
		ttft_str_printf(b, " fill=\"url(#h%lu)\" stroke=\"#888\"", id);
	else
		ttft_str_printf(b, " fill=\"%s\"", color);
}

/* Legend entries left to right, wrapping; marker: 0 swatch, 1 circle and
 * line, 2 square and dashed line. Returns the height it took. */
struct legend_item {
	const char *name, *color;
	int marker;
};

static double legend(struct ttft_str *b, double y, const struct legend_item *it, size_t n,
		     unsigned long id)
{
	double x = 16, top = y;
	for (size_t i = 0; i < n; i++) {
		double w = 30 + CHAR_W * (double)strlen(it[i].name) + 14;
		if (x + w > W - 16 && x > 16) {
			x = 16;
			y += 18;
		}
		if (it[i].marker == 0) {
			ttft_str_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"12\"",
					x, y - 10);
			fill_attr(b, it[i].color, id);
			ttft_str_printf(b, "/>\n");
		} else {
			ttft_str_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					   "stroke=\"%s\" stroke-width=\"2\"%s/>\n", x - 2, y - 4,
					x + 18, y - 4, it[i].color,
					it[i].marker == 2 ? " stroke-dasharray=\"5 3\"" : "");
			if (it[i].marker == 1)
				ttft_str_printf(b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
						   "fill=\"%s\"/>\n", x + 8, y - 4, it[i].color);
			else
				ttft_str_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" "
						   "height=\"7\" fill=\"%s\"/>\n", x + 4.5, y - 7.5,
						it[i].color);
		}
		text(b, x + 20, y, NULL, NULL, it[i].name);
		x += w;
	}
	return y - top + 18;
}

/* A linear axis: data value → pixel. */
struct scale {
	double d0, d1, p0, p1;
	int log;
};

static double px(const struct scale *s, double v)
{
	if (s->log) {
		double a = log(s->d0), z = log(s->d1);
		return s->p0 + (log(v) - a) / (z - a) * (s->p1 - s->p0);
	}
	return s->p0 + (v - s->d0) / (s->d1 - s->d0) * (s->p1 - s->p0);
}

/* Horizontal grid lines and tick labels of a y axis; the axis label
 * rotated beside it. right: labels on the right of x. */
static void yaxis(struct ttft_str *b, const struct scale *s, double step, double x,
		  double x_other, const char *label, int right)
{
	int dec = decimals(step);
	char t[64];
	for (double v = s->d0; v <= s->d1 + step * 1e-6; v += step) {
		double y = px(s, v);
		if (!right)
			ttft_str_printf(b, "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
					   "y2=\"%.1f\"/>\n", x, y, x_other, y);
		num(t, sizeof t, v, dec);
		text(b, right ? x + 6 : x - 6, y + 4, right ? "start" : "end", NULL, t);
	}
	ttft_str_printf(b, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			x, s->p0, x, s->p1);
	double lx = right ? x + 52 : x - 50, ly = (s->p0 + s->p1) / 2;
	ttft_str_printf(b, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" "
			   "text-anchor=\"middle\">", lx, ly);
	ttft_str_xml(b, label);
	ttft_str_printf(b, "</text>\n");
}

/* Ticks along an x axis at y (below the plot). */
static void xaxis_linear(struct ttft_str *b, const struct scale *s, double step, double y,
			 double ytop, const char *label)
{
	int dec = decimals(step);
	char t[64];
	for (double v = s->d0; v <= s->d1 + step * 1e-6; v += step) {
		double x = px(s, v);
		ttft_str_printf(b, "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				   "y2=\"%.1f\"/>\n", x, ytop, x, y);
		num(t, sizeof t, v, dec);
		text(b, x, y + 16, "middle", NULL, t);
	}
	ttft_str_printf(b, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			s->p0, y, s->p1, y);
	text(b, (s->p0 + s->p1) / 2, y + 36, "middle", NULL, label);
}

static void vmarks(struct ttft_str *b, const struct scale *s, const struct ttft_mark *m,
		   size_t n, double top, double bottom)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(m[i].x) || (s->log && m[i].x <= 0))
			continue;
		double x = px(s, m[i].x);
		if (x < s->p0 - 0.5 || x > s->p1 + 0.5)
			continue;
		ttft_str_printf(b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
				   "stroke=\"#7a0177\" stroke-width=\"1.5\" stroke-dasharray=\"%s\"/>\n",
				x, top, x, bottom, i % 2 ? "2 3" : "6 3");
		/* labels stagger down so that marks close together stay legible;
		 * near the right edge they turn to the left of the line */
		double w = CHAR_W * (double)strlen(m[i].label ? m[i].label : "");
		int left = x + 4 + w > W - 10;
		ttft_str_printf(b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
				   "class=\"sm\" style=\"fill:#7a0177\">", left ? x - 4 : x + 4,
				top + 12 + 13 * (double)i, left ? "end" : "start");
		ttft_str_xml(b, m[i].label);
		ttft_str_printf(b, "</text>\n");
	}
}

char *ttft_svg_timeline(const struct ttft_timeline *c)
{
	struct ttft_str b = {0};
	unsigned long id = hash(c->title);
	const double bar = 16, gap = 8;
	size_t lw = 0, nw = 0;
	for (size_t i = 0; i < c->nrows; i++) {
		size_t l = strlen(c->rows[i].label ? c->rows[i].label : "");
		size_t k = c->rows[i].note ? strlen(c->rows[i].note) : 0;
		lw = l > lw ? l : lw;
		nw = k > nw ? k : nw;
	}
	double left = 24 + CHAR_W * (double)(lw < 8 ? 8 : lw > 36 ? 36 : lw);
	double right = W - 16 - (nw ? CHAR_W * (double)(nw > 24 ? 24 : nw) + 8 : 8);
	/* the legend first, to know where the plot starts */
	struct legend_item *it = calloc(c->ncats + 1, sizeof *it);
	const char **col = calloc(c->ncats + 1, sizeof *col);
	if (!it || !col) {
		free(it), free(col);
		return NULL;
	}
	size_t nit = 0;
	for (size_t i = 0; i < c->ncats; i++) {
		const char *p = c->colors ? c->colors[i] : ttft_svg_phase_color(c->cats[i]);
		col[i] = p ? p : palette[i % NPAL];
		int used = 0; /* the legend names only what the chart shows */
		for (size_t r = 0; r < c->nrows && !used; r++)
			for (size_t k = 0; k < c->rows[r].nsegs; k++)
				used |= c->rows[r].segs[k].cat == (int)i;
		if (used)
			it[nit++] = (struct legend_item){c->cats[i], col[i], 0};
	}
	struct ttft_str lg = {0};
	double top = header_h(c->subtitle) + 14;
	double lh = legend(&lg, top, it, nit, id);
	double plot0 = top + lh + 4 + (c->nmarks ? 13.0 * (double)c->nmarks : 0);
	double plot1 = plot0 + (double)c->nrows * (bar + gap);
	int h = (int)(plot1 + 52);
	open_doc(&b, h, c->title, c->subtitle, id);
	ttft_str_add(&b, ttft_str_get(&lg), strlen(ttft_str_get(&lg)));
	ttft_str_free(&lg);

	/* the axis from 0, or from the earliest segment where one begins
	 * before it: no bar left of the plot, over the labels */
	double tmin = 0, tmax = 0;
	for (size_t i = 0; i < c->nrows; i++)
		for (size_t k = 0; k < c->rows[i].nsegs; k++) {
			const struct ttft_tl_seg *s = &c->rows[i].segs[k];
			if (!isfinite(s->t0) || !isfinite(s->t1) || s->t1 < s->t0)
				continue;
			tmin = s->t0 < tmin ? s->t0 : tmin;
			tmax = s->t1 > tmax ? s->t1 : tmax;
		}
	for (size_t i = 0; i < c->nmarks; i++)
		if (isfinite(c->marks[i].x) && c->marks[i].x > tmax)
			tmax = c->marks[i].x;
	double first, last, step = ttft_svg_ticks(tmin, tmax > tmin ? tmax : tmin + 1, 6, &first,
						  &last);
	struct scale sx = {tmin < 0 ? first : 0, last, left, right, 0};
	double ytop = plot0 - 4;
	xaxis_linear(&b, &sx, step, plot1, ytop, c->xlabel);
	char t[64];
	for (size_t i = 0; i < c->nrows; i++) {
		const struct ttft_tl_row *r = &c->rows[i];
		double y = plot0 + (double)i * (bar + gap);
		text(&b, left - 6, y + 12, "end", NULL, r->label);
		double end = 0;
		for (size_t k = 0; k < r->nsegs; k++) {
			const struct ttft_tl_seg *s = &r->segs[k];
			if (!isfinite(s->t0) || !isfinite(s->t1) || s->t1 < s->t0 ||
			    s->cat < 0 || (size_t)s->cat >= c->ncats)
				continue;
			double x0 = px(&sx, s->t0), x1 = px(&sx, s->t1);
			double wpx = x1 - x0 < 1 ? 1 : x1 - x0; /* a zero-length phase stays visible */
			ttft_str_printf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.0f\"",
					x0, y, wpx, bar);
			fill_attr(&b, col[s->cat], id);
			sig3(t, sizeof t, s->t1 - s->t0);
			ttft_str_printf(&b, "><title>");
			ttft_str_xml(&b, c->cats[s->cat]);
			ttft_str_printf(&b, " %s</title></rect>\n", t);
			if (wpx >= CHAR_W * (double)strlen(t) + 6) {
				int dark = strcmp(col[s->cat], "hatch") && strcmp(col[s->cat], "#F0E442") &&
					   strcmp(col[s->cat], "#BBBBBB") && strcmp(col[s->cat], "#56B4E9") &&
					   strcmp(col[s->cat], "#E69F00");
				ttft_str_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
						   "class=\"sm\"%s>%s</text>\n", (x0 + x1) / 2, y + 12,
						dark ? " style=\"fill:#fff\"" : "", t);
			}
			end = x1 > end ? x1 : end;
		}
		if (r->note)
			note(&b, (end > left ? end : left) + 6, y + 12, r->note);
	}
	vmarks(&b, &sx, c->marks, c->nmarks, top + lh - 4, plot1);
	free(it);
	free(col);
	return close_doc(&b);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

char *ttft_svg_lines(const struct ttft_linechart *c)
{
	struct ttft_str b = {0};
	unsigned long id = hash(c->title);
	int has_right = 0;
	double xmin = INFINITY, xmax = -INFINITY, ymax = 0, y2max = 0;
	size_t nx = 0;
	for (size_t i = 0; i < c->nseries; i++) {
		const struct ttft_series *s = &c->series[i];
		has_right |= s->right;
		for (size_t k = 0; k < s->n; k++) {
			if (!isfinite(s->x[k]) || (c->logx && s->x[k] <= 0))
				continue;
			nx++;
			xmin = s->x[k] < xmin ? s->x[k] : xmin;
			xmax = s->x[k] > xmax ? s->x[k] : xmax;
			if (!isfinite(s->y[k]))
				continue;
			if (s->right)
				y2max = s->y[k] > y2max ? s->y[k] : y2max;
			else
				ymax = s->y[k] > ymax ? s->y[k] : ymax;
		}
	}
	if (!nx)
		xmin = 0, xmax = 1;
	if (c->y2max > 0)
		y2max = c->y2max;
	struct legend_item *it = calloc(c->nseries + 1, sizeof *it);
	if (!it)
		return NULL;
	for (size_t i = 0; i < c->nseries; i++)
		it[i] = (struct legend_item){c->series[i].name, palette[i % NPAL],
					     c->series[i].right || c->series[i].dashed ? 2 : 1};
	struct ttft_str lg = {0};
	double top = header_h(c->subtitle) + 14;
	double lh = legend(&lg, top, it, c->nseries, id);
	free(it);
	double plot0 = top + lh + 8 + 13.0 * (double)c->nmarks, plot1 = plot0 + 300;
	double left = 78, right = W - (has_right ? 80 : 24);
	int h = (int)(plot1 + 52);
	open_doc(&b, h, c->title, c->subtitle, id);
	ttft_str_add(&b, ttft_str_get(&lg), strlen(ttft_str_get(&lg)));
	ttft_str_free(&lg);

	double first, last, step = ttft_svg_ticks(0, ymax > 0 ? ymax : 1, 5, &first, &last);
	struct scale sy = {0, last, plot1, plot0, 0};
	yaxis(&b, &sy, step, left, right, c->ylabel, 0);
	double s2 = ttft_svg_ticks(0, y2max > 0 ? y2max : 1, 5, &first, &last);
	struct scale sy2 = {0, c->y2max > 0 ? c->y2max : last, plot1, plot0, 0};
	if (has_right)
		yaxis(&b, &sy2, s2, right, left, c->y2label ? c->y2label : "", 1);

	struct scale sx = {xmin, xmax, left, right, c->logx};
	if (c->logx) {
		/* ticks where the data are: the swept values themselves */
		double pad = (log(xmax) - log(xmin)) * 0.06;
		if (pad == 0)
			pad = 0.5;
		sx.d0 = exp(log(xmin) - pad);
		sx.d1 = exp(log(xmax) + pad);
		double *xs = malloc((nx ? nx : 1) * sizeof *xs);
		size_t k = 0;
		for (size_t i = 0; xs && i < c->nseries; i++)
			for (size_t j = 0; j < c->series[i].n; j++)
				if (isfinite(c->series[i].x[j]) && c->series[i].x[j] > 0)
					xs[k++] = c->series[i].x[j];
		if (xs)
			qsort(xs, k, sizeof *xs, cmp_double);
		char t[64];
		for (size_t i = 0; xs && i < k; i++) {
			if (i && xs[i] == xs[i - 1])
				continue;
			double x = px(&sx, xs[i]);
			ttft_str_printf(&b, "<line class=\"gr\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
					   "y2=\"%.1f\"/>\n", x, plot0, x, plot1);
			snprintf(t, sizeof t, "%g", xs[i]);
			text(&b, x, plot1 + 16, "middle", NULL, t);
		}
		free(xs);
		ttft_str_printf(&b, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				   "y2=\"%.1f\"/>\n", left, plot1, right, plot1);
		text(&b, (left + right) / 2, plot1 + 36, "middle", NULL, c->xlabel);
	} else {
		double xs0, xs1, xst = ttft_svg_ticks(xmin, xmax, 6, &xs0, &xs1);
		sx.d0 = xs0;
		sx.d1 = xs1;
		xaxis_linear(&b, &sx, xst, plot1, plot0, c->xlabel);
	}
	vmarks(&b, &sx, c->marks, c->nmarks, top + lh - 2, plot1);
	for (size_t i = 0; i < c->nseries; i++) {
		const struct ttft_series *s = &c->series[i];
		const struct scale *ys = s->right ? &sy2 : &sy;
		const char *color = palette[i % NPAL];
		int open = 0;
		for (size_t k = 0; k < s->n; k++) {
			int ok = isfinite(s->x[k]) && isfinite(s->y[k]) && (!c->logx || s->x[k] > 0);
			if (!ok) {
				if (open)
					ttft_str_printf(&b, "\"/>\n");
				open = 0;
				continue;
			}
			if (!open)
				ttft_str_printf(&b, "<polyline fill=\"none\" stroke=\"%s\" "
						   "stroke-width=\"2\"%s points=\"", color,
						s->right || s->dashed ? " stroke-dasharray=\"5 3\"" : "");
			ttft_str_printf(&b, "%s%.1f,%.1f", open ? " " : "", px(&sx, s->x[k]),
					px(ys, s->y[k]));
			open = 1;
		}
		if (open)
			ttft_str_printf(&b, "\"/>\n");
		char t[64];
		for (size_t k = 0; k < s->n; k++) {
			if (!isfinite(s->x[k]) || !isfinite(s->y[k]) || (c->logx && s->x[k] <= 0))
				continue;
			double x = px(&sx, s->x[k]), y = px(ys, s->y[k]);
			sig3(t, sizeof t, s->y[k]);
			if (s->right)
				ttft_str_printf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" "
						   "fill=\"%s\"><title>", x - 3.5, y - 3.5, color);
			else
				ttft_str_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\">"
						   "<title>", x, y, color);
			ttft_str_xml(&b, s->name);
			ttft_str_printf(&b, " %g: %s</title></%s>\n", s->x[k], t,
					s->right ? "rect" : "circle");
			/* the number beside each point of a solid left-axis line:
			 * the chart stands without the table (dashed companions,
			 * e.g. p90 beside p50, keep theirs in the tooltip) */
			if (!s->right && !s->dashed)
				ttft_str_printf(&b, "<text x=\"%.1f\" y=\"%.1f\" class=\"sm\" "
						   "style=\"fill:%s\">%s</text>\n", x + 5, y - 5,
						color, t);
		}
	}
	return close_doc(&b);
}

char *ttft_svg_dots(const struct ttft_dotchart *c)
{
	struct ttft_str b = {0};
	unsigned long id = hash(c->title);
	double vmax = 0, vmin = INFINITY;
	for (size_t g = 0; g < c->ngroups; g++)
		for (size_t i = 0; i < c->groups[g].n; i++)
			if (isfinite(c->groups[g].v[i])) {
				vmax = c->groups[g].v[i] > vmax ? c->groups[g].v[i] : vmax;
				vmin = c->groups[g].v[i] < vmin ? c->groups[g].v[i] : vmin;
			}
	/* the box's top is a p75, given from ttft_quantile_min_n(0.75)
	 * values: a group of fewer has no box, and a line under the chart
	 * says why (as a table's '-') */
	size_t box_n = ttft_quantile_min_n(0.75);
	int nobox = 0;
	for (size_t g = 0; g < c->ngroups; g++) {
		size_t n = 0;
		for (size_t i = 0; i < c->groups[g].n; i++)
			n += isfinite(c->groups[g].v[i]) != 0;
		nobox |= n && n < box_n;
	}
	double plot0 = header_h(c->subtitle) + 20, plot1 = plot0 + 280;
	double left = 78, right = W - 24;
	open_doc(&b, (int)(plot1 + 52 + (nobox ? 16 : 0)), c->title, c->subtitle, id);
	/* the spread is the point: when every value sits far above zero the
	 * axis starts near the smallest (its ticks say where) */
	double lo = isfinite(vmin) && vmin > 0.5 * vmax ? vmin : 0;
	double first, last, step = ttft_svg_ticks(lo, vmax > lo ? vmax : lo + 1, 5, &first, &last);
	struct scale sy = {first, last, plot1, plot0, 0};
	if (isfinite(vmin)) {
		yaxis(&b, &sy, step, left, right, c->ylabel, 0);
	} else {
		/* no value at all: no scale to make up, and the chart says so */
		ttft_str_printf(&b, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				   "y2=\"%.1f\"/>\n", left, plot1, left, plot0);
		text(&b, (left + right) / 2, (plot0 + plot1) / 2, "middle", NULL,
		     "no values to draw");
	}
	ttft_str_printf(&b, "<line class=\"ax\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
			left, plot1, right, plot1);
	double slot = (right - left) / (double)(c->ngroups ? c->ngroups : 1);
	for (size_t g = 0; g < c->ngroups; g++) {
		const struct ttft_dotgroup *gr = &c->groups[g];
		double cx = left + slot * ((double)g + 0.5);
		double *v = malloc((gr->n ? gr->n : 1) * sizeof *v);
		if (!v)
			break;
		size_t n = 0;
		for (size_t i = 0; i < gr->n; i++)
			if (isfinite(gr->v[i]))
				v[n++] = gr->v[i];
		qsort(v, n, sizeof *v, cmp_double);
		char lab[256], t[64];
		snprintf(lab, sizeof lab, "%s (n=%zu)", gr->label, n);
		text(&b, cx, plot1 + 18, "middle", NULL, lab);
		if (n) {
			/* min, p25, median, p75, max: the one percentile; the p75
			 * NAN below box_n */
			double q[5] = {v[0], ttft_percentile_sorted(v, n, 0.25),
				       ttft_percentile_sorted(v, n, 0.5),
				       ttft_percentile_sorted(v, n, 0.75), v[n - 1]};
			double bw = slot * 0.35 > 70 ? 70 : slot * 0.35;
			ttft_str_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					   "stroke=\"#555\"/>\n", cx, px(&sy, q[0]), cx, px(&sy, q[4]));
			for (int k = 0; k < 5; k += 4)
				ttft_str_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
						   "y2=\"%.1f\" stroke=\"#555\"/>\n", cx - bw / 4,
						px(&sy, q[k]), cx + bw / 4, px(&sy, q[k]));
			if (!isnan(q[3]))
				ttft_str_printf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
						   "height=\"%.1f\" fill=\"#dcebf5\" "
						   "stroke=\"#0072B2\"/>\n", cx - bw / 2,
						px(&sy, q[3]), bw, px(&sy, q[1]) - px(&sy, q[3]) + 0.5);
			ttft_str_printf(&b, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					   "stroke=\"#0072B2\" stroke-width=\"3\"/>\n", cx - bw / 2,
					px(&sy, q[2]), cx + bw / 2, px(&sy, q[2]));
			for (size_t i = 0; i < n; i++) {
				/* spread by rank, not at random: the same data, the same picture */
				double dx = ((double)(i % 7) - 3) * bw / 10;
				sig3(t, sizeof t, v[i]);
				ttft_str_printf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
						   "fill=\"#D55E00\" fill-opacity=\"0.75\"><title>%s"
						   "</title></circle>\n", cx + dx, px(&sy, v[i]), t);
			}
			sig3(t, sizeof t, q[2]);
			char m[128];
			snprintf(m, sizeof m, "median %s%s%s", t, c->unit ? " " : "",
				 c->unit ? c->unit : "");
			text(&b, cx + bw / 2 + 6, px(&sy, q[2]) + 4, NULL, "sm", m);
			char mm[160], a[32], z[32];
			sig3(a, sizeof a, q[0]);
			sig3(z, sizeof z, q[4]);
			snprintf(mm, sizeof mm, "min %s, max %s", a, z);
			text(&b, cx, plot1 + 32, "middle", "sm", mm);
		}
		free(v);
	}
	if (nobox) {
		char why[64];
		snprintf(why, sizeof why, "p75 needs %zu values: no box below that", box_n);
		text(&b, left, plot1 + 50, NULL, "sm", why);
	}
	return close_doc(&b);
}
