"""Files written atomically and archives read safely: the primitives under model files and checkpoints.

:func:`atomic_write` writes a temporary file in the same folder, flushes and
fsyncs it, then renames it over the target, so a crash leaves either the old
file or the new one; :func:`check_writable` says before any work whether a path
can be written (a :class:`~neuroplug.errors.FileWriteError` naming the path the
caller gave). :func:`write_archive` stores JSON plus numeric arrays as an
``.npz``; :class:`SafeArchive` reads one back without pickle and without
:func:`numpy.load`: every zip member and every ``.npy`` header is parsed and
checked (dtype, shape, declared and stored sizes) *before* anything is allocated,
and anything unexpected raises :class:`~neuroplug.errors.ModelFileError`.
"""

from __future__ import annotations

import errno as _errno
import json
import math
import os
import re
import reprlib
import stat
import struct
import tempfile
import zipfile
import zlib
from itertools import accumulate
from typing import Any

import numpy as np

from ..errors import (
    ConfigError,
    FileWriteError,
    InputError,
    ModelFileError,
    NeuroplugError,
)

__all__ = ["SafeArchive", "write_archive", "atomic_write", "check_writable"]


# --- limits of the archive reader
_NPY_MAGIC = b"\x93NUMPY"
_MAX_NPY_HEADER = 10_000        # numpy's own default limit (numpy.lib.format._MAX_HEADER_SIZE)
_MAX_NDIM = 32
_MAX_DIM_DIGITS = 20
_CHUNK = 1 << 20                # data are read in chunks of this size
_MAX_EXPANSION = 100            # a deflated member may expand at most this much ...
_EXPANSION_FLOOR = 1 << 20      # ... once it is larger than this
_MAX_JSON_DEPTH = 64
_MAX_JSON_INT_DIGITS = 100
_LOCAL_HEADER_BYTES = 30        # fixed part of a zip local file header

# what zipfile/zlib raise on damaged archives (ValueError covers UnicodeDecodeError,
# RuntimeError covers encrypted members and NotImplementedError)
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, struct.error, OSError, EOFError,
               ValueError, RuntimeError, OverflowError)

_DEFAULT_DTYPES = {
    "f": (np.float32, np.float64),
    "i": (np.int8, np.int16, np.int32, np.int64),
    "u": (np.uint8, np.uint16, np.uint32, np.uint64),
    "b": (np.bool_,),
}
_MEMBER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,199}")
_SAVEZ_RESERVED = frozenset({"file", "allow_pickle"})  # np.savez's own keyword arguments

_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 80
_repr.maxlevel, _repr.maxdict, _repr.maxlist = 3, 6, 6


def _short(value: Any) -> str:
    """A bounded repr of a value read from a file (for error messages)."""
    return _repr.repr(value)


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _file_mode(path: str) -> int:
    """The permissions ``path`` should get: those it has, or what ``open()`` would give a new file."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    try:  # the umask, read without changing it (Linux)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def _output_path(path: Any, what: str) -> str:
    """``path`` as a str, or InputError: not a path, empty, or holding a NUL byte."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise InputError(f"the path to write {what} to must be a str or os.PathLike file path, "
                         f"got {_short(path)} of type {type(path).__name__}")
    try:
        text = os.fsdecode(os.fspath(path))
    except (TypeError, UnicodeDecodeError) as exc:
        raise InputError(f"the path to write {what} to is not a file path: {_short(path)} ({exc})") from None
    if not text:
        raise InputError(f"the path to write {what} to is empty (''); give a file name such as 'model.npz'")
    if "\0" in text:
        raise InputError(f"the path to write {what} to, {_short(text)}, holds a NUL byte ('\\0'), "
                         f"which no file name can hold")
    return text


def _cannot(path: str, what: str, why: str, errno: int | None = None) -> FileWriteError:
    return FileWriteError(f"cannot write {what} to {_clip(repr(path), 200)}: {why}", path=path, errno=errno)


