#include "content_disposition.hpp"

#include <vector>

#include "../ascii.hpp"
#include "../escape/utf8.hpp"
#include "cortado/escape.hpp"
#include "cortado/httputil/errors.hpp"
#include "header_params.hpp"

namespace cortado::detail {

namespace {

[[noreturn]] void fail(std::string_view what) {
  std::string message = "invalid multipart/form-data: ";
  message.append(what);
  throw HTTPInputError(message);
}

// One parameter we read, in its plain (name=) and extended (name*=) forms.
struct Param {
  std::string_view plain, extended;
  bool has_plain = false, has_extended = false;
};

void take(Param& p, const HeaderParam& param) {
  const bool extended = param.name.back() == '*';
  bool& seen = extended ? p.has_extended : p.has_plain;
  if (seen) fail("duplicate parameter in Content-Disposition");
  seen = true;
  (extended ? p.extended : p.plain) = param.value;
}

// ISO-8859-1 bytes are the first 256 code points: re-encode each as UTF-8.
std::string latin1_to_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  for (char c : s) append_utf8(out, static_cast<unsigned char>(c));
  return out;
}

// An RFC 5987 ext-value, charset'language'percent-encoded, decoded to UTF-8.
std::string decode_ext_value(std::string_view raw) {
  std::string unquoted;
  append_unquoted(raw, unquoted);  // not allowed by RFC 5987, but Python accepts it
  const std::string_view value = unquoted;
  const std::size_t tick1 = value.find('\'');
  const std::size_t tick2 = tick1 == std::string_view::npos ? tick1 : value.find('\'', tick1 + 1);
  if (tick2 == std::string_view::npos) fail("extended parameter without charset''");
  const std::string_view charset = value.substr(0, tick1);
  std::string decoded = url_unescape(value.substr(tick2 + 1), /*plus=*/false);
  if (ascii_iequals(charset, "utf-8") || ascii_iequals(charset, "utf8")) {
    if (!is_valid_utf8(decoded)) fail("extended parameter is not valid UTF-8");
    return decoded;
  }
  if (ascii_iequals(charset, "iso-8859-1") || ascii_iequals(charset, "latin1")) {
    return latin1_to_utf8(decoded);
  }
  fail("unsupported charset in extended parameter");
}

std::optional<std::string> resolve(const Param& p) {
  if (p.has_extended) return decode_ext_value(p.extended);
  if (!p.has_plain) return std::nullopt;
  std::string out;
  append_unquoted(p.plain, out);
  return out;
}

}  // namespace

FormDisposition parse_form_disposition(std::string_view value) {
  std::vector<HeaderParam> params;
  const std::string_view type = split_header_params(value, params);
  if (!ascii_iequals(type, "form-data")) fail("part disposition is not form-data");
  Param name, filename;
  for (const HeaderParam& param : params) {
    std::string_view base = param.name;
    if (!base.empty() && base.back() == '*') base.remove_suffix(1);
    if (ascii_iequals(base, "name")) {
      take(name, param);
    } else if (ascii_iequals(base, "filename")) {
      take(filename, param);
    }
  }
  FormDisposition result;
  std::optional<std::string> decoded_name = resolve(name);
  if (!decoded_name || decoded_name->empty()) fail("part without a name");
  result.name = std::move(*decoded_name);
  result.filename = resolve(filename);
  return result;
}

}  // namespace cortado::detail
