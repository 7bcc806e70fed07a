// What cortado promises across threads, checked under ThreadSanitizer by the test command:
// add_callback from any thread, HTTPServer with one loop per thread (shared-nothing), a server
// and its clients on different threads, and a graceful shutdown while every thread is busy.
#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cortado/httpclient.hpp"
#include "cortado/httpserver.hpp"
#include "cortado/ioloop.hpp"
#include "harness.hpp"

using namespace std::chrono_literals;
using cortado::HTTPServerRequest;
using cortado::test::RawClient;
using cortado::test::request_bytes;
using cortado::test::ServerThread;

namespace {

std::atomic<int> in_slow_handler{0};

asio::awaitable<void> routes(HTTPServerRequest& request) {
  if (request.path == "/slow") {
    ++in_slow_handler;
    co_await cortado::sleep(50ms);
  }
  co_await cortado::respond(request, 200, request.path);
}

}  // namespace

TEST_CASE("add_callback from four threads runs every callback on the loop's thread") {
  cortado::IOLoop loop;
  auto guard = asio::make_work_guard(loop.context());
  std::thread::id loop_thread;
  int ran = 0;  // touched by the loop's thread only
  bool all_on_loop_thread = true;
  std::thread runner([&] {
    loop_thread = std::this_thread::get_id();
    loop.run();
  });
  std::vector<std::thread> posters;
  for (int t = 0; t < 4; ++t) {
    posters.emplace_back([&] {
      for (int i = 0; i < 10'000; ++i) {
        loop.add_callback([&] {
          ++ran;
          all_on_loop_thread = all_on_loop_thread && std::this_thread::get_id() == loop_thread;
        });
      }
    });
  }
  for (auto& p : posters) p.join();
  loop.add_callback([&] { guard.reset(); });  // after everything above, in order
  runner.join();
  CHECK(ran == 40'000);
  CHECK(all_on_loop_thread);
}

TEST_CASE("HTTPServer with two loops: four client threads, keep-alive and new connections") {
  ServerThread server(routes, {}, 2);
  std::atomic<int> ok{0};
  std::atomic<bool> done{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      std::optional<RawClient> client;
      for (int i = 0; i < 200; ++i) {
        if (!client || i % 10 == 0) client.emplace(server.port());
        const std::string path = "/t" + std::to_string(t) + "/" + std::to_string(i);
        client->send(request_bytes("GET", path));
        if (client->read_response().body == path) ++ok;
      }
    });
  }
  // connection_count() is read from other threads while the workers change it.
  std::size_t max_seen = 0;
  std::thread monitor([&] {
    while (!done) max_seen = std::max(max_seen, server.server().connection_count());
  });
  for (auto& c : clients) c.join();
  done = true;
  monitor.join();
  CHECK(ok == 800);
  CHECK(max_seen >= 1);
  CHECK(max_seen <= 80);  // never more than the 4 x 20 connections the clients opened
  // Every client has closed: both loops forget every connection (a bounded poll: the servers
  // see the closes asynchronously).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server.server().connection_count() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  CHECK(server.server().connection_count() == 0);
}

TEST_CASE("graceful shutdown of a two-loop server while requests are in flight on both") {
  ServerThread server(routes, {}, 2);
  constexpr int kClients = 8;
  in_slow_handler = 0;
  std::vector<std::optional<RawClient>> clients(kClients);
  for (auto& c : clients) {
    c.emplace(server.port());
    c->send(request_bytes("GET", "/slow"));
  }
  // Every request in its handler (bounded wait), then the shutdown: they all finish.
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (in_slow_handler < kClients && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  CHECK(in_slow_handler == kClients);
  server.close_all(10s);
  for (auto& c : clients) CHECK(c->read_response().body == "/slow");
  for (auto& c : clients) CHECK(c->closed_by_peer());
}

TEST_CASE("AsyncHTTPClient on its own thread's loop against a two-loop server") {
  ServerThread server(routes, {}, 2);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      cortado::IOLoop loop;
      loop.run_sync([&]() -> asio::awaitable<void> {
        cortado::AsyncHTTPClient client(loop.executor());
        for (int i = 0; i < 50; ++i) {
          const auto response =
              co_await client.fetch("http://127.0.0.1:" + std::to_string(server.port()) + "/fetch");
          if (response.body == "/fetch") ++ok;
        }
        client.close();
      }());
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == 150);
}

TEST_CASE("a two-loop server parks idle connections on both, resumes them, and drains them") {
  ServerThread server(routes, {.idle_park_after = 20ms}, 2);
  constexpr std::size_t kClients = 16;
  std::vector<std::optional<RawClient>> clients(kClients);
  for (auto& c : clients) c.emplace(server.port());
  // Polls (bounded): parking follows idle_park_after, with no event to wait on.
  auto wait_for_parked = [&](std::size_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (server.server().parked_count() != n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
    return server.server().parked_count();
  };
  for (int round = 0; round < 3; ++round) {
    for (std::size_t i = 0; i < kClients; ++i) {
      const std::string path = "/" + std::to_string(round) + "/" + std::to_string(i);
      clients[i]->send(request_bytes("GET", path));
      CHECK(clients[i]->read_response().body == path);
    }
    CHECK(wait_for_parked(kClients) == kClients);
  }
  server.close_all(10s);
  for (auto& c : clients) CHECK(c->closed_by_peer());
  CHECK(server.server().parked_count() == 0);
}
