/* ttft_filter.h — TTFT_FILTER: which connections the shim traces
 * ("port:8000,127.0.0.1:8000,[::1]:8000,host:H"). Parsed once (the shim's
 * constructor; ttft-run checks --filter with the same code before it runs
 * anything), matched on every connect. No allocation, no stdio, no locks. */
#ifndef TTFT_FILTER_H
#define TTFT_FILTER_H

#include <stdint.h>
#include <sys/socket.h>

#define TTFT_MAX_ADDR_FILTERS 8

struct ttft_addr_filters {
	struct {
		int family;       /* 0 = any address */
		uint8_t addr[16];
		uint16_t port;    /* host order; 0 = any port */
	} f[TTFT_MAX_ADDR_FILTERS];
	int n;                    /* 0: everything matches */
};

/* 0, or -1 when an item is not understood or there are more than
 * TTFT_MAX_ADDR_FILTERS of them. An empty spec (or only commas) is 0 items. */
int ttft_addr_filters_parse(struct ttft_addr_filters *fs, const char *spec);
/* Nonzero when sa (AF_INET or AF_INET6) passes. */
int ttft_addr_filters_match(const struct ttft_addr_filters *fs, const struct sockaddr *sa);

#endif
