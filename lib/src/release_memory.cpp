#include "release_memory.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cortado::detail {

void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
}

}  // namespace cortado::detail
