/*
 * airlock gc [--dry-run] [--compact]: drop what no ref (branch, tag or
 * commit id) or pin reaches; with --compact, rewrite the data file
 * without its free pages.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "cli.h"

int
cmd_gc(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "compact", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	struct store_gc_result r, cr = { 0 };
	struct store *st;
	char bytes[32], before[32], after[32];
	int c, rc, dry = 0, compact = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "nc", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry = 1;
			break;
		case 'c':
			compact = 1;
			break;
		default:
			return cli_usage(cli);
		}
	}
	if (optind != argc)
		return cli_usage(cli);
	if ((rc = cli_open(cli, 0, &st)) != 0)
		return rc;
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
	store_close(st);
	return rc;
}
