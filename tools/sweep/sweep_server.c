/* sweep_server.c — the server side of ttft-sweep: start a configuration
 * (ttft-cold's runner) or look at a running server, read the capacity it
 * states, count tokens with its own tokenizer, and sample its queue and
 * KV-cache state while a point runs. */
#include "sweep.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cold_phases.h"
#include "ttft_clock.h"
#include "ttft_fetch.h"
#include "ttft_prom.h"

volatile sig_atomic_t sweep_stop;
int sweep_logs_unwritten;
volatile pid_t sweep_pgid;

void sweep_say(const struct sweep_opts *o, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (o->say)
		o->say(line);
}

static long get_json(const struct probe_cfg *cfg, const char *path, cJSON **out)
{
	char url[2200], *body = NULL;
	long status = 0;
	snprintf(url, sizeof url, "%s%s", cfg->base, path);
	ttft_fetch(url, cfg->headers, 5.0, 4u << 20, &body, &status, NULL, 0);
	*out = status == 200 ? cJSON_Parse(body ? body : "") : NULL;
	free(body);
	return status;
}

/* "3,519,424" → 3519424 */
static double digits(const char *p)
{
	double v = 0;
	int any = 0;
	for (; *p == ',' || (*p >= '0' && *p <= '9'); p++)
		if (*p != ',') {
			v = v * 10 + (*p - '0');
			any = 1;
		}
	return any ? v : NAN;
}

static void add_source(struct sweep_capacity *c, const char *what)
{
	if (strstr(c->source, what))
		return; /* a line each engine or start logs: named once */
	size_t n = strlen(c->source);
	snprintf(c->source + n, sizeof c->source - n, "%s%s", n ? "; " : "", what);
}

/* What the start-up lines state (vLLM's KV cache size and maximum
 * concurrency; llama.cpp's slots and KV cells). Under data parallelism
 * every engine logs its own KV cache (a line each, behind its
 * "(EngineCore_DPn pid=…)" prefix): the engines are counted and the
 * smallest cache kept, one engine's; a process that logs again (a
 * restart the pattern file's rows do not name) replaces its own. The
 * lines are one start's (capacity_of_last_start). */
static void capacity_from_lines(struct sweep_capacity *c, const struct cold_line *l, size_t n)
{
	enum { MAXE = 64 };
	char names[MAXE][96];
	double kv[MAXE];
	int ne = 0;
	for (size_t i = 0; i < n; i++) {
		const char *s = l[i].text, *p;
		if ((p = strstr(s, "GPU KV cache size: "))) {
			char name[96];
			cold_process_name(s, name, sizeof name);
			int e = 0;
			while (e < ne && strcmp(names[e], name))
				e++;
			if (e == ne && ne < MAXE)
				snprintf(names[ne++], sizeof names[0], "%s", name);
			if (e < ne)
				kv[e] = digits(p + 19);
			add_source(c, "log: \"GPU KV cache size\"");
		} else if ((p = strstr(s, "Maximum concurrency for "))) {
			c->max_conc_len = digits(p + 24);
			const char *x = strstr(p, "per request: ");
			if (x)
				c->max_conc = strtod(x + 13, NULL);
			add_source(c, "log: \"Maximum concurrency for\"");
		} else if ((p = strstr(s, "n_slots = "))) {
			int ns = 0, nc = 0;
			char u[8] = "";
			if (sscanf(p, "n_slots = %d, n_ctx_slot = %d, kv_unified = '%7[a-z]'", &ns, &nc,
				   u) >= 2) {
				c->slots = ns;
				c->slot_ctx = nc;
				c->unified = !strcmp(u, "true");
				add_source(c, "log: \"n_slots, n_ctx_slot, kv_unified\"");
			}
		} else if ((p = strstr(s, "llama_kv_cache: size = ")) && (p = strchr(p, '('))) {
			/* "(N cells, L layers, S/T seqs)": N cells in each of T
			 * streams (one per slot unless the pool is unified) */
			double cells = 0;
			unsigned seqs = 0, streams = 0;
			if (sscanf(p, "( %lf cells, %*d layers, %u/%u seqs)", &cells, &seqs,
				   &streams) == 3 && cells > 0 && streams > 0 && isnan(c->kv_tokens)) {
				c->kv_tokens = cells * streams;
				add_source(c, "log: \"llama_kv_cache: size … cells … seqs\"");
			}
		}
	}
	for (int e = 0; e < ne; e++)
		if (isfinite(kv[e]) && !(kv[e] >= c->kv_tokens))
			c->kv_tokens = kv[e];
	c->kv_engines = ne;
}

