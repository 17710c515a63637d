// Reports of a replay: the result as `buddycheck replay` prints it and the
// pfn map of a model (the engine itself is replay.hpp).
#pragma once

#include "buddycheck/replay.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace bc {

// The human-readable report of a result (PASS line, or the counterexample
// with its pfn map), as `buddycheck replay` prints it.
std::string format_result(const trace &t, const replay_result &r, const replay_options &opt = {});

// Text picture of [start, end) of a model: one character per pfn, rows of
// 64, '|' before the first pfn of every section, '^' under marked pfns.
std::string render_pfn_map(const Model &m, uint64_t start, uint64_t end, const std::vector<uint64_t> &marks = {});
// The window render_pfn_map shows around a pfn.
std::string render_pfn_map_around(const Model &m, uint64_t pfn, const std::vector<uint64_t> &marks = {});

} // namespace bc
