// Byte spans, owned byte buffers and secret buffers.
//
// ByteSpan is a non-owning (pointer, length) view, like std::span<const uint8_t> (C++20).
// Bytes is an owned, growable buffer with a hard capacity limit chosen by the caller.
// SecretBytes is a Bytes that is zeroized whenever its contents are released.
#ifndef IMSDC_BYTES_H
#define IMSDC_BYTES_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "imsdc/status.h"

namespace imsdc {

class ByteSpan {
public:
  constexpr ByteSpan() = default;
  constexpr ByteSpan(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  ByteSpan(const std::vector<std::uint8_t>& v) : data_(v.data()), size_(v.size()) {} // NOLINT
  ByteSpan(std::string_view s)                                                       // NOLINT
      : data_(reinterpret_cast<const std::uint8_t*>(s.data())), size_(s.size()) {}
  constexpr const std::uint8_t* data() const { return data_; }
  constexpr std::size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr std::uint8_t operator[](std::size_t i) const { return data_[i]; }
  constexpr const std::uint8_t* begin() const { return data_; }
  constexpr const std::uint8_t* end() const { return data_ + size_; }
  // Sub-span; clamps to the available bytes.
  constexpr ByteSpan sub(std::size_t offset,
                         std::size_t count = static_cast<std::size_t>(-1)) const {
    if (offset > size_) offset = size_;
    if (count > size_ - offset) count = size_ - offset;
    return ByteSpan(data_ + offset, count);
  }
  std::string_view as_string() const {
    return std::string_view(reinterpret_cast<const char*>(data_), size_);
  }

private:
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

using Bytes = std::vector<std::uint8_t>;

// Overwrites memory in a way the compiler may not elide.
void secure_zero(void* p, std::size_t n);

// Constant-time comparison; false when sizes differ.
bool constant_time_equal(ByteSpan a, ByteSpan b);

// Owned secret bytes: zeroized on destruction, on clear() and before reallocation.
// Move-only, so a secret is never silently duplicated.
class SecretBytes {
public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t n) : v_(n, 0) {}
  explicit SecretBytes(ByteSpan s) : v_(s.begin(), s.end()) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& o) noexcept : v_(std::move(o.v_)) { o.v_.clear(); }
  SecretBytes& operator=(SecretBytes&& o) noexcept {
    if (this != &o) {
      clear();
      v_ = std::move(o.v_);
      o.v_.clear();
    }
    return *this;
  }
  ~SecretBytes() { clear(); }
  void clear() {
    if (!v_.empty()) secure_zero(v_.data(), v_.size());
    v_.clear();
    v_.shrink_to_fit();
  }
  std::uint8_t* data() { return v_.data(); }
  const std::uint8_t* data() const { return v_.data(); }
  std::size_t size() const { return v_.size(); }
  bool empty() const { return v_.empty(); }
  ByteSpan span() const { return ByteSpan(v_.data(), v_.size()); }

private:
  std::vector<std::uint8_t> v_;
};

} // namespace imsdc

#endif // IMSDC_BYTES_H
