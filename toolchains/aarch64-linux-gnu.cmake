# aarch64 Linux (glibc) cross toolchain on Debian: compilers and sysroots only.
#
# Needs (toolchains/install-deps.sh aarch64): g++-aarch64-linux-gnu qemu-user, the arm64
# foreign architecture and the :arm64 multiarch dev packages, which put headers in
# /usr/include and /usr/include/aarch64-linux-gnu and libraries in /usr/lib/aarch64-linux-gnu.
#
# Target programs (tests) run through qemu-aarch64 with "-L /": the multiarch arm64 libc
# and loader live under /. "-L /usr/aarch64-linux-gnu" would mix the cross toolchain's libc
# with the multiarch one and hangs in pthread_create.

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64;-L;/)

# Search the cross toolchain's own tree and the multiarch tree under /usr. With
# CMAKE_LIBRARY_ARCHITECTURE set, find_library looks in <root>/lib/aarch64-linux-gnu and
# find_path in <root>/include/aarch64-linux-gnu as well as <root>/include.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu /usr)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the target's .pc files (their paths are already absolute under /usr).
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")
