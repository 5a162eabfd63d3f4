/* test_json.c — the one JSON writer: every string comes out as valid,
 * parseable UTF-8 (control bytes, quotes, a character cut in half, bytes
 * that are not UTF-8); numbers in their shortest form that reads back to
 * the same double, null for NaN and infinities; a record's fields in one
 * order per origin, the same names for the fields both origins know. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "ttft_json.h"
#include "ttft_str.h"

/* Is s valid UTF-8 (RFC 3629)? */
static int valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t l = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
			 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!l || i + l > n)
			return 0;
		for (size_t k = 1; k < l; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		if ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0) ||
		    (c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))
			return 0;
		i += l;
	}
	return 1;
}

static char *one_string(const char *s, size_t n)
{
	struct ttft_json j;
	ck_assert_int_eq(ttft_json_init(&j, NULL, 0), 0);
	ttft_json_begin_obj(&j, NULL);
	ttft_json_strn(&j, "s", s, n);
	ttft_json_end_obj(&j);
	char *out = ttft_json_take(&j);
	ttft_json_free(&j);
	ck_assert_ptr_nonnull(out);
	return out;
}

START_TEST(strings_are_valid_utf8)
{
	/* a 64-byte path cut inside "é" (c3 a9), control bytes, quotes */
	char path[64];
	memset(path, 'a', sizeof path);
	memcpy(path, "/v1/caf\xc3\xa9\t\"q\"\\\x01", 15);
	path[63] = '\xc3';
	char *out = one_string(path, sizeof path);
	ck_assert_msg(valid_utf8((unsigned char *)out, strlen(out)), "%s", out);
	cJSON *o = cJSON_Parse(out);
	ck_assert_ptr_nonnull(o);
	const char *back = cJSON_GetObjectItem(o, "s")->valuestring;
	ck_assert(strncmp(back, "/v1/caf\xc3\xa9\t\"q\"\\\x01", 15) == 0);
	/* the cut character became U+FFFD, nothing else was lost */
	ck_assert_str_eq(back + strlen(back) - 3, "\xef\xbf\xbd");
	ck_assert_uint_eq(strlen(back), 63 + 3);
	cJSON_Delete(o);
	free(out);
	/* every byte value, alone and in a run: always valid, always parses */
	for (int b = 0; b < 256; b++) {
		char s[3] = {(char)b, 'x', (char)b};
		out = one_string(s, 3);
		ck_assert_msg(valid_utf8((unsigned char *)out, strlen(out)), "byte %02x", b);
		o = cJSON_Parse(out);
		ck_assert_msg(o != NULL, "byte %02x: %s", b, out);
		cJSON_Delete(o);
		free(out);
	}
	/* overlong, surrogate and beyond-U+10FFFF forms are not passed through */
	static const char *const bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
					  "\xe0\x80\xaf"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		out = one_string(bad[i], strlen(bad[i]));
		ck_assert_msg(strstr(out, "\\ufffd") && valid_utf8((unsigned char *)out,
								      strlen(out)), "%s", out);
		free(out);
	}
	/* every length and every place of a byte that needs care (the
	 * writer looks at 8 bytes at a time): as one byte at a time would */
	static const char special[] = {'"', '\\', '\n', 0x01, 0x1f, 0x7f, ' ', '~', (char)0xff};
	for (size_t n = 1; n <= 40; n++)
		for (size_t at = 0; at < n; at++)
			for (size_t k = 0; k < sizeof special; k++) {
				char s[41], want[300];
				memset(s, 'a' + (char)(n % 26), n);
				s[at] = special[k];
				size_t w = 0;
				w += (size_t)sprintf(want + w, "{\"s\":\"");
				for (size_t i = 0; i < n; i++) {
					unsigned char c = (unsigned char)s[i];
					if (c == '"' || c == '\\')
						w += (size_t)sprintf(want + w, "\\%c", c);
					else if (c == '\n')
						w += (size_t)sprintf(want + w, "\\n");
					else if (c < 0x20)
						w += (size_t)sprintf(want + w, "\\u%04x", c);
					else if (c >= 0x80) /* alone: not UTF-8 */
						w += (size_t)sprintf(want + w, "\\ufffd");
					else
						want[w++] = (char)c;
				}
				sprintf(want + w, "\"}");
				out = one_string(s, n);
				ck_assert_str_eq(out, want);
				free(out);
			}
	/* real multi-byte text passes through untouched */
	out = one_string("\xf0\x9f\x98\x80 \xe2\x82\xac", 8);
	ck_assert_str_eq(out, "{\"s\":\"\xf0\x9f\x98\x80 \xe2\x82\xac\"}");
	free(out);
}
END_TEST

