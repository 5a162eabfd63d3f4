/* test_exporter.c — the exporter end to end, without Prometheus (that is
 * test_prometheus.c): ttft-export follows a log that ttft-run writes later
 * and serves exactly the analyzer's numbers, with exemplars only from
 * valid traceparents; its HTTP server answers /metrics to a scraper while
 * idle, half-sent, garbage and non-reading clients hold connections, and
 * refuses what is not GET /metrics; ttft-run --export serves while its
 * command runs and lingers until the final numbers were scraped; a log
 * replaced under it is read on, as long as --replaced-wait says. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"
#include "ttft_export.h"
#include "ttft_httpd.h"
#include "ttft_prom.h"

static int g_fport;
static pid_t g_fx, g_exp;
static char g_log[256], g_out[256], g_addr[64];

static void start_exporter(const char *log, const char *extra, char *out, pid_t *pid,
			   char *addr, size_t addrlen)
{
	char cmd[1024];
	tu_tmp_log(out, 256, "exporter-out");
	snprintf(cmd, sizeof cmd, "%s/ttft-export --listen 127.0.0.1:0 %s %s", tu_build_dir(),
		 extra, log);
	*pid = tu_spawn(cmd, out);
	ck_assert_msg(tu_wait_line(out, "serving http://", addr, addrlen, 60, *pid) == 0,
		      "ttft-export did not start: %s", cmd);
	addr[strcspn(addr, "/")] = 0;
}

static void setup(void)
{
	g_fport = tu_fixture_start("--token-ms 1", &g_fx);
	tu_tmp_log(g_log, sizeof g_log, "exporter-live");
	start_exporter(g_log, "", g_out, &g_exp, g_addr, sizeof g_addr);
}

static void teardown(void)
{
	tu_stop(g_exp);
	tu_fixture_stop(g_fx);
	unlink(g_log);
	unlink(g_out);
}

static char *get(const char *addr, const char *extra_headers)
{
	char req[512];
	snprintf(req, sizeof req, "GET /metrics HTTP/1.1\r\nHost: t\r\n%s\r\n", extra_headers);
	size_t len;
	char *r = tu_http(addr, req, strlen(req), &len);
	ck_assert_ptr_nonnull(r);
	return r;
}

/* The sum of every sample of name on a Prometheus text page whose labels
 * include want (NULL: all); NAN when there is none. */
static double total(const char *page, const char *name, const char *want)
{
	const char *body = strstr(page, "\r\n\r\n");
	body = body ? body + 4 : page;
	struct ttft_prom p;
	char err[128];
	ck_assert_int_ge(ttft_prom_parse(body, strlen(body), &p, err, sizeof err), 0);
	double v = NAN;
	for (size_t i = 0; i < p.n; i++)
		if (!strcmp(p.s[i].name, name) && (!want || strstr(p.s[i].labels, want)))
			v = (isnan(v) ? 0 : v) + p.s[i].value;
	ttft_prom_free(&p);
	return v;
}

/* Scrape until the page counts n requests (60 s at most); the page. */
static char *until_requests(const char *addr, double n)
{
	for (int i = 0; i < 600; i++) {
		char *page = get(addr, "");
		if (total(page, "ttftshim_requests_total", NULL) == n &&
		    total(page, "ttftshim_requests_in_flight", NULL) == 0)
			return page;
		free(page);
		usleep(100000);
	}
	ck_abort_msg("the exporter at %s never counted %g requests", addr, n);
	return NULL;
}

START_TEST(follows_a_log_written_later)
{
	/* the exporter was started before the log existed */
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s --filter port:%d -- python3 "
		 "tests/clients/py_fleet.py %d 12 --spec 'first=3;first=12;first=30;first=55;"
		 "first=90;first=140' >/dev/null", tu_build_dir(), g_log, g_fport, g_fport);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *page = until_requests(g_addr, 12);
	struct ttft_analysis a;
	char err[256];
	ck_assert_int_eq(ttft_analyze_file(g_log, NULL, &a, err, sizeof err), 0);
	ck_assert_uint_eq(a.nreqs, 12);
	/* every bucket holds exactly the requests the analyzer puts at or
	 * below its bound; the sums agree to rounding */
	double sum = 0;
	for (size_t i = 0; i < a.nreqs; i++)
		sum += ttft_record_ttft_s(&a.reqs[i]);
	for (size_t k = 0; k < TTFT_EXPORT_NBUCKETS; k++) {
		double le = ttft_export_bounds[k];
		size_t want = 0;
		for (size_t i = 0; i < a.nreqs; i++)
			want += ttft_record_ttft_s(&a.reqs[i]) <= le;
		char lab[64], num[40];
		size_t n = ttft_json_fmt_num(num, le);
		num[n] = 0;
		snprintf(lab, sizeof lab, "le=\"%s%s\"", num, strpbrk(num, ".e") ? "" : ".0");
		ck_assert_msg(total(page, "ttftshim_ttft_seconds_bucket", lab) == (double)want,
			      "%s: exporter %g, analyzer %zu", lab,
			      total(page, "ttftshim_ttft_seconds_bucket", lab), want);
	}
	ck_assert(total(page, "ttftshim_ttft_seconds_count", NULL) == 12);
	ck_assert(fabs(total(page, "ttftshim_ttft_seconds_sum", NULL) - sum) < 1e-9);
	ck_assert(total(page, "ttftshim_output_tokens_total", NULL) == 12 * 4);
	/* of them, the analyzer's rows counted from events (no usage) */
	double from_events = 0;
	for (size_t i = 0; i < a.nreqs; i++)
		if (ttft_record_tokens_source(&a.reqs[i]) == TTFT_TOKENS_EVENTS)
			from_events += (double)ttft_record_tokens(&a.reqs[i]);
	ck_assert_msg(total(page, "ttftshim_output_tokens_from_events_total", NULL) == from_events,
		      "exporter %g, analyzer %g",
		      total(page, "ttftshim_output_tokens_from_events_total", NULL), from_events);
	ck_assert(total(page, "ttftshim_requests_total", "outcome=\"ok\"") == 12);
	ck_assert(total(page, "ttftshim_dropped_records_total", NULL) == 0);
	ck_assert(total(page, "ttftshim_log_up", NULL) == 1);
	char peer[64];
	snprintf(peer, sizeof peer, "peer=\"127.0.0.1:%d\"", g_fport);
	ck_assert(total(page, "ttftshim_e2e_seconds_count", peer) == 12);
	ttft_analysis_free(&a);
	free(page);
}
END_TEST

