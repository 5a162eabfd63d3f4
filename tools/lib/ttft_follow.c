/* ttft_follow.c — see ttft_follow.h. */
#include "ttft_follow.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ttft_clock.h"
#include "ttft_seal.h"
#include "ttft_logsort.h"

#define CHUNK 1024u /* slots read at once */
#define FORGET_MIN 4096u /* requests kept before the first forget() */

/* Was a log with this boot_id written on this machine since its boot?
 * Only then are its pids this machine's (a copied log's are not). */
static int same_boot(const char *id, size_t len)
{
	char ours[64] = "";
	FILE *fp = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (!fp)
		return 0;
	int ok = fgets(ours, sizeof ours, fp) != NULL;
	fclose(fp);
	ours[strcspn(ours, "\n")] = 0;
	size_t n = strnlen(id, len);
	return ok && n > 0 && n == strlen(ours) && !memcmp(id, ours, n);
}

void ttft_follow_init(struct ttft_follow *f, const char *path, int64_t lag_ns,
		      int64_t grace_ns, int64_t split_wait_ns)
{
	memset(f, 0, sizeof *f);
	snprintf(f->path, sizeof f->path, "%s", path);
	f->lag_ns = lag_ns > 0 ? lag_ns : TTFT_FOLLOW_LAG_NS;
	f->grace_ns = grace_ns > 0 ? grace_ns : TTFT_FOLLOW_GRACE_NS;
	f->split_wait_ns = split_wait_ns > 0 ? split_wait_ns : TTFT_FOLLOW_SPLIT_WAIT_NS;
	f->replaced_wait_ns = f->split_wait_ns;
	f->check_gone = 1;
}

static int oom(struct ttft_follow *f)
{
	snprintf(f->err, sizeof f->err, "out of memory following '%.300s' (%llu records, "
		 "%zu requests); restart the exporter", f->path,
		 (unsigned long long)f->records, ttft_follow_kept(f));
	return -1;
}

/* Let L go (its requests were handed out); its counts stay in f's. */
static void close_log(struct ttft_follow *f, struct ttft_follow_log *L)
{
	/* counters only grow (a replaced log had set them back to 0, a
	 * review found); the view's are gone once it is closed */
	f->dropped_before += L->v.dropped;
	f->unreadable_before[0] += L->v.unpublished;
	f->unreadable_before[1] += L->v.corrupt;
	ttft_log_view_close(&L->v);
	ttft_asm_free(&L->as);
	ttft_analysis_free(&L->an);
	free(L->held);
	free(L->handed);
	free(L->settled_at);
	free(L->gone_at);
	free(L->parent_gone_at);
	free(L->sock_gone_at);
	free(L->openq);
	free(L);
}

/* The counters over every log: those let go, and those open. */
static void count(struct ttft_follow *f)
{
	f->unpublished = f->unreadable_before[0];
	f->corrupt = f->unreadable_before[1];
	f->dropped = 0;
	for (size_t k = 0; k <= f->nold; k++) {
		const struct ttft_follow_log *L = k < f->nold ? f->old[k] : f->cur;
		if (!L)
			continue;
		f->unpublished += L->v.unpublished;
		f->corrupt += L->v.corrupt;
		f->dropped += L->v.dropped;
	}
}

static int open_log(struct ttft_follow *f)
{
	struct ttft_log_view v;
	char err[512];
	if (ttft_log_view_open(&v, f->path, err, sizeof err) != 0) {
		snprintf(f->err, sizeof f->err, "%s", err);
		return 0;
	}
	struct stat st;
	if (fstat(v.fd, &st) != 0) {
		snprintf(f->err, sizeof f->err, "cannot stat '%.300s': %s", f->path, strerror(errno));
		ttft_log_view_close(&v);
		return 0;
	}
	struct ttft_follow_log *L = calloc(1, sizeof *L);
	if (!L || ttft_asm_init(&L->as, &L->an, 1) != 0) {
		free(L);
		ttft_log_view_close(&v);
		return oom(f);
	}
	L->v = v;
	L->dev = st.st_dev;
	L->ino = st.st_ino;
	L->an.anchor_mono_ns = v.hdr->anchor_mono_ns;
	L->an.anchor_real_ns = v.hdr->anchor_real_ns;
	L->this_boot = same_boot(v.hdr->boot_id, sizeof v.hdr->boot_id);
	L->forget_at = FORGET_MIN;
	L->quiet_since = ttft_now_ns();
	f->cur = L;
	f->logs++;
	f->err[0] = 0;
	return 0;
}

/* Insert r into the held records, keeping them sorted (from the back:
 * records come nearly in order). */
static int hold(struct ttft_follow_log *L, const struct ttft_rec *r)
{
	if (L->nheld == L->heldcap) {
		size_t nc = L->heldcap ? 2 * L->heldcap : 256;
		struct ttft_rec *h = realloc(L->held, nc * sizeof *h);
		if (!h)
			return -1;
		L->held = h;
		L->heldcap = nc;
	}
	size_t k = L->nheld;
	while (k > 0 && ttft_rec_cmp(&L->held[k - 1], r) > 0)
		k--;
	memmove(L->held + k + 1, L->held + k, (L->nheld - k) * sizeof *r);
	L->held[k] = *r;
	L->nheld++;
	return 0;
}

/* A zero slot at the cursor: a writer between reservation and seal, one
 * that died there, or a slot its writer could not write (unwritable).
 * 1: give it up (it is counted as the analyzer counts it); 0: wait.
 * The grace runs from when the reader first saw the slot, so a run of
 * zero slots already there then costs one grace, not one each (a review
 * found 30 zero slots freezing the page for 60 s, and a segment not
 * allocated, 8192 of them, for hours). */
static int give_up(const struct ttft_follow *f, struct ttft_follow_log *L, uint64_t slot,
		   int64_t now)
{
	if (!L->stuck_since || slot >= L->stuck_upto) {
		/* the slots there now were reserved by now */
		L->stuck_since = now;
		L->stuck_upto = L->v.n_slots;
		L->stuck_poll = f->polls;
		return 0;
	}
	if (now - L->stuck_since >= f->grace_ns)
		return 1;
	/* the header says its writers could not write so many: still zero a
	 * poll later, these are those (a writer is that slow only when
	 * preempted: it then loses its record, counted) */
	return L->v.zeros_explained < L->v.unwritable && f->polls > L->stuck_poll;
}

/* A published record's seal, both halves: a check of all the rest. */
static uint64_t rec_seal(const struct ttft_rec *r)
{
	return (uint64_t)r->seal | (uint64_t)r->seal_hi << 32;
}

