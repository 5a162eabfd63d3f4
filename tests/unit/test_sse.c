/* test_sse.c — the SSE classifier: which events are tokens, whatever the
 * line endings or how the bytes are split. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ttft_sse.h"
#include "ttft_tmpl_eq.h"
#include "testutil.h"

#define MAXEV 128

struct got {
	char seq[512];
	size_t n;
	unsigned flags[MAXEV];
	struct ttft_sse_nums nums[MAXEV];
	struct ttft_sse *sse;
};

static void on_event(void *ctx, enum ttft_sse_class c, unsigned flags)
{
	struct got *g = ctx;
	static const char letter[] = {'E', 'T', 'D', 'X'};
	size_t l = strlen(g->seq);
	if (l + 1 < sizeof g->seq) {
		g->seq[l] = letter[c];
		g->seq[l + 1] = 0;
	}
	if (g->n < MAXEV) {
		g->flags[g->n] = flags;
		/* numbers are only meaningful with TTFT_SSE_F_NUMS */
		if (flags & TTFT_SSE_F_NUMS)
			g->nums[g->n] = g->sse->nums;
	}
	g->n++;
}

/* Classify s[0..n) fed in pieces of `step` bytes (0 = all at once). */
static const char *classify_n(const char *s, size_t n, size_t step, int full,
			      struct got *g)
{
	static struct ttft_sse sse;
	memset(g, 0, sizeof *g);
	g->sse = &sse;
	ttft_sse_init(&sse, on_event, NULL, g);
	sse.full = (uint8_t)full;
	if (!step)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		ttft_sse_feed(&sse, s + i, n - i < step ? n - i : step);
	return g->seq;
}

/* A classifier from its start in the shim's mode, reporting to g. */
static void start(struct ttft_sse *sse, struct got *g)
{
	memset(g, 0, sizeof *g);
	g->sse = sse;
	ttft_sse_init(sse, on_event, NULL, g);
}

/* a's template is b's: the same prefix and suffix bytes, checkpoint and
 * prefix's JSON start and type, or none in both. */
static int same_template(const struct ttft_sse *a, const struct ttft_sse *b)
{
	return a->tlen == b->tlen && a->slen == b->slen &&
	       (!b->tlen || (a->tck == b->tck && a->tdata == b->tdata &&
			     a->tmpl_type == b->tmpl_type &&
			     !memcmp(a->tmpl, b->tmpl, (size_t)b->tlen + b->slen)));
}

/* s classified in mode full, st bytes a read (0: whole): its events are
 * seq, and bad[i] says whether event i is flagged malformed. */
static void classify_bad(const char *s, size_t st, int full, const char *seq,
			 const int *bad, struct got *g)
{
	ck_assert_str_eq(classify_n(s, strlen(s), st, full, g), seq);
	for (size_t i = 0; seq[i]; i++)
		ck_assert_msg(!!(g->flags[i] & TTFT_SSE_F_BAD) == bad[i],
			      "full %d step %zu event %zu: flags %x", full, st, i,
			      g->flags[i]);
}

static const char *classify(const char *s, size_t step, struct got *g)
{
	return classify_n(s, strlen(s), step, 0, g);
}

#define CLASS(input, expect)                                                   \
	do {                                                                   \
		struct got g_;                                                 \
		for (size_t st_ = 0; st_ <= 3; st_++)                          \
			ck_assert_str_eq(classify(input, st_, &g_), expect);   \
	} while (0)

/* Two runs saw the same events: classes, flags and numbers. */
static void same_events(const struct got *a, const struct got *b, const char *what)
{
	ck_assert_msg(!strcmp(a->seq, b->seq), "%s: %s vs %s", what, a->seq, b->seq);
	ck_assert_uint_eq(a->n, b->n);
	for (size_t i = 0; i < a->n && i < MAXEV; i++) {
		ck_assert_msg(a->flags[i] == b->flags[i], "%s: event %zu flags %x vs %x",
			      what, i, a->flags[i], b->flags[i]);
		if (a->flags[i] & TTFT_SSE_F_NUMS) {
			ck_assert_uint_eq(a->nums[i].have, b->nums[i].have);
			for (int k = 0; k < TTFT_NUM__COUNT; k++)
				if (a->nums[i].have & (1u << k))
					ck_assert_uint_eq(a->nums[i].v[k], b->nums[i].v[k]);
		}
	}
}

/* Every split point into two reads, and one byte at a time, give what one
 * whole read gives; in both modes. */
static void split_invariant(const char *s, size_t n)
{
	for (int full = 0; full < 2; full++) {
		struct got whole, part;
		classify_n(s, n, 0, full, &whole);
		classify_n(s, n, 1, full, &part);
		same_events(&whole, &part, "bytewise");
		for (size_t i = 1; i < n; i++) {
			static struct ttft_sse sse;
			memset(&part, 0, sizeof part);
			part.sse = &sse;
			ttft_sse_init(&sse, on_event, NULL, &part);
			sse.full = (uint8_t)full;
			ttft_sse_feed(&sse, s, i);
			/* a suffix only with its template (ttft_sse_template_ready
			 * asks for the suffix alone) */
			ck_assert(!sse.slen || sse.tlen);
			ttft_sse_feed(&sse, s + i, n - i);
			char what[32];
			snprintf(what, sizeof what, "split at %zu", i);
			same_events(&whole, &part, what);
		}
	}
}

START_TEST(completions_text_is_token)
{
	CLASS("data: {\"choices\":[{\"index\":0,\"text\":\" Hi\",\"logprobs\":null}]}\n\n",
	      "T");
	CLASS("data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}\n\n",
	      "E");
}
END_TEST

/* A byte-order mark at the stream's start (the SSE standard's decoder
 * drops one there, and only there): the first event is still a token (it
 * was read as an unknown field, its token lost and TTFT taken from the
 * second, looking normal), whole, byte by byte and at every split. Only
 * the whole mark, only at the start, only once. */
START_TEST(byte_order_mark_at_the_stream_start)
{
	const char *plain =
		"data: {\"choices\":[{\"index\":0,\"text\":\" t0\"}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"text\":\" t1\"}]}\n\n"
		"data: [DONE]\n\n";
	char buf[512];
	CLASS(plain, "TTD");
	snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s", plain);
	CLASS(buf, "TTD");
	split_invariant(buf, strlen(buf));
	/* a mark's first bytes alone are the field name's (U+FFFD there) */
	snprintf(buf, sizeof buf, "\xEF\xBB%s", plain);
	CLASS(buf, "TD");
	split_invariant(buf, strlen(buf));
	snprintf(buf, sizeof buf, "\xEF%s", plain);
	CLASS(buf, "TD");
	/* a second mark is not dropped */
	snprintf(buf, sizeof buf, "\xEF\xBB\xBF\xEF\xBB\xBF%s", plain);
	CLASS(buf, "TD");
	/* nor one that is not at the start */
	snprintf(buf, sizeof buf, "data: {\"choices\":[{\"text\":\"a\"}]}\n\n"
		 "\xEF\xBB\xBF%s", plain);
	CLASS(buf, "TTD");
	split_invariant(buf, strlen(buf));
	/* a field that only begins the same way is not data */
	CLASS("\xEF\xBB\xBF" "event: x\n\ndatX: {\"text\":\"a\"}\n\n", "");
	/* a new stream (ttft_sse_reset: a new response) may start with one */
	struct got g;
	static struct ttft_sse sse;
	memset(&g, 0, sizeof g);
	g.sse = &sse;
	ttft_sse_init(&sse, on_event, NULL, &g);
	snprintf(buf, sizeof buf, "\xEF\xBB\xBF%s", plain);
	ttft_sse_feed(&sse, buf, strlen(buf));
	ttft_sse_reset(&sse);
	ttft_sse_feed(&sse, buf, strlen(buf));
	ck_assert_str_eq(g.seq, "TTDTTD");
}
END_TEST

START_TEST(chat_role_chunk_is_not_a_token)
{
	/* vLLM: content ""; llama.cpp: content null. */
	CLASS("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
	      "E");
	CLASS("data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":null}}]}\n\n",
	      "E");
	CLASS("data: {\"choices\":[{\"delta\":{\"content\":\"x\"}}]}\n\n", "T");
}
END_TEST

START_TEST(reasoning_and_tool_calls_are_tokens)
{
	CLASS("data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"hm\"}}]}\n\n", "T");
	CLASS("data: {\"choices\":[{\"delta\":{\"reasoning\":\"hm\"}}]}\n\n", "T");
	CLASS("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
	      "\"function\":{\"arguments\":\"{\\\"a\\\"\"}}]}}]}\n\n", "T");
	CLASS("data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,"
	      "\"function\":{\"arguments\":\"\"}}]}}]}\n\n", "E");
	/* a "name" or "content" elsewhere is not generated text */
	CLASS("data: {\"model\":\"m\",\"name\":\"x\",\"choices\":[{\"logprobs\":"
	      "{\"content\":[{\"token\":\"a\"}]}}]}\n\n", "E");
}
END_TEST

START_TEST(done_error_usage)
{
	CLASS("data: [DONE]\n\n", "D");
	CLASS("data:[DONE]\n\n", "D");
	CLASS("data: [DONE]x\n\n", "E");
	CLASS("data: {\"error\":{\"message\":\"boom\",\"code\":500}}\n\n", "X");
	CLASS("data: {\"object\":\"error\",\"message\":\"boom\"}\n\n", "X");
	CLASS("data: {\"error\":null,\"choices\":[{\"text\":\"a\"}]}\n\n", "T");
	struct got g;
	classify("data: {\"choices\":[],\"usage\":{\"completion_tokens\":3}}\n\n", 0, &g);
	ck_assert_str_eq(g.seq, "E");
	ck_assert_uint_eq(g.flags[0] & TTFT_SSE_F_USAGE, TTFT_SSE_F_USAGE);
}
END_TEST

/* "data: [DONE]" and its blank line, whole in a read at an event's
 * start, is taken at once (not scanned): the same events as the scan's,
 * which a byte at a time and every split into two reads take; and not
 * where the event is another's (an `event: error` line, a data line
 * before it), nor for what only begins like it. */
START_TEST(done_read_whole_is_the_scans_done)
{
	static const char *const s[] = {
		"data: [DONE]\n\n",
		"data: [DONE]\n\ndata: [DONE]\n\n",
		"event: error\ndata: [DONE]\n\n",
		"event: x\ndata: [DONE]\n\n",
		"id: 7\n: ping\ndata: [DONE]\n\n",
		"data: {}\ndata: [DONE]\n\n",
		"data: [DONE]\ndata: [DONE]\n\n",
		"data: [DONE]\n\r\n",
		"data: [DONE]\r\n\r\n",
		"data: [DONE] \n\n",
		"data: [DONE]\n",
		"\xEF\xBB\xBF" "data: [DONE]\n\n",
		"data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: [DONE]\n\n",
		"data: {\"choices\":[{\"text\":\"a\"}]}\n\n\ndata: [DONE]\n\n",
		"data: {\"choices\":[{\"text\":\"a\"}]}\r\n\r\ndata: [DONE]\n\n",
	};
	static const char *const want[] = {
		"D", "DD", "X", "D", "D", "E", "E", "D", "D", "E", "", "D", "TD",
		"TD", "TD",
	};
	for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
		struct got g;
		for (size_t st = 0; st <= 3; st++)
			ck_assert_msg(!strcmp(classify(s[i], st, &g), want[i]),
				      "%zu, step %zu: %s", i, st, g.seq);
		for (size_t k = 0; k < g.n && k < MAXEV; k++)
			ck_assert_msg(!(g.flags[k] & ~(unsigned)TTFT_SSE_F_BAD),
				      "%zu: event %zu flags %x", i, k, g.flags[k]);
		split_invariant(s[i], strlen(s[i]));
	}
}
END_TEST

/* An event the server names "error" (the standard's `event:` field) is an
 * error whatever its data holds: a stream that ended on one looked like a
 * whole answer. Only that exact name (one optional space after the
 * colon), only the event's last `event:` line, and only an event with
 * data (one without is not dispatched); the next event is read afresh,
 * at every split point. */
START_TEST(event_named_error)
{
	const char tok[] = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}]}\n\n";
	char s[1024];
	snprintf(s, sizeof s, "%s%sevent: error\ndata: {\"message\":\"overloaded\"}\n\n%s"
		 "data: [DONE]\n\n", tok, tok, tok);
	CLASS(s, "TTXTD");
	split_invariant(s, strlen(s));
	CLASS("event:error\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n", "X");
	CLASS("event: error\r\ndata: {}\r\n\r\n", "X");
	CLASS("event: errors\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n", "T");
	CLASS("event:  error\ndata: {}\n\n", "E");
	CLASS("event: erro\ndata: {}\n\n", "E");
	CLASS("event: error\nevent: message\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n", "T");
	CLASS("event: message\nevent: error\ndata: {}\n\n", "X");
	CLASS("event: error\n\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n", "T");
	CLASS("data: {\"choices\":[{\"text\":\"a\"}]}\nevent: error\n\n", "X");
	/* "event" with no colon is the field with an empty value: the
	 * default name again (a review's finding) */
	CLASS("event: error\nevent\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n", "T");
	CLASS("event: error\r\nevent\r\ndata: {\"choices\":[{\"text\":\"a\"}]}\r\n\r\n", "T");
	CLASS("event\nevent: error\ndata: {}\n\n", "X");
	/* named error whatever its data holds, [DONE] too */
	CLASS("event: error\ndata: [DONE]\n\n", "X");
	const char *more = "event: error\nevent\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n"
			   "event: error\ndata: [DONE]\n\ndata: [DONE]\n\n";
	CLASS(more, "TXD");
	split_invariant(more, strlen(more));
}
END_TEST

START_TEST(line_endings_comments_multiline)
{
	CLASS("data: {\"choices\":[{\"text\":\"a\"}]}\r\n\r\n"
	      "data: {\"choices\":[{\"text\":\"b\"}]}\r\r"
	      "data: [DONE]\n\n", "TTD");
	CLASS(": ping\n\nevent: message\nid: 7\ndata: {\"choices\":\n"
	      "data: [{\"text\":\"a\"}]}\n\n", "T");
	/* a blank line with no data is no event */
	CLASS("\n\n\n: keep-alive\n\n", "");
	/* "data" with no colon is an empty data line */
	CLASS("data\n\n", "E");
	/* escapes and braces inside strings don't confuse the scanner */
	CLASS("data: {\"choices\":[{\"text\":\"}]{\\\"\\\\\",\"index\":0}]}\n\n", "T");
}
END_TEST

START_TEST(llamacpp_native_content)
{
	CLASS("data: {\"content\":\" hi\",\"stop\":false}\n\n", "T");
	CLASS("data: {\"content\":\"\",\"stop\":true,\"timings\":{}}\n\n", "E");
}
END_TEST

START_TEST(every_split_of_a_chat_stream)
{
	const char *s =
		"data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
		"data: {\"choices\":[{\"delta\":{\"content\":\"A\"}}]}\n\n"
		"data: {\"choices\":[{\"delta\":{\"content\":\"B\"}}]}\r\n\r\n"
		"data: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}\n\n"
		"data: [DONE]\n\n";
	size_t n = strlen(s);
	for (size_t i = 1; i < n; i++) {
		struct ttft_sse sse;
		struct got g = {.sse = &sse};
		ttft_sse_init(&sse, on_event, NULL, &g);
		ttft_sse_feed(&sse, s, i);
		ttft_sse_feed(&sse, s + i, n - i);
		ck_assert_msg(strcmp(g.seq, "ETTED") == 0, "split at %zu: %s", i, g.seq);
	}
}
END_TEST

static void on_data(void *ctx, const char *p, size_t n)
{
	strncat(ctx, p, n);
}

