#include "cortado/regex.hpp"

#include <stdexcept>

#include <re2/re2.h>

namespace cortado {

struct Regex::Impl {
  explicit Impl(std::string_view p) : pattern(p), re(re2::StringPiece(p.data(), p.size()), options()) {}
  static RE2::Options options() {
    RE2::Options o;
    o.set_log_errors(false);
    return o;
  }
  std::string pattern;
  RE2 re;
  std::vector<std::string> names;
};

Regex::Regex(std::string_view pattern) : impl_(std::make_unique<Impl>(pattern)) {
  if (!impl_->re.ok()) {
    throw std::invalid_argument("invalid regular expression '" + std::string(pattern) +
                                "': " + impl_->re.error());
  }
  impl_->names.assign(static_cast<std::size_t>(impl_->re.NumberOfCapturingGroups()), "");
  for (const auto& [index, name] : impl_->re.CapturingGroupNames()) {
    impl_->names[static_cast<std::size_t>(index - 1)] = name;
  }
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

const std::string& Regex::pattern() const { return impl_->pattern; }
int Regex::group_count() const { return impl_->re.NumberOfCapturingGroups(); }
const std::vector<std::string>& Regex::group_names() const { return impl_->names; }

std::optional<std::pair<std::size_t, std::size_t>> Regex::search(std::string_view text) const {
  re2::StringPiece input(text.data(), text.size());
  re2::StringPiece match;
  if (!impl_->re.Match(input, 0, input.size(), RE2::UNANCHORED, &match, 1)) return std::nullopt;
  auto begin = static_cast<std::size_t>(match.data() - text.data());
  return std::pair{begin, begin + match.size()};
}

namespace {

bool match_groups(const RE2& re, std::string_view text, RE2::Anchor anchor,
                  std::vector<std::string_view>* groups) {
  const int n = re.NumberOfCapturingGroups();
  std::vector<re2::StringPiece> pieces(static_cast<std::size_t>(n) + 1);
  re2::StringPiece input(text.data(), text.size());
  if (!re.Match(input, 0, input.size(), anchor, pieces.data(), n + 1)) return false;
  if (groups) {
    groups->clear();
    for (int i = 1; i <= n; ++i) {
      const auto& p = pieces[static_cast<std::size_t>(i)];
      groups->emplace_back(p.data() ? std::string_view(p.data(), p.size()) : std::string_view());
    }
  }
  return true;
}

}  // namespace

bool Regex::full_match(std::string_view text, std::vector<std::string_view>* groups) const {
  return match_groups(impl_->re, text, RE2::ANCHOR_BOTH, groups);
}

bool Regex::prefix_match(std::string_view text, std::vector<std::string_view>* groups) const {
  return match_groups(impl_->re, text, RE2::ANCHOR_START, groups);
}

}  // namespace cortado
