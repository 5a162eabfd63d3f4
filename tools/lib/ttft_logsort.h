/* ttft_logsort.h — a log's records in time order. Writers reserve slots in
 * nearly, not exactly, time order (a thread can be preempted between its
 * clock read and its reservation), so the records pass through a window
 * kept sorted by insertion: linear time and a window's memory for any real
 * log. A log too far out of order for the window is reported, and the
 * caller starts over with the whole log sorted in memory. */
#ifndef TTFT_LOGSORT_H
#define TTFT_LOGSORT_H

#include "ttft_logread.h"

/* Records held back to restore the order: 2 MiB. A thread preempted
 * between its clock read and its reservation puts its record that many
 * records late at most before the analysis falls back to sorting. */
#define TTFT_LOGSORT_WINDOW 16384u

/* The order records are handed out in: time, then kind (causal order
 * within a connection at one instant; an interim response's before the
 * final response's headers), then the writer's own numbering
 * (b: token index, mark code, snapshot number). <0, 0, >0. */
int ttft_rec_cmp(const struct ttft_rec *a, const struct ttft_rec *b);

/* Call fn for every intact record of v in order of (t_ns, kind, b), ties
 * in slot order; fn may change the record (a copy). window: records held
 * back, 0: read the whole log into memory and sort it. With a window the
 * log is read through a read-only mapping (each record copied once, as it
 * is handed out, and its seal checked on that copy) or, where a page of
 * the mapping costs more than the same bytes copied with pread (a log of
 * 32 MiB or more, measured on its first pages: on a VM whose hypervisor
 * traps every page-table change), with pread into a ring of records used
 * again; both hand out the same records in the same order, and
 * v->reader says which read this pass. TTFT_LOG_READER=map or =pread in
 * the environment takes one without measuring (a mapping that fails
 * reads with pread). Returns 0 when every record was visited, 1 when a
 * record came more than window records late (some were visited out of
 * order: start over with window 0), 2 when the file shrank under the
 * pass (the mapping's SIGBUS is caught; v now reads with the plain pread
 * window: start over), -1 when out of memory. Before starting over, reset v's counters
 * (ttft_log_view_restart). The mapped pass installs its SIGBUS handler for
 * its own duration (the one before is back afterwards): one such pass at
 * a time in a process. */
int ttft_log_each(struct ttft_log_view *v, unsigned window,
		  void (*fn)(void *ctx, struct ttft_rec *r), void *ctx);

#endif
