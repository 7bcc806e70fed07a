// StaticFileHandler over real sockets: validators, conditional and range requests, path
// containment, versioned URLs, and large files streamed with flat memory.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cortado/httputil/dates.hpp"
#include "cortado/log.hpp"
#include "cortado/web.hpp"
#include "harness.hpp"
#include "sanitizers.hpp"

namespace fs = std::filesystem;
namespace web = cortado::web;
using cortado::test::RawClient;
using cortado::test::request_bytes;
using cortado::test::Response;
using cortado::test::run_command;
using cortado::test::ServerThread;
using std::chrono::system_clock;

namespace {

constexpr std::string_view kSecret = "TOP-SECRET-4242";
constexpr std::string_view kHello = "Hello, static world!\n";
constexpr std::string_view kDigits = "0123456789";
// Never through a proxy from the environment; bounded, so a hung server fails the test.
const std::string kCurl = "curl -sS --noproxy '*' --max-time 120 ";
// Wed, 01 Jan 2020 00:00:00 GMT: a fixed mtime makes Last-Modified predictable.
constexpr std::time_t kFixedMtime = 1577836800;

// Keeps the expected 4xx access-log lines out of the test output.
struct QuietLogs {
  QuietLogs() {
    previous = cortado::log::set_sink([this](const cortado::log::Record&) { ++records; });
  }
  ~QuietLogs() { cortado::log::set_sink(previous); }
  cortado::log::Sink previous;
  std::atomic<int> records{0};
};

std::string sha1_hex(std::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  std::string hex;
  for (unsigned char b : digest) fmt::format_to(std::back_inserter(hex), "{:02x}", b);
  return hex;
}

std::string etag_of(std::string_view s) {
  std::string out = "\"";
  out.append(s).append("\"");
  return out;
}

// A fresh tree per test, removed afterwards:
//   base/secret.txt                      outside the root
//   base/static-private/key.txt          outside, though "static" is a string prefix of it
//   base/static/                         the root: hello.txt, digits.bin, page.html, empty.txt,
//                                        "with space ü.txt", sub/index.html, sub/plain.txt
//   base/static/escape  -> ../secret.txt                  symlinks out of the root
//   base/static/sneaky  -> ../static-private/key.txt
//   base/static/up      -> ..
//   base/static/alias.txt -> hello.txt                    a symlink inside it
class StaticTree {
 public:
  StaticTree() {
    std::string pattern = (fs::temp_directory_path() / "cortado-static-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    base = pattern;
    root = base / "static";
    fs::create_directories(root / "sub");
    fs::create_directories(base / "static-private");
    write(base / "secret.txt", kSecret);
    write(base / "static-private" / "key.txt", kSecret);
    write(root / "hello.txt", kHello);
    write(root / "digits.bin", kDigits);
    write(root / "page.html", "<p>page</p>");
    write(root / "empty.txt", "");
    write(root / "with space \xc3\xbc.txt", "unicode name");
    write(root / "sub" / "index.html", "<p>index of sub</p>");
    write(root / "sub" / "plain.txt", "plain");
    fs::create_symlink("../secret.txt", root / "escape");
    fs::create_symlink("../static-private/key.txt", root / "sneaky");
    fs::create_symlink("..", root / "up");
    fs::create_symlink("hello.txt", root / "alias.txt");
    set_mtime(root / "digits.bin", kFixedMtime);
  }
  ~StaticTree() {
    std::error_code ec;
    fs::remove_all(base, ec);
  }
  StaticTree(const StaticTree&) = delete;
  StaticTree& operator=(const StaticTree&) = delete;

  static void write(const fs::path& path, std::string_view content) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
  }
  static void set_mtime(const fs::path& path, std::time_t seconds) {
    const timespec times[2] = {{seconds, 0}, {seconds, 0}};
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  }

  fs::path base;
  fs::path root;
};

web::Settings static_settings(const StaticTree& tree) {
  web::Settings settings;
  settings.static_path = tree.root.string();
  return settings;
}

std::vector<web::URLSpec> site_routes(const StaticTree& tree) {
  std::vector<web::URLSpec> routes;
  routes.push_back(web::url<web::StaticFileHandler>("/site/(.*)", tree.root.string(),
                                                    std::string("index.html")));
  return routes;
}

// The tree served two ways: settings.static_path at /static/, and an explicit route at /site/
// with default_filename "index.html".
struct Site {
  explicit Site(const StaticTree& tree)
      : app(site_routes(tree), static_settings(tree)), server(app) {}

