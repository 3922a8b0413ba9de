/* The TUN and TAP netdevs: raw IPv4 datagrams (TUN) or Ethernet frames
 * (TAP, sf_tap_open: one queue, no offloads) to and from the Linux kernel
 * through /dev/net/tun (IFF_TUN or IFF_TAP, IFF_NO_PI, non-blocking). sf_tun_open() creates
 * the interface and configures the kernel side with the classic interface
 * ioctls on an AF_INET datagram socket: MTU, address peer_addr/prefix_len
 * (which also gives the kernel its route to our side) and link up. The
 * descriptor is exposed through fd() so an event loop can poll it;
 * receive() reads one packet and returns 0 when none is waiting.
 *
 * Offloads (cfg.offload): the device is opened with IFF_VNET_HDR, the
 * header size set to the 10-byte struct virtio_net_hdr (TUNSETVNETHDRSZ)
 * and TUNSETOFFLOAD asked for TUN_F_CSUM | TUN_F_TSO4 (then TUN_F_CSUM
 * alone). Every read and write then starts with that header (native byte
 * order, which is little-endian on the hosts this runs on, as the legacy
 * virtio header is): the kernel hands us TCP super-segments of up to 64 KiB
 * (gso_type TCPV4, gso_size the MSS) with only the pseudo-header sum in the
 * checksum field (NEEDS_CSUM), and takes them from us the same way, cutting
 * them at gso_size itself. transmit_off()/receive_off() carry that header
 * as an sf_offload_t; plain transmit()/receive() on such a device write a
 * zero header and complete partial checksums, so a wrapper that knows
 * nothing of offloads still sees ordinary datagrams. When the kernel
 * refuses IFF_VNET_HDR the device is a plain TUN with offloads 0.
 *
 * Multiqueue (sf_tun_open_multi): IFF_MULTI_QUEUE, /dev/net/tun opened once
 * per queue under the same name, one netdev (one fd) per queue, for one
 * stack and one thread each. The kernel picks a flow's queue by its
 * symmetric flow hash and then keeps it where that flow was last written
 * from (tun_automq_select_queue): a stack answering on its own queue keeps
 * its flows.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "synfin/error.h"
#include "synfin/netdev.h"

typedef struct tun_dev {
	sf_netdev_t dev; /* first: the netdev pointer is the tun pointer */
	int fd;
	bool vnet; /* every read and write starts with a struct virtio_net_hdr */
	char ifname[IFNAMSIZ];
} tun_dev_t;

#define VNET_HDR_LEN sizeof(struct virtio_net_hdr)

static tun_dev_t *tun_of(sf_netdev_t *dev)
{
	return (tun_dev_t *)dev;
}

/* errno to the nearest SF_E* code. There is no "permission denied" code:
 * a missing CAP_NET_ADMIN or a missing /dev/net/tun reads as SF_ENOTSUP. */
static int map_errno(int e)
{
	switch (e) {
	case ENOMEM:
	case ENOBUFS:
		return SF_ENOMEM;
	case EAGAIN:
		return SF_EAGAIN;
	case EBUSY:
	case EEXIST:
		return SF_EADDRINUSE;
	case EBADF:
		return SF_EBADF;
	case EPERM:
	case EACCES:
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return SF_ENOTSUP;
	default:
		return SF_EINVAL;
	}
}

