#include "series.hpp"

#include "process.hpp"
#include "tree.hpp"

#include "buddycheck/files.hpp"
#include "buddycheck/intake.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace bc::cli {

namespace {

// git under limits: a patch or a mail is small; anything else is wrong.
child_outcome run_git(const std::vector<std::string> &args, const fs::path &cwd, const fs::path &in, const fs::path &out,
		      const fs::path &err, const fs::path &ceiling = {})
{
	child_spec s;
	s.argv = {"git"};
	s.argv.insert(s.argv.end(), args.begin(), args.end());
	s.cwd = cwd;
	s.stdin_file = in;
	s.stdout_file = out;
	s.stderr_file = err;
	s.lim = {60, 1ull << 30};
	// Never a repository around the private copy (the output directory may
	// be inside the user's kernel tree): git apply then patches plain files.
	if (!ceiling.empty())
		s.env = {{"GIT_CEILING_DIRECTORIES", ceiling.string()}, {"GIT_DIR", ""}};
	return run_child(s);
}

std::string first_line(const std::string &s)
{
	std::string l = s.substr(0, s.find('\n'));
	if (l.rfind("error: ", 0) == 0)
		l = l.substr(7);
	return l;
}

// "[PATCH v2 2/3] subject" -> subject, "2/3".
void parse_subject(const std::string &raw, series_patch &p)
{
	std::string s = raw;
	while (!s.empty() && s.front() == '[') {
		const size_t close = s.find(']');
		if (close == std::string::npos)
			break;
		std::istringstream words(s.substr(1, close - 1));
		for (std::string w; words >> w;) {
			const size_t slash = w.find('/');
			if (slash != std::string::npos && slash > 0 && slash + 1 < w.size() &&
			    std::all_of(w.begin(), w.begin() + long(slash), ::isdigit) &&
			    std::all_of(w.begin() + long(slash) + 1, w.end(), ::isdigit)) {
				p.tag = w;
				p.number = std::stoi(w.substr(0, slash));
				p.total = std::stoi(w.substr(slash + 1));
			}
		}
		s = s.substr(close + 1);
		while (!s.empty() && s.front() == ' ')
			s.erase(0, 1);
	}
	p.subject = s;
}

void parse_files(const std::string &diff, series_patch &p)
{
	std::istringstream in(diff);
	std::string a, b;
	std::set<std::string> seen;
	auto add = [&](const std::string &f) {
		if (!f.empty() && seen.insert(f).second)
			p.touched.push_back(f);
	};
	for (std::string l; std::getline(in, l);) {
		if (l.rfind("diff --git a/", 0) == 0) {
			const size_t sp = l.find(" b/", 13);
			a = l.substr(13, sp == std::string::npos ? std::string::npos : sp - 13);
			b = sp == std::string::npos ? a : l.substr(sp + 3);
			add(a);
			add(b);
		} else if (l.rfind("deleted file mode", 0) == 0) {
			p.deleted.insert(a);
		} else if (l.rfind("--- a/", 0) == 0) {
			a = l.substr(6, l.find('\t') == std::string::npos ? std::string::npos : l.find('\t') - 6);
			add(a);
		} else if (l.rfind("+++ b/", 0) == 0) {
			add(l.substr(6, l.find('\t') == std::string::npos ? std::string::npos : l.find('\t') - 6));
		} else if (l.rfind("+++ /dev/null", 0) == 0) {
			p.deleted.insert(a);
		}
	}
}

std::string clipped(const std::string &s, size_t n) { return s.size() <= n ? s : s.substr(0, n - 3) + "..."; }

} // namespace

std::string series_patch::row() const { return clipped((tag.empty() ? "" : "[" + tag + "] ") + subject, 34); }

bool looks_like_patch(const fs::path &file)
{
	const std::string ext = file.extension().string();
	if (ext == ".patch" || ext == ".diff" || ext == ".mbox" || ext == ".mbx" || ext == ".eml" || ext == ".mail")
		return true;
	std::ifstream in(file, std::ios::binary);
	std::string head(4096, '\0');
	in.read(head.data(), long(head.size()));
	head.resize(size_t(in.gcount()));
	if (head.rfind("From ", 0) == 0 || head.rfind("diff --git ", 0) == 0)
		return true;
	for (const char *h : {"From: ", "Subject: ", "Date: ", "Message-ID: ", "Message-Id: ", "Return-Path: ", "Received: "})
		if (head.rfind(h, 0) == 0)
			return true;
	return false;
}

