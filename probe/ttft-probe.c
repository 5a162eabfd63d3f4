/* ttft-probe — measure TTFT the way a careful engineer would: a native
 * libcurl client, timestamps in the write callback, cold/warm series,
 * concurrency on one thread, JSONL out. */
#include "probe.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttft_analyze.h"
#include "ttft_scrape.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-probe [--url URL] [--prompt TEXT | --prompt-file F] [options]\n"
"\n"
"Sends completions to an OpenAI-compatible server (vLLM, llama.cpp) and\n"
"times each one: ttft_s is the first SSE event carrying a non-empty token\n"
"(not the headers, not the chat role chunk), stamped with CLOCK_MONOTONIC\n"
"in libcurl's write callback.\n"
"\n"
"  --url URL            server (default http://127.0.0.1:8000)\n"
"  --prompt TEXT        prompt (default \"Explain TTFT in one sentence.\")\n"
"  --prompt-file F      read the prompt from F ('-' = stdin)\n"
"  --max-tokens N       default 64\n"
"  --model M            default: the first model of /v1/models\n"
"  --chat               /v1/chat/completions (default /v1/completions)\n"
"  --no-stream          one JSON answer (ttft_s = e2e_s then)\n"
"  --ignore-eos         ask the server to ignore EOS (vLLM, llama.cpp)\n"
"  --temperature T      default 0\n"
"  --header 'K: V'      extra request header, repeatable (Authorization…)\n"
"  --timeout S          per-request limit in seconds (default 120)\n"
"  --runs N             sequential requests (default 1)\n"
"  --cold               the server was just restarted: run 1 is \"cold\"\n"
"  --concurrency C      C streams at once (with --requests N)\n"
"  --requests N         total requests for --concurrency (default C)\n"
"  --json FILE          one JSON object per request, then {\"summary\":…};\n"
"                       '-' = stdout (the table then goes to stderr)\n"
"  --text               keep the generated text in the JSON (\"text\")\n"
"  --metrics MODE       auto (default: when the server has /metrics), on, off:\n"
"                       scrape /metrics around each request for the server's\n"
"                       own queue / prefill / decode (vLLM histograms, llama.cpp\n"
"                       counters); under --concurrency, sampled while the\n"
"                       streams run and joined to each request where a window\n"
"                       provably holds it alone (docs/server-truth.md)\n"
"  --metrics-interval MS  under --concurrency, sample /metrics this often\n"
"                       (default %d)\n"
"  --calibrate FILE     fit TTFT = a + b * prompt_tokens at concurrency 1 over\n"
"                       prompts of 4 lengths (5 runs each), write it to FILE\n"
"  --fit FILE           for a server that explains nothing: report the TTFT\n"
"                       above that fit as estimated queue_s (split_source model)\n"
"  -q, --quiet          no table\n"
"  -h, --help           this text\n"
"\n"
"Every request carries a W3C traceparent header with a random trace id\n"
"(trace_id in the JSON; your own --header 'traceparent: …' is kept instead):\n"
"vLLM's OpenTelemetry llm_request span for it has the same trace id.\n"
"Under the shim (ttft-run -- ttft-probe …) the probe also marks, in the\n"
"shim's log, when it saw each first token; ttft-analyze shows the gap.\n"
"exit status: 0 all requests ok; 1 a request failed (its record keeps the\n"
"error); 2 bad usage or the server could not be asked at all.\n",
		TTFT_SCRAPE_INTERVAL_MS);
}

static char *read_prompt(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "ttft-probe: cannot read --prompt-file %s: %s\n", path,
			strerror(errno));
		exit(2);
	}
	size_t cap = 4096, n = 0;
	char *b = malloc(cap);
	size_t r;
	while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (n + 1 == cap)
			b = realloc(b, cap *= 2);
	}
	b[n] = 0;
	if (f != stdin)
		fclose(f);
	return b;
}