/* A record's strings come out as the writer's own string values do, for
 * every length to 24 with a byte that needs escaping (or is not ASCII)
 * at every place: the check for a plain string reads in words. */
START_TEST(record_strings_are_the_writers)
{
	static const char bad[] = {'"', '\\', 0x01, 0x1f, '\n', (char)0x80, (char)0xc3, (char)0xff};
	struct ttft_record r;
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	struct ttft_json_ctx ctx = {0};
	for (int len = 0; len <= 24; len++)
		for (int at = -1; at < len; at++)
			for (size_t b = 0; b < (at < 0 ? 1 : sizeof bad); b++) {
				for (int i = 0; i < len; i++)
					r.path[i] = (char)('a' + i);
				r.path[len] = 0;
				if (at >= 0)
					r.path[at] = bad[b];
				char *one = one_string(r.path, (size_t)len);
				struct ttft_json j;
				ck_assert_int_eq(ttft_json_init(&j, NULL, 0), 0);
				ttft_json_record(&j, NULL, &r, &ctx);
				char *rec = ttft_json_take(&j);
				ttft_json_free(&j);
				ck_assert_ptr_nonnull(rec);
				/* {"s":VALUE} against "path":VALUE,"status" */
				size_t vn = strlen(one) - 6;
				const char *v = strstr(rec, "\"path\":");
				ck_assert_ptr_nonnull(v);
				v += 7;
				ck_assert_msg(!strncmp(v, one + 5, vn) && !strncmp(v + vn, ",\"status\"", 9),
					      "len %d at %d: %s, want %s", len, at, rec, one);
				free(one);
				free(rec);
			}
	ttft_record_free(&r);
}
END_TEST

START_TEST(numbers_are_shortest_and_exact)
{
	char b[32];
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{0.053, "0.053"}, {0.1 + 0.2, "0.30000000000000004"}, {3, "3"},
		{1e-7, "1e-07"}, {-0.0105, "-0.0105"}, {123456.789012345, "123456.789012345"},
		{1700000000.123456, "1700000000.123456"}, {0.0001, "0.0001"},
		{NAN, "null"}, {INFINITY, "null"}, {-INFINITY, "null"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ttft_json_fmt_num(b, cases[i].v);
		ck_assert_str_eq(b, cases[i].want);
	}
	/* every duration of 1 to 99999 ns (which %g writes with an
	 * exponent) and its negative: exactly what %.15g writes */
	for (long long n = -99999; n <= 99999; n++) {
		double v = (double)n / 1e9;
		char want[32];
		snprintf(want, sizeof want, "%.15g", v);
		ttft_json_fmt_num(b, v);
		ck_assert_msg(!strcmp(b, want), "%lld ns: %s, want %s", n, b, want);
	}
	/* nanosecond durations, instants and arbitrary doubles: each reads
	 * back exactly, and no shorter form would */
	unsigned long long x = 88172645463325252ull;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		double v;
		switch (i % 3) {
		case 0: v = (double)(x % 5000000000000ull) / 1e9; break;
		case 1: v = (double)(x >> 11) * 0x1p-53 * pow(10, (int)(x % 24) - 12); break;
		default: memcpy(&v, &x, sizeof v); break;
		}
		size_t n = ttft_json_fmt_num(b, v);
		ck_assert_uint_lt(n, 32);
		if (!isfinite(v)) {
			ck_assert_str_eq(b, "null");
			continue;
		}
		ck_assert_msg(strtod(b, NULL) == v, "%.17g printed %s", v, b);
		char shorter[40];
		for (int prec = 1; prec < 17; prec++) {
			snprintf(shorter, sizeof shorter, "%.*g", prec, v);
			if (strtod(shorter, NULL) == v) {
				ck_assert_msg(strlen(b) <= strlen(shorter), "%.17g: %s, but %s reads "
					      "back too", v, b, shorter);
				break;
			}
		}
	}
}
END_TEST

