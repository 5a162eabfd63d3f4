/* ttft_output.c — print an analysis as a table, warnings, or JSON. */
#include "ttft_analyze.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_str.h"

/* A large value with fewer decimals, so that it keeps to its column. */
static void ms(FILE *f, int width, double s)
{
	char t[64];
	if (isnan(s))
		fprintf(f, " %*s", width, "-");
	else
		fprintf(f, " %s", ttft_str_num(t, sizeof t, s * 1e3, width, 3));
}

/* The table's rows, put together in memory and written a buffer at a
 * time: what fprintf's formats wrote, byte for byte ("%*s", "%4zu", …),
 * without a format parsed for each of a row's 25 fields. Each piece is
 * copied with moves that may write past it, within the buffer's slack
 * (R_SLACK), and then only its length counted. */
#define R_SLACK 64
struct rows {
	FILE *f;
	size_t n;
	char b[16384 + R_SLACK];
};
#define R_CAP (sizeof((struct rows *)0)->b - R_SLACK)

static void r_flush(struct rows *w)
{
	if (w->n)
		fwrite(w->b, 1, w->n, w->f);
	w->n = 0;
}

/* n bytes of s; short ones by fixed-size moves */
static inline void r_put(struct rows *w, const char *s, size_t n)
{
	if (__builtin_expect(w->n + n > R_CAP, 0)) {
		r_flush(w);
		if (n > R_CAP) {
			fwrite(s, 1, n, w->f);
			return;
		}
	}
	char *d = w->b + w->n;
	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t a, b;
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(d, &a, 8);
		memcpy(d + n - 8, &b, 8);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
	w->n += n;
}

static inline void r_spaces(struct rows *w, size_t k)
{
	static const char sp[32] = "                                ";
	while (k > sizeof sp) {
		r_put(w, sp, sizeof sp);
		k -= sizeof sp;
	}
	if (__builtin_expect(w->n + sizeof sp > R_CAP, 0))
		r_flush(w);
	memcpy(w->b + w->n, sp, sizeof sp); /* within the slack */
	w->n += k;
}

/* "%*s" of s (n bytes; width < 0: "%-*s") */
static inline void r_strn(struct rows *w, const char *s, size_t n, int width)
{
	size_t k = (size_t)(width < 0 ? -width : width);
	if (width > 0 && n < k)
		r_spaces(w, k - n);
	r_put(w, s, n);
	if (width < 0 && n < k)
		r_spaces(w, k - n);
}

static inline void r_str(struct rows *w, const char *s, int width)
{
	r_strn(w, s, strlen(s), width);
}

/* the digits of v ("%lld"), ending at end; their start */
static inline char *digits(char *end, long long v)
{
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	do
		*--end = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--end = '-';
	return end;
}

/* "%*lld" */
static inline void r_int(struct rows *w, long long v, int width)
{
	char d[24], *p = digits(d + sizeof d, v);
	r_strn(w, p, (size_t)(d + sizeof d - p), width);
}

