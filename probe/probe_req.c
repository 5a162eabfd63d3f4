/* probe_req.c — the probe's request engine (see probe.h). */
#include "probe.h"

#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "ttft_clock.h"
#include "ttft_fetch.h"
#include "ttft_join.h"
#include "ttft_json.h"
#include "ttft_scrape.h"

#define RAW_CAP (64 * 1024)
/* An event's data is stored only to parse an error's message or the text
 * (--text); its class, tokens and numbers come from the classifier, which
 * keeps no copy. Beyond this a server's event is not stored, so that no
 * server can grow the probe without bound. */
#define EV_CAP (4u << 20)

/* One request in flight. */
struct preq {
	struct probe_run *run;
	struct ttft_record *r;
	CURL *h;
	struct ttft_sse sse;
	char *ev;            /* data of the event being read */
	size_t evlen, evcap;
	int ev_over;         /* its data passed EV_CAP: not stored */
	char *raw;           /* non-streamed body or error body */
	size_t rawlen;
	int64_t t_now;       /* time of the write callback in progress */
	int events;
	int malformed;       /* 1-based index of the first bad event */
	int fd, new_fd;      /* the connection's fd, for marks; -1 unknown */
	struct ttft_truth before; /* /metrics just before the request */
	int have_before;
	double prompt_ms, predicted_ms, cache_n; /* llama.cpp's timings, NAN
	                                            when absent */
	int64_t t_last;      /* the last data arrived (write callback) */
	struct curl_slist *hdrs; /* cfg's headers + this request's traceparent */
	struct ttft_join_req jr; /* the request as the join sees it */
	int oom;             /* something could not be stored: abort */
	char *own_body;      /* the request's own body (cfg->prompts), or NULL;
			      * freed at the end */
	char curl_err[CURL_ERROR_SIZE];
	char coding[32];     /* the answer's Content-Encoding; "" none or
	                        identity: the probe asks for no coding */
	int head_done;       /* the head being read has had its empty line */
};

static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t nc = (*len + n + 1) * 2;
		char *b = realloc(*buf, nc);
		if (!b)
			return -1;
		*buf = b;
		*cap = nc;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = 0;
	return 0;
}

/* The fd of each request's connection, for marks in the shim's log: a new
 * connection's fd comes from the sockopt callback, and every request's
 * local port from the prereq callback (also on reused connections), so a
 * port -> fd map ties them together. libcurl's ACTIVESOCKET answers only
 * between transfers. */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose)
{
	struct preq *q = ud;
	if (purpose == CURLSOCKTYPE_IPCXN)
		q->new_fd = (int)fd;
	return CURL_SOCKOPT_OK;
}

static void mark(struct preq *q, int code)
{
	if (q->run->mark)
		q->run->mark(q->fd, code);
}

static int on_prereq(void *ud, char *pip, char *lip, int pport, int lport)
{
	struct preq *q = ud;
	int *port_fd = q->run->port_fd;
	(void)pip, (void)lip, (void)pport;
	if (lport > 0 && lport < 65536) {
		if (q->new_fd >= 0)
			port_fd[lport] = q->new_fd + 1;
		q->fd = port_fd[lport] - 1;
	}
	mark(q, TTFT_MARK_REQ_START);
	/* the request goes out now (again, when curl retries it) */
	q->r->t_req0 = ttft_now_ns();
	return CURL_PREREQFUNC_OK;
}

/* The status line is the first header curl hands over: the response has
 * started (llama.cpp: a slot took the request). */
static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
	struct preq *q = ud;
	size_t n = sz * nm;
	if (!q->r->t_hdr)
		q->r->t_hdr = ttft_now_ns();
	if (n >= 5 && !memcmp(p, "HTTP/", 5)) {
		q->coding[0] = 0; /* a new head (after a 100 Continue) */
		q->head_done = 0;
	}
	if ((n == 2 && p[0] == '\r' && p[1] == '\n') || (n == 1 && p[0] == '\n'))
		q->head_done = 1;
	/* A server may compress an answer whose request names no coding
	 * (RFC 9110 12.5.3), a proxy in front of it too: its events cannot
	 * be read, and the row must say so rather than count 0 tokens (a
	 * review found a gzip stream given "≥0" tokens and "ended without
	 * [DONE]") */
	if (n > 17 && !strncasecmp(p, "content-encoding:", 17)) {
		const char *v = p + 17, *e = p + n;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' ||
				 e[-1] == '\t'))
			e--;
		size_t k = (size_t)(e - v);
		if (k && !(k == 8 && !strncasecmp(v, "identity", 8)) &&
		    !(k == 4 && !strncasecmp(v, "none", 4)))
			snprintf(q->coding, sizeof q->coding, "%.*s", (int)k, v);
	}
	return n;
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

/* A usage count: a whole number the stream's classifier would take too
 * (0..UINT32_MAX), else -1, unknown: a server's 1e300 or -7 is no count,
 * and a double beyond LONG_MAX cast to long is undefined. */
static long usage_count(const cJSON *v)
{
	if (!cJSON_IsNumber(v))
		return -1;
	double d = v->valuedouble;
	return d >= 0 && d <= UINT32_MAX && d == floor(d) ? (long)d : -1;
}

