/* ttft_json.h — the one JSON writer for every tool's output: written
 * straight into a FILE (through a staging buffer) or a growing string, no
 * tree. Strings come out as valid UTF-8 whatever goes in (a text cut in the
 * middle of a character gets U+FFFD); numbers in their shortest form that
 * reads back to the same double; NaN and infinities as null.
 * Per-request records and summaries have one serialisation here, so a field
 * has the same name and meaning in ttft-analyze, ttft-probe and ttft-cold.
 */
#ifndef TTFT_JSON_H
#define TTFT_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ttft_record.h"
#include "ttft_summary.h"

#define TTFT_JSON_MAX_DEPTH 32

struct ttft_json {
	FILE *f;            /* destination; NULL: into buf */
	char *buf;          /* staging buffer (FILE) or the string (memory) */
	size_t len, cap;
	int err;            /* errno of the first failure; 0: all written */
	int pretty;         /* newlines and tab indents */
	int depth;
	uint32_t filled;    /* bit d: the container at depth d has a member */
	uint32_t is_obj;    /* bit d: the container at depth d is an object */
	const char *note;   /* the last row note that was a constant (most
	                       rows': the same one), its length and whether
	                       it goes out as it is: measured once */
	size_t note_len;
	int note_plain;
};

/* Start writing to f, or (f NULL) into a string. -1 when out of memory
 * (err set). */
int ttft_json_init(struct ttft_json *j, FILE *f, int pretty);
/* FILE: write what is staged, fflush. Returns 0, or -1 with j->err set
 * when any write (or allocation) failed since ttft_json_init. */
int ttft_json_flush(struct ttft_json *j);
/* Memory: the string (NUL-terminated, the caller frees it), or NULL when
 * writing it failed. */
char *ttft_json_take(struct ttft_json *j);
/* Frees the staging buffer (after ttft_json_flush), or an untaken string. */
void ttft_json_free(struct ttft_json *j);

/* Values. key: the member name inside an object; NULL inside an array or
 * for the top-level value. */
void ttft_json_begin_obj(struct ttft_json *j, const char *key);
void ttft_json_end_obj(struct ttft_json *j);
void ttft_json_begin_arr(struct ttft_json *j, const char *key);
void ttft_json_end_arr(struct ttft_json *j);
void ttft_json_num(struct ttft_json *j, const char *key, double v);
void ttft_json_int(struct ttft_json *j, const char *key, long long v);
/* An instant or duration of ns nanoseconds as exact decimal seconds
 * ("1764369600.123456789"): a timestamp keeps every digit the clock gave. */
void ttft_json_ns(struct ttft_json *j, const char *key, int64_t ns);
void ttft_json_bool(struct ttft_json *j, const char *key, int v);
void ttft_json_null(struct ttft_json *j, const char *key);
/* NULL: null. */
void ttft_json_str(struct ttft_json *j, const char *key, const char *s);
void ttft_json_strn(struct ttft_json *j, const char *key, const char *s, size_t n);
/* Ends a top-level value with a newline (JSON lines). */
void ttft_json_newline(struct ttft_json *j);

/* v in its shortest round-trip form, or "null"; returns the length.
 * out holds at least 32 bytes. */
size_t ttft_json_fmt_num(char *out, double v);

/* What a record's serialisation needs beyond the record. */
struct ttft_json_ctx {
	int64_t anchor_mono_ns, anchor_real_ns; /* log: for start_unix_s */
	int64_t t0;         /* probe: the run's start, for start_offset_s */
	int keep_text;      /* probe: add "text" */
	const char *host;   /* log, several merged: add "host" (NULL: not) */
};

/* One request (docs/phases.md, docs/server-truth.md): the fields its
 * origin can know, in one order, with one meaning. */
void ttft_json_record(struct ttft_json *j, const char *key, const struct ttft_record *r,
		      const struct ttft_json_ctx *ctx);
/* {"n","min","median","p90","p99","max"}: p90 / p99 null below 10 / 100
 * values (ttft_summary.h). */
void ttft_json_summary(struct ttft_json *j, const char *key, const struct ttft_summary *s);

#endif
