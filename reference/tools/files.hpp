// Small file helpers the CLI's parts share.
#pragma once

#include <filesystem>
#include <string>

namespace bc::cli {

// The whole file as bytes; empty when it cannot be read.
std::string slurp(const std::filesystem::path &p);

} // namespace bc::cli
