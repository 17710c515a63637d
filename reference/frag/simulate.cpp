// One run of the study: the workload generator driving the model.
//
// The generator is an occupancy controller over objects with lifetimes.
// Time advances by one at every allocation.  While less than
// (1 - free_target) of the zone is allocated, it allocates a new object of a
// class drawn by its share of the page volume; otherwise it frees the live
// object whose death time comes first.  Each object's lifetime is drawn at
// allocation: log-normal with mean 1 in units of the zone's turnover (the
// number of live objects at the target occupancy), the class's sigma its
// tail; a few slab objects never die.  So the order in which pages come back
// is what the classes' lifetimes make it, at a fixed memory pressure.
#include "buddycheck/frag.hpp"

#include "buddycheck/chunk.hpp"
#include "buddycheck/free_family.hpp"
#include "buddycheck/invariants.hpp"
#include "buddycheck/model.hpp"
#include "buddycheck/splitmix.hpp"

#include <chrono>
#include <cmath>
#include <memory>
#include <queue>

namespace bc::frag {

namespace {

enum obj_class : uint8_t { SLAB, CACHE, FOLIO, VMALLOC, ATOMIC, THP, THP_FALLBACK, NR_CLASSES };

struct object {
	obj_class cls;
	uint8_t order = 0;
	uint64_t pfn = 0;          // the block, for single-block objects
	std::vector<page *> pages; // vmalloc pages, THP fallback pages
};

// A seeded source of the workload's random choices.
struct rng {
	uint64_t s;
	double uniform() { return double(splitmix64(s) >> 11) * 0x1.0p-53; }
	double normal()
	{
		// Box-Muller; one value per call is enough here.
		const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
		return std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
	}
	// Log-normal with mean 1.
	double lognormal(double sigma) { return std::exp(sigma * normal() - sigma * sigma / 2); }
};

// free_pages_bulk()'s chunks straight to the buddy lists, no pcp: the
// batched free with every chunk as free_one_page() would take it.
void direct_prepared_range(page *p, unsigned long count)
{
	Model &m = current();
	uint64_t pfn = m.page_to_pfn(p);
	while (count) {
		auto step = next_chunk<u64_word>(pfn, count, m.max_order());
		const uint64_t n = uint64_t(1) << step.order;
		for (uint64_t i = 0; i < n; i++)
			m.pfn_to_page(pfn + i)->bc_prepared = 0;
		m.free_one_page(*m.zone_of(pfn), pfn, unsigned(step.order), FPI_NONE);
		pfn = step.next_pfn;
		count = step.next_count;
	}
}

const free_family &direct_family()
{
	static const free_family f = [] {
		free_family d = reference_family();
		d.name = "bulk-direct";
		d.free_prepared_contig_range = direct_prepared_range;
		return d;
	}();
	return f;
}

class simulation {
  public:
	simulation(const workload &w, const policy &p, uint64_t seed, const run_options &o, const config &c)
		: w_(w), pol_(p), o_(o), m_(std::make_unique<Model>(c)), r_{seed * 0x9e3779b97f4a7c15ULL + 1}
	{
		set_current(m_.get());
		set_active_family(o.family_override                     ? o.family_override
				  : p.free == vmalloc_free::bulk_direct ? &direct_family()
									: &reference_family());
		normal_ = unsigned(m_->zones().size() - 1);
		const zone &z = m_->zones()[normal_];
		zone_pages_ = z.zone_end_pfn - z.zone_start_pfn;
		// The pressure is the machine's: the free target counts every zone
		// (requests that find no room in Normal spill into DMA32).
		uint64_t all_pages = 0;
		for (const zone &y : m_->zones())
			all_pages += y.zone_end_pfn - y.zone_start_pfn;
		target_used_ = uint64_t(double(all_pages) * (1 - w.free_target));
		// Class weights by count: a class's share of the page volume over
		// its mean size.
		const double cache_share = std::max(0.0, 1 - w.vmalloc_share - w.unmovable_share - w.atomic_share - w.thp_share);
		const double folio_mean = (4 + 8 + 16) / 3.0;
		const double vm_mean = w.vmalloc_stack_fraction * 4 + (1 - w.vmalloc_stack_fraction) *
									      double(w.vmalloc_max_pages - 1) /
									      std::log(double(w.vmalloc_max_pages));
		share_[SLAB] = w.unmovable_share / 1.2; // order 0 80%, order 1 20%
		share_[CACHE] = cache_share * (1 - w.folio_fraction);
		share_[FOLIO] = cache_share * w.folio_fraction / folio_mean;
		share_[VMALLOC] = w.vmalloc_share / vm_mean;
		share_[ATOMIC] = w.atomic_share / 8;
		share_[THP] = w.thp_share / 512;
		double total = 0, mean_pages = 0;
		const double sizes[] = {1.2, 1, folio_mean, vm_mean, 8, 512};
		for (int k = 0; k < THP_FALLBACK; k++) {
			total += share_[k];
			mean_pages += share_[k] * sizes[k];
		}
		for (int k = 0; k < THP_FALLBACK; k++)
			share_[k] /= total;
		mean_pages /= total;
		turnover_ = double(target_used_) / mean_pages;
		if (!o.sample_every)
			o_.sample_every = std::max<uint64_t>(1, w.ops / 100);
	}

