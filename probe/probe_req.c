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
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ttft_analyze.h"
#include "ttft_fetch.h"
#include "ttft_scrape.h"

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
	struct curl_slist *hdrs;  /* cfg's headers + this request's traceparent */
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
	/* the request goes out now (again, when curl retries it) */
	q->r->jr.t_sent = probe_now();
	return CURL_PREREQFUNC_OK;
}

/* The status line is the first header curl hands over: the response
 * started (llama.cpp: a slot took the request). */
static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct preq *q = ud;
	(void)p;
	if (!q->r->jr.t_hdr)
		q->r->jr.t_hdr = probe_now();
	return sz * nm;
}

/* A W3C traceparent: a random trace id (the request-level join key vLLM's
 * OpenTelemetry spans carry) and span id, sampled. */
static void new_traceparent(char *trace_id, char *line, size_t len)
{
	unsigned char b[24];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		/* no entropy source: a clock-derived id, unique enough per run */
		int64_t t = probe_now();
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)((t >> (8 * (i % 8))) ^ (i * 131) ^ getpid());
	}
	b[0] |= 1; /* all-zero ids are invalid */
	b[16] |= 1;
	char span[17];
	for (int i = 0; i < 16; i++)
		sprintf(trace_id + 2 * i, "%02x", b[i]);
	for (int i = 0; i < 8; i++)
		sprintf(span + 2 * i, "%02x", b[16 + i]);
	snprintf(line, len, "traceparent: 00-%s-%s-01", trace_id, span);
}

