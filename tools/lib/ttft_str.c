/* ttft_str.c — see ttft_str.h. */
#include "ttft_str.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(struct ttft_str *b, size_t more)
{
	if (b->oom)
		return -1;
	if (b->n + more + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->n + more + 1)
		cap *= 2;
	char *p = realloc(b->s, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->s = p;
	b->cap = cap;
	return 0;
}

void ttft_str_add(struct ttft_str *b, const char *p, size_t n)
{
	if (reserve(b, n) != 0)
		return;
	memcpy(b->s + b->n, p, n);
	b->n += n;
	b->s[b->n] = 0;
}

void ttft_str_printf(struct ttft_str *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || reserve(b, (size_t)k) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
size_t ttft_utf8_len(const unsigned char *s, size_t n)
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

const char *ttft_str_column(char *out, size_t len, const char *s, size_t width)
{
	size_t n = 0, cols = 0;
	if (!len)
		return "";
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p && cols < width;) {
		size_t in = 1, l = ttft_utf8_len(p, strnlen((const char *)p, 4));
		const char *c = (const char *)p;
		if (*p >= 0x80 && l)
			in = l;
		else if (*p >= 0x80 || *p < 0x20 || *p == 0x7f)
			c = "\xef\xbf\xbd", l = 3; /* U+FFFD */
		else
			l = 1;
		/* room for it, the padding after it and the NUL */
		if (n + l + (width - cols - 1) + 1 > len)
			break;
		memcpy(out + n, c, l);
		n += l, p += in, cols++;
	}
	for (; cols < width && n + 1 < len; cols++)
		out[n++] = ' ';
	out[n] = 0;
	return out;
}

/* "%.*f" of v with dec (0-9) decimals into t (at least 48 bytes), its
 * length; -1 where this does not take it (not finite, or |v| * 10^dec
 * past 9.2e18: the caller asks snprintf). Exact, as glibc's: a double is
 * m * 2^e, so v * 10^dec is m * 10^dec (below 2^83) shifted by e, whose
 * remainder against the half decides the rounding, a tie to even. */
static inline __attribute__((always_inline)) int fixed(char *t, double v, int dec)
{
	static const uint64_t p10[10] = {1,	 10,	  100,	    1000,      10000,
					 100000, 1000000, 10000000, 100000000, 1000000000};
	if (!isfinite(v) || dec < 0 || dec > 9)
		return -1;
	int neg = signbit(v) != 0;
	double a = neg ? -v : v;
	if (a >= 9.2e18 / (double)p10[dec])
		return -1;
	int e;
	double fr = frexp(a, &e); /* a = fr * 2^e, fr in [0.5, 1) or 0 */
	uint64_t m = (uint64_t)ldexp(fr, 53);
	e -= 53;                  /* a = m * 2^e exactly */
	unsigned __int128 x = (unsigned __int128)m * p10[dec], q;
	if (e >= 0) {
		q = x << e; /* below 2^63 by the bound above */
	} else if (-e >= 120) {
		q = 0; /* below 2^-67 * 10^9: under the half */
	} else {
		unsigned sh = (unsigned)-e;
		unsigned __int128 rem = x & (((unsigned __int128)1 << sh) - 1);
		unsigned __int128 half = (unsigned __int128)1 << (sh - 1);
		q = x >> sh;
		if (rem > half || (rem == half && (q & 1)))
			q++;
	}
	uint64_t n = (uint64_t)q, ip = n / p10[dec], fp = n % p10[dec];
	char d[24];
	int k = 0;
	do
		d[k++] = (char)('0' + ip % 10);
	while ((ip /= 10) != 0);
	int o = 0;
	if (neg)
		t[o++] = '-';
	while (k)
		t[o++] = d[--k];
	if (dec) {
		t[o++] = '.';
		for (int i = dec - 1; i >= 0; i--, fp /= 10)
			t[o + i] = (char)('0' + fp % 10);
		o += dec;
	}
	t[o] = 0;
	return o;
}

int ttft_str_fixed3(char *t, double v)
{
	return fixed(t, v, 3);
}

const char *ttft_str_num(char *out, size_t len, double v, int width, int dec)
{
	char t[64];
	int k = 0;
	for (int d = dec; d >= 0; d--) {
		k = fixed(t, v, d);
		if (k < 0)
			k = snprintf(t, sizeof t, "%.*f", d, v);
		if (k <= width)
			break;
	}
	for (int d = 3; k > width && d >= 0; d--)
		k = snprintf(t, sizeof t, "%.*e", d, v);
	if (k < 0 || k >= (int)sizeof t) /* printf's cut: what t holds */
		k = (int)strlen(t);
	if (!len)
		return out;
	/* "%*s": right-aligned in width, cut to len - 1 */
	size_t pad = k < width ? (size_t)(width - k) : 0, o = 0;
	for (; o < pad && o + 1 < len; o++)
		out[o] = ' ';
	size_t c = (size_t)k < len - 1 - o ? (size_t)k : len - 1 - o;
	memcpy(out + o, t, c);
	out[o + c] = 0;
	return out;
}

void ttft_str_xml(struct ttft_str *b, const char *text)
{
	for (const char *p = text ? text : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x80) {
			/* UTF-8 as it is; anything else (a foreign byte, a
			 * character cut by a label's limit) as U+FFFD, and so
			 * U+FFFE and U+FFFF, which XML does not allow: the
			 * document stays well-formed */
			const unsigned char *u = (const unsigned char *)p;
			size_t l = ttft_utf8_len(u, strnlen(p, 4));
			if (l && !(l == 3 && u[0] == 0xef && u[1] == 0xbf && u[2] >= 0xbe)) {
				ttft_str_add(b, p, l);
				p += l - 1;
			} else {
				ttft_str_add(b, "\xef\xbf\xbd", 3);
			}
			continue;
		}
		switch (c) {
		case '&': ttft_str_add(b, "&amp;", 5); break;
		case '<': ttft_str_add(b, "&lt;", 4); break;
		case '>': ttft_str_add(b, "&gt;", 4); break;
		case '"': ttft_str_add(b, "&quot;", 6); break;
		case '\'': ttft_str_add(b, "&#39;", 5); break;
		default:
			if (c >= 0x20 || c == '\t' || c == '\n')
				ttft_str_add(b, p, 1);
		}
	}
}

void ttft_str_md_cell(struct ttft_str *b, const char *text)
{
	for (const char *p = text ? text : ""; *p; p++) {
		size_t n = strcspn(p, "|\r\n");
		ttft_str_add(b, p, n);
		p += n;
		if (!*p)
			break;
		if (*p == '|')
			ttft_str_add(b, "\\|", 2);
		else
			ttft_str_add(b, " ", 1);
	}
}

const char *ttft_str_get(const struct ttft_str *b)
{
	return b->s && !b->oom ? b->s : "";
}

int ttft_str_ok(const struct ttft_str *b)
{
	return !b->oom;
}

char *ttft_str_take(struct ttft_str *b)
{
	char *s = NULL;
	if (!b->oom)
		s = b->s ? b->s : strdup("");
	else
		free(b->s);
	memset(b, 0, sizeof *b);
	return s;
}

void ttft_str_free(struct ttft_str *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}
