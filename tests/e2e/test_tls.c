/* test_tls.c — clients that speak HTTPS, under the shim, against the
 * fixture server behind TLS (a self-signed certificate made here with the
 * openssl command): OpenSSL (curl, python requests, asyncio/aiohttp's
 * memory BIO) and GnuTLS (git) give the same rows as plaintext, with the
 * handshake and the wire's first-token time; TLS the shim cannot open is
 * one row saying so, never garbage; secrets never reach the log; and the
 * TLS wrappers send each call to its caller's own copy of the library.
 * Timing is asserted as order and containment, never as an upper bound. */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_analyze.h"

/* Injected, as in test_clients: headers 20 ms after the request, the first
 * token 60 ms later, then one every 10 ms; 5 tokens. */
#define HDR_MS 20.0
#define FIRST_MS 60.0
#define TOK_MS 10.0
#define NTOK 5
/* The sender's clock and ours are the same CLOCK_MONOTONIC; the fixture
 * stamps its schedule in ns, an event cannot precede it. Slack for the
 * rounding of the injected delays only. */
#define EPS_MS 0.05
#define SECRET "sk-ttft-test-secret"

static char g_dir[128];                /* the certificate, made once */
static char g_cert[192], g_key[192];
static int g_tls_port, g_plain_port;
static pid_t g_tls_srv, g_plain_srv;

static void make_cert(void)
{
	snprintf(g_dir, sizeof g_dir, "%s/tls.XXXXXX", tu_scratch());
	ck_assert_ptr_nonnull(mkdtemp(g_dir));
	snprintf(g_cert, sizeof g_cert, "%s/cert.pem", g_dir);
	snprintf(g_key, sizeof g_key, "%s/key.pem", g_dir);
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd,
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
		 "-nodes -days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 "
		 "-keyout %s -out %s 2>&1", g_key, g_cert);
	int rc = tu_sh(cmd, &out);
	ck_assert_msg(rc == 0, "openssl could not make a certificate (is Debian's "
		      "openssl installed?): %s", out);
	free(out);
}

static void remove_cert(void)
{
	unlink(g_cert);
	unlink(g_key);
	rmdir(g_dir);
}

static void setup(void)
{
	char args[512];
	snprintf(args, sizeof args, "--tls %s %s --headers-ms %g --first-ms %g --token-ms %g",
		 g_cert, g_key, HDR_MS, FIRST_MS, TOK_MS);
	g_tls_port = tu_fixture_start(args, &g_tls_srv);
	snprintf(args, sizeof args, "--headers-ms %g --first-ms %g --token-ms %g", HDR_MS,
		 FIRST_MS, TOK_MS);
	g_plain_port = tu_fixture_start(args, &g_plain_srv);
}

static void teardown(void)
{
	tu_fixture_stop(g_tls_srv);
	tu_fixture_stop(g_plain_srv);
}

/* What a client printed about one request (a tests/clients script). */
struct seen {
	double start_ns, first_ns;
	double handed_ns; /* tls_again: its first write call's return */
	int tokens, tls;
	int again;        /* tls_again: writes that said "again" */
	char client[16];
};

struct run {
	struct ttft_analysis a;
	struct seen seen[16];
	int nseen;
	int secret_in_log;   /* the Authorization value's bytes are in the log */
	int tls_records, tapped, gnutls; /* TLS records: all, tapped, by GnuTLS */
};

/* Walk the raw log: what the analysis does not keep. */
static void scan_log(const char *log, struct run *r)
{
	size_t len = 0;
	char *bytes = tu_read_file(log, &len);
	for (size_t i = 0; bytes && i + strlen(SECRET) <= len; i++)
		if (memcmp(bytes + i, SECRET, strlen(SECRET)) == 0)
			r->secret_in_log = 1;
	free(bytes);
	struct ttft_log_view v;
	char err[256];
	ck_assert_msg(ttft_log_view_open(&v, log, err, sizeof err) == 0, "%s", err);
	for (uint64_t i = 0; i < v.n_slots; i++) {
		struct ttft_rec rec;
		if (!ttft_log_view_get(&v, i, &rec) || rec.kind != TTFT_EV_TLS)
			continue;
		r->tls_records++;
		r->tapped += rec.a == 1;
		r->gnutls += strncmp(rec.text, "gnutls", TTFT_REC_TEXT) == 0;
	}
	ttft_log_view_close(&v);
}