/* The user's own traceparent (--header): its trace id, or "" if none. */
static void user_trace_id(const struct curl_slist *h, char *out)
{
	out[0] = 0;
	for (; h; h = h->next) {
		const char *v = h->data;
		if (strncasecmp(v, "traceparent:", 12))
			continue;
		v += 12;
		while (*v == ' ')
			v++;
		if (strlen(v) >= 35 && v[2] == '-')
			snprintf(out, 33, "%.32s", v + 3);
	}
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
	q->r->jr.t_end_lo = q->t_now; /* the last data so far */
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

static char *request_body(const struct probe_cfg *c)
{
	cJSON *o = cJSON_CreateObject();
	if (c->model)
		cJSON_AddStringToObject(o, "model", c->model);
	if (c->chat) {
		cJSON *msgs = cJSON_AddArrayToObject(o, "messages");
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "user");
		cJSON_AddStringToObject(m, "content", c->prompt);
		cJSON_AddItemToArray(msgs, m);
	} else {
		cJSON_AddStringToObject(o, "prompt", c->prompt);
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
	r->network_s = NAN;
	memset(&r->jr, 0, sizeof r->jr);
	memset(&r->srv, 0, sizeof r->srv);
	r->srv.queue_s = r->srv.prefill_s = r->srv.decode_s = NAN;
	r->srv.server_ttft_s = r->srv.hit_tokens = NAN;
	if (cfg->user_traceparent) {
		user_trace_id(cfg->headers, r->trace_id);
	} else {
		char line[96];
		new_traceparent(r->trace_id, line, sizeof line);
		for (const struct curl_slist *h = cfg->headers; h; h = h->next)
			q->hdrs = curl_slist_append(q->hdrs, h->data);
		q->hdrs = curl_slist_append(q->hdrs, line);
	}
	q->fd = q->new_fd = -1;
	q->raw = xrealloc(NULL, RAW_CAP + 1);
	q->raw[0] = 0;
	ttft_sse_init(&q->sse, on_event, on_data, q);
	q->body = request_body(cfg);
	char url[2048];
	snprintf(url, sizeof url, "%s%s", cfg->base,
		 cfg->chat ? "/v1/chat/completions" : "/v1/completions");
	q->h = curl_easy_init();
	curl_easy_setopt(q->h, CURLOPT_URL, url);
	curl_easy_setopt(q->h, CURLOPT_POSTFIELDS, q->body);
	curl_easy_setopt(q->h, CURLOPT_HTTPHEADER, q->hdrs ? q->hdrs : cfg->headers);
	curl_easy_setopt(q->h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(q->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(q->h, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(q->h, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->h, CURLOPT_ERRORBUFFER, q->curl_err);
	curl_easy_setopt(q->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->h, CURLOPT_TIMEOUT_MS, (long)(cfg->timeout_s * 1000));
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
	/* as the join sees it: first token and end read in the callbacks */
	r->jr.t_first = q->cfg->stream ? r->t_first : 0;
	r->jr.t_end_hi = r->t_end;
	if (!r->jr.t_end_lo)
		r->jr.t_end_lo = r->t_end;
	r->jr.skew_ns = TTFT_JOIN_SKEW_NS + (isnan(r->network_s) ? 0
			: (int64_t)(r->network_s * 1e9));
	r->jr.generate = 1;
	r->jr.complete = r->ok && r->http_status >= 200 && r->http_status < 300;
	curl_multi_remove_handle(m, q->h);
	curl_easy_cleanup(q->h);
	curl_slist_free_all(q->hdrs);
	free(q->body);
	free(q->ev);
	free(q->raw);
}

static struct ttft_split g_window;
static int g_have_window;
static int g_scrapes, g_scrape_failures;

const struct ttft_split *probe_window(void)
{
	return g_have_window ? &g_window : NULL;
}

void probe_scrapes(int *taken, int *failed)
{
	*taken = g_scrapes;
	*failed = g_scrape_failures;
}

int probe_scrape(const struct probe_cfg *cfg, struct ttft_truth *t, char *err, size_t errlen)
{
	char url[2048], *body = NULL, cerr[CURL_ERROR_SIZE] = "";
	snprintf(url, sizeof url, "%s/metrics", cfg->base);
	long status = 0;
	t->t0_ns = probe_now();
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
		int64_t t0 = t->t0_ns, t1 = t->t_ns;
		if (ttft_truth_page(body ? body : "", body ? strlen(body) : 0, t, why,
				    sizeof why) > 0)
			out = 0;
		else
			snprintf(err, errlen, "%s: %s", url, why);
		t->t0_ns = t0, t->t_ns = t1;
	}
	free(body);
	return out;
}

/* Sequential requests: the deltas between the scrapes right before and
 * right after each one are that request's own numbers. */
static void split_one(const struct probe_cfg *cfg, struct preq *q)
{
	struct probe_result *r = q->r;
	struct ttft_truth after;
	char err[256];
	if (!q->have_before) {
		snprintf(r->srv.note, sizeof r->srv.note, "no /metrics snapshot before the request");
		return;
	}
	if (probe_scrape(cfg, &after, err, sizeof err) != 0) {
		snprintf(r->srv.note, sizeof r->srv.note, "%.150s", err);
		return;
	}
	ttft_join_pair(&q->before, &after, &r->jr, &r->srv);
}

/* Under concurrency, /metrics is sampled from the same event loop while
 * the streams run: one GET at a time, every metrics_interval_ms. */
struct sampler {
	CURL *h;
	char *body;
	size_t len;
	int64_t t0, next;
	struct ttft_truth *snaps;
	size_t n, cap;
};

static size_t on_page(char *p, size_t sz, size_t nm, void *ud)
{
	struct sampler *s = ud;
	size_t n = sz * nm;
	if (s->len + n > (8u << 20))
		return 0; /* not a /metrics page: fail the transfer */
	s->body = xrealloc(s->body, s->len + n + 1);
	memcpy(s->body + s->len, p, n);
	s->len += n;
	s->body[s->len] = 0;
	return n;
}

static void keep_snapshot(struct sampler *s, const struct ttft_truth *t)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->snaps = xrealloc(s->snaps, s->cap * sizeof *s->snaps);
	}
	s->snaps[s->n++] = *t;
}

static void sample_start(CURLM *m, struct sampler *s, const struct probe_cfg *cfg)
{
	char url[2048];
	snprintf(url, sizeof url, "%s/metrics", cfg->base);
	s->h = curl_easy_init();
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, cfg->headers);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_page);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 5000L);
	s->len = 0;
	s->t0 = probe_now();
	curl_multi_add_handle(m, s->h);
}