/* A log replaced under the exporter: its counters only grow, the damaged
 * records of the first log too (a review found them back at 0). */
START_TEST(unreadable_counts_survive_a_new_log)
{
	char cmd[2048], first[300];
	snprintf(first, sizeof first, "%s.first", g_log);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s --filter port:%d -- python3 "
		 "tests/clients/py_fleet.py %d 3 >/dev/null && python3 -c \""
		 "f=open('%s','r+b')\nfor k in (5,6,7):\n o=4096+k*128+40; f.seek(o); "
		 "b=f.read(1); f.seek(o); f.write(bytes([b[0]^255]))\" && mv %s %s",
		 tu_build_dir(), first, g_fport, g_fport, first, first, g_log);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *page = NULL;
	for (int i = 0; i < 600; i++) {
		free(page);
		page = get(g_addr, "");
		if (total(page, "ttftshim_unreadable_records_total", "damaged") == 3)
			break;
		usleep(100000);
	}
	ck_assert_msg(total(page, "ttftshim_unreadable_records_total", "damaged") == 3, "%s", page);
	double records = total(page, "ttftshim_records_total", NULL);
	free(page);
	snprintf(cmd, sizeof cmd, "rm -f %s && %s/ttft-run --quiet --log %s --filter port:%d -- "
		 "python3 tests/clients/py_fleet.py %d 1 >/dev/null", g_log, tu_build_dir(), g_log,
		 g_fport, g_fport);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	page = NULL;
	for (int i = 0; i < 600; i++) {
		free(page);
		page = get(g_addr, "");
		if (total(page, "ttftshim_records_total", NULL) > records &&
		    total(page, "ttftshim_requests_in_flight", NULL) == 0)
			break;
		usleep(100000);
	}
	ck_assert(total(page, "ttftshim_records_total", NULL) > records);
	ck_assert_msg(total(page, "ttftshim_unreadable_records_total", "damaged") == 3, "%s", page);
	free(page);
}
END_TEST

/* A connect that failed (the server down) is on the page, as the
 * analyzer's notes have it (a review found the page idle-looking). */
START_TEST(failed_connects_are_counted)
{
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- curl -s "
		 "http://127.0.0.1:1/v1/completions -d '{}' >/dev/null; true", tu_build_dir(), g_log);
	ck_assert_int_eq(tu_sh(cmd, NULL), 0);
	char *page = NULL;
	for (int i = 0; i < 600; i++) {
		free(page);
		page = get(g_addr, "");
		if (total(page, "ttftshim_connect_failures_total", "peer=\"127.0.0.1:1\"") == 1)
			break;
		usleep(100000);
	}
	ck_assert_msg(total(page, "ttftshim_connect_failures_total", "peer=\"127.0.0.1:1\"") == 1,
		      "%s", page);
	free(page);
	/* connects given up while under way (the server never answered the
	 * SYN): as many as the client's own TCP_INFO found pending */
	char *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --log %s -- python3 "
		 "tests/clients/py_connect_given_up.py", tu_build_dir(), g_log);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	int port = 0, pending = 0;
	ck_assert_msg(sscanf(out, "port %d pending %d", &port, &pending) == 2, "%s", out);
	ck_assert_int_ge(pending, 1);
	free(out);
	char peer[64];
	snprintf(peer, sizeof peer, "peer=\"127.0.0.1:%d\"", port);
	page = NULL;
	for (int i = 0; i < 600; i++) {
		free(page);
		page = get(g_addr, "");
		if (total(page, "ttftshim_connect_failures_total", peer) == pending)
			break;
		usleep(100000);
	}
	ck_assert_msg(total(page, "ttftshim_connect_failures_total", peer) == pending,
		      "%d pending: %s", pending, page);
	free(page);
}
END_TEST

/* A file that is no log, or a log cut under its writers: ttftshim_log_up
 * 0 and a line on stderr, never a healthy idle page (a review's finding). */
START_TEST(a_log_it_cannot_read_is_said)
{
	char junk[256], out[256], addr[64];
	pid_t pid;
	tu_tmp_log(junk, sizeof junk, "exporter-junk");
	FILE *fp = fopen(junk, "w");
	fputs("junk\n", fp);
	fclose(fp);
	start_exporter(junk, "", out, &pid, addr, sizeof addr);
	char *page = NULL;
	for (int i = 0; i < 100; i++) {
		free(page);
		page = get(addr, "");
		char *said = tu_read_file(out, NULL);
		int ok = said && strstr(said, "cannot read the log") &&
			 total(page, "ttftshim_log_up", NULL) == 0;
		free(said);
		if (ok)
			break;
		usleep(100000);
	}
	char *said = tu_read_file(out, NULL);
	ck_assert_msg(said && strstr(said, "cannot read the log"), "%s", said ? said : "");
	free(said);
	ck_assert(total(page, "ttftshim_log_up", NULL) == 0);
	free(page);
	tu_stop(pid);
	unlink(junk);
	unlink(out);
}
END_TEST

/* A FIFO at the log's path (mkfifo, a wrong path) is not a log: said, and
 * /metrics and SIGTERM still answered. The follower's open blocked until a
 * writer came, and with it the exporter's one thread: no page, no stop. */
