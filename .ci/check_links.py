#!/usr/bin/env python3
"""Check every internal link and #anchor of a rendered mdBook.

Usage: check_links.py BUILD_DIR   (e.g. book/build)

Reads every .html file under BUILD_DIR, print.html and toc.html included,
with the standard library's HTML parser. For each href and src of a, link,
script, img, iframe and source elements:
- http(s):, mailto:, javascript:, data: and protocol-relative links are
  external and skipped;
- any other link must resolve, relative to the page (or to its <base href>),
  to a file inside BUILD_DIR (a directory means its index.html);
- a #fragment must be an id (or an <a name>) in the target page.
The search index (JavaScript, not HTML) is not read. Exits 1 with one line
per broken link (page:line: link: why), 0 otherwise.
"""

import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

LINK_ATTRS = {"a": "href", "link": "href", "area": "href", "script": "src",
              "img": "src", "iframe": "src", "source": "src"}
EXTERNAL = ("http:", "https:", "mailto:", "javascript:", "data:", "tel:", "//")


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.links = []  # (line, url)
        self.base = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        if tag == "base" and attrs.get("href") is not None:
            self.base = attrs["href"]
        attr = LINK_ATTRS.get(tag)
        if attr and attrs.get(attr) is not None:
            self.links.append((self.getpos()[0], attrs[attr]))

    handle_startendtag = handle_starttag


def parse(path):
    page = Page()
    with open(path, encoding="utf-8") as f:
        page.feed(f.read())
    page.close()
    return page


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = os.path.realpath(sys.argv[1])
    if not os.path.isdir(root):
        sys.exit(f"{root}: no such directory (build the book first)")
    pages = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            if name.endswith(".html"):
                path = os.path.join(dirpath, name)
                pages[path] = parse(path)

    broken = []
    checked = 0
    for path, page in sorted(pages.items()):
        here = os.path.relpath(path, root)
        for line, url in page.links:
            if url.startswith(EXTERNAL) or url == "":
                continue
            checked += 1
            parts = urlsplit(url)
            if parts.scheme:
                broken.append(f"{here}:{line}: {url}: unknown scheme")
                continue
            target_path = unquote(parts.path)
            if target_path == "":
                target = path
            else:
                if target_path.startswith("/"):
                    start = root
                    target_path = target_path.lstrip("/")
                elif page.base is not None and page.base.startswith("/"):
                    start = os.path.join(root, page.base.lstrip("/"))
                else:
                    start = os.path.dirname(path)
                target = os.path.realpath(os.path.join(start, target_path))
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
            if not (target == root or target.startswith(root + os.sep)):
                broken.append(f"{here}:{line}: {url}: points outside the book")
                continue
            if not os.path.isfile(target):
                broken.append(f"{here}:{line}: {url}: no such file")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target.endswith(".html"):
                if fragment not in pages[target].ids:
                    broken.append(f"{here}:{line}: {url}: no id {fragment!r} in "
                                  f"{os.path.relpath(target, root)}")

    for line in broken:
        print(line)
    print(f"{checked} internal links in {len(pages)} pages: "
          f"{len(broken) or 'none'} broken")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
