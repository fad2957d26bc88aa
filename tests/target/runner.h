// A test runner for targets without an OS (tier 2, tests/target): tables of cases registered
// by static constructors, checks that record a failure and go on (CHECK*) or leave the case
// (REQUIRE*), one summary line "N passed, M failed". No exceptions, no GoogleTest, no heap
// of its own (the strings it builds come from the port's arena like everything else).
#ifndef IMSDC_TESTS_TARGET_RUNNER_H
#define IMSDC_TESTS_TARGET_RUNNER_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "imsdc/bytes.h"
#include "imsdc/status.h"

namespace imsdc::target {

using CaseFn = void (*)();

struct Registrar {
  Registrar(const char* suite, const char* name, CaseFn fn);
};

// Records a failed check of the running case (file:line and what was expected).
void fail(const char* file, int line, const char* what, const std::string& detail);

// Test data shared with the host unit tests (tests/unit/data), read through semihosting.
// Returns false (and records a failure) when the file cannot be read.
bool read_data(const char* relative_path, std::string* out);
bool read_data(const char* relative_path, Bytes* out);
// A one-line data file (a compact JWS/JWE, a JWK, as in tests/unit/data/fixed) without its
// trailing line end; empty (and a recorded failure) when it cannot be read or is empty.
std::string read_data_line(const char* relative_path);

// Splits a data-file line into whitespace-separated fields.
std::size_t split_fields(std::string_view line, std::string_view* out, std::size_t max);

std::string describe(const Status& s);
inline Status status_of(const Status& s) {
  return s;
}
template <typename T> Status status_of(const Result<T>& r) {
  return r.status();
}

inline std::string to_text(std::string_view v) {
  return "\"" + std::string(v) + "\"";
}
inline std::string to_text(const char* v) {
  return v ? to_text(std::string_view(v)) : std::string("(null)");
}
inline std::string to_text(const std::string& v) {
  return to_text(std::string_view(v));
}
std::string to_text(unsigned long long v);
std::string to_text(long long v);
inline std::string to_text(bool v) {
  return v ? "true" : "false";
}
template <typename T> std::string to_text(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return to_text(static_cast<long long>(v));
  } else if constexpr (std::is_signed_v<T>) {
    return to_text(static_cast<long long>(v));
  } else {
    return to_text(static_cast<unsigned long long>(v));
  }
}

} // namespace imsdc::target

#define IMSDC_TARGET_CAT2(a, b) a##b
#define IMSDC_TARGET_CAT(a, b) IMSDC_TARGET_CAT2(a, b)

// TEST_CASE(Suite, Name) { ... }: suite and name as in the host test it mirrors.
#define TEST_CASE(suite, name)                                                                     \
  static void suite##_##name();                                                                    \
  static const ::imsdc::target::Registrar IMSDC_TARGET_CAT(reg_##suite##_##name, __LINE__)(        \
      #suite, #name, suite##_##name);                                                              \
  static void suite##_##name()

#define CHECK(cond)                                                                                \
  do {                                                                                             \
    if (!(cond)) ::imsdc::target::fail(__FILE__, __LINE__, #cond, std::string());                  \
  } while (0)

#define CHECK_MSG(cond, msg)                                                                       \
  do {                                                                                             \
    if (!(cond)) ::imsdc::target::fail(__FILE__, __LINE__, #cond, (msg));                          \
  } while (0)

#define CHECK_EQ(a, b)                                                                             \
  do {                                                                                             \
    const auto& imsdc_a_ = (a);                                                                    \
    const auto& imsdc_b_ = (b);                                                                    \
    if (!(imsdc_a_ == imsdc_b_))                                                                   \
      ::imsdc::target::fail(__FILE__, __LINE__, #a " == " #b,                                      \
                            ::imsdc::target::to_text(imsdc_a_) + " vs " +                          \
                                ::imsdc::target::to_text(imsdc_b_));                               \
  } while (0)

#define CHECK_OK(expr)                                                                             \
  do {                                                                                             \
    const ::imsdc::Status imsdc_s_ = ::imsdc::target::status_of(expr);                             \
    if (!imsdc_s_.is_ok())                                                                         \
      ::imsdc::target::fail(__FILE__, __LINE__, #expr " is ok",                                    \
                            ::imsdc::target::describe(imsdc_s_));                                  \
  } while (0)

#define CHECK_CODE(expr, want)                                                                     \
  do {                                                                                             \
    const ::imsdc::Status imsdc_s_ = ::imsdc::target::status_of(expr);                             \
    if (imsdc_s_.code() != (want))                                                                 \
      ::imsdc::target::fail(__FILE__, __LINE__, #expr " fails with " #want,                        \
                            ::imsdc::target::describe(imsdc_s_));                                  \
  } while (0)

#define REQUIRE(cond)                                                                              \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      ::imsdc::target::fail(__FILE__, __LINE__, #cond, std::string());                             \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#define REQUIRE_OK(expr)                                                                           \
  do {                                                                                             \
    const ::imsdc::Status imsdc_s_ = ::imsdc::target::status_of(expr);                             \
    if (!imsdc_s_.is_ok()) {                                                                       \
      ::imsdc::target::fail(__FILE__, __LINE__, #expr " is ok",                                    \
                            ::imsdc::target::describe(imsdc_s_));                                  \
      return;                                                                                      \
    }                                                                                              \
  } while (0)

#endif // IMSDC_TESTS_TARGET_RUNNER_H
