// Parameters of Content-Type / Content-Disposition style header values:
//   type *( ";" name "=" value ), value a token or a quoted string.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cortado::detail {

struct HeaderParam {
  std::string_view name;   // trimmed, case as sent
  std::string_view value;  // trimmed, still quoted if it was a quoted string
};

// Returns the type (trimmed) and appends each "name=value" parameter to `params`. A ';' inside
// a quoted string does not end the parameter. Parameters without '=' are skipped, as Python's
// cgi-style parsers (Tornado's _parse_header) do. Linear in header.size().
std::string_view split_header_params(std::string_view header, std::vector<HeaderParam>& params);

// Appends `raw` without its surrounding quotes, undoing \\ and \" (as email.utils.unquote;
// other backslashes stay, as old browsers send Windows paths unescaped). A value that is not
// a complete quoted string is appended as it is.
void append_unquoted(std::string_view raw, std::string& out);

}  // namespace cortado::detail
