#include "buddycheck/mutate.hpp"

#include "buddycheck/files.hpp"
#include "buddycheck/splitmix.hpp"

#include <algorithm>
#include <cctype>
#include <clang-c/Index.h>
#include <map>
#include <memory>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace bc::mutate {

const std::vector<std::string> &operator_names()
{
	static const std::vector<std::string> n = {"ROR", "LCR", "NEG", "CRP", "AOR", "MMS", "SDL", "ARS"};
	return n;
}

const std::string &operator_doc(const std::string &op)
{
	static const std::map<std::string, std::string> d = {
		{"ROR", "relational operator replacement: each of < <= > >= == != by each other"},
		{"LCR", "logical connector replacement: && and || swapped"},
		{"NEG", "condition negation: the condition of if, while, for, do and ?: wrapped in !( )"},
		{"CRP", "constant replacement: an integer literal +1 and -1 (suffix and base kept)"},
		{"AOR",
		 "arithmetic operator replacement, within a group: + - * / %; << >>; & | ^; their compound assignments; ++ and --"},
		{"MMS", "min/max swap: min <-> max, min_t <-> max_t"},
		{"SDL", "statement deletion: a call, an assignment, an increment, break, continue or return becomes ;"},
		{"ARS", "argument swap: two arguments of the same type in a call exchanged"},
	};
	static const std::string none;
	auto it = d.find(op);
	return it == d.end() ? none : it->second;
}

namespace {

std::string take(CXString s)
{
	const char *c = clang_getCString(s);
	std::string r = c ? c : "";
	clang_disposeString(s);
	return r;
}

struct token {
	CXTokenKind kind;
	std::string text;
	unsigned begin, end;
};

struct raw_edit {
	std::string op, function;
	size_t offset, length;
	std::string replacement;
};

const std::set<std::string> relational = {"<", "<=", ">", ">=", "==", "!="};
const std::vector<std::vector<std::string>> arithmetic_groups = {{"+", "-", "*", "/", "%"},
								 {"<<", ">>"},
								 {"&", "|", "^"},
								 {"+=", "-=", "*=", "/=", "%="},
								 {"<<=", ">>=", "&=", "|=", "^="}};

struct walker {
	CXTranslationUnit tu;
	CXFile file;
	const std::string &text;
	std::vector<token> toks;
	std::vector<raw_edit> edits;
	std::string fn;
	unsigned fn_begin = 0, fn_end = 0;

	walker(CXTranslationUnit t, CXFile f, const std::string &s) : tu(t), file(f), text(s) {}

	// LOC's offset in the main file (a macro body's location is its
	// expansion's, a macro argument's where it is written), or false.
	bool offset(CXSourceLocation loc, unsigned &off) const
	{
		CXFile f = nullptr;
		unsigned line, col;
		clang_getFileLocation(loc, &f, &line, &col, &off);
		return f && clang_File_isEqual(f, file);
	}
	bool range(CXCursor c, unsigned &b, unsigned &e) const
	{
		const CXSourceRange r = clang_getCursorExtent(c);
		return offset(clang_getRangeStart(r), b) && offset(clang_getRangeEnd(r), e) && b < e && b >= fn_begin &&
		       e <= fn_end;
	}

	// The index of the token that starts at OFF, or -1.
	int tok_at(unsigned off) const
	{
		auto it = std::lower_bound(toks.begin(), toks.end(), off, [](const token &t, unsigned o) { return t.begin < o; });
		return it != toks.end() && it->begin == off ? int(it - toks.begin()) : -1;
	}
	// The index of the token that ends at OFF, or -1.
	int tok_ending(unsigned off) const
	{
		auto it = std::lower_bound(toks.begin(), toks.end(), off, [](const token &t, unsigned o) { return t.end < o; });
		return it != toks.end() && it->end == off ? int(it - toks.begin()) : -1;
	}
	// The tokens wholly inside [b, e).
	std::vector<int> between(unsigned b, unsigned e) const
	{
		std::vector<int> v;
		auto it = std::lower_bound(toks.begin(), toks.end(), b, [](const token &t, unsigned o) { return t.begin < o; });
		for (; it != toks.end() && it->end <= e; ++it)
			v.push_back(int(it - toks.begin()));
		return v;
	}
	// The index of the token that closes the bracket at I, or -1.
	int matching(int i) const
	{
		const std::string open = toks[i].text, close = open == "(" ? ")" : open == "[" ? "]" : "}";
		int depth = 0;
		for (size_t j = i; j < toks.size(); j++) {
			if (toks[j].text == open)
				depth++;
			else if (toks[j].text == close && --depth == 0)
				return int(j);
		}
		return -1;
	}
	bool in_fn(unsigned b, unsigned e) const { return b >= fn_begin && e <= fn_end; }