static const unsigned long long p10s[4] = {1, 1000, 1000000, 1000000000};

/* The shortest "%.Ng" that reads back as v: what ttft_json_fmt_num wrote
 * before it wrote some numbers itself. */
static void printf_shortest(char *out, double v)
{
	if (!isfinite(v)) {
		strcpy(out, "null");
		return;
	}
	for (int prec = fabs(v) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
		snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

static void num_is_printfs(double v)
{
	char got[32], want[32];
	size_t n = ttft_json_fmt_num(got, v);
	printf_shortest(want, v);
	ck_assert_msg(!strcmp(got, want) && n == strlen(want), "%.17g: %s, want %s", v, got,
		      want);
}

/* The numbers written without printf (every whole number of nanoseconds
 * up to 9e6 s, zero and -0) are byte for byte printf's: every value to
 * 0.2 ms, each side of every power of ten, 100,000 random ones. */
START_TEST(numbers_written_directly_are_printfs)
{
	num_is_printfs(0.0);
	num_is_printfs(-0.0);
	for (long long n = -200000; n <= 200000; n++)
		num_is_printfs((double)n / 1e9);
	for (long long p = 1; p > 0; p = p <= LLONG_MAX / 10 ? p * 10 : 0) /* to 1e18 */
		for (long long d = -2; d <= 2; d++)
			for (int sign = -1; sign <= 1; sign += 2) {
				num_is_printfs(sign * (double)(p + d) / 1e9);
				num_is_printfs(sign * (double)(p + d));
			}
	unsigned long long x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		/* nanoseconds of every magnitude up to and past 9e6 s */
		long long n = (long long)(x >> (x % 64 < 10 ? 1 : 64 - (x % 64)));
		num_is_printfs((x & 1 ? -1 : 1) * (double)n / 1e9);
	}
}
END_TEST

/* ttft_str_num as it was written with printf: "%.*f" with dec decimals,
 * fewer where wider than width, then "%.*e", right-aligned in width. */
static const char *table_num_ref(char *out, size_t len, double v, int width, int dec)
{
	char t[64];
	int k = 0;
	for (int d = dec; d >= 0; d--)
		if ((k = snprintf(t, sizeof t, "%.*f", d, v)) <= width)
			break;
	for (int d = 3; k > width && d >= 0; d--)
		k = snprintf(t, sizeof t, "%.*e", d, v);
	snprintf(out, len, "%*s", width, t);
	return out;
}

static void table_num_is_printfs(double v, int width, int dec, size_t len)
{
	char want[80], got[80], t[64];
	table_num_ref(want, len, v, width, dec);
	memset(got, 'x', sizeof got);
	ttft_str_num(got, len, v, width, dec);
	ck_assert_msg(!strcmp(got, want), "%.17g width %d dec %d len %zu: '%s', printf '%s'", v,
		      width, dec, len, got, want);
	int k = ttft_str_fixed3(t, v);
	snprintf(want, sizeof want, "%.3f", v);
	ck_assert_msg(k < 0 ? !isfinite(v) || fabs(v) > 1e15 : (size_t)k == strlen(t) && !strcmp(t, want),
		      "%.17g: fixed3 %d '%s', printf '%s'", v, k, k < 0 ? "" : t, want);
}

/* The table's numbers (ttft-analyze's rows and summary, the cold and
 * sweep reports) are written without printf where they can be: exactly
 * what printf wrote. Ties (exact halves at every decimal, rounded to
 * even as glibc does), milliseconds of nanoseconds, widths that force
 * fewer decimals or e notation, a buffer that cuts, -0, NaN, infinities,
 * the edge of the exact path, and 200,000 random doubles of every
 * magnitude and bit pattern. */
START_TEST(table_numbers_are_printfs)
{
	static const double odd[] = {0.0, -0.0, NAN, -NAN, INFINITY, -INFINITY, 0.5, 1.5, 2.5,
				     0.0005, 0.0015, 0.0025, 1e15, 9.2e15, 9.3e15, 9.2e18, 1e300,
				     -1e300, 5e-324, DBL_MAX, -DBL_MIN, 123456.0005, 0.125,
				     0.375, 999.9995, 9999999.9995, 1e60, -1e55, 123e58};
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		for (int dec = 0; dec <= 9; dec++) {
			for (int width = 0; width <= 24; width++)
				table_num_is_printfs(odd[i], width, dec, 80);
			/* wider than any number's text: 1e300's 310 digits
			 * are cut to printf's 63 */
			table_num_is_printfs(odd[i], 70, dec, 80);
		}
	/* every tie k / 2^j of three and six decimals and more */
	for (int j = 1; j <= 12; j++)
		for (long k = -1000; k <= 1000; k++)
			for (int dec = 0; dec <= 9; dec += 3)
				table_num_is_printfs(ldexp((double)k, -j), 12, dec, 80);
	unsigned long long x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		double v;
		if (i % 3 == 0) {
			memcpy(&v, &x, sizeof v); /* any double */
		} else {
			/* milliseconds of nanoseconds, as the rows' phases */
			long long n = (long long)(x >> (x % 64 < 10 ? 1 : 64 - (x % 64)));
			v = (x & 1 ? -1 : 1) * ((double)n / 1e9) * 1e3;
		}
		int width = (int)(x >> 40) % 25, dec = (int)(x >> 50) % 10;
		size_t len = (x >> 20) % 7 == 0 ? (size_t)((x >> 24) % 30) + 1 : 80;
		table_num_is_printfs(v, width, dec, len);
	}
}
END_TEST

