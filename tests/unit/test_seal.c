/* test_seal.c — the record seal (shim/core/ttft_log.h, docs/log-format.md):
 * the check writers make is the documented sum; small damage never
 * passes, proved for every possible record by enumerating what it does to
 * that sum, and seen on real records; a writer handed a slot that is not
 * fresh makes a record every reader calls damaged, never a wrong one; a
 * log of version 2 still reads, by its own seal, and is never written. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "ttft_logread.h"
#include "ttft_logsort.h"
#include "ttft_seal.h"

#define WORDS (TTFT_REC_SIZE / 8)

static char g_path[256];

static uint64_t g_x = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	g_x ^= g_x << 13;
	g_x ^= g_x >> 7;
	g_x ^= g_x << 17;
	return g_x;
}

/* ---- the check as docs/log-format.md defines it ---- */

static uint64_t swap(uint64_t x)
{
	return x << 32 | x >> 32;
}

static uint64_t term(uint64_t w, size_t i)
{
	return swap(w * TTFT_SEAL_K) * ttft_seal_k_[i];
}

/* The sum, before a low half of 0 is stored as 1. */
static uint64_t sum_of(const struct ttft_rec *r)
{
	uint64_t w[WORDS];
	memcpy(w, r, sizeof w);
	uint64_t s = term((w[0] & 0xffffffff00000000ull) | (w[7] & 0xffffffffull), 0);
	for (size_t i = 1; i < WORDS; i++)
		if (i != 7)
			s += term(w[i], i);
	return s;
}

static void random_rec(struct ttft_rec *r)
{
	uint64_t w[WORDS];
	for (size_t i = 0; i < WORDS; i++)
		w[i] = rnd();
	memcpy(r, w, sizeof w);
}

/* A record of each kind the shim writes: all bits random, an ASCII
 * text, no text (a token event), small fields with a -1. */
static void sample_rec(struct ttft_rec *r, int which)
{
	random_rec(r);
	if (which == 1)
		memcpy(r->text, "POST /v1/chat/completions?stream=true&model=qwen2.5-0.5b-instruct", 64);
	if (which >= 2)
		memset(r->text, 0, sizeof r->text);
	if (which == 3) {
		r->kind = TTFT_EV_SSE_TOKEN;
		r->flags = 0x0102;
		r->t_ns = 1234567890123;
		r->pid = 4242;
		r->tid = 4243;
		r->fd = 7;
		r->err = 0;
		r->conn = 99;
		r->a = -1;
		r->b = 17;
		r->seq = 3;
	}
	uint64_t k = ttft_rec_seal(r);
	r->seal = (uint32_t)k;
	r->seal_hi = (uint32_t)(k >> 32);
}

START_TEST(seal_is_the_documented_sum)
{
	for (size_t i = 0; i < WORDS; i++) {
		uint64_t k = ttft_seal_k_[i];
		if (i == 7) {
			ck_assert_uint_eq(k, 0); /* seq is summed in word 0's term */
			continue;
		}
		ck_assert_msg(k & 1, "K[%zu] is even", i);
		/* an imul's sign-extended 32-bit immediate: one instruction */
		ck_assert_uint_eq((uint64_t)(int64_t)(int32_t)(uint32_t)k, k);
	}
	for (int round = 0; round < 100000; round++) {
		struct ttft_rec r;
		random_rec(&r);
		if (round % 4 == 0)
			r.seal = 0; /* the seal's own bytes never count */
		uint64_t s = sum_of(&r);
		if ((uint32_t)s == 0)
			s |= 1;
		ck_assert_uint_eq(ttft_rec_seal(&r), s);
	}
	/* a low half of 0 is stored as 1: 0 means "not published" */
	struct ttft_rec z;
	memset(&z, 0, sizeof z);
	ck_assert_uint_eq(ttft_rec_seal(&z), 1);
}
END_TEST

/* A writer seals only the text words its text reaches (the rest of a
 * fresh slot is zeros, whose terms are 0): the same check. */
START_TEST(partial_text_is_the_whole_seal)
{
	for (size_t n = 0; n <= TTFT_REC_TEXT; n++) {
		struct ttft_rec r;
		random_rec(&r);
		memset(r.text, 0, sizeof r.text);
		for (size_t i = 0; i < n; i++)
			r.text[i] = (char)(1 + rnd() % 255);
		ck_assert_uint_eq(ttft_rec_seal_(&r, (n + 7) / 8), ttft_rec_seal(&r));
	}
}
END_TEST

