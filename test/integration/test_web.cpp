// The web framework through real HTTP, with the testing module (cortado/testing.hpp).
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <asio/steady_timer.hpp>

#include "cortado/gzip.hpp"
#include "cortado/testing.hpp"
#include "cortado/web.hpp"
#include "harness.hpp"

using namespace std::chrono_literals;
namespace web = cortado::web;
using cortado::HTTPRequest;
using cortado::testing::AsyncHTTPTestCase;

namespace {

// Failures from the testing module's log capture become doctest failures.
void fail_through_doctest(const std::string& message) {
  ADD_FAIL_CHECK_AT(__FILE__, __LINE__, message);
}
const bool fail_handler_installed = [] {
  AsyncHTTPTestCase::set_fail_handler(fail_through_doctest);
  return true;
}();

HTTPRequest with_method(std::string method, std::string body = {}) {
  HTTPRequest r;
  r.method = std::move(method);
  r.body = std::move(body);
  return r;
}

HTTPRequest with_header(std::string_view name, std::string_view value) {
  HTTPRequest r;
  r.headers.add(name, value);
  return r;
}

std::vector<std::string>& events() {
  static std::vector<std::string> list;
  return list;
}

struct Lifecycle : web::RequestHandler {
  void initialize(const std::string& tag) { events().push_back("initialize " + tag); }
  asio::awaitable<void> prepare() override {
    events().push_back("prepare");
    co_return;
  }
  asio::awaitable<void> get() override {
    events().push_back("get " + path_args().at(0));
    write("ok");
    co_return;
  }
  void on_finish() override { events().push_back("on_finish"); }
};

// prepare() from a base class between RequestHandler and the route's handler still runs (the
// delegate skips only RequestHandler's own, empty one).
struct PreparingBase : web::RequestHandler {
  asio::awaitable<void> prepare() override {
    events().push_back("base prepare");
    co_return;
  }
};
struct InheritsPrepare : PreparingBase {
  asio::awaitable<void> get() override {
    events().push_back("get");
    co_return;
  }
};

struct Output : web::RequestHandler {
  asio::awaitable<void> get() override {
    const std::string what = get_argument("what");
    if (what == "status") {
      set_status(418, "Short And Stout");
      write("teapot");
    } else if (what == "headers") {
      set_header("X-One", "1");
      add_header("X-Multi", "a");
      add_header("X-Multi", "b");
      set_header("X-Gone", "x");
      clear_header("X-Gone");
      set_header("X-Count", std::int64_t{42});
    } else if (what == "many_headers") {
      // More fields than the connection gathers in one go when it writes the head.
      for (int i = 0; i < 40; ++i) add_header("X-Many", "value-" + std::to_string(i));
    } else if (what == "inject") {
      set_header("X-Evil", "a\r\nSet-Cookie: pwned=1");
    } else if (what == "json") {
      write(nlohmann::json{{"a", 1}, {"b", "</script>"}});
    } else if (what == "flush") {
      write("first,");
      co_await flush();
      write("second");
    } else if (what == "redirect") {
      redirect("/target", true);
    } else if (what == "redirect303") {
      redirect("/target", false, 303);
    } else if (what == "clear") {
      set_header("X-Dropped", "1");
      write("dropped");
      clear();
      write("kept");
    } else if (what == "finish") {
      finish("done");
    } else if (what == "big") {
      write(std::string(4096, 'x'));
    } else if (what == "huge") {  // past what the connection buffers: its awaited write path
      write(std::string(1 << 20, 'h'));
    }
    co_return;
  }
};

struct Errors : web::RequestHandler {
  asio::awaitable<void> get() override {
    const std::string kind = get_argument("kind");
    if (kind == "http") throw web::HTTPError(403, "not for you");
    if (kind == "reason") throw web::HTTPError(409, "", "Custom Conflict");
    if (kind == "runtime") throw std::runtime_error("boom");
    if (kind == "finish") {
      write("partial");
      throw web::Finish();
    }
    if (kind == "send_error") send_error(503);
    co_return;
  }
  void write_error(int status, std::exception_ptr error) override {
    if (get_argument("custom", "") == "1") {
      finish(fmt::format("custom {}", status));
      return;
    }
    RequestHandler::write_error(status, error);
  }
};

struct Arguments : web::RequestHandler {
  asio::awaitable<void> get() override {
    write(get_argument("a") + "|" + fmt::format("{}", fmt::join(get_arguments("m"), ",")) + "|" +
          get_argument("missing", "fallback"));
    co_return;
  }
  asio::awaitable<void> post() override {
    write(get_body_argument("b") + "|" + get_query_argument("q") + "|" + get_argument("b"));
    co_return;
  }
};

struct Cookies : web::RequestHandler {
  asio::awaitable<void> get() override {
    const std::string action = get_argument("action");
    if (action == "set") {
      cortado::CookieOptions o;
      o.path = "/c";
      o.httponly = true;
      o.secure = true;
      o.samesite = cortado::SameSite::lax;
      o.max_age = std::chrono::seconds(60);
      set_cookie("plain", "v1", o);
    } else if (action == "inject") {
      set_cookie("x", "a; Domain=evil.example");
    } else if (action == "read") {
      write(get_cookie("plain", "none"));
    } else if (action == "clear") {
      clear_cookie("plain");
    } else if (action == "sign") {
      set_signed_cookie("user", "alice");
    } else if (action == "verify") {
      write(get_signed_cookie("user").value_or("invalid"));
    }
    co_return;
  }
};

struct Form : web::RequestHandler {
  asio::awaitable<void> get() override {
    write(xsrf_form_html());
    co_return;
  }
  asio::awaitable<void> post() override {
    write("accepted");
    co_return;
  }
};

struct Private : web::RequestHandler {
  std::optional<std::string> get_current_user() override { return get_cookie("who"); }
  asio::awaitable<void> get() override {
    write("hello " + *current_user());
    co_return;
  }
  asio::awaitable<void> post() override { return get(); }
};

struct Upload : web::RequestHandler {
  static constexpr bool stream_request_body = true;
  asio::awaitable<void> prepare() override {
    if (request().headers.get("X-Refuse") == "1")
      throw web::HTTPError(413, "refused before the body");
    request().connection->set_max_body_size(1000);
    co_return;
  }
  asio::awaitable<void> data_received(std::string_view chunk) override {
    ++chunks_;
    bytes_ += chunk.size();
    co_return;
  }
  asio::awaitable<void> put() override {
    write(fmt::format("{} bytes", bytes_));
    CHECK(request().body.empty());  // streamed, not buffered
    co_return;
  }
  int chunks_ = 0;
  std::size_t bytes_ = 0;
};

struct Text : web::RequestHandler {
  asio::awaitable<void> get() override {
    set_header("Content-Type", "text/plain");
    const std::string size = get_argument("size", "4096");
    if (get_argument("stream", "") == "1") {
      write(std::string(2000, 'a'));
      co_await flush();
      write(std::string(2000, 'b'));
    } else {
      write(std::string(std::stoul(size), 'z'));
    }
  }
};

struct CustomEtag : web::RequestHandler {
  std::optional<std::string> compute_etag() override {
    if (get_argument("none", "") == "1") return std::nullopt;  // no ETag at all
    return "\"v7\"";
  }
  asio::awaitable<void> get() override {
    write("the content of version 7");
    co_return;
  }
};

struct Image : web::RequestHandler {
  asio::awaitable<void> get() override {
    set_header("Content-Type", "image/png");
    write(std::string(4096, 'p'));
    co_return;
  }
};

// Streams its body, but only for a client that says who it is.
struct Guarded : web::RequestHandler {
  static constexpr bool stream_request_body = true;
  asio::awaitable<void> prepare() override {
    if (request().headers.get("Authorization").empty()) {
      throw web::HTTPError(401, "no credentials");
    }
    co_return;
  }
  asio::awaitable<void> data_received(std::string_view chunk) override {
    bytes_ += chunk.size();
    co_return;
  }
  asio::awaitable<void> put() override {
    write(fmt::format("{} bytes", bytes_));
    co_return;
  }
  std::size_t bytes_ = 0;
};

// A route's named groups arrive as path_kwargs, percent-decoded, and path_args stays empty.
struct Kwargs : web::RequestHandler {
  asio::awaitable<void> get() override {
    write(fmt::format("{}/{}/{}", path_kwargs().at("user"), path_kwargs().at("item"),
                      path_args().size()));
    co_return;
  }
};

struct Plural : web::RequestHandler {
  asio::awaitable<void> post() override {
    write(fmt::format("{}|{}|{}", fmt::join(get_query_arguments("x"), ","),
                      fmt::join(get_body_arguments("x"), ","), fmt::join(get_arguments("x"), ",")));
    co_return;
  }
};

}  // namespace

