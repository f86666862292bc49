/*
 * main.c - airlock's command table and dispatch.
 *
 * Each command lives in its own file (cmd_NAME.c) and is described here as
 * data: its name, its usage line (the man page's synopsis) and its handler.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

const struct cmd cmd_table[] = {
	{ "init", "init", cmd_init },
	{ "add", "add DIR|ARCHIVE --repo ORG/NAME [--revision REV] "
	    "[--type model|dataset]", cmd_add },
	{ "ls", "ls [PATTERN]", cmd_ls },
	{ "show", "show REPO[@REV]", cmd_show },
	{ "cat", "cat REPO[@REV] PATH", cmd_cat },
	{ "checkout", "checkout REPO[@REV] DIR", cmd_checkout },
	{ "verify", "verify [REPO[@REV]... | --all]", cmd_verify },
	{ "pin", "pin REPO@REV [--name NAME] [--note TEXT]", cmd_pin },
	{ "unpin", "unpin NAME", cmd_unpin },
	{ "pins", "pins", cmd_pins },
	{ "gc", "gc [--dry-run] [--compact]", cmd_gc },
	{ "stats", "stats", cmd_stats },
	/* Several synopses of one command share the usage's indent. */
	{ "key", "key gen [--name NAME] [--no-password]\n"
	    "       airlock key ls\n"
	    "       airlock key pub [NAME]", cmd_key },
	{ "trust", "trust add FILE.pub [--name NAME] [--scope PATTERN]\n"
	    "       airlock trust ls\n"
	    "       airlock trust revoke KEYID\n"
	    "       airlock trust threshold [N]", cmd_trust },
	{ "manifest", "manifest REPO[@REV] [--comment]", cmd_manifest },
	{ "sig", "sig REPO[@REV] [KEYID]", cmd_sig },
	{ "sign", "sign REPO[@REV] [--key FILE]", cmd_sign },
	{ "attach", "attach REPO[@REV] FILE.minisig", cmd_attach },
	{ "export", "export REPO[@REV]... -o FILE [--split SIZE] "
	    "[--have INVENTORY]", cmd_export },
	{ "inventory", "inventory -o FILE", cmd_inventory },
	{ "import", "import FILE [FILE.002 ...] | HFCACHE_DIR", cmd_import },
	{ NULL, NULL, NULL },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: airlock [--store DIR] [--json] COMMAND ...\n");
	for (const struct cmd *c = cmd_table; c->name != NULL; c++)
		fprintf(f, "       airlock %s\n", c->usage);
}

/*
 * --store and --json may come anywhere before "--": they are taken out of
 * argv here so that every command accepts them in any position.
 */
static int
global_options(struct cli *cli, int *argc, char **argv)
{
	int i, j;

	for (i = 1, j = 1; i < *argc; i++) {
		char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(a, "--json") == 0)
			cli->json = 1;
		else if (strcmp(a, "--store") == 0) {
			if (i + 1 >= *argc)
				return -1;
			cli->store_dir = argv[++i];
		} else if (strncmp(a, "--store=", 8) == 0)
			cli->store_dir = a + 8;
		else
			argv[j++] = a;
	}
	argv[j] = NULL;
	*argc = j;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli cli = { 0 };
	const char *name;

	/*
	 * LMDB mallocs a batch's dirty pages and frees them at each commit.
	 * Keep that memory for the next batch instead of giving it back and
	 * faulting it in again, page by page, 64 MiB at a time.
	 */
	mallopt(M_MMAP_THRESHOLD, 32 << 20);
	mallopt(M_TRIM_THRESHOLD, 512 << 20);
	cli.tty = isatty(STDERR_FILENO);
	if (global_options(&cli, &argc, argv) == -1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cli.store_dir == NULL)
		cli.store_dir = store_default_dir();
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
	    strcmp(name, "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("airlock %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (const struct cmd *c = cmd_table; c->name != NULL; c++) {
		if (strcmp(c->name, name) != 0)
			continue;
		cli.cmd = c->name;
		return c->run(&cli, argc - 1, argv + 1);
	}
	cli_warnx("%s: no such command", name);
	usage(stderr);
	return EXIT_USAGE;
}
