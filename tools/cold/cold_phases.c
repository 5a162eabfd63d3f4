/* cold_phases.c — see cold_phases.h. */
#include "cold_phases.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *cold_cat_name(int cat)
{
	static const char *const names[COLD_CAT__N] = {
		[COLD_CAT_OTHER] = "other", [COLD_CAT_WEIGHTS] = "weights load",
		[COLD_CAT_WARMUP] = "runtime warm-up", [COLD_CAT_ALLOC] = "allocations",
		[COLD_CAT_STARTUP] = "start-up",
	};
	return cat >= 0 && cat < COLD_CAT__N ? names[cat] : "other";
}

static int parse_cat(const char *s)
{
	static const char *const keys[COLD_CAT__N] = {
		[COLD_CAT_OTHER] = "other", [COLD_CAT_WEIGHTS] = "weights",
		[COLD_CAT_WARMUP] = "warmup", [COLD_CAT_ALLOC] = "alloc",
		[COLD_CAT_STARTUP] = "startup",
	};
	for (int i = 0; i < COLD_CAT__N; i++)
		if (!strcmp(s, keys[i]))
			return i;
	return -1;
}

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

static void free_row(struct cold_pattern *x)
{
	regfree(&x->end);
	if (x->has_start)
		regfree(&x->start);
	if (x->has_stated)
		regfree(&x->stated);
}

/* One "phase" row (f[0] is "phase"): NAME PARENT CATEGORY START END
 * STATED UNIT, or the older NAME START END STATED UNIT (top level). */
