/* ttft_assemble.h — a log's records, in time order, become request records
 * (ttft_record.h): the state kept between one record and the next
 * (connections, DNS lookups waiting for their connect, /metrics snapshots)
 * and the join of the server's split. Each record touches only its own
 * connection's state: linear in the log's size.
 *
 * A response where no request was seen is a row of its own (request_unseen);
 * the responses of a connection found open by a new program image (across
 * exec) answer the requests the old image left unanswered (the same socket
 * inode), then its own.
 *
 * Two drivers feed it: ttft_analyze.c a whole log at once (ttft-analyze,
 * ttft-run), ttft_follow.c a log as it grows (the exporter). The requests
 * land in an analysis' reqs array, in order of their first byte.
 */
#ifndef TTFT_ASSEMBLE_H
#define TTFT_ASSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_analyze.h"
#include "ttft_join.h"
#include "ttft_log.h"
#include "ttft_prom.h"

struct asm_conn;
struct asm_dns;
struct asm_map {
	struct asm_slot *s;
	size_t n, cap;
};

/* One /metrics snapshot (ttft-run --metrics): its METRIC records and the
 * SCRAPE record that closes it. */
struct ttft_snap {
	uint32_t seq;
	int ok;
	struct ttft_truth tr;
};

struct ttft_asm {
	struct ttft_analysis *out;
	struct asm_conn *conns;  /* by connection id */
	uint64_t nconn;
	struct asm_dns *dns;
	size_t ndns, dnscap;
	struct asm_map pending;  /* pid:tid → its unfinished getaddrinfo */
	struct asm_map finished; /* pid:tid → its latest unclaimed finished one */
	struct asm_map connectors; /* pid:tid of every thread that connects */
	struct asm_map inodes;   /* socket inode → the latest connection on it */
	uint64_t *waiting;       /* connects without a lookup of their own */
	size_t nwait, waitcap;   /* thread, in time order (ttft_asm_dns_helpers) */
	uint64_t max_conn;       /* ids up to this may get room on demand: a
	                            damaged header's next_conn (0 = none) */
	uint64_t hdr_next_conn;  /* what the header said, for bad_next_conn */
	struct ttft_snap *snaps; /* in time order (a follower drops those no
	                            join can pick: ttft_asm_forget_snaps) */
	size_t nsnap, snapcap;
	size_t nnumbers;         /* server-number records applied: only they
	                            give a request llama.cpp's timings, the one
	                            split that joins without a snapshot */
	uint32_t *good;          /* indexes of the usable snapshots */
	size_t ngood, goodcap;
	/* the join (ttft_join.h) over what has been applied, rebuilt when a
	 * record came since: the good snapshots and every request */
	struct ttft_joiner jn;
	struct ttft_truth *jsnaps;
	struct ttft_join_req *jreqs;
	unsigned long gen, jgen; /* records applied; when the join was built */
	int joined;              /* jn holds something to free */
	/* the addresses of the server whose /metrics were scraped, as the
	 * scraper resolved them ("127.0.0.1:8000 [::1]:8000"; "" = not said:
	 * an older log, Prometheus's API): a request to another peer is
	 * never joined with its pages */
	char target[TTFT_REC_TEXT + 1];
	/* why the first failed scrape failed (its record's text), "" none */
	char scrape_why[TTFT_REC_TEXT + 1];
	int oom;                 /* out of memory: the result is incomplete */
	int settle;              /* a response's end settles its request's
	                            tokens (ttft_record_settle): no consumer
	                            of every token time */
	void *pop_base;          /* out->reqs when its pages were last asked */
	size_t pop_end;          /* for (populate_reqs): bytes of it asked */
};

/* Start assembling into out (requests are appended to out->reqs), with
 * room for connection ids below nconn. -1 when out of memory. */
int ttft_asm_init(struct ttft_asm *as, struct ttft_analysis *out, uint64_t nconn);
/* Room for connection ids below nconn (a growing log hands out more);
 * -1 when out of memory. */
int ttft_asm_room(struct ttft_asm *as, uint64_t nconn);
/* One record, in time order; ctx is the struct ttft_asm (the signature is
 * ttft_log_each's). A record of a connection id without room is ignored. */
void ttft_asm_apply(void *ctx, struct ttft_rec *e);
/* 1 when no later record can change how r ended: its response ended (a
 * CONNECT's, the last request of its open connection: once what goes
 * through its tunnel shows, a lost framing, a request or the close), the
 * client closed the connection, a later request on it had its answer
 * begin (only sent, pipelined, it settles nothing), or the sniffer lost
 * the framing of the connection's responses (of its requests alone, "tx",
 * the answers are read on: not by itself); else 0 (still in flight). */
int ttft_asm_settled(const struct ttft_asm *as, const struct ttft_record *r);
/* 1 when r is not settled only because it waits for a fork child's close
 * of its copy of the connection (its parent's lost framing reached it:
 * whether the child's own sniffer reads its answer is known then), which
 * the child's end is as well: its fds close with it. Not while the
 * parent may yet read r's answer on its own id (its responses' framing
 * not lost, its copy open, the order not tangled). */
int ttft_asm_waits_for_child(const struct ttft_asm *as, const struct ttft_record *r);
/* For r, settled by its process's close of the connection before its
 * answer ended (closed_early): the socket's inode while no other
 * connection has taken that socket over yet (an exec's heir: inherit,
 * which makes r owed again, its answer the heir's to read); 0 when that
 * cannot be (r not so closed, the inode not known, an heir known). The
 * close may have been one copy's: a program that spawned the heir
 * (posix_spawn adddup2) and closed its own before the heir's first use
 * of it, which writes nothing until then (the live follower asks the
 * kernel whether the socket is still open). */
