"""The demo seed: the three member operators (RU, KZ, UZ), three shippers, the secretariat, a
regulator, the default network's interconnection points, a finished gas day (allocated, checked,
metered) and nominations for the next open gas day. Every account's password is its username
followed by "-demo" (documented in docs/service.md; for demonstrations only).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from corridor.service import audit, auth, cycle
from corridor.service.config import ServiceSettings
from corridor.service.db import Database, Party, Point, User

SYSTEM = "system"
PARTIES = [  # code, name, kind, country
    ("SECRETARIAT", "Secretariat of the trilateral gas union", "secretariat", None),
    ("REGULATOR", "Regulator / auditor", "regulator", None),
    ("RU-TSO", "Gas transmission operator of Russia", "operator", "RU"),
    ("KZ-TSO", "Gas transmission operator of Kazakhstan", "operator", "KZ"),
    ("UZ-TSO", "Gas transmission operator of Uzbekistan", "operator", "UZ"),
    ("SHIPPER-A", "Alpha Gas Trading", "shipper", None),
    ("SHIPPER-B", "Steppe Energy", "shipper", None),
    ("SHIPPER-C", "Silk Road Gas", "shipper", None),
]
USERS = {"secretariat": "SECRETARIAT", "regulator": "REGULATOR", "operator-ru": "RU-TSO",
         "operator-kz": "KZ-TSO", "operator-uz": "UZ-TSO", "shipper-a": "SHIPPER-A",
         "shipper-b": "SHIPPER-B", "shipper-c": "SHIPPER-C"}
BOOKINGS = [("SHIPPER-A", "G08", 8.0), ("SHIPPER-A", "G47", 10.0), ("SHIPPER-C", "G47", 10.0),
            ("SHIPPER-C", "G44", 10.0)]
# (shipper, point, nominated, confirmed by the from side, by the to side, measured share):
# G08 shows the lesser rule (5.5 of 6 matched), G47 scarce capacity (maintenance: 22 mcm/d)
PAST_DAY = [("SHIPPER-A", "G08", 9.0, 9.0, 9.0, 9.2),
            ("SHIPPER-B", "G08", 6.0, 6.0, 5.5, 5.1),
            ("SHIPPER-A", "G47", 15.0, 15.0, 15.0, 12.4),
            ("SHIPPER-C", "G47", 12.0, 12.0, 12.0, 9.9),
            ("SHIPPER-B", "G44", 10.0, 10.0, 10.0, 10.0),
            ("SHIPPER-C", "G44", 12.0, 12.0, 12.0, 12.3)]
PAST_MAINTENANCE = ("G47", 22.0)
NEXT_DAY = [("SHIPPER-A", "G08", 9.0), ("SHIPPER-B", "G44", 10.0), ("SHIPPER-C", "G47", 12.0)]


def password(username: str) -> str:
    """The demo password of a demo account."""
    return f"{username}-demo"


def is_empty(db: Database) -> bool:
    with db.read() as s:
        return not s.scalar(select(func.count()).select_from(Party))


def seed_reference(db: Database, settings: ServiceSettings, now: datetime,
                   users: bool = True) -> None:
    """Parties, demo users, the network's interconnection points and bookings."""
    from corridor.service.feasibility import interconnection_points, load_network

    points = interconnection_points(load_network(settings.network), settings.members)
    hashes = {u: auth.hash_password(password(u)) for u in USERS} if users else {}
    with db.write() as s:
        parties = {}
        for code, name, kind, country in PARTIES:
            parties[code] = Party(code=code, name=name, kind=kind, country=country)
            s.add(parties[code])
        s.flush()
        for code, party in parties.items():
            audit.record(s, SYSTEM, "party.create", "party", code, None,
                         {"code": code, "name": party.name, "kind": party.kind,
                          "country": party.country}, now)
        for username, code in USERS.items() if users else ():
            s.add(User(username=username, password_hash=hashes[username],
                       party_id=parties[code].id, active=True))
            audit.record(s, SYSTEM, "user.create", "user", username, None,
                         {"username": username, "party": code}, now)
        for p in points:
            s.add(Point(**p))
            audit.record(s, SYSTEM, "point.create", "point", p["code"], None, p, now)
        s.flush()
        secretariat = _user(s, "secretariat") if users else None
        if secretariat is not None:
            for shipper, point, firm in BOOKINGS:
                if any(p["code"] == point for p in points):
                    cycle.set_booking(s, secretariat, shipper, point, firm, now)


def _user(session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username))


def seed_activity(db: Database, settings: ServiceSettings, now: datetime) -> date:
    """A finished gas day (yesterday: nominated, confirmed, closed, checked, metered) and open
    nominations for the next gas day. Returns the finished day."""
    from corridor.service.api import Service, run_check

    conv = cycle.GasDayConvention.from_settings(settings)
    rule = settings.allocation_rule
    past = conv.day_of(now) - timedelta(days=1)
    with db.read() as s:
        known = set(s.scalars(select(Point.code)))
        users = {u.username: u for u in s.scalars(select(User))}
    op = {"RU": users["operator-ru"], "KZ": users["operator-kz"], "UZ": users["operator-uz"]}
    t_nominate = conv.cutoff(past) - timedelta(hours=3)
    if PAST_MAINTENANCE[0] in known:
        with db.write() as s:
            cycle.set_capacity(s, users["secretariat"], rule, *PAST_MAINTENANCE[:1], past,
                               PAST_MAINTENANCE[1], t_nominate - timedelta(days=2))
    for shipper, point, nominated, c_from, c_to, _ in PAST_DAY:
        if point not in known:
            continue
        user = users[f"shipper-{shipper[-1].lower()}"]
        with db.write() as s:
            nom, _created = cycle.submit_nomination(s, user, conv, rule, past, point, nominated,
                                                    None, t_nominate)
            p = cycle.point_by_code(s, point)
            nom_id, countries = nom.id, (p.from_country, p.to_country)
        for country, qty in zip(countries, (c_from, c_to), strict=True):
            with db.write() as s:
                cycle.confirm(s, op[country], rule, nom_id, qty,
                              t_nominate + timedelta(hours=1), conv)
    with db.write() as s:
        cycle.close_day(s, users["secretariat"], conv, rule, past, conv.cutoff(past))
    svc = Service(settings, db, clock=lambda: conv.cutoff(past) + timedelta(minutes=5))
    run_check(svc, users["secretariat"], past)
    measured: dict[str, dict[str, float]] = {}
    for shipper, point, *_, share in PAST_DAY:
        if point in known:
            measured.setdefault(point, {})[shipper] = share
    for point, split in measured.items():
        with db.read() as s:
            country = cycle.point_by_code(s, point).to_country
        with db.write() as s:
            cycle.upload_measurement(s, op[country], conv, past, point, sum(split.values()),
                                     split, conv.end(past) + timedelta(hours=2))
    upcoming = conv.next_open(now)
    for shipper, point, quantity in NEXT_DAY:
        if point in known:
            with db.write() as s:
                cycle.submit_nomination(s, users[f"shipper-{shipper[-1].lower()}"], conv, rule,
                                        upcoming, point, quantity, None, now)
    return past


def seed(db: Database, settings: ServiceSettings, now: datetime) -> bool:
    """Seed the demo into an empty database; False (and nothing done) if it has data."""
    if not is_empty(db):
        return False
    seed_reference(db, settings, now)
    seed_activity(db, settings, now)
    return True
