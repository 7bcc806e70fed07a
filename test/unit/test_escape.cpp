// Expected values come from Tornado 6.2 on Python 3.11 (tornado.escape) for the same inputs.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "cortado/escape.hpp"

using namespace std::string_literals;
using cortado::url_escape;
using cortado::url_unescape;

TEST_CASE("url_escape with plus encodes like quote_plus") {
  CHECK(url_escape("") == "");
  CHECK(url_escape("abc") == "abc");
  CHECK(url_escape("a b") == "a+b");
  CHECK(url_escape("a+b") == "a%2Bb");
  CHECK(url_escape("/path/to?x=1&y=2") == "%2Fpath%2Fto%3Fx%3D1%26y%3D2");
  CHECK(url_escape("~_.-") == "~_.-");
  CHECK(url_escape("\xc3\xa9") == "%C3%A9");
  CHECK(url_escape("\x00\x7f"s) == "%00%7F");
  CHECK(url_escape("100%") == "100%25");
}

TEST_CASE("url_escape without plus encodes like quote, keeping '/'") {
  CHECK(url_escape("a b", false) == "a%20b");
  CHECK(url_escape("a+b", false) == "a%2Bb");
  CHECK(url_escape("/path/to?x=1&y=2", false) == "/path/to%3Fx%3D1%26y%3D2");
}

TEST_CASE("url_escape_append appends to what the buffer holds") {
  std::string out = "q=";
  cortado::url_escape_append("a b", out);
  CHECK(out == "q=a+b");
}

TEST_CASE("url_unescape decodes escapes of either case and '+' when asked") {
  CHECK(url_unescape("%41%4a%4A") == "AJJ");
  CHECK(url_unescape("a+b") == "a b");
  CHECK(url_unescape("a+b", false) == "a+b");
  CHECK(url_unescape("+%2B+") == " + ");
  CHECK(url_unescape("+%2B+", false) == "+++");
  CHECK(url_unescape("%E2%82%AC") == "\xe2\x82\xac");
  CHECK(url_unescape("%00") == "\0"s);
}

TEST_CASE("url_unescape keeps invalid escapes as they are, like Python's unquote") {
  CHECK(url_unescape("%") == "%");
  CHECK(url_unescape("%2") == "%2");
  CHECK(url_unescape("%2g") == "%2g");
  CHECK(url_unescape("%%41") == "%A");
  CHECK(url_unescape("%zz%41") == "%zzA");
  CHECK(url_unescape("abc%") == "abc%");
}

TEST_CASE("url_unescape inverts url_escape for every byte value") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  CHECK(url_unescape(url_escape(all)) == all);
  CHECK(url_unescape(url_escape(all, false), false) == all);
}

TEST_CASE("xhtml_escape escapes the five characters") {
  CHECK(cortado::xhtml_escape("<a href=\"x\">&'</a>") ==
        "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  CHECK(cortado::xhtml_escape("plain \xc3\xa9") == "plain \xc3\xa9");
}

TEST_CASE("xhtml_unescape decodes named and numeric references") {
  using cortado::xhtml_unescape;
  CHECK(xhtml_unescape("&amp;&lt;&gt;&quot;&#39;") == "&<>\"'");
  CHECK(xhtml_unescape("&#x41;&#X41;&#65;&#0065;") == "AAAA");
  CHECK(xhtml_unescape("&euro;&hellip;&Aacute;&aacute;") ==
        "\xe2\x82\xac\xe2\x80\xa6\xc3\x81\xc3\xa1");
  CHECK(xhtml_unescape("&nbsp;") == "\xc2\xa0");
  CHECK(xhtml_unescape("&#1114111;") == "\xf4\x8f\xbf\xbf");
}

TEST_CASE("xhtml_unescape leaves what it cannot decode") {
  using cortado::xhtml_unescape;
  CHECK(xhtml_unescape("&#x110000;") == "&#x110000;");  // beyond Unicode
  CHECK(xhtml_unescape("&#xd800;") == "&#xd800;");      // a surrogate cannot be UTF-8
  CHECK(xhtml_unescape("&#99999999999999999999999;") == "&#99999999999999999999999;");
  CHECK(xhtml_unescape("&apos;") == "&apos;");  // not an HTML 4 entity (Tornado agrees)
  CHECK(xhtml_unescape("&AMP;") == "&AMP;");    // names are case-sensitive
  CHECK(xhtml_unescape("a &foo; b") == "a &foo; b");
  CHECK(xhtml_unescape("&lt") == "&lt");
  CHECK(xhtml_unescape("&#;&#x;&;") == "&#;&#x;&;");
  CHECK(xhtml_unescape("&amp;amp;") == "&amp;");
  CHECK(xhtml_unescape("&&amp;") == "&&");
  CHECK(xhtml_unescape("trailing &") == "trailing &");
}

TEST_CASE("xhtml_unescape inverts xhtml_escape") {
  const std::string text = "&lt; <b>\"it's\"</b> &amp;amp; &#65; \xc3\xa9";
  CHECK(cortado::xhtml_unescape(cortado::xhtml_escape(text)) == text);
}

TEST_CASE("is_valid_utf8 accepts RFC 3629 UTF-8 only") {
  using cortado::is_valid_utf8;
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("ascii"));
  CHECK(is_valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));        // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  CHECK_FALSE(is_valid_utf8("\xc3"));              // truncated
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // truncated
  CHECK_FALSE(is_valid_utf8("\x80"));              // lone continuation
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("a\xc3(b"));
}

TEST_CASE("json_encode_string writes what Tornado's json_encode writes for a string") {
  // json_encode("a</b>\t\x01\u00ff\u20ac\U0001f600'")
  CHECK(cortado::json_encode_string("a</b>\t\x01\xc3\xbf\xe2\x82\xac\xf0\x9f\x98\x80'") ==
        R"("a<\/b>\t\u0001\u00ff\u20ac\ud83d\ude00'")");
  CHECK(cortado::json_encode_string("q\"b\\s\n\r\b\f\x7f") == R"("q\"b\\s\n\r\b\f\u007f")");
  CHECK(cortado::json_encode_string("") == R"("")");
  CHECK(cortado::json_encode_string("<<//") == R"("<<\//")");
  CHECK(cortado::json_encode_string("\xe2\x80\xa8") == R"("\u2028")");
}

TEST_CASE("json_encode_string refuses text that is not UTF-8") {
  CHECK_THROWS_AS(cortado::json_encode_string("\xff"), std::invalid_argument);
  CHECK_THROWS_AS(cortado::json_encode_string("ok\xed\xa0\x80"), std::invalid_argument);
}

TEST_CASE("json_encode escapes </ in every string of a value") {
  const nlohmann::json value = {{"k", {"</script>", 1, nullptr, true}}};
  CHECK(cortado::json_encode(value) == R"({"k":["<\/script>",1,null,true]})");
  CHECK(cortado::json_encode("\xc3\xa9</") == R"("\u00e9<\/")");
  CHECK(nlohmann::json::parse(cortado::json_encode(value)) == value);
}
