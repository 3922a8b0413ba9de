/* sf_strerror: a short English phrase for each SF_E* code of
 * include/synfin/error.h, for logs, the CLI and test messages. The
 * connection errors are the RFC 9293 §3.9.1.8 reports to the application
 * (MUST-47): "connection refused", "connection reset", "connection timed out".
 */
#include "synfin/error.h"

const char *sf_strerror(int err)
{
	switch (err) {
	case SF_OK:
		return "success";
	case SF_EINVAL:
		return "invalid argument";
	case SF_ETRUNCATED:
		return "truncated input";
	case SF_EMALFORMED:
		return "malformed input";
	case SF_ECHECKSUM:
		return "bad checksum";
	case SF_ENOBUFS:
		return "output buffer too small";
	case SF_ENOMEM:
		return "out of memory";
	case SF_EAGAIN:
		return "operation would block";
	case SF_EBADF:
		return "bad handle";
	case SF_EADDRINUSE:
		return "address already in use";
	case SF_ECONNREFUSED:
		return "connection refused";
	case SF_ECONNRESET:
		return "connection reset by peer";
	case SF_ETIMEDOUT:
		return "connection timed out";
	case SF_ECONNABORTED:
		return "connection aborted";
	case SF_ENOTCONN:
		return "not connected";
	case SF_EISCONN:
		return "already connected";
	case SF_EPIPE:
		return "sending side shut down";
	case SF_EINPROGRESS:
		return "connection in progress";
	case SF_EALREADY:
		return "operation already in progress";
	case SF_EUNREACH:
		return "destination unreachable";
	case SF_EADDRNOTAVAIL:
		return "address not available";
	case SF_ENOTSUP:
		return "operation not supported";
	default:
		return "unknown error";
	}
}