TEST_CASE("the lifecycle runs initialize, prepare, the method, then on_finish") {
  events().clear();
  web::Application app({web::url<Lifecycle>("/life/(.*)", std::string("tag"))});
  AsyncHTTPTestCase t(app);
  auto r = t.fetch("/life/x%20y");
  CHECK(r.code == 200);
  CHECK(r.body == "ok");
  CHECK(events() == std::vector<std::string>{"initialize tag", "prepare", "get x y", "on_finish"});
}

TEST_CASE("a prepare() inherited from an intermediate base class runs") {
  static_assert(web::detail::overrides_prepare<InheritsPrepare>());
  static_assert(web::detail::overrides_prepare<Lifecycle>());
  static_assert(!web::detail::overrides_prepare<Text>());
  events().clear();
  web::Application app({web::url<InheritsPrepare>("/inherits")});
  AsyncHTTPTestCase t(app);
  CHECK(t.fetch("/inherits").code == 200);
  CHECK(events() == std::vector<std::string>{"base prepare", "get"});
}

TEST_CASE("unsupported methods answer 405 with Allow; unknown paths 404") {
  web::Application app({web::url<Arguments>("/args")});
  AsyncHTTPTestCase t(app);
  auto r = t.fetch("/args", with_method("DELETE"));
  CHECK(r.code == 405);
  CHECK(r.headers.get("Allow") == "GET, POST");
  CHECK(t.fetch("/nowhere").code == 404);
}

