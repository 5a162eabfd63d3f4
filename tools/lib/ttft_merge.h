/* ttft_merge.h — the logs of several hosts as one report: each log's
 * requests put on the wall clock through its anchor pair (CLOCK_MONOTONIC
 * read with CLOCK_REALTIME when the log was created), reported per host
 * and overall, with how far the hosts' clocks may be apart.
 *
 * The bound (docs/fleet.md): logs of one boot (the same boot_id) share
 * CLOCK_MONOTONIC and are put on one anchor: 0 apart. Otherwise each
 * log's wall clock lies within its anchor's read error plus the kernel's
 * maximum error (adjtimex maxerror, kept by the NTP daemon) of true time,
 * so two logs lie within the sum of theirs. A log whose clock the kernel
 * called unsynchronised, or made before the header had these fields, or
 * whose header gives a bound no kernel gives (negative, or past the
 * kernel's 16 s limit; an anchor read error negative or past 1 s: a
 * damaged header), has no bound: the report says so and gives none. A step of a wall clock
 * while a log was written (ntpdate, chrony makestep) is not visible in the
 * log and moves its later requests by the step.
 */
#ifndef TTFT_MERGE_H
#define TTFT_MERGE_H

#include <stdint.h>
#include <stdio.h>

#include "ttft_analyze.h"
#include "ttft_json.h"

struct ttft_merge_log {
	const char *path;
	struct ttft_analysis a;
	char name[80];              /* the host's name, else the file's */
	int group;                  /* logs of one boot share a group, and the
	                               first one's anchor (put into a), when
	                               their anchors agree (one
	                               CLOCK_MONOTONIC) */
	int apart_from;             /* a log of its boot whose anchor
	                               disagrees with its own (another time
	                               namespace, or the wall clock stepped
	                               between them): aligned through its own
	                               anchor; -1 none */
	double apart_s;             /* by how much (seconds, either way) */
	double err_s;               /* its wall clock's error bound; NAN: none */
	double ntp_max_error_s;     /* the kernel's bound in its header, and */
	double ntp_est_error_s;     /* its estimate, and the anchor's read   */
	double anchor_error_s;      /* error: NAN when not given or not a
	                               bound (negative, beyond what a kernel
	                               or a read can give: a damaged header) */
	char err_why[200];          /* why there is no bound */
};

/* 1 when a and b were read from one log (the same file given twice, or a
 * copy of it): the same anchor pair, creator pid and boot id in their
 * headers. Counting both would count each request twice. Before
 * ttft_merge_prepare, which moves the anchors of one boot. */
int ttft_merge_same_log(const struct ttft_analysis *a, const struct ttft_analysis *b);

/* Name the logs, group those of one boot and bound each one's error.
 * Call after each log's analysis is in l[i].a. */
void ttft_merge_prepare(struct ttft_merge_log *l, size_t n);
/* How far apart logs i and j's wall clocks may be (seconds): 0 in one
 * group, the sum of their bounds across groups, NAN when unknown. */
double ttft_merge_gap(const struct ttft_merge_log *l, size_t i, size_t j);
/* The largest gap between any two logs; NAN when one is unknown. */
double ttft_merge_spread(const struct ttft_merge_log *l, size_t n);

/* Each host's table, then every log's and the overall summary, then the
 * clocks. -1 when out of memory. */
int ttft_merge_print(FILE *f, const struct ttft_merge_log *l, size_t n);
/* {"logs":[…],"requests":[… in wall-clock order, each with "host"],
 *  "summary":{…},"clock_spread_s":x|null,"clock_note":"…"}. -1 when out of
 * memory. */
int ttft_merge_json(struct ttft_json *j, const struct ttft_merge_log *l, size_t n);

#endif
