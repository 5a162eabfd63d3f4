/* ttft_fmt.h — number formatting that is async-signal-safe (no stdio, no
 * locale, no allocation), for the code that runs inside other programs. */
#ifndef TTFT_FMT_H
#define TTFT_FMT_H

#include <stddef.h>

/* Decimal digits of v into out (at least 20 bytes, not NUL-terminated);
 * returns how many. */
static inline size_t ttft_fmt_uint(char *out, unsigned long long v)
{
	char d[20];
	size_t n = 0, k = 0;
	do {
		d[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		out[k++] = d[--n];
	return k;
}

#endif
