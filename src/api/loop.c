/* The event loop (include/synfin/loop.h): one stack on one netdev, driven in
 * real time. This is a driver, so it is the one place besides the tools that
 * reads the clock (CLOCK_MONOTONIC) and sleeps (epoll_pwait2, microsecond
 * timeouts): the engine below it only ever sees now_us.
 *
 * One iteration: wait in epoll until the earliest deadline (stack timers,
 * frames an impairment holds back, the application's own) or a readable fd;
 * run the callbacks of ready extra fds; drain up to SF_LOOP_BATCH frames
 * into sf_stack_input(); sf_stack_poll() once for the batch, so each
 * connection sends one ACK per batch (RFC 9293 §3.10.7.4, MUST-58/59); call
 * the application; poll again if it queued output. When a batch was full the
 * next wait does not sleep, so a busy link cannot starve timers or the
 * application, and the application cannot starve the link.
 *
 * Offloads: over a netdev that takes them (a TUN device with the virtio-net
 * header), the stack is configured to send TSO super-segments and leave TCP
 * checksums to the kernel, and frames are received with what the kernel said
 * about them (super-segments, partial checksums): one read or write then
 * moves up to 64 KiB instead of one MTU.
 */
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "synfin/eth.h"
#include "synfin/loop.h"

#define RX_BUF_LEN 65536 /* the largest datagram (a super-segment) */
/* Frames of one wake-up are read into one arena and handed to the stack
 * together (sf_stack_input_batch: hashed and prefetched ahead); the arena
 * is flushed whenever less than one largest datagram fits. */
#define RX_ARENA_LEN (512 * 1024)
#define DEV_SLOT     0u /* epoll data of the netdev fd; extra fds are 1.. */

typedef struct fd_watch {
	int fd; /* -1: free */
	sf_loop_fd_fn fn;
	void *ctx;
} fd_watch_t;

struct sf_loop {
	sf_netdev_t *dev;
	sf_netdev_t *tun; /* the TUN inside the chain, for its name; may be NULL */
	sf_stack_t *st;
	sf_eth_t *eth; /* on an Ethernet netdev: the link layer in front of st */
	int epfd;
	int dev_fd;
	uint8_t *buf; /* RX_ARENA_LEN bytes */
	sf_frame_t frames[SF_LOOP_BATCH];
	sf_offload_t offs[SF_LOOP_BATCH];
	sf_loop_app_fn app;
	void *app_ctx;
	int64_t app_deadline;
	bool busy; /* the last batch was full: frames are probably still waiting */
	volatile sig_atomic_t stop;
	fd_watch_t fds[SF_LOOP_MAX_FDS];
	/* Counters: written by the loop's thread only, read by any thread
	 * (sf_loop_stats) without a lock: relaxed atomics, so a reader on
	 * another core sees whole values and the writer pays no locked
	 * instruction (a load and a store, as for a plain counter). */
	struct {
		_Atomic uint64_t iterations, frames_in, frames_out, tx_errors, max_batch,
		        full_batches, super_in, super_out;
	} stats;
};

static void bump(_Atomic uint64_t *c, uint64_t by)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
	                      memory_order_relaxed);
}

static uint64_t get(const _Atomic uint64_t *c)
{
	return atomic_load_explicit((_Atomic uint64_t *)c, memory_order_relaxed);
}

int64_t sf_loop_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int transmit_frame(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	sf_loop_t *l = ctx;
	bump(&l->stats.frames_out, 1);
	int rc = sf_netdev_transmit(l->dev, frame, len, now_us);
	if (rc < 0)
		bump(&l->stats.tx_errors, 1);
	return rc;
}

static int transmit_frame_off(void *ctx, const uint8_t *frame, size_t len, const sf_offload_t *off,
                              int64_t now_us)
{
	sf_loop_t *l = ctx;
	bump(&l->stats.frames_out, 1);
	if (off->gso_size)
		bump(&l->stats.super_out, 1);
	int rc = sf_netdev_transmit_off(l->dev, frame, len, off, now_us);
	if (rc < 0)
		bump(&l->stats.tx_errors, 1);
	return rc;
}

