// decode_handle_resolution_view (the registrar's allocation-free path for
// HANDLE_RESOLUTION, issue 16) against the full decoder: wherever the view
// decoder gives a view, decode() gives the same HandleResolution with
// nothing to report; it declines everything else (the caller then
// decodes fully). Exercised on built messages, every truncation, length
// field and single-byte corruption of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "rserpool/wire/asap.hpp"

namespace {

using namespace rserpool;
namespace asap = rserpool::wire::asap;

// The view decoder's answer agrees with decode(), or it declined.
void check_agrees(const Bytes& b) {
  const auto v = asap::decode_handle_resolution_view(b);
  if (!v) return;
  auto d = asap::decode(b);
  ASSERT_TRUE(d) << "view accepted what decode() rejects";
  EXPECT_TRUE(d.value().unrecognized.empty());
  const auto* r = std::get_if<asap::HandleResolution>(&d.value().message);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->subscribe, v->subscribe);
  EXPECT_EQ(r->pool_handle, PoolHandle(v->pool_handle));
  EXPECT_EQ(r->items, v->items);
}

std::vector<Bytes> samples() {
  std::vector<Bytes> out;
  for (std::string name : {std::string("p"), std::string("pool"), std::string("pool-12"), std::string(64, 'x')}) {
    for (bool s : {false, true}) {
      asap::HandleResolution r;
      r.subscribe = s;
      r.pool_handle = PoolHandle{name};
      out.push_back(asap::encode(r));
      r.items = 3;
      out.push_back(asap::encode(r));
    }
  }
  return out;
}

TEST(HandleResolutionView, PlainFormsDecodeAsTheFullDecoderDoes) {
  for (const Bytes& b : samples()) {
    auto v = asap::decode_handle_resolution_view(b);
    ASSERT_TRUE(v);
    check_agrees(b);
  }
}

TEST(HandleResolutionView, DeclinesWhatIsNotThePlainForm) {
  asap::HandleResolution r;
  r.pool_handle = PoolHandle{std::string(65, 'x')};  // over kMaxPoolHandleSize
  EXPECT_FALSE(asap::decode_handle_resolution_view(asap::encode(r)));
  // Another message type.
  EXPECT_FALSE(asap::decode_handle_resolution_view(asap::encode(asap::Deregistration{PoolHandle{"pool"}, 7})));
  // An unknown parameter after the handle: the full decoder reports or skips it.
  r.pool_handle = PoolHandle{"pool"};
  Bytes b = asap::encode(r);
  const Bytes unknown{0xc0, 0x01, 0x00, 0x08, 1, 2, 3, 4};
  b.insert(b.end(), unknown.begin(), unknown.end());
  b[3] = static_cast<std::uint8_t>(b.size());
  EXPECT_FALSE(asap::decode_handle_resolution_view(b));
  // The option repeated.
  r.items = 3;
  b = asap::encode(r);
  const Bytes option(b.end() - 8, b.end());
  b.insert(b.end(), option.begin(), option.end());
  b[3] = static_cast<std::uint8_t>(b.size());
  EXPECT_FALSE(asap::decode_handle_resolution_view(b));
  EXPECT_FALSE(asap::decode(b));  // and the full decoder refuses it
}

TEST(HandleResolutionView, TruncationsLengthsAndCorruptionsNeverDisagree) {
  std::mt19937 rng(16);
  for (const Bytes& golden : samples()) {
    for (std::size_t n = 0; n <= golden.size() + 3; ++n) {
      Bytes cut(golden.begin(), golden.begin() + static_cast<std::ptrdiff_t>(std::min(n, golden.size())));
      cut.resize(n, 0);
      check_agrees(cut);
      if (n >= 4) {
        for (std::size_t length : {n - 1, n, n + 1, std::size_t{4}, std::size_t{7}}) {
          Bytes l = cut;
          l[2] = static_cast<std::uint8_t>(length >> 8);
          l[3] = static_cast<std::uint8_t>(length);
          check_agrees(l);
        }
      }
    }
    for (std::size_t i = 0; i < golden.size(); ++i) {
      for (int k = 0; k < 16; ++k) {
        Bytes b = golden;
        b[i] = static_cast<std::uint8_t>(rng());
        check_agrees(b);
      }
    }
  }
}

}  // namespace

