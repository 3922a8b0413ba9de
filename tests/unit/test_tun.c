/* Test of the TUN netdev (src/link/tun.c) against the Linux kernel. The
 * program moves itself into a fresh network namespace first (network rule:
 * interfaces and packets only there), opens a TUN whose kernel side is
 * 192.0.2.1/24 with MTU 1400, checks the kernel's view of the interface,
 * writes an ICMP echo request from 192.0.2.2 and waits (2 s at most) for
 * the kernel's echo reply. Skipped unless root, /dev/net/tun and
 * unshare(CLONE_NEWNET) are available.
 */
#include <errno.h>
#include <linux/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "synfin/error.h"
#include "synfin/netdev.h"
#include "synfin/wire.h"

#define KERNEL_ADDR 0xC0000201u /* 192.0.2.1 */
#define OUR_ADDR    0xC0000202u /* 192.0.2.2 */
#define TUN_MTU     1400

static const char *skip_reason;

static int enter_netns(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip_reason = "not root";
	else if (access("/dev/net/tun", R_OK | W_OK) != 0)
		skip_reason = "no /dev/net/tun";
	else if (unshare(CLONE_NEWNET) != 0)
		skip_reason = "unshare(CLONE_NEWNET) not permitted";
	return 0;
}

static void skip_if_needed(void)
{
	if (skip_reason) {
		print_message("skipping TUN test: %s\n", skip_reason);
		skip();
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The kernel's view of interface `name`: MTU and IPv4 address. */
static void query_iface(const char *name, int *mtu, uint32_t *addr)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(s, SIOCGIFMTU, &ifr), 0);
	*mtu = ifr.ifr_mtu;
	assert_int_equal(ioctl(s, SIOCGIFADDR, &ifr), 0);
	struct sockaddr_in sin;
	memcpy(&sin, &ifr.ifr_addr, sizeof(sin));
	*addr = ntohl(sin.sin_addr.s_addr);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	assert_true(ifr.ifr_flags & IFF_UP);
	close(s);
}

static void test_tun_echo(void **state)
{
	(void)state;
	skip_if_needed();
	sf_tun_config_t cfg = {
	        .name = "sftun0", .peer_addr = KERNEL_ADDR, .prefix_len = 24, .mtu = TUN_MTU};
	int err = 1;
	sf_netdev_t *dev = sf_tun_open(&cfg, &err);
	assert_non_null(dev);
	assert_int_equal(err, 0);
	assert_string_equal(sf_tun_name(dev), "sftun0");
	assert_string_equal(dev->name, "sftun0");
	assert_int_equal(dev->mtu, TUN_MTU);
	assert_int_equal(sf_netdev_next_deadline(dev), SF_NO_DEADLINE);
	int fd = dev->fd(dev);
	assert_true(fd >= 0);

	int mtu;
	uint32_t addr;
	query_iface("sftun0", &mtu, &addr);
	assert_int_equal(mtu, TUN_MTU);
	assert_int_equal(addr, KERNEL_ADDR);

	/* ICMP echo request 192.0.2.2 -> 192.0.2.1 (RFC 792). */
	uint8_t pkt[TUN_MTU], buf[TUN_MTU];
	const uint8_t payload[] = "synfin tun echo";
	sf_icmp_t icmp = {.type = SF_ICMP_ECHO, .code = 0, .id = 0x5f5f, .seq = 7};
	int ilen = sf_icmp_emit(&icmp, payload, sizeof(payload), pkt + SF_IPV4_HDR_LEN,
	                        sizeof(pkt) - SF_IPV4_HDR_LEN);
	assert_true(ilen > 0);
	sf_ipv4_t ip = {
	        .src = OUR_ADDR, .dst = KERNEL_ADDR, .proto = SF_IP_PROTO_ICMP, .ttl = 64, .id = 1};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)ilen, pkt, sizeof(pkt)), SF_IPV4_HDR_LEN);
	assert_int_equal(sf_netdev_transmit(dev, pkt, SF_IPV4_HDR_LEN + (size_t)ilen, 0), 0);

	/* The kernel may also send IPv6 chatter on the new link: skip it. */
	bool got_reply = false;
	int64_t deadline = now_ms() + 2000;
	for (int i = 0; i < 100 && !got_reply; i++) {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		assert_true(pr >= 0);
		if (pr == 0)
			break;
		int n = sf_netdev_receive(dev, buf, sizeof(buf), 0);
		assert_true(n >= 0);
		sf_ipv4_t rip;
		sf_icmp_t ricmp;
		if (n == 0 || sf_ipv4_parse(buf, (size_t)n, &rip) != 0 ||
		    rip.proto != SF_IP_PROTO_ICMP)
			continue;
		const uint8_t *msg = buf + rip.hdr_len;
		size_t mlen = rip.total_len - rip.hdr_len;
		if (sf_icmp_parse(msg, mlen, &ricmp) != 0 || ricmp.type != SF_ICMP_ECHO_REPLY)
			continue;
		assert_int_equal(rip.src, KERNEL_ADDR);
		assert_int_equal(rip.dst, OUR_ADDR);
		assert_int_equal(ricmp.id, 0x5f5f);
		assert_int_equal(ricmp.seq, 7);
		assert_int_equal(ricmp.data_len, sizeof(payload));
		assert_memory_equal(msg + ricmp.data_off, payload, sizeof(payload));
		got_reply = true;
	}
	assert_true(got_reply);
	sf_netdev_destroy(dev);
}

