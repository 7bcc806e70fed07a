// The HTTP client against cortado's own server, against scripted raw servers that misbehave,
// against Debian's Tornado, and over TLS with the test CA.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ssl/context.hpp>
#include <asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "client_support.hpp"
#include "cortado/escape.hpp"
#include "cortado/gzip.hpp"
#include "cortado/httpclient.hpp"
#include "cortado/log.hpp"
#include "harness.hpp"

using namespace std::chrono_literals;
using cortado::AsyncHTTPClient;
using cortado::HTTPClient;
using cortado::HTTPClientError;
using cortado::HTTPHeaders;
using cortado::HTTPRequest;
using cortado::HTTPResponse;
using cortado::HTTPServerRequest;
using cortado::test::CountingServer;
using cortado::test::RawServer;
using cortado::test::ServerThread;
using tcp = asio::ip::tcp;

namespace {

const std::string kGzipText = [] {
  std::string s;
  for (int i = 0; i < 500; ++i) s += "gzip me, ";
  return s;
}();

std::string url(std::uint16_t port, std::string_view target, std::string_view host = "127.0.0.1") {
  return fmt::format("http://{}:{}{}", host, port, target);
}

std::string argument(const HTTPServerRequest& request, std::string_view name,
                     std::string fallback = {}) {
  const auto& args = request.query_arguments();
  const auto it = args.find(name);
  return it == args.end() || it->second.empty() ? fallback : it->second.front();
}

asio::awaitable<void> reply_empty(HTTPServerRequest& request, int code) {
  HTTPHeaders headers;
  co_await request.connection->write_headers({code, {}}, headers);
  co_await request.connection->finish();
}

// The routes of cortado's own server, one coroutine each.
asio::awaitable<void> hello(HTTPServerRequest& request) {
  co_await cortado::respond(request, 200, "Hello, World!");
}

asio::awaitable<void> echo(HTTPServerRequest& request) {
  HTTPHeaders headers;
  headers.set("X-Method", request.method);
  headers.set("X-Request-Content-Type", request.headers.get("Content-Type"));
  co_await cortado::respond(request, 200, request.body, std::move(headers));
}

asio::awaitable<void> show_headers(HTTPServerRequest& request) {
  std::string body;
  request.headers.for_each([&](const HTTPHeaders::Field& f) {
    body += f.name;
    body += ": ";
    body += f.value;
    body += "\n";
  });
  co_await cortado::respond(request, 200, body);
}

asio::awaitable<void> chunked(HTTPServerRequest& request) {
  HTTPHeaders headers;
  auto& conn = *request.connection;
  co_await conn.write_headers({200, {}}, headers);
  for (const char* piece : {"one,", "two,", "three"}) {
    co_await conn.write(piece);
    co_await conn.flush();
  }
  co_await conn.finish();
}

asio::awaitable<void> send_gzip(HTTPServerRequest& request, std::string compressed) {
  HTTPHeaders headers;
  headers.set("Content-Encoding", "gzip");
  co_await cortado::respond(request, 200, compressed, std::move(headers));
}

asio::awaitable<void> gzipped(HTTPServerRequest& request) {
  co_await send_gzip(request, cortado::gzip_compress(kGzipText));
}

// 8 MiB of zeros in about 8 KiB.
asio::awaitable<void> gzip_bomb(HTTPServerRequest& request) {
  co_await send_gzip(request, cortado::gzip_compress(std::string(8 * 1024 * 1024, '\0')));
}

asio::awaitable<void> redirect(HTTPServerRequest& request) {
  HTTPHeaders headers;
  headers.set("Location", argument(request, "to"));
  const int status = std::stoi(argument(request, "status", "302"));
  co_await cortado::respond(request, status, "moved", std::move(headers));
}

asio::awaitable<void> redirect_loop(HTTPServerRequest& request) {
  HTTPHeaders headers;
  headers.set("Location", "/loop");
  co_await cortado::respond(request, 302, "again", std::move(headers));
}

// /hops?n=K redirects K times (to /hops?n=K-1, ...) before it answers.
asio::awaitable<void> hops(HTTPServerRequest& request) {
  const int n = std::stoi(argument(request, "n", "0"));
  if (n == 0) co_return co_await cortado::respond(request, 200, "arrived");
  HTTPHeaders headers;
  headers.set("Location", fmt::format("/hops?n={}", n - 1));
  co_await cortado::respond(request, 302, "again", std::move(headers));
}

asio::awaitable<void> pause(HTTPServerRequest& request) {
  co_await cortado::sleep(std::chrono::milliseconds(std::stoi(argument(request, "ms"))));
  co_await cortado::respond(request, 200, "paused");
}

asio::awaitable<void> bad_gzip(HTTPServerRequest& request) {
  std::string broken = cortado::gzip_compress(kGzipText);
  broken[broken.size() / 2] ^= 0x55;  // a flipped byte mid-stream
  co_await send_gzip(request, broken);
}

asio::awaitable<void> no_content(HTTPServerRequest& request) {
  co_await reply_empty(request, 204);
}

asio::awaitable<void> not_modified(HTTPServerRequest& request) {
  co_await reply_empty(request, 304);
}

asio::awaitable<void> status(HTTPServerRequest& request) {
  co_await cortado::respond(request, std::stoi(argument(request, "code")), "status body");
}

asio::awaitable<void> big(HTTPServerRequest& request) {
  co_await cortado::respond(request, 200, std::string(std::stoul(argument(request, "n")), 'x'));
}

using Route = asio::awaitable<void> (*)(HTTPServerRequest&);

asio::awaitable<void> routes(HTTPServerRequest& request) {
  static const std::map<std::string, Route, std::less<>> table = {{"/echo", echo},
                                                                  {"/headers", show_headers},
                                                                  {"/chunked", chunked},
                                                                  {"/gzip", gzipped},
                                                                  {"/bomb", gzip_bomb},
                                                                  {"/redirect", redirect},
                                                                  {"/hops", hops},
                                                                  {"/pause", pause},
                                                                  {"/badgzip", bad_gzip},
                                                                  {"/loop", redirect_loop},
                                                                  {"/nocontent", no_content},
                                                                  {"/notmodified", not_modified},
                                                                  {"/status", status},
                                                                  {"/big", big}};
  const auto it = table.find(request.path);
  co_await (it == table.end() ? hello : it->second)(request);
}

std::string tls_file(const char* name) {
  std::string path = CORTADO_TEST_DATA;
  path.append("/tls/").append(name);
  return path;
}

std::shared_ptr<asio::ssl::context> server_tls() {
  return cortado::make_server_ssl_context(tls_file("server.pem"), tls_file("server.key"));
}

// header_callback's lines held one head, the final 200's (not a 1xx's, not a redirect's).
void check_only_final_head(const std::vector<std::string>& lines) {
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.front() == "HTTP/1.1 200 OK\r\n");
  CHECK(std::count(lines.begin(), lines.end(), "\r\n") == 1);
}

template <class E>
E capture(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  FAIL("the expected exception was not thrown");
  throw std::logic_error("not reached");
}

// Keeps expected server-side error logs out of the test output.
struct QuietLogs {
  QuietLogs() {
    previous = cortado::log::set_sink([](const cortado::log::Record&) {});
  }
  ~QuietLogs() { cortado::log::set_sink(previous); }
  cortado::log::Sink previous;
};

// For tests that run several fetches at once on one loop.
struct Result {
  bool done = false;
  int code = 0;
  std::string body;
  std::chrono::duration<double> request_time{};
  std::exception_ptr error;
};

