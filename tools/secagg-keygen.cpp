// secagg-keygen: round 0 (AdvertiseKeys) for one client.
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
      "signed advertise-keys message for secagg-collect keys.",
      "secagg-keygen"};
  std::string params_path, state_path, out = "-";
  uint32_t id = 0;
  app.add_option("--params", params_path, "Session parameters (S/params.msg from secagg-collect setup)")->required();
  app.add_option("--id", id, "This client's id, 1..n")->required();
  app.add_option("--state", state_path, "Client state file to create (refuses to overwrite)")->required();
  auto* out_opt = app.add_option("-o,--output", out,
                                 "Where to write the advertise-keys message (default: stdout; with --connect: "
                                 "nowhere unless given)");
  bool insecure = false;
  app.add_flag("--insecure-low-threshold", insecure,
               "Take part even if the session's threshold is not above half of each client's share holders, which "
               "lets the server unmask individual inputs (teaching only); without it such parameters are refused");
  tool::NetFlags net;
  tool::add_net_flags(app, net,
                      "Socket mode: where to save the server's roster (U1), the file secagg-share --roster reads");
  app.footer(tool::kExitCodesNet);
  return tool::run(app, argc, argv, [&] {
    const bool networked = tool::net_mode(net);
    Envelope env = tool::read_message(params_path);
    if (env.type != MsgType::params)
      throw Error(Exit::data, fmt::format("{}: is a message of type {}, not session parameters", params_path, type_name(env.type)));
    Params p = decode_body<Params>(env, params_path);
    check_params_file(p, params_path);
    const std::string warning = accept_threshold(p, insecure, params_path);
    if (!warning.empty()) std::fprintf(stderr, "secagg-keygen: warning: %s\n", warning.c_str());
    if (id < 1 || id > p.clients)
      throw Error(Exit::usage, fmt::format("--id {} is outside the session's ids [1, {}]", id, p.clients));
    if (path_exists(state_path))
      throw Error(Exit::cantcreat, fmt::format("{}: already exists; refusing to overwrite a client state", state_path));
    random_context(fmt::format("keygen {}", id));
    ClientState st = client_keygen(p, env.session, id);
    Bytes msg = client_advertise(st);
    if (networked) {
      if (out_opt->count() > 0) tool::write_output(out, msg);
      // The state is saved once the message has left: a server that cannot be reached leaves
      // nothing behind, so the step can simply be retried.
      tool::net_round(net, msg, p, env.session, MsgType::roster, kServerId, [&] { tool::write_state(state_path, st); });
      return;
    }
    // A failed output must not leave a state behind that blocks a retry: message first.
    tool::write_output(out, msg);
    tool::write_state(state_path, st);
  });
}
