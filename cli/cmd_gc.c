/*
 * airlock gc [--dry-run] [--compact]: drop what no ref (branch, tag or
 * commit id) or pin reaches; with --compact, rewrite the data file
 * without its free pages.
 */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

int
cmd_gc(struct cmd_ctx *ctx)
{
	struct store_gc_result r, cr = { 0 };
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
	char bytes[32], before[32], after[32];
	int rc, dry = ctx->opt['n'] != NULL, compact = ctx->opt['c'] != NULL;

	if ((rc = store_gc(st, dry, &r)) != 0) {
		if (rc == STORE_ECORRUPT)
			cli_warnx("%s (airlock verify --all tells what is "
			    "damaged)", store_lasterror());
		else
			cli_store_fail(rc, NULL);
		rc = cli_status(rc);
		goto out;
	}
	if (compact && !dry && (rc = store_compact(st, &cr)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	if (cli->json)
		cli_json(json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I}", "dry_run",
		    dry, "revisions", (json_int_t)r.manifests, "blobs",
		    (json_int_t)r.blobs, "chunks", (json_int_t)r.chunks,
		    "bytes", (json_int_t)r.chunk_bytes, "file_before",
		    (json_int_t)cr.file_before, "file_after",
		    (json_int_t)cr.file_after));
	else {
		printf("%s %llu revisions, %llu blobs, %llu chunks (%s)\n",
		    dry ? "would remove" : "removed",
		    (unsigned long long)r.manifests, (unsigned long long)r.blobs,
		    (unsigned long long)r.chunks, cli_bytes(r.chunk_bytes,
		    bytes));
		if (compact && !dry)
			printf("compacted the data file: %s -> %s\n",
			    cli_bytes(cr.file_before, before),
			    cli_bytes(cr.file_after, after));
	}
out:
	return rc;
}
