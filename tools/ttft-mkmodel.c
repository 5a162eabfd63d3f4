/* ttft-mkmodel — write a random-weight GGUF of a real Qwen2 shape, with the
 * real Qwen2 tokenizer, using ggml's own gguf API.
 *
 * The text it generates is noise; its timings are real: the same tensor
 * shapes as the named model mean the same FLOPs per token, the same weight
 * bytes to load and the same KV-cache bytes per token (see docs/engine.md).
 *
 * Random weights tend to emit byte-fragment tokens that are not valid UTF-8,
 * and llama-server then cancels the stream. So the tied embedding is
 * arranged for plain ASCII word tokens to win: every such token's row gets
 * a shared direction u, prompts (ASCII) put u into the residual stream, and
 * the output projection (the same rows) then favours those tokens again.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ggml.h"
#include "gguf.h"
#include "ttft_version.h"

struct shape {
	const char *name, *hf_name;
	int n_embd, n_layer, n_head, n_head_kv, n_ff, n_ctx;
};

static const struct shape shapes[] = {
	/* general.name: ttft-cold reads it from llama-server's log and says
	 * plainly that the text is meaningless and the timings real */
	{"tiny", "Qwen2 tiny shape, random weights (ttft-mkmodel)", 128, 2, 4, 2, 256, 4096},
	{"qwen2.5-0.5b", "Qwen2.5-0.5B shape, random weights (ttft-mkmodel)", 896, 24, 14, 2,
	 4864, 32768},
	{"qwen2.5-1.5b", "Qwen2.5-1.5B shape, random weights (ttft-mkmodel)", 1536, 28, 12, 2,
	 8960, 32768},
};

static uint64_t g_rng;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic for a given --seed */
	g_rng ^= g_rng >> 12;
	g_rng ^= g_rng << 25;
	g_rng ^= g_rng >> 27;
	return g_rng * 2685821657736338717ull;
}

static float gauss(void)
{
	/* sum of 4 uniforms: cheap, near-normal, unit variance */
	double s = 0;
	for (int i = 0; i < 4; i++)
		s += (double)(rnd() >> 11) / 9007199254740992.0;
	return (float)((s - 2.0) * 1.7320508);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-mkmodel --vocab VOCAB.gguf --out MODEL.gguf [--shape NAME] [--seed N] [-q]\n"
"\n"
"Writes a random-weight Qwen2 model (F16) with the tokenizer of VOCAB.gguf\n"
"(llama.cpp's models/ggml-vocab-qwen2.gguf; tools/engine.sh src finds it).\n"
"Shapes: tiny (fast, for tests; default), qwen2.5-0.5b, qwen2.5-1.5b\n"
"(n_embd 1536, 28 layers, 12 heads, 2 KV heads, ffn 8960, tied embeddings).\n"
"The same seed gives the same file (N: a whole number, default 42). -q, --quiet:\n"
"no progress lines. --version prints the version.\n"
"exit status: 0 ok; 1 the model could not be written; 2 usage error (a bad\n"
"flag or value, a vocabulary that is not a GGUF vocabulary, an --out whose\n"
"directory cannot be written), found before any work.\n");
}

/* An ASCII word token: optional GPT-2 space marker (U+0120), 2-12 letters. */
static int plain_word(const char *t)
{
	if ((unsigned char)t[0] == 0xC4 && (unsigned char)t[1] == 0xA0)
		t += 2;
	size_t n = 0;
	for (; t[n]; n++)
		if (!((t[n] >= 'a' && t[n] <= 'z') || (t[n] >= 'A' && t[n] <= 'Z')))
			return 0;
	return n >= 2 && n <= 12;
}

struct writer {
	FILE *f;
	const char *path;
	size_t align;
};

static void put(struct writer *w, const void *p, size_t n)
{
	if (fwrite(p, 1, n, w->f) != n) {
		fprintf(stderr, "ttft-mkmodel: writing %s failed: %s (disk full?)\n",
			w->path, strerror(errno));
		fclose(w->f);
		remove(w->path);
		exit(1);
	}
}

static void pad(struct writer *w, size_t n)
{
	static const char zeros[64];
	size_t k = (w->align - n % w->align) % w->align;
	put(w, zeros, k);
}

/* Stream one F16 tensor of n values: std * gauss(), or a constant. */
static void write_f16(struct writer *w, size_t n, float std, float constant)
{
	ggml_fp16_t buf[4096];
	for (size_t i = 0; i < n;) {
		size_t k = n - i < 4096 ? n - i : 4096;
		for (size_t j = 0; j < k; j++)
			buf[j] = ggml_fp32_to_fp16(std > 0 ? std * gauss() : constant);
		put(w, buf, k * sizeof *buf);
		i += k;
	}
	pad(w, n * sizeof(ggml_fp16_t));
}

