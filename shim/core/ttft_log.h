/* ttft_log.h — the shared-memory event log: on-disk ABI and writer (the
 * reader is tools/lib/ttft_logread.h).
 *
 * One file (normally under /dev/shm) = a 4 KiB header + an array of fixed-size
 * 128-byte records. Writers in many processes and threads append at once with
 * no lock: one atomic fetch-add reserves a slot, the writer fills it, then
 * publishes it by storing the record's seal last with release order. The log
 * is append-only: once every slot is reserved, further events are counted in
 * the header's drop counter and discarded, never blocking the writer.
 * The full layout is documented in docs/log-format.md.
 */
#ifndef TTFT_LOG_H
#define TTFT_LOG_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#define TTFT_LOG_MAGIC "TTFTLOG1"
#define TTFT_LOG_VERSION 5u
#define TTFT_LOG_HDR_SIZE 4096u
#define TTFT_REC_SIZE 128u
#define TTFT_REC_TEXT 64u
#define TTFT_LOG_DEFAULT_MB 64u

/* Event kinds. Values are ABI: append, never renumber. */
enum ttft_kind {
	TTFT_EV_NONE = 0,
	TTFT_EV_CONNECT_BEGIN = 1,  /* before connect(); text = peer addr      */
	TTFT_EV_CONNECT_END = 2,    /* connect() returned; a = ret, err = errno */
	TTFT_EV_ESTABLISHED = 3,    /* TCP handshake known complete            */
	TTFT_EV_REQ_BEGIN = 4,      /* first byte of a request sent; t = before
	                               the call; text = "METHOD /path"         */
	TTFT_EV_REQ_SENT = 5,       /* last byte of the request sent; a = bytes */
	TTFT_EV_RESP_HEADERS = 6,   /* status line + headers read; a = status,
	                               b = TCP round-trip time (us), 0 unknown */
	TTFT_EV_SSE_TOKEN = 7,      /* SSE event with a non-empty token        */
	TTFT_EV_SSE_EMPTY = 8,      /* SSE event with no token (role, usage…)  */
	TTFT_EV_SSE_DONE = 9,       /* data: [DONE]                            */
	TTFT_EV_SSE_ERROR = 10,     /* SSE event holding an error object       */
	TTFT_EV_RESP_END = 11,      /* response body complete; a = body bytes  */
	TTFT_EV_CLOSE = 12,         /* fd closed (close/dup2/close_range); b = 1:
	                               its connect was still under way (the
	                               client gave up on it)                 */
	TTFT_EV_IO_ERROR = 13,      /* send/recv failed (not EAGAIN/EINTR)     */
	TTFT_EV_DNS_BEGIN = 14,     /* getaddrinfo() called; text = host        */
	TTFT_EV_DNS_END = 15,       /* getaddrinfo() returned; a = ret          */
	TTFT_EV_DESYNC = 16,        /* sniffer lost HTTP framing; b = reason    */
	TTFT_EV_MARK = 17,          /* application mark (ttft_mark); b = code   */
	TTFT_EV_METRIC = 18,        /* one /metrics value: text = name, a = the
	                               double's bits, b = snapshot number      */
	TTFT_EV_SCRAPE = 19,        /* a /metrics snapshot was taken: a = values
	                               found, b = snapshot number, err = HTTP
	                               status when it failed, text = why       */
	TTFT_EV_TLS = 20,           /* the connection's first bytes sent were a
	                               TLS handshake record; a = 1 when a TLS
	                               library's plaintext is tapped for it (0:
	                               encrypted, not visible); text = library */
	TTFT_EV_TLS_WIRE = 21,      /* a TLS response's first token: t = return
	                               of the last socket read of ciphertext
	                               before the TLS read that delivered it   */
	TTFT_EV_SERVER_NUMBERS = 22,/* numbers the server put in the SSE event
	                               just logged (usage, llama.cpp timings):
	                               a = bit i set when value i is present,
	                               text = struct ttft_rec_numbers          */
	TTFT_EV_TRACEPARENT = 23,   /* the request carries a W3C traceparent
	                               header: text = its first 55 characters
	                               (TTFT_F_TP_MORE: more follow)          */
	TTFT_EV_INHERIT = 24,       /* a forked child sent on a connection it
	                               inherited: conn = the child's new id,
	                               a = the parent's conn id, b = its pid   */
	TTFT_EV_RESP_INTERIM = 25,  /* an interim response (1xx but 101) read
	                               whole; a = its status; the final one
	                               still to come (log version 4 too: an
	                               older reader counts it corrupt)     */
	TTFT_EV_AIO = 26,           /* a traced fd was submitted to POSIX AIO
	                               (aio_read/aio_write/lio_listio and
	                               their 64 forms): glibc's threads do
	                               its I/O, unseen; a = TTFT_AIO_* (log
	                               version 4 too: an older reader counts
	                               it corrupt)                          */
	TTFT_EV__COUNT
};

