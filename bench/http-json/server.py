"""The local JSON API: GET /records?page=N&per_page=P answers page N of
gen.py's pre-rendered bodies from a memory map (no JSON work per request).
asyncio, HTTP/1.1 keep-alive, one process, so it stays far ahead of either
client (`run` measures it alone with curl first).

Usage: python3 server.py DATA PORT
  page in 1..total_pages: 200 with the page; past the end: 200 with an empty
  `data` and the same meta (both tools stop on total_pages before that);
  per_page other than the rendered one, a missing or bad page, another path: 400/404.
Logs one line per 1,000 requests to stderr."""
import array, asyncio, json, mmap, os, sys
from urllib.parse import parse_qs, urlsplit

data_dir, port = sys.argv[1], int(sys.argv[2])
meta = json.load(open(os.path.join(data_dir, "meta.json")))
PAGES, PER = meta["pages"], meta["per_page"]
idx = array.array("Q")
with open(os.path.join(data_dir, "pages.idx"), "rb") as fh:
    idx.fromfile(fh, PAGES + 1)
with open(os.path.join(data_dir, "pages.bin"), "rb") as fh:
    BODIES = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
served = 0


def response(status, body, close):
    head = ("HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n"
            % (status, len(body), "Connection: close\r\n" if close else "")).encode()
    return head, body


def answer(target):
    url = urlsplit(target)
    if url.path.rstrip("/") != "/records":
        return "404 Not Found", b'{"error":"not found"}'
    q = parse_qs(url.query)
    try:
        page = int(q.get("page", [""])[0])
        per = int(q.get("per_page", [str(PER)])[0])
    except ValueError:
        return "400 Bad Request", b'{"error":"page and per_page must be integers"}'
    if per != PER or page < 1:
        return "400 Bad Request", ('{"error":"this server renders per_page=%d, pages from 1"}' % PER).encode()
    if page > PAGES:
        return "200 OK", ('{"data":[],"meta":{"page":%d,"total_pages":%d}}' % (page, PAGES)).encode()
    return "200 OK", memoryview(BODIES)[idx[page - 1]:idx[page]]


class Http(asyncio.Protocol):
    def connection_made(self, transport):
        self.t, self.buf = transport, b""

    def data_received(self, data):
        global served
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            head, self.buf = self.buf.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                       for l in lines[1:] if ":" in l}
            length = int(headers.get("content-length", "0") or 0)
            self.buf = self.buf[length:]  # a GET has no body; skip one if sent
            close = headers.get("connection", "").lower() == "close" or parts[-1] == "HTTP/1.0"
            status, body = ("405 Method Not Allowed", b"{}") if parts[0] not in ("GET", "HEAD") \
                else answer(parts[1] if len(parts) > 1 else "/")
            h, b = response(status, body, close)
            self.t.write(h)
            if parts[0] != "HEAD":
                self.t.write(b)
            served += 1
            if served % 1000 == 0:
                print("served %d requests" % served, file=sys.stderr, flush=True)
            if close:
                self.t.close()
                return


async def main():
    server = await asyncio.get_running_loop().create_server(Http, "127.0.0.1", port, backlog=256)
    print("serving %d pages of %d records on http://127.0.0.1:%d" % (PAGES, PER, port), flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
