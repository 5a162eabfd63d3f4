/* ttft_json.c — see ttft_json.h. */
#include "ttft_json.h"
#include "ttft_clock.h"
#include "ttft_str.h"

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

static inline __attribute__((always_inline)) int room(struct ttft_json *j, size_t n)
{
	return __builtin_expect(j->len + n + 1 <= j->cap, 1) || room_slow(j, n);
}

static inline __attribute__((always_inline)) void put(struct ttft_json *j, const char *s,
						       size_t n)
{
	if (!room(j, n))
		return;
	memcpy(j->buf + j->len, s, n);
	j->len += n;
}

static inline __attribute__((always_inline)) void putc1(struct ttft_json *j, char c)
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

/* How many bytes from s on go out as they are: printable ASCII other than
 * '"' and '\\'. Eight at a time: a byte's top bit in m marks a byte at or
 * above 0x80, below 0x20, '"' or '\\' (the lowest such mark is exact: a
 * false one can only follow a true one). */
static inline uint64_t marks(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull, tops = 0x8080808080808080ull;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
	return (w | ((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b)) & tops;
}

/* 8 bytes, the first in the low bits whatever the byte order */
static inline uint64_t word(uint64_t w)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

static size_t plain_len(const unsigned char *s, size_t n)
{
	uint64_t w, m;
	if (n < 8) {
		/* padded with 'A', which is plain: a mark there would need a
		 * true one below it */
		w = 0x4141414141414141ull;
		memcpy(&w, s, n);
		m = marks(word(w));
		size_t k = m ? (size_t)(__builtin_ctzll(m) >> 3) : 8;
		return k < n ? k : n;
	}
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, sizeof w);
		if ((m = marks(word(w))))
			return i + (size_t)(__builtin_ctzll(m) >> 3);
	}
	if (i == n)
		return n;
	/* the last 8 bytes, overlapping what was checked (plain) */
	memcpy(&w, s + n - 8, sizeof w);
	m = marks(word(w));
	return m ? n - 8 + (size_t)(__builtin_ctzll(m) >> 3) : n;
}

/* 1 when all n bytes of s go out as they are (plain_len(s, n) == n),
 * found with loads that may overlap: only whether, not where. */
static inline int all_plain(const unsigned char *s, size_t n)
{
	uint64_t w, m = 0;
	if (n >= 8) {
		size_t i = 0;
		for (; i + 8 < n; i += 8) {
			memcpy(&w, s + i, sizeof w);
			m |= marks(word(w));
		}
		memcpy(&w, s + n - 8, sizeof w); /* the last 8, overlapping */
		return !(m | marks(word(w)));
	}
	if (n >= 4) { /* the first 4 and the last 4 */
		uint32_t a, b;
		memcpy(&a, s, sizeof a);
		memcpy(&b, s + n - 4, sizeof b);
		return !marks(word((uint64_t)a | (uint64_t)b << 32));
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] >= 0x80 || s[i] == '"' || s[i] == '\\')
			return 0;
	return 1;
}

/* n bytes from s to d with copies that may overlap: no call for the
 * short strings most values are. */
static inline void copy_short(char *d, const char *s, size_t n)
{
	if (n > 16) {
		memcpy(d, s, n);
	} else if (n >= 8) {
		uint64_t a, b;
		memcpy(&a, s, sizeof a);
		memcpy(&b, s + n - 8, sizeof b);
		memcpy(d, &a, sizeof a);
		memcpy(d + n - 8, &b, sizeof b);
	} else if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, s, sizeof a);
		memcpy(&b, s + n - 4, sizeof b);
		memcpy(d, &a, sizeof a);
		memcpy(d + n - 4, &b, sizeof b);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
	}
}

