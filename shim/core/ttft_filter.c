/* ttft_filter.c — see ttft_filter.h. */
#include "ttft_filter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

/* The prefix of an IPv4-mapped IPv6 address, ::ffff:a.b.c.d */
static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

static int parse_item(const char *s, size_t n, struct ttft_addr_filters *fs, int k)
{
	char buf[80];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(&fs->f[k], 0, sizeof fs->f[k]);
	char *host = buf, *port = NULL;
	if (strncmp(buf, "port:", 5) == 0) {
		host = NULL;
		port = buf + 5;
	} else if (strncmp(buf, "host:", 5) == 0) {
		host = buf + 5;
	} else if (buf[0] == '[') {
		char *e = strchr(buf, ']');
		if (!e)
			return -1;
		*e = 0;
		host = buf + 1;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -1;
	} else {
		char *colon = strrchr(buf, ':');
		if (colon && strchr(buf, ':') == colon) {
			*colon = 0;
			port = colon + 1;
		}
	}
	if (port) {
		char *end;
		long p = strtol(port, &end, 10);
		if (*end || p <= 0 || p > 65535)
			return -1;
		fs->f[k].port = (uint16_t)p;
	}
	if (host && *host) {
		if (strcmp(host, "localhost") == 0)
			host = "127.0.0.1";
		if (inet_pton(AF_INET, host, fs->f[k].addr) == 1) {
			fs->f[k].family = AF_INET;
		} else if (inet_pton(AF_INET6, host, fs->f[k].addr) == 1) {
			fs->f[k].family = AF_INET6;
			if (memcmp(fs->f[k].addr, v4mapped, 12) == 0) {
				memmove(fs->f[k].addr, fs->f[k].addr + 12, 4);
				fs->f[k].family = AF_INET;
			}
		} else {
			return -1;
		}
	}
	return 0;
}

int ttft_addr_filters_parse(struct ttft_addr_filters *fs, const char *spec)
{
	fs->n = 0;
	const char *p = spec;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n) {
			if (fs->n == TTFT_MAX_ADDR_FILTERS)
				return -1;
			if (parse_item(p, n, fs, fs->n) != 0)
				return -1;
			/* "localhost" means both loopbacks. */
			if ((strncmp(p, "localhost", 9) == 0 ||
			     strncmp(p, "host:localhost", 14) == 0) &&
			    fs->n + 1 < TTFT_MAX_ADDR_FILTERS) {
				fs->f[fs->n + 1] = fs->f[fs->n];
				fs->f[fs->n + 1].family = AF_INET6;
				memset(fs->f[fs->n + 1].addr, 0, 16);
				fs->f[fs->n + 1].addr[15] = 1;
				fs->n++;
			}
			fs->n++;
		}
		p += n + (e ? 1 : 0);
		if (!e)
			break;
	}
	return 0;
}

int ttft_addr_filters_match(const struct ttft_addr_filters *fs, const struct sockaddr *sa)
{
	if (fs->n == 0)
		return 1;
	uint16_t port;
	const uint8_t *a;
	int fam = sa->sa_family;
	if (fam == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		port = ntohs(s4->sin_port);
		a = (const uint8_t *)&s4->sin_addr;
	} else {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		port = ntohs(s6->sin6_port);
		a = s6->sin6_addr.s6_addr;
		/* ::ffff:a.b.c.d (a dual-stack socket reaching an IPv4 peer)
		 * is that IPv4 address */
		if (memcmp(a, v4mapped, 12) == 0) {
			fam = AF_INET;
			a += 12;
		}
	}
	for (int i = 0; i < fs->n; i++) {
		if (fs->f[i].port && fs->f[i].port != port)
			continue;
		if (fs->f[i].family && (fs->f[i].family != fam ||
					memcmp(fs->f[i].addr, a, fam == AF_INET ? 4 : 16)))
			continue;
		return 1;
	}
	return 0;
}