/* Read the slots published since the last poll, up to the first that is
 * reserved but not sealed (all: past it; the writers are gone). */
static int read_new(struct ttft_follow *f, struct ttft_follow_log *L, int all, int64_t now)
{
	if (L->unreadable)
		return 0;
	if (ttft_log_view_refresh(&L->v) != 0) {
		if (L == f->cur)
			snprintf(f->err, sizeof f->err, "cannot read '%.300s' any more: %s",
				 f->path, strerror(errno));
		else
			L->unreadable = 1; /* let go: nothing more can be read of it */
		return 0;
	}
	if (L->v.rewritten) {
		/* nothing more of it: let go, and the file read anew as
		 * another log (step) */
		L->unreadable = 1;
		return 0;
	}
	struct ttft_rec buf[CHUNK];
	while (L->cursor < L->v.n_slots) {
		size_t got = ttft_log_view_read(&L->v, L->cursor, buf, CHUNK);
		if (!got)
			break;
		size_t i = 0;
		for (; i < got; i++) {
			if (buf[i].seal == 0 && !all && !give_up(f, L, L->cursor + i, now))
				break;
			if (ttft_log_view_check(&L->v, &buf[i])) {
				if (L->cursor + i == 0)
					L->first_seal = rec_seal(&buf[i]);
				/* the refresh looks for it: the same log
				 * after a cut, or other records */
				L->v.witness_slot = L->cursor + i;
				L->v.witness_seal = rec_seal(&buf[i]);
				if (hold(L, &buf[i]) != 0)
					return oom(f);
				f->records++;
				if (buf[i].t_ns > L->max_t)
					L->max_t = buf[i].t_ns;
				L->quiet_since = now;
			}
		}
		L->cursor += i;
		if (i < got)
			break;
	}
	return 0;
}

static void apply(struct ttft_follow *f, struct ttft_follow_log *L, struct ttft_rec *r,
		  const struct ttft_follow_sink *s)
{
	if (L->have_last && ttft_rec_cmp(r, &L->last_out) < 0)
		f->late++;
	else {
		L->last_out = *r;
		L->have_last = 1;
	}
	if (r->kind == TTFT_EV_DESYNC && s && s->desync)
		s->desync(s->ctx, ttft_asm_peer(&L->as, r->conn), (int)r->b);
	/* what the analyzer says of a connection in its notes: TLS it could
	 * not read, a connect that failed (a review found both missing from
	 * the exporter: a page that looked idle) */
	if (r->kind == TTFT_EV_TLS && r->a == 0 && s && s->desync)
		s->desync(s->ctx, ttft_asm_peer(&L->as, r->conn), 6);
	if (r->kind == TTFT_EV_CONNECT_END && r->a != 0 && r->err && r->err != EINPROGRESS &&
	    r->err != EALREADY && r->err != EINTR && s && s->connect_failed)
		s->connect_failed(s->ctx, ttft_asm_peer(&L->as, r->conn), r->err);
	/* closed with its connect under way: the client gave up waiting for
	 * the server's answer to its SYN */
	if (r->kind == TTFT_EV_CLOSE && r->b == 1 && s && s->connect_failed)
		s->connect_failed(s->ctx, ttft_asm_peer(&L->as, r->conn), ETIMEDOUT);
	ttft_asm_apply(&L->as, r);
}

/* Apply the held records the log has moved lag_ns past, or all of them. */
static int release(struct ttft_follow *f, struct ttft_follow_log *L, int all, int64_t now,
		   const struct ttft_follow_sink *s)
{
	if (!L->nheld)
		return 0;
	/* connection ids of every record read are below next_conn now
	 * (a connection's id is taken before its first record is written);
	 * a damaged header cannot ask for more than one per slot */
	uint64_t nconn = L->v.hdr->next_conn;
	if (nconn > L->v.n_slots + 1)
		nconn = L->v.n_slots + 1;
	if (ttft_asm_room(&L->as, nconn) != 0)
		return oom(f);
	if (now - L->quiet_since >= f->lag_ns)
		all = 1; /* nothing new for a while: nothing left to wait for */
	size_t k = 0;
	while (k < L->nheld && (all || L->held[k].t_ns <= L->max_t - f->lag_ns))
		apply(f, L, &L->held[k++], s);
	memmove(L->held, L->held + k, (L->nheld - k) * sizeof *L->held);
	L->nheld -= k;
	return L->as.oom ? oom(f) : 0;
}

static int track_new_requests(struct ttft_follow *f, struct ttft_follow_log *L)
{
	size_t n = L->an.nreqs;
	if (n > L->reqcap) {
		size_t nc = n * 2;
		uint8_t *h = realloc(L->handed, nc);
		if (!h)
			return oom(f);
		L->handed = h;
		int64_t *t = realloc(L->settled_at, nc * sizeof *t);
		if (!t)
			return oom(f);
		L->settled_at = t;
		int64_t *g = realloc(L->gone_at, nc * sizeof *g);
		if (!g)
			return oom(f);
		L->gone_at = g;
		g = realloc(L->parent_gone_at, nc * sizeof *g);
		if (!g)
			return oom(f);
		L->parent_gone_at = g;
		g = realloc(L->sock_gone_at, nc * sizeof *g);
		if (!g)
			return oom(f);
		L->sock_gone_at = g;
		L->reqcap = nc;
	}
	if (n > L->opencap) {
		size_t nc = n * 2;
		uint32_t *q = realloc(L->openq, nc * sizeof *q);
		if (!q)
			return oom(f);
		L->openq = q;
		L->opencap = nc;
	}
	for (size_t i = L->seen_reqs; i < n; i++) {
		L->handed[i] = 0;
		L->settled_at[i] = 0;
		L->gone_at[i] = 0;
		L->parent_gone_at[i] = 0;
		L->sock_gone_at[i] = 0;
		L->openq[L->nopen++] = (uint32_t)i;
	}
	L->seen_reqs = n;
	return 0;
}

static void hand_out(struct ttft_follow *f, struct ttft_follow_log *L, uint32_t i,
		     int complete, const struct ttft_follow_sink *s)
{
	struct ttft_record *r = &L->an.reqs[i];
	if (ttft_record_finish(r) != 0)
		r->itl_p50_s = r->itl_p99_s = NAN; /* the percentiles only */
	/* a response whose request is not in the log is a row only where
	 * the log lost records (as ttft-analyze): in a whole one it is a
	 * fork child's read of an answer it cannot be paired with */
	int lost = L->v.corrupt || L->v.unpublished || L->v.dropped;
	if (!r->request_lost || lost) {
		if (s && s->request) {
			int64_t t = r->t_end ? r->t_end : r->t_first ? r->t_first : r->t_start;
			s->request(s->ctx, r, ttft_asm_peer(&L->as, r->conn), complete,
				   ttft_analysis_unix_s(&L->an, t));
		}
		if (L->replaced_at && complete)
			L->ended++;
		else if (L->replaced_at)
			L->incomplete++;
	}
	L->handed[i] = 1;
	f->handed_out++;
	L->handed_out++;
	/* its token times are what it costs; late records may add a few
	 * back, harmlessly (it is not handed out again) */
	ttft_record_free(r);
}

