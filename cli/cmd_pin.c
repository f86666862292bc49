/*
 * airlock pin REPO@REV [--name NAME] [--note TEXT], unpin NAME, pins:
 * pins keep a revision through gc and give a deployment a name for it.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int
cmd_pin(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "note", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	char target[600], digest[STORE_DIGEST_STRLEN + 1];
	const char *name = NULL, *note = NULL;
	struct store *st;
	struct target t;
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:m:", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'm':
			note = optarg;
			break;
		default:
			return cli_usage(cli);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli);
	if ((rc = cli_open(cli, 0, &st)) != 0)
		return rc;
	if ((rc = cli_target(st, argv[optind], NULL, &t)) != 0) {
		store_close(st);
		return rc;
	}
	snprintf(target, sizeof(target), "%s/%s@%s", t.type, t.repo,
	    t.rev != NULL ? t.rev : "main");
	if (name == NULL)
		name = argv[optind];
	if ((rc = store_pin_put(st, name, t.digest, target, note)) != 0)
		rc = cli_store_fail(rc, NULL);
	else {
		store_digest_str(t.digest, digest);
		if (cli->json)
			cli_json(json_pack("{s:s,s:s,s:s}", "name", name,
			    "target", target, "digest", digest));
		else
			printf("pinned %s: %s %s\n", name, target, digest);
	}
	store_close(st);
	return rc;
}

int
cmd_unpin(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	int rc;

	if (argc != 2)
		return cli_usage(cli);
	if ((rc = cli_open(cli, 0, &st)) != 0)
		return rc;
	if ((rc = store_pin_delete(st, argv[1])) != 0)
		rc = cli_store_fail(rc, NULL);
	else if (!cli->json)
		printf("unpinned %s\n", argv[1]);
	else
		cli_json(json_pack("{s:s}", "unpinned", argv[1]));
	store_close(st);
	return rc;
}

static int
list_pin(void *arg, const struct store_pin *p)
{
	json_t *out = arg;
	char digest[STORE_DIGEST_STRLEN + 1], when[32];
	time_t t = (time_t)p->time;
	struct tm tm;

	store_digest_str(p->digest, digest);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (out != NULL)
		json_array_append_new(out, json_pack("{s:s,s:s,s:s?,s:s?,s:s}",
		    "name", p->name, "digest", digest, "target", p->target,
		    "note", p->note, "time", when));
	else
		printf("%-30s %-40s %.19s %s %s\n", p->name,
		    p->target != NULL ? p->target : "", digest, when,
		    p->note != NULL ? p->note : "");
	return 0;
}

int
cmd_pins(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	json_t *out;
	int rc;

	(void)argv;
	if (argc != 1)
		return cli_usage(cli);
	if ((rc = cli_open(cli, STORE_RDONLY, &st)) != 0)
		return rc;
	out = cli->json ? json_array() : NULL;
	if ((rc = store_pins(st, list_pin, out)) != 0)
		rc = cli_store_fail(rc, NULL);
	else if (out != NULL)
		cli_json(json_incref(out));
	json_decref(out);
	store_close(st);
	return rc;
}
