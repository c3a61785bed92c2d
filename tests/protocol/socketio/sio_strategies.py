"""Hypothesis strategies for Socket.IO packets, shared by the property and oracle tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sioactor.protocol.socketio import RESERVED_EVENTS, Packet, PacketType

T = PacketType
# Numbers JavaScript holds exactly, so a trip through node keeps their value (not always their spelling).
scalars = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(-(2.0**53), 2.0**53)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
keys = texts.filter(lambda k: k != "_placeholder")


def values(binary: bool) -> st.SearchStrategy[Any]:
    leaves = scalars | texts | (st.binary(max_size=8) if binary else st.nothing())
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=8,
    )


namespaces = st.just("/") | st.from_regex(r"/[a-z0-9_-]{1,8}", fullmatch=True)
ack_ids = st.none() | st.integers(0, 2**53)
event_names = texts.filter(lambda name: name not in RESERVED_EVENTS)
objects = st.dictionaries(keys, values(False), max_size=3)


def packets(binary: bool = True, v4_query: bool = True) -> st.SearchStrategy[Packet]:
    """Packets as a decoder returns them (EVENT/ACK for binary ones too)."""
    args = st.lists(values(binary), max_size=4)
    queries = st.none() | st.from_regex(r"[a-z0-9=&]{0,12}", fullmatch=True) if v4_query else st.none()
    return st.one_of(
        st.builds(Packet, type=st.just(T.CONNECT), nsp=namespaces, data=st.none() | objects),
        st.builds(Packet, type=st.just(T.CONNECT), nsp=namespaces.filter(lambda n: n != "/"), query=queries),
        st.builds(Packet, type=st.just(T.DISCONNECT), nsp=namespaces),
        st.builds(
            lambda nsp, name, rest, ack_id: Packet(type=T.EVENT, nsp=nsp, data=[name, *rest], id=ack_id),
            namespaces,
            event_names,
            args,
            ack_ids,
        ),
        st.builds(Packet, type=st.just(T.ACK), nsp=namespaces, data=args, id=st.integers(0, 2**53)),
        st.builds(Packet, type=st.just(T.CONNECT_ERROR), nsp=namespaces, data=texts | objects),
    )
