#include <doctest/doctest.h>

#include "cortado/web.hpp"

namespace web = cortado::web;

namespace {
struct Page : web::RequestHandler {
  asio::awaitable<void> get() override { co_return; }
};
struct Other : web::RequestHandler {
  asio::awaitable<void> get() override { co_return; }
  asio::awaitable<void> post() override { co_return; }
};
}  // namespace

TEST_CASE("literal routes match exactly; regex routes are anchored at both ends") {
  web::Application app({web::url<Page>("/about"), web::url<Other>("/items/([0-9]+)")});
  CHECK(app.find_handler("h", "/about").spec->pattern == "/about");
  CHECK(app.find_handler("h", "/about/").spec == nullptr);
  auto m = app.find_handler("h", "/items/42");
  REQUIRE(m.spec);
  CHECK(m.args == std::vector<std::string>{"42"});
  CHECK(app.find_handler("h", "/items/42/x").spec == nullptr);
  CHECK(app.find_handler("h", "/xitems/42").spec == nullptr);
}

TEST_CASE("captured groups are percent-decoded after matching; named groups become kwargs") {
  web::Application app(
      {web::url<Page>("/files/(.*)"), web::url<Other>("/u/(?P<name>[^/]+)/(?P<tab>\\w+)")});
  auto m = app.find_handler("h", "/files/a%20b%2Fc");
  CHECK(m.args == std::vector<std::string>{"a b/c"});
  auto named = app.find_handler("h", "/u/j%C3%B6rg/posts");
  CHECK(named.args.empty());
  CHECK(named.kwargs.at("name") == "jörg");
  CHECK(named.kwargs.at("tab") == "posts");
}

TEST_CASE("the first matching route wins, literal or not") {
  web::Application app({web::url<Page>("/a/.*"), web::url<Other>("/a/b")});
  CHECK(app.find_handler("h", "/a/b").spec->pattern == "/a/.*");
  web::Application literal_first({web::url<Other>("/a/b"), web::url<Page>("/a/.*")});
  CHECK(literal_first.find_handler("h", "/a/b").spec->pattern == "/a/b");
}

TEST_CASE("the methods a handler overrides are known for 405's Allow") {
  web::Application app({web::url<Page>("/p"), web::url<Other>("/o")});
  CHECK(app.find_handler("h", "/p").spec->methods == web::kGet);
  CHECK(app.find_handler("h", "/o").spec->methods == (web::kGet | web::kPost));
}

TEST_CASE("host-specific routes come before the any-host ones; default_host applies") {
  web::Application app({web::url<Page>("/")}, {.default_host = "api.example.com"});
  app.add_handlers("api\\.example\\.com", {web::url<Other>("/")});
  CHECK(app.find_handler("api.example.com", "/").spec->methods == (web::kGet | web::kPost));
  CHECK(app.find_handler("unknown.example", "/").spec->methods == (web::kGet | web::kPost));
  web::Application plain({web::url<Page>("/")});
  plain.add_handlers("api\\.example\\.com", {web::url<Other>("/")});
  CHECK(plain.find_handler("www.example.com", "/").spec->methods == web::kGet);
}

TEST_CASE("reverse_url fills the groups, escaping the arguments") {
  web::Application app({
      web::url<Page>("/items/([0-9]+)").name("item"),
      web::url<Page>("/u/([^/]+)/files/(.*)$").name("file"),
      web::url<Page>("/static").name("literal"),
      web::url<Page>("/a|b").name("alternation"),
  });
  CHECK(app.reverse_url("item", {"42"}) == "/items/42");
  // Like Tornado (Python's quote), "/" stays as it is.
  CHECK(app.reverse_url("file", {"a b", "x/y"}) == "/u/a%20b/files/x/y");
  CHECK(app.reverse_url("literal") == "/static");
  CHECK_THROWS_AS(app.reverse_url("missing"), std::out_of_range);
  CHECK_THROWS_AS(app.reverse_url("item"), std::invalid_argument);
  CHECK_THROWS_AS(app.reverse_url("alternation"), std::invalid_argument);
}

TEST_CASE("function routes check their arity against the pattern at registration") {
  web::Application app;
  app.get("/hello/([a-z]+)",
          [](web::RequestHandler&, std::string) -> asio::awaitable<void> { co_return; });
  CHECK(app.find_handler("h", "/hello/bob").args == std::vector<std::string>{"bob"});
  CHECK_THROWS_AS(
      app.get("/two/(a)/(b)",
              [](web::RequestHandler&, std::string) -> asio::awaitable<void> { co_return; }),
      std::invalid_argument);
}

TEST_CASE("a bad route regex fails at start-up with the pattern in the message") {
  CHECK_THROWS_WITH_AS(web::Application({web::url<Page>("/x/(unclosed")}),
                       doctest::Contains("/x/(unclosed"), std::invalid_argument);
}
