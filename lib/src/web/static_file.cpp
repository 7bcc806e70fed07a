#include "cortado/web/static_file.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <unordered_map>

#include <fmt/format.h>

#include "cortado/httputil/dates.hpp"
#include "cortado/httputil/ranges.hpp"
#include "cortado/iostream.hpp"

namespace cortado::web {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

// --- Content types --------------------------------------------------------------------------

struct ContentType {
  std::string_view extension;  // lower case, without the dot
  std::string_view type;
};

// Sorted by extension for binary search.
constexpr auto kContentTypes = std::to_array<ContentType>({
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"map", "application/json"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"svg", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xml", "application/xml"},
    {"zip", "application/zip"},
});

static_assert(std::is_sorted(kContentTypes.begin(), kContentTypes.end(),
                             [](const ContentType& a, const ContentType& b) {
                               return a.extension < b.extension;
                             }));

// The type for an extension (already lower case), or empty.
std::string_view type_for_extension(std::string_view extension) {
  const auto it = std::lower_bound(
      kContentTypes.begin(), kContentTypes.end(), extension,
      [](const ContentType& entry, std::string_view ext) { return entry.extension < ext; });
  return it != kContentTypes.end() && it->extension == extension ? it->type : std::string_view();
}

// --- Files ----------------------------------------------------------------------------------

// Owns a file descriptor.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Up to `size` bytes at `offset`; fewer only at the end of the file.
std::size_t read_at(int fd, char* out, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, out + done, size - done, static_cast<off_t>(offset + done));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "pread");
    }
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// --- Resolving a request path ---------------------------------------------------------------

enum class Lookup { file, directory, forbidden, missing };

struct Resolved {
  Lookup kind = Lookup::missing;
  fs::path root;  // canonical
  fs::path path;  // canonical, inside root
};

// True when `relative` climbs above where it starts ("..", "a/../.."), symlinks aside. Such a
// path is refused before touching the file system, as Tornado refuses it after abspath().
bool climbs_out(std::string_view relative) {
  int depth = 0;
  while (!relative.empty()) {
    const std::size_t slash = relative.find('/');
    const std::string_view part = relative.substr(0, slash);
    relative = slash == std::string_view::npos ? std::string_view() : relative.substr(slash + 1);
    if (part == "..") {
      if (--depth < 0) return true;
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
  }
  return false;
}

// Whether canonical `path` is `root` or below it, compared component by component: a string
// prefix test would let "/srv/static-private" pass for the root "/srv/static".
bool inside(const fs::path& root, const fs::path& path) {
  return std::mismatch(root.begin(), root.end(), path.begin(), path.end()).first == root.end();
}

bool is_missing(const std::error_code& ec) {
  return ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory ||
         ec == std::errc::filename_too_long;
}

// Where `relative` (a percent-decoded route argument) leads under `root`, symlinks resolved.
// Anything that lands outside the root is forbidden, whatever exists there.
Resolved resolve(const std::string& root, std::string_view relative) {
  Resolved r;
  if (relative.find('\0') != std::string_view::npos || relative.starts_with('/') ||
      climbs_out(relative)) {
    r.kind = Lookup::forbidden;
    return r;
  }
  std::error_code ec;
  r.root = fs::canonical(root, ec);
  if (ec) return r;  // a missing root serves nothing
  r.path = fs::canonical(r.root / fs::path(relative), ec);
  if (ec) {
    r.kind = is_missing(ec) ? Lookup::missing : Lookup::forbidden;
    return r;
  }
  if (!inside(r.root, r.path)) {
    r.kind = Lookup::forbidden;
    return r;
  }
  struct stat st {};
  if (::stat(r.path.c_str(), &st) != 0) {
    r.kind = errno == ENOENT ? Lookup::missing : Lookup::forbidden;
  } else {
    r.kind = S_ISDIR(st.st_mode)   ? Lookup::directory
             : S_ISREG(st.st_mode) ? Lookup::file
                                   : Lookup::forbidden;
  }
  return r;
}

struct OpenFile {
  FileDescriptor fd;
  struct stat st;
};

// Opens a resolved regular file. The check that it lies under the root is repeated on the
// descriptor itself, so a symlink swapped in after resolve() cannot slip a file out.
OpenFile open_file(const Resolved& r) {
  // O_NONBLOCK: a FIFO put there in the meantime must not block the loop (no effect on files).
  const int fd = ::open(r.path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) throw HTTPError(404);
    if (errno == EACCES || errno == EPERM || errno == ELOOP) throw HTTPError(403);
    throw std::system_error(errno, std::generic_category(), "open");
  }
  OpenFile file{FileDescriptor(fd), {}};
  if (::fstat(fd, &file.st) != 0) throw std::system_error(errno, std::generic_category(), "fstat");
  if (!S_ISREG(file.st.st_mode)) throw HTTPError(403, "not a regular file");
  std::error_code ec;
  const fs::path opened = fs::read_symlink(fmt::format("/proc/self/fd/{}", fd), ec);
  if (!ec && !inside(r.root, opened)) throw HTTPError(403, "file moved outside the root");
  return file;
}

