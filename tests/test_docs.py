"""What `mkdocs build --strict` (run by .ci/run) does not check: README.md is not part of
the site, so its links into docs/ are checked here, and the mkdocs pin of CI is the docs
extra's."""
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def slug(heading: str) -> str:
    """A heading's anchor, as MkDocs (and, for plain headings, GitHub) makes it."""
    text = re.sub(r"[^\w\s-]", "", heading.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # a `# comment` in a code block is no heading
    return {slug(h) for h in re.findall(r"^#{1,6} +(.+?) *$", text, re.M)}


def readme_links() -> list:
    return [t for t in re.findall(r"\]\(([^)\s]+)\)", README) if not re.match(r"[a-z]+:", t)]


def test_every_readme_link_resolves():
    links = readme_links()
    assert links, "README.md links its docs pages"
    for target in links:
        path, _, anchor = target.partition("#")
        file = REPO / path
        assert file.is_file(), f"README.md links {target}: no such file"
        if anchor:
            assert anchor in anchors(file), f"README.md links {target}: {path} has no heading #{anchor}"


def test_readme_links_every_page_of_the_site():
    nav = yaml.safe_load((REPO / "mkdocs.yml").read_text())["nav"]
    pages = {page for entry in nav for page in entry.values()}
    linked = {t.partition("#")[0] for t in readme_links()}
    assert {f"docs/{p}" for p in pages} <= linked


def test_ci_installs_the_mkdocs_of_the_docs_extra():
    extra = re.search(r'^docs = \["(mkdocs==[^"]+)"\]$', (REPO / "pyproject.toml").read_text(), re.M)
    assert extra, "pyproject.toml has a docs extra pinning mkdocs"
    ci = (REPO / ".ci" / "run").read_text()
    assert f"pip install -q '{extra.group(1)}'" in ci
    assert re.search(r"mkdocs build --strict --site-dir", ci)
