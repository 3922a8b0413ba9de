/* The footprint firmware: what a Cortex-M4 product with synfin as its TCP/IP
 * stack links. One TCP listener (an echo service on port 7) with the small
 * configuration of bench/README.md, driven by a bare-metal main loop; with
 * -DFP_ETH the stack sits behind the Ethernet/ARP layer on a MAC, without
 * it on a raw IP link (a SLIP/PPP-style or TUN-like driver).
 *
 * It is built by bench/footprint.sh with arm-none-eabi-gcc and newlib-nano
 * and never runs: the linker map says what each part costs. */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "synfin/synfin.h"
#ifdef FP_ETH
#include "synfin/eth.h"
#endif

static uint8_t rx[1536];

static int transmit(void *ctx, const uint8_t *frame, size_t len, int64_t now_us)
{
	(void)ctx;
	(void)now_us;
	board_tx(frame, len);
	return 0;
}

int main(void)
{
	sf_config_t c;
	sf_config_default(&c);
	c.max_conns = 4;
	c.max_timewait = 4;
	c.sndbuf = c.rcvbuf = 2048;
	c.frag_slots = 0;
	c.syn_backlog = 2;
	c.seed = board_entropy();
	int64_t now = board_now_us();
	sf_stack_t *st;
#ifdef FP_ETH
	sf_eth_config_t ec;
	sf_eth_config_default(&ec);
	board_mac(ec.mac);
	ec.arp_entries = 4;
	ec.arp_queue = 2;
	ec.transmit = transmit;
	sf_eth_t *eth;
	if (sf_eth_create(&ec, &c, now, &eth) < 0)
		return 1;
	st = sf_eth_stack(eth);
#define INPUT(b, n) sf_eth_input(eth, b, n, now)
#define POLL()      sf_eth_poll(eth, now)
#define DEADLINE()  sf_eth_next_deadline(eth)
#else
	c.transmit = transmit;
	if (sf_stack_create(&c, now, &st) < 0)
		return 1;
#define INPUT(b, n) sf_stack_input(st, b, n, now)
#define POLL()      sf_stack_poll(st, now)
#define DEADLINE()  sf_stack_next_deadline(st)
#endif
	sf_sock_t lsn = sf_socket(st);
	if (lsn < 0 || sf_bind(st, lsn, 7) < 0 || sf_listen(st, lsn, 2) < 0)
		return 1;
	sf_sock_t conn = -1;
	for (;;) {
		now = board_now_us();
		int n;
		while ((n = board_rx(rx, sizeof rx)) > 0)
			(void)INPUT(rx, (size_t)n);
		POLL();
		if (conn < 0) {
			uint32_t addr;
			uint16_t port;
			conn = sf_accept(st, lsn, &addr, &port);
		}
		if (conn >= 0) {
			uint8_t buf[256];
			long r = sf_recv(st, conn, buf, sizeof buf);
			if (r > 0) {
				(void)sf_send(st, conn, buf, (size_t)r);
			} else if (r != SF_EAGAIN) {
				sf_close(st, conn);
				conn = -1;
			}
			POLL();
		}
		board_sleep_until(DEADLINE());
	}
}
