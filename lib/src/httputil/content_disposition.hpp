// The Content-Disposition header of a multipart/form-data part (RFC 7578 4.2, RFC 6266).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cortado::detail {

struct FormDisposition {
  std::string name;
  std::optional<std::string> filename;
};

// Parses `form-data; name="field"; filename="a.txt"`. Throws HTTPInputError if the type is not
// form-data, a parameter comes twice, the name is missing or empty, or a filename*= / name*=
// value is malformed or in a charset other than UTF-8 / ISO-8859-1.
FormDisposition parse_form_disposition(std::string_view value);

}  // namespace cortado::detail
