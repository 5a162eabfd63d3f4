/* ttft_seal.h — the reader's seal checks, by log version
 * (docs/log-format.md): version 3's (ttft_rec_seal in shim/core/ttft_log.h,
 * the one writers make), and version 2's, kept so that logs written before
 * it still read. Each has a copy-and-check that makes one pass over the
 * record, with vector instructions where the CPU has them. */
#ifndef TTFT_SEAL_H
#define TTFT_SEAL_H

#include <stdint.h>

#include "ttft_log.h"

/* Version 2's 64-bit check: four lanes of h = rotl((h ^ w) * K, 31) over
 * the record's words (the seal's own bytes read as zero), xor'd; a low
 * half of 0 becomes 1. For reading old logs and for tests that write
 * them. */
uint64_t ttft_rec_seal_v2(const struct ttft_rec *rec);

/* Copy *src into *dst and say whether the copy's seal matches its bytes
 * under the log version's check (seal and seal_hi both). */
typedef int (*ttft_seal_take_fn)(struct ttft_rec *dst, const struct ttft_rec *src);
/* The copy-and-check for a log of this version (2 or 3), the vector one
 * where the CPU multiplies 64-bit lanes (AVX-512 DQ and VL). */
ttft_seal_take_fn ttft_seal_take_for(uint32_t version);
/* 1 if rec's seal matches its bytes under the version's check. */
int ttft_rec_sealed_as(uint32_t version, const struct ttft_rec *rec);

#endif
