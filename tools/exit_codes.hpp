// The exit statuses each tool (and each secagg-collect subcommand) can return, with what each
// means for it: the footer of its --help, kept in line with the EXIT STATUS section of its man
// page (tests/cli/t0900-man.sh checks that the codes are the same).
#pragma once
#include <string>
#include <string_view>

namespace secagg::tool {

// "Exit status: 0 ...\n  64  ...\n..." for a command ("secagg-keygen", "secagg-collect setup");
// "" for a command not in the table.
std::string exit_status_footer(std::string_view command);

}  // namespace secagg::tool
