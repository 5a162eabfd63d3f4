/* cold_phases.h — cold-start phases from a server's own log lines, driven
 * by a pattern file per server kind (tools/patterns/KIND.tsv): which lines
 * open and close each phase, which phase contains which (vLLM's model load
 * contains its weights load; its engine initialisation contains
 * torch.compile and CUDA-graph capture), and a plain title and one-line
 * meaning for each. The decomposition keeps one rule: the top-level phases
 * plus what no line explains add up to spawn → ready, exactly. */
#ifndef TTFT_COLD_PHASES_H
#define TTFT_COLD_PHASES_H

#include <regex.h>
#include <stddef.h>

#include "cold_server.h"

#define COLD_MAX_PHASES 32
#define COLD_MAX_INFOS 48

/* What a phase is spent on, as a cold start is usually explained: loading
 * weights, warming the runtime up (compile, graph capture, a first run),
 * allocating memory (profiling, KV cache, buffers), and starting the
 * process and its HTTP server. */
enum cold_cat {
	COLD_CAT_OTHER,
	COLD_CAT_WEIGHTS,
	COLD_CAT_WARMUP,
	COLD_CAT_ALLOC,
	COLD_CAT_STARTUP,
	COLD_CAT__N
};
/* "weights load", "runtime warm-up", "allocations", "start-up", "other" */
const char *cold_cat_name(int cat);

struct cold_pattern {
	int is_info;
	int is_restart;            /* a line that (re)starts the server */
	int sum;                   /* infosum: the sum over its lines */
	char name[64];
	char parent[64];           /* "" = top level */
	int category;
	int has_start, has_stated;
	regex_t start, end, stated;
	double unit;               /* seconds per stated unit */
};

struct cold_about {
	char name[64];
	char title[80];
	char meaning[240];
};

struct cold_patterns {
	struct cold_pattern *p;    /* rows of one name are alternatives, in order */
	size_t n;
	struct cold_about *about;
	size_t nabout;
	char path[512];
};

struct cold_phase {
	char name[64];
	char title[80];
	char meaning[240];
	int category;
	int parent;                /* index into the phases, -1: top level */
	int depth;
	int found;
	int copies;                /* processes that logged its end (TP ranks) */
	double start_s, end_s;     /* since spawn, after nesting and overlaps */
	double duration_s;         /* end - start: what the decomposition counts */
	double arrival_s;          /* START line → END line, NAN without START */
	double stated_s;           /* what the END line states, NAN if nothing */
	double clipped_s;          /* cut to stay inside its parent / apart
				    * from its siblings */
	char note[200];
};

struct cold_info {
	char name[64];
	char value[512];
	int copies;                /* processes that logged it (ranks) */
	int lines;                 /* lines summed (infosum) */
	int differ;                /* not an infosum: its lines gave other
	                              values than the first (ranks or engines
	                              of other sizes): value is the smallest,
	                              min and max the range (numbers only;
	                              else the first line's, min/max NAN) */
	double min, max;
};

struct cold_decomp {
	struct cold_phase phases[COLD_MAX_PHASES];
	size_t nphases, found;
	/* display order: top-level phases by start, each followed by its
	 * children (depth first) */
	int order[COLD_MAX_PHASES];
	size_t norder;
	struct cold_info infos[COLD_MAX_INFOS];
	size_t ninfo;
	double total_s;            /* spawn → ready, NAN if never ready */
	double unaccounted_s;      /* total - the top-level durations */
	double first_line_s;       /* spawn → the server's first line, NAN */
	/* how many times the server started inside this spawn (a start line
	 * of the pattern file's "restart" rows seen again from the same
	 * process name: a crash and restart); the phases and infos are the
	 * last start's, which began at last_start_s */
	int starts;
	double last_start_s;
};

/* Load a pattern file; -1 with a message in err. */
int cold_patterns_load(struct cold_patterns *ps, const char *path, char *err, size_t errlen);
void cold_patterns_free(struct cold_patterns *ps);

/* Match the lines (arrival order, times relative to t_spawn) up to ready_s
 * (NAN: the server never became ready; all lines are used and no sum is
 * made) and build the decomposition. */
void cold_decompose(const struct cold_patterns *ps, const struct cold_line *lines,
		    size_t nlines, long long t_spawn, double ready_s, struct cold_decomp *d);

/* Where the last start begins among lines (index; 0: one start), by the
 * pattern file's restart rows, as cold_decompose finds it; *starts: how
 * many starts the lines hold. */
size_t cold_last_start(const struct cold_patterns *ps, const struct cold_line *lines, size_t n,
		       int *starts);

/* The default pattern file of a server kind: tools/patterns/KIND.tsv of
 * the tree the running executable was built in (its directory's parent),
 * else that path relative to the working directory. Returns buf. */
const char *cold_patterns_path(const char *kind, char *buf, size_t n);

/* The value of info NAME, or NULL. */
/* An info's value as a number, thousands' commas skipped (whole: the
 * whole value, else its leading number); NAN: none. */
double cold_info_number(const char *v, int whole);
const char *cold_info(const struct cold_decomp *d, const char *name);

/* Remove terminal escape sequences (colours around vLLM's process prefix,
 * cursor moves of progress bars) from s in place; returns the new length. */
size_t cold_clean_line(char *s, size_t n);

/* Which process printed a line, by vLLM's prefix without its pid:
 * "(EngineCore_DP1 " for a data-parallel engine, "(VllmWorker rank=2 " for
 * a tensor-parallel rank; "" for a line without one (the main process). */
void cold_process_name(const char *line, char *name, size_t n);

/* "vllm" or "llamacpp" from the lines (markers only that server prints,
 * never a word inside a path), or NULL. */
const char *cold_detect_kind(const struct cold_line *lines, size_t n);

#endif
