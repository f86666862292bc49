/*
 * bom.h - what airlock bom's two writers share (bom.c): the facts of one
 * stored revision gathered once (the conclusion of policy/, the card,
 * the datasets it claims and whether the store holds them), then written
 * as CycloneDX 1.6 JSON (bom_cyclonedx.c) or SPDX 3.0.1 JSON-LD
 * (bom_spdx.c).
 *
 * Determinism: a BOM is a function of the revision alone.  Its time is
 * the manifest's "created" (when the revision entered the first store;
 * bundles and mirrors carry it unchanged), its serial number a UUID
 * (RFC 4122 version 5, SHA-1 in the URL namespace) of the name
 * "urn:airlock:manifest:sha256:HEX", and every list is in a fixed order.
 */
#ifndef AIRLOCK_CLI_BOM_H
#define AIRLOCK_CLI_BOM_H

#include <jansson.h>

#include "store/store.h"

struct policy_table;

struct bom {
	const struct store_manifest *m;
	const struct policy_table *table;
	json_t		*conclusion;	/* policy_conclude's JSON */
	json_t		*card;		/* the front matter, or {} */
	json_t		*datasets;	/* [{"repo","held","commit","licence"}] */
	char		 hex[STORE_HEX_LEN + 1];	/* the manifest digest */
	char		 uuid[37];
};

/* Gathers the facts of m; a store or policy code (the store's
 * lasterror or policy_lasterror says why).  bom_free is safe on a bom
 * that failed. */
int	bom_gather(struct store *, const struct policy_table *,
	    const struct store_manifest *, struct bom *);
void	bom_free(struct bom *);

/*
 * One term of a licence conclusion ("A AND B" splits into two): the
 * table's entry, or NULL for a name the table lacks and for "unknown
 * beyond ORG/NAME".  bom_terms gives a new array of the terms' strings.
 */
json_t	*bom_terms(const char *conclusion);
const struct policy_licence *bom_licence(const struct bom *, const char *);

/* The documents, new references (NULL: out of memory). */
json_t	*bom_cyclonedx(const struct bom *);
json_t	*bom_spdx(const struct bom *);

#endif
