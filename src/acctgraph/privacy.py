"""Keyed pseudonymisation of account ids and attribute values.

T&S data is sensitive: IP addresses and payment fingerprints are personal
data, and account ids link to people. With a :class:`Pseudonymizer`, ingest
replaces every account id and attribute value by a keyed token before any
other stage sees it, so the graph, the results, the logs and every export
carry tokens only::

    token = "t_" + hex(HMAC-SHA256(key, domain + "\\x1f" + text))[:24]

``domain`` is ``"account"`` for account ids and the attribute kind for
values, so the same string as an IP and as a device id gives two unrelated
tokens. Tokens are stable for a key (results from two days can be joined) and
cannot be reversed without it. An analyst holding the key and the raw input
maps the tokens of one cluster back with :meth:`Pseudonymizer.reveal`.

The key never enters logs, results or provenance; provenance records only
:attr:`Pseudonymizer.key_id`, a fingerprint that tells which key was used.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .exceptions import ConfigError

__all__ = ["ACCOUNT_DOMAIN", "Pseudonymizer"]

ACCOUNT_DOMAIN = "account"
_MIN_KEY_BYTES = 16


class Pseudonymizer:
    """Replace identifiers by HMAC-SHA256 tokens under a secret key.

    Parameters
    ----------
    key : bytes or str
        At least 16 bytes (a str is UTF-8 encoded). Keep it out of code and
        command lines; :meth:`from_env` reads it from an environment variable.
    clear_kinds : iterable of str, default=()
        Attribute kinds whose values stay in clear (e.g. ``{"asn"}``: public
        network numbers analysts want to read).
    length : int, default=24
        Hex digits kept from the HMAC (24 digits = 96 bits: no collision in
        practice even among billions of values).

    Examples
    --------
    >>> p = Pseudonymizer(b"0123456789abcdef0123456789abcdef")
    >>> p.token("203.0.113.7", kind="ip").startswith("t_")
    True
    """

    def __init__(
        self, key: bytes | str, *, clear_kinds: Iterable[str] = (), length: int = 24
    ) -> None:
        raw = key.encode("utf-8") if isinstance(key, str) else key
        if not isinstance(raw, bytes) or len(raw) < _MIN_KEY_BYTES:
            raise ConfigError(
                f"pseudonymisation key must be at least {_MIN_KEY_BYTES} bytes; "
                f"got {len(raw) if isinstance(raw, bytes) else type(key).__name__}"
            )
        if not 8 <= length <= 64:
            raise ConfigError(f"length must be an int in [8, 64]; got {length!r}")
        self._key = raw
        self.clear_kinds = frozenset(str(k).strip().lower() for k in clear_kinds)
        self.length = length

    @classmethod
    def from_env(cls, name: str = "ACCTGRAPH_PSEUDONYM_KEY", **kwargs: object) -> Pseudonymizer:
        """Build from the key in environment variable ``name``."""
        key = os.environ.get(name)
        if not key:
            raise ConfigError(f"environment variable {name!r} holding the key is not set or empty")
        return cls(key, **kwargs)  # type: ignore[arg-type]

    def __repr__(self) -> str:  # never show the key
        return f"Pseudonymizer(key_id={self.key_id!r}, clear_kinds={sorted(self.clear_kinds)})"

    @property
    def key_id(self) -> str:
        """A short fingerprint of the key, safe to record and compare."""
        return hmac.new(self._key, b"acctgraph-key-id", hashlib.sha256).hexdigest()[:12]

    def token(self, text: str, *, kind: str = ACCOUNT_DOMAIN) -> str:
        """The token of one account id (default) or attribute value of ``kind``."""
        domain = kind.strip().lower()
        if domain in self.clear_kinds:
            return text
        digest = hmac.new(self._key, f"{domain}\x1f{text}".encode(), hashlib.sha256)
        return "t_" + digest.hexdigest()[: self.length]

    def tokens(self, texts: np.ndarray, kinds: np.ndarray | str = ACCOUNT_DOMAIN) -> np.ndarray:
        """Tokens for an array of strings, hashing each distinct pair once."""
        texts = np.asarray(texts, dtype=object)
        if len(texts) == 0:
            return texts.copy()
        kinds = np.broadcast_to(np.asarray(kinds, dtype=object), texts.shape)
        codes, uniques = pd.MultiIndex.from_arrays([kinds, texts]).factorize()
        mapped = np.array([self.token(t, kind=k) for k, t in uniques], dtype=object)
        return mapped[codes]

    def reveal(
        self, tokens: Iterable[str], candidates: Iterable[str], *, kind: str = ACCOUNT_DOMAIN
    ) -> dict[str, str]:
        """Map tokens back to the raw strings they came from.

        Parameters
        ----------
        tokens : iterable of str
            Tokens to resolve, e.g. one cluster's ``account_id`` column or its
            shared IPs from ``explain(cid).shared_attributes``.
        candidates : iterable of str
            Raw strings to try: the raw input's account ids, or its values of
            ``kind``.
        kind : str, default="account"
            ``"account"`` for account ids, else the attribute kind.

        Returns
        -------
        dict of str to str
            ``{token: raw}`` for every token found among the candidates.
        """
        wanted = set(tokens)
        raw = pd.unique(pd.Series(list(candidates), dtype=object).astype(str).str.strip())
        found: dict[str, str] = {}
        for text in raw:
            tok = self.token(text, kind=kind)
            if tok in wanted:
                found[tok] = text
        return found
