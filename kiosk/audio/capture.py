"""The microphone: PyAudio capture at 16 kHz, mono, 16-bit, delivered in 100 ms chunks off the GUI thread.

:class:`MicrophoneCapture` opens the input device chosen by name in the settings (a substring of PortAudio's
device name, case-insensitive; the default input otherwise) in callback mode: PortAudio calls us on its own
audio thread, and each chunk goes to ``on_chunk`` there (the listener puts it on a queue). Nothing here ever
runs on, or blocks, the GUI thread, and nothing is written to disk.

No microphone, or one that fails to open: :class:`CaptureUnavailable` with a French reason for the nurse and
the patient screen (:func:`probe_microphone` checks without recording). :class:`PcmCapture` is the fake next
to it: it plays given PCM bytes through the same interface, on a thread, for tests and benchmarks.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
CHANNELS = 1
SAMPLE_WIDTH = 2
CHUNK_MS = 100
CHUNK_FRAMES = SAMPLE_RATE * CHUNK_MS // 1000

ChunkHandler = Callable[[bytes], None]


class CaptureUnavailable(Exception):
    """The microphone cannot be used. ``reason`` is French text for the screen; ``message`` and ``fields`` are
    its source text and placeholders, so a view model can translate it (``tr(exc.message, **exc.fields)``)."""

    def __init__(self, message: str, detail: str = "", **fields: str) -> None:
        reason = message.format(**fields) if fields else message
        super().__init__(f"{reason} ({detail})" if detail else reason)
        self.message = message
        self.fields = fields
        self.reason = reason
        self.detail = detail


#: Every reason a capture gives (source texts; each has a translation in resources/translations).
NO_PYAUDIO = "Le module audio (PyAudio) n'est pas installé."
NO_DEVICE = "Aucun microphone n'est branché sur la tablette."
DEVICE_NOT_FOUND = "Le microphone « {name} » est introuvable."
CANNOT_OPEN = "Le microphone ne peut pas être ouvert."
NO_AUDIO = "Le microphone ne transmet aucun son."
REASONS = (NO_PYAUDIO, NO_DEVICE, DEVICE_NOT_FOUND, CANNOT_OPEN, NO_AUDIO)


class AudioCapture(Protocol):
    """A source of 16 kHz mono s16le audio in chunks, delivered on a thread that is not the GUI thread."""

    def start(self, on_chunk: ChunkHandler) -> None:
        """Start delivering chunks to ``on_chunk``; raises :class:`CaptureUnavailable`."""
        ...

    def stop(self) -> None: ...


@dataclass(frozen=True)
class CaptureSettings:
    device_name: str = ""  # "" = the default input device


_ALSA_HANDLER: Any = None


def _silence_alsa() -> None:
    """ALSA prints dozens of probe errors to stderr when PortAudio scans devices: route them nowhere."""
    global _ALSA_HANDLER  # noqa: PLW0603 - one C callback for the process, kept alive here
    if _ALSA_HANDLER is not None:
        return
    name = ctypes.util.find_library("asound")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        lib = ctypes.CDLL(name)
        handler_type = ctypes.CFUNCTYPE(
            None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
        )
        _ALSA_HANDLER = handler_type(lambda *_: None)
        lib.snd_lib_error_set_handler(_ALSA_HANDLER)


def _pyaudio() -> Any:
    try:
        import pyaudio  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - a kiosk install always has it
        raise CaptureUnavailable(NO_PYAUDIO, str(exc)) from None
    _silence_alsa()
    return pyaudio


def input_devices() -> list[str]:
    """Names of the input devices PortAudio sees (for the settings screen)."""
    pyaudio = _pyaudio()
    pa = pyaudio.PyAudio()
    try:
        return [
            str(pa.get_device_info_by_index(i)["name"])
            for i in range(pa.get_device_count())
            if int(pa.get_device_info_by_index(i)["maxInputChannels"]) > 0
        ]
    finally:
        pa.terminate()


def _find_device(pa: Any, name: str) -> int | None:
    """Index of the input device whose name contains ``name`` (exact match first); None for the default."""
    if not name:
        return None
    inputs = [
        (i, str(pa.get_device_info_by_index(i)["name"]))
        for i in range(pa.get_device_count())
        if int(pa.get_device_info_by_index(i)["maxInputChannels"]) > 0
    ]
    for index, device in inputs:
        if device.casefold() == name.casefold():
            return index
    for index, device in inputs:
        if name.casefold() in device.casefold():
            return index
    raise CaptureUnavailable(DEVICE_NOT_FOUND, "inputs: " + (", ".join(d for _, d in inputs) or "none"), name=name)


class MicrophoneCapture:
    """PyAudio in callback mode. One stream at a time; ``stop`` closes it and releases PortAudio."""

    def __init__(self, settings: CaptureSettings | None = None) -> None:
        self._settings = settings or CaptureSettings()
        self._pa: Any = None
        self._stream: Any = None
        self._lock = threading.Lock()

    def start(self, on_chunk: ChunkHandler) -> None:
        pyaudio = _pyaudio()
        with self._lock:
            if self._stream is not None:
                raise RuntimeError("the capture is already running")
            pa = pyaudio.PyAudio()
            try:
                if pa.get_device_count() == 0:
                    raise CaptureUnavailable(NO_DEVICE, "0 devices")
                index = _find_device(pa, self._settings.device_name)

                def callback(in_data: bytes | None, _frames: int, _time: Any, _status: int) -> tuple[None, int]:
                    if in_data:
                        try:
                            on_chunk(bytes(in_data))
                        except Exception:  # a failing consumer must not kill PortAudio's thread silently
                            log.exception("audio chunk handler failed")
                    return None, pyaudio.paContinue

                stream = pa.open(
                    format=pyaudio.paInt16,
                    channels=CHANNELS,
                    rate=SAMPLE_RATE,
                    input=True,
                    input_device_index=index,
                    frames_per_buffer=CHUNK_FRAMES,
                    stream_callback=callback,
                )
            except CaptureUnavailable:
                pa.terminate()
                raise
            except (OSError, ValueError) as exc:
                pa.terminate()
                raise CaptureUnavailable(CANNOT_OPEN, str(exc)) from None
            self._pa, self._stream = pa, stream
            stream.start_stream()

    def stop(self) -> None:
        with self._lock:
            stream, pa = self._stream, self._pa
            self._stream = self._pa = None
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.stop_stream()
            stream.close()
        if pa is not None:
            pa.terminate()


def probe_microphone(settings: CaptureSettings | None = None) -> str | None:
    """None when the microphone opens; else the French reason. Opens and closes it at once (records nothing)."""
    capture = MicrophoneCapture(settings)
    try:
        capture.start(lambda _chunk: None)
    except CaptureUnavailable as exc:
        log.info("microphone unavailable: %s", exc.detail or exc.reason)
        return exc.reason
    capture.stop()
    return None


class PcmCapture:
    """The fake: plays 16 kHz mono s16le bytes as 100 ms chunks on a thread, then silence until stopped.

    ``realtime`` paces chunks at the real rate (benchmarks); otherwise as fast as the consumer takes them,
    like the ALSA file device. ``fail`` makes ``start`` raise :class:`CaptureUnavailable` with that reason.
    """

    def __init__(
        self, pcm: bytes = b"", *, realtime: bool = False, fail: str | None = None, silence_after_s: float = 30.0
    ) -> None:
        self.pcm = pcm
        self._realtime = realtime
        self._fail = fail
        self._silence_after = silence_after_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.starts = 0

    def start(self, on_chunk: ChunkHandler) -> None:
        if self._fail is not None:
            raise CaptureUnavailable(self._fail, "fake capture")
        self.starts += 1
        self._stop.clear()
        pcm = self.pcm

        def run() -> None:
            size = CHUNK_FRAMES * SAMPLE_WIDTH
            silent = bytes(size)
            sent, t0 = 0, time.perf_counter()
            limit = len(pcm) + int(self._silence_after * SAMPLE_RATE * SAMPLE_WIDTH)
            while not self._stop.is_set() and sent < limit:
                chunk = pcm[sent : sent + size] if sent < len(pcm) else silent
                chunk = chunk + bytes(size - len(chunk))
                on_chunk(chunk)
                sent += size
                if self._realtime:
                    delay = t0 + sent / (SAMPLE_RATE * SAMPLE_WIDTH) - time.perf_counter()
                    if delay > 0:
                        self._stop.wait(delay)
                else:
                    time.sleep(0)

        self._thread = threading.Thread(target=run, name="fake-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)
