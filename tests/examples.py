#!/usr/bin/env python3
"""Pull every example out of README.md and the man pages (tests/examples.t).

    examples.py RULES OUTDIR FILE...

README.md: its indented code blocks (4 spaces, or 4 more than the list item
they sit in).  man/*.1, man/*.7: the .Bd -literal ... .Ed blocks inside
.Sh EXAMPLES, with mdoc escapes turned back into shell text.

Each block is classified by rule:
  transcript  its first line starts with "$ ": the "$ " lines (and their
              "\\" continuations) are commands, the other lines the output
              shown
  run         its first word is a command: a program on PATH (the built bt
              programs come first), a shell builtin, an assignment NAME=...,
              or a crontab line (five time fields)
  format      no line of it starts with a command: a table or an output
              format, not run
Anything else (a block that starts with a word that is not a command but
holds lines that are, a bt-* program that does not exist, an mdoc escape or
macro this script does not know) is an error naming FILE:LINE, exit 1.

RULES is a file of tab-separated lines "skip PAGE REGEX REASON" and
"expect PAGE REGEX ..." (see tests/examples.t); REGEX is matched against the
example's text (re.search, MULTILINE).  A rule that matches no example is an
error too, so that the lists cannot go stale.

Substitutions made to the text (the whole list; tests/examples.t repeats it):
  1. "unset ANTHROPIC_BASE_URL;" and a line "unset ANTHROPIC_BASE_URL" are
     removed: "real API" examples run on bt-mock.
  2. A crontab line "MIN HOUR DOM MON DOW cd DIR && CMD" becomes CMD.
  3. A literal batch id msgbatch_XXXX (a reader's own id) becomes
     $(bt-list --status ended -n 1 | jq -r .id): a batch that exists.
  4. A reader's own key, ANTHROPIC_API_KEY=sk-ant-..., becomes the page's
     key ($ANTHROPIC_API_KEY): a work directory is tied to the key it was
     begun with, and the next example looks at it with the page's.

OUTDIR gets, for the Nth example (from 1): N.sh (the commands), N.expect
(a transcript's output as shown), N.outs (the files it writes with ">",
one a line), and a line of OUTDIR/manifest:
  N <TAB> PAGE <TAB> FILE:LINE <TAB> KIND <TAB> DETAIL
KIND is run, transcript, format or skip; DETAIL is the first line, the
skip's reason, or for "expect" rules the rule's words after the regex.
"""
import os
import re
import shutil
import sys

BUILTINS = set("""export unset cd set eval exec : . true false if for while
until case { ( [ test echo printf kill wait sleep read trap""".split())

MDOC_CHARS = {
    "em": "\u2014", "en": "\u2013", "->": "\u2192", "<-": "\u2190",
    "aq": "'", "dq": '"', "lq": "\u201c", "rq": "\u201d", "mu": "\u00d7",
    "ti": "~", "ha": "^", "rs": "\\", "ga": "`", "sq": "'",
}


class Bad(Exception):
    pass


def unescape(line, where):
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = line[i + 1:i + 2]
        if n == "e":
            out.append("\\")
            i += 2
        elif n == "&":
            i += 2
        elif n == "-":
            out.append("-")
            i += 2
        elif n == "(":
            name = line[i + 2:i + 4]
            if name not in MDOC_CHARS:
                raise Bad("%s: unknown mdoc character \\(%s" % (where, name))
            out.append(MDOC_CHARS[name])
            i += 4
        elif n == "[":
            j = line.find("]", i)
            name = line[i + 2:j] if j > 0 else ""
            if name not in MDOC_CHARS:
                raise Bad("%s: unknown mdoc character \\[%s]" % (where, name))
            out.append(MDOC_CHARS[name])
            i = j + 1
        else:
            raise Bad("%s: mdoc escape \\%s not understood" % (where, n))
    return "".join(out)


def man_examples(path):
    """(line, text) of each .Bd -literal block under .Sh EXAMPLES."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    section = None
    block = None
    for no, line in enumerate(lines, 1):
        where = "%s:%d" % (path, no)
        if block is not None:
            if line.startswith(".Ed"):
                out.append(block)
                block = None
            elif line.startswith(".") and not line.startswith(".\\\""):
                raise Bad("%s: mdoc macro inside an example: %s" % (where, line))
            elif not line.startswith(".\\\""):
                block[1].append(unescape(line, where))
            continue
        if line.startswith(".Sh "):
            section = line[4:].strip()
        elif section == "EXAMPLES" and line.startswith(".Bd"):
            if "-literal" not in line.split():
                raise Bad("%s: an example that is not .Bd -literal" % where)
            block = (no + 1, [])
    if block is not None:
        raise Bad("%s:%d: .Bd with no .Ed" % (path, block[0]))
    return [(no, "\n".join(b)) for no, b in out]


def readme_examples(path):
    """(line, text) of each indented code block of a markdown file."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out = []
    list_indent = None      # content indent of the list item we are in
    prev_blank = True
    block = None
    for no, line in enumerate(lines, 1):
        blank = line.strip() == ""
        indent = len(line) - len(line.lstrip(" "))
        if block is not None:
            if blank:
                block[2].append("")
                continue
            if indent >= block[1]:
                block[2].append(line[block[1]:])
                continue
            while block[2] and block[2][-1] == "":
                block[2].pop()
            out.append((block[0], "\n".join(block[2])))
            block = None
        if blank:
            prev_blank = True
            continue
        limit = 4 if list_indent is None else list_indent + 4
        if prev_blank and indent >= limit and not line.lstrip().startswith("|"):
            block = (no, indent, [line[indent:]])
            prev_blank = False
            continue
        m = re.match(r"^(\s*)(\d+\.|[-*])\s+", line)
        if m:
            list_indent = len(m.group(0))
        elif indent == 0:
            list_indent = None
        prev_blank = False
    if block is not None:
        while block[2] and block[2][-1] == "":
            block[2].pop()
        out.append((block[0], "\n".join(block[2])))
    return out