series read_series(const std::vector<std::string> &inputs, const fs::path &work)
{
	series s;
	std::error_code ec;
	fs::create_directories(work, ec);
	int n_mail = 0;
	for (size_t i = 0; i < inputs.size(); i++) {
		const std::string &in = inputs[i];
		if (fs::is_directory(in, ec)) {
			s.error = in + ": is a directory, not a patch (a kernel tree is --tree DIR)";
			return s;
		}
		std::string text;
		if (auto e = read_file(in, text)) {
			s.error = in + ": " + *e;
			return s;
		}
		if (text.empty()) {
			const std::string ext = fs::path(in).extension().string();
			s.error = in + (ext == ".mbox" || ext == ".mbx" ? ": an empty mbox (no mail in it)"
									: ": an empty file (no mail, no patch)");
			return s;
		}
		if (text.find('\0') != std::string::npos) {
			s.error = in + ": not a text file (a patch, an mbox or a mail)";
			return s;
		}
		// An mbox (format-patch's own output is one) is split by git; a
		// saved mail without the mbox line is one message.
		std::vector<fs::path> mails;
		if (text.rfind("From ", 0) == 0) {
			const fs::path split = work / ("split-" + std::to_string(i));
			fs::remove_all(split, ec); // a reused --out
			fs::create_directories(split, ec);
			const child_outcome o = run_git({"mailsplit", "-o" + split.string(), fs::absolute(in).string()}, work, {},
							work / "mailsplit.out", work / "mailsplit.err");
			if (o.k == child_outcome::spawn_failed) {
				s.error = "cannot run git (needed to read patches; ci/setup installs it): " + o.error;
				return s;
			}
			if (!o.ok()) {
				s.error = in + ": not an mbox git can split: " + first_line(slurp(work / "mailsplit.err"));
				return s;
			}
			for (const auto &e : fs::directory_iterator(split, ec))
				mails.push_back(e.path());
			std::sort(mails.begin(), mails.end());
			if (mails.empty()) {
				s.error = in + ": an empty mbox (no mail in it)";
				return s;
			}
		} else {
			mails.push_back(fs::absolute(in));
		}
		for (size_t j = 0; j < mails.size(); j++) {
			series_patch p;
			p.input = mails.size() == 1 ? in : in + ", mail " + std::to_string(j + 1);
			const std::string id = std::to_string(++n_mail);
			p.diff = work / ("patch-" + id);
			const fs::path info = work / ("info-" + id), err = work / ("mailinfo-" + id + ".err");
			const child_outcome o = run_git({"mailinfo", "-k", (work / ("msg-" + id)).string(), p.diff.string()},
							work, mails[j], info, err);
			if (o.k == child_outcome::spawn_failed) {
				s.error = "cannot run git (needed to read patches; ci/setup installs it): " + o.error;
				return s;
			}
			if (!o.ok()) {
				s.error = p.input + ": a malformed mail: " + first_line(slurp(err));
				return s;
			}
			std::istringstream lines(slurp(info));
			for (std::string l; std::getline(lines, l);)
				if (l.rfind("Subject: ", 0) == 0)
					parse_subject(l.substr(9), p);
			const std::string diff = slurp(p.diff);
			if (diff.find("\n@@ ") == std::string::npos && diff.rfind("@@ ", 0) != 0) {
				if (p.number == 0 && p.total > 0)
					continue; // the cover letter
				s.error = p.input + ": a malformed mail: no patch in it" +
					  (p.subject.empty() ? std::string() : " (\"" + clipped(p.subject, 50) + "\")");
				return s;
			}
			parse_files(diff, p);
			s.patches.push_back(std::move(p));
		}
	}
	// Series order from the subjects' N/M; each of 1..M once.
	const size_t numbered =
		size_t(std::count_if(s.patches.begin(), s.patches.end(), [](const auto &p) { return p.number > 0; }));
	if (numbered && numbered != s.patches.size()) {
		s.error = "some patches are numbered N/M and some are not: give one series at a time";
		return s;
	}
	if (numbered) {
		std::stable_sort(s.patches.begin(), s.patches.end(),
				 [](const auto &a, const auto &b) { return a.number < b.number; });
		const int total = s.patches.front().total;
		for (size_t k = 0; k < s.patches.size(); k++) {
			const series_patch &p = s.patches[k];
			if (p.total != total) {
				s.error = p.input + ": patch " + p.tag + " is of another series than " + s.patches.front().input +
					  " (" + s.patches.front().tag + ")";
				return s;
			}
			if (k && p.number == s.patches[k - 1].number) {
				s.error = "two patches are " + p.tag + ": " + s.patches[k - 1].input + " and " + p.input;
				return s;
			}
		}
		// A run of the series (the tree may have the patches before it),
		// but no gap inside it.
		for (size_t k = 1; k < s.patches.size(); k++)
			if (s.patches[k].number != s.patches[k - 1].number + 1) {
				std::string have;
				for (const auto &p : s.patches)
					have += (have.empty() ? "" : ", ") + p.tag;
				s.error = "the series skips " + std::to_string(s.patches[k - 1].number + 1) + "/" +
					  std::to_string(total) + " (it has " + have + ")";
				return s;
			}
		if (s.patches.back().number > total) {
			s.error = s.patches.back().input + ": patch " + s.patches.back().tag + " is past the end of its series";
			return s;
		}
	}
	if (s.patches.empty())
		s.error =
			"no patch in " + inputs.front() + (inputs.size() > 1 ? " and the others" : "") + " (only a cover letter)";
	return s;
}