  Response fetch(std::string_view target, std::string_view headers = {},
                 std::string_view method = "GET") {
    RawClient client(server.port());
    client.send(request_bytes(method, target, headers));
    return client.read_response(method == "HEAD");
  }
  std::string url(std::string_view target) const {
    return fmt::format("http://127.0.0.1:{}{}", server.port(), target);
  }

  web::Application app;
  ServerThread server;
};

std::string header(const Response& r, std::string_view name) {
  return std::string(r.headers.get(name));
}

}  // namespace

TEST_CASE("static_file: content types by extension") {
  using web::static_content_type;
  CHECK(static_content_type("a.html") == "text/html; charset=utf-8");
  CHECK(static_content_type("dir/A.HTML") == "text/html; charset=utf-8");
  CHECK(static_content_type("app.js") == "text/javascript; charset=utf-8");
  CHECK(static_content_type("mod.mjs") == "text/javascript; charset=utf-8");
  CHECK(static_content_type("style.css") == "text/css; charset=utf-8");
  CHECK(static_content_type("data.json") == "application/json");
  CHECK(static_content_type("logo.svg") == "image/svg+xml");
  CHECK(static_content_type("photo.JPG") == "image/jpeg");
  CHECK(static_content_type("font.woff2") == "font/woff2");
  CHECK(static_content_type("code.wasm") == "application/wasm");
  CHECK(static_content_type("archive.tar.gz") == "application/gzip");
  CHECK(static_content_type("README") == "application/octet-stream");
  CHECK(static_content_type("dir.d/README") == "application/octet-stream");
  CHECK(static_content_type("file.unknownext") == "application/octet-stream");
  CHECK(static_content_type(".bashrc") == "application/octet-stream");
}

TEST_CASE("static_file: route pattern escapes the prefix") {
  CHECK(web::static_route_pattern("/static/") == "/static/(.*)");
  CHECK(web::static_route_pattern("/s.v1+/") == "/s\\.v1\\+/(.*)");
}

TEST_CASE("static_file: GET serves the file with its type, length and validators") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  const Response r = site.fetch("/static/hello.txt");
  CHECK(r.code == 200);
  CHECK(r.body == kHello);
  CHECK(header(r, "Content-Type") == "text/plain; charset=utf-8");
  CHECK(header(r, "Content-Length") == std::to_string(kHello.size()));
  CHECK(header(r, "Etag") == etag_of(sha1_hex(kHello)));
  CHECK(header(r, "Accept-Ranges") == "bytes");
  struct stat st {};
  REQUIRE(::stat((tree.root / "hello.txt").c_str(), &st) == 0);
  CHECK(header(r, "Last-Modified") ==
        cortado::format_http_date(system_clock::from_time_t(st.st_mtim.tv_sec)));
  // Unversioned URLs carry no caching headers.
  CHECK_FALSE(r.headers.contains("Cache-Control"));
  CHECK_FALSE(r.headers.contains("Expires"));

  const Response bin = site.fetch("/static/digits.bin");
  CHECK(bin.body == kDigits);
  CHECK(header(bin, "Content-Type") == "application/octet-stream");
  CHECK(header(bin, "Last-Modified") == "Wed, 01 Jan 2020 00:00:00 GMT");

  CHECK(header(site.fetch("/static/page.html"), "Content-Type") == "text/html; charset=utf-8");

  const Response empty = site.fetch("/static/empty.txt");
  CHECK(empty.code == 200);
  CHECK(header(empty, "Content-Length") == "0");
  CHECK(header(empty, "Etag") == etag_of(sha1_hex("")));

  // Unicode and spaces: percent-encoded in the URL, decoded by the router.
  const Response unicode = site.fetch("/static/with%20space%20%C3%BC.txt");
  CHECK(unicode.code == 200);
  CHECK(unicode.body == "unicode name");

  // A symlink that stays inside the root is followed; the type comes from the name asked for.
  const Response alias = site.fetch("/static/alias.txt");
  CHECK(alias.code == 200);
  CHECK(alias.body == kHello);
  // What counts is where a path ends up: out through a symlink and back in is inside.
  CHECK(site.fetch("/static/up/static/hello.txt").body == kHello);
}

