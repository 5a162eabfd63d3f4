/* ttft_http.c — the response half of HTTP/1.1 framing for the shim's
 * sniffer: byte-driven state machines with fixed-size state, and the
 * whole-chunk paths of a stream's reads; see ttft_http.h. The request half
 * is ttft_http_tx.c, what both read ttft_http_frame.c, the status line and
 * interim responses ttft_http_status.c. */
#include "ttft_http_int.h"
#include "ttft_sse_token.h"
#include "ttft_tmpl_eq.h"


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
	rx->minor = 0;
	rx->body_left = rx->body_bytes = 0;
	rx->tokens = 0;
}

static void rx_response_done(struct ttft_http_rx *rx, uint16_t flags)
{
	if (rx->read_end)
		flags |= TTFT_F_READ_END;
	rx->read_end = 0;
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
		if (interim(rx))
			rx_desync(rx, TTFT_DESYNC_UPGRADE);
		else
			rx_start(rx);
		return;
	}
	int head = tx && (tx->head_mask & (1u << (rx->seq % 32)));
	uint16_t flags = (uint16_t)((rx->chunked ? TTFT_F_CHUNKED : 0) |
				    (rx->is_sse ? TTFT_F_SSE : 0) |
				    (rx->compressed ? TTFT_F_COMPRESSED : 0) |
				    (tx && rx->seq >= tx->seq ? TTFT_F_UNSOLICITED : 0));
	/* a body framed by a length CPython reads apart from curl */
	if (__builtin_expect((rx->has_len & 10) == 8, 0) && !rx->chunked && !head &&
	    rx->status != 204 && rx->status != 304)
		flags |= TTFT_F_LEN_APART;
	/* a 2xx to CONNECT has no body: a tunnel follows, whose bytes are
	 * read afresh (plain HTTP through a proxy: its own requests and
	 * responses, numbered on); the flag tells the shim that the
	 * tunnel's first bytes may be a TLS handshake (HTTPS through the
	 * proxy), as a connection's first bytes may */
	int tunnel = tx && tx->connect_seq1 == rx->seq + 1 &&
		     rx->status >= 200 && rx->status < 300;
	if (__builtin_expect(tunnel, 0))
		flags |= TTFT_F_TUNNEL;
	headers_ev(rx, flags);
	if (rx->is_sse)
		ttft_sse_reset(&rx->sse);
	if (head || tunnel || rx->status == 204 || rx->status == 304)
		rx_response_done(rx, 0);
	else if (rx->chunked) {
		chunked_init(&rx->ch);
		rx->st = RX_BODY_CHUNKED;
	} else if (rx->has_len & 3) {
		if (rx->has_len & 2)
			rx_desync(rx, TTFT_DESYNC_BAD_LENGTH);
		else if (rx->body_left == 0)
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
			if (rx->slen == 0 && c != '\r' && c != '\n') {
				/* a status line whole in this read, read in place:
				 * the verdict the bytes below reach at its LF */
				const char *l = p + i, *lf = scan_lf(p, l, p + n);
				if (lf < p + n) {
					if (!status_line(rx, l, (size_t)(lf - l))) {
						rx_desync(rx, TTFT_DESYNC_BAD_STATUS);
						return n;
					}
					i = (size_t)(lf + 1 - p);
					continue;
				}
			}
			i++;
			if (rx->slen == 0 && (c == '\r' || c == '\n'))
				continue;
			if (c == '\n') {
				/* the line's first 16 bytes, its length whole */
				if (!status_line(rx, rx->sline, rx->slen)) {
					rx_desync(rx, TTFT_DESYNC_BAD_STATUS);
					return n;
				}
				continue;
			}
			uint8_t sl = __atomic_load_n(&rx->slen, __ATOMIC_RELAXED);
			if (sl < sizeof rx->sline) /* read once (ttft_http.h) */
				rx->sline[sl] = c;
			if (sl < 255)
				rx->slen = ++sl;
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
				/* a line folded onto a Content-Length's (obs-fold):
				 * curl refuses it, CPython joins it to the value */
				if ((rx->has_len & 4) && (*h == ' ' || *h == '\t'))
					hi.has_len = 2;
				else if (may_matter(h)) {
					header_line(h, hl, &hi);
					/* "identity, gzip", "gzip, chunked": only a
					 * name of 16 or 17 bytes can be one
					 * (content-, transfer-encoding) */
					if (hl > 17 && (*h | 0x20) != 'e' &&
					    (h[16] == ':' || h[17] == ':'))
						hi.compressed |= (uint8_t)
							ttft_http_codings_compress_(h, hl);
					/* "+158", "138, 158", 20 digits */
					if (hl >= 15 && h[14] == ':')
						ttft_http_content_length_(
							h, hl, hl == sizeof rx->hdr, &hi);
				}
				if (hi.has_len & 1) {
					/* a second Content-Length that differs: the
					 * clients differ (curl takes the last, CPython
					 * the first), so the framing is unknown */
					if ((rx->has_len & 1) && rx->body_left != hi.length)
						hi.has_len |= 2;
					rx->body_left = hi.length;
				}
				/* bit 4: this line is a Content-Length */
				rx->has_len = (uint8_t)((rx->has_len & 11) | hi.has_len);
				rx->chunked |= hi.chunked;
				rx->is_sse |= hi.sse;
				rx->compressed |= hi.compressed;
				continue;
			}
			rx->read_end = i == n; /* a body-less answer ends here */
			rx_headers_done(rx, tx);
			rx->read_end = 0;
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
			rx->read_end = i == n;
			if (rx->body_left == 0)
				rx_response_done(rx, 0);
			rx->read_end = 0;
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
			if (r == CH_DONE) {
				rx->read_end = i == n;
				rx_response_done(rx, 0);
			} else if (r == CH_BOUNDARY) {
				return i;
			}
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

