"""README's contents list: every ## and ### heading is listed, in order, and every link points at a
heading (GitHub's anchors: lower case, punctuation dropped, spaces as hyphens)."""

import re

from tests.conftest import ROOT


def anchor(title: str) -> str:
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def test_the_contents_list_every_heading_in_order_and_no_dead_link():
    readme = (ROOT / "README.md").read_text()
    contents = readme[readme.index("**Contents:**") : readme.index("\n## ")]
    links = re.findall(r"\[([^\]]+)\]\(#([^)]+)\)", contents)
    headings = re.findall(r"^#{2,3} (.+)$", readme, re.M)
    assert [title for title, _ in links] == headings
    assert all(target == anchor(title) for title, target in links)
