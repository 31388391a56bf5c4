// secagg-mask: round 2 (MaskedInputCollection) for one client.
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif

#include <cstdio>

#include "client.hpp"
#include "common.hpp"
#include "fileio.hpp"
#include "progress_line.hpp"
#include "protocol.hpp"
#include "shards.hpp"
#include "vectors.hpp"

using namespace secagg;

int main(int argc, char** argv) {
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
  // The step's big buffers (the input as read, its elements, the message, the state as written)
  // come one after another, each a few MB: freed ones stay in the heap for the next instead of
  // going back to the kernel, and the next does not fault in fresh zeroed pages (glibc maps
  // blocks above its threshold, 128 KiB at first, and unmaps them when freed). 32 MiB is
  // glibc's largest threshold; bigger inputs are mapped as before.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
  CLI::App app{
      "Round 2 (MaskedInputCollection): decrypt the shares in this client's inbox (which defines U2), then mask the "
      "input: y = x + PRG(b) + sum of signed pairwise masks PRG(s_uv) over U2, mod R. Shares of another client that do "
      "not open are left out with a warning (the client reports them missing in round 4). The input holds the session's "
      "length of integers in [0, R), as decimal text or a binary vector. Run again with the same inbox and input, it "
      "writes the same message again; another input is refused.",
      "secagg-mask"};
  tool::ClientStep step;
  std::string input = "-";
  unsigned threads = default_threads();
  tool::add_step_inputs(app, step, "Client state file", "--inbox",
                        "This client's inbox (S/inbox-<id>.msg from secagg-collect shares)");
  std::string shard;
  auto* in_opt = app.add_option("--input", input, "Input vector, text or binary (default: stdin)");
  app.add_option("--shard", shard,
                 "Hierarchical top session (docs/shards.md): this client is the server of shard session DIR, and its "
                 "input is that shard's aggregate, DIR/aggregate.vec, checked to be a finished shard of this session")
      ->type_name("DIR")
      ->excludes(in_opt);
  tool::add_step_outputs(app, step, "masked-input",
                         "Socket mode: where to save the survivor set U3 from the server, the file secagg-unmask "
                         "--survivors reads");
  app.add_option("--threads", threads, "Threads for mask expansion (default: all cores)")->check(CLI::Range(1u, 256u));
  bool quiet = false;
  app.add_flag("--quiet", quiet, "No progress line while the masks are expanded, even when stderr is a terminal");
  return tool::run(app, argc, argv, [&] {
    // The state records the masked input before it goes anywhere: a client whose message was
    // lost sends the same one again by running the step again with the same input, and a
    // different input is refused (two masked inputs under the same masks would reveal x1 - x2).
    tool::run_client_step(step, MsgType::inbox, MsgType::survivors, /*reply_to_client=*/false,
                          [&](ClientState& st, StateLock&, const Envelope& inbox) {
                            std::vector<uint64_t> x;
                            if (!shard.empty()) {
                              x = shard_input(st.params, st.session, shard, step.state_path);
                            } else {
                              Bytes raw = read_file(input, max_input_bytes(st.params.length));
                              x = read_vector(raw, st.params.ring(), st.params.length, &st.session,
                                              input == "-" ? "<stdin>" : input);
                              // The private input is not needed any more as read; its memory serves the message.
                              sodium_memzero(raw.data(), raw.size());
                              Bytes().swap(raw);
                            }
                            const uint8_t before = st.stage;
                            Bytes msg;
                            {
                              tool::ProgressLine line("secagg-mask", tool::progress_wanted(quiet));
                              msg = client_mask(st, inbox, step.in_path, x, threads, line.counter("masking"));
                            }
                            sodium_memzero(x.data(), x.size() * sizeof x[0]);  // nor its elements
                            const std::vector<uint32_t> bad = unopened_shares(st);
                            if (st.stage != before && !bad.empty())
                              std::fprintf(stderr,
                                           "secagg-mask: warning: %s: the round 1 shares of client%s %s do not open "
                                           "for client %u (undecryptable, malformed, or not what their dealer "
                                           "committed to); it goes on without them and reports them missing in "
                                           "round 4\n",
                                           step.in_path.c_str(), bad.size() > 1 ? "s" : "",
                                           id_list_text(bad).c_str(), st.id);
                            return msg;
                          });
  });
}
