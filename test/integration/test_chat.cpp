// apps/chat's handlers through real HTTP, in-process (cortado_chat_lib), with the testing
// module. The binary itself (flags, static files, signals, a real browser) is tested by the
// scripts in browser/.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include "cortado/escape.hpp"
#include "cortado/testing.hpp"
#include "cortado/web.hpp"
#include "handlers.hpp"
#include "harness.hpp"
#include "message_buffer.hpp"

using namespace std::chrono_literals;
namespace web = cortado::web;
using cortado::HTTPRequest;
using cortado::HTTPResponse;
using cortado::testing::AsyncHTTPTestCase;
using nlohmann::json;

namespace {

const bool fail_handler_installed = [] {
  AsyncHTTPTestCase::set_fail_handler(
      [](const std::string& message) { ADD_FAIL_CHECK_AT(__FILE__, __LINE__, message); });
  return true;
}();

// The chat's routes and settings, served on an ephemeral port by a loop of their own.
struct ChatApp {
  chat::MessageBuffer messages;
  web::Application app{chat::routes(messages),
                       chat::settings(CORTADO_CHAT_STATIC_DIR, "test-secret", false)};
  AsyncHTTPTestCase t{app};

  // Runs `fn` on the server's loop, which the message buffer belongs to, and returns its result.
  template <class F>
  auto on_loop(F fn) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    // (A packaged_task given to asio::post directly would be taken for a completion token.)
    asio::post(t.io_loop().context(), [task = std::move(task)]() mutable { task(); });
    return result.get();
  }

  std::size_t waiters() {
    return on_loop([this] { return messages.waiters(); });
  }

  // Polls `condition` (on the server's loop) until it holds; false after 10 s.
  bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!on_loop(condition)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
};

// What a browser holds after loading the page: its cookies and the XSRF token.
struct Session {
  std::string cookies;  // the Cookie header to send
  std::string xsrf;

  void add_cookies_from(const HTTPResponse& response) {
    for (std::string_view set_cookie : response.headers.get_list("Set-Cookie")) {
      const std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
      if (!cookies.empty()) cookies += "; ";
      cookies.append(pair);
    }
  }
};

std::string cookie_value(const HTTPResponse& response, std::string_view name) {
  for (std::string_view set_cookie : response.headers.get_list("Set-Cookie")) {
    const std::string_view pair = set_cookie.substr(0, set_cookie.find(';'));
    if (pair.substr(0, pair.find('=')) == name) return std::string(pair.substr(name.size() + 1));
  }
  return {};
}

Session open_page(ChatApp& chat) {
  HTTPResponse page = chat.t.fetch("/");
  REQUIRE(page.code == 200);
  Session session;
  session.xsrf = cookie_value(page, "_xsrf");
  REQUIRE_FALSE(session.xsrf.empty());
  session.add_cookies_from(page);
  return session;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

std::string url_encoded(const Fields& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += cortado::url_escape(name);
    body += '=';
    body += cortado::url_escape(value);
  }
  return body;
}

// A form POST as chat.js sends it: the fields plus _xsrf, with the session's cookies.
HTTPRequest form_post(const Session& session, Fields fields) {
  fields.emplace_back("_xsrf", session.xsrf);
  HTTPRequest request;
  request.method = "POST";
  request.body = url_encoded(fields);
  request.headers.set("Content-Type", "application/x-www-form-urlencoded");
  request.headers.set("Cookie", session.cookies);
  request.follow_redirects = false;
  return request;
}

json post_message(ChatApp& chat, const Session& session, const std::string& body) {
  HTTPResponse r = chat.t.fetch("/a/message/new", form_post(session, {{"body", body}}));
  REQUIRE(r.code == 200);
  return json::parse(r.body);
}

json updates(ChatApp& chat, const Session& session, const std::string& cursor) {
  HTTPResponse r = chat.t.fetch("/a/message/updates", form_post(session, {{"cursor", cursor}}));
  REQUIRE(r.code == 200);
  return json::parse(r.body).at("messages");
}

std::vector<std::string> bodies(const json& messages) {
  std::vector<std::string> out;
  for (const json& m : messages) out.push_back(m.at("body"));
  return out;
}

bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

}  // namespace

