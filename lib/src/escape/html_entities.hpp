// Lookup of HTML 4 named character references for xhtml_unescape.
#pragma once

#include <string_view>

namespace cortado::detail {

// The code point `name` (without '&' and ';', case-sensitive) stands for, or 0 if unknown.
char32_t html_entity(std::string_view name) noexcept;

}  // namespace cortado::detail
