#!/usr/bin/python3
"""answer-check.py — check structured answers against the schemas asked for.

    answer-check.py CASES RESULTS

CASES has one JSON object a line: {"custom_id": ID, "via": "tool" or
"format", "schema": S, "word": W}.  RESULTS has results lines, as
bt-fetch writes them ({"custom_id": ID, "result": {"type": "succeeded",
"message": M}}).  For each case there must be exactly one result, a
success whose answer is valid by S under JSON Schema 2020-12 with formats
checked (python3-jsonschema): with via "tool", stop_reason tool_use and
one tool_use block whose input is the answer; with via "format",
stop_reason end_turn and one text block whose text is the answer as JSON.
When W is not null, the answer (as compact JSON) must contain W: the
answer is the request's own.  Each failure is printed as ID: MESSAGE on
standard error.  Exit 0 when every case passes (the count is printed), 1
when one does not, 2 for a usage error or no python3-jsonschema.
"""
import datetime
import ipaddress
import json
import re
import sys
import uuid

PROG = "answer-check.py"


def die(status, msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(status)


try:
    from jsonschema import Draft202012Validator, FormatChecker
except ImportError:
    die(2, "python3-jsonschema is missing: apt-get install python3-jsonschema "
        "(make deps does it as root)")

# Formats that Debian's python3-jsonschema checks only with packages
# Debian 12 does not install: checked here, strictly enough for a mock.
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$")
HOST = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                  r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$")


def fmt(checker, name, test):
    def check(s):
        if not isinstance(s, str):
            return True
        try:
            return bool(test(s))
        except ValueError:
            return False
    checker.checks(name)(check)


def formats():
    c = FormatChecker()
    fmt(c, "date-time", lambda s: RFC3339.match(s) and
        datetime.datetime.fromisoformat(s[:19]))
    fmt(c, "date", lambda s: len(s) == 10 and datetime.date.fromisoformat(s))
    fmt(c, "email", lambda s: re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", s))
    fmt(c, "hostname", HOST.match)
    fmt(c, "uri", URI.match)
    fmt(c, "ipv4", lambda s: ipaddress.IPv4Address(s))
    fmt(c, "ipv6", lambda s: ipaddress.IPv6Address(s))
    fmt(c, "uuid", lambda s: str(uuid.UUID(s)) == s.lower())
    return c


def answer(case, msg):
    """The answer in msg, or raise ValueError saying why there is none."""
    content = msg.get("content") or []
    if len(content) != 1:
        raise ValueError("%d content blocks, wanted 1" % len(content))
    block, stop = content[0], msg.get("stop_reason")
    if case["via"] == "tool":
        if stop != "tool_use" or block.get("type") != "tool_use":
            raise ValueError("stop_reason %s, block %s: wanted a tool_use" %
                             (stop, block.get("type")))
        return block.get("input")
    if stop != "end_turn" or block.get("type") != "text":
        raise ValueError("stop_reason %s, block %s: wanted end_turn, text" %
                         (stop, block.get("type")))
    try:
        return json.loads(block.get("text"))
    except (TypeError, ValueError) as e:
        raise ValueError("the text is not JSON: %s" % e)


def main(argv):
    if len(argv) != 2:
        die(2, "usage: %s CASES RESULTS" % PROG)
    try:
        with open(argv[0]) as f:
            cases = {c["custom_id"]: c for c in map(json.loads, f)}
        with open(argv[1]) as f:
            results = [json.loads(line) for line in f]
    except (OSError, ValueError, KeyError) as e:
        die(2, str(e))
    checker, bad, seen = formats(), 0, {}

    def fail(cid, why):
        nonlocal bad
        sys.stderr.write("%s: %s\n" % (cid, why))
        bad += 1

    for r in results:
        cid = r.get("custom_id")
        seen[cid] = seen.get(cid, 0) + 1
        case = cases.get(cid)
        if case is None:
            fail(cid, "no such case")
            continue
        res = r.get("result", {})
        if res.get("type") != "succeeded":
            fail(cid, "result %s: %s" % (res.get("type"), json.dumps(res)[:300]))
            continue
        try:
            a = answer(case, res["message"])
        except ValueError as e:
            fail(cid, str(e))
            continue
        v = Draft202012Validator(case["schema"], format_checker=checker)
        for e in sorted(v.iter_errors(a), key=lambda e: list(e.absolute_path)):
            fail(cid, "%s: %s" % ("/".join(map(str, e.absolute_path)) or ".",
                                  e.message[:300]))
        word = case.get("word")
        if word and word not in json.dumps(a, ensure_ascii=False):
            fail(cid, "the answer does not contain %r: %s" % (word, json.dumps(a)[:300]))
    for cid in cases:
        if seen.get(cid, 0) != 1:
            fail(cid, "answered %d times, wanted once" % seen.get(cid, 0))
    if bad:
        return 1
    print("%d answers valid" % len(cases))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
