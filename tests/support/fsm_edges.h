/* The legal edges of the TCP state machine, RFC 9293 Figure 5, written out
 * independently of the engine's own table so tests and fuzz targets can
 * check every SF_EV_STATE event against the RFC rather than against the
 * code under test. Header-only (static inline): the fuzz targets, which do
 * not link the test-support library, include it too.
 */
#ifndef SF_TEST_FSM_EDGES_H
#define SF_TEST_FSM_EDGES_H

#include <stdbool.h>

#include "synfin/trace.h"

/* RFC 9293 Figure 5, plus "any state -> CLOSED" (ABORT, RST, timeouts,
 * §3.10). A connection a listener creates appears as CLOSED -> SYN-RECEIVED
 * (the listener itself stays in LISTEN); SYN-RECEIVED -> CLOSE-WAIT is a FIN
 * arriving with the ACK of our SYN,ACK (§3.10.7.4, eighth step). */
static inline bool fsm_edge_legal(sf_state_t from, sf_state_t to)
{
	if (from >= SF_STATE_COUNT || to >= SF_STATE_COUNT || from == to)
		return false;
	if (to == SF_CLOSED)
		return true;
	switch (from) {
	case SF_CLOSED:
		return to == SF_LISTEN || to == SF_SYN_SENT || to == SF_SYN_RECEIVED;
	case SF_LISTEN:
		return to == SF_SYN_RECEIVED || to == SF_SYN_SENT;
	case SF_SYN_SENT:
		return to == SF_SYN_RECEIVED || to == SF_ESTABLISHED;
	case SF_SYN_RECEIVED:
		return to == SF_ESTABLISHED || to == SF_FIN_WAIT_1 || to == SF_LISTEN ||
		       to == SF_CLOSE_WAIT;
	case SF_ESTABLISHED:
		return to == SF_FIN_WAIT_1 || to == SF_CLOSE_WAIT;
	case SF_FIN_WAIT_1:
		return to == SF_FIN_WAIT_2 || to == SF_CLOSING || to == SF_TIME_WAIT;
	case SF_FIN_WAIT_2:
		return to == SF_TIME_WAIT;
	case SF_CLOSE_WAIT:
		return to == SF_LAST_ACK;
	case SF_CLOSING:
		return to == SF_TIME_WAIT;
	default:
		return false; /* LAST-ACK and TIME-WAIT only go to CLOSED */
	}
}

/* The state a connection's first traced edge starts from: CLOSED, or LISTEN
 * when a listener's SYN made it (the child stands for the listener,
 * RFC 9293 Figure 5). */
static inline sf_state_t fsm_first_state(sf_state_t from, sf_state_t to)
{
	return from == SF_LISTEN && to == SF_SYN_RECEIVED ? SF_LISTEN : SF_CLOSED;
}

#endif
