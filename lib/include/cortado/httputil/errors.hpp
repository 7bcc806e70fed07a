// Errors raised while reading what a peer sent (Tornado's httputil.HTTPInputError).
//
// Parsers of request bytes (form bodies, multipart parts, query strings) throw HTTPInputError
// with a message that says what was wrong; the server answers such a request with 400 and logs
// the message, so it never reaches a handler as an unexpected exception.
#pragma once

#include <stdexcept>

namespace cortado {

class HTTPInputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cortado
