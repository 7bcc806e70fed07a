// multipart/form-data and form bodies. The first byte picks a mode:
//  0: raw boundary line + body through split_multipart: parts are ordered, non-overlapping
//     views into the body and respect the limits;
//  1: raw Content-Type line + body through parse_body_arguments: refusals leave the output
//     alone, successes stay within the limits;
//  2: fields cut from the input are encoded as a multipart body, which must parse back to
//     exactly those fields and files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cortado/httputil/forms.hpp"
#include "invariant.hpp"

namespace {

// Small limits, so that inputs of fuzzing size reach them.
constexpr cortado::FormLimits kLimits{
    .max_fields = 50, .max_parts = 20, .max_part_header_size = 256, .max_part_headers = 6};

std::string_view next_line(std::string_view& rest) {
  const std::size_t end = rest.find('\n');
  const std::string_view line = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  return line;
}

bool inside(std::string_view piece, std::string_view whole) {
  return piece.data() >= whole.data() && piece.data() + piece.size() <= whole.data() + whole.size();
}

void check_split(std::string_view input) {
  const std::string_view boundary = next_line(input);
  std::vector<cortado::MultipartPart> parts;
  try {
    parts = cortado::split_multipart(boundary, input, kLimits);
  } catch (const cortado::HTTPInputError&) {
    return;
  }
  FUZZ_CHECK(parts.size() <= kLimits.max_parts);
  const char* previous_end = input.data();
  for (const auto& part : parts) {
    FUZZ_CHECK(!part.name.empty());
    FUZZ_CHECK(part.headers.size() <= kLimits.max_part_headers);
    FUZZ_CHECK(inside(part.body, input));
    FUZZ_CHECK(part.body.data() >= previous_end);
    previous_end = part.body.data() + part.body.size();
    for (const auto& h : part.headers) FUZZ_CHECK(inside(h.name, input) && inside(h.value, input));
  }
}

void check_body_arguments(std::string_view input) {
  const std::string_view content_type = next_line(input);
  cortado::Arguments arguments;
  cortado::Files files;
  try {
    cortado::parse_body_arguments(content_type, input, arguments, files, kLimits);
  } catch (const cortado::HTTPInputError&) {
    FUZZ_CHECK(arguments.empty() && files.empty());
    return;
  }
  std::size_t count = 0, bytes = 0;
  for (const auto& [name, values] : arguments) {
    count += values.size();
    for (const auto& v : values) bytes += v.size();
  }
  for (const auto& [name, list] : files) {
    count += list.size();
    for (const auto& f : list) bytes += f.body.size();
  }
  FUZZ_CHECK(count <= std::max(kLimits.max_fields, kLimits.max_parts));
  FUZZ_CHECK(bytes <= input.size());
}

// A boundary that occurs nowhere in the input, so no content can contain the delimiter.
std::string fresh_boundary(std::string_view input) {
  for (unsigned n = 0;; ++n) {
    std::string b = "fuzzBoundary" + std::to_string(n);
    if (input.find(b) == std::string_view::npos) return b;
  }
}

// Input layout: fields separated by '\n', each "name\tcontent"; a name starting with '@' is a
// file (its filename is the rest of the name).
void check_round_trip(std::string_view input) {
  const std::string boundary = fresh_boundary(input);
  std::string body = "preamble\r\n";
  cortado::Arguments expected_args;
  cortado::Files expected_files;
  std::size_t count = 0;
  while (!input.empty() && count < kLimits.max_parts) {
    const std::string_view line = next_line(input);
    const std::size_t tab = line.find('\t');
    std::string_view name = line.substr(0, tab);
    const std::string_view content = tab == std::string_view::npos ? "" : line.substr(tab + 1);
    const bool is_file = name.starts_with('@') && name.size() > 1;
    if (is_file) name.remove_prefix(1);
    // Names travel in a quoted string: keep those a browser could send unescaped, and short
    // enough for the header block to stay within kLimits.
    std::string clean;
    for (char c : name) {
      if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && clean.size() < 60) clean.push_back(c);
    }
    if (clean.empty()) clean = "x";
    body.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"");
    body.append(clean).append("\"");
    if (is_file) body.append("; filename=\"").append(clean).append("\"");
    body.append("\r\n\r\n").append(content).append("\r\n");
    if (is_file) {
      expected_files[clean].push_back({clean, "application/unknown", std::string(content)});
    } else {
      expected_args[clean].emplace_back(content);
    }
    ++count;
  }
  body.append("--").append(boundary).append("--\r\nepilogue");
  cortado::Arguments arguments;
  cortado::Files files;
  cortado::parse_multipart_form_data(boundary, body, arguments, files, kLimits);
  FUZZ_CHECK(arguments == expected_args);
  FUZZ_CHECK(files.size() == expected_files.size());
  for (const auto& [name, list] : expected_files) {
    const auto& got = files.at(name);
    FUZZ_CHECK(got.size() == list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      FUZZ_CHECK(got[i].filename == list[i].filename && got[i].body == list[i].body &&
                 got[i].content_type == list[i].content_type);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      check_split(input);
      break;
    case 1:
      check_body_arguments(input);
      break;
    default:
      check_round_trip(input);
      break;
  }
  return 0;
}
