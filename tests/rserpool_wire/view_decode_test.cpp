// decode_handle_resolution_view (the registrar's allocation-free path for
// HANDLE_RESOLUTION, issue 16) against the full decoder: wherever the view
// decoder gives a view, decode() gives the same HandleResolution with
// nothing to report; it declines everything else (the caller then
// decodes fully). Exercised on built messages, every truncation, length
// field and single-byte corruption of them.
#include <gtest/gtest.h>

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
