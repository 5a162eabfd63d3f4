/* test_cold.c — ttft-cold. The decomposition on vLLM start-up logs in the
 * forms real versions print (V0 0.5/0.6, V1 0.8/0.10/0.11, tensor parallel
 * 4 with a copy of each line per rank, colour codes, progress bars, foreign
 * lines, odd values): every phase against the times the fixture itself
 * gives, nested as vLLM nests them, and the top-level phases plus the
 * unaccounted time equal to spawn → ready, exactly. Then replays through
 * ttft-cold, the llama.cpp patterns on real captured logs, cold against
 * warm like for like, the report's contents, everything refused before a
 * server starts, Ctrl-C, and every way a server can fail. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "fixture_client.h"
#include "cold.h"
#include "cold_md.h"
#include "cold_phases.h"
#include "ttft_clock.h"
#include "ttft_summary.h"

/* The report's companions (ttft-cold writes its charts and the HTML page
 * beside it): each there and what it claims to be, then removed. */
static void siblings(const char *md)
{
	static const char *const ext[][2] = {{"-cold-start.svg", "<svg"},
					     {"-warm-variance.svg", "<svg"},
					     {".html", "<!DOCTYPE html>"}};
	for (size_t i = 0; i < 3; i++) {
		/* named as ttft-cold names them: the report's path, less ".md" */
		size_t n = strlen(md);
		int dot_md = n > 3 && !strcmp(md + n - 3, ".md");
		char p[512];
		snprintf(p, sizeof p, "%.*s%s", (int)(n - (dot_md ? 3 : 0)), md, ext[i][0]);
		char *t = tu_read_file(p, NULL);
		ck_assert_msg(strstr(t, ext[i][1]) != NULL, "%s is not what it should be", p);
		free(t);
		unlink(p);
	}
}

/* The report's sibling files removed, made or not (a cycle with a failed
 * request has no timeline: siblings() would refuse it). */
static void drop_siblings(const char *rep)
{
	static const char *const ext[] = {"-cold-start.svg", "-warm-variance.svg", ".html"};
	for (size_t i = 0; i < 3; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s%s", rep, ext[i]);
		unlink(p);
	}
}

#define NEAR(x, want, tol) ck_assert_msg(fabs((x) - (want)) < (tol), "%s = %.6f, want %.6f", #x, (double)(x), (double)(want))

/* ---- fixtures read as ttft-cold's reader would see them ---- */

struct fx {
	char *raw[4096];          /* fixture lines, decoded (ESC, CR) */
	double off[4096];
	size_t nraw;
	struct cold_line lines[8192];
	size_t n;
	double last;
	char *buf;
};

/* "\033" → ESC, "\r" → CR, as the replayer's printf %b does. */
static void decode(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (!strncmp(p, "\\033", 4)) {
			*o++ = 0x1b;
			p += 4;
		} else if (!strncmp(p, "\\r", 2)) {
			*o++ = '\r';
			p += 2;
		} else {
			*o++ = *p++;
		}
	}
	*o = 0;
}

