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

#include "cli/cli.h"
#include "keys/keys.h"

#define OPTS(...)	((const struct option[]){ __VA_ARGS__, { 0 } })
#define ARG(name, ch)	{ name, required_argument, NULL, ch }
#define FLAG(name, ch)	{ name, no_argument, NULL, ch }

/* Each ends with an entry without a name. */
static const struct cmd key_table[] = {
	{ .name = "gen", .usage = "key gen [--name NAME] [--no-password]",
	  .opts = "n:N", .longopts = OPTS(ARG("name", 'n'),
	  FLAG("no-password", 'N')), .store = CMD_STORE_RW,
	  .check = cmd_key_gen_check, .exec = cmd_key_gen },
	{ .name = "ls", .usage = "key ls", .store = CMD_STORE_RO,
	  .exec = cmd_key_ls },
	{ .name = "pub", .usage = "key pub [NAME]", .max = 1,
	  .store = CMD_STORE_RO, .exec = cmd_key_pub },
	{ .name = NULL },
};

static const struct cmd trust_table[] = {
	{ .name = "add",
	  .usage = "trust add FILE.pub [--name NAME] [--scope PATTERN]",
	  .opts = "n:s:", .longopts = OPTS(ARG("name", 'n'),
	  ARG("scope", 's')), .min = 1, .max = 1, .store = CMD_STORE_RW,
	  .check = cmd_trust_add_check, .exec = cmd_trust_add },
	{ .name = "ls", .usage = "trust ls", .store = CMD_STORE_RO,
	  .exec = cmd_trust_ls },
	{ .name = "revoke", .usage = "trust revoke KEYID", .min = 1, .max = 1,
	  .store = CMD_STORE_RW, .check = cmd_trust_revoke_check,
	  .exec = cmd_trust_revoke },
	/* Read-only unless N is given: its check asks for more then. */
	{ .name = "threshold", .usage = "trust threshold [N]", .max = 1,
	  .store = CMD_STORE_RO, .check = cmd_trust_threshold_check,
	  .exec = cmd_trust_threshold },
	{ .name = NULL },
};

static const struct cmd policy_table_cmds[] = {
	{ .name = "show", .usage = "policy show", .store = CMD_STORE_RO,
	  .exec = cmd_policy_show },
	{ .name = "set", .usage = "policy set FILE", .min = 1, .max = 1,
	  .store = CMD_STORE_RW, .exec = cmd_policy_set },
	{ .name = NULL },
};

