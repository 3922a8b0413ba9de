/* HTTP field values the server reads and writes (src/app/http_fields.c):
 * HTTP-dates in all three forms (RFC 9110 §5.6.7), single byte ranges and
 * what is ignored or unsatisfiable (RFC 9110 §14.1.2), If-None-Match lists
 * (RFC 9110 §13.1.2), and the media-type table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "app/http_int.h"

static void dates(void **state)
{
	(void)state;
	char buf[SF_HTTP_DATE_LEN];
	assert_int_equal(sf_http_date(buf, 784111777), 29);
	assert_string_equal(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	assert_int_equal(sf_http_date(buf, 0), 29);
	assert_string_equal(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	int64_t t = 0;
	assert_true(sf_http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &t));
	assert_int_equal(t, 784111777);
	t = 0;
	assert_true(sf_http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", &t));
	assert_int_equal(t, 784111777);
	t = 0;
	assert_true(sf_http_parse_date("Sun Nov  6 08:49:37 1994", &t));
	assert_int_equal(t, 784111777);
	assert_false(sf_http_parse_date("yesterday", &t));
	assert_false(sf_http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT junk", &t));
	assert_false(sf_http_parse_date("", &t));
}

static void ranges(void **state)
{
	(void)state;
	uint64_t a = 99, b = 99;
	assert_int_equal(sf_http_parse_range("bytes=0-9", 100, &a, &b), 1);
	assert_int_equal(a, 0);
	assert_int_equal(b, 9);
	assert_int_equal(sf_http_parse_range("bytes=90-", 100, &a, &b), 1);
	assert_int_equal(a, 90);
	assert_int_equal(b, 99);
	assert_int_equal(sf_http_parse_range("bytes=90-500", 100, &a, &b), 1); /* clipped */
	assert_int_equal(b, 99);
	assert_int_equal(sf_http_parse_range("bytes=-10", 100, &a, &b), 1); /* suffix */
	assert_int_equal(a, 90);
	assert_int_equal(b, 99);
	assert_int_equal(sf_http_parse_range("bytes=-500", 100, &a, &b), 1);
	assert_int_equal(a, 0);
	assert_int_equal(sf_http_parse_range("BYTES = 5-5 ", 100, &a, &b), 0); /* OWS before '=' */
	assert_int_equal(sf_http_parse_range("Bytes=5-5", 100, &a, &b), 1);
	assert_int_equal(a, 5);
	assert_int_equal(b, 5);
	/* unsatisfiable: 416 */
	assert_int_equal(sf_http_parse_range("bytes=100-", 100, &a, &b), -1);
	assert_int_equal(sf_http_parse_range("bytes=-0", 100, &a, &b), -1);
	assert_int_equal(sf_http_parse_range("bytes=0-", 0, &a, &b), -1);
	/* ignored: the whole representation is sent */
	assert_int_equal(sf_http_parse_range("bytes=0-1,5-6", 100, &a, &b), 0);
	assert_int_equal(sf_http_parse_range("items=0-1", 100, &a, &b), 0);
	assert_int_equal(sf_http_parse_range("bytes=9-1", 100, &a, &b), 0);
	assert_int_equal(sf_http_parse_range("bytes=-", 100, &a, &b), 0);
	assert_int_equal(sf_http_parse_range("bytes=x-1", 100, &a, &b), 0);
	assert_int_equal(sf_http_parse_range("bytes=99999999999999999999-", 100, &a, &b), 0);
}

static void etags(void **state)
{
	(void)state;
	assert_true(sf_http_etag_match("\"a-1\"", "\"a-1\""));
	assert_true(sf_http_etag_match("\"x\", W/\"a-1\"", "\"a-1\"")); /* weak comparison */
	assert_true(sf_http_etag_match("*", "\"a-1\""));
	assert_false(sf_http_etag_match("\"a-2\"", "\"a-1\""));
	assert_false(sf_http_etag_match("\"a-1", "\"a-1\""));
	assert_false(sf_http_etag_match("a-1", "\"a-1\""));
	assert_false(sf_http_etag_match("", "\"a-1\""));
}

static void media_types(void **state)
{
	(void)state;
	const char *want[][2] = {
	        {"/a.pdf", "application/pdf"},
	        {"/a.xml", "application/xml"},
	        {"/v.MP4", "video/mp4"},
	        {"/i.webp", "image/webp"},
	        {"/f.woff2", "font/woff2"},
	        {"/z.zip", "application/zip"},
	        {"/s.mp3", "audio/mpeg"},
	        {"/m.wasm", "application/wasm"},
	        {"/x.svg", "image/svg+xml"},
	        {"/j.json", "application/json"},
	        {"/noext", "application/octet-stream"},
	        {"/.hidden", "application/octet-stream"},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
		assert_string_equal(sf_http_mime_type(want[i][0]), want[i][1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(dates),
	        cmocka_unit_test(ranges),
	        cmocka_unit_test(etags),
	        cmocka_unit_test(media_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