static uint64_t random_seed(void)
{
	uint64_t seed = 0;
	if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed || seed == 0)
		seed = (uint64_t)sf_loop_now() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
	return seed;
}

int sf_loop_create(sf_netdev_t *dev, const sf_config_t *cfg, sf_loop_t **out)
{
	if (!dev || !out || !dev->transmit || !dev->receive)
		return SF_EINVAL;
	sf_loop_t *l = calloc(1, sizeof *l);
	if (!l)
		return SF_ENOMEM;
	l->buf = malloc(RX_ARENA_LEN);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!l->buf || l->epfd < 0) {
		int rc = l->buf ? SF_EINVAL : SF_ENOMEM;
		if (l->epfd >= 0)
			close(l->epfd);
		free(l->buf);
		free(l);
		return rc;
	}
	for (int i = 0; i < SF_LOOP_MAX_FDS; i++)
		l->fds[i].fd = -1;
	l->dev_fd = dev->fd ? dev->fd(dev) : -1;
	if (l->dev_fd >= 0) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = DEV_SLOT};
		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->dev_fd, &ev) < 0) {
			close(l->epfd);
			free(l->buf);
			free(l);
			return SF_EINVAL;
		}
	}
	sf_config_t c;
	if (cfg)
		c = *cfg;
	else
		sf_config_default(&c);
	if (c.seed == 0)
		c.seed = random_seed();
	if (dev->mtu && c.mtu > dev->mtu)
		c.mtu = dev->mtu;
	c.transmit = transmit_frame;
	c.transmit_ctx = l;
	c.transmit_off = NULL;
	c.tso_max = 0;
	c.csum_tx = false;
	if (dev->offloads & SF_NETDEV_OFF_CSUM) {
		c.transmit_off = transmit_frame_off;
		c.csum_tx = true;
		/* The kernel takes TSO only with a partial checksum. */
		if (dev->offloads & SF_NETDEV_OFF_TSO)
			c.tso_max = UINT16_MAX;
	}
	l->dev = dev;
	int rc;
	if (dev->link == SF_LINK_ETHERNET) {
		if (dev->mtu && c.mtu > dev->mtu - SF_ETH_HDR_LEN)
			c.mtu = (uint16_t)(dev->mtu - SF_ETH_HDR_LEN);
		sf_eth_config_t ec;
		sf_eth_config_default(&ec);
		uint64_t m = c.seed * 0x9e3779b97f4a7c15ull;
		for (int i = 1; i < SF_ETH_ADDR_LEN; i++)
			ec.mac[i] = (uint8_t)(m >> (8 * i));
		ec.mac[0] = 0x02; /* locally administered, unicast */
		ec.transmit = transmit_frame;
		ec.transmit_ctx = l;
		rc = sf_eth_create(&ec, &c, sf_loop_now(), &l->eth);
		if (rc == 0)
			l->st = sf_eth_stack(l->eth);
	} else {
		rc = sf_stack_create(&c, sf_loop_now(), &l->st);
	}
	if (rc < 0) {
		close(l->epfd);
		free(l->buf);
		free(l);
		return rc;
	}
	l->tun = sf_tun_name(dev) ? dev : NULL;
	*out = l;
	return 0;
}

void sf_loop_destroy(sf_loop_t *l)
{
	if (!l)
		return;
	if (l->eth)
		sf_eth_destroy(l->eth);
	else
		sf_stack_destroy(l->st);
	sf_netdev_destroy(l->dev);
	close(l->epfd);
	free(l->buf);
	free(l);
}

sf_stack_t *sf_loop_stack(sf_loop_t *l)
{
	return l ? l->st : NULL;
}

sf_netdev_t *sf_loop_netdev(sf_loop_t *l)
{
	return l ? l->dev : NULL;
}

