// secagg-keygen: round 0 (AdvertiseKeys) for one client; with a subcommand, long-term identities
// and the certificates a CA makes of them (man/secagg-keygen.1, IDENTITIES).
#include <cstdio>
#include <ctime>
#include <optional>

#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "client.hpp"
#include "common.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "identity.hpp"
#include "params.hpp"
#include "random.hpp"
#include "roster_window.hpp"

using namespace secagg;

namespace {

// NAME.key -> NAME.pub; any other name gets ".pub" appended.
std::string public_path(const std::string& key_path) {
  const std::string ext = ".key";
  if (key_path.size() > ext.size() && key_path.compare(key_path.size() - ext.size(), ext.size(), ext) == 0)
    return key_path.substr(0, key_path.size() - ext.size()) + ".pub";
  return key_path + ".pub";
}

// An identity file: refused (exit 77) if group or others may read it, as ssh refuses a private
// key; then read, checked (identity.hpp) and wiped.
Identity read_identity(const std::string& path) {
  if (path == "-") throw Error(Exit::usage, "an identity is read from a file, not standard input");
  InputFile in(path, true);  // exit 66 if missing, 77 if unreadable
  // Another type is refused from its header (exit 65) before the mode is looked at.
  MessageLimits limits;
  limits.type = MsgType::identity;
  Bytes b = read_message_file(path, limits);
  if ((in.st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
    sodium_memzero(b.data(), b.size());
    throw Error(Exit::noperm, fmt::format("{}: identity file is readable by group or others (mode {:04o}); run "
                                          "chmod 600 on it",
                                          path, in.st.st_mode & 07777));
  }
  Envelope env = tool::open_secret_envelope(b, path);
  try {
    Identity id = decode_identity(env, path);
    sodium_memzero(env.body.data(), env.body.size());
    return id;
  } catch (...) {
    sodium_memzero(env.body.data(), env.body.size());
    throw;
  }
}

// keygen identity: a new identity in key_path (0600, never over an existing file) and its public
// half beside it; neither is left behind if the other cannot be written.
void make_identity_files(const std::string& key_path) {
  if (key_path == "-") throw Error(Exit::usage, "-o: an identity is written to a file, not standard output");
  const std::string pub_path = public_path(key_path);
  for (const std::string& f : {key_path, pub_path})
    if (path_exists(f)) throw Error(Exit::cantcreat, f + ": already exists; refusing to overwrite it");
  random_context("keygen identity " + key_path);
  const Identity id = make_identity();
  Bytes key = encode_identity(id);
  try {
    write_file_atomic(key_path, key, 0600, Overwrite::refuse);
  } catch (...) {
    sodium_memzero(key.data(), key.size());
    throw;
  }
  sodium_memzero(key.data(), key.size());
  try {
    write_file_atomic(pub_path, encode_identity_public(id.pk), 0644, Overwrite::refuse);
  } catch (...) {
    ::unlink(key_path.c_str());
    throw;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Round 0 (AdvertiseKeys): make a client's two X25519 key pairs and its Ed25519 signing key (which signs "
      "every message of the client), save them in a new state file (mode 0600) and write the public keys as a "
      "signed advertise-keys message for secagg-collect keys. Run again with the same params and id, it writes the "
      "same advert again.",
      "secagg-keygen"};
  std::string params_path, state_path, out = "-";
  uint32_t id = 0;
  // Required without a subcommand; refused with one (checked once the command line is parsed).
  std::vector<CLI::Option*> round0 = {
      app.add_option("--params", params_path, "Session parameters (S/params.msg from secagg-collect setup)"),
      app.add_option("--id", id, "This client's id, 1..n"),
      app.add_option("--state", state_path,
                     "Client state file to create (an existing one of another session or id is not overwritten)")};
  auto* out_opt = tool::add_output_option(app, out, "advertise-keys");
  bool insecure = false;
  app.add_flag("--insecure-low-threshold", insecure,
               "Take part even if the session's threshold is not above half of each client's share holders, which "
               "lets the server unmask individual inputs (teaching only); without it such parameters are refused");
  std::string identity_path, cert_path;
  CLI::Option* identity_opt = app.add_option("--identity", identity_path,
                 "Active sessions: this client's identity file (secagg-keygen identity; mode 0600), which signs "
                 "the round-0 keys");
  CLI::Option* cert_opt =
      app.add_option("--cert", cert_path, "Active sessions: the CA's certificate of this client's identity for --id");
  round0.push_back(identity_opt);
  round0.push_back(cert_opt);
  tool::NetFlags net;
  tool::add_net_flags(app, net,
                      "Socket mode: where to save the server's roster (U1), the file secagg-share --roster reads");

  app.require_subcommand(0, 1);
  std::string identity_out;
  CLI::App* identity_cmd = app.add_subcommand(
      "identity",
      "Make a long-term Ed25519 identity (a client's, or a certificate authority's): NAME.key (mode 0600, the "
      "secret) and NAME.pub beside it (the public key, for the CA to certify); an existing file is never "
      "overwritten");
  identity_cmd->add_option("-o,--output", identity_out, "The identity file to create, NAME.key")->required();
  std::string ca_path, pub_path, cert_out;
  uint32_t cert_id = 0;
  uint64_t expires = 0;
  CLI::App* certify_cmd = app.add_subcommand(
      "certify", "As a certificate authority: sign a certificate that client --id owns the identity whose public "
                 "key is --pub");
  certify_cmd->add_option("--ca", ca_path, "The CA's identity file (made by secagg-keygen identity; mode 0600)")
      ->required();
  certify_cmd->add_option("--id", cert_id, "The client id certified, 1..2^20")->required();
  certify_cmd->add_option("--pub", pub_path, "The client's identity-public file (NAME.pub)")->required();
  certify_cmd->add_option("-o,--output", cert_out, "The certificate file to write (\"-\": standard output)")
      ->required();
  certify_cmd->add_option("--expires", expires,
                          "When the certificate expires, in Unix seconds (date +%s -d 2028-01-01); 0, the default, "
                          "is never");
  app.parse_complete_callback([&] {
    const bool sub = !app.get_subcommands().empty();
    for (CLI::Option* o : round0) {
      if (!sub && o->count() == 0 && o != identity_opt && o != cert_opt) throw CLI::RequiredError(o->get_name());
      if (sub && o->count() > 0)
        throw CLI::ValidationError(fmt::format("{} is an option of round 0, not of secagg-keygen {}",
                                               o->get_name(), app.get_subcommands().front()->get_name()));
    }
  });
  return tool::run(app, argc, argv, [&] {
    if (identity_cmd->parsed()) {
      make_identity_files(identity_out);
      return;
    }
    if (certify_cmd->parsed()) {
      if (cert_id < 1 || cert_id > kMaxClients)
        throw Error(Exit::usage, fmt::format("--id {} is outside the client ids [1, {}]", cert_id, kMaxClients));
      const auto now = static_cast<uint64_t>(std::time(nullptr));
      if (expires != 0 && expires <= now)
        throw Error(Exit::usage, fmt::format("--expires {} is not in the future (now {})", expires, now));
      tool::check_output_target(cert_out);
      const Identity ca = read_identity(ca_path);
      const Envelope pub_env = tool::read_message(pub_path, nullptr, MsgType::identity_public);
      const Key32 pk = decode_identity_public(pub_env, pub_path);
      tool::write_output(cert_out, encode_certificate(certify(ca, cert_id, pk, expires)));
      return;
    }
    const bool networked = tool::net_mode(net);
    if (!networked || out_opt->count() > 0) tool::check_output_target(out);
    Envelope env = tool::read_message(params_path, nullptr, MsgType::params);
    Params p = decode_body<Params>(env, params_path);
    check_params_file(p, params_path);
    const std::string warning = accept_threshold(p, insecure, params_path);
    if (!warning.empty()) std::fprintf(stderr, "secagg-keygen: warning: %s\n", warning.c_str());
    if (id < 1 || id > p.clients)
      throw Error(Exit::usage, fmt::format("--id {} is outside the session's ids [1, {}]", id, p.clients));
    if ((identity_opt->count() > 0) != (cert_opt->count() > 0))
      throw Error(Exit::usage, "--identity and --cert go together: the identity signs, the certificate vouches for it");
    if (p.active() && identity_opt->count() == 0)
      throw Error(Exit::usage, fmt::format("{}: an active session: its clients sign their round-0 keys with a "
                                           "certified identity (give --identity ID.key --cert ID.cert)",
                                           params_path));
    if (!p.active() && identity_opt->count() > 0)
      throw Error(Exit::usage, fmt::format("{}: an honest-but-curious session takes no --identity or --cert",
                                           params_path));
    std::optional<Identity> identity;
    std::optional<Certificate> cert;
    std::optional<IdentityProof> proof;
    if (p.active()) {
      identity = read_identity(identity_path);
      const Envelope cert_env = tool::read_message(cert_path, nullptr, MsgType::certificate);
      cert = decode_certificate(cert_env, cert_path);
      proof.emplace(IdentityProof{*identity, *cert, cert_path, unix_now()});
    }
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
      made = proof ? client_keygen(p, env.session, id, &*proof) : client_keygen(p, env.session, id);
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
                            roster_message_type(p), kServerId);
  });
}
