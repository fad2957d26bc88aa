# imsdc_ram_per_call (tests/target/ram_per_call.cpp): heap per call with the bootstrap
# channels and one application channel open, split into SDK-owned (allocator hook), usrsctp
# and mbedTLS. Host builds only: it interposes glibc's malloc to see Debian's shared
# mbedTLS and usrsctp. tests/target/ram_report.sh runs it for each configuration preset.
# Included from tests/CMakeLists.txt (the Cortex-M project in tests/target/CMakeLists.txt is
# separate and does not build this).
if(CMAKE_CROSSCOMPILING OR IMSDC_SANITIZE OR NOT CMAKE_SYSTEM_NAME STREQUAL "Linux")
  return()
endif()
add_executable(imsdc_ram_per_call ${CMAKE_CURRENT_LIST_DIR}/ram_per_call.cpp)
target_link_libraries(imsdc_ram_per_call PRIVATE imsdc::core imsdc::port_fake imsdc_deps_crypto)
target_include_directories(imsdc_ram_per_call PRIVATE ${PROJECT_SOURCE_DIR}/sdk/src)
target_compile_options(imsdc_ram_per_call PRIVATE -Wall -Wextra -Werror
  -Wno-missing-field-initializers)
# The consistency checks (the call comes up, every byte is returned on close, glibc's own
# in-use figure agrees with the counters) hold in every configuration.
add_test(NAME ram_per_call COMMAND imsdc_ram_per_call)
set_tests_properties(ram_per_call PROPERTIES LABELS unit TIMEOUT 120)
