/* ttft_charts.c — see ttft_charts.h. */
#include "ttft_charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_svg.h"

enum { C_DNS, C_CONNECT, C_SEND, C_QUEUE, C_PREFILL, C_OTHER, C_WAIT, C_DECODE, C__N };
static const char *const cats[C__N] = {"dns", "connect", "send", "queue", "prefill",
				       "other (server, unexplained)",
				       "wait (no server split)", "decode"};

static int known(double a, double b)
{
	return isfinite(a) && isfinite(b) && b >= a;
}

char *ttft_waterfall_svg(const char *title, const char *subtitle, const struct ttft_wf *r,
			 size_t n)
{
	struct ttft_tl_row *rows = calloc(n ? n : 1, sizeof *rows);
	struct ttft_tl_seg *segs = calloc((n ? n : 1) * 8, sizeof *segs);
	char (*notes)[sizeof r->why] = calloc(n ? n : 1, sizeof *notes);
	char *svg = NULL;
	if (!rows || !segs || !notes)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const struct ttft_wf *w = &r[i];
		struct ttft_tl_seg *s = segs + i * 8;
		size_t k = 0;
		if (known(w->t_dns0, w->t_dns1))
			s[k++] = (struct ttft_tl_seg){w->t_dns0, w->t_dns1, C_DNS};
		if (known(w->t_conn0, w->t_est))
			s[k++] = (struct ttft_tl_seg){w->t_conn0, w->t_est, C_CONNECT};
		if (known(w->t_req0, w->t_req1))
			s[k++] = (struct ttft_tl_seg){w->t_req0, w->t_req1, C_SEND};
		/* a TTFT the table refuses: no wait before a first token that
		 * is not known to be this request's, or not known at all */
		int refused = w->why[0] != 0;
		if (!w->early && !refused && known(w->t_req1, w->t_first)) {
			double t = w->t_req1, srv = w->t_first - w->t_req1;
			double q = isfinite(w->queue_ms) ? w->queue_ms : 0;
			double p = isfinite(w->prefill_ms) ? w->prefill_ms : 0;
			if (isfinite(w->queue_ms) || isfinite(w->prefill_ms)) {
				/* a split larger than what the client waited cannot be
				 * drawn inside it: clipped, the note says so */
				double scale = q + p > srv && q + p > 0 ? srv / (q + p) : 1;
				if (q > 0)
					s[k++] = (struct ttft_tl_seg){t, t + q * scale, C_QUEUE};
				t += q * scale;
				if (p > 0)
					s[k++] = (struct ttft_tl_seg){t, t + p * scale, C_PREFILL};
				t += p * scale;
				if (w->t_first > t)
					s[k++] = (struct ttft_tl_seg){t, w->t_first, C_OTHER};
			} else {
				s[k++] = (struct ttft_tl_seg){t, w->t_first, C_WAIT};
			}
		}
		if (known(w->t_first, w->t_last))
			s[k++] = (struct ttft_tl_seg){w->t_first, w->t_last, C_DECODE};
		rows[i].label = w->label;
		rows[i].segs = s;
		rows[i].nsegs = k;
		double q = isfinite(w->queue_ms) ? w->queue_ms : 0;
		double p = isfinite(w->prefill_ms) ? w->prefill_ms : 0;
		int over = !w->early && !refused && known(w->t_req1, w->t_first) &&
			   q + p > w->t_first - w->t_req1;
		/* a pre-opened connection's connect is not drawn (before the
		 * request, where its TTFT began): the row says so */
		const char *pre = w->preopened ? "pre-opened: connect not drawn" : "";
		const char *why = w->early ? "answered mid-request" : over ? "split clipped" : "";
		if (refused)
			snprintf(notes[i], sizeof notes[i], "%s", w->why);
		else if (known(w->t_start, w->t_first))
			snprintf(notes[i], sizeof notes[i], "TTFT %.1f ms%s%s%s%s%s",
				 w->t_first - w->t_start, *why || *pre ? " (" : "", why,
				 *why && *pre ? "; " : "", pre, *why || *pre ? ")" : "");
		else
			snprintf(notes[i], sizeof notes[i], "%s%s%s",
				 w->early ? "answered mid-request" : "no first token",
				 *pre ? "; " : "", pre);
		rows[i].note = notes[i];
	}
	struct ttft_timeline c = {
		.title = title,
		.subtitle = subtitle,
		.xlabel = "time since the first request began (ms)",
		.cats = cats,
		.ncats = C__N,
		.rows = rows,
		.nrows = n,
	};
	svg = ttft_svg_timeline(&c);
