/* Internal model shared by the ladder builder (ladder.c), the capture reader
 * (capture.c) and the two renderers (ladder_text.c, ladder_svg.c).
 *
 * Whatever the source, a ladder ends up as a list of rows sorted by time:
 * segment arrows (sender, send and receive time, headers, lost and
 * retransmission marks), notes (a timer fired, a packet was dropped) and
 * rows that only carry a state change. Any row may carry a state change for
 * either side; top to bottom, each side's changes are in the order that side
 * made them (RFC 9293 §3.3.2), even where crossing segments interleave the
 * two sides' rows. The renderers add the section titles, the initial row and
 * the final row on their own, from the same rows, so text and SVG agree.
 */
#ifndef SYNFIN_TRACE_LADDER_INT_H
#define SYNFIN_TRACE_LADDER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synfin/ladder.h"

enum lrow_kind {
	LROW_SEG = 0, /* an arrow from `side` to the other side */
	LROW_NOTE,    /* a note on `side` */
	LROW_STATE,   /* only a state change */
};

enum lnote_kind {
	LNOTE_NONE = 0,
	LNOTE_TIMER, /* timer, count */
	LNOTE_DROP,  /* drop (on a SEG row: the receiver dropped it) */
};

/* Why a segment was sent again, as far as the trace tells. */
enum lrexmit {
	LREXMIT_UNKNOWN = 0,
	LREXMIT_RTO,     /* the retransmission timer fired just before (RFC 6298) */
	LREXMIT_DUPACKS, /* after duplicate ACKs or SACKs (RFC 5681 §3.2, RFC 6675, RFC 8985) */
	LREXMIT_PROBE,   /* the persist timer: a zero-window probe (RFC 9293 §3.8.6.1) */
	LREXMIT_RACK,    /* the engine says: RACK found it lost (RFC 8985 §6) */
	LREXMIT_TLP,     /* the engine says: a tail loss probe (RFC 8985 §7) */
};

/* Section titles, in the order they may appear. */
enum lsection {
	LSEC_HANDSHAKE = 0,
	LSEC_DATA,
	LSEC_CLOSE,
	LSEC_RESET,
	LSEC_COUNT,
	LSEC_NONE = -1,
};

typedef struct lrow {
	uint8_t kind;     /* enum lrow_kind */
	uint8_t side;     /* SEG: the sender; NOTE, STATE: whose */
	uint8_t note;     /* enum lnote_kind */
	bool lost;        /* SEG: sent and never received */
	bool retrans;     /* SEG: repeats sequence space already sent */
	bool lost_impair; /* SEG: lost by synfin's own impairment layer */
	bool has_tcb;     /* SEG: the sender's engine numbers as it sent it */
	struct sf_event_tcb tcb;
	/* Expert notes on a segment (sf_ladder_rows_finish), like Wireshark's
	 * TCP analysis: */
	bool zero_win;        /* advertises a zero window */
	bool win_update;      /* a pure ACK whose only news is the window */
	uint32_t dupack;      /* n of "duplicate ACK #n", 0 if not one */
	uint8_t rexmit_why;   /* enum lrexmit, for a retransmission */
	uint8_t retx_cause;   /* SEG sent by synfin: the engine's sf_retx_cause_t */
	uint16_t segs;        /* SEG: wire segments it stands for (> 1: a TSO/GRO
	                       * super-segment; 0 or 1: one) */
	uint32_t rexmit_dups; /* LREXMIT_DUPACKS: how many came before */
	bool inferred;        /* STATE: a row of its own made by the inference */
	bool has_state[2];
	sf_state_t state[2]; /* the state each side enters at this row */
	sf_cause_t cause[2]; /* why (the engine's cause, or the inferred one) */
	int64_t t_us;        /* when it happened (SEG: sent) */
	int64_t t_rx_us;     /* SEG: when received (== t_us when not known) */
	uint64_t order;      /* tie-break for equal times */
	size_t pos;          /* last tie-break: index before the sort (a stable sort) */
	sf_tcp_t tcp;        /* SEG */
	sf_timer_kind_t timer;
	uint32_t count;
	sf_drop_reason_t drop;
	/* builder bookkeeping (live events): which events made this row */
	size_t ev_tx, ev_rx; /* index in the sender's / receiver's list, or SIZE_MAX */
} lrow_t;

/* One stored trace event. */
typedef struct lev {
	sf_event_t ev;
	uint64_t order; /* global add order */
	bool used;      /* belongs to the drawn connection */
	bool lost;      /* SEG_TX: synfin's impairment lost it (a drop follows) */
	size_t match;   /* SEG_TX: index of the receiving event on the other side */
	size_t row;     /* row built from it, SIZE_MAX if none */
} lev_t;

/* The state of an inferred side the packets cannot tell: drawn "?"
 * (sf_state_name gives "?" for it). */
#define LSTATE_UNKNOWN SF_STATE_COUNT

struct sf_ladder {
	bool sealed; /* built from a capture: no more events, no set_conn */
	bool built;  /* rows are up to date with the events */
	bool nomem;  /* an allocation failed in the sink */
	lev_t *ev[2];
	size_t ev_cnt[2], ev_cap[2];
	uint64_t next_order;
	bool conn_set[2];
	uint32_t conn_id[2];

