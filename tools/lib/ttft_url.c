/* ttft_url.c — see ttft_url.h. */
#include "ttft_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ttft_url_parse(const char *url, struct ttft_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof *u);
	const char *scheme = "http", *p = strstr(url, "://");
	size_t sl = 4;
	if (p) {
		scheme = url;
		sl = (size_t)(p - url);
		p += 3;
	} else {
		p = url;
	}
	const char *auth = p; /* host[:port] */
	int https = sl == 5 && !strncmp(scheme, "https", 5);
	if (!https && !(sl == 4 && !strncmp(scheme, "http", 4))) {
		snprintf(err, errlen, "'%s' is not an http:// URL", url);
		return -1;
	}
	u->port = https ? 443 : 80;
	const char *h = p, *he;
	if (*p == '[') {
		he = strchr(p, ']');
		if (!he) {
			snprintf(err, errlen, "'%s': unterminated [IPv6 address]", url);
			return -1;
		}
		h = p + 1;
		p = he + 1;
	} else {
		he = p + strcspn(p, ":/?#");
		p = he;
	}
	size_t hl = (size_t)(he - h);
	if (hl == 0 || hl >= sizeof u->host) {
		snprintf(err, errlen, "'%s' names no host (want http://HOST:PORT)", url);
		return -1;
	}
	memcpy(u->host, h, hl);
	if (*p == ':') {
		char *end;
		long port = strtol(p + 1, &end, 10);
		if (end == p + 1 || port <= 0 || port > 65535 || (*end && *end != '/')) {
			snprintf(err, errlen, "'%s': the port is not a number in 1-65535", url);
			return -1;
		}
		u->port = (int)port;
		p = end;
	}
	/* the path: kept as a prefix, less trailing slashes and one "/v1" */
	size_t pl = strlen(p);
	while (pl && p[pl - 1] == '/')
		pl--;
	if (pl >= 3 && !strncmp(p + pl - 3, "/v1", 3))
		pl -= 3;
	while (pl && p[pl - 1] == '/')
		pl--;
	int n = snprintf(u->base, sizeof u->base, "%.*s://%.*s%.*s", (int)sl, scheme,
			 (int)(p - auth), auth, (int)pl, p);
	if (n < 0 || (size_t)n >= sizeof u->base) {
		snprintf(err, errlen, "the URL '%.100s…' is too long", url);
		return -1;
	}
	return 0;
}
