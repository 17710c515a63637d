// The study's metrics as numbers per run and per grid cell: each metric's
// steady-state value (the second half of a run), its mean and 95% interval
// over the seeds, and the CSV both are written to and the report is
// rendered from.
#include "buddycheck/frag.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace bc::frag {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

template <class F> double mean_of(const std::vector<sample> &w, F f)
{
	double sum = 0;
	size_t n = 0;
	for (const sample &s : w) {
		const double x = f(s);
		if (!std::isnan(x)) {
			sum += x;
			n++;
		}
	}
	return n ? sum / double(n) : nan;
}

// Events per 1000 operations between two samples.
template <class F> double per_kop(const sample &a, const sample &b, F f)
{
	if (b.op <= a.op)
		return nan;
	return 1000.0 * double(f(b) - f(a)) / double(b.op - a.op);
}

// Successes in percent of the requests between two samples.
template <class Ok, class Fail> double success(const sample &a, const sample &b, Ok ok, Fail fail)
{
	const double o = double(ok(b) - ok(a)), f = double(fail(b) - fail(a));
	return o + f > 0 ? 100.0 * o / (o + f) : nan;
}

#define LEVEL(expr)                                                                                                              \
	[](const std::vector<sample> &w) { return mean_of(w, [](const sample &s) -> double { return expr; }); },                 \
		[](const sample &, const sample &s) -> double { return expr; }
#define WINDOW(fn)                                                                                                               \
	[](const std::vector<sample> &w) { return w.size() < 2 ? nan : fn(w.front(), w.back()); },                               \
		[](const sample &a, const sample &b) { return fn(a, b); }

double claim_rate(const sample &a, const sample &b)
{
	return per_kop(a, b, [](const sample &s) { return s.extfrag_claim; });
}
double steal_rate(const sample &a, const sample &b)
{
	return per_kop(a, b, [](const sample &s) { return s.extfrag_steal; });
}
double vmalloc_fallback_rate(const sample &a, const sample &b)
{
	return per_kop(a, b, [](const sample &s) { return s.vmalloc_fallback; });
}
double atomic_success(const sample &a, const sample &b)
{
	return success(
		a, b, [](const sample &s) { return s.atomic3_ok; }, [](const sample &s) { return s.atomic3_fail; });
}
double thp_success(const sample &a, const sample &b)
{
	return success(
		a, b, [](const sample &s) { return s.thp_ok; }, [](const sample &s) { return s.thp_fail; });
}
double or_nan(int64_t v) { return v < 0 ? nan : double(v); }

} // namespace

const std::vector<metric> &metrics()
{
	static const std::vector<metric> all = {
		{"free_pct", "%", "free pages of Normal (buddy and pcp)", LEVEL(100.0 * s.free_fraction)},
		{"dma32_used_pct", "%", "pages of DMA32 allocated (requests that found no room in Normal spill there)",
		 LEVEL(100.0 * s.spill_fraction)},
		{"unusable_index_3", "", "unusable free space index, order 3 (mm/vmstat.c unusable_free_index)",
		 LEVEL(s.unusable[0] / 1000.0)},
		{"unusable_index_9", "", "unusable free space index, order 9", LEVEL(s.unusable[1] / 1000.0)},
		{"fragmentation_index_3", "",
		 "fragmentation index, order 3 (__fragmentation_index; -1: a free block of the order exists)",
		 LEVEL(s.fragindex[0] / 1000.0)},
		{"fragmentation_index_9", "", "fragmentation index, order 9", LEVEL(s.fragindex[1] / 1000.0)},
		{"free_order9_blocks", "", "free blocks of order >= 9, in order-9 units (buddyinfo)",
		 LEVEL(double(s.free_blocks_ge[1]))},
		{"mixed_pageblocks", "", "pageblocks holding allocated pages of more than one mobility",
		 LEVEL(double(s.mixed_pageblocks))},
		{"polluted_pageblocks", "", "pageblocks holding allocated pages of a mobility other than their type",
		 LEVEL(double(s.polluted_pageblocks))},
		{"unmovable_pageblocks", "", "pageblocks of type Unmovable (pagetypeinfo)",
		 LEVEL(double(s.pageblocks_by_type[0]))},
		{"extfrag_claim_per_kop", "/1000 ops", "mm_page_alloc_extfrag events that claimed the block", WINDOW(claim_rate)},
		{"extfrag_steal_per_kop", "/1000 ops", "mm_page_alloc_extfrag events that stole without claiming",
		 WINDOW(steal_rate)},
		{"atomic3_success_pct", "%", "order-3 atomic requests served (no reclaim, no compaction)",
		 WINDOW(atomic_success)},
		{"thp_success_pct", "%", "order-9 movable requests served without compaction", WINDOW(thp_success)},
		{"vmalloc_fallback_per_kop", "/1000 ops", "high-order vmalloc attempts that failed and fell back",
		 WINDOW(vmalloc_fallback_rate)},
		{"compact9_min_pages", "pages", "fewest movable pages to migrate for one free order-9 block",
		 LEVEL(or_nan(s.compact_min[1]))},
		{"compact9_at_budget", "blocks", "order-9 blocks makeable within the migration budget",
		 LEVEL(double(s.compact_at_budget[1]))},
		{"compact9_makeable", "blocks", "order-9 blocks holding only free and movable pages",
		 LEVEL(double(s.compactable[1]))},
		{"compact3_min_pages", "pages", "fewest movable pages to migrate for one free order-3 block",
		 LEVEL(or_nan(s.compact_min[0]))},
		{"compact3_at_budget", "blocks", "order-3 blocks makeable within the migration budget",
		 LEVEL(double(s.compact_at_budget[0]))},
	};
	return all;
}

