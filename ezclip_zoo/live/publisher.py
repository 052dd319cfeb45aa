"""Publish a video file as a live stream: its packets remuxed into MPEG-TS and sent at real-time pace (or a
``pace`` factor) to a URL FFmpeg writes (``tcp://127.0.0.1:9000?listen=1`` waits for one viewer; ``udp://...``
sends datagrams), or to a file or stdout. For tests, benchmarks and demos of `watch`:

    python -m ezclip_zoo.live.publisher video.mp4 "tcp://127.0.0.1:9000?listen=1" --pace 1

Run it in its own process: PyAV holds the GIL while a listening URL waits for its viewer.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

__all__ = ["publish", "output_format", "main"]


_FORMATS = {"rtsp": ("rtsp", {"rtsp_transport": "tcp"}), "rtmp": ("flv", {}), "hls": ("hls", {"hls_time": "1"})}


def output_format(url: str, format: str | None = None) -> tuple[str, dict[str, str]]:
    """The muxer and its options for ``url``: RTSP (pushed over TCP) for ``rtsp://``, FLV for ``rtmp://``, HLS
    (1 s segments, the playlist listing them all) for a path ending ``.m3u8``, else MPEG-TS; ``format`` forces one."""
    kind = url.split("://", 1)[0].lower() if "://" in url else ("hls" if url.lower().endswith(".m3u8") else "")
    chosen, options = _FORMATS.get(kind, ("mpegts", {}))
    if format is not None and format != chosen:
        chosen, options = format, {}
    if chosen == "hls":
        options = {"hls_time": "1", "hls_list_size": "0", "hls_flags": "independent_segments", **options}
    return chosen, {"flush_packets": "1", **options} if chosen in ("mpegts", "flv") else options


def publish(video: str, url: str, *, pace: float = 1.0, loops: int = 1, format: str | None = None) -> int:
    """Send ``video``'s video packets to ``url`` as ``format`` (default from the URL: MPEG-TS, RTSP for
    ``rtsp://`` (pushed over TCP to a server or a ``watch`` listening with ``?listen=1``), FLV for ``rtmp://``,
    HLS segments beside a ``.m3u8`` playlist path), each when its time comes at ``pace`` (stream seconds per
    wall-clock second; ``math.inf``: at once), ``loops`` times over (timestamps continue).

    Returns:
        The number of packets sent.
    """
    import av

    source = av.open(video)
    stream = source.streams.video[0]
    muxer, options = output_format(url, format)
    out = av.open(sys.stdout.buffer if url == "-" else url, mode="w", format=muxer, options=options)
    sent, offset, started = 0, 0.0, time.monotonic()
    try:
        out_stream = out.add_stream_from_template(stream)
        for _ in range(loops):
            source.seek(0)
            last = 0.0
            for packet in source.demux(stream):
                if packet.dts is None or packet.time_base is None:
                    continue
                moment = float((packet.dts if packet.pts is None else packet.pts) * packet.time_base)
                last = max(last, moment)
                delay = started + (offset + moment) / pace - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                shift = round(offset / packet.time_base)
                packet.pts = None if packet.pts is None else packet.pts + shift
                packet.dts = packet.dts + shift
                packet.stream = out_stream
                out.mux(packet)
                sent += 1
            offset += last + float(stream.average_rate and 1 / stream.average_rate or 0.04)
    finally:
        out.close()
        source.close()
    return sent


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m ezclip_zoo.live.publisher VIDEO URL [--pace X] [--loops N]``."""
    parser = argparse.ArgumentParser(prog="python -m ezclip_zoo.live.publisher", description=__doc__.split("\n\n")[0])
    parser.add_argument("video")
    parser.add_argument(
        "url", help="where to: tcp://HOST:PORT?listen=1, udp://HOST:PORT, rtsp://, rtmp://, a file, x.m3u8, - (stdout)"
    )
    parser.add_argument("--pace", type=float, default=1.0, help="stream seconds per second (default 1: real time)")
    parser.add_argument("--loops", type=int, default=1, help="send the video this many times (default 1)")
    parser.add_argument("--format", default=None, help="the muxer (default from the URL: mpegts, rtsp, flv, hls)")
    args = parser.parse_args(argv)
    count = publish(args.video, args.url, pace=args.pace, loops=args.loops, format=args.format)
    print(f"published {count} packets of {args.video} to {args.url}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
