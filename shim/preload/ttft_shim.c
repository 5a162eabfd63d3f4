/* ttft_shim.c — the shim's state and logic: start-up, the log, the table of
 * traced connections, fork detection, the connection filter, and record
 * writing.
 *
 * Runs inside other people's processes. On the hot path: no locks, no
 * allocation, no stdio; errno is saved and restored by every caller.
 */
#include "ttft_shim.h"
#include "ttft_env.h"
#include "ttft_fmt.h"
#include "ttft_filter.h"
#include "ttft_log.h"
#include "ttft_sigmask.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

TTFT_HIDDEN uint16_t shim_fdmap[TTFT_MAX_FD];
TTFT_HIDDEN struct shim_conn shim_conns[SHIM_MAX_CONN];
TTFT_HIDDEN int shim_on;
TTFT_HIDDEN unsigned shim_fd_hi;

static struct ttft_log g_log;
static pid_t g_pid;
static __thread pid_t t_tid __attribute__((tls_model("initial-exec")));

/* Fork detection for every kind of fork (fork, _Fork, syscall(SYS_fork),
 * clone without CLONE_VM): the kernel zeroes a MADV_WIPEONFORK page in the
 * child, so one load tells a process that it is not the one that set the
 * word. pthread_atfork only sees glibc's fork(). Until the constructor runs
 * (or where the kernel lacks MADV_WIPEONFORK) the word is a static 1. */
static uint32_t g_forkword_static = 1;
static volatile uint32_t *g_forkword = &g_forkword_static;

/* ---- filter: TTFT_FILTER (shim/core/ttft_filter.c) ---- */
static struct ttft_addr_filters g_filters;

/* ---- start-up ---- */

TTFT_HIDDEN void *shim_resolve(const char *name)
{
	struct shim_dlq q;
	shim_dlq_begin(&q);
	void *f = dlsym(RTLD_NEXT, name);
	shim_dlq_end(&q);
	return f;
}

SHIM_COLD static void batches_drop(void);

SHIM_COLD static void after_fork(void)
{
	g_pid = getpid();
	t_tid = 0;
	*g_forkword = 1;
	batches_drop();
}

/* The one check on the path that writes records: in a child made by any
 * kind of fork, re-read the pid (and the thread id) once. */
static inline __attribute__((always_inline)) void fork_check(void)
{
	if (__builtin_expect(*g_forkword == 0, 0))
		after_fork();
}

/* errno kept: a token event's path reaches it (batch_start) with the
 * host's errno not saved, and a filter may refuse gettid (EPERM). */
SHIM_COLD static pid_t first_tid(void)
{
	int e = errno;
	t_tid = (pid_t)syscall(SYS_gettid);
	errno = e;
	return t_tid;
}

/* One TLS load on the hot path. */
static pid_t cur_tid(void)
{
	pid_t t = t_tid;
	if (__builtin_expect(t == 0, 0))
		t = first_tid();
	return t;
}


/* The file the program's fd 2 named when it began (st_dev, st_ino;
 * known 0: none). Once the program runs, the shim writes
 * to fd 2 only while fd 2 still names that file: a program that closed
 * its stderr may hold anything on 2 since (its data file, a socket), and
 * what the shim has to say must never land in it. */
static struct {
	dev_t dev;
	ino_t ino;
	int known;
	int running; /* set when the constructor ends */
} g_stderr;

static int fd2_stat(struct stat *st)
{
	return LIBC(syscall)(SYS_fstat, 2L, st) == 0;
}

TTFT_HIDDEN int shim_stderr_ours(void)
{
	if (!__atomic_load_n(&g_stderr.running, __ATOMIC_RELAXED))
		return 1; /* the constructor: fd 2 is what the program got */
	if (!g_stderr.known)
		return 0;
	int e = errno;
	struct stat st;
	int same = fd2_stat(&st) && st.st_dev == g_stderr.dev &&
		   st.st_ino == g_stderr.ino;
	errno = e;
	return same;
}

static void say(const char *a, const char *b, const char *c)
{
	/* stderr without stdio: the host's FILE buffers stay untouched. */
	if (!shim_stderr_ours())
		return;
	const char *parts[] = {"ttftshim: ", a, b, c, "\n"};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		if (parts[i])
			(void)!LIBC(write)(2, parts[i], strlen(parts[i]));
}

static int in_vfork_child(void)
{
	/* A vfork child shares our memory but has its own pid: it must not
	 * change the parent's table (CPython's subprocess closes every fd
	 * in the child). getpid is a real syscall in current glibc; only
	 * cold paths ask. A child of any other fork has its own copy of the
	 * memory and has re-read its pid here. */
	fork_check();
	return getpid() != g_pid;
}

/* "TTFT_LOG=<absolute path>", put into the environment in place of a
 * relative TTFT_LOG, so that programs this one runs after a chdir find the
 * same log. Static: the environment keeps pointing at it. */
static char g_env_log[sizeof "TTFT_LOG=" + TTFT_LOG_PATH_MAX];

/* A relative TTFT_LOG is resolved once, here: the log is reopened by path
 * for each new segment, and the program may chdir at any time. */
static int absolute_log_path(char *path, size_t len)
{
	if (path[0] == '/')
		return 0;
	char cwd[TTFT_LOG_PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	size_t a = strlen(cwd), b = strlen(path);
	if (a + 1 + b + 1 > len || sizeof "TTFT_LOG=" + a + 1 + b > sizeof g_env_log)
		return -1;
	memmove(path + a + 1, path, b + 1);
	memcpy(path, cwd, a);
	path[a] = '/';
	extern char **environ;
	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, "TTFT_LOG=", 9) == 0) {
			memcpy(g_env_log, "TTFT_LOG=", 9);
			memcpy(g_env_log + 9, path, a + 1 + b + 1);
			*e = g_env_log;
			break;
		}
	}
	return 0;
}

static void fork_word_init(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	if (madvise(p, 4096, MADV_WIPEONFORK) != 0) {
		/* Old kernel: only glibc's fork() is seen (pthread_atfork). */
		munmap(p, 4096);
		return;
	}
	*(volatile uint32_t *)p = 1;
	g_forkword = p;
}

TTFT_HIDDEN uint32_t shim_forks;

TTFT_HIDDEN void shim_count_fork(void)
{
	__atomic_add_fetch(&shim_forks, 1, __ATOMIC_RELAXED);
}

/* glibc's fork(): this thread's kept times go before the child's
 * records (another thread's are written by it, after). */
static void batches_before_fork(void)
{
	shim_batches_write(1);
}

