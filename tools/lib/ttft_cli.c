/* ttft_cli.c — see ttft_cli.h. */
#include "ttft_cli.h"
#include "ttft_version.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *ttft_version(void)
{
	return "ttftshim " TTFT_VERSION;
}

int ttft_cli_long(const char *flag, const char *arg, long lo, long hi, long *out,
		  char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (!*arg || *end || errno || v < lo || v > hi) {
		snprintf(err, errlen, "bad value '%s' for --%s: want a whole number "
			 "from %ld to %ld", arg, flag, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

int ttft_cli_double(const char *flag, const char *arg, double lo, int lo_open, double hi,
		    double *out, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (!*arg || *end || errno || isnan(v) || v < lo || (lo_open && v == lo) || v > hi) {
		snprintf(err, errlen, "bad value '%s' for --%s: want a number %s %g "
			 "and at most %g", arg, flag, lo_open ? "above" : "of at least", lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* The directory part of path ("." when none), in buf. */
static const char *dir_of(const char *path, char *buf, size_t n)
{
	snprintf(buf, n, "%s", path);
	return dirname(buf);
}

int ttft_output_check(const char *flag, const char *path, char *err, size_t errlen)
{
	if (!strcmp(path, "-"))
		return 0;
	struct stat st;
	if (!*path || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		snprintf(err, errlen, "cannot write --%s '%s': %s", flag, path,
			 *path ? "it is a directory; name a file" : "empty path");
		return -1;
	}
	char dbuf[PATH_MAX], probe[PATH_MAX + 64];
	const char *dir = dir_of(path, dbuf, sizeof dbuf);
	snprintf(probe, sizeof probe, "%s/.ttft-check.%ld.XXXXXX", dir, (long)getpid());
	int fd = mkstemp(probe);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot write --%s %s: cannot create files in %s (%s)%s",
			 flag, path, dir, strerror(e),
			 e == ENOENT ? "; create the directory first" : "");
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}

int ttft_write_atomic(const char *path, const char *data, size_t len, char *err,
		      size_t errlen)
{
	if (!strcmp(path, "-")) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0) {
			snprintf(err, errlen, "cannot write to stdout: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	char dbuf[PATH_MAX], tmp[PATH_MAX + 64];
	const char *dir = dir_of(path, dbuf, sizeof dbuf);
	snprintf(tmp, sizeof tmp, "%s/.ttft-new.%ld.XXXXXX", dir, (long)getpid());
	int fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write %s: cannot create a file in %s (%s)", path,
			 dir, strerror(errno));
		return -1;
	}
	mode_t um = umask(0);
	umask(um);
	int rc = fchmod(fd, 0666 & ~um);
	for (size_t off = 0; rc == 0 && off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			rc = -1;
		else
			off += (size_t)w;
	}
	int e = errno;
	if (close(fd) != 0 && rc == 0) {
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
		e = errno;
	}
	if (rc != 0) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
	}
	return rc;
}
