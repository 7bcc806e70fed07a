#include "request_head.hpp"

#include <array>
#include <initializer_list>
#include <stdexcept>

#include <fmt/format.h>

namespace cortado::detail {
namespace {

// RFC 9110 5.6.2: tchar.
bool is_token(std::string_view s) {
  constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && kSymbols.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// RFC 9110 5.5: field values hold visible bytes, SP and HTAB; a CR or LF would start a new
// header line of the caller's (or an attacker's) choosing.
bool is_field_value(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

bool has_close_token(std::string_view list) {
  for (;;) {
    const std::size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (iequals(item, "close")) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

bool one_of(std::string_view method, std::initializer_list<std::string_view> methods) {
  for (auto m : methods) {
    if (method == m) return true;
  }
  return false;
}

void add_line(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

void check_fields(const HTTPRequest& request) {
  if (!is_token(request.method)) {
    throw std::invalid_argument(fmt::format("invalid HTTP method {:?}", request.method));
  }
  request.headers.for_each([](const HTTPHeaders::Field& f) {
    if (!is_token(f.name)) {
      throw std::invalid_argument(fmt::format("invalid header name {:?}", f.name));
    }
    if (!is_field_value(f.value)) {
      throw std::invalid_argument(fmt::format("control character in header {}", f.name));
    }
  });
  if (request.headers.contains("Transfer-Encoding")) {
    throw std::invalid_argument(
        "Transfer-Encoding is not supported in requests (bodies are sent "
        "with a Content-Length)");
  }
  if (!is_field_value(request.user_agent)) {
    throw std::invalid_argument("control character in user_agent");
  }
}

}  // namespace

std::string basic_authorization(std::string_view user, std::string_view password) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string plain(user);
  plain += ':';
  plain += password;
  std::string out = "Basic ";
  for (std::size_t i = 0; i < plain.size(); i += 3) {
    const std::size_t n = std::min<std::size_t>(3, plain.size() - i);
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      group <<= 8;
      if (j < n) group |= static_cast<unsigned char>(plain[i + j]);
    }
    for (std::size_t j = 0; j < 4; ++j) {
      out += j <= n ? kAlphabet[(group >> (18 - 6 * j)) & 0x3f] : '=';
    }
  }
  return out;
}

OutgoingRequest prepare_request(const HTTPRequest& request, const URL& url,
                                const HTTPClientOptions& options) {
  check_fields(request);
  OutgoingRequest out;
  out.head_request = request.method == "HEAD";
  out.body = request.body;
  out.max_body_size = request.max_body_size.value_or(options.max_body_size);
  out.close_after = has_close_token(request.headers.get("Connection"));
  const bool send_length =
      !request.body.empty() || one_of(request.method, {"POST", "PUT", "PATCH"});
  out.expect_continue = request.expect_100_continue && !request.body.empty();
  const bool auth = !request.auth_username.empty();

  std::string& head = out.head;
  head.reserve(256);
  head += request.method;
  head += ' ';
  head += url.target;
  head += " HTTP/1.1\r\n";
  add_line(head, "Host",
           request.headers.contains("Host") ? request.headers.get("Host")
                                            : std::string_view(url.authority()));
  if (!request.user_agent.empty() || !request.headers.contains("User-Agent")) {
    add_line(head, "User-Agent",
             request.user_agent.empty() ? options.user_agent : request.user_agent);
  }
  if (request.decompress_response) add_line(head, "Accept-Encoding", "gzip");
  if (auth) {
    add_line(head, "Authorization",
             basic_authorization(request.auth_username, request.auth_password));
  }
  request.headers.for_each([&](const HTTPHeaders::Field& f) {
    // The fields set above, and the framing, are the client's.
    if (iequals(f.name, "Host") || iequals(f.name, "Content-Length") ||
        (iequals(f.name, "User-Agent") && !request.user_agent.empty()) ||
        (iequals(f.name, "Accept-Encoding") && request.decompress_response) ||
        (iequals(f.name, "Authorization") && auth) ||
        (iequals(f.name, "Expect") && out.expect_continue)) {
      return;
    }
    add_line(head, f.name, f.value);
  });
  if (send_length) add_line(head, "Content-Length", std::to_string(request.body.size()));
  if (out.expect_continue) add_line(head, "Expect", "100-continue");
  head += "\r\n";
  return out;
}

}  // namespace cortado::detail
