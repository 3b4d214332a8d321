/*
 * log-sink - a /dev/log stand-in for the benchmark sandbox: receives
 * syslog datagrams on a unix socket, keeps the first --keep of them in a
 * file (to see what the peers said) and discards the rest, as a local
 * syslog daemon would take them off the sender's hands.
 *
 *   log-sink -s /dev/log [-o FILE] [--keep N]
 *
 * Stops on SIGTERM/SIGINT, removing the socket; prints the message count.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

int
main(int argc, char **argv)
{
	const char *path = NULL, *out = NULL;
	unsigned long keep = 1000, count = 0;
	struct sockaddr_un su;
	struct sigaction sa;
	FILE *f = NULL;
	char buf[8192];
	int fd;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-s") == 0)
			path = argv[i + 1];
		else if (strcmp(argv[i], "-o") == 0)
			out = argv[i + 1];
		else if (strcmp(argv[i], "--keep") == 0)
			keep = strtoul(argv[i + 1], NULL, 10);
	}
	if (path == NULL || strlen(path) >= sizeof(su.sun_path)) {
		fputs("usage: log-sink -s PATH [-o FILE] [--keep N]\n", stderr);
		return 2;
	}
	memset(&su, 0, sizeof(su));
	su.sun_family = AF_UNIX;
	strcpy(su.sun_path, path);
	unlink(path);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
		fprintf(stderr, "log-sink: %s: %s\n", path, strerror(errno));
		return 1;
	}
	chmod(path, 0666);
	if (out != NULL && (f = fopen(out, "w")) == NULL) {
		fprintf(stderr, "log-sink: %s: %s\n", out, strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: recv returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop_flag) {
		ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		count++;
		if (f != NULL && count <= keep) {
			while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
				n--;
			fprintf(f, "%.*s\n", (int)n, buf);
			if (count == keep)
				fflush(f);
		}
	}
	if (f != NULL) {
		fprintf(f, "# %lu messages\n", count);
		fclose(f);
	}
	unlink(path);
	fprintf(stderr, "log-sink: %lu messages\n", count);
	return 0;
}
