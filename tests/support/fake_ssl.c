/* fake_ssl.c — a stand-in libssl for test_tls: its SSL_read answers
 * FAKE_SSL_READ, so the test can tell which copy of "OpenSSL" a call
 * reached. Built twice (Makefile): with OpenSSL 3's symbol version, and with
 * OpenSSL 1.1's, which the shim must leave alone. */
int SSL_read(void *ssl, void *buf, int num);

int SSL_read(void *ssl, void *buf, int num)
{
	(void)ssl, (void)buf, (void)num;
	return FAKE_SSL_READ;
}
