// Where Tornado 6.2's parse_body_arguments accepts an input, the expected arguments and files
// are what it produced for the same bytes; the refusals of malformed input are this
// implementation's (Tornado refuses most of them too, with vaguer messages).
#include <doctest/doctest.h>

#include <string>

#include "cortado/httputil/forms.hpp"

using namespace std::string_literals;
using cortado::Arguments;
using cortado::FormLimits;
using cortado::HTTPFile;
using cortado::HTTPInputError;
using cortado::parse_body_arguments;
using Values = std::vector<std::string>;

namespace {

struct Parsed {
  Arguments arguments;
  cortado::Files files;
};

Parsed parse(std::string_view content_type, std::string_view body, const FormLimits& limits = {}) {
  Parsed p;
  parse_body_arguments(content_type, body, p.arguments, p.files, limits);
  return p;
}

std::string part(std::string_view headers, std::string_view content) {
  std::string s = "--1234\r\n";
  s.append(headers).append("\r\n\r\n").append(content).append("\r\n");
  return s;
}

std::string field(std::string_view name, std::string_view value) {
  std::string headers = "Content-Disposition: form-data; name=\"";
  headers.append(name).append("\"");
  return part(headers, value);
}

std::string form(std::string_view parts) {
  std::string s(parts);
  s.append("--1234--\r\n");
  return s;
}

constexpr std::string_view kMultipart = "multipart/form-data; boundary=1234";

bool same_file(const HTTPFile& f, std::string_view filename, std::string_view type,
               std::string_view body) {
  return f.filename == filename && f.content_type == type && f.body == body;
}

}  // namespace

TEST_CASE("multipart fields and files land where Tornado puts them") {
  std::string body = field("a", "hello");
  body += part(R"(Content-Disposition: form-data; name="files"; filename="ab.txt")", "Foo");
  body += part(
      "Content-Disposition: form-data; name=\"files\"; filename=\"c.png\"\r\n"
      "Content-Type: image/png",
      "\x89PNG\r\n");
  body += part(R"(Content-Disposition: form-data; name="empty"; filename="")", "");
  body += field("a", "world");
  const Parsed p = parse(kMultipart, form(body));
  CHECK(p.arguments == Arguments{{"a", {"hello", "world"}}, {"empty", {""}}});
  REQUIRE(p.files.size() == 1);
  const auto& files = p.files.at("files");
  REQUIRE(files.size() == 2);
  CHECK(same_file(files[0], "ab.txt", "application/unknown", "Foo"));
  CHECK(same_file(files[1], "c.png", "image/png", "\x89PNG\r\n"));
}

TEST_CASE("the multipart Content-Type is read leniently") {
  const std::string body = form(field("a", "1"));
  const Arguments expected{{"a", {"1"}}};
  CHECK(parse("multipart/form-data; boundary=\"1234\"", body).arguments == expected);
  CHECK(parse("Multipart/Form-Data;charset=utf-8;BOUNDARY=1234", body).arguments == expected);
  CHECK(parse("multipart/form-data; x=\"a;boundary=no\"; boundary=1234", body).arguments ==
        expected);
}

TEST_CASE("a multipart Content-Type without boundary is refused") {
  const std::string body = form(field("a", "1"));
  CHECK_THROWS_WITH_AS(parse("multipart/form-data", body),
                       "invalid multipart/form-data: boundary parameter not found", HTTPInputError);
  CHECK_THROWS_AS(parse("multipart/form-data; boundary=", body), HTTPInputError);
  CHECK_THROWS_AS(parse("multipart/form-data; boundary=\"\"", body), HTTPInputError);
}

TEST_CASE("urlencoded bodies keep blank values") {
  const Parsed p = parse("application/x-www-form-urlencoded", "a=1&b=&c&a=x+y%21");
  CHECK(p.arguments == Arguments{{"a", {"1", "x y!"}}, {"b", {""}}, {"c", {""}}});
  CHECK(p.files.empty());
  CHECK(parse("Application/X-WWW-Form-Urlencoded; charset=UTF-8", "k=v").arguments ==
        Arguments{{"k", {"v"}}});
}

