/* ttft_sse.c — streaming SSE event finder + JSON token classifier.
 *
 * One resumable scanner: each state of the JSON grammar is a label, and the
 * scanner moves between labels with plain jumps while bytes last; only when
 * a read ends does it store its state (s->js) and return, and the next read
 * resumes at that label. So the same code runs whatever the split, and the
 * byte-at-a-time tests cover the fast paths too. Runs of bytes that cannot
 * change the state (string contents, the tail of a decided event) are
 * skipped a block at a time. Fixed-size state, no allocation, no stdio, no
 * locks: safe inside the shim.
 */
#include "ttft_sse.h"

#include <stddef.h>
#include <string.h>

enum { L_START, L_FIELD, L_VALUE_SPACE, L_DATA, L_SKIP, L_EVNAME };

/* ev_data's bits: a data line was seen; the event's last `event:` line
 * named it "error" (the standard's own way for a server to say so: the
 * event is an error whatever its data holds). Either keeps the event off
 * the template paths, which take only a plain data event. */
#define EV_DATA 1u
#define EV_NAMED_ERROR 2u
enum { J_VALUE, J_FIRST, J_KEYSTART, J_KEYNEXT, J_KEY, J_KEYESC, J_COLON,
       J_STR, J_STRESC, J_LIT, J_AFTER, J_END, J_SKIP };

/* Key ids. Only keys that matter get one. */
enum {
	K_OTHER = 0, K_TEXT, K_CONTENT, K_REASONING, K_ARGUMENTS, K_NAME,
	K_DELTA, K_CHOICES, K_FUNCTION, K_TOOL_CALLS, K_FUNCTION_CALL,
	K_ERROR, K_OBJECT, K_USAGE, K_TYPE, K_PARTIAL_JSON, K_THINKING,
	K_TIMINGS, K_RESPONSE, K_PROMPT_TOKENS, K_COMPLETION_TOKENS,
	K_INPUT_TOKENS, K_OUTPUT_TOKENS, K_CACHED_TOKENS, K_PROMPT_DETAILS,
	K_INPUT_DETAILS, K_PROMPT_N, K_PROMPT_MS, K_CACHE_N, K_PREDICTED_N,
	K_PREDICTED_MS, K_INDEX, K_MESSAGE, K_CACHE_CREATION, K_CACHE_READ,
};
/* stack entry: container key id | these flags */
#define S_ARRAY 0x80u /* the container is an array */
#define S_KEYS 0x40u  /* its keys (or its elements' keys) can matter */
#define S_KEY 0x3fu

#include "ttft_scan.h"
#include "ttft_sse_token.h"
#include "ttft_tmpl_eq.h"

/* The one-token read's template compare (ttft_tmpl_eq.h), picked by the
 * first init. Relaxed atomics: every thread picks the same function (a
 * race only picks it twice) and each is exact, so a reader that still
 * sees the first (plain) one is right too (the partner of these stores is
 * sse_template_token's load); g_tmpl_picked's partner is only itself. */
ttft_tmpl_eq_fn ttft_sse_tmpl_eq_ = tmpl_eq_plain;
unsigned char ttft_sse_tmpl_avx2_;
static int g_tmpl_picked;

SCANNER(scan_str, mask_str, c == '"' || c == '\\' || c < 0x20)
SCANNER(scan_eol, mask_eol, c == '\n' || c == '\r')
SCANNER(scan_lit, mask_lit, c == ',' || c == '}' || c == ']' || c <= ' ')

/* ---- keys ---- */

/* k[0..n) is lit (n >= 4 bytes of it): words, the last ending at n (bytes
 * in two are compared twice); two 4-byte halves below 8. n is a constant
 * of key_id's switch, so each compare is a few loads and one test (the
 * memcmp calls they replace cost ~30 a key). */
static inline __attribute__((always_inline)) int
key_is(const char *k, const char *lit, size_t n)
{
	uint64_t d = 0, a, b;
	if (n >= 8) {
		memcpy(&a, k + n - 8, 8), memcpy(&b, lit + n - 8, 8);
		d = a ^ b;
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&a, k + i, 8), memcpy(&b, lit + i, 8);
			d |= a ^ b;
		}
		return d == 0;
	}
	uint32_t x, y, u, v;
	memcpy(&x, k, 4), memcpy(&y, lit, 4);
	memcpy(&u, k + n - 4, 4), memcpy(&v, lit + n - 4, 4);
	return ((x ^ y) | (u ^ v)) == 0;
}

#define IS(lit) key_is(k, lit, sizeof lit - 1)
static uint8_t key_id(const char *k, size_t n)
{
	switch (n) {
	case 4:
		return IS("text") ? K_TEXT : IS("type") ? K_TYPE
		       : IS("name") ? K_NAME : K_OTHER;
	case 5:
		return IS("delta") ? K_DELTA : IS("error") ? K_ERROR
		       : IS("usage") ? K_USAGE : IS("index") ? K_INDEX : K_OTHER;
	case 6:
		return IS("object") ? K_OBJECT : K_OTHER;
	case 7:
		return IS("choices") ? K_CHOICES : IS("content") ? K_CONTENT
		       : IS("timings") ? K_TIMINGS : IS("cache_n") ? K_CACHE_N
		       : IS("message") ? K_MESSAGE : K_OTHER;
	case 8:
		return IS("function") ? K_FUNCTION : IS("thinking") ? K_THINKING
		       : IS("response") ? K_RESPONSE : IS("prompt_n") ? K_PROMPT_N
		       : K_OTHER;
	case 9:
		return IS("reasoning") ? K_REASONING : IS("arguments") ? K_ARGUMENTS
		       : IS("prompt_ms") ? K_PROMPT_MS : K_OTHER;
	case 10:
		return IS("tool_calls") ? K_TOOL_CALLS : K_OTHER;
	case 11:
		return IS("predicted_n") ? K_PREDICTED_N : K_OTHER;
	case 12:
		return IS("partial_json") ? K_PARTIAL_JSON
		       : IS("input_tokens") ? K_INPUT_TOKENS
		       : IS("predicted_ms") ? K_PREDICTED_MS : K_OTHER;
	case 13:
		return IS("function_call") ? K_FUNCTION_CALL
		       : IS("prompt_tokens") ? K_PROMPT_TOKENS
		       : IS("output_tokens") ? K_OUTPUT_TOKENS
		       : IS("cached_tokens") ? K_CACHED_TOKENS : K_OTHER;
	case 17:
		return IS("reasoning_content") ? K_REASONING
		       : IS("completion_tokens") ? K_COMPLETION_TOKENS : K_OTHER;
	case 20:
		return IS("input_tokens_details") ? K_INPUT_DETAILS : K_OTHER;
	case 21:
		return IS("prompt_tokens_details") ? K_PROMPT_DETAILS : K_OTHER;
	case 23:
		return IS("cache_read_input_tokens") ? K_CACHE_READ : K_OTHER;
	case 27:
		return IS("cache_creation_input_tokens") ? K_CACHE_CREATION
		       : K_OTHER;
	default:
		return K_OTHER;
	}
}
#undef IS

/* Container key of the container at depth d (1 = the top level). */
static uint8_t level_key(const struct ttft_sse *s, unsigned d)
{
	if (d == 0 || d > TTFT_SSE_STACK)
		return K_OTHER;
	return s->stack[d - 1] & S_KEY;
}

static uint8_t level_flags(const struct ttft_sse *s, unsigned d)
{
	if (d == 0 || d > TTFT_SSE_STACK)
		return 0;
	return s->stack[d - 1];
}

/* Does a container under key k hold keys that can matter? */
static int keys_matter(uint8_t k, unsigned depth)
{
	switch (k) {
	case K_CHOICES: case K_DELTA: case K_TOOL_CALLS: case K_FUNCTION:
	case K_FUNCTION_CALL: case K_USAGE: case K_PROMPT_DETAILS:
	case K_INPUT_DETAILS: case K_TIMINGS: case K_RESPONSE:
		return 1;
	case K_MESSAGE: /* Anthropic's message_start: message.usage */
		return depth == 1;
	default:
		return depth == 0; /* the top-level object */
	}
}

/* Would a non-empty string under the current key be generated text? */
static int is_token_key(const struct ttft_sse *s)
{
	uint8_t cur = level_key(s, s->depth);
	switch (s->key) {
	case K_TEXT:
		return cur == K_CHOICES || cur == K_DELTA;
	case K_CONTENT:
		return cur == K_DELTA || s->depth == 1;
	case K_REASONING:
		return cur == K_DELTA;
	case K_PARTIAL_JSON:
	case K_THINKING:
		return cur == K_DELTA && s->depth == 2;
	case K_DELTA:
		return s->depth == 1;
	case K_ARGUMENTS:
	case K_NAME:
		return (cur == K_FUNCTION &&
			level_key(s, s->depth - 1) == K_TOOL_CALLS) ||
		       cur == K_FUNCTION_CALL;
	default:
		return 0;
	}
}