// decode_registration_view, the same way: the registrar's REGISTRATION
// path decodes the PE parameter straight into the value it keeps.
namespace {

// The registrar decodes every REGISTRATION into one reused view (its
// address list's storage reused): whatever an earlier decode, failed or
// not, left in it, the result must be the fresh decode's.
asap::RegistrationView& reused_view() {
  static asap::RegistrationView v = [] {
    asap::RegistrationView d;
    d.pool_element.id = 99;
    d.pool_element.home_registrar = 0x77;
    d.pool_element.registration_life_ms = 5;
    d.pool_element.user_transport.protocol = TransportProtocol::tcp;
    d.pool_element.user_transport.port = 9;
    d.pool_element.user_transport.use = TransportUse::data_and_control;
    d.pool_element.user_transport.addresses.assign(5, IpAddress::v4({192, 0, 2, 9}));
    d.pool_element.policy.type = PolicyType::least_used;
    d.pool_element.policy.load = 3;
    d.pool_element.asap_transport.emplace().addresses = {IpAddress::v4({192, 0, 2, 10})};
    return d;
  }();
  return v;
}

void check_registration_agrees(const Bytes& b) {
  const auto v = asap::decode_registration_view(b);
  asap::RegistrationView& reused = reused_view();
  const bool reused_ok = asap::decode_registration_view(b, reused);
  EXPECT_EQ(reused_ok, v.has_value()) << "decoding into a reused view decides otherwise";
  if (v && reused_ok) {
    EXPECT_EQ(reused.pool_handle.size(), v->pool_handle.size());
    EXPECT_TRUE(std::equal(reused.pool_handle.begin(), reused.pool_handle.end(), v->pool_handle.begin(),
                           v->pool_handle.end()));
    EXPECT_EQ(reused.pool_element, v->pool_element) << "a reused view kept state from an earlier decode";
  }
  if (!v) return;
  auto d = asap::decode(b);
  ASSERT_TRUE(d) << "view accepted what decode() rejects";
  EXPECT_TRUE(d.value().unrecognized.empty());
  const auto* r = std::get_if<asap::Registration>(&d.value().message);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->pool_handle, PoolHandle(v->pool_handle));
  EXPECT_EQ(r->pool_element, v->pool_element);
}

std::vector<Bytes> registration_samples() {
  std::vector<Bytes> out;
  for (std::string name : {std::string("p"), std::string("pool-12"), std::string(64, 'x')}) {
    asap::Registration r;
    r.pool_handle = PoolHandle{name};
    r.pool_element.id = 0x1234;
    r.pool_element.registration_life_ms = 30000;
    r.pool_element.user_transport.port = 4711;
    r.pool_element.user_transport.addresses = {IpAddress::v4({10, 0, 0, 1})};
    r.pool_element.policy.type = PolicyType::round_robin;
    out.push_back(asap::encode(r));
    r.pool_element.user_transport.addresses.push_back(*IpAddress::parse("2001:db8::1"));
    r.pool_element.policy.type = PolicyType::weighted_random;
    r.pool_element.policy.weight = 7;
    out.push_back(asap::encode(r));
    TransportParameter asap_transport;
    asap_transport.port = 3863;
    asap_transport.addresses = {IpAddress::v4({10, 0, 0, 1})};
    r.pool_element.asap_transport = asap_transport;
    out.push_back(asap::encode(r));
  }
  return out;
}

TEST(RegistrationView, PlainFormsDecodeAsTheFullDecoderDoes) {
  for (const Bytes& b : registration_samples()) {
    auto v = asap::decode_registration_view(b);
    ASSERT_TRUE(v);
    check_registration_agrees(b);
  }
}

