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
  std::string state_path, survivors_path, out = "-";
  app.add_option("--state", state_path, "Client state file")->required();
  app.add_option("--survivors", survivors_path, "Survivor set U3 (S/survivors.msg from secagg-collect masked)")->required();
  auto* out_opt = app.add_option("-o,--output", out,
                                 "Where to write the unmask-shares message (default: stdout; with --connect: nowhere "
                                 "unless given)");
  tool::NetFlags net;
  net.recv_required = false;
  tool::add_net_flags(app, net,
                      "Socket mode: where to save the aggregate the server answers with once the session is done "
                      "(optional)");
  return tool::run(app, argc, argv, [&] {
    const bool networked = tool::net_mode(net);
    if (!networked || out_opt->count() > 0) tool::check_output_target(out);
    StateLock lock;
    ClientState st = tool::read_state(state_path, lock);
    Envelope survivors = tool::read_message(survivors_path, &st.params, MsgType::survivors);
    const uint8_t before = st.stage;
    const bool had_input = !forgot_input(st);
    Bytes msg;
    try {
      msg = client_unmask(st, survivors, survivors_path);
    } catch (const Error&) {
      // Refused because round 2 ended without this client: the input digest goes now, not
      // whenever (if ever) the state file is deleted.
      if (had_input && forgot_input(st)) tool::write_state(lock, st);
      throw;
    }
    // The state records the answer before the answer goes anywhere, so no crash can lead to a
    // second, different one; running the step again with the same survivor set sends the same
    // answer again.
    const bool fresh = st.stage != before;  // else a rerun: the state already holds msg
    tool::finish_client_step(net, networked, lock, st, fresh, msg, out, out_opt->count() > 0, MsgType::vector, kServerId);
  });
}