TEST_CASE("static_file: HEAD sends GET's headers and no body") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  const Response get = site.fetch("/static/hello.txt");
  RawClient client(site.server.port());
  // HEAD then GET on one connection: the GET parses only if HEAD sent no body bytes.
  client.send(request_bytes("HEAD", "/static/hello.txt") +
              request_bytes("GET", "/static/page.html"));
  const Response head = client.read_response(true);
  CHECK(head.code == 200);
  for (const char* name :
       {"Content-Type", "Content-Length", "Etag", "Last-Modified", "Accept-Ranges"}) {
    CHECK_MESSAGE(header(head, name) == header(get, name), name);
  }
  const Response next = client.read_response();
  CHECK(next.code == 200);
  CHECK(next.body == "<p>page</p>");

  const Response partial = site.fetch("/static/digits.bin", "Range: bytes=2-5\r\n", "HEAD");
  CHECK(partial.code == 206);
  CHECK(header(partial, "Content-Range") == "bytes 2-5/10");
  CHECK(header(partial, "Content-Length") == "4");
}

TEST_CASE("static_file: If-None-Match answers 304 without a body") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  const std::string etag = etag_of(sha1_hex(kHello));
  auto conditional = [&](const std::string& value) {
    return site.fetch("/static/hello.txt", "If-None-Match: " + value + "\r\n");
  };
  for (const std::string& value :
       {etag, "W/" + etag, "\"other\", " + etag, "\"x,y\",W/" + etag, std::string("*")}) {
    CAPTURE(value);
    const Response r = conditional(value);
    CHECK(r.code == 304);
    CHECK(r.body.empty());
    CHECK(header(r, "Etag") == etag);
    CHECK_FALSE(r.headers.contains("Content-Length"));
    CHECK_FALSE(r.headers.contains("Content-Type"));
  }
  for (const std::string& value :
       {std::string("\"other\""), std::string("\"x," + etag.substr(1)), std::string("junk")}) {
    CAPTURE(value);
    const Response r = conditional(value);
    CHECK(r.code == 200);
    CHECK(r.body == kHello);
  }
  // If-None-Match decides alone when present, even against a matching If-Modified-Since.
  const Response r = site.fetch("/static/hello.txt",
                                "If-None-Match: \"other\"\r\n"
                                "If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\n");
  CHECK(r.code == 200);
}

TEST_CASE("static_file: If-Modified-Since answers 304 unless the file is newer") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  auto since = [&](std::string_view date) {
    return site.fetch("/static/digits.bin", fmt::format("If-Modified-Since: {}\r\n", date));
  };
  CHECK(since("Wed, 01 Jan 2020 00:00:00 GMT").code == 304);
  CHECK(since("Wednesday, 01-Jan-20 00:00:01 GMT").code == 304);
  CHECK(since("Fri, 01 Jan 2100 00:00:00 GMT").code == 304);
  const Response older = since("Tue, 31 Dec 2019 23:59:59 GMT");
  CHECK(older.code == 200);
  CHECK(older.body == kDigits);
  CHECK(since("not a date").code == 200);
}

TEST_CASE("static_file: one byte range is a 206 with Content-Range") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  struct Case {
    const char* range;
    const char* body;
    const char* content_range;
  };
  for (const Case& c :
       {Case{"bytes=2-5", "2345", "bytes 2-5/10"}, Case{"bytes=-3", "789", "bytes 7-9/10"},
        Case{"bytes=5-", "56789", "bytes 5-9/10"}, Case{"bytes=9-100", "9", "bytes 9-9/10"}}) {
    CAPTURE(c.range);
    const Response r = site.fetch("/static/digits.bin", fmt::format("Range: {}\r\n", c.range));
    CHECK(r.code == 206);
    CHECK(r.body == c.body);
    CHECK(header(r, "Content-Range") == c.content_range);
    CHECK(header(r, "Content-Length") == std::to_string(std::strlen(c.body)));
    CHECK(header(r, "Accept-Ranges") == "bytes");
  }
  // The whole file, several ranges, or another unit: 200 with everything (as Tornado).
  for (const char* range : {"bytes=0-9", "bytes=0-", "bytes=-20", "bytes=0-1,5-6", "items=0-1"}) {
    CAPTURE(range);
    const Response r = site.fetch("/static/digits.bin", fmt::format("Range: {}\r\n", range));
    CHECK(r.code == 200);
    CHECK(r.body == kDigits);
    CHECK_FALSE(r.headers.contains("Content-Range"));
  }
}

