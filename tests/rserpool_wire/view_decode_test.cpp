// decode_handle_resolution_view (the registrar's allocation-free path for
// HANDLE_RESOLUTION, issue 16) against the full decoder: wherever the view
// decoder gives a view, decode() gives the same HandleResolution with
// nothing to report; it declines everything else (the caller then
// decodes fully). Exercised on built messages, every truncation, length
// field and single-byte corruption of them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// decode_registration_straight (the common shape in one pass) against the
// TLV walker it stands in front of: wherever it decodes, the walker gives
// the same value (and so, by the checks above, does decode()). It must
// also take the common shapes, or the registrar would never use it.

// A view full of values no decode of a common-shape message leaves: what a
// straight read does not overwrite shows.
asap::RegistrationView dirty_view() {
  asap::RegistrationView d;
  auto& pe = d.pool_element;
  pe.id = 1;
  pe.home_registrar = 2;
  pe.registration_life_ms = 3;
  pe.user_transport.protocol = TransportProtocol::dccp;
  pe.user_transport.port = 4;
  pe.user_transport.use = TransportUse::data_and_control;
  pe.user_transport.dccp_service_code = 5;
  pe.user_transport.addresses.assign(6, IpAddress::v4({192, 0, 2, 6}));
  pe.user_transport.opaque = {7, 7};
  pe.policy.type = PolicyType::least_used_dpf;
  pe.policy.weight = pe.policy.priority = pe.policy.load = 8;
  pe.policy.degradation = pe.policy.dpf = pe.policy.distance = 8;
  pe.policy.raw_value = {8};
  auto& a = pe.asap_transport.emplace();
  a.protocol = TransportProtocol::tcp;
  a.use = TransportUse::data_and_control;
  a.dccp_service_code = 9;
  a.opaque = {9};
  a.addresses = {IpAddress::v4({192, 0, 2, 9})};
  return d;
}

// Whether the straight reader decoded `b`; fails the test where it
// decoded something the walker refuses or reads otherwise.
bool check_straight_agrees(const Bytes& b) {
  asap::RegistrationView straight = dirty_view();
  if (!asap::decode_registration_straight(b, straight)) return false;
  asap::RegistrationView walked;
  EXPECT_TRUE(asap::decode_registration_walked(b, walked)) << "taken straight, refused by the walker";
  EXPECT_EQ(straight.pool_handle.data(), walked.pool_handle.data());
  EXPECT_EQ(straight.pool_handle.size(), walked.pool_handle.size());
  EXPECT_EQ(straight.pool_element, walked.pool_element);
  check_registration_agrees(b);
  return true;
}

// Truncations, length fields and single-byte corruptions of `golden`.
void check_straight_mutations(const Bytes& golden, std::mt19937& rng) {
  for (std::size_t n = 0; n <= golden.size() + 4; ++n) {
    Bytes cut(golden.begin(), golden.begin() + static_cast<std::ptrdiff_t>(std::min(n, golden.size())));
    cut.resize(n, 0);
    check_straight_agrees(cut);
    if (n >= 4) {
      for (std::size_t length : {n - 4, n - 1, n, n + 1, n + 4}) {
        Bytes l = cut;
        l[2] = static_cast<std::uint8_t>(length >> 8);
        l[3] = static_cast<std::uint8_t>(length);
        check_straight_agrees(l);
      }
    }
  }
  for (std::size_t i = 0; i < golden.size(); ++i) {
    for (int k = 0; k < 8; ++k) {
      Bytes b = golden;
      b[i] = static_cast<std::uint8_t>(rng());
      check_straight_agrees(b);
    }
    for (int v : {0x00, 0x01, 0x03, 0x04, 0x05, 0x08, 0x0a, 0x10, 0x14, 0xff}) {
      Bytes b = golden;
      b[i] = static_cast<std::uint8_t>(v);
      check_straight_agrees(b);
    }
  }
}

PolicyParameters policy_of(PolicyType t) {
  PolicyParameters p;
  p.type = t;
  switch (t) {
    case PolicyType::weighted_round_robin:
    case PolicyType::weighted_random: p.weight = 11; break;
    case PolicyType::priority: p.priority = 12; break;
    case PolicyType::least_used:
    case PolicyType::randomized_least_used: p.load = 13; break;
    case PolicyType::least_used_degradation:
    case PolicyType::priority_least_used:
      p.load = 14;
      p.degradation = 15;
      break;
    case PolicyType::weighted_random_dpf:
      p.weight = 16;
      p.dpf = 17;
      p.distance = 18;
      break;
    case PolicyType::least_used_dpf:
      p.load = 19;
      p.dpf = 20;
      p.distance = 21;
      break;
    default: break;
  }
  return p;
}

