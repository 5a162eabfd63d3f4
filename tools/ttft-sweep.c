/* ttft-sweep — the rest of the day's experiments, measured and drawn:
 * prefix caching (hit vs miss TTFT over prefix lengths) and KV scaling
 * (TTFT and queueing over concurrency × prompt length × the server's
 * capacity flags), against a running server or configurations it starts.
 * Writes the "Prefix caching" and "KV scaling" sections of a report, its
 * charts and HTML, and JSON. */
#include "sweep.h"
#include "ttft_cli.h"
#include "ttft_url.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-sweep [--url URL] [--server 'CMD'] [--experiments prefix,kv] [options]\n"
"\n"
"Runs the prefix-caching and KV-scaling experiments against an OpenAI-\n"
"compatible server (vLLM, llama.cpp): with --server it starts CMD for each\n"
"configuration (its own process group, stopped after), else it measures\n"
"the server already at --url. See docs/experiments.md.\n"
"\n"
"  --url URL              the server (default http://127.0.0.1:8000)\n"
"  --server CMD           start CMD (sh -c) for each configuration below\n"
"  --experiments LIST     prefix, kv or both (default prefix,kv), each named\n"
"                         once; an option of an experiment it leaves out\n"
"                         (below) is refused\n"
"  --kind KIND            vllm | llamacpp (default: from its log or endpoints)\n"
"\n"
"Prefix caching: K requests share a prefix (distinct suffixes), served with\n"
"the cache off (misses), then one prime and K with it on (hits).\n"
"  --prefix-tokens LIST   prefix lengths in tokens, counted by the server's\n"
"                         tokenizer (default 64,256,1024)\n"
"  --prefix-requests K    misses and hits per length (default 10: \"pays\" is\n"
"                         judged on the hits' p90, which needs 10)\n"
"  --cache-off HOW        request: \"cache_prompt\": false in each miss (llama.cpp,\n"
"                         the default there; vLLM ignores it: refused there);\n"
"                         bust: a unique first line in each miss (the\n"
"                         default elsewhere)\n"
"  --cache-off-flags F    misses on a second configuration: CMD F (e.g. vLLM\n"
"                         --no-enable-prefix-caching); needs --server; not\n"
"                         with --cache-off\n"
"  --cache-on-flags F     the hits' configuration: CMD F (e.g. vLLM\n"
"                         --enable-prefix-caching)\n"
"\n"
"KV scaling: N requests with C in flight, every prompt its own.\n"
"  --concurrency LIST     default 1,2,4,8\n"
"  --prompt-tokens LIST   default 128,1024\n"
"  --kv-requests N        requests per point (default 3 x concurrency, >= 4)\n"
"  --kv-config LABEL=F    a configuration: CMD F (repeatable; needs --server;\n"
"                         each LABEL its own, not prefix, prefix-off, prefix-on;\n"
"                         F not blank),\n"
"                         e.g. 'np2=-np 2 -c 4096' or 'mml4k=--max-model-len 4096'\n"
"  --server-log FILE      a running server's start-up log, for the capacity it\n"
"                         stated (vLLM's \"GPU KV cache size\")\n"
"\n"
"  --max-tokens N         output tokens a request (default 32)\n"
"  --model M, --header 'K: V', --timeout S, --ignore-eos  as for ttft-probe\n"
"                         (a header: a name of letters, digits and\n"
"                         !#$%%&'*+-.^_`|~, then ':', on one line)\n"
"  LIST: up to 16 whole numbers, comma-separated, none empty; every number\n"
"  (LIST, K, N) in digits alone: no sign, blank or leading 0\n"
"  --ready-timeout S      give up on a start after S s (default 600)\n"
"  --report FILE.md       add (or replace) the report's \"Prefix caching\" and\n"
"                         \"KV scaling\" sections, creating it if missing; the\n"
"                         charts go beside it (FILE-*.svg), the page to FILE.html\n"
"  --json FILE            every number and request as JSON ('-' = stdout)\n"
"  --log-dir DIR          keep the started servers' logs (default: the\n"
"                         report's folder; none without a report)\n"
"  -q, --quiet            no progress lines on stderr (errors still)\n"
"  -h, --help             this text\n"
"  --version              print the version\n"
"\n"
"Ctrl-C or SIGTERM stops the sweep: the requests in flight end, marked\n"
"interrupted (not a server failure), the server is stopped, and the report,\n"
"charts and JSON are written with what ran, saying so (\"interrupted\": true,\n"
"each point's \"status\": complete, interrupted; the points never begun in\n"
"\"not_run\"); nothing is judged from a cut point. A second one (Ctrl-C or\n"
"SIGTERM) kills the server and ends ttft-sweep at once, writing nothing.\n"
"\n"
"exit status: 0 ok; 1 a server failed to start (its port in use, say), a\n"
"request failed (what ran is still reported), an output could not be\n"
"written, or --cache-off request met a server found to be vLLM (the prefix\n"
"experiment not run); 2 usage error: a bad flag or value, an option of an\n"
"experiment --experiments leaves out, --cache-off request with --kind\n"
"vllm, or an output (--report, --json, --log-dir) or --server-log that\n"
"cannot be used, found before any server starts; 130 interrupted by SIGINT\n"
"(143 by SIGTERM), what ran written (1 if it could not be).\n");
}