TEST_CASE("static_file: unsatisfiable ranges are 416 with the size") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  for (const char* range : {"bytes=10-", "bytes=100-200", "bytes=5-2", "bytes=-0"}) {
    CAPTURE(range);
    const Response r = site.fetch("/static/digits.bin", fmt::format("Range: {}\r\n", range));
    CHECK(r.code == 416);
    CHECK(header(r, "Content-Range") == "bytes */10");
    CHECK(r.body.empty());
  }
  CHECK(site.fetch("/static/empty.txt", "Range: bytes=0-\r\n").code == 416);
}

TEST_CASE("static_file: If-Range keeps the range only for the current version") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  const std::string etag = etag_of(sha1_hex(kDigits));
  auto with_if_range = [&](const std::string& value) {
    return site.fetch("/static/digits.bin", "Range: bytes=2-5\r\nIf-Range: " + value + "\r\n");
  };
  CHECK(with_if_range(etag).code == 206);
  CHECK(with_if_range("Wed, 01 Jan 2020 00:00:00 GMT").code == 206);
  CHECK(with_if_range("\"stale\"").code == 200);
  CHECK(with_if_range("W/" + etag).code == 200);  // If-Range needs a strong validator
  CHECK(with_if_range("Tue, 31 Dec 2019 00:00:00 GMT").code == 200);
}

TEST_CASE("static_file: curl sees the same responses") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  CHECK(run_command(kCurl + site.url("/static/hello.txt")).output == kHello);
  CHECK(run_command(kCurl + "-r 2-5 " + site.url("/static/digits.bin")).output == "2345");
  CHECK(run_command(kCurl + site.url("/static/with%20space%20%C3%BC.txt")).output ==
        "unicode name");
  const auto head = run_command(kCurl + "-I " + site.url("/static/digits.bin")).output;
  CHECK(head.find("HTTP/1.1 200") == 0);
  CHECK(head.find("Content-Length: 10\r\n") != std::string::npos);
  CHECK(head.find("Accept-Ranges: bytes\r\n") != std::string::npos);
  // curl revalidates with the date it was given.
  const auto revalidate =
      run_command(kCurl + "-o /dev/null -w '%{http_code}' -z 'Wed, 01 Jan 2020 00:00:00 GMT' " +
                  site.url("/static/digits.bin"));
  CHECK(revalidate.output == "304");
  for (const char* target : {"/static/../secret.txt", "/static/%2e%2e/secret.txt",
                             "/static/..%2fsecret.txt", "/static/escape"}) {
    CAPTURE(target);
    const auto r = run_command(kCurl + "--path-as-is -w '\\n%{http_code}' " + site.url(target));
    CHECK(r.output.find(kSecret) == std::string::npos);
    CHECK(r.output.ends_with("\n403"));
  }
}

TEST_CASE("static_file: paths never lead outside the root") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  const std::string absolute = (tree.base / "secret.txt").string();
  std::string encoded_absolute;
  for (char c : absolute) {
    if (c == '/') {
      encoded_absolute += "%2F";
    } else {
      encoded_absolute += c;
    }
  }
  struct Attempt {
    std::string target;
    int status;
  };
  const std::vector<Attempt> attempts = {
      {"/static/../secret.txt", 403},
      {"/static/%2e%2e/secret.txt", 403},
      {"/static/%2E%2E%2Fsecret.txt", 403},
      {"/static/..%2fsecret.txt", 403},
      {"/static/.%2e/secret.txt", 403},
      {"/static/sub/../../secret.txt", 403},
      {"/static/sub/..%2f..%2fsecret.txt", 403},
      {"/static/./../secret.txt", 403},
      {"/static/" + absolute, 403},          // "/static//tmp/.../secret.txt"
      {"/static/" + encoded_absolute, 403},  // "%2Ftmp%2F..."
      {"/static/escape", 403},               // symlink out
      {"/static/sneaky", 403},               // out, into a string-prefix sibling
      {"/static/up/secret.txt", 403},        // directory symlink out
      {"/static/hello.txt%00.png", 403},     // NUL
      {"/static/%00", 403},
      {"/static/../static-private/key.txt", 403},
      {"/site/..%2Fsecret.txt", 403},
      {"/site/escape", 403},
      {"/static/nonexistent/../../secret.txt", 403},
      {"/static/..../secret.txt", 404},  // "...." is an ordinary (missing) name
  };
  for (const Attempt& a : attempts) {
    CAPTURE(a.target);
    const Response r = site.fetch(a.target);
    CHECK(r.code == a.status);
    CHECK(r.body.find(kSecret) == std::string::npos);
    CHECK_FALSE(r.headers.contains("Etag"));
  }
}