/* Connects applied without a lookup of their own thread take a helper
 * thread's, as the analyzer decides it after its last record. A helper is
 * a thread that never connects, which only the whole log tells: so a
 * connect is decided when a settled request of a new connection at or
 * after it is about to be handed out, not when it is applied (the lookup
 * of a thread that connects a moment later is that thread's own). Records
 * come in time order: every lookup that finished before it is applied. */
static int decide_dns(struct ttft_follow_log *L, int all)
{
	int64_t upto = all ? INT64_MAX : 0;
	for (size_t j = 0; j < L->nopen && !all; j++) {
		const struct ttft_record *r = &L->an.reqs[L->openq[j]];
		if (r->new_conn && r->t_conn0 > upto && ttft_asm_settled(&L->as, r))
			upto = r->t_conn0;
	}
	return upto ? ttft_asm_dns_helpers_upto(&L->as, upto) : 0;
}

/* Whether r was in progress while the log lost events in its middle (the
 * analyzer's test, ttft_analyze.c); *stale: a hole it may have ended in
 * was found split_wait_ns ago or more. */
static int in_a_hole(const struct ttft_follow *f, const struct ttft_follow_log *L,
		     const struct ttft_record *r, int64_t now, int *stale)
{
	int64_t t0 = r->t_start ? r->t_start : r->t_req0 ? r->t_req0 : r->t_hdr;
	int in = 0;
	*stale = 0;
	for (size_t h = 0; h < L->v.nholes; h++)
		if ((!r->t_end || r->t_end >= L->v.holes[h][0]) && t0 <= L->v.holes[h][1]) {
			in = 1;
			if (now - L->hole_found[h] >= f->split_wait_ns)
				*stale = 1;
		}
	return in;
}

/* A process that is gone writes nothing more: its requests in flight
 * never end once what it wrote before is read, and the analyzer counts a
 * request that never ended in no window. Asked of the kernel: ESRCH, or
 * a zombie (ended, its parent not yet waiting: /proc/<pid>/status
 * "State: Z" with one thread), and only of a writer this follower has seen alive here with the
 * log mapped for writing (/proc/<pid>/maps; the shim keeps its header so
 * mapped): in another pid namespace (a sidecar sharing /dev/shm, one log
 * written from a host and a container) kill() finds no writer, though
 * they live on, and taken for gone a stream would hold no window while
 * the analyzer, which sees its end, refuses the split beside it (a review
 * found). A writer never seen alive (it ended between two polls) holds,
 * as without the check. A pid reused by another process looks alive:
 * the request holds. A process is taken as gone only once it has been
 * seen gone for the lag and a stuck slot's give-up (grace_ns): what it
 * wrote before it ended (its response's end, the moment that could reach
 * back) is read and applied by then. One kernel answer, one look at the
 * maps, a pid a poll (cache). */
struct gone_cache {
	int pid[16];
	unsigned char gone[16];
	signed char mapped[16]; /* -1: not looked at yet */
	size_t n;
	int looked;             /* maps read this poll */
	/* the sockets open in a network namespace's tcp and tcp6 tables
	 * (their inodes, sorted), read once a poll: many rows waiting on
	 * their heirs cost one read of each table, not one each */
	struct {
		char dir[48];
		uint64_t *ino;  /* NULL with n 0: none open */
		size_t n;
		int known;      /* 0: neither table read */
	} ns[4];
	size_t nns;
};

static void gone_cache_free(struct gone_cache *c)
{
	for (size_t i = 0; i < c->nns; i++)
		free(c->ns[i].ino);
	c->nns = 0;
}

/* Has pid ended, its exit not yet collected by its parent (a zombie:
 * kill() still finds it, but it writes nothing more)? A thread group
 * whose first thread alone ended (pthread_exit in main) also shows
 * "State: Z", with its other threads counted: not ended. */
static int zombie(int pid)
{
	char path[64], line[128];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	int z = 0, threads = 0;
	while (fgets(line, sizeof line, fp)) {
		if (!strncmp(line, "State:", 6))
			z = strchr(line, 'Z') != NULL;
		else if (!strncmp(line, "Threads:", 8))
			threads = atoi(line + 8);
	}
	fclose(fp);
	return z && threads == 1;
}

static int ended(int pid)
{
	if (kill(pid, 0) != 0 && errno != EPERM) /* EPERM: another user's */
		return errno == ESRCH;
	return zombie(pid);
}

static size_t cache_slot(struct gone_cache *c, int pid)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->pid[i] == pid)
			return i;
	if (c->n == sizeof c->pid / sizeof c->pid[0])
		return SIZE_MAX;
	c->pid[c->n] = pid;
	c->gone[c->n] = (unsigned char)ended(pid);
	c->mapped[c->n] = -1;
	return c->n++;
}

static int process_gone(struct gone_cache *c, int pid)
{
	if (pid <= 0)
		return 0;
	size_t i = cache_slot(c, pid);
	return i == SIZE_MAX ? ended(pid) : c->gone[i];
}

/* Does pid map L's file shared and writable (a writer: the shim keeps its
 * header so mapped)? A reader's own read-only mapping is not one: an
 * exporter that is pid 1 in its container beside a writer that is pid 1
 * in its own would find itself. */
