// secagg-share: round 1 (ShareKeys) for one client.
#include <fmt/format.h>

#include "client.hpp"
#include "common.hpp"
#include "protocol.hpp"
#include "random.hpp"

using namespace secagg;

int main(int argc, char** argv) {
  CLI::App app{
      "Round 1 (ShareKeys): check the roster U1, draw the self-mask seed b, Shamir-share b and the mask secret key "
      "among U1 (threshold t), and encrypt each share for its holder. Updates the state file. Run again with the same "
      "roster, it writes the same message again.",
      "secagg-share"};
  std::string state_path, roster_path, out = "-";
  app.add_option("--state", state_path, "Client state file (from secagg-keygen)")->required();
  app.add_option("--roster", roster_path, "Round 0 roster (S/roster.msg from secagg-collect keys)")->required();
  auto* out_opt = app.add_option("-o,--output", out,
                                 "Where to write the share-keys message (default: stdout; with --connect: nowhere "
                                 "unless given)");
  tool::NetFlags net;
  tool::add_net_flags(app, net,
                      "Socket mode: where to save this client's inbox from the server, the file secagg-mask --inbox "
                      "reads");
  unsigned threads = default_threads();
  app.add_option("--threads", threads, "Threads for the key agreements (default: all cores)")->check(CLI::Range(1u, 256u));
  return tool::run(app, argc, argv, [&] {
    const bool networked = tool::net_mode(net);
    if (!networked || out_opt->count() > 0) tool::check_output_target(out);
    StateLock lock;
    ClientState st = tool::read_state(state_path, lock);
    Envelope roster = tool::read_message(roster_path, &st.params, MsgType::roster);
    random_context(fmt::format("share {}", st.id));
    const uint8_t before = st.stage;
    Bytes msg = client_share(st, roster, roster_path, threads);
    // The state (with the message) is committed before the message goes anywhere: a lost
    // message is sent again, the same, by running the step again with the same roster.
    const bool fresh = st.stage != before;  // else a rerun: the state already holds msg
    tool::finish_client_step(net, networked, lock, st, fresh, msg, out, out_opt->count() > 0, MsgType::inbox, st.id);
  });
}