int main(int argc, char **argv)
{
	const char *vocab = NULL, *out = NULL, *shape_name = "tiny";
	unsigned long long seed = 42;
	int quiet = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("ttft-mkmodel (ttftshim %s)\n", TTFT_VERSION);
			return 0;
		}
		if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
			continue;
		}
		if (strcmp(a, "--vocab") && strcmp(a, "--out") && strcmp(a, "--shape") &&
		    strcmp(a, "--seed")) {
			fprintf(stderr, "ttft-mkmodel: unknown option %s (see ttft-mkmodel "
					"--help)\n", a);
			return 2;
		}
		if (!v) {
			fprintf(stderr, "ttft-mkmodel: %s needs a value\n", a);
			return 2;
		}
		i++;
		if (!strcmp(a, "--vocab")) vocab = v;
		else if (!strcmp(a, "--out")) out = v;
		else if (!strcmp(a, "--shape")) shape_name = v;
		else {
			char *end;
			errno = 0;
			seed = strtoull(v, &end, 10);
			if (!*v || *end || errno || *v == '-') {
				fprintf(stderr, "ttft-mkmodel: bad value '%s' for --seed: want a "
						"whole number of at least 0\n", v);
				return 2;
			}
		}
	}
	if (!vocab || !out) {
		fprintf(stderr, "ttft-mkmodel: %s is missing (see ttft-mkmodel --help)\n",
			!vocab ? "--vocab VOCAB.gguf" : "--out MODEL.gguf");
		return 2;
	}
	/* --out's directory must take a file, before the work */
	char probe[4200];
	snprintf(probe, sizeof probe, "%s.tmp", out);
	FILE *pf = fopen(probe, "wb");
	if (!pf) {
		fprintf(stderr, "ttft-mkmodel: cannot write --out %s: %s\n", out, strerror(errno));
		return 2;
	}
	fclose(pf);
	remove(probe);
	const struct shape *sh = NULL;
	for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
		if (!strcmp(shapes[i].name, shape_name))
			sh = &shapes[i];
	if (!sh) {
		fprintf(stderr, "ttft-mkmodel: unknown shape '%s' (tiny, qwen2.5-0.5b, "
				"qwen2.5-1.5b)\n", shape_name);
		return 2;
	}
	g_rng = seed * 0x9E3779B97F4A7C15ull + 1;

	struct gguf_init_params ip = {.no_alloc = true, .ctx = NULL};
	struct gguf_context *src = gguf_init_from_file(vocab, ip);
	if (!src) {
		fprintf(stderr, "ttft-mkmodel: %s is missing or not a GGUF file (want "
				"llama.cpp's models/ggml-vocab-qwen2.gguf)\n", vocab);
		return 2; /* an input named on the command line: usage */
	}
	int64_t tk = gguf_find_key(src, "tokenizer.ggml.tokens");
	if (tk < 0) {
		fprintf(stderr, "ttft-mkmodel: %s has no tokenizer.ggml.tokens\n", vocab);
		gguf_free(src);
		return 2;
	}
	size_t n_vocab = gguf_get_arr_n(src, tk);
	unsigned char *good = calloc(n_vocab, 1);
	size_t ngood = 0;
	for (size_t i = 0; i < n_vocab; i++)
		ngood += good[i] = (unsigned char)plain_word(gguf_get_arr_str(src, tk, i));

	struct gguf_context *g = gguf_init_empty();
	gguf_set_kv(g, src); /* the real tokenizer, its merges and special ids */
	gguf_set_val_str(g, "general.architecture", "qwen2");
	gguf_set_val_str(g, "general.name", sh->hf_name);
	gguf_set_val_u32(g, "general.file_type", 1); /* mostly F16 */
	gguf_set_val_u32(g, "qwen2.block_count", (uint32_t)sh->n_layer);
	gguf_set_val_u32(g, "qwen2.context_length", (uint32_t)sh->n_ctx);
	gguf_set_val_u32(g, "qwen2.embedding_length", (uint32_t)sh->n_embd);
	gguf_set_val_u32(g, "qwen2.feed_forward_length", (uint32_t)sh->n_ff);
	gguf_set_val_u32(g, "qwen2.attention.head_count", (uint32_t)sh->n_head);
	gguf_set_val_u32(g, "qwen2.attention.head_count_kv", (uint32_t)sh->n_head_kv);
	gguf_set_val_f32(g, "qwen2.rope.freq_base", 1000000.0f);
	gguf_set_val_f32(g, "qwen2.attention.layer_norm_rms_epsilon", 1e-6f);

	/* Tensor descriptors (no data) in a ggml context. */
	size_t n_tensors = 2 + (size_t)sh->n_layer * 12;
	struct ggml_init_params cp = {n_tensors * ggml_tensor_overhead(), NULL, true};
	struct ggml_context *ctx = ggml_init(cp);
	int E = sh->n_embd, KV = sh->n_embd / sh->n_head * sh->n_head_kv, F = sh->n_ff;
	struct spec {
		char name[64];
		int64_t ne0, ne1;
		enum ggml_type type;
		int kind; /* 0 random matrix, 1 ones (norm), 2 zeros (bias), 3 embedding */
	} *specs = calloc(n_tensors, sizeof *specs);
	size_t ns = 0;