/* A run of token events that one read delivered whole: n events, the last
 * ending at body offset bytes. One is reported as it always was; two or
 * more as one record flagged TTFT_F_RUN (a = how many, b = the first's
 * number): they share the read's time, and nothing came between them. */
static __attribute__((noinline)) void
rx_run(struct ttft_http_rx *rx, int64_t nrun, int64_t bytes, int64_t t_end,
       ttft_http_emit emit, void *ctx)
{
	int64_t first = (int64_t)rx->tokens;
	rx->tokens += (uint32_t)nrun;
	if (nrun == 1)
		emit_ev(emit, ctx, TTFT_EV_SSE_TOKEN, 0, rx->seq, t_end, bytes,
			first, NULL, 0);
	else
		emit_ev(emit, ctx, TTFT_EV_SSE_TOKEN, TTFT_F_RUN, rx->seq, t_end,
			nrun, first, NULL, 0);
}

/* A run's loop, out of line (a leaf: everything in registers): the whole
 * chunks from p + i on that are token events of the template sh, at most
 * max of them, counted into *nrun, their data into *bytes. Returns where
 * it stopped: at a chunk that is not one (*data, *len; *stop 1, the
 * returned offset past it), at max (*stop 2), or where whole chunks end
 * (*stop 0). The template's bytes compared by eq. */
#define RUN_LOOP(TOKEN)                                                      \
	const char *c = p + i, *e = p + n, *d;                               \
	uint64_t b = *bytes;                                                 \
	int64_t left = max;                                                  \
	size_t l, k;                                                         \
	int st = 0;                                                          \
	while (c < e && (k = chunk_span(c, (size_t)(e - c), &d, &l))) {      \
		c += k;                                                      \
		/* counted before feeding, as rx_body does */                \
		b += l;                                                      \
		if (!(TOKEN)) {                                              \
			*data = d;                                           \
			*len = l;                                            \
			st = 1;                                              \
			break;                                               \
		}                                                            \
		if (__builtin_expect(--left == 0, 0)) {                      \
			st = 2;                                              \
			break;                                               \
		}                                                            \
	}                                                                    \
	*bytes = b;                                                          \
	*nrun = max - left;                                                  \
	*stop = st;                                                          \
	return (size_t)(c - p)