static char *members_of(long long iv, int64_t ns)
{
	struct ttft_json j;
	ck_assert_int_eq(ttft_json_init(&j, NULL, 0), 0);
	ttft_json_begin_obj(&j, NULL);
	ttft_json_int(&j, "i", iv);
	ttft_json_ns(&j, "t", ns);
	ttft_json_end_obj(&j);
	char *s = ttft_json_take(&j);
	ttft_json_free(&j);
	ck_assert_ptr_nonnull(s);
	return s;
}

static void int_and_ns_are(long long iv, int64_t ns)
{
	/* the instant: its seconds, then the nanoseconds' digits without
	 * their trailing zeros (no point when none are left) */
	unsigned long long u = ns < 0 ? 0ull - (unsigned long long)ns : (unsigned long long)ns;
	char frac[16] = "", want[96];
	if (u % 1000000000ull) {
		snprintf(frac, sizeof frac, ".%09llu", u % 1000000000ull);
		for (size_t k = strlen(frac); frac[k - 1] == '0'; k--)
			frac[k - 1] = 0;
	}
	snprintf(want, sizeof want, "{\"i\":%lld,\"t\":%s%llu%s}", iv, ns < 0 ? "-" : "",
		 u / 1000000000ull, frac);
	char *got = members_of(iv, ns);
	ck_assert_msg(!strcmp(got, want), "%lld, %lld ns: %s, want %s", iv, (long long)ns, got,
		      want);
	free(got);
}

/* Integers and instants, written without printf: each side of every power
 * of ten, the extremes, 100,000 random ones. */
START_TEST(integers_and_instants_are_exact)
{
	int_and_ns_are(0, 0);
	int_and_ns_are(LLONG_MIN, INT64_MIN);
	int_and_ns_are(LLONG_MAX, INT64_MAX);
	for (long long p = 1; p > 0; p = p <= LLONG_MAX / 10 ? p * 10 : 0) /* to 1e18 */
		for (long long d = -1; d <= 1; d++) {
			int_and_ns_are(p + d, p + d);
			int_and_ns_are(-(p + d), -(p + d));
		}
	unsigned long long x = 88172645463325252ull;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		long long v = (long long)(x >> (1 + x % 63));
		/* instants that are whole microseconds, milliseconds, seconds */
		int64_t t = (int64_t)(x >> 1) / (int64_t)p10s[i % 4] * (int64_t)p10s[i % 4];
		int_and_ns_are(x & 1 ? -v : v, x & 2 ? -t : t);
	}
}
END_TEST

