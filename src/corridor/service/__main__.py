"""`python -m corridor.service serve|audit verify`: the same commands as `corridor serve`."""

from corridor.cli.service_commands import app

app(prog_name="corridor")
