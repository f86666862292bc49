/*
 * airlock stats: what the store holds and what it costs on disk.
 */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

int
cmd_stats(struct cmd_ctx *ctx)
{
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
	struct store_stats s;
	char a[32], b[32], c[32];
	double dedup, waste, pagebytes;
	int rc;

	if ((rc = store_stats(st, &s)) != 0)
		return cli_store_fail(rc, NULL);
	pagebytes = (double)s.chunk_pages * (double)s.page_size;
	dedup = s.chunk_bytes != 0 ? (double)s.logical_bytes /
	    (double)s.chunk_bytes : 1.0;
	waste = pagebytes > 0 ? (pagebytes - (double)s.chunk_bytes) / pagebytes :
	    0.0;
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
		    "s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f}", "store", store_dir(st), "id",
		    store_id(st), "repos", (json_int_t)s.repos, "revisions",
		    (json_int_t)s.revisions, "refs", (json_int_t)s.refs, "pins",
		    (json_int_t)s.pins, "blobs", (json_int_t)s.blobs, "chunks",
		    (json_int_t)s.chunks, "logical_bytes",
		    (json_int_t)s.logical_bytes, "unique_bytes",
		    (json_int_t)s.unique_bytes, "stored_bytes",
		    (json_int_t)s.chunk_bytes, "chunk_pages",
		    (json_int_t)s.chunk_pages, "file_bytes",
		    (json_int_t)s.file_bytes, "free_pages",
		    (json_int_t)s.free_pages, "map_size",
		    (json_int_t)s.map_size, "map_used", (json_int_t)s.map_used,
		    "dedup_ratio", dedup, "page_waste",
		    waste));
	else {
		printf("%-11s %s (id %s)\n", "store", store_dir(st), store_id(st));
		printf("%-11s %llu (%llu revisions, %llu branches and tags, "
		    "%llu pins)\n", "repos", (unsigned long long)s.repos,
		    (unsigned long long)s.revisions, (unsigned long long)s.refs,
		    (unsigned long long)s.pins);
		printf("%-11s %llu files, %llu chunks\n", "content",
		    (unsigned long long)s.blobs, (unsigned long long)s.chunks);
		printf("%-11s %s (every file of every revision)\n", "logical",
		    cli_bytes(s.logical_bytes, a));
		printf("%-11s %s (distinct files: %s)\n", "stored",
		    cli_bytes(s.chunk_bytes, b), cli_bytes(s.unique_bytes, c));
		printf("%-11s %.2fx\n", "dedup", dedup);
		printf("%-11s %.2f%% (chunks rounded up to %llu-byte pages)\n",
		    "page waste", 100.0 * waste,
		    (unsigned long long)s.page_size);
		printf("%-11s %s, %s free for reuse\n", "data file",
		    cli_bytes(s.file_bytes, a), cli_bytes(s.free_pages *
		    s.page_size, b));
		printf("%-11s %s, %s of it in use (address space, not disk: "
		    "it grows)\n", "map", cli_bytes(s.map_size, a),
		    cli_bytes(s.map_used, b));
	}
	return EXIT_OK;
}