static void num(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

static cJSON *record(const struct probe_result *r, int64_t t0, int keep_text,
		     const struct probe_fit *fit)
{
	cJSON *o = cJSON_CreateObject();
	double p50, p99;
	probe_itl(r, &p50, &p99);
	cJSON_AddNumberToObject(o, "run", r->run);
	cJSON_AddStringToObject(o, "label", r->label);
	cJSON_AddBoolToObject(o, "ok", r->ok);
	if (r->ok)
		cJSON_AddNullToObject(o, "error");
	else
		cJSON_AddStringToObject(o, "error", r->error);
	num(o, "ttft_s", probe_ttft_s(r));
	num(o, "e2e_s", probe_e2e_s(r));
	cJSON_AddNumberToObject(o, "tokens", (double)probe_tokens(r));
	num(o, "itl_p50_s", p50);
	num(o, "itl_p99_s", p99);
	num(o, "dns_s", r->dns_s);
	num(o, "connect_s", r->connect_s);
	num(o, "pretransfer_s", r->pretransfer_s);
	num(o, "starttransfer_s", r->starttransfer_s);
	num(o, "start_offset_s", (double)(r->t_start - t0) / 1e9);
	cJSON_AddNumberToObject(o, "http_status", (double)r->http_status);
	if (r->trace_id[0])
		cJSON_AddStringToObject(o, "trace_id", r->trace_id);
	else
		cJSON_AddNullToObject(o, "trace_id");
	struct probe_split sp;
	probe_split_of(r, fit, &sp);
	num(o, "queue_s", sp.queue_s);
	num(o, "prefill_s", sp.prefill_s);
	num(o, "server_other_s", sp.server_other_s);
	num(o, "network_s", r->network_s);
	num(o, "server_decode_s", sp.decode_s);
	num(o, "prefix_cache_hit_tokens", sp.hit_tokens);
	num(o, "server_ttft_s", sp.server_ttft_s);
	if (sp.source)
		cJSON_AddStringToObject(o, "split_source", sp.source);
	else
		cJSON_AddNullToObject(o, "split_source");
	if (sp.note)
		cJSON_AddStringToObject(o, "split_note", sp.note);
	if (keep_text)
		cJSON_AddStringToObject(o, "text", r->text ? r->text : "");
	return o;
}

struct pct {
	double min, p50, p90, p99, max;
};

static struct pct pct_of(double *v, size_t n)
{
	struct pct p;
	p.p50 = ttft_percentile(v, n, 0.5);
	p.p90 = ttft_percentile(v, n, 0.9);
	p.p99 = ttft_percentile(v, n, 0.99);
	p.min = n ? v[0] : NAN;
	p.max = n ? v[n - 1] : NAN;
	return p;
}

static cJSON *pct_json(struct pct p)
{
	cJSON *o = cJSON_CreateObject();
	num(o, "min", p.min);
	num(o, "p50", p.p50);
	num(o, "p90", p.p90);
	num(o, "p99", p.p99);
	num(o, "max", p.max);
	return o;
}

static int load_fit(const char *path, struct probe_fit *f)
{
	FILE *fp = fopen(path, "r");
	char buf[8192];
	size_t n = fp ? fread(buf, 1, sizeof buf - 1, fp) : 0;
	if (fp)
		fclose(fp);
	buf[n] = 0;
	cJSON *j = cJSON_Parse(buf);
	cJSON *a = cJSON_GetObjectItem(j, "a_s"), *b = cJSON_GetObjectItem(j, "b_s_per_token");
	if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) {
		fprintf(stderr, "ttft-probe: --fit %s is not a calibration file (write one "
				"with --calibrate %s)\n", path, path);
		cJSON_Delete(j);
		return -1;
	}
	f->a_s = a->valuedouble;
	f->b_s = b->valuedouble;
	f->ok = 1;
	cJSON_Delete(j);
	return 0;
}

