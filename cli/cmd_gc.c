/*
 * airlock gc [--dry-run] [--compact] [--keep-last N] [--partial]: drop
 * what no ref (branch, tag or commit id), pin or partial file of an
 * interrupted pull reaches; with --keep-last, each branch keeps its last N
 * revisions and the commit ids of older ones go; with --partial, the
 * partial files go too; with --compact, rewrite the data file without
 * its free pages.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

int
cmd_gc(struct cmd_ctx *ctx)
{
	struct store_gc_result r, cr = { 0 };
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
	char bytes[32], before[32], after[32];
	int rc, dry = ctx->opt['n'] != NULL, compact = ctx->opt['c'] != NULL;
	int keep = -1, partial = ctx->opt['p'] != NULL;

	if (ctx->opt['k'] != NULL) {
		char *end;
		long n = strtol(ctx->opt['k'], &end, 10);

		if (*ctx->opt['k'] == '\0' || *end != '\0' || n < 0 ||
		    n > 1000000)
			return cli_fail(EXIT_USAGE, "--keep-last %s: not a "
			    "number of revisions (0 to 1000000)",
			    ctx->opt['k']);
		keep = (int)n;
	}
	if ((rc = store_gc_keep(st, (dry ? STORE_GC_DRY_RUN : 0) |
	    (partial ? STORE_GC_PARTIALS : 0), keep, &r)) != 0) {
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
		cli_json(json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		    "dry_run", dry, "commits", (json_int_t)r.commits,
		    "revisions", (json_int_t)r.manifests, "blobs",
		    (json_int_t)r.blobs, "chunks", (json_int_t)r.chunks,
		    "partial_files", (json_int_t)r.partials,
		    "bytes", (json_int_t)r.chunk_bytes, "file_before",
		    (json_int_t)cr.file_before, "file_after",
		    (json_int_t)cr.file_after));
	else {
		if (keep >= 0)
			printf("%s %llu commit ids that no branch's last %d "
			    "revisions, tag or pin keeps\n", dry ?
			    "would delete" : "deleted",
			    (unsigned long long)r.commits, keep);
		printf("%s %llu revisions, %llu blobs, %llu chunks (%s)\n",
		    dry ? "would remove" : "removed",
		    (unsigned long long)r.manifests, (unsigned long long)r.blobs,
		    (unsigned long long)r.chunks, cli_bytes(r.chunk_bytes,
		    bytes));
		if (partial)
			printf("%s %llu partial files of interrupted pulls\n",
			    dry ? "would drop" : "dropped",
			    (unsigned long long)r.partials);
		if (compact && !dry)
			printf("compacted the data file: %s -> %s\n",
			    cli_bytes(cr.file_before, before),
			    cli_bytes(cr.file_after, after));
	}
out:
	return rc;
}
