// TCP_INFO's newer counters. glibc's <netinet/tcp.h>, which Asio (and so the precompiled header)
// includes, has an older struct tcp_info without them, and it cannot share a translation unit
// with the kernel's <linux/tcp.h>: this file includes only the kernel's.
#include <linux/tcp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace cortado::test {

unsigned data_segments_received(int fd) {
  tcp_info info{};
  socklen_t length = sizeof info;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) {
    throw std::runtime_error(std::string("getsockopt(TCP_INFO): ") + std::strerror(errno));
  }
  return info.tcpi_data_segs_in;
}

}  // namespace cortado::test