/* "%*llu" */
static inline void r_uint(struct rows *w, unsigned long long v, int width)
{
	char d[24];
	int k = 0;
	do
		d[sizeof d - 1 - k++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	r_strn(w, d + sizeof d - k, (size_t)k, width);
}

/* ms(), into the rows */
static inline void r_ms(struct rows *w, int width, double s)
{
	char t[64];
	r_put(w, " ", 1);
	if (isnan(s)) {
		r_strn(w, "-", 1, width);
		return;
	}
	int k = ttft_str_fixed3(t, s * 1e3);
	if (k >= 0 && k <= width)
		r_strn(w, t, (size_t)k, width); /* the usual: 3 decimals fit */
	else
		r_str(w, ttft_str_num(t, sizeof t, s * 1e3, width, 3), 0);
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

/* "#5 (…): 212.0 ms = 0.1 connect + 0.0 send + 150.0 queue + 58.0 prefill
 * + 3.9 other": the parts add up to the TTFT (each rounded); "send" is
 * what is left before the last request byte went out. A response that
 * began before that byte (ttft_record_early) has no send and no server
 * part: what follows the connect is given whole. */
static void where_line(FILE *f, const struct ttft_analysis *a, size_t i)
{
	const struct ttft_record *r = &a->reqs[i];
	struct ttft_phases p;
	ttft_record_phases(r, &p);
	const struct ttft_server_split *s = ttft_record_split(r);
	int64_t sent = r->t_req1 ? r->t_req1 : r->t_req0;
	int64_t d;
	/* a damaged log's instants may be anything: no overflow, no number */
	double setup = sent && !__builtin_sub_overflow(sent, r->t_start, &d) ? (double)d / 1e9
									      : NAN;
	fprintf(f, "  #%zu (pid %d conn %llu): %.1f ms = ", i + 1, r->pid,
		(unsigned long long)r->conn, p.ttft_s * 1e3);
	double before = 0; /* connect and TLS, when this request paid them */
	/* a pre-opened connection's connect was before its TTFT began (at the
	 * request): not a part of it (the send left over would be negative) */
	if (r->new_conn && !r->preopened && !isnan(p.connect_s)) {
		fprintf(f, "%.1f connect + ", p.connect_s * 1e3);
		before += p.connect_s;
	}
	if (!isnan(p.tls_s)) {
		fprintf(f, "%.1f tls + ", p.tls_s * 1e3);
		before += p.tls_s;
	}
	if (ttft_record_early(r)) {
		/* the response began before the request's last byte: no part of
		 * the rest is the client's sending or the server's alone */
		fprintf(f, "%.1f request to first token, not taken apart (the server "
			"answered before the request was fully sent)\n",
			(p.ttft_s - before) * 1e3);
		return;
	}
	if (setup - before < 0 || p.ttft_s - setup < 0) {
		/* a sealed record's times out of order (its row says so): no
		 * part is shown rather than a negative one */
		fprintf(f, "%.1f request to first token, not taken apart (its times are "
			"out of order in the log)\n", (p.ttft_s - before) * 1e3);
		return;
	}
	fprintf(f, "%.1f send + ", (setup - before) * 1e3);
	if (!s->source) {
		fprintf(f, "%.1f server (no split: %s)\n", (p.ttft_s - setup) * 1e3,
			s->note[0] ? s->note : "no /metrics sampled: ttft-run --metrics-url URL");
		return;
	}
	if (!isnan(s->queue_s))
		fprintf(f, "%.1f queue + ", s->queue_s * 1e3);
	fprintf(f, "%.1f prefill + %.1f other%s (%s)\n", s->prefill_s * 1e3,
		p.server_other_s * 1e3, isnan(s->queue_s) ? " incl. any queueing" : "",
		s->source);
}

/* Where the TTFT of the slowest requests went, one line each. */
static void print_where(FILE *f, const struct ttft_analysis *a, size_t most)
{
	struct slow *v = malloc((a->nreqs ? a->nreqs : 1) * sizeof *v);
	size_t n = 0;
	for (size_t i = 0; v && i < a->nreqs; i++) {
		double t = ttft_record_ttft_s(&a->reqs[i]);
		if (!isnan(t))
			v[n++] = (struct slow){i, t};
	}
	if (n) {
		qsort(v, n, sizeof *v, cmp_slow);
		fprintf(f, "where TTFT went (the %zu slowest):\n", n < most ? n : most);
		for (size_t k = 0; k < n && k < most; k++)
			where_line(f, a, v[k].i);
	}
	free(v);
}

/* A tail quantile '-' for want of values (not for want of any). */
static int too_few(double median, double tail)
{
	return !isnan(median) && isnan(tail);
}

void ttft_print_table(FILE *f, const struct ttft_analysis *a)
{
	int few_gaps = 0; /* a row's itl_p99 '-' with gaps to take it from */
	int unplaced = 0; /* a row's start_unix_s '-' with a start */
	int counted = 0;  /* a row's tokens '≥N': its events counted */
	fprintf(f, "%4s %7s %5s %-6s %-24s %6s %16s %17s %6s %3s %8s %10s %7s %8s "
		   "%11s %9s %9s %9s %10s %10s %10s %9s %10s %8s  %s\n", "#",
		"pid", "conn", "method", "path", "status", "start_s",
		"start_unix_s", "tokens", "tls", "dns_ms", "connect_ms", "tls_ms",
		"send_ms",
		"wait_hdr_ms", "ttft_ms", "decode_ms", "e2e_ms", "itl_p50_ms",
		"itl_p99_ms", "app_gap_ms", "queue_ms", "prefill_ms", "other_ms", "split");
	struct rows rw = {.f = f}, *w = &rw; /* 16 KiB: a tool's stack, not the shim's */
	for (size_t i = 0; i < a->nreqs; i++) {
		const struct ttft_record *r = &a->reqs[i];
		struct ttft_phases p;
		ttft_record_phases(r, &p);
		char status[8];
		if (r->status)
			snprintf(status, sizeof status, "%d", r->status);
		else
			snprintf(status, sizeof status, "-");
		char tokens[24];
		int src;
		long ntok = ttft_record_tokens_src(r, &src);
		int at_least = src == TTFT_TOKENS_EVENTS;
		if (ntok < 0) /* unknown, not zero */
			snprintf(tokens, sizeof tokens, "-");
		else /* a count of events: one event can carry several tokens */
			snprintf(tokens, sizeof tokens, "%s%ld", at_least ? "≥" : "", ntok);
		counted |= at_least;
		/* a start not seen (request_unseen) is shown as none */
		char start[24] = "-", start_unix[24] = "-";
		if (r->t_start) {
			double u = ttft_analysis_unix_s(a, r->t_start);
			ttft_str_num(start, sizeof start, p.start_s, 16, 6);
			if (!isnan(u))
				ttft_str_num(start_unix, sizeof start_unix, u, 17, 6);
			unplaced |= isnan(u);
		}
		/* cut by characters, never inside one: the table stays UTF-8
		 * and its columns aligned */
		char method[4 * 6 + 1], path[4 * 24 + 1];
		ttft_str_column(method, sizeof method, r->encrypted ? "-" : r->method, 6);
		ttft_str_column(path, sizeof path, r->encrypted ? "-" : r->path, 24);
		const struct ttft_server_split *sp = ttft_record_split(r);
		few_gaps |= too_few(p.itl_p50_s, p.itl_p99_s);
		char nb[640]; /* every part of a note, whole */
		const char *note = r->encrypted
				 ? "encrypted: not visible: TLS inside the program, e.g. Node or Go"
				 : ttft_record_note(r, nb, sizeof nb);
		r_uint(w, i + 1, 4);
		r_put(w, " ", 1);
		r_int(w, r->pid, 7);
		r_put(w, " ", 1);
		r_uint(w, (unsigned long long)r->conn, 5);
		r_put(w, " ", 1);
		r_str(w, method, 0);
		r_put(w, " ", 1);
		r_str(w, path, 0);
		r_put(w, " ", 1);
		r_str(w, status, 6);
		r_put(w, " ", 1);
		r_str(w, start, 16);
		r_put(w, " ", 1);
		r_str(w, start_unix, 17);
		r_put(w, " ", 1);
		r_str(w, tokens, at_least ? 8 : 6); /* "≥": 3 bytes in one column */
		r_put(w, " ", 1);
		r_str(w, r->tls ? "yes" : "-", 3);
		r_ms(w, 8, p.dns_s);
		r_ms(w, 10, p.connect_s);
		r_ms(w, 7, p.tls_s);
		r_ms(w, 8, p.send_s);
		r_ms(w, 11, p.wait_headers_s);
		r_ms(w, 9, p.ttft_s);
		r_ms(w, 9, p.decode_s);
		r_ms(w, 9, p.e2e_s);
		r_ms(w, 10, p.itl_p50_s);
		r_ms(w, 10, p.itl_p99_s);
		r_ms(w, 10, p.app_gap_s);
		r_ms(w, 9, sp->queue_s);
		r_ms(w, 10, sp->prefill_s);
		r_ms(w, 8, p.server_other_s);
		r_put(w, "  ", 2);
		r_str(w, sp->source ? sp->source : "-", -16);
		/* a split refused or in part ('-' in its columns) says why
		 * here, as split_note does in --json */
		if (note || sp->note[0]) {
			r_put(w, "  (", 3);
			if (note)
				r_str(w, note, 0);
			if (note && sp->note[0])
				r_put(w, "; ", 2);
			if (sp->note[0]) {
				r_str(w, sp->source ? "split: " : "no split: ", 0);
				r_str(w, sp->note, 0);
			}
			r_put(w, ")\n", 2);
		} else {
			r_put(w, "\n", 1);
		}
	}
	r_flush(w);
	if (few_gaps)
		fprintf(f, "(itl_p99 needs 100 gaps between tokens: '-' below that)\n");
	if (counted)
		fprintf(f, "(%s)\n", TTFT_TOKENS_AT_LEAST_RULE);
	if (unplaced)
		fprintf(f, "(start_unix_s '-': its start does not fit on the wall clock through "
			   "the log's anchor: a damaged header or record)\n");
	fprintf(f, "\nrequests: %zu (with a first token: %zu)\n",
		a->nreqs - a->nencrypted, a->ttft.n);
	if (a->nencrypted)
		fprintf(f, "encrypted connections, not visible: %zu\n", a->nencrypted);
	fprintf(f, "%-8s %10s %10s %10s %10s %10s\n", "(ms)", "min", "median",
		"p90", "p99", "max");
	struct {
		const char *name;
		const struct ttft_summary *s;
	} rows[] = {{"ttft", &a->ttft}, {"e2e", &a->e2e}};
	for (int i = 0; i < 2; i++) {
		fprintf(f, "%-8s", rows[i].name);
		ms(f, 10, rows[i].s->min);
		ms(f, 10, rows[i].s->median);
		ms(f, 10, rows[i].s->p90);
		ms(f, 10, rows[i].s->p99);
		ms(f, 10, rows[i].s->max);
		fputc('\n', f);
	}
	if (too_few(a->ttft.median, a->ttft.p99) || too_few(a->e2e.median, a->e2e.p99))
		fprintf(f, "(%s)\n", TTFT_QUANTILE_RULE);
	/* two counters a writer bumps one after the other (unwritable first):
	 * a live or damaged header may hold more unwritable than dropped */
	if (a->unwritable && a->unwritable >= a->dropped)
		fprintf(f, "dropped: %llu events (no room to write them)\n",
			(unsigned long long)a->unwritable);
	else if (a->unwritable)
		fprintf(f, "dropped: %llu events (%llu the log was full, %llu no "
			   "room to write)\n",
			(unsigned long long)a->dropped,
			(unsigned long long)(a->dropped - a->unwritable),
			(unsigned long long)a->unwritable);
	else if (a->dropped)
		fprintf(f, "dropped: %llu events (the log was full)\n",
			(unsigned long long)a->dropped);
	print_where(f, a, TTFT_WHERE_SLOWEST);
}

void ttft_print_warnings(FILE *f, const struct ttft_analysis *a)
{
	if (a->metrics_warning[0])
		fprintf(f, "warning: %s\n", a->metrics_warning);
	if (a->dropped > a->unwritable)
		fprintf(f, "warning: %llu events were dropped because the log "
			   "was full; rerun with a larger TTFT_LOG_MB\n",
			(unsigned long long)(a->dropped - a->unwritable));
	if (a->unwritable)
		fprintf(f, "warning: %llu events were dropped because a part of "
			   "the log could not be allocated or mapped (its filesystem "
			   "had no room: the log leaves a quarter of it, 1 GiB at most, free; or a "
			   "process could not open or map the log: "
			   "a file-descriptor limit, a seccomp filter); free space "
			   "there, or put TTFT_LOG on a larger filesystem\n",
			(unsigned long long)a->unwritable);
	if (a->bad_next_conn)
		fprintf(f, "warning: the log header's connection count (next_conn) "
			   "does not cover its records' connection ids: the header is "
			   "damaged; connections were counted from the records\n");
	if (a->truncated)
		fprintf(f, "warning: the log file is truncated (the header says %llu "
			   "records, the file holds %llu); requests at its end may "
			   "be missing or incomplete\n",
			(unsigned long long)a->slots_claimed,
			(unsigned long long)a->slots_read);
	if (a->corrupt > a->bad_conn_ids)
		fprintf(f, "warning: %llu records are damaged (bad seal) and "
			   "were skipped\n",
			(unsigned long long)(a->corrupt - a->bad_conn_ids));
	if (a->bad_conn_ids)
		fprintf(f, "warning: %llu records name a connection id that no log "
			   "of this size can hold (damaged, though their seal passed) "
			   "and were skipped\n", (unsigned long long)a->bad_conn_ids);
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
		else if (n->gave_up)
			fprintf(f, "note: pid %d conn %llu to %s: connect given "
				   "up: the server had not answered its SYN when "
				   "the client closed it (unreachable, down, or its "
				   "listen backlog full); no request went out\n",
				n->pid, (unsigned long long)n->conn, n->peer);
		else if (n->untraced)
			fprintf(f, "note: pid %d conn %llu to %s: not traced: the "
				   "process had more connections open at once than "
				   "the shim follows (1024)\n", n->pid,
				(unsigned long long)n->conn, n->peer);
		else if (n->desync)
			fprintf(f, "note: pid %d conn %llu to %s: not analysed: "
				   "%s\n", n->pid, (unsigned long long)n->conn,
				n->peer, ttft_desync_text(n->desync, n->tls));
		else if (n->tls && !n->idle_408)
			fprintf(f, "note: pid %d conn %llu to %s: TLS, but no "
				   "request was sent (the handshake failed: a "
				   "refused certificate?)\n", n->pid,
				(unsigned long long)n->conn, n->peer);
		if (n->idle_408)
			fprintf(f, "note: pid %d conn %llu to %s: the server closed "
				   "the idle connection with \"408 Request Timeout\"%s "
				   "(no request was waiting: not a request, no row)\n",
				n->pid, (unsigned long long)n->conn, n->peer,
				n->idle_408 > 1 ? " more than once" : "");
	}
}

void ttft_analysis_json(struct ttft_json *j, const struct ttft_analysis *a)
{
	struct ttft_json_ctx ctx = {.anchor_mono_ns = a->anchor_mono_ns,
				    .anchor_real_ns = a->anchor_real_ns};
	ttft_json_begin_obj(j, NULL);
	ttft_json_begin_arr(j, "requests");
	for (size_t i = 0; i < a->nreqs; i++)
		ttft_json_record(j, NULL, &a->reqs[i], &ctx);
	ttft_json_end_arr(j);
	ttft_json_begin_obj(j, "summary");
	ttft_json_int(j, "count", (long long)(a->nreqs - a->nencrypted));
	ttft_json_int(j, "encrypted_connections", (long long)a->nencrypted);
	/* not requests: the server closed idle connections with a 408 */
	ttft_json_int(j, "idle_408", (long long)a->idle_408);
	ttft_json_summary(j, "ttft_s", &a->ttft);
	ttft_json_summary(j, "e2e_s", &a->e2e);
	ttft_json_end_obj(j);
	ttft_json_int(j, "dropped", (long long)a->dropped);
	ttft_json_int(j, "dropped_no_room", (long long)a->unwritable);
	/* the log itself: whole, or what of it could not be read (the rows
	 * above are what could; exit status 3 says the same) */
	ttft_json_bool(j, "log_complete", !a->truncated && !a->corrupt);
	ttft_json_int(j, "damaged_records", (long long)a->corrupt);
	ttft_json_bool(j, "log_truncated", a->truncated);
	ttft_json_int(j, "unsealed_records", (long long)a->unpublished);
	ttft_json_end_obj(j);
	ttft_json_newline(j);
}
