#!/usr/bin/env python3
"""Fails when a layer's library uses a symbol that only a higher layer defines.

The includes are checked by check_layers.py; this checks what the build made of them. A static
library's object that calls upwards can still link when the upper object happens to be pulled in
by someone else, so the link alone does not prove the arrows: the symbol tables do.

  check_symbols.py NAME=LIBRARY ...   e.g. core=.../libpreserve_core.a db=.../libpreserve_db.a
  check_symbols.py --self-test        check that an upward reference is refused
"""
import subprocess
import sys

RANK = {"core": 0, "db": 1, "telemetry": 1, "serialize": 2, "json": 3, "staleness": 4, "cache": 5,
        "api": 6, "http": 7, "items": 8}


def symbols(library):
    """(defined, undefined) global symbol names of a static library, demangled."""
    def names(*flags):
        out = subprocess.run(["nm", "-C", *flags, library], capture_output=True, text=True, check=True).stdout
        result = set()
        for line in out.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and parts[1] in "TDBRVWu":
                result.add(parts[2])
            elif len(parts) == 2 and parts[0] == "U":
                result.add(parts[1])
        return result
    return names("--defined-only", "-g"), names("-u")


def upward(defined, undefined):
    """[(layer, owners, symbol)] for every symbol a layer uses that only higher layers define."""
    owners = {}
    for layer, names in defined.items():
        for name in names:
            owners.setdefault(name, set()).add(layer)
    problems = []
    for layer, names in undefined.items():
        for name in sorted(names):
            where = owners.get(name)
            if where and layer not in where and all(RANK[o] >= RANK[layer] for o in where):
                problems.append((layer, sorted(where), name))
    return problems


def self_test():
    defined = {"db": {"Database::open()"}, "cache": {"CacheService::get(long long)"}}
    undefined = {"db": {"CacheService::get(long long)"}, "cache": {"Database::open()"}}
    problems = upward(defined, undefined)
    if problems != [("db", ["cache"], "CacheService::get(long long)")]:
        print("self-test failed: expected db -> cache only, got %s" % problems)
        return 1
    print("self-test: the upward reference was found, the downward one let pass")
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    defined, undefined = {}, {}
    for argument in sys.argv[1:]:
        layer, library = argument.split("=", 1)
        if layer not in RANK:
            print("unknown layer %s (add it to RANK)" % layer)
            return 1
        defined[layer], undefined[layer] = symbols(library)
    problems = upward(defined, undefined)
    for layer, where, name in problems:
        print("preserve_%s uses %s, defined only above it in %s" % (layer, name, ", ".join(where)))
    if problems:
        print("%d symbol(s) against the layers' order" % len(problems))
        return 1
    print("no layer uses a symbol of a layer above it (%d libraries)" % len(defined))
    return 0


if __name__ == "__main__":
    sys.exit(main())