TEST_CASE("chat: the page sets the _xsrf cookie and links versioned static files") {
  ChatApp chat;
  HTTPResponse page = chat.t.fetch("/");
  CHECK(page.code == 200);
  CHECK(page.headers.get("Content-Type") == "text/html; charset=UTF-8");
  const std::string xsrf = cookie_value(page, "_xsrf");
  CHECK_FALSE(xsrf.empty());
  CHECK(contains(page.body, "name=\"_xsrf\" value=\"" + cortado::xhtml_escape(xsrf) + "\""));
  CHECK(contains(page.body, "/static/chat.css?v="));
  CHECK(contains(page.body, "/static/chat.js?v="));

  // Each static URL serves its file, cacheable for a year because the URL names the version.
  for (std::string_view name : {"chat.css", "chat.js"}) {
    const std::string url = chat.app.static_url(name);
    HTTPResponse file = chat.t.fetch(url);
    CHECK_MESSAGE(file.code == 200, url);
    CHECK_MESSAGE(contains(page.body, cortado::xhtml_escape(url)), url);
    CHECK(contains(file.headers.get("Cache-Control"), "max-age=31536000"));
  }
  CHECK(chat.t.fetch("/static/chat.css").headers.get("Content-Type") == "text/css; charset=utf-8");
}

TEST_CASE("chat: a POST without a valid _xsrf token is refused with 403") {
  ChatApp chat;
  Session session = open_page(chat);
  HTTPRequest no_token;
  no_token.method = "POST";
  no_token.body = "body=hello";
  no_token.headers.set("Content-Type", "application/x-www-form-urlencoded");
  no_token.headers.set("Cookie", session.cookies);
  {
    auto logged = chat.t.expect_log("general", "'_xsrf' argument missing");
    CHECK(chat.t.fetch("/a/message/new", no_token).code == 403);
    CHECK(chat.t.fetch("/a/message/updates", no_token).code == 403);
    CHECK(chat.t.fetch("/a/user", no_token).code == 403);
  }
  {
    // A token from another session does not match this browser's cookie.
    Session other = open_page(chat);
    Session forged = session;
    forged.xsrf = other.xsrf;
    auto logged = chat.t.expect_log("general", "XSRF cookie does not match");
    CHECK(chat.t.fetch("/a/message/new", form_post(forged, {{"body", "hello"}})).code == 403);
  }
  CHECK(chat.on_loop([&] { return chat.messages.messages().size(); }) == 0);
}

TEST_CASE("chat: a posted message comes back as JSON, its html escaped") {
  ChatApp chat;
  Session session = open_page(chat);
  const std::string evil = "<script>alert(\"hi\")</script> & 'you'";
  json message = post_message(chat, session, evil);
  CHECK(message.at("body") == evil);
  CHECK(message.at("user") == "anonymous");
  const std::string id = message.at("id");
  CHECK(id.size() == 32);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  const std::string html = message.at("html");
  CHECK(contains(html, "id=\"m" + id + "\""));
  CHECK(contains(html, "&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; &#39;you&#39;"));
  CHECK_FALSE(contains(html, "<script>"));

  // The page lists it, escaped the same way.
  HTTPResponse page = chat.t.fetch("/");
  CHECK(contains(page.body, html));
  CHECK_FALSE(contains(page.body, "<script>alert"));
}

TEST_CASE("chat: a form posted without JavaScript is sent back to the page") {
  ChatApp chat;
  Session session = open_page(chat);
  HTTPResponse r =
      chat.t.fetch("/a/message/new", form_post(session, {{"body", "no js"}, {"next", "/"}}));
  CHECK(r.code == 302);
  CHECK(r.headers.get("Location") == "/");
  CHECK(contains(chat.t.fetch("/").body, ">no js</span>"));
}

TEST_CASE("chat: updates after a known cursor return at once; an unknown cursor gets all") {
  ChatApp chat;
  Session session = open_page(chat);
  std::vector<std::string> ids;
  for (std::string body : {"one", "two", "three"}) {
    ids.push_back(post_message(chat, session, body).at("id"));
  }
  CHECK(bodies(updates(chat, session, ids[0])) == std::vector<std::string>{"two", "three"});
  CHECK(bodies(updates(chat, session, ids[1])) == std::vector<std::string>{"three"});
  CHECK(bodies(updates(chat, session, "")).size() == 3);
  CHECK(bodies(updates(chat, session, "from-before-a-restart")).size() == 3);
  CHECK(chat.waiters() == 0);
}

TEST_CASE("chat: the buffer keeps the latest 200 messages") {
  chat::MessageBuffer buffer;  // add() and since() need no loop while nobody waits
  for (int i = 0; i < 205; ++i) {
    buffer.add({.id = std::to_string(i), .user = "u", .body = "b", .html = ""});
  }
  REQUIRE(buffer.messages().size() == chat::MessageBuffer::kDefaultCapacity);
  CHECK(buffer.messages().front().id == "5");
  CHECK(buffer.messages().back().id == "204");
  CHECK(buffer.since("203").size() == 1);
  CHECK(buffer.since("204").empty());
  CHECK(buffer.since("4").size() == 200);  // dropped: the client gets everything kept
  CHECK(chat::new_message_id() != chat::new_message_id());
}

