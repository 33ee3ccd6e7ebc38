"""The reading-time count sees what a reader sees: prose, shown code, included lines."""

from __future__ import annotations

import pytest

from mlcicd.errors import InputError
from mlcicd.reading import PageSize, page_size, reading_minutes

PAGE = '''---
jupytext: {}
---
(sec-x)=
# A title of four words

:::{admonition} Careful
:class: warning
Three words here.
:::

```{literalinclude} code.py
:language: python
:start-at: "def b"
:end-before: "def c"
```

```{mermaid}
flowchart LR
  a --> b
```

```{code-cell} ipython3
:tags: [remove-cell]
hidden = 1
```

```{code-cell} ipython3
shown = 2

print(shown)
```

:::{admonition} Second
Two more.
:::
'''

CODE = "def a():\n    pass\n\n\ndef b():\n    return 1\n\n\ndef c():\n    pass\n"


def test_page_counts_visible_prose_and_code(tmp_path):
    (tmp_path / "code.py").write_text(CODE)
    page = tmp_path / "page.md"
    page.write_text(PAGE)
    size = page_size(page)
    # "A title of four words" (5) + "Careful" (1) + "Three words here." (3) +
    # "Second" (1) + "Two more." (2); the label and the diagram are not prose.
    assert size.words == 12
    # def b + return 1 (2 included lines) + the two non-blank lines of the shown cell.
    assert size.code_lines == 4


def test_minutes_add_prose_and_code_at_their_speeds():
    assert reading_minutes(PageSize(400, 20)) == pytest.approx(4.0)
    assert reading_minutes(PageSize(400, 20), words_per_minute=400,
                           code_lines_per_minute=20) == pytest.approx(2.0)
    assert PageSize(1, 2) + PageSize(3, 4) == PageSize(4, 6)
    with pytest.raises(InputError, match="positive"):
        reading_minutes(PageSize(1, 1), words_per_minute=0)


def test_missing_page_is_one_clear_error(tmp_path):
    with pytest.raises(InputError, match="cannot read"):
        page_size(tmp_path / "nope.md")
