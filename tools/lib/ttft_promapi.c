/* ttft_promapi.c — see ttft_promapi.h. */
#include "ttft_promapi.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ttft_fetch.h"
#include "ttft_url.h"

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	     : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Percent-decode n bytes of s into out (NUL-terminated); -1 if it does
 * not fit or a %XX is broken. */
static int decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			int h = i + 2 < n ? unhex(s[i + 1]) : -1;
			int l = i + 2 < n ? unhex(s[i + 2]) : -1;
			if (h < 0 || l < 0)
				return -1;
			c = (char)(h * 16 + l);
			i += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = 0;
	return 0;
}

/* k="v" with PromQL's string escapes, appended to p->matchers. */
static int matcher(struct ttft_promapi *p, const char *k, const char *v)
{
	size_t o = strlen(p->matchers);
	int n = snprintf(p->matchers + o, sizeof p->matchers - o, "%s%s=\"", o ? "," : "", k);
	if (n < 0 || (size_t)n >= sizeof p->matchers - o)
		return -1;
	o += (size_t)n;
	for (; *v; v++) {
		if (o + 3 >= sizeof p->matchers)
			return -1;
		if (*v == '"' || *v == '\\')
			p->matchers[o++] = '\\';
		p->matchers[o++] = *v == '\n' ? ' ' : *v;
	}
	if (o + 2 >= sizeof p->matchers)
		return -1;
	p->matchers[o++] = '"';
	p->matchers[o] = 0;
	return 0;
}

int ttft_promapi_parse(const char *url, struct ttft_promapi *p, char *err, size_t errlen)
{
	memset(p, 0, sizeof *p);
	p->wait_s = 120;
	if (strncmp(url, "prom+http://", 12) && strncmp(url, "prom+https://", 13)) {
		snprintf(err, errlen, "'%s' is not a prom+http:// URL", url);
		return -1;
	}
	const char *q = strchr(url, '?');
	size_t bl = q ? (size_t)(q - url) : strlen(url);
	char base[2048];
	if (bl - 5 >= sizeof base) {
		snprintf(err, errlen, "the URL '%.100s…' is too long", url);
		return -1;
	}
	memcpy(base, url + 5, bl - 5);
	base[bl - 5] = 0;
	struct ttft_url u;
	if (ttft_url_parse(base, &u, err, errlen) != 0)
		return -1;
	snprintf(p->base, sizeof p->base, "%s", u.base);
	int have = 0;
	for (const char *s = q ? q + 1 : NULL; s && *s;) {
		size_t n = strcspn(s, "&");
		const char *eq = memchr(s, '=', n);
		char key[32], val[512];
		if (!eq || (size_t)(eq - s) >= sizeof key ||
		    decode(eq + 1, n - (size_t)(eq - s) - 1, val, sizeof val) != 0) {
			snprintf(err, errlen, "'%s': cannot read the parameter '%.*s' (want "
				 "job=…&instance=…)", url, (int)n, s);
			return -1;
		}
		memcpy(key, s, (size_t)(eq - s));
		key[eq - s] = 0;
		if (!strcmp(key, "job") || !strcmp(key, "instance")) {
			if (matcher(p, key, val) != 0) {
				snprintf(err, errlen, "'%s': the %s is too long", url, key);
				return -1;
			}
			have = 1;
		} else if (!strcmp(key, "skew_ms") || !strcmp(key, "wait_s")) {
			char *end;
			double x = strtod(val, &end);
			if (*end || !(x >= 0) || x > 3600e3) {
				snprintf(err, errlen, "'%s': %s wants a number, got '%s'", url, key,
					 val);
				return -1;
			}
			if (key[0] == 's')
				p->skew_s = x / 1e3;
			else
				p->wait_s = x;
		} else {
			snprintf(err, errlen, "'%s': unknown parameter '%s' (job, instance, "
				 "skew_ms, wait_s)", url, key);
			return -1;
		}
		s += n + (s[n] == '&');
	}
	if (!have) {
		snprintf(err, errlen, "'%s' names no target: add ?job=…&instance=… (the "
			 "replica's labels in Prometheus)", url);
		return -1;
	}
	return 0;
}

/* GET base/api/v1/query?query=Q&time=T; the parsed "data.result" (in
 * *root, which the caller frees), or NULL with err. */
