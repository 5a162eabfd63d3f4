/* ttft_ssl.c — taps OpenSSL 3 and GnuTLS, so that a TLS connection's
 * plaintext feeds the same HTTP/SSE sniffer as a plaintext socket, while the
 * socket calls underneath keep giving the wire's timing.
 *
 * Which socket an SSL object writes to: its client random. The first bytes
 * a TLS client sends are its ClientHello; when they leave a traced socket
 * (shim_on_sent → shim_tls_hello) the 32-byte random in them is compared
 * with that of the object the thread is inside (OpenSSL's socket BIO,
 * curl's own BIO, GnuTLS push functions all send inside SSL_connect,
 * SSL_do_handshake or gnutls_handshake), then with those of objects whose
 * handshake call just returned without sending (a memory BIO: asyncio and
 * aiohttp send the ClientHello themselves, perhaps from another thread). A
 * match is proof. SSL_get_fd would answer only for the socket BIO.
 *
 * Which library: a process may hold two copies of OpenSSL 3 (a Python
 * wheel bundling its own beside the system's), whose callers all bind to
 * these wrappers. Each call goes to the copy its caller would have reached
 * without the shim: _dl_find_object on the return address (lock-free) names
 * the caller, whose own dependencies are searched once and cached. The
 * exported names carry the libraries' symbol versions (ttft_ssl.map): only
 * OPENSSL_3.0.0 and GNUTLS_3_4 references bind here; an OpenSSL 1.1 caller
 * goes straight to its library, untapped. Nothing is loaded: a library is
 * looked up only among those the process already has.
 *
 * Hot path: no locks, no allocation, no stdio; errno as the library left it.
 */
#include "ttft_shim.h"
#include "ttft_log.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <string.h>
#include <unistd.h>

/* ---- the libraries ---- */

enum { OS_READ, OS_READ_EX, OS_PEEK, OS_PEEK_EX, OS_WRITE, OS_WRITE_EX,
       OS_DO_HANDSHAKE, OS_CONNECT, OS_SHUTDOWN, OS_FREE, OS_CLIENT_RANDOM,
       OS_INIT_FINISHED, OS_IS_SERVER, OS_GET_SHUTDOWN, OS__N };
static const char *const os_syms[OS__N] = {
	"SSL_read", "SSL_read_ex", "SSL_peek", "SSL_peek_ex", "SSL_write",
	"SSL_write_ex", "SSL_do_handshake", "SSL_connect", "SSL_shutdown",
	"SSL_free", "SSL_get_client_random", "SSL_is_init_finished",
	"SSL_is_server", "SSL_get_shutdown",
};
#define OSSL_RECEIVED_SHUTDOWN 2 /* SSL_RECEIVED_SHUTDOWN */

enum { GT_RECV, GT_SEND, GT_HANDSHAKE, GT_UNCORK, GT_DEINIT, GT_RANDOM,
       GT__N };
static const char *const gt_syms[GT__N] = {
	"gnutls_record_recv", "gnutls_record_send", "gnutls_handshake",
	"gnutls_record_uncork", "gnutls_deinit", "gnutls_session_get_random",
};
#define GT_E_AGAIN (-28)       /* GNUTLS_E_AGAIN */
#define GT_E_INTERRUPTED (-52) /* GNUTLS_E_INTERRUPTED */
struct gt_datum {
	unsigned char *data;
	unsigned int size;
};

struct tls_lib {
	const char *name;       /* the TLS record's text */
	const char *version;    /* the symbol version the wrappers carry */
	const char *const *syms;
	int nsyms;
};
static const struct tls_lib g_openssl = {"openssl", "OPENSSL_3.0.0", os_syms,
					 OS__N};
static const struct tls_lib g_gnutls = {"gnutls", "GNUTLS_3_4", gt_syms, GT__N};

/* One loaded copy of a library: its functions. */
struct tls_impl {
	const struct tls_lib *lib; /* set last (release): the entry is ready */
	void *fn[OS__N];
};
_Static_assert((int)OS__N >= (int)GT__N, "fn holds either library");

