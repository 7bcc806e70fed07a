#include "cortado/httpclient/errors.hpp"

#include <fmt/format.h>

namespace cortado {
namespace {

constexpr int kNoResponse = 599;  // Tornado's code for errors without an HTTP response

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cortado.httpclient"; }
  std::string message(int value) const override {
    switch (static_cast<client_errc>(value)) {
      case client_errc::unexpected_upgrade:
        return "101 Switching Protocols without an Upgrade request";
      case client_errc::bad_content_encoding:
        return "response body is not valid gzip";
    }
    return "unknown HTTP client error";
  }
};

}  // namespace

const std::error_category& client_category() noexcept {
  static const ClientCategory category;
  return category;
}

HTTPClientError::HTTPClientError(int code, const std::string& message,
                                 std::shared_ptr<const HTTPResponse> response,
                                 std::error_code cause)
    : std::runtime_error(fmt::format("HTTP {}: {}", code, message)),
      code_(code),
      response_(std::move(response)),
      cause_(cause) {}

HTTPTimeoutError::HTTPTimeoutError(const std::string& message, std::error_code cause)
    : HTTPClientError(kNoResponse, message, nullptr, cause) {}

HTTPConnectionError::HTTPConnectionError(const std::string& message, std::error_code cause)
    : HTTPClientError(kNoResponse, message, nullptr, cause) {}

HTTPStreamClosedError::HTTPStreamClosedError(const std::string& message, std::error_code cause)
    : HTTPClientError(kNoResponse, message, nullptr, cause) {}

HTTPProtocolError::HTTPProtocolError(const std::string& message, std::error_code cause)
    : HTTPClientError(kNoResponse, message, nullptr, cause) {}

}  // namespace cortado
