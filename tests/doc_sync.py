#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""
Check that portwatch's documentation agrees with its code, in the spirit of
the kernel's tools/testing/selftests/bpf/test_bpftool_synctypes.py.

Sources compared:
  - `BINARY --help` (Commands: and Options: sections)
  - the getopt_long table (struct option long_opts[]) and the optstring in
    user/opts.c, parsed from the C source
  - docs/portwatch.8: the .TP entries of the OPTIONS and COMMANDS sections
  - README.md, if it exists: options named in a section whose heading
    contains "Options" must exist in --help

Usage: tests/doc_sync.py BINARY [--man PATH] [--opts PATH] [--readme PATH]
Output is TAP; exit status 0 when every check passes, 1 otherwise.
Python 3 standard library only.
"""

import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# One option name: -x or --long-name.
OPT = r"(?:--[A-Za-z0-9][A-Za-z0-9_-]*|-[A-Za-z0-9])"
# The option names that start an entry: "-j, --json", "--duration", "-4".
LEAD_RE = re.compile(r"^\s*(" + OPT + r"(?:\s*[,|/]\s*" + OPT + r")*)")
# An option name anywhere in free text (README).
FREE_RE = re.compile(r"(?<![\w-])(" + OPT + r")(?![\w-])")


class Option:
    """One option: its names and whether it takes an argument."""

    def __init__(self, names, takes_arg):
        self.names = frozenset(names)
        self.takes_arg = takes_arg

    @property
    def short(self):
        s = sorted(n for n in self.names if not n.startswith("--"))
        return s[0] if s else None

    @property
    def long(self):
        s = sorted(n for n in self.names if n.startswith("--"))
        return s[0] if s else None

    def key(self):
        """The name the option is identified by: its long name if any."""
        return self.long or self.short


class DocError(Exception):
    pass


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def split_entry(text):
    """'-p, --pid PID' -> (['-p', '--pid'], ' PID'); None if no option."""
    m = LEAD_RE.match(text)
    if not m:
        return None
    names = re.findall(OPT, m.group(1))
    return names, text[m.end():]


# ---------------------------------------------------------------- --help

def help_sections(text):
    """Map 'Options' -> [lines], for every 'Header:' line of the help text."""
    sections, cur = {}, None
    for line in text.splitlines():
        m = re.match(r"^([A-Z][A-Za-z ]*):\s*$", line)
        if m:
            cur = m.group(1).strip()
            sections[cur] = []
        elif cur is not None:
            if not line.strip():
                cur = None
            else:
                sections[cur].append(line)
    return sections


def parse_help(binary):
    try:
        p = subprocess.run([binary, "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise DocError("cannot run %s --help: %s" % (binary, e))
    text = p.stdout.decode("utf-8", "replace")
    sections = help_sections(text)
    opts = []
    for line in sections.get("Options", []):
        # Entries are indented; continuation lines of a description are
        # indented further and start with a letter, not a dash.
        if not re.match(r"^\s+-", line):
            continue
        names, rest = split_entry(line)
        # "--duration SEC stop ..." : an argument follows after one space
        # (or '='); the description is separated by two spaces or more.
        takes_arg = bool(re.match(r"^(=|\s\S|\[=)", rest))
        opts.append(Option(names, takes_arg))
    cmds = set()
    for line in sections.get("Commands", []):
        m = re.match(r"^\s+([a-z][a-z0-9_-]*)(\s{2,}|$)", line)
        if m:
            cmds.add(m.group(1))
    return p.returncode, text, opts, cmds


# ---------------------------------------------------------------- C source

def strip_c_comments(src):
    def repl(m):
        s = m.group(0)
        return s if s[0] in "\"'" else " "
    return re.sub(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'',
                  repl, src, flags=re.S)


def parse_optstring(s):
    """':jp:c:' -> {'j': False, 'p': True, 'c': True}."""
    out, i = {}, 0
    if s[:1] in ("+", "-"):
        i = 1
    if s[i:i + 1] == ":":
        i += 1
    while i < len(s):
        c, i = s[i], i + 1
        arg = False
        if s[i:i + 1] == ":":
            arg, i = True, i + 1
            if s[i:i + 1] == ":":
                i += 1
        out[c] = arg
    return out


def parse_c(path):
    src = strip_c_comments(read(path))
    m = re.search(r"struct\s+option\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)\}\s*;", src, re.S)
    if not m:
        raise DocError("%s: no 'struct option NAME[] = {...};' table" % path)
    table_name, body = m.group(1), m.group(2)
    entries = re.findall(
        r'\{\s*"([^"]+)"\s*,\s*(\w+)\s*,\s*[^,{}]+,\s*(\'(?:\\.|[^\'\\])\'|[\w]+)\s*\}', body)
    if not entries:
        raise DocError("%s: no entries in %s[]" % (path, table_name))
    # The optstring is a literal or a macro defined as one.
    m = re.search(r"getopt_long\s*\([^,]+,[^,]+,\s*(\"(?:\\.|[^\"\\])*\"|\w+)\s*,\s*" +
                  re.escape(table_name), src)
    if not m:
        raise DocError("%s: no getopt_long(..., \"optstring\", %s, ...) call" % (path, table_name))
    optstring = m.group(1)
    if not optstring.startswith('"'):
        d = re.search(r"#\s*define\s+" + re.escape(optstring) + r"\s+\"((?:\\.|[^\"\\])*)\"", src)
        if not d:
            raise DocError("%s: optstring macro %s is not defined as a string" % (path, optstring))
        optstring = '"' + d.group(1) + '"'
    shorts = parse_optstring(optstring[1:-1])
    opts, notes, used = [], [], set()
    for name, has_arg, val in entries:
        names = ["--" + name]
        takes_arg = has_arg in ("required_argument", "optional_argument", "1", "2")
        if val.startswith("'"):
            c = val[1:-1]
            if c in shorts:
                names.append("-" + c)
                used.add(c)
                if shorts[c] != takes_arg:
                    notes.append("user/opts.c: '-%s' takes %s in the optstring but --%s %s"
                                 % (c, "an argument" if shorts[c] else "no argument", name,
                                    has_arg))
            else:
                notes.append("user/opts.c: --%s has val '%s' but '%s' is not in the optstring"
                             % (name, c, c))
        opts.append(Option(names, takes_arg))
    for c, arg in shorts.items():
        if c not in used:  # short-only option
            opts.append(Option(["-" + c], arg))
    return opts, notes


# ---------------------------------------------------------------- man page

def roff_args(line):
    """Arguments of a macro line, honouring double quotes."""
    args, cur, q, i = [], "", False, 0
    while i < len(line):
        c = line[i]
        if c == '"':
            if q and line[i + 1:i + 2] == '"':
                cur += '"'
                i += 1
            else:
                q = not q
        elif c in " \t" and not q:
            if cur:
                args.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    if cur or q:
        args.append(cur)
    return args


def deroff(text):
    """Plain text of roff inline markup."""
    text = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", text)
    text = re.sub(r"\\\((aq|dq|lq|rq|em|en|hy)",
                  lambda m: {"aq": "'", "dq": '"', "lq": '"', "rq": '"',
                             "em": "-", "en": "-", "hy": "-"}[m.group(1)], text)
    text = text.replace("\\-", "-").replace("\\&", "").replace("\\e", "\\")
    text = text.replace("\\ ", " ").replace("\\~", " ").replace("\\|", "").replace("\\^", "")
    return text


def macro_text(line):
    """Rendered text of one input line (.B/.BR/.I... or plain)."""
    m = re.match(r"^[.']\s*([A-Za-z]+)\s*(.*)$", line)
    if not m:
        return deroff(line)
    macro, rest = m.group(1), m.group(2)
    args = roff_args(rest)
    if macro in ("BR", "RB", "BI", "IB", "IR", "RI"):
        return deroff("".join(args))        # alternating fonts: no spaces
    if macro in ("B", "I", "SM", "SB"):
        return deroff(" ".join(args))
    return None                               # another request: no text


def man_sections(text):
    sections, cur = {}, None
    for line in text.splitlines():
        if line.startswith(('.\\"', "'\\\"")):
            continue
        m = re.match(r"^\.SH\s+(.*)$", line)
        if m:
            cur = deroff(" ".join(roff_args(m.group(1)))).strip().upper()
            sections[cur] = []
        elif cur is not None:
            sections[cur].append(line)
    return sections


def tp_tags(lines):
    """The tag line that follows each .TP (and .TQ), rendered."""
    tags, want = [], False
    for line in lines:
        if re.match(r"^\.(TP|TQ)\b", line):
            want = True
            continue
        if want:
            if re.match(r"^\.(PD|IX)\b", line):
                continue
            want = False
            text = macro_text(line)
            if text is not None:
                tags.append(text)
    return tags


def parse_man(path):
    sections = man_sections(read(path))
    if "OPTIONS" not in sections:
        raise DocError("%s: no .SH OPTIONS section" % path)
    opts = []
    for tag in tp_tags(sections["OPTIONS"]):
        e = split_entry(tag)
        if not e:
            continue
        names, rest = e
        opts.append(Option(names, bool(rest.strip())))
    cmds = set()
    for tag in tp_tags(sections.get("COMMANDS", [])):
        words = tag.split()
        if words:
            cmds.add(words[0])
    return opts, cmds, "COMMANDS" in sections


# ---------------------------------------------------------------- README

def readme_options(path):
    """Options named in README sections whose heading contains 'Options'."""
    lines = read(path).splitlines()
    heads = []  # (index, level, title)
    for i, line in enumerate(lines):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if m:
            heads.append((i, len(m.group(1)), m.group(2)))
        elif i > 0 and lines[i - 1].strip() and re.match(r"^(=+|-+)\s*$", line) \
                and not lines[i - 1].lstrip().startswith(("|", "-", "*")):
            heads.append((i - 1, 1 if line.startswith("=") else 2, lines[i - 1].strip()))
    found, names = False, set()
    for n, (i, level, title) in enumerate(heads):
        if "options" not in title.lower():
            continue
        found = True
        end = len(lines)
        for j, lvl, _ in heads[n + 1:]:
            if lvl <= level:
                end = j
                break
        for line in lines[i + 1:end]:
            names.update(FREE_RE.findall(line))
    return found, names


# ---------------------------------------------------------------- checks

class Tap:
    def __init__(self):
        self.results = []

    def check(self, ok, desc, diag=(), skip=None):
        self.results.append((ok, desc, list(diag), skip))

    def emit(self):
        print("1..%d" % len(self.results))
        for k, (ok, desc, diag, skip) in enumerate(self.results, 1):
            line = "%s %d - %s" % ("ok" if ok else "not ok", k, desc)
            if skip:
                line += " # SKIP " + skip
            print(line)
            for d in diag:
                print("# " + d)
        return all(ok for ok, _, _, _ in self.results)


def display(path):
    """path relative to the repository when inside it, else as given."""
    rel = os.path.relpath(os.path.abspath(path), ROOT)
    return path if rel.startswith("..") else rel


def names_of(opts):
    out = set()
    for o in opts:
        out |= o.names
    return out


def set_diff(a, a_name, b, b_name):
    diag = []
    for n in sorted(a - b):
        diag.append("%s in %s but not in %s" % (n, a_name, b_name))
    for n in sorted(b - a):
        diag.append("%s in %s but not in %s" % (n, b_name, a_name))
    return diag


def duplicates(opts, where):
    seen, diag = {}, []
    for o in opts:
        for n in o.names:
            if n in seen:
                diag.append("%s listed twice in %s" % (n, where))
            seen[n] = True
    return diag


def fmt_pair(o):
    return ", ".join(sorted(o.names, key=lambda n: (n.startswith("--"), n)))


def main():
    ap = argparse.ArgumentParser(description="check that docs agree with the code (TAP)")
    ap.add_argument("binary", help="the built portwatch binary")
    ap.add_argument("--man", default=os.path.join(ROOT, "docs", "portwatch.8"))
    ap.add_argument("--opts", default=os.path.join(ROOT, "user", "opts.c"),
                    help="C source holding the getopt_long table")
    ap.add_argument("--readme", default=os.path.join(ROOT, "README.md"))
    a = ap.parse_args()

    tap = Tap()
    sources = {}
    try:
        rc, help_text, help_opts, help_cmds = parse_help(a.binary)
        diag = [] if help_opts else ["no option found in the Options: section of --help"]
        tap.check(rc == 0 and bool(help_opts), "%s --help exits 0 and lists options"
                  % os.path.basename(a.binary), diag + ([] if rc == 0 else ["exit status %d" % rc]))
        sources["--help"] = help_opts
    except DocError as e:
        tap.check(False, "--help can be run and parsed", [str(e)])
        help_opts, help_cmds = None, None
    try:
        c_opts, c_notes = parse_c(a.opts)
        tap.check(not c_notes, "getopt table and optstring in %s agree"
                  % display(a.opts), c_notes)
        sources["user/opts.c"] = c_opts
    except (DocError, OSError) as e:
        tap.check(False, "getopt table can be parsed", [str(e)])
        c_opts = None
    try:
        man_opts, man_cmds, man_has_cmds = parse_man(a.man)
        diag = [] if man_opts else ["no .TP option entry in OPTIONS"]
        diag += [] if man_has_cmds else ["no .SH COMMANDS section"]
        tap.check(bool(man_opts) and man_has_cmds, "man page has OPTIONS and COMMANDS entries",
                  diag)
        sources["man page"] = man_opts
    except (DocError, OSError) as e:
        tap.check(False, "man page can be parsed", [str(e)])
        man_opts, man_cmds = None, None

    dup = []
    for where, opts in sources.items():
        dup += duplicates(opts, where)
    tap.check(not dup, "no option is listed twice", dup)

    # Option names, both directions, pairwise.
    pairs = [("--help", "user/opts.c"), ("man page", "user/opts.c"), ("man page", "--help")]
    for x, y in pairs:
        if x in sources and y in sources:
            d = set_diff(names_of(sources[x]), x, names_of(sources[y]), y)
            tap.check(not d, "options: %s == %s" % (x, y), d)
        else:
            tap.check(False, "options: %s == %s" % (x, y), ["a source could not be parsed"])

    # Short and long names pair up the same way, and the same options take
    # an argument, wherever both names are documented.
    if "user/opts.c" in sources:
        ref = {}
        for o in sources["user/opts.c"]:
            for n in o.names:
                ref[n] = o
        pair_diag, arg_diag = [], []
        for where in ("--help", "man page"):
            for o in sources.get(where, []):
                r = next((ref[n] for n in sorted(o.names) if n in ref), None)
                if r is None:
                    continue
                if o.names != r.names and o.names <= names_of(sources["user/opts.c"]):
                    pair_diag.append("%s pairs '%s' but user/opts.c pairs '%s'"
                                     % (where, fmt_pair(o), fmt_pair(r)))
                if o.takes_arg != r.takes_arg:
                    arg_diag.append("%s: %s is shown %s an argument but in user/opts.c it %s"
                                    % (where, fmt_pair(o),
                                       "with" if o.takes_arg else "without",
                                       "takes one" if r.takes_arg else "takes none"))
        tap.check(not pair_diag, "short and long option names pair up as in user/opts.c",
                  pair_diag)
        tap.check(not arg_diag, "options taking an argument agree with user/opts.c", arg_diag)
    else:
        tap.check(False, "short and long option names pair up as in user/opts.c",
                  ["user/opts.c could not be parsed"])
        tap.check(False, "options taking an argument agree with user/opts.c",
                  ["user/opts.c could not be parsed"])

    # Subcommands.
    if help_cmds is not None and man_cmds is not None:
        d = set_diff(help_cmds, "--help", man_cmds, "man page COMMANDS")
        if not help_cmds:
            d.append("no command found in the Commands: section of --help")
        tap.check(not d, "commands: --help == man page COMMANDS", d)
    else:
        tap.check(False, "commands: --help == man page COMMANDS", ["a source could not be parsed"])

    # README.
    if not os.path.exists(a.readme):
        tap.check(True, "README options are a subset of --help", skip="%s not found"
                  % display(a.readme))
    else:
        found, names = readme_options(a.readme)
        if not found:
            tap.check(True, "README options are a subset of --help",
                      skip="no README section whose heading contains 'Options'")
        elif help_opts is None:
            tap.check(False, "README options are a subset of --help", ["--help not parsed"])
        else:
            extra = sorted(names - names_of(help_opts))
            tap.check(not extra, "README options are a subset of --help",
                      ["%s in README but not in --help" % n for n in extra])

    return 0 if tap.emit() else 1


if __name__ == "__main__":
    sys.exit(main())
