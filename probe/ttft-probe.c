/* ttft-probe — measure TTFT the way a careful engineer would: a native
 * libcurl client, timestamps in the write callback, cold/warm series,
 * concurrency on one thread, JSONL out. */
#include "probe.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ttft_cli.h"
#include "ttft_clock.h"
#include "ttft_json.h"
#include "ttft_scrape.h"
#include "ttft_summary.h"
#include "ttft_url.h"

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
"  --prompt-file F      read the prompt from F ('-' = stdin): text, no NUL\n"
"                       byte, at most 64 MiB\n"
"  --max-tokens N       default 64\n"
"  --model M            default: the first model of /v1/models\n"
"  --chat               /v1/chat/completions (default /v1/completions)\n"
"  --no-stream          one JSON answer (ttft_s = e2e_s then; tokens only from\n"
"                       the server's usage: null without one)\n"
"  --ignore-eos         ask the server to ignore EOS (vLLM, llama.cpp)\n"
"  --temperature T      default 0\n"
"  --header 'K: V'      extra request header, repeatable (Authorization…);\n"
"                       K of letters, digits and !#$%%&'*+-.^_`|~, one line\n"
"  --timeout S          per-request limit in seconds (default 120)\n"
"  --runs N             sequential requests (default 1; not with --concurrency)\n"
"  --cold               the server was just restarted: run 1 is \"cold\",\n"
"                       its own record, left out of the summary (ttft_s,\n"
"                       itl_s, e2e_s, output_tokens_per_s are the warm runs';\n"
"                       sequential --runs only, not with --concurrency)\n"
"  --concurrency C      C streams at once (with --requests N)\n"
"  --requests N         total requests for --concurrency (default C; only\n"
"                       with --concurrency)\n"
"  --json FILE          one JSON object per request, then {\"summary\":…};\n"
"                       '-' = stdout (the table then goes to stderr); a\n"
"                       request's tokens_source \"events\" (\"≥N\" in the\n"
"                       table): no usage, its token events counted, at\n"
"                       least that many (requests_tokens_from_events: how\n"
"                       many such; output_tokens_per_s then at least)\n"
"  --text               keep the generated text in the JSON (\"text\")\n"
"  --metrics MODE       auto (default: when the server has /metrics), on, off:\n"
"                       scrape /metrics around each request for the server's\n"
"                       own queue / prefill / decode (vLLM histograms, llama.cpp\n"
"                       counters); under --concurrency, sampled while the\n"
"                       streams run and joined to each request where a window\n"
"                       provably holds it alone (docs/server-truth.md)\n"
"  --metrics-interval MS  under --concurrency, sample /metrics this often\n"
"                       (default %d for vLLM, %d for llama.cpp)\n"
"  --calibrate FILE     fit TTFT = a + b * prompt_tokens at concurrency 1 over\n"
"                       prompts of 4 lengths (5 runs each), write it to FILE\n"
"                       (interrupted: no fit, FILE left as it was)\n"
"  --fit FILE           for a server that explains nothing: report the TTFT\n"
"                       above that fit as estimated queue_s (split_source model)\n"
"  -q, --quiet          no table\n"
"  -h, --help           this text\n"
"  --version            print the version\n"
"\n"
"Every request carries a W3C traceparent header with a random trace id\n"
"(trace_id in the JSON; your own --header 'traceparent: …' is kept instead,\n"
"once checked: one W3C calls invalid is refused before any request;\n"
"--header 'traceparent:' sends none, and the rows have no trace id):\n"
"vLLM's OpenTelemetry llm_request span for it has the same trace id.\n"
"Under the shim (ttft-run -- ttft-probe …) the probe also marks, in the\n"
"shim's log, when it saw each first token; ttft-analyze shows the gap.\n"
"Flags, files and the server's model list are checked before the first\n"
"request; an https:// URL whose server speaks plain HTTP is named as such.\n"
"Ctrl-C or SIGTERM ends the requests in flight (marked interrupted) and\n"
"starts no more; the table and --json hold what ran, the summary with\n"
"\"interrupted\": true and \"not_started\". A second one (Ctrl-C or\n"
"SIGTERM) ends the probe at once, killed by it: what it had not yet\n"
"written is lost. One before the first request (the model list, the\n"
"/metrics check) ends the probe at once, saying so on stderr.\n"
"\n"
"exit status: 0 all requests ok; 1 a request failed (its record keeps the\n"
"error) or the results (the table, --json) could not be written; 2 usage\n"
"error (bad flag or value, flags that do not combine, unreadable\n"
"--prompt-file or --fit, unwritable --json or --calibrate) or the server\n"
"could not be asked at all (no /v1/models); 130 interrupted by SIGINT\n"
"(143 by SIGTERM), what ran written (--calibrate: no fit written), or\n"
"nothing when no request had been sent.\n",
		TTFT_SCRAPE_VLLM_MS, TTFT_SCRAPE_LLAMACPP_MS);
}

