/* testutil.c — see testutil.h. */
#include "testutil.h"

#include <arpa/inet.h>
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ttft_str.h"

/* testutil.h's ck_assert_msg: a place's first 4 passes are marked (Check
 * writes each), then one in 4096. The places a thread passed last, by
 * file and line, in a small table; a collision only marks again. */
void tu_passed(const char *file, int line)
{
	static __thread struct {
		const char *file;
		int line;
		unsigned n;
	} at[256];
	unsigned h = ((unsigned)(uintptr_t)file * 31u + (unsigned)line) & 255u;
	if (at[h].file != file || at[h].line != line) {
		at[h].file = file;
		at[h].line = line;
		at[h].n = 0;
	}
	unsigned n = at[h].n++;
	if (n < 4 || (n & 4095u) == 0)
		_mark_point(file, line);
}

void tu_collect(void *ctx, const struct ttft_http_event *ev)
{
	struct tu_events *e = ctx;
	if (ev->kind == TTFT_EV_SSE_TOKEN && (ev->flags & TTFT_F_RUN)) {
		/* a run of token events one read delivered: the events it
		 * stands for (as the log's readers take it), body offset
		 * unknown (0) */
		ck_assert_int_ge(ev->a, 2);
		for (int64_t k = 0; k < ev->a; k++) {
			struct ttft_http_event one = *ev;
			one.flags = 0;
			one.a = 0;
			one.b = ev->b + k;
			tu_collect(ctx, &one);
		}
		return;
	}
	ck_assert_uint_lt(e->n, TU_MAXEV);
	e->ev[e->n] = *ev;
	/* where a read ended is the sniffer's note to the shim (never in the
	 * log), different at every split: kept apart, so that the events
	 * compare alike */
	e->read_end[e->n] = (ev->flags & TTFT_F_READ_END) != 0;
	e->ev[e->n].flags &= (uint16_t)~TTFT_F_READ_END;
	size_t tl = ev->text_len < TTFT_REC_TEXT ? ev->text_len : TTFT_REC_TEXT;
	if (ev->text)
		memcpy(e->text[e->n], ev->text, tl);
	e->text[e->n][ev->text ? tl : 0] = 0;
	e->ev[e->n].text = e->text[e->n];
	e->n++;
}

const char *tu_kinds(const struct tu_events *e, char *buf, size_t len)
{
	static const char *const k[] = {
		[TTFT_EV_REQ_BEGIN] = "REQ", [TTFT_EV_REQ_SENT] = "SENT",
		[TTFT_EV_RESP_HEADERS] = "H", [TTFT_EV_SSE_TOKEN] = "T",
		[TTFT_EV_SSE_EMPTY] = "E", [TTFT_EV_SSE_DONE] = "D",
		[TTFT_EV_SSE_ERROR] = "ERR", [TTFT_EV_RESP_END] = "END",
		[TTFT_EV_DESYNC] = "DESYNC", [TTFT_EV_SERVER_NUMBERS] = "N",
		[TTFT_EV_TRACEPARENT] = "TP", [TTFT_EV_RESP_INTERIM] = "1XX",
	};
	size_t o = 0;
	buf[0] = 0;
	for (size_t i = 0; i < e->n && o + 8 < len; i++) {
		unsigned kind = e->ev[i].kind;
		const char *s = kind < sizeof k / sizeof k[0] && k[kind] ? k[kind] : "?";
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", s);
	}
	return buf;
}

size_t tu_count(const struct tu_events *e, unsigned kind)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n; i++)
		n += e->ev[i].kind == kind;
	return n;
}

char *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = 0;
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

void tu_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_msg(fputs(text, f) >= 0 && fclose(f) == 0, "cannot write %s", path);
}