/* Run CMD under ttft-run, keep the log, analyse it; collect the JSON lines
 * the client printed. */
static void run_client(const char *cmd, struct run *r, int want_rc)
{
	memset(r, 0, sizeof *r);
	char log[256], line[4096], *out;
	tu_tmp_log(log, sizeof log, "tls");
	snprintf(line, sizeof line, "%s/ttft-run --quiet --log %s -- sh -c '%s'",
		 tu_build_dir(), log, cmd);
	int rc = tu_sh(line, &out);
	ck_assert_msg(rc == want_rc, "client exited %d, not %d: %s\n%s", rc, want_rc,
		      cmd, out);
	char *save = NULL;
	for (char *p = strtok_r(out, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		cJSON *o = cJSON_Parse(p);
		if (!o || r->nseen == 16) {
			cJSON_Delete(o);
			continue;
		}
		struct seen *s = &r->seen[r->nseen++];
		s->start_ns = cJSON_GetObjectItem(o, "start_ns")->valuedouble;
		cJSON *f = cJSON_GetObjectItem(o, "first_ns");
		s->first_ns = cJSON_IsNumber(f) ? f->valuedouble : NAN;
		s->tokens = cJSON_GetObjectItem(o, "tokens")->valueint;
		s->tls = !cJSON_IsFalse(cJSON_GetObjectItem(o, "tls"));
		cJSON *h = cJSON_GetObjectItem(o, "handed_ns");
		s->handed_ns = cJSON_IsNumber(h) ? h->valuedouble : NAN;
		s->again = cJSON_GetObjectItem(o, "again") ?
			cJSON_GetObjectItem(o, "again")->valueint : 0;
		cJSON *c = cJSON_GetObjectItem(o, "client");
		snprintf(s->client, sizeof s->client, "%s", cJSON_IsString(c) ? c->valuestring : "");
		cJSON_Delete(o);
	}
	free(out);
	char err[512];
	/* every token's time kept: each is checked in order */
	ck_assert_msg(ttft_analyze_file_opt(log, NULL, TTFT_ANALYZE_ALL_TOKENS, &r->a, err,
					    sizeof err) == 0, "%s", err);
	scan_log(log, r);
	unlink(log);
}

static void done(struct run *r)
{
	ttft_analysis_free(&r->a);
}

static double ms(int64_t a, int64_t b)
{
	return (double)(b - a) / 1e6;
}

/* One streamed request: every instant in causal order, nothing earlier
 * than the server's schedule allows, counts exact, TLS fields present where
 * they belong. */
static void check_req(const struct ttft_record *q, int tls, int new_conn)
{
	struct ttft_phases p;
	ttft_record_phases(q, &p);
	ck_assert_int_eq(q->status, 200);
	ck_assert_int_eq((int)q->ntok, NTOK);
	ck_assert_int_eq(q->tls, tls);
	ck_assert_int_eq(q->encrypted, 0);
	ck_assert_int_eq(q->new_conn, new_conn);
	ck_assert_msg(q->t_end && q->done, "conn %llu seq %u incomplete",
		      (unsigned long long)q->conn, q->seq);
	if (new_conn) {
		ck_assert(q->t_conn0 <= q->t_est && q->t_est <= q->t_req0);
		/* from connect, unless a plain connection sat idle past 10 ms
		 * before its request (pre-opened: a busy machine can hold the
		 * client up there; never so on TLS, whose handshake fills it) */
		int pre = !tls && q->t_req0 - q->t_est > TTFT_PREOPEN_IDLE_NS;
		ck_assert_int_eq(q->preopened, pre);
		ck_assert_int_eq(q->t_start, pre ? q->t_req0 : q->t_conn0);
	} else {
		ck_assert_int_eq(q->t_start, q->t_req0);
	}
	ck_assert(q->t_req0 <= q->t_req1 && q->t_req1 <= q->t_hdr && q->t_hdr <= q->t_first);
	for (int k = 1; k < NTOK; k++)
		ck_assert(ttft_record_token_at(q, k - 1) <= ttft_record_token_at(q, k));
	ck_assert(ttft_record_token_at(q, NTOK - 1) <= q->t_end);
	/* the server's clock starts when the request's last byte is in: after
	 * the client began sending it (t_req0). Not after t_req1, the return
	 * of the client's last send: a busy machine may run the server's read
	 * before that call returns. */
	ck_assert_msg(ms(q->t_req0, q->t_hdr) >= HDR_MS - EPS_MS, "headers %.3f ms",
		      ms(q->t_req0, q->t_hdr));
	ck_assert_msg(ms(q->t_req0, q->t_first) >= HDR_MS + FIRST_MS - EPS_MS,
		      "first token %.3f ms after the request, injected %.1f",
		      ms(q->t_req0, q->t_first), HDR_MS + FIRST_MS);
	ck_assert(ms(q->t_req0, ttft_record_token_at(q, NTOK - 1)) >=
		  HDR_MS + FIRST_MS + (NTOK - 1) * TOK_MS - EPS_MS);
	ck_assert(fabs(p.ttft_s - (double)(q->t_first - q->t_start) / 1e9) < 1e-9);
	if (!tls) {
		ck_assert(isnan(p.tls_s) && isnan(p.wire_ttft_s));
		return;
	}
	/* the handshake sits between the TCP connect and the first request
	 * byte; a reused connection has none */
	ck_assert_int_eq(!isnan(p.tls_s), new_conn);
	if (new_conn)
		ck_assert(p.tls_s > 0 && fabs(p.tls_s - ms(q->t_est, q->t_req0) / 1e3) < 1e-9);
	/* the first token's ciphertext came off the socket never before the
	 * server sent it, and before the TLS library handed the token over.
	 * (Not always after the headers were read: a client held up by a busy
	 * machine gets the headers' and the token's ciphertext in one socket
	 * read, and the TLS reads that decrypt them come after it.) */
	ck_assert_msg(q->t_wire_first, "no wire time for conn %llu seq %u",
		      (unsigned long long)q->conn, q->seq);
	ck_assert(q->t_req1 <= q->t_wire_first && q->t_wire_first <= q->t_first);
	ck_assert(ms(q->t_req0, q->t_wire_first) >= HDR_MS + FIRST_MS - EPS_MS);
	ck_assert(p.wire_ttft_s <= p.ttft_s);
}

/* The client's own clock contains the shim's: it began before the shim
 * saw the request start and saw its first token after the TLS read that
 * returned it. */
static void check_client(const struct ttft_record *q, const struct seen *s)
{
	ck_assert_int_eq(s->tokens, (int)q->ntok);
	ck_assert_msg(s->start_ns <= (double)q->t_start, "client start after the shim's");
	ck_assert_msg(s->first_ns >= (double)q->t_first,
		      "client saw its first token %.3f ms before the shim's TLS read "
		      "returned it", ((double)q->t_first - s->first_ns) / 1e6);
}

START_TEST(curl_keepalive_and_new)
{
	char cmd[2048];
	const char *req = "-sfN --cacert %s -H \"Authorization: Bearer " SECRET "\" "
			  "-H \"api-key: " SECRET "\" "
			  "https://127.0.0.1:%d/v1/completions -d @tests/clients/completion.json";
	char one[512];
	snprintf(one, sizeof one, req, g_cert, g_tls_port);
	snprintf(cmd, sizeof cmd, "curl --http1.1 %s --next %s >/dev/null && "
		 "curl --http1.1 %s >/dev/null", one, one, one);
	struct run r;
	run_client(cmd, &r, 0);
	ck_assert_uint_eq(r.a.nreqs, 3);
	check_req(&r.a.reqs[0], 1, 1);
	check_req(&r.a.reqs[1], 1, 0); /* --next reuses the connection */
	check_req(&r.a.reqs[2], 1, 1);
	ck_assert_uint_eq(r.a.reqs[0].conn, r.a.reqs[1].conn);
	ck_assert_int_eq(r.tls_records, 2);
	ck_assert_int_eq(r.tapped, 2);
	ck_assert_msg(!r.secret_in_log, "the Authorization or api-key header reached the log");
	ck_assert_uint_eq(r.a.nnotes, 0);
	done(&r);
}
END_TEST

START_TEST(python_requests)
{
	static const char *const modes[] = {"keepalive", "new"};
	for (int m = 0; m < 2; m++) {
		char cmd[1024];
		struct run r;
		snprintf(cmd, sizeof cmd, "python3 tests/clients/py_requests_tls.py %d 3 %s %s",
			 g_tls_port, modes[m], g_cert);
		run_client(cmd, &r, 0);
		fprintf(stderr, "test_tls: python client: %s\n", r.seen[0].client);
		ck_assert_uint_eq(r.a.nreqs, 3);
		ck_assert_int_eq(r.nseen, 3);
		for (int i = 0; i < 3; i++) {
			check_req(&r.a.reqs[i], 1, m == 1 || i == 0);
			check_client(&r.a.reqs[i], &r.seen[i]);
		}
		ck_assert_int_eq(r.tapped, m == 1 ? 3 : 1);
		ck_assert_msg(!r.secret_in_log, "the Authorization header reached the log");
		done(&r);
	}
}
END_TEST

/* The interpreter that has aiohttp, if any does; else python3 (the client
 * then uses asyncio's own SSL transport: the same memory BIO). */
static const char *async_python(void)
{
	static const char *const cands[] = {"python3", "/usr/bin/python3"};
	for (size_t i = 0; i < 2; i++) {
		char cmd[256];
		snprintf(cmd, sizeof cmd, "%s -c \"import aiohttp\" 2>/dev/null", cands[i]);
		if (tu_sh(cmd, NULL) == 0)
			return cands[i];
	}
	return "python3";
}

START_TEST(asyncio_tls_and_plain_at_once)
{
	/* One event loop, one thread: 3 requests on a TLS connection and 3 on a
	 * plaintext one, interleaved. Neither may leak into the other. */
	char cmd[1024];
	struct run r;
	snprintf(cmd, sizeof cmd, "%s tests/clients/py_aiohttp_tls.py %d %d 3 %s",
		 async_python(), g_tls_port, g_plain_port, g_cert);
	run_client(cmd, &r, 0);
	fprintf(stderr, "test_tls: async client: %s\n", r.seen[0].client);
	ck_assert_uint_eq(r.a.nreqs, 6);
	ck_assert_int_eq(r.nseen, 6);
	ck_assert_uint_eq(r.a.nnotes, 0);
	ck_assert_int_eq(r.tls_records, 1);
	ck_assert_int_eq(r.tapped, 1);
	/* rows in start order; the client's lines: TLS ones first */
	int seen_i[2] = {0, 3};
	uint64_t conn[2] = {0, 0};
	for (size_t i = 0; i < r.a.nreqs; i++) {
		const struct ttft_record *q = &r.a.reqs[i];
		int tls = q->tls;
		if (!conn[tls])
			conn[tls] = q->conn;
		ck_assert_uint_eq(q->conn, conn[tls]); /* one connection each */
		check_req(q, tls, seen_i[!tls] == (tls ? 0 : 3));
		ck_assert_int_eq(r.seen[seen_i[!tls]].tls, tls);
		check_client(q, &r.seen[seen_i[!tls]++]);
	}
	ck_assert_int_eq(seen_i[0], 3);
	ck_assert_int_eq(seen_i[1], 6);
	done(&r);
}
END_TEST

START_TEST(gnutls_git)
{
	/* git's HTTPS goes through libcurl-gnutls: one GET, answered 404 */
	char cmd[1024];
	struct run r;
	snprintf(cmd, sizeof cmd, "GIT_SSL_CAINFO=%s GIT_TERMINAL_PROMPT=0 git ls-remote "
		 "https://127.0.0.1:%d/model.git >/dev/null 2>&1", g_cert, g_tls_port);
	run_client(cmd, &r, 128);
	ck_assert_msg(r.gnutls == 1, "git's TLS was not GnuTLS (%d TLS records, %d of "
		      "them GnuTLS): on Debian git-remote-https links libcurl-gnutls",
		      r.tls_records, r.gnutls);
	ck_assert_int_eq(r.tapped, 1);
	ck_assert_uint_eq(r.a.nreqs, 1);
	const struct ttft_record *q = &r.a.reqs[0];
	ck_assert_str_eq(q->method, "GET");
	ck_assert_str_eq(q->path, "/model.git/info/refs?service=git-upload-pack");
	ck_assert_int_eq(q->status, 404);
	ck_assert(q->tls && q->new_conn && q->t_end);
	ck_assert(q->t_est <= q->t_req0 && q->t_req1 <= q->t_hdr && q->t_hdr <= q->t_end);
	done(&r);
}
END_TEST

/* One row per connection whose TLS no tapped library spoke, with its
 * connect time, and nothing else from its bytes. */
static void check_dark(struct run *r)
{
	ck_assert_uint_eq(r->a.nreqs, 1);
	ck_assert_uint_eq(r->a.nencrypted, 1);
	ck_assert_uint_eq(r->a.nnotes, 0); /* no "not HTTP" desync */
	ck_assert_int_eq(r->tls_records, 1);
	ck_assert_int_eq(r->tapped, 0);
	const struct ttft_record *q = &r->a.reqs[0];
	struct ttft_phases p;
	ttft_record_phases(q, &p);
	ck_assert(q->tls && q->encrypted && q->new_conn);
	ck_assert_int_eq(q->status, 0);
	ck_assert_int_eq((int)q->ntok, 0);
	ck_assert(!isnan(p.connect_s));
	ck_assert(isnan(p.ttft_s) && isnan(p.e2e_s) && isnan(p.tls_s) && isnan(p.send_s));
	struct ttft_json jw;
	ck_assert_int_eq(ttft_json_init(&jw, NULL, 0), 0);
	ttft_analysis_json(&jw, &r->a);
	char *js = ttft_json_take(&jw);
	ck_assert_ptr_nonnull(js);
	cJSON *j = cJSON_Parse(js);
	cJSON *row = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "requests"), 0);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(row, "encrypted")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "tokens")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(row, "status")));
	ck_assert_str_eq(cJSON_GetObjectItem(row, "note")->valuestring, "encrypted: not visible");
	cJSON *sum = cJSON_GetObjectItem(j, "summary");
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "count")->valueint, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(sum, "encrypted_connections")->valueint, 1);
	cJSON_Delete(j);
	free(js);
}