/* Prompts of 1, 4, 16 and 64 copies of --prompt; the median TTFT of 5 runs
 * at each length against usage.prompt_tokens; least squares. */
static int run_calibration(struct probe_cfg *cfg, const char *path)
{
	static const int reps[] = {1, 4, 16, 64};
	double x[4], y[4];
	const char *base = cfg->prompt;
	cJSON *root = cJSON_CreateObject(), *pts = cJSON_AddArrayToObject(root, "points");
	int max_tokens = cfg->max_tokens;
	cfg->max_tokens = 1;
	for (int k = 0; k < 4; k++) {
		size_t bl = strlen(base);
		char *pr = malloc((bl + 1) * (size_t)reps[k] + 1);
		pr[0] = 0;
		for (int i = 0; i < reps[k]; i++) {
			strcat(pr, base);
			strcat(pr, " ");
		}
		cfg->prompt = pr;
		enum { RUNS = 5 };
		struct probe_result r[RUNS];
		memset(r, 0, sizeof r);
		int failed = probe_run(cfg, r, RUNS, 1, 0);
		double t[RUNS];
		const char *why = "the server reports no usage.prompt_tokens";
		for (int i = 0; i < RUNS; i++) {
			t[i] = probe_ttft_s(&r[i]);
			if (!r[i].ok)
				why = r[i].error;
		}
		x[k] = (double)r[0].prompt_tokens;
		y[k] = ttft_percentile(t, RUNS, 0.5);
		int bad = failed || r[0].prompt_tokens < 0;
		if (bad)
			fprintf(stderr, "ttft-probe: calibration failed: %s\n", why);
		for (int i = 0; i < RUNS; i++)
			probe_result_free(&r[i]);
		free(pr);
		if (bad) {
			cJSON_Delete(root);
			return 1;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "prompt_tokens", x[k]);
		cJSON_AddNumberToObject(o, "ttft_s", y[k]);
		cJSON_AddItemToArray(pts, o);
		fprintf(stderr, "  %6.0f prompt tokens: ttft %.4f s\n", x[k], y[k]);
	}
	cfg->max_tokens = max_tokens;
	struct probe_fit f;
	if (probe_fit_points(x, y, 4, &f) != 0) {
		fprintf(stderr, "ttft-probe: calibration failed: the prompt lengths did not "
				"vary (does the server count prompt tokens?)\n");
		cJSON_Delete(root);
		return 1;
	}
	cJSON_AddNumberToObject(root, "a_s", f.a_s);
	cJSON_AddNumberToObject(root, "b_s_per_token", f.b_s);
	char *js = cJSON_Print(root);
	FILE *fp = fopen(path, "w");
	int rc = 0;
	if (!fp || fprintf(fp, "%s\n", js) < 0 || fclose(fp) != 0) {
		fprintf(stderr, "ttft-probe: cannot write %s: %s\n", path, strerror(errno));
		rc = 2;
	} else {
		printf("fit: ttft = %.6f s + %.9f s x prompt_tokens  (written to %s)\n", f.a_s,
		       f.b_s, path);
	}
	free(js);
	cJSON_Delete(root);
	return rc;
}

/* Freed at exit, whichever of main's many returns is taken. */
static struct curl_slist *g_headers;
static char *g_prompt_file;