static inline __attribute__((always_inline)) size_t
run_tokens(const struct sse_tmpl_shape *shp, const char *p, size_t n,
	   size_t i, int64_t max, uint64_t *bytes, int64_t *nrun,
	   const char **data, size_t *len, int *stop, ttft_tmpl_eq_fn eq)
{
	struct sse_tmpl_shape sh = *shp;
	RUN_LOOP(sse_shape_token(&sh, d, l, eq, 1));
}

#ifdef TTFT_TMPL_AVX2
/* The same with the template's bytes held in registers through the run
 * (AVX2): np 32-byte steps from each end of the prefix (32 * np <= tl <=
 * 64 * np), ns from each end of the suffix (32 * ns <= sl <= 64 * ns). */
#define LD(x) _mm256_loadu_si256((const __m256i *)(const void *)(x))
static inline __attribute__((always_inline)) TTFT_AVX2_FN __m256i
held_diff(const char *p, size_t n, const __m256i *T, const int np)
{
	/* from p and from its end: constant offsets from two registers */
	const char *pe = p + n;
	__asm__("" : "+r"(pe));
	__m256i x = _mm256_xor_si256(LD(p), T[0]);
	x = _mm256_or_si256(x, _mm256_xor_si256(LD(pe - 32 * np), T[np]));
#pragma GCC unroll 4
	for (int j = 1; j < np; j++)
		x = _mm256_or_si256(
			x, _mm256_or_si256(
				   _mm256_xor_si256(LD(p + 32 * j), T[j]),
				   _mm256_xor_si256(LD(pe - 32 * (np - j)),
						    T[np + j])));
	return x;
}

static inline __attribute__((always_inline)) TTFT_AVX2_FN void
held_load(const char *t, size_t n, __m256i *T, const int np)
{
#pragma GCC unroll 4
	for (int j = 0; j < np; j++) {
		T[j] = LD(t + 32 * j);
		T[np + j] = LD(t + n - 32 * (np - j));
	}
}

static inline __attribute__((always_inline)) TTFT_AVX2_FN size_t
run_held(const struct sse_tmpl_shape *shp, const char *p, size_t n, size_t i,
	 int64_t max, uint64_t *bytes, int64_t *nrun, const char **data,
	 size_t *len, int *stop, const int np, const int ns)
{
	struct sse_tmpl_shape sh = *shp;
	size_t tl = sh.tl, sl = sh.sl;
	__m256i T[8], S[4];
	held_load(sh.tmpl, tl, T, np);
	held_load(sh.tmpl + tl, sl, S, ns);
	const char *q;
	__m256i x;
	RUN_LOOP((q = sse_shape_q(&sh, d, l, 1, 1)) &&
		 (x = _mm256_or_si256(held_diff(d, tl, T, np),
				      held_diff(q, sl, S, ns)),
		  _mm256_testz_si256(x, x)));
}
#undef LD
#endif

typedef size_t (*run_fn)(const struct sse_tmpl_shape *sh, const char *p,
			 size_t n, size_t i, int64_t max, uint64_t *bytes,
			 int64_t *nrun, const char **data, size_t *len,
			 int *stop);

/* Whole chunks from p + i on, while the body is at a chunk boundary: their
 * data straight to the classifier, and the token events that are whole
 * chunks of the template reported here as one run, through this call's
 * emit (the classifier's callback is for everything else: the run is
 * reported before anything it reports). Returns where the chunks
 * stopped. */
