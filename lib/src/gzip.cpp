#include "cortado/gzip.hpp"

#include <zlib.h>

namespace cortado {
namespace {

constexpr int kGzipWindowBits = 15 + 16;  // zlib's way of asking for a gzip wrapper
constexpr std::size_t kStep = 16 * 1024;

}  // namespace

struct GzipDecompressor::Impl {
  z_stream z{};
  bool finished = false;
};

GzipDecompressor::GzipDecompressor() : impl_(std::make_unique<Impl>()) {
  if (inflateInit2(&impl_->z, kGzipWindowBits) != Z_OK) throw GzipError("inflateInit2 failed");
}

GzipDecompressor::~GzipDecompressor() {
  inflateEnd(&impl_->z);
}

bool GzipDecompressor::finished() const {
  return impl_->finished;
}

void GzipDecompressor::decompress(std::string_view input, std::string& out,
                                  std::size_t max_output) {
  z_stream& z = impl_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  while (z.avail_in > 0 && !impl_->finished) {
    if (out.size() >= max_output) throw GzipError("decompressed body exceeds the size limit");
    const std::size_t before = out.size();
    const std::size_t room = std::min(kStep, max_output - before);
    out.resize(before + room);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_NO_FLUSH);
    out.resize(before + room - z.avail_out);
    if (rc == Z_STREAM_END) {
      impl_->finished = true;
    } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
      throw GzipError(std::string("corrupt gzip data: ") + (z.msg ? z.msg : "inflate failed"));
    } else if (rc == Z_BUF_ERROR && z.avail_out != 0) {
      break;  // needs more input
    }
  }
}

struct GzipCompressor::Impl {
  z_stream z{};
};

GzipCompressor::GzipCompressor(int level) : impl_(std::make_unique<Impl>()) {
  if (deflateInit2(&impl_->z, level, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw GzipError("deflateInit2 failed");
  }
}

GzipCompressor::~GzipCompressor() {
  deflateEnd(&impl_->z);
}

void GzipCompressor::compress(std::string_view input, std::string& out, bool finish) {
  z_stream& z = impl_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  const int flush = finish ? Z_FINISH : Z_SYNC_FLUSH;
  for (;;) {
    const std::size_t before = out.size();
    out.resize(before + kStep);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
    z.avail_out = static_cast<uInt>(kStep);
    const int rc = deflate(&z, flush);
    out.resize(before + kStep - z.avail_out);
    if (rc == Z_STREAM_ERROR) throw GzipError("deflate failed");
    if (z.avail_out != 0 && (rc == Z_STREAM_END || !finish)) break;
  }
}

std::string gzip_compress(std::string_view input, int level) {
  GzipCompressor c(level);
  std::string out;
  c.compress(input, out, true);
  return out;
}

std::string gzip_decompress(std::string_view input, std::size_t max_output) {
  GzipDecompressor d;
  std::string out;
  d.decompress(input, out, max_output);
  if (!d.finished()) throw GzipError("truncated gzip data");
  return out;
}

}  // namespace cortado
