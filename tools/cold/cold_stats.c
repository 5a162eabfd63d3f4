/* cold_stats.c — see cold_stats.h. */
#include "cold_stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_summary.h"

double cold_median(double *v, size_t n)
{
	return ttft_percentile(v, n, 0.5);
}

double cold_warm_median(const struct cold_cycle *c, double *min, double *max, double *cv)
{
	double v[1024];
	size_t n = 0;
	for (int i = 0; i < c->nwarm && n < 1024; i++) {
		double t = ttft_record_ttft_s(&c->warm[i]);
		if (!isnan(t))
			v[n++] = t;
	}
	double mean = 0, var = 0;
	for (size_t i = 0; i < n; i++)
		mean += v[i];
	mean = n ? mean / (double)n : NAN;
	for (size_t i = 0; i < n; i++)
		var += (v[i] - mean) * (v[i] - mean);
	*cv = n > 1 ? sqrt(var / (double)(n - 1)) / mean : NAN;
	double med = cold_median(v, n);
	*min = n ? v[0] : NAN;
	*max = n ? v[n - 1] : NAN;
	return med;
}

const char *cold_engine_name(const char *kind)
{
	return !strcmp(kind, "vllm") ? "vLLM" : !strcmp(kind, "llamacpp")
	       ? "llama.cpp llama-server" : kind;
}

int cold_is_vllm(const struct cold_run *run)
{
	return !strcmp(run->kind, "vllm");
}

/* Cycles with both a cold request and warm ones measured: a TTFT of each,
 * not only requests made (warm ones that all failed or timed out give no
 * median to compare the cold one with). */
int cold_usable(const struct cold_cycle *c)
{
	double mn, mx, cv;
	return c->cold.t_start && c->cold.ok && !isnan(ttft_record_ttft_s(&c->cold)) &&
	       c->nwarm > 0 && !isnan(cold_warm_median(c, &mn, &mx, &cv)) &&
	       !isnan(c->spawn_to_ready_s);
}

const struct cold_cycle *cold_first_usable(const struct cold_run *run)
{
	for (int k = 0; k < run->ncycles; k++)
		if (cold_usable(&run->cycles[k]))
			return &run->cycles[k];
	return NULL;
}

/* Cached prompt tokens of one run, from whichever the server gives
 * (llama.cpp's timings.cache_n, vLLM's prefix-cache counter deltas). */
double cold_cached_tokens(const struct ttft_record *r)
{
	return ttft_record_split(r)->hit_tokens;
}

/* The server's own prefill time of one run, seconds. */
double cold_prefill_s(const struct ttft_record *r)
{
	return ttft_record_split(r)->prefill_s;
}

/* Seconds of each category, counting every phase once: a phase's own time
 * is its duration less its children's; unaccounted goes to start-up. */
void cold_by_category(const struct cold_decomp *d, double *cat)
{
	for (int i = 0; i < COLD_CAT__N; i++)
		cat[i] = 0;
	for (size_t i = 0; i < d->nphases; i++) {
		const struct cold_phase *p = &d->phases[i];
		if (!p->found)
			continue;
		double own = p->duration_s;
		for (size_t j = 0; j < d->nphases; j++)
			if (d->phases[j].found && d->phases[j].parent == (int)i)
				own -= d->phases[j].duration_s;
		cat[p->category] += own;
	}
	if (!isnan(d->unaccounted_s))
		cat[COLD_CAT_STARTUP] += d->unaccounted_s;
}

/* The longest top-level phase, or NULL. */
const struct cold_phase *cold_dominant(const struct cold_decomp *d)
{
	const struct cold_phase *best = NULL;
	for (size_t i = 0; i < d->nphases; i++) {
		const struct cold_phase *p = &d->phases[i];
		if (p->found && p->parent < 0 && (!best || p->duration_s > best->duration_s))
			best = p;
	}
	return best;
}

int cold_warm_cached(const struct cold_run *run, double *most, double *cold)
{
	int more = 0, unknown = 0;
	*most = *cold = 0;
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_cycle *c = &run->cycles[k];
		if (!cold_usable(c))
			continue;
		double cc = cold_cached_tokens(&c->cold);
		cc = isnan(cc) ? 0 : cc;
		*cold = cc > *cold ? cc : *cold;
		for (int i = 0; i < c->nwarm; i++) {
			double w = cold_cached_tokens(&c->warm[i]);
			if (isnan(w)) {
				unknown = 1;
				continue;
			}
			more |= w > cc;
			*most = w > *most ? w : *most;
		}
	}
	return more ? 1 : unknown && !run->distinct_prompts ? -1 : 0;
}

