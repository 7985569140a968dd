"""The web page in a real browser: Debian's Chromium driven by playwright (no browser download).

Skipped with a reason where /usr/bin/chromium or playwright is missing; CI installs both (.ci/run).
Screenshots of each tab go under pytest's tmp_path, and also into $APP_SHOTS when that is set."""
import io
import os
import shutil
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import strip_size
from test_app import SHIPPED, RunningApp, rendered_face, sample_faces

from web import actions, pictures

CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'
CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                 '--disable-background-networking', '--disable-component-update', '--disable-sync']
TIMEOUT_MS = 60_000


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip('chromium is not installed (apt-get install -y chromium chromium-driver)')
    sync_api = pytest.importorskip('playwright.sync_api', reason='playwright is not installed (requirements-dev.txt)')
    profile = tmp_path_factory.mktemp('chromium_profile')
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={'width': 1280, 'height': 1500})
        yield context
        context.close()


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    if not SHIPPED.is_dir():
        pytest.skip('the shipped model is not in trained_models/')
    running = RunningApp(tmp_path_factory.mktemp('app_tmp'))
    yield running
    output = running.stop()
    assert 'Traceback' not in output, output


@pytest.fixture
def page(browser, served):
    tab = browser.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.goto(served.url)
    tab.wait_for_selector('#photo input[type=file]', state='attached')
    yield tab
    tab.close()


def screenshot(tab, tmp_path, name):
    path = tmp_path / f'{name}.png'
    tab.screenshot(path=str(path), full_page=True)
    if os.environ.get('APP_SHOTS'):
        Path(os.environ['APP_SHOTS']).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(os.environ['APP_SHOTS']) / path.name)
    return path


def shown_image(tab, selector, url):
    """The picture an image component shows, fetched from the page's own URL."""
    src = tab.locator(f'{selector} img').first.get_attribute('src')
    src = src if src.startswith('http') else url + src
    with urllib.request.urlopen(src, timeout=30) as response:
        return np.asarray(Image.open(io.BytesIO(response.read())).convert('RGB'), dtype=int), src


def move_slider(tab, selector, value, old_src, selector_out='#aged-face'):
    """Set a slider as a user dragging it does (input events on the range), wait for the new picture."""
    tab.locator(f'{selector} input[type=range]').fill(str(value))
    tab.wait_for_function('([sel, old]) => { const i = document.querySelector(sel + " img"); '
                          'return i && i.src && !i.src.includes(old); }', arg=[selector_out, old_src.split('/')[-2]])


def test_aging_slider_from_young_to_old_shows_what_net_renders(page, served, tmp_path):
    face = sample_faces(1)[0]
    page.locator('#photo input[type=file]').set_input_files(str(face))
    page.wait_for_selector('#aged-face img')
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("Age")')
    age, gender = actions.name_labels(face)
    assert page.locator('#age input[type=number]').input_value() == f'{age}'
    assert page.locator('#gender input[value=female]').is_checked() == (gender == 1)

    models = actions.Models(actions.find_models())
    net = models.get(models.default())  # the model the page opens on
    z = actions.encode(net, actions.prepare_upload(face).crop)
    _, src = shown_image(page, '#aged-face', served.url)
    shown = {}
    for years in (2, 30.5, 90):
        move_slider(page, '#age', years, src)
        page.wait_for_function('y => document.querySelector("#aging-message").innerText.includes(y)',
                               arg=f'Age {years:g} years.')
        image, src = shown_image(page, '#aged-face', served.url)
        expected = np.asarray(pictures.show_face(rendered_face(net, z, years, gender)), dtype=int)
        assert image.shape == expected.shape
        assert np.abs(image - expected).mean() < 1 and np.abs(image - expected).max() <= 3, years
        shown[years] = image
    assert np.abs(shown[2] - shown[90]).mean() > 1  # the face changed from young to old

    page.locator('#details input').check()  # keep-details from the photo's age, prefilled from the name
    page.wait_for_function('old => { const i = document.querySelector("#aged-face img"); '
                           'return i && i.src && !i.src.includes(old); }', arg=src.split('/')[-2])
    image, src = shown_image(page, '#aged-face', served.url)
    prepared = actions.prepare_upload(face)
    state = {'z': z, 'photo': prepared.photo, 'crop': prepared.crop, 'crop_box': prepared.crop_box}
    expected = np.asarray(pictures.aged_view(net, state, 90, gender, True, age)[1], dtype=int)
    assert np.abs(image - expected).mean() < 1 and np.abs(image - expected).max() <= 3
    assert np.abs(image - shown[90]).mean() > 1

    page.locator('#strip-button').click()
    page.wait_for_selector('#strip img')
    screenshot(page, tmp_path, 'aging')
    assert (tmp_path / 'aging.png').stat().st_size > 10_000


