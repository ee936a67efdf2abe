#!/usr/bin/env python3
"""The HTML report in a real browser: bncheck run --html on a mutant that
fails, then Debian's chromium (headless) loads the file without console
errors, its DOM holds the pictures, and a screenshot is not blank.

usage: html_browser_test.py BNCHECK SOURCE_DIR [SCREENSHOT_COPY]
Exits 77 (skipped) when chromium is not installed (ci/deps installs it)."""
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def png_pixels(path):
    """(width, height, rows of bytes per pixel) of an 8-bit RGB/RGBA PNG, unfiltered by hand."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(path + " is not a PNG")
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = ihdr
    if depth != 8 or colour not in (2, 6) or interlace:
        fail("unexpected PNG format %s" % (ihdr,))
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    bncheck, source = sys.argv[1], sys.argv[2]
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: chromium is not installed (Debian package chromium, installed by ci/deps)")
        return SKIP
    work = tempfile.mkdtemp(prefix="bncheck-html-")
    report = os.path.join(work, "report.html")
    # naive_variance (bncheck mutants) fails offset cases of the corpus and the agreement property.
    run = subprocess.run([bncheck, "run", "--kernel", "naive_variance", "--golden",
                          os.path.join(source, "golden", "cases"), "--case", "offset_1e4_f32_nchw",
                          "--case", "seeds_example_fwd", "--html", report],
                         capture_output=True, text=True)
    if run.returncode != 1:
        fail("bncheck run exited %d, expected 1 (a failure)\n%s%s" % (run.returncode, run.stdout, run.stderr))
    props = os.path.join(work, "properties.html")
    run = subprocess.run([bncheck, "run", "--kernel", "naive_variance", "--property", "agreement",
                          "--property", "shift_invariance", "--cases", "40", "--html", props],
                         capture_output=True, text=True)
    if run.returncode != 1:
        fail("bncheck run --property exited %d, expected 1\n%s%s" % (run.returncode, run.stdout, run.stderr))
    for page in (report, props):
        text = open(page, encoding="utf-8").read()
        for part in ('<svg class="histogram"', '<pre class="repro"><code>bncheck run --kernel naive_variance',
                     "worst elements", '<svg class="channels"'):
            if part not in text:
                fail("%s lacks %r" % (page, part))
    if "RC_PARAMS=&quot;reproduce=" not in open(props, encoding="utf-8").read():
        fail("the property report lacks the reproduce string")

    common = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--hide-scrollbars"]
    for page in (report, props):
        dom = subprocess.run(common + ["--user-data-dir=" + tempfile.mkdtemp(dir=work), "--enable-logging=stderr",
                                       "--v=0", "--dump-dom", "file://" + page],
                             capture_output=True, text=True, timeout=120)
        if dom.returncode != 0:
            fail("chromium --dump-dom exited %d\n%s" % (dom.returncode, dom.stderr[-3000:]))
        console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
        if console:
            fail("the page logged to the console:\n" + "\n".join(console))
        for part in ("<svg", "histogram", "bncheck run --kernel naive_variance"):
            if part not in dom.stdout:
                fail("the DOM chromium built from %s lacks %r" % (page, part))

    shot = os.path.join(work, "report.png")
    subprocess.run(common + ["--user-data-dir=" + tempfile.mkdtemp(dir=work), "--screenshot=" + shot,
                             "--window-size=1200,1600", "file://" + report],
                   capture_output=True, text=True, timeout=120)
    if not os.path.exists(shot):
        fail("chromium wrote no screenshot")
    width, height, bpp, rows = png_pixels(shot)
    colours, red = set(), 0
    for row in rows[::4]:
        for x in range(0, width * bpp, bpp * 2):
            r, g, b = row[x], row[x + 1], row[x + 2]
            colours.add((r, g, b))
            red += r > 170 and g < 80 and b < 80
    print("screenshot %dx%d: %d distinct colours sampled, %d red samples" % (width, height, len(colours), red))
    if len(colours) < 8:
        fail("the screenshot is blank (%d colours)" % len(colours))
    if red == 0:
        fail("the screenshot shows no failure (no red badge or over-bound bar)")
    if len(sys.argv) > 3:
        shutil.copy(shot, sys.argv[3])
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
