// `check --tree DIR`: the free family as a kernel tree has it, found by
// reference/intake (libclang), written as one candidate file under #line
// directives (kept in the build cache by content, so an unchanged tree is
// built once), and judged like any candidate.
#pragma once

#include "candidate.hpp"

#include "buddycheck/intake.hpp"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace bc::cli {

// The candidate of TREE, its row named LABEL (default: "<dir> (tree)").
// Not a tree, or a tree without any of the family, is an error (one line).
// NOTES: what was seen and not taken (a definition the shim's
// configuration skips, ...).
// OVERLAY and REMOVED: a patched state of the tree (intake::extract_options).
candidate_source candidate_from_tree(const std::filesystem::path &tree, const std::string &label, std::vector<std::string> &notes,
				     const std::filesystem::path &overlay = {}, const std::set<std::string> &removed = {});

// The options of an extraction with the shim's include paths and names.
intake::extract_options shim_extract_options();

// The candidate file of these functions (a tree's, or what a patch adds),
// written into the build cache by content and inspected; NAME its file's
// stem, LABEL its row.
candidate_source candidate_from_functions(const intake::extraction &x, const std::string &origin, const std::string &name,
					  const std::string &label);

} // namespace bc::cli
