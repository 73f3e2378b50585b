#!/usr/bin/env python3
"""Fails when an #include runs against the layers' order (docs/architecture.md):

    core -> db, telemetry -> serialize -> json -> staleness -> cache -> api -> http -> items -> views -> app

A file may include headers of its own folder and of any layer below its own; siblings of one rank
(db and telemetry) do not include each other. models/ never includes a QtWidgets header, and
views/ neither writes files nor starts threads (no QFile, QSaveFile, QThread, QThreadPool,
QtConcurrent): that work lives in models/, behind signals. models/api/ never includes
microhttpd.h: the API answers plain Replies and the transport (models/http/) sends them.

Each layer of models/ is its own library (models/LAYER/CMakeLists.txt, `preserve_layer(LAYER ...
BELOW ...)`): its BELOW list names only lower layers, and every layer it includes is reachable
through it, so what the includes say and what the build links are the same arrows.

  check_layers.py ROOT            check the tree under ROOT (models/, views/, app/)
  check_layers.py --self-test     check that a tree with a violation is refused
"""
import os
import re
import sys
import tempfile

RANK = {
    "core": 0, "db": 1, "telemetry": 1, "serialize": 2, "json": 3, "staleness": 4, "cache": 5,
    "api": 6, "http": 7, "items": 8, "views": 9, "app": 10,
}
WIDGETS = re.compile(r"#include <(QtWidgets/|QtCharts/)?(QWidget|QApplication|QMainWindow|QDialog|QLabel|QPushButton|QTreeView|QChart\w*)>")
VIEW_IO = re.compile(r"#include <(QtCore/)?(QFile|QSaveFile|QThread|QThreadPool|QtConcurrent\w*)>")
TRANSPORT = re.compile(r"#include <microhttpd\.h>")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
LAYER_CALL = re.compile(r"preserve_layer\((\w+)(.*?)\n\)", re.S)
BELOW = re.compile(r"^\s*BELOW\s+([\w ]+)$", re.M)


def linked_layers(root):
    """{layer: set of layers it links, directly or through them}, from models/*/CMakeLists.txt."""
    direct, problems = {}, []
    models = os.path.join(root, "models")
    for name in sorted(os.listdir(models)) if os.path.isdir(models) else []:
        cmake = os.path.join(models, name, "CMakeLists.txt")
        if not os.path.isfile(cmake):
            continue
        with open(cmake, encoding="utf-8") as f:
            call = LAYER_CALL.search(f.read())
        if not call or call.group(1) != name:
            problems.append("%s: declares no preserve_layer(%s ...)" % (os.path.relpath(cmake, root), name))
            continue
        below = BELOW.search(call.group(2))
        direct[name] = set(below.group(1).split()) if below else set()
        for lower in direct[name]:
            if lower not in RANK or RANK[lower] >= RANK.get(name, -1):
                problems.append("%s: links %s, which is not below %s" % (os.path.relpath(cmake, root), lower, name))
    closure = {}
    for name in direct:
        seen, todo = set(), list(direct[name])
        while todo:
            layer = todo.pop()
            if layer not in seen:
                seen.add(layer)
                todo.extend(direct.get(layer, ()))
        closure[name] = seen
    return closure, problems


def layer_of(root, path):
    parts = os.path.relpath(path, root).split(os.sep)
    if parts[0] == "models":
        return parts[1] if len(parts) > 2 else None
    return parts[0]


def check(root):
    links, problems = linked_layers(root)
    for top in ("models", "views", "app"):
        for folder, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.join(folder, name)
                source = layer_of(root, path)
                if source not in RANK:
                    problems.append("%s: folder %s is in no layer (add it to RANK and the docs)" % (path, source))
                    continue
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                if top == "models" and WIDGETS.search(text):
                    problems.append("%s: models/ includes a widget header (%s)" % (path, WIDGETS.search(text).group(0)))
                if source == "api" and TRANSPORT.search(text):
                    problems.append("%s: the API includes the transport's library (%s): it answers plain Replies" % (path, TRANSPORT.search(text).group(0)))
                if top == "views" and VIEW_IO.search(text):
                    problems.append("%s: views/ does file or thread work (%s): move it to models/" % (path, VIEW_IO.search(text).group(0)))
                for match in INCLUDE.finditer(text):
                    included = match.group(1)
                    if "/" not in included:
                        continue  # its own folder
                    target = included.split("/")[0]
                    if target not in RANK:
                        continue  # not one of ours (a test helper, a generated file)
                    if target != source and RANK[target] >= RANK[source]:
                        problems.append("%s: includes %s, but %s (rank %d) may not depend on %s (rank %d)"
                                        % (os.path.relpath(path, root), included, source, RANK[source], target, RANK[target]))
                    elif top == "models" and source in links and target != source and target not in links[source]:
                        problems.append("%s: includes %s, but preserve_%s does not link preserve_%s (add it to BELOW)"
                                        % (os.path.relpath(path, root), included, source, target))
    return problems


def self_test():
    with tempfile.TemporaryDirectory() as root:
        os.makedirs(os.path.join(root, "models", "db"))
        os.makedirs(os.path.join(root, "models", "cache"))
        os.makedirs(os.path.join(root, "views"))
        os.makedirs(os.path.join(root, "models", "api"))
        with open(os.path.join(root, "models", "api", "endpoint.cpp"), "w") as f:
            f.write('#include "cache/cacheservice.h"\n#include <microhttpd.h>\n')
        with open(os.path.join(root, "views", "pane.cpp"), "w") as f:
            f.write('#include "cache/cacheservice.h"\n#include <QThreadPool>\n')
        with open(os.path.join(root, "models", "cache", "ok.h"), "w") as f:
            f.write('#include "db/database.h"\n#include "local.h"\n')
        with open(os.path.join(root, "models", "db", "bad.h"), "w") as f:
            f.write('#include "cache/cacheservice.h"\n#include <QWidget>\n')
        os.makedirs(os.path.join(root, "models", "json"))
        with open(os.path.join(root, "models", "json", "CMakeLists.txt"), "w") as f:
            f.write("preserve_layer(json\n    SOURCES a.cpp\n    BELOW core api\n)\n")
        with open(os.path.join(root, "models", "json", "a.cpp"), "w") as f:
            f.write('#include "db/database.h"\n')
        problems = check(root)
    expected = ["may not depend on cache", "widget header", "file or thread work", "transport's library",
                "not below json", "does not link preserve_db"]
    missing = [e for e in expected if not any(e in p for p in problems)]
    if missing or len(problems) != len(expected):
        print("self-test failed: expected %d problems (%s), got:\n%s" % (len(expected), ", ".join(expected), "\n".join(problems)))
        return 1
    print("self-test: all %d violations found" % len(expected))
    return 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    problems = check(root)
    for problem in problems:
        print(problem)
    if problems:
        print("%d include(s) against the layers' order" % len(problems))
        return 1
    print("every include follows the layers' order")
    return 0


if __name__ == "__main__":
    sys.exit(main())
