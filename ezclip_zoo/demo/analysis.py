"""What the demo page shows for one video, computed without Gradio: the ranking (`classify`), the sampled frames,
the attention overlay of the best class (`explain`, `overlay_image`) and the localisation timeline (`localize`,
`save_timeline`). Each is the package's own function; this module only calls them in turn and makes pictures."""

from __future__ import annotations

import re
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import LocalizationWarning, VideoDecodeWarning
from ..figures.overlay import overlay_image
from ..figures.timeline import save_timeline
from ..inference.classification import classify
from ..inference.result import ClassificationResult
from ..localization import LocalizationResult, localize
from ..saliency import explain
from ..text.class_sets import resolve_class_set
from ..video import open_video

if TYPE_CHECKING:
    from PIL import Image

    from ..modeling.model import EZCLIP
    from ..saliency import Explanation
    from ..text.labels import ClassNames

__all__ = ["Analysis", "analyse", "demo_classes", "parse_class_text"]

FRAME_SIDE = 320  # longest side of the frames shown in the gallery (pixels)
OVERLAY_COLUMNS = 4  # maps per row of the overlay (8 frames: two rows, about the timeline's shape)


@dataclass
class Analysis:
    """Everything the page shows about one video.

    Attributes:
        ranking: `classify`'s result (top-k labels and probabilities: the bar chart and the table).
        frames: the T sampled frames as decoded (longest side at most `FRAME_SIDE`), with a caption each.
        overlay: a PIL image of the attention maps over the sampled frames (`overlay_image`).
        method: the attention method of the overlay.
        localization: `localize`'s result over the same classes.
        timeline: a PIL image of the localisation timeline, one row per top-k class.
        notes: warnings raised on the way (a damaged file read in part, a video shorter than one window).
        seconds: wall time of the whole analysis.
    """

    ranking: ClassificationResult
    frames: list[tuple[np.ndarray, str]]
    overlay: Image.Image
    method: str
    localization: LocalizationResult
    timeline: Image.Image
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def parse_class_text(text: str | None) -> list[str]:
    """Class names typed in a box: one per line, or separated by commas; blanks dropped, spaces trimmed."""
    return [name.strip() for name in re.split(r"[\n,]", text or "") if name.strip()]


def demo_classes(typed: str | None, class_set: str | None) -> str | list[str]:
    """The classes of a request: the class set's canonical name when one is picked (`resolve_class_set`, as the
    command line's ``--class-set``), else the typed names as a list (as ``-l``).

    Raises:
        ValueError: no class typed and no class set picked.
        UnknownClassSetError: ``class_set`` names no class set.
    """
    if class_set:
        return resolve_class_set(class_set)  # a string: the scoring functions read it as a class-set name
    names = parse_class_text(typed)
    if not names:
        raise ValueError(
            "no classes: type at least one class name (one per line, or separated by commas), or pick a class set"
        )
    return names


def _sampled_frames(video: Any, explanation: Explanation) -> list[tuple[np.ndarray, str]]:
    """The frames `explain` sampled, decoded again at display size, captioned with their index and time."""
    from PIL import Image

    decoded, _ = open_video(video).decode(explanation.frame_indices)
    out = []
    for k, (index, frame) in enumerate(zip(explanation.frame_indices, decoded, strict=True)):
        image = Image.fromarray(np.asarray(frame))
        image.thumbnail((FRAME_SIDE, FRAME_SIDE))
        when = f" at {explanation.timestamps[k]:.2f} s" if explanation.timestamps else ""
        out.append((np.asarray(image), f"#{index}{when}"))
    return out


def _timeline_image(localization: LocalizationResult, rows: list[str], title: str) -> Image.Image:
    """`save_timeline` of the ``rows`` classes, read back as a PIL image."""
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="ezclip-demo-") as folder:
        path = save_timeline(localization, Path(folder) / "timeline.png", classes=rows, title=title)
        with Image.open(path) as image:
            return image.convert("RGB")


def analyse(
    model: EZCLIP,
    video: Any,
    classes: str | ClassNames,
    *,
    topk: int = 5,
    window_s: float = 2.0,
    method: str = "gradient",
) -> Analysis:
    """Rank the classes for one video and explain and localise the best of them.

    Args:
        model: an `EZCLIP`, loaded once and shared by every request.
        video: a video file (path, bytes or binary file object).
        classes: class names, a dict name -> description, or a class-set name (as `classify` takes them).
        topk: classes ranked in the chart and drawn in the timeline.
        window_s: the localisation window in seconds (`localize`; half a window between starts).
        method: the attention method of the overlay (`METHODS`; ``"gradient"`` explains the best class).

    Returns:
        An `Analysis`.

    Raises:
        VideoDecodeError: the file is not a readable video (the message names the problem).
        ValueError / TypeError: bad classes or options (the message names them).
    """
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", VideoDecodeWarning)
        warnings.simplefilter("always", LocalizationWarning)
        ranking = classify(model, video, classes, topk=topk)
        assert isinstance(ranking, ClassificationResult)  # one video in (a file), one result out
        explanation = explain(model, video, ranking.label, method=method, classes=classes)
        frames = _sampled_frames(video, explanation)
        overlay = overlay_image(explanation, columns=OVERLAY_COLUMNS, show_frames=False, title=False)
        localization = localize(model, video, classes, window_s=window_s)
        timeline = _timeline_image(localization, ranking.labels, title=f"top {len(ranking.labels)} classes over time")
    notes = list(
        dict.fromkeys(
            str(w.message) for w in caught if issubclass(w.category, (VideoDecodeWarning, LocalizationWarning))
        )
    )
    return Analysis(
        ranking=ranking,
        frames=frames,
        overlay=overlay,
        method=method,
        localization=localization,
        timeline=timeline,
        notes=notes,
        seconds=time.perf_counter() - start,
    )