static int phase_row(struct cold_pattern *x, char **f, int nf, char *err, size_t errlen,
		     const char *path, int ln)
{
	snprintf(x->name, sizeof x->name, "%s", f[1]);
	x->category = COLD_CAT_OTHER;
	char **q = f + 2; /* START END STATED UNIT */
	if (nf == 8) {
		snprintf(x->parent, sizeof x->parent, "%s", strcmp(f[2], "-") ? f[2] : "");
		x->category = parse_cat(f[3]);
		if (x->category < 0) {
			snprintf(err, errlen, "%s:%d: unknown category '%s' (weights, warmup, "
				 "alloc, startup, other)", path, ln, f[3]);
			return -1;
		}
		q = f + 4;
	}
	if (strcmp(q[3], "s") && strcmp(q[3], "ms")) {
		snprintf(err, errlen, "%s:%d: unit '%s' is neither s nor ms", path, ln, q[3]);
		return -1;
	}
	x->has_start = strcmp(q[0], "-") != 0;
	x->has_stated = strcmp(q[2], "-") != 0;
	x->unit = !strcmp(q[3], "ms") ? 1e-3 : 1.0;
	if (x->has_start && compile(&x->start, q[0], err, errlen, path, ln) != 0)
		return -1;
	if (compile(&x->end, q[1], err, errlen, path, ln) != 0) {
		if (x->has_start)
			regfree(&x->start);
		return -1;
	}
	if (x->has_stated && compile(&x->stated, q[2], err, errlen, path, ln) != 0) {
		if (x->has_start)
			regfree(&x->start);
		regfree(&x->end);
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
	int ln = 0, bad = 0;
	while (!bad && fgets(line, sizeof line, f)) {
		ln++;
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		char *field[9] = {0};
		int nf = 0;
		for (char *p = line; p && nf < 9; nf++) {
			field[nf] = p;
			p = strchr(p, '\t');
			if (p)
				*p++ = 0;
		}
		if (!strcmp(field[0], "about") && nf == 4) {
			struct cold_about *a = realloc(ps->about, (ps->nabout + 1) * sizeof *a);
			if (!a) {
				snprintf(err, errlen, "out of memory reading %s", path);
				bad = 1;
				break;
			}
			ps->about = a;
			a = &ps->about[ps->nabout++];
			snprintf(a->name, sizeof a->name, "%s", field[1]);
			snprintf(a->title, sizeof a->title, "%s", field[2]);
			snprintf(a->meaning, sizeof a->meaning, "%s", field[3]);
			continue;
		}
		struct cold_pattern *cp = realloc(ps->p, (ps->n + 1) * sizeof *cp);
		if (!cp) {
			snprintf(err, errlen, "out of memory reading %s", path);
			bad = 1;
			break;
		}
		ps->p = cp;
		struct cold_pattern *x = &ps->p[ps->n];
		memset(x, 0, sizeof *x);
		if ((!strcmp(field[0], "info") || !strcmp(field[0], "infosum")) && nf == 3) {
			x->is_info = 1;
			x->sum = !strcmp(field[0], "infosum");
			snprintf(x->name, sizeof x->name, "%s", field[1]);
			bad = compile(&x->end, field[2], err, errlen, path, ln) != 0;
		} else if (!strcmp(field[0], "restart") && nf == 2) {
			x->is_restart = 1;
			snprintf(x->name, sizeof x->name, "restart");
			bad = compile(&x->end, field[1], err, errlen, path, ln) != 0;
		} else if (!strcmp(field[0], "phase") && (nf == 8 || nf == 6)) {
			bad = phase_row(x, field, nf, err, errlen, path, ln) != 0;
		} else {
			snprintf(err, errlen, "%s:%d: want 'phase NAME PARENT CATEGORY START END "
				 "STATED UNIT', 'about NAME TITLE MEANING', 'info NAME REGEX', "
				 "'infosum NAME REGEX' or 'restart REGEX', tab-separated", path, ln);
			bad = 1;
		}
		if (!bad)
			ps->n++;
	}
	fclose(f);
	if (!bad) {
		for (size_t i = 0; i < ps->n && !bad; i++) {
			const char *par = ps->p[i].parent;
			int known = !par[0];
			for (size_t j = 0; j < ps->n && !known; j++)
				known = !ps->p[j].is_info && !ps->p[j].is_restart &&
					!strcmp(ps->p[j].name, par);
			if (!known) {
				snprintf(err, errlen, "%s: phase %s names a parent '%s' that no "
					 "phase row defines", path, ps->p[i].name, par);
				bad = 1;
			}
		}
	}
	if (!bad && ps->n == 0) {
		snprintf(err, errlen, "%s holds no patterns", path);
		bad = 1;
	}
	if (bad) {
		cold_patterns_free(ps);
		return -1;
	}
	return 0;
}

void cold_patterns_free(struct cold_patterns *ps)
{
	for (size_t i = 0; i < ps->n; i++)
		free_row(&ps->p[i]);
	free(ps->p);
	free(ps->about);
	memset(ps, 0, sizeof *ps);
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

/* Which process printed a line: vLLM's prefix names it ("(VllmWorker
 * rank=2 pid=81)", "(Worker_TP2 pid=81)", V0's "(VllmWorkerProcess
 * pid=81)": a tensor-parallel rank; "(EngineCore_DP1 pid=21)": a
 * data-parallel engine; "(APIServer pid=10)"); a line without one is the
 * main process "". With no_pid, the name without its "pid=N" (a process
 * restarted under a new pid is the same one). */
static void rank_key_(const char *s, char *key, size_t n, int no_pid)
{
	key[0] = 0;
	while (*s == ' ')
		s++;
	if (*s != '(')
		return;
	const char *e = strchr(s, ')');
	if (!e || e - s > 80)
		return;
	size_t k = (size_t)(e - s);
	char tok[96];
	memcpy(tok, s, k);
	tok[k] = 0;
	char *pid = strstr(tok, "pid=");
	if (!pid && !strstr(tok, "Worker"))
		return; /* not a process prefix */
	if (no_pid && pid)
		*pid = 0;
	snprintf(key, n, "%s", tok);
}

static void rank_key(const char *s, char *key, size_t n)
{
	rank_key_(s, key, n, 0);
}

void cold_process_name(const char *line, char *name, size_t n)
{
	rank_key_(line, name, n, 1);
}

static double at(const struct cold_line *l, long long t_spawn)
{
	return (double)(l->t_ns - t_spawn) / 1e9;
}

struct raw {
	int found, copies;
	double start, end, arrival, stated;
	char note[200];
};

/* One pattern row over the lines up to `until`. Copies of the END line
 * that other ranks print (tensor parallelism: one per rank) are one event:
 * it ends when the last rank's copy arrives. */
static void match_row(const struct cold_pattern *x, const struct cold_line *lines, size_t n,
		      long long t_spawn, double until, int use_start, struct raw *r)
{
	memset(r, 0, sizeof *r);
	r->start = r->end = r->arrival = r->stated = NAN;
	size_t k = 0;
	double t_start = NAN;
	if (use_start) {
		for (; k < n && at(&lines[k], t_spawn) <= until; k++)
			if (regexec(&x->start, lines[k].text, 0, NULL, 0) == 0)
				break;
		if (k == n || at(&lines[k], t_spawn) > until)
			return;
		t_start = at(&lines[k], t_spawn);
		k++;
	}
	enum { MAXK = 64 };
	char keys[MAXK][96];
	int nk = 0;
	char val[64], bad_stated[64] = "";
	for (; k < n && at(&lines[k], t_spawn) <= until; k++) {
		if (regexec(&x->end, lines[k].text, 0, NULL, 0) != 0)
			continue;
		char key[96];
		rank_key(lines[k].text, key, sizeof key);
		int seen = 0;
		for (int i = 0; i < nk && !seen; i++)
			seen = !strcmp(keys[i], key);
		if (seen || nk == MAXK)
			break; /* a rank's second END: a later event, not a copy */
		snprintf(keys[nk++], sizeof keys[0], "%s", key);
		r->end = at(&lines[k], t_spawn);
		if (x->has_stated && group1(&x->stated, lines[k].text, val, sizeof val)) {
			char *e;
			double v = strtod(val, &e) * x->unit;
			if (e == val || *e || !(v >= 0))
				snprintf(bad_stated, sizeof bad_stated, "%s", val);
			else if (isnan(r->stated) || v > r->stated)
				r->stated = v;
		}
	}
	if (!nk)
		return;
	r->found = 1;
	r->copies = nk;
	if (bad_stated[0])
		snprintf(r->note, sizeof r->note, "the line states '%s', which cannot be a "
			 "duration: ignored", bad_stated);
	if (!isnan(t_start)) {
		r->start = t_start;
		r->arrival = r->end - t_start;
		/* the lines' arrival is what counts; far more than the line
		 * states means something else happened in between */
		if (!isnan(r->stated) && r->arrival > 1.5 * r->stated + 0.5 && !r->note[0])
			snprintf(r->note, sizeof r->note, "its lines arrived %.3f s apart where the "
				 "line states %.3f s: the server did something else in between "
				 "(read its log)", r->arrival, r->stated);
		/* far less: the server's own clock ran longer than its lines'
		 * arrival shows; the opening line came late (output held back
		 * and written in a burst), so the arrival is not the phase's
		 * length, though it is what the sum can count */
		else if (!isnan(r->stated) && r->stated > 1.5 * r->arrival + 0.5 && !r->note[0])
			snprintf(r->note, sizeof r->note, "its lines arrived %.3f s apart where the "
				 "line states %.3f s: the opening line came late (output held "
				 "back?); counted by arrival, not the phase's length",
				 r->arrival, r->stated);
	} else if (!isnan(r->stated)) {
		r->start = r->end - r->stated;
	} else {
		r->start = r->end;
		if (!r->note[0])
			snprintf(r->note, sizeof r->note, "a marker: no opening line and no "
				 "stated duration");
	}
}

/* Where the server's last start began, before `until`: the pattern
 * file's restart rows are the lines a start prints once from each process
 * (the API server's version, each engine's initialisation); one seen again
 * from a process of the same name means the earlier start failed and the
 * server started over (a crash, a supervisor's restart) inside this
 * spawn. Returns that line's index (0: one start), *starts the count. */
static size_t last_start(const struct cold_patterns *ps, const struct cold_line *lines,
			 size_t n, long long t_spawn, double until, int *starts)
{
	enum { MAXK = 32 };
	char keys[MAXK][96];
	int nk = 0;
	size_t k0 = 0;
	*starts = 1;
	for (size_t k = 0; k < n && at(&lines[k], t_spawn) <= until; k++) {
		size_t i = 0;
		while (i < ps->n && !(ps->p[i].is_restart &&
				      regexec(&ps->p[i].end, lines[k].text, 0, NULL, 0) == 0))
			i++;
		if (i == ps->n)
			continue;
		/* which row, from which process */
		char name[80], key[96];
		rank_key_(lines[k].text, name, sizeof name, 1);
		snprintf(key, sizeof key, "%zu %s", i, name);
		int seen = 0;
		for (int q = 0; q < nk && !seen; q++)
			seen = !strcmp(keys[q], key);
		if (seen) { /* a new start: its processes begin again */
			(*starts)++;
			k0 = k;
			nk = 0;
		}
		if (nk < MAXK)
			snprintf(keys[nk++], sizeof keys[0], "%s", key);
	}
	return k0;
}

size_t cold_last_start(const struct cold_patterns *ps, const struct cold_line *lines, size_t n,
		       int *starts)
{
	return last_start(ps, lines, n, 0, INFINITY, starts);
}

const char *cold_patterns_path(const char *kind, char *buf, size_t n)
{
	char self[4096];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k > 0) {
		self[k] = 0;
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		snprintf(buf, n, "%s/../tools/patterns/%s.tsv", self, kind);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	snprintf(buf, n, "tools/patterns/%s.tsv", kind);
	return buf;
}

static const struct cold_about *about_of(const struct cold_patterns *ps, const char *name)
{
	for (size_t i = 0; i < ps->nabout; i++)
		if (!strcmp(ps->about[i].name, name))
			return &ps->about[i];
	return NULL;
}

__attribute__((format(printf, 2, 3)))
static void note_add(struct cold_phase *p, const char *fmt, ...)
{
	size_t o = strlen(p->note);
	if (o + 4 >= sizeof p->note)
		return;
	if (o)
		o += (size_t)snprintf(p->note + o, sizeof p->note - o, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->note + o, sizeof p->note - o, fmt, ap);
	va_end(ap);
}

/* The found children of `parent` (-1: top level), ordered by their end
 * (by_end) or their start, ties the other way round. At most
 * COLD_MAX_PHASES: an insertion sort. */
static size_t children(const struct cold_decomp *d, int parent, int by_end, int *out)
{
	size_t n = 0;
	for (size_t i = 0; i < d->nphases; i++) {
		if (!d->phases[i].found || d->phases[i].parent != parent)
			continue;
		const struct cold_phase *x = &d->phases[i];
		double xa = by_end ? x->end_s : x->start_s, xb = by_end ? x->start_s : x->end_s;
		size_t k = n++;
		for (; k > 0; k--) {
			const struct cold_phase *y = &d->phases[out[k - 1]];
			double ya = by_end ? y->end_s : y->start_s, yb = by_end ? y->start_s : y->end_s;
			if (ya < xa || (ya == xa && yb <= xb))
				break;
			out[k] = out[k - 1];
		}
		out[k] = (int)i;
	}
	return n;
}

/* Keep one group of siblings inside [lo, hi] and apart from each other.
 * A phase's end is the arrival of its closing line: hard evidence. Its
 * start may be derived (end minus what the line states), so in the order
 * the phases ended, a phase starts no earlier than the one before it
 * ended: what overlaps is counted once, in the earlier phase. */
static void settle(struct cold_decomp *d, int parent, double lo, double hi)
{
	int idx[COLD_MAX_PHASES];
	size_t n = children(d, parent, 1, idx);
	double prev_end = -INFINITY;
	const char *prev = NULL;
	for (size_t i = 0; i < n; i++) {
		struct cold_phase *p = &d->phases[idx[i]];
		double s = p->start_s, e = p->end_s;
		if (e > hi) {
			note_add(p, "ends %.3f s after %s, which contains it: cut", e - hi,
				 parent >= 0 ? d->phases[parent].title : "ready");
			e = hi;
		}
		if (s < lo) {
			if (parent >= 0)
				note_add(p, "starts %.3f s before %s, which contains it: cut",
					 lo - s, d->phases[parent].title);
			else if (d->starts > 1)
				note_add(p, "its stated duration reaches %.3f s before the "
					 "server's last start (at %.3f s, a restart): cut",
					 lo - s, lo);
			else
				note_add(p, "its stated duration reaches %.3f s before the "
					 "spawn: cut", lo - s);
			s = lo;
		}
		if (s < prev_end) {
			double ns = e < prev_end ? e : prev_end;
			note_add(p, "its first %.3f s overlap %s: counted there", ns - s, prev);
			s = ns;
		}
		if (e < s)
			e = s;
		p->clipped_s += (p->end_s - p->start_s) - (e - s);
		p->start_s = s;
		p->end_s = e;
		p->duration_s = e - s;
		if (e > prev_end) {
			prev_end = e;
			prev = p->title;
		}
	}
	for (size_t i = 0; i < n; i++)
		settle(d, idx[i], d->phases[idx[i]].start_s, d->phases[idx[i]].end_s);
}

static void order_of(struct cold_decomp *d, int parent)
{
	int idx[COLD_MAX_PHASES];
	size_t n = children(d, parent, 0, idx);
	for (size_t i = 0; i < n; i++) {
		d->order[d->norder++] = idx[i];
		order_of(d, idx[i]);
	}
}

double cold_info_number(const char *v, int whole)
{
	char buf[64];
	size_t o = 0;
	for (const char *p = v; *p && o + 1 < sizeof buf; p++)
		if (*p != ',')
			buf[o++] = *p;
	buf[o] = 0;
	char *e;
	double x = strtod(buf, &e);
	return e == buf || (whole && *e) ? NAN : x;
}

void cold_decompose(const struct cold_patterns *ps, const struct cold_line *lines,
		    size_t nlines, long long t_spawn, double ready_s, struct cold_decomp *d)
{
	memset(d, 0, sizeof *d);
	double until = isnan(ready_s) ? INFINITY : ready_s;
	d->total_s = ready_s;
	d->first_line_s = NAN;
	for (size_t k = 0; k < nlines; k++)
		if (lines[k].text[0]) {
			d->first_line_s = at(&lines[k], t_spawn);
			break;
		}
	size_t k0 = last_start(ps, lines, nlines, t_spawn, until, &d->starts);
	d->last_start_s = d->starts > 1 ? at(&lines[k0], t_spawn) : NAN;
	lines += k0;
	nlines -= k0;
	k0 = 0;
	/* phases: one per name; its rows are alternatives */
	size_t row_of[COLD_MAX_PHASES];
	for (size_t i = 0; i < ps->n; i++) {
		const struct cold_pattern *x = &ps->p[i];
		if (x->is_info || x->is_restart)
			continue;
		size_t j = 0;
		while (j < d->nphases && strcmp(d->phases[j].name, x->name))
			j++;
		if (j == d->nphases) {
			if (d->nphases == COLD_MAX_PHASES)
				continue;
			struct cold_phase *p = &d->phases[d->nphases++];
			snprintf(p->name, sizeof p->name, "%s", x->name);
			const struct cold_about *a = about_of(ps, x->name);
			snprintf(p->title, sizeof p->title, "%s", a ? a->title : x->name);
			snprintf(p->meaning, sizeof p->meaning, "%s", a ? a->meaning : "");
			p->category = x->category;
			p->parent = -1;
			p->start_s = p->end_s = p->duration_s = NAN;
			p->arrival_s = p->stated_s = NAN;
		}
		struct cold_phase *p = &d->phases[j];
		if (p->found)
			continue;
		struct raw r;
		match_row(x, lines, nlines, t_spawn, until, x->has_start, &r);
		if (!r.found && x->has_start) /* no opening line: by its end alone */
			match_row(x, lines, nlines, t_spawn, until, 0, &r);
		if (!r.found)
			continue;
		p->found = 1;
		p->copies = r.copies;
		p->category = x->category;
		p->start_s = r.start;
		p->end_s = r.end;
		p->arrival_s = r.arrival;
		p->stated_s = r.stated;
		snprintf(p->note, sizeof p->note, "%s", r.note);
		row_of[j] = i;
		d->found++;
	}
	/* each found phase's parent: the nearest enclosing phase that was
	 * logged (a row names its parent; an unlogged one passes it on) */
	for (size_t i = 0; i < d->nphases; i++) {
		struct cold_phase *p = &d->phases[i];
		if (!p->found)
			continue;
		const char *want = ps->p[row_of[i]].parent;
		for (int hops = 0; want[0] && hops < 8; hops++) {
			size_t j = 0;
			while (j < d->nphases && strcmp(d->phases[j].name, want))
				j++;
			if (j == d->nphases)
				break;
			if (d->phases[j].found) {
				p->parent = (int)j;
				break;
			}
			note_add(p, "%s, which contains it, was not logged", d->phases[j].title);
			want = "";
			for (size_t r = 0; r < ps->n; r++)
				if (!ps->p[r].is_info && !ps->p[r].is_restart &&
				    !strcmp(ps->p[r].name, d->phases[j].name)) {
					want = ps->p[r].parent;
					break;
				}
		}
	}
	for (size_t i = 0; i < d->nphases; i++) {
		int depth = 0;
		for (int q = d->phases[i].parent; q >= 0 && depth < 8; q = d->phases[q].parent)
			depth++;
		d->phases[i].depth = depth;
	}
	/* the top level lies inside the last start: what came before it (a
	 * start that died) is unaccounted, as the report says, however long
	 * a duration stated after the restart */
	double hi = isnan(ready_s) ? INFINITY : ready_s;
	settle(d, -1, d->starts > 1 ? d->last_start_s : 0, hi);
	order_of(d, -1);
	d->unaccounted_s = NAN;
	if (!isnan(ready_s)) {
		double sum = 0;
		for (size_t i = 0; i < d->nphases; i++)
			if (d->phases[i].found && d->phases[i].parent < 0)
				sum += d->phases[i].duration_s;
		d->unaccounted_s = ready_s - sum;
	}
	/* infos (the last start's): rows of one name are alternatives too;
	 * the first line's value, and how many processes logged one (ranks:
	 * each its own share); an infosum row adds its lines' values up (one
	 * a device buffer) */
	for (size_t i = 0; i < ps->n; i++) {
		const struct cold_pattern *x = &ps->p[i];
		if (!x->is_info || cold_info(d, x->name) || d->ninfo == COLD_MAX_INFOS)
			continue;
		char val[512], keys[16][96];
		int nk = 0, nl = 0, bad = 0, numeric = 1;
		double sum = 0;
		struct cold_info *in = NULL;
		for (size_t k = k0; k < nlines; k++) {
			if (!group1(&x->end, lines[k].text, val, sizeof val))
				continue;
			double num = cold_info_number(val, 1);
			if (!in) {
				in = &d->infos[d->ninfo++];
				snprintf(in->name, sizeof in->name, "%s", x->name);
				snprintf(in->value, sizeof in->value, "%s", val);
				in->differ = 0;
				in->min = in->max = num;
			} else if (!x->sum && strcmp(val, in->value) && !(num == in->min && num == in->max)) {
				in->differ = 1;
			}
			if (isnan(num))
				numeric = 0;
			if (!x->sum && !isnan(num) && !isnan(in->min)) {
				if (num < in->min) {
					in->min = num;
					/* the smallest: what every engine holds at least */
					snprintf(in->value, sizeof in->value, "%s", val);
				}
				if (num > in->max)
					in->max = num;
			}
			char key[96];
			rank_key(lines[k].text, key, sizeof key);
			int seen = 0;
			for (int q = 0; q < nk && !seen; q++)
				seen = !strcmp(keys[q], key);
			if (!seen && nk < 16)
				snprintf(keys[nk++], sizeof keys[0], "%s", key);
			if (x->sum) {
				char *e;
				double v = strtod(val, &e);
				if (e == val || !(v >= 0))
					bad = 1;
				sum += v;
				nl++;
			}
		}
		if (!in)
			continue;
		in->copies = nk;
		in->lines = nl;
		if (!numeric || x->sum || !in->differ)
			in->min = in->max = NAN;
		if (x->sum && nl > 1)
			snprintf(in->value, sizeof in->value, bad ? "" : "%.2f", sum);
	}
}

const char *cold_info(const struct cold_decomp *d, const char *name)
{
	for (size_t i = 0; i < d->ninfo; i++)
		if (!strcmp(d->infos[i].name, name))
			return d->infos[i].value;
	return NULL;
}

size_t cold_clean_line(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b && i + 1 < n && s[i + 1] == '[') {
			/* CSI: ESC [ parameters … final byte 0x40-0x7e */
			i += 2;
			while (i < n && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e))
				i++;
			i += i < n;
		} else if (c == 0x1b && i + 1 < n && s[i + 1] == ']') {
			/* OSC: ESC ] … BEL or ESC \ */
			i += 2;
			while (i < n && s[i] != 0x07 && !(s[i] == 0x1b && i + 1 < n && s[i + 1] == '\\'))
				i++;
			i += i < n ? (s[i] == 0x07 ? 1 : 2) : 0;
		} else if (c == 0x1b) {
			i += i + 1 < n ? 2 : 1;
		} else {
			s[o++] = s[i++];
		}
	}
	s[o] = 0;
	return o;
}