static void test_tun_errors(void **state)
{
	(void)state;
	skip_if_needed();
	int err = 0;
	sf_tun_config_t bad = {
	        .name = "a-name-longer-than-ifnamsiz", .peer_addr = KERNEL_ADDR, .prefix_len = 24};
	assert_null(sf_tun_open(&bad, &err));
	assert_int_equal(err, SF_EINVAL);
	sf_tun_config_t bad_prefix = {.name = "sftun1", .peer_addr = KERNEL_ADDR, .prefix_len = 33};
	err = 0;
	assert_null(sf_tun_open(&bad_prefix, &err));
	assert_int_equal(err, SF_EINVAL);

	/* No address: the device exists but stays down; the kernel names it. */
	sf_tun_config_t plain = {0};
	sf_netdev_t *dev = sf_tun_open(&plain, &err);
	assert_non_null(dev);
	assert_true(strncmp(sf_tun_name(dev), "tun", 3) == 0);
	assert_int_equal(dev->mtu, 1500);
	uint8_t buf[1500];
	assert_int_equal(sf_netdev_receive(dev, buf, sizeof(buf), 0), 0); /* down: silent */
	sf_netdev_destroy(dev);

	/* sf_tun_name() on another kind of netdev. */
	sf_sim_link_t *link = sf_sim_link_create(1, 1500, NULL, NULL);
	assert_null(sf_tun_name(sf_sim_link_endpoint(link, 0)));
	sf_sim_link_destroy(link);
}

/* Offloads and queues: two queues of one device with the virtio-net header
 * (this kernel takes TUN_F_CSUM | TUN_F_TSO4), one fd each; an echo
 * request written on queue 1 is answered on one of them (the kernel keeps
 * the flow where it was written from), its header saying nothing special. */
static void test_tun_offload_queues(void **state)
{
	(void)state;
	skip_if_needed();
	sf_tun_config_t cfg = {.name = "sftun2",
	                       .peer_addr = KERNEL_ADDR,
	                       .prefix_len = 24,
	                       .mtu = TUN_MTU,
	                       .offload = true};
	sf_netdev_t *q[2] = {NULL, NULL};
	assert_int_equal(sf_tun_open_multi(&cfg, 0, q), SF_EINVAL);
	assert_int_equal(sf_tun_open_multi(&cfg, SF_TUN_MAX_QUEUES + 1, q), SF_EINVAL);
	assert_int_equal(sf_tun_open_multi(&cfg, 2, q), 0);
	for (int i = 0; i < 2; i++) {
		assert_string_equal(sf_tun_name(q[i]), "sftun2");
		assert_int_equal(q[i]->offloads, SF_NETDEV_OFF_CSUM | SF_NETDEV_OFF_TSO);
		assert_non_null(q[i]->transmit_off);
		assert_non_null(q[i]->receive_off);
	}
	assert_int_not_equal(q[0]->fd(q[0]), q[1]->fd(q[1]));

	uint8_t pkt[TUN_MTU], buf[65536];
	const uint8_t payload[] = "synfin tun queues";
	sf_icmp_t icmp = {.type = SF_ICMP_ECHO, .id = 0x7171, .seq = 9};
	int ilen = sf_icmp_emit(&icmp, payload, sizeof(payload), pkt + SF_IPV4_HDR_LEN,
	                        sizeof(pkt) - SF_IPV4_HDR_LEN);
	assert_true(ilen > 0);
	sf_ipv4_t ip = {
	        .src = OUR_ADDR, .dst = KERNEL_ADDR, .proto = SF_IP_PROTO_ICMP, .ttl = 64, .id = 2};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)ilen, pkt, sizeof(pkt)), SF_IPV4_HDR_LEN);
	sf_offload_t none = {0};
	assert_int_equal(
	        sf_netdev_transmit_off(q[1], pkt, SF_IPV4_HDR_LEN + (size_t)ilen, &none, 0), 0);
	bool got = false;
	int64_t deadline = now_ms() + 2000;
	while (!got && now_ms() < deadline) {
		struct pollfd pfd[2] = {{.fd = q[0]->fd(q[0]), .events = POLLIN},
		                        {.fd = q[1]->fd(q[1]), .events = POLLIN}};
		if (poll(pfd, 2, 100) <= 0)
			continue;
		for (int i = 0; i < 2 && !got; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			sf_offload_t off;
			int n = sf_netdev_receive_off(q[i], buf, sizeof buf, &off, 0);
			sf_ipv4_t rip;
			sf_icmp_t r;
			if (n <= 0 || sf_ipv4_parse(buf, (size_t)n, &rip) != 0 ||
			    rip.proto != SF_IP_PROTO_ICMP ||
			    sf_icmp_parse(buf + rip.hdr_len, rip.total_len - rip.hdr_len, &r) !=
			            0 ||
			    r.type != SF_ICMP_ECHO_REPLY)
				continue;
			assert_int_equal(r.id, 0x7171);
			assert_int_equal(off.gso_size, 0);
			assert_false(off.csum_partial);
			got = true;
		}
	}
	assert_true(got);
	sf_netdev_destroy(q[0]);
	sf_netdev_destroy(q[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_tun_echo),
	        cmocka_unit_test(test_tun_errors),
	        cmocka_unit_test(test_tun_offload_queues),
	};
	return cmocka_run_group_tests(tests, enter_netns, NULL);
}