/* Record flags. */
#define TTFT_F_CHUNKED 0x0001u   /* RESP_HEADERS: chunked body               */
#define TTFT_F_SSE 0x0002u       /* RESP_HEADERS: text/event-stream          */
#define TTFT_F_TRUNCATED 0x0004u /* RESP_END: peer closed mid-body           */
#define TTFT_F_EOF_BODY 0x0008u  /* RESP_END: close-delimited body           */
#define TTFT_F_NO_ANSWER 0x0010u /* RESP_END (with TRUNCATED): the peer
                                    closed before a byte of this response
                                    came; a = 0, t_ns = the close read  */
#define TTFT_F_V6 0x0010u        /* CONNECT_BEGIN: IPv6 peer                 */
#define TTFT_F_UNTRACED 0x0020u  /* CONNECT_BEGIN: the connection is not
                                    traced (more open at once than the shim's
                                    table holds)                            */
#define TTFT_F_COMPRESSED 0x0040u /* RESP_HEADERS: Content-Encoding other than
                                     identity (gzip, br, deflate, zstd…): the
                                     body's events cannot be read           */
#define TTFT_F_INHERITED 0x0080u /* CONNECT_BEGIN: a connection this program
                                    image found open at its start (inherited
                                    across exec): its connect was not seen,
                                    t_ns is when it was found; b = the
                                    socket's inode, as in every
                                    CONNECT_BEGIN (0: unknown), which names
                                    the connection it continues         */
#define TTFT_F_TP_MORE 0x0001u   /* TRACEPARENT: the header's value goes
                                    on after its 55 characters with a '-'
                                    and more (a later version's fields;
                                    W3C calls that invalid for version 00).
                                    The shim records no value with other
                                    text after them; a log from a shim
                                    before this flag has it clear       */
#define TTFT_F_HTTP_MINOR 0x0100u /* RESP_HEADERS: the status line said
                                     HTTP/1.x with x not 0 or 1 (text: its
                                     version, "HTTP/1.2"): framed as 1.1
                                     (RFC 9112 2.3), which some clients
                                     refuse (curl, cpp-httplib)        */
#define TTFT_F_LEN_APART 0x0200u /* RESP_HEADERS: its Content-Length is
                                    one length to curl (and to the
                                    sniffer, which frames by it) but not
                                    to CPython, whose int() refuses it and
                                    reads the body to the close: a list
                                    of equal values ("158, 158", RFC 9110
                                    8.6) or text after the number
                                    ("158abc")                           */
#define TTFT_F_TUNNEL 0x0400u    /* RESP_HEADERS: a 2xx to a CONNECT: a
                                    tunnel opens, whose first bytes the
                                    shim tests for a TLS handshake as it
                                    tests a connection's first bytes
                                    (HTTPS through a proxy: a TLS record
                                    follows, tapped or not)             */
#define TTFT_F_UNSOLICITED 0x0800u /* RESP_HEADERS: no request of this
                                      connection was waiting for it (its
                                      request went out unseen: a raw
                                      system call, wide-character stdio) */
