/* probe_req.c — the probe's request engine (see probe.h). */
#include "probe.h"

#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ttft_analyze.h"
#include "ttft_fetch.h"

#define RAW_CAP (64 * 1024)

struct preq {
	const struct probe_cfg *cfg;
	struct probe_result *r;
	CURL *h;
	char *body;
	struct ttft_sse sse;
	char *ev;            /* data of the event being read */
	size_t evlen, evcap;
	char *raw;           /* non-streamed body or error body */
	size_t rawlen;
	int64_t t_now;       /* time of the write callback in progress */
	int events;
	int malformed;       /* 1-based index of the first bad event */
	int fd, new_fd;      /* the connection's fd, for marks; -1 unknown */
	struct ttft_truth before; /* /metrics just before the request */
	int have_before;
	char curl_err[CURL_ERROR_SIZE];
};

static void (*g_mark)(int fd, int code);

int64_t probe_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);
	if (!q) {
		fprintf(stderr, "ttft-probe: out of memory\n");
		exit(2);
	}
	return q;
}

static void append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = xrealloc(*buf, *cap);
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = 0;
}

/* The fd of each request's connection, for marks in the shim's log: a new
 * connection's fd comes from the sockopt callback, and every request's
 * local port from the prereq callback (also on reused connections), so a
 * port -> fd map ties them together. libcurl's ACTIVESOCKET answers only
 * between transfers. */
static int g_port_fd[65536];

static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	struct preq *q = ud;
	if (purpose == CURLSOCKTYPE_IPCXN)
		q->new_fd = (int)fd;
	return CURL_SOCKOPT_OK;
}

static void mark(struct preq *q, int code)
{
	if (g_mark)
		g_mark(q->fd, code);
}

static int on_prereq(void *ud, char *pip, char *lip, int pport, int lport)
{
	struct preq *q = ud;
	(void)pip, (void)lip, (void)pport;
	if (lport > 0 && lport < 65536) {
		if (q->new_fd >= 0)
			g_port_fd[lport] = q->new_fd + 1;
		q->fd = g_port_fd[lport] - 1;
	}
	mark(q, 1);
	return CURL_PREREQFUNC_OK;
}

__attribute__((format(printf, 2, 3)))
static void set_error(struct probe_result *r, const char *fmt, ...)
{
	if (r->error[0])
		return; /* keep the first cause */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
}

/* The text a chunk adds: choices[0].text or .delta.content. */
static const char *chunk_text(cJSON *j)
{
	cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "choices"), 0);
	cJSON *t = cJSON_GetObjectItem(c, "text");
	if (cJSON_IsString(t))
		return t->valuestring;
	cJSON *d = cJSON_GetObjectItem(c, "delta");
	t = cJSON_GetObjectItem(d, "content");
	if (!cJSON_IsString(t))
		t = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "message"), "content");
	return cJSON_IsString(t) ? t->valuestring : NULL;
}

static const char *error_message(cJSON *j)
{
	cJSON *e = cJSON_GetObjectItem(j, "error");
	cJSON *m = cJSON_GetObjectItem(cJSON_IsObject(e) ? e : j, "message");
	if (cJSON_IsString(m))
		return m->valuestring;
	return cJSON_IsString(e) ? e->valuestring : NULL;
}

/* usage and llama.cpp's timings, from any chunk or body that has them */
static void take_usage(struct probe_result *r, cJSON *j)
{
	cJSON *u = cJSON_GetObjectItem(j, "usage");
	cJSON *ct = cJSON_GetObjectItem(u, "completion_tokens");
	if (cJSON_IsNumber(ct))
		r->usage_tokens = (long)ct->valuedouble;
	cJSON *pt = cJSON_GetObjectItem(u, "prompt_tokens");
	if (cJSON_IsNumber(pt))
		r->prompt_tokens = (long)pt->valuedouble;
	cJSON *t = cJSON_GetObjectItem(j, "timings");
	if (cJSON_IsObject(t)) {
		cJSON *v;
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(t, "prompt_ms")))
			r->prompt_ms = v->valuedouble;
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(t, "predicted_ms")))
			r->predicted_ms = v->valuedouble;
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(t, "cache_n")))
			r->cache_n = v->valuedouble;
	}
}

