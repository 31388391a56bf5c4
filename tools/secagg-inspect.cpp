// secagg-inspect: print any secagg message, vector or state file.
#include <fmt/format.h>

#include "common.hpp"
#include "error.hpp"
#include "fileio.hpp"
#include "pack.hpp"
#include "params.hpp"
#include "vectors.hpp"

using namespace secagg;

int main(int argc, char** argv) {
  CLI::App app{"Print secagg messages, vectors and state files: a one-line summary each (default), JSON (--json), or "
               "a vector's elements as decimal text (--text). Secret key material in state files is shown as "
               "\"redacted\" unless --show-secrets is given.",
               "secagg-inspect"};
  std::vector<std::string> files;
  bool json = false, text = false, show_secrets = false;
  app.add_option("files", files, "Files to inspect ('-' for stdin)")->required();
  app.add_flag("--json", json, "Print each file as JSON");
  app.add_flag("--text", text, "Print a vector or masked input's elements, one per line");
  app.add_flag("--show-secrets", show_secrets, "Include secret keys, seeds and shares in --json output");
  // Without a session's parameters the bound by type alone lets a header announce ~8 GB (a
  // vector of 2^30 62-bit words): inspect reads the header first and refuses a larger body
  // than this unless told (man/secagg-inspect.1).
  uint64_t max_body = uint64_t{256} << 20;
  app.add_option("--max-body", max_body,
                 "Refuse, from its header, a message whose body is larger than SIZE bytes (suffixes K, M, G: powers "
                 "of 1024; default 256M)")
      ->type_name("SIZE")
      ->transform(CLI::AsSizeValue(false));
  return tool::run(app, argc, argv, [&] {
    if (json && text) throw Error(Exit::usage, "--json and --text exclude each other");
    std::string out;
    for (const auto& f : files) {
      MessageLimits limits;
      limits.max_body = max_body;
      limits.over_cap = fmt::format("secagg-inspect reads at most {} bytes of body (--max-body)", max_body);
      Envelope env = tool::read_message(f, limits);
      std::string origin = f == "-" ? "<stdin>" : f;
      // Parameters no party would accept are refused here too, not shown as if valid.
      if (env.type == MsgType::params) check_params_file(decode_body<Params>(env, origin), origin);
      if (text) {
        if (!has_body<RingVector>(env.type))
          throw Error(Exit::data, fmt::format("{}: --text needs a vector, this is a message of type {}", origin, type_name(env.type)));
        auto body = decode_body<RingVector>(env, origin);
        if (body.modulus < 2) throw Error(Exit::data, origin + ": vector has no valid modulus");
        out += vector_text(unpack(body.packed, body.length, Modulus{body.modulus}.bits()));
      } else if (json) {
        out += to_json(env, show_secrets, origin);
      } else {
        out += fmt::format("{}: {}\n", origin, summary(env, origin));
      }
    }
    tool::write_output("-", out);
  });
}
