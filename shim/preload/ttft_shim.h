/* ttft_shim.h — internals shared by the shim's files (not installed).
 *
 * Layering (after cwrap's socket_wrapper): the public wrapper (send) does the
 * fast-path check and leaves at once for an fd the shim does not trace; the
 * traced path is a separate cold function that calls the logic here
 * (shim_on_sent), which records events. The real functions are reached
 * through shim_libc, whose pointers start out as lazy resolvers (calls can
 * arrive before the constructor) and are replaced by the dlsym(RTLD_NEXT)
 * result, so the shim never calls itself and never tests for NULL.
 */
#ifndef TTFT_SHIM_H
#define TTFT_SHIM_H

#include <aio.h>
#include <dirent.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "ttft_http.h"

#define TTFT_HIDDEN __attribute__((visibility("hidden")))
#define TTFT_PUBLIC __attribute__((visibility("default")))
#define SHIM_COLD __attribute__((noinline, cold))
/* The traced path of a wrapper that carries a stream's bytes (recv, read,
 * send, write): out of the wrapper's fast path like SHIM_COLD, but compiled
 * for speed, with the sniffer, the classifier and the record writing
 * inlined into its one frame (docs/performance.md). */
#define SHIM_TRACED __attribute__((noinline, flatten))

/* fds at or above this are never traced (documented in docs/shim.md). */
#define TTFT_MAX_FD 65536
/* Connections traced at once in one process; slot 0 means "none". */
#define SHIM_MAX_CONN 1024

/* shim_conn.tls: what the connection's bytes are. */
enum { SHIM_PLAIN = 0, SHIM_TLS_DARK = 1, SHIM_TLS_TAPPED = 2 };

/* One traced connection. Several fds may refer to it (dup, dup2, F_DUPFD):
 * they share its parser state, as they share the kernel's socket. */
struct shim_conn {
	uint32_t refs;            /* fds of this process on it; 0 = free (atomic) */
	union {
		struct {
			uint8_t pending;    /* non-blocking connect not yet
			                       seen done */
			uint8_t tx_started; /* a byte was sent: the TLS test
			                       is done */
			uint8_t tls;        /* SHIM_*: TLS ciphertext never
			                       reaches the sniffer; a tapped
			                       TLS library feeds it */
			uint8_t batched;    /* token times wait in bt: a
			                       send writes them first (its
			                       usual path is not taken) */
		};
		uint32_t state_word; /* the first three tested at once
		                        (send_usual) */
	};
	uint8_t wire_eof;         /* TLS: the socket read returned 0 (written
	                             by a receiving thread: not in state_word) */
	uint8_t unannounced;      /* inherited across exec, not used yet: its
	                             CONNECT_BEGIN waits for its first use
	                             (atomic; ttft_inherit.c) */
	uint16_t forks;           /* shim_forks (its low half) when its connect
	                             began: a child made since may hold the
	                             socket (in the padding before owner: the
	                             struct's size is the send path's) */
	int32_t owner;            /* pid that made it; another pid = a fork
	                             child that inherited it (atomic) */
	int64_t t_wire_rx;        /* TLS: return of the last ciphertext read */
	int64_t t_found, ino;     /* inherited: when found, its socket inode */
	int64_t t_connect;        /* when its connect began (0: not seen) */
	uint64_t conn;
	struct ttft_http_tx tx;   /* touched only by sending calls */
	struct ttft_http_rx rx;   /* touched only by receiving calls */
	/* Token times read one after another, written as one record
	 * (TTFT_F_TIMES) when the connection's next record is, when full,
	 * or at its close, a fork, an exec or the exit (docs/shim.md,
	 * "Token times"). Touched by the receiving thread that began it
	 * (tid); the others write it only at a close or the exit. */
	struct shim_batch {
		uint32_t n;       /* token times kept; 0: none */
		uint32_t seq;     /* the response's */
		int64_t t0;       /* the first's time */
		int64_t b0;       /* the first's index */
		int64_t a0;       /* the first's body offset (a lone token's
		                     record is SSE_TOKEN's own) */
		uint16_t flags;   /* the same for every token kept */
		int32_t fd, tid;
		uint32_t gen;     /* odd while a batch begins (a seqlock:
		                     ttft_shim.c's batch_write) */
		uint32_t d[TTFT_TIMES_MAX - 1]; /* the others' times, ns
		                                   after t0 */
	} bt;
};

