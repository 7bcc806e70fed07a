// Asio's implementation, compiled once for the whole program (ASIO_SEPARATE_COMPILATION):
// every other translation unit sees declarations only, which keeps builds fast.
#include <asio/impl/src.hpp>
#include <asio/ssl/impl/src.hpp>