// --- Version hashes -------------------------------------------------------------------------

// What identifies one version of a file's content without reading it.
struct FileIdentity {
  dev_t device;
  ino_t inode;
  off_t size;
  std::int64_t mtime_ns;
  std::int64_t ctime_ns;
  friend bool operator==(const FileIdentity&, const FileIdentity&) = default;
};

FileIdentity identity(const struct stat& st) {
  auto ns = [](const timespec& t) { return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; };
  return {st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

std::string sha1_hex(int fd) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA-1 is not available");
  }
  std::string buffer(StaticFileHandler::kChunkSize, '\0');
  std::uint64_t offset = 0;
  while (const std::size_t n = read_at(fd, buffer.data(), buffer.size(), offset)) {
    EVP_DigestUpdate(ctx.get(), buffer.data(), n);
    offset += n;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    fmt::format_to(std::back_inserter(hex), "{:02x}", digest[i]);
  }
  return hex;
}

// Content hashes by canonical path, valid while the file's identity is unchanged. Shared by all
// handlers and threads (the hash is the same whoever computes it); the lock is not held while
// hashing. Bounded: it is emptied when full, which only costs recomputation.
class VersionCache {
 public:
  std::string version(const std::string& path, const OpenFile& file) {
    const FileIdentity id = identity(file.st);
    {
      std::lock_guard lock(mutex_);
      const auto it = entries_.find(path);
      if (it != entries_.end() && it->second.id == id) return it->second.hash;
    }
    const std::int64_t now_ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(system_clock::now().time_since_epoch())
            .count();
    std::string hash = sha1_hex(file.fd.get());
    // File timestamps tick coarsely (a few ms on ext4, 2 s on FAT): a same-size rewrite within
    // one tick keeps the identity. So a file changed too recently is hashed on every request
    // until its timestamps can tell versions apart (git's "racy" entries, handled the same way).
    if (now_ns - id.ctime_ns < kRacyWindow.count()) return hash;
    std::lock_guard lock(mutex_);
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.insert_or_assign(path, Entry{id, hash});
    return hash;
  }

