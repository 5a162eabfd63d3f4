/* cold_knobs.c — the report's knobs paragraph (what each server flag
 * trades, with this run's numbers as the server logged or ran them) and
 * its note on the model. */
#include "cold_md.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cold_stats.h"

/* A flag's value as the server ran it ("--max-model-len 4096",
 * "--max-model-len=4096", "-c 4096"), or NULL. */
static const char *flag_value(const char *argv, const char *const *names, char *out, size_t n)
{
	if (!argv)
		return NULL;
	for (size_t i = 0; names[i]; i++) {
		size_t l = strlen(names[i]);
		for (const char *p = argv; (p = strstr(p, names[i])); p += l) {
			if (p != argv && p[-1] != ' ')
				continue;
			if (p[l] != ' ' && p[l] != '=')
				continue;
			const char *v = p + l + 1;
			size_t k = strcspn(v, " ");
			if (!k || k >= n)
				continue;
			memcpy(out, v, k);
			out[k] = 0;
			return out;
		}
	}
	return NULL;
}

/* ---- the knobs ---- */

static void knobs_vllm(struct ttft_str *b, const struct cold_run *run)
{
	const char *argv = cold_run_argv(run);
	char v1[64], v2[64], v3[64];
	double mem = cold_info_num(run, "model_memory_gib"), wl = cold_phase_median(run, "weight_load");
	double tokens = cold_info_num(run, "kv_cache_tokens"), blocks = cold_info_num(run, "gpu_blocks");
	double bs = cold_info_num(run, "block_size"), conc = cold_info_num(run, "max_concurrency");
	double kvgib = cold_info_num(run, "kv_cache_memory_gib");
	const char *mml = flag_value(argv, (const char *const[]){"--max-model-len", NULL}, v1,
				     sizeof v1);
	double len = mml ? atof(mml) : cold_info_num(run, "max_model_len");
	const char *gmu = flag_value(argv, (const char *const[]){"--gpu-memory-utilization",
								NULL}, v2, sizeof v2);
	double util = gmu ? atof(gmu) : cold_info_num(run, "gpu_memory_utilization");
	const char *seqs = flag_value(argv, (const char *const[]){"--max-num-seqs", NULL}, v3,
				      sizeof v3);
	ttft_str_printf(b, "**Model size** sets the weights load and what memory is left for the KV "
			   "cache: ");
	/* under tensor (or data) parallelism each rank logs its own share */
	const struct cold_info *memi = cold_info_rec(run, "model_memory_gib");
	const struct cold_info *kvi = cold_info_rec(run, "kv_cache_memory_gib");
	const struct cold_info *ti = cold_info_rec(run, "kv_cache_tokens");
	if (!isnan(mem) && memi && memi->copies > 1 && memi->differ && !isnan(memi->min))
		ttft_str_printf(b, "the weights took %.2f to %.2f GiB on the %d processes that "
				   "loaded them here (each logged its own GPU's: they differ)",
				memi->min, memi->max, memi->copies);
	else if (!isnan(mem) && memi && memi->copies > 1)
		ttft_str_printf(b, "the weights took %.2f GiB on each of the %d processes that "
				   "loaded them here (each logged its own GPU's)", mem,
				memi->copies);
	else if (!isnan(mem))
		ttft_str_printf(b, "the weights took %.2f GiB here", mem);
	else
		ttft_str_printf(b, "the log did not state the weights' memory");
	/* the decomposition's duration (arrival, cut to fit its parent) is
	 * not the load's length where the server's own line says far
	 * otherwise: both are given */
	double wst = cold_phase_stated_median(run, "weight_load");
	if (!isnan(wl) && !isnan(wst) && (wst > 1.5 * wl + 0.5 || wl > 1.5 * wst + 0.5))
		ttft_str_printf(b, " and %.2f s to load by its lines' arrival, where the server's "
				   "own line states %.2f s (the decomposition's notes say why)",
				wl, wst);
	else if (!isnan(wl))
		ttft_str_printf(b, " and %.2f s to load", wl);
	ttft_str_printf(b, ". **--max-model-len** is the longest request the server accepts");
	if (!isnan(len))
		ttft_str_printf(b, " (%.0f here%s)", len, mml ? "" : ", as the engine logged it");
	if (isnan(tokens) && !isnan(blocks)) {
		int guessed = isnan(bs);
		if (guessed)
			bs = 16;
		tokens = blocks * bs;
		ttft_str_printf(b, "; the KV cache holds %.0f blocks × %.0f tokens = %.0f tokens "
				   "(V0 logs blocks; %s)", blocks, bs, tokens, guessed
				? "block size 16 is vLLM's default: the log did not state it"
				: "block size as logged");
	} else if (!isnan(tokens)) {
		if (ti && ti->differ && !isnan(ti->min) && ti->copies > 1) /* engines of other sizes */
			ttft_str_printf(b, "; the KV cache holds %.0f to %.0f tokens in the %d "
					   "engines that logged it (they differ: the smallest below)",
					ti->min, ti->max, ti->copies);
		else if (ti && ti->differ && !isnan(ti->min))
			ttft_str_printf(b, "; the KV cache holds %.0f to %.0f tokens as the log "
					   "gives it (several values: the smallest below)",
					ti->min, ti->max);
		else if (ti && ti->copies > 1) /* data parallel: an engine each */
			ttft_str_printf(b, "; the KV cache holds %.0f tokens in each of the %d "
					   "engines that logged it", tokens, ti->copies);
		else
			ttft_str_printf(b, "; the KV cache holds %.0f tokens", tokens);
		if (!isnan(kvgib) && kvi && kvi->differ && !isnan(kvi->min))
			ttft_str_printf(b, " (%.2f to %.2f GiB: every rank logged its own)",
					kvi->min, kvi->max);
		else if (!isnan(kvgib))
			ttft_str_printf(b, " (%.2f GiB%s)", kvgib,
					kvi && kvi->copies > 1 ? " on each GPU: every rank "
					"logged its own" : "");
	}
	int engines = ti && ti->copies > 1 ? ti->copies : 1;
	if (!isnan(tokens) && !isnan(len) && len > 0)
		ttft_str_printf(b, ", so at most %.2f requests of full length fit at once%s%s",
				tokens / len, ti && ti->differ && !isnan(ti->min)
				? " in the smallest engine" : engines > 1 ? " in each engine" : "",
				!isnan(conc) ? "" : " (computed: tokens ÷ max-model-len)");
	if (!isnan(conc))
		ttft_str_printf(b, " (vLLM logged %.2fx)", conc);
	ttft_str_printf(b, "; shorter requests share it, so more of them run together. "
			   "**--gpu-memory-utilization** (");
	if (!isnan(util))
		ttft_str_printf(b, "%.2f here", util);
	else
		ttft_str_printf(b, "not set: vLLM's default 0.9");
	ttft_str_printf(b, ") is the share of GPU memory vLLM takes: the KV cache gets what the "
			   "weights and the profiling run leave of it — higher fits more concurrent "
			   "requests, lower leaves room for other processes on the GPU. **Batching** "
			   "(--max-num-seqs");
	if (seqs)
		ttft_str_printf(b, " %s here", seqs);
	ttft_str_printf(b, ", --max-num-batched-tokens) caps the requests and prompt tokens of one "
			   "engine step: bigger batches raise throughput, but a long prefill in the "
			   "same step delays the others' first tokens (chunked prefill bounds that). "
			   "**Start-up:** torch.compile and CUDA-graph capture");
	double tc = cold_phase_median(run, "torch_compile"), gc = cold_phase_median(run, "graph_capture");
	if (!isnan(tc) || !isnan(gc))
		ttft_str_printf(b, " (%.2f s here)", (isnan(tc) ? 0 : tc) + (isnan(gc) ? 0 : gc));
	ttft_str_printf(b, " make warm requests faster; --enforce-eager skips them: a shorter "
			   "restart, a slower warm TTFT and decode.\n");
}

