/* test_sse.c — the SSE classifier: which events are tokens, whatever the
 * line endings or how the bytes are split. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_sse.h"
#include "testutil.h"

struct got {
	char seq[512];
	size_t n;
	unsigned flags[64];
};

static void on_event(void *ctx, enum ttft_sse_class c, unsigned flags)
{
	struct got *g = ctx;
	static const char letter[] = {'E', 'T', 'D', 'X'};
	size_t l = strlen(g->seq);
	g->seq[l] = letter[c];
	g->seq[l + 1] = 0;
	if (g->n < 64)
		g->flags[g->n] = flags;
	g->n++;
}

/* Classify a stream fed in pieces of `step` bytes (0 = all at once). */
static const char *classify(const char *s, size_t step, struct got *g)
{
	memset(g, 0, sizeof *g);
	struct ttft_sse sse;
	ttft_sse_init(&sse, on_event, NULL, g);
	size_t n = strlen(s);
	if (!step)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		ttft_sse_feed(&sse, s + i, n - i < step ? n - i : step);
	return g->seq;
}

#define CLASS(input, expect)                                                   \
	do {                                                                   \
		struct got g_;                                                 \
		for (size_t st_ = 0; st_ <= 3; st_++)                          \
			ck_assert_str_eq(classify(input, st_, &g_), expect);   \
	} while (0)

START_TEST(completions_text_is_token)
{
	CLASS("data: {\"choices\":[{\"index\":0,\"text\":\" Hi\",\"logprobs\":null}]}\n\n",
	      "T");
	CLASS("data: {\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}\n\n",
	      "E");
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
		struct got g = {0};
		struct ttft_sse sse;
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

int main(void)
{
	Suite *s = suite_create("sse");
	TCase *t = tu_tcase(s, "classify", 60);
	tcase_add_test(t, completions_text_is_token);
	tcase_add_test(t, chat_role_chunk_is_not_a_token);
	tcase_add_test(t, reasoning_and_tool_calls_are_tokens);
	tcase_add_test(t, done_error_usage);
	tcase_add_test(t, line_endings_comments_multiline);
	tcase_add_test(t, llamacpp_native_content);
	tcase_add_test(t, every_split_of_a_chat_stream);
	tcase_add_test(t, data_bytes_are_passed_on);
	tcase_add_test(t, garbage_never_crashes);
	return tu_run(s);
}
