from admit.entrypoints.cli.main import app

app(prog_name="admit")
