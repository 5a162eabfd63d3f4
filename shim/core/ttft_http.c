/* ttft_http.c — HTTP/1.1 request/response framing for the shim's sniffer.
 * Byte-driven state machines with fixed-size state; see ttft_http.h.
 */
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

/* The common case, whole in one read: SIZE "\r\n" DATA "\r\n" (no
 * extension): the data goes to fn at once. Returns the bytes used, or 0 to
 * leave them to the byte-by-byte path (which also reports malformed
 * sizes and takes chunks cut by the end of a read). */
static inline __attribute__((always_inline)) size_t
chunk_span(const char *p, size_t n, const char **data, size_t *len)
{
	uint64_t v = 0;
	size_t j = 0;
	/* two or three digits (16 to 4095 bytes: a token event) at once */
	if (n >= 5 && (p[2] == '\r' || p[3] == '\r')) {
		unsigned d0 = hex_digit[(unsigned char)p[0]],
			 d1 = hex_digit[(unsigned char)p[1]];
		if (p[2] == '\r') {
			if (d0 && d1 && p[3] == '\n') {
				v = (d0 - 1) << 4 | (d1 - 1);
				j = 2;
				if (v)
					goto data;
				return 0; /* the last chunk */
			}
		} else {
			unsigned d2 = hex_digit[(unsigned char)p[2]];
			if (d0 && d1 && d2 && p[4] == '\n') {
				v = (d0 - 1) << 8 | (d1 - 1) << 4 | (d2 - 1);
				j = 3;
				if (v)
					goto data;
				return 0; /* the last chunk */
			}
		}
	}
	for (int d; j < n && j < 15 && (d = hex_value(p[j])) >= 0; j++)
		v = v * 16 + (uint64_t)d;
	if (j == 0 || j + 1 >= n || p[j] != '\r' || p[j + 1] != '\n' || v == 0)
		return 0;
data:
	j += 2;
	if (n - j < v + 2 || p[j + v] != '\r' || p[j + v + 1] != '\n')
		return 0;
	*data = p + j;
	*len = (size_t)v;
	return j + (size_t)v + 2;
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
static int chunked_feed(struct ttft_chunked *c, const char *p, size_t n,
			size_t *used, data_fn fn, void *ctx, int stop)
{
	size_t i = 0;
	while (i < n) {
		char ch = p[i];
		switch (c->st) {
		case CH_SIZE: {
			if (stop && i && !c->digits) {
				*used = i;
				return CH_BOUNDARY;
			}
			size_t k = c->digits ? 0 : whole_chunk(p + i, n - i, fn, ctx);
			if (k) {
				i += k;
				continue;
			}
			int v = hex_value(ch);
			if (v >= 0) {
				if (++c->digits > 15)
					return CH_ERROR;
				c->left = c->left * 16 + (uint64_t)v;
				break;
			}
			if (c->digits == 0)
				return CH_ERROR;
			if (ch == ';' || ch == ' ' || ch == '\t')
				c->st = CH_EXT;
			else if (ch == '\r')
				c->st = CH_SIZE_LF;
			else if (ch == '\n')
				goto size_done;
			else
				return CH_ERROR;
			break;
		}
		case CH_EXT:
			if (ch == '\n')
				goto size_done;
			break;
		case CH_SIZE_LF:
			if (ch != '\n')
				return CH_ERROR;
		size_done:
			c->st = c->left ? CH_DATA : CH_TRAILER_START;
			break;
		case CH_DATA: {
			size_t take = n - i;
			if (take > c->left)
				take = (size_t)c->left;
			fn(ctx, p + i, take);
			c->left -= take;
			i += take;
			if (c->left)
				continue;
			if (n - i >= 2 && p[i] == '\r' && p[i + 1] == '\n') {
				c->st = CH_SIZE; /* the chunk's end, at once */
				c->digits = 0;
				i += 2;
			} else {
				c->st = CH_DATA_END;
			}
			continue;
		}
		case CH_DATA_END:
			if (ch == '\r') {
				c->st = CH_DATA_END_LF;
				break;
			}
			/* a bare LF also ends the chunk */
			__attribute__((fallthrough));
		case CH_DATA_END_LF:
			if (ch != '\n')
				return CH_ERROR;
			c->st = CH_SIZE;
			c->digits = 0;
			c->left = 0;
			break;
		case CH_TRAILER_START:
			c->st = ch == '\r' ? CH_TRAILER_END_LF
				: ch == '\n' ? CH_TRAILER_START : CH_TRAILER;
			if (ch == '\n') {
				*used = i + 1;
				return CH_DONE;
			}
			break;
		case CH_TRAILER:
			if (ch == '\n')
				c->st = CH_TRAILER_START;
			break;
		case CH_TRAILER_END_LF:
			if (ch != '\n')
				return CH_ERROR;
			*used = i + 1;
			return CH_DONE;
		}
		i++;
	}
	*used = n;
	return CH_MORE;
}

static void chunked_init(struct ttft_chunked *c)
{
	memset(c, 0, sizeof *c);
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* s[0..n) equals lit (lower case) but for case. */
static int ieq(const char *s, const char *lit, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != lit[i])
			return 0;
	return 1;
}

static int icontains(const char *s, size_t n, const char *lit, size_t k)
{
	for (size_t i = 0; i + k <= n; i++)
		if (ieq(s + i, lit, k))
			return 1;
	return 0;
}

static int is_hex_lower(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/* A W3C traceparent: "vv-<32 hex>-<16 hex>-ff" (55 characters), ended by
 * the value's end, whitespace or a '-' (later versions may append). */
static int is_traceparent(const char *v, size_t n)
{
	if (n < TTFT_TRACEPARENT_LEN ||
	    (n > TTFT_TRACEPARENT_LEN && v[55] != '-' && v[55] != ' ' &&
	     v[55] != '\t'))
		return 0;
	for (size_t i = 0; i < TTFT_TRACEPARENT_LEN; i++)
		if (i == 2 || i == 35 || i == 52 ? v[i] != '-' : !is_hex_lower(v[i]))
			return 0;
	return 1;
}

/* What the sniffer reads from a header block. */
struct hdr_info {
	uint64_t length;
	uint8_t has_len, chunked, sse, compressed, expect;
	const char *traceparent; /* TTFT_TRACEPARENT_LEN bytes, or NULL */
};

/* One header line h[0..n), without its line end (cut when it was longer
 * than the buffer that held it). Only a handful of names matter. */
static void header_line(const char *h, size_t n, struct hdr_info *hi)
{
	const char *colon = memchr(h, ':', n);
	if (!colon)
		return;
	size_t k = (size_t)(colon - h);
	const char *v = colon + 1, *e = h + n;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	size_t vn = (size_t)(e - v);
	switch (k) {
	case 14:
		if (ieq(h, "content-length", 14)) {
			uint64_t x = 0;
			int digits = 0;
			for (; v < e && *v >= '0' && *v <= '9' && digits < 19; v++, digits++)
				x = x * 10 + (uint64_t)(*v - '0');
			if (digits) {
				hi->length = x;
				hi->has_len = 1;
			}
		}
		break;
	case 17:
		if (ieq(h, "transfer-encoding", 17))
			hi->chunked = (uint8_t)icontains(v, vn, "chunked", 7);
		break;
	case 12:
		if (ieq(h, "content-type", 12))
			hi->sse = (uint8_t)icontains(v, vn, "text/event-stream", 17);
		break;
	case 16:
		/* Anything but identity: the body is compressed. */
		if (ieq(h, "content-encoding", 16))
			hi->compressed = vn && !(vn >= 8 && ieq(v, "identity", 8) &&
						 (vn == 8 || v[8] == ' ' || v[8] == ','));
		break;
	case 11:
		if (ieq(h, "traceparent", 11) && is_traceparent(v, vn))
			hi->traceparent = v;
		break;
	case 6:
		if (ieq(h, "expect", 6))
			hi->expect = (uint8_t)icontains(v, vn, "100-continue", 12);
		break;
	default:
		break;
	}
}

SCANNER(scan_lf, mask_lf, c == '\n')

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
		size_t room = cap - *blen;
		memcpy(buf + *blen, p, take < room ? take : room);
		*blen = (uint8_t)(*blen + (take < room ? take : room));
		if (lf == e) {
			*line = NULL;
			return take;
		}
		*line = buf;
		*len = *blen;
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

static void emit_ev(ttft_http_emit emit, void *ctx, uint16_t kind,
		    uint16_t flags, uint32_t seq, int64_t t, int64_t a,
		    int64_t b, const char *text, size_t text_len)
{
	struct ttft_http_event ev = {kind, flags, seq, t, a, b, text, text_len};
	emit(ctx, &ev);
}

/* ---- tx ---- */

void ttft_http_tx_init(struct ttft_http_tx *tx)
{
	memset(tx, 0, sizeof *tx);
}

static void tx_request_done(struct ttft_http_tx *tx, int64_t t_end,
			    ttft_http_emit emit, void *ctx)
{
	emit_ev(emit, ctx, TTFT_EV_REQ_SENT, 0, tx->seq - 1, t_end,
		(int64_t)tx->bytes, 0, NULL, 0);
	tx->st = TX_IDLE;
}

static void tx_desync(struct ttft_http_tx *tx, int64_t t, int reason,
		      ttft_http_emit emit, void *ctx)
{
	emit_ev(emit, ctx, TTFT_EV_DESYNC, 0, tx->seq, t, 0, reason, "tx", 2);
	tx->st = TX_DEAD;
}

/* RFC 9110's tchar: ALPHA DIGIT and !#$%&'*+-.^_`|~, as two bit sets. */
static inline int tchar(char ch)
{
	unsigned char c = (unsigned char)ch;
	if ((unsigned)((c | 0x20) - 'a') < 26)
		return 1; /* a letter: every method there is */
	return c < 64 ? (int)((0x3ff6cfa00000000ull >> c) & 1)
	     : c < 128 ? (int)((0x57ffffffc7fffffeull >> (c - 64)) & 1) : 0;
}

/* An origin-form ("/...") or absolute-form ("scheme://...") target, or "*"
 * for OPTIONS, starting at t (tn bytes of it are at hand), after method
 * l[0..m). */
static int target_ok(const char *l, size_t m, const char *t, size_t tn)
{
	if (tn == 0)
		return 0;
	if (t[0] == '/')
		return 1;
	if (t[0] == '*')
		return m == 7 && memcmp(l, "OPTIONS", 7) == 0 && (tn == 1 || t[1] == ' ');
	size_t k = 0;
	while (k < tn && ((t[k] >= 'a' && t[k] <= 'z') || (t[k] >= 'A' && t[k] <= 'Z') ||
			  (k && ((t[k] >= '0' && t[k] <= '9') || t[k] == '+' ||
				 t[k] == '-' || t[k] == '.'))))
		k++;
	return k && k + 3 <= tn && memcmp(t + k, "://", 3) == 0;
}

/* The bytes of a request line that arrives in pieces (its first
 * TTFT_HTTP_LINE are kept in tx->line): what request_line_ok needs of the
 * rest. Requests split across reads are rare; a whole line is checked in
 * place. */
static void line_track(struct ttft_http_tx *tx, const char *p, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		char c = p[k];
		/* a CR counts only when a byte other than the line's LF
		 * follows it (one just before the LF ends the line) */
		if (tx->lcr) {
			tx->lcr = 0;
			tx->lbad = 1;
			tx->lb9 = (char)(tx->ltail >> 56);
			tx->ltail = tx->ltail << 8 | '\r';
		}
		if (c == '\r') {
			tx->lcr = 1;
			continue;
		}
		tx->lb9 = (char)(tx->ltail >> 56);
		tx->ltail = tx->ltail << 8 | (unsigned char)c;
		if (c == ' ')
			tx->lsp += tx->lsp < 255;
		else if ((unsigned char)c < 0x20)
			tx->lbad = 1;
	}
}

/* The first space or control byte of the line at or after t, up to its
 * end lend (a request target is clean when that is the space of its
 * " HTTP/1.x"). A block at a time while the line holds one (the lowest
 * marked byte is exact in either kind of mask), then byte by byte; the
 * caller knows such a byte to come before lend. */
static const char *first_sp(const char *t, const char *lend)
{
	for (; lend - t >= BLOCK; t += BLOCK) {
		__typeof__(mask_sp(load_block(t))) m = mask_sp(load_block(t));
		if (m)
			return t + FIRST(m);
	}
	while ((unsigned char)*t > ' ')
		t++;
	return t;
}

/* METHOD SP request-target SP HTTP/1.x: a method token, then a target
 * target_ok takes. Anything else ("Michael Gilfix was here", HTTP/2's
 * "PRI * HTTP/2.0") is not HTTP/1.x.
 * l/ll: the line; cut: only its first bytes are in l, the rest was
 * tracked (line_track). */
static int request_line_ok(const struct ttft_http_tx *tx, const char *l, size_t ll,
			   int cut)
{
	/* The method and the target's start are judged on the first
	 * TTFT_HTTP_LINE bytes, all a cut line keeps: the same verdict
	 * however the reads split the line. */
	size_t keep = ll < TTFT_HTTP_LINE ? ll : TTFT_HTTP_LINE, m = 0;
	/* the two methods of nearly every request at once, the rest by
	 * tchar; "PRI " is HTTP/2's preface, never HTTP/1.x */
	if (keep > 4 && memcmp(l, "GET ", 4) == 0) {
		m = 3;
	} else if (keep > 5 && memcmp(l, "POST ", 5) == 0) {
		m = 4;
	} else {
		if (ll >= 4 && memcmp(l, "PRI ", 4) == 0)
			return 0;
		while (m < keep && tchar(l[m]))
			m++;
		if (m == 0 || m >= keep || l[m] != ' ')
			return 0;
	}
	if (cut) {
		static const uint64_t http1 =
			(uint64_t)'H' << 48 | (uint64_t)'T' << 40 | (uint64_t)'T' << 32 |
			(uint64_t)'P' << 24 | (uint64_t)'/' << 16 | (uint64_t)'1' << 8 | '.';
		char ver = (char)(tx->ltail & 0xff);
		return !tx->lbad && tx->lsp == 2 && tx->lb9 == ' ' &&
		       tx->ltail >> 8 == http1 && ver >= '0' && ver <= '9' &&
		       target_ok(l, m, l + m + 1, keep - m - 1);
	}
	if (ll < m + 11)
		return 0;
	const char *v = l + ll - 8;
	if (memcmp(v - 1, " HTTP/1.", 8) != 0 || v[7] < '0' || v[7] > '9')
		return 0;
	const char *t = l + m + 1, *te = v - 1;
	if (first_sp(t, l + ll) != te)
		return 0; /* a space or a control byte in the target */
	if (t[0] == '/')
		return m + 1 < keep; /* target_ok's verdict: a byte of it kept */
	size_t tn = (size_t)(te - t);
	return target_ok(l, m, t, tn < keep - m - 1 ? tn : keep - m - 1);
}

static void ignore_data(void *ctx, const char *p, size_t n)
{
	(void)ctx, (void)p, (void)n;
}

/* A request's first byte: what the machine keeps of the one before goes. */
static inline __attribute__((always_inline)) void
tx_begin(struct ttft_http_tx *tx, int64_t t_begin)
{
	tx->t_first = t_begin;
	tx->bytes = 0;
	tx->llen = 0;
	tx->hlen = 0;
	tx->chunked = 0;
	tx->expect = 0;
	tx->lsp = tx->lbad = tx->lcr = 0;
	tx->lb9 = 0;
	tx->ltail = 0;
	tx->body_left = 0;
	tx->st = TX_LINE;
}

/* The request line l[0..ll) ended (without its CR LF; pieces: only its
 * first bytes are in l, the rest was tracked). Returns 0 when it is not
 * HTTP/1.x (the direction is dead). */
static inline __attribute__((always_inline)) int
tx_request_line(struct ttft_http_tx *tx, const char *l, size_t ll, int pieces,
		int64_t t_end, ttft_http_emit emit, void *ctx)
{
	if (!request_line_ok(tx, l, ll, pieces)) {
		tx_desync(tx, t_end, TTFT_DESYNC_NOT_HTTP, emit, ctx);
		return 0;
	}
	/* Report "METHOD /path", without " HTTP/1.1" (a whole line that
	 * request_line_ok took ends so; a cut one keeps only its start). */
	size_t len = ll;
	if (!pieces || (len > 9 && memcmp(l + len - 9, " HTTP/1.", 8) == 0))
		len -= 9;
	uint32_t seq = tx->seq++;
	uint32_t bit = 1u << (seq % 32);
	if (ll >= 5 && memcmp(l, "HEAD ", 5) == 0)
		tx->head_mask |= bit;
	else
		tx->head_mask &= ~bit;
	emit_ev(emit, ctx, TTFT_EV_REQ_BEGIN, 0, seq, tx->t_first, 0,
		0, l, len < TTFT_HTTP_LINE ? len : TTFT_HTTP_LINE);
	tx->st = TX_HEADERS;
	return 1;
}

/* A header line h[0..hl), hl > 0, without its line end. */
static inline __attribute__((always_inline)) void
tx_header(struct ttft_http_tx *tx, const char *h, size_t hl, int64_t t_end,
	  ttft_http_emit emit, void *ctx)
{
	if (!may_matter(h))
		return;
	if (hl > sizeof tx->hdr)
		hl = sizeof tx->hdr; /* as a cut line keeps it */
	struct hdr_info hi = {0};
	header_line(h, hl, &hi);
	if (hi.has_len)
		tx->body_left = hi.length;
	if (hi.chunked)
		tx->chunked = 1;
	if (hi.traceparent)
		emit_ev(emit, ctx, TTFT_EV_TRACEPARENT, 0, tx->seq - 1, t_end, 0,
			0, hi.traceparent, TTFT_TRACEPARENT_LEN);
	if (hi.expect)
		tx->expect = 1;
}

/* The blank line that ends a request's head. */
static inline __attribute__((always_inline)) void
tx_head_end(struct ttft_http_tx *tx, int64_t t_end, ttft_http_emit emit,
	    void *ctx)
{
	tx->t_head = t_end;
	if (!tx->chunked && !tx->body_left)
		tx->expect = 0;
	if (tx->chunked) {
		chunked_init(&tx->ch);
		tx->st = TX_BODY_CHUNKED;
	} else if (tx->body_left) {
		tx->st = TX_BODY_LEN;
	} else {
		tx_request_done(tx, t_end, emit, ctx);
	}
}

/* tx_fast's window: 64 bytes, one bit each, with SSE2 (a head of up to 64
 * bytes, nearly every request's, is one mask); a word elsewhere. */
#if BLOCK == 16
#define FAST_BYTES 64
typedef uint64_t lf_mask;
#define LF_FIRST(m) ((size_t)__builtin_ctzll(m))
static inline __attribute__((always_inline)) lf_mask lf_wide(const char *at)
{
	return WIDE(mask_lf, at) | (uint64_t)WIDE(mask_lf, at + 32) << 32;
}
#else
#define FAST_BYTES WIDE_BYTES
typedef __typeof__(WIDE(mask_lf, "")) lf_mask;
#define LF_FIRST(m) FIRST(m)
#define lf_wide(at) WIDE(mask_lf, at)
#endif

/* The LF bits of the read's first window, at p: a read shorter than a
 * window (at least WIDE_BYTES, tx_fast's e - p) is two WIDE_BYTES that
 * overlap, the second ending at e; a byte in both has the same bit. */
static inline __attribute__((always_inline)) lf_mask
lf_first(const char *p, const char *e)
{
#if BLOCK == 16
	if (e - p < FAST_BYTES)
		return WIDE(mask_lf, p) |
		       (uint64_t)WIDE(mask_lf, e - WIDE_BYTES) << (e - p - WIDE_BYTES);
#else
	(void)e; /* a window is a word: the read holds one */
#endif
	return lf_wide(p);
}

/* The LF bits of the FAST_BYTES at [at, e) — of the FAST_BYTES ending at
 * e when fewer are left (a later window: the read holds them). */
static inline __attribute__((always_inline)) lf_mask
lf_window(const char *at, const char *e)
{
	if (e - at >= FAST_BYTES)
		return lf_wide(at);
	return DROP(lf_wide(e - FAST_BYTES), FAST_BYTES - (size_t)(e - at));
}

/* The next LF at or after win + the mask's lowest bit into *lf, 1; or 0
 * at e (a flag, not a NULL *lf: the caller's test folds away where an LF
 * was found). One mask a window for all the lines in it, not a scan a
 * line. */
static inline __attribute__((always_inline)) int
lf_next(const char **win, lf_mask *m, const char *e, const char **lf)
{
	for (;;) {
		while (!*m) {
			*win += FAST_BYTES;
			if (*win >= e)
				return 0;
			*m = lf_window(*win, e);
		}
		*lf = *win + LF_FIRST(*m);
		*m &= *m - 1;
#if BLOCK == 8
		/* the word masks may mark a byte just after a true LF (a
		 * borrow, ttft_scan.h) */
		if (**lf != '\n')
			continue;
#endif
		return 1;
	}
}

/* The common case: a request whose head is whole in this read, from its
 * first byte at p (a capital letter; state TX_LINE, nothing kept;
 * e - p >= WIDE_BYTES).
 * Its lines are found a window at a time and each is handled by the same
 * functions as in the byte machine below, in the same order;
 * at a line cut by the read's end it stops, in the state the machine is
 * in at that line's start, and the machine goes on from there. Returns
 * the bytes used. */
static inline __attribute__((always_inline)) size_t
tx_fast(struct ttft_http_tx *tx, const char *p, const char *e, int64_t t_end,
	ttft_http_emit emit, void *ctx)
{
	const char *win = p;
	lf_mask m = lf_first(p, e);
	const char *lf;
	if (!lf_next(&win, &m, e, &lf))
		return 0;
	size_t ll = (size_t)(lf - p); /* > 0: p[0] is a letter */
	if (p[ll - 1] == '\r')
		ll--;
	if (!tx_request_line(tx, p, ll, 0, t_end, emit, ctx))
		return (size_t)(e - p); /* dead: it reads no more */
	for (const char *h = lf + 1;; h = lf + 1) {
		if (!lf_next(&win, &m, e, &lf)) {
			tx->bytes = (size_t)(h - p);
			return (size_t)(h - p);
		}
		size_t hl = (size_t)(lf - h);
		if (hl > 1 || (hl == 1 && h[0] != '\r')) {
			/* a header line; its CR only where it is read */
			if (may_matter(h))
				tx_header(tx, h, hl - (h[hl - 1] == '\r'), t_end,
					  emit, ctx);
			continue;
		}
		tx->bytes = (size_t)(lf + 1 - p);
		tx_head_end(tx, t_end, emit, ctx);
		return (size_t)(lf + 1 - p);
	}
}

void ttft_http_tx_feed(struct ttft_http_tx *tx, const char *p, size_t n,
		       int64_t t_begin, int64_t t_end, ttft_http_emit emit,
		       void *ctx)
{
	size_t i = 0;
	if (__builtin_expect(tx->st == TX_IDLE && n >= WIDE_BYTES &&
			     p[0] >= 'A' && p[0] <= 'Z', 1)) {
		tx_begin(tx, t_begin);
		i = tx_fast(tx, p, p + n, t_end, emit, ctx);
		if (i == n)
			return;
	}
	while (i < n && tx->st != TX_DEAD) {
		char c = p[i];
		switch (tx->st) {
		case TX_IDLE:
			if (c == '\r' || c == '\n') {
				i++;
				continue;
			}
			if (c < 'A' || c > 'Z') {
				tx_desync(tx, t_end, TTFT_DESYNC_NOT_HTTP, emit, ctx);
				return;
			}
			tx_begin(tx, t_begin);
			continue;
		case TX_LINE: {
			const char *l;
			size_t ll;
			int pieces = tx->llen != 0; /* a part came in an earlier read */
			size_t used = next_line(p, p + i, p + n, tx->line, &tx->llen,
						sizeof tx->line, &l, &ll);
			if (!l || pieces)
				line_track(tx, p + i, l ? used - 1 : used);
			tx->bytes += used;
			i += used;
			if (!l) {
				/* HTTP/2's preface, said as soon as it shows */
				if (tx->llen >= 4 && memcmp(tx->line, "PRI ", 4) == 0) {
					tx_desync(tx, t_end, TTFT_DESYNC_NOT_HTTP, emit, ctx);
					return;
				}
				continue;
			}
			if (!tx_request_line(tx, l, ll, pieces, t_end, emit, ctx))
				return;
			continue;
		}
		case TX_HEADERS: {
			const char *h;
			size_t hl;
			size_t used = next_line(p, p + i, p + n, tx->hdr, &tx->hlen,
						sizeof tx->hdr, &h, &hl);
			tx->bytes += used;
			i += used;
			if (!h)
				continue;
			if (hl)
				tx_header(tx, h, hl, t_end, emit, ctx);
			else
				tx_head_end(tx, t_end, emit, ctx);
			continue;
		}
		case TX_BODY_LEN: {
			size_t take = n - i;
			if (take > tx->body_left)
				take = (size_t)tx->body_left;
			tx->expect = 0;
			tx->body_left -= take;
			tx->bytes += take;
			i += take;
			if (tx->body_left == 0)
				tx_request_done(tx, t_end, emit, ctx);
			continue;
		}
		case TX_BODY_CHUNKED: {
			size_t used = 0;
			tx->expect = 0;
			int r = chunked_feed(&tx->ch, p + i, n - i, &used,
					     ignore_data, NULL, 0);
			if (r == CH_ERROR) {
				tx_desync(tx, t_end, TTFT_DESYNC_BAD_CHUNK, emit, ctx);
				return;
			}
			tx->bytes += used;
			i += used;
			if (r == CH_DONE)
				tx_request_done(tx, t_end, emit, ctx);
			continue;
		}
		}
	}
}

void ttft_http_tx_unseen(struct ttft_http_tx *tx, uint64_t n, int64_t t_end,
			 ttft_http_emit emit, void *ctx)
{
	if (n == 0 || tx->st == TX_DEAD)
		return;
	if (tx->st == TX_BODY_LEN) {
		uint64_t take = n < tx->body_left ? n : tx->body_left;
		tx->expect = 0;
		tx->body_left -= take;
		tx->bytes += take;
		n -= take;
		if (tx->body_left == 0)
			tx_request_done(tx, t_end, emit, ctx);
		if (n == 0)
			return;
	}
	tx_desync(tx, t_end, TTFT_DESYNC_LOST_BYTES, emit, ctx);
}

void ttft_http_tx_sync(struct ttft_http_tx *tx, uint32_t responses_done,
		       const char *p, size_t n, ttft_http_emit emit, void *ctx)
{
	if (!tx->expect || (tx->st != TX_BODY_LEN && tx->st != TX_BODY_CHUNKED) ||
	    responses_done < tx->seq || n == 0 || p[0] < 'A' || p[0] > 'Z')
		return;
	emit_ev(emit, ctx, TTFT_EV_REQ_SENT, 0, tx->seq - 1, tx->t_head,
		(int64_t)tx->bytes, 0, NULL, 0);
	tx->expect = 0;
	tx->st = TX_IDLE;
}

/* ---- rx ---- */

static void sse_event(void *ctx, enum ttft_sse_class cls, unsigned flags)
{
	struct ttft_http_rx *rx = ctx;
	uint16_t kind = cls == TTFT_SSE_TOKEN ? TTFT_EV_SSE_TOKEN
		      : cls == TTFT_SSE_DONE ? TTFT_EV_SSE_DONE
		      : cls == TTFT_SSE_ERROR ? TTFT_EV_SSE_ERROR
		      : TTFT_EV_SSE_EMPTY;
	int64_t idx = cls == TTFT_SSE_TOKEN ? (int64_t)rx->tokens++ : 0;
	emit_ev(rx->emit, rx->ctx, kind, (uint16_t)flags, rx->seq, rx->t_now,
		(int64_t)rx->body_bytes, idx, NULL, 0);
	if (flags & TTFT_SSE_F_NUMS) {
		struct ttft_rec_numbers nums;
		memcpy(nums.v, rx->sse.nums.v, sizeof nums.v);
		emit_ev(rx->emit, rx->ctx, TTFT_EV_SERVER_NUMBERS, 0, rx->seq,
			rx->t_now, rx->sse.nums.have, 0, (const char *)&nums,
			sizeof nums);
	}
}

void ttft_http_rx_init(struct ttft_http_rx *rx)
{
	memset(rx, 0, sizeof *rx);
	ttft_sse_init(&rx->sse, sse_event, NULL, rx);
}

static void rx_start(struct ttft_http_rx *rx)
{
	rx->st = RX_STATUS;
	rx->slen = 0;
	rx->hlen = 0;
	rx->status = 0;
	rx->chunked = rx->is_sse = rx->has_len = rx->compressed = 0;
	rx->body_left = rx->body_bytes = 0;
	rx->tokens = 0;
}

static void rx_response_done(struct ttft_http_rx *rx, uint16_t flags)
{
	emit_ev(rx->emit, rx->ctx, TTFT_EV_RESP_END, flags, rx->seq, rx->t_now,
		(int64_t)rx->body_bytes, rx->tokens, NULL, 0);
	rx->seq++;
	rx_start(rx);
}

static void rx_desync(struct ttft_http_rx *rx, int reason)
{
	emit_ev(rx->emit, rx->ctx, TTFT_EV_DESYNC, 0, rx->seq, rx->t_now, 0,
		reason, "rx", 2);
	rx->st = RX_DEAD;
}

static void rx_body(void *ctx, const char *p, size_t n)
{
	struct ttft_http_rx *rx = ctx;
	/* Count before feeding: an event's offset is the body bytes up to and
	 * including the read that completed it. */
	rx->body_bytes += n;
	if (rx->is_sse && !rx->compressed)
		ttft_sse_feed(&rx->sse, p, n);
}

static void rx_headers_done(struct ttft_http_rx *rx,
			    const struct ttft_http_tx *tx)
{
	if (rx->status >= 100 && rx->status < 200) {
		if (rx->status == 101) {
			rx_desync(rx, TTFT_DESYNC_UPGRADE);
			return;
		}
		rx_start(rx); /* 100 Continue etc.: the real response follows */
		return;
	}
	uint16_t flags = (uint16_t)((rx->chunked ? TTFT_F_CHUNKED : 0) |
				    (rx->is_sse ? TTFT_F_SSE : 0) |
				    (rx->compressed ? TTFT_F_COMPRESSED : 0) |
				    (tx && rx->seq >= tx->seq ? TTFT_F_UNSOLICITED : 0));
	emit_ev(rx->emit, rx->ctx, TTFT_EV_RESP_HEADERS, flags, rx->seq,
		rx->t_now, rx->status, 0, NULL, 0);
	if (rx->is_sse)
		ttft_sse_reset(&rx->sse);
	int head = tx && (tx->head_mask & (1u << (rx->seq % 32)));
	if (head || rx->status == 204 || rx->status == 304)
		rx_response_done(rx, 0);
	else if (rx->chunked) {
		chunked_init(&rx->ch);
		rx->st = RX_BODY_CHUNKED;
	} else if (rx->has_len) {
		if (rx->body_left == 0)
			rx_response_done(rx, 0);
		else
			rx->st = RX_BODY_LEN;
	} else {
		rx->st = RX_BODY_EOF;
	}
}

/* The bytes [i, n) of a read, by the state machines. Returns where it
 * stopped: n, or earlier at a chunk boundary of a chunked body (after
 * some bytes were used) where the caller's whole-chunk path goes on. */
static __attribute__((noinline)) size_t
rx_bytes(struct ttft_http_rx *rx, const struct ttft_http_tx *tx,
	 const char *p, size_t n, size_t i)
{
	while (i < n && rx->st != RX_DEAD) {
		char c = p[i];
		switch (rx->st) {
		case RX_STATUS:
			i++;
			if (rx->slen == 0 && (c == '\r' || c == '\n'))
				continue;
			if (c == '\n') {
				if (rx->slen < 12 || rx->sline[8] != ' ') {
					rx_desync(rx, TTFT_DESYNC_BAD_STATUS);
					return n;
				}
				int st = 0;
				for (int k = 9; k < 12; k++) {
					char d = rx->sline[k];
					if (d < '0' || d > '9') {
						rx_desync(rx, TTFT_DESYNC_BAD_STATUS);
						return n;
					}
					st = st * 10 + (d - '0');
				}
				rx->status = (uint16_t)st;
				rx->st = RX_HEADERS;
				continue;
			}
			if (rx->slen < sizeof rx->sline)
				rx->sline[rx->slen] = c;
			if (rx->slen < 255)
				rx->slen++;
			if (rx->slen == 7 && memcmp(rx->sline, "HTTP/1.", 7) != 0) {
				rx_desync(rx, TTFT_DESYNC_BAD_STATUS);
				return n;
			}
			continue;
		case RX_HEADERS: {
			const char *h;
			size_t hl;
			i += next_line(p, p + i, p + n, rx->hdr, &rx->hlen,
				       sizeof rx->hdr, &h, &hl);
			if (!h)
				continue;
			/* a line read in place is judged on the bytes a line cut
			 * by a read's end keeps: the same at every split */
			if (hl > sizeof rx->hdr)
				hl = sizeof rx->hdr;
			if (hl) {
				struct hdr_info hi = {0};
				if (may_matter(h))
					header_line(h, hl, &hi);
				if (hi.has_len) {
					rx->has_len = 1;
					rx->body_left = hi.length;
				}
				rx->chunked |= hi.chunked;
				rx->is_sse |= hi.sse;
				rx->compressed |= hi.compressed;
				continue;
			}
			rx_headers_done(rx, tx);
			if (rx->st == RX_BODY_CHUNKED)
				return i; /* the chunks: the caller's fast path */
			continue;
		}
		case RX_BODY_LEN: {
			size_t take = n - i;
			if (take > rx->body_left)
				take = (size_t)rx->body_left;
			rx->body_left -= take;
			rx_body(rx, p + i, take);
			i += take;
			if (rx->body_left == 0)
				rx_response_done(rx, 0);
			continue;
		}
		case RX_BODY_CHUNKED: {
			size_t used = 0;
			int r = chunked_feed(&rx->ch, p + i, n - i, &used,
					     rx_body, rx, 1);
			if (r == CH_ERROR) {
				rx_desync(rx, TTFT_DESYNC_BAD_CHUNK);
				return n;
			}
			i += used;
			if (r == CH_DONE)
				rx_response_done(rx, 0);
			else if (r == CH_BOUNDARY)
				return i;
			continue;
		}
		case RX_BODY_EOF:
			rx_body(rx, p + i, n - i);
			i = n;
			continue;
		}
	}
	return n;
}

/* Whole chunks from p + i on, while the body is at a chunk boundary: their
 * data straight to the classifier, and a token event that is a whole chunk
 * reported here, through this call's emit (the classifier's callback is
 * for everything else). Returns where the chunks stopped. */
static inline __attribute__((always_inline)) size_t
rx_chunks(struct ttft_http_rx *rx, const char *p, size_t n, size_t i,
	  int64_t t_end, ttft_http_emit emit, void *ctx)
{
	const char *data;
	size_t len;
	for (size_t k; i < n && (k = chunk_span(p + i, n - i, &data, &len)); ) {
		i += k;
		/* counted before feeding, as rx_body does */
		rx->body_bytes += len;
		if (rx->is_sse && !rx->compressed &&
		    (ttft_sse_whole_token(&rx->sse, data, len) ||
		     ttft_sse_feed_token(&rx->sse, data, len)))
			emit_ev(emit, ctx, TTFT_EV_SSE_TOKEN, 0, rx->seq, t_end,
				(int64_t)rx->body_bytes, (int64_t)rx->tokens++,
				NULL, 0);
	}
	return i;
}

/* The rest of a read the whole-chunk path did not take (out of the
 * traced read's frame, which stays the lean one of a single token). */
static __attribute__((noinline)) void
rx_rest(struct ttft_http_rx *rx, const struct ttft_http_tx *tx, const char *p,
	size_t n, size_t i, int64_t t_end, ttft_http_emit emit, void *ctx)
{
	/* The state machines take the rest (headers, a chunk cut by a read's
	 * end) and hand back at the next chunk boundary: the chunks of a
	 * burst read at once go the whole-chunk way too. */
	while ((i = rx_bytes(rx, tx, p, n, i)) < n)
		i = rx_chunks(rx, p, n, i, t_end, emit, ctx);
}

void ttft_http_rx_feed(struct ttft_http_rx *rx, const struct ttft_http_tx *tx,
		       const char *p, size_t n, int64_t t_end,
		       ttft_http_emit emit, void *ctx)
{
	size_t i = 0;
	/* A stream's reads are mostly whole chunks, */
	int at_chunk = rx->st == RX_BODY_CHUNKED && rx->ch.st == CH_SIZE &&
		       !rx->ch.digits;
	if (at_chunk) {
		/* and most are one chunk, one token event of the template:
		 * reported here, nothing else to do */
		const char *data = NULL;
		size_t len = 0;
		if (chunk_span(p, n, &data, &len) == n && rx->is_sse &&
		    !rx->compressed && ttft_sse_whole_token(&rx->sse, data, len)) {
			rx->body_bytes += len;
			emit_ev(emit, ctx, TTFT_EV_SSE_TOKEN, 0, rx->seq, t_end,
				(int64_t)rx->body_bytes, (int64_t)rx->tokens++,
				NULL, 0);
			return;
		}
	}
	/* for the classifier's callback (sse_event) */
	rx->emit = emit;
	rx->ctx = ctx;
	rx->t_now = t_end;
	if (at_chunk)
		i = rx_chunks(rx, p, n, 0, t_end, emit, ctx);
	if (i < n)
		rx_rest(rx, tx, p, n, i, t_end, emit, ctx);
}

void ttft_http_rx_eof(struct ttft_http_rx *rx, int64_t t_end,
		      ttft_http_emit emit, void *ctx)
{
	rx->emit = emit;
	rx->ctx = ctx;
	rx->t_now = t_end;
	switch (rx->st) {
	case RX_BODY_EOF:
		rx_response_done(rx, TTFT_F_EOF_BODY);
		break;
	case RX_HEADERS:
	case RX_BODY_LEN:
	case RX_BODY_CHUNKED:
		rx_response_done(rx, TTFT_F_TRUNCATED);
		break;
	case RX_STATUS:
		if (rx->slen)
			rx_response_done(rx, TTFT_F_TRUNCATED);
		break;
	default:
		break;
	}
}

void ttft_http_rx_lost(struct ttft_http_rx *rx, int64_t t_end,
		       ttft_http_emit emit, void *ctx)
{
	rx->emit = emit;
	rx->ctx = ctx;
	rx->t_now = t_end;
	if (rx->st != RX_DEAD)
		rx_desync(rx, TTFT_DESYNC_LOST_BYTES);
}