TEST_CASE("status, headers, JSON, flush, redirect, clear and finish") {
  web::Application app({web::url<Output>("/out")});
  AsyncHTTPTestCase t(app);
  auto status = t.fetch("/out?what=status");
  CHECK(status.code == 418);
  CHECK(status.reason == "Short And Stout");
  auto headers = t.fetch("/out?what=headers");
  CHECK(headers.headers.get("X-One") == "1");
  CHECK(headers.headers.get_list("X-Multi") == std::vector<std::string_view>{"a", "b"});
  CHECK_FALSE(headers.headers.contains("X-Gone"));
  CHECK(headers.headers.get("X-Count") == "42");
  auto many = t.fetch("/out?what=many_headers");
  const auto values = many.headers.get_list("X-Many");
  REQUIRE(values.size() == 40);
  for (int i = 0; i < 40; ++i) CHECK(values[i] == "value-" + std::to_string(i));
  CHECK(many.headers.get("Content-Length") == "0");
  CHECK(many.headers.contains("Date"));
  {
    auto expected = t.expect_log("application", "Uncaught exception");
    auto inject = t.fetch("/out?what=inject");
    CHECK(inject.code == 500);
    CHECK_FALSE(inject.headers.contains("Set-Cookie"));
  }
  auto json = t.fetch("/out?what=json");
  CHECK(json.headers.get("Content-Type") == "application/json; charset=UTF-8");
  CHECK(nlohmann::json::parse(json.body) == nlohmann::json{{"a", 1}, {"b", "</script>"}});
  CHECK(json.body.find("</script>") == std::string::npos);  // escaped as <\/script>
  auto flushed = t.fetch("/out?what=flush");
  CHECK(flushed.body == "first,second");
  CHECK(flushed.headers.get("Transfer-Encoding") == "chunked");
  HTTPRequest no_follow;
  no_follow.follow_redirects = false;
  auto moved = t.fetch("/out?what=redirect", no_follow);
  CHECK(moved.code == 301);
  CHECK(moved.headers.get("Location") == "/target");
  CHECK(t.fetch("/out?what=redirect303", no_follow).code == 303);
  auto cleared = t.fetch("/out?what=clear");
  CHECK(cleared.body == "kept");
  CHECK_FALSE(cleared.headers.contains("X-Dropped"));
  CHECK(t.fetch("/out?what=finish").body == "done");
  auto huge = t.fetch("/out?what=huge");
  CHECK(huge.body == std::string(1 << 20, 'h'));
  CHECK(huge.headers.get("Content-Length") == std::to_string(1 << 20));
  CHECK(huge.headers.contains("Etag"));
}

TEST_CASE("thousands of pipelined responses, left unread until the socket is full, come whole") {
  // The server's writes stop part-way and resume: each response's bytes must still come once,
  // in order (responses that the socket takes at once skip the awaited write path).
  web::Application app({web::url<Output>("/out")});
  AsyncHTTPTestCase t(app);
  cortado::test::RawClient c(t.get_http_port());
  constexpr int kRequests = 7000;  // 29 MiB of responses: more than both sockets' buffers hold
  std::string batch;
  for (int i = 0; i < kRequests; ++i) batch += cortado::test::request_bytes("GET", "/out?what=big");
  c.send(batch);
  // Nothing is read until the responses stop arriving: the server's writes have then stopped
  // part-way. Polled (bounded), since nothing signals it; the checks below hold either way.
  std::size_t queued = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int still = 0; still < 3 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::size_t now_queued = c.socket().available();
    still = now_queued == queued && now_queued > 0 ? still + 1 : 0;
    queued = now_queued;
  }
  for (int i = 0; i < kRequests; ++i) {
    const auto r = c.read_response();
    REQUIRE(r.code == 200);
    REQUIRE(r.body == std::string(4096, 'x'));
  }
}

TEST_CASE("errors: HTTPError, custom reasons, write_error, Finish, uncaught exceptions") {
  web::Application app({web::url<Errors>("/err")});
  AsyncHTTPTestCase t(app);
  {
    auto logged = t.expect_log("general", "not for you");
    CHECK(t.fetch("/err?kind=http").code == 403);
  }
  auto reason = t.fetch("/err?kind=reason");
  CHECK(reason.code == 409);
  CHECK(reason.reason == "Custom Conflict");
  CHECK(t.fetch("/err?kind=send_error&custom=1").body == "custom 503");
  auto finished = t.fetch("/err?kind=finish");
  CHECK(finished.code == 200);
  CHECK(finished.body == "partial");
  {
    auto logged = t.expect_log("application", "std::runtime_error: boom");
    auto r = t.fetch("/err?kind=runtime");
    CHECK(r.code == 500);
    CHECK(r.body.find("boom") == std::string::npos);  // no traceback without serve_traceback
  }
}