/* The pattern file's restart rows for a kind (tools/patterns/KIND.tsv,
 * as ttft-cold reads them): 0, or -1 with the reason in the capacity's
 * source (nothing looked for then). Loaded before the lines are locked:
 * the reader of a managed server's output is not held up. */
static int restart_rows(struct sweep_capacity *c, const char *kind, struct cold_patterns *ps)
{
	if (strcmp(kind, "vllm") && strcmp(kind, "llamacpp"))
		return -1;
	char path[4200], err[700];
	if (cold_patterns_load(ps, cold_patterns_path(kind, path, sizeof path), err,
			       sizeof err) == 0)
		return 0;
	char what[600];
	snprintf(what, sizeof what, "restarts in the log not looked for (%.500s)", err);
	add_source(c, what);
	return -1;
}

/* The capacity the log states for the server now running: its last
 * start's lines only (ps: the restart rows, NULL: none). A restart inside
 * one spawn or one log (a crash, a supervisor starting it again) is found
 * as ttft-cold finds it; a dead start's engines and sizes are not the
 * running server's (two engines, then a restart with one: the dead
 * start's second engine was counted). */
static void capacity_of_last_start(struct sweep_capacity *c, const struct cold_patterns *ps,
				   const struct cold_line *l, size_t n)
{
	size_t k0 = ps && n ? cold_last_start(ps, l, n, &c->starts) : 0;
	capacity_from_lines(c, n ? l + k0 : l, n - k0);
	if (c->starts > 1) {
		char what[160];
		snprintf(what, sizeof what, "the last of %d starts in the log (a restart): an "
			 "earlier start's lines not counted", c->starts);
		add_source(c, what);
	}
}

/* A flag's integer value in a command line ("--max-num-seqs 64" or
 * "--max-num-seqs=64"), 0 when absent. */
static int flag_int(const char *cmd, const char *flag)
{
	size_t fl = strlen(flag);
	for (const char *p = cmd; p && (p = strstr(p, flag)); p += fl) {
		char after = p[fl];
		if ((p == cmd || p[-1] == ' ') && (after == ' ' || after == '='))
			return atoi(p + fl + 1);
	}
	return 0;
}

/* What the server answers about itself (llama.cpp's /props) and the
 * command line's own capacity flags. */
static void capacity(struct sweep_srv *s, const struct sweep_opts *o)
{
	struct sweep_capacity *c = &s->cap;
	if (!strcmp(s->kind, "llamacpp")) {
		cJSON *j = NULL;
		if (get_json(&o->probe, "/props", &j) == 200 && j) {
			cJSON *ts = cJSON_GetObjectItem(j, "total_slots");
			cJSON *nc = cJSON_GetObjectItem(cJSON_GetObjectItem(j,
						"default_generation_settings"), "n_ctx");
			if (cJSON_IsNumber(ts))
				c->slots = ts->valueint;
			if (cJSON_IsNumber(nc))
				c->slot_ctx = nc->valueint;
			add_source(c, "/props: total_slots, n_ctx");
		}
		cJSON_Delete(j);
		/* per-slot pools unless the log said the pool is unified */
		if (isnan(c->kv_tokens) && c->slots && c->slot_ctx)
			c->kv_tokens = c->unified ? c->slot_ctx : (double)c->slots * c->slot_ctx;
	}
	if (s->managed) {
		c->max_num_seqs = flag_int(s->cmd, "--max-num-seqs");
		if (flag_int(s->cmd, "--block-size"))
			c->block = flag_int(s->cmd, "--block-size");
	}
}

static const char *kind_of(struct sweep_srv *s, const struct sweep_opts *o)
{
	if (o->kind)
		return o->kind;
	if (s->managed) {
		pthread_mutex_lock(&s->cs.mu);
		const char *k = cold_detect_kind(s->cs.lines, s->cs.nlines);
		pthread_mutex_unlock(&s->cs.mu);
		if (k)
			return k;
	}
	cJSON *j = NULL;
	int llama = get_json(&o->probe, "/props", &j) == 200 &&
		    cJSON_GetObjectItem(j, "total_slots");
	cJSON_Delete(j);
	if (llama)
		return "llamacpp";
	j = NULL;
	int vllm = get_json(&o->probe, "/version", &j) == 200;
	cJSON_Delete(j);
	return vllm ? "vllm" : "unknown";
}

