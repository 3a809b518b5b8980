#!/usr/bin/env python3
"""check_schema.py SCHEMA FILE [--lines]: validates FILE (one JSON document, or with --lines
every line of a JSON Lines file) against the JSON Schema SCHEMA; prints each failure with its
line and exits 1 on any. Used by tests/integration/record_test.cc."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
validator = jsonschema.Draft202012Validator(schema)
docs = []
if "--lines" in sys.argv[3:]:
    docs = [(n, json.loads(line)) for n, line in enumerate(open(sys.argv[2]), 1)]
else:
    docs = [(1, json.load(open(sys.argv[2])))]
bad = 0
for n, doc in docs:
    for error in validator.iter_errors(doc):
        print(f"line {n}: {error.json_path}: {error.message}")
        bad += 1
print(f"{len(docs)} document(s), {bad} failure(s)")
sys.exit(1 if bad else 0)
