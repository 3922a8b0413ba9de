/* Network options shared by `synfin serve` and `synfin get` (netopts.h):
 * parsing, help text, and opening the loop they describe. --netns uses
 * unshare(CLONE_NEWNET), so the TUN device and everything the kernel does
 * with it live and die with this process; lo is brought up there so local
 * tools behave as usual.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cmd.h"
#include "netopts.h"
#include "synfin/wire.h"

#define DEFAULT_ADDR 0xC0000202u /* 192.0.2.2 */
#define DEFAULT_PEER 0xC0000201u /* 192.0.2.1 */

void netopts_init(netopts_t *o)
{
	*o = (netopts_t){.addr = DEFAULT_ADDR,
	                 .prefix_len = 24,
	                 .peer = DEFAULT_PEER,
	                 .reorder_ms = 2,
	                 .seed = 1,
	                 .ecn = -1};
}

void netopts_help(void)
{
	printf("  --tun NAME       name of the TUN device (default: the kernel's choice, tunN)\n"
	       "  --tap            a TAP device instead: synfin speaks Ethernet and ARP\n"
	       "  --addr A.B.C.D/N synfin's address and prefix (default 192.0.2.2/24)\n"
	       "  --peer A.B.C.D   address of the kernel side of the TUN (default 192.0.2.1)\n"
	       "  --mtu N          link MTU (default 1500)\n"
	       "  --netns          create and enter a new network namespace first\n"
	       "  --loss P         lose each frame with probability P, both directions\n"
	       "  --reorder P      hold back each frame by --reorder-ms with probability P\n"
	       "  --reorder-ms MS  how long a reordered frame is held back (default 2)\n"
	       "  --dup P          deliver each frame twice with probability P\n"
	       "  --delay-ms MS    one-way delay, both directions\n"
	       "  --ce P           mark ECN-capable frames CE with probability P, both\n"
	       "                   directions (RFC 3168 §5, as a congested router would)\n"
	       "  --ecn MODE       passive (default: answer a peer's ECN request), classic\n"
	       "                   (RFC 3168), accecn (RFC 9768, falls back), off\n"
	       "  --seed N         seed of the impairments (default 1)\n"
	       "  --pcap FILE      record every frame synfin sends and receives (pcap)\n"
	       "  --sndbuf BYTES   send buffer per connection (default 65536): the most it\n"
	       "                   can have in flight\n"
	       "  --rcvbuf BYTES   receive buffer per connection (default 65536): the\n"
	       "                   window it offers\n"
	       "  --no-offload     a plain TUN: no TSO/GRO super-segments, no checksum offload\n"
	       "                   (also SYNFIN_OFFLOAD=off in the environment)\n"
	       "  -h, --help       this text\n");
}

static bool parse_ip(const char *cmd, const char *opt, const char *text, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, text, &a) != 1) {
		cli_error(cmd, "%s: '%s' is not an IPv4 address (A.B.C.D)", opt, text);
		return false;
	}
	*out = ntohl(a.s_addr);
	return true;
}