static void cleanup(void)
{
	curl_slist_free_all(g_headers);
	free(g_prompt_file);
	curl_global_cleanup();
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"url", required_argument, 0, 'u'},
		{"prompt", required_argument, 0, 'p'},
		{"prompt-file", required_argument, 0, 'P'},
		{"max-tokens", required_argument, 0, 'm'},
		{"model", required_argument, 0, 'M'},
		{"chat", no_argument, 0, 'c'},
		{"no-stream", no_argument, 0, 'S'},
		{"ignore-eos", no_argument, 0, 'e'},
		{"temperature", required_argument, 0, 'T'},
		{"header", required_argument, 0, 'H'},
		{"timeout", required_argument, 0, 't'},
		{"runs", required_argument, 0, 'r'},
		{"cold", no_argument, 0, 'C'},
		{"concurrency", required_argument, 0, 'n'},
		{"requests", required_argument, 0, 'N'},
		{"json", required_argument, 0, 'j'},
		{"text", no_argument, 0, 'x'},
		{"metrics", required_argument, 0, 'X'},
		{"metrics-interval", required_argument, 0, 'I'},
		{"calibrate", required_argument, 0, 'K'},
		{"fit", required_argument, 0, 'F'},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	struct probe_cfg cfg = {0};
	cfg.prompt = "Explain TTFT in one sentence.";
	cfg.max_tokens = 64;
	cfg.stream = 1;
	cfg.timeout_s = 120;
	const char *url = "http://127.0.0.1:8000", *json = NULL;
	int runs = 1, cold = 0, conc = 0, requests = 0, quiet = 0, c;
	const char *metrics = "auto", *calibrate = NULL, *fitfile = NULL;
	struct probe_fit fit = {0};
	char *end;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(cleanup);
	cfg.headers = g_headers = curl_slist_append(NULL, "Content-Type: application/json");
	cfg.headers = g_headers = curl_slist_append(cfg.headers, "Expect:");
