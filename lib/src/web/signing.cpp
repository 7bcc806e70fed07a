#include "cortado/web/signing.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <charconv>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "cortado/detail/encoding.hpp"

namespace cortado::web {
namespace {

constexpr std::size_t kSignatureHexSize = 64;  // HMAC-SHA256, hex
constexpr std::size_t kXsrfMaskSize = 4;
constexpr std::size_t kXsrfRawTokenSize = 16;
constexpr double kSecondsPerDay = 86400;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// "0" or [1-9][0-9]*, with a leading '-' too when `allow_negative` ("-0" is not canonical).
// Parsed into Int, refusing values that do not fit.
template <class Int>
std::optional<Int> parse_canonical_integer(std::string_view text, bool allow_negative) {
  std::string_view digits = text;
  if (allow_negative && !digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
  }
  const bool negative = digits.size() != text.size();
  if (digits.front() == '0' && (digits.size() > 1 || negative)) return std::nullopt;
  Int value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Takes one "<length>:<bytes>|" field off the front of `rest`. The length is checked against
// what is left while its digits are read, so a huge length costs a few steps and cannot overflow.
std::optional<std::string_view> take_field(std::string_view& rest) {
  std::size_t i = 0;
  std::size_t length = 0;
  while (i < rest.size() && is_digit(rest[i])) {
    if (length > rest.size() / 10) return std::nullopt;  // so length * 10 cannot overflow
    length = length * 10 + static_cast<std::size_t>(rest[i] - '0');
    if (length > rest.size()) return std::nullopt;
    ++i;
  }
  if (i == 0 || (i > 1 && rest[0] == '0')) return std::nullopt;  // no digits, or a leading zero
  if (i >= rest.size() || rest[i] != ':') return std::nullopt;
  const std::size_t start = i + 1;
  if (rest.size() - start <= length || rest[start + length] != '|') return std::nullopt;
  const std::string_view field = rest.substr(start, length);
  rest.remove_prefix(start + length + 1);
  return field;
}

struct SignedFields {
  std::string_view key_version;
  std::string_view timestamp;
  std::string_view name;
  std::string_view value;
  std::string_view signature;
  std::string_view signed_part;  // everything the signature covers
};

std::optional<SignedFields> split_signed_value(std::string_view text) {
  if (!text.starts_with("2|")) return std::nullopt;
  std::string_view rest = text.substr(2);
  const auto key_version = take_field(rest);
  if (!key_version) return std::nullopt;
  const auto timestamp = take_field(rest);
  if (!timestamp) return std::nullopt;
  const auto name = take_field(rest);
  if (!name) return std::nullopt;
  const auto value = take_field(rest);
  if (!value || rest.size() != kSignatureHexSize) return std::nullopt;
  return SignedFields{*key_version, *timestamp, *name,
                      *value,       rest,       text.substr(0, text.size() - rest.size())};
}

struct MacContextFree {
  void operator()(EVP_MAC_CTX* context) const { EVP_MAC_CTX_free(context); }
};
struct MacFree {
  void operator()(EVP_MAC* mac) const { EVP_MAC_free(mac); }
};
using MacContext = std::unique_ptr<EVP_MAC_CTX, MacContextFree>;

// An HMAC-SHA256 context without a key; nullptr if OpenSSL cannot provide one.
MacContext new_hmac_sha256_context() {
  const std::unique_ptr<EVP_MAC, MacFree> mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac) return nullptr;
  MacContext context(EVP_MAC_CTX_new(mac.get()));  // holds its own reference to `mac`
  if (!context) return nullptr;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (EVP_MAC_CTX_set_params(context.get(), params) != 1) return nullptr;
  return context;
}

// OpenSSL 3's one-shot HMAC() looks the algorithms up by name on every call, which costs several
// times the hashing of a cookie; instead each thread sets one context up once and re-keys it.
EVP_MAC_CTX* thread_hmac_sha256_context() {
  thread_local const MacContext context = new_hmac_sha256_context();
  return context.get();
}

// Lower-case hex HMAC-SHA256, as Python's hmac.hexdigest(); nullopt if OpenSSL fails.
std::optional<std::string> hmac_sha256_hex(std::string_view key, std::string_view data) {
  // An empty key would tell EVP_MAC_init to keep the previous call's key; callers refuse empty
  // secrets before they get here, and this makes sure of it.
  EVP_MAC_CTX* context = thread_hmac_sha256_context();
  if (key.empty() || context == nullptr) return std::nullopt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  std::size_t digest_size = 0;
  if (EVP_MAC_init(context, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   nullptr) != 1 ||
      EVP_MAC_update(context, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1 ||
      EVP_MAC_final(context, digest, &digest_size, sizeof digest) != 1) {
    return std::nullopt;
  }
  return detail::hex_encode({reinterpret_cast<const char*>(digest), digest_size});
}

// The secret that signs (or verifies) values of `key_version`; nullopt when there is none.
std::optional<std::string_view> secret_for(const SigningKeys& keys, int key_version) {
  if (keys.versions.empty()) {
    if (keys.secret.empty()) return std::nullopt;
    return keys.secret;
  }
  const auto found = keys.versions.find(key_version);
  if (found == keys.versions.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

void append_field(std::string& out, std::string_view field) {
  out.append(std::to_string(field.size())).append(":").append(field).append("|");
}

bool expired(std::int64_t timestamp, double max_age_days, std::int64_t now_seconds) {
  // The same floating-point comparison as Tornado's, so the two agree on the boundary.
  const double oldest = static_cast<double>(now_seconds) - max_age_days * kSecondsPerDay;
  return std::isnan(max_age_days) || static_cast<double>(timestamp) < oldest;
}

std::string random_bytes(std::size_t size) {
  std::string out(size, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(size)) != 1) {
    throw std::runtime_error("RAND_bytes failed: no randomness for XSRF tokens");
  }
  return out;
}

// Tornado's _websocket_mask: XOR with the 4-byte mask repeated. Its own inverse.
std::string apply_mask(std::string_view mask, std::string_view data) {
  std::string out(data);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] ^= mask[i % kXsrfMaskSize];
  return out;
}

// The version number of "<version>|..." (a decimal without leading zero, as Tornado's
// _signed_value_version_re), and what follows the '|'; nullopt when there is no such prefix.
struct VersionPrefix {
  std::string_view version;
  std::string_view rest;
};
std::optional<VersionPrefix> version_prefix(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() && is_digit(text[i])) ++i;
  if (i == 0 || text[0] == '0' || i == text.size() || text[i] != '|') return std::nullopt;
  return VersionPrefix{text.substr(0, i), text.substr(i + 1)};
}

std::optional<XsrfToken> decode_xsrf_v2(std::string_view rest) {
  const std::size_t first = rest.find('|');
  if (first == std::string_view::npos) return std::nullopt;
  const std::size_t second = rest.find('|', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  const std::string_view timestamp_text = rest.substr(second + 1);
  const auto mask = detail::hex_decode(rest.substr(0, first));
  const auto masked = detail::hex_decode(rest.substr(first + 1, second - first - 1));
  const auto timestamp = parse_canonical_integer<std::int64_t>(timestamp_text, true);
  if (!mask || mask->size() != kXsrfMaskSize || !masked || masked->empty() || !timestamp) {
    return std::nullopt;  // also refuses a fourth '|': it is not a digit of the timestamp
  }
  return XsrfToken{2, apply_mask(*mask, *masked), *timestamp};
}

}  // namespace

std::string create_signed_value(const SigningKeys& keys, std::string_view name,
                                std::string_view value, std::int64_t now_seconds) {
  if (!keys.versions.empty() && !keys.key_version) {
    throw std::invalid_argument("signing with versioned secrets needs a key_version");
  }
  const int key_version = keys.key_version.value_or(0);
  const auto secret = secret_for(keys, key_version);
  if (!secret) throw std::invalid_argument("no (non-empty) secret for the signing key version");

  std::string out = "2|";
  append_field(out, std::to_string(key_version));
  append_field(out, std::to_string(now_seconds));
  append_field(out, name);
  append_field(out, detail::base64_encode(value));
  const auto signature = hmac_sha256_hex(*secret, out);
  if (!signature) throw std::runtime_error("HMAC-SHA256 failed");
  out.append(*signature);
  return out;
}

std::optional<std::string> decode_signed_value(const SigningKeys& keys, std::string_view name,
                                               std::string_view signed_value, double max_age_days,
                                               std::int64_t now_seconds) {
  const auto fields = split_signed_value(signed_value);
  if (!fields) return std::nullopt;
  const auto key_version = parse_canonical_integer<int>(fields->key_version, true);
  if (!key_version) return std::nullopt;
  const auto secret = secret_for(keys, *key_version);
  if (!secret) return std::nullopt;
  const auto expected = hmac_sha256_hex(*secret, fields->signed_part);
  // Both are 64 bytes here (split_signed_value checked the received one's size).
  if (!expected || !tokens_equal(*expected, fields->signature)) return std::nullopt;
  if (fields->name != name) return std::nullopt;
  const auto timestamp = parse_canonical_integer<std::int64_t>(fields->timestamp, false);
  if (!timestamp || expired(*timestamp, max_age_days, now_seconds)) return std::nullopt;
  return detail::base64_decode(fields->value);
}

std::optional<int> signed_value_key_version(std::string_view signed_value) {
  const auto fields = split_signed_value(signed_value);
  if (!fields) return std::nullopt;
  return parse_canonical_integer<int>(fields->key_version, true);
}

std::string encode_xsrf_token(std::string_view raw_token, std::int64_t timestamp) {
  const std::string mask = random_bytes(kXsrfMaskSize);
  std::string out = "2|";
  out.append(detail::hex_encode(mask)).append("|");
  out.append(detail::hex_encode(apply_mask(mask, raw_token))).append("|");
  out.append(std::to_string(timestamp));
  return out;
}

std::optional<XsrfToken> decode_xsrf_token(std::string_view cookie_or_argument) {
  if (const auto prefix = version_prefix(cookie_or_argument)) {
    if (prefix->version != "2") return std::nullopt;
    return decode_xsrf_v2(prefix->rest);
  }
  if (cookie_or_argument.empty()) return std::nullopt;
  auto token = detail::hex_decode(cookie_or_argument);
  if (!token) token.emplace(cookie_or_argument);
  if (token->empty()) return std::nullopt;
  return XsrfToken{1, std::move(*token), 0};
}

std::string new_xsrf_raw_token() {
  return random_bytes(kXsrfRawTokenSize);
}

bool tokens_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cortado::web