static void knobs_llamacpp(struct ttft_str *b, const struct cold_run *run)
{
	double mib = cold_info_num(run, "model_buffer_mib"), wl = cold_phase_median(run, "weight_load");
	double cells = cold_info_num(run, "kv_cache_cells"), slots = cold_info_num(run, "n_slots");
	double slot_ctx = cold_info_num(run, "n_ctx_slot"), kvmib = cold_info_num(run, "kv_cache_mib");
	double nb = cold_info_num(run, "n_batch"), nub = cold_info_num(run, "n_ubatch");
	ttft_str_printf(b, "**Model size** sets the weights load: ");
	const struct cold_info *mi = cold_info_rec(run, "model_buffer_mib");
	if (!isnan(mib) && mi && mi->lines > 1)
		ttft_str_printf(b, "%.2f MiB of model buffers here (the %d the server logged, "
				   "host and devices, added up: a tensor held in two, such as a tied "
				   "embedding, counts twice)", mib, mi->lines);
	else if (!isnan(mib))
		ttft_str_printf(b, "%.2f MiB of weights here", mib);
	else
		ttft_str_printf(b, "the log did not state the model buffer");
	if (!isnan(wl))
		ttft_str_printf(b, ", loaded in %.3f s", wl);
	ttft_str_printf(b, ". **-c** is the KV cache");
	if (!isnan(cells))
		ttft_str_printf(b, " (%.0f cells here%s)", cells, !isnan(kvmib) ? "" : "");
	if (!isnan(kvmib))
		ttft_str_printf(b, ", %.2f MiB of memory", kvmib);
	ttft_str_printf(b, "; **-np** slots divide it");
	if (!isnan(slots))
		ttft_str_printf(b, " (%.0f slot%s here", slots, slots == 1 ? "" : "s");
	if (!isnan(slot_ctx))
		ttft_str_printf(b, ", %.0f tokens each", slot_ctx);
	if (!isnan(slots))
		ttft_str_printf(b, ")");
	ttft_str_printf(b, ": at most that many requests run at once, each up to its slot's "
			   "tokens; the next one waits for a free slot, and its TTFT grows by whole "
			   "requests. A bigger -c costs memory and allocation time at start-up. "
			   "**Batching:** -b/-ub");
	if (!isnan(nb) && !isnan(nub))
		ttft_str_printf(b, " (%.0f / %.0f here)", nb, nub);
	ttft_str_printf(b, " set the chunks a prompt is prefilled in: bigger chunks prefill faster "
			   "and take more compute buffer. The **prompt cache** (on by default; "
			   "--cache-ram for the RAM copy) lets a repeated prefix skip prefill: "
			   "what makes same-prompt warm runs look faster than they are.\n");
}