asio::awaitable<void> fetch_into(AsyncHTTPClient* client, HTTPRequest request, Result* out,
                                 std::vector<int>* order, int index) {
  try {
    HTTPResponse r = co_await client->fetch(std::move(request));
    out->code = r.code;
    out->body = std::move(r.body);
    out->request_time = r.request_time;
  } catch (...) {
    out->error = std::current_exception();
  }
  out->done = true;
  if (order) order->push_back(index);
}

template <class E>
bool threw(const Result& r) {
  if (!r.error) return false;
  try {
    std::rethrow_exception(r.error);
  } catch (const E&) {
    return true;
  } catch (...) {
  }
  return false;
}

// Polls a condition that another thread makes true (a server closing a connection), for at most
// `limit`: a bounded wait for an event, not a sleep standing in for one.
template <class F>
bool eventually(F&& condition, std::chrono::milliseconds limit = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Against cortado's own server.

TEST_CASE("httpclient: GET and POST round trips") {
  ServerThread s(routes);
  HTTPClient client;
  const HTTPResponse r = client.fetch(url(s.port(), "/"));
  CHECK(r.code == 200);
  CHECK(r.reason == "OK");
  CHECK(r.body == "Hello, World!");
  CHECK(r.headers.get("Content-Length") == "13");
  CHECK(r.effective_url == url(s.port(), "/"));
  CHECK(r.request_time.count() > 0);

  const std::string body(100000, 'b');
  const HTTPResponse p =
      client.fetch(HTTPRequest{.url = url(s.port(), "/echo"), .method = "POST", .body = body});
  CHECK(p.headers.get("X-Method") == "POST");
  CHECK(p.body == body);

  const HTTPResponse empty_post =
      client.fetch(HTTPRequest{.url = url(s.port(), "/echo"), .method = "POST"});
  CHECK(empty_post.code == 200);
  CHECK(empty_post.body.empty());
  // An empty POST still says so (RFC 9110 8.6); a GET says nothing.
  CHECK(client.fetch(HTTPRequest{.url = url(s.port(), "/headers"), .method = "POST"})
            .body.find("Content-Length: 0\n") != std::string::npos);
  CHECK(client.fetch(url(s.port(), "/headers")).body.find("Content-Length") == std::string::npos);
}

TEST_CASE("httpclient: request headers, user agent and basic auth") {
  ServerThread s(routes);
  HTTPClient client;
  HTTPRequest request{
      .url = url(s.port(), "/headers?x=1"), .auth_username = "user", .auth_password = "pass"};
  request.headers.add("X-Custom", "yes");
  const HTTPResponse r = client.fetch(request);
  CHECK(r.body.find(fmt::format("Host: 127.0.0.1:{}\n", s.port())) != std::string::npos);
  CHECK(r.body.find("User-Agent: cortado/") != std::string::npos);
  CHECK(r.body.find("Accept-Encoding: gzip\n") != std::string::npos);
  CHECK(r.body.find("Authorization: Basic dXNlcjpwYXNz\n") != std::string::npos);
  CHECK(r.body.find("X-Custom: yes\n") != std::string::npos);

  request.headers.add("X-Evil", "a\r\nInjected: 1");
  CHECK_THROWS_AS(client.fetch(request), std::invalid_argument);

  // What the client cannot send as asked is refused before anything is sent.
  CountingServer counted(routes);
  const auto refused = [&](HTTPRequest bad) {
    bad.url = url(counted.port(), "/echo");
    CHECK_THROWS_AS(client.fetch(bad), std::invalid_argument);
  };
  HTTPRequest bad_name;
  bad_name.headers.add("X Bad", "1");
  refused(bad_name);
  HTTPRequest transfer_encoding{.method = "POST", .body = "x"};
  transfer_encoding.headers.add("Transfer-Encoding", "chunked");
  refused(transfer_encoding);
  refused(HTTPRequest{.method = "GE T"});
  refused(HTTPRequest{.method = "GET\r\nX: y"});
  refused(HTTPRequest{.user_agent = "agent\r\nX: y"});
  CHECK(counted.accepted() == 0);
}

TEST_CASE("httpclient: chunked response") {
  ServerThread s(routes);
  HTTPClient client;
  const HTTPResponse r = client.fetch(url(s.port(), "/chunked"));
  CHECK(r.headers.get("Transfer-Encoding") == "chunked");
  CHECK(r.body == "one,two,three");
}

TEST_CASE("httpclient: gzip responses are inflated unless asked not to") {
  ServerThread s(routes);
  HTTPClient client;
  const HTTPResponse r = client.fetch(url(s.port(), "/gzip"));
  CHECK(r.body == kGzipText);
  CHECK_FALSE(r.headers.contains("Content-Encoding"));
  CHECK(r.headers.get("X-Consumed-Content-Encoding") == "gzip");

  const HTTPResponse raw =
      client.fetch(HTTPRequest{.url = url(s.port(), "/gzip"), .decompress_response = false});
  CHECK(raw.headers.get("Content-Encoding") == "gzip");
  CHECK(cortado::gzip_decompress(raw.body, 1 << 20) == kGzipText);

  std::string streamed;
  int pieces = 0;
  const HTTPResponse s2 = client.fetch(
      HTTPRequest{.url = url(s.port(), "/gzip"), .streaming_callback = [&](std::string_view piece) {
                    streamed += piece;
                    ++pieces;
                  }});
  CHECK(s2.body.empty());
  CHECK(pieces >= 1);
  CHECK(streamed == kGzipText);
}

TEST_CASE("httpclient: a gzip body that does not inflate is an error") {
  ServerThread s(routes);
  HTTPClient client;
  const auto e =
      capture<cortado::HTTPProtocolError>([&] { client.fetch(url(s.port(), "/badgzip")); });
  CHECK(e.cause() == cortado::client_errc::bad_content_encoding);
  // Not inflated, it is just bytes.
  CHECK(client.fetch(HTTPRequest{.url = url(s.port(), "/badgzip"), .decompress_response = false})
            .code == 200);
}

TEST_CASE("httpclient: a gzip bomb stops at max_body_size when streamed too") {
  ServerThread s(routes);
  HTTPClient client;
  std::uint64_t streamed = 0;
  const auto e = capture<cortado::HTTPProtocolError>([&] {
    client.fetch(
        HTTPRequest{.url = url(s.port(), "/bomb"),
                    .streaming_callback = [&](std::string_view p) { streamed += p.size(); },
                    .max_body_size = 1000000});
  });
  CHECK(e.cause() == cortado::http_errc::body_too_large);
  CHECK(streamed <= 1000000);
}

TEST_CASE("httpclient: request_time counts every redirect and the time queued") {
  ServerThread s(routes);
  HTTPClient client;
  // Lower bounds only: the pauses guarantee them; an upper bound would be a timing test.
  const HTTPResponse redirected =
      client.fetch(url(s.port(), "/redirect?to=" + cortado::url_escape("/pause?ms=200")));
  CHECK(redirected.body == "paused");
  CHECK(redirected.request_time.count() >= 0.2);

  cortado::IOLoop loop;
  AsyncHTTPClient one_at_a_time(loop.executor(), {.max_clients = 1});
  std::vector<Result> results(2);
  for (int i = 0; i < 2; ++i) {
    asio::co_spawn(loop.context(),
                   fetch_into(&one_at_a_time, HTTPRequest{.url = url(s.port(), "/pause?ms=200")},
                              &results[i], nullptr, i),
                   asio::detached);
  }
  loop.run();
  CHECK(results[0].request_time.count() >= 0.2);
  CHECK(results[1].request_time.count() >= 0.4);  // 0.2 s queued behind the first
}

TEST_CASE("httpclient: a gzip bomb stops at max_body_size") {
  QuietLogs quiet;
  ServerThread s(routes);
  HTTPClient client;
  const auto e = capture<cortado::HTTPProtocolError>([&] {
    client.fetch(HTTPRequest{.url = url(s.port(), "/bomb"), .max_body_size = 1024 * 1024});
  });
  CHECK(e.cause() == cortado::http_errc::body_too_large);
  // The same limit on the wire.
  const auto wire = capture<cortado::HTTPProtocolError>([&] {
    client.fetch(HTTPRequest{.url = url(s.port(), "/big?n=200000"), .max_body_size = 1000});
  });
  CHECK(wire.cause() == cortado::http_errc::body_too_large);
}

TEST_CASE("httpclient: same-origin redirects keep credentials, cross-origin ones drop them") {
  ServerThread a(routes);
  ServerThread b(routes);
  HTTPClient client;
  HTTPRequest request{.url = url(a.port(), "/redirect?to=/headers"),
                      .auth_username = "user",
                      .auth_password = "pass"};
  request.headers.add("Cookie", "session=secret");
  request.headers.add("Proxy-Authorization", "Basic cHJveHk6cHc=");
  const HTTPResponse same = client.fetch(request);
  CHECK(same.code == 200);
  CHECK(same.effective_url == url(a.port(), "/headers"));
  CHECK(same.body.find("\nAuthorization: Basic") != std::string::npos);
  CHECK(same.body.find("Cookie: session=secret") != std::string::npos);
  CHECK(same.body.find("Proxy-Authorization: Basic cHJveHk6cHc=") != std::string::npos);

  request.url = url(a.port(), "/redirect?to=" + url(b.port(), "/headers"));
  request.headers.add("Authorization", "Bearer token");
  request.auth_username.clear();
  const HTTPResponse cross = client.fetch(request);
  CHECK(cross.code == 200);
  CHECK(cross.effective_url == url(b.port(), "/headers"));
  CHECK(cross.body.find(fmt::format("Host: 127.0.0.1:{}", b.port())) != std::string::npos);
  CHECK(cross.body.find("Authorization") == std::string::npos);
  CHECK(cross.body.find("Cookie") == std::string::npos);
}

TEST_CASE("httpclient: redirect methods, status by status") {
  ServerThread s(routes);
  HTTPClient client;
  struct Case {
    int status;
    const char* method;
    const char* then;  // the method of the next hop
  };
  // RFC 9110 15.4: 301 and 302 may turn a POST (only) into a GET; 303 turns anything but HEAD
  // into a GET; 307 and 308 keep the method and the body.
  for (const Case c :
       {Case{301, "POST", "GET"}, Case{302, "POST", "GET"}, Case{302, "PUT", "PUT"},
        Case{303, "POST", "GET"}, Case{303, "PUT", "GET"}, Case{303, "HEAD", "HEAD"},
        Case{307, "POST", "POST"}, Case{308, "POST", "POST"}, Case{308, "PUT", "PUT"}}) {
    CAPTURE(c.status);
    CAPTURE(std::string(c.method));
    HTTPRequest request{.url = url(s.port(), fmt::format("/redirect?status={}&to=/echo", c.status)),
                        .method = c.method,
                        .body = std::string(c.method) == "HEAD" ? "" : "data"};
    request.headers.add("Content-Type", "text/x-data");
    const HTTPResponse r = client.fetch(request);
    CHECK(r.code == 200);
    CHECK(r.headers.get("X-Method") == c.then);
    const bool to_get = std::string(c.then) != c.method;
    CHECK(r.body == (to_get || std::string(c.method) == "HEAD" ? "" : "data"));
    // A body's headers go with the body.
    CHECK(r.headers.get("X-Request-Content-Type") == (to_get ? "" : "text/x-data"));
  }
}

TEST_CASE("httpclient: redirect methods: 303 becomes GET, 307 keeps the POST") {
  ServerThread s(routes);
  HTTPClient client;
  const HTTPResponse see_other = client.fetch(HTTPRequest{
      .url = url(s.port(), "/redirect?status=303&to=/echo"), .method = "POST", .body = "data"});
  CHECK(see_other.headers.get("X-Method") == "GET");
  CHECK(see_other.body.empty());
  const HTTPResponse temporary = client.fetch(HTTPRequest{
      .url = url(s.port(), "/redirect?status=307&to=echo"), .method = "POST", .body = "data"});
  CHECK(temporary.headers.get("X-Method") == "POST");
  CHECK(temporary.body == "data");

  capture<cortado::HTTPProtocolError>(
      [&] { client.fetch(url(s.port(), "/redirect?to=ftp://127.0.0.1/file")); });

  const HTTPResponse unfollowed = client.fetch(
      HTTPRequest{.url = url(s.port(), "/redirect?to=/echo"), .follow_redirects = false});
  CHECK(unfollowed.code == 302);
  CHECK(unfollowed.headers.get("Location") == "/echo");
  CHECK(unfollowed.body == "moved");
}

TEST_CASE("httpclient: max_redirects is the number of redirects followed") {
  ServerThread s(routes);
  HTTPClient client;
  const auto hops = [&](int n) { return url(s.port(), fmt::format("/hops?n={}", n)); };
  CHECK(client.fetch(HTTPRequest{.url = hops(3), .max_redirects = 3}).body == "arrived");
  const HTTPResponse short_of =
      client.fetch(HTTPRequest{.url = hops(4), .max_redirects = 3}, false);
  CHECK(short_of.code == 302);
  CHECK(short_of.headers.get("Location") == "/hops?n=0");  // the 4th redirect, not followed
  CHECK(short_of.effective_url == hops(1));
  CHECK(client.fetch(hops(5)).body == "arrived");  // the default is 5
  CHECK(client.fetch(hops(6), false).code == 302);
  CHECK(client.fetch(HTTPRequest{.url = hops(1), .max_redirects = 0}, false).code == 302);
}

TEST_CASE("httpclient: max_redirects exceeded") {
  ServerThread s(routes);
  HTTPClient client;
  const auto e = capture<HTTPClientError>(
      [&] { client.fetch(HTTPRequest{.url = url(s.port(), "/loop"), .max_redirects = 3}); });
  CHECK(e.code() == 302);
  REQUIRE(e.response() != nullptr);
  CHECK(e.response()->headers.get("Location") == "/loop");

  const HTTPResponse r =
      client.fetch(HTTPRequest{.url = url(s.port(), "/loop"), .max_redirects = 2}, false);
  CHECK(r.code == 302);
  CHECK(r.body == "again");
}

TEST_CASE("httpclient: HEAD, 204 and 304 have no body and keep the connection usable") {
  CountingServer s(routes);
  HTTPClient client;
  const HTTPResponse head = client.fetch(HTTPRequest{.url = url(s.port(), "/"), .method = "HEAD"});
  CHECK(head.code == 200);
  CHECK(head.headers.get("Content-Length") == "13");
  CHECK(head.body.empty());
  const HTTPResponse no_content = client.fetch(url(s.port(), "/nocontent"));
  CHECK(no_content.code == 204);
  CHECK(no_content.body.empty());
  const HTTPResponse not_modified = client.fetch(url(s.port(), "/notmodified"));
  CHECK(not_modified.code == 304);
  CHECK(not_modified.body.empty());
  CHECK(client.fetch(url(s.port(), "/")).body == "Hello, World!");
  CHECK(s.accepted() == 1);
}

TEST_CASE("httpclient: raise_error on and off") {
  ServerThread s(routes);
  HTTPClient client;
  const auto e = capture<HTTPClientError>([&] { client.fetch(url(s.port(), "/status?code=404")); });
  CHECK(e.code() == 404);
  REQUIRE(e.response() != nullptr);
  CHECK(e.response()->body == "status body");
  CHECK(std::string(e.what()) == "HTTP 404: Not Found");

  const HTTPResponse r = client.fetch(url(s.port(), "/status?code=503"), false);
  CHECK(r.code == 503);
  CHECK(r.body == "status body");
  CHECK(client.fetch(url(s.port(), "/status?code=201")).code == 201);
}

TEST_CASE("httpclient: the callbacks see only the response that is not a followed redirect") {
  ServerThread s(routes);
  HTTPClient client;
  std::string streamed;
  std::vector<std::string> lines;
  const HTTPResponse r = client.fetch(
      HTTPRequest{.url = url(s.port(), "/hops?n=2"),
                  .streaming_callback = [&](std::string_view piece) { streamed += piece; },
                  .header_callback = [&](std::string_view line) { lines.emplace_back(line); }});
  CHECK(r.code == 200);
  CHECK(streamed == "arrived");  // no "again" from the two 302s
  check_only_final_head(lines);
}

TEST_CASE("httpclient: TLS files that cannot be read are the caller's error") {
  ServerThread s(routes);
  HTTPClient client;
  const std::string target = fmt::format("https://127.0.0.1:{}/", s.port());
  CHECK_THROWS_AS(client.fetch(HTTPRequest{.url = target, .ca_certs = "/nonexistent/ca.pem"}),
                  std::invalid_argument);
  CHECK_THROWS_AS(
      client.fetch(HTTPRequest{
          .url = target, .ca_certs = tls_file("ca.pem"), .client_cert = "/nonexistent/client.pem"}),
      std::invalid_argument);
  CHECK_THROWS_AS(client.fetch(HTTPRequest{.url = target,
                                           .ca_certs = tls_file("ca.pem"),
                                           .client_cert = tls_file("server.pem"),
                                           .client_key = tls_file("ca.pem")}),  // not a key
                  std::invalid_argument);
}

TEST_CASE("httpclient: streaming and header callbacks") {
  ServerThread s(routes);
  HTTPClient client;
  std::string streamed;
  int pieces = 0;
  std::vector<std::string> lines;
  const HTTPResponse r = client.fetch(
      HTTPRequest{.url = url(s.port(), "/big?n=200000"),
                  .streaming_callback =
                      [&](std::string_view piece) {
                        streamed += piece;
                        ++pieces;
                      },
                  .header_callback = [&](std::string_view line) { lines.emplace_back(line); }});
  CHECK(r.code == 200);
  CHECK(r.body.empty());
  CHECK(streamed == std::string(200000, 'x'));
  CHECK(pieces > 1);
  REQUIRE(lines.size() >= 3);
  CHECK(lines.front() == "HTTP/1.1 200 OK\r\n");
  CHECK(lines.back() == "\r\n");
  CHECK(std::find(lines.begin(), lines.end(), "Content-Length: 200000\r\n") != lines.end());
}

TEST_CASE("httpclient: Expect: 100-continue") {
  ServerThread s(routes);
  HTTPClient client;
  const HTTPResponse r = client.fetch(HTTPRequest{.url = url(s.port(), "/echo"),
                                                  .method = "PUT",
                                                  .body = "after the 100",
                                                  .expect_100_continue = true});
  CHECK(r.body == "after the 100");
}

TEST_CASE("httpclient: Expect: 100-continue holds the body back until the server agrees") {
  // The server refuses the expectation with a final response: a client that waits for the 100
  // never sends the body, on this connection or any other. Whatever it did send after the head
  // arrives before it closes.
  std::promise<std::string> after_head;
  RawServer s([&after_head](tcp::socket& socket, int) -> asio::awaitable<void> {
    std::string buffer;
    if (!co_await RawServer::read_head(socket, buffer)) co_return;
    co_await RawServer::send(socket,
                             "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n");
    char piece[4096];
    for (std::error_code ec; !ec;) {
      const std::size_t n = co_await socket.async_read_some(
          asio::buffer(piece), asio::redirect_error(asio::use_awaitable, ec));
      buffer.append(piece, n);
    }
    after_head.set_value(buffer);
  });
  auto sent = after_head.get_future();
  {
    HTTPClient client;
    const HTTPResponse r = client.fetch(HTTPRequest{.url = url(s.port(), "/"),
                                                    .method = "PUT",
                                                    .body = "the body, held back",
                                                    .expect_100_continue = true},
                                        false);
    CHECK(r.code == 417);
  }  // the client, and so its connections, closed
  REQUIRE(sent.wait_for(30s) == std::future_status::ready);
  CHECK(sent.get() == "");
  CHECK(s.accepted() == 1);
}

TEST_CASE("httpclient: keep-alive connections are reused") {
  CountingServer s(routes);
  HTTPClient client;
  for (int i = 0; i < 5; ++i) CHECK(client.fetch(url(s.port(), "/")).code == 200);
  CHECK(client.fetch(HTTPRequest{.url = url(s.port(), "/echo"), .method = "POST", .body = "x"})
            .body == "x");
  CHECK(client.fetch(url(s.port(), "/chunked")).body == "one,two,three");
  CHECK(s.accepted() == 1);

  // A request that asks the server to close does not leave its connection in the pool.
  HTTPRequest closing{.url = url(s.port(), "/")};
  closing.headers.add("Connection", "close");
  CHECK(client.fetch(closing).code == 200);
  CHECK(client.fetch(url(s.port(), "/")).code == 200);
  CHECK(s.accepted() == 2);
}

TEST_CASE("httpclient: idle connections are capped and expire") {
  CountingServer s(routes);
  cortado::IOLoop loop;
  AsyncHTTPClient client(loop.executor(), {.max_clients = 4, .max_idle_per_host = 1});
  std::vector<Result> results(4);
  for (int i = 0; i < 4; ++i) {
    asio::co_spawn(
        loop.context(),
        fetch_into(&client, HTTPRequest{.url = url(s.port(), "/")}, &results[i], nullptr, i),
        asio::detached);
  }
  loop.run();
  for (const auto& r : results) CHECK(r.code == 200);
  CHECK(s.accepted() == 4);
  CHECK(client.stats().idle_connections == 1);
  CHECK(client.stats().connections_opened == 4);

  HTTPClient expiring({.idle_timeout = 0s});
  CountingServer t(routes);
  CHECK(expiring.fetch(url(t.port(), "/")).code == 200);
  CHECK(expiring.fetch(url(t.port(), "/")).code == 200);
  CHECK(t.accepted() == 2);
}

TEST_CASE("httpclient: max_idle_connections caps the idle connections of every host together") {
  CountingServer a(routes);
  CountingServer b(routes);
  HTTPClient client({.max_idle_connections = 1});
  CHECK(client.fetch(url(a.port(), "/")).code == 200);
  CHECK(client.fetch(url(b.port(), "/")).code == 200);  // closes a's: the least recently used
  CHECK(client.fetch(url(b.port(), "/")).code == 200);
  CHECK(client.fetch(url(a.port(), "/")).code == 200);
  CHECK(a.accepted() == 2);
  CHECK(b.accepted() == 1);
}

TEST_CASE("httpclient: user agents") {
  ServerThread s(routes);
  HTTPClient client({.user_agent = "client-default/1"});
  CHECK(client.fetch(url(s.port(), "/headers")).body.find("User-Agent: client-default/1\n") !=
        std::string::npos);
  HTTPRequest own{.url = url(s.port(), "/headers")};
  own.headers.add("User-Agent", "from-headers/2");
  CHECK(client.fetch(own).body.find("User-Agent: from-headers/2\n") != std::string::npos);
  own.user_agent = "from-field/3";
  const std::string body = client.fetch(own).body;
  CHECK(body.find("User-Agent: from-field/3\n") != std::string::npos);
  CHECK(body.find("from-headers") == std::string::npos);
}

TEST_CASE("httpclient: a connection the server closed while idle is not reused") {
  cortado::HTTPServerOptions options;
  options.idle_connection_timeout = 100ms;
  CountingServer s(routes, options);
  HTTPClient client;
  CHECK(client.fetch(url(s.port(), "/")).code == 200);
  REQUIRE(eventually([&] { return s.open_connections() == 0; }));
  CHECK(client.fetch(url(s.port(), "/")).code == 200);
  CHECK(s.accepted() == 2);
}

namespace {

// Answers the first request of its first connection with keep-alive, then closes that
// connection as the second request arrives: the race that the peek before reuse cannot see.
asio::awaitable<void> close_on_second_request(tcp::socket& socket, int n) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  if (n == 0) {
    co_await RawServer::send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
    std::string second;
    co_await RawServer::read_head(socket, second);
    co_return;  // closes without answering
  }
  co_await RawServer::send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nretry");
  co_await RawServer::wait_for_close(socket);
}

}  // namespace