static void fx_load(struct fx *f, const char *path)
{
	memset(f, 0, sizeof *f);
	f->buf = tu_read_file(path, NULL);
	for (char *l = strtok(f->buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (l[0] == '#')
			continue;
		char *tab = strchr(l, '\t');
		ck_assert_msg(tab != NULL, "%s: no tab in '%s'", path, l);
		*tab = 0;
		double t = atof(l);
		char *text = tab + 1;
		decode(text);
		f->raw[f->nraw] = text;
		f->off[f->nraw++] = t;
		/* every \r ends a line too (a progress bar redrawn in place) */
		for (char *seg = text; seg;) {
			char *cr = strchr(seg, '\r');
			if (cr)
				*cr = 0;
			size_t len = cold_clean_line(seg, strlen(seg));
			if (len)
				f->lines[f->n++] = (struct cold_line){(long long)llround(t * 1e9), 1, seg};
			seg = cr ? cr + 1 : NULL;
		}
		f->last = t;
	}
}

/* The fixture's own time of the first or last line containing needle. */
static double at(const struct fx *f, const char *needle, int last)
{
	double t = NAN;
	for (size_t i = 0; i < f->n; i++)
		if (strstr(f->lines[i].text, needle)) {
			t = (double)f->lines[i].t_ns / 1e9;
			if (!last)
				break;
		}
	ck_assert_msg(!isnan(t), "no line with '%s'", needle);
	return t;
}

static const struct cold_phase *ph(const struct cold_decomp *d, const char *name)
{
	for (size_t i = 0; i < d->nphases; i++)
		if (!strcmp(d->phases[i].name, name))
			return &d->phases[i];
	ck_abort_msg("no phase %s", name);
	return NULL;
}

static const char *parent_of(const struct cold_decomp *d, const struct cold_phase *p)
{
	return p->parent >= 0 ? d->phases[p->parent].name : "-";
}

/* What holds for any decomposition: the top-level phases plus the
 * unaccounted time are spawn → ready; phases lie inside their parent and
 * siblings do not overlap. */
static void invariants(const struct cold_decomp *d)
{
	double sum = 0;
	for (size_t i = 0; i < d->nphases; i++) {
		const struct cold_phase *p = &d->phases[i];
		if (!p->found)
			continue;
		ck_assert_msg(p->duration_s >= 0, "%s: %.6f", p->name, p->duration_s);
		NEAR(p->end_s - p->start_s, p->duration_s, 1e-12);
		if (p->parent < 0) {
			sum += p->duration_s;
			ck_assert(p->start_s >= 0 && p->end_s <= d->total_s);
		} else {
			const struct cold_phase *q = &d->phases[p->parent];
			ck_assert_msg(p->start_s >= q->start_s - 1e-12 && p->end_s <= q->end_s + 1e-12,
				      "%s [%.3f, %.3f] outside %s [%.3f, %.3f]", p->name, p->start_s,
				      p->end_s, q->name, q->start_s, q->end_s);
		}
		for (size_t j = 0; j < d->nphases; j++) {
			const struct cold_phase *o = &d->phases[j];
			if (j == i || !o->found || o->parent != p->parent)
				continue;
			ck_assert_msg(p->end_s <= o->start_s + 1e-12 || o->end_s <= p->start_s + 1e-12,
				      "%s and %s overlap", p->name, o->name);
		}
	}
	ck_assert(d->unaccounted_s >= -1e-12);
	NEAR(sum + d->unaccounted_s, d->total_s, 1e-9);
}

static void decompose_fixture(const char *file, struct fx *f, struct cold_decomp *d)
{
	struct cold_patterns ps;
	char err[512], path[256];
	ck_assert_msg(cold_patterns_load(&ps, "tools/patterns/vllm.tsv", err, sizeof err) == 0, "%s", err);
	snprintf(path, sizeof path, "tests/fixtures/vllm/%s", file);
	fx_load(f, path);
	cold_decompose(&ps, f->lines, f->n, 0, f->last + 0.05, d);
	cold_patterns_free(&ps);
	invariants(d);
}

/* ---- V0 ---- */

START_TEST(vllm_v0_5_5)
{
	static struct fx f;
	static struct cold_decomp d;
	decompose_fixture("v0.5.5-tp1.log", &f, &d);
	double load0 = at(&f, "Starting to load model", 0), wts = at(&f, "Loading model weights took", 0);
	double blocks = at(&f, "# GPU blocks", 0), cap0 = at(&f, "Capturing the model", 0);
	double cap1 = at(&f, "Graph capturing finished", 0);
	/* V0 states the weights' memory ("took 2.9348 GB"): their time is by arrival */
	const struct cold_phase *w = ph(&d, "weight_load"), *m = ph(&d, "model_load");
	ck_assert(w->found && m->found);
	NEAR(w->duration_s, wts - load0, 1e-9);
	NEAR(w->arrival_s, wts - load0, 1e-9);
	ck_assert(isnan(w->stated_s));
	ck_assert_str_eq(parent_of(&d, w), "model_load");
	ck_assert_str_eq(parent_of(&d, m), "-");
	/* no "init engine … took" in 0.5.5: from the weights to the capture */
	const struct cold_phase *e = ph(&d, "engine_init");
	NEAR(e->start_s, wts, 1e-9);
	NEAR(e->end_s, cap1, 1e-9);
	NEAR(ph(&d, "mem_profile")->duration_s, blocks - wts, 1e-9);
	NEAR(ph(&d, "kv_alloc")->duration_s, cap0 - blocks, 1e-9);
	const struct cold_phase *g = ph(&d, "graph_capture");
	NEAR(g->duration_s, cap1 - cap0, 1e-9);
	NEAR(g->stated_s, 6, 1e-9);
	ck_assert_str_eq(parent_of(&d, g), "engine_init");
	ck_assert(!ph(&d, "torch_compile")->found);
	NEAR(ph(&d, "api_server")->end_s, at(&f, "Application startup complete", 0), 1e-9);
	/* KV capacity in blocks; block size and length from the args */
	ck_assert_str_eq(cold_info(&d, "gpu_blocks"), "27689");
	ck_assert_str_eq(cold_info(&d, "block_size"), "16");
	ck_assert_str_eq(cold_info(&d, "max_model_len"), "4096");
	ck_assert_str_eq(cold_info(&d, "model_memory_gib"), "2.9348");
	ck_assert_ptr_null(cold_info(&d, "kv_cache_tokens"));
	NEAR(d.first_line_s, f.off[0], 1e-9);
	free(f.buf);
}
END_TEST

START_TEST(vllm_v0_6_4)
{
	static struct fx f;
	static struct cold_decomp d;
	decompose_fixture("v0.6.4-tp1.log", &f, &d);
	double wts = at(&f, "Loading model weights took", 0), init = at(&f, "init engine", 0);
	const struct cold_phase *e = ph(&d, "engine_init");
	/* stated: 11.20 s ending at the line */
	NEAR(e->stated_s, 11.20, 1e-9);
	NEAR(e->end_s, init, 1e-9);
	NEAR(e->start_s, init - 11.20, 1e-6);
	NEAR(ph(&d, "weight_load")->duration_s, wts - at(&f, "Starting to load model", 0), 1e-9);
	const char *in_init[] = {"mem_profile", "kv_alloc", "graph_capture"};
	for (int i = 0; i < 3; i++)
		ck_assert_str_eq(parent_of(&d, ph(&d, in_init[i])), "engine_init");
	NEAR(ph(&d, "graph_capture")->duration_s, at(&f, "Graph capturing finished", 0) -
	     at(&f, "Capturing cudagraphs", 0), 1e-9);
	NEAR(ph(&d, "api_server")->start_s, init, 1e-9);
	ck_assert_str_eq(cold_info(&d, "max_concurrency"), "615.00");
	ck_assert_str_eq(cold_info(&d, "gpu_blocks"), "157439");
	ck_assert_str_eq(cold_info(&d, "gpu_memory_utilization"), "0.92");
	free(f.buf);
}
END_TEST

/* ---- V1 ---- */

START_TEST(vllm_v1_0_8_5)
{
	static struct fx f;
	static struct cold_decomp d;
	decompose_fixture("v0.8.5-tp1.log", &f, &d);
	const struct cold_phase *m = ph(&d, "model_load"), *w = ph(&d, "weight_load");
	NEAR(m->start_s, at(&f, "Starting to load model", 0), 1e-9);
	NEAR(m->end_s, at(&f, "Model loading took", 0), 1e-9);
	NEAR(m->stated_s, 2.737391, 1e-9);
	/* the weights: stated, ending at their line, inside the model load */
	NEAR(w->stated_s, 1.25, 1e-9);
	NEAR(w->end_s, at(&f, "Loading weights took", 0), 1e-9);
	NEAR(w->duration_s, 1.25, 1e-9);
	ck_assert_str_eq(parent_of(&d, w), "model_load");
	const struct cold_phase *e = ph(&d, "engine_init"), *t = ph(&d, "torch_compile");
	NEAR(e->duration_s, 22.43, 1e-6);
	NEAR(t->duration_s, 14.92, 1e-6);
	NEAR(t->end_s, at(&f, "torch.compile takes", 0), 1e-9);
	ck_assert_str_eq(parent_of(&d, t), "engine_init");
	ck_assert_str_eq(parent_of(&d, ph(&d, "graph_capture")), "engine_init");
	/* nested phases are not added again: the sum is the top level's */
	double top = 0, all = 0;
	for (size_t i = 0; i < d.nphases; i++)
		if (d.phases[i].found) {
			all += d.phases[i].duration_s;
			top += d.phases[i].parent < 0 ? d.phases[i].duration_s : 0;
		}
	ck_assert_msg(all > d.total_s, "nested phases summed flat (%.2f s) would exceed "
		      "spawn → ready (%.2f s): the point of nesting", all, d.total_s);
	ck_assert(top <= d.total_s);
	ck_assert_str_eq(cold_info(&d, "kv_cache_tokens"), "3,519,424");
	free(f.buf);
}
END_TEST

START_TEST(vllm_v1_tp4_copies_colours_progress)
{
	static struct fx f;
	static struct cold_decomp d;
	decompose_fixture("v0.10.1-tp4.log", &f, &d);
	/* colour codes gone from every line */
	for (size_t i = 0; i < f.n; i++)
		ck_assert_msg(!strchr(f.lines[i].text, 0x1b), "%s", f.lines[i].text);
	/* each rank's copy counted once; the phase ends with the last copy */
	const char *per_rank[][2] = {{"weight_load", "Loading weights took"},
				     {"model_load", "Model loading took"},
				     {"torch_compile", "torch.compile takes"},
				     {"graph_capture", "Graph capturing finished"}};
	for (int i = 0; i < 4; i++) {
		const struct cold_phase *p = ph(&d, per_rank[i][0]);
		ck_assert_msg(p->copies == 4, "%s: %d copies", p->name, p->copies);
		NEAR(p->end_s, at(&f, per_rank[i][1], 1), 1e-9);
	}
	ck_assert_int_eq(ph(&d, "engine_init")->copies, 1);
	/* the slowest rank's stated weights time, ending at its copy */
	const struct cold_phase *w = ph(&d, "weight_load");
	NEAR(w->stated_s, 18.02, 1e-9);
	NEAR(w->start_s, at(&f, "Loading weights took", 1) - 18.02, 1e-9);
	/* the graph capture opens at its progress bar's first redraw */
	NEAR(ph(&d, "graph_capture")->start_s, at(&f, "Capturing CUDA graph shapes", 0), 1e-9);
	/* model load starts where the engine start-up's last copy ended */
	NEAR(ph(&d, "model_load")->start_s, ph(&d, "engine_start")->end_s, 1e-12);
	NEAR(ph(&d, "engine_start")->end_s, at(&f, "Starting to load model", 1), 1e-9);
	ck_assert_str_eq(cold_info(&d, "kv_cache_tokens"), "771,952");
	ck_assert_str_eq(cold_info(&d, "tensor_parallel_size"), "4");
	/* one start; the weights' memory logged by each of the 4 ranks (its
	 * share), the KV cache's tokens once by the engine */
	ck_assert_int_eq(d.starts, 1);
	ck_assert(isnan(d.last_start_s));
	for (size_t i = 0; i < d.ninfo; i++)
		if (!strcmp(d.infos[i].name, "model_memory_gib"))
			ck_assert_int_eq(d.infos[i].copies, 4);
		else if (!strcmp(d.infos[i].name, "kv_cache_tokens"))
			ck_assert_int_eq(d.infos[i].copies, 1);
	ck_assert_ptr_nonnull(strstr(cold_info(&d, "logged_args"), "'max_model_len': 8192"));
	free(f.buf);
}
END_TEST

START_TEST(vllm_v1_0_11_odd_values)
{
	static struct fx f;
	static struct cold_decomp d;
	decompose_fixture("v0.11.0-tp1.log", &f, &d);
	/* "took -0.41 GiB" is reported as logged, never as a duration */
	ck_assert_str_eq(cold_info(&d, "graph_memory_gib"), "-0.41");
	const struct cold_phase *g = ph(&d, "graph_capture");
	NEAR(g->stated_s, 4, 1e-9);
	NEAR(g->duration_s, at(&f, "Graph capturing finished", 0) -
	     at(&f, "Capturing CUDA graphs (mixed", 0), 1e-9);
	NEAR(ph(&d, "engine_init")->stated_s, 16.45, 1e-9);
	NEAR(ph(&d, "kv_alloc")->start_s, at(&f, "GPU KV cache size", 0), 1e-9);
	/* no progress redraw became a phase line on its own: the bars are lines */
	int bars = 0;
	for (size_t i = 0; i < f.n; i++)
		bars += strstr(f.lines[i].text, "Capturing CUDA graphs") != NULL;
	ck_assert_int_ge(bars, 4);
	free(f.buf);
}
END_TEST

/* Lines as a server printed them, at the times given (s since spawn). */
static size_t lines_of(struct cold_line *l, size_t max, const double *t, char (*text)[200], size_t n)
{
	ck_assert(n <= max);
	for (size_t i = 0; i < n; i++)
		l[i] = (struct cold_line){(long long)llround(t[i] * 1e9), 1, text[i]};
	return n;
}

/* A crash and a restart inside one spawn (a review's finding: model load
 * ran from the dead start's opening line to the live one's end, 2.05 s
 * where the line states 0.45, named the largest phase): the phases are
 * the last start's, the count and where it began said. */
START_TEST(restart_inside_a_spawn)
{
	static char text[][200] = {
		"INFO 08-21 07:13:29 [api_server.py:1043] vLLM API server version 0.8.5",
		"INFO 08-21 07:13:29 [core.py:58] Initializing a V1 LLM engine (v0.8.5) with config: x",
		"INFO 08-21 07:13:29 [gpu_model_runner.py:1329] Starting to load model Q...",
		"ERROR 08-21 07:13:30 [core.py:400] EngineCore failed to start. CUDA out of memory.",
		"INFO 08-21 07:13:31 [api_server.py:1043] vLLM API server version 0.8.5",
		"INFO 08-21 07:13:31 [core.py:58] Initializing a V1 LLM engine (v0.8.5) with config: x",
		"INFO 08-21 07:13:31 [gpu_model_runner.py:1329] Starting to load model Q...",
		"INFO 08-21 07:13:32 [loader.py:458] Loading weights took 0.40 seconds",
		"INFO 08-21 07:13:32 [gpu_model_runner.py:1347] Model loading took 2.8871 GiB and 0.45 seconds",
		"INFO 08-21 07:13:33 [core.py:159] init engine (profile, create kv cache, warmup model) took 0.81 seconds",
		"INFO:     Application startup complete."};
	static const double t[] = {0.05, 0.10, 0.20, 0.60, 1.60, 1.70, 1.80, 2.20, 2.25, 3.06, 3.10};
	struct cold_line l[16];
	size_t n = lines_of(l, 16, t, text, 11);
	struct cold_patterns ps;
	char err[512];
	ck_assert_msg(cold_patterns_load(&ps, "tools/patterns/vllm.tsv", err, sizeof err) == 0, "%s", err);
	static struct cold_decomp d;
	cold_decompose(&ps, l, n, 0, 3.12, &d);
	invariants(&d);
	ck_assert_int_eq(d.starts, 2);
	NEAR(d.last_start_s, 1.60, 1e-9);
	NEAR(ph(&d, "engine_start")->start_s, 1.70, 1e-9);
	NEAR(ph(&d, "model_load")->start_s, 1.80, 1e-9);
	NEAR(ph(&d, "model_load")->duration_s, 0.45, 1e-9);
	ck_assert(d.unaccounted_s >= 1.60);
	/* the same lines without the dead start: one start, the same phases */
	static struct cold_decomp e;
	cold_decompose(&ps, l + 4, n - 4, 0, 3.12, &e);
	ck_assert_int_eq(e.starts, 1);
	NEAR(ph(&e, "model_load")->duration_s, 0.45, 1e-9);
	/* the dead start's lines alone: a start line is no restart by itself */
	static struct cold_decomp f;
	cold_decompose(&ps, l, 4, 0, 0.7, &f);
	ck_assert_int_eq(f.starts, 1);
	cold_patterns_free(&ps);
}
END_TEST

/* A stated duration longer than the time since the last start (a review's
 * finding: "Loading weights took 12.30 seconds" 0.70 s after the restart
 * reached back to the spawn, took the dead start's time into the weights
 * load, left less unaccounted than the report says came before the
 * restart, and its note said "before the spawn"): cut at the last start. */
START_TEST(restart_stated_duration_stays_after_it)
{
	static char text[][200] = {
		"INFO 08-21 07:13:29 [api_server.py:1043] vLLM API server version 0.8.5",
		"INFO 08-21 07:13:29 [core.py:58] Initializing a V1 LLM engine (v0.8.5) with config: x",
		"ERROR 08-21 07:13:30 [core.py:400] EngineCore failed to start.",
		"INFO 08-21 07:13:31 [api_server.py:1043] vLLM API server version 0.8.5",
		"INFO 08-21 07:13:31 [core.py:58] Initializing a V1 LLM engine (v0.8.5) with config: x",
		"INFO 08-21 07:13:32 [loader.py:458] Loading weights took 12.30 seconds",
		"INFO:     Application startup complete."};
	static const double t[] = {0.05, 0.10, 0.60, 1.60, 1.70, 2.30, 2.40};
	struct cold_line l[8];
	size_t n = lines_of(l, 8, t, text, 7);
	struct cold_patterns ps;
	char err[512];
	ck_assert_msg(cold_patterns_load(&ps, "tools/patterns/vllm.tsv", err, sizeof err) == 0, "%s", err);
	static struct cold_decomp d;
	cold_decompose(&ps, l, n, 0, 2.45, &d);
	invariants(&d);
	ck_assert_int_eq(d.starts, 2);
	NEAR(d.last_start_s, 1.60, 1e-9);
	const struct cold_phase *w = ph(&d, "weight_load");
	ck_assert(w->found && w->parent < 0);
	NEAR(w->stated_s, 12.30, 1e-9);
	NEAR(w->start_s, 1.60, 1e-9);
	NEAR(w->duration_s, 0.70, 1e-9);
	ck_assert_msg(strstr(w->note, "reaches 11.600 s before the server's last start (at "
				      "1.600 s, a restart): cut") && !strstr(w->note, "spawn"),
		      "%s", w->note);
	/* what the report says: the time before the restart is unaccounted */
	ck_assert(d.unaccounted_s >= d.last_start_s - 1e-9);
	cold_patterns_free(&ps);
}
END_TEST

/* vLLM data parallelism: each engine core prints its own lines under its
 * own name (EngineCore_DP0, _DP1). A review found the slower engine's load
 * and initialisation inside "API server start-up": each phase ends at the
 * last engine's copy; the memory infos say how many logged them. */
START_TEST(data_parallel_engines_are_copies)
{
	static char text[][200] = {
		"(APIServer pid=10) INFO 10-01 10:00:00 [api_server.py:1839] vLLM API server version 0.11.0",
		"(EngineCore_DP0 pid=20) INFO 10-01 10:00:00 [core.py:77] Initializing a V1 LLM engine (v0.11.0) with config: x",
		"(EngineCore_DP1 pid=21) INFO 10-01 10:00:00 [core.py:77] Initializing a V1 LLM engine (v0.11.0) with config: x",
		"(EngineCore_DP0 pid=20) INFO 10-01 10:00:00 [gpu_model_runner.py:2602] Starting to load model Q...",
		"(EngineCore_DP1 pid=21) INFO 10-01 10:00:00 [gpu_model_runner.py:2602] Starting to load model Q...",
		"(EngineCore_DP0 pid=20) INFO 10-01 10:00:01 [default_loader.py:267] Loading weights took 0.28 seconds",
		"(EngineCore_DP0 pid=20) INFO 10-01 10:00:01 [gpu_model_runner.py:2653] Model loading took 2.8871 GiB and 0.34 seconds",
		"(EngineCore_DP0 pid=20) INFO 10-01 10:00:01 [core.py:210] init engine (profile, create kv cache, warmup model) took 0.25 seconds",
		"(EngineCore_DP1 pid=21) INFO 10-01 10:00:01 [default_loader.py:267] Loading weights took 1.15 seconds",
		"(EngineCore_DP1 pid=21) INFO 10-01 10:00:01 [gpu_model_runner.py:2653] Model loading took 2.8871 GiB and 1.24 seconds",
		"(EngineCore_DP1 pid=21) INFO 10-01 10:00:02 [core.py:210] init engine (profile, create kv cache, warmup model) took 0.95 seconds",
		"(APIServer pid=10) INFO:     Application startup complete."};
	static const double t[] = {0.05, 0.10, 0.11, 0.20, 0.21, 0.50, 0.55, 0.80, 1.40, 1.45, 2.40, 2.50};
	struct cold_line l[16];
	size_t n = lines_of(l, 16, t, text, 12);
	struct cold_patterns ps;
	char err[512];
	ck_assert_msg(cold_patterns_load(&ps, "tools/patterns/vllm.tsv", err, sizeof err) == 0, "%s", err);
	static struct cold_decomp d;
	cold_decompose(&ps, l, n, 0, 2.53, &d);
	invariants(&d);
	ck_assert_int_eq(d.starts, 1);
	ck_assert_int_eq(ph(&d, "model_load")->copies, 2);
	NEAR(ph(&d, "model_load")->end_s, 1.45, 1e-9);
	NEAR(ph(&d, "weight_load")->stated_s, 1.15, 1e-9);
	NEAR(ph(&d, "engine_init")->end_s, 2.40, 1e-9);
	ck_assert(ph(&d, "api_server")->duration_s <= 0.10 + 1e-9);
	for (size_t i = 0; i < d.ninfo; i++)
		if (!strcmp(d.infos[i].name, "model_memory_gib"))
			ck_assert_int_eq(d.infos[i].copies, 2);
	/* a lines' arrival far beyond what the line states is said */
	static char odd[][200] = {"Starting to load model Q...",
				  "Model loading took 2.8871 GiB and 0.45 seconds"};
	static const double to[] = {0.2, 2.25};
	n = lines_of(l, 16, to, odd, 2);
	cold_decompose(&ps, l, n, 0, 2.3, &d);
	ck_assert_msg(strstr(ph(&d, "model_load")->note, "arrived 2.050 s apart where the line "
			     "states 0.450 s"), "%s", ph(&d, "model_load")->note);
	cold_patterns_free(&ps);
}
END_TEST

/* A server whose output is held back and written in a burst (a review:
 * "Starting to load model" arrived 0.10 s before "Model loading took ...
 * and 4.06 seconds"): the decomposition counts the 0.10 s of arrival
 * without a word, and the knobs said "the weights took 2.89 GiB here and
 * 0.05 s to load" where the server's own line says 4.00 s. The phase
 * says its lines came far closer than its line states; the knobs give
 * both. */
START_TEST(lines_closer_than_stated_are_said)
{
	static char text[][200] = {
		"INFO 10-01 10:00:00 [gpu_model_runner.py:1329] Starting to load model Q...",
		"INFO 10-01 10:00:00 [loader.py:458] Loading weights took 4.00 seconds",
		"INFO 10-01 10:00:00 [gpu_model_runner.py:1347] Model loading took 2.8871 GiB and 4.06 seconds",
		"INFO:     Application startup complete."};
	static const double t[] = {0.20, 0.25, 0.30, 0.40};
	struct cold_line l[8];
	size_t n = lines_of(l, 8, t, text, 4);
	struct cold_patterns ps;
	char err[512];
	ck_assert_msg(cold_patterns_load(&ps, "tools/patterns/vllm.tsv", err, sizeof err) == 0, "%s", err);
	static struct cold_cycle cyc;
	memset(&cyc, 0, sizeof cyc);
	cold_decompose(&ps, l, n, 0, 0.45, &cyc.dec);
	invariants(&cyc.dec);
	const struct cold_phase *m = ph(&cyc.dec, "model_load");
	NEAR(m->duration_s, 0.10, 1e-9);
	NEAR(m->stated_s, 4.06, 1e-9);
	ck_assert_msg(strstr(m->note, "arrived 0.100 s apart where the line states 4.060 s: the "
			     "opening line came late"), "model_load note '%s'", m->note);
	struct cold_run run = {.kind = "vllm", .server_cmd = "vllm serve Q", .cycles = &cyc,
			       .ncycles = 1};
	struct ttft_str b = {0};
	cold_md_knobs(&b, &run);
	ck_assert_ptr_nonnull(b.s);
	ck_assert_msg(strstr(b.s, "the weights took 2.89 GiB here and 0.05 s to load by its "
			     "lines' arrival, where the server's own line states 4.00 s"), "%s", b.s);
	free(b.s);
	cold_patterns_free(&ps);
}
END_TEST

/* Engines (or ranks) that log other sizes: the knobs said the first
 * line's as every engine's ("holds 2048 tokens in each of the 2
 * engines"), though DP1 holds 1024 (seen failing). The info keeps the
 * smallest, the range is said, and the full-length fit is the smallest
 * engine's. */
START_TEST(engines_of_other_sizes_are_a_range)
{
	static char text[][200] = {
		"(APIServer pid=10) INFO 10-01 10:00:00 [api_server.py:1839] vLLM API server version 0.11.0",
		"(EngineCore_DP0 pid=20) INFO 10-01 10:00:01 [kv_cache_utils.py:1087] GPU KV cache size: 2,048 tokens",
		"(EngineCore_DP0 pid=20) INFO 10-01 10:00:01 [gpu_worker.py:298] Available KV cache memory: 2.50 GiB",
		"(EngineCore_DP1 pid=21) INFO 10-01 10:00:01 [kv_cache_utils.py:1087] GPU KV cache size: 1,024 tokens",
		"(EngineCore_DP1 pid=21) INFO 10-01 10:00:01 [gpu_worker.py:298] Available KV cache memory: 1.25 GiB",
		"(APIServer pid=10) INFO:     Application startup complete."};
	static const double t[] = {0.05, 0.50, 0.51, 0.60, 0.61, 1.0};
	struct cold_line l[8];
	size_t n = lines_of(l, 8, t, text, 6);
	struct cold_patterns ps;
	char err[512];
	ck_assert_msg(cold_patterns_load(&ps, "tools/patterns/vllm.tsv", err, sizeof err) == 0, "%s", err);
	static struct cold_cycle cyc;
	memset(&cyc, 0, sizeof cyc);
	cold_decompose(&ps, l, n, 0, 1.1, &cyc.dec);
	const struct cold_info *ti = NULL;
	for (size_t i = 0; i < cyc.dec.ninfo; i++)
		if (!strcmp(cyc.dec.infos[i].name, "kv_cache_tokens"))
			ti = &cyc.dec.infos[i];
	ck_assert_ptr_nonnull(ti);
	ck_assert_str_eq(ti->value, "1,024");
	ck_assert(ti->differ);
	ck_assert_int_eq(ti->copies, 2);
	NEAR(ti->min, 1024, 1e-9);
	NEAR(ti->max, 2048, 1e-9);
	struct cold_run run = {.kind = "vllm", .server_cmd = "vllm serve Q --max-model-len 512",
			       .cycles = &cyc, .ncycles = 1};
	struct ttft_str b = {0};
	cold_md_knobs(&b, &run);
	ck_assert_ptr_nonnull(b.s);
	ck_assert_msg(strstr(b.s, "the KV cache holds 1024 to 2048 tokens in the 2 engines that "
			     "logged it (they differ: the smallest below) (1.25 to 2.50 GiB: every "
			     "rank logged its own), so at most 2.00 requests of full length fit at "
			     "once in the smallest engine"), "%s", b.s);
	free(b.s);
	cold_patterns_free(&ps);
}
END_TEST

/* A stated duration that cannot be one, a child outside its parent, two
 * phases that overlap: clipped, noted, and the sum still exact. */
START_TEST(odd_lines_keep_the_sum)
{
	char pat[256];
	tu_tmp_log(pat, sizeof pat, "odd-tsv");
	FILE *fp = fopen(pat, "w");
	fputs("phase\ta\t-\tweights\tA start\tA end\t-\ts\n"
	      "phase\tb\t-\twarmup\t-\tB end\tB took (-?[0-9.]+) s\ts\n"
	      "phase\tc\ta\talloc\t-\tC end\tC took ([0-9.]+) s\ts\n"
	      "phase\td\t-\tstartup\t-\tD end\tD took (-?[0-9.]+) s\ts\n"
	      "about\ta\tPhase A\twhat A does\n", fp);
	fclose(fp);
	struct cold_patterns ps;
	char err[256];
	ck_assert_msg(cold_patterns_load(&ps, pat, err, sizeof err) == 0, "%s", err);
	unlink(pat);
	static char t[][64] = {"x", "A start", "A end", "C end C took 5.0 s",
			       "B end B took 2.5 s", "D end D took -0.41 s"};
	struct cold_line l[] = {{(long long)0.1e9, 1, t[0]}, {(long long)1e9, 1, t[1]},
				{(long long)3e9, 1, t[2]}, {(long long)3.5e9, 1, t[3]},
				{(long long)4e9, 1, t[4]}, {(long long)5e9, 1, t[5]}};
	struct cold_decomp d;
	cold_decompose(&ps, l, 6, 0, 6.0, &d);
	invariants(&d);
	/* a: [1, 3] by arrival; b states 2.5 s ending at 4: it overlaps a, and
	 * what overlaps counts in a */
	NEAR(ph(&d, "a")->duration_s, 2.0, 1e-12);
	ck_assert_str_eq(ph(&d, "a")->title, "Phase A");
	NEAR(ph(&d, "b")->start_s, 3.0, 1e-12);
	NEAR(ph(&d, "b")->clipped_s, 1.5, 1e-12);
	ck_assert_msg(strstr(ph(&d, "b")->note, "overlap Phase A"), "%s", ph(&d, "b")->note);
	/* c ends after its parent a: cut to it */
	ck_assert(strstr(ph(&d, "c")->note, "after Phase A"));
	ck_assert(ph(&d, "c")->end_s <= ph(&d, "a")->end_s);
	/* d states a negative duration: a marker, said so */
	ck_assert(isnan(ph(&d, "d")->stated_s));
	NEAR(ph(&d, "d")->duration_s, 0, 1e-12);
	ck_assert_msg(strstr(ph(&d, "d")->note, "'-0.41', which cannot be a duration"), "%s",
		      ph(&d, "d")->note);
	NEAR(d.unaccounted_s, 6.0 - 2.0 - 1.0, 1e-12);
	cold_patterns_free(&ps);
}
END_TEST

/* Which server printed a log: its logger's format or a line only it
 * prints, never a word inside a path or an echoed command line. */
START_TEST(kind_of_a_log_line)
{
	static char text[][200] = {
		"+ exec llama-server -m /models/vllm-cache/q.gguf -np 1 --api-key k",
		"srv    load_model: loading model '/models/vllm-cache/q.gguf'",
		"0.00.007.557 I srv    load_model: loading model '/models/vLLM/q.gguf'",
		"build: 6000 (80fb11a) with cc (GCC) 12.2.0 for x86_64-linux-gnu",
		"llama_model_loader: loaded meta data with 19 key-value pairs from /m/vllm/q.gguf",
		"main: server is listening on http://127.0.0.1:8080 - starting the main loop",
		"+ exec vllm serve /srv/llama.cpp/llama_model_loader/q --port 8000",
		"INFO 09-02 14:21:07 api_server.py:440] args: Namespace(model='/srv/llama.cpp/q')",
		"(APIServer pid=1) INFO 10-08 14:02:10 [utils.py:233] non-default args: "
		"{'model': '/srv/llama_context/q'}",
		"(EngineCore_DP1 pid=21) WARNING 10-08 14:02:24 [topk_topp_sampler.py:66] x",
		"Loading safetensors checkpoint shards: 100% Completed | 1/1 [vllm]",
	};
	static const char *const want[] = {NULL, "llamacpp", "llamacpp", "llamacpp", "llamacpp",
					   "llamacpp", NULL, "vllm", "vllm", "vllm", NULL};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		struct cold_line l = {0, 1, text[i]};
		const char *k = cold_detect_kind(&l, 1);
		ck_assert_msg(want[i] ? k && !strcmp(k, want[i]) : !k, "'%s': %s, not %s", text[i],
			      k ? k : "none", want[i] ? want[i] : "none");
	}
	/* the first line that says decides: an echoed command says nothing */
	struct cold_line l[2] = {{0, 1, text[0]}, {1, 1, text[1]}};
	ck_assert_str_eq(cold_detect_kind(l, 2), "llamacpp");
	l[0].text = text[6];
	l[1].text = text[8];
	ck_assert_str_eq(cold_detect_kind(l, 2), "vllm");
}
END_TEST