START_TEST(data_bytes_are_passed_on)
{
	char buf[256] = "";
	struct ttft_sse sse;
	ttft_sse_init(&sse, NULL, on_data, buf);
	const char *s = "data: {\"a\":\ndata: 1}\n\n";
	for (size_t i = 0; s[i]; i++)
		ttft_sse_feed(&sse, s + i, 1);
	ck_assert_str_eq(buf, "{\"a\":\n1}");
}
END_TEST

/* An event whose first data line is empty ("data:" or "data") and whose
 * token is on the next: the template kept from it once began at the event
 * before it in the same read (the "data: " line that set where the first
 * data line starts), so a later read holding both again was taken as one
 * token event: the error event before it was never reported (bytewise,
 * which takes no template, reported it). Found by review with a
 * differential generator (the same bytes in one read, two and bytewise). */
START_TEST(an_empty_first_data_line_keeps_no_earlier_event)
{
	const char *forms[] = {
		"data: {\"error\":\"boom\"}\n\ndata:\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n",
		"data: {\"error\":\"boom\"}\n\ndata\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n",
		"data: {\"choices\":[],\"usage\":{\"completion_tokens\":3}}\n\n"
		"data:\ndata: {\"choices\":[{\"text\":\"a\"}]}\n\n",
	};
	const char *want[] = {"XTXT", "XTXT", "ETET"};
	for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
		struct got g;
		static struct ttft_sse sse;
		memset(&g, 0, sizeof g);
		g.sse = &sse;
		ttft_sse_init(&sse, on_event, NULL, &g);
		size_t n = strlen(forms[f]);
		ttft_sse_feed(&sse, forms[f], n);
		ttft_sse_feed(&sse, forms[f], n);
		ck_assert_msg(!strcmp(g.seq, want[f]), "form %zu: %s", f, g.seq);
		char two[512];
		snprintf(two, sizeof two, "%s%s", forms[f], forms[f]);
		split_invariant(two, strlen(two));
	}
}
END_TEST

START_TEST(garbage_never_crashes)
{
	/* Deeply nested, unbalanced, binary: must return, classify something. */
	char buf[4096];
	unsigned x = 12345;
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof buf; i++) {
			x = x * 1103515245u + 12345u;
			buf[i] = (char)(x >> 16);
		}
		struct got g;
		struct ttft_sse sse;
		memset(&g, 0, sizeof g);
		g.sse = &sse;
		ttft_sse_init(&sse, on_event, NULL, &g);
		ttft_sse_feed(&sse, "data: ", 6);
		ttft_sse_feed(&sse, buf, sizeof buf);
	}
	char deep[3000];
	memset(deep, '[', sizeof deep - 1);
	deep[sizeof deep - 1] = 0;
	struct got g;
	classify(deep, 0, &g);
	ck_assert_str_eq(g.seq, "");
}
END_TEST


START_TEST(responses_api_deltas)
{
	/* OpenAI Responses API, type first (OpenAI) and in field order
	 * (vLLM's /v1/responses serialises openai-python's models). */
	CLASS("event: response.created\ndata: {\"type\":\"response.created\",\"response\":"
	      "{\"id\":\"resp_1\",\"status\":\"in_progress\",\"output\":[]},\"sequence_number\":0}\n\n"
	      "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\","
	      "\"item_id\":\"msg_1\",\"output_index\":0,\"content_index\":0,\"delta\":\"Hi\","
	      "\"sequence_number\":4}\n\n"
	      "event: response.output_text.delta\ndata: {\"content_index\":0,\"delta\":\" there\","
	      "\"item_id\":\"msg_1\",\"logprobs\":[],\"output_index\":0,\"sequence_number\":5,"
	      "\"type\":\"response.output_text.delta\"}\n\n"
	      "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\","
	      "\"delta\":\"\",\"sequence_number\":6}\n\n"
	      "event: response.function_call_arguments.delta\ndata: {\"type\":"
	      "\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":1,"
	      "\"delta\":\"{\\\"city\\\"\"}\n\n"
	      "event: response.output_text.done\ndata: {\"type\":\"response.output_text.done\","
	      "\"text\":\"Hi there\",\"sequence_number\":7}\n\n"
	      "event: response.content_part.added\ndata: {\"type\":\"response.content_part.added\","
	      "\"part\":{\"type\":\"output_text\",\"text\":\"\"}}\n\n",
	      "ETTETEE");
	/* errors: an error event and a failed response */
	CLASS("event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":"
	      "\"boom\",\"param\":null,\"sequence_number\":3}\n\n"
	      "data: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\","
	      "\"error\":{\"code\":\"server_error\",\"message\":\"x\"}}}\n\n"
	      "data: {\"type\":\"response.in_progress\"}\n\n", "XXE");
	/* the final event's usage: input/output tokens, cached input */
	const char *done = "event: response.completed\ndata: {\"type\":\"response.completed\","
		"\"response\":{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[{\"type\":"
		"\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi there\"}]}],"
		"\"usage\":{\"input_tokens\":36,\"input_tokens_details\":{\"cached_tokens\":32},"
		"\"output_tokens\":87,\"output_tokens_details\":{\"reasoning_tokens\":0},"
		"\"total_tokens\":123}},\"sequence_number\":9}\n\n";
	struct got g;
	for (size_t st = 0; st <= 3; st++) {
		ck_assert_str_eq(classify(done, st, &g), "E");
		ck_assert_uint_eq(g.flags[0] & TTFT_SSE_F_NUMS, TTFT_SSE_F_NUMS);
		ck_assert_uint_eq(g.nums[0].have, 7);
		ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 36);
		ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_COMPLETION_TOKENS], 87);
		ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_CACHED_TOKENS], 32);
	}
	split_invariant(done, strlen(done));
}
END_TEST

START_TEST(anthropic_messages)
{
	const char *s =
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":"
		"\"claude\",\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,"
		"\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
		"event: ping\ndata: {\"type\": \"ping\"}\n\n"
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
		"\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
		"\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"loc\"}}\n\n"
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,"
		"\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\n\n"
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,"
		"\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Let me\"}}\n\n"
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,"
		"\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQB\"}}\n\n"
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":3,"
		"\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"weather\","
		"\"input\":{}}}\n\n"
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		"\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}\n\n"
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"
		"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
		"\"message\":\"Overloaded\"}}\n\n";
	CLASS(s, "EEETTETEEEEEX");
	struct got g;
	classify(s, 0, &g);
	/* message_start's message.usage.input_tokens: the prompt (no cache
	 * part said); message_delta's output_tokens are the completion */
	ck_assert_uint_eq(g.flags[0] & TTFT_SSE_F_NUMS, TTFT_SSE_F_NUMS);
	ck_assert_uint_eq(g.nums[0].have, 1u << TTFT_NUM_PROMPT_TOKENS);
	ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 25);
	ck_assert_uint_eq(g.nums[10].have, 1u << TTFT_NUM_COMPLETION_TOKENS);
	ck_assert_uint_eq(g.nums[10].v[TTFT_NUM_COMPLETION_TOKENS], 15);
	split_invariant(s, strlen(s));
}
END_TEST

/* Anthropic's input_tokens are what no cache held: the prompt is their sum
 * with cache_creation_input_tokens and cache_read_input_tokens, the last
 * also its cached tokens (in either order, at every split); a part that is
 * no whole count leaves the prompt out, never a short sum. */
START_TEST(anthropic_prompt_with_cache)
{
	const char *s =
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"msg_1\",\"model\":\"claude\",\"usage\":{\"input_tokens\":3,"
		"\"cache_creation_input_tokens\":40,\"cache_read_input_tokens\":1200,"
		"\"output_tokens\":1}}}\n\n"
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{"
		"\"usage\":{\"cache_read_input_tokens\":7,\"input_tokens\":5}}}\n\n"
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{"
		"\"usage\":{\"input_tokens\":5,\"cache_read_input_tokens\":7.5,"
		"\"cache_creation_input_tokens\":2}}}\n\n"
		"data: {\"message\":{\"usage\":{\"input_tokens\":9}},\"usage\":"
		"{\"input_tokens\":4}}\n\n";
	for (size_t st = 0; st <= 3; st++) {
		struct got g;
		ck_assert_str_eq(classify(s, st, &g), "EEEE");
		const struct ttft_sse_nums *m = &g.nums[0];
		ck_assert_uint_eq(m->have, 1u << TTFT_NUM_PROMPT_TOKENS |
					   1u << TTFT_NUM_CACHED_TOKENS);
		ck_assert_uint_eq(m->v[TTFT_NUM_PROMPT_TOKENS], 1243);
		ck_assert_uint_eq(m->v[TTFT_NUM_CACHED_TOKENS], 1200);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_PROMPT_TOKENS], 12);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_CACHED_TOKENS], 7);
		ck_assert_uint_eq(g.flags[2] & TTFT_SSE_F_NUMS, 0);
		/* message.usage's and a top-level usage's parts in one event:
		 * neither is the prompt's count */
		ck_assert_uint_eq(g.nums[3].have, TTFT_NUM_F_PROMPT_UNKNOWN);
	}
	split_invariant(s, strlen(s));
}
END_TEST

/* message_delta's usage is cumulative, and may say the prompt's parts anew
 * (Anthropic's API does with server tools, and now on every stream; the
 * SDKs take each part it says over message_start's): where it says all
 * three, in any order, their sum is the prompt's count, which replaces
 * message_start's (here 1672, not 1243); where it says only output_tokens,
 * the prompt is message_start's (no prompt in the event); where it says
 * only some parts, each replaces the part so far (10 + 40 + 1200); where
 * it says a part that is no whole count, or a prompt count of another form
 * beside them, the prompt is not known (the flag, never a count that is
 * short or stale). At every split point. */
START_TEST(anthropic_delta_usage_is_the_final_prompt)
{
	const char *s =
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"msg_1\",\"usage\":{\"input_tokens\":3,\"cache_creation_input_tokens\":40,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		"\"end_turn\"},\"usage\":{\"input_tokens\":432,\"cache_creation_input_tokens\":40,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":47}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"output_tokens\":15}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"input_tokens\":10,\"output_tokens\":5}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"cache_read_input_tokens\":7,\"output_tokens\":2,"
		"\"cache_creation_input_tokens\":1,\"input_tokens\":5}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"input_tokens\":5,\"cache_creation_input_tokens\":1,"
		"\"cache_read_input_tokens\":7.5,\"output_tokens\":2}}\n\n"
		"data: {\"usage\":{\"prompt_tokens\":9,\"input_tokens\":5,"
		"\"cache_creation_input_tokens\":1,\"cache_read_input_tokens\":7}}\n\n"
		"data: {\"usage\":{\"input_tokens\":5,\"cache_creation_input_tokens\":1,"
		"\"cache_read_input_tokens\":7,\"prompt_tokens\":9}}\n\n";
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS, U = TTFT_NUM_F_PROMPT_UNKNOWN;
	for (size_t st = 0; st <= 3; st++) {
		struct got g;
		ck_assert_str_eq(classify(s, st, &g), "EEEEEEEE");
		for (int i = 0; i < 8; i++)
			ck_assert_uint_eq(g.flags[i] & TTFT_SSE_F_NUMS, TTFT_SSE_F_NUMS);
		ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 1243);
		ck_assert_uint_eq(g.nums[1].have, P | C | O);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_PROMPT_TOKENS], 1672);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_CACHED_TOKENS], 1200);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_COMPLETION_TOKENS], 47);
		ck_assert_uint_eq(g.nums[2].have, O);
		ck_assert_uint_eq(g.nums[3].have, P | C | O);
		ck_assert_uint_eq(g.nums[3].v[TTFT_NUM_PROMPT_TOKENS], 1250);
		ck_assert_uint_eq(g.nums[3].v[TTFT_NUM_CACHED_TOKENS], 1200);
		ck_assert_uint_eq(g.nums[4].have, P | C | O);
		ck_assert_uint_eq(g.nums[4].v[TTFT_NUM_PROMPT_TOKENS], 13);
		ck_assert_uint_eq(g.nums[4].v[TTFT_NUM_CACHED_TOKENS], 7);
		ck_assert_uint_eq(g.nums[5].have & (P | U), U);
		ck_assert_uint_eq(g.nums[6].have & (P | U), U);
		ck_assert_uint_eq(g.nums[7].have & (P | U), U);
	}
	split_invariant(s, strlen(s));
}
END_TEST

/* A message_delta whose prompt parts are all 0 is no count: SGLang's
 * Anthropic endpoint sends "input_tokens":0 there, gateways all three at 0
 * (Envoy AI Gateway fixed its reading of it: "input token overwritten by
 * message delta"). e1096f2 took all three 0 as a final prompt of 0 tokens
 * and cached 0 (over message_start's 25 and 1200: a wrong count given as
 * the server's), and a lone 0 as a prompt not known; neither event says
 * a prompt: message_start's stands. A 0 beside a part that is not 0 is a
 * count (all of a prompt cached). */
START_TEST(anthropic_zero_delta_usage_is_no_count)
{
	const char *s =
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":1200,"
		"\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"input_tokens\":0,\"output_tokens\":15}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"input_tokens\":0,\"cache_creation_input_tokens\":0,"
		"\"cache_read_input_tokens\":0,\"output_tokens\":16}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"input_tokens\":0,\"cache_creation_input_tokens\":0,"
		"\"cache_read_input_tokens\":1225,\"output_tokens\":17}}\n\n";
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS;
	for (size_t st = 0; st <= 3; st++) {
		struct got g;
		ck_assert_str_eq(classify(s, st, &g), "EEEE");
		ck_assert_uint_eq(g.nums[0].have, P | C);
		ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 1225);
		ck_assert_uint_eq(g.nums[1].have, O);
		ck_assert_uint_eq(g.nums[2].have, O);
		ck_assert_uint_eq(g.nums[2].v[TTFT_NUM_COMPLETION_TOKENS], 16);
		ck_assert_uint_eq(g.nums[3].have, P | C | O);
		ck_assert_uint_eq(g.nums[3].v[TTFT_NUM_PROMPT_TOKENS], 1225);
		ck_assert_uint_eq(g.nums[3].v[TTFT_NUM_CACHED_TOKENS], 1225);
	}
	split_invariant(s, strlen(s));
}
END_TEST

/* A message_start whose prompt parts are all 0 (SGLang's older Anthropic
 * endpoint, gateways that fill usage in): no prompt is 0 tokens, so the
 * event gives no prompt count (null in the row), not 0 as the server's;
 * a 0 beside a part that is not 0 is a count (a prompt all cached). */
START_TEST(anthropic_zero_start_usage_is_no_count)
{
	const char *s =
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":0,\"output_tokens\":0}}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":"
		"{\"output_tokens\":54}}\n\n"
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":0,\"cache_creation_input_tokens\":0,"
		"\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n"
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":0,\"cache_creation_input_tokens\":0,"
		"\"cache_read_input_tokens\":31,\"output_tokens\":1}}}\n\n";
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS;
	for (size_t st = 0; st <= 3; st++) {
		struct got g;
		ck_assert_str_eq(classify(s, st, &g), "EEEE");
		ck_assert_uint_eq(g.nums[0].have & (P | C), 0);
		ck_assert_uint_eq(g.nums[1].have, O);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_COMPLETION_TOKENS], 54);
		ck_assert_uint_eq(g.nums[2].have & (P | C), 0);
		ck_assert_uint_eq(g.nums[3].have & (P | C), P | C);
		ck_assert_uint_eq(g.nums[3].v[TTFT_NUM_PROMPT_TOKENS], 31);
		ck_assert_uint_eq(g.nums[3].v[TTFT_NUM_CACHED_TOKENS], 31);
	}
	split_invariant(s, strlen(s));
}
END_TEST

