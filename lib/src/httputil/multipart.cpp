// multipart/form-data splitting: one forward scan over the body.
//
// Each byte is looked at a bounded number of times: the boundary search resumes where the
// previous one ended, and a part's header search is confined to max_part_header_size bytes.
// Boyer-Moore-Horspool bounds each search by body size x delimiter size, and the delimiter is
// at most 74 bytes (RFC 2046's 70-character boundary plus "\r\n--").
#include <algorithm>
#include <functional>
#include <optional>

#include "../ascii.hpp"
#include "content_disposition.hpp"
#include "cortado/escape.hpp"
#include "cortado/httputil/forms.hpp"

namespace cortado {

namespace {

constexpr std::size_t kMaxBoundary = 70;  // RFC 2046 5.1.1

[[noreturn]] void fail(std::string_view what) {
  std::string message = "invalid multipart/form-data: ";
  message.append(what);
  throw HTTPInputError(message);
}

[[noreturn]] void fail_limit(std::string_view what, std::size_t limit) {
  std::string message = "multipart/form-data exceeds a limit: ";
  message.append(what).append(" (limit ").append(std::to_string(limit)).append(")");
  throw HTTPInputError(message);
}

bool is_valid_header_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), detail::is_tchar);
}

// HTAB is the only control character a field value may hold (RFC 9110 5.5).
bool is_valid_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](char c) { return detail::is_ctl(c) && c != '\t'; });
}

MultipartHeader parse_header_line(std::string_view line) {
  if (line.empty()) fail("empty header line in a part");
  if (detail::is_ows(line.front())) fail("folded header line in a part");
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) fail("header line without a colon in a part");
  const std::string_view name = line.substr(0, colon);
  const std::string_view value = detail::trim_ows(line.substr(colon + 1));
  if (!is_valid_header_name(name)) fail("bad header name in a part");
  if (!is_valid_header_value(value)) fail("control character in a part's header");
  return {name, value};
}

// The headers a part may carry once each: a repeat would make the part ambiguous.
struct KnownHeaders {
  std::optional<std::string_view> disposition, content_type;

  void note(const MultipartHeader& header) {
    std::optional<std::string_view>* slot = nullptr;
    if (detail::ascii_iequals(header.name, "Content-Disposition")) slot = &disposition;
    if (detail::ascii_iequals(header.name, "Content-Type")) slot = &content_type;
    if (!slot) return;
    if (*slot) fail("duplicate Content-Disposition or Content-Type in a part");
    *slot = header.value;
  }
};

// Parses a part's header block (its lines, each ended by CRLF) into `part`.
void parse_part_headers(std::string_view block, MultipartPart& part, const FormLimits& limits) {
  if (!is_valid_utf8(block)) fail("part headers are not UTF-8");
  KnownHeaders known;
  while (!block.empty()) {
    const std::size_t eol = std::min(block.find("\r\n"), block.size());
    if (part.headers.size() == limits.max_part_headers) {
      fail_limit("header lines in a part", limits.max_part_headers);
    }
    part.headers.push_back(parse_header_line(block.substr(0, eol)));
    known.note(part.headers.back());
    block.remove_prefix(std::min(eol + 2, block.size()));
  }
  if (!known.disposition) fail("part without Content-Disposition");
  part.content_type = known.content_type.value_or(std::string_view{});
  auto disposition = detail::parse_form_disposition(*known.disposition);
  part.name = std::move(disposition.name);
  part.filename = std::move(disposition.filename);
}

class MultipartSplitter {
 public:
  MultipartSplitter(std::string_view boundary, std::string_view body, const FormLimits& limits)
      : body_(body),
        limits_(limits),
        delimiter_(make_delimiter(boundary)),
        searcher_(delimiter_.cbegin(), delimiter_.cend()) {}
  // The searcher points into delimiter_: the splitter stays where it was built.
  MultipartSplitter(const MultipartSplitter&) = delete;
  MultipartSplitter& operator=(const MultipartSplitter&) = delete;

  std::vector<MultipartPart> split() {
    std::vector<MultipartPart> parts;
    std::size_t pos = first_boundary_end();
    while (!at_close_delimiter(pos)) {
      skip_boundary_line_end(pos);
      if (parts.size() == limits_.max_parts) fail_limit("parts", limits_.max_parts);
      parts.push_back(read_part(pos));
    }
    return parts;
  }

 private:
  static std::string make_delimiter(std::string_view boundary) {
    if (boundary.empty() || boundary.size() > kMaxBoundary) {
      fail("boundary must have 1 to 70 characters");
    }
    std::string d = "\r\n--";
    d.append(boundary);
    return d;
  }

  // The delimiter that opens the body may come first, without the CRLF before it.
  std::size_t first_boundary_end() const {
    const std::string_view dash_boundary = std::string_view(delimiter_).substr(2);
    if (body_.starts_with(dash_boundary)) return dash_boundary.size();
    const std::size_t at = find_delimiter(0);
    if (at == body_.size()) fail("boundary not found");
    return at + delimiter_.size();
  }

  // Offset of the next delimiter at or after `from`, or body_.size().
  std::size_t find_delimiter(std::size_t from) const {
    auto it =
        std::search(body_.begin() + static_cast<std::ptrdiff_t>(from), body_.end(), searcher_);
    return static_cast<std::size_t>(it - body_.begin());
  }

  bool at_close_delimiter(std::size_t pos) const {
    return body_.substr(pos).starts_with("--");  // anything after it is the epilogue
  }

  // Transport padding, then the CRLF that ends a boundary line.
  void skip_boundary_line_end(std::size_t& pos) const {
    while (pos < body_.size() && detail::is_ows(body_[pos])) ++pos;
    if (!body_.substr(pos).starts_with("\r\n")) fail("boundary line not ended by CRLF");
    pos += 2;
  }

  MultipartPart read_part(std::size_t& pos) const {
    MultipartPart part;
    const std::size_t content_begin = header_block_end(pos);
    parse_part_headers(body_.substr(pos, content_begin - pos - 2), part, limits_);
    const std::size_t content_end = find_delimiter(content_begin);
    if (content_end == body_.size()) fail("no final boundary found");
    part.body = body_.substr(content_begin, content_end - content_begin);
    pos = content_end + delimiter_.size();
    return part;
  }

  // Where the blank line after the part's headers ends, searching no further than the limit.
  std::size_t header_block_end(std::size_t pos) const {
    if (body_.substr(pos).starts_with("\r\n")) return pos + 2;  // no header lines at all
    // The block may use the limit plus its final blank line (saturating: the limit may be huge).
    const std::size_t span =
        std::max(limits_.max_part_header_size + 4, limits_.max_part_header_size);
    const std::string_view window = body_.substr(pos, span);
    const std::size_t blank = window.find("\r\n\r\n");
    if (blank != std::string_view::npos) return pos + blank + 4;
    if (window.size() < span) fail("part headers not terminated");
    fail_limit("bytes in a part's header block", limits_.max_part_header_size);
  }

  std::string_view body_;
  const FormLimits& limits_;
  std::string delimiter_;  // "\r\n--" boundary
  std::boyer_moore_horspool_searcher<std::string::const_iterator> searcher_;
};

}  // namespace

std::vector<MultipartPart> split_multipart(std::string_view boundary, std::string_view body,
                                           const FormLimits& limits) {
  return MultipartSplitter(boundary, body, limits).split();
}

}  // namespace cortado
