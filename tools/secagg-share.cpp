// secagg-share: round 1 (ShareKeys) for one client.
#include <fmt/format.h>

#include "client.hpp"
#include "graph.hpp"
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
  tool::ClientStep step;
  tool::add_step_inputs(app, step, "Client state file (from secagg-keygen)", "--roster",
                        "Round 0 roster from secagg-collect keys: S/roster.msg, or in a SecAgg+ session the "
                        "client's own S/roster-ID.msg (its neighbours' entries, with proofs)");
  tool::add_step_outputs(app, step, "share-keys",
                         "Socket mode: where to save this client's inbox from the server, the file secagg-mask "
                         "--inbox reads");
  unsigned threads = default_threads();
  app.add_option("--threads", threads, "Threads for the key agreements (default: all cores)")->check(CLI::Range(1u, 256u));
  return tool::run(app, argc, argv, [&] {
    // The state (with the message) is committed before the message goes anywhere: a lost
    // message is sent again, the same, by running the step again with the same roster.
    // SecAgg+ takes a neighbourhood message: client_share says so of a whole roster given instead.
    const auto roster_type = [](const Params& p) {
      return is_secagg_plus(p) ? std::nullopt : std::optional(MsgType::roster);
    };
    tool::run_client_step(step, roster_type, MsgType::inbox, /*reply_to_client=*/true,
                          [&](ClientState& st, StateLock&, const Envelope& roster) {
                            random_context(fmt::format("share {}", st.id));
                            return client_share(st, roster, step.in_path, threads);
                          });
  });
}