/* Damage to summed word i (u for i = 0) moves the sum by D * K[i], where
 * D is the change of swap(w * K). With d the word's new value minus its
 * old (mod 2^64), w * K moves by d * K, and D is swap(d * K) plus what
 * carries across the halves (out of the low half into the high, and out
 * of the high, which wraps into the low): one of these four, whatever the
 * record holds. */
static const uint64_t g_carry[4] = {0, 1, (uint64_t)0 - (1ull << 32), 1 - (1ull << 32)};

static void moves(uint64_t d, size_t i, uint64_t m[4])
{
	uint64_t r = swap(d * TTFT_SEAL_K);
	for (int c = 0; c < 4; c++)
		m[c] = (r + g_carry[c]) * ttft_seal_k_[i];
}

/* A damage passes only if the sum moves by 0, or by 1 either way (a
 * check with low half 0 is stored as the one above it) ... */
static int passes(uint64_t m)
{
	return m == 0 || m == 1 || m == (uint64_t)-1;
}

/* ... or, with one bit of the stored seal damaged too (bit s of the
 * check), by +-2^s, give or take that 1. */
static int passes_with_seal_bit(uint64_t m)
{
	for (int c = -1; c <= 1; c++) {
		uint64_t x = m + (uint64_t)(int64_t)c;
		if (__builtin_popcountll(x) == 1 || __builtin_popcountll(0 - x) == 1)
			return 1;
	}
	return 0;
}

static const size_t g_summed[] = {0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15};
#define NSUMMED (sizeof g_summed / sizeof g_summed[0])

/* Every damage inside one byte, of up to two bits anywhere (the seal's
 * own included), caught in every possible record: the enumeration above,
 * after the carry rule itself is checked on random values. */
START_TEST(small_damage_never_passes)
{
	const int rounds = 1000000 / tu_stride("small_damage_never_passes (the carry rule)");
	for (int round = 0; round < rounds; round++) {
		uint64_t x = rnd(), d = rnd() >> (round % 64), m = swap(d);
		uint64_t got = swap(x + d) - swap(x);
		int ok = 0;
		for (int c = 0; c < 4; c++)
			ok |= got == m + g_carry[c];
		ck_assert_msg(ok, "carry rule: x %llx d %llx", (unsigned long long)x,
			      (unsigned long long)d);
	}
	long cases = 0;
	uint64_t m[4];
	for (size_t n = 0; n < NSUMMED; n++) {
		size_t i = g_summed[n];
		/* one byte: any new value of any of its 8 bytes */
		for (int byte = 0; byte < 8; byte++)
			for (int diff = -255; diff <= 255; diff++) {
				if (!diff)
					continue;
				moves((uint64_t)(int64_t)diff << (8 * byte), i, m);
				for (int c = 0; c < 4; c++, cases++)
					ck_assert_msg(!passes(m[c]), "word %zu byte %d %+d", i, byte, diff);
			}
		/* two bits of the same word, each set or cleared */
		for (int a = 0; a < 64; a++)
			for (int b = a + 1; b < 64; b++)
				for (int s = 0; s < 4; s++) {
					uint64_t da = 1ull << a, db = 1ull << b;
					moves((s & 1 ? 0 - da : da) + (s & 2 ? 0 - db : db), i, m);
					for (int c = 0; c < 4; c++, cases++)
						ck_assert_msg(!passes(m[c]), "word %zu bits %d %d", i, a, b);
				}
		/* one bit, and one bit of the seal */
		for (int a = 0; a < 64; a++)
			for (int s = 0; s < 2; s++) {
				moves(s ? 0 - (1ull << a) : 1ull << a, i, m);
				for (int c = 0; c < 4; c++, cases++)
					ck_assert_msg(!passes_with_seal_bit(m[c]),
						      "word %zu bit %d with a seal bit", i, a);
			}
	}
	/* one bit in each of two words */
	static uint64_t one[NSUMMED][64 * 2 * 4];
	for (size_t n = 0; n < NSUMMED; n++)
		for (int a = 0; a < 64; a++)
			for (int s = 0; s < 2; s++)
				moves(s ? 0 - (1ull << a) : 1ull << a, g_summed[n], &one[n][(a * 2 + s) * 4]);
	long bad = 0;
	for (size_t p = 0; p < NSUMMED; p++)
		for (size_t q = p + 1; q < NSUMMED; q++)
			for (int u = 0; u < 64 * 2 * 4; u++)
				for (int v = 0; v < 64 * 2 * 4; v++)
					bad += passes(one[p][u] + one[q][v]);
	cases += (long)(NSUMMED * (NSUMMED - 1) / 2) * 512 * 512;
	ck_assert_int_eq(bad, 0);
	ck_assert_int_gt(cases, 28000000);
}
END_TEST

