"""The token estimate used when no tokenizer is at hand.

Each text is measured in *units* of a quarter token: one per character, two more for a
character of a CJK script (kana, Han, Hangul: U+3000 to U+D7FF) or beyond U+FFFF (emoji,
rare Han), four more for a line break. An example's estimate is its units over four, plus
three tokens per message and three for the reply (OpenAI's per-message overhead).

So English prose counts about four characters a token, CJK text about three quarters of a
token a character and code a token more per line than plain characters/4 would say. Against
o200k_base this lands within about 30% for English, Chinese, Japanese, Korean and source
code (tests/validation/test_token_counts.py states the figures); ``pip install
'ftbridge[tokens]'`` gives exact counts instead.

The compiled checker (``_cscan.c``) computes the same units while it parses a string.
"""

from __future__ import annotations

#: What reports say of these counts.
LABEL = "estimate: ~4 characters per token, CJK ~3/4 token per character, +1 per line break"

# UTF-8 lead bytes of the wide characters: E3..ED (U+3000..U+DFFF), F0..F4 (beyond U+FFFF)
_NOT_WIDE_LEAD = bytes(b for b in range(256) if not (0xE3 <= b <= 0xED or 0xF0 <= b <= 0xF4))


def units(text: str) -> int:
    """The estimate's quarter tokens in ``text``."""
    n = len(text)
    if "\n" in text:  # a fast search; counting is slower and rarely needed
        n += 4 * text.count("\n")
    if text.isascii():
        return n
    return n + 2 * len(text.encode("utf-8", "surrogatepass").translate(None, _NOT_WIDE_LEAD))


def tokens(units_total: int, messages: int) -> int:
    """An example's estimated tokens from its units and number of messages."""
    return units_total // 4 + 3 * messages + 3