/* A literal read as nums slot SLOT_INDEX - 1 is a choice's index: not a
 * number kept, only whether it is 0 (lit_end). SLOT_INPUT, SLOT_CREATION
 * and SLOT_CACHE_READ: a part of Anthropic's prompt (message_start's
 * message.usage), whose input_tokens are only what no cache held: the
 * prompt is input_tokens + cache_creation_input_tokens +
 * cache_read_input_tokens, the last also the cached tokens. SLOT_TOP_*:
 * the same parts in message_delta's top-level usage, cumulative: each one
 * there replaces message_start's (Anthropic's SDKs take them so). Each
 * group in the parts' order (ttft_sse.part). */
#define SLOT_INDEX (TTFT_NUM__COUNT + 1)
#define SLOT_INPUT (TTFT_NUM__COUNT + 2)
#define SLOT_CREATION (TTFT_NUM__COUNT + 3)
#define SLOT_CACHE_READ (TTFT_NUM__COUNT + 4)
#define SLOT_TOP_INPUT (TTFT_NUM__COUNT + 5)
#define SLOT_TOP_CREATION (TTFT_NUM__COUNT + 6)
#define SLOT_TOP_READ (TTFT_NUM__COUNT + 7)

/* nums slot + 1 for a number under the current key, or 0. */
static uint8_t num_slot(const struct ttft_sse *s)
{
	uint8_t cur = level_key(s, s->depth);
	uint8_t up = level_key(s, s->depth - 1);
	/* choices[k].index: depth 3 (the event, choices[], its element);
	 * tool_calls[].index and Anthropic's top-level index are others */
	if (s->key == K_INDEX)
		return cur == K_CHOICES && s->depth == 3 ? SLOT_INDEX : 0;
	int top_usage = cur == K_USAGE && s->depth == 2;
	int resp_usage = cur == K_USAGE && up == K_RESPONSE && s->depth == 3;
	int msg_usage = cur == K_USAGE && up == K_MESSAGE && s->depth == 3;
	switch (s->key) {
	case K_PROMPT_TOKENS:
		return top_usage ? TTFT_NUM_PROMPT_TOKENS + 1 : 0;
	case K_INPUT_TOKENS:
		if (resp_usage)
			return TTFT_NUM_PROMPT_TOKENS + 1;
		/* Anthropic's */
		return msg_usage ? SLOT_INPUT : top_usage ? SLOT_TOP_INPUT : 0;
	case K_CACHE_CREATION:
		return msg_usage ? SLOT_CREATION : top_usage ? SLOT_TOP_CREATION : 0;
	case K_CACHE_READ:
		return msg_usage ? SLOT_CACHE_READ : top_usage ? SLOT_TOP_READ : 0;
	case K_COMPLETION_TOKENS:
		return top_usage ? TTFT_NUM_COMPLETION_TOKENS + 1 : 0;
	case K_OUTPUT_TOKENS:
		return top_usage || resp_usage ? TTFT_NUM_COMPLETION_TOKENS + 1 : 0;
	case K_CACHED_TOKENS:
		return ((cur == K_PROMPT_DETAILS && s->depth == 3) ||
			(cur == K_INPUT_DETAILS && s->depth == 4)) && up == K_USAGE
		       ? TTFT_NUM_CACHED_TOKENS + 1 : 0;
	default:
		break;
	}
	if (cur != K_TIMINGS || s->depth != 2)
		return 0;
	switch (s->key) {
	case K_PROMPT_N: return TTFT_NUM_PROMPT_N + 1;
	case K_PROMPT_MS: return TTFT_NUM_PROMPT_US + 1;
	case K_CACHE_N: return TTFT_NUM_CACHE_N + 1;
	case K_PREDICTED_N: return TTFT_NUM_PREDICTED_N + 1;
	case K_PREDICTED_MS: return TTFT_NUM_PREDICTED_US + 1;
	default: return 0;
	}
}

/* ---- events ---- */

void ttft_sse_init(struct ttft_sse *s, ttft_sse_event_cb on_event,
		   ttft_sse_data_cb on_data, void *ctx)
{
	if (!__atomic_load_n(&g_tmpl_picked, __ATOMIC_RELAXED)) {
		ttft_tmpl_eq_fn eq = tmpl_eq_pick();
		__atomic_store_n(&ttft_sse_tmpl_eq_, eq, __ATOMIC_RELAXED);
#ifdef TTFT_TMPL_AVX2
		__atomic_store_n(&ttft_sse_tmpl_avx2_, eq == tmpl_eq_avx2,
				 __ATOMIC_RELAXED);
#endif
		__atomic_store_n(&g_tmpl_picked, 1, __ATOMIC_RELAXED);
	}
	memset(s, 0, sizeof *s);
	s->on_event = on_event;
	s->on_data = on_data;
	s->data_cb = on_data != NULL;
	s->ctx = ctx;
	ttft_sse_reset(s);
}

static void reset_event(struct ttft_sse *s)
{
	s->ev_data = s->ev_token = s->ev_error = s->ev_usage = s->ev_bad = 0;
	s->ev_choice = s->ev_type = 0;
	s->done_len = 0;
	s->done_ok = 1;
	s->js = J_VALUE;
	s->depth = 0;
	s->key = K_OTHER;
	s->nslot = 0;
	s->nums.have = 0;
}

void ttft_sse_reset(struct ttft_sse *s)
{
	/* this response's template, if it had one, is the next one's hint
	 * (its bytes stay in tmpl until a template is kept again) */
	uint8_t tl = __atomic_load_n(&s->tlen, __ATOMIC_RELAXED);
	if (tl) {
		s->hlen = tl;
		s->hck = s->tck;
		s->htype = s->tmpl_type;
	}
	s->tlen = s->slen = s->tck = 0;
	s->bom = 0;
	s->part_have = 0; /* a new response: its own prompt's parts */
	s->tmpl_type = 0;
	s->line = L_START;
	s->after_cr = 0;
	s->field_len = 0;
	reset_event(s);
}

/* Part i (0 input, 1 cache creation, 2 cache read) of Anthropic's
 * prompt: added to the prompt's count, and kept (ev_part[i]); the cache
 * read's is also the cached tokens. A part that is no whole count, or a
 * sum past 32 bits, leaves the event's prompt out (HAVE_NO_PROMPT, which
 * dispatch drops: its count would be short); so does a prompt count of
 * another form in the same event. part: the HAVE_PART_* bit it is (which
 * dispatch drops too). */
#define NFRAC_NULL 254 /* the literal is null (num_bytes) */
#define HAVE_NO_PROMPT (1u << 31)
#define HAVE_PART_MSG(i) (1u << (21 + (i))) /* message_start's i-th */
#define HAVE_PARTS_MSG (7u << 21)
#define HAVE_PART_TOP(i) (1u << (25 + (i))) /* message_delta's i-th */
#define HAVE_PARTS_TOP (7u << 25)
#define HAVE_PARTS (HAVE_PARTS_MSG | HAVE_PARTS_TOP)
static void prompt_part(struct ttft_sse *s, uint32_t part, unsigned i)
{
	const unsigned p = TTFT_NUM_PROMPT_TOKENS, c = TTFT_NUM_CACHED_TOKENS;
	uint32_t h = s->nums.have;
	uint64_t sum = s->nval + (h & 1u << p ? s->nums.v[p] : 0);
	s->nums.have |= part;
	if (h & HAVE_NO_PROMPT)
		return;
	if (s->nfrac || sum > UINT32_MAX || (h & (1u << p) && !(h & HAVE_PARTS))) {
		s->nums.have = (s->nums.have & ~(1u << p)) | HAVE_NO_PROMPT;
		return;
	}
	s->nums.v[p] = (uint32_t)sum;
	s->nums.have |= 1u << p;
	s->ev_part[i] = (uint32_t)s->nval;
	if (i == 2) {
		s->nums.v[c] = (uint32_t)s->nval;
		s->nums.have |= 1u << c;
	}
}

