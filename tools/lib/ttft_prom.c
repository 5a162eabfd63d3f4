/* ttft_prom.c — see ttft_prom.h. */
#include "ttft_prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':' || (!first && c >= '0' && c <= '9');
}

/* Room for n more bytes in *b; -1 when out of memory. */
static int reserve(char **b, size_t *cap, size_t n)
{
	if (n <= *cap)
		return 0;
	size_t nc = n * 2;
	char *q = realloc(*b, nc);
	if (!q)
		return -1;
	*b = q;
	*cap = nc;
	return 0;
}

/* Parse {k="v",…} at *pp into a canonical string; -1 if malformed, -2
 * when out of memory. */
static int parse_labels(const char **pp, const char *end, char **out)
{
	const char *p = *pp;
	size_t cap = 64, n = 0;
	char *b = malloc(cap);
	if (!b)
		return -2;
	p++; /* '{' */
	for (;;) {
		while (p < end && (*p == ' ' || *p == ','))
			p++;
		if (p < end && *p == '}') {
			p++;
			break;
		}
		const char *k = p;
		while (p < end && name_char(*p, p == k))
			p++;
		if (p == k || p + 1 >= end || p[0] != '=' || p[1] != '"')
			goto bad;
		size_t kl = (size_t)(p - k);
		p += 2;
		if (reserve(&b, &cap, n + kl + 4) != 0)
			goto oom;
		if (n)
			b[n++] = ',';
		memcpy(b + n, k, kl);
		n += kl;
		b[n++] = '=';
		b[n++] = '"';
		for (;;) {
			if (p >= end || *p == '\n')
				goto bad;
			char c = *p++;
			if (c == '"')
				break;
			if (c == '\\') {
				if (p >= end)
					goto bad;
				char e = *p++;
				c = e == 'n' ? '\n' : e; /* \\ \" \n */
			}
			if (reserve(&b, &cap, n + 3) != 0)
				goto oom;
			b[n++] = c;
		}
		b[n++] = '"';
	}
	b[n] = 0;
	*out = b;
	*pp = p;
	return 0;
bad:
	free(b);
	return -1;
oom:
	free(b);
	return -2;
}

/* Takes labels; -1 when out of memory (labels freed). */
static int add(struct ttft_prom *p, const char *name, size_t nl, char *labels, double v)
{
	if (p->n == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 64;
		struct ttft_prom_sample *s = realloc(p->s, nc * sizeof *s);
		if (!s) {
			free(labels);
			return -1;
		}
		p->s = s;
		p->cap = nc;
	}
	char *nm = malloc(nl + 1);
	if (!nm) {
		free(labels);
		return -1;
	}
	memcpy(nm, name, nl);
	nm[nl] = 0;
	p->s[p->n++] = (struct ttft_prom_sample){nm, labels, v};
	return 0;
}

int ttft_prom_parse(const char *text, size_t len, struct ttft_prom *p, char *err,
		    size_t errlen)
{
	memset(p, 0, sizeof *p);
	const char *end = text + len;
	const char *line = text;
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *le = nl ? nl : end;
		if (!nl)
			p->truncated = 1;
		const char *q = line;
		while (q < le && (*q == ' ' || *q == '\t'))
			q++;
		if (q == le || *q == '#') /* blank, # HELP, # TYPE, comment */
			goto next;
		{
			const char *name = q;
			while (q < le && name_char(*q, q == name))
				q++;
			size_t nlen = (size_t)(q - name);
			char *labels = NULL;
			if (nlen == 0)
				goto bad;
			if (q < le && *q == '{') {
				int lr = parse_labels(&q, le, &labels);
				if (lr == -2)
					goto oom;
				if (lr != 0)
					goto bad;
			} else if (!(labels = strdup(""))) {
				goto oom;
			}
			while (q < le && *q == ' ')
				q++;
			char num[64];
			size_t k = 0;
			while (q < le && *q != ' ' && k + 1 < sizeof num)
				num[k++] = *q++;
			num[k] = 0;
			char *e;
			double v = strtod(num, &e);
			/* a value longer than num: not read from its first digits */
			if (k == 0 || *e || (q < le && *q != ' ')) {
				free(labels);
				goto bad;
			}
			/* an optional timestamp may follow: ignored */
			if (!nl) { /* a last line cut short: not trusted */
				free(labels);
				goto next;
			}
			if (add(p, name, nlen, labels, v) != 0)
				goto oom;
			goto next;
		}
bad:
		p->bad_lines++;
next:
		line = nl ? nl + 1 : end;
	}
	return (int)p->n;
