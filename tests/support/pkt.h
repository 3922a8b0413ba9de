/* Packet-exchange harness: one synfin stack driven segment by segment with a
 * fake clock. The test plays the peer (192.0.2.1): it injects segments and
 * expects exactly the segments synfin sends, with sequence numbers relative
 * to synfin's ISS (our side) and the peer's ISS (the test's side).
 *
 *   pkt_t p; pkt_init(&p, NULL);
 *   sf_sock_t s = pkt_open_active(&p);          // SYN, SYN-ACK, ACK done
 *   pkt_in(&p, "P.", 1, 1, "hello", 5);         // peer sends 5 bytes
 *   pkt_expect(&p, ".", 1, 6, 0);               // synfin ACKs them
 *   pkt_expect_none(&p);
 */
#ifndef SF_TEST_PKT_H
#define SF_TEST_PKT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "countalloc.h"
#include "synfin/synfin.h"

#define PKT_PEER    0xC0000201u /* 192.0.2.1 */
#define PKT_US      0xC0000202u /* 192.0.2.2 */
#define PKT_MAX_OUT 256
#define PKT_MAX_EV  4096

typedef struct pkt_seg {
	uint8_t frame[2048];
	size_t len;
	sf_ipv4_t ip;
	sf_tcp_t tcp;
	sf_icmp_t icmp;
	const uint8_t *payload;
	int64_t at_us;
} pkt_seg_t;

typedef struct pkt {
	sf_config_t cfg;
	sf_stack_t *st;
	int64_t now;
	pkt_seg_t out[PKT_MAX_OUT];
	size_t out_head, out_cnt;
	sf_event_t ev[PKT_MAX_EV];
	size_t ev_cnt;
	uint16_t peer_port, port; /* peer's port, synfin's port */
	uint32_t iss, irs;        /* synfin's ISS, the peer's ISS */
	uint32_t peer_ts;         /* the peer's timestamp clock, when used */
	uint32_t peer_addr;       /* source of injected segments; PKT_PEER by default */
	counter_t mem;            /* the stack's allocations (countalloc.h) */
	/* options the peer puts on the next injected segment */
	sf_tcp_opts_t opt;
	uint16_t wnd;
	uint16_t urg; /* urgent pointer the peer puts on the next injected segment */
} pkt_t;

/* Creates the stack (cfg NULL: defaults with delack 0, seed 1, 192.0.2.2).
 * Timestamps, SACK and window scaling are offered by synfin by default;
 * the peer offers them only if the test fills p->opt on its SYN. */
void pkt_init(pkt_t *p, const sf_config_t *cfg);
/* Destroys the stack; fails the test if any allocation is still live. */
void pkt_fini(pkt_t *p);
/* Ends a test holding connection s: aborts it, drops what the abort sent
 * (its RST) and destroys the stack (pkt_fini). */
void pkt_finish(pkt_t *p, sf_sock_t s);
/* The same for a test that also holds the listener l: aborts s, closes l,
 * drops what was sent and destroys the stack. */
void pkt_finish_listener(pkt_t *p, sf_sock_t s, sf_sock_t l);
/* Ends a test with sf_close(s) in place of the abort (s a listener, or a
 * connection whose FIN is dropped): closes s, drops what was sent and
 * destroys the stack. */
void pkt_finish_close(pkt_t *p, sf_sock_t s);
/* Runs sf_stack_poll at the current fake time. */
void pkt_poll(pkt_t *p);
/* Moves the clock forward by us microseconds and polls. */
void pkt_advance(pkt_t *p, int64_t us);
/* Moves the clock to the stack's next deadline (if any) and polls. Returns
 * the new time, or -1 when nothing is pending. */
int64_t pkt_run_next_deadline(pkt_t *p);

/* Injects a segment from the peer. flags as tcpdump prints them ("S",
 * "S.", ".", "P.", "F.", "R", "R.", "U."...); seq is relative to the peer's
 * ISS (irs), ack relative to synfin's ISS. Polls afterwards (one batch). */
void pkt_in(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, const void *data, size_t len);
/* Same without the poll (to batch several segments). */
void pkt_in_nopoll(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, const void *data,
                   size_t len);
/* Injects a raw datagram. */
void pkt_in_raw(pkt_t *p, const uint8_t *frame, size_t len);
/* Builds (without sending) the datagram pkt_in would send; returns length. */
size_t pkt_build(pkt_t *p, uint8_t *buf, size_t cap, const char *flags, uint32_t seq, uint32_t ack,
                 const void *data, size_t len);

/* Like pkt_build, but the TCP options are the raw bytes opts[0..opt_len)
 * (padded with zero bytes to a multiple of 4), so tests can send unknown,
 * misaligned or malformed options. p->opt is ignored. */