/* Children this process made that may hold its sockets: fork() (its
 * atfork parent handler), and the exec and spawn calls (a vfork child's
 * exec counts in its parent's memory). Not raw clone/SYS_fork. Relaxed
 * atomic. */
extern TTFT_HIDDEN uint32_t shim_forks;
TTFT_HIDDEN void shim_count_fork(void);

/* fd -> slot in shim_conns, 0 = not traced. The fast path's only load. */
extern TTFT_HIDDEN uint16_t shim_fdmap[TTFT_MAX_FD];
extern TTFT_HIDDEN struct shim_conn shim_conns[SHIM_MAX_CONN];

/* The real functions: (member, symbol, return type, error value, params,
 * args). Each starts as a lazy resolver generated in ttft_wrap.c. */
#define SHIM_FIXED(X)                                                         \
	X(connect, "connect", int, -1,                                        \
	  (int a, const struct sockaddr *b, socklen_t c), (a, b, c))          \
	X(send, "send", ssize_t, -1, (int a, const void *b, size_t c, int d), \
	  (a, b, c, d))                                                       \
	X(sendto, "sendto", ssize_t, -1,                                      \
	  (int a, const void *b, size_t c, int d, const struct sockaddr *e,   \
	   socklen_t f), (a, b, c, d, e, f))                                  \
	X(sendmsg, "sendmsg", ssize_t, -1,                                    \
	  (int a, const struct msghdr *b, int c), (a, b, c))                  \
	X(sendmmsg, "sendmmsg", int, -1,                                      \
	  (int a, struct mmsghdr *b, unsigned c, int d), (a, b, c, d))        \
	X(write, "write", ssize_t, -1, (int a, const void *b, size_t c),      \
	  (a, b, c))                                                          \
	X(writev, "writev", ssize_t, -1, (int a, const struct iovec *b, int c), \
	  (a, b, c))                                                          \
	X(recv, "recv", ssize_t, -1, (int a, void *b, size_t c, int d),       \
	  (a, b, c, d))                                                       \
	X(recvfrom, "recvfrom", ssize_t, -1,                                  \
	  (int a, void *b, size_t c, int d, struct sockaddr *e, socklen_t *f), \
	  (a, b, c, d, e, f))                                                 \
	X(recvmsg, "recvmsg", ssize_t, -1, (int a, struct msghdr *b, int c),  \
	  (a, b, c))                                                          \
	X(recvmmsg, "recvmmsg", int, -1,                                      \
	  (int a, struct mmsghdr *b, unsigned c, int d, struct timespec *e),  \
	  (a, b, c, d, e))                                                    \
	X(read, "read", ssize_t, -1, (int a, void *b, size_t c), (a, b, c))   \
	X(readv, "readv", ssize_t, -1, (int a, const struct iovec *b, int c), \
	  (a, b, c))                                                          \
	X(preadv2, "preadv2", ssize_t, -1,                                    \
	  (int a, const struct iovec *b, int c, off_t d, int e), (a, b, c, d, e)) \
	X(preadv64v2, "preadv64v2", ssize_t, -1,                              \
	  (int a, const struct iovec *b, int c, off64_t d, int e), (a, b, c, d, e)) \
	X(pwritev2, "pwritev2", ssize_t, -1,                                  \
	  (int a, const struct iovec *b, int c, off_t d, int e), (a, b, c, d, e)) \
	X(pwritev64v2, "pwritev64v2", ssize_t, -1,                            \
	  (int a, const struct iovec *b, int c, off64_t d, int e), (a, b, c, d, e)) \
	X(read_chk, "__read_chk", ssize_t, -1,                                \
	  (int a, void *b, size_t c, size_t d), (a, b, c, d))                 \
	X(recv_chk, "__recv_chk", ssize_t, -1,                                \
	  (int a, void *b, size_t c, size_t d, int e), (a, b, c, d, e))       \
	X(recvfrom_chk, "__recvfrom_chk", ssize_t, -1,                        \
	  (int a, void *b, size_t c, size_t d, int e, struct sockaddr *f,     \
	   socklen_t *g), (a, b, c, d, e, f, g))                              \
	X(aio_read, "aio_read", int, -1, (struct aiocb * a), (a))             \
	X(aio_read64, "aio_read64", int, -1, (struct aiocb64 * a), (a))       \
	X(aio_write, "aio_write", int, -1, (struct aiocb * a), (a))           \
	X(aio_write64, "aio_write64", int, -1, (struct aiocb64 * a), (a))     \
	X(lio_listio, "lio_listio", int, -1,                                  \
	  (int a, struct aiocb *const *b, int c, struct sigevent *d),         \
	  (a, b, c, d))                                                       \
	X(lio_listio64, "lio_listio64", int, -1,                              \
	  (int a, struct aiocb64 *const *b, int c, struct sigevent *d),       \
	  (a, b, c, d))                                                       \
	X(sendfile, "sendfile", ssize_t, -1,                                  \
	  (int a, int b, off_t *c, size_t d), (a, b, c, d))                   \
	X(sendfile64, "sendfile64", ssize_t, -1,                              \
	  (int a, int b, off_t *c, size_t d), (a, b, c, d))                   \
	X(splice, "splice", ssize_t, -1,                                      \
	  (int a, loff_t *b, int c, loff_t *d, size_t e, unsigned f),         \
	  (a, b, c, d, e, f))                                                 \
	X(close, "close", int, -1, (int a), (a))                              \
	X(close_range, "close_range", int, -1,                                \
	  (unsigned a, unsigned b, int c), (a, b, c))                         \
	X(fclose, "fclose", int, EOF, (FILE * a), (a))                        \
	X(fflush, "fflush", int, EOF, (FILE * a), (a))                        \
	X(fflush_unlocked, "fflush_unlocked", int, EOF, (FILE * a), (a))      \
	X(fwrite, "fwrite", size_t, 0,                                        \
	  (const void *a, size_t b, size_t c, FILE *d), (a, b, c, d))         \
	X(fwrite_unlocked, "fwrite_unlocked", size_t, 0,                      \
	  (const void *a, size_t b, size_t c, FILE *d), (a, b, c, d))         \
	X(fputs, "fputs", int, EOF, (const char *a, FILE *b), (a, b))         \
	X(fputs_unlocked, "fputs_unlocked", int, EOF,                         \
	  (const char *a, FILE *b), (a, b))                                   \
	X(puts, "puts", int, EOF, (const char *a), (a))                       \
	X(fputc, "fputc", int, EOF, (int a, FILE *b), (a, b))                 \
	X(putc, "putc", int, EOF, (int a, FILE *b), (a, b))                   \
	X(fputc_unlocked, "fputc_unlocked", int, EOF, (int a, FILE *b), (a, b)) \
	X(putc_unlocked, "putc_unlocked", int, EOF, (int a, FILE *b), (a, b)) \
	X(putchar, "putchar", int, EOF, (int a), (a))                         \
	X(putchar_unlocked, "putchar_unlocked", int, EOF, (int a), (a))       \
	X(overflow, "__overflow", int, EOF, (FILE * a, int b), (a, b))        \
	X(vfprintf, "vfprintf", int, -1,                                      \
	  (FILE * a, const char *b, va_list c), (a, b, c))                    \
	X(vprintf, "vprintf", int, -1, (const char *a, va_list b), (a, b))    \
	X(vfprintf_chk, "__vfprintf_chk", int, -1,                            \
	  (FILE * a, int b, const char *c, va_list d), (a, b, c, d))          \
	X(vprintf_chk, "__vprintf_chk", int, -1,                              \
	  (int a, const char *b, va_list c), (a, b, c))                       \
	X(vsnprintf, "vsnprintf", int, -1,                                    \
	  (char *a, size_t b, const char *c, va_list d), (a, b, c, d))        \
	X(vsnprintf_chk, "__vsnprintf_chk", int, -1,                          \
	  (char *a, size_t b, int c, size_t d, const char *e, va_list f),     \
	  (a, b, c, d, e, f))                                                 \
	X(dup, "dup", int, -1, (int a), (a))                                  \
	X(dup2, "dup2", int, -1, (int a, int b), (a, b))                      \
	X(dup3, "dup3", int, -1, (int a, int b, int c), (a, b, c))            \
	X(getsockopt, "getsockopt", int, -1,                                  \
	  (int a, int b, int c, void *d, socklen_t *e), (a, b, c, d, e))      \
	X(getaddrinfo, "getaddrinfo", int, EAI_SYSTEM,                        \
	  (const char *a, const char *b, const struct addrinfo *c,            \
	   struct addrinfo **d), (a, b, c, d))                                \
	X(creat, "creat", int, -1, (const char *a, mode_t b), (a, b))         \
	X(creat64, "creat64", int, -1, (const char *a, mode_t b), (a, b))     \
	X(open_2, "__open_2", int, -1, (const char *a, int b), (a, b))        \
	X(open64_2, "__open64_2", int, -1, (const char *a, int b), (a, b))    \
	X(openat_2, "__openat_2", int, -1, (int a, const char *b, int c),     \
	  (a, b, c))                                                          \
	X(openat64_2, "__openat64_2", int, -1, (int a, const char *b, int c), \
	  (a, b, c))                                                          \
	X(socket, "socket", int, -1, (int a, int b, int c), (a, b, c))        \
	X(socketpair, "socketpair", int, -1, (int a, int b, int c, int *d),   \
	  (a, b, c, d))                                                       \
	X(accept, "accept", int, -1,                                          \
	  (int a, struct sockaddr *b, socklen_t *c), (a, b, c))               \
	X(accept4, "accept4", int, -1,                                        \
	  (int a, struct sockaddr *b, socklen_t *c, int d), (a, b, c, d))     \
	X(pipe, "pipe", int, -1, (int *a), (a))                               \
	X(pipe2, "pipe2", int, -1, (int *a, int b), (a, b))                   \
	X(eventfd, "eventfd", int, -1, (unsigned a, int b), (a, b))           \
	X(timerfd_create, "timerfd_create", int, -1, (int a, int b), (a, b))  \
	X(signalfd, "signalfd", int, -1, (int a, const sigset_t *b, int c),   \
	  (a, b, c))                                                          \
	X(epoll_create, "epoll_create", int, -1, (int a), (a))                \
	X(epoll_create1, "epoll_create1", int, -1, (int a), (a))              \
	X(memfd_create, "memfd_create", int, -1, (const char *a, unsigned b), \
	  (a, b))                                                             \
	X(inotify_init, "inotify_init", int, -1, (void), ())                  \
	X(inotify_init1, "inotify_init1", int, -1, (int a), (a))              \
	X(mkstemp, "mkstemp", int, -1, (char *a), (a))                        \
	X(mkstemp64, "mkstemp64", int, -1, (char *a), (a))                    \
	X(mkostemp, "mkostemp", int, -1, (char *a, int b), (a, b))            \
	X(mkostemp64, "mkostemp64", int, -1, (char *a, int b), (a, b))        \
	X(mkstemps, "mkstemps", int, -1, (char *a, int b), (a, b))            \
	X(mkstemps64, "mkstemps64", int, -1, (char *a, int b), (a, b))        \
	X(mkostemps, "mkostemps", int, -1, (char *a, int b, int c), (a, b, c)) \
	X(mkostemps64, "mkostemps64", int, -1, (char *a, int b, int c),       \
	  (a, b, c))                                                          \
	X(shm_open, "shm_open", int, -1, (const char *a, int b, mode_t c),    \
	  (a, b, c))                                                          \
	X(posix_openpt, "posix_openpt", int, -1, (int a), (a))                \
	X(getpt, "getpt", int, -1, (void), ())                                \
	X(tmpfile, "tmpfile", FILE *, NULL, (void), ())                       \
	X(tmpfile64, "tmpfile64", FILE *, NULL, (void), ())                   \
	X(pidfd_open, "pidfd_open", int, -1, (pid_t a, unsigned b), (a, b))   \
	X(pidfd_getfd, "pidfd_getfd", int, -1, (int a, int b, unsigned c),    \
	  (a, b, c))                                                          \
	X(fopen, "fopen", FILE *, NULL, (const char *a, const char *b), (a, b)) \
	X(fopen64, "fopen64", FILE *, NULL, (const char *a, const char *b),   \
	  (a, b))                                                             \
	X(freopen, "freopen", FILE *, NULL,                                   \
	  (const char *a, const char *b, FILE *c), (a, b, c))                 \
	X(freopen64, "freopen64", FILE *, NULL,                               \
	  (const char *a, const char *b, FILE *c), (a, b, c))                 \
	X(sigaction, "sigaction", int, -1,                                    \
	  (int a, const struct sigaction *b, struct sigaction *c), (a, b, c)) \
	X(signal, "signal", sighandler_t, SIG_ERR, (int a, sighandler_t b),   \
	  (a, b))                                                             \
	X(bsd_signal, "bsd_signal", sighandler_t, SIG_ERR,                    \
	  (int a, sighandler_t b), (a, b))                                    \
	X(sysv_signal, "sysv_signal", sighandler_t, SIG_ERR,                  \
	  (int a, sighandler_t b), (a, b))                                    \
	X(sigset, "sigset", sighandler_t, SIG_ERR, (int a, sighandler_t b),   \
	  (a, b))