#define INT_ARG(dst, lo)                                                        \
	do {                                                                    \
		long v_ = strtol(optarg, &end, 10);                             \
		if (*end || v_ < (lo) || v_ > 1000000) {                        \
			fprintf(stderr, "ttft-probe: --%s wants a number >= %d, " \
					"got '%s'\n", opts[idx].name, (lo), optarg); \
			return 2;                                               \
		}                                                               \
		dst = (int)v_;                                                  \
	} while (0)
	int idx = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, &idx)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'p': cfg.prompt = optarg; break;
		case 'P':
			free(g_prompt_file);
			cfg.prompt = g_prompt_file = read_prompt(optarg);
			break;
		case 'm': INT_ARG(cfg.max_tokens, 1); break;
		case 'M': cfg.model = optarg; break;
		case 'c': cfg.chat = 1; break;
		case 'S': cfg.stream = 0; break;
		case 'e': cfg.ignore_eos = 1; break;
		case 'T': cfg.temperature = strtod(optarg, &end);
			if (*end) { fprintf(stderr, "ttft-probe: bad --temperature\n"); return 2; }
			break;
		case 'H':
			if (!strchr(optarg, ':')) {
				fprintf(stderr, "ttft-probe: --header wants 'Name: value'\n");
				return 2;
			}
			cfg.headers = g_headers = curl_slist_append(cfg.headers, optarg);
			if (!strncasecmp(optarg, "traceparent:", 12))
				cfg.user_traceparent = 1;
			break;
		case 't': cfg.timeout_s = strtod(optarg, &end);
			if (*end || cfg.timeout_s <= 0) {
				fprintf(stderr, "ttft-probe: --timeout wants seconds > 0\n");
				return 2;
			}
			break;
		case 'r': INT_ARG(runs, 1); break;
		case 'C': cold = 1; break;
		case 'n': INT_ARG(conc, 1); break;
		case 'N': INT_ARG(requests, 1); break;
		case 'j': json = optarg; break;
		case 'x': cfg.keep_text = 1; break;
		case 'K': calibrate = optarg; break;
		case 'I': INT_ARG(cfg.metrics_interval_ms, 1); break;
		case 'F': fitfile = optarg; break;
		case 'X':
			if (strcmp(optarg, "auto") && strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "ttft-probe: --metrics wants auto, on or off\n");
				return 2;
			}
			metrics = optarg;
			break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ttft-probe: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	char base[2048];
	snprintf(base, sizeof base, "%s", url);
	size_t bl = strlen(base);
	while (bl && base[bl - 1] == '/')
		base[--bl] = 0;
	if (bl >= 3 && !strcmp(base + bl - 3, "/v1"))
		base[bl - 3] = 0;
	cfg.base = base;

	if (fitfile && load_fit(fitfile, &fit) != 0)
		return 2;
	char err[1024];
	char *model = NULL;
	if (!cfg.model) {
		model = probe_first_model(&cfg, err, sizeof err);
		if (!model) {
			fprintf(stderr, "ttft-probe: %s\n", err);
			return 2;
		}
		cfg.model = model;
	}
	if (strcmp(metrics, "off")) {
		struct ttft_truth t;
		char merr[300];
		cfg.metrics = probe_scrape(&cfg, &t, merr, sizeof merr) == 0;
		if (!cfg.metrics && !strcmp(metrics, "on"))
			fprintf(stderr, "ttft-probe: warning: --metrics on, but %s; the "
					"server split stays null\n", merr);
	}
	if (calibrate) {
		int crc = run_calibration(&cfg, calibrate);
		free(model);
		return crc;
	}
	int n = conc ? (requests ? requests : conc) : runs;
	if (!conc)
		conc = 1;
	struct probe_result *res = calloc((size_t)n, sizeof *res);
	FILE *table = json && !strcmp(json, "-") ? stderr : stdout;
	if (!quiet)
		fprintf(stderr, "ttft-probe: %d request%s to %s%s (model %s), %d at a time\n",
			n, n == 1 ? "" : "s", base,
			cfg.chat ? "/v1/chat/completions" : "/v1/completions",
			cfg.model, conc);
	int64_t t0 = probe_now();
	int failed = probe_run(&cfg, res, n, conc, !quiet && isatty(2));
	double wall = (double)(probe_now() - t0) / 1e9;
	for (int i = 0; i < n; i++)
		res[i].label = cold && i == 0 && conc == 1 ? "cold" : "warm";

	/* summaries */
	double *ttft = calloc((size_t)n + 1, sizeof *ttft), *warm = calloc((size_t)n + 1, sizeof *warm);
	double *e2e = calloc((size_t)n + 1, sizeof *e2e);
	size_t nt = 0, nw = 0, ne = 0, nitl = 0;
	long toks = 0;
	for (int i = 0; i < n; i++) {
		double t = probe_ttft_s(&res[i]);
		if (!isnan(t)) {
			ttft[nt++] = t;
			if (strcmp(res[i].label, "cold"))
				warm[nw++] = t;
		}
		if (res[i].ok)
			e2e[ne++] = probe_e2e_s(&res[i]);
		toks += probe_tokens(&res[i]);
		nitl += res[i].ntok > 1 ? (size_t)res[i].ntok - 1 : 0;
	}
	int exact = 0;
	for (int i = 0; i < n; i++)
		exact += res[i].srv.split;
	double *itl = calloc(nitl + 1, sizeof *itl);
	size_t k = 0;
	for (int i = 0; i < n; i++)
		for (int j = 1; j < res[i].ntok; j++)
			itl[k++] = (double)(res[i].tok[j] - res[i].tok[j - 1]) / 1e9;
	struct pct pt = pct_of(ttft, nt), pw = pct_of(warm, nw), pe = pct_of(e2e, ne),
		   pi = pct_of(itl, nitl);

	if (!quiet) {
		fprintf(table, "%5s  %-5s %10s %10s %7s  %s\n", "run", "label", "ttft_s",
			"e2e_s", "tokens", "notes");
		for (int i = 0; i < n; i++) {
			const struct probe_result *r = &res[i];
			fprintf(table, "%5d  %-5s %10.4f %10.4f %7ld  %s\n", r->run, r->label,
				probe_ttft_s(r), probe_e2e_s(r), probe_tokens(r),
				r->ok ? "" : r->error);
		}
		if (conc == 1) {
			fprintf(table, "warm TTFT over %zu run%s: min %.4f s  median %.4f s  "
				"max %.4f s\n", nw, nw == 1 ? "" : "s", pw.min, pw.p50, pw.max);
		} else {
			fprintf(table, "\n%d requests, %d failed, %d at a time, %.3f s\n", n,
				failed, conc, wall);
			fprintf(table, "%-6s %10s %10s %10s   (s)\n", "", "p50", "p90", "p99");
			fprintf(table, "%-6s %10.4f %10.4f %10.4f\n", "ttft", pt.p50, pt.p90, pt.p99);
			fprintf(table, "%-6s %10.4f %10.4f %10.4f\n", "itl", pi.p50, pi.p90, pi.p99);
			fprintf(table, "%-6s %10.4f %10.4f %10.4f\n", "e2e", pe.p50, pe.p90, pe.p99);
			fprintf(table, "output tokens/s: %.1f\n", toks / wall);
		}
		if (cfg.metrics || exact)
			fprintf(table, "server split (queue/prefill) for %d of %d requests%s\n",
				exact, n, exact < n ? "; the others' split_note says why not" : "");
	}
	int rc = failed ? 1 : 0;
	if (json) {
		FILE *f = !strcmp(json, "-") ? stdout : fopen(json, "w");
		if (!f) {
			fprintf(stderr, "ttft-probe: cannot write %s: %s\n", json, strerror(errno));
			return 2;
		}
		for (int i = 0; i < n; i++) {
			cJSON *o = record(&res[i], t0, cfg.keep_text, &fit);
			char *s = cJSON_PrintUnformatted(o);
			fprintf(f, "%s\n", s);
			free(s);
			cJSON_Delete(o);
		}
		cJSON *root = cJSON_CreateObject(), *sum = cJSON_AddObjectToObject(root, "summary");
		cJSON_AddNumberToObject(sum, "requests", n);
		cJSON_AddNumberToObject(sum, "failed", failed);
		cJSON_AddNumberToObject(sum, "concurrency", conc);
		cJSON_AddNumberToObject(sum, "wall_s", wall);
		cJSON_AddItemToObject(sum, "ttft_s", pct_json(pt));
		cJSON *w = cJSON_AddObjectToObject(sum, "warm_ttft_s");
		num(w, "min", pw.min);
		num(w, "median", pw.p50);
		num(w, "max", pw.max);
		cJSON_AddItemToObject(sum, "itl_s", pct_json(pi));
		cJSON_AddItemToObject(sum, "e2e_s", pct_json(pe));
		cJSON_AddNumberToObject(sum, "output_tokens_per_s", toks / wall);
		cJSON_AddNumberToObject(sum, "exact_splits", exact);
		int taken, bad;
		probe_scrapes(&taken, &bad);
		if (conc > 1 && cfg.metrics) {
			cJSON_AddNumberToObject(sum, "metrics_scrapes", taken);
			cJSON_AddNumberToObject(sum, "metrics_scrapes_failed", bad);
		}
		const struct ttft_split *win = probe_window();
		if (win) {
			cJSON *sw = cJSON_AddObjectToObject(sum, "server_window");
			num(sw, "requests", win->requests);
			num(sw, "queue_s", win->queue_s);
			num(sw, "prefill_s", win->prefill_s);
			num(sw, "decode_s", win->decode_s);
			num(sw, "prefix_cache_hit_tokens", win->hit_tokens);
			if (win->source)
				cJSON_AddStringToObject(sw, "source", win->source);
			if (win->reason[0])
				cJSON_AddStringToObject(sw, "note", win->reason);
		}
		char *s = cJSON_PrintUnformatted(root);
		fprintf(f, "%s\n", s);
		free(s);
		cJSON_Delete(root);
		if ((f == stdout ? fflush(f) : fclose(f)) != 0) {
			fprintf(stderr, "ttft-probe: writing %s failed: %s\n", json, strerror(errno));
			rc = 2;
		}
	}
	for (int i = 0; i < n; i++)
		probe_result_free(&res[i]);
	free(res), free(ttft), free(warm), free(e2e), free(itl), free(model);
	return rc;
}