/* A literal ends: store the number it was, if it was one we want. */
static void lit_end(struct ttft_sse *s)
{
	if (!s->nslot)
		return;
	unsigned slot = s->nslot - 1u;
	s->nslot = 0;
	if (s->nfrac == NFRAC_NULL && slot != SLOT_INDEX - 1u)
		return; /* null: not said (Anthropic's message_delta has its
			   prompt parts null), the count before it stands */
	if (slot >= SLOT_INDEX - 1u) {
		if (slot == SLOT_INDEX - 1u) {
			/* anything but a plain 0 (1, 2, …, or a form no
			 * server sends) says the stream is not one choice's
			 * alone */
			if (s->nfrac != 0 || s->nval != 0)
				s->ev_choice = 1;
			return;
		}
		if (slot >= SLOT_TOP_INPUT - 1u) {
			unsigned i = slot - (SLOT_TOP_INPUT - 1u);
			prompt_part(s, HAVE_PART_TOP(i), i);
		} else {
			unsigned i = slot - (SLOT_INPUT - 1u);
			prompt_part(s, HAVE_PART_MSG(i), i);
		}
		return;
	}
	if (slot == TTFT_NUM_PROMPT_TOKENS && (s->nums.have & HAVE_PARTS)) {
		/* a prompt count of another form after Anthropic's parts */
		s->nums.have = (s->nums.have & ~(1u << slot)) | HAVE_NO_PROMPT;
		return;
	}
	if (slot == TTFT_NUM_PROMPT_US || slot == TTFT_NUM_PREDICTED_US) {
		if (s->nfrac == 255)
			return;
		/* milliseconds with d decimals (d <= 3) -> microseconds */
		for (unsigned d = s->nfrac ? s->nfrac - 1u : 0; d < 3; d++)
			s->nval *= 10;
	} else if (s->nfrac) {
		return; /* a count that is not a whole number */
	}
	if (s->nval > UINT32_MAX)
		return; /* not a number we can take exactly: leave it out */
	s->nums.v[slot] = (uint32_t)s->nval;
	s->nums.have |= 1u << slot;
}

/* Digits of a wanted number: [0-9]+ ( '.' [0-9]* )?; a sign, an exponent or
 * 18+ digits make it invalid (nfrac 255), null is no number said
 * (NFRAC_NULL: left out, as a key not there). nfrac: 0 before the point, then
 * 1 + the decimals kept; decimals past the third (below a microsecond for
 * milliseconds) are dropped. */
static void num_bytes(struct ttft_sse *s, const char *p, const char *q)
{
	for (; p < q && s->nfrac != 255; p++) {
		char c = *p;
		if (c >= '0' && c <= '9') {
			if (s->nfrac > 3)
				continue;
			if (s->nval > 99999999999999999ull) {
				s->nfrac = 255;
				return;
			}
			s->nval = s->nval * 10 + (uint64_t)(c - '0');
			if (s->nfrac)
				s->nfrac++;
		} else if (c == '.' && s->nfrac == 0) {
			s->nfrac = 1;
		} else if ((c == 'n' && s->nfrac == 0 && s->nval == 0) ||
			   (s->nfrac == NFRAC_NULL && (c == 'u' || c == 'l'))) {
			s->nfrac = NFRAC_NULL; /* null: a count not said */
		} else {
			s->nfrac = 255;
		}
	}
}

/* message_delta's usage said its prompt's parts anew (cumulative), as
 * Anthropic's SDKs combine them: each part it says (not null) replaces
 * the stream's value of that part so far (message_start's, or an earlier
 * message_delta's), a part it leaves out or gives as null keeps it. The
 * prompt is the sum of the three parts so combined when each is known
 * (said whole by this event or before it), its cache read the cached
 * tokens; else not known from this stream (TTFT_NUM_F_PROMPT_UNKNOWN,
 * never a count that is short or gone stale). Parts that are all 0 say
 * nothing: servers and gateways put "input_tokens":0 there (SGLang's,
 * Envoy AI Gateway's reading of it), all three at times, and no prompt is
 * 0 tokens, nor does a cumulative count fall below message_start's: the
 * event's prompt and cached counts are left out, the parts so far stand.
 * A part that is no whole count, a prompt count of another form beside
 * them, message_start's parts in the same event, or a malformed event
 * (prompt_bad): not known, and no part known from then on. */
static __attribute__((noinline, cold)) void prompt_final(struct ttft_sse *s)
{
	uint32_t h = s->nums.have;
	const uint32_t p = 1u << TTFT_NUM_PROMPT_TOKENS, c = 1u << TTFT_NUM_CACHED_TOKENS;
	if (h & (HAVE_NO_PROMPT | HAVE_PARTS_MSG)) {
		s->part_have = 0;
	} else if ((h & p) && !s->nums.v[TTFT_NUM_PROMPT_TOKENS]) {
		s->nums.have = h & ~(p | c);
		return;
	} else {
		for (unsigned i = 0; i < 3; i++)
			if (h & HAVE_PART_TOP(i)) {
				s->part[i] = s->ev_part[i];
				s->part_have |= (uint8_t)(1u << i);
			}
		uint64_t sum = (uint64_t)s->part[0] + s->part[1] + s->part[2];
		if (s->part_have == 7 && sum <= UINT32_MAX) {
			s->nums.v[TTFT_NUM_PROMPT_TOKENS] = (uint32_t)sum;
			s->nums.v[TTFT_NUM_CACHED_TOKENS] = s->part[2];
			s->nums.have = h | p | c;
			return;
		}
	}
	s->nums.have = (h & ~p) | TTFT_NUM_F_PROMPT_UNKNOWN;
}

/* message_start's parts all 0 (SGLang's older Anthropic endpoint,
 * gateways that fill usage in) say no prompt, as message_delta's do: no
 * prompt is 0 tokens, so the event gives no prompt or cached count (null
 * in the row), never 0 as the server's. The parts it says (not null,
 * whole) are the stream's so far, which message_delta's combine with
 * (prompt_final); none where it gave no prompt. */
static __attribute__((noinline, cold)) void prompt_start(struct ttft_sse *s)
{
	const uint32_t p = 1u << TTFT_NUM_PROMPT_TOKENS, c = 1u << TTFT_NUM_CACHED_TOKENS;
	uint32_t h = s->nums.have;
	s->part_have = 0;
	if ((h & (p | HAVE_NO_PROMPT)) != p)
		return;
	if (!s->nums.v[TTFT_NUM_PROMPT_TOKENS]) {
		s->nums.have &= ~(p | c);
		return;
	}
	for (unsigned i = 0; i < 3; i++)
		if (h & HAVE_PART_MSG(i)) {
			s->part[i] = s->ev_part[i];
			s->part_have |= (uint8_t)(1u << i);
		}
}

/* A malformed event's prompt parts (TTFT_SSE_F_BAD) are no parts: those
 * read before its malformation may be fewer than it said (a sum short by
 * a part cut off), and what it said anew is not known. So they are taken
 * as a part that is no whole count is: the event gives no prompt or
 * cached count, and no part is known from then on (prompt_start,
 * prompt_final): a malformed message_start leaves a message_delta's
 * prompt known only where it says all three parts itself (cumulative:
 * exact), a malformed message_delta makes the prompt not known, an
 * earlier count stale. Never a part of it in a sum. (One whose fault came
 * before any part was read: prompt_stale.) */
static __attribute__((noinline, cold)) void prompt_bad(struct ttft_sse *s)
{
	const uint32_t p = 1u << TTFT_NUM_PROMPT_TOKENS, c = 1u << TTFT_NUM_CACHED_TOKENS;
	s->nums.have = (s->nums.have & ~(p | c)) | HAVE_NO_PROMPT;
}

/* A malformed event that may be a message_delta (TTFT_SSE_F_BAD, no
 * token, error or [DONE], its top-level "type" "message_delta" or not
 * read before the fault) in a stream whose prompt parts are known, read
 * to no part of its own: what it said after the fault may be parts anew
 * (cumulative, the final prompt's: with server tools it differs from
 * message_start's), so the count so far may be stale. Not known, as a
 * malformed message_delta that said a part is (prompt_bad), and no part
 * known from then on: a later delta's prompt is known only where it says
 * all three parts. */
static __attribute__((noinline, cold)) void prompt_stale(struct ttft_sse *s)
{
	const uint32_t p = 1u << TTFT_NUM_PROMPT_TOKENS, c = 1u << TTFT_NUM_CACHED_TOKENS;
	s->part_have = 0;
	s->nums.have = (s->nums.have & ~(p | c)) | TTFT_NUM_F_PROMPT_UNKNOWN;
}

static void dispatch(struct ttft_sse *s)
{
	/* an event without data is not dispatched (the standard), even one
	 * named "error" */
	if (s->ev_data & EV_DATA) {
		if (s->js == J_LIT)
			lit_end(s);
		enum ttft_sse_class cls = TTFT_SSE_EMPTY;
		if (s->ev_error || (s->ev_data & EV_NAMED_ERROR))
			cls = TTFT_SSE_ERROR; /* named error: whatever its data */
		else if (s->done_ok && s->done_len == 6)
			cls = TTFT_SSE_DONE;
		else if (s->ev_token)
			cls = TTFT_SSE_TOKEN;
		unsigned flags = s->ev_usage ? TTFT_SSE_F_USAGE : 0;
		/* Well-formed: one complete value (a top-level literal ends
		 * with its line). Not judged once the event was decided early. */
		if (s->ev_bad || (s->js != J_SKIP && (s->depth != 0 ||
		    (s->js != J_END && s->js != J_LIT))))
			flags |= TTFT_SSE_F_BAD;
		if (__builtin_expect((flags & TTFT_SSE_F_BAD) && s->part_have, 0) &&
		    cls == TTFT_SSE_EMPTY && !s->ev_type && !(s->nums.have & HAVE_PARTS))
			prompt_stale(s);
		if (s->nums.have) {
			if ((flags & TTFT_SSE_F_BAD) && (s->nums.have & HAVE_PARTS))
				prompt_bad(s);
			if (s->nums.have & HAVE_PARTS_TOP)
				prompt_final(s);
			else if (s->nums.have & HAVE_PARTS_MSG)
				prompt_start(s);
			s->nums.have &= ~(HAVE_NO_PROMPT | HAVE_PARTS);
			/* a malformed event's numbers are not taken (those
			 * read before its fault may be short of, or other
			 * than, what it said): only its word that the count
			 * so far is stale holds, in the shim's log as in the
			 * probe's row */
			if (flags & TTFT_SSE_F_BAD)
				s->nums.have &= TTFT_NUM_F_PROMPT_UNKNOWN;
			if (s->nums.have)
				flags |= TTFT_SSE_F_NUMS;
		}
		if (s->ev_choice)
			flags |= TTFT_SSE_F_CHOICE;
		if (s->on_event)
			s->on_event(s->ctx, cls, flags);
	}
	reset_event(s);
}

