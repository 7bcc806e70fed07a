// The bytes an IOStream has read and not yet handed out. Grows as bytes arrive (never from a
// declared length), compacts before growing, and can be released entirely while a connection
// idles so that an idle keep-alive connection holds no buffer at all.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

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
  // Blocks of the usual size go back to a small per-thread pool, so a keep-alive connection
  // that idles between requests does not pay a malloc for every request.
  void release_if_empty() {
    if (!empty() || !data_) return;
    auto& pool = block_pool();
    if (capacity_ == kPooledBlock && pool.size() < kPoolLimit) pool.push_back(std::move(data_));
    data_.reset();
    capacity_ = 0;
  }

 private:
  static constexpr std::size_t kPooledBlock = 16 * 1024;
  static constexpr std::size_t kPoolLimit = 64;
  static std::vector<std::unique_ptr<char[]>>& block_pool() {
    thread_local std::vector<std::unique_ptr<char[]>> pool;
    return pool;
  }

  void make_room(std::size_t min_free) {
    if (!data_ && min_free <= kPooledBlock && !block_pool().empty()) {
      data_ = std::move(block_pool().back());
      block_pool().pop_back();
      capacity_ = kPooledBlock;
      begin_ = end_ = 0;
      return;
    }
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
