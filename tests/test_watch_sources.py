"""`watch` on more sources over loopback: RTSP and RTMP pushed by a publisher subprocess to a watch that listens,
HLS written by PyAV's HLS muxer and served by a local HTTP server, and the v4l2 camera path with the opener
substituted (no camera exists on the test machines; docs/live.md gives the manual check)."""

from __future__ import annotations

import threading
import time

import pytest
from _helpers.live import free_port, published
from _helpers.streams import FolderServer, gradient_clip

from ezclip_zoo.live import describe_source, watch
from ezclip_zoo.live.publisher import output_format

SHORT = {"window_s": 1.0, "stride_s": 0.5, "min_score": 0.0, "keep_score": 0.0}


def _run(live):
    with live:
        events = list(live)
    return events, live.summary


def test_source_strings_name_their_kind_and_ffmpeg_options():
    rtsp = describe_source("rtsp://127.0.0.1:8554/cam?listen=1")
    assert rtsp.kind == "network" and rtsp.target == "rtsp://127.0.0.1:8554/cam" and rtsp.listens
    assert dict(rtsp.options) == {"rtsp_transport": "tcp", "rtsp_flags": "listen"}
    assert dict(describe_source("rtsp://cam.local/stream").options) == {"rtsp_transport": "tcp"}
    rtmp = describe_source("rtmp://127.0.0.1:1935/live/s?listen=1")
    assert rtmp.target == "rtmp://127.0.0.1:1935/live/s" and dict(rtmp.options) == {"listen": "1"}
    hls = describe_source("http://127.0.0.1:8000/live/stream.m3u8")
    assert hls.kind == "hls" and hls.pace is None and hls.reconnect
    camera = describe_source("/dev/video7", options={"video_size": "640x480", "framerate": 30})
    assert (camera.kind, camera.format, camera.pace, camera.reconnect) == ("camera", "v4l2", None, True)
    assert dict(camera.options) == {"video_size": "640x480", "framerate": "30"}
    assert describe_source("v4l2:///dev/video0").target == "/dev/video0"
    assert describe_source(camera) is camera and str(camera.__fspath__()) == "/dev/video7"
    assert output_format("rtsp://h/x")[0] == "rtsp" and output_format("rtmp://h/x")[0] == "flv"
    assert output_format("/tmp/live.m3u8")[0] == "hls" and output_format("tcp://h:1")[0] == "mpegts"


@pytest.mark.slow
@pytest.mark.subprocess
@pytest.mark.parametrize("scheme", ["rtsp", "rtmp"])
def test_a_publisher_pushing_rtsp_or_rtmp_to_a_listening_watch(tmp_path, tiny_model, scheme):
    clip = gradient_clip(tmp_path / "clip.mp4", seconds=4)
    port = free_port()
    url = f"{scheme}://127.0.0.1:{port}/live/cam"
    live = watch(tiny_model, f"{url}?listen=1", ["a", "b"], timeout_s=15.0, **SHORT)
    live.start()  # listening before the publisher connects
    time.sleep(0.5)
    with published(clip, url, pace=2.0) as publisher:

        def stop_after_publisher() -> None:  # the publisher is done: the watch would listen for another one
            publisher.wait(timeout=60)
            time.sleep(1.0)
            live.stop()

        threading.Thread(target=stop_after_publisher, daemon=True).start()
        events, _ = _run(live)
        assert publisher.wait(timeout=30) == 0
    summary = live.summary
    windows = [e for e in events if e.kind == "window"]
    # every window of the 4 s is scored or, when the demuxer's probing delivered frames in a burst, skipped
    assert summary.frames >= 36 and len(windows) >= 2 and summary.windows + summary.skipped >= 6
    assert summary.error is None and summary.stream_s == pytest.approx(4.0, abs=0.3)  # the stream's own clock
    assert [e.kind for e in events].count("opened") == [e.kind for e in events].count("closed") >= 1


@pytest.mark.slow
@pytest.mark.subprocess
def test_hls_segments_from_pyav_served_over_http_are_watched_while_written(tmp_path, tiny_model):
    clip = gradient_clip(tmp_path / "clip.mp4", seconds=4)
    folder = tmp_path / "hls"
    folder.mkdir()
    server = FolderServer(folder)
    try:
        with published(clip, str(folder / "live.m3u8"), pace=2.0, loops=3) as publisher:
            deadline = time.monotonic() + 20
            while not (folder / "live.m3u8").exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            live = watch(tiny_model, f"{server.url}/live.m3u8", ["a", "b"], timeout_s=10.0, max_windows=4, **SHORT)
            events, summary = _run(live)
            assert publisher.poll() is None  # the windows came while the playlist was still being written
    finally:
        server.stop()
    assert summary.windows == 4 and summary.error is None
    assert any(path.startswith("/live") and path.endswith(".ts") for _, path, *_ in server.log)


def test_a_camera_opens_through_v4l2_with_its_options(tmp_path, tiny_model, monkeypatch):
    import av

    from ezclip_zoo.live import sources

    clip = gradient_clip(tmp_path / "clip.mp4", seconds=3)
    calls = []

    def fake_open(file, **kwargs):  # stands in for the device: checks what FFmpeg would be asked for
        calls.append((file, kwargs))
        return av.open(str(clip), mode="r")

    monkeypatch.setattr(sources, "av_open", fake_open)
    source = describe_source("/dev/video0", options={"video_size": "96x64", "framerate": "10"})
    events, summary = _run(watch(tiny_model, source, ["a", "b"], timeout_s=2.0, max_windows=3, **SHORT))
    file, kwargs = calls[0]
    assert file == "/dev/video0" and kwargs["format"] == "v4l2"
    assert kwargs["options"] == {"video_size": "96x64", "framerate": "10"} and kwargs["timeout"][1] == 2.0
    assert summary.windows == 3 and [e.kind for e in events].count("window") == 3


def test_a_missing_camera_is_a_clear_error_within_timeout(tiny_model):
    from ezclip_zoo.errors import VideoDecodeError

    started = time.monotonic()
    live = watch(tiny_model, "/dev/video99", ["a"], timeout_s=0.6)
    with pytest.raises(VideoDecodeError, match=r"/dev/video99 within 0.6 s"), live:
        next(live)
    assert time.monotonic() - started < 0.6 + 1.0