std::vector<series_state> series_on_tree(const series &s, const fs::path &tree_arg, const fs::path &work, std::string &error)
{
	std::vector<series_state> out;
	std::error_code ec;
	const fs::path tree = fs::absolute(tree_arg, ec).lexically_normal();
	const fs::path overlay = work / "overlay";
	fs::remove_all(overlay, ec);
	fs::create_directories(overlay, ec);
	std::set<std::string> removed;
	series_state base;
	base.row = "base";
	base.src = candidate_from_tree(tree, base.row, base.notes);
	if (!base.src.ok()) {
		error = base.src.error;
		return {};
	}
	out.push_back(std::move(base));
	for (size_t k = 0; k < s.patches.size(); k++) {
		const series_patch &p = s.patches[k];
		// The private copy: the files this patch touches, as the series
		// has left them so far.
		for (const auto &rel : p.touched)
			if (!fs::exists(overlay / rel, ec) && !removed.count(rel) && fs::is_regular_file(tree / rel, ec)) {
				fs::create_directories((overlay / rel).parent_path(), ec);
				fs::copy_file(tree / rel, overlay / rel, ec);
				if (ec) {
					error = "cannot copy " + (tree / rel).string() + " to apply the series: " + ec.message();
					return {};
				}
			}
		const std::string where = k == 0 ? "the tree" : "the tree after " + s.patches[k - 1].row();
		child_outcome o = run_git({"apply", "--check", "--whitespace=nowarn", p.diff.string()}, overlay, {},
					  work / "apply.out", work / "apply.err", work);
		if (o.k == child_outcome::spawn_failed) {
			error = "cannot run git (needed to apply patches; ci/setup installs it): " + o.error;
			return {};
		}
		if (!o.ok()) {
			error = p.input + " (" + p.row() + ") does not apply to " + where + ": " +
				first_line(slurp(work / "apply.err"));
			return {};
		}
		o = run_git({"apply", "--whitespace=nowarn", p.diff.string()}, overlay, {}, work / "apply.out",
			    work / "apply.err", work);
		if (!o.ok()) {
			error = p.input + " (" + p.row() + ") does not apply to " + where + ": " +
				first_line(slurp(work / "apply.err"));
			return {};
		}
		for (const auto &rel : p.touched)
			if (fs::exists(overlay / rel, ec))
				removed.erase(rel);
		for (const auto &d : p.deleted)
			removed.insert(d);
		series_state st;
		st.row = p.row();
		st.src = candidate_from_tree(tree, st.row, st.notes, overlay, removed);
		// The same family text as the state before: nothing to judge.
		st.untouched = st.src.ok() && out.back().src.ok() && st.src.text == out.back().src.text;
		out.push_back(std::move(st));
	}
	return out;
}

