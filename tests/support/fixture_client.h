/* fixture_client.h — fixture-server as the tests and bench/ see it: start
 * it, and read its --truth file, what it did and when (CLOCK_MONOTONIC ns),
 * the ground truth the tools' own timestamps are compared with. No Check
 * dependency, so bench/ shares it. */
#ifndef TTFT_FIXTURE_CLIENT_H
#define TTFT_FIXTURE_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Start BUILD/fixture-server --port 0 --truth TRUTH ARGS and wait until it
 * listens; its pid and *port, or -1 with a message in err. It gets SIGTERM
 * when the calling thread's process dies (PR_SET_PDEATHSIG), so no failed
 * test or interrupted bench leaves one running. */
pid_t tu_fixture_spawn(const char *build, const char *args, const char *truth, int *port,
		       char *err, size_t errlen);

/* One request (an "event":"request" line); times 0 where the step did not
 * happen. Writes are stamped just before the send() carrying their first
 * byte, reads just after the recv() that returned the bytes. */
struct tu_treq {
	int n, conn;               /* arrival order; accept order */
	int status, prompt_tokens, closed;
	char method[16], path[256];
	int64_t accept_ns, recv_first_ns, recv_ns, hdr_ns, role_ns;
	int64_t error_ns, usage_ns, done_ns, fin_ns;
	int64_t *tok;              /* each token event */
	int ntok;
	/* the engine's side (fixture-server --slots, engine_start): 0 / NAN /
	 * "" when the line has none */
	int64_t sched_ns;          /* the engine took it (a slot) */
	double queue_s, prefill_s; /* what the server reported for it */
	char trace_id[33];         /* its traceparent's trace id */
};

struct tu_tline {
	int64_t t_ns;              /* a --startup line, just before its write */
	char *text;
};

struct tu_truth {
	int64_t start_ns, listen_ns;
	struct tu_tline *lines;
	size_t nlines;
	struct tu_treq *req;       /* by n */
	size_t nreq;
};

/* Parse PATH; a last line still being written is left out. 0, or -1 with
 * a message in err. */
int tu_truth_load(const char *path, struct tu_truth *t, char *err, size_t errlen);
void tu_truth_free(struct tu_truth *t);
/* The k-th (0-based) request whose path starts with prefix, or NULL. */
const struct tu_treq *tu_truth_req(const struct tu_truth *t, const char *prefix, size_t k);
/* How many requests' paths start with prefix. */
size_t tu_truth_count(const struct tu_truth *t, const char *prefix);
/* The first --startup line containing needle, or NULL. */
const struct tu_tline *tu_truth_line(const struct tu_truth *t, const char *needle);

#endif
