#!/usr/bin/env python3
"""A loopback server that speaks the batches API badly, for tests.

hostile-server.py MODE URLFILE COUNTFILE: listens on 127.0.0.1 (an
ephemeral port, written to URLFILE as http://127.0.0.1:PORT), answers
GET /v1/messages/batches by MODE, every POST with a 500 after reading the
body, and counts the POSTs in COUNTFILE.  Modes:
  null-data    {"data": null, "has_more": false}
  no-has-more  {"data": [], "first_id": null, "last_id": null}
  loop         one page of one batch, has_more true, whatever after_id says
  empty-more   {"data": [], "has_more": true, "last_id": "msgbatch_x"}
  count-huge   an ended batch whose request_counts.succeeded is 1e300
  count-negative  the same with -1e300
  should-retry-false  every POST: 500 with x-should-retry: false
  should-retry-true   every POST: 400 with x-should-retry: true
It stops by itself after 120 s.
"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from email.utils import formatdate

mode, urlfile, countfile = sys.argv[1:4]
posts = 0
lock = threading.Lock()

BATCH = {"id": "msgbatch_loop1", "type": "message_batch", "processing_status": "ended",
         "request_counts": {"processing": 0, "succeeded": 1, "errored": 0,
                            "canceled": 0, "expired": 0},
         "created_at": "2020-01-01T00:00:00Z", "ended_at": "2020-01-01T00:00:01Z",
         "expires_at": "2020-01-02T00:00:00Z", "archived_at": None,
         "cancel_initiated_at": None, "results_url": None}

PAGES = {
    "null-data": {"data": None, "has_more": False},
    "no-has-more": {"data": [], "first_id": None, "last_id": None},
    "loop": {"data": [dict(BATCH, created_at="2999-01-01T00:00:00Z")], "has_more": True,
             "first_id": "msgbatch_loop1", "last_id": "msgbatch_loop1"},
    "empty-more": {"data": [], "has_more": True, "first_id": None, "last_id": "msgbatch_x"},
    "count-huge": dict(BATCH, request_counts=dict(BATCH["request_counts"], succeeded=1e300)),
    "count-negative": dict(BATCH, request_counts=dict(BATCH["request_counts"], succeeded=-1e300)),
}

class H(BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("content-type", "application/json")
        self.send_header("date", formatdate(usegmt=True))
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/v1/messages/batches"):
            self.send(200, PAGES[mode])
        else:
            self.send(404, {"type": "error", "error": {"type": "not_found_error", "message": "no"}})

    def do_POST(self):
        global posts
        n = int(self.headers.get("content-length", "0"))
        while n > 0:
            n -= len(self.rfile.read(min(n, 65536)))
        with lock:
            posts += 1
            with open(countfile, "w") as f:
                f.write("%d\n" % posts)
        if mode == "should-retry-false":
            self.send(500, {"type": "error", "error": {"type": "api_error", "message": "boom"}},
                      [("x-should-retry", "false")])
        elif mode == "should-retry-true":
            self.send(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                       "message": "try again"}},
                      [("x-should-retry", "true")])
        else:
            self.send(500, {"type": "error", "error": {"type": "api_error", "message": "boom"}})

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
threading.Timer(120, srv.shutdown).start()
with open(urlfile + ".tmp", "w") as f:
    f.write("http://127.0.0.1:%d\n" % srv.server_address[1])
import os
os.rename(urlfile + ".tmp", urlfile)
srv.serve_forever()
