#include "tls_contexts.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <asio/ssl/context.hpp>

namespace cortado::detail {
namespace {

std::shared_ptr<asio::ssl::context> make_context(const HTTPRequest& request) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  // TLS 1.2 is the oldest version still considered safe (RFC 8996 retired 1.0 and 1.1).
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_options(asio::ssl::context::default_workarounds |
                       asio::ssl::context::no_compression);
  const auto load = [](const char* what, const std::string& file, auto&& step) {
    std::error_code ec;
    step(ec);
    if (ec) {
      throw std::invalid_argument(
          fmt::format("cannot load {} from {:?}: {}", what, file, ec.message()));
    }
  };
  if (request.validate_cert) {
    context->set_verify_mode(asio::ssl::verify_peer);
    if (request.ca_certs.empty()) {
      load("the system's CA certificates", "",
           [&](std::error_code& ec) { context->set_default_verify_paths(ec); });
    } else {
      load("ca_certs", request.ca_certs,
           [&](std::error_code& ec) { context->load_verify_file(request.ca_certs, ec); });
    }
  } else {
    context->set_verify_mode(asio::ssl::verify_none);
  }
  if (!request.client_cert.empty()) {
    const std::string& key = request.client_key.empty() ? request.client_cert : request.client_key;
    load("client_cert", request.client_cert, [&](std::error_code& ec) {
      context->use_certificate_chain_file(request.client_cert, ec);
    });
    load("client_key", key, [&](std::error_code& ec) {
      context->use_private_key_file(key, asio::ssl::context::pem, ec);
    });
  }
  return context;
}

}  // namespace

std::string tls_settings_key(const HTTPRequest& request) {
  // NUL cannot occur in a file name, so the fields cannot run into each other.
  std::string key = request.validate_cert ? "v" : "n";
  for (const std::string* field : {&request.ca_certs, &request.client_cert, &request.client_key}) {
    key += '\0';
    key += *field;
  }
  return key;
}

TLSContexts::TLSContexts() = default;
TLSContexts::~TLSContexts() = default;

std::shared_ptr<asio::ssl::context> TLSContexts::get(const HTTPRequest& request) {
  const std::string key = tls_settings_key(request);
  auto& slot = contexts_[key];
  if (!slot) {
    try {
      slot = make_context(request);
    } catch (...) {
      contexts_.erase(key);
      throw;
    }
  }
  return slot;
}

}  // namespace cortado::detail
