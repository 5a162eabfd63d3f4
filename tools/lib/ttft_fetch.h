/* ttft_fetch.h — one blocking HTTP GET (or POST) over libcurl, for the
 * tools' small side requests (/metrics, /v1/models, /health, /version,
 * /tokenize). */
#ifndef TTFT_FETCH_H
#define TTFT_FETCH_H

#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>

/* GET url with optional headers; keeps at most max_body bytes of the body
 * in *body (malloc'd, NUL-terminated; NULL if not wanted). Returns curl's
 * code; *status is the HTTP status (0 when there was no answer); err gets
 * curl's message on failure. */
CURLcode ttft_fetch(const char *url, const struct curl_slist *headers, double timeout_s,
		    size_t max_body, char **body, long *status, char *err, size_t errlen);

/* The same as a POST of the body post (the headers say its type). stop
 * (NULL: none): a flag a signal handler sets; the request gives up
 * within about a second of it (CURLE_ABORTED_BY_CALLBACK). */
CURLcode ttft_fetch_post(const char *url, const struct curl_slist *headers, const char *post,
			 double timeout_s, size_t max_body, char **body, long *status,
			 char *err, size_t errlen, const volatile sig_atomic_t *stop);

#endif
