// Byte <-> text encodings shared by the signing code, cookies and anything else that needs them:
// standard base64 (RFC 4648 section 4, '=' padded) and hexadecimal.
//
// The decoders are strict: they accept exactly the canonical text the encoders produce (hex also
// accepts upper case, as Python's binascii.a2b_hex does) and return nullopt for anything else,
// in one pass over the input and without throwing, so they are safe on bytes from the network.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cortado::detail {

// Standard alphabet ('+' and '/'), padded with '=' to a multiple of 4 characters.
std::string base64_encode(std::string_view bytes);

// Refuses: a length that is not a multiple of 4, characters outside the alphabet (whitespace
// included), '=' anywhere but the last one or two positions, and non-zero unused bits before
// the padding (so every byte string has exactly one accepted encoding).
std::optional<std::string> base64_decode(std::string_view text);

// Lower-case hex, two characters per byte.
std::string hex_encode(std::string_view bytes);
// Writes the 2 * bytes.size() hex digits to `out`; returns the end of what it wrote.
char* hex_encode_to(std::string_view bytes, char* out) noexcept;

// Even length, digits and a-f / A-F only.
std::optional<std::string> hex_decode(std::string_view text);

}  // namespace cortado::detail