TEST_CASE("httpclient: an idempotent request is retried once when a reused connection fails") {
  SUBCASE("GET is retried on a new connection") {
    RawServer s(close_on_second_request);
    HTTPClient client;
    CHECK(client.fetch(url(s.port(), "/")).body == "first");
    CHECK(client.fetch(url(s.port(), "/")).body == "retry");
    CHECK(s.accepted() == 2);
  }
  SUBCASE("once: a retry that fails too is the fetch's error") {
    RawServer s([](tcp::socket& socket, int n) -> asio::awaitable<void> {
      std::string buffer;
      if (!co_await RawServer::read_head(socket, buffer)) co_return;
      if (n == 0) {
        co_await RawServer::send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
        co_await RawServer::read_head(socket, buffer);
      }
      co_return;  // closes without answering: the reused connection, then the fresh one
    });
    HTTPClient client;
    CHECK(client.fetch(url(s.port(), "/")).body == "first");
    capture<cortado::HTTPStreamClosedError>([&] { client.fetch(url(s.port(), "/")); });
    CHECK(s.accepted() == 2);
  }
  SUBCASE("POST is not") {
    RawServer s(close_on_second_request);
    HTTPClient client;
    CHECK(client.fetch(url(s.port(), "/")).body == "first");
    capture<cortado::HTTPStreamClosedError>([&] {
      client.fetch(HTTPRequest{.url = url(s.port(), "/"), .method = "POST", .body = "once"});
    });
    CHECK(s.accepted() == 1);
  }
}

