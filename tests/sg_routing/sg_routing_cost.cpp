// Runs N gateway routing decisions, for callgrind instruction counts
// (tests/bench/instructions-per-op.sh): route lookup, flow classification
// and the distributor's choice, for messages of calls in progress on three
// PEs. `sg_routing_cost N`.
#include <cstdlib>
#include <string>

#include "sg/routing/pool_distributor.hpp"
#include "sg/routing/route_table.hpp"

namespace {

class Rotate : public sg::MemberSelector {
 public:
  rserpool::PeIdentifier pick(const sg::Placement&, std::span<const sg::Candidate> c) override { return c[n_++ % c.size()].id; }

 private:
  std::size_t n_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 0;
  sg::RouteTable routes;
  sg::RoutingKey key;
  key.dpc = {200, 0};
  key.service_indicators.set(sg::kSiIsup);
  (void)routes.add(sg::Route{"isup", key, rserpool::PoolHandle("gwc")});
  Rotate rotate;
  sg::PoolDistributor d(sg::DistributorConfig{}, rotate);
  const sg::TimePoint t{};
  std::vector<rserpool::PoolElementParameter> pool(3);
  for (rserpool::PeIdentifier pe : {1U, 2U, 3U}) pool[pe - 1].id = pe;
  (void)d.handlespace(pool, t);
  for (rserpool::PeIdentifier pe : {1U, 2U, 3U}) (void)d.association_up(pe, t);
  sg::MtpMessage m;
  m.opc = 100;
  m.dpc = 200;
  m.si = sg::kSiIsup;
  for (std::uint16_t cic = 0; cic < 1000; ++cic) {
    m.data = sg::ss7::encode_iam(cic, "4930123456");
    (void)d.message(m, t);
  }
  std::size_t sent = 0;
  for (long i = 0; i < n; ++i) {
    m.data = sg::ss7::encode_anm(static_cast<std::uint16_t>(i % 1000));
    const auto c = sg::classify(m);
    if (routes.lookup(m, c.cic) == nullptr) return 1;
    sent += d.message(std::move(m), t).size();
  }
  return sent == static_cast<std::size_t>(n) ? 0 : 2;
}