TEST_CASE("chat: one post wakes 50 waiting long polls") {
  ChatApp chat;
  Session session = open_page(chat);
  const std::string cursor = post_message(chat, session, "before").at("id");

  // The waiters are coroutines on a client loop of their own, on its own thread; the last one
  // to finish stops that loop.
  constexpr int kWaiters = 50;
  cortado::IOLoop client_loop;
  cortado::AsyncHTTPClient client(client_loop.executor(), {.max_clients = kWaiters});
  std::vector<json> answers(kWaiters);
  int remaining = kWaiters;  // touched on the client loop only
  for (int i = 0; i < kWaiters; ++i) {
    HTTPRequest request = form_post(session, {{"cursor", cursor}});
    request.url = chat.t.get_url("/a/message/updates");
    asio::co_spawn(
        client_loop.context(),
        [](cortado::AsyncHTTPClient& c, HTTPRequest r, json& answer, int& left,
           cortado::IOLoop& loop) -> asio::awaitable<void> {
          try {
            const HTTPResponse response = co_await c.fetch(std::move(r));
            answer = json::parse(response.body);
          } catch (const std::exception& e) {
            answer = json{{"error", e.what()}};
          }
          if (--left == 0) loop.stop();
        }(client, std::move(request), answers[i], remaining, client_loop),
        asio::detached);
  }
  std::jthread client_thread([&] { client_loop.run(); });

  CHECK(chat.eventually([&] { return chat.messages.waiters() == kWaiters; }));
  const json posted = post_message(chat, session, "wake up");
  client_thread.join();  // every fetch is done (each one times out after 20 s at worst)

  for (const json& answer : answers) {
    REQUIRE_MESSAGE(answer.contains("messages"), answer.dump());
    REQUIRE(answer["messages"].size() == 1);
    CHECK(answer["messages"][0] == posted);
  }
  CHECK(chat.waiters() == 0);
}

