"""Reading and writing networks: the CSV/YAML folder format of the data contract."""

from corridor.io.folder import read_network, write_network

__all__ = ["read_network", "write_network"]
