#include <array>

#include "cortado/gzip.hpp"
#include "cortado/httputil/accept_encoding.hpp"
#include "cortado/web/transforms.hpp"

namespace cortado::web {
namespace {

// Smaller bodies gain nothing from compression (Tornado's GZipContentEncoding.MIN_LENGTH).
constexpr std::size_t kMinLength = 1024;

bool compressible(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  if (content_type.starts_with("text/")) return true;
  static constexpr std::array<std::string_view, 6> kTypes = {
      "application/json", "application/javascript", "application/x-javascript",
      "application/xml",  "application/xhtml+xml",  "image/svg+xml"};
  for (auto t : kTypes) {
    if (content_type == t) return true;
  }
  return false;
}

class GzipTransform final : public OutputTransform {
 public:
  explicit GzipTransform(bool accepted) : accepted_(accepted) {}

  void transform_first_chunk(int& status, HTTPHeaders& headers, std::string& chunk,
                             bool finishing) override {
    // Compressed or not, caches must key on Accept-Encoding.
    const std::string_view vary = headers.get("Vary");
    if (vary.empty()) {
      headers.set("Vary", "Accept-Encoding");
    } else if (vary.find("Accept-Encoding") == std::string_view::npos) {
      std::string joined(vary);
      joined += ", Accept-Encoding";
      headers.set("Vary", joined);
    }
    active_ = accepted_ && status == 200 && compressible(headers.get("Content-Type")) &&
              !headers.contains("Content-Encoding") && (!finishing || chunk.size() >= kMinLength);
    if (!active_) return;
    headers.set("Content-Encoding", "gzip");
    compressor_ = std::make_unique<GzipCompressor>();
    compress(chunk, finishing);
    if (finishing) {
      headers.set("Content-Length", std::to_string(chunk.size()));
    } else {
      headers.remove("Content-Length");
    }
  }

  void transform_chunk(std::string& chunk, bool finishing) override {
    if (active_) compress(chunk, finishing);
  }

 private:
  void compress(std::string& chunk, bool finishing) {
    std::string out;
    compressor_->compress(chunk, out, finishing);
    chunk.swap(out);
  }

  bool accepted_;
  bool active_ = false;
  std::unique_ptr<GzipCompressor> compressor_;
};

}  // namespace

std::unique_ptr<OutputTransform> make_gzip_transform(const HTTPServerRequest& request) {
  return std::make_unique<GzipTransform>(accepts_gzip(request.headers.get("Accept-Encoding")));
}

}  // namespace cortado::web
