#!/usr/bin/env python3
"""mdBook preprocessor: remove the common indent of each fenced code block.

Code on the pages comes from the crates with {{#include file:anchor}}, and an
anchor inside a function body keeps that body's indent: mdBook 0.5.4 has no
option to remove it. This runs after mdBook's `links` preprocessor (see
book.toml), so it sees the included code, and dedents every fenced block
(``` ... ```) by the indent all its non-empty lines share. Nothing else on a
page changes. Protocol: https://rust-lang.github.io/mdBook/for_developers/preprocessors.html
"""
import json
import re
import sys
import textwrap

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})")


def dedent_blocks(markdown):
    out, block, fence = [], None, None
    for line in markdown.split("\n"):
        if block is None:
            m = FENCE.match(line)
            if m and not m.group("indent"):
                fence = m.group("fence")
                block = []
            out.append(line)
        elif line.startswith(fence) and line.strip() == fence:
            out.extend(textwrap.dedent("\n".join(block)).split("\n"))
            out.append(line)
            block = None
        else:
            block.append(line)
    if block is not None:  # an unclosed fence: leave it as it was
        out.extend(block)
    return "\n".join(out)


def walk(node):
    """Every chapter of the book, whatever mdBook calls its lists."""
    if isinstance(node, dict):
        if isinstance(node.get("content"), str):
            node["content"] = dedent_blocks(node["content"])
        for value in node.values():
            walk(value)
    elif isinstance(node, list):
        for value in node:
            walk(value)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "supports":
        return 0  # any renderer: only code blocks change
    _context, book = json.load(sys.stdin)
    walk(book)
    json.dump(book, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
