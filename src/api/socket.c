/* The socket facade: BSD-like, non-blocking calls on generation-checked
 * handles (RFC 9293 §3.9.1 user calls: OPEN, SEND, RECEIVE, CLOSE, ABORT,
 * STATUS). Calls change state and queue work; frames leave at the next
 * sf_stack_poll(). A stale handle is reported as SF_EBADF, never followed.
 */
#include <string.h>

#include "core/stack.h"

#define IDX_BITS 22
#define IDX_MASK ((1u << IDX_BITS) - 1)
#define GEN_MASK 0x1ffu

static sf_sock_t make_handle(const sf_stack_t *st, const sf_tcb_t *t)
{
	return (sf_sock_t)(((t->gen & GEN_MASK) << IDX_BITS) | (tcb_index(st, t) + 1));
}

static sf_tcb_t *get(sf_stack_t *st, sf_sock_t s)
{
	if (!st || s <= 0)
		return NULL;
	uint32_t idx = ((uint32_t)s & IDX_MASK) - 1;
	if (idx >= st->tcb_fresh)
		return NULL;
	sf_tcb_t *t = &st->tcbs[idx];
	if (!(t->flags & F_HANDLE) || (t->gen & GEN_MASK) != ((uint32_t)s >> IDX_BITS))
		return NULL;
	return t;
}

sf_sock_t sf_socket(sf_stack_t *st)
{
	sf_tcb_t *t = sf_tcb_alloc(st);
	if (!t)
		return SF_ENOMEM;
	t->flags |= F_HANDLE;
	return make_handle(st, t);
}

int sf_bind(sf_stack_t *st, sf_sock_t s, uint16_t port)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (t->state != SF_CLOSED || t->raddr || t->lport)
		return SF_EINVAL;
	t->lport = port;
	return 0;
}

int sf_listen(sf_stack_t *st, sf_sock_t s, int backlog)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (t->state != SF_CLOSED || t->raddr || !t->lport)
		return SF_EINVAL;
	return sf_tcb_listen(st, t, backlog);
}

sf_sock_t sf_accept(sf_stack_t *st, sf_sock_t s, uint32_t *peer_addr, uint16_t *peer_port)
{
	sf_tcb_t *l = get(st, s);
	if (!l)
		return SF_EBADF;
	if (l->state != SF_LISTEN)
		return SF_EINVAL;
	sf_tcb_t *c = sf_listener_accept(st, l);
	if (!c)
		return SF_EAGAIN;
	if (peer_addr)
		*peer_addr = c->raddr;
	if (peer_port)
		*peer_port = c->rport;
	return make_handle(st, c);
}

int sf_connect(sf_stack_t *st, sf_sock_t s, uint32_t addr, uint16_t port)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (t->state != SF_CLOSED)
		return t->state == SF_SYN_SENT ? SF_EALREADY : SF_EISCONN;
	if (t->raddr)
		return SF_EINVAL; /* a socket is opened once */
	/* MUST-46: no OPEN to broadcast, multicast or invalid addresses. */
	if (port == 0 || addr == st->cfg.addr ||
	    sf_ipv4_addr_is_special(addr, st->cfg.addr, st->cfg.prefix_len))
		return SF_EADDRNOTAVAIL;
	return sf_tcb_connect(st, t, addr, port);
}

/* Takes the pending error once. */
static int take_error(sf_tcb_t *t)
{
	int e = t->error;
	t->error = 0;
	return e;
}

long sf_send(sf_stack_t *st, sf_sock_t s, const void *buf, size_t len)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (t->error)
		return take_error(t);
	switch (t->state) {
	case SF_SYN_SENT:
	case SF_SYN_RECEIVED:
	case SF_ESTABLISHED:
	case SF_CLOSE_WAIT:
		break;
	case SF_CLOSED:
	case SF_LISTEN:
		return t->raddr ? SF_EPIPE : SF_ENOTCONN;
	default:
		return SF_EPIPE;
	}
	if (t->flags & F_FIN_QUEUED)
		return SF_EPIPE;
	if (len == 0)
		return 0;
	if (sf_ring_acquire(st, &t->snd) < 0)
		return SF_ENOMEM;
	uint32_t n = sf_ring_write(&t->snd, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
	if (n == 0)
		return SF_EAGAIN;
	sf_tcb_mark_dirty(st, t);
	return (long)n;
}

long sf_send_urgent(sf_stack_t *st, sf_sock_t s, const void *buf, size_t len)
{
	long n = sf_send(st, s, buf, len);
	if (n > 0) {
		sf_tcb_t *t = get(st, s);
		t->snd_up = t->snd_head + t->snd.len;
		t->flags |= F_URG_SEND;
	}
	return n;
}

