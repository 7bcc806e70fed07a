// Dispatch of form bodies by Content-Type, and filing multipart parts as arguments or files.
#include <vector>

#include "../ascii.hpp"
#include "cortado/httputil/forms.hpp"
#include "header_params.hpp"

namespace cortado {

namespace {

std::string multipart_boundary(const std::vector<detail::HeaderParam>& params) {
  for (const auto& param : params) {
    if (!detail::ascii_iequals(param.name, "boundary")) continue;
    std::string boundary;
    detail::append_unquoted(param.value, boundary);
    if (!boundary.empty()) return boundary;
  }
  throw HTTPInputError("invalid multipart/form-data: boundary parameter not found");
}

}  // namespace

void parse_multipart_form_data(std::string_view boundary, std::string_view body,
                               Arguments& arguments, Files& files, const FormLimits& limits) {
  // Everything is split and checked before anything is added.
  std::vector<MultipartPart> parts = split_multipart(boundary, body, limits);
  for (MultipartPart& part : parts) {
    if (part.filename && !part.filename->empty()) {
      HTTPFile file{std::move(*part.filename),
                    part.content_type.empty() ? std::string("application/unknown")
                                              : std::string(part.content_type),
                    std::string(part.body)};
      files[std::move(part.name)].push_back(std::move(file));
    } else {
      arguments[std::move(part.name)].emplace_back(part.body);
    }
  }
}

void parse_body_arguments(std::string_view content_type, std::string_view body,
                          Arguments& arguments, Files& files, const FormLimits& limits) {
  std::vector<detail::HeaderParam> params;
  const std::string_view media_type = detail::split_header_params(content_type, params);
  if (detail::ascii_iequals(media_type, "application/x-www-form-urlencoded")) {
    parse_query(body, arguments, /*keep_blank_values=*/true, limits.max_fields);
  } else if (detail::ascii_iequals(media_type, "multipart/form-data")) {
    parse_multipart_form_data(multipart_boundary(params), body, arguments, files, limits);
  }
}

}  // namespace cortado
