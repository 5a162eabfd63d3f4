/* ttft_sse.h — a streaming Server-Sent-Events classifier.
 *
 * Fed a response body in pieces of any size (down to one byte), it finds
 * the SSE events (LF, CRLF or CR line endings; several data lines per event;
 * comments) and classifies each, without storing the payload, by scanning
 * the JSON in its data lines as it streams past:
 *   token  — a non-empty generated string:
 *            OpenAI chat/completions (vLLM, llama.cpp): choices[].text,
 *              choices[].delta.content / reasoning_content / reasoning,
 *              tool_calls[].function.name / arguments, function_call.*;
 *            llama.cpp's native /completion: top-level content;
 *            OpenAI Responses API (vLLM /v1/responses too): a top-level
 *              "delta" string (response.output_text.delta and the other
 *              *.delta events);
 *            Anthropic Messages: content_block_delta's delta.text /
 *              partial_json (input_json_delta) / thinking;
 *   done   — data: [DONE];
 *   error  — a top-level "error" object or string, "object":"error", or
 *            "type":"error" / "response.failed";
 *   empty  — anything else (the chat role chunk, a usage-only chunk, …).
 * An event whose choices[] element says "index" other than 0 is flagged
 * TTFT_SSE_F_CHOICE (a request of several choices); such an event never
 * becomes the stream's template below, so every one of them is read in
 * full and flagged.
 * It also reads the few numbers a server reports about the request in its
 * stream (usage, llama.cpp's timings) into ttft_sse.nums.
 *
 * Speed: the scan jumps over string contents and line tails 16 bytes at a
 * time (SSE2 on x86-64, 8-byte words elsewhere), identifies keys only inside
 * the objects that can matter, and, unless `full` is set, stops reading an
 * event's data once it is known to be a token or an error (its remaining
 * numbers are not read: servers report their final numbers in a last,
 * token-less event). Within one stream every token event starts with the
 * same bytes up to its token (id, model, "choices":[{"index":0,"text":"):
 * the scanner keeps those bytes from the last token event it read in full
 * (tmpl) and, when the next event starts with exactly them, it is in exactly
 * the same state there, so it only looks at the byte that follows; the
 * bytes after the token up to the line end usually repeat too, and are
 * compared rather than scanned for the line end. The state
 * is fixed-size and resumable at any byte: how the body was split into reads
 * never changes the result.
 * Used by the shim (inside other programs: no allocation, no stdio) and by
 * ttft-probe, which also asks for the data bytes (on_data) and sets `full`.
 * Threads: as ttft_http.h says; a buffer's length is read once where it is
 * written, and bounded by the buffer.
 */
#ifndef TTFT_SSE_H
#define TTFT_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_log.h"

enum ttft_sse_class {
	TTFT_SSE_EMPTY = 0,
	TTFT_SSE_TOKEN = 1,
	TTFT_SSE_DONE = 2,
	TTFT_SSE_ERROR = 3,
};

#define TTFT_SSE_F_USAGE 0x0100u /* the event carries a usage object */
#define TTFT_SSE_F_NUMS 0x0200u  /* numbers were read: see ttft_sse.nums */
#define TTFT_SSE_F_BAD 0x0400u   /* the data is not well-formed JSON (only
                                    judged when the whole event was read) */
