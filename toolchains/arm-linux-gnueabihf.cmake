# armhf Linux (32-bit ARMv7, hard float, glibc) cross toolchain on Debian: compilers and
# sysroots only.
#
# Needs (toolchains/install-deps.sh armhf): g++-arm-linux-gnueabihf, qemu-user, and the target
# sysroot that toolchains/armhf-sysroot.sh makes from Debian's armhf .debs (default
# build/deps/armhf-sysroot; override with -DIMSDC_ARMHF_SYSROOT=DIR or the environment
# variable of the same name). The sysroot holds the dev packages the SDK links (mbedTLS,
# cJSON, usrsctp, GoogleTest) and the runtime libraries (libc6, libstdc++6, ...) that target
# programs load.
#
# Unlike aarch64 this tier does not use Debian multiarch (`dpkg --add-architecture armhf`):
# the registry's bookworm-security index for armhf is broken and would make every
# `apt-get update` on the machine fail. See toolchains/armhf-sysroot.sh.
#
# Target programs (tests) run through `qemu-arm -L SYSROOT`: the loader and every library
# come from the one set of Debian armhf packages. The compiler links against its own copy of
# the same glibc 2.36 / libstdc++ 12 (/usr/arm-linux-gnueabihf), which is ABI-identical.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)

set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

if(NOT IMSDC_ARMHF_SYSROOT)
  if(DEFINED ENV{IMSDC_ARMHF_SYSROOT})
    set(IMSDC_ARMHF_SYSROOT "$ENV{IMSDC_ARMHF_SYSROOT}")
  else()
    get_filename_component(IMSDC_ARMHF_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../build/deps/armhf-sysroot"
      ABSOLUTE)
  endif()
endif()
# try_compile projects re-read this file: hand them the same sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES IMSDC_ARMHF_SYSROOT)
if(NOT EXISTS "${IMSDC_ARMHF_SYSROOT}/lib/ld-linux-armhf.so.3")
  message(FATAL_ERROR "armhf sysroot not found in ${IMSDC_ARMHF_SYSROOT}: run "
    "toolchains/install-deps.sh armhf (or toolchains/armhf-sysroot.sh DIR and "
    "-DIMSDC_ARMHF_SYSROOT=DIR)")
endif()

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-arm;-L;${IMSDC_ARMHF_SYSROOT})

# Search the cross toolchain's own tree and the sysroot, never the host's /usr. With
# CMAKE_LIBRARY_ARCHITECTURE set, find_library looks in <root>/usr/lib/arm-linux-gnueabihf.
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf "${IMSDC_ARMHF_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Shared libraries in the sysroot name their own dependencies (libmbedtls.so.14 needs
# libmbedcrypto.so.7): tell the linker where to resolve those at link time.
set(CMAKE_EXE_LINKER_FLAGS_INIT
  "-Wl,-rpath-link,${IMSDC_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf -Wl,-rpath-link,${IMSDC_ARMHF_SYSROOT}/lib/arm-linux-gnueabihf")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${CMAKE_EXE_LINKER_FLAGS_INIT}")

# pkg-config: only the target's .pc files, with their paths moved into the sysroot.
set(ENV{PKG_CONFIG_LIBDIR}
  "${IMSDC_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${IMSDC_ARMHF_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${IMSDC_ARMHF_SYSROOT}")