/* Variadic ones: their lazy resolvers are written out in ttft_wrap.c. */
#define SHIM_VARIADIC(X)                                                      \
	X(open, "open", int, (const char *, int, ...))                        \
	X(open64, "open64", int, (const char *, int, ...))                    \
	X(openat, "openat", int, (int, const char *, int, ...))               \
	X(openat64, "openat64", int, (int, const char *, int, ...))           \
	X(fcntl, "fcntl", int, (int, int, ...))                               \
	X(fcntl64, "fcntl64", int, (int, int, ...))                           \
	X(syscall, "syscall", long, (long, ...))

struct shim_libc {
#define SHIM_MEMBER(m, sym, ret, err, params, args) ret(*m) params;
	SHIM_FIXED(SHIM_MEMBER)
#undef SHIM_MEMBER
#define SHIM_VMEMBER(m, sym, ret, params) ret(*m) params;
	SHIM_VARIADIC(SHIM_VMEMBER)
#undef SHIM_VMEMBER
	void (*closefrom)(int);   /* returns nothing: resolved by hand */
};

extern TTFT_HIDDEN struct shim_libc shim_libc;
/* &stdout, found with dlsym like the functions (the shim imports no stdio
 * symbol); NULL until the constructor. */
extern TTFT_HIDDEN FILE **shim_stdout;

