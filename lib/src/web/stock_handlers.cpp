#include "cortado/web/stock_handlers.hpp"

namespace cortado::web {

asio::awaitable<void> RedirectHandler::get() {
  std::string target;
  target.reserve(url_.size());
  // {0}, {1}, ... are the captured groups (Tornado formats the URL with them).
  for (std::size_t i = 0; i < url_.size(); ++i) {
    const auto close = url_.find('}', i);
    if (url_[i] == '{' && close != std::string::npos) {
      const std::string index = url_.substr(i + 1, close - i - 1);
      if (!index.empty() && index.find_first_not_of("0123456789") == std::string::npos) {
        const auto n = std::stoul(index);
        if (n < path_args().size()) target += path_args()[n];
        i = close;
        continue;
      }
    }
    target += url_[i];
  }
  if (!request().query.empty()) {
    target += target.find('?') == std::string::npos ? '?' : '&';
    target += request().query;
  }
  redirect(target, permanent_);
  co_return;
}

asio::awaitable<void> ErrorHandler::prepare() {
  throw HTTPError(status_code_);
  co_return;
}

asio::awaitable<void> FallbackHandler::prepare() {
  co_await fallback_(request());
  response_written_elsewhere();
}

}  // namespace cortado::web
