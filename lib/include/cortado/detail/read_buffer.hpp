// The bytes an IOStream has read and not yet handed out. Grows as bytes arrive (never from a
// declared length), compacts before growing, and can be released entirely while a connection
// idles so that an idle keep-alive connection holds no buffer at all.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace cortado::detail {

class ReadBuffer {
 public:
  std::string_view view() const { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::size_t capacity() const { return capacity_; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }

  // Free space of at least `min_free` bytes after the data (compacting or doubling as needed).
  std::span<char> prepare(std::size_t min_free) {
    if (capacity_ - end_ < min_free) make_room(min_free);
    return {data_.get() + end_, capacity_ - end_};
  }
  void commit(std::size_t n) { end_ += n; }

  // Drops the storage when nothing is buffered (an idle connection then costs no buffer).
  void release_if_empty() {
    if (empty() && data_) {
      data_.reset();
      capacity_ = 0;
    }
  }

 private:
  void make_room(std::size_t min_free) {
    const std::size_t used = size();
    if (capacity_ >= used + min_free && begin_ > 0) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      std::size_t cap = capacity_ ? capacity_ : min_free;
      while (cap < used + min_free) cap *= 2;
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (used) std::memcpy(bigger.get(), data_.get() + begin_, used);
      data_ = std::move(bigger);
      capacity_ = cap;
    }
    begin_ = 0;
    end_ = used;
  }

  std::unique_ptr<char[]> data_;
  std::size_t capacity_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace cortado::detail
