/* ttft_http_frame.c — what both directions of the HTTP framer read: chunked
 * bodies (the byte machine; whole chunks go by chunk_span, ttft_http_int.h)
 * and the header lines that matter. */
#include "ttft_http_int.h"

/* Decode chunked framing; body bytes go to fn. Returns CH_MORE when all n
 * bytes were consumed, CH_DONE (with *used set) at the end of the body,
 * CH_ERROR on a malformed size line; with stop, CH_BOUNDARY (with *used
 * set) at the first chunk boundary after some bytes were used, so that the
 * caller's whole-chunk path can take the chunks that follow. */
int chunked_feed(struct ttft_chunked *c, const char *p, size_t n,
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
				/* 15 significant digits at most; leading zeros
				 * any number (curl takes 16 characters, CPython
				 * any) */
				if (c->left >> 56)
					return CH_ERROR;
				c->digits = 1;
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

void chunked_init(struct ttft_chunked *c)
{
	memset(c, 0, sizeof *c);
}


/* The 8 bytes at p, as a word (a load, where unaligned loads are cheap). */
static inline __attribute__((always_inline)) uint64_t word8(const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	return w;
}

#define ONES8 0x0101010101010101ull
#define HIGH8 0x8080808080808080ull

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/* The bytes of the word at s that differ from the word at lit but for
 * case. lit holds lower-case letters and bytes below 0x40 only ('-', '/',
 * digits): a byte of it with bit 0x40 is a letter, and only there is 0x20
 * OR-ed into s's byte (so 'C' and 'c' match 'c', and '\r' never matches
 * '-', which it would with 0x20 added). Exact: a letter's two cases are
 * the only bytes that are it with 0x20 set. */
static inline __attribute__((always_inline)) uint64_t
idiff8(const char *s, const char *lit)
{
	uint64_t l = word8(lit);
	return (word8(s) | (l & 0x4040404040404040ull) >> 1) ^ l;
}

/* s[0..n) equals lit (lower case, as idiff8 takes it) but for case: from
 * 8 bytes on, a word at a time, the last one ending at the end (a
 * response's header names: "content-type", "transfer-encoding"); a byte at
 * a time below. */
static int ieq(const char *s, const char *lit, size_t n)
{
	if (n >= 8) {
		uint64_t d = idiff8(s + n - 8, lit + n - 8);
		for (size_t j = 0; j + 8 < n; j += 8)
			d |= idiff8(s + j, lit + j);
		return !d;
	}
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != lit[i])
			return 0;
	return 1;
}

/* s[0..n) holds lit (k bytes, as idiff8 takes them) but for case: from
 * 8 bytes on, at each start, words, the last one ending at the
 * candidate's end. (Header names stay a byte at a time, ieq: its words
 * inlined into the send path cost every send +5, as is_traceparent's.) */
static int icontains(const char *s, size_t n, const char *lit, size_t k)
{
	if (k < 8) {
		for (size_t i = 0; i + k <= n; i++)
			if (ieq(s + i, lit, k))
				return 1;
		return 0;
	}
	for (size_t i = 0; i + k <= n; i++) {
		uint64_t d = idiff8(s + i + k - 8, lit + k - 8);
		for (size_t j = 0; j + 8 < k; j += 8)
			d |= idiff8(s + i + j, lit + j);
		if (!d)
			return 1;
	}
	return 0;
}

/* 0x80 in each byte of w that is a lower-case hex digit: [0-9a-f]. The
 * sums carry into no other byte: the caller has checked that no byte has
 * its top bit set. */
static inline __attribute__((always_inline)) uint64_t hex8(uint64_t w)
{
	uint64_t ge0 = w + 0x50 * ONES8, le9 = ~(w + 0x46 * ONES8);
	uint64_t gea = w + 0x1f * ONES8, lef = ~(w + 0x19 * ONES8);
	return ((ge0 & le9) | (gea & lef)) & HIGH8;
}

/* 0x80 in each byte of w that is '-' (exact: a zero byte of w ^ '-'s,
 * found without a borrow into the next byte). */
