/* The pcap tap: a netdev wrapper that records every datagram passing
 * through it, transmitted and received, to a pcap file via libpcap, with
 * the caller's now_us as the timestamp. Frames are raw IPv4 datagrams, so
 * the file's link type is LINKTYPE_RAW (101; libpcap's DLT_RAW), which
 * tshark and tcpdump decode as IP by the version nibble; over an Ethernet
 * netdev (TAP) it is LINKTYPE_ETHERNET (1). Transmitted frames
 * are recorded before the inner netdev sees them (what the stack sent);
 * received ones after the inner netdev returned them (what the stack got).
 * The file is flushed and closed on destroy.
 *
 * Offloads pass through (the tap has the inner netdev's offloads). A TSO or
 * GRO super-segment is one record, as tcpdump shows it on a host with
 * offloads; a TCP checksum left partial for the link is completed in a
 * copy first, so the capture verifies as what the segments on the wire
 * carry (the copy costs only while capturing).
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "synfin/error.h"
#include "synfin/netdev.h"

#define TAP_SNAPLEN 65535

typedef struct pcap_tap {
	sf_netdev_t dev; /* first: the netdev pointer is the tap pointer */
	sf_netdev_t *inner;
	pcap_t *dead;
	pcap_dumper_t *dumper;
	char name[64];
	uint8_t scratch[TAP_SNAPLEN]; /* a frame whose checksum is completed */
} pcap_tap_t;

static pcap_tap_t *tap_of(sf_netdev_t *dev)
{
	return (pcap_tap_t *)dev;
}

static void record(pcap_tap_t *t, const uint8_t *frame, size_t len, int64_t now_us)
{
	struct pcap_pkthdr h = {0};
	/* Floor division, so times before 0 still get 0 <= usec < 10^6. */
	int64_t sec = now_us / 1000000, usec = now_us % 1000000;
	if (usec < 0) {
		usec += 1000000;
		sec--;
	}
	h.ts.tv_sec = (time_t)sec;
	h.ts.tv_usec = (suseconds_t)usec;
	h.len = (bpf_u_int32)len;
	h.caplen = (bpf_u_int32)(len < TAP_SNAPLEN ? len : TAP_SNAPLEN);
	pcap_dump((u_char *)t->dumper, &h, frame);
}

static void record_off(pcap_tap_t *t, const uint8_t *frame, size_t len, const sf_offload_t *off,
                       int64_t now_us)
{
	if (off && off->csum_partial && len <= sizeof t->scratch) {
		memcpy(t->scratch, frame, len);
		if (sf_tcp_csum_fill(t->scratch, len) == 0)
			frame = t->scratch;
	}
	record(t, frame, len, now_us);
}

static int tap_transmit_off(sf_netdev_t *dev, const uint8_t *frame, size_t len,
                            const sf_offload_t *off, int64_t now_us)
{
	pcap_tap_t *t = tap_of(dev);
	if (len > 0)
		record_off(t, frame, len, off, now_us);
	return sf_netdev_transmit_off(t->inner, frame, len, off, now_us);
}

static int tap_receive_off(sf_netdev_t *dev, uint8_t *buf, size_t cap, sf_offload_t *off,
                           int64_t now_us)
{
	pcap_tap_t *t = tap_of(dev);
	int n = sf_netdev_receive_off(t->inner, buf, cap, off, now_us);
	if (n > 0)
		record_off(t, buf, (size_t)n, off, now_us);
	return n;
}

static int tap_transmit(sf_netdev_t *dev, const uint8_t *frame, size_t len, int64_t now_us)
{
	pcap_tap_t *t = tap_of(dev);
	if (len > 0)
		record(t, frame, len, now_us);
	return sf_netdev_transmit(t->inner, frame, len, now_us);
}

static int tap_receive(sf_netdev_t *dev, uint8_t *buf, size_t cap, int64_t now_us)
{
	pcap_tap_t *t = tap_of(dev);
	int n = sf_netdev_receive(t->inner, buf, cap, now_us);
	if (n > 0)
		record(t, buf, (size_t)n, now_us);
	return n;
}

static int64_t tap_next_deadline(sf_netdev_t *dev)
{
	return sf_netdev_next_deadline(tap_of(dev)->inner);
}

static int tap_fd(sf_netdev_t *dev)
{
	pcap_tap_t *t = tap_of(dev);
	return t->inner->fd ? t->inner->fd(t->inner) : -1;
}

static void tap_destroy(sf_netdev_t *dev)
{
	pcap_tap_t *t = tap_of(dev);
	pcap_dump_flush(t->dumper);
	pcap_dump_close(t->dumper);
	pcap_close(t->dead);
	sf_netdev_destroy(t->inner);
	free(t);
}

/* On failure this returns NULL, sets *err (if err is not NULL) to
 * SF_EINVAL (no inner or path, or the file cannot be created) or SF_ENOMEM,
 * and `inner` stays the caller's. */
sf_netdev_t *sf_pcap_tap_wrap(sf_netdev_t *inner, const char *path, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	if (!inner || !path) {
		*err = SF_EINVAL;
		return NULL;
	}
	pcap_tap_t *t = calloc(1, sizeof(*t));
	if (!t) {
		*err = SF_ENOMEM;
		return NULL;
	}
	t->dead =
	        pcap_open_dead(inner->link == SF_LINK_ETHERNET ? DLT_EN10MB : DLT_RAW, TAP_SNAPLEN);
	if (!t->dead) {
		free(t);
		*err = SF_ENOMEM;
		return NULL;
	}
	t->dumper = pcap_dump_open(t->dead, path);
	if (!t->dumper) {
		pcap_close(t->dead);
		free(t);
		*err = SF_EINVAL;
		return NULL;
	}
	t->inner = inner;
	snprintf(t->name, sizeof(t->name), "pcap(%s)", inner->name ? inner->name : "?");
	t->dev.name = t->name;
	t->dev.mtu = inner->mtu;
	t->dev.link = inner->link;
	t->dev.transmit = tap_transmit;
	t->dev.receive = tap_receive;
	t->dev.offloads = inner->offloads;
	t->dev.transmit_off = inner->offloads ? tap_transmit_off : NULL;
	t->dev.receive_off = inner->offloads ? tap_receive_off : NULL;
	t->dev.next_deadline = tap_next_deadline;
	t->dev.fd = tap_fd;
	t->dev.destroy = tap_destroy;
	*err = 0;
	return &t->dev;
}
