// secagg-unmask: round 4 (Unmasking) for one client.
#include "client.hpp"
#include "common.hpp"
#include "error.hpp"

using namespace secagg;

int main(int argc, char** argv) {
  CLI::App app{
      "Round 4 (Unmasking): check the survivor set U3 (a subset of U2, at least t clients, including this one) and "
      "reveal shares of b_v for every v in U3 and of the mask key of every v in U2 \\ U3 - never both for one v, and "
      "only once per session (the state file records the answer; run again with the same survivor set, it writes the "
      "same answer again).",
      "secagg-unmask"};
  tool::ClientStep step;
  tool::add_step_inputs(app, step, "Client state file", "--survivors",
                        "Survivor set U3 (S/survivors.msg from secagg-collect masked)");
  step.net.recv_required = false;
  tool::add_step_outputs(app, step, "unmask-shares",
                         "Socket mode: where to save the aggregate the server answers with once the session is done "
                         "(optional)");
  return tool::run(app, argc, argv, [&] {
    // The state records the answer before the answer goes anywhere, so no crash can lead to a
    // second, different one; running the step again with the same survivor set sends the same
    // answer again.
    tool::run_client_step(step, MsgType::survivors, MsgType::vector, /*reply_to_client=*/false,
                          [&](ClientState& st, StateLock& lock, const Envelope& survivors) {
                            const bool had_input = !forgot_input(st);
                            try {
                              return client_unmask(st, survivors, step.in_path);
                            } catch (const Error&) {
                              // Refused because round 2 ended without this client: the input
                              // digest goes now, not whenever (if ever) the state file is deleted.
                              if (had_input && forgot_input(st)) tool::write_state(lock, st);
                              throw;
                            }
                          });
  });
}
