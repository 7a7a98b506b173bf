"""The viewer's defaults (address, port, upload limits), apart from the server so the CLI reads them cheaply."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_PIXELS = 40_000_000
# A connection silent this long is closed: a stalled client cannot hold a thread, or Ctrl-C, for ever.
IDLE_TIMEOUT_S = 60
