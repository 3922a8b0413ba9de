/* synfin ladder diagrams: what happened on the wire, with each side's TCP
 * state at every step.
 *
 * A ladder is a model of one TCP connection seen from its two ends: the left
 * end (side 0, the client: the side that sent the first SYN) and the right end
 * (side 1, the server). Each segment is an arrow from its sender to its
 * receiver; each state change is written on its own side at the row where it
 * happens; timers and drops are notes. The model is built from either source:
 *
 *   - live or simulated trace events from two stacks, one stream per side
 *     (sf_ladder_add_event, or sf_ladder_sink as a trace sink); a transmitted
 *     segment is paired with its reception on the other side, and a segment
 *     never received is drawn as lost;
 *   - a packet capture (pcap or pcapng, sf_capture_open): the TCP segments of
 *     one connection become the same events (sent by one end, received by
 *     the other when captured).
 *
 * A side whose events include no state change (the kernel at the other end
 * of a live connection, where only synfin's end is traced; both ends of a
 * capture) gets its states from one inference shared by every view: a
 * shadow RFC 9293 state machine fed with what that side sent and received.
 * Such a side is drawn "client (inferred)", and "?" where the segments
 * cannot tell (a connection picked up mid-stream).
 *
 * It renders as text (English or Chinese, CJK-width aware) or SVG, both
 * deterministic: the same model and options give the same bytes.
 *
 * Typical use by a command line tool:
 *
 *   sf_capture_t *cap;
 *   int err = sf_capture_open(path, &cap);
 *   if (err < 0) { fprintf(stderr, "%s: %s\n", path, sf_ladder_strerror(err)); ... }
 *   sf_ladder_t *l;
 *   err = sf_ladder_from_capture(cap, conn_index, &l);    // SF_ENOTCONN: no TCP
 *   sf_ladder_opts_t o = {.lang = SF_LADDER_LANG_ZH};
 *   sf_ladder_render_text(l, &o, stdout);
 *   sf_ladder_free(l);
 *   sf_capture_close(cap);
 *
 * Memory: this is not the per-packet path; the model allocates with plain
 * malloc. Everything a ladder owns is freed by sf_ladder_free, everything a
 * capture owns by sf_capture_close. A ladder built from a capture does not
 * refer to the capture afterwards. Nothing here is thread-safe.
 */
#ifndef SYNFIN_LADDER_H
#define SYNFIN_LADDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "synfin/error.h"
#include "synfin/trace.h"
#include "synfin/wire.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sf_ladder sf_ladder_t;
typedef struct sf_capture sf_capture_t;

/* ---- rendering options ---- */

typedef enum sf_ladder_lang {
	SF_LADDER_LANG_EN = 0, /* "client", "three-way handshake", ... */
	SF_LADDER_LANG_ZH,     /* "客户端", "三次握手", ... */
} sf_ladder_lang_t;

typedef enum sf_ladder_seq {
	SF_LADDER_SEQ_RELATIVE = 0, /* seq/ack relative to each side's ISN: seq=0, ack=1 */
	SF_LADDER_SEQ_ABSOLUTE,     /* the 32-bit numbers as on the wire */
	SF_LADDER_SEQ_SYMBOLIC,     /* left ISN = x, right ISN = y: seq=x, ack=x+1 */
} sf_ladder_seq_t;

/* Rendering options. A zero-initialised struct (or a NULL pointer) means the
 * defaults: English, relative sequence numbers, window and options shown. */
typedef struct sf_ladder_opts {
	sf_ladder_lang_t lang;
	sf_ladder_seq_t seq;
	bool hide_win;     /* leave "win=N" out of the labels */
	bool hide_options; /* leave the SYN options (mss, wscale, sackOK, TS) out */
	bool hide_time;    /* leave the time margin empty (for diagrams in docs) */
	bool raw_win;      /* win= the raw 16-bit field, not bytes (RFC 7323 scaling) */
	bool full;         /* draw every row: long runs of plain segments are not
	                      collapsed into one "… N segments …" line */
	size_t width;      /* text: fit this many columns when it can (0: no limit):
	                      SYN options, then windows, are left out, then labels
	                      are cut with "…" */
} sf_ladder_opts_t;

/* ---- building from trace events ---- */

/* Creates an empty ladder. Returns NULL when out of memory. Free it with
 * sf_ladder_free. */
sf_ladder_t *sf_ladder_new(void);

/* Frees a ladder and everything it owns. NULL is allowed. */
void sf_ladder_free(sf_ladder_t *l);