TEST_CASE("urlencoded bodies honor max_fields") {
  CHECK_THROWS_AS(parse("application/x-www-form-urlencoded", "a&b&c", {.max_fields = 2}),
                  HTTPInputError);
}

TEST_CASE("other content types add nothing") {
  CHECK(parse("text/plain", "a=1").arguments.empty());
  CHECK(parse("", "a=1").arguments.empty());
  CHECK(parse("application/x-www-form-urlencodedx", "a=1").arguments.empty());
}

TEST_CASE("filenames: filename* wins, Windows paths keep their backslashes") {
  const auto file_name = [](std::string_view disposition) {
    const Parsed p =
        parse(kMultipart, form(part("Content-Disposition: " + std::string(disposition), "x")));
    return p.files.at("f").at(0).filename;
  };
  CHECK(file_name(R"(form-data; name="f"; filename="a.txt"; filename*=UTF-8''%C3%A4.txt)") ==
        "\xc3\xa4.txt");
  CHECK(file_name(R"(form-data; filename*=UTF-8''%C3%A4.txt; name="f"; filename="a.txt")") ==
        "\xc3\xa4.txt");
  CHECK(file_name(R"(form-data; name=f; filename*=iso-8859-1'en'%E4.txt)") == "\xc3\xa4.txt");
  CHECK(file_name(R"(form-data; name="f"; filename="C:\dir\f.txt")") == R"(C:\dir\f.txt)");
  CHECK(file_name(R"(form-data; name="f"; filename="a\"b.txt")") == "a\"b.txt");
  CHECK(file_name(R"(form-data; name="f"; filename="semi;colon.txt")") == "semi;colon.txt");
  CHECK(file_name("form-data; name=\"f\"; filename=\"\xc3\xa9.txt\"") == "\xc3\xa9.txt");
}

TEST_CASE("names are decoded like filenames") {
  CHECK(parse(kMultipart, form(field("a\\\"b", "x"))).arguments == Arguments{{"a\"b", {"x"}}});
  CHECK(parse(kMultipart, form(field("\xc3\xa9", ""))).arguments == Arguments{{"\xc3\xa9", {""}}});
  CHECK(parse(kMultipart, form(part("Content-Disposition: form-data; name*=UTF-8''%C3%A9", "v")))
            .arguments == Arguments{{"\xc3\xa9", {"v"}}});
}

TEST_CASE("preamble, epilogue, transport padding and binary content") {
  const std::string content = "line1\r\n--123\r\n-1234\r\n--1235\n--1234\0\xff\r\n"s;
  std::string body = "This is the preamble.\r\n--1234 \t\r\n";
  body.append("Content-Disposition: form-data; name=a\r\n\r\n").append(content);
  body.append("\r\n--1234--garbage after the close\r\n--1234\r\n");
  CHECK(parse(kMultipart, body).arguments == Arguments{{"a", {content}}});
}

TEST_CASE("a delimiter inside content must be a whole boundary line") {
  // After CRLF, "--1234" followed by anything but padding+CRLF or "--" is refused, not
  // treated as content: RFC 2046 forbids the delimiter inside a part.
  std::string body = field("a", "x\r\n--1234x");
  body.append("--1234--");
  CHECK_THROWS_AS(parse(kMultipart, body), HTTPInputError);
}

TEST_CASE("a body that is only the closing boundary has no fields") {
  CHECK(parse(kMultipart, "--1234--\r\n").arguments.empty());
  CHECK(parse(kMultipart, "--1234--").arguments.empty());
}