START_TEST(structure_and_failures)
{
	struct ttft_json j;
	ck_assert_int_eq(ttft_json_init(&j, NULL, 1), 0);
	ttft_json_begin_obj(&j, NULL);
	ttft_json_begin_arr(&j, "empty");
	ttft_json_end_arr(&j);
	ttft_json_begin_obj(&j, "o");
	ttft_json_int(&j, "neg", -42);
	ttft_json_bool(&j, "t", 1);
	ttft_json_str(&j, "nul", NULL);
	ttft_json_end_obj(&j);
	ttft_json_begin_arr(&j, "a");
	ttft_json_num(&j, NULL, 0.5);
	ttft_json_num(&j, NULL, NAN);
	ttft_json_end_arr(&j);
	ttft_json_end_obj(&j);
	char *s = ttft_json_take(&j);
	ttft_json_free(&j);
	ck_assert_str_eq(s, "{\n\t\"empty\": [],\n\t\"o\": {\n\t\t\"neg\": -42,\n\t\t\"t\": true,"
			    "\n\t\t\"nul\": null\n\t},\n\t\"a\": [\n\t\t0.5,\n\t\tnull\n\t]\n}");
	free(s);
	/* a full disk is reported, not ignored */
	FILE *f = fopen("/dev/full", "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ttft_json_init(&j, f, 0), 0);
	for (int i = 0; i < 100000; i++)
		ttft_json_int(&j, NULL, i);
	ck_assert_int_eq(ttft_json_flush(&j), -1);
	ck_assert_int_eq(j.err, ENOSPC);
	ttft_json_free(&j);
	fclose(f);
}
END_TEST

static cJSON *record_json(const struct ttft_record *r, const struct ttft_json_ctx *ctx)
{
	struct ttft_json j;
	ck_assert_int_eq(ttft_json_init(&j, NULL, 0), 0);
	ttft_json_record(&j, NULL, r, ctx);
	char *s = ttft_json_take(&j);
	ttft_json_free(&j);
	cJSON *o = cJSON_Parse(s);
	ck_assert_msg(o != NULL, "%s", s);
	free(s);
	return o;
}

static void fields_are(cJSON *o, const char *const *want, size_t n)
{
	size_t k = 0;
	for (cJSON *c = o->child; c; c = c->next, k++) {
		ck_assert_msg(k < n, "extra field %s", c->string);
		ck_assert_str_eq(c->string, want[k]);
	}
	ck_assert_uint_eq(k, n);
}

#define MS(x) ((int64_t)((x) * 1000000.0))

START_TEST(record_fields_per_origin)
{
	/* the same request, as the log and as the probe saw it */
	struct ttft_record r;
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	r.pid = 7;
	r.conn = 3;
	strcpy(r.method, "POST");
	strcpy(r.path, "/v1/completions");
	r.status = 200;
	r.new_conn = 1;
	r.t_start = r.t_conn0 = MS(1000);
	r.t_est = MS(1001);
	r.t_req0 = MS(1002);
	r.t_req1 = MS(1003);
	r.t_hdr = MS(1013);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ttft_record_add_token(&r, MS(1053 + 10 * i)), 0);
	r.t_end = MS(1090);
	struct ttft_server_split *sp = ttft_record_split_rw(&r);
	ck_assert_ptr_nonnull(sp);
	sp->source = TTFT_SPLIT_VLLM_METRICS;
	sp->queue_s = 0.020;
	sp->prefill_s = 0.025;
	ck_assert_int_eq(ttft_record_finish(&r), 0);
	struct ttft_json_ctx ctx = {.anchor_mono_ns = MS(1000), .anchor_real_ns = MS(5000)};
	cJSON *o = record_json(&r, &ctx);
	static const char *const log_fields[] = {
		"pid", "conn", "method", "path", "status", "start_s", "start_unix_s",
		"tokens", "tokens_source", "prompt_tokens", "compressed", "several_choices",
		"traceparent", "dns_s", "connect_s", "tls_s", "send_s", "wait_headers_s",
		"ttft_s", "wire_ttft_s", "decode_s", "e2e_s", "itl_n", "itl_p50_s", "itl_p99_s",
		"app_gap_s", "queue_s", "prefill_s", "server_other_s", "network_s",
		"server_decode_s", "prefix_cache_hit_tokens", "server_ttft_s",
		"split_source", "tls", "encrypted", "preopened", "preopen_idle_s",
		"inherited", "request_unseen", "aio", "complete", "note",
	};
	fields_are(o, log_fields, sizeof log_fields / sizeof log_fields[0]);
	/* one formula: first token − last request byte − queue − prefill */
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "server_other_s")->valuedouble, 0.005, 1e-12);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "start_unix_s")->valuedouble, 5.0, 1e-12);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "itl_p50_s")->valuedouble, 0.010, 1e-12);
	/* no usage: its 4 events counted, at least that many tokens */
	ck_assert_int_eq(cJSON_GetObjectItem(o, "tokens")->valueint, 4);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "tokens_source")->valuestring, "events");
	cJSON_Delete(o);

	r.origin = TTFT_ORIGIN_PROBE;
	r.run = 2;
	r.label = "warm";
	r.ok = 1;
	r.usage_tokens = 9;
	ck_assert_int_eq(ttft_record_add_text(&r, "hi \xc3", 4), 0);
	ck_assert_ptr_nonnull(ttft_record_w3c_rw(&r));
	strcpy(r.w3c->trace_id, "0af7651916cd43dd8448eb211c80319c");
	struct ttft_json_ctx pctx = {.t0 = MS(999), .keep_text = 1};
	o = record_json(&r, &pctx);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "trace_id")->valuestring,
			 "0af7651916cd43dd8448eb211c80319c");
	static const char *const probe_fields[] = {
		"run", "label", "ok", "error", "trace_id", "status", "start_s", "tokens",
		"tokens_source", "prompt_tokens", "dns_s",
		"connect_s", "ttft_s", "decode_s", "e2e_s", "itl_n", "itl_p50_s", "itl_p99_s",
		"pretransfer_s", "starttransfer_s", "start_offset_s", "http_status",
		"queue_s", "prefill_s", "server_other_s", "network_s", "server_decode_s",
		"prefix_cache_hit_tokens", "server_ttft_s", "split_source", "text",
	};
	fields_are(o, probe_fields, sizeof probe_fields / sizeof probe_fields[0]);
	ck_assert_int_eq(cJSON_GetObjectItem(o, "tokens")->valueint, 9);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "tokens_source")->valuestring, "usage");
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "server_other_s")->valuedouble, 0.005, 1e-12);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "start_offset_s")->valuedouble, 0.001, 1e-12);
	ck_assert_double_eq_tol(cJSON_GetObjectItem(o, "pretransfer_s")->valuedouble, 0.002, 1e-12);
	ck_assert_str_eq(cJSON_GetObjectItem(o, "text")->valuestring, "hi \xef\xbf\xbd");
	cJSON_Delete(o);
	ttft_record_free(&r);
}
END_TEST