	run_result go()
	{
		run_result res;
		const auto t0 = std::chrono::steady_clock::now();
		if (w_.pin_per_pageblock)
			pin_pageblocks();
		uint64_t next_sample = 0;
		for (uint64_t op = 0; op < w_.ops; op++) {
			if (used_ < target_used_ || deaths_.empty())
				allocate();
			else
				free_first();
			if (o_.check_ranges && !check_dirty(res))
				break;
			m_->dirty.clear();
			m_->free_log.clear();
			if (o_.check_every && (op + 1) % o_.check_every == 0 && !check(res))
				break;
			if (op == next_sample) {
				res.series.push_back(measure(op));
				next_sample += o_.sample_every;
			}
			if (o_.progress && (op & 0xffff) == 0xffff)
				o_.progress(op + 1);
			res.ops_done = op + 1;
		}
		res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
		res.final_state = measure(res.ops_done);
		const zone &z = m_->zones()[normal_];
		for (unsigned o = 0; o <= m_->max_order(); o++)
			res.buddyinfo.push_back(z.area[o].nr_free);
		res.pagetypeinfo.assign(MIGRATE_TYPES, {});
		for (unsigned mt = 0; mt < MIGRATE_TYPES; mt++)
			for (unsigned o = 0; o <= m_->max_order(); o++)
				res.pagetypeinfo[mt].push_back(z.area[o].nr_free_mt[mt]);
		res.allocs = allocs_;
		res.frees = frees_;
		if (res.failure.empty())
			drain_everything(res);
		set_current(nullptr);
		set_active_family(nullptr);
		return res;
	}

  private:
	// The adversary: one unmovable page at the start of every pageblock of
	// every zone, never freed (alloc_contig_range() of that one page).
	template <class F> void for_each_pageblock(F f) const
	{
		const uint64_t pb = m_->cfg().pageblock_nr_pages();
		for (const zone &z : m_->zones())
			for (uint64_t pfn = (z.zone_start_pfn + pb - 1) & ~(pb - 1); pfn + pb <= z.zone_end_pfn; pfn += pb)
				f(pfn);
	}
	void pin_pageblocks()
	{
		for_each_pageblock([&](uint64_t pfn) {
			if (!m_->alloc_contig_range(pfn, pfn + 1, false, excess))
				return;
			m_->set_alloc_mobility(pfn, MIGRATE_UNMOVABLE);
			pins_.push_back(pfn);
		});
		used_ += pins_.size();
		target_used_ += pins_.size();
	}
	static void excess(unsigned long pfn, unsigned long nr) { active_family().free_contig_frozen_range_inner(pfn, nr); }

