// Tornado's httputil.py: HTTPHeaders, HTTPServerRequest, the delegate seam, and the parsers of
// forms, multipart bodies, cookies, ranges and dates.
#pragma once

#include "cortado/httputil/accept_encoding.hpp"
#include "cortado/httputil/cookies.hpp"
#include "cortado/httputil/dates.hpp"
#include "cortado/httputil/delegate.hpp"
#include "cortado/httputil/errors.hpp"
#include "cortado/httputil/forms.hpp"
#include "cortado/httputil/headers.hpp"
#include "cortado/httputil/ranges.hpp"
#include "cortado/httputil/request.hpp"
#include "cortado/httputil/status.hpp"
#include "cortado/httputil/urls.hpp"
