/* ttft_url.h — the server URL the tools are given (--url, --metrics), read
 * one way everywhere: "http://host:port", "host:port/", ".../v1/" all name
 * the same server; the tools add /v1/completions, /metrics, /health. */
#ifndef TTFT_URL_H
#define TTFT_URL_H

#include <stddef.h>

struct ttft_url {
	char base[2048];   /* scheme://host[:port][/prefix]: no trailing '/',
	                      no trailing "/v1" */
	char host[256];    /* without IPv6 brackets */
	int port;          /* given, else 80 (http) or 443 (https) */
};

/* 0, or -1 with a message in err when url is not [http[s]://]HOST[:PORT][/…]. */
int ttft_url_parse(const char *url, struct ttft_url *u, char *err, size_t errlen);

#endif