const struct cmd cmd_table[] = {
	{ .name = "init", .usage = "init", .store = CMD_STORE_CREATE,
	  .exec = cmd_init },
	{ .name = "add", .usage = "add DIR|ARCHIVE --repo ORG/NAME "
	  "[--revision REV] [--type model|dataset] [--force --reason TEXT]",
	  .opts = "r:R:t:fw:", .longopts = OPTS(ARG("repo", 'r'),
	  ARG("revision", 'R'), ARG("type", 't'), FLAG("force", 'f'),
	  ARG("reason", 'w')), .min = 1, .max = 1,
	  .store = CMD_STORE_RW, .check = cmd_add_check, .exec = cmd_add },
	{ .name = "ls", .usage = "ls [PATTERN] [--licence ID] [--flag NAME]",
	  .opts = "l:f:", .longopts = OPTS(ARG("licence", 'l'),
	  ARG("flag", 'f')), .max = 1, .store = CMD_STORE_RO,
	  .check = cmd_ls_check, .exec = cmd_ls },
	{ .name = "show", .usage = "show REPO[@REV]", .min = 1, .max = 1,
	  .store = CMD_STORE_RO, .flags = CMD_MANIFEST, .exec = cmd_show },
	{ .name = "cat", .usage = "cat REPO[@REV] PATH", .min = 2, .max = 2,
	  .store = CMD_STORE_RO, .flags = CMD_MANIFEST, .exec = cmd_cat },
	{ .name = "checkout", .usage = "checkout REPO[@REV] DIR [--hf-cache] | "
	  "--lock FILE DIR [--hf-cache]", .opts = "l:H",
	  .longopts = OPTS(ARG("lock", 'l'), FLAG("hf-cache", 'H')),
	  .min = 1, .max = 2, .store = CMD_STORE_RO, .flags = CMD_KEYS,
	  .check = cmd_checkout_check,
	  .exec = cmd_checkout },
	{ .name = "verify", .usage = "verify [REPO[@REV]... | --all] | "
	  "--lock FILE [--hf-cache] DIR [--trust FILE.pub]", .opts = "al:HT:",
	  .longopts = OPTS(FLAG("all", 'a'), ARG("lock", 'l'),
	  FLAG("hf-cache", 'H'), ARG("trust", 'T')), .max = -1,
	  .store = CMD_STORE_RO, .check = cmd_verify_check,
	  .exec = cmd_verify },
	{ .name = "pin", .usage = "pin REPO@REV [--name NAME] [--note TEXT]",
	  .opts = "n:m:", .longopts = OPTS(ARG("name", 'n'),
	  ARG("note", 'm')), .min = 1, .max = 1, .store = CMD_STORE_RW,
	  .flags = CMD_TARGET, .exec = cmd_pin },
	{ .name = "unpin", .usage = "unpin NAME", .min = 1, .max = 1,
	  .store = CMD_STORE_RW, .exec = cmd_unpin },
	{ .name = "pins", .usage = "pins", .store = CMD_STORE_RO,
	  .exec = cmd_pins },
	{ .name = "tag", .usage = "tag REPO@REV NAME", .min = 2, .max = 2,
	  .store = CMD_STORE_RW, .flags = CMD_TARGET, .exec = cmd_tag },
	{ .name = "rm", .usage = "rm REPO[@REV] [--force] [--reason TEXT]",
	  .opts = "fm:", .longopts = OPTS(FLAG("force", 'f'),
	  ARG("reason", 'm')), .min = 1, .max = 1, .store = CMD_STORE_RW,
	  .exec = cmd_rm },
	{ .name = "gc",
	  .usage = "gc [--dry-run] [--compact] [--keep-last N] [--partial]",
	  .opts = "nck:p", .longopts = OPTS(FLAG("dry-run", 'n'),
	  FLAG("compact", 'c'), ARG("keep-last", 'k'), FLAG("partial", 'p')),
	  .store = CMD_STORE_RW, .exec = cmd_gc },
	{ .name = "stats", .usage = "stats", .store = CMD_STORE_RO,
	  .exec = cmd_stats },
	{ .name = "key", .flags = CMD_KEYS, .sub = key_table },
	{ .name = "trust", .flags = CMD_KEYS, .sub = trust_table },
	{ .name = "manifest", .usage = "manifest REPO[@REV] [--comment]",
	  .opts = "c", .longopts = OPTS(FLAG("comment", 'c')), .min = 1,
	  .max = 1, .store = CMD_STORE_RO, .flags = CMD_KEYS | CMD_MANIFEST,
	  .exec = cmd_manifest },
	{ .name = "sig", .usage = "sig REPO[@REV] [KEYID]", .min = 1,
	  .max = 2, .store = CMD_STORE_RO, .flags = CMD_KEYS | CMD_MANIFEST,
	  .check = cmd_sig_check, .exec = cmd_sig },
	/* The revision is loaded first: a typo must not cost a passphrase. */
	{ .name = "sign", .usage = "sign REPO[@REV] [--key FILE]",
	  .opts = "k:", .longopts = OPTS(ARG("key", 'k')), .min = 1,
	  .max = 1, .store = CMD_STORE_RW, .flags = CMD_MANIFEST,
	  .exec = cmd_sign },
	{ .name = "attach", .usage = "attach REPO[@REV] FILE.minisig",
	  .min = 2, .max = 2, .store = CMD_STORE_RW,
	  .flags = CMD_KEYS | CMD_MANIFEST, .exec = cmd_attach },
	{ .name = "export", .usage = "export REPO[@REV]... -o FILE "
	  "[--split SIZE] [--have INVENTORY]",
	  .opts = "o:s:h:", .longopts = OPTS(ARG("output", 'o'),
	  ARG("split", 's'), ARG("have", 'h')), .min = 1, .max = -1,
	  .store = CMD_STORE_RW, .check = cmd_export_check,
	  .exec = cmd_export },
	{ .name = "inventory", .usage = "inventory -o FILE", .opts = "o:",
	  .longopts = OPTS(ARG("output", 'o')), .store = CMD_STORE_RO,
	  .check = cmd_inventory_check, .exec = cmd_inventory },
	{ .name = "import", .usage = "import FILE [FILE.002 ...] | "
	  "HFCACHE_DIR", .min = 1, .max = -1, .store = CMD_STORE_RW,
	  .check = cmd_import_check, .exec = cmd_import },
	/* Its options repeat: its check parses them. */
	{ .name = "pull", .usage = "pull REPO[@REV] | --lock FILE [--from URL] "
	  "[--type model|dataset] [--include GLOB]... [--exclude GLOB]... "
	  "[--token-file FILE] [--force --reason TEXT] [--no-bases] "
	  "[--with-datasets]", .min = 1,
	  .max = -1, .store = CMD_STORE_RW, .flags = CMD_KEYS,
	  .check = cmd_pull_check, .exec = cmd_pull },
	{ .name = "licence", .usage = "licence REPO[@REV]", .min = 1,
	  .max = 1, .store = CMD_STORE_RO, .flags = CMD_MANIFEST,
	  .exec = cmd_licence },
	{ .name = "bom", .usage = "bom REPO[@REV] --format cyclonedx|spdx "
	  "[-o FILE]", .opts = "f:o:", .longopts = OPTS(ARG("format", 'f'),
	  ARG("output", 'o')), .min = 1, .max = 1, .store = CMD_STORE_RO,
	  .flags = CMD_MANIFEST, .check = cmd_bom_check, .exec = cmd_bom },
	{ .name = "lock", .usage = "lock REPO[@REV]... [-o FILE]", .opts = "o:",
	  .longopts = OPTS(ARG("output", 'o')), .min = 1, .max = -1,
	  .store = CMD_STORE_RO, .flags = CMD_KEYS, .exec = cmd_lock },
	{ .name = "policy", .sub = policy_table_cmds },
	/* The revision is loaded first: a typo must not cost a passphrase. */
	{ .name = "review", .usage = "review REPO[@REV] --licence ID "
	  "[--note TEXT] [--key FILE]", .opts = "l:m:k:",
	  .longopts = OPTS(ARG("licence", 'l'), ARG("note", 'm'),
	  ARG("key", 'k')), .min = 1, .max = 1, .store = CMD_STORE_RW,
	  .flags = CMD_KEYS | CMD_MANIFEST, .check = cmd_review_check,
	  .exec = cmd_review },
	{ .name = NULL },
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
	if (!(ctx->cmd->flags & (CMD_TARGET | CMD_MANIFEST)))
		return 0;
	if ((rc = cli_target(ctx->st, arg, NULL, &ctx->target)) != 0)
		return rc;
	if ((ctx->cmd->flags & CMD_MANIFEST) &&
	    (rc = store_manifest_get(ctx->st, ctx->target.digest,
	    &ctx->m)) != 0)
		return cli_store_fail(rc, arg);
	return 0;
}

static int
cmd_keys(const struct cmd *c)
{
	if ((c->flags & CMD_KEYS) && keys_init() != 0)
		return cli_fail(EXIT_USAGE, "libsodium failed to start");
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

	if (c->sub != NULL) {
		if (argc < 2)
			return cli_usage(cli);
		if ((rc = cmd_keys(c)) != 0)
			return rc;
		if ((s = cmd_find(c->sub, argv[1])) != NULL)
			return cmd_run(cli, s, argc - 1, argv + 1);
		cli_warnx("%s %s: no such command", c->name, argv[1]);
		return cli_usage(cli);
	}
	if (cmd_args(&ctx, argc, argv) == -1)
		return cli_usage(cli);
	if ((rc = cmd_keys(c)) != 0)
		return rc;
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
