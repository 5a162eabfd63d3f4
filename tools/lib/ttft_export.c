/* ttft_export.c — see ttft_export.h. */
#include "ttft_export.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_json.h"

/* 1 ms to 60 s: fine where TTFT lives (tens to hundreds of ms), coarse
 * where only queueing or decode reach. */
const double ttft_export_bounds[TTFT_EXPORT_NBUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
	1, 1.5, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60,
};

static const struct {
	const char *name, *help;
} hist[TTFT_XH__N] = {
	[TTFT_XH_TTFT] = {"ttftshim_ttft_seconds",
			  "Time to first token at the client's socket: from the connect "
			  "(new connection) or the first request byte to the read that "
			  "completed the first token (docs/phases.md)."},
	[TTFT_XH_QUEUE] = {"ttftshim_queue_seconds",
			   "The server's own queue time, for requests whose split provably "
			   "belongs to them (docs/server-truth.md)."},
	[TTFT_XH_PREFILL] = {"ttftshim_prefill_seconds",
			     "The server's own prefill time, for requests whose split "
			     "provably belongs to them."},
	[TTFT_XH_OTHER] = {"ttftshim_server_other_seconds",
			   "Last request byte to first token, less the server's queue and "
			   "prefill: frontend, tokenization, the first flush, the network."},
	[TTFT_XH_DECODE] = {"ttftshim_decode_seconds", "First token to last token."},
	[TTFT_XH_E2E] = {"ttftshim_e2e_seconds",
			 "From the request's start to its response's end."},
	[TTFT_XH_DNS] = {"ttftshim_dns_seconds",
			 "The getaddrinfo call a new connection used: its connecting "
			 "thread's own, or a resolver thread's (curl's threaded resolver) "
			 "that finished before the connect."},
};

static const char *const outcome_name[TTFT_XO__N] = {
	[TTFT_XO_OK] = "ok", [TTFT_XO_ERROR_EVENT] = "error_event",
	[TTFT_XO_TRUNCATED] = "truncated", [TTFT_XO_CLOSED_EARLY] = "closed_early",
	[TTFT_XO_INCOMPLETE] = "incomplete", [TTFT_XO_UNSEEN] = "unseen",
	[TTFT_XO_NO_ANSWER] = "no_answer", [TTFT_XO_HTTP_ERROR] = "http_error",
};

static const char *const desync_name[TTFT_EXPORT_LAST_REASON + 1] = {
	"other", "not_http", "bad_status", "bad_chunk", "bytes_unseen", "upgrade",
	"encrypted", "bad_length",
};

void ttft_export_init(struct ttft_export *x, size_t max_series)
{
	memset(x, 0, sizeof *x);
	x->max_series = max_series ? max_series : TTFT_EXPORT_MAX_SERIES;
}

void ttft_export_free(struct ttft_export *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->s[i].ex);
	free(x->s);
	free(x->d);
	memset(x, 0, sizeof *x);
}

static int hexdig(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A segment that names one thing among many: digits, a long hex string,
 * a UUID. */
static int is_id(const char *s, size_t n)
{
	size_t digits = 0, hex = 0, dashes = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		if (hexdig(s[i]))
			hex++;
		else if (s[i] == '-')
			dashes++;
		else
			return 0;
	}
	if (n == 0)
		return 0;
	if (digits == n)
		return 1;
	if (dashes == 0)
		return hex >= 8 && digits > 0;
	return n == 36 && dashes == 4 && s[8] == '-' && s[13] == '-' && s[18] == '-' &&
	       s[23] == '-';
}

void ttft_export_path(char *out, size_t outlen, const char *path)
{
	path = ttft_target_path(path); /* a proxied request's: as --path reads it */
	size_t o = 0, n = strcspn(path, "?#");
	for (size_t i = 0; i < n && o + 1 < outlen;) {
		if (path[i] == '/') {
			out[o++] = '/';
			i++;
			continue;
		}
		size_t seg = strcspn(path + i, "/?#");
		if (seg > n - i)
			seg = n - i;
		if (is_id(path + i, seg)) {
			for (const char *id = ":id"; *id && o + 1 < outlen; id++)
				out[o++] = *id;
		} else {
			for (size_t k = 0; k < seg && o + 1 < outlen; k++) {
				unsigned char c = (unsigned char)path[i + k];
				out[o++] = c >= 0x20 && c < 0x7f ? (char)c : '_';
			}
		}
		i += seg;
	}
	if (o == 0 && outlen > 1)
		out[o++] = '/';
	out[o] = 0;
}

