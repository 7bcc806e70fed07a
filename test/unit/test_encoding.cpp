#include <doctest/doctest.h>

#include <string>

#include "cortado/detail/encoding.hpp"

using namespace cortado::detail;

TEST_CASE("base64 encodes the RFC 4648 test vectors and decodes them back") {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64_encode(plain) == encoded);
    CHECK(base64_decode(encoded) == plain);
  }
  // Every byte value, in every position of a 3-byte group.
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t skip = 0; skip < 3; ++skip) {
    const std::string bytes = all.substr(skip);
    CHECK(base64_decode(base64_encode(bytes)) == bytes);
  }
  CHECK(base64_encode("\xfb\xff") == "+/8=");
}

TEST_CASE("base64_decode refuses anything but the canonical encoding") {
  for (const char* refused : {
           "Zg",        // no padding
           "Zg=",       // short padding
           "Zg===",     // long
           "Z===",      // three '='
           "====",      //
           "Zh==",      // unused bits set (Zg== is the encoding of "f")
           "Zm9=",      // likewise
           "Zm8\n",     // whitespace, in a group of 4
           "Z m8",      //
           "Zm9v====",  // a group of padding
           "Z=9v",      // '=' inside
           "Zm-_",      // URL-safe alphabet
           "Zm9v*A==",  //
       }) {
    CHECK_MESSAGE(!base64_decode(refused).has_value(), "accepted: ", refused);
  }
  CHECK_FALSE(base64_decode(std::string("Zm9\0", 4)).has_value());
}

TEST_CASE("hex encodes lower case and decodes either case") {
  CHECK(hex_encode(std::string("\x00\x01\xab\xff", 4)) == "0001abff");
  CHECK(hex_encode("") == "");
  CHECK(hex_decode("0001abff") == std::string("\x00\x01\xab\xff", 4));
  CHECK(hex_decode("ABff") == std::string("\xab\xff", 2));
  CHECK(hex_decode("") == "");
  for (const char* refused : {"0", "abc", "0g", "g0", " 00", "00 ", "-1", "0x00"}) {
    CHECK_MESSAGE(!hex_decode(refused).has_value(), "accepted: ", refused);
  }
}