void tu_load_http(const char *name, char **req, size_t *reqlen, char **resp,
		  size_t *resplen)
{
	char path[256];
	snprintf(path, sizeof path, "tests/fixtures/llamacpp/%s.http", name);
	size_t n;
	char *all = tu_read_file(path, &n);
	static const char sep[] = "\n=====RESPONSE=====\n";
	char *s = strstr(all, sep);
	ck_assert_msg(s != NULL, "%s has no response separator", path);
	*reqlen = (size_t)(s - all);
	*req = malloc(*reqlen + 1);
	memcpy(*req, all, *reqlen);
	(*req)[*reqlen] = 0;
	char *r = s + sizeof sep - 1;
	*resplen = n - (size_t)(r - all);
	*resp = malloc(*resplen + 1);
	memcpy(*resp, r, *resplen);
	(*resp)[*resplen] = 0;
	free(all);
}

static void append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
	while (*len + n + 1 > *cap) {
		*cap = *cap ? *cap * 2 : 4096;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, s, n);
	*len += n;
	(*buf)[*len] = 0;
}

char *tu_vllm_stream(int chat, int crlf, int chunked, int ntok, int usage,
		     size_t *len)
{
	char *out = NULL;
	size_t n = 0, cap = 0;
	const char *hdr = chunked
		? "HTTP/1.1 200 OK\r\ndate: Sat, 28 Nov 2026 18:00:00 GMT\r\n"
		  "server: uvicorn\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
		  "transfer-encoding: chunked\r\n\r\n"
		: "HTTP/1.1 200 OK\r\ndate: Sat, 28 Nov 2026 18:00:00 GMT\r\n"
		  "server: uvicorn\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
		  "connection: close\r\n\r\n";
	append(&out, &n, &cap, hdr, strlen(hdr));
	const char *eol = crlf ? "\r\n" : "\n";
	const char *un = usage ? ",\"usage\":null" : "";
	char ev[1024];
	int total = ntok + (chat ? 1 : 0) + (usage ? 1 : 0) + 1;
	for (int i = 0; i < total; i++) {
		int k = chat ? i - 1 : i; /* token index, -1 = role chunk */
		if (i == total - 1)
			snprintf(ev, sizeof ev, "[DONE]");
		else if (usage && i == total - 2)
			snprintf(ev, sizeof ev,
				 "{\"id\":\"cmpl-1\",\"object\":\"%s\",\"created\":1,"
				 "\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,"
				 "\"total_tokens\":%d,\"completion_tokens\":%d}}",
				 chat ? "chat.completion.chunk" : "text_completion",
				 5 + ntok, ntok);
		else if (chat && k < 0)
			snprintf(ev, sizeof ev,
				 "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
				 "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
				 "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
				 "\"logprobs\":null,\"finish_reason\":null}]%s}", un);
		else if (chat)
			snprintf(ev, sizeof ev,
				 "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
				 "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
				 "\"delta\":{\"content\":\" w\\\"%d\"},\"logprobs\":null,"
				 "\"finish_reason\":null}]%s}", k, un);
		else
			snprintf(ev, sizeof ev,
				 "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,"
				 "\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\" w%d\","
				 "\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}]%s}",
				 k, un);
		char data[1200];
		int dl = snprintf(data, sizeof data, "data: %s%s%s", ev, eol, eol);
		if (chunked) {
			char h[16];
			int hl = snprintf(h, sizeof h, "%x\r\n", dl);
			append(&out, &n, &cap, h, (size_t)hl);
		}
		append(&out, &n, &cap, data, (size_t)dl);
		if (chunked)
			append(&out, &n, &cap, "\r\n", 2);
	}
	if (chunked)
		append(&out, &n, &cap, "0\r\n\r\n", 5);
	*len = n;
	return out;
}

const char *tu_build_dir(void)
{
	const char *b = getenv("TTFT_BUILD");
	return b && *b ? b : "build";
}

/* The fixture servers this process started, and where each writes. */
static struct {
	pid_t pid;
	char truth[512];
} g_fx[16];

