/* bench_accuracy — how close the tools' timestamps come to the truth, in
 * one run, against fixture-server's own record of when it read and wrote
 * each byte (--truth; CLOCK_MONOTONIC, like the shim's and the clients').
 * Figures, not pass/fail: the tests assert only what always holds (order,
 * containment, exact counts); these say by how much, on this machine, now.
 * Injected: headers 20 ms after the request, the first token 60 ms later,
 * a token every 10 ms, 5 tokens.
 *
 * Each real client under the shim (ttft-run), per request, in ms:
 *   wire>shim    the shim's read of the first token - the fixture's write
 *   shim>app     the client's own first-token stamp - the shim's read
 *   ttft-inj     first token - the request's first byte, less the injected
 *                headers + first-token delay
 *   decode-inj   first to last token, less the injected decode (40 ms)
 * then ttft-probe's own numbers against the fixture's record, and the
 * server split's leftovers against what the fixture injected.
 * usage: bench_accuracy [N]   (requests per client, default 10)
 */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture_client.h"
#include "ttft_analyze.h"

#define HDR_MS 20.0
#define FIRST_MS 60.0
#define TOK_MS 10.0
#define NTOK 5
#define MAXN 64

static const char *g_build = "build";
static char g_dir[64];
static int g_seq;

/* A column of figures (ms) and its p50 / max. */
struct col {
	double v[MAXN];
	int n;
};

static void add(struct col *c, double ms)
{
	if (c->n < MAXN && !isnan(ms))
		c->v[c->n++] = ms;
}

static void cell(struct col *c)
{
	if (!c->n) {
		printf(" %17s", "-");
		return;
	}
	double med = ttft_percentile(c->v, (size_t)c->n, 0.5);
	printf(" %8.3f %8.3f", med, c->v[c->n - 1]); /* sorted by the percentile */
}

static void row(const char *label, struct col *c)
{
	printf("  %-50s", label);
	cell(c);
	printf("\n");
}

static char *slurp(FILE *f)
{
	size_t cap = 4096, len = 0;
	char *b = malloc(cap);
	size_t r;
	while ((r = fread(b + len, 1, cap - len - 1, f)) > 0) {
		len += r;
		if (len + 1 == cap)
			b = realloc(b, cap *= 2);
	}
	b[len] = 0;
	return b;
}

static char *sh(const char *cmd, int *rc)
{
	FILE *f = popen(cmd, "r");
	if (!f) {
		*rc = -1;
		return strdup("");
	}
	char *out = slurp(f);
	int st = pclose(f);
	*rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	return out;
}

static void path(char *buf, size_t n, const char *tag)
{
	snprintf(buf, n, "%s/%s.%d", g_dir, tag, g_seq++);
}

struct fixture {
	pid_t pid;
	int port;
	char truth[128];
};

static int fixture_start(struct fixture *fx, const char *extra)
{
	char args[256], err[512];
	snprintf(args, sizeof args, "--headers-ms %g --first-ms %g --token-ms %g %s", HDR_MS,
		 FIRST_MS, TOK_MS, extra ? extra : "");
	path(fx->truth, sizeof fx->truth, "truth");
	fx->pid = tu_fixture_spawn(g_build, args, fx->truth, &fx->port, err, sizeof err);
	if (fx->pid < 0)
		fprintf(stderr, "bench_accuracy: %s\n", err);
	return fx->pid < 0 ? -1 : 0;
}

static void fixture_stop(struct fixture *fx, struct tu_truth *t)
{
	char err[512];
	if (t && tu_truth_load(fx->truth, t, err, sizeof err) != 0)
		fprintf(stderr, "bench_accuracy: %s\n", err);
	kill(fx->pid, SIGTERM);
	waitpid(fx->pid, NULL, 0);
	unlink(fx->truth);
}

/* One client (a shell command, %d = the fixture's port) under the shim:
 * a row of the table. */
