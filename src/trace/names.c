/* Names of the trace enums: connection states, causes of state changes, timers,
 * drop reasons and event kinds, as printed by the JSON-lines writer, the ladder
 * renderer and the CLI. Each table is indexed by the enum value; a value out of
 * range (a corrupted event, a newer enum member) yields "?", never NULL.
 * The strings are part of the trace format (docs/TRACE_FORMAT.md): once
 * published, an identifier does not change.
 */
#include "synfin/trace.h"

/* RFC 9293 §3.3.2: the state names, spelled with hyphens as the RFC does. */
static const char *const state_names[SF_STATE_COUNT] = {
        [SF_CLOSED] = "CLOSED",           [SF_LISTEN] = "LISTEN",
        [SF_SYN_SENT] = "SYN-SENT",       [SF_SYN_RECEIVED] = "SYN-RECEIVED",
        [SF_ESTABLISHED] = "ESTABLISHED", [SF_FIN_WAIT_1] = "FIN-WAIT-1",
        [SF_FIN_WAIT_2] = "FIN-WAIT-2",   [SF_CLOSE_WAIT] = "CLOSE-WAIT",
        [SF_CLOSING] = "CLOSING",         [SF_LAST_ACK] = "LAST-ACK",
        [SF_TIME_WAIT] = "TIME-WAIT",
};

static const char *const cause_names[SF_CAUSE_COUNT] = {
        [SF_CAUSE_APP_CONNECT] = "app_connect",
        [SF_CAUSE_APP_LISTEN] = "app_listen",
        [SF_CAUSE_APP_CLOSE] = "app_close",
        [SF_CAUSE_APP_ABORT] = "app_abort",
        [SF_CAUSE_RCV_SYN] = "rcv_syn",
        [SF_CAUSE_RCV_SYNACK] = "rcv_synack",
        [SF_CAUSE_RCV_ACK] = "rcv_ack",
        [SF_CAUSE_RCV_FIN] = "rcv_fin",
        [SF_CAUSE_RCV_FINACK] = "rcv_finack",
        [SF_CAUSE_RCV_RST] = "rcv_rst",
        [SF_CAUSE_TIMEOUT] = "timeout",
        [SF_CAUSE_TIMEWAIT] = "timewait",
        [SF_CAUSE_FINWAIT2] = "finwait2",
        [SF_CAUSE_ICMP] = "icmp",
        [SF_CAUSE_REUSE] = "reuse",
        [SF_CAUSE_EVICTED] = "evicted",
};

static const char *const timer_names[SF_TIMER_COUNT] = {
        [SF_TIMER_RTO] = "rto",           [SF_TIMER_DELACK] = "delack",
        [SF_TIMER_PERSIST] = "persist",   [SF_TIMER_KEEPALIVE] = "keepalive",
        [SF_TIMER_TIMEWAIT] = "timewait", [SF_TIMER_FINWAIT2] = "finwait2",
        [SF_TIMER_RACK] = "rack",         [SF_TIMER_TLP] = "tlp",
};

static const char *const retx_names[SF_RETX_COUNT] = {
        [SF_RETX_NONE] = "",     [SF_RETX_RTO] = "rto", [SF_RETX_DUPACK] = "dupack",
        [SF_RETX_RACK] = "rack", [SF_RETX_TLP] = "tlp",
};