__attribute__((constructor)) static void shim_init(void)
{
	int e = errno;
	struct stat st;
	shim_dlq_init(); /* before any dynamic-linker call of the shim's */
	shim_resolve_all();
	shim_clock_init();
	g_pid = getpid();
	fork_word_init();
	pthread_atfork(batches_before_fork, shim_count_fork, after_fork);

	/* A secure-execution process (setuid, setgid, file capabilities;
	 * the shim is loaded there only from /etc/ld.so.preload): the
	 * environment is the caller's, not the program's owner's, so the
	 * shim reads none of it and opens nothing. */
	if (getauxval(AT_SECURE))
		goto out;
	if (ttft_env_disabled())
		goto out;
	const char *flt = getenv("TTFT_FILTER");
	if (flt && *flt && ttft_addr_filters_parse(&g_filters, flt) != 0) {
		say("TTFT_FILTER='", flt,
		    "' is not understood (use port:N, HOST:N, [V6]:N or "
		    "host:HOST, comma-separated); tracing is off");
		goto out;
	}
	char path[TTFT_LOG_PATH_MAX];
	ttft_log_default_path(path, sizeof path);
	if (absolute_log_path(path, sizeof path) != 0) {
		say("TTFT_LOG=", path, " is relative and the working directory "
		    "cannot be read (or the path is too long); tracing is off "
		    "(use an absolute path)");
		goto out;
	}
	uint64_t mb;
	if (ttft_env_log_mb(&mb) != 0)
		say("TTFT_LOG_MB=", getenv("TTFT_LOG_MB"),
		    " is not a whole number of MiB in 1-65536; using 64");
	const char *why = NULL;
	if (ttft_log_open_zeroed(&g_log, path, mb << 20, &why) != 0) {
		say("cannot open log ", path, ":");
		say("  ", why, NULL);
		say("  tracing is off for this process; it runs normally "
		    "(set TTFT_LOG to a writable path)", NULL, NULL);
		goto out;
	}
	if (g_log.warning)
		say("log ", path, ":"), say("  ", g_log.warning, NULL);
	shim_sigbus_install();
	shim_on = 1;
	shim_inherit_scan(); /* connections open before this image began */
out:
	/* What the shim may say later (a TLS call it cannot route is said
	 * even untraced) goes only where fd 2 is now. */
	if (fd2_stat(&st)) {
		g_stderr.dev = st.st_dev;
		g_stderr.ino = st.st_ino;
		g_stderr.known = 1;
	}
	__atomic_store_n(&g_stderr.running, 1, __ATOMIC_RELAXED);
	errno = e;
}

/* A log cut under a running process: say once, at exit, what was lost. */
__attribute__((destructor)) static void shim_fini(void)
{
	if (!in_vfork_child())
		shim_batches_write(0);
	if (!__atomic_load_n(&g_log.detached, __ATOMIC_RELAXED) ||
	    in_vfork_child())
		return;
	int e = errno;
	char pid[24], lost[24];
	pid[ttft_fmt_uint(pid, (unsigned long long)g_pid)] = 0;
	lost[ttft_fmt_uint(lost, ttft_log_lost(&g_log))] = 0;
	say("the log ", g_log.path, " was truncated while in use;");
	say("  pid ", pid, " stopped writing to it then and did not record");
	say("  ", lost, " later events (the program itself was not affected)");
	errno = e;
}

TTFT_HIDDEN int shim_log_fault(const void *addr)
{
	return ttft_log_fault(&g_log, addr);
}

/* ---- records ---- */

/* One record, through the log's one writer (inlined: without text, the
 * seal's hash of the zero text words folds to constants on the path of
 * every token event, emit). */
static inline __attribute__((always_inline)) void
log_put(uint16_t kind, uint16_t flags, int64_t t, int fd, int err,
	uint64_t conn, int64_t a, int64_t b, uint32_t seq, const char *text,
	size_t tlen)
{
	ttft_log_put(&g_log, &(struct ttft_event){
		.kind = kind, .flags = flags, .t_ns = t, .pid = g_pid,
		.tid = cur_tid(), .fd = fd, .err = err, .conn = conn, .a = a,
		.b = b, .seq = seq, .text = text, .text_len = tlen});
}

/* The record where this thread's SIGBUS is not known to be deliverable:
 * in a window (ttft_sigmask.h). */
SHIM_COLD static void put_rec_window(uint16_t kind, uint16_t flags, int64_t t,
				     int fd, int err, uint64_t conn, int64_t a,
				     int64_t b, uint32_t seq, const char *text,
				     size_t tlen)
{
	int w = shim_bus_enter(); /* the log's pages, SIGBUS deliverable */
	log_put(kind, flags, t, fd, err, conn, a, b, seq, text, tlen);
	shim_bus_leave(w);
}

static inline __attribute__((always_inline)) void
put_rec_forked(uint16_t kind, uint16_t flags, int64_t t, int fd, int err,
	       uint64_t conn, int64_t a, int64_t b, uint32_t seq,
	       const char *text, size_t tlen)
{
	/* shim_bus_enter's usual case (SIGBUS deliverable: no window to
	 * open or close) apart, every other out of line: the record's path
	 * keeps no window flag to test after it (a traced recv of a token
	 * event: 13 instructions fewer, docs/performance.md) */
	if (__builtin_expect(shim_t_bus == SHIM_BUS_OPEN, 1))
		log_put(kind, flags, t, fd, err, conn, a, b, seq, text, tlen);
	else
		put_rec_window(kind, flags, t, fd, err, conn, a, b, seq, text,
			       tlen);
}

/* The same with the window's flag kept through the record, as before the
 * split above: for the send's frame (flush_begin, emit_tx, emit_w), where
 * the split moved the compiler's register choices for +2 to +6 on every
 * send. */
static inline __attribute__((always_inline)) void
put_rec_forked_w(uint16_t kind, uint16_t flags, int64_t t, int fd, int err,
		 uint64_t conn, int64_t a, int64_t b, uint32_t seq,
		 const char *text, size_t tlen)
{
	int w = shim_bus_enter(); /* the log's pages, SIGBUS deliverable */
	log_put(kind, flags, t, fd, err, conn, a, b, seq, text, tlen);
	shim_bus_leave(w);
}

/* put_rec_forked is for a call that has checked for a fork already
 * (conn_of: every event of the sniffer, emit); put_rec checks. */
static inline __attribute__((always_inline)) void
put_rec(uint16_t kind, uint16_t flags, int64_t t, int fd, int err,
	uint64_t conn, int64_t a, int64_t b, uint32_t seq, const char *text,
	size_t tlen)
{
	fork_check();
	put_rec_forked(kind, flags, t, fd, err, conn, a, b, seq, text, tlen);
}

/* A connection id: an atomic on the log's header page. */
static uint64_t new_conn(void)
{
	int w = shim_bus_enter();
	uint64_t id = ttft_log_new_conn(&g_log);
	shim_bus_leave(w);
	return id;
}

static void put(uint16_t kind, uint16_t flags, int64_t t, int fd, int err,
		uint64_t conn, int64_t a, int64_t b, uint32_t seq,
		const char *text, size_t tlen)
{
	put_rec(kind, flags, t, fd, err, conn, a, b, seq, text, tlen);
}

/* What emit needs of the connection the sniffer reads. */
struct emit_ctx {
	int fd;
	uint64_t conn;
	struct shim_conn *c;
};

/* ---- token times (struct shim_batch) ---- */

/* The token times kept on c as their record (one token: SSE_TOKEN's own
 * record, as it would have been written; more: TTFT_F_TIMES), and none
 * kept. Whichever thread writes them (the reader, or a close or the exit
 * in another) takes them first by clearing batched: they are written
 * once. A thread that closes the connection while its reader keeps a new
 * token that instant reads them as a seqlock reader (gen): a batch begun
 * meanwhile is never written half old, half new (its times are lost
 * instead, as the connection ends). */
/* Not cold: a paced response writes four (its struct copy as a cold
 * function's rep movs, 28 instructions a record under callgrind). */
static __attribute__((noinline)) void batch_write(struct shim_conn *c)
{
	if (!__atomic_exchange_n(&c->batched, 0, __ATOMIC_ACQ_REL)) {
		__atomic_store_n(&c->bt.n, 0, __ATOMIC_RELAXED); /* not ours */
		return;
	}
	uint32_t g = __atomic_load_n(&c->bt.gen, __ATOMIC_ACQUIRE);
	uint32_t n = __atomic_exchange_n(&c->bt.n, 0, __ATOMIC_ACQUIRE);
	struct shim_batch b = c->bt;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if ((g & 1) || __atomic_load_n(&c->bt.gen, __ATOMIC_RELAXED) != g)
		return;
	if (n == 1)
		put(TTFT_EV_SSE_TOKEN, b.flags, b.t0, b.fd, 0, c->conn, b.a0, b.b0,
		    b.seq, NULL, 0);
	else if (n > 1 && n <= TTFT_TIMES_MAX)
		put(TTFT_EV_SSE_TOKEN, (uint16_t)(b.flags | TTFT_F_TIMES), b.t0, b.fd,
		    0, c->conn, n, b.b0, b.seq, (const char *)b.d,
		    (n - 1) * sizeof b.d[0]);
}

