"""Matrix, through matrix-nio: rooms, mentions, numbered suggestions, notices and E2E."""

from channels.matrix.channel import MatrixChannel, MatrixOptions

__all__ = ["MatrixChannel", "MatrixOptions"]
