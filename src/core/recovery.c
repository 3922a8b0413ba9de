/* Loss detection and recovery: duplicate ACKs, the SACK scoreboard, fast
 * retransmit and fast recovery, timeouts. With SACK and cfg.rack, RACK
 * (rack.c) decides what is lost and this file reacts to its verdicts.
 *
 * Without SACK: RFC 5681 §3.2 fast retransmit and NewReno partial ACKs
 * (RFC 6582): exactly one segment is resent per loss signal, never the
 * whole window. With SACK: a conservative RFC 6675 recovery — the
 * scoreboard records what the peer holds, `pipe` estimates what is still in
 * flight, and only holes are retransmitted while pipe < cwnd — with PRR
 * (RFC 9937) setting cwnd on each ACK to pipe plus what may be sent, so
 * the flight shrinks to ssthresh in proportion to what is delivered
 * instead of pausing until pipe falls under it. How cwnd grows and where
 * ssthresh goes is the algorithm's business (cc.h).
 */
#include "core/stack.h"

/* ---- the scoreboard: a range set (ranges.h) of what the peer holds ---- */

/* Takes the SACK blocks of an ACK (RFC 2018 §5): blocks outside
 * (SND.UNA, SND.MAX] are ignored (RFC 2883 D-SACKs included). When the
 * scoreboard is full the highest range is forgotten (retransmitting it is
 * safe). */
void sf_sack_update(sf_tcb_t *t, const sf_tcp_opts_t *o)
{
	for (uint8_t i = 0; i < o->sack_cnt; i++) {
		uint32_t l = o->sack[i].left, r = o->sack[i].right;
		if (!sf_seq_lt(l, r) || sf_seq_le(r, t->snd_una) || sf_seq_gt(r, t->snd_max))
			continue;
		if (sf_seq_lt(l, t->snd_una))
			l = t->snd_una;
		sf_ranges_add(&t->sacked, l, r, SF_EVICT_HIGHEST);
	}
}

/* RFC 6675 §4 SetPipe, simplified: outstanding bytes, less what the peer
 * holds, less the holes below the highest SACK not yet retransmitted (they
 * are taken as lost). */
uint32_t sf_pipe(const sf_tcb_t *t)
{
	if (t->flags & F_RACK)
		return sf_rack_pipe(t); /* what RACK has marked lost is not in flight */
	uint32_t out = t->snd_max - t->snd_una;
	const sf_ranges_t *sb = &t->sacked;
	if (!sb->cnt)
		return out;
	uint32_t hs = sf_ranges_highest(sb, t->snd_una);
	uint32_t from = sf_seq_max(t->high_rxt, t->snd_una);
	uint32_t lost = 0;
	if (sf_seq_lt(from, hs))
		lost = (hs - from) - sf_ranges_bytes_from(sb, from) + sf_ranges_bytes_from(sb, hs);
	uint32_t sacked = sf_ranges_bytes_from(sb, t->snd_una);
	uint32_t gone = sacked + lost;
	return out > gone ? out - gone : 0;
}

/* RFC 6675 §4 NextSeg (rule 1): the first byte not SACKed and not yet
 * retransmitted, below the highest SACKed byte. */
bool sf_next_hole(const sf_tcb_t *t, uint32_t *seq, uint32_t *len)
{
	if (t->flags & F_RACK)
		return sf_rack_next_lost(t, seq, len); /* RACK decides what is lost */
	const sf_ranges_t *sb = &t->sacked;
	if (!sb->cnt)
		return false;
	uint32_t hs = sf_ranges_highest(sb, t->snd_una);
	uint32_t s = sf_seq_max(t->high_rxt, t->snd_una);
	for (const sf_range_t *r; (r = sf_ranges_find(sb, s));)
		s = r->right;
	if (!sf_seq_lt(s, hs))
		return false;
	/* The hole ends at the next SACKed range. */
	*seq = s;
	*len = sf_ranges_next_left(sb, s, hs) - s;
	return true;
}

/* ---- reactions ---- */

/* ---- PRR (RFC 9937) ---- */

