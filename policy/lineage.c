/*
 * lineage.c - a revision and its ancestors, each base found through the
 * caller's resolve function once per repository (policy.h, "Lineage").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

struct build {
	const struct policy_table	*table;
	policy_resolve_fn		 resolve;
	void				*arg;
	struct policy_lineage		*lin;
};

static void
node_free(struct policy_node *n)
{
	if (n == NULL)
		return;
	policy_evidence_free(n->ev);
	for (size_t i = 0; i < n->nbases; i++)
		free(n->base_sources[i]);
	free(n->bases);
	free(n->base_sources);
	json_decref(n->terms);
	free(n->repo);
	free(n);
}

void
policy_lineage_free(struct policy_lineage *lin)
{
	if (lin == NULL)
		return;
	for (size_t i = 0; i < lin->nnodes; i++)
		node_free(lin->nodes[i]);
	free(lin->nodes);
	free(lin);
}

static struct policy_node *
node_find(const struct policy_lineage *lin, const char *repo)
{
	for (size_t i = 0; i < lin->nnodes; i++)
		if (strcmp(lin->nodes[i]->repo, repo) == 0)
			return lin->nodes[i];
	return NULL;
}

/* A node for repo (ev NULL: not held), added to the lineage's list. */
static struct policy_node *
node_new(struct policy_lineage *lin, const char *repo,
    struct policy_evidence *ev)
{
	struct policy_node *n;

	if ((n = calloc(1, sizeof(*n))) == NULL ||
	    (n->repo = strdup(repo)) == NULL) {
		free(n);
		return NULL;
	}
	n->ev = ev;
	lin->nodes[lin->nnodes++] = n;
	return n;
}

static int expand(struct build *, struct policy_node *, int depth);

/* The node of one base: seen before, resolved now, or not held. */
static int
base_node(struct build *b, const char *repo, int depth,
    struct policy_node **out)
{
	struct policy_evidence *ev = NULL;
	struct policy_node *n;
	int rc;

	if ((n = node_find(b->lin, repo)) != NULL) {
		*out = n;
		return 0;
	}
	if (b->lin->nnodes == BOUND_LINEAGE_NODES)
		return policy_fail(POLICY_EINVAL, "lineage of %s: more than "
		    "%d revisions", b->lin->root->repo, BOUND_LINEAGE_NODES);
	if (depth >= BOUND_LINEAGE_DEPTH) {
		b->lin->truncated = 1;
		ev = NULL;
	} else if ((rc = b->resolve(b->arg, repo, &ev)) != 0) {
		if (rc != POLICY_ENOTFOUND)
			return rc;
		ev = NULL;
	}
	if ((n = node_new(b->lin, repo, ev)) == NULL) {
		policy_evidence_free(ev);
		return ENOMEM;
	}
	*out = n;
	return ev != NULL ? expand(b, n, depth + 1) : 0;
}

static int
expand(struct build *b, struct policy_node *n, int depth)
{
	json_t *bases = policy_evidence_bases(n->ev), *m;
	size_t i, nb = json_array_size(bases);
	int rc;

	n->bases = calloc(nb ? nb : 1, sizeof(*n->bases));
	n->base_sources = calloc(nb ? nb : 1, sizeof(*n->base_sources));
	if (n->bases == NULL || n->base_sources == NULL)
		return ENOMEM;
	json_array_foreach(bases, i, m) {
		const char *repo = json_string_value(json_object_get(m, "repo"));
		struct policy_node *base = NULL;

		if ((rc = base_node(b, repo, depth, &base)) != 0)
			return rc;
		n->base_sources[n->nbases] = strdup(json_string_value(
		    json_object_get(m, "source")));
		n->bases[n->nbases++] = base;
	}
	return 0;
}

int
policy_lineage_build(const struct policy_table *t,
    struct policy_evidence *root, policy_resolve_fn resolve, void *arg,
    struct policy_lineage **out)
{
	struct build b = { .table = t, .resolve = resolve, .arg = arg };
	struct policy_lineage *lin;
	int rc;

	*out = NULL;
	if ((lin = calloc(1, sizeof(*lin))) == NULL ||
	    (lin->nodes = calloc(BOUND_LINEAGE_NODES,
	    sizeof(*lin->nodes))) == NULL) {
		free(lin);
		policy_evidence_free(root);
		return ENOMEM;
	}
	b.lin = lin;
	policy_evidence_finish(root);
	if ((lin->root = node_new(lin, root->repo, root)) == NULL) {
		policy_lineage_free(lin);
		policy_evidence_free(root);
		return ENOMEM;
	}
	if ((rc = expand(&b, lin->root, 0)) != 0) {
		policy_lineage_free(lin);
		return rc;
	}
	*out = lin;
	return 0;
}
