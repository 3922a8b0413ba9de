/* Content-Type by file extension for the HTTP server's static files
 * (RFC 9110 §8.3). A short fixed table: the types a synfin demo serves
 * (pages, scripts, images, ladders as SVG, captures as pcap); anything else
 * is sent as application/octet-stream (RFC 9110 §8.3, RFC 2046 §4.5.1).
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "synfin/http.h"

static const struct {
	const char *ext;
	const char *type;
} mime_table[] = {
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"ico", "image/x-icon"},
        {"txt", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"pcap", "application/vnd.tcpdump.pcap"},
        {"wasm", "application/wasm"},
};

const char *sf_http_mime_type(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	const char *base = slash ? slash + 1 : path;
	const char *dot = base ? strrchr(base, '.') : NULL;
	if (dot && dot != base) {
		for (size_t i = 0; i < sizeof mime_table / sizeof mime_table[0]; i++)
			if (strcasecmp(dot + 1, mime_table[i].ext) == 0)
				return mime_table[i].type;
	}
	return "application/octet-stream";
}
