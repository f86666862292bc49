/*
 * passphrase.c - reading a passphrase: from the file named by
 * $AIRLOCK_PASSPHRASE_FILE (its first line) for automation, else from the
 * terminal with echo off.  It lives in sodium_malloc memory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "cli/cli.h"
#include "keys/keys.h"

#define PASS_MAX	(BOUND_PASSPHRASE + 2)

static int
read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return n + 1 < size ? 0 : -1;
}

static char *
from_file(const char *path)
{
	char *buf;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cli_warnx("%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = sodium_malloc(PASS_MAX)) == NULL) {
		close(fd);
		return NULL;
	}
	if (read_line(fd, buf, PASS_MAX) == -1) {
		cli_warnx("%s: passphrase longer than %d bytes", path,
		    BOUND_PASSPHRASE);
		sodium_free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

static char *
from_tty(int tty, const char *prompt)
{
	struct termios old, quiet;
	char *buf;
	int rc;

	if ((buf = sodium_malloc(PASS_MAX)) == NULL)
		return NULL;
	if (tcgetattr(tty, &old) == -1) {
		sodium_free(buf);
		return NULL;
	}
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	(void)write(tty, prompt, strlen(prompt));
	tcsetattr(tty, TCSAFLUSH, &quiet);
	rc = read_line(tty, buf, PASS_MAX);
	tcsetattr(tty, TCSAFLUSH, &old);
	(void)write(tty, "\n", 1);
	if (rc == -1) {
		sodium_free(buf);
		return NULL;
	}
	return buf;
}

char *
passphrase_get(const char *prompt, int confirm)
{
	const char *file = getenv("AIRLOCK_PASSPHRASE_FILE");
	char *a, *b;
	int tty;

	if (file != NULL && *file != '\0')
		return from_file(file);
	if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
		cli_warnx("a passphrase is needed: set AIRLOCK_PASSPHRASE_FILE "
		    "or run on a terminal");
		return NULL;
	}
	a = from_tty(tty, prompt);
	if (a != NULL && confirm) {
		b = from_tty(tty, "Again: ");
		if (b == NULL || strcmp(a, b) != 0) {
			cli_warnx("the passphrases do not match");
			passphrase_free(a);
			a = NULL;
		}
		passphrase_free(b);
	}
	close(tty);
	return a;
}

void
passphrase_free(char *p)
{
	if (p != NULL)
		sodium_free(p);	/* wipes it */
}