	void add(const std::string &op, size_t off, size_t len, const std::string &rep)
	{
		if (text.compare(off, len, rep) != 0)
			edits.push_back({op, fn, off, len, rep});
	}

	static std::vector<CXCursor> kids(CXCursor c)
	{
		std::vector<CXCursor> v;
		clang_visitChildren(
			c,
			[](CXCursor k, CXCursor, CXClientData d) {
				static_cast<std::vector<CXCursor> *>(d)->push_back(k);
				return CXChildVisit_Continue;
			},
			&v);
		return v;
	}

	// The operator token of a binary expression with operands L and R: the
	// one token written between them, when it is an operator of the set
	// (an operator of a macro's body has no token of its own there; a
	// comma between a macro's arguments is not one of the set).
	int binary_token(CXCursor c, CXCursor l, CXCursor r, std::string &opcode) const
	{
		unsigned lb, le, rb, re;
		if (!range(l, lb, le) || !range(r, rb, re) || le > rb)
			return -1;
		const std::vector<int> t = between(le, rb);
		if (t.size() != 1 || toks[t[0]].kind != CXToken_Punctuation)
			return -1;
		const std::string &o = toks[t[0]].text;
		const bool compound = clang_getCursorKind(c) == CXCursor_CompoundAssignOperator;
		bool known = false;
		for (size_t g = 0; g < arithmetic_groups.size(); g++)
			if (std::find(arithmetic_groups[g].begin(), arithmetic_groups[g].end(), o) != arithmetic_groups[g].end())
				known = compound == (g >= 3);
		if (!compound && (relational.count(o) || o == "&&" || o == "||" || o == "="))
			known = true;
		if (!known)
			return -1;
		opcode = o;
		return t[0];
	}

	void binary(CXCursor c, const std::vector<CXCursor> &k)
	{
		std::string op;
		const int t = k.size() == 2 ? binary_token(c, k[0], k[1], op) : -1;
		if (t < 0)
			return;
		const token &tk = toks[t];
		if (relational.count(op))
			for (const auto &o : {"<", "<=", ">", ">=", "==", "!="})
				add("ROR", tk.begin, tk.end - tk.begin, o);
		if (op == "&&" || op == "||")
			add("LCR", tk.begin, tk.end - tk.begin, op == "&&" ? "||" : "&&");
		for (const auto &g : arithmetic_groups)
			if (std::find(g.begin(), g.end(), op) != g.end())
				for (const auto &o : g)
					add("AOR", tk.begin, tk.end - tk.begin, o);
	}

	// The ++ or -- token of an increment or decrement C, or -1.
	int increment_token(CXCursor c) const
	{
		const std::vector<CXCursor> k = kids(c);
		unsigned b, e, sb, se;
		if (k.size() != 1 || !range(c, b, e) || !range(k[0], sb, se))
			return -1;
		int t = -1;
		if (b < sb && se == e)
			t = tok_at(b); // prefix
		else if (b == sb && se < e)
			t = tok_ending(e); // postfix
		if (t < 0 || (toks[t].text != "++" && toks[t].text != "--"))
			return -1;
		if (b < sb ? toks[t].end != sb : toks[t].begin != se)
			return -1;
		return t;
	}

	void unary(CXCursor c)
	{
		if (const int t = increment_token(c); t >= 0)
			add("AOR", toks[t].begin, 2, toks[t].text == "++" ? "--" : "++");
	}

