"""A rule's investigation guide (Markdown, as Kibana shows it) as plain HTML.

The guides use headings, paragraphs, bullet lists and `code`; that subset is rendered,
and everything is escaped first, so a guide can never put markup of its own on the page.
"""

from __future__ import annotations

import html
import re

_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*([^*]+)\*\*")


def _inline(text: str) -> str:
    text = html.escape(text)
    text = _CODE.sub(r"<code>\1</code>", text)
    return _BOLD.sub(r"<strong>\1</strong>", text)


def guide_html(markdown: str) -> str:
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for line in markdown.splitlines():
        stripped = line.strip()
        heading = re.match(r"(#{1,6})\s+(.*)", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            level = min(len(heading[1]) + 2, 6)  # the guide sits under the report's own headings
            out.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
        elif stripped.startswith(("- ", "* ")):
            if paragraph:
                flush()
            items.append(stripped[2:])
        elif items and line.startswith("  "):
            items[-1] += " " + stripped  # a list item's continued line
        else:
            if items:
                flush()
            paragraph.append(stripped)
    flush()
    return "\n".join(out)
