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
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/util.h>
#include <ini.h>
#include <sodium.h>

#include "daemon/airlockd.h"

struct parse {
	struct conf	*cf;
	FILE		*fp;
	const char	*file;
	int		 line;
	int		 errors;
	conf_err_fn	 err;
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
	if (cf->cf_listen == NULL || cf->cf_store == NULL) {
		conf_unref(cf);
		return NULL;
	}
	cf->cf_workers = 2;
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

void
conf_unref(struct conf *cf)
{
	size_t i, j;

	if (cf == NULL || __atomic_sub_fetch(&cf->cf_refs, 1,
	    __ATOMIC_ACQ_REL) != 0)
		return;
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

static int
global_option(struct parse *p, const char *name, const char *value)
{
	struct conf *cf = p->cf;
	long long v;

	if (strcmp(name, "listen") == 0) {
		if (!listen_valid(value)) {
			perror_at(p, "listen: \"%s\" is not ADDRESS:PORT", value);
			return 0;
		}
		return set_string(p, &cf->cf_listen, value);
	}
	if (strcmp(name, "store") == 0)
		return set_string(p, &cf->cf_store, value);
	if (strcmp(name, "public-url") == 0) {
		if (!url_valid(value)) {
			perror_at(p, "public-url: \"%s\" is not an http(s) URL "
			    "without a trailing slash", value);
			return 0;
		}
		return set_string(p, &cf->cf_public_url, value);
	}
	if (strcmp(name, "workers") == 0) {
		if (!set_number(p, name, value, 1, 64, &v))
			return 0;
		cf->cf_workers = (int)v;
	} else if (strcmp(name, "max-connections") == 0) {
		if (!set_number(p, name, value, 1, 65536, &v))
			return 0;
		cf->cf_max_connections = (int)v;
	} else if (strcmp(name, "max-header-size") == 0) {
		if (!set_number(p, name, value, 1024, 1 << 20, &v))
			return 0;
		cf->cf_max_header_size = (int)v;
	} else if (strcmp(name, "max-body-size") == 0) {
		if (!set_number(p, name, value, 1024, 64 << 20, &v))
			return 0;
		cf->cf_max_body_size = (int)v;
	} else if (strcmp(name, "timeout") == 0) {
		if (!set_number(p, name, value, 1, 3600, &v))
			return 0;
		cf->cf_timeout = (int)v;
	} else if (strcmp(name, "drain-timeout") == 0) {
		if (!set_number(p, name, value, 0, 3600, &v))
			return 0;
		cf->cf_drain_timeout = (int)v;
	} else if (strcmp(name, "tree-page-size") == 0) {
		if (!set_number(p, name, value, 1, 100000, &v))
			return 0;
		cf->cf_tree_page_size = (int)v;
	} else if (strcmp(name, "read-size") == 0) {
		if (!set_number(p, name, value, 16 << 10, 16 << 20, &v))
			return 0;
		cf->cf_buffer_size = (size_t)v;
	} else if (strcmp(name, "stall-timeout") == 0) {
		if (!set_number(p, name, value, 1, 3600, &v))
			return 0;
		cf->cf_stall_timeout = (int)v;
	} else if (strcmp(name, "map-budget") == 0) {
		if (!set_number(p, name, value, 4 << 20, 1LL << 40, &v))
			return 0;
		cf->cf_map_budget = (size_t)v;
	} else if (strcmp(name, "send-windows") == 0) {
		if (!set_number(p, name, value, 2, 768, &v))
			return 0;
		cf->cf_windows = (int)v;
	} else if (strcmp(name, "sendfile") == 0) {
		if (strcmp(value, "yes") == 0)
			cf->cf_sendfile = 1;
		else if (strcmp(value, "no") == 0)
			cf->cf_sendfile = 0;
		else {
			perror_at(p, "sendfile: \"%s\" is not yes or no", value);
			return 0;
		}
	} else if (strcmp(name, "downloads-flush") == 0) {
		if (!set_number(p, name, value, 0, 3600, &v))
			return 0;
		cf->cf_downloads_flush = (int)v;
	} else if (strcmp(name, "read-buffers") == 0) {
		if (!set_number(p, name, value, 4, 4096, &v))
			return 0;
		cf->cf_buffers = (int)v;
	} else {
		perror_at(p, "unknown option \"%s\"", name);
		return 0;
	}
	return 1;
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

static int
handler(void *arg, const char *section, const char *name, const char *value)
{
	struct parse *p = arg;

	if (section[0] == '\0')
		return global_option(p, name, value);
	if (strncmp(section, "private ", 8) == 0)
		return private_option(p, section + 8, name, value);
	if (strncmp(section, "token ", 6) == 0)
		return user_option(p, section + 6, name, value);
	perror_at(p, "unknown section [%s]", section);
	return 0;
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
		}
		return str;
	}
	if (strchr(s, '=') == NULL && strchr(s, ':') == NULL) {
		perror_at(p, "expected \"name = value\" or \"[section]\"");
		strcpy(str, "\n");
	}
	return str;
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