	// The per-operation checks of a replay: the range invariants over the
	// pfns the operation touched.
	bool check_dirty(run_result &res)
	{
		for (auto [start, end] : m_->dirty)
			if (auto f = check_range(*m_, start, end)) {
				res.failure = f->invariant + ": " + f->message;
				return false;
			}
		return true;
	}

	bool check(run_result &res)
	{
		res.checks++;
		if (auto f = check_all(*m_, m_->nr_vmalloc)) {
			res.failure = f->invariant + ": " + f->message;
			return false;
		}
		if (!m_->findings.empty()) {
			res.failure = m_->findings.front().invariant + ": " + m_->findings.front().message;
			return false;
		}
		return true;
	}

	// The sanity check of the end: everything freed and drained, the
	// zone's free set is its boot state again whatever the policy did
	// (the free paths lost or duplicated nothing): the canonical form.
	void drain_everything(run_result &res)
	{
		while (!deaths_.empty())
			free_first();
		for (uint64_t pfn : pins_) {
			m_->ledger_clear(pfn, LEDGER_ALLOCATED);
			m_->__free_pages(m_->pfn_to_page(pfn), 0);
		}
		m_->drain_all_pages();
		res.checks++;
		if (auto f = check_all(*m_, 0))
			res.failure = f->invariant + ": " + f->message;
		else if (auto g = check_canonical_form(*m_))
			res.failure = g->invariant + ": " + g->message;
		else if (!m_->findings.empty())
			res.failure = m_->findings.front().invariant + ": " + m_->findings.front().message;
		for (const zone &z : m_->zones()) {
			res.drained_buddyinfo.emplace_back();
			for (unsigned o = 0; o <= m_->max_order(); o++)
				res.drained_buddyinfo.back().push_back(z.area[o].nr_free);
		}
	}

	obj_class draw_class()
	{
		double u = r_.uniform();
		for (int k = 0; k < THP_FALLBACK - 1; k++) {
			if (u < share_[k])
				return obj_class(k);
			u -= share_[k];
		}
		return THP;
	}

	double lifetime(obj_class c)
	{
		switch (c) {
		case SLAB:
			if (r_.uniform() < w_.slab_long_lived)
				return 1e300; // outlives the run
			return r_.lognormal(w_.slab_sigma);
		case CACHE:
		case FOLIO:
			return r_.lognormal(w_.cache_sigma);
		case VMALLOC:
			return r_.lognormal(w_.vmalloc_sigma);
		case ATOMIC:
			return 0.01 * r_.lognormal(0.5); // packet buffers: freed almost at once
		default:
			return r_.lognormal(w_.thp_sigma);
		}
	}

	page *alloc_block(unsigned order, unsigned mt, bool compound)
	{
		page *p = m_->alloc_pages(order, mt, -1, compound, false);
		if (p)
			used_ += uint64_t(1) << order;
		return p;
	}

	// vm_area_alloc_pages(): high-order first (as a06157804399: no direct
	// reclaim, no warning; a failure lowers the largest order tried for
	// the rest of this area), then order 0 page by page.
	bool vmalloc(uint64_t nr, std::vector<page *> &pages)
	{
		uint64_t remaining = nr;
		if (pol_.alloc == vmalloc_alloc::high) {
			unsigned max_attempt = std::min(w_.vmalloc_max_order, m_->max_order());
			while (remaining > 1) {
				unsigned order = std::min(max_attempt, unsigned(u64_word::ilog2(remaining)));
				if (order == 0)
					break;
				page *p = alloc_block(order, MIGRATE_UNMOVABLE, false);
				if (!p) {
					vmalloc_fallback_++;
					max_attempt = order - 1;
					continue;
				}
				m_->split_page(p, order);
				const uint64_t pfn = m_->page_to_pfn(p);
				for (uint64_t i = 0; i < (uint64_t(1) << order); i++)
					pages.push_back(m_->pfn_to_page(pfn + i));
				remaining -= uint64_t(1) << order;
			}
		}
		for (; remaining; remaining--) {
			page *p = alloc_block(0, MIGRATE_UNMOVABLE, false);
			if (!p) {
				vfree(pages, false);
				return false;
			}
			pages.push_back(p);
		}
		m_->nr_vmalloc += long(nr);
		return true;
	}