uint64_t ttft_asm_heir_may_come(const struct ttft_asm *as, const struct ttft_record *r);
/* For r, a fork child's request: the pid of its parent while the parent
 * may yet tangle the connection's order (ttft_asm's fork_tangle: its copy
 * not closed, the order not yet tangled), -1 when that pid is not known;
 * 0 when it no longer can (or r is no child's). A request still due when
 * the parent sends is marked fork_unsure by the analyzer, which cannot
 * know that the child ended: the child found gone settles r only once
 * this is 0 or the parent is found gone too (a review found the row
 * handed out at the child's end, then marked by the parent's next send
 * in the analyzer's row). */
int ttft_asm_parent_may_tangle(const struct ttft_asm *as, const struct ttft_record *r);
/* The server's split of r from the snapshots applied so far
 * (ttft_join.h): its own numbers from the window that provably holds its
 * moment alone among every request applied, else the reason in
 * its split's note; llama.cpp's in-stream timings, when the stream had them,
 * with the queue the headers mark. Returns 1 when a verdict was reached, 0
 * when no good snapshot follows r's moment yet; -1 when out of memory. */
int ttft_asm_join(struct ttft_asm *as, struct ttft_record *r);
/* Whether r has a join to wait for or to make: every request of a log
 * with /metrics snapshots, and one with llama.cpp's in-stream timings
 * with or without them (its queue and its fit are worked out there). */
int ttft_asm_joins(const struct ttft_asm *as, const struct ttft_record *r);
/* The peer ("1.2.3.4:80") connection conn went to; NULL when its connect
 * is not in the log. */
const char *ttft_asm_peer(const struct ttft_asm *as, uint64_t conn);
/* After the last record: connects left without a lookup of their own
 * thread take the latest unclaimed lookup a helper thread of their process
 * (one that never connects: curl's threaded resolver, asyncio's executor)
 * finished before them. -1 when out of memory. */
int ttft_asm_dns_helpers(struct ttft_asm *as);
/* The same for the connects up to upto (CLOCK_MONOTONIC ns) only; the
 * later ones keep waiting (a follower decides a connect's lookup when its
 * request is handed out: which threads connect is known better then). */
int ttft_asm_dns_helpers_upto(struct ttft_asm *as, int64_t upto);
/* Failed, non-HTTP and request-less TLS connections into out->notes, and
 * a row for each TLS connection whose plaintext no tapped library handed
 * over (encrypted); -1 when out of memory. */
int ttft_asm_notes(struct ttft_asm *as);
void ttft_asm_free(struct ttft_asm *as);

/* Forgetting requests and snapshots (a follower, ttft_follow.c: its
 * memory must not grow with the log's history). A request handed out
 * may be dropped from out->reqs once no later record can reach it
 * through its connection and no join still to be made can count it; a
 * snapshot once no join still to be made can pick it. */
/* The widest skew a join may give a request: its round-trip time is a
 * uint32 of microseconds (RESP_HEADERS' b), about 72 minutes. */
#define TTFT_ASM_MAX_SKEW_NS (TTFT_JOIN_SKEW_NS + (int64_t)UINT32_MAX * 1000)
/* The earliest instant a join interval of r may yet begin at, whatever
 * its later records say (INT64_MAX: r is no question for the join: not
 * a POST); r NULL: a request still to come. now: the latest record
 * applied (records come in time order). */
int64_t ttft_asm_join_floor(const struct ttft_record *r, int64_t now);
/* The earliest instant any join interval of r, a request not yet ended,
 * may begin at once its end is in, whatever that end says: its send (an
 * end whose arrival is not known bounds the finish by the send only),
 * less its skew (its round trip, once its headers gave it; before them
 * the widest). INT64_MAX: r is no question for the join. A follower
 * decides a window closing after it only when r has ended. */
int64_t ttft_asm_reach_floor(const struct ttft_record *r);
/* When the widest window ttft_asm_join looks at for r closes (the answer
 * of the snapshot that ends it): INT64_MIN when its join needs no window
 * (timings, several choices, not an engine request, not complete),
 * INT64_MAX when no snapshot closes it yet. */
int64_t ttft_asm_window_end(const struct ttft_asm *as, const struct ttft_record *r);
/* The start of the earliest window a join still to be made may look at,
 * given floor: the least ttft_asm_join_floor of the requests not handed
 * out (and now's, for those still to come). */
int64_t ttft_asm_join_horizon(const struct ttft_asm *as, int64_t floor, int64_t now);
/* 1 when r (handed out) may be forgotten: its connection's later
 * records and requests never look it up, and its join intervals end
 * before horizon (ttft_asm_join_horizon). */
int ttft_asm_forgettable(const struct ttft_asm *as, const struct ttft_record *r,
			 int64_t horizon);
/* The caller moved out->reqs[i] to remap[i] (UINT32_MAX: dropped):
 * renumber what the connections hold. */
void ttft_asm_renumber(struct ttft_asm *as, const uint32_t *remap);
/* Drop the /metrics snapshots no join still to be made can pick, given
 * floor (as for ttft_asm_join_horizon): the good ones before the last
 * answered before floor (not the first: the join reads the page's kind
 * there), and the failed ones (not the latest: it may still be read).
 * What a join decides is what it would with every snapshot kept. The
 * number dropped. */
size_t ttft_asm_forget_snaps(struct ttft_asm *as, int64_t floor);

/* A record's text field as a C string: at most slen bytes of src, cut to
 * dlen - 1, control bytes replaced by '?'. */
void ttft_asm_copy_text(char *dst, size_t dlen, const char *src, size_t slen);

#endif