def test_the_photo_at_its_own_size_and_lifespan_gif_in_the_page(page, tmp_path):
    """The main picture is the photo itself at the slider's age (512x512, the astronaut's own size), the 128-px face
    beside it; the strip shows the aged photo's face region, 11 tiles."""
    from skimage import data
    photo = tmp_path / 'astronaut.jpg'
    Image.fromarray(data.astronaut()).save(photo)
    page.locator('#photo input[type=file]').set_input_files(str(photo))
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("one face found")')
    page.wait_for_function('() => { const i = document.querySelector("#aged-photo img"); '
                           'return i && i.naturalWidth == 512 && i.naturalHeight == 512; }')
    page.wait_for_function('() => { const i = document.querySelector("#aged-face img"); '
                           'return i && i.naturalWidth == 256; }')
    page.locator('#strip-button').click()
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("ten age groups")')
    page.wait_for_selector('#strip img')
    width = page.evaluate('() => document.querySelector("#strip img").naturalWidth')
    x0, y0, x1, y1 = pictures.face_region(actions.prepare_upload(photo)._asdict())
    tile = round((x1 - x0) * pictures.STRIP_HEIGHT / (y1 - y0))
    assert width == 11 * (tile + pictures.STRIP_PADDING) + pictures.STRIP_PADDING
    page.locator('#gif-button').click()
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("ready to download")')
    assert page.locator('#lifespan').inner_text().count('.gif') >= 1
    screenshot(page, tmp_path, 'aging_photo')


def test_a_picture_without_a_face_and_a_file_that_is_no_image_get_a_message(page, tmp_path):
    from skimage import data
    cat = tmp_path / 'cat.png'
    Image.fromarray(data.chelsea()).save(cat)
    page.locator('#photo input[type=file]').set_input_files(str(cat))
    message = page.locator('#aging-message')
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("No face found")')
    assert 'Use the whole image' in message.inner_text()
    page.wait_for_selector('#preview img')  # the photo is still shown, so the user sees what was searched
    screenshot(page, tmp_path, 'aging_no_face')
    page.locator('#whole input').check()
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("whole image is used")')
    page.wait_for_selector('#aged-face img')

    text = tmp_path / 'holiday.jpg'
    text.write_text('not a picture at all')
    page.locator('#photo button[aria-label=Clear]').click()  # as a user does before uploading another photo
    page.locator('#photo input[type=file]').set_input_files(str(text))
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("not an image")')
    assert page.locator('.toast-body').count() == 0  # no gradio error toast, only our message


def test_morph_and_kids_tabs(page, served, tmp_path):
    """Two photos in each tab: the morph strip of the default 10 steps (11 faces) and 8 children (the default)."""
    first, second = sample_faces(10)[1], sample_faces(10)[8]
    page.get_by_role('tab', name='Morph').click()
    page.locator('#morph-photo-1 input[type=file]').set_input_files(str(first))
    page.locator('#morph-photo-2 input[type=file]').set_input_files(str(second))
    page.wait_for_function('() => document.querySelector("#morph-message").innerText.includes("Ready")')
    page.wait_for_selector('#morph-face img')
    page.locator('#morph-button').click()
    page.wait_for_selector('#morph-strip img')
    page.wait_for_function('() => document.querySelector("#morph-gif").innerText.includes(".gif")')
    morph_strip, _ = shown_image(page, '#morph-strip', served.url)
    assert morph_strip.shape[:2][::-1] == strip_size(11, 128)
    screenshot(page, tmp_path, 'morph')

    page.get_by_role('tab', name='Kids').click()
    page.locator('#kids-photo-1 input[type=file]').set_input_files(str(first))
    page.locator('#kids-photo-2 input[type=file]').set_input_files(str(second))
    page.locator('#kids-button').click()
    page.wait_for_selector('#kids-row img')
    page.wait_for_function('() => document.querySelector("#kids-message").innerText.includes("children")')
    kids_row, _ = shown_image(page, '#kids-row', served.url)
    assert kids_row.shape[:2][::-1] == strip_size(8, 128)
    assert page.locator('#kids-message').inner_text().startswith('8 children (seed 1)')
    screenshot(page, tmp_path, 'kids')


def test_ticking_personalise_says_what_is_happening_until_the_face_is_ready(page):
    page.locator('#photo input[type=file]').set_input_files(str(sample_faces(10)[3]))
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("Ready")')
    page.locator('#personalise input').check()
    page.wait_for_function('() => document.querySelector("#aging-message").innerText'
                           '.includes("Personalising the generator to this photo")')
    page.wait_for_function('() => document.querySelector("#aging-message").innerText.includes("Ready")')
