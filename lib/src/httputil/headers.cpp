#include "cortado/httputil/headers.hpp"

#include <cstring>
#include <functional>
#include <limits>
#include <stdexcept>
#include <utility>

namespace cortado {
namespace {

constexpr unsigned char ascii_lower(unsigned char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<unsigned char>(c | 0x20) : c;
}

// Removed fields leave their bytes in the arena; past this much waste (and half the arena) the
// arena is rebuilt, so repeated set()/remove() cannot grow it without bound.
constexpr std::size_t kCompactThreshold = 4096;

}  // namespace

bool detail::iequals_same_size(const char* a, const char* b, std::size_t size) noexcept {
  for (std::size_t i = 0; i < size; ++i) {
    const auto x = static_cast<unsigned char>(a[i]);
    const auto y = static_cast<unsigned char>(b[i]);
    if (x != y && ascii_lower(x) != ascii_lower(y)) return false;
  }
  return true;
}

HTTPHeaders::HTTPHeaders(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
  for (const auto& [name, value] : fields) add(name, value);
}

HTTPHeaders::HTTPHeaders(const HTTPHeaders& other)
    : arena_(other.arena_), entries_(other.entries_), garbage_(other.garbage_) {}

HTTPHeaders& HTTPHeaders::operator=(const HTTPHeaders& other) {
  if (this != &other) {
    // Assigning into the existing string and vector reuses their capacity.
    arena_ = other.arena_;
    entries_ = other.entries_;
    garbage_ = other.garbage_;
  }
  return *this;
}

// The moved-from object is left empty (its garbage count must not outlive its arena).
HTTPHeaders::HTTPHeaders(HTTPHeaders&& other) noexcept
    : arena_(std::move(other.arena_)),
      entries_(std::move(other.entries_)),
      garbage_(std::exchange(other.garbage_, 0)) {
  other.clear();
}

HTTPHeaders& HTTPHeaders::operator=(HTTPHeaders&& other) noexcept {
  if (this != &other) {
    arena_ = std::move(other.arena_);
    entries_ = std::move(other.entries_);
    garbage_ = std::exchange(other.garbage_, 0);
    other.clear();
  }
  return *this;
}

bool HTTPHeaders::aliases(std::string_view s) const noexcept {
  // std::less gives a total order even for pointers into unrelated objects.
  const std::less<const char*> before;
  const char* begin = arena_.data();
  return !s.empty() && !before(s.data(), begin) && before(s.data(), begin + arena_.size());
}

std::uint32_t HTTPHeaders::store(std::string_view s) {
  const std::size_t offset = arena_.size();
  if (s.size() > std::numeric_limits<std::uint32_t>::max() - offset) {
    throw std::length_error("HTTPHeaders: more than 4 GiB of header text");
  }
  arena_.append(s);
  return static_cast<std::uint32_t>(offset);
}

void HTTPHeaders::add(std::string_view name, std::string_view value) {
  // A view into our own arena would dangle if the append below reallocates it.
  if (aliases(name) || aliases(value)) {
    const std::string name_copy(name), value_copy(value);
    add(name_copy, value_copy);
    return;
  }
  Entry e{};
  e.name_offset = store(name);
  e.name_size = static_cast<std::uint32_t>(name.size());
  e.value_offset = store(value);
  e.value_size = static_cast<std::uint32_t>(value.size());
  entries_.push_back(e);
}

void HTTPHeaders::add_from_line(std::string_view line, std::size_t name_size,
                                std::size_t value_offset, std::size_t value_size) {
  // The bytes between the name and the value (the colon and OWS) are copied too, and counted as
  // garbage so that compaction accounts for them.
  const std::size_t copied = value_offset + value_size;
  const auto at = store(line.substr(0, copied));
  garbage_ += copied - name_size - value_size;
  entries_.push_back({at, static_cast<std::uint32_t>(name_size),
                      static_cast<std::uint32_t>(at + value_offset),
                      static_cast<std::uint32_t>(value_size)});
}

std::size_t HTTPHeaders::find(std::string_view name, std::size_t from) const noexcept {
  for (std::size_t i = from; i < entries_.size(); ++i) {
    if (iequals(view(entries_[i].name_offset, entries_[i].name_size), name)) return i;
  }
  return npos;
}

void HTTPHeaders::set(std::string_view name, std::string_view value) {
  if (aliases(name) || aliases(value)) {
    const std::string name_copy(name), value_copy(value);
    set(name_copy, value_copy);
    return;
  }
  const std::size_t first = find(name);
  if (first == npos) {
    add(name, value);
    return;
  }
  // The field keeps its place (as a Python dict key does in Tornado); equal names have equal
  // lengths, so the new spelling overwrites the old one in place.
  Entry& e = entries_[first];
  std::memcpy(arena_.data() + e.name_offset, name.data(), name.size());
  if (value.size() <= e.value_size) {
    if (!value.empty()) std::memcpy(arena_.data() + e.value_offset, value.data(), value.size());
    garbage_ += e.value_size - value.size();
  } else {
    garbage_ += e.value_size;
    e.value_offset = store(value);
  }
  e.value_size = static_cast<std::uint32_t>(value.size());
  remove_from(name, first + 1);
}

std::size_t HTTPHeaders::remove(std::string_view name) {
  return remove_from(name, 0);
}

std::size_t HTTPHeaders::remove_from(std::string_view name, std::size_t from) {
  std::size_t kept = from;
  for (std::size_t i = from; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    if (iequals(view(e.name_offset, e.name_size), name)) {
      garbage_ += e.name_size + e.value_size;
    } else {
      entries_[kept++] = e;
    }
  }
  const std::size_t removed = entries_.size() - kept;
  entries_.resize(kept);
  if (garbage_ > kCompactThreshold && garbage_ * 2 > arena_.size()) compact();
  return removed;
}

void HTTPHeaders::compact() {
  std::string fresh;
  fresh.reserve(arena_.size() - garbage_);
  for (Entry& e : entries_) {
    const auto name_offset = static_cast<std::uint32_t>(fresh.size());
    fresh.append(view(e.name_offset, e.name_size));
    const auto value_offset = static_cast<std::uint32_t>(fresh.size());
    fresh.append(view(e.value_offset, e.value_size));
    e.name_offset = name_offset;
    e.value_offset = value_offset;
  }
  arena_.swap(fresh);
  garbage_ = 0;
}

void HTTPHeaders::clear() {
  arena_.clear();
  entries_.clear();
  garbage_ = 0;
}

void HTTPHeaders::reserve(std::size_t fields, std::size_t text) {
  entries_.reserve(fields);
  arena_.reserve(text);
}

void HTTPHeaders::shrink_to_fit() {
  if (garbage_ > 0) compact();
  arena_.shrink_to_fit();
  entries_.shrink_to_fit();
}

bool HTTPHeaders::contains(std::string_view name) const {
  return find(name) != npos;
}

std::string_view HTTPHeaders::get(std::string_view name, std::string_view fallback) const {
  const std::size_t i = find(name);
  return i == npos ? fallback : view(entries_[i].value_offset, entries_[i].value_size);
}

std::vector<std::string_view> HTTPHeaders::get_list(std::string_view name) const {
  std::vector<std::string_view> values;
  for (std::size_t i = find(name); i != npos; i = find(name, i + 1)) {
    values.push_back(view(entries_[i].value_offset, entries_[i].value_size));
  }
  return values;
}

std::string HTTPHeaders::get_joined(std::string_view name) const {
  std::string joined;
  bool first = true;
  for (std::size_t i = find(name); i != npos; i = find(name, i + 1)) {
    if (!first) joined.append(", ");
    first = false;
    joined.append(view(entries_[i].value_offset, entries_[i].value_size));
  }
  return joined;
}

std::vector<HTTPHeaders::Field> HTTPHeaders::get_all() const {
  std::vector<Field> fields;
  fields.reserve(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) fields.push_back((*this)[i]);
  return fields;
}

HTTPHeaders::Field HTTPHeaders::operator[](std::size_t index) const {
  const Entry& e = entries_.at(index);
  return {view(e.name_offset, e.name_size), view(e.value_offset, e.value_size)};
}

}  // namespace cortado
