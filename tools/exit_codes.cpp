#include "exit_codes.hpp"

#include <map>
#include <utility>
#include <vector>

namespace secagg::tool {

namespace {

using Codes = std::vector<std::pair<int, std::string>>;

// What the four client steps share.
const std::string kSocketRefused =
    "socket mode: the server sent an aborted notice (the session aborted; the error gives its reason), or closed "
    "the connection during the TLS handshake";
const std::string kSocketBadData =
    "; socket mode: the server sent a refused notice (the error gives its reason), a bad answer, or a TLS "
    "server whose certificate does not verify (nothing was sent)";
const std::string kTempfail =
    "temporary failure: another run holds the state file's lock; socket mode: the server cannot be reached "
    "within --connect-timeout, no answer came within --timeout, or it stopped or went away (rerun the same "
    "command to send the same message again)";

Codes client_step(std::string ok, std::string refused, std::string usage, std::string data, std::string noinput,
                  std::string cantcreat) {
  Codes c{{0, "success: " + std::move(ok)}};
  if (!refused.empty()) c.push_back({1, "refused: " + refused + "; " + kSocketRefused});
  else c.push_back({1, kSocketRefused});
  c.push_back({64, "usage: " + std::move(usage)});
  c.push_back({65, "bad data: " + std::move(data) + kSocketBadData});
  c.push_back({66, "missing input: " + std::move(noinput)});
  c.push_back({70, "internal error (a bug in secagg)"});
  c.push_back({73, "cannot create output: " + std::move(cantcreat)});
  c.push_back({74, "I/O error while reading or writing"});
  c.push_back({75, kTempfail});
  c.push_back({77, "permission denied opening an input or creating an output"});
  return c;
}

// The file-mode round subcommands of secagg-collect.
Codes collect_round(std::string ok, std::string aborted, std::string marker) {
  return {{0, "success: " + std::move(ok)},
          {1, "the session aborted: " + std::move(aborted)},
          {64, "usage: an unknown or missing option"},
          {65, "bad data: a message failed a check (corrupted, another session or round, a bad signature, an "
               "unexpected or duplicate sender), or a file of the session directory, S/params.msg included, "
               "is not valid"},
          {66, "missing input: a named message, or a file of the session directory an earlier round writes"},
          {70, "internal error (a bug in secagg)"},
          {73, "cannot create output: " + marker + " exists (the round was collected already), or an output "
               "cannot be written"},
          {74, "I/O error while reading or writing"},
          {77, "permission denied opening an input or creating an output"}};
}

const std::map<std::string, Codes, std::less<>>& table() {
  static const std::map<std::string, Codes, std::less<>> t = [] {
    std::map<std::string, Codes, std::less<>> m;
    m["secagg-keygen"] = client_step(
        "the state file (mode 0600) and the advertise-keys message were written",
        "the session's threshold is not above half of each client's share holders and --insecure-low-threshold "
        "was not given",
        "an unknown or missing option, an --id outside [1, n], --identity and --cert missing in an active "
        "session or given in another, or a certificate that is not the session CA's, not for --id, expired, or "
        "of another identity",
        "params.msg is not valid session parameters, or the --identity or --cert file is not valid",
        "params.msg, the --identity or --cert file, or the --tls-ca file",
        "the state file exists already, or it or the output cannot be written");
    m["secagg-keygen identity"] = {
        {0, "success: NAME.key (mode 0600) and NAME.pub were written"},
        {64, "usage: an unknown or missing option, or -o -"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: NAME.key or NAME.pub exists already (neither is overwritten), or cannot be "
             "written"},
        {74, "I/O error while writing"},
        {77, "permission denied creating NAME.key or NAME.pub"}};
    m["secagg-keygen certify"] = {
        {0, "success: the certificate was written"},
        {64, "usage: an unknown or missing option, an --id outside [1, 2^20], or an --expires not in the future"},
        {65, "bad data: the --ca file is not a valid identity or the --pub file not a valid identity-public "
             "message"},
        {66, "missing input: the --ca or --pub file"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: the certificate cannot be written"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied: the --ca identity file may be read by group or others (chmod 600 it), or an "
             "input cannot be opened or the output created"}};
    m["secagg-share"] = client_step(
        "the state file was updated and the share-keys message written",
        "U1 has fewer than t clients, or this client has shared its keys already",
        "an unknown or missing option, or --threads outside [1, 256]",
        "the state file or the roster failed a check (corrupted, another session, this client missing from "
        "the roster or listed with other keys, a low-order key; in an active session, an entry whose "
        "certificate or identity signature does not verify against the session's CA)",
        "the state file, the roster or the --tls-ca file", "the state file or the output cannot be written");
    m["secagg-mask"] = client_step(
        "the state file was updated and the masked-input message written",
        "U2 is not a subset of U1 or has fewer than t clients, or the state is not at this step",
        "an unknown or missing option, or --threads outside [1, 256]",
        "the state file, the inbox or the input failed a check (corrupted, another session, this client's own "
        "share not opening, an active session's inbox without commitments; an input of the wrong length or with an "
        "element outside [0, R)); another client's share that does not open is a warning, not an error",
        "the state file, the inbox, the input or the --tls-ca file",
        "the state file or the output cannot be written");
    m["secagg-unmask"] = client_step(
        "the state file was updated and the unmask-shares message written",
        "this client has answered already or has not masked its input, or U3 is not a subset of U2, has fewer "
        "than t clients or leaves this client out; in an active session, no --consistency, or a consistency "
        "message over another U3 than the one this client signed, with fewer than t signatures, or with a "
        "signature that does not verify or is not by a member of U3",
        "an unknown or missing option, or --consistency in an honest-but-curious session",
        "the state file, the survivor set or the consistency message failed a check (corrupted, another session, "
        "ids not sorted or not unique)",
        "the state file, the survivor set, the consistency message or the --tls-ca file",
        "the state file or the output cannot be written");
    m["secagg-unmask sign"] = client_step(
        "the state file was updated and the consistency-signature message written",
        "this client signed another survivor set already or has not masked its input, or U3 is not a subset of "
        "U2, has fewer than t clients or leaves this client out",
        "an unknown or missing option, or an honest-but-curious session (it has no round 3)",
        "the state file or the survivor set failed a check (corrupted, another session, ids not sorted or not "
        "unique)",
        "the state file, the survivor set or the --tls-ca file", "the state file or the output cannot be written");
    m["secagg-inspect"] = {
        {0, "success: every file was printed"},
        {64, "usage: an unknown option, no file, or both --json and --text"},
        {65, "bad data: a file is not a valid secagg file, or --text was given one that is not a vector"},
        {66, "missing input: a file does not exist or cannot be read"},
        {70, "internal error (a bug in secagg)"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied opening a file"}};
    const Codes quantize = {
        {0, "success: the output was written (a weight capped to the maximum is reported on stderr)"},
        {64, "usage: an unknown or missing option or subcommand, a value outside its choices, a bad weight, or "
             "options that exclude each other"},
        {65, "bad data: the parameters have no valid quantization spec or are not of the sparse session the "
             "subcommand needs, the update, residual, selection or aggregate is malformed or does not fit the "
             "session, or the selection is not the values session's"},
        {66, "missing input: an input file does not exist or cannot be read"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: the output cannot be written"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied opening an input or creating the output"}};
    Codes settle = quantize;
    settle.insert(settle.begin() + 1, {1, "with --survivors: the client is not in U3, so its values are not in the "
                                          "aggregate and its residual was left as it was"});
    m["secagg-quantize"] = settle;
    m["secagg-quantize encode"] = quantize;
    m["secagg-quantize decode"] = quantize;
    m["secagg-quantize topk"] = quantize;
    m["secagg-quantize settle"] = settle;
    m["secagg-quantize account"] = {
        {0, "success: the guarantee was printed"},
        {64, "usage: an unknown or missing option, or a --rounds, --sampling or --delta outside its range"},
        {65, "bad data: the parameters are not valid, or are not a DP session's (setup --dp)"},
        {66, "missing input: the --params file does not exist or cannot be read"},
        {70, "internal error (a bug in secagg)"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied opening the --params file"}};
    m["secagg-sim"] = {
        {0, "success: the session completed and the aggregate equals the plaintext sum"},
        {1, "the session aborted: a survivor set had fewer than t clients (the table, summary and CSV are still "
            "written)"},
        {64, "usage: an unknown or missing option, or parameters, a --drop or a --dropout that are not valid "
             "(round 3 outside an active session), --corrupt without --threat-model active, or --sparse with "
             "--threat-model active"},
        {70, "internal error (a bug in secagg): the aggregate does not match the plaintext sum, an honest "
             "party's message was refused, or memory ran out"},
        {73, "cannot create output: the CSV file cannot be written"},
        {74, "I/O error while writing the output"},
        {77, "permission denied creating the CSV file"}};
    m["secagg-collect setup"] = {
        {0, "success: the session directory and S/params.msg were created"},
        {64, "usage: an unknown or missing option, or parameters that break a bound (an active session's: t > "
             "(n + C) / 2, full SecAgg, a --ca)"},
        {65, "bad data: the parameters fail the checks every reader of S/params.msg applies, the --ca file is not "
             "an identity-public message, or the --select file is not a valid selection message, selects no "
             "index, or has R_max 0 (nothing to send)"},
        {66, "missing input: the --select or --ca file"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: S/params.msg exists (the session was set up already), or the directory or "
             "the file cannot be created"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied reading the --select file, or creating the session directory or S/params.msg"}};
    m["secagg-collect select"] = {
        {0, "success: the selection message was written"},
        {64, "usage: an unknown or missing option"},
        {65, "bad data: the session is not a union session, a file of the session directory is not valid, or the "
             "union does not decode (too many distinct indices: retry with a new union session and a larger "
             "--union-cells-factor)"},
        {66, "missing input: S/params.msg, or S/aggregate.vec (round 4 is not done)"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: the output cannot be written"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied opening an input or creating the output"}};
    m["secagg-collect keys"] =
        collect_round("S/roster.msg (U1) was written", "fewer than t clients sent their keys", "S/roster.msg");
    m["secagg-collect shares"] = collect_round("the inboxes and S/u2.msg (U2) were written",
                                               "fewer than t clients sent their shares", "S/u2.msg");
    m["secagg-collect masked"] = collect_round("S/masked-sum.vec and S/survivors.msg (U3) were written",
                                               "fewer than t clients sent a masked input", "S/survivors.msg");
    Codes consistency = collect_round("S/consistency.msg (U3 and the signatures of U4 over it) was written",
                                      "fewer than t clients signed U3", "S/consistency.msg");
    consistency[2].second = "usage: an unknown or missing option, or an honest-but-curious session (it has no round 3)";
    m["secagg-collect consistency"] = consistency;
    Codes unmask = collect_round(
        "the aggregate was written to the output and to S/aggregate.vec (bad shares left out and missing ones are "
        "named in warnings)",
        "fewer than t clients (of a client's neighbours, in SecAgg+) answered, or fewer than t good shares of one "
        "client's secret came back",
        "S/aggregate.vec");
    unmask[0].second += "; with --range, the unmask-part message was written to the output (and nothing into S)";
    unmask[2].second += ", a --range that is not A:B with 0 <= A < B <= length, or --text with --range";
    unmask[3].second += "; or the shares of one secret disagree and the server cannot tell which is bad";
    m["secagg-collect unmask"] = unmask;
    m["secagg-collect join"] = {
        {0, "success: the aggregate was written to the output and to S/aggregate.vec, and round 4 recorded"},
        {64, "usage: an unknown or missing option, or no part or no round-4 message given"},
        {65, "bad data: a part or a round-4 message failed a check (corrupted or truncated, another session, a bad "
             "signature), parts made from other round-4 messages (than each other or than those given), a gap or "
             "an overlap between the parts, or a file of the session directory is not valid"},
        {66, "missing input: a named file, or a file of the session directory an earlier round writes"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: S/aggregate.vec exists (round 4 was collected already), or an output cannot be "
             "written"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied opening an input or creating an output"}};
    m["secagg-collect combine"] = {
        {0, "success: the sum of the shards' aggregates was written to the output and to TOP/aggregate.vec"},
        {64, "usage: an unknown or missing option, no shard directory, or one shard named twice"},
        {65, "bad data: a shard is not a shard of TOP (another parent, ring, length, quantization spec or PRG), "
             "the shards have more clients in all than TOP's modulus is sized for, TOP is itself a shard, or a "
             "file of a session directory is not valid"},
        {66, "missing input: TOP/params.msg, a shard's params.msg, or a shard's aggregate.vec (its round 4 is not "
             "done)"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: TOP/aggregate.vec exists (the shards were combined already), or the output "
             "cannot be written"},
        {74, "I/O error while reading or writing"},
        {77, "permission denied opening an input or creating an output"}};
    m["secagg-collect audit"] = {
        {0, "success: every check holds (a session that ended early is checked up to where it ended)"},
        {64, "usage: an unknown or missing option"},
        {65, "bad data: a check failed (the first failure is named): a stored message is corrupted, not signed by "
             "its client, not certified, in the wrong file or round, or a file the server wrote is not what the "
             "clients' messages make"},
        {66, "missing input: S/params.msg"},
        {70, "internal error (a bug in secagg)"},
        {74, "I/O error while reading"},
        {77, "permission denied opening a file of the session"}};
    m["secagg-collect status"] = {
        {0, "success: the status was printed (a pending round, an aborted one included, is not an error)"},
        {64, "usage: an unknown or missing option"},
        {65, "bad data: a file of the session directory cannot be read as what its name says (it is named)"},
        {66, "missing input: the session directory, or its S/params.msg"},
        {70, "internal error (a bug in secagg)"},
        {74, "I/O error while reading"},
        {77, "permission denied opening a file of the session"}};
    m["secagg-collect serve"] = {
        {0, "success: the session completed and the aggregate was written"},
        {1, "the session aborted: fewer than t clients answered in a round"},
        {64, "usage: an unknown or missing option"},
        {65, "bad data: a file of the session directory is not valid, or --tls-cert or --tls-key is not a PEM "
             "certificate or unencrypted key, or they do not belong together"},
        {66, "missing input: the session directory's S/params.msg, or --tls-cert or --tls-key"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output: a file of the session directory or the output cannot be written, or "
             "S/aggregate.vec exists"},
        {74, "I/O error while reading or writing"},
        {75, "temporary failure: cannot listen on the --listen address (for example, it is in use)"},
        {77, "permission denied, or a --tls-key file that group or others may read"},
        {130, "stopped by SIGINT (Ctrl-C); --resume continues the session"},
        {143, "stopped by SIGTERM; --resume continues the session"}};
    m["secagg-collect"] = {
        {0, "success (each subcommand's --help says what every status means for it)"},
        {1, "the session aborted: too few clients answered (keys, shares, masked, consistency, unmask, serve)"},
        {64, "usage: an unknown or missing option or subcommand, or parameters that break a bound"},
        {65, "bad data: a message or a file of the session directory failed a check"},
        {66, "missing input"},
        {70, "internal error (a bug in secagg)"},
        {73, "cannot create output, or the round was collected (the session set up) already"},
        {74, "I/O error"},
        {75, "serve: cannot listen"},
        {77, "permission denied"},
        {130, "serve: stopped by SIGINT"},
        {143, "serve: stopped by SIGTERM"}};
    return m;
  }();
  return t;
}

// Wraps `text` at `width` columns, continuation lines indented by `indent` spaces.
std::string wrap(const std::string& text, size_t first, size_t indent, size_t width) {
  std::string out, line;
  size_t col = first;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    std::string word = text.substr(pos, end - pos);
    if (!line.empty() && col + 1 + word.size() > width) {
      out += line + "\n" + std::string(indent, ' ');
      line.clear();
      col = indent;
    }
    if (!line.empty()) line += ' ', ++col;
    line += word;
    col += word.size();
    pos = end + 1;
  }
  return out + line;
}

}  // namespace

std::string exit_status_footer(std::string_view command) {
  auto it = table().find(command);
  if (it == table().end()) return "";
  std::string out;
  for (const auto& [code, text] : it->second) {
    if (out.empty()) {
      std::string head = "Exit status: " + std::to_string(code) + " ";
      out = head + wrap(text, head.size(), 7, 100);
    } else {
      std::string head = "  " + std::to_string(code);
      head += std::string(7 - head.size(), ' ');
      out += "\n" + head + wrap(text, 7, 7, 100);
    }
  }
  return out;
}

}  // namespace secagg::tool