/* itl_n, the gaps a row's ITL percentiles come from: the count says why
 * an itl_p99_s is null (100 needed), and is itself null where the token
 * events are not visible or not known to be the row's own, never a 0
 * made up for gaps that were not seen. */
static cJSON *itl_n(const struct ttft_record *r)
{
	struct ttft_json_ctx ctx = {0};
	cJSON *o = record_json(r, &ctx);
	cJSON *v = cJSON_DetachItemFromObject(o, "itl_n");
	ck_assert_msg(v != NULL, "no itl_n");
	cJSON_Delete(o);
	return v;
}

static void itl_n_is(const struct ttft_record *r, int want, const char *what)
{
	cJSON *v = itl_n(r);
	if (want < 0)
		ck_assert_msg(cJSON_IsNull(v), "%s: itl_n not null", what);
	else
		ck_assert_msg(cJSON_IsNumber(v) && v->valueint == want, "%s: itl_n %s, want %d",
			      what, cJSON_IsNumber(v) ? "a number" : "not a number", want);
	cJSON_Delete(v);
}

/* A record written pretty, deep inside other values, is the same record;
 * written into a FILE (its staging buffer drained between members) the
 * same bytes as into memory. */
START_TEST(a_record_pretty_or_through_a_file)
{
	struct ttft_record r;
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	r.pid = 7;
	r.conn = 3;
	strcpy(r.method, "GET");
	strcpy(r.path, "/health \"x\"");
	r.status = 200;
	r.t_start = r.t_req0 = MS(1000);
	r.t_req1 = MS(1000) + 500;
	r.t_hdr = MS(1000) + 108500;
	r.t_end = MS(1000) + 331000;
	r.not_sse = 1;
	struct ttft_json_ctx ctx = {.anchor_mono_ns = MS(1000), .anchor_real_ns = MS(5000)};
	struct ttft_json j;
	ck_assert_int_eq(ttft_json_init(&j, NULL, 0), 0);
	ttft_json_record(&j, NULL, &r, &ctx);
	char *flat = ttft_json_take(&j);
	ttft_json_free(&j);
	ck_assert_int_eq(ttft_json_init(&j, NULL, 1), 0);
	ttft_json_begin_obj(&j, NULL);
	ttft_json_begin_arr(&j, "r");
	ttft_json_record(&j, NULL, &r, &ctx);
	ttft_json_end_arr(&j);
	ttft_json_end_obj(&j);
	char *pretty = ttft_json_take(&j);
	ttft_json_free(&j);
	ck_assert_ptr_nonnull(flat);
	ck_assert_ptr_nonnull(pretty);
	const char *head = "{\n\t\"r\": [\n\t\t{\n\t\t\t\"pid\": 7,\n\t\t\t\"conn\": 3,\n"
			   "\t\t\t\"method\": \"GET\",\n\t\t\t\"path\": \"/health \\\"x\\\"\",\n";
	ck_assert_msg(!strncmp(pretty, head, strlen(head)), "%s", pretty);
	const char *tail = "\n\t\t\t\"note\": \"not an event stream: its tokens are not read\""
			   "\n\t\t}\n\t]\n}";
	ck_assert_msg(strlen(pretty) > strlen(tail) &&
			      !strcmp(pretty + strlen(pretty) - strlen(tail), tail),
		      "%s", pretty);
	cJSON *a = cJSON_Parse(flat), *b = cJSON_Parse(pretty);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	ck_assert(cJSON_Compare(a, cJSON_GetArrayItem(cJSON_GetObjectItem(b, "r"), 0), 1));
	cJSON_Delete(a);
	cJSON_Delete(b);
	/* 1,000 records: the 64 KiB staging buffer drained a few times */
	FILE *f = tmpfile();
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(ttft_json_init(&j, f, 0), 0);
	ttft_json_begin_arr(&j, NULL);
	for (int i = 0; i < 1000; i++)
		ttft_json_record(&j, NULL, &r, &ctx);
	ttft_json_end_arr(&j);
	ck_assert_int_eq(ttft_json_flush(&j), 0);
	ttft_json_free(&j);
	size_t n = strlen(flat);
	ck_assert_int_eq(ftell(f), (long)(1000 * (n + 1) + 1));
	rewind(f);
	char *back = malloc(n + 1);
	ck_assert_ptr_nonnull(back);
	for (int i = 0; i < 1000; i++) { /* "[" or ",", then the record */
		ck_assert_uint_eq(fread(back, 1, n + 1, f), n + 1);
		ck_assert(back[0] == (i ? ',' : '[') && !memcmp(back + 1, flat, n));
	}
	ck_assert_int_eq(fgetc(f), ']');
	free(back);
	fclose(f);
	free(flat);
	free(pretty);
	ttft_record_free(&r);
}
END_TEST