#define TTFT_F_SENT 0x1000u      /* REQ_BEGIN: the request was sent whole
                                    by the call that began it, and this
                                    record stands for its REQ_SENT too:
                                    a = the bytes sent, b = the time the
                                    REQ_SENT would carry (t_ns stays the
                                    request's start); log version 3   */
#define TTFT_F_ARRIVAL 0x4000u   /* RESP_END: err = milliseconds since the
                                    socket last received data (TCP_INFO's
                                    tcpi_last_data_recv, to the kernel's
                                    tick): when the response's last bytes
                                    arrived, however late the client read
                                    them                                 */
#define TTFT_F_READ_END 0x8000u  /* RESP_END, from the sniffer to the shim
                                    only (never in the log): the response's
                                    end was the last byte of its read   */
#define TTFT_F_RUN 0x2000u       /* SSE_TOKEN: this record stands for a
                                    run of a (>= 2) token events that one
                                    read delivered, numbered b, b+1, …,
                                    b+a-1, all at t_ns (the read's end);
                                    nothing of the connection was recorded
                                    between them; log version 4        */
#define TTFT_F_TIMES 0x1000u     /* SSE_TOKEN: this record stands for a
                                    token events read one after another
                                    (2 <= a <= TTFT_TIMES_MAX), numbered
                                    b, b+1, …, b+a-1, each at its own
                                    time: the first at t_ns, the others
                                    at t_ns plus the a-1 uint32 (the
                                    writer's byte order, as every field)
                                    in text, nanoseconds, none smaller
                                    than the one before; the flags the
                                    same for all; written when the
                                    connection's next record is, or the
                                    text is full (docs/log-format.md,
                                    "Token times"); log version 5      */
#define TTFT_TIMES_MAX (1 + TTFT_REC_TEXT / 4)
#define TTFT_RUN_MAX (1 << 20)   /* a run's count is at most this (the
                                    shim splits a longer one); readers take
                                    a larger one as damage              */
/* SSE event records (SSE_TOKEN … SSE_ERROR) also carry the classifier's
 * TTFT_SSE_F_* flags (ttft_sse.h): 0x0100 usage object, 0x0200 numbers
 * follow in a SERVER_NUMBERS record, 0x0400 not well-formed JSON, 0x0800
 * a choice index other than 0 (several choices in one stream; a log from
 * a shim before this flag has it clear: its tools, and older tools, read
 * such a stream as one choice's). */

/* What a TTFT_EV_AIO submitted (field a). */
#define TTFT_AIO_READ 1
#define TTFT_AIO_WRITE 2

/* Application marks (TTFT_EV_MARK, field b). */
#define TTFT_MARK_REQ_START 1    /* the application starts a request        */
#define TTFT_MARK_FIRST_TOKEN 2  /* the application sees its first token    */
#define TTFT_MARK_REQ_END 3      /* the application sees the request end    */

/* Numbers a server reports in its stream (TTFT_EV_SERVER_NUMBERS). Counts
 * are tokens; times are microseconds (llama.cpp prints milliseconds with
 * 3 decimals). Values are ABI: append, never renumber. */
enum ttft_num {
	TTFT_NUM_PROMPT_TOKENS,     /* usage.prompt_tokens; Responses API
	                               response.usage.input_tokens; Anthropic
	                               message.usage's three input counts,
	                               message_delta's usage's parts combined
	                               with them, each said replacing its
	                               own, when all three are known       */
	TTFT_NUM_COMPLETION_TOKENS, /* usage.completion_tokens / output_tokens */
	TTFT_NUM_CACHED_TOKENS,     /* usage.prompt_tokens_details.cached_tokens,
	                               response.usage.input_tokens_details.…,
	                               Anthropic's cache_read_input_tokens  */
	TTFT_NUM_PROMPT_N,          /* llama.cpp timings.prompt_n (evaluated) */
	TTFT_NUM_PROMPT_US,         /* timings.prompt_ms (prefill)            */
	TTFT_NUM_CACHE_N,           /* timings.cache_n (prefix-cache hits)    */
	TTFT_NUM_PREDICTED_N,       /* timings.predicted_n                    */
	TTFT_NUM_PREDICTED_US,      /* timings.predicted_ms (decode)          */
	TTFT_NUM__COUNT
};

/* The text of a TTFT_EV_SERVER_NUMBERS record: v[i] (enum ttft_num) is
 * present when bit i of the record's a is set. Bit 30 of a: the stream said
 * its prompt's count changed but not whole (Anthropic's message_delta
 * naming some of its prompt's parts where a part it left out is known
 * from no earlier event, one that is no whole count, or one said by a
 * malformed event, or a malformed message_delta read to none of its
 * parts): the prompt's count is not known, whatever an earlier event
 * said. */
#define TTFT_NUM_F_PROMPT_UNKNOWN (1u << 30)
struct ttft_rec_numbers {
	uint32_t v[8];
};
_Static_assert(TTFT_NUM__COUNT <= 8, "the numbers fit one record");

/* TTFT_EV_TRACEPARENT: "00-<32 hex trace id>-<16 hex parent id>-<2 hex>" */
#define TTFT_TRACEPARENT_LEN 55

/* One record: 128 bytes, two cache lines, so writers never share a line. */
struct ttft_rec {
	uint32_t seal;      /* 0 = unpublished; else the low half of
	                       ttft_rec_seal(), never 0: the last store   */
	uint16_t kind;      /* enum ttft_kind                                     */
	uint16_t flags;     /* TTFT_F_*                                           */
	int64_t t_ns;       /* CLOCK_MONOTONIC                                    */
	int32_t pid;
	int32_t tid;
	int32_t fd;
	int32_t err;        /* errno for failed calls, else 0                    */
	uint64_t conn;      /* connection id, unique within one log; 0 = none    */
	int64_t a;          /* kind-specific: bytes, status, return value         */
	int64_t b;          /* kind-specific: token index, reason, mark code      */
	uint32_t seq;       /* request number on this connection (0-based)        */
	uint32_t seal_hi;   /* the high half of ttft_rec_seal()                 */
	char text[TTFT_REC_TEXT]; /* NUL-padded, not always NUL-terminated       */
};
_Static_assert(sizeof(struct ttft_rec) == TTFT_REC_SIZE, "record is ABI");

/* The header. Atomic fields are accessed with __atomic builtins so that the
 * same struct is valid C for readers that do not use <stdatomic.h>. */
struct ttft_log_hdr {
	char magic[8];            /* TTFT_LOG_MAGIC, written last at creation   */
	uint32_t version;
	uint32_t hdr_size;        /* TTFT_LOG_HDR_SIZE                          */
	uint32_t rec_size;        /* TTFT_REC_SIZE                              */
	uint32_t pad0;
	uint64_t capacity;        /* number of record slots                     */
	int64_t anchor_mono_ns;   /* CLOCK_MONOTONIC and CLOCK_REALTIME read    */
	int64_t anchor_real_ns;   /* back to back when the log was created      */
	uint64_t reserved;        /* slots handed out (may exceed capacity)     */
	uint64_t dropped;         /* events lost because the log was full       */
	uint64_t next_conn;       /* connection id allocator                    */
	int32_t creator_pid;
	uint32_t pad1;
	/* The clock when the log was created, for lining up the logs of
	 * several hosts (docs/log-format.md). All zero in a log made before
	 * these fields existed: unknown. */
	uint32_t clock_flags;     /* TTFT_CLOCK_*                               */
	int32_t clock_state;      /* adjtimex's answer: TIME_OK 0 … TIME_ERROR 5 */
	int64_t anchor_err_ns;    /* anchor_real_ns was read within ± this of
	                             the instant anchor_mono_ns names           */
	int64_t ntp_maxerror_us;  /* the kernel's bound on CLOCK_REALTIME's error
	                             (kept by the NTP daemon)                   */
	int64_t ntp_esterror_us;  /* … and its estimate                         */
	char host[64];            /* uname's nodename, NUL-padded               */
	char boot_id[40];         /* /proc/sys/kernel/random/boot_id: logs with
	                             the same one share CLOCK_MONOTONIC         */
	uint64_t unwritable;      /* slots reserved in a segment that could not
	                             be allocated (filesystem full): they read
	                             as zeros, not as records in flight       */
	int64_t timens_mono_ns;   /* the creator's time namespace's
	                             CLOCK_MONOTONIC offset
	                             (/proc/self/timens_offsets), when
	                             TTFT_CLOCK_TIMENS: logs of one boot share
	                             CLOCK_MONOTONIC only with the same one    */
	uint64_t timens_ino;      /* … and that namespace (/proc/self/ns/time's
	                             inode): a writer of another one with
	                             another offset does not write here        */
};
_Static_assert(sizeof(struct ttft_log_hdr) <= TTFT_LOG_HDR_SIZE, "header fits");

/* clock_flags */
#define TTFT_CLOCK_INFO 0x1u     /* the clock fields were filled           */
#define TTFT_CLOCK_UNSYNC 0x2u   /* the kernel said the clock is not
                                    synchronised (STA_UNSYNC, TIME_ERROR) */
#define TTFT_CLOCK_TIMENS 0x4u   /* timens_mono_ns and timens_ino were
                                    read                                  */

/* ---- writer side (async-signal-safe, lock-free, no allocation) ----
 *
 * A writer maps the 4 KiB header and then, on demand, only the segments of
 * record space it writes into (1 MiB, or capacity/1024 for logs above 1 GiB),
 * each allocated in the file (fallocate) before it is mapped: a process that
 * logs a few events costs its host 1 MiB of address space, not the whole log,
 * and a full filesystem drops events (counted) instead of faulting. */

#define TTFT_LOG_MAX_SEGS 1024u
/* Record space is handed to writers a chunk at a time (512 records,
 * 64 KiB, for logs up to the default 64 MiB; above, the power of two at
 * or above capacity/1024, never more than a segment), each chunk's pages
 * mapped in one call first (MADV_POPULATE_WRITE): a page fault every 32
 * records cost a traced send on the project's VM about 170 ns more than
 * the same pages populated 16 at a time (docs/performance.md). 1024
 * chunks at most: the table is 8 KiB, as segs[] is. */
#define TTFT_LOG_MAX_CHUNKS 1024u
#define TTFT_LOG_MIN_CHUNK_SHIFT 9u /* 512 records */
#define TTFT_LOG_PATH_MAX 4096u

struct ttft_log {
	struct ttft_log_hdr *hdr;     /* the header page; NULL = not open     */
	uint64_t slots;               /* record slots (the header's capacity) */
	uint64_t capacity;            /* slots writable: slots, 0 once
	                                 detached (atomic)                   */
	unsigned seg_shift;           /* log2 of the records in a segment     */
	uint64_t seg_mask;            /* records in a segment - 1             */
	unsigned chunk_shift;         /* log2 of the records in a chunk     */
	uint64_t chunk_mask;          /* records in a chunk - 1               */
	int detached;                 /* the file was cut under us (atomic)   */
	uint64_t dev, ino;            /* segments come from this file only    */
	const char *warning;          /* set by open: worth telling the user  */
	char path[TTFT_LOG_PATH_MAX];
	/* each NULL (not mapped yet), TTFT_LOG_SEG_FAILED, or its records */
	struct ttft_rec *segs[TTFT_LOG_MAX_SEGS];
	/* the writers' view: each chunk's first record once its segment is
	 * mapped and its pages populated, else NULL (the cold path) */
	struct ttft_rec *chunks[TTFT_LOG_MAX_CHUNKS];
};
#define TTFT_LOG_SEG_FAILED ((struct ttft_rec *)1)

/* Open PATH, creating it with CAP_BYTES of record space when missing
 * (atomically: a fully initialised file appears under PATH or nothing does).
 * Returns 0, or -1 with *why set to a static description. */
int ttft_log_open(struct ttft_log *log, const char *path, uint64_t cap_bytes,
		  const char **why);
/* The same for a struct known to be all zeros (static storage never
 * opened: the shim's, opened in the constructor of every exec'd process),
 * which is not cleared again: its tables' 16 KiB of pages stay untouched
 * until records need them. */
int ttft_log_open_zeroed(struct ttft_log *log, const char *path,
			 uint64_t cap_bytes, const char **why);
void ttft_log_close(struct ttft_log *log);

/* One event as a writer hands it to the log: every field of a record but
 * the seal. text: text_len bytes, cut to TTFT_REC_TEXT (the rest of the
 * record's text stays NUL: NUL-padded, not always NUL-terminated), or
 * NULL. */
struct ttft_event {
	uint16_t kind;      /* enum ttft_kind */
	uint16_t flags;     /* TTFT_F_* */
	int64_t t_ns;       /* CLOCK_MONOTONIC */
	int32_t pid, tid, fd, err;
	uint64_t conn;
	int64_t a, b;
	uint32_t seq;
	const char *text;
	size_t text_len;
};

/* The slot for reservation i when the fast path below cannot give it: the
 * log is full or detached, or i's chunk is not mapped and populated yet
 * (or its segment could not be mapped). NULL when the event is dropped
 * (counted). */
struct ttft_rec *ttft_log_slot_cold(struct ttft_log *log, uint64_t i);

/* The two halves of ttft_log_put, apart only for the log's own tests (a
 * writer stopped between them): reserve a slot, NULL when full (the drop
 * is counted); fill it, then publish it (seal_hi, then the seal, release). */
struct ttft_rec *ttft_log_reserve(struct ttft_log *log);
/* The same, inline: the shim writes a record for every traced token. */
static inline __attribute__((always_inline)) struct ttft_rec *
ttft_log_reserve_inline(struct ttft_log *log)
{
	struct ttft_log_hdr *h = log->hdr;
	if (!h)
		return NULL;
	/* Relaxed: the counter only hands out distinct slots; what a slot
	 * holds is ordered by the seal's release store, not by this. A
	 * detached log's capacity is 0 (relaxed: it only needs to stop soon):
	 * its drops are counted in the anonymous header. */
	uint64_t i = __atomic_fetch_add(&h->reserved, 1, __ATOMIC_RELAXED);
	if (__builtin_expect(i < __atomic_load_n(&log->capacity, __ATOMIC_RELAXED), 1)) {
		/* Acquire: pairs with the release store in ttft_log.c's
		 * ttft_log_slot_cold. */
		struct ttft_rec *c = __atomic_load_n(
			&log->chunks[i >> log->chunk_shift], __ATOMIC_ACQUIRE);
		if (__builtin_expect(c != NULL, 1))
			return &c[i & log->chunk_mask];
	}
	return ttft_log_slot_cold(log, i);
}

/* The seal (log version 3): a 64-bit check of the record's other 120
 * bytes, kept in seal (low half, never 0, stored last) and seal_hi. It is
 * a sum over the record's words of one term each:
 *
 *   check = T(u, K[0]) + sum of T(word i, K[i]) for words 1-6 and 8-15
 *   T(w, k) = swap_halves(w * TTFT_SEAL_K) * k           (mod 2^64)
 *
 * where u holds the two half words beside the seal (kind and flags from
 * word 0, seq from word 7) and every constant is odd. A check whose low
 * half is 0 is stored with low half 1 (0 means "not published").
 *
 * Why it catches damage. T is a bijection in w (a multiply by an odd
 * number, a swap, a multiply by an odd number), so a record that differs
 * in one word has a different sum. The one exception is forced by
 * counting (a word has 2^64 values, a stored check fewer): a check with
 * low half 0 is stored as the one above it, so the one damaged value of
 * the word that moves the sum by exactly 1 from such a record (or to
 * one) passes. It never happens for damage inside one byte, nor for any
 * damage of up to two bits anywhere in the record, the seal's own
 * included: a damaged word moves the sum by D * K[i], where D, the change
 * of the swapped product, is one of four values that depend only on the
 * damage (swap(d * K) plus a carry across the halves), so
 * tests/unit/test_seal.c checks every such case for every possible
 * record by enumeration. Other damage passes with odds of about 2^-64
 * (test_seal.c also damages two bytes in two words of real records a
 * million times: none passes).
 *
 * Why two multiplies. A multiply carries a change only upwards, so with
 * one (a plain sum of w * K[i], or a chain like version 2's
 * h = rotl((h ^ w) * K, 31)) a change in a word's top bits stays in the
 * top bits: the top bits of two words cancel (2^63 * (K[a] + K[b]) = 0
 * mod 2^64), and in version 2 bit 63 of one word and bit 30 of the next
 * in its lane always cancel. The swap brings the top half of the first
 * product down, where the second multiply spreads it over the whole term
 * again; distinct K[i] keep two words' terms from cancelling.
 *
 * Cost: a word is 4 instructions (imul, rol, imul, add) and a word that
 * is 0 is nothing: a record without text is sealed and published in ~37
 * (callgrind), version 2's 4 lanes took ~57, version 1's byte-wise hash
 * ~250. Inline: the shim seals a record for every token. */
#define TTFT_SEAL_K 0xffffffff9e3779b1ull /* odd; an imul's imm32 */

/* K[i] for word i: odd, each an imul's sign-extended imm32. K[7] is 0:
 * word 7's seq is in u, and a vector of the 16 words times this table
 * gives 0 there. Chosen so that the enumeration in test_seal.c holds. */
static const uint64_t ttft_seal_k_[TTFT_REC_SIZE / 8] = {
	0xffffffff89025cc1ull, 0x00000000658eec67ull, 0xfffffffffb32555full,
	0xffffffffee42c90bull, 0xffffffffd101b5b9ull, 0xffffffff90150281ull,
	0xffffffffd7363ca5ull, 0,                     0x0000000012278575ull,
	0x00000000357e3da9ull, 0x0000000074616797ull, 0x0000000001564f61ull,
	0x0000000014cf8bffull, 0x000000004baa5dc1ull, 0xffffffff90d7a28bull,
	0x000000006f4c57a9ull,
};

static inline uint64_t ttft_rec_word_(const struct ttft_rec *rec, size_t i)
{
	uint64_t w;
	memcpy(&w, (const char *)rec + 8 * i, sizeof w);
	return w;
}

static inline __attribute__((always_inline)) uint64_t
ttft_seal_term_(uint64_t w, uint64_t k)
{
	w *= TTFT_SEAL_K;
	return (w << 32 | w >> 32) * k;
}

/* text_words: the text's first text_words words are summed; the caller
 * knows the rest to be 0 (a fresh slot's), whose terms are 0. A
 * constant 0 (a record without text) folds the text away; a writer that
 * was wrong about the zeros seals a record every reader calls damaged. */
/* Word 0 without the seal, and word 7's seq: kind, flags | seq. */
static inline __attribute__((always_inline)) uint64_t
ttft_rec_u_(const struct ttft_rec *rec)
{
	return (ttft_rec_word_(rec, 0) & 0xffffffff00000000ull) |
	       (ttft_rec_word_(rec, 7) & 0xffffffffull);
}

/* The same from the fields' values, for a writer that has them at hand
 * (the stores need not be read back). */
static inline __attribute__((always_inline)) uint64_t
ttft_rec_u_of_(const struct ttft_rec *rec, uint16_t kind, uint16_t flags,
	       uint32_t seq)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	(void)rec;
	return ((uint64_t)flags << 48) | ((uint64_t)kind << 32) | seq;
#else
	(void)kind, (void)flags, (void)seq;
	return ttft_rec_u_(rec);
#endif
}

/* u: ttft_rec_u_(rec), or the same from ttft_rec_u_of_. */
static inline __attribute__((always_inline)) uint64_t
ttft_rec_seal_u_(const struct ttft_rec *rec, uint64_t u, size_t text_words)
{
	_Static_assert(offsetof(struct ttft_rec, seal) == 0 &&
		       offsetof(struct ttft_rec, seal_hi) == 60, "seal words");
	_Static_assert(offsetof(struct ttft_rec, text) == 64, "text words");
	_Static_assert(offsetof(struct ttft_rec, kind) == 4 &&
		       offsetof(struct ttft_rec, flags) == 6 &&
		       offsetof(struct ttft_rec, seq) == 56, "u's fields");
	uint64_t s = ttft_seal_term_(u, ttft_seal_k_[0]);
#pragma GCC unroll 6
	for (size_t i = 1; i < 7; i++)
		s += ttft_seal_term_(ttft_rec_word_(rec, i), ttft_seal_k_[i]);
#pragma GCC unroll 8
	for (size_t i = 8; i < 8 + text_words; i++)
		s += ttft_seal_term_(ttft_rec_word_(rec, i), ttft_seal_k_[i]);
	if ((uint32_t)s == 0)
		s |= 1; /* 0 means "not yet published" */
	return s;
}

static inline __attribute__((always_inline)) uint64_t
ttft_rec_seal_(const struct ttft_rec *rec, size_t text_words)
{
	return ttft_rec_seal_u_(rec, ttft_rec_u_(rec), text_words);
}

static inline __attribute__((always_inline)) uint64_t
ttft_rec_seal(const struct ttft_rec *rec)
{
	return ttft_rec_seal_(rec, TTFT_REC_TEXT / 8);
}

static inline __attribute__((always_inline)) void
ttft_log_publish_u_(struct ttft_rec *rec, uint64_t u, size_t text_words)
{
	uint64_t k = ttft_rec_seal_u_(rec, u, text_words);
	rec->seal_hi = (uint32_t)(k >> 32);
	/* Release: the record's fields are visible before its seal (a
	 * reader that sees the seal checks them against it). */
	__atomic_store_n(&rec->seal, (uint32_t)k, __ATOMIC_RELEASE);
}

static inline __attribute__((always_inline)) void
ttft_log_publish_(struct ttft_rec *rec, size_t text_words)
{
	ttft_log_publish_u_(rec, ttft_rec_u_(rec), text_words);
}

/* Seal and publish a filled slot. */
void ttft_log_publish(struct ttft_rec *rec);
/* The same, inline, and for a record whose text is all zeros (its words'
 * terms fold). */
static inline __attribute__((always_inline)) void
ttft_log_publish_inline(struct ttft_rec *rec)
{
	ttft_log_publish_(rec, TTFT_REC_TEXT / 8);
}

static inline __attribute__((always_inline)) void
ttft_log_publish_zero_text(struct ttft_rec *rec)
{
	ttft_log_publish_(rec, 0);
}

/* n <= TTFT_REC_TEXT bytes into a filled slot's text, then the seal and
 * publication: fixed-size moves that overlap rather than a call (a
 * request line, ~15-60 bytes, per request); nothing past n is written.
 * Each length class seals the text words it can reach, a constant where
 * it can be (a word it did not write is a fresh slot's 0, whose term is
 * 0), so the seal's text terms need no loop there. */
static inline __attribute__((always_inline)) void
ttft_text_publish_(struct ttft_rec *r, uint64_t u, const char *s, size_t n)
{
	char *d = r->text;
	if (n > 16) {
		for (size_t i = 0; i + 16 < n; i += 16)
			memcpy(d + i, s + i, 16);
		memcpy(d + n - 16, s + n - 16, 16);
		ttft_log_publish_u_(r, u, (n + 7) / 8);
	} else if (n >= 8) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
		ttft_log_publish_u_(r, u, 2);
	} else if (n >= 4) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
		ttft_log_publish_u_(r, u, 1);
	} else {
		for (size_t i = 0; i < n; i++)
			d[i] = s[i];
		ttft_log_publish_u_(r, u, 1);
	}
}

