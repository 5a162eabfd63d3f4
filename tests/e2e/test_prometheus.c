/* test_prometheus.c — against a real Prometheus server (Debian's
 * prometheus package), started on a free loopback port with a generated
 * configuration and its own storage in the suite's scratch directory,
 * scraping build/fixture-server (vLLM's /metrics) and the exporter:
 *  - PromQL over the exporter's histograms gives the analyzer's numbers on
 *    the same requests: every bucket exactly, the sums to rounding, and
 *    histogram_quantile within a bucket's width of the analyzer's
 *    percentile; promtool check metrics accepts the page;
 *  - ttft-run --metrics prom+http://… (the replica's truth as Prometheus
 *    stored it) gives the same per-request split as scraping the replica
 *    directly, for sequential requests.
 * Without the prometheus binary the suite says so loudly and counts its
 * tests as skipped (tests/run.sh); CI installs it (.ci/run). */
#include <check.h>
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"
#include "ttft_export.h"
#include "ttft_fetch.h"
#include "ttft_join.h"

#define NTESTS 2

static char g_dir[300];
static pid_t g_prom, g_fx;
static int g_pport, g_fport;
static char g_url[64];
static char g_log[256]; /* removed by teardown, whatever the test did */

static char *slurp_cmd(const char *cmd)
{
	char *out;
	tu_sh(cmd, &out);
	out[strcspn(out, "\n")] = 0;
	return out;
}

/* The configuration: the fixture (a vLLM replica) always, the exporter
 * when there is one; Prometheus reloads it on SIGHUP. */
static void configure(const char *exporter)
{
	char path[400], tmp[400];
	snprintf(path, sizeof path, "%s/prometheus.yml", g_dir);
	snprintf(tmp, sizeof tmp, "%s/prometheus.yml.tmp", g_dir);
	FILE *f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "global:\n  scrape_interval: 200ms\n  scrape_timeout: 150ms\n"
		   "scrape_configs:\n  - job_name: fixture\n    static_configs:\n"
		   "      - targets: ['127.0.0.1:%d']\n", g_fport);
	if (exporter)
		fprintf(f, "  - job_name: ttftshim\n    static_configs:\n"
			   "      - targets: ['%s']\n", exporter);
	fclose(f);
	ck_assert_int_eq(rename(tmp, path), 0);
	if (g_prom > 0)
		kill(g_prom, SIGHUP);
}

static int ready(void)
{
	char url[128], *body = NULL;
	long status = 0;
	snprintf(url, sizeof url, "%s/-/ready", g_url);
	ttft_fetch(url, NULL, 5.0, 1 << 16, &body, &status, NULL, 0);
	free(body);
	return status == 200;
}

static void setup(void)
{
	char *bin = slurp_cmd("command -v prometheus");
	if (!*bin) {
		free(bin);
		return;
	}
	g_fport = tu_fixture_start("--token-ms 1", &g_fx);
	tu_tmp_log(g_log, sizeof g_log, "prom-export");
	/* the suite's scratch directory: removed whatever happens */
	snprintf(g_dir, sizeof g_dir, "%s/prometheus", tu_scratch());
	ck_assert_int_eq(mkdir(g_dir, 0700), 0);
	configure(NULL);
	/* a port that was free a moment ago may be taken by the time
	 * Prometheus binds it: a few tries */
	for (int attempt = 0; attempt < 3 && g_prom <= 0; attempt++) {
		g_pport = tu_free_port();
		snprintf(g_url, sizeof g_url, "http://127.0.0.1:%d", g_pport);
		char cmd[1024], out[400];
		snprintf(cmd, sizeof cmd, "%s --config.file=%s/prometheus.yml "
			 "--storage.tsdb.path=%s/data --web.listen-address=127.0.0.1:%d "
			 "--enable-feature=exemplar-storage --log.level=warn", bin, g_dir, g_dir,
			 g_pport);
		snprintf(out, sizeof out, "%s/prometheus.out", g_dir);
		g_prom = tu_spawn(cmd, out);
		/* a busy machine: a generous wait, polled */
		int ok = 0;
		for (int i = 0; i < 1200 && !ok; i++) {
			ok = ready();
			if (!ok && waitpid(g_prom, NULL, WNOHANG) == g_prom) {
				g_prom = 0;
				break;
			}
			if (!ok)
				usleep(100000);
		}
		if (!ok && g_prom > 0) {
			tu_stop(g_prom);
			g_prom = 0;
		}
	}
	free(bin);
}