/* A null count is a count not said, as Anthropic's SDKs read it:
 * Anthropic's message_delta carries "input_tokens":null and null cache
 * parts (the API's own streams), which left the row's prompt null where
 * message_start's count stands; a null cache part in message_start is no
 * part; a null beside a part said anew still leaves the prompt unknown;
 * llama.cpp's timings given as null are left out, never 0 us. */
START_TEST(anthropic_null_usage_parts_are_not_said)
{
	const char *s =
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":25,\"cache_read_input_tokens\":1200,"
		"\"cache_creation_input_tokens\":0,\"output_tokens\":1}}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
		"\"end_turn\"},\"usage\":{\"input_tokens\":null,\"output_tokens\":4,"
		"\"cache_read_input_tokens\":null,\"cache_creation_input_tokens\":null}}\n\n"
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":13,\"output_tokens\":0,"
		"\"cache_creation_input_tokens\":null,\"cache_read_input_tokens\":null}}}\n\n"
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{\"input_tokens\":"
		"null,\"cache_read_input_tokens\":25186,\"cache_creation_input_tokens\":null,"
		"\"output_tokens\":101}}\n\n"
		"data: {\"timings\":{\"prompt_n\":3,\"prompt_ms\":null,\"predicted_ms\":null}}\n\n";
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS;
	for (size_t st = 0; st <= 3; st++) {
		struct got g;
		ck_assert_str_eq(classify(s, st, &g), "EEEEE");
		ck_assert_uint_eq(g.nums[0].have, P | C);
		ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 1225);
		ck_assert_uint_eq(g.nums[1].have, O); /* says no prompt: 1225 stands */
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_COMPLETION_TOKENS], 4);
		ck_assert_uint_eq(g.nums[2].have, P);
		ck_assert_uint_eq(g.nums[2].v[TTFT_NUM_PROMPT_TOKENS], 13);
		ck_assert_uint_eq(g.nums[3].have & (P | TTFT_NUM_F_PROMPT_UNKNOWN),
				  TTFT_NUM_F_PROMPT_UNKNOWN);
		ck_assert_uint_eq(g.nums[4].have, 1u << TTFT_NUM_PROMPT_N);
	}
	split_invariant(s, strlen(s));
}
END_TEST

/* A message_delta that says some of the prompt's parts and leaves the
 * others null or out (the API's: "input_tokens":null,
 * "cache_creation_input_tokens":null, "cache_read_input_tokens":25186):
 * Anthropic's SDKs combine per part, each part said replacing the one so
 * far (message_start's, or an earlier message_delta's), the others kept.
 * The prompt is the sum of the parts so combined where each is known, its
 * cache read the cached tokens (the prompt was null: 0x40000000, its count
 * not known); null where a part is known from neither (message_start gave
 * it null, or gave no prompt: all 0; a part that is no whole count
 * forgets them); parts said all 0 change nothing; a new response (reset)
 * starts with none. At every split, one byte at a time and an event a
 * read. */
static void per_event_vs_bytes(const char *s, size_t n);

START_TEST(anthropic_delta_parts_combine_with_the_start)
{
	static const char start[] =
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":3,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}\n\n";
#define DELTA(u) "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{" u "}}\n\n"
	const char *s =
		/* 0: message_start, 1: the API's own mixed delta, 2: a part
		 * left out rather than null, 3: parts all 0 (nothing), 4: the
		 * input said over an earlier delta's read, 5: a part no whole
		 * count (forgets them), 6: then a mixed one: not known */
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":"
		"\"m\",\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":3,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}\n\n"
		DELTA("\"input_tokens\":null,\"cache_creation_input_tokens\":null,"
		      "\"cache_read_input_tokens\":25186,\"output_tokens\":12")
		DELTA("\"cache_read_input_tokens\":500,\"output_tokens\":13")
		DELTA("\"input_tokens\":0,\"cache_creation_input_tokens\":null,\"output_tokens\":14")
		DELTA("\"output_tokens\":15,\"input_tokens\":7")
		DELTA("\"input_tokens\":7.5,\"output_tokens\":16")
		DELTA("\"cache_read_input_tokens\":9,\"output_tokens\":17")
		/* 7: message_start with a part null, 8: a delta that leaves
		 * that part out too: not known; 9: one that says it: known */
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{"
		"\"usage\":{\"input_tokens\":13,\"cache_creation_input_tokens\":null,"
		"\"cache_read_input_tokens\":40,\"output_tokens\":0}}}\n\n"
		DELTA("\"input_tokens\":null,\"cache_read_input_tokens\":41,\"output_tokens\":3")
		DELTA("\"cache_creation_input_tokens\":2,\"output_tokens\":4")
		/* 10: message_start's parts all 0 (no count), 11: a mixed
		 * delta after it: not known */
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{"
		"\"usage\":{\"input_tokens\":0,\"cache_creation_input_tokens\":0,"
		"\"cache_read_input_tokens\":0,\"output_tokens\":0}}}\n\n"
		DELTA("\"input_tokens\":5,\"cache_read_input_tokens\":null,\"output_tokens\":6");
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS, U = TTFT_NUM_F_PROMPT_UNKNOWN;
	for (size_t st = 0; st <= 3; st++) {
		struct got g;
		ck_assert_str_eq(classify(s, st, &g), "EEEEEEEEEEEE");
		ck_assert_uint_eq(g.nums[0].have, P | C);
		ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 1228);
		ck_assert_uint_eq(g.nums[1].have, P | C | O);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_PROMPT_TOKENS], 25 + 3 + 25186);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_CACHED_TOKENS], 25186);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_COMPLETION_TOKENS], 12);
		ck_assert_uint_eq(g.nums[2].have, P | C | O);
		ck_assert_uint_eq(g.nums[2].v[TTFT_NUM_PROMPT_TOKENS], 25 + 3 + 500);
		ck_assert_uint_eq(g.nums[2].v[TTFT_NUM_CACHED_TOKENS], 500);
		ck_assert_uint_eq(g.nums[3].have, O);
		ck_assert_uint_eq(g.nums[4].have, P | C | O);
		ck_assert_uint_eq(g.nums[4].v[TTFT_NUM_PROMPT_TOKENS], 7 + 3 + 500);
		ck_assert_uint_eq(g.nums[4].v[TTFT_NUM_CACHED_TOKENS], 500);
		ck_assert_uint_eq(g.nums[5].have & (P | U), U);
		ck_assert_uint_eq(g.nums[6].have & (P | U), U);
		ck_assert_uint_eq(g.nums[7].have, P | C);
		ck_assert_uint_eq(g.nums[7].v[TTFT_NUM_PROMPT_TOKENS], 53);
		ck_assert_uint_eq(g.nums[8].have & (P | U), U);
		ck_assert_uint_eq(g.nums[9].have, P | C | O);
		ck_assert_uint_eq(g.nums[9].v[TTFT_NUM_PROMPT_TOKENS], 13 + 2 + 41);
		ck_assert_uint_eq(g.nums[9].v[TTFT_NUM_CACHED_TOKENS], 41);
		ck_assert_uint_eq(g.nums[10].have & (P | C), 0);
		ck_assert_uint_eq(g.nums[11].have & (P | U), U);
	}
	split_invariant(s, strlen(s));
	per_event_vs_bytes(s, strlen(s));
	/* a new response (ttft_sse_reset: its headers) knows no part of the
	 * last one's prompt: its mixed delta's prompt is not known */
	struct got g;
	static struct ttft_sse sse;
	memset(&g, 0, sizeof g);
	g.sse = &sse;
	ttft_sse_init(&sse, on_event, NULL, &g);
	ttft_sse_feed(&sse, start, strlen(start));
	ttft_sse_reset(&sse);
	const char *d = DELTA("\"input_tokens\":null,\"cache_read_input_tokens\":7,"
			      "\"output_tokens\":2");
	ttft_sse_feed(&sse, d, strlen(d));
	ck_assert_uint_eq(g.n, 2);
	ck_assert_uint_eq(g.nums[1].have & (P | U), U);
#undef DELTA
}
END_TEST

/* A malformed event's prompt parts are no parts: those read before its
 * malformation may be short of what it said (a part cut off: 25 + 3 where
 * it said 1228), and what it said anew is not known. A malformed
 * message_start gives no prompt and leaves no part to combine with: a
 * message_delta after it is known only where it says all three parts
 * itself (its cumulative counts: exact), and those combine as before; a
 * malformed message_delta that said parts makes the prompt not known
 * (0x40000000: an earlier count is stale) and forgets the parts, as a part
 * that is no whole count does. The code before took the malformed
 * message_start's parts into its own count and a later delta's sum
 * (25 + 3 + 25186), and a malformed delta's part into the sums after it.
 * In both modes (the probe reads every event in full), at every split. */
START_TEST(anthropic_malformed_events_give_no_parts)
{
#define START(u) "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{" \
		 "\"id\":\"m\",\"usage\":{" u "}}}\n\n"
#define DELTA(u) "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{" u "}}\n\n"
	const char *s =
		/* 0: cut after two parts (",,"), 1: the API's mixed delta:
		 * not known */
		START("\"input_tokens\":25,\"cache_creation_input_tokens\":3,,"
		      "\"cache_read_input_tokens\":1200,\"output_tokens\":1")
		DELTA("\"input_tokens\":null,\"cache_creation_input_tokens\":null,"
		      "\"cache_read_input_tokens\":25186,\"output_tokens\":12")
		/* 2: all three read, then a stray '}'; 3: a delta without
		 * parts: no prompt; 4: one with all three: their sum; 5: one
		 * part said over 4's */
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{"
		"\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":3,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}}\n\n"
		DELTA("\"output_tokens\":15")
		DELTA("\"input_tokens\":7,\"cache_creation_input_tokens\":1,"
		      "\"cache_read_input_tokens\":40,\"output_tokens\":16")
		DELTA("\"cache_read_input_tokens\":500,\"output_tokens\":17")
		/* 6: a malformed delta with a part: not known; 7: a part after
		 * it: not known either */
		DELTA("\"input_tokens\":9,,\"output_tokens\":18")
		DELTA("\"cache_read_input_tokens\":600,\"output_tokens\":19");
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS, U = TTFT_NUM_F_PROMPT_UNKNOWN;
	static const int bad[] = {1, 0, 1, 0, 0, 0, 1, 0};
	for (int full = 0; full < 2; full++)
		for (size_t st = 0; st <= 3; st++) {
			struct got g;
			classify_bad(s, st, full, "EEEEEEEE", bad, &g);
			ck_assert_msg(!(g.flags[0] & TTFT_SSE_F_NUMS) ||
				      !(g.nums[0].have & (P | C)),
				      "a malformed message_start's count: %u",
				      g.nums[0].v[TTFT_NUM_PROMPT_TOKENS]);
			ck_assert_msg((g.nums[1].have & (P | U)) == U,
				      "a malformed message_start's parts summed: %u",
				      g.nums[1].v[TTFT_NUM_PROMPT_TOKENS]);
			ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_COMPLETION_TOKENS], 12);
			ck_assert(!(g.flags[2] & TTFT_SSE_F_NUMS) ||
				  !(g.nums[2].have & (P | C)));
			ck_assert_uint_eq(g.nums[3].have, O);
			ck_assert_uint_eq(g.nums[4].have, P | C | O);
			ck_assert_uint_eq(g.nums[4].v[TTFT_NUM_PROMPT_TOKENS], 7 + 1 + 40);
			ck_assert_uint_eq(g.nums[4].v[TTFT_NUM_CACHED_TOKENS], 40);
			ck_assert_uint_eq(g.nums[5].have, P | C | O);
			ck_assert_uint_eq(g.nums[5].v[TTFT_NUM_PROMPT_TOKENS], 7 + 1 + 500);
			ck_assert_msg((g.nums[6].have & (P | C | U)) == U,
				      "a malformed delta's part taken: have %x, prompt %u",
				      g.nums[6].have, g.nums[6].v[TTFT_NUM_PROMPT_TOKENS]);
			ck_assert_msg((g.nums[7].have & (P | U)) == U,
				      "a malformed delta's part summed: %u",
				      g.nums[7].v[TTFT_NUM_PROMPT_TOKENS]);
		}
	split_invariant(s, strlen(s));
	per_event_vs_bytes(s, strlen(s));
#undef START
#undef DELTA
}
END_TEST

/* A malformed event's numbers are not taken, in either mode: those read
 * before its fault may be short of, or other than, what it said (a count
 * cut off, a key of another member read as ours). Only its word that the
 * prompt's count so far is stale holds (0x40000000). The code before
 * passed them on in the shim's log (a vLLM usage chunk's 5 + 3, llama.cpp's
 * timings, an Anthropic delta's output_tokens said before its fault), so
 * ttft-analyze's row took what the probe's row, which drops them, did not.
 * At every split, an event a read. */
START_TEST(a_malformed_events_numbers_are_not_taken)
{
#define DELTA(u) "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{" u "}}\n\n"
	const char *s =
		/* 0: vLLM's usage chunk, a fault after its counts; 1: the
		 * same well-formed */
		"data: {\"id\":\"c\",\"object\":\"text_completion\",\"choices\":[],"
		"\"usage\":{\"prompt_tokens\":5,\"total_tokens\":8,\"completion_tokens\":3,,"
		"\"x\":1}}\n\n"
		"data: {\"id\":\"c\",\"object\":\"text_completion\",\"choices\":[],"
		"\"usage\":{\"prompt_tokens\":5,\"total_tokens\":8,\"completion_tokens\":3}}\n\n"
		/* 2: llama.cpp's last event, a fault after its timings */
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],"
		"\"timings\":{\"cache_n\":4,\"prompt_n\":6,\"prompt_ms\":12.5,"
		"\"predicted_n\":3,\"predicted_ms\":30.25,,\"x\":1}}\n\n"
		/* 3: Anthropic's message_start (1228, its output_tokens not
		 * the count); 4: a delta that says
		 * its output, then faults: not known; 5: the same
		 * well-formed: its output, no prompt */
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{"
		"\"id\":\"m\",\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":3,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}\n\n"
		DELTA("\"output_tokens\":40,,\"input_tokens\":9")
		DELTA("\"output_tokens\":41");
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS, U = TTFT_NUM_F_PROMPT_UNKNOWN;
	static const int bad[] = {1, 0, 1, 0, 1, 0};
	for (int full = 0; full < 2; full++)
		for (size_t st = 0; st <= 3; st++) {
			struct got g;
			classify_bad(s, st, full, "EEEEEE", bad, &g);
			for (int i = 0; i <= 2; i += 2)
				ck_assert_msg(!(g.flags[i] & TTFT_SSE_F_NUMS),
					      "full %d step %zu: malformed event %d's numbers "
					      "taken: have %x", full, st, i, g.nums[i].have);
			ck_assert_uint_eq(g.nums[1].have, P | O);
			ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_PROMPT_TOKENS], 5);
			ck_assert_uint_eq(g.nums[3].have, P | C);
			ck_assert_uint_eq(g.nums[3].v[TTFT_NUM_PROMPT_TOKENS], 1228);
			ck_assert_msg((g.flags[4] & TTFT_SSE_F_NUMS) && g.nums[4].have == U,
				      "full %d step %zu: a malformed delta: flags %x have %x "
				      "(output %u)", full, st, g.flags[4], g.nums[4].have,
				      g.nums[4].v[TTFT_NUM_COMPLETION_TOKENS]);
			ck_assert_uint_eq(g.nums[5].have, O);
			ck_assert_uint_eq(g.nums[5].v[TTFT_NUM_COMPLETION_TOKENS], 41);
		}
	split_invariant(s, strlen(s));
	per_event_vs_bytes(s, strlen(s));
#undef DELTA
}
END_TEST

