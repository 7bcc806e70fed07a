// Handlers every application needs (Tornado's RedirectHandler, ErrorHandler, FallbackHandler).
#pragma once

#include <string>

#include "cortado/httpserver.hpp"
#include "cortado/web/request_handler.hpp"

namespace cortado::web {

// Redirects to `url`, where {0}, {1}... are the route's captured groups:
//   web::url<RedirectHandler>("/old/(.*)", std::string("/new/{0}"))
class RedirectHandler : public RequestHandler {
 public:
  void initialize(const std::string& url, bool permanent = true) {
    url_ = url;
    permanent_ = permanent;
  }
  asio::awaitable<void> get() override;
  asio::awaitable<void> head() override { return get(); }

 private:
  std::string url_;
  bool permanent_ = true;
};

// Answers every request with `status` (the default 404 handler is one).
class ErrorHandler : public RequestHandler {
 public:
  void initialize(int status) { status_code_ = status; }
  asio::awaitable<void> prepare() override;

 private:
  int status_code_ = 404;
};

// Hands the request to a plain request callback (an HTTPServer-style function), for mixing
// such code into an Application.
class FallbackHandler : public RequestHandler {
 public:
  void initialize(RequestCallback fallback) { fallback_ = std::move(fallback); }
  asio::awaitable<void> prepare() override;

 private:
  friend class detail::HandlerDelegate;
  RequestCallback fallback_;
};

}  // namespace cortado::web
