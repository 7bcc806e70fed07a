#include "cortado/httputil/urls.hpp"

#include <string>

#include "cortado/escape.hpp"
#include "cortado/httputil/errors.hpp"

namespace cortado {

namespace {

// Calls f(field) for every non-empty '&'-separated field of qs.
template <class F>
void for_each_field(std::string_view qs, F&& f) {
  std::size_t begin = 0;
  while (begin <= qs.size()) {
    std::size_t end = qs.find('&', begin);
    if (end == std::string_view::npos) end = qs.size();
    if (end > begin) f(qs.substr(begin, end - begin));
    begin = end + 1;
  }
}

std::size_t count_fields(std::string_view qs) {
  std::size_t n = 0;
  for_each_field(qs, [&](std::string_view) { ++n; });
  return n;
}

std::vector<std::string>& values_for(Arguments& out, std::string_view name) {
  if (auto it = out.find(name); it != out.end()) return it->second;
  return out.emplace(std::string(name), std::vector<std::string>{}).first->second;
}

}  // namespace

void parse_query(std::string_view qs, Arguments& out, bool keep_blank_values,
                 std::size_t max_fields) {
  // Counting first keeps `out` untouched when the input is refused.
  if (const std::size_t n = count_fields(qs); n > max_fields) {
    std::string message = "too many fields in query string or form body (";
    message.append(std::to_string(n)).append(", limit ").append(std::to_string(max_fields));
    message.append(")");
    throw HTTPInputError(message);
  }
  std::string name;  // reused for every field: most names fit its first allocation
  for_each_field(qs, [&](std::string_view field) {
    const std::size_t eq = field.find('=');
    const std::string_view raw_name = field.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view{} : field.substr(eq + 1);
    if (raw_value.empty() && !keep_blank_values) return;
    name.clear();
    url_unescape_append(raw_name, name, /*plus=*/true);
    url_unescape_append(raw_value, values_for(out, name).emplace_back(), /*plus=*/true);
  });
}

}  // namespace cortado