/* vLLM's own line shapes beyond the default: at VLLM_LOGGING_LEVEL=DEBUG
 * its formatter writes the file as a shortened path inside the package
 * ("[v1/engine/core.py:N]", "[model_executor/.../default_loader.py:N]"),
 * on every line, INFO ones too; V1 workers print "(VllmWorker TP0 pid=N)",
 * Ray's "(RayWorkerWrapper pid=N, ip=A)". */
START_TEST(kind_of_a_vllm_debug_log)
{
	static char text[][200] = {
		"(APIServer pid=1) DEBUG 10-08 14:02:09 [plugins/__init__.py:28] No plugins for "
		"group vllm.platform_plugins found.",
		"(APIServer pid=1) INFO 10-08 14:02:10 [entrypoints/openai/api_server.py:1839] "
		"vLLM API server version 0.11.0",
		"(EngineCore_DP0 pid=2) INFO 10-08 14:02:30 "
		"[model_executor/.../model_loader/default_loader.py:267] Loading weights took "
		"1.20 seconds",
		"DEBUG 07-01 10:00:00 [v1/engine/core.py:600] EngineCore waiting for work.",
		"(VllmWorker TP0 pid=21354) INFO 08-22 09:46:11 [gpu_model_runner.py:1953] "
		"Starting to load model Qwen/Qwen2.5-1.5B-Instruct...",
		"(RayWorkerWrapper pid=2345, ip=10.1.2.3) INFO 08-22 09:46:11 [worker.py:10] x",
	};
	for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
		struct cold_line l = {0, 1, text[i]};
		const char *k = cold_detect_kind(&l, 1);
		ck_assert_msg(k && !strcmp(k, "vllm"), "'%s': %s, not vllm", text[i],
			      k ? k : "none");
	}
}
END_TEST

START_TEST(clean_line_strips_escapes)
{
	char s[] = "\x1b[1;36m(APIServer pid=155)\x1b[0;0m INFO x\x1b]0;title\x07 y\x1b[K";
	size_t n = cold_clean_line(s, strlen(s));
	ck_assert_str_eq(s, "(APIServer pid=155) INFO x y");
	ck_assert_uint_eq(n, strlen(s));
}
END_TEST

/* The llama.cpp patterns against real captured logs. Oracle: line times
 * read straight from the log's own timestamps (m.ss.mmm.uuu). */
static double stamp(const char *line)
{
	int m, s, ms, us;
	return sscanf(line, "%d.%d.%d.%d", &m, &s, &ms, &us) == 4
	       ? m * 60.0 + s + ms / 1e3 + us / 1e6 : NAN;
}

static double first_time(char **lines, size_t n, const char *needle)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], needle))
			return stamp(lines[i]);
	return NAN;
}

START_TEST(llamacpp_patterns_on_real_logs)
{
	const char *files[] = {"tests/fixtures/llamacpp/startup-cpu-lv4.log",
			       "tests/fixtures/llamacpp/startup-h200-lv4.log"};
	struct cold_patterns ps;
	char err[256];
	ck_assert_int_eq(cold_patterns_load(&ps, "tools/patterns/llamacpp.tsv", err, sizeof err), 0);
	for (int f = 0; f < 2; f++) {
		char *text = tu_read_file(files[f], NULL);
		static char *raw[4096];
		static struct cold_line lines[4096];
		size_t n = 0;
		for (char *p = strtok(text, "\n"); p && n < 4096; p = strtok(NULL, "\n")) {
			double t = stamp(p);
			if (isnan(t))
				continue;
			raw[n] = p;
			lines[n] = (struct cold_line){(long long)llround(t * 1e9), 1, p};
			n++;
		}
		double ready = first_time(raw, n, "listening on") + 0.01;
		static struct cold_decomp d;
		cold_decompose(&ps, lines, n, 0, ready, &d);
		invariants(&d);
		ck_assert_uint_eq(d.found, 7);
		NEAR(ph(&d, "weight_load")->duration_s,
		     first_time(raw, n, "constructing llama_context") -
		     first_time(raw, n, "loading model tensors"), 1e-6);
		NEAR(ph(&d, "warmup")->duration_s, first_time(raw, n, "load_model: initializing") -
		     first_time(raw, n, "warming up the model"), 1e-6);
		NEAR(ph(&d, "fit_params")->stated_s, 0.51, 1e-9);
		ck_assert_str_eq(ph(&d, "fit_params")->title, "Device memory fit");
		ck_assert_int_eq(ph(&d, "warmup")->category, COLD_CAT_WARMUP);
		ck_assert_ptr_nonnull(cold_info(&d, "n_slots"));
		ck_assert_ptr_nonnull(cold_info(&d, "kv_cache_cells"));
		ck_assert_int_eq(d.starts, 1);
		/* the model's buffers added up: the CPU's alone, or the CPU's
		 * 445.12 and CUDA0's 2944.68 MiB (a review found the first
		 * taken for the whole) */
		ck_assert_str_eq(cold_info(&d, "model_buffer_mib"), f ? "3389.80" : "76.45");
		free(text);
	}
	cold_patterns_free(&ps);
}
END_TEST

/* The real llama-server logs as its three prefix settings print them:
 * --log-prefix --log-timestamps (the capture), --log-prefix alone (no
 * stamp, "I srv    load_model: …": common/log.cpp writes the stamp only
 * with the prefix, the level letter with the prefix alone), and neither. */
START_TEST(kind_of_llamacpp_under_each_prefix_setting)
{
	const char *files[] = {"tests/fixtures/llamacpp/startup-cpu-lv4.log",
			       "tests/fixtures/llamacpp/startup-h200-lv4.log"};
	for (int f = 0; f < 2; f++)
		for (int cut = 0; cut < 3; cut++) {
			char *text = tu_read_file(files[f], NULL);
			static struct cold_line lines[4096];
			size_t n = 0;
			for (char *p = strtok(text, "\n"); p && n < 4096; p = strtok(NULL, "\n")) {
				char *sp = strchr(p, ' ');
				if (cut && !isnan(stamp(p)) && sp) {
					p = sp + 1; /* the stamp and its space */
					if (cut == 2 && strchr("IWED", p[0]) && p[1] == ' ')
						p += 2; /* the level letter */
				}
				lines[n++] = (struct cold_line){0, 1, p};
			}
			const char *k = cold_detect_kind(lines, n);
			ck_assert_msg(k && !strcmp(k, "llamacpp"), "%s, %s: %s, not llamacpp",
				      files[f], (const char *[]){"stamp and level", "level only",
				      "no prefix"}[cut], k ? k : "none");
			free(text);
		}
}
END_TEST

/* VLLM_LOGGING_PREFIX: vLLM's logger puts it before its own format
 * (vllm/logger.py: f"{VLLM_LOGGING_PREFIX}%(levelname)s %(asctime)s
 * [%(filename)s:%(lineno)d] %(message)s"), behind the process prefix
 * that the worker's stream adds. A review found such a log told as
 * nothing: the marker took the level only at the line's start. Any
 * prefix is allowed before the full stamp; a line of llama.cpp's own
 * shape stays llama.cpp's, whatever it echoes. */