int cold_busy(const struct cold_cycle *c)
{
	return c->host_start.ncpu > 0 &&
	       (c->host_start.load1 >= (double)c->host_start.ncpu || c->steal_pct >= 5);
}

int cold_any_busy(const struct cold_run *run)
{
	for (int k = 0; k < run->ncycles; k++)
		if (cold_busy(&run->cycles[k]))
			return 1;
	return 0;
}

void cold_factors_of(const struct cold_run *run, struct cold_factors *f)
{
	f->n = 0;
	for (int k = 0; k < run->ncycles && f->n < 1000; k++) {
		const struct cold_cycle *c = &run->cycles[k];
		double mn, mx, cv, med = cold_warm_median(c, &mn, &mx, &cv);
		if (cold_usable(c) && med > 0)
			f->v[f->n++] = ttft_record_ttft_s(&c->cold) / med;
	}
	double tmp[1000];
	memcpy(tmp, f->v, f->n * sizeof *tmp);
	f->med = cold_median(tmp, f->n);
	f->lo = f->n ? tmp[0] : NAN;
	f->hi = f->n ? tmp[f->n - 1] : NAN;
}

void cold_medians_of(const struct cold_run *run, struct cold_medians *m)
{
	double r[1000], c[1000], w[1000], pc[1000], pw[1000], cat[COLD_CAT__N][1000];
	size_t n = 0, npc = 0, npw = 0;
	for (int k = 0; k < run->ncycles && n < 1000; k++) {
		const struct cold_cycle *y = &run->cycles[k];
		if (!cold_usable(y))
			continue;
		double mn, mx, cv;
		r[n] = y->spawn_to_ready_s;
		c[n] = ttft_record_ttft_s(&y->cold);
		w[n] = cold_warm_median(y, &mn, &mx, &cv);
		double cc[COLD_CAT__N];
		cold_by_category(&y->dec, cc);
		for (int i = 0; i < COLD_CAT__N; i++)
			cat[i][n] = cc[i];
		if (!isnan(cold_prefill_s(&y->cold)))
			pc[npc++] = cold_prefill_s(&y->cold);
		for (int i = 0; i < y->nwarm && npw < 1000; i++)
			if (!isnan(cold_prefill_s(&y->warm[i])))
				pw[npw++] = cold_prefill_s(&y->warm[i]);
		n++;
	}
	m->n = n;
	m->ready = cold_median(r, n);
	m->cold = cold_median(c, n);
	m->warm = cold_median(w, n);
	m->extra = m->cold - m->warm;
	m->pf_cold = cold_median(pc, npc);
	m->pf_warm = cold_median(pw, npw);
	for (int i = 0; i < COLD_CAT__N; i++)
		m->cat[i] = cold_median(cat[i], n);
}

const struct cold_info *cold_info_rec(const struct cold_run *run, const char *name)
{
	for (int k = 0; k < run->ncycles; k++) {
		const struct cold_decomp *d = &run->cycles[k].dec;
		for (size_t i = 0; i < d->ninfo; i++)
			if (!strcmp(d->infos[i].name, name))
				return &d->infos[i];
	}
	return NULL;
}

const char *cold_info_of(const struct cold_run *run, const char *name)
{
	for (int k = 0; k < run->ncycles; k++) {
		const char *v = cold_info(&run->cycles[k].dec, name);
		if (v)
			return v;
	}
	return NULL;
}

double cold_info_num(const struct cold_run *run, const char *name)
{
	const char *v = cold_info_of(run, name);
	return v ? cold_info_number(v, 0) : NAN;
}

double cold_phase_median(const struct cold_run *run, const char *name)
{
	double v[1000];
	size_t n = 0;
	for (int k = 0; k < run->ncycles && n < 1000; k++) {
		const struct cold_decomp *d = &run->cycles[k].dec;
		for (size_t i = 0; i < d->nphases; i++)
			if (d->phases[i].found && !strcmp(d->phases[i].name, name))
				v[n++] = d->phases[i].duration_s;
	}
	return cold_median(v, n);
}

double cold_phase_stated_median(const struct cold_run *run, const char *name)
{
	double v[1000];
	size_t n = 0;
	for (int k = 0; k < run->ncycles && n < 1000; k++) {
		const struct cold_decomp *d = &run->cycles[k].dec;
		for (size_t i = 0; i < d->nphases; i++)
			if (d->phases[i].found && !strcmp(d->phases[i].name, name) &&
			    !isnan(d->phases[i].stated_s))
				v[n++] = d->phases[i].stated_s;
	}
	return cold_median(v, n);
}

const char *cold_run_argv(const struct cold_run *run)
{
	for (int k = 0; k < run->ncycles; k++)
		if (run->cycles[k].server_argv)
			return run->cycles[k].server_argv;
	return run->server_cmd;
}