static int tun_transmit_off(sf_netdev_t *dev, const uint8_t *frame, size_t len,
                            const sf_offload_t *off, int64_t now_us)
{
	(void)now_us;
	tun_dev_t *t = tun_of(dev);
	struct virtio_net_hdr vh = {0};
	if (off && t->vnet && len >= 20) {
		uint16_t ihl = (uint16_t)((frame[0] & 0x0f) * 4);
		if (off->csum_partial) {
			vh.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			vh.csum_start = ihl;
			vh.csum_offset = 16; /* the TCP checksum field */
		}
		if (off->gso_size && len >= (size_t)ihl + 20) {
			vh.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			vh.gso_size = off->gso_size;
			vh.hdr_len = (uint16_t)(ihl + (frame[ihl + 12] >> 4) * 4);
		}
	}
	struct iovec iov[2] = {{&vh, VNET_HDR_LEN}, {(void *)frame, len}};
	ssize_t n;
	do
		n = t->vnet ? writev(t->fd, iov, 2) : write(t->fd, frame, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return map_errno(errno);
	return 0;
}

static int tun_transmit(sf_netdev_t *dev, const uint8_t *frame, size_t len, int64_t now_us)
{
	return tun_transmit_off(dev, frame, len, NULL, now_us);
}

/* `cap` should be at least the MTU (64 KiB with offloads): a datagram
 * longer than cap is not returned whole. */
static int tun_receive_off(sf_netdev_t *dev, uint8_t *buf, size_t cap, sf_offload_t *off,
                           int64_t now_us)
{
	(void)now_us;
	tun_dev_t *t = tun_of(dev);
	struct virtio_net_hdr vh = {0};
	struct iovec iov[2] = {{&vh, VNET_HDR_LEN}, {buf, cap}};
	ssize_t n;
	do
		n = t->vnet ? readv(t->fd, iov, 2) : read(t->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	*off = (sf_offload_t){0};
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : map_errno(errno);
	if (!t->vnet)
		return (int)n;
	if ((size_t)n < VNET_HDR_LEN)
		return 0; /* nothing but a header: nothing to hand over */
	n -= (ssize_t)VNET_HDR_LEN;
	off->csum_partial = vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM;
	off->csum_valid = vh.flags & VIRTIO_NET_HDR_F_DATA_VALID;
	/* The segment count is left to whoever parses the headers (the
	 * kernel's hdr_len is the linear part of its buffer, not the
	 * headers). */
	if ((vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN) == VIRTIO_NET_HDR_GSO_TCPV4)
		off->gso_size = vh.gso_size;
	return (int)n;
}

static int tun_receive(sf_netdev_t *dev, uint8_t *buf, size_t cap, int64_t now_us)
{
	sf_offload_t off;
	int n = tun_receive_off(dev, buf, cap, &off, now_us);
	if (n > 0 && off.csum_partial)
		(void)sf_tcp_csum_fill(buf, (size_t)n); /* what receive() promises */
	return n;
}

static int64_t tun_next_deadline(sf_netdev_t *dev)
{
	(void)dev;
	return SF_NO_DEADLINE;
}

static int tun_fd(sf_netdev_t *dev)
{
	return tun_of(dev)->fd;
}

static void tun_destroy(sf_netdev_t *dev)
{
	tun_dev_t *t = tun_of(dev);
	if (t->fd >= 0)
		close(t->fd); /* a non-persistent TUN disappears with its fd */
	free(t);
}

static void set_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = {0};
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(addr);
	memcpy(sa, &sin, sizeof(sin));
}

/* The kernel's queue toward us on the device: its default (500 frames)
 * overflows when a thousand clients send at once, and every frame dropped
 * there costs the kernel a retransmission timeout (>= 200 ms) of latency. */
#define TUN_TXQUEUELEN 10000

/* Sets MTU, the kernel's transmit queue length (best effort: a failure
 * leaves the default), address/prefix and IFF_UP on the kernel side of
 * `name`. Returns 0 or a negative SF_E* code. */
static int configure(const char *name, const sf_tun_config_t *cfg)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return map_errno(errno);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, name, IFNAMSIZ);
	ifr.ifr_mtu = cfg->mtu ? cfg->mtu : 1500;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
		goto fail;
	ifr.ifr_qlen = TUN_TXQUEUELEN;
	(void)ioctl(s, SIOCSIFTXQLEN, &ifr);
	if (cfg->peer_addr != 0) {
		if (cfg->prefix_len < 0 || cfg->prefix_len > 32) {
			close(s);
			return SF_EINVAL;
		}
		set_sin(&ifr.ifr_addr, cfg->peer_addr);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			goto fail;
		uint32_t mask = cfg->prefix_len == 0 ? 0 : ~(uint32_t)0 << (32 - cfg->prefix_len);
		set_sin(&ifr.ifr_netmask, mask);
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			goto fail;
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			goto fail;
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			goto fail;
	}
	close(s);
	return 0;
fail:;
	int rc = map_errno(errno);
	close(s);
	return rc;
}

/* Opens one queue of the TUN device `name` (NULL: a new one, named by the
 * kernel): the fd, TUNSETIFF with the flags asked for (falling back to no
 * virtio-net header), the offloads. The kernel side is not configured.
 * Returns NULL with *err set (errno left as the failing call set it). */