START_TEST(tls_the_shim_cannot_open)
{
	/* A TLS client in no tapped library: a ClientHello (random bytes
	 * where the random goes) written straight to the socket. */
	char cmd[1024];
	struct run r;
	snprintf(cmd, sizeof cmd,
		 "python3 -c \"import os, socket; s = socket.create_connection((\\\"127.0.0.1\\\", %d)); "
		 "s.sendall(bytes([22, 3, 1, 0, 200, 1, 0, 0, 196, 3, 3]) + os.urandom(194)); "
		 "s.recv(4096); s.close()\"", g_tls_port);
	run_client(cmd, &r, 0);
	check_dark(&r);
	done(&r);
	/* Node: where its OpenSSL is built in (the binaries from nodejs.org),
	 * encrypted, not visible; where Debian links it to libssl3, tapped */
	char *shared = NULL;
	ck_assert_int_eq(tu_sh("node -p process.config.variables.node_shared_openssl", &shared), 0);
	int tapped = strncmp(shared, "true", 4) == 0;
	fprintf(stderr, "test_tls: node's OpenSSL is %s\n", tapped ? "shared" : "built in");
	free(shared);
	snprintf(cmd, sizeof cmd, "NODE_EXTRA_CA_CERTS=%s node tests/clients/node_fetch.mjs "
		 "%d 1 \"\" https >/dev/null", g_cert, g_tls_port);
	run_client(cmd, &r, 0);
	if (tapped) {
		ck_assert_uint_eq(r.a.nreqs, 1);
		check_req(&r.a.reqs[0], 1, 1);
	} else {
		check_dark(&r);
	}
	done(&r);
}
END_TEST

