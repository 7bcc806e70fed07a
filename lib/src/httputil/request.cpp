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
  start_time = {};  // set when the next request line arrives
  finish_time = {};
  query_arguments_.reset();
  body_arguments_.reset();
  files_.clear();
  arguments_.reset();
  cookies_.reset();
}

const Arguments& HTTPServerRequest::query_arguments() const {
  if (!query_arguments_) {
    query_arguments_.emplace();
    parse_query(query, *query_arguments_, false, form_limits.max_fields);
  }
  return *query_arguments_;
}

void HTTPServerRequest::parse_body() const {
  if (body_arguments_) return;
  Arguments args;
  Files files;
  parse_body_arguments(headers.get("Content-Type"), body, args, files, form_limits);
  body_arguments_ = std::move(args);
  files_ = std::move(files);
}

const Arguments& HTTPServerRequest::body_arguments() const {
  parse_body();
  return *body_arguments_;
}

const Files& HTTPServerRequest::files() const {
  parse_body();
  return files_;
}

const Arguments& HTTPServerRequest::arguments() const {
  if (!arguments_) {
    Arguments merged = query_arguments();
    for (const auto& [name, values] : body_arguments()) {
      auto& into = merged[name];
      into.insert(into.end(), values.begin(), values.end());
    }
    arguments_ = std::move(merged);
  }
  return *arguments_;
}

const std::vector<Cookie>& HTTPServerRequest::cookies() const {
  if (!cookies_) {
    // Several Cookie fields are one list (RFC 6265 5.4), not a comma-joined value.
    cookies_.emplace();
    for (std::string_view field : headers.get_list("Cookie")) {
      auto parsed = parse_cookie(field);
      cookies_->insert(cookies_->end(), parsed.begin(), parsed.end());
    }
  }
  return *cookies_;
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
  for (char& c : host_name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

}  // namespace cortado
