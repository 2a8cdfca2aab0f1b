#pragma once
// Weighted rendezvous hashing (highest random weight, Thaler & Ravishankar
// 1998; the weighted form of Schindelhauer & Schomaker 2005) over a pool's
// members: each (key, PE) pair gets a pseudo-random score, the PE with the
// highest score wins. Two gateways that see the same members choose the same
// PE for every key without talking to each other; when a PE leaves, only
// its keys move (each to its own second choice), and a PE that joins takes
// about 1/(n+1) of the keys from the others.
//
// The hash is ours and fixed (not std::hash, which may differ between
// builds): the two gateways of a pair may run different releases.
#include <cstdint>
#include <span>

#include "rserpool/wire/types.hpp"
#include "sg/routing/flow.hpp"
#include "sg/routing/pool_distributor.hpp"

namespace sg {

// The key of a flow: every field of FlowKey (an ISUP circuit's point codes
// are already ordered by classify(), so both directions share the key).
std::uint64_t rendezvous_key(const FlowKey& flow) noexcept;
// The key of a failed PE's estate (its heir).
std::uint64_t rendezvous_heir_key(rserpool::PeIdentifier failed) noexcept;
// The pseudo-random draw of (key, pe), uniform over 64 bits.
std::uint64_t rendezvous_draw(std::uint64_t key, rserpool::PeIdentifier pe) noexcept;
// A PE's weight: the policy's weight for the weighted policies (RFC 5356
// WRR, WRAND, WRAND-DPF; 0 = takes nothing while any other PE takes
// something), 1 for every other policy (load-based policies cannot be
// honoured by a hash: configure `placement policy` for them).
std::uint32_t rendezvous_weight(const rserpool::PolicyParameters* policy) noexcept;
// The winner among `candidates` (never empty) for `key`; ties (equal
// draws) go to the lower identifier.
rserpool::PeIdentifier rendezvous_pick(std::uint64_t key, std::span<const Candidate> candidates) noexcept;

class RendezvousMemberSelector : public MemberSelector {
 public:
  rserpool::PeIdentifier pick(const Placement& what, std::span<const Candidate> candidates) override;
  bool shared() const override { return true; }
};

}  // namespace sg
