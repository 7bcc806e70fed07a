// Standard reason phrases (RFC 9110, section 15).
#pragma once

#include <string_view>

namespace cortado {

// "Not Found" for 404; "Unknown" for codes without a registered phrase.
std::string_view reason_phrase(int code) noexcept;

}  // namespace cortado
