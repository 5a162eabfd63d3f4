/* ttft_output.c — print an analysis as a table, warnings, or JSON. */
#include "ttft_analyze.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void ms(FILE *f, int width, double s)
{
	if (isnan(s))
		fprintf(f, " %*s", width, "-");
	else
		fprintf(f, " %*.3f", width, s * 1e3);
}

struct stats {
	double min, median, p90, p99, max;
	size_t n;
};

static void stats_of(const struct ttft_analysis *a, int e2e, struct stats *st)
{
	double *v = malloc((a->nreqs ? a->nreqs : 1) * sizeof *v);
	size_t n = 0;
	for (size_t i = 0; v && i < a->nreqs; i++) {
		struct ttft_phases p;
		ttft_req_phases(a, &a->reqs[i], &p);
		double x = e2e ? p.e2e_s : p.ttft_s;
		if (!isnan(x))
			v[n++] = x;
	}
	st->n = n;
	st->median = ttft_percentile(v, n, 0.5);
	st->p90 = ttft_percentile(v, n, 0.9);
	st->p99 = ttft_percentile(v, n, 0.99);
	st->min = n ? v[0] : NAN;
	st->max = n ? v[n - 1] : NAN;
	free(v);
}

struct slow {
	size_t i;
	double ttft_s;
};

static int cmp_slow(const void *x, const void *y)
{
	const struct slow *a = x, *b = y;
	return a->ttft_s > b->ttft_s ? -1 : a->ttft_s < b->ttft_s;
}

/* "#5: 212.0 ms = 0.1 connect + 0.0 send + 150.0 queue + 58.0 prefill +
 * 3.9 other": the parts add up to the TTFT exactly (each rounded). */
static void where_line(FILE *f, const struct ttft_analysis *a, size_t i)
{
	const struct ttft_req *r = &a->reqs[i];
	struct ttft_phases p;
	ttft_req_phases(a, r, &p);
	double setup = (double)((r->t_req1 ? r->t_req1 : r->t_req0) - r->t_start) / 1e9;
	double server = p.ttft_s - setup; /* request sent → first token */
	fprintf(f, "  #%zu (pid %d conn %llu): %.1f ms = ", i + 1, r->pid,
		(unsigned long long)r->conn, p.ttft_s * 1e3);
	if (r->new_conn)
		fprintf(f, "%.1f connect + %.1f send + ", p.connect_s * 1e3,
			(setup - p.connect_s) * 1e3);
	else
		fprintf(f, "%.1f send + ", setup * 1e3);
	if (!r->s_source) {
		fprintf(f, "%.1f server (no split: %s)\n", server * 1e3,
			r->s_note[0] ? r->s_note : "no /metrics sampled: ttft-run --metrics URL");
		return;
	}
	if (!isnan(p.queue_s))
		fprintf(f, "%.1f queue + ", p.queue_s * 1e3);
	fprintf(f, "%.1f prefill + %.1f other%s (%s)\n", p.prefill_s * 1e3,
		p.server_other_s * 1e3, isnan(p.queue_s) ? " incl. any queueing" : "",
		r->s_source);
}

/* Where the TTFT of the slowest requests went, one line each. */
static void print_where(FILE *f, const struct ttft_analysis *a, size_t most)
{
	struct slow *v = malloc((a->nreqs ? a->nreqs : 1) * sizeof *v);
	size_t n = 0;
	for (size_t i = 0; v && i < a->nreqs; i++) {
		struct ttft_phases p;
		ttft_req_phases(a, &a->reqs[i], &p);
		if (!isnan(p.ttft_s))
			v[n++] = (struct slow){i, p.ttft_s};
	}
	if (n) {
		qsort(v, n, sizeof *v, cmp_slow);
		fprintf(f, "where TTFT went (the %zu slowest):\n", n < most ? n : most);
		for (size_t k = 0; k < n && k < most; k++)
			where_line(f, a, v[k].i);
	}
	free(v);
}

