// HTTPServerRequest: one request as the server received it (Tornado's httputil.HTTPServerRequest).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cortado/httputil/cookies.hpp"
#include "cortado/httputil/forms.hpp"
#include "cortado/httputil/headers.hpp"
#include "cortado/httputil/urls.hpp"

namespace cortado {

class HTTPConnection;

class HTTPServerRequest {
 public:
  std::string method;   // "GET"
  std::string uri;      // the request-target as sent: "/path?query"
  std::string version;  // "HTTP/1.1"
  std::string path;     // "/path" (still percent-encoded, like Tornado)
  std::string query;    // "query"
  HTTPHeaders headers;
  std::string body;  // the whole body, unless the handler streams it
  std::string remote_ip;
  std::string protocol = "http";  // "http" or "https" (from X-Forwarded-Proto with xheaders)
  std::string host;               // Host header (or "127.0.0.1")
  std::string host_name;          // host without the port
  std::chrono::steady_clock::time_point start_time = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point finish_time{};
  HTTPConnection* connection = nullptr;

  bool supports_http_1_1() const { return version == "HTTP/1.1"; }
  // Seconds since the request arrived (until it finished, once it has).
  double request_time() const;
  // "http://host/path?query"
  std::string full_url() const;

  // Parsed on first use. body_arguments()/files() throw HTTPInputError (a 400) for a malformed
  // form; arguments() is both, query first.
  const Arguments& query_arguments() const;
  const Arguments& body_arguments() const;
  const Files& files() const;
  const Arguments& arguments() const;
  const std::vector<Cookie>& cookies() const;
  // Form parsing limits: FormLimits' defaults unless the handler sets others before the form
  // is first read (query_arguments(), body_arguments(), files(), arguments()).
  FormLimits form_limits{};

  // Clears every field for the next request on the same connection, keeping capacity.
  void reset();
  // Sets path and query from uri, and host/host_name from the headers.
  void parse_target();

 private:
  void parse_body() const;
  mutable std::optional<Arguments> query_arguments_;
  mutable std::optional<Arguments> body_arguments_;
  mutable Files files_;
  mutable std::optional<Arguments> arguments_;
  mutable std::optional<std::vector<Cookie>> cookies_;
};

}  // namespace cortado