/* Sequence number of the next byte the application will read. */
static uint32_t read_seq(const sf_tcb_t *t)
{
	return t->rcv_nxt - t->rcv.len - !!(t->flags & F_FIN_RCVD);
}

int sf_urgent_pending(sf_stack_t *st, sf_sock_t s, uint32_t *bytes)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (!(t->flags & F_URG_VALID) || !sf_seq_gt(t->up_rcv, read_seq(t)))
		return 0;
	if (bytes)
		*bytes = t->up_rcv - read_seq(t);
	return 1;
}

long sf_recv(sf_stack_t *st, sf_sock_t s, void *buf, size_t len)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (t->flags & F_RD_SHUT) /* end of file for this reader (sf_shutdown) */
		return t->error ? take_error(t) : 0;
	if (t->rcv.len) {
		uint32_t n =
		        sf_ring_read(&t->rcv, buf, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
		sf_tcb_rcv_consumed(st, t);
		return (long)n;
	}
	if (t->error)
		return take_error(t);
	if (t->flags & F_FIN_RCVD)
		return 0;
	if (t->state == SF_CLOSED || t->state == SF_LISTEN)
		return SF_ENOTCONN;
	return SF_EAGAIN;
}

/* Queues our FIN: ESTABLISHED -> FIN-WAIT-1, CLOSE-WAIT -> LAST-ACK
 * (RFC 9293 §3.10.4 CLOSE). A half-open passive connection gets its FIN
 * once the handshake completes. */
static int close_send_side(sf_stack_t *st, sf_tcb_t *t)
{
	if (t->flags & F_FIN_QUEUED)
		return 0;
	switch (t->state) {
	case SF_ESTABLISHED:
		t->flags |= F_FIN_QUEUED;
		sf_tcb_set_state(st, t, SF_FIN_WAIT_1, SF_CAUSE_APP_CLOSE);
		break;
	case SF_CLOSE_WAIT:
		t->flags |= F_FIN_QUEUED;
		sf_tcb_set_state(st, t, SF_LAST_ACK, SF_CAUSE_APP_CLOSE);
		break;
	case SF_SYN_RECEIVED:
		t->flags |= F_FIN_QUEUED;
		break;
	default:
		return SF_ENOTCONN;
	}
	sf_tcb_mark_dirty(st, t);
	return 0;
}

int sf_shutdown(sf_stack_t *st, sf_sock_t s, int how)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (how < SF_SHUT_RD || how > SF_SHUT_RDWR)
		return SF_EINVAL;
	if (how & SF_SHUT_RD)
		sf_tcb_shutdown_read(st, t);
	if (how & SF_SHUT_WR)
		return close_send_side(st, t);
	return 0;
}

/* Releases the handle of a connection that is finished or never began. */
static void release(sf_stack_t *st, sf_tcb_t *t)
{
	t->flags &= ~(uint32_t)F_HANDLE;
	if (t->state != SF_CLOSED)
		sf_tcb_close(st, t, 0, SF_CAUSE_APP_CLOSE);
	else if (!(t->flags & F_DIRTY))
		sf_tcb_free(st, t);
}

int sf_abort(sf_stack_t *st, sf_sock_t s)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	sf_send_rst(st, t); /* only for synchronized states */
	t->flags &= ~(uint32_t)F_HANDLE;
	if (t->state != SF_CLOSED)
		sf_tcb_close(st, t, SF_ECONNABORTED, SF_CAUSE_APP_ABORT);
	else if (!(t->flags & F_DIRTY))
		sf_tcb_free(st, t);
	return 0;
}

int sf_close(sf_stack_t *st, sf_sock_t s)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	switch (t->state) {
	case SF_CLOSED:
	case SF_LISTEN:
	case SF_SYN_SENT:
		release(st, t);
		return 0;
	default:
		break;
	}
	/* RFC 9293 §3.6 / RFC 2525 §2.17: closing with unread data resets,
	 * so the peer knows it was not read; so does SO_LINGER 0. */
	if (t->rcv.len || (t->flags & F_RST_ON_CLOSE))
		return sf_abort(st, s);
	if (t->state == SF_ESTABLISHED || t->state == SF_CLOSE_WAIT || t->state == SF_SYN_RECEIVED)
		close_send_side(st, t);
	t->flags &= ~(uint32_t)F_HANDLE;
	t->flags |= F_ORPHAN;
	if (t->state == SF_FIN_WAIT_2)
		sf_tcb_timer_set(st, t, T_LINGER2,
		                 st->now_us + (int64_t)st->cfg.finwait2_ms * 1000);
	return 0;
}

int sf_sock_error(sf_stack_t *st, sf_sock_t s)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (t->error)
		return take_error(t);
	int e = t->soft_error;
	t->soft_error = 0;
	return e;
}