/* Markers only one server prints, anchored at the start of a line, where
 * its logger writes: a word inside a path ("-m /models/vllm-cache/…",
 * which llama-server echoes in "load_model: loading model '…'") or an
 * echoed command line never sits there. vLLM: its logger's own format,
 * "LEVEL MM-DD HH:MM:SS [file.py:N] " (V0: "file.py:N] ", no bracket; at
 * VLLM_LOGGING_LEVEL=DEBUG the file is a path inside the package on every
 * line, "[v1/engine/core.py:N]", "[model_executor/.../x.py:N]"), behind
 * the process prefix where there is one: "(APIServer pid=N) ",
 * "(VllmWorker rank=0 pid=N) ", "(VllmWorker TP0 pid=N) ", Ray's
 * "(RayWorkerWrapper pid=N, ip=A) ". VLLM_LOGGING_PREFIX puts any text
 * before the level (logger.py: f"{VLLM_LOGGING_PREFIX}%(levelname)s
 * %(asctime)s [%(fileinfo)s:%(lineno)d] %(message)s"), behind the
 * process prefix: then the whole stamp, level, date, time and
 * [file.py:N], is asked for, and it is tried last on each line, after
 * llama.cpp's markers, so that a llama.cpp line echoing such text in a
 * path stays llama.cpp's.
 * llama.cpp: --log-prefix's "0.00.007.557 I " stamp, or a function only
 * it logs from ("llama_model_loader:", "load_tensors:", "srv
 * load_model:", …), its "build: N (hash)" line, "main: server is
 * listening", each also behind the level letter alone ("I ", "W "),
 * which --log-prefix without --log-timestamps writes. */
