/*
 * conclude.c - the licence that governs a revision, from its lineage:
 * declared and concluded terms, flags and obligations (policy.h, "The
 * conclusion"; the rules are tests/policy/README.md's and LICENCES.md's).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"

#define UNKNOWN_BEYOND	"unknown beyond "

struct conclusion {
	const struct policy_table	*table;
	const struct policy_lineage	*lin;
	json_t				*flags;
	json_t				*obligations;
	json_t				*notes;
	json_t				*empty;		/* a cycle's terms */
};

static int
has_string(json_t *list, const char *s)
{
	json_t *m;
	size_t i;

	json_array_foreach(list, i, m)
		if (strcmp(json_string_value(m), s) == 0)
			return 1;
	return 0;
}

static void
add_term(json_t *terms, const char *t)
{
	if (!has_string(terms, t))
		json_array_append_new(terms, json_string(t));
}

static int
is_unknown_beyond(const char *t)
{
	return strncmp(t, UNKNOWN_BEYOND, strlen(UNKNOWN_BEYOND)) == 0;
}

/*
 * Whether an ancestor's term binds node: "unknown beyond" always does
 * (nothing is known to free it); a name the table lacks does too, as
 * nothing says it does not; a known licence when it flows down and node
 * is not its licensor's own.
 */
static int
binds(const struct policy_table *t, const char *term, const char *repo)
{
	const struct policy_licence *l;

	if (is_unknown_beyond(term))
		return 1;
	if (strcmp(term, "unknown") == 0)
		return 0;
	if ((l = policy_licence_find(t, term)) == NULL ||
	    strcmp(l->id, "other") == 0)
		return 1;
	return l->flows_down && !policy_licensor(l, repo);
}

static json_t *terms_of(struct conclusion *, struct policy_node *);

static json_t *
compute_terms(struct conclusion *c, struct policy_node *n)
{
	struct policy_evidence *ev = n->ev;
	const char *rel = policy_evidence_relation(ev);
	int quantized = rel != NULL && strcmp(rel, "quantized") == 0;
	json_t *out = json_array(), *m, *bt;
	size_t i, j;

	/* A quantisation adds nothing of its own but what flows down. */
	json_array_foreach(ev->declared, i, m) {
		const struct policy_licence *l = policy_licence_find(c->table,
		    json_string_value(m));

		if (!quantized || (l != NULL && l->flows_down))
			add_term(out, json_string_value(m));
	}
	for (i = 0; i < n->nbases; i++) {
		bt = terms_of(c, n->bases[i]);
		json_array_foreach(bt, j, m) {
			const char *t = json_string_value(m);

			if (quantized ? strcmp(t, "unknown") != 0 :
			    binds(c->table, t, n->repo))
				add_term(out, t);
		}
	}
	if (json_array_size(out) == 0)
		add_term(out, "unknown");
	return out;
}

static json_t *
terms_of(struct conclusion *c, struct policy_node *n)
{
	char buf[BOUND_REPO_ID + sizeof(UNKNOWN_BEYOND)];

	if (n->terms != NULL)
		return n->terms;
	if (n->ev == NULL) {
		snprintf(buf, sizeof(buf), UNKNOWN_BEYOND "%s", n->repo);
		n->terms = json_pack("[s]", buf);
		return n->terms;
	}
	if (n->visiting) {
		json_array_append_new(c->notes, json_sprintf("%s names itself "
		    "as an ancestor: the cycle is not followed", n->repo));
		return c->empty;
	}
	n->visiting = 1;
	n->terms = compute_terms(c, n);
	n->visiting = 0;
	return n->terms;
}

static char *
joined(json_t *terms)
{
	size_t n = 1, i;
	json_t *m;
	char *s;

	json_array_foreach(terms, i, m)
		n += json_string_length(m) + 5;
	if ((s = malloc(n)) == NULL)
		return NULL;
	s[0] = '\0';
	json_array_foreach(terms, i, m) {
		if (i > 0)
			strcat(s, " AND ");
		strcat(s, json_string_value(m));
	}
	return s;
}