std::vector<series_state> series_alone(const series &s, std::string &error)
{
	std::vector<series_state> out;
	const intake::extract_options opt = shim_extract_options();
	const auto &names = opt.entry_points;
	for (size_t k = 0; k < s.patches.size(); k++) {
		const series_patch &p = s.patches[k];
		// Per file: the new side as far as the hunks show it (each line at
		// its new line number), which lines are added, and what the hunks
		// change.
		struct side {
			std::vector<std::string> lines;
			std::set<int> added;
		};
		std::map<std::string, side> files;
		std::map<std::string, std::string> changed; // family name -> file:line
		std::map<std::string, std::string> others;  // another function changed in a family file -> file:line
		static const std::set<std::string> family_files = {"mm/page_alloc.c", "include/linux/mm.h", "mm/vmalloc.c",
								   "mm/internal.h"};
		std::istringstream in(slurp(p.diff));
		std::string file;
		int new_line = 0;
		auto mentions_family = [&](const std::string &text, int line, bool definition_only) {
			for (const auto &n : names) {
				const size_t at = text.find(n + "(");
				if (at == std::string::npos ||
				    (at && (std::isalnum((unsigned char)text[at - 1]) || text[at - 1] == '_')))
					continue;
				if (definition_only && (text.empty() || text[0] == ' ' || text[0] == '\t'))
					continue;
				changed.emplace(n, file + ":" + std::to_string(line));
			}
		};
		for (std::string l; std::getline(in, l);) {
			if (l.rfind("+++ b/", 0) == 0) {
				file = l.substr(6, l.find('\t') == std::string::npos ? std::string::npos : l.find('\t') - 6);
				new_line = 0;
			} else if (l.rfind("+++ ", 0) == 0 || l.rfind("--- ", 0) == 0 || l.rfind("diff --git ", 0) == 0) {
				if (l.rfind("+++ ", 0) == 0)
					file.clear();
			} else if (l.rfind("@@ ", 0) == 0) {
				const size_t plus = l.find(" +");
				new_line = plus == std::string::npos ? 0 : std::atoi(l.c_str() + plus + 2);
				// "@@ -a,b +c,d @@ void free_contig_range(...)": the hunk is
				// inside that function.
				const size_t sect = l.find(" @@", 3);
				if (sect != std::string::npos && sect + 4 < l.size() && !file.empty()) {
					const std::string head = l.substr(sect + 4);
					mentions_family(head, new_line, false);
					// Inside another function of a file the family lives in:
					// it may be one of the family's helpers.
					const size_t paren = head.find('(');
					if (paren != std::string::npos && family_files.count(file)) {
						size_t b = paren;
						while (b > 0 && (std::isalnum((unsigned char)head[b - 1]) || head[b - 1] == '_'))
							b--;
						if (b < paren)
							others.emplace(head.substr(b, paren - b),
								       file + ":" + std::to_string(new_line));
					}
				}
			} else if (!file.empty() && new_line > 0 && !l.empty() && (l[0] == '+' || l[0] == ' ')) {
				side &sd = files[file];
				if (int(sd.lines.size()) < new_line)
					sd.lines.resize(size_t(new_line));
				sd.lines[size_t(new_line - 1)] = l.substr(1);
				if (l[0] == '+')
					sd.added.insert(new_line);
				new_line++;
			} else if (!file.empty() && !l.empty() && l[0] == '-') {
				mentions_family(l.substr(1), new_line, true); // a definition line removed or rewritten
			}
		}
		intake::extraction all;
		for (const auto &[rel, sd] : files) {
			std::string text;
			for (const auto &line : sd.lines)
				text += line + "\n";
			const intake::extraction x = intake::extract_from_text(rel, text, opt);
			for (const auto &f : x.functions) {
				bool whole = true;
				for (int ln = f.line; ln <= f.end_line && whole; ln++)
					whole = sd.added.count(ln) > 0;
				if (whole) {
					all.functions.push_back(f);
					changed.erase(f.name);
				} else if (f.entry) {
					changed.emplace(f.name, rel + ":" + std::to_string(f.line));
				}
			}
		}
		for (auto it = changed.begin(); it != changed.end();)
			it = std::any_of(all.functions.begin(), all.functions.end(),
					 [&](const auto &f) { return f.name == it->first; })
				     ? changed.erase(it)
				     : std::next(it);
		for (const auto &f : all.functions)
			others.erase(f.name);
		for (const auto &n : names)
			others.erase(n);
		if (changed.empty() && !others.empty()) {
			error = p.input + " (" + p.row() + ") changes " + others.begin()->first + " (" + others.begin()->second +
				"), which the family may call: judging it needs the tree it applies to (check --tree DIR PATCH...)";
			return {};
		}
		if (!changed.empty()) {
			error = p.input + " (" + p.row() + ") changes " + changed.begin()->first + " (" +
				changed.begin()->second +
				") without adding it whole: judging a change needs the tree it applies to (check --tree DIR " +
				"PATCH...)";
			return {};
		}
		series_state st;
		st.row = p.row();
		const bool any_entry =
			std::any_of(all.functions.begin(), all.functions.end(), [](const auto &f) { return f.entry; });
		if (!any_entry) {
			st.untouched = true;
		} else {
			st.src = candidate_from_functions(all, p.input, "patch-" + std::to_string(k + 1), st.row);
			st.src.origin_kind = "patch";
			if (!st.src.ok()) {
				error = st.src.error;
				return {};
			}
		}
		out.push_back(std::move(st));
	}
	return out;
}

} // namespace bc::cli