/* ---- the JSON scanner ---- */

/* The class is known: the event is a token or an error. */
static int decided(const struct ttft_sse *s)
{
	return (s->ev_token | s->ev_error) && !s->full;
}

/* A container opens at the current position. */
static int push(struct ttft_sse *s, int array)
{
	uint8_t up = level_flags(s, s->depth);
	uint8_t k, keys;
	if (up & S_ARRAY) { /* elements inherit: choices:[{…}] */
		k = up & S_KEY;
		keys = up & S_KEYS;
	} else {
		k = s->key;
		keys = keys_matter(k, s->depth) ? S_KEYS : 0;
	}
	if (s->depth == 1) {
		if (s->key == K_ERROR)
			s->ev_error = 1;
		else if (s->key == K_USAGE && !array)
			s->ev_usage = 1;
	}
	if (s->depth == 255)
		return -1;
	uint8_t d = __atomic_load_n(&s->depth, __ATOMIC_RELAXED);
	if (d < TTFT_SSE_STACK) /* read once: ttft_sse.h, "Threads" */
		s->stack[d] = (uint8_t)(k | keys | (array ? S_ARRAY : 0));
	s->depth++;
	s->key = K_OTHER;
	return 0;
}

/* A string value starts under the current key. */
static void str_start(struct ttft_sse *s)
{
	s->vtok = 0;
	s->vcap = 0;
	s->vlen = 0;
	if (s->key == K_OTHER)
		return;
	if (s->depth == 1) {
		if (s->key == K_ERROR) {
			s->ev_error = 1;
			return;
		}
		if (s->key == K_OBJECT || s->key == K_TYPE) {
			s->vcap = 1;
			return;
		}
	}
	s->vtok = (uint8_t)is_token_key(s);
}

/* String bytes [p, q) (no quote, no backslash unless escaped). */
static void str_bytes(struct ttft_sse *s, const char *p, size_t n)
{
	if (s->vtok)
		s->ev_token = 1;
	size_t have = __atomic_load_n(&s->vlen, __ATOMIC_RELAXED); /* once */
	if (s->vcap && have < sizeof s->vbuf) {
		size_t room = sizeof s->vbuf - have;
		memcpy(s->vbuf + have, p, n < room ? n : room);
	}
	s->vlen = (uint8_t)(have + n > 255 ? 255 : have + n);
}

static int vbuf_is(const struct ttft_sse *s, const char *lit, size_t n)
{
	return s->vlen == n && memcmp(s->vbuf, lit, n) == 0;
}

static void str_end(struct ttft_sse *s)
{
	if (!s->vcap)
		return;
	if (vbuf_is(s, "error", 5) ||
	    (s->key == K_TYPE && vbuf_is(s, "response.failed", 15)))
		s->ev_error = 1;
	if (s->key == K_TYPE && !vbuf_is(s, "message_delta", 13))
		s->ev_type = 1; /* not Anthropic's message_delta (prompt_stale) */
}

static void key_bytes(struct ttft_sse *s, const char *p, size_t n)
{
	size_t have = __atomic_load_n(&s->keylen, __ATOMIC_RELAXED); /* once */
	if (have < TTFT_SSE_KEYBUF) { /* no pointer past the buffer */
		size_t room = TTFT_SSE_KEYBUF - have;
		memcpy(s->keybuf + have, p, n < room ? n : room);
	}
	s->keylen = (uint8_t)(have + n > 255 ? 255 : have + n);
}

static int is_eol(char c)
{
	return c == '\n' || c == '\r';
}

/* scan_str for what is usually short (a token): one block first. */
static inline const char *short_str(const char *b, const char *p,
				    const char *e)
{
	if (e - p >= BLOCK) {
		__typeof__(mask_str(load_block(p))) m = mask_str(load_block(p));
		if (m)
			return p + FIRST(m);
		p += BLOCK;
	}
	return scan_str(b, p, e);
}

/* The line end after a token that starts at t (a decided event): where the
 * token's string ends, the bytes up to the line end are usually those of
 * the last such line (the suffix kept after the template); else scan. */
static inline __attribute__((always_inline)) const char *
token_line_end(struct ttft_sse *s, const char *b, const char *t, const char *e)
{
	const char *q = t;
	if (*q != '\\' && (unsigned char)*q >= 0x20) {
		q = short_str(b, t + 1, e);
		while (q + 1 < e && *q == '\\' && !is_eol(q[1]))
			q = scan_str(b, q + 2, e);
	}
	if (q == e || *q != '"')
		return scan_eol(b, q, e);
	/* each read once, never compared past tmpl (torn by two threads
	 * on one connection, as sse_tmpl_shape) */
	size_t tl = __atomic_load_n(&s->tlen, __ATOMIC_RELAXED);
	size_t sl = __atomic_load_n(&s->slen, __ATOMIC_RELAXED);
	if (sl && tl + sl <= TTFT_SSE_TMPL && (size_t)(e - q) > sl && is_eol(q[sl]) &&
	    memcmp(q, s->tmpl + tl, sl) == 0)
		return q + sl;
	const char *eol = scan_eol(b, q, e);
	size_t n = (size_t)(eol - q);
	s->slen = 0;
	if (eol < e && n <= TTFT_SSE_SPAN && n + tl <= TTFT_SSE_TMPL) { /* tlen read once */
		memcpy(s->tmpl + tl, q, n);
		s->slen = (uint8_t)n;
	}
	return eol;
}

/* A token starts at t, in the first data line of an event, whose line
 * began at line0 in this buffer (json0: where its JSON began), and the
 * read ends at e: keep the line up to the token as the stream's template
 * when nothing else was found before it, and then, the event being a
 * token (decided: the template is kept only when not reading in full),
 * the bytes from the token's closing quote to the line end as its suffix,
 * as the next event would (token_line_end): so the next token event of
 * the template is already one for the one-token test. Returns that line
 * end (where the rest of the line's skip would stop: its first line end
 * from t, or e), or NULL when no template was kept. ck: just past the
 * line's last top-level ',' before t (NULL: none), kept as tck. Out of
 * line: once a stream. */
static __attribute__((noinline)) const char *
keep_template(struct ttft_sse *s, const char *b, const char *line0,
	      const char *json0, const char *t, const char *e, const char *ck)
{
	size_t n = (size_t)(t - line0);
	/* not from another choice's event (index != 0): those stay off the
	 * template paths, each read in full and flagged */
	if (line0 && n <= TTFT_SSE_SPAN && !s->ev_usage && !s->ev_error && !(s->ev_data & EV_NAMED_ERROR) &&
	    !s->nums.have && !s->ev_choice && !s->full) {
		memcpy(s->tmpl, line0, n);
		s->nholes = 255; /* another template: its holes not known */
		s->tlen = (uint8_t)n;
		s->slen = 0;
		s->tdata = (uint8_t)(json0 - line0);
		s->tck = (uint8_t)(ck ? ck - line0 : 0);
		/* a top-level type read before the token lies before ck */
		s->tmpl_type = s->ev_type;
		return token_line_end(s, b, t, e);
	}
	return NULL;
}

/* Scan the data bytes [p, e) of the current line (b: the buffer's start;
 * line0 / json0: where this event's first data line and its JSON began in
 * this buffer, or NULL). Returns where it stopped: e, or the '\n'/'\r'
 * that ends the line. The state is saved in s->js at every return. tmpl:
 * the version that may keep a template (not reading in full: keep_template
 * keeps none then), and finds its last top-level ',' for it. */
