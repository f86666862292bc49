/*
 * airlockd - serves an airlock store with the Hugging Face Hub's API and
 * airlock's own, to clients inside a closed network.
 *
 * main.c: options, the configuration, signals, the serving loops, and the
 * order in which everything is started and stopped.
 *
 * The main thread runs loop 0, which also has the signals, the mirror
 * jobs and the writer; loops 1 to workers - 1 each run on a thread of
 * their own and only serve.  The main thread tells them of a signal by
 * activating an event on their base, and each does the work on its own
 * thread.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "daemon/airlockd.h"
#include "keys/keys.h"

static void
usage(void)
{
	fprintf(stderr, "usage: airlockd [-dnv] [-c CONFIG] [--listen "
	    "ADDR:PORT] [--store DIR]\n"
	    "                [--port-file FILE] [--workers N|auto]\n");
	exit(2);
}

static void
conf_to_stderr(const char *msg)
{
	fprintf(stderr, "airlockd: %s\n", msg);
}

static void
conf_to_log(const char *msg)
{
	log_warnx("%s", msg);
}

/* Command-line values win over the file's, now and after SIGHUP. */
static int
apply_overrides(struct server *srv, struct conf *cf)
{
	char *s;

	if (srv->srv_listen_opt != NULL) {
		if ((s = strdup(srv->srv_listen_opt)) == NULL)
			return -1;
		free(cf->cf_listen);
		cf->cf_listen = s;
	}
	if (srv->srv_store_opt != NULL) {
		if ((s = strdup(srv->srv_store_opt)) == NULL)
			return -1;
		free(cf->cf_store);
		cf->cf_store = s;
	}
	if (srv->srv_workers_opt != NULL &&
	    conf_parse_workers(srv->srv_workers_opt, &cf->cf_workers) != 0)
		return -1;
	return 0;
}

/* On the loop's thread: the configuration SIGHUP loaded. */
static void
on_loop_hup(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	struct conf *cf, *old = l->l_conf;
	unsigned reload;

	(void)fd, (void)what;
	pthread_mutex_lock(&l->l_mtx);
	cf = l->l_conf_next;
	reload = l->l_conf_reload;
	l->l_conf_next = NULL;
	pthread_mutex_unlock(&l->l_mtx);
	if (cf == NULL)
		return;
	l->l_conf = cf;
	http_apply_limits(l);
	conf_unref(old);
	/*
	 * The last loop to take the latest reload says so: every loop now
	 * serves it.  One taken late, after another SIGHUP, is not counted.
	 */
	if (reload == __atomic_load_n(&l->l_srv->srv_reload,
	    __ATOMIC_ACQUIRE) && __atomic_sub_fetch(&l->l_srv->srv_applying,
	    1, __ATOMIC_ACQ_REL) == 0)
		log_info("configuration reloaded");
}

static void
loops_reload(struct server *srv, struct conf *cf)
{
	struct loop *l;
	struct conf *prev;
	unsigned reload;
	int i;

	/* A loop still taking the last one no longer counts, then. */
	reload = __atomic_add_fetch(&srv->srv_reload, 1, __ATOMIC_ACQ_REL);
	__atomic_store_n(&srv->srv_applying, srv->srv_nloops,
	    __ATOMIC_RELEASE);
	for (i = 0; i < srv->srv_nloops; i++) {
		l = srv->srv_loops[i];
		pthread_mutex_lock(&l->l_mtx);
		/* One the loop had not taken yet: this one replaces it. */
		prev = l->l_conf_next;
		l->l_conf_next = conf_ref(cf);
		l->l_conf_reload = reload;
		pthread_mutex_unlock(&l->l_mtx);
		conf_unref(prev);
		event_active(l->l_hup_ev, EV_READ, 0);
	}
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	struct conf *cf, *old = srv->srv_conf;
	char *s, err[1024];

	(void)sig, (void)what;
	log_info("reloading %s", srv->srv_conf_file);
	cf = conf_load(srv->srv_conf_file, srv->srv_conf_must_exist,
	    conf_to_log);
	if (cf == NULL || apply_overrides(srv, cf) != 0) {
		log_warnx("%s: keeping the configuration in use", __func__);
		conf_unref(cf);
		return;
	}
	if (jobs_reload_check(cf, err, sizeof(err)) != 0) {
		log_warnx("%s: signing-key: %s", __func__, err);
		log_warnx("%s: keeping the configuration in use", __func__);
		conf_unref(cf);
		return;
	}
	if (conf_writes(cf) && !jobs_enabled())
		log_warnx("%s: [mirror] and [admin] need the store opened "
		    "read-write: restart to apply", __func__);
	/* What is bound or open stays: those need a restart. */
	if (strcmp(cf->cf_listen, old->cf_listen) != 0) {
		log_warnx("%s: listen %s: restart to apply", __func__,
		    cf->cf_listen);
		if ((s = strdup(old->cf_listen)) != NULL) {
			free(cf->cf_listen);
			cf->cf_listen = s;
		}
	}
	if (strcmp(cf->cf_store, old->cf_store) != 0)
		log_warnx("%s: store %s: restart to apply", __func__,
		    cf->cf_store);
	if (cf->cf_workers != old->cf_workers)
		log_warnx("%s: workers %d: restart to apply", __func__,
		    cf->cf_workers);
	if (cf->cf_read_threads != old->cf_read_threads)
		log_warnx("%s: read-threads %d: restart to apply", __func__,
		    cf->cf_read_threads);
	srv->srv_conf = cf;
	conf_unref(old);
	jobs_configure(cf);
	loops_reload(srv, cf);
}

