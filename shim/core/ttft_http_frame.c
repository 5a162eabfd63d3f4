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

void chunked_init(struct ttft_chunked *c)
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