TEST(RegistrationView, DeclinesWhatIsNotThePlainForm) {
  auto r = asap::decode(registration_samples().front());
  ASSERT_TRUE(r);
  auto reg = std::get<asap::Registration>(r.value().message);
  // Another message type.
  EXPECT_FALSE(asap::decode_registration_view(asap::encode(asap::Deregistration{PoolHandle{"pool"}, 7})));
  // A handle over kMaxPoolHandleSize.
  auto longer = reg;
  longer.pool_handle = PoolHandle{std::string(65, 'x')};
  EXPECT_FALSE(asap::decode_registration_view(asap::encode(longer)));
  // An unknown parameter after the PE: the full decoder reports or skips it.
  Bytes b = asap::encode(reg);
  const Bytes unknown{0xc0, 0x01, 0x00, 0x08, 1, 2, 3, 4};
  b.insert(b.end(), unknown.begin(), unknown.end());
  b[2] = static_cast<std::uint8_t>(b.size() >> 8);
  b[3] = static_cast<std::uint8_t>(b.size());
  EXPECT_FALSE(asap::decode_registration_view(b));
  auto full = asap::decode(b);
  ASSERT_TRUE(full);
  EXPECT_FALSE(full.value().unrecognized.empty());
  // The PE parameter missing.
  asap::Deregistration d{reg.pool_handle, 1};
  Bytes only_handle = asap::encode(d);
  only_handle[0] = static_cast<std::uint8_t>(asap::MessageType::registration);
  EXPECT_FALSE(asap::decode_registration_view(only_handle));
  EXPECT_FALSE(asap::decode(only_handle));
}

TEST(RegistrationView, TruncationsLengthsAndCorruptionsNeverDisagree) {
  std::mt19937 rng(1616);
  for (const Bytes& golden : registration_samples()) {
    for (std::size_t n = 0; n <= golden.size() + 3; ++n) {
      Bytes cut(golden.begin(), golden.begin() + static_cast<std::ptrdiff_t>(std::min(n, golden.size())));
      cut.resize(n, 0);
      check_registration_agrees(cut);
      if (n >= 4) {
        for (std::size_t length : {n - 1, n, n + 1, std::size_t{4}, std::size_t{7}}) {
          Bytes l = cut;
          l[2] = static_cast<std::uint8_t>(length >> 8);
          l[3] = static_cast<std::uint8_t>(length);
          check_registration_agrees(l);
        }
      }
    }
    for (std::size_t i = 0; i < golden.size(); ++i) {
      for (int k = 0; k < 16; ++k) {
        Bytes b = golden;
        b[i] = static_cast<std::uint8_t>(rng());
        check_registration_agrees(b);
      }
    }
  }
}

// The pool handle's own storage (inline up to kInline bytes, heap beyond)
// keeps the value semantics and the byte-wise order of a byte vector.
TEST(PoolHandleStorage, CopiesMovesAndOrdersLikeBytes) {
  const std::string lengths[] = {"", "a", std::string(PoolHandle::kInline, 'b'),
                                 std::string(PoolHandle::kInline + 1, 'b'), std::string(200, 'c')};
  for (const auto& x : lengths) {
    PoolHandle h{x};
    EXPECT_EQ(h.to_string(), x);
    PoolHandle copy = h;
    EXPECT_EQ(copy, h);
    PoolHandle moved = std::move(copy);
    EXPECT_EQ(moved, h);
    PoolHandle assigned{"zz"};
    assigned = moved;
    EXPECT_EQ(assigned, h);
    assigned = PoolHandle{"short"};
    EXPECT_EQ(assigned.to_string(), "short");
    for (const auto& y : lengths) {
      const Bytes bx(x.begin(), x.end()), by(y.begin(), y.end());
      EXPECT_EQ(PoolHandle{x} < PoolHandle{y}, bx < by) << x.size() << " vs " << y.size();
      EXPECT_EQ(PoolHandle{x} == PoolHandle{y}, bx == by);
    }
  }
  EXPECT_LT(PoolHandle{"ab"}, PoolHandle{"abc"});
  EXPECT_LT(PoolHandle{"abc"}, PoolHandle{"abd"});
}

}  // namespace