static void put_string(struct ttft_json *j, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	putc1(j, '"');
	size_t i = 0;
	while (i < n) {
		size_t k = i + plain_len(s + i, n - i);
		put(j, str + i, k - i);
		i = k;
		if (i == n)
			break;
		unsigned c = s[i];
		if (c >= 0x80) {
			size_t l = ttft_utf8_len(s + i, n - i);
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
		size_t n = strlen(key);
		if (plain_len((const unsigned char *)key, n) == n && room(j, n + 4)) {
			/* the usual key: "key": in one go */
			char *b = j->buf + j->len;
			b[0] = '"';
			memcpy(b + 1, key, n);
			b[n + 1] = '"';
			b[n + 2] = ':';
			b[n + 3] = ' ';
			j->len += n + 3 + (j->pretty != 0);
			return;
		}
		put_string(j, key, n);
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

/* Numbers are written forwards where they go: the count of digits
 * first, then the digits from the last, two at a time. */
static const char d2[] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const unsigned long long p10[20] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull,
	100000000ull, 1000000000ull, 10000000000ull, 100000000000ull,
	1000000000000ull, 10000000000000ull, 100000000000000ull,
	1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
	1000000000000000000ull, 10000000000000000000ull,
};

/* How many decimal digits v has (0 has one). log10(2) ~ 1233 / 4096
 * gives the count from v's bits, or one more; v | 1 has v's digits (an
 * even v is never the last below a power of ten). */
static inline int ndigits(unsigned long long v)
{
	unsigned long long x = v | 1;
	int t = ((64 - __builtin_clzll(x)) * 1233) >> 12;
	return t + 1 - (x < p10[t]);
}

/* v's decimal digits in n places (v has at most n; zeros in front where
 * it has fewer), written backwards to end. Divisions of 64 bits only
 * while v needs them. */
static inline void digits_back(char *end, unsigned long long v, int n)
{
	for (; v > UINT32_MAX; n -= 2) {
		unsigned r = (unsigned)(v % 100);
		v /= 100;
		end -= 2;
		memcpy(end, d2 + 2 * r, 2);
	}
	unsigned x = (unsigned)v;
	/* four digits a division: the pair's halves by multiplications */
	for (; n >= 4; n -= 4) {
		unsigned r = x % 10000;
		x /= 10000;
		end -= 4;
		memcpy(end, d2 + 2 * (r / 100), 2);
		memcpy(end + 2, d2 + 2 * (r % 100), 2);
	}
	if (n >= 2) {
		unsigned r = x % 100;
		x /= 100;
		end -= 2;
		memcpy(end, d2 + 2 * r, 2);
		n -= 2;
	}
	if (n)
		end[-1] = (char)('0' + x);
}

/* v in decimal at o; returns where it ends. */
static inline char *put_u(char *o, unsigned long long v)
{
	int n = ndigits(v);
	digits_back(o + n, v, n);
	return o + n;
}

static inline char *put_i(char *o, long long v)
{
	if (v < 0)
		*o++ = '-';
	return put_u(o, v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v);
}

/* Seconds ip, then (fp, nanoseconds below 1e9, not 0) the point and
 * fp's digits without their trailing zeros; returns where it ends. The
 * fraction's nine digits are written, its zeros included (a number's
 * room holds them), and the zeros found in the text: one load, not a
 * division a pair of them. */
static inline char *put_sec(char *o, unsigned long long ip, unsigned fp)
{
	o = put_u(o, ip);
	if (!fp)
		return o;
	*o++ = '.';
	digits_back(o + 9, fp, 9);
	uint64_t w;
	memcpy(&w, o + 1, sizeof w);
	/* the last eight digits, '0' as 0, the last in the top byte; all
	 * eight zeros leave the first, which is not (fp is not 0) */
	w = word(w) ^ 0x3030303030303030ull;
	int zeros = w ? __builtin_clzll(w) >> 3 : 8;
	return o + 9 - zeros;
}

/* Durations and instants are integer nanoseconds divided by 1e9, so most
 * numbers are exactly n/1e9 for an integer n: those are written as that
 * decimal without a printf round trip. It is the same string "%.15g"
 * would give (the nearest double to a decimal of at most 15 digits prints
 * as that decimal), so the fast path never changes the output. */
static size_t fmt_tiny_nanos(char *out, double v);

static size_t fmt_nanos(char *out, double v)
{
	double a = fabs(v);
	if (a < 1e-4)
		return fmt_tiny_nanos(out, v);
	if (!(a < 9e6))
		return 0; /* %g would use an exponent, or n is too large */
	/* rounded half away from zero, as llround; a v that is not n/1e9
	 * fails the check below whatever the rounding */
	long long n = (long long)(v * 1e9 + (v < 0 ? -0.5 : 0.5));
	if ((double)n / 1e9 != v)
		return 0;
	unsigned long long u = n < 0 ? (unsigned long long)-n : (unsigned long long)n;
	unsigned long long ip = u / 1000000000ull;
	unsigned fp = (unsigned)(u % 1000000000ull);
	/* the digits %.15g would print: the integer's and the fraction's
	 * without its trailing zeros, or (below 1) the fraction's without
	 * its leading zeros, at most 9; ip has at most 7 (a < 9e6), so
	 * only 7 and a fraction of 9 (its last digit not 0) are too many */
	if (ip >= 1000000 && fp % 10)
		return 0;
	char *o = out;
	if (n < 0)
		*o++ = '-';
	o = put_sec(o, ip, fp);
	*o = 0;
	return (size_t)(o - out);
}

/* 1 to 99999 ns, which %.15g writes with an exponent: "5e-05",
 * "1.2345e-05", "-1e-09" — the digits of n without its trailing zeros,
 * the point after the first, the power of ten in at least two digits. */
static size_t fmt_tiny_nanos(char *out, double v)
{
	if (!(fabs(v) >= 1e-9))
		return 0; /* 0, NaN, or not a whole number of nanoseconds */
	long long n = (long long)(v * 1e9 + (v < 0 ? -0.5 : 0.5));
	if (n == 0 || (double)n / 1e9 != v)
		return 0;
	unsigned u = (unsigned)(n < 0 ? -n : n);
	int digits = ndigits(u);
	while (u % 10 == 0)
		u /= 10;
	int nd = ndigits(u); /* without the trailing zeros */
	char d[8];
	digits_back(d + nd, u, nd);
	size_t len = 0;
	if (n < 0)
		out[len++] = '-';
	out[len++] = d[0];
	if (nd > 1) {
		out[len++] = '.';
		memcpy(out + len, d + 1, (size_t)nd - 1);
		len += (size_t)nd - 1;
	}
	int x = 9 - (digits - 1); /* the exponent's magnitude, 5 to 9 */
	out[len++] = 'e';
	out[len++] = '-';
	out[len++] = '0';
	out[len++] = (char)('0' + x);
	out[len] = 0;
	return len;
}

size_t ttft_json_fmt_num(char *out, double v)
{
	if (!isfinite(v)) {
		memcpy(out, "null", 5);
		return 4;
	}
	if (v == 0) { /* as %.15g writes it, -0 with its sign */
		const char *z = signbit(v) ? "-0" : "0";
		size_t n = strlen(z);
		memcpy(out, z, n + 1);
		return n;
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

/* The most a number, an integer or an instant takes, its NUL included
 * (ttft_json_fmt_num writes one). */
#define VMAX 32

/* An instant or duration of ns nanoseconds as exact decimal seconds. */
static char *put_ns(char *o, int64_t ns)
{
	if (ns < 0)
		*o++ = '-';
	unsigned long long u = ns < 0 ? 0ull - (unsigned long long)ns : (unsigned long long)ns;
	return put_sec(o, u / 1000000000ull, (unsigned)(u % 1000000000ull));
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
	lead(j, key);
	if (room(j, VMAX))
		j->len = (size_t)(put_i(j->buf + j->len, v) - j->buf);
}

void ttft_json_ns(struct ttft_json *j, const char *key, int64_t ns)
{
	lead(j, key);
	if (room(j, VMAX))
		j->len = (size_t)(put_ns(j->buf + j->len, ns) - j->buf);
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

/* ---- members whose keys are literals (the record's, the summary's) ----
 *
 * The same bytes as the functions above, with the key quoted at compile
 * time (K("ttft_s") is "\"ttft_s\":" and its length): no strlen and no
 * escaping for the dozens of keys of every record. Inside an object only,
 * through a writer that holds the buffer, the depth and whether a member
 * came yet in locals: a byte stored into the buffer may alias any field
 * of j, which the compiler would otherwise read again for every member
 * (and so any of w's, were its address to leave the inlined helpers). A
 * string goes through put_string, j's own (w_give, then w_take). */
#define K(key) "\"" key "\":", sizeof("\"" key "\":") - 1

struct kw {
	struct ttft_json *j;
	char *buf;
	size_t len, cap;
	int pretty, depth;
	int any;            /* a member came: the next has a comma */
};

static inline __attribute__((always_inline)) void w_take(struct kw *w)
{
	w->buf = w->j->buf;
	w->len = w->j->len;
	w->cap = w->j->cap;
}

static inline __attribute__((always_inline)) void w_give(struct kw *w)
{
	w->j->len = w->len;
}

/* The object just begun in j, its members to come through w. */
static inline __attribute__((always_inline)) void w_open(struct kw *w, struct ttft_json *j)
{
	w->j = j;
	w->pretty = j->pretty;
	w->depth = j->depth;
	w->any = 0;
	w_take(w);
}

/* Back to j, which ends the object. */
static inline __attribute__((always_inline)) void w_close(struct kw *w)
{
	w_give(w);
	if (w->any)
		w->j->filled |= 1u << w->depth;
	ttft_json_end_obj(w->j);
}

/* Room for a member of at most vmax bytes of value; its comma, indent
 * and key written. Returns where the value goes, NULL when there is no
 * room (err set). */
static inline __attribute__((always_inline)) char *w_member(struct kw *w, const char *qk,
							     size_t kn, size_t vmax)
{
	size_t need = 1 + (w->pretty ? 2 + (size_t)w->depth : 0) + kn + vmax;
	if (__builtin_expect(w->len + need + 1 > w->cap, 0)) {
		w_give(w);
		int ok = room_slow(w->j, need);
		w_take(w);
		if (!ok)
			return NULL;
	}
	char *o = w->buf + w->len;
	if (w->any)
		*o++ = ',';
	w->any = 1;
	if (w->pretty) {
		*o++ = '\n';
		memset(o, '\t', (size_t)w->depth);
		o += w->depth;
	}
	memcpy(o, qk, kn);
	o += kn;
	if (w->pretty)
		*o++ = ' ';
	return o;
}

/* The member's value ends at o. */
static inline __attribute__((always_inline)) void w_end(struct kw *w, char *o)
{
	w->len = (size_t)(o - w->buf);
}

/* A literal value: "null", "true", "false". */
static inline __attribute__((always_inline)) void lit_k(struct kw *w, const char *qk, size_t kn,
							 const char *v, size_t n)
{
	char *o = w_member(w, qk, kn, n);
	if (o) {
		memcpy(o, v, n);
		w_end(w, o + n);
	}
}

static inline __attribute__((always_inline)) void null_k(struct kw *w, const char *qk, size_t kn)
{
	lit_k(w, qk, kn, "null", 4);
}

static inline __attribute__((always_inline)) void bool_k(struct kw *w, const char *qk, size_t kn, int v)
{
	if (v)
		lit_k(w, qk, kn, "true", 4);
	else
		lit_k(w, qk, kn, "false", 5);
}

static inline __attribute__((always_inline)) void num_k(struct kw *w, const char *qk, size_t kn, double v)
{
	if (!isfinite(v)) {
		null_k(w, qk, kn);
		return;
	}
	char *o = w_member(w, qk, kn, VMAX);
	if (o)
		w_end(w, o + ttft_json_fmt_num(o, v));
}

static inline __attribute__((always_inline)) void int_k(struct kw *w, const char *qk, size_t kn, long long v)
{
	char *o = w_member(w, qk, kn, VMAX);
	if (o)
		w_end(w, put_i(o, v));
}

static inline __attribute__((always_inline)) void ns_k(struct kw *w, const char *qk, size_t kn, int64_t ns)
{
	char *o = w_member(w, qk, kn, VMAX);
	if (o)
		w_end(w, put_ns(o, ns));
}

/* s (n bytes), plain: whether all_plain holds for it. */
static inline __attribute__((always_inline)) void strp_k(struct kw *w, const char *qk, size_t kn,
							  const char *s, size_t n, int plain)
{
	if (plain) { /* the usual string */
		char *o = w_member(w, qk, kn, n + 2);
		if (o) {
			*o++ = '"';
			copy_short(o, s, n);
			o[n] = '"';
			w_end(w, o + n + 1);
		}
		return;
	}
	char *o = w_member(w, qk, kn, 0);
	if (!o)
		return;
	w_end(w, o);
	w_give(w);
	put_string(w->j, s, n);
	w_take(w);
}

static inline __attribute__((always_inline)) void strn_k(struct kw *w, const char *qk, size_t kn,
							  const char *s, size_t n)
{
	strp_k(w, qk, kn, s, n, all_plain((const unsigned char *)s, n));
}

static inline __attribute__((always_inline)) void str_k(struct kw *w, const char *qk, size_t kn, const char *s)
{
	if (s)
		strn_k(w, qk, kn, s, strlen(s));
	else
		null_k(w, qk, kn);
}

/* Members whose values are known, written compact as one run of text:
 * RUN(KS("a") "null," KS("b") "false") is the members "a" and "b" as
 * separate ones would write them without pretty printing (only there:
 * pretty members each have their own line). */
#define KS(key) "\"" key "\":"
#define RUN(text) text, sizeof(text) - 1

static inline __attribute__((always_inline)) void run_k(struct kw *w, const char *text, size_t n)
{
	char *o = w_member(w, text, n, 0);
	if (o)
		w_end(w, o);
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
	struct kw w;
	ttft_json_begin_obj(j, key);
	w_open(&w, j);
	/* the count says why a p90 or p99 is null (ttft_quantile_min_n) */
	int_k(&w, K("n"), (long long)s->n);
	num_k(&w, K("min"), s->min);
	num_k(&w, K("median"), s->median);
	num_k(&w, K("p90"), s->p90);
	num_k(&w, K("p99"), s->p99);
	num_k(&w, K("max"), s->max);
	w_close(&w);
}

/* The order: who, when, how long (the phases in time order), the client's
 * own view, the server's split. Fields a producer cannot know are left
 * out rather than written as null (docs/phases.md). */
static inline __attribute__((always_inline)) void record(struct ttft_json *j, const char *key,
							  const struct ttft_record *r,
							  const struct ttft_json_ctx *ctx,
							  int pretty, int log_only)
{
	/* log_only: a log's record, known when compiled (most rows) */
	int log = log_only || r->origin == TTFT_ORIGIN_LOG;
	int probe = !log_only && r->origin == TTFT_ORIGIN_PROBE;
	struct ttft_phases p;
	ttft_record_phases(r, &p);
	struct kw w;
	ttft_json_begin_obj(j, key);
	w_open(&w, j);
	w.pretty = pretty;
	if (probe) {
		int_k(&w, K("run"), r->run);
		str_k(&w, K("label"), r->label);
		bool_k(&w, K("ok"), r->ok);
		str_k(&w, K("error"), ttft_record_error(r));
	}
	if (log && ctx->host)
		str_k(&w, K("host"), ctx->host);
	if (log) {
		int_k(&w, K("pid"), r->pid);
		int_k(&w, K("conn"), (long long)r->conn);
		str_k(&w, K("method"), r->encrypted ? NULL : r->method);
		str_k(&w, K("path"), r->encrypted ? NULL : r->path);
	}
	const char *trace_id = ttft_record_trace_id(r);
	if (probe || trace_id[0])
		str_k(&w, K("trace_id"), trace_id[0] ? trace_id : NULL);
	if (r->status)
		int_k(&w, K("status"), r->status);
	else
		null_k(&w, K("status"));
	if (r->t_start)
		ns_k(&w, K("start_s"), r->t_start);
	else
		null_k(&w, K("start_s"));
	int64_t unix_ns;
	if (log && r->t_start &&
	    ttft_clock_to_real_ns(r->t_start, ctx->anchor_mono_ns, ctx->anchor_real_ns,
				  &unix_ns) == 0)
		ns_k(&w, K("start_unix_s"), unix_ns);
	else if (log) /* not seen (request_unseen): no start, no clock origin;
		       * a damaged anchor or start: no sum that fits */
		null_k(&w, K("start_unix_s"));
	int src;
	long tokens = ttft_record_tokens_src(r, &src);
	/* "events": counted, at least that many (one event can carry several) */
	const char *tokens_source = ttft_tokens_source_name(src);
	if (!pretty && tokens < 0 && !tokens_source && r->prompt_tokens < 0) {
		run_k(&w, RUN(KS("tokens") "null," KS("tokens_source") "null,"
			      KS("prompt_tokens") "null"));
	} else {
		if (tokens < 0) /* unknown, not zero */
			null_k(&w, K("tokens"));
		else
			int_k(&w, K("tokens"), tokens);
		str_k(&w, K("tokens_source"), tokens_source);
		if (r->prompt_tokens >= 0)
			int_k(&w, K("prompt_tokens"), r->prompt_tokens);
		else
			null_k(&w, K("prompt_tokens"));
	}
	if (log && !pretty && !r->compressed && !r->several_choices &&
	    !ttft_record_traceparent(r)[0]) {
		run_k(&w, RUN(KS("compressed") "false," KS("several_choices") "false,"
			      KS("traceparent") "null"));
	} else if (log) {
		bool_k(&w, K("compressed"), r->compressed);
		bool_k(&w, K("several_choices"), r->several_choices);
		if (ttft_record_traceparent(r)[0])
			str_k(&w, K("traceparent"), ttft_record_traceparent(r));
		else
			null_k(&w, K("traceparent"));
	}
	num_k(&w, K("dns_s"), p.dns_s);
	num_k(&w, K("connect_s"), p.connect_s);
	if (log) {
		num_k(&w, K("tls_s"), p.tls_s);
		num_k(&w, K("send_s"), p.send_s);
		num_k(&w, K("wait_headers_s"), p.wait_headers_s);
	}
	if (log && !pretty && isnan(p.ttft_s) && isnan(p.wire_ttft_s) && isnan(p.decode_s)) {
		/* no first token (a short request's answer) */
		run_k(&w, RUN(KS("ttft_s") "null," KS("wire_ttft_s") "null,"
			      KS("decode_s") "null"));
	} else {
		num_k(&w, K("ttft_s"), p.ttft_s);
		if (log)
			num_k(&w, K("wire_ttft_s"), p.wire_ttft_s);
		num_k(&w, K("decode_s"), p.decode_s);
	}
	num_k(&w, K("e2e_s"), p.e2e_s);
	/* the count says why an itl_p99_s is null (ttft_quantile_min_n) */
	long itl_n = ttft_record_itl_n_tok(r, tokens);
	if (log && !pretty && itl_n < 0 && isnan(p.itl_p50_s) && isnan(p.itl_p99_s) &&
	    isnan(p.app_gap_s)) {
		run_k(&w, RUN(KS("itl_n") "null," KS("itl_p50_s") "null,"
			      KS("itl_p99_s") "null," KS("app_gap_s") "null"));
	} else {
		if (itl_n < 0) /* the gaps not seen, not none */
			null_k(&w, K("itl_n"));
		else
			int_k(&w, K("itl_n"), itl_n);
		num_k(&w, K("itl_p50_s"), p.itl_p50_s);
		num_k(&w, K("itl_p99_s"), p.itl_p99_s);
		if (log)
			num_k(&w, K("app_gap_s"), p.app_gap_s);
	}
	if (probe) {
		num_k(&w, K("pretransfer_s"), p.pretransfer_s);
		num_k(&w, K("starttransfer_s"), p.starttransfer_s);
		num_k(&w, K("start_offset_s"), r->t_start && ctx->t0
				  ? (double)(r->t_start - ctx->t0) / 1e9 : NAN);
		int_k(&w, K("http_status"), r->status);
	}
	const struct ttft_server_split *s = ttft_record_split(r);
	if (!pretty && !r->split) {
		/* no split: the shared one's NaNs, no source, no note */
		run_k(&w, RUN(KS("queue_s") "null," KS("prefill_s") "null"));
		num_k(&w, K("server_other_s"), p.server_other_s);
		num_k(&w, K("network_s"), p.network_s);
		run_k(&w, RUN(KS("server_decode_s") "null," KS("prefix_cache_hit_tokens") "null,"
			      KS("server_ttft_s") "null," KS("split_source") "null"));
	} else {
		num_k(&w, K("queue_s"), s->queue_s);
		num_k(&w, K("prefill_s"), s->prefill_s);
		num_k(&w, K("server_other_s"), p.server_other_s);
		num_k(&w, K("network_s"), p.network_s);
		num_k(&w, K("server_decode_s"), s->decode_s);
		num_k(&w, K("prefix_cache_hit_tokens"), s->hit_tokens);
		num_k(&w, K("server_ttft_s"), s->server_ttft_s);
		str_k(&w, K("split_source"), s->source);
		if (s->note[0])
			str_k(&w, K("split_note"), s->note);
	}
	if (log) {
		char nb[640]; /* every part of a note, whole */
		if (!pretty && !(r->tls | r->encrypted | r->preopened | r->inherited |
				 r->request_unseen | r->aio) && isnan(p.preopen_idle_s)) {
			run_k(&w, RUN(KS("tls") "false," KS("encrypted") "false,"
				      KS("preopened") "false," KS("preopen_idle_s") "null,"
				      KS("inherited") "false," KS("request_unseen") "false,"
				      KS("aio") "false"));
		} else {
			bool_k(&w, K("tls"), r->tls);
			bool_k(&w, K("encrypted"), r->encrypted);
			bool_k(&w, K("preopened"), r->preopened);
			num_k(&w, K("preopen_idle_s"), p.preopen_idle_s);
			bool_k(&w, K("inherited"), r->inherited);
			bool_k(&w, K("request_unseen"), r->request_unseen);
			bool_k(&w, K("aio"), r->aio);
		}
		bool_k(&w, K("complete"), ttft_record_complete(r));
		const char *note = ttft_record_note(r, nb, sizeof nb);
		if (note && note != nb) { /* a constant: the same as rows before */
			if (note != j->note) {
				j->note = note;
				j->note_len = strlen(note);
				j->note_plain = all_plain((const unsigned char *)note,
							  j->note_len);
			}
			strp_k(&w, K("note"), note, j->note_len, j->note_plain);
		} else {
			str_k(&w, K("note"), note);
		}
	}
	if (probe && ctx->keep_text)
		strn_k(&w, K("text"), r->text ? r->text : "", r->textlen);
	w_close(&w);
}

/* Written twice, pretty and not, each with its layout known when compiled. */
void ttft_json_record(struct ttft_json *j, const char *key, const struct ttft_record *r,
		      const struct ttft_json_ctx *ctx)
{
	int log = r->origin == TTFT_ORIGIN_LOG;
	if (j->pretty)
		record(j, key, r, ctx, 1, 0);
	else if (log)
		record(j, key, r, ctx, 0, 1);
	else
		record(j, key, r, ctx, 0, 0);
}
