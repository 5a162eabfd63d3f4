/* ttft_follow.h — follow a ttftshim log while other processes write it:
 * each poll reads only the slots published since the last, restores their
 * time order, feeds them to the assembler (ttft_assemble.h) and hands out
 * every request that can no longer change, exactly once. The exporter
 * (ttft_export.h) is built on it.
 *
 * The rules (docs/fleet.md):
 *  - Slots are read in order up to the first one reserved but not yet
 *    sealed (a writer between its reservation and its seal); one that
 *    stays unsealed for `grace_ns` is given up (a writer killed
 *    mid-record) and counted unpublished, as the analyzer does. The grace
 *    runs from when the reader first saw the slot: a run of unsealed
 *    slots already there then is given up at once when it ends, not a
 *    grace each. Zero slots the header counts `unwritable` (a segment
 *    not allocated: docs/log-format.md) are given up on the next poll
 *    that finds them still zero, as many as it counts (the analyzer's
 *    attribution: the first zeros are those).
 *  - Records are held until the log has moved `lag_ns` past them (or
 *    nothing new came for that long), so that a writer preempted between
 *    its clock read and its reservation is still put in order; a record
 *    later than that is applied anyway and counted late.
 *  - A request is handed out once it is settled (ttft_asm_settled: its
 *    response ended, the client closed the connection or a later request
 *    on it was answered, or the sniffer lost the framing of its responses
 *    (of its requests' side alone, the answers are read on); a fork child's
 *    request its parent's lost framing reached: the child's close of its
 *    copy, or the child found gone as below, which closed it, once its
 *    parent can no longer tangle the order by a send while it is due:
 *    its copy closed, the order tangled already, or the parent found
 *    gone by the same rule: ttft_asm_parent_may_tangle) and, when /metrics snapshots are in the log,
 *    once a snapshot after its end decided its split or `split_wait_ns`
 *    passed without one — and once no request in flight (nor one still
 *    to come, within the lag) can put its moment into that window later
 *    (ttft_asm_reach_floor: its send less its skew); `split_wait_ns`
 *    passed first, its split is refused (TTFT_FOLLOW_NOTE_IN_FLIGHT):
 *    the follower is never looser than the analyzer, at worst stricter.
 *    Requests still open are in flight. When it stops reading a log (the
 *    drain, a replaced log let go) nothing more of it comes, but a
 *    request in flight may still end, its writer writing on: a settled
 *    request whose window such a request may reach (the same rule, no
 *    request still to come) has its split refused there
 *    (TTFT_FOLLOW_NOTE_STOPPED); one whose window closed before is given.
 *  - DNS: a connect without a lookup of its own thread takes a resolver
 *    thread's when a request of a new connection at or after it is handed
 *    out (ttft_asm_dns_helpers_upto, as the analyzer does after its last
 *    record). A thread counts as connecting from its first connect on:
 *    one that resolves, connects only after such a request was handed
 *    out, gives its earlier lookup away here (once: never to both), not
 *    in the analyzer, which knows the whole log.
 *  - A request in progress while the log lost events in its middle (a
 *    hole: zero slots its header counts unwritable, with records after
 *    them) is handed out not complete, as the analyzer marks it
 *    (cut_by_hole); one still open `split_wait_ns` after the hole was
 *    found is handed out then: its end may be among the events lost.
 *  - A log replaced under its path (a new file, another inode: `rm` and a
 *    new run, a rename over it) is followed from its start, and the old
 *    one read on beside it: its writers hold the old file and write on
 *    into it. The old one is let go once nothing of it is in flight (and its file
 *    removed, nothing held or unread), or once no record came for `replaced_wait_ns`
 *    since the switch at least (nothing left to end what is in flight: handed out then, those
 *    unsettled incomplete), or when TTFT_FOLLOW_OLD_MAX older ones are
 *    kept and another replacement comes (the oldest goes, as the drain
 *    does). For deciding when to let an old log go, a writer's pid is not
 *    asked after (an exporter in another pid namespace, a sidecar sharing
 *    /dev/shm, would take live writers for gone); for the join's hold it
 *    is, in a poll and when a log is let go or drained alike, of a writer
 *    once seen alive here with the log mapped for writing (gone_for_good
 *    in ttft_follow.c). A replaced log still read on that is moved back
 *    under the path (the same file: device and inode) is the current one
 *    again, read on from where it was, nothing of it counted twice; the
 *    one it replaced is read on as replaced. A replaced log whose file
 *    still has a name (renamed away, st_nlink) is kept with nothing of it
 *    in flight too, its end said then (old_done, again if it was written
 *    on), until quiet for `replaced_wait_ns`. One already let go that comes
 *    back (or a copy of it, or of one still read on, put back) is read from its start, its requests
 *    handed out again: the follower knows it by its header (the creation's
 *    clock anchors and boot id) and says so (sink reread, f->reread).
 *  - A log cut shorter than its header says (emptied under its writers,
 *    `: > log`) is read no further while it is cut (the exporter's
 *    ttftshim_log_up 0). Whole again (a copy put back in place, `cp
 *    saved log`: the same inode; writers that did not write into the
 *    cut file write on into it) with the same header and the last record
 *    read still in its slot, it is read on from where it was, said (sink
 *    refilled, f->refilled); slots it no longer holds read as zeros,
 *    given up and counted unpublished. With other records there (an
 *    older copy) it is another log, as one overwritten in place: read
 *    from its start, said as read again (the same header).
 *  - A request handed out is forgotten once nothing can reach it: its
 *    connection closed or answered a later request, and its join
 *    intervals end before any window a join still to be made may look
 *    at. A /metrics snapshot is let go once no such join can pick it:
 *    those from the last one answered before the earliest instant a
 *    request not handed out (or one still to come) may reach back to
 *    stay, and the first (the join reads the page's kind there). Memory
 *    follows what is in flight, not the log's history.
 */
