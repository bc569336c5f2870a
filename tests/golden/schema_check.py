#!/usr/bin/python3
"""docs/clusterctl.schema.json as an editor uses it: a valid draft-07 schema that accepts
every example config and the starter `clusterctl init` writes, and refuses what the
parser refuses (a misspelled key, a word that is not a choice, a number that is text).
    schema_check.py SCHEMA CONFIG...
YAML is read as 1.2 reads it (yaml-language-server, yaml-cpp): `on:` is a key, not true."""
import copy
import json
import re
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    pass


Yaml12Loader.yaml_implicit_resolvers = {
    first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load(path):
    with open(path) as f:
        return yaml.load(f, Loader=Yaml12Loader)


def main():
    with open(sys.argv[1]) as f:
        schema = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema)
    failed = False
    for path in sys.argv[2:]:
        for error in validator.iter_errors(load(path)):
            print(f"{path}: refused: {error.message} at {list(error.path)}")
            failed = True
    base = load(sys.argv[2])
    refused = {
        "a misspelled top-level key": lambda c: c.update(trian={}),
        "a misspelled train key": lambda c: c["train"].update(nproc=8),
        "a misspelled setup step key": lambda c: c["setup"].append({"name": "x", "rn": "y"}),
        "an unknown rdzv backend": lambda c: c["train"].update(rdzv={"backend": "zmq"}),
        "a word for a number": lambda c: c["train"].update(nproc_per_node="many"),
        "a list for a number": lambda c: c["cluster"].update(port=[22]),
        "a bad variable name for a secret": lambda c: c.update(secrets={"T": {"env": "1X"}}),
    }
    accepted = {
        "nproc_per_node: auto": lambda c: c["train"].update(nproc_per_node="auto"),
        "nnodes: MIN:MAX": lambda c: c["train"].update(nnodes="2:8"),
        "a number from a variable": lambda c: c["cluster"].update(port="${SSH_PORT}"),
        "after: steps": lambda c: c.update(after=[{"name": "m", "run": "x", "on": "first"}]),
    }
    for what, change in list(refused.items()) + list(accepted.items()):
        config = copy.deepcopy(base)
        change(config)
        ok = validator.is_valid(config)
        if ok != (what in accepted):
            print(f"{what}: {'accepted' if ok else 'refused'}, but the parser "
                  f"{'refuses' if ok else 'accepts'} it")
            failed = True
    if failed:
        sys.exit(1)
    print(f"schema_check: {len(sys.argv) - 2} configs valid, {len(refused)} bad changes refused, "
          f"{len(accepted)} good ones accepted")


main()
