/*
 * revision.c - the command line's side of the store's revision pipeline:
 * the card's claims, the signer, a progress bar and the messages, for add
 * and the HF cache import.
 */
#include "config.h"

#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "keys/keys.h"

/* Why the pipeline stopped at a step after its files. */
static int
revision_fail(int rc, const struct store_revision_result *res,
    const char *what, const char *commit_what)
{
	switch (res->step) {
	case STORE_REVISION_MANIFEST:
		return cli_store_fail(rc, what);
	case STORE_REVISION_SIGN:
		return rc;	/* the signer has said why */
	case STORE_REVISION_COMMIT:
		return cli_store_fail(rc, commit_what);
	default:
		return cli_store_fail(rc, NULL);
	}
}

int
cli_revision_add(struct cli *cli, struct store *st, struct store_source *src,
    const char *what, const char *commit_what, const char *label,
    struct store_revision_spec *spec,
    struct store_revision_result *res, int *files_rc)
{
	struct keys_signer *signer = NULL;
	struct progress *bar = NULL;
	json_t *claims = NULL;
	int rc;

	*files_rc = 0;
	memset(res, 0, sizeof(*res));
	if ((rc = store_source_claims(src, &claims)) != 0)
		return cli_store_fail(rc, NULL);
	/* The key is unlocked before any work, so a wrong passphrase costs
	 * nothing. */
	if ((rc = signer_open(cli, st, NULL, 0, &signer)) != 0)
		goto out;
	spec->parts.claims = claims;
	spec->parts.created = (int64_t)time(NULL);
	spec->sign = signer != NULL ? signer_sign : NULL;
	spec->sign_arg = signer;
	if (label != NULL) {
		bar = progress_start(cli, label, store_source_bytes(src));
		spec->progress = progress_fn;
		spec->progress_arg = bar;
	}
	rc = store_revision_add(st, spec, res);
	progress_end(bar);
	if (rc != 0 && res->step == STORE_REVISION_FILES) {
		*files_rc = rc;
		rc = EXIT_USAGE;
	} else if (rc != 0)
		rc = revision_fail(rc, res, what, commit_what);
out:
	spec->parts.claims = NULL;
	keys_signer_free(signer);
	json_decref(claims);
	return rc;
}
