"""What a section heading looks like, shared by the PDF, Word and text readers."""

from __future__ import annotations

import re

# A line that is only a usual proposal section name is a heading, whatever its font or style
# (many templates set headings in bold body type, which neither pdfminer nor a style shows).
SECTION_NAME = re.compile(
    r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?(?:abstract|(?:executive |project )?summary|objectives?|aims?(?: and objectives)?|"
    r"introduction|background|(?:concept and )?methodology|methods|work ?plan|implementation|impact|"
    r"(?:expected )?results|outcomes|budget|consortium|partners|management|dissemination|sustainability|"
    r"conclusions?|references)\s*:?\s*$", re.I)
KEY_SECTION = re.compile(r"\b(abstract|summary|objectives?|aims?|purpose|overview|executive summary)\b", re.I)
