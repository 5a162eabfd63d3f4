/* ttft_cli.c — see ttft_cli.h. */
#include "ttft_cli.h"
#include "ttft_version.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
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
	/* digits alone (a '-' where lo < 0): strtol alone also took " 3",
	 * "+3" and "08" (read as 8, where a reader may see octal) */
	const char *d = arg + (lo < 0 && *arg == '-');
	int plain = *d >= '0' && *d <= '9' && (d[0] != '0' || !d[1]) &&
		    strspn(d, "0123456789") == strlen(d);
	errno = 0;
	long v = plain ? strtol(arg, NULL, 10) : 0;
	if (!plain || errno || v < lo || v > hi) {
		snprintf(err, errlen, "bad value '%s' for --%s: want a whole number "
			 "from %ld to %ld, in digits alone (no sign, blank or leading 0)",
			 arg, flag, lo, hi);
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
 *   OUT_FD       one of this process's own descriptors (/dev/stdout,
 *                /dev/stderr, /dev/fd/N, /proc/self/fd/N, or a link to
 *                one): written to that descriptor, at its offset, as the
 *                shell that opened it set it (>> appends); *fd says which
 * A rename over a device or a FIFO would replace it with a regular file
 * (as root, /dev/null itself), and one over /dev/stdout's file would lose
 * what the command wrote there. */
enum out_kind { OUT_NEW, OUT_LINK, OUT_INPLACE, OUT_BAD, OUT_FD };

/* The descriptor a path names literally: /dev/stdout, /dev/stderr,
 * /dev/fd/N, /proc/self/fd/N; -1 for any other. */
static int fd_named(const char *p)
{
	if (!strcmp(p, "/dev/stdout"))
		return 1;
	if (!strcmp(p, "/dev/stderr"))
		return 2;
	const char *d = !strncmp(p, "/dev/fd/", 8)         ? p + 8
		      : !strncmp(p, "/proc/self/fd/", 14) ? p + 14
							  : NULL;
	if (!d || !*d)
		return -1;
	char *end;
	long n = strtol(d, &end, 10);
	return *end || n < 0 || n > 1 << 20 ? -1 : (int)n;
}

/* That, for the path or the link it is (one step: a link to /dev/stdout). */
static int own_fd(const char *path)
{
	int fd = fd_named(path);
	char t[PATH_MAX];
	ssize_t k;
	if (fd < 0 && (k = readlink(path, t, sizeof t - 1)) > 0) {
		t[k] = 0;
		fd = fd_named(t);
	}
	return fd >= 0 && fcntl(fd, F_GETFD) != -1 ? fd : -1;
}

/* A dangling link's target's directory, in buf ("" when not a link). */
static const char *link_target_dir(const char *path, char *buf, size_t n)
{
	char t[PATH_MAX], d[PATH_MAX];
	ssize_t k = readlink(path, t, sizeof t - 1);
	if (k <= 0)
		return "";
	t[k] = 0;
	if (t[0] == '/') {
		memcpy(d, t, (size_t)k + 1);
	} else {
		char pb[PATH_MAX];
		const char *pd = dir_of(path, pb, sizeof pb);
		size_t dl = strlen(pd);
		if (dl + 1 + (size_t)k >= sizeof d)
			return "";
		memcpy(d, pd, dl);
		d[dl] = '/';
		memcpy(d + dl + 1, t, (size_t)k + 1);
	}
	return dir_of(d, buf, n);
}

static int write_all_fd(int fd, const char *data, size_t len)
{
	for (size_t off = 0; off < len;) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)w;
	}
	return 0;
}