static tun_dev_t *open_queue(const char *name, const sf_tun_config_t *cfg, bool multi, bool tap,
                             int *err)
{
	tun_dev_t *t = calloc(1, sizeof(*t));
	if (!t) {
		*err = SF_ENOMEM;
		return NULL;
	}
	t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (t->fd < 0) {
		*err = map_errno(errno);
		free(t);
		return NULL;
	}
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	short base = (tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (multi ? IFF_MULTI_QUEUE : 0);
	ifr.ifr_flags = base | (cfg->offload && !tap ? IFF_VNET_HDR : 0);
	if (name)
		memcpy(ifr.ifr_name, name, strlen(name));
	int rc = ioctl(t->fd, TUNSETIFF, &ifr);
	if (rc < 0 && cfg->offload && errno == EINVAL && !multi) {
		ifr.ifr_flags = base; /* no virtio-net header here */
		rc = ioctl(t->fd, TUNSETIFF, &ifr);
	}
	if (rc < 0) {
		int e = errno;
		*err = map_errno(e);
		tun_destroy(&t->dev);
		errno = e;
		return NULL;
	}
	t->vnet = ifr.ifr_flags & IFF_VNET_HDR;
	if (t->vnet) {
		int sz = (int)VNET_HDR_LEN;
		if (ioctl(t->fd, TUNSETVNETHDRSZ, &sz) == 0 &&
		    ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) == 0)
			t->dev.offloads = SF_NETDEV_OFF_CSUM | SF_NETDEV_OFF_TSO;
		else if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) == 0)
			t->dev.offloads = SF_NETDEV_OFF_CSUM;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->ifname[IFNAMSIZ - 1] = '\0';
	t->dev.name = t->ifname;
	t->dev.mtu = (uint16_t)((cfg->mtu ? cfg->mtu : 1500) + (tap ? 14 : 0));
	t->dev.link = tap ? SF_LINK_ETHERNET : SF_LINK_IP;
	t->dev.transmit = tun_transmit;
	t->dev.receive = tun_receive;
	t->dev.transmit_off = tun_transmit_off;
	t->dev.receive_off = tun_receive_off;
	t->dev.next_deadline = tun_next_deadline;
	t->dev.fd = tun_fd;
	t->dev.destroy = tun_destroy;
	return t;
}

sf_netdev_t *sf_tun_open(const sf_tun_config_t *cfg, int *err)
{
	sf_netdev_t *dev = NULL;
	int rc = sf_tun_open_multi(cfg, 1, &dev);
	if (err)
		*err = rc;
	return rc < 0 ? NULL : dev;
}

static int open_multi(const sf_tun_config_t *cfg, unsigned n, sf_netdev_t **devs, bool tap)
{
	if (!cfg || !devs || n == 0 || n > SF_TUN_MAX_QUEUES ||
	    (cfg->name && strlen(cfg->name) >= IFNAMSIZ))
		return SF_EINVAL;
	int err = 0;
	tun_dev_t *first = open_queue(cfg->name, cfg, n > 1, tap, &err);
	if (!first)
		return err;
	devs[0] = &first->dev;
	for (unsigned i = 1; i < n; i++) {
		tun_dev_t *q = open_queue(first->ifname, cfg, true, tap, &err);
		if (!q || q->dev.offloads != first->dev.offloads) {
			int e = errno;
			if (q)
				tun_destroy(&q->dev);
			while (i--)
				tun_destroy(devs[i]);
			errno = e;
			return err < 0 ? err : SF_EINVAL;
		}
		devs[i] = &q->dev;
	}
	int rc = configure(first->ifname, cfg);
	if (rc < 0) {
		for (unsigned i = 0; i < n; i++)
			tun_destroy(devs[i]);
		return rc;
	}
	return 0;
}

int sf_tun_open_multi(const sf_tun_config_t *cfg, unsigned n, sf_netdev_t **devs)
{
	return open_multi(cfg, n, devs, false);
}

sf_netdev_t *sf_tap_open(const sf_tun_config_t *cfg, int *err)
{
	sf_netdev_t *dev = NULL;
	int rc = open_multi(cfg, 1, &dev, true);
	if (err)
		*err = rc;
	return rc < 0 ? NULL : dev;
}

const char *sf_tun_name(sf_netdev_t *dev)
{
	if (!dev || dev->transmit != tun_transmit)
		return NULL;
	return tun_of(dev)->ifname;
}