static inline __attribute__((always_inline)) size_t
rx_chunks(struct ttft_http_rx *rx, const char *p, size_t n, size_t i,
	  int64_t t_end, ttft_http_emit emit, void *ctx, run_fn run)
{
	const char *data = NULL;
	size_t len = 0, k;
	int sse = rx->is_sse && !rx->compressed;
	while (i < n) {
		/* the classifier's state allows the one-token test
		 * (ttft_sse_whole_token), which changes nothing: asked again
		 * only after feeding */
		if (sse && ttft_sse_template_ready(&rx->sse)) {
			struct sse_tmpl_shape sh;
			sse_tmpl_shape(&rx->sse, &sh, 1);
			/* a chunk that cannot be one (the shape's test, the
			 * run's first): fed without the run's set-up (a
			 * response's last read: its finish, usage and [DONE]
			 * events, each a run's call of ~145 instructions) */
			if (!(k = chunk_span(p + i, n - i, &data, &len)))
				return i;
			if (!sse_shape_q(&sh, data, len, 0, 1)) {
				i += k;
				rx->body_bytes += len;
				goto feed;
			}
			uint64_t bytes = rx->body_bytes;
			int64_t nrun;
			int stop;
			i = run(&sh, p, n, i, TTFT_RUN_MAX, &bytes, &nrun, &data,
				&len, &stop);
			rx->body_bytes = bytes;
			if (nrun)
				rx_run(rx, nrun,
				       (int64_t)(stop == 1 ? bytes - len : bytes),
				       t_end, emit, ctx);
			if (stop != 1) {
				if (stop == 0)
					return i;
				continue;
			}
		} else {
			if (!(k = chunk_span(p + i, n - i, &data, &len)))
				return i;
			i += k;
			rx->body_bytes += len;
			if (!sse)
				continue;
		}
	feed:
		if (ttft_sse_feed_token(&rx->sse, data, len))
			emit_ev(emit, ctx, TTFT_EV_SSE_TOKEN, 0, rx->seq, t_end,
				(int64_t)rx->body_bytes, (int64_t)rx->tokens++,
				NULL, 0);
	}
	return i;
}

/* A read the one-token path did not take, from its start (out of the
 * traced read's frame, which stays the lean one of a single token): whole
 * chunks while the body is at a chunk boundary (at_chunk), the state
 * machines for the rest (headers, a chunk cut by a read's end), which hand
 * back at the next chunk boundary: the chunks of a burst read at once go
 * the whole-chunk way too. */
static __attribute__((noinline)) void
rx_rest(struct ttft_http_rx *rx, const struct ttft_http_tx *tx, const char *p,
	size_t n, int at_chunk, int64_t t_end, ttft_http_emit emit, void *ctx,
	run_fn run)
{
	/* for the classifier's callback (sse_event) */
	rx->emit = emit;
	rx->ctx = ctx;
	rx->t_now = t_end;
	size_t i = 0;
	for (;;) {
		if (at_chunk) {
			i = rx_chunks(rx, p, n, i, t_end, emit, ctx, run);
			/* the body's last chunk and no trailer, what the byte
			 * machine reads to CH_DONE from a chunk boundary (no
			 * data): the response ends here, as there */
			if (n - i >= 5 && memcmp(p + i, "0\r\n\r\n", 5) == 0) {
				i += 5;
				rx->read_end = i == n;
				rx_response_done(rx, 0);
			}
		}
		if (i >= n)
			return;
		i = rx_bytes(rx, tx, p, n, i);
		if (i >= n)
			return;
		at_chunk = 1;
	}
}

/* The run's loop (run_tokens) in two versions, which ttft_http_rx_feed
 * picks for rx_rest: the portable one (memcmp), and where the CPU has
 * AVX2 (ttft_sse_tmpl_avx2_, set by the first ttft_sse_init) one built
 * for it, the template compare inline, for the usual template's lengths
 * with its bytes held in registers. All exact. */
static __attribute__((noinline)) size_t
run_plain(const struct sse_tmpl_shape *sh, const char *p, size_t n, size_t i,
	  int64_t max, uint64_t *bytes, int64_t *nrun, const char **data,
	  size_t *len, int *stop)
{
	return run_tokens(sh, p, n, i, max, bytes, nrun, data, len, stop,
			  tmpl_eq_plain);
}