/* Chooses which connection of `side` (0 left/client, 1 right/server) is
 * drawn: the one with trace id `conn_id`. By default it is the first
 * connection that carried a segment on that side. Events of the chosen
 * connection's 4-tuple that carry another id (e.g. a SYN traced by the
 * listener, a drop with id 0) are drawn too. May be called before or after
 * the events are added. Returns 0, or SF_EINVAL (bad side, or a ladder built
 * from a capture). */
int sf_ladder_set_conn(sf_ladder_t *l, int side, uint32_t conn_id);

/* Adds one trace event seen by the stack on `side` (0 = left/client,
 * 1 = right/server). The event is copied; `ev` need not outlive the call.
 * Events of each side must be added in the order they happened; the two
 * sides' streams may be interleaved in any way (for equal timestamps the
 * order of the calls breaks ties). SF_EV_CONN_NEW/FREE are ignored.
 * Returns 0, SF_EINVAL (bad side or kind, NULL, or a ladder built from a
 * capture) or SF_ENOMEM (the ladder stays usable; the event is lost). */
int sf_ladder_add_event(sf_ladder_t *l, int side, const sf_event_t *ev);

/* A trace sink that feeds one side of a ladder: set sink.fn = sf_ladder_sink
 * and sink.ctx = a pointer to an sf_ladder_tap_t that outlives the stack's
 * use of the sink. An allocation failure inside the sink is remembered and
 * reported by the next render (SF_ENOMEM). */
typedef struct sf_ladder_tap {
	sf_ladder_t *ladder;
	int side;
} sf_ladder_tap_t;
void sf_ladder_sink(void *tap, const sf_event_t *ev);

/* ---- reading a capture ---- */

/* One TCP connection found in a capture, in order of first appearance. The
 * left end ([0]) sent the first SYN (or, without one, received the first
 * SYN+ACK; failing that it is the first packet's source). */
typedef struct sf_capture_conn {
	uint32_t addr[2]; /* host order; [0] left/client, [1] right/server */
	uint16_t port[2];
	size_t pkt_cnt;    /* TCP segments of this connection */
	uint64_t bytes[2]; /* payload bytes sent by each side */
	int64_t first_us;  /* capture timestamp of the first and last segment */
	int64_t last_us;
	bool has_syn; /* the capture holds the connection's opening SYN */
} sf_capture_conn_t;

/* Opens a pcap or pcapng file with libpcap and reads every TCP/IPv4 segment
 * (link types Ethernet with optional 802.1Q/802.1ad tags, raw IPv4,
 * BSD loopback, Linux cooked v1 and v2). TCP checksums are not verified:
 * captures of locally sent packets carry offloaded, unfinished checksums.
 * Packets that are not TCP/IPv4 (ARP, IPv6, UDP, ICMP, fragments, broken
 * headers) are skipped and counted. On success *out owns the whole capture
 * in memory (free it with sf_capture_close) and 0 is returned, even when the
 * capture holds no TCP at all (then sf_capture_conn_count is 0). Errors:
 * SF_EINVAL    NULL argument, or the file cannot be opened (see errno),
 * SF_EMALFORMED the file is not a pcap or pcapng capture,
 * SF_ENOTSUP   the capture's link type is not one of the above,
 * SF_ENOMEM    out of memory.
 * A capture cut short in the middle of a record keeps the packets before it
 * (sf_capture_truncated tells). */
int sf_capture_open(const char *path, sf_capture_t **out);

/* Frees a capture. NULL is allowed. */
void sf_capture_close(sf_capture_t *cap);

/* Number of TCP connections found (0 when the capture holds no TCP). */
size_t sf_capture_conn_count(const sf_capture_t *cap);

/* Copies connection `index` (0-based, order of first appearance) to *out.
 * Returns 0 or SF_EINVAL (index out of range, NULL). */
int sf_capture_conn_get(const sf_capture_t *cap, size_t index, sf_capture_conn_t *out);

/* Writes a one-line description of a connection, e.g.
 * "192.0.2.1:40000 > 192.0.2.2:80, 10 segments, 120/512 bytes" (no
 * newline) with snprintf semantics: returns the length it would write. */
int sf_capture_conn_format(const sf_capture_conn_t *conn, char *buf, size_t cap);

/* Packets read, and how many of them were skipped as not TCP/IPv4. */
size_t sf_capture_pkt_count(const sf_capture_t *cap);
size_t sf_capture_skipped_count(const sf_capture_t *cap);
/* Of the skipped packets, those carrying TCP over IPv6 (not read: synfin is
 * IPv4 only), so that a capture of such a connection can be told from one
 * without TCP. */
