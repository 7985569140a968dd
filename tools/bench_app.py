"""Time the web page's render of one slider position, as the page calls it, and through the running page.

    python tools/bench_app.py            # median of 100 calls of app.aged_view (face, then pasted back)
    python tools/bench_app.py --http     # also: median of 50 slider moves through a started app.py (gradio_client)
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import app  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
FACE = REPO / 'data' / 'UTKFace' / 'unlabeled' / '25_0_1_20170117012445920.jpg.chip.jpg'


def median_ms(call, n):
    call(0)  # the first call allocates buffers
    times = []
    for i in range(n):
        tick = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - tick)
    return 1000 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('-n', type=int, default=100)
    parser.add_argument('--photo', default=None, help='a photo for the paste-back timing (default: skimage astronaut)')
    parser.add_argument('--http', action='store_true', help='also time slider moves through a running app.py')
    parser.add_argument('--threads', type=int, default=1, help="torch threads, as app.py's --threads")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    models = app.Models(app.find_models())
    net = models.get(models.default())
    print(f'model {models.default()}, {"bf16 autocast" if net.autocast_dtype else "fp32"}, '
          f'{torch.get_num_threads()} torch thread(s)')
    if args.photo is None:
        import tempfile
        from PIL import Image
        from skimage import data
        args.photo = Path(tempfile.mkdtemp()) / 'astronaut.jpg'
        Image.fromarray(data.astronaut()).save(args.photo)
    for name, path, paste in (('UTKFace chip, face shown', FACE, False), (f'{Path(args.photo).name}, pasted back', args.photo, True)):
        prepared = app.prepare_face(path)
        state = {'photo': prepared.photo, 'crop': prepared.crop, 'crop_box': prepared.crop_box,
                 'z': app.encode(net, prepared.crop)}
        ms = median_ms(lambda i: app.aged_view(net, state, (7 * i) % 101, i % 2, paste), args.n)
        print(f'{name} ({prepared.photo.width}x{prepared.photo.height}): median {ms:.0f} ms of {args.n} slider positions')
    if args.http:
        sys.path.insert(0, str(REPO / 'tests'))
        import conftest  # noqa: F401
        from gradio_client import Client, handle_file
        from test_app import RunningApp
        import tempfile
        running = RunningApp(tempfile.mkdtemp())
        try:
            client = Client(running.url, verbose=False, download_files=tempfile.mkdtemp())
            client.predict(handle_file(str(FACE)), models.default(), False, False, api_name='/upload')
            ms = median_ms(lambda i: client.predict(models.default(), float((7 * i) % 101), 'male', False,
                                                    api_name='/render'), 50)
            print(f'through the page (gradio_client, one client): median {ms:.0f} ms of 50 slider moves')
        finally:
            running.stop()


if __name__ == '__main__':
    main()
