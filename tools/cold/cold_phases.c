/* cold_phases.c — see cold_phases.h. */
#include "cold_phases.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compile(regex_t *re, const char *src, char *err, size_t errlen,
		   const char *path, int line)
{
	int rc = regcomp(re, src, REG_EXTENDED);
	if (rc) {
		char msg[128];
		regerror(rc, re, msg, sizeof msg);
		snprintf(err, errlen, "%s:%d: bad regex '%s': %s", path, line, src, msg);
		return -1;
	}
	return 0;
}

int cold_patterns_load(struct cold_patterns *ps, const char *path, char *err, size_t errlen)
{
	memset(ps, 0, sizeof *ps);
	snprintf(ps->path, sizeof ps->path, "%s", path);
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read pattern file %s", path);
		return -1;
	}
	char line[2048];
	int ln = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *field[6] = {0};
		int nf = 0;
		for (char *p = line; p && nf < 6; nf++) {
			field[nf] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		struct cold_pattern *cp = realloc(ps->p, (ps->n + 1) * sizeof *cp);
		if (!cp)
			break;
		ps->p = cp;
		struct cold_pattern *x = &ps->p[ps->n];
		memset(x, 0, sizeof *x);
		int ok;
		if (!strcmp(field[0], "info") && nf == 3) {
			x->is_info = 1;
			snprintf(x->name, sizeof x->name, "%s", field[1]);
			ok = compile(&x->end, field[2], err, errlen, path, ln) == 0;
		} else if (!strcmp(field[0], "phase") && nf == 6) {
			snprintf(x->name, sizeof x->name, "%s", field[1]);
			x->has_start = strcmp(field[2], "-") != 0;
			x->has_stated = strcmp(field[4], "-") != 0;
			x->unit = !strcmp(field[5], "ms") ? 1e-3 : 1.0;
			ok = (!x->has_start || compile(&x->start, field[2], err, errlen, path, ln) == 0) &&
			     compile(&x->end, field[3], err, errlen, path, ln) == 0 &&
			     (!x->has_stated || compile(&x->stated, field[4], err, errlen, path, ln) == 0);
		} else {
			snprintf(err, errlen, "%s:%d: want 'phase NAME START END STATED UNIT' "
				 "or 'info NAME REGEX', tab-separated", path, ln);
			ok = 0;
		}
		if (!ok) {
			fclose(f);
			cold_patterns_free(ps);
			return -1;
		}
		ps->n++;
	}
	fclose(f);
	if (ps->n == 0) {
		snprintf(err, errlen, "%s holds no patterns", path);
		return -1;
	}
	return 0;
}

void cold_patterns_free(struct cold_patterns *ps)
{
	for (size_t i = 0; i < ps->n; i++) {
		struct cold_pattern *x = &ps->p[i];
		regfree(&x->end);
		if (x->has_start)
			regfree(&x->start);
		if (x->has_stated)
			regfree(&x->stated);
	}
	free(ps->p);
	ps->p = NULL;
	ps->n = 0;
}

static int group1(const regex_t *re, const char *s, char *out, size_t len)
{
	regmatch_t m[2];
	if (regexec(re, s, 2, m, 0) != 0)
		return 0;
	if (m[1].rm_so < 0) {
		out[0] = 0;
		return 1;
	}
	size_t n = (size_t)(m[1].rm_eo - m[1].rm_so);
	if (n >= len)
		n = len - 1;
	memcpy(out, s + m[1].rm_so, n);
	out[n] = 0;
	return 1;
}

size_t cold_phases_match(const struct cold_patterns *ps, const struct cold_line *lines,
			 size_t nlines, long long t_spawn, double until_s,
			 struct cold_phase *phases, struct cold_info *infos, size_t *ninfo)
{
	size_t np = 0, found = 0;
	*ninfo = 0;
	for (size_t i = 0; i < ps->n; i++) {
		const struct cold_pattern *x = &ps->p[i];
		double t_start = NAN, t_end = NAN, stated = NAN;
		char val[64];
		for (size_t k = 0; k < nlines; k++) {
			double t = (double)(lines[k].t_ns - t_spawn) / 1e9;
			if (t > until_s)
				break;
			const char *s = lines[k].text;
			if (x->is_info) {
				if (group1(&x->end, s, val, sizeof val)) {
					snprintf(infos[*ninfo].name, sizeof infos[0].name, "%s", x->name);
					snprintf(infos[*ninfo].value, sizeof infos[0].value, "%s", val);
					(*ninfo)++;
					break;
				}
				continue;
			}
			if (x->has_start && isnan(t_start) && regexec(&x->start, s, 0, NULL, 0) == 0) {
				t_start = t;
				continue;
			}
			if ((!x->has_start || !isnan(t_start)) && regexec(&x->end, s, 0, NULL, 0) == 0) {
				t_end = t;
				if (x->has_stated && group1(&x->stated, s, val, sizeof val))
					stated = atof(val) * x->unit;
				break;
			}
		}
		if (x->is_info)
			continue;
		struct cold_phase *p = &phases[np++];
		memset(p, 0, sizeof *p);
		snprintf(p->name, sizeof p->name, "%s", x->name);
		p->stated_s = stated;
		p->found = !isnan(t_end);
		p->end_s = t_end;
		if (!p->found) {
			p->start_s = p->duration_s = NAN;
			continue;
		}
		found++;
		if (!isnan(t_start)) {
			p->start_s = t_start;
			p->duration_s = t_end - t_start;
		} else if (!isnan(stated)) {
			p->start_s = t_end - stated;
			p->duration_s = stated;
		} else {
			p->start_s = t_end;
			p->duration_s = 0;
		}
	}
	return found;
}

static int cmp_iv(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0];
}

double cold_unaccounted(const struct cold_phase *ph, size_t n, double total_s)
{
	double (*iv)[2] = malloc((n ? n : 1) * sizeof *iv);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ph[i].found)
			continue;
		double a = ph[i].start_s < 0 ? 0 : ph[i].start_s;
		double b = ph[i].start_s + ph[i].duration_s;
		if (b > total_s)
			b = total_s;
		if (b > a) {
			iv[k][0] = a;
			iv[k][1] = b;
			k++;
		}
	}
	qsort(iv, k, sizeof *iv, cmp_iv);
	double covered = 0, cur_a = 0, cur_b = -1;
	for (size_t i = 0; i < k; i++) {
		if (iv[i][0] > cur_b) {
			if (cur_b > cur_a)
				covered += cur_b - cur_a;
			cur_a = iv[i][0];
			cur_b = iv[i][1];
		} else if (iv[i][1] > cur_b) {
			cur_b = iv[i][1];
		}
	}
	if (cur_b > cur_a)
		covered += cur_b - cur_a;
	free(iv);
	double u = total_s - covered;
	return u < 0 ? 0 : u;
}

const char *cold_detect_kind(const struct cold_line *lines, size_t n)
{
	for (size_t i = 0; i < n && i < 2000; i++) {
		const char *s = lines[i].text;
		if (strstr(s, "vLLM") || strstr(s, "vllm"))
			return "vllm";
		if (strstr(s, "llama_server") || strstr(s, "llama_model_loader") ||
		    strstr(s, "llama.cpp") || strstr(s, "llama_context"))
			return "llamacpp";
	}
	return NULL;
}