/* usage and llama.cpp's timings, from any chunk or body that has them */
static void take_usage(struct preq *q, cJSON *j)
{
	struct ttft_record *r = q->r;
	cJSON *u = cJSON_GetObjectItem(j, "usage");
	cJSON *ct = cJSON_GetObjectItem(u, "completion_tokens");
	if (cJSON_IsNumber(ct))
		r->usage_tokens = usage_count(ct);
	cJSON *pt = cJSON_GetObjectItem(u, "prompt_tokens");
	if (cJSON_IsNumber(pt))
		r->prompt_tokens = usage_count(pt);
	cJSON *t = cJSON_GetObjectItem(j, "timings");
	if (cJSON_IsObject(t)) {
		cJSON *v;
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(t, "prompt_ms")))
			q->prompt_ms = v->valuedouble;
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(t, "predicted_ms")))
			q->predicted_ms = v->valuedouble;
		if (cJSON_IsNumber(v = cJSON_GetObjectItem(t, "cache_n")))
			q->cache_n = v->valuedouble;
	}
}

static void keep_text(struct preq *q, cJSON *j)
{
	const char *t = q->run->cfg->keep_text ? chunk_text(j) : NULL;
	if (t && ttft_record_add_text(q->r, t, strlen(t)) != 0) {
		ttft_record_set_error(q->r, "out of memory keeping the generated text");
		q->oom = 1;
	}
}

static void on_data(void *ctx, const char *p, size_t n)
{
	struct preq *q = ctx;
	if (q->oom || q->ev_over)
		return;
	if (q->evlen + n > EV_CAP) {
		q->ev_over = 1;
		return;
	}
	if (append(&q->ev, &q->evlen, &q->evcap, p, n) != 0) {
		ttft_record_set_error(q->r, "out of memory reading stream event %d",
				      q->events + 1);
		q->oom = 1;
	}
}

/* The numbers the classifier read from a stream event (usage, llama.cpp's
 * timings): no JSON parse for them. */
static void take_numbers(struct preq *q, const struct ttft_sse_nums *nv)
{
	struct ttft_record *r = q->r;
#define HAVE(i) (nv->have & (1u << (i)))
	if (HAVE(TTFT_NUM_COMPLETION_TOKENS)) {
		r->usage_tokens = nv->v[TTFT_NUM_COMPLETION_TOKENS];
		r->tokens_timings = 0;
	} else if (HAVE(TTFT_NUM_PREDICTED_N) && (r->usage_tokens < 0 || r->tokens_timings)) {
		/* no usage (llama.cpp's native /completion): its timings say
		 * how many it generated, where its events may be fewer (a
		 * token ending inside a UTF-8 character sends none), as the
		 * analyzer takes them */
		r->usage_tokens = nv->v[TTFT_NUM_PREDICTED_N];
		r->tokens_timings = 1;
	}
	if (HAVE(TTFT_NUM_PROMPT_TOKENS))
		r->prompt_tokens = nv->v[TTFT_NUM_PROMPT_TOKENS];
	else if (nv->have & TTFT_NUM_F_PROMPT_UNKNOWN)
		r->prompt_tokens = -1; /* an earlier count is stale */
	if (HAVE(TTFT_NUM_PROMPT_US))
		q->prompt_ms = nv->v[TTFT_NUM_PROMPT_US] / 1e3;
	if (HAVE(TTFT_NUM_PREDICTED_US))
		q->predicted_ms = nv->v[TTFT_NUM_PREDICTED_US] / 1e3;
	if (HAVE(TTFT_NUM_CACHE_N))
		q->cache_n = nv->v[TTFT_NUM_CACHE_N];
#undef HAVE
}

/* Per event the classifier says what it is and reads its numbers; JSON is
 * parsed only for what it cannot give: an error's message, the text. */
static void on_event(void *ctx, enum ttft_sse_class cls, unsigned flags)
{
	struct preq *q = ctx;
	struct ttft_record *r = q->r;
	q->events++;
	if (q->oom)
		return;
	if (cls == TTFT_SSE_TOKEN) {
		if (ttft_record_add_token(r, q->t_now) != 0) {
			ttft_record_set_error(r, "out of memory storing token %llu's time",
					      (unsigned long long)r->ntok + 1);
			q->oom = 1;
			return;
		}
		if (r->ntok == 1)
			mark(q, TTFT_MARK_FIRST_TOKEN);
	}
	if (cls == TTFT_SSE_DONE)
		r->done = 1;
	if (flags & TTFT_SSE_F_BAD) {
		/* its numbers are not taken, but its word that the prompt's
		 * count so far is stale holds (a malformed message_delta that
		 * said parts anew: ttft_sse.c's prompt_bad), as ttft-analyze
		 * takes it */
		if ((flags & TTFT_SSE_F_NUMS) &&
		    (q->sse.nums.have & TTFT_NUM_F_PROMPT_UNKNOWN))
			r->prompt_tokens = -1;
		if (!q->malformed) {
			q->malformed = q->events;
			ttft_record_set_error(r, "malformed JSON in stream event %d: %.80s",
					      q->events, q->ev ? q->ev : "");
		}
	} else {
		if (flags & TTFT_SSE_F_NUMS)
			take_numbers(q, &q->sse.nums);
		int text = cls == TTFT_SSE_TOKEN && q->run->cfg->keep_text;
		if (text && q->ev_over) {
			ttft_record_set_error(r, "stream event %d is over %u MiB: its "
					      "text was not kept", q->events, EV_CAP >> 20);
			text = 0;
		}
		cJSON *j = (cls == TTFT_SSE_ERROR && !q->ev_over) || text
			   ? cJSON_ParseWithLength(q->ev ? q->ev : "", q->evlen) : NULL;
		if (cls == TTFT_SSE_ERROR) {
			const char *m = j ? error_message(j) : NULL;
			ttft_record_set_error(r, "server error mid-stream after %llu tokens: "
					      "%s", (unsigned long long)r->ntok,
					      m ? m : q->ev_over ? "(its event over the "
					      "probe's limit: not read)" : "(no message)");
		}
		if (j && text)
			keep_text(q, j);
		cJSON_Delete(j);
	}
	q->evlen = 0;
	q->ev_over = 0;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct preq *q = ud;
	size_t n = sz * nm;
	if (q->oom)
		return 0; /* abort the transfer: its record holds the error */
	q->t_now = q->t_last = ttft_now_ns();
	long status = 0;
	curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &status);
	/* a compressed body: nothing in it to read as events or JSON (only
	 * one that came: an empty one compressed nothing) */
	if (q->coding[0] && n)
		q->r->compressed = 1;
	if (q->r->compressed && status < 300)
		return n;
	if (status >= 300 || !q->run->cfg->stream) {
		size_t take = q->rawlen + n > RAW_CAP ? RAW_CAP - q->rawlen : n;
		memcpy(q->raw + q->rawlen, p, take);
		q->rawlen += take;
		q->raw[q->rawlen] = 0;
	} else {
		ttft_sse_feed(&q->sse, p, n);
	}
	return n;
}