static void status_label(char *out, size_t n, int status, int fold)
{
	if (status < 100 || status > 599)
		snprintf(out, n, "none");
	else if (fold)
		snprintf(out, n, "%dxx", status / 100);
	else
		snprintf(out, n, "%d", status);
}

static struct ttft_export_series *find(struct ttft_export *x, const char *peer,
				       const char *path, const char *status, const char *source)
{
	for (size_t i = 0; i < x->n; i++) {
		struct ttft_export_series *s = &x->s[i];
		if (s->source == source && !strcmp(s->status, status) && !strcmp(s->path, path) &&
		    !strcmp(s->peer, peer))
			return s;
	}
	return NULL;
}

static struct ttft_export_series *make(struct ttft_export *x, const char *peer,
				       const char *path, const char *status, const char *source)
{
	if (x->n == x->cap) {
		size_t nc = x->cap ? 2 * x->cap : 16;
		struct ttft_export_series *p = realloc(x->s, nc * sizeof *p);
		if (!p)
			return NULL;
		x->s = p;
		x->cap = nc;
	}
	struct ttft_export_series *s = &x->s[x->n++];
	memset(s, 0, sizeof *s);
	snprintf(s->peer, sizeof s->peer, "%s", peer);
	snprintf(s->path, sizeof s->path, "%s", path);
	snprintf(s->status, sizeof s->status, "%s", status);
	s->source = source;
	return s;
}

static size_t bucket_of(double v)
{
	size_t k = 0;
	while (k < TTFT_EXPORT_NBUCKETS && v > ttft_export_bounds[k])
		k++;
	return k;
}

static int observe(struct ttft_export_series *s, int h, double v, const char *trace_id,
		   double unix_s)
{
	if (isnan(v) || v < 0)
		return 0; /* not measured, or a clock that is not monotonic */
	size_t k = bucket_of(v);
	s->sum[h] += v;
	s->count[h]++;
	s->bucket[h][k]++;
	if (!trace_id || !*trace_id)
		return 0;
	if (!s->ex && !(s->ex = calloc(TTFT_XH__N, sizeof *s->ex)))
		return -1;
	struct ttft_export_exemplar *e = &s->ex[h][k];
	snprintf(e->trace_id, sizeof e->trace_id, "%s", trace_id);
	e->value = v;
	e->unix_s = unix_s;
	return 0;
}

static enum ttft_export_outcome outcome(const struct ttft_record *r, int complete)
{
	/* a response whose request the shim did not see (its framing lost,
	 * a raw system call): not analysed, never ok (a review found lost
	 * framing counted as ok requests to "/") */
	if (r->request_unseen)
		return TTFT_XO_UNSEEN;
	/* its I/O went partly through POSIX AIO, unseen: how it ended is
	 * not known */
	if (!complete || r->aio)
		return TTFT_XO_INCOMPLETE;
	/* the server answered with an error status: a failure whatever its
	 * body did (a review found a 5xx storm counted ok, missed by the
	 * failures query of docs/fleet.md) */
	if (r->status >= 400 && r->status <= 599)
		return TTFT_XO_HTTP_ERROR;
	if (r->sse_error)
		return TTFT_XO_ERROR_EVENT;
	/* before truncated: not a byte of the answer came (or an interim
	 * 1xx only: no byte of the final one) */
	if (r->end_flags & TTFT_F_NO_ANSWER)
		return TTFT_XO_NO_ANSWER;
	if (r->end_flags & TTFT_F_TRUNCATED)
		return TTFT_XO_TRUNCATED;
	if (r->closed_early || !r->t_end)
		return TTFT_XO_CLOSED_EARLY;
	return TTFT_XO_OK;
}

/* Only hex digits in a trace id: it goes into the page as is. */
const char *ttft_export_trace_id(const struct ttft_record *r)
{
	const char *t = ttft_record_trace_id(r);
	return ttft_trace_id_ok(t) ? t : NULL;
}

static int valid_trace_id(const char *t)
{
	if (!t)
		return 0;
	size_t n = strlen(t);
	for (size_t i = 0; i < n; i++)
		if (!hexdig(t[i]))
			return 0;
	return n > 0 && n <= 32;
}