/* RFC 9937 §4, on entering recovery: nothing delivered or sent yet;
 * RecoverFS is the flight less what the peer had SACKed before this ACK
 * (that is never delivered again during recovery). Until the first ACK is
 * processed, cwnd lets exactly the fast retransmit go. */
static void prr_begin(sf_tcb_t *t, uint32_t sacked_before)
{
	uint32_t flight = t->snd_max - t->snd_una;
	t->prr_delivered = t->prr_out = 0;
	t->recover_fs = flight > sacked_before ? flight - sacked_before : 0;
	if (t->recover_fs < t->snd_mss) /* the ratio ssthresh/RecoverFS stays bounded */
		t->recover_fs = t->snd_mss;
	t->cwnd = sf_pipe(t) + t->snd_mss;
}

/* RFC 9937 §4, on every ACK in SACK recovery that delivered data: sndcnt,
 * the bytes this ACK lets go; cwnd becomes pipe + sndcnt so output.c
 * sends that much (holes first). Proportional while pipe > ssthresh, else
 * back up to ssthresh: what was delivered, or what is owed if more
 * (PRR-CRB), and one SMSS beyond on a safe ACK (PRR-SSRB: SND.UNA
 * advanced, no new loss). */
static void prr_on_ack(sf_tcb_t *t, uint32_t delivered, bool safe)
{
	if (!delivered) /* §4: no new data delivered, nothing changes */
		return;
	t->prr_delivered += delivered;
	uint32_t pipe = sf_pipe(t);
	int64_t sndcnt;
	if (pipe > t->ssthresh) {
		uint64_t fs = t->recover_fs ? t->recover_fs : 1;
		uint64_t due = ((uint64_t)t->prr_delivered * t->ssthresh + fs - 1) / fs;
		sndcnt = (int64_t)due - t->prr_out;
	} else {
		int64_t limit = (int64_t)t->prr_delivered - t->prr_out;
		if (limit < (int64_t)delivered)
			limit = delivered;
		if (safe)
			limit += t->snd_mss;
		int64_t room = (int64_t)t->ssthresh - pipe;
		sndcnt = room < limit ? room : limit;
	}
	if (sndcnt < 0)
		sndcnt = 0;
	if (!t->prr_out && !sndcnt) /* §4: force the fast retransmit */
		sndcnt = t->snd_mss;
	/* Whole segments, as the RFC counts them when it counts in packets
	 * (and Linux does): a part of one would be held by sender SWS
	 * avoidance, and at the end of a flight no later ACK would come to
	 * release it. prr_out takes back what is sent beyond. */
	sndcnt = (sndcnt + t->snd_mss - 1) / t->snd_mss * t->snd_mss;
	t->cwnd = pipe + (uint32_t)sndcnt;
}

static void enter_recovery(sf_stack_t *st, sf_tcb_t *t, uint32_t sacked_before)
{
	st->stats.fast_recoveries++;
	sf_rack_episode_begin(t, false);
	sf_cc_ops(t->cc_algo)->on_loss(t, st->now_us);
	t->recover = t->snd_max;
	t->flags |= F_IN_RECOVERY;
	t->flags &= ~(uint32_t)F_RTT_TIMING;
	t->high_rxt = t->snd_una;
	if (t->flags & F_SACK_OK) {
		prr_begin(t, sacked_before);
	} else {
		/* RFC 5681 §3.2 (2)-(3): resend one segment, inflate by 3. */
		t->cwnd = t->ssthresh + 3u * t->snd_mss;
		sf_retransmit_one(st, t, t->snd_una, SF_RETX_DUPACK);
	}
	sf_tcb_mark_dirty(st, t);
}

/* A loss RACK found: a new recovery, unless one is running or the last
 * has not ended (RFC 6582 §3.2: not before SND.UNA passes `recover`). */
static void rack_loss(sf_stack_t *st, sf_tcb_t *t, uint32_t sacked_before)
{
	if (!(t->flags & F_IN_RECOVERY) && sf_seq_ge(t->snd_una, t->recover))
		enter_recovery(st, t, sacked_before);
	else
		sf_tcb_mark_dirty(st, t);
}

