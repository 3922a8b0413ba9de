/* Unit tests for the pcap tap (src/link/pcap_tap.c): real IPv4+TCP frames
 * go both ways through a tap on a simulated link endpoint; the file is read
 * back with libpcap and compared byte for byte and timestamp for timestamp,
 * and, when tshark is installed, decoded by tshark, which must see IPv4 and
 * TCP with good checksums and nothing malformed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "synfin/error.h"
#include "synfin/netdev.h"
#include "synfin/wire.h"

#define MTU    1500
#define CLIENT 0xC0000202u /* 192.0.2.2 */
#define SERVER 0xC0000201u /* 192.0.2.1 */

typedef struct rec {
	int64_t t_us;
	size_t len;
	uint8_t bytes[MTU];
} rec_t;

static char dir_path[64];
static char file_path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir_path, sizeof(dir_path), "/tmp/synfin-tap-XXXXXX");
	if (!mkdtemp(dir_path))
		return -1;
	snprintf(file_path, sizeof(file_path), "%s/tap.pcap", dir_path);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(file_path);
	rmdir(dir_path);
	return 0;
}

/* An IPv4 datagram carrying one TCP segment. */
static size_t build_segment(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport,
                            uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                            const char *payload, bool syn_opts)
{
	sf_tcp_t tcp = {.sport = sport,
	                .dport = dport,
	                .seq = seq,
	                .ack = ack,
	                .flags = flags,
	                .wnd = 64240};
	if (syn_opts) {
		tcp.opt.has_mss = true;
		tcp.opt.mss = 1460;
		tcp.opt.sack_perm = true;
		tcp.opt.has_wscale = true;
		tcp.opt.wscale = 7;
	}
	size_t plen = payload ? strlen(payload) : 0;
	int n = sf_tcp_emit(&tcp, src, dst, (const uint8_t *)payload, plen, buf + SF_IPV4_HDR_LEN,
	                    MTU - SF_IPV4_HDR_LEN);
	assert_true(n >= SF_TCP_HDR_LEN);
	sf_ipv4_t ip = {.src = src,
	                .dst = dst,
	                .proto = SF_IP_PROTO_TCP,
	                .ttl = 64,
	                .id = (uint16_t)seq,
	                .df = true};
	assert_int_equal(sf_ipv4_emit(&ip, (size_t)n, buf, MTU), SF_IPV4_HDR_LEN);
	return SF_IPV4_HDR_LEN + (size_t)n;
}

/* Sends a handshake and one data segment through a tap on endpoint 0;
 * fills `recs` with what the tap should have recorded. Returns the count. */
static size_t run_exchange(rec_t *recs)
{
	sf_sim_link_t *link = sf_sim_link_create(1, MTU, NULL, NULL);
	assert_non_null(link);
	int err = 1;
	sf_netdev_t *tap = sf_pcap_tap_wrap(sf_sim_link_endpoint(link, 0), file_path, &err);
	assert_non_null(tap);
	assert_int_equal(err, 0);
	assert_string_equal(tap->name, "pcap(sim0)");
	assert_int_equal(tap->mtu, MTU);
	assert_int_equal(tap->fd(tap), -1);
	sf_netdev_t *peer = sf_sim_link_endpoint(link, 1);
	uint8_t buf[MTU];
	size_t cnt = 0;

	/* SYN out through the tap. */
	rec_t *r = &recs[cnt++];
	r->t_us = 1000000;
	r->len =
	        build_segment(r->bytes, CLIENT, SERVER, 40000, 80, 1000, 0, SF_TCP_SYN, NULL, true);
	assert_int_equal(sf_netdev_transmit(tap, r->bytes, r->len, r->t_us), 0);
	assert_int_equal(sf_netdev_receive(peer, buf, sizeof(buf), r->t_us), (int)r->len);

	/* SYN+ACK in through the tap, received 1.5 s + 250 us in. */
	r = &recs[cnt++];
	r->t_us = 1500250;
	r->len = build_segment(r->bytes, SERVER, CLIENT, 80, 40000, 5000, 1001,
	                       SF_TCP_SYN | SF_TCP_ACK, NULL, true);
	assert_int_equal(sf_netdev_transmit(peer, r->bytes, r->len, r->t_us), 0);
	assert_int_equal(sf_netdev_next_deadline(tap), r->t_us);
	assert_int_equal(sf_netdev_receive(tap, buf, sizeof(buf), r->t_us), (int)r->len);
	assert_memory_equal(buf, r->bytes, r->len);
	/* Nothing to receive: nothing recorded. */
	assert_int_equal(sf_netdev_receive(tap, buf, sizeof(buf), r->t_us + 1), 0);

	/* ACK, then data. */
	r = &recs[cnt++];
	r->t_us = 2000001;
	r->len = build_segment(r->bytes, CLIENT, SERVER, 40000, 80, 1001, 5001, SF_TCP_ACK, NULL,
	                       false);
	assert_int_equal(sf_netdev_transmit(tap, r->bytes, r->len, r->t_us), 0);
	r = &recs[cnt++];
	r->t_us = 2999999;
	r->len = build_segment(r->bytes, CLIENT, SERVER, 40000, 80, 1001, 5001,
	                       SF_TCP_ACK | SF_TCP_PSH, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false);
	assert_int_equal(sf_netdev_transmit(tap, r->bytes, r->len, r->t_us), 0);

	sf_netdev_destroy(tap); /* flushes; the endpoint itself belongs to the link */
	sf_sim_link_destroy(link);
	return cnt;
}