	void negate(unsigned b, unsigned e)
	{
		if (b < e && in_fn(b, e))
			add("NEG", b, e - b, "!(" + text.substr(b, e - b) + ")");
	}

	// The condition of if/while (written: the keyword begins the statement).
	void keyword_condition(CXCursor c, const char *keyword)
	{
		unsigned b, e;
		if (!range(c, b, e))
			return;
		const int t = tok_at(b);
		if (t < 0 || toks[t].text != keyword || size_t(t + 1) >= toks.size() || toks[t + 1].text != "(")
			return;
		const int close = matching(t + 1);
		if (close < 0 || toks[close].end > e)
			return;
		negate(toks[t + 1].end, toks[close].begin);
	}

	void conditional(const std::vector<CXCursor> &k)
	{
		unsigned cb, ce, tb, te;
		if (k.size() != 3 || !range(k[0], cb, ce) || !range(k[1], tb, te) || ce > tb)
			return;
		const std::vector<int> t = between(ce, tb);
		if (t.size() == 1 && toks[t[0]].text == "?")
			negate(cb, ce);
	}

	void literal(CXCursor c)
	{
		unsigned b, e;
		if (!range(c, b, e))
			return;
		const int t = tok_at(b);
		if (t < 0 || toks[t].kind != CXToken_Literal || toks[t].end != e)
			return;
		const std::string s = toks[t].text;
		size_t digits_end = 0;
		int base = 10;
		size_t start = 0;
		if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
			base = 16;
			start = 2;
		} else if (s.size() > 1 && s[0] == '0' && std::isdigit((unsigned char)s[1])) {
			base = 8;
			start = 1;
		}
		digits_end = start;
		while (digits_end < s.size() && std::isxdigit((unsigned char)s[digits_end]) &&
		       (base == 16 || std::isdigit((unsigned char)s[digits_end])))
			digits_end++;
		const std::string suffix = s.substr(digits_end);
		if (digits_end == start || suffix.find_first_not_of("uUlL") != std::string::npos || digits_end - start > 15)
			return; // a float, a character, or too long to count
		const unsigned long long v = std::stoull(s.substr(start, digits_end - start), nullptr, base);
		auto spell = [&](unsigned long long x) {
			std::ostringstream o;
			if (base == 16)
				o << s.substr(0, 2) << std::hex << x;
			else if (base == 8)
				o << "0" << std::oct << x;
			else
				o << x;
			return o.str() + suffix;
		};
		add("CRP", b, e - b, spell(v + 1));
		add("CRP", b, e - b, v ? spell(v - 1) : "-" + spell(1));
	}

	// Two arguments of the same type exchanged, in a call written in the file.
	void call_args(CXCursor c)
	{
		unsigned b, e;
		const int n = clang_Cursor_getNumArguments(c);
		if (n < 2 || !range(c, b, e))
			return;
		const int t = tok_at(b);
		if (t < 0 || toks[t].kind != CXToken_Identifier || toks[t].text != take(clang_getCursorSpelling(c)) ||
		    size_t(t + 1) >= toks.size() || toks[t + 1].text != "(")
			return;
		struct arg {
			unsigned b, e;
			std::string type;
		};
		std::vector<arg> args;
		unsigned last = toks[t + 1].end;
		for (int i = 0; i < n; i++) {
			CXCursor a = clang_Cursor_getArgument(c, unsigned(i));
			unsigned ab, ae;
			if (!range(a, ab, ae) || ab < last)
				return;
			// Through implicit conversions: the type of what is written.
			for (auto k = kids(a); clang_getCursorKind(a) == CXCursor_UnexposedExpr && k.size() == 1; k = kids(a))
				a = k[0];
			args.push_back({ab, ae, take(clang_getTypeSpelling(clang_getCanonicalType(clang_getCursorType(a))))});
			last = ae;
		}
		for (size_t i = 0; i < args.size(); i++)
			for (size_t j = i + 1; j < args.size(); j++) {
				if (args[i].type != args[j].type || args[i].type.empty())
					continue;
				const std::string ai = text.substr(args[i].b, args[i].e - args[i].b),
						  aj = text.substr(args[j].b, args[j].e - args[j].b);
				if (ai == aj)
					continue;
				add("ARS", args[i].b, args[j].e - args[i].b,
				    aj + text.substr(args[i].e, args[j].b - args[i].e) + ai);
			}
	}