/* A W3C traceparent: a random trace id (the request-level join key vLLM's
 * OpenTelemetry spans carry) and span id, sampled. */
static void new_traceparent(char *trace_id, char *line, size_t len)
{
	unsigned char b[24];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		/* no entropy source: ids from the clock, unique within a run */
		int64_t t = ttft_now_ns();
		for (size_t i = 0; i < sizeof b; i++)
			b[i] = (unsigned char)((t >> (8 * (i % 8))) ^ (int64_t)(i * 131));
	}
	b[0] |= 1; /* all-zero ids are invalid */
	b[16] |= 1;
	char span[17];
	for (int i = 0; i < 16; i++)
		snprintf(trace_id + 2 * i, 3, "%02x", b[i]);
	for (int i = 0; i < 8; i++)
		snprintf(span + 2 * i, 3, "%02x", b[16 + i]);
	snprintf(line, len, "traceparent: 00-%s-%s-01", trace_id, span);
}

/* Nothing but blanks (a header's empty value). */
static int blank(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	return !*v;
}

/* A traceparent header's value (after "traceparent:"): blanks around
 * it, then 55 characters W3C accepts; after them only a later version may
 * go on ('-' and more). */
static int traceparent_value_ok(const char *v)
{
	while (*v == ' ' || *v == '\t')
		v++;
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	if (n < 55 || (n > 55 && v[55] != '-'))
		return 0;
	char tp[56];
	memcpy(tp, v, 55);
	tp[55] = 0;
	return ttft_traceparent_ok(tp, n > 55);
}

int probe_header_check(const char *h, int *traceparent, char *err, size_t errlen)
{
	/* RFC 9110's token: curl sends the line as it is, so ":" went as no
	 * header at all (curl's "Name:" with no name) and ": v" or "A b: v"
	 * as a line the server refuses, every request a 400 */
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
				    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
	const char *colon = strchr(h, ':');
	size_t n = colon ? (size_t)(colon - h) : 0, ok = strspn(h, tchar);
	*traceparent = 0;
	if (!colon) {
		snprintf(err, errlen, "bad value '%s' for --header: want 'Name: value'", h);
		return -1;
	}
	if (!n) {
		snprintf(err, errlen, "bad value '%s' for --header: no name before the ':'; want "
			 "'Name: value', e.g. 'Authorization: Bearer KEY'", h);
		return -1;
	}
	if (ok < n) {
		snprintf(err, errlen, "bad value '%s' for --header: the name '%.*s' holds %s, "
			 "which no header name may (letters, digits and !#$%%&'*+-.^_`|~); want "
			 "'Name: value'", h, (int)n, h, h[ok] == ' ' ? "a blank" : "a character");
		return -1;
	}
	if (strpbrk(colon, "\r\n")) {
		snprintf(err, errlen, "bad value for --header %.*s: its value holds a line break, "
			 "which would end the header; want one line", (int)n, h);
		return -1;
	}
	if (n == 11 && !strncasecmp(h, "traceparent", 11)) {
		/* its trace id is the row's join key: a value W3C calls
		 * invalid would join nothing (or the wrong request), so it is
		 * refused before any request; an empty one is curl's "send no
		 * such header": none is sent, and the rows have no trace id */
		if (!blank(colon + 1) && !traceparent_value_ok(colon + 1)) {
			snprintf(err, errlen, "bad value '%s' for --header: not a valid W3C "
				 "traceparent (want 'traceparent: 00-<32 hex>-<16 hex>-<2 hex>', "
				 "lower-case, ids not all zero)", h);
			return -1;
		}
		*traceparent = 1;
	}
	return 0;
}

/* The trace id of the user's own traceparent header, "" if none. */
static void user_trace_id(const struct curl_slist *h, char *out)
{
	out[0] = 0;
	for (; h; h = h->next) {
		const char *v = h->data;
		if (strncasecmp(v, "traceparent:", 12))
			continue;
		v += 12;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strlen(v) >= 35 && v[2] == '-')
			snprintf(out, 33, "%.32s", v + 3);
	}
}