/* HTTPS through a proxy's tunnel (curl -p -x, CONNECT): the tunnel's TLS
 * starts after the connection's first bytes (the CONNECT), where the shim
 * tests them again once the CONNECT's 2xx is read. curl's requests through
 * it are rows of their own, numbered on after the CONNECT's, each whole and
 * TLS (before, the ClientHello reached the sniffer as a lost framing: one
 * row, the CONNECT's, "not visible"). TLS that no tapped library opens
 * through a tunnel leaves the CONNECT's row saying so, never complete. */
START_TEST(https_through_a_connect_tunnel)
{
	char out[128], cmd[2048], port[16];
	snprintf(out, sizeof out, "%s/proxy.out", tu_scratch());
	pid_t proxy = tu_spawn("python3 tests/support/connect_proxy.py", out);
	ck_assert_msg(tu_wait_line(out, "port ", port, sizeof port, 30, proxy) == 0,
		      "the CONNECT proxy did not start");
	const char *req = "-sfN -p -x http://127.0.0.1:%s --cacert %s "
			  "-H \"Authorization: Bearer " SECRET "\" "
			  "https://127.0.0.1:%d/v1/completions -d @tests/clients/completion.json";
	char one[768];
	snprintf(one, sizeof one, req, port, g_cert, g_tls_port);
	snprintf(cmd, sizeof cmd, "curl --http1.1 %s --next %s >/dev/null", one, one);
	struct run r;
	run_client(cmd, &r, 0);
	ck_assert_uint_eq(r.a.nreqs, 3);
	const struct ttft_record *c = &r.a.reqs[0];
	ck_assert_str_eq(c->method, "CONNECT");
	ck_assert_int_eq(c->status, 200);
	ck_assert_int_eq(c->tls, 0);
	ck_assert_int_eq(c->tunnel_lost, 0);
	ck_assert(ttft_record_complete(c));
	for (int i = 1; i < 3; i++) {
		ck_assert_uint_eq(r.a.reqs[i].conn, c->conn);
		ck_assert_uint_eq(r.a.reqs[i].seq, (unsigned)i);
		check_req(&r.a.reqs[i], 1, 0);
		ck_assert(ttft_record_complete(&r.a.reqs[i]));
		ck_assert(r.a.reqs[i].t_req0 > c->t_end);
	}
	ck_assert_int_eq(r.tls_records, 1);
	ck_assert_int_eq(r.tapped, 1);
	ck_assert_uint_eq(r.a.nencrypted, 0);
	ck_assert_msg(!r.secret_in_log, "the Authorization header reached the log");
	done(&r);

	snprintf(cmd, sizeof cmd, "python3 tests/clients/py_tunnel_dark.py %s %d", port,
		 g_tls_port);
	run_client(cmd, &r, 0);
	ck_assert_uint_eq(r.a.nreqs, 1);
	ck_assert_uint_eq(r.a.nencrypted, 0);
	ck_assert_int_eq(r.tls_records, 1);
	ck_assert_int_eq(r.tapped, 0);
	c = &r.a.reqs[0];
	ck_assert_str_eq(c->method, "CONNECT");
	ck_assert_int_eq(c->status, 200);
	ck_assert_int_eq(c->tunnel_lost, 1);
	ck_assert(!ttft_record_complete(c));
	char nb[320];
	const char *n = ttft_record_note(c, nb, sizeof nb);
	ck_assert_msg(n && strstr(n, "TLS no tapped library opened"), "%s", n ? n : "");
	done(&r);
	tu_stop(proxy);
}
END_TEST

