// secagg-keygen: round 0 (AdvertiseKeys) for one client.
#include <optional>
#include <cstdio>

#include <fmt/format.h>

#include "client.hpp"
#include "common.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "params.hpp"
#include "random.hpp"

using namespace secagg;

int main(int argc, char** argv) {
  CLI::App app{
      "Round 0 (AdvertiseKeys): make a client's two X25519 key pairs and its Ed25519 signing key (which signs "
      "every message of the client), save them in a new state file (mode 0600) and write the public keys as a "
      "signed advertise-keys message for secagg-collect keys. Run again with the same params and id, it writes the "
      "same advert again.",
      "secagg-keygen"};
  std::string params_path, state_path, out = "-";
  uint32_t id = 0;
  app.add_option("--params", params_path, "Session parameters (S/params.msg from secagg-collect setup)")->required();
  app.add_option("--id", id, "This client's id, 1..n")->required();
  app.add_option("--state", state_path, "Client state file to create (an existing one of another session or id is not overwritten)")->required();
  auto* out_opt = tool::add_output_option(app, out, "advertise-keys");
  bool insecure = false;
  app.add_flag("--insecure-low-threshold", insecure,
               "Take part even if the session's threshold is not above half of each client's share holders, which "
               "lets the server unmask individual inputs (teaching only); without it such parameters are refused");
  tool::NetFlags net;
  tool::add_net_flags(app, net,
                      "Socket mode: where to save the server's roster (U1), the file secagg-share --roster reads");
  return tool::run(app, argc, argv, [&] {
    const bool networked = tool::net_mode(net);
    if (!networked || out_opt->count() > 0) tool::check_output_target(out);
    Envelope env = tool::read_message(params_path, nullptr, MsgType::params);
    Params p = decode_body<Params>(env, params_path);
    check_params_file(p, params_path);
    const std::string warning = accept_threshold(p, insecure, params_path);
    if (!warning.empty()) std::fprintf(stderr, "secagg-keygen: warning: %s\n", warning.c_str());
    if (id < 1 || id > p.clients)
      throw Error(Exit::usage, fmt::format("--id {} is outside the session's ids [1, {}]", id, p.clients));
    // The state is committed before the advert goes anywhere, and a rerun with the same params
    // and id sends the same advert again (man/secagg-keygen.1): a lost advert is simply resent.
    StateLock lock;
    Bytes msg;
    std::optional<ClientState> made;
    for (int attempt = 0;; ++attempt) {
      if (auto old = tool::read_state_if_exists(state_path, lock)) {
        msg = client_readvertise(*old, p, env.session, id, state_path);
        break;
      }
      random_context(fmt::format("keygen {}", id));
      made = client_keygen(p, env.session, id);
      msg = made->sent;
      // In socket mode the state is created once the server is reached (below).
      if (networked || tool::create_state(state_path, *made, lock)) break;
      // Another keygen created the state between our look and our create: use its state as a
      // rerun would (exit 75 while that keygen still holds it).
      made.reset();
      if (attempt > 0)
        throw Error(Exit::tempfail, fmt::format("{}: another secagg step is using this client state; try again when "
                                                "it has finished",
                                                state_path));
    }
    // In socket mode a fresh state is created only once the server is reached.
    const auto save = [&] {
      if (networked && made && !tool::create_state(state_path, *made, lock))
        throw Error(Exit::tempfail, fmt::format("{}: another secagg-keygen created this client state meanwhile; "
                                                "nothing was sent: run the step again",
                                                state_path));
    };
    tool::send_after_saving(net, networked, lock, save, msg, out, out_opt->count() > 0, p, env.session,
                            MsgType::roster, kServerId);
  });
}
