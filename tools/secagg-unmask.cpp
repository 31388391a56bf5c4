// secagg-unmask: round 4 (Unmasking) for one client; with the subcommand sign, round 3
// (ConsistencyCheck) of an active session.
#include <fmt/format.h>

#include "client.hpp"
#include "common.hpp"
#include "error.hpp"

using namespace secagg;

int main(int argc, char** argv) {
  CLI::App app{
      "Round 4 (Unmasking): check the survivor set U3 (a subset of U2, at least t clients, including this one) and "
      "reveal shares of b_v for every v in U3 and of the mask key of every v in U2 \\ U3 - never both for one v, and "
      "only once per session (the state file records the answer; run again with the same survivor set, it writes the "
      "same answer again). In an active session the client first signs U3 (secagg-unmask sign) and reveals shares "
      "only against the consistency message (--consistency) holding at least t valid signatures over that same U3.",
      "secagg-unmask"};
  tool::ClientStep step;
  tool::add_step_inputs(app, step, "Client state file", "--survivors",
                        "Survivor set U3 (S/survivors.msg from secagg-collect masked)");
  std::string consistency_path;
  CLI::Option* consistency_opt = app.add_option(
      "--consistency", consistency_path,
      "Active sessions: the consistency message of round 3 (S/consistency.msg from secagg-collect consistency); "
      "required there, refused elsewhere");
  step.net.recv_required = false;
  tool::add_step_outputs(app, step, "unmask-shares",
                         "Socket mode: where to save the aggregate the server answers with once the session is done "
                         "(optional)");
  // Required without the subcommand only (checked once the command line is parsed).
  CLI::Option* round4[] = {app.get_option("--state"), app.get_option("--survivors")};
  for (CLI::Option* o : round4) o->required(false);

  tool::ClientStep sign;
  CLI::App* sign_cmd = app.add_subcommand(
      "sign", "Round 3 (ConsistencyCheck), active sessions: check the survivor set U3 as round 4 does and sign it "
              "(the session, this client's id and U3) with the client's round-0 signing key, which its certified "
              "identity signed. The client never signs a different U3 in this session; run again with the same "
              "survivor set, it writes the same signature again.");
  tool::add_step_inputs(*sign_cmd, sign, "Client state file", "--survivors",
                        "Survivor set U3 (S/survivors.msg from secagg-collect masked)");
  tool::add_step_outputs(*sign_cmd, sign, "consistency-signature",
                         "Socket mode: where to save the server's consistency message (U3 and the signatures over "
                         "it), the file secagg-unmask --consistency reads");
  app.require_subcommand(0, 1);
  app.parse_complete_callback([&] {
    if (sign_cmd->parsed()) {
      for (CLI::Option* o : {round4[0], round4[1], consistency_opt})
        if (o->count() > 0)
          throw CLI::ValidationError(fmt::format("{} is an option of round 4, given before 'sign'", o->get_name()));
      return;
    }
    for (CLI::Option* o : round4)
      if (o->count() == 0) throw CLI::RequiredError(o->get_name());
  });
  return tool::run(app, argc, argv, [&] {
    if (sign_cmd->parsed()) {
      // The signature is recorded in the state before it goes anywhere: no crash can lead to a
      // second signature over another set.
      tool::run_client_step(sign, MsgType::survivors, MsgType::consistency, /*reply_to_client=*/false,
                            [&](ClientState& st, StateLock& lock, const Envelope& survivors) {
                              const bool had_input = !forgot_input(st);
                              try {
                                return client_sign(st, survivors, sign.in_path);
                              } catch (const Error&) {
                                if (had_input && forgot_input(st)) tool::write_state(lock, st);
                                throw;
                              }
                            });
      return;
    }
    // The state records the answer before the answer goes anywhere, so no crash can lead to a
    // second, different one; running the step again with the same survivor set sends the same
    // answer again.
    tool::run_client_step(step, MsgType::survivors, MsgType::vector, /*reply_to_client=*/false,
                          [&](ClientState& st, StateLock& lock, const Envelope& survivors) {
                            std::optional<Envelope> consistency;
                            if (consistency_opt->count() > 0) {
                              if (!st.params.active())
                                throw Error(Exit::usage, fmt::format("{}: an honest-but-curious session has no round "
                                                                     "3: --consistency belongs to active sessions",
                                                                     step.state_path));
                              consistency = tool::read_message(consistency_path, &st.params, MsgType::consistency);
                            }
                            const bool had_input = !forgot_input(st);
                            try {
                              return client_unmask(st, survivors, step.in_path, consistency ? &*consistency : nullptr,
                                                   consistency_path);
                            } catch (const Error&) {
                              // Refused because round 2 ended without this client: the input
                              // digest goes now, not whenever (if ever) the state file is deleted.
                              if (had_input && forgot_input(st)) tool::write_state(lock, st);
                              throw;
                            }
                          });
  });
}
