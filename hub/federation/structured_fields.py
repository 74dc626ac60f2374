"""Structured Field Values (RFC 8941): the subset HTTP Message Signatures need.

Parses and serialises Dictionaries whose members are Items or Inner Lists, with
Parameters; bare items are Integers, Decimals, Strings, Tokens, Byte Sequences and
Booleans. Parsing follows the algorithms of RFC 8941 §4.2 step by step, and fails on
anything they reject, so a signature base is always rebuilt from a canonical value
(RFC 9421 §2.3). Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import string
from dataclasses import dataclass, field
from decimal import Decimal

__all__ = [
    "InnerList", "Item", "StructuredFieldError", "Token",
    "parse_dictionary", "serialize_bare_item", "serialize_dictionary",
    "serialize_inner_list", "serialize_item", "serialize_parameters",
]


class StructuredFieldError(ValueError):
    """The field value is not a valid Structured Field of the expected type."""


class Token(str):
    """An sf-token, kept apart from an sf-string (they serialise differently)."""

    __slots__ = ()


BareItem = int | Decimal | str | Token | bytes | bool
Parameters = dict[str, BareItem]


@dataclass(frozen=True)
class Item:
    value: BareItem
    params: Parameters = field(default_factory=dict)


@dataclass(frozen=True)
class InnerList:
    items: tuple[Item, ...]
    params: Parameters = field(default_factory=dict)


Member = Item | InnerList

_KEY_FIRST = set(string.ascii_lowercase + "*")
_KEY_CHARS = set(string.ascii_lowercase + string.digits + "_-.*")
_TCHAR = set("!#$%&'*+-.^_`|~" + string.ascii_letters + string.digits)
_TOKEN_CHARS = _TCHAR | {":", "/"}
_BASE64_CHARS = set(string.ascii_letters + string.digits + "+/=")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def take(self) -> str:
        char = self.peek()
        self.pos += 1
        return char

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def fail(self, what: str) -> StructuredFieldError:
        return StructuredFieldError(f"{what} at position {self.pos}")

    def dictionary(self) -> dict[str, Member]:
        members: dict[str, Member] = {}
        while self.peek():
            key = self.key()
            if self.peek() == "=":
                self.pos += 1
                members[key] = self.item_or_inner_list()
            else:
                members[key] = Item(True, self.parameters())
            self.skip(" \t")
            if not self.peek():
                return members
            if self.take() != ",":
                raise self.fail("expected ','")
            self.skip(" \t")
            if not self.peek():
                raise self.fail("trailing ','")
        return members

    def item_or_inner_list(self) -> Member:
        if self.peek() == "(":
            return self.inner_list()
        return Item(self.bare_item(), self.parameters())

    def inner_list(self) -> InnerList:
        self.pos += 1  # "("
        items: list[Item] = []
        while self.peek():
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return InnerList(tuple(items), self.parameters())
            items.append(Item(self.bare_item(), self.parameters()))
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in inner list")
        raise self.fail("unterminated inner list")

    def parameters(self) -> Parameters:
        params: Parameters = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def key(self) -> str:
        if self.peek() not in _KEY_FIRST or not self.peek():
            raise self.fail("expected a key")
        start = self.pos
        while self.peek() and self.peek() in _KEY_CHARS:
            self.pos += 1
        return self.text[start:self.pos]

    def bare_item(self) -> BareItem:
        char = self.peek()
        if char == "-" or char.isdigit() and char.isascii():
            return self.number()
        if char == '"':
            return self.string()
        if char == ":":
            return self.byte_sequence()
        if char == "?":
            return self.boolean()
        if char and (char in string.ascii_letters or char == "*"):
            return self.token()
        raise self.fail("expected a bare item")

    def number(self) -> int | Decimal:
        start = self.pos
        sign = 1
        if self.peek() == "-":
            sign = -1
            self.pos += 1
        if not (self.peek().isascii() and self.peek().isdigit()):
            raise self.fail("expected a digit")
        digits = ""
        is_decimal = False
        while self.peek() and (self.peek() in string.digits or self.peek() == "."):
            char = self.take()
            if char == ".":
                if is_decimal or len(digits) > 12:
                    raise self.fail("malformed decimal")
                is_decimal = True
            digits += char
            if len(digits) > (16 if is_decimal else 15):
                raise self.fail("number too long")
        if not is_decimal:
            return sign * int(digits)
        if digits.endswith(".") or len(digits.split(".")[1]) > 3:
            raise self.fail(f"malformed decimal {self.text[start:self.pos]!r}")
        return sign * Decimal(digits)

    def string(self) -> str:
        self.pos += 1  # opening quote
        chars: list[str] = []
        while self.peek():
            char = self.take()
            if char == "\\":
                escaped = self.take()
                if escaped not in ('"', "\\"):
                    raise self.fail("bad escape in string")
                chars.append(escaped)
            elif char == '"':
                return "".join(chars)
            elif not " " <= char <= "~":
                raise self.fail("invalid character in string")
            else:
                chars.append(char)
        raise self.fail("unterminated string")

    def token(self) -> Token:
        start = self.pos
        self.pos += 1
        while self.peek() and self.peek() in _TOKEN_CHARS:
            self.pos += 1
        return Token(self.text[start:self.pos])

    def byte_sequence(self) -> bytes:
        self.pos += 1  # opening colon
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("unterminated byte sequence")
        encoded = self.text[self.pos:end]
        if not set(encoded) <= _BASE64_CHARS:
            raise self.fail("invalid base64 in byte sequence")
        self.pos = end + 1
        try:
            # RFC 8941 §4.2.7: parsers SHOULD accept missing padding.
            return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error as exc:
            raise self.fail("invalid base64 in byte sequence") from exc

    def boolean(self) -> bool:
        self.pos += 1
        char = self.take()
        if char not in ("0", "1"):
            raise self.fail("expected ?0 or ?1")
        return char == "1"


def parse_dictionary(value: str) -> dict[str, Member]:
    """Parse an sf-dictionary (RFC 8941 §4.2.2); later duplicate keys win, as specified."""
    parser = _Parser(value.strip(" \t"))
    return parser.dictionary()


def serialize_bare_item(value: BareItem) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        if abs(value) > 999_999_999_999_999:
            raise StructuredFieldError("integer out of range")
        return str(value)
    if isinstance(value, Decimal):
        text = format(value.quantize(Decimal("0.001")).normalize(), "f")
        return text if "." in text else text + ".0"
    if isinstance(value, Token):
        if not value or value[0] not in _KEY_FIRST | set(string.ascii_uppercase) or not (
                set(value[1:]) <= _TOKEN_CHARS):
            raise StructuredFieldError(f"invalid token {value!r}")
        return str(value)
    if isinstance(value, str):
        if any(not " " <= char <= "~" for char in value):
            raise StructuredFieldError("string with characters outside printable ASCII")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    raise StructuredFieldError(f"cannot serialise {type(value).__name__}")


def serialize_parameters(params: Parameters) -> str:
    return "".join(f";{key}" if value is True else f";{key}={serialize_bare_item(value)}"
                   for key, value in params.items())


def serialize_item(item: Item) -> str:
    return serialize_bare_item(item.value) + serialize_parameters(item.params)


def serialize_inner_list(inner: InnerList) -> str:
    return ("(" + " ".join(serialize_item(item) for item in inner.items) + ")"
            + serialize_parameters(inner.params))


def serialize_dictionary(members: dict[str, Member]) -> str:
    parts = []
    for key, member in members.items():
        if isinstance(member, InnerList):
            parts.append(f"{key}={serialize_inner_list(member)}")
        elif member.value is True:
            parts.append(key + serialize_parameters(member.params))
        else:
            parts.append(f"{key}={serialize_item(member)}")
    return ", ".join(parts)