def check_writable(path: Any, what: str = "the file", *, probe: bool = True) -> str:
    """Check that :func:`atomic_write` can write ``path``, without changing anything there.

    Returns the path as a ``str``. Raises :class:`~neuroplug.errors.InputError` for
    something that is not a file path (``None``, ``""``, a NUL byte) and
    :class:`~neuroplug.errors.FileWriteError` (an ``OSError``) when the folder does
    not exist, the path is a directory or a special file (a device, FIFO or socket),
    an existing file is read-only, the name is too long, or the folder is not
    writable. ``what`` ("the model") is used in the messages. ``probe=False`` skips
    creating (and removing) a temporary file in the folder, for a caller that is
    about to create one anyway (:func:`atomic_write`).
    """
    path = _output_path(path, what)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        name_max = 255
    if len(os.fsencode(os.path.basename(path))) > name_max:
        raise _cannot(path, what, f"the file name is longer than {name_max} bytes, the most this "
                      f"file system allows", _errno.ENAMETOOLONG)
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # the folder is checked below
        mode = None
    except OSError as exc:  # e.g. a name too long, a name too long, a loop of links
        raise _cannot(path, what, exc.strerror or str(exc), exc.errno) from None
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise _cannot(path, what, "it is a directory; give the path of a file", _errno.EISDIR)
        if not stat.S_ISREG(mode):
            raise _cannot(path, what, "it is not a regular file (a device, FIFO or socket); "
                          "only a regular file is replaced")
        if not os.access(path, os.W_OK):
            raise _cannot(path, what, "the file is read-only (no write permission); it was left "
                          "unchanged", _errno.EACCES)
    if not os.path.isdir(folder):
        why = "is not a directory" if os.path.exists(folder) else "does not exist"
        raise _cannot(path, what, f"the folder {os.path.dirname(path) or folder!r} {why}", _errno.ENOENT)
    if not probe:
        return path
    try:  # the one sure test of a folder's permissions (os.access is wrong for root, ACLs, read-only mounts)
        fd, probe_path = tempfile.mkstemp(prefix=".neuroplug-probe.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _cannot(path, what, f"cannot create a file in the folder {folder!r} "
                      f"({exc.strerror or exc})", exc.errno) from None
    os.close(fd)
    try:
        os.unlink(probe_path)
    except OSError:
        pass
    return path


def atomic_write(path: str | os.PathLike[str], write: Any, what: str = "the file") -> None:
    """Call ``write(fileobj)`` on a temporary file, fsync it, and rename it to ``path``.

    The file gets the permissions of the one it replaces, or those of a newly
    created file (``0o666`` less the umask), not the private ones of a temporary file.
    ``path`` is checked first (:func:`check_writable`); an operating-system error on
    the way (a full disk, ...) is a :class:`~neuroplug.errors.FileWriteError` naming
    ``path``. Either way nothing is left behind and a file already at ``path`` is unchanged.
    """
    path = check_writable(path, what, probe=False)  # the temporary file below is the folder's probe
    folder = os.path.dirname(os.path.abspath(path))
    mode = _file_mode(path)
    # the temporary name is bounded: a long (but valid) target name must not make it too long
    prefix = f".{os.path.basename(path)[:40]}."
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=folder)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError) and not isinstance(exc, NeuroplugError):
            raise _cannot(path, what, exc.strerror or str(exc), exc.errno) from None
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


# ---------------------------------------------------------------------- the archive reader
class _HeaderError(Exception):
    """An ``.npy`` header that does not parse (turned into a ModelFileError naming the member)."""


class _Unreadable(Exception):
    """zipfile/zlib failed while reading a member (turned into a ModelFileError naming the member)."""


