"""File name extensions that mark a video file (folder scans, dataset look-ups by clip name)."""

__all__ = ["VIDEO_EXTENSIONS"]

VIDEO_EXTENSIONS = (
    ".mp4",
    ".m4v",
    ".mov",
    ".avi",
    ".mkv",
    ".webm",
    ".mpg",
    ".mpeg",
    ".wmv",
    ".flv",
    ".3gp",
    ".ts",
    ".mts",
    ".ogv",
)
