/* --explain: one sentence for each state change and each notable segment,
 * naming the rule, in English or Chinese.
 *
 * The sentences come from codes, not from guessing at render time: a state
 * change carries the engine's own cause (sf_cause_t, from its trace event;
 * for an inferred side, the cause the inference gave it, and the sentence
 * says it was inferred); a timer, a drop reason, a lost or retransmitted
 * segment and a duplicate ACK come from the engine's events and the
 * ladder's analysis (ladder.c). Two sentences are about the whole close:
 * why it took three segments or four, and what TIME-WAIT protects against.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

struct say {
	const char *en, *zh;
};

/* A state change, by (to, cause); the first match wins. */
struct state_rule {
	sf_state_t from; /* SF_STATE_COUNT: any */
	sf_state_t to;
	sf_cause_t cause; /* SF_CAUSE_COUNT: any */
	struct say say;
};

#define ANY_STATE SF_STATE_COUNT
#define ANY_CAUSE SF_CAUSE_COUNT

static const struct state_rule state_rules[] = {
        {ANY_STATE,
         SF_LISTEN,
         ANY_CAUSE,
         {"passive OPEN: the application listens and waits for a SYN (RFC 9293 §3.10.1)",
          "被动打开：应用开始监听，等待 SYN（RFC 9293 §3.10.1）"}},
        {ANY_STATE,
         SF_SYN_SENT,
         ANY_CAUSE,
         {"active OPEN: the application connects; a SYN carrying its initial sequence number "
          "(ISN) is sent (RFC 9293 §3.10.1)",
          "主动打开：应用发起连接，发出带初始序号（ISN）的 SYN（RFC 9293 §3.10.1）"}},
        {SF_SYN_SENT,
         SF_SYN_RECEIVED,
         ANY_CAUSE,
         {"a SYN without ACK crossed ours: a simultaneous open; it is answered with SYN+ACK "
          "(RFC 9293 §3.10.7.3, Figure 8)",
          "一个不带 ACK 的 SYN 与我方的 SYN 交错而过：同时打开；以 SYN+ACK 回应（RFC 9293 "
          "§3.10.7.3，图 8）"}},
        {SF_TIME_WAIT,
         SF_SYN_RECEIVED,
         ANY_CAUSE,
         {"a new SYN with a higher sequence number or newer timestamp reopened the TIME-WAIT "
          "(RFC 9293 §3.6.1, RFC 6191)",
          "一个序号更高或时间戳更新的新 SYN 重新打开了 TIME-WAIT（RFC 9293 §3.6.1，RFC 6191）"}},
        {ANY_STATE,
         SF_SYN_RECEIVED,
         ANY_CAUSE,
         {"a SYN arrived at the listener: it answers SYN+ACK, acknowledging the client's ISN "
          "and sending its own (RFC 9293 §3.10.7.2)",
          "监听端收到 SYN：以 SYN+ACK 回应，确认客户端的 ISN 并发出自己的 ISN（RFC 9293 "
          "§3.10.7.2）"}},
        {SF_SYN_SENT,
         SF_ESTABLISHED,
         ANY_CAUSE,
         {"the SYN+ACK acknowledges our SYN: its SYN is acknowledged and the connection is open "
          "(RFC 9293 §3.10.7.3)",
          "SYN+ACK 确认了我方的 SYN：确认对方的 SYN 后连接建立（RFC 9293 §3.10.7.3）"}},
        {ANY_STATE,
         SF_ESTABLISHED,
         ANY_CAUSE,
         {"the ACK of our SYN arrived: the three-way handshake is complete (RFC 9293 "
          "§3.10.7.4)",
          "收到对我方 SYN 的确认：三次握手完成（RFC 9293 §3.10.7.4）"}},
        {ANY_STATE,
         SF_FIN_WAIT_1,
         ANY_CAUSE,
         {"the application closed: a FIN is sent, this side will send no more data (RFC 9293 "
          "§3.10.4)",
          "应用关闭连接：发出 FIN，这一端不再发送数据（RFC 9293 §3.10.4）"}},
        {ANY_STATE,
         SF_FIN_WAIT_2,
         ANY_CAUSE,
         {"our FIN was acknowledged: this direction is closed; waiting for the peer's FIN "
          "(RFC 9293 §3.10.7.4)",
          "我方的 FIN 已被确认：这个方向已关闭，等待对方的 FIN（RFC 9293 §3.10.7.4）"}},
        {ANY_STATE,
         SF_CLOSE_WAIT,
         ANY_CAUSE,
         {"the peer's FIN arrived: it will send no more; it is acknowledged, and this side "
          "waits for its application to close (RFC 9293 §3.10.7.4, eighth step)",
          "收到对方的 FIN：对方不再发送；确认它，并等待本端应用关闭（RFC 9293 §3.10.7.4 "
          "第八步）"}},
        {ANY_STATE,
         SF_CLOSING,
         ANY_CAUSE,
         {"the peer's FIN arrived before the ACK of ours: both closed at once (a simultaneous "
          "close); waiting for the ACK of our FIN (RFC 9293 §3.6, Figure 13)",
          "对方的 FIN 先于对我方 FIN 的确认到达：双方同时关闭；等待对我方 FIN 的确认（RFC "
          "9293 §3.6，图 13）"}},
        {ANY_STATE,
         SF_LAST_ACK,
         ANY_CAUSE,
         {"the application closed too: our FIN is sent; waiting for its ACK (RFC 9293 "
          "§3.10.4)",
          "本端应用也关闭了：发出我方的 FIN，等待它的确认（RFC 9293 §3.10.4）"}},
        {SF_FIN_WAIT_1,
         SF_TIME_WAIT,
         SF_CAUSE_RCV_FINACK,
         {"the peer's FIN also acknowledged ours: straight to TIME-WAIT (RFC 9293 §3.10.7.4)",
          "对方的 FIN 同时确认了我方的 FIN：直接进入 TIME-WAIT（RFC 9293 §3.10.7.4）"}},
        {SF_CLOSING,
         SF_TIME_WAIT,
         ANY_CAUSE,
         {"the ACK of our FIN arrived: both directions are closed (RFC 9293 §3.10.7.4)",
          "收到对我方 FIN 的确认：两个方向都已关闭（RFC 9293 §3.10.7.4）"}},
        {ANY_STATE,
         SF_TIME_WAIT,
         ANY_CAUSE,
         {"the peer's FIN arrived after ours was acknowledged: it is acknowledged and this "
          "side, which closed first, waits 2*MSL in TIME-WAIT (RFC 9293 §3.10.7.4)",
          "我方 FIN 被确认后收到对方的 FIN：确认它；先关闭的这一端在 TIME-WAIT 等待 2*MSL"
          "（RFC 9293 §3.10.7.4）"}},
        {SF_LAST_ACK,
         SF_CLOSED,
         ANY_CAUSE,
         {"the ACK of our FIN arrived: the connection is closed and its state deleted "
          "(RFC 9293 §3.10.7.4)",
          "收到对我方 FIN 的确认：连接关闭，状态被删除（RFC 9293 §3.10.7.4）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_TIMEWAIT,
         {"2*MSL passed: no old segment of this connection can still be in the network; the "
          "state is deleted (RFC 9293 §3.10.8)",
          "2*MSL 已过：网络中不会再有这个连接的旧报文段；状态被删除（RFC 9293 §3.10.8）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_RCV_RST,
         {"a reset arrived: the connection is aborted at once, without TIME-WAIT (RFC 9293 "
          "§3.5.3, §3.10.7)",
          "收到复位（RST）：连接立即中止，没有 TIME-WAIT（RFC 9293 §3.5.3，§3.10.7）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_APP_ABORT,
         {"the application aborted: a RST is sent and the state deleted (RFC 9293 §3.10.5)",
          "应用中止连接：发出 RST 并删除状态（RFC 9293 §3.10.5）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_TIMEOUT,
         {"no answer after the last retransmission: the connection is given up (RFC 9293 "
          "§3.8.3, R2)",
          "最后一次重传后仍无应答：放弃连接（RFC 9293 §3.8.3，R2）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_FINWAIT2,
         {"nobody will read and the peer never sent its FIN: FIN-WAIT-2 timed out (RFC 9293 "
          "§3.10.7.4 leaves this to the implementation)",
          "无人读取且对方一直没有发 FIN：FIN-WAIT-2 超时（RFC 9293 §3.10.7.4 交由实现决定）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_ICMP,
         {"an ICMP hard error ended the connection (RFC 9293 §3.9.1.7, RFC 5461)",
          "ICMP 硬错误结束了连接（RFC 9293 §3.9.1.7，RFC 5461）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_REUSE,
         {"a new SYN on the same 4-tuple replaced this TIME-WAIT (RFC 6191)",
          "同一四元组上的新 SYN 取代了这个 TIME-WAIT（RFC 6191）"}},
        {ANY_STATE,
         SF_CLOSED,
         SF_CAUSE_EVICTED,
         {"a half-open connection given up to make room for a new SYN (RFC 4987 §3.4)",
          "半开连接被放弃，为新的 SYN 腾出位置（RFC 4987 §3.4）"}},
        {ANY_STATE,
         SF_CLOSED,
         ANY_CAUSE,
         {"the connection is closed (RFC 9293 §3.3.2)", "连接关闭（RFC 9293 §3.3.2）"}},
};

static const struct say *state_say(sf_state_t from, sf_state_t to, sf_cause_t cause)
{
	for (size_t i = 0; i < sizeof state_rules / sizeof state_rules[0]; i++) {
		const struct state_rule *r = &state_rules[i];
		if (r->to == to && (r->from == ANY_STATE || r->from == from) &&
		    (r->cause == ANY_CAUSE || r->cause == cause))
			return &r->say;
	}
	return NULL;
}

static const struct say say_time_wait = {
        "TIME-WAIT protects against two things: if this side's last ACK is lost, the peer "
        "resends its FIN and the ACK can be resent (otherwise the peer would get a RST); and "
        "old duplicates of this connection die out in the 2*MSL before the same 4-tuple can "
        "be used again, so they cannot be taken for data of a new connection (RFC 9293 §3.6.1, "
        "§3.10.8)",
        "TIME-WAIT 防范两件事：如果这一端最后的 ACK 丢失，对方会重发 FIN，这一端还能再次确认"
        "（否则对方会收到 RST）；在同一四元组被再次使用之前，这个连接的旧重复报文段在 2*MSL "
        "内消失，不会被当成新连接的数据（RFC 9293 §3.6.1，§3.10.8）"};
static const struct say say_three = {
        "the close took three segments, not four: when the first FIN arrived the other side had "
        "nothing more to send, so its own FIN rode on the ACK of that FIN (FIN+ACK). A "
        "\"four-way\" "
        "close is two independent half-closes, one FIN and one ACK each way (RFC 9293 §3.6); "
        "nothing requires them to travel apart",
        "这次关闭用了三个报文段而不是四个：第一个 FIN 到达时另一端已没有数据要发，于是它的 FIN "
        "和对那个 FIN 的 ACK 合在一个报文段里（FIN+ACK）。\"四次挥手\"是两个独立的半关闭，每个方向"
        "各一个 FIN 和一个 ACK（RFC 9293 §3.6），并不要求它们分开发送"};
static const struct say say_four = {
        "the close took four segments: each direction was closed by its own FIN and the other "
        "side's ACK of it (RFC 9293 §3.6)",
        "这次关闭用了四个报文段：每个方向由自己的 FIN 和对方对它的 ACK 关闭（RFC 9293 §3.6）"};

static const char *pick(const struct say *s, bool zh)
{
	return zh ? s->zh : s->en;
}

/* The lines are collected, then written sorted by time (stable): a
 * receiver's change is told at the time the segment arrived. */
struct entry {
	int64_t t_us;
	size_t order;
	size_t row;
	char *text;
};

struct out {
	bool zh;
	struct entry *v;
	size_t n, cap;
	bool nomem;
	size_t row; /* the row being explained */
};

/* One line: "  t  who: text". */
static void line(struct out *o, int64_t t_us, int side, const char *text)
{
	if (o->nomem)
		return;
	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 64;
		struct entry *v = realloc(o->v, ncap * sizeof *v);
		if (v == NULL) {
			o->nomem = true;
			return;
		}
		o->v = v;
		o->cap = ncap;
	}
	const char *who =
	        side >= 0 ? sf_ladder_role(side, o->zh ? SF_LADDER_LANG_ZH : SF_LADDER_LANG_EN)
	                  : "";
	const char *sep = side >= 0 ? (o->zh ? "：" : ": ") : "";
	size_t len = strlen(who) + strlen(sep) + strlen(text) + 1;
	char *t = malloc(len);
	if (t == NULL) {
		o->nomem = true;
		return;
	}
	snprintf(t, len, "%s%s%s", who, sep, text);
	o->v[o->n] = (struct entry){t_us, o->n, o->row, t};
	o->n++;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void explain_state(struct out *out, const sf_ladder_t *l, const lrow_t *r, int s,
                          sf_state_t from, bool zh)
{
	sf_state_t to = r->state[s];
	const struct say *say = state_say(from, to, r->cause[s]);
	if (say == NULL)
		return;
	char buf[1024];
	snprintf(buf, sizeof buf, "%s%s %s %s%s%s",
	         l->inferred[s] ? (zh ? "（推断）" : "(inferred) ") : "", sf_state_name(from),
	         zh ? "→" : "->", sf_state_name(to), zh ? "：" : ": ", pick(say, zh));
	bool receiver = r->kind == LROW_SEG && r->side != s;
	line(out, receiver ? r->t_rx_us : r->t_us, s, buf);
}

/* The notable things about a segment, one sentence each. */
static void explain_seg(struct out *out, const lrow_t *r, bool zh)
{
	char buf[1024];
	int s = r->side;
	if (r->lost)
		line(out, r->t_us, s,
		     r->lost_impair
		             ? (zh ? "这个报文段被 synfin "
		                     "的模拟链路损伤丢弃（--loss）：发送方会在没有收到"
		                     "确认时重传它（RFC 9293 §3.8.1）"
		                   : "this segment was lost by synfin's simulated impairment "
		                     "(--loss): "
		                     "the sender will send it again when no ACK comes (RFC 9293 "
		                     "§3.8.1)")
		             : (zh ? "这个报文段在途中丢失：发送方会在没有收到确认时重传它（RFC "
		                     "9293 "
		                     "§3.8.1）"
		                   : "this segment was lost on the way: the sender will send it "
		                     "again "
		                     "when no ACK comes (RFC 9293 §3.8.1)"));
	if (r->retrans) {
		const char *en, *z;
		switch (r->rexmit_why) {
		case LREXMIT_RTO:
			en = "retransmission: the retransmission timer expired before the data was "
			     "acknowledged; the segment is sent again and the timeout doubled (RFC "
			     "6298 §5)";
			z = "超时重传：数据被确认之前重传计时器到期；报文段被重发，超时时间加倍（RF"
			    "C "
			    "6298 §5）";
			break;
		case LREXMIT_DUPACKS:
			en = "retransmission after duplicate ACKs: the repeated ACKs (and their "
			     "SACK "
			     "blocks) show a hole in what the receiver holds, so the missing "
			     "segment "
			     "is sent without waiting for the timer (fast retransmit, RFC 5681 "
			     "§3.2; "
			     "RFC 6675; RFC 8985)";
			z = "重复 ACK 之后的重传：重复的 ACK（及其 SACK "
			    "块）表明接收方缺了一段，于是不等"
			    "计时器就重发缺失的报文段（快速重传，RFC 5681 §3.2；RFC 6675；RFC "
			    "8985）";
			break;
		case LREXMIT_PROBE:
			en = "zero-window probe: the persist timer sends a byte to learn whether "
			     "the "
			     "window reopened (RFC 9293 §3.8.6.1)";
			z = "零窗口探测：坚持计时器发出一个字节，探测窗口是否重新打开（RFC 9293 "
			    "§3.8.6.1）";
			break;
		case LREXMIT_RACK:
			en = "retransmission: a segment sent after this one was acknowledged and "
			     "a reordering window has passed, so RACK takes this one as lost and "
			     "sends it again without waiting for the timer (RFC 8985 §6)";
			z = "重传：比它后发的报文段已被确认，且重排序窗口已过，RACK "
			    "判定它丢失，不等计时器就重发（RFC 8985 §6）";
			break;
		case LREXMIT_TLP:
			en = "tail loss probe: no ACK came for two round trips, so the last "
			     "segment "
			     "is sent again; the receiver's answer shows what was lost at the tail "
			     "without waiting for the retransmission timer (RFC 8985 §7)";
			z = "尾部丢失探测：两个往返时间没有收到 ACK，于是重发最后一个报文段；接收方"
			    "的回答表明尾部丢了什么，不必等待重传计时器（RFC 8985 §7）";
			break;
		default:
			en = "retransmission: this sequence space was sent before and not "
			     "acknowledged "
			     "in time (RFC 9293 §3.8.1)";
			z = "重传：这段序号空间之前发过，未及时得到确认（RFC 9293 §3.8.1）";
		}
		line(out, r->t_us, s, zh ? z : en);
	}
	if (r->dupack == 1)
		line(out, r->t_us, s,
		     zh ? "重复 ACK：收到乱序的报文段，接收方立即重复上一个 ACK，并用 SACK "
		          "块告知已收到"
		          "的部分（RFC 5681 §4.2，RFC 2018）"
		        : "duplicate ACK: a segment arrived out of order, so the receiver repeats "
		          "its "
		          "last ACK at once, with SACK blocks for what it holds beyond the hole "
		          "(RFC 5681 §4.2, RFC 2018)");
	if (r->zero_win)
		line(out, r->t_us, s,
		     zh ? "零窗口：接收缓冲区已满，发送方必须停止发送并定期探测（RFC 9293 "
		          "§3.8.6.1）"
		        : "zero window: the receiver's buffer is full; the sender must stop and "
		          "probe "
		          "now and then (RFC 9293 §3.8.6.1)");
	else if (r->win_update)
		line(out, r->t_us, s,
		     zh ? "窗口更新：接收方的应用读走了数据，腾出了空间，它通告更大的窗口（RFC "
		          "9293 "
		          "§3.8.6.2.2）"
		        : "window update: the receiving application read data and made room; the "
		          "larger window is announced (RFC 9293 §3.8.6.2.2)");
	if ((r->tcp.flags & SF_TCP_RST) && !r->has_state[s])
		line(out, r->t_us, s,
		     zh ? "复位（RST）：这个报文段不属于任何可接受的连接，或者应用中止了连接（RFC "
		          "9293 "
		          "§3.5.2）"
		        : "reset: the segment belongs to no acceptable connection, or the "
		          "application aborted it (RFC 9293 §3.5.2)");
	if (r->note == LNOTE_DROP) {
		snprintf(buf, sizeof buf, "%s%s",
		         zh ? "接收方丢弃了它：" : "the receiver dropped it: ",
		         sf_ladder_drop_words(r->drop, zh ? SF_LADDER_LANG_ZH : SF_LADDER_LANG_EN));
		line(out, r->t_rx_us, 1 - s, buf);
	}
}

/* Three segments or four: the first FIN of each side, and whether the
 * second carried the ACK of the first without a pure ACK before it. */
static const struct say *close_say(const sf_ladder_t *l, size_t *at)
{
	size_t f1 = SIZE_MAX, f2 = SIZE_MAX;
	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		if (r->kind != LROW_SEG || !(r->tcp.flags & SF_TCP_FIN) || r->lost)
			continue;
		if (f1 == SIZE_MAX)
			f1 = i;
		else if (r->side != l->rows[f1].side) {
			f2 = i;
			break;
		}
	}
	if (f1 == SIZE_MAX || f2 == SIZE_MAX)
		return NULL;
	const lrow_t *a = &l->rows[f1], *b = &l->rows[f2];
	uint32_t fin_end = a->tcp.seq + sf_tcp_seg_len(&a->tcp);
	*at = f2;
	bool acks = (b->tcp.flags & SF_TCP_ACK) && b->tcp.ack == fin_end;
	for (size_t i = f1 + 1; i < f2; i++) {
		const lrow_t *r = &l->rows[i];
		if (r->kind == LROW_SEG && r->side == b->side && (r->tcp.flags & SF_TCP_ACK) &&
		    sf_seq_ge(r->tcp.ack, fin_end))
			return &say_four; /* a separate ACK came first */
	}
	/* Crossing FINs (a simultaneous close) are explained by CLOSING. */
	if (!acks)
		return NULL;
	return &say_three;
}

/* Collects every explanation of a built ladder, each tagged with its row. */
static void collect(const sf_ladder_t *l, bool zh, struct out *fo)
{
	size_t close_at = SIZE_MAX;
	const struct say *cs = close_say(l, &close_at);
	bool time_wait_told = false;
	sf_state_t cur[2] = {l->init[0], l->init[1]};
	for (size_t i = 0; i < l->row_cnt; i++) {
		const lrow_t *r = &l->rows[i];
		int first = r->side;
		fo->row = i;
		/* The sender's (or the row's own side's) change first, then the
		 * segment, then the receiver's change on arrival. */
		for (int k = 0; k < 2; k++) {
			int s = k == 0 ? first : 1 - first;
			if (k == 1 && r->kind == LROW_SEG)
				explain_seg(fo, r, zh);
			if (!r->has_state[s])
				continue;
			explain_state(fo, l, r, s, cur[s], zh);
			cur[s] = r->state[s];
			if (r->state[s] == SF_TIME_WAIT && !time_wait_told) {
				time_wait_told = true;
				bool receiver = r->kind == LROW_SEG && r->side != s;
				line(fo, receiver ? r->t_rx_us : r->t_us, -1,
				     pick(&say_time_wait, zh));
			}
		}
		if (r->kind == LROW_NOTE && r->note == LNOTE_DROP) {
			char buf[512];
			snprintf(buf, sizeof buf, "%s%s", zh ? "丢弃：" : "dropped: ",
			         sf_ladder_drop_words(r->drop,
			                              zh ? SF_LADDER_LANG_ZH : SF_LADDER_LANG_EN));
			line(fo, r->t_us, r->side, buf);
		}
		if (i == close_at && cs != NULL)
			line(fo, r->t_rx_us, -1, pick(cs, zh));
	}
}

static void free_out(struct out *eo)
{
	for (size_t i = 0; i < eo->n; i++)
		free(eo->v[i].text);
	free(eo->v);
}

int sf_ladder_render_explain(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out)
{
	const sf_ladder_opts_t *o;
	int err = sf_ladder_render_begin(l, opts, out, &o);
	if (err < 0)
		return err;
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	struct out eo = {zh, NULL, 0, 0, false, 0};
	collect(l, zh, &eo);
	if (eo.n > 1)
		qsort(eo.v, eo.n, sizeof *eo.v, cmp_entry);
	if (!eo.nomem) {
		char tbuf[32];
		fputs(zh ? "说明：\n" : "explanations:\n", out);
		for (size_t i = 0; i < eo.n; i++)
			fprintf(out, "%10s  %s\n",
			        sf_ladder_time_str(l, eo.v[i].t_us, tbuf, sizeof tbuf),
			        eo.v[i].text);
	}
	free_out(&eo);
	return eo.nomem ? SF_ENOMEM : 0;
}

char **sf_ladder_explain_rows(sf_ladder_t *l, sf_ladder_lang_t lang)
{
	if (sf_ladder_build(l) < 0)
		return NULL;
	bool zh = lang == SF_LADDER_LANG_ZH;
	struct out eo = {zh, NULL, 0, 0, false, 0};
	collect(l, zh, &eo);
	char **per = calloc(l->row_cnt ? l->row_cnt : 1, sizeof *per);
	if (per == NULL || eo.nomem) {
		free(per);
		free_out(&eo);
		return NULL;
	}
	for (size_t i = 0; i < eo.n; i++) {
		size_t r = eo.v[i].row;
		size_t old = per[r] ? strlen(per[r]) : 0, add = strlen(eo.v[i].text);
		char *n = realloc(per[r], old + add + 2);
		if (n == NULL) { /* all or nothing: a page missing one row's words would mislead */
			for (size_t k = 0; k < l->row_cnt; k++)
				free(per[k]);
			free(per);
			per = NULL;
			break;
		}
		if (old)
			n[old++] = '\n';
		memcpy(n + old, eo.v[i].text, add + 1);
		per[r] = n;
	}
	free_out(&eo);
	return per;
}