sf_eth_t *sf_loop_eth(sf_loop_t *l)
{
	return l ? l->eth : NULL;
}

const char *sf_loop_tun_name(sf_loop_t *l)
{
	return l && l->tun ? sf_tun_name(l->tun) : NULL;
}

void sf_loop_set_app(sf_loop_t *l, sf_loop_app_fn fn, void *ctx)
{
	l->app = fn;
	l->app_ctx = ctx;
	l->app_deadline = 0; /* call it at the next iteration */
}

void sf_loop_stop(sf_loop_t *l)
{
	l->stop = 1;
}

void sf_loop_stats(const sf_loop_t *l, sf_loop_stats_t *out)
{
	*out = (sf_loop_stats_t){
	        .iterations = get(&l->stats.iterations),
	        .frames_in = get(&l->stats.frames_in),
	        .frames_out = get(&l->stats.frames_out),
	        .tx_errors = get(&l->stats.tx_errors),
	        .max_batch = get(&l->stats.max_batch),
	        .full_batches = get(&l->stats.full_batches),
	        .super_in = get(&l->stats.super_in),
	        .super_out = get(&l->stats.super_out),
	};
}

/* ---- extra fds ---- */

static fd_watch_t *find_fd(sf_loop_t *l, int fd)
{
	for (int i = 0; i < SF_LOOP_MAX_FDS; i++)
		if (l->fds[i].fd == fd)
			return &l->fds[i];
	return NULL;
}

int sf_loop_add_fd(sf_loop_t *l, int fd, uint32_t events, sf_loop_fd_fn fn, void *ctx)
{
	if (!l || fd < 0 || !fn || fd == l->dev_fd || find_fd(l, fd))
		return SF_EINVAL;
	fd_watch_t *w = find_fd(l, -1);
	if (!w)
		return SF_ENOMEM;
	struct epoll_event ev = {.events = events, .data.u32 = (uint32_t)(w - l->fds) + 1};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return errno == ENOMEM || errno == ENOSPC ? SF_ENOMEM : SF_EINVAL;
	*w = (fd_watch_t){.fd = fd, .fn = fn, .ctx = ctx};
	return 0;
}

int sf_loop_del_fd(sf_loop_t *l, int fd)
{
	fd_watch_t *w = l && fd >= 0 ? find_fd(l, fd) : NULL;
	if (!w)
		return SF_EINVAL;
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->fd = -1;
	return 0;
}

/* ---- one iteration ---- */

/* The stack's entry points, through the Ethernet layer when there is one. */
static void input_batch(sf_loop_t *l, size_t nf, int64_t now)
{
	if (l->eth) { /* Ethernet frames: one by one through ARP and framing */
		for (size_t i = 0; i < nf; i++)
			(void)sf_eth_input(l->eth, l->frames[i].data, l->frames[i].len, now);
	} else {
		(void)sf_stack_input_batch(l->st, l->frames, nf, now);
	}
}

static void poll_stack(sf_loop_t *l, int64_t now)
{
	if (l->eth)
		sf_eth_poll(l->eth, now);
	else
		sf_stack_poll(l->st, now);
}

