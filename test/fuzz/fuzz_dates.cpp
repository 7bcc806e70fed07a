// HTTP dates: whatever parses formats back to an IMF-fixdate that parses to the same instant,
// and any instant formats to 29 bytes that parse back to it (to the second).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "cortado/httputil/dates.hpp"
#include "invariant.hpp"

using namespace std::chrono;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const system_clock::time_point now{seconds{1717200000}};
  if (const auto t = cortado::parse_http_date(input, now)) {
    const std::string text = cortado::format_http_date(*t);
    FUZZ_CHECK(text.size() == cortado::kHttpDateSize);
    FUZZ_CHECK(cortado::parse_http_date(text, now) == *t);
  }
  if (size >= 8) {
    std::int64_t ticks;
    std::memcpy(&ticks, data, sizeof ticks);
    const system_clock::time_point t{system_clock::duration{ticks}};
    const auto whole = floor<seconds>(t);
    const auto lowest = ceil<seconds>(system_clock::time_point::min());
    if (whole.time_since_epoch() >= lowest.time_since_epoch()) {
      char out[cortado::kHttpDateSize];
      cortado::format_http_date(t, out);
      FUZZ_CHECK(cortado::parse_http_date(std::string_view(out, sizeof out), now) == whole);
    }
  }
  return 0;
}