START_TEST(a_fifo_at_the_log_path_blocks_nothing)
{
	char fifo[256], out[256], addr[64], said[256];
	pid_t pid;
	tu_tmp_log(fifo, sizeof fifo, "exporter-fifo");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	start_exporter(fifo, "", out, &pid, addr, sizeof addr);
	ck_assert_msg(tu_wait_line(out, "cannot read the log", said, sizeof said, 20, pid) == 0,
		      "the exporter never said it cannot read the FIFO %s", fifo);
	ck_assert_msg(strstr(said, "not a regular file"), "%s", said);
	char *page = get(addr, "");
	ck_assert_msg(total(page, "ttftshim_log_up", NULL) == 0, "%s", page);
	free(page);
	kill(pid, SIGTERM);
	int status = 0, gone = 0;
	for (int i = 0; i < 200 && !gone; i++) {
		gone = waitpid(pid, &status, WNOHANG) == pid;
		if (!gone)
			usleep(50000);
	}
	if (!gone) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	unlink(fifo);
	unlink(out);
	ck_assert_msg(gone, "ttft-export did not stop within 10 s of SIGTERM");
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* One hand-made event of a test log, and a connection's list of them. */
struct sev {
	uint16_t kind;
	int64_t t, a;
	const char *text;
};

static void put_sevs(struct ttft_log *lg, uint64_t c, const struct sev *ev, size_t n)
{
	for (size_t k = 0; k < n; k++)
		ttft_log_put(lg, &(struct ttft_event){
			.kind = ev[k].kind, .t_ns = ev[k].t, .conn = c, .a = ev[k].a,
			.text = ev[k].text, .text_len = ev[k].text ? strlen(ev[k].text) : 0});
}

/* A request's exemplar comes only from a traceparent W3C calls valid:
 * lower-case hex in every field, a version other than ff, neither id all
 * zeros, and for version 00 nothing after its 55 characters, where a later
 * version may add "-…" fields (the shim's TTFT_F_TP_MORE); a receiver
 * given any other restarts the trace, so its id links to no span. Each
 * request its own path, so each is its own series. */
START_TEST(exemplars_only_from_valid_traceparents)
{
	static const struct {
		const char *tp;
		uint16_t flags;
	} tp[] = {
		{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0}, /* valid */
		{"ff-1af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0},
		{"0A-2af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0},
		{"0g-3af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0},
		{"00-4AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01", 0},
		{"00-5af7651916cd43dd8448eb211c80319c-0000000000000000-01", 0},
		{"00-6af7651916cd43dd8448eb211c80319c-B7AD6B7169203331-01", 0},
		{"00-7af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0x", 0},
		{"00-00000000000000000000000000000000-b7ad6b7169203331-01", 0},
		{"00-8af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TTFT_F_TP_MORE},
		{"cc-9af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", TTFT_F_TP_MORE}, /* valid */
	};
	static const char *const valid[] = {"0af7651916cd43dd8448eb211c80319c",
					    "9af7651916cd43dd8448eb211c80319c"};
	size_t n = sizeof tp / sizeof tp[0];
	char log[256], out[256], addr[64];
	tu_tmp_log(log, sizeof log, "exporter-traceparent");
	struct ttft_log lg;
	const char *why;
	ck_assert_int_eq(ttft_log_open(&lg, log, 1 << 20, &why), 0);
	for (size_t i = 0; i < n; i++) {
		uint64_t c = ttft_log_new_conn(&lg);
		char path[32];
		snprintf(path, sizeof path, "POST /p/%c", (char)('a' + i));
		int64_t t = 1000000000LL + (int64_t)i * 1000000LL;
		const struct sev req[] = {{TTFT_EV_REQ_BEGIN, t, 0, path}};
		put_sevs(&lg, c, req, 1);
		ttft_log_put(&lg, &(struct ttft_event){
			.kind = TTFT_EV_TRACEPARENT, .flags = tp[i].flags, .t_ns = t + 1,
			.conn = c, .text = tp[i].tp, .text_len = strlen(tp[i].tp)});
		const struct sev ev[] = {
			{TTFT_EV_RESP_HEADERS, t + 10, 200, NULL},
			{TTFT_EV_SSE_TOKEN, t + 500000, 0, NULL}, {TTFT_EV_RESP_END, t + 600000, 0, NULL},
		};
		put_sevs(&lg, c, ev, sizeof ev / sizeof ev[0]);
	}
	ttft_log_close(&lg);
	pid_t pid;
	start_exporter(log, "", out, &pid, addr, sizeof addr);
	free(until_requests(addr, (double)n));
	char *om = get(addr, "Accept: application/openmetrics-text\r\n");
	/* the valid ones' ids are there, and they are the only ones */
	for (size_t i = 0; i < 2; i++) {
		char want[64];
		snprintf(want, sizeof want, "{trace_id=\"%s\"}", valid[i]);
		ck_assert_msg(strstr(om, want), "no %s: %s", want, om);
	}
	for (const char *q = om; (q = strstr(q, "trace_id=\"")) != NULL;) {
		q += strlen("trace_id=\"");
		ck_assert_msg((!strncmp(q, valid[0], 32) || !strncmp(q, valid[1], 32)) &&
			      q[32] == '"', "an exemplar from an invalid traceparent: %.40s", q);
	}
	free(om);
	tu_stop(pid);
	unlink(log);
	unlink(out);
}
END_TEST

/* Scrape until the sample name (labels including want) totals n, 20 s at
 * most; the page. */
static char *until_total(const char *addr, const char *name, const char *want, double n)
{
	char *page = NULL;
	for (int i = 0; i < 200; i++) {
		free(page);
		page = get(addr, "");
		if (total(page, name, want) == n)
			return page;
		usleep(100000);
	}
	ck_abort_msg("the exporter at %s never had %s{%s} %g: %s", addr, name, want ? want : "",
		     n, page);
	return NULL;
}

static size_t count_of(const char *text, const char *s)
{
	size_t n = 0;
	for (const char *q = text; (q = strstr(q, s)) != NULL; q += strlen(s))
		n++;
	return n;
}

/* A log replaced under the exporter while a request in it streams (rm and
 * a new run; its writer holds the old file and writes on): the request is
 * counted as it ends, ok, not incomplete at the switch; the switch is
 * said once on stderr with the request waited for, and so is the end of
 * the wait (a review found the request counted incomplete at once and
 * the switch silent). */
START_TEST(a_replaced_log_is_read_on_until_its_request_ends)
{
	char log[256], out[256], addr[64];
	tu_tmp_log(log, sizeof log, "exporter-replaced");
	struct ttft_log old, cur;
	const char *why;
	ck_assert_int_eq(ttft_log_open(&old, log, 1 << 20, &why), 0);
	int64_t t = 1000000000LL;
	const struct sev begun[] = {
		{TTFT_EV_REQ_BEGIN, t, 0, "POST /v1/old"}, {TTFT_EV_RESP_HEADERS, t + 10, 200, NULL},
		{TTFT_EV_SSE_TOKEN, t + 500000, 0, NULL},
	};
	put_sevs(&old, ttft_log_new_conn(&old), begun, 3);
	pid_t pid;
	start_exporter(log, "", out, &pid, addr, sizeof addr);
	free(until_total(addr, "ttftshim_requests_in_flight", NULL, 1));
	ck_assert_int_eq(unlink(log), 0);
	ck_assert_int_eq(ttft_log_open(&cur, log, 1 << 20, &why), 0);
	const struct sev whole[] = {
		{TTFT_EV_REQ_BEGIN, t, 0, "POST /v1/new"}, {TTFT_EV_RESP_HEADERS, t + 10, 200, NULL},
		{TTFT_EV_SSE_TOKEN, t + 500000, 0, NULL}, {TTFT_EV_RESP_END, t + 600000, 0, NULL},
	};
	put_sevs(&cur, ttft_log_new_conn(&cur), whole, 4);
	char *page = until_total(addr, "ttftshim_requests_total", "outcome=\"ok\"", 1);
	ck_assert(total(page, "ttftshim_requests_total", "path=\"/v1/new\"") == 1);
	ck_assert(total(page, "ttftshim_requests_in_flight", NULL) == 1);
	ck_assert(total(page, "ttftshim_log_replacements_total", NULL) == 1);
	ck_assert(total(page, "ttftshim_log_up", NULL) == 1);
	ck_assert_msg(isnan(total(page, "ttftshim_requests_total", "outcome=\"incomplete\"")),
		      "%s", page);
	free(page);
	/* the stream ends in the old file */
	const struct sev ended[] = {{TTFT_EV_RESP_END, t + 700000, 0, NULL}};
	put_sevs(&old, 1, ended, 1);
	page = until_total(addr, "ttftshim_requests_total", "outcome=\"ok\"", 2);
	ck_assert(total(page, "ttftshim_requests_total", "path=\"/v1/old\",split_source=\"none\","
			"status=\"200\",outcome=\"ok\"") == 1);
	ck_assert(total(page, "ttftshim_requests_total", NULL) == 2);
	ck_assert(total(page, "ttftshim_requests_in_flight", NULL) == 0);
	ck_assert(total(page, "ttftshim_log_replacements_total", NULL) == 1);
	ck_assert(total(page, "ttftshim_records_total", NULL) == 3 + 4 + 1);
	free(page);
	char line[512];
	ck_assert_int_eq(tu_wait_line(out, "done with the replaced log", line, sizeof line, 20, pid),
			 0);
	ck_assert_msg(strstr(line, "(nothing of it in flight any more): 1 of its requests ended "
			     "after the switch, 0 counted incomplete"), "%s", line);
	char *said = tu_read_file(out, NULL);
	ck_assert_uint_eq(count_of(said, " was replaced by a new file"), 1);
	ck_assert_msg(strstr(said, "and the old one on while its 1 request in flight may end "
			     "(30 s without a record at most)\n"), "%s", said);
	ck_assert_uint_eq(count_of(said, "done with the replaced log"), 1);
	free(said);
	tu_stop(pid);
	ttft_log_close(&old);
	ttft_log_close(&cur);
	unlink(log);
	unlink(out);
}
END_TEST

/* A log emptied under its writers (`: > log`: ttftshim_log_up 0, said),
 * then whole again, the same log (a copy taken before put back in place:
 * `cp saved log`), its writer writing on into it: the exporter is up
 * again, says the refill on stderr and counts it
 * (ttftshim_log_refills_total), and the request written after it is
 * counted once, none before it again. Before, it stayed down for good
 * (ttftshim_log_up 0 whatever it read). */
START_TEST(a_log_emptied_and_refilled_is_up_again)
{
	char log[256], saved[300], out[256], addr[64], cmd[700], line[512];
	tu_tmp_log(log, sizeof log, "exporter-refilled");
	snprintf(saved, sizeof saved, "%s.saved", log);
	struct ttft_log lg;
	const char *why;
	ck_assert_int_eq(ttft_log_open(&lg, log, 1 << 20, &why), 0);
	int64_t t = 1000000000LL;
	const struct sev before[] = {
		{TTFT_EV_REQ_BEGIN, t, 0, "POST /v1/before"}, {TTFT_EV_RESP_HEADERS, t + 10, 200, NULL},
		{TTFT_EV_SSE_TOKEN, t + 500000, 0, NULL}, {TTFT_EV_RESP_END, t + 600000, 0, NULL},
	};
	put_sevs(&lg, ttft_log_new_conn(&lg), before, 4);
	pid_t pid;
	start_exporter(log, "", out, &pid, addr, sizeof addr);
	free(until_total(addr, "ttftshim_requests_total", "outcome=\"ok\"", 1));
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", log, saved);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(truncate(log, 0), 0);
	ck_assert_int_eq(tu_wait_line(out, "was cut shorter", line, sizeof line, 20, pid), 0);
	free(until_total(addr, "ttftshim_log_up", NULL, 0));
	snprintf(cmd, sizeof cmd, "cp '%s' '%s'", saved, log); /* in place: the same inode */
	ck_assert_int_eq(system(cmd), 0);
	unlink(saved);
	const struct sev after[] = {
		{TTFT_EV_REQ_BEGIN, 2 * t, 0, "POST /v1/after"},
		{TTFT_EV_RESP_HEADERS, 2 * t + 10, 200, NULL},
		{TTFT_EV_SSE_TOKEN, 2 * t + 500000, 0, NULL},
		{TTFT_EV_RESP_END, 2 * t + 600000, 0, NULL},
	};
	put_sevs(&lg, ttft_log_new_conn(&lg), after, 4);
	char *page = until_total(addr, "ttftshim_requests_total", "outcome=\"ok\"", 2);
	ck_assert(total(page, "ttftshim_requests_total", "path=\"/v1/after\"") == 1);
	ck_assert(total(page, "ttftshim_requests_total", "path=\"/v1/before\"") == 1);
	ck_assert_msg(total(page, "ttftshim_log_up", NULL) == 1,
		      "the log whole again, the exporter still down: ttftshim_log_up %g",
		      total(page, "ttftshim_log_up", NULL));
	ck_assert_msg(total(page, "ttftshim_log_refills_total", NULL) == 1,
		      "ttftshim_log_refills_total %g, not 1",
		      total(page, "ttftshim_log_refills_total", NULL));
	ck_assert(total(page, "ttftshim_log_replacements_total", NULL) == 0);
	ck_assert(total(page, "ttftshim_records_total", NULL) == 8);
	free(page);
	ck_assert_int_eq(tu_wait_line(out, "holds all its records again", line, sizeof line, 20,
				      pid), 0);
	ck_assert_msg(strstr(line, "reading it on from where it was; slots it no longer holds "
			     "are counted unreadable"), "%s", line);
	char *said = tu_read_file(out, NULL);
	ck_assert_uint_eq(count_of(said, "holds all its records again"), 1);
	ck_assert_uint_eq(count_of(said, "reading the log "), 1); /* up again, said */
	free(said);
	tu_stop(pid);
	ttft_log_close(&lg);
	unlink(log);
	unlink(out);
}
END_TEST

/* --replaced-wait S: a replaced log that nothing writes to any more is
 * let go S seconds after the switch (30 by default, which could not be
 * changed), its request still open counted incomplete; both lines on
 * stderr say S. */
START_TEST(replaced_wait_sets_how_long_an_old_log_is_read_on)
{
	char log[256], out[256], addr[64];
	tu_tmp_log(log, sizeof log, "exporter-replaced-wait");
	struct ttft_log old, cur;
	const char *why;
	ck_assert_int_eq(ttft_log_open(&old, log, 1 << 20, &why), 0);
	int64_t t = 1000000000LL;
	const struct sev begun[] = {
		{TTFT_EV_REQ_BEGIN, t, 0, "POST /v1/old"}, {TTFT_EV_RESP_HEADERS, t + 10, 200, NULL},
		{TTFT_EV_SSE_TOKEN, t + 500000, 0, NULL},
	};
	put_sevs(&old, ttft_log_new_conn(&old), begun, 3);
	pid_t pid;
	start_exporter(log, "--replaced-wait 1.5", out, &pid, addr, sizeof addr);
	free(until_total(addr, "ttftshim_requests_in_flight", NULL, 1));
	ck_assert_int_eq(unlink(log), 0);
	ck_assert_int_eq(ttft_log_open(&cur, log, 1 << 20, &why), 0);
	char line[512];
	ck_assert_int_eq(tu_wait_line(out, "done with the replaced log", line, sizeof line, 20, pid),
			 0);
	ck_assert_msg(strstr(line, "(no record for 1.5 s: nothing left to end them): 0 of its "
			     "requests ended after the switch, 1 counted incomplete"), "%s", line);
	char *said = tu_read_file(out, NULL);
	ck_assert_uint_eq(count_of(said, " was replaced by a new file"), 1);
	ck_assert_msg(strstr(said, "and the old one on while its 1 request in flight may end "
			     "(1.5 s without a record at most)\n"), "%s", said);
	free(said);
	char *page = until_total(addr, "ttftshim_requests_total", "outcome=\"incomplete\"", 1);
	ck_assert(total(page, "ttftshim_requests_total", "path=\"/v1/old\"") == 1);
	ck_assert(total(page, "ttftshim_requests_total", NULL) == 1);
	ck_assert(total(page, "ttftshim_requests_in_flight", NULL) == 0);
	ck_assert(total(page, "ttftshim_log_replacements_total", NULL) == 1);
	free(page);
	tu_stop(pid);
	ttft_log_close(&old);
	ttft_log_close(&cur);
	unlink(log);
	unlink(out);
}
END_TEST

static int connect_to(const char *addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(strchr(addr, ':') + 1))};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	return fd;
}

static void expect(const char *req, size_t len, const char *status)
{
	size_t n;
	char *r = tu_http(g_addr, req, len, &n);
	ck_assert_ptr_nonnull(r);
	ck_assert_msg(!strncmp(r, status, strlen(status)), "sent %.40s: got %.80s", req, r);
	free(r);
}

START_TEST(http_server_is_robust)
{
	/* more idle clients than slots, and one that sent half a request */
	int idle[(TTFT_HTTPD_CONNS + 4)];
	for (int i = 0; i < (TTFT_HTTPD_CONNS + 4); i++)
		idle[i] = connect_to(g_addr);
	int half = connect_to(g_addr);
	ck_assert_int_eq(send(half, "GET /metr", 9, 0), 9);
	char *page = get(g_addr, "");
	ck_assert_msg(!strncmp(page, "HTTP/1.1 200 OK\r\n", 17), "%.200s", page);
	ck_assert_ptr_nonnull(strstr(page, "Content-Type: text/plain; version=0.0.4"));
	ck_assert_ptr_nonnull(strstr(page, "\nttftshim_requests_in_flight "));
	free(page);
	/* what a scraper asking for OpenMetrics gets */
	page = get(g_addr, "Accept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n");
	ck_assert_ptr_nonnull(strstr(page, "Content-Type: application/openmetrics-text"));
	ck_assert_str_eq(page + strlen(page) - 6, "# EOF\n");
	free(page);
	/* the answer's length is what it says */
	page = get(g_addr, "");
	const char *cl = strstr(page, "Content-Length: ");
	ck_assert_ptr_nonnull(cl);
	ck_assert_uint_eq(strtoul(cl + 16, NULL, 10), strlen(strstr(page, "\r\n\r\n") + 4));
	free(page);
	static const char head[] = "HEAD /metrics HTTP/1.1\r\n\r\n";
	size_t n;
	char *r = tu_http(g_addr, head, sizeof head - 1, &n);
	ck_assert(!strncmp(r, "HTTP/1.1 200 OK", 15));
	ck_assert_uint_eq(n, (size_t)(strstr(r, "\r\n\r\n") + 4 - r)); /* no body */
	free(r);
	static const char notfound[] = "GET /metricsx HTTP/1.1\r\n\r\n";
	expect(notfound, sizeof notfound - 1, "HTTP/1.1 404 ");
	static const char post[] = "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
	expect(post, sizeof post - 1, "HTTP/1.1 405 ");
	static const char tls[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage";
	expect(tls, sizeof tls - 1, "HTTP/1.1 400 ");
	static const char v09[] = "GET /metrics\r\n\r\n";
	expect(v09, sizeof v09 - 1, "HTTP/1.1 400 ");
	/* a head that fills the server's buffer: exactly its size, so that
	 * nothing is left unread when it closes */
	char big[TTFT_HTTPD_REQ_MAX];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	expect(big, sizeof big - 1, "HTTP/1.1 431 ");
	/* a query string is not part of the path */
	static const char q[] = "GET /metrics?x=1 HTTP/1.0\r\n\r\n";
	expect(q, sizeof q - 1, "HTTP/1.1 200 ");
	for (int i = 0; i < (TTFT_HTTPD_CONNS + 4); i++)
		close(idle[i]);
	close(half);
}
END_TEST

/* A NUL byte is in no request: a 400 at once, not a slot held until the
 * deadline with no answer (the server's C strings stopped at it, a review
 * found). Empty lines before the request line are ignored, as RFC 9112
 * (2.2) asks of a server (they had a 400). */
START_TEST(nul_bytes_and_leading_empty_lines)
{
	static const char nul[] = "GET /met\0rics HTTP/1.1\r\n\r\n";
	expect(nul, sizeof nul - 1, "HTTP/1.1 400 ");
	static const char nulhdr[] = "GET /metrics HTTP/1.1\r\nX: a\0\r\n\r\n";
	expect(nulhdr, sizeof nulhdr - 1, "HTTP/1.1 400 ");
	static const char crlf[] = "\r\nGET /metrics HTTP/1.1\r\n\r\n";
	expect(crlf, sizeof crlf - 1, "HTTP/1.1 200 ");
	static const char lines[] = "\n\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n";
	expect(lines, sizeof lines - 1, "HTTP/1.1 200 ");
	/* an empty line sent alone, the request after it */
	int fd = connect_to(g_addr);
	ck_assert_int_eq(send(fd, "\r", 1, 0), 1);
	ck_assert_int_eq(send(fd, "\n", 1, 0), 1);
	static const char get_[] = "GET /metrics HTTP/1.1\r\n\r\n";
	ck_assert_int_eq(send(fd, get_, sizeof get_ - 1, 0), (ssize_t)(sizeof get_ - 1));
	char buf[64];
	size_t n = 0;
	ssize_t r;
	while (n < 12 && (r = recv(fd, buf + n, sizeof buf - n, 0)) > 0)
		n += (size_t)r;
	ck_assert_msg(n >= 12 && !memcmp(buf, "HTTP/1.1 200", 12), "%.*s", (int)n, buf);
	close(fd);
	/* a line with something in it is no empty line */
	static const char blank[] = " \r\nGET /metrics HTTP/1.1\r\n\r\n";
	expect(blank, sizeof blank - 1, "HTTP/1.1 400 ");
}
END_TEST

/* The format follows the Accept headers as a scraper means them: media
 * ranges with parameters and q weights, types in any case, OpenMetrics
 * only when it is acceptable (q=0 refuses it) and wanted at least as much
 * as the text format. A substring match sent OpenMetrics to a q=0 and
 * text to "Application/OpenMetrics-Text" (a review). */
START_TEST(accept_is_negotiated)
{
	static const struct {
		const char *accept;
		int om;
	} cases[] = {
		/* what Prometheus 2.x/3.x sends */
		{"Accept: application/openmetrics-text;version=1.0.0,"
		 "application/openmetrics-text;version=0.0.1;q=0.75,"
		 "text/plain;version=0.0.4;q=0.5,*/*;q=0.1\r\n", 1},
		{"Accept: application/openmetrics-text\r\n", 1},
		{"Accept: Application/OpenMetrics-Text; Version=\"1.0.0\"\r\n", 1},
		{"Accept: text/plain;q=0.3, APPLICATION/OPENMETRICS-TEXT;q=0.4\r\n", 1},
		/* as much as text: OpenMetrics */
		{"Accept: text/plain, application/openmetrics-text\r\n", 1},
		/* two Accept lines are one list */
		{"Accept: text/plain;q=0.2\r\nAccept: application/openmetrics-text\r\n", 1},
		/* refused */
		{"Accept: application/openmetrics-text;q=0\r\n", 0},
		{"Accept: application/openmetrics-text; q=0.000, */*\r\n", 0},
		{"Accept: text/plain, application/openmetrics-text;Q=0\r\n", 0},
		/* the version we send refused, whatever the unversioned range says */
		{"Accept: application/openmetrics-text;version=1.0.0;q=0,"
		 "application/openmetrics-text\r\n", 0},
		/* text wanted more */
		{"Accept: application/openmetrics-text;q=0.5,text/plain;version=0.0.4\r\n", 0},
		{"Accept: text/plain;q=0.9, application/openmetrics-text;q=0.8\r\n", 0},
		/* a version we do not write, a type that only contains the name */
		{"Accept: application/openmetrics-text;version=2.0.0\r\n", 0},
		{"Accept: application/openmetrics-textual\r\n", 0},
		{"Accept: text/html;x=\"application/openmetrics-text\"\r\n", 0},
		/* wildcards name neither; nothing: text */
		{"Accept: */*\r\n", 0},
		{"", 0},
		/* a q that cannot be read is no weight */
		{"Accept: application/openmetrics-text;q=high\r\n", 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *page = get(g_addr, cases[i].accept);
		const char *want = cases[i].om ? "Content-Type: application/openmetrics-text"
					       : "Content-Type: text/plain; version=0.0.4";
		ck_assert_msg(!strncmp(page, "HTTP/1.1 200 ", 13) && strstr(page, want),
			      "'%s': want '%s', got %.160s", cases[i].accept, want, page);
		free(page);
	}
}
END_TEST

/* A request target in absolute form, which RFC 9112 (3.2.2) says a
 * server MUST accept: its path decides, the scheme's case and the
 * authority do not. */
START_TEST(absolute_form_targets_are_served)
{
	char req[256];
	snprintf(req, sizeof req, "GET http://%s/metrics HTTP/1.1\r\nHost: %s\r\n\r\n",
		 g_addr, g_addr);
	expect(req, strlen(req), "HTTP/1.1 200 ");
	static const char upper[] = "GET HTTP://exporter:9464/metrics?x=1 HTTP/1.1\r\n\r\n";
	expect(upper, sizeof upper - 1, "HTTP/1.1 200 ");
	static const char other[] = "GET http://exporter:9464/metricsx HTTP/1.1\r\n\r\n";
	expect(other, sizeof other - 1, "HTTP/1.1 404 ");
	static const char nopath[] = "GET http://exporter:9464 HTTP/1.1\r\n\r\n";
	expect(nopath, sizeof nopath - 1, "HTTP/1.1 404 ");
}
END_TEST

/* A head over the server's buffer, from a client still sending: it gets
 * the 431. Had the server closed with the rest of the head unread, the
 * kernel would have reset the connection: the client's next send fails
 * (ECONNRESET: curl and Python's http.client give up there, before they
 * read), and a reset can destroy an answer not yet read. */
START_TEST(a_431_reaches_a_client_still_sending)
{
	static char big[TTFT_HTTPD_REQ_MAX + 4096];
	memset(big, 'a', sizeof big);
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	int fd = connect_to(g_addr);
	struct timeval tv = {30, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	for (size_t off = 0; off < sizeof big;) {
		ssize_t w = send(fd, big + off, sizeof big - off, MSG_NOSIGNAL);
		ck_assert_msg(w > 0, "the head's send at %zu: %s", off, strerror(errno));
		off += (size_t)w;
	}
	/* the server has answered and ended its side of the connection */
	struct pollfd p = {fd, POLLRDHUP, 0};
	ck_assert_int_eq(poll(&p, 1, 30000), 1);
	/* then a bit more, as a client still writing its headers would */
	ck_assert_msg(send(fd, big + 26, 1024, MSG_NOSIGNAL) == 1024,
		      "the server reset the connection: %s", strerror(errno));
	char got[256];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof got - 1 && (r = recv(fd, got + n, sizeof got - 1 - n, 0)) > 0)
		n += (size_t)r;
	got[n] = 0;
	ck_assert_msg(!strncmp(got, "HTTP/1.1 431 ", 13), "got %zu bytes: %.80s", n, got);
	close(fd);
}
END_TEST

/* Everything a connection is sent until the server ends its side (30 s
 * at most): its length, the start NUL-cut in buf. */
static size_t read_to_end(int fd, char *buf, size_t cap)
{
	struct timeval tv = {30, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	size_t n = 0;
	char tmp[65536];
	ssize_t r;
	while ((r = recv(fd, tmp, sizeof tmp, 0)) > 0) {
		size_t k = n < cap - 1 ? cap - 1 - n : 0;
		memcpy(buf + n, tmp, (size_t)r < k ? (size_t)r : k);
		n += (size_t)r < k ? (size_t)r : k;
	}
	buf[n] = 0;
	return n;
}

/* Clients that had their answers and keep their connections open (the
 * server waits for them to close) go first when all slots are taken:
 * they cannot push out a scraper still sending its request. */
START_TEST(answered_clients_go_before_a_scraper)
{
	int half = connect_to(g_addr);
	ck_assert_int_eq(send(half, "GET /metr", 9, 0), 9);
	static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
	int done[TTFT_HTTPD_CONNS];
	char got[256];
	for (int i = 0; i < TTFT_HTTPD_CONNS; i++) {
		done[i] = connect_to(g_addr);
		ck_assert_int_eq(send(done[i], req, sizeof req - 1, 0), (ssize_t)sizeof req - 1);
		read_to_end(done[i], got, sizeof got);
		ck_assert_msg(!strncmp(got, "HTTP/1.1 200 ", 13), "client %d got %.80s", i, got);
	}
	ck_assert_int_eq(send(half, "ics HTTP/1.1\r\n\r\n", 16, MSG_NOSIGNAL), 16);
	read_to_end(half, got, sizeof got);
	ck_assert_msg(!strncmp(got, "HTTP/1.1 200 ", 13), "the scraper got %.80s", got);
	for (int i = 0; i < TTFT_HTTPD_CONNS; i++)
		close(done[i]);
	close(half);
}
END_TEST

/* A page of megabytes and a client that asks for it and never reads:
 * another scraper is still answered in full. */
START_TEST(a_client_that_never_reads)
{
	char log[256], out[256], addr[64];
	tu_tmp_log(log, sizeof log, "exporter-big");
	struct ttft_log lg;
	const char *why;
	ck_assert_int_eq(ttft_log_open(&lg, log, 8 << 20, &why), 0);
	int nreq = 1500;
	for (int i = 0; i < nreq; i++) {
		uint64_t c = ttft_log_new_conn(&lg);
		char path[64];
		snprintf(path, sizeof path, "POST /p/%c%c%c", 'a' + i % 26, 'a' + i / 26 % 26,
			 'a' + i / 676);
		int64_t t = 1000000000LL + i * 1000000LL;
		const struct sev ev[] = {
			{TTFT_EV_REQ_BEGIN, t, 0, path}, {TTFT_EV_RESP_HEADERS, t + 10, 200, NULL},
			{TTFT_EV_SSE_TOKEN, t + 500000, 0, NULL}, {TTFT_EV_RESP_END, t + 600000, 0, NULL},
		};
		put_sevs(&lg, c, ev, sizeof ev / sizeof ev[0]);
	}
	ttft_log_close(&lg);
	pid_t pid;
	start_exporter(log, "--max-series 5000", out, &pid, addr, sizeof addr);
	char *page = until_requests(addr, nreq);
	size_t full = strlen(page);
	ck_assert_uint_gt(full, 8u << 20);
	free(page);
	int slow = connect_to(addr);
	static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
	ck_assert_int_eq(send(slow, req, sizeof req - 1, 0), (ssize_t)sizeof req - 1);
	page = get(addr, "");
	ck_assert_uint_eq(strlen(page), full);
	ck_assert_str_eq(page + full - 30, "ttftshim_requests_in_flight 0\n");
	free(page);
	close(slow);
	tu_stop(pid);
	unlink(log);
	unlink(out);
}
END_TEST

/* ttft-run --export with a client making n requests: its pid; where it
 * serves in addr, its output in out. */
static pid_t run_export(int n, char *out, const char *name, char *addr, size_t addrlen)
{
	char cmd[1024];
	tu_tmp_log(out, 256, name);
	snprintf(cmd, sizeof cmd, "%s/ttft-run --quiet --filter port:%d --export 127.0.0.1:0 "
		 "--export-linger 120 -- python3 tests/clients/py_fleet.py %d %d --spec first=5",
		 tu_build_dir(), g_fport, g_fport, n);
	pid_t pid = tu_spawn(cmd, out);
	ck_assert(tu_wait_line(out, "exporting on http://", addr, addrlen, 60, pid) == 0);
	addr[strcspn(addr, "/")] = 0;
	return pid;
}

/* HEAD /metrics answers but hands no page over: only a GET of the final
 * numbers ends the linger (a review found a HEAD ended it). */
START_TEST(a_head_does_not_end_the_linger)
{
	char out[256], addr[64];
	pid_t pid = run_export(1, out, "exporter-head", addr, sizeof addr);
	static const char head[] = "HEAD /metrics HTTP/1.1\r\n\r\n";
	int status = -1;
	for (int i = 0; i < 50; i++) { /* 5 s of HEADs: the command ends meanwhile */
		size_t n;
		char *r = tu_http(addr, head, sizeof head - 1, &n);
		ck_assert_msg(r && strstr(r, "200 OK"), "HEAD: %s", r ? r : "(none)");
		free(r);
		ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0, "a HEAD ended the linger");
		usleep(100000);
	}
	free(until_requests(addr, 1));
	int exited = 0;
	for (int i = 0; i < 900 && !exited; i++) {
		exited = waitpid(pid, &status, WNOHANG) == pid;
		if (!exited) { /* it may be closing its port: no answer is fine */
			size_t n;
			static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
			free(tu_http(addr, req, sizeof req - 1, &n));
			usleep(100000);
		}
	}
	ck_assert(exited && WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(out);
}
END_TEST

/* ttft-run --export: served while the command runs; after it, kept up
 * until a page with the final numbers went out (well before the linger). */
START_TEST(run_export_lingers_for_the_last_scrape)
{
	char out[256], addr[64];
	pid_t pid = run_export(3, out, "exporter-run", addr, sizeof addr);
	/* its three requests, then it leaves once a scrape of them was served */
	char *page = until_requests(addr, 3);
	free(page);
	int status = -1, exited = 0;
	for (int i = 0; i < 900 && !exited; i++) {
		size_t n;
		static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
		free(tu_http(addr, req, sizeof req - 1, &n));
		exited = waitpid(pid, &status, WNOHANG) == pid;
		if (!exited)
			usleep(100000);
	}
	ck_assert_msg(exited, "ttft-run kept serving after its final numbers were scraped");
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	unlink(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("exporter");
	TCase *t = tu_tcase(s, "exporter", 180);
	tcase_add_unchecked_fixture(t, setup, teardown);
	tcase_add_test(t, follows_a_log_written_later);
	tcase_add_test(t, http_server_is_robust);
	tcase_add_test(t, absolute_form_targets_are_served);
	tcase_add_test(t, accept_is_negotiated);
	tcase_add_test(t, nul_bytes_and_leading_empty_lines);
	tcase_add_test(t, a_431_reaches_a_client_still_sending);
	tcase_add_test(t, answered_clients_go_before_a_scraper);
	tcase_add_test(t, a_client_that_never_reads);
	tcase_add_test(t, exemplars_only_from_valid_traceparents);
	tcase_add_test(t, run_export_lingers_for_the_last_scrape);
	tcase_add_test(t, a_head_does_not_end_the_linger);
	tcase_add_test(t, unreadable_counts_survive_a_new_log);
	tcase_add_test(t, failed_connects_are_counted);
	tcase_add_test(t, a_log_it_cannot_read_is_said);
	tcase_add_test(t, a_fifo_at_the_log_path_blocks_nothing);
	tcase_add_test(t, a_replaced_log_is_read_on_until_its_request_ends);
	tcase_add_test(t, a_log_emptied_and_refilled_is_up_again);
	tcase_add_test(t, replaced_wait_sets_how_long_an_old_log_is_read_on);
	return tu_run(s);
}
