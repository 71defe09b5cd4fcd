"""``helpthread db upgrade`` names each migration by its title: the docstring's first
paragraph, whole, on one line (issue: 0010's was cut mid-word)."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory

from core.store.migrate import migration_title

VERSIONS = Path(__file__).parents[2] / "core" / "store" / "migrations"


def test_a_wrapped_first_paragraph_is_joined_never_cut() -> None:
    doc = "The search index's language, and two\nindexes a requester walks.\n\nMore."
    assert migration_title(doc) == "The search index's language, and two indexes a " \
                                   "requester walks"
    assert migration_title("Uses ``search.language``.") == "Uses search.language"
    assert migration_title(None) == migration_title("") == ""


def test_every_migration_has_a_short_title() -> None:
    script = ScriptDirectory(str(VERSIONS))
    titles = [migration_title(r.doc) for r in script.walk_revisions()]
    assert len(titles) >= 10
    for title in titles:
        assert 0 < len(title) <= 90, title