TEST_CASE("serve_traceback, or debug, shows the exception in the 500 page") {
  for (const web::Settings& settings :
       {web::Settings{.serve_traceback = true}, web::Settings{.debug = true}}) {
    web::Application app({web::url<Errors>("/err")}, settings);
    AsyncHTTPTestCase t(app);
    auto logged = t.expect_log("application", "boom");
    auto r = t.fetch("/err?kind=runtime");
    CHECK(r.code == 500);
    CHECK(r.body.find("std::runtime_error: boom") != std::string::npos);
  }
}

TEST_CASE("arguments from the query and the body; a missing one is a 400 naming it") {
  web::Application app({web::url<Arguments>("/args")});
  AsyncHTTPTestCase t(app);
  CHECK(t.fetch("/args?a=%20x%20&m=1&m=2").body == "x|1,2|fallback");
  auto logged = t.expect_log("general", "400");
  auto missing = t.fetch("/args");
  CHECK(missing.code == 400);
  CHECK(missing.body.find("Missing argument a") != std::string::npos);
  HTTPRequest post = with_method("POST", "b=body+value");
  post.headers.set("Content-Type", "application/x-www-form-urlencoded");
  CHECK(t.fetch("/args?q=query", post).body == "body value|query|body value");
  HTTPRequest bad = with_method("POST", "--x\r\nbroken");
  bad.headers.set("Content-Type", "multipart/form-data; boundary=x");
  CHECK(t.fetch("/args?q=1", bad).code == 400);
}

