/* fuzz_logread — libFuzzer harness for the log reader and the analyzer
 * behind ttft-analyze: any log file (header fields and records taken from
 * the input) reads, analyses and prints (table, warnings, JSON, events)
 * without a crash, a leak or undefined behaviour.
 *
 * Input: u64 capacity, u64 reserved, u64 dropped, u64 next_conn, u8 flags,
 * then 128-byte records. flags bit 0: seal the records (so they pass the
 * reader's check and reach the analyzer); bit 1: a bad magic; bit 2: a
 * log of version 2 (its records sealed with that version's check).
 * Seeds: tests/fuzz/mkseed_log.c turns tests/fixtures exchanges into logs.
 * Built and run by `make fuzz` (tests/fuzz/run.sh). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ttft_analyze.h"
#include "ttft_log.h"
#include "ttft_seal.h"

#define PREFIX 33

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	static int fd = -1;
	static char path[64];
	static FILE *null;
	if (fd < 0) {
		fd = memfd_create("ttft-fuzz-log", 0);
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		null = fopen("/dev/null", "w");
		if (fd < 0 || !null)
			abort();
	}
	if (n < PREFIX)
		return 0;
	size_t body = n - PREFIX;
	size_t size = TTFT_LOG_HDR_SIZE + body;
	unsigned char *file = calloc(1, size);
	struct ttft_log_hdr h;
	memset(&h, 0, sizeof h);
	memcpy(h.magic, (d[32] & 2) ? "TTFTLOG0" : TTFT_LOG_MAGIC, 8);
	int v2 = (d[32] & 4) != 0;
	h.version = v2 ? 2 : TTFT_LOG_VERSION;
	h.hdr_size = TTFT_LOG_HDR_SIZE;
	h.rec_size = TTFT_REC_SIZE;
	memcpy(&h.capacity, d, 8);
	memcpy(&h.reserved, d + 8, 8);
	memcpy(&h.dropped, d + 16, 8);
	memcpy(&h.next_conn, d + 24, 8);
	memcpy(file, &h, sizeof h);
	memcpy(file + TTFT_LOG_HDR_SIZE, d + PREFIX, body);
	if (d[32] & 1) {
		for (size_t i = 0; i + TTFT_REC_SIZE <= body; i += TTFT_REC_SIZE) {
			struct ttft_rec r;
			memcpy(&r, file + TTFT_LOG_HDR_SIZE + i, sizeof r);
			uint64_t k = v2 ? ttft_rec_seal_v2(&r) : ttft_rec_seal(&r);
			r.seal_hi = (uint32_t)(k >> 32);
			r.seal = (uint32_t)k;
			memcpy(file + TTFT_LOG_HDR_SIZE + i, &r, sizeof r);
		}
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, file, size, 0) != (ssize_t)size)
		abort();
	free(file);
	char err[512];
	struct ttft_analysis a;
	if (ttft_analyze_file(path, NULL, &a, err, sizeof err) == 0) {
		struct ttft_json j;
		if (ttft_json_init(&j, NULL, 0) != 0)
			abort();
		ttft_analysis_json(&j, &a);
		char *js = ttft_json_take(&j);
		ttft_json_free(&j);
		free(js);
		ttft_print_warnings(null, &a);
		ttft_print_table(null, &a);
		ttft_analysis_free(&a);
	}
	ttft_dump_events(null, path, NULL, err, sizeof err);
	return 0;
}