START_TEST(host_sees_no_difference)
{
	/* The same bytes and exit status with and without the shim: a status
	 * line and body size (the body itself carries the time). */
	char cmd[1024], *plain, *shimmed;
	const char *fmt = "%s curl --http1.1 -sN --cacert %s -o /dev/null -w "
			  "\"%%{http_code} %%{size_download}\\n\" https://127.0.0.1:%d/"
			  "v1/completions -d @tests/clients/completion.json";
	snprintf(cmd, sizeof cmd, fmt, "", g_cert, g_tls_port);
	ck_assert_int_eq(tu_sh(cmd, &plain), 0);
	char pre[256];
	snprintf(pre, sizeof pre, "%s/ttft-run --quiet --", tu_build_dir());
	snprintf(cmd, sizeof cmd, fmt, pre, g_cert, g_tls_port);
	ck_assert_int_eq(tu_sh(cmd, &shimmed), 0);
	ck_assert_str_eq(plain, shimmed);
	ck_assert_msg(strncmp(plain, "200 ", 4) == 0, "%s", plain);
	free(plain);
	free(shimmed);
	/* a refused certificate: the same failure, and no request row */
	snprintf(cmd, sizeof cmd, "curl -s https://127.0.0.1:%d/health", g_tls_port);
	ck_assert_int_eq(tu_sh(cmd, NULL), 60);
	struct run r;
	run_client(cmd, &r, 60);
	ck_assert_uint_eq(r.a.nreqs, 0);
	ck_assert_int_eq(r.tapped, 1);
	ck_assert_uint_eq(r.a.nnotes, 1);
	ck_assert(r.a.notes[0].tls && !r.a.notes[0].err && !r.a.notes[0].desync);
	done(&r);
}
END_TEST