static inline __attribute__((always_inline)) uint64_t dash8(uint64_t w)
{
	uint64_t y = w ^ 0x2d * ONES8;
	return ~(((y & ~HIGH8) + ~HIGH8) | y) & HIGH8;
}

/* A W3C traceparent: "vv-<32 hex>-<16 hex>-ff" (55 characters), then
 * the value's end, blanks only (HTTP's trailing whitespace), or a '-' and
 * more (later versions may append fields; version 00 may not, which the
 * tools judge: the return is 2 then, 1 for a value that ends there, 0 for
 * none). Seven words cover the 55 bytes (the last from byte 47,
 * overlapping); in each, the bytes at 2, 35 and 52 must be '-', the others
 * hex. Out of line: inlined into the send path (with the request headers)
 * it changed the register allocation of every send, +7 instructions on
 * one without a traceparent (bench_shim --instr send). */
static __attribute__((noinline)) int is_traceparent(const char *v, size_t n)
{
	if (n < TTFT_TRACEPARENT_LEN)
		return 0;
	int more = n > TTFT_TRACEPARENT_LEN && v[55] == '-';
	for (size_t i = TTFT_TRACEPARENT_LEN; i < n && !more; i++)
		if (v[i] != ' ' && v[i] != '\t')
			return 0;
	/* the dashes' bytes in the words at 0, 32 and 47 (little-endian:
	 * byte k is bits 8k..8k+7; big-endian machines take byte k as the
	 * k-th from the top) */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TP_BYTE(k) (0x80ull << (8 * (k)))
#else
#define TP_BYTE(k) (0x80ull << (8 * (7 - (k))))
#endif
	static const uint8_t at[7] = {0, 8, 16, 24, 32, 40, 47};
	static const uint64_t dash[7] = {TP_BYTE(2), 0, 0, 0, TP_BYTE(3), 0,
					 TP_BYTE(5)};
#undef TP_BYTE
	uint64_t bad = 0;
	for (int k = 0; k < 7; k++) {
		uint64_t w = word8(v + at[k]);
		if (w & HIGH8)
			return 0;
		bad |= (hex8(w) & ~dash[k]) ^ (HIGH8 & ~dash[k]);
		bad |= (dash8(w) & dash[k]) ^ dash[k];
	}
	return bad ? 0 : 1 + more;
}

/* A Content-Encoding or Transfer-Encoding line h[0..n) whose coding list
 * names a compression anywhere in it: a comma-separated token, blanks
 * around it, any case, that is neither identity (nor, in a
 * Content-Encoding, "none") nor (Transfer-Encoding) chunked. header_line only reads a Content-Encoding's first coding
 * ("identity, gzip" passed); the response side asks this too. Out of
 * line and cold: rare headers, kept off the paths that send and read. */