/* A malformed event that may be a message_delta but whose fault came
 * before any part of it was read (its type "message_delta", or no type
 * read before the fault) makes message_start's count stale: what it said
 * after the fault may be the prompt's parts anew (cumulative; with server
 * tools the final prompt differs from message_start's). Its prompt is
 * not known (0x40000000) and no part is known after it, as for a
 * malformed delta that said a part; a later delta is known only where it
 * says all three. A malformed event of another type (a ping, a
 * content_block_delta without a token, read in the shim's mode from the
 * token template's prefix, where its type is not read again) leaves the
 * count and its parts as they were. The code before kept message_start's
 * 1228 through such a delta and summed its parts with a later delta's
 * (25 + 3 + 600). In both modes, at every split, an event a read. */
START_TEST(anthropic_malformed_delta_before_its_parts_makes_the_count_stale)
{
#define DELTA(u) "event: message_delta\ndata: {\"type\":\"message_delta\",\"usage\":{" u "}}\n\n"
#define CBD(d) "event: content_block_delta\ndata: {\"type\":\"content_block_delta\"," \
	       "\"index\":0,\"delta\":{\"type\":\"text_delta\"" d "}}\n\n"
	const char *s =
		/* 0: message_start (1228); 1, 2: tokens (the template); 3: a
		 * content_block_delta without a token and a stray '}'; 4: a
		 * ping with one: neither touches the count; 5: a part over
		 * message_start's: 25 + 3 + 500 */
		"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{"
		"\"id\":\"m\",\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":3,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":1}}}\n\n"
		CBD(",\"text\":\"Hi\"") CBD(",\"text\":\" there\"")
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
		"\"index\":0,\"delta\":{\"type\":\"text_delta\"}}}\n\n"
		"event: ping\ndata: {\"type\":\"ping\"}}\n\n"
		DELTA("\"cache_read_input_tokens\":500,\"output_tokens\":12")
		/* 6: a delta malformed before its parts: not known; 7: one
		 * part after it: not known either; 8: all three: 7 + 1 + 40 */
		"event: message_delta\ndata: {\"type\":\"message_delta\",,\"usage\":{"
		"\"input_tokens\":30000,\"cache_creation_input_tokens\":3,"
		"\"cache_read_input_tokens\":1200,\"output_tokens\":13}}\n\n"
		DELTA("\"cache_read_input_tokens\":600,\"output_tokens\":14")
		DELTA("\"input_tokens\":7,\"cache_creation_input_tokens\":1,"
		      "\"cache_read_input_tokens\":40,\"output_tokens\":15")
		/* 9: malformed before its type was read: not known; 10: no
		 * parts: nothing said */
		"event: message_delta\ndata: {,\"type\":\"message_delta\",\"usage\":{"
		"\"input_tokens\":30000}}\n\n"
		DELTA("\"output_tokens\":16");
	const unsigned P = 1u << TTFT_NUM_PROMPT_TOKENS, C = 1u << TTFT_NUM_CACHED_TOKENS,
		       O = 1u << TTFT_NUM_COMPLETION_TOKENS, U = TTFT_NUM_F_PROMPT_UNKNOWN;
	for (int full = 0; full < 2; full++)
		for (size_t st = 0; st <= 3; st++) {
			struct got g;
			static const int bad[] = {0, 0, 0, 1, 1, 0, 1, 0, 0, 1, 0};
			classify_bad(s, st, full, "ETTEEEEEEEE", bad, &g);
			ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 1228);
			for (int i = 3; i <= 4; i++)
				ck_assert_msg(!(g.flags[i] & TTFT_SSE_F_NUMS),
					      "full %d step %zu: another type's malformed event %d: "
					      "have %x", full, st, i, g.nums[i].have);
			ck_assert_uint_eq(g.nums[5].have, P | C | O);
			ck_assert_uint_eq(g.nums[5].v[TTFT_NUM_PROMPT_TOKENS], 25 + 3 + 500);
			ck_assert_msg((g.flags[6] & TTFT_SSE_F_NUMS) &&
				      (g.nums[6].have & (P | C | U)) == U,
				      "full %d step %zu: a delta malformed before its parts left "
				      "the count: flags %x have %x", full, st, g.flags[6],
				      g.nums[6].have);
			ck_assert_msg((g.nums[7].have & (P | U)) == U,
				      "full %d step %zu: a part after it summed: %u", full, st,
				      g.nums[7].v[TTFT_NUM_PROMPT_TOKENS]);
			ck_assert_uint_eq(g.nums[8].have, P | C | O);
			ck_assert_uint_eq(g.nums[8].v[TTFT_NUM_PROMPT_TOKENS], 7 + 1 + 40);
			ck_assert_msg((g.flags[9] & TTFT_SSE_F_NUMS) &&
				      (g.nums[9].have & (P | C | U)) == U,
				      "full %d step %zu: malformed before its type: flags %x have %x",
				      full, st, g.flags[9], g.nums[9].have);
			ck_assert_uint_eq(g.nums[10].have, O);
		}
	split_invariant(s, strlen(s));
	per_event_vs_bytes(s, strlen(s));
#undef DELTA
#undef CBD
}
END_TEST

/* llama.cpp's last chunk, as captured from a real server. */
static const char llama_last[] =
	"data: {\"choices\":[{\"text\":\"\",\"index\":0,\"logprobs\":null,\"finish_reason\":"
	"\"length\"}],\"created\":1795890142,\"model\":\"tiny.gguf\",\"system_fingerprint\":"
	"\"b1-80fb11a\",\"object\":\"text_completion\",\"usage\":{\"completion_tokens\":8,"
	"\"prompt_tokens\":8,\"total_tokens\":16,\"prompt_tokens_details\":{\"cached_tokens\":7}},"
	"\"id\":\"chatcmpl-gPzNfnnJ0CFH5jRG7e1kgpyshobxv9ao\",\"timings\":{\"cache_n\":7,"
	"\"prompt_n\":1,\"prompt_ms\":8.424,\"prompt_per_token_ms\":8.424,\"prompt_per_second\":"
	"118.70845204178538,\"predicted_n\":8,\"predicted_ms\":47.862,\"predicted_per_token_ms\":"
	"6.837428571428572,\"predicted_per_second\":146.2538130458401}}\n\n";

START_TEST(llamacpp_timings_and_usage)
{
	struct got g;
	for (size_t st = 0; st <= 3; st++) {
		ck_assert_str_eq(classify(llama_last, st, &g), "E");
		ck_assert_uint_eq(g.flags[0] & (TTFT_SSE_F_NUMS | TTFT_SSE_F_USAGE),
				  TTFT_SSE_F_NUMS | TTFT_SSE_F_USAGE);
		const struct ttft_sse_nums *m = &g.nums[0];
		ck_assert_uint_eq(m->have, 0xff);
		ck_assert_uint_eq(m->v[TTFT_NUM_PROMPT_TOKENS], 8);
		ck_assert_uint_eq(m->v[TTFT_NUM_COMPLETION_TOKENS], 8);
		ck_assert_uint_eq(m->v[TTFT_NUM_CACHED_TOKENS], 7);
		ck_assert_uint_eq(m->v[TTFT_NUM_PROMPT_N], 1);
		ck_assert_uint_eq(m->v[TTFT_NUM_PROMPT_US], 8424);
		ck_assert_uint_eq(m->v[TTFT_NUM_CACHE_N], 7);
		ck_assert_uint_eq(m->v[TTFT_NUM_PREDICTED_N], 8);
		ck_assert_uint_eq(m->v[TTFT_NUM_PREDICTED_US], 47862);
	}
	split_invariant(llama_last, sizeof llama_last - 1);
	/* vLLM's usage chunk */
	classify("data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,"
		 "\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
		 "\"total_tokens\":28,\"completion_tokens\":16,\"prompt_tokens_details\":null}}\n\n",
		 0, &g);
	ck_assert_uint_eq(g.nums[0].have, 3);
	ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_TOKENS], 12);
	ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_COMPLETION_TOKENS], 16);
}
END_TEST

START_TEST(numbers_are_exact_or_absent)
{
	static const struct {
		const char *ev;
		unsigned have;    /* of prompt_n (bit 3) and prompt time (bit 4) */
		uint32_t n, us;
	} cases[] = {
		{"{\"timings\":{\"prompt_n\":5,\"prompt_ms\":12}}", 0x18, 5, 12000},
		{"{\"timings\":{\"prompt_n\":5,\"prompt_ms\":0.5}}", 0x18, 5, 500},
		{"{\"timings\":{\"prompt_n\":5,\"prompt_ms\":8.4249}}", 0x18, 5, 8424},
		{"{\"timings\":{\"prompt_n\":5, \"prompt_ms\" : 3.25 }}", 0x18, 5, 3250},
		{"{\"timings\":{\"prompt_n\":5,\"prompt_ms\":1e-3}}", 0x08, 5, 0},
		{"{\"timings\":{\"prompt_n\":-1,\"prompt_ms\":-2.5}}", 0, 0, 0},
		{"{\"timings\":{\"prompt_n\":3.0,\"prompt_ms\":\"4\"}}", 0, 0, 0},
		{"{\"timings\":{\"prompt_n\":99999999999,\"prompt_ms\":1.}}", 0x10, 0, 1000},
		{"{\"timings\":{\"prompt_n\":123456789012345678901234}}", 0, 0, 0},
		/* only where llama.cpp puts them */
		{"{\"choices\":[{\"timings\":{\"prompt_n\":5}}],\"x\":{\"timings\":{\"prompt_n\":5}}}",
		 0, 0, 0},
		{"{\"timing\":{\"prompt_n\":5},\"prompt_n\":6}", 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char ev[512];
		snprintf(ev, sizeof ev, "data: %s\n\n", cases[i].ev);
		for (size_t st = 0; st <= 2; st++) {
			struct got g;
			ck_assert_str_eq(classify(ev, st, &g), "E");
			unsigned have = g.flags[0] & TTFT_SSE_F_NUMS ? g.nums[0].have : 0;
			ck_assert_msg(have == cases[i].have, "%s: have %x", cases[i].ev, have);
			if (have & 0x08)
				ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_N], cases[i].n);
			if (have & 0x10)
				ck_assert_uint_eq(g.nums[0].v[TTFT_NUM_PROMPT_US], cases[i].us);
		}
	}
	/* usage in a choice or as a string is not the server's usage */
	struct got g;
	classify("data: {\"choices\":[{\"usage\":{\"prompt_tokens\":5}}],"
		 "\"usage\":{\"prompt_tokens\":\"12\"}}\n\n", 0, &g);
	ck_assert_uint_eq(g.flags[0] & TTFT_SSE_F_NUMS, 0);
}
END_TEST

