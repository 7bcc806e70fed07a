// Query strings and x-www-form-urlencoded bodies (Tornado's parse_qs_bytes).
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace cortado {

// Request arguments: name -> every value given for it, in the order they came. Names are
// sorted (std::map), and can be looked up with a std::string_view.
using Arguments = std::map<std::string, std::vector<std::string>, std::less<>>;

// Tornado's default cap on the fields of one query string or form body.
inline constexpr std::size_t kDefaultMaxFields = 1000;

// Parses "a=1&b=x+y&a=%41" into `out`, appending to what it already holds (a -> [1, A],
// b -> ["x y"]), as Python's urllib.parse.parse_qs does it:
//  - fields are separated by '&' only (';' is data, as in Python since 3.10);
//  - empty fields are skipped; a field without '=' is a name with an empty value;
//  - names and values are decoded with url_unescape (plus as space, invalid %-escapes kept),
//    and stay bytes: no encoding is assumed or checked;
//  - fields whose value is empty are dropped unless `keep_blank_values`.
// Throws HTTPInputError if there are more than `max_fields` non-empty fields; `out` is then
// left untouched. Linear in qs.size().
void parse_query(std::string_view qs, Arguments& out, bool keep_blank_values = true,
                 std::size_t max_fields = kDefaultMaxFields);

}  // namespace cortado
