"""Issue 11, class 6 (the data half): ``--data`` and the dataset loaders refuse what they
cannot read safely -- FIFOs, devices, directories, files over the size limit, truncated
archives and arrays whose header declares an absurd shape -- with one clear InputError
naming the path, before anything is read or allocated, in the API and in the CLI."""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any, Callable

import numpy as np
import pytest

from neuroplug import datasets
from neuroplug.cli import main
from neuroplug.errors import InputError

X0 = np.arange(24, dtype=np.float64).reshape(12, 2)
Y0 = np.arange(12) % 2


def _npz(path: str) -> None:
    np.savez(path, X=X0, y=Y0)


def _csv(path: str) -> None:
    with open(path, "w") as fh:
        fh.write("a,b,y\n" + "".join(f"{a},{b},{c}\n" for (a, b), c in zip(X0, Y0)))


def _truncated(path: str) -> None:
    _npz(path)
    with open(path, "rb") as fh:
        data = fh.read()
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])


def _absurd_header(path: str) -> None:
    """A member whose .npy header declares 10**12 x 10**3 float64 (8 PB) over 16 bytes of data."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 1000), }"
    header = header + " " * (63 - (10 + len(header)) % 64) + "\n"
    npy = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 16
    buf = io.BytesIO()
    np.save(buf, Y0)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", npy)
        zf.writestr("y.npy", buf.getvalue())


def _fifo(path: str) -> None:
    os.mkfifo(path)


def _directory(path: str) -> None:
    os.mkdir(path)


def _device(path: str) -> None:
    os.symlink("/dev/zero", path)


def _not_zip(path: str) -> None:
    with open(path, "wb") as fh:
        fh.write(b"PK\x03\x04 this is not a zip archive at all")


# (id, file name, how to make it, loader keyword arguments, fragments of the message)
CASES: list[tuple[str, str, Callable[[str], None], dict[str, Any], list[str]]] = [
    ("npz_truncated", "d.npz", _truncated, {}, ["'d.npz'", "not a readable .npz"]),
    ("npz_not_a_zip", "d.npz", _not_zip, {}, ["'d.npz'", "not a readable .npz"]),
    ("npz_absurd_shape", "d.npz", _absurd_header, {}, ["'d.npz'", "'X'", "declares shape (1000000000000, 1000)"]),
    ("npz_over_the_limit", "d.npz", _npz, {"max_bytes": 100}, ["'d.npz'", "limit of 100 bytes", "max_bytes"]),
    ("csv_over_the_limit", "d.csv", _csv, {"max_bytes": 10}, ["'d.csv'", "limit of 10 bytes"]),
    ("npz_a_directory", "d.npz", _directory, {}, ["'d.npz'", "a directory"]),
    ("csv_a_directory", "d.csv", _directory, {}, ["'d.csv'", "a directory"]),
    ("npz_missing", "d.npz", lambda p: None, {}, ["'d.npz'", "No such file"]),
]
if hasattr(os, "mkfifo"):
    CASES += [("csv_a_fifo", "d.csv", _fifo, {}, ["'d.csv'", "FIFO"]),
              ("npz_a_fifo", "d.npz", _fifo, {}, ["'d.npz'", "FIFO"])]
if os.path.exists("/dev/zero"):
    CASES += [("csv_a_device", "d.csv", _device, {}, ["'d.csv'", "a device"]),
              ("npz_a_device", "d.npz", _device, {}, ["'d.npz'", "a device"])]


@pytest.fixture
def workdir(tmp_path: Any, monkeypatch: Any) -> Any:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEUROPLUG_MAX_DATA_BYTES", raising=False)
    return tmp_path


def _listing(folder: Any) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("name, make, kwargs, fragments", [pytest.param(n, m, k, f, id=i) for i, n, m, k, f in CASES])
def test_a_data_file_that_cannot_be_read_safely_is_an_input_error(name, make, kwargs, fragments, workdir) -> None:
    make(name)
    before = _listing(workdir)
    with pytest.raises(InputError) as info:
        datasets.load_data(name, **kwargs)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))
    assert _listing(workdir) == before


@pytest.mark.parametrize("name, make, kwargs, fragments", [pytest.param(n, m, k, f, id=i) for i, n, m, k, f in CASES])
def test_cli_data_that_cannot_be_read_safely_is_one_line_and_status_2(name, make, kwargs, fragments, workdir,
                                                                      monkeypatch, capsys) -> None:
    make(name)
    if "max_bytes" in kwargs:
        monkeypatch.setenv("NEUROPLUG_MAX_DATA_BYTES", str(kwargs["max_bytes"]))
        fragments = [f.replace("max_bytes", "NEUROPLUG_MAX_DATA_BYTES") for f in fragments]
    before = _listing(workdir)
    status = main(["train", "--data", name, "--epochs", "1", "--layers", "4", "--no-progress",
                   "--batch-size", "2", "--save", "m.npz"])
    out, err = capsys.readouterr()
    assert status == 2
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuroplug train: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert _listing(workdir) == before


@pytest.mark.parametrize("value", ["lots", "0", "-5"])
def test_a_bad_size_limit_in_the_environment_is_named(value: str, workdir: Any, monkeypatch: Any) -> None:
    _csv("d.csv")
    monkeypatch.setenv("NEUROPLUG_MAX_DATA_BYTES", value)
    with pytest.raises(InputError, match=rf"NEUROPLUG_MAX_DATA_BYTES.*integer >= 1.*'{value}'"):
        datasets.load_data("d.csv")


@pytest.mark.parametrize("value", [0, -1, 1.5, "big"])
def test_a_bad_max_bytes_argument_is_named(value: Any, workdir: Any) -> None:
    _csv("d.csv")
    with pytest.raises(InputError, match="max_bytes"):
        datasets.load_csv("d.csv", max_bytes=value)


@pytest.mark.parametrize("make, name", [(_npz, "d.npz"), (_csv, "d.csv")])
def test_good_files_within_the_limit_still_load(make: Any, name: str, workdir: Any) -> None:
    make(name)
    size = os.path.getsize(name)
    X, y = datasets.load_data(name, max_bytes=size)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, Y0)
