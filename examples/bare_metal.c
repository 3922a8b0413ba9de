/* A bare-metal style main loop: how firmware runs synfin without an OS
 * (docs/PORTING.md). The device is an Ethernet interface with an echo
 * service on port 7; its "MAC driver" is a pair of frame queues, and on the
 * far side of that fake cable a second synfin (a host on the LAN) resolves
 * the device with ARP, connects, sends a line and checks the echo.
 *
 * What a port provides is marked PORT: a transmit function for the MAC, a
 * microsecond clock, entropy for the seed, and a way to sleep until the next
 * deadline or an interrupt. Here the clock is virtual and "sleeping" jumps
 * it forward, so the program runs in a few milliseconds of real time.
 *
 *   cc bare_metal.c $(pkg-config --cflags --libs synfin-core) && ./a.out
 */
#include <stdio.h>
#include <string.h>

#include <synfin/eth.h>
#include <synfin/synfin.h>

/* ---- the fake board ---- */

#define SLOTS 16
typedef struct mac {
	uint8_t frame[SLOTS][1514];
	size_t len[SLOTS];
	int head, count;
} mac_t;
static mac_t to_device, to_host; /* the two directions of the cable */
static int64_t clock_us;         /* PORT: a hardware timer */

static int mac_put(mac_t *m, const uint8_t *f, size_t len)
{
	if (m->count == SLOTS || len > sizeof m->frame[0])
		return SF_ENOBUFS;
	int i = (m->head + m->count++) % SLOTS;
	memcpy(m->frame[i], f, len);
	m->len[i] = len;
	return 0;
}

/* PORT: the MAC's receive path (polled here; an interrupt would set a flag). */
static int mac_get(mac_t *m, uint8_t *buf)
{
	if (!m->count)
		return 0;
	int i = m->head;
	m->head = (m->head + 1) % SLOTS;
	m->count--;
	memcpy(buf, m->frame[i], m->len[i]);
	return (int)m->len[i];
}

/* PORT: the MAC's transmit path. */
static int device_transmit(void *ctx, const uint8_t *f, size_t len, int64_t now_us)
{
	(void)ctx;
	(void)now_us;
	return mac_put(&to_host, f, len);
}

static int host_transmit(void *ctx, const uint8_t *f, size_t len, int64_t now_us)
{
	(void)ctx;
	(void)now_us;
	return mac_put(&to_device, f, len);
}

static sf_eth_t *make_if(uint32_t addr, uint8_t mac_last, uint64_t seed,
                         int (*tx)(void *, const uint8_t *, size_t, int64_t))
{
	sf_config_t cfg;
	sf_config_default(&cfg);
	cfg.addr = addr;
	cfg.seed = seed;   /* PORT: from the hardware RNG */
	cfg.max_conns = 4; /* a listener and three connections */
	cfg.sndbuf = 2048; /* small buffers for a small device */
	cfg.rcvbuf = 2048;
	cfg.frag_slots = 0; /* no IP reassembly: saves 64 KiB per slot */
	sf_eth_config_t ec;
	sf_eth_config_default(&ec);
	ec.mac[5] = mac_last; /* PORT: the board's MAC address */
	ec.transmit = tx;
	sf_eth_t *eth;
	return sf_eth_create(&ec, &cfg, clock_us, &eth) == 0 ? eth : NULL;
}

int main(void)
{
	sf_eth_t *dev = make_if(0xC0000202u, 0x02, 7, device_transmit);
	sf_eth_t *host = make_if(0xC0000201u, 0x01, 8, host_transmit);
	if (!dev || !host)
		return 1;
	sf_stack_t *st = sf_eth_stack(dev), *hst = sf_eth_stack(host);
	sf_sock_t lsn = sf_socket(st), conn = -1;
	sf_bind(st, lsn, 7);
	sf_listen(st, lsn, 2);

	sf_sock_t cli = sf_socket(hst);
	sf_connect(hst, cli, 0xC0000202u, 7); /* the host's SYN waits for ARP */
	const char *line = "ping from the LAN\n";
	char echo[64] = {0};
	size_t got = 0;
	int sent = 0;

	uint8_t rx[1514];
	for (int iter = 0; iter < 100000; iter++) {
		/* ---- the device's main loop: this is the firmware ---- */
		int n;
		while ((n = mac_get(&to_device, rx)) > 0)
			sf_eth_input(dev, rx, (size_t)n, clock_us);
		sf_eth_poll(dev, clock_us); /* ARP timers, TCP timers, output */
		if (conn < 0)
			conn = sf_accept(st, lsn, NULL, NULL);
		if (conn >= 0) {
			char buf[128];
			long r = sf_recv(st, conn, buf, sizeof buf);
			if (r > 0)
				sf_send(st, conn, buf, (size_t)r);
			else if (r != SF_EAGAIN) {
				sf_close(st, conn);
				conn = -1;
			}
			sf_eth_poll(dev, clock_us);
		}
		int64_t wake = sf_eth_next_deadline(dev); /* PORT: arm a timer, WFI */

		/* ---- the host on the other end of the cable ---- */
		while ((n = mac_get(&to_host, rx)) > 0)
			sf_eth_input(host, rx, (size_t)n, clock_us);
		if (!sent && sf_send(hst, cli, line, strlen(line)) > 0)
			sent = 1;
		long r = sf_recv(hst, cli, echo + got, sizeof echo - 1 - got);
		if (r > 0 && (got += (size_t)r) == strlen(line))
			break;
		sf_eth_poll(host, clock_us);
		int64_t h = sf_eth_next_deadline(host);

		/* nothing on the cable: sleep until the earlier deadline */
		if (!to_device.count && !to_host.count) {
			int64_t next = wake < h ? wake : h;
			if (next == INT64_MAX)
				break; /* nothing will ever happen again */
			if (next > clock_us)
				clock_us = next;
		}
	}
	uint8_t mac[SF_ETH_ADDR_LEN];
	int known = sf_eth_arp_lookup(host, 0xC0000202u, mac) == 0;
	printf("echoed: %s", echo);
	printf("the host resolved the device to %02x:%02x:%02x:%02x:%02x:%02x with ARP\n", mac[0],
	       mac[1], mac[2], mac[3], mac[4], mac[5]);
	sf_eth_destroy(dev);
	sf_eth_destroy(host);
	return strcmp(echo, line) == 0 && known ? 0 : 1;
}
