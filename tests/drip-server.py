#!/usr/bin/env python3
"""A loopback server that drips its answers, for tests (slowloris).

drip-server.py URLFILE: listens on 127.0.0.1 (an ephemeral port, written
to URLFILE as http://127.0.0.1:PORT) and answers every GET with 200 and
an ended batch object of about 600 bytes (Content-Length given), one byte
every 0.5 s.  It stops by itself after 120 s.
"""
import json, os, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from email.utils import formatdate

urlfile = sys.argv[1]

BATCH = {"id": "msgbatch_drip1", "type": "message_batch", "processing_status": "ended",
         "request_counts": {"processing": 0, "succeeded": 1, "errored": 0,
                            "canceled": 0, "expired": 0},
         "created_at": "2020-01-01T00:00:00Z", "ended_at": "2020-01-01T00:00:01Z",
         "expires_at": "2020-01-02T00:00:00Z", "archived_at": None,
         "cancel_initiated_at": None, "results_url": None}

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        body = json.dumps(BATCH).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("date", formatdate(usegmt=True))
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        try:
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                time.sleep(0.5)
        except OSError:
            pass
        self.close_connection = True

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
srv.daemon_threads = True
threading.Timer(120, srv.shutdown).start()
with open(urlfile + ".tmp", "w") as f:
    f.write("http://127.0.0.1:%d\n" % srv.server_address[1])
os.rename(urlfile + ".tmp", urlfile)
srv.serve_forever()