static void client_row(const char *name, const char *fmt, int n)
{
	struct fixture fx;
	if (fixture_start(&fx, NULL) != 0)
		return;
	char cmd[2048], inner[1024], log[128];
	path(log, sizeof log, "log");
	snprintf(inner, sizeof inner, fmt, fx.port, n);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- sh -c '%s'", g_build, log,
		 inner);
	int rc;
	char *out = sh(cmd, &rc);
	struct tu_truth t;
	fixture_stop(&fx, &t);
	struct ttft_analysis a;
	char err[512];
	struct ttft_filter flt = {0, "/v1/"};
	if (rc != 0 || ttft_analyze_file(log, &flt, &a, err, sizeof err) != 0) {
		printf("%-18s failed (exit %d): %.200s\n", name, rc, out);
		unlink(log);
		free(out);
		tu_truth_free(&t);
		return;
	}
	unlink(log);
	struct col wire = {0}, app = {0}, ttft = {0}, dec = {0};
	char *save = NULL;
	size_t k = 0;
	int64_t client_first[MAXN] = {0};
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		cJSON *fst = cJSON_GetObjectItem(o, "first_ns");
		if (cJSON_IsNumber(fst) && k < MAXN)
			client_first[k++] = (int64_t)fst->valuedouble;
		cJSON_Delete(o);
	}
	for (size_t i = 0; i < a.nreqs && i < MAXN; i++) {
		const struct ttft_record *q = &a.reqs[i];
		const struct tu_treq *s = tu_truth_req(&t, "/v1/", i);
		if (!s || q->ntok < 1 || s->ntok < 1)
			continue;
		add(&wire, (double)(q->t_first - s->tok[0]) / 1e6);
		if (i < k)
			add(&app, (double)(client_first[i] - q->t_first) / 1e6);
		add(&ttft, (double)(q->t_first - q->t_req0) / 1e6 - (HDR_MS + FIRST_MS));
		add(&dec, (double)(ttft_record_last_token(q) - q->t_first) / 1e6 -
				  (NTOK - 1) * TOK_MS);
	}
	printf("%-18s %3zu", name, a.nreqs);
	cell(&wire);
	cell(&app);
	cell(&ttft);
	cell(&dec);
	printf("\n");
	ttft_analysis_free(&a);
	tu_truth_free(&t);
	free(out);
}

static double num(cJSON *o, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* ttft-probe's own records against the fixture's, and its marks against
 * the shim's reads. */
static void probe_rows(int n)
{
	struct fixture fx;
	if (fixture_start(&fx, NULL) != 0)
		return;
	char cmd[2048], log[128], js[128];
	path(log, sizeof log, "log");
	path(js, sizeof js, "json");
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- %s/ttft-probe --url "
		 "http://127.0.0.1:%d --runs %d --max-tokens %d -q --json - && %s/ttft-analyze "
		 "--json --path /v1/ %s > %s", g_build, log, g_build, fx.port, n, NTOK, g_build,
		 log, js);
	int rc;
	char *out = sh(cmd, &rc);
	struct tu_truth t;
	fixture_stop(&fx, &t);
	struct col ttft = {0}, st = {0}, gap = {0};
	char *save = NULL;
	size_t i = 0;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		const struct tu_treq *s = tu_truth_req(&t, "/v1/completions", i);
		if (o && !cJSON_GetObjectItem(o, "summary") && s && s->ntok) {
			add(&ttft, num(o, "ttft_s") * 1e3 - (double)(s->tok[0] - s->recv_first_ns) / 1e6);
			add(&st, num(o, "starttransfer_s") * 1e3 -
				    (double)(s->hdr_ns - s->recv_first_ns) / 1e6);
			i++;
		}
		cJSON_Delete(o);
	}
	FILE *f = fopen(js, "r");
	if (f) {
		char *text = slurp(f);
		fclose(f);
		cJSON *j = cJSON_Parse(text), *q;
		cJSON_ArrayForEach(q, cJSON_GetObjectItem(j, "requests"))
			add(&gap, num(q, "app_gap_s") * 1e3);
		cJSON_Delete(j);
		free(text);
	}
	unlink(js);
	unlink(log);
	printf("\n%-52s %8s %8s\n", "ttft-probe", "p50", "max");
	row("ttft_s - the fixture's read to first token", &ttft);
	row("starttransfer_s - the fixture's read to headers", &st);
	row("its first-token mark - the shim's read (app_gap)", &gap);
	if (rc)
		printf("  (ttft-probe exited %d)\n", rc);
	tu_truth_free(&t);
	free(out);
}