	// A statement in a statement's place (not a condition): deleted when it
	// is a call (of a function or a macro), an assignment, an increment,
	// break, continue or return.
	void deletable(CXCursor s)
	{
		unsigned b, e;
		if (!range(s, b, e))
			return;
		const int t = tok_at(b), last = tok_ending(e);
		if (t < 0 || last < 0)
			return;
		const CXCursorKind k = clang_getCursorKind(s);
		bool ok = false;
		if (k == CXCursor_BreakStmt || k == CXCursor_ContinueStmt || k == CXCursor_ReturnStmt)
			ok = toks[t].text == take(clang_getCursorSpelling(s)) ||
			     toks[t].text == (k == CXCursor_BreakStmt      ? "break"
					      : k == CXCursor_ContinueStmt ? "continue"
									   : "return");
		else if (toks[t].kind == CXToken_Identifier && size_t(t + 1) < toks.size() && toks[t + 1].text == "(" &&
			 matching(t + 1) == last)
			ok = true; // a call, or a macro used as a statement
		else if (k == CXCursor_BinaryOperator || k == CXCursor_CompoundAssignOperator) {
			const auto c = kids(s);
			std::string op;
			ok = c.size() == 2 && binary_token(s, c[0], c[1], op) >= 0 &&
			     (op == "=" ||
			      std::any_of(arithmetic_groups.begin() + 3, arithmetic_groups.end(),
					  [&](const auto &g) { return std::find(g.begin(), g.end(), op) != g.end(); }));
		} else if (k == CXCursor_UnaryOperator) {
			ok = increment_token(s) >= 0;
		}
		if (ok)
			add("SDL", b, e - b, "");
	}

	// C is a statement written in the file: it begins with its KEYWORD.
	bool written(CXCursor c, const char *keyword) const
	{
		unsigned b, e;
		const int t = range(c, b, e) ? tok_at(b) : -1;
		return t >= 0 && toks[t].text == keyword;
	}

	void statement_place(CXCursor s)
	{
		if (clang_getCursorKind(s) != CXCursor_CompoundStmt)
			deletable(s);
	}