static void
flag(struct conclusion *c, const char *name, const char *licence,
    const char *ancestor, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
flag(struct conclusion *c, const char *name, const char *licence,
    const char *ancestor, const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_array_append_new(c->flags, json_pack("{s:s,s:s,s:s?,s:s?}",
	    "flag", name, "detail", detail, "licence", licence, "ancestor",
	    ancestor));
}

/* The nearest ancestor that declares term itself, breadth first. */
static const char *
origin(const struct policy_lineage *lin, const char *term)
{
	struct policy_node *queue[BOUND_LINEAGE_NODES];
	size_t head = 0, tail = 0;
	char buf[BOUND_REPO_ID + sizeof(UNKNOWN_BEYOND)];

	for (size_t i = 0; i < lin->root->nbases; i++)
		queue[tail++] = lin->root->bases[i];
	while (head < tail) {
		struct policy_node *n = queue[head++];

		if (n->ev == NULL) {
			snprintf(buf, sizeof(buf), UNKNOWN_BEYOND "%s", n->repo);
			if (strcmp(buf, term) == 0)
				return n->repo;
			continue;
		}
		if (has_string(n->ev->declared, term))
			return n->repo;
		for (size_t i = 0; i < n->nbases && tail < BOUND_LINEAGE_NODES;
		    i++)
			queue[tail++] = n->bases[i];
	}
	return NULL;
}

/* The known terms: without "unknown beyond" and "unknown". */
static json_t *
known(json_t *terms)
{
	json_t *out = json_array(), *m;
	size_t i;

	json_array_foreach(terms, i, m)
		if (!is_unknown_beyond(json_string_value(m)) &&
		    strcmp(json_string_value(m), "unknown") != 0)
			json_array_append(out, m);
	return out;
}

static int
same_set(json_t *a, json_t *b)
{
	json_t *m;
	size_t i;

	json_array_foreach(a, i, m)
		if (!has_string(b, json_string_value(m)))
			return 0;
	json_array_foreach(b, i, m)
		if (!has_string(a, json_string_value(m)))
			return 0;
	return 1;
}

static void
flag_declaration(struct conclusion *c, json_t *terms)
{
	struct policy_evidence *ev = c->lin->root->ev;
	json_t *k = known(terms), *m;
	size_t i;

	json_array_foreach(ev->declared, i, m) {
		const char *d = json_string_value(m);

		if (strcmp(d, "other") == 0)
			flag(c, POLICY_FLAG_UNNAMED, NULL, NULL, "license: other "
			    "without a license_name, a known license_link or a "
			    "licence file the table recognises");
		else if (policy_licence_find(c->table, d) == NULL)
			flag(c, POLICY_FLAG_UNKNOWN, d, NULL, "%s is not in the "
			    "licence table: its terms are not known", d);
	}
	if (json_array_size(ev->declared) == 0)
		flag(c, POLICY_FLAG_MISSING, NULL, NULL, "%s declares no "
		    "licence%s", ev->repo, ev->declared_source != NULL ?
		    " (license: unknown)" : "");
	else if (!same_set(ev->declared, k)) {
		char *d = joined(ev->declared), *cc = joined(terms);

		json_array_foreach(k, i, m) {
			const char *t = json_string_value(m);

			if (has_string(ev->declared, t))
				continue;
			flag(c, POLICY_FLAG_DIFFERS, t, origin(c->lin, t),
			    "declares %s, but %s governs it (from %s): the "
			    "concluded licence is %s", d, t,
			    origin(c->lin, t) != NULL ? origin(c->lin, t) :
			    "its base", cc);
		}
		json_array_foreach(ev->declared, i, m)
			if (!has_string(k, json_string_value(m)) &&
			    json_array_size(k) > 0)
				flag(c, POLICY_FLAG_DIFFERS,
				    json_string_value(m), NULL, "declares %s, "
				    "which a quantisation of its base cannot "
				    "add: the concluded licence is %s",
				    json_string_value(m), cc);
		free(d);
		free(cc);
	}
	json_decref(k);
}

/* The model name without its organisation, letters and digits only. */
static void
squash(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s != '\0' && n + 1 < size; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'))
			out[n++] = *s;
		else if (*s >= 'A' && *s <= 'Z')
			out[n++] = *s + ('a' - 'A');
	out[n] = '\0';
}

static void
flag_naming(struct conclusion *c, json_t *terms)
{
	struct policy_node *root = c->lin->root;
	const char *rel = policy_evidence_relation(root->ev);
	const char *name = strchr(root->repo, '/');
	char have[BOUND_REPO_ID + 1], want[64];
	json_t *m;
	size_t i;

	if (rel == NULL || strcmp(rel, "quantized") == 0 || name == NULL)
		return;
	squash(name + 1, have, sizeof(have));
	json_array_foreach(terms, i, m) {
		const struct policy_licence *l = policy_licence_find(c->table,
		    json_string_value(m));

		if (l == NULL || l->name_prefix == NULL ||
		    policy_licensor(l, root->repo))
			continue;
		squash(l->name_prefix, want, sizeof(want));
		if (strncmp(have, want, strlen(want)) != 0)
			flag(c, POLICY_FLAG_NAMING, l->id, origin(c->lin, l->id),
			    "%s is a %s of a model under %s, whose name must "
			    "start with \"%s\"", name + 1, rel, l->id,
			    l->name_prefix);
	}
}

static int
non_commercial(const struct policy_table *t, json_t *terms)
{
	json_t *m;
	size_t i;

	json_array_foreach(terms, i, m) {
		const struct policy_licence *l = policy_licence_find(t,
		    json_string_value(m));

		if (l != NULL && l->non_commercial)
			return 1;
	}
	return 0;
}

static void
flag_merge(struct conclusion *c)
{
	struct policy_node *root = c->lin->root;
	const char *rel = policy_evidence_relation(root->ev), *nc = NULL,
	    *free_ = NULL;

	if (rel == NULL || strcmp(rel, "merge") != 0)
		return;
	for (size_t i = 0; i < root->nbases; i++) {
		struct policy_node *b = root->bases[i];

		if (b->ev == NULL)
			continue;
		if (non_commercial(c->table, terms_of(c, b)))
			nc = b->repo;
		else
			free_ = b->repo;
	}
	if (nc != NULL && free_ != NULL)
		flag(c, POLICY_FLAG_MERGE, NULL, nc, "merges %s, under "
		    "non-commercial terms, with %s, under commercial ones: the "
		    "merge is non-commercial", nc, free_);
}

static void
flag_history(struct conclusion *c)
{
	struct policy_evidence *ev = c->lin->root->ev;
	json_t *h;
	size_t i;

	json_array_foreach(ev->history, i, h) {
		json_t *d = json_object_get(h, "declared");
		char *was, *now;

		if (same_set(d, ev->declared))
			continue;
		was = joined(d);
		now = joined(ev->declared);
		flag(c, POLICY_FLAG_CHANGED, NULL, NULL, "revision %s declared "
		    "%s; this one declares %s",
		    json_string_value(json_object_get(h, "revision")),
		    was != NULL && *was ? was : "nothing",
		    now != NULL && *now ? now : "nothing");
		free(was);
		free(now);
	}
}

static int
file_names(const struct policy_file *f, const struct policy_licence *l)
{
	if (f->text == NULL || f->licence == l)
		return 1;
	for (size_t i = 0; i < l->ntitles; i++)
		if (policy_text_contains(f->text, l->titles[i]))
			return 1;
	return 0;
}

static void
flag_files(struct conclusion *c, json_t *terms)
{
	struct policy_evidence *ev = c->lin->root->ev;
	json_t *m;
	size_t i;

	json_array_foreach(terms, i, m) {
		const struct policy_licence *l = policy_licence_find(c->table,
		    json_string_value(m));
		int copy = 0, notice = 0;
		char *norm = NULL;

		if (l == NULL || !l->flows_down || policy_licensor(l, ev->repo))
			continue;
		if (l->notice != NULL &&
		    policy_normalise(l->notice, strlen(l->notice), &norm,
		    NULL) != 0)
			continue;
		for (size_t f = 0; f < ev->nfiles; f++) {
			const struct policy_file *pf = &ev->files[f];

			if (!pf->notice && file_names(pf, l))
				copy = 1;
			if (pf->notice && norm != NULL && (pf->text == NULL ||
			    policy_text_contains(pf->text, norm)))
				notice = 1;
		}
		if (l->licence_copy && !copy)
			flag(c, POLICY_FLAG_NOFILE, l->id, origin(c->lin, l->id),
			    "no LICENSE file holds %s, which recipients must "
			    "be given", l->name);
		if (norm != NULL && !notice)
			flag(c, POLICY_FLAG_NONOTICE, l->id,
			    origin(c->lin, l->id), "no Notice file says \"%s\"",
			    l->notice);
		free(norm);
	}
}

static void
flag_ancestors(struct conclusion *c)
{
	const struct policy_lineage *lin = c->lin;

	for (size_t i = 0; i < lin->nnodes; i++)
		if (lin->nodes[i]->ev == NULL)
			flag(c, POLICY_FLAG_ANCESTOR, NULL, lin->nodes[i]->repo,
			    "%s is not held: the lineage is unknown beyond it",
			    lin->nodes[i]->repo);
	if (lin->truncated)
		json_array_append_new(c->notes, json_sprintf("the lineage is "
		    "deeper than %d generations: it was cut there",
		    BOUND_LINEAGE_DEPTH));
}

static void
oblige(struct conclusion *c, const char *kind, const char *licence,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
oblige(struct conclusion *c, const char *kind, const char *licence,
    const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_array_append_new(c->obligations, json_pack("{s:s,s:s?,s:s}",
	    "obligation", kind, "licence", licence, "text", text));
}

static int
chain_multimodal(const struct policy_lineage *lin)
{
	for (size_t i = 0; i < lin->nnodes; i++)
		if (lin->nodes[i]->ev != NULL && lin->nodes[i]->ev->multimodal)
			return 1;
	return 0;
}

static void
obligations(struct conclusion *c, json_t *terms)
{
	const struct policy_lineage *lin = c->lin;
	json_t *m;
	size_t i;

	json_array_foreach(terms, i, m) {
		const struct policy_licence *l = policy_licence_find(c->table,
		    json_string_value(m));

		if (l == NULL)
			continue;
		if (l->licence_copy)
			oblige(c, "licence-copy", l->id, "give recipients a copy "
			    "of the %s (%s)", l->name, l->source);
		if (l->notice != NULL)
			oblige(c, "notice", l->id, "keep a Notice file that says "
			    "\"%s\"", l->notice);
		if (l->built_with != NULL)
			oblige(c, "built-with", l->id, "display \"%s\" where "
			    "the model or a product using it is presented",
			    l->built_with);
		if (l->name_prefix != NULL)
			oblige(c, "naming", l->id, "a model made with it or its "
			    "outputs has a name that starts with \"%s\"",
			    l->name_prefix);
		if (l->user_threshold > 0)
			oblige(c, "user-threshold", l->id, "more than %llu "
			    "monthly active users needs a licence from the "
			    "licensor", (unsigned long long)l->user_threshold);
		if (l->use_policy != NULL)
			oblige(c, "use-policy", l->id, "use within %s",
			    l->use_policy);
		if (l->non_commercial)
			oblige(c, "non-commercial", l->id, "non-commercial use "
			    "only (%s)", l->name);
		if (l->eu_multimodal && chain_multimodal(lin))
			oblige(c, "eu-restriction", l->id, "no rights to this "
			    "multimodal model for individuals domiciled in, or "
			    "companies with a principal place of business in, "
			    "the European Union (end users of a product are "
			    "exempt)");
		if (l->outputs != NULL)
			oblige(c, "outputs", l->id, "outputs: %s", l->outputs);
		if (l->note != NULL)
			json_array_append_new(c->notes, json_sprintf("%s: %s",
			    l->id, l->note));
	}
	for (size_t n = 0; n < lin->nnodes; n++)
		if (lin->nodes[n]->ev != NULL && lin->nodes[n]->ev->eu_disallowed)
			oblige(c, "eu-restriction", NULL, "%s is closed to users "
			    "in the European Union (extra_gated_eu_disallowed)",
			    lin->nodes[n]->repo);
}

static json_t *
chain(const struct policy_lineage *lin)
{
	struct {
		struct policy_node	*n;
		struct policy_node	*of;
		const char		*source;
		int			 depth;
	} stack[BOUND_LINEAGE_NODES];
	char seen[BOUND_LINEAGE_NODES] = { 0 };
	json_t *out = json_array();
	size_t top = 0;

	stack[top].n = lin->root;
	stack[top].of = NULL;
	stack[top].source = NULL;
	stack[top++].depth = 0;
	while (top > 0) {
		struct policy_node *n = stack[--top].n, *of = stack[top].of;
		const char *src = stack[top].source;
		int depth = stack[top].depth;
		size_t idx;
		char *d = NULL;

		for (idx = 0; lin->nodes[idx] != n; idx++)
			;
		if (seen[idx])
			continue;
		seen[idx] = 1;
		if (n->ev != NULL && json_array_size(n->ev->declared) > 0)
			d = joined(n->ev->declared);
		json_array_append_new(out, json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,"
		    "s:i,s:s?,s:b}", "repo", n->repo, "commit", n->ev != NULL ?
		    n->ev->commit : NULL, "declared", d, "relation",
		    n->ev != NULL ? policy_evidence_relation(n->ev) : NULL,
		    "source", src, "depth", depth, "base_of",
		    of != NULL ? of->repo : NULL, "held", n->ev != NULL));
		free(d);
		for (size_t i = n->nbases; i > 0 && top < BOUND_LINEAGE_NODES;
		    i--) {
			stack[top].n = n->bases[i - 1];
			stack[top].of = n;
			stack[top].source = n->base_sources[i - 1];
			stack[top++].depth = depth + 1;
		}
	}
	return out;
}

int
policy_conclude(const struct policy_table *t,
    const struct policy_lineage *lin, json_t **out)
{
	struct conclusion c = { .table = t, .lin = lin };
	struct policy_evidence *ev = lin->root->ev;
	json_t *terms, *beyond, *m;
	char *declared, *concluded;
	size_t i;

	*out = NULL;
	c.flags = json_array();
	c.obligations = json_array();
	c.notes = json_array();
	c.empty = json_array();
	terms = terms_of(&c, lin->root);
	flag_declaration(&c, terms);
	flag_naming(&c, terms);
	flag_merge(&c);
	flag_history(&c);
	flag_files(&c, terms);
	flag_ancestors(&c);
	obligations(&c, terms);
	beyond = json_array();
	json_array_foreach(terms, i, m)
		if (is_unknown_beyond(json_string_value(m)))
			json_array_append_new(beyond, json_string(
			    json_string_value(m) + strlen(UNKNOWN_BEYOND)));
	declared = json_array_size(ev->declared) > 0 ? joined(ev->declared) :
	    NULL;
	concluded = joined(terms);
	json_array_foreach(ev->notes, i, m)
		json_array_append_new(c.notes, json_sprintf("%s: %s",
		    json_string_value(json_object_get(m, "file")),
		    json_string_value(json_object_get(m, "note"))));
	*out = json_pack("{s:s,s:s?,s:s?,s:s?,s:s?,s:o,s:o,s:o,s:o,s:o}",
	    "repo", ev->repo, "commit", ev->commit, "declared", declared,
	    "declared_source", ev->declared_source, "concluded", concluded,
	    "unknown_beyond", beyond, "chain", chain(lin), "flags", c.flags,
	    "obligations", c.obligations, "notes", c.notes);
	free(declared);
	free(concluded);
	json_decref(c.empty);
	return *out != NULL ? 0 : ENOMEM;
}