static void on_data(void *ctx, const char *p, size_t n)
{
	struct preq *q = ctx;
	append(&q->ev, &q->evlen, &q->evcap, p, n);
}

static void on_event(void *ctx, enum ttft_sse_class cls, unsigned flags)
{
	struct preq *q = ctx;
	struct probe_result *r = q->r;
	(void)flags;
	q->events++;
	if (cls == TTFT_SSE_TOKEN) {
		if (r->ntok == r->tokcap) {
			r->tokcap = r->tokcap ? r->tokcap * 2 : 64;
			r->tok = xrealloc(r->tok, (size_t)r->tokcap * sizeof *r->tok);
		}
		r->tok[r->ntok++] = q->t_now;
		if (r->ntok == 1) {
			r->t_first = q->t_now;
			mark(q, 2);
		}
	}
	if (cls == TTFT_SSE_DONE) {
		r->done = 1;
	} else {
		cJSON *j = cJSON_ParseWithLength(q->ev ? q->ev : "", q->evlen);
		if (!j) {
			if (!q->malformed) {
				q->malformed = q->events;
				char what[128];
				snprintf(what, sizeof what, "%.80s", q->ev ? q->ev : "");
				set_error(r, "malformed JSON in stream event %d: %s",
					  q->events, what);
			}
		} else {
			if (cls == TTFT_SSE_ERROR) {
				const char *m = error_message(j);
				set_error(r, "server error mid-stream after %d tokens: %s",
					  r->ntok, m ? m : "(no message)");
			}
			take_usage(r, j);
			const char *t = cls == TTFT_SSE_TOKEN && q->cfg->keep_text
					? chunk_text(j) : NULL;
			if (t)
				append(&r->text, &r->textlen, &r->textcap, t, strlen(t));
			cJSON_Delete(j);
		}
	}
	q->evlen = 0;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct preq *q = ud;
	size_t n = sz * nm;
	q->t_now = probe_now();
	long status = 0;
	curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 300 || !q->cfg->stream) {
		size_t take = q->rawlen + n > RAW_CAP ? RAW_CAP - q->rawlen : n;
		memcpy(q->raw + q->rawlen, p, take);
		q->rawlen += take;
		q->raw[q->rawlen] = 0;
	} else {
		ttft_sse_feed(&q->sse, p, n);
	}
	return n;
}