/* The same on real records, through the reader's check: every pair of
 * bits of the checked bytes, and every checked bit with every bit of the
 * seal. (Version 2's chain let bit 63 of one word and bit 30 of the next
 * in its lane cancel.) */
START_TEST(two_bit_damage_is_caught_in_records)
{
	static const int checked[] = {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
		20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
		41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 64, 65,
		66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 83, 84, 85, 86,
		87, 88, 89, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105,
		106, 107, 108, 109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121,
		122, 123, 124, 125, 126, 127};
	static const int seal_bytes[] = {0, 1, 2, 3, 60, 61, 62, 63};
	const int nb = (int)(sizeof checked / sizeof checked[0]) * 8;
	long cases = 0;
	for (int which = 0; which < 4; which++) {
		struct ttft_rec good;
		sample_rec(&good, which);
		ck_assert_int_eq(ttft_rec_sealed(&good), 1);
		for (int x = 0; x < nb; x++) {
			for (int y = x + 1; y < nb; y++) {
				struct ttft_rec bad = good;
				unsigned char *b = (unsigned char *)&bad;
				b[checked[x / 8]] ^= (unsigned char)(1u << (x % 8));
				b[checked[y / 8]] ^= (unsigned char)(1u << (y % 8));
				ck_assert_msg(!ttft_rec_sealed(&bad), "record %d: bits %d.%d and %d.%d",
					      which, checked[x / 8], x % 8, checked[y / 8], y % 8);
				cases++;
			}
			for (int y = 0; y < 64; y++) {
				struct ttft_rec bad = good;
				unsigned char *b = (unsigned char *)&bad;
				b[checked[x / 8]] ^= (unsigned char)(1u << (x % 8));
				b[seal_bytes[y / 8]] ^= (unsigned char)(1u << (y % 8));
				ck_assert_msg(!ttft_rec_sealed(&bad), "record %d: bit %d.%d and seal bit %d",
					      which, checked[x / 8], x % 8, y);
				cases++;
			}
		}
	}
	ck_assert_int_gt(cases, 4 * 460000);
}
END_TEST

/* Two damaged bytes in two words of real records, any new values: none
 * of a million passes (the enumeration above covers one byte, or two
 * bits). */
START_TEST(two_damaged_bytes_are_caught_in_records)
{
	long cases = 0;
	const int rounds = 1000000 / tu_stride("two_damaged_bytes_are_caught_in_records");
	for (int round = 0; round < rounds; round++) {
		struct ttft_rec good, bad;
		sample_rec(&good, round % 4);
		bad = good;
		unsigned char *b = (unsigned char *)&bad;
		size_t p, q;
		do {
			p = 4 + rnd() % (TTFT_REC_SIZE - 4);
			q = 4 + rnd() % (TTFT_REC_SIZE - 4);
		} while (p / 8 == q / 8 || (p >= 60 && p < 64) || (q >= 60 && q < 64));
		b[p] ^= (unsigned char)(1 + rnd() % 255);
		b[q] ^= (unsigned char)(1 + rnd() % 255);
		ck_assert_msg(!ttft_rec_sealed(&bad), "round %d: bytes %zu and %zu", round, p, q);
		cases++;
	}
	ck_assert_int_eq(cases, rounds);
}
END_TEST

/* ---- a slot that is not fresh ---- */

/* Writers do not clear a slot: every slot is handed out once, from a file
 * that starts as zeros. Were one not fresh, the record must read as
 * damaged — never as the event with someone else's bytes in its text. */
