"""The edges that implement the domain's ports: persistence, delivery, identity, spreadsheets."""
