/* ttft_trace.c — see ttft_trace.h. Written directly (no JSON tree): a log
 * of a long run holds many thousands of token events. */
#include "ttft_trace.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_str.h"

static void jstr(struct ttft_str *b, const char *s)
{
	ttft_str_add(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			ttft_str_printf(b, "\\%c", *p);
		else if (*p < 0x20)
			ttft_str_printf(b, "\\u%04x", *p);
		else
			ttft_str_add(b, (const char *)p, 1);
	}
	ttft_str_add(b, "\"", 1);
}

struct ctx {
	struct ttft_str b;
	int64_t t0;
	int first;
};

static void sep(struct ctx *c)
{
	ttft_str_printf(&c->b, "%s\n", c->first ? "" : ",");
	c->first = 0;
}

static double us(const struct ctx *c, int64_t t)
{
	return (double)(t - c->t0) / 1e3;
}

static void num_arg(struct ttft_str *b, const char *k, double v)
{
	if (isnan(v))
		ttft_str_printf(b, ",\"%s\":null", k);
	else
		ttft_str_printf(b, ",\"%s\":%.6g", k, v);
}

/* A phase slice [a, b) on the request's track, starting no earlier than
 * the previous one ended (*prev), so that slices nest and never overlap. */
static void phase(struct ctx *c, const struct ttft_req *r, const char *name, int64_t a,
		  int64_t z, int64_t *prev)
{
	if (!a || !z)
		return;
	if (a < *prev)
		a = *prev;
	if (z < a)
		return;
	sep(c);
	ttft_str_printf(&c->b, "{\"name\":\"%s\",\"cat\":\"phase\",\"ph\":\"X\",\"ts\":%.3f,"
			       "\"dur\":%.3f,\"pid\":%d,\"tid\":%" PRIu64 "}", name, us(c, a),
			(double)(z - a) / 1e3, r->pid, r->conn);
	*prev = z;
}

static int64_t req_begin(const struct ttft_req *r)
{
	return r->new_conn && r->t_dns0 && r->t_dns0 < r->t_start ? r->t_dns0 : r->t_start;
}

static int64_t req_finish(const struct ttft_req *r)
{
	int64_t z = r->t_start;
	const int64_t c[] = {r->t_req1, r->t_hdr, r->tokens ? r->tok[r->tokens - 1] : 0,
			     r->t_end};
	for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
		z = c[i] > z ? c[i] : z;
	return z;
}

static void request(struct ctx *c, const struct ttft_analysis *a, const struct ttft_req *r)
{
	struct ttft_phases p;
	ttft_req_phases(a, r, &p);
	int64_t b0 = req_begin(r), b1 = req_finish(r);
	char name[TTFT_REC_TEXT + 40];
	snprintf(name, sizeof name, "%s %s", r->method, r->path);
	sep(c);
	ttft_str_printf(&c->b, "{\"name\":");
	jstr(&c->b, name);
	ttft_str_printf(&c->b, ",\"cat\":\"request\",\"ph\":\"X\",\"ts\":%.3f,\"dur\":%.3f,"
			       "\"pid\":%d,\"tid\":%" PRIu64 ",\"args\":{\"status\":%d,"
			       "\"tokens\":%u,\"new_connection\":%s", us(c, b0),
			(double)(b1 - b0) / 1e3, r->pid, r->conn, r->status, r->tokens,
			r->new_conn ? "true" : "false");
	num_arg(&c->b, "ttft_ms", p.ttft_s * 1e3);
	num_arg(&c->b, "e2e_ms", p.e2e_s * 1e3);
	num_arg(&c->b, "queue_ms", p.queue_s * 1e3);
	num_arg(&c->b, "prefill_ms", p.prefill_s * 1e3);
	num_arg(&c->b, "server_other_ms", p.server_other_s * 1e3);
	num_arg(&c->b, "prefix_cache_hit_tokens", p.hit_tokens);
	ttft_str_printf(&c->b, ",\"split_source\":");
	if (r->s_source)
		jstr(&c->b, r->s_source);
	else
		ttft_str_printf(&c->b, "null");
	ttft_str_printf(&c->b, "}}");

	int64_t prev = b0, first = r->tokens ? r->tok[0] : 0;
	if (r->new_conn) {
		phase(c, r, "dns", r->t_dns0, r->t_dns1, &prev);
		phase(c, r, "connect", r->t_conn0, r->t_est, &prev);
	}
	phase(c, r, "send", r->t_req0, r->t_req1, &prev);
	if (r->t_hdr && (!first || r->t_hdr <= first)) {
		phase(c, r, "wait headers", r->t_req1, r->t_hdr, &prev);
		phase(c, r, "wait first token", r->t_hdr, first, &prev);
	} else {
		phase(c, r, "wait first token", r->t_req1, first, &prev);
	}
	if (r->tokens)
		phase(c, r, "decode", first, r->tok[r->tokens - 1], &prev);
	if (r->tokens)
		phase(c, r, "finish", r->tok[r->tokens - 1], r->t_end, &prev);
	for (uint32_t i = 0; i < r->tokens; i++) {
		sep(c);
		ttft_str_printf(&c->b, "{\"name\":\"%s\",\"cat\":\"token\",\"ph\":\"i\",\"s\":\"t\","
				       "\"ts\":%.3f,\"pid\":%d,\"tid\":%" PRIu64 "}",
				i ? "token" : "first token", us(c, r->tok[i]), r->pid, r->conn);
	}
	if (r->t_app_first) {
		sep(c);
		ttft_str_printf(&c->b, "{\"name\":\"application saw the first token\",\"cat\":"
				       "\"mark\",\"ph\":\"i\",\"s\":\"t\",\"ts\":%.3f,\"pid\":%d,"
				       "\"tid\":%" PRIu64 "}", us(c, r->t_app_first), r->pid, r->conn);
	}
}