START_TEST(kind_of_a_vllm_log_with_a_prefix)
{
	static char vllm[][200] = {
		"[vllm-a] INFO 10-08 14:02:10 [api_server.py:1839] vLLM API server version 0.11.0",
		"(EngineCore_DP0 pid=2) node7 | INFO 10-08 14:02:30 [default_loader.py:267] "
		"Loading weights took 1.20 seconds",
		"pfx>WARNING 10-08 14:02:24 [v1/engine/core.py:66] x",
		"(APIServer pid=1) 2025 cluster/a: DEBUG 10-08 14:02:09 [plugins/__init__.py:28] x",
	};
	for (size_t i = 0; i < sizeof vllm / sizeof *vllm; i++) {
		struct cold_line l = {0, 1, vllm[i]};
		const char *k = cold_detect_kind(&l, 1);
		ck_assert_msg(k && !strcmp(k, "vllm"), "'%s': %s, not vllm", vllm[i],
			      k ? k : "none");
	}
	/* llama.cpp's lines echoing a vLLM-like stamp in a path are
	 * llama.cpp's; an echoed command is nobody's */
	static char other[][200] = {
		"srv    load_model: loading model '/m/[a] INFO 10-08 14:02:30 [x.py:1] q.gguf'",
		"0.00.007.557 I srv    load_model: loading model '/m/a INFO 10-08 14:02:30 "
		"[x.py:1] q.gguf'",
		"I llama_model_loader: loaded meta data from /m/INFO 10-08 14:02:30 [x.py:1] q",
		"+ VLLM_LOGGING_PREFIX='[a] ' vllm serve /m/q --port 8000",
	};
	static const char *const want[] = {"llamacpp", "llamacpp", "llamacpp", NULL};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		struct cold_line l = {0, 1, other[i]};
		const char *k = cold_detect_kind(&l, 1);
		ck_assert_msg(want[i] ? k && !strcmp(k, want[i]) : !k, "'%s': %s, not %s", other[i],
			      k ? k : "none", want[i] ? want[i] : "none");
	}
}
END_TEST

START_TEST(flags_single_and_double_dash)
{
	char *f = cold_cmdline_flags("/opt/llama-server -m '/m/my model.gguf' --host 127.0.0.1 "
				     "-c 4096 -np 1 --metrics -lv 4 --temp -1 --dtype=auto");
	ck_assert_str_eq(f, "`-m /m/my model.gguf`, `--host 127.0.0.1`, `-c 4096`, `-np 1`, "
			    "`--metrics`, `-lv 4`, `--temp -1`, `--dtype=auto`");
	free(f);
	f = cold_cmdline_flags("vllm serve Qwen/Qwen2.5-1.5B-Instruct");
	ck_assert_str_eq(f, "(none)");
	free(f);
}
END_TEST

/* ---- ttft-cold itself ---- */

static cJSON *cycle_n(cJSON *j, int i)
{
	return cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cycles"), i);
}

static double fnum(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	ck_assert_msg(v != NULL, "no %s", k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

static cJSON *jphase(cJSON *c, const char *name)
{
	cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "phases"))
		if (!strcmp(cJSON_GetObjectItem(p, "name")->valuestring, name))
			return p;
	ck_abort_msg("no phase %s", name);
	return NULL;
}

/* Run ttft-cold (one cycle unless extra says otherwise), its server logs
 * in the scratch directory; its JSON. */
static int cold(const char *server, int port, const char *extra, char **out, cJSON **json)
{
	char js[256], cmd[4096];
	tu_tmp_log(js, sizeof js, "cold-json");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-cold --server '%s' --url http://127.0.0.1:%d --json %s "
		 "--log-dir %s --max-tokens 4 %s %s 2>&1", tu_build_dir(), server, port, js,
		 tu_scratch(), extra && strstr(extra, "--cycles") ? "" : "--cycles 1",
		 extra ? extra : "");
	int rc = tu_sh(cmd, out);
	*json = NULL;
	if (access(js, R_OK) == 0) {
		char *t = tu_read_file(js, NULL);
		*json = cJSON_Parse(t);
		free(t);
		unlink(js);
	}
	return rc;
}

static void json_sums(cJSON *c)
{
	double top = 0;
	cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "phases"))
		if (cJSON_IsNull(cJSON_GetObjectItem(p, "parent")))
			top += fnum(p, "duration_s");
	NEAR(top + fnum(c, "unaccounted_s"), fnum(c, "spawn_to_ready_s"), 1e-6);
}

/* ttft-cold's own stamp of the first line holding needle, in seconds since
 * spawn (its server log: "seconds\tstream\tline"). */
static double arrival(const char *log, const char *needle)
{
	const char *p = strstr(log, needle);
	ck_assert_msg(p != NULL, "no line '%s' in the server log", needle);
	while (p > log && p[-1] != '\n')
		p--;
	return atof(p);
}

#define EXACT(x, want) NEAR(x, want, 1e-6) /* the server log's µs */


/* A vLLM start-up replayed by the fixture, which stamps each line as it
 * writes it: every line stamped no earlier than it was written, each phase
 * from the right lines' stamps, the sum exact, the requests against the
 * fixture's own record. */
START_TEST(vllm_startup_replayed)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512], truth[256];
	tu_tmp_log(truth, sizeof truth, "vllm-truth");
	tu_tmp_log(rep, sizeof rep, "cold-report");
	snprintf(srv, sizeof srv, "tests/support/fake_vllm.sh %d %s", port, truth);
	snprintf(extra, sizeof extra, "--warm-runs 3 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	ck_assert_ptr_nonnull(j);
	free(out);
	cJSON *c = cycle_n(j, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "server"), "kind")->valuestring, "vllm");
	struct tu_truth t;
	char err[600];
	ck_assert_msg(tu_truth_load(truth, &t, err, sizeof err) == 0, "%s", err);
	unlink(truth);
	char *log = tu_read_file(cJSON_GetObjectItem(c, "server_log")->valuestring, NULL);
	/* every line the fixture wrote, stamped no earlier than written: the
	 * spawn came before the fixture started */
	ck_assert_uint_eq(t.nlines, 15);
	for (size_t i = 0; i < t.nlines; i++) {
		double at = arrival(log, t.lines[i].text);
		double wrote = (double)(t.lines[i].t_ns - t.start_ns) / 1e9;
		ck_assert_msg(at >= wrote - 1e-6, "'%s' stamped at %.6f s, written at %.6f s",
			      t.lines[i].text, at, wrote);
	}
	/* as stated by the lines themselves */
	EXACT(fnum(jphase(c, "weight_load"), "stated_s"), 0.40);
	EXACT(fnum(jphase(c, "model_load"), "stated_s"), 0.46);
	EXACT(fnum(jphase(c, "torch_compile"), "stated_s"), 0.30);
	EXACT(fnum(jphase(c, "graph_capture"), "stated_s"), 1.0);
	EXACT(fnum(jphase(c, "engine_init"), "stated_s"), 1.30);
	/* by arrival: from the opening line's stamp to the closing line's */
	static const struct { const char *name, *start, *end; } by_arrival[] = {
		{"engine_start", "Initializing a V1 LLM engine", "Starting to load model"},
		{"model_load", "Starting to load model", "Model loading took"},
		{"api_server", "init engine (profile", "Application startup complete"},
	};
	for (size_t i = 0; i < 3; i++) {
		cJSON *p = jphase(c, by_arrival[i].name);
		double a = arrival(log, by_arrival[i].start), z = arrival(log, by_arrival[i].end);
		EXACT(fnum(p, "arrival_s"), z - a);
		EXACT(fnum(p, "start_s") + fnum(p, "duration_s"), z);
		ck_assert(fnum(p, "start_s") >= a - 1e-6);
	}
	/* no opening line: it ends when its line came, inside what contains it,
	 * and lasts what it says unless that reaches out of its container */
	static const struct { const char *name, *end, *parent; } stated[] = {
		{"weight_load", "Loading weights took", "model_load"},
		{"torch_compile", "torch.compile takes", "engine_init"},
		{"graph_capture", "Graph capturing finished", "engine_init"},
		{"engine_init", "init engine (profile", NULL},
	};
	for (size_t i = 0; i < 4; i++) {
		cJSON *p = jphase(c, stated[i].name), *par = cJSON_GetObjectItem(p, "parent");
		EXACT(fnum(p, "start_s") + fnum(p, "duration_s"), arrival(log, stated[i].end));
		ck_assert(fnum(p, "duration_s") <= fnum(p, "stated_s") + 1e-6);
		if (fnum(p, "duration_s") < fnum(p, "stated_s") - 1e-6)
			ck_assert_msg(cJSON_GetObjectItem(p, "note"), "%s cut without a note",
				      stated[i].name);
		if (stated[i].parent)
			ck_assert_str_eq(par->valuestring, stated[i].parent);
		else
			ck_assert(cJSON_IsNull(par));
	}
	/* the top-level phases and the unaccounted time are spawn → ready; the
	 * 0.30 s of silence before the first line is unaccounted */
	json_sums(c);
	double ready = fnum(c, "spawn_to_ready_s");
	double first = (double)(t.lines[0].t_ns - t.start_ns) / 1e9;
	ck_assert(fnum(c, "unaccounted_s") >= first - 1e-6);
	ck_assert(fnum(c, "first_line_s") >= first - 1e-6);
	/* ready after the fixture listened, listening no later than ready */
	ck_assert(ready >= (double)(t.listen_ns - t.start_ns) / 1e9);
	ck_assert(fnum(c, "spawn_to_listen_s") <= ready);
	cJSON *info = cJSON_GetObjectItem(c, "info");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "kv_cache_tokens")->valuestring, "3,519,424");
	ck_assert_str_eq(cJSON_GetObjectItem(info, "kv_cache_memory_gib")->valuestring, "116.34");
	/* the cold request and 3 warm ones, each holding the fixture's own
	 * time to its first token (30 ms injected) */
	ck_assert_uint_eq(tu_truth_count(&t, "/v1/completions"), 4);
	cJSON *warm = cJSON_GetObjectItem(c, "warm");
	ck_assert_int_eq(cJSON_GetArraySize(warm), 3);
	for (int i = 0; i < 4; i++) {
		const struct tu_treq *q = tu_truth_req(&t, "/v1/completions", (size_t)i);
		cJSON *r = i ? cJSON_GetArrayItem(warm, i - 1) : cJSON_GetObjectItem(c, "cold");
		ck_assert_int_eq((int)fnum(r, "tokens"), q->ntok);
		ck_assert(fnum(r, "ttft_s") >= (double)(q->tok[0] - q->recv_first_ns) / 1e9);
		ck_assert(fnum(r, "ttft_s") >= 0.030);
	}
	ck_assert(!isnan(fnum(c, "first_request_warmup_s")));
	tu_truth_free(&t);
	free(log);
	/* the report: every placeholder filled, the numbers in it */
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "{{") == NULL, "unfilled placeholder in:\n%s", md);
	ck_assert(strstr(md, "-cold-start.svg)") && strstr(md, "-warm-variance.svg)"));
	ck_assert(strstr(md, "| engine | vLLM |") != NULL);
	ck_assert(strstr(md, "↳ Weights load (`weight_load`)") != NULL);
	ck_assert(strstr(md, "**unaccounted**") != NULL);
	const char *dom = NULL, *title = NULL;
	double longest = -1;
	cJSON *p;
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(c, "phases"))
		if (cJSON_IsNull(cJSON_GetObjectItem(p, "parent")) && fnum(p, "duration_s") > longest) {
			longest = fnum(p, "duration_s");
			dom = cJSON_GetObjectItem(p, "name")->valuestring;
			title = cJSON_GetObjectItem(p, "title")->valuestring;
		}
	char want[200];
	snprintf(want, sizeof want, "Largest start-up phase:** %s (`%s`:", title, dom);
	ck_assert_msg(strstr(md, want) != NULL, "no '%s' in:\n%s", want, md);
	snprintf(want, sizeof want, "| 1.1 | cold | %.4f |",
		 fnum(cJSON_GetObjectItem(c, "cold"), "ttft_s"));
	ck_assert_msg(strstr(md, want) != NULL, "no '%s' in:\n%s", want, md);
	free(md);
	cJSON_Delete(j);
}
END_TEST

START_TEST(replayed_tp4_start_up)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "tests/support/replay_vllm_log.sh tests/fixtures/vllm/v0.10.1-tp4.log "
		 "%d 0.02", port);
	tu_tmp_log(rep, sizeof rep, "tp4-md");
	snprintf(extra, sizeof extra, "--warm-runs 2 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	ck_assert_ptr_nonnull(j);
	cJSON *c = cycle_n(j, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "server"), "kind")->valuestring, "vllm");
	json_sums(c);
	cJSON *w = jphase(c, "weight_load");
	ck_assert_str_eq(cJSON_GetObjectItem(w, "parent")->valuestring, "model_load");
	ck_assert_int_eq((int)fnum(w, "copies"), 4);
	ck_assert_str_eq(cJSON_GetObjectItem(jphase(c, "graph_capture"), "parent")->valuestring,
			 "engine_init");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(c, "info"), "kv_cache_tokens")->valuestring,
			 "771,952");
	cJSON_Delete(j);
	free(out);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "{{") == NULL, "unfilled placeholder in:\n%s", md);
	ck_assert(strstr(md, "| engine | vLLM |") != NULL);
	ck_assert_msg(strstr(md, "↳ Weights load (`weight_load`)"), "%s", md);
	ck_assert(strstr(md, "4 processes logged it (tensor- or data-parallel ranks): counted once"));
	ck_assert(strstr(md, "**= spawn → ready**"));
	/* the capacity, from this run's log: KV tokens ÷ max-model-len */
	ck_assert_msg(strstr(md, "the KV cache holds 771952 tokens (47.12 GiB on each GPU: every "
			     "rank logged its own), so at most 94.23 requests of full length"), "%s", md);
	ck_assert_msg(strstr(md, "the weights took 15.42 GiB on each of the 4 processes"), "%s", md);
	ck_assert(strstr(md, "`'max_model_len': 8192") || strstr(md, "'max_model_len': 8192"));
	/* what the server ran, from /proc */
	ck_assert_msg(strstr(md, "/fixture-server --port"), "%s", md);
	ck_assert(strstr(md, "## Mental Model") && strstr(md, "For an SRE:"));
	free(md);
}
END_TEST