#define MAX_IMPLS 8
static struct tls_impl g_impls[MAX_IMPLS];
static unsigned g_nimpls;

/* Caller object (its mapping start; 1 = code in no object) → copy. */
#define MAX_CALLERS 64
static struct caller {
	uintptr_t start;
	const struct tls_lib *lib;
	unsigned long loads;         /* 0: as linked, for good; else the
	                                objects loaded and unloaded + 1 when
	                                it was the only copy */
	const struct tls_impl *impl; /* set last (release) */
} g_callers[MAX_CALLERS];

/* stderr without stdio (the host's FILE buffers stay untouched). */
static void tell(const char *a, const char *b)
{
	if (!shim_stderr_ours())
		return; /* fd 2 is no longer the program's stderr */
	const char *parts[] = {"ttftshim: ", a, b, "\n"};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
		(void)!LIBC(write)(2, parts[i], strlen(parts[i]));
}

static int in_shim(const void *p)
{
	static uintptr_t start, end;
	if (!__atomic_load_n(&start, __ATOMIC_ACQUIRE)) {
		struct dl_find_object self;
		if (_dl_find_object((void *)&in_shim, &self) != 0)
			return 0;
		__atomic_store_n(&end, (uintptr_t)self.dlfo_map_end,
				 __ATOMIC_RELAXED);
		/* Release: end is set before start says the range is known. */
		__atomic_store_n(&start, (uintptr_t)self.dlfo_map_start,
				 __ATOMIC_RELEASE);
	}
	return (uintptr_t)p >= start &&
	       (uintptr_t)p < __atomic_load_n(&end, __ATOMIC_RELAXED);
}

/* lib's first function in handle h, never the shim's own wrapper. */
static void *lookup(void *h, const struct tls_lib *lib)
{
	void *f = h ? dlvsym(h, lib->syms[0], lib->version) : NULL;
	return f && !in_shim(f) ? f : NULL;
}

/* What the caller's reference binds to without the shim, as the dynamic
 * linker looks: the global scope (after the shim: RTLD_NEXT), then the
 * caller's own dependencies (an object loaded RTLD_LOCAL, as CPython loads
 * _ssl). */
static void *as_linked(const struct tls_lib *lib, struct link_map *caller)
{
	void *f = lookup(RTLD_NEXT, lib);
	if (f || !caller || !caller->l_name[0])
		return f;
	void *h = dlopen(caller->l_name, RTLD_LAZY | RTLD_NOLOAD);
	f = lookup(h, lib);
	if (h)
		dlclose(h);
	return f;
}

struct objects {
	const char *names[512];
	int n, more;
	unsigned long loads;
};

static int list_object(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct objects *o = arg;
	o->loads = info->dlpi_adds + info->dlpi_subs;
	if (o->n < (int)(sizeof o->names / sizeof o->names[0]))
		o->names[o->n++] = info->dlpi_name;
	else
		o->more = 1;
	return 0;
}

static int count_loads(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	*(unsigned long *)arg = info->dlpi_adds + info->dlpi_subs;
	return 1; /* the counters are the same in every entry */
}

static unsigned long loads_now(void)
{
	unsigned long n = 0;
	dl_iterate_phdr(count_loads, &n);
	return n;
}

/* The only copy of lib loaded, for a call whose caller does not say (a
 * tail call from another library, a pointer from dlsym, JIT code); NULL
 * when there is none, or several (*several set). */
static void *only_copy(const struct tls_lib *lib, unsigned long *loads,
		       int *several)
{
	struct objects o = {{0}, 0, 0, 0};
	dl_iterate_phdr(list_object, &o);
	*loads = o.loads;
	*several = o.more;
	void *found = NULL;
	/* dlopen runs outside dl_iterate_phdr, which holds a loader lock. */
	for (int i = 0; i < o.n && !*several; i++) {
		if (!o.names[i][0])
			continue; /* the program: searched as the global scope */
		void *h = dlopen(o.names[i], RTLD_LAZY | RTLD_NOLOAD);
		void *f = lookup(h, lib);
		if (h)
			dlclose(h);
		if (f && found && f != found)
			*several = 1;
		else if (f)
			found = f;
	}
	return *several ? NULL : found;
}

