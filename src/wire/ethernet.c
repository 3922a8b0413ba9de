/* Ethernet II and ARP codecs (RFC 894, RFC 826).
 *
 * Pure byte work like the other codecs: the Ethernet header carries two
 * addresses and an EtherType; an ARP packet for IPv4 over Ethernet is 28
 * bytes. What to accept (our address or broadcast, which types, whose
 * requests to answer) is decided by the link layer in src/core/eth.c.
 */
#include <string.h>

#include "synfin/wire.h"

int sf_ether_parse(const uint8_t *buf, size_t len, sf_ether_t *eth)
{
	if (len < SF_ETH_HDR_LEN)
		return SF_ETRUNCATED;
	memcpy(eth->dst, buf, SF_ETH_ADDR_LEN);
	memcpy(eth->src, buf + 6, SF_ETH_ADDR_LEN);
	eth->type = sf_be16(buf + 12);
	return 0;
}

int sf_ether_emit(const sf_ether_t *eth, uint8_t *buf, size_t cap)
{
	if (cap < SF_ETH_HDR_LEN)
		return SF_ENOBUFS;
	memcpy(buf, eth->dst, SF_ETH_ADDR_LEN);
	memcpy(buf + 6, eth->src, SF_ETH_ADDR_LEN);
	sf_put16(buf + 12, eth->type);
	return SF_ETH_HDR_LEN;
}

/* RFC 826 "Packet format": ar$hrd, ar$pro, ar$hln, ar$pln, ar$op, then the
 * sender's and the target's hardware and protocol addresses. */
int sf_arp_parse(const uint8_t *buf, size_t len, sf_arp_t *arp)
{
	if (len < 8)
		return SF_ETRUNCATED;
	if (sf_be16(buf) != 1 || sf_be16(buf + 2) != SF_ETHERTYPE_IPV4 ||
	    buf[4] != SF_ETH_ADDR_LEN || buf[5] != 4)
		return SF_EMALFORMED;
	if (len < SF_ARP_LEN)
		return SF_ETRUNCATED;
	arp->op = sf_be16(buf + 6);
	if (arp->op != SF_ARP_REQUEST && arp->op != SF_ARP_REPLY)
		return SF_EMALFORMED;
	memcpy(arp->sha, buf + 8, SF_ETH_ADDR_LEN);
	arp->spa = sf_be32(buf + 14);
	memcpy(arp->tha, buf + 18, SF_ETH_ADDR_LEN);
	arp->tpa = sf_be32(buf + 24);
	return 0;
}

int sf_arp_emit(const sf_arp_t *arp, uint8_t *buf, size_t cap)
{
	if (cap < SF_ARP_LEN)
		return SF_ENOBUFS;
	sf_put16(buf, 1);
	sf_put16(buf + 2, SF_ETHERTYPE_IPV4);
	buf[4] = SF_ETH_ADDR_LEN;
	buf[5] = 4;
	sf_put16(buf + 6, arp->op);
	memcpy(buf + 8, arp->sha, SF_ETH_ADDR_LEN);
	sf_put32(buf + 14, arp->spa);
	memcpy(buf + 18, arp->tha, SF_ETH_ADDR_LEN);
	sf_put32(buf + 24, arp->tpa);
	return SF_ARP_LEN;
}
