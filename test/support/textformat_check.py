"""Google's own text_format as the judge of tritonscale's text-format output.

Reads JSON from stdin: {"module_dir": str, "module": str, "message": str,
"cases": [{"name": str, "original": str, "formatted": str}]} and prints JSON:
[{"name", "ok", "error"}] where ok means both texts parse with google.protobuf's
text_format into equal messages. Run with /usr/bin/python3 (Debian's python3-protobuf).
"""
import importlib
import json
import sys

from google.protobuf import text_format

req = json.load(sys.stdin)
sys.path.insert(0, req["module_dir"])
module = importlib.import_module(req["module"])
cls = getattr(module, req["message"])
results = []
for case in req["cases"]:
    out = {"name": case["name"], "ok": False, "error": None}
    try:
        want = text_format.Parse(case["original"], cls())
    except text_format.ParseError as e:
        out["error"] = "google rejects the original: %s" % e
        results.append(out)
        continue
    if case.get("formatted") is None:
        out["ok"] = True
        results.append(out)
        continue
    try:
        got = text_format.Parse(case["formatted"], cls())
    except text_format.ParseError as e:
        out["error"] = "google rejects our output: %s" % e
        results.append(out)
        continue
    if got == want:
        out["ok"] = True
    else:
        out["error"] = "messages differ:\n--- google(original)\n%s--- google(ours)\n%s" % (
            text_format.MessageToString(want),
            text_format.MessageToString(got),
        )
    results.append(out)
json.dump(results, sys.stdout)