static int health(const struct sweep_opts *o)
{
	char url[2200];
	snprintf(url, sizeof url, "%s/health", o->probe.base);
	return cold_http_get(url, 1.0, NULL) == 200;
}

static void tail(struct sweep_srv *s)
{
	struct cold_line t[10];
	size_t k = cold_server_tail(&s->cs, t, 10), o = strlen(s->error);
	for (size_t i = 0; i < k; i++) {
		if (o + 8 < sizeof s->error)
			o += (size_t)snprintf(s->error + o, sizeof s->error - o, "\n    %s", t[i].text);
		free(t[i].text);
	}
}

/* Lines of a server log file written by someone else (--server-log):
 * only their text matters here, read as a managed server's are (each \r a
 * line's end, terminal escapes gone): vLLM colours its process prefixes
 * into a file too, and a prefix behind an escape names no engine. */
static struct cold_line *read_lines(const char *path, size_t *n)
{
	FILE *f = fopen(path, "r");
	struct cold_line *l = NULL;
	size_t cap = 0;
	char buf[8192];
	*n = 0;
	while (f && fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\n")] = 0;
		for (char *seg = buf, *cr; seg; seg = cr ? cr + 1 : NULL) {
			if ((cr = strchr(seg, '\r')))
				*cr = 0;
			if (!cold_clean_line(seg, strlen(seg)))
				continue;
			if (*n == cap) {
				size_t nc = cap ? cap * 2 : 256;
				struct cold_line *nl = realloc(l, nc * sizeof *l);
				if (!nl)
					goto out;
				l = nl;
				cap = nc;
			}
			l[(*n)++] = (struct cold_line){0, 0, strdup(seg)};
		}
	}
out:
	if (f)
		fclose(f);
	return l;
}

int sweep_srv_open(struct sweep_srv *s, const struct sweep_opts *o, const char *cmd,
		   const char *label)
{
	memset(s, 0, sizeof *s);
	snprintf(s->label, sizeof s->label, "%s", label);
	snprintf(s->host, sizeof s->host, "%s", o->host);
	s->port = o->port;
	s->kind = "unknown";
	const char *host = o->host;
	int port = o->port;
	if (cmd) {
		if (cold_port_open(host, port)) {
			snprintf(s->error, sizeof s->error, "port %d on %s is already in use: stop "
				 "what listens there, or point --url and --server at a free port",
				 port, host);
			return -1;
		}
		snprintf(s->cmd, sizeof s->cmd, "%s", cmd);
		char log[4200] = "(not kept)";
		if (o->log_dir)
			snprintf(log, sizeof log, "%s/sweep-%s.log", o->log_dir, label);
		if (cold_server_start(&s->cs, cmd, o->log_dir ? log : NULL) != 0) {
			snprintf(s->error, sizeof s->error, "cannot start '%.300s' (log %.300s): %s",
				 cmd, log, strerror(errno));
			return -1;
		}
		s->managed = 1;
		sweep_pgid = s->cs.pid;
		sweep_say(o, "[%s] started '%s' (pid %d)\n", label, cmd,
			(int)s->cs.pid);
		for (;;) {
			double t = (double)(ttft_now_ns() - s->cs.t_spawn) / 1e9;
			if (sweep_stop) {
				snprintf(s->error, sizeof s->error, "interrupted");
				return -1;
			}
			if (cold_server_dead(&s->cs)) {
				int st = s->cs.status;
				usleep(100000); /* the reader takes the last lines */
				snprintf(s->error, sizeof s->error, "the server exited before it was "
					 "ready (%s %d) after %.1f s; its last lines:",
					 WIFEXITED(st) ? "exit code" : "signal",
					 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), t);
				tail(s);
				return -1;
			}
			if (t > o->ready_timeout) {
				snprintf(s->error, sizeof s->error, "the server was not ready after "
					 "%.0f s (--ready-timeout); its last lines:", o->ready_timeout);
				tail(s);
				return -1;
			}
			if (cold_port_open(host, port) && health(o)) {
				s->ready_s = t;
				break;
			}
			usleep(20000);
		}
		/* what it wrote before /health answered (its capacity, the
		 * lines that tell its kind) is in the pipes now, perhaps not
		 * yet read: all of it taken before anything is read from it */
		cold_server_drain(&s->cs);
		sweep_say(o, "[%s] ready after %.2f s\n", label, s->ready_s);
	} else if (!health(o)) {
		snprintf(s->error, sizeof s->error, "no server answers %s/health: start one, or "
			 "pass --server 'CMD' to let ttft-sweep start it", o->probe.base);
		return -1;
	}
	s->kind = kind_of(s, o);
	s->cap.kv_tokens = s->cap.max_conc = s->cap.max_conc_len = NAN;
	s->cap.block = 16;
	struct cold_patterns ps;
	int rows = (s->managed || o->server_log) && restart_rows(&s->cap, s->kind, &ps) == 0;
	if (s->managed) {
		pthread_mutex_lock(&s->cs.mu);
		capacity_of_last_start(&s->cap, rows ? &ps : NULL, s->cs.lines, s->cs.nlines);
		pthread_mutex_unlock(&s->cs.mu);
	} else if (o->server_log) {
		size_t n = 0;
		struct cold_line *l = read_lines(o->server_log, &n);
		capacity_of_last_start(&s->cap, rows ? &ps : NULL, l, n);
		for (size_t i = 0; i < n; i++)
			free(l[i].text);
		free(l);
	}
	if (rows)
		cold_patterns_free(&ps);
	capacity(s, o);
	struct ttft_truth t;
	char err[300];
	s->has_metrics = probe_scrape(&o->probe, &t, err, sizeof err) == 0;
	return 0;
}