static void teardown(void)
{
	if (g_prom > 0)
		tu_stop(g_prom);
	if (g_fx > 0)
		tu_fixture_stop(g_fx);
	if (g_log[0])
		unlink(g_log);
	if (g_dir[0]) {
		char cmd[400];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
		tu_sh(cmd, NULL);
	}
}

static void started(void)
{
	if (g_prom > 0)
		return;
	char out[400];
	snprintf(out, sizeof out, "%s/prometheus.out", g_dir);
	char *log = tu_read_file(out, NULL);
	ck_abort_msg("prometheus did not start on 127.0.0.1:%d: %.1500s", g_pport, log);
}

/* data.result of an instant query (the caller deletes *root). */
static cJSON *query(const char *promql, cJSON **root)
{
	char *enc = curl_easy_escape(NULL, promql, 0);
	char url[2048], *body = NULL, err[256] = "";
	snprintf(url, sizeof url, "%s/api/v1/query?query=%s", g_url, enc);
	curl_free(enc);
	long status = 0;
	ttft_fetch(url, NULL, 30.0, 16u << 20, &body, &status, err, sizeof err);
	ck_assert_msg(status == 200, "%s: HTTP %ld %s %s", promql, status, err, body ? body : "");
	*root = cJSON_Parse(body);
	free(body);
	cJSON *res = cJSON_GetObjectItem(cJSON_GetObjectItem(*root, "data"), "result");
	ck_assert_msg(cJSON_IsArray(res), "%s: no result", promql);
	return res;
}

/* The value of a query that gives one sample; NAN when it gives none. */
static double scalar(const char *promql)
{
	cJSON *root, *res = query(promql, &root);
	double v = NAN;
	if (cJSON_GetArraySize(res) == 1) {
		cJSON *val = cJSON_GetObjectItem(cJSON_GetArrayItem(res, 0), "value");
		v = strtod(cJSON_GetStringValue(cJSON_GetArrayItem(val, 1)), NULL);
	}
	ck_assert_msg(cJSON_GetArraySize(res) <= 1, "%s: more than one sample", promql);
	cJSON_Delete(root);
	return v;
}

/* Until promql gives want (180 s at most, polled). */
static void await_value(const char *promql, double want)
{
	double v = NAN;
	for (int i = 0; i < 1800; i++) {
		v = scalar(promql);
		if (v == want)
			return;
		usleep(100000);
	}
	ck_abort_msg("%s stayed %g, want %g", promql, v, want);
}

/* The bucket of ttft_export_bounds that holds v, and its width. */
static double width_at(double v)
{
	size_t k = 0;
	while (k < TTFT_EXPORT_NBUCKETS && v > ttft_export_bounds[k])
		k++;
	if (k == TTFT_EXPORT_NBUCKETS)
		return INFINITY;
	return ttft_export_bounds[k] - (k ? ttft_export_bounds[k - 1] : 0);
}