/* This request's headers: the run's and its own traceparent; 0, or -1
 * when out of memory. */
static int request_headers(struct preq *q)
{
	const struct probe_cfg *cfg = q->run->cfg;
	struct ttft_w3c *w = ttft_record_w3c_rw(q->r);
	if (!w)
		return -1;
	if (cfg->user_traceparent) {
		user_trace_id(cfg->headers, w->trace_id);
		return 0;
	}
	char line[96];
	new_traceparent(w->trace_id, line, sizeof line);
	for (const struct curl_slist *h = cfg->headers; h; h = h->next) {
		struct curl_slist *n = curl_slist_append(q->hdrs, h->data);
		if (!n)
			return -1;
		q->hdrs = n;
	}
	struct curl_slist *n = curl_slist_append(q->hdrs, line);
	if (!n)
		return -1;
	q->hdrs = n;
	return 0;
}

/* The request body: the same for every request of a run, unless the run
 * gives each its own prompt (cfg->prompts). */
static char *request_body(const struct probe_cfg *c, const char *prompt)
{
	struct ttft_json j;
	if (ttft_json_init(&j, NULL, 0) != 0)
		return NULL;
	ttft_json_begin_obj(&j, NULL);
	if (c->model)
		ttft_json_str(&j, "model", c->model);
	if (c->chat) {
		ttft_json_begin_arr(&j, "messages");
		ttft_json_begin_obj(&j, NULL);
		ttft_json_str(&j, "role", "user");
		ttft_json_str(&j, "content", prompt);
		ttft_json_end_obj(&j);
		ttft_json_end_arr(&j);
	} else {
		ttft_json_str(&j, "prompt", prompt);
	}
	ttft_json_int(&j, "max_tokens", c->max_tokens);
	ttft_json_num(&j, "temperature", c->temperature);
	ttft_json_bool(&j, "stream", c->stream);
	if (c->stream) {
		ttft_json_begin_obj(&j, "stream_options");
		ttft_json_bool(&j, "include_usage", 1);
		ttft_json_end_obj(&j);
	}
	if (c->ignore_eos)
		ttft_json_bool(&j, "ignore_eos", 1);
	if (c->no_prompt_cache)
		ttft_json_bool(&j, "cache_prompt", 0);
	ttft_json_end_obj(&j);
	char *s = ttft_json_take(&j);
	ttft_json_free(&j);
	return s;
}