START_TEST(malformed_json_is_flagged_when_read_in_full)
{
	static const struct {
		const char *ev;
		int bad;
	} cases[] = {
		{"data: {\"choices\":[{\"text\":\"oops\n\n", 1},
		{"data: {\"a\":1}}\n\n", 1},
		{"data: {\"a\" 1}\n\n", 1},
		{"data: {\"a\":1,}\n\n", 1},
		{"data: {\"a\":[1,2}\n\n", 1},
		{"data: \n\n", 1},
		{"data: {\"a\":1}\n\n", 0},
		{"data: {\"a\":[],\"b\":{},\"c\":[[1],{\"d\":\"\\\"}\"}]} \n\n", 0},
		{"data: [DONE]\n\n", 0},
		{"data: 42\n\n", 0},
		{"data: {\"a\":\ndata: 1}\n\n", 0},
		{"data: {\ndata: }\n\n", 0},
		{"data: [\ndata: ]\n\n", 0},
		{"data: [1,\ndata: 2]\n\n", 0},
		{"data: [1,]\n\n", 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (size_t st = 0; st <= 2; st++) {
			struct got g;
			classify_n(cases[i].ev, strlen(cases[i].ev), st, 1, &g);
			ck_assert_uint_eq(g.n, 1);
			ck_assert_msg(!!(g.flags[0] & TTFT_SSE_F_BAD) == cases[i].bad,
				      "%s: flags %x", cases[i].ev, g.flags[0]);
		}
	}
	/* Outside full mode an event is left as soon as it is a token. */
	struct got g;
	classify_n(cases[0].ev, strlen(cases[0].ev), 0, 0, &g);
	ck_assert_str_eq(g.seq, "T");
	ck_assert_uint_eq(g.flags[0] & TTFT_SSE_F_BAD, 0);
}
END_TEST

START_TEST(templates_agree_with_the_full_scan)
{
	/* Token events that share their first bytes, and the cases that
	 * must leave the template: an empty token, an escape first, the line
	 * ending inside the token, another id, a changed tail. */
	const char *s =
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"a\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"bb\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"\\n\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"\\\"\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"x\\\"y\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"c\",\"f\":\"stop\"}]}\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\n\n"
		"data: {\"id\":\"c1\",\"choices\":[{\"text\":\"d\",\"f\":null}]}\r\n\r\n"
		"data: {\"id\":\"c2\",\"choices\":[{\"text\":\"e\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c2\",\"choices\":[{\"text\":\"f\",\"f\":null}]}\n"
		"data: {\"error\":{}}\n\n"
		"data: {\"id\":\"c2\",\"choices\":[{\"text\":\"g\",\"f\":null}]}\n\n"
		"data: {\"id\":\"c2\",\"choices\":[{\"text\":\"h\",\"f\":null}],\"usage\":{}}\n\n"
		"data: {\"id\":\"c2\",\"choices\":[{\"text\":\"i\",\"f\":null}]}\r\r"
		"data: {\"id\":\"c2\",\"choices\":[{\"text\":\"j\",\"f\":null}]}\n\n";
	CLASS(s, "TTETTTTETTTTTTT");
	split_invariant(s, strlen(s));
}
END_TEST

/* A request of several choices (vLLM, n=2): its stream interleaves
 * choices[{"index":0,…}] and choices[{"index":1,…}] events. Every event of
 * a choice other than 0 is flagged, the token ones too: an index-1 event
 * does not fit the template an index-0 one left (its bytes differ at the
 * index), and never leaves one of its own (it is read in full each time,
 * so none passes unflagged). tool_calls[].index and a top-level index
 * (Anthropic's content block) are not a choice's. */
#ifndef TTFT_SSE_F_CHOICE
#define TTFT_SSE_F_CHOICE 0x0800u /* so that the old code builds: it fails */
#endif
START_TEST(choices_other_than_0_are_flagged)
{
	const char *head = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\","
			   "\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":";
	const char *role = ",\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
			   "\"logprobs\":null,\"finish_reason\":null}]}\n\n";
	const char *tok = ",\"delta\":{\"content\":\" t\"},\"logprobs\":null,"
			  "\"finish_reason\":null}]}\n\n";
	char s[8192] = "";
	/* vLLM: a role chunk for each choice, then each step's tokens of
	 * choice 0 and 1 (twice choice 1 in a row: a template of its own
	 * would take the second), then a tool call's index 1 in choice 0 */
	const int idx[] = {0, 1, 0, 1, 0, 1, 1, 0};
	for (int i = 0; i < 2; i++)
		snprintf(s + strlen(s), sizeof s - strlen(s), "%s%d%s", head, i, role);
	for (size_t i = 0; i < sizeof idx / sizeof *idx; i++)
		snprintf(s + strlen(s), sizeof s - strlen(s), "%s%d%s", head, idx[i], tok);
	snprintf(s + strlen(s), sizeof s - strlen(s), "%s0,\"delta\":{\"tool_calls\":"
		 "[{\"index\":1,\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n"
		 "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
		 "{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n", head);
	const unsigned want[] = {0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 0};
	for (size_t step = 0; step <= 3; step++) {
		struct got g;
		ck_assert_str_eq(classify(s, step, &g), "EETTTTTTTTTT");
		ck_assert_uint_eq(g.n, 12);
		for (size_t i = 0; i < g.n; i++)
			ck_assert_msg(!!(g.flags[i] & TTFT_SSE_F_CHOICE) == want[i],
				      "step %zu: event %zu flags %x", step, i, g.flags[i]);
	}
	split_invariant(s, strlen(s));
	/* once an index-0 token event left the template, an index-1 one is
	 * not the one-token read: it falls to the full scan */
	struct ttft_sse sse;
	struct got g = {0};
	g.sse = &sse;
	ttft_sse_init(&sse, on_event, NULL, &g);
	char e0[512], e1[512];
	snprintf(e0, sizeof e0, "%s0%s", head, tok);
	snprintf(e1, sizeof e1, "%s1%s", head, tok);
	ttft_sse_feed(&sse, e0, strlen(e0));
	ttft_sse_feed(&sse, e0, strlen(e0));
	ck_assert_int_eq(ttft_sse_whole_token(&sse, e0, strlen(e0)), 1);
	ck_assert_int_eq(ttft_sse_whole_token(&sse, e1, strlen(e1)), 0);
	ck_assert_int_eq(ttft_sse_feed_token(&sse, e1, strlen(e1)), 0);
	ck_assert_uint_eq(g.n, 3);
	ck_assert_uint_eq(g.flags[2] & TTFT_SSE_F_CHOICE, TTFT_SSE_F_CHOICE);
	/* and left no template of its own: the next index-1 event again */
	ck_assert_int_eq(ttft_sse_feed_token(&sse, e1, strlen(e1)), 0);
	ck_assert_uint_eq(g.n, 4);
	ck_assert_uint_eq(g.flags[3] & TTFT_SSE_F_CHOICE, TTFT_SSE_F_CHOICE);
	ck_assert_int_eq(ttft_sse_feed_token(&sse, e0, strlen(e0)), 1);
}
END_TEST

/* Random streams built from real event shapes and then damaged: the
 * classifier gives the same events whatever the reads, in both modes. */
static unsigned rnd(unsigned *x)
{
	*x = *x * 1103515245u + 12345u;
	return *x >> 8;
}

START_TEST(random_streams_split_anywhere)
{
	static const char *const parts[] = {
		"data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":1,"
		"\"model\":\"m\",\"choices\":[{\"index\":0,\"text\":\" tok\",\"logprobs\":null,"
		"\"finish_reason\":null}],\"usage\":null}\n\n",
		"data: {\"id\":\"c\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\r\n\r\n",
		"data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
		"data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n",
		"data: {\"type\":\"content_block_delta\",\"delta\":{\"type\":\"text_delta\",\"text\":\"y\"}}\n\n",
		"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"z\"}\n\n",
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,"
		"\"prompt_tokens_details\":{\"cached_tokens\":2}}}\n\n",
		llama_last,
		"data: {\"error\":{\"message\":\"boom\"}}\n\n",
		"data: [DONE]\n\n",
		": ping\n\n",
		"data: {\"a\":\ndata: [1,{\"text\":\"q\"}]}\r\r",
		"id: 7\nretry: 10\ndata:{\"content\":\"n\"}\n\n",
	};
	unsigned x = 4242;
	char buf[8192];
	for (int round = 0; round < 300; round++) {
		size_t n = 0;
		int k = 1 + (int)(rnd(&x) % 12);
		for (int j = 0; j < k; j++) {
			const char *pt = parts[rnd(&x) % (sizeof parts / sizeof parts[0])];
			size_t l = strlen(pt);
			if (n + l >= sizeof buf)
				break;
			memcpy(buf + n, pt, l);
			n += l;
		}
		/* damage: flip, drop or repeat a few bytes */
		int damage = (int)(rnd(&x) % 4);
		for (int d = 0; d < damage && n > 2; d++) {
			size_t at = rnd(&x) % n;
			switch (rnd(&x) % 3) {
			case 0:
				buf[at] = (char)rnd(&x);
				break;
			case 1:
				memmove(buf + at, buf + at + 1, n - at - 1);
				n--;
				break;
			default:
				if (n + 1 < sizeof buf) {
					memmove(buf + at + 1, buf + at, n - at);
					n++;
				}
			}
		}
		for (int full = 0; full < 2; full++) {
			struct got whole, part;
			classify_n(buf, n, 0, full, &whole);
			classify_n(buf, n, 1, full, &part);
			same_events(&whole, &part, "bytewise");
			/* random reads, as a socket gives them */
			static struct ttft_sse sse;
			memset(&part, 0, sizeof part);
			part.sse = &sse;
			ttft_sse_init(&sse, on_event, NULL, &part);
			sse.full = (uint8_t)full;
			for (size_t i = 0; i < n;) {
				size_t step = 1 + rnd(&x) % 300;
				if (step > n - i)
					step = n - i;
				ttft_sse_feed(&sse, buf + i, step);
				i += step;
			}
			same_events(&whole, &part, "random reads");
		}
	}
}
END_TEST

/* The one-token read's template compare (ttft_tmpl_eq.h), each version
 * this machine can run: equal spans are equal, and a difference in any one
 * byte of either span, at any length up to a template's (each of the
 * AVX2 compare's ranges of 32-byte steps), is seen; reads stay inside both
 * spans (under ASan, spans at a buffer's end). */
START_TEST(template_compare_sees_every_byte)
{
	ttft_tmpl_eq_fn fns[2] = {tmpl_eq_plain, tmpl_eq_pick()};
	enum { MAX = TTFT_SSE_SPAN };
	char *t = malloc(MAX), *a = malloc(MAX), *u = malloc(MAX), *b = malloc(MAX);
	for (int k = 0; k < MAX; k++)
		t[k] = u[k] = (char)('a' + k % 23);
	/* each span's bytes changed: 1 in st under the sanitizers, a
	 * different one for each pair of lengths */
	const size_t st = (size_t)tu_stride("template_compare_sees_every_byte (its changed bytes)");
	for (int f = 0; f < 2; f++)
		for (size_t n = 0; n <= MAX; n += n < 40 ? 1 : 7)
			for (size_t m = 0; m <= MAX; m += m < 40 ? 1 : 11) {
				/* the spans end where their buffers do */
				char *ta = t + MAX - n, *aa = a + MAX - n;
				char *ub = u + MAX - m, *bb = b + MAX - m;
				memcpy(aa, ta, n);
				memcpy(bb, ub, m);
				ck_assert_int_eq(fns[f](aa, ta, n, bb, ub, m), 1);
				for (size_t i = (n + m) % st; i < n; i += st) {
					aa[i] ^= 0x20;
					ck_assert_msg(!fns[f](aa, ta, n, bb, ub, m),
						      "fn %d n %zu m %zu: byte %zu of the first", f, n, m, i);
					aa[i] ^= 0x20;
				}
				for (size_t i = (n + m) % st; i < m; i += st) {
					bb[i] ^= 0x01;
					ck_assert_msg(!fns[f](aa, ta, n, bb, ub, m),
						      "fn %d n %zu m %zu: byte %zu of the second", f, n, m, i);
					bb[i] ^= 0x01;
				}
			}
	free(t), free(a), free(u), free(b);
}
END_TEST

/* The one-token read's length bounds (sse_shape_q), for suffixes on both
 * sides of the length where its test changes form (sl + 3 > BLOCK, BLOCK
 * 16 with SSE2, 8 in the portable build, which runs this test too): an
 * empty token is never the one-token read (the full scan says what it
 * is); a token of 1 to 8 bytes is, where 16 bytes can be read from its
 * start (BLOCK at most); one of over 16 is left to the scan; so is an
 * event a byte short, or without its "\n\n". */
START_TEST(one_token_read_length_bounds)
{
	static const size_t pads[] = {1, 2, 3, 4, 5, 6, 40, 100};
	const char *pre = "data: {\"id\":\"c1\",\"choices\":[{\"text\":\"";
	for (size_t k = 0; k < sizeof pads / sizeof *pads; k++) {
		/* the suffix: ","p":"<pad>"}]}, 10 bytes and the pad */
		char suf[160];
		snprintf(suf, sizeof suf, "\",\"p\":\"%.*s\"}]}", (int)pads[k],
			 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
			 "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
		size_t sl = strlen(suf);
		struct ttft_sse sse;
		struct got g = {0};
		g.sse = &sse;
		ttft_sse_init(&sse, on_event, NULL, &g);
		char ev[512];
		snprintf(ev, sizeof ev, "%sabcdefgh%s\n\n", pre, suf);
		ttft_sse_feed(&sse, ev, strlen(ev));
		ttft_sse_feed(&sse, ev, strlen(ev));
		ck_assert_msg(ttft_sse_whole_token(&sse, ev, strlen(ev)) == 1,
			      "suffix %zu bytes: no template", sl);
		for (size_t l = 0; l <= 20; l++) {
			snprintf(ev, sizeof ev, "%s%.*s%s\n\n", pre, (int)l,
				 "xxxxxxxxxxxxxxxxxxxxxxxx", suf);
			size_t n = strlen(ev);
			int whole = ttft_sse_whole_token(&sse, ev, n);
			if (l == 0 || l > 16)
				ck_assert_msg(!whole, "suffix %zu bytes, token %zu bytes", sl, l);
			else if (l <= 8 && l + sl + 2 >= 16)
				ck_assert_msg(whole, "suffix %zu bytes, token %zu bytes", sl, l);
			ck_assert_int_eq(ttft_sse_whole_token(&sse, ev, n - 1), 0);
			ev[n - 2] = ' ';
			ck_assert_int_eq(ttft_sse_whole_token(&sse, ev, n), 0);
		}
		/* shorter than the fixed bytes: the bounds must not wrap */
		for (size_t n = 0; n < strlen(pre) + sl + 2; n++)
			ck_assert_int_eq(ttft_sse_whole_token(&sse, ev, n), 0);
	}
}
END_TEST

/* The first token event, read in full, makes the whole template: its
 * prefix, and the bytes from its token's closing quote to the line end
 * (the suffix), so that the next token event of the template is already
 * the one-token read. Cut anywhere, the event is the same token, and a
 * suffix made is that one (or none: the next event makes it); every
 * split of the stream gives the same events; LF and CRLF lines. */
START_TEST(first_token_event_makes_the_whole_template)
{
	static const char *const eol[] = {"\n", "\r\n"};
	const char *pre = "data: {\"id\":\"c1\",\"choices\":[{\"index\":0,\"text\":\"";
	const char *suf = "\",\"logprobs\":null,\"finish_reason\":null}]}";
	for (size_t k = 0; k < 2; k++) {
		char e0[256], e1[256], all[1024];
		snprintf(e0, sizeof e0, "%s Hi%s%s%s", pre, suf, eol[k], eol[k]);
		snprintf(e1, sizeof e1, "%s there%s%s%s", pre, suf, eol[k], eol[k]);
		size_t n0 = strlen(e0);
		struct ttft_sse sse;
		struct got g = {0};
		g.sse = &sse;
		ttft_sse_init(&sse, on_event, NULL, &g);
		ttft_sse_feed(&sse, e0, n0);
		ck_assert_str_eq(g.seq, "T");
		ck_assert_uint_eq(g.flags[0], 0);
		ck_assert_uint_eq(sse.tlen, strlen(pre));
		ck_assert_uint_eq(sse.slen, strlen(suf));
		ck_assert_int_eq(memcmp(sse.tmpl + sse.tlen, suf, sse.slen), 0);
		if (k == 0)
			ck_assert_int_eq(ttft_sse_whole_token(&sse, e1, strlen(e1)), 1);
		ck_assert_int_eq(ttft_sse_feed_token(&sse, e1, strlen(e1)), k == 0);
		for (size_t i = 1; i < n0; i++) {
			memset(&g, 0, sizeof g);
			g.sse = &sse;
			ttft_sse_init(&sse, on_event, NULL, &g);
			ttft_sse_feed(&sse, e0, i);
			ttft_sse_feed(&sse, e0 + i, n0 - i);
			ck_assert_str_eq(g.seq, "T");
			ck_assert_uint_eq(g.flags[0], 0);
			ck_assert_msg(sse.slen == 0 || (sse.slen == strlen(suf) &&
				      !memcmp(sse.tmpl + sse.tlen, suf, sse.slen)),
				      "cut at %zu: suffix %u bytes", i, sse.slen);
			ttft_sse_feed(&sse, e1, strlen(e1));
			ttft_sse_feed(&sse, e1, strlen(e1));
			ck_assert_str_eq(g.seq, "TTT");
		}
		int an = snprintf(all, sizeof all, "%s%s%s%sdata: [DONE]%s%s", e0, e1, e1,
				  e0, eol[k], eol[k]);
		ck_assert(an > 0 && (size_t)an < sizeof all);
		split_invariant(all, strlen(all));
	}
}
END_TEST

/* An event that starts with the template's bytes up to its last
 * top-level ',' before the token (tck: a usage event's id, object,
 * created, model) starts its scan there: the same events, flags and
 * numbers as the scan from the event's start, which reads a byte at a
 * time take, and every split into two reads; whatever follows (usage, an
 * error, another choice, a finish, malformed JSON, a second data line, a
 * token with its keys in another order, which makes a template of its
 * own), and not where an `event:` line came first; LF and CRLF lines. */
START_TEST(a_template_start_resumes_at_its_last_top_level_key)
{
	static const char *const rest[] = {
		"\"choices\":[{\"index\":0,\"delta\":{\"content\":\" a\"},\"finish_reason\":null}]}",
		"\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,"
		"\"prompt_tokens_details\":{\"cached_tokens\":1}}}",
		"\"error\":{\"message\":\"x\"}}",
		"\"choices\":[{\"index\":1,\"delta\":{\"content\":\" b\"}}]}",
		"\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
		"\"choices\":[{]}",
		"\"choices\":[],%s" "data: \"usage\":{\"completion_tokens\":3}}",
		"\"choices\":[{\"delta\":{\"content\":\" c\"},\"index\":0}]}",
		"\"choices\":[{\"index\":0,\"delta\":{\"content\":\" a\"},\"finish_reason\":null}]}",
		"\"timings\":{\"prompt_n\":4,\"predicted_ms\":1.5}}",
	};
	const char *want = "TEXTEEETTE";
	static const char *const eol[] = {"\n", "\r\n"};
	const char *head = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\","
			   "\"created\":1,\"model\":\"m\",";
	for (size_t k = 0; k < 2; k++) {
		char all[4096] = "", ev[512], r[256];
		for (size_t i = 0; i < sizeof rest / sizeof *rest; i++) {
			snprintf(r, sizeof r, rest[i], eol[k]);
			snprintf(ev, sizeof ev, "%s%s%s%s", head, r, eol[k], eol[k]);
			strcat(all, ev);
		}
		char tail[256];
		snprintf(tail, sizeof tail, "event: error%s%s\"choices\":[]}%s%s"
			 ": c%s%s\"choices\":[]}%s%sdata: [DONE]%s%s", eol[k], head,
			 eol[k], eol[k], eol[k], head, eol[k], eol[k], eol[k], eol[k]);
		strcat(all, tail);
		struct got g;
		char expect[32];
		snprintf(expect, sizeof expect, "%sXED", want);
		for (size_t st = 0; st <= 3; st++)
			ck_assert_str_eq(classify(all, st, &g), expect);
		classify(all, 0, &g);
		ck_assert_uint_eq(g.sse->tck, strlen(head));
		ck_assert_uint_eq(g.flags[1] & (TTFT_SSE_F_USAGE | TTFT_SSE_F_NUMS),
				  TTFT_SSE_F_USAGE | TTFT_SSE_F_NUMS);
		ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_CACHED_TOKENS], 1);
		ck_assert_uint_eq(g.flags[3] & TTFT_SSE_F_CHOICE, TTFT_SSE_F_CHOICE);
		ck_assert_uint_eq(g.flags[5] & TTFT_SSE_F_BAD, TTFT_SSE_F_BAD);
		ck_assert_uint_eq(g.flags[6] & TTFT_SSE_F_USAGE, TTFT_SSE_F_USAGE);
		ck_assert_uint_eq(g.flags[9] & TTFT_SSE_F_NUMS, TTFT_SSE_F_NUMS);
		split_invariant(all, strlen(all));
	}
}
END_TEST