static int maps_log_for_writing(int pid, const struct ttft_follow_log *L)
{
	char path[64], line[512];
	snprintf(path, sizeof path, "/proc/%d/maps", pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	int found = 0;
	while (!found && fgets(line, sizeof line, fp)) {
		char perms[8];
		unsigned maj, min;
		unsigned long long ino;
		found = sscanf(line, "%*x-%*x %7s %*x %x:%x %llu", perms, &maj, &min, &ino) == 4 &&
			perms[1] == 'w' && perms[3] == 's' && makedev(maj, min) == L->dev &&
			(ino_t)ino == L->ino;
		/* a line longer than the buffer: its rest is no line */
		while (!strchr(line, '\n') && fgets(line, sizeof line, fp))
			;
	}
	fclose(fp);
	return found;
}

/* Is pid, alive, a writer of L here (its maps)? At most 32 processes'
 * maps read a poll: the others are looked at on later polls. */
static int a_writer_here(struct gone_cache *c, const struct ttft_follow_log *L, int pid)
{
	size_t i = cache_slot(c, pid);
	if (i != SIZE_MAX && c->mapped[i] >= 0)
		return c->mapped[i];
	if (c->looked >= 32)
		return 0;
	c->looked++;
	int m = maps_log_for_writing(pid, L);
	if (i != SIZE_MAX)
		c->mapped[i] = (signed char)m;
	return m;
}

/* Request i's writers (its sender, and the process that read its answer
 * when another) gone for the lag and the grace. L->gone_at[i], kept
 * while it is in flight (as many clients killed over a run as there are):
 * 0 its sender not yet seen alive here as a writer; -1 seen so; else when
 * it was first found gone. One found alive again (its pid reused) starts
 * over. */
static int gone_for_good(const struct ttft_follow *f, struct ttft_follow_log *L,
			 struct gone_cache *c, uint32_t i, int64_t now)
{
	const struct ttft_record *r = &L->an.reqs[i];
	if (r->pid <= 0)
		return 0;
	if (!process_gone(c, r->pid)) {
		if (L->gone_at[i] > 0)
			L->gone_at[i] = 0; /* its pid taken again */
		if (!L->gone_at[i] && a_writer_here(c, L, r->pid))
			L->gone_at[i] = -1;
		return 0;
	}
	if (!L->gone_at[i] || (r->reader_pid && !process_gone(c, r->reader_pid)))
		return 0;
	if (L->gone_at[i] < 0)
		L->gone_at[i] = now;
	return now - L->gone_at[i] >= f->lag_ns + f->grace_ns;
}

/* The parent (pid) of request i, a fork child's, gone for the lag and
 * the grace by the rule gone_for_good holds a sender to: seen alive here
 * as a writer of L, then found gone (everything it wrote, a send that
 * tangles i's connection included, is read by then; a pid taken again
 * holds). L->parent_gone_at[i] is kept as L->gone_at[i] is. */
static int parent_gone_for_good(const struct ttft_follow *f, struct ttft_follow_log *L,
				struct gone_cache *c, uint32_t i, int pid, int64_t now)
{
	int64_t *at = &L->parent_gone_at[i];
	if (pid <= 0)
		return 0; /* not known: it holds */
	if (!process_gone(c, pid)) {
		if (*at > 0)
			*at = 0; /* its pid taken again */
		if (!*at && a_writer_here(c, L, pid))
			*at = -1;
		return 0;
	}
	if (!*at)
		return 0;
	if (*at < 0)
		*at = now;
	return now - *at >= f->lag_ns + f->grace_ns;
}

/* Is the TCP socket with inode ino open in some process: a line of the
 * network namespace's tcp or tcp6 table with that inode (once no fd holds
 * it, the kernel shows 0 there, or no line)? 1 yes, 0 no, -1 not known
 * (neither table read). The namespace is pid's, the writer that closed
 * its copy, while it is alive and seen here as a writer of L (a sidecar
 * follower's own namespace may hold none of its client's sockets); else
 * the follower's own. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Read dir's tcp and tcp6 tables into e: the inodes of the sockets some
 * process holds (0 where none does), sorted. 0, or -1 out of memory. */
static int read_socket_tables(const char *dir, uint64_t **out, size_t *n, int *known)
{
	uint64_t *v = NULL;
	size_t cap = 0;
	*n = 0;
	*known = 0;
	for (int v6 = 0; v6 < 2; v6++) {
		char path[64], line[512];
		snprintf(path, sizeof path, "%s/%s", dir, v6 ? "tcp6" : "tcp");
		FILE *fp = fopen(path, "r");
		if (!fp)
			continue;
		*known = 1;
		while (fgets(line, sizeof line, fp)) {
			unsigned long long i;
			/* sl local rem st tx:rx tr:when retr uid timeout inode */
			if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %llu", &i) != 1 ||
			    !i)
				continue;
			if (*n == cap) {
				size_t nc = cap ? 2 * cap : 256;
				uint64_t *g = realloc(v, nc * sizeof *g);
				if (!g) {
					fclose(fp);
					free(v);
					return -1;
				}
				v = g;
				cap = nc;
			}
			v[(*n)++] = i;
		}
		fclose(fp);
	}
	if (*n > 1)
		qsort(v, *n, sizeof *v, cmp_u64);
	*out = v;
	return 0;
}

/* Is the TCP socket with inode ino open in some process: a line of the
 * network namespace's tcp or tcp6 table with that inode (once no fd holds
 * it, the kernel shows 0 there, or no line)? 1 yes, 0 no, -1 not known
 * (neither table read, or no memory to read them). The namespace is
 * pid's, the writer that closed its copy, while it is alive and seen here
 * as a writer of L (a sidecar follower's own namespace may hold none of
 * its client's sockets); else the follower's own. Each namespace's tables
 * are read once a poll (gone_cache). */
static int socket_open(struct gone_cache *c, const struct ttft_follow_log *L, int pid,
		       uint64_t ino)
{
	char dir[48] = "/proc/self/net";
	if (pid > 0 && !process_gone(c, pid) && a_writer_here(c, L, pid))
		snprintf(dir, sizeof dir, "/proc/%d/net", pid);
	size_t k = 0;
	while (k < c->nns && strcmp(c->ns[k].dir, dir))
		k++;
	uint64_t *v = NULL;
	size_t n = 0;
	int known = 0;
	if (k < c->nns) {
		v = c->ns[k].ino, n = c->ns[k].n, known = c->ns[k].known;
	} else {
		if (read_socket_tables(dir, &v, &n, &known) < 0)
			return -1;
		if (c->nns < sizeof c->ns / sizeof c->ns[0]) {
			snprintf(c->ns[c->nns].dir, sizeof c->ns[c->nns].dir, "%s", dir);
			c->ns[c->nns].ino = v, c->ns[c->nns].n = n, c->ns[c->nns].known = known;
			c->nns++;
		} else {
			int r = !known ? -1 : n && bsearch(&ino, v, n, sizeof *v, cmp_u64) != NULL;
			free(v);
			return r;
		}
	}
	if (!known)
		return -1;
	return n && bsearch(&ino, v, n, sizeof *v, cmp_u64) != NULL;
}

/* Request i, settled by its process's close of its copy of the socket
 * with the answer due and no heir known (ttft_asm_heir_may_come): may the
 * follower hand it out as the client's close? Not while the socket is
 * open in another process (a program it spawned with it, posix_spawn
 * adddup2, which writes nothing before its first use: then its heir's
 * records make the request owed again, as ttft-analyze gives it); once
 * it is found open nowhere, after the lag and the grace (what the heir
 * wrote before its close is read by then). 1 hand it out, 0 wait; where
 * the kernel cannot be asked (a log of another machine, the check off,
 * no table read), 1 with the row saying so (heir_unknown), never "client
 * closed". */