START_TEST(itl_n_counts_the_gaps)
{
	struct ttft_record r;
	for (int origin = 0; origin < 2; origin++) {
		ttft_record_init(&r, origin ? TTFT_ORIGIN_PROBE : TTFT_ORIGIN_LOG);
		r.t_start = r.t_req0 = r.t_req1 = MS(1000);
		r.t_hdr = MS(1010);
		itl_n_is(&r, 0, "no token");
		ck_assert_int_eq(ttft_record_add_token(&r, MS(1020)), 0);
		itl_n_is(&r, 0, "one token");
		for (int i = 1; i < 4; i++)
			ck_assert_int_eq(ttft_record_add_token(&r, MS(1020 + i)), 0);
		ck_assert_int_eq(ttft_record_finish(&r), 0);
		itl_n_is(&r, 3, "4 tokens");
		cJSON *o = record_json(&r, &(struct ttft_json_ctx){0});
		ck_assert(cJSON_IsNull(cJSON_GetObjectItem(o, "itl_p99_s")));
		cJSON_Delete(o);
		for (int i = 4; i < 101; i++)
			ck_assert_int_eq(ttft_record_add_token(&r, MS(1020 + i)), 0);
		ck_assert_int_eq(ttft_record_finish(&r), 0);
		itl_n_is(&r, 100, "101 tokens");
		o = record_json(&r, &(struct ttft_json_ctx){0});
		ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(o, "itl_p99_s")));
		cJSON_Delete(o);
		ttft_record_free(&r);
	}
	/* the events not visible: ciphertext, a compressed body */
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	r.encrypted = 1;
	itl_n_is(&r, -1, "encrypted");
	r.encrypted = 0;
	r.compressed = 1;
	itl_n_is(&r, -1, "compressed");
	r.compressed = 0;
	/* not an event stream: the probe's --no-stream answer (its tokens the
	 * server's usage), a log's NDJSON; an empty body has no gaps */
	r.not_sse = 1;
	r.t_start = r.t_req0 = r.t_req1 = MS(1000);
	r.t_hdr = r.t_first = r.t_end = MS(1010);
	r.body_bytes = 12;
	itl_n_is(&r, -1, "not an event stream");
	r.usage_tokens = 64;
	itl_n_is(&r, -1, "one JSON answer of 64 tokens");
	r.usage_tokens = -1;
	r.body_bytes = 0;
	itl_n_is(&r, 0, "empty body");
	r.not_sse = 0;
	/* its response not known to be its own: neither are its gaps */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(ttft_record_add_token(&r, MS(1020 + i)), 0);
	ck_assert_int_eq(ttft_record_finish(&r), 0);
	itl_n_is(&r, 3, "4 tokens");
	r.fork_unsure = 1;
	itl_n_is(&r, -1, "fork_unsure");
	ttft_record_free(&r);
}
END_TEST

