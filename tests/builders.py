"""Small networks built in Python for optimiser tests (all gas, rates in mcm/d)."""

from __future__ import annotations

import pandas as pd

from corridor.validation import build_network


def gas_network(nodes, links=(), supplies=(), demands=(), storages=(), targets=(), profiles=None,
                voll=1000.0):
    """A gas network from short tuples; see the keyword names below for each tuple's fields."""
    def frame(rows, columns):
        return pd.DataFrame([dict(zip(columns, r, strict=False)) for r in rows], columns=columns)

    raw = {
        "nodes": frame([(n, "gas", "C" + n[-1]) for n in nodes], ["id", "carrier", "country"]),
        "links": frame([(*lk[:3], lk[3], "mcm/d", *lk[4:]) for lk in links],
                       ["id", "from", "to", "capacity", "unit", "tariff", "loss",
                        "reverse_capacity"]),
        "supplies": frame([(s[0], s[1], s[2], "mcm/d", *s[3:]) for s in supplies],
                          ["id", "node", "capacity", "unit", "cost", "profile"]),
        "demands": frame([(d[0], d[1], d[2], "mcm/d", *d[3:]) for d in demands],
                         ["id", "node", "amount", "unit", "value", "profile"]),
        "storages": frame([(s[0], s[1], s[2], "mcm", s[3], "mcm/d", *s[4:]) for s in storages],
                          ["id", "node", "volume", "volume_unit", "rate", "rate_unit",
                           "initial", "final", "cost"]),
        "targets": frame([(t[0], t[1], t[2], "mcm/d") for t in targets],
                         ["id", "links", "minimum", "unit"]),
    }
    from corridor.network import NetworkMeta

    meta = NetworkMeta(name="test", value_of_lost_load={"gas": voll, "oil": voll})
    return build_network(raw, profiles, meta)


def monthly_profile(name: str, values) -> pd.DataFrame:
    return pd.DataFrame({"period": range(1, 13), name: list(values)})