static int heir_may_read(const struct ttft_follow *f, struct ttft_follow_log *L,
			 struct gone_cache *c, uint32_t i, int64_t now)
{
	struct ttft_record *r = &L->an.reqs[i];
	r->heir_unknown = 0;
	uint64_t ino = ttft_asm_heir_may_come(&L->as, r);
	if (!ino) {
		L->sock_gone_at[i] = 0;
		return 1;
	}
	int open = f->check_gone && L->this_boot ? socket_open(c, L, r->pid, ino) : -1;
	if (open < 0) {
		r->heir_unknown = 1;
		return 1;
	}
	if (open) {
		L->sock_gone_at[i] = 0;
		return 0;
	}
	if (!L->sock_gone_at[i])
		L->sock_gone_at[i] = now;
	return now - L->sock_gone_at[i] >= f->lag_ns + f->grace_ns;
}

/* The earliest instant a request of L in flight may yet put its moment
 * at, once its end is in: a window closing before it is no longer
 * reached by any of them (INT64_MAX: none is in flight). A request in
 * flight counts nowhere yet (vLLM's histograms would show it), but its
 * end may come without its arrival (bytes after it, TLS): then its
 * finish is bounded by its send only, less its skew, and the whole-log
 * analyzer finds it in every window after that (a keep-alive request
 * beside a 4-hour stream had its split from the follower, none from the
 * analyzer). A gone writer's request is no such one (gone_for_good). */
static int64_t in_flight_floor(const struct ttft_follow *f, struct ttft_follow_log *L,
			       int64_t now)
{
	int64_t upto = INT64_MAX;
	struct gone_cache gc = {.n = 0};
	for (size_t j = 0; j < L->nopen; j++) {
		const struct ttft_record *r = &L->an.reqs[L->openq[j]];
		if (ttft_asm_settled(&L->as, r))
			continue; /* its records are in: the join counts it */
		/* a client killed mid-stream (Ctrl-C): it would hold every
		 * later window for the rest of the run; its records are all
		 * in (the lag), and no end will come */
		if (f->check_gone && L->this_boot && gone_for_good(f, L, &gc, L->openq[j], now))
			continue;
		int64_t t = ttft_asm_reach_floor(r);
		if (t < upto)
			upto = t;
	}
	return upto;
}

/* The latest instant a join window may close at and still be decided
 * now: no request not yet ended (in_flight_floor), nor one still to
 * come, can put its moment into it later. One still to come is sent
 * after the last record applied (or the poll's lag, when none is held);
 * its round trip is waited for up to the lag. */
static int64_t decidable_upto(const struct ttft_follow *f, struct ttft_follow_log *L,
			      int64_t now)
{
	int64_t seen = L->have_last ? L->last_out.t_ns : INT64_MIN;
	if (now - f->lag_ns > seen)
		seen = now - f->lag_ns;
	if (L->nheld && L->held[0].t_ns < seen)
		seen = L->held[0].t_ns;
	int64_t upto = seen > INT64_MIN + TTFT_JOIN_SKEW_NS + f->lag_ns
		     ? seen - TTFT_JOIN_SKEW_NS - f->lag_ns : INT64_MIN;
	int64_t t = in_flight_floor(f, L, now);
	return t < upto ? t : upto;
}

/* r's split, refused (note: why): a request in flight may still reach
 * into its window. Stricter than the analyzer, which knows whether it did
 * (docs/fleet.md). */
static void refuse_unproved(struct ttft_record *r, const char *note)
{
	const struct ttft_server_split *sp = ttft_record_split(r);
	if (!sp->source || !strcmp(sp->source, TTFT_SPLIT_LLAMACPP_TIMINGS))
		return;
	struct ttft_server_split *w = ttft_record_split_rw(r);
	if (!w)
		return; /* it has a split: never NULL then */
	w->source = NULL;
	w->queue_s = w->prefill_s = w->decode_s = w->server_ttft_s = w->hit_tokens = NAN;
	snprintf(w->note, sizeof w->note, "%s", note);
}

/* Hand out the open requests that are settled (all: every one: the
 * follower stops reading L, at the exporter's end or letting a replaced
 * log go; nothing more of it is read, so no request is still to come,
 * but one in flight may yet end, its writer writing on: a settled
 * request whose window it may reach has its split refused, never given
 * unproved). */
static void hand_out_settled(struct ttft_follow *f, struct ttft_follow_log *L, int all,
			     int64_t now, const struct ttft_follow_sink *s)
{
	for (; L->holes_seen < L->v.nholes; L->holes_seen++)
		L->hole_found[L->holes_seen] = now;
	int64_t upto = all ? in_flight_floor(f, L, now) : decidable_upto(f, L, now);
	struct gone_cache gc = {.n = 0};
	size_t k = 0;
	for (size_t j = 0; j < L->nopen; j++) {
		uint32_t i = L->openq[j];
		struct ttft_record *r = &L->an.reqs[i];
		int settled = ttft_asm_settled(&L->as, r);
		/* a fork child's request that waits for the child's close of
		 * its copy (its parent lost the framing): a child that ends
		 * without closing it (most do: the kernel closes its fds) is
		 * as good as closed once it has been seen gone for the lag and
		 * the grace (everything it wrote is read: gone_for_good, which
		 * holds for a pid taken again); then its answer went unread,
		 * the row the analyzer gives. Only for a log of this machine
		 * whose writer was seen alive here (a daemon child that lives
		 * on keeps it waiting: its sniffer may yet read its answer).
		 * And only once its parent can no longer tangle the order by
		 * a send while it is due (its copy closed, the order tangled
		 * already, or the parent gone by the same rule): the analyzer,
		 * which cannot know the child ended, marks it fork_unsure at
		 * that send (a review found the row handed out unmarked) */
		if (!settled && f->check_gone && L->this_boot &&
		    ttft_asm_waits_for_child(&L->as, r)) {
			int pp = ttft_asm_parent_may_tangle(&L->as, r);
			int parent_done = !pp || parent_gone_for_good(f, L, &gc, i, pp, now);
			if (gone_for_good(f, L, &gc, i, now) && parent_done)
				settled = 1;
		}
		/* closed by its process, the socket perhaps held on by
		 * another: not the client's giving up (a review found a
		 * spawned reader's request handed out so) */
		if (settled && !heir_may_read(f, L, &gc, i, now))
			settled = 0;
		int stale = 0, cut = L->v.nholes && in_a_hole(f, L, r, now, &stale);
		/* its end may be among the events lost: it would be in flight
		 * for ever (a review found) */
		int go = all || (cut && stale);
		if (settled && !go) {
			if (!L->settled_at[i])
				L->settled_at[i] = now;
			/* with snapshots in the log, wait for the one that
			 * decides its split, a while at most (llama.cpp's
			 * in-stream timings: joined at once) */
			int waited = now - L->settled_at[i] >= f->split_wait_ns;
			if (!ttft_asm_joins(&L->as, r))
				go = 1;
			else if (ttft_asm_window_end(&L->as, r) > upto)
				go = waited; /* its window may still be reached */
			else
				go = ttft_asm_join(&L->as, r) || waited;
			if (go && waited && ttft_asm_joins(&L->as, r) &&
			    ttft_asm_window_end(&L->as, r) > upto) {
				ttft_asm_join(&L->as, r);
				refuse_unproved(r, TTFT_FOLLOW_NOTE_IN_FLIGHT);
			}
		}
		if (go) {
			if (all && settled && ttft_asm_joins(&L->as, r)) {
				int64_t end = ttft_asm_window_end(&L->as, r);
				ttft_asm_join(&L->as, r);
				if (end > upto)
					refuse_unproved(r, TTFT_FOLLOW_NOTE_STOPPED);
			}
			r->cut_by_hole = (uint8_t)cut;
			hand_out(f, L, i, settled && !cut && !r->heir_unknown, s);
		} else {
			L->openq[k++] = i;
		}
	}
	L->nopen = k;
	gone_cache_free(&gc);
}