	// CHARGED: a whole area NR_VMALLOC counts (vfree() uncharges it page by
	// page); a failed area's pages were never charged.
	void vfree(std::vector<page *> &pages, bool charged)
	{
		if (pages.empty())
			return;
		used_ -= pages.size();
		if (!charged)
			m_->nr_vmalloc += long(pages.size());
		if (pol_.free == vmalloc_free::per_page) {
			m_->nr_vmalloc -= long(pages.size());
			for (page *p : pages) {
				m_->ledger_clear(m_->page_to_pfn(p), LEDGER_ALLOCATED);
				m_->__free_pages(p, 0);
			}
			return;
		}
		m_->vfree_pages(pages.data(), pages.size());
	}

	void allocate()
	{
		now_ += 1;
		allocs_++;
		object ob;
		ob.cls = draw_class();
		page *p = nullptr;
		switch (ob.cls) {
		case SLAB:
			ob.order = r_.uniform() < 0.8 ? 0 : 1;
			p = alloc_block(ob.order, MIGRATE_UNMOVABLE, false);
			break;
		case CACHE:
			p = alloc_block(0, MIGRATE_MOVABLE, false);
			break;
		case FOLIO:
			ob.order = uint8_t(2 + (splitmix64(r_.s) % 3));
			p = alloc_block(ob.order, MIGRATE_MOVABLE, true);
			break;
		case ATOMIC:
			// GFP_ATOMIC order 3: no reclaim, no compaction; it fails or not.
			ob.order = 3;
			p = alloc_block(3, MIGRATE_UNMOVABLE, false);
			(p ? atomic_ok_ : atomic_fail_)++;
			if (!p)
				return;
			break;
		case THP:
			// A THP fault: order 9 movable without compaction; on failure
			// the fault is served with 512 base pages.
			ob.order = 9;
			p = alloc_block(9, MIGRATE_MOVABLE, true);
			(p ? thp_ok_ : thp_fail_)++;
			if (!p) {
				ob.cls = THP_FALLBACK;
				for (int i = 0; i < 512; i++) {
					page *q = alloc_block(0, MIGRATE_MOVABLE, false);
					if (!q)
						break;
					ob.pages.push_back(q);
				}
				if (ob.pages.empty())
					return;
			}
			break;
		case VMALLOC: {
			uint64_t nr = 4;
			if (r_.uniform() >= w_.vmalloc_stack_fraction)
				nr = uint64_t(std::exp(r_.uniform() * std::log(double(w_.vmalloc_max_pages)))); // log-uniform
			if (!vmalloc(std::max<uint64_t>(nr, 1), ob.pages))
				return;
			break;
		}
		default:
			return;
		}
		if (p) {
			ob.pfn = m_->page_to_pfn(p);
		} else if (ob.pages.empty()) {
			oom_++;
			return;
		}
		const double life = lifetime(ob.cls == THP_FALLBACK ? THP : ob.cls);
		const double death = life > 1e200 ? 1e300 : now_ + life * turnover_;
		uint32_t id;
		if (!slots_.empty()) {
			id = slots_.back();
			slots_.pop_back();
			objects_[id] = std::move(ob);
		} else {
			id = uint32_t(objects_.size());
			objects_.push_back(std::move(ob));
		}
		deaths_.push({death, id});
	}