void tu_fixture_truth_path(pid_t pid, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof g_fx / sizeof g_fx[0]; i++)
		if (g_fx[i].pid == pid && pid > 0) {
			snprintf(buf, len, "%s", g_fx[i].truth);
			return;
		}
	ck_abort_msg("no fixture server with pid %ld was started here", (long)pid);
}

int tu_fd_host_start(pid_t *pid)
{
	char cmd[512], out[256], port[32];
	snprintf(cmd, sizeof cmd, "%s/fd_host serve", tu_build_dir());
	tu_tmp_log(out, sizeof out, "fd_host_serve"); /* unique: no old port */
	*pid = tu_spawn(cmd, out);
	ck_assert_msg(tu_wait_line(out, "port ", port, sizeof port, 30, *pid) == 0,
		      "fd_host serve did not start");
	int n = atoi(port);
	ck_assert_int_gt(n, 0);
	return n;
}

int tu_fixture_start(const char *args, pid_t *pid)
{
	size_t i = 0;
	while (i < sizeof g_fx / sizeof g_fx[0] && g_fx[i].pid)
		i++;
	ck_assert_msg(i < sizeof g_fx / sizeof g_fx[0], "too many fixture servers at once");
	tu_tmp_log(g_fx[i].truth, sizeof g_fx[i].truth, "fixture-truth");
	/* a failed assertion ends the test without its teardown: the server
	 * dies with the test process (tu_fixture_spawn) */
	char err[600];
	int port = 0;
	*pid = tu_fixture_spawn(tu_build_dir(), args, g_fx[i].truth, &port, err, sizeof err);
	ck_assert_msg(*pid > 0, "%s", err);
	g_fx[i].pid = *pid;
	return port;
}

void tu_fixture_stop(pid_t pid)
{
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	for (size_t i = 0; i < sizeof g_fx / sizeof g_fx[0]; i++)
		if (g_fx[i].pid == pid) {
			unlink(g_fx[i].truth);
			g_fx[i].pid = 0;
		}
}

void tu_fixture_truth(pid_t pid, struct tu_truth *t)
{
	char path[512], err[600];
	tu_fixture_truth_path(pid, path, sizeof path);
	ck_assert_msg(tu_truth_load(path, t, err, sizeof err) == 0, "%s", err);
}

int tu_free_port(void)
{
	/* below the ephemeral range, where only explicit binds go */
	int lo = 32768, hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	if (f) {
		if (fscanf(f, "%d %d", &lo, &hi) != 2)
			lo = 32768;
		fclose(f);
	}
	int base = lo > 11024 ? 10000 : 1024, top = lo > base + 1000 ? lo : 65535;
	unsigned seed = (unsigned)getpid() ^ (unsigned)ttft_now_ns();
	for (int i = 0; i < 1000; i++) {
		int port = base + rand_r(&seed) % (top - base);
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {0};
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		close(fd);
		if (ok)
			return port;
	}
	ck_abort_msg("no free TCP port on 127.0.0.1 between %d and %d", base, top);
	return -1;
}

