# Finds the system packages cortado builds on and makes imported targets of them.
# Used both by cortado's own build and by the installed cortadoConfig.cmake.
include(CMakeFindDependencyMacro)

find_dependency(Threads)
find_dependency(OpenSSL)
find_dependency(ZLIB)
find_dependency(fmt)
find_dependency(nlohmann_json)

# libasio-dev ships headers only, without a CMake config.
if(NOT TARGET cortado_deps::asio)
  find_path(CORTADO_ASIO_INCLUDE_DIR asio.hpp REQUIRED)
  add_library(cortado_deps::asio INTERFACE IMPORTED)
  target_include_directories(cortado_deps::asio SYSTEM INTERFACE ${CORTADO_ASIO_INCLUDE_DIR})
  # The implementation is compiled once, inside libcortado (lib/src/asio_impl.cpp).
  target_compile_definitions(cortado_deps::asio INTERFACE
    ASIO_STANDALONE ASIO_NO_DEPRECATED ASIO_SEPARATE_COMPILATION
    # Coroutine frames are recycled per thread; a request nests about a dozen of them, so the
    # default cache of 2 blocks sent most of them to malloc. (Part of the ABI: every
    # translation unit must agree, hence an interface definition.)
    ASIO_RECYCLING_ALLOCATOR_CACHE_SIZE=16)
  target_link_libraries(cortado_deps::asio INTERFACE Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
  # -pthread everywhere: RE2's pkg-config adds it to the library, and a precompiled header is only
  # shared between targets compiled with the same flags.
  target_compile_options(cortado_deps::asio INTERFACE -pthread)
  # Asio 1.22 enables co_await on clang only through <experimental/coroutine>, which libstdc++
  # lacks; clang 14 implements C++20 coroutines, so point Asio at the standard <coroutine>.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND NOT DEFINED CORTADO_CLANG_STD_COROUTINE)
    include(CheckCXXSourceCompiles)
    set(CMAKE_REQUIRED_FLAGS -std=c++20)
    check_cxx_source_compiles("#include <coroutine>\nint main() { return 0; }"
                              CORTADO_CLANG_STD_COROUTINE)
    unset(CMAKE_REQUIRED_FLAGS)
  endif()
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CORTADO_CLANG_STD_COROUTINE)
    target_compile_definitions(cortado_deps::asio INTERFACE
      ASIO_HAS_CO_AWAIT=1 ASIO_HAS_STD_COROUTINE=1)
  endif()
endif()

# Debian's libre2-dev ships a pkg-config file but no CMake config.
if(NOT TARGET cortado_deps::re2)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(CORTADO_RE2 QUIET IMPORTED_TARGET re2)
  endif()
  add_library(cortado_deps::re2 INTERFACE IMPORTED)
  if(CORTADO_RE2_FOUND)
    target_link_libraries(cortado_deps::re2 INTERFACE PkgConfig::CORTADO_RE2)
  else()
    find_path(CORTADO_RE2_INCLUDE_DIR re2/re2.h REQUIRED)
    find_library(CORTADO_RE2_LIBRARY re2 REQUIRED)
    target_include_directories(cortado_deps::re2 SYSTEM INTERFACE ${CORTADO_RE2_INCLUDE_DIR})
    target_link_libraries(cortado_deps::re2 INTERFACE ${CORTADO_RE2_LIBRARY} Threads::Threads)
  endif()
endif()

# liburing (Debian's liburing-dev), optional: without it, sockets are read and written through
# Asio's epoll reactor alone (lib/src/uring_service.hpp).
if(NOT TARGET cortado_deps::uring)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(CORTADO_URING QUIET IMPORTED_TARGET liburing)
  endif()
  add_library(cortado_deps::uring INTERFACE IMPORTED)
  if(CORTADO_URING_FOUND)
    target_link_libraries(cortado_deps::uring INTERFACE PkgConfig::CORTADO_URING)
  endif()
endif()