static const char *const kind_markers[][2] = {
	{"vllm", "^(\\([A-Za-z0-9_]+( [A-Za-z_]+=?[0-9]+)* pid=[0-9]+(, ip=[^)]*)?\\) )?"
		 "(DEBUG|INFO|WARNING|ERROR|CRITICAL) "
		 "([0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} )?\\[?[A-Za-z0-9_./]+\\.py:[0-9]+\\] "},
	{"llamacpp", "^[0-9]+\\.[0-9]{2}\\.[0-9]{3}\\.[0-9]{3} [IWEDT] "},
	{"llamacpp", "^([IWED] )?([a-z]{3,4} +)?([a-z_]+: +)?(llama_model_loader|llama_model_load|"
		     "llama_context|llama_kv_cache[a-z_]*|load_tensors|print_info|"
		     "common_params_print_info|common_init_from_params|llama_server|load_model|"
		     "update_slots|launch_slot_with_task): "},
	{"llamacpp", "^([IWED] )?(build: [0-9]+ \\([0-9a-f]+\\) with |main: (HTTP )?server is listening)"},
	/* VLLM_LOGGING_PREFIX: anything before the whole stamp */
	{"vllm", "(DEBUG|INFO|WARNING|ERROR|CRITICAL) "
		 "[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} \\[?[A-Za-z0-9_./]+\\.py:[0-9]+\\] "},
};

const char *cold_detect_kind(const struct cold_line *lines, size_t n)
{
	enum { NM = sizeof kind_markers / sizeof *kind_markers };
	regex_t re[NM];
	size_t ok = 0;
	while (ok < NM && regcomp(&re[ok], kind_markers[ok][1], REG_EXTENDED | REG_NOSUB) == 0)
		ok++;
	const char *kind = NULL;
	for (size_t i = 0; ok == NM && !kind && i < n && i < 2000; i++)
		for (size_t m = 0; m < NM && !kind; m++)
			if (regexec(&re[m], lines[i].text, 0, NULL, 0) == 0)
				kind = kind_markers[m][0];
	for (size_t m = 0; m < ok; m++)
		regfree(&re[m]);
	return kind;
}
