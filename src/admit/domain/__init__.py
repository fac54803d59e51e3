"""Pure rules of Admit: no framework, ORM, I/O or clock in here."""