/* The real function m (relaxed: a lazy resolver may store it concurrently,
 * always the same value). */
#define LIBC(m) __atomic_load_n(&shim_libc.m, __ATOMIC_RELAXED)

TTFT_HIDDEN void *shim_resolve(const char *name);

/* The shim's own dlopen/dlsym/dlvsym/dlclose calls go between
 * shim_dlq_begin and shim_dlq_end: the host's pending dlerror() is set
 * aside and put back, what the shim's calls left is taken, and errno is
 * as it was at shim_dlq_begin (ttft_dlquiet.c). Pairs nest. shim_dlq_init finds where glibc keeps it,
 * with no dynamic-linker call (the constructor's first step). */
struct shim_dlq {
	void **slot; /* NULL: not known here, nothing set aside */
	void *saved;
	int e; /* errno at shim_dlq_begin */
};
TTFT_HIDDEN void shim_dlq_init(void);
TTFT_HIDDEN void shim_dlq_begin(struct shim_dlq *q);
TTFT_HIDDEN void shim_dlq_end(struct shim_dlq *q);

/* The real function behind *slot, resolved (shim_resolve) on its first
 * use, for the wrappers outside ttft_wrap.c's table. */
static inline void *shim_real(void *slot, const char *name)
{
	void **p = slot;
	/* Relaxed: every thread stores the same value. */
	void *f = __atomic_load_n(p, __ATOMIC_RELAXED);
	if (__builtin_expect(!f, 0)) {
		f = shim_resolve(name);
		__atomic_store_n(p, f, __ATOMIC_RELAXED);
	}
	return f;
}
TTFT_HIDDEN void shim_resolve_all(void);

