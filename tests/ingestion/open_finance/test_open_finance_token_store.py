"""The Open Finance token store's file (ingestion/open_finance/auth.py `TokenStore`): replaced whole in one atomic
write (ingestion/common/atomic_file.py), mode 0600, a new token written with the consent it is bound to. The
pairing through the whole consent journey is tested in test_open_finance_connect.py."""

import json
import os
import subprocess
import sys
from pathlib import Path

from ingestion.open_finance.auth import TokenStore

REPO = Path(__file__).resolve().parents[3]


def test_a_new_connection_replaces_the_record_and_a_rotated_token_keeps_it(tmp_path):
    path = tmp_path / "tokens.json"
    store = TokenStore(path)
    store.put("bank", "rt-1", {"consent_id": "urn:bank:a", "permissions": ["ACCOUNTS_READ"]})
    store.put("bank", "rt-2")  # rotated by the bank: the same consent
    assert json.loads(path.read_text()) == {
        "bank": {"consent_id": "urn:bank:a", "permissions": ["ACCOUNTS_READ"], "refresh_token": "rt-2"}
    }
    store.put("bank", "rt-3", {"consent_id": "urn:bank:b"})  # connected again: nothing of consent a stays
    assert json.loads(path.read_text()) == {"bank": {"consent_id": "urn:bank:b", "refresh_token": "rt-3"}}
    store.put("bank", None)  # refused: the token goes, the record says which consent ended
    assert store.get("bank") is None and store.connection("bank") == {}
    assert json.loads(path.read_text()) == {"bank": {"consent_id": "urn:bank:b"}}


def test_the_file_is_0600_even_where_a_looser_one_was(tmp_path):
    path = tmp_path / "state" / "tokens.json"
    path.parent.mkdir()
    path.write_text("{}")
    path.chmod(0o644)
    TokenStore(path).put("bank", "rt-1")
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(os.listdir(path.parent)) == ["tokens.json"]  # no temporary file left beside it


def test_a_write_that_fails_part_way_leaves_the_old_file_whole_and_nothing_beside_it(tmp_path):
    """A real partial write: a child process whose file size limit (RLIMIT_FSIZE) stops the write of a large
    file after 4 KiB (the kernel answers EFBIG, as on a full disk)."""
    path = tmp_path / "tokens.json"
    TokenStore(path).put("bank", "rt-old")
    before = path.read_bytes()
    script = (
        "import resource, sys\n"
        "from ingestion.open_finance.auth import TokenStore\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
        "TokenStore(sys.argv[1]).put('bank', 'rt-' + 'x' * 100_000)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(path)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert child.returncode != 0 and "File too large" in child.stderr, child.stderr
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["tokens.json"]  # the half-written temporary file was removed
