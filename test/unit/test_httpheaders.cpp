#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "cortado/httputil/headers.hpp"

using cortado::HTTPHeaders;
using cortado::iequals;

namespace {

// "name: value" lines in order, to compare whole header sets at once.
std::vector<std::string> lines(const HTTPHeaders& h) {
  std::vector<std::string> out;
  h.for_each([&](HTTPHeaders::Field f) {
    std::string line(f.name);
    line.append(": ");
    line.append(f.value);
    out.push_back(line);
  });
  return out;
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_CASE("httpheaders: iequals compares ASCII case-insensitively") {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("Host", "Hosts"));
  CHECK_FALSE(iequals("Host", "Hist"));
  // Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by the case bit but are not letters.
  CHECK_FALSE(iequals("@", "`"));
  CHECK_FALSE(iequals("[", "{"));
  CHECK_FALSE(iequals("\xc9", "\xe9"));
}

TEST_CASE("httpheaders: lookups ignore case, names keep theirs, order is kept") {
  HTTPHeaders h;
  CHECK(h.empty());
  h.add("Content-Type", "text/html");
  h.add("X-Multi", "a");
  h.add("Set-Cookie", "c=1");
  h.add("x-multi", "b");
  CHECK(h.size() == 4);
  CHECK_FALSE(h.empty());
  CHECK(h.contains("CONTENT-TYPE"));
  CHECK_FALSE(h.contains("Content"));
  CHECK(h.get("content-type") == "text/html");
  CHECK(h.get("X-MULTI") == "a");  // the first value
  CHECK(h.get("Missing").empty());
  CHECK(h.get("Missing", "fallback") == "fallback");
  CHECK(lines(h) ==
        Lines{"Content-Type: text/html", "X-Multi: a", "Set-Cookie: c=1", "x-multi: b"});
  CHECK(h[3].name == "x-multi");
  CHECK(h[3].value == "b");
  CHECK_THROWS_AS(h[4], std::out_of_range);
}

TEST_CASE("httpheaders: get_list, get_joined and get_all") {
  HTTPHeaders h{{"Accept", "a/b"}, {"Vary", "Accept"}, {"accept", "c/d"}, {"ACCEPT", ""}};
  CHECK(h.get_list("Accept") == std::vector<std::string_view>{"a/b", "c/d", ""});
  CHECK(h.get_list("Nope").empty());
  CHECK(h.get_joined("accept") == "a/b, c/d, ");
  CHECK(h.get_joined("vary") == "Accept");
  CHECK(h.get_joined("Nope").empty());
  const auto all = h.get_all();
  REQUIRE(all.size() == 4);
  CHECK(all[1].name == "Vary");
  CHECK(all[2].value == "c/d");
}

TEST_CASE("httpheaders: set replaces every field of a name in the first one's place") {
  HTTPHeaders h{{"A", "1"}, {"B", "2"}, {"a", "3"}, {"C", "4"}, {"A", "5"}};
  h.set("a", "x");  // shorter or equal: rewritten in place
  CHECK(lines(h) == Lines{"a: x", "B: 2", "C: 4"});
  h.set("B", "a much longer value than before");  // longer: stored anew
  CHECK(lines(h) == Lines{"a: x", "B: a much longer value than before", "C: 4"});
  h.set("New", "n");  // absent: appended
  CHECK(lines(h) == Lines{"a: x", "B: a much longer value than before", "C: 4", "New: n"});
  h.set("new", "");
  CHECK(h.get("NEW", "fallback").empty());
  CHECK(h.size() == 4);
}

TEST_CASE("httpheaders: remove and clear") {
  HTTPHeaders h{{"A", "1"}, {"B", "2"}, {"a", "3"}};
  CHECK(h.remove("A") == 2);
  CHECK(h.remove("A") == 0);
  CHECK(lines(h) == Lines{"B: 2"});
  h.clear();
  CHECK(h.empty());
  h.add("After", "clear");
  CHECK(lines(h) == Lines{"After: clear"});
}

TEST_CASE("httpheaders: copies are deep and independent; moves empty the source") {
  HTTPHeaders original{{"A", "1"}, {"B", "2"}};
  HTTPHeaders copy(original);
  copy.set("A", "changed");
  copy.add("C", "3");
  CHECK(lines(original) == Lines{"A: 1", "B: 2"});
  CHECK(lines(copy) == Lines{"A: changed", "B: 2", "C: 3"});

  HTTPHeaders assigned{{"Old", "x"}};
  assigned = original;
  original.remove("B");
  CHECK(lines(assigned) == Lines{"A: 1", "B: 2"});
  const HTTPHeaders& same = assigned;  // (through a reference: compilers warn on `a = a`)
  assigned = same;                     // self-assignment keeps the fields
  CHECK(lines(assigned) == Lines{"A: 1", "B: 2"});

  HTTPHeaders moved(std::move(copy));
  CHECK(lines(moved) == Lines{"A: changed", "B: 2", "C: 3"});
  CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): documented state
  copy.add("Reused", "ok");
  CHECK(lines(copy) == Lines{"Reused: ok"});
  HTTPHeaders target;
  target = std::move(moved);
  CHECK(target.size() == 3);
  CHECK(moved.empty());  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("httpheaders: arguments may be views into the same headers") {
  HTTPHeaders h{{"Name", "value"}};
  // Enough additions to reallocate the arena while the argument still points into it.
  for (int i = 0; i < 200; ++i) h.add(h[0].name, h[static_cast<std::size_t>(i)].value);
  CHECK(h.size() == 201);
  CHECK(h.get_list("name").size() == 201);
  CHECK(h[200].value == "value");
  h.set("Other", h.get("name"));
  CHECK(h.get("other") == "value");
  h.set(h[0].name, h[200].value);
  CHECK(h.size() == 2);
  CHECK(lines(h) == Lines{"Name: value", "Other: value"});
}

// Quadratic behaviour would turn these 200,000 fields into tens of billions of steps (minutes);
// linear, they take a fraction of a second, even under the sanitizers: the timeout is far from
// both.
TEST_CASE("httpheaders: thousands of fields of one name stay linear" * doctest::timeout(30)) {
  constexpr std::size_t n = 200'000;
  HTTPHeaders h;
  for (std::size_t i = 0; i < n; ++i) h.add("X-Repeated", std::to_string(i));
  h.add("Last", "yes");
  CHECK(h.size() == n + 1);
  CHECK(h.get_list("x-repeated").size() == n);
  CHECK(h.get("LAST") == "yes");
  CHECK(h.get_joined("x-repeated").size() > n);
  HTTPHeaders copy = h;
  CHECK(copy.remove("X-REPEATED") == n);
  CHECK(lines(copy) == Lines{"Last: yes"});
  h.set("x-repeated", "one");
  CHECK(h.size() == 2);
  CHECK(h[0].value == "one");
}

TEST_CASE("httpheaders: repeated set and remove do not grow without bound") {
  HTTPHeaders h{{"Keep", "k"}};
  std::string value(1000, 'v');
  std::string longer = value;
  longer.append("+");
  std::size_t largest = 0;
  for (int i = 0; i < 10'000; ++i) {
    h.set("Grow", longer);  // longer than the slot it replaces: stored anew each time
    h.set("Grow", value);
    h.remove("Grow");
    h.add("Grow", value);
    largest = std::max(largest, h.text_size());
  }
  // Without compaction this would be ~30 MB of dead text.
  CHECK(largest < 16 * 1024);
  CHECK(h.size() == 2);
  CHECK(h.get("grow") == value);
  CHECK(h.get("keep") == "k");
  h.shrink_to_fit();
  CHECK(lines(h).size() == 2);
  CHECK(h.get("grow") == value);
}
