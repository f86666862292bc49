/*
 * airlock manifest REPO[@REV] [--comment], sig REPO[@REV] [KEYID]: what a
 * revision's signatures are made over, and the signatures, exactly as
 * stored, for minisign -V or an offline signer.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "keys.h"

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
cmd_manifest(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "comment", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL;
	struct store_manifest *m = NULL;
	struct store *st;
	struct target t;
	int c, rc, comment = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "c", opts, NULL)) != -1) {
		if (c != 'c')
			return cli_usage(cli);
		comment = 1;
	}
	if (argc - optind != 1)
		return cli_usage(cli);
	if (keys_init() != 0)
		return cli_fail(EXIT_USAGE, "libsodium failed to start");
	if ((rc = cli_open(cli, STORE_RDONLY, &st)) != 0)
		return rc;
	if ((rc = cli_load(st, argv[optind], &t, &m)) != 0)
		goto out;
	if (!comment) {
		rc = put_out(m->bytes, m->len);
		goto out;
	}
	store_digest_str(m->digest, digest);
	if ((rc = keys_tc_manifest(m->repo, m->commit, digest,
	    (int64_t)time(NULL), &tc)) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", argv[optind],
		    keys_strerror(rc));
		goto out;
	}
	if ((rc = put_out(tc, strlen(tc))) == 0)
		rc = put_out("\n", 1);
out:
	free(tc);
	store_manifest_free(m);
	store_close(st);
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
cmd_sig(struct cli *cli, int argc, char **argv)
{
	uint8_t keyid[KEYS_KEYID_BYTES];
	struct siglist sl = { 0 };
	struct store_manifest *m = NULL;
	struct store *st;
	struct target t;
	json_t *list;
	size_t i;
	int rc;

	if (argc != 2 && argc != 3)
		return cli_usage(cli);
	if (keys_init() != 0)
		return cli_fail(EXIT_USAGE, "libsodium failed to start");
	if (argc == 3) {
		if (keys_keyid_parse(argv[2], keyid) != 0)
			return cli_fail(EXIT_USAGE, "%s: not a key id (1 to "
			    "16 hex digits)", argv[2]);
		sl.want = keyid;
	}
	if ((rc = cli_open(cli, STORE_RDONLY, &st)) != 0)
		return rc;
	if ((rc = cli_load(st, argv[1], &t, &m)) != 0)
		goto out;
	if ((rc = store_sigs(st, m->digest, collect_sig, &sl)) != 0) {
		rc = cli_store_fail(rc, argv[1]);
		goto out;
	}
	if (cli->json) {
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
		rc = cli_fail(EXIT_CHECK, "%s: no signature%s%s", argv[1],
		    argc == 3 ? " by " : "", argc == 3 ? argv[2] : "");
	else if (sl.n == 1)
		rc = put_out(sl.v[0].text, sl.v[0].len);
	else {
		cli_warnx("%s: %zu signatures; name one by its key id:",
		    argv[1], sl.n);
		for (i = 0; i < sl.n; i++)
			fprintf(stderr, "  %s\n", sl.v[i].hex);
		rc = EXIT_USAGE;
	}
out:
	for (i = 0; i < sl.n; i++)
		free(sl.v[i].text);
	free(sl.v);
	store_manifest_free(m);
	store_close(st);
	return rc;
}
