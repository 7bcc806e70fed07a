// Signed values and XSRF tokens arrive in cookies, form arguments and headers: arbitrary bytes
// must never crash the decoders, and whatever is signed (or encoded) must decode to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cortado/detail/encoding.hpp"
#include "cortado/web/signing.hpp"

namespace {

using namespace cortado::web;
namespace detail = cortado::detail;

// The seeds in corpus/signed_value/ were signed with these keys, at this time, so that mutations
// start from values that pass the signature check.
constexpr std::int64_t kNow = 1300000000;
const SigningKeys kSingle{.secret = "secret"};
const SigningKeys kVersioned{.versions = {{1, "one"}, {2, "two"}}, .key_version = 2};

void require(bool condition) {
  if (!condition) std::abort();
}

// Arbitrary input through every decoder.
void decode_everything(std::string_view input) {
  for (const auto& [keys, name] :
       {std::pair{&kSingle, "name"}, std::pair{&kVersioned, "session"}}) {
    const auto value = decode_signed_value(*keys, name, input, 1e6, kNow);
    // Whatever is accepted is a well-formed version 2 value.
    if (value) require(signed_value_key_version(input).has_value());
  }
  (void)signed_value_key_version(input);
  if (const auto token = decode_xsrf_token(input)) {
    require(!token->token.empty() && (token->version == 1 || token->version == 2));
  }
  // Strict decoders accept only what the encoders write.
  if (const auto bytes = detail::base64_decode(input))
    require(detail::base64_encode(*bytes) == input);
  if (const auto bytes = detail::hex_decode(input)) require(bytes->size() * 2 == input.size());
}

// The input split into a name and a value, signed with each kind of keys and read back.
void round_trip(std::string_view input) {
  const std::size_t name_size = input.empty() ? 0 : static_cast<unsigned char>(input[0]) % 16;
  const std::string_view rest = input.substr(input.empty() ? 0 : 1);
  const std::string_view name = rest.substr(0, name_size);
  const std::string_view value = rest.substr(name.size());
  for (const SigningKeys* keys : {&kSingle, &kVersioned}) {
    const std::string signed_value = create_signed_value(*keys, name, value, kNow);
    require(decode_signed_value(*keys, name, signed_value, 31, kNow) == value);
    require(!decode_signed_value(*keys, std::string(name).append("x"), signed_value, 31, kNow));
  }
  if (!value.empty()) {
    const auto token = decode_xsrf_token(encode_xsrf_token(value, kNow));
    require(token && token->version == 2 && token->token == value && token->timestamp == kNow);
  }
  require(detail::base64_decode(detail::base64_encode(input)) == input);
  require(detail::hex_decode(detail::hex_encode(input)) == input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  decode_everything(input);
  round_trip(input);
  return 0;
}
