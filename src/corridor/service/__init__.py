"""The coordination service: the union's daily gas cycle as a web service and browser dashboard.

Layers, each knowing only the ones before it: `config` (settings from a file and the
environment) -> `db` (tables, engine, transactions) -> `audit` (hash-chained log written inside
every write transaction) -> `auth` and `permissions` (who may do what) -> `cycle` (nominations,
matching, allocation, feasibility, measured flows) -> `api` (HTTP) and `web` (dashboard).
"""