/* The slot fd is traced on, 0 if none. Acquire: pairs with the release
 * store that publishes a slot, so its state is initialised before use. */
static inline unsigned shim_slot(int fd)
{
	if (__builtin_expect((unsigned)fd >= TTFT_MAX_FD, 0))
		return 0;
	return __atomic_load_n(&shim_fdmap[fd], __ATOMIC_ACQUIRE);
}

static inline int shim_is_traced(int fd)
{
	return shim_slot(fd) != 0;
}

/* fd's connection (this process's view), or NULL when fd is not traced. */
static inline struct shim_conn *shim_conn_of(int fd)
{
	unsigned slot = shim_slot(fd);
	return slot ? &shim_conns[slot] : NULL;
}

/* Which connection fd named as a call on it began: its slot, and the
 * slot's t_connect (no two connections of one slot share it: an inherited
 * one's 0 is never followed by another, a connect's time never repeats). A
 * call that blocks can return after another thread closed fd and the number
 * went to a new connection: what it read or sent was the old socket's, and
 * the new connection must not be handed it (shim_on_*: dropped). Slot 0's
 * t_connect is 0: no branch. Relaxed: the slot may be taken over
 * meanwhile; the compare after the call is what decides. */
struct shim_held {
	unsigned slot;
	int64_t t;
};

