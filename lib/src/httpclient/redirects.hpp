// Following redirects: which statuses redirect, and what the next hop's request looks like.
#pragma once

#include "cortado/httpclient/request.hpp"
#include "cortado/httpclient/url.hpp"

namespace cortado::detail {

// 301, 302, 303, 307 and 308 (RFC 9110 15.4).
bool is_redirect_status(int code);

// The request for the hop from `from` to `to` after a `status` redirect:
//  - 303 makes it a GET without a body (a HEAD stays a HEAD), and so do 301 and 302 for a POST
//    (what browsers do; RFC 9110 15.4.2/15.4.3 allow it); 307 and 308 keep method and body;
//  - Host is recomputed for the new URL;
//  - to another origin, Authorization, Proxy-Authorization, Cookie and the auth_* credentials
//    are dropped: the server that redirected may not hand them to someone else.
HTTPRequest redirected_request(HTTPRequest request, int status, const URL& from, const URL& to);

}  // namespace cortado::detail