void ttft_print_table(FILE *f, const struct ttft_analysis *a)
{
	fprintf(f, "%4s %7s %5s %-6s %-24s %6s %16s %17s %6s %8s %10s %8s %11s %9s "
		   "%9s %9s %10s %10s %10s %9s %10s %8s  %s\n", "#",
		"pid", "conn", "method", "path", "status", "start_s",
		"start_unix_s", "tokens", "dns_ms", "connect_ms", "send_ms",
		"wait_hdr_ms", "ttft_ms", "decode_ms", "e2e_ms", "itl_p50_ms",
		"itl_p99_ms", "app_gap_ms", "queue_ms", "prefill_ms", "other_ms", "split");
	for (size_t i = 0; i < a->nreqs; i++) {
		const struct ttft_req *r = &a->reqs[i];
		struct ttft_phases p;
		ttft_req_phases(a, r, &p);
		char status[8];
		if (r->status)
			snprintf(status, sizeof status, "%d", r->status);
		else
			snprintf(status, sizeof status, "-");
		fprintf(f, "%4zu %7d %5llu %-6.6s %-24.24s %6s %16.6f %17.6f %6u", i + 1, r->pid,
			(unsigned long long)r->conn, r->method, r->path, status,
			p.start_s, p.start_unix_s, r->tokens);
		ms(f, 8, p.dns_s);
		ms(f, 10, p.connect_s);
		ms(f, 8, p.send_s);
		ms(f, 11, p.wait_headers_s);
		ms(f, 9, p.ttft_s);
		ms(f, 9, p.decode_s);
		ms(f, 9, p.e2e_s);
		ms(f, 10, p.itl_p50_s);
		ms(f, 10, p.itl_p99_s);
		ms(f, 10, p.app_gap_s);
		ms(f, 9, p.queue_s);
		ms(f, 10, p.prefill_s);
		ms(f, 8, p.server_other_s);
		fprintf(f, "  %-16s", r->s_source ? r->s_source : "-");
		const char *note = !r->t_end && !r->new_conn && !r->t_hdr
				 ? "  (no response on a reused connection: the client retries)"
				 : r->closed_early ? "  (client closed early)"
				 : r->end_flags & TTFT_F_TRUNCATED ? "  (server closed mid-response)"
				 : r->sse_error ? "  (error event in stream)"
				 : !r->t_end ? "  (incomplete)" : "";
		fprintf(f, "%s\n", note);
	}
	struct stats t, e;
	stats_of(a, 0, &t);
	stats_of(a, 1, &e);
	fprintf(f, "\nrequests: %zu (with a first token: %zu)\n", a->nreqs, t.n);
	fprintf(f, "%-8s %10s %10s %10s %10s %10s\n", "(ms)", "min", "median",
		"p90", "p99", "max");
	struct {
		const char *name;
		const struct stats *s;
	} rows[] = {{"ttft", &t}, {"e2e", &e}};
	for (int i = 0; i < 2; i++) {
		fprintf(f, "%-8s", rows[i].name);
		ms(f, 10, rows[i].s->min);
		ms(f, 10, rows[i].s->median);
		ms(f, 10, rows[i].s->p90);
		ms(f, 10, rows[i].s->p99);
		ms(f, 10, rows[i].s->max);
		fputc('\n', f);
	}
	if (a->dropped)
		fprintf(f, "dropped: %llu events (the log was full)\n",
			(unsigned long long)a->dropped);
	print_where(f, a, TTFT_WHERE_SLOWEST);
}

static const char *desync_name(int d)
{
	switch (d) {
	case 1: return "not HTTP/1.x (TLS or HTTP/2?)";
	case 2: return "response is not HTTP/1.x";
	case 3: return "malformed chunked encoding";
	case 4: return "bytes passed unseen";
	case 5: return "protocol upgrade";
	default: return "unknown";
	}
}