int netopts_parse(const char *cmd, netopts_t *o, int argc, char **argv, int *i)
{
	const char *v;
	int r;
	if (cli_flag(argv[*i], "--netns")) {
		o->netns = true;
		return 1;
	}
	if (cli_flag(argv[*i], "--no-offload")) {
		o->no_offload = true;
		return 1;
	}
	if (cli_flag(argv[*i], "--tap")) {
		o->tap = true;
		return 1;
	}
	if ((r = cli_value(cmd, argc, argv, i, "--tun", &v)) != 0) {
		if (r > 0 && (strlen(v) == 0 || strlen(v) >= IFNAMSIZ)) {
			cli_error(cmd, "--tun: an interface name is 1 to %d characters",
			          IFNAMSIZ - 1);
			return -1;
		}
		/* The kernel's rule (dev_valid_name): its EINVAL would read as
		 * "exists and is not a TUN device". */
		if (r > 0 && (strpbrk(v, "/: \t\n\v\f\r") || !strcmp(v, ".") || !strcmp(v, ".."))) {
			cli_error(cmd,
			          "--tun: '%s' is not an interface name (no '/', ':' or spaces; "
			          "not . or ..)",
			          v);
			return -1;
		}
		o->tun = v;
		return r;
	}
	if ((r = cli_value(cmd, argc, argv, i, "--addr", &v)) != 0) {
		if (r < 0)
			return -1;
		char ip[32];
		const char *slash = strchr(v, '/');
		size_t n = slash ? (size_t)(slash - v) : strlen(v);
		uint64_t prefix = 24;
		if (n >= sizeof ip) {
			cli_error(cmd, "--addr: '%s' is not A.B.C.D/N", v);
			return -1;
		}
		memcpy(ip, v, n);
		ip[n] = '\0';
		if (!parse_ip(cmd, "--addr", ip, &o->addr) ||
		    (slash && !cli_u64_in(cmd, "--addr prefix", slash + 1, 8, 30, &prefix)))
			return -1;
		o->prefix_len = (int)prefix;
		return 1;
	}
	if ((r = cli_value(cmd, argc, argv, i, "--peer", &v)) != 0)
		return r < 0 || !parse_ip(cmd, "--peer", v, &o->peer) ? -1 : 1;
	if ((r = cli_value(cmd, argc, argv, i, "--pcap", &v)) != 0) {
		if (r > 0 && !strcmp(v, "-")) {
			/* Standard output carries the command's own text here. */
			cli_error(cmd, "--pcap -: give a file (standard output is taken)");
			return -1;
		}
		o->pcap = v;
		return r;
	}
	struct {
		const char *name;
		double *val, max;
	} dbl[] = {{"--loss", &o->loss, 1},
	           {"--reorder", &o->reorder, 1},
	           {"--dup", &o->dup, 1},
	           {"--delay-ms", &o->delay_ms, 1e6},
	           {"--reorder-ms", &o->reorder_ms, 1e6},
	           {"--ce", &o->ce, 1}};
	for (size_t k = 0; k < sizeof dbl / sizeof dbl[0]; k++)
		if ((r = cli_value(cmd, argc, argv, i, dbl[k].name, &v)) != 0)
			return r < 0 || !cli_double(cmd, dbl[k].name, v, 0, dbl[k].max, dbl[k].val)
			               ? -1
			               : 1;
	if ((r = cli_value(cmd, argc, argv, i, "--ecn", &v)) != 0) {
		static const char *const names[] = {"off", "classic", "accecn", "passive"};
		for (int k = 0; r > 0 && k < 4; k++)
			if (!strcmp(v, names[k])) {
				o->ecn = k; /* SF_ECN_OFF .. SF_ECN_PASSIVE */
				return 1;
			}
		if (r > 0)
			cli_error(cmd, "--ecn: one of off, classic, accecn, passive");
		return -1;
	}
	if ((r = cli_value(cmd, argc, argv, i, "--seed", &v)) != 0)
		return r < 0 || !cli_u64(cmd, "--seed", v, UINT64_MAX, &o->seed) ? -1 : 1;
	struct {
		const char *name;
		uint32_t *val;
	} bufs[] = {{"--sndbuf", &o->sndbuf}, {"--rcvbuf", &o->rcvbuf}};
	for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
		if ((r = cli_value(cmd, argc, argv, i, bufs[k].name, &v)) != 0) {
			uint64_t n;
			/* RFC 7323 §2.3: a window is at most 2^30 bytes. */
			if (r < 0 || !cli_u64_in(cmd, bufs[k].name, v, 1024, 1u << 30, &n))
				return -1;
			*bufs[k].val = (uint32_t)n;
			return 1;
		}
	if ((r = cli_value(cmd, argc, argv, i, "--mtu", &v)) != 0) {
		uint64_t mtu;
		/* RFC 791: every host takes 576-byte datagrams. */
		if (r < 0 || !cli_u64_in(cmd, "--mtu", v, 576, 65535, &mtu))
			return -1;
		o->mtu = (uint16_t)mtu;
		return 1;
	}
	return 0;
}

