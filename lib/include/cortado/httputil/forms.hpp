// Form bodies: application/x-www-form-urlencoded and multipart/form-data (RFC 7578), as
// Tornado's parse_body_arguments and parse_multipart_form_data read them.
//
// Both are sans-I/O: the whole body is in memory (the connection has already enforced the
// request's max_body_size). Every limit below is finite, and the work is linear in the body size
// whatever its content: the multipart boundary is found by one forward scan.
// Malformed input throws HTTPInputError saying what is wrong; the server answers 400.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cortado/httputil/errors.hpp"
#include "cortado/httputil/urls.hpp"

namespace cortado {

// A file uploaded through a form.
struct HTTPFile {
  std::string filename;      // UTF-8, as the client named it (not a safe path: never use as one)
  std::string content_type;  // the part's Content-Type, "application/unknown" if it had none
  std::string body;
};

// Field name -> the files uploaded under it, in order.
using Files = std::map<std::string, std::vector<HTTPFile>, std::less<>>;

struct FormLimits {
  std::size_t max_fields = kDefaultMaxFields;   // x-www-form-urlencoded: non-empty fields
  std::size_t max_parts = 1000;                 // multipart: parts, fields and files together
  std::size_t max_part_header_size = 8 * 1024;  // multipart: one part's header block, in bytes
  std::size_t max_part_headers = 16;            // multipart: header lines of one part
};

// Parses `body` according to `content_type` (the request's Content-Type header) and appends
// its fields to `arguments` and its files to `files`:
//  - application/x-www-form-urlencoded: parse_query with keep_blank_values;
//  - multipart/form-data; boundary=...: parse_multipart_form_data;
//  - anything else: nothing is added (as Tornado: the handler reads request.body itself).
// The media type is matched case-insensitively, parameters may come in any order and the
// boundary may be quoted. On HTTPInputError nothing has been added.
// A body with a Content-Encoding must be decoded (or refused) by the caller before this.
void parse_body_arguments(std::string_view content_type, std::string_view body,
                          Arguments& arguments, Files& files, const FormLimits& limits = {});

// One field line of a part's header block; views into the body.
struct MultipartHeader {
  std::string_view name;
  std::string_view value;
};

// One part of a multipart/form-data body.
struct MultipartPart {
  std::vector<MultipartHeader> headers;  // in order, names as sent
  std::string name;                      // Content-Disposition's name (required, non-empty)
  std::optional<std::string> filename;   // its filename, or the decoded filename* (RFC 6266)
  std::string_view content_type;         // the part's Content-Type value, empty if none
  std::string_view body;                 // the part's content, a view into the body
};

// Splits a multipart/form-data body (RFC 7578, RFC 2046 5.1.1) into its parts:
//  - the preamble before the first boundary and the epilogue after the last are ignored;
//  - a boundary line is "--" boundary, optional spaces/tabs, CRLF; the closing one ends in
//    "--"; the CRLF before a boundary belongs to the boundary, not to the content;
//  - every part needs a Content-Disposition "form-data" (case-insensitive) with a non-empty
//    name; header blocks must be UTF-8 (as Tornado decodes them); folded header lines, a
//    duplicate Content-Disposition and duplicate parameters in it are refused as ambiguous;
//  - filename*=charset''percent-encoded (RFC 5987) wins over filename; charsets UTF-8 and
//    ISO-8859-1 are supported, the result is UTF-8. RFC 2231 continuations (filename*0=) are
//    not, those parameters are ignored.
// `boundary` is the bare parameter value (1 to 70 characters, RFC 2046), without quotes.
// Throws HTTPInputError if the body is malformed or exceeds `limits`.
std::vector<MultipartPart> split_multipart(std::string_view boundary, std::string_view body,
                                           const FormLimits& limits = {});

// split_multipart, then each part goes to `files` if it has a non-empty filename and to
// `arguments` otherwise (an empty filename is what a browser sends for "no file chosen").
// On HTTPInputError nothing has been added.
void parse_multipart_form_data(std::string_view boundary, std::string_view body,
                               Arguments& arguments, Files& files, const FormLimits& limits = {});

}  // namespace cortado