static const char *const drop_names[SF_DROP_COUNT] = {
        [SF_DROP_IP_TRUNCATED] = "ip_truncated",
        [SF_DROP_IP_MALFORMED] = "ip_malformed",
        [SF_DROP_IP_CHECKSUM] = "ip_checksum",
        [SF_DROP_IP_NOT_FOR_US] = "ip_not_for_us",
        [SF_DROP_IP_BAD_SOURCE] = "ip_bad_source",
        [SF_DROP_IP_BCAST_DEST] = "ip_bcast_dest",
        [SF_DROP_IP_FRAGMENT] = "ip_fragment",
        [SF_DROP_IP_PROTO] = "ip_proto",
        [SF_DROP_TCP_TRUNCATED] = "tcp_truncated",
        [SF_DROP_TCP_MALFORMED] = "tcp_malformed",
        [SF_DROP_TCP_CHECKSUM] = "tcp_checksum",
        [SF_DROP_TCP_BAD_FLAGS] = "tcp_bad_flags",
        [SF_DROP_TCP_NO_SOCKET] = "tcp_no_socket",
        [SF_DROP_TCP_OUT_OF_WINDOW] = "tcp_out_of_window",
        [SF_DROP_TCP_BAD_ACK] = "tcp_bad_ack",
        [SF_DROP_TCP_RST_IGNORED] = "tcp_rst_ignored",
        [SF_DROP_TCP_CHALLENGE] = "tcp_challenge",
        [SF_DROP_TCP_SYN_QUEUE_FULL] = "tcp_syn_queue_full",
        [SF_DROP_TCP_ACCEPT_QUEUE_FULL] = "tcp_accept_queue_full",
        [SF_DROP_TCP_NO_MEMORY] = "tcp_no_memory",
        [SF_DROP_TCP_PAWS] = "tcp_paws",
        [SF_DROP_TCP_BAD_COOKIE] = "tcp_bad_cookie",
        [SF_DROP_ICMP_TRUNCATED] = "icmp_truncated",
        [SF_DROP_ICMP_CHECKSUM] = "icmp_checksum",
        [SF_DROP_ICMP_IGNORED] = "icmp_ignored",
        [SF_DROP_LINK_IMPAIR_TX] = "link_impair_tx",
        [SF_DROP_LINK_IMPAIR_RX] = "link_impair_rx",
        [SF_DROP_ETH_TRUNCATED] = "eth_truncated",
        [SF_DROP_ETH_NOT_FOR_US] = "eth_not_for_us",
        [SF_DROP_ETH_BAD_SOURCE] = "eth_bad_source",
        [SF_DROP_ETH_TYPE] = "eth_type",
        [SF_DROP_ARP_MALFORMED] = "arp_malformed",
        [SF_DROP_ARP_IGNORED] = "arp_ignored",
        [SF_DROP_ARP_QUEUE_FULL] = "arp_queue_full",
        [SF_DROP_ARP_UNRESOLVED] = "arp_unresolved",
        [SF_DROP_IP_NOT_V4] = "ip_not_v4",
};

static const char *const event_names[SF_EV_COUNT] = {
        [SF_EV_SEG_TX] = "seg_tx",       [SF_EV_SEG_RX] = "seg_rx", [SF_EV_STATE] = "state",
        [SF_EV_TIMER] = "timer",         [SF_EV_DROP] = "drop",     [SF_EV_CONN_NEW] = "conn_new",
        [SF_EV_CONN_FREE] = "conn_free",
};

/* Looks `v` up in a table of `n` names; "?" when out of range or unnamed.
 * The value is taken as unsigned so a negative enum value is out of range. */
static const char *lookup_name(const char *const *table, unsigned n, unsigned v)
{
	if (v >= n || !table[v])
		return "?";
	return table[v];
}

const char *sf_state_name(sf_state_t s)
{
	return lookup_name(state_names, SF_STATE_COUNT, (unsigned)s);
}

const char *sf_cause_name(sf_cause_t c)
{
	return lookup_name(cause_names, SF_CAUSE_COUNT, (unsigned)c);
}

const char *sf_timer_name(sf_timer_kind_t t)
{
	return lookup_name(timer_names, SF_TIMER_COUNT, (unsigned)t);
}

const char *sf_retx_cause_name(sf_retx_cause_t c)
{
	return lookup_name(retx_names, SF_RETX_COUNT, (unsigned)c);
}

const char *sf_drop_name(sf_drop_reason_t r)
{
	return lookup_name(drop_names, SF_DROP_COUNT, (unsigned)r);
}

const char *sf_event_kind_name(sf_event_kind_t k)
{
	return lookup_name(event_names, SF_EV_COUNT, (unsigned)k);
}