struct track {
	int pid;
	uint64_t conn;
	int fd;
};

static int cmp_track(const void *x, const void *y)
{
	const struct track *a = x, *b = y;
	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return a->conn < b->conn ? -1 : a->conn > b->conn;
}

char *ttft_trace_json(const struct ttft_analysis *a)
{
	struct ctx c = {.first = 1};
	for (size_t i = 0; i < a->nreqs; i++) {
		int64_t t = req_begin(&a->reqs[i]);
		if (t && (!c.t0 || t < c.t0))
			c.t0 = t;
	}
	ttft_str_printf(&c.b, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"origin_monotonic_s\":"
			      "%.9f,\"origin_unix_s\":%.6f,\"requests\":%zu,\"dropped\":%" PRIu64
			      "},\n\"traceEvents\":[", (double)c.t0 / 1e9,
			(double)(c.t0 - a->anchor_mono_ns + a->anchor_real_ns) / 1e9, a->nreqs,
			a->dropped);
	/* names first: one process per pid, one track per connection, each
	 * named once (sorted, so that a long log stays n log n) */
	struct track *t = malloc((a->nreqs ? a->nreqs : 1) * sizeof *t);
	if (!t) {
		ttft_str_free(&c.b);
		return NULL;
	}
	for (size_t i = 0; i < a->nreqs; i++)
		t[i] = (struct track){a->reqs[i].pid, a->reqs[i].conn, a->reqs[i].fd};
	qsort(t, a->nreqs, sizeof *t, cmp_track);
	for (size_t i = 0; i < a->nreqs; i++) {
		if (!i || t[i].pid != t[i - 1].pid) {
			sep(&c);
			ttft_str_printf(&c.b, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,"
					      "\"tid\":0,\"args\":{\"name\":\"client pid %d\"}}",
					t[i].pid, t[i].pid);
		}
		if (i && t[i].pid == t[i - 1].pid && t[i].conn == t[i - 1].conn)
			continue;
		sep(&c);
		ttft_str_printf(&c.b, "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,"
				      "\"tid\":%" PRIu64 ",\"args\":{\"name\":\"connection %"
				      PRIu64 " (fd %d)\"}}", t[i].pid, t[i].conn, t[i].conn, t[i].fd);
		sep(&c);
		ttft_str_printf(&c.b, "{\"name\":\"thread_sort_index\",\"ph\":\"M\","
				      "\"pid\":%d,\"tid\":%" PRIu64 ",\"args\":{"
				      "\"sort_index\":%" PRIu64 "}}", t[i].pid, t[i].conn, t[i].conn);
	}
	free(t);
	for (size_t i = 0; i < a->nreqs; i++)
		request(&c, a, &a->reqs[i]);
	ttft_str_printf(&c.b, "\n]}\n");
	return ttft_str_take(&c.b);
}