TEST_CASE("chat: a waiter whose client disconnects is released at once") {
  ChatApp chat;
  Session session = open_page(chat);
  cortado::log::app().set_level(cortado::log::Level::debug);
  {
    cortado::test::RawClient raw(chat.t.get_http_port());
    const std::string body = url_encoded({{"cursor", ""}, {"_xsrf", session.xsrf}});
    raw.send(cortado::test::request_bytes(
        "POST", "/a/message/updates",
        "Cookie: " + session.cookies + "\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        body));
    REQUIRE(chat.eventually([&] { return chat.messages.waiters() == 1; }));
  }  // the client closes its socket here
  CHECK(chat.eventually([&] { return chat.messages.waiters() == 0; }));
  // on_connection_close ran (it logs at DEBUG). No error was logged either (the log capture
  // fails the test on one): nothing tried to answer the departed client.
  CHECK(chat.eventually([&] {
    for (const auto& record : chat.t.logs()) {
      if (contains(record.message, "the client left while waiting")) return true;
    }
    return false;
  }));
  cortado::log::app().set_level(cortado::log::Level::info);
  post_message(chat, session, "nobody is waiting");
  CHECK(chat.waiters() == 0);
}

TEST_CASE("chat: waiters whose clients give up are released while the others go on waiting") {
  ChatApp chat;
  Session session = open_page(chat);
  const std::string cursor = post_message(chat, session, "before").at("id");

  // Ten waiters stay; ten more give up after a while (the client's request_timeout closes their
  // connections). All are coroutines of one AsyncHTTPClient on a client loop of its own.
  constexpr int kStaying = 10;
  constexpr int kLeaving = 10;
  cortado::IOLoop client_loop;
  cortado::AsyncHTTPClient client(client_loop.executor(), {.max_clients = kStaying + kLeaving});
  std::vector<json> answers(kStaying + kLeaving);
  int staying_left = kStaying;  // touched on the client loop only
  std::promise<void> all_gave_up;
  int leaving_left = kLeaving;
  const auto wait = [](cortado::AsyncHTTPClient& c, HTTPRequest r, json& answer,
                       std::function<void()> done) -> asio::awaitable<void> {
    try {
      const HTTPResponse response = co_await c.fetch(std::move(r));
      answer = json::parse(response.body);
    } catch (const std::exception& e) {
      answer = json{{"error", e.what()}};
    }
    done();
  };
  for (int i = 0; i < kStaying + kLeaving; ++i) {
    HTTPRequest request = form_post(session, {{"cursor", cursor}});
    request.url = chat.t.get_url("/a/message/updates");
    std::function<void()> done = [&] {
      if (--staying_left == 0) client_loop.stop();
    };
    if (i >= kStaying) {
      request.request_timeout = 3s;  // long enough for all twenty to be waiting first
      done = [&] {
        if (--leaving_left == 0) all_gave_up.set_value();
      };
    }
    asio::co_spawn(client_loop.context(), wait(client, std::move(request), answers[i], done),
                   asio::detached);
  }
  std::jthread client_thread([&] { client_loop.run(); });

  CHECK(chat.eventually([&] { return chat.messages.waiters() == kStaying + kLeaving; }));
  all_gave_up.get_future().wait();
  // The server noticed each departure (nothing was written to those sockets: an error would be
  // logged, and the log capture fails the test on one) and kept the others.
  CHECK(chat.eventually([&] { return chat.messages.waiters() == kStaying; }));
  for (int i = kStaying; i < kStaying + kLeaving; ++i) {
    CHECK_MESSAGE(answers[i].contains("error"), answers[i].dump());
  }

  const json posted = post_message(chat, session, "still here?");
  client_thread.join();  // every staying fetch is done
  for (int i = 0; i < kStaying; ++i) {
    REQUIRE_MESSAGE(answers[i].contains("messages"), answers[i].dump());
    REQUIRE(answers[i]["messages"].size() == 1);
    CHECK(answers[i]["messages"][0] == posted);
  }
  CHECK(chat.waiters() == 0);
}

TEST_CASE("chat: close() answers every waiter with no messages, for a quick shutdown") {
  ChatApp chat;
  Session session = open_page(chat);
  std::promise<HTTPResponse> answered;
  std::jthread waiter([&] {
    cortado::HTTPClient client;
    HTTPRequest request = form_post(session, {{"cursor", ""}});
    request.url = chat.t.get_url("/a/message/updates");
    answered.set_value(client.fetch(std::move(request), false));
  });
  REQUIRE(chat.eventually([&] { return chat.messages.waiters() == 1; }));
  chat.on_loop([&] { chat.messages.close(); });
  HTTPResponse r = answered.get_future().get();
  waiter.join();
  CHECK(r.code == 200);
  CHECK(json::parse(r.body) == json{{"messages", json::array()}});
}

TEST_CASE("chat: the name lives in a signed cookie and is shown, escaped, with messages") {
  ChatApp chat;
  Session session = open_page(chat);
  const std::string name = "<b>Ann</b>";
  HTTPResponse set = chat.t.fetch("/a/user", form_post(session, {{"name", name}}));
  CHECK(set.code == 302);
  CHECK(set.headers.get("Location") == "/");
  const std::string signed_name = cookie_value(set, chat::kUserCookie);
  CHECK(signed_name.starts_with("2|"));  // Tornado's signed value, version 2
  CHECK(contains(set.headers.get("Set-Cookie"), "HttpOnly"));
  session.add_cookies_from(set);

  json message = post_message(chat, session, "hello");
  CHECK(message.at("user") == name);
  CHECK(contains(message.at("html").get<std::string>(),
                 "<span class=\"user\">&lt;b&gt;Ann&lt;/b&gt;</span>"));
  HTTPRequest with_cookie;
  with_cookie.headers.set("Cookie", session.cookies);
  const std::string page = chat.t.fetch("/", with_cookie).body;
  CHECK(contains(page, "value=\"&lt;b&gt;Ann&lt;/b&gt;\""));
  CHECK_FALSE(contains(page, "<b>Ann"));

  // A tampered cookie is no name at all.
  Session tampered = session;
  const std::size_t at = tampered.cookies.find(signed_name) + signed_name.size() - 1;
  tampered.cookies[at] = tampered.cookies[at] == 'a' ? 'b' : 'a';
  CHECK(post_message(chat, tampered, "who am I").at("user") == "anonymous");

  // An empty name clears the cookie.
  HTTPResponse cleared = chat.t.fetch("/a/user", form_post(session, {{"name", ""}}));
  CHECK(cleared.code == 302);
  CHECK(contains(cleared.headers.get("Set-Cookie"), "expires="));
}

TEST_CASE("chat: empty, oversized and non-UTF-8 input is refused and not stored") {
  ChatApp chat;
  Session session = open_page(chat);
  auto logged = chat.t.expect_log("general", "400");
  const std::string too_long(chat::kMaxMessageBytes + 1, 'x');
  for (const std::string& body :
       {std::string(), std::string("   "), too_long, std::string("caf\xe9")}) {
    CHECK(chat.t.fetch("/a/message/new", form_post(session, {{"body", body}})).code == 400);
  }
  CHECK(chat.t.fetch("/a/user", form_post(session, {{"name", std::string(41, 'n')}})).code == 400);
  CHECK(chat.on_loop([&] { return chat.messages.messages().size(); }) == 0);
}
