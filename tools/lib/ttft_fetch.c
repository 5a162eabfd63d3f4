/* ttft_fetch.c — see ttft_fetch.h. */
#include "ttft_fetch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sink {
	char *b;
	size_t n, max;
};

static size_t take(char *p, size_t sz, size_t nm, void *ud)
{
	struct sink *s = ud;
	size_t n = sz * nm;
	if (s->n + n > s->max)
		return 0; /* larger than any page we expect: refuse */
	char *q = realloc(s->b, s->n + n + 1);
	if (!q)
		return 0;
	memcpy(q + s->n, p, n);
	s->n += n;
	q[s->n] = 0;
	s->b = q;
	return n;
}

/* curl's progress callback (at least about once a second, also while it
 * waits): non-zero gives up the transfer once the stop flag is set */
static int stopped(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt, (void)dn, (void)ut, (void)un;
	return *(const volatile sig_atomic_t *)ud != 0;
}

static CURLcode perform(const char *url, const struct curl_slist *headers, const char *post,
			double timeout_s, size_t max_body, char **body, long *status, char *err,
			size_t errlen, const volatile sig_atomic_t *stop)
{
	struct sink s = {NULL, 0, max_body};
	char cerr[CURL_ERROR_SIZE] = "";
	CURL *h = curl_easy_init();
	curl_easy_setopt(h, CURLOPT_URL, url);
	if (headers)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
	if (post)
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, post);
	if (stop) {
		curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, stopped);
		curl_easy_setopt(h, CURLOPT_XFERINFODATA, (void *)stop);
		curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}
	CURLcode rc = curl_easy_perform(h);
	*status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	if (rc != CURLE_OK && err)
		snprintf(err, errlen, "%s", cerr[0] ? cerr : curl_easy_strerror(rc));
	if (body)
		*body = s.b;
	else
		free(s.b);
	return rc;
}

CURLcode ttft_fetch(const char *url, const struct curl_slist *headers, double timeout_s,
		    size_t max_body, char **body, long *status, char *err, size_t errlen)
{
	return perform(url, headers, NULL, timeout_s, max_body, body, status, err, errlen, NULL);
}

CURLcode ttft_fetch_post(const char *url, const struct curl_slist *headers, const char *post,
			 double timeout_s, size_t max_body, char **body, long *status,
			 char *err, size_t errlen, const volatile sig_atomic_t *stop)
{
	return perform(url, headers, post, timeout_s, max_body, body, status, err, errlen, stop);
}