static int64_t stack_deadline(const sf_loop_t *l)
{
	return l->eth ? sf_eth_next_deadline(l->eth) : sf_stack_next_deadline(l->st);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/* The earliest time anything inside the loop needs to run. */
static int64_t next_deadline(sf_loop_t *l)
{
	int64_t d = min64(stack_deadline(l), sf_netdev_next_deadline(l->dev));
	return l->app ? min64(d, l->app_deadline) : d;
}

/* Sleeps until fds are ready or `wait_us` passed (< 0: no limit); runs the
 * callbacks of ready extra fds. */
static void wait_events(sf_loop_t *l, int64_t wait_us)
{
	struct epoll_event evs[SF_LOOP_MAX_FDS + 1];
	struct timespec ts, *tsp = NULL;
	if (wait_us >= 0) {
		ts.tv_sec = (time_t)(wait_us / 1000000);
		ts.tv_nsec = (long)(wait_us % 1000000) * 1000;
		tsp = &ts;
	}
	int n = epoll_pwait2(l->epfd, evs, SF_LOOP_MAX_FDS + 1, tsp, NULL);
	if (n < 0 && errno == ENOSYS) { /* kernels before 5.11 */
		int ms = wait_us < 0 ? -1 : (int)min64((wait_us + 999) / 1000, 1000000);
		n = epoll_wait(l->epfd, evs, SF_LOOP_MAX_FDS + 1, ms);
	}
	for (int i = 0; i < n; i++) {
		uint32_t slot = evs[i].data.u32;
		if (slot == DEV_SLOT || slot > SF_LOOP_MAX_FDS)
			continue;
		fd_watch_t *w = &l->fds[slot - 1];
		if (w->fd >= 0)
			w->fn(w->ctx, l, w->fd, evs[i].events);
	}
}

/* Hands waiting frames to the stack, in batches. Returns 0 or the
 * netdev's error. */
static int drain_frames(sf_loop_t *l, int64_t now)
{
	uint64_t cnt = 0;
	int rc = 0;
	size_t used = 0, nf = 0;
	while (cnt < SF_LOOP_BATCH) {
		if (RX_ARENA_LEN - used < RX_BUF_LEN) {
			input_batch(l, nf, now);
			used = nf = 0;
		}
		sf_offload_t *off = &l->offs[nf];
		int n = sf_netdev_receive_off(l->dev, l->buf + used, RX_BUF_LEN, off, now);
		if (n == SF_ENOBUFS) { /* one oversized frame discarded by a wrapper */
			cnt++;
			continue;
		}
		if (n <= 0) {
			rc = n;
			break;
		}
		if (off->gso_size)
			bump(&l->stats.super_in, 1);
		l->frames[nf++] = (sf_frame_t){.data = l->buf + used, .len = (size_t)n, .off = off};
		used += ((size_t)n + 7) & ~(size_t)7;
		cnt++;
	}
	if (nf)
		input_batch(l, nf, now);
	l->busy = cnt == SF_LOOP_BATCH;
	bump(&l->stats.frames_in, cnt);
	if (cnt > get(&l->stats.max_batch))
		atomic_store_explicit(&l->stats.max_batch, cnt, memory_order_relaxed);
	if (l->busy)
		bump(&l->stats.full_batches, 1);
	return rc;
}

int sf_loop_once(sf_loop_t *l, int64_t max_wait_us)
{
	int64_t now = sf_loop_now();
	int64_t due = next_deadline(l), wait;
	if (l->busy || due <= now)
		wait = 0;
	else if (due == INT64_MAX)
		wait = -1;
	else
		wait = due - now;
	if (max_wait_us >= 0 && (wait < 0 || wait > max_wait_us))
		wait = max_wait_us;
	wait_events(l, wait); /* even without sleeping: ready extra fds get their callbacks */
	bump(&l->stats.iterations, 1);

	now = sf_loop_now();
	int rc = drain_frames(l, now);
	poll_stack(l, now);
	if (l->app) {
		l->app_deadline = l->app(l->app_ctx, l, now);
		if (stack_deadline(l) <= now)
			poll_stack(l, now);
	}
	return rc;
}

int sf_loop_run_until(sf_loop_t *l, bool (*done)(void *ctx), void *ctx, int64_t timeout_us)
{
	int64_t end = timeout_us < 0 ? INT64_MAX : sf_loop_now() + timeout_us;
	int rc = 0;
	for (;;) {
		if (l->stop || (done && done(ctx)))
			break;
		int64_t now = sf_loop_now();
		if (now >= end) {
			rc = SF_ETIMEDOUT;
			break;
		}
		rc = sf_loop_once(l, end == INT64_MAX ? -1 : end - now);
		if (rc < 0)
			break;
	}
	l->stop = 0;
	return rc;
}

int sf_loop_run(sf_loop_t *l, int64_t timeout_us)
{
	return sf_loop_run_until(l, NULL, NULL, timeout_us);
}

/* ---- a loop over a TUN device ---- */

#define DEFAULT_ADDR 0xC0000202u /* 192.0.2.2 */
#define DEFAULT_PEER 0xC0000201u /* 192.0.2.1 */

static void say(char *buf, size_t len, const char *fmt, const char *arg)
{
	if (buf && len)
		snprintf(buf, len, fmt, arg);
}

/* A one-line reason why opening the TUN (or TAP) device failed, from the
 * errno the open left behind. */
static void explain_tun_error(int saved_errno, const char *name, bool tap, char *buf, size_t len)
{
	const char *kind = tap ? "TAP" : "TUN";
	if (access("/dev/net/tun", F_OK) != 0) {
		say(buf, len, "%s",
		    "/dev/net/tun is not available (no TUN support: try 'modprobe tun')");
		return;
	}
	if (saved_errno == EINVAL && name && if_nametoindex(name) != 0) {
		if (buf && len)
			snprintf(buf, len,
			         "interface %s exists and is not a %s device (try another name)",
			         name, kind);
		return;
	}
	switch (saved_errno) {
	case EPERM:
	case EACCES:
		say(buf, len, "%s",
		    geteuid() != 0 ? "creating a TUN device needs root (CAP_NET_ADMIN): run as root"
		                   : "not allowed to create a TUN device (CAP_NET_ADMIN missing?)");
		break;
	case ENODEV:
	case ENXIO:
	case ENOENT:
		say(buf, len, "%s",
		    "/dev/net/tun is not usable (TUN driver missing: try 'modprobe tun')");
		break;
	case EBUSY:
	case EEXIST:
		say(buf, len, "interface %s already exists and is in use", name ? name : "?");
		break;
	default:
		if (buf && len)
			snprintf(buf, len, "cannot set up the %s device%s%s: %s", kind,
			         name ? " " : "", name ? name : "",
			         saved_errno ? strerror(saved_errno) : "unsupported options");
	}
}

bool sf_loop_offload_wanted(int offload)
{
	if (offload != 0)
		return offload > 0;
	const char *env = getenv("SYNFIN_OFFLOAD");
	if (!env)
		return true;
	return !(strcmp(env, "0") == 0 || strcmp(env, "off") == 0 || strcmp(env, "no") == 0);
}

int sf_loop_open_tun(const sf_loop_tun_opts_t *o, sf_loop_t **out, char *errbuf, size_t errbuf_len)
{
	return sf_loop_open_tun_multi(o, 1, out, errbuf, errbuf_len);
}

/* Wraps queue q's netdev as the options ask (`trace`: the sink of the
 * stack on it); destroys it on failure. */
static sf_netdev_t *wrap_queue(const sf_loop_tun_opts_t *o, unsigned q, sf_netdev_t *dev,
                               sf_trace_sink_t trace, int *err, char *errbuf, size_t errbuf_len)
{
	if (o->impair_tx || o->impair_rx) {
		sf_netdev_t *w =
		        sf_impair_wrap(dev, o->impair_seed + q, o->impair_tx, o->impair_rx);
		if (!w) {
			sf_netdev_destroy(dev);
			say(errbuf, errbuf_len, "%s", "invalid impairment values");
			*err = SF_EINVAL;
			return NULL;
		}
		/* Frames the impairment loses show up in the trace (drawn
		 * lost), not as silent gaps. */
		if (o->cfg)
			sf_impair_set_trace(w, trace);
		dev = w;
	}
	if (o->pcap_path) {
		char path[4096];
		if (q == 0)
			snprintf(path, sizeof path, "%s", o->pcap_path);
		else
			snprintf(path, sizeof path, "%s.%u", o->pcap_path, q);
		errno = 0;
		sf_netdev_t *w = sf_pcap_tap_wrap(dev, path, err);
		if (!w) {
			int e = errno; /* the file's open, when that failed */
			sf_netdev_destroy(dev);
			if (errbuf && errbuf_len)
				snprintf(errbuf, errbuf_len, "cannot write pcap file '%s'%s%s",
				         path, e ? ": " : "", e ? strerror(e) : "");
			if (*err >= 0)
				*err = SF_EINVAL;
			return NULL;
		}
		dev = w;
	}
	return dev;
}

int sf_loop_open_tun_multi(const sf_loop_tun_opts_t *o, unsigned n, sf_loop_t **out, char *errbuf,
                           size_t errbuf_len)
{
	sf_loop_tun_opts_t def = {0};
	if (!o)
		o = &def;
	if (!out || n == 0 || n > SF_TUN_MAX_QUEUES || (o->tun_name && strlen(o->tun_name) >= 16) ||
	    o->prefix_len < 0 || o->prefix_len > 32) {
		say(errbuf, errbuf_len, "%s",
		    "invalid TUN options (name too long, bad prefix or queue count)");
		return SF_EINVAL;
	}
	sf_config_t cfg;
	if (o->cfg)
		cfg = *o->cfg;
	else
		sf_config_default(&cfg);
	cfg.addr = o->addr ? o->addr : DEFAULT_ADDR;
	cfg.prefix_len = o->prefix_len ? o->prefix_len : 24;
	cfg.mtu = o->mtu ? o->mtu : 1500;
	/* One secret for every stack: ISNs (RFC 6528) and anything keyed by
	 * it agree whichever queue a flow lands on. */
	if (cfg.seed == 0)
		cfg.seed = random_seed();
	sf_tun_config_t tc = {
	        .name = o->tun_name && o->tun_name[0] ? o->tun_name : NULL,
	        .peer_addr = o->peer_addr ? o->peer_addr : DEFAULT_PEER,
	        .prefix_len = cfg.prefix_len,
	        .mtu = cfg.mtu,
	        .offload = sf_loop_offload_wanted(o->offload) && !o->impair_tx && !o->impair_rx,
	};
	if (tc.peer_addr == cfg.addr) {
		say(errbuf, errbuf_len, "%s", "synfin's address and the kernel's must differ");
		return SF_EINVAL;
	}
	sf_netdev_t *tuns[SF_TUN_MAX_QUEUES] = {0};
	errno = 0;
	int rc;
	if (o->tap) { /* one queue: Ethernet frames, ARP by synfin */
		tuns[0] = n == 1 ? sf_tap_open(&tc, &rc) : NULL;
		if (n != 1)
			rc = SF_EINVAL;
	} else {
		rc = sf_tun_open_multi(&tc, n, tuns);
	}
	if (rc < 0) {
		explain_tun_error(errno, tc.name, o->tap, errbuf, errbuf_len);
		return rc;
	}
	unsigned made = 0;
	for (; made < n; made++) {
		int err = 0;
		if (o->trace_ctx)
			cfg.trace.ctx = o->trace_ctx[made];
		sf_netdev_t *dev =
		        wrap_queue(o, made, tuns[made], cfg.trace, &err, errbuf, errbuf_len);
		if (!dev) {
			rc = err;
			break;
		}
		rc = sf_loop_create(dev, &cfg, &out[made]);
		if (rc < 0) {
			sf_netdev_destroy(dev);
			if (errbuf && errbuf_len)
				snprintf(errbuf, errbuf_len, "cannot create the stack: %s",
				         sf_strerror(rc));
			break;
		}
		out[made]->tun = tuns[made];
	}
	if (made < n) {
		for (unsigned i = made + 1; i < n; i++)
			sf_netdev_destroy(tuns[i]);
		while (made--)
			sf_loop_destroy(out[made]);
		return rc < 0 ? rc : SF_EINVAL;
	}
	return 0;
}