/* The one record writer, the shim's and the tools': reserve a slot, fill
 * it, seal it (docs/log-format.md, "Writing"). 1 when written; 0 when
 * dropped: the log is full, detached, or the slot's segment could not be
 * allocated (counted in the header). Lock-free, no allocation,
 * async-signal-safe. Inline: on the shim's hot path the event's fields go
 * straight into the slot, and only the text words the event's text
 * reaches are summed into the seal (none for an event without text). */
static inline __attribute__((always_inline)) int
ttft_log_put(struct ttft_log *log, const struct ttft_event *ev)
{
	struct ttft_rec *r = ttft_log_reserve_inline(log);
	if (!r)
		return 0;
	/* the slot is ours alone until the seal: plain stores (every field
	 * stored, 0 too: a slot that was not fresh must not be sealed with
	 * an old value in it) */
	r->kind = ev->kind;
	r->flags = ev->flags;
	r->t_ns = ev->t_ns;
	r->pid = ev->pid;
	r->tid = ev->tid;
	r->fd = ev->fd;
	r->err = ev->err;
	r->conn = ev->conn;
	r->a = ev->a;
	r->b = ev->b;
	r->seq = ev->seq;
	/* The text's other bytes are a fresh slot's zeros (every slot is
	 * handed out once, from a file that starts as zeros), and so are the
	 * words past the text's, whose seal terms are 0: not written, not
	 * summed. A slot that was not fresh would read as damaged. */
	uint64_t u = ttft_rec_u_of_(r, ev->kind, ev->flags, ev->seq);
	if (ev->text) {
		size_t n = ev->text_len < TTFT_REC_TEXT ? ev->text_len : TTFT_REC_TEXT;
		ttft_text_publish_(r, u, ev->text, n);
	} else {
		ttft_log_publish_u_(r, u, 0);
	}
	return 1;
}

