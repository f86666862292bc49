/*
 * mirror_int.h - what the parts of mirror/ share; not installed.
 */
#ifndef AIRLOCK_MIRROR_INT_H
#define AIRLOCK_MIRROR_INT_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdint.h>

#include <curl/curl.h>

#include "mirror/mirror.h"

struct event;

struct mirror {
	struct event_base	*base;
	struct mirror_opts	 opts;
	CURLM			*multi;
	struct event		*timer;
	struct event		*wake;		/* made active by other threads */
	pthread_mutex_t		 mu;		/* guards the lists and xfers */
	pthread_cond_t		 cv;
	TAILQ_HEAD(, xfer)	 queue;		/* handed over, not yet added */
	TAILQ_HEAD(, xfer)	 active;	/* in the multi handle */
	pthread_t		 thread;
	int			 threaded;
	int			 stopping;
};

/* The response headers a transfer keeps (the first of each). */
enum {
	XH_LOCATION, XH_COMMIT, XH_LINKED_ETAG, XH_LINKED_SIZE, XH_ETAG,
	XH_LINK, XH_CONTENT_RANGE, XH_ERROR_CODE, XH_ERROR_MESSAGE,
	XH_RETRY_AFTER, XH_RATELIMIT, XH_CONTENT_LENGTH, XH_COUNT
};
extern const char *const xh_names[XH_COUNT];

struct xfer {
	TAILQ_ENTRY(xfer)	 link;
	struct mirror		*m;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*url;
	int			 stream;
	int			 started;
	/* Under m->mu from here on. */
	long			 status;
	char			*h[XH_COUNT];
	int			 headers_done;
	int			 done;
	int			 cancel;
	int			 toolarge;
	CURLcode		 result;
	char			 errbuf[CURL_ERROR_SIZE];
	char			*location;	/* CURLINFO_REDIRECT_URL */
	char			*body;		/* metadata or an error's body */
	size_t			 len, cap, body_max;
	char			*ring;		/* a streamed 2xx body */
	size_t			 rsize, rhead, rlen;
	int			 paused, want_unpause;
	uint64_t		 received;
};

int	mirror_fail(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

int	xfer_new(struct mirror *, const char *url, const char *token,
	    uint64_t offset, int stream, struct xfer **);
void	xfer_start(struct xfer *);
void	xfer_wait_headers(struct xfer *);
void	xfer_wait(struct xfer *);
size_t	xfer_read(struct xfer *, void *, size_t);
void	xfer_free(struct xfer *);
void	xfer_reset_headers(struct xfer *);

#endif