	void walk(CXCursor c)
	{
		const CXCursorKind k = clang_getCursorKind(c);
		const std::vector<CXCursor> ch = kids(c);
		switch (k) {
		case CXCursor_BinaryOperator:
		case CXCursor_CompoundAssignOperator:
			binary(c, ch);
			break;
		case CXCursor_UnaryOperator:
			unary(c);
			break;
		case CXCursor_ConditionalOperator:
			conditional(ch);
			break;
		case CXCursor_IntegerLiteral:
			literal(c);
			break;
		case CXCursor_CallExpr:
			call_args(c);
			break;
		case CXCursor_CompoundStmt:
			if (written(c, "{"))
				for (const auto &s : ch)
					statement_place(s);
			break;
		case CXCursor_IfStmt:
			if (written(c, "if")) {
				keyword_condition(c, "if");
				for (size_t i = 1; i < ch.size(); i++)
					statement_place(ch[i]);
			}
			break;
		case CXCursor_WhileStmt:
			if (written(c, "while")) {
				keyword_condition(c, "while");
				if (ch.size() == 2)
					statement_place(ch[1]);
			}
			break;
		case CXCursor_DoStmt: {
			unsigned b, e, cb, ce;
			if (ch.size() == 2 && range(c, b, e) && tok_at(b) >= 0 && toks[tok_at(b)].text == "do" &&
			    range(ch[1], cb, ce)) {
				// do BODY while ( COND ): the parentheses around COND.
				const std::vector<int> before = between(b, cb);
				if (before.size() >= 2 && toks[before.back()].text == "(" &&
				    toks[before[before.size() - 2]].text == "while") {
					const int close = matching(before.back());
					if (close >= 0)
						negate(toks[before.back()].end, toks[close].begin);
				}
				statement_place(ch[0]);
			}
			break;
		}
		case CXCursor_ForStmt: {
			unsigned b, e;
			const int t = range(c, b, e) ? tok_at(b) : -1;
			if (t < 0 || toks[t].text != "for" || size_t(t + 1) >= toks.size() || toks[t + 1].text != "(")
				break;
			const int close = matching(t + 1);
			if (close < 0)
				break;
			int depth = 0;
			std::vector<int> semis;
			for (int i = t + 1; i <= close; i++) {
				const std::string &x = toks[i].text;
				depth += x == "(" || x == "[" || x == "{" ? 1 : x == ")" || x == "]" || x == "}" ? -1 : 0;
				if (depth == 1 && x == ";")
					semis.push_back(i);
			}
			if (semis.size() != 2)
				break;
			const unsigned s1 = toks[semis[0]].begin, s2 = toks[semis[1]].begin, rp = toks[close].begin;
			if (semis[1] > semis[0] + 1)
				negate(toks[semis[0] + 1].begin, toks[semis[1] - 1].end);
			for (const auto &x : ch) {
				unsigned xb, xe;
				if (!range(x, xb, xe))
					continue;
				if (xe <= s1 && clang_getCursorKind(x) != CXCursor_DeclStmt)
					deletable(x); // the initialisation
				else if (xb > s2 && xe <= rp)
					deletable(x); // the increment
				else if (xb > rp)
					statement_place(x); // the body
			}
			break;
		}
		case CXCursor_CaseStmt:
		case CXCursor_DefaultStmt:
			if (!ch.empty() && (written(c, "case") || written(c, "default")))
				statement_place(ch.back());
			break;
		default:
			break;
		}
		for (const auto &x : ch)
			walk(x);
	}

	// min <-> max, min_t <-> max_t: macros, found as the written tokens.
	void min_max()
	{
		for (size_t i = 0; i + 1 < toks.size(); i++) {
			const token &t = toks[i];
			if (t.kind != CXToken_Identifier || !in_fn(t.begin, t.end) || toks[i + 1].text != "(")
				continue;
			static const std::map<std::string, std::string> swap = {
				{"min", "max"}, {"max", "min"}, {"min_t", "max_t"}, {"max_t", "min_t"}};
			if (auto it = swap.find(t.text); it != swap.end())
				add("MMS", t.begin, t.end - t.begin, it->second);
		}
	}
};

struct fn_info {
	std::string name;
	unsigned begin = 0, end = 0; // the body
	CXCursor body;
	std::set<std::string> calls;
};

std::string normalise(const std::string &s)
{
	std::string o;
	bool space = false;
	for (char c : s) {
		if (std::isspace((unsigned char)c)) {
			space = !o.empty();
			continue;
		}
		if (space)
			o += ' ';
		space = false;
		o += c;
	}
	return o;
}

} // namespace

std::string apply(const std::string &text, const mutant &m)
{
	std::string s = text;
	s.replace(m.offset, m.length, m.replacement);
	return s;
}

