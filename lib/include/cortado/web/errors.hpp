// The framework's exceptions (Tornado's tornado.web.HTTPError, MissingArgumentError, Finish).
#pragma once

#include <stdexcept>
#include <string>

namespace cortado::web {

// Throw from anywhere in a handler to answer with `status`. `log_message` goes to the log (not
// to the client); `reason` replaces the standard phrase in the status line.
class HTTPError : public std::runtime_error {
 public:
  explicit HTTPError(int status, std::string log_message = {}, std::string reason = {});
  int status_code() const { return status_; }
  const std::string& log_message() const { return log_message_; }
  const std::string& reason() const { return reason_; }

 private:
  int status_;
  std::string log_message_;
  std::string reason_;
};

// A required argument is missing: 400, naming the argument.
class MissingArgumentError : public HTTPError {
 public:
  explicit MissingArgumentError(const std::string& name);
  const std::string& arg_name() const { return arg_name_; }

 private:
  std::string arg_name_;
};

// Ends the request without an error: what was written so far is the response.
class Finish : public std::exception {
 public:
  const char* what() const noexcept override { return "Finish"; }
};

}  // namespace cortado::web
