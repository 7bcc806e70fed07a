// Streaming gzip over zlib: request bodies sent with Content-Encoding: gzip, the gzip output
// transform and the client's decompress_response all go through these two classes.
#pragma once

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cortado {

class GzipError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class GzipDecompressor {
 public:
  GzipDecompressor();
  ~GzipDecompressor();
  GzipDecompressor(const GzipDecompressor&) = delete;
  GzipDecompressor& operator=(const GzipDecompressor&) = delete;

  // Inflates `input`, appending to `out`. Throws GzipError on corrupt data, and when `out` would
  // grow past `max_output` bytes (decompression bombs are refused as they inflate, not after).
  void decompress(std::string_view input, std::string& out, std::size_t max_output);
  // True once the gzip trailer has been read.
  bool finished() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class GzipCompressor {
 public:
  explicit GzipCompressor(int level = 6);
  ~GzipCompressor();
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  // Appends the compressed form of `input` to `out`; with finish, also the gzip trailer.
  // Without finish, what was given so far is flushed (Z_SYNC_FLUSH) so that a chunked response
  // reaches the client as it is written.
  void compress(std::string_view input, std::string& out, bool finish);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-shot helpers.
std::string gzip_compress(std::string_view input, int level = 6);
std::string gzip_decompress(std::string_view input, std::size_t max_output);

}  // namespace cortado
