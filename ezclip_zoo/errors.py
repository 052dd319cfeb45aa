"""Exception types of ezclip-zoo. Each also derives from the builtin a caller would naturally catch."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["EZCLIPError", "WeightsUnavailableError", "ChecksumError", "CheckpointNotAvailableError"]


class EZCLIPError(Exception):
    """Base class of every error ezclip-zoo raises on purpose."""


class WeightsUnavailableError(EZCLIPError, FileNotFoundError):
    """Weights could not be found locally nor downloaded (offline, no network, or not published)."""


class ChecksumError(EZCLIPError, ValueError):
    """A downloaded or cached file does not have the sha256 that ``checkpoints.json`` records."""


class CheckpointNotAvailableError(EZCLIPError, LookupError):
    """A checkpoint name is known but its weights are not published (yet); the message says how to make them."""


class AnnotationError(EZCLIPError, ValueError):
    """A dataset annotation file is malformed; the message names the file, the line and what was expected."""


class ResumeError(EZCLIPError, ValueError):
    """A training checkpoint does not fit the run asked to resume from it (other model, data or world size)."""


__all__ += ["AnnotationError", "ResumeError"]


class VideoDecodeError(EZCLIPError, ValueError):
    """A video could not be read; the message names the file and the problem (empty, not a video, truncated...)."""


class VideoNotFoundError(VideoDecodeError, FileNotFoundError):
    """A video path does not exist (also a `VideoDecodeError`, so one ``except`` skips every unreadable video)."""


__all__ += ["VideoDecodeError", "VideoNotFoundError"]


class VideoDecodeWarning(UserWarning):
    """A video was read only in part (truncated or damaged); the message names the file and what was used."""


__all__ += ["VideoDecodeWarning"]


class LocalizationWarning(UserWarning):
    """`localize` scored a video differently from what was asked (shorter than one window, a stride longer than the
    video); the message names the video and what was done."""


__all__ += ["LocalizationWarning"]


class UntrainedModelWarning(UserWarning):
    """`ezclip_zoo.load` of an architecture name: the prompts and adapters are fresh, so predictions mean nothing
    until the model is trained (load a checkpoint for real results)."""


__all__ += ["UntrainedModelWarning"]


class DownloadError(WeightsUnavailableError):
    """A download failed (no network, quota, permission, an HTML page, disk full); the message says the fix."""


class SourceVerificationError(EZCLIPError, ValueError):
    """A downloaded file of the authors' release is not the model its entry describes (architecture, keys or
    backbone)."""


class UnsafeFileError(EZCLIPError, ValueError):
    """A file would need unpickling arbitrary objects to be read; it is refused, since that could run code."""


class UnsafePathError(EZCLIPError, ValueError):
    """A downloaded or local checkpoint folder names a file outside itself; refused."""


__all__ += ["DownloadError", "SourceVerificationError", "UnsafeFileError", "UnsafePathError"]


class UnknownNameError(EZCLIPError, KeyError, ValueError):
    """A name that is not registered (architecture, checkpoint...); the message lists the close matches.

    Both a `KeyError` (a failed look-up) and a `ValueError` (a bad argument), so either ``except`` catches it.
    """

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""

    @classmethod
    def of(cls, kind: str, name: object, known: Iterable[str], hint: str = "") -> UnknownNameError:
        """``unknown {kind} {name!r}; did you mean ...? Known: ...`` (plus ``hint``)."""
        import difflib

        known = sorted(known)
        close = difflib.get_close_matches(str(name), known, n=3)
        return cls(
            f"unknown {kind} {name!r}"
            + (f"; did you mean {', '.join(map(repr, close))}?" if close else "")
            + f" Known: {', '.join(known)}"
            + (f". {hint}" if hint else "")
        )


__all__ += ["UnknownNameError"]


class FileNotInRepoError(WeightsUnavailableError):
    """A Hub repo (or revision) exists but has no such file."""


class TorchCodecUnavailableError(EZCLIPError, ImportError):
    """``backend="torchcodec"`` was asked for but torchcodec (or the FFmpeg libraries it loads) is missing."""


__all__ += ["FileNotInRepoError", "TorchCodecUnavailableError"]


class UnknownClassSetError(UnknownNameError, TypeError):
    """A string given as the classes that names no class set (also a TypeError: a single string is not a list of
    class names, which is what older versions said)."""


__all__ += ["UnknownClassSetError"]


class LibraryError(EZCLIPError, ValueError):
    """A video library (`ezclip-zoo index`) cannot be used: missing or damaged files, a format version this
    release does not read, or a library written by another model or setup; the message names the file and the fix."""


__all__ += ["LibraryError"]


class ExportedModelError(EZCLIPError, ValueError):
    """An exported model folder (``ezclip-zoo export``) cannot be used: its manifest or a file is missing or
    unreadable, it is of another format, or an input does not fit what was exported (the message says which)."""


class ExportedFileChangedError(ExportedModelError, ChecksumError):
    """A file of an exported model folder does not have the sha256 its manifest records (edited or damaged)."""


__all__ += ["ExportedModelError", "ExportedFileChangedError"]


class ExtraNotInstalledError(EZCLIPError, ImportError):
    """A feature needs an optional extra that is not installed (``ezclip-zoo demo`` needs Gradio); the message
    names the ``pip install "ezclip-zoo[...]"`` that adds it."""


__all__ += ["ExtraNotInstalledError"]


class UnsupportedBackboneError(EZCLIPError, ValueError):
    """An open_clip model EZ-CLIP cannot sit on (a convolutional or ResNet tower, a CoCa or Hugging Face text tower,
    a block layout the towers do not read); the message names what is missing and which families work."""


class BackboneMismatchError(EZCLIPError, ValueError):
    """Trained prompts and adapters of one backbone family loaded over a model of another."""


__all__ += ["UnsupportedBackboneError", "BackboneMismatchError"]


class LicenceWarning(UserWarning):
    """The backbone weights a model loads are under a licence other than MIT or Apache-2.0 (non-commercial, or the
    publisher's own terms): the message names it, so that the user checks their use is allowed."""


__all__ += ["LicenceWarning"]


class TextTruncatedWarning(UserWarning):
    """Texts longer than the text tower's context were cut to fit (their last kept token made the end token): what
    they said after that is lost. One warning per call, counting them; PE-Core's 32-token context cuts nearly every
    class description written for CLIP's 77 (docs/backbones.md)."""

    @classmethod
    def of(
        cls, texts: list[str], lengths: list[int], context: int, tokenizer: str = "CLIP BPE"
    ) -> TextTruncatedWarning:
        """The warning for ``texts`` whose token counts are ``lengths`` (some above ``context``)."""
        long = [i for i, n in enumerate(lengths) if n > context]
        i = long[0]
        return cls(
            f"{len(long)} of {len(texts)} texts are longer than the context of {context} tokens ({tokenizer}) and "
            f"were truncated (first: text {i}, {texts[i][:40]!r}..., {lengths[i]} tokens); shorten them to keep "
            "their ends"
        )


__all__ += ["TextTruncatedWarning"]
