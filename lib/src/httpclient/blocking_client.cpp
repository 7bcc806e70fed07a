// HTTPClient: Tornado's blocking client, an AsyncHTTPClient on a loop of its own that runs for
// the length of each fetch.
#include "cortado/httpclient.hpp"
#include "cortado/ioloop.hpp"

namespace cortado {

HTTPClient::HTTPClient(HTTPClientOptions options)
    : loop_(std::make_unique<IOLoop>()),
      client_(std::make_unique<AsyncHTTPClient>(loop_->executor(), std::move(options))) {}

// The client (and its pooled connections) goes before the loop whose sockets they are.
HTTPClient::~HTTPClient() {
  client_.reset();
}

HTTPResponse HTTPClient::fetch(std::string url, bool raise_error) {
  return loop_->run_sync(client_->fetch(std::move(url), raise_error));
}

HTTPResponse HTTPClient::fetch(HTTPRequest request, bool raise_error) {
  return loop_->run_sync(client_->fetch(std::move(request), raise_error));
}

void HTTPClient::close() {
  client_->close();
}

}  // namespace cortado
