/* Words for learners: what the trace's identifiers mean, in English and
 * Chinese. The identifiers (names.c) are stable machine names
 * ("tcp_paws"); these are what a diagram says ("old timestamp (PAWS)").
 */
#include "trace/ladder_int.h"

struct words {
	const char *en, *zh;
};

static const struct words drop_words[SF_DROP_COUNT] = {
        [SF_DROP_IP_TRUNCATED] = {"IPv4 header cut short", "IPv4 首部不完整"},
        [SF_DROP_IP_MALFORMED] = {"malformed IPv4 header", "IPv4 首部格式错误"},
        [SF_DROP_IP_CHECKSUM] = {"bad IPv4 checksum", "IPv4 校验和错误"},
        [SF_DROP_IP_NOT_FOR_US] = {"not addressed to this host", "目的地址不是本机"},
        [SF_DROP_IP_BAD_SOURCE] = {"invalid source address", "源地址无效"},
        [SF_DROP_IP_BCAST_DEST] = {"to a broadcast address", "发往广播地址"},
        [SF_DROP_IP_FRAGMENT] = {"fragment not reassembled", "分片未能重组"},
        [SF_DROP_IP_PROTO] = {"unsupported protocol", "不支持的协议"},
        [SF_DROP_TCP_TRUNCATED] = {"TCP header cut short", "TCP 首部不完整"},
        [SF_DROP_TCP_MALFORMED] = {"malformed TCP header or option", "TCP 首部或选项格式错误"},
        [SF_DROP_TCP_CHECKSUM] = {"bad TCP checksum", "TCP 校验和错误"},
        [SF_DROP_TCP_BAD_FLAGS] = {"impossible flags", "标志位组合非法"},
        [SF_DROP_TCP_NO_SOCKET] = {"nothing listens on that port: answered with RST",
                                   "该端口无人监听：以 RST 回应"},
        [SF_DROP_TCP_OUT_OF_WINDOW] = {"outside the receive window: answered with an ACK",
                                       "不在接收窗口内：以 ACK 回应"},
        [SF_DROP_TCP_BAD_ACK] = {"acknowledges data never sent", "确认了从未发送的数据"},
        [SF_DROP_TCP_RST_IGNORED] = {"RST out of window: ignored", "窗口外的 RST：忽略"},
        [SF_DROP_TCP_CHALLENGE] = {"suspicious: answered with a challenge ACK (RFC 5961)",
                                   "可疑报文：以挑战 ACK 回应（RFC 5961）"},
        [SF_DROP_TCP_SYN_QUEUE_FULL] = {"SYN queue full", "半连接队列已满"},
        [SF_DROP_TCP_ACCEPT_QUEUE_FULL] = {"accept queue full", "全连接队列已满"},
        [SF_DROP_TCP_NO_MEMORY] = {"out of memory budget", "内存预算耗尽"},
        [SF_DROP_TCP_PAWS] = {"old timestamp: a stale duplicate (PAWS, RFC 7323 §5)",
                              "时间戳过旧：陈旧的重复报文（PAWS，RFC 7323 §5）"},
        [SF_DROP_ICMP_TRUNCATED] = {"ICMP message cut short", "ICMP 报文不完整"},
        [SF_DROP_ICMP_CHECKSUM] = {"bad ICMP checksum", "ICMP 校验和错误"},
        [SF_DROP_ICMP_IGNORED] = {"ICMP message ignored", "忽略的 ICMP 报文"},
        [SF_DROP_LINK_IMPAIR_TX] = {"lost by synfin's simulated impairment",
                                    "被 synfin 的模拟链路损伤丢弃"},
        [SF_DROP_LINK_IMPAIR_RX] = {"lost by synfin's simulated impairment",
                                    "被 synfin 的模拟链路损伤丢弃"},
        [SF_DROP_TCP_BAD_COOKIE] = {"ACK with a SYN cookie that does not check out",
                                    "SYN cookie 校验失败的 ACK"},
        [SF_DROP_ETH_TRUNCATED] = {"Ethernet frame cut short", "以太网帧不完整"},
        [SF_DROP_ETH_NOT_FOR_US] = {"Ethernet frame for another host", "发给其他主机的以太网帧"},
        [SF_DROP_ETH_BAD_SOURCE] = {"invalid Ethernet source", "以太网源地址无效"},
        [SF_DROP_ETH_TYPE] = {"neither IPv4 nor ARP", "既不是 IPv4 也不是 ARP"},
        [SF_DROP_ARP_MALFORMED] = {"malformed ARP message", "ARP 报文格式错误"},
        [SF_DROP_ARP_IGNORED] = {"ARP message not about us", "与本机无关的 ARP 报文"},
        [SF_DROP_ARP_QUEUE_FULL] = {"displaced while waiting for ARP", "等待 ARP 解析时被挤出队列"},
        [SF_DROP_ARP_UNRESOLVED] = {"next hop did not answer ARP", "下一跳未回应 ARP"},
        [SF_DROP_IP_NOT_V4] = {"not IPv4 (IPv6 or another version)",
                               "不是 IPv4（IPv6 或其他版本）"},
};

const char *sf_ladder_drop_words(sf_drop_reason_t r, sf_ladder_lang_t lang)
{
	if ((unsigned)r >= SF_DROP_COUNT || drop_words[r].en == NULL)
		return sf_drop_name(r);
	return lang == SF_LADDER_LANG_ZH ? drop_words[r].zh : drop_words[r].en;
}
