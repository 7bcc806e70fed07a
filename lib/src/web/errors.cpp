#include "cortado/web/errors.hpp"

#include "cortado/httputil/status.hpp"

namespace cortado::web {

HTTPError::HTTPError(int status, std::string log_message, std::string reason)
    : std::runtime_error("HTTP " + std::to_string(status) + ": " +
                         (reason.empty() ? std::string(reason_phrase(status)) : reason) +
                         (log_message.empty() ? "" : " (" + log_message + ")")),
      status_(status),
      log_message_(std::move(log_message)),
      reason_(std::move(reason)) {}

MissingArgumentError::MissingArgumentError(const std::string& name)
    : HTTPError(400, "Missing argument " + name, "Missing argument " + name), arg_name_(name) {}

}  // namespace cortado::web
