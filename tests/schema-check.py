#!/usr/bin/python3
"""schema-check.py — check JSON values against a schema of the API's
official OpenAPI description.

    schema-check.py [--spec FILE] SCHEMA [FILE...]
    schema-check.py --serve       (many checks, one a line: see serve();
                                   tests/lib.sh's schema_serve)

Every line of every FILE (standard input when there is none) is one JSON
value, checked against components.schemas.SCHEMA of the spec (default:
api/anthropic-openapi-subset.json beside this script) by JSON Schema
2020-12, formats included.  Each error is printed as FILE:LINE: PATH:
MESSAGE on standard error.  Exit 0 when every value is valid; 1 when one
is not, or when there was no value at all (a check of nothing proves
nothing); 2 for a usage error, an unknown schema, or no python3-jsonschema.

The spec is OpenAPI 3.0, whose schemas are JSON Schema but for a few
words; they are read so:
  - nullable: true      the value may also be null;
  - $ref to #/components/schemas/NAME     resolved within the spec;
  - format: date-time   RFC 3339, checked (python3-jsonschema checks it
                        only when a package Debian does not have is there);
  - discriminator       only a hint: oneOf decides.
One addition to Anthropic's spec, documented by the API's errors guide (and
anthropic-batches.md) but absent from the spec: an ErrorResponse's error
may also be {"type":"request_too_large","message":...}, the error of HTTP
413.  And one reading of OpenAI's spec (--spec api/openai-openapi-subset.json),
as its API answers (openai-batch.md): a Batch's optional members may be
null, and so may first_id and last_id of an empty list.  Nothing else is
changed.

Written for Debian 12's python3-jsonschema (4.10); later ones work too.
"""
import datetime
import io
import json
import os
import re
import sys

PROG = "schema-check.py"


def die(status, msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.exit(status)


try:
    from jsonschema import Draft202012Validator, FormatChecker
    from jsonschema.exceptions import best_match
except ImportError:
    die(2, "python3-jsonschema is missing: apt-get install python3-jsonschema "
        "(make deps does it as root)")

# keywords whose values are data, not schemas
DATA = {"enum", "const", "default", "examples", "example"}


def json_schema(node):
    """The OpenAPI 3.0 schema node as JSON Schema 2020-12."""
    if isinstance(node, list):
        return [json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: (v if k in DATA else json_schema(v)) for k, v in node.items()}
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


REQUEST_TOO_LARGE = {
    "title": "RequestTooLargeError",
    "description": "HTTP 413, from the API's errors guide; not in the spec.",
    "type": "object",
    "required": ["message", "type"],
    "properties": {
        "message": {"type": "string"},
        "type": {"type": "string", "enum": ["request_too_large"]},
    },
}

def openai_nulls(schemas):
    """OpenAI's API writes null for what a Batch does not have yet (the
    optional members: output_file_id, completed_at, errors...) and first_id
    and last_id of an empty page; its spec leaves them non-nullable."""
    batch = schemas["Batch"]
    for k, v in batch["properties"].items():
        if k not in batch.get("required", []):
            v["nullable"] = True
    for name in ("ListBatchesResponse", "ListFilesResponse"):
        for k in ("first_id", "last_id"):
            schemas[name]["properties"][k]["nullable"] = True


RFC3339 = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d+)?"
                     r"([Zz]|[+-](\d\d):(\d\d))$")


def date_time(s):
    if not isinstance(s, str):
        return True
    m = RFC3339.match(s)
    if not m:
        return False
    y, mo, d, h, mi, sec = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime.datetime(y, mo, d, h, mi, min(sec, 59))
    except ValueError:
        return False
    if sec > 60 or (m.group(9) and (int(m.group(9)) > 23 or int(m.group(10)) > 59)):
        return False
    return True