TEST_CASE("malformed multipart bodies are refused with a reason") {
  const auto reason = [](std::string_view body) -> std::string {
    try {
      parse(kMultipart, body);
    } catch (const HTTPInputError& e) {
      return e.what();
    }
    return "accepted";
  };
  const std::string prefix = "invalid multipart/form-data: ";
  CHECK(reason("") == prefix + "boundary not found");
  CHECK(reason("--1234\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello\r\n") ==
        prefix + "no final boundary found");
  CHECK(reason("--1234\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhello--1234--") ==
        prefix + "no final boundary found");
  CHECK(reason(form(part("Content-Disposition: form-data", "x"))) ==
        prefix + "part without a name");
  CHECK(reason(form(part("Content-Disposition: form-data; name=\"\"", "x"))) ==
        prefix + "part without a name");
  CHECK(reason(form(part("Content-Disposition: attachment; name=\"a\"", "x"))) ==
        prefix + "part disposition is not form-data");
  CHECK(reason(form(part("Content-Type: text/plain", "x"))) ==
        prefix + "part without Content-Disposition");
  CHECK(reason("--1234\r\nContent-Disposition: form-data; name=\"a\"\r\nhello\r\n--1234--") ==
        prefix + "part headers not terminated");
  CHECK(reason("--1234\r\n\r\nvalue\r\n--1234--") == prefix + "part without Content-Disposition");
  CHECK(reason("--1234junk\r\n") == prefix + "boundary line not ended by CRLF");
  CHECK(reason(form(part("Content-Disposition form-data", "x"))) ==
        prefix + "header line without a colon in a part");
  CHECK(reason(form(part("Content-Disposition: form-data;\r\n name=\"a\"", "x"))) ==
        prefix + "folded header line in a part");
  CHECK(reason(form(part("Bad Name: x\r\nContent-Disposition: form-data; name=a", "x"))) ==
        prefix + "bad header name in a part");
  CHECK(reason(form(part("X: a\rb\r\nContent-Disposition: form-data; name=a", "x"))) ==
        prefix + "control character in a part's header");
  CHECK(reason(form(part("Content-Disposition: form-data; name=\"\xff\"", "x"))) ==
        prefix + "part headers are not UTF-8");
  CHECK(reason(form(part("Content-Disposition: form-data; name=a\r\n"
                         "Content-Disposition: form-data; name=b",
                         "x"))) ==
        prefix + "duplicate Content-Disposition or Content-Type in a part");
  CHECK(reason(form(part("Content-Disposition: form-data; name=a; name=b", "x"))) ==
        prefix + "duplicate parameter in Content-Disposition");
  CHECK(reason(form(part("Content-Disposition: form-data; name=a; filename*=UTF-8''%FF", "x"))) ==
        prefix + "extended parameter is not valid UTF-8");
  CHECK(reason(form(part("Content-Disposition: form-data; name=a; filename*=koi8-r''x", "x"))) ==
        prefix + "unsupported charset in extended parameter");
  CHECK(reason(form(part("Content-Disposition: form-data; name=a; filename*=%41", "x"))) ==
        prefix + "extended parameter without charset''");
}

TEST_CASE("boundaries longer than RFC 2046's 70 characters are refused") {
  const std::string b70(70, 'b');
  std::string body =
      "--" + b70 + "\r\nContent-Disposition: form-data; name=a\r\n\r\nv\r\n--" + b70 + "--";
  Parsed p;
  cortado::parse_multipart_form_data(b70, body, p.arguments, p.files);
  CHECK(p.arguments == Arguments{{"a", {"v"}}});
  CHECK_THROWS_WITH_AS(cortado::parse_multipart_form_data(b70 + "b", body, p.arguments, p.files),
                       "invalid multipart/form-data: boundary must have 1 to 70 characters",
                       HTTPInputError);
}