#define TTFT_SSE_F_CHOICE 0x0800u /* an element of its top-level choices[]
                                     has an "index" other than 0 (n > 1,
                                     or several prompts: vLLM runs each
                                     choice as an engine request of its
                                     own); vLLM puts the index before
                                     the text, and each such event is
                                     flagged; llama.cpp's completions put
                                     it after: only an event read whole
                                     (a choice's last) is
                                     (docs/server-truth.md) */

/* Numbers a server reports in its stream: enum ttft_num (ttft_log.h, as
 * they are logged). */
struct ttft_sse_nums {
	uint32_t have;                  /* bit i: v[i] was read in this event */
	uint32_t v[TTFT_NUM__COUNT];
};

/* Called once per completed event. flags: TTFT_SSE_F_*. */
typedef void (*ttft_sse_event_cb)(void *ctx, enum ttft_sse_class cls,
				  unsigned flags);
/* Optional: the event's data bytes as they stream (lines joined by '\n'). */
typedef void (*ttft_sse_data_cb)(void *ctx, const char *p, size_t n);

#define TTFT_SSE_STACK 12
#define TTFT_SSE_KEYBUF 28 /* "cache_creation_input_tokens" fits */
/* A template's prefix (the token event's line up to its token), and its
 * suffix (from the token's closing quote to the line end), each at most
 * TTFT_SSE_SPAN bytes (their lengths are bytes; the compares take spans
 * of up to 256), both together at most TTFT_SSE_TMPL: an OpenAI chat
 * chunk with its id, a model's name and "usage":null (stream_options'
 * include_usage) is 189 + 55. 288 makes the shim's connection state 1,024
 * bytes (shim_conns[slot] a shift: 320 cost a traced read 6 instructions
 * more). */
#define TTFT_SSE_SPAN 240
#define TTFT_SSE_TMPL 288

struct ttft_sse {
	ttft_sse_event_cb on_event;
	ttft_sse_data_cb on_data;
	void *ctx;
	uint8_t full;       /* read every event to its end (set after init) */
	/* line level */
	uint8_t line;       /* enum in ttft_sse.c */
	uint8_t after_cr;   /* last byte was CR: a following LF is the same EOL */
	/* event level (next to line and after_cr: the one-token test reads
	 * the three as one word) */
	uint8_t ev_data;    /* a data line was seen in this event (bit 0);
	                       its `event:` line said "error" (bit 1) */
	uint8_t data_cb;    /* on_data is set (the one-token test's fourth
	                       byte: such a reader is handed every event's
	                       data) */
	/* line level */
	uint8_t field_len;
	char field[6];      /* "data" fits; longer names are "other" */
	uint8_t evname;     /* how much of an `event:` value is "error" */
	/* event level */
	uint8_t line1;      /* the data line being read is the event's first */
	uint8_t ev_token;
	uint8_t ev_error;
	uint8_t ev_usage;
	uint8_t ev_bad;
	uint8_t ev_choice;  /* a choice index other than 0 (TTFT_SSE_F_CHOICE) */
	uint8_t done_len;   /* bytes of data compared against "[DONE]" */
	uint8_t done_ok;    /* data so far equals a prefix of "[DONE]" */
	/* JSON level */
	uint8_t js;         /* enum in ttft_sse.c */
	uint8_t depth;
	uint8_t key;        /* id of the key whose value comes next */
	uint8_t keylen;
	uint8_t vtok;       /* the string being read is a token if non-empty */
	uint8_t vcap;       /* … is captured into vbuf (type / object values) */
	uint8_t vlen;
	uint8_t nslot;      /* the number being read goes to nums.v[nslot-1] */
	uint8_t nfrac;      /* digits after its decimal point; 255 = invalid */
	uint8_t tck;        /* the template's (tmpl, below) bytes up to and
	                       with its last top-level ',' before the token
	                       (0: none): an event that starts with them is
	                       there in the scanner's state from the event's
	                       start, a key of the top-level object to come
	                       (in what was padding: the struct is no wider) */
	uint8_t ev_type;    /* its top-level "type" was read and is not
	                       "message_delta" (bit 0; in padding too) */
	uint64_t nval;
	char keybuf[TTFT_SSE_KEYBUF];
	char vbuf[16];
	uint8_t stack[TTFT_SSE_STACK]; /* per depth: container key | flags */
	struct ttft_sse_nums nums;
	/* The data line of the last token event up to its token's first byte
	 * (read in full from an event with no other finding before it), then
	 * the bytes from its token's closing quote to its line end. Ids, keys
	 * and framing, never a token; in memory only, never logged. */
	uint8_t tlen;       /* prefix bytes; 0: none */
	uint8_t tdata;      /* where the prefix's JSON begins ("data: " before) */
	uint8_t slen;       /* suffix bytes, at tmpl + tlen; 0: none */
	uint8_t bom;        /* bytes of a byte-order mark read at the stream's
	                       start; 3 once past its start (ttft_sse.c) */
	char tmpl[TTFT_SSE_TMPL];
	/* Anthropic's prompt parts (input, cache creation, cache read) as
	 * the stream said them so far (message_start's, each one a
	 * message_delta said anew replacing it, as Anthropic's SDKs take
	 * them): part_have bit i when part[i] is known; ev_part: the event
	 * being read's (valid where its HAVE_PART_* bit is set, ttft_sse.c).
	 * Read and written only at an event that has such parts: never on a
	 * token's path. */
	uint8_t part_have;
	uint8_t tmpl_type;  /* the template's prefix up to tck holds a
	                       top-level "type" not "message_delta" (ev_type's
	                       bit 0 for an event read from there) */
	uint32_t part[3];
	uint32_t ev_part[3];
	/* The last response's template, kept by ttft_sse_reset as a hint
	 * for the next response's on the connection (ttft_sse.c's
	 * hint_event): its prefix's length (0: none), its tck and
	 * tmpl_type, and its holes: the values of its top-level
	 * "id" (a string) and "created" (digits) before tck, which differ
	 * from one response to the next ([start, end) in tmpl, a number's
	 * bit k in hole_num; nholes 255: not looked for yet). */
	uint8_t hlen, hck, htype;
	uint8_t nholes, hole_num;
	uint8_t hole[2][2];
};

void ttft_sse_init(struct ttft_sse *s, ttft_sse_event_cb on_event,
		   ttft_sse_data_cb on_data, void *ctx);
/* Forget any partial event (a new response starts). Keeps callbacks. */
void ttft_sse_reset(struct ttft_sse *s);
void ttft_sse_feed(struct ttft_sse *s, const char *p, size_t n);
/* The same, but when the bytes are exactly one token event (the usual read
 * of a stream: one that fits the stream's template) it returns 1 and that
 * event is the caller's to report: on_event is not called for it.
 * Otherwise 0, every event reported. */
int ttft_sse_feed_token(struct ttft_sse *s, const char *p, size_t n);
/* 1 when the bytes are exactly one token event of the stream's template
 * whose token holds no quote, backslash or control byte and at most 16
 * bytes, its data line ended by "\n\n": the case ttft_sse_feed_token
 * returns 1 for without changing the state, found with two compares and
 * one block (the usual read of a stream, every token). Nothing changes;
 * 0 says nothing (use ttft_sse_feed_token). */
int ttft_sse_whole_token(const struct ttft_sse *s, const char *p, size_t n);
/* ttft_sse_whole_token's state half, for a caller that tries several
 * chunks in a row: whether the state allows it (which only ttft_sse_feed
 * and ttft_sse_feed_token change); the bytes half is ttft_sse_token.h's. */
int ttft_sse_template_ready(const struct ttft_sse *s);
const char *ttft_sse_class_name(enum ttft_sse_class c);

#endif