/* A response's first token event taken with the last response's template
 * on the connection (ttft_sse.c's hint_event): its "id" and "created"
 * differ (other lengths, other digits), the rest is the template's. The
 * responses, a ttft_sse_reset between them as the shim's HTTP layer does
 * at each response's headers, give the same events (classes, flags,
 * numbers) read whole, an event a read, and split at every point, as one
 * byte at a time (where no template is ever kept); at each response's
 * end the template is the one a classifier that saw only that response
 * keeps (the same bytes, lengths and checkpoint). Among them, events
 * that only look like the template: another object ("error": an error),
 * a choice index 1, an empty first token, a named error event, an id
 * with an escape, one with bytes past ASCII, a "created" with a sign or
 * an exponent, a model of another name, a comment line first. The hint is
 * used (a template whose holes are known, not 255) where the id and
 * created alone differ. */
#define HEAD(id, cr, obj) "data: {\"id\":\"" id "\",\"object\":\"" obj "\",\"created\":" cr \
			  ",\"model\":\"Qwen/Qwen2.5-1.5B-Instruct\",\"choices\":[{\"index\":"
#define TOKO(id, cr, obj, t) HEAD(id, cr, obj) "0,\"text\":\"" t "\",\"logprobs\":null," \
			     "\"finish_reason\":null,\"stop_reason\":null}],\"usage\":null}\n\n"
#define TOK(id, cr, t) TOKO(id, cr, "text_completion", t)
#define TAIL(id, cr) HEAD(id, cr, "text_completion") "0,\"text\":\" end\",\"logprobs\":null," \
		     "\"finish_reason\":\"length\",\"stop_reason\":null}],\"usage\":null}\n\n" \
		     "data: {\"id\":\"" id "\",\"object\":\"text_completion\",\"created\":" cr \
		     ",\"model\":\"Qwen/Qwen2.5-1.5B-Instruct\",\"choices\":[],\"usage\":{" \
		     "\"prompt_tokens\":5,\"total_tokens\":9,\"completion_tokens\":4," \
		     "\"prompt_tokens_details\":null}}\n\ndata: [DONE]\n\n"
#define RESP(id, cr) TOK(id, cr, " the") TOK(id, cr, " first") TAIL(id, cr)
/* vLLM's chat stream: a role event first (no token), then the tokens */
#define HEADC(id, cr) "data: {\"id\":\"" id "\",\"object\":\"chat.completion.chunk\"," \
		      "\"created\":" cr ",\"model\":\"Qwen/Qwen2.5-1.5B-Instruct\"," \
		      "\"choices\":[{\"index\":"
#define ROLE(id, cr, i, usage) HEADC(id, cr) i ",\"delta\":{\"role\":\"assistant\"," \
			       "\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]" \
			       usage "}\n\n"
#define CTOK(id, cr, t) HEADC(id, cr) "0,\"delta\":{\"content\":\"" t "\"},\"logprobs\":null," \
			"\"finish_reason\":null}]}\n\n"
#define CHAT(id, cr) CTOK(id, cr, " the") CTOK(id, cr, " first") HEADC(id, cr) \
		     "0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n" \
		     "data: [DONE]\n\n"
static const char *const g_resps[] = {
	/* 0: the first (the full scan keeps the template); 1, 2: id and
	 * created of other lengths: the hint */
	RESP("cmpl-3499ccae61f63f49f41541b0f3a6337c", "1796171148"),
	RESP("cmpl-2ad36b2f53769f2f84ad92b9e9c02bc6aa", "1796171149"),
	RESP("c", "7"),
	/* 3: "object":"error" with a token: an error; 4: index 1 first */
	TOKO("cmpl-e", "8", "error", " x") RESP("cmpl-e", "8"),
	HEAD("cmpl-i", "9", "text_completion") "1,\"text\":\" x\",\"logprobs\":null,"
	"\"finish_reason\":null,\"stop_reason\":null}],\"usage\":null}\n\n" RESP("cmpl-i", "9"),
	/* 5: an empty first token; 6: a named error event */
	TOK("cmpl-n", "10", "") RESP("cmpl-n", "10"),
	"event: error\n" TOK("cmpl-x", "11", " x") RESP("cmpl-x", "11"),
	/* 7: bytes past ASCII in the id (the hint: the scan skips them as
	 * any); 8: an escape (no hint); 9: a sign; 10: an exponent; 11:
	 * another model; 12: a comment first */
	RESP("cmpl-\xc3\xa9", "12"),
	RESP("cmpl-\\\"q", "13"),
	RESP("cmpl-s", "-14"),
	RESP("cmpl-x", "1e9"),
	"data: {\"id\":\"cmpl-m\",\"object\":\"text_completion\",\"created\":15,\"model\":"
	"\"other\",\"choices\":[{\"index\":0,\"text\":\" x\",\"logprobs\":null,"
	"\"finish_reason\":null,\"stop_reason\":null}],\"usage\":null}\n\n" RESP("cmpl-m", "15"),
	": ping\n\n" RESP("cmpl-3499ccae61f63f49f41541b0f3a6337c", "1796171148"),
	/* 13, 14: the hint again (after a template the full scan kept) */
	RESP("cmpl-aa", "16"),
	RESP("cmpl-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "17171717171717171"),
	/* 15: an empty token only: no template */
	TOK("cmpl-z", "18", "") "data: [DONE]\n\n",
	/* 16: a chat stream, its role event first (the full scan keeps
	 * its template); 17: the next one, its role event taken up at the
	 * hint's checkpoint (then the hint); 18: a role event with usage
	 * (vLLM's continuous_usage_stats); 19: one of choice 1 (n > 1) */
	ROLE("chatcmpl-1", "100", "0", "") CHAT("chatcmpl-1", "100"),
	ROLE("chatcmpl-22", "1011", "0", "") CHAT("chatcmpl-22", "1011"),
	ROLE("chatcmpl-3", "102", "0", ",\"usage\":{\"prompt_tokens\":5,\"total_tokens\":5,"
	     "\"completion_tokens\":0}") CHAT("chatcmpl-3", "102"),
	ROLE("chatcmpl-4", "103", "0", "") ROLE("chatcmpl-4", "103", "1", "")
	CHAT("chatcmpl-4", "103"),
	/* 20: a reasoning delta first (vLLM's reasoning parser): a token
	 * event of another template, read on from the hint's checkpoint,
	 * its template kept there (then the content's, from its own
	 * checkpoint) */
	ROLE("chatcmpl-5", "104", "0", "") HEADC("chatcmpl-5", "104")
	"0,\"delta\":{\"reasoning_content\":\"hm\"},\"logprobs\":null,\"finish_reason\":null}]}"
	"\n\n" CHAT("chatcmpl-5", "104"),
};
#define NRESP (sizeof g_resps / sizeof g_resps[0])
/* the responses whose template the hint gave (read whole): 3 to 6 at
 * their second token event (their first no template's), 9 none (8's id
 * is no hole: an escape), 11 none (10's "created" is no hole: "1e9"),
 * 12 after its comment */
static const int g_hinted[NRESP] = {0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0,
				    0, 1, 1, 1, 0};

/* r's n bytes split at `at` (0: whole) or one event a read (at ==
 * (size_t)-1) or byte by byte (at == (size_t)-2). */
static void feed_split(struct ttft_sse *sse, const char *r, size_t n, size_t at)
{
	if (at == (size_t)-2) {
		for (size_t i = 0; i < n; i++)
			ttft_sse_feed(sse, r + i, 1);
	} else if (at == (size_t)-1) {
		for (size_t i = 0; i < n;) {
			const char *e = strstr(r + i, "\n\n");
			size_t j = e ? (size_t)(e - r) + 2 : n;
			ttft_sse_feed(sse, r + i, j - i);
			i = j;
		}
	} else {
		ttft_sse_feed(sse, r, at ? at : n);
		if (at)
			ttft_sse_feed(sse, r + at, n - at);
	}
}

/* Responses 0..last, each split at `at` (0: whole) or one event a read
 * (at == (size_t)-1) or byte by byte (at == (size_t)-2); response `last`
 * only split so, the ones before it read whole. */
static void feed_resps(struct ttft_sse *sse, struct got *g, size_t last, size_t at,
		       int check)
{
	start(sse, g);
	for (size_t k = 0; k <= last; k++) {
		const char *r = g_resps[k];
		size_t n = strlen(r);
		ttft_sse_reset(sse); /* the response's headers */
		feed_split(sse, r, n, k == last ? at : 0);
		if (!check)
			continue;
		/* the template a classifier that saw only this response keeps
		 * (read whole) */
		static struct ttft_sse one;
		struct got g1;
		start(&one, &g1);
		ttft_sse_feed(&one, r, n);
		ck_assert_msg(same_template(sse, &one),
			      "response %zu: template %u+%u ck %u vs %u+%u ck %u", k,
			      sse->tlen, sse->slen, sse->tck, one.tlen, one.slen, one.tck);
		if (k == last || at == 0)
			ck_assert_msg((sse->tlen && sse->nholes != 255) == g_hinted[k],
				      "response %zu: the hint %s", k,
				      g_hinted[k] ? "not used" : "used");
	}
}

/* A hint's state as another thread may leave it, or past it (the shim
 * takes no lock: a connection's state read while another thread writes
 * it): a prefix made 150 bytes shorter by its hole, then a checkpoint
 * past the prefix and past a span's most (250, TTFT_SSE_SPAN 240). Nothing is read
 * or written outside the classifier's state (the sanitizers' build runs
 * this suite: a read past `tmpl` is one past the object, a global), and
 * the event is still classified. */
START_TEST(a_torn_hint_stays_in_its_bounds)
{
	static struct ttft_sse sse;
	struct got g;
	memset(&g, 0, sizeof g);
	g.sse = &sse;
	ttft_sse_init(&sse, on_event, NULL, &g);
	char tm[TTFT_SSE_TMPL + 1], ev[512];
	/* a prefix of 207 bytes whose id is 150 of them */
	int n = snprintf(tm, sizeof tm, "data: {\"id\":\"%0150d\",\"model\":\"m\","
			 "\"choices\":[{\"index\":0,\"text\":\"", 0);
	ck_assert_int_lt(n, TTFT_SSE_TMPL);
	memcpy(sse.tmpl, tm, (size_t)n);
	sse.hlen = (uint8_t)n;
	sse.tdata = 6;
	sse.hck = (uint8_t)(n - 28); /* past "id" only: its own hole */
	sse.nholes = 1;
	sse.hole[0][0] = 13;
	sse.hole[0][1] = 163;
	sse.hole_num = 0;
	int m = snprintf(ev, sizeof ev, "data: {\"id\":\"\",\"model\":\"m\",\"choices\":"
			 "[{\"index\":0,\"text\":\"x\"}]}\n\n");
	ttft_sse_feed(&sse, ev, (size_t)m);
	ck_assert_str_eq(g.seq, "T");
	ck_assert_uint_le((unsigned)sse.tlen + sse.slen, TTFT_SSE_TMPL);
	/* a checkpoint past the prefix: no holes looked for past it */
	ttft_sse_reset(&sse);
	sse.hlen = 20;
	sse.hck = 250;
	sse.nholes = 255;
	ttft_sse_feed(&sse, ev, (size_t)m);
	ck_assert_str_eq(g.seq, "TT");
	ck_assert_uint_le(sse.nholes, 2);
}
END_TEST

/* A template's lengths as two threads on one connection may leave them
 * (the shim takes no lock): a prefix of one line and a suffix of another,
 * each a span's most (TTFT_SSE_SPAN), 480 bytes where tmpl holds
 * TTFT_SSE_TMPL. The state sits at the end of a page whose next page is
 * not readable, so a compare past tmpl's end faults in any build; an
 * event that fits the torn lengths is read by each entry (the one-token
 * test, the token read, the full feed) and is none of the template's. */
START_TEST(a_torn_template_is_never_read_past_its_end)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	ck_assert_int_eq(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
	struct ttft_sse *sse = (struct ttft_sse *)(void *)(m + pg - (sizeof *sse + 7) / 8 * 8);
	ck_assert_uint_lt((size_t)(m + pg - (char *)(sse->tmpl + TTFT_SSE_TMPL)),
			  2u * TTFT_SSE_SPAN - TTFT_SSE_TMPL);
	struct got g;
	memset(&g, 0, sizeof g);
	g.sse = sse;
	ttft_sse_init(sse, on_event, NULL, &g);
	char ev[2 * TTFT_SSE_SPAN + 8];
	memset(ev, 'a', sizeof ev);
	memcpy(ev, "data: {\"x\":\"", 13);
	size_t n = 0;
	n += TTFT_SSE_SPAN;                  /* the prefix, its token next */
	ev[n++] = 'x';                       /* a token of one byte */
	ev[n] = '"';                         /* the suffix: its closing quote, */
	n += TTFT_SSE_SPAN;                  /* … then 'a's to the line end */
	ev[n++] = '\n';
	ev[n++] = '\n';
	/* the prefix, then the suffix's first bytes where a suffix after it
	 * would be, and the state's bytes past tmpl like the suffix's rest:
	 * a compare of the torn suffix meets no difference before the page
	 * ends */
	memcpy(sse->tmpl, ev, TTFT_SSE_SPAN);
	memcpy(sse->tmpl + TTFT_SSE_SPAN, ev + TTFT_SSE_SPAN + 1, TTFT_SSE_TMPL - TTFT_SSE_SPAN);
	char *tail = sse->tmpl + TTFT_SSE_TMPL;
	for (int entry = 0; entry < 3; entry++) {
		memset(tail, 'a', (size_t)(m + pg - tail));
		sse->tlen = TTFT_SSE_SPAN;
		sse->slen = TTFT_SSE_SPAN;
		sse->tdata = 6;
		if (entry == 0)
			ck_assert_int_eq(ttft_sse_whole_token(sse, ev, n), 0);
		else if (entry == 1)
			ttft_sse_feed_token(sse, ev, n);
		else
			ttft_sse_feed(sse, ev, n);
		if (entry) /* a suffix kept anew fits */
			ck_assert_uint_le((unsigned)sse->tlen + sse->slen, TTFT_SSE_TMPL);
		ttft_sse_reset(sse);
	}
	/* the token read returns 1 (the caller's to report), the feed
	 * reports it: the prefix fits, its token after it */
	ck_assert_str_eq(g.seq, "T");
	munmap(m, 2 * (size_t)pg);
}
END_TEST

START_TEST(a_response_fits_the_last_ones_template_but_its_id)
{
	static struct ttft_sse sse;
	struct got ref, got;
	/* whole, each response checked */
	feed_resps(&sse, &got, NRESP - 1, 0, 1);
	const size_t k = (size_t)tu_stride("a_response_fits_the_last_ones_template_but_its_id "
					   "(its splits)");
	for (size_t last = 0; last < NRESP; last++) {
		feed_resps(&sse, &ref, last, (size_t)-2, 0);
		ck_assert_msg(ref.n <= MAXEV, "%zu events", ref.n);
		feed_resps(&sse, &got, last, 0, 0);
		same_events(&ref, &got, "whole");
		feed_resps(&sse, &got, last, (size_t)-1, 0);
		same_events(&ref, &got, "an event a read");
		for (size_t at = 1 + last % k; at < strlen(g_resps[last]); at += k) {
			feed_resps(&sse, &got, last, at, 0);
			same_events(&ref, &got, "split");
		}
	}
	/* what the responses are */
	feed_resps(&sse, &got, 6, 0, 0);
	ck_assert_str_eq(got.seq, "TTTEDTTTEDTTTEDXTTTEDTTTTEDETTTEDXTTTED");
	feed_resps(&sse, &got, NRESP - 1, 0, 0);
	ck_assert_msg(strlen(got.seq) > 27 &&
		      !strcmp(got.seq + strlen(got.seq) - 27, "ETTEDETTEDETTEDEETTEDETTTED"),
		      "%s", got.seq);
	/* the role event with usage: its numbers, as the scan reads them */
	size_t u = got.n - 17;
	ck_assert_uint_eq(got.flags[u], TTFT_SSE_F_USAGE | TTFT_SSE_F_NUMS);
	ck_assert_uint_eq(got.nums[u].v[TTFT_NUM_PROMPT_TOKENS], 5);
	ck_assert_uint_eq(got.flags[got.n - 11], TTFT_SSE_F_CHOICE); /* choice 1 */
}
END_TEST

/* The template the hint leaves is the one the full scan keeps from the
 * same read (keep_template: a suffix only where the token's closing quote
 * and its line end are read there), never the last response's suffix
 * carried over unread: a first token cut by the read's end, or one that
 * starts with an escape or a control byte (whose line end the scan does
 * not look for), leaves no suffix, as the full scan does; a plain one
 * whole, the suffix read from this response. The template after each read
 * is the one a classifier that never had a hint keeps from the same reads. */
START_TEST(a_hinted_template_keeps_no_suffix_it_did_not_read)
{
	static struct ttft_sse sse, one;
	static const char *const toks[] = {" the", "\\n", "\\\"q", "\x01x", "x"};
	/* (its last template has a suffix: a short id) */
	const char *first = RESP("cmpl-a", "1796171148");
	const size_t tok0 = strlen(HEAD("cmpl-b", "7", "text_completion") "0,\"text\":\"");
	char r[2048];
	for (size_t k = 0; k < sizeof toks / sizeof toks[0]; k++) {
		snprintf(r, sizeof r, "%s%s%s%s%s",
			 HEAD("cmpl-b", "7", "text_completion") "0,\"text\":\"", toks[k],
			 "\",\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}],"
			 "\"usage\":null}\n\n", TAIL("cmpl-b", "7"), "");
		size_t n = strlen(r), ev1 = (size_t)(strstr(r, "\n\n") - r) + 2;
		/* the first read ends in the first event, past its token's
		 * first byte, or is the response whole */
		for (size_t i = tok0 + 1; i <= ev1 + 1; i++) {
			size_t at = i <= ev1 ? i : n;
			struct got g, g1;
			start(&sse, &g);
			start(&one, &g1);
			ttft_sse_feed(&sse, first, strlen(first));
			ck_assert(sse.slen);
			ttft_sse_reset(&sse); /* the next response's headers */
			memset(&g, 0, sizeof g); /* its events alone */
			g.sse = &sse;
			ttft_sse_feed(&sse, r, at);
			ttft_sse_feed(&one, r, at);
			ck_assert_msg(sse.tlen && sse.nholes != 255, "token %zu at %zu: no hint", k, at);
			ck_assert_msg(one.tlen && same_template(&sse, &one),
				      "token %zu, first read %zu bytes: template %u+%u ck %u vs %u+%u ck %u",
				      k, at, sse.tlen, sse.slen, sse.tck, one.tlen, one.slen, one.tck);
			if (at < n) {
				ttft_sse_feed(&sse, r + at, n - at);
				ttft_sse_feed(&one, r + at, n - at);
			}
			same_events(&g1, &g, "hint");
		}
	}
}
END_TEST

/* An event that holds the hint's prefix up to the hint's checkpoint and
 * is then no token event of the hint's (an empty text delta, cut short:
 * malformed) is read on from there as from its start: its top-level
 * "type", read before the checkpoint, known (a malformed event with no
 * type of its own would make message_start's prompt count stale), the
 * same class, flags and numbers as a classifier that never had a hint
 * gives it, at every split. */
START_TEST(an_event_at_the_hints_checkpoint_reads_on_from_there)
{
	static struct ttft_sse sse, one;
	const char *msg = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":"
			  "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\","
			  "\"content\":[],\"model\":\"m\",\"usage\":{\"input_tokens\":25,"
			  "\"output_tokens\":1}}}\n\n";
	const char *text = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
			   "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"b\"}}\n\n";
	const char *cut = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\","
			  "\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\"\n\n";
	char r[1024];
	snprintf(r, sizeof r, "%s%s%s", msg, cut, text);
	size_t n = strlen(r);
	struct got ref, got;
	start(&one, &ref);
	for (size_t i = 0; i < n; i++)
		ttft_sse_feed(&one, r + i, 1);
	ck_assert_str_eq(ref.seq, "EET");
	ck_assert_uint_eq(ref.flags[1], TTFT_SSE_F_BAD);
	for (size_t at = 0; at < n; at++) {
		start(&sse, &got);
		ttft_sse_feed(&sse, msg, strlen(msg));
		ttft_sse_feed(&sse, text, strlen(text));
		ck_assert_uint_ne(sse.tck, 0);
		ttft_sse_reset(&sse); /* the next response: the hint */
		memset(&got, 0, sizeof got);
		got.sse = &sse;
		ttft_sse_feed(&sse, r, at ? at : n);
		if (at)
			ttft_sse_feed(&sse, r + at, n - at);
		same_events(&ref, &got, at ? "split" : "whole");
	}
	/* vLLM: after a chat response, the next one's role event and a
	 * reasoning delta, both read on from the hint's checkpoint: the
	 * reasoning delta's template is the one the full scan keeps (its
	 * checkpoint past "model":…, as from the line's start) */
	const char *r1 = ROLE("chatcmpl-1", "100", "0", "") CHAT("chatcmpl-1", "100");
	const char *r2 = ROLE("chatcmpl-77", "1017", "0", "") HEADC("chatcmpl-77", "1017")
		"0,\"delta\":{\"reasoning_content\":\"hm\"},\"logprobs\":null,"
		"\"finish_reason\":null}]}\n\n";
	start(&sse, &got);
	ttft_sse_feed(&sse, r1, strlen(r1));
	ttft_sse_reset(&sse);
	ttft_sse_feed(&sse, r2, strlen(r2));
	start(&one, &ref);
	ttft_sse_feed(&one, r2, strlen(r2));
	ck_assert_uint_eq(one.tck, strlen(HEADC("chatcmpl-77", "1017")) -
				   strlen("\"choices\":[{\"index\":"));
	ck_assert_msg(same_template(&sse, &one), "template %u+%u ck %u vs %u+%u ck %u",
		      sse.tlen, sse.slen, sse.tck, one.tlen, one.slen, one.tck);
}
END_TEST

/* An OpenAI chat chunk as stream_options' include_usage sends it (every
 * chunk with "usage":null), its id of 41 bytes and a model's name: its
 * template is whole, prefix and suffix (189 + 55 bytes), so its next
 * token events are one-token reads (ttft_sse_template_ready); so with a
 * model's name 44 bytes longer (TTFT_SSE_TMPL's room); one longer still
 * keeps its prefix and no suffix. Each token event counted as one. */
START_TEST(a_chat_chunk_with_usage_null_keeps_its_whole_template)
{
	static struct ttft_sse sse;
	for (int m = 0; m < 3; m++) {
		/* the model's name 0, 44 or 45 bytes longer */
		char model[128] = "Qwen/Qwen2.5-1.5B-Instruct";
		size_t more = m == 0 ? 0 : m == 1 ? 44 : 45, base = strlen(model);
		memset(model + base, 'x', more);
		model[base + more] = 0;
		char ev[600];
		int n = snprintf(ev, sizeof ev, "data: {\"id\":\"chatcmpl-2ad36b2f53769f2f84ad92b9e9c02bc6\","
				 "\"object\":\"chat.completion.chunk\",\"created\":1796190160,\"model\":"
				 "\"%s\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" the\"},"
				 "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
				 model);
		struct got g;
		start(&sse, &g);
		ttft_sse_feed(&sse, ev, (size_t)n);
		ttft_sse_feed(&sse, ev, (size_t)n);
		ck_assert_str_eq(g.seq, "TT");
		size_t tl = (size_t)(strstr(ev, "\" the") - ev) + 1;
		ck_assert_uint_eq(sse.tlen, tl);
		ck_assert_msg(tl == 189 + more, "prefix %zu", tl);
		if (m < 2) {
			ck_assert_uint_eq(sse.slen, 55);
			ck_assert(ttft_sse_template_ready(&sse));
			ck_assert(ttft_sse_whole_token(&sse, ev, (size_t)n));
		} else {
			ck_assert_uint_eq(tl + 55, TTFT_SSE_TMPL + 1);
			ck_assert_uint_eq(sse.slen, 0);
			ck_assert(!ttft_sse_template_ready(&sse));
		}
	}
}
END_TEST

/* A template kept from an event whose scan resumed at the last one's
 * checkpoint (its prefix the same up to its last top-level ',', then
 * other: a thinking delta, then a text delta) has that checkpoint, as the
 * scan of the event from its start finds it: it had none (tck 0, no
 * top-level ',' read after the resume), and the next response's first
 * token event, taken with it as the hint (no holes: no id before the
 * token), kept none either, where one that saw only that response keeps
 * it (the checkpoint's resume, and vLLM's usage event there, lost on the
 * connection). */
START_TEST(a_template_kept_after_its_checkpoint_keeps_it)
{
	static struct ttft_sse sse, one;
	const char *think = "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
			    "{\"type\":\"thinking_delta\",\"thinking\":\"a\"}}\n\n";
	const char *text = "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
			   "{\"type\":\"text_delta\",\"text\":\"b\"}}\n\n";
	const char *usage = "data: {\"id\":\"c-1\",\"created\":5,\"model\":\"m\","
			    "\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"a\"}}]}\n\n"
			    "data: {\"id\":\"c-1\",\"created\":5,\"model\":\"m\","
			    "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"}}]}\n\n"
			    "data: {\"id\":\"c-1\",\"created\":5,\"model\":\"m\","
			    "\"choices\":[],\"usage\":{\"prompt_tokens\":7}}\n\n";
	struct got g, g1;
	/* the text delta's own checkpoint: past "index":0, */
	start(&one, &g1);
	ttft_sse_feed(&one, text, strlen(text));
	ck_assert_uint_eq(one.tck, strlen("data: {\"type\":\"content_block_delta\",\"index\":0,"));
	start(&sse, &g);
	ttft_sse_feed(&sse, think, strlen(think));
	ttft_sse_feed(&sse, text, strlen(text));
	ck_assert_uint_eq(sse.tlen, one.tlen);
	ck_assert_uint_eq(sse.tck, one.tck);
	/* the next response: the hint, and the template it leaves */
	ttft_sse_reset(&sse);
	ttft_sse_feed(&sse, text, strlen(text));
	ck_assert_uint_eq(sse.tlen, one.tlen);
	ck_assert_uint_eq(sse.tck, one.tck);
	ck_assert_str_eq(g.seq, "TTT");
	/* vLLM's reasoning then content: the content template's checkpoint
	 * (past "model":"m",), where the usage event is taken at once */
	start(&sse, &g);
	ttft_sse_feed(&sse, usage, strlen(usage));
	ck_assert_uint_eq(sse.tck, strlen("data: {\"id\":\"c-1\",\"created\":5,\"model\":\"m\","));
	ck_assert_str_eq(g.seq, "TTE");
	ck_assert_uint_eq(g.flags[2], TTFT_SSE_F_USAGE | TTFT_SSE_F_NUMS);
	ck_assert_uint_eq(g.nums[2].v[TTFT_NUM_PROMPT_TOKENS], 7);
}
END_TEST