START_TEST(promql_agrees_with_the_analyzer)
{
	started();
	char out[400], hold[400], addr[64], cmd[2048];
	const char *log = g_log;
	snprintf(out, sizeof out, "%s/run.out", g_dir);
	snprintf(hold, sizeof hold, "%s/hold", g_dir);
	const int n = 20;
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s --filter port:%d --export "
		 "127.0.0.1:0 -- python3 tests/clients/py_fleet.py %d %d --spec 'first=2;first=8;"
		 "first=15;first=22;first=35;first=48;first=65;first=85;first=120;first=180' "
		 "--hold %s", tu_build_dir(), log, g_fport, g_fport, n, hold);
	pid_t run = tu_spawn(cmd, out);
	ck_assert(tu_wait_line(out, "exporting on http://", addr, sizeof addr, 60, run) == 0);
	addr[strcspn(addr, "/")] = 0;
	configure(addr);
	await_value("up{job=\"ttftshim\"}", 1);
	await_value("sum(ttftshim_requests_total{job=\"ttftshim\"})", n);
	await_value("ttftshim_requests_in_flight{job=\"ttftshim\"}", 0);
	/* promtool's lint on the page as the exporter serves it */
	char page[400];
	snprintf(page, sizeof page, "%s/page.txt", g_dir);
	snprintf(cmd, sizeof cmd, "curl -sf http://%s/metrics > %s && promtool check metrics "
		 "< %s 2>&1", addr, page, page);
	char *lint;
	int rc = tu_sh(cmd, &lint);
	ck_assert_msg(rc == 0, "promtool check metrics: %s", lint);
	free(lint);
	/* what Prometheus holds, before the run ends */
	cJSON *root, *res = query("sum by (le) (ttftshim_ttft_seconds_bucket{job=\"ttftshim\"})",
				  &root);
	double sum = scalar("sum(ttftshim_ttft_seconds_sum{job=\"ttftshim\"})");
	double count = scalar("sum(ttftshim_ttft_seconds_count{job=\"ttftshim\"})");
	double qs[] = {0.5, 0.9, 0.99}, pq[3];
	for (int i = 0; i < 3; i++) {
		char q[256];
		snprintf(q, sizeof q, "histogram_quantile(%g, sum by (le) "
			 "(ttftshim_ttft_seconds_bucket{job=\"ttftshim\"}))", qs[i]);
		pq[i] = scalar(q);
	}
	FILE *f = fopen(hold, "w");
	fclose(f);
	int status;
	ck_assert_int_eq(waitpid(run, &status, 0), run);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(log, NULL, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, (size_t)n);
	double v[64], asum = 0;
	for (int i = 0; i < n; i++)
		asum += v[i] = ttft_record_ttft_s(&a.reqs[i]);
	ck_assert(count == n);
	ck_assert_msg(fabs(sum - asum) < 1e-9, "sum %.9f vs %.9f", sum, asum);
	ck_assert_int_eq(cJSON_GetArraySize(res), TTFT_EXPORT_NBUCKETS + 1);
	cJSON *b;
	cJSON_ArrayForEach(b, res) {
		const char *le = cJSON_GetStringValue(
			cJSON_GetObjectItem(cJSON_GetObjectItem(b, "metric"), "le"));
		double bound = strcmp(le, "+Inf") ? strtod(le, NULL) : INFINITY;
		double got = strtod(cJSON_GetStringValue(
			cJSON_GetArrayItem(cJSON_GetObjectItem(b, "value"), 1)), NULL);
		int want = 0;
		for (int i = 0; i < n; i++)
			want += v[i] <= bound;
		ck_assert_msg(got == want, "le=%s: Prometheus %g, analyzer %d", le, got, want);
	}
	cJSON_Delete(root);
	for (int i = 0; i < 3; i++) {
		double mine = ttft_percentile(v, (size_t)n, qs[i]);
		if ((size_t)n < ttft_quantile_min_n(qs[i])) {
			/* the analyzer gives no p99 from 20 values: nothing to compare */
			ck_assert(isnan(mine));
			continue;
		}
		double w = fmax(width_at(mine), width_at(pq[i]));
		ck_assert_msg(fabs(pq[i] - mine) <= w, "p%g: histogram_quantile %.4f, analyzer "
			      "%.4f, more than a bucket (%.4f) apart", qs[i] * 100, pq[i], mine, w);
	}
	ttft_analysis_free(&a);
	configure(NULL);
}
END_TEST

static cJSON *run_json(const char *metrics, int n, const char *spec)
{
	char js[400], cmd[2048];
	snprintf(js, sizeof js, "%s/run.json", g_dir);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --filter port:%d --metrics '%s' "
		 "--metrics-interval 20 --json %s -- python3 tests/clients/py_fleet.py %d %d "
		 "--spec '%s' --prom %s --job fixture >/dev/null", tu_build_dir(), g_fport,
		 metrics, js, g_fport, n, spec, g_url);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *t = tu_read_file(js, NULL);
	unlink(js);
	cJSON *j = cJSON_Parse(t);
	free(t);
	ck_assert_ptr_nonnull(j);
	return j;
}

