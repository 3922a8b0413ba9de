/* The network options `synfin serve` and `synfin get` share: where the TUN
 * device goes (--tun, --tap, --addr, --peer, --mtu, --netns), what the link does to
 * frames (--loss, --reorder, --dup, --delay-ms, --ce, --seed), --ecn and --pcap, --sndbuf and
 * --rcvbuf; and opening the sf_loop they describe, with one-line errors.
 */
#ifndef SYNFIN_TOOL_NETOPTS_H
#define SYNFIN_TOOL_NETOPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "synfin/loop.h"

typedef struct netopts {
	const char *tun;           /* --tun NAME; NULL: the kernel's choice */
	bool tap;                  /* --tap: a TAP device, Ethernet and ARP */
	uint32_t addr;             /* --addr A.B.C.D/N: synfin's address (host order) */
	int prefix_len;            /* ... and prefix; default 192.0.2.2/24 */
	uint32_t peer;             /* --peer A.B.C.D: the kernel side; default 192.0.2.1 */
	uint16_t mtu;              /* --mtu; default 1500 */
	bool netns;                /* --netns: a fresh network namespace first */
	double loss, reorder, dup; /* probabilities, both directions */
	double delay_ms;           /* one-way delay, both directions */
	double reorder_ms;         /* how long a reordered frame is held back; default 2 */
	uint64_t seed;             /* seed of the impairments */
	const char *pcap;          /* --pcap FILE */
	int ecn;                   /* --ecn: SF_ECN_* for the stack; -1: its default */
	double ce;                 /* --ce P: mark ECT frames CE, both directions */
	bool no_offload;           /* --no-offload: a plain TUN (else SYNFIN_OFFLOAD decides) */
	uint32_t sndbuf, rcvbuf;   /* --sndbuf, --rcvbuf bytes per connection; 0: the default */
} netopts_t;

void netopts_init(netopts_t *o);
/* Prints the option lines for --help. */
void netopts_help(void);
/* Matches one network option at argv[*i] (advancing *i past its value).
 * Returns 1 when it was one, 0 when not, -1 after printing an error. */
int netopts_parse(const char *cmd, netopts_t *o, int argc, char **argv, int *i);
/* Enters a new network namespace if asked, opens the TUN device with the
 * impairments and pcap tap, and creates the loop with `cfg` as the stack's
 * base config. Returns 0, or -1 after printing a one-line error. */
int netopts_open(const char *cmd, const netopts_t *o, const sf_config_t *cfg, sf_loop_t **out);
/* The same with one TUN device of n queues and a loop on each (out[0..n),
 * sf_loop_open_tun_multi). */
int netopts_open_multi(const char *cmd, const netopts_t *o, const sf_config_t *cfg, unsigned n,
                       void *const *trace_ctx, sf_loop_t **out);
/* Before the loop is destroyed: sends what its stack has queued (the RSTs
 * of connections just aborted), so that the kernel's side learns of them; a
 * TUN device that vanishes tells it nothing. With --delay-ms or --reorder
 * the impairment holds frames back, and the loop runs until they are out
 * (at most 2 s). */
void netopts_flush(const netopts_t *o, sf_loop_t *loop);

#endif
