// `check PATCH...`: git format-patch files, an mbox of a series (what
// `b4 am` writes) or saved mails, read by git itself (`git mailsplit`,
// `git mailinfo`: headers, MIME, quoted-printable), put in series order, and
// turned into candidates: with --tree, the tree after every patch (applied
// with `git apply` in a private overlay, never in the tree); without one,
// the family's functions each patch adds whole.
#pragma once

#include "candidate.hpp"

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace bc::cli {

// A file that is a patch or a mail rather than C: an mbox "From " line,
// mail headers, or a diff.
bool looks_like_patch(const std::filesystem::path &file);

struct series_patch {
	std::string input;   // the file it came from ("series.mbox, mail 2")
	std::string subject; // without its [PATCH ...] prefix
	std::string tag;     // "2/3", or empty
	int number = 0, total = 0;
	std::filesystem::path diff;       // the patch alone (git mailinfo's)
	std::vector<std::string> touched; // files it changes, relative
	std::set<std::string> deleted;    // files it removes
	std::string row() const;          // the table's row: "[2/3] mm/page_alloc: ..."
};

struct series {
	std::vector<series_patch> patches; // in series order (the cover letter left out)
	std::string error;                 // bad input: one line
};

// Reads INPUTS into a series; WORK is a private directory for git's files.
series read_series(const std::vector<std::string> &inputs, const std::filesystem::path &work);

// One candidate per state of the series.  SKIP: a row with no candidate
// (verdict `untouched`: the patch changes none of the family).
struct series_state {
	std::string row;
	candidate_source src; // !src.ok(): bad input, src.error says why
	bool untouched = false;
	std::vector<std::string> notes;
};

// With a base tree: "base", then the tree after each patch.  A patch that
// does not apply is an error (one line) and ends the list.
std::vector<series_state> series_on_tree(const series &s, const std::filesystem::path &tree, const std::filesystem::path &work,
					 std::string &error);
// Without one: per patch, the family's functions it adds whole; a patch
// that changes one of them without adding it needs --tree (error).
std::vector<series_state> series_alone(const series &s, std::string &error);

} // namespace bc::cli