TEST_CASE("cookies: attributes, injection refused, clearing, signed cookies") {
  web::Application app({web::url<Cookies>("/c")}, {.cookie_secret = "sekrit"});
  AsyncHTTPTestCase t(app);
  auto set = t.fetch("/c?action=set");
  const std::string cookie(set.headers.get("Set-Cookie"));
  CHECK(cookie.find("plain=v1") == 0);
  for (auto attr : {"Path=/c", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=60"}) {
    CHECK_MESSAGE(cookie.find(attr) != std::string::npos, attr);
  }
  CHECK(t.fetch("/c?action=read", with_header("Cookie", "plain=from-client")).body ==
        "from-client");
  {
    auto logged = t.expect_log("application", "Uncaught exception");
    CHECK(t.fetch("/c?action=inject").code == 500);
  }
  auto cleared = t.fetch("/c?action=clear");
  CHECK(cleared.headers.get("Set-Cookie").find("expires=") != std::string_view::npos);
  auto signed_cookie = t.fetch("/c?action=sign");
  std::string value(signed_cookie.headers.get("Set-Cookie"));
  value = value.substr(0, value.find(';'));
  CHECK(t.fetch("/c?action=verify", with_header("Cookie", value)).body == "alice");
  std::string tampered = value;
  tampered[tampered.size() - 1] = tampered.back() == 'a' ? 'b' : 'a';
  CHECK(t.fetch("/c?action=verify", with_header("Cookie", tampered)).body == "invalid");
}

TEST_CASE("XSRF: unsafe methods need the token from the cookie, as field or header") {
  web::Application app({web::url<Form>("/form")}, {.cookie_secret = "s", .xsrf_cookies = true});
  AsyncHTTPTestCase t(app);
  auto page = t.fetch("/form");
  std::string cookie(page.headers.get("Set-Cookie"));
  cookie = cookie.substr(0, cookie.find(';'));
  const std::string token = cookie.substr(cookie.find('=') + 1);
  CHECK(page.body.find("name=\"_xsrf\"") != std::string::npos);
  {
    auto logged = t.expect_log("general", "'_xsrf' argument missing");
    CHECK(t.fetch("/form", with_method("POST", "x=1")).code == 403);
  }
  HTTPRequest field = with_method("POST", "_xsrf=" + token);
  field.headers.set("Cookie", cookie);
  field.headers.set("Content-Type", "application/x-www-form-urlencoded");
  CHECK(t.fetch("/form", field).body == "accepted");
  HTTPRequest header = with_method("POST", "x=1");
  header.headers.set("Cookie", cookie);
  header.headers.set("X-XSRFToken", token);
  CHECK(t.fetch("/form", header).code == 200);
  {
    auto logged = t.expect_log("general", "XSRF cookie does not match");
    HTTPRequest forged = with_method("POST", "x=1");
    forged.headers.set("Cookie", "_xsrf=2|00000000|11111111|1");
    forged.headers.set("X-XSRFToken", token);
    CHECK(t.fetch("/form", forged).code == 403);
  }
}

TEST_CASE("ETag and If-None-Match: strong, weak, lists and *") {
  web::Application app({web::url<Output>("/out")});
  AsyncHTTPTestCase t(app);
  auto first = t.fetch("/out?what=big");
  const std::string etag(first.headers.get("Etag"));
  // Tornado's ETag: the SHA-1 of the body, quoted (of 4,096 "x": Python's hashlib.sha1).
  CHECK(etag == "\"0494dc592da04a1753223918ea73bcb86876372c\"");
  for (const std::string& inm : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    auto r = t.fetch("/out?what=big", with_header("If-None-Match", inm));
    CHECK_MESSAGE(r.code == 304, inm);
    CHECK(r.body.empty());
  }
  CHECK(t.fetch("/out?what=big", with_header("If-None-Match", "\"other\"")).code == 200);
}

TEST_CASE("authenticated: anonymous GET goes to login_url, other methods get 403") {
  web::Application app({web::url<web::Authenticated<Private>>("/private")},
                       {.login_url = "/login"});
  AsyncHTTPTestCase t(app);
  HTTPRequest get;
  get.follow_redirects = false;
  auto r = t.fetch("/private?x=1", get);
  CHECK(r.code == 302);
  CHECK(r.headers.get("Location") == "/login?next=%2Fprivate%3Fx%3D1");
  CHECK(t.fetch("/private", with_method("POST", "x")).code == 403);
  CHECK(t.fetch("/private", with_header("Cookie", "who=bob")).body == "hello bob");
}

TEST_CASE("streaming bodies: data_received gets the pieces; prepare can refuse first") {
  web::Application app({web::url<Upload>("/upload")});
  AsyncHTTPTestCase t(app);
  CHECK(t.fetch("/upload", with_method("PUT", std::string(900, 'u'))).body == "900 bytes");
  CHECK(t.fetch("/upload", with_method("PUT", std::string(2000, 'u'))).code == 413);
  // Refused in prepare(): no 100 Continue, the body is never read.
  cortado::test::RawClient c(t.get_http_port());
  {
    auto logged = t.expect_log("general", "refused before the body");
    c.send(
        "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
        "X-Refuse: 1\r\n\r\n");
    auto r = c.read_response();
    CHECK(r.code == 413);
    CHECK(r.headers.get("Connection") == "close");
  }
}

TEST_CASE("compress_response gzips compressible bodies, chunked ones too, with Vary") {
  web::Application app({web::url<Text>("/text")}, {.compress_response = true});
  AsyncHTTPTestCase t(app);
  HTTPRequest raw = with_header("Accept-Encoding", "gzip");
  raw.decompress_response = false;
  auto big = t.fetch("/text", raw);
  CHECK(big.headers.get("Content-Encoding") == "gzip");
  CHECK(big.headers.get("Vary") == "Accept-Encoding");
  CHECK(cortado::gzip_decompress(big.body, 1 << 20) == std::string(4096, 'z'));
  auto small = t.fetch("/text?size=10", raw);
  CHECK_FALSE(small.headers.contains("Content-Encoding"));
  auto streamed = t.fetch("/text?stream=1", raw);
  CHECK(streamed.headers.get("Content-Encoding") == "gzip");
  CHECK(cortado::gzip_decompress(streamed.body, 1 << 20) ==
        std::string(2000, 'a') + std::string(2000, 'b'));
  HTTPRequest identity;
  identity.decompress_response = false;
  CHECK_FALSE(t.fetch("/text").headers.contains("Content-Encoding"));
}

TEST_CASE("stock handlers: RedirectHandler, ErrorHandler, FallbackHandler, default handler") {
  cortado::RequestCallback fallback = [](cortado::HTTPServerRequest& r) -> asio::awaitable<void> {
    co_await cortado::respond(r, 200, "fallback " + r.path);
  };
  web::Application app(
      {
          web::url<web::RedirectHandler>("/old/(.*)", std::string("/new/{0}")),
          web::url<web::ErrorHandler>("/gone", 410),
          web::url<web::FallbackHandler>("/legacy/.*", fallback),
      },
      {.default_handler_class = web::handler<web::ErrorHandler>(418)});
  AsyncHTTPTestCase t(app);
  HTTPRequest no_follow;
  no_follow.follow_redirects = false;
  auto r = t.fetch("/old/page?x=1", no_follow);
  CHECK(r.code == 301);
  CHECK(r.headers.get("Location") == "/new/page?x=1");
  CHECK(t.fetch("/gone").code == 410);
  CHECK(t.fetch("/legacy/thing").body == "fallback /legacy/thing");
  CHECK(t.fetch("/unrouted").code == 418);
}

TEST_CASE("function routes get their captured groups as arguments") {
  web::Application app;
  app.get("/items/([0-9]+)/(\\w+)",
          [](web::RequestHandler& h, std::string id, std::string tab) -> asio::awaitable<void> {
            h.write(nlohmann::json{{"id", id}, {"tab", tab}});
            co_return;
          });
  AsyncHTTPTestCase t(app);
  CHECK(nlohmann::json::parse(t.fetch("/items/7/info").body) ==
        nlohmann::json{{"id", "7"}, {"tab", "info"}});
  CHECK(t.fetch("/items/7/info", with_method("POST", "x")).code == 405);
}

TEST_CASE("the access log line reads like Tornado's; log_function replaces it") {
  web::Application app({web::url<Output>("/out")});
  AsyncHTTPTestCase t(app);
  cortado::log::access().set_level(cortado::log::Level::info);
  t.fetch("/out?what=finish");
  bool seen = false;
  for (const auto& r : t.logs()) {
    seen = seen || (r.channel == "access" &&
                    r.message.starts_with("200 GET /out?what=finish (127.0.0.1) "));
  }
  CHECK(seen);
  std::atomic<int> calls{0};
  web::Application custom(
      {web::url<Output>("/out")},
      {.log_function = [&](const web::RequestHandler& h) { calls += h.get_status() == 200; }});
  AsyncHTTPTestCase t2(custom);
  t2.fetch("/out?what=finish");
  CHECK(calls == 1);
}

namespace {
// Set from the server's thread, awaited (with a generous bound) from the test's.
struct Latch {
  void set() {
    std::lock_guard lock(mutex);
    done = true;
    cv.notify_all();
  }
  bool wait(std::chrono::seconds bound = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, bound, [&] { return done; });
  }
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false;
};

Latch waiting, cancelled, closed;
std::atomic<int> closed_calls{0};

struct LongPoll : web::RequestHandler {
  asio::awaitable<void> get() override {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    waiting.set();
    try {
      co_await timer.async_wait(asio::use_awaitable);
    } catch (const std::system_error& e) {
      if (e.code() == asio::error::operation_aborted) cancelled.set();
      throw;
    }
  }
  void on_connection_close() override {
    ++closed_calls;
    closed.set();
  }
};

// Counts up to a target, across the server's thread and the test's.
struct Countdown {
  explicit Countdown(int n) : left(n) {}
  void hit() {
    std::lock_guard lock(mutex);
    if (--left == 0) cv.notify_all();
  }
  bool wait(std::chrono::seconds bound = std::chrono::seconds(10)) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, bound, [&] { return left <= 0; });
  }
  std::mutex mutex;
  std::condition_variable cv;
  int left;
};