static cJSON *query(const struct ttft_promapi *p, const char *promql, double t, cJSON **root,
		    char *err, size_t errlen)
{
	size_t ql = strlen(promql);
	char *url = malloc(strlen(p->base) + 3 * ql + 96);
	if (!url) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	size_t o = (size_t)sprintf(url, "%s/api/v1/query?query=", p->base);
	for (size_t i = 0; i < ql; i++) {
		unsigned char c = (unsigned char)promql[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-_.~", c))
			url[o++] = (char)c;
		else
			o += (size_t)sprintf(url + o, "%%%02X", c);
	}
	sprintf(url + o, "&time=%.3f", t);
	char *body = NULL, cerr[256] = "";
	long status = 0;
	CURLcode rc = ttft_fetch(url, NULL, 10.0, 64u << 20, &body, &status, cerr, sizeof cerr);
	free(url);
	*root = NULL;
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot query Prometheus at %s: %s (is it up?)", p->base,
			 cerr);
		free(body);
		return NULL;
	}
	cJSON *j = body ? cJSON_Parse(body) : NULL;
	const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(j, "status"));
	if (!st || strcmp(st, "success")) {
		const char *e = cJSON_GetStringValue(cJSON_GetObjectItem(j, "error"));
		snprintf(err, errlen, "Prometheus at %s answered HTTP %ld%s%.300s%s", p->base,
			 status, e ? ": " : "", e ? e : "", j ? "" : " (not its JSON API: is this "
			 "a Prometheus server?)");
		cJSON_Delete(j);
		free(body);
		return NULL;
	}
	free(body);
	*root = j;
	cJSON *res = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "data"), "result");
	if (!cJSON_IsArray(res)) {
		snprintf(err, errlen, "Prometheus at %s answered without data.result", p->base);
		cJSON_Delete(j);
		*root = NULL;
		return NULL;
	}
	return res;
}

/* The series' target, "job / instance", for telling targets apart. */
static void target_of(cJSON *series, char *out, size_t n)
{
	cJSON *m = cJSON_GetObjectItem(series, "metric");
	const char *job = cJSON_GetStringValue(cJSON_GetObjectItem(m, "job"));
	const char *inst = cJSON_GetStringValue(cJSON_GetObjectItem(m, "instance"));
	snprintf(out, n, "job=\"%s\",instance=\"%s\"", job ? job : "", inst ? inst : "");
}

/* One result set must hold one target. */
static int one_target(const struct ttft_promapi *p, cJSON *res, char *err, size_t errlen)
{
	char first[512] = "", t[512];
	cJSON *s;
	cJSON_ArrayForEach(s, res) {
		target_of(s, t, sizeof t);
		if (!first[0])
			snprintf(first, sizeof first, "%s", t);
		else if (strcmp(first, t)) {
			snprintf(err, errlen, "{%s} selects more than one target in Prometheus "
				 "(%s and %s): add job= and instance= to the URL so that they "
				 "name one replica", p->matchers, first, t);
			return -1;
		}
	}
	return 0;
}

int ttft_promapi_latest(const struct ttft_promapi *p, double *unix_s, char *err, size_t errlen)
{
	char q[1200];
	snprintf(q, sizeof q, "timestamp(up{%s})", p->matchers);
	cJSON *root;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	cJSON *res = query(p, q, (double)ts.tv_sec + ts.tv_nsec / 1e9, &root, err, errlen);
	if (!res)
		return -1;
	int rc = -1;
	if (cJSON_GetArraySize(res) == 0)
		snprintf(err, errlen, "Prometheus at %s has no target {%s} scraped in the last "
			 "5 minutes: check job= and instance= against its targets page", p->base,
			 p->matchers);
	else if (one_target(p, res, err, errlen) == 0) {
		cJSON *v = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0),
								  "value"), 1);
		const char *s = cJSON_GetStringValue(v);
		*unix_s = s ? strtod(s, NULL) : NAN;
		rc = isnan(*unix_s) ? -1 : 0;
		if (rc)
			snprintf(err, errlen, "Prometheus at %s answered an odd timestamp", p->base);
	}
	cJSON_Delete(root);
	return rc;
}

struct point {
	long long ms;       /* the scrape's timestamp */
	cJSON *series;      /* its name: metric.__name__ */
	double v;
};

static int cmp_point(const void *x, const void *y)
{
	const struct point *a = x, *b = y;
	return (a->ms > b->ms) - (a->ms < b->ms);
}

