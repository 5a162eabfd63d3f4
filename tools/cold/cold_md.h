/* cold_md.h — the sections of ttft-cold's Markdown report, each appended
 * to a growing string (ttft_str.h): the template's placeholders
 * (docs/cold-start.md) filled by cold_report.c. */
#ifndef TTFT_COLD_MD_H
#define TTFT_COLD_MD_H

#include "cold.h"
#include "ttft_str.h"

/* A table cell " - |" for NAN, else v through fmt. */
void cold_md_num_cell(struct ttft_str *b, double v, const char *fmt);

/* cold_findings.c */
/* Where spawn → ready of cycle c went, phase by phase. */
void cold_md_decomposition(struct ttft_str *b, const struct cold_run *run,
			   const struct cold_cycle *c);
/* Whether cold and warm runs were like for like (prompts, cache hits). */
void cold_md_comparison(struct ttft_str *b, const struct cold_run *run);
/* Busy host, cold vs warm, largest phase, unaccounted time, warm
 * stability and outliers, inside warm TTFT, across restarts. */
void cold_md_observations(struct ttft_str *b, const struct cold_run *run);
void cold_md_mental_model(struct ttft_str *b, const struct cold_run *run);
void cold_md_sre(struct ttft_str *b, const struct cold_run *run);

/* cold_knobs.c */
/* What the server's flags trade, with this run's numbers. */
void cold_md_knobs(struct ttft_str *b, const struct cold_run *run);
/* The model as the server names it; a random-weights model's shape. */
void cold_md_model_note(struct ttft_str *b, const struct cold_run *run);

#endif
