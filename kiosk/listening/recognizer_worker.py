"""The recognition process: `python -m kiosk.listening.recognizer_worker FD`.

It builds the kiosk's Recognizer (pocketsphinx, the understanding, the neural pass's client),
says "ready" or why not, then answers the listener's requests on the socket until it closes:
kiosk/listening/recognizer_process.py is the other end, and says why this is a process. Once
the kiosk speaks, it also runs the barge-in "stop" spotter on the cleaned microphone.
"""

from __future__ import annotations

import logging
import sys
from multiprocessing.connection import Connection

from kiosk.child_process import requests


def serve(connection: Connection) -> None:
    """Build the recogniser, say "ready" (or why not), then answer until None or the socket
    closes."""
    from kiosk.config import Settings
    from kiosk.content_parser import load_library
    from kiosk.listening import build_recognizer
    from kiosk.listening.barge_in import StopSpotter

    recognition, neural_model, root, extra = connection.recv()
    try:
        settings = Settings(recognizer=recognition, neural_model=neural_model)
        recognizer, _problem = build_recognizer(settings, load_library(root), extra, wait=False)
    except Exception as error:  # a broken vocabulary or decoder: said once, then the end
        connection.send(("failed", str(error) or type(error).__name__))
        return
    connection.send(("ready", ""))
    # The barge-in "stop" spotters, by threshold, built when the kiosk first speaks.
    spotters: dict[float, StopSpotter] = {}
    try:
        for request in requests(connection):
            kind, *rest = request
            if kind == "feed":
                recognizer.feed(rest[0])
            elif kind == "begin":
                recognizer.begin()
            elif kind == "discard":
                recognizer.discard()
            elif kind == "finish":
                intent = recognizer.finish(neural=rest[0])
                connection.send((intent, recognizer.last_path, recognizer.neural_passes))
            elif kind == "stop":
                connection.send(recognizer.hears_stop(rest[0], rest[1]))
            elif kind == "spot":
                pcm, threshold = rest
                if threshold not in spotters:
                    spotters[threshold] = StopSpotter(threshold)
                connection.send(spotters[threshold].feed_bounded(pcm))
            elif kind == "spot-reset" and rest[0] in spotters:
                spotters[rest[0]].reset()
            elif kind == "understand":
                connection.send(recognizer.understanding.understand(rest[0]))
    finally:
        recognizer.close()


if __name__ == "__main__":
    # Warnings (the neural process restarted, a model that cannot load) reach the kiosk's log.
    logging.basicConfig(level=logging.INFO, format="[%(levelname)-7s] [%(name)s] %(message)s")
    serve(Connection(int(sys.argv[1])))