static enum out_kind out_kind(const char *path, char *real, size_t n, const char **why)
{
	struct stat st;
	snprintf(real, n, "%s", path);
	*why = NULL;
	if (!*path) {
		*why = "empty path";
		return OUT_BAD;
	}
	if (own_fd(path) >= 0)
		return OUT_FD;
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
	/* "--json -- CMD", "--json -q -- CMD": getopt took the end of the
	 * options, or the next option, for the FILE */
	int is_dir = !strcmp(flag, "log-dir");
	const char *what = is_dir ? "DIR" : "FILE ('-' for stdout)";
	if (!strcmp(path, "--")) {
		snprintf(err, errlen, "--%s takes a %s and was given '--', the end of "
			 "the options: name one before it (one named -- would be ./--)",
			 flag, what);
		return -1;
	}
	if (path[0] == '-' && path[1]) {
		snprintf(err, errlen, "--%s takes a %s and was given '%.64s', which looks "
			 "like an option: name the %s before it (one so named would be "
			 "./%.64s)", flag, what, path, is_dir ? "DIR" : "FILE", path);
		return -1;
	}
	if (!strcmp(path, "-")) {
		int fl = fcntl(STDOUT_FILENO, F_GETFL);
		if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
			snprintf(err, errlen, "cannot write --%s -: stdout is %s; name a "
				 "file, or give the program a stdout", flag,
				 fl < 0 ? "closed" : "not open for writing");
			return -1;
		}
		return 0;
	}
	char real[PATH_MAX];
	const char *why;
	enum out_kind k = out_kind(path, real, sizeof real, &why);
	if (k == OUT_BAD) {
		snprintf(err, errlen, "cannot write --%s '%s': %s", flag, path, why);
		return -1;
	}
	if (k == OUT_FD)
		return 0;
	char dbuf[PATH_MAX], probe[PATH_MAX + 64];
	const char *dir;
	if (k == OUT_INPLACE) {
		struct stat st;
		if (stat(path, &st) == 0) {
			if (access(path, W_OK) != 0) {
				snprintf(err, errlen, "cannot write --%s %s: %s", flag, path,
					 strerror(errno));
				return -1;
			}
			return 0;
		}
		/* a link to nothing yet: the file it names is made in its
		 * directory, which must take one */
		dir = link_target_dir(path, dbuf, sizeof dbuf);
		if (!*dir)
			return 0;
	} else {
		dir = dir_of(real, dbuf, sizeof dbuf);
	}
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

/* The temporary file ttft_write_atomic is filling, for a handler that
 * ends the program at once (ttft_cli_drop_tmp); g_tmp_on says g_tmp is
 * whole. */
static char g_tmp[PATH_MAX + 64];
static volatile sig_atomic_t g_tmp_on;

void ttft_cli_drop_tmp(void)
{
	if (g_tmp_on)
		unlink(g_tmp);
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
	if (k == OUT_FD) {
		if (write_all_fd(own_fd(path), data, len) != 0) {
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (k == OUT_INPLACE) {
		/* not blocking at the open: a FIFO nobody reads is an error
		 * now (ENXIO), not a wait that no signal ends */
		int fd = open(path, O_WRONLY | O_CREAT | O_NOCTTY | O_CLOEXEC | O_NONBLOCK, 0666);
		int rc = fd < 0 ? -1 : 0;
		if (fd < 0 && errno == ENXIO) {
			snprintf(err, errlen, "cannot write %s: no process reads that FIFO",
				 path);
			return -1;
		}
		struct stat st;
		if (rc == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
			rc = -1;
		/* a regular file made through a link to nothing: from its start */
		if (rc == 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		    ftruncate(fd, 0) != 0)
			rc = -1;
		if (rc == 0)
			rc = write_all_fd(fd, data, len);
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
	/* named for a handler only once the name is whole (the fence keeps
	 * the compiler from moving the copy past the flag) */
	memcpy(g_tmp, tmp, sizeof g_tmp);
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	g_tmp_on = 1;
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
	if (rc != 0)
		unlink(tmp);
	/* after the rename a handler's unlink finds no such name */
	g_tmp_on = 0;
	if (rc != 0)
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
	return rc;
}

void ttft_cli_catch_stop(void (*handler)(int))
{
	struct sigaction sa = {0};
	sa.sa_handler = handler;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaddset(&sa.sa_mask, SIGINT);
	sigaddset(&sa.sa_mask, SIGTERM);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int ttft_cli_thread(pthread_t *th, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the new thread's mask */
	int rc = pthread_create(th, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}
