// A compiled regular expression (RE2 underneath: linear time, no recursion, safe on
// attacker-controlled input). Kept behind a pimpl so that RE2 stays out of public headers.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cortado {

class Regex {
 public:
  // Throws std::invalid_argument naming the pattern and RE2's complaint.
  explicit Regex(std::string_view pattern);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  const std::string& pattern() const;
  // Number of capturing groups, and the names of the named ones (index -> name, "" if unnamed).
  int group_count() const;
  const std::vector<std::string>& group_names() const;

  // First match anywhere in `text`: its [begin, end) offsets.
  std::optional<std::pair<std::size_t, std::size_t>> search(std::string_view text) const;
  // Whole-text match; fills `groups` with one view per capturing group (empty if unmatched).
  bool full_match(std::string_view text, std::vector<std::string_view>* groups = nullptr) const;
  // Match anchored at the start of `text` (Tornado's re.match semantics).
  bool prefix_match(std::string_view text, std::vector<std::string_view>* groups = nullptr) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cortado
