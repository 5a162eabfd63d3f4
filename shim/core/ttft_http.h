/* ttft_http.h — HTTP/1.1 framing sniffer for one client connection.
 *
 * Two independent halves, so one thread may send while another receives:
 *   tx: the bytes the client sends — finds each request's first byte, its
 *       request line, and its last byte (Content-Length or chunked body);
 *   rx: the bytes the client receives — status line and headers (a 1xx
 *       only reported: the final response follows), then the body
 *       (Content-Length, chunked with chunk boundaries anywhere, or until
 *       EOF), fed to the SSE classifier when the response is
 *       text/event-stream.
 * Keep-alive and pipelining: requests and responses are numbered (seq) in
 * order on the connection. Nothing is allocated and no payload is stored.
 * Each finding is reported through the emit callback with the timestamp it
 * belongs to: the start of the call for a request's first byte, the return
 * of the call for everything else.
 *
 * Threads: one half is one thread's at a time. Two threads that read (or
 * send on) the same socket at once race on its half without a lock: its
 * findings may then be wrong, but every write into a buffer of the state
 * reads the length it writes at once and bounds it by the buffer, so the
 * state never writes past itself (whatever lengths the other thread left).
 */
#ifndef TTFT_HTTP_H
#define TTFT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_sse.h"

struct ttft_http_event {
	uint16_t kind;       /* TTFT_EV_* from ttft_log.h */
	uint16_t flags;      /* TTFT_F_* */
	uint32_t seq;        /* request number on the connection */
	int64_t t_ns;
	int64_t a, b;
	const char *text;    /* may be NULL; not NUL-terminated past text_len */
	size_t text_len;
};

typedef void (*ttft_http_emit)(void *ctx, const struct ttft_http_event *ev);

/* Why a direction stopped parsing (TTFT_EV_DESYNC, field b). */
enum ttft_desync {
	TTFT_DESYNC_NOT_HTTP = 1,   /* first bytes are not an HTTP/1.x request
	                               (TLS, HTTP/2, another protocol)        */
	TTFT_DESYNC_BAD_STATUS = 2, /* response does not start "HTTP/1."     */
	TTFT_DESYNC_BAD_CHUNK = 3,  /* malformed chunk-size line               */
	TTFT_DESYNC_LOST_BYTES = 4, /* bytes went by unseen (MSG_TRUNC, …)    */
	TTFT_DESYNC_UPGRADE = 5,    /* 101 Switching Protocols                 */
	/* 6 is the exporter's (TTFT_EXPORT_ENCRYPTED: TLS not read) */
	TTFT_DESYNC_BAD_LENGTH = 7, /* Content-Length values that differ, one
	                               folded onto the next line, or one that
	                               runs past the 40 bytes kept of a line */
};

struct ttft_chunked {
	uint8_t st;
	uint8_t digits;
	uint64_t left;
};

#define TTFT_HTTP_LINE 64

struct ttft_http_tx {
	uint8_t st;
	uint8_t eol;          /* bytes of "\r\n\r\n" / "\n\n" matched */
	uint8_t chunked;
	uint8_t hlen;         /* bytes kept of the current header line */
	uint8_t llen;         /* bytes kept of the request line */
	uint8_t begun_sent;   /* REQ_BEGIN emitted for the current request */
	uint8_t expect;       /* the body waits for 100 Continue, none sent */
	uint8_t lsp;          /* a request line cut by a read's end: its */
	uint8_t lbad;         /* spaces, whether it held a control byte, */
	uint8_t lcr;          /* (its last byte was a CR, not yet judged) */
	char lb9;             /* its 9th-last byte and its last 8, for   */
	uint64_t ltail;       /* " HTTP/1.x" (request_line_ok)            */
	uint32_t seq;         /* requests begun on this connection */
	uint32_t head_mask;   /* bit seq%32: that request was HEAD */
	uint32_t connect_seq1;/* the last CONNECT request's seq + 1, 0: none */
	int64_t t_first;      /* start of the call that sent byte 0 */
	int64_t t_head;       /* end of the call that sent the last header */
	uint64_t body_left;
	uint64_t bytes;       /* bytes of the current request */
	struct ttft_chunked ch;
	char line[TTFT_HTTP_LINE]; /* a request line cut by a read's end */
	char hdr[80];         /* a header line cut by a read's end (a
	                         traceparent line is 68 bytes) */
};

