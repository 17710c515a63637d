// The invariant checker: one named predicate per invariant of the model,
// plus the differential check between two models after the same history.
#pragma once

#include "buddycheck/model.hpp"

#include <optional>
#include <string>
#include <vector>

namespace bc {

// A predicate's result is a bc::finding (model.hpp): the same record the
// model's own contract checks report.

// Names of the invariants (what a report prints and a test breaks).
namespace inv {
inline constexpr const char *pfn_single_state = "pfn_single_state";
inline constexpr const char *block_aligned = "block_aligned";
inline constexpr const char *block_order_cap = "block_order_cap";
inline constexpr const char *block_in_zone = "block_in_zone";
inline constexpr const char *block_in_section = "block_in_section";
inline constexpr const char *poison_never_free = "poison_never_free";
inline constexpr const char *free_list_structure = "free_list_structure";
inline constexpr const char *free_list_migratetype = "free_list_migratetype";
inline constexpr const char *free_counters = "free_counters";
inline constexpr const char *nr_vmalloc = "nr_vmalloc";
inline constexpr const char *canonical_form = "canonical_form";
inline constexpr const char *differential = "differential";
} // namespace inv

// Each predicate returns the first violation it finds.

// Every valid pfn of [start, end) is in exactly one state: allocated, leaked,
// reserved, inside one buddy block or inside one pcp block.
std::optional<finding> check_pfn_single_state(const Model &m, uint64_t start, uint64_t end);
// Every free block with its head in [start, end): naturally aligned, order
// <= MAX_PAGE_ORDER, inside one zone, inside one present section.
std::optional<finding> check_block_shape(const Model &m, uint64_t start, uint64_t end);
// No free page of [start, end) carries HWPoison or a bad-page mark.
std::optional<finding> check_poison_never_free(const Model &m, uint64_t start, uint64_t end);
// Lists and page marks agree: each list entry is a marked head of the
// list's zone, order and migratetype, and each marked head is on a list.
std::optional<finding> check_free_list_structure(const Model &m);
// A buddy block sits on the list of its pageblock's migratetype.
std::optional<finding> check_free_list_migratetype(const Model &m);
// NR_FREE_PAGES, nr_free per order and migratetype and pcp counts equal the
// values recomputed from the lists.
std::optional<finding> check_free_counters(const Model &m);
// NR_VMALLOC equals the pages of the live vmalloc areas.
std::optional<finding> check_nr_vmalloc(const Model &m, long expected);
// With every pcp list drained, no two free buddies could still merge.
std::optional<finding> check_canonical_form(const Model &m);

// The range checks over [start, end) (cheap: in proportion to the range).
std::optional<finding> check_range(const Model &m, uint64_t start, uint64_t end);
// Everything that does not need a drained state.
std::optional<finding> check_all(const Model &m, long expected_nr_vmalloc);
// check_all() and check_canonical_form() both hold, in fewer passes over
// the pfns; false: run them for the report (fuzzers end every input here).
bool drained_state_sound(const Model &m, long expected_nr_vmalloc);

// Differential check of two drained models after the same history: the
// same free set and block decomposition per order and migratetype class,
// the same leaked, allocated (and refcount) and poisoned pages, the same
// counters.  Names the first differing pfn.
std::optional<finding> diff_states(const Model &oracle, const Model &batched);

// Short text of a pfn's state ("free order-3 block 0x1000 (Movable, buddy)").
std::string describe_pfn(const Model &m, uint64_t pfn);

} // namespace bc