/* start_unix_s is the start through the log's anchor pair, exact; where
 * that sum does not fit (a damaged header: either half of the pair) it is
 * null, never a wrapped instant. */
START_TEST(start_unix_s_that_does_not_fit_is_null)
{
	struct ttft_record r;
	ttft_record_init(&r, TTFT_ORIGIN_LOG);
	r.t_start = MS(1000);
	static const struct ttft_json_ctx bad[] = {
		{.anchor_mono_ns = MS(500), .anchor_real_ns = INT64_MAX - MS(100)},
		{.anchor_mono_ns = INT64_MIN + 1, .anchor_real_ns = MS(5000)},
		{.anchor_mono_ns = MS(2000), .anchor_real_ns = INT64_MIN + MS(100)},
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		cJSON *o = record_json(&r, &bad[k]);
		ck_assert_msg(cJSON_IsNull(cJSON_GetObjectItem(o, "start_unix_s")),
			      "case %zu: start_unix_s %.17g", k,
			      cJSON_GetObjectItem(o, "start_unix_s")->valuedouble);
		cJSON_Delete(o);
	}
	/* the largest that fits: exact */
	struct ttft_json_ctx edge = {.anchor_mono_ns = MS(1000), .anchor_real_ns = INT64_MAX};
	struct ttft_json j;
	ck_assert_int_eq(ttft_json_init(&j, NULL, 0), 0);
	ttft_json_record(&j, NULL, &r, &edge);
	char *s = ttft_json_take(&j);
	ck_assert_msg(strstr(s, "\"start_unix_s\":9223372036.854775807,"), "%s", s);
	free(s);
	ttft_json_free(&j);
	ttft_record_free(&r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *t = tu_tcase(s, "json", 60);
	tcase_add_test(t, strings_are_valid_utf8);
	tcase_add_test(t, record_strings_are_the_writers);
	tcase_add_test(t, numbers_are_shortest_and_exact);
	tcase_add_test(t, numbers_written_directly_are_printfs);
	tcase_add_test(t, table_numbers_are_printfs);
	tcase_add_test(t, integers_and_instants_are_exact);
	tcase_add_test(t, structure_and_failures);
	tcase_add_test(t, record_fields_per_origin);
	tcase_add_test(t, itl_n_counts_the_gaps);
	tcase_add_test(t, a_record_pretty_or_through_a_file);
	tcase_add_test(t, start_unix_s_that_does_not_fit_is_null);
	return tu_run(s);
}