 private:
  static constexpr std::size_t kMaxEntries = 10000;
  static constexpr std::chrono::nanoseconds kRacyWindow = std::chrono::seconds(2);
  struct Entry {
    FileIdentity id;
    std::string hash;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

VersionCache& version_cache() {
  static VersionCache cache;
  return cache;
}

// --- Conditional requests -------------------------------------------------------------------

std::string_view opaque_tag(std::string_view etag) {
  return etag.starts_with("W/") ? etag.substr(2) : etag;
}

// If-None-Match: "*" or a list of entity tags, compared weakly (RFC 9110 13.1.2). Commas may
// appear inside a quoted tag, so the list is scanned tag by tag rather than split on commas.
bool none_match_hits(std::string_view header, std::string_view etag) {
  const std::string_view wanted = opaque_tag(etag);
  std::size_t i = 0;
  while (i < header.size()) {
    if (header[i] == ' ' || header[i] == '\t' || header[i] == ',') {
      ++i;
      continue;
    }
    const std::string_view rest = header.substr(i);
    const std::size_t element_end = std::min(rest.find_first_of(" \t,"), rest.size());
    if (rest.substr(0, element_end) == "*") return true;
    const std::size_t open = rest.starts_with("W/\"") ? 2 : rest.starts_with('"') ? 0 : rest.npos;
    const std::size_t close = open == rest.npos ? rest.npos : rest.find('"', open + 1);
    if (close == rest.npos) {
      i += element_end;  // not a tag: skip to the next separator
      continue;
    }
    if (rest.substr(open, close + 1 - open) == wanted) return true;
    i += close + 1;
  }
  return false;
}

// If-Range (RFC 9110 13.1.5): a strong ETag or the exact Last-Modified date; anything else
// means the client's copy is stale and must get the whole file.
bool if_range_holds(std::string_view header, std::string_view etag,
                    system_clock::time_point modified) {
  if (header.empty()) return true;
  if (header.starts_with("W/")) return false;
  if (header.starts_with('"')) return header == etag;
  const auto date = parse_http_date(header);
  return date && *date == modified;
}

std::string_view trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t") - begin + 1);
}

// What a Range header asks of a file of `size` bytes: `full` also when there is no Range, when
// it is one Tornado ignores (several ranges, another unit) or when If-Range says the client's
// copy is stale.
RangeResolution requested_range(const HTTPHeaders& headers, std::uint64_t size,
                                std::string_view etag, system_clock::time_point modified) {
  const std::string_view header = headers.get("Range");
  if (header.empty() || !if_range_holds(trim(headers.get("If-Range")), etag, modified)) return {};
  const auto range = parse_range_header(header);
  return range ? resolve_range(*range, size) : RangeResolution{};
}

// Tornado's should_return_304: If-None-Match decides when present, else If-Modified-Since.
bool not_modified(const HTTPHeaders& headers, std::string_view etag,
                  system_clock::time_point modified) {
  const std::string none_match = headers.get_joined("If-None-Match");
  if (!trim(none_match).empty()) return none_match_hits(none_match, etag);
  const std::string_view since_header = headers.get("If-Modified-Since");
  if (since_header.empty()) return false;
  const auto since = parse_http_date(since_header);
  return since && *since >= modified;
}

// "dir" + "index.html", without doubling a slash the request path already ends with.
std::string join(std::string_view directory, std::string_view name) {
  std::string out(directory);
  if (!out.empty() && !out.ends_with('/')) out += '/';
  out.append(name);
  return out;
}

struct Located {
  std::string path;  // the route argument, plus default_filename for a directory
  Resolved target;
};

// The file a request names; a directory stands for its default file. nullopt when the answer
// is instead a redirect to the directory's URL with its trailing slash. Throws 404 / 403.
std::optional<Located> locate(RequestHandler& handler, std::string path, const std::string& root,
                              const std::string& default_filename) {
  Resolved target = resolve(root, path);
  if (target.kind == Lookup::directory && !default_filename.empty()) {
    const std::string& request_path = handler.request().path;
    // Relative links in the index page need the trailing slash, as in Tornado.
    if (!request_path.ends_with('/')) {
      // "//host/..." would be a protocol-relative redirect to another site.
      if (request_path.starts_with("//")) throw HTTPError(403, "path starts with //");
      std::string location = request_path;
      location.append("/");
      handler.redirect(location, true);
      return std::nullopt;
    }
    path = join(path, default_filename);
    target = resolve(root, path);
  }
  if (target.kind == Lookup::missing) throw HTTPError(404);
  if (target.kind != Lookup::file) {
    throw HTTPError(403, fmt::format("{:?} is outside the root or not a file", path));
  }
  return Located{std::move(path), std::move(target)};
}

struct Span {
  std::uint64_t start;
  std::uint64_t end;  // exclusive
};

// The bytes to send, with the 206 status and Content-Range for a partial response. nullopt
// when the range cannot be satisfied: the 416 response is then complete.
std::optional<Span> choose_span(RequestHandler& handler, std::uint64_t size, std::string_view etag,
                                system_clock::time_point modified) {
  const RangeResolution range = requested_range(handler.request().headers, size, etag, modified);
  switch (range.kind) {
    case RangeResolution::Kind::unsatisfiable:
      handler.set_status(416);
      handler.set_header("Content-Type", "text/plain");
      handler.set_header("Content-Range", format_unsatisfied_range(size));
      return std::nullopt;
    case RangeResolution::Kind::partial:
      handler.set_status(206);
      handler.set_header("Content-Range", format_content_range(range.start, range.end, size));
      return Span{range.start, range.end};
    case RangeResolution::Kind::full:
      break;
  }
  return Span{0, size};
}

}  // namespace