#ifdef TTFT_TMPL_AVX2
static __attribute__((noinline)) TTFT_AVX2_FN size_t
run_avx2(const struct sse_tmpl_shape *sh, const char *p, size_t n, size_t i,
	 int64_t max, uint64_t *bytes, int64_t *nrun, const char **data,
	 size_t *len, int *stop)
{
	/* the usual template (an OpenAI-style stream's): its bytes held in
	 * registers through the run */
	size_t tl = sh->tl, sl = sh->sl;
	if (tl > 128 && sl >= 32 && sl <= 64)
		return run_held(sh, p, n, i, max, bytes, nrun, data, len, stop,
				4, 1);
	if (tl > 128 && sl > 64 && sl <= 128)
		return run_held(sh, p, n, i, max, bytes, nrun, data, len, stop,
				4, 2);
	if (tl >= 64 && tl <= 128 && sl >= 32 && sl <= 128)
		return run_held(sh, p, n, i, max, bytes, nrun, data, len, stop,
				2, sl > 64 ? 2 : 1);
	/* spans both 32 bytes or more: the compare without a call (that
	 * would clobber every vector register the loop keeps) */
	if (tl >= 32 && sl >= 32)
		return run_tokens(sh, p, n, i, max, bytes, nrun, data, len,
				  stop, tmpl_eq_avx2_long);
	return run_tokens(sh, p, n, i, max, bytes, nrun, data, len, stop,
			  tmpl_eq_avx2);
}

#endif

int ttft_http_rx_feed_token(struct ttft_http_rx *rx, const char *p, size_t n,
			    int64_t t_end, ttft_http_emit emit, void *ctx)
{
	/* A stream's reads are mostly whole chunks, and most are one chunk,
	 * one token event of the template: reported here, nothing else to
	 * do. The tests change nothing when they fail. */
	const char *data = NULL;
	size_t len = 0;
	if (rx->st == RX_BODY_CHUNKED && rx->ch.st == CH_SIZE && !rx->ch.digits &&
	    chunk_whole(p, n, &data, &len) && rx_sse_plain(rx) &&
	    ttft_sse_whole_token(&rx->sse, data, len)) {
		rx->body_bytes += len;
		emit_ev(emit, ctx, TTFT_EV_SSE_TOKEN, 0, rx->seq, t_end,
			(int64_t)rx->body_bytes, (int64_t)rx->tokens++, NULL, 0);
		return 1;
	}
	return 0;
}

void ttft_http_rx_feed_rest(struct ttft_http_rx *rx,
			    const struct ttft_http_tx *tx, const char *p,
			    size_t n, int64_t t_end, ttft_http_emit emit,
			    void *ctx)
{
	int at_chunk = rx->st == RX_BODY_CHUNKED && rx->ch.st == CH_SIZE &&
		       !rx->ch.digits;
	if (!n)
		return;
	run_fn run = run_plain;
#ifdef TTFT_TMPL_AVX2
	if (__atomic_load_n(&ttft_sse_tmpl_avx2_, __ATOMIC_RELAXED))
		run = run_avx2;
#endif
	rx_rest(rx, tx, p, n, at_chunk, t_end, emit, ctx, run);
}

void ttft_http_rx_feed(struct ttft_http_rx *rx, const struct ttft_http_tx *tx,
		       const char *p, size_t n, int64_t t_end,
		       ttft_http_emit emit, void *ctx)
{
	if (!ttft_http_rx_feed_token(rx, p, n, t_end, emit, ctx))
		ttft_http_rx_feed_rest(rx, tx, p, n, t_end, emit, ctx);
}

void ttft_http_rx_eof(struct ttft_http_rx *rx, const struct ttft_http_tx *tx,
		      int64_t t_end, ttft_http_emit emit, void *ctx)
{
	rx->emit = emit;
	rx->ctx = ctx;
	rx->t_now = t_end;
	rx->read_end = 1; /* nothing can follow the close */
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
	/* every request still waiting got none of its answer: a server that
	 * closes a new connection unanswered, a kept-alive one as the request
	 * went out, or pipelined requests after the answer that closed */
	while (tx && rx->st == RX_STATUS && !rx->slen && rx->seq < tx->seq)
		rx_response_done(rx, TTFT_F_TRUNCATED | TTFT_F_NO_ANSWER);
	rx->read_end = 0;
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

int ttft_http_rx_mid_head(const struct ttft_http_rx *rx)
{
	return (rx->st == RX_STATUS && rx->slen) || rx->st == RX_HEADERS;
}