START_TEST(replayed_v0_start_up)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "tests/support/replay_vllm_log.sh tests/fixtures/vllm/v0.5.5-tp1.log "
		 "%d 0.05", port);
	tu_tmp_log(rep, sizeof rep, "v0-md");
	snprintf(extra, sizeof extra, "--warm-runs 2 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	cJSON *c = cycle_n(j, 0);
	json_sums(c);
	/* V0's weights: by arrival, between the two lines' own stamps */
	char *log = tu_read_file(cJSON_GetObjectItem(c, "server_log")->valuestring, NULL);
	EXACT(fnum(jphase(c, "weight_load"), "arrival_s"),
	      arrival(log, "Loading model weights took") - arrival(log, "Starting to load model"));
	ck_assert(isnan(fnum(jphase(c, "weight_load"), "stated_s")));
	free(log);
	cJSON_Delete(j);
	free(out);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "the KV cache holds 27689 blocks × 16 tokens = 443024 tokens "
			     "(V0 logs blocks; block size as logged), so at most 108.16 requests "
			     "of full length fit at once (computed: tokens ÷ max-model-len)"), "%s", md);
	free(md);
}
END_TEST

START_TEST(replayed_odd_value_in_report)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "tests/support/replay_vllm_log.sh tests/fixtures/vllm/v0.11.0-tp1.log "
		 "%d 0.02", port);
	tu_tmp_log(rep, sizeof rep, "odd-md");
	snprintf(extra, sizeof extra, "--warm-runs 1 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	json_sums(cycle_n(j, 0));
	cJSON_Delete(j);
	free(out);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "| graph_memory_gib (server log) | -0.41 (as logged: a negative "
			     "amount cannot be memory taken"), "%s", md);
	free(md);
}
END_TEST

/* The cells of the Markdown table row that starts with head: its bare |
 * less one (an escaped \| is text in its cell, as GFM reads it). */
static int md_cells(const char *md, const char *head)
{
	const char *l = strstr(md, head);
	ck_assert_msg(l != NULL, "no row '%s' in:\n%s", head, md);
	int bars = 0;
	for (const char *p = l; *p && *p != '\n'; p++)
		bars += *p == '|' && p[-1] != '\\';
	return bars - 1;
}

/* A | in the free text the report puts in table cells — the server's
 * logged arguments, the command, the model — escaped (\|): each row keeps
 * its two cells, the page shows the pipe inside one; the heading, no
 * table, keeps it as it is. */
START_TEST(replayed_pipe_in_report_cells)
{
	int port = tu_free_port();
	char fix[256], srv[512], *out, rep[256], extra[512], cmd[1024];
	tu_tmp_log(fix, sizeof fix, "pipe-fixture");
	snprintf(cmd, sizeof cmd, "sed \"s/'gpu_memory_utilization': 0.92}/"
		 "'gpu_memory_utilization': 0.92, 'x': 'a|b'}/\" "
		 "tests/fixtures/vllm/v0.11.0-tp1.log > %s && grep -q \"'a|b'\" %s", fix, fix);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	snprintf(srv, sizeof srv, "tests/support/replay_vllm_log.sh %s %d 0.02 \"x|y\"", fix, port);
	tu_tmp_log(rep, sizeof rep, "pipe-md");
	snprintf(extra, sizeof extra, "--warm-runs 1 --model \"m|n\" --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	unlink(fix);
	cJSON_Delete(j);
	free(out);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	char html[300];
	snprintf(html, sizeof html, "%s.html", rep);
	char *page = tu_read_file(html, NULL);
	siblings(rep);
	ck_assert_int_eq(md_cells(md, "| the server's own account of its arguments |"), 2);
	ck_assert_msg(strstr(md, "'x': 'a\\|b'}`"), "%s", md);
	ck_assert_int_eq(md_cells(md, "| command (as given) |"), 2);
	ck_assert_msg(strstr(md, "0.02 \"x\\|y\"`"), "%s", md);
	ck_assert_int_eq(md_cells(md, "| model |"), 2);
	ck_assert_msg(strstr(md, "| model | m\\|n |"), "%s", md);
	ck_assert_msg(strstr(md, "# First-Token Latency Baseline — m|n\n"), "%s", md);
	ck_assert_msg(strstr(page, "&#39;x&#39;: &#39;a|b&#39;}</code></td></tr>"), "%s", page);
	ck_assert_msg(strstr(page, "<tr><td>model</td><td>m|n</td></tr>"), "%s", page);
	ck_assert_msg(strstr(page, "0.02 &quot;x|y&quot;</code></td></tr>"), "%s", page);
	free(page);
	free(md);
}
END_TEST

/* Like for like: distinct prompts, and the server's own count says no run
 * reused another's prefix; --same-prompt is called what it is. */
START_TEST(cold_vs_warm_like_for_like)
{
	int port = tu_free_port();
	char srv[256], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --style llamacpp "
		 "--prefix-cache --first-ms 5 --token-ms 1", tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "lfl-md");
	for (int same = 0; same < 2; same++) {
		snprintf(extra, sizeof extra, "--warm-runs 3 --kind llamacpp --report %s%s", rep,
			 same ? " --same-prompt" : "");
		cJSON *j;
		ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
		cJSON *c = cycle_n(j, 0), *r;
		double pt = fnum(cJSON_GetObjectItem(c, "cold"), "prompt_tokens");
		ck_assert(pt > 1);
		ck_assert_double_eq(fnum(cJSON_GetObjectItem(c, "cold"), "prefix_cache_hit_tokens"), 0);
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(c, "warm")) {
			ck_assert_double_eq(fnum(r, "prompt_tokens"), pt);
			if (same)
				ck_assert_double_eq(fnum(r, "prefix_cache_hit_tokens"), pt - 1);
			else
				ck_assert_double_eq(fnum(r, "prefix_cache_hit_tokens"), 0);
		}
		ck_assert_str_eq(cJSON_GetObjectItem(j, "prompts")->valuestring,
				 same ? "same" : "distinct");
		cJSON_Delete(j);
		free(out);
		char *md = tu_read_file(rep, NULL);
		if (same)
			ck_assert_msg(strstr(md, "Not like for like") &&
				      strstr(md, "cached prompt tokens in a warm run"), "%s", md);
		else
			ck_assert_msg(strstr(md, "Like for like: every run sent its own prompt") &&
				      strstr(md, "no warm run found a cached prompt token"), "%s", md);
		free(md);
	}
	unlink(rep);
	siblings(rep);
}
END_TEST

/* --same-prompt on a server with a prefix cache: the warm runs prefill
 * one token, the cold one all of them. The cold request's extra is the
 * cache's saving as much as first-use cost, and the server counted it: the
 * report must not put it all down to warm-up inside the engine (it said
 * "first-use cost inside the engine … inside the first prefill" and told
 * the SRE the first request "pays one-time warm-up inside the engine"). */
START_TEST(cold_extra_from_the_cache_is_not_warmup)
{
	int port = tu_free_port();
	char srv[256], *out, rep[256], extra[1536], prompt[1024] = "";
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --style llamacpp "
		 "--prefix-cache --prefill-per-token-ms 2 --first-ms 5 --token-ms 1",
		 tu_build_dir(), port);
	for (int i = 0; i < 80; i++)
		snprintf(prompt + strlen(prompt), sizeof prompt - strlen(prompt), "w%d ", i);
	tu_tmp_log(rep, sizeof rep, "cache-extra-md");
	snprintf(extra, sizeof extra, "--warm-runs 3 --kind llamacpp --same-prompt "
		 "--prompt '%s' --report %s", prompt, rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	free(out);
	cJSON *c = cycle_n(j, 0), *r;
	double pt = fnum(cJSON_GetObjectItem(c, "cold"), "prompt_tokens");
	ck_assert(pt > 50);
	ck_assert_double_eq(fnum(cJSON_GetObjectItem(c, "cold"), "prefix_cache_hit_tokens"), 0);
	cJSON_ArrayForEach(r, cJSON_GetObjectItem(c, "warm"))
		ck_assert_double_eq(fnum(r, "prefix_cache_hit_tokens"), pt - 1);
	/* the cold one is slower by the prefill the cache saved */
	ck_assert(fnum(c, "cold_over_warm") >= 1.2);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	const char *mm = strstr(md, "## Mental Model");
	ck_assert_ptr_nonnull(mm);
	ck_assert_msg(!strstr(md, "first-use cost inside the engine") &&
		      !strstr(md, "because it pays one-time warm-up"), "%.3000s", mm);
	char want[160];
	snprintf(want, sizeof want, "is not all first-use cost: the warm runs took up to %.0f of "
		 "their prompt tokens from the server's prefix cache (the cold one 0)", pt - 1);
	ck_assert_msg(strstr(md, want), "%.3000s", mm);
	ck_assert_msg(strstr(md, "how much of that is one-time warm-up this run cannot say"),
		      "%.3000s", mm);
	free(md);
}
END_TEST

START_TEST(three_cycles_by_default_and_the_spread)
{
	int port = tu_free_port();
	char cmd[1536], *out, rep[256], js[256];
	tu_tmp_log(rep, sizeof rep, "three-md");
	tu_tmp_log(js, sizeof js, "three-json");
	snprintf(cmd, sizeof cmd, "%s/ttft-cold --server 'exec %s/fixture-server --port %d "
		 "--first-ms 5 --token-ms 1' --url http://127.0.0.1:%d --warm-runs 2 --max-tokens 4 "
		 "--kind vllm --report %s --json %s --log-dir %s 2>&1", tu_build_dir(),
		 tu_build_dir(), port, port, rep, js, tu_scratch());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t);
	free(t);
	cJSON *sum = cJSON_GetObjectItem(j, "summary");
	ck_assert_int_eq((int)fnum(sum, "cycles"), 3);
	ck_assert_int_eq((int)fnum(sum, "cycles_ok"), 3);
	cJSON *h = cJSON_GetObjectItem(cycle_n(j, 0), "host");
	ck_assert(fnum(h, "load1_start") >= 0 && fnum(h, "cpus") >= 1);
	int busy = cJSON_IsTrue(cJSON_GetObjectItem(sum, "busy_host"));
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "**Across 3 restarts:**"), "%s", md);
	ck_assert(strstr(md, "| 3 | 2 |"));
	/* a busy host is said so, a quiet one is not */
	ck_assert_int_eq(strstr(md, "**Busy host:**") != NULL, busy);
	free(md);
}
END_TEST

/* A server that gives no usage has each run's token events counted, and
 * one event can carry several tokens: the report's runs table showed that
 * count as if exact. Its cell says "≥N" and its note why; the JSON's runs
 * say tokens_source "events". */
START_TEST(runs_tokens_from_events_are_at_least)
{
	int port = tu_free_port();
	char cmd[1536], *out, rep[256], js[256];
	tu_tmp_log(rep, sizeof rep, "events-md");
	tu_tmp_log(js, sizeof js, "events-json");
	snprintf(cmd, sizeof cmd, "%s/ttft-cold --server 'exec %s/fixture-server --port %d "
		 "--first-ms 5 --token-ms 1 --no-usage' --url http://127.0.0.1:%d --cycles 1 "
		 "--warm-runs 1 --max-tokens 4 --kind vllm --report %s --json %s 2>&1",
		 tu_build_dir(), tu_build_dir(), port, port, rep, js);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t);
	free(t);
	cJSON *c = cycle_n(j, 0);
	cJSON *r[2] = {cJSON_GetObjectItem(c, "cold"),
		       cJSON_GetArrayItem(cJSON_GetObjectItem(c, "warm"), 0)};
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq((int)fnum(r[i], "tokens"), 4);
		ck_assert_str_eq(cJSON_GetObjectItem(r[i], "tokens_source")->valuestring,
				 "events");
	}
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	/* "| 1.1 | cold | ttft | e2e | ≥4 |", "| 1.2 | warm | … | ≥4 |" */
	int cells = 0;
	for (const char *p = md; (p = strstr(p, "| ≥4 |")); p++)
		cells++;
	ck_assert_msg(cells == 2, "%d cells '≥4':\n%.4000s", cells, md);
	ck_assert_msg(strstr(md, "tokens ≥: no usage, token events counted"), "%.4000s", md);
	free(md);
}
END_TEST

/* Requests the server refused (HTTP 500, a JSON error body): no event
 * stream, so their tokens are not known — not "at least 0" of them
 * counted from events (seen failing: '| ≥0 |' and the events note on
 * both runs), and never a raw -1. */
START_TEST(refused_runs_have_no_token_count)
{
	int port = tu_free_port();
	char cmd[1536], *out, rep[256], js[256];
	tu_tmp_log(rep, sizeof rep, "refused-md");
	tu_tmp_log(js, sizeof js, "refused-json");
	snprintf(cmd, sizeof cmd, "%s/ttft-cold --server 'exec %s/fixture-server --port %d "
		 "--status 500' --url http://127.0.0.1:%d --cycles 1 --warm-runs 1 "
		 "--max-tokens 4 --kind vllm --report %s --json %s 2>&1",
		 tu_build_dir(), tu_build_dir(), port, port, rep, js);
	ck_assert_int_eq(tu_sh(cmd, &out), 1); /* every request failed */
	free(out);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t);
	free(t);
	cJSON *c = cycle_n(j, 0);
	cJSON *r[2] = {cJSON_GetObjectItem(c, "cold"),
		       cJSON_GetArrayItem(cJSON_GetObjectItem(c, "warm"), 0)};
	for (int i = 0; i < 2; i++) {
		ck_assert_ptr_nonnull(r[i]);
		ck_assert_int_eq((int)fnum(r[i], "http_status"), 500);
		ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r[i], "tokens")));
		ck_assert(cJSON_IsNull(cJSON_GetObjectItem(r[i], "tokens_source")));
	}
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	/* what ttft-cold writes beside it, where it did */
	static const char *const beside[] = {".html", "-cold-start.svg", "-warm-variance.svg"};
	for (int i = 0; i < 3; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s%s", rep, beside[i]);
		unlink(p);
	}
	ck_assert_msg(strstr(md, "| 1.1 | cold | - | ") && strstr(md, "| 1.2 | warm | - | "),
		      "%.4000s", md);
	const char *row = strstr(md, "| 1.1 | cold |");
	ck_assert_msg(row && !strncmp(strchr(strchr(strchr(strchr(row + 1, '|') + 1, '|') + 1,
						      '|') + 1, '|'), "| - |", 5),
		      "the tokens cell: %.200s", row);
	ck_assert_msg(!strstr(md, "≥0") && !strstr(md, "| -1 |") &&
		      !strstr(md, "token events counted"), "%.4000s", md);
	free(md);
}
END_TEST

/* One cycle's cold request is slow, the next one's warm request is: the
 * report draws no cold-vs-warm conclusion from that (conclusions flipped
 * with noise between runs). */
