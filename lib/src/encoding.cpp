#include "cortado/detail/encoding.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace cortado::detail {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kHexDigits = "0123456789abcdef";
constexpr std::uint8_t kInvalid = 0xff;

// Character -> 6-bit value; kInvalid for everything else ('=' included: padding is handled
// separately, by position).
constexpr std::array<std::uint8_t, 256> make_base64_table() {
  std::array<std::uint8_t, 256> table{};
  table.fill(kInvalid);
  for (std::size_t i = 0; i < kBase64Alphabet.size(); ++i) {
    table[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<std::uint8_t>(i);
  }
  return table;
}
constexpr auto kBase64Table = make_base64_table();

constexpr std::array<std::uint8_t, 256> make_hex_table() {
  std::array<std::uint8_t, 256> table{};
  table.fill(kInvalid);
  for (int i = 0; i < 10; ++i) table['0' + i] = static_cast<std::uint8_t>(i);
  for (int i = 0; i < 6; ++i) {
    table['a' + i] = static_cast<std::uint8_t>(10 + i);
    table['A' + i] = static_cast<std::uint8_t>(10 + i);
  }
  return table;
}
constexpr auto kHexTable = make_hex_table();

std::uint8_t byte_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

// How many trailing '=' a base64 text of non-zero length has (0, 1 or 2 are valid).
std::size_t padding_of(std::string_view text) {
  std::size_t pad = 0;
  while (pad < text.size() && pad < 3 && text[text.size() - 1 - pad] == '=') ++pad;
  return pad;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group = (std::uint32_t{byte_at(bytes, i)} << 16) |
                                (std::uint32_t{byte_at(bytes, i + 1)} << 8) | byte_at(bytes, i + 2);
    out.push_back(kBase64Alphabet[(group >> 18) & 0x3f]);
    out.push_back(kBase64Alphabet[(group >> 12) & 0x3f]);
    out.push_back(kBase64Alphabet[(group >> 6) & 0x3f]);
    out.push_back(kBase64Alphabet[group & 0x3f]);
  }
  const std::size_t left = bytes.size() - i;
  if (left == 0) return out;
  std::uint32_t group = std::uint32_t{byte_at(bytes, i)} << 16;
  if (left == 2) group |= std::uint32_t{byte_at(bytes, i + 1)} << 8;
  out.push_back(kBase64Alphabet[(group >> 18) & 0x3f]);
  out.push_back(kBase64Alphabet[(group >> 12) & 0x3f]);
  out.push_back(left == 2 ? kBase64Alphabet[(group >> 6) & 0x3f] : '=');
  out.push_back('=');
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  const std::size_t pad = padding_of(text);
  if (pad > 2) return std::nullopt;
  const std::size_t data_chars = text.size() - pad;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  std::uint32_t bits = 0;
  int bit_count = 0;
  for (std::size_t i = 0; i < data_chars; ++i) {
    const std::uint8_t v = kBase64Table[byte_at(text, i)];
    if (v == kInvalid) return std::nullopt;
    bits = (bits << 6) | v;
    bit_count += 6;
    if (bit_count >= 8) {
      bit_count -= 8;
      out.push_back(static_cast<char>((bits >> bit_count) & 0xff));
    }
  }
  // The 2 or 4 bits left over before the padding carry no data; insisting that they are zero
  // makes the encoding unique.
  if ((bits & ((1u << bit_count) - 1)) != 0) return std::nullopt;
  return out;
}

std::string hex_encode(std::string_view bytes) {
  std::string out(bytes.size() * 2, '\0');
  hex_encode_to(bytes, out.data());
  return out;
}

// Both digits of a byte from one table entry: this runs for every ETag.
constexpr auto kHexPairs = [] {
  std::array<std::array<char, 2>, 256> pairs{};
  for (std::size_t b = 0; b < 256; ++b) pairs[b] = {kHexDigits[b >> 4], kHexDigits[b & 0x0f]};
  return pairs;
}();

char* hex_encode_to(std::string_view bytes, char* out) noexcept {
  for (const char c : bytes) {
    std::memcpy(out, kHexPairs[static_cast<unsigned char>(c)].data(), 2);
    out += 2;
  }
  return out;
}

std::optional<std::string> hex_decode(std::string_view text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const std::uint8_t high = kHexTable[byte_at(text, i)];
    const std::uint8_t low = kHexTable[byte_at(text, i + 1)];
    if (high == kInvalid || low == kInvalid) return std::nullopt;
    out.push_back(static_cast<char>((high << 4) | low));
  }
  return out;
}

}  // namespace cortado::detail