int sf_getsockname(sf_stack_t *st, sf_sock_t s, uint32_t *addr, uint16_t *port)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (addr)
		*addr = st->cfg.addr;
	if (port)
		*port = t->lport;
	return 0;
}

int sf_getpeername(sf_stack_t *st, sf_sock_t s, uint32_t *addr, uint16_t *port)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	if (!t->raddr)
		return SF_ENOTCONN;
	if (addr)
		*addr = t->raddr;
	if (port)
		*port = t->rport;
	return 0;
}

uint32_t sf_sock_conn_id(sf_stack_t *st, sf_sock_t s)
{
	sf_tcb_t *t = get(st, s);
	return t ? t->id : 0;
}

int sf_sock_slot(sf_stack_t *st, sf_sock_t s)
{
	sf_tcb_t *t = get(st, s);
	return t ? (int)tcb_index(st, t) : SF_EBADF;
}

static void set_flag(sf_tcb_t *t, uint32_t f, int on)
{
	if (on)
		t->flags |= f;
	else
		t->flags &= ~f;
}

int sf_setsockopt(sf_stack_t *st, sf_sock_t s, int opt, int v)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	switch (opt) {
	case SF_SO_NODELAY:
		set_flag(t, F_NODELAY, v);
		sf_tcb_mark_dirty(st, t);
		return 0;
	case SF_SO_KEEPALIVE:
		if (v && !SF_HAVE_KEEPALIVE)
			return SF_ENOTSUP; /* built with SF_NO_KEEPALIVE */
		set_flag(t, F_KEEPALIVE, v);
		sf_tcb_keepalive_arm(st, t);
		return 0;
	case SF_SO_KEEPIDLE:
		if (v < 1)
			return SF_EINVAL;
		/* A new idle time counts from now, like Linux's TCP_KEEPIDLE
		 * on an open socket: a deadline armed with the old one would
		 * otherwise stand (a 7,200 s default outliving the app). */
		t->keepidle_s = (uint32_t)v;
		sf_tcb_keepalive_arm(st, t);
		return 0;
	case SF_SO_KEEPINTVL:
		if (v < 1)
			return SF_EINVAL;
		t->keepintvl_s = (uint32_t)v;
		return 0;
	case SF_SO_KEEPCNT:
		if (v < 1)
			return SF_EINVAL;
		t->keepcnt = (uint32_t)v;
		return 0;
	case SF_SO_USER_TIMEOUT:
		if (v < 0)
			return SF_EINVAL;
		t->user_timeout_ms = (uint32_t)v;
		return 0;
	case SF_SO_LINGER:
		set_flag(t, F_RST_ON_CLOSE, v == 0);
		return 0;
	case SF_SO_TTL:
		if (v < 1 || v > 255)
			return SF_EINVAL;
		t->ttl = (uint8_t)v;
		return 0;
	case SF_SO_TOS:
		if (v < 0 || v > 255)
			return SF_EINVAL;
		t->tos = (uint8_t)v;
		return 0;
	case SF_SO_CONGESTION:
		if (v != SF_CC_CUBIC && v != SF_CC_NEWRENO)
			return SF_EINVAL;
		if (t->cc_algo != v) {
			t->cc_algo = (uint8_t)v;
			sf_cc_ops(v)->init(t, st->now_us);
		}
		return 0;
	case SF_SO_SNDBUF:
	case SF_SO_RCVBUF:
		/* Buffers are sized once, when the connection first needs them. */
		if (t->state != SF_CLOSED && t->state != SF_LISTEN)
			return SF_EISCONN;
		if (v < 1024 || v > (1 << 30))
			return SF_EINVAL;
		if (opt == SF_SO_SNDBUF)
			t->sndbuf = t->snd.cap = (uint32_t)v;
		else
			t->rcvbuf = t->rcv.cap = (uint32_t)v;
		return 0;
	case SF_SO_MAXSEG:
		return sf_tcb_set_maxseg(st, t, v);
	case SF_SO_CORK:
		set_flag(t, F_CORK, v);
		if (!v)
			sf_tcb_mark_dirty(st, t); /* send what was held */
		return 0;
	default:
		return SF_ENOTSUP;
	}
}

