#include "release_memory.hpp"

#include <dlfcn.h>

#include <cstddef>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cortado::detail {

namespace {

// jemalloc's control entry point, when the program runs on jemalloc (linked or preloaded).
// Looked up at run time: the library itself does not depend on an allocator.
using MallctlFunction = int (*)(const char*, void*, std::size_t*, void*, std::size_t);

MallctlFunction jemalloc_mallctl() {
  static const auto function = reinterpret_cast<MallctlFunction>(::dlsym(RTLD_DEFAULT, "mallctl"));
  return function;
}

}  // namespace

void release_free_memory() {
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
  if (const auto mallctl = jemalloc_mallctl()) {
    // 4096 is MALLCTL_ARENAS_ALL: purge the unused dirty pages of every arena now.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
  }
}

}  // namespace cortado::detail