/* A prompt file longer than this is no prompt (a million tokens are a few
 * MiB): /dev/zero, or a pipe that never ends, filled the memory. */
#define PROMPT_FILE_MAX ((size_t)64 << 20)

/* The prompt from a file ('-': stdin), or NULL (reported). */
static char *read_prompt(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "ttft-probe: cannot read --prompt-file %s: %s\n", path,
			strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0, r;
	char *b = malloc(cap);
	const char *why = NULL;
	while (b && !why && (r = fread(b + n, 1, cap - n - 1, f)) > 0) {
		/* a NUL ends the C string the request is made from: the
		 * prompt sent would be silently cut there (UTF-16 text, a
		 * binary file) */
		const char *z = memchr(b + n, 0, r);
		if (z) {
			why = "it has a NUL byte: not a text prompt (UTF-16? convert it "
			      "to UTF-8)";
			break;
		}
		n += r;
		if (n > PROMPT_FILE_MAX) {
			why = "it is over 64 MiB: no prompt is that long";
			break;
		}
		if (n + 1 == cap) {
			char *nb = realloc(b, cap *= 2);
			if (!nb)
				free(b);
			b = nb;
		}
	}
	int bad = !b || why || ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "ttft-probe: cannot read --prompt-file %s: %s\n", path,
			why ? why : b ? "read error" : "out of memory");
		free(b);
		return NULL;
	}
	b[n] = 0;
	return b;
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

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	/* async-signal-safe only (unlink, signal, raise are). The first: a flag
	 * probe_run reads between its polls. A second, of either kind (the
	 * mask holds the other off while this runs): that signal's default
	 * action, at once; raised while blocked here, it lands on return. */
	if (!g_stop) {
		g_stop = sig;
		return;
	}
	ttft_cli_drop_tmp(); /* an output half written: gone, the old kept */
	signal(sig, SIG_DFL);
	raise(sig);
}

static const char *sig_name(int sig)
{
	return sig == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM";
}

/* What the probe does before its first request, for the line a stop then
 * prints. */
static const char *volatile g_doing = "checking its flags and files";

static void say(const char *s)
{
	(void)!write(2, s, strlen(s));
}

/* A stop before the first request: there is no run to write, and the
 * checks may wait long on a server that does not answer (the model list
 * up to --timeout, /metrics 5 s), so the probe ends at once, saying so
 * (the default action ended it without a word). Async-signal-safe:
 * write and _exit. */
static void on_early_signal(int sig)
{
	say("ttft-probe: stopped by ");
	say(sig_name(sig));
	say(" before any request was sent (while ");
	say(g_doing);
	say(")\n");
	_exit(128 + sig);
}

/* From here on a Ctrl-C (or SIGTERM) ends the requests in flight and
 * what ran is still written (a write it lands in goes on; curl's poll
 * sees the flag at once: ttft_cli_catch_stop). */
static void catch_stop(struct probe_cfg *cfg)
{
	ttft_cli_catch_stop(on_signal);
	cfg->stop = &g_stop;
}

/* A calibration cut short at prompt length `at` (1 to 4; 0: after the
 * last, before the fit was written): what ran is no calibration, so no
 * fit is written (FILE keeps what it held); 128 + the signal, as for a
 * run. */
static int calibration_stopped(const char *path, int sig, int at)
{
	if (at)
		fprintf(stderr, "ttft-probe: calibration interrupted by %s at prompt length "
				"%d of 4: %s not written (the fit needs all 4); run "
				"--calibrate again\n", sig_name(sig), at, path);
	else
		fprintf(stderr, "ttft-probe: calibration interrupted by %s before its fit "
				"was written: %s not written; run --calibrate again\n",
			sig_name(sig), path);
	return 128 + sig;
}