START_TEST(no_conclusion_when_cycles_disagree)
{
	int port = tu_free_port();
	char srv[768], *out, rep[256], extra[512], count[256];
	tu_tmp_log(count, sizeof count, "cycles");
	snprintf(srv, sizeof srv, "n=$(cat %s 2>/dev/null || echo 0); echo $((n+1)) >%s; "
		 "if [ $n = 0 ]; then k=1; else k=2; fi; "
		 "exec %s/fixture-server --port %d --first-ms 10 --token-ms 1 "
		 "--slow-request $k --slow-ms 300", count,
		 count, tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "mixed-md");
	snprintf(extra, sizeof extra, "--cycles 2 --warm-runs 1 --kind vllm --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	unlink(count);
	double f1 = fnum(cycle_n(j, 0), "cold_over_warm"), f2 = fnum(cycle_n(j, 1), "cold_over_warm");
	/* the premise: one cycle says slower, the other does not */
	ck_assert_msg(f1 >= 1.2 && f2 < 1.2, "factors %.2f and %.2f", f1, f2);
	free(out);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "The cycles disagree on whether the first request is slower "
			     "at all: no conclusion"), "%s", md);
	ck_assert_msg(strstr(md, "Whether the first request after it is slower, this run "
			     "cannot say"), "%s", md);
	ck_assert_msg(!strstr(md, "one slow first request") &&
		      !strstr(md, "about as fast as a warm one") &&
		      !strstr(md, "because it pays one-time warm-up"), "%s", md);
	free(md);
}
END_TEST

/* Refused before anything starts: the server command would leave a file. */
START_TEST(refused_before_any_server_starts)
{
	int port = tu_free_port();
	char mark[256], srv[512], *out;
	tu_tmp_log(mark, sizeof mark, "started");
	snprintf(srv, sizeof srv, "touch %s; sleep 30", mark);
	static const struct {
		const char *extra, *want;
	} cases[] = {
		{"--kind llama", "bad value 'llama' for --kind"},
		{"--patterns /nonexistent.tsv", "cannot read pattern file /nonexistent.tsv"},
		{"--report /nonexistent/dir/r.md",
		 "cannot write --report /nonexistent/dir/r.md: cannot create files in /nonexistent/dir"},
		{"--json /nonexistent/dir/c.json", "cannot write --json /nonexistent/dir/c.json"},
		{"--report /tmp", "cannot write --report '/tmp': it is a directory"},
		{"--warm-runs 0", "bad value '0' for --warm-runs: a cold request alone"},
		{"--warm-runs -1", "bad value '-1' for --warm-runs"},
		{"--cycles x", "bad value 'x' for --cycles"},
		{"--ready-timeout 0", "bad value '0' for --ready-timeout"},
		{"--template /nonexistent.md --report /tmp/r.md", "cannot read the report template"},
		{"--prompt ''", "bad value '' for --prompt"},
		{"--frobnicate", "see ttft-cold --help"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char cmd[1024];
		snprintf(cmd, sizeof cmd, "%s/ttft-cold --server '%s' --url http://127.0.0.1:%d %s "
			 "2>&1", tu_build_dir(), srv, port, cases[i].extra);
		ck_assert_int_eq(tu_sh(cmd, &out), 2);
		ck_assert_msg(strstr(out, cases[i].want), "%s: %s", cases[i].extra, out);
		ck_assert_msg(access(mark, F_OK) != 0, "%s: the server was started", cases[i].extra);
		free(out);
	}
	/* A template with no placeholder (a report already filled in: its
	 * numbers would be written again as this run's), and a report that
	 * would overwrite its own template (the next run would do the same). */
	char tpl[256], rep[300], extra[900], run[1600];
	tu_tmp_log(tpl, sizeof tpl, "filled.md");
	FILE *f = fopen(tpl, "w");
	fputs("# First-Token Latency Baseline — m\n\n| 1.1 | cold | 0.0434 |\n", f);
	fclose(f);
	snprintf(rep, sizeof rep, "%s/fresh.md", tu_scratch());
	const char *want[2] = {"holds no {{…}} placeholder", "is the template itself"};
	for (int i = 0; i < 2; i++) {
		if (i == 1) { /* the seed's own template, as --report too */
			char *seed = tu_read_file("docs/first_token_latency.md", NULL);
			f = fopen(tpl, "w");
			fputs(seed, f);
			fclose(f);
			free(seed);
		}
		snprintf(extra, sizeof extra, "--template %s --report %s", tpl, i ? tpl : rep);
		snprintf(run, sizeof run, "%s/ttft-cold --server '%s' --url http://127.0.0.1:%d %s "
			 "2>&1", tu_build_dir(), srv, port, extra);
		ck_assert_int_eq(tu_sh(run, &out), 2);
		ck_assert_msg(strstr(out, want[i]), "%s: %s", extra, out);
		ck_assert_msg(access(mark, F_OK) != 0, "%s: the server was started", extra);
		ck_assert_int_ne(access(rep, F_OK), 0);
		free(out);
	}
	unlink(tpl);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s/ttft-cold --server x --url ftp://h:1 2>&1 | grep -q "
		 "\"bad value 'ftp://h:1' for --url\"", tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	snprintf(cmd, sizeof cmd, "%s/ttft-cold --version | grep -q '^ttft-cold (ttftshim '",
		 tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
}
END_TEST

START_TEST(server_exits_early)
{
	char *out;
	cJSON *j;
	int port = tu_free_port();
	ck_assert_int_eq(cold("echo loading >&2; echo model not found >&2; exit 3", port, NULL, &out, &j), 1);
	ck_assert_msg(strstr(out, "exited before it was ready (exit code 3)") &&
		      strstr(out, "model not found"), "%s", out);
	free(out);
	cJSON_Delete(j);
}
END_TEST

/* A sleep only this test process runs (other runs of the suite may share
 * the machine), and a pgrep for exactly that command line: not ttft-cold's
 * (its --server argument holds the same words), not the shell's. */
static void unique_sleep(char *cmd, size_t cl, char *pat, size_t pl, int k)
{
	snprintf(cmd, cl, "sleep %d.%d%d", 300 + k, (int)getpid(), k);
	snprintf(pat, pl, "pgrep -x -f 'sleep %d[.]%d%d' >/dev/null", 300 + k, (int)getpid(), k);
}

START_TEST(never_ready_leaves_nothing_running)
{
	char *out, s1[64], s2[64], p1[128], p2[128], srv[160];
	cJSON *j;
	int port = tu_free_port();
	unique_sleep(s1, sizeof s1, p1, sizeof p1, 1);
	unique_sleep(s2, sizeof s2, p2, sizeof p2, 2);
	snprintf(srv, sizeof srv, "%s & %s", s1, s2);
	char rep[256], extra[512];
	tu_tmp_log(rep, sizeof rep, "never-ready-md");
	snprintf(extra, sizeof extra, "--ready-timeout 0.5 --stop-timeout 1 --report %s", rep);
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 1);
	ck_assert_msg(strstr(out, "not ready after 0 s") || strstr(out, "not ready after 1 s"), "%s", out);
	ck_assert_msg(strstr(out, "port never accepted"), "%s", out);
	free(out);
	/* no request was made: the CPU during one is not measured, not 0%
	 * (the report said "0% / 0%", the JSON 0) */
	ck_assert_ptr_nonnull(j);
	cJSON *san = cJSON_GetObjectItem(cycle_n(j, 0), "sanity");
	static const char *const cpu[] = {"system_cpu_cold_pct", "system_cpu_warm_pct",
					  "server_cpu_cold_pct", "server_cpu_warm_pct"};
	for (int i = 0; i < 4; i++)
		ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(san, cpu[i])), "%s: %g", cpu[i],
			      fnum(san, cpu[i]));
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	drop_siblings(rep);
	ck_assert_msg(md && strstr(md, "| system CPU busy: cold request / warm runs | "
				       "not measured / not measured |") &&
		      strstr(md, "| server CPU (% of one core): cold / warm | not measured / "
				 "not measured |"), "%s", md ? md : "(no report)");
	free(md);
	ck_assert_int_ne(tu_sh(p1, NULL), 0);
	ck_assert_int_ne(tu_sh(p2, NULL), 0);
}
END_TEST

START_TEST(port_in_use)
{
	pid_t busy;
	int port = tu_fixture_start("", &busy);
	char *out;
	cJSON *j;
	ck_assert_int_eq(cold("sleep 1", port, NULL, &out, &j), 2);
	ck_assert_msg(strstr(out, "already in use"), "%s", out);
	ck_assert_ptr_null(j); /* nothing measured, nothing written */
	free(out);
	tu_fixture_stop(busy);
}
END_TEST

START_TEST(patterns_that_match_nothing)
{
	int port = tu_free_port();
	char pat[256], srv[512], *out;
	tu_tmp_log(pat, sizeof pat, "pat");
	FILE *f = fopen(pat, "w");
	fputs("phase\tnever\tno such line\tnor this\t-\ts\n", f);
	fclose(f);
	snprintf(srv, sizeof srv, "sleep 0.2; exec %s/fixture-server --port %d", tu_build_dir(), port);
	char extra[512];
	snprintf(extra, sizeof extra, "--warm-runs 1 --patterns %s", pat);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	ck_assert_msg(strstr(out, "no line of the server's output matched"), "%s", out);
	cJSON *c = cycle_n(j, 0);
	NEAR(fnum(c, "unaccounted_s"), fnum(c, "spawn_to_ready_s"), 1e-9);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "phases")), 0);
	free(out);
	cJSON_Delete(j);
	/* a broken pattern file: said before the server starts, exit 2 */
	f = fopen(pat, "w");
	fputs("phase\tbad\t(unclosed\tx\t-\ts\n", f);
	fclose(f);
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 2);
	ck_assert_msg(strstr(out, "bad regex") && !strstr(out, "started"), "%s", out);
	free(out);
	cJSON_Delete(j);
	unlink(pat);
}
END_TEST

/* The server's kind from markers only that server prints, never from a
 * path: a llama-server whose model lies under a folder named vllm-cache
 * echoes the path ("load_model: loading model '/models/vllm-cache/…'")
 * before its loader's lines. With an API key it prints no CORS warning
 * (the only "llama_server:" lines before it), and a review found its
 * start-up read with vLLM's patterns: kind vllm, nothing matched. */
START_TEST(kind_from_markers_not_a_path)
{
	int port = tu_free_port();
	char st[256], cmd[1024], srv[768], *out;
	tu_tmp_log(st, sizeof st, "lc-vllm-path");
	/* the real captured start-up up to its listening line, as with
	 * --api-key: no CORS warning */
	snprintf(cmd, sizeof cmd, "awk '/ W srv  llama_server:/ {next} "
		 "{gsub(\"tiny.gguf\", \"/models/vllm-cache/qwen2.5-1.5b.gguf\"); "
		 "print \"0\\t\" $0} / listening on / {exit}' "
		 "tests/fixtures/llamacpp/startup-cpu-lv4.log > %s", st);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(st, NULL);
	ck_assert_msg(strstr(t, "loading model '/models/vllm-cache/qwen2.5-1.5b.gguf'") &&
		      !strstr(t, "CORS"), "%s", t);
	free(t);
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --style llamacpp --startup %s",
		 tu_build_dir(), port, st);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, "--warm-runs 1", &out, &j), 0);
	ck_assert_ptr_nonnull(j);
	ck_assert_msg(!strstr(out, "no line of the server's output matched"), "%s", out);
	free(out);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "server"), "kind")->valuestring,
			 "llamacpp");
	cJSON *c = cycle_n(j, 0);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "phases")), 7);
	json_sums(c);
	cJSON_Delete(j);
	unlink(st);
}
END_TEST

/* A vLLM start-up whose lines carry a VLLM_LOGGING_PREFIX (uvicorn's own
 * lines, not vLLM's logger, carry none): told as vLLM's without --kind,
 * and its phases read from the prefixed lines. */
START_TEST(vllm_start_up_with_a_logging_prefix)
{
	int port = tu_free_port();
	char st[256], cmd[1024], srv[768], *out;
	tu_tmp_log(st, sizeof st, "vllm-prefix");
	snprintf(cmd, sizeof cmd, "awk -F'\\t' '!/^#/ && NF { if ($2 ~ /^INFO \\{date\\}/) "
		 "$2 = \"[vllm-a] \" $2; print $1 \"\\t\" $2 }' tests/support/fake_vllm_startup.txt "
		 "> %s", st);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(st, NULL);
	ck_assert_msg(strstr(t, "\t[vllm-a] INFO {date} [loader.py:458] Loading weights took") &&
		      strstr(t, "\tINFO:     Application startup complete."), "%s", t);
	free(t);
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --startup %s --first-ms 30 "
		 "--token-ms 5", tu_build_dir(), port, st);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, "--warm-runs 1", &out, &j), 0);
	ck_assert_ptr_nonnull(j);
	free(out);
	const char *kind = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "server"),
					       "kind")->valuestring;
	ck_assert_msg(!strcmp(kind, "vllm"), "kind %s", kind);
	cJSON *c = cycle_n(j, 0);
	EXACT(fnum(jphase(c, "weight_load"), "stated_s"), 0.40);
	EXACT(fnum(jphase(c, "engine_init"), "stated_s"), 1.30);
	json_sums(c);
	cJSON_Delete(j);
	unlink(st);
}
END_TEST

/* The report of a start-up whose two data-parallel engines logged KV
 * caches of other sizes: the sanity table's value is said to be the
 * smallest of a range (seen failing: '| kv_cache_tokens (server log) |
 * 1,024 |' alone, the first engine's 2,048 unsaid), and the knobs give
 * the range. */
START_TEST(engines_of_other_sizes_in_the_report)
{
	int port = tu_free_port();
	char srv[1024], st[256], rep[256], extra[512], *out;
	tu_tmp_log(st, sizeof st, "dp-startup");
	tu_tmp_log(rep, sizeof rep, "dp-md");
	FILE *f = fopen(st, "w");
	ck_assert_ptr_nonnull(f);
	fputs("0.01\t(APIServer pid={pid}) INFO {date} [api_server.py:1839] vLLM API server "
	      "version 0.11.0\n"
	      "0.01\t(EngineCore_DP0 pid=20) INFO {date} [kv_cache_utils.py:1087] GPU KV cache "
	      "size: 2,048 tokens\n"
	      "0.01\t(EngineCore_DP1 pid=21) INFO {date} [kv_cache_utils.py:1087] GPU KV cache "
	      "size: 1,024 tokens\n", f);
	fclose(f);
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --startup %s --first-ms 5 "
		 "--token-ms 1", tu_build_dir(), port, st);
	snprintf(extra, sizeof extra, "--warm-runs 1 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	free(out);
	cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(cycle_n(j, 0), "info_differs"),
				       "kv_cache_tokens");
	ck_assert_ptr_nonnull(d);
	EXACT(fnum(d, "min"), 1024);
	EXACT(fnum(d, "max"), 2048);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "| kv_cache_tokens (server log) | 1,024 (the smallest: the log "
				 "gave 1024 to 2048, one value a process) |"), "%.6000s", md);
	ck_assert_msg(strstr(md, "the KV cache holds 1024 to 2048 tokens in the 2 engines"),
		      "%.6000s", md);
	free(md);
	unlink(st);
}
END_TEST

