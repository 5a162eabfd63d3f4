/* fake_ssl_caller.c — a library linked against one "libssl", calling
 * SSL_read through its PLT as any OpenSSL user does; tls_two loads it
 * RTLD_LOCAL, as CPython loads its extension modules. Built against each
 * fake (fake_ssl.c), and with -DREAL_OPENSSL against the real libssl. */
int caller_read(void);

#ifdef REAL_OPENSSL
#include <openssl/ssl.h>

int caller_read(void)
{
	/* An SSL in neither client nor server state: SSL_read fails, -1. */
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	char c;
	int r = ssl ? SSL_read(ssl, &c, 1) : -999;
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return r;
}

#else
int SSL_read(void *ssl, void *buf, int num);

int caller_read(void)
{
	/* volatile: the call is not the last thing done (no tail call), so
	 * its return address names this library */
	volatile int r = SSL_read(0, 0, 0);
	return r;
}

/* caller_read_tail: a tail call, written out so that no compiler flag
 * (-O1, sanitizers) turns it into a call: SSL_read's return address then
 * names whoever called this function, in another object. */
#if defined(__x86_64__)
__asm__(".text\n.globl caller_read_tail\n.type caller_read_tail, @function\n"
	"caller_read_tail:\n\txor %edi, %edi\n\txor %esi, %esi\n"
	"\txor %edx, %edx\n\tjmp SSL_read@PLT\n");
#elif defined(__aarch64__)
__asm__(".text\n.globl caller_read_tail\n.type caller_read_tail, %function\n"
	"caller_read_tail:\n\tmov x0, xzr\n\tmov x1, xzr\n\tmov w2, wzr\n"
	"\tb SSL_read\n");
#else
#error "write caller_read_tail's tail jump for this architecture"
#endif
#endif