int ttft_promapi_fetch(const struct ttft_promapi *p, double from, double to,
		       struct ttft_promapi_snap **out, size_t *nout, char *err, size_t errlen)
{
	*out = NULL;
	*nout = 0;
	/* every name the truth reads, and the scrape's own two */
	char q[4096];
	size_t o = (size_t)snprintf(q, sizeof q, "{__name__=~\"up|scrape_duration_seconds");
	for (int i = 0; i < TR__N; i++) {
		o += (size_t)snprintf(q + o, sizeof q - o, "|%s", ttft_truth_name(i));
		if (ttft_truth_old_name(i))
			o += (size_t)snprintf(q + o, sizeof q - o, "|%s", ttft_truth_old_name(i));
	}
	long long range_ms = (long long)ceil((to - from) * 1e3);
	if (range_ms < 1)
		return 0;
	snprintf(q + o, sizeof q - o, "\",%s}[%lldms]", p->matchers, range_ms);
	cJSON *root;
	cJSON *res = query(p, q, to, &root, err, errlen);
	if (!res)
		return -1;
	if (one_target(p, res, err, errlen) != 0) {
		cJSON_Delete(root);
		return -1;
	}
	size_t npt = 0, cap = 0;
	struct point *pt = NULL;
	cJSON *s;
	cJSON_ArrayForEach(s, res) {
		cJSON *vals = cJSON_GetObjectItem(s, "values"), *v;
		cJSON_ArrayForEach(v, vals) {
			cJSON *t = cJSON_GetArrayItem(v, 0);
			const char *x = cJSON_GetStringValue(cJSON_GetArrayItem(v, 1));
			if (!cJSON_IsNumber(t) || !x)
				continue;
			if (npt == cap) {
				cap = cap ? 2 * cap : 256;
				struct point *np = realloc(pt, cap * sizeof *np);
				if (!np)
					goto oom;
				pt = np;
			}
			pt[npt++] = (struct point){llround(t->valuedouble * 1e3), s, strtod(x, NULL)};
		}
	}
	qsort(pt, npt, sizeof *pt, cmp_point);
	/* one snapshot per scrape: the points of one timestamp */
	struct ttft_promapi_snap *sn = NULL;
	size_t nsn = 0;
	struct ttft_prom page = {0};
	page.s = malloc((npt ? npt : 1) * sizeof *page.s);
	sn = malloc((npt ? npt : 1) * sizeof *sn);
	if (!page.s || !sn) {
		free(page.s);
		free(sn);
		goto oom;
	}
	for (size_t i = 0; i < npt;) {
		size_t j = i;
		double up = 1, dur = 0;
		page.n = 0;
		for (; j < npt && pt[j].ms == pt[i].ms; j++) {
			cJSON *m = cJSON_GetObjectItem(pt[j].series, "metric");
			char *name = cJSON_GetStringValue(cJSON_GetObjectItem(m, "__name__"));
			if (!name)
				continue;
			if (!strcmp(name, "up"))
				up = pt[j].v;
			else if (!strcmp(name, "scrape_duration_seconds"))
				dur = pt[j].v;
			else /* the names are borrowed from the JSON: never freed */
				page.s[page.n++] = (struct ttft_prom_sample){name, (char *)"",
									     pt[j].v};
		}
		struct ttft_promapi_snap *x = &sn[nsn++];
		memset(x, 0, sizeof *x);
		int found = ttft_truth_from(&page, &x->tr);
		x->ok = up != 0 && found > 0;
		x->ts_unix_s = (double)pt[i].ms / 1e3;
		/* Prometheus moves a scrape's stamp back onto its interval's
		 * grid when the start came at most its timestamp tolerance
		 * after it (2 ms by default): the start was up to that much
		 * after the stamp, never before */
		x->t0_unix_s = (double)pt[i].ms / 1e3 - p->skew_s;
		x->t1_unix_s = (double)pt[i].ms / 1e3 + TTFT_PROMAPI_ALIGN_S + 0.001 +
			       (dur > 0 ? dur : 0) + p->skew_s;
		i = j;
	}
	free(page.s);
	free(pt);
	cJSON_Delete(root);
	*out = sn;
	*nout = nsn;
	return 0;
oom:
	free(pt);
	cJSON_Delete(root);
	snprintf(err, errlen, "out of memory reading Prometheus's samples");
	return -1;
}
