// Output transforms: rewrite a response on its way out (Tornado's OutputTransform). The
// framework applies gzip (GZipContentEncoding) when settings.compress_response is on.
#pragma once

#include <memory>
#include <string>

#include "cortado/httputil/headers.hpp"
#include "cortado/httputil/request.hpp"

namespace cortado::web {

class OutputTransform {
 public:
  virtual ~OutputTransform() = default;
  // The first piece of the body, with the status and headers still changeable. `finishing`:
  // this is the whole body.
  virtual void transform_first_chunk(int& status, HTTPHeaders& headers, std::string& chunk,
                                     bool finishing) = 0;
  virtual void transform_chunk(std::string& chunk, bool finishing) = 0;
};

// gzip for clients that accept it, on compressible types, for bodies of at least 1 KiB (or
// streamed ones), with Vary: Accept-Encoding. Works on chunked output too.
std::unique_ptr<OutputTransform> make_gzip_transform(const HTTPServerRequest& request);

}  // namespace cortado::web
