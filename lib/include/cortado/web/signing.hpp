// Tornado-compatible signed values (version 2) and XSRF tokens.
// (Interface placeholder; the implementation lands with the signing branch.)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cortado::web {

struct SigningKeys {
  std::string secret;
  std::map<int, std::string> versions;
  std::optional<int> key_version;
};

std::string create_signed_value(const SigningKeys& keys, std::string_view name,
                                std::string_view value, std::int64_t now_seconds);
std::optional<std::string> decode_signed_value(const SigningKeys& keys, std::string_view name,
                                               std::string_view signed_value, double max_age_days,
                                               std::int64_t now_seconds);

struct XsrfToken {
  int version = 0;
  std::string token;
  std::int64_t timestamp = 0;
};
std::string encode_xsrf_token(std::string_view raw_token, std::int64_t timestamp);
std::optional<XsrfToken> decode_xsrf_token(std::string_view cookie_or_argument);
std::string new_xsrf_raw_token();
bool tokens_equal(std::string_view a, std::string_view b);

}  // namespace cortado::web
