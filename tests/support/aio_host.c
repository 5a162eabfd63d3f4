/* aio_host — a client whose socket I/O goes through POSIX AIO, which
 * glibc does in threads of its own with system calls the shim cannot see
 * (test_shim's posix_aio_rows_say_so). One streamed request to the
 * fixture server on 127.0.0.1:PORT, its answer read to its last chunk:
 *
 *   aio_host PORT write   the request by aio_write, the answer by read
 *   aio_host PORT read    the request by write, the answer by aio_read64
 *   aio_host PORT both    both by AIO (aio_write64, aio_read): nothing else
 *                         on the socket the shim could see
 *   aio_host PORT lio     the request by lio_listio(LIO_WAIT), the answer
 *                         by read
 *
 * Prints "aio failed F errno_changed E" (submissions that failed, and
 * that succeeded with errno not as it was before them) and "tokens K",
 * the token events read (-1: the answer did not end): the same with and
 * without the shim, whatever number of reads the answer took.
 */
#include <aio.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int g_failed, g_errno_changed;

/* A submission's return r, errno before it 1234. */
static int submitted(int r)
{
	if (r != 0)
		g_failed++;
	else if (errno != 1234)
		g_errno_changed++;
	return r;
}

static const char body[] = "{\"model\":\"m\",\"prompt\":\"hi\",\"max_tokens\":3,"
			   "\"stream\":true}";

/* Wait for cb's end; its result (aio_return). */
static ssize_t finish(struct aiocb *cb)
{
	const struct aiocb *l[1] = {cb};
	while (aio_error(cb) == EINPROGRESS)
		aio_suspend(l, 1, NULL);
	return aio_return(cb);
}

static ssize_t aio_one(int fd, void *buf, size_t n, int write)
{
	struct aiocb cb;
	memset(&cb, 0, sizeof cb);
	cb.aio_fildes = fd;
	cb.aio_buf = buf;
	cb.aio_nbytes = n;
	errno = 1234; /* kept by a submission that succeeds */
	int r = submitted(write ? aio_write(&cb) : aio_read(&cb));
	return r == 0 ? finish(&cb) : -1;
}

static ssize_t finish64(struct aiocb64 *cb)
{
	const struct aiocb64 *l[1] = {cb};
	while (aio_error64(cb) == EINPROGRESS)
		aio_suspend64(l, 1, NULL);
	return aio_return64(cb);
}

static ssize_t aio_one64(int fd, void *buf, size_t n, int write)
{
	struct aiocb64 cb;
	memset(&cb, 0, sizeof cb);
	cb.aio_fildes = fd;
	cb.aio_buf = buf;
	cb.aio_nbytes = n;
	errno = 1234;
	int r = submitted(write ? aio_write64(&cb) : aio_read64(&cb));
	return r == 0 ? finish64(&cb) : -1;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: aio_host PORT write|read|both|lio\n");
		return 2;
	}
	const char *how = argv[2];
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)atoi(argv[1])),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return 3;
	char req[512];
	int n = snprintf(req, sizeof req,
			 "POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 sizeof body - 1, body);
	ssize_t w;
	if (!strcmp(how, "write"))
		w = aio_one(fd, req, (size_t)n, 1);
	else if (!strcmp(how, "both"))
		w = aio_one64(fd, req, (size_t)n, 1);
	else if (!strcmp(how, "lio")) {
		struct aiocb cb;
		memset(&cb, 0, sizeof cb);
		cb.aio_fildes = fd;
		cb.aio_buf = req;
		cb.aio_nbytes = (size_t)n;
		cb.aio_lio_opcode = LIO_WRITE;
		struct aiocb *l[2] = {NULL, &cb};
		errno = 1234;
		int r = submitted(lio_listio(LIO_WAIT, l, 2, NULL));
		w = r == 0 ? aio_return(&cb) : -1;
	} else
		w = write(fd, req, (size_t)n);
	if (w != n)
		return 4;
	static char all[1 << 16];
	size_t got = 0;
	for (;;) {
		ssize_t r;
		if (!strcmp(how, "read"))
			r = aio_one64(fd, all + got, sizeof all - 1 - got, 0);
		else if (!strcmp(how, "both"))
			r = aio_one(fd, all + got, sizeof all - 1 - got, 0);
		else
			r = read(fd, all + got, sizeof all - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		all[got] = 0;
		if (strstr(all, "\r\n0\r\n\r\n")) /* the chunked body's end */
			break;
	}
	all[got] = 0;
	int tokens = 0;
	for (const char *p = all; (p = strstr(p, "\"text\":")); p++)
		tokens++;
	printf("aio failed %d errno_changed %d\n", g_failed, g_errno_changed);
	printf("tokens %d\n", strstr(all, "data: [DONE]") ? tokens : -1);
	close(fd);
	return 0;
}
