// The HTTP client's request and response (Tornado's httpclient.HTTPRequest and HTTPResponse).
//
// Both are plain aggregates, built with designated initialisers:
//   co_await client.fetch(cortado::HTTPRequest{.url = "https://example.com/", .method = "POST",
//                                              .body = "x=1", .request_timeout = 5s});
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "cortado/httputil/headers.hpp"

namespace cortado {

struct HTTPRequest {
  // An absolute http:// or https:// URL (see httpclient/url.hpp for what is accepted).
  std::string url{};
  // Any token; GET, HEAD, PUT, DELETE and OPTIONS are retried once on a fresh connection when a
  // reused keep-alive connection turns out to have been closed by the server.
  std::string method = "GET";
  // Sent as given, after Host, User-Agent, Accept-Encoding and Authorization (each of which a
  // field here replaces, except Accept-Encoding while decompress_response is on). Content-Length
  // is the client's to set and Transfer-Encoding is refused (bodies go with a Content-Length).
  HTTPHeaders headers{};
  // Sent with a Content-Length when non-empty, and always for POST, PUT and PATCH.
  std::string body{};

  // Resolving, connecting and the TLS handshake, together (0: only request_timeout applies).
  std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(20);
  // The whole fetch: waiting for a free slot (max_clients), connecting, every redirect, and
  // reading the last byte of the body (0: no limit). Unlike Tornado, redirects do not restart it.
  std::chrono::steady_clock::duration request_timeout = std::chrono::seconds(20);

  // Follow 301, 302, 303, 307 and 308 (at most max_redirects times). 303 turns the request into
  // a GET (a HEAD stays a HEAD), as do 301 and 302 for a POST; 307 and 308 keep method and body.
  // A redirect to another origin (scheme, host, port) drops Authorization, Cookie and
  // Proxy-Authorization, and the auth_* credentials.
  bool follow_redirects = true;
  int max_redirects = 5;

  // Ask for gzip and inflate it; max_body_size then applies to the inflated body too. The
  // response's Content-Encoding moves to X-Consumed-Content-Encoding, as in Tornado.
  bool decompress_response = true;
  // Send the head with "Expect: 100-continue" and the body only after the server's 100.
  bool expect_100_continue = false;

  // With a streaming_callback, the body goes to it piece by piece (inflated if need be) and the
  // response's body stays empty. header_callback gets the status line, each header line and the
  // final "\r\n", as Tornado's does. Neither runs for a response that is followed as a redirect.
  // Both run on the client's loop; an exception from either ends the fetch with it.
  std::function<void(std::string_view)> streaming_callback{};
  std::function<void(std::string_view)> header_callback{};

  // HTTP basic authentication, when auth_username is not empty.
  std::string auth_username{};
  std::string auth_password{};

  // TLS. validate_cert checks the chain (against ca_certs, a PEM file, or the system's CAs) and
  // that the certificate names the URL's host; turn it off only for tests. client_cert (PEM) and
  // client_key (defaults to client_cert's file) authenticate the client.
  bool validate_cert = true;
  std::string ca_certs{};
  std::string client_cert{};
  std::string client_key{};

  // The User-Agent header ("" means the client's default, HTTPClientOptions::user_agent).
  std::string user_agent{};
  // The largest body accepted, on the wire and after inflation (unset: the client's default).
  std::optional<std::uint64_t> max_body_size{};
};

struct HTTPResponse {
  int code = 0;
  std::string reason{};
  HTTPHeaders headers{};
  // Empty for HEAD, 1xx, 204 and 304 responses, and when the request had a streaming_callback.
  std::string body{};
  // The URL of the last hop, after redirects.
  std::string effective_url{};
  // From the call to fetch() until the whole body arrived: queueing and redirects included.
  std::chrono::duration<double> request_time{};
};

}  // namespace cortado