static inline __attribute__((always_inline)) const char *
json_scan(struct ttft_sse *s, const char *b, const char *line0,
	  const char *json0, const char *p, const char *e, const int tmpl)
{
	const char *q, *ck = NULL; /* past the last top-level ',' here */
	char c;
	/* resumed at the template's checkpoint (lines(): the event's first
	 * line begun in this read, past its last top-level ',' before the
	 * token, the top-level object's next key to come; no other entry
	 * is there with line0 in this read): that ',' is the last one so far,
	 * as the scan from the line's start would have it */
	if (tmpl && line0 && s->js == J_KEYNEXT && s->depth == 1 && s->line1)
		ck = p;
	switch (s->js) {
	case J_VALUE: goto value;
	case J_FIRST: goto first;
	case J_KEYSTART: goto keystart;
	case J_KEYNEXT: goto keynext;
	case J_KEY: goto key;
	case J_KEYESC: goto key_esc;
	case J_COLON: goto colon;
	case J_STR: goto str;
	case J_STRESC: goto str_esc;
	case J_LIT: goto lit;
	case J_AFTER: goto after;
	case J_END: goto end;
	default: goto skip;
	}

value: /* a value is expected */
	for (;; p++) {
		if (p == e) {
			s->js = J_VALUE;
			return p;
		}
		c = *p;
		if (c != ' ' && c != '\t')
			break;
	}
	switch (c) {
	case '"':
		p++;
		str_start(s);
		goto str;
	case '{':
		p++;
		if (push(s, 0))
			goto bad;
		goto keystart;
	case '[':
		p++;
		if (push(s, 1))
			goto bad;
		goto first;
	case '\n': case '\r':
		s->js = J_VALUE;
		return p;
	case ',': case '}': case ']': case ':':
		goto bad;
	default:
		s->nslot = num_slot(s);
		s->nval = 0;
		s->nfrac = 0;
		goto lit;
	}

str: /* inside a string value */
	if (tmpl && s->vtok && s->vlen == 0 && p < e && *p != '"' && !is_eol(*p) &&
	    (q = keep_template(s, b, line0, json0, p, e, ck))) {
		/* a token (its first byte: str_bytes's verdict), decided */
		s->ev_token = 1;
		s->js = J_SKIP;
		return q;
	}
	q = scan_str(b, p, e);
	if (q > p) {
		str_bytes(s, p, (size_t)(q - p));
		p = q;
		if (decided(s))
			goto skip;
	}
	if (q == e) {
		s->js = J_STR;
		return q;
	}
	p = q + 1;
	switch (*q) {
	case '"':
		str_end(s);
		if (decided(s))
			goto skip;
		goto after;
	case '\\':
		str_bytes(s, q, 1);
		if (decided(s))
			goto skip;
		goto str_esc;
	case '\n': case '\r':
		s->js = J_STR;
		return q;
	default: /* a raw control byte: not JSON, but a byte of the string */
		str_bytes(s, q, 1);
		if (decided(s))
			goto skip;
		goto str;
	}
str_esc: /* the byte after a backslash */
	if (p == e) {
		s->js = J_STRESC;
		return p;
	}
	if (is_eol(*p)) {
		s->js = J_STRESC;
		return p;
	}
	p++;
	goto str;

first: /* after '[': a value or ']' */
	for (;; p++) {
		if (p == e) {
			s->js = J_FIRST;
			return p;
		}
		if (*p != ' ' && *p != '\t')
			break;
	}
	if (*p == ']')
		goto after;
	if (is_eol(*p)) {
		s->js = J_FIRST;
		return p;
	}
	goto value;

keystart: /* after '{': a key or '}' */
	for (;; p++) {
		if (p == e) {
			s->js = J_KEYSTART;
			return p;
		}
		if (*p != ' ' && *p != '\t')
			break;
	}
	if (*p == '}')
		goto after;
	if (is_eol(*p)) {
		s->js = J_KEYSTART;
		return p;
	}
keynext: /* after ',' in an object: a key */
	for (;; p++) {
		if (p == e) {
			s->js = J_KEYNEXT;
			return p;
		}
		c = *p;
		if (c != ' ' && c != '\t')
			break;
	}
	if (c == '"') {
		p++;
		s->keylen = 0;
		goto key;
	}
	if (is_eol(c)) {
		s->js = J_KEYNEXT;
		return p;
	}
	goto bad;

key: /* inside a key (usually short: one block first) */
	q = short_str(b, p, e);
	if (q < e && *q == '"' && s->keylen == 0) {
		/* the whole key is here: no copy */
		s->key = level_flags(s, s->depth) & S_KEYS
			 ? key_id(p, (size_t)(q - p)) : K_OTHER;
		p = q + 1;
		goto colon;
	}
	key_bytes(s, p, (size_t)(q - p));
	if (q == e || is_eol(*q)) {
		s->js = J_KEY;
		return q;
	}
	p = q + 1;
	if (*q == '\\') {
		s->keylen = 255; /* an escaped key is none of ours */
		goto key_esc;
	}
	if (*q != '"') {
		key_bytes(s, q, 1);
		goto key;
	}
	s->key = s->keylen <= TTFT_SSE_KEYBUF && (level_flags(s, s->depth) & S_KEYS)
		 ? key_id(s->keybuf, s->keylen) : K_OTHER;
	goto colon;
key_esc:
	if (p == e || is_eol(*p)) {
		s->js = J_KEYESC;
		return p;
	}
	p++;
	goto key;

colon: /* after a key */
	for (;; p++) {
		if (p == e) {
			s->js = J_COLON;
			return p;
		}
		c = *p;
		if (c != ' ' && c != '\t')
			break;
	}
	if (c == ':') {
		p++;
		goto value;
	}
	if (is_eol(c)) {
		s->js = J_COLON;
		return p;
	}
	goto bad;

lit: /* inside a literal (number, true, false, null) */
	q = scan_lit(b, p, e);
	if (s->nslot)
		num_bytes(s, p, q);
	p = q;
	if (p == e || is_eol(*p)) {
		s->js = J_LIT;
		return p;
	}
	lit_end(s);
	goto after;

after: /* after a value: ',' or a closing bracket */
	if (s->depth == 0)
		goto end;
	for (;; p++) {
		if (p == e) {
			s->js = J_AFTER;
			return p;
		}
		c = *p;
		if (c != ' ' && c != '\t')
			break;
	}
	switch (c) {
	case ',':
		p++;
		if (level_flags(s, s->depth) & S_ARRAY) {
			s->key = K_OTHER;
			goto value;
		}
		if (tmpl && s->depth == 1 && s->line1)
			ck = p;
		goto keynext;
	case '}':
	case ']':
		if (((level_flags(s, s->depth) & S_ARRAY) != 0) != (c == ']') &&
		    s->depth <= TTFT_SSE_STACK)
			goto bad;
		p++;
		s->depth--;
		s->key = K_OTHER;
		goto after;
	case '\n': case '\r':
		s->js = J_AFTER;
		return p;
	default:
		goto bad;
	}

end: /* the top-level value is complete */
	for (;; p++) {
		if (p == e || is_eol(*p)) {
			s->js = J_END;
			return p;
		}
		if (*p != ' ' && *p != '\t')
			goto bad;
	}

bad:
	s->ev_bad = 1;
skip: /* the event is decided or malformed: the rest of its data is noise */
	s->js = J_SKIP;
	return scan_eol(b, p, e);
}

/* ---- lines ---- */

static inline void data_bytes(struct ttft_sse *s, const char *p, size_t n)
{
	static const char done[] = "[DONE]";
	if (s->on_data)
		s->on_data(s->ctx, p, n);
	if (s->done_ok) {
		if (s->done_len + n <= 6 && memcmp(p, done + s->done_len, n) == 0)
			s->done_len = (uint8_t)(s->done_len + n);
		else
			s->done_ok = 0;
	}
}

static void data_line_start(struct ttft_sse *s)
{
	s->line1 = !(s->ev_data & EV_DATA);
	if (s->ev_data & EV_DATA) {
		/* Data lines of one event join with LF: a byte of an open
		 * string or key, whitespace anywhere else. */
		data_bytes(s, "\n", 1);
		switch (s->js) {
		case J_STR:
		case J_STRESC:
			str_bytes(s, "\n", 1);
			s->js = J_STR;
			if (decided(s))
				s->js = J_SKIP;
			break;
		case J_KEY:
		case J_KEYESC:
			key_bytes(s, "\n", 1);
			s->js = J_KEY;
			break;
		case J_LIT:
			lit_end(s);
			s->js = s->depth ? J_AFTER : J_END;
			break;
		default:
			break;
		}
	}
	s->ev_data |= EV_DATA;
}

/* One byte of an `event:` line's value (s->evname: 0 at its start, where
 * one space may follow the colon; 1-5: that many bytes of "error" matched;
 * 6: all of it and nothing more yet; 7: another name). */
static void event_name_byte(struct ttft_sse *s, char c)
{
	unsigned k = s->evname;
	if (k == 0) {
		if (c == ' ') {
			s->evname = 1;
			return;
		}
		k = 1;
	}
	s->evname = (uint8_t)(k <= 5 && c == "error"[k - 1] ? k + 1 : 7);
}

