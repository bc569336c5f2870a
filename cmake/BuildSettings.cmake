# Build settings in one place: every clusterctl target links clusterctl_build_settings.
add_library(clusterctl_build_settings INTERFACE)
target_compile_options(clusterctl_build_settings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused
  -Woverloaded-virtual -Wformat=2 -Wimplicit-fallthrough)
if(CLUSTERCTL_WERROR)
  target_compile_options(clusterctl_build_settings INTERFACE -Werror)
endif()
if(CLUSTERCTL_SANITIZE)
  target_compile_options(clusterctl_build_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(clusterctl_build_settings INTERFACE -fsanitize=address,undefined)
endif()
# GCC 12 at -O3 warns of overlapping memcpy inside std::string's operator+ (GCC bug 105651,
# fixed in 13): a false positive in the library, not in our code.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(clusterctl_build_settings INTERFACE -Wno-restrict)
endif()
