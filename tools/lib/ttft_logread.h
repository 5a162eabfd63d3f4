/* ttft_logread.h — reading a ttftshim log (the writer is shim/core's
 * ttft_log.c; the layout is docs/log-format.md). The file is read in
 * windows with pread: a file that shrinks while it is read yields fewer
 * records, never SIGBUS, and memory stays a window's size whatever the
 * log's. A pass over the whole log (ttft_logsort.c) may map it read-only
 * instead, to read each record where it lies (that pass catches the
 * SIGBUS of a file that shrinks under the mapping and reads it again
 * with pread), or read it with pread into a ring of records, where a
 * mapped page costs this machine more. */
#ifndef TTFT_LOGREAD_H
#define TTFT_LOGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "ttft_log.h"

struct ttft_log_view {
	const struct ttft_log_hdr *hdr; /* a copy of the header at open */
	uint64_t n_slots;     /* slots the reader may look at                  */
	uint64_t claimed;     /* slots the header says were handed out          */
	int truncated;        /* the file holds fewer than claimed, or shrank;
	                         cleared when it holds them all again (refills) */
	int rewritten;        /* the file now holds another log (overwritten in
	                         place, `cp other.log log`: its header's
	                         creation differs); nothing more of this one */
	uint64_t refills;     /* times a refresh found the file, cut, whole
	                         again: the same log (its header, and the
	                         witness below in its slot) */
	/* The last record a follower took (it sets them; seal 0: none): a
	 * refresh finds it in its slot, or the file holds other records under
	 * the same header (emptied and refilled from an older copy): then
	 * rewritten, as for another log's header */
	uint64_t witness_slot, witness_seal;
	uint64_t dropped;
	uint64_t unpublished; /* reserved but never sealed (writer died/busy)   */
	uint64_t corrupt;     /* sealed but the seal does not match            */
	uint64_t unwritable;  /* of the dropped: slots that read as zeros
	                         (their segment could not be allocated)      */
	uint64_t zeros_explained; /* zero slots put down to unwritable       */
	/* Runs of such zero slots with records after them (a segment that
	 * could not be allocated while later ones were: the log lost events
	 * in the middle, not only at its end): the times of the records
	 * around each, either way, widened by TTFT_LOG_HOLE_SLACK_NS. The last
	 * one holds any beyond TTFT_LOG_HOLES. */
#define TTFT_LOG_HOLES 64
#define TTFT_LOG_HOLE_SLACK_NS 10000000 /* 10 ms: slot and time order */
	size_t nholes;
	int64_t holes[TTFT_LOG_HOLES][2];
	int64_t hole_t0;      /* the last intact record's time              */
	int hole_open;        /* unwritable zeros since it                  */
	int holes_by_loop;    /* a reader that checks out of slot order keeps
	                         them itself (ttft_log_view_hole_*)          */
	int seal_v2;          /* a log of version 2: its records carry that
	                         version's seal (ttft_seal.h); 0: this one's */
	/* the window */
	int fd;
	char *buf;            /* the header, then the window's records */
	uint64_t win0, nwin;  /* first slot in the window, slots in it */
	/* the mapping (ttft_log_view_map) */
	const struct ttft_rec *map; /* slot 0 of n_slots mapped; NULL: none */
	size_t map_len;
	int no_map;           /* the file shrank under a pass: the plain
	                         pread window only */
	int reader;           /* how the last windowed pass read the log */
#define TTFT_READER_MAP 1  /* through the mapping */
#define TTFT_READER_RING 2 /* with pread, into a ring of records */
#define TTFT_READER_WINDOW 3 /* with pread, in windows of 8192 slots: an
                               empty log, a mapping refused, or a start
                               over after the file was cut under a pass */
};

/* Open PATH and validate it. On error returns -1 and writes a message
 * (what failed, with what file, what to do) into err. */
int ttft_log_view_open(struct ttft_log_view *v, const char *path, char *err,
		       size_t errlen);
void ttft_log_view_close(struct ttft_log_view *v);
/* The holes (above), for a reader that goes over the slots in order but
 * checks them in another: an unwritable zero slot; a record's time. */
void ttft_log_view_hole_zero(struct ttft_log_view *v);
void ttft_log_view_hole_rec(struct ttft_log_view *v, int64_t t);
/* For a log still being written: re-read the header, so that slots handed
 * out since the view was opened can be read (n_slots, claimed, dropped,
 * unwritable and the header copy follow; they never shrink). A file now
 * shorter than its header (emptied under its writers) sets truncated and
 * returns 0; one whose header is now another log's (its creation's clock
 * anchors or boot id differ: overwritten in place), or whose witness slot
 * no longer holds the witness (emptied and refilled, `cp old-copy log`,
 * with other records), sets rewritten, takes nothing of it, and returns 0;
 * a truncated one that holds every slot claimed again, its header and
 * witness as they were, is whole again: truncated cleared, refills
 * counted. -1 when the file can no longer be read (errno says why). */
int ttft_log_view_refresh(struct ttft_log_view *v);
/* Copy slot i into *out if it is published and intact: 1; else 0 (and the
 * view's unpublished/corrupt counters are bumped; a slot the file no
 * longer holds sets truncated). Fastest in slot order. */
int ttft_log_view_get(struct ttft_log_view *v, uint64_t i, struct ttft_rec *out);

/* Zero the counters a pass over the slots fills (unpublished, corrupt,
 * zeros_explained), before a pass starts over. */
void ttft_log_view_restart(struct ttft_log_view *v);
/* Map the n_slots slots read-only (once): 0, or -1 when the view must be
 * read with ttft_log_view_read (no slots, no_map set, or mmap failed).
 * Reading a mapped slot of a file that has shrunk since raises SIGBUS:
 * only ttft_log_each, which catches it, reads through the mapping. */
int ttft_log_view_map(struct ttft_log_view *v);
/* Slots [from, to) will not be read again: their pages leave this
 * process's memory (they stay in the file). */
void ttft_log_view_unmap_range(struct ttft_log_view *v, uint64_t from, uint64_t to);
/* Drop the mapping. */
void ttft_log_view_unmap(struct ttft_log_view *v);

/* Read up to n slots from slot i straight into out (no window); returns
 * how many the file held. Each must then pass ttft_log_view_check. */
size_t ttft_log_view_read(struct ttft_log_view *v, uint64_t i, struct ttft_rec *out,
			  size_t n);
/* 1 if rec, read from v, is published and intact; else 0 (and the view's
 * unpublished/corrupt counters are bumped). */
int ttft_log_view_check(struct ttft_log_view *v, const struct ttft_rec *rec);
/* Copy *src into *dst and check the copy, as ttft_log_view_check does, in
 * one pass over the record (vector instructions where the CPU has them). */
int ttft_log_view_take(struct ttft_log_view *v, struct ttft_rec *dst, const struct ttft_rec *src);

const char *ttft_kind_name(unsigned kind);

#endif
