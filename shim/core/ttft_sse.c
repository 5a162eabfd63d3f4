/* ttft_sse.c — streaming SSE event finder + JSON token classifier.
 * Byte-at-a-time state machines with fixed-size state: safe inside the shim
 * (no allocation, no stdio, no locks), and indifferent to how the body was
 * split into reads.
 */
#include "ttft_sse.h"

#include <string.h>

enum { L_START, L_FIELD, L_VALUE_SPACE, L_DATA, L_SKIP };
enum { J_VALUE, J_STR, J_ESC, J_LIT, J_AFTER };

/* Key ids. Only keys that matter for classification get one. */
enum {
	K_OTHER = 0, K_TEXT, K_CONTENT, K_REASONING, K_ARGUMENTS, K_NAME,
	K_DELTA, K_CHOICES, K_FUNCTION, K_TOOL_CALLS, K_FUNCTION_CALL,
	K_ERROR, K_OBJECT, K_USAGE,
};
#define ARRAY_BIT 0x80u

#define KEY(s, id) {s, sizeof s - 1, id}
static const struct {
	const char *name;
	uint8_t len;
	uint8_t id;
} keys[] = {
	KEY("text", K_TEXT),
	KEY("content", K_CONTENT),
	KEY("reasoning_content", K_REASONING),
	KEY("reasoning", K_REASONING),
	KEY("arguments", K_ARGUMENTS),
	KEY("name", K_NAME),
	KEY("delta", K_DELTA),
	KEY("choices", K_CHOICES),
	KEY("function", K_FUNCTION),
	KEY("tool_calls", K_TOOL_CALLS),
	KEY("function_call", K_FUNCTION_CALL),
	KEY("error", K_ERROR),
	KEY("object", K_OBJECT),
	KEY("usage", K_USAGE),
};

void ttft_sse_init(struct ttft_sse *s, ttft_sse_event_cb on_event,
		   ttft_sse_data_cb on_data, void *ctx)
{
	memset(s, 0, sizeof *s);
	s->on_event = on_event;
	s->on_data = on_data;
	s->ctx = ctx;
	ttft_sse_reset(s);
}

static void reset_event(struct ttft_sse *s)
{
	s->ev_data = s->ev_token = s->ev_error = s->ev_usage = 0;
	s->done_len = 0;
	s->done_ok = 1;
	s->js = J_VALUE;
	s->depth = 0;
	s->key = K_OTHER;
	s->want_key = 0;
}

void ttft_sse_reset(struct ttft_sse *s)
{
	s->line = L_START;
	s->after_cr = 0;
	s->field_len = 0;
	reset_event(s);
}

static uint8_t key_id(const struct ttft_sse *s)
{
	if (s->keylen > TTFT_SSE_KEYBUF)
		return K_OTHER;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (keys[i].len == s->keylen &&
		    memcmp(keys[i].name, s->keybuf, s->keylen) == 0)
			return keys[i].id;
	return K_OTHER;
}

/* Container key of the object at depth d (1 = top level), or K_OTHER. */
static uint8_t level_key(const struct ttft_sse *s, unsigned d)
{
	if (d == 0 || d > TTFT_SSE_STACK)
		return K_OTHER;
	return s->stack[d - 1] & (uint8_t)~ARRAY_BIT;
}

/* Would a non-empty string under key k, here, be generated text? */
static int is_token_key(const struct ttft_sse *s, uint8_t k)
{
	uint8_t cur = level_key(s, s->depth);
	switch (k) {
	case K_TEXT:
		return cur == K_CHOICES;
	case K_CONTENT:
		return cur == K_DELTA || s->depth == 1;
	case K_REASONING:
		return cur == K_DELTA;
	case K_ARGUMENTS:
	case K_NAME:
		return (cur == K_FUNCTION &&
			level_key(s, s->depth - 1) == K_TOOL_CALLS) ||
		       cur == K_FUNCTION_CALL;
	default:
		return 0;
	}
}

static int in_array(const struct ttft_sse *s)
{
	return s->depth > 0 && s->depth <= TTFT_SSE_STACK &&
	       (s->stack[s->depth - 1] & ARRAY_BIT);
}

