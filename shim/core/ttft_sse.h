/* ttft_sse.h — a streaming Server-Sent-Events classifier.
 *
 * Fed a response body in pieces of any size (down to one byte), it finds
 * the SSE events (LF, CRLF or CR line endings; several data lines per event;
 * comments) and classifies each, without storing the payload, by scanning
 * the JSON in its data lines as it streams past:
 *   token  — a non-empty generated string: choices[].text,
 *            choices[].delta.content / reasoning_content / reasoning,
 *            tool_calls[].function.name / arguments, top-level content
 *            (llama.cpp's native /completion);
 *   done   — data: [DONE];
 *   error  — a top-level "error" object or "object":"error";
 *   empty  — anything else (the chat role chunk, a usage-only chunk, …).
 * Used by the shim (inside other programs: no allocation, no stdio) and by
 * ttft-probe, which also asks for the data bytes to parse them with cJSON.
 */
#ifndef TTFT_SSE_H
#define TTFT_SSE_H

#include <stddef.h>
#include <stdint.h>

enum ttft_sse_class {
	TTFT_SSE_EMPTY = 0,
	TTFT_SSE_TOKEN = 1,
	TTFT_SSE_DONE = 2,
	TTFT_SSE_ERROR = 3,
};

#define TTFT_SSE_F_USAGE 0x0100u /* the event carries a usage object */

/* Called once per completed event. flags: TTFT_SSE_F_*. */
typedef void (*ttft_sse_event_cb)(void *ctx, enum ttft_sse_class cls,
				  unsigned flags);
/* Optional: the event's data bytes as they stream (lines joined by '\n'). */
typedef void (*ttft_sse_data_cb)(void *ctx, const char *p, size_t n);

#define TTFT_SSE_STACK 12
#define TTFT_SSE_KEYBUF 20

struct ttft_sse {
	ttft_sse_event_cb on_event;
	ttft_sse_data_cb on_data;
	void *ctx;
	/* line level */
	uint8_t line;       /* enum in ttft_sse.c */
	uint8_t after_cr;   /* last byte was CR: a following LF is the same EOL */
	uint8_t field_len;
	char field[6];      /* "data" fits; longer names are "other" */
	/* event level */
	uint8_t ev_data;    /* a data line was seen in this event */
	uint8_t ev_token;
	uint8_t ev_error;
	uint8_t ev_usage;
	uint8_t done_len;   /* bytes of data compared against "[DONE]" */
	uint8_t done_ok;    /* data so far equals a prefix of "[DONE]" */
	/* JSON level */
	uint8_t js;         /* enum in ttft_sse.c */
	uint8_t depth;
	uint8_t key;        /* id of the last key read at this depth */
	uint8_t keylen;
	uint8_t want_key;   /* the next string in this object is a key */
	uint8_t vkey;       /* key id that owns the string value being read */
	uint8_t vtok;       /* that string is a token if it is non-empty */
	uint8_t vlen;
	char keybuf[TTFT_SSE_KEYBUF];
	char vbuf[8];       /* start of a string value, for "object":"error" */
	uint8_t stack[TTFT_SSE_STACK]; /* per depth: container key id | array bit */
};

void ttft_sse_init(struct ttft_sse *s, ttft_sse_event_cb on_event,
		   ttft_sse_data_cb on_data, void *ctx);
/* Forget any partial event (a new response starts). Keeps callbacks. */
void ttft_sse_reset(struct ttft_sse *s);
void ttft_sse_feed(struct ttft_sse *s, const char *p, size_t n);
const char *ttft_sse_class_name(enum ttft_sse_class c);

#endif
