/*
 * main.c - airlock's command table and dispatch.
 *
 * Each command lives in its own file (cmd_NAME.c) and is described here as
 * data, as tmux's cmd_entry: its name, its usage line (the man page's
 * synopsis), its options or operands, the store it needs, whether its first
 * operand names a revision to load, its subcommands and its handler.
 */
#include "config.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "keys.h"

#define OPTS(...)	((const struct option[]){ __VA_ARGS__, { NULL, 0, NULL, 0 } })
#define ARG(name, ch)	{ name, required_argument, NULL, ch }
#define FLAG(name, ch)	{ name, no_argument, NULL, ch }

static const struct cmd key_table[] = {
	{ "gen", "key gen [--name NAME] [--no-password]", "n:N",
	    OPTS(ARG("name", 'n'), FLAG("no-password", 'N')), 0, 0,
	    CMD_STORE_RW, 0, NULL, cmd_key_gen_check, cmd_key_gen },
	{ "ls", "key ls", NULL, NULL, 0, 0, CMD_STORE_RO, 0, NULL, NULL,
	    cmd_key_ls },
	{ "pub", "key pub [NAME]", NULL, NULL, 0, 1, CMD_STORE_RO, 0, NULL,
	    NULL, cmd_key_pub },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static const struct cmd trust_table[] = {
	{ "add", "trust add FILE.pub [--name NAME] [--scope PATTERN]", "n:s:",
	    OPTS(ARG("name", 'n'), ARG("scope", 's')), 1, 1, CMD_STORE_RW, 0,
	    NULL, cmd_trust_add_check, cmd_trust_add },
	{ "ls", "trust ls", NULL, NULL, 0, 0, CMD_STORE_RO, 0, NULL, NULL,
	    cmd_trust_ls },
	{ "revoke", "trust revoke KEYID", NULL, NULL, 1, 1, CMD_STORE_RW, 0,
	    NULL, cmd_trust_revoke_check, cmd_trust_revoke },
	/* Read-only unless N is given: its check asks for more. */
	{ "threshold", "trust threshold [N]", NULL, NULL, 0, 1, CMD_STORE_RO,
	    0, NULL, cmd_trust_threshold_check, cmd_trust_threshold },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

const struct cmd cmd_table[] = {
	{ "init", "init", NULL, NULL, 0, 0, CMD_STORE_CREATE, 0, NULL, NULL,
	    cmd_init },
	{ "add", "add DIR|ARCHIVE --repo ORG/NAME [--revision REV] "
	    "[--type model|dataset]", "r:R:t:", OPTS(ARG("repo", 'r'),
	    ARG("revision", 'R'), ARG("type", 't')), 1, 1, CMD_STORE_RW, 0,
	    NULL, cmd_add_check, cmd_add },
	{ "ls", "ls [PATTERN]", NULL, NULL, 0, 1, CMD_STORE_RO, 0, NULL,
	    cmd_ls_check, cmd_ls },
	{ "show", "show REPO[@REV]", NULL, NULL, 1, 1, CMD_STORE_RO,
	    CMD_TARGET | CMD_MANIFEST, NULL, NULL, cmd_show },
	{ "cat", "cat REPO[@REV] PATH", NULL, NULL, 2, 2, CMD_STORE_RO,
	    CMD_TARGET | CMD_MANIFEST, NULL, NULL, cmd_cat },
	{ "checkout", "checkout REPO[@REV] DIR", NULL, NULL, 2, 2,
	    CMD_STORE_RO, CMD_TARGET | CMD_MANIFEST, NULL, NULL,
	    cmd_checkout },
	{ "verify", "verify [REPO[@REV]... | --all]", "a",
	    OPTS(FLAG("all", 'a')), 0, -1, CMD_STORE_RO, 0, NULL,
	    cmd_verify_check, cmd_verify },
	{ "pin", "pin REPO@REV [--name NAME] [--note TEXT]", "n:m:",
	    OPTS(ARG("name", 'n'), ARG("note", 'm')), 1, 1, CMD_STORE_RW,
	    CMD_TARGET, NULL, NULL, cmd_pin },
	{ "unpin", "unpin NAME", NULL, NULL, 1, 1, CMD_STORE_RW, 0, NULL,
	    NULL, cmd_unpin },
	{ "pins", "pins", NULL, NULL, 0, 0, CMD_STORE_RO, 0, NULL, NULL,
	    cmd_pins },
	{ "gc", "gc [--dry-run] [--compact]", "nc", OPTS(FLAG("dry-run", 'n'),
	    FLAG("compact", 'c')), 0, 0, CMD_STORE_RW, 0, NULL, NULL, cmd_gc },
	{ "stats", "stats", NULL, NULL, 0, 0, CMD_STORE_RO, 0, NULL, NULL,
	    cmd_stats },
	{ "key", NULL, NULL, NULL, 0, 0, CMD_STORE_NONE, CMD_KEYS, key_table,
	    NULL, NULL },
	{ "trust", NULL, NULL, NULL, 0, 0, CMD_STORE_NONE, CMD_KEYS,
	    trust_table, NULL, NULL },
	{ "manifest", "manifest REPO[@REV] [--comment]", "c",
	    OPTS(FLAG("comment", 'c')), 1, 1, CMD_STORE_RO, CMD_KEYS |
	    CMD_TARGET | CMD_MANIFEST, NULL, NULL, cmd_manifest },
	{ "sig", "sig REPO[@REV] [KEYID]", NULL, NULL, 1, 2, CMD_STORE_RO,
	    CMD_KEYS | CMD_TARGET | CMD_MANIFEST, NULL, cmd_sig_check,
	    cmd_sig },
	/* The revision is loaded first: a typo must not cost a passphrase. */
	{ "sign", "sign REPO[@REV] [--key FILE]", "k:", OPTS(ARG("key", 'k')),
	    1, 1, CMD_STORE_RW, CMD_TARGET | CMD_MANIFEST, NULL, NULL,
	    cmd_sign },
	{ "attach", "attach REPO[@REV] FILE.minisig", NULL, NULL, 2, 2,
	    CMD_STORE_RW, CMD_KEYS | CMD_TARGET | CMD_MANIFEST, NULL, NULL,
	    cmd_attach },
	{ "export", "export REPO[@REV]... -o FILE [--split SIZE] "
	    "[--have INVENTORY]", "o:s:h:", OPTS(ARG("output", 'o'),
	    ARG("split", 's'), ARG("have", 'h')), 1, -1, CMD_STORE_RW, 0, NULL,
	    cmd_export_check, cmd_export },
	{ "inventory", "inventory -o FILE", "o:", OPTS(ARG("output", 'o')), 0,
	    0, CMD_STORE_RO, 0, NULL, cmd_inventory_check, cmd_inventory },
	{ "import", "import FILE [FILE.002 ...] | HFCACHE_DIR", NULL, NULL, 1,
	    -1, CMD_STORE_RW, 0, NULL, cmd_import_check, cmd_import },
	{ NULL, NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL, NULL },
};

static void
usage(FILE *f)
{
	const char *lead = "       ";

	fprintf(f, "usage: airlock [--store DIR] [--json] COMMAND ...\n");
	for (const struct cmd *c = cmd_table; c->name != NULL; c++)
		cmd_synopses(f, c, &lead);
}

/*
 * Options into ctx->opt, operands into ctx->argv; -1 if they do not fit
 * the command.  getopt_long names a bad option itself.
 */
static int
cmd_args(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd *c = ctx->cmd;
	int ch;

	ctx->argc = argc - 1;
	ctx->argv = argv + 1;
	if (c->opts != NULL) {
		optind = 0;
		while ((ch = getopt_long(argc, argv, c->opts, c->longopts,
		    NULL)) != -1) {
			if (ch == '?' || ch == ':' || ch <= 0 ||
			    ch >= CMD_MAXOPT)
				return -1;
			ctx->opt[ch] = optarg != NULL ? optarg : "";
		}
		ctx->argc = argc - optind;
		ctx->argv = argv + optind;
	}
	if (ctx->argc < c->min || (c->max >= 0 && ctx->argc > c->max))
		return -1;
	return 0;
}

/* Opens the store in the mode the command needs and finds its target. */
static int
cmd_prepare(struct cmd_ctx *ctx)
{
	static const unsigned flags[] = {
		[CMD_STORE_RO] = STORE_RDONLY,
		[CMD_STORE_RW] = 0,
		[CMD_STORE_CREATE] = STORE_CREATE,
	};
	const char *arg = ctx->argv[0];
	int rc;

	if (ctx->store == CMD_STORE_NONE)
		return 0;
	if ((rc = store_open(ctx->cli->store_dir, flags[ctx->store],
	    &ctx->st)) != 0) {
		cli_store_fail(rc, NULL);
		return EXIT_USAGE;
	}
	if (!(ctx->cmd->flags & CMD_TARGET))
		return 0;
	if ((rc = cli_target(ctx->st, arg, NULL, &ctx->target)) != 0)
		return rc;
	if ((ctx->cmd->flags & CMD_MANIFEST) &&
	    (rc = store_manifest_get(ctx->st, ctx->target.digest,
	    &ctx->m)) != 0)
		return cli_store_fail(rc, arg);
	return 0;
}

/*
 * Runs c with argv[0] its name: finds the subcommand, checks the
 * arguments, opens the store, resolves the target, calls the handler,
 * closes.
 */
static int
cmd_run(struct cli *cli, const struct cmd *c, int argc, char **argv)
{
	struct cmd_ctx ctx = { .cli = cli, .cmd = c, .store = c->store };
	const struct cmd *s;
	int rc;

	if (c->sub != NULL && argc < 2)
		return cli_usage(cli);
	if (c->sub == NULL && cmd_args(&ctx, argc, argv) == -1)
		return cli_usage(cli);
	if ((c->flags & CMD_KEYS) && keys_init() != 0)
		return cli_fail(EXIT_USAGE, "libsodium failed to start");
	if (c->sub != NULL) {
		if ((s = cmd_find(c->sub, argv[1])) != NULL)
			return cmd_run(cli, s, argc - 1, argv + 1);
		cli_warnx("%s %s: no such command", c->name, argv[1]);
		return cli_usage(cli);
	}
	if (c->check != NULL && (rc = c->check(&ctx)) != 0) {
		free(ctx.data);
		return rc;
	}
	if ((rc = cmd_prepare(&ctx)) == 0)
		rc = c->exec(&ctx);
	store_manifest_free(ctx.m);
	store_close(ctx.st);
	free(ctx.data);
	return rc;
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
	const struct cmd *c;
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
	if ((c = cmd_find(cmd_table, name)) != NULL) {
		cli.cmd = c->name;
		return cmd_run(&cli, c, argc - 1, argv + 1);
	}
	cli_warnx("%s: no such command", name);
	usage(stderr);
	return EXIT_USAGE;
}