out:
	free(rows);
	free(segs);
	free(notes);
	return svg;
}

/* t − t0 in ms, or NAN when t is not known (0) or the difference does
 * not fit (a damaged log's instants may be anything: never a wrapped
 * time); *wild set then. */
static double rel(int64_t t, int64_t t0, int *wild)
{
	int64_t d;
	if (!t)
		return NAN;
	if (__builtin_sub_overflow(t, t0, &d)) {
		*wild = 1;
		return NAN;
	}
	return (double)d / 1e6;
}

void ttft_wf_of(const struct ttft_record *r, int64_t t0, struct ttft_wf *w)
{
	/* a pre-opened connection's setup was before its TTFT began (at the
	 * request, docs/phases.md): not a part of this row */
	int setup = r->new_conn && !r->preopened, wild = 0;
	w->preopened = r->new_conn && r->preopened;
	w->t_start = rel(r->t_start, t0, &wild);
	w->t_dns0 = setup ? rel(r->t_dns0, t0, &wild) : NAN;
	w->t_dns1 = setup ? rel(r->t_dns1, t0, &wild) : NAN;
	w->t_conn0 = setup ? rel(r->t_conn0, t0, &wild) : NAN;
	w->t_est = setup ? rel(r->t_est, t0, &wild) : NAN;
	/* the table's send: after a Fast Open setup, not within it */
	w->t_req0 = rel(ttft_record_send_start(r), t0, &wild);
	w->t_req1 = rel(r->t_req1, t0, &wild);
	struct ttft_phases p;
	ttft_record_phases(r, &p);
	w->t_first = r->ntok ? rel(ttft_record_tok_times(r)[0], t0, &wild) : NAN;
	w->t_last = r->ntok && isfinite(p.decode_s) ? rel(ttft_record_last_token(r), t0, &wild)
						     : NAN;
	w->t_end = rel(r->t_end, t0, &wild);
	w->why[0] = 0;
	if (wild) {
		/* drawn at a wrapped time it would be a wild coordinate: no
		 * part of it is drawn, its note says why */
		double *t[] = {&w->t_start, &w->t_dns0, &w->t_dns1, &w->t_conn0, &w->t_est,
			       &w->t_req0, &w->t_req1, &w->t_first, &w->t_last, &w->t_end};
		for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
			*t[i] = NAN;
		snprintf(w->why, sizeof w->why, "not drawn: its times do not fit one time "
			 "line with the first request's (a damaged log?)");
	} else if (isnan(p.ttft_s)) {
		char nb[sizeof w->why];
		const char *n = ttft_record_note(r, nb, sizeof nb);
		snprintf(w->why, sizeof w->why, "%s",
			 n ? n : r->ntok ? "its TTFT is not known" : "no first token");
	}
	const struct ttft_server_split *sp = ttft_record_split(r);
	w->queue_ms = sp->source ? sp->queue_s * 1e3 : NAN;
	w->prefill_ms = sp->source ? sp->prefill_s * 1e3 : NAN;
	w->early = ttft_record_early(r);
}

size_t ttft_wf_from_analysis(const struct ttft_analysis *a, struct ttft_wf *out, size_t max)
{
	size_t n = a->nreqs < max ? a->nreqs : max;
	int64_t t0 = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ttft_record *r = &a->reqs[i];
		int64_t s = r->t_dns0 && r->new_conn && !r->preopened && r->t_dns0 < r->t_start
				    ? r->t_dns0
				    : r->t_start;
		if (!t0 || s < t0)
			t0 = s;
	}
	for (size_t i = 0; i < n; i++) {
		const struct ttft_record *r = &a->reqs[i];
		snprintf(out[i].label, sizeof out[i].label, "%zu: conn %llu %s %.40s", i + 1,
			 (unsigned long long)r->conn, r->method, r->path);
		ttft_wf_of(r, t0, &out[i]);
	}
	return n;
}