static void sample_done(CURLM *m, struct sampler *s, CURLcode rc)
{
	long status = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	struct ttft_truth t;
	char why[160];
	int64_t t1 = probe_now();
	g_scrapes++;
	if (rc == CURLE_OK && status == 200 &&
	    ttft_truth_page(s->body ? s->body : "", s->len, &t, why, sizeof why) > 0) {
		t.t0_ns = s->t0; /* rendered after the GET went out … */
		t.t_ns = t1;     /* … and before its answer was in */
		keep_snapshot(s, &t);
	} else {
		g_scrape_failures++;
	}
	curl_multi_remove_handle(m, s->h);
	curl_easy_cleanup(s->h);
	s->h = NULL;
}

/* Each request gets the window that provably holds its moment alone. */
static void join_run(struct sampler *s, struct probe_result *res, int n)
{
	struct ttft_join_req *jr = xrealloc(NULL, (size_t)n * sizeof *jr);
	struct ttft_join_out *out = xrealloc(NULL, (size_t)n * sizeof *out);
	for (int i = 0; i < n; i++)
		jr[i] = res[i].jr;
	ttft_join(s->snaps, s->n, jr, (size_t)n, out);
	for (int i = 0; i < n; i++)
		res[i].srv = out[i];
	free(jr);
	free(out);
}

int probe_run(const struct probe_cfg *cfg, struct probe_result *res, int n,
	      int conc, int progress)
{
	struct sampler smp = {0};
	struct ttft_truth w0;
	char werr[256];
	g_have_window = 0;
	g_scrapes = g_scrape_failures = 0;
	int window = cfg->metrics && conc > 1 && probe_scrape(cfg, &w0, werr, sizeof werr) == 0;
	if (window)
		keep_snapshot(&smp, &w0);
	int interval = cfg->metrics_interval_ms > 0 ? cfg->metrics_interval_ms
						     : TTFT_SCRAPE_INTERVAL_MS;
	smp.next = probe_now() + (int64_t)interval * 1000000;
	if (!g_mark)
		g_mark = (void (*)(int, int))dlsym(RTLD_DEFAULT, "ttft_mark");
	CURLM *m = curl_multi_init();
	struct preq *qs = calloc((size_t)n, sizeof *qs);
	int next = 0, running = 0, done = 0, failed = 0;
	for (int i = 0; i < n; i++)
		res[i].run = i + 1;
	while (done < n) {
		while (running < conc && next < n) {
			char err[256];
			if (cfg->metrics && conc == 1)
				qs[next].have_before = probe_scrape(cfg, &qs[next].before,
								    err, sizeof err) == 0;
			start(m, &qs[next], cfg, &res[next]);
			next++;
			running++;
		}
		int64_t now = probe_now();
		if (window && !smp.h && now >= smp.next) {
			sample_start(m, &smp, cfg);
			smp.next += (int64_t)interval * 1000000;
			if (smp.next < now) /* a slow scrape: skip what it overran */
				smp.next = now;
		}
		int still;
		curl_multi_perform(m, &still);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(m, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			if (smp.h && msg->easy_handle == smp.h) {
				sample_done(m, &smp, msg->data.result);
				continue;
			}
			struct preq *q;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&q);
			finish(m, q, msg->data.result);
			if (cfg->metrics && conc == 1)
				split_one(cfg, q);
			running--;
			done++;
			failed += !q->r->ok;
			if (progress && conc == 1)
				fprintf(stderr, "  run %d/%d: %s\n", q->r->run, n,
					q->r->ok ? "ok" : q->r->error);
			else if (progress && done % 64 == 0)
				fprintf(stderr, "  %d/%d requests done\n", done, n);
		}
		if (done < n) {
			int64_t wait_ms = window && !smp.h ? (smp.next - probe_now()) / 1000000 : 100;
			curl_multi_poll(m, NULL, 0, wait_ms < 0 ? 0 : wait_ms > 100 ? 100
					: (int)wait_ms, NULL);
		}
	}
	if (smp.h) { /* the streams are done: let the last sample go */
		curl_multi_remove_handle(m, smp.h);
		curl_easy_cleanup(smp.h);
		smp.h = NULL;
	}
	free(qs);
	curl_multi_cleanup(m);
	struct ttft_truth w1;
	if (window) {
		/* after the last end and the join's skew, like ttft-run's */
		struct timespec pause = {0, 2 * TTFT_JOIN_SKEW_NS};
		nanosleep(&pause, NULL);
		if (probe_scrape(cfg, &w1, werr, sizeof werr) == 0) {
			keep_snapshot(&smp, &w1);
			ttft_truth_split(&w0, &w1, 0, &g_window);
			g_have_window = 1;
		}
		join_run(&smp, res, n);
	} else if (cfg->metrics && conc > 1) {
		for (int i = 0; i < n; i++)
			snprintf(res[i].srv.note, sizeof res[i].srv.note, "no /metrics snapshot "
				 "before the run: %.150s", werr);
	}
	for (int i = 0; i < n; i++)
		if (!isnan(res[i].prompt_ms)) /* llama.cpp's own, per request */
			ttft_join_timings(&res[i].jr, res[i].prompt_ms, res[i].predicted_ms,
					  res[i].cache_n, &res[i].srv);
	free(smp.snaps);
	free(smp.body);
	return failed;
}

