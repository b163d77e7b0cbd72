"""Differential oracle for src/routes/mlflow/filter-grammar.ts: MLflow's own reading of filters.

Reads a JSON array of filter strings from the file named by $FILTERS_FILE and prints, for each,
how SearchExperimentsUtils and SearchModelUtils (mlflow/utils/search_utils.py) parse it, plus
what sqlparse saw that MLflow's grammar has no business containing (comments, OR, `;`,
placeholders, several statements).
"""

import json
import os

import sqlparse
from sqlparse import tokens as T

from mlflow.utils.search_utils import SearchExperimentsUtils, SearchModelUtils


def mlflow_parse(utils, text):
    try:
        clauses = utils.parse_search_filter(text)
    except Exception as e:  # noqa: BLE001 - MLflow refusing is a result, not a failure
        return {"ok": False, "error": f"{type(e).__name__}: {e}"[:300]}
    out = []
    for c in clauses:
        value = c.get("value")
        if isinstance(value, tuple):
            value = list(value)
        out.append({"type": c["type"], "key": c["key"], "comparator": str(c["comparator"]).upper(), "value": value})
    return {"ok": True, "clauses": out}


def flags(text):
    found = set()
    try:
        statements = sqlparse.parse(text)
    except Exception:  # noqa: BLE001
        return ["unparsable"]
    if len([s for s in statements if str(s).strip()]) > 1:
        found.add("statements")
    for statement in statements:
        for tok in statement.flatten():
            if tok.ttype in T.Comment:
                found.add("comment")
            elif tok.ttype in T.Keyword and tok.normalized == "OR":
                found.add("or")
            elif tok.ttype in T.Punctuation and tok.value == ";":
                found.add("semicolon")
            elif tok.ttype in T.Name.Placeholder:
                found.add("placeholder")
            elif tok.ttype is T.Literal:
                found.add("dollar-quote")
    return sorted(found)


def main():
    with open(os.environ["FILTERS_FILE"], encoding="utf-8") as f:
        filters = json.load(f)
    results = [
        {
            "experiments": mlflow_parse(SearchExperimentsUtils, text),
            "models": mlflow_parse(SearchModelUtils, text),
            "flags": flags(text),
        }
        for text in filters
    ]
    print(json.dumps({"sqlparse": sqlparse.__version__, "results": results}))


if __name__ == "__main__":
    main()