oom:
	snprintf(err, errlen, "out of memory parsing a /metrics page of %zu bytes", len);
	ttft_prom_free(p);
	return -1;
}

void ttft_prom_free(struct ttft_prom *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->s[i].name);
		free(p->s[i].labels);
	}
	free(p->s);
	memset(p, 0, sizeof *p);
}

double ttft_prom_get(const struct ttft_prom *p, const char *name, int *found)
{
	double sum = 0;
	int f = 0;
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->s[i].name, name)) {
			sum += p->s[i].value;
			f = 1;
		}
	if (found)
		*found = f;
	return sum;
}

/* Per id: current name, then the older one (or NULL). */
static const char *const names[TR__N][2] = {
	[TR_QUEUE_SUM] = {"vllm:request_queue_time_seconds_sum", NULL},
	[TR_QUEUE_CNT] = {"vllm:request_queue_time_seconds_count", NULL},
	[TR_PREFILL_SUM] = {"vllm:request_prefill_time_seconds_sum", NULL},
	[TR_PREFILL_CNT] = {"vllm:request_prefill_time_seconds_count", NULL},
	[TR_DECODE_SUM] = {"vllm:request_decode_time_seconds_sum", NULL},
	[TR_DECODE_CNT] = {"vllm:request_decode_time_seconds_count", NULL},
	[TR_TTFT_SUM] = {"vllm:time_to_first_token_seconds_sum", NULL},
	[TR_TTFT_CNT] = {"vllm:time_to_first_token_seconds_count", NULL},
	[TR_PC_HITS] = {"vllm:prefix_cache_hits_total", "vllm:gpu_prefix_cache_hits_total"},
	[TR_PC_QUERIES] = {"vllm:prefix_cache_queries_total", "vllm:gpu_prefix_cache_queries_total"},
	[TR_KV_USAGE] = {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc"},
	[TR_LC_PROMPT_S] = {"llamacpp:prompt_seconds_total", NULL},
	[TR_LC_PREDICTED_S] = {"llamacpp:tokens_predicted_seconds_total", NULL},
	[TR_LC_PROMPT_TOK] = {"llamacpp:prompt_tokens_total", NULL},
	[TR_LC_CACHED_TOK] = {"llamacpp:prompt_tokens_cached_total", NULL},
	[TR_PROC_START] = {"process_start_time_seconds", NULL},
};

const char *ttft_truth_name(int id)
{
	return id >= 0 && id < TR__N ? names[id][0] : "?";
}

const char *ttft_truth_old_name(int id)
{
	return id >= 0 && id < TR__N ? names[id][1] : NULL;
}

int ttft_truth_id(const char *name)
{
	for (int i = 0; i < TR__N; i++)
		if (!strcmp(name, names[i][0]))
			return i;
	return -1;
}

int ttft_truth_from(const struct ttft_prom *p, struct ttft_truth *t)
{
	int n = 0;
	t->have = 0;
	for (int i = 0; i < TR__N; i++) {
		int found = 0;
		t->v[i] = ttft_prom_get(p, names[i][0], &found);
		if (!found && names[i][1])
			t->v[i] = ttft_prom_get(p, names[i][1], &found);
		if (found) {
			t->have |= 1u << i;
			n += i != TR_PROC_START;
		} else {
			t->v[i] = NAN;
		}
	}
	return n;
}

static int has(const struct ttft_truth *t, int i)
{
	return (t->have >> i) & 1;
}

double ttft_truth_delta(const struct ttft_truth *a, const struct ttft_truth *b, int i)
{
	return has(a, i) && has(b, i) ? b->v[i] - a->v[i] : NAN;
}

int ttft_truth_restarted(const struct ttft_truth *a, const struct ttft_truth *b,
			 char *why, size_t whylen)
{
	/* Counters that restart from zero can be past the old ones by the
	 * next page (a fresh server busy at once, a replica behind the same
	 * address): the process's start time tells them apart where the
	 * page has it. */
	double s = ttft_truth_delta(a, b, TR_PROC_START);
	if (!isnan(s) ? s != 0 : has(a, TR_PROC_START) && has(b, TR_PROC_START)) {
		snprintf(why, whylen, "%s changed (%.17g -> %.17g): the pages come from two "
			 "server processes (a restart, or two replicas behind one address)",
			 names[TR_PROC_START][0], a->v[TR_PROC_START], b->v[TR_PROC_START]);
		return 1;
	}
	/* counters never go backwards on a live server */
	for (int i = 0; i < TR__N; i++) {
		if (i == TR_KV_USAGE || i == TR_PROC_START)
			continue;
		double d = ttft_truth_delta(a, b, i);
		if (!isnan(d) && d < 0) {
			snprintf(why, whylen, "%s went backwards (%g -> %g): the server "
				 "restarted", names[i][0], a->v[i], b->v[i]);
			return 1;
		}
	}
	return 0;
}

int ttft_truth_split(const struct ttft_truth *a, const struct ttft_truth *b,
		     int expect_one, struct ttft_server_split *o)
{
	memset(o, 0, sizeof *o);
	o->queue_s = o->prefill_s = o->decode_s = o->server_ttft_s = NAN;
	o->hit_tokens = o->requests = NAN;
	if (ttft_truth_restarted(a, b, o->note, sizeof o->note))
		return 0;
	if (has(a, TR_QUEUE_CNT) && has(b, TR_QUEUE_CNT)) {
		o->source = TTFT_SPLIT_VLLM_METRICS;
		o->requests = ttft_truth_delta(a, b, TR_QUEUE_CNT);
		o->queue_s = ttft_truth_delta(a, b, TR_QUEUE_SUM);
		o->prefill_s = ttft_truth_delta(a, b, TR_PREFILL_SUM);
		o->decode_s = ttft_truth_delta(a, b, TR_DECODE_SUM);
		o->server_ttft_s = ttft_truth_delta(a, b, TR_TTFT_SUM);
		o->hit_tokens = ttft_truth_delta(a, b, TR_PC_HITS);
		if (o->requests == 1)
			return 1;
		if (o->requests == 0)
			snprintf(o->note, sizeof o->note,
				 "the server finished no request between the snapshots");
		else
			snprintf(o->note, sizeof o->note,
				 "the window holds %.0f requests: queue %.4f s, prefill %.4f s "
				 "in all (no per-request split)", o->requests, o->queue_s,
				 o->prefill_s);
		return 0;
	}
	if (has(a, TR_LC_PROMPT_S) && has(b, TR_LC_PROMPT_S)) {
		o->source = TTFT_SPLIT_LLAMACPP_METRICS;
		o->prefill_s = ttft_truth_delta(a, b, TR_LC_PROMPT_S);
		o->decode_s = ttft_truth_delta(a, b, TR_LC_PREDICTED_S);
		o->hit_tokens = ttft_truth_delta(a, b, TR_LC_CACHED_TOK);
		if (expect_one)
			return 1;
		snprintf(o->note, sizeof o->note,
			 "llama.cpp's counters do not count requests and others "
			 "overlapped the window (no per-request split)");
		return 0;
	}
	snprintf(o->note, sizeof o->note,
		 "the /metrics page lacks vLLM's request histograms and llama.cpp's "
		 "counters");
	return 0;
}

int ttft_truth_page(const char *body, size_t len, struct ttft_truth *t, char *why,
		    size_t whylen)
{
	struct ttft_prom p;
	if (ttft_prom_parse(body, len, &p, why, whylen) < 0)
		return -1;
	int found = ttft_truth_from(&p, t);
	int rc = found;
	if (p.n == 0) {
		snprintf(why, whylen, "not Prometheus text (%zu bad lines)", p.bad_lines);
		rc = -1;
	} else if (p.truncated) {
		snprintf(why, whylen, "the page is cut short (no final newline)");
		rc = -1;
	} else if (found == 0) {
		snprintf(why, whylen, "none of vLLM's or llama.cpp's request metrics on the page");
		rc = -1;
	}
	ttft_prom_free(&p);
	return rc;
}