/* vLLM's usage event, taken at once where the template's checkpoint
 * leaves the scan (usage_event): every form it takes gives the events,
 * flags and numbers that one byte at a time gives (which never takes it),
 * an event a read (where it is taken) and at every split; and each form
 * it must leave to the full scan (a number of another form, ten digits,
 * whitespace, another key, the details with another member, the event cut
 * or ended otherwise) likewise. The numbers of the forms it takes are
 * checked too, and the token event after each (the state it leaves). */
START_TEST(a_vllm_usage_event_is_taken_as_the_scan_takes_it)
{
	static const struct {
		const char *usage; /* after "usage": */
		int nums;          /* -1: not checked; else prompt, completion,
				      cached expected (have bits 0, 1, 2) */
		unsigned have;
		uint32_t p, c, k;
	} cases[] = {
		{"{\"prompt_tokens\":12,\"total_tokens\":28,\"completion_tokens\":16,"
		 "\"prompt_tokens_details\":null}", 1, 3, 12, 16, 0},
		{"{\"prompt_tokens\":12,\"total_tokens\":28,\"completion_tokens\":16}", 1, 3, 12, 16, 0},
		{"{\"completion_tokens\":8,\"prompt_tokens\":26,\"total_tokens\":34,"
		 "\"prompt_tokens_details\":{\"cached_tokens\":25}}", 1, 7, 26, 8, 25},
		{"{\"prompt_tokens\":0,\"completion_tokens\":999999999}", 1, 3, 0, 999999999, 0},
		{"{\"prompt_tokens\":007,\"completion_tokens\":1,\"prompt_tokens\":5}", 1, 3, 5, 1, 0},
		{"{\"prompt_tokens_details\":{\"cached_tokens\":3},\"prompt_tokens_details\":null}",
		 1, 4, 0, 0, 3},
		{"{\"total_tokens\":1}", -1, 0, 0, 0, 0},
		/* the full scan's */
		{"{\"prompt_tokens\":4294967295,\"completion_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":4294967296,\"completion_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":1.0,\"completion_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":-1,\"completion_tokens\":1e3}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12x,\"completion_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\": 12,\"completion_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12 ,\"completion_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12,\"x\":1,\"completion_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12,\"input_tokens\":1}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12,\"prompt_tokens_details\":{\"cached_tokens\":1,\"x\":2}}",
		 -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12,\"prompt_tokens_details\":{}}", -1, 0, 0, 0, 0},
		/* the details left open: their prompt_tokens are not usage's,
		 * and the event is malformed */
		{"{\"prompt_tokens_details\":{\"cached_tokens\":1,\"prompt_tokens\":2}",
		 -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12,\"prompt_tokens_details\":nullx}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12,\"total_tokens\":\"28\"}", -1, 0, 0, 0, 0},
		{"{\"prompt\\u005ftokens\":12}", -1, 0, 0, 0, 0},
		{"{}", -1, 0, 0, 0, 0},
		{"null", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12}} ", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12}}}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12]", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12,}", -1, 0, 0, 0, 0},
		{"{\"prompt_tokens\":12", -1, 0, 0, 0, 0},
	};
	const char *head = "data: {\"id\":\"cmpl-1\",\"object\":\"text_completion\","
			   "\"created\":1,\"model\":\"m\",";
	const char *tok = "\"choices\":[{\"index\":0,\"text\":\" a\",\"logprobs\":null,"
			  "\"finish_reason\":null}],\"usage\":null}";
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		for (int end = 0; end < 3; end++) {
			/* ended by a blank line, CRLFs, or a second line */
			static const char *const ends[] = {"\n\n", "\r\n\r\n",
							   "\ndata: \n\n"};
			char all[2048];
			snprintf(all, sizeof all,
				 "%s%s\n\n%s\"choices\":[],\"usage\":%s}%s%s%s\n\ndata: [DONE]\n\n",
				 head, tok, head, cases[i].usage, ends[end], head, tok);
			per_event_vs_bytes(all, strlen(all));
			split_invariant(all, strlen(all));
			if (cases[i].nums < 0 || end)
				continue;
			struct got g;
			ck_assert_str_eq(classify(all, 0, &g), "TETD");
			ck_assert_uint_eq(g.sse->tck, strlen(head));
			ck_assert_uint_eq(g.flags[1] & ~TTFT_SSE_F_NUMS, TTFT_SSE_F_USAGE);
			unsigned have = g.flags[1] & TTFT_SSE_F_NUMS ? g.nums[1].have : 0;
			ck_assert_msg(have == cases[i].have, "%s: have %x", cases[i].usage, have);
			if (have & 1)
				ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_PROMPT_TOKENS], cases[i].p);
			if (have & 2)
				ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_COMPLETION_TOKENS], cases[i].c);
			if (have & 4)
				ck_assert_uint_eq(g.nums[1].v[TTFT_NUM_CACHED_TOKENS], cases[i].k);
		}
}
END_TEST

