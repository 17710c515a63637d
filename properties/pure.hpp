// Pure properties: the chunk-splitting routine over uint64_t, and the
// buddy allocator's canonical form over the model.
#pragma once

#include "buddycheck/chunk.hpp"
#include "buddycheck/free_family.hpp"

#include <cstdint>

namespace bc::props {

using chunk_fn = chunk_step<u64_word> (*)(const uint64_t &pfn, const uint64_t &count, const uint64_t &max_order);

// Property: for any preset and any non-overflowing (pfn, count), the chunks
// of [pfn, pfn + count) tile it exactly and in order; each is naturally
// aligned, of order <= MAX_PAGE_ORDER, inside one section, and maximal
// (order + 1 would break alignment, the fit or the cap); pfn 0 and ranges
// ending at the top of the pfn space included.
void chunk_tiling(chunk_fn chunk);

// Property: on ranges of at most 256 pages, the number of chunks equals the
// minimal number of aligned power-of-two blocks (order <= MAX_PAGE_ORDER)
// that tile the range, found by brute force.
void chunk_count_minimal(chunk_fn chunk);

// Mutants of the chunk routine, mirroring the negative-control candidates
// neg_uncapped_order.c (no MAX_PAGE_ORDER cap) and neg_ffs_pfn_zero.c
// (__ffs(pfn) without the pfn-0 case: x86's bsf leaves 0 here).
chunk_step<u64_word> uncapped_chunk(const uint64_t &pfn, const uint64_t &count, const uint64_t &max_order);
chunk_step<u64_word> ffs_pfn_zero_chunk(const uint64_t &pfn, const uint64_t &count, const uint64_t &max_order);

// Property: allocate every page of a scaled configuration, give pageblocks
// random migratetypes (some isolated), then free any set of pfns in any
// order as blocks of any orders, through the pcp lists of any CPU, straight
// to the buddy lists, or as contiguous runs through `family`'s
// __free_contig_frozen_range(): after a drain the free blocks are exactly
// the unique maximal decomposition of the freed set under the merge rules
// (naturally aligned, <= MAX_PAGE_ORDER, one zone, pageblocks of one
// mergeable migratetype class), and the model's canonical-form check agrees.
void canonical_form(const free_family &family);

} // namespace bc::props