/* ---- the model (a Server Config cell) ---- */

void cold_md_model_note(struct ttft_str *b, const struct cold_run *run)
{
	const char *name = cold_info_of(run, "model_name");
	if (name && (strstr(name, "random weights") || strstr(name, "ttft-mkmodel"))) {
		ttft_str_printf(b, "**This model has random weights:** %s", name);
		const char *keys[][2] = {{"n_embd", "embedding width"}, {"n_layer", "layers"},
					 {"n_head", "attention heads"}, {"n_head_kv", "KV heads"},
					 {"n_ff", "feed-forward width"}, {"model_params", "parameters"},
					 {"model_file_size", "file size"}};
		int k = 0;
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
			const char *v = cold_info_of(run, keys[i][0]);
			if (v)
				ttft_str_printf(b, "%s%s %s", k++ ? ", " : " — its shape: ", keys[i][1], v);
		}
		ttft_str_printf(b, ". Its text is meaningless; its timings are real: prefill and decode "
				   "cost what this shape costs (the same matrix sizes, the same bytes "
				   "to read per token), whatever the weights hold.\n");
	} else if (name) {
		ttft_str_printf(b, "The model, as the server names it: %s.\n", name);
	}
}

void cold_md_knobs(struct ttft_str *b, const struct cold_run *run)
{
	if (cold_is_vllm(run))
		knobs_vllm(b, run);
	else if (!strcmp(run->kind, "llamacpp"))
		knobs_llamacpp(b, run);
	else
		ttft_str_printf(b, "The server's kind is unknown (pass --kind), so its knobs are not "
				     "described.\n");
}
