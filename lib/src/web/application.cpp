#include "cortado/web/application.hpp"

#include <openssl/sha.h>

#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "cortado/escape.hpp"
#include "cortado/log.hpp"
#include "cortado/web/static_file.hpp"
#include "cortado/web/stock_handlers.hpp"
#include "cortado/web/transforms.hpp"

namespace cortado::web {
namespace {

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// A pattern without regex syntax is matched by string comparison, not by a regex.
std::optional<std::string> literal_path(std::string_view pattern) {
  if (pattern.starts_with('^')) pattern.remove_prefix(1);
  if (pattern.ends_with('$')) pattern.remove_suffix(1);
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size() &&
        std::string_view("./-_~").find(pattern[i + 1]) != std::string_view::npos) {
      out += pattern[++i];
    } else if (std::string_view(".^$*+?()[]{}|\\").find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      out += c;
    }
  }
  return out;
}

// "/items/([0-9]+)/(\w+)" -> "/items/{}/{}" for reverse_url; nullopt if the pattern has regex
// syntax outside its groups (it cannot be reversed then, as in Tornado).
std::optional<std::vector<std::string>> reverse_pieces(std::string_view pattern) {
  if (pattern.starts_with('^')) pattern.remove_prefix(1);
  if (pattern.ends_with('$')) pattern.remove_suffix(1);
  std::vector<std::string> pieces(1);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '(') {
      int depth = 1;
      while (++i < pattern.size() && depth > 0) {
        if (pattern[i] == '\\') {
          ++i;
        } else if (pattern[i] == '(') {
          ++depth;
        } else if (pattern[i] == ')') {
          --depth;
        }
      }
      --i;
      pieces.emplace_back();
    } else if (c == '\\' && i + 1 < pattern.size()) {
      pieces.back() += pattern[++i];
    } else if (std::string_view(".^$*+?[]{}|)").find(c) != std::string_view::npos) {
      return std::nullopt;
    } else {
      pieces.back() += c;
    }
  }
  return pieces;
}

// A coroutine function behind the RequestHandler interface.
class FunctionRoute final : public RequestHandler {
 public:
  FunctionRoute(FunctionHandler fn, unsigned methods) : fn_(std::move(fn)), methods_(methods) {}
  asio::awaitable<void> get() override { return call(kGet); }
  asio::awaitable<void> head() override { return call(kHead); }
  asio::awaitable<void> post() override { return call(kPost); }
  asio::awaitable<void> put() override { return call(kPut); }
  asio::awaitable<void> patch() override { return call(kPatch); }
  asio::awaitable<void> delete_() override { return call(kDelete); }
  asio::awaitable<void> options() override { return call(kOptions); }

 private:
  asio::awaitable<void> call(unsigned method) {
    if (!(methods_ & method)) throw HTTPError(405);
    co_await fn_(*this, path_args());
  }
  FunctionHandler fn_;
  unsigned methods_;
};

}  // namespace

URLSpec::URLSpec(std::string p, HandlerFactory f, unsigned m, bool stream)
    : pattern(std::move(p)), factory(std::move(f)), methods(m), stream_request_body(stream) {}

struct Application::HostRoutes {
  std::unique_ptr<Regex> host;  // null: any host
  std::vector<URLSpec> specs;
  std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> literals;

  void add(URLSpec spec) {
    if (auto literal = literal_path(spec.pattern)) {
      literals.try_emplace(*literal, specs.size());
    } else {
      std::string anchored = spec.pattern;
      if (!anchored.ends_with('$')) anchored += '$';
      spec.regex = std::make_shared<Regex>(anchored);
      spec.group_names = spec.regex->group_names();
    }
    specs.push_back(std::move(spec));
  }
};

struct Application::StaticVersions {
  std::mutex mutex;
  std::unordered_map<std::string, std::string> versions;
};