static inline struct shim_held shim_hold_slot(unsigned slot)
{
	return (struct shim_held){
		slot, __atomic_load_n(&shim_conns[slot].t_connect, __ATOMIC_RELAXED)};
}

static inline struct shim_held shim_hold(int fd)
{
	return shim_hold_slot(shim_slot(fd));
}

/* fd still names the connection h held (and one is traced). */
static inline int shim_still(int fd, struct shim_held h)
{
	unsigned slot = shim_slot(fd);
	if (__builtin_expect(slot != h.slot || !slot, 0))
		return 0;
	int64_t t = __atomic_load_n(&shim_conns[slot].t_connect, __ATOMIC_RELAXED);
	return t == h.t;
}

/* Nonzero when the shim records anything in this process. */
extern TTFT_HIDDEN int shim_on;
/* One above the highest fd ever traced: bounds close_range's scan. */
extern TTFT_HIDDEN unsigned shim_fd_hi;

TTFT_HIDDEN int64_t shim_now(void);
/* The constructor's: finds the vDSO's clock for shim_now (ttft_now.c). */
TTFT_HIDDEN void shim_clock_init(void);

/* Logic behind the wrappers; all preserve errno. The fd arguments of the
 * on_* functions are traced fds (a concurrent close makes them no-ops).
 * A call that blocks can return after another thread closed fd and the
 * number went to a new connection: what it read or sent was the old
 * socket's. Receiving: h is what fd named when the call began
 * (shim_hold), the bytes go to that connection only. Sending: t0, when
 * the call began; a connection that began connecting after it is not
 * handed the bytes. */
