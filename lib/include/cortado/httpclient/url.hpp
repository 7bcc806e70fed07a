// A small, strict URL splitter for the HTTP client (Tornado leans on urllib.parse; this takes only
// what an HTTP client needs and refuses the rest).
//
// Accepted: absolute http:// and https:// URLs whose authority is a host name, an IPv4 literal or
// a bracketed IPv6 literal, with an optional port. The path and query become the request target;
// a fragment is dropped (it never goes on the wire). Refused with InvalidURLError: other schemes,
// user info ("user:pass@host": use HTTPRequest::auth_username instead; it is also a classic way
// to disguise a host), empty or malformed hosts and ports, IPv6 zone ids, and any control byte,
// space or non-ASCII byte (percent-encode those). Nothing is percent-decoded or re-encoded: the
// target is sent as given.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cortado {

class InvalidURLError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct URL {
  std::string scheme{};    // "http" or "https"
  std::string host{};      // lower-cased name or IPv4 literal; an IPv6 literal without brackets
  std::uint16_t port = 0;  // as given, or the scheme's default
  std::string target{};    // path and query as sent on the request line: "/" at least

  bool is_ipv6_literal() const { return host.find(':') != std::string::npos; }
  bool has_default_port() const;
  // host[:port] as it goes in a Host header: brackets around IPv6, no port when it is the default.
  std::string authority() const;
  // scheme://authority/target
  std::string str() const;
  // Same scheme, host and port (RFC 6454): what decides whether credentials may follow a redirect.
  bool same_origin(const URL& other) const;
};

// Splits an absolute http(s) URL. Throws InvalidURLError, whose message says what is wrong.
URL parse_url(std::string_view url);

// Resolves a redirect's Location (absolute, scheme-relative "//host/...", absolute-path,
// relative-path or query-only reference) against `base` (RFC 3986, section 5.2), dot segments
// removed. The result obeys parse_url's rules; a Location that does not throws InvalidURLError.
URL resolve_url(const URL& base, std::string_view reference);

}  // namespace cortado