	lrow_t *rows;
	size_t row_cnt, row_cap;
	bool has_ep[2]; /* addr/port of each end known */
	uint32_t addr[2];
	uint16_t port[2];
	sf_state_t init[2];  /* state before the first row */
	sf_state_t final[2]; /* state after the last row */
	bool inferred[2];    /* no trace event told this side's states */
	bool has_isn[2];
	uint32_t isn[2];   /* first sequence number each side used */
	bool wscale_known; /* both SYNs seen: the window fields' scale is known */
	uint8_t wscale[2]; /* shift of each side's window (0: no scaling) */
	int64_t t0_us;     /* time of the first row */
};

/* Appends a zeroed row (ev_tx/ev_rx set to SIZE_MAX, pos to its index);
 * NULL when out of memory. The pointer is valid until the next append. */
lrow_t *sf_ladder_row_push(sf_ladder_t *l);
/* Sorts the rows by (t_us, order, pos) and renumbers pos, so rows that tie
 * keep the order they had: the result does not depend on the C library's
 * qsort. Marks retransmissions, and computes t0, ISNs and final states
 * (final from the rows when `final_from_rows`). */
void sf_ladder_rows_finish(sf_ladder_t *l, bool final_from_rows);
/* Builds the rows from the events if needed. Returns 0 or SF_ENOMEM. */
int sf_ladder_build(sf_ladder_t *l);
/* What every renderer does first: checks its arguments (SF_EINVAL), reports
 * a ladder that ran out of memory (SF_ENOMEM), builds it, and sets *o to
 * opts or, when opts is NULL, to the documented defaults. Returns 0 or the
 * negative error the renderer returns. */
int sf_ladder_render_begin(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out,
                           const sf_ladder_opts_t **o);
/* A row's window in bytes: the field shifted by the sender's scale (RFC 7323
 * §2.3), except in a SYN or when the SYNs were not seen (then the field). */
uint64_t sf_ladder_win_bytes(const sf_ladder_t *l, const lrow_t *r);
/* Writes s escaped for XML and HTML text and attributes (&, <, >, ", ');
 * C0 controls other than tab, LF and CR, which XML 1.0 forbids, become '?'. */
void sf_ladder_put_xml(FILE *out, const char *s);

/* Infers the states of side s (which has no state events) from the segment
 * rows, sorted, and writes them on the rows; may append rows (sort again
 * afterwards). Sets init[s] and inferred[s]. Returns 0 or SF_ENOMEM
 * (infer.c). */
int sf_ladder_infer(sf_ladder_t *l, int s);

/* A drop reason in words, e.g. "old timestamp: a stale duplicate (PAWS,
 * RFC 7323 §5)" (words.c). Never NULL. */
const char *sf_ladder_drop_words(sf_drop_reason_t r, sf_ladder_lang_t lang);

/* The explanations of each row (explain.c), one malloc'd string per row
 * (NULL: nothing to say), lines joined by '\n'; the array has row_cnt
 * entries. Free each and the array. NULL when out of memory. */
char **sf_ladder_explain_rows(sf_ladder_t *l, sf_ladder_lang_t lang);

/* Long transfers: a run of more than 2*KEEP+MIN rows with nothing to tell
 * (no state change, loss, retransmission, duplicate ACK, window news, drop,
 * SYN, FIN or RST) keeps its first and last KEEP rows; the rest become one
 * line. sf_ladder_collapse sets hide[i] (row_cnt entries): 0 shown, 2 the
 * first hidden row of a run (draw the summary there), 1 hidden; nothing
 * when `full`. Returns how many rows are hidden. */
#define LCOLLAPSE_KEEP 4
#define LCOLLAPSE_MIN  4
size_t sf_ladder_collapse(const sf_ladder_t *l, const int *sec, bool full, uint8_t *hide);
/* "… 1380 segments: 690 data (2.0 MB), 690 ACKs, 0 lost (--full shows them) …"
 * for the run whose first hidden row is `first`. */
char *sf_ladder_collapse_text(const sf_ladder_t *l, const uint8_t *hide, size_t first,
                              sf_ladder_lang_t lang, char *buf, size_t cap);

/* Section starting before row i (LSEC_NONE if none); `sec` has row_cnt
 * entries. */
void sf_ladder_sections(const sf_ladder_t *l, int *sec);

/* Text pieces shared by the renderers. Each writes a NUL-terminated UTF-8
 * string into buf (truncated to cap) and returns buf. */
char *sf_ladder_seg_label(const sf_ladder_t *l, const lrow_t *r, const sf_ladder_opts_t *o,
                          char *buf, size_t cap);
char *sf_ladder_note_text(const lrow_t *r, const sf_ladder_opts_t *o, char *buf, size_t cap);
char *sf_ladder_time_str(const sf_ladder_t *l, int64_t t_us, char *buf, size_t cap);
const char *sf_ladder_section_title(int sec, sf_ladder_lang_t lang);
const char *sf_ladder_role(int side, sf_ladder_lang_t lang);
/* "client", or "client (inferred)" when its states are inferred. */
char *sf_ladder_role_str(const sf_ladder_t *l, int side, sf_ladder_lang_t lang, char *buf,
                         size_t cap);
/* "client 192.0.2.1:40000" or just "client" when the address is unknown. */
char *sf_ladder_end_str(const sf_ladder_t *l, int side, sf_ladder_lang_t lang, char *buf,
                        size_t cap);

#endif