std::string_view static_content_type(std::string_view file_name) {
  file_name = file_name.substr(file_name.find_last_of('/') + 1);
  const std::size_t dot = file_name.find_last_of('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string extension(file_name.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  const std::string_view type = type_for_extension(extension);
  return type.empty() ? "application/octet-stream" : type;
}

std::string static_file_version(const std::string& root, std::string_view path) {
  const Resolved r = resolve(root, path);
  if (r.kind != Lookup::file) return {};
  try {
    const OpenFile file = open_file(r);
    return version_cache().version(r.path.native(), file);
  } catch (const std::exception&) {
    return {};  // unreadable: static_url() then leaves the version out, as Tornado does
  }
}

std::string static_route_pattern(std::string_view url_prefix) {
  std::string pattern;
  for (char c : url_prefix) {
    if (std::string_view(".^$*+?()[]{}|\\").find(c) != std::string_view::npos) pattern += '\\';
    pattern += c;
  }
  pattern.append("(.*)");
  return pattern;
}

void StaticFileHandler::initialize(std::string root, std::string default_filename) {
  root_ = std::move(root);
  default_filename_ = std::move(default_filename);
}

asio::awaitable<void> StaticFileHandler::get() {
  return serve(true);
}
asio::awaitable<void> StaticFileHandler::head() {
  return serve(false);
}

std::chrono::seconds StaticFileHandler::get_cache_time(std::string_view) {
  return request().query_arguments().contains("v") ? kCacheMaxAge : std::chrono::seconds(0);
}

std::string_view StaticFileHandler::requested_path() const {
  if (!path_args().empty()) return path_args().front();
  const auto it = path_kwargs().find("path");
  return it == path_kwargs().end() ? std::string_view() : std::string_view(it->second);
}

asio::awaitable<void> StaticFileHandler::serve(bool include_body) {
  const auto located = locate(*this, std::string(requested_path()), root_, default_filename_);
  if (!located) co_return;  // redirected to the directory's URL
  const OpenFile file = open_file(located->target);
  std::string etag = "\"";
  etag.append(version_cache().version(located->target.path.native(), file)).append("\"");
  // HTTP dates have whole seconds; comparing If-Modified-Since needs the same precision.
  const system_clock::time_point modified{std::chrono::seconds(file.st.st_mtim.tv_sec)};
  set_file_headers(located->path, etag, modified);
  if (not_modified(request().headers, etag, modified)) {
    set_status(304);
    co_return;
  }
  const auto size = static_cast<std::uint64_t>(file.st.st_size);
  const auto span = choose_span(*this, size, etag, modified);
  if (!span) co_return;  // 416
  set_header("Content-Length", static_cast<std::int64_t>(span->end - span->start));
  if (include_body) co_await send_body(file.fd.get(), span->start, span->end);
}

void StaticFileHandler::set_file_headers(std::string_view path, std::string_view etag,
                                         system_clock::time_point modified) {
  set_header("Accept-Ranges", "bytes");
  set_header("Etag", etag);
  set_header("Last-Modified", format_http_date(modified));
  set_header("Content-Type", static_content_type(path));
  const std::chrono::seconds cache_time = get_cache_time(path);
  if (cache_time.count() > 0) {
    set_header("Expires", format_http_date(system_clock::now() + cache_time));
    set_header("Cache-Control", fmt::format("max-age={}, public", cache_time.count()));
  }
  set_extra_headers(path);
}

// One chunk in memory at a time: read, hand to the connection, wait until it is sent.
asio::awaitable<void> StaticFileHandler::send_body(int fd, std::uint64_t start, std::uint64_t end) {
  std::string buffer(std::min<std::uint64_t>(kChunkSize, end - start), '\0');
  for (std::uint64_t offset = start; offset < end;) {
    const std::size_t want = std::min<std::uint64_t>(buffer.size(), end - offset);
    const std::size_t n = read_at(fd, buffer.data(), want, offset);
    // Content-Length is already promised; a shorter body must end in a closed connection.
    if (n == 0) throw std::runtime_error("the file shrank while it was being sent");
    offset += n;
    write(std::string_view(buffer.data(), n));
    try {
      co_await flush();
    } catch (const StreamClosedError&) {
      co_return;  // the client left: nobody to finish the response for
    }
  }
}

}  // namespace cortado::web
