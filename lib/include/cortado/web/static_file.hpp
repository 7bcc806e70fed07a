// StaticFileHandler: files under a directory, with ETags, conditional requests, byte ranges
// and long caching for versioned URLs (Tornado's web.StaticFileHandler).
//
//   web::url<web::StaticFileHandler>("/files/(.*)", std::string("/srv/files"),
//                                    std::string("index.html"))
//
// Settings.static_path adds such a route at Settings.static_url_prefix by itself, and
// Application::static_url("app.js") gives "/static/app.js?v=<content hash>": responses to URLs
// carrying ?v= may be cached for a year, because a new version of the file gets a new URL.
//
// What a request gets:
//  - the file named by the route's first group (percent-decoded), confined to the root: "..",
//    absolute paths, NUL bytes and symlinks that resolve outside the root are 403 (checked on
//    the resolved path, and again on the opened descriptor); a missing file is 404;
//  - ETag (quoted content hash), Last-Modified, Accept-Ranges, Content-Type, Content-Length;
//    If-None-Match (weak comparison, lists, "*"), else If-Modified-Since -> 304;
//  - one byte range -> 206 (If-Range honoured), an unsatisfiable one -> 416, several -> 200;
//  - the body read and sent kChunkSize bytes at a time, each sent before the next is read.
// File reads and the first hash of a file version happen on the loop's thread, as in Tornado.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "cortado/web/request_handler.hpp"

namespace cortado::web {

class StaticFileHandler : public RequestHandler {
 public:
  // How long a client may cache a response to a versioned (?v=) URL.
  static constexpr std::chrono::seconds kCacheMaxAge{31536000};  // 365 days
  // Bytes read and sent per step: memory use is this much per download, whatever the file size.
  static constexpr std::size_t kChunkSize = 64 * 1024;

  // `root`: the directory served. `default_filename`: what a request for a directory serves
  // (for example "index.html"); without one, directories are 403.
  void initialize(std::string root, std::string default_filename = {});

  asio::awaitable<void> get() override;
  asio::awaitable<void> head() override;

 protected:
  // Seconds a client may cache `path` (its route argument): kCacheMaxAge for versioned URLs,
  // else 0 (no caching headers). Override for other policies.
  virtual std::chrono::seconds get_cache_time(std::string_view path);
  // Extra headers for `path`, set after the standard ones (Tornado's set_extra_headers).
  virtual void set_extra_headers(std::string_view path) { (void)path; }

 private:
  asio::awaitable<void> serve(bool include_body);
  void set_file_headers(std::string_view path, std::string_view etag,
                        std::chrono::system_clock::time_point modified);
  asio::awaitable<void> send_body(int fd, std::uint64_t start, std::uint64_t end);
  std::string_view requested_path() const;

  std::string root_;
  std::string default_filename_;
};

// The Content-Type for a file name, from its extension (a built-in table; case-insensitive).
// Text types carry "; charset=utf-8"; unknown extensions are application/octet-stream.
std::string_view static_content_type(std::string_view file_name);

// The content hash of the file `path` under `root` (hex SHA-1): StaticFileHandler's ETag
// (quoted) and static_url's ?v=. Computed once per version of the file (same inode, size,
// mtime and ctime) and cached process-wide; thread-safe. A file changed within the last 2 s is
// rehashed each time (its timestamps may not have ticked yet). Empty when the file is missing,
// unreadable, not a regular file, or outside `root`.
std::string static_file_version(const std::string& root, std::string_view path);

// The route pattern for files under a URL prefix: the prefix, regex-escaped, then "(.*)".
std::string static_route_pattern(std::string_view url_prefix);

}  // namespace cortado::web