START_TEST(a_slot_not_fresh_reads_as_damage)
{
	tu_tmp_log(g_path, sizeof g_path, "dirty");
	struct ttft_log log;
	const char *why;
	ck_assert_int_eq(ttft_log_open(&log, g_path, 16 * TTFT_REC_SIZE, &why), 0);
	ttft_log_close(&log);
	FILE *f = fopen(g_path, "r+");
	ck_assert_ptr_nonnull(f);
	static const char junk[] = "left over from somewhere else";
	for (long slot = 0; slot < 2; slot++) {
		fseek(f, TTFT_LOG_HDR_SIZE + slot * (long)TTFT_REC_SIZE + 64 + 16, SEEK_SET);
		fwrite(junk, 1, sizeof junk - 1, f);
	}
	fclose(f);
	ck_assert_int_eq(ttft_log_open(&log, g_path, 16 * TTFT_REC_SIZE, &why), 0);
	ck_assert(ttft_log_put(&log, &(struct ttft_event){.kind = TTFT_EV_SSE_TOKEN, .b = 1}));
	ck_assert(ttft_log_put(&log, &(struct ttft_event){.kind = TTFT_EV_REQ_BEGIN,
							   .text = "GET /", .text_len = 5}));
	ck_assert(ttft_log_put(&log, &(struct ttft_event){.kind = TTFT_EV_SSE_TOKEN, .b = 2}));
	ttft_log_close(&log);
	struct ttft_log_view v;
	char err[512];
	ck_assert_int_eq(ttft_log_view_open(&v, g_path, err, sizeof err), 0);
	struct ttft_rec r;
	ck_assert_int_eq(ttft_log_view_get(&v, 0, &r), 0);
	ck_assert_int_eq(ttft_log_view_get(&v, 1, &r), 0);
	ck_assert_int_eq(ttft_log_view_get(&v, 2, &r), 1);
	ck_assert_int_eq(r.b, 2);
	ck_assert_uint_eq(v.corrupt, 2);
	ttft_log_view_close(&v);
	unlink(g_path);
}
END_TEST

/* ---- version 2 ---- */

/* Make PATH a version-2 log: the header says so, every record written so
 * far carries version 2's seal. */
static void make_v2(const char *path, uint64_t n)
{
	FILE *f = fopen(path, "r+");
	ck_assert_ptr_nonnull(f);
	uint32_t ver = 2;
	fseek(f, 8, SEEK_SET);
	fwrite(&ver, 4, 1, f);
	for (uint64_t i = 0; i < n; i++) {
		struct ttft_rec r;
		long at = TTFT_LOG_HDR_SIZE + (long)i * TTFT_REC_SIZE;
		fseek(f, at, SEEK_SET);
		ck_assert_int_eq(fread(&r, sizeof r, 1, f), 1);
		uint64_t k = ttft_rec_seal_v2(&r);
		r.seal = (uint32_t)k;
		r.seal_hi = (uint32_t)(k >> 32);
		fseek(f, at, SEEK_SET);
		fwrite(&r, sizeof r, 1, f);
	}
	fclose(f);
}

static void count_one(void *ctx, struct ttft_rec *r)
{
	(void)r;
	++*(long *)ctx;
}

#define N2 3000

