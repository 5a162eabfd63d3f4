/* ttft-cold — the cold-start decomposition: start the server, stamp its log
 * lines and readiness, time the cold request and warm ones, sample GPU and
 * CPU, stop the server, and write first_token_latency.md. */
#include "cold.h"
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static volatile pid_t g_pgid;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
	if (g_pgid > 0)
		kill(-g_pgid, SIGTERM); /* async-signal-safe; the rest in main */
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: ttft-cold --server 'CMD' --url URL [options]\n"
"\n"
"Starts CMD (its own process group), stamps each line it prints, polls for\n"
"the port and for /health (every 20 ms), then times the cold request and\n"
"--warm-runs warm ones (ttft-probe's engine), samples GPU and CPU, stops the\n"
"server (SIGTERM, then SIGKILL), and explains the cold start from the\n"
"server's own log lines: weight load, compile / warm-up, KV-cache allocation,\n"
"whatever no line explains ('unaccounted'), and the first request's own\n"
"warm-up (cold TTFT minus median warm TTFT).\n"
"\n"
"  --server CMD         the server command line (run with sh -c CMD)\n"
"  --url URL            where it serves (default http://127.0.0.1:8000)\n"
"  --warm-runs N        warm requests after the cold one (default 5)\n"
"  --cycles K           restart K times to show the spread (default 1)\n"
"  --ready-timeout S    give up if not ready after S s (default 600)\n"
"  --stop-timeout S     SIGKILL after S s of SIGTERM (default 15)\n"
"  --kind KIND          vllm | llamacpp (default: guessed from the log)\n"
"  --patterns FILE      phase patterns (default tools/patterns/KIND.tsv)\n"
"  --report FILE        write the Markdown report (the seed's template)\n"
"  --template FILE      the template (default docs/first_token_latency.md)\n"
"  --json FILE          the same numbers as JSON ('-' = stdout)\n"
"  --log-dir DIR        keep the stamped server logs there (default: the\n"
"                       report's directory, else /tmp)\n"
"  --prompt TEXT, --max-tokens N, --model M, --chat, --ignore-eos,\n"
"  --timeout S          as for ttft-probe (max tokens default 64)\n"
"  -h, --help           this text\n"
"\n"
"exit status: 0 ok; 1 the server failed (exited early, never became ready,\n"
"died during the runs) or a request failed; 2 bad usage, port already in\n"
"use, unreadable patterns or template; 130 interrupted (the server is\n"
"stopped first).\n");
}

struct opts {
	const char *server, *url, *kind, *patterns, *report, *tpl, *json, *log_dir;
	int warm, cycles;
	double ready_timeout, stop_timeout;
	struct probe_cfg probe;
};

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

static int seconds_since(int64_t t0, double *out)
{
	*out = (double)(ttft_now_ns() - t0) / 1e9;
	return 0;
}

/* The model (from --model or /v1/models) and the server's version (vLLM's
 * /version, llama.cpp's /props build_info). */
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
}