const metric *find_metric(const std::string &name)
{
	for (const metric &m : metrics())
		if (name == m.name)
			return &m;
	return nullptr;
}

std::vector<sample> steady_window(const run_result &r)
{
	std::vector<sample> w;
	for (const sample &s : r.series)
		if (s.op >= r.ops_done / 2)
			w.push_back(s);
	w.push_back(r.final_state);
	return w;
}

cell cell_of(const run_result &r) { return {r.scenario, r.w.free_target, r.w.vmalloc_share}; }

std::vector<summary_row> summarize(const std::vector<run_result> &runs)
{
	// Cells and policies in the order the runs came.
	std::vector<std::pair<cell, std::string>> keys;
	for (const run_result &r : runs) {
		const auto k = std::make_pair(cell_of(r), r.pol.label());
		if (std::find(keys.begin(), keys.end(), k) == keys.end())
			keys.push_back(k);
	}
	std::vector<summary_row> rows;
	for (const auto &[c, pol] : keys)
		for (const metric &m : metrics()) {
			std::vector<double> xs;
			for (const run_result &r : runs)
				if (cell_of(r) == c && r.pol.label() == pol) {
					const double v = m.value(steady_window(r));
					if (!std::isnan(v))
						xs.push_back(v);
				}
			rows.push_back({c, pol, m.name, mean_ci(xs)});
		}
	return rows;
}

std::string fmt_value(double v)
{
	if (std::isnan(v))
		return "nan";
	char b[64];
	std::snprintf(b, sizeof b, "%.4g", v);
	return b;
}

std::string summary_csv(const std::vector<summary_row> &rows)
{
	std::ostringstream o;
	o << "scenario,free_target,vmalloc_share,policy,metric,mean,ci95,n\n";
	for (const summary_row &r : rows)
		o << r.c.scenario << ',' << fmt_value(r.c.free_target) << ',' << fmt_value(r.c.vmalloc_share) << ',' << r.policy
		  << ',' << r.metric << ',' << (r.v.n ? fmt_value(r.v.mean) : "nan") << ','
		  << (r.v.n ? fmt_value(r.v.half) : "nan") << ',' << r.v.n << '\n';
	return o.str();
}

bool read_summary_csv(const std::string &text, std::vector<summary_row> &rows, std::string *error)
{
	std::istringstream in(text);
	std::string line;
	int lineno = 0;
	auto fail = [&](const std::string &why) {
		if (error)
			*error = "line " + std::to_string(lineno) + ": " + why;
		return false;
	};
	while (std::getline(in, line)) {
		lineno++;
		if (lineno == 1) {
			if (line != "scenario,free_target,vmalloc_share,policy,metric,mean,ci95,n")
				return fail("not a buddycheck frag summary (unexpected header)");
			continue;
		}
		if (line.empty())
			continue;
		std::vector<std::string> f;
		std::istringstream ls(line);
		for (std::string x; std::getline(ls, x, ',');)
			f.push_back(x);
		if (f.size() != 8)
			return fail("expected 8 fields, found " + std::to_string(f.size()));
		summary_row r;
		char *end = nullptr;
		auto num = [&](const std::string &s, double &out) {
			out = std::strtod(s.c_str(), &end);
			return !s.empty() && *end == 0;
		};
		double n = 0;
		if (!num(f[1], r.c.free_target) || !num(f[2], r.c.vmalloc_share) || !num(f[5], r.v.mean) ||
		    !num(f[6], r.v.half) || !num(f[7], n))
			return fail("a field is not a number");
		r.c.scenario = f[0];
		r.policy = f[3];
		r.metric = f[4];
		r.v.n = size_t(n);
		rows.push_back(r);
	}
	if (lineno == 0)
		return fail("empty file");
	return true;
}

std::string series_csv(const std::vector<run_result> &runs)
{
	std::ostringstream o;
	o << "scenario,free_target,vmalloc_share,policy,seed,op";
	for (const metric &m : metrics())
		o << ',' << m.name;
	o << '\n';
	for (const run_result &r : runs) {
		const sample *prev = nullptr;
		for (const sample &s : r.series) {
			o << r.scenario << ',' << fmt_value(r.w.free_target) << ',' << fmt_value(r.w.vmalloc_share) << ','
			  << r.pol.label() << ',' << r.seed << ',' << s.op;
			for (const metric &m : metrics())
				o << ',' << fmt_value(m.at(prev ? *prev : s, s));
			o << '\n';
			prev = &s;
		}
	}
	return o.str();
}

} // namespace bc::frag
