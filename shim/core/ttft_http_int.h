/* ttft_http_int.h — what the HTTP framer's files share (ttft_http.c: the
 * responses and the chunked framing; ttft_http_tx.c: the requests;
 * ttft_http_frame.c: chunked bodies and header lines; ttft_http_status.c:
 * a response's status line and interim responses). Only for those four
 * files. */
#ifndef TTFT_HTTP_INT_H
#define TTFT_HTTP_INT_H

#include "ttft_http.h"
#include "ttft_log.h"
#include "ttft_scan.h"

#include <string.h>

enum { TX_IDLE, TX_LINE, TX_HEADERS, TX_BODY_LEN, TX_BODY_CHUNKED, TX_DEAD };
enum { RX_STATUS, RX_HEADERS, RX_BODY_LEN, RX_BODY_CHUNKED, RX_BODY_EOF,
       RX_DEAD };
enum { CH_SIZE, CH_EXT, CH_SIZE_LF, CH_DATA, CH_DATA_END, CH_DATA_END_LF,
       CH_TRAILER_START, CH_TRAILER, CH_TRAILER_END_LF };
enum { CH_MORE, CH_DONE, CH_ERROR, CH_BOUNDARY };

typedef void (*data_fn)(void *ctx, const char *p, size_t n);

/* 1 + a hex digit's value; 0 for any other byte */
static const unsigned char hex_digit[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

static int hex_value(char ch)
{
	return hex_digit[(unsigned char)ch] - 1;
}

static inline __attribute__((always_inline)) uint16_t load16(const char *p)
{
	uint16_t w;
	memcpy(&w, p, 2);
	return w;
}

/* "\r\n" as load16 reads it */
#define CRLF16 ((uint16_t)(load16("\r\n")))

/* Its data, v bytes from p + j, and their "\r\n": the chunk is j + v + 2
 * bytes. */
static inline __attribute__((always_inline)) size_t
chunk_data(const char *p, size_t n, size_t j, size_t v, const char **data,
	   size_t *len)
{
	if (n - j < v + 2 || load16(p + j + v) != CRLF16)
		return 0;
	*data = p + j;
	*len = v;
	return j + v + 2;
}

/* The common case, whole in one read: SIZE "\r\n" DATA "\r\n" (no
 * extension): the data goes to fn at once. Returns the bytes used, or 0 to
 * leave them to the byte-by-byte path (which also reports malformed
 * sizes and takes chunks cut by the end of a read). */
static inline __attribute__((always_inline)) size_t
chunk_span(const char *p, size_t n, const char **data, size_t *len)
{
	/* two or three digits (16 to 4095 bytes: a token event) at once: a
	 * byte that is not a digit (hex_digit 0) makes its term wrap to all
	 * ones, so v - 1 is in range only when every one is a digit and the
	 * size is not 0 (the last chunk: the loop below) */
	if (n >= 5) {
		unsigned d0 = hex_digit[(unsigned char)p[0]] - 1u,
			 d1 = hex_digit[(unsigned char)p[1]] - 1u;
		if (load16(p + 2) == CRLF16) {
			unsigned v = d0 << 4 | d1;
			if (v - 1 < 0xff)
				return chunk_data(p, n, 4, v, data, len);
		} else if (load16(p + 3) == CRLF16) {
			unsigned v = d0 << 8 | d1 << 4 |
				     (hex_digit[(unsigned char)p[2]] - 1u);
			if (v - 1 < 0xfff)
				return chunk_data(p, n, 5, v, data, len);
		}
	}
	uint64_t v = 0;
	size_t j = 0;
	for (int d; j < n && j < 15 && (d = hex_value(p[j])) >= 0; j++)
		v = v * 16 + (uint64_t)d;
	if (j == 0 || j + 1 >= n || p[j] != '\r' || p[j + 1] != '\n' || v == 0)
		return 0;
	return chunk_data(p, n, j + 2, (size_t)v, data, len);
}

/* Whether [p, p + n) is one whole chunk, as chunk_span(p, n, data, len)
 * == n: a read's usual forms first, a size of two or three hex digits
 * (which n tells: the size is n - 6 or n - 7), tested against the size n
 * makes (its digits' bits, a byte that is not a digit all ones:
 * never a size below 2^12); anything else (one digit, a leading zero,
 * four, an extension) by chunk_span. The one-token read's test: ~10
 * instructions fewer a read than chunk_span's. */
static inline __attribute__((always_inline)) int
chunk_whole(const char *p, size_t n, const char **data, size_t *len)
{
	size_t v = n - 6;
	if (__builtin_expect(v - 1 < 0xff, 1)) {
		if (load16(p + 2) == CRLF16 && load16(p + n - 2) == CRLF16 &&
		    ((hex_digit[(unsigned char)p[0]] - 1u) << 4 |
		     (hex_digit[(unsigned char)p[1]] - 1u)) == v) {
			*data = p + 4;
			*len = v;
			return 1;
		}
	} else if ((v = n - 7) - 1 < 0xfff) {
		if (load16(p + 3) == CRLF16 && load16(p + n - 2) == CRLF16 &&
		    ((hex_digit[(unsigned char)p[0]] - 1u) << 8 |
		     (hex_digit[(unsigned char)p[1]] - 1u) << 4 |
		     (hex_digit[(unsigned char)p[2]] - 1u)) == v) {
			*data = p + 5;
			*len = v;
			return 1;
		}
	}
	return chunk_span(p, n, data, len) == n;
}

/* rx->is_sse && !rx->compressed, the two bytes (each 0 or 1) read as
 * one word */
static inline __attribute__((always_inline)) int
rx_sse_plain(const struct ttft_http_rx *rx)
{
	_Static_assert(offsetof(struct ttft_http_rx, compressed) ==
		       offsetof(struct ttft_http_rx, is_sse) + 1, "one word");
	static const unsigned char plain[2] = {1, 0};
	return load16((const char *)&rx->is_sse) == load16((const char *)plain);
}

static inline __attribute__((always_inline)) size_t
whole_chunk(const char *p, size_t n, data_fn fn, void *ctx)
{
	const char *data;
	size_t len, k = chunk_span(p, n, &data, &len);
	if (k)
		fn(ctx, data, len);
	return k;
}


/* Decode chunked framing; body bytes go to fn. Returns CH_MORE when all n
 * bytes were consumed, CH_DONE (with *used set) at the end of the body,
 * CH_ERROR on a malformed size line; with stop, CH_BOUNDARY (with *used
 * set) at the first chunk boundary after some bytes were used, so that the
 * caller's whole-chunk path can take the chunks that follow. */
int ttft_http_chunked_feed_(struct ttft_chunked *c, const char *p, size_t n,
			    size_t *used, data_fn fn, void *ctx, int stop);
#define chunked_feed ttft_http_chunked_feed_
void ttft_http_chunked_init_(struct ttft_chunked *c);
#define chunked_init ttft_http_chunked_init_


/* What the sniffer reads from a header block. */
struct hdr_info {
	uint64_t length;
	uint8_t has_len;         /* 1: a length; ttft_http_content_length_
	                            adds 2, values that conflict ("138, 158",
	                            or one cut by the line buffer),
	                            4, a Content-Length line, and 8, a
	                            value CPython reads apart from curl
	                            ("158, 158", "158abc") */
	uint8_t chunked, sse, compressed, expect;
	uint8_t tp_flags;        /* TTFT_F_TP_MORE or 0 (in what was
	                            padding: the struct is no wider) */
	const char *traceparent; /* TTFT_TRACEPARENT_LEN bytes, or NULL */
};

/* One header line h[0..n), without its line end (cut when it was longer
 * than the buffer that held it). Only a handful of names matter. */
void ttft_http_header_line_(const char *h, size_t n, struct hdr_info *hi);
int ttft_http_codings_compress_(const char *h, size_t n);
void ttft_http_content_length_(const char *h, size_t n, int cut,
			       struct hdr_info *hi);
#define header_line ttft_http_header_line_

/* A status line l[0..len) (up to its LF, its CR counted; len may exceed
 * the bytes kept of it): 1 with rx's status, minor version and state set,
 * 0 when it is no status line. */
int ttft_http_status_line_(struct ttft_http_rx *rx, const char *l, size_t len);
#define status_line ttft_http_status_line_
/* rx's head ended with a 1xx: its record written; 1 for a 101 (what
 * follows is another protocol), 0 for an interim response (the final one
 * follows). */
int ttft_http_interim_(struct ttft_http_rx *rx);
#define interim ttft_http_interim_
/* The final response's RESP_HEADERS, with flags, and its status line's
 * version where it is not 1.0 or 1.1. */
void ttft_http_headers_ev_(struct ttft_http_rx *rx, uint16_t flags);
#define headers_ev ttft_http_headers_ev_


SCANNER(scan_lf, mask_lf, c == '\n')

/* A line's piece kept after what buf holds (*blen bytes; no more than cap
 * in all): the bytes it then holds. *blen is read once and never taken
 * past the buffer: another thread reading the same socket may store it
 * meanwhile (its lines are then wrong; the shim's memory stays whole:
 * ttft_http.h, "Threads"). */
static __attribute__((noinline)) size_t
keep_piece(char *buf, uint8_t *blen, size_t cap, const char *p, size_t take)
{
	size_t have = *blen;
	if (have > cap)
		have = cap;
	size_t room = cap - have, k = take < room ? take : room;
	memcpy(buf + have, p, k);
	*blen = (uint8_t)(have + k);
	return have + k;
}

/* Lines of a header block, at p in a read that began at b and ends at e:
 * a complete line is read where it lies; a line cut by the end of a read
 * is kept in buf (up to cap bytes) and finished by the next. Returns the
 * bytes used; *line and *len give the line ended there (*line NULL when
 * it ran to the end of the read), without its CR LF. */
static inline __attribute__((always_inline)) size_t
next_line(const char *b, const char *p, const char *e,
	  char *buf, uint8_t *blen, size_t cap,
	  const char **line, size_t *len)
{
	const char *lf = scan_lf(b, p, e);
	size_t take = (size_t)(lf - p);
	if (*blen || lf == e) {
		size_t got = keep_piece(buf, blen, cap, p, take);
		if (lf == e) {
			*line = NULL;
			return take;
		}
		*line = buf;
		*len = got;
		*blen = 0;
	} else {
		*line = p;
		*len = take;
	}
	if (*len && (*line)[*len - 1] == '\r')
		(*len)--;
	return take + 1;
}

/* Only content-*, transfer-encoding, traceparent and expect matter. */
static inline int may_matter(const char *h)
{
	char c = (char)(*h | 0x20);
	return c == 'c' || c == 't' || c == 'e';
}

static inline void emit_ev(ttft_http_emit emit, void *ctx, uint16_t kind,
			   uint16_t flags, uint32_t seq, int64_t t, int64_t a,
			   int64_t b, const char *text, size_t text_len)
{
	struct ttft_http_event ev = {kind, flags, seq, t, a, b, text, text_len};
	emit(ctx, &ev);
}

#endif