/* Start request q on m; -1 when it could not be (the record says why). */
static int start(CURLM *m, struct preq *q, struct probe_run *run, struct ttft_record *r,
		 const char *url, const char *body, char *own_body)
{
	const struct probe_cfg *cfg = run->cfg;
	struct ttft_truth before = q->before;
	int have_before = q->have_before;
	memset(q, 0, sizeof *q);
	q->before = before;
	q->have_before = have_before;
	q->run = run;
	q->r = r;
	q->own_body = own_body;
	q->prompt_ms = q->predicted_ms = q->cache_n = NAN;
	q->fd = q->new_fd = -1;
	q->raw = malloc(RAW_CAP + 1);
	q->h = q->raw && request_headers(q) == 0 ? curl_easy_init() : NULL;
	if (!q->h || !body) {
		r->t_start = ttft_now_ns();
		ttft_record_set_error(r, "cannot start the request: out of memory");
		if (q->h)
			curl_easy_cleanup(q->h);
		q->h = NULL;
		free(q->raw);
		free(q->own_body);
		curl_slist_free_all(q->hdrs);
		q->raw = q->own_body = NULL;
		q->hdrs = NULL;
		return -1;
	}
	q->raw[0] = 0;
	ttft_sse_init(&q->sse, on_event, on_data, q);
	q->sse.full = 1; /* every event read to its end: numbers, malformed JSON */
	curl_easy_setopt(q->h, CURLOPT_URL, url);
	curl_easy_setopt(q->h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(q->h, CURLOPT_HTTPHEADER, q->hdrs ? q->hdrs : cfg->headers);
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
	curl_easy_setopt(q->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(q->h, CURLOPT_HEADERDATA, q);
	curl_easy_setopt(q->h, CURLOPT_PREREQDATA, q);
	r->t_start = ttft_now_ns();
	curl_multi_add_handle(m, q->h);
	return 0;
}

/* libcurl's times count from the transfer's start: instants on our clock. */
static int64_t at(struct ttft_record *r, CURL *h, CURLINFO what)
{
	curl_off_t us = 0;
	if (curl_easy_getinfo(h, what, &us) != CURLE_OK || us <= 0)
		return 0;
	return r->t_start + (int64_t)us * 1000;
}

/* The request as the join sees it: the first token and the last data read
 * in the callbacks, the rest from libcurl's times. */
static void join_req_of(struct preq *q)
{
	const struct ttft_record *r = q->r;
	struct ttft_join_req *j = &q->jr;
	memset(j, 0, sizeof *j);
	j->t_sent = r->t_req1;
	j->t_hdr = r->t_hdr;
	j->t_first = q->run->cfg->stream ? r->t_first : 0;
	j->t_end_lo = q->t_last ? q->t_last : r->t_end;
	j->t_end_hi = r->t_end;
	j->skew_ns = TTFT_JOIN_SKEW_NS + (int64_t)r->rtt_us * 1000;
	j->generate = 1;
	j->complete = r->ok && r->status >= 200 && r->status < 300;
	j->prompt_tokens = r->prompt_tokens > 0 ? r->prompt_tokens : 0;
}

/* llama.cpp's own timings in the stream win over /metrics deltas: they are
 * this request's by construction (and give the queue, ttft_join.h). */
static void take_timings(struct preq *q)
{
	if (isnan(q->prompt_ms))
		return;
	struct ttft_server_split *s = ttft_record_split_rw(q->r);
	if (s)
		ttft_join_timings(&q->jr, q->prompt_ms, q->predicted_ms, q->cache_n, s);
	else
		ttft_record_set_error(q->r, "out of memory keeping llama.cpp's timings");
}

/* Whether curl gave up on a response head over its limit
 * (CURL_MAX_HTTP_HEADER, 100 KiB a line): before 8.6 its buffer's cap
 * says CURLE_OUT_OF_MEMORY with no message (no allocation failed), 8.6 on
 * CURLE_TOO_LARGE, some 8.x "Too large response headers". begun: a head
 * line was read (an OOM before any is no head's). */
static int head_too_large(CURLcode rc, const char *curl_err, int begun)
{
#if LIBCURL_VERSION_NUM >= 0x080600
	if (rc == CURLE_TOO_LARGE)
		return 1;
#endif
	return (rc == CURLE_OUT_OF_MEMORY && begun) ||
	       (rc != CURLE_OK && strcasestr(curl_err, "too large response header"));
}

/* Whether curl gave up on bytes the server sent that are no chunked
 * encoding: a CURLE_RECV_ERROR, as a failed recv is, told apart only by
 * its message ("Illegal or missing hexadecimal sequence in
 * chunked-encoding" in 7.x, "chunk hex-length char not a hex digit",
 * "invalid chunk size" in 8.x). The server did not close: it sent them. */
static int bad_chunks(CURLcode rc, const char *curl_err)
{
	return rc == CURLE_RECV_ERROR && strcasestr(curl_err, "chunk");
}

static void finish(CURLM *m, struct preq *q, CURLcode rc)
{
	const struct probe_cfg *cfg = q->run->cfg;
	struct ttft_record *r = q->r;
	char plain[2100];
	r->t_end = ttft_now_ns();
	long nconn = 0, status = 0;
	curl_easy_getinfo(q->h, CURLINFO_NUM_CONNECTS, &nconn);
	r->new_conn = nconn > 0;
	if (r->new_conn) {
		/* curl resolves, then connects: the resolution starts with
		 * the transfer */
		r->t_dns1 = at(r, q->h, CURLINFO_NAMELOOKUP_TIME_T);
		r->t_dns0 = r->t_dns1 ? r->t_start : 0;
		r->t_conn0 = r->t_dns1 ? r->t_dns1 : r->t_start;
		r->t_est = at(r, q->h, CURLINFO_CONNECT_TIME_T);
	}
	/* Sending and the headers on our own clock, in the callbacks (set
	 * there: t_req0, t_hdr), like the tokens: libcurl's phase timers,
	 * offset onto it, disagreed with the server's own record by more
	 * than the server spent (test_load). The end of sending only libcurl
	 * knows. */
#if LIBCURL_VERSION_NUM >= 0x080a00
	r->t_req1 = at(r, q->h, CURLINFO_POSTTRANSFER_TIME_T);
	if (r->t_req1 < r->t_req0)
		r->t_req1 = 0;
#endif
	if (!r->t_req1)
		r->t_req1 = r->t_req0; /* older libcurl: when sending began */
	curl_easy_getinfo(q->h, CURLINFO_RESPONSE_CODE, &status);
	r->status = (int)status;
	r->fd = q->fd;
	mark(q, TTFT_MARK_REQ_END);
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	if (q->fd >= 0 && getsockopt(q->fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	    ti.tcpi_rtt > 0)
		r->rtt_us = ti.tcpi_rtt;

	/* a head begun and not ended: no answer (its status line may have
	 * said 200) */
	int begun = r->t_hdr || r->status;
	int too_large = !q->head_done && head_too_large(rc, q->curl_err, begun);
	r->head_cut = rc != CURLE_OK && !q->head_done && (begun || too_large);
	if (rc == CURLE_COULDNT_CONNECT) {
		ttft_record_set_error(r, "cannot connect to %s: is the server up? Start "
				      "vLLM with tools/serve_slm_vllm.sh, or llama-server "
				      "with 'make demo'", cfg->base);
	} else if (rc != CURLE_OK && !r->t_req0 &&
		   probe_plain_http(cfg->base, plain, sizeof plain)) {
		ttft_record_set_error(r, "%s answers plain HTTP, not TLS: use --url %s",
				      cfg->base, plain);
	} else if (r->compressed && r->status < 300) {
		ttft_record_set_error(r, "the server compressed its answer (Content-Encoding: "
				      "%s), which the probe did not ask for: its events cannot "
				      "be read (have the server, or the proxy in front of it, "
				      "send text/event-stream uncompressed)", q->coding);
	} else if (rc == CURLE_OPERATION_TIMEDOUT) {
		ttft_record_set_error(r, "timed out after %g s (--timeout), %llu tokens "
				      "received", cfg->timeout_s, (unsigned long long)r->ntok);
	} else if (too_large) {
		ttft_record_set_error(r, "the response's head was too large: over libcurl's "
				      "limit of 100 KiB a header line, it never completed, "
				      "so there is no answer (%s%s)",
				      q->curl_err[0] ? q->curl_err : curl_easy_strerror(rc),
				      rc == CURLE_OUT_OF_MEMORY
					      ? ": libcurl's word before 8.6 for a head over "
						"its limit" : "");
	} else if (r->head_cut) {
		ttft_record_set_error(r, "the response's head never completed: no answer "
				      "(%s)", q->curl_err[0] ? q->curl_err
							     : curl_easy_strerror(rc));
	} else if (bad_chunks(rc, q->curl_err)) {
		if (cfg->stream && r->status < 300)
			ttft_record_set_error(r, "stream ended without [DONE] after %llu tokens: "
					      "the server sent bytes that are not valid chunked "
					      "encoding (%s)", (unsigned long long)r->ntok,
					      q->curl_err);
		else
			ttft_record_set_error(r, "the server sent bytes that are not valid "
					      "chunked encoding (%s)", q->curl_err);
	} else if ((rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR) &&
		   cfg->stream && r->status < 300) {
		ttft_record_set_error(r, "stream ended without [DONE] after %llu tokens: the "
				      "server closed the connection (%s)",
				      (unsigned long long)r->ntok,
				      q->curl_err[0] ? q->curl_err : curl_easy_strerror(rc));
	} else if (rc != CURLE_OK) {
		ttft_record_set_error(r, "transfer failed: %s (curl error %d)",
				      q->curl_err[0] ? q->curl_err : curl_easy_strerror(rc),
				      (int)rc);
	}
	if (r->status >= 400) {
		/* an error's body (JSON): no event stream, so no tokens to
		 * count, not zero of them (an error streamed as an event
		 * is one: sse_error) */
		if (!r->ntok && !r->done && !r->sse_error)
			r->not_sse = 1;
		cJSON *j = cJSON_Parse(q->raw);
		const char *msg = j ? error_message(j) : NULL;
		ttft_record_set_error(r, "server answered HTTP %d: %.400s", r->status,
				      msg ? msg : q->raw);
		cJSON_Delete(j);
	} else if (r->compressed) {
		/* said above: neither events nor a JSON answer to read */
	} else if (rc == CURLE_OK && !cfg->stream) {
		/* one JSON answer, no events to count: its tokens are the
		 * server's usage, or not known */
		r->not_sse = 1;
		cJSON *j = cJSON_Parse(q->raw);
		if (!j) {
			ttft_record_set_error(r, "malformed JSON response: %.80s", q->raw);
		} else {
			take_usage(q, j);
			keep_text(q, j);
			r->t_first = r->t_end; /* the whole answer at once */
			cJSON_Delete(j);
		}
	} else if (rc == CURLE_OK && !r->done) {
		ttft_record_set_error(r, "stream ended without [DONE] after %llu tokens",
				      (unsigned long long)r->ntok);
	}
	if (ttft_record_finish(r) != 0)
		ttft_record_set_error(r, "out of memory computing the inter-token latency");
	r->ok = r->error == NULL;
	join_req_of(q);
	take_timings(q);
	curl_multi_remove_handle(m, q->h);
	curl_easy_cleanup(q->h);
	curl_slist_free_all(q->hdrs);
	free(q->ev);
	free(q->raw);
	free(q->own_body);
	q->h = NULL;
	q->hdrs = NULL;
	q->ev = q->raw = q->own_body = NULL;
}

static int stopped(const struct probe_cfg *cfg)
{
	return cfg->stop && *cfg->stop;
}

int probe_scrape(const struct probe_cfg *cfg, struct ttft_truth *t, char *err, size_t errlen)
{
	char url[2100], *body = NULL, cerr[CURL_ERROR_SIZE] = "";
	snprintf(url, sizeof url, "%s/metrics", cfg->base);
	long status = 0;
	int64_t t0 = ttft_now_ns();
	CURLcode rc = ttft_fetch(url, cfg->headers, 5.0, 8u << 20, &body, &status, cerr,
				 sizeof cerr);
	int64_t t1 = ttft_now_ns();
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
	/* rendered after the GET went out and before its answer was in */
	t->t0_ns = t0;
	t->t_ns = t1;
	free(body);
	return out;
}

/* Sequential requests: the deltas between the scrapes around each one are
 * that request's own numbers. */
static void split_one(const struct probe_cfg *cfg, struct preq *q)
{
	if (ttft_record_split(q->r)->source)
		return; /* llama.cpp's timings already said */
	struct ttft_server_split *s = ttft_record_split_rw(q->r);
	struct ttft_truth after;
	char err[256];
	if (!s) {
		ttft_record_set_error(q->r, "out of memory keeping the server's split");
		return;
	}
	if (!q->have_before) {
		snprintf(s->note, sizeof s->note, "no /metrics snapshot before the request");
		return;
	}
	if (probe_scrape(cfg, &after, err, sizeof err) != 0) {
		snprintf(s->note, sizeof s->note, "%.150s", err);
		return;
	}
	ttft_join_pair(&q->before, &after, &q->jr, s);
}

/* Under concurrency, /metrics is sampled from the same event loop while
 * the streams run: one GET at a time, every metrics_interval_ms. */
struct sampler {
	CURL *h;
	char *body;
	size_t len;
	int oom;
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
	char *b = realloc(s->body, s->len + n + 1);
	if (!b) {
		s->oom = 1;
		return 0;
	}
	s->body = b;
	memcpy(s->body + s->len, p, n);
	s->len += n;
	s->body[s->len] = 0;
	return n;
}

static int keep_snapshot(struct sampler *s, const struct ttft_truth *t)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? 2 * s->cap : 64;
		struct ttft_truth *v = realloc(s->snaps, nc * sizeof *v);
		if (!v)
			return -1;
		s->snaps = v;
		s->cap = nc;
	}
	s->snaps[s->n++] = *t;
	return 0;
}

static void sample_start(CURLM *m, struct sampler *s, const char *url,
			 const struct probe_cfg *cfg)
{
	s->h = curl_easy_init();
	if (!s->h)
		return;
	curl_easy_setopt(s->h, CURLOPT_URL, url);
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, cfg->headers);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_page);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 5000L);
	s->len = 0;
	s->t0 = ttft_now_ns();
	curl_multi_add_handle(m, s->h);
}

