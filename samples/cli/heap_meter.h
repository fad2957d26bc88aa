// Heap high-water meter for the benchmarks: counts every byte the process holds on the C heap
// (glibc malloc_usable_size), whoever allocates it: imsdc, mbedTLS, usrsctp, cJSON, the C++
// runtime. Built into the CLI only where glibc is the allocator and no sanitizer replaces it
// (release and aarch64 builds); elsewhere available() is false and the figures are omitted.
#ifndef IMSDC_CLI_HEAP_METER_H
#define IMSDC_CLI_HEAP_METER_H

#include <cstddef>

namespace imsdc::cli::heap {

bool available();
std::size_t current(); // bytes held now
std::size_t peak();    // high-water since the last reset_peak()
void reset_peak();     // peak := current

} // namespace imsdc::cli::heap

#endif // IMSDC_CLI_HEAP_METER_H