int sweep_srv_gone(struct sweep_srv *s, int after_failures, char *why, size_t n)
{
	if (!s->managed)
		return 0;
	/* a server that closed its connections as it exited is not reaped
	 * yet when its client sees them close: after failed requests, a
	 * server whose port refuses connections is going, and its death is
	 * waited for (a review saw the next point sent to the dead port;
	 * a 1 s wait was too short for a server slowed down, under
	 * ThreadSanitizer in CI); one that still accepts them answered its
	 * failures itself, and is not waited for */
	double wait_s = after_failures && !cold_server_dead(&s->cs) &&
			!cold_port_open(s->host, s->port) ? SWEEP_EXIT_WAIT_S : 0;
	int64_t until = ttft_now_ns() + (int64_t)(wait_s * 1e9);
	while (!cold_server_dead(&s->cs) && ttft_now_ns() < until && !sweep_stop)
		usleep(10000);
	if (!cold_server_dead(&s->cs))
		return 0;
	int st = s->cs.status;
	snprintf(why, n, "the server [%s] exited (%s %d) while the sweep ran", s->label,
		 WIFEXITED(st) ? "exit code" : "signal",
		 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return 1;
}

void sweep_srv_close(struct sweep_srv *s, const struct sweep_opts *o)
{
	if (!s->managed)
		return;
	if (sweep_stop)
		sweep_say(o, "[%s] interrupted: stopping the server (a second Ctrl-C or SIGTERM "
			  "kills it and ends at once)\n", s->label);
	cold_server_stop(&s->cs, o->stop_timeout);
	sweep_pgid = 0;
	/* a log the disk did not take holds only part of the lines */
	int le = cold_server_log_close(&s->cs);
	if (le && o->log_dir) {
		fprintf(stderr, "ttft-sweep: [%s] cannot write the server log %s/sweep-%s.log: %s "
			"(it holds only part of the server's lines)\n", s->label, o->log_dir,
			s->label, strerror(le));
		sweep_logs_unwritten++;
	}
	cold_server_free(&s->cs);
	s->managed = 0;
}

static long post_count(const struct probe_cfg *cfg, const char *body, char *err, size_t errlen)
{
	char url[2200], *resp = NULL, cerr[256] = "";
	long status = 0;
	snprintf(url, sizeof url, "%s/tokenize", cfg->base);
	CURLcode rc = ttft_fetch_post(url, cfg->headers, body, cfg->timeout_s, 64u << 20, &resp,
				      &status, cerr, sizeof cerr, &sweep_stop);
	long n = -1;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "POST %s failed: %s", url, cerr);
	} else if (status != 200) {
		snprintf(err, errlen, "POST %s answered HTTP %ld", url, status);
	} else {
		cJSON *j = cJSON_Parse(resp ? resp : "");
		cJSON *c = cJSON_GetObjectItem(j, "count"), *t = cJSON_GetObjectItem(j, "tokens");
		if (cJSON_IsNumber(c))
			n = (long)c->valuedouble;
		else if (cJSON_IsArray(t))
			n = cJSON_GetArraySize(t);
		else
			snprintf(err, errlen, "POST %s gave no tokens", url);
		cJSON_Delete(j);
	}
	free(resp);
	return n;
}