#ifndef TTFT_FOLLOW_H
#define TTFT_FOLLOW_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ttft_analyze.h"
#include "ttft_assemble.h"
#include "ttft_logread.h"

#define TTFT_FOLLOW_LAG_NS 500000000LL         /* 0.5 s */
#define TTFT_FOLLOW_GRACE_NS 2000000000LL      /* 2 s */
#define TTFT_FOLLOW_SPLIT_WAIT_NS 30000000000LL /* 30 s */
/* The note of a split the follower refused because a request still in
 * flight after split_wait_ns may yet reach into its window. */
#define TTFT_FOLLOW_NOTE_IN_FLIGHT "refused by the live follower: a request still in " \
	"flight after split_wait may yet end in this window (ttft-analyze of the " \
	"whole log may give the split)"
/* The note of a split the follower refused when it stopped reading the
 * log (the exporter's end, a replaced log let go) while a request that may
 * yet reach into its window was in flight. */
#define TTFT_FOLLOW_NOTE_STOPPED "refused by the live follower: it stopped reading " \
	"this log while a request that may yet end in this window was in flight " \
	"(ttft-analyze of the whole log may give the split)"
/* Replaced logs read on at once: each keeps its file (its /dev/shm space)
 * and a view of it; a log replaced in a loop must not pile them up. */
#define TTFT_FOLLOW_OLD_MAX 2

/* Why a replaced log was let go (ttft_follow_sink.old_done). */
enum {
	TTFT_FOLLOW_OLD_ENDED = 1, /* nothing of it in flight any more */
	TTFT_FOLLOW_OLD_QUIET,     /* no record for replaced_wait_ns */
	TTFT_FOLLOW_OLD_PUSHED,    /* a newer replacement, TTFT_FOLLOW_OLD_MAX kept */
	TTFT_FOLLOW_OLD_UNREADABLE, /* its file could not be read any more */
	TTFT_FOLLOW_OLD_DRAINED,   /* the end of the run (ttft_follow_drain) */
};

/* Where the requests go. request: r is settled (complete = 1) or was
 * still open when the follower stopped, or was in progress while the log
 * lost events (r->cut_by_hole) (complete = 0); peer is the
 * connection's peer, NULL when its connect is not in the log; unix_s its
 * end (else its first token, else its start) on the wall clock through
 * its own log's anchor, NAN where that does not fit (a damaged header or
 * record). desync: the
 * sniffer lost the framing of a connection to peer (reason: TTFT_DESYNC_*
 * as in docs/log-format.md; 6: TLS whose plaintext was not seen). Any may
 * be NULL. */
