"""XML: read safely and streaming (``safe``), routed by root element (``peek``), mapped by XPath
(``paths``, ``records``). The only lxml imports of the reading side live in this package."""

from exchanged.formats.xml.safe import check_safe, iter_elements, root_of, syntax_issue

__all__ = ["check_safe", "iter_elements", "root_of", "syntax_issue"]
