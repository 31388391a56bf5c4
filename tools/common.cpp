#include "common.hpp"

#include <cstdio>
#include <new>

#include "error.hpp"
#include "fileio.hpp"
#include "random.hpp"

namespace secagg::tool {

int run(CLI::App& app, int argc, char** argv, const std::function<void()>& body) {
  const std::string name = app.get_name();
  app.footer(kExitCodes);
  for (CLI::App* sub : app.get_subcommands({})) sub->footer(kExitCodes);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: error: %s\n%s: hint: run '%s --help' for usage\n", name.c_str(), e.what(), name.c_str(),
                 name.c_str());
    return static_cast<int>(Exit::usage);
  }
  try {
    crypto_init();
    body();
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "%s: error: %s\n", name.c_str(), e.what());
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "%s: error: out of memory\n", name.c_str());
    return static_cast<int>(Exit::software);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: internal error: %s\n", name.c_str(), e.what());
    return static_cast<int>(Exit::software);
  }
}

Envelope read_message(const std::string& path) {
  Bytes b = read_file(path);
  return open_envelope(b, path == "-" ? "<stdin>" : path);
}

ClientState read_state(const std::string& path) {
  Bytes b = read_file(path);
  Envelope env;
  try {
    env = open_envelope(b, path);
  } catch (...) {
    sodium_memzero(b.data(), b.size());
    throw;
  }
  sodium_memzero(b.data(), b.size());
  if (env.type != MsgType::client_state)
    throw Error(Exit::data, path + ": is a message of type " + std::string(type_name(env.type)) + ", not a client state file");
  ClientState st = decode_body<ClientState>(env, path);
  sodium_memzero(env.body.data(), env.body.size());
  return st;
}

void write_state(const std::string& path, const ClientState& st) {
  Bytes b = encode(MsgType::client_state, st.session, st.id, st.id, st);
  try {
    write_file_atomic(path, b, 0600);
  } catch (...) {
    sodium_memzero(b.data(), b.size());
    throw;
  }
  sodium_memzero(b.data(), b.size());
}

void write_output(const std::string& path, std::span<const uint8_t> data) { write_file_atomic(path, data); }
void write_output(const std::string& path, std::string_view text) { write_file_atomic(path, text); }

}  // namespace secagg::tool