static void on_signal(int sig)
{
	/* async-signal-safe only (kill, unlink, signal, raise are). The first: a
	 * flag every wait and the probe's requests read; the server keeps
	 * running until main stops it, so that the request in flight ends
	 * as interrupted, not as a server that closed the connection. A
	 * second, of either kind (the mask holds the other off while this
	 * runs): the server killed, then that signal's default action. */
	if (!sweep_stop) {
		sweep_stop = sig;
		return;
	}
	if (sweep_pgid > 0)
		kill(-sweep_pgid, SIGKILL);
	ttft_cli_drop_tmp(); /* an output half written: gone, the old kept */
	signal(sig, SIG_DFL);
	raise(sig);
}

static int g_quiet; /* -q: no progress lines */

static void say(const char *line)
{
	if (!g_quiet)
		fprintf(stderr, "ttft-sweep: %s", line);
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* "64,256,1024" → sorted, distinct, each in [lo, hi]. Each item a whole
 * number as ttft_cli_long reads one (digits alone), none empty, at most
 * SWEEP_MAX_LIST of them; read in place: a copy into a buffer cut a long
 * list short, silently, and strtok skipped empty items. */
static int parse_list(const char *name, const char *s, long lo, long hi, const char *eg,
		      int *out, int *n)
{
	char why[128] = "";
	*n = 0;
	for (const char *p = s;; p++) {
		size_t len = strcspn(p, ",");
		char item[16], e[256];
		long v = 0;
		if (*n == SWEEP_MAX_LIST) {
			snprintf(why, sizeof why, "more than %d items", SWEEP_MAX_LIST);
		} else if (!len) {
			snprintf(why, sizeof why, "item %d is empty", *n + 1);
		} else {
			int bad = len >= sizeof item;
			if (!bad) {
				memcpy(item, p, len);
				item[len] = 0;
				bad = ttft_cli_long(name, item, lo, hi, &v, e, sizeof e) != 0;
			}
			if (bad)
				snprintf(why, sizeof why, "item %d, '%.*s%s'", *n + 1,
					 (int)(len > 20 ? 20 : len), p, len > 20 ? "…" : "");
		}
		if (why[0]) {
			fprintf(stderr, "ttft-sweep: bad value '%.80s%s' for --%s (%s): want up to "
					"%d whole numbers from %ld to %ld, comma-separated, in digits "
					"alone (no sign, blank or leading 0), e.g. --%s %s\n",
				s, strlen(s) > 80 ? "…" : "", name, why, SWEEP_MAX_LIST, lo, hi,
				name, eg);
			return -1;
		}
		out[(*n)++] = (int)v;
		p += len;
		if (!*p)
			break;
	}
	qsort(out, (size_t)*n, sizeof *out, cmp_int);
	int k = 1;
	for (int i = 1; i < *n; i++)
		if (out[i] != out[k - 1])
			out[k++] = out[i];
	*n = k;
	return 0;
}

static char *cmd_with(const char *server, const char *flags)
{
	size_t n = strlen(server) + (flags ? strlen(flags) : 0) + 2;
	char *c = malloc(n);
	if (c)
		snprintf(c, n, "%s%s%s", server, flags && *flags ? " " : "", flags ? flags : "");
	return c;
}

static char g_model[512];
/* Freed at exit, whichever of main's returns is taken. */
static struct curl_slist *g_hdr;

static void cleanup(void)
{
	curl_slist_free_all(g_hdr);
	curl_global_cleanup();
}

/* Open a configuration; the model once, from the first server. */
static int open_srv(struct sweep_opts *o, struct sweep_srv *s, const char *flags, const char *label)
{
	char *cmd = o->server ? cmd_with(o->server, flags) : NULL;
	int rc = sweep_srv_open(s, o, cmd, label);
	free(cmd);
	if (rc != 0) {
		if (!sweep_stop)
			fprintf(stderr, "ttft-sweep: [%s] %s\n", label, s->error);
		sweep_srv_close(s, o);
		return -1;
	}
	if (!o->probe.model) {
		char err[512];
		char *m = probe_first_model(&o->probe, err, sizeof err);
		if (!m) {
			fprintf(stderr, "ttft-sweep: [%s] %s\n", label, err);
			/* the callers record it: the JSON's "[default] " was empty */
			snprintf(s->error, sizeof s->error, "%s", err);
			sweep_srv_close(s, o);
			return -1;
		}
		snprintf(g_model, sizeof g_model, "%s", m);
		free(m);
		o->probe.model = g_model;
	}
	/* A server's first request pays one-time warm-up (ttft-cold measures
	 * it); no point of a sweep should: one request first, not counted. */
	struct probe_cfg w = o->probe;
	w.prompt = "Warm-up.";
	w.max_tokens = 2;
	w.metrics = 0;
	struct ttft_record r;
	struct probe_run run = {.cfg = &w, .conc = 1};
	char err[256] = "";
	if (probe_run(&run, &r, 1, err, sizeof err) != 0 && !sweep_stop)
		fprintf(stderr, "ttft-sweep: [%s] warning: the warm-up request failed: %s\n", label,
			err[0] ? err : ttft_record_error(&r));
	ttft_record_free(&r);
	return 0;
}

/* vLLM honours no per-request cache switch: "cache_prompt": false is
 * ignored, so the misses would be served from its prefix cache (or, with
 * the cache off, the hits would miss): no comparison can come of it. */
static const char g_request_on_vllm[] =
	"--cache-off request sends \"cache_prompt\": false, which vLLM ignores: the misses "
	"would be served from its prefix cache; use --cache-off bust (a unique first line "
	"in each miss) or --cache-off-flags --no-enable-prefix-caching";

static int run_prefix(struct sweep_opts *o, struct sweep_run *run)
{
	struct sweep_srv s;
	int flags = o->cache_off == OFF_FLAGS;
	if (open_srv(o, &s, flags ? o->off_flags : o->on_flags, flags ? "prefix-off" : "prefix") != 0) {
		if (!sweep_stop) /* why the experiment was not run (JSON) */
			snprintf(run->prefix.error, sizeof run->prefix.error, "[%s] %.400s",
				 flags ? "prefix-off" : "prefix", s.error);
		return 1;
	}
	if (!o->cache_off_given)
		o->cache_off = !strcmp(s.kind, "llamacpp") ? OFF_REQUEST : OFF_BUST;
	run->kind = s.kind;
	if (o->cache_off == OFF_REQUEST && !strcmp(s.kind, "vllm")) {
		/* found once the server answered: before a document is built or
		 * a miss sent */
		sweep_srv_close(&s, o);
		snprintf(run->prefix.error, sizeof run->prefix.error, "not run: the server is vLLM "
			 "(%s); %s", o->kind ? "--kind" : "from its log and endpoints",
			 g_request_on_vllm);
		fprintf(stderr, "ttft-sweep: prefix caching: %s\n", run->prefix.error);
		return 1;
	}
	int rc = sweep_prefix_prepare(o, &s, &run->prefix) || sweep_prefix_misses(o, &s, &run->prefix);
	if (!rc && flags) {
		sweep_srv_close(&s, o);
		if (open_srv(o, &s, o->on_flags, "prefix-on") != 0) {
			if (!sweep_stop)
				snprintf(run->prefix.error, sizeof run->prefix.error, "%.400s",
					 s.error);
			sweep_prefix_finish(&run->prefix);
			return 1;
		}
	}
	if (!rc)
		rc = sweep_prefix_hits(o, &s, &run->prefix);
	char gone[200];
	if (rc && !sweep_stop && sweep_srv_gone(&s, 1, gone, sizeof gone)) {
		/* its requests "failed" as "is the server up?": it is not */
		char was[sizeof run->prefix.error];
		snprintf(was, sizeof was, "%s", run->prefix.error);
		snprintf(run->prefix.error, sizeof run->prefix.error, "%s; %.300s", gone, was);
	}
	sweep_srv_close(&s, o);
	sweep_prefix_finish(&run->prefix);
	if (rc && !sweep_stop)
		fprintf(stderr, "ttft-sweep: prefix caching: %s\n", run->prefix.error);
	return rc ? 1 : 0;
}

static int run_kv(struct sweep_opts *o, struct sweep_run *run)
{
	int n = o->ncfg ? o->ncfg : 1, rc = 0;
	run->kv.ran = 1;
	for (int i = 0; i < n && !sweep_stop; i++) {
		struct sweep_srv s;
		const char *label = o->ncfg ? o->cfgs[i].label : "default";
		if (open_srv(o, &s, o->ncfg ? o->cfgs[i].flags : NULL, label) != 0) {
			if (sweep_stop)
				break; /* its points are listed as not run */
			snprintf(run->kv.error, sizeof run->kv.error, "[%s] %.400s", label, s.error);
			rc = 1;
			continue;
		}
		if (!run->kind || !strcmp(run->kind, "unknown"))
			run->kind = s.kind;
		if (sweep_kv_run(o, &s, &run->kv) != 0 && !sweep_stop) {
			fprintf(stderr, "ttft-sweep: KV scaling: %s\n", run->kv.error);
			rc = 1;
		}
		sweep_srv_close(&s, o);
	}
	for (int i = 0; i < run->kv.ns; i++)
		for (int j = 0; j < run->kv.s[i].npts; j++)
			rc |= run->kv.s[i].pts[j].failed > 0;
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"url", 1, 0, 'u'}, {"server", 1, 0, 's'}, {"experiments", 1, 0, 'E'},
		{"kind", 1, 0, 'K'}, {"prefix-tokens", 1, 0, 'p'}, {"prefix-requests", 1, 0, 'k'},
		{"cache-off", 1, 0, 'o'}, {"cache-off-flags", 1, 0, 'O'},
		{"cache-on-flags", 1, 0, 'N'}, {"concurrency", 1, 0, 'c'},
		{"prompt-tokens", 1, 0, 'P'}, {"kv-requests", 1, 0, 'n'}, {"kv-config", 1, 0, 'C'},
		{"server-log", 1, 0, 'S'}, {"max-tokens", 1, 0, 'm'}, {"model", 1, 0, 'M'},
		{"header", 1, 0, 'H'}, {"timeout", 1, 0, 't'}, {"ignore-eos", 0, 0, 'e'},
		{"ready-timeout", 1, 0, 'R'}, {"report", 1, 0, 'r'}, {"json", 1, 0, 'j'},
		{"log-dir", 1, 0, 'L'}, {"help", 0, 0, 'h'}, {"version", 0, 0, 'V'},
		{"quiet", 0, 0, 'q'},
		{0, 0, 0, 0},
	};
	struct sweep_opts o = {0};
	o.url = "http://127.0.0.1:8000";
	o.prefix = o.kv = 1;
	o.prefix_requests = 10;
	o.ready_timeout = 600;
	o.stop_timeout = 15;
	o.probe.max_tokens = 32;
	o.probe.stream = 1;
	o.probe.timeout_s = 300;
	o.probe.prompt = "";
	int pt[] = {64, 256, 1024}, cc[] = {1, 2, 4, 8}, pp[] = {128, 1024};
	memcpy(o.prefix_tokens, pt, sizeof pt);
	o.nprefix = 3;
	memcpy(o.conc, cc, sizeof cc);
	o.nconc = 4;
	memcpy(o.prompt_tokens, pp, sizeof pp);
	o.nprompt = 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	atexit(cleanup);
	g_hdr = curl_slist_append(NULL, "Content-Type: application/json");
	g_hdr = curl_slist_append(g_hdr, "Expect:");
	int c, idx = 0;
	/* the first option given of each experiment's own, and --experiments'
	 * value: an option of an experiment left out was dropped unsaid */
	const char *prefix_opt = NULL, *kv_opt = NULL, *exp_arg = NULL;
	while ((c = getopt_long(argc, argv, "qh", lo, &idx)) != -1) {
		long v;
		/* (c > 0: strchr finds a string's own NUL) */
		if (!prefix_opt && c > 0 && strchr("pkoON", c))
			prefix_opt = lo[idx].name;
		if (!kv_opt && c > 0 && strchr("cPnC", c))
			kv_opt = lo[idx].name;
		switch (c) {
		case 'u': o.url = optarg; break;
		case 's': o.server = optarg; break;
		case 'E': {
			/* each word one of the two, once, none empty: a misspelt
			 * one is not skipped, and "prefix,,kv" is no list */
			char why[96] = "";
			o.prefix = o.kv = 0;
			exp_arg = optarg;
			for (const char *p = optarg;; p++) {
				size_t len = strcspn(p, ",");
				int *f = len == 6 && !strncmp(p, "prefix", 6) ? &o.prefix
				       : len == 2 && !strncmp(p, "kv", 2)     ? &o.kv
									      : NULL;
				if (!len)
					snprintf(why, sizeof why, " (an item is empty)");
				else if (!f)
					snprintf(why, sizeof why, " ('%.*s' is no experiment)",
						 (int)(len > 40 ? 40 : len), p);
				else if (*f)
					snprintf(why, sizeof why, " ('%.*s' is named twice)", (int)len, p);
				if (why[0])
					break;
				*f = 1;
				p += len;
				if (!*p)
					break;
			}
			if (why[0]) {
				fprintf(stderr, "ttft-sweep: bad value '%s' for --experiments%s: want "
						"prefix, kv or prefix,kv\n", optarg, why);
				return TTFT_EXIT_USAGE;
			}
			break;
		}
		case 'K':
			if (strcmp(optarg, "vllm") && strcmp(optarg, "llamacpp")) {
				fprintf(stderr, "ttft-sweep: --kind wants vllm or llamacpp\n");
				return TTFT_EXIT_USAGE;
			}
			o.kind = optarg;
			break;
		case 'p':
			if (parse_list("prefix-tokens", optarg, 1, 1000000, "64,256,1024",
				       o.prefix_tokens, &o.nprefix))
				return TTFT_EXIT_USAGE;
			break;
		case 'c':
			if (parse_list("concurrency", optarg, 1, 4096, "1,2,4,8", o.conc, &o.nconc))
				return TTFT_EXIT_USAGE;
			break;
		case 'P':
			if (parse_list("prompt-tokens", optarg, 1, 1000000, "128,1024",
				       o.prompt_tokens, &o.nprompt))
				return TTFT_EXIT_USAGE;
			break;
		case 'k': case 'n': case 'm': {
			char err[256];
			if (ttft_cli_long(lo[idx].name, optarg, 1, 100000, &v, err, sizeof err)) {
				fprintf(stderr, "ttft-sweep: %s\n", err);
				return TTFT_EXIT_USAGE;
			}
			if (c == 'k')
				o.prefix_requests = (int)v;
			else if (c == 'n')
				o.kv_requests = (int)v;
			else
				o.probe.max_tokens = (int)v;
			break;
		}
		case 'o':
			if (o.cache_off == OFF_FLAGS) {
				fprintf(stderr, "ttft-sweep: --cache-off %s and --cache-off-flags are "
						"two ways to make the misses: give one\n", optarg);
				return TTFT_EXIT_USAGE;
			}
			if (!strcmp(optarg, "request"))
				o.cache_off = OFF_REQUEST;
			else if (!strcmp(optarg, "bust"))
				o.cache_off = OFF_BUST;
			else {
				fprintf(stderr, "ttft-sweep: --cache-off wants request or bust "
						"(or --cache-off-flags F), got '%s'\n", optarg);
				return TTFT_EXIT_USAGE;
			}
			o.cache_off_given = 1;
			break;
		case 'O':
			/* the other order too: the later flag won, silently */
			if (o.cache_off_given && o.cache_off != OFF_FLAGS) {
				fprintf(stderr, "ttft-sweep: --cache-off %s and --cache-off-flags are "
						"two ways to make the misses: give one\n",
					o.cache_off == OFF_REQUEST ? "request" : "bust");
				return TTFT_EXIT_USAGE;
			}
			o.off_flags = optarg;
			o.cache_off = OFF_FLAGS;
			o.cache_off_given = 1;
			break;
		case 'N': o.on_flags = optarg; break;
		case 'C': {
			const char *eq = strchr(optarg, '=');
			size_t ln = eq ? (size_t)(eq - optarg) : 0;
			if (!eq || !ln || ln >= sizeof o.cfgs[0].label ||
			    strspn(optarg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789_.-") != ln || o.ncfg == SWEEP_MAX_LIST) {
				fprintf(stderr, "ttft-sweep: --kv-config wants LABEL=FLAGS (LABEL: "
						"letters, digits, _ . -; up to %d of them), got '%s'\n",
					SWEEP_MAX_LIST, optarg);
				return TTFT_EXIT_USAGE;
			}
			if (!eq[1 + strspn(eq + 1, " \t")]) {
				/* CMD as it is, under a label that names flags: an
				 * unset shell variable, most likely */
				fprintf(stderr, "ttft-sweep: bad value '%s' for --kv-config: FLAGS is "
						"empty; give the flags that make this configuration, "
						"e.g. '%.*s=-np 2 -c 4096' (for CMD's own defaults, "
						"name one of them)\n", optarg, (int)ln, optarg);
				return TTFT_EXIT_USAGE;
			}
			memcpy(o.cfgs[o.ncfg].label, optarg, ln);
			o.cfgs[o.ncfg].label[ln] = 0;
			o.cfgs[o.ncfg++].flags = eq + 1;
			break;
		}
		case 'S': o.server_log = optarg; break;
		case 'M': o.probe.model = optarg; break;
		case 'H': {
			/* as ttft-probe checks it: ':' passed, and every request
			 * went without the header (or was refused) */
			int tp;
			char err[300];
			if (probe_header_check(optarg, &tp, err, sizeof err) != 0) {
				fprintf(stderr, "ttft-sweep: %s\n", err);
				return TTFT_EXIT_USAGE;
			}
			o.probe.user_traceparent |= tp;
			g_hdr = curl_slist_append(g_hdr, optarg);
			break;
		}
		case 't': case 'R': {
			double d;
			char err[256];
			if (ttft_cli_double(lo[idx].name, optarg, 0, 1, 1e6, &d, err, sizeof err)) {
				fprintf(stderr, "ttft-sweep: %s (seconds)\n", err);
				return TTFT_EXIT_USAGE;
			}
			if (c == 't')
				o.probe.timeout_s = d;
			else
				o.ready_timeout = d;
			break;
		}
		case 'e': o.probe.ignore_eos = 1; break;
		case 'r': o.report = optarg; break;
		case 'j': o.json = optarg; break;
		case 'L': o.log_dir = optarg; break;
		case 'q': g_quiet = 1; break;
		case 'h': usage(stdout); return TTFT_EXIT_OK;
		case 'V': printf("ttft-sweep (%s)\n", ttft_version()); return TTFT_EXIT_OK;
		default:
			fprintf(stderr, "ttft-sweep: see ttft-sweep --help\n");
			return TTFT_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ttft-sweep: unexpected argument '%s'\n", argv[optind]);
		return TTFT_EXIT_USAGE;
	}
	if ((kv_opt && !o.kv) || (prefix_opt && !o.prefix)) {
		const char *ex = kv_opt && !o.kv ? "kv" : "prefix";
		fprintf(stderr, "ttft-sweep: --%s is for the %s experiment, which --experiments %s "
				"leaves out: drop it, or run both (--experiments prefix,kv)\n",
			kv_opt && !o.kv ? kv_opt : prefix_opt, ex, exp_arg);
		return TTFT_EXIT_USAGE;
	}
	if (o.prefix && o.cache_off_given && o.cache_off == OFF_REQUEST && o.kind &&
	    !strcmp(o.kind, "vllm")) {
		fprintf(stderr, "ttft-sweep: %s\n", g_request_on_vllm);
		return TTFT_EXIT_USAGE;
	}
	/* a label names a configuration's series, its capacity row and its
	 * log (LOG-DIR/sweep-LABEL.log): two of one name were one in the
	 * report (the second's flags beside the first's capacity) and one
	 * log; the prefix experiment's servers log as prefix, prefix-off,
	 * prefix-on */
	for (int i = 0; i < o.ncfg; i++) {
		const char *l = o.cfgs[i].label;
		int dup = 0;
		for (int k = 0; k < i; k++)
			dup |= !strcmp(o.cfgs[k].label, l);
		if (dup || !strcmp(l, "prefix") || !strcmp(l, "prefix-off") ||
		    !strcmp(l, "prefix-on")) {
			fprintf(stderr, "ttft-sweep: --kv-config label '%s' %s: each configuration "
					"needs a label of its own (it names its series, its capacity "
					"row and its log sweep-LABEL.log)\n", l, dup ? "is given twice"
					: "is the prefix experiment's server's");
			return TTFT_EXIT_USAGE;
		}
	}
	if (!o.server && (o.ncfg || o.cache_off == OFF_FLAGS || o.on_flags)) {
		fprintf(stderr, "ttft-sweep: --kv-config, --cache-off-flags and --cache-on-flags "
				"start configurations: they need --server 'CMD'\n");
		return TTFT_EXIT_USAGE;
	}
	struct ttft_url url;
	char uerr[300];
	if (ttft_url_parse(o.url, &url, uerr, sizeof uerr) != 0) {
		fprintf(stderr, "ttft-sweep: --url: %s\n", uerr);
		return TTFT_EXIT_USAGE;
	}
	o.probe.base = url.base;
	snprintf(o.host, sizeof o.host, "%s", url.host);
	o.port = url.port;
	o.probe.headers = g_hdr;
	o.run_id = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
	o.say = say;
	char logdir[PATH_MAX], perr[PATH_MAX + 300];
	/* "--log-dir -q": an option taken for the DIR, said before any
	 * directory is made */
	if (o.log_dir && o.log_dir[0] == '-' && o.log_dir[1] &&
	    ttft_output_check("log-dir", o.log_dir, perr, sizeof perr) != 0) {
		fprintf(stderr, "ttft-sweep: %s\n", perr);
		return TTFT_EXIT_USAGE;
	}
	if (!o.log_dir && o.report) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof tmp, "%s", o.report);
		snprintf(logdir, sizeof logdir, "%s", dirname(tmp));
		o.log_dir = logdir;
	}
	if (o.log_dir)
		mkdir(o.log_dir, 0755); /* the one level asked for; its absence is said below */
	/* Every output and the server's log, now: not after the sweep. */
	char logprobe[PATH_MAX + 32];
	if (o.log_dir)
		snprintf(logprobe, sizeof logprobe, "%s/sweep-check.log", o.log_dir);
	if ((o.report && ttft_output_check("report", o.report, perr, sizeof perr) != 0) ||
	    (o.json && ttft_output_check("json", o.json, perr, sizeof perr) != 0) ||
	    (o.log_dir && ttft_output_check(o.log_dir == logdir ? "report" : "log-dir",
					   logprobe, perr, sizeof perr) != 0)) {
		fprintf(stderr, "ttft-sweep: %s\n", perr);
		return TTFT_EXIT_USAGE;
	}
	if (o.server_log && access(o.server_log, R_OK) != 0) {
		fprintf(stderr, "ttft-sweep: cannot read --server-log %s: %s\n", o.server_log,
			strerror(errno));
		return TTFT_EXIT_USAGE;
	}

	/* a write it lands in goes on; curl's poll and the waits' sleeps see
	 * the flag at once */
	ttft_cli_catch_stop(on_signal);
	signal(SIGPIPE, SIG_IGN);
	o.probe.stop = &sweep_stop;

	static struct sweep_run run; /* large: the KV series */
	run.o = &o;
	run.kind = o.kind;
	time_t now = time(NULL);
	strftime(run.date, sizeof run.date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	int rc = 0;
	if (o.prefix && !sweep_stop)
		rc |= run_prefix(&o, &run);
	if (o.kv && !sweep_stop)
		rc |= run_kv(&o, &run);
	run.kind = run.kind ? run.kind : "unknown";
	run.model = o.probe.model ? o.probe.model : "unknown";
	run.stop_sig = sweep_stop;
	if (run.stop_sig)
		fprintf(stderr, "ttft-sweep: interrupted by %s; the server is stopped; writing "
				"what ran, marked interrupted\n",
			run.stop_sig == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM");
	int unwritten = 0; /* an output that could not be written: exit 1 */
	if (sweep_logs_unwritten) { /* said as each server stopped */
		rc = TTFT_EXIT_FAILED;
		unwritten = 1;
	}
	if (o.report && (run.prefix.npts || run.kv.ns || run.prefix.error[0])) {
		char err[1024];
		if (sweep_write_report(&run, o.report, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-sweep: %s\n", err);
			rc = TTFT_EXIT_FAILED;
			unwritten = 1;
		} else {
			if (!g_quiet)
				fprintf(stderr, "ttft-sweep: report written to %s (and its .html)\n",
					o.report);
		}
	}
	if (o.json) {
		/* into a string, then replaced whole (a new file renamed over it) */
		struct ttft_json j;
		char *js = NULL, err[PATH_MAX + 300];
		if (ttft_json_init(&j, NULL, 1) == 0) {
			sweep_json(&j, &run);
			js = ttft_json_take(&j);
		}
		ttft_json_free(&j);
		if (!js || ttft_write_atomic(o.json, js, strlen(js), err, sizeof err) != 0) {
			fprintf(stderr, "ttft-sweep: %s\n", js ? err : "out of memory writing the JSON");
			rc = TTFT_EXIT_FAILED;
			unwritten = 1;
		}
		free(js);
	}
	sweep_prefix_free(&run.prefix);
	for (int i = 0; i < run.kv.ns; i++)
		for (int k = 0; k < run.kv.s[i].npts; k++) {
			sweep_reqs_free(run.kv.s[i].pts[k].req, run.kv.s[i].pts[k].nreq);
			free(run.kv.s[i].pts[k].req);
		}
	/* 128 + the signal says what ran is written: not when it was not */
	if (run.stop_sig && unwritten)
		fprintf(stderr, "ttft-sweep: interrupted, and what ran could not all be written "
				"(above): exit 1\n");
	return run.stop_sig && !unwritten ? 128 + run.stop_sig : rc;
}
