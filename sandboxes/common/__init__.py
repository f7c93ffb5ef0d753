"""What every stand-in shares: one small HTTP(S) server base (`http_server.py`) and one fault plan (`faults.py`)."""