/* Prompts of 1, 4, 16 and 64 copies of --prompt; the median TTFT of 5 runs
 * at each length against usage.prompt_tokens; least squares. */
static int run_calibration(struct probe_cfg *cfg, const char *path)
{
	static const int reps[] = {1, 4, 16, 64};
	double x[4], y[4];
	const char *base = cfg->prompt;
	int max_tokens = cfg->max_tokens;
	cfg->max_tokens = 1;
	for (int k = 0; k < 4; k++) {
		size_t bl = strlen(base);
		char *pr = malloc((bl + 1) * (size_t)reps[k] + 1);
		if (!pr) {
			fprintf(stderr, "ttft-probe: calibration failed: out of memory\n");
			return TTFT_EXIT_FAILED;
		}
		pr[0] = 0;
		for (int i = 0; i < reps[k]; i++) {
			strcat(pr, base);
			strcat(pr, " ");
		}
		cfg->prompt = pr;
		enum { RUNS = 5 };
		struct ttft_record r[RUNS];
		struct probe_run run = {.cfg = cfg, .conc = 1};
		char err[256];
		int failed = probe_run(&run, r, RUNS, err, sizeof err);
		int stop = cfg->stop ? *cfg->stop : 0;
		if (stop) {
			for (int i = 0; i < RUNS; i++)
				ttft_record_free(&r[i]);
			free(pr);
			return calibration_stopped(path, stop, k + 1);
		}
		double t[RUNS];
		const char *why = failed < 0 ? err : "the server reports no usage.prompt_tokens";
		for (int i = 0; i < RUNS; i++) {
			t[i] = ttft_record_ttft_s(&r[i]);
			if (!r[i].ok && failed > 0)
				why = ttft_record_error(&r[i]);
		}
		x[k] = (double)r[0].prompt_tokens;
		y[k] = ttft_percentile(t, RUNS, 0.5);
		int bad = failed != 0 || r[0].prompt_tokens < 0;
		if (bad)
			fprintf(stderr, "ttft-probe: calibration failed: %s\n", why);
		for (int i = 0; i < RUNS; i++)
			ttft_record_free(&r[i]);
		free(pr);
		if (bad)
			return 1;
		fprintf(stderr, "  %6.0f prompt tokens: ttft %.4f s\n", x[k], y[k]);
	}
	cfg->prompt = base;
	cfg->max_tokens = max_tokens;
	if (cfg->stop && *cfg->stop)
		return calibration_stopped(path, *cfg->stop, 0);
	struct probe_fit f;
	if (probe_fit_points(x, y, 4, &f) != 0) {
		fprintf(stderr, "ttft-probe: calibration failed: the prompt lengths did not "
				"vary (does the server count prompt tokens?)\n");
		return 1;
	}
	/* replaced whole (ttft_write_atomic): an old fit stays whole when
	 * the new one cannot be written */
	int rc = 0, bad = 0;
	char *text = NULL, err[400] = "";
	{
		struct ttft_json j;
		bad = ttft_json_init(&j, NULL, 1) != 0;
		if (!bad) {
			ttft_json_begin_obj(&j, NULL);
			ttft_json_begin_arr(&j, "points");
			for (int k = 0; k < 4; k++) {
				ttft_json_begin_obj(&j, NULL);
				ttft_json_num(&j, "prompt_tokens", x[k]);
				ttft_json_num(&j, "ttft_s", y[k]);
				ttft_json_end_obj(&j);
			}
			ttft_json_end_arr(&j);
			ttft_json_num(&j, "a_s", f.a_s);
			ttft_json_num(&j, "b_s_per_token", f.b_s);
			ttft_json_end_obj(&j);
			ttft_json_newline(&j);
			text = ttft_json_take(&j);
		}
		ttft_json_free(&j);
	}
	if (!text)
		snprintf(err, sizeof err, "cannot write %s: out of memory", path);
	bad = !text || ttft_write_atomic(path, text, strlen(text), err, sizeof err) != 0;
	free(text);
	if (bad) {
		fprintf(stderr, "ttft-probe: %s\n", err);
		rc = 2;
	} else {
		printf("fit: ttft = %.6f s + %.9f s x prompt_tokens  (written to %s)\n", f.a_s,
		       f.b_s, path);
	}
	return rc;
}

