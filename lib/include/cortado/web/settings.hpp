// Application settings, as a typed struct (Tornado's keyword settings).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "cortado/httputil/cookies.hpp"

namespace cortado::web {

class RequestHandler;
using HandlerFactory = std::function<std::unique_ptr<RequestHandler>()>;

struct Settings {
  // Development mode: tracebacks in error pages (serve_traceback) and DEBUG logging.
  bool debug = false;
  // Error pages show the exception (type and message) of a 500.
  bool serve_traceback = false;
  // gzip responses to clients that accept it (compressible types, at least 1 KiB).
  bool compress_response = false;
  // Key for signed cookies and XSRF tokens. Either one secret, or several versions for key
  // rotation (new cookies are signed with key_version; any listed version still verifies).
  std::string cookie_secret{};
  std::map<int, std::string> cookie_secrets{};
  std::optional<int> key_version{};
  // Check the _xsrf token on every POST/PUT/PATCH/DELETE.
  bool xsrf_cookies = false;
  CookieOptions xsrf_cookie_options{};
  // Requests whose host matches no add_handlers() pattern are routed as if sent to this host.
  std::string default_host{};
  // Where the authenticated guard sends anonymous GETs.
  std::string login_url{};
  // Serves static_path under static_url_prefix with StaticFileHandler when set.
  std::string static_path{};
  std::string static_url_prefix = "/static/";
  // What answers paths no route matches (404 when empty).
  HandlerFactory default_handler_class{};
  // Replaces the access log line written after every request.
  std::function<void(const RequestHandler&)> log_function{};
};

}  // namespace cortado::web