generate_result generate_mutants(const fs::path &file, const std::string &text, const generate_options &opt)
{
	generate_result res;
	std::vector<std::string> args = opt.extra_args;
	for (const auto &d : opt.include_dirs)
		args.push_back("-I" + d);
	args.push_back("-xc");
	std::vector<const char *> argv;
	for (const auto &a : args)
		argv.push_back(a.c_str());
	const std::string path = file.string();
	CXUnsavedFile unsaved{path.c_str(), text.data(), (unsigned long)text.size()};
	std::unique_ptr<void, void (*)(void *)> index(clang_createIndex(0, 0), [](void *i) { clang_disposeIndex(i); });
	CXTranslationUnit tu = nullptr;
	const CXErrorCode err = clang_parseTranslationUnit2(index.get(), path.c_str(), argv.data(), int(argv.size()), &unsaved, 1,
							    CXTranslationUnit_KeepGoing, &tu);
	if (err != CXError_Success || !tu) {
		res.error = path + ": libclang could not parse the file (error " + std::to_string(int(err)) + ")";
		return res;
	}
	std::unique_ptr<CXTranslationUnitImpl, void (*)(CXTranslationUnit)> tu_owner(tu, clang_disposeTranslationUnit);
	for (unsigned i = 0, n = clang_getNumDiagnostics(tu); i < n; i++) {
		CXDiagnostic d = clang_getDiagnostic(tu, i);
		if (clang_getDiagnosticSeverity(d) >= CXDiagnostic_Error)
			res.diagnostics.push_back(take(clang_formatDiagnostic(d, clang_defaultDiagnosticDisplayOptions())));
		clang_disposeDiagnostic(d);
	}
	CXFile main = clang_getFile(tu, path.c_str());
	if (!main) {
		res.error = path + ": libclang could not parse the file";
		return res;
	}
	walker w(tu, main, text);
	{
		CXToken *tk = nullptr;
		unsigned n = 0;
		const CXSourceRange all = clang_getRange(clang_getLocationForOffset(tu, main, 0),
							 clang_getLocationForOffset(tu, main, unsigned(text.size())));
		clang_tokenize(tu, all, &tk, &n);
		for (unsigned i = 0; i < n; i++) {
			unsigned b, e;
			const CXSourceRange r = clang_getTokenExtent(tu, tk[i]);
			if (!w.offset(clang_getRangeStart(r), b) || !w.offset(clang_getRangeEnd(r), e))
				continue;
			w.toks.push_back({clang_getTokenKind(tk[i]), take(clang_getTokenSpelling(tu, tk[i])), b, e});
		}
		clang_disposeTokens(tu, tk, n);
		std::sort(w.toks.begin(), w.toks.end(), [](const token &a, const token &b) { return a.begin < b.begin; });
	}
	// Every function the file defines, with the functions it calls.
	std::vector<fn_info> defined;
	for (const CXCursor &c : walker::kids(clang_getTranslationUnitCursor(tu))) {
		if (clang_getCursorKind(c) != CXCursor_FunctionDecl || !clang_isCursorDefinition(c))
			continue;
		fn_info f;
		f.name = take(clang_getCursorSpelling(c));
		bool have = false;
		for (const CXCursor &k : walker::kids(c))
			if (clang_getCursorKind(k) == CXCursor_CompoundStmt) {
				const CXSourceRange r = clang_getCursorExtent(k);
				have = w.offset(clang_getRangeStart(r), f.begin) && w.offset(clang_getRangeEnd(r), f.end);
				f.body = k;
			}
		if (!have)
			continue;
		clang_visitChildren(
			f.body,
			[](CXCursor k, CXCursor, CXClientData d) {
				if (clang_getCursorKind(k) == CXCursor_CallExpr)
					static_cast<std::set<std::string> *>(d)->insert(take(clang_getCursorSpelling(k)));
				return CXChildVisit_Recurse;
			},
			&f.calls);
		defined.push_back(f);
	}
	// The family: the entry points defined, and what they call that the file defines.
	std::set<std::string> family;
	for (const auto &f : defined)
		if (std::find(opt.entry_points.begin(), opt.entry_points.end(), f.name) != opt.entry_points.end())
			family.insert(f.name);
	for (bool grew = true; grew;) {
		grew = false;
		for (const auto &f : defined)
			if (family.count(f.name))
				for (const auto &g : defined)
					if (f.calls.count(g.name) && family.insert(g.name).second)
						grew = true;
	}
	if (family.empty()) {
		std::string list;
		for (const auto &n : opt.entry_points)
			list += (list.empty() ? "" : ", ") + n;
		res.error = path + ": defines none of the family's functions (" + list + ")";
		return res;
	}
	for (const auto &f : defined) {
		if (!family.count(f.name) || std::find(res.functions.begin(), res.functions.end(), f.name) != res.functions.end())
			continue;
		res.functions.push_back(f.name);
		w.fn = f.name;
		w.fn_begin = f.begin;
		w.fn_end = f.end;
		w.walk(f.body);
		w.min_max();
	}
	// Deterministic order, duplicates (one edit reached twice) dropped.
	std::vector<raw_edit> &e = w.edits;
	const auto &ops = operator_names();
	auto op_index = [&](const std::string &o) { return std::find(ops.begin(), ops.end(), o) - ops.begin(); };
	std::sort(e.begin(), e.end(), [&](const raw_edit &a, const raw_edit &b) {
		return std::tuple(a.offset, op_index(a.op), a.length, a.replacement) <
		       std::tuple(b.offset, op_index(b.op), b.length, b.replacement);
	});
	e.erase(std::unique(e.begin(), e.end(),
			    [](const raw_edit &a, const raw_edit &b) {
				    return a.offset == b.offset && a.length == b.length && a.replacement == b.replacement &&
					   a.op == b.op;
			    }),
		e.end());
	std::map<std::string, int> per_op, per_key;
	for (const auto &x : e) {
		mutant m;
		m.op = x.op;
		m.function = x.function;
		m.offset = x.offset;
		m.length = x.length;
		m.replacement = x.replacement;
		m.id = x.op + "-" + std::to_string(++per_op[x.op]);
		const size_t ls = text.rfind('\n', x.offset == 0 ? 0 : x.offset - 1);
		const size_t line_start = x.offset == 0 || ls == std::string::npos ? 0 : ls + 1;
		size_t line_end = text.find('\n', x.offset + x.length);
		if (line_end == std::string::npos)
			line_end = text.size();
		m.line = int(std::count(text.begin(), text.begin() + long(x.offset), '\n')) + 1;
		m.column = int(x.offset - line_start) + 1;
		const std::string orig = text.substr(line_start, line_end - line_start);
		std::string mut = orig;
		mut.replace(x.offset - line_start, x.length, x.replacement);
		m.original = normalise(orig);
		m.mutated = normalise(mut);
		std::string key = m.function + " " + m.op + " `" + m.original + "` -> `" + m.mutated + "`";
		const int n = ++per_key[key];
		if (n > 1)
			key += " #" + std::to_string(n);
		m.key = key;
		res.mutants.push_back(std::move(m));
	}
	return res;
}

