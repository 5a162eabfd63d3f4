/* fastpath — N calls on an fd the shim does not trace, for counting the
 * instructions the shim adds to each (bench/fastpath.sh runs it under
 * callgrind with N and 2N calls, with and without the shim: the slopes'
 * difference is the cost per call, start-up cancels out).
 * usage: fastpath N CALL   (CALL: write read send recv close) */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000;
	const char *call = argc > 2 ? argv[2] : "write";
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 2;
	int dn = open("/dev/null", O_RDWR);
	char b[1] = {'x'};
	for (long i = 0; i < n; i++) {
		if (!strcmp(call, "write"))
			(void)!write(dn, b, 1);
		else if (!strcmp(call, "read"))
			(void)!read(dn, b, 1);
		else if (!strcmp(call, "send"))
			(void)!send(sv[0], b, 1, MSG_DONTWAIT), (void)!recv(sv[1], b, 1, 0);
		else if (!strcmp(call, "close"))
			close(-1);
	}
	return 0;
}