static void end_of_line(struct ttft_sse *s)
{
	switch (s->line) {
	case L_START:
		dispatch(s);
		break;
	case L_FIELD: /* a field with no colon: its value is empty */
		if (s->field_len == 4 && memcmp(s->field, "data", 4) == 0)
			data_line_start(s);
		else if (s->field_len == 5 && memcmp(s->field, "event", 5) == 0)
			s->ev_data &= (uint8_t)~EV_NAMED_ERROR; /* the default name */
		break;
	case L_EVNAME:
		if (s->evname == 6)
			s->ev_data |= EV_NAMED_ERROR;
		break;
	default:
		break;
	}
	s->line = L_START;
}

/* The end of a data line at p: pass its data on, and take the usual end of
 * an event at once (the line's end and a blank line: four steps of the
 * feed loop otherwise). Returns where to go on. */
static const char *data_line_end(struct ttft_sse *s, const char *data,
				 const char *p, const char *e)
{
	if (s->on_data || s->done_ok)
		data_bytes(s, data, (size_t)(p - data));
	if (e - p >= 2 && p[0] == '\n' && p[1] == '\n') {
		s->line = L_START;
		dispatch(s);
		return p + 2;
	}
	if (e - p >= 4 && memcmp(p, "\r\n\r\n", 4) == 0) {
		s->line = L_START;
		dispatch(s);
		return p + 4;
	}
	return p;
}

/* At the start of an event: the stream's template then a token byte puts
 * the scanner where a full read would (a token, decided: the class is
 * TOKEN and there are no flags, since the template was kept only before
 * any other finding). Then the line's end, and usually the event's, at
 * once. Returns where to go on, or NULL when the template does not fit;
 * *whole: the event ended there, and its TOKEN is the caller's to report. */
static inline __attribute__((always_inline)) const char *
template_event(struct ttft_sse *s, const char *b, const char *p, const char *e,
	       int *whole)
{
	size_t tl = s->tlen;
	*whole = 0;
	if ((size_t)(e - p) <= tl || p[tl] == '"' || is_eol(p[tl]) ||
	    memcmp(p, s->tmpl, tl) != 0)
		return NULL;
	const char *q = token_line_end(s, b, p + tl, e);
	if (s->on_data)
		s->on_data(s->ctx, p + s->tdata, (size_t)(q - p - s->tdata));
	if (e - q >= 2 && q[0] == '\n' && q[1] == '\n') {
		/* The whole event: its state before and after is the reset
		 * one (no data line had begun), so none is written. */
		*whole = 1;
		return q + 2;
	}
	s->ev_data = s->line1 = 1;
	s->ev_token = 1;
	s->done_ok = 0;
	s->js = J_SKIP;
	s->line = L_DATA;
	return q;
}

/* The hint's holes (ttft_sse.hole): the values of the top-level "id"
 * (a string with no quote, backslash or control byte) and "created"
 * (digits) among the plain top-level members of its prefix before its
 * checkpoint (hck: all of them top-level, whole, each ending with its
 * ','), read from the prefix's JSON; the first member of another form (an
 * object, an escape, a space) ends the search, the holes before it
 * standing. Once per template kept by the full scan (nholes 255). */
static __attribute__((noinline, cold)) void find_holes(struct ttft_sse *s,
							size_t hl)
{
	const char *t = s->tmpl;
	size_t i = s->tdata, ck = s->hck; /* each read once */
	unsigned n = 0, num = 0;
	if (ck > hl || hl > TTFT_SSE_SPAN || i >= ck || t[i] != '{')
		goto out;
	for (i++; i < ck && n < 2;) {
		if (t[i] != '"')
			break;
		size_t k0 = ++i;
		while (i < ck && t[i] != '"' && t[i] != '\\')
			i++;
		if (i + 1 >= ck || t[i] != '"' || t[i + 1] != ':')
			break;
		size_t klen = i - k0, v0 = (i += 2), v1;
		int hole = 0, isnum = 0;
		if (i < ck && t[i] == '"') {
			v0 = ++i;
			while (i < ck && t[i] != '"' && t[i] != '\\' &&
			       (unsigned char)t[i] >= 0x20)
				i++;
			if (i >= ck || t[i] != '"')
				break;
			v1 = i++;
			hole = klen == 2 && !memcmp(t + k0, "id", 2);
		} else if (i < ck && t[i] >= '0' && t[i] <= '9') {
			while (i < ck && t[i] >= '0' && t[i] <= '9')
				i++;
			v1 = i;
			hole = isnum = klen == 7 && !memcmp(t + k0, "created", 7);
		} else {
			while (i < ck && t[i] >= 'a' && t[i] <= 'z')
				i++; /* null, true, false */
			v1 = i;
		}
		if (i >= ck || t[i] != ',')
			break;
		i++;
		if (hole) {
			s->hole[n][0] = (uint8_t)v0;
			s->hole[n][1] = (uint8_t)v1;
			num |= (unsigned)isnum << n;
			n++;
		}
	}
out:
	s->hole_num = (uint8_t)num;
	s->nholes = (uint8_t)n;
}

/* At the start of an event of a response with no template yet (the
 * first token event of a response, or one before it): does it fit the
 * last response's template on the connection (the hint), its holes'
 * values aside? A response's "id" and "created" differ from the last
 * one's, and nothing else in the prefix of vLLM's or OpenAI's token
 * event does. Where it fits, the scan from the event's start would read
 * exactly what it read in the hint's event (whose prefix held no
 * finding: keep_template), but for those two values, which it skips
 * (a top-level key no rule reads; a string with no quote, backslash or
 * control byte; digits), and find the same non-empty token after the
 * same prefix: it
 * would keep this line's prefix as the template. So that is kept here
 * (its bytes, the hint's tdata, tck moved by the holes' change of length,
 * its tmpl_type, no suffix; the holes where they are now) and the event
 * is read as template_event reads it (its suffix then kept as
 * keep_template's token_line_end keeps it). Returns as
 * template_event does; NULL with nothing changed where it does not fit
 * (then the full scan reads it, and keeps its own template). ~2,000
 * instructions fewer for a response's first token event
 * (docs/performance.md). Where it does not fit but holds the hint's
 * prefix up to the hint's checkpoint (hck), *resume is where that
 * checkpoint lies in the event (lines() resumes the scan there), else
 * NULL. */
static __attribute__((noinline)) const char *
hint_event(struct ttft_sse *s, const char *b, const char *p, const char *e,
	   int *whole, const char **resume)
{
	size_t hl = __atomic_load_n(&s->hlen, __ATOMIC_RELAXED); /* once */
	size_t hk = __atomic_load_n(&s->hck, __ATOMIC_RELAXED);
	*resume = NULL;
	if (hl > TTFT_SSE_SPAN)
		return NULL;
	if (s->nholes == 255)
		find_holes(s, hl);
	unsigned nh = __atomic_load_n(&s->nholes, __ATOMIC_RELAXED);
	nh = nh < 2 ? nh : 2; /* each hole's bounds checked below */
	const char *t = s->tmpl, *q = p;
	size_t ti = 0, v[2][2];
	for (unsigned k = 0; k < nh; k++) {
		size_t a = s->hole[k][0], z = s->hole[k][1];
		if (a < ti || z < a || z > hl || (size_t)(e - q) < a - ti ||
		    memcmp(q, t + ti, a - ti) != 0)
			return NULL;
		q += a - ti;
		const char *d = q;
		if (s->hole_num >> k & 1) {
			while (q < e && (unsigned char)(*q - '0') < 10)
				q++;
			if (q == d || q - d > 19)
				return NULL;
		} else {
			q = scan_str(b, q, e); /* its quote, as the scan's */
		}
		v[k][0] = (size_t)(d - p);
		v[k][1] = (size_t)(q - p);
		ti = z;
	}
	/* the rest of the prefix, and a token byte after it (not a closing
	 * quote, not a line end: a non-empty token) */
	if ((size_t)(e - q) <= hl - ti || memcmp(q, t + ti, hl - ti) != 0 ||
	    q[hl - ti] == '"' || is_eol(q[hl - ti]) || (size_t)(q - p) + hl - ti > TTFT_SSE_SPAN) {
		/* Not a token event of the hint's, but one that holds its
		 * prefix up to its checkpoint (the holes before it): the
		 * scan from the event's start would be at its last
		 * top-level ',' there, a key of the top-level object to
		 * come, having found nothing (the hint's prefix held no
		 * finding, the holes' values none either), as at a
		 * template's checkpoint (lines()). A chat stream's role
		 * event, the first of each response ({"role":"assistant",
		 * "content":""}): its id, object, created and model not
		 * read again (docs/performance.md). Not for a reader
		 * handed every event's data (on_data). */
		if (hk > ti && hk <= hl && s->tdata < hk && !s->on_data &&
		    (size_t)(e - q) > hk - ti && memcmp(q, t + ti, hk - ti) == 0)
			*resume = q + (hk - ti);
		return NULL;
	}
	q += hl - ti;
	size_t nl = (size_t)(q - p);
	size_t ck = hk + nl - hl; /* the holes lie before it */
	memcpy(s->tmpl, p, nl);
	for (unsigned k = 0; k < nh; k++) {
		s->hole[k][0] = (uint8_t)v[k][0];
		s->hole[k][1] = (uint8_t)v[k][1];
	}
	s->tck = (uint8_t)(ck <= TTFT_SSE_SPAN ? ck : 0);
	s->tmpl_type = s->htype;
	/* no suffix yet, as keep_template: token_line_end keeps this
	 * line's where it reads its token's end and line end here (the last
	 * response's, carried over, would stand unread where it does not: a
	 * token cut by the read's end, or one that starts with an escape) */
	s->slen = 0;
	s->hlen = 0;
	s->tlen = (uint8_t)nl;
	return template_event(s, b, p, e, whole);
}

