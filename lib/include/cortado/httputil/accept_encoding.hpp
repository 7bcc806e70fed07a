// Accept-Encoding negotiation (RFC 9110 12.5.3), for the gzip output transform.
#pragma once

#include <string_view>

namespace cortado {

// The weight (0 to 1000, q=1 is 1000) the Accept-Encoding value `header` gives `coding`:
// the highest q of the elements naming it (case-insensitive; "gzip" also answers to
// "x-gzip"), else the q of "*", else 0. An element with a malformed q is ignored. Linear in
// header.size().
int accept_encoding_weight(std::string_view header, std::string_view coding);

// True if a gzip-encoded response is acceptable: weight above 0. So "gzip;q=0" and
// "*;q=0" refuse it, "*" and "GZIP" allow it, and an empty header (only identity) refuses it.
// Tornado checks `"gzip" in header`; this honors q-values instead.
bool accepts_gzip(std::string_view header);

}  // namespace cortado
