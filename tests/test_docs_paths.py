"""Docs true to the code: every repository path a doc names in backticks exists.

Read: `README.md`, `docs/*.md` and every folder's `README.md`. A backticked token is taken as a path when it has a
`/` and either starts with a top-level folder of the repository (`ingestion/erp/filedrop.py`, `tests/...`), ends
like a source file (`demo/bank.py`), or starts with a folder that exists beside the doc or above it. It resolves
against the doc's folder or any folder above it up to the repository root (`macros/x.sql` in a dbt README).
Not checked: what the platform creates when it runs (`data/lake`, `tests/artifacts/`), placeholders (`YYYYMMDD`),
`shared/...` (the shared reference folder beside the repository), and the paths of other repositories that a doc
cites as sources (`EXTERNAL`).
"""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NOT_DOCS = {".venv", "node_modules", "dbt_packages", "target", "build", ".git", ".tools", "__pycache__"}
TRACKED_DATA = ("data/bcb_replay", "data/reference")  # data/ is otherwise the runtime folder (IMPORTAU_DATA_DIR)
RUNTIME = ("data/", "tests/artifacts/")
SOURCE_ENDINGS = (".py", ".sql", ".yml", ".yaml", ".toml", ".sh", ".md", ".json", ".xml", ".cfg", ".ambr")
# doc -> paths in other repositories it cites (None: the whole doc is about other repositories' files)
EXTERNAL: dict[str, set[str] | None] = {
    "data/bcb_replay/sources/README.md": None,
    "ingestion/bcb/README.md": {"buildrate/collection/collect_igpm.py", "projeto1/Python/etl.py"},
    "tests/fixtures/bank_statements/README.md": {  # in jseutter/ofxparse, csingley/ofxtools and marcodpt/cnab
        "tests/fixtures/bank_medium.ofx",
        "tests/fixtures/chase_cc.qfx",
        "tests/data/br_nubank_cc.ofx",
        "tests/conciliacao/",
    },
    "ingestion/customs/README.md": {"erp/import_declarations"},  # a lake dataset, not a repository path
}
TOKEN = re.compile(r"`([^`\s]+)`")


def docs() -> list[Path]:
    found = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    for path in sorted(REPO.rglob("README.md")):
        parts = path.relative_to(REPO).parts
        if path not in found and not any(part in NOT_DOCS or part.endswith(".egg-info") for part in parts):
            found.append(path)
    return found


def _folders(doc: Path) -> list[Path]:
    return [folder for folder in [doc.parent, *doc.parent.parents] if folder == REPO or REPO in folder.parents]


def is_path(token: str, doc: Path) -> bool:
    if not re.fullmatch(r"[A-Za-z0-9_.\-/]+", token) or "/" not in token or "..." in token or "YYYY" in token:
        return False
    if token.startswith(("/", "shared/")) or (token.startswith(RUNTIME) and not token.startswith(TRACKED_DATA)):
        return False
    first = token.split("/")[0]
    top = (REPO / first).is_dir() and not first.startswith(".")
    return top or token.endswith(SOURCE_ENDINGS) or any((folder / first).is_dir() for folder in _folders(doc))


def missing_paths() -> dict[str, list[str]]:
    missing: dict[str, list[str]] = {}
    for doc in docs():
        where = str(doc.relative_to(REPO))
        external = EXTERNAL.get(where, set())
        if external is None:
            continue
        for match in TOKEN.finditer(doc.read_text(encoding="utf-8")):
            token = match.group(1).rstrip(".")
            if token in external or not is_path(token, doc):
                continue
            if not any((folder / token).exists() for folder in _folders(doc)):
                missing.setdefault(where, []).append(token)
    return missing


def test_the_docs_are_read():
    names = {str(doc.relative_to(REPO)) for doc in docs()}
    assert {"README.md", "docs/architecture.md", "ingestion/erp/README.md", "sandboxes/README.md"} <= names


def test_a_stale_path_is_caught(tmp_path):
    doc = REPO / "ingestion" / "erp" / "README.md"
    assert is_path("ingestion/erp/demo/bank.py", doc) and is_path("demo/bank.py", doc)
    assert not any((folder / "demo/bank.py").exists() for folder in _folders(doc))
    assert not is_path("data/lake", doc) and not is_path("dd/mm/aaaa", doc) and not is_path("a b/c", doc)


def test_every_path_a_doc_names_exists():
    missing = missing_paths()
    assert not missing, "docs name paths that do not exist:\n" + "\n".join(
        f"{doc}: {', '.join(sorted(set(tokens)))}" for doc, tokens in missing.items()
    )