int ttft_export_request(struct ttft_export *x, const struct ttft_record *r, const char *peer,
			int complete, const char *trace_id, double end_unix_s)
{
	char path[64], status[8];
	if (r->request_unseen) /* no request line: no path to name */
		snprintf(path, sizeof path, "unknown");
	else
		ttft_export_path(path, sizeof path, r->path);
	const struct ttft_server_split *sp = ttft_record_split(r);
	const char *source = sp->source ? sp->source : "none";
	const char *pr = peer && *peer ? peer : "unknown";
	status_label(status, sizeof status, r->status, 0);
	struct ttft_export_series *s = find(x, pr, path, status, source);
	if (!s && x->named < x->max_series) {
		if ((s = make(x, pr, path, status, source)))
			x->named++;
	} else if (!s) {
		/* at the limit: the label sets that cannot grow without bound */
		status_label(status, sizeof status, r->status, 1);
		s = find(x, "other", "other", status, source);
		if (!s)
			s = make(x, "other", "other", status, source);
		if (s)
			x->overflow++;
	}
	if (!s)
		return -1;
	if (!valid_trace_id(trace_id))
		trace_id = NULL;
	struct ttft_phases p;
	ttft_record_phases(r, &p);
	double v[TTFT_XH__N] = {
		[TTFT_XH_TTFT] = p.ttft_s, [TTFT_XH_QUEUE] = sp->queue_s,
		[TTFT_XH_PREFILL] = sp->prefill_s, [TTFT_XH_OTHER] = p.server_other_s,
		[TTFT_XH_DECODE] = p.decode_s, [TTFT_XH_E2E] = p.e2e_s,
		[TTFT_XH_DNS] = p.dns_s,
	};
	int rc = 0;
	/* an AIO connection's times are not the request's (its I/O
	 * there unseen): no histogram takes them */
	for (int h = 0; h < TTFT_XH__N && !r->request_unseen && !r->aio; h++)
		if (!sp->source && h >= TTFT_XH_QUEUE && h <= TTFT_XH_OTHER)
			continue; /* a value without a split is an aggregate */
		else if (observe(s, h, v[h], trace_id, end_unix_s) != 0)
			rc = -1;
	s->requests[outcome(r, complete)]++;
	int src;
	long tok = ttft_record_tokens_src(r, &src);
	if (tok > 0)
		s->tokens += (uint64_t)tok;
	if (tok > 0 && src == TTFT_TOKENS_EVENTS)
		s->tokens_events += (uint64_t)tok;
	return rc;
}

static struct ttft_export_desync *peer_of(struct ttft_export *x, const char *peer);

int ttft_export_desync(struct ttft_export *x, const char *peer, int reason)
{
	struct ttft_export_desync *d = peer_of(x, peer);
	if (!d)
		return -1;
	d->n[reason >= 1 && reason <= TTFT_EXPORT_LAST_REASON ? reason : 0]++;
	return 0;
}

int ttft_export_connect_failed(struct ttft_export *x, const char *peer)
{
	struct ttft_export_desync *d = peer_of(x, peer);
	if (!d)
		return -1;
	d->connect_failed++;
	return 0;
}

/* The per-peer counts of peer (at most TTFT_EXPORT_MAX_PEERS, then
 * "other"); NULL when out of memory. */
static struct ttft_export_desync *peer_of(struct ttft_export *x, const char *peer)
{
	const char *pr = peer && *peer ? peer : "unknown";
	struct ttft_export_desync *d = NULL;
	for (size_t i = 0; i < x->nd && !d; i++)
		if (!strcmp(x->d[i].peer, pr))
			d = &x->d[i];
	if (!d && x->nd >= TTFT_EXPORT_MAX_PEERS) {
		pr = "other";
		for (size_t i = 0; i < x->nd && !d; i++)
			if (!strcmp(x->d[i].peer, pr))
				d = &x->d[i];
	}
	if (!d) {
		if (x->nd == x->dcap) {
			size_t nc = x->dcap ? 2 * x->dcap : 8;
			struct ttft_export_desync *p = realloc(x->d, nc * sizeof *p);
			if (!p)
				return NULL;
			x->d = p;
			x->dcap = nc;
		}
		d = &x->d[x->nd++];
		memset(d, 0, sizeof *d);
		snprintf(d->peer, sizeof d->peer, "%s", pr);
	}
	return d;
}

/* ---- the page ---- */

struct out {
	char *p;
	size_t n, cap;
	int oom;
};

static void add(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->n + n + 1 > o->cap) {
		size_t nc = (o->n + n + 1) * 2;
		char *q = realloc(o->p, nc);
		if (!q) {
			o->oom = 1;
			return;
		}
		o->p = q;
		o->cap = nc;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = 0;
}

