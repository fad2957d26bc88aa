# Android (NDK, Bionic libc, clang) toolchain for imsdc: a thin wrapper that defers to the
# NDK's own toolchain file, so every NDK setting (ANDROID_ABI, ANDROID_PLATFORM,
# ANDROID_STL, ANDROID_ARM_NEON, ...) works as the NDK documents it.
#
#   export ANDROID_NDK=/path/to/android-ndk-r26d
#   cmake -S . -B build/android-arm64 -G Ninja \
#     -DCMAKE_TOOLCHAIN_FILE=toolchains/android-ndk.cmake \
#     -DANDROID_ABI=arm64-v8a -DANDROID_PLATFORM=android-26 -DANDROID_STL=c++_shared \
#     -DIMSDC_WITH_PKCS11=OFF -DIMSDC_WITH_CLI=OFF -DIMSDC_WITH_TESTS=OFF \
#     -DIMSDC_CONFIG_FILE=$PWD/configs/handset.h
#
# ANDROID_NDK (CMake variable or environment variable) names the NDK's root directory;
# ANDROID_NDK_HOME and ANDROID_NDK_ROOT are accepted as well. Defaults chosen here when the
# caller sets none: ANDROID_ABI arm64-v8a, ANDROID_PLATFORM android-26 (Android 8.0; below
# API 28 Bionic has no getrandom() wrapper and ports/posix calls the system call directly),
# ANDROID_STL c++_shared.
#
# The NDK is not in Debian, so CI cannot run this file: docs/android.md says what is and is
# not tested. The dependencies (mbedTLS, cJSON, usrsctp; libwebsockets on mbedTLS) must be
# cross-built for each ABI and found through CMAKE_FIND_ROOT_PATH (see docs/android.md).

if(NOT ANDROID_NDK)
  foreach(var ANDROID_NDK ANDROID_NDK_HOME ANDROID_NDK_ROOT)
    if(DEFINED ENV{${var}} AND NOT "$ENV{${var}}" STREQUAL "")
      set(ANDROID_NDK "$ENV{${var}}")
      break()
    endif()
  endforeach()
endif()

if(NOT ANDROID_NDK)
  message(FATAL_ERROR
    "toolchains/android-ndk.cmake: ANDROID_NDK is not set. Install the Android NDK (r25 or "
    "newer) and pass -DANDROID_NDK=/path/to/ndk or export ANDROID_NDK=/path/to/ndk. "
    "See docs/android.md.")
endif()

set(_imsdc_ndk_toolchain "${ANDROID_NDK}/build/cmake/android.toolchain.cmake")
if(NOT EXISTS "${_imsdc_ndk_toolchain}")
  message(FATAL_ERROR
    "toolchains/android-ndk.cmake: ${_imsdc_ndk_toolchain} does not exist: ANDROID_NDK="
    "\"${ANDROID_NDK}\" is not the root of an Android NDK (r25 or newer).")
endif()

# try_compile projects re-read the toolchain file: hand them the NDK location.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ANDROID_NDK)

if(NOT ANDROID_ABI)
  set(ANDROID_ABI arm64-v8a)
endif()
if(NOT ANDROID_PLATFORM)
  set(ANDROID_PLATFORM android-26)
endif()
if(NOT ANDROID_STL)
  set(ANDROID_STL c++_shared)
endif()

include("${_imsdc_ndk_toolchain}")