/* One restart: spawn → listening → ready → cold → warm → stop. */
static int run_cycle(const struct opts *o, struct cold_cycle *c, const char *host,
		     int port, const char *log_dir)
{
	if (cold_port_open(host, port)) {
		snprintf(c->error, sizeof c->error,
			 "port %d on %s is already in use: stop what listens there, or "
			 "point --url and the server at a free port", port, host);
		return 2;
	}
	sanity_gpu(&c->gpu_before);
	snprintf(c->log_path, sizeof c->log_path, "%s/server-cycle%d.log", log_dir, c->index);
	struct cold_server srv;
	if (cold_server_start(&srv, o->server, c->log_path) != 0) {
		snprintf(c->error, sizeof c->error, "cannot start the server (log %.400s): %s",
			 c->log_path, strerror(errno));
		return 1;
	}
	g_pgid = srv.pid;
	c->t_spawn = srv.t_spawn;
	fprintf(stderr, "ttft-cold: cycle %d: started '%s' (pid %d)\n", c->index, o->server,
		(int)srv.pid);
	char health[2100];
	snprintf(health, sizeof health, "%s/health", o->probe.base);
	int rc = 0, listening = 0, last_report = 0;
	c->spawn_to_listen_s = c->spawn_to_ready_s = NAN;
	for (;;) {
		double t;
		seconds_since(srv.t_spawn, &t);
		if (g_stop) {
			rc = 130;
			snprintf(c->error, sizeof c->error, "interrupted");
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
			rc = 1;
			break;
		}
		if (t > o->ready_timeout) {
			snprintf(c->error, sizeof c->error,
				 "the server was not ready after %.0f s (--ready-timeout); "
				 "%s; its last lines:", o->ready_timeout,
				 listening ? "its port accepted but /health never answered 200"
					   : "its port never accepted");
			tail_into(&srv, c->error, sizeof c->error);
			rc = 1;
			break;
		}
		if (!listening && cold_port_open(host, port)) {
			listening = 1;
			c->spawn_to_listen_s = t;
		}
		if (listening && cold_http_get(health, 1.0, NULL) == 200) {
			seconds_since(srv.t_spawn, &c->spawn_to_ready_s);
			break;
		}
		if ((int)t / 10 > last_report) {
			last_report = (int)t / 10;
			fprintf(stderr, "ttft-cold:   … %d s, %s\n", (int)t,
				listening ? "listening, waiting for /health" : "not listening yet");
		}
		usleep(20000);
	}
	if (rc == 0) {
		fprintf(stderr, "ttft-cold:   listening after %.3f s, ready after %.3f s\n",
			c->spawn_to_listen_s, c->spawn_to_ready_s);
		sanity_gpu(&c->gpu_ready);
		struct probe_cfg cfg = o->probe;
		server_facts(&cfg, c);
		struct cpu_snap a, b, w0, w1;
		struct probe_run run = {.cfg = &cfg, .conc = 1};
		char perr[256] = "";
		sanity_cpu(srv.pid, &a);
		int prc = probe_run(&run, &c->cold, 1, perr, sizeof perr);
		sanity_cpu(srv.pid, &b);
		sanity_gpu(&c->gpu_after_cold);
		sanity_cpu_between(&a, &b, &c->sys_cpu_cold, &c->srv_cpu_cold);
		c->cold.label = "cold";
		c->warm = calloc((size_t)(o->warm ? o->warm : 1), sizeof *c->warm);
		c->samples = calloc(COLD_MAX_SAMPLES, sizeof *c->samples);
		if (!c->warm || !c->samples) {
			prc = -1;
			snprintf(perr, sizeof perr, "out of memory for %d warm runs", o->warm);
		}
		c->nwarm = c->warm ? o->warm : 0;
		struct sampler smp = {c, 0};
		pthread_t th;
		int sampling = c->samples && pthread_create(&th, NULL, sample_gpu, &smp) == 0;
		sanity_cpu(srv.pid, &w0);
		if (o->warm && !g_stop && prc >= 0)
			prc = probe_run(&run, c->warm, o->warm, perr, sizeof perr);
		sanity_cpu(srv.pid, &w1);
		__atomic_store_n(&smp.stop, 1, __ATOMIC_RELAXED);
		if (sampling)
			pthread_join(th, NULL);
		sanity_cpu_between(&w0, &w1, &c->sys_cpu_warm, &c->srv_cpu_warm);
		for (int i = 0; i < c->nwarm; i++) {
			c->warm[i].label = "warm";
			c->warm[i].run = i + 2;
		}
		int failed = !c->cold.ok;
		for (int i = 0; i < c->nwarm; i++)
			failed += !c->warm[i].ok;
		/* Requests fail the moment a dying server's socket closes, a
		 * little before its process can be reaped: when they failed,
		 * give it a second to show that it died. */
		int dead = cold_server_dead(&srv);
		for (int k = 0; failed && !dead && !g_stop && k < 50; k++) {
			usleep(20000);
			dead = cold_server_dead(&srv);
		}
		if (g_stop) {
			rc = 130;
			snprintf(c->error, sizeof c->error, "interrupted");
		} else if (prc < 0) {
			snprintf(c->error, sizeof c->error, "%s", perr);
			rc = 1;
		} else if (dead) {
			snprintf(c->error, sizeof c->error,
				 "the server died during the requests; its last lines:");
			tail_into(&srv, c->error, sizeof c->error);
			rc = 1;
		} else if (failed) {
			snprintf(c->error, sizeof c->error, "%d request%s failed: %s", failed,
				 failed == 1 ? "" : "s",
				 !c->cold.ok ? ttft_record_error(&c->cold) : "see the warm runs");
			rc = 1;
		}
	}
	c->stop_s = cold_server_stop(&srv, o->stop_timeout);
	g_pgid = 0;
	/* keep the lines for phases and outlier notes */
	c->lines = srv.lines;
	c->nlines = srv.nlines;
	srv.lines = NULL;
	srv.nlines = 0;
	cold_server_free(&srv);
	c->ok = rc == 0;
	return rc;
}