static void sample_done(CURLM *m, struct sampler *s, CURLcode rc, struct probe_run *run)
{
	long status = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	struct ttft_truth t;
	char why[160];
	int64_t t1 = ttft_now_ns();
	run->scrapes++;
	if (rc == CURLE_OK && status == 200 &&
	    ttft_truth_page(s->body ? s->body : "", s->len, &t, why, sizeof why) > 0) {
		t.t0_ns = s->t0; /* rendered after the GET went out … */
		t.t_ns = t1;     /* … and before its answer was in */
		if (keep_snapshot(s, &t) != 0)
			s->oom = 1;
	} else {
		run->scrape_failures++;
	}
	curl_multi_remove_handle(m, s->h);
	curl_easy_cleanup(s->h);
	s->h = NULL;
}

/* Each request the stream's timings did not explain gets the window that
 * provably holds it alone; 0, or -1 when out of memory. */
static int join_run(struct sampler *s, struct preq *qs, struct ttft_record *res, int n)
{
	struct ttft_join_req *jr = malloc(((size_t)n + 1) * sizeof *jr);
	struct ttft_server_split *out = malloc(((size_t)n + 1) * sizeof *out);
	int rc = jr && out ? 0 : -1;
	for (int i = 0; rc == 0 && i < n; i++)
		jr[i] = qs[i].jr;
	if (rc == 0)
		rc = ttft_join(s->snaps, s->n, jr, (size_t)n, out);
	for (int i = 0; rc == 0 && i < n; i++)
		if (!ttft_record_split(&res[i])->source)
			rc = ttft_record_set_split(&res[i], &out[i]);
	free(jr);
	free(out);
	return rc;
}