constexpr int kPollers = 8;
Countdown pollers_waiting(kPollers), pollers_closed(kPollers);

struct ManyPoll : web::RequestHandler {
  asio::awaitable<void> get() override {
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
    pollers_waiting.hit();
    co_await timer.async_wait(asio::use_awaitable);
  }
  void on_connection_close() override { pollers_closed.hit(); }
};
}  // namespace

TEST_CASE("clients whose handlers began together and then leave are each noticed") {
  // Their close watches start together, after the handlers have suspended.
  web::Application app({web::url<ManyPoll>("/poll")});
  AsyncHTTPTestCase t(app);
  {
    std::vector<std::unique_ptr<cortado::test::RawClient>> clients;
    for (int i = 0; i < kPollers; ++i) {
      clients.push_back(std::make_unique<cortado::test::RawClient>(t.get_http_port()));
    }
    for (auto& c : clients) c->send(cortado::test::request_bytes("GET", "/poll"));
    REQUIRE(pollers_waiting.wait());
  }  // the clients close their sockets here
  CHECK(pollers_closed.wait());
}

TEST_CASE("a client that leaves wakes its handler: on_connection_close, wait cancelled") {
  web::Application app({web::url<LongPoll>("/poll")});
  AsyncHTTPTestCase t(app);
  {
    cortado::test::RawClient c(t.get_http_port());
    c.send(cortado::test::request_bytes("GET", "/poll"));
    REQUIRE(waiting.wait());
  }  // the client closes its socket here
  CHECK(closed.wait());
  CHECK(cancelled.wait());
  CHECK(closed_calls == 1);
}

namespace {
// What a streaming handler has seen of its body, shared with the test's thread.
struct Pieces {
  // Waits (with a generous bound) until the pieces received so far make `expected`.
  bool wait_for_body(std::string_view expected, std::chrono::seconds bound = 10s) {
    std::unique_lock lock(mutex);
    return cv.wait_for(lock, bound, [&] { return body == expected; });
  }
  std::mutex mutex;
  std::condition_variable cv;
  std::string body;
  int calls = 0;
  bool running = false;                // a data_received call has started and not yet returned
  bool overlapped = false;             // one started while another was running
  asio::steady_timer* hold = nullptr;  // a piece containing "hold" waits on it
};
Pieces pieces;

struct PieceUpload : web::RequestHandler {
  static constexpr bool stream_request_body = true;
  asio::awaitable<void> data_received(std::string_view chunk) override {
    const std::string piece(chunk);
    {
      std::lock_guard lock(pieces.mutex);
      pieces.overlapped = pieces.overlapped || pieces.running;
      pieces.running = true;
      ++pieces.calls;
      pieces.body += piece;
      pieces.cv.notify_all();
    }
    if (piece.find("hold") != std::string::npos) {
      try {
        co_await pieces.hold->async_wait(asio::use_awaitable);
      } catch (const std::system_error&) {  // cancelled by the test: carry on
      }
    }
    std::lock_guard lock(pieces.mutex);
    pieces.running = false;
  }
  asio::awaitable<void> put() override {
    std::lock_guard lock(pieces.mutex);
    write(pieces.body);
    co_return;
  }
};

struct Named : web::RequestHandler {
  void initialize(const std::string& name) { name_ = name; }
  asio::awaitable<void> get() override {
    write(name_);
    co_return;
  }
  std::string name_;
};
}  // namespace