	void free_first()
	{
		const uint32_t id = deaths_.top().second;
		deaths_.pop();
		object &ob = objects_[id];
		frees_++;
		if (ob.cls == VMALLOC) {
			vfree(ob.pages, true);
		} else if (ob.cls == THP_FALLBACK) {
			for (page *p : ob.pages) {
				m_->ledger_clear(m_->page_to_pfn(p), LEDGER_ALLOCATED);
				m_->__free_pages(p, 0);
			}
			used_ -= ob.pages.size();
		} else {
			const uint64_t n = uint64_t(1) << ob.order;
			for (uint64_t i = 0; i < n; i++)
				m_->ledger_clear(ob.pfn + i, LEDGER_ALLOCATED);
			m_->__free_pages(m_->pfn_to_page(ob.pfn), ob.order);
			used_ -= n;
		}
		ob.pages = {};
		slots_.push_back(id);
	}

	sample measure(uint64_t op)
	{
		sample s;
		s.op = op;
		const zone &z = m_->zones()[normal_];
		long pcp = 0;
		for (const per_cpu_pages &c : z.pcp)
			pcp += c.count;
		s.free_fraction = double(z.nr_free_pages + pcp) / double(zone_pages_);
		const unsigned orders[2] = {3, 9};
		for (int i = 0; i < 2; i++) {
			const contig_page_info info = fill_contig_page_info(*m_, normal_, orders[i]);
			s.unusable[i] = unusable_free_index(orders[i], info);
			s.fragindex[i] = fragmentation_index(orders[i], info);
			s.free_blocks_ge[i] = info.free_blocks_suitable;
			const compaction_proxy c = compaction_cost(*m_, normal_, orders[i], o_.migration_budget);
			s.compact_min[i] = c.min_cost;
			s.compact_at_budget[i] = c.at_budget;
			s.compactable[i] = c.compactable;
		}
		const pageblock_stats pb = scan_pageblocks(*m_, normal_);
		s.mixed_pageblocks = pb.mixed;
		s.polluted_pageblocks = pb.polluted;
		for (int i = 0; i < 3; i++)
			s.pageblocks_by_type[i] = pb.by_type[i];
		s.extfrag_claim = m_->extfrag.claimed;
		s.extfrag_steal = m_->extfrag.stolen;
		s.atomic3_ok = atomic_ok_;
		s.atomic3_fail = atomic_fail_;
		s.thp_ok = thp_ok_;
		s.thp_fail = thp_fail_;
		s.vmalloc_fallback = vmalloc_fallback_;
		uint64_t low_pages = 0, low_free = 0;
		for (unsigned zi = 0; zi < normal_; zi++) {
			const zone &y = m_->zones()[zi];
			low_pages += y.zone_end_pfn - y.zone_start_pfn;
			low_free += uint64_t(y.nr_free_pages);
			for (const per_cpu_pages &c : y.pcp)
				low_free += uint64_t(c.count);
		}
		s.spill_fraction = low_pages ? 1 - double(low_free) / double(low_pages) : 0;
		return s;
	}

	workload w_;
	policy pol_;
	run_options o_;
	std::unique_ptr<Model> m_;
	rng r_;
	unsigned normal_ = 0;
	uint64_t zone_pages_ = 0, target_used_ = 0, used_ = 0;
	double share_[NR_CLASSES]{};
	double turnover_ = 1, now_ = 0;
	std::vector<object> objects_;
	std::vector<uint32_t> slots_;
	using death = std::pair<double, uint32_t>;
	std::priority_queue<death, std::vector<death>, std::greater<death>> deaths_;
	uint64_t allocs_ = 0, frees_ = 0, oom_ = 0;
	std::vector<uint64_t> pins_;
	uint64_t atomic_ok_ = 0, atomic_fail_ = 0, thp_ok_ = 0, thp_fail_ = 0, vmalloc_fallback_ = 0;
};

} // namespace

run_result run(const std::string &scenario, const workload &w, const policy &p, uint64_t seed, const run_options &o,
	       const config *cfg)
{
	const config c = cfg ? *cfg : study_config();
	simulation sim(w, p, seed, o, c);
	run_result r = sim.go();
	r.scenario = scenario;
	r.pol = p;
	r.seed = seed;
	r.w = w;
	return r;
}

} // namespace bc::frag
