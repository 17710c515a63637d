// The batched reference, the per-page oracle and the broken variants, written
// to the kernel's free family (reference/README.md, rows 2).
#include "buddycheck/free_family.hpp"

#include "buddycheck/chunk.hpp"
#include "buddycheck/format.hpp"
#include "buddycheck/model.hpp"

#include <algorithm>

namespace bc {

static const free_family *active_family_ptr;
const free_family &active_family() { return active_family_ptr ? *active_family_ptr : reference_family(); }
void set_active_family(const free_family *f) { active_family_ptr = f; }

static bool page_head(const page *p) { return p->flags.f & (1UL << PG_head); }
static bool page_tail(const page *p) { return p->compound_head & 1; }

// ------------------------------------------------------------ shared wrappers

static void wrap_free_contig_range_inner(unsigned long pfn, unsigned long nr)
{
	active_family().free_contig_range_common(pfn, nr, false);
}

static void wrap_free_contig_frozen_range_inner(unsigned long pfn, unsigned long nr)
{
	active_family().free_contig_range_common(pfn, nr, true);
}

static void wrap_free_contig_range(unsigned long pfn, unsigned long nr)
{
	Model &m = current();
	if (page_head(m.pfn_to_page(pfn))) {
		m.warn(pfn, "free_contig_range() refuses a compound head");
		return;
	}
	active_family().free_contig_range_inner(pfn, nr);
}

static void wrap_free_contig_frozen_range(unsigned long pfn, unsigned long nr)
{
	Model &m = current();
	page *first = m.pfn_to_page(pfn);
	if (page_tail(first)) {
		m.warn(pfn, "free_contig_frozen_range() on a compound tail page");
		return;
	}
	if (page_head(first)) {
		const unsigned order = unsigned(u64_word::ilog2(nr));
		if (order != first->bc_compound_order)
			m.warn(pfn, "free_contig_frozen_range(): nr_pages does not match the compound order");
		m.free_frozen_pages(first, order);
		return;
	}
	active_family().free_contig_frozen_range_inner(pfn, nr);
}

static unsigned long ref_num_pages_contiguous(page **pages, unsigned long nr)
{
	Model &m = current();
	page *cur = pages[0];
	const uint64_t section = m.memdesc_section(cur);
	unsigned long i;
	for (i = 1; i < nr; i++) {
		if (++cur != pages[i])
			break;
		if (m.memdesc_section(cur) != section)
			break;
	}
	return i;
}

static void ref_free_pages_bulk(page **pages, unsigned long nr)
{
	Model &m = current();
	const free_family &f = active_family();
	while (nr) {
		unsigned long k = f.num_pages_contiguous(pages, nr);
		f.free_contig_range_inner(m.page_to_pfn(pages[0]), k);
		pages += k;
		nr -= k;
		m.cond_resched();
	}
}

// ------------------------------------------------------------ batched reference

// Chunk routine parameterised by its defects, so that the broken variants
// share the reference's code except for the one line they break.
template <bool cap_order> static void prepared_range(page *p, unsigned long count)
{
	Model &m = current();
	uint64_t pfn = m.page_to_pfn(p);
	const uint64_t cap = cap_order ? m.max_order() : 63;
	while (count) {
		auto step = next_chunk<u64_word>(pfn, count, cap);
		m.__free_frozen_pages(p, unsigned(step.order), FPI_PREPARED);
		// The kernel walks struct pages: valid because a run never leaves
		// its section's memmap.
		p += uint64_t(1) << step.order;
		pfn = step.next_pfn;
		count = step.next_count;
	}
}

// runaway-chunk-loop: the remaining count is decremented in the loop test
// (`while (nr--)`) after the body took all but one page of the chunk, the
// order bounded as the kernel bounds it (ilog2(0) is -1: no bound).  The
// test sees one page more than remains, so it never sees 0: after the last
// chunk of the run the count is 0, the next chunk starts at the first pfn
// past the run (its order from the pfn's alignment alone) and the count
// wraps.  The loop frees chunks past the run and never returns, unless the
// model stops it at its first finding (Model::stop_at_first_finding).
static void runaway_prepared_range(page *p, unsigned long nr)
{
	Model &m = current();
	uint64_t pfn = m.page_to_pfn(p);
	do {
		const uint64_t align = pfn ? std::min<uint64_t>(u64_word::ctz(pfn), m.max_order()) : m.max_order();
		const uint64_t bound = nr ? u64_word::ilog2(nr) : ~uint64_t(0); // the kernel's ilog2(0) == -1
		const unsigned order = unsigned(std::min(align, bound));
		m.__free_frozen_pages(p, order, FPI_PREPARED);
		p += uint64_t(1) << order;
		pfn += uint64_t(1) << order;
		nr -= (uint64_t(1) << order) - 1; // the loop test takes the last page
	} while (nr--);
}

static void invalid_pfn_in_range(Model &m, uint64_t pfn, uint64_t nr, uint64_t bad)
{
	m.report("pfn_valid", bad,
		 "__free_contig_range_common(" + hex(pfn) + ", " + std::to_string(nr) + ") reaches pfn " + hex(bad) +
			 ", which is not valid (a hole or beyond the end)");
}

enum common_defect { COMMON_OK, COMMON_NO_SECTION_SPLIT, COMMON_FREES_FAILED, COMMON_RUN_END_SHORT };

template <common_defect D> static void common_range(unsigned long pfn, unsigned long nr, bool frozen)
{
	Model &m = current();
	const free_family &f = active_family();
	run_state<u64_word> run{0, 0, 0};
	page *start_page = nullptr;
	for (unsigned long i = 0; i < nr; i++) {
		if (!m.pfn_valid(pfn + i)) {
			// The caller's range reaches a hole (e.g. a count from pointer
			// contiguity in the boot memmap): the kernel would free a
			// struct page that does not exist.  Reported; the run closes.
			invalid_pfn_in_range(m, pfn, nr, pfn + i);
			auto r = run_step<u64_word>(run, pfn + i, 0, false);
			if (r.flush)
				f.free_prepared_contig_range(start_page, r.flush_len);
			run = r.next;
			continue;
		}
		page *p = m.pfn_to_page(pfn + i);
		if (page_head(p) || page_tail(p))
			m.warn(pfn + i, "__free_contig_range_common() on a compound page");
		bool ok = frozen || m.put_page_testzero(p);
		ok = ok && m.free_pages_prepare(p, 0);
		if (D == COMMON_FREES_FAILED)
			ok = true;
		uint64_t section = D == COMMON_NO_SECTION_SPLIT ? 0 : m.memdesc_section(p);
		auto r = run_step<u64_word>(run, pfn + i, section, ok);
		if (r.flush)
			f.free_prepared_contig_range(start_page, r.flush_len);
		if (r.next.len == 1)
			start_page = p;
		run = r.next;
	}
	if (run.len) {
		unsigned long len = run.len;
		if (D == COMMON_RUN_END_SHORT)
			len--;
		if (len)
			f.free_prepared_contig_range(start_page, len);
	}
}

static const free_family reference = {
	"reference",
	prepared_range<true>,
	common_range<COMMON_OK>,
	wrap_free_contig_range_inner,
	wrap_free_contig_frozen_range_inner,
	wrap_free_contig_range,
	wrap_free_contig_frozen_range,
	ref_free_pages_bulk,
	ref_num_pages_contiguous,
};
const free_family &reference_family() { return reference; }

// ------------------------------------------------------------ per-page oracle

static void oracle_prepared_range(page *p, unsigned long count)
{
	Model &m = current();
	const uint64_t pfn = m.page_to_pfn(p);
	for (unsigned long i = 0; i < count; i++)
		m.__free_frozen_pages(m.pfn_to_page(pfn + i), 0, FPI_PREPARED);
}

static void oracle_common(unsigned long pfn, unsigned long nr, bool frozen)
{
	Model &m = current();
	for (unsigned long i = 0; i < nr; i++) {
		if (!m.pfn_valid(pfn + i)) {
			invalid_pfn_in_range(m, pfn, nr, pfn + i);
			continue;
		}
		page *p = m.pfn_to_page(pfn + i);
		// The series' VM_WARN_ON_ONCE(PageHead) and (PageTail), page by page.
		if (page_head(p) || page_tail(p))
			m.warn(pfn + i, "__free_contig_range_common() on a compound page");
		if (frozen)
			m.free_frozen_pages(p, 0);
		else
			m.__free_pages(p, 0); // __free_page()
	}
}

static void oracle_free_pages_bulk(page **pages, unsigned long nr)
{
	Model &m = current();
	for (unsigned long i = 0; i < nr; i++) {
		m.__free_pages(pages[i], 0);
		m.cond_resched();
	}
}

// Users name it `naive` (the built-in candidate naive.c is the same code in
// C); `oracle` stays accepted as an alias (family_by_name).
static const free_family oracle = {
	"naive",
	oracle_prepared_range,
	oracle_common,
	wrap_free_contig_range_inner,
	wrap_free_contig_frozen_range_inner,
	wrap_free_contig_range,
	wrap_free_contig_frozen_range,
	oracle_free_pages_bulk,
	ref_num_pages_contiguous,
};
const free_family &oracle_family() { return oracle; }

// ------------------------------------------------------------ broken variants

#define VARIANT(var, nm, prepared, common)                                                              \
	static const free_family var = {nm,                                                             \
					prepared,                                                       \
					common,                                                         \
					wrap_free_contig_range_inner,                                   \
					wrap_free_contig_frozen_range_inner,                            \
					wrap_free_contig_range,                                         \
					wrap_free_contig_frozen_range,                                  \
					ref_free_pages_bulk,                                            \
					ref_num_pages_contiguous};

VARIANT(no_section_split, "no-section-split", prepared_range<true>, common_range<COMMON_NO_SECTION_SPLIT>)
VARIANT(uncapped_order, "uncapped-order", prepared_range<false>, common_range<COMMON_OK>)
VARIANT(frees_failed, "frees-failed-prepare", prepared_range<true>, common_range<COMMON_FREES_FAILED>)
VARIANT(run_end_short, "run-end-off-by-one", prepared_range<true>, common_range<COMMON_RUN_END_SHORT>)
VARIANT(runaway_chunks, "runaway-chunk-loop", runaway_prepared_range, common_range<COMMON_OK>)

const std::vector<broken_variant> &broken_variants()
{
	static const std::vector<broken_variant> v = {
		{"no-section-split", "runs are not closed at a section change; the chunk walk leaves the section's memmap (classic sparse only)", &no_section_split},
		{"uncapped-order", "chunk order is not capped at MAX_PAGE_ORDER (visible wherever a run can exceed a MAX_PAGE_ORDER block: sections larger than one, or flat/vmemmap where runs are not split at sections)", &uncapped_order},
		{"frees-failed-prepare", "a page whose free_pages_prepare() failed stays in the run and is freed", &frees_failed},
		{"run-end-off-by-one", "the last run is flushed one page short: its last page is lost", &run_end_short},
		{"runaway-chunk-loop", "the chunk loop's remaining count is decremented in the loop test too: it never reaches 0 there, wraps after the last chunk, and the loop frees chunks past the run forever (stopped at its first finding)", &runaway_chunks},
	};
	return v;
}

const free_family *family_by_name(const std::string &name)
{
	if (name == "reference" || name == "batched")
		return &reference;
	if (name == "naive" || name == "oracle") // oracle: the alias of earlier traces and scripts
		return &oracle;
	for (const auto &v : broken_variants())
		if (name == v.name)
			return v.family;
	return nullptr;
}

} // namespace bc
