/* ttft_str.c — see ttft_str.h. */
#include "ttft_str.h"

#include <stdarg.h>
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

void ttft_str_xml(struct ttft_str *b, const char *text)
{
	for (const char *p = text ? text : ""; *p; p++) {
		unsigned char c = (unsigned char)*p;
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