TEST_CASE("multipart limits: parts, header lines, header bytes") {
  std::string three = form(field("a", "1") + field("b", "2") + field("c", "3"));
  CHECK(parse(kMultipart, three, {.max_parts = 3}).arguments.size() == 3);
  CHECK_THROWS_WITH_AS(parse(kMultipart, three, {.max_parts = 2}),
                       "multipart/form-data exceeds a limit: parts (limit 2)", HTTPInputError);

  const std::string headers = "A: 1\r\nB: 2\r\nContent-Disposition: form-data; name=x";
  CHECK(parse(kMultipart, form(part(headers, "v")), {.max_part_headers = 3}).arguments.size() == 1);
  CHECK_THROWS_WITH_AS(parse(kMultipart, form(part(headers, "v")), {.max_part_headers = 2}),
                       "multipart/form-data exceeds a limit: header lines in a part (limit 2)",
                       HTTPInputError);

  const FormLimits exact{.max_part_header_size = headers.size()};
  CHECK(parse(kMultipart, form(part(headers, "v")), exact).arguments.size() == 1);
  const FormLimits one_less{.max_part_header_size = headers.size() - 1};
  const std::string message =
      "multipart/form-data exceeds a limit: bytes in a part's header "
      "block (limit " +
      std::to_string(headers.size() - 1) + ")";
  CHECK_THROWS_WITH_AS(parse(kMultipart, form(part(headers, "v")), one_less), message.c_str(),
                       HTTPInputError);
}

TEST_CASE("arguments and files are untouched when a body is refused") {
  Arguments arguments{{"keep", {"me"}}};
  cortado::Files files;
  std::string body = field("a", "1") + part("Content-Disposition: nope", "x");
  CHECK_THROWS_AS(parse_body_arguments(kMultipart, form(body), arguments, files), HTTPInputError);
  CHECK(arguments == Arguments{{"keep", {"me"}}});
  CHECK(files.empty());
}

TEST_CASE("split_multipart exposes each part's headers and content") {
  const std::string body =
      form(part("Content-Disposition: form-data; name=\"f\"; filename=\"a.txt\"\r\n"
                "Content-Type: text/plain\r\nX-Extra:  spaced  ",
                "data"));
  const auto parts = cortado::split_multipart("1234", body);
  REQUIRE(parts.size() == 1);
  const auto& p = parts[0];
  REQUIRE(p.headers.size() == 3);
  CHECK(p.headers[2].name == "X-Extra");
  CHECK(p.headers[2].value == "spaced");
  CHECK(p.name == "f");
  CHECK(p.filename == "a.txt");
  CHECK(p.content_type == "text/plain");
  CHECK(p.body == "data");
  CHECK(p.body.data() >= body.data());  // a view into the body, not a copy
  CHECK(p.body.data() < body.data() + body.size());
}

// Linear: a fraction of a second, where a rescan per part would take minutes.
TEST_CASE("10k parts: counted, limited, and parsed in one pass" * doctest::timeout(30)) {
  std::string parts;
  for (int i = 0; i < 10000; ++i) parts += field("k", std::to_string(i));
  const std::string body = form(parts);
  CHECK_THROWS_AS(parse(kMultipart, body), HTTPInputError);  // default max_parts is 1000
  const Parsed p = parse(kMultipart, body, {.max_parts = 10000});
  REQUIRE(p.arguments.at("k").size() == 10000);
  CHECK(p.arguments.at("k").back() == "9999");
}

TEST_CASE("pathological bodies that would make a rescanning parser quadratic" *
          doctest::timeout(30)) {
  // Near-misses of the delimiter everywhere: each must be looked at once, not per part.
  std::string content;
  for (int i = 0; i < 100000; ++i) content.append("\r\n--123");
  std::string body = form(field("a", content));
  CHECK(parse(kMultipart, body).arguments.at("a") == Values{content});
  // A huge body with no final boundary fails after one scan.
  std::string open = field("a", std::string(1 << 20, '-'));
  CHECK_THROWS_AS(parse(kMultipart, open), HTTPInputError);
  // Header blocks that never end are cut at the header size limit.
  std::string endless = "--1234\r\n" + std::string(1 << 20, 'h');
  CHECK_THROWS_AS(parse(kMultipart, endless), HTTPInputError);
  // Many tiny empty-header parts.
  std::string tiny;
  for (int i = 0; i < 999; ++i)
    tiny += "--1234\r\nContent-Disposition:form-data;name=x\r\n\r\n\r\n";
  CHECK(parse(kMultipart, form(tiny)).arguments.at("x").size() == 999);
}