static void test_records_both_ways(void **state)
{
	(void)state;
	static rec_t recs[8];
	size_t cnt = run_exchange(recs);

	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(file_path, errbuf);
	assert_non_null(p);
	assert_int_equal(pcap_datalink(p), DLT_RAW);
	struct pcap_pkthdr *h;
	const u_char *data;
	size_t i = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		assert_true(i < cnt);
		assert_int_equal(h->caplen, recs[i].len);
		assert_int_equal(h->len, recs[i].len);
		assert_int_equal(h->ts.tv_sec, recs[i].t_us / 1000000);
		assert_int_equal(h->ts.tv_usec, recs[i].t_us % 1000000);
		assert_memory_equal(data, recs[i].bytes, recs[i].len);
		i++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	assert_int_equal(i, cnt);
	pcap_close(p);

	/* The file says LINKTYPE_RAW (101) itself, whatever DLT_RAW is here. */
	FILE *f = fopen(file_path, "rb");
	assert_non_null(f);
	uint8_t gh[24];
	assert_int_equal(fread(gh, 1, sizeof(gh), f), sizeof(gh));
	fclose(f);
	uint32_t magic = (uint32_t)gh[0] | (uint32_t)gh[1] << 8 | (uint32_t)gh[2] << 16 |
	                 (uint32_t)gh[3] << 24;
	uint32_t linktype = (uint32_t)gh[20] | (uint32_t)gh[21] << 8 | (uint32_t)gh[22] << 16 |
	                    (uint32_t)gh[23] << 24;
	if (magic != 0xa1b2c3d4u) /* written in the other byte order */
		linktype = __builtin_bswap32(linktype);
	assert_int_equal(linktype, 101);
}

static bool have_tshark(void)
{
	return system("command -v tshark >/dev/null 2>&1") == 0;
}

static void test_tshark_decodes(void **state)
{
	(void)state;
	if (!have_tshark()) {
		print_message("tshark not installed: skipping the decode check\n");
		skip();
	}
	static rec_t recs[8];
	size_t cnt = run_exchange(recs);

	char cmd[512];
	snprintf(cmd, sizeof(cmd),
	         "tshark -n -r '%s' -o ip.check_checksum:TRUE -o tcp.check_checksum:TRUE "
	         "-T fields -E separator=, -e frame.protocols -e ip.checksum.status "
	         "-e tcp.checksum.status -e tcp.len -e _ws.malformed 2>/dev/null",
	         file_path);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char line[256];
	size_t n = 0;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\r\n")] = '\0';
		assert_true(n < cnt);
		/* Protocols, IP and TCP checksum status (1: good), TCP payload
		 * length, and an empty _ws.malformed field. The data segment is
		 * an HTTP request on port 80. */
		const uint8_t *b = recs[n].bytes;
		size_t payload = recs[n].len - SF_IPV4_HDR_LEN - (size_t)((b[32] >> 4) * 4);
		char expect[64];
		snprintf(expect, sizeof(expect), "raw:ip:tcp%s,1,1,%zu,", payload ? ":http" : "",
		         payload);
		assert_string_equal(line, expect);
		n++;
	}
	assert_int_equal(pclose(p), 0);
	assert_int_equal(n, cnt);
}

static void test_open_failure(void **state)
{
	(void)state;
	sf_sim_link_t *link = sf_sim_link_create(1, MTU, NULL, NULL);
	sf_netdev_t *ep = sf_sim_link_endpoint(link, 0);
	int err = 0;
	assert_null(sf_pcap_tap_wrap(ep, "/nonexistent-dir/x/y.pcap", &err));
	assert_int_equal(err, SF_EINVAL);
	err = 0;
	assert_null(sf_pcap_tap_wrap(ep, NULL, &err));
	assert_int_equal(err, SF_EINVAL);
	/* The inner netdev is still usable after a failed wrap. */
	uint8_t f[20] = {0x45}, buf[MTU];
	assert_int_equal(sf_netdev_transmit(ep, f, sizeof(f), 0), 0);
	assert_int_equal(sf_netdev_receive(sf_sim_link_endpoint(link, 1), buf, sizeof(buf), 0),
	                 (int)sizeof(f));
	sf_sim_link_destroy(link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_records_both_ways, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_tshark_decodes, setup, teardown),
	        cmocka_unit_test(test_open_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