int probe_run(struct probe_run *run, struct ttft_record *res, int n, char *err,
	      size_t errlen)
{
	const struct probe_cfg *cfg = run->cfg;
	int conc = run->conc > 0 ? run->conc : 1;
	for (int i = 0; i < n; i++) {
		ttft_record_init(&res[i], TTFT_ORIGIN_PROBE);
		res[i].run = i + 1;
	}
	struct sampler smp = {0};
	struct ttft_truth w0;
	char werr[256] = "";
	run->have_window = 0;
	run->scrapes = run->scrape_failures = 0;
	int window = cfg->metrics && conc > 1 && probe_scrape(cfg, &w0, werr, sizeof werr) == 0;
	if (window && keep_snapshot(&smp, &w0) != 0)
		smp.oom = 1;
	int64_t every = (int64_t)(cfg->metrics_interval_ms > 0 ? cfg->metrics_interval_ms
				  : window ? ttft_scrape_interval_for(&w0)
				  : TTFT_SCRAPE_OTHER_MS) * 1000000;
	smp.next = ttft_now_ns() + every;
	/* the shim's own mark, when it is preloaded into this process */
	run->mark = (void (*)(int, int))dlsym(RTLD_DEFAULT, "ttft_mark");
	char url[2100], murl[2100];
	snprintf(url, sizeof url, "%s%s", cfg->base,
		 cfg->chat ? "/v1/chat/completions" : "/v1/completions");
	snprintf(murl, sizeof murl, "%s/metrics", cfg->base);
	char *body = cfg->prompts ? NULL : request_body(cfg, cfg->prompt);
	CURLM *m = body || cfg->prompts ? curl_multi_init() : NULL;
	struct preq *qs = m ? calloc((size_t)n ? (size_t)n : 1, sizeof *qs) : NULL;
	run->port_fd = qs ? calloc(65536, sizeof *run->port_fd) : NULL;
	if (!run->port_fd) {
		snprintf(err, errlen, "cannot start %d request%s: out of memory", n,
			 n == 1 ? "" : "s");
		free(qs);
		if (m)
			curl_multi_cleanup(m);
		free(body);
		free(smp.snaps);
		return -1;
	}
	int next = 0, running = 0, done = 0, failed = 0;
	while (done < n) {
		if (stopped(cfg)) {
			/* in flight: end now, marked; not started: left untouched */
			for (int i = 0; i < next; i++) {
				if (!qs[i].h)
					continue;
				qs[i].r->interrupted = !qs[i].r->error; /* not an earlier cause */
				ttft_record_set_error(qs[i].r, "interrupted after %llu tokens "
						      "(Ctrl-C or SIGTERM)",
						      (unsigned long long)qs[i].r->ntok);
				finish(m, &qs[i], CURLE_ABORTED_BY_CALLBACK);
				failed++;
			}
			break;
		}
		while (running < conc && next < n) {
			char serr[256];
			struct preq *q = &qs[next];
			if (cfg->metrics && conc == 1)
				q->have_before = probe_scrape(cfg, &q->before, serr,
							      sizeof serr) == 0;
			/* a body of its own lives as long as its transfer; start()
			 * says "out of memory" when it could not be made */
			char *own = cfg->prompts ? request_body(cfg, cfg->prompts[next]) : NULL;
			if (start(m, q, run, &res[next], url, cfg->prompts ? own : body, own) == 0) {
				running++;
			} else {
				done++;
				failed++;
				if (run->progress)
					run->progress(run->progress_arg, &res[next], done, n);
			}
			next++;
		}
		int64_t now = ttft_now_ns();
		if (window && !smp.h && now >= smp.next) {
			sample_start(m, &smp, murl, cfg);
			smp.next += every;
			if (smp.next < now) /* a slow scrape: skip the ticks it overran */
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
				sample_done(m, &smp, msg->data.result, run);
				continue;
			}
			struct preq *q;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&q);
			finish(m, q, msg->data.result);
			if (cfg->metrics && conc == 1 && !stopped(cfg))
				split_one(cfg, q);
			running--;
			done++;
			failed += !q->r->ok;
			if (run->progress)
				run->progress(run->progress_arg, q->r, done, n);
		}
		if (done < n) {
			/* wake for the next sample, or at least every 100 ms */
			int64_t ms = window && !smp.h ? (smp.next - ttft_now_ns()) / 1000000 : 100;
			curl_multi_poll(m, NULL, 0, ms < 0 ? 0 : ms > 100 ? 100 : (int)ms, NULL);
		}
	}
	if (smp.h) { /* the streams are done: the last sample is not needed */
		curl_multi_remove_handle(m, smp.h);
		curl_easy_cleanup(smp.h);
		smp.h = NULL;
	}
	free(run->port_fd);
	run->port_fd = NULL;
	curl_multi_cleanup(m);
	free(body);
	int rc = failed;
	if (window && !stopped(cfg)) {
		/* after the last end and the join's skew, like ttft-run's */
		struct timespec pause = {0, 2 * TTFT_JOIN_SKEW_NS};
		nanosleep(&pause, NULL);
		struct ttft_truth w1;
		if (probe_scrape(cfg, &w1, werr, sizeof werr) == 0) {
			if (keep_snapshot(&smp, &w1) != 0)
				smp.oom = 1;
			ttft_truth_split(&w0, &w1, 0, &run->window);
			run->have_window = 1;
		}
		if (smp.oom || join_run(&smp, qs, res, n) != 0) {
			snprintf(err, errlen, "out of memory joining /metrics to %d requests", n);
			rc = -1;
		}
	} else if (cfg->metrics && conc > 1 && !window) {
		for (int i = 0; i < n; i++) {
			if (ttft_record_split(&res[i])->source)
				continue;
			struct ttft_server_split *sp = ttft_record_split_rw(&res[i]);
			if (sp)
				snprintf(sp->note, sizeof sp->note,
					 "no /metrics snapshot before the run: %.150s", werr);
			else
				ttft_record_set_error(&res[i], "out of memory keeping why "
						      "there is no split");
		}
	}
	free(qs);
	free(smp.snaps);
	free(smp.body);
	return rc;
}