static void phases_of(struct cold_cycle *c, const struct cold_patterns *ps)
{
	double until = isnan(c->spawn_to_ready_s) ? 1e9 : c->spawn_to_ready_s;
	c->found = cold_phases_match(ps, c->lines, c->nlines, c->t_spawn, until,
				     c->phases, c->infos, &c->ninfo);
	c->nphases = 0;
	for (size_t i = 0; i < ps->n; i++)
		c->nphases += !ps->p[i].is_info;
	c->unaccounted_s = isnan(c->spawn_to_ready_s) ? NAN
		: cold_unaccounted(c->phases, c->nphases, c->spawn_to_ready_s);
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
		{"help", 0, 0, 'h'}, {0, 0, 0, 0},
	};
	struct opts o = {0};
	o.url = "http://127.0.0.1:8000";
	o.warm = 5;
	o.cycles = 1;
	o.ready_timeout = 600;
	o.stop_timeout = 15;
	o.probe.prompt = "Explain TTFT in one sentence.";
	o.probe.max_tokens = 64;
	o.probe.stream = 1;
	o.probe.timeout_s = 300;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': o.server = optarg; break;
		case 'u': o.url = optarg; break;
		case 'w': o.warm = (int)strtol(optarg, &end, 10);
			if (*end || o.warm < 0 || o.warm > 10000) goto bad;
			break;
		case 'k': o.cycles = (int)strtol(optarg, &end, 10);
			if (*end || o.cycles < 1 || o.cycles > 1000) goto bad;
			break;
		case 'R': o.ready_timeout = strtod(optarg, &end); if (*end || o.ready_timeout <= 0) goto bad; break;
		case 'S': o.stop_timeout = strtod(optarg, &end); if (*end || o.stop_timeout < 0) goto bad; break;
		case 'K': o.kind = optarg; break;
		case 'p': o.patterns = optarg; break;
		case 'r': o.report = optarg; break;
		case 'T': o.tpl = optarg; break;
		case 'j': o.json = optarg; break;
		case 'L': o.log_dir = optarg; break;
		case 'P': o.probe.prompt = optarg; break;
		case 'm': o.probe.max_tokens = (int)strtol(optarg, &end, 10);
			if (*end || o.probe.max_tokens < 1) goto bad;
			break;
		case 'M': o.probe.model = optarg; break;
		case 'c': o.probe.chat = 1; break;
		case 'e': o.probe.ignore_eos = 1; break;
		case 't': o.probe.timeout_s = strtod(optarg, &end); if (*end || o.probe.timeout_s <= 0) goto bad; break;
		case 'h': usage(stdout); return 0;
		default:
		bad:
			if (c != '?')
				fprintf(stderr, "ttft-cold: bad value '%s' for --%s\n", optarg,
					lo[0].name ? "option" : "");
			usage(stderr);
			return 2;
		}
	}
	if (!o.server || optind < argc) {
		fprintf(stderr, "ttft-cold: --server 'CMD' is required\n");
		usage(stderr);
		return 2;
	}
	struct ttft_url u;
	char uerr[512];
	if (ttft_url_parse(o.url, &u, uerr, sizeof uerr) != 0) {
		fprintf(stderr, "ttft-cold: cannot parse --url: %s\n", uerr);
		return 2;
	}
	const char *host = u.host;
	int port = u.port;
	o.probe.base = u.base;
	o.probe.headers = curl_slist_append(NULL, "Content-Type: application/json");
	o.probe.headers = curl_slist_append(o.probe.headers, "Expect:");

	char tplbuf[PATH_MAX];
	const char *tpl = o.tpl;
	if (o.report && !tpl && !(tpl = exe_relative("docs/first_token_latency.md", tplbuf, sizeof tplbuf)))
		tpl = "docs/first_token_latency.md";
	if (o.report && access(tpl, R_OK) != 0) {
		fprintf(stderr, "ttft-cold: cannot read the report template %s (--template)\n", tpl);
		return 2;
	}
	char logdir[PATH_MAX];
	if (o.log_dir) {
		snprintf(logdir, sizeof logdir, "%s", o.log_dir);
	} else if (o.report) {
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof tmp, "%s", o.report);
		snprintf(logdir, sizeof logdir, "%s", dirname(tmp));
	} else {
		snprintf(logdir, sizeof logdir, "/tmp");
	}
	mkdir(logdir, 0755);

	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct cold_run run = {0};
	run.server_cmd = o.server;
	run.url = u.base;
	run.warm_runs = o.warm;
	run.max_tokens = o.probe.max_tokens;
	run.cycles = calloc((size_t)o.cycles, sizeof *run.cycles);
	sanity_cpu_name(run.cpu, sizeof run.cpu);
	sanity_os_name(run.os, sizeof run.os);
	time_t now = time(NULL);
	strftime(run.date, sizeof run.date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	int rc = 0;
	struct cold_patterns ps = {0};
	char perr[600], ppath[PATH_MAX];
	for (int k = 0; k < o.cycles && rc == 0; k++) {
		struct cold_cycle *cy = &run.cycles[k];
		cy->index = k + 1;
		rc = run_cycle(&o, cy, host, port, logdir);
		run.ncycles = k + 1;
		if (rc == 2 || rc == 130) {
			fprintf(stderr, "ttft-cold: %s\n", cy->error);
			break;
		}
		if (!ps.n) {
			const char *kind = o.kind ? o.kind : cold_detect_kind(cy->lines, cy->nlines);
			run.kind = kind ? kind : "unknown";
			const char *pp = o.patterns;
			if (!pp && kind) {
				char rel[64];
				snprintf(rel, sizeof rel, "tools/patterns/%s.tsv", kind);
				pp = exe_relative(rel, ppath, sizeof ppath);
				if (!pp) {
					snprintf(ppath, sizeof ppath, "%s", rel);
					pp = ppath;
				}
			}
			if (!pp) {
				fprintf(stderr, "ttft-cold: cannot tell the server's kind from its "
						"log; pass --kind vllm|llamacpp or --patterns FILE\n");
			} else if (cold_patterns_load(&ps, pp, perr, sizeof perr) != 0) {
				fprintf(stderr, "ttft-cold: %s\n", perr);
				rc = 2;
				break;
			}
			run.patterns_path = pp;
		}
		if (ps.n) {
			phases_of(cy, &ps);
			if (!cy->found)
				fprintf(stderr, "ttft-cold: warning: no line of the server's output "
						"matched %s: the cold start is all 'unaccounted' (for "
						"llama-server add -lv 4 --log-timestamps --log-prefix)\n",
					run.patterns_path);
		} else {
			cy->unaccounted_s = cy->spawn_to_ready_s;
		}
		if (!cy->ok) {
			fprintf(stderr, "ttft-cold: cycle %d: %s\n", cy->index, cy->error);
			rc = 1;
		} else {
			double mn, mx, cv, med = cold_warm_median(cy, &mn, &mx, &cv);
			fprintf(stderr, "ttft-cold:   cold TTFT %.4f s, warm median %.4f s "
					"(first-request warm-up %.4f s), unaccounted start-up %.3f s\n",
				ttft_record_ttft_s(&cy->cold), med, ttft_record_ttft_s(&cy->cold) - med,
				cy->unaccounted_s);
		}
	}
	run.model = run.ncycles && run.cycles[0].model[0] ? run.cycles[0].model : "unknown";
	run.version = run.ncycles && run.cycles[0].version[0] ? run.cycles[0].version : "unknown";
	struct gpu_snap g;
	sanity_gpu(&g);
	snprintf(run.gpu, sizeof run.gpu, "%s%s", g.name,
		 g.present ? "" : " (no NVIDIA driver or nvidia-smi found)");
	if (g.present)
		snprintf(run.gpu + strlen(run.gpu), sizeof run.gpu - strlen(run.gpu),
			 ", %.0f MiB", g.mem_total_mib);
	if (o.report && run.ncycles && rc != 2 && rc != 130) {
		char err[512];
		if (cold_write_report(&run, tpl, o.report, err, sizeof err) != 0) {
			fprintf(stderr, "ttft-cold: %s\n", err);
			rc = rc ? rc : 2;
		} else {
			fprintf(stderr, "ttft-cold: report written to %s\n", o.report);
		}
	}
	if (o.json && run.ncycles) {
		FILE *f = strcmp(o.json, "-") ? fopen(o.json, "w") : stdout;
		struct ttft_json j;
		int bad = !f || ttft_json_init(&j, f, 1) != 0;
		if (f) {
			if (!bad)
				bad = cold_json(&j, &run) != 0 || ttft_json_flush(&j) != 0;
			ttft_json_free(&j);
			if (f != stdout && fclose(f) != 0)
				bad = 1;
		}
		if (bad) {
			fprintf(stderr, "ttft-cold: cannot write %s: %s\n", o.json, strerror(errno));
			rc = rc ? rc : 2;
		}
	}
	cold_patterns_free(&ps);
	for (int k = 0; k < run.ncycles; k++) {
		struct cold_cycle *cy = &run.cycles[k];
		ttft_record_free(&cy->cold);
		for (int i = 0; i < cy->nwarm; i++)
			ttft_record_free(&cy->warm[i]);
		free(cy->warm);
		free(cy->samples);
		for (size_t i = 0; i < cy->nlines; i++)
			free(cy->lines[i].text);
		free(cy->lines);
	}
	free(run.cycles);
	curl_slist_free_all(o.probe.headers);
	curl_global_cleanup();
	return g_stop ? 130 : rc;
}
