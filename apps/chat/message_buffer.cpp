#include "message_buffer.hpp"

#include <algorithm>
#include <iterator>
#include <random>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace chat {

void to_json(nlohmann::json& json, const Message& message) {
  json = nlohmann::json{
      {"id", message.id}, {"user", message.user}, {"body", message.body}, {"html", message.html}};
}

std::string new_message_id() {
  // Ids only need to be unique, not secret: a seeded generator per thread is plenty.
  thread_local std::mt19937_64 engine = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  return fmt::format("{:016x}{:016x}", engine(), engine());
}

MessageBuffer::MessageBuffer(std::size_t capacity)
    : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::vector<Message> MessageBuffer::since(std::string_view cursor) const {
  // Searched from the newest end: a client that keeps up is only a few messages behind. When
  // the cursor is not found, the search ends at the oldest message, so everything is returned.
  auto first_new = messages_.end();
  while (first_new != messages_.begin() && std::prev(first_new)->id != cursor) --first_new;
  return {first_new, messages_.end()};
}

const Message& MessageBuffer::add(Message message) {
  messages_.push_back(std::move(message));
  if (messages_.size() > capacity_) messages_.pop_front();
  new_messages_.notify_all();
  return messages_.back();
}

asio::awaitable<std::vector<Message>> MessageBuffer::wait_for_messages(std::string cursor) {
  std::vector<Message> found = since(cursor);
  // notify_all() wakes every waiter, whatever its cursor: each one checks again for itself.
  while (found.empty() && !closed_) {
    co_await new_messages_.wait();
    found = since(cursor);
  }
  co_return found;
}

void MessageBuffer::close() {
  closed_ = true;
  new_messages_.notify_all();
}

}  // namespace chat