struct StraightSample {
  Bytes bytes;
  bool common;  // of the shape the straight reader takes
};

std::vector<StraightSample> straight_samples() {
  const IpAddress v4 = IpAddress::v4({10, 0, 0, 1});
  const IpAddress v6 = *IpAddress::parse("2001:db8::1");
  const std::vector<std::vector<IpAddress>> lists = {{v4}, {v6}, {v4, v6}, {v6, v4, v4, v6}, {v4, v4, v6, v4, v4}};
  const TransportProtocol protocols[] = {TransportProtocol::sctp, TransportProtocol::tcp, TransportProtocol::udp,
                                         TransportProtocol::udp_lite, TransportProtocol::dccp};
  const PolicyType policies[] = {PolicyType::round_robin,          PolicyType::weighted_round_robin,
                                 PolicyType::random,               PolicyType::weighted_random,
                                 PolicyType::priority,             PolicyType::least_used,
                                 PolicyType::least_used_degradation, PolicyType::priority_least_used,
                                 PolicyType::randomized_least_used, PolicyType::weighted_random_dpf,
                                 PolicyType::least_used_dpf};
  std::vector<StraightSample> out;
  std::size_t k = 0;
  for (std::string name : {std::string("p"), std::string("ab"), std::string("abc"), std::string("pool"),
                           std::string("pool-12"), std::string(64, 'x')}) {
    for (TransportProtocol protocol : protocols) {
      for (const auto& list : lists) {
        for (bool with_asap : {false, true}) {
          asap::Registration r;
          r.pool_handle = PoolHandle{name};
          r.pool_element.id = 0x1234 + static_cast<PeIdentifier>(k);
          r.pool_element.home_registrar = k % 3 == 0 ? 0 : 0x5e000001;
          r.pool_element.registration_life_ms = k % 4 == 0 ? kInfiniteLifetime : 30000;
          r.pool_element.user_transport.protocol = protocol;
          r.pool_element.user_transport.port = static_cast<std::uint16_t>(4711 + k);
          if (protocol == TransportProtocol::sctp && k % 2 == 0) {
            r.pool_element.user_transport.use = TransportUse::data_and_control;
          }
          r.pool_element.user_transport.addresses = list;
          r.pool_element.policy = policy_of(policies[k % std::size(policies)]);
          if (with_asap) {
            TransportParameter a;
            a.port = 3863;
            a.addresses = {k % 2 == 0 ? v4 : v6};
            r.pool_element.asap_transport = a;
          }
          out.push_back({asap::encode(r), protocol != TransportProtocol::dccp && list.size() <= AddressList::kInline});
          ++k;
        }
      }
    }
  }
  return out;
}

TEST(RegistrationStraight, TakesTheCommonShapesAsTheWalkerReadsThem) {
  std::size_t taken = 0;
  for (const auto& s : straight_samples()) {
    EXPECT_EQ(check_straight_agrees(s.bytes), s.common);
    if (s.common) ++taken;
  }
  EXPECT_EQ(taken, 192U);  // 6 handles x 4 protocols x 4 address lists x ASAP transport or not
}

TEST(RegistrationStraight, NeverDisagreesWithTheWalkerOnMutatedMessages) {
  std::mt19937 rng(3030);
  const auto samples = straight_samples();
  for (std::size_t i = 0; i < samples.size(); i += 7) check_straight_mutations(samples[i].bytes, rng);
}

// Every ASAP message of the fuzzer's seed corpus (goldens, rsplib's
// frames), and the mutations of each.
TEST(RegistrationStraight, NeverDisagreesWithTheWalkerOnTheFuzzCorpus) {
  std::mt19937 rng(3031);
  std::size_t files = 0, taken = 0;
  for (const auto& entry : std::filesystem::directory_iterator(SG_ASAP_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    const Bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++files;
    if (check_straight_agrees(b)) ++taken;
    check_straight_mutations(b, rng);
  }
  EXPECT_GT(files, 20U);
  EXPECT_GE(taken, 1U) << "the golden REGISTRATION is of the common shape";
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
