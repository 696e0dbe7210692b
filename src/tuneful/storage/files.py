"""A storage file as this process opened it: deleted or replaced since is an error."""

from __future__ import annotations

import os

from tuneful.errors import StorageError

__all__ = ["WatchedFile"]


class WatchedFile:
    """The file of a storage, as this process opened it.

    Its identity (device and inode) is remembered once opened; :meth:`check` raises when
    the path now names no file or another one. The process would otherwise keep writing to
    the deleted file through its open descriptor, and a run would finish with every result
    lost.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self._identity: tuple[int, int] | None = None

    @property
    def remembered(self) -> bool:
        """Whether the file's identity was taken."""
        return self._identity is not None

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def remember(self, fd: int | None = None) -> None:
        """Take the file now at the path (or open as ``fd``) as this storage's file."""
        status = os.stat(self.path) if fd is None else os.fstat(fd)
        self._identity = (status.st_dev, status.st_ino)

    def check(self) -> None:
        """Raise :class:`StorageError` when the file was deleted or replaced since it was
        remembered (one ``stat``: cheap enough for every transaction)."""
        if self._identity is None:
            return
        try:
            status = os.stat(self.path)
        except FileNotFoundError:
            what = "deleted"
        else:
            if (status.st_dev, status.st_ino) == self._identity:
                return
            what = "replaced by another file"
        raise StorageError(
            f"storage file {self.path} was {what} while this process had it open: the trials "
            "written since are in the lost file, not at that path; stopping here so that no "
            "more work is lost"
        )
