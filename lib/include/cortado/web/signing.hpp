// Signed values and XSRF tokens, byte-compatible with Tornado (tornado.web.create_signed_value,
// decode_signed_value, RequestHandler.xsrf_token / _decode_xsrf_token), so that a cortado server
// and a Tornado server can share cookies during a migration. Pure functions: the caller passes
// the clock; only the XSRF mask and raw token draw on the system's random generator.
//
// Every decoder takes bytes from the network: its time and memory are linear in the input (no
// backtracking, no recursion, no allocation sized by a length field), it never throws, and it
// answers nullopt for anything it does not accept.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cortado::web {

// The key material of Settings::cookie_secret / cookie_secrets / key_version.
//   - One secret: `secret`, with `versions` empty.
//   - Key rotation: `versions` maps each key version to its secret (`secret` is then ignored);
//     new values are signed with versions.at(*key_version), and a value verifies with the
//     secret of the version recorded inside it, as long as that version is still listed.
// An empty secret never verifies anything (a missing setting must not accept values that were
// signed with the empty key).
struct SigningKeys {
  // Default member initializers let callers write SigningKeys{.secret = ...} without warnings.
  std::string secret{};
  std::map<int, std::string> versions{};
  std::optional<int> key_version{};
};

// Tornado's default for max_age_days (get_secure_cookie).
inline constexpr double kDefaultSignedValueMaxAgeDays = 31;

// Tornado's signed value format version 2:
//   2|<n>:<key version>|<n>:<timestamp>|<n>:<name>|<n>:<base64(value)>|<hex HMAC-SHA256>
// where each <n> is the decimal length of the field after it and the HMAC covers everything
// before it, the last '|' included. The key version field is key_version, or 0 when unset.
// `name` is expected to be ASCII, as Tornado expects (Tornado writes the length of a non-ASCII
// name in characters rather than bytes, and then cannot read its own value back).
// Throws std::invalid_argument for keys that cannot sign: `versions` without a key_version
// that it lists, or an empty secret.
std::string create_signed_value(const SigningKeys& keys, std::string_view name,
                                std::string_view value, std::int64_t now_seconds);

// The value inside `signed_value` if it is a well-formed version 2 value for `name`, signed with
// the key its key version selects (with a single secret: that secret, whatever version is
// recorded, as in Tornado), and signed no more than max_age_days before now_seconds (as in
// Tornado, timestamps in the future are not refused; a NaN max age accepts nothing).
// Version 1 values (Tornado before 3.0: HMAC-SHA1 without a version prefix) are refused.
// Stricter than Tornado where Tornado is lenient without reason: numbers must be canonical
// decimals (no '+', spaces or leading zeros, and only the key version may be negative; Tornado
// never writes otherwise) and the base64 must be canonical. The signature is compared in
// constant time.
std::optional<std::string> decode_signed_value(const SigningKeys& keys, std::string_view name,
                                               std::string_view signed_value, double max_age_days,
                                               std::int64_t now_seconds);

// The key version recorded in a well-formed version 2 value, without checking its signature
// (Tornado's get_signature_key_version: to re-sign values made with a retired key).
std::optional<int> signed_value_key_version(std::string_view signed_value);

struct XsrfToken {
  int version = 0;             // 1 or 2: the format it was read from
  std::string token;           // the raw token: random bytes, never empty
  std::int64_t timestamp = 0;  // when it was made; 0 for version 1, which does not record it
};

// Tornado's XSRF token version 2: "2|<hex mask>|<hex(token XOR mask)>|<timestamp>" with a fresh
// random 4-byte mask on every call, so that the token in a compressed page differs from response
// to response (the BREACH attack). Throws std::runtime_error if the system has no randomness.
std::string encode_xsrf_token(std::string_view raw_token, std::int64_t timestamp);

// Reads an _xsrf cookie, form argument or X-XSRFToken header, as Tornado does:
//   - "2|..." is unmasked (the mask must be 4 bytes; the timestamp a decimal integer);
//   - any other "<version>|..." prefix (a decimal without leading zero) is refused, as Tornado
//     refuses versions it does not know;
//   - anything else is version 1: the hex-decoded bytes if it is hex, else the bytes as they are.
// Fields must be exact: hex digits, and a decimal timestamp without sign '+', spaces or leading
// zeros (Tornado's int() would allow them; nothing writes them). Tornado's version regex also
// reads a "2|" value containing a line break as version 1; here it is refused.
// An empty token is refused in every version (Tornado turns it into a 403 later; refusing it here
// lets the caller issue a fresh token instead).
std::optional<XsrfToken> decode_xsrf_token(std::string_view cookie_or_argument);

// A fresh raw token: 16 random bytes (Tornado's os.urandom(16)). Throws std::runtime_error if the
// system has no randomness.
std::string new_xsrf_raw_token();

// Constant time in the contents (the length is not secret): for comparing raw XSRF tokens.
bool tokens_equal(std::string_view a, std::string_view b);

}  // namespace cortado::web