static const struct tls_impl *load_impl(const struct tls_lib *lib, void *f)
{
	for (unsigned i = 0; i < MAX_IMPLS; i++) {
		const struct tls_impl *im = &g_impls[i];
		if (__atomic_load_n(&im->lib, __ATOMIC_ACQUIRE) == lib &&
		    im->fn[0] == f)
			return im;
	}
	/* The library stays loaded for good: the pointers below must never
	 * dangle, whatever the host unloads later. */
	struct dl_find_object fo;
	void *pin = NULL;
	if (_dl_find_object(f, &fo) == 0 && fo.dlfo_link_map &&
	    fo.dlfo_link_map->l_name[0])
		pin = dlopen(fo.dlfo_link_map->l_name, RTLD_LAZY | RTLD_NOLOAD);
	if (!pin)
		return NULL;
	unsigned i = __atomic_fetch_add(&g_nimpls, 1, __ATOMIC_RELAXED);
	if (i >= MAX_IMPLS)
		return NULL;
	struct tls_impl *im = &g_impls[i];
	for (int k = 0; k < lib->nsyms; k++) {
		void *g = dlvsym(pin, lib->syms[k], lib->version);
		im->fn[k] = g && !in_shim(g) ? g : NULL;
	}
	im->fn[0] = f;
	/* Release: fn[] is complete before anyone matches lib. */
	__atomic_store_n(&im->lib, lib, __ATOMIC_RELEASE);
	return im;
}

static size_t caller_slot(uintptr_t start, const struct tls_lib *lib)
{
	uintptr_t x = (start >> 12) ^ (uintptr_t)lib;
	return (size_t)((x * 0x9E3779B97F4A7C15ull) >> 58) % MAX_CALLERS;
}

