/* Field values the HTTP server reads and writes, kept apart from the
 * session so each rule has one home and a unit test of its own
 * (tests/unit/test_http_fields.c): HTTP-dates (RFC 9110 §5.6.7), single byte
 * ranges (RFC 9110 §14.1.2) and entity-tag lists (RFC 9110 §8.8.3, §13.1.2).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app/http_int.h"

size_t sf_http_date(char out[SF_HTTP_DATE_LEN], int64_t t)
{
	/* RFC 9110 §5.6.7: IMF-fixdate, always in GMT, C-locale names. */
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		out[0] = '\0';
		return 0;
	}
	int n = snprintf(out, SF_HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	                 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900,
	                 tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n > 0 && n < SF_HTTP_DATE_LEN ? (size_t)n : 0;
}

bool sf_http_parse_date(const char *s, int64_t *out)
{
	/* RFC 9110 §5.6.7: recipients accept IMF-fixdate, the obsolete RFC 850
	 * form and asctime's. Two-digit RFC 850 years: strptime's %y maps
	 * 69..99 to 19xx and 00..68 to 20xx. */
	static const char *const forms[] = {"%a, %d %b %Y %H:%M:%S GMT",
	                                    "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		struct tm tm;
		memset(&tm, 0, sizeof tm);
		const char *end = strptime(s, forms[i], &tm);
		if (!end)
			continue;
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end)
			continue;
		*out = (int64_t)timegm(&tm);
		return true;
	}
	return false;
}

/* Reads a run of digits as a uint64; false on none or overflow. */
static bool read_u64(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = x;
	return true;
}

int sf_http_parse_range(const char *v, uint64_t size, uint64_t *first, uint64_t *last)
{
	/* RFC 9110 §14.1.2: ranges-specifier = range-unit "=" range-set. We
	 * serve one range; a set of several, another unit or a syntax error
	 * are ignored (the whole representation is sent, §14.2 allows it). */
	while (*v == ' ' || *v == '\t')
		v++;
	if (strncasecmp(v, "bytes=", 6) != 0)
		return 0;
	const char *p = v + 6;
	while (*p == ' ' || *p == '\t')
		p++;
	uint64_t a = 0, b = 0;
	bool has_a = read_u64(&p, &a), has_b;
	if (*p++ != '-')
		return 0;
	has_b = read_u64(&p, &b);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return 0; /* a list, or junk */
	if (!has_a && !has_b)
		return 0;
	if (!has_a) {
		/* suffix-range: the last b bytes (§14.1.3). */
		if (b == 0 || size == 0)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (has_b && b < a)
		return 0; /* invalid range-spec: ignored */
	if (a >= size)
		return -1; /* §14.1.2: first-pos beyond the representation */
	*first = a;
	*last = has_b && b < size - 1 ? b : size - 1;
	return 1;
}

bool sf_http_etag_match(const char *list, const char *etag)
{
	/* RFC 9110 §13.1.2: If-None-Match uses the weak comparison: "W/" is
	 * ignored on both sides; "*" matches any current representation. */
	if (!strncmp(etag, "W/", 2))
		etag += 2;
	size_t el = strlen(etag);
	const char *p = list;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			return false;
		if (*p == '*')
			return true;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (*p != '"')
			return false; /* malformed list: no match */
		const char *q = strchr(p + 1, '"');
		if (!q)
			return false;
		size_t l = (size_t)(q + 1 - p);
		if (l == el && !memcmp(p, etag, el))
			return true;
		p = q + 1;
	}
}