/* Digits [0-9]{1,9} at p (before e), then the byte that ends them: their
 * value in *v and where they end, or NULL (no digit, ten or more, or the
 * read ends there). Below 10^9: a count num_bytes reads the same. */
static inline __attribute__((always_inline)) const char *
usage_digits(const char *p, const char *e, uint64_t *v)
{
	uint64_t n = 0;
	const char *d = p;
	while (d < e && *d >= '0' && *d <= '9' && d - p < 10)
		n = n * 10 + (uint64_t)(*d++ - '0');
	if (d == p || d - p > 9 || d == e)
		return NULL;
	*v = n;
	return d;
}

/* The end of an event a fast path took whole, its blank line read: the
 * state the full scan leaves there (its last number's value n, the
 * top-level object closed), then the event dispatched as the scan's
 * blank line dispatches it. usage_event's and role_event's. */
static inline __attribute__((always_inline)) void taken_whole(struct ttft_sse *s,
							      uint64_t n)
{
	s->nval = n;
	s->nfrac = 0;
	s->nslot = 0;
	s->keylen = 0;
	s->key = K_OTHER;
	s->depth = 0;
	s->js = J_END;
	s->line = L_START;
	dispatch(s);
}

/* A usage event of vLLM's form, whole in this read, where the template's
 * checkpoint left the scanner (the top-level object's keys to come, as
 * lines() sets it up: its id, object, created and model read): exactly
 * "choices":[],"usage":{ then members "prompt_tokens", "total_tokens" or
 * "completion_tokens" with [0-9]{1,9}, or "prompt_tokens_details" with
 * null or {"cached_tokens":[0-9]{1,9}}, joined by ',', then }}\n\n (no
 * whitespace, no other key or value). Such an event is taken here at once,
 * as the full scan would take it: the same numbers in the same slots (each
 * below 10^9, stored by lit_end; a key said twice, its last), the same
 * class and flags to on_event (EMPTY, USAGE and NUMS where a number was
 * read) and the same state after. Returns where the stream goes on, or
 * NULL with nothing changed: the full scan reads it (another form, split
 * across reads, a number of another form). ~2,000 instructions a usage
 * event fewer (docs/performance.md). */
static __attribute__((noinline)) const char *
usage_event(struct ttft_sse *s, const char *p, const char *e)
{
	/* each literal compared a word at a time (key_is: its length a
	 * constant), never a byte loop */
#define AT(lit) ((size_t)(e - p) >= sizeof lit - 1 && key_is(p, lit, sizeof lit - 1) \
		 && (p += sizeof lit - 1, 1))
	uint32_t have = 0, v[TTFT_NUM__COUNT];
	uint64_t n = 0;
	int pushed = 0; /* a details object was read (the stack's third) */
	if (!AT("\"choices\":[],\"usage\":{"))
		return NULL;
	for (;;) {
		int slot = -1; /* the nums slot, or -1: a count no slot takes */
		int nested = 0;
		if (AT("\"prompt_tokens\":"))
			slot = TTFT_NUM_PROMPT_TOKENS;
		else if (AT("\"total_tokens\":"))
			slot = -1;
		else if (AT("\"completion_tokens\":"))
			slot = TTFT_NUM_COMPLETION_TOKENS;
		else if (AT("\"prompt_tokens_details\":")) {
			if (AT("null")) {
				n = 0;
				goto after;
			}
			if (!AT("{\"cached_tokens\":"))
				return NULL;
			slot = TTFT_NUM_CACHED_TOKENS;
			nested = pushed = 1;
		} else {
			return NULL;
		}
		uint64_t x;
		if (!(p = usage_digits(p, e, &x)))
			return NULL;
		n = 0;
		if (slot >= 0) {
			v[slot] = (uint32_t)x;
			have |= 1u << slot;
			n = x;
		}
		if (nested) {
			if (*p != '}')
				return NULL;
			p++;
		}
	after:
		if (p == e)
			return NULL;
		if (*p != ',')
			break;
		p++;
	}
	if (!AT("}}\n\n"))
		return NULL;
#undef AT
	/* the state the full scan leaves at the blank line */
	s->ev_data = EV_DATA;
	s->ev_type = s->tmpl_type; /* as the checkpoint's resume sets it */
	s->line1 = 1;
	s->done_ok = 0;
	s->ev_usage = 1;
	s->stack[0] = S_KEYS;
	s->stack[1] = K_USAGE | S_KEYS;
	if (pushed)
		s->stack[2] = K_PROMPT_DETAILS | S_KEYS;
	if (have & 1u << TTFT_NUM_PROMPT_TOKENS)
		s->nums.v[TTFT_NUM_PROMPT_TOKENS] = v[TTFT_NUM_PROMPT_TOKENS];
	if (have & 1u << TTFT_NUM_COMPLETION_TOKENS)
		s->nums.v[TTFT_NUM_COMPLETION_TOKENS] = v[TTFT_NUM_COMPLETION_TOKENS];
	if (have & 1u << TTFT_NUM_CACHED_TOKENS)
		s->nums.v[TTFT_NUM_CACHED_TOKENS] = v[TTFT_NUM_CACHED_TOKENS];
	s->nums.have = have;
	taken_whole(s, n);
	return p;
}

/* A chat stream's role event of vLLM's form (its first event: the
 * assistant's role, an empty content), whole in this read, where the
 * hint's checkpoint left the scanner (the top-level object's keys to
 * come, its id, object, created and model read, as lines() sets it up):
 * exactly "choices":[{"index":0,"delta":{"role":"assistant","content":""},
 * "logprobs":null,"finish_reason":null}], then "usage":null or nothing,
 * then }\n\n (no whitespace, no other key, choice or value). Such an event
 * is taken here at once, as the full scan would take it: an empty event,
 * no flag, the same state after (the containers it opened, the content's
 * string a token's place). Returns where the stream goes on, or NULL with
 * nothing changed: the full scan reads it (another form, split across
 * reads). ~2,500 instructions a chat response fewer
 * (docs/performance.md). */
static __attribute__((noinline)) const char *
role_event(struct ttft_sse *s, const char *p, const char *e)
{
#define AT(lit) ((size_t)(e - p) >= sizeof lit - 1 && key_is(p, lit, sizeof lit - 1) \
		 && (p += sizeof lit - 1, 1))
	if (!AT("\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\","
		"\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]"))
		return NULL;
	if (!AT(",\"usage\":null}\n\n")) {
		/* three bytes: below key_is's four */
		if (e - p < 3 || p[0] != '}' || p[1] != '\n' || p[2] != '\n')
			return NULL;
		p += 3;
	}
#undef AT
	/* the state the full scan leaves at the blank line */
	s->ev_data = EV_DATA;
	s->ev_type = s->htype; /* as the hint's checkpoint sets it */
	s->line1 = 1;
	s->done_ok = 0;
	s->stack[0] = S_KEYS;
	s->stack[1] = K_CHOICES | S_ARRAY | S_KEYS;
	s->stack[2] = K_CHOICES | S_KEYS;
	s->stack[3] = K_DELTA | S_KEYS;
	s->vtok = 1; /* "content": a token's place, empty */
	s->vlen = 0;
	s->vcap = 0;
	taken_whole(s, 0); /* the index the last number */
	return p;
}

static void feed_lines(struct ttft_sse *s, const char *b, const char *p,
		       const char *e);
static void feed_lines_full(struct ttft_sse *s, const char *b, const char *p,
			    const char *e);

/* A byte-order mark, and room for the scanners' blocks past it. */
static const char g_bom[32] = "\xEF\xBB\xBF";

/* The stream's first bytes (s->bom < 3): the standard's decoder drops one
 * byte-order mark there, and only there, so those bytes are read past. A
 * start that only begins like one is fed as it was (its bytes make the
 * first line's field unknown, as the standard's U+FFFD would). Returns
 * where the stream's own bytes go on; s->bom is 3 from then on. */
static __attribute__((noinline, cold)) const char *
bom_start(struct ttft_sse *s, const char *p, const char *e)
{
	while (p < e && s->bom < 3) {
		if (*p == g_bom[s->bom]) {
			s->bom++;
			p++;
			continue;
		}
		unsigned held = s->bom;
		s->bom = 3;
		if (held && s->full)
			feed_lines_full(s, g_bom, g_bom, g_bom + held);
		else if (held)
			feed_lines(s, g_bom, g_bom, g_bom + held);
	}
	return p;
}

