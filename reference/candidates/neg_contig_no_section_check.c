// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): num_pages_contiguous() that
 * counts consecutive struct pages and drops the section check, on the
 * reasoning that __free_contig_range() splits its range at sections anyway.
 *
 * Defect: pointer contiguity is not pfn contiguity in the boot memmap of
 * classic SPARSEMEM.  sparse_init_nid() packs the memmaps of a node's
 * present sections into one buffer, so the struct page after the last page
 * of a section followed by a hole is the first page of the next *present*
 * section.  A vmalloc array holding pfn 0xff and then pfn 0x180 (section 2
 * absent) is two adjacent struct pages: this num_pages_contiguous() says
 * 2, and free_pages_bulk() calls __free_contig_range(0xff, 2), which frees
 * pfn 0x100, a pfn of the hole.
 * Under FLATMEM and SPARSEMEM_VMEMMAP adjacent struct pages are adjacent
 * pfns; with one memmap allocation per section (sparse-hotplug) the pages of
 * two sections are never adjacent; and between adjacent present sections of
 * one boot buffer they are adjacent pfns: the code is correct in all of those.
 * Expected: a counterexample under sparse only, found by generated histories
 * whose vmalloc arrays straddle a hole, the golden trace
 * bulk_across_hole_boot_sparse and the fuzzers; the stateful property's
 * short default run does not build such an array (properties=pass).
 * The finding is pfn_valid: the range reaches the pfn of the hole.
 *
 * buddycheck-expect: flat=pass vmemmap=pass sparse=counterexample sparse-hotplug=pass fuzz=found properties=pass proofs=reference
 */
#include <linux/mm.h>

unsigned long num_pages_contiguous(struct page **pages, size_t nr_pages)
{
	struct page *cur_page = pages[0];
	size_t i;

	for (i = 1; i < nr_pages; i++) {
		if (++cur_page != pages[i])
			break;
	}

	return i;
}
