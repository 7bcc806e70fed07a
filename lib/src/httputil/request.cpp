#include "cortado/httputil/request.hpp"

namespace cortado {

double HTTPServerRequest::request_time() const {
  const auto end = finish_time == std::chrono::steady_clock::time_point{}
                       ? std::chrono::steady_clock::now()
                       : finish_time;
  return std::chrono::duration<double>(end - start_time).count();
}

std::string HTTPServerRequest::full_url() const {
  std::string url = protocol;
  url += "://";
  url += host;
  url += uri;
  return url;
}

void HTTPServerRequest::reset() {
  method.clear();
  uri.clear();
  version.clear();
  path.clear();
  query.clear();
  headers.clear();
  body.clear();
  host.clear();
  host_name.clear();
  start_time = std::chrono::steady_clock::now();
  finish_time = {};
}

void HTTPServerRequest::parse_target() {
  const auto q = uri.find('?');
  path.assign(uri, 0, q);
  if (q != std::string::npos) {
    query.assign(uri, q + 1);
  } else {
    query.clear();
  }
  host = headers.get("Host", "127.0.0.1");
  // "[::1]:8888" -> "[::1]" ; "example.com:80" -> "example.com"
  const auto colon = host.rfind(':');
  const auto bracket = host.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    host_name.assign(host, 0, colon);
  } else {
    host_name = host;
  }
}

}  // namespace cortado