equivalents_file load_equivalents(const fs::path &file)
{
	equivalents_file r;
	std::string text;
	if (auto err = read_file(file, text)) {
		r.error = file.string() + ": " + *err;
		return r;
	}
	std::istringstream in(text);
	int n = 0;
	for (std::string line; std::getline(in, line);) {
		n++;
		if (line.empty() || line[0] == '#')
			continue;
		const size_t tab = line.find('\t');
		if (tab == std::string::npos || tab == 0 || line.find_first_not_of(" \t", tab) == std::string::npos) {
			r.error = file.string() + ":" + std::to_string(n) + ": expected KEY<TAB>REASON";
			return r;
		}
		r.entries.push_back({line.substr(0, tab), line.substr(line.find_first_not_of(" \t", tab))});
	}
	return r;
}

std::vector<size_t> sample(const std::vector<mutant> &mutants, size_t n, uint64_t seed)
{
	std::vector<size_t> all(mutants.size());
	for (size_t i = 0; i < all.size(); i++)
		all[i] = i;
	if (n >= mutants.size())
		return all;
	// Each operator's mutants shuffled (Fisher-Yates on splitmix64), then
	// taken round robin over the operators.
	std::vector<std::vector<size_t>> by_op;
	for (const auto &op : operator_names()) {
		std::vector<size_t> v;
		for (size_t i = 0; i < mutants.size(); i++)
			if (mutants[i].op == op)
				v.push_back(i);
		uint64_t st = seed;
		for (unsigned char ch : op) // FNV-1a of the name: the same sequence everywhere
			st = (st ^ ch) * 0x100000001b3ULL;
		for (size_t i = v.size(); i > 1; i--)
			std::swap(v[i - 1], v[splitmix64(st) % i]);
		by_op.push_back(v);
	}
	std::vector<size_t> out;
	for (size_t round = 0; out.size() < n; round++)
		for (const auto &v : by_op)
			if (round < v.size() && out.size() < n)
				out.push_back(v[round]);
	std::sort(out.begin(), out.end());
	return out;
}

} // namespace bc::mutate
