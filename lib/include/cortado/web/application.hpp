// Application: routing from (host, path) to a handler, and the HTTPServerConnectionDelegate
// behind an HTTPServer (Tornado's web.Application and routing.URLSpec).
//
//   web::Application app({
//       web::url<MainHandler>("/"),
//       web::url<ItemHandler>("/items/([0-9]+)", std::ref(db)).name("item"),
//   }, settings);
//   app.get("/hello/(.*)", [](web::RequestHandler& h, std::string who) -> asio::awaitable<void> {
//     h.write("Hello, " + who);
//     co_return;
//   });
//   auto server = app.listen(loop.executor(), 8888);
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "cortado/httpserver.hpp"
#include "cortado/regex.hpp"
#include "cortado/web/request_handler.hpp"
#include "cortado/web/settings.hpp"

namespace cortado::web {

// Bit set of the methods a handler implements (for 405's Allow header).
enum Method : unsigned {
  kGet = 1,
  kHead = 2,
  kPost = 4,
  kPut = 8,
  kPatch = 16,
  kDelete = 32,
  kOptions = 64,
};

// One route: a pattern (a regex anchored at both ends, or a literal path), the handler it
// creates, and an optional name for reverse_url.
struct URLSpec {
  URLSpec(std::string pattern, HandlerFactory factory, unsigned methods, bool stream_body);
  URLSpec&& name(std::string route_name) && {
    name_ = std::move(route_name);
    return std::move(*this);
  }

  std::string pattern;
  HandlerFactory factory;
  unsigned methods = 0;  // what the handler overrides
  bool stream_request_body = false;
  // False when the handler keeps RequestHandler's empty prepare(), which then is not called (a
  // coroutine call per request saved). url<H>() knows; other factories are assumed to override.
  bool overrides_prepare = true;
  std::string name_;
  // Set by the Application when the route is added.
  std::shared_ptr<const Regex> regex;  // null for literal routes
  std::vector<std::string> group_names;
};

namespace detail {

template <class H>
unsigned overridden_methods() {
  unsigned m = 0;
  // &H::get has type `R (RequestHandler::*)()` unless H (or a base between) overrides it.
  using Base = RequestHandler;
  if (!std::is_same_v<decltype(&H::get), decltype(&Base::get)>) m |= kGet;
  if (!std::is_same_v<decltype(&H::head), decltype(&Base::head)>) m |= kHead;
  if (!std::is_same_v<decltype(&H::post), decltype(&Base::post)>) m |= kPost;
  if (!std::is_same_v<decltype(&H::put), decltype(&Base::put)>) m |= kPut;
  if (!std::is_same_v<decltype(&H::patch), decltype(&Base::patch)>) m |= kPatch;
  if (!std::is_same_v<decltype(&H::delete_), decltype(&Base::delete_)>) m |= kDelete;
  if (!std::is_same_v<decltype(&H::options), decltype(&Base::options)>) m |= kOptions;
  return m;
}

template <class H>
constexpr bool overrides_prepare() {
  return !std::is_same_v<decltype(&H::prepare), decltype(&RequestHandler::prepare)>;
}

template <class H>
concept StreamsBody = requires {
  requires H::stream_request_body;
};

// Build H from the route's arguments: through initialize(args...) when H has one (Tornado's
// way), else through its constructor.
template <class H, class... Args>
std::unique_ptr<RequestHandler> make_handler(const Args&... args) {
  if constexpr (requires(H & h) { h.initialize(args...); }) {
    auto h = std::make_unique<H>();
    h->initialize(args...);
    return h;
  } else {
    return std::make_unique<H>(args...);
  }
}

}  // namespace detail

// A route to handler class H; `args` go to H::initialize (or H's constructor) per request.
// A handler that declares `static constexpr bool stream_request_body = true;` gets its body
// through data_received() as it arrives, after prepare().
template <class H, class... Args>
URLSpec url(std::string pattern, Args... args) {
  static_assert(std::is_base_of_v<RequestHandler, H>, "handlers derive from RequestHandler");
  HandlerFactory factory = [... args = std::move(args)] {
    return detail::make_handler<H>(args...);
  };
  URLSpec spec(std::move(pattern), std::move(factory), detail::overridden_methods<H>(),
               detail::StreamsBody<H>);
  spec.overrides_prepare = detail::overrides_prepare<H>();
  return spec;
}

template <class H, class... Args>
HandlerFactory handler(Args... args) {
  return [... args = std::move(args)] { return detail::make_handler<H>(args...); };
}

// A coroutine function as a handler: it gets the handler and the route's captured groups.
using FunctionHandler =
    std::function<asio::awaitable<void>(RequestHandler&, const std::vector<std::string>&)>;

class Application : public HTTPServerConnectionDelegate {
 public:
  explicit Application(std::vector<URLSpec> routes = {}, Settings settings = {});
  ~Application() override;