CRON = re.compile(r"^(\S+\s+){5}cd\s+\S+\s+&&\s+")
CRON5 = re.compile(r"^([-0-9*/,]+\s+){5}")


def is_command(word, path):
    if word in BUILTINS or re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
        return True
    return shutil.which(word, path=path) is not None


def first_word(line):
    return line.split()[0] if line.split() else ""


def classify(text, where, path):
    lines = [l for l in text.split("\n") if l.strip()]
    if not lines:
        raise Bad("%s: an empty example" % where)
    if lines[0].startswith("$ "):
        return "transcript"
    if CRON5.match(lines[0]):
        return "run"
    w = first_word(lines[0])
    if w.startswith("bt-") or w.startswith("bt "):
        if not is_command(w, path):
            raise Bad("%s: %s: no such program" % (where, w))
        return "run"
    if is_command(w, path):
        return "run"
    for l in lines[1:]:
        if not l.startswith((" ", "\t")) and is_command(first_word(l), path):
            raise Bad("%s: starts with \"%s\", not a command, but has "
                      "commands in it: cannot tell what it is" % (where, w))
    return "format"


def substitute(text):
    text = re.sub(r"unset ANTHROPIC_BASE_URL\s*;\s*", "", text)
    text = re.sub(r"(?m)^unset ANTHROPIC_BASE_URL\s*$", "", text)
    text = "\n".join(CRON.sub("", l) if CRON5.match(l) else l
                     for l in text.split("\n"))
    text = re.sub(r"\bmsgbatch_[A-Za-z0-9]+",
                  "$(bt-list --status ended -n 1 | jq -r .id)", text)
    text = text.replace("ANTHROPIC_API_KEY=sk-ant-...",
                        "ANTHROPIC_API_KEY=$ANTHROPIC_API_KEY")
    return text


def transcript(text, where):
    """The commands and the output shown of a "$ " block."""
    cmds, shown = [], []
    cont = False
    for l in text.split("\n"):
        if cont:
            cmds.append(l)
            cont = l.endswith("\\")
        elif l.startswith("$ "):
            cmds.append(l[2:])
            cont = l.endswith("\\")
        else:
            shown.append(l)
    return "\n".join(cmds), "\n".join(shown)


def outputs(script):
    """Files the script writes with ">" (not ">>", not ">&N")."""
    outs = []
    for m in re.finditer(r"(?<![>&0-9<])[1]?>\s*([A-Za-z0-9_.][A-Za-z0-9_./-]*)",
                         script):
        f = m.group(1)
        if f != "/dev/null" and f not in outs:
            outs.append(f)
    return outs


def main():
    if len(sys.argv) < 4:
        sys.stderr.write("usage: examples.py RULES OUTDIR FILE...\n")
        return 2
    rules_file, outdir = sys.argv[1], sys.argv[2]
    path = os.environ.get("PATH", "")
    rules = []
    for no, l in enumerate(open(rules_file, encoding="utf-8"), 1):
        l = l.rstrip("\n")
        if not l.strip() or l.startswith("#"):
            continue
        f = l.split("\t")
        if len(f) < 4 or f[0] not in ("skip", "expect"):
            raise Bad("%s:%d: want KIND<TAB>PAGE<TAB>REGEX<TAB>..." % (rules_file, no))
        rules.append({"kind": f[0], "page": f[1], "re": re.compile(f[2], re.M),
                      "rest": "\t".join(f[3:]), "used": 0,
                      "where": "%s:%d" % (rules_file, no)})
    manifest = []
    n = 0
    for file in sys.argv[3:]:
        page = os.path.basename(file)
        if page.endswith(".md"):
            blocks = readme_examples(file)
        else:
            blocks = man_examples(file)
        for line, text in blocks:
            n += 1
            where = "%s:%d" % (page, line)
            kind = classify(text, "%s:%d" % (file, line), path)
            detail = text.split("\n")[0]
            expect = []
            for r in rules:
                if r["page"] == page and r["re"].search(text):
                    r["used"] += 1
                    if r["kind"] == "skip":
                        kind, detail = "skip", r["rest"]
                    else:
                        expect.append(r["rest"])
            script = substitute(text)
            if kind == "transcript":
                script, shown = transcript(script, where)
                with open(os.path.join(outdir, "%d.expect" % n), "w") as f:
                    f.write(shown + "\n")
            if "ANTHROPIC_BASE_URL" in script and "unset" in script:
                raise Bad("%s:%d: would talk to the real API" % (file, line))
            with open(os.path.join(outdir, "%d.sh" % n), "w") as f:
                f.write(script + "\n")
            with open(os.path.join(outdir, "%d.outs" % n), "w") as f:
                f.write("".join(o + "\n" for o in outputs(script)))
            with open(os.path.join(outdir, "%d.rules" % n), "w") as f:
                f.write("".join(e + "\n" for e in expect))
            manifest.append("%d\t%s\t%s\t%s\t%s\n" % (n, page, where, kind,
                                                     detail.replace("\t", " ")))
    for r in rules:
        if not r["used"]:
            raise Bad("%s: this rule matches no example (stale?)" % r["where"])
    with open(os.path.join(outdir, "manifest"), "w") as f:
        f.write("".join(manifest))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Bad as e:
        sys.stderr.write("examples.py: %s\n" % e)
        sys.exit(1)
