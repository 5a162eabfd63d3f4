/* fortify_host — a fortified host (test_shim_stdio): stdout on a loopback
 * connection, then __printf_chk with %n in a writable format. glibc stops
 * the program (SIGABRT, "%n in writable segment detected"); it prints "not
 * stopped" on stderr if it was not. Built with plain flags, in the
 * sanitizer builds too: a sanitizer's own printf interceptors are no part
 * of what is tested, and they drop the check.
 */
#include "loopback.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int __printf_chk(int flag, const char *fmt, ...);

int main(void)
{
	int l, c = loopback_connect(&l);
	if (c < 0)
		return 2;
	fflush(stdout);
	if (dup2(c, 1) != 1)
		return 2;
	char fmt[64];
	int k = 0;
	strcpy(fmt, "GET /%n HTTP/1.1\r\n\r\n"); /* writable */
	__printf_chk(1, fmt, &k);
	fflush(stdout);
	fprintf(stderr, "not stopped: k=%d\n", k);
	return 0;
}