/* Shrink an array of cap elements that holds n to twice n (the memory of
 * a burst goes back); a failure keeps it as it is. */
static void shrink(void *p, size_t *cap, size_t n, size_t elem)
{
	size_t want = n < 512 ? 1024 : 2 * n;
	if (*cap <= 2 * want)
		return;
	void *q = realloc(*(void **)p, want * elem);
	if (q) {
		*(void **)p = q;
		*cap = want;
	}
}

/* The earliest instant a join interval still to be asked about may
 * begin at: the least join floor of the requests not handed out, and of
 * those still to come (their records come after the last applied). */
static int64_t join_floor(const struct ttft_follow_log *L)
{
	int64_t now = L->last_out.t_ns;
	int64_t floor = ttft_asm_join_floor(NULL, now);
	for (size_t j = 0; j < L->nopen; j++) {
		int64_t t = ttft_asm_join_floor(&L->an.reqs[L->openq[j]], now);
		if (t < floor)
			floor = t;
	}
	return floor;
}

/* Drop the /metrics snapshots no join still to be made can pick: a run
 * scraped every second keeps 86,400 a day otherwise (issue 17). Those
 * from the last one before the floor on stay: a request in flight for
 * hours keeps its own, and memory follows what is in flight. */
static void forget_snaps(struct ttft_follow_log *L)
{
	if (!L->as.nsnap || !L->have_last ||
	    !ttft_asm_forget_snaps(&L->as, join_floor(L)))
		return;
	shrink(&L->as.snaps, &L->as.snapcap, L->as.nsnap, sizeof *L->as.snaps);
	shrink(&L->as.good, &L->as.goodcap, L->as.ngood, sizeof *L->as.good);
}

/* Forget the requests handed out that nothing can reach any more: the
 * follower's memory then follows what is in flight, not the log's
 * history (a review found 84 MB kept for a 48,000-request log). A pass
 * looks at every request and connection, so it runs when the requests
 * kept doubled since the last. -1 when out of memory. */
static int forget(struct ttft_follow *f, struct ttft_follow_log *L)
{
	size_t n = L->an.nreqs;
	if (n < L->forget_at || !L->have_last)
		return 0;
	int64_t now = L->last_out.t_ns;
	int64_t horizon = ttft_asm_join_horizon(&L->as, join_floor(L), now);
	uint32_t *remap = malloc(n * sizeof *remap);
	if (!remap)
		return oom(f);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		struct ttft_record *r = &L->an.reqs[i];
		if (L->handed[i] && ttft_asm_forgettable(&L->as, r, horizon)) {
			ttft_record_free(r); /* what late records added */
			remap[i] = UINT32_MAX;
			continue;
		}
		remap[i] = (uint32_t)k;
		if (k != i) {
			L->an.reqs[k] = *r;
			L->handed[k] = L->handed[i];
			L->settled_at[k] = L->settled_at[i];
			L->gone_at[k] = L->gone_at[i];
			L->parent_gone_at[k] = L->parent_gone_at[i];
			L->sock_gone_at[k] = L->sock_gone_at[i];
		}
		k++;
	}
	for (size_t j = 0; j < L->nopen; j++)
		L->openq[j] = remap[L->openq[j]];
	ttft_asm_renumber(&L->as, remap);
	free(remap);
	L->forgotten += n - k;
	L->an.nreqs = L->seen_reqs = k;
	shrink(&L->an.reqs, &L->an.reqs_cap, k, sizeof *L->an.reqs);
	size_t cap = L->reqcap, gcap = L->reqcap, pcap = L->reqcap, scap = L->reqcap;
	shrink(&L->handed, &cap, k, sizeof *L->handed);
	shrink(&L->gone_at, &gcap, k, sizeof *L->gone_at);
	shrink(&L->parent_gone_at, &pcap, k, sizeof *L->parent_gone_at);
	shrink(&L->sock_gone_at, &scap, k, sizeof *L->sock_gone_at);
	shrink(&L->settled_at, &L->reqcap, k, sizeof *L->settled_at);
	/* one shrank, another not: the smallest */
	if (cap < L->reqcap)
		L->reqcap = cap;
	if (gcap < L->reqcap)
		L->reqcap = gcap;
	if (pcap < L->reqcap)
		L->reqcap = pcap;
	if (scap < L->reqcap)
		L->reqcap = scap;
	shrink(&L->openq, &L->opencap, L->nopen, sizeof *L->openq);
	L->forget_at = 2 * k > FORGET_MIN ? 2 * k : FORGET_MIN;
	return 0;
}

/* What the records applied decided: new requests tracked, those settled
 * handed out (all: every one), what nothing can reach forgotten. */
static int settle(struct ttft_follow *f, struct ttft_follow_log *L, int all, int64_t now,
		  const struct ttft_follow_sink *s)
{
	if (track_new_requests(f, L) != 0)
		return -1;
	if (decide_dns(L, all) != 0)
		return oom(f);
	hand_out_settled(f, L, all, now, s);
	forget_snaps(L);
	return forget(f, L);
}