/* Progress on a terminal: each run, or every 64 under concurrency. */
static void progress(void *arg, const struct ttft_record *r, int done, int n)
{
	int conc = *(const int *)arg;
	if (conc == 1)
		fprintf(stderr, "  run %d/%d: %s\n", r->run, n,
			r->ok ? "ok" : ttft_record_error(r));
	else if (done % 64 == 0)
		fprintf(stderr, "  %d/%d requests done\n", done, n);
}

static void cell(FILE *t, double s)
{
	if (isnan(s))
		fprintf(t, " %10s", "-");
	else
		fprintf(t, " %10.4f", s);
}

/* A row of the concurrency table: p50, p90, p99; a dash for a tail that
 * too few values cannot give (ttft_quantile_min_n), dashes when no
 * request gave a value (no made-up nan). 1 when a dash is for want of
 * values. */
static int table_row(FILE *t, const char *name, const struct ttft_summary *s)
{
	if (!s->n) {
		fprintf(t, "%-6s %10s %10s %10s   (no request gave one)\n", name, "-", "-",
			"-");
		return 0;
	}
	fprintf(t, "%-6s", name);
	cell(t, s->median);
	cell(t, s->p90);
	cell(t, s->p99);
	fputc('\n', t);
	return isnan(s->p99);
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
		{"version", no_argument, 0, 'V'},
		{0, 0, 0, 0},
	};
	struct probe_cfg cfg = {0};
	cfg.prompt = "Explain TTFT in one sentence.";
	cfg.max_tokens = 64;
	cfg.stream = 1;
	cfg.timeout_s = 120;
	const char *url = "http://127.0.0.1:8000", *json = NULL;
	int runs = 1, runs_set = 0, cold = 0, conc = 0, requests = 0, quiet = 0, c;
	const char *metrics = "auto", *calibrate = NULL, *fitfile = NULL;
	struct probe_fit fit = {0};
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(cleanup);
	ttft_cli_catch_stop(on_early_signal);
	cfg.headers = g_headers = curl_slist_append(NULL, "Content-Type: application/json");
	cfg.headers = g_headers = curl_slist_append(cfg.headers, "Expect:");
	char cerr[300];
	long lv;
