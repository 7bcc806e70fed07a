// Escaping and unescaping for URLs, HTML/XML and JSON (Tornado's tornado.escape).
//
// Strings are bytes: std::string_view in, std::string out, no encoding is assumed unless a
// function says so. The *_append variants write into a caller's buffer so that a hot path can
// reuse one allocation.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace cortado {

// Percent-encodes every byte except ASCII letters, digits and "_.-~" (Python's
// urllib.parse.quote_plus when `plus`, quote otherwise). With `plus` a space becomes '+' and
// '/' is encoded (for query strings and form values); without it a space becomes "%20" and '/'
// stays (for URL paths). Hex digits are upper case.
std::string url_escape(std::string_view s, bool plus = true);
void url_escape_append(std::string_view s, std::string& out, bool plus = true);

// Decodes "%XX" sequences (either case) and, when `plus`, '+' as a space. A '%' not followed
// by two hex digits is kept as it is, as Python's unquote does. The result is raw bytes (what
// Tornado's url_unescape returns with encoding=None): it is not checked for UTF-8.
std::string url_unescape(std::string_view s, bool plus = true);
void url_unescape_append(std::string_view s, std::string& out, bool plus = true);

// Replaces & < > " ' by &amp; &lt; &gt; &quot; &#39; so the text is safe in HTML/XML element
// content and in quoted attribute values.
std::string xhtml_escape(std::string_view s);
void xhtml_escape_append(std::string_view s, std::string& out);

// Replaces "&name;" (the HTML 4 named entities, as Python's html.entities.name2codepoint),
// "&#NNN;" and "&#xHH;" by the character they name, UTF-8 encoded. Anything else, including
// an unknown name or a number that is not a Unicode scalar value, is left as it is.
std::string xhtml_unescape(std::string_view s);

// True if `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
// beyond U+10FFFF.
bool is_valid_utf8(std::string_view s) noexcept;

// `s` (UTF-8) as a JSON string literal, quotes included, safe inside an HTML <script> element:
// "</" is written "<\/" and every non-ASCII character as \uXXXX (Python's json.dumps with
// ensure_ascii, as Tornado's json_encode). Throws std::invalid_argument if `s` is not UTF-8.
std::string json_encode_string(std::string_view s);
void json_encode_string_append(std::string_view s, std::string& out);

// Serializes `value` compactly with the same escaping as json_encode_string (Tornado's
// json_encode). Throws nlohmann::json::type_error if a string in it is not UTF-8.
std::string json_encode(const nlohmann::json& value);

}  // namespace cortado
