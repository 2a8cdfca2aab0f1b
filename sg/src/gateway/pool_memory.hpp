#pragma once
// What a restarted gateway remembers of its previous run: per pool, the PE
// list it placed its flows by (each PE's identifier and rendezvous weight),
// in a small text file rewritten whenever that list changes once settled.
// At start-up the pool's list is known whole as soon as it equals the
// remembered one, so the placement settle can end then instead of after
// placement-settle (docs/gateway.md, "A gateway that starts"). Any
// difference (a PE that died while the gateway was down, a newcomer, a
// file written before the last change) leaves the settle's timer to
// decide: equality is the only shortcut.
//
// Format, one line per PE: `POOL PE_ID_HEX WEIGHT` (the pool handle's
// bytes hex-encoded, so any handle fits a word); `#` starts a comment.
#include <cstdint>
#include <map>
#include <string>

#include "rserpool/base/result.hpp"
#include "rserpool/wire/types.hpp"
#include "sg/routing/membership.hpp"

namespace sg::gateway {

// PE identifier -> its rendezvous weight.
using RememberedList = std::map<rserpool::PeIdentifier, std::uint32_t>;
// Pool handle -> its list.
using RememberedPools = std::map<std::string, RememberedList>;

// The list as the hash sees it.
RememberedList remembered_of(const Membership& m);

// A missing file is an empty memory (first start); a malformed one is an
// error (the gateway then starts without a memory and says why).
rserpool::Result<RememberedPools, std::string> read_pool_memory(const std::string& path);
// Written to PATH.tmp, then renamed: a crash leaves the old or the new file.
rserpool::Result<void, std::string> write_pool_memory(const std::string& path, const RememberedPools& pools);

}  // namespace sg::gateway