int sf_getsockopt(sf_stack_t *st, sf_sock_t s, int opt, int *v)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	switch (opt) {
	case SF_SO_NODELAY:
		*v = !!(t->flags & F_NODELAY);
		return 0;
	case SF_SO_KEEPALIVE:
		*v = !!(t->flags & F_KEEPALIVE);
		return 0;
	case SF_SO_KEEPIDLE:
		*v = (int)t->keepidle_s;
		return 0;
	case SF_SO_KEEPINTVL:
		*v = (int)t->keepintvl_s;
		return 0;
	case SF_SO_KEEPCNT:
		*v = (int)t->keepcnt;
		return 0;
	case SF_SO_USER_TIMEOUT:
		*v = (int)t->user_timeout_ms;
		return 0;
	case SF_SO_LINGER:
		*v = (t->flags & F_RST_ON_CLOSE) ? 0 : -1;
		return 0;
	case SF_SO_TTL:
		*v = t->ttl;
		return 0;
	case SF_SO_TOS:
		*v = t->tos;
		return 0;
	case SF_SO_CONGESTION:
		*v = t->cc_algo;
		return 0;
	case SF_SO_SNDBUF:
		*v = (int)t->sndbuf;
		return 0;
	case SF_SO_RCVBUF:
		*v = (int)t->rcvbuf;
		return 0;
	case SF_SO_MAXSEG:
		if (t->state == SF_CLOSED || t->state == SF_LISTEN || t->state == SF_SYN_SENT)
			*v = t->user_mss ? t->user_mss : (int)st->cfg.mtu - 40;
		else
			*v = t->snd_mss;
		return 0;
	case SF_SO_CORK:
		*v = !!(t->flags & F_CORK);
		return 0;
	default:
		return SF_ENOTSUP;
	}
}

static short readiness(const sf_tcb_t *t)
{
	short r = 0;
	if (t->state == SF_LISTEN)
		return t->acceptq_len ? SF_POLLIN : 0;
	if (t->rcv.len || (t->flags & (F_FIN_RCVD | F_RD_SHUT)) || t->error)
		r |= SF_POLLIN;
	if ((t->flags & F_URG_VALID) && sf_seq_gt(t->up_rcv, read_seq(t)))
		r |= SF_POLLPRI;
	if ((t->state == SF_ESTABLISHED || t->state == SF_CLOSE_WAIT) &&
	    !(t->flags & F_FIN_QUEUED) && sf_ring_free(&t->snd))
		r |= SF_POLLOUT;
	if (t->error)
		r |= SF_POLLERR;
	if ((t->state == SF_CLOSED && t->raddr) ||
	    ((t->flags & F_FIN_RCVD) && (t->flags & F_FIN_QUEUED)))
		r |= SF_POLLHUP;
	return r;
}

int sf_poll(sf_stack_t *st, sf_pollfd_t *fds, size_t n)
{
	int ready = 0;
	for (size_t i = 0; i < n; i++) {
		sf_tcb_t *t = get(st, fds[i].sock);
		if (!t) {
			fds[i].revents = SF_POLLERR;
		} else {
			short r = readiness(t);
			fds[i].revents = (short)(r & (fds[i].events | SF_POLLERR | SF_POLLHUP));
		}
		ready += fds[i].revents != 0;
	}
	return ready;
}

int sf_ready_take(sf_stack_t *st, sf_sock_t *out, int max)
{
#if SF_HAVE_READY
	if (!st || !out || max < 0)
		return SF_EINVAL;
	int n = 0;
	sf_tcb_t *t;
	while (n < max && (t = sf_tcb_ready_pop(st)) != NULL)
		if (t->flags & F_HANDLE) /* else closed by the application since */
			out[n++] = make_handle(st, t);
	return n;
#else
	(void)st, (void)out, (void)max;
	return SF_ENOTSUP;
#endif
}

int sf_tcp_info(sf_stack_t *st, sf_sock_t s, sf_tcp_info_t *o)
{
	sf_tcb_t *t = get(st, s);
	if (!t)
		return SF_EBADF;
	memset(o, 0, sizeof *o);
	o->state = (sf_state_t)t->state;
	o->srtt_us = (uint32_t)t->srtt_us;
	o->rttvar_us = (uint32_t)t->rttvar_us;
	o->rto_us = t->rto_us;
	o->snd_mss = t->snd_mss;
	o->rcv_mss = t->rcv_mss;
	o->cwnd = t->cwnd;
	o->ssthresh = t->ssthresh;
	o->snd_wnd = t->snd_wnd;
	o->rcv_wnd = rcv_wnd(t);
	o->retransmits = t->retransmits;
	o->backoff = t->backoff;
	o->bytes_sent = t->bytes_sent;
	o->bytes_acked = t->bytes_acked;
	o->bytes_received = t->bytes_received;
	o->sack_ok = t->flags & F_SACK_OK;
	o->ecn = t->ecn_mode;
	o->ts_ok = t->flags & F_TS_OK;
	o->wscale_ok = t->flags & F_WS_OK;
	o->snd_wscale = t->snd_wscale;
	o->rcv_wscale = t->rcv_wscale;
	return 0;
}