static void addf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct out *o, const char *fmt, ...)
{
	char b[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof b, fmt, ap);
	va_end(ap);
	if (n > 0)
		add(o, b, (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

static void adds(struct out *o, const char *s)
{
	add(o, s, strlen(s));
}

/* A label value with its escapes. */
static void value(struct out *o, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			add(o, "\\", 1);
		if (*v == '\n')
			add(o, "\\n", 2);
		else
			add(o, v, 1);
	}
}

/* A float as both formats read it: shortest round trip, integers with
 * ".0" (the form OpenMetrics clients write le in). */
static void number(struct out *o, double v)
{
	char b[40];
	if (isinf(v)) {
		adds(o, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(v)) {
		adds(o, "NaN");
		return;
	}
	size_t n = ttft_json_fmt_num(b, v);
	b[n] = 0;
	add(o, b, n);
	if (!strpbrk(b, ".eE"))
		adds(o, ".0");
}

static void family(struct out *o, const char *name, const char *type, const char *help,
		   int om)
{
	size_t n = strlen(name);
	/* OpenMetrics names a counter's family without its _total */
	if (om && !strcmp(type, "counter") && n > 6 && !strcmp(name + n - 6, "_total"))
		n -= 6;
	addf(o, "# HELP %.*s %s\n# TYPE %.*s %s\n", (int)n, name, help, (int)n, name, type);
}

static void labels(struct out *o, const struct ttft_export_series *s)
{
	adds(o, "peer=\"");
	value(o, s->peer);
	adds(o, "\",path=\"");
	value(o, s->path);
	adds(o, "\",split_source=\"");
	value(o, s->source);
	adds(o, "\",status=\"");
	value(o, s->status);
	adds(o, "\"");
}

static void histograms(struct out *o, const struct ttft_export *x, int om)
{
	for (int h = 0; h < TTFT_XH__N; h++) {
		family(o, hist[h].name, "histogram", hist[h].help, om);
		for (size_t i = 0; i < x->n; i++) {
			const struct ttft_export_series *s = &x->s[i];
			if (!s->count[h])
				continue;
			uint64_t cum = 0;
			for (size_t k = 0; k <= TTFT_EXPORT_NBUCKETS; k++) {
				cum += s->bucket[h][k];
				addf(o, "%s_bucket{", hist[h].name);
				labels(o, s);
				adds(o, ",le=\"");
				number(o, k < TTFT_EXPORT_NBUCKETS ? ttft_export_bounds[k] : INFINITY);
				addf(o, "\"} %llu", (unsigned long long)cum);
				const struct ttft_export_exemplar *e = s->ex ? &s->ex[h][k] : NULL;
				if (om && e && e->trace_id[0]) {
					addf(o, " # {trace_id=\"%s\"} ", e->trace_id);
					number(o, e->value);
					/* optional: none rather than "NaN", which
					 * is no timestamp */
					if (!isnan(e->unix_s)) {
						adds(o, " ");
						number(o, e->unix_s);
					}
				}
				adds(o, "\n");
			}
			addf(o, "%s_sum{", hist[h].name);
			labels(o, s);
			adds(o, "} ");
			number(o, s->sum[h]);
			addf(o, "\n%s_count{", hist[h].name);
			labels(o, s);
			addf(o, "} %llu\n", (unsigned long long)s->count[h]);
		}
	}
}

static void counter(struct out *o, const char *name, const char *help, uint64_t v, int om)
{
	family(o, name, "counter", help, om);
	addf(o, "%s %llu\n", name, (unsigned long long)v);
}

char *ttft_export_render(const struct ttft_export *x, const struct ttft_export_log *log,
			 int om, size_t *len)
{
	struct out o = {0};
	histograms(&o, x, om);
	family(&o, "ttftshim_requests_total", "counter",
	       "Requests handed out, by how they ended (outcome: ok, http_error: "
	       "a 4xx or 5xx status, error_event, truncated, closed_early, incomplete, "
	       "unseen: a response whose request was not seen, not analysed; "
	       "no_answer: the server closed the connection before a byte of the "
	       "answer).", om);
	for (size_t i = 0; i < x->n; i++)
		for (int k = 0; k < TTFT_XO__N; k++) {
			if (!x->s[i].requests[k])
				continue;
			adds(&o, "ttftshim_requests_total{");
			labels(&o, &x->s[i]);
			addf(&o, ",outcome=\"%s\"} %llu\n", outcome_name[k],
			     (unsigned long long)x->s[i].requests[k]);
		}
	family(&o, "ttftshim_output_tokens_total", "counter",
	       "Output tokens: the server's usage when it gave one, else token events; "
	       "rows whose tokens are not known (not an event stream, compressed) add none.", om);
	for (size_t i = 0; i < x->n; i++) {
		adds(&o, "ttftshim_output_tokens_total{");
		labels(&o, &x->s[i]);
		addf(&o, "} %llu\n", (unsigned long long)x->s[i].tokens);
	}
	family(&o, "ttftshim_output_tokens_from_events_total", "counter",
	       "Of ttftshim_output_tokens_total, those counted as token events where the "
	       "stream carried no usage (vLLM: stream_options.include_usage): a lower bound, "
	       "one event can carry several tokens; 0 where every row had the server's count.",
	       om);
	for (size_t i = 0; i < x->n; i++) {
		adds(&o, "ttftshim_output_tokens_from_events_total{");
		labels(&o, &x->s[i]);
		addf(&o, "} %llu\n", (unsigned long long)x->s[i].tokens_events);
	}
	family(&o, "ttftshim_desyncs_total", "counter",
	       "Connections whose HTTP framing the shim lost, or whose TLS it could "
	       "not read (encrypted): not analysed.", om);
	for (size_t i = 0; i < x->nd; i++)
		for (int k = 0; k <= TTFT_EXPORT_LAST_REASON; k++) {
			if (!x->d[i].n[k])
				continue;
			adds(&o, "ttftshim_desyncs_total{peer=\"");
			value(&o, x->d[i].peer);
			addf(&o, "\",reason=\"%s\"} %llu\n", desync_name[k],
			     (unsigned long long)x->d[i].n[k]);
		}
	family(&o, "ttftshim_connect_failures_total", "counter",
	       "Connects that failed as the connect or SO_ERROR said (refused, "
	       "unreachable), or that the client gave up on with its SYN unanswered: "
	       "no request went out on them. A client that tries the next address "
	       "(::1, then 127.0.0.1) counts the first.", om);
	for (size_t i = 0; i < x->nd; i++) {
		if (!x->d[i].connect_failed)
			continue;
		adds(&o, "ttftshim_connect_failures_total{peer=\"");
		value(&o, x->d[i].peer);
		addf(&o, "\"} %llu\n", (unsigned long long)x->d[i].connect_failed);
	}
	counter(&o, "ttftshim_label_overflow_total",
		"Requests counted under the peer and path named other: the label sets "
		"were at their limit.", x->overflow, om);
	counter(&o, "ttftshim_records_total", "Log records read.", log->records, om);
	counter(&o, "ttftshim_late_records_total",
		"Records read after later ones had been applied (a writer held up "
		"longer than the follower's lag).", log->late, om);
	family(&o, "ttftshim_unreadable_records_total", "counter",
	       "Slots skipped: reserved but never sealed, or damaged.", om);
	addf(&o, "ttftshim_unreadable_records_total{reason=\"unpublished\"} %llu\n"
		 "ttftshim_unreadable_records_total{reason=\"damaged\"} %llu\n",
	     (unsigned long long)log->unpublished, (unsigned long long)log->corrupt);
	counter(&o, "ttftshim_dropped_records_total",
		"Events the shim could not record because the log was full (raise "
		"TTFT_LOG_MB).", log->dropped, om);
	family(&o, "ttftshim_log_up", "gauge",
	       "1 while the log is open and read; 0: not there (yet), unreadable, not a "
	       "ttftshim log, or cut shorter than it says (the exporter says why on "
	       "stderr): then the counts here stand still.", om);
	addf(&o, "ttftshim_log_up %d\n", log->state == TTFT_EXPORT_LOG_UP);
	counter(&o, "ttftshim_log_replacements_total",
		"Times the log was replaced under its path by a new file (rm and a new "
		"run, a rename over it): the old one is read on while its requests in "
		"flight may end, and the exporter says so on stderr.", log->replaced, om);
	counter(&o, "ttftshim_log_rereads_total",
		"Times a log already read and let go was at the path again (moved back, "
		"or a copy put back): read again from its start, its requests are counted "
		"again in these totals; the exporter says how many on stderr.", log->reread,
		om);
	counter(&o, "ttftshim_log_refills_total",
		"Times the log, cut shorter than it says (ttftshim_log_up 0), held all its "
		"records again, the same log (a copy put back in place): read on from where "
		"it was; said on stderr with what the cut lost.", log->refilled, om);
	family(&o, "ttftshim_requests_in_flight", "gauge",
	       "Requests begun and not yet settled.", om);
	addf(&o, "ttftshim_requests_in_flight %llu\n", (unsigned long long)log->in_flight);
	if (om)
		adds(&o, "# EOF\n");
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	*len = o.n;
	return o.p;
}

const char *ttft_export_content_type(int om)
{
	return om ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
		  : "text/plain; version=0.0.4; charset=utf-8";
}