START_TEST(server_dies_during_the_runs)
{
	/* killed once it has served the cold request and one warm one: by
	 * its own record, not by a clock */
	int port = tu_free_port();
	char srv[1024], *out, truth[256];
	tu_tmp_log(truth, sizeof truth, "dies-truth");
	snprintf(srv, sizeof srv, "%s/fixture-server --port %d --truth %s --first-ms 100 "
		 "--token-ms 100 & until [ $(grep -c /v1/completions %s) -ge 2 ]; do sleep 0.01; "
		 "done; kill $!", tu_build_dir(), port, truth, truth);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, "--warm-runs 8 --kind vllm", &out, &j), 1);
	ck_assert_msg(strstr(out, "died during the requests"), "%s", out);
	free(out);
	cJSON_Delete(j);
	unlink(truth);
}
END_TEST

/* The cold request served, the only warm one timed out: no warm TTFT, so
 * nothing to compare the cold one with. The cycle is not counted (the
 * report showed "nan× a warm request's nan ms" and concluded that the
 * cold request "costs about what a warm one does"). */
START_TEST(no_warm_ttft_no_comparison)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --first-ms 10 --token-ms 1 "
		 "--slow-request 2 --slow-ms 60000", tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "no-warm-md");
	snprintf(extra, sizeof extra, "--warm-runs 1 --kind vllm --timeout 2 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 1);
	free(out);
	ck_assert_ptr_nonnull(j);
	cJSON *c = cycle_n(j, 0);
	ck_assert(!isnan(fnum(cJSON_GetObjectItem(c, "cold"), "ttft_s")));
	ck_assert(isnan(fnum(c, "warm_ttft_median_s")));
	cJSON *sum = cJSON_GetObjectItem(j, "summary");
	ck_assert_int_eq((int)fnum(sum, "cycles_ok"), 0);
	ck_assert_int_eq((int)fnum(cJSON_GetObjectItem(sum, "cold_over_warm"), "n"), 0);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	drop_siblings(rep); /* a failed cycle or request has no timeline */
	ck_assert_msg(!strstr(md, "nan×") && !strstr(md, "nan ms") && !strstr(md, "about as fast as a warm one") &&
		      !strstr(md, "costs about what a warm one does"), "%s", md);
	ck_assert_msg(strstr(md, "No cycle measured both a cold and a warm request"), "%s", md);
	free(md);
}
END_TEST

/* A server that answers 200 and streams no token (a review: the warm
 * runs' streams held the usage and [DONE] only): the cycle was "ok",
 * exit 0, stderr "cold TTFT … = nan× the warm median nan s", the report
 * said "see the errors above" of errors it never gave, and its runs had
 * no word for their missing TTFT. Now the cycle fails, says why, and
 * each such run says it streamed no token. */
START_TEST(no_token_streamed_is_a_failed_measurement)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --first-ms 5 --token-ms 1 "
		 "--empty-from 2", tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "no-token-md");
	snprintf(extra, sizeof extra, "--warm-runs 2 --max-tokens 4 --kind vllm --report %s", rep);
	cJSON *j;
	int rc = cold(srv, port, extra, &out, &j);
	ck_assert_msg(rc == 1 && !strstr(out, "nan") &&
		      strstr(out, "cycle 1: 2 requests streamed no token"), "rc %d: %s", rc, out);
	free(out);
	ck_assert_ptr_nonnull(j);
	cJSON *c = cycle_n(j, 0);
	ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")));
	ck_assert(isnan(fnum(c, "warm_ttft_median_s")));
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	drop_siblings(rep); /* a failed cycle or request has no timeline */
	ck_assert_msg(strstr(md, "**Cycle 1 failed:** 2 requests streamed no token"), "%s", md);
	ck_assert_msg(strstr(md, "| 1.2 | warm | - |") &&
		      strstr(md, " | no token streamed: no TTFT |"), "%s", md);
	free(md);
}
END_TEST

/* A server log the disk did not take (a review: --log-dir on a full
 * tmpfs left server-cycle1.log empty, exit 0, and the report cited it
 * as the server's log). /dev/full as the log: the write fails with
 * ENOSPC; the run says so, exits 1, and the report and JSON say the log
 * is incomplete; the measurement stands. */
START_TEST(server_log_not_written_is_said)
{
	int port = tu_free_port();
	char srv[512], *out, dir[256], lnk[320], rep[256], extra[1024];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --first-ms 5 --token-ms 1",
		 tu_build_dir(), port);
	tu_tmp_log(dir, sizeof dir, "full-logs");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(lnk, sizeof lnk, "%s/server-cycle1.log", dir);
	ck_assert_int_eq(symlink("/dev/full", lnk), 0);
	tu_tmp_log(rep, sizeof rep, "full-logs-md");
	snprintf(extra, sizeof extra, "--warm-runs 1 --kind vllm --report %s --log-dir %s", rep,
		 dir);
	cJSON *j;
	int rc = cold(srv, port, extra, &out, &j);
	unlink(lnk);
	rmdir(dir);
	ck_assert_msg(rc == 1 && strstr(out, "cannot write the server log ") &&
		      strstr(out, "No space left on device"), "rc %d: %s", rc, out);
	free(out);
	ck_assert_ptr_nonnull(j);
	cJSON *c = cycle_n(j, 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "ok")));
	cJSON *e = cJSON_GetObjectItem(c, "server_log_error");
	ck_assert_msg(cJSON_IsString(e) && strstr(e->valuestring, "No space left"), "no "
		      "server_log_error");
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(strstr(md, "server-cycle1.log` (incomplete: writing it failed, No space "
			     "left on device"), "%s", md);
	free(md);
}
END_TEST

/* Two cycles, the second's restart fails (a review: "Across 1 restarts:
 * spawn → ready 2.270 / 2.270 / 2.270 s … (min / median / max)", a
 * spread made of one value). One usable cycle gives no spread. */
START_TEST(one_usable_cycle_gives_no_spread)
{
	int port = tu_free_port();
	char srv[768], mark[256], rep[256], extra[512], *out;
	tu_tmp_log(mark, sizeof mark, "second-start-fails");
	unlink(mark);
	snprintf(srv, sizeof srv, "if [ -e %s ]; then echo boom >&2; exit 3; fi; touch %s; "
		 "exec %s/fixture-server --port %d --first-ms 5 --token-ms 1", mark, mark,
		 tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "one-usable-md");
	snprintf(extra, sizeof extra, "--cycles 2 --warm-runs 1 --kind vllm --report %s", rep);
	cJSON *j;
	int rc = cold(srv, port, extra, &out, &j);
	unlink(mark);
	ck_assert_msg(rc == 1 && strstr(out, "cycle 2: the server exited before it was ready"),
		      "rc %d: %s", rc, out);
	/* the fixture's start-up matches no vLLM line (said), the failed
	 * one's is nothing to explain (not said) */
	const char *unacc = strstr(out, "the cold start is all 'unaccounted'");
	ck_assert_msg(unacc && !strstr(unacc + 1, "the cold start is all 'unaccounted'"),
		      "said of a start-up that never became ready: %s", out);
	free(out);
	ck_assert_int_eq((int)fnum(cJSON_GetObjectItem(j, "summary"), "cycles_ok"), 1);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	ck_assert_msg(!strstr(md, "Across 1 restarts") &&
		      strstr(md, "- **Across restarts:** only 1 of the 2 cycles measured a start-up "
			     "and a cold request: no spread to give."), "%s", md);
	free(md);
}
END_TEST

/* One warm run of three fails (the fixture holds its first token past
 * --timeout): the spread is over the two that returned a token, and the
 * server's cached-token counts are there for those two. A review found
 * "over 3 warm runs" for a spread of 2 and "the server reported no
 * cached-token counts" beside two runs that had them. */
START_TEST(warm_wording_counts_what_was_measured)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --style llamacpp --first-ms 5 "
		 "--token-ms 1 --slow-request 3 --slow-ms 60000", tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "warm-wording-md");
	snprintf(extra, sizeof extra, "--warm-runs 3 --kind llamacpp --timeout 2 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 1);
	free(out);
	ck_assert_ptr_nonnull(j);
	cJSON *c = cycle_n(j, 0), *w = cJSON_GetObjectItem(c, "warm");
	ck_assert_int_eq(cJSON_GetArraySize(w), 3);
	ck_assert(isnan(fnum(cJSON_GetArrayItem(w, 1), "ttft_s")));
	ck_assert(!isnan(fnum(cJSON_GetArrayItem(w, 0), "ttft_s")) &&
		  !isnan(fnum(cJSON_GetArrayItem(w, 2), "ttft_s")));
	/* inside warm TTFT: each run's prefill and the rest of its own TTFT,
	 * over the 2 runs that have both (a review: the median TTFT less the
	 * median prefill, two runs' numbers made one) */
	double pf[2], rest[2];
	for (int i = 0; i < 2; i++) {
		cJSON *r = cJSON_GetArrayItem(w, 2 * i);
		pf[i] = fnum(r, "prefill_s");
		rest[i] = fnum(r, "ttft_s") - pf[i];
		ck_assert(!isnan(pf[i]) && !isnan(rest[i]));
	}
	char inside[256];
	snprintf(inside, sizeof inside, "the server reports %.4f s of prefill; the rest of each "
		 "run's TTFT, %.4f s (medians over the 2 warm runs with both)",
		 (pf[0] + pf[1]) / 2, (rest[0] + rest[1]) / 2);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	drop_siblings(rep); /* a failed cycle or request has no timeline */
	ck_assert_msg(strstr(md, inside), "not '%s' in:\n%s", inside, md);
	ck_assert_msg(strstr(md, "over the 2 of 3 warm runs that returned a token") &&
		      !strstr(md, "over 3 warm runs"), "%s", md);
	/* the warm table's figures are of 2 runs, and its count says so (a
	 * review: "| 1 | 3 |" beside a median of 1 of 3, two refused 429) */
	ck_assert_msg(strstr(md, "| 1 | 3 (2 of them with a TTFT: the figures are of those) |"),
		      "%s", md);
	ck_assert_msg(!strstr(md, "reported no cached-token counts") &&
		      strstr(md, "no warm run of the 2 warm runs it counted for found a cached "
			     "prompt token") && strstr(md, "For the other 1 it gave no cached-token "
			     "count"), "%s", md);
	free(md);
}
END_TEST

/* The only warm run fails (held past --timeout): the server's count for
 * the cold run is said, and the warm run's missing one (a review: "The
 * server reported no cached-token counts" beside a cold run that had
 * one, after a Ctrl-C in the first warm run). */
START_TEST(cold_runs_count_said_when_no_warm_run_has_one)
{
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --style llamacpp --first-ms 5 "
		 "--token-ms 1 --slow-request 2 --slow-ms 60000", tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "no-warm-count-md");
	snprintf(extra, sizeof extra, "--warm-runs 1 --kind llamacpp --timeout 2 --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 1);
	free(out);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	drop_siblings(rep); /* a failed cycle or request has no timeline */
	ck_assert_msg(!strstr(md, "reported no cached-token counts") &&
		      strstr(md, "The server counted 0 cached prompt tokens in the cold run but gave "
			     "no count for the 1 warm run"), "%s", md);
	free(md);
}
END_TEST

/* Under ttft-run (a subreaper that reaps only once its command ends), a
 * server started through a shell that stays its parent (`server …; true`):
 * at the stop the shell dies first and the server, adopted by ttft-run,
 * is a zombie there until ttft-cold ends. The stop is over when no member
 * of the group runs: not the whole --stop-timeout, a SIGKILL and 5 s more
 * (a review: the demo's report gave a 20 s "stop", and waited it). */
