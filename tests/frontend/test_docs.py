from pathlib import Path

from nql_flink.translator.diagnostics.catalog import CATALOG, RETIRED

ROOT = Path(__file__).resolve().parents[2]


def test_every_code_is_documented():
    page = (ROOT / "docs" / "diagnostics.md").read_text()
    assert [c for c in CATALOG if f"| {c} |" not in page] == []
    retired = page[page.index("## Retired codes"):]
    assert [c for c in RETIRED if f"| {c} |" not in retired] == []


def test_every_code_is_reported_somewhere_in_the_translator():
    # the notifier's codes (NQL07xx) are reported by deploy/notify, which reads the receivers file
    sources = "".join(p.read_text() for folder in ("translator", "deploy/notify") for p in (ROOT / folder).rglob("*.py")
                      if p.name != "catalog.py")
    assert [c for c in CATALOG if f'"{c}"' not in sources] == []


def test_no_retired_code_is_reported():
    sources = "".join(p.read_text() for folder in ("translator", "deploy/notify") for p in (ROOT / folder).rglob("*.py")
                      if p.name != "catalog.py")
    assert [c for c in RETIRED if f'"{c}"' in sources] == []
