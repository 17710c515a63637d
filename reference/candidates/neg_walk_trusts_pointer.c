// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): free_pages_bulk() that keeps
 * num_pages_contiguous() with its section check, but saves a page_to_pfn()
 * per run: when the next run starts at the struct page right after the
 * last one, it takes the next pfn for it, trusting the pointer.
 *
 * Defect: in the boot memmap of classic SPARSEMEM (one buffer per node, the
 * present sections packed) the struct page after the last page of a section
 * followed by a hole is the next *present* section's first page.  For a
 * vmalloc array holding pfn 0xff and then pfn 0x180 (section 2 absent),
 * num_pages_contiguous() rightly stops at the section change, and this code
 * then frees "pfn 0x100" for the second run: a pfn of the hole, while pfn
 * 0x180 is never freed.
 * Under FLATMEM and SPARSEMEM_VMEMMAP the next struct page is the next pfn's,
 * with one memmap allocation per section (sparse-hotplug) the pages of two
 * sections are never adjacent, and between adjacent present sections of one
 * boot buffer the pointer is right: correct in all of those.
 * Expected: a counterexample under sparse only (pfn_valid), found by
 * the golden trace bulk_across_hole_boot_sparse, generated histories whose
 * vmalloc arrays straddle a hole and the fuzzers; the stateful property's
 * short default run does not build such an array (properties=pass).
 *
 * buddycheck-expect: flat=pass vmemmap=pass sparse=counterexample sparse-hotplug=pass fuzz=found properties=pass proofs=reference
 */
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/sched.h>

void free_pages_bulk(struct page **page_array, unsigned long nr_pages)
{
	unsigned long pfn = nr_pages ? page_to_pfn(*page_array) : 0;

	while (nr_pages) {
		unsigned long nr = num_pages_contiguous(page_array, nr_pages);

		__free_contig_range(pfn, nr);
		page_array += nr;
		nr_pages -= nr;
		if (!nr_pages)
			break;
		/* the next struct page is the next pfn's: no lookup needed */
		if (page_array[0] == page_array[-1] + 1)
			pfn += nr;
		else
			pfn = page_to_pfn(page_array[0]);
		cond_resched();
	}
}