/* A value starts with byte c under the current key (objects only). */
static void value_start(struct ttft_sse *s, char c)
{
	uint8_t k = in_array(s) ? K_OTHER : s->key;
	if (s->depth == 1 && k == K_ERROR && (c == '{' || c == '"' || c == '['))
		s->ev_error = 1;
	if (s->depth == 1 && k == K_USAGE && c == '{')
		s->ev_usage = 1;
}

static void js_push(struct ttft_sse *s, int array)
{
	/* An array's elements inherit the array's key: the object inside
	 * "choices":[{…}] is a choices object. */
	uint8_t k = in_array(s) ? level_key(s, s->depth) : s->key;
	if (s->depth < TTFT_SSE_STACK)
		s->stack[s->depth] = (uint8_t)(k | (array ? ARRAY_BIT : 0));
	if (s->depth < 255)
		s->depth++;
	s->key = K_OTHER;
	s->want_key = !array;
}

static void string_end(struct ttft_sse *s)
{
	if (s->want_key) {
		s->key = key_id(s);
		s->want_key = 0;
	} else if (s->depth == 1 && s->vkey == K_OBJECT && s->vlen == 5 &&
		   memcmp(s->vbuf, "error", 5) == 0) {
		s->ev_error = 1;
	}
	s->js = J_AFTER;
}

static void string_byte(struct ttft_sse *s, char c)
{
	if (s->want_key) {
		if (s->keylen < TTFT_SSE_KEYBUF)
			s->keybuf[s->keylen] = c;
		if (s->keylen < 255)
			s->keylen++;
		return;
	}
	if (s->vlen == 0 && s->vtok)
		s->ev_token = 1;
	if (s->vlen < sizeof s->vbuf)
		s->vbuf[s->vlen] = c;
	if (s->vlen < 255)
		s->vlen++;
}

/* A run of plain string bytes (no quote, no backslash) at once. */
static void string_run(struct ttft_sse *s, const char *p, size_t n)
{
	if (s->want_key) {
		size_t room = s->keylen < TTFT_SSE_KEYBUF ? TTFT_SSE_KEYBUF - s->keylen : 0;
		memcpy(s->keybuf + s->keylen, p, n < room ? n : room);
		s->keylen = (uint8_t)(s->keylen + n > 255 ? 255 : s->keylen + n);
		return;
	}
	if (s->vlen == 0 && s->vtok)
		s->ev_token = 1;
	size_t room = s->vlen < sizeof s->vbuf ? sizeof s->vbuf - s->vlen : 0;
	memcpy(s->vbuf + s->vlen, p, n < room ? n : room);
	s->vlen = (uint8_t)(s->vlen + n > 255 ? 255 : s->vlen + n);
}

static void json_byte(struct ttft_sse *s, char c)
{
	switch (s->js) {
	case J_STR:
		if (c == '"')
			string_end(s);
		else {
			if (c == '\\')
				s->js = J_ESC;
			string_byte(s, c);
		}
		return;
	case J_ESC:
		s->js = J_STR;
		string_byte(s, c);
		return;
	default:
		break;
	}
	switch (c) {
	case ' ': case '\t': case '\n': case '\r':
		if (s->js == J_LIT)
			s->js = J_AFTER;
		return;
	case '{':
	case '[':
		if (s->depth > 0)
			value_start(s, c);
		js_push(s, c == '[');
		s->js = J_VALUE;
		return;
	case '}':
	case ']':
		if (s->depth > 0)
			s->depth--;
		s->want_key = 0;
		s->js = J_AFTER;
		return;
	case ':':
		s->want_key = 0;
		s->js = J_VALUE;
		return;
	case ',':
		s->want_key = s->depth > 0 && !in_array(s);
		s->js = J_VALUE;
		return;
	case '"':
		if (s->want_key) {
			s->keylen = 0;
		} else {
			value_start(s, c);
			s->vkey = in_array(s) ? K_OTHER : s->key;
			s->vtok = (uint8_t)is_token_key(s, s->vkey);
			s->vlen = 0;
		}
		s->js = J_STR;
		return;
	default:
		if (s->js == J_VALUE && s->depth > 0)
			value_start(s, c);
		s->js = J_LIT;
		return;
	}
}

