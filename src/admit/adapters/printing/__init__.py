"""Printable things, with no database or web code: QR codes (``qr.png``, ``qr.svg``), access-code
sheets (``sheets.code_sheet``: A4 cards to cut apart) and sign-up posters
(``posters.signup_poster``), as bytes for a page, the API or the CLI to hand out."""
