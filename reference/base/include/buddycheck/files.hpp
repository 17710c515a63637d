// Reading a file whole: the CLI, the trace loader and the tests share it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace bc {

// The whole file as bytes into `out`; on failure, why ("cannot open: No such
// file or directory"), with `out` left empty.
std::optional<std::string> read_file(const std::filesystem::path &p, std::string &out);

// The whole file as bytes; empty when it cannot be read.
std::string slurp(const std::filesystem::path &p);

} // namespace bc