uint64_t ttft_log_new_conn(struct ttft_log *log);

/* 1 if rec's seal matches its bytes. Inline: the reader checks every
 * record. */
static inline int ttft_rec_sealed(const struct ttft_rec *rec)
{
	uint64_t k = ttft_rec_seal(rec);
	return rec->seal == (uint32_t)k && rec->seal_hi == (uint32_t)(k >> 32);
}
/* For a SIGBUS handler: if ADDR lies in one of the log's mappings (the file
 * was truncated under us, so the page no longer exists), replace every
 * mapping of the log with anonymous memory, so that the faulting store and
 * every later one land harmlessly, stop writing (later events are counted
 * as dropped in the now anonymous header: ttft_log_lost) and return 1.
 * Otherwise 0. Async-signal-safe. */
/* Events a detached log did not write (0 while attached). */
uint64_t ttft_log_lost(const struct ttft_log *log);
int ttft_log_fault(struct ttft_log *log, const void *addr);


/* The free space the log leaves its filesystem's other users: a quarter
 * of the filesystem, at most 1 GiB (a quarter of /dev/shm's 64 MiB in
 * Docker is 16 MiB; a quarter of a 64 GiB disk 80% full had refused every
 * segment, a lent H200's whole cold-start run dropped). Whether taking len
 * more bytes from avail free of size keeps it. */
#define TTFT_LOG_KEEP_FREE_MAX (UINT64_C(1) << 30)
static inline uint64_t ttft_log_keep_free(uint64_t size)
{
	return size / 4 < TTFT_LOG_KEEP_FREE_MAX ? size / 4 : TTFT_LOG_KEEP_FREE_MAX;
}
static inline int ttft_log_room_ok(uint64_t avail, uint64_t size, uint64_t len)
{
	return avail >= len && avail - len >= ttft_log_keep_free(size);
}

/* Default log path: $TTFT_LOG, else /dev/shm/ttftshim-<uid>.log.
 * Writes into buf (no allocation); returns buf. */
const char *ttft_log_default_path(char *buf, size_t len);

#endif