TTFT_HIDDEN int shim_wants(int fd, const struct sockaddr *sa, socklen_t len);

/* Whether a call that returned r (errno e) read the memory it was handed
 * (a msghdr, an address): the kernel fails EBADF or ENOTSOCK before
 * reading, EFAULT where it cannot, EINVAL where a length is bad; any
 * other outcome comes after its copy. The host's pointers are its own to
 * get wrong: the shim reads one only after the kernel has. */
static inline int shim_call_read_args(long r, int e)
{
	return r >= 0 ||
	       (e != EFAULT && e != EBADF && e != ENOTSOCK && e != EINVAL);
}

/* The same for an address of len bytes: connect and sendto copy all of
 * it when 0 < len <= sizeof(struct sockaddr_storage) (EINVAL else, read
 * or not); sendmsg's len clipped to that first. Shorter than an IPv4
 * address, it is nothing the shim traces. */
static inline int shim_addr_was_read(long r, int e, socklen_t len)
{
	return len >= sizeof(struct sockaddr_in) &&
	       len <= sizeof(struct sockaddr_storage) &&
	       shim_call_read_args(r, e);
}
/* t and forks (shim_forks_now()) taken when the call began */
TTFT_HIDDEN uint32_t shim_forks_now(void);
TTFT_HIDDEN void shim_connect_begin(int fd, const struct sockaddr *sa,
				    int64_t t, uint32_t forks);
TTFT_HIDDEN void shim_connect_end(int fd, int ret, int err, int64_t t);
TTFT_HIDDEN int shim_pending(int fd);
TTFT_HIDDEN void shim_established(int fd, int64_t t);
TTFT_HIDDEN void shim_connect_failed(int fd, int soerr, int64_t t);
TTFT_HIDDEN void shim_connect_end_unknown(int fd, int64_t t);
/* The kernel says fd's TCP connection is established (errno kept). */
TTFT_HIDDEN int shim_tcp_established(int fd);
TTFT_HIDDEN void shim_on_sent(int fd, const struct iovec *iov, int iovcnt,
			      ssize_t ret, int err, int64_t t0, int64_t t1);
/* The same for one buffer (send, sendto, write). */
TTFT_HIDDEN void shim_on_sent1(int fd, const void *buf, size_t len,
			       ssize_t ret, int err, int64_t t0, int64_t t1);
/* Bytes sent that the shim cannot see (sendfile, splice). */
TTFT_HIDDEN void shim_on_sent_unseen(int fd, ssize_t ret, int err, int64_t t0,
				     int64_t t1);
TTFT_HIDDEN void shim_on_recv(int fd, struct shim_held h,
			      const struct iovec *iov, int iovcnt, ssize_t ret,
			      int err, int flags, int64_t t1);
/* The same for one buffer (recv, recvfrom, read and their _chk), which
 * keeps errno itself: the call's errno
 * is read only where the shim may change it (not on the path of a token
 * event read alone), and restored there. */
TTFT_HIDDEN void shim_on_recv1(int fd, struct shim_held h, void *buf,
			       size_t len, ssize_t ret, int flags, int64_t t1);
/* Bytes received that the shim could not see. */
TTFT_HIDDEN void shim_on_recv_unseen(int fd, int64_t t1);
/* fd, traced, was submitted to POSIX AIO for how (TTFT_AIO_*): its
 * connection's I/O there is unseen (a TTFT_EV_AIO record). errno kept. */
TTFT_HIDDEN void shim_aio(int fd, int how);

