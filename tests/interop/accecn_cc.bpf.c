/* A congestion control for the Linux kernel, loaded as BPF struct_ops by
 * tests/interop/ecn.sh, whose only purpose is its flag: TCP_CONG_NEEDS_ACCECN
 * makes a socket using it ask for AccECN (RFC 9768 §3.1) in its SYN, and a
 * listener using it answer an AccECN SYN with AccECN, whatever
 * net.ipv4.tcp_ecn says. That is how a kernel controller such as TCP Prague
 * turns AccECN on; here it lets the test speak AccECN with kernels whose
 * sysctl still refuses tcp_ecn=3 (Linux 6.18 caps it at 2 although its
 * AccECN code is in). The window itself is Reno's: the kernel's own
 * tcp_reno_* functions, exported to BPF controllers as kfuncs.
 *
 * Built at test time against the running kernel's BTF:
 *   bpftool btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h
 *   clang -O2 -target bpf -DSF_CC_NAME='"name"' -c accecn_cc.bpf.c
 * and registered with `bpftool struct_ops register` (global to the kernel,
 * so the test names it uniquely and unregisters it when it ends). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#ifndef SF_CC_NAME
#define SF_CC_NAME "sf_accecn"
#endif
#define TCP_CONG_NEEDS_ACCECN (1u << 2) /* include/net/tcp.h, Linux 6.18 */

char _license[] SEC("license") = "GPL"; /* the tcp_reno_* kfuncs are GPL-only */

extern __u32 tcp_reno_ssthresh(struct sock *sk) __ksym;
extern void tcp_reno_cong_avoid(struct sock *sk, __u32 ack, __u32 acked) __ksym;
extern __u32 tcp_reno_undo_cwnd(struct sock *sk) __ksym;

SEC("struct_ops/sf_ssthresh")
__u32 BPF_PROG(sf_ssthresh, struct sock *sk)
{
	return tcp_reno_ssthresh(sk);
}

SEC("struct_ops/sf_cong_avoid")
void BPF_PROG(sf_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	tcp_reno_cong_avoid(sk, ack, acked);
}

SEC("struct_ops/sf_undo_cwnd")
__u32 BPF_PROG(sf_undo_cwnd, struct sock *sk)
{
	return tcp_reno_undo_cwnd(sk);
}

SEC(".struct_ops")
struct tcp_congestion_ops sf_accecn = {
        .ssthresh = (void *)sf_ssthresh,
        .cong_avoid = (void *)sf_cong_avoid,
        .undo_cwnd = (void *)sf_undo_cwnd,
        .flags = TCP_CONG_NEEDS_ACCECN,
        .name = SF_CC_NAME,
};