size_t pkt_build_opts(pkt_t *p, uint8_t *buf, size_t cap, const char *flags, uint32_t seq,
                      uint32_t ack, const uint8_t *opts, size_t opt_len, const void *data,
                      size_t len);
/* Builds an ICMP message from p->peer_addr to synfin: type, code, the
 * next-hop MTU (fragmentation-needed), then `data` (the quoted datagram for
 * errors, the payload for echo; id/seq apply to echo). Returns the length. */
size_t pkt_build_icmp(pkt_t *p, uint8_t *buf, size_t cap, uint8_t type, uint8_t code,
                      uint16_t mtu_or_id, uint16_t seq, const void *data, size_t len);

/* The harness's transmit callback (ctx: the pkt_t): queues a copy of one
 * datagram of at most 2048 bytes for pkt_next. A test with a transmit_off
 * callback of its own (offloads) hands the ordinary datagrams on to it. */
int pkt_on_tx(void *ctx, const uint8_t *frame, size_t len, int64_t now_us);

/* Pops the next segment synfin sent, failing the test if there is none. */
pkt_seg_t *pkt_next(pkt_t *p);
/* Pops the next segment and checks flags, relative seq and ack (ack is
 * only checked when the flags include '.') and payload length. */
pkt_seg_t *pkt_expect(pkt_t *p, const char *flags, uint32_t seq, uint32_t ack, size_t len);
/* Fails the test if synfin sent anything not yet popped. */
void pkt_expect_none(pkt_t *p);
/* Segments waiting to be popped. */
size_t pkt_pending(const pkt_t *p);
/* Drops everything synfin sent so far. */
void pkt_discard(pkt_t *p);

/* Passive open on port 80: peer SYN, synfin SYN-ACK, peer ACK; returns the
 * accepted socket (ESTABLISHED). The listener is stored in *listener if
 * listener is not NULL. */
sf_sock_t pkt_open_passive(pkt_t *p, sf_sock_t *listener);
/* pkt_open_passive with options on the peer's SYN (syn_opt; NULL: none).
 * The SYN,ACK's header is stored in *synack when not NULL. Afterwards
 * p->opt keeps only the timestamps (echoing the SYN,ACK's TSval) when the
 * SYN carried them, so the peer's later segments carry no SYN-only option. */
sf_sock_t pkt_open_passive_opt(pkt_t *p, const sf_tcp_opts_t *syn_opt, sf_tcp_t *synack,
                               sf_sock_t *listener);
/* pkt_init(p, cfg), then a passive open on port 80 where the peer offers
 * SACK and MSS 1000 (no timestamps) and answers after 100 ms, then one
 * exchange of the first 1000 bytes of `data` answered after 100 ms: SRTT
 * 100 ms, RACK's min RTT known, and data from the returned socket starting
 * at relative sequence 1001. The listener is closed. */
sf_sock_t pkt_open_sack(pkt_t *p, const sf_config_t *cfg, const uint8_t *data);
/* Active open to the peer's port 80: synfin SYN, peer SYN-ACK, synfin ACK. */
sf_sock_t pkt_open_active(pkt_t *p);

/* Fixture: puts one connection straight into `state` by the shortest
 * exchange, with nothing else pending. SYN-SENT: an active open, SYN sent.
 * SYN-RECEIVED: the peer's SYN answered (the listener in *listener; no
 * socket yet, returns 0). Every other state starts from pkt_open_passive
 * (ESTABLISHED, no data either way), then closes as the state needs: the
 * peer's FIN for CLOSE-WAIT, and our close after it for LAST-ACK (handle
 * released, returns 0); our FIN for FIN-WAIT-1, ACKed for FIN-WAIT-2,
 * crossed by the peer's FIN for CLOSING; both FINs ACKed and the handle
 * released for TIME-WAIT (the compact record; returns 0). Relative
 * numbers: either side's FIN is at sequence 1. */
sf_sock_t pkt_goto(pkt_t *p, sf_state_t state, sf_sock_t *listener);

/* The state of a connection by its trace events (last SF_EV_STATE "to" for
 * the connection id), which also works after the socket is gone. */
sf_state_t pkt_state(const pkt_t *p, uint32_t conn_id);
/* Comma-separated path of states of a connection, e.g.
 * "SYN-SENT,ESTABLISHED,FIN-WAIT-1,FIN-WAIT-2,TIME-WAIT,CLOSED". */
const char *pkt_state_path(const pkt_t *p, uint32_t conn_id);
/* Number of drop events with the given reason. */
size_t pkt_drops(const pkt_t *p, sf_drop_reason_t why);

/* Writes the trace events recorded so far to stderr as JSON lines (for
 * debugging a failing test). */
void pkt_dump(const pkt_t *p);

/* Flags string as the harness prints it ("S.", "FP.", ...). */
uint8_t pkt_flags(const char *s);

#endif