namespace {

asio::awaitable<void> never_answer(tcp::socket& socket, int) {
  co_await RawServer::wait_for_close(socket);
}

}  // namespace

TEST_CASE("httpclient: a server that never answers times out") {
  RawServer s(never_answer);
  HTTPClient client;
  const auto start = std::chrono::steady_clock::now();
  const auto e = capture<cortado::HTTPTimeoutError>(
      [&] { client.fetch(HTTPRequest{.url = url(s.port(), "/"), .request_timeout = 300ms}); });
  CHECK(e.code() == 599);
  CHECK(e.cause() == cortado::stream_errc::timed_out);
  // Generous, yet well short of the 20 s default that an ignored setting would wait.
  CHECK(std::chrono::steady_clock::now() - start < 10s);
}

namespace {

// A response that never ends: its body comes a byte every 20 ms.
asio::awaitable<void> drip_body(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  if (!co_await RawServer::send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")) {
    co_return;
  }
  asio::steady_timer timer(socket.get_executor());
  do {
    timer.expires_after(20ms);
    co_await timer.async_wait(asio::use_awaitable);
  } while (co_await RawServer::send(socket, "x"));
}

// Interim responses, one every 20 ms, and never a final one.
asio::awaitable<void> endless_interim(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  asio::steady_timer timer(socket.get_executor());
  while (co_await RawServer::send(socket, "HTTP/1.1 102 Processing\r\n\r\n")) {
    timer.expires_after(20ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

}  // namespace

TEST_CASE("httpclient: a server that keeps the fetch busy still times out at request_timeout") {
  for (const RawServer::Script& script :
       {RawServer::Script(drip_body), RawServer::Script(endless_interim)}) {
    RawServer s(script);
    HTTPClient client;
    const auto start = std::chrono::steady_clock::now();
    const auto e = capture<cortado::HTTPTimeoutError>(
        [&] { client.fetch(HTTPRequest{.url = url(s.port(), "/"), .request_timeout = 300ms}); });
    CHECK(e.code() == 599);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
  }
}

TEST_CASE("httpclient: a connection the server never completes times out as a connect timeout") {
  // A listener that accepts nothing, with a backlog of 0: once one connection waits in its
  // queue, Linux drops further SYNs, so the client's connect gets no answer (and the retransmit,
  // a second later, is dropped too).
  asio::io_context context;
  tcp::acceptor full(context);
  full.open(tcp::v4());
  full.bind({asio::ip::make_address("127.0.0.1"), 0});
  full.listen(0);
  const std::uint16_t port = full.local_endpoint().port();
  // The connection that fills the queue: established (writable) once the kernel has queued it.
  // Plain POSIX calls: Asio's synchronous connect would wait for it whatever the socket's mode.
  const int filler = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(filler >= 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = ::connect(filler, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  REQUIRE((rc == 0 || errno == EINPROGRESS));
  pollfd established{filler, POLLOUT, 0};
  REQUIRE(::poll(&established, 1, 10000) == 1);

  HTTPClient client;
  const auto start = std::chrono::steady_clock::now();
  const auto e = capture<cortado::HTTPTimeoutError>([&] {
    client.fetch(
        HTTPRequest{.url = url(port, "/"), .connect_timeout = 300ms, .request_timeout = 60s});
  });
  CHECK(std::string(e.what()).find("connecting") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  ::close(filler);
}

TEST_CASE("httpclient: a TLS handshake that never comes times out as a connect timeout") {
  RawServer s(never_answer);
  HTTPClient client;
  const auto e = capture<cortado::HTTPTimeoutError>([&] {
    client.fetch(HTTPRequest{.url = fmt::format("https://127.0.0.1:{}/", s.port()),
                             .connect_timeout = 300ms,
                             .request_timeout = 60s});
  });
  CHECK(std::string(e.what()).find("connecting") != std::string::npos);
}

TEST_CASE("httpclient: max_clients queues the rest in FIFO order") {
  CountingServer s(routes);
  cortado::IOLoop loop;
  AsyncHTTPClient client(loop.executor(), {.max_clients = 2});
  std::vector<Result> results(12);
  std::vector<int> order;
  for (int i = 0; i < 12; ++i) {
    asio::co_spawn(
        loop.context(),
        fetch_into(
            &client,
            HTTPRequest{.url = url(s.port(), "/echo"), .method = "POST", .body = std::to_string(i)},
            &results[i], &order, i),
        asio::detached);
  }
  CHECK(client.stats().active == 0);
  loop.run();
  for (int i = 0; i < 12; ++i) {
    CHECK(results[i].done);
    CHECK(results[i].body == std::to_string(i));
  }
  CHECK(s.accepted() <= 2);  // never more than max_clients connections at once
  CHECK(client.stats().idle_connections == static_cast<std::size_t>(s.accepted()));
  CHECK(client.stats().active == 0);

  // With one slot, fetches finish in the order they were made.
  CountingServer one(routes);
  AsyncHTTPClient serial(loop.executor(), {.max_clients = 1});
  std::vector<Result> serial_results(8);
  std::vector<int> serial_order;
  for (int i = 0; i < 8; ++i) {
    asio::co_spawn(loop.context(),
                   fetch_into(&serial, HTTPRequest{.url = url(one.port(), "/")}, &serial_results[i],
                              &serial_order, i),
                   asio::detached);
  }
  loop.context().restart();
  loop.run();
  CHECK(serial_order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(one.accepted() == 1);
}

TEST_CASE("httpclient: time spent queued counts toward request_timeout") {
  RawServer s(never_answer);
  cortado::IOLoop loop;
  AsyncHTTPClient client(loop.executor(), {.max_clients = 1});
  Result holder, queued;
  std::vector<int> order;
  asio::co_spawn(loop.context(),
                 fetch_into(&client, HTTPRequest{.url = url(s.port(), "/"), .request_timeout = 2s},
                            &holder, &order, 0),
                 asio::detached);
  asio::co_spawn(
      loop.context(),
      fetch_into(&client, HTTPRequest{.url = url(s.port(), "/"), .request_timeout = 200ms}, &queued,
                 &order, 1),
      asio::detached);
  loop.run();
  CHECK(threw<cortado::HTTPTimeoutError>(holder));
  CHECK(threw<cortado::HTTPTimeoutError>(queued));
  CHECK(order == std::vector<int>{1, 0});  // the queued one gave up first, still queued
  CHECK(s.accepted() == 1);
}

namespace {

// Cancels `signal` once the server has accepted the fetch's connection.
asio::awaitable<void> cancel_after_accept(const RawServer* server,
                                          asio::cancellation_signal* signal) {
  while (server->accepted() == 0) co_await cortado::sleep(5ms);
  signal->emit(asio::cancellation_type::terminal);
}

bool aborted(const Result& r) {
  if (!r.error) return false;
  try {
    std::rethrow_exception(r.error);
  } catch (const HTTPClientError&) {
    return false;
  } catch (const std::system_error& e) {
    return e.code() == asio::error::operation_aborted;
  } catch (...) {
  }
  return false;
}

}  // namespace

TEST_CASE("httpclient: a cancelled fetch ends with operation_aborted and frees its slot") {
  RawServer silent(never_answer);
  CountingServer s(routes);
  cortado::IOLoop loop;
  AsyncHTTPClient client(loop.executor(), {.max_clients = 1});
  asio::cancellation_signal signal;
  Result cancelled, queued;
  asio::co_spawn(
      loop.context(),
      fetch_into(&client, HTTPRequest{.url = url(silent.port(), "/")}, &cancelled, nullptr, 0),
      asio::bind_cancellation_slot(signal.slot(), asio::detached));
  asio::co_spawn(loop.context(),
                 fetch_into(&client, HTTPRequest{.url = url(s.port(), "/")}, &queued, nullptr, 1),
                 asio::detached);
  asio::co_spawn(loop.context(), cancel_after_accept(&silent, &signal), asio::detached);
  loop.run();
  CHECK(aborted(cancelled));
  CHECK(queued.code == 200);
  CHECK(client.stats().active == 0);
  CHECK(client.stats().idle_connections == 1);  // the cancelled connection was not pooled
}

TEST_CASE("httpclient: connection refused and bad URLs") {
  HTTPClient client;
  std::uint16_t closed_port;
  {
    asio::io_context context;
    tcp::acceptor probe(context, {asio::ip::make_address("127.0.0.1"), 0});
    closed_port = probe.local_endpoint().port();
  }
  const auto e =
      capture<cortado::HTTPConnectionError>([&] { client.fetch(url(closed_port, "/")); });
  CHECK(e.cause() == asio::error::connection_refused);
  CHECK_THROWS_AS(client.fetch("ftp://127.0.0.1/"), cortado::InvalidURLError);
  CHECK_THROWS_AS(client.fetch("http://user:pw@127.0.0.1/"), cortado::InvalidURLError);
  CHECK_THROWS_AS(client.fetch("/relative"), cortado::InvalidURLError);
}

TEST_CASE("httpclient: IPv6 literal URLs") {
  CountingServer s(routes, {}, "::1");
  HTTPClient client;
  const HTTPResponse r = client.fetch(fmt::format("http://[::1]:{}/headers", s.port()));
  CHECK(r.code == 200);
  CHECK(r.effective_url == fmt::format("http://[::1]:{}/headers", s.port()));
  CHECK(r.body.find(fmt::format("Host: [::1]:{}", s.port())) != std::string::npos);
}

TEST_CASE("httpclient: the async client is affine to its loop, and close() stops it") {
  cortado::IOLoop mine;
  cortado::IOLoop other;
  AsyncHTTPClient client(mine.executor());
  CHECK_THROWS_AS(other.run_sync(client.fetch("http://127.0.0.1:1/")), std::logic_error);
  client.close();
  CHECK_THROWS_AS(mine.run_sync(client.fetch("http://127.0.0.1:1/")), std::logic_error);
}

// ------------------------------------------------------------------------------------------
// Hostile and unusual servers.

namespace {

asio::awaitable<void> endless_headers(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  if (!co_await RawServer::send(socket, "HTTP/1.1 200 OK\r\n")) co_return;
  const std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
  for (int i = 0; i < 100000; ++i) {  // 100 MB at most, if nobody stopped reading
    if (!co_await RawServer::send(socket, line)) co_return;
  }
}

asio::awaitable<void> bad_chunk(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  co_await RawServer::send(socket, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  co_await RawServer::wait_for_close(socket);
}

asio::awaitable<void> huge_chunk(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  co_await RawServer::send(socket,
                           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n");
  co_await RawServer::wait_for_close(socket);
}

asio::awaitable<void> truncated_body(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  co_await RawServer::send(socket, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
}

asio::awaitable<void> close_delimited(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  co_await RawServer::send(socket,
                           "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close");
}

asio::awaitable<void> interim_responses(tcp::socket& socket, int) {
  std::string buffer;
  while (co_await RawServer::read_head(socket, buffer)) {
    co_await RawServer::send(socket,
                             "HTTP/1.1 103 Early Hints\r\nLink: </style.css>\r\n\r\n"
                             "HTTP/1.1 102 Processing\r\n\r\n"
                             "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  }
}

asio::awaitable<void> http10_server(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  co_await RawServer::send(socket, "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\n1.0!");
  co_await RawServer::wait_for_close(socket);
}

asio::awaitable<void> chunked_with_trailers(tcp::socket& socket, int) {
  std::string buffer;
  while (co_await RawServer::read_head(socket, buffer)) {
    co_await RawServer::send(socket,
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5;name=value\r\nhello\r\n0\r\nX-Checksum: abc\r\n"
                             "Set-Cookie: ignored=1\r\n\r\n");
  }
}

asio::awaitable<void> unasked_upgrade(tcp::socket& socket, int) {
  std::string buffer;
  if (!co_await RawServer::read_head(socket, buffer)) co_return;
  co_await RawServer::send(socket, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
  co_await RawServer::wait_for_close(socket);
}

}  // namespace

TEST_CASE("httpclient: a huge header block is an error, not unbounded memory") {
  RawServer s(endless_headers);
  HTTPClient client;
  const auto e = capture<cortado::HTTPProtocolError>([&] { client.fetch(url(s.port(), "/")); });
  CHECK(e.cause() == cortado::http_errc::header_too_large);
}

TEST_CASE("httpclient: malformed and oversized chunks are errors") {
  {
    RawServer s(bad_chunk);
    HTTPClient client;
    const auto e = capture<cortado::HTTPProtocolError>([&] { client.fetch(url(s.port(), "/")); });
    CHECK(e.cause() == cortado::http_errc::bad_chunk);
  }
  {
    RawServer s(huge_chunk);
    HTTPClient client;
    const auto e = capture<cortado::HTTPProtocolError>([&] { client.fetch(url(s.port(), "/")); });
    CHECK(e.cause() == cortado::http_errc::body_too_large);
  }
}

TEST_CASE("httpclient: framing edge cases") {
  SUBCASE("a body cut short by a close") {
    RawServer s(truncated_body);
    HTTPClient client;
    capture<cortado::HTTPStreamClosedError>([&] { client.fetch(url(s.port(), "/")); });
  }
  SUBCASE("a close-delimited body, and its connection is not reused") {
    RawServer s(close_delimited);
    HTTPClient client;
    CHECK(client.fetch(url(s.port(), "/")).body == "until close");
    CHECK(client.fetch(url(s.port(), "/")).body == "until close");
    CHECK(s.accepted() == 2);
  }
  SUBCASE("1xx interim responses are skipped") {
    RawServer s(interim_responses);
    HTTPClient client;
    const HTTPResponse r = client.fetch(url(s.port(), "/"));
    CHECK(r.code == 200);
    CHECK(r.body == "ok");
    CHECK(client.fetch(url(s.port(), "/")).body == "ok");
    CHECK(s.accepted() == 1);
    // header_callback sees the final response's head only.
    std::vector<std::string> lines;
    CHECK(client
              .fetch(HTTPRequest{
                  .url = url(s.port(), "/"),
                  .header_callback = [&](std::string_view line) { lines.emplace_back(line); }})
              .body == "ok");
    check_only_final_head(lines);
  }
  SUBCASE("trailers are read and ignored, and the connection stays usable") {
    RawServer s(chunked_with_trailers);
    HTTPClient client;
    const HTTPResponse r = client.fetch(url(s.port(), "/"));
    CHECK(r.body == "hello");
    CHECK_FALSE(r.headers.contains("X-Checksum"));
    CHECK_FALSE(r.headers.contains("Set-Cookie"));
    CHECK(client.fetch(url(s.port(), "/")).body == "hello");
    CHECK(s.accepted() == 1);
  }
  SUBCASE("HTTP/1.0 without keep-alive is not reused") {
    RawServer s(http10_server);
    HTTPClient client;
    CHECK(client.fetch(url(s.port(), "/")).body == "1.0!");
    CHECK(client.fetch(url(s.port(), "/")).body == "1.0!");
    CHECK(s.accepted() == 2);
  }
  SUBCASE("an unasked-for 101 is refused") {
    RawServer s(unasked_upgrade);
    HTTPClient client;
    const auto e = capture<cortado::HTTPProtocolError>([&] { client.fetch(url(s.port(), "/")); });
    CHECK(e.cause() == cortado::client_errc::unexpected_upgrade);
  }
}

// ------------------------------------------------------------------------------------------
// TLS with the test CA.

TEST_CASE("httpclient: HTTPS with certificate and host name verification") {
  QuietLogs quiet;
  CountingServer s(routes, {}, "127.0.0.1", server_tls());
  HTTPClient client;
  const std::string ca = tls_file("ca.pem");
  for (const char* host : {"127.0.0.1", "localhost"}) {
    const HTTPResponse r = client.fetch(
        HTTPRequest{.url = fmt::format("https://{}:{}/", host, s.port()), .ca_certs = ca});
    CHECK(r.body == "Hello, World!");
  }
  for (int i = 0; i < 3; ++i) {
    CHECK(client
              .fetch(HTTPRequest{.url = fmt::format("https://127.0.0.1:{}/gzip", s.port()),
                                 .ca_certs = ca})
              .body == kGzipText);
  }
  CHECK(s.accepted() == 2);  // one connection per host name, each reused

  // The system's CAs do not know the test CA.
  capture<cortado::HTTPConnectionError>(
      [&] { client.fetch(fmt::format("https://127.0.0.1:{}/", s.port())); });
  const HTTPResponse unchecked = client.fetch(
      HTTPRequest{.url = fmt::format("https://127.0.0.1:{}/", s.port()), .validate_cert = false});
  CHECK(unchecked.code == 200);
}

TEST_CASE("httpclient: HTTPS refuses a certificate for another name") {
  QuietLogs quiet;
  CountingServer s(routes, {}, "127.0.0.2", server_tls());  // the certificate does not name it
  HTTPClient client;
  const std::string target = fmt::format("https://127.0.0.2:{}/", s.port());
  capture<cortado::HTTPConnectionError>(
      [&] { client.fetch(HTTPRequest{.url = target, .ca_certs = tls_file("ca.pem")}); });
  CHECK(client.fetch(HTTPRequest{.url = target, .validate_cert = false}).code == 200);
}

TEST_CASE("httpclient: HTTPS over IPv6 and with a client certificate") {
  QuietLogs quiet;
  auto tls = server_tls();
  tls->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
  tls->load_verify_file(tls_file("ca.pem"));
  CountingServer s(routes, {}, "::1", tls);
  HTTPClient client;
  const std::string target = fmt::format("https://[::1]:{}/", s.port());
  const HTTPResponse r = client.fetch(HTTPRequest{.url = target,
                                                  .ca_certs = tls_file("ca.pem"),
                                                  .client_cert = tls_file("server.pem"),
                                                  .client_key = tls_file("server.key")});
  CHECK(r.body == "Hello, World!");
  // Without a certificate the server refuses: in TLS 1.3 its alert comes after the client's
  // side of the handshake, as the client reads the response.
  const auto refused = capture<cortado::HTTPStreamClosedError>(
      [&] { client.fetch(HTTPRequest{.url = target, .ca_certs = tls_file("ca.pem")}); });
  CHECK(std::string(refused.what()).find("certificate required") != std::string::npos);
}

// ------------------------------------------------------------------------------------------
// Against a server that is not ours: Tornado, from Debian's python3-tornado.

namespace {

// Tornado on two ports, plain HTTP and HTTPS (the test CA's server certificate; the file names
// replace @CERT@ and @KEY@), printed on one line.
constexpr const char* kTornadoApp = R"(
import asyncio, json, ssl
import tornado.httpserver, tornado.netutil, tornado.web

accepted = 0
streams = []
server_names = []

class CountingServer(tornado.httpserver.HTTPServer):
    def handle_stream(self, stream, address):
        global accepted
        accepted += 1
        streams.append(stream)
        return super().handle_stream(stream, address)

class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("Hello from Tornado")

class Chunked(tornado.web.RequestHandler):
    async def get(self):
        for piece in ("one,", "two,", "three"):
            self.write(piece)
            await self.flush()

class Text(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("tornado " * 1000)

class Accepted(tornado.web.RequestHandler):
    def get(self):
        self.write(str(accepted))

class Redirect(tornado.web.RequestHandler):
    def get(self):
        self.redirect(self.get_argument("to"), status=int(self.get_argument("status", "302")))

class Headers(tornado.web.RequestHandler):
    def get(self):
        self.write({name: self.request.headers.get(name, "")
                    for name in ("Host", "Authorization", "Cookie")})

class Never(tornado.web.RequestHandler):
    async def get(self):
        await asyncio.Event().wait()

class CloseOthers(tornado.web.RequestHandler):
    # Closes every other connection, idle keep-alive ones included, as a server does when its
    # idle timeout strikes, then answers this one.
    def get(self):
        mine = self.request.connection.stream
        for stream in streams:
            if stream is not mine and not stream.closed():
                stream.close()
        self.write("closed")

class ServerName(tornado.web.RequestHandler):
    def get(self):
        self.write(server_names[-1] if server_names else "none")

def remember_server_name(connection, name, context):
    server_names.append(name or "none")

async def main():
    app = tornado.web.Application(
        [("/", Hello), ("/chunked", Chunked), ("/text", Text), ("/accepted", Accepted),
         ("/redirect", Redirect), ("/headers", Headers), ("/never", Never),
         ("/close-others", CloseOthers), ("/server-name", ServerName)],
        compress_response=True)
    plain = tornado.netutil.bind_sockets(0, "127.0.0.1")
    CountingServer(app).add_sockets(plain)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain("@CERT@", "@KEY@")
    tls.sni_callback = remember_server_name
    secure = tornado.netutil.bind_sockets(0, "127.0.0.1")
    CountingServer(app, ssl_options=tls).add_sockets(secure)
    print(plain[0].getsockname()[1], secure[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
)";

std::string tornado_app() {
  std::string program = kTornadoApp;
  program.replace(program.find("@CERT@"), 6, tls_file("server.pem"));
  program.replace(program.find("@KEY@"), 5, tls_file("server.key"));
  return program;
}

}  // namespace

TEST_CASE("httpclient: against Tornado: chunked, gzip and keep-alive") {
  cortado::test::TornadoProcess tornado(tornado_app());
  HTTPClient client;
  const auto at = [&](std::string_view target) { return url(tornado.port(), target); };
  CHECK(client.fetch(at("/")).body == "Hello from Tornado");

  const HTTPResponse chunked =
      client.fetch(HTTPRequest{.url = at("/chunked"), .decompress_response = false});
  CHECK(chunked.headers.get("Transfer-Encoding") == "chunked");
  CHECK(chunked.body == "one,two,three");

  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += "tornado ";
  const HTTPResponse gzipped = client.fetch(at("/text"));
  CHECK(gzipped.headers.get("X-Consumed-Content-Encoding") == "gzip");
  CHECK(gzipped.body == expected);

  // gzip on a chunked body, flushed piece by piece.
  CHECK(client.fetch(at("/chunked")).body == "one,two,three");

  CHECK(client.fetch(at("/accepted")).body == "1");
}

TEST_CASE("httpclient: against Tornado: redirects keep credentials on the same origin only") {
  cortado::test::TornadoProcess tornado(tornado_app());
  HTTPClient client;
  HTTPRequest request{.url = url(tornado.port(), "/redirect?to=/headers"),
                      .auth_username = "user",
                      .auth_password = "pass"};
  request.headers.add("Cookie", "session=secret");
  const HTTPResponse same = client.fetch(request);
  CHECK(same.effective_url == url(tornado.port(), "/headers"));
  const auto seen = nlohmann::json::parse(same.body);
  CHECK(seen["Authorization"] == "Basic dXNlcjpwYXNz");
  CHECK(seen["Cookie"] == "session=secret");

  // The same server under another name is another origin.
  const std::string elsewhere = url(tornado.port(), "/headers", "localhost");
  request.url = url(tornado.port(), "/redirect?status=307&to=" + cortado::url_escape(elsewhere));
  const HTTPResponse cross = client.fetch(request);
  CHECK(cross.effective_url == elsewhere);
  const auto dropped = nlohmann::json::parse(cross.body);
  CHECK(dropped["Host"] == fmt::format("localhost:{}", tornado.port()));
  CHECK(dropped["Authorization"] == "");
  CHECK(dropped["Cookie"] == "");
}

TEST_CASE("httpclient: against Tornado: a handler that never answers times out") {
  cortado::test::TornadoProcess tornado(tornado_app());
  HTTPClient client;
  const auto e = capture<cortado::HTTPTimeoutError>([&] {
    client.fetch(HTTPRequest{.url = url(tornado.port(), "/never"), .request_timeout = 300ms});
  });
  CHECK(e.code() == 599);
  // The timed-out connection is not reused: the next fetch works, on a new one.
  CHECK(client.fetch(url(tornado.port(), "/")).body == "Hello from Tornado");
  CHECK(client.fetch(url(tornado.port(), "/accepted")).body == "2");
}

TEST_CASE("httpclient: against Tornado: keep-alive connections the server closed are not reused") {
  cortado::test::TornadoProcess tornado(tornado_app());
  HTTPClient client;
  HTTPClient other;
  for (int round = 1; round <= 3; ++round) {
    CHECK(client.fetch(url(tornado.port(), "/")).body == "Hello from Tornado");  // pooled
    CHECK(other.fetch(url(tornado.port(), "/close-others")).body == "closed");
    CHECK(client.fetch(url(tornado.port(), "/")).body == "Hello from Tornado");
  }
  // Four connections for the client (a new one after each close), one for the other client.
  CHECK(client.fetch(url(tornado.port(), "/accepted")).body == "5");
}

TEST_CASE("httpclient: against Tornado over TLS: the test CA, SNI, and connection reuse") {
  cortado::test::TornadoProcess tornado(tornado_app());
  HTTPClient client;
  const std::string ca = tls_file("ca.pem");
  const auto secure = [&](std::string_view host, std::string_view target) {
    return fmt::format("https://{}:{}{}", host, tornado.port(1), target);
  };
  CHECK(client.fetch(HTTPRequest{.url = secure("localhost", "/"), .ca_certs = ca}).body ==
        "Hello from Tornado");
  // The server saw the name the client asked for...
  CHECK(
      client.fetch(HTTPRequest{.url = secure("localhost", "/server-name"), .ca_certs = ca}).body ==
      "localhost");
  // ...and no name for an address (RFC 6066 section 3), whose certificate still verifies.
  CHECK(
      client.fetch(HTTPRequest{.url = secure("127.0.0.1", "/server-name"), .ca_certs = ca}).body ==
      "none");
  // gzip through TLS, on the connections already open.
  std::string expected;
  for (int i = 0; i < 1000; ++i) expected += "tornado ";
  CHECK(client.fetch(HTTPRequest{.url = secure("localhost", "/text"), .ca_certs = ca}).body ==
        expected);
  CHECK(client.fetch(url(tornado.port(), "/accepted")).body == "3");  // 2 TLS + this one
  // Without the test CA the certificate is refused.
  capture<cortado::HTTPConnectionError>([&] { client.fetch(secure("localhost", "/")); });
}
