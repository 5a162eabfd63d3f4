/* ttft_http_tx.c — the request half of the HTTP framer: request lines,
 * the headers that matter, bodies; a head whole in one call by a fast path.
 * See ttft_http.h. */
#include "ttft_http_int.h"


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
 * l[0..m): 1. CONNECT's authority-form ("host:port", a proxy tunnel's
 * request): 2. */
static int target_ok(const char *l, size_t m, const char *t, size_t tn)
{
	if (tn == 0)
		return 0;
	if (t[0] == '/')
		return 1;
	if (t[0] == '*')
		return m == 7 && memcmp(l, "OPTIONS", 7) == 0 && (tn == 1 || t[1] == ' ');
	if (m == 7 && memcmp(l, "CONNECT", 7) == 0) {
		/* host (a name, an IPv4 or a bracketed IPv6 address) ':' port */
		size_t k = 0, colon = 0;
		for (; k < tn && t[k] != ' '; k++) {
			char c = t[k];
			if (c == ':')
				colon = k;
			else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				   (c >= '0' && c <= '9') || c == '.' || c == '-' ||
				   c == '_' || c == '[' || c == ']' || c == '%'))
				return 0;
		}
		if (!colon || colon + 1 >= k)
			return 0;
		for (size_t d = colon + 1; d < k; d++) /* a port: digits */
			if (t[d] < '0' || t[d] > '9')
				return 0;
		return 2;
	}
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
 * tracked (line_track). 0: not; 1: a request; 2: a CONNECT (target_ok). */
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
		if (tx->lbad || tx->lsp != 2 || tx->lb9 != ' ' ||
		    tx->ltail >> 8 != http1 || ver < '0' || ver > '9')
			return 0;
		return target_ok(l, m, l + m + 1, keep - m - 1);
	}
	if (ll < m + 11)
		return 0;
	const char *v = l + ll - 8;
	if (memcmp(v - 1, " HTTP/1.", 8) != 0 || v[7] < '0' || v[7] > '9')
		return 0;
	const char *t = l + m + 1, *te = v - 1; /* te - t > 0: ll >= m + 11 */
	if (te - t < BLOCK && l + ll - t >= BLOCK) {
		/* the target and its " HTTP/1.x" in one block: its first
		 * space or control byte is te's (so the mask is not 0) */
		__typeof__(mask_sp(load_block(t))) k = mask_sp(load_block(t));
		if (FIRST(k) != (size_t)(te - t))
			return 0;
	} else if (first_sp(t, l + ll) != te) {
		return 0; /* a space or a control byte in the target */
	}
	if (t[0] == '/')
		return m + 1 < keep; /* target_ok's verdict: a byte of it kept */
	size_t tn = (size_t)(te - t);
	return target_ok(l, m, t, tn < keep - m - 1 ? tn : keep - m - 1);
}

static void ignore_data(void *ctx, const char *p, size_t n)
{
	(void)ctx, (void)p, (void)n;
}

/* A request's first byte: what the machine keeps of the one before goes.
 * Already 0 here: llen and hlen (every line of the request before ended,
 * and an ended line keeps nothing) and expect (cleared before a request
 * is done: at its head's end without a body, at its first body byte, or
 * by ttft_http_tx_sync). A cut request line's tracking starts at its
 * first piece (TX_LINE). The caller sets the state. */
static inline __attribute__((always_inline)) void
tx_begin(struct ttft_http_tx *tx, int64_t t_begin)
{
	tx->t_first = t_begin;
	tx->bytes = 0;
	tx->chunked = 0;
	tx->body_left = 0;
}

/* The request line l[0..ll) ended (without its CR LF; pieces: only its
 * first bytes are in l, the rest was tracked). Returns 0 when it is not
 * HTTP/1.x (the direction is dead). */
static inline __attribute__((always_inline)) int
tx_request_line(struct ttft_http_tx *tx, const char *l, size_t ll, int pieces,
		int64_t t_end, ttft_http_emit emit, void *ctx)
{
	int ok = request_line_ok(tx, l, ll, pieces);
	if (!ok) {
		tx_desync(tx, t_end, TTFT_DESYNC_NOT_HTTP, emit, ctx);
		return 0;
	}
	/* Report "METHOD /path", without " HTTP/1.1" (a whole line that
	 * request_line_ok took ends so; a cut one keeps only its start). */
	size_t len = ll;
	if (!pieces || (len > 9 && memcmp(l + len - 9, " HTTP/1.", 8) == 0))
		len -= 9;
	uint32_t seq = tx->seq++;
	if (__builtin_expect(ok == 2, 0)) /* CONNECT: a 2xx opens a tunnel */
		tx->connect_seq1 = seq + 1;
	if (ll >= 5 && memcmp(l, "HEAD ", 5) == 0)
		tx->head_mask |= 1u << (seq % 32);
	else if (tx->head_mask) /* else no bit to clear: no HEAD lately */
		tx->head_mask &= ~(1u << (seq % 32));
	emit_ev(emit, ctx, TTFT_EV_REQ_BEGIN, 0, seq, tx->t_first, 0,
		0, l, len < TTFT_HTTP_LINE ? len : TTFT_HTTP_LINE);
	return 1; /* the caller's state: TX_HEADERS */
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
	/* "more" as a flag: as a, the send path's code came out +3
	 * instructions on every send, with or without a traceparent
	 * (bench_shim --instr send) */
	if (hi.traceparent)
		emit_ev(emit, ctx, TTFT_EV_TRACEPARENT, hi.tp_flags, tx->seq - 1,
			t_end, 0, 0, hi.traceparent, TTFT_TRACEPARENT_LEN);
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
 * first byte at p (a capital letter; tx_begin done, nothing kept;
 * e - p >= WIDE_BYTES). The state is stored only where it stops: in
 * the request line (TX_LINE), in the headers (TX_HEADERS), dead, or at
 * the head's end.
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
	if (!lf_next(&win, &m, e, &lf)) {
		tx->st = TX_LINE;
		return 0;
	}
	size_t ll = (size_t)(lf - p); /* > 0: p[0] is a letter */
	if (p[ll - 1] == '\r')
		ll--;
	if (!tx_request_line(tx, p, ll, 0, t_end, emit, ctx))
		return (size_t)(e - p); /* dead: it reads no more */
	for (const char *h = lf + 1;; h = lf + 1) {
		if (!lf_next(&win, &m, e, &lf)) {
			tx->st = TX_HEADERS;
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
			tx->st = TX_LINE;
			continue;
		case TX_LINE: {
			const char *l;
			size_t ll;
			int pieces = tx->llen != 0; /* a part came in an earlier read */
			if (!pieces) {
				tx->lsp = tx->lbad = tx->lcr = 0;
				tx->lb9 = 0;
				tx->ltail = 0;
			}
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
			tx->st = TX_HEADERS;
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
