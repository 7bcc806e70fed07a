// Tornado's web.py: Application, URLSpec, RequestHandler, HTTPError and the stock handlers.
#pragma once

#include "cortado/web/application.hpp"
#include "cortado/web/errors.hpp"
#include "cortado/web/request_handler.hpp"
#include "cortado/web/settings.hpp"
#include "cortado/web/static_file.hpp"
#include "cortado/web/stock_handlers.hpp"
#include "cortado/web/transforms.hpp"