/* The lines of [p, e), in a read that began at b; tmpl: json_scan's. */
static inline __attribute__((always_inline)) void
lines(struct ttft_sse *s, const char *b, const char *p, const char *e,
      const int tmpl)
{
	if (__builtin_expect(s->bom < 3, 0))
		p = bom_start(s, p, e);
	const char *lstart = NULL; /* the current line's start, if here */
	const char *line0 = NULL;  /* the event's first data line, if here */
	const char *json0 = NULL;  /* … and its JSON */
	while (p < e) {
		char c = *p;
		if (s->after_cr) {
			s->after_cr = 0;
			if (c == '\n') { /* the LF of a CRLF */
				p++;
				continue;
			}
		}
		if (is_eol(c)) {
			s->after_cr = c == '\r';
			end_of_line(s);
			p++;
			continue;
		}
		switch (s->line) {
		case L_START:
			lstart = p;
			if (s->tlen && !s->ev_data) {
				int whole;
				const char *q = template_event(s, b, p, e, &whole);
				if (whole && s->on_event)
					s->on_event(s->ctx, TTFT_SSE_TOKEN, 0);
				if (q) {
					p = q;
					continue;
				}
				/* the template's bytes up to its last top-level
				 * ',' before the token (a usage event's id,
				 * object, created and model): the scan of the
				 * first data line from its start would be there
				 * in this state, whatever those bytes held,
				 * since the template was kept only where none
				 * of them was a finding (keep_template); its
				 * data begins with '{', so it is not "[DONE]" */
				size_t ck = __atomic_load_n(&s->tck, __ATOMIC_RELAXED);
				if (ck && ck <= TTFT_SSE_SPAN && (size_t)(e - p) > ck &&
				    !s->on_data && memcmp(p, s->tmpl, ck) == 0) {
					const char *u = usage_event(s, p + ck, e);
					if (u) {
						p = u;
						continue;
					}
					s->ev_data = EV_DATA;
					s->ev_type = s->tmpl_type;
					s->line1 = 1;
					s->done_ok = 0;
					s->depth = 1;
					s->stack[0] = S_KEYS; /* the top-level object */
					s->key = K_OTHER;
					s->js = J_KEYNEXT;
					s->line = L_DATA;
					line0 = p;
					json0 = p + s->tdata;
					p += ck;
					continue;
				}
			} else if (s->hlen && !s->ev_data) {
				/* no template yet: the last response's */
				int whole;
				const char *ck;
				const char *q = hint_event(s, b, p, e, &whole, &ck);
				if (q) {
					if (whole && s->on_event)
						s->on_event(s->ctx, TTFT_SSE_TOKEN, 0);
					p = q;
					continue;
				}
				if (ck && (q = role_event(s, ck, e))) {
					p = q; /* a chat role event, taken */
					continue;
				}
				if (ck) { /* at the hint's checkpoint: as the
					     template's, above */
					s->ev_data = EV_DATA;
					s->ev_type = s->htype;
					s->line1 = 1;
					s->done_ok = 0;
					s->depth = 1;
					s->stack[0] = S_KEYS;
					s->key = K_OTHER;
					s->js = J_KEYNEXT;
					s->line = L_DATA;
					line0 = p;
					json0 = p + s->tdata;
					p = ck;
					continue;
				}
			}
			if (e - p >= 6 && memcmp(p, "data: ", 6) == 0) {
				/* the stream's end, whole, as an event of its
				 * own: where the scan of its data would end
				 * (the top-level value complete, "[DONE]" all
				 * the data), then its blank line */
				if (e - p >= 14 && !s->ev_data && !s->on_data &&
				    memcmp(p + 6, "[DONE]\n\n", 8) == 0) {
					s->ev_data = EV_DATA;
					s->done_len = 6;
					s->js = J_END;
					dispatch(s);
					p += 14;
					continue;
				}
				data_line_start(s);
				if (s->line1) {
					line0 = p;
					json0 = p + 6;
				}
				s->line = L_DATA;
				p += 6;
			} else if (c == ':') {
				s->line = L_SKIP; /* a comment line */
			} else {
				/* the event's first data line may be this one
				 * ("data:" or "data"): its line0 is set at its
				 * value, or not at all, never left at an event
				 * before it (whose template would then hold
				 * that event, a blank line and all) */
				if (!(s->ev_data & EV_DATA))
					line0 = NULL;
				s->field_len = 0;
				s->line = L_FIELD;
			}
			continue;
		case L_FIELD:
			if (c == ':') {
				int is_data = s->field_len == 4 &&
					      memcmp(s->field, "data", 4) == 0;
				int is_event = s->field_len == 5 &&
					       memcmp(s->field, "event", 5) == 0;
				if (is_data)
					data_line_start(s);
				if (is_event) { /* a later one replaces it */
					s->ev_data &= (uint8_t)~EV_NAMED_ERROR;
					s->evname = 0;
				}
				s->line = is_data ? L_VALUE_SPACE
					: is_event ? L_EVNAME : L_SKIP;
			} else {
				uint8_t fl = __atomic_load_n(&s->field_len, __ATOMIC_RELAXED);
				if (fl < sizeof s->field) /* read once */
					s->field[fl] = c;
				if (fl < 255)
					s->field_len = (uint8_t)(fl + 1);
			}
			p++;
			continue;
		case L_VALUE_SPACE:
			s->line = L_DATA;
			if (c == ' ')
				p++; /* one optional space after the colon */
			if (s->line1) {
				line0 = lstart;
				json0 = p;
			}
			continue;
		case L_DATA: {
			const char *q = json_scan(s, b, line0, json0, p, e, tmpl);
			p = data_line_end(s, p, q, e);
			continue;
		}
		case L_EVNAME:
			event_name_byte(s, c);
			p++;
			continue;
		default: /* L_SKIP: a comment or a field we do not use */
			p = scan_eol(b, p, e);
			continue;
		}
	}
}

/* Two versions: a reader of every event in full (ttft-probe) keeps no
 * template, and its scan does not look for one's parts. */
static __attribute__((noinline)) void feed_lines(struct ttft_sse *s,
						 const char *b, const char *p,
						 const char *e)
{
	lines(s, b, p, e, 1);
}

static __attribute__((noinline)) void
feed_lines_full(struct ttft_sse *s, const char *b, const char *p,
		const char *e)
{
	lines(s, b, p, e, 0);
}

int ttft_sse_template_ready(const struct ttft_sse *s)
{
	/* the state ttft_sse_feed_token's template path starts from; the
	 * suffix (which starts with the token's closing quote) known, and
	 * with it the template: a suffix is kept only after its prefix
	 * (token_line_end, reached with tlen set: from keep_template, which
	 * sets it, and from template_event, which needs it; tlen is 0 again
	 * only with slen, at ttft_sse_reset) */
	if (!s->slen)
		return 0;
	/* line == L_START (0), !after_cr, !ev_data, and no on_data (a
	 * reader handed the data gets it from template_event): four
	 * adjacent bytes, one word */
	_Static_assert(L_START == 0 &&
		       offsetof(struct ttft_sse, after_cr) ==
			       offsetof(struct ttft_sse, line) + 1 &&
		       offsetof(struct ttft_sse, ev_data) ==
			       offsetof(struct ttft_sse, line) + 2 &&
		       offsetof(struct ttft_sse, data_cb) ==
			       offsetof(struct ttft_sse, line) + 3,
		       "line, after_cr, ev_data, data_cb: one word");
	uint32_t w;
	memcpy(&w, (const char *)s + offsetof(struct ttft_sse, line), 4);
	return w == 0;
}

int ttft_sse_whole_token(const struct ttft_sse *s, const char *p, size_t n)
{
	return ttft_sse_template_ready(s) && sse_template_token(s, p, n);
}

int ttft_sse_feed_token(struct ttft_sse *s, const char *p, size_t n)
{
	const char *b = p, *e = p + n;
	/* A read that starts with a token event of the stream's template
	 * (the usual read of a stream): straight to it. */
	if (s->tlen && s->line == L_START && !s->ev_data && !s->after_cr) {
		int whole;
		const char *q = template_event(s, b, p, e, &whole);
		if (whole && q == e)
			return 1;
		if (whole && s->on_event)
			s->on_event(s->ctx, TTFT_SSE_TOKEN, 0);
		if (q)
			p = q;
	}
	if (p < e && s->full)
		feed_lines_full(s, b, p, e);
	else if (p < e)
		feed_lines(s, b, p, e);
	return 0;
}

void ttft_sse_feed(struct ttft_sse *s, const char *p, size_t n)
{
	if (ttft_sse_feed_token(s, p, n) && s->on_event)
		s->on_event(s->ctx, TTFT_SSE_TOKEN, 0);
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