START_TEST(write_said_again)
{
	/* A non-blocking client whose large request does not fit the socket:
	 * the write says "again" and is called again (OpenSSL: the same buffer;
	 * GnuTLS: NULL, 0, as its manual allows). The host runs as without the
	 * shim, and the request began with the write that first took it, not
	 * with the retry that finished it. */
	static const char *const libs[] = {"openssl", "gnutls"};
	for (int l = 0; l < 2; l++) {
		char cmd[1024];
		struct run r;
		snprintf(cmd, sizeof cmd, "%s/tls_again %s %d 900000", tu_build_dir(),
			 libs[l], g_tls_port);
		run_client(cmd, &r, 0);
		ck_assert_int_eq(r.nseen, 2);
		ck_assert_msg(r.seen[0].again + r.seen[1].again > 0,
			      "%s: no write said again: the request fit the socket", libs[l]);
		ck_assert_uint_eq(r.a.nreqs, 2);
		ck_assert_uint_eq(r.a.nnotes, 0);
		ck_assert_int_eq(r.tapped, 1);
		for (int i = 0; i < 2; i++) {
			const struct ttft_record *q = &r.a.reqs[i];
			check_req(q, 1, i == 0);
			check_client(q, &r.seen[i]);
			ck_assert_msg((double)q->t_req0 <= r.seen[i].handed_ns,
				      "%s request %d: began %.3f ms after the client's "
				      "first write had taken it", libs[l], i,
				      ((double)q->t_req0 - r.seen[i].handed_ns) / 1e6);
		}
		done(&r);
	}
}
END_TEST

