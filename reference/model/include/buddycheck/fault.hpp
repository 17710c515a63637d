// Fault points of the model: the places where a fuzz canary
// (fuzz/model_canaries.txt) breaks the model on purpose, so that each of the
// invariant checker's reports, which a correct model never triggers, is
// shown to fire on a fuzzed history.  As the kernel's should_fail(): the
// code asks `fault::at(fault::NAME)` and takes the faulty branch when it is
// true.  Only a canary build (BUDDYCHECK_FAULT=NAME, fuzz/CMakeLists.txt)
// makes one point true; in every other build each is a constant false, and
// `if constexpr` leaves the faulty branch out of the compiled model.
#pragma once

namespace bc::fault {

enum point {
	none,
	memmap_reserves_section_after_hole, // the section after a hole is reserved too
	flatmem_boot_frees_holes,           // boot frees FLATMEM's holes (asks for struct pages, not presence)
	boot_last_zone_to_section_end,      // boot frees the last zone to its section's end
	boot_chunks_unaligned,              // boot chunks bounded by the MAX_PAGE_ORDER block, not alignment
	nr_free_not_incremented,            // add_to_free_list(): nr_free misses the block
	nr_free_mt_not_decremented,         // del_from_free_list(): the list's count keeps the block
	del_keeps_buddy_mark,               // del_from_free_list(): PageBuddy and the order stay
	hwpoison_freed,                     // an HWPoison page is freed like any other
	pcp_of_first_zone,                  // free_frozen_page_commit(): the first zone's pcp lists
	pcp_count_per_block,                // pcp->count counts a block as one page
	drain_first_zone_only,              // drain_pages(): the other zones are never drained
	merge_past_max_order,               // __free_one_page() merges two MAX_PAGE_ORDER blocks
	skipped_merge,                      // buddies of order MAX_PAGE_ORDER - 1 are never merged
	zone_check_below_only,              // the buddy's zone checked only below the page
	merge_keeps_buddy_mark,             // the merged buddy keeps PageBuddy and its order
	free_page_counts_nr_free_pages,     // __free_page() counts NR_FREE_PAGES itself
	free_page_uncharges_vmalloc,        // __free_page() uncharges NR_VMALLOC again
	unisolate_cleared_migratetype,      // unisolation reads the type the page no longer holds
};

#ifndef BUDDYCHECK_FAULT
#define BUDDYCHECK_FAULT none
#endif
inline constexpr point injected = BUDDYCHECK_FAULT;

constexpr bool at(point p) { return p != none && p == injected; }

} // namespace bc::fault
