from admit.cli.main import app

app(prog_name="admit")