Application::Application(std::vector<URLSpec> routes, Settings settings)
    : settings_(std::move(settings)), static_versions_(std::make_unique<StaticVersions>()) {
  if (settings_.debug) settings_.serve_traceback = true;
  hosts_.push_back(std::make_unique<HostRoutes>());
  // settings.static_path: its files under static_url_prefix, ahead of the app's own routes
  // (Tornado inserts this route first too).
  if (!settings_.static_path.empty()) {
    add(url<StaticFileHandler>(static_route_pattern(settings_.static_url_prefix),
                               settings_.static_path));
  }
  for (auto& r : routes) add(std::move(r));
}

Application::~Application() = default;

void Application::add(URLSpec spec) {
  hosts_.back()->add(std::move(spec));
}

void Application::add_handlers(std::string_view host_pattern, std::vector<URLSpec> routes) {
  auto group = std::make_unique<HostRoutes>();
  std::string anchored(host_pattern);
  if (!anchored.ends_with('$')) anchored += '$';
  group->host = std::make_unique<Regex>(anchored);
  for (auto& r : routes) group->add(std::move(r));
  // Specific hosts are tried before the any-host group, which stays last.
  hosts_.insert(hosts_.end() - 1, std::move(group));
}

void Application::add_function(std::string pattern, unsigned methods, FunctionHandler fn,
                               std::size_t arity) {
  const std::size_t groups =
      literal_path(pattern) ? 0 : static_cast<std::size_t>(Regex(pattern).group_count());
  if (groups != arity) {
    throw std::invalid_argument(fmt::format(
        "route {:?} captures {} groups but its function takes {}", pattern, groups, arity));
  }
  HandlerFactory factory = [fn = std::move(fn), methods] {
    return std::make_unique<FunctionRoute>(fn, methods);
  };
  URLSpec spec(std::move(pattern), std::move(factory), methods, false);
  spec.overrides_prepare = detail::overrides_prepare<FunctionRoute>();
  add(std::move(spec));
}

const Application::HostRoutes* Application::routes_for(std::string_view host) const {
  for (std::size_t i = 0; i + 1 < hosts_.size(); ++i) {
    if (hosts_[i]->host->full_match(host)) return hosts_[i].get();
  }
  if (!settings_.default_host.empty() && host != settings_.default_host) {
    for (std::size_t i = 0; i + 1 < hosts_.size(); ++i) {
      if (hosts_[i]->host->full_match(settings_.default_host)) return hosts_[i].get();
    }
  }
  return hosts_.back().get();
}

Application::Match Application::find_handler(std::string_view host, std::string_view path) const {
  Match match;
  const HostRoutes* routes = routes_for(host);
  // First match wins: a literal route at index i loses only to a regex route before it.
  std::size_t limit = routes->specs.size();
  if (const auto it = routes->literals.find(path); it != routes->literals.end()) limit = it->second;
  std::vector<std::string_view> groups;
  for (std::size_t i = 0; i < limit; ++i) {
    const URLSpec& spec = routes->specs[i];
    if (!spec.regex || !spec.regex->full_match(path, &groups)) continue;
    match.spec = &spec;
    const bool named = std::any_of(spec.group_names.begin(), spec.group_names.end(),
                                   [](const std::string& n) { return !n.empty(); });
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::string decoded = url_unescape(groups[g], false);
      if (named) {
        if (!spec.group_names[g].empty()) match.kwargs[spec.group_names[g]] = std::move(decoded);
      } else {
        match.args.push_back(std::move(decoded));
      }
    }
    return match;
  }
  if (limit < routes->specs.size()) match.spec = &routes->specs[limit];
  return match;
}

std::string Application::reverse_url(std::string_view name,
                                     const std::vector<std::string>& args) const {
  for (const auto& group : hosts_) {
    for (const auto& spec : group->specs) {
      if (spec.name_ != name) continue;
      const auto pieces = reverse_pieces(spec.pattern);
      if (!pieces) throw std::invalid_argument("route " + spec.pattern + " cannot be reversed");
      if (pieces->size() - 1 != args.size()) {
        throw std::invalid_argument(
            fmt::format("reverse_url({:?}) needs {} arguments", name, pieces->size() - 1));
      }
      std::string url = (*pieces)[0];
      for (std::size_t i = 0; i < args.size(); ++i) {
        url += url_escape(args[i], false);
        url += (*pieces)[i + 1];
      }
      return url;
    }
  }
  throw std::out_of_range(fmt::format("no route named {:?}", name));
}

