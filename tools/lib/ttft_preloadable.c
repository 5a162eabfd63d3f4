/* ttft_preloadable.c — see ttft_preloadable.h. */
#include "ttft_preloadable.h"

#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The file execvp runs for cmd, as it finds it: through $PATH when cmd has
 * no '/'. 0, or -1 when there is none. */
static int find_program(const char *cmd, char *out, size_t len)
{
	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return 0;
	}
	const char *p = getenv("PATH");
	if (!p)
		p = "/bin:/usr/bin";
	while (*p) {
		size_t n = strcspn(p, ":");
		struct stat st;
		snprintf(out, len, "%.*s%s%s", (int)n, p, n ? "/" : "", cmd);
		if (access(out, X_OK) == 0 && stat(out, &st) == 0 && S_ISREG(st.st_mode))
			return 0;
		p += n + (p[n] == ':');
	}
	return -1;
}

/* Whether an ELF file (its first len bytes in buf) asks for a program
 * interpreter, the loader that reads LD_PRELOAD: 1, 0, or -1 when it is
 * not an ELF file this can read. */
static int has_interp(int fd, const unsigned char *buf, size_t len)
{
	if (len < sizeof(Elf64_Ehdr) || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return -1;
	int wide = buf[EI_CLASS] == ELFCLASS64;
	if (!wide && buf[EI_CLASS] != ELFCLASS32)
		return -1;
	uint64_t off;
	unsigned num, size;
	if (wide) {
		Elf64_Ehdr h;
		memcpy(&h, buf, sizeof h);
		off = h.e_phoff, num = h.e_phnum, size = h.e_phentsize;
	} else {
		Elf32_Ehdr h;
		memcpy(&h, buf, sizeof h);
		off = h.e_phoff, num = h.e_phnum, size = h.e_phentsize;
	}
	if (size < (wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		return -1;
	for (unsigned i = 0; i < num; i++) {
		unsigned char ph[sizeof(Elf64_Phdr)];
		if (pread(fd, ph, sizeof ph, (off_t)(off + (uint64_t)i * size)) <
		    (ssize_t)(wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
			return -1;
		uint32_t type;
		memcpy(&type, ph, sizeof type); /* p_type leads both layouts */
		if (type == PT_INTERP)
			return 1;
	}
	return 0;
}

void ttft_unpreloadable(const char *cmd, char *why, size_t len)
{
	char path[PATH_MAX];
	why[0] = 0;
	if (find_program(cmd, path, sizeof path) != 0)
		return;
	for (int depth = 0; depth < 2; depth++) {
		unsigned char buf[PATH_MAX + 2];
		struct stat st;
		/* not blocking at the open of a FIFO named as CMD */
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return;
		ssize_t n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
			  ? pread(fd, buf, sizeof buf - 1, 0) : -1;
		int interp = n > 0 ? has_interp(fd, buf, (size_t)n) : -1;
		close(fd);
		if (n <= 0)
			return;
		if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
		    ((st.st_mode & S_ISGID) && st.st_gid != getegid()) ||
		    (geteuid() != 0 && getxattr(path, "security.capability", NULL, 0) > 0)) {
			snprintf(why, len, "'%.200s' runs as someone else (setuid, setgid or "
				 "file capabilities): the loader drops LD_PRELOAD there, so "
				 "the shim does not see its requests", path);
			return;
		}
		if (interp == 0) {
			snprintf(why, len, "'%.200s' is statically linked: there is no loader "
				 "to preload the shim, so its own requests are not seen (the "
				 "dynamically linked programs it runs are)", path);
			return;
		}
		if (interp > 0 || n < 3 || buf[0] != '#' || buf[1] != '!')
			return;
		buf[n] = 0; /* "#!INTERP [ARG]": the interpreter's turn */
		char *s = (char *)buf + 2;
		s += strspn(s, " \t");
		snprintf(path, sizeof path, "%.*s", (int)strcspn(s, " \t\n"), s);
	}
}
