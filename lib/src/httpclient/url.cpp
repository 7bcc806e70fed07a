#include "cortado/httpclient/url.hpp"

#include <charconv>
#include <vector>

#include <fmt/format.h>
#include <asio/ip/address_v6.hpp>

namespace cortado {
namespace {

// Error messages quote the offending URL escaped and cut short: it may come from a hostile
// server's Location header.
[[noreturn]] void refuse(std::string_view why, std::string_view url) {
  constexpr std::size_t kShown = 200;
  throw InvalidURLError(fmt::format("invalid URL {:?}{}: {}", url.substr(0, kShown),
                                    url.size() > kShown ? "..." : "", why));
}

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Bytes that would break the request line or be read differently by different parsers.
bool valid_target_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != '\\';
}

// RFC 3986 3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ':' -- and the ':'
// comes before any '/', '?' or '#' (otherwise it is part of a relative path).
bool has_scheme(std::string_view s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (char c : s) {
    if (c == ':') return true;
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') return false;
  }
  return false;
}

std::uint16_t default_port(std::string_view scheme) {
  return scheme == "https" ? 443 : 80;
}

std::uint16_t parse_port(std::string_view digits, std::string_view url) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || digits.size() > 5 || ec != std::errc() ||
      end != digits.data() + digits.size() || value == 0 || value > 65535) {
    refuse("bad port", url);
  }
  return static_cast<std::uint16_t>(value);
}

// RFC 3986 3.2.2, narrowed: a bracketed IPv6 literal (no zone id), or a name or IPv4 literal
// made of letters, digits, '-', '.' and '_' (lower-cased).
std::string parse_host(std::string_view host, std::string_view url) {
  if (host.empty()) refuse("empty host", url);
  if (host.front() == '[') {
    const std::string inner(host.substr(1, host.size() - 2));
    std::error_code ec;
    asio::ip::make_address_v6(inner, ec);
    if (host.back() != ']' || ec || inner.find('%') != std::string::npos) {
      refuse("bad IPv6 literal", url);
    }
    std::string out;
    for (char c : inner) out += lower(c);
    return out;
  }
  std::string out;
  for (char c : host) {
    if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '.' && c != '_') {
      refuse("bad character in host", url);
    }
    out += lower(c);
  }
  return out;
}

void check_target_bytes(std::string_view target, std::string_view url) {
  for (char c : target) {
    if (!valid_target_char(c)) refuse("control, space, backslash or non-ASCII byte in path", url);
  }
}

// Path and query up to the fragment; "" and "?q" get the root path.
std::string make_target(std::string_view rest, std::string_view url) {
  rest = rest.substr(0, rest.find('#'));
  check_target_bytes(rest, url);
  std::string target;
  if (rest.empty() || rest.front() != '/') target += '/';
  target += rest;
  return target;
}

// RFC 3986 5.2.4 on an absolute path: "." segments go, ".." removes the segment before it, and
// a path ending in either keeps its trailing slash.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string_view> kept;
  bool trailing_slash = false;
  std::string_view rest = path.substr(1);  // past the leading '/'
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    const bool last = slash == std::string_view::npos;
    if (segment == "." || segment == "..") {
      if (segment == ".." && !kept.empty()) kept.pop_back();
      trailing_slash = last;
    } else {
      kept.push_back(segment);
      trailing_slash = false;
    }
    if (last) break;
    rest.remove_prefix(slash + 1);
  }
  std::string out;
  for (const auto segment : kept) {
    out += '/';
    out += segment;
  }
  if (out.empty() || trailing_slash) out += '/';
  return out;
}

// A target's path and query made from a path (possibly with dot segments) and what follows it.
std::string normalised_target(std::string_view path_and_query) {
  const std::size_t q = path_and_query.find('?');
  std::string target = remove_dot_segments(path_and_query.substr(0, q));
  if (q != std::string_view::npos) target += path_and_query.substr(q);
  return target;
}

}  // namespace

bool URL::has_default_port() const {
  return port == default_port(scheme);
}

std::string URL::authority() const {
  std::string out;
  if (is_ipv6_literal()) {
    out += '[';
    out += host;
    out += ']';
  } else {
    out += host;
  }
  if (!has_default_port()) {
    out += ':';
    out += std::to_string(port);
  }
  return out;
}

std::string URL::str() const {
  std::string out = scheme;
  out += "://";
  out += authority();
  out += target;
  return out;
}

bool URL::same_origin(const URL& other) const {
  return scheme == other.scheme && host == other.host && port == other.port;
}

URL parse_url(std::string_view url) {
  if (!has_scheme(url)) refuse("not an absolute URL", url);
  const std::size_t colon = url.find(':');
  URL out;
  for (char c : url.substr(0, colon)) out.scheme += lower(c);
  if (out.scheme != "http" && out.scheme != "https") refuse("scheme is not http or https", url);
  if (url.substr(colon + 1, 2) != "//") refuse("no '//' after the scheme", url);
  std::string_view rest = url.substr(colon + 3);
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  rest.remove_prefix(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    refuse("user info in URLs is not accepted (use auth_username/auth_password)", url);
  }
  // The port follows the last ':' outside an IPv6 literal's brackets.
  const std::size_t bracket = authority.rfind(']');
  std::size_t port_colon = authority.rfind(':');
  if (bracket != std::string_view::npos && port_colon < bracket) {
    port_colon = std::string_view::npos;
  }
  out.host = parse_host(authority.substr(0, port_colon), url);
  out.port = port_colon == std::string_view::npos
                 ? default_port(out.scheme)
                 : parse_port(authority.substr(port_colon + 1), url);
  out.target = make_target(rest, url);
  return out;
}

URL resolve_url(const URL& base, std::string_view reference) {
  const std::string_view ref = reference.substr(0, reference.find('#'));
  if (has_scheme(ref)) return parse_url(ref);
  if (ref.starts_with("//")) return parse_url(base.scheme + ":" + std::string(ref));
  URL out = base;
  if (ref.empty()) return out;
  check_target_bytes(ref, reference);
  if (ref.front() == '/') {
    out.target = normalised_target(ref);
  } else if (ref.front() == '?') {
    out.target = base.target.substr(0, base.target.find('?'));
    out.target += ref;
  } else {
    // RFC 3986 5.2.3: a relative path replaces the base path's last segment.
    const std::string_view base_path =
        std::string_view(base.target).substr(0, base.target.find('?'));
    std::string merged(base_path.substr(0, base_path.rfind('/') + 1));
    merged += ref;
    out.target = normalised_target(merged);
  }
  return out;
}

}  // namespace cortado
