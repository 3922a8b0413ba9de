/* The TUN netdev: raw IPv4 datagrams to and from the Linux kernel through
 * /dev/net/tun (IFF_TUN | IFF_NO_PI, non-blocking). sf_tun_open() creates
 * the interface and configures the kernel side with the classic interface
 * ioctls on an AF_INET datagram socket: MTU, address peer_addr/prefix_len
 * (which also gives the kernel its route to our side) and link up. The
 * descriptor is exposed through fd() so an event loop can poll it;
 * receive() reads one packet and returns 0 when none is waiting.
 *
 * Later work slots in here:
 * - Offloads: open with IFF_VNET_HDR and set TUNSETVNETHDRSZ/TUNSETOFFLOAD;
 *   every read and write then starts with a struct virtio_net_hdr, which
 *   lets the kernel hand us GSO super-packets and skip checksums (TSO/GRO).
 *   transmit()/receive() would add and strip that header.
 * - Multiqueue: IFF_MULTI_QUEUE, with /dev/net/tun opened once per queue
 *   under the same name (one fd per stack/core, flows split by the kernel's
 *   hash), and TUNSETQUEUE to attach and detach queues.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "synfin/error.h"
#include "synfin/netdev.h"

typedef struct tun_dev {
	sf_netdev_t dev; /* first: the netdev pointer is the tun pointer */
	int fd;
	char ifname[IFNAMSIZ];
} tun_dev_t;

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

static int tun_transmit(sf_netdev_t *dev, const uint8_t *frame, size_t len, int64_t now_us)
{
	(void)now_us;
	tun_dev_t *t = tun_of(dev);
	ssize_t n;
	do
		n = write(t->fd, frame, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return map_errno(errno);
	return 0;
}

/* `cap` should be at least the MTU: a datagram longer than cap is not
 * returned whole. */
static int tun_receive(sf_netdev_t *dev, uint8_t *buf, size_t cap, int64_t now_us)
{
	(void)now_us;
	tun_dev_t *t = tun_of(dev);
	ssize_t n;
	do
		n = read(t->fd, buf, cap);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : map_errno(errno);
	return (int)n;
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

/* Sets MTU, address/prefix and IFF_UP on the kernel side of `name`.
 * Returns 0 or a negative SF_E* code. */
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

sf_netdev_t *sf_tun_open(const sf_tun_config_t *cfg, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	if (!cfg || (cfg->name && strlen(cfg->name) >= IFNAMSIZ)) {
		*err = SF_EINVAL;
		return NULL;
	}
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
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	if (cfg->name)
		memcpy(ifr.ifr_name, cfg->name, strlen(cfg->name));
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		*err = map_errno(errno);
		tun_destroy(&t->dev);
		return NULL;
	}
	memcpy(t->ifname, ifr.ifr_name, IFNAMSIZ);
	t->ifname[IFNAMSIZ - 1] = '\0';
	int rc = configure(t->ifname, cfg);
	if (rc < 0) {
		*err = rc;
		tun_destroy(&t->dev);
		return NULL;
	}
	t->dev.name = t->ifname;
	t->dev.mtu = cfg->mtu ? cfg->mtu : 1500;
	t->dev.transmit = tun_transmit;
	t->dev.receive = tun_receive;
	t->dev.next_deadline = tun_next_deadline;
	t->dev.fd = tun_fd;
	t->dev.destroy = tun_destroy;
	*err = 0;
	return &t->dev;
}

const char *sf_tun_name(sf_netdev_t *dev)
{
	if (!dev || dev->transmit != tun_transmit)
		return NULL;
	return tun_of(dev)->ifname;
}