/* Returns whether this ACK revealed a new loss (RACK). */
static bool on_ack(sf_stack_t *st, sf_tcb_t *t, uint32_t acked, bool dup, const sf_tcp_opts_t *opt,
                   uint32_t before)
{
	if (t->flags & F_SACK_OK)
		sf_sack_update(t, opt);
	if (acked)
		sf_ranges_trim(&t->sacked, t->snd_una); /* what SND.UNA passed */
	/* RFC 8985: with RACK, time decides what is lost, not DupThresh. */
	bool rack_lost = sf_rack_on_ack(st, t, acked, opt);
	if (acked) {
		t->dupacks = 0;
		if (t->flags & F_IN_RECOVERY) {
			if (sf_seq_ge(t->snd_una, t->recover)) {
				/* Full ACK: leave recovery (RFC 6582 §3.2 (3)). */
				t->flags &= ~(uint32_t)F_IN_RECOVERY;
				sf_rack_recovery_end(t);
				if (t->flags & F_SACK_OK) {
					/* RFC 9937 §4: PRR has brought the
					 * flight to ssthresh; cwnd is that. */
					t->cwnd = t->ssthresh;
				} else {
					/* cwnd = min(ssthresh, max(FlightSize,
					 * SMSS) + SMSS), so an empty pipe still
					 * restarts with two segments. */
					uint32_t flight = t->snd_max - t->snd_una;
					uint32_t c = (flight > t->snd_mss ? flight : t->snd_mss) +
					             t->snd_mss;
					t->cwnd = t->ssthresh < c ? t->ssthresh : c;
				}
			} else if (!(t->flags & F_SACK_OK)) {
				/* Partial ACK: the next hole is at SND.UNA; resend it
				 * and deflate (RFC 6582 §3.2 (3)). */
				sf_retransmit_one(st, t, t->snd_una, SF_RETX_DUPACK);
				t->cwnd = t->cwnd > acked ? t->cwnd - acked : 0;
				if (acked >= t->snd_mss)
					t->cwnd += t->snd_mss;
			}
		} else {
			sf_hystart_on_ack(st, t);
			sf_cc_ops(t->cc_algo)->on_ack(t, acked, st->now_us);
		}
		if (rack_lost)
			rack_loss(st, t, before);
		return rack_lost;
	}
	if (t->flags & F_RACK) {
		if (dup)
			t->dupacks++;
		if (rack_lost)
			rack_loss(st, t, before);
		else if (t->flags & F_IN_RECOVERY || (t->dupacks && t->dupacks < 3))
			sf_tcb_mark_dirty(st, t); /* limited transmit (RFC 3042) */
		return rack_lost;
	}
	/* RFC 6675 §2/§5: with SACK, any ACK that reports new data held by
	 * the peer is a loss signal, whatever its window field says (Linux moves
	 * its window on almost every ACK). */
	bool sack_news =
	        (t->flags & F_SACK_OK) && sf_ranges_bytes_from(&t->sacked, t->snd_una) > before;
	if (!dup && !sack_news)
		return false;
	if (dup)
		t->dupacks++;
	if (t->flags & F_IN_RECOVERY) {
		if (dup && !(t->flags & F_SACK_OK))
			t->cwnd += t->snd_mss; /* RFC 5681 §3.2 (4) */
		sf_tcb_mark_dirty(st, t);
		return false;
	}
	/* RFC 6675 §4 IsLost: more than (DupThresh - 1) * SMSS bytes SACKed
	 * above SND.UNA. A new recovery only once the previous one is fully
	 * acknowledged (RFC 6582 §3.2 (1): recover is SND.MAX at entry). */
	bool lost = t->dupacks >= 3 ||
	            (sack_news && sf_ranges_bytes_from(&t->sacked, t->snd_una) > 2u * t->snd_mss);
	if (lost && sf_seq_ge(t->snd_una, t->recover))
		enter_recovery(st, t, before);
	else if (t->dupacks && t->dupacks < 3)
		sf_tcb_mark_dirty(st, t); /* limited transmit (RFC 3042) */
	return lost;
}