std::string Application::static_url(std::string_view path) const {
  std::string url = settings_.static_url_prefix;
  url += path;
  if (settings_.static_path.empty()) return url;
  // The same content hash StaticFileHandler sends as the ETag, cached per file version.
  const std::string version = static_file_version(settings_.static_path, path);
  if (version.empty()) return url;
  url += "?v=";
  url += version;
  return url;
}

void Application::log_request(const RequestHandler& handler) const {
  if (settings_.log_function) {
    settings_.log_function(handler);
    return;
  }
  const int status = handler.get_status();
  const log::Level level = status < 400   ? log::Level::info
                           : status < 500 ? log::Level::warning
                                          : log::Level::error;
  auto& logger = log::access();
  if (!logger.enabled(level)) return;
  const HTTPServerRequest& r = handler.request();
  logger.log(level, "{} {} {} ({}) {:.2f}ms", status, r.method, r.uri, r.remote_ip,
             r.request_time() * 1000.0);
}

std::unique_ptr<HTTPServer> Application::listen(asio::any_io_executor executor, std::uint16_t port,
                                                std::string_view address, HTTPServerOptions options,
                                                int threads) {
  auto server =
      std::make_unique<HTTPServer>(std::move(executor), *this, std::move(options), threads);
  server->listen(port, address);
  return server;
}

std::string escape_next_url(std::string_view uri) {
  return url_escape(uri);
}

// --- One request -------------------------------------------------------------------------------

namespace detail {

// Tornado's _HandlerDelegate: routes the request, gathers (or streams) its body, runs the
// handler and completes its response.
class HandlerDelegate final : public HTTPMessageDelegate {
 public:
  HandlerDelegate(Application& app, HTTPConnection& connection)
      : app_(app), connection_(connection) {}

  // Routing and the handler's set-up need no await; only a streaming handler's prepare() does,
  // in headers_received().
  bool headers_received_now(HTTPServerRequest& request) override {
    request_ = &request;
    auto match = app_.find_handler(request.host_name, request.path);
    if (match.spec) {
      handler_ = match.spec->factory();
    } else if (app_.settings().default_handler_class) {
      handler_ = app_.settings().default_handler_class();
    } else {
      auto error = std::make_unique<ErrorHandler>();
      error->initialize(404);
      handler_ = std::move(error);
    }
    RequestHandler& h = *handler_;
    h.application_ = &app_;
    h.spec_ = match.spec;
    h.request_ = &request;
    h.connection_ = &connection_;
    h.path_args_ = std::move(match.args);
    h.path_kwargs_ = std::move(match.kwargs);
    h.set_default_headers();
    if (app_.settings().compress_response) {
      if (auto gzip = make_gzip_transform(request)) h.transforms_.push_back(std::move(gzip));
    }
    stream_ = match.spec && match.spec->stream_request_body;
    call_prepare_ = !match.spec || match.spec->overrides_prepare;
    return !stream_;
  }

  asio::awaitable<void> headers_received(HTTPServerRequest& request) override {
    if (!handler_) headers_received_now(request);
    // A streaming handler's prepare() runs before the body is read, so it can refuse it: the
    // refusal is sent now, and the connection then skips the body.
    if (stream_) {
      co_await guarded(&HandlerDelegate::before_method);
      if (handler_->finished_ && !complete_now()) co_await complete_rest();
    }
  }

  asio::awaitable<void> data_received(std::string_view chunk) override {
    if (!stream_) {
      request_->body.append(chunk);
    } else if (!handler_->finished_) {
      co_await guarded(&HandlerDelegate::stream_chunk, chunk);
    }
  }

  // The common path in one frame: prepare() (already run for a streaming handler), the method,
  // and an exception turned into the error response, as guarded() does for the other phases.
  asio::awaitable<void> finish() override {
    if (done_) co_return;
    std::exception_ptr error;
    try {
      if (!stream_) {
        check_method();
        if (call_prepare_) co_await handler_->prepare();
      }
      if (!handler_->finished_) {
        co_await handler_->run_method();
        if (handler_->auto_finish_ && !handler_->finished_) handler_->finish();
      }
    } catch (...) {
      error = std::current_exception();
    }
    if (error) handler_->handle_exception(error);
    if (!complete_now()) co_await complete_rest();
  }