TEST_CASE("static_file: directories") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  // Without default_filename a directory is not served.
  CHECK(site.fetch("/static/sub/").code == 403);
  CHECK(site.fetch("/static/sub").code == 403);
  CHECK(site.fetch("/static/").code == 403);
  // With one, the directory URL gets its trailing slash, then the index.
  const Response redirect = site.fetch("/site/sub");
  CHECK(redirect.code == 301);
  CHECK(header(redirect, "Location") == "/site/sub/");
  const Response index = site.fetch("/site/sub/");
  CHECK(index.code == 200);
  CHECK(index.body == "<p>index of sub</p>");
  CHECK(header(index, "Content-Type") == "text/html; charset=utf-8");
  CHECK(site.fetch("/site/sub/plain.txt").body == "plain");
  CHECK(site.fetch("/site/").code == 404);  // the root has no index.html
}

TEST_CASE("static_file: missing files are 404, other methods 405") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  CHECK(site.fetch("/static/missing.txt").code == 404);
  CHECK(site.fetch("/static/sub/missing/deeper.txt").code == 404);
  CHECK(site.fetch("/static/hello.txt/").code == 404);
  const Response post = site.fetch("/static/hello.txt", {}, "POST");
  CHECK(post.code == 405);
  CHECK(header(post, "Allow") == "GET, HEAD");
}

TEST_CASE("static_file: static_url versions the URL and allows long caching") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  const std::string version = sha1_hex(kHello);
  const std::string url = site.app.static_url("hello.txt");
  CHECK(url == "/static/hello.txt?v=" + version);
  CHECK(web::static_file_version(tree.root.string(), "hello.txt") == version);
  CHECK(site.app.static_url("missing.txt") == "/static/missing.txt");
  CHECK(site.app.static_url("../secret.txt") == "/static/../secret.txt");  // no version outside

  const Response r = site.fetch(url);
  CHECK(r.code == 200);
  CHECK(r.body == kHello);
  CHECK(header(r, "Etag") == etag_of(version));
  CHECK(header(r, "Cache-Control") == "max-age=31536000, public");
  const auto expires = cortado::parse_http_date(header(r, "Expires"));
  REQUIRE(expires);
  const auto ahead = std::chrono::duration_cast<std::chrono::hours>(*expires - system_clock::now());
  CHECK(ahead.count() >= 365 * 24 - 1);
  CHECK(ahead.count() <= 365 * 24 + 1);
}

TEST_CASE("static_file: a new version of a file gets a new hash") {
  QuietLogs quiet;
  StaticTree tree;
  Site site(tree);
  const std::string old_tag = etag_of(sha1_hex(kHello));
  CHECK(header(site.fetch("/static/hello.txt"), "Etag") == old_tag);
  const std::string updated = "Hello again, a longer static world!\n";
  StaticTree::write(tree.root / "hello.txt", updated);
  CHECK(site.app.static_url("hello.txt") == "/static/hello.txt?v=" + sha1_hex(updated));
  const Response r = site.fetch("/static/hello.txt", "If-None-Match: " + old_tag + "\r\n");
  CHECK(r.code == 200);
  CHECK(r.body == updated);
  CHECK(header(r, "Etag") == etag_of(sha1_hex(updated)));

  // Same size and the same mtime: only the inode's ctime (which may not have ticked yet) tells
  // the versions apart, and a file changed within the last seconds is never served from the
  // hash cache, so the content decides.
  CHECK(header(site.fetch("/static/digits.bin"), "Etag") == etag_of(sha1_hex(kDigits)));
  StaticTree::write(tree.root / "digits.bin", "9876543210");
  StaticTree::set_mtime(tree.root / "digits.bin", kFixedMtime);
  const Response digits = site.fetch("/static/digits.bin");
  CHECK(digits.body == "9876543210");
  CHECK(header(digits, "Etag") == etag_of(sha1_hex("9876543210")));
  CHECK(header(digits, "Last-Modified") == "Wed, 01 Jan 2020 00:00:00 GMT");
}