#define T(nm, a, b, ty, k) do { snprintf(specs[ns].name, 64, "%s", nm); \
	specs[ns].ne0 = a; specs[ns].ne1 = b; specs[ns].type = ty; specs[ns].kind = k; ns++; } while (0)
	T("token_embd.weight", E, (int64_t)n_vocab, GGML_TYPE_F16, 3);
	T("output_norm.weight", E, 1, GGML_TYPE_F32, 1);
	for (int l = 0; l < sh->n_layer; l++) {
		char b[64];
#define L(suffix, a, bb, ty, k) do { snprintf(b, sizeof b, "blk.%d.%s", l, suffix); T(b, a, bb, ty, k); } while (0)
		L("attn_norm.weight", E, 1, GGML_TYPE_F32, 1);
		L("attn_q.weight", E, E, GGML_TYPE_F16, 0);
		L("attn_q.bias", E, 1, GGML_TYPE_F32, 2);
		L("attn_k.weight", E, KV, GGML_TYPE_F16, 0);
		L("attn_k.bias", KV, 1, GGML_TYPE_F32, 2);
		L("attn_v.weight", E, KV, GGML_TYPE_F16, 0);
		L("attn_v.bias", KV, 1, GGML_TYPE_F32, 2);
		L("attn_output.weight", E, E, GGML_TYPE_F16, 0);
		L("ffn_norm.weight", E, 1, GGML_TYPE_F32, 1);
		L("ffn_gate.weight", E, F, GGML_TYPE_F16, 0);
		L("ffn_up.weight", E, F, GGML_TYPE_F16, 0);
		L("ffn_down.weight", F, E, GGML_TYPE_F16, 0);
	}
	for (size_t i = 0; i < ns; i++) {
		struct ggml_tensor *t = specs[i].ne1 == 1
			? ggml_new_tensor_1d(ctx, specs[i].type, specs[i].ne0)
			: ggml_new_tensor_2d(ctx, specs[i].type, specs[i].ne0, specs[i].ne1);
		ggml_set_name(t, specs[i].name);
		gguf_add_tensor(g, t);
	}

	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	struct writer w = {fopen(tmp, "wb"), tmp, gguf_get_alignment(g)};
	if (!w.f) {
		fprintf(stderr, "ttft-mkmodel: cannot create %s: %s\n", tmp, strerror(errno));
		return 1;
	}
	size_t meta = gguf_get_meta_size(g);
	void *mbuf = malloc(meta);
	gguf_get_meta_data(g, mbuf);
	put(&w, mbuf, meta);
	free(mbuf);

	/* The shared direction u for plain word tokens (see the top). */
	float *u = malloc((size_t)E * sizeof *u);
	double un = 0;
	for (int i = 0; i < E; i++) {
		u[i] = gauss();
		un += (double)u[i] * u[i];
	}
	for (int i = 0; i < E; i++)
		u[i] = (float)(u[i] / sqrt(un) * 2.0);
	if (!quiet)
		fprintf(stderr, "ttft-mkmodel: %s, %zu tokens (%zu plain words), %zu tensors -> %s\n",
		sh->name, n_vocab, ngood, ns, out);
	for (size_t i = 0; i < ns; i++) {
		const struct spec *s = &specs[i];
		size_t n = (size_t)(s->ne0 * s->ne1);
		if (s->type == GGML_TYPE_F32) {
			float v = s->kind == 1 ? 1.0f : 0.0f, buf[1024];
			for (size_t k = 0; k < 1024; k++)
				buf[k] = v;
			for (size_t k = 0; k < n; k += 1024)
				put(&w, buf, (n - k < 1024 ? n - k : 1024) * sizeof(float));
			pad(&w, n * sizeof(float));
		} else if (s->kind == 3) {
			ggml_fp16_t *row = malloc((size_t)E * sizeof *row);
			for (size_t r = 0; r < n_vocab; r++) {
				for (int c = 0; c < E; c++)
					row[c] = ggml_fp32_to_fp16(0.02f * gauss() + (good[r] ? u[c] : 0));
				put(&w, row, (size_t)E * sizeof *row);
			}
			pad(&w, n * sizeof(ggml_fp16_t));
			free(row);
		} else {
			/* small enough that the residual stream keeps its u */
			write_f16(&w, n, 0.02f / sqrtf((float)sh->n_layer), 0);
		}
		if (!quiet && ns > 50 && i % (ns / 10) == 0)
			fprintf(stderr, "  %zu%%\n", i * 100 / ns);
	}
	if (fclose(w.f) != 0 || rename(tmp, out) != 0) {
		fprintf(stderr, "ttft-mkmodel: finishing %s failed: %s\n", out, strerror(errno));
		remove(tmp);
		return 1;
	}
	gguf_free(g);
	gguf_free(src);
	ggml_free(ctx);
	free(specs), free(good), free(u);
	return 0;
}
