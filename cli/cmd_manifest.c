/*
 * airlock manifest REPO[@REV] [--comment], sig REPO[@REV] [KEYID]: what a
 * revision's signatures are made over, and the signatures, exactly as
 * stored, for minisign -V or an offline signer.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "keys/keys.h"

static int
put_out(const void *buf, size_t len)
{
	if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0)
		return cli_fail(EXIT_USAGE, "stdout: %s", strerror(errno));
	return EXIT_OK;
}

/*
 * The canonical bytes, with nothing added, so that they hash to the
 * digest.  --comment prints instead the trusted comment that a signature
 * of them must carry, for minisign -S -t.
 */
int
cmd_manifest(struct cmd_ctx *ctx)
{
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL;
	const struct store_manifest *m = ctx->m;
	int rc;

	if (ctx->opt['c'] == NULL) {
		rc = put_out(m->bytes, m->len);
		goto out;
	}
	store_digest_str(m->digest, digest);
	if ((rc = keys_tc_manifest(m->repo, m->commit, digest,
	    (int64_t)time(NULL), &tc)) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", ctx->argv[0],
		    keys_strerror(rc));
		goto out;
	}
	if ((rc = put_out(tc, strlen(tc))) == 0)
		rc = put_out("\n", 1);
out:
	free(tc);
	return rc;
}

struct siglist {
	const uint8_t	*want;		/* a key id, or NULL for all */
	size_t		 n, cap;
	struct {
		char	 hex[KEYS_KEYID_HEXLEN + 1];
		char	*text;
		size_t	 len;
	}		*v;
};

static int
collect_sig(void *arg, const uint8_t keyid[8], const char *text, size_t len)
{
	struct siglist *sl = arg;

	if (sl->want != NULL && memcmp(sl->want, keyid, 8) != 0)
		return 0;
	if (sl->n == sl->cap) {
		size_t cap = sl->cap ? 2 * sl->cap : 4;
		void *v = realloc(sl->v, cap * sizeof(*sl->v));

		if (v == NULL)
			return ENOMEM;
		sl->v = v;
		sl->cap = cap;
	}
	if ((sl->v[sl->n].text = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(sl->v[sl->n].text, text, len);
	sl->v[sl->n].text[len] = '\0';
	sl->v[sl->n].len = len;
	keys_keyid_hex(keyid, sl->v[sl->n].hex);
	sl->n++;
	return 0;
}

/*
 * One signature file, as stored.  With several and no KEYID the choice is
 * the user's (--json prints them all): two files in one stream would not
 * be a signature file that minisign reads.
 */
int
cmd_sig_check(struct cmd_ctx *ctx)
{
	uint8_t keyid[KEYS_KEYID_BYTES];

	if (ctx->argc == 2 && keys_keyid_parse(ctx->argv[1], keyid) != 0)
		return cli_fail(EXIT_USAGE, "%s: not a key id (1 to 16 hex "
		    "digits)", ctx->argv[1]);
	return 0;
}

int
cmd_sig(struct cmd_ctx *ctx)
{
	const char *arg = ctx->argv[0];
	const char *by = ctx->argc == 2 ? ctx->argv[1] : NULL;
	uint8_t keyid[KEYS_KEYID_BYTES];
	struct siglist sl = { 0 };
	json_t *list;
	size_t i;
	int rc;

	/* cmd_sig_check parsed it already. */
	if (by != NULL && keys_keyid_parse(by, keyid) == 0)
		sl.want = keyid;
	if ((rc = store_sigs(ctx->st, ctx->m->digest, collect_sig,
	    &sl)) != 0) {
		rc = cli_store_fail(rc, arg);
		goto out;
	}
	if (ctx->cli->json) {
		/* An untrusted comment need not be UTF-8: then null. */
		list = json_array();
		for (i = 0; i < sl.n; i++) {
			json_t *text = json_stringn(sl.v[i].text, sl.v[i].len);

			json_array_append_new(list, json_pack("{s:s,s:o}",
			    "keyid", sl.v[i].hex, "signature", text != NULL ?
			    text : json_null()));
		}
		cli_json(list);
		rc = sl.n > 0 ? EXIT_OK : EXIT_CHECK;
		goto out;
	}
	if (sl.n == 0)
		rc = cli_fail(EXIT_CHECK, "%s: no signature%s%s", arg,
		    by != NULL ? " by " : "", by != NULL ? by : "");
	else if (sl.n == 1)
		rc = put_out(sl.v[0].text, sl.v[0].len);
	else {
		cli_warnx("%s: %zu signatures; name one by its key id:",
		    arg, sl.n);
		for (i = 0; i < sl.n; i++)
			fprintf(stderr, "  %s\n", sl.v[i].hex);
		rc = EXIT_USAGE;
	}
out:
	for (i = 0; i < sl.n; i++)
		free(sl.v[i].text);
	free(sl.v);
	return rc;
}