static void
on_drain_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;

	(void)fd, (void)what;
	log_warnx("drain time-out: closing %d connections", l->l_nconns);
	loop_drained(l);
}

/* On the loop's thread: SIGTERM or SIGINT. */
static void
on_loop_term(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	struct timeval tv;

	(void)fd, (void)what;
	if (l->l_draining)
		return;
	tv.tv_sec = l->l_conf->cf_drain_timeout;
	tv.tv_usec = 0;
	l->l_drain_ev = evtimer_new(l->l_base, on_drain_timeout, l);
	if (l->l_drain_ev != NULL)
		evtimer_add(l->l_drain_ev, &tv);
	http_drain(l);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;
	int i;

	(void)what;
	if (srv->srv_draining) {
		/* A second signal: stop now, every loop. */
		for (i = 0; i < srv->srv_nloops; i++)
			event_base_loopexit(srv->srv_loops[i]->l_base, NULL);
		return;
	}
	srv->srv_draining = 1;
	log_info("%s: draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
	jobs_drain();
	for (i = 0; i < srv->srv_nloops; i++)
		event_active(srv->srv_loops[i]->l_term_ev, EV_READ, 0);
}

/* Paths stay right after daemon(3) changes to "/". */
static char *
abs_path(const char *path)
{
	char cwd[4096], *s;

	if (path == NULL)
		return NULL;
	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(path);
	if (asprintf(&s, "%s/%s", cwd, path) == -1)
		return NULL;
	return s;
}

/*
 * Written whole or not at all, so that a script polling it never reads
 * half.  A FIFO is written in place: whoever waits on its other end (a
 * test, a supervisor) wakes when the daemon listens, without polling.
 */
static int
write_port_file(const char *file, const char *addr)
{
	char tmp[4096];
	struct stat sb;
	FILE *fp;

	if (stat(file, &sb) == 0 && S_ISFIFO(sb.st_mode)) {
		if ((fp = fopen(file, "w")) == NULL)
			return -1;
		fprintf(fp, "%s\n", addr);
		return fclose(fp) == 0 ? 0 : -1;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", file) >= (int)sizeof(tmp))
		return -1;
	if ((fp = fopen(tmp, "w")) == NULL)
		return -1;
	fprintf(fp, "%s\n", addr);
	if (fclose(fp) != 0 || rename(tmp, file) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

struct options {
	char	*port_file;
	char	*conf_file;
	char	*store_opt;
	int	 debug;
	int	 check;
	int	 verbose;
};

static void
options(int argc, char **argv, struct server *srv, struct options *o)
{
	static const struct option longopts[] = {
		{ "listen",	required_argument,	NULL,	'L' },
		{ "store",	required_argument,	NULL,	'S' },
		{ "port-file",	required_argument,	NULL,	'P' },
		{ "workers",	required_argument,	NULL,	'W' },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:dhnv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			free(o->conf_file);
			if ((o->conf_file = abs_path(optarg)) == NULL)
				fatal("%s", optarg);
			srv->srv_conf_file = o->conf_file;
			srv->srv_conf_must_exist = 1;
			break;
		case 'd':
			o->debug = 1;
			break;
		case 'n':
			o->check = 1;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'L':
			srv->srv_listen_opt = optarg;
			break;
		case 'S':
			free(o->store_opt);
			if ((o->store_opt = abs_path(optarg)) == NULL)
				fatal("%s", optarg);
			srv->srv_store_opt = o->store_opt;
			break;
		case 'W':
			if (conf_parse_workers(optarg, &ch) != 0)
				fatalx("--workers %s: expected auto or 1 to "
				    "%d", optarg, BOUND_LOOPS);
			srv->srv_workers_opt = optarg;
			break;
		case 'P':
			free(o->port_file);
			if ((o->port_file = abs_path(optarg)) == NULL)
				fatal("%s", optarg);
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

static struct event	*signal_evs[3];

static void
signals_start(struct server *srv)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	size_t i;

	for (i = 0; i < 3; i++) {
		signal_evs[i] = evsignal_new(srv->srv_base, sigs[i],
		    sigs[i] == SIGHUP ? on_hup : on_term, srv);
		if (signal_evs[i] == NULL ||
		    evsignal_add(signal_evs[i], NULL) != 0)
			fatalx("cannot set up signal events");
	}
}

/*
 * The answers are given: a late signal must not cut the cleanup short
 * (libevent puts back the default action as it lets go).
 */
static void
signals_stop(void)
{
	size_t i;

	for (i = 0; i < 3; i++)
		event_free(signal_evs[i]);
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

static void *
loop_main(void *arg)
{
	struct loop *l = arg;

	/* Only the main thread takes the signals. */
	event_base_loop(l->l_base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

static struct loop *
loop_new(struct server *srv, int id)
{
	struct loop *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->l_srv = srv;
	l->l_id = id;
	pthread_mutex_init(&l->l_mtx, NULL);
	l->l_conf = conf_ref(srv->srv_conf);
	srv->srv_loops[id] = l;
	if (id == 0)
		l->l_base = srv->srv_base;
	else if ((l->l_base = event_base_new()) == NULL)
		return NULL;
	if ((l->l_hup_ev = event_new(l->l_base, -1, 0, on_loop_hup,
	    l)) == NULL ||
	    (l->l_term_ev = event_new(l->l_base, -1, 0, on_loop_term,
	    l)) == NULL)
		return NULL;
	if (http_start(l) != 0)
		fatalx("cannot start the HTTP server on %s",
		    srv->srv_conf->cf_listen);
	if (pool_attach(l) != 0 || stream_init(l) != 0)
		return NULL;
	return l;
}

/* Its events go before its base, and it goes after its base. */
static void
loop_free_events(struct loop *l)
{
	stream_cleanup(l);
	if (l->l_drain_ev != NULL)
		event_free(l->l_drain_ev);
	if (l->l_hup_ev != NULL)
		event_free(l->l_hup_ev);
	if (l->l_term_ev != NULL)
		event_free(l->l_term_ev);
	l->l_drain_ev = l->l_hup_ev = l->l_term_ev = NULL;
}

static void
loop_free(struct loop *l)
{
	struct conf *cf;

	buf_cleanup(&l->l_bufs);
	pthread_mutex_lock(&l->l_mtx);
	cf = l->l_conf_next;
	l->l_conf_next = NULL;
	pthread_mutex_unlock(&l->l_mtx);
	conf_unref(cf);
	conf_unref(l->l_conf);
	pthread_mutex_destroy(&l->l_mtx);
	free(l);
}

/* LMDB and the threads must begin in the process that stays. */
static void
start(struct server *srv, const struct options *o)
{
	/* Mirroring writes the store, from one thread of this process. */
	int writes = conf_writes(srv->srv_conf);
	int i, rc, writable = 1;
	char err[1024];
	sigset_t set, old;
	struct loop *l;

	if (!o->debug) {
		log_init(0, o->verbose);
		if (daemon(0, 0) == -1)
			fatal("daemon");
	}
	if (evthread_use_pthreads() != 0)
		fatalx("libevent has no thread support");
	signal(SIGPIPE, SIG_IGN);
	if (keys_init() != 0)
		fatalx("keys_init failed");
	if (writes) {
		if (store_open(srv->srv_conf->cf_store, 0,
		    &srv->srv_store) != 0)
			fatalx("store %s: %s", srv->srv_conf->cf_store,
			    store_lasterror());
		/*
		 * One writer thread: the mirror's.  A second (the download
		 * counter's) could grow the map under it, which LMDB forbids.
		 */
		if (srv->srv_conf->cf_downloads_flush > 0)
			log_info("mirroring: downloads are not counted");
		writable = 0;
	} else {
		/*
		 * Opened for writing when it may be: downloads are counted
		 * in it and a store older than the repository index gets
		 * one.  A store airlockd may only read is served all the
		 * same, uncounted.
		 */
		rc = srv->srv_conf->cf_downloads_flush > 0 ?
		    store_open(srv->srv_conf->cf_store, STORE_NOGROW |
		    STORE_FOLLOW, &srv->srv_store) : -1;
		if (rc != 0) {
			if (rc != -1)
				log_warnx("store %s: %s: serving it read-only, "
				    "downloads not counted",
				    srv->srv_conf->cf_store, store_lasterror());
			if (store_open(srv->srv_conf->cf_store, STORE_RDONLY |
			    STORE_FOLLOW, &srv->srv_store) != 0)
				fatalx("store %s: %s", srv->srv_conf->cf_store,
				    store_lasterror());
			writable = 0;
		}
	}
	if (pool_map_init(srv->srv_store, srv->srv_conf->cf_map_budget) != 0)
		log_warnx("%s: the store's mapping was not found: its pages "
		    "will stay resident", srv->srv_conf->cf_store);
	if ((srv->srv_base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	clock_gettime(CLOCK_MONOTONIC, &srv->srv_started);
	srv->srv_nloops = conf_loops(srv->srv_conf);
	srv->srv_serving = srv->srv_nloops;
	if ((srv->srv_loops = calloc((size_t)srv->srv_nloops,
	    sizeof(*srv->srv_loops))) == NULL)
		fatal("%s", __func__);
	for (i = 0; i < srv->srv_nloops; i++)
		if (loop_new(srv, i) == NULL)
			fatalx("cannot start serving loop %d", i);
	if (pool_start(conf_read_threads(srv->srv_conf)) != 0)
		fatalx("cannot start the workers");
	if (writes && jobs_start(srv, err, sizeof(err)) != 0)
		fatalx("mirroring: %s", err);
	if (writable && downloads_start(srv->srv_base, srv->srv_store,
	    srv->srv_conf->cf_downloads_flush) != 0)
		fatalx("cannot start counting downloads");
	signals_start(srv);
	/* The threads begin without the signals: the main thread takes them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (i = 1; i < srv->srv_nloops; i++) {
		l = srv->srv_loops[i];
		if ((rc = pthread_create(&l->l_thread, NULL, loop_main,
		    l)) != 0) {
			errno = rc;
			fatal("serving loop %d", i);
		}
		l->l_started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (o->port_file != NULL &&
	    write_port_file(o->port_file, srv->srv_addr) != 0)
		fatal("%s", o->port_file);
	log_info("listening on %s, store %s%s, %d workers, %d read threads",
	    srv->srv_addr, srv->srv_conf->cf_store,
	    writes ? " (read-write: mirroring)" : "", srv->srv_nloops,
	    conf_read_threads(srv->srv_conf));
}

static void
stop(struct server *srv)
{
	int i;

	signals_stop();
	/* Each has left its loop: drained, timed out, or a second signal. */
	for (i = 1; i < srv->srv_nloops; i++)
		if (srv->srv_loops[i]->l_started)
			pthread_join(srv->srv_loops[i]->l_thread, NULL);
	log_info("stopping");
	jobs_stop();
	for (i = 0; i < srv->srv_nloops; i++)
		http_stop(srv->srv_loops[i]);
	pool_stop();
	for (i = 0; i < srv->srv_nloops; i++)
		pool_detach(srv->srv_loops[i]);
	downloads_stop();
	for (i = 0; i < srv->srv_nloops; i++)
		loop_free_events(srv->srv_loops[i]);
	/* Runs the last buffer cleanups of the connections evhttp freed. */
	for (i = 1; i < srv->srv_nloops; i++)
		event_base_free(srv->srv_loops[i]->l_base);
	event_base_free(srv->srv_base);
	for (i = 0; i < srv->srv_nloops; i++)
		loop_free(srv->srv_loops[i]);
	free(srv->srv_loops);
	snapshot_cache_free();
	extents_cache_free();
	store_close(srv->srv_store);
	conf_unref(srv->srv_conf);
}

int
main(int argc, char **argv)
{
	struct server srv;
	struct options o;

	memset(&srv, 0, sizeof(srv));
	memset(&o, 0, sizeof(o));
	srv.srv_conf_file = AIRLOCKD_CONF;
	options(argc, argv, &srv, &o);
	log_init(1, o.verbose);

	srv.srv_conf = conf_load(srv.srv_conf_file, srv.srv_conf_must_exist,
	    conf_to_stderr);
	if (srv.srv_conf == NULL)
		exit(1);
	if (apply_overrides(&srv, srv.srv_conf) != 0)
		fatal("%s", __func__);
	if (srv.srv_listen_opt != NULL &&
	    strchr(srv.srv_listen_opt, ':') == NULL)
		fatalx("--listen %s: expected ADDRESS:PORT",
		    srv.srv_listen_opt);
	if (o.check) {
		printf("configuration OK\n");
		conf_unref(srv.srv_conf);
		free(o.conf_file);
		free(o.store_opt);
		free(o.port_file);
		return 0;
	}
	start(&srv, &o);
	event_base_dispatch(srv.srv_base);
	stop(&srv);
	if (o.port_file != NULL)
		unlink(o.port_file);
	free(o.port_file);
	free(o.conf_file);
	free(o.store_opt);
	libevent_global_shutdown();
	return 0;
}
