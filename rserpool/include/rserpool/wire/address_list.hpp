#pragma once
// The address list of a transport parameter (RFC 5354 3.3-3.7): held
// inline up to kInline addresses, on the heap only beyond.
//
// Why not std::vector: a registrar keeps two lists per PE (the user
// transport it registered, the ASAP transport the registrar fills in), and
// nearly every PE has 1 to 4 addresses. As vectors they cost two heap
// allocations per new PE and two frees at its removal (issue 16: about 800
// of a registration's 7,441 instructions in the daemon, with a free list of
// spare vectors that ran out past 64 PEs).
//
// Source-compatible with the std::vector<IpAddress> it replaces, for the
// members its users call (begin/end/size/empty/front/back/operator[]/
// push_back/clear/reserve/assign/erase/==): it is built from and converts
// to a std::vector<IpAddress>, so configuration code that keeps vectors
// assigns either way.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "rserpool/base/ip_address.hpp"

namespace rserpool {

class AddressList {
 public:
  static constexpr std::size_t kInline = 4;

  using value_type = IpAddress;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = IpAddress&;
  using const_reference = const IpAddress&;
  using pointer = IpAddress*;
  using const_pointer = const IpAddress*;
  using iterator = IpAddress*;
  using const_iterator = const IpAddress*;

  AddressList() noexcept = default;
  AddressList(std::initializer_list<IpAddress> l) { assign(l.begin(), l.end()); }
  // Implicit, as the vector it replaces was assigned from vectors.
  AddressList(const std::vector<IpAddress>& v) { assign(v.begin(), v.end()); }  // NOLINT(google-explicit-constructor)
  template <class It>
  AddressList(It first, It last) {
    assign(first, last);
  }
  AddressList(const AddressList& o) {
    if (o.heap_ == nullptr) {
      copy_inline(o);
    } else {
      assign(o.begin(), o.end());
    }
  }
  AddressList(AddressList&& o) noexcept { steal(o); }
  AddressList& operator=(const AddressList& o) {
    if (this == &o) return *this;
    if (o.heap_ == nullptr && heap_ == nullptr) {
      copy_inline(o);
    } else {
      assign(o.begin(), o.end());
    }
    return *this;
  }
  AddressList& operator=(AddressList&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  AddressList& operator=(std::initializer_list<IpAddress> l) {
    assign(l.begin(), l.end());
    return *this;
  }
  ~AddressList() { release(); }

  // Implicit, for code that hands the list on as a vector (endpoint
  // configurations, logs).
  operator std::vector<IpAddress>() const { return {begin(), end()}; }  // NOLINT(google-explicit-constructor)

  iterator begin() noexcept { return data(); }
  iterator end() noexcept { return data() + size_; }
  const_iterator begin() const noexcept { return data(); }
  const_iterator end() const noexcept { return data() + size_; }
  const_iterator cbegin() const noexcept { return begin(); }
  const_iterator cend() const noexcept { return end(); }

  IpAddress* data() noexcept { return heap_ != nullptr ? heap_ : inline_data(); }
  const IpAddress* data() const noexcept { return heap_ != nullptr ? heap_ : inline_data(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::size_t capacity() const noexcept { return heap_ != nullptr ? capacity_ : kInline; }
  // Whether the addresses live in the object itself (no heap storage).
  bool is_inline() const noexcept { return heap_ == nullptr; }

  IpAddress& operator[](std::size_t i) noexcept { return data()[i]; }
  const IpAddress& operator[](std::size_t i) const noexcept { return data()[i]; }
  IpAddress& at(std::size_t i) {
    if (i >= size_) throw std::out_of_range("AddressList::at");
    return data()[i];
  }
  const IpAddress& at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("AddressList::at");
    return data()[i];
  }
  IpAddress& front() noexcept { return data()[0]; }
  const IpAddress& front() const noexcept { return data()[0]; }
  IpAddress& back() noexcept { return data()[size_ - 1]; }
  const IpAddress& back() const noexcept { return data()[size_ - 1]; }

  void reserve(std::size_t n) {
    if (n > capacity()) grow(n);
  }
  void clear() noexcept { size_ = 0; }
  void push_back(const IpAddress& a) {
    if (size_ == capacity()) grow(std::max<std::size_t>(2 * capacity(), kInline));
    data()[size_++] = a;
  }
  template <class... Args>
  IpAddress& emplace_back(Args&&... args) {
    push_back(IpAddress(std::forward<Args>(args)...));
    return back();
  }
  void pop_back() noexcept { --size_; }

  template <class It>
  void assign(It first, It last) {
    // Every caller passes a forward range (a list, a vector, a span).
    const auto n = static_cast<std::size_t>(std::distance(first, last));
    clear();
    reserve(n);
    std::copy(first, last, data());
    size_ = static_cast<std::uint32_t>(n);
  }
  void assign(std::size_t n, const IpAddress& a) {
    clear();
    reserve(n);
    std::fill_n(data(), n, a);
    size_ = static_cast<std::uint32_t>(n);
  }
  void assign(std::initializer_list<IpAddress> l) { assign(l.begin(), l.end()); }

  iterator erase(const_iterator first, const_iterator last) noexcept {
    auto* f = const_cast<IpAddress*>(first);
    auto* l = const_cast<IpAddress*>(last);
    std::copy(l, end(), f);
    size_ -= static_cast<std::uint32_t>(l - f);
    return f;
  }
  iterator erase(const_iterator pos) noexcept { return erase(pos, pos + 1); }

  friend bool operator==(const AddressList& a, const AddressList& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator==(const AddressList& a, const std::vector<IpAddress>& b) noexcept {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  static_assert(std::is_trivially_copyable_v<IpAddress> && std::is_trivially_destructible_v<IpAddress>,
                "addresses are copied as bytes");

  IpAddress* inline_data() noexcept { return std::launder(reinterpret_cast<IpAddress*>(inline_)); }
  const IpAddress* inline_data() const noexcept {
    return std::launder(reinterpret_cast<const IpAddress*>(inline_));
  }
  void grow(std::size_t n) {
    if (n > UINT32_MAX) throw std::length_error("address list too long");
    auto* p = static_cast<IpAddress*>(::operator new(n * sizeof(IpAddress)));
    if (size_ != 0) std::memcpy(static_cast<void*>(p), data(), size_ * sizeof(IpAddress));
    release();
    heap_ = p;
    capacity_ = static_cast<std::uint32_t>(n);
  }
  void release() noexcept {
    if (heap_ != nullptr) ::operator delete(heap_);
    heap_ = nullptr;
    capacity_ = 0;
  }
  // Takes `o`'s addresses (its heap storage, or a copy of its inline
  // ones) and leaves it empty and inline.
  void steal(AddressList& o) noexcept {
    size_ = o.size_;
    heap_ = o.heap_;
    capacity_ = o.capacity_;
    if (heap_ == nullptr) std::memcpy(inline_, o.inline_, sizeof inline_);  // fixed size: inlined, no call
    o.heap_ = nullptr;
    o.capacity_ = 0;
    o.size_ = 0;
  }

  // The whole inline buffer, used or not: a copy of fixed size is a few
  // moves, where one of size_ addresses is a call to memcpy.
  void copy_inline(const AddressList& o) noexcept {
    size_ = o.size_;
    std::memcpy(inline_, o.inline_, sizeof inline_);
  }

  IpAddress* heap_ = nullptr;  // set only beyond kInline addresses
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;  // of heap_
  alignas(IpAddress) unsigned char inline_[kInline * sizeof(IpAddress)];
};

}  // namespace rserpool
