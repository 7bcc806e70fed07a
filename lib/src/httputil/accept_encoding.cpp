#include "cortado/httputil/accept_encoding.hpp"

#include <algorithm>
#include <optional>

#include "../ascii.hpp"

namespace cortado {

namespace {

constexpr int kFullWeight = 1000;

// qvalue of RFC 9110 12.4.2: "0", "0.5", "0.125", "1", "1.000"; in thousandths.
std::optional<int> parse_qvalue(std::string_view s) {
  if (s.empty() || (s[0] != '0' && s[0] != '1')) return std::nullopt;
  int weight = (s[0] - '0') * kFullWeight;
  if (s.size() == 1) return weight;
  if (s[1] != '.' || s.size() > 5) return std::nullopt;
  int scale = 100;
  for (char c : s.substr(2)) {
    if (!detail::is_digit(c)) return std::nullopt;
    weight += (c - '0') * scale;
    scale /= 10;
  }
  if (weight > kFullWeight) return std::nullopt;  // "1.5" is not a qvalue
  return weight;
}

// The weight of one element's parameters ("q=0.5"); nullopt if a q is malformed.
std::optional<int> element_weight(std::string_view params) {
  int weight = kFullWeight;
  while (!params.empty()) {
    const std::string_view param = detail::split_off(params, ';');
    const std::size_t eq = param.find('=');
    if (eq == std::string_view::npos) continue;
    if (!detail::ascii_iequals(detail::trim_ows(param.substr(0, eq)), "q")) continue;
    const auto q = parse_qvalue(detail::trim_ows(param.substr(eq + 1)));
    if (!q) return std::nullopt;
    weight = *q;
  }
  return weight;
}

bool names_coding(std::string_view element, std::string_view coding) {
  return detail::ascii_iequals(element, coding) ||
         (detail::ascii_iequals(coding, "gzip") && detail::ascii_iequals(element, "x-gzip"));
}

}  // namespace

int accept_encoding_weight(std::string_view header, std::string_view coding) {
  std::optional<int> named, wildcard;
  while (!header.empty()) {
    std::string_view params = detail::split_off(header, ',');
    const std::string_view name = detail::trim_ows(detail::split_off(params, ';'));
    const bool is_named = names_coding(name, coding);
    if (!is_named && name != "*") continue;
    const auto weight = element_weight(params);
    if (!weight) continue;
    std::optional<int>& slot = is_named ? named : wildcard;
    slot = std::max(slot.value_or(0), *weight);
  }
  return named.value_or(wildcard.value_or(0));
}

bool accepts_gzip(std::string_view header) {
  return accept_encoding_weight(header, "gzip") > 0;
}

}  // namespace cortado