static int step_log(struct ttft_follow *f, struct ttft_follow_log *L, int all, int64_t now,
		    const struct ttft_follow_sink *s)
{
	if (read_new(f, L, all, now) != 0)
		return -1;
	/* cut, and whole again with the same header and the last record
	 * read in its slot: read on from the cursor, said (what the cut
	 * lost: slots it no longer holds, given up as zeros and counted) */
	if (L->v.refills != L->refills_said) {
		f->refilled += L->v.refills - L->refills_said;
		L->refills_said = L->v.refills;
		if (s && s->refilled)
			s->refilled(s->ctx, L == f->cur);
	}
	if (release(f, L, all, now, s) != 0)
		return -1;
	return settle(f, L, all, now, s);
}

/* Nothing of the replaced log L is in flight, held back or unread. */
static int nothing_left(const struct ttft_follow_log *L)
{
	return !L->nopen && !L->nheld && L->cursor >= L->v.n_slots;
}

/* Its file still has a name (renamed away, `mv log log.1`, not removed):
 * it may be moved back under the path, or written on. */
static int still_named(const struct ttft_follow_log *L)
{
	struct stat st;
	return fstat(L->v.fd, &st) == 0 && st.st_nlink > 0;
}

/* Its end was said while it was kept, and nothing ended since. */
static int said_as_is(const struct ttft_follow_log *L)
{
	return L->done_said && L->ended == L->said_ended &&
	       L->incomplete == L->said_incomplete;
}

/* Why the replaced log L is to be let go now, 0: read on. */
static int done_why(const struct ttft_follow *f, const struct ttft_follow_log *L, int64_t now)
{
	if (L->unreadable)
		return TTFT_FOLLOW_OLD_UNREADABLE;
	/* one renamed away is kept until quiet (below), its end said at
	 * once (step): moved back within that, it is read on from where it
	 * was (returned), not read again from its start */
	if (nothing_left(L) && !still_named(L))
		return TTFT_FOLLOW_OLD_ENDED;
	/* by default the longest the follower waits for anything of a
	 * request (a snapshot, a hole): a request queued at the server may
	 * be quiet for seconds, and its writer is all that can end it (an
	 * exporter may be told otherwise: ttft-export --replaced-wait); from
	 * the switch at the earliest (a log quiet for that long before it,
	 * a long queue, had its request counted incomplete at once) */
	int64_t since = L->quiet_since > L->replaced_at ? L->quiet_since : L->replaced_at;
	if (now - since >= f->replaced_wait_ns)
		return TTFT_FOLLOW_OLD_QUIET;
	return 0;
}

/* What is kept of L to know it again once let go. */
static void identity(const struct ttft_follow_log *L, struct ttft_follow_gone *g)
{
	g->anchor_mono_ns = L->v.hdr->anchor_mono_ns;
	g->anchor_real_ns = L->v.hdr->anchor_real_ns;
	_Static_assert(sizeof g->boot_id == sizeof L->v.hdr->boot_id, "boot id");
	memcpy(g->boot_id, L->v.hdr->boot_id, sizeof g->boot_id);
	g->first_seal = L->first_seal;
	g->dev = L->dev;
	g->ino = L->ino;
	g->handed_out = L->handed_out;
}

/* Let the replaced log old[k] go: what it still holds is handed out as it
 * stands (what is not settled, incomplete), unless nothing is left. */
static int let_go(struct ttft_follow *f, size_t k, int why, int64_t now,
		  const struct ttft_follow_sink *s)
{
	struct ttft_follow_log *L = f->old[k];
	if (why != TTFT_FOLLOW_OLD_ENDED && step_log(f, L, 1, now, s) != 0)
		return -1;
	if (s && s->old_done && !said_as_is(L))
		s->old_done(s->ctx, why, L->in_flight_then, L->ended, L->incomplete);
	identity(L, &f->gone[f->ngone++ % TTFT_FOLLOW_GONE_MAX]);
	f->nold--;
	memmove(f->old + k, f->old + k + 1, (f->nold - k) * sizeof *f->old);
	close_log(f, L);
	return 0;
}

static int same_file(const struct ttft_follow *f)
{
	struct stat st;
	return stat(f->path, &st) != 0 || (st.st_dev == f->cur->dev && st.st_ino == f->cur->ino);
}

/* The replaced log still read on that is the file now at the path (moved
 * back under it: `mv log log.1; …; mv log.1 log`), SIZE_MAX when none.
 * Held open by the follower, its inode cannot be another file's. */
static size_t old_at_path(const struct ttft_follow *f)
{
	struct stat st;
	if (stat(f->path, &st) != 0)
		return SIZE_MAX;
	for (size_t k = 0; k < f->nold; k++)
		if (f->old[k]->dev == st.st_dev && f->old[k]->ino == st.st_ino &&
		    !f->old[k]->v.rewritten)
			return k;
	return SIZE_MAX;
}

/* Take the replaced log old[k] out of the old ones. */
static struct ttft_follow_log *take_old(struct ttft_follow *f, size_t k)
{
	struct ttft_follow_log *L = f->old[k];
	f->nold--;
	memmove(f->old + k, f->old + k + 1, (f->nold - k) * sizeof *f->old);
	return L;
}

/* L, a replaced log moved back under the path, is the current one again,
 * read on from its cursor, so that nothing of it is counted twice. */
static void make_current(struct ttft_follow *f, struct ttft_follow_log *L,
			 const struct ttft_follow_sink *s)
{
	L->replaced_at = 0;
	L->in_flight_then = L->ended = L->incomplete = 0;
	L->done_said = 0;
	f->cur = L;
	f->returned++;
	f->err[0] = 0;
	if (s && s->returned)
		s->returned(s->ctx);
}

/* The file at the path is another: the current log is read on beside the
 * new one, as an old one, while its requests in flight may still end. A
 * replaced log moved back is that other file: it takes the current one's
 * place, so that with TTFT_FOLLOW_OLD_MAX kept none is pushed out for it
 * (before, the oldest went, the very file at the path when that was moved
 * back, read again from its start then; or another renamed away, read
 * again from its start when moved back in turn: a review found). */