START_TEST(each_call_reaches_its_own_library)
{
	/* Three "OpenSSL"s in one process, each loaded RTLD_LOCAL behind its
	 * caller (tests/support/tls_two.c); with the shim, every call still
	 * reaches its caller's copy, and the call whose caller cannot be told
	 * fails cleanly instead of reaching a wrong one. */
	char cmd[1024], *out;
	snprintf(cmd, sizeof cmd, "%s/tls_two %s/fake-ssl", tu_build_dir(), tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	ck_assert_str_eq(out, "real -1 fake3 4242 fake11 1111 tail 4242\n");
	free(out);
	char log[256];
	tu_tmp_log(log, sizeof log, "tls-two");
	snprintf(cmd, sizeof cmd, "TTFT_LOG=%s LD_PRELOAD=%s/libttftshim.so %s/tls_two "
		 "%s/fake-ssl 2>&1", log, tu_build_dir(), tu_build_dir(), tu_build_dir());
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	unlink(log);
	ck_assert_msg(strstr(out, "real -1 fake3 4242 fake11 1111 tail -1 Function not "
			     "implemented\n"), "%s", out);
	ck_assert_msg(strstr(out, "several copies are loaded"), "%s", out);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tls");
	TCase *t = tu_tcase(s, "https", 300);
	tcase_add_unchecked_fixture(t, make_cert, remove_cert);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, curl_keepalive_and_new);
	tcase_add_test(t, python_requests);
	tcase_add_test(t, asyncio_tls_and_plain_at_once);
	tcase_add_test(t, gnutls_git);
	tcase_add_test(t, tls_the_shim_cannot_open);
	tcase_add_test(t, https_through_a_connect_tunnel);
	tcase_add_test(t, host_sees_no_difference);
	tcase_add_test(t, write_said_again);
	tcase_add_test(t, each_call_reaches_its_own_library);
	return tu_run(s);
}
