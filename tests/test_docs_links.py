"""Every link of the docs, and every document a comment or message cites, resolves: the file
exists and so does the section its #anchor names (GitHub's heading slugs)."""
import re

from deblur3d import paths

ROOT = paths.REPO_ROOT
DOCS = [ROOT / "README.md", ROOT / "checkpoints" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CITED = re.compile(r"((?:docs/[\w.-]+|checkpoints/README)\.md)(#[\w-]+)?")


def slug(heading):
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path):
    return {slug(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")}


def broken(target, base):
    """None if `target` (path[#anchor]) resolves from folder `base`, else why not."""
    file, _, anchor = target.partition("#")
    path = (base / file).resolve() if file else None
    if path is not None and not path.exists():
        return f"{target}: no such file"
    if anchor and path is not None and path.suffix == ".md" and anchor not in anchors(path):
        return f"{target}: no section #{anchor}"
    return None


def test_the_slug_of_a_heading_is_githubs():
    assert slug(" How close the priors are to the sharp face") == "how-close-the-priors-are-to-the-sharp-face"
    assert slug("Table 1's baselines (CPU)") == "table-1s-baselines-cpu"


def test_every_link_of_the_docs_resolves():
    problems = []
    for doc in DOCS:
        for target in LINK.findall(doc.read_text()):
            if re.match(r"[a-z]+:", target):   # http:, mailto:
                continue
            why = broken(target, doc.parent)
            if why:
                problems.append(f"{doc.relative_to(ROOT)}: {why}")
    assert problems == []


def test_every_document_a_comment_or_message_cites_exists_with_its_section():
    problems = []
    for source in sorted([*ROOT.glob("deblur3d/**/*.py"), *ROOT.glob("experiments/*.py"), ROOT / "Makefile",
                          ROOT / "requirements.txt", ROOT / "checkpoints" / "reproduce.sh"]):
        for file, anchor in CITED.findall(source.read_text()):
            why = broken(file + anchor, ROOT)
            if why:
                problems.append(f"{source.relative_to(ROOT)}: {why}")
    assert problems == []