void probe_result_free(struct probe_result *r)
{
	free(r->tok);
	free(r->text);
}

char *probe_first_model(const struct probe_cfg *cfg, char *err, size_t errlen)
{
	char url[2048], *body = NULL, cerr[CURL_ERROR_SIZE] = "";
	snprintf(url, sizeof url, "%s/v1/models", cfg->base);
	long status = 0;
	CURLcode rc = ttft_fetch(url, cfg->headers, cfg->timeout_s, RAW_CAP, &body, &status,
				 cerr, sizeof cerr);
	char *id = NULL;
	if (rc == CURLE_COULDNT_CONNECT) {
		snprintf(err, errlen, "cannot connect to %s: is the server up? Start "
			 "vLLM with tools/serve_slm_vllm.sh, or llama-server with "
			 "'make demo'", cfg->base);
	} else if (rc != CURLE_OK) {
		snprintf(err, errlen, "GET %s failed: %s", url, cerr);
	} else if (status != 200) {
		snprintf(err, errlen, "GET %s answered HTTP %ld; pass --model", url, status);
	} else {
		cJSON *j = cJSON_Parse(body ? body : "");
		cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "data"), 0);
		cJSON *i = cJSON_GetObjectItem(m, "id");
		if (cJSON_IsString(i))
			id = strdup(i->valuestring);
		else
			snprintf(err, errlen, "GET %s listed no model; pass --model", url);
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
	s->source = r->srv.split ? r->srv.source : NULL;
	s->queue_s = r->srv.queue_s;
	s->prefill_s = r->srv.prefill_s;
	s->decode_s = r->srv.decode_s;
	s->hit_tokens = r->srv.hit_tokens;
	s->server_ttft_s = r->srv.server_ttft_s;
	s->server_other_s = ttft_join_other_s(&r->jr, &r->srv);
	s->note = r->srv.note[0] ? r->srv.note : NULL;
	double ttft = probe_ttft_s(r);
	if (!s->source && fit && fit->ok && r->prompt_tokens >= 0 && !isnan(ttft)) {
		/* The server says nothing: what exceeds the calibrated TTFT for
		 * this prompt length is taken as queueing. An estimate, labelled. */
		double expect = fit->a_s + fit->b_s * (double)r->prompt_tokens;
		s->queue_s = ttft > expect ? ttft - expect : 0;
		s->source = "model";
		s->note = "estimated: ttft - (a + b * prompt_tokens) from the calibration";
	}
}