static int replaced(struct ttft_follow *f, int64_t now, const struct ttft_follow_sink *s)
{
	size_t k = old_at_path(f);
	struct ttft_follow_log *back = k == SIZE_MAX ? NULL : take_old(f, k);
	if (f->nold == TTFT_FOLLOW_OLD_MAX &&
	    let_go(f, 0, TTFT_FOLLOW_OLD_PUSHED, now, s) != 0)
		return -1;
	struct ttft_follow_log *L = f->cur;
	f->cur = NULL;
	f->old[f->nold++] = L;
	f->replaced++;
	/* every record published by now applied, none held for the lag (a
	 * writer preempted across the switch is counted late), so that the
	 * count said is every request in flight; what they settle ended
	 * before the switch, not after it (replaced_at still 0) */
	if (read_new(f, L, 0, now) != 0 || release(f, L, 1, now, s) != 0 ||
	    settle(f, L, 0, now, s) != 0) {
		f->cur = back; /* freed with the follower */
		return -1;
	}
	L->replaced_at = now;
	L->in_flight_then = L->nopen;
	if (s && s->replaced)
		s->replaced(s->ctx, L->nopen);
	if (back)
		make_current(f, back, s);
	return 0;
}

/* The file at the path is a replaced log still read on while no log is
 * current (the file that replaced it not a log yet): it is the current
 * one again (make_current). */
static void returned(struct ttft_follow *f, const struct ttft_follow_sink *s)
{
	size_t k = old_at_path(f);
	if (k != SIZE_MAX)
		make_current(f, take_old(f, k), s);
}

/* The log just opened at the path is one let go before (its header's
 * creation the same: the same file moved back, or a copy of it): it is
 * read from its start, so its requests are handed out again. Said, never
 * silent; not undone (what it held then is no longer known here). */
static void known_again(struct ttft_follow *f, const struct ttft_follow_sink *s)
{
	const struct ttft_log_hdr *h = f->cur->v.hdr;
	/* its first record as published now, in the same file as a log read
	 * before: that log's records, whatever the header (only the header
	 * overwritten in place, `dd conv=notrunc`: a review found them
	 * counted twice, nothing said) */
	uint64_t first = 0;
	struct ttft_rec r0;
	if (f->cur->v.n_slots > 0 && ttft_log_view_read(&f->cur->v, 0, &r0, 1) == 1 &&
	    r0.seal != 0 && ttft_rec_sealed_as(h->version, &r0))
		first = rec_seal(&r0);
	/* the logs let go, then a copy of a replaced log still read on
	 * (`mv log log.1; cp log.1 log`: the renamed one is kept until
	 * quiet, not let go yet): read from its start too, its requests
	 * handed out twice; said the same (a review found it silent) */
	size_t n = f->ngone < TTFT_FOLLOW_GONE_MAX ? f->ngone : TTFT_FOLLOW_GONE_MAX;
	for (size_t k = 0; k < n + f->nold; k++) {
		struct ttft_follow_gone kept;
		if (k >= n)
			identity(f->old[k - n], &kept);
		const struct ttft_follow_gone *g = k < n ? &f->gone[k] : &kept;
		int same_header = g->anchor_mono_ns == h->anchor_mono_ns &&
				  g->anchor_real_ns == h->anchor_real_ns &&
				  memcmp(g->boot_id, h->boot_id, sizeof g->boot_id) == 0;
		int same_records = first && g->first_seal == first && g->dev == f->cur->dev &&
				   g->ino == f->cur->ino;
		if (!same_header && !same_records)
			continue;
		f->reread++;
		if (s && s->reread)
			s->reread(s->ctx, g->handed_out);
		return;
	}
}

static int step(struct ttft_follow *f, int all, const struct ttft_follow_sink *s)
{
	int64_t now = ttft_now_ns();
	f->polls++;
	/* the file at the path another log (replaced, or overwritten in
	 * place: its header's creation another): the current one read on as
	 * replaced, the new one read from its start, in this same poll and
	 * in a drain too (before, an overwrite was found by one poll's read
	 * and acted on at the next, and a drain read nothing of the new log:
	 * its requests were never counted) */
	if (f->cur && !f->cur->v.rewritten && !f->cur->unreadable)
		(void)ttft_log_view_refresh(&f->cur->v); /* a failure: read_new's */
	if (f->cur && (!same_file(f) || f->cur->v.rewritten) && replaced(f, now, s) != 0)
		return -1;
	/* before the replaced logs are let go: one at the path again is read
	 * on, not let go and then read from its start (a drain too) */
	if (!f->cur)
		returned(f, s);
	for (size_t k = 0; k < f->nold;) {
		struct ttft_follow_log *L = f->old[k];
		/* a drain's end, or why no more of it could be read */
		int why = L->unreadable ? TTFT_FOLLOW_OLD_UNREADABLE : TTFT_FOLLOW_OLD_DRAINED;
		if (!all) {
			if (step_log(f, L, 0, now, s) != 0)
				return -1;
			why = done_why(f, L, now);
			/* kept, renamed away: its end said as when let go
			 * (again if it was written on and ended anew) */
			if (!why && !L->unreadable && nothing_left(L) && !said_as_is(L)) {
				L->done_said = 1;
				L->said_ended = L->ended;
				L->said_incomplete = L->incomplete;
				if (s && s->old_done)
					s->old_done(s->ctx, TTFT_FOLLOW_OLD_ENDED,
						    L->in_flight_then, L->ended, L->incomplete);
			}
		}
		if (!why)
			k++;
		else if (let_go(f, k, why, now, s) != 0)
			return -1;
	}
	if (!f->cur) {
		if (open_log(f) != 0)
			return -1;
		if (f->cur)
			known_again(f, s);
	}
	/* not there (yet) when still NULL: f->err says why */
	int rc = f->cur ? step_log(f, f->cur, all, now, s) : 0;
	count(f);
	return rc;
}

int ttft_follow_poll(struct ttft_follow *f, const struct ttft_follow_sink *sink)
{
	return step(f, 0, sink);
}

int ttft_follow_drain(struct ttft_follow *f, const struct ttft_follow_sink *sink)
{
	return step(f, 1, sink);
}

size_t ttft_follow_in_flight(const struct ttft_follow *f)
{
	size_t n = f->cur ? f->cur->nopen : 0;
	for (size_t k = 0; k < f->nold; k++)
		n += f->old[k]->nopen;
	return n;
}

size_t ttft_follow_kept(const struct ttft_follow *f)
{
	size_t n = f->cur ? f->cur->an.nreqs : 0;
	for (size_t k = 0; k < f->nold; k++)
		n += f->old[k]->an.nreqs;
	return n;
}

size_t ttft_follow_snapshots(const struct ttft_follow *f)
{
	size_t n = f->cur ? f->cur->as.nsnap : 0;
	for (size_t k = 0; k < f->nold; k++)
		n += f->old[k]->as.nsnap;
	return n;
}

void ttft_follow_free(struct ttft_follow *f)
{
	while (f->nold)
		close_log(f, f->old[--f->nold]);
	if (f->cur)
		close_log(f, f->cur);
	memset(f, 0, sizeof *f);
}
