"""Array and path type aliases used across fashionkit's public signatures."""

from __future__ import annotations

import os
from typing import TypeAlias

import numpy as np
from numpy.typing import NDArray

#: Raw images as stored in the IDX files: ``(N, 28, 28)`` unsigned bytes.
ImagesU8: TypeAlias = NDArray[np.uint8]
#: Integer class labels ``(N,)`` with values in ``0..9``.
LabelsU8: TypeAlias = NDArray[np.uint8]
#: Preprocessed model input in ``[0, 1]``: ``(N, 784)`` or ``(N, 28, 28, 1)``.
FloatArray: TypeAlias = NDArray[np.float32]
#: A file system path given as a string or any :class:`os.PathLike`.
PathLike: TypeAlias = str | os.PathLike[str]