__attribute__((noinline, cold)) int ttft_http_codings_compress_(const char *h, size_t n)
{
	const char *colon = memchr(h, ':', n);
	if (!colon)
		return 0;
	size_t k = (size_t)(colon - h);
	int te = k == 17 && ieq(h, "transfer-encoding", 17);
	if (!te && !(k == 16 && ieq(h, "content-encoding", 16)))
		return 0;
	const char *v = colon + 1;
	size_t vn = n - k - 1, i = 0;
	/* the usual one, "Transfer-Encoding: chunked", in one compare */
	if (te && vn == 8 && !idiff8(v, " chunked"))
		return 0;
	while (i < vn) {
		while (i < vn && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t b = i;
		while (i < vn && v[i] != ',')
			i++;
		size_t e = i;
		while (e > b && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e == b)
			continue;
		if (e - b == 8 && ieq(v + b, "identity", 8))
			continue;
		if (!te && e - b == 4 && ieq(v + b, "none", 4))
			continue; /* curl's name for identity too */
		if (te && e - b == 7 && ieq(v + b, "chunked", 7))
			continue;
		return 1;
	}
	return 0;
}

/* A Content-Length value at v..e: its digits, a '+' before them (curl and
 * CPython take one), the blanks after; 0 when there are none, or more
 * than an int64_t holds (curl then reads the body to the close, so does
 * the sniffer: no length). Sets *end past what it read. */
static int cl_value(const char *v, const char *e, uint64_t *x, const char **end)
{
	if (v < e && *v == '+')
		v++;
	uint64_t y = 0;
	int digits = 0;
	for (; v < e && *v >= '0' && *v <= '9'; v++, digits++) {
		if (y > (UINT64_C(0x7fffffffffffffff) - (uint64_t)(*v - '0')) / 10)
			return 0;
		y = y * 10 + (uint64_t)(*v - '0');
	}
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	*x = y;
	*end = v;
	return digits > 0;
}

/* A response's Content-Length line h[0..n) read again, as the clients
 * read it where header_line, which reads both directions, does not:
 * "+158" (curl and CPython take the '+'), a value too long for an int64_t
 * (curl reads the body to the close, so does the sniffer: no length), and
 * a list: "158, 158" is one length (RFC 9110 8.6), "138, 158" conflicts
 * (bit 2, length the first: the clients differ, curl takes the last
 * value, CPython reads to the close; rx_headers_done gives up the
 * framing). What follows the digits otherwise stays unread ("158abc":
 * 158, as curl takes it). A list of equal values or text after the
 * number gets bit 8: one length to curl, to the close for CPython, whose
 * int() refuses it (TTFT_F_LEN_APART on the response's headers). cut: the line may have been longer (it fills
 * the buffer that held it): a value that runs to its end conflicts too
 * (bit 2), its rest unknown. has_len gets bit 4 on any Content-Length line
 * (a folded line after it is the value's rest: rx_bytes). Any other
 * line: hi unchanged. Out of line and cold: the receive path's header
 * lines only, not the send path's. */
__attribute__((noinline, cold)) void
ttft_http_content_length_(const char *h, size_t n, int cut, struct hdr_info *hi)
{
	if (n < 15 || h[14] != ':' || !ieq(h, "content-length", 14))
		return;
	const char *v = h + 15, *e = h + n, *p;
	uint64_t x = 0, y;
	uint8_t has = 4;
	while (v < e && (*v == ' ' || *v == '\t'))
		v++;
	p = v;
	hi->length = 0;
	if (cl_value(v, e, &x, &p)) {
		hi->length = x;
		has |= 1;
		/* text after the number ("158abc"), or a list: CPython's
		 * int() refuses it and reads to the close (bit 8) */
		if (p < e)
			has |= 8;
		while (p < e && *p == ',') {
			p++;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			if (p == e || *p == ',')
				continue;
			if (!cl_value(p, e, &y, &p) || y != x) {
				has |= 2;
				break;
			}
		}
	}
	/* a value read up to the end of a line that may be cut (the
	 * sniffer keeps 40 bytes of one): its rest is not known ("000…034"
	 * with 28 zeros is 34 to the clients, 0 cut), nor its length */
	if (cut && p == e)
		has |= 2;
	hi->has_len = has;
}

/* One header line h[0..n), without its line end (cut when it was longer
 * than the buffer that held it). Only a handful of names matter. */
void header_line(const char *h, size_t n, struct hdr_info *hi)
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
		/* Anything but identity (or "none", curl's other name for
		 * it, which no client decodes): the body is compressed. */
		if (ieq(h, "content-encoding", 16))
			hi->compressed = vn && !(vn >= 8 && ieq(v, "identity", 8) &&
						 (vn == 8 || v[8] == ' ' || v[8] == ',')) &&
					 !(vn >= 4 && ieq(v, "none", 4) &&
					   (vn == 4 || v[4] == ' ' || v[4] == ','));
		break;
	case 11:
		if (ieq(h, "traceparent", 11)) {
			int tp = is_traceparent(v, vn);
			if (tp) {
				hi->traceparent = v;
				hi->tp_flags = tp == 2 ? TTFT_F_TP_MORE : 0;
			}
		}
		break;
	case 6:
		if (ieq(h, "expect", 6))
			hi->expect = (uint8_t)icontains(v, vn, "100-continue", 12);
		break;
	default:
		break;
	}
}