/* A fresh network namespace with lo up. Returns 0 or -1 (error printed). */
static int enter_netns(const char *cmd)
{
	if (unshare(CLONE_NEWNET) < 0) {
		if (errno == EPERM)
			cli_error(
			        cmd,
			        "--netns: creating a network namespace needs root (CAP_SYS_ADMIN)");
		else
			cli_error(cmd, "--netns: unshare: %s", strerror(errno));
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)) {
		cli_error(cmd, "--netns: cannot bring lo up: %s", strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	close(s);
	return 0;
}

int netopts_open(const char *cmd, const netopts_t *o, const sf_config_t *cfg, sf_loop_t **out)
{
	return netopts_open_multi(cmd, o, cfg, 1, NULL, out);
}

/* Why a is no address for one end of the link (RFC 1122 §3.2.1.3, RFC 919:
 * the special forms; RFC 1112 §4: class D names a group), or NULL. */
static const char *not_a_host(uint32_t a, uint32_t mask)
{
	if (a >> 24 == 0)
		return "0.0.0.0/8 means 'this network', not a host";
	if (a >> 24 == 127)
		return "127.0.0.0/8 is the loopback network, never on a link";
	if (a >> 28 == 0xE)
		return "a multicast address (224.0.0.0/4) names a group, not a host";
	if (a >> 28 == 0xF)
		return "240.0.0.0/4 is reserved (and 255.255.255.255 is broadcast)";
	if ((a & ~mask) == 0)
		return "the subnet's own address (host part all zeros), not a host's";
	if ((a & ~mask) == ~mask)
		return "the subnet's broadcast address (host part all ones), not a host's";
	return NULL;
}

/* Whether an interface of this namespace already has an IPv4 address in
 * the subnet (a second synfin on the default addresses, most often): the
 * kernel keeps routing the subnet to the first device, so the line "reach
 * it with: curl ..." would lead to the other program. Prints why. */
static bool subnet_taken(const char *cmd, const netopts_t *o, uint32_t mask)
{
	struct ifaddrs *ifs;
	if (getifaddrs(&ifs) != 0)
		return false; /* nothing to tell; the device's set-up will */
	bool taken = false;
	for (struct ifaddrs *i = ifs; i && !taken; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !i->ifa_netmask ||
		    (o->tun && !strcmp(i->ifa_name, o->tun)))
			continue;
		uint32_t a = ntohl(
		        ((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr);
		uint32_t m = mask & ntohl(((const struct sockaddr_in *)(const void *)i->ifa_netmask)
		                                  ->sin_addr.s_addr);
		if ((a & m) != (o->addr & m))
			continue;
		char ip[16];
		cli_error(cmd,
		          "%s already has %s, in the subnet of --addr (another synfin?): give "
		          "--addr and --peer of another subnet",
		          i->ifa_name, sf_ipv4_addr_str(a, ip));
		taken = true;
	}
	freeifaddrs(ifs);
	return taken;
}

int netopts_open_multi(const char *cmd, const netopts_t *o, const sf_config_t *cfg, unsigned n,
                       void *const *trace_ctx, sf_loop_t **out)
{
	uint32_t mask = ~(uint32_t)0 << (32 - o->prefix_len);
	const char *why = not_a_host(o->addr, mask);
	bool ours = why != NULL;
	if (ours || (why = not_a_host(o->peer, mask)) != NULL) {
		char ip[16];
		cli_error(cmd, "%s %s/%d: %s", ours ? "--addr" : "--peer",
		          sf_ipv4_addr_str(ours ? o->addr : o->peer, ip), o->prefix_len, why);
		return -1;
	}
	if (o->addr == o->peer || (o->addr & mask) != (o->peer & mask)) {
		cli_error(cmd, "--addr and --peer must be two different addresses of one subnet");
		return -1;
	}
	if (o->tap && n != 1) {
		cli_error(cmd, "--tap: a TAP device has one queue, so one stack (--threads 1)");
		return -1;
	}
	/* Linux's TAP takes at most 65535 bytes with the Ethernet header. */
	if (o->tap && o->mtu > 65535 - 14) {
		cli_error(cmd,
		          "--mtu: a TAP device takes at most %d (65535 less the Ethernet header)",
		          65535 - 14);
		return -1;
	}
	if (o->netns && enter_netns(cmd) < 0)
		return -1;
	if (subnet_taken(cmd, o, mask))
		return -1;
	sf_impair_t imp = {
	        .loss = o->loss,
	        .dup = o->dup,
	        .reorder = o->reorder,
	        .reorder_us = (int64_t)(o->reorder_ms * 1000),
	        .delay_us = (int64_t)(o->delay_ms * 1000),
	        .ce_mark = o->ce,
	};
	bool impaired = o->loss > 0 || o->dup > 0 || o->reorder > 0 || o->delay_ms > 0 || o->ce > 0;
	sf_config_t c;
	if (cfg)
		c = *cfg;
	else
		sf_config_default(&c);
	if (o->ecn >= 0)
		c.ecn = (uint8_t)o->ecn;
	if (o->sndbuf)
		c.sndbuf = o->sndbuf;
	if (o->rcvbuf)
		c.rcvbuf = o->rcvbuf;
	sf_loop_tun_opts_t t = {
	        .tun_name = o->tun,
	        .addr = o->addr,
	        .prefix_len = o->prefix_len,
	        .peer_addr = o->peer,
	        .mtu = o->mtu,
	        .impair_tx = impaired ? &imp : NULL,
	        .impair_rx = impaired ? &imp : NULL,
	        .impair_seed = o->seed,
	        .pcap_path = o->pcap,
	        .cfg = &c,
	        .offload = o->no_offload ? -1 : 0,
	        .trace_ctx = trace_ctx,
	        .tap = o->tap,
	};
	char err[200];
	if (sf_loop_open_tun_multi(&t, n, out, err, sizeof err) < 0) {
		cli_error(cmd, "%s", err);
		return -1;
	}
	return 0;
}

void netopts_flush(const netopts_t *o, sf_loop_t *loop)
{
	if (!loop)
		return;
	double held_ms = o->delay_ms + (o->reorder > 0 ? o->reorder_ms : 0);
	if (held_ms <= 0) {
		(void)sf_loop_once(loop, 0);
		return;
	}
	if (held_ms > 2000)
		held_ms = 2000;
	/* A few ms more than the longest hold: each turn moves what is due. */
	(void)sf_loop_run(loop, (int64_t)(held_ms * 1000) + 5000);
}
