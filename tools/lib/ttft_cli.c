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

/* What an output path is, and so how it is written:
 *   OUT_NEW      nothing there, or a regular file: a new file beside it,
 *                renamed over it (into *real, PATH itself)
 *   OUT_LINK     a symbolic link to a regular file: the same, beside the
 *                file it names (*real), so the link stays a link
 *   OUT_INPLACE  a character device, a FIFO, or a link to one (/dev/null,
 *                /dev/stdout, a named pipe), or a link to nothing yet:
 *                opened and written as it is, as a shell's > would
 *   OUT_BAD      a directory, a block device, a socket: *why says so
 * A rename over a device or a FIFO would replace it with a regular file
 * (as root, /dev/null itself). */
enum out_kind { OUT_NEW, OUT_LINK, OUT_INPLACE, OUT_BAD };

static enum out_kind out_kind(const char *path, char *real, size_t n, const char **why)
{
	struct stat st;
	snprintf(real, n, "%s", path);
	*why = NULL;
	if (!*path) {
		*why = "empty path";
		return OUT_BAD;
	}
	if (lstat(path, &st) != 0)
		return OUT_NEW;
	int link = S_ISLNK(st.st_mode);
	if (link && stat(path, &st) != 0)
		return OUT_INPLACE; /* a link to nothing yet: made through it */
	if (S_ISDIR(st.st_mode))
		*why = "it is a directory; name a file";
	else if (S_ISBLK(st.st_mode))
		*why = "it is a block device; name a file";
	else if (S_ISSOCK(st.st_mode))
		*why = "it is a socket; name a file";
	if (*why)
		return OUT_BAD;
	if (!S_ISREG(st.st_mode))
		return OUT_INPLACE;
	if (!link)
		return OUT_NEW;
	char buf[PATH_MAX];
	if (!realpath(path, buf) || strlen(buf) >= n)
		return OUT_INPLACE;
	snprintf(real, n, "%s", buf);
	return OUT_LINK;
}

int ttft_output_check(const char *flag, const char *path, char *err, size_t errlen)
{
	if (!strcmp(path, "-"))
		return 0;
	char real[PATH_MAX];
	const char *why;
	enum out_kind k = out_kind(path, real, sizeof real, &why);
	if (k == OUT_BAD) {
		snprintf(err, errlen, "cannot write --%s '%s': %s", flag, path, why);
		return -1;
	}
	if (k == OUT_INPLACE) {
		struct stat st;
		if (stat(path, &st) == 0 && access(path, W_OK) != 0) {
			snprintf(err, errlen, "cannot write --%s %s: %s", flag, path,
				 strerror(errno));
			return -1;
		}
		return 0; /* a link to nothing yet: its write will say */
	}
	char dbuf[PATH_MAX], probe[PATH_MAX + 64];
	const char *dir = dir_of(real, dbuf, sizeof dbuf);
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
	char real[PATH_MAX];
	const char *why;
	enum out_kind k = out_kind(path, real, sizeof real, &why);
	if (k == OUT_BAD) {
		snprintf(err, errlen, "cannot write %s: %s", path, why);
		return -1;
	}
	if (k == OUT_INPLACE) {
		int fd = open(path, O_WRONLY | O_CREAT | O_NOCTTY | O_CLOEXEC, 0666);
		int rc = fd < 0 ? -1 : 0;
		struct stat st;
		/* a regular file made through a link to nothing: from its start */
		if (rc == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    ftruncate(fd, 0) != 0)
			rc = -1;
		for (size_t off = 0; rc == 0 && off < len;) {
			ssize_t w = write(fd, data + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				if (w == 0)
					errno = EIO;
				rc = -1;
			} else {
				off += (size_t)w;
			}
		}
		int e = errno;
		if (fd >= 0 && close(fd) != 0 && rc == 0) {
			rc = -1;
			e = errno;
		}
		if (rc != 0)
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
		return rc;
	}
	path = real; /* a link's file: replaced beside itself, the link kept */
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
