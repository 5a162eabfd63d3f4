/* ttft_dlquiet.c — the shim's own dynamic-linker calls leave the host's
 * dlerror() as it was.
 *
 * glibc 2.34 and later keeps a thread's pending dlerror() in one pointer
 * of libc's thread-local storage (__libc_dlerror_result): every dlopen,
 * dlsym, dlvsym or dlclose first drops what it points to, and one that
 * fails leaves its own message there. The shim looks functions up on the
 * host's threads (the real functions, the TLS libraries' on a first TLS
 * call, __vsnprintf_chk on a first fortified print), so without this a
 * host that asks dlerror() after its own failed dlopen got NULL, or the
 * shim's message. Here that pointer is set aside before the shim's calls
 * and put back after them; what the shim's calls left is taken (dlerror()
 * frees it on its second call).
 *
 * The pointer is found without a dynamic-linker call, which would itself
 * drop a pending message: libc's symbol table through dl_iterate_phdr
 * (GNU hash), its address in this thread's TLS block, and from that its
 * offset from the thread pointer, the same in every thread (libc's TLS is
 * static TLS). Where it cannot be found (another libc, glibc before 2.34,
 * an architecture not listed) the calls run as before.
 *
 * Runs inside other people's processes: no locks of its own, no
 * allocation (the dynamic linker's calls it brackets do).
 */
#include "ttft_shim.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(__aarch64__)
#define DLQ_SUPPORTED 1
static inline char *thread_pointer(void)
{
	char *p;
#if defined(__x86_64__)
	__asm__("mov %%fs:0, %0" : "=r"(p)); /* the TCB's self pointer */
#else
	__asm__("mrs %0, tpidr_el0" : "=r"(p));
#endif
	return p;
}
#else
#define DLQ_SUPPORTED 0
#endif

/* 0: not looked for yet; 1: g_off known; -1: not available. */
static int g_state;
static intptr_t g_off;

struct find {
	uintptr_t fn;   /* an address inside libc (dlerror's) */
	void *slot;     /* this thread's __libc_dlerror_result */
};

static uint32_t gnu_hash(const char *s)
{
	uint32_t h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h;
}

static uintptr_t dyn_ptr(uintptr_t v, uintptr_t base)
{
	/* glibc relocates most of .dynamic in place; some ports keep it
	 * read-only, unrelocated */
	return v < base ? v + base : v;
}

static const ElfW(Sym) *gnu_lookup(const uint32_t *gh, const ElfW(Sym) *symtab,
				   const char *strtab, const char *name)
{
	uint32_t nbuckets = gh[0], symoffset = gh[1], bloom_size = gh[2];
	if (!nbuckets)
		return NULL;
	const ElfW(Addr) *bloom = (const ElfW(Addr) *)(const void *)&gh[4];
	const uint32_t *buckets = (const uint32_t *)(const void *)&bloom[bloom_size];
	const uint32_t *chain = &buckets[nbuckets];
	uint32_t h = gnu_hash(name);
	uint32_t i = buckets[h % nbuckets];
	if (i < symoffset)
		return NULL;
	for (;; i++) {
		uint32_t h2 = chain[i - symoffset];
		if ((h | 1) == (h2 | 1) &&
		    strcmp(strtab + symtab[i].st_name, name) == 0)
			return &symtab[i];
		if (h2 & 1)
			return NULL;
	}
}

static int find_slot(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	struct find *f = arg;
	const ElfW(Phdr) *dyn = NULL;
	int inside = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *p = &info->dlpi_phdr[i];
		uintptr_t at = info->dlpi_addr + p->p_vaddr;
		if (p->p_type == PT_LOAD && f->fn >= at && f->fn - at < p->p_memsz)
			inside = 1;
		else if (p->p_type == PT_DYNAMIC)
			dyn = p;
	}
	if (!inside)
		return 0;
	if (!dyn || !info->dlpi_tls_data)
		return 1; /* libc, but nothing to find in it */
	const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + dyn->p_vaddr);
	uintptr_t symtab = 0, strtab = 0, gh = 0;
	for (; d->d_tag != DT_NULL; d++) {
		if (d->d_tag == DT_SYMTAB)
			symtab = dyn_ptr(d->d_un.d_ptr, info->dlpi_addr);
		else if (d->d_tag == DT_STRTAB)
			strtab = dyn_ptr(d->d_un.d_ptr, info->dlpi_addr);
		else if (d->d_tag == DT_GNU_HASH)
			gh = dyn_ptr(d->d_un.d_ptr, info->dlpi_addr);
	}
	if (!symtab || !strtab || !gh)
		return 1;
	const ElfW(Sym) *s = gnu_lookup((const uint32_t *)gh,
					(const ElfW(Sym) *)symtab,
					(const char *)strtab,
					"__libc_dlerror_result");
	if (s && ELF64_ST_TYPE(s->st_info) == STT_TLS &&
	    s->st_shndx != SHN_UNDEF && s->st_size == sizeof(void *))
		f->slot = (char *)info->dlpi_tls_data + s->st_value;
	return 1;
}

/* This thread's __libc_dlerror_result, NULL where it is not known. */
static void **slot_here(void)
{
#if DLQ_SUPPORTED
	/* Acquire: pairs with the release below; g_off is set first. */
	int st = __atomic_load_n(&g_state, __ATOMIC_ACQUIRE);
	if (__builtin_expect(st == 0, 0)) {
		struct find f = {(uintptr_t)&dlerror, NULL};
		dl_iterate_phdr(find_slot, &f);
		st = f.slot ? 1 : -1;
		if (f.slot)
			__atomic_store_n(&g_off, (char *)f.slot - thread_pointer(),
					 __ATOMIC_RELAXED);
		/* Release: g_off is stored before the state says it is known
		 * (every thread finds the same offset). */
		__atomic_store_n(&g_state, st, __ATOMIC_RELEASE);
	}
	if (st < 0)
		return NULL;
	return (void **)(thread_pointer() +
			 __atomic_load_n(&g_off, __ATOMIC_RELAXED));
#else
	return NULL;
#endif
}

TTFT_HIDDEN void shim_dlq_init(void)
{
	(void)slot_here();
}

TTFT_HIDDEN void shim_dlq_begin(struct shim_dlq *q)
{
	q->e = errno;
	q->slot = slot_here();
	if (q->slot) {
		q->saved = *q->slot;
		*q->slot = NULL;
	}
}

TTFT_HIDDEN void shim_dlq_end(struct shim_dlq *q)
{
	if (q->slot) {
		/* What the shim's calls left: the first dlerror() formats it
		 * and marks it read, the second frees it. (A placeholder a
		 * recursive call can leave, with no message, dlerror() does
		 * not free: it is dropped, a few bytes.) */
		for (int i = 0; i < 2 && *q->slot; i++)
			(void)dlerror();
		*q->slot = q->saved;
	}
	errno = q->e;
}