def validator(spec_path, name):
    try:
        with open(spec_path) as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        die(2, "%s: %s" % (spec_path, e))
    schemas = spec.get("components", {}).get("schemas", {})
    if name not in schemas:
        die(2, "%s: no schema %s in components.schemas" % (spec_path, name))
    error = schemas.get("ErrorResponse", {}).get("properties", {}).get("error", {})
    if "oneOf" in error:        # Anthropic's spec
        schemas["RequestTooLargeError"] = REQUEST_TOO_LARGE
        error["oneOf"].append({"$ref": "#/components/schemas/RequestTooLargeError"})
    if "BatchRequestOutput" in schemas:     # OpenAI's spec
        openai_nulls(schemas)
    root = {"components": json_schema(spec["components"]),
            "$ref": "#/components/schemas/" + name}
    Draft202012Validator.check_schema(root)
    formats = FormatChecker()
    formats.checks("date-time")(date_time)
    return Draft202012Validator(root, format_checker=formats)


def wrong_branch(e, disc):
    """Whether e shows its branch of a oneOf/anyOf is not the one meant: the
    discriminator names another, or the branch is null and the value not."""
    if disc and list(e.relative_path) == [disc] and e.validator in ("enum", "const"):
        return True
    return not e.relative_path and e.validator == "type" and e.validator_value == "null"


def leaves(e):
    """The errors to show for e: of a oneOf or anyOf, those of the branch the
    value meant (by the discriminator, or not null), else the nearest."""
    if not e.context:
        yield e
        return
    disc = e.schema.get("discriminator", {}).get("propertyName")
    branches = {}
    for c in e.context:
        branches.setdefault(c.relative_schema_path[0], []).append(c)
    meant = [b for b in branches.values() if not any(wrong_branch(c, disc) for c in b)]
    if len(meant) == 1:
        for c in meant[0]:
            yield from leaves(c)
    else:
        yield best_match(e.context)


def where(path):
    return "".join("[%d]" % p if isinstance(p, int) else "." + str(p)
                   for p in path) or "."


VALIDATORS = {}     # (spec, schema): its validator, made once (--serve)


def main(argv):
    spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "api",
                        "anthropic-openapi-subset.json")
    if len(argv) >= 2 and argv[0] == "--spec":
        spec, argv = argv[1], argv[2:]
    if not argv or argv[0].startswith("-"):
        die(2, "usage: %s [--spec FILE] SCHEMA [FILE...]" % PROG)
    key = (os.path.abspath(spec), argv[0])
    if key not in VALIDATORS:
        VALIDATORS[key] = validator(spec, argv[0])
    v = VALIDATORS[key]
    files = argv[1:] or ["-"]
    values = bad = 0
    for path in files:
        try:
            f = sys.stdin if path == "-" else open(path[2:] if path.startswith("-=") else path)
        except OSError as e:
            die(2, "%s: %s" % (path, e.strerror))
        name = "stdin" if path == "-" or path.startswith("-=") else path
        for n, line in enumerate(f, 1):
            values += 1
            try:
                value = json.loads(line)
            except ValueError as e:
                sys.stderr.write("%s:%d: not JSON: %s\n" % (name, n, e))
                bad += 1
                continue
            errors = sorted(v.iter_errors(value), key=lambda e: list(e.path))
            for e in (leaf for e in errors for leaf in leaves(e)):
                sys.stderr.write("%s:%d: %s: %s\n" % (name, n, where(e.absolute_path),
                                                      e.message[:300]))
            bad += bool(errors)
        if f is not sys.stdin:
            f.close()
    if not values:
        die(1, "no JSON value to check")
    return 1 if bad else 0


def serve():
    """--serve: one check a line of standard input (the directory, then the
    arguments, tab-separated; an argument -=PATH is PATH read as stdin);
    its messages, then "::schema-check-rc:: STATUS", on standard output.
    A test file that checks often pays for python3-jsonschema's import
    (a tenth of a second) once."""
    for req in sys.stdin:
        words = req.rstrip("\n").split("\t")
        err, old = io.StringIO(), sys.stderr
        sys.stderr = err
        try:
            os.chdir(words[0])
            rc = main(words[1:])
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else 2
        except Exception as e:      # a bug here is a failed check, said
            err.write("%s: %r\n" % (PROG, e))
            rc = 2
        finally:
            sys.stderr = old
        out = err.getvalue()
        sys.stdout.write(out + ("" if not out or out.endswith("\n") else "\n"))
        sys.stdout.write("::schema-check-rc:: %d\n" % rc)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main(sys.argv[1:]))