namespace {

// Deterministic pseudo-random bytes (xorshift64), written a mebibyte at a time.
void write_generated_file(const fs::path& path, std::size_t mebibytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::uint64_t state = 0x9e3779b97f4a7c15u;
  std::string block(1 << 20, '\0');
  for (std::size_t m = 0; m < mebibytes; ++m) {
    for (std::size_t i = 0; i < block.size(); i += 8) {
      state ^= state << 13;
      state ^= state >> 7;
      state ^= state << 17;
      std::memcpy(block.data() + i, &state, 8);
    }
    out.write(block.data(), static_cast<std::streamsize>(block.size()));
  }
  REQUIRE(out.good());
}

std::string sha256_of_file(const fs::path& path) {
  return run_command("sha256sum < '" + path.string() + "'").output;
}

std::string sha256_of_download(const std::string& url) {
  return run_command(kCurl + "--fail '" + url + "' | sha256sum").output;
}

// Whether curl downloads exactly the bytes of `file` (cmp: cheaper than hashing 256 MiB twice).
bool download_matches(const std::string& url, const fs::path& file) {
  return run_command(kCurl + "--fail '" + url + "' | cmp -s - '" + file.string() + "' && echo same")
             .output == "same\n";
}

// A field of /proc/self/status in kB ("VmRSS", "VmHWM"), or -1.
long status_kib(std::string_view field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with(field) && line.size() > field.size() && line[field.size()] == ':') {
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
    }
  }
  return -1;
}

// Resets the peak RSS (VmHWM) to the current RSS (Linux 4.0+). False where not permitted.
bool reset_peak_rss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return clear.good();
}

}  // namespace

TEST_CASE("static_file: a 64 MiB file arrives intact") {
  QuietLogs quiet;
  StaticTree tree;
  write_generated_file(tree.root / "big.bin", 64);
  Site site(tree);
  const std::string expected = sha256_of_file(tree.root / "big.bin");
  REQUIRE(expected.size() > 64);
  CHECK(sha256_of_download(site.url("/static/big.bin")) == expected);
  // And a range from the middle, across chunk boundaries.
  const auto slice =
      run_command(kCurl + "-r 1000000-1199999 '" + site.url("/static/big.bin") + "' | sha256sum")
          .output;
  const auto expected_slice = run_command("tail -c +1000001 '" + (tree.root / "big.bin").string() +
                                          "' | head -c 200000 | sha256sum")
                                  .output;
  CHECK(slice == expected_slice);
}

// Peak RSS of this process (which runs the server) while curl downloads a 256 MiB file: it
// grows by a chunk and socket buffers, not by the file. clear_refs makes the peak a
// measurement of this download alone.
TEST_CASE("static_file: a 256 MiB download keeps the server's memory flat") {
  QuietLogs quiet;
  StaticTree tree;
  const fs::path big = tree.root / "sparse.bin";
  {
    const int fd = ::open(big.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    REQUIRE(fd >= 0);
    REQUIRE(::ftruncate(fd, off_t{256} << 20) == 0);
    ::close(fd);
  }
  Site site(tree);
  if (cortado::test::kAddressSanitizer) {
    // Its quarantine keeps freed chunks resident: RSS says nothing about the handler there.
    CHECK(download_matches(site.url("/static/sparse.bin"), big));
    return;
  }
  if (!reset_peak_rss() || status_kib("VmHWM") > status_kib("VmRSS") + 1024) {
    MESSAGE("cannot reset the peak RSS here (/proc/self/clear_refs): memory not measured");
    CHECK(download_matches(site.url("/static/sparse.bin"), big));
    return;
  }
  const long before_kib = status_kib("VmRSS");
  // The first request also hashes the file for its ETag, which streams as well.
  const bool identical = download_matches(site.url("/static/sparse.bin"), big);
  const long growth_kib = status_kib("VmHWM") - before_kib;
  CHECK(identical);
  MESSAGE("peak RSS growth while serving 256 MiB: " << growth_kib << " KiB");
  CHECK(growth_kib < 32 * 1024);
}

TEST_CASE("static_file: a client leaving mid-download does not disturb the server") {
  QuietLogs quiet;
  StaticTree tree;
  write_generated_file(tree.root / "big.bin", 16);
  Site site(tree);
  {
    RawClient client(site.server.port());
    client.send(request_bytes("GET", "/static/big.bin"));
    std::array<char, 1024> some{};
    client.socket().read_some(asio::buffer(some));
  }  // closes with most of the body unread
  const Response r = site.fetch("/static/hello.txt");
  CHECK(r.code == 200);
  CHECK(r.body == kHello);
}
