/* ttft_json.c — see ttft_json.h. */
#include "ttft_json.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STAGE (64u << 10)

int ttft_json_init(struct ttft_json *j, FILE *f, int pretty)
{
	memset(j, 0, sizeof *j);
	j->f = f;
	j->pretty = pretty;
	j->cap = f ? STAGE : 4096;
	j->buf = malloc(j->cap);
	if (!j->buf) {
		j->cap = 0;
		j->err = ENOMEM;
		return -1;
	}
	return 0;
}

static void drain(struct ttft_json *j)
{
	if (j->len && !j->err && fwrite(j->buf, 1, j->len, j->f) != j->len)
		j->err = errno ? errno : EIO;
	j->len = 0;
}

/* Room for n more bytes; 0 when there is none (err set). */
static int room_slow(struct ttft_json *j, size_t n)
{
	if (j->err)
		return 0;
	if (j->f) {
		drain(j);
		if (n + 1 <= j->cap)
			return !j->err;
	}
	size_t nc = j->cap ? j->cap : 4096;
	while (nc < j->len + n + 1)
		nc *= 2;
	char *p = realloc(j->buf, nc);
	if (!p) {
		j->err = ENOMEM;
		return 0;
	}
	j->buf = p;
	j->cap = nc;
	return 1;
}

static inline int room(struct ttft_json *j, size_t n)
{
	return __builtin_expect(j->len + n + 1 <= j->cap, 1) || room_slow(j, n);
}

