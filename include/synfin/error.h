/* synfin error codes.
 *
 * Every synfin function that can fail returns 0 (or a non-negative count) on
 * success and one of these negative codes on failure. sf_strerror() turns a
 * code into a short English phrase; it never returns NULL. The connection
 * errors double as RFC 9293 §3.9.1.8 asynchronous reports to the application
 * (MUST-47): refused, reset, timed out, aborted.
 */
#ifndef SYNFIN_ERROR_H
#define SYNFIN_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum sf_error {
	SF_OK = 0,
	SF_EINVAL = -1,         /* bad argument */
	SF_ETRUNCATED = -2,     /* input ends before the structure does (partial) */
	SF_EMALFORMED = -3,     /* input is complete but violates the format */
	SF_ECHECKSUM = -4,      /* checksum does not verify */
	SF_ENOBUFS = -5,        /* output buffer too small */
	SF_ENOMEM = -6,         /* budget or allocator exhausted */
	SF_EAGAIN = -7,         /* would block: try again when ready */
	SF_EBADF = -8,          /* unknown or stale handle */
	SF_EADDRINUSE = -9,     /* local address/port already in use */
	SF_ECONNREFUSED = -10,  /* peer answered the SYN with RST */
	SF_ECONNRESET = -11,    /* peer reset an established connection */
	SF_ETIMEDOUT = -12,     /* retransmissions exhausted (R2) */
	SF_ECONNABORTED = -13,  /* aborted locally */
	SF_ENOTCONN = -14,      /* not connected */
	SF_EISCONN = -15,       /* already connected / in use */
	SF_EPIPE = -16,         /* sending side already shut down */
	SF_EINPROGRESS = -17,   /* connect started, not yet complete */
	SF_EALREADY = -18,      /* operation already in progress */
	SF_EUNREACH = -19,      /* ICMP hard error: host/port/protocol unreachable */
	SF_EADDRNOTAVAIL = -20, /* address not usable (broadcast, multicast, none) */
	SF_ENOTSUP = -21,       /* operation or option not supported */
};

/* Short description of an SF_E* code (or "unknown error"); static storage. */
const char *sf_strerror(int err);

/* Called when one of synfin's internal invariants fails (a bug in synfin,
 * never bad input): `expr` and `file` may be NULL in small builds. After
 * the hook returns the program stops with a trap instruction. */
typedef void (*sf_assert_hook_t)(const char *expr, const char *file, int line);
/* Sets the hook (NULL: none, just the trap). Process-wide; set it once at
 * start, before any stack runs. */
void sf_set_assert_hook(sf_assert_hook_t hook);
/* The failure path of the core's checks (used through SF_ASSERT). */
void sf_assert_fail(const char *expr, const char *file, int line);

#ifdef __cplusplus
}
#endif
#endif