#define INT_ARG(dst, lo)                                                        \
	do {                                                                    \
		if (ttft_cli_long(opts[idx].name, optarg, (lo), 1000000, &lv,   \
				  cerr, sizeof cerr) != 0) {                     \
			fprintf(stderr, "ttft-probe: %s\n", cerr);             \
			return TTFT_EXIT_USAGE;                                 \
		}                                                               \
		dst = (int)lv;                                                  \
	} while (0)
	int idx = 0;
	while ((c = getopt_long(argc, argv, "qh", opts, &idx)) != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'p':
			if (!*optarg) {
				fprintf(stderr, "ttft-probe: bad value '' for --prompt: an "
						"empty prompt measures nothing (the server "
						"refuses it or prefills 0 tokens)\n");
				return TTFT_EXIT_USAGE;
			}
			cfg.prompt = optarg;
			break;
		case 'P':
			free(g_prompt_file);
			cfg.prompt = g_prompt_file = read_prompt(optarg);
			if (!g_prompt_file)
				return TTFT_EXIT_USAGE;
			if (!*cfg.prompt) {
				fprintf(stderr, "ttft-probe: --prompt-file %s is empty\n", optarg);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'm': INT_ARG(cfg.max_tokens, 1); break;
		case 'M': cfg.model = optarg; break;
		case 'c': cfg.chat = 1; break;
		case 'S': cfg.stream = 0; break;
		case 'e': cfg.ignore_eos = 1; break;
		case 'T':
			if (ttft_cli_double("temperature", optarg, 0, 0, 100, &cfg.temperature,
					    cerr, sizeof cerr) != 0) {
				fprintf(stderr, "ttft-probe: %s\n", cerr);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'H': {
			int tp;
			if (probe_header_check(optarg, &tp, cerr, sizeof cerr) != 0) {
				fprintf(stderr, "ttft-probe: %s\n", cerr);
				return TTFT_EXIT_USAGE;
			}
			cfg.user_traceparent |= tp;
			cfg.headers = g_headers = curl_slist_append(cfg.headers, optarg);
			break;
		}
		case 't':
			if (ttft_cli_double("timeout", optarg, 0, 1, 1e6, &cfg.timeout_s, cerr,
					    sizeof cerr) != 0) {
				fprintf(stderr, "ttft-probe: %s (seconds)\n", cerr);
				return TTFT_EXIT_USAGE;
			}
			break;
		case 'r': INT_ARG(runs, 1); runs_set = 1; break;
		case 'I': INT_ARG(cfg.metrics_interval_ms, 1); break;
		case 'C': cold = 1; break;
		case 'n': INT_ARG(conc, 1); break;
		case 'N': INT_ARG(requests, 1); break;
		case 'j': json = optarg; break;
		case 'x': cfg.keep_text = 1; break;
		case 'K': calibrate = optarg; break;
		case 'F': fitfile = optarg; break;
		case 'X':
			if (strcmp(optarg, "auto") && strcmp(optarg, "on") && strcmp(optarg, "off")) {
				fprintf(stderr, "ttft-probe: bad value '%s' for --metrics: want "
						"auto, on or off (the probe scrapes URL/metrics "
						"itself; ttft-run's --metrics-url takes a URL)\n",
					optarg);
				return TTFT_EXIT_USAGE;
			}
			metrics = optarg;
			break;
		case 'q': quiet = 1; break;
		case 'h': usage(stdout); return TTFT_EXIT_OK;
		case 'V': printf("ttft-probe (%s)\n", ttft_version()); return TTFT_EXIT_OK;
		default:
			fprintf(stderr, "ttft-probe: see ttft-probe --help\n");
			return TTFT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ttft-probe: unexpected argument '%s' (see ttft-probe "
				"--help)\n", argv[optind]);
		return TTFT_EXIT_USAGE;
	}
	/* a flag another one makes meaningless is refused, never dropped */
	const char *clash = NULL;
	if (cold && conc)
		clash = "--cold is for sequential --runs: it labels run 1 \"cold\" "
			"and leaves it out of the summaries; with --concurrency the "
			"first requests meet the restarted server together, so none of "
			"them is the cold run. Measure the cold start with --cold --runs "
			"N, then the load with --concurrency C";
	else if (requests && !conc)
		clash = "--requests is the total for --concurrency C; for requests one "
			"after another use --runs N";
	else if (runs_set && conc)
		clash = "--runs is for sequential requests; with --concurrency C give "
			"the total as --requests N";
	if (clash) {
		fprintf(stderr, "ttft-probe: %s\n", clash);
		return TTFT_EXIT_USAGE;
	}
	const char *outs[][2] = {{"json", json}, {"calibrate", calibrate}};
	for (int i = 0; i < 2; i++)
		if (outs[i][1] && ttft_output_check(outs[i][0], outs[i][1], cerr,
						    sizeof cerr) != 0) {
			fprintf(stderr, "ttft-probe: %s\n", cerr);
			return TTFT_EXIT_USAGE;
		}
	struct ttft_url u;
	char err[1024];
	if (ttft_url_parse(url, &u, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-probe: bad value '%s' for --url: %s\n", url, err);
		return TTFT_EXIT_USAGE;
	}
	cfg.base = u.base;

	if (fitfile && load_fit(fitfile, &fit) != 0)
		return TTFT_EXIT_USAGE;
	char *model = NULL;
	g_doing = cfg.model ? "checking that the server speaks TLS"
			    : "asking the server's /v1/models for its model";
	if (!cfg.model) {
		model = probe_first_model(&cfg, err, sizeof err);
		if (!model) {
			fprintf(stderr, "ttft-probe: %s\n", err);
			return TTFT_EXIT_USAGE;
		}
		cfg.model = model;
	} else if (probe_check_tls(&cfg, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-probe: %s\n", err);
		return TTFT_EXIT_USAGE;
	}
	if (strcmp(metrics, "off")) {
		g_doing = "checking whether the server has /metrics";
		struct ttft_truth t;
		char merr[300];
		cfg.metrics = probe_scrape(&cfg, &t, merr, sizeof merr) == 0;
		if (!cfg.metrics && !strcmp(metrics, "on"))
			fprintf(stderr, "ttft-probe: warning: --metrics on, but %s; the "
					"server split stays null\n", merr);
	}
	catch_stop(&cfg);
	if (calibrate) {
		int crc = run_calibration(&cfg, calibrate);
		free(model);
		return crc;
	}
	int n = conc ? (requests ? requests : conc) : runs;
	if (!conc)
		conc = 1;
	struct ttft_record *res = calloc((size_t)n, sizeof *res);
	double *ttft = calloc((size_t)n + 1, sizeof *ttft);
	double *e2e = calloc((size_t)n + 1, sizeof *e2e);
	if (!res || !ttft || !e2e) {
		fprintf(stderr, "ttft-probe: out of memory for %d requests\n", n);
		free(res), free(ttft), free(e2e), free(model);
		return TTFT_EXIT_FAILED;
	}
	FILE *table = json && !strcmp(json, "-") ? stderr : stdout;
	if (!quiet)
		fprintf(stderr, "ttft-probe: %d request%s to %s%s (model %s), %d at a time\n",
			n, n == 1 ? "" : "s", u.base,
			cfg.chat ? "/v1/chat/completions" : "/v1/completions",
			cfg.model, conc);
	struct probe_run run = {.cfg = &cfg, .conc = conc};
	if (!quiet && isatty(2)) {
		run.progress = progress;
		run.progress_arg = &conc;
	}
	int64_t t0 = ttft_now_ns();
	int failed = probe_run(&run, res, n, err, sizeof err);
	double wall = (double)(ttft_now_ns() - t0) / 1e9;
	int stop_sig = g_stop, planned = n;
	if (failed < 0) {
		fprintf(stderr, "ttft-probe: %s\n", err);
		for (int i = 0; i < n; i++)
			ttft_record_free(&res[i]);
		free(res), free(ttft), free(e2e), free(model);
		return TTFT_EXIT_FAILED;
	}
	/* interrupted: what ran (the ones cut short marked so) is the run;
	 * requests start in order, so the ones never started are the tail */
	if (stop_sig)
		for (n = 0; n < planned && (res[n].t_start || res[n].error); n++)
			;
	for (int i = 0; i < n; i++) {
		res[i].label = cold && i == 0 ? "cold" : "warm";
		probe_apply_fit(&res[i], &fit);
	}

	/* summaries, of the warm runs alone: under --cold run 1 is its own
	 * record (label "cold"), not a sample of the warm distribution; the
	 * tokens/s then over the warm runs' own span */
	int first = cold ? 1 : 0;
	size_t nt = 0, ne = 0, nitl = 0;
	long toks = 0;
	int toks_unknown = 0; /* requests whose tokens are not known */
	int toks_events = 0;  /* requests whose tokens are events counted:
			       * the sum, and the rate, at least that */
	int64_t w0 = 0, w1 = 0;
	for (int i = first; i < n; i++) {
		double t = ttft_record_ttft_s(&res[i]);
		if (!isnan(t))
			ttft[nt++] = t;
		if (res[i].ok)
			e2e[ne++] = ttft_record_e2e_s(&res[i]);
		long tk = ttft_record_tokens(&res[i]);
		/* refused with an error status, its body no event stream, or
		 * not answered at all (its row's tokens null): it output no
		 * tokens, and leaves the sum known */
		int refused = tk < 0 && (res[i].status >= 400 || !res[i].status ||
					 res[i].head_cut);
		if (tk < 0 && !refused)
			toks_unknown++;
		else if (tk > 0)
			toks += tk;
		toks_events += ttft_record_tokens_source(&res[i]) == TTFT_TOKENS_EVENTS;
		nitl += res[i].ntok > 1 ? (size_t)res[i].ntok - 1 : 0;
		if (res[i].t_start && (!w0 || res[i].t_start < w0))
			w0 = res[i].t_start;
		if (res[i].t_end > w1)
			w1 = res[i].t_end;
	}
	double span = !cold ? wall : w0 && w1 > w0 ? (double)(w1 - w0) / 1e9 : NAN;
	/* a sum with an unknown part is unknown, not smaller */
	double rate = toks_unknown ? NAN : (double)toks / span;
	double *itl = calloc(nitl + 1, sizeof *itl);
	size_t k = 0;
	for (int i = first; itl && i < n; i++) {
		/* a probe reads its tokens one by one: each of those at the
		 * time of the one before it is a gap of 0 */
		const int64_t *t = ttft_record_tok_times(&res[i]);
		const uint32_t *c = ttft_record_tok_counts(&res[i]);
		for (uint32_t j = 0; j < res[i].ntime; j++) {
			if (j)
				itl[k++] = (double)(t[j] - t[j - 1]) / 1e9;
			for (uint32_t z = 1; z < c[j]; z++)
				itl[k++] = 0;
		}
	}
	if (!itl) {
		nitl = 0;
		fprintf(stderr, "ttft-probe: out of memory: the ITL summary stays empty\n");
	}
	int exact = 0; /* the server's own split, not the fit's estimate */
	for (int i = 0; i < n; i++) {
		const char *src = ttft_record_split(&res[i])->source;
		exact += src && strcmp(src, TTFT_SPLIT_MODEL);
	}
	struct ttft_summary pt, pe, pi;
	ttft_summary_of(ttft, nt, &pt);
	ttft_summary_of(e2e, ne, &pe);
	ttft_summary_of(itl, nitl, &pi);

	if (!quiet) {
		fprintf(table, "%5s  %-5s %10s %10s %7s  %s\n", "run", "label", "ttft_s",
			"e2e_s", "tokens", "notes");
		int counted = 0; /* a row's tokens '≥N' */
		for (int i = 0; i < n; i++) {
			const struct ttft_record *r = &res[i];
			char tk[24] = "-"; /* not known (--no-stream, no usage) */
			/* a count of events: one event can carry several */
			int at_least = ttft_record_tokens_source(r) == TTFT_TOKENS_EVENTS;
			if (ttft_record_tokens(r) >= 0)
				snprintf(tk, sizeof tk, "%s%ld", at_least ? "≥" : "",
					 ttft_record_tokens(r));
			counted |= at_least;
			/* no first token (a failed or interrupted run): '-',
			 * as in every other table, never nan */
			fprintf(table, "%5d  %-5s", r->run, r->label);
			cell(table, ttft_record_ttft_s(r));
			cell(table, ttft_record_e2e_s(r));
			/* "≥": 3 bytes in one column */
			fprintf(table, " %*s  %s\n", at_least ? 9 : 7, tk,
				r->ok ? "" : ttft_record_error(r));
		}
		if (counted)
			fprintf(table, "(%s)\n", TTFT_TOKENS_AT_LEAST_RULE);
		if (conc == 1 && pt.n) {
			fprintf(table, "warm TTFT over %zu run%s: min %.4f s  median %.4f s  "
				"max %.4f s\n", pt.n, pt.n == 1 ? "" : "s", pt.min, pt.median,
				pt.max);
		} else if (conc == 1) {
			fprintf(table, "warm TTFT: none: %s\n", n > first
				? "no warm runs got a first token" : stop_sig
				? "no warm runs (interrupted before one)"
				: "no warm runs (with --runs 1 --cold the one run is the cold one)");
		} else {
			fprintf(table, "\n%d requests, %d failed, %d at a time, %.3f s\n", n,
				failed, conc, wall);
			fprintf(table, "%-6s %10s %10s %10s   (s)\n", "", "p50", "p90", "p99");
			int few = table_row(table, "ttft", &pt);
			few |= table_row(table, "itl", &pi);
			few |= table_row(table, "e2e", &pe);
			if (few)
				fprintf(table, "(%s)\n", TTFT_QUANTILE_RULE);
			if (toks_unknown)
				fprintf(table, "output tokens/s: not known (%d request%s "
					"without usage)\n", toks_unknown,
					toks_unknown == 1 ? "" : "s");
			else if (toks_events)
				fprintf(table, "output tokens/s: at least %.1f (%d request%s "
					"without usage: token events counted)\n", rate,
					toks_events, toks_events == 1 ? "" : "s");
			else
				fprintf(table, "output tokens/s: %.1f\n", rate);
		}
		if (cfg.metrics || exact)
			fprintf(table, "the server's own queue/prefill for %d of %d requests%s\n",
				exact, n, exact < n ? " (split_note says why not)" : "");
		if (stop_sig) {
			/* as many in flight as --concurrency allows: count them */
			int cut = 0;
			for (int i = 0; i < n; i++)
				cut += !res[i].ok && !strncmp(ttft_record_error(&res[i]),
							    "interrupted after", 17);
			fprintf(table, "interrupted by %s: the %d request%s above ran (%d "
				"in flight, marked interrupted), %d of %d never started\n",
				sig_name(stop_sig), n,
				n == 1 ? "" : "s", cut, planned - n, planned);
		}
	}
	int rc = failed ? TTFT_EXIT_FAILED : TTFT_EXIT_OK;
	/* the table is what ran, as much as the JSON: one the disk did not
	 * take fails the run, as in ttft-analyze (a review found the probe
	 * exiting 0 with its table lost to a full stdout) */
	if (!quiet) {
		int e = fflush(table) != 0 ? errno : 0;
		if (e || ferror(table)) {
			fprintf(stderr, "ttft-probe: writing the table failed: %s\n",
				e ? strerror(e) : "a write to it failed");
			rc = TTFT_EXIT_FAILED;
		}
	}
	if (json) {
		/* built in memory, then replaced whole (ttft_write_atomic): a
		 * full disk or a second Ctrl-C leaves the old file, not half */
		struct ttft_json j;
		int bad = ttft_json_init(&j, NULL, 0) != 0;
		struct ttft_json_ctx ctx = {.t0 = t0, .keep_text = cfg.keep_text};
		for (int i = 0; i < n && !bad; i++) {
			ttft_json_record(&j, NULL, &res[i], &ctx);
			ttft_json_newline(&j);
		}
		ttft_json_begin_obj(&j, NULL);
		ttft_json_begin_obj(&j, "summary");
		ttft_json_int(&j, "requests", n);
		ttft_json_int(&j, "failed", failed);
		ttft_json_bool(&j, "interrupted", stop_sig != 0);
		if (stop_sig)
			ttft_json_int(&j, "not_started", planned - n);
		ttft_json_int(&j, "concurrency", conc);
		ttft_json_num(&j, "wall_s", wall);
		ttft_json_summary(&j, "ttft_s", &pt);
		ttft_json_summary(&j, "warm_ttft_s", &pt);
		ttft_json_summary(&j, "itl_s", &pi);
		ttft_json_summary(&j, "e2e_s", &pe);
		ttft_json_num(&j, "output_tokens_per_s", rate);
		/* its requests whose tokens are events counted: above 0, the
		 * rate is a lower bound */
		ttft_json_int(&j, "requests_tokens_from_events", toks_events);
		ttft_json_int(&j, "exact_splits", exact);
		if (conc > 1 && cfg.metrics) {
			ttft_json_int(&j, "metrics_scrapes", run.scrapes);
			ttft_json_int(&j, "metrics_scrapes_failed", run.scrape_failures);
		}
		const struct ttft_server_split *win = run.have_window ? &run.window : NULL;
		if (win) {
			ttft_json_begin_obj(&j, "server_window");
			ttft_json_num(&j, "requests", win->requests);
			ttft_json_num(&j, "queue_s", win->queue_s);
			ttft_json_num(&j, "prefill_s", win->prefill_s);
			ttft_json_num(&j, "decode_s", win->decode_s);
			ttft_json_num(&j, "prefix_cache_hit_tokens", win->hit_tokens);
			if (win->source)
				ttft_json_str(&j, "source", win->source);
			if (win->note[0])
				ttft_json_str(&j, "note", win->note);
			ttft_json_end_obj(&j);
		}
		ttft_json_end_obj(&j);
		ttft_json_end_obj(&j);
		ttft_json_newline(&j);
		char *text = bad ? NULL : ttft_json_take(&j);
		ttft_json_free(&j);
		char err[400];
		if (!text) {
			fprintf(stderr, "ttft-probe: writing %s failed: out of memory\n", json);
			rc = TTFT_EXIT_FAILED;
		} else if (ttft_write_atomic(json, text, strlen(text), err, sizeof err) != 0) {
			fprintf(stderr, "ttft-probe: writing %s failed: %s\n", json, err);
			rc = TTFT_EXIT_FAILED;
		}
		free(text);
	}
	for (int i = 0; i < planned; i++)
		ttft_record_free(&res[i]);
	free(res), free(ttft), free(e2e), free(itl), free(model);
	/* as a shell reports a command the signal ended: 128 + its number */
	return stop_sig ? 128 + stop_sig : rc;
}
