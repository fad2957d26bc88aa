# Cortex-M4F bare metal (Arm GNU toolchain from Debian: gcc-arm-none-eabi, newlib-nano,
# semihosting through librdimon). Compilers and flags only; the board (memory map, vector
# table, SysTick) is ports/baremetal.
#
# Needs (toolchains/install-deps.sh cortexm): gcc-arm-none-eabi libnewlib-arm-none-eabi
# libstdc++-arm-none-eabi-newlib qemu-system-arm.
#
# Target programs run under QEMU's mps2-an386 (Cortex-M4 with FPU) with semihosting:
#   qemu-system-arm -M mps2-an386 -nographic -monitor none -serial null
#     -semihosting-config enable=on,target=native -kernel X.elf
# main's return value becomes QEMU's exit code. CMAKE_CROSSCOMPILING_EMULATOR ends with
# "-kernel", so ctest appends the program after it.

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR cortex-m4)

set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_ASM_COMPILER arm-none-eabi-gcc)
set(CMAKE_AR arm-none-eabi-ar CACHE FILEPATH "")
set(CMAKE_RANLIB arm-none-eabi-ranlib CACHE FILEPATH "")
set(CMAKE_SIZE arm-none-eabi-size CACHE FILEPATH "")
set(CMAKE_OBJCOPY arm-none-eabi-objcopy CACHE FILEPATH "")

# A bare-metal compiler cannot link a test program without a board: try static libraries.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(IMSDC_CORTEXM_CPU_FLAGS "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16")
# -Os for size; sections per function so the linker drops what a program does not use.
set(CMAKE_C_FLAGS_INIT
  "${IMSDC_CORTEXM_CPU_FLAGS} -Os -ffunction-sections -fdata-sections --specs=nano.specs")
set(CMAKE_CXX_FLAGS_INIT
  "${IMSDC_CORTEXM_CPU_FLAGS} -Os -ffunction-sections -fdata-sections --specs=nano.specs -fno-exceptions -fno-rtti -fno-threadsafe-statics")
set(CMAKE_ASM_FLAGS_INIT "${IMSDC_CORTEXM_CPU_FLAGS}")
# --specs=nano.specs reaches the link through the compile flags (CMake links with them; a
# second one is an error), rdimon.specs (semihosting syscalls and crt0) is link-only.
# -u _printf_float: newlib-nano leaves floating point out of printf unless asked, and
# identity/jcs.cpp formats RFC 8785 numbers with snprintf("%.*e") (without it every double
# prints as "0": the on-target JCS vectors catch that).
set(CMAKE_EXE_LINKER_FLAGS_INIT "--specs=rdimon.specs -Wl,--gc-sections -u _printf_float")
# The build type must not add -O2/-O3 on top of -Os.
set(CMAKE_C_FLAGS_RELEASE_INIT "-DNDEBUG")
set(CMAKE_CXX_FLAGS_RELEASE_INIT "-DNDEBUG")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-DNDEBUG")
set(CMAKE_CXX_FLAGS_MINSIZEREL_INIT "-DNDEBUG")

set(CMAKE_CROSSCOMPILING_EMULATOR
  qemu-system-arm;-M;mps2-an386;-nographic;-monitor;none;-serial;null;-semihosting-config;enable=on,target=native;-kernel)

# Only the target's own tree (newlib, libstdc++ for arm-none-eabi) and prefixes handed in.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