int probe_plain_http(const char *base, char *plain, size_t n)
{
	if (strncmp(base, "https://", 8) != 0)
		return 0;
	snprintf(plain, n, "http://%s", base + 8);
	char url[2200];
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
	char url[2100], plain[2100];
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
	char *body = NULL, cerr[CURL_ERROR_SIZE] = "";
	long status = 0;
	CURLcode rc;
	if (strncmp(cfg->base, "https://", 8))
		return 0;
	int r = models_get(cfg, &body, &status, cerr, sizeof cerr, &rc, err, errlen);
	free(body);
	return r ? -1 : 0;
}

char *probe_first_model(const struct probe_cfg *cfg, char *err, size_t errlen)
{
	char url[2100], *body = NULL, cerr[CURL_ERROR_SIZE] = "";
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
		if (cJSON_IsString(i) && !(id = strdup(i->valuestring)))
			snprintf(err, errlen, "out of memory reading GET %s", url);
		else if (!cJSON_IsString(i) && cJSON_IsArray(data))
			snprintf(err, errlen, "GET %s lists no model: is one loaded? "
				 "(or pass --model NAME)", url);
		else if (!cJSON_IsString(i))
			snprintf(err, errlen, "GET %s answered 200, but not with an OpenAI "
				 "model list ({\"data\":[{\"id\":…}]}): %s", url, not_openai);
		cJSON_Delete(j);
	}
	free(body);
	return id;
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

void probe_apply_fit(struct ttft_record *r, const struct probe_fit *fit)
{
	double ttft = ttft_record_ttft_s(r);
	if (ttft_record_split(r)->source || !fit || !fit->ok || r->prompt_tokens < 0 ||
	    isnan(ttft))
		return;
	/* The server says nothing: what exceeds the calibrated TTFT for this
	 * prompt length is taken as queueing. An estimate, labelled. */
	double expect = fit->a_s + fit->b_s * (double)r->prompt_tokens;
	struct ttft_server_split *s = ttft_record_split_rw(r);
	if (!s) {
		ttft_record_set_error(r, "out of memory estimating the queue");
		return;
	}
	s->source = TTFT_SPLIT_MODEL;
	s->queue_s = ttft > expect ? ttft - expect : 0;
	snprintf(s->note, sizeof s->note,
		 "estimated: ttft - (a + b * prompt_tokens) from the calibration");
}
