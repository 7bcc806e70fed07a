// The client's TLS configurations: one asio::ssl::context per distinct set of the request's TLS
// fields, built on first use and shared by every connection made with those settings.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "cortado/httpclient/request.hpp"

namespace asio::ssl {
class context;
}

namespace cortado::detail {

// The TLS fields of a request, as one string: part of the pool key, so that a connection made
// with one set of settings (say validate_cert = false) never serves a request made with another.
std::string tls_settings_key(const HTTPRequest& request);

class TLSContexts {
 public:
  TLSContexts();
  ~TLSContexts();
  TLSContexts(const TLSContexts&) = delete;
  TLSContexts& operator=(const TLSContexts&) = delete;

  // The context for the request's settings. Throws std::invalid_argument when a certificate or
  // key file cannot be loaded.
  std::shared_ptr<asio::ssl::context> get(const HTTPRequest& request);

 private:
  std::map<std::string, std::shared_ptr<asio::ssl::context>> contexts_;
};

}  // namespace cortado::detail