class _Guarded:
    """A zip member whose ``read`` turns the errors of a damaged archive into :class:`_Unreadable`,
    so that only those (not a bug of the parser around it) are reported as a bad file."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh

    def read(self, n: int) -> bytes:
        try:
            return self._fh.read(n)
        except _ZIP_ERRORS as exc:
            raise _Unreadable(f"{type(exc).__name__}: {_clip(str(exc))}") from None


_NPY_ITEM = re.compile(r"""
    \s* (?P<q>['"]) (?P<key>\w+) (?P=q) \s* : \s*
    (?:   (?P<sq>['"]) (?P<str>[^'"\\\n]*) (?P=sq)
        | (?P<bool>True|False)
        | \( (?P<tuple>[^()]*) \)
        | (?P<list>\[)
    ) \s* (?P<comma>,)?""", re.VERBOSE)
_NPY_DIM = re.compile(r"[0-9]{1,%d}" % _MAX_DIM_DIGITS)


def _parse_npy_header(text: str) -> tuple[str, bool, tuple[int, ...]]:
    """Parse the dict literal of an ``.npy`` header, strictly, without ``eval`` or ``ast``.

    Only the form numpy writes is accepted: ``{'descr': '<f8', 'fortran_order': False,
    'shape': (3, 4), }`` (any key order, optional trailing comma, padding).
    """
    text = text.strip(" \t\r\n")
    if not (text.startswith("{") and text.endswith("}")):
        raise _HeaderError(f"the header is not a {{...}} dictionary: {_short(text)}")
    body, pos, items, need_comma = text[1:-1], 0, {}, False
    while body[pos:].strip():
        if need_comma:
            raise _HeaderError(f"the header lacks a comma before {_short(body[pos:pos + 40])}")
        m = _NPY_ITEM.match(body, pos)
        if m is None:
            raise _HeaderError(f"the header cannot be parsed at {_short(body[pos:pos + 40])}")
        key = m.group("key")
        if key in items:
            raise _HeaderError(f"the header gives {key!r} twice")
        if m.group("list") is not None:
            raise _HeaderError(f"the header's {key!r} is a list (a structured dtype), which is not allowed")
        if m.group("str") is not None:
            items[key] = m.group("str")
        elif m.group("bool") is not None:
            items[key] = m.group("bool") == "True"
        else:
            parts = [p.strip() for p in m.group("tuple").split(",")]
            if len(parts) > 1 and parts[-1] == "":
                parts.pop()
            elif parts == [""]:
                parts = []
            elif len(parts) == 1:
                raise _HeaderError(f"the header's {key!r} is ({parts[0]}), not a tuple")
            if not all(_NPY_DIM.fullmatch(p) for p in parts):
                raise _HeaderError(f"the header's {key!r} ({_short(m.group('tuple'))}) is not a tuple of "
                                   f"non-negative integers")
            items[key] = tuple(int(p) for p in parts)
        pos, need_comma = m.end(), m.group("comma") is None
    if set(items) != {"descr", "fortran_order", "shape"}:
        raise _HeaderError(f"the header's keys are {sorted(items)}, expected ['descr', 'fortran_order', 'shape']")
    descr, fortran, shape = items["descr"], items["fortran_order"], items["shape"]
    if not isinstance(descr, str):
        raise _HeaderError(f"the header's descr is {_short(descr)}, not a dtype string")
    if not isinstance(fortran, bool):
        raise _HeaderError(f"the header's fortran_order is {_short(fortran)}, not True or False")
    if not isinstance(shape, tuple):
        raise _HeaderError(f"the header's shape is {_short(shape)}, not a tuple")
    return descr, fortran, shape


def _read_exact(fh: Any, n: int) -> bytes:
    """Read ``n`` bytes (fewer only at the end of the member), at most ``_CHUNK`` at a time."""
    parts, left = [], n
    while left > 0:
        data = fh.read(min(left, _CHUNK))
        if not data:
            break
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def _allowed_dtypes(kinds: str, dtypes: tuple | None) -> dict[str, np.dtype]:
    """Map each accepted ``.npy`` descr string (little-endian or native) to its native dtype."""
    if not kinds or set(kinds) - set(_DEFAULT_DTYPES):
        raise ValueError(f"kinds must be made of {''.join(_DEFAULT_DTYPES)!r}, got {kinds!r}")
    if dtypes is None:
        candidates = [np.dtype(t) for k in kinds for t in _DEFAULT_DTYPES[k]]
    else:
        candidates = [np.dtype(t) for t in dtypes]
    table = {}
    for dt in candidates:
        if dt.kind not in kinds or dt.fields is not None or dt.subdtype is not None or dt.hasobject:
            raise ValueError(f"dtype {dt} is not a plain dtype of the kinds {kinds!r}")
        native = dt.newbyteorder("=")
        table[native.str] = native
        table[native.newbyteorder("<").str] = native
    return table


def _explain_dtype(descr: str) -> str:
    code = descr.lstrip("<>|=")
    if code.startswith("O"):
        return " (Python objects, which only pickle could read; never done here)"
    if code.startswith(("V", "[")) or "," in descr:
        return " (a structured or raw-bytes dtype)"
    if descr.startswith(">"):
        return " (big-endian)"
    return ""


class SafeArchive:
    """Read-only view of an ``.npz`` file that validates every member before allocating.

    Nothing is unpickled and :func:`numpy.load` is never called: the zip directory
    is checked when the file is opened (no duplicate, encrypted or exotically
    compressed member, every member's data inside the file, no member expanding more
    than ``100x``), and each ``.npy`` header is parsed strictly and checked (dtype,
    shape, declared size against the limit and against the member's stored size)
    before its data are read, in bounded chunks. Every problem raises
    :class:`~neuroplug.errors.ModelFileError` ``"cannot load {what} {path!r}: {why}"``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.
    what : str
        What the file is, for the messages (``"model"``, ``"checkpoint"``).

    Attributes
    ----------
    names : frozenset of str
        The member names without their ``.npy`` suffix.

    Examples
    --------
    ``with SafeArchive(path) as archive: meta = archive.json("architecture")``
    """

    def __init__(self, path: str | os.PathLike[str], what: str = "model") -> None:
        if not isinstance(path, (str, bytes, os.PathLike)):
            raise InputError(f"the path of the {what} to load must be a str or path, got {path!r:.60} of type "
                             f"{type(path).__name__}")
        self.path = os.fspath(path)
        self.what = what
        self.names: frozenset[str] = frozenset()
        self._fh: Any = None
        self._zip: zipfile.ZipFile | None = None
        if not self.path or ("\0" if isinstance(self.path, str) else b"\0") in self.path:
            raise self.fail("not a file name (empty, or holds a NUL byte)")
        try:  # non-blocking, so that a FIFO is refused below instead of waiting for a writer
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            raise self.fail("no such file") from None
        except OSError as exc:
            raise self.fail(f"cannot be opened ({exc.strerror or exc})") from None
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise self.fail("it is not a regular file")
            fh = self._fh = open(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        self._size = info.st_size
        try:
            try:
                self._zip = zipfile.ZipFile(fh)
            except _ZIP_ERRORS as exc:
                raise self.fail(f"not a readable .npz archive ({type(exc).__name__}: {_clip(str(exc))})") from None
            self.names = self._check_directory()
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> "SafeArchive":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the file (also done by ``with``)."""
        zf, fh, self._zip, self._fh = self._zip, self._fh, None, None
        if zf is not None:
            zf.close()
        if fh is not None:
            fh.close()

    def fail(self, why: str) -> ModelFileError:
        """The :class:`~neuroplug.errors.ModelFileError` for this file: ``cannot load {what} {path!r}: {why}``."""
        return ModelFileError(f"cannot load {self.what} {self.path!r}: {why}")

    def _check_directory(self) -> frozenset[str]:
        assert self._zip is not None
        seen: set[str] = set()
        for info in self._zip.infolist():
            name = info.filename
            if name in seen:
                raise self.fail(f"it holds the member {name!r} twice")
            seen.add(name)
            if not name.endswith(".npy"):
                raise self.fail(f"its member {name!r} is not an .npy array")
            if info.flag_bits & 0x1:
                raise self.fail(f"its member {name!r} is encrypted")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self.fail(f"its member {name!r} uses zip compression method {info.compress_type}; "
                                f"only stored and deflated members are read")
            if info.header_offset < 0:
                raise self.fail(f"its member {name!r} has a negative offset {info.header_offset} "
                                f"(corrupt zip directory)")
            if info.header_offset + _LOCAL_HEADER_BYTES + info.compress_size > self._size:
                raise self.fail(f"its member {name!r} declares {info.compress_size} bytes at offset "
                                f"{info.header_offset}, past the end of the {self._size}-byte file (truncated?)")
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise self.fail(f"its stored member {name!r} declares {info.file_size} bytes but holds "
                                f"{info.compress_size}")
            if info.file_size > max(_EXPANSION_FLOOR, _MAX_EXPANSION * info.compress_size):
                raise self.fail(f"its member {name!r} would expand from {info.compress_size} to "
                                f"{info.file_size} bytes (more than {_MAX_EXPANSION}x; refusing a zip bomb)")
        return frozenset(name[:-len(".npy")] for name in seen)

    # ------------------------------------------------------------------ members
    def json(self, name: str, max_bytes: int = 1 << 20) -> Any:
        """The JSON value held, as UTF-8 text, by the 1-D uint8 member ``name``.

        Rejects a member larger than ``max_bytes``, text that is not UTF-8 or not
        JSON, ``NaN``/``Infinity`` (also as overflowing literals such as ``1e400``),
        integers of more than 100 digits, duplicate keys in an object, and nesting
        deeper than 64 levels.
        """
        raw = self._read(name, shape=None, ndim=1, kinds="u", dtypes=(np.uint8,), max_bytes=max_bytes)
        try:
            text = raw.tobytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self.fail(f"its entry {name!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        depth = _json_depth(text)
        if depth > _MAX_JSON_DEPTH:
            raise self.fail(f"its entry {name!r} nests JSON arrays/objects {depth} levels deep, "
                            f"more than the {_MAX_JSON_DEPTH} allowed")
        try:
            return json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float,
                              parse_int=_parse_int, object_pairs_hook=_unique_keys)
        except ValueError as exc:
            raise self.fail(f"its entry {name!r} is not valid JSON ({_clip(str(exc))})") from None

    def array(self, name: str, shape: tuple[int, ...] | None = None, kinds: str = "f",
              max_bytes: int = 1 << 31, dtypes: tuple | None = None) -> np.ndarray:
        """The array held by the member ``name``, validated before it is allocated.

        Parameters
        ----------
        name : str
            The member, without ``.npy``.
        shape : tuple of int, optional
            The required shape; ``None`` accepts any shape of at most ``max_bytes``.
        kinds : str
            The accepted dtype kinds, among ``"f"`` (float32, float64), ``"i"``
            (int8 to int64), ``"u"`` (uint8 to uint64) and ``"b"`` (bool).
        max_bytes : int
            The largest accepted data size.
        dtypes : tuple, optional
            The accepted dtypes (of the given kinds) instead of those defaults.

        Returns
        -------
        numpy.ndarray
            A new, writable, C-contiguous array in native byte order. Little-endian
            and native data are accepted; object, structured, big-endian (on a
            little-endian machine) and other dtypes are not.
        """
        return self._read(name, shape=shape, ndim=None, kinds=kinds, dtypes=dtypes, max_bytes=max_bytes)

    def _read(self, name: str, *, shape: tuple[int, ...] | None, ndim: int | None, kinds: str,
              dtypes: tuple | None, max_bytes: int) -> np.ndarray:
        allowed = _allowed_dtypes(kinds, dtypes)
        if self._zip is None:
            raise ValueError("the archive is closed")
        if name not in self.names:
            raise self.fail(f"it has no {name!r} entry")
        info = self._zip.getinfo(name + ".npy")
        try:
            try:
                fh = self._zip.open(info)
            except _ZIP_ERRORS as exc:
                raise _Unreadable(f"{type(exc).__name__}: {_clip(str(exc))}") from None
            with fh:
                return self._read_npy(_Guarded(fh), info, name, shape, ndim, allowed, max_bytes)
        except _Unreadable as exc:
            raise self.fail(f"its entry {name!r} is unreadable ({exc})") from None

    def _read_npy(self, fh: Any, info: zipfile.ZipInfo, name: str, shape: tuple[int, ...] | None,
                  ndim: int | None, allowed: dict[str, np.dtype], max_bytes: int) -> np.ndarray:
        entry = f"its entry {name!r}"
        magic = _read_exact(fh, len(_NPY_MAGIC) + 2)
        if len(magic) < len(_NPY_MAGIC) + 2 or magic[:len(_NPY_MAGIC)] != _NPY_MAGIC:
            raise self.fail(f"{entry} is not an .npy array (it starts with {_short(magic)})")
        version = (magic[-2], magic[-1])
        if version not in ((1, 0), (2, 0)):
            raise self.fail(f"{entry} uses .npy format version {version[0]}.{version[1]}; "
                            f"only 1.0 and 2.0 are read")
        size_bytes = 2 if version == (1, 0) else 4
        raw_len = _read_exact(fh, size_bytes)
        if len(raw_len) < size_bytes:
            raise self.fail(f"{entry} is truncated inside its .npy header")
        header_len = int.from_bytes(raw_len, "little")
        if header_len > _MAX_NPY_HEADER:
            raise self.fail(f"{entry} declares a {header_len}-byte .npy header, more than the "
                            f"{_MAX_NPY_HEADER} allowed")
        raw = _read_exact(fh, header_len)
        if len(raw) < header_len:
            raise self.fail(f"{entry} is truncated inside its .npy header")
        try:
            descr, fortran, dims = _parse_npy_header(raw.decode("latin1"))
        except _HeaderError as exc:
            raise self.fail(f"{entry} has an invalid .npy header: {exc}") from None
        dtype = allowed.get(descr)
        if dtype is None:
            expected = ", ".join(map(repr, sorted(allowed)))
            raise self.fail(f"{entry} has dtype {_short(descr)}{_explain_dtype(descr)}; "
                            f"allowed: {expected}")
        if len(dims) > _MAX_NDIM:
            raise self.fail(f"{entry} declares {len(dims)} dimensions, more than {_MAX_NDIM}")
        if shape is not None and dims != tuple(shape):
            raise self.fail(f"{entry} has shape {dims}, expected {tuple(shape)}")
        if ndim is not None and len(dims) != ndim:
            raise self.fail(f"{entry} has shape {dims}, expected a {ndim}-D array")
        nbytes = math.prod(dims) * dtype.itemsize
        if nbytes > max_bytes:
            raise self.fail(f"{entry} declares shape {dims} of {dtype} ({nbytes} bytes), more than the "
                            f"{max_bytes} bytes allowed")
        data_offset = len(magic) + size_bytes + header_len
        if info.file_size != data_offset + nbytes:
            raise self.fail(f"{entry} declares shape {dims} of {dtype} ({nbytes} bytes after a "
                            f"{data_offset}-byte header), but the member holds {info.file_size} bytes")
        buf = np.empty(nbytes, dtype=np.uint8)
        view, pos = memoryview(buf), 0
        while pos < nbytes:
            chunk = fh.read(min(_CHUNK, nbytes - pos))
            if not chunk:
                raise self.fail(f"{entry} is truncated: {pos} of its {nbytes} data bytes are present")
            view[pos:pos + len(chunk)] = chunk
            pos += len(chunk)
        if fh.read(1):  # also makes zipfile check the CRC of the whole member
            raise self.fail(f"{entry} holds more data than its header declares")
        if dtype.kind == "b" and nbytes and int(buf.max()) > 1:
            raise self.fail(f"{entry} holds bool bytes other than 0 and 1")
        order = "F" if fortran else "C"
        arr = buf.view(np.dtype(descr)).reshape(dims, order=order)
        # a view of ``buf`` (private to this call) unless a copy is needed for order or byte order
        return np.require(arr.astype(dtype, copy=False), requirements=["C", "W"])


def _json_depth(text: str) -> int:
    """How deeply ``[``/``{`` nest in ``text``, outside string literals (linear time, no recursion)."""
    skeleton = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(1 if c in "[{" else -1 for c in skeleton), default=0)


# a string literal, its closing quote optional: an unterminated string is consumed once, to the
# end of the text, instead of being retried from every later quote (which takes quadratic time)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not allowed")


def _parse_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise ValueError(f"the number {_short(token)} overflows to {value}")
    return value


def _parse_int(token: str) -> int:
    if len(token.lstrip("-")) > _MAX_JSON_INT_DIGITS:
        raise ValueError(f"an integer has {len(token.lstrip('-'))} digits, more than {_MAX_JSON_INT_DIGITS}")
    return int(token)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {_short(key)} appears twice in an object")
        out[key] = value
    return out


def write_archive(path: str | os.PathLike[str], meta_name: str, meta: dict,
                  arrays: dict[str, np.ndarray], what: str = "the archive") -> None:
    """Write ``meta`` as JSON and ``arrays`` to the ``.npz`` file ``path``, atomically.

    The JSON (``allow_nan=False``, sorted keys) is stored as the uint8 member
    ``meta_name``, first, followed by ``arrays`` in order, with :func:`numpy.savez`
    (uncompressed); :class:`SafeArchive` reads the result back. Raises
    :class:`~neuroplug.errors.ConfigError` for invalid member names, metadata
    that is not plain JSON, or arrays that are not plain bool/int/uint/float.
    """
    for key in (meta_name, *arrays):
        if not isinstance(key, str) or not _MEMBER_NAME.fullmatch(key) or key in _SAVEZ_RESERVED:
            raise ConfigError(f"invalid archive member name {key!r}: use letters, digits, '_', '.', '-' "
                              f"(not {sorted(_SAVEZ_RESERVED)})")
    if meta_name in arrays:
        raise ConfigError(f"the member name {meta_name!r} is used for both the metadata and an array")
    try:
        text = json.dumps(meta, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the {meta_name!r} metadata is not plain JSON: {exc}") from None
    members = {meta_name: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    for key, value in arrays.items():
        arr = np.asarray(value)
        if arr.dtype.kind not in "biuf" or arr.dtype.fields is not None or arr.dtype.subdtype is not None:
            raise ConfigError(f"the array {key!r} has dtype {arr.dtype}; only bool, integer and float "
                              f"arrays can be saved")
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
        members[key] = arr
    atomic_write(path, lambda fh: np.savez(fh, **members), what)


# ---------------------------------------------------------------------- models