START_TEST(version2_log_reads_by_its_seal)
{
	tu_tmp_log(g_path, sizeof g_path, "v2");
	struct ttft_log log;
	const char *why;
	ck_assert_int_eq(ttft_log_open(&log, g_path, 1 << 20, &why), 0);
	for (int i = 0; i < N2; i++)
		ck_assert(ttft_log_put(&log, &(struct ttft_event){
			.kind = TTFT_EV_MARK, .t_ns = 1000 + i, .b = i,
			.text = i % 2 ? "a mark" : NULL, .text_len = 6}));
	ttft_log_close(&log);
	make_v2(g_path, N2);
	struct ttft_log_view v;
	char err[512];
	ck_assert_int_eq(ttft_log_view_open(&v, g_path, err, sizeof err), 0);
	ck_assert_int_eq(v.seal_v2, 1);
	long got = 0;
	for (uint64_t i = 0; i < v.n_slots; i++) {
		struct ttft_rec r;
		got += ttft_log_view_get(&v, i, &r);
	}
	ck_assert_int_eq(got, N2);
	/* the whole-log pass: mapped, copied and checked in one (vector) pass */
	ttft_log_view_restart(&v);
	got = 0;
	ck_assert_int_eq(ttft_log_each(&v, TTFT_LOGSORT_WINDOW, count_one, &got), 0);
	ck_assert_int_eq(got, N2);
	ck_assert_uint_eq(v.corrupt + v.unpublished, 0);
	ttft_log_view_close(&v);
	char cmd[512], *out;
	snprintf(cmd, sizeof cmd, "%s/ttft-analyze %s 2>&1", tu_build_dir(), g_path);
	ck_assert_int_eq(tu_sh(cmd, &out), 0);
	free(out);
	/* The writer leaves it alone: it would append records of another
	 * version. */
	size_t n0, n1;
	char *before = tu_read_file(g_path, &n0);
	why = NULL;
	ck_assert_int_eq(ttft_log_open(&log, g_path, 1 << 20, &why), -1);
	ck_assert_ptr_nonnull(why);
	char *after = tu_read_file(g_path, &n1);
	ck_assert(n0 == n1 && memcmp(before, after, n0) == 0);
	free(before);
	free(after);
	/* a record with this version's seal, or a damaged byte, in a
	 * version-2 log: damaged */
	FILE *f = fopen(g_path, "r+");
	struct ttft_rec r;
	fseek(f, TTFT_LOG_HDR_SIZE + 10 * TTFT_REC_SIZE, SEEK_SET);
	ck_assert_int_eq(fread(&r, sizeof r, 1, f), 1);
	uint64_t k = ttft_rec_seal(&r);
	r.seal = (uint32_t)k;
	r.seal_hi = (uint32_t)(k >> 32);
	fseek(f, TTFT_LOG_HDR_SIZE + 10 * TTFT_REC_SIZE, SEEK_SET);
	fwrite(&r, sizeof r, 1, f);
	fseek(f, TTFT_LOG_HDR_SIZE + 20 * TTFT_REC_SIZE + 70, SEEK_SET);
	fputc('!', f);
	fclose(f);
	ck_assert_int_eq(ttft_log_view_open(&v, g_path, err, sizeof err), 0);
	got = 0;
	ck_assert_int_eq(ttft_log_each(&v, TTFT_LOGSORT_WINDOW, count_one, &got), 0);
	ck_assert_int_eq(got, N2 - 2);
	ck_assert_uint_eq(v.corrupt, 2);
	ttft_log_view_close(&v);
	unlink(g_path);
}
END_TEST

/* Version 2's copy-and-check (vector code where the CPU has it) agrees
 * with its plain check, copies every byte, and still catches every
 * damaged byte. */
START_TEST(version2_check_agrees_and_catches)
{
	struct ttft_log_view v;
	memset(&v, 0, sizeof v);
	v.seal_v2 = 1;
	for (int round = 0; round < 100000; round++) {
		struct ttft_rec r, copy;
		random_rec(&r);
		r.kind = (uint16_t)(1 + round % (TTFT_EV__COUNT - 1));
		if (round % 2) {
			uint64_t k = ttft_rec_seal_v2(&r);
			r.seal = (uint32_t)k;
			r.seal_hi = (uint32_t)(k >> 32);
		}
		int want = r.seal != 0 && ttft_rec_sealed_as(2, &r);
		ck_assert_int_eq(want, round % 2);
		ck_assert_int_eq(ttft_log_view_check(&v, &r), want);
		ck_assert_int_eq(ttft_log_view_take(&v, &copy, &r), want);
		ck_assert(memcmp(&copy, &r, sizeof r) == 0);
	}
	struct ttft_rec good;
	sample_rec(&good, 1);
	good.kind = TTFT_EV_REQ_BEGIN;
	uint64_t k = ttft_rec_seal_v2(&good);
	good.seal = (uint32_t)k;
	good.seal_hi = (uint32_t)(k >> 32);
	ck_assert_int_eq(ttft_log_view_check(&v, &good), 1);
	for (size_t off = 4; off < sizeof good; off++)
		for (unsigned x = 1; x < 256; x++) {
			if (off >= 60 && off < 64)
				continue;
			struct ttft_rec bad = good, copy;
			((unsigned char *)&bad)[off] ^= (unsigned char)x;
			ck_assert_msg(!ttft_log_view_take(&v, &copy, &bad), "byte %zu ^ %02x", off, x);
		}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("seal");
	TCase *t = tu_tcase(s, "seal", 120);
	tcase_add_test(t, seal_is_the_documented_sum);
	tcase_add_test(t, partial_text_is_the_whole_seal);
	tcase_add_test(t, small_damage_never_passes);
	tcase_add_test(t, two_bit_damage_is_caught_in_records);
	tcase_add_test(t, two_damaged_bytes_are_caught_in_records);
	tcase_add_test(t, a_slot_not_fresh_reads_as_damage);
	tcase_add_test(t, version2_log_reads_by_its_seal);
	tcase_add_test(t, version2_check_agrees_and_catches);
	return tu_run(s);
}
