/*
 * A stand-in for libFuzzer's main(): run the fuzz target once over each file
 * named on the command line, so that `make check` replays every corpus in
 * every build, with or without clang and the sanitizers.
 */
#ifndef AIRLOCK_LIBFUZZER
#include <err.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct stat sb;
		uint8_t *buf;
		ssize_t n;
		int fd;

		if ((fd = open(argv[i], O_RDONLY)) == -1)
			err(2, "%s", argv[i]);
		if (fstat(fd, &sb) == -1)
			err(2, "%s", argv[i]);
		if (!S_ISREG(sb.st_mode)) {
			close(fd);
			continue;
		}
		/* One extra byte so that an empty file still gives a pointer. */
		if ((buf = malloc((size_t)sb.st_size + 1)) == NULL)
			err(2, "%s", argv[i]);
		n = read(fd, buf, (size_t)sb.st_size);
		if (n != sb.st_size)
			errx(2, "%s: short read", argv[i]);
		close(fd);
		LLVMFuzzerTestOneInput(buf, (size_t)n);
		free(buf);
	}
	return 0;
}
#endif
