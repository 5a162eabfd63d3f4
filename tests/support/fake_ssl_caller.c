/* fake_ssl_caller.c — a library linked against one "libssl", calling
 * SSL_read through its PLT as any OpenSSL user does; tls_two loads it
 * RTLD_LOCAL, as CPython loads its extension modules. Built against each
 * fake (fake_ssl.c), and with -DREAL_OPENSSL against the real libssl. */
#ifdef REAL_OPENSSL
#include <openssl/ssl.h>
#else
int SSL_read(void *ssl, void *buf, int num);
#endif
int caller_read(void);
int caller_read_tail(void);

int caller_read(void)
{
#ifdef REAL_OPENSSL
	/* An SSL in neither client nor server state: SSL_read fails, -1. */
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;
	char c;
	int r = ssl ? SSL_read(ssl, &c, 1) : -999;
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	return r;
#else
	/* volatile: the call is not the last thing done (no tail call), so
	 * its return address names this library */
	volatile int r = SSL_read(0, 0, 0);
	return r;
#endif
}

/* A tail call: the return address names whoever called this function. */
int caller_read_tail(void)
{
#ifdef REAL_OPENSSL
	return -999;
#else
	return SSL_read(0, 0, 0);
#endif
}
