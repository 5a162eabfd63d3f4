/* ttft-cold — the cold-start decomposition: start the server, stamp its log
 * lines and readiness, time the cold request and warm ones, sample GPU and
 * CPU, stop the server, and write first_token_latency.md. Everything the
 * run needs is checked before the first server starts. */
#include "cold.h"
#include "ttft_html.h"
#include "ttft_cli.h"
#include "ttft_clock.h"
#include "ttft_url.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static volatile pid_t g_pgid;

static void on_signal(int sig)
{
	(void)sig;
	/* async-signal-safe only: the rest happens in main. A second Ctrl-C
	 * does not wait for the server's own shutdown. */
	g_stop = 1 + (g_stop > 0);
	if (g_pgid > 0)
		kill(-g_pgid, g_stop > 1 ? SIGKILL : SIGTERM);
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-cold --server 'CMD' [--url URL] [options]\n"
"\n"
"Starts CMD (its own process group), stamps each line it prints, polls for\n"
"the port and for /health (every 20 ms), then times the cold request and\n"
"--warm-runs warm ones (ttft-probe's engine), samples GPU and CPU, stops the\n"
"server (SIGTERM, then SIGKILL), and explains the cold start from the\n"
"server's own log lines: weights load, runtime warm-up (compile, graph\n"
"capture), allocations (KV cache), nested as the server nests them, and\n"
"whatever no line explains ('unaccounted'); then the cold request against\n"
"the warm ones, like for like (prompt and cached tokens of each run).\n"
"\n"
"  --server CMD         the server command line (run with sh -c CMD)\n"
"  --url URL            where it serves (default http://127.0.0.1:8000)\n"
"  --warm-runs N        warm requests after the cold one (default 5, >= 1)\n"
"  --cycles K           restarts, to show the spread (default 3)\n"
"  --same-prompt        send the same prompt every run (default: each run's\n"
"                       prompt starts with its own number, so no run reuses\n"
"                       another's prefix from the server's cache)\n"
"  --ready-timeout S    give up if not ready after S s (default 600)\n"
"  --stop-timeout S     SIGKILL after S s of SIGTERM (default 15)\n"
"  --kind KIND          vllm | llamacpp (default: guessed from the log)\n"
"  --patterns FILE      phase patterns (default tools/patterns/KIND.tsv)\n"
"  --report FILE        write the Markdown report (the seed's template)\n"
"  --template FILE      the template (default docs/first_token_latency.md)\n"
"  --json FILE          the same numbers as JSON ('-' = stdout)\n"
"  --log-dir DIR        keep the stamped server logs there (default: the\n"
"                       report's directory, else the JSON's; with neither,\n"
"                       they are not kept)\n"
"  --prompt TEXT, --max-tokens N, --model M, --chat, --ignore-eos,\n"
"  --timeout S          as for ttft-probe (max tokens default 64)\n"
"  -q, --quiet          no progress on stderr\n"
"  -h, --help           this text\n"
"  --version            print the version\n"
"\n"
"Every flag, the pattern file, the template and every output path are\n"
"checked before the first server starts. Outputs are replaced atomically.\n"
"Ctrl-C (or SIGTERM) cancels the request in flight, stops the server and\n"
"writes what was measured, marked interrupted; a second Ctrl-C kills the\n"
"server at once.\n"
"\n"
"exit status: 0 ok; 1 the measurement failed (the server exited early,\n"
"never became ready, died during the runs; a request failed; an output\n"
"could not be written); 2 usage error (bad flag or value, unknown --kind,\n"
"unreadable patterns or template, a template with no {{placeholder}} (a\n"
"report already filled in) or that --report would overwrite, unwritable\n"
"--report/--json/--log-dir, the port already in use, an https:// URL on a\n"
"plain-HTTP server); 130\n"
"interrupted (the server is stopped first). In every case the server's\n"
"whole process group is gone before ttft-cold exits.\n");
}

struct opts {
	const char *server, *url, *kind, *patterns, *report, *tpl, *json, *log_dir;
	long warm, cycles;
	int quiet, same_prompt;
	double ready_timeout, stop_timeout;
	struct probe_cfg probe;
};