TEST_CASE("streaming bodies: each piece as it arrives, one data_received call at a time") {
  web::Application app({web::url<PieceUpload>("/pieces")});
  AsyncHTTPTestCase t(app);
  {
    std::lock_guard lock(pieces.mutex);
    pieces.body.clear();
    pieces.calls = 0;
    pieces.running = pieces.overlapped = false;
  }
  asio::steady_timer hold(t.io_loop().context(), std::chrono::hours(1));
  pieces.hold = &hold;
  cortado::test::RawClient c(t.get_http_port());
  // A chunked body whose chunks are sent one by one, each after the server has taken the last.
  c.send(
      "PUT /pieces HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\nfirst-\r\n");
  REQUIRE(pieces.wait_for_body("first-"));
  c.send("5\r\nhold-\r\n");
  REQUIRE(pieces.wait_for_body("first-hold-"));
  // The handler is suspended in data_received("hold-"): the rest of the body arrives meanwhile,
  // and must wait for that call to return.
  c.send("4\r\nlast\r\n0\r\n\r\n");
  asio::post(t.io_loop().context(), [&hold] { hold.cancel(); });
  const auto r = c.read_response();
  CHECK(r.code == 200);
  CHECK(r.body == "first-hold-last");
  std::lock_guard lock(pieces.mutex);
  CHECK(pieces.calls >= 3);
  CHECK_FALSE(pieces.overlapped);
  CHECK_FALSE(pieces.running);
}

TEST_CASE("XSRF: the X-CSRFToken header carries the token too") {
  web::Application app({web::url<Form>("/form")}, {.cookie_secret = "s", .xsrf_cookies = true});
  AsyncHTTPTestCase t(app);
  std::string cookie(t.fetch("/form").headers.get("Set-Cookie"));
  cookie = cookie.substr(0, cookie.find(';'));
  const std::string token = cookie.substr(cookie.find('=') + 1);
  HTTPRequest header = with_method("POST", "x=1");
  header.headers.set("Cookie", cookie);
  header.headers.set("X-CSRFToken", token);
  auto accepted = t.fetch("/form", header);
  CHECK(accepted.code == 200);
  CHECK(accepted.body == "accepted");
  {
    auto logged = t.expect_log("general", "XSRF cookie does not match");
    HTTPRequest wrong = with_method("POST", "x=1");
    wrong.headers.set("Cookie", cookie);
    wrong.headers.set("X-CSRFToken", "2|00000000|11111111|1");
    CHECK(t.fetch("/form", wrong).code == 403);
  }
}

TEST_CASE("the access log logs 2xx/3xx at INFO, 4xx at WARNING and 5xx at ERROR") {
  web::Application app({web::url<Output>("/out"), web::url<Errors>("/err")});
  AsyncHTTPTestCase t(app);
  cortado::log::access().set_level(cortado::log::Level::info);
  CHECK(t.fetch("/out?what=finish").code == 200);
  HTTPRequest no_follow;
  no_follow.follow_redirects = false;
  CHECK(t.fetch("/out?what=redirect", no_follow).code == 301);
  CHECK(t.fetch("/out?what=status").code == 418);
  CHECK(t.fetch("/nowhere").code == 404);
  CHECK(t.fetch("/err?kind=send_error").code == 503);
  {
    auto logged = t.expect_log("application", "boom");
    CHECK(t.fetch("/err?kind=runtime").code == 500);
  }
  // The level of the one access record for a request line.
  const auto records = t.logs();
  const auto level_of = [&](std::string_view line) {
    std::vector<cortado::log::Level> levels;
    for (const auto& r : records) {
      if (r.channel == "access" && r.message.starts_with(line)) levels.push_back(r.level);
    }
    REQUIRE_MESSAGE(levels.size() == 1, line);
    return levels[0];
  };
  using cortado::log::Level;
  CHECK(level_of("200 GET /out?what=finish (127.0.0.1) ") == Level::info);
  CHECK(level_of("301 GET /out?what=redirect (127.0.0.1) ") == Level::info);
  CHECK(level_of("418 GET /out?what=status (127.0.0.1) ") == Level::warning);
  CHECK(level_of("404 GET /nowhere (127.0.0.1) ") == Level::warning);
  CHECK(level_of("503 GET /err?kind=send_error (127.0.0.1) ") == Level::error);
  CHECK(level_of("500 GET /err?kind=runtime (127.0.0.1) ") == Level::error);
}