static char *request_body(const struct probe_cfg *c, const char *prompt)
{
	cJSON *o = cJSON_CreateObject();
	if (c->model)
		cJSON_AddStringToObject(o, "model", c->model);
	if (c->chat) {
		cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "user");
		cJSON_AddStringToObject(m, "content", prompt);
		cJSON_AddItemToArray(msgs, m);
	} else {
		cJSON_AddStringToObject(o, "prompt", prompt);
	}
	cJSON_AddNumberToObject(o, "max_tokens", c->max_tokens);
	cJSON_AddNumberToObject(o, "temperature", c->temperature);
	cJSON_AddBoolToObject(o, "stream", c->stream);
	if (c->stream) {
		cJSON *so = cJSON_AddObjectToObject(o, "stream_options");
		cJSON_AddBoolToObject(so, "include_usage", 1);
	}
	if (c->ignore_eos)
		cJSON_AddBoolToObject(o, "ignore_eos", 1);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static void start(CURLM *m, struct preq *q, const struct probe_cfg *cfg,
		  struct probe_result *r)
{
	struct ttft_truth before = q->before;
	int have_before = q->have_before;
	memset(q, 0, sizeof *q);
	q->before = before;
	q->have_before = have_before;
	q->cfg = cfg;
	q->r = r;
	r->usage_tokens = -1;
	r->prompt_tokens = -1;
	r->prompt_ms = r->predicted_ms = r->cache_n = NAN;
	r->m_queue_s = r->m_prefill_s = r->m_decode_s = r->m_hit_tokens = NAN;
	r->m_server_ttft_s = NAN;
	r->network_s = NAN;
	q->fd = q->new_fd = -1;
	q->raw = xrealloc(NULL, RAW_CAP + 1);
	q->raw[0] = 0;
	ttft_sse_init(&q->sse, on_event, on_data, q);
	q->body = request_body(cfg, cfg->prompts ? cfg->prompts[r->run - 1] : cfg->prompt);
	char url[2048];
	snprintf(url, sizeof url, "%s%s", cfg->base,
		 cfg->chat ? "/v1/chat/completions" : "/v1/completions");
	q->h = curl_easy_init();
	curl_easy_setopt(q->h, CURLOPT_URL, url);
	curl_easy_setopt(q->h, CURLOPT_POSTFIELDS, q->body);
	curl_easy_setopt(q->h, CURLOPT_HTTPHEADER, cfg->headers);
	curl_easy_setopt(q->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(q->h, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->h, CURLOPT_ERRORBUFFER, q->curl_err);
	curl_easy_setopt(q->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->h, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_s * 1000));
	/* A TLS handshake with a server that speaks plain HTTP never ends:
	 * bound it, so finish() can say so long before the whole timeout. */
	if (!strncmp(cfg->base, "https://", 8) && cfg->timeout_s > 10)
		curl_easy_setopt(q->h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(q->h, CURLOPT_PRIVATE, q);
	curl_easy_setopt(q->h, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	curl_easy_setopt(q->h, CURLOPT_SOCKOPTDATA, q);
	curl_easy_setopt(q->h, CURLOPT_PREREQFUNCTION, on_prereq);
	curl_easy_setopt(q->h, CURLOPT_PREREQDATA, q);
	r->t_start = probe_now();
	curl_multi_add_handle(m, q->h);
}

static double secs(curl_off_t us)
{
	return (double)us / 1e6;
}

static void finish(CURLM *m, struct preq *q, CURLcode rc)
{
	struct probe_result *r = q->r;
	char plain[2100];
	r->t_end = probe_now();
	curl_off_t v;
	curl_easy_getinfo(q->h, CURLINFO_NAMELOOKUP_TIME_T, &v);
	r->dns_s = secs(v);
	curl_easy_getinfo(q->h, CURLINFO_CONNECT_TIME_T, &v);
	r->connect_s = secs(v);
	curl_easy_getinfo(q->h, CURLINFO_PRETRANSFER_TIME_T, &v);
	r->pretransfer_s = secs(v);
	curl_easy_getinfo(q->h, CURLINFO_STARTTRANSFER_TIME_T, &v);
	r->starttransfer_s = secs(v);
	curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &r->http_status);
	mark(q, 3);
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	if (q->fd >= 0 && getsockopt(q->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	    ti.tcpi_rtt > 0)
		r->network_s = ti.tcpi_rtt / 1e6;

	if (rc == CURLE_COULDNT_CONNECT) {
		set_error(r, "cannot connect to %s: is the server up? Start "
			     "vLLM with tools/serve_slm_vllm.sh, or llama-server with "
			     "'make demo'", q->cfg->base);
	} else if (rc != CURLE_OK && r->pretransfer_s == 0 &&
		   probe_plain_http(q->cfg->base, plain, sizeof plain)) {
		set_error(r, "%s answers plain HTTP, not TLS: use --url %s", q->cfg->base,
			  plain);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		set_error(r, "timed out after %g s (--timeout), %d tokens received",
			  q->cfg->timeout_s, r->ntok);
	} else if ((rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR) &&
		   q->cfg->stream && r->http_status < 300) {
		set_error(r, "stream ended without [DONE] after %d tokens: the "
			     "server closed the connection (%s)", r->ntok,
			  q->curl_err[0] ? q->curl_err : curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		set_error(r, "transfer failed: %s (curl error %d)",
			  q->curl_err[0] ? q->curl_err : curl_easy_strerror(rc), (int)rc);
	}
	if (r->http_status >= 400) {
		cJSON *j = cJSON_Parse(q->raw);
		const char *msg = j ? error_message(j) : NULL;
		set_error(r, "server answered HTTP %ld: %.400s", r->http_status,
			  msg ? msg : q->raw);
		cJSON_Delete(j);
	} else if (rc == CURLE_OK && !q->cfg->stream) {
		cJSON *j = cJSON_Parse(q->raw);
		if (!j) {
			set_error(r, "malformed JSON response: %.80s", q->raw);
		} else {
			take_usage(r, j);
			const char *t = chunk_text(j);
			if (t && q->cfg->keep_text)
				append(&r->text, &r->textlen, &r->textcap, t, strlen(t));
			r->t_first = r->t_end; /* the whole answer at once */
			cJSON_Delete(j);
		}
	} else if (rc == CURLE_OK && !r->done) {
		set_error(r, "stream ended without [DONE] after %d tokens", r->ntok);
	}
	r->ok = r->error[0] == 0;
	curl_multi_remove_handle(m, q->h);
	curl_easy_cleanup(q->h);
	q->h = NULL;
	free(q->body);
	free(q->ev);
	free(q->raw);
}

static int stopped(const struct probe_cfg *cfg)
{
	return cfg->stop && *cfg->stop;
}

static struct ttft_split g_window;
static int g_have_window;

const struct ttft_split *probe_window(void)
{
	return g_have_window ? &g_window : NULL;
}

int probe_scrape(const struct probe_cfg *cfg, struct ttft_truth *t, char *err, size_t errlen)
{
	char url[2048], *body = NULL, cerr[CURL_ERROR_SIZE] = "";
	snprintf(url, sizeof url, "%s/metrics", cfg->base);
	long status = 0;
	CURLcode rc = ttft_fetch(url, cfg->headers, 5.0, 8u << 20, &body, &status, cerr,
				 sizeof cerr);
	t->t_ns = probe_now();
	int out = -1;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "GET %s failed: %s", url, cerr);
	} else if (status != 200) {
		snprintf(err, errlen, "GET %s answered HTTP %ld", url, status);
	} else {
		char why[160];
		if (ttft_truth_page(body ? body : "", body ? strlen(body) : 0, t, why,
				    sizeof why) > 0)
			out = 0;
		else
			snprintf(err, errlen, "%s: %s", url, why);
	}
	free(body);
	return out;
}

/* Sequential requests: the deltas between the scrapes around each one are
 * that request's own numbers. */
static void split_one(const struct probe_cfg *cfg, struct preq *q)
{
	struct probe_result *r = q->r;
	struct ttft_truth after;
	char err[256];
	if (!q->have_before) {
		snprintf(r->m_note, sizeof r->m_note, "no /metrics snapshot before the request");
		return;
	}
	if (probe_scrape(cfg, &after, err, sizeof err) != 0) {
		snprintf(r->m_note, sizeof r->m_note, "%.150s", err);
		return;
	}
	struct ttft_split sp;
	int one = ttft_truth_split(&q->before, &after, 1, &sp);
	if (one) {
		r->m_source = sp.source;
		r->m_queue_s = sp.queue_s;
		r->m_prefill_s = sp.prefill_s;
		r->m_decode_s = sp.decode_s;
		r->m_hit_tokens = sp.hit_tokens;
		r->m_server_ttft_s = sp.server_ttft_s;
	} else {
		snprintf(r->m_note, sizeof r->m_note, "%s", sp.reason);
	}
}

int probe_run(const struct probe_cfg *cfg, struct probe_result *res, int n,
	      int conc, int progress)
{
	struct ttft_truth w0;
	char werr[256];
	g_have_window = 0;
	int window = cfg->metrics && conc > 1 && probe_scrape(cfg, &w0, werr, sizeof werr) == 0;
	if (!g_mark)
		g_mark = (void (*)(int, int))dlsym(RTLD_DEFAULT, "ttft_mark");
	CURLM *m = curl_multi_init();
	struct preq *qs = calloc((size_t)n, sizeof *qs);
	int next = 0, running = 0, done = 0, failed = 0;
	for (int i = 0; i < n; i++)
		res[i].run = i + 1;
	while (done < n) {
		if (stopped(cfg)) {
			/* in flight: end now, marked; not started: left untouched */
			for (int i = 0; i < next; i++) {
				if (!qs[i].h)
					continue;
				set_error(qs[i].r, "interrupted after %d tokens (Ctrl-C or "
					  "SIGTERM)", qs[i].r->ntok);
				finish(m, &qs[i], CURLE_ABORTED_BY_CALLBACK);
				failed++;
			}
			break;
		}
		while (running < conc && next < n) {
			char err[256];
			if (cfg->metrics && conc == 1)
				qs[next].have_before = probe_scrape(cfg, &qs[next].before,
								    err, sizeof err) == 0;
			start(m, &qs[next], cfg, &res[next]);
			next++;
			running++;
		}
		int still;
		curl_multi_perform(m, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct preq *q;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&q);
			finish(m, q, msg->data.result);
			if (cfg->metrics && conc == 1 && !stopped(cfg))
				split_one(cfg, q);
			else if (cfg->metrics)
				snprintf(q->r->m_note, sizeof q->r->m_note, "concurrent requests: "
					 "see the run's server window");
			running--;
			done++;
			failed += !q->r->ok;
			if (progress && conc == 1)
				fprintf(stderr, "  run %d/%d: %s\n", q->r->run, n,
					q->r->ok ? "ok" : q->r->error);
			else if (progress && done % 64 == 0)
				fprintf(stderr, "  %d/%d requests done\n", done, n);
		}
		if (done < n && (running == conc || next == n))
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	free(qs);
	curl_multi_cleanup(m);
	struct ttft_truth w1;
	if (window && !stopped(cfg) && probe_scrape(cfg, &w1, werr, sizeof werr) == 0) {
		ttft_truth_split(&w0, &w1, 0, &g_window);
		g_have_window = 1;
	}
	return failed;
}

void probe_result_free(struct probe_result *r)
{
	free(r->tok);
	free(r->text);
}

int probe_plain_http(const char *base, char *plain, size_t n)
{
	if (strncmp(base, "https://", 8) != 0)
		return 0;
	snprintf(plain, n, "http://%s", base + 8);
	char url[2100];
	long status = 0;
	snprintf(url, sizeof url, "%s/v1/models", plain);
	ttft_fetch(url, NULL, 1.0, RAW_CAP, NULL, &status, NULL, 0);
	return status > 0;
}

/* GET base/v1/models; for an https:// base, a plain-HTTP server behind it
 * is found in about 3 s (a TLS handshake takes milliseconds on any sane
 * network) instead of after the whole timeout: -2 with err set then. */
static int models_get(const struct probe_cfg *cfg, char **body, long *status, char *cerr,
		      size_t cerrlen, CURLcode *rc, char *err, size_t errlen)
{
	char url[2048], plain[2100];
	snprintf(url, sizeof url, "%s/v1/models", cfg->base);
	int tls = strncmp(cfg->base, "https://", 8) == 0;
	double first = tls && cfg->timeout_s > 3 ? 3 : cfg->timeout_s;
	*body = NULL;
	*rc = ttft_fetch(url, cfg->headers, first, RAW_CAP, body, status, cerr, cerrlen);
	/* any failure past the TCP connect (a handshake that never ends, or a
	 * TLS set-up error) may be a plain-HTTP server behind https:// */
	if (tls && *rc != CURLE_OK && *rc != CURLE_COULDNT_CONNECT) {
		if (probe_plain_http(cfg->base, plain, sizeof plain)) {
			snprintf(err, errlen, "%s answers plain HTTP, not TLS: use --url %s",
				 cfg->base, plain);
			free(*body);
			*body = NULL;
			return -2;
		}
		if (*rc == CURLE_OPERATION_TIMEDOUT && cfg->timeout_s > first) {
			free(*body);
			*body = NULL;
			*rc = ttft_fetch(url, cfg->headers, cfg->timeout_s - first, RAW_CAP, body,
					 status, cerr, cerrlen);
		}
	}
	return 0;
}

int probe_check_tls(const struct probe_cfg *cfg, char *err, size_t errlen)
{
	char *body, cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	int r = strncmp(cfg->base, "https://", 8) ? 0
		: models_get(cfg, &body, &status, cerr, sizeof cerr, &rc, err, errlen);
	if (r == 0 && !strncmp(cfg->base, "https://", 8))
		free(body);
	return r ? -1 : 0;
}

char *probe_first_model(const struct probe_cfg *cfg, char *err, size_t errlen)
{
	char url[2048], *body = NULL, cerr[CURL_ERROR_SIZE] = "";
	snprintf(url, sizeof url, "%s/v1/models", cfg->base);
	long status = 0;
	CURLcode rc;
	if (models_get(cfg, &body, &status, cerr, sizeof cerr, &rc, err, errlen) != 0)
		return NULL;
	static const char *const not_openai =
		"is it an OpenAI-compatible server (vLLM, llama.cpp llama-server)? "
		"Check --url; a compatible server without /v1/models needs --model NAME";
	char *id = NULL;
	if (rc == CURLE_COULDNT_CONNECT) {
		snprintf(err, errlen, "cannot connect to %s: is the server up? Start "
			 "vLLM with tools/serve_slm_vllm.sh, or llama-server with "
			 "'make demo'", cfg->base);
	} else if (rc != CURLE_OK) {
		snprintf(err, errlen, "GET %s failed: %s", url, cerr);
	} else if (status == 401 || status == 403) {
		snprintf(err, errlen, "GET %s answered HTTP %ld: the server wants a key "
			 "(--header 'Authorization: Bearer …')", url, status);
	} else if (status != 200) {
		snprintf(err, errlen, "GET %s answered HTTP %ld: %s", url, status, not_openai);
	} else {
		cJSON *j = cJSON_Parse(body ? body : "");
		cJSON *data = cJSON_GetObjectItem(j, "data");
		cJSON *i = cJSON_GetObjectItem(cJSON_GetArrayItem(data, 0), "id");
		if (cJSON_IsString(i))
			id = strdup(i->valuestring);
		else if (cJSON_IsArray(data))
			snprintf(err, errlen, "GET %s lists no model: is one loaded? "
				 "(or pass --model NAME)", url);
		else
			snprintf(err, errlen, "GET %s answered 200, but not with an OpenAI "
				 "model list ({\"data\":[{\"id\":…}]}): %s", url, not_openai);
		cJSON_Delete(j);
	}
	free(body);
	return id;
}

double probe_ttft_s(const struct probe_result *r)
{
	return r->t_first ? (double)(r->t_first - r->t_start) / 1e9 : NAN;
}

double probe_e2e_s(const struct probe_result *r)
{
	return r->t_end ? (double)(r->t_end - r->t_start) / 1e9 : NAN;
}

long probe_tokens(const struct probe_result *r)
{
	return r->usage_tokens >= 0 ? r->usage_tokens : r->ntok;
}

void probe_itl(const struct probe_result *r, double *p50, double *p99)
{
	ttft_itl(r->tok, r->ntok > 0 ? (size_t)r->ntok : 0, p50, p99);
}

int probe_fit_points(const double *x, const double *y, int n, struct probe_fit *f)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		sxx += x[i] * x[i];
		sxy += x[i] * y[i];
	}
	double d = n * sxx - sx * sx;
	f->ok = 0;
	if (n < 2 || fabs(d) < 1e-12)
		return -1;
	f->b_s = (n * sxy - sx * sy) / d;
	f->a_s = (sy - f->b_s * sx) / n;
	f->ok = 1;
	return 0;
}