static double num(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The join's refusal of parts that do not fit in what the client waited
 * (ttft_join.c check_fit), for the parts the fixture stated (queue q,
 * prefill p, ms): the note names them and a wait that is indeed shorter
 * than their sum. */
static int fit_refused(const char *note, double q, double p)
{
	double nq, np, waited;
	return note &&
	       sscanf(note, "refused: the server's queue %lf ms + prefill %lf ms is more than "
			    "the client waited (%lf ms", &nq, &np, &waited) == 3 &&
	       fabs(nq - q) < 1e-6 && fabs(np - p) < 1e-6 && waited < q + p &&
	       strstr(note, "the client stamped its send late (busy)");
}

START_TEST(prom_http_truth_matches_direct_scraping)
{
	started();
	await_value("up{job=\"fixture\"}", 1);
	const double q[3] = {11, 17, 4}, p[3] = {21, 9, 33};
	/* the first token 5 ms after the prefill: room for the client's
	 * stamp of its send to come late on a busy machine before the
	 * parts no longer fit in its wait (the join refuses them then) */
	const char *spec = "queue=11,prefill=21,first=5;queue=17,prefill=9,first=5;"
			   "queue=4,prefill=33,first=5";
	char direct[64], viaprom[256];
	snprintf(direct, sizeof direct, "http://127.0.0.1:%d", g_fport);
	snprintf(viaprom, sizeof viaprom, "prom+%s?job=fixture&instance=127.0.0.1:%d", g_url,
		 g_fport);
	cJSON *a = run_json(direct, 3, spec), *b = run_json(viaprom, 3, spec);
	cJSON *ra = cJSON_GetObjectItem(a, "requests"), *rb = cJSON_GetObjectItem(b, "requests");
	ck_assert_int_eq(cJSON_GetArraySize(ra), 3);
	ck_assert_int_eq(cJSON_GetArraySize(rb), 3);
	int got[2] = {0, 0};
	for (int i = 0; i < 3; i++) {
		cJSON *r2[2] = {cJSON_GetArrayItem(ra, i), cJSON_GetArrayItem(rb, i)};
		for (int k = 0; k < 2; k++) {
			const char *way = k ? "prom+http" : "direct";
			const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(r2[k],
										   "split_source"));
			const char *note = cJSON_GetStringValue(cJSON_GetObjectItem(r2[k],
										    "split_note"));
			if (!src) {
				/* on a busy machine the client's send can be
				 * stamped after the server had the request: the
				 * parts then do not fit in what the client saw
				 * it wait, and the join refuses them, saying so
				 * (never another request's numbers as its own) */
				ck_assert_msg(fit_refused(note, q[i], p[i]),
					      "%s, request %d: no split, and not the fit's "
					      "refusal: %s", way, i, note ? note : "no note");
				continue;
			}
			ck_assert_msg(!strcmp(src, "vllm-metrics"), "%s, request %d: %s (%s)",
				      way, i, src, note ? note : "no note");
			got[k]++;
			/* the server's own numbers, the same both ways */
			ck_assert_double_eq_tol(num(r2[k], "queue_s"), q[i] / 1e3, 1e-9);
			ck_assert_double_eq_tol(num(r2[k], "prefill_s"), p[i] / 1e3, 1e-9);
			/* vLLM's own TTFT too, unless the client's send was
			 * stamped after the server had the request (busy),
			 * which the note says */
			ck_assert_msg(!isnan(num(r2[k], "server_ttft_s")) ||
				      (note && !strncmp(note, TTFT_JOIN_NOTE_SERVER_TTFT,
							strlen(TTFT_JOIN_NOTE_SERVER_TTFT))),
				      "%s, request %d: no server TTFT and no reason (%s)", way, i,
				      note ? note : "no note");
		}
	}
	/* each way gave a request its server's numbers */
	ck_assert_msg(got[0] && got[1], "splits: direct %d, prom+http %d of 3", got[0], got[1]);
	cJSON_Delete(a);
	cJSON_Delete(b);
	/* a selector that names no target is an error that says so */
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-run --metrics 'prom+%s?job=nosuchjob' -- true 2>&1",
		 tu_build_dir(), g_url);
	ck_assert_int_eq(tu_sh(cmd, &out), 2); /* usage: found before CMD runs */
	ck_assert_msg(strstr(out, "no target {job=\"nosuchjob\"}"), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	char *bin = slurp_cmd("command -v prometheus"), *tool = slurp_cmd("command -v promtool");
	int have = *bin && *tool;
	free(bin);
	free(tool);
	Suite *s = suite_create("prometheus");
	TCase *t = tu_tcase(s, "prometheus", 600);
	if (have) {
		tcase_add_unchecked_fixture(t, setup, teardown);
		tcase_add_test(t, promql_agrees_with_the_analyzer);
		tcase_add_test(t, prom_http_truth_matches_direct_scraping);
	} else {
		printf("SKIP: test_prometheus: no prometheus/promtool on PATH "
		       "(apt-get install -y prometheus): %d tests not run\n", NTESTS);
		fflush(stdout);
	}
	return tu_run(s);
}