/* RFC 3042 (limited transmit) for a batch of ACKs. Output runs after a
 * batch, not after each ACK: SACKs that came in ACKs before the one that
 * begins recovery opened room under cwnd (they took data out of the pipe)
 * that nothing has used yet, and prr_begin would forget it. A stack that
 * sends after every ACK (Linux) sends that room as new data before
 * recovery; then when the lone ACK of the fast retransmit is lost, the
 * ACKs of that new data still end recovery instead of the RTO (over the
 * loss benchmark's relay at 1 % loss, most of synfin's timeouts). At most
 * two segments, as RFC 3042 allows on the first two duplicate ACKs.
 * `cwnd`, `before`: cwnd and the bytes SACKed above SND.UNA before this
 * ACK. */
static uint32_t limited_transmit_owed(const sf_tcb_t *t, uint32_t cwnd, uint32_t before)
{
	uint32_t flight = t->snd_max - t->snd_una;
	uint32_t pipe = flight > before ? flight - before : 0;
	if (cwnd <= pipe)
		return 0;
	uint32_t room = cwnd - pipe;
	if (room > 2u * t->snd_mss)
		room = 2u * t->snd_mss;
	return room / t->snd_mss * t->snd_mss;
}

void sf_recovery_on_ack(sf_stack_t *st, sf_tcb_t *t, uint32_t acked, bool dup,
                        const sf_tcp_opts_t *opt)
{
	/* SACKed bytes before this ACK: above the new SND.UNA (input.c has
	 * moved it), and above the old one. */
	uint32_t before = sf_ranges_bytes_from(&t->sacked, t->snd_una);
	uint32_t held = sf_ranges_bytes_from(&t->sacked, t->snd_una - acked);
	bool was_in = (t->flags & F_IN_RECOVERY) != 0;
	uint32_t cwnd_before = t->cwnd;
	bool lost = on_ack(st, t, acked, dup, opt, before);
	if ((t->flags & (F_IN_RECOVERY | F_SACK_OK)) != (F_IN_RECOVERY | F_SACK_OK))
		return;
	/* RFC 9937 §4 DeliveredData: SND.UNA's advance plus the change in
	 * bytes SACKed (bytes SACKed before and now cumulatively acknowledged
	 * were counted when they were SACKed). */
	uint32_t now = sf_ranges_bytes_from(&t->sacked, t->snd_una);
	int64_t delivered = (int64_t)acked + now - held;
	prr_on_ack(t, delivered > 0 ? (uint32_t)delivered : 0, acked && !lost);
	if (!was_in && before) {
		/* This ACK began recovery: what the ACKs before it in the same
		 * batch let go goes too, as sent before recovery (so PRR's
		 * count sees it paid for). */
		uint32_t owed = limited_transmit_owed(t, cwnd_before, before);
		t->cwnd += owed;
		t->prr_delivered += owed;
	}
}

void sf_recovery_on_rack_loss(sf_stack_t *st, sf_tcb_t *t)
{
	rack_loss(st, t, sf_ranges_bytes_from(&t->sacked, t->snd_una));
}

/* RFC 5681 (4) and RFC 6298 (5.5)-(5.7): after a timeout everything not yet
 * acknowledged is presumed lost; the scoreboard is dropped, since the peer
 * may have discarded what it SACKed (RFC 2018 §8). */
void sf_recovery_on_timeout(sf_stack_t *st, sf_tcb_t *t)
{
	if (!(t->flags & F_IN_RECOVERY) && t->backoff <= 1) /* the first timeout of a series */
		sf_rack_episode_begin(t, true);
	sf_rack_on_timeout(st, t);
	sf_cc_ops(t->cc_algo)->on_timeout(t, st->now_us);
	t->cwnd = t->snd_mss;
	t->recover = t->snd_max;
	t->flags &= ~(uint32_t)F_IN_RECOVERY;
	t->dupacks = 0;
	sf_ranges_clear(&t->sacked);
	t->high_rxt = t->snd_una;
}