void probe_split_of(const struct probe_result *r, const struct probe_fit *fit,
		    struct probe_split *s)
{
	s->queue_s = s->prefill_s = s->decode_s = s->hit_tokens = s->server_other_s = NAN;
	s->server_ttft_s = NAN;
	s->source = NULL;
	s->note = r->m_note[0] ? r->m_note : NULL;
	if (!isnan(r->prompt_ms)) {
		s->source = "llamacpp-timings";
		s->prefill_s = r->prompt_ms / 1e3;
		s->decode_s = isnan(r->predicted_ms) ? NAN : r->predicted_ms / 1e3;
		s->hit_tokens = r->cache_n;
		s->note = NULL;
	} else if (r->m_source) {
		s->source = r->m_source;
		s->queue_s = r->m_queue_s;
		s->prefill_s = r->m_prefill_s;
		s->decode_s = r->m_decode_s;
		s->hit_tokens = r->m_hit_tokens;
		s->server_ttft_s = r->m_server_ttft_s;
	}
	double ttft = probe_ttft_s(r);
	if (!s->source && fit && fit->ok && r->prompt_tokens >= 0 && !isnan(ttft)) {
		/* The server says nothing: what exceeds the calibrated TTFT for
		 * this prompt length is taken as queueing. An estimate, labelled. */
		double expect = fit->a_s + fit->b_s * (double)r->prompt_tokens;
		s->queue_s = ttft > expect ? ttft - expect : 0;
		s->source = "model";
		s->note = "estimated: ttft - (a + b * prompt_tokens) from the calibration";
		return;
	}
	if (s->source && !isnan(ttft) && !isnan(s->prefill_s))
		s->server_other_s = ttft - r->pretransfer_s - s->prefill_s -
				    (isnan(s->queue_s) ? 0 : s->queue_s);
}