int tu_sh(const char *cmd, char **out)
{
	FILE *f = popen(cmd, "r");
	if (!f)
		return -1;
	char *buf = NULL;
	size_t n = 0, cap = 0;
	char tmp[4096];
	size_t r;
	while ((r = fread(tmp, 1, sizeof tmp, f)) > 0)
		append(&buf, &n, &cap, tmp, r);
	int st = pclose(f);
	if (out)
		*out = buf ? buf : strdup("");
	else
		free(buf);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char g_scratch[256];

const char *tu_scratch(void)
{
	ck_assert_msg(g_scratch[0], "no scratch directory: run the suite with tu_run");
	return g_scratch;
}

void tu_tmp_log(char *buf, size_t len, const char *tag)
{
	static int seq;
	snprintf(buf, len, "%s/%s.%ld.%d", tu_scratch(), tag, (long)getpid(), seq++);
}

int tu_stride(const char *what)
{
	const char *e = getenv("TTFT_TEST_STRIDE");
	int k = e ? atoi(e) : 1;
	if (k <= 1)
		return 1;
	printf("NOTE: %s: 1 case in %d (TTFT_TEST_STRIDE, the sanitizer runs; make test takes "
	       "every case)\n", what, k);
	fflush(stdout);
	return k;
}

TCase *tu_tcase(Suite *s, const char *name, double seconds)
{
	TCase *t = tcase_create(name);
	const char *e = getenv("TTFT_TEST_TIMEOUT_SCALE");
	double k = e && atof(e) > 0 ? atof(e) : 1.0;
	tcase_set_timeout(t, seconds * k);
	suite_add_tcase(s, t);
	return t;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

int tu_run(Suite *s)
{
	/* Everything a test writes goes here; removed below even when a test
	 * failed, crashed or timed out before its own cleanup. */
	snprintf(g_scratch, sizeof g_scratch, "/dev/shm/ttft-test.XXXXXX");
	if (!mkdtemp(g_scratch)) {
		perror("cannot create a scratch directory under /dev/shm");
		return 1;
	}
	setenv("TTFT_TEST_DIR", g_scratch, 1);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	nftw(g_scratch, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return failed ? 1 : 0;
}

pid_t tu_spawn(const char *cmd, const char *outfile)
{
	pid_t c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		char *full = malloc(strlen(cmd) + 8);
		sprintf(full, "exec %s", cmd);
		execl("/bin/sh", "sh", "-c", full, (char *)NULL);
		_exit(127);
	}
	return c;
}

pid_t tu_spawn_group(char *const argv[], const char *outfile)
{
	pid_t c = fork();
	ck_assert_int_ge(c, 0);
	if (c == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		int fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	setpgid(c, c);
	return c;
}

int tu_wait_exit(pid_t pid, int timeout_s, int *st)
{
	for (int i = 0; i < timeout_s * 10; i++) {
		if (waitpid(pid, st, WNOHANG) == pid)
			return 1;
		nanosleep(&(struct timespec){0, 100000000}, NULL);
	}
	kill(-pid, SIGKILL);
	waitpid(pid, st, 0);
	return 0;
}

int tu_pid_gone(pid_t pid)
{
	char path[64], st[256] = "";
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, st, sizeof st - 1);
	close(fd);
	const char *p = n > 0 ? strrchr(st, ')') : NULL;
	return !p || p[2] == 'Z' || p[2] == 'X';
}

int tu_wait_gone(pid_t a, pid_t b, int timeout_s)
{
	for (int i = 0; i < timeout_s * 10; i++) {
		if (tu_pid_gone(a) && tu_pid_gone(b))
			return 1;
		nanosleep(&(struct timespec){0, 100000000}, NULL);
	}
	return 0;
}

int tu_wait_line(const char *file, const char *marker, char *out, size_t outlen,
		 int timeout_s, pid_t pid)
{
	for (int i = 0; i < timeout_s * 20; i++) {
		FILE *f = fopen(file, "r");
		char line[1024];
		while (f && fgets(line, sizeof line, f)) {
			char *m = strstr(line, marker);
			if (!m)
				continue;
			m += strlen(marker);
			m[strcspn(m, "\r\n")] = 0;
			snprintf(out, outlen, "%s", m);
			fclose(f);
			return 0;
		}
		if (f)
			fclose(f);
		if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
		usleep(50000);
	}
	return -1;
}

/* Wait until PID has taken signal sig off its pending set (it is
 * delivered: its handler has run, a call it interrupted has been restarted
 * or failed): /proc/PID/status's ShdPnd, the signals sent to the process
 * and not yet delivered. */
void tu_wait_delivered(pid_t pid, int sig)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	for (;;) {
		FILE *f = fopen(path, "r");
		ck_assert_msg(f != NULL, "cannot read %s: %s", path, strerror(errno));
		char line[256];
		unsigned long long pend = ~0ull;
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "ShdPnd: %llx", &pend) == 1)
				break;
		fclose(f);
		ck_assert_msg(pend != ~0ull, "no ShdPnd in %s", path);
		if (!(pend & (1ull << (sig - 1))))
			return;
		usleep(1000);
	}
}