long sweep_count_tokens(const struct probe_cfg *cfg, const char *kind, const char *text,
			const char **how, char *err, size_t errlen)
{
	long n = -1;
	int llama = !strcmp(kind, "llamacpp");
	for (int form = 0; form < 2 && n <= 0; form++) {
		/* vLLM: {"model","prompt"} → {"count"}; llama.cpp: {"content"} →
		 * {"tokens"}. The other form answers an empty list, not an error. */
		int use_llama = form == 0 ? llama : !llama;
		if (form == 1 && strcmp(kind, "unknown"))
			break;
		cJSON *o = cJSON_CreateObject();
		if (use_llama) {
			cJSON_AddStringToObject(o, "content", text);
		} else {
			if (cfg->model)
				cJSON_AddStringToObject(o, "model", cfg->model);
			cJSON_AddStringToObject(o, "prompt", text);
		}
		char *body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		n = body ? post_count(cfg, body, err, errlen) : -1;
		free(body);
		if (n > 0)
			*how = use_llama ? "the server's POST /tokenize (llama.cpp)"
					 : "the server's POST /tokenize (vLLM)";
	}
	if (n > 0 || !text[0])
		return n;
	/* no tokenizer endpoint: the server's own count of a one-token request */
	struct probe_cfg c = *cfg;
	c.prompt = text;
	c.prompts = NULL;
	c.max_tokens = 1;
	c.metrics = 0;
	struct ttft_record r;
	struct probe_run run = {.cfg = &c, .conc = 1};
	char rerr[256] = "";
	if (probe_run(&run, &r, 1, rerr, sizeof rerr) >= 0 && r.ok && r.prompt_tokens > 0) {
		n = r.prompt_tokens;
		*how = "usage.prompt_tokens of a one-token completion (no /tokenize)";
	} else {
		size_t k = strlen(err);
		snprintf(err + k, errlen - k, "; a one-token completion gave no usage.prompt_tokens"
			 ": %.200s", rerr[0] ? rerr : r.ok ? "none in the answer" :
			 ttft_record_error(&r));
	}
	ttft_record_free(&r);
	return n;
}

/* Words that the common BPE vocabularies hold as single tokens, so that a
 * word is about a token: the length converges in a few counts. */
static const char *const pool[] = {
	"time", "first", "token", "server", "cache", "prefix", "model", "request",
	"queue", "prompt", "answer", "river", "market", "garden", "winter", "paper",
	"number", "system", "water", "light", "story", "house", "music", "field",
	"table", "window", "letter", "bridge", "engine", "signal", "summer", "forest",
	"silver", "mountain", "ocean", "station", "library", "morning", "village", "doctor",
	"teacher", "journey", "picture", "network", "battery", "kitchen", "harbor", "island",
	"planet", "orange", "pencil", "camera", "rocket", "candle", "button", "ticket",
	"pocket", "jacket", "basket", "blanket", "dinner", "circle", "record", "moment",
};
#define NPOOL (sizeof pool / sizeof pool[0])

static char *words(const char *lead, long n)
{
	size_t cap = strlen(lead) + (size_t)n * 10 + 2;
	char *t = malloc(cap);
	if (!t)
		return NULL;
	size_t o = (size_t)snprintf(t, cap, "%s", lead);
	for (long i = 0; i < n; i++) {
		/* a walk through the pool that repeats no short pattern */
		const char *w = pool[(size_t)(i * 37 + i / 64) % NPOOL];
		o += (size_t)snprintf(t + o, cap - o, "%s%s", i % 12 == 11 ? ". " : " ", w);
	}
	return t;
}

char *sweep_text_of(const struct probe_cfg *cfg, const char *kind, const char *lead,
		    long tokens, long *got, const char **how, char *err, size_t errlen)
{
	long base = sweep_count_tokens(cfg, kind, lead, how, err, errlen);
	if (base < 0)
		return NULL;
	long nw = tokens > base ? tokens - base : 0;
	char *t = NULL;
	for (int iter = 0; iter < 6; iter++) {
		free(t);
		t = words(lead, nw);
		long n = t ? sweep_count_tokens(cfg, kind, t, how, err, errlen) : -1;
		if (n < 0) {
			free(t);
			return NULL;
		}
		*got = n;
		if (n == tokens || (n > tokens && nw == 0))
			break;
		long words_tok = n - base; /* tokens the words took */
		long next = words_tok > 0 ? (long)llround((double)nw * (double)(tokens - base) /
							  (double)words_tok)
					  : nw + (tokens - n);
		if (next == nw)
			next += tokens > n ? 1 : -1;
		nw = next < 0 ? 0 : next;
	}
	return t;
}