/* fd lifetime. shim_closing: fd is being closed now (a CLOSE record when it
 * was the connection's last fd). shim_stale: the number was handed out
 * again, so whatever the table says about it is old (no record). shim_dup:
 * newfd now refers to oldfd's connection (or to nothing). None of them
 * touch the table in a vfork child, which shares the parent's memory.
 * replaced: newfd was open and dup2/dup3 closed it (else it was free). */
TTFT_HIDDEN void shim_closing(int fd, int64_t t);
TTFT_HIDDEN void shim_stale(int fd);
TTFT_HIDDEN void shim_dup(int oldfd, int newfd, int replaced, int64_t t);
/* A newly handed-out fd number: drop stale state (inline fast check). */
static inline void shim_fresh(int fd)
{
	if (__builtin_expect(shim_slot(fd) != 0, 0))
		shim_stale(fd);
}

/* Token times kept (struct shim_batch) written now: every connection's
 * (mine_only 0: the exit, an exec) or this thread's (1: a fork). */
TTFT_HIDDEN void shim_batches_write(int mine_only);

TTFT_HIDDEN void shim_dns(int end, const char *host, int ret, int64_t t);

/* Connections inherited across exec (ttft_inherit.c): at start, each
 * connected TCP socket the filter wants is adopted (a CONNECT_BEGIN with
 * TTFT_F_INHERITED, its socket inode in b). shim_sock_ino: fd's inode, 0
 * when unknown. */
TTFT_HIDDEN void shim_inherit_scan(void);
TTFT_HIDDEN void shim_adopt(int fd, const struct sockaddr *peer, int64_t ino,
			    int64_t t);
TTFT_HIDDEN int64_t shim_sock_ino(int fd);

/* For the TLS taps (ttft_ssl.c). shim_stderr_ours: whether fd 2 may be
 * written to (during the constructor, or while it names the file it named
 * when the constructor ended). */
TTFT_HIDDEN int shim_tracing(void);
TTFT_HIDDEN int shim_stderr_ours(void);
TTFT_HIDDEN void shim_put(uint16_t kind, uint16_t flags, int64_t t, int fd,
			  int err, uint64_t conn, int64_t a, int64_t b,
			  uint32_t seq, const char *text, size_t tlen);
/* Plaintext a TLS library handed over for the connection on fd. */
TTFT_HIDDEN void shim_plain_sent(int fd, const void *p, size_t n, int64_t t0,
				 int64_t t1);
/* n plaintext bytes the library sent for fd that cannot be read (GnuTLS's
 * retry with NULL, 0): counted, never guessed. */
TTFT_HIDDEN void shim_plain_unseen(int fd, size_t n, int64_t t0, int64_t t1);
TTFT_HIDDEN void shim_plain_recv(int fd, const void *p, size_t n, int64_t t1);
/* peer: 1 when the caller knows the peer ended the stream (TLS
 * close_notify), else the kernel is asked. */
TTFT_HIDDEN void shim_plain_eof(int fd, int64_t t1, int peer);
/* The first bytes sent on fd (n of them, up to TTFT_TLS_HELLO) start a TLS
 * record: mark fd as TLS and tap the TLS library object that wrote it. */
#define TTFT_TLS_HELLO 43
TTFT_HIDDEN void shim_tls_hello(int fd, const uint8_t *p, size_t n, int64_t t);

/* The SIGBUS guard (ttft_sigbus.c): a log truncated under us must not kill
 * the host. shim_log_fault() is the log's side of it. */
TTFT_HIDDEN void shim_sigbus_install(void);
TTFT_HIDDEN int shim_log_fault(const void *addr);
extern TTFT_HIDDEN int shim_sigbus_on;
TTFT_HIDDEN int shim_sigbus_sigaction(int sig, const struct sigaction *act,
				      struct sigaction *old);
TTFT_HIDDEN sighandler_t shim_sigbus_signal(int sig, sighandler_t h,
					    int flags);

#endif
