"""IP networks: each IP's ASN from the lookup table a pipeline keeps.

A request log in long form links an account to its IPs and to its ASNs,
but not an IP to its ASN: an account on three IPs in three networks says
which networks, not which IP is in which. The table that gave the ASNs,
an IP-to-ASN lookup (a GeoIP or whois database), does; so does a wide
log holding an IP and an ASN column, whose rows
:func:`acctgraph.ingest.load_links` reads the networks from
(``network_kinds``). :func:`with_ip_networks` places each IP of the links
in its network from such a table, which lets the scoring see an account on a
low-traffic IP inside the networks the flagged farms crowd into
(:func:`acctgraph.scoring.features.on_farm_proxies`).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
import pandas as pd

from .exceptions import SchemaError
from .ingest import Links, TableLike, _check_identifier, _rows_text, place_ips, read_table
from .privacy import Pseudonymizer

__all__ = ["with_ip_networks"]

logger = logging.getLogger(__name__)

SOURCE = "ip_networks"


def with_ip_networks(
    links: Links,
    table: TableLike | pd.Series,
    *,
    ip_kind: str = "ip",
    asn_kind: str = "asn",
    pseudonymizer: Pseudonymizer | None = None,
) -> Links:
    """``links`` with each IP placed in its network (:attr:`Links.ip_network`).

    Parameters
    ----------
    links : Links
    table : DataFrame, pyarrow.Table, path(s) to parquet or CSV, or Series
        One row per IP: columns named ``ip_kind`` and ``asn_kind``, or a
        Series of ASNs indexed by IP. Values are read as the ingest reads
        attribute values (text, trimmed), so that they match the links'.
    ip_kind, asn_kind : str
        The kinds of the links that hold IPs and ASNs.
    pseudonymizer : Pseudonymizer, optional
        The one the links were read with: the table's IPs and ASNs are
        replaced by the same tokens.

    Returns
    -------
    Links
        With ``ip_network``: for each attribute, the code of its IP's ASN
        attribute, -1 for an attribute that is not an IP, an IP the table
        lacks, or one whose ASN no account was linked to.

    Raises
    ------
    SchemaError
        A column missing, an IP or ASN null or empty, or an IP given two
        networks; every problem listed, by row.
    """
    ips, asns = _read(table, ip_kind, asn_kind)
    if pseudonymizer is not None:
        ips = pseudonymizer.tokens(ips, ip_kind)
        asns = pseudonymizer.tokens(asns, asn_kind)
    network = place_ips(links, ips, asns, ip_kind, asn_kind)
    if ip_kind in links.kinds:
        start, stop = links.kind_range(ip_kind)
        logger.info(
            "ip_networks: %d of %d IPs placed in a network",
            int((network[start:stop] >= 0).sum()),
            stop - start,
        )
    return replace(links, ip_network=network)


def _read(table: TableLike | pd.Series, ip_kind: str, asn_kind: str) -> tuple:
    """The table's IPs and ASNs as cleaned text, one row per distinct IP."""
    if isinstance(table, pd.Series):
        frame = pd.DataFrame({ip_kind: table.index.to_numpy(), asn_kind: table.to_numpy()})
    else:
        frame = read_table(table, name=SOURCE)
    missing = [c for c in (ip_kind, asn_kind) if c not in frame.columns]
    if missing:
        raise SchemaError(
            [f"missing column {c!r} (has {list(map(str, frame.columns))})" for c in missing],
            source=SOURCE,
        )
    problems: list[str] = []
    # Read as the ingest reads identifiers: trimmed text, no empty cell.
    ips = _check_identifier(frame, ip_kind, problems)
    asns = _check_identifier(frame, asn_kind, problems)
    if not problems:
        pairs = pd.DataFrame({"ip": ips, "asn": asns})
        distinct = pairs.drop_duplicates()
        twice = distinct["ip"][distinct["ip"].duplicated()]
        if len(twice):
            rows = np.flatnonzero(pairs["ip"].isin(twice).to_numpy())
            problems.append(
                f"column {ip_kind!r}: {twice.nunique()} IP(s) given two or more "
                f"networks, at {_rows_text(rows)}"
            )
        ips, asns = distinct["ip"].to_numpy(), distinct["asn"].to_numpy()
    if problems:
        raise SchemaError(problems, source=SOURCE)
    return ips, asns
