/*
 * conf.c - airlockd.conf(5), read with libinih.
 *
 * Every problem is reported with the file and line it is on, all of them
 * and not only the first, so that `airlockd -n` shows a whole broken file
 * at once.  A configuration is never changed after it is loaded: SIGHUP loads a
 * new one and swaps it in only if it has no error.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/util.h>
#include <ini.h>
#include <sodium.h>

#include "daemon/airlockd.h"
#include "policy/policy.h"

struct parse {
	struct conf	*cf;
	FILE		*fp;
	const char	*file;
	int		 line;
	int		 errors;
	conf_err_fn	 err;
	int		 bad_section;	/* its header's mistake is reported */
};

static void
perror_at(struct parse *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
perror_at(struct parse *p, const char *fmt, ...)
{
	char msg[512], line[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s:%d: %s", p->file, p->line, msg);
	p->errors++;
	if (p->err != NULL)
		p->err(line);
}

struct conf *
conf_defaults(void)
{
	struct conf *cf;

	if ((cf = calloc(1, sizeof(*cf))) == NULL)
		return NULL;
	cf->cf_refs = 1;
	cf->cf_listen = strdup(AIRLOCKD_LISTEN);
	cf->cf_store = strdup(AIRLOCKD_STORE);
	cf->cf_upstream = strdup(AIRLOCKD_UPSTREAM);
	if (cf->cf_listen == NULL || cf->cf_store == NULL ||
	    cf->cf_upstream == NULL) {
		conf_unref(cf);
		return NULL;
	}
	cf->cf_workers = 0;	/* auto */
	cf->cf_read_threads = 0;
	cf->cf_max_connections = BOUND_HTTP_CONNECTIONS;
	cf->cf_max_header_size = BOUND_HTTP_HEADERS;
	cf->cf_max_body_size = BOUND_HTTP_BODY;
	cf->cf_timeout = 60;
	cf->cf_drain_timeout = 30;
	cf->cf_tree_page_size = 1000;
	cf->cf_buffer_size = 1 << 20;
	cf->cf_buffers = 16;
	cf->cf_stall_timeout = 10;
	cf->cf_map_budget = 16 << 20;
	cf->cf_sendfile = 1;
	cf->cf_splice = 1;
	cf->cf_windows = 256;
	cf->cf_downloads_flush = 10;
	return cf;
}

struct conf *
conf_ref(struct conf *cf)
{
	__atomic_add_fetch(&cf->cf_refs, 1, __ATOMIC_RELAXED);
	return cf;
}

static void
secret_free(char *s)
{
	if (s == NULL)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

static void
strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
mirror_conf_free(struct mirror_conf *mc)
{
	free(mc->mc_name);
	free(mc->mc_upstream);
	free(mc->mc_token_file);
	secret_free(mc->mc_token);
	strv_free(mc->mc_repos, mc->mc_nrepos);
	strv_free(mc->mc_include, mc->mc_ninclude);
	strv_free(mc->mc_exclude, mc->mc_nexclude);
}

void
conf_unref(struct conf *cf)
{
	size_t i, j;

	if (cf == NULL || __atomic_sub_fetch(&cf->cf_refs, 1,
	    __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < cf->cf_nmirrors; i++)
		mirror_conf_free(&cf->cf_mirrors[i]);
	free(cf->cf_mirrors);
	for (i = 0; i < cf->cf_nadmin; i++)
		secret_free(cf->cf_admin_tokens[i]);
	free(cf->cf_admin_tokens);
	free(cf->cf_upstream);
	free(cf->cf_token_file);
	secret_free(cf->cf_token);
	free(cf->cf_signing_key);
	for (i = 0; i < cf->cf_nprivate; i++) {
		struct private_ns *pn = &cf->cf_private[i];

		for (j = 0; j < pn->pn_ntokens; j++) {
			sodium_memzero(pn->pn_tokens[j],
			    strlen(pn->pn_tokens[j]));
			free(pn->pn_tokens[j]);
		}
		free(pn->pn_tokens);
		for (j = 0; j < pn->pn_nusers; j++)
			free(pn->pn_users[j]);
		free(pn->pn_users);
		free(pn->pn_name);
	}
	free(cf->cf_private);
	json_decref(cf->cf_policy_doc);
	policy_rules_free(cf->cf_policy);
	for (i = 0; i < cf->cf_nusers; i++) {
		if (cf->cf_users[i].tu_token != NULL) {
			sodium_memzero(cf->cf_users[i].tu_token,
			    strlen(cf->cf_users[i].tu_token));
			free(cf->cf_users[i].tu_token);
		}
		free(cf->cf_users[i].tu_name);
	}
	free(cf->cf_users);
	free(cf->cf_file);
	free(cf->cf_listen);
	free(cf->cf_store);
	free(cf->cf_public_url);
	free(cf);
}

static int
set_string(struct parse *p, char **dst, const char *value)
{
	char *s;

	if (*value == '\0') {
		perror_at(p, "empty value");
		return 0;
	}
	if ((s = strdup(value)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	free(*dst);
	*dst = s;
	return 1;
}

static int
set_number(struct parse *p, const char *name, const char *value,
    long long min, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (end == value || errno != 0)
		goto bad;
	/* Sizes may say K or M. */
	if (*end == 'k' || *end == 'K') {
		if (v > LLONG_MAX / 1024)
			goto bad;
		v *= 1024, end++;
	} else if (*end == 'm' || *end == 'M') {
		if (v > LLONG_MAX / (1024 * 1024))
			goto bad;
		v *= 1024 * 1024, end++;
	}
	if (*end != '\0')
		goto bad;
	if (v < min || v > max) {
		perror_at(p, "%s: %s is out of range (%lld to %lld)", name,
		    value, min, max);
		return 0;
	}
	*out = v;
	return 1;
bad:
	perror_at(p, "%s: \"%s\" is not a number", name, value);
	return 0;
}

static int
listen_valid(const char *value)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	/* A port is required: evutil accepts an address without one. */
	if (strrchr(value, ':') == NULL || value[strlen(value) - 1] == ']')
		return 0;
	return evutil_parse_sockaddr_port(value, (struct sockaddr *)&ss,
	    &len) == 0;
}

static int
url_valid(const char *url)
{
	const char *p;

	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return 0;
	if (*p == '\0' || *p == '/')
		return 0;
	for (; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '"' || *p == '<' ||
		    *p == '>')
			return 0;
	return url[strlen(url) - 1] != '/';
}

static int
token_valid(const char *t)
{
	size_t len = strlen(t);

	if (strncmp(t, "hf_", 3) != 0 || len < 8 || len > BOUND_TOKEN)
		return 0;
	for (; *t != '\0'; t++)
		if (!isgraph((unsigned char)*t))
			return 0;
	return 1;
}

/* A path as written, or relative to the configuration file's directory. */
static char *
conf_path(struct parse *p, const char *value)
{
	const char *slash = strrchr(p->file, '/');
	char *s;

	if (value[0] == '/' || slash == NULL)
		return strdup(value);
	if (asprintf(&s, "%.*s/%s", (int)(slash - p->file), p->file,
	    value) == -1)
		return NULL;
	return s;
}

/*
 * A token file: one line, a token as clients send it (`hf auth login`
 * writes such a file).  what names the option for the messages, which
 * never show the token.
 */
static int
read_token(struct parse *p, const char *what, const char *path, char **out)
{
	char buf[BOUND_TOKEN + 3];
	size_t len = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		perror_at(p, "%s: %s: %s", what, path, strerror(errno));
		return 0;
	}
	while (len < sizeof(buf) - 1 &&
	    (r = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			perror_at(p, "%s: %s: %s", what, path, strerror(errno));
			close(fd);
			return 0;
		}
		len += (size_t)r;
	}
	close(fd);
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	buf[len] = '\0';
	if (len == 0 || len > BOUND_TOKEN || strlen(buf) != len ||
	    strcspn(buf, " \t\r\n") != len) {
		sodium_memzero(buf, sizeof(buf));
		perror_at(p, "%s: %s: not a token (one line of 1 to %d "
		    "characters, no spaces)", what, path, BOUND_TOKEN);
		return 0;
	}
	secret_free(*out);
	*out = strdup(buf);
	sodium_memzero(buf, sizeof(buf));
	if (*out == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	return 1;
}

static int
token_file_option(struct parse *p, const char *what, const char *value,
    char **file, char **token)
{
	char *path;
	int ok;

	if (*value == '\0') {
		perror_at(p, "%s: empty value", what);
		return 0;
	}
	if ((path = conf_path(p, value)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	ok = read_token(p, what, path, token);
	free(*file);
	*file = path;
	return ok;
}

/* Appends to a NULL-terminated list of at most max. */
static int
strv_add(struct parse *p, const char *what, char ***v, size_t *n,
    size_t max, const char *value)
{
	char **nv;

	if (*n >= max) {
		perror_at(p, "%s: more than %zu", what, max);
		return 0;
	}
	if ((nv = reallocarray(*v, *n + 2, sizeof(*nv))) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	*v = nv;
	if ((nv[*n] = strdup(value)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	nv[++*n] = NULL;
	return 1;
}

/* Calls fn for each word of a list split on white space and commas. */
static int
each_word(struct parse *p, const char *what, const char *value,
    int (*fn)(struct parse *, void *, const char *), void *arg)
{
	char word[BOUND_GLOB + 1];
	const char *w = value;
	int ok = 1, any = 0;

	for (;;) {
		size_t len;

		w += strspn(w, " \t,");
		if (*w == '\0')
			break;
		len = strcspn(w, " \t,");
		any = 1;
		if (len >= sizeof(word)) {
			perror_at(p, "%s: \"%.40s...\": longer than %d bytes",
			    what, w, BOUND_GLOB);
			ok = 0;
		} else {
			memcpy(word, w, len);
			word[len] = '\0';
			if (!fn(p, arg, word))
				ok = 0;
		}
		w += len;
	}
	if (!any) {
		perror_at(p, "%s: empty list", what);
		return 0;
	}
	return ok;
}

int
conf_repo_rev(const char *spec, char *repo, size_t rsize, char *rev,
    size_t vsize)
{
	const char *at = strchr(spec, '@');
	size_t rlen = at != NULL ? (size_t)(at - spec) : strlen(spec);
	const char *r = at != NULL ? at + 1 : "main";

	if (rlen >= rsize || strlen(r) >= vsize)
		return -1;
	memcpy(repo, spec, rlen);
	repo[rlen] = '\0';
	strcpy(rev, r);
	if (!store_repo_valid(repo) || !store_revision_valid(rev) ||
	    strncmp(rev, "sha256:", 7) == 0)
		return -1;
	return 0;
}

static int	number_option(struct parse *, const char *, const char *);

static int
global_option(struct parse *p, const char *name, const char *value)
{
	struct conf *cf = p->cf;

	if (strcmp(name, "listen") == 0) {
		if (!listen_valid(value)) {
			perror_at(p, "listen: \"%s\" is not ADDRESS:PORT", value);
			return 0;
		}
		return set_string(p, &cf->cf_listen, value);
	}
	if (strcmp(name, "store") == 0)
		return set_string(p, &cf->cf_store, value);
	if (strcmp(name, "upstream") == 0) {
		if (!url_valid(value)) {
			perror_at(p, "upstream: \"%s\" is not an http(s) URL "
			    "without a trailing slash", value);
			return 0;
		}
		return set_string(p, &cf->cf_upstream, value);
	}
	if (strcmp(name, "token-file") == 0)
		return token_file_option(p, "token-file", value,
		    &cf->cf_token_file, &cf->cf_token);
	if (strcmp(name, "signing-key") == 0) {
		char *path;

		if (*value == '\0') {
			perror_at(p, "signing-key: empty value");
			return 0;
		}
		if ((path = conf_path(p, value)) == NULL) {
			perror_at(p, "out of memory");
			return 0;
		}
		free(cf->cf_signing_key);
		cf->cf_signing_key = path;
		return 1;
	}
	if (strcmp(name, "public-url") == 0) {
		if (!url_valid(value)) {
			perror_at(p, "public-url: \"%s\" is not an http(s) URL "
			    "without a trailing slash", value);
			return 0;
		}
		return set_string(p, &cf->cf_public_url, value);
	}
	if ((strcmp(name, "workers") == 0 ||
	    strcmp(name, "read-threads") == 0) && strcmp(value, "auto") == 0) {
		if (name[0] == 'w')
			cf->cf_workers = 0;
		else
			cf->cf_read_threads = 0;
		return 1;
	}
	if (strcmp(name, "sendfile") == 0 || strcmp(name, "splice") == 0) {
		int *on = name[1] == 'e' ? &cf->cf_sendfile : &cf->cf_splice;

		if (strcmp(value, "yes") == 0)
			*on = 1;
		else if (strcmp(value, "no") == 0)
			*on = 0;
		else {
			perror_at(p, "%s: \"%s\" is not yes or no", name, value);
			return 0;
		}
		return 1;
	}
	return number_option(p, name, value);
}

/* The numeric options of the global section: name, range, field. */
static const struct number_option {
	const char	*no_name;
	long long	 no_min, no_max;
	size_t		 no_offset;	/* in struct conf */
	int		 no_size_t;	/* a size_t, else an int */
} number_options[] = {
	{ "workers", 1, BOUND_LOOPS, offsetof(struct conf, cf_workers), 0 },
	{ "read-threads", 1, BOUND_READ_THREADS,
	    offsetof(struct conf, cf_read_threads), 0 },
	{ "max-connections", 1, 65536,
	    offsetof(struct conf, cf_max_connections), 0 },
	{ "max-header-size", 1024, 1 << 20,
	    offsetof(struct conf, cf_max_header_size), 0 },
	{ "max-body-size", 1024, 64 << 20,
	    offsetof(struct conf, cf_max_body_size), 0 },
	{ "timeout", 1, 3600, offsetof(struct conf, cf_timeout), 0 },
	{ "drain-timeout", 0, 3600, offsetof(struct conf, cf_drain_timeout),
	    0 },
	{ "tree-page-size", 1, 100000,
	    offsetof(struct conf, cf_tree_page_size), 0 },
	{ "read-size", 16 << 10, 16 << 20,
	    offsetof(struct conf, cf_buffer_size), 1 },
	{ "stall-timeout", 1, 3600, offsetof(struct conf, cf_stall_timeout),
	    0 },
	{ "map-budget", 4 << 20, 1LL << 40,
	    offsetof(struct conf, cf_map_budget), 1 },
	{ "send-windows", 2, 768, offsetof(struct conf, cf_windows), 0 },
	{ "downloads-flush", 0, 3600,
	    offsetof(struct conf, cf_downloads_flush), 0 },
	{ "read-buffers", 4, 4096, offsetof(struct conf, cf_buffers), 0 },
};

static int
number_option(struct parse *p, const char *name, const char *value)
{
	const struct number_option *no;
	char *field;
	long long v;

	for (size_t i = 0; i < sizeof(number_options) /
	    sizeof(number_options[0]); i++) {
		no = &number_options[i];
		if (strcmp(name, no->no_name) != 0)
			continue;
		if (!set_number(p, name, value, no->no_min, no->no_max, &v))
			return 0;
		field = (char *)p->cf + no->no_offset;
		if (no->no_size_t)
			*(size_t *)(void *)field = (size_t)v;
		else
			*(int *)(void *)field = (int)v;
		return 1;
	}
	perror_at(p, "unknown option \"%s\"", name);
	return 0;
}

static struct private_ns *
private_section(struct parse *p, const char *ns)
{
	struct conf *cf = p->cf;
	struct private_ns *pn;
	size_t i;

	for (i = 0; i < cf->cf_nprivate; i++)
		if (strcmp(cf->cf_private[i].pn_name, ns) == 0)
			return &cf->cf_private[i];
	pn = reallocarray(cf->cf_private, cf->cf_nprivate + 1, sizeof(*pn));
	if (pn == NULL)
		return NULL;
	cf->cf_private = pn;
	pn = &cf->cf_private[cf->cf_nprivate];
	memset(pn, 0, sizeof(*pn));
	if ((pn->pn_name = strdup(ns)) == NULL)
		return NULL;
	cf->cf_nprivate++;
	return pn;
}

/* user = NAME: the token of the section [token NAME] may read it too. */
static int
private_user(struct parse *p, const char *ns, const char *value)
{
	struct private_ns *pn;
	char **users;

	if ((pn = private_section(p, ns)) == NULL ||
	    (users = reallocarray(pn->pn_users, pn->pn_nusers + 1,
	    sizeof(*users))) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	pn->pn_users = users;
	if ((users[pn->pn_nusers] = strdup(value)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	pn->pn_nusers++;
	return 1;
}

static int
user_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > BOUND_REPO_PART || !isalnum((unsigned char)*s))
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("-_.", *s) == NULL)
			return 0;
	return 1;
}

static struct token_user *
user_section(struct parse *p, const char *name)
{
	struct conf *cf = p->cf;
	struct token_user *tu;
	size_t i;

	for (i = 0; i < cf->cf_nusers; i++)
		if (strcmp(cf->cf_users[i].tu_name, name) == 0)
			return &cf->cf_users[i];
	tu = reallocarray(cf->cf_users, cf->cf_nusers + 1, sizeof(*tu));
	if (tu == NULL)
		return NULL;
	cf->cf_users = tu;
	tu = &cf->cf_users[cf->cf_nusers];
	memset(tu, 0, sizeof(*tu));
	if ((tu->tu_name = strdup(name)) == NULL)
		return NULL;
	cf->cf_nusers++;
	return tu;
}

/* [token NAME]: token = hf_..., role = read | write | admin. */
static int
user_option(struct parse *p, const char *user, const char *name,
    const char *value)
{
	struct token_user *tu;
	int role;

	if (!user_name_valid(user)) {
		perror_at(p, "[token %s]: a name is letters, digits and "
		    "\"-_.\", at most %d", user, BOUND_REPO_PART);
		return 0;
	}
	if ((tu = user_section(p, user)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	if (strcmp(name, "role") == 0) {
		for (role = ROLE_READ; role <= ROLE_ADMIN; role++)
			if (strcmp(value, conf_role_name(role)) == 0)
				break;
		if (role > ROLE_ADMIN) {
			perror_at(p, "[token %s]: role \"%s\" is not read, "
			    "write or admin", user, value);
			return 0;
		}
		tu->tu_role = role;
		return 1;
	}
	if (strcmp(name, "token") != 0) {
		perror_at(p, "[token %s]: unknown option \"%s\"", user, name);
		return 0;
	}
	if (!token_valid(value)) {
		perror_at(p, "[token %s]: a token must start with \"hf_\" "
		    "and be 8 to %d printable characters", user, BOUND_TOKEN);
		return 0;
	}
	if (tu->tu_token != NULL) {
		perror_at(p, "[token %s]: a second token", user);
		return 0;
	}
	if ((tu->tu_token = strdup(value)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	return 1;
}

static int
private_option(struct parse *p, const char *ns, const char *name,
    const char *value)
{
	struct private_ns *pn;
	char **tokens;

	if (!store_repo_valid(ns)) {
		perror_at(p, "[private %s]: not an ORG or ORG/NAME", ns);
		return 0;
	}
	if (strcmp(name, "user") == 0)
		return private_user(p, ns, value);
	if (strcmp(name, "token") != 0) {
		perror_at(p, "[private %s]: unknown option \"%s\"", ns, name);
		return 0;
	}
	if (!token_valid(value)) {
		/* Never echo what may be a secret. */
		perror_at(p, "[private %s]: a token must start with \"hf_\" "
		    "and be 8 to %d printable characters", ns, BOUND_TOKEN);
		return 0;
	}
	if ((pn = private_section(p, ns)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	tokens = reallocarray(pn->pn_tokens, pn->pn_ntokens + 1,
	    sizeof(*tokens));
	if (tokens == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	pn->pn_tokens = tokens;
	if ((tokens[pn->pn_ntokens] = strdup(value)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	pn->pn_ntokens++;
	return 1;
}

/*
 * [policy]: the keys of a policy file (airlock policy set), lists as
 * words separated by spaces or commas, yes or no for the boolean.  The
 * section is read into the same document and checked whole by the same
 * reader once the file is read.
 */
static int
policy_option(struct parse *p, const char *name, const char *value)
{
	struct conf *cf = p->cf;
	json_t *v = NULL;
	long long n;

	if (cf->cf_policy_doc == NULL) {
		if ((cf->cf_policy_doc = json_object()) == NULL) {
			perror_at(p, "out of memory");
			return 0;
		}
		cf->cf_policy_line = p->line;
	}
	if (strcmp(name, "allow") == 0 || strcmp(name, "deny") == 0 ||
	    strcmp(name, "refuse_flags") == 0) {
		char *copy, *w, *save = NULL;

		if ((v = json_array()) == NULL || (copy = strdup(value)) == NULL) {
			json_decref(v);
			perror_at(p, "out of memory");
			return 0;
		}
		for (w = strtok_r(copy, " \t,", &save); w != NULL;
		    w = strtok_r(NULL, " \t,", &save))
			json_array_append_new(v, json_string(w));
		free(copy);
	} else if (strcmp(name, "min_signatures") == 0) {
		if (!set_number(p, name, value, 0, 100, &n))
			return 0;
		v = json_integer(n);
	} else if (strcmp(name, "allow_unknown_lineage") == 0) {
		if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0) {
			perror_at(p, "[policy] %s: \"%s\" is not yes or no",
			    name, value);
			return 0;
		}
		v = json_boolean(strcmp(value, "yes") == 0);
	} else {
		perror_at(p, "[policy]: unknown option \"%s\"", name);
		return 0;
	}
	if (json_object_get(cf->cf_policy_doc, name) != NULL) {
		json_decref(v);
		perror_at(p, "[policy] %s: given twice", name);
		return 0;
	}
	json_object_set_new(cf->cf_policy_doc, name, v);
	return 1;
}

/* The [policy] section through policy_rules_parse, as a policy file. */
static void
policy_check(struct parse *p)
{
	struct conf *cf = p->cf;
	struct policy_table *t = NULL;
	char *doc;

	if (cf->cf_policy_doc == NULL)
		return;
	p->line = cf->cf_policy_line;
	if (policy_table_load(NULL, &t) != 0) {
		perror_at(p, "[policy]: %s", policy_lasterror());
		return;
	}
	if ((doc = json_dumps(cf->cf_policy_doc, JSON_COMPACT)) == NULL)
		perror_at(p, "out of memory");
	else if (policy_rules_parse(t, doc, strlen(doc), &cf->cf_policy) != 0)
		perror_at(p, "[policy]: %s", policy_lasterror());
	free(doc);
	policy_table_free(t);
}

static int
admin_option(struct parse *p, const char *name, const char *value)
{
	struct conf *cf = p->cf;
	char **tokens;

	if (strcmp(name, "token") != 0) {
		perror_at(p, "[admin]: unknown option \"%s\"", name);
		return 0;
	}
	if (!token_valid(value)) {
		perror_at(p, "[admin] token: a token must start with \"hf_\" "
		    "and be 8 to %d printable characters", BOUND_TOKEN);
		return 0;
	}
	if (cf->cf_nadmin >= BOUND_ADMIN_TOKENS) {
		perror_at(p, "[admin] token: more than %d", BOUND_ADMIN_TOKENS);
		return 0;
	}
	tokens = reallocarray(cf->cf_admin_tokens, cf->cf_nadmin + 1,
	    sizeof(*tokens));
	if (tokens == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	cf->cf_admin_tokens = tokens;
	if ((tokens[cf->cf_nadmin] = strdup(value)) == NULL) {
		perror_at(p, "out of memory");
		return 0;
	}
	cf->cf_nadmin++;
	return 1;
}

/* The NAME of [mirror "NAME"] (quotes optional), or NULL. */
static int
mirror_name(const char *s, char *out, size_t size)
{
	size_t len = strlen(s);

	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	if (len == 0 || len > BOUND_MIRROR_NAME || len >= size)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("._-", s[i]) == NULL)
			return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

static struct mirror_conf *
mirror_section(struct parse *p, const char *name)
{
	struct conf *cf = p->cf;
	struct mirror_conf *mc;

	for (size_t i = 0; i < cf->cf_nmirrors; i++)
		if (strcmp(cf->cf_mirrors[i].mc_name, name) == 0)
			return &cf->cf_mirrors[i];
	if (cf->cf_nmirrors >= BOUND_MIRRORS) {
		perror_at(p, "more than %d [mirror] sections", BOUND_MIRRORS);
		return NULL;
	}
	mc = reallocarray(cf->cf_mirrors, cf->cf_nmirrors + 1, sizeof(*mc));
	if (mc == NULL) {
		perror_at(p, "out of memory");
		return NULL;
	}
	cf->cf_mirrors = mc;
	mc = &cf->cf_mirrors[cf->cf_nmirrors];
	memset(mc, 0, sizeof(*mc));
	mc->mc_type = "model";
	if ((mc->mc_name = strdup(name)) == NULL) {
		perror_at(p, "out of memory");
		return NULL;
	}
	cf->cf_nmirrors++;
	return mc;
}

struct word_arg {
	struct mirror_conf	*mc;
	char			 what[BOUND_MIRROR_NAME + 32];
	int			 globs;		/* 1 include, 2 exclude */
};

static int
repo_word(struct parse *p, void *arg, const char *w)
{
	struct word_arg *wa = arg;
	char repo[BOUND_REPO_ID + 1], rev[BOUND_REVISION + 1];

	if (conf_repo_rev(w, repo, sizeof(repo), rev, sizeof(rev)) != 0) {
		perror_at(p, "%s: \"%s\" is not ORG/NAME[@REVISION]",
		    wa->what, w);
		return 0;
	}
	for (size_t i = 0; i < wa->mc->mc_nrepos; i++)
		if (strcmp(wa->mc->mc_repos[i], w) == 0) {
			perror_at(p, "%s: %s is listed twice", wa->what, w);
			return 0;
		}
	return strv_add(p, wa->what, &wa->mc->mc_repos, &wa->mc->mc_nrepos,
	    BOUND_MIRROR_REPOS, w);
}

static int
glob_word(struct parse *p, void *arg, const char *w)
{
	struct word_arg *wa = arg;
	struct mirror_conf *mc = wa->mc;

	if (wa->globs == 1)
		return strv_add(p, wa->what, &mc->mc_include, &mc->mc_ninclude,
		    BOUND_MIRROR_GLOBS, w);
	return strv_add(p, wa->what, &mc->mc_exclude, &mc->mc_nexclude,
	    BOUND_MIRROR_GLOBS, w);
}

/* "30", "30s", "10m", "6h", "1d": seconds, at most 30 days. */
static int
set_interval(struct parse *p, const char *what, const char *value, int *out)
{
	char *end;
	long long v, unit = 1;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (end == value || errno != 0 || v < 0)
		goto bad;
	switch (*end) {
	case 's':	unit = 1; end++; break;
	case 'm':	unit = 60; end++; break;
	case 'h':	unit = 3600; end++; break;
	case 'd':	unit = 86400; end++; break;
	}
	if (*end != '\0')
		goto bad;
	if (v > 30LL * 86400 / unit) {
		perror_at(p, "%s: %s is more than 30 days", what, value);
		return 0;
	}
	*out = (int)(v * unit);
	return 1;
bad:
	perror_at(p, "%s: \"%s\" is not a time (N, Ns, Nm, Nh or Nd)", what,
	    value);
	return 0;
}

static int
mirror_option(struct parse *p, const char *section, const char *name,
    const char *value)
{
	char mname[BOUND_MIRROR_NAME + 1];
	struct word_arg wa;
	struct mirror_conf *mc;

	if (mirror_name(section, mname, sizeof(mname)) != 0) {
		if (!p->bad_section)
			perror_at(p, "[mirror %.80s]: the name is 1 to %d "
			    "letters, digits, '.', '_' or '-', in quotes",
			    section, BOUND_MIRROR_NAME);
		return 0;
	}
	if ((mc = mirror_section(p, mname)) == NULL)
		return 0;
	memset(&wa, 0, sizeof(wa));
	wa.mc = mc;
	snprintf(wa.what, sizeof(wa.what), "[mirror \"%s\"] %s", mname, name);
	if (strcmp(name, "upstream") == 0) {
		if (!url_valid(value)) {
			perror_at(p, "%s: \"%s\" is not an http(s) URL without "
			    "a trailing slash", wa.what, value);
			return 0;
		}
		return set_string(p, &mc->mc_upstream, value);
	}
	if (strcmp(name, "token-file") == 0)
		return token_file_option(p, wa.what, value, &mc->mc_token_file,
		    &mc->mc_token);
	if (strcmp(name, "type") == 0) {
		if (strcmp(value, "model") == 0)
			mc->mc_type = "model";
		else if (strcmp(value, "dataset") == 0)
			mc->mc_type = "dataset";
		else {
			perror_at(p, "%s: \"%s\" is not model or dataset",
			    wa.what, value);
			return 0;
		}
		return 1;
	}
	if (strcmp(name, "repos") == 0 || strcmp(name, "repo") == 0)
		return each_word(p, wa.what, value, repo_word, &wa);
	if (strcmp(name, "include") == 0 || strcmp(name, "exclude") == 0) {
		wa.globs = name[0] == 'i' ? 1 : 2;
		return each_word(p, wa.what, value, glob_word, &wa);
	}
	if (strcmp(name, "interval") == 0)
		return set_interval(p, wa.what, value, &mc->mc_interval);
	perror_at(p, "[mirror \"%s\"]: unknown option \"%s\"", mname, name);
	return 0;
}

static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct parse *p = arg;

	if (section[0] == '\0')
		return global_option(p, name, value);
	if (strcmp(section, "policy") == 0)
		return policy_option(p, name, value);
	if (strncmp(section, "private ", 8) == 0)
		return private_option(p, section + 8, name, value);
	if (strcmp(section, "admin") == 0)
		return admin_option(p, name, value);
	if (strncmp(section, "mirror ", 7) == 0)
		return mirror_option(p, section + 7, name, value);
	if (strncmp(section, "token ", 6) == 0)
		return user_option(p, section + 6, name, value);
	perror_at(p, "unknown section [%s]", section);
	return 0;
}

/*
 * A section's header, seen before inih reads it: a [mirror] section is
 * made here, so that one without options is still checked (inih calls
 * the handler only for options).
 */
static void
section_line(struct parse *p, const char *name, size_t len)
{
	char section[BOUND_MIRROR_NAME + 16], mname[BOUND_MIRROR_NAME + 1];

	p->bad_section = 0;
	if (len < 7 || strncmp(name, "mirror ", 7) != 0)
		return;
	if (len >= sizeof(section) ||
	    (memcpy(section, name, len), section[len] = '\0',
	    mirror_name(section + 7, mname, sizeof(mname)) != 0)) {
		perror_at(p, "[mirror %.*s]: the name is 1 to %d letters, "
		    "digits, '.', '_' or '-', in quotes",
		    len - 7 > 80 ? 80 : (int)(len - 7), name + 7,
		    BOUND_MIRROR_NAME);
		p->bad_section = 1;
		return;
	}
	(void)mirror_section(p, mname);
}

/*
 * Feeds inih one line at a time, counting lines so that the handler can
 * name them, and catching what inih would only count as "an error on
 * line N": lines too long and lines that are neither a section nor a
 * name = value pair.
 */
static char *
reader(char *str, int num, void *arg)
{
	struct parse *p = arg;
	const char *s;
	size_t len;

	if (fgets(str, num, p->fp) == NULL)
		return NULL;
	p->line++;
	len = strlen(str);
	if (len > 0 && str[len - 1] != '\n' && !feof(p->fp)) {
		int c;

		while ((c = fgetc(p->fp)) != EOF && c != '\n')
			;
		perror_at(p, "line longer than %d bytes", num - 3);
		strcpy(str, "\n");
		return str;
	}
	for (s = str; isspace((unsigned char)*s); s++)
		;
	if (*s == '\0' || *s == '#' || *s == ';')
		return str;
	if (*s == '[') {
		if (strchr(s, ']') == NULL) {
			perror_at(p, "section name without a closing ]");
			strcpy(str, "\n");
		} else
			section_line(p, s + 1, (size_t)(strchr(s, ']') - s - 1));
		return str;
	}
	if (strchr(s, '=') == NULL && strchr(s, ':') == NULL) {
		perror_at(p, "expected \"name = value\" or \"[section]\"");
		strcpy(str, "\n");
	}
	return str;
}

/* "type/ORG/NAME@REV" of a section's repository, for comparing. */
static void
mirror_key(const struct mirror_conf *mc, const char *spec, char *out,
    size_t size)
{
	snprintf(out, size, "%s/%s%s", mc->mc_type, spec,
	    strchr(spec, '@') != NULL ? "" : "@main");
}

/*
 * What only the whole file shows: a section without repositories, one
 * repository mirrored by two sections (they would move one ref between
 * two upstreams).  A section's upstream and token default to the global
 * ones.
 */
static void
mirrors_check(struct parse *p)
{
	struct conf *cf = p->cf;
	char a[BOUND_REPO_ID + BOUND_REVISION + 16];
	char b[BOUND_REPO_ID + BOUND_REVISION + 16];

	for (size_t i = 0; i < cf->cf_nmirrors; i++) {
		struct mirror_conf *mc = &cf->cf_mirrors[i];

		if (mc->mc_nrepos == 0)
			perror_at(p, "[mirror \"%s\"] has no repos",
			    mc->mc_name);
		if (mc->mc_upstream == NULL &&
		    (mc->mc_upstream = strdup(cf->cf_upstream)) == NULL)
			perror_at(p, "out of memory");
		if (mc->mc_token_file == NULL && cf->cf_token != NULL &&
		    strcmp(mc->mc_upstream, cf->cf_upstream) == 0 &&
		    (mc->mc_token = strdup(cf->cf_token)) == NULL)
			perror_at(p, "out of memory");
		for (size_t r = 0; r < mc->mc_nrepos; r++) {
			mirror_key(mc, mc->mc_repos[r], a, sizeof(a));
			for (size_t j = 0; j < i; j++) {
				const struct mirror_conf *o = &cf->cf_mirrors[j];

				for (size_t k = 0; k < o->mc_nrepos; k++) {
					mirror_key(o, o->mc_repos[k], b,
					    sizeof(b));
					if (strcmp(a, b) == 0)
						perror_at(p, "[mirror \"%s\"] "
						    "repos: %s is mirrored by "
						    "[mirror \"%s\"] too",
						    mc->mc_name, mc->mc_repos[r],
						    o->mc_name);
				}
			}
		}
	}
}

struct conf *
conf_load(const char *file, int must_exist, conf_err_fn err)
{
	struct parse p;
	struct conf *cf;
	size_t i;
	int rc;

	if ((cf = conf_defaults()) == NULL) {
		if (err != NULL)
			err("out of memory");
		return NULL;
	}
	if (file == NULL)
		return cf;
	memset(&p, 0, sizeof(p));
	p.cf = cf;
	p.file = file;
	p.err = err;
	if ((p.fp = fopen(file, "r")) == NULL) {
		char msg[1024];

		if (errno == ENOENT && !must_exist)
			return cf;
		snprintf(msg, sizeof(msg), "%s: %s", file, strerror(errno));
		if (err != NULL)
			err(msg);
		conf_unref(cf);
		return NULL;
	}
	/* Lines continued by indentation would hide a mistake. */
	ini_allow_multiline = 0;
	ini_stop_on_first_error = 0;
	rc = ini_parse_stream(reader, &p, handler, &p);
	fclose(p.fp);
	if (rc < 0) {
		p.line = 0;
		perror_at(&p, "cannot be read");
	} else if (rc > 0 && p.errors == 0) {
		p.line = rc;
		perror_at(&p, "syntax error");
	}
	if (p.errors == 0)
		policy_check(&p);
	p.line = 0;
	for (i = 0; i < cf->cf_nprivate; i++) {
		const struct private_ns *pn = &cf->cf_private[i];

		if (pn->pn_ntokens == 0 && pn->pn_nusers == 0)
			perror_at(&p, "[private %s] has no token", pn->pn_name);
		for (size_t j = 0; j < pn->pn_nusers; j++) {
			size_t k;

			for (k = 0; k < cf->cf_nusers; k++)
				if (strcmp(cf->cf_users[k].tu_name,
				    pn->pn_users[j]) == 0)
					break;
			if (k == cf->cf_nusers)
				perror_at(&p, "[private %s]: user %s has no "
				    "[token %s] section", pn->pn_name,
				    pn->pn_users[j], pn->pn_users[j]);
		}
	}
	for (i = 0; i < cf->cf_nusers; i++)
		if (cf->cf_users[i].tu_token == NULL)
			perror_at(&p, "[token %s] has no token",
			    cf->cf_users[i].tu_name);
	p.line = 0;
	mirrors_check(&p);
	if (p.errors != 0) {
		conf_unref(cf);
		return NULL;
	}
	if ((cf->cf_file = strdup(file)) == NULL) {
		conf_unref(cf);
		return NULL;
	}
	return cf;
}

static const struct private_ns *
private_match(const struct conf *cf, const char *repo, size_t *from)
{
	size_t i;

	for (i = *from; i < cf->cf_nprivate; i++) {
		const char *ns = cf->cf_private[i].pn_name;
		size_t n = strlen(ns);

		if (strncmp(repo, ns, n) == 0 &&
		    (repo[n] == '\0' || repo[n] == '/')) {
			*from = i + 1;
			return &cf->cf_private[i];
		}
	}
	return NULL;
}

int
conf_private(const struct conf *cf, const char *repo)
{
	size_t from = 0;

	return private_match(cf, repo, &from) != NULL;
}

static int
token_is(const char *secret, const char *token, size_t tlen)
{
	return strlen(secret) == tlen &&
	    sodium_memcmp(secret, token, tlen) == 0;
}

int
conf_parse_workers(const char *value, int *n)
{
	char *end;
	long v;

	if (strcmp(value, "auto") == 0) {
		*n = 0;
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if (end == value || *end != '\0' || errno != 0 || v < 1 ||
	    v > BOUND_LOOPS)
		return -1;
	*n = (int)v;
	return 0;
}

/* A loop for each core the machine has online now. */
int
conf_loops(const struct conf *cf)
{
	long n;

	if (cf->cf_workers > 0)
		return cf->cf_workers;
	if ((n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	return n > BOUND_LOOPS ? BOUND_LOOPS : (int)n;
}

/*
 * Readers wait on the disk for the loops: one a loop, and two at least,
 * so that one slow read does not hold up every other.
 */
int
conf_read_threads(const struct conf *cf)
{
	int n;

	if (cf->cf_read_threads > 0)
		return cf->cf_read_threads;
	n = conf_loops(cf);
	return n < 2 ? 2 : n;
}

const char *
conf_role_name(int role)
{
	return role == ROLE_ADMIN ? "admin" : role == ROLE_WRITE ? "write" :
	    "read";
}

static const struct token_user *
user_of(const struct conf *cf, const char *token, size_t tlen)
{
	size_t i;

	for (i = 0; i < cf->cf_nusers; i++)
		if (token_is(cf->cf_users[i].tu_token, token, tlen))
			return &cf->cf_users[i];
	return NULL;
}

/* Whether the namespace's section admits the token (or its user). */
static int
admits(const struct private_ns *pn, const struct token_user *tu,
    const char *token, size_t tlen)
{
	size_t i;

	for (i = 0; i < pn->pn_ntokens; i++)
		if (token_is(pn->pn_tokens[i], token, tlen))
			return 1;
	if (tu == NULL)
		return 0;
	if (tu->tu_role == ROLE_ADMIN)
		return 1;
	for (i = 0; i < pn->pn_nusers; i++)
		if (strcmp(pn->pn_users[i], tu->tu_name) == 0)
			return 1;
	return 0;
}

int
conf_may_read(const struct conf *cf, const char *repo, const char *token)
{
	const struct private_ns *pn;
	const struct token_user *tu = NULL;
	size_t from = 0, tlen;
	int found = 0, ok = 0;

	tlen = token != NULL ? strlen(token) : 0;
	if (tlen > 0)
		tu = user_of(cf, token, tlen);
	while ((pn = private_match(cf, repo, &from)) != NULL) {
		found = 1;
		if (tlen > 0 && admits(pn, tu, token, tlen))
			ok = 1;
	}
	return !found || ok;
}

int
conf_is_admin(const struct conf *cf, const char *token)
{
	size_t tlen = token != NULL ? strlen(token) : 0;
	int ok = 0;

	const struct token_user *tu;

	if (tlen == 0)
		return 0;
	/* A [token] section's admin role is the admin role too. */
	if ((tu = user_of(cf, token, tlen)) != NULL && tu->tu_role == ROLE_ADMIN)
		return 1;
	for (size_t i = 0; i < cf->cf_nadmin; i++)
		if (strlen(cf->cf_admin_tokens[i]) == tlen &&
		    sodium_memcmp(cf->cf_admin_tokens[i], token, tlen) == 0)
			ok = 1;
	return ok;
}

int
conf_writes(const struct conf *cf)
{
	return cf->cf_nmirrors > 0 || cf->cf_nadmin > 0;
}

const char *
conf_token_for(const struct conf *cf, const char *upstream)
{
	if (strcmp(upstream, cf->cf_upstream) == 0 && cf->cf_token != NULL)
		return cf->cf_token;
	for (size_t i = 0; i < cf->cf_nmirrors; i++)
		if (strcmp(cf->cf_mirrors[i].mc_upstream, upstream) == 0 &&
		    cf->cf_mirrors[i].mc_token != NULL)
			return cf->cf_mirrors[i].mc_token;
	return NULL;
}

const struct token_user *
conf_token(const struct conf *cf, const char *token, int *known)
{
	const struct token_user *tu;
	size_t tlen, i;

	*known = 0;
	if (token == NULL || (tlen = strlen(token)) == 0)
		return NULL;
	if ((tu = user_of(cf, token, tlen)) != NULL) {
		*known = 1;
		return tu;
	}
	for (i = 0; i < cf->cf_nprivate; i++)
		if (admits(&cf->cf_private[i], NULL, token, tlen))
			*known = 1;
	return NULL;
}

/* Whether the token may read the private namespace ns (for whoami). */
int
conf_may_read_ns(const struct conf *cf, const char *ns, const char *token)
{
	const struct token_user *tu;
	size_t i, tlen = token != NULL ? strlen(token) : 0;

	if (tlen == 0)
		return 0;
	tu = user_of(cf, token, tlen);
	for (i = 0; i < cf->cf_nprivate; i++)
		if (strcmp(cf->cf_private[i].pn_name, ns) == 0 &&
		    admits(&cf->cf_private[i], tu, token, tlen))
			return 1;
	return 0;
}