TEST_CASE("add_handlers routes by Host; other hosts get the default routes") {
  web::Application app({web::url<Named>("/where", std::string("any host"))});
  app.add_handlers("api\\.example\\.com", {web::url<Named>("/where", std::string("api")),
                                           web::url<Named>("/api-only", std::string("api"))});
  AsyncHTTPTestCase t(app);
  CHECK(t.fetch("/where", with_header("Host", "api.example.com")).body == "api");
  // Matched on the host name: no port, any case.
  CHECK(t.fetch("/where", with_header("Host", "API.Example.com:8080")).body == "api");
  CHECK(t.fetch("/api-only", with_header("Host", "api.example.com")).code == 200);
  CHECK(t.fetch("/where", with_header("Host", "www.example.com")).body == "any host");
  CHECK(t.fetch("/where", with_header("Host", "xapi.example.com")).body == "any host");
  CHECK(t.fetch("/where").body == "any host");
  CHECK(t.fetch("/api-only", with_header("Host", "www.example.com")).code == 404);

  // With default_host, hosts that match no pattern are routed as if sent to it.
  web::Application with_default({web::url<Named>("/where", std::string("any host"))},
                                {.default_host = "main.example.com"});
  with_default.add_handlers("main\\.example\\.com",
                            {web::url<Named>("/where", std::string("main"))});
  with_default.add_handlers("api\\.example\\.com", {web::url<Named>("/where", std::string("api"))});
  AsyncHTTPTestCase t2(with_default);
  CHECK(t2.fetch("/where", with_header("Host", "api.example.com")).body == "api");
  CHECK(t2.fetch("/where", with_header("Host", "main.example.com")).body == "main");
  CHECK(t2.fetch("/where", with_header("Host", "other.example.com")).body == "main");
}

TEST_CASE("the testing module fails a test on an unexpected warning, not an expected one") {
  std::vector<std::string> failures;  // written only from this thread (see below)
  AsyncHTTPTestCase::set_fail_handler([&](const std::string& m) { failures.push_back(m); });
  struct Restore {
    ~Restore() { AsyncHTTPTestCase::set_fail_handler(fail_through_doctest); }
  } restore;
  web::Application app;
  app.get("/warn", [](web::RequestHandler& h) -> asio::awaitable<void> {
    cortado::log::general().warning("something odd in {}", h.request().path);
    h.write("ok");
    co_return;
  });
  {
    AsyncHTTPTestCase t(app);
    {
      auto expected = t.expect_log("general", "something odd");
      CHECK(t.fetch("/warn").code == 200);
    }
    CHECK(t.fetch("/warn?again=1").code == 200);
    CHECK(failures.empty());  // reported when the test case ends, on the test's thread
  }
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("unexpected log record") != std::string::npos);
  CHECK(failures[0].find("something odd in /warn") != std::string::npos);
  // An expected log that never comes fails too.
  failures.clear();
  {
    AsyncHTTPTestCase t(app);
    auto expected = t.expect_log("application", "never logged");
  }
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].find("never logged") != std::string::npos);
}

TEST_CASE("compute_etag can be overridden, or return nothing for no ETag") {
  web::Application app({web::url<CustomEtag>("/v")});
  AsyncHTTPTestCase t(app);
  CHECK(t.fetch("/v").headers.get("Etag") == "\"v7\"");
  auto same = t.fetch("/v", with_header("If-None-Match", "\"v7\""));
  CHECK(same.code == 304);
  CHECK(same.body.empty());
  auto none = t.fetch("/v?none=1", with_header("If-None-Match", "\"v7\""));
  CHECK(none.code == 200);
  CHECK_FALSE(none.headers.contains("Etag"));
  CHECK(none.body == "the content of version 7");
}

TEST_CASE("compress_response leaves a type that does not compress alone") {
  web::Application app({web::url<Image>("/img")}, {.compress_response = true});
  AsyncHTTPTestCase t(app);
  HTTPRequest raw = with_header("Accept-Encoding", "gzip");
  raw.decompress_response = false;
  auto r = t.fetch("/img", raw);
  CHECK(r.code == 200);
  CHECK_FALSE(r.headers.contains("Content-Encoding"));
  CHECK(r.body == std::string(4096, 'p'));
}

TEST_CASE("streaming bodies: prepare can refuse with 401 before the body is read") {
  web::Application app({web::url<Guarded>("/guarded")});
  AsyncHTTPTestCase t(app);
  {
    // No 100 Continue for a refused body: the client never has to send it.
    cortado::test::RawClient c(t.get_http_port());
    auto logged = t.expect_log("general", "no credentials");
    c.send(
        "PUT /guarded HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n"
        "\r\n");
    auto r = c.read_response();
    CHECK(r.code == 401);
    CHECK(r.headers.get("Connection") == "close");
  }
  HTTPRequest allowed = with_method("PUT", std::string(3000, 'g'));
  allowed.headers.add("Authorization", "Bearer someone");
  CHECK(t.fetch("/guarded", allowed).body == "3000 bytes");
}

TEST_CASE("named groups arrive as path_kwargs; the plural argument getters") {
  web::Application app(
      {web::url<Kwargs>("/u/(?P<user>[^/]+)/items/(?P<item>\\d+)"), web::url<Plural>("/plural")});
  AsyncHTTPTestCase t(app);
  CHECK(t.fetch("/u/ann%20b/items/42").body == "ann b/42/0");
  CHECK(t.fetch("/u/ann/items/x", with_method("GET")).code == 404);
  HTTPRequest post = with_method("POST", "x=3&x=4");
  post.headers.set("Content-Type", "application/x-www-form-urlencoded");
  CHECK(t.fetch("/plural?x=1&x=2", post).body == "1,2|3,4|1,2,3,4");
}