START_TEST(a_stop_under_a_subreaper_is_not_its_timeout)
{
	int port = tu_free_port();
	char cmd[2048], rep[256], *out;
	tu_tmp_log(rep, sizeof rep, "subreaper-md");
	snprintf(cmd, sizeof cmd,
		 "%s/ttft-run --quiet -- %s/ttft-cold --server '%s/fixture-server --port %d "
		 "--first-ms 5 --token-ms 1; true' --url http://127.0.0.1:%d --cycles 1 "
		 "--warm-runs 1 --kind vllm --max-tokens 4 --stop-timeout 30 --report %s 2>&1",
		 tu_build_dir(), tu_build_dir(), tu_build_dir(), port, port, rep);
	ck_assert_msg(tu_sh(cmd, &out) == 0, "%s", out);
	free(out);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	const char *st = strstr(md, "| stop (SIGTERM → all gone) | ");
	double stop = st ? atof(st + strlen("| stop (SIGTERM → all gone) | ")) : -1;
	ck_assert_msg(st && stop >= 0 && stop < 30, "the stop took %.3f s of its 30 s timeout: %s",
		      stop, md);
	free(md);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A process the server started outside its group (setsid: a daemon, a
 * supervisor's helper) keeps the server's stdout and stderr open after the
 * group is gone: ttft-cold must not wait for it to end (it waited as long
 * as the daemon lived, and no Ctrl-C ended the wait). */
START_TEST(escaped_daemon_holding_the_output)
{
	int port = tu_free_port();
	char pidf[256], srv[1024], *out;
	tu_tmp_log(pidf, sizeof pidf, "daemon-pid");
	snprintf(srv, sizeof srv, "setsid sh -c \"echo \\$\\$ > %s; exec sleep 120\" & "
		 "exec %s/fixture-server --port %d", pidf, tu_build_dir(), port);
	cJSON *j;
	double t0 = now_s();
	int rc = cold(srv, port, "--warm-runs 1 --kind vllm", &out, &j);
	double took = now_s() - t0;
	char *pid = tu_read_file(pidf, NULL);
	if (atoi(pid) > 0)
		kill(atoi(pid), SIGKILL);
	free(pid);
	unlink(pidf);
	ck_assert_msg(rc == 0, "exit %d: %s", rc, out);
	ck_assert_msg(took < 60, "took %.1f s: waited for the daemon", took);
	ck_assert_ptr_nonnull(j);
	free(out);
	cJSON_Delete(j);
}
END_TEST

/* With no output asked for there is no log directory: nothing may read
 * the one never set (ttft-cold formatted a path from an uninitialised
 * buffer: undefined, an over-read of the stack where it held no NUL).
 * Valgrind sees what the sanitizers do not. */
START_TEST(no_outputs_reads_nothing_unset)
{
	if (tu_sh("command -v valgrind >/dev/null", NULL) != 0) {
		printf("SKIP: test_cold: no valgrind on PATH (tools/deps.sh installs it): "
		       "1 test not run\n");
		fflush(stdout);
		return;
	}
	char cmd[1024], *out;
	/* a sanitizer's runtime and valgrind cannot share a process: make
	 * sanitize and make tsan leave this to make test */
	snprintf(cmd, sizeof cmd, "ldd %s/ttft-cold | grep -q 'lib[at]san'", tu_build_dir());
	if (tu_sh(cmd, NULL) == 0) {
		printf("SKIP: test_cold: valgrind cannot run a sanitizer build (make test "
		       "runs this one): 1 test not run\n");
		fflush(stdout);
		return;
	}
	int port = tu_free_port();
	snprintf(cmd, sizeof cmd, "valgrind -q --error-exitcode=99 %s/ttft-cold -q --server "
		 "'exit 3' --url http://127.0.0.1:%d --cycles 1 2>&1", tu_build_dir(), port);
	int rc = tu_sh(cmd, &out);
	ck_assert_msg(rc == 1 && strstr(out, "exited before it was ready"), "exit %d: %s", rc, out);
	ck_assert_msg(!strstr(out, "uninitialised"), "%s", out);
	free(out);
}
END_TEST

/* Ctrl-C while waiting for readiness: the server is stopped, exit 130. */
START_TEST(interrupt_while_starting)
{
	int port = tu_free_port();
	char cmd[512], sl[64], pat[128];
	unique_sleep(sl, sizeof sl, pat, sizeof pat, 9);
	snprintf(cmd, sizeof cmd, "exec %s/ttft-cold --server '%s' --url http://127.0.0.1:%d "
		 "--ready-timeout 300 --log-dir %s >/dev/null 2>&1", tu_build_dir(), sl, port,
		 tu_scratch());
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* wait until the server runs (polling: a loaded machine is slow) */
	int64_t deadline = ttft_now_ns() + 60 * (int64_t)1000000000;
	while (tu_sh(pat, NULL) != 0 && ttft_now_ns() < deadline)
		usleep(20000);
	ck_assert_int_eq(tu_sh(pat, NULL), 0);
	kill(p, SIGINT);
	int st;
	waitpid(p, &st, 0);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	ck_assert_int_ne(tu_sh(pat, NULL), 0);
}
END_TEST

/* Ctrl-C during a request: it is cancelled at once (not waited out), the
 * server stopped, the outputs replaced atomically and marked interrupted,
 * and the runs never made are not reported as failures. */
START_TEST(interrupt_cancels_the_request_in_flight)
{
	int port = tu_free_port();
	char dir[256], cmd[1536], rep[320], js[320];
	snprintf(dir, sizeof dir, "%s/interrupt", tu_scratch());
	mkdir(dir, 0755);
	snprintf(rep, sizeof rep, "%s/r.md", dir);
	snprintf(js, sizeof js, "%s/c.json", dir);
	FILE *f = fopen(rep, "w");
	fputs("OLD REPORT\n", f);
	fclose(f);
	/* each request streams for 9 × 5 s: far longer than any wait below,
	 * however slow the machine */
	snprintf(cmd, sizeof cmd, "exec %s/ttft-cold --server 'exec %s/fixture-server --port %d "
		 "--first-ms 10 --token-ms 5000' --url http://127.0.0.1:%d --cycles 3 "
		 "--warm-runs 4 --max-tokens 9 --kind vllm --report %s --json %s >/dev/null 2>&1",
		 tu_build_dir(), tu_build_dir(), port, port, rep, js);
	pid_t p = fork();
	if (p == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* ready, then one second into the cold request (45 s long) */
	char probe[256];
	snprintf(probe, sizeof probe, "curl -sf http://127.0.0.1:%d/health >/dev/null", port);
	int ready = 0;
	for (int i = 0; i < 200 && !ready; i++) {
		ready = tu_sh(probe, NULL) == 0;
		if (!ready)
			usleep(50000);
	}
	ck_assert_msg(ready, "the server never became ready");
	usleep(1000000);
	double t0 = now_s();
	kill(p, SIGINT);
	int st;
	waitpid(p, &st, 0);
	double took = now_s() - t0;
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	/* the request had about 44 s to go: it was cancelled, not waited for
	 * (the bound leaves a sanitizer build on a busy machine 20 s) */
	ck_assert_msg(took < 20.0, "exit took %.1f s after Ctrl-C", took);
	char *md = tu_read_file(rep, NULL);
	ck_assert_msg(!strstr(md, "OLD REPORT") && strstr(md, "**Interrupted**"), "%s", md);
	ck_assert_msg(!strstr(md, "cannot connect"), "%s", md);
	free(md);
	char *t = tu_read_file(js, NULL);
	cJSON *j = cJSON_Parse(t);
	free(t);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "interrupted")));
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "cycles")), 1);
	cJSON *c = cycle_n(j, 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(c, "interrupted")));
	cJSON *cr = cJSON_GetObjectItem(c, "cold");
	ck_assert_msg(strstr(cJSON_GetObjectItem(cr, "error")->valuestring, "interrupted"), "%s",
		      cJSON_GetObjectItem(cr, "error")->valuestring);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(c, "warm")), 0);
	cJSON_Delete(j);
	/* nothing else in the directory: no temporary files, the server's log */
	snprintf(cmd, sizeof cmd, "ls -A %s | sort | tr '\\n' ' '", dir);
	char *ls;
	tu_sh(cmd, &ls);
	/* the page and the variance chart beside the report; no start-up
	 * timeline, since no cycle ended */
	ck_assert_str_eq(ls, "c.json r-warm-variance.svg r.html r.md server-cycle1.log ");
	free(ls);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	tu_sh(cmd, NULL);
	snprintf(cmd, sizeof cmd, "pgrep -f 'fixture-serve[r] --port %d ' >/dev/null", port);
	ck_assert_int_ne(tu_sh(cmd, NULL), 0);
}
END_TEST

START_TEST(outlier_and_what_coincided)
{
	/* the 4th completion (run 4, the third warm one) is 200 ms slower,
	 * and the server says so in its log */
	int port = tu_free_port();
	char srv[512], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --first-ms 10 --token-ms 1 "
		 "--slow-request 4 --slow-ms 200", tu_build_dir(), port);
	tu_tmp_log(rep, sizeof rep, "outlier");
	snprintf(extra, sizeof extra, "--warm-runs 5 --kind vllm --report %s", rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	free(out);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	/* the report names exactly the warm runs its rule picks from their
	 * own TTFTs (at least 1.5× the median and 1 ms over it); run 4, which
	 * waited 200 ms more, is one of them */
	cJSON *warm = cJSON_GetObjectItem(cycle_n(j, 0), "warm"), *r;
	double t[5], sorted[5];
	int n = 0;
	cJSON_ArrayForEach(r, warm) {
		ck_assert_int_lt(n, 5);
		t[n] = sorted[n] = fnum(r, "ttft_s");
		n++;
	}
	ck_assert_int_eq(n, 5);
	double med = ttft_percentile(sorted, 5, 0.5);
	int outliers = 0;
	for (int i = 0; i < 5; i++) {
		char want[64];
		snprintf(want, sizeof want, "**Outlier:** cycle 1, warm run %d: TTFT %.4f", i + 2, t[i]);
		int is = t[i] >= 1.5 * med && t[i] - med >= 0.001;
		ck_assert_msg(!!strstr(md, want) == is, "run %d (ttft %.4f, median %.4f):\n%s",
			      i + 2, t[i], med, md);
		outliers += is;
	}
	ck_assert_msg(t[2] >= 1.5 * med, "run 4: %.4f s, median %.4f s", t[2], med);
	int listed = 0;
	for (const char *p = md; (p = strstr(p, "**Outlier:**")); p++)
		listed++;
	ck_assert_int_eq(listed, outliers);
	/* the reason the server logged is quoted with it */
	ck_assert_msg(strstr(md, "among them `fixture: request 4 is slow") != NULL, "%s", md);
	free(md);
	cJSON_Delete(j);
}
END_TEST

/* ttft-cold against a fixture whose run 3 (the second warm one) waits
 * 300 ms more, its line about it replaced by LINE (sed's replacement):
 * the report's outlier line for run 3, cut at its end (malloc'd). */
static char *run3_outlier_line(const char *line, const char *kind)
{
	int port = tu_free_port();
	char srv[640], *out, rep[256], extra[512];
	snprintf(srv, sizeof srv, "exec %s/fixture-server --port %d --first-ms 10 --token-ms 1 "
		 "--slow-request 3 --slow-ms 300 2>&1 | sed -u \"s/fixture: request .*/%s/\"",
		 tu_build_dir(), port, line);
	tu_tmp_log(rep, sizeof rep, "outlier3-md");
	snprintf(extra, sizeof extra, "--warm-runs 4 --kind %s --report %s", kind, rep);
	cJSON *j;
	ck_assert_int_eq(cold(srv, port, extra, &out, &j), 0);
	free(out);
	/* by the report's own rule (1.5× the median and 1 ms over it), run 3
	 * is an outlier */
	cJSON *warm = cJSON_GetObjectItem(cycle_n(j, 0), "warm");
	double t[4];
	for (int i = 0; i < 4; i++)
		t[i] = fnum(cJSON_GetArrayItem(warm, i), "ttft_s");
	double sorted[4] = {t[0], t[1], t[2], t[3]};
	double med = ttft_percentile(sorted, 4, 0.5);
	ck_assert_msg(t[1] >= 1.5 * med && t[1] - med >= 0.001, "run 3: %.4f s, median %.4f s",
		      t[1], med);
	cJSON_Delete(j);
	char *md = tu_read_file(rep, NULL);
	unlink(rep);
	siblings(rep);
	char *o = strstr(md, "**Outlier:** cycle 1, warm run 3");
	ck_assert_msg(o != NULL, "no outlier line for run 3");
	*strchr(o, '\n') = 0;
	char *line3 = strdup(o);
	free(md);
	return line3;
}

/* An outlier with only request chatter in the log: counted, not quoted. */
START_TEST(outlier_note_does_not_quote_noise)
{
	char *o = run3_outlier_line("srv  server_strea: conv_id= (empty=1)", "llamacpp");
	ck_assert_msg(strstr(o, "none of them a warning or a reason") && !strstr(o, "conv_id"),
		      "%s", o);
	free(o);
}
END_TEST

/* vLLM's warnings behind VLLM_LOGGING_PREFIX ("myapp:WARNING 11-30 …"):
 * the level sits after the prefix's own last character, not after a
 * space, and is still a warning to quote next to an outlier. */
START_TEST(outlier_quotes_a_prefixed_vllm_warning)
{
	char *o = run3_outlier_line("myapp:WARNING 11-30 12:00:00 [serving_chat.py:310] held "
				    "back by the client", "vllm");
	ck_assert_msg(strstr(o, "among them `myapp:WARNING 11-30 12:00:00 [serving_chat.py:310] "
				"held back by the client`"), "%s", o);
	free(o);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cold");
	TCase *u = tu_tcase(s, "decomposition", 60);
	tcase_add_test(u, vllm_v0_5_5);
	tcase_add_test(u, vllm_v0_6_4);
	tcase_add_test(u, vllm_v1_0_8_5);
	tcase_add_test(u, vllm_v1_tp4_copies_colours_progress);
	tcase_add_test(u, vllm_v1_0_11_odd_values);
	tcase_add_test(u, odd_lines_keep_the_sum);
	tcase_add_test(u, restart_inside_a_spawn);
	tcase_add_test(u, restart_stated_duration_stays_after_it);
	tcase_add_test(u, data_parallel_engines_are_copies);
	tcase_add_test(u, engines_of_other_sizes_are_a_range);
	tcase_add_test(u, lines_closer_than_stated_are_said);
	tcase_add_test(u, kind_of_a_log_line);
	tcase_add_test(u, kind_of_a_vllm_debug_log);
	tcase_add_test(u, clean_line_strips_escapes);
	tcase_add_test(u, llamacpp_patterns_on_real_logs);
	tcase_add_test(u, kind_of_llamacpp_under_each_prefix_setting);
	tcase_add_test(u, kind_of_a_vllm_log_with_a_prefix);
	tcase_add_test(u, flags_single_and_double_dash);
	TCase *t = tu_tcase(s, "cold", 300);
	tcase_add_test(t, vllm_startup_replayed);
	tcase_add_test(t, replayed_tp4_start_up);
	tcase_add_test(t, replayed_v0_start_up);
	tcase_add_test(t, replayed_odd_value_in_report);
	tcase_add_test(t, replayed_pipe_in_report_cells);
	tcase_add_test(t, cold_vs_warm_like_for_like);
	tcase_add_test(t, cold_extra_from_the_cache_is_not_warmup);
	tcase_add_test(t, three_cycles_by_default_and_the_spread);
	tcase_add_test(t, runs_tokens_from_events_are_at_least);
	tcase_add_test(t, refused_runs_have_no_token_count);
	tcase_add_test(t, engines_of_other_sizes_in_the_report);
	tcase_add_test(t, no_conclusion_when_cycles_disagree);
	tcase_add_test(t, refused_before_any_server_starts);
	tcase_add_test(t, server_exits_early);
	tcase_add_test(t, never_ready_leaves_nothing_running);
	tcase_add_test(t, port_in_use);
	tcase_add_test(t, patterns_that_match_nothing);
	tcase_add_test(t, kind_from_markers_not_a_path);
	tcase_add_test(t, vllm_start_up_with_a_logging_prefix);
	tcase_add_test(t, server_dies_during_the_runs);
	tcase_add_test(t, no_warm_ttft_no_comparison);
	tcase_add_test(t, no_token_streamed_is_a_failed_measurement);
	tcase_add_test(t, server_log_not_written_is_said);
	tcase_add_test(t, one_usable_cycle_gives_no_spread);
	tcase_add_test(t, warm_wording_counts_what_was_measured);
	tcase_add_test(t, cold_runs_count_said_when_no_warm_run_has_one);
	tcase_add_test(t, a_stop_under_a_subreaper_is_not_its_timeout);
	tcase_add_test(t, interrupt_while_starting);
	tcase_add_test(t, escaped_daemon_holding_the_output);
	tcase_add_test(t, no_outputs_reads_nothing_unset);
	tcase_add_test(t, interrupt_cancels_the_request_in_flight);
	tcase_add_test(t, outlier_and_what_coincided);
	tcase_add_test(t, outlier_note_does_not_quote_noise);
	tcase_add_test(t, outlier_quotes_a_prefixed_vllm_warning);
	return tu_run(s);
}
