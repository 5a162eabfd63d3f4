/* loopback.h — a TCP connection to oneself, for the host programs the e2e
 * suites run under the shim (a connected socket the shim traces, with no
 * server process). Header-only: those hosts are built alone, with plain
 * flags. */
#ifndef TTFT_LOOPBACK_H
#define TTFT_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

/* A client socket connected to a listener on 127.0.0.1 (an ephemeral
 * port), the listener in *l; -1 on failure. The connection waits in the
 * listener's queue until accepted. */
static inline int loopback_connect(int *l)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t n = sizeof a;
	*l = socket(AF_INET, SOCK_STREAM, 0);
	if (*l < 0 || bind(*l, (struct sockaddr *)&a, sizeof a) || listen(*l, 1) ||
	    getsockname(*l, (struct sockaddr *)&a, &n))
		return -1;
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof a))
		return -1;
	return c;
}

#endif
