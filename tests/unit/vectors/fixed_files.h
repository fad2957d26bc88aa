// Host-side reader for the files named in fixed_vectors.h (the target runner reads them through
// semihosting with imsdc::target::read_data instead).
#ifndef IMSDC_TESTS_VECTORS_FIXED_FILES_H
#define IMSDC_TESTS_VECTORS_FIXED_FILES_H

#include <fstream>
#include <iterator>
#include <string>

#include "fixed_vectors.h" // relative: tests/unit is not on the include path

namespace imsdc::test_vectors::fixed {

// The whole file under tests/unit/data (IMSDC_TEST_DATA_DIR); trailing line ends removed when
// `trim` (compact JOSE serializations and JWKs are stored as one line). Empty if unreadable.
inline std::string read_file(const char* relative_path, bool trim = true) {
  std::ifstream f(std::string(IMSDC_TEST_DATA_DIR) + "/" + relative_path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  while (trim && !s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

} // namespace imsdc::test_vectors::fixed

#endif // IMSDC_TESTS_VECTORS_FIXED_FILES_H