static void put(struct ttft_json *j, const char *s, size_t n)
{
	if (!room(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static void putc1(struct ttft_json *j, char c)
{
	if (room(j, 1))
		j->buf[j->len++] = c;
}

static void indent(struct ttft_json *j)
{
	putc1(j, '\n');
	for (int i = 0; i < j->depth; i++)
		putc1(j, '\t');
}

static const char hexd[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void put_string(struct ttft_json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	putc1(j, '"');
	size_t i = 0;
	while (i < n) {
		size_t k = i;
		while (k < n && s[k] >= 0x20 && s[k] < 0x80 && s[k] != '"' && s[k] != '\\')
			k++;
		put(j, str + i, k - i);
		i = k;
		if (i == n)
			break;
		unsigned c = s[i];
		if (c >= 0x80) {
			size_t l = utf8_len(s + i, n - i);
			if (l) {
				put(j, str + i, l);
				i += l;
			} else {
				put(j, "\\ufffd", 6); /* not UTF-8: cut or foreign */
				i++;
			}
			continue;
		}
		char e[6] = {'\\', 0};
		switch (c) {
		case '"': e[1] = '"'; break;
		case '\\': e[1] = '\\'; break;
		case '\n': e[1] = 'n'; break;
		case '\r': e[1] = 'r'; break;
		case '\t': e[1] = 't'; break;
		case '\b': e[1] = 'b'; break;
		case '\f': e[1] = 'f'; break;
		default:
			put(j, "\\u00", 4);
			putc1(j, hexd[c >> 4]);
			putc1(j, hexd[c & 15]);
			i++;
			continue;
		}
		put(j, e, 2);
		i++;
	}
	putc1(j, '"');
}

/* Before a value: the comma, the indent, the key. */
static void lead(struct ttft_json *j, const char *key)
{
	uint32_t bit = 1u << j->depth;
	if (j->depth > 0) {
		if (j->filled & bit)
			putc1(j, ',');
		j->filled |= bit;
		if (j->pretty)
			indent(j);
	}
	if (key && (j->is_obj & bit)) {
		put_string(j, key, strlen(key));
		put(j, j->pretty ? ": " : ":", j->pretty ? 2 : 1);
	}
}

static void open_(struct ttft_json *j, const char *key, char c, int obj)
{
	lead(j, key);
	putc1(j, c);
	if (j->depth + 1 >= TTFT_JSON_MAX_DEPTH) {
		j->err = j->err ? j->err : EOVERFLOW;
		return;
	}
	j->depth++;
	uint32_t bit = 1u << j->depth;
	j->filled &= ~bit;
	j->is_obj = obj ? j->is_obj | bit : j->is_obj & ~bit;
}

static void close_(struct ttft_json *j, char c)
{
	int had = (j->filled >> j->depth) & 1;
	if (j->depth > 0)
		j->depth--;
	if (j->pretty && had)
		indent(j);
	putc1(j, c);
}

void ttft_json_begin_obj(struct ttft_json *j, const char *key)
{
	open_(j, key, '{', 1);
}

void ttft_json_end_obj(struct ttft_json *j)
{
	close_(j, '}');
}

void ttft_json_begin_arr(struct ttft_json *j, const char *key)
{
	open_(j, key, '[', 0);
}

void ttft_json_end_arr(struct ttft_json *j)
{
	close_(j, ']');
}

/* Decimal digits of v into the end of buf; returns where they start. */
static char *utoa_end(char *end, unsigned long long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* Durations and instants are integer nanoseconds divided by 1e9, so most
 * numbers are exactly n/1e9 for an integer n: those are written as that
 * decimal without a printf round trip. It is the same string "%.15g"
 * would give (the nearest double to a decimal of at most 15 digits prints
 * as that decimal), so the fast path never changes the output. */
static size_t fmt_nanos(char *out, double v)
{
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 9e6))
		return 0; /* %g would use an exponent, or n is too large */
	long long n = llround(v * 1e9);
	if ((double)n / 1e9 != v)
		return 0;
	unsigned long long u = n < 0 ? (unsigned long long)-n : (unsigned long long)n;
	unsigned long long ip = u / 1000000000ull, fp = u % 1000000000ull;
	int fd = 9; /* fraction digits, trailing zeros dropped */
	while (fd && fp % 10 == 0)
		fp /= 10, fd--;
	int ipd = 0, fpd = 0; /* digits of ip (0 for 0) and of fp */
	for (unsigned long long x = ip; x; x /= 10)
		ipd++;
	for (unsigned long long x = fp; x; x /= 10)
		fpd++;
	if ((ip ? ipd + fd : fpd) > 15)
		return 0; /* %.15g would not print it whole */
	char tmp[32], *e = tmp + sizeof tmp, *p = e;
	if (fd) {
		p = utoa_end(p, fp);
		while (e - p < fd)
			*--p = '0';
		*--p = '.';
	}
	p = utoa_end(p, ip);
	if (n < 0)
		*--p = '-';
	size_t len = (size_t)(e - p);
	memcpy(out, p, len);
	out[len] = 0;
	return len;
}

size_t ttft_json_fmt_num(char *out, double v)
{
	if (!isfinite(v)) {
		memcpy(out, "null", 5);
		return 4;
	}
	size_t n = fmt_nanos(out, v);
	if (n)
		return n;
	/* The first precision that reads back as v is the shortest: when a
	 * shorter decimal reads back, %.Ng with that many digits prints it.
	 * Doubles hold 15 digits at least, except subnormals (fewer). */
	for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		int k = snprintf(out, 32, "%.*g", prec, v);
		if (prec == 17 || strtod(out, NULL) == v)
			return (size_t)k;
	}
	return 0;
}

void ttft_json_num(struct ttft_json *j, const char *key, double v)
{
	char b[32];
	size_t n = ttft_json_fmt_num(b, v);
	lead(j, key);
	put(j, b, n);
}

void ttft_json_int(struct ttft_json *j, const char *key, long long v)
{
	char b[24], *e = b + sizeof b;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
	char *p = utoa_end(e, u);
	if (v < 0)
		*--p = '-';
	lead(j, key);
	put(j, p, (size_t)(e - p));
}

void ttft_json_ns(struct ttft_json *j, const char *key, int64_t ns)
{
	char b[32], *e = b + sizeof b, *p = e;
	unsigned long long u = ns < 0 ? 0ull - (unsigned long long)ns : (unsigned long long)ns;
	unsigned long long fp = u % 1000000000ull;
	int fd = 9;
	while (fd && fp % 10 == 0)
		fp /= 10, fd--;
	if (fd) {
		p = utoa_end(p, fp);
		while (e - p < fd)
			*--p = '0';
		*--p = '.';
	}
	p = utoa_end(p, u / 1000000000ull);
	if (ns < 0)
		*--p = '-';
	lead(j, key);
	put(j, p, (size_t)(e - p));
}

void ttft_json_bool(struct ttft_json *j, const char *key, int v)
{
	lead(j, key);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void ttft_json_null(struct ttft_json *j, const char *key)
{
	lead(j, key);
	put(j, "null", 4);
}

void ttft_json_strn(struct ttft_json *j, const char *key, const char *s, size_t n)
{
	lead(j, key);
	put_string(j, s, n);
}

void ttft_json_str(struct ttft_json *j, const char *key, const char *s)
{
	if (!s)
		ttft_json_null(j, key);
	else
		ttft_json_strn(j, key, s, strlen(s));
}

void ttft_json_newline(struct ttft_json *j)
{
	putc1(j, '\n');
	j->filled = 0;
}

int ttft_json_flush(struct ttft_json *j)
{
	if (j->f) {
		drain(j);
		if (fflush(j->f) != 0 && !j->err)
			j->err = errno ? errno : EIO;
	}
	if (j->err) {
		errno = j->err;
		return -1;
	}
	return 0;
}

char *ttft_json_take(struct ttft_json *j)
{
	if (j->f || j->err || !room(j, 0))
		return NULL;
	j->buf[j->len] = 0;
	char *s = j->buf;
	j->buf = NULL;
	j->len = j->cap = 0;
	return s;
}

void ttft_json_free(struct ttft_json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
}

void ttft_json_summary(struct ttft_json *j, const char *key, const struct ttft_summary *s)
{
	ttft_json_begin_obj(j, key);
	ttft_json_num(j, "min", s->min);
	ttft_json_num(j, "median", s->median);
	ttft_json_num(j, "p90", s->p90);
	ttft_json_num(j, "p99", s->p99);
	ttft_json_num(j, "max", s->max);
	ttft_json_end_obj(j);
}

/* The order: who, when, how long (the phases in time order), the client's
 * own view, the server's split. Fields a producer cannot know are left
 * out rather than written as null (docs/phases.md). */
void ttft_json_record(struct ttft_json *j, const char *key, const struct ttft_record *r,
		      const struct ttft_json_ctx *ctx)
{
	int log = r->origin == TTFT_ORIGIN_LOG, probe = r->origin == TTFT_ORIGIN_PROBE;
	struct ttft_phases p;
	ttft_record_phases(r, &p);
	ttft_json_begin_obj(j, key);
	if (probe) {
		ttft_json_int(j, "run", r->run);
		ttft_json_str(j, "label", r->label);
		ttft_json_bool(j, "ok", r->ok);
		ttft_json_str(j, "error", ttft_record_error(r));
	}
	if (log && ctx->host)
		ttft_json_str(j, "host", ctx->host);
	if (log) {
		ttft_json_int(j, "pid", r->pid);
		ttft_json_int(j, "conn", (long long)r->conn);
		ttft_json_str(j, "method", r->encrypted ? NULL : r->method);
		ttft_json_str(j, "path", r->encrypted ? NULL : r->path);
	}
	if (probe || r->trace_id[0])
		ttft_json_str(j, "trace_id", r->trace_id[0] ? r->trace_id : NULL);
	if (r->status)
		ttft_json_int(j, "status", r->status);
	else
		ttft_json_null(j, "status");
	if (r->t_start)
		ttft_json_ns(j, "start_s", r->t_start);
	else
		ttft_json_null(j, "start_s");
	if (log && r->t_start)
		ttft_json_ns(j, "start_unix_s",
			     r->t_start - ctx->anchor_mono_ns + ctx->anchor_real_ns);
	else if (log) /* not seen (request_unseen): no start, no clock origin */
		ttft_json_null(j, "start_unix_s");
	if (r->encrypted || r->compressed) /* unknown, not zero */
		ttft_json_null(j, "tokens");
	else
		ttft_json_int(j, "tokens", ttft_record_tokens(r));
	if (r->prompt_tokens >= 0)
		ttft_json_int(j, "prompt_tokens", r->prompt_tokens);
	else
		ttft_json_null(j, "prompt_tokens");
	if (log) {
		ttft_json_bool(j, "compressed", r->compressed);
		if (r->traceparent[0])
			ttft_json_str(j, "traceparent", r->traceparent);
		else
			ttft_json_null(j, "traceparent");
	}
	ttft_json_num(j, "dns_s", p.dns_s);
	ttft_json_num(j, "connect_s", p.connect_s);
	if (log) {
		ttft_json_num(j, "tls_s", p.tls_s);
		ttft_json_num(j, "send_s", p.send_s);
		ttft_json_num(j, "wait_headers_s", p.wait_headers_s);
	}
	ttft_json_num(j, "ttft_s", p.ttft_s);
	if (log)
		ttft_json_num(j, "wire_ttft_s", p.wire_ttft_s);
	ttft_json_num(j, "decode_s", p.decode_s);
	ttft_json_num(j, "e2e_s", p.e2e_s);
	ttft_json_num(j, "itl_p50_s", p.itl_p50_s);
	ttft_json_num(j, "itl_p99_s", p.itl_p99_s);
	if (log)
		ttft_json_num(j, "app_gap_s", p.app_gap_s);
	if (probe) {
		ttft_json_num(j, "pretransfer_s", p.pretransfer_s);
		ttft_json_num(j, "starttransfer_s", p.starttransfer_s);
		ttft_json_num(j, "start_offset_s", r->t_start && ctx->t0
				  ? (double)(r->t_start - ctx->t0) / 1e9 : NAN);
		ttft_json_int(j, "http_status", r->status);
	}
	const struct ttft_server_split *s = &r->split;
	ttft_json_num(j, "queue_s", s->queue_s);
	ttft_json_num(j, "prefill_s", s->prefill_s);
	ttft_json_num(j, "server_other_s", p.server_other_s);
	ttft_json_num(j, "network_s", p.network_s);
	ttft_json_num(j, "server_decode_s", s->decode_s);
	ttft_json_num(j, "prefix_cache_hit_tokens", s->hit_tokens);
	ttft_json_num(j, "server_ttft_s", s->server_ttft_s);
	ttft_json_str(j, "split_source", s->source);
	if (s->note[0])
		ttft_json_str(j, "split_note", s->note);
	if (log) {
		char nb[320];
		ttft_json_bool(j, "tls", r->tls);
		ttft_json_bool(j, "encrypted", r->encrypted);
		ttft_json_bool(j, "preopened", r->preopened);
		ttft_json_num(j, "preopen_idle_s", p.preopen_idle_s);
		ttft_json_bool(j, "inherited", r->inherited);
		ttft_json_bool(j, "request_unseen", r->request_unseen);
		ttft_json_bool(j, "complete", ttft_record_complete(r));
		ttft_json_str(j, "note", ttft_record_note(r, nb, sizeof nb));
	}
	if (probe && ctx->keep_text)
		ttft_json_strn(j, "text", r->text ? r->text : "", r->textlen);
	ttft_json_end_obj(j);
}