  // Routes for hosts matching `host_pattern` (a regex on the host name, like Tornado's).
  void add_handlers(std::string_view host_pattern, std::vector<URLSpec> routes);
  void add(URLSpec spec);

  // Function routes: app.get("/items/([0-9]+)", [](RequestHandler& h, std::string id)
  //                              -> asio::awaitable<void> { ... });
  template <class F>
  Application& route(std::string pattern, unsigned methods, F fn) {
    add_function(std::move(pattern), methods, adapt(std::move(fn)), arity<F>());
    return *this;
  }
  template <class F>
  Application& get(std::string pattern, F fn) {
    return route(std::move(pattern), kGet | kHead, std::move(fn));
  }
  template <class F>
  Application& post(std::string pattern, F fn) {
    return route(std::move(pattern), kPost, std::move(fn));
  }
  template <class F>
  Application& put(std::string pattern, F fn) {
    return route(std::move(pattern), kPut, std::move(fn));
  }
  template <class F>
  Application& delete_(std::string pattern, F fn) {
    return route(std::move(pattern), kDelete, std::move(fn));
  }

  // "/items/42" from reverse_url("item", {"42"}); throws std::out_of_range for unknown names.
  std::string reverse_url(std::string_view name, const std::vector<std::string>& args = {}) const;
  const Settings& settings() const { return settings_; }
  // static_url_prefix + path + "?v=" + a hash of the file's content (computed once per file).
  std::string static_url(std::string_view path) const;

  // Tornado's Application.listen: an HTTPServer for this app on `port`.
  std::unique_ptr<HTTPServer> listen(asio::any_io_executor executor, std::uint16_t port,
                                     std::string_view address = {}, HTTPServerOptions options = {},
                                     int threads = 1);

  // The access log line (or settings.log_function).
  void log_request(const RequestHandler& handler) const;

  // HTTPServerConnectionDelegate
  std::unique_ptr<HTTPMessageDelegate> start_request(HTTPConnection& connection) override;

  // Finds the route for a request: the spec (or null for the default handler) and the
  // decoded path arguments. Exposed for tests.
  struct Match {
    const URLSpec* spec = nullptr;
    std::vector<std::string> args;
    std::map<std::string, std::string, std::less<>> kwargs;
  };
  Match find_handler(std::string_view host, std::string_view path) const;

 private:
  struct HostRoutes;

  template <class Signature>
  struct ArityOf;
  template <class R, class... A>
  struct ArityOf<std::function<R(RequestHandler&, A...)>> {
    static constexpr std::size_t value = sizeof...(A);
  };
  template <class F>
  static constexpr std::size_t arity() {
    return ArityOf<decltype(std::function(std::declval<F>()))>::value;
  }
  template <class F>
  static FunctionHandler adapt(F fn) {
    return adapt_as(std::move(fn), std::function(fn));
  }
  template <class F, class R, class... A>
  static FunctionHandler adapt_as(F fn, std::function<R(RequestHandler&, A...)>) {
    return [fn = std::move(fn)](RequestHandler& h, const std::vector<std::string>& args) {
      return call_with(fn, h, args, std::index_sequence_for<A...>{});
    };
  }
  template <class F, std::size_t... I>
  static asio::awaitable<void> call_with(const F& fn, RequestHandler& h,
                                         const std::vector<std::string>& args,
                                         std::index_sequence<I...>) {
    return fn(h, std::string(args[I])...);
  }
  void add_function(std::string pattern, unsigned methods, FunctionHandler fn, std::size_t arity);

  const HostRoutes* routes_for(std::string_view host) const;

  Settings settings_;
  // Host groups in match order; the last one matches any host (the routes given to the
  // constructor and to add()).
  std::vector<std::unique_ptr<HostRoutes>> hosts_;
  struct StaticVersions;
  std::unique_ptr<StaticVersions> static_versions_;
};

// Tornado's @authenticated for a whole handler: anonymous GET/HEAD are redirected to the
// login URL (with ?next=), anything else gets a 403.
template <class H>
class Authenticated : public H {
 public:
  using H::H;
  asio::awaitable<void> prepare() override {
    co_await H::prepare();
    if (this->current_user()) co_return;
    const std::string& method = this->request().method;
    if (method != "GET" && method != "HEAD") throw HTTPError(403);
    std::string login = this->get_login_url();
    if (login.empty()) throw HTTPError(403, "login_url is not set");
    login += login.find('?') == std::string::npos ? "?next=" : "&next=";
    login += url_escape_for_next(this->request().uri);
    this->redirect(login);
  }

 private:
  static std::string url_escape_for_next(std::string_view uri);
};

std::string escape_next_url(std::string_view uri);
template <class H>
std::string Authenticated<H>::url_escape_for_next(std::string_view uri) {
  return escape_next_url(uri);
}

}  // namespace cortado::web