size_t sf_capture_ipv6_tcp_count(const sf_capture_t *cap);
/* True if the file ended in the middle of a record. */
bool sf_capture_truncated(const sf_capture_t *cap);

/* Builds the ladder of connection `index` of a capture, inferring each
 * side's state (RFC 9293 §3.3.2, §3.10.7) from the segments it sent and
 * received. On success *out is a new ladder owned by the caller (free with
 * sf_ladder_free) and 0 is returned. Errors: SF_ENOTCONN (the capture holds
 * no TCP connection), SF_EINVAL (index out of range, NULL), SF_ENOMEM. */
int sf_ladder_from_capture(const sf_capture_t *cap, size_t index, sf_ladder_t **out);

/* ---- rendering ---- */

/* Writes the ladder as text, one row per line, to `out` (a NULL `opts` means
 * the defaults). Layout: a title naming both ends (address:port), the time
 * in ms at the left margin (relative to the first event), the left side's
 * state changes in the left column, arrows with their labels (flags, seq,
 * ack, win, len, SYN options; "lost" and "retransmission" marks) between the
 * two lifelines, the right side's state changes in the right column,
 * section titles where the handshake, the data transfer and the close begin,
 * and a final line with both end states. Lines carry no trailing blanks.
 * Returns 0, SF_EINVAL (NULL ladder or stream) or SF_ENOMEM (now, or
 * remembered from the trace sink). Write errors are not detected here:
 * check ferror(out). */
int sf_ladder_render_text(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out);

/* Writes the same rows as a standalone SVG 1.1 document (UTF-8): two
 * vertical lifelines, sloped arrows from the sender's time to the
 * receiver's, labels, state boxes, notes and section rules. Return values as
 * for sf_ladder_render_text. */
int sf_ladder_render_svg(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out);

/* Writes the explanations of the ladder (--explain): one line for each
 * state change and each notable segment (lost, retransmitted and why,
 * duplicate ACK, zero window, window update, reset, drop), in time order,
 * "  <t ms>  <side>: <from> -> <to>: <why> (RFC ...)", from the engine's
 * cause codes (an inferred side's are inferred, and say so); and two about
 * the whole connection: why its close took three segments or four, and
 * what TIME-WAIT protects against. English or Chinese (opts->lang). Return
 * values as for sf_ladder_render_text. */
int sf_ladder_render_explain(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out);

/* Writes the time-sequence graph (Stevens, tcptrace) of the direction that
 * carried more data as a standalone SVG: each data segment an I-beam from
 * its first to its last byte at the time it was sent (retransmissions
 * orange, losses red with an X), the receiver's ACK line (green), ACK +
 * window line (yellow) and SACK blocks (purple); sequence numbers relative
 * to the sender's ISN. Return values as for sf_ladder_render_text. */
int sf_ladder_render_graph(sf_ladder_t *l, const sf_ladder_opts_t *opts, FILE *out);

/* Writes one self-contained HTML page (UTF-8, no external resources): the
 * SVG diagram in English and Chinese, the text and --explain, and an inline
 * script to step through the rows (buttons, arrow keys) with both ends'
 * states and the explanations at each step, and to switch languages. With
 * JavaScript off the static diagrams show. A non-NULL `live_url` makes the
 * page poll that URL (the same page, served again) and show the new steps
 * of a connection still going on. Return values as for
 * sf_ladder_render_text. */
int sf_ladder_render_html(sf_ladder_t *l, const sf_ladder_opts_t *opts, const char *live_url,
                          FILE *out);

/* The state `side` is in after the last row (its initial state if nothing
 * changed it): what the final line of the text shows. SF_STATE_COUNT when
 * the side's state is inferred and the segments cannot tell ("?"). Returns
 * SF_CLOSED for a bad side. */
sf_state_t sf_ladder_final_state(sf_ladder_t *l, int side);

/* Number of segment arrows, and how many of them were lost (sent, never
 * received) — for tests and summaries. */
size_t sf_ladder_seg_count(sf_ladder_t *l);
size_t sf_ladder_lost_count(sf_ladder_t *l);

/* The display width (terminal columns) of a UTF-8 string: East Asian wide
 * and fullwidth characters count 2, combining marks 0, others 1; an
 * invalid byte counts 1. */
size_t sf_ladder_display_width(const char *s);

/* A message for an error returned by the functions above, in the words of
 * capture reading ("not a pcap or pcapng capture", "no TCP connection in
 * capture", ...); falls back to sf_strerror. Never NULL; static storage. */
const char *sf_ladder_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