/* A chat response's role event, taken at once at the hint's checkpoint
 * (role_event, vLLM's exact form with "usage":null or without it): every
 * form gives the events and flags that one byte at a time gives (which
 * never takes it), an event a read, and at every split of the second
 * response (the first, read whole, leaves its template as the hint); and
 * the forms it must leave to the full scan (a token in it, another
 * choice, another key or value, whitespace, a usage object, CRLFs, cut)
 * likewise. Each response's token events after it are checked too (the
 * state it leaves). */
static void feed_two(struct ttft_sse *sse, struct got *g, const char *a, const char *b,
		     size_t at)
{
	start(sse, g);
	ttft_sse_reset(sse);
	ttft_sse_feed(sse, a, strlen(a));
	ttft_sse_reset(sse);
	feed_split(sse, b, strlen(b), at);
}

START_TEST(a_chat_role_event_is_taken_as_the_scan_takes_it)
{
	static const struct {
		const char *role; /* the role event's choices and after */
		const char *seq;  /* the second response's events, whole */
	} cases[] = {
		/* taken */
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n", "ETTED"},
		/* the full scan's */
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"x\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]}\n\n", "TTTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]}\r\n\r\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]}\ndata: \n\n", "ETTED"},
		{"[{\"index\":1,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\","
		 "\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null},"
		 "\"logprobs\":null,\"finish_reason\":null}]}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}], \"usage\":null}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}],\"usage\":{\"prompt_tokens\":5,"
		 "\"total_tokens\":5,\"completion_tokens\":0}}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}],\"usage\":nul}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]}}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}}\n\n", "ETTED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]", "ETED"},
		{"[{\"index\":0,\"delta\":{\"role\":\"user\",\"content\":\"\"},"
		 "\"logprobs\":null,\"finish_reason\":null}]}\n\n", "ETTED"},
	};
	static struct ttft_sse sse;
	struct got ref, got;
	const char *first = ROLE("chatcmpl-1", "100", "0", "") CHAT("chatcmpl-1", "100");
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char b[2048];
		snprintf(b, sizeof b, "%s%s%s",
			 "data: {\"id\":\"chatcmpl-22\",\"object\":\"chat.completion.chunk\","
			 "\"created\":1011,\"model\":\"Qwen/Qwen2.5-1.5B-Instruct\",\"choices\":",
			 cases[i].role, CHAT("chatcmpl-22", "1011"));
		feed_two(&sse, &ref, first, b, (size_t)-2);
		feed_two(&sse, &got, first, b, 0);
		same_events(&ref, &got, "whole");
		ck_assert_msg(strlen(got.seq) > 5 && !strcmp(got.seq + 5, cases[i].seq),
			      "case %zu: %s", i, got.seq);
		feed_two(&sse, &got, first, b, (size_t)-1);
		same_events(&ref, &got, "an event a read");
		for (size_t at = 1; at < strlen(b); at++) {
			feed_two(&sse, &got, first, b, at);
			same_events(&ref, &got, "split");
		}
	}
}
END_TEST

static uint32_t xorshift32(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Each event of s (its "\n\n"-ended pieces) in a read of its own, as a
 * server paced one token a write sends them: what the resumes at the
 * template's checkpoint see, against one byte at a time. */
static void per_event_vs_bytes(const char *s, size_t n)
{
	for (int full = 0; full < 2; full++) {
		struct got bytes, evs;
		classify_n(s, n, 1, full, &bytes);
		static struct ttft_sse sse;
		memset(&evs, 0, sizeof evs);
		evs.sse = &sse;
		ttft_sse_init(&sse, on_event, NULL, &evs);
		sse.full = (uint8_t)full;
		for (size_t i = 0; i < n;) {
			const char *e = strstr(s + i, "\n\n");
			size_t j = e ? (size_t)(e - s) + 2 : n;
			ttft_sse_feed(&sse, s + i, j - i);
			/* a suffix only with its template: the one-token
			 * test's state half asks for the suffix alone
			 * (ttft_sse_template_ready) */
			ck_assert(!sse.slen || sse.tlen);
			i = j;
		}
		same_events(&bytes, &evs, "an event a read");
	}
}

/* Random top-level members before the token (strings holding ',' and
 * '\"', nested objects and arrays with ',' inside, numbers), then events
 * cut at each of the head's top-level ',' and ended another way (usage,
 * an error, another choice, a finish, malformed): the template's
 * checkpoint (tck) is the last top-level ',' whatever the head held, and
 * every event classifies as one byte at a time does, an event a read and
 * at every split (seed fixed: the same streams every run). */
START_TEST(template_checkpoints_after_random_heads)
{
	static const char *const vals[] = {
		"\"c1\"", "\"a,b\"", "\"q\\\",r\"", "12", "1.5", "null", "true",
		"{\"a\":[1,{\"b\":\"c,d\"}],\"e\":{}}", "[1,\"x,y\",[2,{}]]",
		"{\"choices\":[{\"index\":1}]}", "\"\\\\\"",
	};
	static const char *const keys[] = {
		"id", "object", "created", "model", "system_fingerprint", "x", "a,b",
	};
	/* [0]: a chat completion's; [1]: Anthropic's, whose token's object
	 * has a ',' at depth 2 before it (never the checkpoint) */
	static const char *const last[2] = {"", "\"type\":\"content_block_delta\",\"index\":0,"};
	static const char *const ends[2][7] = {{
		"\"choices\":[{\"index\":0,\"delta\":{\"content\":\" a\"}}]}",
		"\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}",
		"\"error\":{\"message\":\"x\"}}",
		"\"choices\":[{\"index\":1,\"delta\":{\"content\":\" b\"}}]}",
		"\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
		"\"choices\":[{]}",
		"\"usage\":{\"prompt_tokens\":7},\"choices\":[{\"delta\":{\"content\":\"z\"}}]}",
	}, {
		"\"delta\":{\"type\":\"text_delta\",\"text\":\" a\"}}",
		"\"delta\":{\"type\":\"text_delta\",\"text\":\"\"}}",
		"\"delta\":{\"type\":\"text_delta\",\"usage\":{\"output_tokens\":9}}}",
		"\"delta\":{\"type\":\"text_delta\",\"error\":{\"message\":\"x\"}}}",
		"\"delta\":{\"type\":\"text_delta\",\"text\":\" c\"},\"usage\":{\"output_tokens\":4}}",
		"\"error\":{\"type\":\"overloaded_error\"}}",
		"\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}",
	}};
	const size_t nv = sizeof vals / sizeof *vals, nk = sizeof keys / sizeof *keys,
		     ne = sizeof ends[0] / sizeof *ends[0];
	uint32_t x = 2463534242u;
#define RND() xorshift32(&x)
	size_t resumed = 0;
	for (int round = 0; round < 240; round++) {
		int f = round % 2;
		char head[512] = "data: {", all[8192] = "", ev[1024];
		size_t cuts[8], ncut = 0;
		size_t members = RND() % 5;
		for (size_t m = 0; m < members; m++) {
			size_t l = strlen(head);
			snprintf(head + l, sizeof head - l, "\"%s\":%s,", keys[RND() % nk],
				 vals[RND() % nv]);
			cuts[ncut++] = strlen(head); /* just past a top-level ',' */
		}
		if (f) {
			strcat(head, last[f]);
			cuts[ncut++] = strlen(head);
		}
		/* the template's event, then the same again (one-token reads) */
		for (int i = 0; i < 2; i++) {
			int l = snprintf(ev, sizeof ev, "%s%s\n\n", head, ends[f][0]);
			ck_assert(l > 0 && (size_t)l < sizeof ev);
			strcat(all, ev);
		}
		size_t two = strlen(all);
		for (int i = 0; i < 8; i++) {
			/* the whole head (the checkpoint itself) or a cut of it */
			size_t c = strlen(head);
			if (ncut && RND() % 4 == 0)
				c = cuts[RND() % ncut];
			int l = snprintf(ev, sizeof ev, "%.*s%s\n\n", (int)c, head,
					 ends[f][RND() % ne]);
			ck_assert(l > 0 && (size_t)l < sizeof ev);
			ck_assert_uint_lt(strlen(all) + (size_t)l, sizeof all);
			strcat(all, ev);
		}
		strcat(all, "data: [DONE]\n\n");
		/* the first two events' template (a later token event makes its
		 * own): kept (its head short enough, no other choice in it), its
		 * checkpoint is the head's last top-level ',' */
		struct got g;
		classify_n(all, two, 0, 0, &g);
		if (ncut && g.sse->tlen)
			ck_assert_uint_eq(g.sse->tck, cuts[ncut - 1]);
		resumed += ncut && g.sse->tlen;
		per_event_vs_bytes(all, strlen(all));
		if (round % 24 == 0)
			split_invariant(all, strlen(all));
	}
#undef RND
	ck_assert_uint_gt(resumed, 80);
}
END_TEST

/* What an event came to: its class letters and the numbers it had. */
static unsigned outcome(const char *ev, char *seq, size_t len)
{
	struct got g;
	snprintf(seq, len, "%s", classify(ev, 0, &g));
	return g.n && (g.flags[0] & TTFT_SSE_F_NUMS) ? g.nums[0].have : 0;
}

/* Every byte of every key that decides an event, changed (case flipped,
 * low bit flipped): the event is no longer what it was. The keys are
 * compared by words (key_id); a word compare that skipped a byte would
 * still match. */
START_TEST(every_byte_of_a_key_counts)
{
	static const char *const evs[] = {
		"{\"choices\":[{\"text\":\"x\"}]}",
		"{\"choices\":[{\"delta\":{\"content\":\"x\"}}]}",
		"{\"choices\":[{\"delta\":{\"reasoning_content\":\"x\"}}]}",
		"{\"choices\":[{\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"x\"}}]}}]}",
		"{\"usage\":{\"prompt_tokens\":8,\"completion_tokens\":16}}",
		"{\"usage\":{\"prompt_tokens_details\":{\"cached_tokens\":7}}}",
		"{\"timings\":{\"prompt_n\":1,\"prompt_ms\":8.4,\"predicted_n\":8,"
		"\"predicted_ms\":47.8,\"cache_n\":7}}",
		"{\"type\":\"response.output_text.delta\",\"delta\":\"x\"}",
		"{\"error\":{\"message\":\"x\"}}",
	};
	long changed = 0;
	for (size_t i = 0; i < sizeof evs / sizeof *evs; i++) {
		char ev[512], seq0[64], seq[64];
		int n = snprintf(ev, sizeof ev, "data: %s\n\n", evs[i]);
		unsigned have0 = outcome(ev, seq0, sizeof seq0);
		ck_assert_msg(strcmp(seq0, "E") || have0, "%s decides nothing", evs[i]);
		for (int k = 6; k < n; k++) {
			/* a key: a string followed by ':' */
			if (ev[k] != '"' || ev[k - 1] == ':')
				continue;
			const char *q = strchr(ev + k + 1, '"');
			if (!q || q[1] != ':')
				continue;
			size_t klen = (size_t)(q - (ev + k + 1));
			char key[64];
			snprintf(key, sizeof key, "%.*s", (int)klen, ev + k + 1);
			for (size_t j = 0; j < klen; j++)
				for (int flip = 0; flip < 2; flip++) {
					char m[512];
					memcpy(m, ev, (size_t)n + 1);
					m[k + 1 + (int)j] ^= flip ? 0x20 : 0x01;
					unsigned have = outcome(m, seq, sizeof seq);
					/* an error's message and a Responses
					 * event's type decide nothing here */
					if (!strcmp(key, "message") || !strcmp(key, "type"))
						continue;
					ck_assert_msg(strcmp(seq, seq0) || have != have0,
						      "%s: key %s byte %zu changed, same "
						      "outcome %s", evs[i], key, j, seq);
					changed++;
				}
		}
	}
	ck_assert_int_eq(changed, 2 * 236); /* the 236 bytes of the deciding keys */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("sse");
	TCase *t = tu_tcase(s, "classify", 120);
	tcase_add_test(t, completions_text_is_token);
	tcase_add_test(t, choices_other_than_0_are_flagged);
	tcase_add_test(t, byte_order_mark_at_the_stream_start);
	tcase_add_test(t, every_byte_of_a_key_counts);
	tcase_add_test(t, template_compare_sees_every_byte);
	tcase_add_test(t, one_token_read_length_bounds);
	tcase_add_test(t, first_token_event_makes_the_whole_template);
	tcase_add_test(t, a_template_start_resumes_at_its_last_top_level_key);
	tcase_add_test(t, chat_role_chunk_is_not_a_token);
	tcase_add_test(t, reasoning_and_tool_calls_are_tokens);
	tcase_add_test(t, done_error_usage);
	tcase_add_test(t, done_read_whole_is_the_scans_done);
	tcase_add_test(t, event_named_error);
	tcase_add_test(t, line_endings_comments_multiline);
	tcase_add_test(t, llamacpp_native_content);
	tcase_add_test(t, every_split_of_a_chat_stream);
	tcase_add_test(t, data_bytes_are_passed_on);
	tcase_add_test(t, garbage_never_crashes);
	tcase_add_test(t, an_empty_first_data_line_keeps_no_earlier_event);
	tcase_add_test(t, responses_api_deltas);
	tcase_add_test(t, anthropic_messages);
	tcase_add_test(t, anthropic_prompt_with_cache);
	tcase_add_test(t, anthropic_delta_usage_is_the_final_prompt);
	tcase_add_test(t, anthropic_zero_delta_usage_is_no_count);
	tcase_add_test(t, anthropic_zero_start_usage_is_no_count);
	tcase_add_test(t, anthropic_null_usage_parts_are_not_said);
	tcase_add_test(t, anthropic_delta_parts_combine_with_the_start);
	tcase_add_test(t, anthropic_malformed_events_give_no_parts);
	tcase_add_test(t, anthropic_malformed_delta_before_its_parts_makes_the_count_stale);
	tcase_add_test(t, a_malformed_events_numbers_are_not_taken);
	tcase_add_test(t, llamacpp_timings_and_usage);
	tcase_add_test(t, numbers_are_exact_or_absent);
	tcase_add_test(t, malformed_json_is_flagged_when_read_in_full);
	tcase_add_test(t, templates_agree_with_the_full_scan);
	tcase_add_test(t, random_streams_split_anywhere);
	tcase_add_test(t, template_checkpoints_after_random_heads);
	tcase_add_test(t, a_vllm_usage_event_is_taken_as_the_scan_takes_it);
	tcase_add_test(t, a_chat_role_event_is_taken_as_the_scan_takes_it);
	tcase_add_test(t, a_response_fits_the_last_ones_template_but_its_id);
	tcase_add_test(t, a_torn_hint_stays_in_its_bounds);
	tcase_add_test(t, a_torn_template_is_never_read_past_its_end);
	tcase_add_test(t, a_hinted_template_keeps_no_suffix_it_did_not_read);
	tcase_add_test(t, a_template_kept_after_its_checkpoint_keeps_it);
	tcase_add_test(t, an_event_at_the_hints_checkpoint_reads_on_from_there);
	tcase_add_test(t, a_chat_chunk_with_usage_null_keeps_its_whole_template);
	return tu_run(s);
}