struct ttft_follow_sink {
	void *ctx;
	void (*request)(void *ctx, const struct ttft_record *r, const char *peer, int complete,
			double unix_s);
	void (*desync)(void *ctx, const char *peer, int reason);
	/* a connect to peer failed (the errno the log holds) */
	void (*connect_failed)(void *ctx, const char *peer, int err);
	/* the log at the path was replaced by a new file: the old one is read
	 * on, in_flight of its requests in flight (its records up to now
	 * applied, none held back) */
	void (*replaced)(void *ctx, size_t in_flight);
	/* a replaced log was let go (why: TTFT_FOLLOW_OLD_*): in_flight as
	 * replaced said; of its requests handed out since, ended settled,
	 * incomplete not */
	void (*old_done)(void *ctx, int why, size_t in_flight, size_t ended, size_t incomplete);
	/* a replaced log still read on is at the path again (moved back): it
	 * is the current one again, read on from where it was */
	void (*returned)(void *ctx);
	/* the log now at the path is one let go before (its header's
	 * creation: moved back, or a copy put back): read from its start,
	 * handed of its requests were handed out then and are again */
	void (*reread)(void *ctx, uint64_t handed);
	/* a log found cut shorter than its header says (emptied under its
	 * writers) holds every slot again, its header and the last record
	 * read as they were (`cp saved log`, the same writers writing on): it
	 * is read on from where it was; current: the log at the path (else
	 * a replaced one read on) */
	void (*refilled)(void *ctx, int current);
};

/* One log file being read: the one at the path, or one replaced under it. */
struct ttft_follow_log {
	struct ttft_log_view v;
	dev_t dev;
	ino_t ino;
	int this_boot;            /* written on this machine since its boot
	                             (the header's boot_id): its pids may be ours */
	uint64_t cursor;          /* the next slot to read */
	/* zero slots: those below stuck_upto were already there at
	 * stuck_since, when one was first found unsealed at the cursor (on
	 * poll stuck_poll); 0: none waited on */
	int64_t stuck_since;
	uint64_t stuck_upto, stuck_poll;
	/* records held back to restore time order, sorted */
	struct ttft_rec *held;
	size_t nheld, heldcap;
	int64_t max_t;            /* the latest record time read */
	int64_t quiet_since;      /* when the last new record was read */
	struct ttft_rec last_out; /* the last record applied */
	int have_last;
	/* the requests */
	struct ttft_analysis an;
	struct ttft_asm as;       /* holds &an: the struct never moves */
	uint8_t *handed;          /* by request index: handed out */
	int64_t *settled_at;      /* by request index: when first found settled */
	int64_t *gone_at;         /* by request index: when its writers were
	                             first found gone (kill: ESRCH); -1 its
	                             sender seen alive here with the log mapped
	                             for writing, not gone; 0 neither */
	int64_t *parent_gone_at;  /* the same for a fork child's request's
	                             parent (parent_gone_for_good) */
	int64_t *sock_gone_at;    /* by request index: when its socket, its
	                             process's copy closed with the answer
	                             due, was first found open nowhere
	                             (heir_may_read); 0 not yet */
	size_t reqcap;
	uint32_t *openq;          /* indexes of the requests not handed out */
	size_t nopen, opencap;
	size_t seen_reqs;         /* requests already put on openq */
	/* requests handed out and forgotten (nothing could reach them any
	 * more: ttft_asm_forgettable); the next pass when an.nreqs is this */
	size_t forgotten, forget_at;
	/* when each of the log's holes (v.holes: events lost in its middle)
	 * was found */
	int64_t hole_found[TTFT_LOG_HOLES];
	size_t holes_seen;
	int unreadable;           /* its file could not be read any more */
	/* replaced and renamed away (not removed), kept: its end said
	 * (old_done) with these counts; said again only if they change */
	int done_said;
	size_t said_ended, said_incomplete;
	/* once replaced (replaced_at: when found, 0 before): its requests in
	 * flight then, and how those handed out since ended */
	int64_t replaced_at;
	size_t in_flight_then, ended, incomplete;
	uint64_t handed_out;      /* requests of it handed out */
	/* its first slot's seal (a check of the record), 0: not read: the same
	 * records under another header (only the header overwritten) */
	uint64_t first_seal;
	uint64_t refills_said;    /* of v.refills, said (sink refilled) */
};