int tu_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		size_t l = u[i] < 0x80 ? 1 : ttft_utf8_len(u + i, n - i);
		if (!l)
			return 0;
		i += l;
	}
	return 1;
}

long tu_column_after(const char *s, const char *what)
{
	const char *at = strstr(s, what);
	if (!at)
		return -1;
	const char *line = at;
	while (line > s && line[-1] != '\n')
		line--;
	long col = 0;
	for (const char *p = line; p < at + strlen(what); p++)
		col += ((unsigned char)*p & 0xc0) != 0x80;
	return col;
}

static double tu_num(cJSON *e, const char *k)
{
	cJSON *v = cJSON_GetObjectItem(e, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

int tu_trace_nested(cJSON *events, char *why, size_t len)
{
	cJSON *a, *b;
	cJSON_ArrayForEach(a, events) {
		cJSON *ph = cJSON_GetObjectItem(a, "ph");
		if (!cJSON_IsString(ph) || strcmp(ph->valuestring, "X"))
			continue;
		double a0 = tu_num(a, "ts"), a1 = a0 + tu_num(a, "dur");
		cJSON_ArrayForEach(b, events) {
			cJSON *pb = cJSON_GetObjectItem(b, "ph");
			if (b == a || !cJSON_IsString(pb) || strcmp(pb->valuestring, "X") ||
			    tu_num(a, "pid") != tu_num(b, "pid") || tu_num(a, "tid") != tu_num(b, "tid"))
				continue;
			double b0 = tu_num(b, "ts"), b1 = b0 + tu_num(b, "dur"), e = 1e-6;
			/* apart, or b inside a (a inside b: when b's turn comes) */
			if (b1 <= a0 + e || b0 >= a1 - e || (b0 >= a0 - e && b1 <= a1 + e) ||
			    (a0 >= b0 - e && a1 <= b1 + e))
				continue;
			snprintf(why, len, "on pid %g tid %g: %s [%.3f, %.3f] and %s [%.3f, %.3f] "
				 "overlap", tu_num(a, "pid"), tu_num(a, "tid"),
				 cJSON_GetObjectItem(a, "name")->valuestring, a0, a1,
				 cJSON_GetObjectItem(b, "name")->valuestring, b0, b1);
			return 0;
		}
	}
	return 1;
}

void tu_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

char *tu_http(const char *addr, const char *req, size_t reqlen, size_t *len)
{
	char host[64];
	const char *c = strrchr(addr, ':');
	if (!c || (size_t)(c - addr) >= sizeof host)
		return NULL;
	memcpy(host, addr, (size_t)(c - addr));
	host[c - addr] = 0;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(c + 1))};
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return NULL;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = {30, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return NULL;
	}
	for (size_t off = 0; off < reqlen;) {
		ssize_t w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	char tmp[65536];
	ssize_t r;
	while ((r = recv(fd, tmp, sizeof tmp, 0)) > 0)
		append(&buf, &n, &cap, tmp, (size_t)r);
	close(fd);
	if (!buf)
		buf = strdup("");
	if (len)
		*len = n;
	return buf;
}

cJSON *tu_json_at(cJSON *o, const char *path)
{
	char buf[256], *save = NULL;
	snprintf(buf, sizeof buf, "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = *k >= '0' && *k <= '9' ? cJSON_GetArrayItem(o, atoi(k)) : cJSON_GetObjectItem(o, k);
	ck_assert_msg(o != NULL, "no %s", path);
	return o;
}
