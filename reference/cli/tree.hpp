// `check --tree DIR`: the free family as a kernel tree has it, found by
// reference/intake (libclang), written as one candidate file under #line
// directives (kept in the build cache by content, so an unchanged tree is
// built once), and judged like any candidate.
#pragma once

#include "candidate.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace bc::cli {

// The candidate of TREE, its row named LABEL (default: "<dir> (tree)").
// Not a tree, or a tree without any of the family, is an error (one line).
// NOTES: what was seen and not taken (a definition the shim's
// configuration skips, ...).
candidate_source candidate_from_tree(const std::filesystem::path &tree, const std::string &label,
				     std::vector<std::string> &notes);

} // namespace bc::cli
