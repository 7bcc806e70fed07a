#include "header_params.hpp"

#include "../ascii.hpp"

namespace cortado::detail {

namespace {

// Where the parameter starting at `begin` ends: the next ';' outside a quoted string.
std::size_t parameter_end(std::string_view s, std::size_t begin) {
  bool quoted = false;
  for (std::size_t i = begin; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted && c == '\\') {
      ++i;  // the escaped character cannot close the string
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ';' && !quoted) {
      return i;
    }
  }
  return s.size();
}

}  // namespace

std::string_view split_header_params(std::string_view header, std::vector<HeaderParam>& params) {
  std::size_t end = parameter_end(header, 0);
  const std::string_view type = trim_ows(header.substr(0, end));
  while (end < header.size()) {
    const std::size_t begin = end + 1;
    end = parameter_end(header, begin);
    const std::string_view param = header.substr(begin, end - begin);
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    params.push_back({trim_ows(param.substr(0, eq)), trim_ows(param.substr(eq + 1))});
  }
  return type;
}

void append_unquoted(std::string_view raw, std::string& out) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"') {
    out.append(raw);
    return;
  }
  raw = raw.substr(1, raw.size() - 2);
  out.reserve(out.size() + raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '\\' || raw[i + 1] == '"')) ++i;
    out.push_back(raw[i]);
  }
}

}  // namespace cortado::detail