static const struct tls_impl *resolve_slow(const struct tls_lib *lib,
					   uintptr_t start,
					   struct link_map *caller)
{
	static int told;
	unsigned long loads = 0;
	int several = 0;
	struct shim_dlq q;
	shim_dlq_begin(&q);
	void *f = as_linked(lib, caller);
	if (!f && (f = only_copy(lib, &loads, &several)))
		loads++; /* never 0: 0 marks an answer that stays true */
	const struct tls_impl *im = f ? load_impl(lib, f) : NULL;
	shim_dlq_end(&q);
	if (!im) {
		if (!__atomic_exchange_n(&told, 1, __ATOMIC_RELAXED))
			tell(lib->name,
			     several ? ": a call came through a library that does "
				       "not link it (a tail call?) while several "
				       "copies are loaded: the shim cannot tell "
				       "which is meant; such calls fail with ENOSYS"
			     : f ? ": too many copies of the library in this "
				   "process; calls fail with ENOSYS"
			     : ": the library was not found among the loaded "
			       "objects; calls fail with ENOSYS");
		return NULL;
	}
	size_t h = caller_slot(start, lib);
	for (size_t k = 0; k < 8; k++) {
		struct caller *c = &g_callers[(h + k) % MAX_CALLERS];
		uintptr_t zero = 0;
		if (__atomic_compare_exchange_n(&c->start, &zero, start, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			c->lib = lib;
			c->loads = loads;
			/* Release: lib and loads are set before impl is seen. */
			__atomic_store_n(&c->impl, im, __ATOMIC_RELEASE);
			break;
		}
	}
	return im; /* cache full: resolved again next time */
}

/* The copy of lib that the code at ret reaches. Fast path: one lock-free
 * _dl_find_object and a cache probe. An answer found as the dynamic linker
 * would is kept; "the only copy loaded" holds until an object is loaded or
 * unloaded (the loader's counters say when). A caller unloaded and another
 * loaded at the same address inherits its entry: both would have to call
 * TLS functions, from different copies. */
static const struct tls_impl *resolve(const struct tls_lib *lib, void *ret)
{
	struct dl_find_object fo;
	uintptr_t start = 1;
	struct link_map *caller = NULL;
	if (_dl_find_object(ret, &fo) == 0) {
		start = (uintptr_t)fo.dlfo_map_start;
		caller = fo.dlfo_link_map;
	}
	size_t h = caller_slot(start, lib);
	for (size_t k = 0; k < 8; k++) {
		struct caller *c = &g_callers[(h + k) % MAX_CALLERS];
		uintptr_t s = __atomic_load_n(&c->start, __ATOMIC_ACQUIRE);
		if (!s)
			break;
		if (s != start)
			continue;
		/* Acquire: pairs with the release in resolve_slow. */
		const struct tls_impl *im =
			__atomic_load_n(&c->impl, __ATOMIC_ACQUIRE);
		if (!im || c->lib != lib)
			continue;
		if (!c->loads || c->loads == loads_now() + 1)
			return im;
		/* Objects came or went: ask again, in this slot. */
		__atomic_store_n(&c->impl, NULL, __ATOMIC_RELAXED);
		__atomic_store_n(&c->start, 0, __ATOMIC_RELEASE);
		break;
	}
	return resolve_slow(lib, start, caller);
}

/* In an exported wrapper: IM = the copy its caller reaches, REAL = that
 * copy's function K of type T (NULL: not found, the call fails ENOSYS). */
#define REAL(lib, k, T, im, real)                                            \
	const struct tls_impl *im =                                          \
		resolve(&(lib), __builtin_return_address(0));                \
	__typeof__(T) real = im ? (T)im->fn[k] : NULL

/* ---- which object is tapped for which socket ---- */

#define MAX_TAPS 4096 /* a power of two */
#define PROBES 32
#define GONE ((void *)1) /* freed: probing goes on past it */
#define BUSY ((void *)2) /* being written */
static struct tap {
	void *obj;         /* NULL: never used; GONE; BUSY; else the object */
	int fd;
	uint64_t conn;
	int64_t t_again;   /* a write on obj said "again": that call's start
	                      (0: none); only obj's thread touches it */
} g_taps[MAX_TAPS];

static size_t tap_hash(const void *obj)
{
	uint64_t x = (uintptr_t)obj >> 4;
	return (size_t)((x * 0x9E3779B97F4A7C15ull) >> 52) & (MAX_TAPS - 1);
}

/* An object is used by one thread at a time (both libraries' rule), so
 * only one thread binds a given object at once; the atomics keep other
 * objects' slots apart, and a slot is BUSY while its fields change. */
static struct tap *tap_find(const void *obj)
{
	size_t h = tap_hash(obj);
	for (size_t k = 0; k < PROBES; k++) {
		struct tap *t = &g_taps[(h + k) & (MAX_TAPS - 1)];
		/* Acquire: pairs with the release in tap_bind, so fd and conn
		 * are the ones written for obj. */
		void *o = __atomic_load_n(&t->obj, __ATOMIC_ACQUIRE);
		if (o == obj)
			return t;
		if (!o)
			return NULL;
	}
	return NULL;
}

static int tap_bind(void *obj, int fd, uint64_t conn)
{
	struct tap *t = tap_find(obj);
	void *o = obj;
	if (t && !__atomic_compare_exchange_n(&t->obj, &o, BUSY, 0,
					      __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		t = NULL; /* forgotten meanwhile: take a fresh slot */
	size_t h = tap_hash(obj);
	for (size_t k = 0; !t && k < PROBES; k++) {
		struct tap *u = &g_taps[(h + k) & (MAX_TAPS - 1)];
		o = __atomic_load_n(&u->obj, __ATOMIC_RELAXED);
		if ((o == NULL || o == GONE) &&
		    __atomic_compare_exchange_n(&u->obj, &o, BUSY, 0,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			t = u;
	}
	if (!t)
		return 0; /* table crowded: stays encrypted, not visible */
	t->fd = fd;
	t->conn = conn;
	t->t_again = 0;
	/* Release: fd and conn are written before obj names the slot. */
	__atomic_store_n(&t->obj, obj, __ATOMIC_RELEASE);
	return 1;
}

/* The socket obj is tapped for, or -1. A socket closed and its number
 * reused since then carries another connection id. */
static int tap_fd(const void *obj)
{
	const struct tap *t = tap_find(obj);
	const struct shim_conn *s = t ? shim_conn_of(t->fd) : NULL;
	if (!s)
		return -1;
	return s->conn == t->conn && s->tls == SHIM_TLS_TAPPED ? t->fd : -1;
}

/* ---- handshakes that returned before their ClientHello left ---- */

#define MAX_RECENT 16
static struct recent {
	void *obj;        /* set last (release); NULL = empty */
	const struct tls_impl *impl;
	uint8_t rnd[32];
} g_recent[MAX_RECENT];
static unsigned g_recent_next;

static void recent_put(void *obj, const struct tls_impl *impl,
		       const uint8_t rnd[32])
{
	for (int i = 0; i < MAX_RECENT; i++)
		if (__atomic_load_n(&g_recent[i].obj, __ATOMIC_RELAXED) == obj)
			return;
	struct recent *r = &g_recent[__atomic_fetch_add(
		&g_recent_next, 1, __ATOMIC_RELAXED) % MAX_RECENT];
	__atomic_store_n(&r->obj, NULL, __ATOMIC_RELEASE);
	r->impl = impl;
	memcpy(r->rnd, rnd, 32);
	/* Release: impl and rnd are complete before obj is seen. */
	__atomic_store_n(&r->obj, obj, __ATOMIC_RELEASE);
}

static void *recent_take(const uint8_t *rnd, const struct tls_impl **impl)
{
	for (int i = 0; i < MAX_RECENT; i++) {
		struct recent *r = &g_recent[i];
		/* Acquire: pairs with the release in recent_put. */
		void *o = __atomic_load_n(&r->obj, __ATOMIC_ACQUIRE);
		if (!o || memcmp(r->rnd, rnd, 32) != 0)
			continue;
		const struct tls_impl *im = r->impl;
		/* The entry must not have been rewritten while compared; the
		 * claim (o → NULL) also keeps a second sender from taking it. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_compare_exchange_n(&r->obj, &o, NULL, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_RELAXED)) {
			*impl = im;
			return o;
		}
	}
	return NULL;
}

static void recent_drop(void *obj)
{
	for (int i = 0; i < MAX_RECENT; i++) {
		void *o = obj;
		__atomic_compare_exchange_n(&g_recent[i].obj, &o, NULL, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
}

/* ---- calls in progress ---- */

struct tls_call {
	void *obj;
	const struct tls_impl *impl;
	int fd;                  /* the socket obj is tapped for, or -1 */
	struct shim_held held;   /* what fd named as the call began: its
	                            plaintext is that connection's only */
	int mute;                /* calls on obj inside this one re-send bytes
	                            already seen: not fed */
	struct tls_call *up;     /* the call this one runs inside */
};
static __thread struct tls_call *t_call __attribute__((tls_model("initial-exec")));

/* obj's client random while it is a client in its handshake: 1, else 0. */
static int client_random(const struct tls_impl *im, void *obj, uint8_t out[32])
{
	if (im->lib == &g_openssl) {
		int (*finished)(void *) = im->fn[OS_INIT_FINISHED];
		int (*server)(void *) = im->fn[OS_IS_SERVER];
		size_t (*get)(void *, unsigned char *, size_t) =
			im->fn[OS_CLIENT_RANDOM];
		if (!finished || !server || !get || finished(obj) ||
		    server(obj) || get(obj, out, 32) != 32)
			return 0;
	} else {
		void (*get)(void *, struct gt_datum *, struct gt_datum *) =
			im->fn[GT_RANDOM];
		struct gt_datum c = {0}, s = {0};
		if (!get)
			return 0;
		get(obj, &c, &s);
		if (c.size != 32 || !c.data)
			return 0;
		memcpy(out, c.data, 32);
	}
	for (int i = 0; i < 32; i++)
		if (out[i])
			return 1;
	return 0; /* no ClientHello made yet */
}

/* 1: the call is watched (c is pushed; call tls_leave); 0: pass it through
 * (tracing off, or inside a mute call on the same object). Calls may nest
 * on one object: Node writes its request from a callback that runs inside
 * SSL_read or SSL_do_handshake. */
static int tls_enter(struct tls_call *c, void *obj, const struct tls_impl *im,
		     int mute)
{
	if (!obj || !shim_tracing())
		return 0;
	for (const struct tls_call *u = t_call; u; u = u->up)
		if (u->obj == obj && u->mute)
			return 0;
	c->obj = obj;
	c->impl = im;
	c->fd = tap_fd(obj);
	c->held = shim_hold(c->fd);
	c->mute = mute;
	c->up = t_call;
	t_call = c;
	return 1;
}

/* hello: the call may have made a ClientHello it did not send itself. */
static void tls_leave(struct tls_call *c, int hello)
{
	t_call = c->up;
	uint8_t rnd[32];
	if (c->fd < 0 && hello && client_random(c->impl, c->obj, rnd))
		recent_put(c->obj, c->impl, rnd);
}

TTFT_HIDDEN void shim_tls_hello(int fd, const uint8_t *p, size_t n, int64_t t)
{
	struct shim_conn *s = shim_conn_of(fd);
	if (!s)
		return;
	s->tls = SHIM_TLS_DARK;
	void *obj = NULL;
	const struct tls_impl *im = NULL;
	struct tls_call *in = NULL; /* the watched call that sent it */
	/* Record header (5), handshake type 1 = ClientHello and length (4),
	 * version (2), then the client random. */
	if (n >= TTFT_TLS_HELLO && p[5] == 1) {
		const uint8_t *rnd = p + 11;
		uint8_t mine[32];
		for (in = t_call; in; in = in->up)
			if (client_random(in->impl, in->obj, mine) &&
			    memcmp(mine, rnd, 32) == 0)
				break;
		if (in) {
			obj = in->obj;
			im = in->impl;
		} else {
			obj = recent_take(rnd, &im);
		}
	}
	if (obj && tap_bind(obj, fd, s->conn)) {
		s->tls = SHIM_TLS_TAPPED;
		/* the calls under way on obj feed their own plaintext too */
		for (struct tls_call *c = t_call; in && c; c = c->up)
			if (c->obj == obj) {
				c->fd = fd;
				c->held = shim_hold(fd);
			}
	} else {
		obj = NULL;
	}
	const char *lib = im ? im->lib->name : "";
	shim_put(TTFT_EV_TLS, 0, t, fd, 0, s->conn, obj != NULL, 0, 0,
		 obj ? lib : NULL, obj ? strlen(lib) : 0);
}

/* A watched read returned: n plaintext bytes, or none; eof when the peer
 * ended the stream. */
static void read_done(struct tls_call *c, int hello, const void *buf,
		      size_t n, int eof, int64_t t1)
{
	tls_leave(c, hello);
	/* fd closed and its number reused while the call ran: the bytes
	 * were the old connection's */
	const struct shim_conn *s = shim_conn_of(c->fd);
	if (!s || !shim_still(c->fd, c->held))
		return;
	if (n)
		shim_plain_recv(c->fd, buf, n, t1);
	else if (eof || s->wire_eof)
		shim_plain_eof(c->fd, t1, eof); /* eof: its close_notify */
}

/* A watched write returned: n plaintext bytes taken, or none; again when
 * it said "again" (OpenSSL's WANT_WRITE, GnuTLS's E_AGAIN). Such a write is
 * called again with the same data, which began leaving in the first call:
 * the bytes are stamped from its start. GnuTLS's retry may pass NULL, 0
 * (the data is in the library already): those bytes are counted, unseen. */
static void write_done(struct tls_call *c, int hello, const void *buf,
		       size_t n, int again, int64_t t0, int64_t t1)
{
	tls_leave(c, hello);
	if (c->fd < 0 || !shim_is_traced(c->fd))
		return;
	struct tap *t = tap_find(c->obj);
	if (again) {
		if (t && !t->t_again)
			t->t_again = t0;
		return;
	}
	if (!n)
		return;
	if (t && t->t_again) {
		t0 = t->t_again;
		t->t_again = 0;
	}
	if (buf)
		shim_plain_sent(c->fd, buf, n, t0, t1);
	else
		shim_plain_unseen(c->fd, n, t0, t1);
}

/* An OpenSSL write that failed once its handshake was done: said "again"
 * (a fatal error leaves no later write to finish it). */
static int ossl_again(const struct tls_call *c, int r)
{
	int (*finished)(void *) = c->impl->fn[OS_INIT_FINISHED];
	return r <= 0 && c->fd >= 0 && finished && finished(c->obj);
}

static int ossl_peer_closed(const struct tls_call *c)
{
	int (*get)(void *) = c->impl->fn[OS_GET_SHUTDOWN];
	return get && (get(c->obj) & OSSL_RECEIVED_SHUTDOWN);
}

/* No call here touches errno. */
static void forget(void *obj)
{
	struct tap *t = obj ? tap_find(obj) : NULL;
	if (t)
		__atomic_store_n(&t->obj, GONE, __ATOMIC_RELEASE);
	if (obj)
		recent_drop(obj);
}

static int missing(void)
{
	errno = ENOSYS;
	return -1;
}

/* ---- OpenSSL 3 ---- */

TTFT_PUBLIC int SSL_read(void *ssl, void *buf, int num)
{
	REAL(g_openssl, OS_READ, int (*)(void *, void *, int), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, ssl, im, 0))
		return real(ssl, buf, num);
	int r = real(ssl, buf, num);
	int e = errno;
	int64_t t1 = shim_now();
	read_done(&c, 1, buf, r > 0 ? (size_t)r : 0,
		  r <= 0 && c.fd >= 0 && ossl_peer_closed(&c), t1);
	errno = e;
	return r;
}

TTFT_PUBLIC int SSL_read_ex(void *ssl, void *buf, size_t num, size_t *got)
{
	REAL(g_openssl, OS_READ_EX, int (*)(void *, void *, size_t, size_t *), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, ssl, im, 0))
		return real(ssl, buf, num, got);
	int r = real(ssl, buf, num, got);
	int e = errno;
	int64_t t1 = shim_now();
	size_t n = r == 1 && got ? *got : 0;
	read_done(&c, 1, buf, n, !n && c.fd >= 0 && ossl_peer_closed(&c), t1);
	errno = e;
	return r;
}

/* Peeked bytes will be read again: only the handshake matters here. */
TTFT_PUBLIC int SSL_peek(void *ssl, void *buf, int num)
{
	REAL(g_openssl, OS_PEEK, int (*)(void *, void *, int), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, ssl, im, 0))
		return real(ssl, buf, num);
	int r = real(ssl, buf, num);
	int e = errno;
	tls_leave(&c, 1);
	errno = e;
	return r;
}

TTFT_PUBLIC int SSL_peek_ex(void *ssl, void *buf, size_t num, size_t *got)
{
	REAL(g_openssl, OS_PEEK_EX, int (*)(void *, void *, size_t, size_t *), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, ssl, im, 0))
		return real(ssl, buf, num, got);
	int r = real(ssl, buf, num, got);
	int e = errno;
	tls_leave(&c, 1);
	errno = e;
	return r;
}

TTFT_PUBLIC int SSL_write(void *ssl, const void *buf, int num)
{
	REAL(g_openssl, OS_WRITE, int (*)(void *, const void *, int), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, ssl, im, 0))
		return real(ssl, buf, num);
	int64_t t0 = shim_now();
	int r = real(ssl, buf, num);
	int e = errno;
	write_done(&c, 1, buf, r > 0 ? (size_t)r : 0, ossl_again(&c, r), t0,
		   shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC int SSL_write_ex(void *ssl, const void *buf, size_t num,
			     size_t *put)
{
	REAL(g_openssl, OS_WRITE_EX, int (*)(void *, const void *, size_t, size_t *), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, ssl, im, 0))
		return real(ssl, buf, num, put);
	int64_t t0 = shim_now();
	int r = real(ssl, buf, num, put);
	int e = errno;
	write_done(&c, 1, buf, r == 1 && put ? *put : 0, ossl_again(&c, r), t0,
		   shim_now());
	errno = e;
	return r;
}

/* The handshake calls: where a socket BIO or curl's BIO sends the
 * ClientHello (bound inside), or a memory BIO receives it (remembered). */
static int handshake(int (*real)(void *), void *obj,
		     const struct tls_impl *im, int gnutls)
{
	struct tls_call c;
	if (!tls_enter(&c, obj, im, 0))
		return real(obj);
	int r = real(obj);
	int e = errno;
	tls_leave(&c, !gnutls || r < 0);
	errno = e;
	return r;
}

TTFT_PUBLIC int SSL_do_handshake(void *ssl)
{
	REAL(g_openssl, OS_DO_HANDSHAKE, int (*)(void *), im, real);
	return real ? handshake(real, ssl, im, 0) : missing();
}

TTFT_PUBLIC int SSL_connect(void *ssl)
{
	REAL(g_openssl, OS_CONNECT, int (*)(void *), im, real);
	return real ? handshake(real, ssl, im, 0) : missing();
}

/* The session's end: nothing after the close_notify is this connection's
 * HTTP (SSL_clear may reuse the object for another connection, whose own
 * ClientHello binds it afresh). */
TTFT_PUBLIC int SSL_shutdown(void *ssl)
{
	REAL(g_openssl, OS_SHUTDOWN, int (*)(void *), im, real);
	if (!real)
		return missing();
	forget(ssl);
	return real(ssl);
}

TTFT_PUBLIC void SSL_free(void *ssl)
{
	REAL(g_openssl, OS_FREE, void (*)(void *), im, real);
	if (!real)
		return;
	forget(ssl); /* before: the address is free for reuse once freed */
	real(ssl);
}

/* ---- GnuTLS ---- */

TTFT_PUBLIC ssize_t gnutls_record_recv(void *sess, void *buf, size_t n)
{
	REAL(g_gnutls, GT_RECV, ssize_t (*)(void *, void *, size_t), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, sess, im, 0))
		return real(sess, buf, n);
	ssize_t r = real(sess, buf, n);
	int e = errno;
	read_done(&c, 0, buf, r > 0 ? (size_t)r : 0, r == 0 && n, shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC ssize_t gnutls_record_send(void *sess, const void *buf, size_t n)
{
	REAL(g_gnutls, GT_SEND, ssize_t (*)(void *, const void *, size_t), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, sess, im, 0))
		return real(sess, buf, n);
	int64_t t0 = shim_now();
	ssize_t r = real(sess, buf, n);
	int e = errno;
	write_done(&c, 0, buf, r > 0 ? (size_t)r : 0,
		   r == GT_E_AGAIN || r == GT_E_INTERRUPTED, t0, shim_now());
	errno = e;
	return r;
}

TTFT_PUBLIC int gnutls_handshake(void *sess)
{
	REAL(g_gnutls, GT_HANDSHAKE, int (*)(void *), im, real);
	return real ? handshake(real, sess, im, 1) : missing();
}

/* Corked records leave here through gnutls_record_send, already seen when
 * the application handed them over: watched, so that call passes through. */
TTFT_PUBLIC ssize_t gnutls_record_uncork(void *sess, unsigned flags)
{
	REAL(g_gnutls, GT_UNCORK, ssize_t (*)(void *, unsigned), im, real);
	if (!real)
		return missing();
	struct tls_call c;
	if (!tls_enter(&c, sess, im, 1))
		return real(sess, flags);
	ssize_t r = real(sess, flags);
	int e = errno;
	tls_leave(&c, 0);
	errno = e;
	return r;
}

TTFT_PUBLIC void gnutls_deinit(void *sess)
{
	REAL(g_gnutls, GT_DEINIT, void (*)(void *), im, real);
	if (!real)
		return;
	forget(sess);
	real(sess);
}