/* A log let go: what its header says of its creation, to know it again. */
#define TTFT_FOLLOW_GONE_MAX 8
struct ttft_follow_gone {
	int64_t anchor_mono_ns, anchor_real_ns;
	char boot_id[40];
	uint64_t first_seal;      /* its first record's seal, 0: none */
	dev_t dev;                /* its file, with first_seal */
	ino_t ino;
	uint64_t handed_out;
};

struct ttft_follow {
	char path[4096];
	int64_t lag_ns, grace_ns, split_wait_ns;
	/* a replaced log without a record for this long is let go
	 * (TTFT_FOLLOW_OLD_QUIET); init sets split_wait_ns, the longest the
	 * follower waits for anything of a request; set it before a poll */
	int64_t replaced_wait_ns;
	/* 1 (init): a request in flight whose process is gone (kill(pid, 0)
	 * says ESRCH) holds no window: it will never end. 0: every one
	 * holds (a log copied from another machine) */
	int check_gone;
	struct ttft_follow_log *cur; /* the log at the path; NULL until there */
	struct ttft_follow_log *old[TTFT_FOLLOW_OLD_MAX]; /* replaced, oldest first */
	size_t nold;
	uint64_t polls;
	/* what was read, over every log followed (counters only grow) */
	uint64_t records, late, unpublished, corrupt;
	uint64_t dropped;         /* the drop counters of the logs open ... */
	uint64_t dropped_before;  /* ... plus those of logs let go */
	uint64_t unreadable_before[2]; /* unpublished, corrupt of logs let go */
	uint64_t handed_out, logs;
	uint64_t replaced;        /* times the file at the path was another */
	uint64_t returned;        /* … and of those, a replaced one read on */
	uint64_t refilled;        /* times a log cut under its writers was
	                             whole again, the same log, read on */
	/* the last TTFT_FOLLOW_GONE_MAX logs let go (a ring), and how many
	 * times one of them was found at the path again (read again) */
	struct ttft_follow_gone gone[TTFT_FOLLOW_GONE_MAX];
	size_t ngone;
	uint64_t reread;
	char err[512];            /* the last failure to read, "" when none */
};

/* Follow the log at path (it may not exist yet). Options of 0 take the
 * defaults above. */
void ttft_follow_init(struct ttft_follow *f, const char *path, int64_t lag_ns,
		      int64_t grace_ns, int64_t split_wait_ns);
/* Read what is new and hand out what is settled. 0, or -1 when out of
 * memory (f->err says so; following cannot go on). A log that is missing
 * or unreadable is not an error: f->err says why and the next poll tries
 * again. */
int ttft_follow_poll(struct ttft_follow *f, const struct ttft_follow_sink *sink);
/* Hand out everything: the records held back, then each request still in
 * flight (complete = 0), of the replaced logs still read (each let go,
 * TTFT_FOLLOW_OLD_DRAINED), then of the current one; a settled request
 * whose window one still in flight may reach has its split refused
 * (TTFT_FOLLOW_NOTE_STOPPED). For the end of a run. Same returns as
 * poll. */
int ttft_follow_drain(struct ttft_follow *f, const struct ttft_follow_sink *sink);
/* Requests begun and not yet handed out, of every log read. */
size_t ttft_follow_in_flight(const struct ttft_follow *f);
/* Requests held in memory: those in flight, and those handed out that a
 * later record or join may still need (a few a connection). */
size_t ttft_follow_kept(const struct ttft_follow *f);
/* /metrics snapshots (ttft-run --metrics) held in memory, of every log
 * read: those a join still to be made may pick. */
size_t ttft_follow_snapshots(const struct ttft_follow *f);
void ttft_follow_free(struct ttft_follow *f);

#endif
