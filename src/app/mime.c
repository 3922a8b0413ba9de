/* Content-Type by file extension for the HTTP server's static files
 * (RFC 9110 §8.3). A fixed table of what browsers display or play
 * (pages, scripts, styles, images, fonts, audio, video, PDF, WebAssembly)
 * and common downloads (archives, captures), with the IANA names; anything else
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
        /* documents and code a browser shows */
        {"html", "text/html; charset=utf-8"},
        {"htm", "text/html; charset=utf-8"},
        {"xhtml", "application/xhtml+xml"},
        {"css", "text/css; charset=utf-8"},
        {"js", "text/javascript; charset=utf-8"},
        {"mjs", "text/javascript; charset=utf-8"},
        {"json", "application/json"},
        {"map", "application/json"},
        {"webmanifest", "application/manifest+json"},
        {"xml", "application/xml"},
        {"rss", "application/rss+xml"},
        {"atom", "application/atom+xml"},
        {"txt", "text/plain; charset=utf-8"},
        {"text", "text/plain; charset=utf-8"},
        {"log", "text/plain; charset=utf-8"},
        {"md", "text/markdown; charset=utf-8"},
        {"csv", "text/csv; charset=utf-8"},
        {"pdf", "application/pdf"},
        {"wasm", "application/wasm"},
        /* images */
        {"svg", "image/svg+xml"},
        {"png", "image/png"},
        {"jpg", "image/jpeg"},
        {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},
        {"webp", "image/webp"},
        {"avif", "image/avif"},
        {"bmp", "image/bmp"},
        {"ico", "image/x-icon"},
        /* fonts */
        {"woff", "font/woff"},
        {"woff2", "font/woff2"},
        {"ttf", "font/ttf"},
        {"otf", "font/otf"},
        /* audio and video */
        {"mp3", "audio/mpeg"},
        {"ogg", "audio/ogg"},
        {"oga", "audio/ogg"},
        {"opus", "audio/ogg"},
        {"wav", "audio/wav"},
        {"flac", "audio/flac"},
        {"m4a", "audio/mp4"},
        {"mp4", "video/mp4"},
        {"m4v", "video/mp4"},
        {"webm", "video/webm"},
        {"ogv", "video/ogg"},
        /* archives and captures (downloaded, not shown) */
        {"zip", "application/zip"},
        {"gz", "application/gzip"},
        {"tgz", "application/gzip"},
        {"tar", "application/x-tar"},
        {"xz", "application/x-xz"},
        {"zst", "application/zstd"},
        {"pcap", "application/vnd.tcpdump.pcap"},
        {"pcapng", "application/vnd.tcpdump.pcap"},
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
