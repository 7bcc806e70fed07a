#include "redirects.hpp"

namespace cortado::detail {

bool is_redirect_status(int code) {
  return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

HTTPRequest redirected_request(HTTPRequest request, int status, const URL& from, const URL& to) {
  const bool to_get = (status == 303 && request.method != "HEAD") ||
                      ((status == 301 || status == 302) && request.method == "POST");
  if (to_get) {
    request.method = "GET";
    request.body.clear();
    for (const char* name : {"Content-Length", "Content-Type", "Content-Encoding"}) {
      request.headers.remove(name);
    }
  }
  request.headers.remove("Host");
  if (!from.same_origin(to)) {
    for (const char* name : {"Authorization", "Proxy-Authorization", "Cookie"}) {
      request.headers.remove(name);
    }
    request.auth_username.clear();
    request.auth_password.clear();
  }
  request.url = to.str();
  return request;
}

}  // namespace cortado::detail
