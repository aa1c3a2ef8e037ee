"""`datasets fetch`: the SHA-256 check against the package's table, unpacking into the
loader's layout, refusals; and the URL and command `datasets` prints for a missing dataset."""

import hashlib
import io
import tarfile
import zipfile

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.datasets import archives
from iseg_bench.datasets.folder_pairs import GrabCutDataset


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def grabcut_zip(data_root, tmp_path):
    """A GrabCut-layout zip of two real images, under an extra top folder as archives have."""
    path = tmp_path / "GrabCut.zip"
    stems = ["106024", "124080"]
    with zipfile.ZipFile(path, "w") as zf:
        for stem in stems:
            image = next((data_root / "GrabCut" / "data_GT").glob(f"{stem}.*"))
            zf.write(image, f"release/GrabCut/data_GT/{image.name}")
            zf.write(data_root / "GrabCut" / "boundary_GT" / f"{stem}.bmp",
                     f"release/GrabCut/boundary_GT/{stem}.bmp")
    return path


def pin(monkeypatch, key, digest):
    entry = archives.ARCHIVES[key]
    monkeypatch.setitem(archives.ARCHIVES, key, archives.Archive(
        **{**entry.__dict__, "sha256": digest}))


def test_fetch_verifies_the_pinned_hash_and_unpacks_into_the_layout(grabcut_zip, tmp_path,
                                                                  monkeypatch, data_root):
    digest = hashlib.sha256(grabcut_zip.read_bytes()).hexdigest()
    pin(monkeypatch, "grabcut", digest)
    root = tmp_path / "data"
    res = invoke("datasets", "--data-root", root, "fetch", "grabcut", "--archive", grabcut_zip)
    assert res.exit_code == 0, res.output
    assert f"SHA-256 {digest} (pinned, verified)" in res.output
    assert "grabcut: 2 samples found" in res.output
    dataset = GrabCutDataset.from_root(root)
    assert dataset.sample_ids() == ["106024", "124080"]
    original = GrabCutDataset.from_root(data_root)
    for i, sid in enumerate(dataset.sample_ids()):   # the same pixels as the source copy
        a, b = dataset.load(i), original.load(original.sample_ids().index(sid))
        assert (a.image == b.image).all() and (a.target == b.target).all()
        assert (a.ignore == b.ignore).all()
    assert not list(root.glob(".fetch-staging*"))
    again = invoke("datasets", "--data-root", root, "fetch", "grabcut", "--archive",
                   grabcut_zip)
    assert again.exit_code == 2 and "already holds" in again.output


def test_fetch_refuses_a_wrong_or_unpinned_hash(grabcut_zip, tmp_path, monkeypatch):
    digest = hashlib.sha256(grabcut_zip.read_bytes()).hexdigest()
    root = tmp_path / "data"
    unpinned = invoke("datasets", "--data-root", root, "fetch", "grabcut", "--archive",
                      grabcut_zip)
    assert unpinned.exit_code == 2
    assert digest in unpinned.output and "--trust-unpinned" in unpinned.output
    assert not (root / "GrabCut").exists()
    pin(monkeypatch, "grabcut", "0" * 64)
    wrong = invoke("datasets", "--data-root", root, "fetch", "grabcut", "--archive",
                   grabcut_zip, "--trust-unpinned")
    assert wrong.exit_code == 2 and "is not the official grabcut archive" in wrong.output


def test_fetch_by_url_and_a_missing_marker(grabcut_zip, tmp_path, monkeypatch):
    pin(monkeypatch, "davis", hashlib.sha256(grabcut_zip.read_bytes()).hexdigest())
    res = invoke("datasets", "--data-root", tmp_path / "d", "fetch", "davis", "--url",
                 grabcut_zip.as_uri())
    assert res.exit_code == 2 and "holds no folder with img, gt" in res.output
    assert (tmp_path / "d" / ".downloads" / "GrabCut.zip").exists()


def test_fetch_refuses_a_tar_member_outside_the_root(tmp_path):
    path = tmp_path / "evil.tar"
    with tarfile.open(path, "w") as tf:
        info = tarfile.TarInfo("../outside.txt")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(archives.DatasetError, match="unsafe member"):
        archives.unpack_into(archives.ARCHIVES["sbd"], path, tmp_path / "root")
    assert not (tmp_path / "outside.txt").exists()


def test_datasets_prints_url_and_command_for_a_missing_dataset(tmp_path):
    res = invoke("datasets", "--data-root", tmp_path)
    line = next(ln for ln in res.output.splitlines() if "DAVIS.zip" in ln)
    assert archives.ARCHIVES["davis"].url in line
    assert f"iseg-bench datasets fetch davis --archive DAVIS.zip --data-root {tmp_path}" in line
    assert "fetch coco-panoptic:annotations" in res.output


def test_a_dataset_of_several_archives_names_its_parts():
    with pytest.raises(archives.UsageError, match="coco-panoptic:images"):
        archives.archive("coco-panoptic")