struct ttft_http_rx {
	uint8_t st;
	uint8_t chunked;
	uint8_t is_sse;       /* 0 or 1, as compressed: the one-token read
	                         tests the two as one word (rx_sse_plain) */
	uint8_t compressed;   /* Content-Encoding: the events cannot be read */
	uint8_t has_len;      /* 1: a Content-Length; 2: ones that differ,
	                         one folded, or one cut (hdr); 4: the last
	                         header line was one */
	uint8_t hlen;
	uint8_t slen;
	uint8_t read_end;     /* the response about to end ends its read's bytes */
	char minor;           /* its status line's HTTP/1.x byte x, when not
	                         0 or 1 (minor_of); else 0 */
	uint16_t status;
	uint32_t seq;         /* responses completed on this connection */
	uint32_t tokens;      /* token events in the current response */
	uint64_t body_left;
	uint64_t body_bytes;
	struct ttft_chunked ch;
	char sline[16];
	char hdr[40];
	struct ttft_sse sse;
	/* set around each feed so the SSE callback can emit */
	ttft_http_emit emit;
	void *ctx;
	int64_t t_now;
};

void ttft_http_tx_init(struct ttft_http_tx *tx);
void ttft_http_rx_init(struct ttft_http_rx *rx);

/* Feed bytes the client sent in one call that started at t_begin and
 * returned at t_end. */
void ttft_http_tx_feed(struct ttft_http_tx *tx, const char *p, size_t n,
		       int64_t t_begin, int64_t t_end, ttft_http_emit emit,
		       void *ctx);
/* Feed bytes the client received in one call that returned at t_end.
 * tx is read (never written) for the HEAD flag of the request answered. */
void ttft_http_rx_feed(struct ttft_http_rx *rx, const struct ttft_http_tx *tx,
		       const char *p, size_t n, int64_t t_end,
		       ttft_http_emit emit, void *ctx);
/* ttft_http_rx_feed in two halves, for a caller that does something
 * before the rest (the shim keeps errno then): the read that is one whole
 * chunk of one token event of the stream's template, emitted (1), or
 * nothing done (0); then, for those, the rest. */
int ttft_http_rx_feed_token(struct ttft_http_rx *rx, const char *p, size_t n,
			    int64_t t_end, ttft_http_emit emit, void *ctx);
void ttft_http_rx_feed_rest(struct ttft_http_rx *rx,
			    const struct ttft_http_tx *tx, const char *p,
			    size_t n, int64_t t_end, ttft_http_emit emit,
			    void *ctx);
/* Bytes the client sent that the sniffer cannot see (sendfile, splice):
 * a request body of known length absorbs them; anywhere else the framing
 * is lost (TTFT_EV_DESYNC, TTFT_DESYNC_LOST_BYTES). */
void ttft_http_tx_unseen(struct ttft_http_tx *tx, uint64_t n, int64_t t_end,
			 ttft_http_emit emit, void *ctx);
/* Call before feeding bytes P/N, with the number of responses the rx half
 * has completed. A request that holds its body back for "Expect:
 * 100-continue" and got its final response instead (417, or any other)
 * sends no body (RFC 9110 10.1.1): when the next bytes start with a
 * method's first letter, the request ended with its headers and these
 * bytes begin the next one. */
void ttft_http_tx_sync(struct ttft_http_tx *tx, uint32_t responses_done,
		       const char *p, size_t n, ttft_http_emit emit, void *ctx);
/* 1 when a response's head is partly read: its status line begun, or its
 * headers not yet ended (a client that closes now stopped reading it). */
int ttft_http_rx_mid_head(const struct ttft_http_rx *rx);
/* The peer closed (read returned 0). tx: the connection's sending half
 * when the server is known to have closed, or NULL: each of its requests
 * still waiting, of whose response not a byte came, ends at the close,
 * flagged TTFT_F_NO_ANSWER (the server closed without answering; not the
 * client closing early). */
void ttft_http_rx_eof(struct ttft_http_rx *rx, const struct ttft_http_tx *tx,
		      int64_t t_end, ttft_http_emit emit, void *ctx);
/* Bytes went by that the sniffer could not see. */
void ttft_http_rx_lost(struct ttft_http_rx *rx, int64_t t_end,
		       ttft_http_emit emit, void *ctx);

#endif