/* Before c's next record from this thread: the times it kept first. */
static inline __attribute__((always_inline)) void batch_flush(struct shim_conn *c)
{
	if (__builtin_expect(__atomic_load_n(&c->batched, __ATOMIC_RELAXED), 0) &&
	    c->bt.tid == cur_tid())
		batch_write(c);
}

/* The same before c's next record of what is read: whichever thread
 * reads it. A connection read on by another thread (a task moved between
 * threads, a connection handed on) has its kept times added to there
 * too (batch_add does not ask, for the token path's length), and the
 * reader of the response's end must write them before it, or a follower
 * hands the row out short of them (test_shim_log, check_times "thread").
 * The thread that kept them is not adding to them meanwhile: two threads
 * reading one connection at once are already a race for the framing. */
static inline __attribute__((always_inline)) void batch_flush_rx(struct shim_conn *c)
{
	if (__builtin_expect(__atomic_load_n(&c->batched, __ATOMIC_RELAXED), 0))
		batch_write(c);
}

/* A token event that does not continue the times kept (the first kept,
 * another response, other flags, a gap past 4.29 s, full): those are
 * written, and this one is kept. */
/* The highest slot that ever kept token times: the scans at a fork, an
 * exec and the exit go no further (a fork child that wrote or read the
 * whole table would fault in its ~1 MB: test_shim_log, check_times
 * "fork"). */
static unsigned g_batch_hi;