void ttft_print_warnings(FILE *f, const struct ttft_analysis *a)
{
	if (a->metrics_warning[0])
		fprintf(f, "warning: %s\n", a->metrics_warning);
	if (a->dropped)
		fprintf(f, "warning: %llu events were dropped because the log "
			   "was full; rerun with a larger TTFT_LOG_MB\n",
			(unsigned long long)a->dropped);
	if (a->truncated)
		fprintf(f, "warning: the log file is truncated; requests at "
			   "its end may be missing or incomplete\n");
	if (a->corrupt)
		fprintf(f, "warning: %llu records are damaged (bad seal) and "
			   "were skipped\n", (unsigned long long)a->corrupt);
	if (a->unpublished)
		fprintf(f, "note: %llu records were reserved but never "
			   "published (a writer still running, or killed "
			   "mid-record); skipped\n",
			(unsigned long long)a->unpublished);
	for (size_t i = 0; i < a->nnotes; i++) {
		const struct ttft_conn_note *n = &a->notes[i];
		if (n->err)
			fprintf(f, "note: pid %d conn %llu to %s: connect "
				   "failed: %s\n", n->pid,
				(unsigned long long)n->conn, n->peer,
				strerror(n->err));
		else if (n->desync)
			fprintf(f, "note: pid %d conn %llu to %s: not analysed: "
				   "%s\n", n->pid, (unsigned long long)n->conn,
				n->peer, desync_name(n->desync));
	}
}

static void num(cJSON *o, const char *k, double v)
{
	if (isnan(v))
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, v);
}

static cJSON *stats_json(const struct stats *s)
{
	cJSON *o = cJSON_CreateObject();
	num(o, "min", s->min);
	num(o, "median", s->median);
	num(o, "p90", s->p90);
	num(o, "p99", s->p99);
	num(o, "max", s->max);
	return o;
}

char *ttft_analysis_json(const struct ttft_analysis *a)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *reqs = cJSON_AddArrayToObject(root, "requests");
	for (size_t i = 0; i < a->nreqs; i++) {
		const struct ttft_req *r = &a->reqs[i];
		struct ttft_phases p;
		ttft_req_phases(a, r, &p);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "pid", r->pid);
		cJSON_AddNumberToObject(o, "conn", (double)r->conn);
		cJSON_AddStringToObject(o, "method", r->method);
		cJSON_AddStringToObject(o, "path", r->path);
		if (r->status)
			cJSON_AddNumberToObject(o, "status", r->status);
		else
			cJSON_AddNullToObject(o, "status");
		num(o, "start_s", p.start_s);
		num(o, "start_unix_s", p.start_unix_s);
		cJSON_AddNumberToObject(o, "tokens", r->tokens);
		num(o, "dns_s", p.dns_s);
		num(o, "connect_s", p.connect_s);
		num(o, "send_s", p.send_s);
		num(o, "wait_headers_s", p.wait_headers_s);
		num(o, "ttft_s", p.ttft_s);
		num(o, "decode_s", p.decode_s);
		num(o, "e2e_s", p.e2e_s);
		num(o, "itl_p50_s", p.itl_p50_s);
		num(o, "itl_p99_s", p.itl_p99_s);
		num(o, "app_gap_s", p.app_gap_s);
		num(o, "queue_s", p.queue_s);
		num(o, "prefill_s", p.prefill_s);
		num(o, "server_other_s", p.server_other_s);
		num(o, "network_s", p.network_s);
		num(o, "prefix_cache_hit_tokens", p.hit_tokens);
		num(o, "server_ttft_s", p.server_ttft_s);
		if (r->s_source)
			cJSON_AddStringToObject(o, "split_source", r->s_source);
		else
			cJSON_AddNullToObject(o, "split_source");
		if (r->s_note[0])
			cJSON_AddStringToObject(o, "split_note", r->s_note);
		cJSON_AddItemToArray(reqs, o);
	}
	struct stats t, e;
	stats_of(a, 0, &t);
	stats_of(a, 1, &e);
	cJSON *sum = cJSON_AddObjectToObject(root, "summary");
	cJSON_AddNumberToObject(sum, "count", (double)a->nreqs);
	cJSON_AddItemToObject(sum, "ttft_s", stats_json(&t));
	cJSON_AddItemToObject(sum, "e2e_s", stats_json(&e));
	cJSON_AddNumberToObject(root, "dropped", (double)a->dropped);
	char *s = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return s;
}