  void on_connection_close() override {
    if (!handler_) return;
    try {
      handler_->on_connection_close();
    } catch (const std::exception& e) {
      log::app().error("exception in on_connection_close: {}", e.what());
    }
  }

 private:
  // What comes before prepare(): the method must be one a RequestHandler has, and unsafe ones
  // pass the XSRF check when it is on.
  void check_method() {
    const std::string& m = request_->method;
    static constexpr std::string_view kSupported[] = {"GET",   "HEAD", "POST",   "DELETE",
                                                      "PATCH", "PUT",  "OPTIONS"};
    if (std::find(std::begin(kSupported), std::end(kSupported), m) == std::end(kSupported)) {
      throw HTTPError(405);
    }
    if (app_.settings().xsrf_cookies && m != "GET" && m != "HEAD" && m != "OPTIONS") {
      handler_->check_xsrf_cookie();
    }
  }

  asio::awaitable<void> before_method(std::string_view) {
    check_method();
    co_await handler_->prepare();
  }

  asio::awaitable<void> stream_chunk(std::string_view chunk) {
    co_await handler_->data_received(chunk);
  }

  // Runs a phase; an exception becomes the error response (Tornado's _handle_request_exception).
  asio::awaitable<void> guarded(asio::awaitable<void> (HandlerDelegate::*phase)(std::string_view),
                                std::string_view arg = {}) {
    std::exception_ptr error;
    try {
      co_await (this->*phase)(arg);
    } catch (...) {
      error = std::current_exception();
    }
    if (error) handler_->handle_exception(error);
  }

  // Completes the response without a coroutine when the connection takes it all at once (the
  // common case); false when the rest must be awaited with complete_rest().
  bool complete_now() {
    if (done_) return true;
    done_ = true;
    RequestHandler& h = *handler_;
    if (!h.finished_ && connection_.open()) {
      // auto_finish off and the method returned: the handler owns the response from here on
      // (Tornado's asynchronous handlers); nothing more to do for this request.
      if (!h.auto_finish_)
        log::app().error("{} {}: handler returned without finish()", request_->method,
                         request_->uri);
      h.finish();
    }
    std::exception_ptr error;
    try {
      if (!h.complete_now()) return false;
    } catch (...) {
      error = std::current_exception();
    }
    after_response(error);
    return true;
  }

  asio::awaitable<void> complete_rest() {
    std::exception_ptr error;
    try {
      co_await handler_->complete();
    } catch (...) {
      error = std::current_exception();
    }
    after_response(error);
  }

  // The response is out (or failed): log, on_finish(), and the access log line.
  void after_response(std::exception_ptr error) {
    if (error && connection_.open()) {
      log::app().error("{} {}: could not complete the response: {}", request_->method,
                       request_->uri, [&] {
                         try {
                           std::rethrow_exception(error);
                         } catch (const std::exception& e) {
                           return std::string(e.what());
                         } catch (...) {
                           return std::string("unknown error");
                         }
                       }());
      connection_.close();
    }
    request_->finish_time = std::chrono::steady_clock::now();
    try {
      handler_->on_finish();
    } catch (const std::exception& e) {
      log::app().error("exception in on_finish: {}", e.what());
    }
    app_.log_request(*handler_);
  }

  Application& app_;
  HTTPConnection& connection_;
  HTTPServerRequest* request_ = nullptr;
  std::unique_ptr<RequestHandler> handler_;
  bool stream_ = false;
  bool call_prepare_ = true;
  bool done_ = false;  // the response is complete and the request logged
};

}  // namespace detail

std::unique_ptr<HTTPMessageDelegate> Application::start_request(HTTPConnection& connection) {
  return std::make_unique<detail::HandlerDelegate>(*this, connection);
}

}  // namespace cortado::web
