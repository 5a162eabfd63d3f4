/* ttft_http_status.c — a response's status line for the sniffer (its
 * code, its version) and what an interim (1xx) response does before the
 * final one; the rest of the response's framing is ttft_http.c. */
#include "ttft_http_int.h"

/* A status line's minor version byte ("HTTP/1.x"): 0 for 0 and 1, whose
 * framing is the sniffer's; else the byte ('?' for one not printable).
 * RFC 9112 2.3: a recipient takes a 1.x above 1 as 1.1, and the sniffer
 * frames it so, as CPython does (it takes any "HTTP/1." as 1.1); curl and
 * cpp-httplib refuse the response, so its row says what it was. */
static char minor_of(char c)
{
	if (c == '0' || c == '1')
		return 0;
	return c > ' ' && c < 0x7f ? c : '?';
}

/* The status code (l[9..12)) is three digits and ends there: the line
 * ends (its CR, or its LF at len 12), or the reason phrase's space follows
 * (curl and CPython take a tab too). "HTTP/1.1 2000 OK" is no status line,
 * not a 200 (a_status_code_is_three_digits). */
static inline int code_ends(const char *l, size_t len)
{
	return len == 12 || l[12] == ' ' || l[12] == '\t' || l[12] == '\r';
}

int ttft_http_status_line_(struct ttft_http_rx *rx, const char *l, size_t len)
{
	if (len < 12 || memcmp(l, "HTTP/1.", 7) != 0 || l[8] != ' ')
		return 0;
	int st = 0;
	for (int k = 9; k < 12; k++) {
		if (l[k] < '0' || l[k] > '9')
			return 0;
		st = st * 10 + (l[k] - '0');
	}
	if (!code_ends(l, len))
		return 0;
	rx->status = (uint16_t)st;
	rx->minor = minor_of(l[7]);
	rx->st = RX_HEADERS;
	return 1;
}

int ttft_http_interim_(struct ttft_http_rx *rx)
{
	if (rx->status == 101) {
		/* its request's row gets its status; what follows is another
		 * protocol (an h2c upgrade's response comes on HTTP/2): no
		 * end of it here */
		emit_ev(rx->emit, rx->ctx, TTFT_EV_RESP_HEADERS, 0, rx->seq, rx->t_now,
			rx->status, 0, NULL, 0);
		return 1;
	}
	/* 100 Continue, 103 Early Hints: the real response follows; a row
	 * that ends before it knows one was read */
	emit_ev(rx->emit, rx->ctx, TTFT_EV_RESP_INTERIM, 0, rx->seq, rx->t_now,
		rx->status, 0, NULL, 0);
	return 0;
}

void ttft_http_headers_ev_(struct ttft_http_rx *rx, uint16_t flags)
{
	char v[8] = "HTTP/1.";
	v[7] = rx->minor;
	if (__builtin_expect(rx->minor != 0, 0))
		emit_ev(rx->emit, rx->ctx, TTFT_EV_RESP_HEADERS,
			(uint16_t)(flags | TTFT_F_HTTP_MINOR), rx->seq, rx->t_now,
			rx->status, 0, v, sizeof v);
	else
		emit_ev(rx->emit, rx->ctx, TTFT_EV_RESP_HEADERS, flags, rx->seq,
			rx->t_now, rx->status, 0, NULL, 0);
}