SHIM_COLD static void batch_start(struct shim_conn *c, int fd, int64_t t,
				  int64_t a, int64_t b, uint32_t seq,
				  uint16_t flags)
{
	if (c->bt.n)
		batch_write(c);
	/* raised before batched is set (a scan that sees it sees the slot) */
	unsigned slot = (unsigned)(c - shim_conns),
		 hi = __atomic_load_n(&g_batch_hi, __ATOMIC_RELAXED);
	while (slot > hi && !__atomic_compare_exchange_n(&g_batch_hi, &hi, slot, 1,
							 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	/* a seqlock's writer (batch_write): odd while the fields change */
	uint32_t g = c->bt.gen;
	__atomic_store_n(&c->bt.gen, g + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	c->bt.t0 = t;
	c->bt.b0 = b;
	c->bt.a0 = a;
	c->bt.seq = seq;
	c->bt.flags = flags;
	c->bt.fd = fd;
	c->bt.tid = cur_tid();
	__atomic_store_n(&c->bt.gen, g + 2, __ATOMIC_RELEASE);
	__atomic_store_n(&c->bt.n, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c->batched, 1, __ATOMIC_RELEASE);
}

/* A later token event of a response, read alone: its time kept with the
 * others (the one-token read's path: no record). */
static inline __attribute__((always_inline)) void
batch_add(const struct emit_ctx *x, const struct ttft_http_event *ev)
{
	struct shim_conn *c = x->c;
	uint32_t n = c->bt.n;
	uint64_t d = (uint64_t)(ev->t_ns - c->bt.t0);
	if (__builtin_expect(n - 1 < TTFT_TIMES_MAX - 1 && d <= UINT32_MAX &&
			     ev->b == c->bt.b0 + n && ev->seq == c->bt.seq &&
			     ev->flags == c->bt.flags, 1)) {
		c->bt.d[n - 1] = (uint32_t)d;
		/* release: a close or the exit in another thread that takes
		 * the count sees the time */
		__atomic_store_n(&c->bt.n, n + 1, __ATOMIC_RELEASE);
	} else {
		/* the event's fields and the connection's, not their
		 * addresses: the token path then builds neither in memory */
		batch_start(c, x->fd, ev->t_ns, ev->a, ev->b, ev->seq, ev->flags);
	}
}

/* Every connection's kept times, by any thread (the exit, an exec), or by
 * this thread only (a fork: another's may be adding to its own). */
TTFT_HIDDEN void shim_batches_write(int mine_only)
{
	if (!shim_on)
		return;
	int e = errno;
	fork_check(); /* a child's copies are its parent's (after_fork) */
	/* a vfork child's exec: the parent's other threads run on, adding
	 * to their own */
	if (!mine_only && getpid() != g_pid)
		mine_only = 1;
	pid_t me = cur_tid();
	unsigned hi = __atomic_load_n(&g_batch_hi, __ATOMIC_ACQUIRE);
	for (unsigned i = 1; i <= hi; i++) {
		struct shim_conn *c = &shim_conns[i];
		/* the owner not asked: kept times are this process's own
		 * (after_fork dropped a parent's), a fork child's read on a
		 * connection it did not adopt too (drop_ref) */
		if (__atomic_load_n(&c->batched, __ATOMIC_RELAXED) &&
		    __atomic_load_n(&c->refs, __ATOMIC_RELAXED) &&
		    (!mine_only || c->bt.tid == me))
			batch_write(c);
	}
	errno = e;
}

/* In a fork child: the times kept are the parent's to write. Written
 * only where set: every page of the table the child writes is a page of
 * its own (copied, or a zero page faulted in). */
SHIM_COLD static void batches_drop(void)
{
	unsigned hi = __atomic_load_n(&g_batch_hi, __ATOMIC_RELAXED);
	for (unsigned i = 1; i <= hi; i++) {
		struct shim_conn *c = &shim_conns[i];
		if (c->bt.n || c->batched) {
			c->bt.n = 0;
			c->batched = 0;
		}
	}
}

/* The network's share of TTFT: one TCP_INFO per response. The caller
 * restores errno. */
SHIM_COLD static int64_t rtt_us(int fd, int64_t none)
{
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	if (LIBC(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0)
		return ti.tcpi_rtt;
	return none;
}

/* When the response's last bytes arrived: TCP_INFO's time since data last
 * came, one call per response (its end). That is the end's arrival only
 * when nothing came after it: the end was the last byte of its read
 * (read_end) and nothing waits unread (a 408 on an idle connection, the
 * next pipelined answer would move it later, a review found). TLS: a
 * library's reads ahead (close_notify) are not seen; not asked. 0 with no
 * flag where not known. The caller restores errno. */
SHIM_COLD static uint16_t arrival_ms(int fd, int read_end, int tls, int32_t *ms)
{
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	int queued = 1;
	if (read_end && !tls && ioctl(fd, FIONREAD, &queued) == 0 && queued == 0 &&
	    LIBC(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	    tl >= offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof ti.tcpi_last_data_recv &&
	    ti.tcpi_last_data_recv < 86400000u) {
		*ms = (int32_t)ti.tcpi_last_data_recv;
		return TTFT_F_ARRIVAL;
	}
	return 0;
}

/* TLS: the token became visible at the TLS read's return; the socket read
 * that brought its ciphertext is the wire's view. */
SHIM_COLD static void tls_wire(struct shim_conn *c, int fd, uint64_t conn,
			       uint32_t seq)
{
	int64_t tw = __atomic_load_n(&c->t_wire_rx, __ATOMIC_RELAXED);
	if (tw)
		put(TTFT_EV_TLS_WIRE, 0, tw, fd, 0, conn, 0, 0, seq, NULL, 0);
}

/* Every event of the sniffer, on a connection the same call took from
 * conn_of (which checked for a fork). split: its records through
 * put_rec_forked (emit: the reads'), else put_rec_forked_w (emit_w: the
 * send's). */
#define PUT_REC_FORKED(...) \
	(split ? put_rec_forked(__VA_ARGS__) : put_rec_forked_w(__VA_ARGS__))
static inline __attribute__((always_inline)) void
emit_(void *ctx, const struct ttft_http_event *ev, const int split)
{
	const struct emit_ctx *c = ctx;
	/* a later token event, not of a run (a read's several): kept */
	if (split && ev->kind == TTFT_EV_SSE_TOKEN && ev->b > 0 &&
	    !(ev->flags & TTFT_F_RUN)) {
		batch_add(c, ev);
		return;
	}
	if (split)
		batch_flush_rx(c->c);
	int64_t b = ev->b;
	if (__builtin_expect(ev->kind == TTFT_EV_RESP_HEADERS, 0)) {
		b = rtt_us(c->fd, b);
		/* a proxy's tunnel opened: its first bytes are tested for a
		 * TLS handshake as a connection's are (HTTPS through it) */
		if (__builtin_expect(ev->flags & TTFT_F_TUNNEL, 0) && !c->c->tls)
			__atomic_store_n(&c->c->tx_started, 0, __ATOMIC_RELAXED);
	}
	if (__builtin_expect(ev->kind == TTFT_EV_RESP_END, 0)) {
		int32_t ms = 0;
		uint16_t fl = arrival_ms(c->fd, ev->flags & TTFT_F_READ_END, c->c->tls, &ms);
		PUT_REC_FORKED(ev->kind, (uint16_t)((ev->flags & ~TTFT_F_READ_END) | fl),
			       ev->t_ns, c->fd, ms, c->conn, ev->a, b, ev->seq, NULL, 0);
		return;
	}
	if (!ev->text) /* every token event: the text's seal folds */
		PUT_REC_FORKED(ev->kind, ev->flags, ev->t_ns, c->fd, 0, c->conn, ev->a,
			b, ev->seq, NULL, 0);
	else
		PUT_REC_FORKED(ev->kind, ev->flags, ev->t_ns, c->fd, 0, c->conn, ev->a,
			b, ev->seq, ev->text, ev->text_len);
	/* the first token of a response first (b: its index), in a register
	 * where c->c would be loaded again */
	if (ev->kind == TTFT_EV_SSE_TOKEN && ev->b == 0 &&
	    __builtin_expect(c->c->tls, 0))
		tls_wire(c->c, c->fd, c->conn, ev->seq);
}
#undef PUT_REC_FORKED

static void emit(void *ctx, const struct ttft_http_event *ev)
{
	emit_(ctx, ev, 1);
}

/* The same where a send's request parser emits (emit_tx). */
static void emit_w(void *ctx, const struct ttft_http_event *ev)
{
	emit_(ctx, ev, 0);
}

TTFT_HIDDEN void shim_put(uint16_t kind, uint16_t flags, int64_t t, int fd,
			  int err, uint64_t conn, int64_t a, int64_t b,
			  uint32_t seq, const char *text, size_t tlen)
{
	put(kind, flags, t, fd, err, conn, a, b, seq, text, tlen);
}

TTFT_HIDDEN int shim_tracing(void)
{
	return shim_on;
}

/* "1.2.3.4:80" / "[::1]:80" without snprintf (connect is async-signal-safe;
 * snprintf is not). */
static size_t fmt_addr(char *out, const struct sockaddr *sa)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	unsigned port;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		const uint8_t *a = (const uint8_t *)&s4->sin_addr;
		for (int i = 0; i < 4; i++) {
			n += ttft_fmt_uint(out + n, a[i]);
			out[n++] = i < 3 ? '.' : ':';
		}
		port = ntohs(s4->sin_port);
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		const uint8_t *a = s6->sin6_addr.s6_addr;
		/* Longest run of zero groups becomes "::". */
		int best = -1, bestlen = 0;
		for (int i = 0; i < 8;) {
			int j = i;
			while (j < 8 && !a[2 * j] && !a[2 * j + 1])
				j++;
			if (j - i > bestlen && j - i > 1) {
				best = i;
				bestlen = j - i;
			}
			i = j > i ? j : i + 1;
		}
		out[n++] = '[';
		for (int i = 0; i < 8; i++) {
			if (i == best) {
				out[n++] = ':';
				if (i == 0)
					out[n++] = ':';
				i += bestlen - 1;
				continue;
			}
			unsigned g = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
			int started = 0;
			for (int sh = 12; sh >= 0; sh -= 4) {
				unsigned d = (g >> sh) & 15;
				if (d || started || sh == 0) {
					out[n++] = hex[d];
					started = 1;
				}
			}
			if (i < 7)
				out[n++] = ':';
		}
		out[n++] = ']';
		out[n++] = ':';
		port = ntohs(s6->sin6_port);
	}
	n += ttft_fmt_uint(out + n, port);
	return n;
}

/* ---- the connection table ---- */

/* A free slot (refs 0 -> 1), or 0 when all are taken. */
static unsigned alloc_slot(void)
{
	static unsigned hint;
	unsigned h = __atomic_load_n(&hint, __ATOMIC_RELAXED);
	for (unsigned k = 0; k < SHIM_MAX_CONN - 1; k++) {
		unsigned i = 1 + (h + k) % (SHIM_MAX_CONN - 1);
		uint32_t zero = 0;
		/* Acquire: whatever the last owner wrote is behind us. */
		if (__atomic_compare_exchange_n(&shim_conns[i].refs, &zero, 1, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED)) {
			__atomic_store_n(&hint, i, __ATOMIC_RELAXED);
			return i;
		}
	}
	return 0;
}

static void announce(struct shim_conn *c, int fd);

/* This process's view of fd's connection, or NULL. */
static inline __attribute__((always_inline)) struct shim_conn *conn_of(int fd)
{
	unsigned slot = shim_slot(fd);
	if (!slot)
		return NULL;
	fork_check();
	struct shim_conn *c = &shim_conns[slot];
	/* Relaxed: announce's CAS decides which thread writes the record. */
	if (__builtin_expect(__atomic_load_n(&c->unannounced, __ATOMIC_RELAXED), 0))
		announce(c, fd);
	return c;
}

/* fd's connection if it is still the one h names (the call began on it);
 * else NULL: the number was closed and went to another meanwhile. */
static inline __attribute__((always_inline)) struct shim_conn *
conn_held(int fd, struct shim_held h)
{
	struct shim_conn *c = conn_of(fd);
	if (!c)
		return NULL;
	__asm__("" : "+r"(c)); /* see conn_for_send */
	if (__builtin_expect(__atomic_load_n(&c->t_connect, __ATOMIC_RELAXED) != h.t ||
			     c != &shim_conns[h.slot], 0))
		return NULL;
	return c;
}

/* The same, for a call that sends. A fork child that sends on a connection
 * it inherited makes requests of its own: it takes a new id for the
 * connection, so that its rows and the parent's never merge. A child that
 * only reads (a shell's `cat <&3` after the shell sent the request) keeps
 * the parent's id: what it reads answers the parent's request. */
SHIM_COLD static void adopt(struct shim_conn *c, int fd, int64_t t,
			    int32_t owner)
{
	/* Relaxed: only this process's threads race for it. */
	if (__atomic_compare_exchange_n(&c->owner, &owner, g_pid, 0,
					__ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		uint64_t parent = c->conn;
		c->conn = new_conn();
		put(TTFT_EV_INHERIT, 0, t, fd, 0, c->conn, (int64_t)parent,
		    owner, c->tx.seq, NULL, 0);
	}
}

static struct shim_conn *conn_for_send(int fd, int64_t t)
{
	struct shim_conn *c = conn_of(fd);
	if (!c)
		return NULL;
	/* A send that began (t) before fd's connection began connecting was
	 * another's: fd was closed while it blocked and the number went to
	 * a new connection (docs/shim.md). The asm keeps gcc addressing the
	 * fields from c (one instruction each; send's budget). */
	__asm__("" : "+r"(c));
	if (__builtin_expect(__atomic_load_n(&c->t_connect, __ATOMIC_RELAXED) > t, 0))
		return NULL;
	/* Relaxed: adopt's CAS decides. */
	int32_t owner = __atomic_load_n(&c->owner, __ATOMIC_RELAXED);
	if (__builtin_expect(owner != g_pid, 0))
		adopt(c, fd, t, owner);
	return c;
}

/* Take fd out of the table; returns its slot (0 if it had none). */
static unsigned unmap_fd(int fd)
{
	if ((unsigned)fd >= TTFT_MAX_FD)
		return 0;
	/* Release: pairs with shim_slot's acquire (nothing to publish, but
	 * a thread that sees 0 must not see the slot reused under it). */
	return __atomic_exchange_n(&shim_fdmap[fd], 0, __ATOMIC_ACQ_REL);
}

/* A socket closed while its connect was pending: 1 when the handshake
 * was still under way (SYN sent, no answer: the client gave up on it, by
 * its own timeout), asked of the kernel (the fd is still open). errno is
 * kept. */
SHIM_COLD static int gave_up_connect(int fd)
{
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	int e = errno;
	int r = LIBC(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
		tl >= 1 && ti.tcpi_state == TCP_SYN_SENT;
	errno = e;
	return r;
}

/* One fd less on slot; the connection ends with its last fd (a CLOSE
 * record if record and this process owns it). live: fd still names the
 * socket (a close before the real one; not a dup2 over it, done). */
static void drop_ref(unsigned slot, int fd, int64_t t, int record, int live)
{
	struct shim_conn *c = &shim_conns[slot];
	fork_check();
	int mine = __atomic_load_n(&c->owner, __ATOMIC_RELAXED) == g_pid;
	uint64_t conn = c->conn;
	uint32_t seq = c->tx.seq;
	/* a = 1: a response's head was partly read (relaxed: the receiving
	 * thread's last word on it, read once at the end) */
	int64_t mid_head = ttft_http_rx_mid_head(&c->rx);
	/* a child made since the connect may hold the socket: its close
	 * here is no giving up (a worker takes the connect over) */
	int pending = c->pending && live &&
		      c->forks == (uint16_t)__atomic_load_n(&shim_forks, __ATOMIC_RELAXED);
	/* Acq_rel: our reads of the slot happen before another thread can
	 * take it over (alloc_slot's acquire CAS). */
	/* Relaxed: an inherited connection never used has no record to end. */
	int quiet = __atomic_load_n(&c->unannounced, __ATOMIC_RELAXED);
	/* its kept token times: at its last fd's close, whichever thread
	 * closes; at another of its fds' close only by the thread that kept
	 * them (a close of a dup in another thread while the reader adds a
	 * time would take the times from under it: the connection goes
	 * on). Mine or not: a fork child that reads its parent's connection
	 * keeps its id (adopt) and the times it read are its own
	 * (after_fork dropped the parent's) */
	if (__atomic_load_n(&c->batched, __ATOMIC_RELAXED) &&
	    (__atomic_load_n(&c->refs, __ATOMIC_ACQUIRE) == 1 || c->bt.tid == cur_tid()))
		batch_write(c);
	if (__atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) == 0 && record &&
	    mine && !quiet)
		put(TTFT_EV_CLOSE, 0, t, fd, 0, conn, mid_head,
		    pending && gave_up_connect(fd), seq, NULL, 0);
}

TTFT_HIDDEN void shim_closing(int fd, int64_t t)
{
	if (in_vfork_child())
		return;
	unsigned slot = unmap_fd(fd);
	if (slot)
		drop_ref(slot, fd, t, 1, 1);
}

TTFT_HIDDEN void shim_stale(int fd)
{
	if (in_vfork_child())
		return;
	unsigned slot = unmap_fd(fd);
	if (slot)
		drop_ref(slot, fd, 0, 0, 0);
}

static void map_fd(int fd, unsigned slot)
{
	unsigned hi = __atomic_load_n(&shim_fd_hi, __ATOMIC_RELAXED);
	/* Relaxed: close_range reads it only to bound a scan of the table,
	 * whose entries carry their own ordering. */
	while ((unsigned)fd >= hi &&
	       !__atomic_compare_exchange_n(&shim_fd_hi, &hi, (unsigned)fd + 1,
					    0, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	/* Release: the slot is complete before anyone finds it. */
	__atomic_store_n(&shim_fdmap[fd], (uint16_t)slot, __ATOMIC_RELEASE);
}

TTFT_HIDDEN void shim_dup(int oldfd, int newfd, int replaced, int64_t t)
{
	if (oldfd == newfd || (unsigned)newfd >= TTFT_MAX_FD || in_vfork_child())
		return;
	unsigned old = unmap_fd(newfd);
	if (old)
		drop_ref(old, newfd, t, replaced, 0);
	unsigned slot = shim_slot(oldfd);
	if (!slot)
		return;
	/* Relaxed: the slot is already published to this process. */
	__atomic_add_fetch(&shim_conns[slot].refs, 1, __ATOMIC_RELAXED);
	map_fd(newfd, slot);
}

/* ---- logic behind the wrappers ---- */

TTFT_HIDDEN int shim_wants(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!shim_on || (unsigned)fd >= TTFT_MAX_FD || !sa ||
	    len < sizeof(struct sockaddr_in))
		return 0;
	if (sa->sa_family != AF_INET &&
	    !(sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)))
		return 0;
	int type = 0;
	socklen_t tl = sizeof type;
	int e = errno;
	int r = LIBC(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &tl);
	errno = e;
	if (r != 0 || type != SOCK_STREAM)
		return 0;
	return ttft_addr_filters_match(&g_filters, sa);
}

TTFT_HIDDEN uint32_t shim_forks_now(void)
{
	return __atomic_load_n(&shim_forks, __ATOMIC_RELAXED);
}

TTFT_HIDDEN void shim_connect_begin(int fd, const struct sockaddr *sa,
				    int64_t t, uint32_t forks)
{
	if (in_vfork_child())
		return;
	unsigned stale = unmap_fd(fd);
	if (stale)
		drop_ref(stale, fd, 0, 0, 0);
	uint64_t conn = new_conn();
	char text[64];
	size_t n = fmt_addr(text, sa);
	uint16_t flags = sa->sa_family == AF_INET6 ? TTFT_F_V6 : 0;
	int64_t ino = shim_sock_ino(fd);
	unsigned slot = alloc_slot();
	if (!slot) {
		/* Said in the log, so the analyzer can say it too. */
		put(TTFT_EV_CONNECT_BEGIN, flags | TTFT_F_UNTRACED, t, fd, 0,
		    conn, 0, ino, 0, text, n);
		return;
	}
	struct shim_conn *c = &shim_conns[slot];
	c->conn = conn;
	c->pending = 1;
	__atomic_store_n(&c->t_connect, t, __ATOMIC_RELAXED); /* shim_hold */
	c->forks = (uint16_t)forks; /* as the call began: its record is
				     * written when it returns */
	c->tx_started = 0;
	c->tls = SHIM_PLAIN;
	c->wire_eof = 0;
	__atomic_store_n(&c->t_wire_rx, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->owner, g_pid, __ATOMIC_RELAXED);
	ttft_http_tx_init(&c->tx);
	ttft_http_rx_init(&c->rx);
	c->bt.n = 0;
	c->batched = 0;
	put(TTFT_EV_CONNECT_BEGIN, flags, t, fd, 0, conn, 0, ino, 0, text, n);
	map_fd(fd, slot);
}

TTFT_HIDDEN int64_t shim_sock_ino(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (int64_t)st.st_ino : 0;
}

TTFT_HIDDEN void shim_adopt(int fd, const struct sockaddr *peer, int64_t ino,
			    int64_t t)
{
	(void)peer;
	/* another fd on the same socket (`cat <&3` holds it as 0 and 3):
	 * one connection, as dup makes */
	for (int k = 0; k < fd && ino; k++)
		if (shim_slot(k) && shim_sock_ino(k) == ino) {
			shim_dup(k, fd, 0, t);
			return;
		}
	unsigned slot = alloc_slot();
	if (!slot)
		return; /* said at its first use? no slot to remember it by */
	struct shim_conn *c = &shim_conns[slot];
	c->conn = 0;
	c->pending = 0; /* connected before this image began */
	c->tx_started = 0;
	c->tls = SHIM_PLAIN;
	c->wire_eof = 0;
	c->t_found = t;
	__atomic_store_n(&c->t_connect, 0, __ATOMIC_RELAXED); /* shim_hold */
	c->ino = ino;
	__atomic_store_n(&c->t_wire_rx, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->owner, g_pid, __ATOMIC_RELAXED);
	ttft_http_tx_init(&c->tx);
	ttft_http_rx_init(&c->rx);
	c->bt.n = 0;
	c->batched = 0;
	/* No record yet: a program that never uses what it inherited (a
	 * leaked fd in every child of a shell) costs the log nothing. */
	__atomic_store_n(&c->unannounced, 1, __ATOMIC_RELAXED);
	map_fd(fd, slot);
}

/* An inherited connection's first use: its CONNECT_BEGIN, marked inherited,
 * at the time it was found (never a connect time), with its inode. */
static SHIM_COLD void announce(struct shim_conn *c, int fd)
{
	uint8_t one = 1;
	/* Relaxed: one thread wins; the others may run ahead of the record
	 * by a call, which the analyzer's time order absorbs (t_found is
	 * earlier than any use). */
	if (!__atomic_compare_exchange_n(&c->unannounced, &one, 0, 0, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return;
	int e = errno;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	char text[64];
	size_t n = 0;
	uint16_t flags = TTFT_F_INHERITED;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0 &&
	    (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)) {
		n = fmt_addr(text, (struct sockaddr *)&ss);
		flags |= ss.ss_family == AF_INET6 ? TTFT_F_V6 : 0;
	}
	c->conn = new_conn();
	put(TTFT_EV_CONNECT_BEGIN, flags, c->t_found, fd, 0, c->conn, 0, c->ino, 0,
	    n ? text : NULL, n);
	errno = e;
}

TTFT_HIDDEN int shim_pending(int fd)
{
	unsigned slot = shim_slot(fd);
	return slot && shim_conns[slot].pending;
}

TTFT_HIDDEN void shim_established(int fd, int64_t t)
{
	struct shim_conn *c = conn_of(fd);
	if (!c || !c->pending)
		return;
	c->pending = 0;
	put(TTFT_EV_ESTABLISHED, 0, t, fd, 0, c->conn, 0, 0, 0, NULL, 0);
}

/* A pending connect whose end no call showed (no SO_ERROR, no second
 * connect: a client that polled for writability and went on): its first
 * send or read. The kernel knows when the connection was established, to
 * its tick: TCP_INFO's time since data last arrived starts there
 * (tcp_finish_connect) until data does (on a read: the data's arrival,
 * later, never earlier, than the handshake's end). That instant is the
 * record's (b = 1: from TCP_INFO, to the kernel's tick), so that a
 * connection opened ahead of its request reads as one; else the call's
 * (b = 2 when a send found data already there: not known). The caller
 * restores errno. */
SHIM_COLD static void established_unseen(int fd, struct shim_conn *c, int64_t t,
					   int sending)
{
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	int64_t when = t, how = 0;
	int queued = 0;
	if (LIBC(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
	    tl >= offsetof(struct tcp_info, tcpi_last_data_recv) + sizeof ti.tcpi_last_data_recv &&
	    ti.tcpi_state == TCP_ESTABLISHED && ti.tcpi_last_data_recv < 86400000u) {
		when = t - (int64_t)ti.tcpi_last_data_recv * 1000000;
		how = 1;
		/* the tick's rounding may reach back past the connect's
		 * start: never before it */
		if (when < c->t_connect)
			when = c->t_connect;
		/* A send asks after it went out: if the response (or any
		 * data: nothing was read yet) had arrived by then, the time
		 * since data arrived is its, not the handshake's. Unread
		 * bytes after the question mean it may have: the
		 * establishment is not known (b = 2, stamped at the call,
		 * no later than it). */
		if (sending && ioctl(fd, FIONREAD, &queued) == 0 && queued > 0) {
			when = t;
			how = 2;
		}
	}
	c->pending = 0;
	put(TTFT_EV_ESTABLISHED, 0, when, fd, 0, c->conn, 0, how, 0, NULL, 0);
}

TTFT_HIDDEN void shim_connect_end(int fd, int ret, int err, int64_t t)
{
	struct shim_conn *c = conn_of(fd);
	if (!c)
		return;
	put(TTFT_EV_CONNECT_END, 0, t, fd, ret ? err : 0, c->conn, ret, 0, 0,
	    NULL, 0);
	if (ret == 0 || err == EISCONN)
		shim_established(fd, t);
	else if (err != EINPROGRESS && err != EINTR && err != EALREADY)
		c->pending = 0; /* failed: the error is in the record above */
}

/* A TCP Fast Open call returned with the handshake still under way (a
 * non-blocking socket whose SYN carried the data): it ends later, and no
 * call will show when; recorded as not known (b = 2). */
TTFT_HIDDEN void shim_connect_end_unknown(int fd, int64_t t)
{
	struct shim_conn *c = conn_of(fd);
	if (!c)
		return;
	put(TTFT_EV_CONNECT_END, 0, t, fd, 0, c->conn, 0, 0, 0, NULL, 0);
	c->pending = 0;
	put(TTFT_EV_ESTABLISHED, 0, t, fd, 0, c->conn, 0, 2, 0, NULL, 0);
}

TTFT_HIDDEN int shim_tcp_established(int fd)
{
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	int e = errno;
	int r = LIBC(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 &&
		ti.tcpi_state == TCP_ESTABLISHED;
	errno = e;
	return r;
}

TTFT_HIDDEN void shim_connect_failed(int fd, int soerr, int64_t t)
{
	struct shim_conn *c = conn_of(fd);
	if (!c || !c->pending)
		return;
	c->pending = 0;
	put(TTFT_EV_CONNECT_END, 0, t, fd, soerr, c->conn, -1, 1, 0, NULL, 0);
}

static int hard_error(int err)
{
	return err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
	       err != EINPROGRESS && err != ENOTCONN;
}

/* Plaintext sent on c: the sniffer's request half. First, a response that
 * ended before the body its request was holding back (Expect:
 * 100-continue) means the body will not come. */
/* A send's events. A request sent whole by one call (its REQ_SENT follows
 * its REQ_BEGIN in the same feed) is one record: the REQ_BEGIN, flagged
 * TTFT_F_SENT, carrying what the REQ_SENT would (a: the bytes, b: its
 * time; docs/log-format.md). The REQ_BEGIN is held until the next event
 * of the call, or its end; its text points into the caller's buffer,
 * which is the caller's until the call returns. */
struct tx_ctx {
	struct emit_ctx ec;
	int held;             /* a REQ_BEGIN is held: */
	uint16_t flags;
	uint32_t seq;
	int64_t t;
	const char *text;
	size_t text_len;
};

static inline __attribute__((always_inline)) void flush_begin(struct tx_ctx *x)
{
	x->held = 0;
	put_rec_forked_w(TTFT_EV_REQ_BEGIN, x->flags, x->t, x->ec.fd, 0, x->ec.conn, 0, 0,
		x->seq, x->text, x->text_len);
}

static void emit_tx(void *ctx, const struct ttft_http_event *ev)
{
	struct tx_ctx *x = ctx;
	if (x->held) {
		/* A REQ_SENT after a held REQ_BEGIN is that request's: the
		 * parser's REQ_SENT is always its latest request's (seq). */
		if (ev->kind == TTFT_EV_REQ_SENT) {
			x->held = 0;
			put_rec_forked_w(TTFT_EV_REQ_BEGIN, x->flags | TTFT_F_SENT, x->t,
				x->ec.fd, 0, x->ec.conn, ev->a, ev->t_ns, ev->seq,
				x->text, x->text_len);
			return;
		}
		flush_begin(x);
	}
	if (ev->kind == TTFT_EV_REQ_BEGIN) {
		x->held = 1;
		x->flags = ev->flags;
		x->seq = ev->seq;
		x->t = ev->t_ns;
		x->text = ev->text;
		x->text_len = ev->text_len;
		return;
	}
	/* a copy: x's address stays in this frame */
	struct emit_ctx ec = x->ec;
	emit_w(&ec, ev);
}

static void plain_sent(int fd, struct shim_conn *c, const void *p, size_t n,
		       int64_t t0, int64_t t1)
{
	struct tx_ctx x;
	x.ec = (struct emit_ctx){fd, c->conn, c};
	x.held = 0;
	if (__builtin_expect(c->tx.expect, 0) && n) {
		/* Relaxed: rx.seq is written by the receiving thread; a
		 * stale value only delays the decision to the next send. */
		uint32_t done = __atomic_load_n(&c->rx.seq, __ATOMIC_RELAXED);
		struct emit_ctx ec = x.ec;
		ttft_http_tx_sync(&c->tx, done, p, n, emit_w, &ec);
	}
	ttft_http_tx_feed(&c->tx, p, n, t0, t1, emit_tx, &x);
	if (x.held) /* the request goes on in a later call */
		flush_begin(&x);
}

/* The usual connection a send goes to: connected (not pending), its first
 * bytes sent and found not TLS, no token times waiting (batched: they go
 * to the log before what the send writes). One load and compare for the
 * four bytes. */
static inline __attribute__((always_inline)) int
send_usual(const struct shim_conn *c)
{
	static const uint8_t want[4] = {0, 1, SHIM_PLAIN, 0},
			     mask[4] = {0xff, 0xff, 0xff, 0xff};
	uint32_t w, m;
	memcpy(&w, want, sizeof w);
	memcpy(&m, mask, sizeof m);
	return (c->state_word & m) == w;
}

static __attribute__((noinline, cold)) void
on_sent_rare(int fd, struct shim_conn *c, const struct iovec *iov, int iovcnt,
	     ssize_t ret, int err, int64_t t0, int64_t t1);

TTFT_HIDDEN void shim_on_sent(int fd, const struct iovec *iov, int iovcnt,
			      ssize_t ret, int err, int64_t t0, int64_t t1)
{
	struct shim_conn *c = conn_for_send(fd, t0);
	if (!c)
		return;
	/* The usual send: bytes from one buffer on such a connection. */
	if (__builtin_expect(ret > 0 && iovcnt == 1 && send_usual(c), 1))
		plain_sent(fd, c, iov->iov_base, (size_t)ret, t0, t1);
	else
		on_sent_rare(fd, c, iov, iovcnt, ret, err, t0, t1);
}

TTFT_HIDDEN void shim_on_sent1(int fd, const void *buf, size_t len,
			       ssize_t ret, int err, int64_t t0, int64_t t1)
{
	struct shim_conn *c = conn_for_send(fd, t0);
	if (!c)
		return;
	if (__builtin_expect(ret > 0 && send_usual(c), 1)) {
		plain_sent(fd, c, buf, (size_t)ret, t0, t1);
	} else {
		/* the buffer as an iovec only here, off the usual path */
		struct iovec iov = {(void *)buf, len};
		on_sent_rare(fd, c, &iov, 1, ret, err, t0, t1);
	}
}

/* Everything else a send can be: an error, a connection's first bytes, a
 * pending connect, TLS, several buffers. */
static void on_sent_rare(int fd, struct shim_conn *c, const struct iovec *iov,
			 int iovcnt, ssize_t ret, int err, int64_t t0, int64_t t1)
{
	batch_flush(c);
	if (ret < 0) {
		if (hard_error(err))
			put(TTFT_EV_IO_ERROR, 0, t1, fd, err, c->conn, ret, 0,
			    c->tx.seq, "send", 4);
		return;
	}
	if (c->pending)
		established_unseen(fd, c, t0, 1);
	if (!c->tx_started && ret > 0 && !c->tls) {
		/* A TLS record (0x16 handshake, version 3.x) can never start
		 * an HTTP/1.x request: keep the ciphertext from the sniffer.
		 * The connection's first bytes, or a proxy tunnel's (its
		 * CONNECT's 2xx cleared tx_started: emit_). */
		uint8_t head[TTFT_TLS_HELLO];
		size_t n = 0;
		for (int i = 0; i < iovcnt && n < sizeof head && n < (size_t)ret; i++)
			for (size_t k = 0; k < iov[i].iov_len && n < sizeof head &&
					   n < (size_t)ret; k++)
				head[n++] = ((const uint8_t *)iov[i].iov_base)[k];
		c->tx_started = 1;
		if (n && head[0] == 0x16 && (n == 1 || head[1] == 0x03))
			shim_tls_hello(fd, head, n, t0);
	}
	if (c->tls)
		return; /* ciphertext: the TLS library's plaintext is fed */
	size_t left = (size_t)ret;
	for (int i = 0; i < iovcnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
		if (n)
			plain_sent(fd, c, iov[i].iov_base, n, t0, t1);
		left -= n;
	}
}

TTFT_HIDDEN void shim_plain_sent(int fd, const void *p, size_t n, int64_t t0,
				 int64_t t1)
{
	struct shim_conn *c = conn_for_send(fd, t0);
	if (c && n) {
		batch_flush(c);
		plain_sent(fd, c, p, n, t0, t1);
	}
}

TTFT_HIDDEN void shim_plain_unseen(int fd, size_t n, int64_t t0, int64_t t1)
{
	struct shim_conn *c = conn_for_send(fd, t0);
	if (!c)
		return;
	batch_flush(c);
	struct emit_ctx ec = {fd, c->conn, c};
	ttft_http_tx_unseen(&c->tx, n, t1, emit, &ec);
}

TTFT_HIDDEN void shim_plain_recv(int fd, const void *p, size_t n, int64_t t1)
{
	struct shim_conn *c = conn_of(fd);
	if (!c)
		return;
	struct emit_ctx ec = {fd, c->conn, c};
	ttft_http_rx_feed(&c->rx, &c->tx, p, n, t1, emit, &ec);
}

/* Did the peer end the stream? A read returns 0 after the client's own
 * shutdown(SHUT_RD) too (then ESTABLISHED, or FIN_WAIT after SHUT_RDWR):
 * only a FIN from the peer leaves CLOSE_WAIT (or LAST_ACK, CLOSING,
 * TIME_WAIT). errno is kept. */
SHIM_COLD static int peer_ended(int fd)
{
	struct tcp_info ti;
	socklen_t tl = sizeof ti;
	int e = errno;
	int r = LIBC(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, &ti, &tl) == 0 && tl >= 1 &&
		(ti.tcpi_state == TCP_CLOSE_WAIT || ti.tcpi_state == TCP_LAST_ACK ||
		 ti.tcpi_state == TCP_CLOSING || ti.tcpi_state == TCP_TIME_WAIT);
	errno = e;
	return r;
}

TTFT_HIDDEN void shim_plain_eof(int fd, int64_t t1, int peer)
{
	struct shim_conn *c = conn_of(fd);
	if (!c)
		return;
	struct emit_ctx ec = {fd, c->conn, c};
	/* requests waiting end here as unanswered only when the server
	 * closed (the sending half given to the sniffer) */
	int waiting = c->rx.seq < c->tx.seq;
	ttft_http_rx_eof(&c->rx, waiting && (peer || peer_ended(fd)) ? &c->tx : NULL,
			 t1, emit, &ec);
}

TTFT_HIDDEN void shim_on_sent_unseen(int fd, ssize_t ret, int err, int64_t t0,
				     int64_t t1)
{
	struct shim_conn *c = conn_for_send(fd, t0);
	if (!c)
		return;
	batch_flush(c);
	if (ret < 0) {
		if (hard_error(err))
			put(TTFT_EV_IO_ERROR, 0, t1, fd, err, c->conn, ret, 0,
			    c->tx.seq, "send", 4);
		return;
	}
	if (c->pending)
		established_unseen(fd, c, t0, 1);
	if (c->tls)
		return; /* ciphertext (kTLS): the TLS library's plaintext is fed */
	struct emit_ctx ec = {fd, c->conn, c};
	ttft_http_tx_unseen(&c->tx, (uint64_t)ret, t1, emit, &ec);
}

/* The I/O of an AIO request is done by glibc's threads with system calls
 * inside libc: none of it is seen. The connection says so: a record a
 * submission (a program that submits many writes as many). */
SHIM_COLD TTFT_HIDDEN void shim_aio(int fd, int how)
{
	int e = errno;
	struct shim_conn *c = conn_of(fd);
	if (c) {
		batch_flush(c);
		put(TTFT_EV_AIO, 0, shim_now(), fd, 0, c->conn, how, 0, c->tx.seq,
		    NULL, 0);
	}
	errno = e;
}

SHIM_COLD static void on_recv_rare(int fd, struct shim_conn *c,
				   const struct iovec *iov, int iovcnt,
				   ssize_t ret, int err, int flags, int64_t t1)
{
	struct emit_ctx ec = {fd, c->conn, c};
	if (flags & (MSG_ERRQUEUE | MSG_OOB))
		return; /* the socket's error queue (timestamps, zero-copy
			   notices, ICMP errors), or TCP's urgent byte (out
			   of the stream, at its mark): not the stream */
	if (ret < 0) {
		batch_flush_rx(c);
		if (hard_error(err))
			put(TTFT_EV_IO_ERROR, 0, t1, fd, err, c->conn, ret, 0,
			    c->rx.seq, "recv", 4);
		return;
	}
	if (flags & MSG_PEEK)
		return; /* the same bytes will be read again */
	if (c->pending)
		established_unseen(fd, c, t1, 0);
	size_t cap = 0;
	for (int i = 0; i < iovcnt; i++)
		cap += iov[i].iov_len;
	if (c->tls) {
		/* Ciphertext: only when it arrived. */
		if (ret > 0)
			__atomic_store_n(&c->t_wire_rx, t1, __ATOMIC_RELAXED);
		else if (cap)
			c->wire_eof = 1;
		return;
	}
	if (flags & MSG_TRUNC) {
		ttft_http_rx_lost(&c->rx, t1, emit, &ec);
		return;
	}
	if (ret == 0) {
		if (cap)
			shim_plain_eof(fd, t1, 0);
		return;
	}
	size_t left = (size_t)ret;
	for (int i = 0; i < iovcnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
		ttft_http_rx_feed(&c->rx, &c->tx, iov[i].iov_base, n, t1, emit, &ec);
		left -= n;
	}
}

TTFT_HIDDEN void shim_on_recv(int fd, struct shim_held h,
			      const struct iovec *iov, int iovcnt, ssize_t ret,
			      int err, int flags, int64_t t1)
{
	struct shim_conn *c = conn_held(fd, h);
	if (!c)
		return;
	/* The usual read: bytes into one buffer, on an established plaintext
	 * connection; everything else is on_recv_rare's. */
	if (__builtin_expect(ret > 0 && iovcnt == 1 &&
			     !(flags & (MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE | MSG_OOB)) &&
			     !(c->pending | c->tls), 1)) {
		struct emit_ctx ec = {fd, c->conn, c};
		size_t n = iov->iov_len < (size_t)ret ? iov->iov_len : (size_t)ret;
		ttft_http_rx_feed(&c->rx, &c->tx, iov->iov_base, n, t1, emit, &ec);
		return;
	}
	on_recv_rare(fd, c, iov, iovcnt, ret, err, flags, t1);
}

TTFT_HIDDEN void shim_on_recv1(int fd, struct shim_held h, void *buf,
			       size_t len, ssize_t ret, int flags, int64_t t1)
{
	/* errno is still the call's: nothing from the call to here sets it
	 * (the clock, conn_held: after_fork's getpid, announce keeps it) */
	struct shim_conn *c = conn_held(fd, h);
	if (!c)
		return;
	int e;
	if (__builtin_expect(ret > 0 && !(flags & (MSG_PEEK | MSG_TRUNC | MSG_ERRQUEUE | MSG_OOB)) &&
			     !(c->pending | c->tls), 1)) {
		size_t n = len < (size_t)ret ? len : (size_t)ret;
		/* One token event: its time kept, or written with the ones
		 * kept before it (batch_start: the log's own calls keep
		 * errno, ttft_log_slot_cold, map_segment, shim_bus_enter):
		 * nothing on this path sets errno, so it is not read. Its
		 * context is its own, never in memory (no callee on its path
		 * takes its address): the rest's is. */
		struct emit_ctx tok = {fd, c->conn, c};
		if (ttft_http_rx_feed_token(&c->rx, buf, n, t1, emit, &tok))
			return;
		/* the rest may ask the kernel (rtt_us, arrival_ms) */
		e = errno;
		struct emit_ctx ec = {fd, c->conn, c};
		ttft_http_rx_feed_rest(&c->rx, &c->tx, buf, n, t1, emit, &ec);
	} else {
		/* the buffer as an iovec only here, off the usual path */
		struct iovec iov = {buf, len};
		e = errno;
		on_recv_rare(fd, c, &iov, 1, ret, e, flags, t1);
	}
	errno = e;
}

TTFT_HIDDEN void shim_on_recv_unseen(int fd, int64_t t1)
{
	struct shim_conn *c = conn_of(fd);
	if (!c || c->tls)
		return;
	struct emit_ctx ec = {fd, c->conn, c};
	ttft_http_rx_lost(&c->rx, t1, emit, &ec);
}

TTFT_HIDDEN void shim_dns(int end, const char *host, int ret, int64_t t)
{
	if (!shim_on)
		return;
	size_t n = host ? strnlen(host, TTFT_REC_TEXT) : 0;
	put(end ? TTFT_EV_DNS_END : TTFT_EV_DNS_BEGIN, 0, t, -1, 0, 0, ret, 0,
	    0, host, n);
}

/* Public: an application's own mark (ttft-probe calls it when it finds the
 * shim loaded), tied to the connection on fd when that fd is traced. */
TTFT_PUBLIC void ttft_mark(int fd, int code)
{
	if (!shim_on)
		return;
	int e = errno;
	int64_t t = shim_now();
	struct shim_conn *c = conn_of(fd);
	if (c)
		batch_flush(c);
	uint64_t conn = c ? c->conn : 0;
	uint32_t seq = c ? c->tx.seq : 0;
	put(TTFT_EV_MARK, 0, t, fd, 0, conn, 0, code, seq, NULL, 0);
	errno = e;
}