static void *sample(void *arg)
{
	struct sweep_sampler *s = arg;
	char url[2200];
	/* Relaxed: a flag, ordering nothing; the join publishes the state. */
	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		int ok = 0;
		if (s->use_metrics) {
			char *body = NULL;
			long status = 0;
			snprintf(url, sizeof url, "%s/metrics", s->cfg->base);
			ttft_fetch(url, s->cfg->headers, 2.0, 8u << 20, &body, &status, NULL, 0);
			struct ttft_prom p = {0};
			char perr[160];
			if (status == 200 && body &&
			    ttft_prom_parse(body, strlen(body), &p, perr, sizeof perr) >= 0) {
				static const char *const run[] = {"vllm:num_requests_running",
								  "llamacpp:requests_processing"};
				static const char *const wait[] = {"vllm:num_requests_waiting",
								   "llamacpp:requests_deferred"};
				static const char *const kv[][2] = {
					{"vllm:kv_cache_usage_perc", "100"},
					{"vllm:gpu_cache_usage_perc", "100"},
					{"llamacpp:kv_cache_usage_ratio", "100"}};
				int f;
				for (int i = 0; i < 2; i++) {
					double v = ttft_prom_get(&p, run[i], &f);
					if (f && (isnan(s->st.running_max) || v > s->st.running_max))
						s->st.running_max = v;
					v = ttft_prom_get(&p, wait[i], &f);
					if (f && (isnan(s->st.waiting_max) || v > s->st.waiting_max))
						s->st.waiting_max = v;
				}
				for (int i = 0; i < 3; i++) {
					double v = ttft_prom_get(&p, kv[i][0], &f) * atof(kv[i][1]);
					if (!f)
						continue;
					s->st.kv_usage_source = kv[i][0];
					if (isnan(s->st.kv_usage_max_pct) || v > s->st.kv_usage_max_pct)
						s->st.kv_usage_max_pct = v;
					break;
				}
				ttft_prom_free(&p);
				ok = 1;
			}
			free(body);
		}
		if (s->use_slots) {
			/* llama.cpp: the tokens held by busy slots over the KV cells */
			cJSON *j = NULL;
			if (get_json(s->cfg, "/slots", &j) == 200 && cJSON_IsArray(j)) {
				double busy = 0, held = 0;
				int counted = 0; /* a slot that says how many tokens it holds */
				cJSON *sl;
				cJSON_ArrayForEach(sl, j) {
					if (!cJSON_IsTrue(cJSON_GetObjectItem(sl, "is_processing")))
						continue;
					busy++;
					cJSON *np = cJSON_GetObjectItem(sl, "n_prompt_tokens");
					cJSON *nt = cJSON_GetArrayItem(cJSON_GetObjectItem(sl, "next_token"), 0);
					cJSON *nd = cJSON_GetObjectItem(nt, "n_decoded");
					counted |= cJSON_IsNumber(np);
					held += (cJSON_IsNumber(np) ? np->valuedouble : 0) +
						(cJSON_IsNumber(nd) ? nd->valuedouble : 0);
				}
				if (!s->use_metrics && (isnan(s->st.running_max) || busy > s->st.running_max))
					s->st.running_max = busy;
				if (counted && s->kv_cells > 0 && !(s->st.kv_usage_source &&
							 strcmp(s->st.kv_usage_source, "/slots"))) {
					double pct = 100 * held / s->kv_cells;
					s->st.kv_usage_source = "/slots";
					if (isnan(s->st.kv_usage_max_pct) || pct > s->st.kv_usage_max_pct)
						s->st.kv_usage_max_pct = pct;
				}
				ok = 1;
			}
			cJSON_Delete(j);
		}
		s->st.samples += ok;
		s->st.failures += !ok;
		usleep(50000);
	}
	return NULL;
}

void sweep_sampler_start(struct sweep_sampler *s)
{
	s->st.running_max = s->st.waiting_max = s->st.kv_usage_max_pct = NAN;
	s->st.kv_usage_source = NULL;
	s->st.samples = s->st.failures = 0;
	s->stop = 0;
	if (pthread_create(&s->th, NULL, sample, s) != 0)
		s->th = 0;
}

void sweep_sampler_stop(struct sweep_sampler *s)
{
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
	if (s->th)
		pthread_join(s->th, NULL);
}