static void data_bytes(struct ttft_sse *s, const char *p, size_t n)
{
	static const char done[] = "[DONE]";
	if (s->on_data)
		s->on_data(s->ctx, p, n);
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (s->done_ok) {
			if (s->done_len < 6 && c == done[s->done_len])
				s->done_len++;
			else
				s->done_ok = 0;
		}
		/* String contents, the bulk of every event, as whole runs.
		 * (Inside a string done_ok is already 0: "[DONE]" has none.) */
		if (s->js == J_STR && c != '"' && c != '\\') {
			size_t j = i + 1;
			while (j < n && p[j] != '"' && p[j] != '\\')
				j++;
			string_run(s, p + i, j - i);
			i = j - 1;
			continue;
		}
		json_byte(s, c);
	}
}

static void dispatch(struct ttft_sse *s)
{
	if (s->ev_data) {
		enum ttft_sse_class cls = TTFT_SSE_EMPTY;
		if (s->done_ok && s->done_len == 6)
			cls = TTFT_SSE_DONE;
		else if (s->ev_error)
			cls = TTFT_SSE_ERROR;
		else if (s->ev_token)
			cls = TTFT_SSE_TOKEN;
		unsigned flags = s->ev_usage ? TTFT_SSE_F_USAGE : 0;
		if (s->on_event)
			s->on_event(s->ctx, cls, flags);
	}
	reset_event(s);
}

static void data_line_start(struct ttft_sse *s)
{
	if (s->ev_data)
		data_bytes(s, "\n", 1); /* data lines of one event join with LF */
	s->ev_data = 1;
}

static void end_of_line(struct ttft_sse *s)
{
	switch (s->line) {
	case L_START:
		dispatch(s);
		break;
	case L_FIELD: /* "data" with no colon: a data line with empty value */
		if (s->field_len == 4 && memcmp(s->field, "data", 4) == 0)
			data_line_start(s);
		break;
	default:
		break;
	}
	s->line = L_START;
}

void ttft_sse_feed(struct ttft_sse *s, const char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		char c = p[i];
		if (c == '\n' && s->after_cr) {
			s->after_cr = 0;
			i++;
			continue;
		}
		s->after_cr = 0;
		if (c == '\r' || c == '\n') {
			s->after_cr = c == '\r';
			end_of_line(s);
			i++;
			continue;
		}
		switch (s->line) {
		case L_START:
			if (c == ':') {
				s->line = L_SKIP; /* a comment line */
			} else {
				s->field_len = 0;
				s->line = L_FIELD;
				continue; /* reprocess c as a field byte */
			}
			break;
		case L_FIELD:
			if (c == ':') {
				int is_data = s->field_len == 4 &&
					      memcmp(s->field, "data", 4) == 0;
				if (is_data)
					data_line_start(s);
				s->line = is_data ? L_VALUE_SPACE : L_SKIP;
			} else {
				if (s->field_len < sizeof s->field)
					s->field[s->field_len] = c;
				if (s->field_len < 255)
					s->field_len++;
			}
			break;
		case L_VALUE_SPACE:
			s->line = L_DATA;
			if (c == ' ')
				break; /* one optional space after the colon */
			continue;
		case L_DATA: {
			/* The line ends at the first LF or CR (memchr is
			 * vectorised; CR-only endings are rare). */
			const char *lf = memchr(p + i, '\n', n - i);
			size_t j = lf ? (size_t)(lf - p) : n;
			const char *cr = memchr(p + i, '\r', j - i);
			if (cr)
				j = (size_t)(cr - p);
			data_bytes(s, p + i, j - i);
			i = j;
			continue;
		}
		default: /* L_SKIP */
			break;
		}
		i++;
	}
}

const char *ttft_sse_class_name(enum ttft_sse_class c)
{
	switch (c) {
	case TTFT_SSE_TOKEN: return "token";
	case TTFT_SSE_DONE: return "done";
	case TTFT_SSE_ERROR: return "error";
	default: return "empty";
	}
}
