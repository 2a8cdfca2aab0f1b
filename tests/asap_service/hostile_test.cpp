// What one hostile peer can make an ASAP endpoint do: a flood of
// undecodable ASAP control messages on one association gets the protocol's
// error reply for each, is counted, writes a handful of log lines, and the
// endpoint keeps serving. TCP mapping on the host, kernel SCTP in UML.
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "harness.hpp"
#include "rserpool/asap/service/control_channel.hpp"
#include "rserpool/base/log.hpp"
#include "rserpool/transport/endpoint.hpp"

namespace asaptest {
namespace {

namespace asap = rserpool::asap;
namespace transport = rserpool::transport;
namespace wire = rserpool::wire;

struct Client : transport::AssociationHandler {
  bool up = false;
  std::size_t errors = 0;  // ASAP_ERROR replies
  std::vector<wire::asap::Error> first_errors;
  std::vector<std::string> data;
  void on_up(transport::Association&, const transport::AssociationInfo&) override { up = true; }
  void on_message(transport::Association&, transport::Message&& m) override {
    if (m.ppid != asap::kAsapPpid) {
      data.push_back(text(m.payload));
      return;
    }
    auto d = wire::asap::decode(m.payload);
    if (!d) return;
    if (const auto* e = std::get_if<wire::asap::Error>(&d->message)) {
      ++errors;
      if (first_errors.size() < 3) first_errors.push_back(*e);
    }
  }
};

TEST(AsapHostile, FloodOfUndecodableControlMessagesIsAnsweredCountedAndLoggedSparingly) {
  boost::asio::io_context io;
  transport::EndpointConfig listen;
  listen.local_addresses = {IpAddress::v4_loopback()};
  listen.kind = test_kind();
  auto server = asap::PeSessionServer::open(io, listen, PoolHandle("HostilePool"));
  ASSERT_TRUE(server) << server.error().message();
  (*server)->on_data([&](asap::PuId pu, transport::Message&& m) { (*server)->send(pu, std::move(m)); });

  transport::EndpointConfig cc;
  cc.kind = test_kind();
  cc.remote_addresses = {IpAddress::v4_loopback()};
  cc.remote_port = (*server)->port();
  cc.send_queue_limit = 20'000;
  cc.send_queue_bytes = 16 << 20;
  auto client = std::make_shared<Client>();
  auto assoc = transport::connect(io, cc, client);
  ASSERT_TRUE(assoc);
  ASSERT_TRUE(run_until(io, [&] { return client->up; }));

  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  auto logger = rserpool::log::get("asap");
  logger->sinks().push_back(sink);
  // An ASAP message of an unknown type whose top bits say "report"
  // (RFC 5354 3.13: Unrecognized Message).
  const Bytes bad{0x7f, 0x00, 0x00, 0x08, 0xde, 0xad, 0xbe, 0xef};
  constexpr std::size_t kFlood = 10'000;
  std::size_t sent = 0;
  while (sent < kFlood) {
    // In bursts the transports' queues hold; the replies are read meanwhile.
    for (int i = 0; i < 500 && sent < kFlood; ++i, ++sent)
      ASSERT_TRUE((*assoc)->send(transport::Message{asap::kAsapPpid, 0, false, bad}).ok());
    run_for(io, 5ms);
  }
  ASSERT_TRUE(run_until(io, [&] { return (*server)->counters().decode_errors == kFlood; }, 30s))
      << (*server)->counters().decode_errors;
  ASSERT_TRUE(run_until(io, [&] { return client->errors == kFlood; }, 10s)) << client->errors;
  logger->sinks().pop_back();
  ASSERT_FALSE(client->first_errors.empty());
  ASSERT_FALSE(client->first_errors[0].causes.empty());
  EXPECT_EQ(client->first_errors[0].causes[0].code, rserpool::ErrorCause::unrecognized_message);
  const std::string text_logged = captured.str();
  const auto lines = std::count(text_logged.begin(), text_logged.end(), '\n');
  std::printf("%zu undecodable ASAP messages: %zu ASAP_ERROR replies, %ld lines logged\n", kFlood, client->errors,
              static_cast<long>(lines));
  EXPECT_LE(lines, 20);
  // Still serving on the same association.
  ASSERT_TRUE((*assoc)->send(transport::Message{0, 0, false, text("still-there")}).ok());
  ASSERT_TRUE(run_until(io, [&] { return !client->data.empty(); }));
  EXPECT_EQ(client->data.back(), "still-there");
  (*assoc)->close();
  run_for(io, 20ms);
}

}  // namespace
}  // namespace asaptest
