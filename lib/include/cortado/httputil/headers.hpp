// HTTPHeaders: Tornado's case-insensitive multidict of header fields.
//
// Insertion order is kept and names keep the case they were given. All names and values live in
// one string arena with a table of offsets beside it, so parsing a request's headers costs no
// allocation once a connection's HTTPHeaders has warmed up (clear() keeps the capacity).
// Every operation is linear in the number of fields, whatever the names: thousands of repeated
// names cost no more than thousands of distinct ones.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cortado {

namespace detail {
bool iequals_same_size(const char* a, const char* b, std::size_t size) noexcept;
}

// ASCII case-insensitive equality, as field names compare (RFC 9110, section 5.1). The length
// check is inline: most comparisons in a header lookup fail on it.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && detail::iequals_same_size(a.data(), b.data(), a.size());
}

class HTTPHeaders {
 public:
  struct Field {
    std::string_view name;
    std::string_view value;
  };

  HTTPHeaders() = default;
  HTTPHeaders(std::initializer_list<std::pair<std::string_view, std::string_view>> fields);
  HTTPHeaders(const HTTPHeaders& other);
  HTTPHeaders& operator=(const HTTPHeaders& other);
  HTTPHeaders(HTTPHeaders&& other) noexcept;
  HTTPHeaders& operator=(HTTPHeaders&& other) noexcept;
  // Exchanges contents and capacity (how a parsed head passes to its request, every request).
  void swap(HTTPHeaders& other) noexcept {
    arena_.swap(other.arena_);
    entries_.swap(other.entries_);
    std::swap(garbage_, other.garbage_);
  }
  friend void swap(HTTPHeaders& a, HTTPHeaders& b) noexcept { a.swap(b); }

  // Views returned by get(), get_list(), get_all(), operator[] and for_each point into this
  // object: any change to it (add, set, remove, clear, assignment) invalidates them. Arguments may
  // themselves be such views.

  // Appends a field (Tornado's add): earlier fields of the same name stay.
  void add(std::string_view name, std::string_view value);
  // Replaces every field of that name by one (Tornado's headers[name] = value). The field keeps
  // the position of the first one it replaces, like a key of Tornado's dict.
  void set(std::string_view name, std::string_view value);
  // Removes every field of that name; returns how many were removed.
  std::size_t remove(std::string_view name);
  // Empties the headers but keeps the capacity (a warmed-up connection parses without allocating).
  void clear();
  // Room for `fields` fields of `text` bytes in all, so that building a response's headers
  // allocates once and not once per growth step.
  void reserve(std::size_t fields, std::size_t text);
  // Releases unused capacity (for a connection that goes idle).
  void shrink_to_fit();

  bool contains(std::string_view name) const;
  // The first value of `name`, or `fallback`.
  std::string_view get(std::string_view name, std::string_view fallback = {}) const;
  // Every value of `name`, in order.
  std::vector<std::string_view> get_list(std::string_view name) const;
  // Every value of `name` joined with ", " (how a list-valued field reads as one, RFC 9110 5.3).
  std::string get_joined(std::string_view name) const;
  // Every field, in insertion order.
  std::vector<Field> get_all() const;

  std::size_t size() const { return entries_.size(); }
  // Bytes of text held: the live names and values, plus what removed fields left behind (bounded:
  // past a threshold and half the total, the text is compacted).
  std::size_t text_size() const { return arena_.size(); }
  bool empty() const { return entries_.empty(); }
  // The field at `index` (throws std::out_of_range past size()).
  Field operator[](std::size_t index) const;

  // Iteration over fields in insertion order without building a vector.
  template <class F>
  void for_each(F&& f) const {
    for (const Entry& e : entries_)
      f(Field{view(e.name_offset, e.name_size), view(e.value_offset, e.value_size)});
  }

 private:
  // The parser adds fields straight from a field line: one copy of "name: value" instead of two
  // appends (the hot path of every request).
  friend class HTTP1Parser;
  void add_from_line(std::string_view line, std::size_t name_size, std::size_t value_offset,
                     std::size_t value_size);

  struct Entry {
    std::uint32_t name_offset, name_size, value_offset, value_size;
  };
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  bool aliases(std::string_view s) const noexcept;
  std::uint32_t store(std::string_view s);
  std::string_view view(std::uint32_t offset, std::uint32_t size) const noexcept {
    return {arena_.data() + offset, size};
  }
  std::size_t find(std::string_view name, std::size_t from = 0) const noexcept;
  std::size_t remove_from(std::string_view name, std::size_t from);
  void compact();

  std::string arena_;
  std::vector<Entry> entries_;
  std::size_t garbage_ = 0;  // arena bytes that no entry points at any more
};

}  // namespace cortado