/* The server's split: what is left once the fixture's exact queue and
 * prefill are taken out (5 ms injected), and the fitted model's queue
 * estimate against the queue injected. */
static void split_rows(int n)
{
	struct fixture fx;
	if (fixture_start(&fx, "--metrics-mode vllm") != 0)
		return;
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --runs %d "
		 "--max-tokens 3 -q --json - --header 'X-Fixture: headers=0,first=5,queue=25,"
		 "prefill=40'", g_build, fx.port, n);
	int rc;
	char *out = sh(cmd, &rc);
	fixture_stop(&fx, NULL);
	struct col other = {0}, model = {0};
	char *save = NULL;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		if (o && !cJSON_GetObjectItem(o, "summary"))
			add(&other, num(o, "server_other_s") * 1e3 - 5.0);
		cJSON_Delete(o);
	}
	free(out);
	if (fixture_start(&fx, "--metrics-mode missing") != 0)
		return;
	char fit[128];
	path(fit, sizeof fit, "fit");
	snprintf(cmd, sizeof cmd, "%s/ttft-probe --url http://127.0.0.1:%d --header 'X-Fixture: "
		 "headers=0,first=5,prefill_per_token=0.5' --calibrate %s >/dev/null 2>&1 && "
		 "%s/ttft-probe --url http://127.0.0.1:%d --fit %s --runs %d --max-tokens 3 -q "
		 "--json - --header 'X-Fixture: headers=0,first=5,prefill_per_token=0.5,queue=25'",
		 g_build, fx.port, fit, g_build, fx.port, fit, n);
	out = sh(cmd, &rc);
	fixture_stop(&fx, NULL);
	unlink(fit);
	save = NULL;
	for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(l);
		if (o && !cJSON_GetObjectItem(o, "summary"))
			add(&model, num(o, "queue_s") * 1e3 - 25.0);
		cJSON_Delete(o);
	}
	free(out);
	printf("\n%-52s %8s %8s\n", "server split (ttft-probe)", "p50", "max");
	row("server_other_s - the 5 ms injected", &other);
	row("fitted-model queue_s - the 25 ms injected", &model);
}

static int rm_one(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	if (n < 1 || n > MAXN) {
		fprintf(stderr, "usage: bench_accuracy [N]   (requests per client, 1-%d)\n", MAXN);
		return 2;
	}
	const char *b = getenv("TTFT_BUILD");
	if (b && *b)
		g_build = b;
	snprintf(g_dir, sizeof g_dir, "/dev/shm/ttft-bench.XXXXXX");
	if (!mkdtemp(g_dir)) {
		perror("bench_accuracy: cannot create a directory under /dev/shm");
		return 1;
	}
	printf("accuracy against the fixture's own record (ms, p50 and max of %d requests;\n"
	       "injected: headers %.0f, first token +%.0f, a token every %.0f, %d tokens)\n",
	       n, HDR_MS, FIRST_MS, TOK_MS, NTOK);
	printf("%-18s %3s %17s %17s %17s %17s\n", "client", "n", "wire>shim", "shim>app",
	       "ttft-inj", "decode-inj");
	printf("%-22s", "");
	for (int i = 0; i < 4; i++)
		printf(" %8s %8s", "p50", "max");
	printf("\n");
	char fmt[256];
	snprintf(fmt, sizeof fmt, "for i in $(seq %%2$d); do curl -sfN "
		 "http://127.0.0.1:%%1$d/v1/completions -d @tests/clients/completion.json "
		 ">/dev/null || exit 1; done");
	client_row("curl (new conns)", fmt, n);
	client_row("python http.client", "python3 tests/clients/py_httpclient.py %d %d keepalive", n);
	client_row("python asyncio", "python3 tests/clients/py_asyncio.py %d %d keepalive", n);
	client_row("node fetch", "node tests/clients/node_fetch.mjs %d %d", n);
	probe_rows(n);
	split_rows(n);
	nftw(g_dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
