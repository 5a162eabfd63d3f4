/* fuzz_prom — libFuzzer harness for the Prometheus text parser and the
 * server-truth extraction (tools/lib/ttft_prom.c): any page parses without
 * a crash, a leak or undefined behaviour; every sample has a name; and the
 * split between two pages (the input cut in two) is well defined.
 * Built and run by `make fuzz` (tests/fuzz/run.sh). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ttft_prom.h"
#include "ttft_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	const char *text = (const char *)d;
	struct ttft_prom p;
	memset(&p, 0, sizeof p);
	char err[160];
	int got = ttft_prom_parse(text, n, &p, err, sizeof err);
	if (got < 0)
		return 0; /* out of memory: said, and p is empty */
	if ((size_t)got != p.n)
		abort();
	for (size_t i = 0; i < p.n; i++)
		if (!p.s[i].name || !p.s[i].name[0] || !p.s[i].labels)
			abort();
	int found;
	(void)ttft_prom_get(&p, "vllm:request_queue_time_seconds_sum", &found);
	struct ttft_truth a, b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	ttft_truth_from(&p, &a);
	ttft_prom_free(&p);
	char why[160];
	size_t half = n / 2;
	ttft_truth_page(text, half, &a, why, sizeof why);
	ttft_truth_page(text + half, n - half, &b, why, sizeof why);
	struct ttft_server_split sp;
	ttft_truth_split(&a, &b, n & 1, &sp);
	if (!memchr(sp.note, 0, sizeof sp.note))
		abort();
	return 0;
}
