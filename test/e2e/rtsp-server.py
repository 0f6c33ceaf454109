#!/usr/bin/python3
# A loopback RTSP server playing GStreamer's test pattern as H.264 (what most CCTV cameras send), for the CCTV e2e test.
# Serves rtsp://127.0.0.1:PORT/test; prints "READY <port>" once listening (PORT 0 = any free port).
# Debian: python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly
# A missing piece exits with status 3 and "MISSING ..." naming the package to install.
import sys


def missing(package, detail):
    print(f"MISSING: install Debian's {package} (apt-get install -y {package}): {detail}", file=sys.stderr, flush=True)
    sys.exit(3)


try:
    import gi
except ImportError as e:
    missing('python3-gi', e)
try:
    gi.require_version('Gst', '1.0')
    gi.require_version('GstRtspServer', '1.0')
    from gi.repository import GLib, Gst, GstRtspServer
except (ValueError, ImportError) as e:
    missing('gir1.2-gst-rtsp-server-1.0', e)

Gst.init(None)
for element, package in (('videotestsrc', 'gstreamer1.0-plugins-base'), ('rtph264pay', 'gstreamer1.0-plugins-good'), ('x264enc', 'gstreamer1.0-plugins-ugly')):
    if Gst.ElementFactory.find(element) is None:
        missing(package, f'no GStreamer element {element}')

server = GstRtspServer.RTSPServer()
server.set_address('127.0.0.1')
server.set_service(sys.argv[1] if len(sys.argv) > 1 else '0')
factory = GstRtspServer.RTSPMediaFactory()
# 15 fps as many cameras send, which MPEG-1 cannot carry: the relay must resample.
factory.set_launch(
    '( videotestsrc is-live=true pattern=smpte ! video/x-raw,width=320,height=240,framerate=15/1 '
    '! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96 )'
)
factory.set_shared(True)
server.get_mount_points().add_factory('/test', factory)
if server.attach(None) == 0:
    sys.exit('could not listen on 127.0.0.1')
print('READY', server.get_bound_port(), flush=True)
GLib.MainLoop().run()
