/* ttft_str.h — a growing string for the writers of documents (SVG, HTML,
 * Markdown sections). Out of memory is remembered, not fatal: the owner
 * checks ttft_str_ok() once at the end and reports it. */
#ifndef TTFT_STR_H
#define TTFT_STR_H

#include <stddef.h>

struct ttft_str {
	char *s;        /* NUL-terminated while ok; NULL before the first write */
	size_t n, cap;
	int oom;        /* an append failed: the text is incomplete */
};

__attribute__((format(printf, 2, 3)))
void ttft_str_printf(struct ttft_str *b, const char *fmt, ...);
void ttft_str_add(struct ttft_str *b, const char *p, size_t n);
/* Text for XML/HTML: & < > " ' become entities; bytes below 0x20 other
 * than tab and newline (not allowed in XML 1.0) are dropped; bytes that
 * are not UTF-8 (or a character cut short) and U+FFFE/U+FFFF become
 * U+FFFD. */
void ttft_str_xml(struct ttft_str *b, const char *text);
/* Text for one cell of a Markdown table row: | becomes \| (GFM's escaped
 * pipe; a bare one would split the cell) and CR and LF become spaces (a
 * line end would end the row). */
void ttft_str_md_cell(struct ttft_str *b, const char *text);
/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. */
size_t ttft_utf8_len(const unsigned char *s, size_t n);
/* s for a text table's column of width characters: cut at a character
 * boundary (never inside one, which would leave bytes that are not
 * UTF-8) and padded with spaces to width; a byte that is not UTF-8 or a
 * control character shows as U+FFFD. A character is one column (wide
 * ones are not told apart). Written into out (len bytes; 4 × width + 1
 * holds any s: a smaller one cuts earlier, still padded to width), and
 * returned. */
const char *ttft_str_column(char *out, size_t len, const char *s, size_t width);
/* v with dec decimals, fewer where that is wider than width (a 150 s
 * decode in a 9-wide ms column: 150000.00), e notation where not even
 * none fits: a table's rows stay aligned. Right-aligned in width, into
 * out (len bytes), returned. */
const char *ttft_str_num(char *out, size_t len, double v, int width, int dec);
/* "%.3f" of v into t (48 bytes at least), exactly as printf writes it,
 * and its length; -1 where it does not (v not finite or past ~9.2e15:
 * ask printf). */
int ttft_str_fixed3(char *t, double v);
/* The text so far ("" when empty); stays owned by b. */
const char *ttft_str_get(const struct ttft_str *b);
int ttft_str_ok(const struct ttft_str *b);
/* Hand the text over (malloc'd; NULL when out of memory) and reset b. */
char *ttft_str_take(struct ttft_str *b);
void ttft_str_free(struct ttft_str *b);

#endif