__attribute__((format(printf, 2, 3)))
static void progress(const struct opts *o, const char *fmt, ...)
{
	if (o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("ttft-cold: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

static const char *exe_relative(const char *rel, char *buf, size_t n)
{
	char self[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
	if (k <= 0)
		return NULL;
	self[k] = 0;
	snprintf(buf, n, "%s/../%s", dirname(self), rel);
	return access(buf, R_OK) == 0 ? buf : NULL;
}

struct sampler {
	struct cold_cycle *c;
	int stop; /* set by the main thread, atomically */
};

static void *sample_gpu(void *arg)
{
	struct sampler *s = arg;
	/* Relaxed: a flag, ordering nothing; the join publishes the samples. */
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED) &&
	       s->c->nsamples < COLD_MAX_SAMPLES) {
		struct gpu_snap g;
		sanity_gpu(&g);
		if (!g.present)
			break;
		s->c->samples[s->c->nsamples++] = (struct cold_sample){
			(double)(ttft_now_ns() - s->c->t_spawn) / 1e9, g.util_pct};
		usleep(100000);
	}
	return NULL;
}

static void tail_into(struct cold_server *srv, char *out, size_t n)
{
	struct cold_line tail[12];
	size_t k = cold_server_tail(srv, tail, 12);
	size_t o = strlen(out);
	for (size_t i = 0; i < k; i++) {
		if (o + 8 < n)
			o += (size_t)snprintf(out + o, n - o, "\n    %s", tail[i].text);
		free(tail[i].text);
	}
	if (!k && o + 8 < n)
		snprintf(out + o, n - o, "\n    (it printed nothing)");
}

static double since(int64_t t0)
{
	return (double)(ttft_now_ns() - t0) / 1e9;
}

/* The model (from --model or /v1/models) and the server's version (vLLM's
 * /version, llama.cpp's /props build_info); whether /metrics can be read
 * (vLLM's prefix-cache counters give each run's cached tokens). */
static void server_facts(struct probe_cfg *cfg, struct cold_cycle *c)
{
	char err[512], url[2200], *body = NULL;
	if (!cfg->model) {
		char *m = probe_first_model(cfg, err, sizeof err);
		if (m) {
			snprintf(c->model, sizeof c->model, "%s", m);
			free(m);
		}
	} else {
		snprintf(c->model, sizeof c->model, "%s", cfg->model);
	}
	if (c->model[0])
		cfg->model = c->model;
	static const char *const where[][2] = {{"/version", "version"}, {"/props", "build_info"}};
	for (int i = 0; i < 2 && !c->version[0]; i++) {
		snprintf(url, sizeof url, "%s%s", cfg->base, where[i][0]);
		if (cold_http_get(url, 2.0, &body) == 200) {
			cJSON *j = cJSON_Parse(body ? body : "");
			cJSON *v = cJSON_GetObjectItem(j, where[i][1]);
			if (cJSON_IsString(v))
				snprintf(c->version, sizeof c->version, "%s", v->valuestring);
			cJSON_Delete(j);
		}
		free(body);
		body = NULL;
	}
	struct ttft_truth t;
	cfg->metrics = probe_scrape(cfg, &t, err, sizeof err) == 0;
}

/* The runs that were made: sequential, so the first never started ends
 * them. */
static int made(const struct ttft_record *r, int n)
{
	int k = 0;
	while (k < n && r[k].t_start)
		k++;
	return k;
}

static int interrupted(struct cold_cycle *c)
{
	c->interrupted = 1;
	snprintf(c->error, sizeof c->error, "interrupted (Ctrl-C or SIGTERM)");
	return TTFT_EXIT_INTERRUPTED;
}

/* One restart: spawn → listening → ready → cold → warm → stop. */
static int run_cycle(const struct opts *o, struct cold_cycle *c, const char *host,
		     int port, const char *log_dir, const char *const *prompts)
{
	if (cold_port_open(host, port)) {
		snprintf(c->error, sizeof c->error,
			 "port %d on %s is already in use: stop what listens there, or "
			 "point --url and the server at a free port", port, host);
		return TTFT_EXIT_USAGE;
	}
	sanity_host(&c->host_start);
	sanity_gpu(&c->gpu_before);
	if (log_dir)
		snprintf(c->log_path, sizeof c->log_path, "%s/server-cycle%d.log", log_dir,
			 c->index);
	struct cold_server srv;
	if (cold_server_start(&srv, o->server, log_dir ? c->log_path : NULL) != 0) {
		snprintf(c->error, sizeof c->error, "cannot start the server (log %.400s): %s",
			 c->log_path, strerror(errno));
		cold_server_free(&srv);
		return TTFT_EXIT_FAILED;
	}
	g_pgid = srv.pid;
	c->t_spawn = srv.t_spawn;
	progress(o, "cycle %d: started '%s' (pid %d)\n", c->index, o->server, (int)srv.pid);
	char health[2100], plain[2100];
	snprintf(health, sizeof health, "%s/health", o->probe.base);
	int rc = 0, listening = 0, last_report = 0, tls_checked = 0;
	c->spawn_to_listen_s = c->spawn_to_ready_s = NAN;
	/* CPU while requests ran: unknown until a request runs */
	c->sys_cpu_cold = c->srv_cpu_cold = c->sys_cpu_warm = c->srv_cpu_warm = NAN;
	for (;;) {
		double t = since(srv.t_spawn);
		if (g_stop) {
			rc = interrupted(c);
			break;
		}
		if (cold_server_dead(&srv)) {
			int st = srv.status;
			snprintf(c->error, sizeof c->error,
				 "the server exited before it was ready (%s %d) after %.1f s; "
				 "its last lines:", WIFEXITED(st) ? "exit code" : "signal",
				 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), t);
			usleep(100000); /* let the reader take the last lines */
			tail_into(&srv, c->error, sizeof c->error);
			rc = TTFT_EXIT_FAILED;
			break;
		}
		if (t > o->ready_timeout) {
			snprintf(c->error, sizeof c->error,
				 "the server was not ready after %.0f s (--ready-timeout); "
				 "%s; its last lines:", o->ready_timeout,
				 listening ? "its port accepted but /health never answered 200"
					   : "its port never accepted");
			tail_into(&srv, c->error, sizeof c->error);
			rc = TTFT_EXIT_FAILED;
			break;
		}
		if (!listening && cold_port_open(host, port)) {
			listening = 1;
			c->spawn_to_listen_s = t;
		}
		if (listening && cold_http_get(health, 1.0, NULL) == 200) {
			c->spawn_to_ready_s = since(srv.t_spawn);
			break;
		}
		/* an https:// URL on a plain server never answers: say so */
		if (listening && !tls_checked && t - c->spawn_to_listen_s > 3) {
			tls_checked = 1;
			if (probe_plain_http(o->probe.base, plain, sizeof plain)) {
				snprintf(c->error, sizeof c->error, "%.400s answers plain HTTP, "
					 "not TLS: use --url %.400s", o->probe.base, plain);
				rc = TTFT_EXIT_USAGE;
				break;
			}
		}
		if ((int)t / 10 > last_report) {
			last_report = (int)t / 10;
			progress(o, "  … %d s, %s\n", (int)t,
				 listening ? "listening, waiting for /health" : "not listening yet");
		}
		usleep(20000);
	}
	if (rc == 0) {
		progress(o, "  listening after %.3f s, ready after %.3f s\n",
			 c->spawn_to_listen_s, c->spawn_to_ready_s);
		c->server_argv = cold_server_argv(srv.pid, &c->server_pid);
		sanity_gpu(&c->gpu_ready);
		struct probe_cfg cfg = o->probe;
		cfg.stop = &g_stop;
		server_facts(&cfg, c);
		struct cpu_snap a, b, w0, w1;
		struct probe_run run = {.cfg = &cfg, .conc = 1};
		char perr[256] = "";
		int prc = 0;
		sanity_cpu(srv.pid, &a);
		cfg.prompts = prompts;
		if (!g_stop)
			prc = probe_run(&run, &c->cold, 1, perr, sizeof perr);
		sanity_cpu(srv.pid, &b);
		sanity_gpu(&c->gpu_after_cold);
		if (c->cold.t_start) /* no cold request made: no CPU during one */
			sanity_cpu_between(&a, &b, &c->sys_cpu_cold, &c->srv_cpu_cold);
		c->cold.label = "cold";
		c->warm = calloc((size_t)o->warm, sizeof *c->warm);
		c->samples = calloc(COLD_MAX_SAMPLES, sizeof *c->samples);
		if (!c->warm || !c->samples) {
			prc = -1;
			snprintf(perr, sizeof perr, "out of memory for %ld warm runs", o->warm);
		}
		struct sampler smp = {c, 0};
		pthread_t th;
		int sampling = c->samples && pthread_create(&th, NULL, sample_gpu, &smp) == 0;
		sanity_cpu(srv.pid, &w0);
		cfg.prompts = prompts ? prompts + 1 : NULL;
		if (!g_stop && prc >= 0)
			prc = probe_run(&run, c->warm, (int)o->warm, perr, sizeof perr);
		sanity_cpu(srv.pid, &w1);
		__atomic_store_n(&smp.stop, 1, __ATOMIC_RELAXED);
		if (sampling)
			pthread_join(th, NULL);
		c->nwarm = c->warm ? made(c->warm, (int)o->warm) : 0;
		if (c->nwarm)
			sanity_cpu_between(&w0, &w1, &c->sys_cpu_warm, &c->srv_cpu_warm);
		for (int i = 0; i < c->nwarm; i++) {
			c->warm[i].label = "warm";
			c->warm[i].run = i + 2;
		}
		int failed = c->cold.t_start && !c->cold.ok;
		for (int i = 0; i < c->nwarm; i++)
			failed += !c->warm[i].ok;
		/* answered, but no token came: a request without a TTFT is
		 * no measurement of one (the cycle said "ok" and printed
		 * "cold TTFT nan s") */
		int notoken = c->cold.t_start && c->cold.ok && isnan(ttft_record_ttft_s(&c->cold));
		for (int i = 0; i < c->nwarm; i++)
			notoken += c->warm[i].ok && isnan(ttft_record_ttft_s(&c->warm[i]));
		/* Requests fail the moment a dying server's socket closes, a
		 * little before its process can be reaped: when they failed,
		 * give it a second to show that it died. */
		int dead = cold_server_dead(&srv);
		for (int k = 0; failed && !dead && !g_stop && k < 50; k++) {
			usleep(20000);
			dead = cold_server_dead(&srv);
		}
		if (g_stop) {
			rc = interrupted(c);
		} else if (prc < 0) {
			snprintf(c->error, sizeof c->error, "%s", perr);
			rc = TTFT_EXIT_FAILED;
		} else if (dead) {
			snprintf(c->error, sizeof c->error,
				 "the server died during the requests; its last lines:");
			tail_into(&srv, c->error, sizeof c->error);
			rc = TTFT_EXIT_FAILED;
		} else if (failed) {
			snprintf(c->error, sizeof c->error, "%d request%s failed: %s", failed,
				 failed == 1 ? "" : "s",
				 !c->cold.ok ? ttft_record_error(&c->cold) : "see the warm runs");
			rc = TTFT_EXIT_FAILED;
		} else if (notoken) {
			snprintf(c->error, sizeof c->error, "%d request%s streamed no token (the "
				 "server answered, but no event carried one): no TTFT to measure",
				 notoken, notoken == 1 ? "" : "s");
			rc = TTFT_EXIT_FAILED;
		}
	}
	c->stop_s = cold_server_stop(&srv, g_stop > 1 ? 0 : o->stop_timeout);
	int le = cold_server_log_close(&srv);
	if (le)
		snprintf(c->log_error, sizeof c->log_error, "%s", strerror(le));
	g_pgid = 0;
	sanity_host(&c->host_end);
	c->steal_pct = sanity_steal_pct(&c->host_start, &c->host_end);
	/* keep the lines for phases and outlier notes */
	c->lines = srv.lines;
	c->nlines = srv.nlines;
	srv.lines = NULL;
	srv.nlines = 0;
	cold_server_free(&srv);
	c->ok = rc == 0;
	return rc;
}

static int load_patterns(const struct opts *o, const char *kind, struct cold_patterns *ps,
			 const char **path, char *pbuf, size_t pn)
{
	char perr[600];
	const char *pp = o->patterns;
	if (!pp)
		pp = cold_patterns_path(kind, pbuf, pn);
	*path = pp;
	if (cold_patterns_load(ps, pp, perr, sizeof perr) != 0) {
		fprintf(stderr, "ttft-cold: %s%s\n", perr, o->patterns ? " (--patterns)"
			: " (--kind, or --patterns FILE for your own)");
		return -1;
	}
	return 0;
}

static void free_run(struct cold_run *run)
{
	for (int k = 0; k < run->ncycles; k++) {
		struct cold_cycle *cy = &run->cycles[k];
		ttft_record_free(&cy->cold);
		/* all of them: the runs never made were initialised too */
		for (int i = 0; cy->warm && i < run->warm_runs; i++)
			ttft_record_free(&cy->warm[i]);
		free(cy->warm);
		free(cy->samples);
		free(cy->server_argv);
		for (size_t i = 0; i < cy->nlines; i++)
			free(cy->lines[i].text);
		free(cy->lines);
	}
	free(run->cycles);
}

/* Check, before anything starts, that a file can be written there. */
static int check_output(const char *flag, const char *path)
{
	char err[PATH_MAX + 200];
	if (path && ttft_output_check(flag, path, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-cold: %s\n", err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{"server", 1, 0, 's'}, {"url", 1, 0, 'u'}, {"warm-runs", 1, 0, 'w'},
		{"cycles", 1, 0, 'k'}, {"ready-timeout", 1, 0, 'R'}, {"stop-timeout", 1, 0, 'S'},
		{"kind", 1, 0, 'K'}, {"patterns", 1, 0, 'p'}, {"report", 1, 0, 'r'},
		{"template", 1, 0, 'T'}, {"json", 1, 0, 'j'}, {"log-dir", 1, 0, 'L'},
		{"prompt", 1, 0, 'P'}, {"max-tokens", 1, 0, 'm'}, {"model", 1, 0, 'M'},
		{"chat", 0, 0, 'c'}, {"ignore-eos", 0, 0, 'e'}, {"timeout", 1, 0, 't'},
		{"same-prompt", 0, 0, 'X'}, {"quiet", 0, 0, 'q'}, {"help", 0, 0, 'h'},
		{"version", 0, 0, 'V'}, {0, 0, 0, 0},
	};
	struct opts o = {0};
	o.url = "http://127.0.0.1:8000";
	o.warm = 5;
	o.cycles = 3;
	o.ready_timeout = 600;
	o.stop_timeout = 15;
	o.probe.prompt = "Explain TTFT in one sentence.";
	o.probe.max_tokens = 64;
	o.probe.stream = 1;
	o.probe.timeout_s = 300;
	int c, idx = 0, bad = 0;
	long mt = 64;
	char err[PATH_MAX + 300];
	while (!bad && (c = getopt_long(argc, argv, "qh", lo, &idx)) != -1) {
		const char *flag = lo[idx].name;
		switch (c) {
		case 's': o.server = optarg; break;
		case 'u': o.url = optarg; break;
		case 'w':
			if (!strcmp(optarg, "0")) {
				fprintf(stderr, "ttft-cold: bad value '0' for --warm-runs: a cold "
						"request alone has nothing to be compared with; "
						"want 1 or more\n");
				return TTFT_EXIT_USAGE;
			}
			bad = ttft_cli_long(flag, optarg, 1, 10000, &o.warm, err, sizeof err);
			break;
		case 'k': bad = ttft_cli_long(flag, optarg, 1, 1000, &o.cycles, err, sizeof err); break;
		case 'R': bad = ttft_cli_double(flag, optarg, 0, 1, 1e6, &o.ready_timeout, err, sizeof err); break;
		case 'S': bad = ttft_cli_double(flag, optarg, 0, 0, 1e6, &o.stop_timeout, err, sizeof err); break;
		case 'K': o.kind = optarg; break;
		case 'p': o.patterns = optarg; break;
		case 'r': o.report = optarg; break;
		case 'T': o.tpl = optarg; break;
		case 'j': o.json = optarg; break;
		case 'L': o.log_dir = optarg; break;
		case 'P':
			if (!*optarg) {
				fprintf(stderr, "ttft-cold: bad value '' for --prompt: an empty "
						"prompt measures nothing\n");
				return TTFT_EXIT_USAGE;
			}
			o.probe.prompt = optarg;
			break;
		case 'm':
			bad = ttft_cli_long(flag, optarg, 1, 1000000, &mt, err, sizeof err);
			o.probe.max_tokens = (int)mt;
			break;
		case 'M': o.probe.model = optarg; break;
		case 'c': o.probe.chat = 1; break;
		case 'e': o.probe.ignore_eos = 1; break;
		case 't': bad = ttft_cli_double(flag, optarg, 0, 1, 1e6, &o.probe.timeout_s, err, sizeof err); break;
		case 'X': o.same_prompt = 1; break;
		case 'q': o.quiet = 1; break;
		case 'h': usage(stdout); return TTFT_EXIT_OK;
		case 'V': printf("ttft-cold (%s)\n", ttft_version()); return TTFT_EXIT_OK;
		default:
			fprintf(stderr, "ttft-cold: see ttft-cold --help\n");
			return TTFT_EXIT_USAGE;
		}
	}
	if (bad) {
		fprintf(stderr, "ttft-cold: %s\n", err);
		return TTFT_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "ttft-cold: unexpected argument '%s' (the server command "
				"goes in --server 'CMD')\n", argv[optind]);
		return TTFT_EXIT_USAGE;
	}
	if (!o.server || !*o.server) {
		fprintf(stderr, "ttft-cold: --server 'CMD' is required (see ttft-cold --help)\n");
		return TTFT_EXIT_USAGE;
	}
	struct ttft_url u;
	char uerr[512];
	if (ttft_url_parse(o.url, &u, uerr, sizeof uerr) != 0) {
		fprintf(stderr, "ttft-cold: bad value '%s' for --url: %s\n", o.url, uerr);
		return TTFT_EXIT_USAGE;
	}
	const char *host = u.host;
	int port = u.port;
	o.probe.base = u.base;

	/* the pattern file now, when the kind is known: not after a cycle */
	struct cold_patterns ps = {0};
	char ppath[PATH_MAX];
	const char *patterns_path = NULL;
	if (o.kind && strcmp(o.kind, "vllm") && strcmp(o.kind, "llamacpp") && !o.patterns) {
		fprintf(stderr, "ttft-cold: bad value '%s' for --kind: want vllm or llamacpp "
				"(or --patterns FILE for another server)\n", o.kind);
		return TTFT_EXIT_USAGE;
	}
	if ((o.kind || o.patterns) &&
	    load_patterns(&o, o.kind ? o.kind : "custom", &ps, &patterns_path, ppath,
			  sizeof ppath) != 0)
		return TTFT_EXIT_USAGE;
	char tplbuf[PATH_MAX];
	const char *tpl = o.tpl;
	if (o.report && !tpl && !(tpl = exe_relative("docs/first_token_latency.md", tplbuf,
						     sizeof tplbuf)))
		tpl = "docs/first_token_latency.md";
	if (o.report && cold_template_check(tpl, o.report, err, sizeof err) != 0) {
		fprintf(stderr, "ttft-cold: %s\n", err);
		cold_patterns_free(&ps);
		return TTFT_EXIT_USAGE;
	}
	/* The stamped server logs go beside the outputs (or to --log-dir);
	 * with no output asked for, nowhere: nothing is left behind. */
	char logdir[PATH_MAX] = "", tmp[PATH_MAX];
	const char *beside = o.report ? o.report : o.json && strcmp(o.json, "-") ? o.json : NULL;
	if (o.log_dir) {
		snprintf(logdir, sizeof logdir, "%s", o.log_dir);
		mkdir(logdir, 0755); /* the one level asked for; its absence is said below */
	} else if (beside) {
		snprintf(tmp, sizeof tmp, "%s", beside);
		snprintf(logdir, sizeof logdir, "%s", dirname(tmp));
	}
	char logprobe[PATH_MAX + 32] = "";
	if (logdir[0])
		snprintf(logprobe, sizeof logprobe, "%s/server-cycle1.log", logdir);
	if (check_output("report", o.report) || check_output("json", o.json) ||
	    ((o.log_dir || beside) &&
	     check_output(o.log_dir ? "log-dir" : o.report ? "report" : "json", logprobe))) {
		cold_patterns_free(&ps);
		return TTFT_EXIT_USAGE;
	}

	/* Distinct prompts: the same text behind a one-character label of its
	 * own ("0. ", "1. ", … "9. ", "A. ", …): the labels differ in their
	 * first token, so no run shares a prefix with another in the server's
	 * cache, and each is one token, so every run prefills as many. */
	static const char labels[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz";
	int nruns = (int)o.warm + 1;
	char **prompts = NULL;
	if (!o.same_prompt) {
		prompts = calloc((size_t)nruns, sizeof *prompts);
		for (int i = 0; prompts && i < nruns; i++) {
			size_t n = strlen(o.probe.prompt) + 8;
			prompts[i] = malloc(n);
			if (prompts[i])
				snprintf(prompts[i], n, "%c. %s", labels[i % (sizeof labels - 1)],
					 o.probe.prompt);
		}
	}

	curl_global_init(CURL_GLOBAL_DEFAULT);
	o.probe.headers = curl_slist_append(NULL, "Content-Type: application/json");
	o.probe.headers = curl_slist_append(o.probe.headers, "Expect:");
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct cold_run run = {0};
	run.server_cmd = o.server;
	run.url = u.base;
	run.warm_runs = (int)o.warm;
	run.max_tokens = o.probe.max_tokens;
	run.chat = o.probe.chat;
	run.prompt = o.probe.prompt;
	run.distinct_prompts = !o.same_prompt;
	run.cycles_wanted = (int)o.cycles;
	run.tool_version = ttft_version();
	run.cycles = calloc((size_t)o.cycles, sizeof *run.cycles);
	sanity_cpu_name(run.cpu, sizeof run.cpu);
	sanity_os_name(run.os, sizeof run.os);
	time_t now = time(NULL);
	strftime(run.date, sizeof run.date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	run.kind = o.kind ? o.kind : "unknown";
	run.patterns_path = patterns_path;
	int rc = 0;
	for (int k = 0; k < o.cycles && rc == 0; k++) {
		struct cold_cycle *cy = &run.cycles[k];
		cy->index = k + 1;
		rc = run_cycle(&o, cy, host, port, o.log_dir || beside ? logdir : NULL,
			       (const char *const *)prompts);
		run.ncycles = k + 1;
		if (!ps.n && !o.kind && !o.patterns) {
			const char *kind = cold_detect_kind(cy->lines, cy->nlines);
			if (kind) {
				run.kind = kind;
				if (load_patterns(&o, kind, &ps, &run.patterns_path, ppath,
						  sizeof ppath) != 0)
					ps.n = 0;
			} else if (cy->nlines) {
				fprintf(stderr, "ttft-cold: warning: cannot tell the server's kind "
						"from its log; pass --kind vllm|llamacpp or "
						"--patterns FILE to explain its start-up\n");
			}
		}
		if (ps.n) {
			cold_decompose(&ps, cy->lines, cy->nlines, cy->t_spawn,
				       cy->spawn_to_ready_s, &cy->dec);
			/* of a start-up that ended ready: one that never did has
			 * nothing to explain (a review found the warning after
			 * "the server exited before it was ready") */
			if (!cy->dec.found && cy->nlines && !isnan(cy->spawn_to_ready_s))
				fprintf(stderr, "ttft-cold: warning: no line of the server's output "
						"matched %s: the cold start is all 'unaccounted' (for "
						"llama-server add -lv 4 --log-timestamps --log-prefix)\n",
					run.patterns_path);
		} else {
			memset(&cy->dec, 0, sizeof cy->dec);
			cy->dec.total_s = cy->dec.unaccounted_s = cy->spawn_to_ready_s;
			cy->dec.first_line_s = NAN;
		}
		if (rc == TTFT_EXIT_USAGE && k == 0) {
			fprintf(stderr, "ttft-cold: %s\n", cy->error);
			break;
		}
		if (!cy->ok) {
			fprintf(stderr, "ttft-cold: cycle %d: %s\n", cy->index, cy->error);
			if (rc == TTFT_EXIT_USAGE)
				rc = TTFT_EXIT_FAILED; /* found late: the earlier cycles stand */
		} else {
			double mn, mx, cv, med = cold_warm_median(cy, &mn, &mx, &cv);
			double ct = ttft_record_ttft_s(&cy->cold);
			progress(&o, "  cold TTFT %.4f s = %.1f× the warm median %.4f s; "
				 "spawn → ready %.3f s, of it unaccounted %.3f s\n", ct,
				 ct / med, med, cy->spawn_to_ready_s, cy->dec.unaccounted_s);
		}
	}
	run.interrupted = g_stop != 0;
	for (int k = 0; k < run.ncycles && !o.probe.model; k++)
		if (run.cycles[k].model[0]) {
			run.model = run.cycles[k].model;
			break;
		}
	if (!run.model)
		run.model = o.probe.model ? o.probe.model : "unknown";
	run.version = "unknown";
	for (int k = 0; k < run.ncycles; k++)
		if (run.cycles[k].version[0]) {
			run.version = run.cycles[k].version;
			break;
		}
	struct gpu_snap g;
	sanity_gpu(&g);
	snprintf(run.gpu, sizeof run.gpu, "%s%s", g.name,
		 g.present ? "" : " (no NVIDIA driver or nvidia-smi found)");
	if (g.present)
		snprintf(run.gpu + strlen(run.gpu), sizeof run.gpu - strlen(run.gpu),
			 ", %.0f MiB", g.mem_total_mib);
	/* a server log the disk did not take holds only part of the lines:
	 * an output not written (the report and JSON say so beside it) */
	for (int k = 0; k < run.ncycles; k++)
		if (run.cycles[k].log_error[0]) {
			fprintf(stderr, "ttft-cold: cannot write the server log %s: %s (it holds "
				"only part of the server's lines)\n", run.cycles[k].log_path,
				run.cycles[k].log_error);
			rc = rc ? rc : TTFT_EXIT_FAILED;
		}
	/* Outputs: whenever a cycle ran (not for a usage error found at the
	 * first port check), each replaced atomically, both or neither old. */
	int have = run.ncycles && !(rc == TTFT_EXIT_USAGE && run.ncycles == 1);
	if (have && o.json) {
		/* into a string, then replaced atomically */
		struct ttft_json j;
		char *js = NULL;
		if (ttft_json_init(&j, NULL, 1) == 0 && cold_json(&j, &run) == 0)
			js = ttft_json_take(&j);
		ttft_json_free(&j);
		if (!js || ttft_write_atomic(o.json, js, strlen(js), err, sizeof err) != 0) {
			fprintf(stderr, "ttft-cold: %s\n", js ? err : "out of memory writing the JSON");
			rc = rc ? rc : TTFT_EXIT_FAILED;
		}
		free(js);
	}
	if (have && o.report) {
		char *md = cold_report(&run, tpl, o.report, err, sizeof err);
		char html[4200];
		size_t ol = strlen(o.report);
		int dotmd = ol > 3 && !strcmp(o.report + ol - 3, ".md");
		snprintf(html, sizeof html, "%.*s.html", (int)(ol - (dotmd ? 3 : 0)), o.report);
		/* the same report as one page, charts inline, beside it */
		if (!md || ttft_write_atomic(o.report, md, strlen(md), err, sizeof err) != 0 ||
		    ttft_html_write(o.report, html, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-cold: %s\n", err);
			rc = rc ? rc : TTFT_EXIT_FAILED;
		} else {
			progress(&o, "report written to %s%s\n", o.report,
				 run.interrupted ? " (marked interrupted)" : "");
		}
		free(md);
	}
	cold_patterns_free(&ps);
	free_run(&run);
	if (prompts)
		for (int i = 0; i < nruns; i++)
			free(prompts[i]);
	free(prompts);
	curl_slist_free_all(o.probe.headers);
	curl_global_cleanup();
	return g_stop ? TTFT_EXIT_INTERRUPTED : rc;
}
